"""The charts of a sweep (``arbscope sweep``), drawn with matplotlib's Agg backend (no
display, no pyplot state: each chart is its own ``Figure``), each written as PNG and SVG.

- per cell: the paper equity curve of its what-if replay (PnL over the starting balance,
  in units of the base token, against the recording's seconds), each attempt marked (a win
  ▲ green, a loss or a failed attempt ▼ red), the maximum drawdown shaded, titled with the
  cell's settings;
- the overview: over exactly two swept keys, a heatmap of the PnL with the keys as its
  axes (the question a 2-D sweep asks is where in that plane the profit is; the cells'
  curves drawn on one axes overlap, often exactly, and the plane is lost), each square
  labelled with its PnL and fills and the best one outlined; otherwise (one key, or
  three and more) every cell's equity curve on one axes, the best drawn heavier.

The SVGs carry no date and a fixed id salt, so the same sweep draws the same files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .whatif import Sweep, WhatIf

WIN, LOSS, CURVE = "tab:green", "tab:red", "tab:blue"


def _save(fig: Figure, stem: Path) -> list[str]:
    """``fig`` as ``stem.png`` and ``stem.svg``; the file names written."""
    names = []
    with matplotlib.rc_context({"svg.hashsalt": "arbscope"}):
        for suffix, meta in ((".png", {}), (".svg", {"Date": None})):
            path = stem.parent / (stem.name + suffix)
            fig.savefig(path, metadata=meta)
            names.append(path.name)
    return names


def _scale(r: WhatIf) -> float:
    """Base units per unit of the base token (1 when its decimals are unknown)."""
    return float(10**r.decimals) if r.decimals is not None else 1.0


def _steps(r: WhatIf) -> tuple[list[float], list[float]]:
    """The equity curve as PnL in token units, a step after each attempt, from the
    recording's start to where the replay stopped."""
    s = _scale(r)
    xs = [0.0, *(p.t_s for p in r.curve)]
    ys = [0.0, *((p.equity - r.initial) / s for p in r.curve)]
    xs.append(max(r.end_s, xs[-1]))
    ys.append(ys[-1])
    return xs, ys


def _plain(ax: Axes) -> None:
    """No offset or scientific notation on the value axis (a PnL of 0.98 reads as such)."""
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")


def cell_chart(r: WhatIf, stem: Path, label: str) -> list[str]:
    """One cell's equity curve as ``stem.png`` / ``stem.svg``; the file names."""
    fig = Figure(figsize=(9, 4.8), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    xs, ys = _steps(r)
    s = _scale(r)
    ax.step(xs, ys, where="post", color=CURVE, lw=1.6, label="paper PnL")
    ax.axhline(0.0, color="grey", lw=0.8)
    won = [p for p in r.curve if p.ok and p.pnl > 0]
    lost = [p for p in r.curve if not (p.ok and p.pnl > 0)]
    for points, marker, color, what in (
        (won, "^", WIN, "win"),
        (lost, "v", LOSS, "loss or failed"),
    ):
        if points:
            ax.scatter(
                [p.t_s for p in points],
                [(p.equity - r.initial) / s for p in points],
                marker=marker,
                color=color,
                zorder=3,
                label=f"{what} ({len(points)})",
            )
    dd = r.drawdown
    if dd.amount:
        times = [0.0, *(p.t_s for p in r.curve)]  # index 0: the start
        ax.axvspan(
            times[dd.peak],
            times[dd.trough],
            color=LOSS,
            alpha=0.12,
            label=f"max drawdown {r.units(dd.amount, digits=6)}",
        )
    fig.suptitle(f"{r.session}: {label}", fontsize=11)
    ax.set_title(
        f"PnL {r.units(r.pnl, sign=True, digits=6)}, {r.fills} fills, hit rate "
        f"{100 * r.hit_rate:.1f}%, fees {r.units(r.fees_paid, digits=6)}",
        fontsize=9,
    )
    ax.set_xlabel("seconds since the recording's start")
    ax.set_ylabel(f"PnL ({r.symbol or 'raw'}) on {r.units(r.initial, digits=6)}")
    _plain(ax)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, stem)


def overview_chart(sweep: Sweep, stem: Path) -> list[str]:
    """The sweep's overview as ``stem.png`` / ``stem.svg`` (module doc: a heatmap over
    two swept keys, every curve on one axes otherwise); the file names."""
    varying = [a for a in sweep.axes if len(a.values) > 1]
    if len(varying) == 2:
        fig = _heatmap(sweep, varying[0].key, varying[1].key)
    else:
        fig = _curves(sweep)
    return _save(fig, stem)


def _heatmap(sweep: Sweep, row_key: str, col_key: str) -> Figure:
    import numpy as np

    rows = next(a.values for a in sweep.axes if a.key == row_key)
    cols = next(a.values for a in sweep.axes if a.key == col_key)
    r0 = sweep.results[0]
    s = _scale(r0)
    pnl = np.zeros((len(rows), len(cols)))
    where: list[tuple[int, int]] = []
    for cell, r in zip(sweep.cells, sweep.results):
        i, j = rows.index(cell.varied[row_key]), cols.index(cell.varied[col_key])
        pnl[i, j] = r.pnl / s
        where.append((i, j))
    cmap, norm = _colours(float(pnl.min()), float(pnl.max()))
    fig = Figure(
        figsize=(2.2 + 1.9 * len(cols), 1.6 + 1.1 * len(rows)), dpi=100, layout="constrained"
    )
    ax = fig.add_subplot()
    im = ax.imshow(pnl, cmap=cmap, norm=norm, origin="lower", aspect="auto")
    ax.set_xticks(range(len(cols)), labels=[_text(v) for v in cols])
    ax.set_yticks(range(len(rows)), labels=[_text(v) for v in rows])
    ax.set_xlabel(col_key)
    ax.set_ylabel(row_key)
    for (i, j), r in zip(where, sweep.results):
        red, green, blue, _ = im.cmap(norm(pnl[i, j]))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5  # luma: white text on it
        ax.text(
            j,
            i,
            f"{r.units(r.pnl, sign=True, digits=6)}\n{r.fills} fills",
            ha="center",
            va="center",
            fontsize=8,
            color="white" if dark else "black",
        )
    bi, bj = where[sweep.best]
    ax.add_patch(Rectangle((bj - 0.5, bi - 0.5), 1, 1, fill=False, lw=2.5, edgecolor="black"))
    fig.colorbar(im, ax=ax, label=f"paper PnL ({r0.symbol or 'raw'})")
    fig.suptitle(
        f"{sweep.session}\npaper PnL over {row_key} × {col_key} (the best outlined)", fontsize=10
    )
    return fig


def _colours(lo: float, hi: float) -> tuple[str, Normalize]:
    """The heatmap's colours: gains and losses together, red to green with zero in the
    middle; all gains (or all losses), one family spread over their own range, so the
    cells' differences show and not only their sign."""
    if lo < 0 < hi:
        top = max(-lo, hi)
        return "RdYlGn", Normalize(-top, top)
    if lo == hi:
        pad = abs(hi) or 1.0
        lo, hi = lo - pad, hi + pad
    return ("YlGn" if hi > 0 else "OrRd_r"), Normalize(lo, hi)


def _curves(sweep: Sweep) -> Figure:
    fig = Figure(figsize=(9, 5), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    best = sweep.best
    for i, (cell, r) in enumerate(zip(sweep.cells, sweep.results)):
        xs, ys = _steps(r)
        ax.step(
            xs,
            ys,
            where="post",
            lw=2.6 if i == best else 1.2,
            label=f"{cell.label()}: {r.units(r.pnl, sign=True, digits=6)}"
            + (" (best)" if i == best else ""),
        )
    ax.axhline(0.0, color="grey", lw=0.8)
    r0 = sweep.results[0]
    fig.suptitle(f"{sweep.session}: paper equity of {len(sweep.cells)} cells", fontsize=11)
    ax.set_xlabel("seconds since the recording's start")
    ax.set_ylabel(f"PnL ({r0.symbol or 'raw'}) on {r0.units(r0.initial, digits=6)}")
    _plain(ax)
    ax.legend(loc="upper left", fontsize=7 if len(sweep.cells) > 8 else 8)
    ax.grid(alpha=0.3)
    return fig


def _text(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)

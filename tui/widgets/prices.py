"""The price panel: per token pair the mid price, a sparkline of its last slots, and
RSI / EMA / Bollinger / KAMA from the engine's incremental indicators; beside them the
pair's prop AMM (``arbscope.propamm.PropQuote``): its last realized price, its spread to
the mid in bps and the slots the public pools took to follow it (``…N``: a lead open N
slots, not followed yet)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.text import Text

from ..source import TokenNames
from .table import Cell, Column, KeyedTable

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 16) -> str:
    """The last ``width`` values as block characters (flat: a middle line)."""
    vals = [v for v in values[-width:] if math.isfinite(v)]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    if hi - lo <= abs(hi) * 1e-12:
        return BARS[3] * len(vals)
    return "".join(BARS[min(7, int((v - lo) / (hi - lo) * 8))] for v in vals)


def price(v: float | None) -> Text:
    """A price with 6 significant digits (very small or large ones in e-notation)."""
    if v is None or not math.isfinite(v):
        return Text("—", justify="right")
    if v != 0 and (abs(v) < 1e-4 or abs(v) >= 1e7):
        return Text(f"{v:.4e}", justify="right")
    return Text(f"{v:,.6g}", justify="right")


def rsi_text(v: float | None) -> Text:
    if v is None:
        return Text("—", justify="right")
    style = "bold red" if v >= 70 else "bold green" if v <= 30 else ""
    return Text(f"{v:.0f}", justify="right", style=style)


def _dev(v: float | None, mid: float) -> Text:
    """``v`` as a % deviation from the mid (EMA, KAMA)."""
    if v is None or not mid or not math.isfinite(v):
        return Text("—", justify="right")
    return Text(f"{100 * (v / mid - 1):+.2f}", justify="right")


def unit_scale(names: TokenNames | None, a: str, b: str) -> float:
    """What turns a mid in raw units (raw b per raw a) into units (b per a): 10^(da−db);
    1 while a decimals is unknown (the mid stays raw)."""
    if names is None:
        return 1.0
    da, db = names.decimals(a), names.decimals(b)
    return 1.0 if da is None or db is None else 10.0 ** (da - db)


def cells(r: Any, names: TokenNames | None = None) -> tuple[Cell, ...]:
    """One pair's row (``r``: arbscope.prices.PriceRow, its pair ``(base, quote)``): the
    mid in units of the quote per unit of the base, ``SOL/USDC 1,829`` (indicators are
    ratios of the mid: no scaling)."""
    a, b = r.pair
    k = unit_scale(names, a, b)
    label = f"{names.symbol(a)}/{names.symbol(b)}" if names is not None else f"{a[:4]}/{b[:4]}"
    chg = Text(
        f"{r.change_pct:+.2f}",
        justify="right",
        style="green" if r.change_pct > 0 else "red" if r.change_pct < 0 else "",
    )
    pos = r.percent_b  # 0 at the lower band, 1 at the upper
    band = Text("—", justify="right")
    if pos is not None and math.isfinite(pos):
        band = Text(
            f"{round(pos, 2) + 0.0:.2f}",
            justify="right",  # + 0.0: never -0.00
            style="bold red" if pos > 1 else "bold green" if pos < 0 else "",
        )
    return (
        label,
        price(r.mid * k if r.mid is not None else None),
        *prop_cells(getattr(r, "prop", None), k),
        chg,
        sparkline(r.history, 7),
        rsi_text(r.rsi),
        band,
        _dev(r.ema, r.mid),
        _dev(r.kama, r.mid),
    )


def prop_cells(q: Any, scale: float) -> tuple[Text, Text, Text]:
    """The prop AMM's cells (``q``: arbscope.propamm.PropQuote, None: none seen): its last
    realized price in units, its spread to the public mid (bps, coloured past 5) and the
    public pools' lag in slots (the last follow's; ``…N`` while a lead is open)."""
    if q is None:
        dash = Text("—", justify="right")
        return dash, dash.copy(), dash.copy()
    spread = Text("—", justify="right")
    if q.spread_bps is not None and math.isfinite(q.spread_bps):
        bps = round(q.spread_bps, 1) + 0.0  # never -0.0
        style = "" if abs(bps) < 5 else "green" if bps > 0 else "red"
        spread = Text(f"{bps:+.1f}", justify="right", style=style)
    if q.waiting is not None:
        lag = Text(f"…{q.waiting}", justify="right", style="yellow")
    elif q.lag is not None:
        lag = Text(f"{q.lag}", justify="right")
    else:
        lag = Text("—", justify="right")
    return price(q.price * scale), spread, lag


class PricesPanel(KeyedTable):
    """Mid prices per pair (most pools first); chg, EMA and KAMA in % of the mid; beside
    the mid, once a pair has one, its prop AMM's columns."""

    COLUMNS: Sequence[Column] = (
        ("pair", "pair", 14),
        ("mid", "mid", 12),
        ("prop", "prop", 11),
        ("pbps", "Δbps", 7),
        ("plag", "lag", 5),
        ("chg", "chg%", 8),
        ("spark", "slots", 8),
        ("rsi", "RSI", 5),
        ("bb", "%B", 7),
        ("ema", "EMA%", 7),
        ("kama", "KAMA%", 7),
    )
    NUMERIC = frozenset({"mid", "prop", "pbps", "plag", "chg", "rsi", "bb", "ema", "kama"})
    PROP = ("prop", "pbps", "plag")  # shown once a row has a prop AMM
    TITLE = "Prices: mid per pair; RSI14, Bollinger %B, EMA10, KAMA10"
    TITLE_PROP = "Prices: mid; prop AMM: last fill, Δbps, lag (slots)"

    def __init__(self, id: str | None = None) -> None:
        # a row cursor: the price chart (``c``) draws the pair under it
        super().__init__(id=id, cursor=True, title=self.TITLE)
        self._drawn: tuple[object, object, object] | None = None  # show()'s last rows
        self.props_shown = False  # the prop AMM's columns (a source that reads none: never)
        self.pick([c[0] for c in self.COLUMNS if c[0] not in self.PROP])

    def show(self, rows: Sequence[Any], names: TokenNames | None = None) -> None:
        props = any(getattr(r, "prop", None) is not None for r in rows)
        if props != self.props_shown:
            self.props_shown = props
            self.pick([] if props else [c[0] for c in self.COLUMNS if c[0] not in self.PROP])
            self.border_title = self.TITLE_PROP if props else self.TITLE
        last = self._drawn
        if last is not None and last[0] is rows and last[1] is names and last[2] == self.shown:
            return  # the same snapshot's rows again (redraws outpace the session's turns)
        self._drawn = (rows, names, self.shown)
        self.sync({"/".join(r.pair): cells(r, names) for r in rows})

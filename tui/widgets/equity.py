"""The equity panel: paper PnL after each paper attempt and, once live trading ran, the
live PnL after each landed order, on one chart; each attempt marked ▲ (a win) in the
theme's profit colour or ▼ (a loss, or a failed attempt) in its loss colour.

The series come with the snapshot (``arbscope.equity``): the PnL in base units of the
base mint, shown in units of it. The x axis is the session's clock, ``m:ss`` since its
first tick: an operator reads elapsed time more easily than slot numbers (nine digits
on mainnet, 400 ms each there and 200 ms in the demo), and paper and live points line
up on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext.plot import Plot

from ..source import EquityPointView, TokenNames
from .chart import LOSS, MARKER, WIN, Chart, ChartColours, clock_labels, clock_ticks, tick_labels
from .chart import ticks as value_ticks

SERIES = (("paper", "primary"), ("live", "secondary"))  # (series, colour field)


class EquityChart(Chart):
    """Paper and live PnL over the session; "no fills yet" until the first attempt."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, title="Equity")

    def show(
        self, points: Sequence[EquityPointView], base: str = "", names: TokenNames | None = None
    ) -> None:
        """Draw ``points`` (the snapshot's ``equity``); ``base`` is the mint the PnL is
        in (the portfolio's base)."""
        decimals = names.decimals(base) if names is not None and base else None
        symbol = names.symbol(base) if names is not None and base else ""
        # the snapshot hands the same tuple until a point is added: identity is the change
        # (the chart holds the tuple, so its id is not reused while it is the key)
        key = (id(points), decimals, symbol, self.app.theme)
        if key == self._data_key:
            return
        if not any(p.fill is not None for p in points):
            self.put(key, points, message="no fills yet")
            self.border_title = f"Equity {symbol}".rstrip()
            self.border_subtitle = ""
            return
        self.put(key, (points, 10.0 ** -(decimals or 0)))
        self.border_title = f"Equity: PnL in {symbol}" if symbol else "Equity: PnL"
        self.border_subtitle = self._legend(points)

    def _legend(self, points: Sequence[EquityPointView]) -> str:
        c = ChartColours.of(self.app)
        shown = {p.series for p in points}
        keys = [
            f"[{ChartColours.hex(getattr(c, colour))}]━[/] {name}"
            for name, colour in SERIES
            if name in shown
        ]
        wins = sum(p.win for p in points)
        losses = sum(p.fill is not None and not p.win for p in points)
        keys.append(f"[{ChartColours.hex(c.profit)}]{WIN}[/] {wins}")
        keys.append(f"[{ChartColours.hex(c.loss)}]{LOSS}[/] {losses}")
        return " ".join(keys)

    def draw(self, plt: Plot, colours: ChartColours) -> None:
        points, unit = self.data
        lo, hi = 0.0, 0.0  # zero is always on the axis: above it is profit
        t_lo, t_hi = min(p.t_s for p in points), max(p.t_s for p in points)
        for name, colour in SERIES:
            pts = [p for p in points if p.series == name]
            if not pts:
                continue
            xs, ys = steps(
                *latest_per_column(
                    [p.t_s for p in pts],
                    [p.pnl * unit for p in pts],
                    t_lo,
                    t_hi,
                    2 * self.size.width,
                )
            )
            lo, hi = min(lo, *ys), max(hi, *ys)
            if len(pts) > 1:
                plt.plot(xs, ys, color=getattr(colours, colour), marker=MARKER)
            for win, marker, c in ((True, WIN, colours.profit), (False, LOSS, colours.loss)):
                mx = [p.t_s for p in pts if p.fill is not None and p.win == win]
                my = [p.pnl * unit for p in pts if p.fill is not None and p.win == win]
                if mx:
                    plt.scatter(mx, my, color=c, marker=marker)
        ys = value_ticks(lo, hi, 4, self.plot_rows)
        plt.yticks(ys, tick_labels(ys, signed=True))
        xt = clock_ticks(t_lo, t_hi, 4)
        plt.xticks(xt, clock_labels(xt))
        if t_hi <= t_lo:  # one instant: give the axis a width
            plt.xlim(t_lo - 1, t_hi + 1)
        if hi <= lo:
            plt.ylim(lo - 1, hi + 1)


def latest_per_column(
    xs: list[float], ys: list[float], lo: float, hi: float, columns: int
) -> tuple[list[float], list[float]]:
    """The first point, then the last point of each of ``columns`` equal slices of
    [lo, hi]: what a line ``columns`` dots wide can show of a step series (a burst of
    attempts within one dot draws as one step; the markers still show each). Lines are
    plotext's costliest part: this bounds them by the chart's width, not the points'."""
    if len(xs) <= 2 or hi <= lo or columns < 1:
        return xs, ys
    width = (hi - lo) / columns
    kx, ky = [xs[0]], [ys[0]]
    last_col = -1
    for x, y in zip(xs[1:], ys[1:]):
        col = int((x - lo) / width)
        if col == last_col:
            kx[-1], ky[-1] = x, y
        else:
            kx.append(x)
            ky.append(y)
            last_col = col
    return kx, ky


def steps(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    """A PnL held from one point to the next: a step at each point, not a slope between
    them (the money moved when the attempt ended, not before)."""
    if len(xs) < 2:
        return xs, ys
    sx, sy = [xs[0]], [ys[0]]
    for x, y in zip(xs[1:], ys[1:]):
        sx += [x, x]
        sy += [sy[-1], y]
    return sx, sy

"""The price chart: one pair's mid over its recent slots with the engine's Bollinger bands
(20, 2σ), EMA 10 and KAMA 10, from the series the session's PriceBook keeps
(``arbscope.prices.PriceSeries``: the UI draws them, never computes them).

With the pair's prop AMM (``arbscope.propamm.PropSeries``), its realized prices are a line
of their own (``prop``), at the slots its swaps landed in: the public mid lagging it shows
as the mid line catching up with the prop line.

The pair is the one under the cursor of the focused table: a row of the Prices panel,
or the first hop of the cycle under the Cycles panel's cursor. The x axis is in slots
before the pair's newest point (0), since the indicators' periods are in slots; the mid
is in units of the pair's quote per unit of its base (``SOL/USDC``: USDC per SOL), as in
the Prices panel and the order books.
"""

from __future__ import annotations

import math

from textual_plotext.plot import Plot

from ..source import PriceSeriesView, PropSeriesView, TokenNames
from .chart import MARKER, Chart, ChartColours, finite, price_span, tick_labels, ticks
from .prices import unit_scale

LINES = (  # (series field, legend, colour field of ChartColours), drawn in this order
    ("upper", "BB20", "secondary"),
    ("lower", "", "secondary"),
    ("middle", "", "secondary"),
    ("kama", "KAMA10", "primary"),
    ("ema", "EMA10", "warning"),
    ("mid", "mid", "foreground"),
)
PROP_COLOUR = "profit"  # the prop AMM's line (a colour of ChartColours)


def pair_label(pair: tuple[str, str], names: TokenNames | None) -> str:
    """``SOL/USDC`` (mint prefixes without names)."""
    a, b = pair
    return f"{names.symbol(a)}/{names.symbol(b)}" if names is not None else f"{a[:4]}/{b[:4]}"


class PriceChart(Chart):
    """The chosen pair's mid, bands, EMA and KAMA; a note until it has two slots."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, title="Chart")
        self.pair: tuple[str, str] | None = None  # the pair drawn (tests)

    def show(
        self,
        series: PriceSeriesView | None,
        pair: tuple[str, str] | None,
        names: TokenNames | None = None,
        prop: PropSeriesView | None = None,
    ) -> None:
        """Draw ``series``, the chart series of ``pair`` (None: the snapshot has none for
        it yet, or no pair is chosen), and ``prop``, its prop AMM's realized prices (None:
        none seen)."""
        what = pair_label(pair, names) if pair is not None else ""
        n = len(series.slots) if series is not None else 0
        if pair is None or series is None or n < 2:
            note = (
                "no pair yet: move the cursor in Prices or Cycles"
                if pair is None
                else f"{what}: no prices yet"
                if series is None
                else f"{what}: waiting for its second slot"
            )
            if self.put(("note", pair, note), message=note):
                self.pair = pair
                self.border_title = f"Chart {what}".rstrip()
                self.border_subtitle = ""
            return
        scale = unit_scale(names, *pair)
        # the series is one object until the pair moves again: identity is the change
        key = (id(series), id(prop), pair, scale, what, self.app.theme)
        if self.put(key, (series, scale, prop)):
            self.pair = pair
            self.border_title = f"Chart {what}" + (f" · prop {prop.name}" if prop else "")
            self.border_subtitle = self._legend(n, series.slots[-1], prop is not None)

    def _legend(self, n: int, slot: int, prop: bool = False) -> str:
        c = ChartColours.of(self.app)
        lines = [(legend, colour) for _, legend, colour in reversed(LINES) if legend]
        if prop:
            lines.insert(1, ("prop", PROP_COLOUR))
        keys = " ".join(
            f"[{ChartColours.hex(getattr(c, colour))}]━[/] {legend}" for legend, colour in lines
        )
        return f"{keys} · {n} slots to {slot:,}"

    def draw(self, plt: Plot, colours: ChartColours) -> None:
        series, scale, prop = self.data
        last = series.slots[-1]
        xs = [s - last for s in series.slots]
        lo, hi = math.inf, -math.inf
        for field, _, colour in LINES:
            x, y = finite(xs, [v * scale for v in getattr(series, field)])
            if len(x) < 2:
                continue
            lo, hi = min(lo, *y), max(hi, *y)
            plt.plot(x, y, color=getattr(colours, colour), marker=MARKER)
        if prop is not None:  # its swaps within the mid's window (one after it: to 0)
            pts = [
                (s - last, v * scale) for s, v in zip(prop.slots, prop.price) if s >= xs[0] + last
            ]
            x, y = finite([min(0, a) for a, _ in pts], [b for _, b in pts])
            if x:
                lo, hi = min(lo, *y), max(hi, *y)
                plt.plot(x, y, color=getattr(colours, PROP_COLOUR), marker=MARKER)
        lo, hi = price_span(lo, hi)
        if lo < hi:
            plt.ylim(lo, hi)
        ys = ticks(lo, hi, 4, self.plot_rows)
        plt.yticks(ys, tick_labels(ys))
        xt = [v for v in ticks(xs[0], 0, 4) if v <= 0]
        plt.xticks(xt, [f"{v:.0f}" for v in xt])

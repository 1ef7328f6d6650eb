"""What the dashboard's charts share: a plotext plot (textual-plotext) that is built only
when what it shows changed, in colours taken from the theme's variables, with axis ticks
the operator reads (prices to significant digits, session time as ``m:ss``).

Textual calls ``render`` whenever the widget is refreshed (a border title set, a focus
change, a resize); building a plotext figure costs milliseconds, so the built text is
kept with the key it was built for (the data, the size, the colours) and handed back as
long as the key holds. A chart in a hidden tab is not rendered at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from rich.text import Text
from textual.app import RenderResult
from textual.color import Color
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

RGB = tuple[int, int, int]
MARKER = "braille"  # lines: 2x4 dots a cell
WIN, LOSS = "▲", "▼"  # fill markers: shape as well as colour (high contrast, colour-blind)
PLOT_FRAME_ROWS = 3  # a figure's rows that are not data: its two x axes, the x labels


@dataclass(frozen=True, slots=True)
class ChartColours:
    """The chart colours of the app's current theme (its CSS variables), as RGB."""

    foreground: RGB
    primary: RGB
    secondary: RGB
    warning: RGB
    profit: RGB
    loss: RGB

    @classmethod
    def of(cls, app: Any) -> ChartColours:
        v: dict[str, str] = app.theme_variables

        def rgb(*names: str) -> RGB:
            for n in names:
                if v.get(n):
                    r, g, b = Color.parse(v[n]).rgb
                    return (r, g, b)
            return (128, 128, 128)

        return cls(
            rgb("foreground"),
            rgb("primary"),
            rgb("secondary"),
            rgb("warning"),
            rgb("profit", "success"),
            rgb("loss", "error"),
        )

    @staticmethod
    def hex(c: RGB) -> str:
        """``#rrggbb`` for Rich styles and markup."""
        return "#{:02x}{:02x}{:02x}".format(*c)


def nice_step(span: float, count: int) -> float:
    """The 1-2-5 step whose number of intervals over ``span`` (> 0) is nearest ``count``."""
    raw = span / max(1, count)
    mag = 10.0 ** math.floor(math.log10(raw))
    return min((m * mag for m in (1.0, 2.0, 5.0, 10.0)), key=lambda s: abs(span / s - count))


def step_at_least(least: float) -> float:
    """The smallest 1-2-5 step not below ``least`` (> 0)."""
    mag = 10.0 ** math.floor(math.log10(least))
    return next(m * mag for m in (1.0, 2.0, 5.0, 10.0) if m * mag >= least * (1 - 1e-9))


def ticks(lo: float, hi: float, count: int, cells: int | None = None) -> list[float]:
    """About ``count`` + 1 round values within [lo, hi] (one, the middle, when flat).

    ``cells``: the rows (or columns) of the plot the axis spans [lo, hi] over; the ticks
    are then at least a cell apart (fewer than ``count`` + 1 if need be). plotext puts a
    tick's label on the cell its value falls in, so two ticks in one cell print one label
    over the other, and which one is left is the iteration order of plotext's ``set`` of
    (tick, label) pairs: the process's string hash seed (a y label of the narrow chart,
    0.02394 on one run and 0.02396 on the next, labels that were one row's neighbours)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    step = nice_step(hi - lo, count)
    if cells is not None:  # a cell is (hi - lo) / (cells - 1) of value (plotext's scale)
        step = max(step, step_at_least((hi - lo) / max(1, cells - 1)))
    digits = max(0, 1 - math.floor(math.log10(step)))  # rounds away the float residue
    k, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    out = [round(i * step, digits) + 0.0 for i in range(k, last + 1)]  # + 0.0: never -0.0
    return out[:1] if cells is not None and cells < 2 else out


PRICE_RESOLUTION = 1e-6  # a price chart's least span, relative to its level (1 ppm)


def price_span(lo: float, hi: float, resolution: float = PRICE_RESOLUTION) -> tuple[float, float]:
    """[lo, hi] widened about its middle to at least ``resolution`` of its level: a pair
    whose mid moves by float residue (3e-13 on 692.37) is drawn flat with labels to the
    digits that matter, not as a full-height zigzag labelled to 16 digits."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        return lo, hi
    mid = (lo + hi) / 2
    least = abs(mid) * resolution
    if hi - lo >= least or not least:
        return lo, hi
    return mid - least / 2, mid + least / 2


def tick_labels(values: Sequence[float], signed: bool = False) -> list[str]:
    """Labels for round ``values`` with as many decimals as tell neighbours apart;
    thousands separated, e-notation for very small or very large magnitudes."""
    if not values:
        return []
    top = max(abs(v) for v in values)
    step = min((abs(b - a) for a, b in pairwise(values) if b != a), default=top or 1.0)
    if top and (top < 1e-4 or top >= 1e9):
        digits = max(2, math.ceil(math.log10(top / step)) + 1) if step else 3
        return [f"{v:+.{digits - 1}e}" if signed else f"{v:.{digits - 1}e}" for v in values]
    decimals = max(0, -math.floor(math.log10(step))) if step else 0
    sign = "+" if signed else ""
    return [f"{v:{sign},.{decimals}f}" if v else "0" for v in values]


def clock_labels(values: Sequence[float]) -> list[str]:
    """Seconds of session time as ``m:ss`` (``h:mm:ss`` from an hour)."""
    out = []
    for v in values:
        s = round(v)
        h, rest = divmod(s, 3600)
        m, sec = divmod(rest, 60)
        out.append(f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}")
    return out


def clock_ticks(lo: float, hi: float, count: int) -> list[float]:
    """Round session times (s) within [lo, hi]: steps of 1, 2, 5, 10, 15, 30 s, then
    minutes (1, 2, 5, 10, 15, 30), then hours."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200)
    step = next((s for s in steps if s >= raw), 86400)
    first = math.ceil(lo / step) * step
    return [float(t) for t in range(int(first), int(hi) + 1, step)]


def finite(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    """The points of a series whose value is finite (an indicator's warm-up dropped)."""
    keep = [(x, y) for x, y in zip(xs, ys) if math.isfinite(y)]
    return [x for x, _ in keep], [y for _, y in keep]


class Chart(PlotextPlot):
    """A plotext chart that subclasses draw in :meth:`draw`; ``message`` replaces the
    chart while there is nothing to draw (never an empty frame, never a traceback)."""

    DEFAULT_CSS = """
    Chart {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, id: str | None = None, title: str = "") -> None:
        super().__init__(id=id)
        self.border_title = title
        self.message = "…"
        self.data: Any = None  # what draw() reads; set with the key by put()
        self._data_key: Any = object()
        self._built_key: Any = object()
        self._built: Text = Text()
        self.builds = 0  # plotext figures built (tests, the bench)

    def put(self, key: Any, data: Any = None, message: str = "") -> bool:
        """Show ``data`` (or ``message`` instead of a chart); ``key`` says what it is:
        nothing is redrawn while the key stays the same. True when it changed. A key may
        hold ``id()`` of an object in ``data``: the chart keeps it alive, so the id is not
        reused while it is the key."""
        if key == self._data_key:
            return False
        self._data_key, self.data, self.message = key, data, message
        self.refresh()
        return True

    def render(self) -> RenderResult:
        if self.message:
            return Text(self.message, style="dim")
        key = (self._data_key, self.size, self.app.theme)
        if key == self._built_key:
            return self._built
        plt: Plot = self.plt
        plt.clear_data()
        plt.clear_figure()
        self.draw(plt, ChartColours.of(self.app))
        built = super().render()
        assert isinstance(built, Text)
        self._built, self._built_key = built, key
        self.builds += 1
        return built

    @property
    def plot_rows(self) -> int:
        """The rows plotext draws the data in: the widget's height less the figure's top
        and bottom axis lines and the x labels' row (no title, no axis names)."""
        return max(0, self.size.height - PLOT_FRAME_ROWS)

    def draw(self, plt: Plot, colours: ChartColours) -> None:
        """Add the series, ticks and markers to ``plt`` (cleared); the y ticks a row
        apart at least (``ticks(..., self.plot_rows)``)."""
        raise NotImplementedError

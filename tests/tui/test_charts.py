"""The charts (``c``): the price chart of the pair under the focused table's cursor and
the equity curve, drawn from the snapshot's series; a clear note without data; fills
marked in the theme's profit and loss colours; built only when shown and only when what
they show changed."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.content import Content
from textual.widgets import ContentSwitcher, TabbedContent
from textual_plotext.plot import Plot

from arbscope.demo import SimMarket
from arbscope.equity import EquityPoint
from arbscope.runloop import TICK_S, ManualClock
from tests.support.pilot import until
from tests.support.staging import StepClock, fix_app, staged_live, staged_sim, ticked
from tui.app import ArbscopeApp
from tui.screens.help import KEYS
from tui.screens.live import LiveScreen
from tui.widgets.chart import (
    LOSS,
    PLOT_FRAME_ROWS,
    WIN,
    ChartColours,
    clock_labels,
    clock_ticks,
    price_span,
    tick_labels,
    ticks,
)
from tui.widgets.cycles import CyclesPanel
from tui.widgets.equity import EquityChart
from tui.widgets.pricechart import PriceChart
from tui.widgets.prices import PricesPanel
from tui.widgets.timings import TimingsPanel

WIDE, NARROW = (120, 40), (80, 24)


def charts(app: ArbscopeApp) -> tuple[PriceChart, EquityChart]:
    return app.screen.query_one(PriceChart), app.screen.query_one(EquityChart)


def shown(chart: Any) -> str:
    """What the chart's widget renders now, as plain text."""
    out = chart.render()
    return out.plain if isinstance(out, Text) else str(out)


def legend(chart: Any) -> str:
    """The chart's legend (its bottom border) without its colour markup."""
    return Content.from_markup(chart.border_subtitle).plain


def colour_at(text: Text, char: str) -> list[tuple[int, int, int]]:
    """The foreground colour of every ``char`` in ``text``."""
    console = Console()
    out = []
    for i, c in enumerate(text.plain):
        if c == char:
            color = text.get_style_at_offset(console, i).color
            assert color is not None and color.triplet is not None
            out.append(tuple(color.triplet))
    return out


def rgb(app: ArbscopeApp, var: str) -> tuple[int, int, int]:
    from textual.color import Color

    r, g, b = Color.parse(app.theme_variables[var]).rgb
    return (r, g, b)


@pytest.mark.slow
async def test_c_shows_the_price_chart_then_the_equity_then_the_timings_again() -> None:
    app = fix_app(ArbscopeApp(staged_sim(ticks=150)))
    async with app.run_test(size=WIDE) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        place = screen.query_one("#charts", ContentSwitcher)
        price, equity = charts(app)
        assert place.current == "timings" and price.builds == equity.builds == 0
        assert "c: price chart" in screen.query_one(TimingsPanel).border_subtitle
        await pilot.press("c")
        await until(pilot, lambda: price.builds == 1)
        snap = app.source.snapshot
        best = snap.opportunities[0][0]
        a, b = sorted(best.tokens[:2])
        assert price.pair == (a, b)  # the cycles table has focus: its cycle's first hop
        assert price.data[0] is snap.price_series[(a, b)]
        names = snap.names
        assert price.border_title == f"Chart {names.symbol(a)}/{names.symbol(b)}"
        assert "mid" in legend(price) and "BB20" in legend(price)
        assert "┤" in shown(price)  # an axis with ticks, not a note
        await pilot.press("c")
        await until(pilot, lambda: equity.builds == 1)
        pf = snap.portfolio
        assert equity.border_title == f"Equity: PnL in {names.symbol(pf.base)}"
        wins = sum(p.win for p in snap.equity)
        assert f"{WIN} {wins}" in legend(equity) and wins == pf.wins
        assert "paper" in legend(equity) and "live" not in legend(equity)
        await pilot.press("c")
        assert place.current == "timings"
        assert app.state.internal_errors == 0


@pytest.mark.slow
async def test_without_data_the_charts_say_so() -> None:
    app = fix_app(ArbscopeApp(staged_sim(ticks=0)))  # no fill, no cycle, one slot of prices
    async with app.run_test(size=WIDE) as pilot:
        price, equity = charts(app)
        await pilot.press("c")
        await until(pilot, lambda: "no pair yet" in shown(price))
        app.screen.query_one(PricesPanel).focus()
        await until(pilot, lambda: "waiting for its second slot" in shown(price))
        await pilot.press("c")
        await until(pilot, lambda: shown(equity) == "no fills yet")
        assert price.builds == equity.builds == 0  # notes, never an empty figure
        assert app.state.internal_errors == 0 and app.state.last_error == ""


@pytest.mark.slow
async def test_the_price_chart_follows_the_cursor_in_prices() -> None:
    app = fix_app(ArbscopeApp(staged_sim(ticks=80)))
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("c")
        price, _ = charts(app)
        table = app.screen.query_one(PricesPanel)
        await until(pilot, lambda: table.row_count > 3)
        for _ in range(5):  # wide layout: tab moves the focus (cycles, feeds, prices...)
            if app.screen.focused is table:
                break
            await pilot.press("tab")
        assert app.screen.focused is table
        snap = app.source.snapshot
        drawn = []
        for _ in range(3):
            key = table.keys[table.cursor_row]
            a, _, b = key.partition("/")
            await until(pilot, lambda a=a, b=b: price.pair == (a, b))
            assert price.data[0] is snap.price_series[(a, b)]
            drawn.append(price.pair)
            await pilot.press("down")
        assert len(set(drawn)) == 3
        builds = price.builds
        app.screen.query_one(CyclesPanel).focus()  # back to the cycles: their first hop
        best = snap.opportunities[0][0]
        await until(pilot, lambda: price.pair == tuple(sorted(best.tokens[:2])))
        await until(pilot, lambda: price.builds > builds)


@pytest.mark.slow
async def test_the_price_chart_is_built_only_when_shown_and_its_series_moved() -> None:
    clock = ManualClock()
    m = ticked(SimMarket(seed=7, timer_clock=StepClock(), clock=clock), clock, 60)
    app = fix_app(ArbscopeApp(m))
    async with app.run_test(size=WIDE) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        price, equity = charts(app)
        frames = screen.frames
        await until(pilot, lambda: screen.frames >= frames + 3)
        assert price.builds == equity.builds == 0  # behind the timings: never drawn
        await pilot.press("c")
        await until(pilot, lambda: price.builds == 1)
        frames = screen.frames
        await until(pilot, lambda: screen.frames >= frames + 3)
        assert price.builds == 1  # the clock is still: same series, nothing rebuilt
        pair = price.pair
        assert pair is not None
        series = m.snapshot.price_series[pair]
        while m.snapshot.price_series[pair] is series:  # until the pair moves
            clock.advance(int(TICK_S * 1e9))
            await until(pilot, lambda s=m.slot: m.slot > s)
        await until(pilot, lambda: price.builds == 2)
        assert price.data[0] is m.snapshot.price_series[pair]


@pytest.mark.slow
async def test_a_session_that_traded_live_draws_the_live_curve() -> None:
    app = fix_app(ArbscopeApp(staged_live()))
    app.state.mode = "LIVE"
    async with app.run_test(size=WIDE) as pilot:
        _, equity = charts(app)
        await pilot.press("c", "c")
        await until(pilot, lambda: equity.builds == 1)
        points = equity.data[0]
        live = [p for p in points if p.series == "live"]
        view = app.source.snapshot.live
        assert len(live) == 3 and live[-1].pnl == view.pnl  # start + the two that landed
        assert "live" in legend(equity) and "paper" in legend(equity)
        # the top of the axis reaches the live PnL (0.048 SOL): a tick label past 0.04
        assert "+0.04┤" in shown(equity)


class _Crafted(SimMarket):
    """The seeded market with equity points given by the test (wins, losses, a failure)."""

    equity: tuple[EquityPoint, ...] = ()

    @property
    def snapshot(self) -> Any:
        return replace(super().snapshot, equity=self.equity)


@pytest.mark.slow
async def test_fills_are_marked_in_the_themes_profit_and_loss_colours() -> None:
    clock = ManualClock()
    m = _Crafted(seed=7, timer_clock=StepClock(), clock=clock)
    sol = 10**9  # lamports: the base's units are shown in SOL
    m.equity = (
        EquityPoint("paper", 0.0, 1, 0),
        EquityPoint("paper", 1.0, 6, 5 * sol // 1000, 5 * sol // 1000, True),  # a win
        EquityPoint("paper", 2.0, 11, 2 * sol // 1000, -3 * sol // 1000, True),  # a loss
        EquityPoint("paper", 3.0, 16, sol // 1000, -sol // 1000, False),  # failed: fees
        EquityPoint("live", 0.5, 3, 0),
        EquityPoint("live", 2.5, 13, 4 * sol // 1000, 4 * sol // 1000, True),
    )
    app = fix_app(ArbscopeApp(m))
    async with app.run_test(size=WIDE) as pilot:
        _, equity = charts(app)
        await pilot.press("c", "c")
        for theme in ("arbscope-dark", "arbscope-light", "arbscope-contrast"):
            app.theme = theme
            await until(pilot, lambda t=theme: equity._built_key[2] == t)
            built = equity._built
            assert colour_at(built, WIN) == [rgb(app, "profit")] * 2  # paper's and live's
            assert colour_at(built, LOSS) == [rgb(app, "loss")] * 2  # the loss, the failure
            assert f"{WIN} 2" in legend(equity) and f"{LOSS} 2" in legend(equity)
        assert equity.border_title == "Equity: PnL in SOL"


@pytest.mark.slow
async def test_c_reaches_the_charts_in_the_narrow_layout() -> None:
    app = fix_app(ArbscopeApp(staged_sim()))
    async with app.run_test(size=NARROW) as pilot:
        tabs = app.screen.query_one("#tabs", TabbedContent)
        await pilot.press("tab", "tab", "tab")
        assert tabs.active == "t-feeds"
        await pilot.press("c")
        assert tabs.active == "t-chart"
        price, equity = charts(app)
        await until(pilot, lambda: price.builds == 1)
        await pilot.press("c")
        assert tabs.active == "t-equity"
        await until(pilot, lambda: equity.builds == 1)
        await pilot.press("c")
        assert tabs.active == "t-feeds"  # back where the operator was


def test_c_is_in_the_help() -> None:
    assert any(k == "c" and "chart" in v and "equity" in v for k, v in KEYS)


def test_ticks_are_round_and_labelled_to_the_digits_that_tell_them_apart() -> None:
    assert ticks(5.6523, 5.7212, 4) == [5.66, 5.68, 5.7, 5.72]
    assert tick_labels([5.66, 5.68, 5.7, 5.72]) == ["5.66", "5.68", "5.70", "5.72"]
    assert tick_labels([0.0, 0.002, 0.004], signed=True) == ["0", "+0.002", "+0.004"]
    assert tick_labels([13_990.0, 14_000.0]) == ["13,990", "14,000"]
    assert tick_labels([0.00004995, 0.00005]) == ["4.995e-05", "5.000e-05"]
    assert ticks(3.0, 3.0, 4) == [3.0]
    assert clock_ticks(0.0, 7.8, 4) == [0.0, 2.0, 4.0, 6.0]
    assert clock_labels([0.0, 75.0, 3_725.0]) == ["0:00", "1:15", "1:02:05"]


def test_ticks_given_the_plot_s_rows_are_a_row_apart() -> None:
    """plotext labels the row a tick falls in; two in one row print one label over the
    other, the one left decided by plotext's ``set`` order (the string hash seed)."""
    from plotext._utility import get_matrix_data  # type: ignore[import-untyped]

    lo, hi = 0.02391376798194879, 0.0240259872549525  # the narrow chart's staged pair
    assert ticks(lo, hi, 4) == [0.02392, 0.02394, 0.02396, 0.02398, 0.024, 0.02402]
    assert ticks(lo, hi, 4, 4) == [0.02395, 0.024]  # 4 rows: 6 ticks would share them
    assert ticks(lo, hi, 4, 30) == ticks(lo, hi, 4)  # room enough: the same
    assert len(ticks(lo, hi, 4, 1)) == 1
    for a, b in ((lo, hi), (5.6523, 5.7212), (-0.37, 0.0), (0.0, 1e-9), (13_990.0, 14_007.5)):
        for rows in range(2, 25):
            ys = ticks(a, b, 4, rows)
            assert ys, (a, b, rows)
            at = get_matrix_data(ys, [a, b], rows)
            assert len(set(at)) == len(at), (a, b, rows, ys, at)


def test_a_short_chart_shows_every_y_label_it_is_given() -> None:
    """The narrow layout's chart (78x7: four rows of data): each label handed to plotext
    is on screen, so what is shown does not depend on the order plotext keeps them in
    (it showed 0.02394 on one run, 0.02396 on the next)."""
    n, nan = 17, math.nan
    mids = [0.0240259872549525 - 0.0001122192730037 * abs(math.sin(i / 3)) for i in range(n)]
    series = SimpleNamespace(
        slots=list(range(0, 17 * n, 17)),
        mid=mids,
        **{f: [nan] * n for f in ("lower", "middle", "upper", "kama", "ema")},
    )
    grey = (128, 128, 128)

    class Handed(Plot):
        """A figure that keeps the y labels it is handed."""

        def __init__(self) -> None:
            super().__init__()
            self.handed: list[list[str]] = []

        def yticks(
            self,
            ticks: list[float] | None = None,
            labels: list[str] | None = None,
            yside: float | None = None,
        ) -> None:
            self.handed.append(list(labels or []))
            super().yticks(ticks, labels, yside)

    plt = Handed()
    plt.plotsize(78, 7)
    chart: Any = SimpleNamespace(data=(series, 1.0, None), plot_rows=7 - PLOT_FRAME_ROWS)
    PriceChart.draw(chart, plt, ChartColours(*[grey] * 6))
    rows = re.sub(r"\x1b\[[0-9;]*m", "", plt.build()).splitlines()
    top = next(i for i, r in enumerate(rows) if "┌" in r)
    bottom = next(i for i, r in enumerate(rows) if "└" in r)
    assert bottom - top - 1 == 7 - PLOT_FRAME_ROWS  # the rows Chart.plot_rows counts
    labels = [r.split("┤")[0].strip() for r in rows if "┤" in r]
    assert len(plt.handed) == 1 and len(plt.handed[0]) > 1
    assert sorted(labels) == sorted(plt.handed[0])


def test_a_price_span_narrower_than_a_millionth_of_its_level_is_widened_about_its_middle() -> None:
    lo, hi = price_span(692.3715884670089 - 1.5e-13, 692.3715884670089 + 1.5e-13)
    assert hi - lo == pytest.approx(692.3715884670089e-6)
    assert (lo + hi) / 2 == pytest.approx(692.3715884670089, rel=1e-15)
    assert price_span(0.99, 1.01) == (0.99, 1.01)  # a real move is drawn as it is
    lo, hi = price_span(2.5e-5, 2.5e-5)  # flat: the same least span, any magnitude
    assert hi - lo == pytest.approx(2.5e-11)
    assert price_span(0.0, 0.0) == (0.0, 0.0)
    assert price_span(math.inf, -math.inf) == (math.inf, -math.inf)  # nothing drawn


def test_a_pair_whose_mid_moves_by_float_residue_is_drawn_flat_with_short_labels() -> None:
    """Seen in ``make run``: mSOL/USDC's mid moved by 3e-13 on 692.37; the y axis was
    labelled to 16 digits ("692.3715884670089"), squeezing the plot to half its width,
    and the residue drawn as a full-height zigzag."""
    n, nan, mid = 40, math.nan, 692.3715884670089
    mids = [mid + (1e-13 if i % 2 else -1e-13) for i in range(n)]
    series = SimpleNamespace(
        slots=list(range(1000, 1000 + n)),
        mid=mids,
        ema=mids,
        **{f: [nan] * n for f in ("lower", "middle", "upper", "kama")},
    )
    grey = (128, 128, 128)
    plt = Plot()
    plt.plotsize(80, 20)
    # draw reads only its data and its rows
    chart: Any = SimpleNamespace(data=(series, 1.0, None), plot_rows=20 - PLOT_FRAME_ROWS)
    PriceChart.draw(chart, plt, ChartColours(*[grey] * 6))
    rows = re.sub(r"\x1b\[[0-9;]*m", "", plt.build()).splitlines()
    labels = [r.split("┤")[0].strip() for r in rows if "┤" in r]
    assert labels and all(len(label) <= 9 for label in labels), labels
    assert {float(label) for label in labels} >= {692.3716}
    drawn = [i for i, r in enumerate(rows) if any("\u2800" < ch <= "\u28ff" for ch in r)]
    assert len(drawn) == 1, drawn  # one row of braille: flat, not a zigzag over the height

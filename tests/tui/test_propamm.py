"""The prop AMMs on screen: the Prices panel's ``prop`` (last realized price, in units),
``Δbps`` (its spread to the mid) and ``lag`` (slots the public pools took to follow;
``…N`` while a lead is open) columns beside the mid, ``—`` where a pair has none, and no
such columns for a source with no prop AMM; the price chart's ``prop`` line in the
theme's profit colour, named in its title and legend."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.color import Color

from arbscope.demo import SimMarket
from arbscope.prices import PriceRow
from arbscope.propamm import PropQuote, PropSeries
from arbscope.runloop import ManualClock
from tests.support.pilot import until
from tests.support.staging import StepClock, fix_app, ticked
from tui.app import ArbscopeApp
from tui.widgets import prices
from tui.widgets.pricechart import PROP_COLOUR, PriceChart
from tui.widgets.prices import PricesPanel

WIDE = (160, 45)


def quote(row: PriceRow, spread: float, lag: int | None, waiting: int | None) -> PropQuote:
    price = row.mid * (1 + spread / 1e4)
    return PropQuote(
        row.pair,
        "Prop1111111111111111111111111111111111111111",
        "HumidiFi",
        price,
        row.slot,
        row.mid,
        row.mid,
        spread,
        lag,
        lag,
        waiting,
        7,
        3,
        row.slot,
        2,
        0,
    )


class _WithProps(SimMarket):
    """The demo market with prop AMMs on its first two pairs (the second's lead open)."""

    _made: tuple[Any, Any] | None = None  # (the demo's snapshot, this one's), until it moves

    @property
    def snapshot(self) -> Any:
        snap = super().snapshot
        if self._made is not None and self._made[0] is snap:
            return self._made[1]
        rows = list(snap.prices)
        rows[0] = replace(rows[0], prop=quote(rows[0], 12.34, 3, None))
        rows[1] = replace(rows[1], prop=quote(rows[1], -2.0, None, 4))
        pair = rows[0].pair
        series = snap.price_series[pair]
        prop = PropSeries(
            tuple(series.slots[-10:]), tuple(m * 1.0012 for m in series.mid[-10:]), "HumidiFi"
        )
        made = replace(snap, prices=rows, prop_series={pair: prop})
        self._made = (snap, made)
        return made


def _market() -> _WithProps:
    clock = ManualClock()
    return ticked(_WithProps(seed=7, timer_clock=StepClock(), clock=clock), clock, 40)


def test_the_prop_cells_say_price_spread_and_lag() -> None:
    m = _market()
    rows = m.snapshot.prices
    first, second, third = (prices.cells(r)[2:5] for r in rows[:3])
    assert [str(c) for c in third] == ["—", "—", "—"]
    assert str(first[0]) == str(prices.price(rows[0].prop.price))
    assert str(first[1]) == "+12.3" and "green" in str(first[1].style)
    assert str(first[2]) == "3"
    assert str(second[1]) == "-2.0" and not str(second[1].style)  # within 5 bps: plain
    assert str(second[2]) == "…4"
    neg = prices.prop_cells(replace(rows[0].prop, spread_bps=-0.04), 1.0)
    assert str(neg[1]) == "+0.0"  # never -0.0
    scaled = prices.prop_cells(rows[0].prop, 1000.0)
    assert str(scaled[0]) == str(prices.price(rows[0].prop.price * 1000.0))


@pytest.mark.slow
async def test_a_source_without_prop_amms_shows_no_prop_columns() -> None:
    clock = ManualClock()
    m = ticked(SimMarket(seed=7, timer_clock=StepClock(), clock=clock), clock, 5)
    app = fix_app(ArbscopeApp(m))
    async with app.run_test(size=WIDE) as pilot:
        table = app.screen.query_one(PricesPanel)
        await until(pilot, lambda: table.row_count > 3)
        assert not {c[0] for c in table.shown} & set(PricesPanel.PROP)
        assert table.border_title == PricesPanel.TITLE and not table.props_shown


@pytest.mark.slow
async def test_the_prices_panel_shows_the_prop_columns_and_the_chart_its_line() -> None:
    m = _market()
    app = fix_app(ArbscopeApp(m))
    async with app.run_test(size=WIDE) as pilot:
        table = app.screen.query_one(PricesPanel)
        await until(pilot, lambda: table.row_count > 3)
        assert [c[0] for c in table.shown][1:5] == ["mid", "prop", "pbps", "plag"]
        assert table.border_title == PricesPanel.TITLE_PROP
        rows = m.snapshot.prices
        key0, key1 = ("/".join(r.pair) for r in rows[:2])
        assert str(table.get_cell(key0, "pbps")).strip() == "+12.3"
        assert str(table.get_cell(key0, "plag")).strip() == "3"
        assert str(table.get_cell(key1, "plag")).strip() == "…4"
        await pilot.press("c")
        for _ in range(5):  # wide layout: tab moves the focus to the prices
            if app.screen.focused is table:
                break
            await pilot.press("tab")
        assert app.screen.focused is table
        chart = app.screen.query_one(PriceChart)
        await until(pilot, lambda: chart.pair == rows[0].pair and chart.builds > 0)
        assert chart.data[2] is m.snapshot.prop_series[rows[0].pair]
        assert "prop HumidiFi" in str(chart.border_title)
        assert "prop" in Text.from_markup(chart.border_subtitle).plain
        built = chart.render()
        assert isinstance(built, Text)
        want = Color.parse(app.theme_variables[PROP_COLOUR]).rgb
        console = Console()
        colours = {
            tuple(s.color.triplet)
            for i in range(len(built.plain))
            if (s := built.get_style_at_offset(console, i)).color is not None
            and s.color.triplet is not None
        }
        assert tuple(want) in colours
        await pilot.press("down")  # a pair without a prop AMM: no line, no name
        await until(pilot, lambda: chart.pair == rows[1].pair)
        assert chart.data[2] is None and "prop" not in str(chart.border_title)
        assert app.state.internal_errors == 0 and app.state.last_error == ""

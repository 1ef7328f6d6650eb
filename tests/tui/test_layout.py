"""The screen's layout at every width a user may have: the cycles' decision column always
on screen (never scrolled off) from 80 columns up, the prices, the chart and the books
naming a pair by the one base/quote rule."""

from __future__ import annotations

import pytest

from tests.support.pilot import until
from tests.support.staging import fix_app, staged_books, staged_charts, staged_sim
from tui.app import ArbscopeApp
from tui.screens.book import OrderBookScreen
from tui.widgets.book import BookList
from tui.widgets.cycles import CyclesPanel
from tui.widgets.pricechart import PriceChart
from tui.widgets.prices import PricesPanel

WIDTHS = (80, 81, 99, 100, 101, 110, 119, 120, 121, 130, 140, 141, 150, 160, 200, 240)


@pytest.mark.slow
async def test_the_decision_is_on_screen_at_every_width() -> None:
    """Resized through widths from 80 to 240 (across the narrow layout's threshold at
    100, and 120 where it used to scroll off): the cycles show the decision as their last
    column, and their columns never need a horizontal scroll — so it is on screen, with
    the path, size, net and persistence."""
    app = fix_app(ArbscopeApp(staged_sim()))
    async with app.run_test(size=(120, 30)) as pilot:
        for width in WIDTHS:
            await pilot.resize_terminal(width, 30)

            def settled(w: int = width) -> bool:
                p = app.screen.query(CyclesPanel)
                return bool(p) and p.first().size.width >= w - 2 - 2 and p.first().row_count > 0

            await until(pilot, settled)
            await pilot.pause()
            panel = app.screen.query_one(CyclesPanel)
            keys = [c[0] for c in panel.shown]
            assert keys[-1] == "go", (width, keys)
            assert {"path", "size", "net", "persist"} <= set(keys), (width, keys)
            used = sum(c[2] for c in panel.shown)
            assert used <= panel.scrollable_content_region.width, (width, used)
            assert panel.virtual_size.width <= panel.scrollable_content_region.width, width
            if width >= 150:  # every column fits
                assert len(keys) == len(CyclesPanel.COLUMNS), width


@pytest.mark.slow
async def test_prices_chart_and_books_name_a_pair_base_quote() -> None:
    """SOL/USDC wherever it shows: the prices row (USDC per SOL, about the simulated
    price, not its inverse), the chart of that row, the book listing it."""
    src = staged_charts()
    app = fix_app(ArbscopeApp(src))
    names = src.snapshot.names
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.screen.query_one(PricesPanel).row_count > 0)
        prices = app.screen.query_one(PricesPanel)
        for key in prices.keys:
            base, quote = key.split("/")
            row = next(r for r in src.snapshot.prices if r.pair == (base, quote))
            label = prices.get_row(key)[0]
            assert str(label).strip() == f"{names.symbol(base)}/{names.symbol(quote)}"
            if names.symbol(base) == "SOL" and names.symbol(quote) == "USDC":
                sol_usdc = key
                # raw USDC per lamport x 10^3: USDC per SOL, well above 1
                assert row.mid * 10**3 > 1
        prices.focus()
        prices.move_cursor(row=prices.keys.index(sol_usdc))
        await pilot.press("c")
        chart = app.screen.query_one(PriceChart)
        await until(pilot, lambda: chart.pair is not None)
        assert "SOL/USDC" in str(chart.border_title)
    books = staged_books()
    app = fix_app(ArbscopeApp(books))
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, OrderBookScreen))
        table = app.screen.query_one(BookList)
        await until(pilot, lambda: table.row_count > 0)
        shown = [str(table.get_row(k)[0]).strip() for k in table.keys]
        assert "SOL/USDC" in shown and "USDC/SOL" not in shown

"""The order-book screen (``o``): the book markets and one market's L2 ladder, redrawn
from the source's latest snapshot at the frame rate — on a real session reading the
simulator's OpenBook markets over loopback, and on staged ladders."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.console import Console

from arbscope.session import FeedSession
from feeds.clients.pool import Endpoint
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from tests.staging import book_ladders, fix_app, staged_books, staged_sim
from tests.tui.pilot import until
from tui.app import ArbscopeApp
from tui.screens.book import OrderBookScreen
from tui.widgets.book import BookList, bar, ladder_view, spread_bps
from tui.widgets.palette import Palette

PALETTE = Palette("#00ff00", "#ff0000")


def _text(renderable: Any, width: int = 100) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_the_ladder_shows_each_level_best_first_with_totals_from_the_top() -> None:
    for ladder in book_ladders():
        text = _text(ladder_view(ladder, PALETTE))
        lines = text.splitlines()
        rows = [ln for ln in lines[5:] if ln.strip()]
        assert len(rows) == max(len(ladder.bids), len(ladder.asks))
        total = 0.0
        for row, level in zip(rows, ladder.bids):
            total += level.size
            cells = row.split()
            # bar, total, size, orders, bid | ask, orders, size, total, bar
            assert f"{level.orders}" in cells
            assert any(c.replace(",", "") == f"{total:,.0f}".replace(",", "") for c in cells) or (
                total < 1_000
            )
        assert ladder.best_bid is not None and ladder.best_ask is not None
        assert ladder.best_bid < ladder.best_ask  # the simulator's makers never cross
        bps = spread_bps(ladder)
        assert bps is not None and f"({bps:,.1f} bps)" in text


def test_depth_bars_grow_with_the_total_and_stop_at_the_width() -> None:
    assert bar(0.0, 8) == " " * 8 and bar(1.0, 8) == "█" * 8 and bar(2.0, 8) == "█" * 8
    assert bar(0.5, 8, right=True) == "    ████"
    assert bar(0.5 + 1 / 64, 8) == "████▏   "  # eighths of a cell
    assert bar(float("nan"), 8) == " " * 8
    widths = [len(bar(f / 10).rstrip()) for f in range(11)]
    assert widths == sorted(widths)


async def test_o_without_order_books_says_so() -> None:
    app = fix_app(ArbscopeApp(staged_sim()))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await until(pilot, lambda: "no order-book market" in app.state.message)
        assert not isinstance(app.screen, OrderBookScreen)


async def test_o_lists_the_books_and_arrows_pick_another_market() -> None:
    src = staged_books()
    app = fix_app(ArbscopeApp(src))
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, OrderBookScreen))
        screen = app.screen
        assert isinstance(screen, OrderBookScreen)
        markets = [b.market for b in src.books]
        await until(pilot, lambda: screen.query_one(BookList).keys == markets)
        assert screen.market == markets[0]
        await pilot.press("down")
        await until(pilot, lambda: screen.shown is not None and screen.shown.market == markets[1])
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, OrderBookScreen))


async def test_o_opens_on_the_book_leg_of_the_cycle_under_the_cursor() -> None:
    src = staged_books()
    snap = src.snapshot
    o, _ = snap.opportunities[0]
    # a staged book under the address of the first cycle's second pool: that hop is a book
    src.books = tuple(sorted((src.books[0], replace(src.books[1], market=o.pools[1])),
                             key=lambda b: b.market))  # fmt: skip
    app = fix_app(ArbscopeApp(src))
    async with app.run_test(size=(140, 45)) as pilot:
        await until(pilot, lambda: bool(app.screen.query("#cycles")))
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, OrderBookScreen))
        screen = app.screen
        assert isinstance(screen, OrderBookScreen)
        await until(pilot, lambda: screen.shown is not None)
        assert screen.market == o.pools[1]


async def test_the_book_screen_follows_a_live_session_frame_by_frame() -> None:
    """A real session reads the simulator's OpenBook markets (account notifications of
    the book sides over loopback); the open screen shows each new snapshot's ladder."""
    cfg = WorldConfig(seed=63)
    profiles = [EndpointProfile("a", latency_ms=1, jitter_ms=0)]
    async with SimServer(cfg, profiles, slot_seconds=0.05) as sim:
        eps = [Endpoint(i.name, i.ws_url, i.http_url) for i in sim.infos()]
        s = FeedSession(eps, sim.world.universe(), sim.world.bases, seed=63, shadow=False)
        books = {a for a, k in sim.world.universe() if k == "openbook"}
        assert books, "the default market has order books"
        app = ArbscopeApp(s, frame_s=0.05)
        async with app.run_test(size=(140, 45)) as pilot:
            await until(pilot, lambda: {b.market for b in s.snapshot.books} == books, 90.0)
            await pilot.press("o")
            await until(pilot, lambda: isinstance(app.screen, OrderBookScreen))
            screen = app.screen
            assert isinstance(screen, OrderBookScreen)
            await until(pilot, lambda: screen.shown is not None)
            first = screen.shown
            assert first is not None
            # the makers requote every few slots: the screen shows the newer ladders
            await until(pilot, lambda: screen.shown is not None and screen.shown.slot
                        > first.slot and screen.shown.bids != first.bids, 60.0)  # fmt: skip
            shown = screen.shown
            assert shown is not None and shown.market == first.market
            assert shown.best_bid is not None and shown.best_ask is not None
            assert shown.best_bid < shown.best_ask
            assert [lv.price for lv in shown.bids] == sorted(
                (lv.price for lv in shown.bids), reverse=True
            )
            assert [lv.price for lv in shown.asks] == sorted(lv.price for lv in shown.asks)
            await pilot.press("escape")
            await pilot.press("q")

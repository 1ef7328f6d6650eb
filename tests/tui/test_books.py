"""The order-book screen (``o``): the book markets and one market's L2 ladder, redrawn
from the source's latest snapshot at the frame rate — on a real session reading the
simulator's OpenBook markets over loopback, and on staged ladders."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from rich.console import Console

from engine_rs.records import BookLadder, BookLevel
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from feeds.wire.tokens import BY_SYMBOL, pair_order
from feeds.wire.units import TokenBook
from tests.support.feeds import sim_session
from tests.support.pilot import until
from tests.support.staging import book_ladders, fix_app, staged_books, staged_sim
from tui.app import ArbscopeApp
from tui.screens.book import OrderBookScreen
from tui.widgets.book import (
    MIN_BAR,
    BookList,
    bar,
    ladder_view,
    oriented,
    pair,
    size_text,
    spread_bps,
)
from tui.widgets.palette import Palette
from tui.widgets.prices import price

PALETTE = Palette("#00ff00", "#ff0000")


def _text(renderable: Any, width: int = 100) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


BLOCK = set("▏▎▍▌▋▊▉█")
HEAD = 6  # the ladder's lines above its first level (title, units, quotes, tops, blank, labels)


def _level_cells(row: str) -> list[str]:
    """A ladder row's cells, its depth bars left out."""
    return [c for c in row.split() if not set(c) <= BLOCK]


def test_the_ladder_shows_each_level_best_first_with_running_totals_on_both_sides() -> None:
    """Every level of both sides, best first, each with its size and order count and the
    size summed from the top — on the ask side as on the bid side — computed here from
    the ladder's own levels."""
    for ladder in book_ladders():
        text = _text(ladder_view(ladder, PALETTE, width=100))
        lines = text.splitlines()
        assert lines[HEAD - 1].split() == ["total", "size", "n", "bid", "ask", "n", "size", "total"]
        rows = [ln for ln in lines[HEAD:] if ln.strip()]
        assert len(rows) == max(len(ladder.bids), len(ladder.asks))
        cum_b = cum_a = 0.0
        for i, row in enumerate(rows):
            cells = _level_cells(row)
            if i < len(ladder.bids) and i < len(ladder.asks):
                b, a = ladder.bids[i], ladder.asks[i]
                cum_b, cum_a = cum_b + b.size, cum_a + a.size
                want = [
                    size_text(cum_b),
                    size_text(b.size),
                    str(b.orders),
                    price(b.price).plain,
                    price(a.price).plain,
                    str(a.orders),
                    size_text(a.size),
                    size_text(cum_a),
                ]
                assert cells == want, (i, row)
        assert ladder.best_bid is not None and ladder.best_ask is not None
        assert ladder.best_bid < ladder.best_ask  # the simulator's makers never cross
        bps = spread_bps(ladder)
        assert bps is not None and f"({bps:,.1f} bps)" in text


@pytest.mark.parametrize("width", [49, 64, 84, 102])
def test_the_ladder_fits_its_width_bars_whole_and_totals_on_both_sides(width: int) -> None:
    """Laid out for ``width`` cells (the ladder's place at 80, 120 and 160 columns and
    between): no line longer, no cell cut (``…``), a depth bar of several cells on each
    side of the deepest level, and both running totals kept whatever is dropped."""
    for ladder in book_ladders():
        text = _text(ladder_view(ladder, PALETTE, width=width), width=width)
        lines = text.splitlines()
        head = next(i for i, ln in enumerate(lines) if ln.split()[:1] == ["total"])
        assert "…" not in "\n".join(lines[head:])
        assert all(len(ln.rstrip()) <= width for ln in lines)
        labels = lines[head].split()
        assert labels[0] == "total" and labels[-1] == "total"
        rows = [ln for ln in lines[head + 1 :] if ln.strip()]
        deepest = min(len(ladder.bids), len(ladder.asks)) - 1  # the last row of both sides
        row = rows[deepest]
        left, right = row.split()[0], row.split()[-1]
        # the deeper side's bar is full, the other's at least as long as a cell
        assert set(left) <= BLOCK and set(right) <= BLOCK
        assert max(len(left), len(right)) >= MIN_BAR
        cells = _level_cells(row)
        cum_b = sum(lv.size for lv in ladder.bids[: deepest + 1])
        cum_a = sum(lv.size for lv in ladder.asks[: deepest + 1])
        # written whole, or compact where whole would cut a cell (BONK's billions at 49)
        assert cells[0] in (size_text(cum_b), size_text(cum_b, compact=True))
        assert cells[-1] in (size_text(cum_a), size_text(cum_a, compact=True))


def _level(p: float, size: float, n: int = 1) -> BookLevel:
    return BookLevel(p, size, 0, 0, n)


def test_a_book_listed_the_other_way_round_is_shown_base_quote() -> None:
    """One pair convention: a market listing USDC/SOL (base USDC, quote SOL) is shown
    SOL/USDC as the prices panel names it — its asks (USDC for sale, in SOL) are the bids
    for SOL at the inverse price, sizes in SOL (price × size)."""
    sol, usdc = BY_SYMBOL["SOL"].mint, BY_SYMBOL["USDC"].mint
    asks = (_level(0.000545, 1_000.0, 2), _level(0.000550, 2_000.0))  # SOL per USDC
    bids = (_level(0.000540, 500.0),)
    ladder = BookLadder("mkt", usdc, sol, bids, asks, 0.000540, 0.000545, 0.000005, 0.0005425, 7)
    book = oriented(ladder, pair_order)
    assert (book.base_mint, book.quote_mint, book.turned) == (sol, usdc, True)
    assert [(lv.price, lv.size, lv.orders) for lv in book.bids] == [
        (1 / 0.000545, 1_000.0 * 0.000545, 2),
        (1 / 0.000550, 2_000.0 * 0.000550, 1),
    ]
    assert [(lv.price, lv.size) for lv in book.asks] == [(1 / 0.000540, 500.0 * 0.000540)]
    assert book.best_bid == 1 / 0.000545 and book.best_ask == 1 / 0.000540
    assert book.best_bid < book.best_ask
    names = TokenBook()
    assert pair(ladder, names, pair_order) == "SOL/USDC"
    assert pair(ladder, names) == "USDC/SOL"  # without the rule: as the market lists it
    text = _text(ladder_view(ladder, PALETTE, names, width=90, order=pair_order), width=90)
    assert text.startswith("SOL/USDC") and "prices in USDC per SOL, sizes in SOL" in text
    assert "lists it USDC/SOL" in text
    # a market listed SOL/USDC stays as it is
    same = BookLadder("m2", sol, usdc, bids, asks, 1.0, 2.0, 1.0, 1.5, 7)
    kept = oriented(same, pair_order)
    assert kept.bids[0].price == bids[0].price and not kept.turned


def test_depth_bars_grow_with_the_total_and_stop_at_the_width() -> None:
    assert bar(0.0, 8) == " " * 8 and bar(1.0, 8) == "█" * 8 and bar(2.0, 8) == "█" * 8
    assert bar(0.5, 8, right=True) == "    ████"
    assert bar(0.5 + 1 / 64, 8) == "████▏   "  # eighths of a cell
    assert bar(float("nan"), 8) == " " * 8
    widths = [len(bar(f / 10).rstrip()) for f in range(11)]
    assert widths == sorted(widths)


@pytest.mark.slow
async def test_o_without_order_books_says_so() -> None:
    app = fix_app(ArbscopeApp(staged_sim()))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await until(pilot, lambda: "no order-book market" in app.state.message)
        assert not isinstance(app.screen, OrderBookScreen)


@pytest.mark.slow
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


@pytest.mark.slow
async def test_o_opens_on_the_book_leg_of_the_cycle_under_the_cursor() -> None:
    src = staged_books()
    snap = src.snapshot
    o, _ = snap.opportunities[0]
    # a staged book under the address of the first cycle's second pool: that hop is a book
    src.books = tuple(
        sorted((src.books[0], replace(src.books[1], market=o.pools[1])), key=lambda b: b.market)
    )
    app = fix_app(ArbscopeApp(src))
    async with app.run_test(size=(140, 45)) as pilot:
        await until(pilot, lambda: bool(app.screen.query("#cycles")))
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, OrderBookScreen))
        screen = app.screen
        assert isinstance(screen, OrderBookScreen)
        await until(pilot, lambda: screen.shown is not None)
        assert screen.market == o.pools[1]


@pytest.mark.slow
async def test_the_book_screen_follows_a_live_session_frame_by_frame() -> None:
    """A real session reads the simulator's order books (OpenBook markets' book sides,
    Manifest markets' own accounts: account notifications over loopback); the open
    screen shows each new snapshot's ladder, and lists the markets of both venues."""
    cfg = WorldConfig(seed=63)
    profiles = [EndpointProfile("a", latency_ms=1, jitter_ms=0)]
    async with SimServer(cfg, profiles, slot_seconds=0.05) as sim:
        s = sim_session(sim, seed=63)
        kinds = dict(sim.world.universe())
        books = {a for a, k in kinds.items() if k in ("openbook", "manifest")}
        assert {kinds[b] for b in books} == {"openbook", "manifest"}, "both book venues"
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
            await until(
                pilot,
                lambda: (
                    screen.shown is not None
                    and screen.shown.slot > first.slot
                    and screen.shown.bids != first.bids
                ),
                60.0,
            )
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

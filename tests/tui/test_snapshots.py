"""SVG snapshots (pytest-textual-snapshot) of every screen and theme, on staged states
(tests/support/staging.py: seeded market, fixed clocks, a committed recording), so they are the
same on every run. Update after a deliberate UI change:
``pytest tests/tui/test_snapshots.py --snapshot-update`` (and ``make screenshots``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.staging import (
    fix_app,
    staged_books,
    staged_charts,
    staged_live,
    staged_no_price,
    staged_props,
    staged_replay,
    staged_rivals,
    staged_sim,
)
from tui.app import ArbscopeApp


def sim_app(theme: str = "dark") -> ArbscopeApp:
    return fix_app(ArbscopeApp(staged_sim(), theme=theme))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "size", "press", "theme"),
    [
        ("main", (120, 40), [], "dark"),
        ("main-80x24", (80, 24), [], "dark"),
        ("cycle-detail", (120, 40), ["enter"], "dark"),
        ("help", (120, 40), ["question_mark"], "dark"),
        ("live-confirm", (120, 40), ["m"], "dark"),
        ("theme-light", (120, 40), [], "light"),
        ("theme-contrast", (120, 40), [], "contrast"),
    ],
)
def test_screen(
    snap_compare: Callable[..., bool],
    name: str,
    size: tuple[int, int],
    press: list[str],
    theme: str,
) -> None:
    assert snap_compare(sim_app(theme), press=press, terminal_size=size)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "size", "press"),
    [
        # the prices focused (tab, tab): the chart of the pair under their cursor
        ("price-chart", (120, 40), ["tab", "tab", "c"]),
        ("equity", (120, 40), ["c", "c"]),
        # four rows of plot: its y ticks a row apart (two labels), whatever the hash seed
        ("narrow-chart", (80, 24), ["c"]),
    ],
)
def test_chart_screen(
    snap_compare: Callable[..., bool], name: str, size: tuple[int, int], press: list[str]
) -> None:
    """``c``: the price chart (mid, Bollinger bands, EMA, KAMA) and the equity curve."""
    assert snap_compare(fix_app(ArbscopeApp(staged_charts())), press=press, terminal_size=size)


@pytest.mark.slow
def test_live_equity_screen(snap_compare: Callable[..., bool]) -> None:
    """A session that traded live: both curves, the live orders that landed marked."""
    app = fix_app(ArbscopeApp(staged_live()))
    app.state.mode = "LIVE"
    assert snap_compare(app, press=["c", "c"], terminal_size=(120, 40))


@pytest.mark.slow
def test_live_mode_screen(snap_compare: Callable[..., bool]) -> None:
    """Live mode: the LIVE badge and the wallet, its orders and the paper shadow."""
    app = fix_app(ArbscopeApp(staged_live()))
    app.state.mode = "LIVE"
    assert snap_compare(app, terminal_size=(120, 40))


@pytest.mark.slow
def test_order_books_screen(snap_compare: Callable[..., bool]) -> None:
    """``o``: the simulated world's books and the first one's ladder."""
    assert snap_compare(fix_app(ArbscopeApp(staged_books())), press=["o"], terminal_size=(140, 45))


@pytest.mark.slow
def test_replay_screen(snap_compare: Callable[..., bool]) -> None:
    r = asyncio.run(staged_replay())
    try:
        app = fix_app(ArbscopeApp(r))
        assert snap_compare(app, terminal_size=(120, 40))
    finally:
        asyncio.run(r.stop())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "size", "press"),
    [
        ("main-160", (160, 45), []),
        ("cycle-detail-80x24", (80, 24), ["enter"]),
        ("cycle-detail-160", (160, 45), ["enter"]),
    ],
)
def test_screen_at_width(
    snap_compare: Callable[..., bool], name: str, size: tuple[int, int], press: list[str]
) -> None:
    """The cycles (the decision last, whatever the width: the other columns that fit
    before it), the prices base/quote, the cycle detail with its compute units and price
    of SOL: at 80, 120 (``test_screen``) and 160 columns."""
    assert snap_compare(sim_app(), press=press, terminal_size=size)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("size", "press"),
    [
        ((80, 24), ["ctrl+end"]),
        ((120, 40), ["ctrl+end"]),
        ((160, 45), ["ctrl+end"]),
        ((120, 40), ["ctrl+end", "enter"]),
    ],
)
def test_no_sol_price_screen(
    snap_compare: Callable[..., bool], size: tuple[int, int], press: list[str]
) -> None:
    """No price of SOL in USDC: the USDC cycles' fees say so, their net is ``?``, their
    decision ``no_sol_price``, they come after the cycles whose net is known (the cursor
    at the last row: ``ctrl+end``); the detail says why."""
    app = fix_app(ArbscopeApp(staged_no_price()))
    assert snap_compare(app, press=press, terminal_size=size)


@pytest.mark.slow
@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 45)])
def test_order_books_at_width(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """``o`` at 80, 120 and 160 columns: whole depth bars, running totals on both sides
    (a narrow one leaves out the order counts, then the sizes), the list narrower at 80."""
    app = fix_app(ArbscopeApp(staged_books()))
    assert snap_compare(app, press=["o"], terminal_size=size)


@pytest.mark.slow
def test_price_chart_at_160(snap_compare: Callable[..., bool]) -> None:
    """The chart of the pair under the prices' cursor, named base/quote as the row is."""
    app = fix_app(ArbscopeApp(staged_charts()))
    assert snap_compare(app, press=["tab", "tab", "c"], terminal_size=(160, 45))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "size", "press"),
    [
        # a source with rivals: the share on the cycles' border, ``v`` in the footer
        ("rivals-main", (120, 40), []),
        ("rivals-160", (160, 45), ["v"]),
        ("rivals-120", (120, 40), ["v"]),
        ("rivals-80x24", (80, 24), ["v"]),
        ("rival-detail-160", (160, 45), ["v", "enter"]),
        ("rival-detail-80x24", (80, 24), ["v", "down", "down", "enter"]),
    ],
)
def test_rivals_screen(
    snap_compare: Callable[..., bool], name: str, size: tuple[int, int], press: list[str]
) -> None:
    """``v``: the signers and the latest rival arbitrages in place of the lower row (wide)
    or in a tab (narrow), outcomes in their colours; ``enter``: a rival's detail with its
    hops, fees, our side and our state of its pools."""
    assert snap_compare(fix_app(ArbscopeApp(staged_rivals())), press=press, terminal_size=size)


@pytest.mark.slow
def test_prop_amm_screen(snap_compare: Callable[..., bool]) -> None:
    """The prop AMMs (staged on the market's two busiest pairs, leading their mids by six
    slots): the Prices panel's prop, Δbps and lag columns beside the mid; ``c`` with the
    prices focused: the first pair's chart with its prop line."""
    app = fix_app(ArbscopeApp(staged_props()))
    assert snap_compare(app, press=["tab", "tab", "c"], terminal_size=(120, 40))


@pytest.mark.slow
def test_staged_states_are_deterministic() -> None:
    """The premise of the snapshots: two staged markets show the same thing."""
    a, b = staged_sim().snapshot, staged_sim().snapshot

    def view(s: Any) -> Any:
        return (
            s.slot,
            [(o.pools, sc.net_profit) for o, sc in s.opportunities],
            [(p.pair, p.mid) for p in s.prices],
            s.fee,
            [(t.kernel, t.rust_p50_us) for t in s.timings],
        )

    assert view(a) == view(b)
    assert staged_books().snapshot.books == staged_books().snapshot.books
    a_rivals, b_rivals = staged_rivals().snapshot.rivals, staged_rivals().snapshot.rivals
    assert a_rivals is not None and b_rivals is not None
    assert [r.payload() for r in a_rivals.latest] == [r.payload() for r in b_rivals.latest]

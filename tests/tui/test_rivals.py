"""The Rivals panel and a rival's detail, as an operator uses them (Textual's pilot on the
staged market with rivals, tests/support/staging.py), and what their cells say for the
numbers they are given."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from rich.console import Console

from arbscope.rivals import RivalHop
from feeds.wire.units import TokenBook
from tests.support.pilot import on_live_screen
from tests.support.staging import RIVAL_LABELS, staged_rivals, staged_sim
from tui.screens.help import KEYS
from tui.screens.rival import RivalDetail, gap_text, rival_detail
from tui.widgets.cycles import CyclesPanel
from tui.widgets.palette import Palette
from tui.widgets.rivals import (
    RivalsPanel,
    RivalsTable,
    SignersTable,
    outcome_text,
    profit_text,
    row_cells,
)

SOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
PALETTE = Palette("#00ff00", "#ff0000", "#ffaa00", "#777777")


def _text(renderable: Any, width: int = 200) -> str:
    c = Console(width=width, record=True, color_system=None)
    c.print(renderable)
    return c.export_text()


@pytest.fixture(scope="module")
def market() -> Any:
    return staged_rivals()


def rows(market: Any) -> list[Any]:
    view = market.snapshot.rivals
    assert view is not None
    return list(view.latest)


def test_the_staged_rivals_cover_every_outcome(market: Any) -> None:
    got = {r.outcome.split(":")[0] for r in rows(market)}
    assert got == {"ours", "speed", "no-go", "unseen"}
    assert any(not r.landed for r in rows(market))  # a failed attempt among them


def test_the_outcome_colours() -> None:
    def r(outcome: str) -> Any:
        return type("R", (), {"outcome": outcome})()

    assert outcome_text(r("ours"), PALETTE).style == "bold #00ff00"
    assert outcome_text(r("speed"), PALETTE).style == "#ffaa00"
    assert outcome_text(r("no-go: min_profit"), PALETTE).style == "dim"
    assert outcome_text(r("unseen"), PALETTE).style == "#777777"


def test_a_rows_amounts_are_in_units_of_its_base(market: Any) -> None:
    names = market.snapshot.names
    r = next(x for x in rows(market) if x.landed and x.base == SOL)
    view = market.snapshot.rivals
    cells = [str(c) for c in row_cells(r, PALETTE, names, view.labels, view.venue_labels)]
    assert cells[1] == names.path([r.hops[0].mint_in, *(h.mint_out for h in r.hops)])
    assert cells[2] == "·".join(view.venue_labels[v] for v in r.venues)
    assert cells[4] == names.amount(SOL, r.amount_in, symbol=False)
    assert cells[5] == names.amount(SOL, r.profit, symbol=False)
    assert cells[6] == names.amount(SOL, r.tip, symbol=False)
    failed = next(x for x in rows(market) if not x.landed)
    assert str(row_cells(failed, PALETTE, names, {}, {})[5]) == "failed"


def test_a_signers_profit_over_several_bases_is_summed_in_usd() -> None:
    names = TokenBook().with_usd({(SOL, USDC): 150.0 * 10**6 / 10**9})
    one = profit_text(names, {SOL: 2 * 10**9}, PALETTE)
    assert one.plain == "2 SOL"
    two = profit_text(names, {SOL: 10**9, USDC: 5 * 10**6}, PALETTE)
    assert two.plain == "≈$155.00" and two.style == "#00ff00"
    unknown = profit_text(TokenBook(), {SOL: 10**9, "Mint" + "m" * 40: 7}, PALETTE)
    assert unknown.plain.endswith(" +1")


def test_the_detail_shows_the_transaction_and_our_side(market: Any) -> None:
    names = market.snapshot.names
    view = market.snapshot.rivals
    r = next(x for x in rows(market) if x.outcome == "speed")
    text = _text(rival_detail(r, PALETTE, names, dict(view.labels), dict(view.venue_labels)))
    for want in (
        r.signature,
        r.signer,
        f"{r.slot}, position {r.index} in the block",
        f"{r.cu_limit:,} CU × {r.cu_price:,} µL/CU",
        f"{r.tip:,}",
        f"slot {r.since}: {r.lead} slots before they landed",
        f"{r.our_priority:,} vs {r.priority:,} µL/CU",
        "speed (GO)",
        "our state of its pools",
    ):
        assert want in text, want
    for h in r.hops:
        assert f"{h.amount_in:,}" in text and names.amount(h.mint_in, h.amount_in) in text
    unseen = next(x for x in rows(market) if x.outcome == "unseen")
    text = _text(rival_detail(unseen, PALETTE, names, {}, {}))
    assert "not in our graph" in text and "no: no cycle of ours" in text


def test_the_gap_our_state_showed_is_the_product_of_our_rates() -> None:
    hop = RivalHop("raydium_cpmm", "P1", SOL, USDC, 10, 1_500, "event", 150.0, 9)
    back = RivalHop("raydium_cpmm", "P2", USDC, SOL, 1_500, 11, "event", 1 / 149.0, 12)
    r = type("R", (), {"hops": (hop, back), "slot": 12})()
    text = gap_text(r)  # type: ignore[arg-type]
    assert text.startswith(f"×{150.0 / 149.0:.6f} around their path (+67.1 bps")
    assert "our states of slots 9–12 (their trade may be in it" in text
    assert (
        gap_text(type("R", (), {"hops": (hop, replace(back, our_rate=None)), "slot": 12})()) == ""
    )  # type: ignore[arg-type]


@pytest.mark.slow
async def test_v_shows_the_rivals_in_place_of_the_lower_row_and_back() -> None:
    async with on_live_screen(staged_rivals(), (160, 45)) as (app, pilot):
        screen = app.screen
        assert screen.has_rivals
        cycles = screen.query_one(CyclesPanel)
        assert str(cycles.border_subtitle).startswith("v: rivals · them 10 · us ")
        assert not screen.rivals_shown
        await pilot.press("v")
        assert screen.rivals_shown and isinstance(screen.focused, RivalsTable)
        table = screen.query_one(RivalsTable)
        assert len(table.keys) == 11 and table.keys[0] == rows(app.source)[0].signature
        signers = screen.query_one(SignersTable)
        assert signers.keys[0] == "us" and set(RIVAL_LABELS) <= set(signers.keys)
        await pilot.press("down", "enter")
        assert isinstance(app.screen, RivalDetail)
        assert app.screen.r.signature == table.keys[1]
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("v")  # back: the prices and timings, the cycles focused
        assert not screen.rivals_shown and screen.focused is cycles
        await pilot.press("v", "c")  # ``c`` from the rivals: the charts' row, its chart
        assert not screen.rivals_shown
        assert screen.query_one("#charts").current == "chart"  # type: ignore[attr-defined]


@pytest.mark.slow
async def test_narrow_the_rivals_are_a_tab_and_v_goes_there() -> None:
    async with on_live_screen(staged_rivals(), (80, 24)) as (app, pilot):
        screen = app.screen
        assert screen.narrow
        assert screen.tab_order[:2] == ("prices", "rivals")
        await pilot.press("v")
        assert screen.rivals_shown and isinstance(screen.focused, RivalsTable)
        panel = screen.query_one(RivalsPanel)
        assert panel.compact and not screen.query(SignersTable)
        await pilot.press("enter")
        assert isinstance(app.screen, RivalDetail)
        await pilot.press("escape", "v")
        assert not screen.rivals_shown and isinstance(screen.focused, CyclesPanel)


@pytest.mark.slow
async def test_a_source_without_rivals_has_no_panel_and_no_v() -> None:
    async with on_live_screen(staged_sim(), (160, 45)) as (app, pilot):
        screen = app.screen
        assert not screen.has_rivals
        assert not screen.query(RivalsPanel) and not screen.query("#lower")
        assert "rivals" not in {b.binding.action for b in app.active_bindings.values()}
        await pilot.press("v")
        assert not screen.rivals_shown and app.screen is screen
        assert not screen.query_one(CyclesPanel).border_subtitle


def test_help_names_the_key() -> None:
    assert any(k == "v" and "rivals" in v for k, v in KEYS)

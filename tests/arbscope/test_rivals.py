"""arbscope.rivals: how a rival arbitrage on our pools is set against what we held.

The book's inputs are built by hand here (a classified transaction's fields, our live
cycles with their scores), so each rule is checked on its own: held or not, the lead in
slots, the verdict, the outcome (ours, speed, no-go, unseen), our bid against theirs,
the window's totals and shares, the labels file."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace as NS
from typing import Any

import pytest

from arbscope.rivals import RivalBook, load_labels, their_priority

SOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
P1, P2, P3 = "Pool1" + "1" * 39, "Pool2" + "2" * 39, "Pool3" + "3" * 39
RIVAL = "Rival" + "R" * 39


def score(go: bool, reasons: tuple[str, ...] = (), tip: int = 0, net: int = 100) -> Any:
    return NS(go=go, reasons=list(reasons), tip_lamports=tip, net_profit=net)


def tx(
    pools: tuple[str, ...],
    slot: int,
    kind: str = "arbitrage",
    signer: str = RIVAL,
    tip: int = 10_000,
    cu_limit: int = 200_000,
    cu_price: int = 0,
    profit: int = 5_000,
) -> Any:
    legs = tuple(
        NS(pool=p, venue="whirlpool", amount_in=1_000 + i, amount_out=2_000 + i)
        for i, p in enumerate(pools)
    )
    return NS(
        signature=f"sig{slot}{kind}{signer[:3]}",
        slot=slot,
        index=3,
        signer=signer,
        legs=legs,
        kind=kind,
        base_mint=SOL,
        profit=profit,
        fee=5_000,
        cu_limit=cu_limit,
        cu_price=cu_price,
        tip=tip,
    )


def held(book: RivalBook, pools: tuple[str, ...], slots: range, sc: Any, cu_price: int = 0) -> None:
    for s in slots:
        book.observe(s, {(SOL, pools): (None, sc)}, cu_price)


def test_a_cycle_we_called_go_before_them_is_lost_to_speed() -> None:
    book = RivalBook()
    held(book, (P1, P2), range(10, 15), score(True, tip=1_000))
    r = book.add(tx((P1, P2), 14))
    assert r is not None
    assert (r.held, r.lead, r.verdict, r.outcome, r.traded) == (True, 4, "GO", "speed", False)
    # their bid: 10,000 lamports over 200,000 CU = 50,000 µL/CU; ours 1,000 -> 5,000
    assert r.priority == 50_000 and r.ahead is False
    assert (r.amount_in, r.amount_out, r.profit) == (1_000, 2_001, 5_000)
    assert book.outcomes == {"speed": 1}


def test_our_order_on_it_makes_it_ours_and_a_higher_bid_ahead() -> None:
    book = RivalBook()
    held(book, (P1, P2), range(10, 13), score(True, tip=100_000))
    book.traded((P1, P2), SOL, 12)
    r = book.add(tx((P2, P1), 13))  # the same pools the other way round
    assert r is not None and r.outcome == "ours" and r.traded and r.ahead is True


def test_a_no_go_says_which_check_cost_us() -> None:
    book = RivalBook()
    held(book, (P1, P2, P3), range(20, 22), score(False, ("min_profit", "persistence")))
    r = book.add(tx((P1, P2, P3), 25))
    assert r is not None and r.outcome == "no-go: min_profit" and r.lead == 5
    assert r.ahead is False


def test_a_cycle_we_never_held_is_unseen_and_a_later_one_does_not_count() -> None:
    book = RivalBook()
    held(book, (P1, P2), range(30, 31), score(True))
    r = book.add(tx((P2, P3), 31))
    assert r is not None and (r.held, r.lead, r.outcome) == (False, None, "unseen")
    r = book.add(tx((P1, P2), 29))  # landed before we first held it
    assert r is not None and r.outcome == "unseen"


def test_a_held_run_restarts_after_the_cycle_goes() -> None:
    book = RivalBook()
    held(book, (P1, P2), range(10, 12), score(True))
    book.observe(12, {}, 0)  # gone
    held(book, (P1, P2), range(40, 42), score(False, ("stale",)))
    r = book.add(tx((P1, P2), 41))
    assert r is not None and r.lead == 1 and r.outcome == "no-go: stale"


def test_a_cycle_containing_theirs_is_the_match_when_no_exact_one() -> None:
    book = RivalBook()
    held(book, (P1, P2, P3), range(5, 9), score(True))
    r = book.add(tx((P1, P2), 8))
    assert r is not None and r.held and r.lead == 3


def test_ours_routes_and_failed_attempts_are_counted_apart() -> None:
    me = "Me" + "M" * 42
    book = RivalBook(own=[me])
    assert book.add(tx((P1, P2), 5, signer=me)) is None and book.ours == 1
    assert book.add(tx((P1, P2), 5, kind="route")) is None
    f = book.add(tx((P1, P2), 6, kind="failed_arbitrage"))
    assert f is not None and not f.landed
    assert (book.arbitrages, book.failed, book.seen) == (0, 1, 3)
    assert book.outcomes == {}


def test_totals_shares_and_the_window() -> None:
    book = RivalBook(labels={RIVAL: "fastbot"}, window_slots=100)
    other = "Other" + "O" * 39
    book.add(tx((P1, P2), 10, profit=7))
    book.add(tx((P1, P2), 11, profit=5))
    book.add(tx((P2, P3), 12, signer=other, profit=20, tip=0))
    book.add(tx((P2, P3), 13, signer=other, kind="failed_arbitrage"))
    book.landed(12)
    top = book.totals()
    assert [(t.signer, t.label, t.landed, t.failed) for t in top] == [
        (other, "", 1, 1),
        (RIVAL, "fastbot", 2, 0),
    ]
    assert top[0].profit == {SOL: 20} and top[1].tips == 20_000
    assert book.share() == (3, 1)
    view = book.view()
    assert view.our_share == 0.25 and [r.slot for r in view.latest] == [13, 12, 11, 10]
    book.add(tx((P1, P2), 200, profit=1))  # slots 10-13 leave the window
    book.landed(200)
    assert book.share() == (1, 1)


def test_lead_quantiles_are_nearest_rank() -> None:
    book = RivalBook()
    for lead in (1, 2, 3, 4, 10):
        pools = (f"L{lead}" + "x" * 40, P1)
        held(book, pools, range(100 - lead, 101 - lead), score(True))
        book.add(tx(pools, 100))
    assert book.lead_quantiles() == [(0.1, 1), (0.5, 3), (0.9, 10)]


def test_their_priority_is_the_tip_per_requested_unit_plus_the_price() -> None:
    assert their_priority(tx((P1,), 1, tip=20_000, cu_limit=100_000, cu_price=7)) == 200_007
    assert their_priority(tx((P1,), 1, tip=5, cu_limit=0)) == 5_000_000


def test_the_labels_file(tmp_path: Path) -> None:
    f = tmp_path / "rivals.toml"
    f.write_text(f'{RIVAL} = "fastbot"\n')
    assert load_labels(f) == {RIVAL: "fastbot"}
    f.write_text(f'[labels]\n{RIVAL} = "fastbot"\n')
    assert load_labels(str(f)) == {RIVAL: "fastbot"}
    assert load_labels(None) == {}
    for text, said in (
        (f"{RIVAL} = 3\n", "expected a name"),
        ('short = "x"\n', "not an address"),
        ("= nope", "not TOML"),
    ):
        f.write_text(text)
        with pytest.raises(ValueError, match=said):
            load_labels(f)
    with pytest.raises(ValueError, match="cannot read"):
        load_labels(tmp_path / "absent.toml")

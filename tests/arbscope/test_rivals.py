"""arbscope.rivals: how a rival arbitrage on our pools is set against what we held.

The book's inputs are built by hand here (a classified transaction's fields, our live
cycles with their scores), so each rule is checked on its own: held or not, the lead in
slots, the verdict, the outcome (ours, speed, no-go, unseen), our bid against theirs,
the window's totals and shares, the labels file."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace as NS
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbscope.opportunities import OpportunityBook
from arbscope.rivals import RivalBook, load_labels, their_priority
from storage.recorder import canonical

SOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
P1, P2, P3 = "Pool1" + "1" * 39, "Pool2" + "2" * 39, "Pool3" + "3" * 39
RIVAL = "Rival" + "R" * 39
TIP = "96gYZGLnJYVFmbjzopPSU6QiEV5fGqZNyN9nmNhvrZU5"


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
    # the legs' mints close a cycle from SOL: SOL -> USDC (-> M2 ...) -> SOL
    mints = [SOL, *(USDC if i == 1 else f"M{i}" + "m" * 40 for i in range(1, len(pools))), SOL]
    legs = tuple(
        NS(
            pool=p,
            venue="orca_whirlpool",
            mint_in=mints[i],
            mint_out=mints[i + 1],
            amount_in=1_000 + i,
            amount_out=2_000 + i,
            source="event",
        )
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
        net=profit - 5_000 - tip,
        fee=5_000 + -(-cu_price * cu_limit // 1_000_000),
        base_fee=5_000,
        priority_fee=-(-cu_price * cu_limit // 1_000_000),
        cu_limit=cu_limit,
        cu_price=cu_price,
        tip=tip,
        tip_account=TIP if tip else None,
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


@pytest.mark.parametrize("first", [USDC, SOL])
def test_between_cycles_alike_the_one_we_traded_is_the_match_whatever_the_order(
    first: str,
) -> None:
    """The same pools held from two bases (and the other way round), one of them traded:
    the match is that one, whichever was held first (never a set's order: it differs
    from process to process, and a replay elsewhere must decide the same)."""
    book = RivalBook()
    other = USDC if first == SOL else SOL
    cycles = {(first, (P1, P2)): (None, score(True)), (other, (P2, P1)): (None, score(True))}
    for s in range(10, 13):
        book.observe(s, cycles, 0)
    usdc = next(k for k in cycles if k[0] == USDC)
    book.traded(usdc[1], USDC, 12)
    r = book.add(tx((P1, P2), 12))
    assert r is not None and r.outcome == "ours" and r.our_base == USDC
    # none traded: the first by key (USDC's: "EPjF..." < "So11...")
    book2 = RivalBook()
    for s in range(10, 13):
        book2.observe(s, cycles, 0)
    r2 = book2.add(tx((P1, P2), 12))
    assert r2 is not None and r2.our_base == min(SOL, USDC) and r2.outcome == "speed"


def test_ours_routes_and_failed_attempts_are_counted_apart() -> None:
    me = "Me" + "M" * 42
    book = RivalBook(own=[me])
    assert book.add(tx((P1, P2), 5, signer=me)) is None and book.ours == 1
    assert book.add(tx((P1, P2), 5, kind="route")) is None
    f = book.add(tx((P1, P2), 6, kind="failed_arbitrage"))
    assert f is not None and not f.landed
    assert (book.arbitrages, book.failed, book.seen) == (0, 1, 3)
    assert book.outcomes == {}


def test_a_rival_keeps_its_hops_fees_and_our_side_with_our_state_of_its_pools() -> None:
    book = RivalBook()
    held(book, (P1, P2), range(10, 13), score(False, ("persistence",), net=40), cu_price=3)
    held(book, (P1, P2), range(13, 15), score(True, tip=1_000, net=100), cu_price=3)
    # our graph: P1 SOL/USDC at slot 12, P2 the other way round at slot 14, P3 not in it
    states = {P1: (SOL, USDC, 150.5, 0.0066, 12), P2: (USDC, SOL, 0.0067, 149.0, 14)}
    r = book.add(tx((P1, P2), 14, cu_price=50), states.get)
    assert r is not None
    assert [(h.pool, h.mint_in, h.mint_out, h.amount_in, h.amount_out) for h in r.hops] == [
        (P1, SOL, USDC, 1_000, 2_000),
        (P2, USDC, SOL, 1_001, 2_001),
    ]
    assert [(h.venue, h.source, h.our_rate, h.state_slot) for h in r.hops] == [
        ("orca_whirlpool", "event", 150.5, 12),  # SOL -> USDC: the pool's a -> b rate
        ("orca_whirlpool", "event", 0.0067, 14),  # USDC -> SOL: its a -> b too (a is USDC)
    ]
    # their fee split and budget; our run of holding it began at 10, GO from 13
    assert (r.base_fee, r.priority_fee, r.cu_limit, r.cu_price) == (5_000, 10, 200_000, 50)
    assert (r.fee, r.tip, r.tip_account, r.net) == (5_010, 10_000, TIP, -10_000)
    assert (r.since, r.first_go, r.lead, r.outcome) == (10, 13, 4, "speed")
    # our bid: 1,000 lamports over 200,000 CU = 5,000 µL/CU, + the CU price 3
    assert (r.our_priority, r.our_net, r.our_base, tuple(r.our_pools)) == (
        5_003,
        100,
        SOL,
        (P1, P2),
    )
    p = r.payload()  # what the journal keeps (and the digest hashes): plain JSON
    assert json.loads(canonical(p)) == p
    assert p["hops"][0] == {
        "venue": "orca_whirlpool",
        "pool": P1,
        "mint_in": SOL,
        "mint_out": USDC,
        "amount_in": 1_000,
        "amount_out": 2_000,
        "source": "event",
        "our_rate": 150.5,
        "state_slot": 12,
    }
    assert (p["since"], p["our_priority"], p["our_pools"]) == (10, 5_003, [P1, P2])


def test_our_state_is_none_where_the_graph_holds_no_rate_for_the_hop() -> None:
    book = RivalBook()
    states = {
        P1: (SOL, "Other" + "o" * 39, 1.0, 1.0, 5),  # not the hop's mints
        P2: ("M2" + "m" * 40, USDC, float("nan"), float("inf"), 5),  # no liquidity: no rate
    }
    r = book.add(tx((P1, P2, P3), 9), states.get)
    assert r is not None and r.outcome == "unseen"
    assert [(h.our_rate, h.state_slot) for h in r.hops] == [(None, None), (None, 5), (None, None)]
    assert (r.since, r.first_go, r.our_priority, r.our_net, r.our_base) == (
        None,
        None,
        None,
        None,
        "",
    )
    assert book.add(tx((P1, P2), 10)) is not None  # no graph given: no state either
    assert book.view().venue_labels["orca_whirlpool"] == "wp"


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


def test_the_live_wallet_is_ours_and_journaled_with_the_config(tmp_path: Path) -> None:
    from arbscope.execution.keys import write_keypair
    from arbscope.execution.live import LiveConfig
    from arbscope.session import FeedSession
    from arbscope.sources.feeds import NoFeeds

    wallet = write_keypair(tmp_path / "live.json")
    s = FeedSession(feeds=NoFeeds(), live=LiveConfig(keypair=str(wallet.path)))
    assert s.rivals.own == {wallet.pubkey}
    assert s.life.config()["rival_own"] == [wallet.pubkey]
    assert s.rivals.add(tx((P1, P2), 5, signer=wallet.pubkey)) is None
    # a keypair that cannot be read: nobody is ours yet (arming says why)
    bad = FeedSession(feeds=NoFeeds(), live=LiveConfig(keypair=str(tmp_path / "absent.json")))
    assert bad.rivals.own == set() and bad.life.config()["rival_own"] == []


def _steps(last: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    """Up to 25 calls: what each of five cycles does (gone, same, new, scored again), the
    CU price, whether the new and rescored ones are GO, and ``last``."""
    return st.lists(
        st.tuples(
            st.lists(st.sampled_from(["gone", "same", "new", "again"]), min_size=5, max_size=5),
            st.sampled_from([0, 7]),
            st.booleans(),
            last,
        ),
        max_size=25,
    )


def _observed_as_before(
    held: dict[Any, dict[str, Any]], was: set[Any], slot: int, live: dict[Any, Any], price: int
) -> set[Any]:
    """``RivalBook.observe`` as it was before it skipped unchanged cycles (every live
    cycle looked at, every call): the reference. ``held``: key -> its fields."""
    for key, (_opp, sc) in live.items():
        h = held.get(key)
        verdict = "GO" if sc.go else (sc.reasons[0] if sc.reasons else "no-go")
        priority = sc.tip_lamports * 1_000_000 // 200_000 + price
        if h is None:
            h = held[key] = {"since": slot, "live": True, "first_go": None}
        elif not h["live"]:
            h.update(since=slot, first_go=None, live=True)
        h.update(last=slot, verdict=verdict, priority=priority, net_profit=int(sc.net_profit))
        if sc.go and h["first_go"] is None:
            h["first_go"] = slot
    for key in was - set(live):
        held[key]["live"] = False
    return set(live)


@given(_steps(st.integers(0, 3)))
def test_observe_skips_only_what_did_not_change(
    steps: list[tuple[list[str], int, bool, int]],
) -> None:
    """What the book holds of every cycle is what looking at each of them every call
    gives (the reference), a gone cycle's last live slot and CU price included: the live
    ones share the CU price and read their score from the entries the call saw, and only
    the cycles that appeared, went or have not been GO yet in their run are looked up."""
    book = RivalBook()
    ref: dict[Any, dict[str, Any]] = {}
    was: set[Any] = set()
    entries: dict[Any, Any] = {}
    slot = 10
    for what, price, go, tip in steps:
        slot += 1
        live = {}
        for i, w in enumerate(what):
            key = (SOL, (f"P{i}", f"Q{i}"))
            if w == "gone":
                continue
            if w in ("new", "again") or key not in entries:
                reasons = () if go else ("persistence",)
                entries[key] = (None, score(go, reasons, tip=tip * 10_000, net=slot * 10 + i))
            live[key] = entries[key]
        book.observe(slot, live, price)
        was = _observed_as_before(ref, was, slot, live, price)
        got = {
            k: {
                "since": h.since,
                "live": h.live,
                "first_go": h.first_go,
                "verdict": h.verdict,
                "priority": h.priority,
                "net_profit": h.net_profit,
                **({} if h.live else {"last": h.last}),
            }
            for k, h in book.held().items()
        }
        want = {
            k: {f: v for f, v in h.items() if f != "last" or not h["live"]} for k, h in ref.items()
        }
        assert got == want


@given(_steps(st.sets(st.integers(0, 4))), st.lists(st.integers(0, 3), min_size=1))
def test_observe_told_what_came_and_went_holds_what_comparing_all_holds(
    steps: list[tuple[list[str], int, bool, set[int]]], releases: list[int]
) -> None:
    """Told only the keys that came or went since its last call (``moved``, as the
    opportunity book logs them: a superset, with keys that went and came back between
    two calls), the book holds what comparing every live cycle gives; told also the
    opportunity book's GO keys, it finds the same first GOs. The log and the GO keys are
    the opportunity book's own: its ``put`` and ``drop`` (``take_moved``, ``go``).
    A fourth book, read only at the end, makes what came a few at a time between calls
    (``release``) and is told of trades meanwhile: it ends holding the same."""
    whole, told, fast, lazy = RivalBook(), RivalBook(), RivalBook(), RivalBook()
    opps = OpportunityBook()
    slot = 10
    for what, price, go, flicker in steps:
        slot += 1
        for i, w in enumerate(what):
            key = (SOL, (f"P{i}", f"Q{i}"))
            sc = score(go, () if go else ("persistence",), net=slot * 10 + i)
            if i in flicker:  # gone and back (or back and gone) before the call
                opps.drop(key) if key in opps.live else opps.put(key, None, sc)  # type: ignore[arg-type]
            if w == "gone":
                opps.drop(key)
            elif w in ("new", "again") or key not in opps.live:
                opps.put(key, None, sc)  # type: ignore[arg-type]
        assert opps.go == {k for k, (_o, sc) in opps.live.items() if sc.go}
        moved = opps.take_moved()
        whole.observe(slot, opps.live, price)
        told.observe(slot, opps.live, price, moved)
        fast.observe(slot, opps.live, price, moved, opps.go)
        lazy.observe(slot, opps.live, price, moved, opps.go)
        lazy.release(releases[slot % len(releases)])
        for i in sorted(flicker)[:1]:  # one of ours decided on it
            for book in (whole, told, fast, lazy):
                book.traded([f"P{i}", f"Q{i}"], SOL, slot)
        held = {k: _fields(h) for k, h in whole.held().items()}
        assert told._not_go == whole._not_go == fast._not_go == lazy._not_go
        assert {k: _fields(h) for k, h in told.held().items()} == held
        assert {k: _fields(h) for k, h in fast.held().items()} == held
    assert {k: _fields(h) for k, h in lazy.held().items()} == {
        k: _fields(h) for k, h in whole.held().items()
    }


def _fields(h: Any) -> tuple[Any, ...]:
    return (h.since, h.live, h.last, h.first_go, h.traded, h.verdict, h.priority, h.net_profit)


def test_an_engine_built_again_sets_every_cycle_the_rivals_held_against_the_new_book() -> None:
    """The session tells the rivals' book only what came and went in the opportunity
    book it told last; an engine built again (a new evaluator, a new book) is compared
    whole, so what the old one held live is gone, not live for ever."""
    from arbscope.session import FeedSession
    from arbscope.sources.feeds import NoFeeds

    s = FeedSession(feeds=NoFeeds())
    keys = [(SOL, (f"P{i}", f"Q{i}")) for i in range(3)]
    for k in keys:
        s.ev.book.put(k, None, score(True))  # type: ignore[arg-type]
    s.slot = 10
    s.observed.turned([])
    s.slot = 11
    s.ev.book.drop(keys[0])
    s.observed.turned([])
    assert [s.rivals.held()[k].live for k in keys] == [False, True, True]
    s.setup_engine()  # a new book: nothing live in it
    s.ev.book.put(keys[2], None, score(True))  # type: ignore[arg-type]
    s.slot = 12
    s.observed.turned([])
    assert [s.rivals.held()[k].live for k in keys] == [False, False, True]


class _Opp:
    """An opportunity the test can watch being freed (a weak reference to it)."""


def test_what_the_report_let_go_is_freed_a_slice_at_a_time() -> None:
    """Each observe keeps the live entries it saw and lets go of the last call's: the
    entries scored again or dropped since (the last reference to their opportunities)
    are freed by ``release``, at most its slice a call, never all in the report's step,
    after the gone cycles' scores are read into what the book keeps of them; and past
    two calls' worth the oldest goes whole, so nothing is held without bound."""
    import weakref

    book = RivalBook()
    keys = [(SOL, (f"P{i}", f"Q{i}")) for i in range(10)]
    first = [_Opp() for _ in keys]
    book.observe(1, {k: (o, score(False)) for k, o in zip(keys, first, strict=True)}, 0)
    alive = [weakref.ref(o) for o in first]
    del first
    book.observe(2, {k: (_Opp(), score(False)) for k in keys[:4]}, 0)  # six gone, all new
    assert all(r() is not None for r in alive)  # the report let go of them: none freed yet
    gone = [book.held()[k] for k in keys[4:]]
    assert all(h.said is not None and type(h.said).__name__ != "_Said" for h in gone)
    assert book.release(6) == 10  # first the six gone cycles' scores read, nothing freed
    assert all(type(h.said).__name__ == "_Said" for h in gone)
    assert [h.verdict for h in gone] == ["no-go"] * 6  # (score(False): no reasons)
    assert all(r() is not None for r in alive)
    assert book.release(3) == 7
    assert sum(r() is None for r in alive) == 3
    assert book.release() == 0
    assert all(r() is None for r in alive)
    # unreleased, at most DYING_MOST copies wait: the oldest is freed whole
    held = [_Opp() for _ in range(3)]
    for slot, o in enumerate(held, start=3):
        book.observe(slot, {keys[0]: (o, score(False))}, 0)
    refs = [weakref.ref(o) for o in held]
    del held, o
    book.observe(6, {}, 0)
    assert [r() is None for r in refs] == [True, False, False]

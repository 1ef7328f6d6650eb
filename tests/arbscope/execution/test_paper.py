"""Paper fills against the exact curves, fees counted once, landing a slot (or more)
after the decision against the pools as they are then (slippage), the live executor's hop
rules, races in the landing slot decided by the observed bids, the per-trade and balance
caps, and the kill switch."""

from __future__ import annotations

import types
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbscope.execution.paper import BASE_FEE_PER_SIGNATURE, PaperBroker
from engine_rs.records import FeeContext, ScorePolicy

A = "So11111111111111111111111111111111111111112"
B = "EPjFWdd5AufqSSqeM2qN1xyybapC8G4wEGGkZwyTDt1v"
P1 = "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2"
P2 = "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"
FEES = FeeContext(cu_limit=200_000, cu_price_micro_lamports=10_000)


def market(eng: types.ModuleType, r2: tuple[int, int] = (1_000_000_000, 2_100_000_000)) -> object:
    """Two CP pools on A/B priced 2.0 and 2.1 B per A: buy B cheap in P2... a 2-hop cycle."""
    g = eng.PoolGraph(base_mints=[A], max_hops=3)
    g.upsert_cpmm(P1, A, B, 1_000_000_000, 2_000_000_000, 25, 10_000, 1)
    g.upsert_cpmm(P2, A, B, r2[0], r2[1], 25, 10_000, 1)
    return g


def hand(eng: types.ModuleType, x: int, r2: tuple[int, int]) -> int:
    """A -> B in P2 (B dearer there), B -> A in P1, by the CP formula (spec: Raydium)."""
    b = eng.cpmm_amount_out(x, r2[0], r2[1], 25, 10_000)
    return int(eng.cpmm_amount_out(b, 2_000_000_000, 1_000_000_000, 25, 10_000))


def decided(eng: types.ModuleType, g: object, broker: PaperBroker) -> tuple[object, object]:
    (o,) = [o for o in g.cycles(A) if o.amount_in > 0]  # type: ignore[attr-defined]
    sc = eng.score(o, FEES, ScorePolicy(min_profit=1, min_persistence=1, max_staleness_slots=10))
    assert broker.decide(o, sc, FEES, 1, (1, 1)) == ""
    return o, sc


def test_a_fill_is_the_hand_computation_through_the_exact_curves(eng: types.ModuleType) -> None:
    g = market(eng)
    broker = PaperBroker(base=A, balance=10**12)
    o, sc = decided(eng, g, broker)
    assert o.pools == [P2, P1]
    assert broker.on_tick(g, 2) == []  # it lands in slot 2: resolved once slot 2 is seen
    (f,) = broker.on_tick(g, 3)
    assert f.slot_landed == 2 and not f.raced
    want = hand(eng, o.amount_in, (1_000_000_000, 2_100_000_000))
    assert f.ok and f.amount_out == want == o.amount_out
    fee = BASE_FEE_PER_SIGNATURE + 200_000 * 10_000 // 1_000_000
    assert f.fee_lamports == fee == sc.total_fee_lamports
    assert f.pnl == want - o.amount_in - sc.fees_in_base


def test_a_pool_moved_before_landing_fails_the_hop_that_spends_its_quote(
    eng: types.ModuleType,
) -> None:
    """Hop 2 spends what hop 1 was quoted to give (the live executor's rule): a pool of
    hop 1 moved before the landing slot leaves hop 2 short, whatever the slippage cap."""
    g = market(eng)
    broker = PaperBroker(base=A, balance=10**12, latency_slots=(0.0, 1.0), max_slippage_bps=10_000)
    _o, sc = decided(eng, g, broker)  # lands in slot 3 (two slots: the likelier)
    assert broker.on_tick(g, 2) == []  # not yet: the transaction is in flight
    moved = (1_000_000_000, 2_060_000_000)  # someone else took most of the edge in slot 2
    g.upsert_cpmm(P2, A, B, *moved, 25, 10_000, 2)  # type: ignore[attr-defined]
    assert broker.on_tick(g, 3) == []
    (f,) = broker.on_tick(g, 4)
    assert not f.ok and f.reason.startswith("pool moved") and f.slot_landed == 3
    assert f.pnl == -sc.fees_in_base
    assert dict(broker.portfolio().reasons) == {"pool moved": 1}


def test_the_last_hop_takes_slippage_within_the_cap(eng: types.ModuleType) -> None:
    """The last hop may give less than its quote, down to the cap: the fill is what the
    pools give at landing, and its slippage against the quote is kept."""
    g = market(eng)
    broker = PaperBroker(base=A, balance=10**12, max_slippage_bps=100)
    o, _sc = decided(eng, g, broker)
    p1 = (999_700_000, 2_000_000_000)  # the last hop's pool a little worse, before landing
    g.upsert_cpmm(P1, A, B, *p1, 25, 10_000, 1)  # type: ignore[attr-defined]
    (f,) = broker.on_tick(g, 3)
    b_mid = o.hop_amounts[1]
    want = eng.cpmm_amount_out(b_mid, 2_000_000_000, 999_700_000, 25, 10_000)
    assert f.ok and f.amount_out == want < o.amount_out
    assert f.slippage_bps == (o.amount_out - want) * 10_000 / o.amount_out > 0
    assert broker.portfolio().slippage_bps == f.slippage_bps


@pytest.mark.parametrize("priority_vs_others,ahead", [(10, True), (0.1, False)])
def test_a_race_in_the_landing_slot_goes_to_the_likelier_side(
    eng: types.ModuleType, priority_vs_others: float, ahead: bool
) -> None:
    """A pool of the order changed in its landing slot: it met the pools as before (ahead)
    when its bid beats most observed ones, else as after (behind: outbid)."""
    g = market(eng)
    fees = FeeContext(cu_limit=200_000, cu_price_micro_lamports=10_000)
    broker = PaperBroker(base=A, balance=10**12)
    broker.fee_samples.extend(int(10_000 / priority_vs_others) + k for k in range(-5, 6))
    (o,) = [o for o in g.cycles(A) if o.amount_in > 0]  # type: ignore[attr-defined]
    sc = eng.score(o, fees, ScorePolicy(min_profit=1, min_persistence=1, max_staleness_slots=10))
    assert broker.decide(o, sc, fees, 1, (1, 1)) == ""
    assert broker.on_tick(g, 1) == []  # seen before its landing slot
    g.upsert_cpmm(P2, A, B, 1_000_000_000, 2_000_000_000, 25, 10_000, 2)  # type: ignore[attr-defined]
    (f,) = broker.on_tick(g, 3)  # the gap closed in the landing slot
    assert f.raced and (f.p_ahead > 0.5) == ahead
    assert f.ok == ahead
    if not ahead:
        assert f.reason.startswith("outbid") and dict(broker.portfolio().reasons) == {"outbid": 1}


def test_an_order_ahead_meets_the_state_it_was_decided_on(eng: types.ModuleType) -> None:
    """The session may see nothing between the decision and the landing slot's changes
    (one tick a slot): ahead, the order meets the pools it was decided on."""
    g = market(eng)
    broker = PaperBroker(base=A, balance=10**12)
    broker.fee_samples.extend([1] * 10)  # every other bid below its own: ahead
    o, _sc = decided(eng, g, broker)
    g.upsert_cpmm(P2, A, B, 1_000_000_000, 2_000_000_000, 25, 10_000, 2)  # type: ignore[attr-defined]
    assert broker.on_tick(g, 2) == []  # first seen with the landing slot's change
    (f,) = broker.on_tick(g, 3)
    assert f.raced and f.p_ahead == 1.0 and f.ok and f.amount_out == o.amount_out


@pytest.mark.parametrize("moved,ok", [(-1, False), (+1, True)])
def test_an_exact_hop_gets_its_quote_or_fails(eng: types.ModuleType, moved: int, ok: bool) -> None:
    """An exact hop (an order book's buy, fill-or-kill on its quote's lots) fails a pool a
    little worse, within the slippage cap; a better one gives it its quote, not more."""
    g = market(eng)
    broker = PaperBroker(
        base=A,
        balance=10**12,
        max_slippage_bps=100,
        exact_hops=lambda opp: [False] * (len(opp.pools) - 1) + [True],
    )
    o, _sc = decided(eng, g, broker)
    p1 = (1_000_000_000 + moved * 300_000, 2_000_000_000)  # the last hop's pool
    g.upsert_cpmm(P1, A, B, *p1, 25, 10_000, 1)  # type: ignore[attr-defined]
    (f,) = broker.on_tick(g, 3)
    assert f.ok == ok
    if ok:
        assert f.amount_out == o.amount_out and f.slippage_bps == 0
    else:
        assert f.reason.startswith("slippage: hop 2")
        # the same move without the exact hop is within the cap
        free = PaperBroker(base=A, balance=10**12, max_slippage_bps=100)
        g2 = market(eng)
        decided(eng, g2, free)
        g2.upsert_cpmm(P1, A, B, *p1, 25, 10_000, 1)  # type: ignore[attr-defined]
        (f2,) = free.on_tick(g2, 3)
        assert f2.ok and f2.amount_out < o.amount_out


def test_tip_floor_odds_and_the_live_latency(eng: types.ModuleType) -> None:
    """A bundle's odds come from the engines' landed tips (per compute unit, the others
    taken to ask for 200,000); the latency follows the live orders' measured one."""
    b = PaperBroker(base=A, balance=10**12, tip_lamports=10_000)
    b.tip_floor = (1_000, 2_000, 5_000, 20_000, 50_000)
    # a tip of 10,000 over 200,000 CU is 50,000 micro-lamports per CU: between p75 and p95
    assert 0.75 < b.p_ahead(50_000) < 0.95
    assert b.p_ahead(1) < 0.25 and b.p_ahead(10**9) == 1.0
    for slots in (1, 1, 2, 1, 3):
        b.observe_landing(slots)
    assert b.latency_slots == (0.6, 0.2, 0.2)


def test_a_plain_transaction_races_the_landed_bundles_too() -> None:
    """A plain transaction (no tip) is ahead only as often as it is ahead of both the
    plain transactions (the pools' recent compute-unit prices) and the bundles (their
    landed tips per compute unit): the leader orders them by one priority."""
    b = PaperBroker(base=A, balance=10**12)
    b.fee_samples.extend([1_000, 2_000, 3_000, 4_000])
    assert b.p_ahead(3_500) == 0.75  # no tip floor read: the plain ones alone
    b.tip_floor = (1_000, 2_000, 5_000, 20_000, 50_000)  # 5,000 .. 250,000 per CU
    assert b.p_ahead(3_500) < 0.25  # behind most bundles, however cheap the others
    assert b.p_ahead(10**9) == 1.0


def test_a_decision_late_in_its_slot_lands_a_slot_later_and_meets_that_slot(
    eng: types.ModuleType,
) -> None:
    """The slot clock: a decision whose transaction, sent the live orders' median
    decision-to-send time after it, leaves once the next slot has begun lands a slot
    later — so a competitor's trade in that next slot is a pool that moved before it
    landed, not a race it may win."""
    ms = 1_000_000
    b = PaperBroker(base=A, balance=10**12)
    b.slot_clock = (1, 1_000 * ms, 400 * ms)  # slot 1 began at t = 1 s; slots of 400 ms
    assert b.late_slots(1, 1_390 * ms) == 0  # no send time measured yet: not late
    for send in (10 * ms, 20 * ms, 15 * ms):
        b.observe_landing(1, send)
    assert b.send_ns == 15 * ms and b.latency_slots == (1.0,)
    assert b.late_slots(1, 1_380 * ms) == 0  # sent at 395 ms: in time
    assert b.late_slots(1, 1_390 * ms) == 1  # sent at 405 ms: the next slot has begun
    assert b.late_slots(2, 1_390 * ms) == 0  # another slot than the clock's: unknown
    assert b.late_slots(1, 0) == 0

    g = market(eng)
    (o,) = [o for o in g.cycles(A) if o.amount_in > 0]  # type: ignore[attr-defined]
    sc = eng.score(o, FEES, ScorePolicy(min_profit=1, min_persistence=1, max_staleness_slots=10))
    assert b.decide(o, sc, FEES, 1, (1, 1), now_ns=1_390 * ms) == ""
    assert b.pending[0].land_slot == 3
    # slot 2: someone trades P2 back towards P1's price (the gap closes)
    g.upsert_cpmm(P2, A, B, 1_000_000_000, 2_010_000_000, 25, 10_000, 2)  # type: ignore[attr-defined]
    assert b.on_tick(g, 2) == [] and b.on_tick(g, 3) == []
    (f,) = b.on_tick(g, 4)
    assert f.slot_landed == 3 and not f.raced
    assert not f.ok and f.reason.startswith("slippage")  # not "outbid": it was no race

    # decided early in its slot, the same order lands in slot 2: the move is a race
    early = PaperBroker(base=A, balance=10**12)
    early.slot_clock = b.slot_clock
    early.observe_landing(1, 15 * ms)
    g2 = market(eng)
    assert early.decide(o, sc, FEES, 1, (1, 1), now_ns=1_100 * ms) == ""
    assert early.pending[0].land_slot == 2
    g2.upsert_cpmm(P2, A, B, 1_000_000_000, 2_010_000_000, 25, 10_000, 2)  # type: ignore[attr-defined]
    assert early.on_tick(g2, 2) == []
    (f2,) = early.on_tick(g2, 3)
    assert f2.raced and f2.ok  # nobody bid against it: ahead of the move (p_ahead 1)


def test_slippage_over_the_limit_fails_and_still_pays_the_fees(eng: types.ModuleType) -> None:
    g = market(eng)
    broker = PaperBroker(base=A, balance=10**12, max_slippage_bps=5)
    _o, sc = decided(eng, g, broker)
    g.upsert_cpmm(P2, A, B, 1_000_000_000, 1_990_000_000, 25, 10_000, 1)  # type: ignore[attr-defined]
    (f,) = broker.on_tick(g, 3)
    assert not f.ok and f.reason.startswith("slippage") and f.amount_out == 0
    assert f.pnl == -sc.fees_in_base
    pf = broker.portfolio()
    assert pf.balances[A] == 10**12  # nothing swapped
    assert pf.lamports == 10_000_000_000 - f.fee_lamports and pf.failed == 1


def test_fees_are_counted_once(eng: types.ModuleType) -> None:
    """Balances, lamports, PnL and equity tie out after several fills; counting a fee
    twice (in the balance and in the PnL) would break the identity."""
    broker = PaperBroker(base=A, balance=10**12)
    g = market(eng)
    fills = []
    for i in range(4):
        g.upsert_cpmm(P2, A, B, 1_000_000_000, 2_100_000_000 + i * 10_000_000, 25, 10_000, 10 + i)  # type: ignore[attr-defined]
        (o,) = [o for o in g.cycles(A) if o.amount_in > 0]  # type: ignore[attr-defined]
        sc = eng.score(
            o, FEES, ScorePolicy(min_profit=1, min_persistence=1, max_staleness_slots=99)
        )
        assert broker.decide(o, sc, FEES, 10 + i, (10 + i, 1)) == ""
        fills += broker.on_tick(g, 12 + i)
    pf = broker.portfolio()
    swapped = sum(f.amount_out - f.amount_in for f in fills)
    assert pf.balances[A] == 10**12 + swapped
    assert pf.lamports == 10_000_000_000 - sum(f.fee_lamports for f in fills)
    assert pf.fees == sum(f.fees_in_base for f in fills)
    assert pf.pnl == swapped - pf.fees == sum(f.pnl for f in fills)
    assert pf.equity[-1] == 10**12 + pf.pnl and len(pf.equity) == 5


def test_caps_dedup_and_kill_switch(eng: types.ModuleType) -> None:
    g = market(eng)
    (o,) = [o for o in g.cycles(A) if o.amount_in > 0]  # type: ignore[attr-defined]
    sc = eng.score(o, FEES, ScorePolicy(min_profit=1, min_persistence=1, max_staleness_slots=9))
    assert "per-trade cap" in PaperBroker(A, 10**12, max_trade=o.amount_in - 1).decide(
        o, sc, FEES, 1, (1, 1)
    )
    assert "balance" in PaperBroker(A, o.amount_in - 1).decide(o, sc, FEES, 1, (1, 1))
    assert "lamports" in PaperBroker(A, 10**12, lamports=10).decide(o, sc, FEES, 1, (1, 1))
    assert "not a" in PaperBroker(B, 10**12).decide(o, sc, FEES, 1, (1, 1))
    b = PaperBroker(A, 10**12)
    assert b.decide(o, sc, FEES, 1, (1, 1)) == ""
    assert b.decide(o, sc, FEES, 1, (1, 1)) == "already pending"
    assert b.cancel_all() == 1 and b.on_tick(g, 3) == []
    assert b.decide(o, sc, FEES, 2, (1, 1)) == "traded in this pool state"  # auto
    assert b.decide(o, sc, FEES, 2, (1, 1), trigger="manual") == ""  # the operator may


@pytest.mark.parametrize("seed", [3, 7])
def test_the_demo_market_trades_on_paper_and_ties_out(seed: int) -> None:
    from tests.support.staging import staged_sim

    m = staged_sim(seed=seed, ticks=60)
    pf = m.snapshot.portfolio
    assert pf is not None and pf.fills > 0
    assert pf.pnl == sum(f.pnl for f in m.broker.fills) if pf.fills <= 50 else True
    assert pf.equity[-1] == 10**12 + pf.pnl


def test_paper_refuses_a_cycle_live_could_not_send_in_one_transaction(
    eng: types.ModuleType,
) -> None:
    """The session's size check (the pools' programs known from the feed): a cycle whose
    transaction would pass the 1,232-byte limit even through the lookup tables live keeps
    is refused on paper as live refuses it; through the tables, cycles of up to 5 hops of
    the venues with the most accounts fit."""
    from arbscope.market import Evaluator
    from arbscope.timing import KernelTimer
    from feeds.wire.txsize import PACKET_DATA_SIZE, swap_tx_size

    g = market(eng)
    (o,) = [o for o in g.cycles(A) if o.amount_in > 0]  # type: ignore[attr-defined]
    policy = ScorePolicy(min_profit=1, min_persistence=1, max_staleness_slots=10)
    sc = eng.score(o, FEES, policy)
    ev = Evaluator(
        eng,
        KernelTimer(eng, None),
        {eng.BACKEND: g},
        FEES,
        policy,
        pool_kinds={P1: "cpmm", P2: "cpmm"},
    )
    assert ev.sendable(o) == "" and swap_tx_size(["cpmm", "cpmm"], o.tokens) <= PACKET_DATA_SIZE
    assert ev.broker is not None and ev.broker.sendable == ev.sendable  # paper asks the same
    big = types.SimpleNamespace(pools=["w1", "c1", "w2"], tokens=[A, B, "C", A])
    ev.pool_kinds.update(w1="whirlpool", c1="cpmm", w2="whirlpool")
    # too big as is, it fits through the lookup tables the live executor keeps
    size = swap_tx_size(["whirlpool", "cpmm", "whirlpool"], big.tokens)
    through = swap_tx_size(["whirlpool", "cpmm", "whirlpool"], big.tokens, tables=True)
    assert through <= PACKET_DATA_SIZE < size and ev.sendable(big) == ""
    # a 5-hop cycle of the venues with the most accounts (an order book: 16) fits too
    books = types.SimpleNamespace(
        pools=["b1", "b2", "b3", "b4", "b5"], tokens=[A, B, "C", "D", "E", A]
    )
    ev.pool_kinds.update(b1="openbook", b2="pumpswap", b3="dlmm", b4="clmm", b5="openbook")
    assert ev.sendable(books) == ""
    why = "one transaction would be 1,498 bytes even through address lookup tables"
    broker = PaperBroker(base=A, balance=10**12, sendable=lambda opp: why)
    assert broker.decide(o, sc, FEES, 1, (1, 1)) == why and not broker.pending


def test_the_sendable_memo_keeps_its_newest_answers_within_its_bound(
    eng: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At its bound the memo drops its oldest quarter (cleared whole at 4,096, it missed
    every time at 3,000 pools, whose ~6,000 go cycles are asked every tick); every answer
    is the computed one, before and after an eviction."""
    import arbscope.sendable as sendable_mod
    from arbscope.market import Evaluator
    from arbscope.sendable import TxFit
    from arbscope.timing import KernelTimer

    monkeypatch.setattr(sendable_mod, "SENDABLE_MEMO", 16)
    g = market(eng)
    ev = Evaluator(eng, KernelTimer(eng, None), {eng.BACKEND: g}, FEES, ScorePolicy())
    kinds = ["whirlpool", "cpmm", "openbook", "dlmm", "clmm", "pumpswap"]
    opps = []
    for i in range(40):  # 40 different cycles: 2 to 5 hops, and 16 of order books (too many)
        n = 2 + i % 4 if i % 3 else 16
        pools = [f"p{i}-{h}" for h in range(n)]
        ev.pool_kinds.update(
            {p: "openbook" if n == 16 else kinds[(i + h) % len(kinds)] for h, p in enumerate(pools)}
        )
        opps.append(
            types.SimpleNamespace(pools=pools, tokens=[A, *[f"T{i}{h}" for h in range(1, n)], A])
        )
    want = [TxFit.fits(*_fits_args(ev, o)) for o in opps]
    assert len(set(want)) > 1  # some fit, some do not
    for _ in range(2):  # twice: the second pass asks what was evicted
        assert [ev.sendable(o) for o in opps] == want
        assert len(ev.fit.memo) <= 16
    newest = list(ev.fit.memo)
    assert ev.sendable(opps[-1]) == want[-1] and list(ev.fit.memo) == newest  # a hit


def _fits_args(ev: Any, o: Any) -> tuple[list[str], list[str], bool, list[str]]:
    tokens = list(o.tokens)
    return (
        [ev.pool_kinds[p] for p in o.pools],
        tokens,
        bool(ev.fees.tip_lamports),
        ev.fit.programs(tokens),
    )


@given(
    st.lists(st.integers(0, 40), max_size=160),
    st.integers(-5, 45),
    st.sampled_from([(), (1_000, 2_000, 5_000, 20_000, 50_000)]),
)
def test_p_ahead_counts_the_samples_below_and_half_the_equal_ones(
    samples: list[int], priority: int, tips: tuple[int, ...]
) -> None:
    """The plain transactions' share is the fee samples below the priority plus half the
    equal ones, over all of them (counted here one by one), the lower of it and the
    bundles' when there is a tip floor."""
    b = PaperBroker(base=A, balance=10**12)
    b.fee_samples.extend(samples)
    b.tip_floor = tips
    kept = list(b.fee_samples)  # (the last 150)
    shares = []
    if tips:
        shares.append(_tips_alone(tips, priority))  # the landed bundles' share
    if kept:
        below = sum(1 for x in kept if x < priority) + 0.5 * sum(1 for x in kept if x == priority)
        shares.append(below / len(kept))
    assert b.p_ahead(priority) == (min(shares) if shares else 1.0)


def _tips_alone(tips: tuple[int, ...], priority: int) -> float:
    b = PaperBroker(base=A, balance=10**12)
    b.tip_floor = tips
    return b.p_ahead(priority)


class _Pools:
    """A graph of pools that never move (slot 1) and quote every hop its input back."""

    def pool_rate(self, pool: str) -> tuple[int, ...]:
        return (0, 0, 0, 0, 1)

    def quote(self, pools: list[str], token: str, amount: int) -> list[int]:
        return [amount, amount]


def _cycle(i: int, base: str = A) -> tuple[object, object]:
    pools = [f"P{i}", f"Q{i % 3}"]
    opp = types.SimpleNamespace(
        base_mint=base,
        pools=pools,
        tokens=[base, B, base],
        amount_in=10 + i,
        amount_out=10 + i,
        hop_amounts=[10 + i, 10 + i, 10 + i],
    )
    score = types.SimpleNamespace(reasons=[], total_fee_lamports=5_000, fees_in_base=1)
    return opp, score


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("decide"), st.integers(0, 5), st.booleans()),
            st.tuples(st.just("tick"), st.integers(0, 8)),
            st.tuples(st.just("link"), st.integers(0, 8)),
            st.tuples(st.just("cancel")),
        ),
        max_size=30,
    )
)
def test_an_order_is_pending_while_it_is_in_the_pending_list(ops: list[tuple]) -> None:
    """``is_pending`` (what ``decide`` refuses a cycle for) says whether the cycle has an
    order in ``pending``, and ``busy`` whether a pool of a cycle is in one, through
    decisions, ticks that fill some, links and the kill switch; a second order on a
    pending cycle is refused, and so is one through a pool of a pending order (cycles
    ``i`` and ``i + 3`` share a pool): no two pending orders share a pool. ``free`` (what
    an automatic decision leaves out unasked) is all three: of its base, neither."""
    b = PaperBroker(base=A, balance=10**12)
    g = _Pools()
    slot = 1
    for op in ops:
        if op[0] == "decide":
            opp, score = _cycle(op[1], A if op[2] else B)
            key = (opp.base_mint, tuple(opp.pools))
            was = any(o.key == key for o in b.pending)
            holder = [o.seq for o in b.pending if set(o.opp.pools) & set(opp.pools)]
            why = b.decide(opp, score, FEES, slot, (slot, slot), trigger="manual")
            assert (why == "already pending") == (was and opp.base_mint == A)
            if opp.base_mint == A and not was:
                want = f"a pool of this cycle is in pending order #{holder[0]}" if holder else ""
                assert why == want
        elif op[0] == "tick":
            slot += op[1]
            b.on_tick(g, slot)
        elif op[0] == "link":
            b.link(op[1], 100 + op[1])
        else:
            b.cancel_all()
        live = {}
        for i in range(6):
            for base in (A, B):
                opp, _ = _cycle(i, base)
                live[(base, tuple(opp.pools))] = (
                    opp,
                    types.SimpleNamespace(go=i % 2 == 0, net_profit=i),
                )
                key = (base, tuple(opp.pools))
                assert b.is_pending(key) == any(o.key == key for o in b.pending)
                assert (b.busy(opp.pools) != "") == any(
                    set(o.opp.pools) & set(opp.pools) for o in b.pending
                )
                # what an automatic decision leaves out before it asks
                assert b.free(key) == (
                    base == A and not b.is_pending(key) and b.busy(opp.pools) == ""
                )
        # and all of them at once: the go cycles free, by net
        assert sorted(b.free_go(live)) == sorted(
            (-sc.net_profit, k) for k, (_, sc) in live.items() if sc.go and b.free(k)
        )
        pools = [p for o in b.pending for p in o.opp.pools]
        assert len(pools) == len(set(pools))


def test_the_most_profitable_cycle_through_a_pool_takes_it(eng: types.ModuleType) -> None:
    """Three pools of one pair (2.0, 2.1 and 2.2 B per A) make three 2-hop cycles, any two
    sharing a pool. Deciding every go cycle (auto, paper alone), paper queues the most
    profitable one (the engine's net) and refuses the others while it is pending, as live
    refuses an order through a pool of an open one: filled against the same local pools,
    two orders would both take the gap only one of them could."""
    from arbscope.market import Evaluator
    from arbscope.timing import KernelTimer

    g = market(eng)
    p3 = "PooL3333333333333333333333333333333333333333"
    g.upsert_cpmm(p3, A, B, 1_000_000_000, 2_200_000_000, 25, 10_000, 1)  # type: ignore[attr-defined]
    policy = ScorePolicy(min_profit=1, min_persistence=1, max_staleness_slots=10)
    ev = Evaluator(eng, KernelTimer(eng, None), {eng.BACKEND: g}, FEES, policy)
    for p in (P1, P2, p3):
        ev.evaluate(p, 1)
    go = {k: sc.net_profit for k, (_, sc) in ev.live.items() if sc.go}
    assert len(go) >= 2 and len(set(go.values())) == len(go)  # (the best is one cycle)
    assert ev.execute(1) == []
    b = ev.broker
    assert b is not None
    (o,) = b.pending
    assert o.key == max(go, key=go.__getitem__)
    for key in go.keys() - {o.key}:
        opp, sc = ev.live[key]
        why = b.decide(opp, sc, FEES, 1, ev.pool_slots(opp.pools))
        assert why == f"a pool of this cycle is in pending order #{o.seq}"

"""Paper fills against the exact curves, fees counted once, latency that lets the pool
move (slippage), the per-trade and balance caps, and the kill switch."""

from __future__ import annotations

import types

import pytest

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
    broker = PaperBroker(base=A, balance=10**12, latency_ticks=1)
    o, sc = decided(eng, g, broker)
    assert o.pools == [P2, P1]
    (f,) = broker.on_tick(g, 2)
    want = hand(eng, o.amount_in, (1_000_000_000, 2_100_000_000))
    assert f.ok and f.amount_out == want == o.amount_out
    fee = BASE_FEE_PER_SIGNATURE + 200_000 * 10_000 // 1_000_000
    assert f.fee_lamports == fee == sc.total_fee_lamports
    assert f.pnl == want - o.amount_in - sc.fees_in_base


def test_latency_lets_the_pool_move_and_slippage_is_real(eng: types.ModuleType) -> None:
    g = market(eng)
    broker = PaperBroker(base=A, balance=10**12, latency_ticks=2, max_slippage_bps=10_000)
    o, sc = decided(eng, g, broker)
    assert broker.on_tick(g, 2) == []  # not yet: the transaction is in flight
    moved = (1_000_000_000, 2_060_000_000)  # someone else took most of the edge
    g.upsert_cpmm(P2, A, B, *moved, 25, 10_000, 3)  # type: ignore[attr-defined]
    (f,) = broker.on_tick(g, 3)
    assert f.ok and f.amount_out == hand(eng, o.amount_in, moved) < o.amount_out
    assert f.pnl == f.amount_out - o.amount_in - sc.fees_in_base


def test_slippage_over_the_limit_fails_and_still_pays_the_fees(eng: types.ModuleType) -> None:
    g = market(eng)
    broker = PaperBroker(base=A, balance=10**12, max_slippage_bps=5)
    _o, sc = decided(eng, g, broker)
    g.upsert_cpmm(P2, A, B, 1_000_000_000, 1_990_000_000, 25, 10_000, 3)  # type: ignore[attr-defined]
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
        fills += broker.on_tick(g, 11 + i)
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
    assert b.cancel_all() == 1 and b.on_tick(g, 2) == []
    assert b.decide(o, sc, FEES, 2, (1, 1)) == "traded in this pool state"  # auto
    assert b.decide(o, sc, FEES, 2, (1, 1), trigger="manual") == ""  # the operator may


@pytest.mark.parametrize("seed", [3, 7])
def test_the_demo_market_trades_on_paper_and_ties_out(seed: int) -> None:
    from tests.staging import staged_sim

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
    ev = Evaluator(eng, KernelTimer(eng, None), {eng.BACKEND: g}, FEES, policy,
                   pool_kinds={P1: "cpmm", P2: "cpmm"})  # fmt: skip
    assert ev.sendable(o) == "" and swap_tx_size(["cpmm", "cpmm"], o.tokens) <= PACKET_DATA_SIZE
    assert ev.broker is not None and ev.broker.sendable == ev.sendable  # paper asks the same
    big = types.SimpleNamespace(pools=["w1", "c1", "w2"], tokens=[A, B, "C", A])
    ev.pool_kinds.update(w1="whirlpool", c1="cpmm", w2="whirlpool")
    # too big as is, it fits through the lookup tables the live executor keeps
    size = swap_tx_size(["whirlpool", "cpmm", "whirlpool"], big.tokens)
    through = swap_tx_size(["whirlpool", "cpmm", "whirlpool"], big.tokens, tables=True)
    assert through <= PACKET_DATA_SIZE < size and ev.sendable(big) == ""
    # a 5-hop cycle of the venues with the most accounts (an order book: 16) fits too
    books = types.SimpleNamespace(pools=["b1", "b2", "b3", "b4", "b5"],
                                  tokens=[A, B, "C", "D", "E", A])  # fmt: skip
    ev.pool_kinds.update(b1="openbook", b2="pumpswap", b3="dlmm", b4="clmm", b5="openbook")
    assert ev.sendable(books) == ""
    why = "one transaction would be 1,498 bytes even through address lookup tables"
    broker = PaperBroker(base=A, balance=10**12, sendable=lambda opp: why)
    assert broker.decide(o, sc, FEES, 1, (1, 1)) == why and not broker.pending

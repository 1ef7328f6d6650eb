"""The seeded market and the kernel timer behind the first screen."""

from __future__ import annotations

import types
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbscope.demo import SimMarket
from arbscope.timing import KernelTimer
from engine_rs import load
from engine_rs.errors import InvalidInputError, UnknownPoolError
from engine_rs.kernels import same
from feeds.sim import synthetic


def _run(seed: int, backend: types.ModuleType, ticks: int = 15) -> Any:
    m = SimMarket(seed=seed, backend=backend)
    for _ in range(ticks):
        m.tick()
    return m


def test_same_seed_same_market_on_either_backend(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    a, b, c = _run(11, rust), _run(11, py), _run(12, rust)
    sa, sb, sc = a.snapshot, b.snapshot, c.snapshot
    assert sa.opportunities, "the market should produce profitable cycles"
    assert same([o for o, _ in sa.opportunities], [o for o, _ in sb.opportunities])
    assert same([s for _, s in sa.opportunities], [s for _, s in sb.opportunities])
    assert [o.pools for o, _ in sa.opportunities] != [o.pools for o, _ in sc.opportunities]
    assert (sa.errors, sa.mismatches, sb.errors, sb.mismatches) == (0, 0, 0, 0)


def test_every_call_is_timed_and_shadowed(rust: types.ModuleType) -> None:
    m = _run(7, rust, ticks=10)
    rows = {r.kernel: r for r in m.snapshot.timings}
    # a pool's cycles re-sized, budgeted and scored in one call (score_touching)
    assert {"score_touching", "find_negative_cycle", "upsert_cpmm"} <= rows.keys()
    cyc = rows["score_touching"]
    assert cyc.calls == 100 and cyc.rust_p50_us is not None and cyc.python_p50_us is not None
    assert 0 < cyc.shadow_checks < cyc.calls  # sampled
    up = rows["upsert_cpmm"]
    assert up.shadow_checks == up.calls  # mirrored: both graphs see every update
    assert m.snapshot.updates == 100 and m.snapshot.pools == 200


def test_live_rows_are_profitable_and_best_first(rust: types.ModuleType) -> None:
    m = _run(7, rust)
    nets = [s.net_profit for _, s in m.snapshot.opportunities]
    assert nets == sorted(nets, reverse=True)
    assert all(o.profit > 0 for o, _ in m.snapshot.opportunities)


class _Lying:
    """A backend module whose cpmm_amount_out is off by one: the shadow must notice."""

    BACKEND = "python"

    def __init__(self, real: types.ModuleType) -> None:
        self.real = real

    def cpmm_amount_out(self, *args: int) -> int:
        return int(self.real.cpmm_amount_out(*args)) + 1


def test_shadow_counts_a_mismatch_with_its_input(rust: types.ModuleType) -> None:
    t = KernelTimer(rust, _Lying(rust), shadow_every=1)  # type: ignore[arg-type]
    args = (10**6, 10**12, 10**12, 25, 10_000)
    out = t.call("cpmm_amount_out", lambda m: m.cpmm_amount_out(*args), detail=args)
    assert out == rust.cpmm_amount_out(*args)
    (row,) = t.rows()
    assert (row.calls, row.shadow_checks, row.mismatches) == (1, 1, 1)
    assert t.mismatches[0].detail == args
    assert t.mismatches[0].other == out + 1


def test_engine_errors_are_counted_and_reraised(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    t = KernelTimer(rust, py, shadow_every=1)
    with pytest.raises(InvalidInputError):
        t.call("cpmm_amount_out", lambda m: m.cpmm_amount_out(0, 1, 1, 25, 10_000))
    (row,) = t.rows()
    # both backends raised the same class: an error, not a mismatch
    assert (row.errors, row.mismatches) == (1, 0)


def test_a_cycle_through_a_pool_no_endpoint_covers_is_no_go_and_says_why(
    rust: types.ModuleType,
) -> None:
    """``Evaluator.set_uncovered``: every live cycle through an uncovered pool turns no-go
    with ``uncovered`` first (its other reasons kept), is not traded, and comes back as the
    scorer decides once the pool is covered again; cycles elsewhere keep their verdict."""
    from arbscope.market import REASON_UNCOVERED

    m = _run(7, rust, ticks=30)
    ev = m.ev
    go = [(k, sc) for k, (_, sc) in sorted(ev.live.items()) if sc.go]
    assert go, "the seeded market should hold a GO cycle"
    key, before = go[0]
    pool = key[1][0]

    def scored() -> int:
        return next((r.calls for r in ev.timer.rows() if r.kernel == "score"), 0)

    def verdicts() -> dict[Any, tuple[Any, ...]]:  # (a Rust Score compares by identity)
        fields = ("gross_profit", "base_fee_lamports", "priority_fee_lamports", "tip_lamports")
        fields += ("total_fee_lamports", "fees_in_base", "net_profit", "net_profit_bps")
        fields += ("persistence", "staleness_slots", "go", "reasons")
        return {k: tuple(getattr(sc, f) for f in fields) for k, (_, sc) in ev.live.items()}

    n0, was = scored(), verdicts()
    assert ev.set_uncovered([pool]) and not ev.set_uncovered([pool])  # True only on change
    # only the cycles through the pool that moved are scored again (at 3,000 pools,
    # every live cycle was: the event loop held for up to ~0.5 s at each change) ...
    through = [k for k in ev.live if pool in k[1]]
    assert scored() - n0 == len(through)
    # ... and the others keep their verdict, their arithmetic too
    now = verdicts()
    assert all(now[k] == v for k, v in was.items() if k not in through)
    for k, (_, sc) in ev.live.items():
        if pool in k[1]:
            assert not sc.go and sc.reasons[0] == REASON_UNCOVERED
        else:
            assert REASON_UNCOVERED not in sc.reasons  # rescored as the scorer says
    assert ev.live[key][1].reasons == [REASON_UNCOVERED]  # it was GO: nothing else failed
    assert ev.live[key][1].gross_profit == before.gross_profit  # the arithmetic is kept
    # covered again: every score is what it was (the verdict moved with the coverage
    # alone); then uncovered again for the broker
    ev.set_uncovered([])
    assert verdicts() == was
    ev.set_uncovered([pool])
    # the broker trades GO cycles only: this one is refused, on its reason
    broker = ev.broker
    assert broker is not None
    queued = {o.seq for o in broker.pending}
    m.tick()
    assert not any(pool in o.key[1] for o in broker.pending if o.seq not in queued)
    # a pool that comes back: the cycle is the scorer's again, every score as it was
    ev.set_uncovered([])
    assert all(REASON_UNCOVERED not in sc.reasons for _, sc in ev.live.values())


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    tokens=st.integers(4, 10),
    extra=st.integers(0, 20),
    ops=st.lists(
        st.tuples(
            st.sampled_from("mmmmmr"),
            st.integers(0, 10**6),
            st.sampled_from([0.99, 1.01, 0.97, 1.03, 0.998, 1.002]),
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_live_cycles_are_the_graphs_profitable_cycles(
    seed: int, tokens: int, extra: int, ops: list[tuple[str, int, float]]
) -> None:
    """After each pool move (m) or removal (r) and the evaluation of that pool (as a
    session does), the evaluator holds live exactly the cycles the graph enumerates
    afresh with a profit (``PoolGraph.cycles`` of every base: another kernel), each with
    its cost; a cycle that lost its profit, or a pool, is dropped with its cost."""
    from arbscope.market import Evaluator
    from engine_rs.records import FeeContext, ScorePolicy

    eng = load("rust")
    m = synthetic.market(
        seed, tokens, tokens + extra, bases=2, dislocation=0.03, dislocated_share=0.2
    )
    g = m.graph(eng)
    fees = FeeContext(cu_limit=300_000, cu_price_micro_lamports=20_000, tip_lamports=1_000)
    ev = Evaluator(eng, KernelTimer(eng, None), {eng.BACKEND: g}, fees, ScorePolicy())
    ev.refresh_prices()

    def expected() -> set[tuple[str, tuple[str, ...]]]:
        return {
            (o.base_mint, tuple(o.pools))
            for b in m.bases
            if b in g.tokens()
            for o in g.cycles(b)
            if o.profit > 0 or o.ticks_missing
        }

    for p in g.pools():
        ev.evaluate(p, 0)
    assert set(ev.live) == expected() == set(ev.costs)
    gone: set[str] = set()
    for step, (op, k, factor) in enumerate(ops, start=1):
        here = [p for p in m.pools if p.pool_id not in gone]
        p = here[k % len(here)]
        if op == "r" and len(here) > 2:
            g.remove_pool(p.pool_id)
            gone.add(p.pool_id)
            with pytest.raises(UnknownPoolError):
                ev.evaluate(p.pool_id, step)
            ev.drop_pool(p.pool_id)
        else:
            p.reserve_b = max(1, int(p.reserve_b * factor))
            p.upsert(g, step)
            ev.evaluate(p.pool_id, step)
        assert set(ev.live) == expected() == set(ev.costs), step
        assert set(ev.first_seen) >= set(ev.live)

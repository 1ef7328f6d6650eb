"""The seeded market and the kernel timer behind the first screen."""

from __future__ import annotations

import types
from typing import Any

import pytest

from arbscope.demo import SimMarket
from arbscope.timing import KernelTimer
from engine_rs.errors import InvalidInputError
from engine_rs.kernels import same


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
    assert {"cycles_touching", "score", "find_negative_cycle", "upsert_cpmm"} <= rows.keys()
    cyc = rows["cycles_touching"]
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
    assert ev.set_uncovered([pool]) and not ev.set_uncovered([pool])  # True only on change
    for k, (_, sc) in ev.live.items():
        if pool in k[1]:
            assert not sc.go and sc.reasons[0] == REASON_UNCOVERED
        else:
            assert REASON_UNCOVERED not in sc.reasons  # rescored as the scorer says
    assert ev.live[key][1].reasons == [REASON_UNCOVERED]  # it was GO: nothing else failed
    assert ev.live[key][1].gross_profit == before.gross_profit  # the arithmetic is kept
    # the broker trades GO cycles only: this one is refused, on its reason
    broker = ev.broker
    assert broker is not None
    queued = {o.seq for o in broker.pending}
    m.tick()
    assert not any(pool in o.key[1] for o in broker.pending if o.seq not in queued)
    # a pool that comes back: the cycle is the scorer's again
    ev.set_uncovered([])
    assert all(REASON_UNCOVERED not in sc.reasons for _, sc in ev.live.values())

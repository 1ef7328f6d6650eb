"""The steps a hop's quote crosses are the steps the simulator charges for, and the real
program runs within the limit they price: one definition of a step per venue.

A hop is priced and requested at ``Venue.compute_units.limit(steps)``
(``arbscope.execution.compute``) with ``steps`` what the engine's quote counts for its
curve (``PoolGraph.quote_steps``, the judge's :meth:`~tests.support.judge.Judge.
quote_steps`: a session's graph fed the world's accounts, on both backends) plus its
mints' Token-2022 steps (``compute.token_steps``). The simulator charges
``compute_units.use(steps)`` with its own count after the swap (each venue's helper:
``orca_whirlpool.swap_steps``, ``raydium_clmm.swap_steps``, a DLMM pair's last
``Swapped.steps``, an order book's ``steps``, a Manifest market's orders reached,
CP-Swap's Token-2022 sides, a DAMM v2 pool's dynamic fee, compounding curve and
Token-2022 sides). For random swaps of every venue with a binary, on random pools (the
venues' own differential tests' generators: many ticks and bins crossed, empty bins
walked past, Token-2022 mints) and the world's pools, the two counts are equal, the
simulator's charge is the model's use at them, and the real binary (LiteSVM, the newest
build of each) uses no more than the limit they price (within the venue's ``max_steps``;
past it a hop is priced at its most and the binary may use more: counted). AMM v4's swaps
run on the simulator only: its binary is older than the instruction live sends
(``SwapBaseInV2``: its own differential test runs ``SwapBaseIn``), and it counts no step;
its steps are compared with the simulator's count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine_rs
from arbscope.execution.compute import token_steps
from feeds import venues
from feeds.sim.state import Pool
from feeds.venues.manifest import sim as MF
from feeds.venues.meteora_damm_v2 import sim as DM
from feeds.venues.meteora_dlmm import sim as DL
from feeds.venues.openbook_v2 import sim as OB
from feeds.venues.orca_whirlpool import sim as W
from feeds.venues.raydium_clmm import sim as R
from feeds.venues.raydium_cpmm import sim as CP
from tests.support import clmm_pools as C
from tests.support import dlmm_pairs as TD
from tests.support import raydium_clmm_pools as TR
from tests.support import whirlpool_pools as TW
from tests.support.judge import Judge, programs

pytestmark = pytest.mark.judge

BACKENDS = ("rust", "python")
SIM_ONLY = ("amm_v4",)  # a binary older than the instruction live sends
CASES: Counter[str] = Counter()  # compared swaps by venue, steps crossed, past the most


@pytest.fixture(scope="module")
def judge() -> Iterator[Judge]:
    programs()
    yield Judge()


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print("\nsteps compared:", dict(sorted(CASES.items())))


def sim_steps(pool: Pool, tick_before: int) -> int:
    """The steps the simulator charged the swap that just ran on ``pool`` (its venue's
    own count)."""
    if pool.kind == "whirlpool":
        return W.swap_steps(pool, tick_before)
    if pool.kind == "clmm":
        return R.swap_steps(pool, tick_before)
    if pool.kind == "dlmm":
        last = DL._market(pool).last
        assert last is not None and (last.start_bin_id, last.end_bin_id) == (
            tick_before,
            pool.spec.tick_current,
        )
        return last.steps
    if pool.kind == "openbook":
        return OB.steps(OB._book(pool))
    if pool.kind == "cpmm":
        return CP._steps(pool)
    if pool.kind == "damm_v2":
        return DM.steps(pool)
    if pool.kind == "manifest":
        return MF._book(pool).last_reached
    return 0


def arrays_of(j: Judge, pool: Pool) -> list[str] | None:
    """The arrays a session follows around the price (None: the judge's default)."""
    venue = venues.by_kind(pool.kind)
    if pool.kind != "dlmm" or venue.follow is None:
        return None
    acc = j.world.accounts[pool.address]
    rec = venue.decode_pool(engine_rs.backend(), acc.data, acc.owner)
    return [a for a, _ in venue.follow(engine_rs.backend(), pool.address, rec, 2)]


def check(j: Judge, pool: Pool, a_to_b: bool, amount: int) -> None:
    """One swap: the engine's steps (both backends) and the simulator's, compared; the
    real binary's use against the limit they price."""
    mint_in = pool.mint_a if a_to_b else pool.mint_b
    arrays = arrays_of(j, pool)
    quotes = {n: j.quote_steps(engine_rs.load(n), pool, mint_in, amount, arrays) for n in BACKENDS}
    assert quotes["rust"] == quotes["python"], quotes
    q = quotes["rust"]
    venue = venues.by_kind(pool.kind)
    cu = venue.compute_units
    tick_before = pool.spec.tick_current
    if pool.kind in SIM_ONLY:  # the simulator only (module doc)
        mint_out = pool.mint_b if a_to_b else pool.mint_a
        j.fund(mint_in, amount)
        j.fund(mint_out, 0)
        tx = j.tx([j.swap_ix(pool, mint_in, amount)])
        sim, real = j.chain.run(tx, commit=True), None
        paid = None
    else:
        got = C.swap(j, pool, mint_in, amount)
        sim, real = got.run.sim, got.run.real
        paid = got.sim_out
        assert (real.err is None) == (sim.err is None), (real.logs, sim.logs)
    if sim.err is not None or isinstance(q, str):
        CASES[f"{pool.kind} not compared ({'refused' if sim.err else q})"] += 1
        return
    if paid is not None and paid != q[0]:  # a partial fill the engine does not quote
        CASES[f"{pool.kind} not compared (partial)"] += 1
        return
    programs_ = (j.program_of(pool.mint_a), j.program_of(pool.mint_b))
    steps = q[1] + token_steps(pool.kind, programs_)
    assert steps == sim_steps(pool, tick_before), (pool.kind, q, programs_)
    charged = C.units(sim.logs, venue.program)
    assert charged == cu.use(steps), (pool.kind, charged, steps)
    if real is not None:
        used = C.units(real.logs, venue.program)
        if steps <= cu.max_steps:
            assert used <= cu.limit(steps), (pool.kind, used, steps)
        else:
            CASES[f"{pool.kind} past max_steps"] += 1
    CASES[f"{pool.kind} compared"] += 1
    CASES[f"{pool.kind} with Token-2022 steps"] += steps > q[1]
    CASES[f"{pool.kind} steps"] += q[1]
    CASES[f"{pool.kind} most steps"] = max(CASES[f"{pool.kind} most steps"], q[1])


# ------------------------------------------------------------------ the venues
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_whirlpool_steps(judge: Judge, data: st.DataObject) -> None:
    plan = data.draw(TW.plans(), "plan")
    pool = TW.make_pool(C.fresh(judge), plan)
    if pool is None:
        return
    for a_to_b, amount, _v2, _wait in plan["swaps"]:
        check(judge, pool, a_to_b, C.sized(pool, a_to_b, amount))


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_raydium_clmm_steps(judge: Judge, data: st.DataObject) -> None:
    plan = data.draw(TR.plans(), "plan")
    pool = TR.make_pool(C.fresh(judge), plan)
    if pool is None:
        return
    for swap in plan["swaps"]:
        zfo, amount = swap[0], swap[1]
        check(judge, pool, zfo, C.sized(pool, zfo, amount))


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_meteora_dlmm_steps(judge: Judge, data: st.DataObject) -> None:
    shape, role = data.draw(TD.shapes(), "shape")
    j = C.fresh(judge)
    x, y = TD.spl_mints(j)[:2]
    if role:
        t22 = next(m for m, r in j.world.token2022.items() if r == role)
        x, y = (t22, y) if data.draw(st.booleans(), "t22 is x") else (x, t22)
    pool = TD.add_pair(j, shape, x, y)
    for _ in range(data.draw(st.integers(1, 3), "trades")):
        a_to_b = data.draw(st.booleans(), "a_to_b")
        depth = max(1.0, DL._depth(pool, a_to_b))
        frac = data.draw(st.sampled_from([1e-6, 1e-3, 0.05, 0.3, 0.9, 1.5]), "frac")
        check(j, pool, a_to_b, max(1, min(2**63, int(depth * frac))))


def world_pools(j: Judge, kind: str) -> list[Pool]:
    hooks = {m for m, role in j.world.token2022.items() if role == "hook"}
    return [p for p in j.world.pools if p.kind == kind and not {p.mint_a, p.mint_b} & hooks]


@pytest.mark.parametrize("kind", ["amm_v4", "cpmm", "openbook", "damm_v2", "manifest"])
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_worlds_pools_steps(judge: Judge, kind: str, data: st.DataObject) -> None:
    """The world's pools of the venues whose steps do not come from a walk of ticks or
    bins: none (AMM v4), its Token-2022 sides (CP-Swap), the maker orders a take reaches
    (an order book), the pool's fee and curve (DAMM v2); sequences of swaps, the state
    carried."""
    j = C.fresh(judge)
    pools = world_pools(j, kind)
    assert pools
    pool = pools[data.draw(st.integers(0, len(pools) - 1), "pool")]
    for _ in range(data.draw(st.integers(1, 3), "trades")):
        a_to_b = data.draw(st.booleans(), "a_to_b")
        frac = data.draw(st.sampled_from([1e-5, 1e-3, 0.02, 0.1, 0.4]), "frac")
        amount = max(1, j.world._trade_size(pool, a_to_b, frac))
        check(j, pool, a_to_b, amount)
        for _ in range(data.draw(st.sampled_from([0, 1]), "slots")):
            j.step(1)


def test_zz_every_venue_with_a_binary_was_compared() -> None:
    """The runs above compared swaps of every venue, and walks that crossed steps."""
    if not CASES:
        pytest.skip("the venues' tests did not run")
    for kind in ("whirlpool", "clmm", "dlmm", "amm_v4", "cpmm", "openbook", "damm_v2", "manifest"):
        assert CASES[f"{kind} compared"] > 0, (kind, CASES)
    for kind in ("whirlpool", "clmm", "dlmm", "openbook"):
        assert CASES[f"{kind} most steps"] >= 3, (kind, CASES)
    for kind in ("whirlpool", "clmm", "cpmm"):
        assert CASES[f"{kind} with Token-2022 steps"] > 0, (kind, CASES)

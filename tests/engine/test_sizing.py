"""Sizing through the real curves: the twin against brute force on small pools.

The Rust sizing is held to the twin by the graph parity tests (every Opportunity carries
the chosen size), so agreement plus this oracle covers both.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_rs.python import amm
from engine_rs.python.amm import CpmmLeg
from engine_rs.python.sizing import optimal_input, simulate, spot_rate


def brute_best(legs: list[CpmmLeg], upto: int) -> int:
    best = 0
    for x in range(1, upto + 1):
        a = x
        for leg in legs:
            a = amm.amount_out_unchecked(
                a, leg.reserve_in, leg.reserve_out, leg.fee_num, leg.fee_den
            )
        best = max(best, a - x)
    return best


reserve = st.integers(2_000, 30_000)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(reserve, reserve, st.sampled_from([0, 25, 30])), min_size=2, max_size=3))
def test_closed_form_is_near_the_brute_force_optimum(raw: list[tuple[int, int, int]]) -> None:
    legs = [CpmmLeg(ri, ro, fee, 10_000) for ri, ro, fee in raw]
    sized = optimal_input(legs)
    best = brute_best(legs, max(ri for ri, _, _ in raw))
    if spot_rate(legs) <= 1.0:
        assert sized.amount_in == 0
        assert best <= len(legs)  # only rounding noise can look like profit
        return
    got = sized.amount_out - sized.amount_in
    # every hop floors its output: a unit lost at hop i reaches the end multiplied by the
    # marginal rates of the hops after it (at most their spot rates). The closed form's
    # continuous optimum can differ from the integer one by up to ~2 such units per hop.
    downstream = sum(spot_rate(legs[i + 1 :]) for i in range(len(legs)))
    assert best - got <= 2 * downstream + 2, (best, got, downstream, sized)
    if sized.amount_in:
        assert simulate(legs, sized.amount_in) == sized.hop_amounts
        assert got > 0


def test_unprofitable_cycle_is_zero() -> None:
    legs = [CpmmLeg(10_000, 10_000, 25, 10_000), CpmmLeg(10_000, 10_000, 25, 10_000)]
    assert optimal_input(legs).amount_in == 0
    assert optimal_input(legs).hop_amounts == [0, 0, 0]


def test_large_pools_profit_is_the_smooth_optimum() -> None:
    # two pools pricing the same pair 1% apart, 25 bps fees each: the closed form's
    # optimum matches a fine scan around it to the unit
    legs = [CpmmLeg(10**12, 101 * 10**10, 25, 10_000), CpmmLeg(10**12, 10**12, 25, 10_000)]
    sized = optimal_input(legs)
    assert sized.amount_in > 0
    profit = sized.amount_out - sized.amount_in
    for dx in (-1000, -100, -10, 10, 100, 1000):
        hop = simulate(legs, sized.amount_in + dx)
        assert hop is not None
        assert hop[-1] - (sized.amount_in + dx) <= profit + 2


def _knocked_world(kind: str) -> tuple[object, str, str]:
    """A quiet simulated market holding every venue, a pool of ``kind`` on a SOL pair
    beside another venue's pool of the same pair, knocked 3% off that pool's price: a
    2-hop cycle through the two makes money."""
    from feeds.sim.world import World, WorldConfig

    w = World(WorldConfig(seed=1, trades_per_slot=0, dislocation_rate=0.0))
    sol = w.bases[0]
    for p in w.pools:
        if p.kind != kind or sol not in (p.mint_a, p.mint_b):
            continue
        q = next(
            (
                q
                for q in w.pools
                if q is not p
                and q.spec.venue == ""
                and {q.mint_a, q.mint_b} == {p.mint_a, p.mint_b}
            ),
            None,
        )
        if q is not None:
            for _ in range(200):
                if abs(math.log(w.pool_price(p) / w.pool_price(q))) > 0.03:
                    return w, p.address, q.address
                assert w.swap(p, True, w._trade_size(p, True, 0.01)) is not None
            raise AssertionError(f"{kind} pool {p.address} would not move")
    raise AssertionError(f"no {kind} pool beside another venue's on a SOL pair")


@pytest.mark.parametrize("kind", ["clmm", "dlmm"])
def test_a_cycle_whose_smallest_sizes_pay_nothing_is_still_sized(kind: str) -> None:
    """Raydium CLMM and Meteora DLMM refuse a swap whose output rounds to zero, so the
    doubling search meets infeasible sizes (a few base units: 16 lamports, say, give one
    unit of the middle token, which the next hop refuses) between feasible ones before
    any size pays: it must go on doubling past them. The size found makes the most of
    every power of two both backends can quote (the doubling's own grid), and both
    backends choose it."""
    import engine_rs
    from engine_rs.errors import EngineError
    from tests.support.truth import market_graph

    w, pool, other = _knocked_world(kind)
    base = w.bases[0]  # type: ignore[attr-defined]
    sized = []
    for backend in ("rust", "python"):
        g = market_graph(engine_rs.load(backend), w)
        (o,) = [o for o in g.cycles(base, 3) if set(o.pools) == {pool, other} and o.spot_rate > 1]
        assert o.amount_in > 0 and o.profit > 0, o
        grid = []
        for k in range(64):
            try:
                path = g.quote(list(o.pools), base, 1 << k)
            except EngineError:  # past the ticks held: no number
                continue
            if path:
                grid.append(path[-1] - path[0])
        assert o.profit >= max(grid)
        sized.append((o.amount_in, o.profit, o.hop_amounts))
    assert sized[0] == sized[1]


@pytest.mark.parametrize("kind", ["clmm", "dlmm"])
def test_golden_sizing_walks_fewer_sizes_and_pays_what_ternary_pays(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A knocked cycle through a concentrated-liquidity pool (the search, not the closed
    form) sized by each rule on both backends: the backends agree on each rule's size;
    golden's profit is ternary's within the rounding loss and its tolerance's bound
    (``lo >> 20`` units, ``sizing.rs``'s docs), and it walks far fewer sizes through the
    pools (counted in the twin: every exact walk of the market's cycles, the doubling's
    and the search's)."""
    import engine_rs
    from engine_rs.python import sizing
    from tests.support.truth import market_graph

    walks = [0]
    profit = sizing._profit

    def counted(legs: object, x: int, miss: list[bool]) -> int | None:
        walks[0] += 1
        return profit(legs, x, miss)  # type: ignore[arg-type]

    monkeypatch.setattr(sizing, "_profit", counted)
    w, pool, other = _knocked_world(kind)
    base = w.bases[0]  # type: ignore[attr-defined]
    found: dict[str, tuple[int, int]] = {}
    walked: dict[str, int] = {}
    for rule in ("ternary", "golden"):
        sized = []
        for backend in ("rust", "python"):
            g = market_graph(engine_rs.load(backend), w)
            g.set_sizing(rule)
            assert g.sizing == rule
            walks[0] = 0
            (o,) = [
                o for o in g.cycles(base, 3) if set(o.pools) == {pool, other} and o.spot_rate > 1
            ]
            if backend == "python":
                walked[rule] = walks[0]
            sized.append((o.amount_in, o.profit, o.hop_amounts))
        assert sized[0] == sized[1], rule
        found[rule] = (sized[0][0], sized[0][1])
    (xt, pt), (_, pg) = found["ternary"], found["golden"]
    assert pg > 0
    assert pt - pg <= (xt >> 20) + 4 and pg - pt <= 4, found
    # (the doubling walks the same powers of two either way: golden's share is the rest)
    assert walked["golden"] * 3 < walked["ternary"] * 2, walked


def test_a_sizing_rule_is_one_of_the_named() -> None:
    import engine_rs
    from engine_rs.errors import InvalidInputError

    for backend in ("rust", "python"):
        g = engine_rs.load(backend).PoolGraph()
        assert g.sizing == "golden"
        with pytest.raises(InvalidInputError, match="'bisect' is not one of golden, ternary"):
            g.set_sizing("bisect")
        assert g.sizing == "golden"

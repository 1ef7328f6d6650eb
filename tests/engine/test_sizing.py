"""Sizing through the real curves: the twin against brute force on small pools.

The Rust sizing is held to the twin by the graph parity tests (every Opportunity carries
the chosen size), so agreement plus this oracle covers both.
"""

from __future__ import annotations

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

"""Meteora DLMM pairs for the judge: a pair added to the judge's world, its SPL mints,
random pair shapes drawn by hypothesis; the DLMM and the steps tests share them."""

from __future__ import annotations

import math
import random

from hypothesis import strategies as st

from feeds.sim import synthetic
from feeds.sim.state import Pool
from feeds.venues import meteora_dlmm as DL
from feeds.venues.meteora_dlmm import sim as DLsim
from feeds.wire import instructions as I
from tests.support.judge import Judge


def add_pair(j: Judge, shape: DLsim.PairShape, mint_x: str, mint_y: str) -> Pool:
    """A new pair of ``shape`` in the world (the simulator trades it too)."""
    spec = synthetic.PoolSpec("", "cpmm", mint_x, mint_y, venue=DL.IDS.name)
    pool = DLsim.create_pair(j.world, 10_000 + len(j.world.pools), spec, shape)
    j.world.pools.append(pool)
    j.world.by_address[pool.address] = pool
    return pool


def spl_mints(j: Judge) -> list[str]:
    return [m for m in j.world.mints if j.world.token_programs[m] == I.SPL_TOKEN]


@st.composite
def shapes(draw: st.DrawFn) -> tuple[DLsim.PairShape, str]:
    """A random pair (and the mint role its Token-2022 mint takes, or none): see the
    module doc."""
    step = draw(st.sampled_from([1, 2, 4, 5, 8, 10, 15, 20, 25, 50, 80, 100, 200, 250, 400]))
    log_price = draw(st.floats(-5, 5))
    active = round(log_price * math.log(10) / math.log1p(step / 10_000))
    active = max(-32_000, min(32_000, active))
    filter_period = draw(st.integers(0, 300))
    decay = filter_period + draw(st.integers(0, 1_200))
    max_acc = draw(st.sampled_from([0, 10_000, 100_000, 350_000, 500_000]))
    acc = draw(st.integers(0, max_acc))
    volatility = (acc, draw(st.integers(0, acc)), active + draw(st.integers(-40, 40)))
    below, above = draw(st.integers(0, 200)), draw(st.integers(0, 200))
    gaps = draw(st.sampled_from([0.0, 0.0, 0.3, 0.8, "arrays"]))
    scale = draw(st.sampled_from([1, 10**3, 10**6, 10**9, 10**12]))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    bins = {}
    for b in range(active - below, active + above + 1):
        if b != active:
            if gaps == "arrays" and (b // DL.BINS_PER_ARRAY) % 2:
                continue
            if isinstance(gaps, float) and rng.random() < gaps:
                continue
        amount = max(1, int(scale * rng.uniform(0.05, 10)))
        bins[b] = (amount if b >= active else 0, amount if b <= active else 0)
    shape = DLsim.PairShape(
        bin_step=step,
        base_factor=draw(st.integers(1, 20_000)),
        active_id=active,
        bins=bins,
        filter_period=filter_period,
        decay_period=decay,
        reduction_factor=draw(st.integers(0, 10_000)),
        variable_fee_control=draw(st.sampled_from([0, 7_500, 40_000, 500_000, 2_000_000])),
        max_volatility_accumulator=max_acc,
        protocol_share=draw(st.sampled_from([0, 500, 1_000, 2_500])),
        base_fee_power_factor=draw(st.sampled_from([0, 0, 0, 1, 2])),
        collect_fee_mode=draw(st.sampled_from([0, 1])),
        volatility=volatility,
        idle=draw(st.sampled_from([0, 1, filter_period, decay, 86_400])),
    )
    return shape, draw(st.sampled_from(["", "", "", "plain", "fee", "fee_capped"]))

"""Random Raydium CLMM pools for the judge: a plan drawn by hypothesis, the pool placed
in the judge's world, an amount sized to the pool's liquidity; the Raydium CLMM and the
steps tests share them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import strategies as st

from feeds.sim.state import Pool
from feeds.venues import raydium_clmm as R
from feeds.venues.raydium_clmm import sim as Rsim
from tests.support import clmm_pools as C
from tests.support.judge import Judge

COUNTS: Counter[str] = Counter()  # cases run, by what they covered (reported at the end)


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    """A pool (mints' kind, spacing, price, config rates, fee_on, positions) and the
    swaps run on it in turn (direction, amount, seconds waited before)."""
    ts = draw(st.sampled_from([1, 10, 60, 120]))
    span = 512 * R.TICK_ARRAY_SIZE * ts - 300 * ts  # within the pool's own bitmap
    tick = draw(st.integers(-min(span, 150_000), min(span, 150_000)))
    cur = tick // ts
    positions = []
    for _ in range(draw(st.integers(1, 30))):
        lo = cur + draw(st.integers(-200, 200) | st.integers(-20, 20))
        hi = lo + draw(st.integers(1, 240) | st.integers(1, 12))
        positions.append((lo * ts, hi * ts, draw(C.LIQUIDITY)))
    # small amounts one by one too, and some just above a multiple of 100: a transfer
    # fee's rounding (1 %, 2 %) shows there
    small = st.integers(1, 5_000) | st.integers(0, 60).map(lambda k: 100 * k + 1)
    swaps = st.tuples(st.booleans(), C.AMOUNTS | small | C.DEPTH, st.sampled_from([0, 0, 1, 40]))
    return {
        "kind": draw(st.sampled_from(["spl", "spl", "fee", "fee_capped"])),
        "ts": ts,
        "tick": tick,
        "within": draw(st.floats(0, 1)),
        "fee_rate": draw(st.sampled_from([100, 500, 2_500, 10_000]) | st.integers(0, 100_000)),
        "protocol_fee_rate": draw(st.sampled_from([0, 120_000]) | st.integers(0, 400_000)),
        "fund_fee_rate": draw(st.sampled_from([0, 40_000]) | st.integers(0, 400_000)),
        "fee_on": draw(st.sampled_from([0, 0, 0, 1, 2])),
        "positions": positions,
        "swaps": draw(st.lists(swaps, min_size=1, max_size=4)),
    }


def make_pool(judge: Judge, plan: dict[str, Any]) -> Pool | None:
    """The plan's pool, with a config of its own (None: a vault would not hold it)."""
    eng = judge.world.eng
    a, b = C.mints(judge, plan["kind"])
    ts = plan["ts"]
    sqrt, tick = C.within_tick(eng.raydium_clmm, plan["tick"], plan["within"])
    held = Rsim.position_amounts(eng, plan["positions"], sqrt, tick)
    if max(held) >= 1 << 62:
        return None
    COUNTS["pools"] += 1
    config, _ = Rsim.add_config(
        judge.world, 1_000, ts, plan["fee_rate"], plan["protocol_fee_rate"], plan["fund_fee_rate"]
    )
    spec = C.spec(a, b, sqrt, tick, ts, plan["fee_rate"])
    pool = Rsim.place(judge.world, 200_000, spec, plan["positions"], config)
    if plan["fee_on"]:  # today's customizable pool: the fee on one token
        from dataclasses import replace

        pool.record = replace(pool.record, fee_on=plan["fee_on"])
        acc = judge.world.accounts[pool.address]
        acc.data = Rsim.encode_pool(pool.record, acc.data)
    return C.register(judge, pool)

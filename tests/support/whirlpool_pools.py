"""Random Whirlpools for the judge: a plan drawn by hypothesis, the pool placed in the
judge's world, an amount sized to the pool's liquidity; the Whirlpool and the steps
tests share them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import strategies as st

from feeds.sim.state import Pool
from feeds.venues import orca_whirlpool as W
from feeds.venues.orca_whirlpool import sim as Wsim
from tests.support import clmm_pools as C
from tests.support.judge import Judge

FULL_RANGE = 32_896  # a splash pool's spacing: its only positions are full range


COUNTS: Counter[str] = Counter()  # cases run, by what they covered (reported at the end)


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    """A pool (its mints' kind, spacing, price, fee rates, positions) and the swaps run
    on it in turn (direction, amount, v2 for an SPL pool, seconds waited before)."""
    ts = draw(st.sampled_from([1, 2, 8, 64, 128, 256, FULL_RANGE]))
    tick = draw(st.integers(-150_000, 150_000))
    positions: list[tuple[int, int, int]] = []
    liq = st.integers(12, 64).map(lambda e: int(10 ** (e / 4)))
    if ts == FULL_RANGE:
        edge = W.MAX_TICK_INDEX // ts * ts
        positions.append((-edge, edge, draw(liq)))
    else:
        cur = tick // ts
        for _ in range(draw(st.integers(1, 24))):
            lo = cur + draw(st.integers(-280, 280))
            hi = lo + draw(st.integers(1, 300) | st.integers(1, 12))
            positions.append((lo * ts, hi * ts, draw(liq)))
    amounts = st.tuples(st.integers(0, 150), st.integers(0, 999)).map(
        lambda t: max(1, int(10 ** (t[0] / 10)) + t[1] * (t[0] > 40))
    )
    # or a share of the input side's depth at the price (-1 to -3000: 0.1 % to 3x it)
    depth = st.integers(1, 3_000).map(lambda k: -k)
    swaps = st.tuples(st.booleans(), amounts | depth, st.booleans(), st.sampled_from([0, 0, 1, 30]))
    return {
        "kind": draw(st.sampled_from(["spl", "spl", "fee", "fee_capped"])),
        "ts": ts,
        "tick": tick,
        "within": draw(st.floats(0, 1)),
        "fee_rate": draw(st.sampled_from([0, 100, 3_000]) | st.integers(0, 60_000)),
        "protocol_fee_rate": draw(st.integers(0, 2_500)),
        "positions": positions,
        "swaps": draw(st.lists(swaps, min_size=1, max_size=4)),
    }


def sized(pool: Pool, a_to_b: bool, amount: int) -> int:
    """A plan's amount: as drawn, or (negative) that many thousandths of the input side's
    depth at the pool's price now (its liquidity over, or times, the square root price)."""
    if amount > 0:
        return amount
    s = pool.spec
    sqrt = s.sqrt_price_x64 / 2**64
    depth = s.liquidity / sqrt if a_to_b else s.liquidity * sqrt
    return max(1, min(1 << 62, int(depth * -amount / 1_000)))


def make_pool(judge: Judge, plan: dict[str, Any]) -> Pool | None:
    """The plan's pool in the judge's world (None: its positions would not fit a vault)."""
    eng = judge.world.eng
    a, b = C.mints(judge, plan["kind"])
    ts = plan["ts"]
    edge = W.MAX_TICK_INDEX // ts * ts
    positions = [(max(lo, -edge), min(hi, edge), liq) for lo, hi, liq in plan["positions"]]
    positions = [p for p in positions if p[0] < p[1]]
    if not positions:
        return None
    lo_p = eng.orca_whirlpool.sqrt_price_at_tick(plan["tick"])
    hi_p = eng.orca_whirlpool.sqrt_price_at_tick(plan["tick"] + 1)
    sqrt = lo_p + int((hi_p - lo_p - 1) * plan["within"])
    tick = eng.orca_whirlpool.tick_at_sqrt_price(sqrt)
    held = Wsim.position_amounts(eng, positions, sqrt, tick)
    if max(held) >= 1 << 62:
        return None
    COUNTS["pools"] += 1
    spec = C.spec(a, b, sqrt, tick, ts, plan["fee_rate"])
    pool = Wsim.place(judge.world, 100_000, spec, positions, plan["protocol_fee_rate"])
    return C.register(judge, pool)

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
    if ts == FULL_RANGE:
        edge = W.MAX_TICK_INDEX // ts * ts
        positions.append((-edge, edge, draw(C.LIQUIDITY)))
    else:
        cur = tick // ts
        for _ in range(draw(st.integers(1, 24))):
            lo = cur + draw(st.integers(-280, 280))
            hi = lo + draw(st.integers(1, 300) | st.integers(1, 12))
            positions.append((lo * ts, hi * ts, draw(C.LIQUIDITY)))
    swaps = st.tuples(
        st.booleans(), C.AMOUNTS | C.DEPTH, st.booleans(), st.sampled_from([0, 0, 1, 30])
    )
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


def make_pool(judge: Judge, plan: dict[str, Any]) -> Pool | None:
    """The plan's pool in the judge's world (None: its positions would not fit a vault)."""
    a, b = C.mints(judge, plan["kind"])
    ts = plan["ts"]
    eng = judge.world.eng
    edge = W.MAX_TICK_INDEX // ts * ts
    positions = [(max(lo, -edge), min(hi, edge), liq) for lo, hi, liq in plan["positions"]]
    positions = [p for p in positions if p[0] < p[1]]
    if not positions:
        return None
    sqrt, tick = C.within_tick(eng.orca_whirlpool, plan["tick"], plan["within"])
    held = Wsim.position_amounts(eng, positions, sqrt, tick)
    if max(held) >= 1 << 62:
        return None
    COUNTS["pools"] += 1
    spec = C.spec(a, b, sqrt, tick, ts, plan["fee_rate"])
    pool = Wsim.place(judge.world, 100_000, spec, positions, plan["protocol_fee_rate"])
    return C.register(judge, pool)

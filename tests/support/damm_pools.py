"""Meteora DAMM v2 pools built to order in a :class:`~tests.support.judge.Judge`'s world,
for the judge's DAMM v2 tests: a pool of any collect-fee mode (both tokens, only b,
compounding), base fee (a time or market-cap scheduler, linear or exponential, the rate
limiter, a flat cliff), dynamic fee, protocol and compounding shares, activation (by slot
or time, before or after it), price and liquidity, on SPL Token mints or with a
Token-2022 transfer-fee mint, written by the simulated program's own encoder into the
world (:func:`feeds.venues.meteora_damm_v2.sim.encode_pool`), its vaults funded with what
the pool tracks.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from feeds.sim import synthetic
from feeds.sim.state import Pool
from feeds.venues.meteora_damm_v2 import sim as Dsim
from tests.support import clmm_pools as C
from tests.support.judge import Judge

ONE_BPS_STEP = 1_844_674_407_370_955  # the dynamic fee's bin step of 1 bp, in Q64
FULL = (Dsim.MIN_SQRT_PRICE, Dsim.MAX_SQRT_PRICE)


@dataclass(frozen=True)
class Shape:
    """A DAMM v2 pool as an example draws it."""

    mints: str  # "spl", "fee", "fee_capped": clmm_pools.mints' kinds
    mode: int  # collect_fee_mode: 0 both tokens, 1 only b, 2 compounding
    base: tuple[Any, ...]  # ("time", cliff, periods, frequency, reduction, exponential) ...
    dynamic: tuple[int, int, int]  # (on, variable_fee_control, volatility_accumulator)
    protocol_pct: int
    compounding_bps: int
    by_time: bool  # activation by unix time (else by slot)
    since: int  # the activation point this far before now (negative: not yet active)
    idle: int  # seconds since the dynamic fee's last update
    price: float  # units of b per unit of a
    depth: int  # units of b the pool holds (about)
    width: float  # 0: the whole price range; else the range's half-width, a share of log price
    fee_version: int
    status: int  # pool_status: 0 enabled, 1 disabled


BASES = st.one_of(
    st.tuples(st.just("flat"), st.sampled_from([0, 100_000, 2_500_000, 10_000_000, 500_000_000])),
    st.tuples(
        st.just("time"),
        st.sampled_from([10_000_000, 50_000_000, 500_000_000]),
        st.integers(1, 120),
        st.sampled_from([1, 5, 60]),
        st.sampled_from([10_000, 100_000, 500]),
        st.booleans(),
    ),
    st.tuples(
        st.just("market_cap"),
        st.sampled_from([10_000_000, 50_000_000]),
        st.integers(1, 20),
        st.sampled_from([10, 100, 500]),
        st.sampled_from([86_400, 10**8]),
        st.sampled_from([1_000_000, 5_000_000, 500]),
        st.booleans(),
    ),
    st.tuples(
        st.just("rate_limiter"),
        st.sampled_from([2_500_000, 10_000_000]),
        st.sampled_from([10, 100]),
        st.sampled_from([0, 60, 10**6]),
        st.sampled_from([500, 5_000]),
        st.sampled_from([10**6, 10**9, 10**12]),
    ),
)


@st.composite
def shapes(draw: Any) -> Shape:
    return Shape(
        draw(st.sampled_from(["spl", "spl", "fee", "fee_capped"])),
        draw(st.integers(0, 2)),
        draw(BASES),
        draw(
            st.tuples(
                st.sampled_from([0, 1]),
                st.sampled_from([0, 120_000, 5_000_000]),
                st.sampled_from([0, 10**6, 14_460_000]),
            )
        ),
        draw(st.sampled_from([0, 20, 50])),
        draw(st.sampled_from([0, 1_000, 5_000])),
        draw(st.booleans()),
        draw(st.sampled_from([0, 30, 3_000, 10**6, 0, 30, 3_000, 10**6, -50])),
        draw(st.sampled_from([0, 5, 60, 10_000])),
        draw(st.floats(1e-4, 1e4)),
        draw(st.sampled_from([10**6, 10**12, 10**16])),
        draw(st.sampled_from([0.0, 0.0, 0.05, 0.5])),
        draw(st.sampled_from([0, 1])),
        draw(st.sampled_from([0] * 9 + [1])),
    )


def base_fee(b: tuple[Any, ...]) -> bytes:
    """The ``BaseFeeInfo`` bytes of a drawn base fee."""
    kind = b[0]
    if kind == "flat":
        return Dsim.time_base_fee(b[1])
    if kind == "time":
        return Dsim.time_base_fee(b[1], b[2], b[3], b[4], b[5])
    if kind == "market_cap":
        return Dsim.market_cap_base_fee(*b[1:])
    _, cliff, increment, duration, max_bps, reference = b
    return struct.pack(
        "<QB5xHIIQ", cliff, Dsim.RATE_LIMITER, increment, duration, max_bps, reference
    )


_SERIAL = [0]


def make_pool(j: Judge, s: Shape) -> Pool:
    """A new DAMM v2 pool of shape ``s`` in ``j``'s world (the simulated program's
    market-making ``create`` for its addresses and vaults, then the drawn state)."""
    w = j.world
    mint_a, mint_b = C.mints(j, s.mints)
    _SERIAL[0] += 1
    spec = synthetic.PoolSpec("", "cpmm", mint_a, mint_b, 10**9, 10**9, venue="meteora_damm_v2")
    pool = C.register(j, Dsim._create(w, 3 * (_SERIAL[0] + 100) + s.mode, spec))
    rec = pool.record
    point_now = w.unix_time() if s.by_time else w.slot
    sqrt_price = math.isqrt(int(s.price * 2**128)) or 1
    a_depth = max(1, int(s.depth / s.price))
    if s.mode == 2:  # compounding: the amounts are the curve
        ta, tb = a_depth, s.depth
        sqrt_price = math.isqrt((tb << 128) // ta) or 1
        lo, hi = 0, (1 << 128) - 1
        liquidity = math.isqrt(ta * tb) << 64
    else:
        if s.width == 0:
            lo, hi = FULL
        else:
            k = math.exp(s.width)
            lo = max(FULL[0], int(sqrt_price / math.sqrt(k)))
            hi = min(FULL[1], int(sqrt_price * math.sqrt(k)))
        sqrt_price = min(max(sqrt_price, lo + 1), hi - 1)
        # the liquidity that holds about ``depth`` of b below the price
        liquidity = max(1, (s.depth << 128) // max(1, sqrt_price - lo))
        ta = -(-liquidity * (hi - sqrt_price) // (sqrt_price * hi))
        tb = -(-liquidity * (sqrt_price - lo) >> 128)
    on, control, volatility = s.dynamic
    rec = replace(
        rec,
        base_fee=base_fee(s.base),
        protocol_fee_percent=s.protocol_pct,
        compounding_fee_bps=s.compounding_bps if s.mode == 2 else 0,
        dynamic_fee_initialized=on,
        max_volatility_accumulator=14_460_000 if on else 0,
        variable_fee_control=control if on else 0,
        bin_step=1 if on else 0,
        filter_period=10 if on else 0,
        decay_period=120 if on else 0,
        dynamic_reduction_factor=5_000 if on else 0,
        last_update_timestamp=max(0, w.unix_time() - s.idle) if on else 0,
        bin_step_u128=ONE_BPS_STEP if on else 0,
        sqrt_price_reference=sqrt_price if on else 0,
        volatility_accumulator=volatility if on else 0,
        volatility_reference=volatility // 2 if on else 0,
        init_sqrt_price=sqrt_price,
        liquidity=liquidity,
        protocol_a_fee=0,
        protocol_b_fee=0,
        sqrt_min_price=lo,
        sqrt_max_price=hi,
        sqrt_price=sqrt_price,
        activation_point=max(0, point_now - s.since),
        activation_type=int(s.by_time),
        pool_status=s.status,
        collect_fee_mode=s.mode,
        fee_version=s.fee_version,
        token_a_amount=ta,
        token_b_amount=tb,
    )
    w.accounts[pool.address].data = Dsim.encode_pool(rec, w.accounts[pool.address].data)
    for vault, amount in ((pool.vault_a, ta), (pool.vault_b, tb)):
        w.move_tokens(vault, amount - w.balance(vault))
    load = Dsim.SIM.program.load
    assert load is not None
    load(w, pool)
    return pool


def depth(pool: Pool, a_to_b: bool) -> int:
    """The input side's tracked amount."""
    rec = pool.record
    return int(rec.token_a_amount if a_to_b else rec.token_b_amount)

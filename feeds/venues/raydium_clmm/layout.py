"""Raydium CLMM's accounts: the program, its ``PoolState``, ``AmmConfig``,
``TickArrayState`` accounts (with the pool's bitmap of which exist), the bitmap
extension, the ``ObservationState`` and the ``SwapEvent`` it logs: sizes,
discriminators, offsets, and the PDAs they live at (see the package's docstring)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from ..ids import ids, program

IDS = ids("raydium_clmm")
PROGRAM = program(IDS)
POOL_LEN = IDS.pool_account_size  # PoolState::LEN, 1,544
CONFIG_LEN = 117  # AmmConfig::LEN
TICK_ARRAY_LEN = 10240  # TickArrayState::LEN
EXTENSION_LEN = 1832  # TickArrayBitmapExtension::LEN
TICK_ARRAY_SIZE = 60  # ticks per tick array
TICK_LEN = 168  # bytes per TickState
MIN_TICK, MAX_TICK = -443_636, 443_636
MIN_SQRT_PRICE_X64 = 4_295_048_016
MAX_SQRT_PRICE_X64 = 79_226_673_521_066_979_257_578_248_091
# Anchor: sha256("account:<Type>")[..8]; PoolState's and AmmConfig's are CP-Swap's too
DISC_POOL = hashlib.sha256(b"account:PoolState").digest()[:8]
DISC_CONFIG = hashlib.sha256(b"account:AmmConfig").digest()[:8]
DISC_TICK_ARRAY = hashlib.sha256(b"account:TickArrayState").digest()[:8]
DISC_BITMAP_EXTENSION = hashlib.sha256(b"account:TickArrayBitmapExtension").digest()[:8]
DISC_SWAP_EVENT = hashlib.sha256(b"event:SwapEvent").digest()[:8]
DISC_OBSERVATION = hashlib.sha256(b"account:ObservationState").digest()[:8]
# ObservationState (states/oracle.rs since 5f96f58, 2024-08): initialized u8 at 8,
# recent_epoch u64 at 9, observation_index u16 at 17, pool_id at 19, then 100
# observations of 44 bytes at 51 (block_timestamp u32, tick_cumulative i64, padding)
OBSERVATION_LEN = 4483  # ObservationState::LEN
OBSERVATION_NUM = 100
OBSERVATION_AT = 51
OBSERVATION_ITEM_LEN = 44
OBSERVATION_UPDATE_DURATION = 15  # seconds between two observations
# TickState (168 bytes from 44 in a TickArrayState): tick i32, liquidity_net i128,
# liquidity_gross u128, fee_growth_outside_0/1 u128, reward_growths_outside [u128; 3]
TICK_FEE_GROWTH_OUTSIDE_0 = 36
SWAP_EVENT_LEN = 221


def array_start(tick: int, tick_spacing: int) -> int:
    """The start of the tick array holding ``tick`` (``get_array_start_index``)."""
    n = TICK_ARRAY_SIZE * tick_spacing
    return tick // n * n


def initialized_starts(bitmap: Sequence[int], tick_spacing: int) -> list[int]:
    """The starts of the tick arrays the pool's own bitmap calls initialized (bit ``b``:
    start ``(b - 512) * 60 * tick_spacing``, ``tick_array_bit_map.rs``)."""
    tc = TICK_ARRAY_SIZE * tick_spacing
    out = []
    for w, word in enumerate(bitmap):
        while word:  # its set bits alone, lowest first (a pool has a few of 1,024)
            low = word & -word
            out.append((w * 64 + low.bit_length() - 1 - 512) * tc)
            word ^= low
    return out


def _addr(kind: str, *args: object) -> str:
    import engine_rs

    return str(engine_rs.backend().raydium_clmm.address(kind, *args)[0])


def decode_pool(eng: Any, data: bytes, owner: str) -> Any:
    """The ``PoolState`` account, decoded by the engine."""
    return eng.raydium_clmm.decode_pool(data, owner)

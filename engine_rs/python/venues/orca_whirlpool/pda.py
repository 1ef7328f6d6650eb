"""Orca Whirlpool's program-derived addresses (spec §2.4): a pool, its tick arrays and
its oracle. Twin of ``crates/core/src/venues/orca_whirlpool/pda.rs``; the derivation
and the derive-once cache are the shared machinery of :mod:`engine_rs.python.derive`
and :mod:`engine_rs.python.pda`.
"""

from __future__ import annotations

from ....errors import InvalidInputError
from ..._ints import i32, i64
from ...b58 import decode_32
from ...derive import _find, _id32
from ..ticks import array_starts
from .swap import TICK_ARRAY_SIZE

PROGRAM_ID = "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"
WHIRLPOOL_PROGRAM_ID = PROGRAM_ID  # the program of the Whirlpool PDAs
_PROGRAM = decode_32(WHIRLPOOL_PROGRAM_ID)


def fee_tier(v: int) -> int:
    """A fee tier index argument (u16; InvalidInputError otherwise)."""
    if not 0 <= v <= 0xFFFF:
        raise InvalidInputError(f"fee_tier_index must be within 0..=65535, got {v}")
    return v


def whirlpool_address(
    config: object, mint_a: object, mint_b: object, fee_tier_index: int
) -> tuple[str, int]:
    """The Whirlpool PDA: seeds ``["whirlpool", config, mint_a, mint_b, fee_tier_index
    u16 LE]`` (use the pool's stored ``fee_tier_index_seed``, spec §2.4)."""
    fee_tier_index = i64(fee_tier_index)  # argument types first, as the extension does
    c, a, b = _id32(config, "config"), _id32(mint_a, "mint_a"), _id32(mint_b, "mint_b")
    fee = fee_tier(fee_tier_index)
    return _find([b"whirlpool", c, a, b, fee.to_bytes(2, "little")], _PROGRAM)


def tick_array_address(whirlpool: object, start_tick_index: int) -> tuple[str, int]:
    """A tick array PDA: seeds ``["tick_array", whirlpool, str(start_tick_index)]``."""
    start = i32(start_tick_index)
    w = _id32(whirlpool, "whirlpool")
    return _find([b"tick_array", w, str(start).encode()], _PROGRAM)


def oracle_address(whirlpool: object) -> tuple[str, int]:
    """A Whirlpool's oracle PDA: seeds ``["oracle", whirlpool]``."""
    return _find([b"oracle", _id32(whirlpool, "whirlpool")], _PROGRAM)


def tick_array_starts(tick_spacing: int, center_tick: int, arrays_each_side: int) -> list[int]:
    """Start indices of the tick array holding ``center_tick`` and ``arrays_each_side``
    arrays on each side (88 ticks per array)."""
    return array_starts(TICK_ARRAY_SIZE, tick_spacing, center_tick, arrays_each_side)

"""Meteora DLMM's accounts: the program, the ``LbPair`` (904 bytes), its ``BinArray``
accounts of 70 bins (10,136 bytes), the pair's ``Oracle``, the PDAs they live at, and
which bin arrays the pair's bitmap marks (see the package's docstring)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from ...wire.instructions import pdas
from ..ids import ids, program

IDS = ids("meteora_dlmm")
PROGRAM = program(IDS)
POOL_LEN = IDS.pool_account_size  # 904
BIN_ARRAY_LEN = 10_136
BINS_PER_ARRAY = 70
BIN_LEN = 144
BITMAP_SIZE = 512  # the pair's own bitmap covers array indexes -512..=511
DISC_LB_PAIR = bytes([33, 11, 49, 98, 181, 101, 177, 13])  # sha256("account:LbPair")[..8]
DISC_BIN_ARRAY = bytes([92, 142, 92, 220, 5, 148, 70, 181])  # sha256("account:BinArray")[..8]
DISC_ORACLE = bytes([139, 194, 131, 179, 140, 179, 229, 244])  # sha256("account:Oracle")[..8]
ORACLE_LENGTH = 100  # observations a new pair's oracle holds (DEFAULT_OBSERVATION_LENGTH)
ORACLE_LEN = 8 + 24 + 32 * ORACLE_LENGTH
SAMPLE_LIFETIME = 120  # seconds an observation accumulates before the next (constants.rs)


def _pda(seeds: list[bytes]) -> str:
    return str(pdas().find(seeds, PROGRAM)[0])


def _raw(key: str) -> bytes:
    from solders.pubkey import Pubkey

    return bytes(Pubkey.from_string(key))


def event_authority() -> str:
    """Anchor's event authority of the program: PDA ``["__event_authority"]``."""
    return _pda([b"__event_authority"])


def bin_array_address(pair: str, index: int) -> str:
    """A bin array: PDA ``["bin_array", pair, index as i64 LE]``."""
    return _pda([b"bin_array", _raw(pair), struct.pack("<q", index)])


def reserve_address(pair: str, mint: str) -> str:
    """A reserve: PDA ``[pair, mint]``."""
    return _pda([_raw(pair), _raw(mint)])


def oracle_address(pair: str) -> str:
    """The pair's oracle: PDA ``["oracle", pair]``."""
    return _pda([b"oracle", _raw(pair)])


def lb_pair_pda(mint_x: str, mint_y: str, bin_step: int, base_factor: int) -> tuple[str, int]:
    """A permissionless pair (``derive_lb_pair_pda2``) and its bump: PDA ``[min mint, max
    mint, bin_step LE, base_factor LE]``."""
    lo, hi = sorted((_raw(mint_x), _raw(mint_y)))
    key, bump = pdas().find(
        [lo, hi, struct.pack("<H", bin_step), struct.pack("<H", base_factor)], PROGRAM
    )
    return str(key), bump


def lb_pair_address(mint_x: str, mint_y: str, bin_step: int, base_factor: int) -> str:
    """A permissionless pair (``derive_lb_pair_pda2``): PDA ``[min mint, max mint, bin_step
    LE, base_factor LE]``."""
    return lb_pair_pda(mint_x, mint_y, bin_step, base_factor)[0]


def next_array(bitmap: Sequence[int], start: int, swap_for_y: bool) -> int | None:
    """The next bin-array index from ``start`` (inclusive) the pair's bitmap marks, in
    the swap's direction; None past the bitmap's range (the extension's)."""
    if not -BITMAP_SIZE <= start < BITMAP_SIZE:
        return None
    word = sum(w << (64 * i) for i, w in enumerate(bitmap))
    off = start + BITMAP_SIZE
    if swap_for_y:
        masked = word & ((1 << (off + 1)) - 1)
        return masked.bit_length() - 1 - BITMAP_SIZE if masked else None
    masked = word >> off
    return off + (masked & -masked).bit_length() - 1 - BITMAP_SIZE if masked else None


def decode_pool(eng: Any, data: bytes, owner: str) -> Any:
    """The ``LbPair`` account, decoded by the engine."""
    return eng.meteora_dlmm.decode_pool(data, owner)

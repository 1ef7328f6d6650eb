"""Orca Whirlpool's accounts: the program, the ``Whirlpool`` pool account (653 bytes,
spec §2.2) and its fixed ``TickArray`` accounts of 88 ticks (9,988 bytes, spec §2.3) at
PDAs of the pool, the tick-array rules a swap follows, and the zeroed array the program
reads where nobody initialized one."""

from __future__ import annotations

from typing import Any

from ...wire.writer import Writer
from ..ids import ids, program

IDS = ids("orca_whirlpool")
PROGRAM = program(IDS)
POOL_LEN = IDS.pool_account_size
FIXED_TICK_ARRAY_LEN = 9988
TICK_ARRAY_SIZE = 88  # ticks per tick array
TICK_LEN = 113  # bytes per tick in a fixed tick array
MIN_TICK_INDEX = -443_636
MAX_TICK_INDEX = 443_636
MIN_SQRT_PRICE_X64 = 4_295_048_016
MAX_SQRT_PRICE_X64 = 79_226_673_515_401_279_992_447_579_055
DISC_WHIRLPOOL = bytes.fromhex("3f95d10ce1806309")  # Anchor: sha256("account:Whirlpool")[..8]
DISC_FIXED_TICK_ARRAY = bytes.fromhex("4561bdbe6e0742bb")  # sha256("account:TickArray")[..8]
DISC_TRADED = bytes.fromhex("e1ca49af932ba096")  # sha256("event:Traded")[..8]
WHIRLPOOLS_CONFIG = "2LecshUwdy9xi7meFgHtFJQNSKk4KdTrcpvaB56dP2NQ"  # mainnet config


def is_valid_start_tick(start: int, size: int) -> bool:
    """Whether ``start`` can begin a tick array of ``size`` ticks (the program's rule:
    a multiple of ``size`` within the price range, or the one array holding MIN_TICK)."""
    if not MIN_TICK_INDEX <= start <= MAX_TICK_INDEX:
        if start > MIN_TICK_INDEX:
            return False
        # Rust's % truncates toward zero: MIN % size is <= 0
        rem = -(-MIN_TICK_INDEX % size)
        return start == MIN_TICK_INDEX - (rem + size)
    return start % size == 0


def swap_tick_array_starts(tick_spacing: int, tick_current: int, a_to_b: bool) -> list[int]:
    """The start indices of the (up to 3) tick arrays a swap loads, in order: the array
    holding the current tick (for b->a, the next one when the tick sits in the last
    ``tick_spacing`` ticks of its array), then further in the swap's direction; starts
    past the price range are left out (the engine's ``orca_whirlpool.swap`` follows the
    same rule)."""
    size = TICK_ARRAY_SIZE * tick_spacing
    base = tick_current // size * size
    first = base + size if not a_to_b and tick_current + tick_spacing >= base + size else base
    step = -size if a_to_b else size
    out = []
    for k in range(3):
        s = first + k * step
        if not is_valid_start_tick(s, size):
            break
        out.append(s)
    return out


def decode_pool(eng: Any, data: bytes, owner: str) -> Any:
    """The ``Whirlpool`` account, decoded by the engine."""
    return eng.orca_whirlpool.decode_pool(data, owner)


def encode_fixed_tick_array(
    start_tick_index: int,
    whirlpool: str,
    ticks: list[tuple[int, int, int]],
    base: bytes | None = None,
) -> bytes:
    """A fixed ``TickArray`` (9,988 bytes, spec §2.3); ``ticks`` are the initialized ones
    as ``(i, liquidity_net, liquidity_gross)`` with ``0 <= i < 88``; the others are
    written uninitialized (net and gross zero)."""
    w = Writer(FIXED_TICK_ARRAY_LEN, base, DISC_FIXED_TICK_ARRAY)
    w.i32(8, start_tick_index)
    init = {i: (net, gross) for i, net, gross in ticks}
    if any(not 0 <= i < TICK_ARRAY_SIZE for i in init):
        raise ValueError("tick offsets must be in [0, 88)")
    for i in range(TICK_ARRAY_SIZE):
        off = 12 + TICK_LEN * i
        net, gross = init.get(i, (0, 0))
        w.u8(off, 1 if i in init else 0)
        w.i128(off + 1, net)
        w.u128(off + 17, gross)
    w.key(9956, whirlpool)
    return w.done()

"""What the two tick venues share (Orca Whirlpool and Raydium CLMM; twin of
``crates/core/src/venues/ticks.rs``): both keep a pool's initialized ticks in arrays of
a fixed number of ticks (88 and 60) laid out the same way, take tick lists the same way,
and count the ticks a swap crossed the same way. Each venue's own tick math (their
programs round differently) stays in its module.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence

from ...errors import InvalidInputError
from .._ints import i32, i128

# the lowest sqrt price (Q64.64) of both programs, at their lowest tick (-443636)
MIN_SQRT_PRICE_X64 = 4_295_048_016


def checked_ticks(ticks: object) -> list[tuple[int, int]]:
    """A tick list argument as ``(tick_index, liquidity_net)`` pairs of i32 and i128
    (TypeError for anything else: the Rust skin's ``fast::get_ticks``)."""
    if not isinstance(ticks, Iterable) or isinstance(ticks, (str, bytes)):
        raise TypeError("ticks: expected a sequence of (tick_index, liquidity_net) pairs")
    out: list[tuple[int, int]] = []
    for item in ticks:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError("ticks: expected (tick_index, liquidity_net) pairs")
        out.append((i32(item[0]), i128(item[1])))
    return out


def crossed_ticks(ticks: Sequence[tuple[int, ...]], before: int, after: int, a_to_b: bool) -> int:
    """How many initialized ticks of ``ticks`` (sorted by index, the index first) a swap
    from tick ``before`` to tick ``after`` crossed: going down those in ``(after,
    before]`` (crossing a tick leaves the current tick one below it), going up those in
    ``(before, after]`` (twin of Rust ``venues::ticks::crossed_ticks``; the simulator's
    ``feeds/venues/orca_whirlpool.py`` ``crossed_ticks``). Two binary searches."""
    lo, hi = (after, before) if a_to_b else (before, after)
    if hi <= lo:
        return 0

    def index(t: tuple[int, ...]) -> int:
        return t[0]

    return bisect_right(ticks, hi, key=index) - bisect_right(ticks, lo, key=index)


def array_starts(
    ticks_per_array: int, tick_spacing: int, center_tick: int, arrays_each_side: int
) -> list[int]:
    """Start indices of the arrays of ``ticks_per_array`` ticks of ``tick_spacing``
    around ``center_tick`` (the one holding it and ``arrays_each_side`` on each side),
    (the rule of both venues' ``orca_whirlpool.tick_array_starts``); InvalidInputError for a spacing
    outside 1..=65535, more than 64 arrays a side, or a start outside i32."""
    if not 1 <= tick_spacing <= 0xFFFF:
        raise InvalidInputError(f"tick_spacing must be within 1..=65535, got {tick_spacing}")
    if not 0 <= arrays_each_side <= 64:
        raise InvalidInputError(f"arrays_each_side must be within 0..=64, got {arrays_each_side}")
    width = ticks_per_array * tick_spacing
    start = center_tick // width * width
    out = []
    for k in range(-arrays_each_side, arrays_each_side + 1):
        s = start + k * width
        if not -(1 << 31) <= s < (1 << 31):
            raise InvalidInputError(f"tick array start {s} does not fit in i32")
        out.append(s)
    return out

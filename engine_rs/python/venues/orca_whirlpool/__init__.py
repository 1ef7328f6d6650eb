"""Orca Whirlpool (twin of ``crates/core/src/venues/orca_whirlpool/``): the
``Whirlpool`` and tick-array accounts (spec §2.2, §2.3), its quotes through the
program's swap (:mod:`.swap`, spec §2.5), its PDAs (:mod:`.pda`, spec §2.4) and its
Anchor ``Traded`` event (spec §6.2).

A Whirlpool quotes from its own account (price, liquidity, current tick, fee) and the
initialized ticks of its tick arrays, which the caller tracks
(``FeedIngest.track_array`` / ``untrack_array``: which arrays depends on the price).
Its vaults are followed for their mints only.

The held range: its quote state (:class:`WhirlpoolState`) knows the ticks it holds, the
contiguous run of received arrays around the array of the current tick (an array
tracked but not yet received is not held). A quote whose swap would step past that
range (its final price beyond the range's edge, or a swap that fails while the
program's window of arrays is not all held) raises :class:`TicksMissingError`, never a
number computed as if the missing arrays had no initialized ticks. The spot rate needs
no ticks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ....decoded import TickArray, Traded, Whirlpool
from ....errors import AccountTooShortError, DecodeError, EngineError, TicksMissingError
from ....records import SwapResult, VenueInfo
from ...decode import as_bytes, check
from .. import base
from ..base import Assembly, OwnAccount, no_role
from ..exact import ExactSwaps
from ..ticks import checked_ticks, crossed_ticks
from .pda import PROGRAM_ID as PROGRAM_ID
from .pda import WHIRLPOOL_PROGRAM_ID as WHIRLPOOL_PROGRAM_ID
from .pda import oracle_address as oracle_address
from .pda import tick_array_address as tick_array_address
from .pda import tick_array_starts as tick_array_starts
from .pda import whirlpool_address as whirlpool_address
from .swap import (
    MAX_SQRT_PRICE_X64,
    MAX_TICK_INDEX,
    MIN_SQRT_PRICE_X64,
    MIN_TICK_INDEX,
    TICK_ARRAY_SIZE,
    ClmmPool,
    sqrt_price_from_tick,
)
from .swap import clmm_spot_rate as clmm_spot_rate
from .swap import clmm_swap as clmm_swap
from .swap import tick_from_sqrt_price as tick_from_sqrt_price

# the same program deployed without an upgrade authority (it owns Whirlpools too)
IMMUTABLE_PROGRAM_ID = "iwhrLHdsgrvmnwU8GF2FSmyabSMjfHwFGJAX2ufJ3ZN"
DISC_WHIRLPOOL = bytes.fromhex("3f95d10ce1806309")
DISC_FIXED_TICK_ARRAY = bytes([69, 97, 189, 190, 110, 7, 66, 187])
DISC_DYNAMIC_TICK_ARRAY = bytes([17, 216, 246, 142, 225, 199, 218, 56])
DISC_TRADED = bytes([225, 202, 73, 175, 147, 43, 160, 150])
POOL_SIZE = 653  # Whirlpool with its discriminator
FIXED_TICK_ARRAY_SIZE = 9988  # a dynamic one is 148 bytes plus 112 per initialized tick
_DYNAMIC_TICK_ARRAY_MIN = 148
_TICK_LEN = 113  # one tick of a fixed array (an initialized one of a dynamic, with its tag)
TICK_ARRAY = "tick_array"  # the role of its tick arrays
_OWNERS = (PROGRAM_ID, IMMUTABLE_PROGRAM_ID)

LOG_PREFIX: str | None = None
ARRAYS: str | None = TICK_ARRAY
OWN_ROLES = base.own_roles(ARRAYS, TICK_ARRAY)
INFO = VenueInfo("orca_whirlpool", "whirlpool", "wp", "clmm", _OWNERS, POOL_SIZE, ARRAYS)


def decode_whirlpool(data: bytes, owner: object = None) -> Whirlpool:
    """Orca ``Whirlpool`` (spec §2.2)."""
    r = check(data, "Whirlpool", POOL_SIZE, DISC_WHIRLPOOL, owner, _OWNERS)
    k = r.key
    fields = [
        *r.packed(8, "key u8 u16*4 u128*2 i32 u64*2 key*2 u128 key*2 u128 u64"),
        (k(269), k(397), k(525)),
    ]
    return Whirlpool(*fields)


decode = decode_whirlpool  # the pool account's decoder


def decode_tick_array(data: bytes, owner: object = None) -> TickArray:
    """A Whirlpool tick array, fixed (9,988 bytes) or dynamic (148..10,004), by its
    discriminator (spec §2.3)."""
    discs = (DISC_FIXED_TICK_ARRAY, DISC_DYNAMIC_TICK_ARRAY)
    raw = as_bytes(data, "TickArray")
    ticks: list[tuple[int, int, int]] = []
    if raw[:8] == DISC_DYNAMIC_TICK_ARRAY:
        r = check(raw, "DynamicTickArray", _DYNAMIC_TICK_ARRAY_MIN, discs, owner, _OWNERS)
        bitmap = r.u128(44)
        off = 60
        for i in range(TICK_ARRAY_SIZE):
            if off >= len(raw):
                raise AccountTooShortError(f"DynamicTickArray: tick {i} at {off} is past the end")
            tag = raw[off]
            if tag == 0:
                if bitmap >> i & 1:
                    raise DecodeError(f"DynamicTickArray: bitmap says tick {i} is initialized")
                off += 1
                continue
            if tag != 1 or not bitmap >> i & 1:
                raise DecodeError(f"DynamicTickArray: tick {i} tag {tag} disagrees with the bitmap")
            if off + _TICK_LEN > len(raw):
                raise AccountTooShortError(f"DynamicTickArray: tick {i} runs past the end")
            ticks.append((i, r.i128(off + 1), r.u128(off + 17)))
            off += _TICK_LEN
        return TickArray("dynamic", r.i32(8), r.key(12), tuple(ticks))
    r = check(raw, "TickArray", FIXED_TICK_ARRAY_SIZE, discs, owner, _OWNERS)
    for i in range(TICK_ARRAY_SIZE):
        off = 12 + _TICK_LEN * i
        if r.flag(off):
            ticks.append((i, r.i128(off + 1), r.u128(off + 17)))
    return TickArray("fixed", r.i32(8), r.key(9956), tuple(ticks))


def parse_event(raw: bytes) -> Traded | None:
    """Its ``Traded`` event when the discriminator is that; None otherwise."""
    r = base.event_reader(raw, DISC_TRADED, "Traded", 121)
    return None if r is None else Traded(*r.packed(8, "key flag u128*2 u64*6"))


parse_log = base.no_log


# eng.orca_whirlpool, its public namespace (Venue.API): a public name, then its definition
API = base.api(
    """
    PROGRAM_ID          WHIRLPOOL_PROGRAM_ID
    decode_pool         decode_whirlpool
    decode_tick_array
    swap                clmm_swap
    spot_rate           clmm_spot_rate
    sqrt_price_at_tick  sqrt_price_from_tick
    tick_at_sqrt_price  tick_from_sqrt_price
    pool_address        whirlpool_address
    tick_array_address
    oracle_address
    tick_array_starts
    """
)


# its pool account's identity (config, bump, tick spacing, fee tier, both mints and both
# vaults), a field a line, its mints and vaults marked
identity, reserve_mints, vaults = base.pool_fields(
    """
    whirlpools_config
    whirlpool_bump
    tick_spacing
    fee_tier_index_seed
    token_mint_a         mint_a
    token_vault_a        vault_a
    token_mint_b         mint_b
    token_vault_b        vault_b
    """
)


def followed(rec: Whirlpool) -> tuple[tuple[str, str], ...]:
    return ()  # its tick arrays are tracked by the caller


@dataclass(slots=True)
class TickArrays:
    """What the ingest keeps of a Whirlpool's tick arrays: per array account, its start
    index and the ``(offset, liquidity_net)`` of its initialized ticks."""

    arrays: dict[str, tuple[int, list[tuple[int, int]]]] = field(default_factory=dict)


def new_own() -> TickArrays:
    return TickArrays()


def forget(own: TickArrays, pubkey: str) -> bool:
    """Forget the array at ``pubkey`` (untracked): its ticks leave the pool's state.
    False when it was never received."""
    return own.arrays.pop(pubkey, None) is not None


def absent(own: TickArrays, pubkey: str) -> bool:
    """The array at ``pubkey`` does not exist on chain: the program reads it as a zeroed
    one (orca-so/whirlpools ``SparseSwapTickSequenceBuilder``: an account of the system
    program with no data is a ``TickArray`` with every tick uninitialized), so it keeps
    its start with no initialized tick (and the pool's held range with it). An array
    never received stays unknown (its start is not in the account). True when ticks
    were dropped."""
    had = own.arrays.get(pubkey)
    if had is None or not had[1]:
        return False
    own.arrays[pubkey] = (had[0], [])
    return True


@dataclass(frozen=True, slots=True)
class Held:
    """The tick range a Whirlpool's quote state holds: arrays ``lo..hi`` (tick indexes,
    ``hi`` exclusive) received without a gap around the current tick's array, with the
    sqrt prices of its edges (the price bound itself at the first and last arrays).
    Empty (``lo == hi``) when the current tick's array is not held."""

    lo: int
    hi: int
    lo_price: int
    hi_price: int

    @staticmethod
    def around(starts: set[int], tick: int, spacing: int) -> Held:
        """The run of ``starts`` around the array of ``tick``."""
        size = TICK_ARRAY_SIZE * max(spacing, 1)
        cur = tick // size * size
        if cur not in starts:
            return Held(cur, cur, 0, 0)
        lo, hi = cur, cur + size
        while lo > MIN_TICK_INDEX and lo - size in starts:
            lo -= size
        while hi <= MAX_TICK_INDEX and hi in starts:
            hi += size

        def price(t: int, edge: int) -> int:
            if t <= MIN_TICK_INDEX or t > MAX_TICK_INDEX:
                return edge
            return sqrt_price_from_tick(t)

        return Held(lo, hi, price(lo, MIN_SQRT_PRICE_X64), price(hi, MAX_SQRT_PRICE_X64))

    def is_empty(self) -> bool:
        return self.lo == self.hi

    def reaches(self, sqrt_price: int, a_to_b: bool) -> bool:
        """Whether a swap ending at ``sqrt_price`` stayed in the held range."""
        if self.is_empty():
            return False
        return sqrt_price >= self.lo_price if a_to_b else sqrt_price <= self.hi_price

    def covers_window(self, pool: ClmmPool, a_to_b: bool) -> bool:
        """Whether every array the program's swap could load from ``pool`` (its 3, or up
        to the price bound) is held: then a failed swap failed on the real ticks."""
        if self.is_empty():
            return False
        ts = max(pool.tick_spacing, 1)
        size = TICK_ARRAY_SIZE * ts
        base = pool.tick_current // size * size
        if a_to_b:
            return self.lo <= MIN_TICK_INDEX or self.lo <= base - 2 * size
        first = base + size if pool.tick_current + ts >= base + size else base
        return self.hi > MAX_TICK_INDEX or self.hi >= first + 3 * size


@dataclass(frozen=True, slots=True)
class WhirlpoolState:
    """A Whirlpool's quote state: the program's swap state and the tick range it holds
    (None: every tick given, as ``PoolGraph.upsert_clmm`` takes them)."""

    pool: ClmmPool
    held: Held | None


def _own_tick_array(role: str, cx: OwnAccount) -> TickArray:
    if role != TICK_ARRAY:
        raise no_role(INFO, role)
    ta = decode_tick_array(cx.data, cx.owner)
    base.belongs("tick array", ta.whirlpool, cx)
    return ta


def own_account(own: TickArrays, role: str, cx: OwnAccount) -> None:
    ta = _own_tick_array(role, cx)
    own.arrays[cx.pubkey] = (ta.start_tick_index, [(i, net) for i, net, _ in ta.ticks])


def check_own_account(role: str, cx: OwnAccount) -> None:
    _own_tick_array(role, cx)


def update(own: TickArrays, rec: Whirlpool, cx: Assembly) -> tuple[WhirlpoolState, int] | None:
    """The pool account's state with the initialized ticks of every array held, and the
    range they cover around the current tick."""
    slot = cx.slot()
    ts = rec.tick_spacing
    ticks = checked_ticks(
        sorted((start + i * ts, net) for start, arr in own.arrays.values() for i, net in arr)
    )
    cx.check_ids()
    pool = ClmmPool(rec.sqrt_price, rec.liquidity, rec.tick_current_index, ts, rec.fee_rate, ticks)
    held = Held.around({start for start, _ in own.arrays.values()}, rec.tick_current_index, ts)
    return WhirlpoolState(pool, held), slot


def _swap(state: WhirlpoolState, amount: int, a_to_b: bool) -> SwapResult | None:
    """The program's swap (3 tick arrays, no price limit) of ``amount`` (> 0) with the
    held range's verdict: None when it cannot be done in full with the arrays it needs
    held (a partial fill, a program error); TicksMissingError when it stepped (or may
    have stepped) past them."""
    held = state.held
    try:
        r = state.pool.swap(amount, a_to_b, True, None, 0)
    except EngineError:
        r = None
    # a partial fill (price limit reached) is not the trade asked for
    if r is not None and r.amount_in == amount:
        if held is None or held.reaches(r.sqrt_price_x64, a_to_b):
            return r
        raise TicksMissingError("the swap steps past the tick arrays held")
    if held is None or held.covers_window(state.pool, a_to_b):
        return None
    raise TicksMissingError("the swap may step past the tick arrays held")


def spot_rate(state: WhirlpoolState, a_to_b: bool) -> float:
    """The price's, after the fee: no ticks needed."""
    return state.pool.spot_rate(a_to_b)


def _steps(state: WhirlpoolState, r: SwapResult, a_to_b: bool) -> int:
    """A swap's steps in the venue's compute-unit model: the initialized ticks it crossed
    (``crossed_ticks``; the Token-2022 surcharge is the mints', the caller's)."""
    p = state.pool
    return crossed_ticks(p.ticks, p.tick_current, r.tick_current, a_to_b)


EXACT = ExactSwaps(_swap, _steps, spot_rate)
quote_checked = EXACT.quote_checked
quote_steps = EXACT.quote_steps
quote = EXACT.quote
leg = EXACT.leg

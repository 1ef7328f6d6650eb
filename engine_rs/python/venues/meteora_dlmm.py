"""Meteora DLMM (twin of ``crates/core/src/venues/meteora_dlmm/`` and its ``math.rs``):
the ``LbPair``, ``BinArray`` and ``BinArrayBitmapExtension`` accounts (layouts:
``MeteoraAg/dlmm-sdk`` ``idls/dlmm.json``, program ``lb_clmm`` 0.12.0), its exact-in
quotes through the program's bin walk (``commons/src/quote.rs``,
``extensions/{lb_pair,bin}.rs``) and its Anchor ``Swap`` event.

A pair quotes from its own account (active bin, fee parameters, volatility state, the
bitmap of bin arrays holding liquidity for array indexes -512..=511) and the bins of its
bin arrays, which the caller tracks (``FeedIngest.track_array``). Its reserves are
followed for their mints only.

The swap: at the start the program updates the volatility references at the clock's time
(``now``); then for each bin from the active one in the swap's direction, a bin with
liquidity to give (market-making amounts, and limit orders when the pair supports them)
updates the volatility accumulator by its distance to the index reference and fills at
the bin's price with the fee rate of that accumulator (base + variable, capped at 10%),
on the input or (``collect_fee_mode`` 1 swapping X for Y) on the output. Empty bin arrays
are skipped by the pair's bitmap.

The time: :attr:`DlmmState.now` is the unix time the quote assumes. The program prices a
swap at the Clock sysvar's ``unix_timestamp`` (never the later of it and the pair's
``last_update_timestamp``), so a pair follows the Clock sysvar as one of its own accounts
(role ``clock``, as an OpenBook market does) and :func:`update` quotes at its time; until
the sysvar is seen, at the pair's ``last_update_timestamp``. A quote needing a bin
array the state does not hold (marked in the bitmap but not received, or outside the
pair's own bitmap: the program would read the bitmap extension) raises
:class:`TicksMissingError`, never a number computed as if those bins were empty.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from ...decoded import (
    DlmmBinArray,
    DlmmBitmapExtension,
    DlmmSwapEvent,
    DlmmSwapQuote,
    MeteoraLbPair,
)
from ...errors import DecodeError, MathOverflowError, TicksMissingError
from ...records import VenueInfo
from .._ints import _check, i32, i64, u64
from ..b58 import b58decode
from ..decode import check, clock_unix_timestamp
from ..derive import find_program_address
from . import base
from .base import CLOCK, Assembly, OwnAccount, no_role
from .exact import ExactSwaps

PROGRAM_ID = "LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo"
DISC_LB_PAIR = bytes([33, 11, 49, 98, 181, 101, 177, 13])
DISC_BIN_ARRAY = bytes([92, 142, 92, 220, 5, 148, 70, 181])
DISC_BITMAP_EXTENSION = bytes([80, 111, 124, 113, 55, 237, 18, 5])
DISC_SWAP_EVENT = bytes([81, 108, 227, 190, 205, 208, 10, 196])
POOL_SIZE = 904  # LbPair with its discriminator
BIN_ARRAY_SIZE = 10_136  # 56 bytes of header and 70 bins of 144
BITMAP_EXTENSION_SIZE = 1_576
BINS_PER_ARRAY = 70
_BIN_LEN = 144
BITMAP_SIZE = 512  # the pair's own bitmap covers array indexes -512..=511
SWAP_EVENT_SIZE = 137
BIN_ARRAY = "bin_array"  # the role of its bin arrays (tracked by the caller)

LOG_PREFIX: str | None = None
ARRAYS: str | None = BIN_ARRAY
OWN_ROLES = base.own_roles(ARRAYS, BIN_ARRAY, CLOCK)
INFO = VenueInfo("meteora_dlmm", "dlmm", "dlmm", "dlmm", (PROGRAM_ID,), POOL_SIZE, ARRAYS)

# ------------------------------------------------------------------ math (math.rs)
SCALE_OFFSET = 64
ONE = 1 << 64
BASIS_POINT_MAX = 10_000
FEE_PRECISION = 1_000_000_000
MAX_FEE_RATE = 100_000_000
MIN_BIN_ID = -443_636
MAX_BIN_ID = 443_636
_MAX_EXPONENTIAL = 0x80000
_U32 = (1 << 32) - 1
_U64 = (1 << 64) - 1
_U128 = (1 << 128) - 1


class _Fails(Exception):
    """The program's swap fails (MathOverflow, out of liquidity): no number."""


def _fit(v: int, hi: int) -> int:
    if v < 0 or v > hi:
        raise _Fails
    return v


def pow_q64(base: int, exp: int) -> int | None:
    """``base^exp`` in Q64.64 (the program's ``pow``); None on overflow."""
    if exp == 0:
        return ONE
    invert = exp < 0
    e = -exp if invert else exp
    if e >= _MAX_EXPONENTIAL:
        return None
    sq = base
    if sq >= ONE:
        if sq == 0:
            return None
        sq = _U128 // sq
        invert = not invert
    result = ONE
    for bit in range(19):
        if bit > 0:
            prod = sq * sq
            if prod > _U128:
                return None
            sq = prod >> SCALE_OFFSET
        if e & (1 << bit):
            prod = result * sq
            if prod > _U128:
                return None
            result = prod >> SCALE_OFFSET
    if result == 0:
        return None
    if invert:
        result = _U128 // result
    return result


def price_from_id(bin_id: int, bin_step: int) -> int | None:
    """The price of bin ``bin_id``: ``(1 + bin_step / 10,000)^bin_id`` in Q64.64."""
    bps = (bin_step << SCALE_OFFSET) // BASIS_POINT_MAX
    return pow_q64(ONE + bps, bin_id)


def _mul_shr(a: int, p: int, up: bool) -> int:
    prod = a * p
    r = prod >> 64
    if up and prod & _U64:
        r += 1
    return _fit(r, _U64)


def _shl_div(a: int, p: int, up: bool) -> int:
    if p == 0:
        raise _Fails
    num = a << 64
    q, rem = divmod(num, p)
    if up and rem:
        q += 1
    return _fit(q, _U64)


def amount_in_for(out: int, price: int, swap_for_y: bool) -> int:
    """Input needed at ``price`` for ``out`` (rounded up)."""
    return _shl_div(out, price, True) if swap_for_y else _mul_shr(out, price, True)


def amount_out_for(amount: int, price: int, swap_for_y: bool) -> int:
    """Output at ``price`` for ``amount`` in (rounded down)."""
    return _mul_shr(amount, price, False) if swap_for_y else _shl_div(amount, price, False)


@dataclass(frozen=True, slots=True)
class FeeParams:
    """The pair's ``StaticParameters`` fee fields and its bin step."""

    base_factor: int
    filter_period: int
    decay_period: int
    reduction_factor: int
    variable_fee_control: int
    max_volatility_accumulator: int
    protocol_share: int
    base_fee_power_factor: int
    bin_step: int

    def base_fee(self) -> int:
        scale = _fit(10**self.base_fee_power_factor, _U128)
        return _fit(self.base_factor * self.bin_step * 10 * scale, _U128)

    def variable_fee(self, accumulator: int) -> int:
        if self.variable_fee_control == 0:
            return 0
        vb = accumulator * self.bin_step
        v = _fit(self.variable_fee_control * vb * vb, _U128)
        return _fit(v + 99_999_999_999, _U128) // 100_000_000_000

    def total_fee(self, accumulator: int) -> int:
        return min(_fit(self.base_fee() + self.variable_fee(accumulator), _U128), MAX_FEE_RATE)


@dataclass(slots=True)
class Volatility:
    """The pair's ``VariableParameters``."""

    accumulator: int
    reference: int
    index_reference: int
    last_update_timestamp: int


def update_references(f: FeeParams, v: Volatility, active_id: int, now: int) -> None:
    """The start of a swap at ``now`` (``update_references``)."""
    elapsed = now - v.last_update_timestamp
    if elapsed < -(1 << 63) or elapsed >= 1 << 63:
        raise _Fails
    if elapsed >= f.filter_period:
        v.index_reference = active_id
        if elapsed < f.decay_period:
            v.reference = _fit(v.accumulator * f.reduction_factor, _U32) // BASIS_POINT_MAX
        else:
            v.reference = 0


def update_accumulator(f: FeeParams, v: Volatility, bin_id: int) -> None:
    """Each bin with liquidity the swap reaches (``update_volatility_accumulator``)."""
    acc = v.reference + abs(v.index_reference - bin_id) * BASIS_POINT_MAX
    v.accumulator = min(acc, f.max_volatility_accumulator)


def fee_from_amount(amount: int, rate: int) -> int:
    """``ceil(amount * rate / 1e9)``."""
    return _fit((amount * rate + FEE_PRECISION - 1) // FEE_PRECISION, _U64)


def fee_on_top(amount: int, rate: int) -> int:
    """``ceil(amount * rate / (1e9 - rate))``."""
    den = FEE_PRECISION - rate
    if den <= 0:
        raise _Fails
    return _fit((amount * rate + den - 1) // den, _U64)


# ------------------------------------------------------------------ accounts
def decode_meteora_lb_pair(data: bytes, owner: object = None) -> MeteoraLbPair:
    """Meteora DLMM ``LbPair`` (904 bytes)."""
    r = check(data, "LbPair", POOL_SIZE, DISC_LB_PAIR, owner, (PROGRAM_ID,))
    k = r.key
    fields = [
        *r.packed(8, "u16*4 u32*2 i32*2 u16 u8*3 _3 u32*2 i32"),
        r.i64(56),
        *r.packed(72, "u8 u16 u8 i32 u16 u8*2 u16 u8*2 key*4 u64*2"),
        (k(264), k(408)),
        k(552),
        tuple(r.u64(584 + 8 * i) for i in range(16)),
        r.i64(712),
        *r.packed(752, "key*2 u64*2 _16 key u8*3"),
    ]
    return MeteoraLbPair(*fields)


decode = decode_meteora_lb_pair  # the pool account's decoder


def decode_meteora_bin_array(data: bytes, owner: object = None) -> DlmmBinArray:
    """Meteora DLMM ``BinArray`` (10,136 bytes)."""
    r = check(data, "BinArray", BIN_ARRAY_SIZE, DISC_BIN_ARRAY, owner, (PROGRAM_ID,))
    bins = []
    for i in range(BINS_PER_ARRAY):
        o = 56 + _BIN_LEN * i
        bins.append(
            (
                r.u64(o),
                r.u64(o + 8),
                r.u128(o + 16),
                r.u128(o + 32),
                r.u64(o + 112),
                r.u64(o + 128),
                r.u8(o + 140),
            )
        )
    index = int.from_bytes(r.data[8:16], "little", signed=True)
    return DlmmBinArray(index, r.u8(16), r.key(24), tuple(bins))


def decode_meteora_bitmap_extension(data: bytes, owner: object = None) -> DlmmBitmapExtension:
    """Meteora DLMM ``BinArrayBitmapExtension`` (1,576 bytes)."""
    r = check(
        data,
        "BinArrayBitmapExtension",
        BITMAP_EXTENSION_SIZE,
        DISC_BITMAP_EXTENSION,
        owner,
        (PROGRAM_ID,),
    )
    pos = tuple(tuple(r.u64(40 + 64 * i + 8 * j) for j in range(8)) for i in range(12))
    neg = tuple(tuple(r.u64(808 + 64 * i + 8 * j) for j in range(8)) for i in range(12))
    return DlmmBitmapExtension(r.key(8), pos, neg)


def parse_event(raw: bytes) -> DlmmSwapEvent | None:
    """Its ``Swap`` event when the discriminator is that; None otherwise."""
    r = base.event_reader(raw, DISC_SWAP_EVENT, "Swap", SWAP_EVENT_SIZE)
    if r is None:
        return None
    return DlmmSwapEvent(*r.packed(8, "key*2 i32*2 u64*2 flag u64*2 u128 u64"))


parse_log = base.no_log


# eng.meteora_dlmm, its public namespace (Venue.API): a public name, then its definition
API = base.api(
    """
    decode_pool              decode_meteora_lb_pair
    decode_bin_array         decode_meteora_bin_array
    decode_bitmap_extension  decode_meteora_bitmap_extension
    bin_price                meteora_dlmm_bin_price
    quote                    meteora_dlmm_quote
    swap                     meteora_dlmm_swap
    """
)


# ------------------------------------------------------------------ PDAs (pda.rs, seeds.rs)
def bin_array_address(lb_pair: str, index: int) -> tuple[str, int]:
    """Seeds ``["bin_array", lb_pair, index as i64 LE]``."""
    idx = index.to_bytes(8, "little", signed=True)
    return find_program_address([b"bin_array", b58decode(lb_pair), idx], PROGRAM_ID)


def bitmap_extension_address(lb_pair: str) -> tuple[str, int]:
    """Seeds ``["bitmap", lb_pair]``."""
    return find_program_address([b"bitmap", b58decode(lb_pair)], PROGRAM_ID)


def reserve_address(lb_pair: str, mint: str) -> tuple[str, int]:
    """Seeds ``[lb_pair, mint]``."""
    return find_program_address([b58decode(lb_pair), b58decode(mint)], PROGRAM_ID)


def oracle_address(lb_pair: str) -> tuple[str, int]:
    """Seeds ``["oracle", lb_pair]``."""
    return find_program_address([b"oracle", b58decode(lb_pair)], PROGRAM_ID)


def event_authority_address() -> tuple[str, int]:
    """Anchor's event authority: seeds ``["__event_authority"]``."""
    return find_program_address([b"__event_authority"], PROGRAM_ID)


def lb_pair_address(mint_x: str, mint_y: str, bin_step: int, base_factor: int) -> tuple[str, int]:
    """A permissionless pair (``derive_lb_pair_pda2``): seeds ``[min mint, max mint,
    bin_step LE, base_factor LE]`` (mints ordered by their bytes)."""
    a, b = sorted((b58decode(mint_x), b58decode(mint_y)))
    seeds = [a, b, bin_step.to_bytes(2, "little"), base_factor.to_bytes(2, "little")]
    return find_program_address(seeds, PROGRAM_ID)


def bin_array_index(bin_id: int) -> int:
    """The bin array holding bin ``bin_id`` (floor division by 70)."""
    return bin_id // BINS_PER_ARRAY


def anchor_discriminator(kind: str, name: str) -> bytes:
    """``sha256("<kind>:<name>")[:8]``."""
    return hashlib.sha256(f"{kind}:{name}".encode()).digest()[:8]


# ------------------------------------------------------------------ the swap
Bin = tuple[int, int, int, int, int, int, int]  # as DlmmBinArray.bins


@dataclass(frozen=True, slots=True)
class DlmmState:
    """A pair's quote state: what the program's swap reads of the pair, the bin arrays
    held (``arrays``: index -> its 70 bins) and the time and slot the quote assumes."""

    fee: FeeParams
    v: tuple[int, int, int, int]  # accumulator, reference, index_reference, last update
    active_id: int
    bitmap: tuple[int, ...]
    limit_orders: bool
    collect_fee_mode: int
    refused: bool
    pair_type: int
    activation_type: int
    activation_point: int
    status: int
    now: int
    slot: int
    arrays: dict[int, tuple[Bin, ...]] = field(compare=True)

    def at(self, now: int, slot: int) -> DlmmState:
        """The state the program swaps in at ``now`` (unix seconds) and ``slot``."""
        return replace(self, now=now, slot=slot)


@dataclass(frozen=True, slots=True)
class SwapResult:
    """The program's exact-in swap: output, fee and protocol fee, the active bin and the
    volatility state after, and per bin filled ``(id, input used net of an input fee,
    output before an output fee, the bin's fee, its protocol part, its market makers' part
    after the protocol's)``."""

    amount_out: int
    fee: int
    protocol_fee: int
    active_id: int
    v: tuple[int, int, int, int]
    fills: tuple[tuple[int, int, int, int, int, int], ...]
    # the bins it filled and walked through (filled or empty; not the arrays skipped)
    filled: int = 0
    visited: int = 0

    @property
    def steps(self) -> int:
        """Its steps in the venue's compute-unit model (``feeds/venues/meteora_dlmm/``
        ``COMPUTE_UNITS``): each bin filled after the first, and one for every
        :data:`EMPTY_BINS_PER_STEP` empty bins walked past (rounded up)."""
        empty = max(0, self.visited - self.filled)
        return max(0, self.filled - 1) + -(-empty // EMPTY_BINS_PER_STEP)


# empty bins a swap walks past per compute-unit step (measured on the program)
EMPTY_BINS_PER_STEP = 18


class _Missing(Exception):
    """The swap needs a bin array the state does not hold."""


def _next_array(bitmap: tuple[int, ...], start: int, swap_for_y: bool) -> int | None:
    word = 0
    for i, w in enumerate(bitmap):
        word |= w << (64 * i)
    if not -BITMAP_SIZE <= start < BITMAP_SIZE:
        return None
    off = start + BITMAP_SIZE
    if swap_for_y:
        masked = word & ((1 << (off + 1)) - 1)
        if masked == 0:
            return None
        return masked.bit_length() - 1 - BITMAP_SIZE
    masked = word >> off
    if masked == 0:
        return None
    return off + ((masked & -masked).bit_length() - 1) - BITMAP_SIZE


def _fill(amount: int, max_out: int, price: int, swap_for_y: bool) -> tuple[int, int, int]:
    if max_out == 0:
        return 0, amount, 0
    max_in = amount_in_for(max_out, price, swap_for_y)
    if amount >= max_in:
        return max_in, amount - max_in, max_out
    return amount, 0, amount_out_for(amount, price, swap_for_y)


def _split_protocol_fee(fee: int, share: int, mm_in: int, total_in: int) -> tuple[int, int]:
    """The protocol's part of a bin's fee and the market makers' part after it (a fee on
    an input the bin took none of is the protocol's)."""
    if fee == 0:
        return 0, 0
    if total_in == 0:
        return fee, 0
    mm_fee = _fit((fee * mm_in + total_in - 1) // total_in, _U64)
    lo_total = fee - mm_fee
    if lo_total < 0:
        raise _Fails
    lo_fee = lo_total * 5_000 // 10_000
    mm_protocol = _fit(mm_fee * share // 10_000, _U64)
    return _fit(lo_total - lo_fee + mm_protocol, _U64), _fit(mm_fee - mm_protocol, _U64)


def _active(s: DlmmState) -> bool:
    if s.status != 0:
        return False
    if s.pair_type in (1, 2):
        if s.activation_type == 0:
            point = s.slot
        elif s.activation_type == 1:
            point = s.now if s.now >= 0 else 0
        else:
            return False
        return point >= s.activation_point
    return True


def _swap(s: DlmmState, amount: int, swap_for_y: bool) -> SwapResult:
    if s.refused or not _active(s):
        raise _Fails
    f = s.fee
    v = Volatility(*s.v)
    update_references(f, v, s.active_id, s.now)
    fee_on_input = s.collect_fee_mode != 1 or not swap_for_y
    active = s.active_id
    left = amount
    out_total = fee_total = protocol_total = 0
    fills: list[tuple[int, int, int, int, int, int]] = []
    visited = 0
    while left > 0:
        start = bin_array_index(active)
        found = _next_array(s.bitmap, start, swap_for_y)
        if found is None:
            raise _Missing
        arr = s.arrays.get(found)
        if arr is None:
            raise _Missing
        lower = found * BINS_PER_ARRAY
        upper = lower + BINS_PER_ARRAY - 1
        if found != start:
            active = upper if swap_for_y else lower
        while lower <= active <= upper and left > 0:
            visited += 1
            ax, ay, bprice, _liq, open_, processed, ask = arr[active - lower]
            if s.limit_orders and swap_for_y != (ask != 0):
                lo_open, lo_proc = open_, processed
            else:
                lo_open = lo_proc = 0
            mm = ay if swap_for_y else ax
            if mm + lo_open + lo_proc > 0:
                update_accumulator(f, v, active)
                rate = f.total_fee(v.accumulator)
                price = bprice
                if price == 0:
                    p = price_from_id(active, f.bin_step)
                    if p is None:
                        raise _Fails
                    price = p
                fee = 0
                excl = left
                if fee_on_input:
                    fee = fee_from_amount(left, rate)
                    excl = _fit(left - fee, _U64)
                mm_in, rest, out = _fill(excl, mm, price, swap_for_y)
                used = mm_in
                if rest > 0 and (lo_open or lo_proc):
                    i2, rest, o2 = _fill(rest, lo_proc, price, swap_for_y)
                    used = _fit(used + i2, _U64)
                    out = _fit(out + o2, _U64)
                    if rest > 0:
                        i3, rest, o3 = _fill(rest, lo_open, price, swap_for_y)
                        used = _fit(used + i3, _U64)
                        out = _fit(out + o3, _U64)
                amount_in = left
                if rest > 0:
                    excl = _fit(excl - rest, _U64)
                    if fee_on_input:
                        fee = fee_on_top(excl, rate)
                        amount_in = _fit(excl + fee, _U64)
                    else:
                        amount_in = excl
                out_user = out
                if not fee_on_input:
                    fee = fee_from_amount(out, rate)
                    out_user = _fit(out - fee, _U64)
                protocol, lp = _split_protocol_fee(fee, f.protocol_share, mm_in, used)
                if amount_in > 0:
                    left = _fit(left - amount_in, _U64)
                    out_total = _fit(out_total + out_user, _U64)
                    fee_total = _fit(fee_total + fee, _U64)
                    protocol_total = _fit(protocol_total + protocol, _U64)
                    fills.append((active, used, out, fee, protocol, lp))
            if left > 0:
                nxt = active - 1 if swap_for_y else active + 1
                if not MIN_BIN_ID <= nxt <= MAX_BIN_ID:
                    raise _Fails
                active = nxt
    if out_total == 0:
        # the program refuses a swap that pays nothing (InsufficientOutAmount, 6039)
        raise _Fails
    vt = (v.accumulator, v.reference, v.index_reference, v.last_update_timestamp)
    return SwapResult(
        out_total, fee_total, protocol_total, active, vt, tuple(fills), len(fills), visited
    )


def swap(state: DlmmState, amount: int, swap_for_y: bool) -> SwapResult | None:
    """The program's exact-in swap of ``amount`` (X for Y when ``swap_for_y``): None when
    the program fails; TicksMissingError when it needs a bin array not held."""
    try:
        return _swap(state, amount, swap_for_y)
    except _Fails:
        return None
    except _Missing:
        raise TicksMissingError("the swap steps past the bin arrays held") from None


def spot_rate(state: DlmmState, a_to_b: bool) -> float:
    """The active bin's price with the fee rate of a swap starting now (Rust's float
    operations)."""
    f = state.fee
    v = Volatility(*state.v)
    try:
        update_references(f, v, state.active_id, state.now)
        update_accumulator(f, v, state.active_id)
        rate = f.total_fee(v.accumulator)
    except _Fails:
        return 0.0
    arr = state.arrays.get(bin_array_index(state.active_id))
    price = 0
    if arr is not None:
        price = arr[state.active_id - bin_array_index(state.active_id) * BINS_PER_ARRAY][2]
    if price == 0:
        p = price_from_id(state.active_id, f.bin_step)
        if p is None:
            return 0.0
        price = p
    pf = float(price) / float(ONE)
    keep = 1.0 - float(rate) / float(FEE_PRECISION)
    return pf * keep if a_to_b else keep / pf


def state_of(
    rec: MeteoraLbPair, arrays: dict[int, tuple[Bin, ...]], now: int, slot: int
) -> DlmmState:
    """The quote state of a pair's account and the bin arrays held (index -> bins)."""
    if rec.function_type == 0:
        limit_orders = all(m == "11111111111111111111111111111111" for m in rec.reward_mints)
    else:
        limit_orders = rec.function_type == 2
    fee = FeeParams(
        rec.base_factor,
        rec.filter_period,
        rec.decay_period,
        rec.reduction_factor,
        rec.variable_fee_control,
        rec.max_volatility_accumulator,
        rec.protocol_share,
        rec.base_fee_power_factor,
        rec.bin_step,
    )
    v = (
        rec.volatility_accumulator,
        rec.volatility_reference,
        rec.index_reference,
        rec.last_update_timestamp,
    )
    return DlmmState(
        fee,
        v,
        rec.active_id,
        tuple(rec.bin_array_bitmap),
        limit_orders,
        rec.collect_fee_mode,
        False,
        rec.pair_type,
        rec.activation_type,
        rec.activation_point,
        rec.status,
        now,
        slot,
        dict(sorted(arrays.items())),
    )


# its pool account's identity (mints, reserves, bin step, pair type, oracle, token
# programs and creator), a field a line, its mints and vaults marked
identity, reserve_mints, vaults = base.pool_fields(
    """
    token_x_mint               mint_a
    token_y_mint               mint_b
    reserve_x                  vault_a
    reserve_y                  vault_b
    bin_step
    pair_type
    oracle
    token_mint_x_program_flag
    token_mint_y_program_flag
    creator
    """
)


followed = base.clock_only  # the Clock sysvar (its bin arrays are tracked by the caller)


@dataclass(slots=True)
class BinArrays:
    """What the ingest keeps of a pair's own accounts: per bin array account, its index
    and bins (in the order received); the Clock sysvar's ``unix_timestamp``, once seen
    (negative read as 0)."""

    arrays: dict[str, tuple[int, tuple[Bin, ...]]] = field(default_factory=dict)
    clock: int | None = None


def new_own() -> BinArrays:
    return BinArrays()


def forget(own: BinArrays, pubkey: str) -> bool:
    """Forget the array at ``pubkey`` (untracked). False when it was never received."""
    return own.arrays.pop(pubkey, None) is not None


def absent(own: Any, pubkey: str) -> bool:
    """The array at ``pubkey`` does not exist on chain: nothing is kept of it (its program
    skips the bin arrays nobody initialized), as :func:`forget`."""
    return forget(own, pubkey)


def _own_bin_array(role: str, cx: OwnAccount) -> DlmmBinArray:
    if role != BIN_ARRAY:
        raise no_role(INFO, role)
    ba = decode_meteora_bin_array(cx.data, cx.owner)
    base.belongs("bin array", ba.lb_pair, cx)
    if not -(1 << 31) <= ba.index < 1 << 31:
        raise DecodeError(f"bin array {cx.pubkey}: index {ba.index} is outside i32")
    return ba


def own_account(own: BinArrays, role: str, cx: OwnAccount) -> None:
    if role == CLOCK:
        own.clock = clock_unix_timestamp(cx.data, cx.owner)
        return
    ba = _own_bin_array(role, cx)
    own.arrays[cx.pubkey] = (ba.index, ba.bins)


def check_own_account(role: str, cx: OwnAccount) -> None:
    if role == CLOCK:
        clock_unix_timestamp(cx.data, cx.owner)
        return
    _own_bin_array(role, cx)


def update(own: BinArrays, rec: MeteoraLbPair, cx: Assembly) -> tuple[DlmmState, int] | None:
    """The pair's state with every bin array held, at the Clock sysvar's time (the pair's
    last swap's until the sysvar is seen)."""
    slot = cx.slot()
    cx.check_ids()
    arrays: dict[int, tuple[Bin, ...]] = {}
    for index, bins in own.arrays.values():
        arrays.setdefault(index, bins)
    now = rec.last_update_timestamp if own.clock is None else own.clock
    return state_of(rec, arrays, now, slot), slot


def _steps(state: DlmmState, r: SwapResult, a_to_b: bool) -> int:
    """A swap's steps (:attr:`SwapResult.steps`)."""
    return r.steps


EXACT = ExactSwaps(swap, _steps, spot_rate)
quote_checked = EXACT.quote_checked
quote_steps = EXACT.quote_steps
quote = EXACT.quote
leg = EXACT.leg


# ------------------------------------------------------------------ the kernel
def _kernel_args(
    lb_pair: bytes, bin_arrays: list[bytes], amount: int, swap_for_y: bool, now: int, slot: int
) -> tuple[int, MeteoraLbPair, dict[int, tuple[Bin, ...]], int, int]:
    """A kernel's arguments checked in the Rust order: the amount, the direction, the
    clock, then its pair and its bin arrays by index (the first of an index kept)."""
    x = u64(amount)
    if not isinstance(swap_for_y, bool):
        raise TypeError(f"expected bool, got {type(swap_for_y).__name__}")
    t, n = i64(now), u64(slot)
    rec = decode_meteora_lb_pair(lb_pair)
    arrays: dict[int, tuple[Bin, ...]] = {}
    for d in bin_arrays:
        ba = decode_meteora_bin_array(d)
        if not -(1 << 31) <= ba.index < 1 << 31:
            raise DecodeError(f"bin array index {ba.index} is outside i32")
        arrays.setdefault(ba.index, ba.bins)
    return x, rec, arrays, t, n


def meteora_dlmm_swap(
    lb_pair: bytes, bin_arrays: list[bytes], amount: int, swap_for_y: bool, now: int, slot: int
) -> DlmmSwapQuote | None:
    """The program's exact-in swap on a pair's and its bin arrays' bytes at ``now`` (unix
    seconds) and ``slot`` -> ``DlmmSwapQuote``, or None when the program fails;
    TicksMissingError when it needs a bin array not given."""
    amount, rec, arrays, now, slot = _kernel_args(
        lb_pair, bin_arrays, amount, swap_for_y, now, slot
    )
    r = swap(state_of(rec, arrays, now, slot), amount, swap_for_y)
    if r is None:
        return None
    return DlmmSwapQuote(r.amount_out, r.fee, r.protocol_fee, r.active_id, *r.v[:3], r.fills)


def meteora_dlmm_quote(
    lb_pair: bytes, bin_arrays: list[bytes], amount: int, swap_for_y: bool, now: int, slot: int
) -> int | None:
    """The output of `meteora_dlmm.swap` only (0 for 0): the exact-in quote the graph
    makes, on account bytes."""
    amount, rec, arrays, now, slot = _kernel_args(
        lb_pair, bin_arrays, amount, swap_for_y, now, slot
    )
    if amount == 0:
        return 0
    r = swap(state_of(rec, arrays, now, slot), amount, swap_for_y)
    return None if r is None else r.amount_out


def meteora_dlmm_bin_price(bin_id: int, bin_step: int) -> int:
    """The price the program stores in bin ``bin_id`` for ``bin_step`` (bp): ``(1 +
    bin_step / 10,000)^bin_id`` in Q64.64; MathOverflowError when it does not fit."""
    bin_id = i32(bin_id)
    bin_step = _check(bin_step, 0, 0xFFFF, "u16")
    p = price_from_id(bin_id, bin_step)
    if p is None:
        raise MathOverflowError(
            f"the price of bin {bin_id} at bin step {bin_step} does not fit in Q64.64"
        )
    return p

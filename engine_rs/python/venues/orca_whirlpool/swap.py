"""Orca Whirlpool's swap, bit-exact with the program (spec §2.5): its fixed-point math,
the pool's state and the program's swap loop.

Twin of ``crates/core/src/venues/orca_whirlpool/swap.rs`` and ``math.rs``: same
functions, same rounding, same errors in the same order, with Python ints for the
256-bit intermediates.

Tick arrays: the caller gives initialized ticks ``(tick_index, liquidity_net)``; the swap
rebuilds the arrays the program's ``swap_v2`` would load (``88 * tick_spacing`` ticks
each, from the one holding the current tick onward in the swap direction) and steps as
the program does: a step ends at the next initialized tick or, when none is left in the
loaded arrays, at the last array's far boundary (MIN/MAX tick in the edge arrays); it
does not stop between loaded arrays. The program loads at most 3 arrays
(``max_tick_arrays=3``, the default); a swap that needs more raises
``InsufficientLiquidityError`` (on chain: ``TickArraySequenceInvalidIndex``).
``max_tick_arrays=None`` lifts the limit.

``tick_current`` is taken as given (not checked against the price). A fee rate of
exactly 1_000_000 is accepted and fails where the program divides by ``1e6 - fee_rate``
(DivideByZeroError).

Zero liquidity is not an error in the program: a step with ``L = 0`` moves the price
to its target for zero tokens and zero fee, and the swap continues from there.

Errors: program errors raise ``errors.CLMM_ERRORS[name]`` (``.code`` is the program's
name). Program errors without a class map as: ``NumberDownCastError``,
``LiquidityOverflow``, ``AmountRemainingOverflow`` -> ``MathOverflowError``;
``LiquidityUnderflow`` -> ``InvalidInputError``; out of tick arrays ->
``InsufficientLiquidityError``. Bad pool data -> ``InvalidTickError``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import NoReturn

from ....errors import (
    CLMM_ERRORS,
    InsufficientLiquidityError,
    InvalidInputError,
    InvalidTickError,
    MathOverflowError,
)
from ....records import SwapResult
from ..._ints import U64_MAX, U128_MAX, i32, u64, u128
from ..ticks import MIN_SQRT_PRICE_X64 as MIN_SQRT_PRICE_X64
from ..ticks import checked_ticks

MIN_TICK_INDEX = -443_636
MAX_TICK_INDEX = 443_636
MAX_SQRT_PRICE_X64 = 79_226_673_515_401_279_992_447_579_055
TICK_ARRAY_SIZE = 88
FULL_RANGE_ONLY_TICK_SPACING_THRESHOLD = 32_768
FEE_RATE_MUL_VALUE = 1_000_000
PROTOCOL_FEE_RATE_MUL_VALUE = 10_000
PROGRAM_MAX_TICK_ARRAYS = 3

_U256 = 1 << 256
_Q64_MASK = (1 << 64) - 1
_LOG_B_2_X32 = 59_543_866_431_248
_MARGIN_LOWER_X64 = 184_467_440_737_095_516
_MARGIN_UPPER_X64 = 15_793_534_762_490_258_745

_POS_MULTIPLIERS = (
    79_236_085_330_515_764_027_303_304_731,
    79_244_008_939_048_815_603_706_035_061,
    79_259_858_533_276_714_757_314_932_305,
    79_291_567_232_598_584_799_939_703_904,
    79_355_022_692_464_371_645_785_046_466,
    79_482_085_999_252_804_386_437_311_141,
    79_736_823_300_114_093_921_829_183_326,
    80_248_749_790_819_932_309_965_073_892,
    81_282_483_887_344_747_381_513_967_011,
    83_390_072_131_320_151_908_154_831_281,
    87_770_609_709_833_776_024_991_924_138,
    97_234_110_755_111_693_312_479_820_773,
    119_332_217_159_966_728_226_237_229_890,
    179_736_315_981_702_064_433_883_588_727,
    407_748_233_172_238_350_107_850_275_304,
    2_098_478_828_474_011_932_436_660_412_517,
    55_581_415_166_113_811_149_459_800_483_533,
    38_992_368_544_603_139_932_233_054_999_993_551,
)
_NEG_MULTIPLIERS = (
    18_444_899_583_751_176_498,
    18_443_055_278_223_354_162,
    18_439_367_220_385_604_838,
    18_431_993_317_065_449_817,
    18_417_254_355_718_160_513,
    18_387_811_781_193_591_352,
    18_329_067_761_203_520_168,
    18_212_142_134_806_087_854,
    17_980_523_815_641_551_639,
    17_526_086_738_831_147_013,
    16_651_378_430_235_024_244,
    15_030_750_278_693_429_944,
    12_247_334_978_882_834_399,
    8_131_365_268_884_726_200,
    3_584_323_654_723_342_297,
    696_457_651_847_595_233,
    26_294_789_957_452_057,
    37_481_735_321_082,
)

_PROGRAM_MESSAGES = {
    "ZeroTradableAmount": "there are no tradable amount to swap",
    "MultiplicationOverflow": "multiplication overflow",
    "MultiplicationShiftRightOverflow": "multiplication with shift right overflow",
    "TokenMaxExceeded": "exceeded token max",
    "TokenMinSubceeded": "did not meet token min",
    "AmountCalcOverflow": "amount calculated overflows",
    "DivideByZero": "unable to divide by zero",
    "SqrtPriceOutOfBounds": "provided sqrt price out of bounds",
    "InvalidSqrtPriceLimitDirection": (
        "provided sqrt price limit is on the wrong side of the current price"
    ),
    "PartialFillError": "exact-out swap could not be filled without a price limit",
}


class _Fail(Exception):
    """Internal: a failure inside the loop, turned into the public class at the API."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(name)
        self.kind = kind  # "program" | "overflow" | "underflow" | "arrays"
        self.name = name


def _program(name: str) -> _Fail:
    return _Fail("program", name)


def _raise_public(fail: _Fail, liquidity: int) -> NoReturn:
    if fail.kind == "program":
        raise CLMM_ERRORS[fail.name](f"{fail.name}: {_PROGRAM_MESSAGES[fail.name]}") from None
    if fail.kind == "overflow":
        raise MathOverflowError(
            f"{fail.name}: an intermediate amount does not fit its on-chain type"
        ) from None
    if fail.kind == "underflow":
        raise InvalidInputError(
            "LiquidityUnderflow: crossing a tick takes out more liquidity than the pool "
            f"has (liquidity {liquidity}; ticks inconsistent with it)"
        ) from None
    raise InsufficientLiquidityError(
        f"{fail.name}: the swap runs past the tick arrays the program can load"
    ) from None


# --------------------------------------------------------------------------------------
# tick math


def _sqrt_price_at(tick: int) -> int:
    if tick >= 0:
        ratio = (
            79_232_123_823_359_799_118_286_999_567
            if tick & 1
            else 79_228_162_514_264_337_593_543_950_336
        )
        return _times_bits(ratio, tick >> 1, _POS_MULTIPLIERS, 96) >> 32
    t = -tick
    ratio = 18_445_821_805_675_392_311 if t & 1 else 18_446_744_073_709_551_616
    return _times_bits(ratio, t >> 1, _NEG_MULTIPLIERS, 64)


def _times_bits(ratio: int, bits: int, multipliers: Sequence[int], shift: int) -> int:
    """``ratio`` times the multiplier of each of the low 18 ``bits`` set, each product
    shifted right by ``shift``, lowest bit first."""
    bits &= 0x3_FFFF
    i = 0
    while bits:
        if bits & 1:
            ratio = (ratio * multipliers[i]) >> shift
        bits >>= 1
        i += 1
    return ratio


def _tick_at(sqrt_price: int) -> int:
    msb = sqrt_price.bit_length() - 1
    log2p_integer_x32 = (msb - 64) << 32
    r = sqrt_price >> (msb - 63) if msb >= 64 else sqrt_price << (63 - msb)
    bit = 1 << 63
    fraction_x64 = 0
    for _ in range(14):
        r *= r
        more = r >> 127
        r >>= 63 + more
        fraction_x64 += bit * more
        bit >>= 1
    logbp_x64 = (log2p_integer_x32 + (fraction_x64 >> 32)) * _LOG_B_2_X32
    tick_low = (logbp_x64 - _MARGIN_LOWER_X64) >> 64
    tick_high = (logbp_x64 + _MARGIN_UPPER_X64) >> 64
    if tick_low == tick_high or _sqrt_price_at(tick_high) > sqrt_price:
        return tick_low
    return tick_high


def sqrt_price_from_tick(tick: int) -> int:
    """``sqrt(1.0001**tick) * 2**64`` as the program computes it (Q64.64, exact).

    Raises InvalidTickError outside ``[-443636, 443636]``.
    """
    tick = i32(tick)
    if not MIN_TICK_INDEX <= tick <= MAX_TICK_INDEX:
        raise InvalidTickError(f"tick {tick} outside [{MIN_TICK_INDEX}, {MAX_TICK_INDEX}]")
    return _sqrt_price_at(tick)


def _check_sqrt_price(sqrt_price_x64: int) -> None:
    if not MIN_SQRT_PRICE_X64 <= sqrt_price_x64 <= MAX_SQRT_PRICE_X64:
        raise InvalidTickError(
            f"sqrt price {sqrt_price_x64} outside [{MIN_SQRT_PRICE_X64}, {MAX_SQRT_PRICE_X64}]"
        )


def tick_from_sqrt_price(sqrt_price_x64: int) -> int:
    """The greatest tick whose sqrt price (Q64.64) is ``<= sqrt_price_x64``.

    Raises InvalidTickError outside ``[MIN_SQRT_PRICE_X64, MAX_SQRT_PRICE_X64]``.
    """
    sqrt_price_x64 = u128(sqrt_price_x64)
    _check_sqrt_price(sqrt_price_x64)
    return _tick_at(sqrt_price_x64)


def _check_fee_rate(fee_rate: int) -> None:
    if fee_rate > FEE_RATE_MUL_VALUE:
        raise InvalidInputError(f"fee_rate {fee_rate} exceeds {FEE_RATE_MUL_VALUE} (units of 1e-6)")


def _spot_rate(sqrt_price_x64: int, fee_rate: int, a_to_b: bool) -> float:
    s = float(sqrt_price_x64) / 18_446_744_073_709_551_616.0
    p = s * s
    m = float(max(1_000_000 - fee_rate, 0)) / 1_000_000.0
    return p * m if a_to_b else (1.0 / p) * m


def _bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected bool, got {type(value).__name__}")
    return value


def clmm_spot_rate(sqrt_price_x64: int, fee_rate: int, a_to_b: bool) -> float:
    """Output per input after the fee at zero size (float, no decimals applied).

    ``s = sqrt_price_x64 / 2**64; p = s*s; m = (1e6 - fee_rate) / 1e6``; a->b ``p*m``,
    b->a ``(1/p)*m``. ``fee_rate`` in 1e-6. Raises InvalidTickError for a price out of
    bounds, InvalidInputError for ``fee_rate > 1_000_000``.
    """
    sqrt_price_x64, fee_rate = u128(sqrt_price_x64), u64(fee_rate)
    a_to_b = _bool(a_to_b, "a_to_b")
    _check_sqrt_price(sqrt_price_x64)
    _check_fee_rate(fee_rate)
    return _spot_rate(sqrt_price_x64, fee_rate, a_to_b)


# --------------------------------------------------------------------------------------
# amount deltas and the next price (token_math.rs)

# A "delta" is an int (fits u64) or a _Fail (the program's AmountDeltaU64::ExceedsMax).


def _try_delta_a(p0: int, p1: int, liquidity: int, round_up: bool) -> int | _Fail:
    lo, hi = (p1, p0) if p0 > p1 else (p0, p1)
    product = liquidity * (hi - lo)
    if product >> 192:
        raise _program("MultiplicationOverflow")
    den = hi * lo
    if den == 0:
        raise _program("DivideByZero")
    q, r = divmod(product << 64, den)
    if round_up and r:
        q += 1
    if q > U128_MAX:
        return _Fail("overflow", "NumberDownCastError")
    if q > U64_MAX:
        return _program("TokenMaxExceeded")
    return q


def _try_delta_b(p0: int, p1: int, liquidity: int, round_up: bool) -> int | _Fail:
    lo, hi = (p1, p0) if p0 > p1 else (p0, p1)
    diff = hi - lo
    if liquidity == 0 or diff == 0:
        return 0
    p = liquidity * diff
    if p > U128_MAX:
        return _program("MultiplicationShiftRightOverflow")
    result = p >> 64
    if round_up and p & _Q64_MASK:
        if result == U64_MAX:
            return _program("MultiplicationOverflow")
        result += 1
    return result


def _get(delta: int | _Fail) -> int:
    if isinstance(delta, _Fail):
        raise delta
    return delta


def _next_sqrt_price(sp: int, liquidity: int, amount: int, is_input: bool, a_to_b: bool) -> int:
    if is_input == a_to_b:
        # fixing A: price rounded up
        if amount == 0:
            return sp
        product = sp * amount
        numerator = liquidity * sp
        if numerator >> 192:
            raise _program("MultiplicationOverflow")
        numerator <<= 64
        liquidity_x64 = liquidity << 64
        if not is_input and liquidity_x64 <= product:
            raise _program("DivideByZero")
        den = liquidity_x64 + product if is_input else liquidity_x64 - product
        if den == 0:
            raise _program("DivideByZero")
        price = -(-numerator // den)
        if price > U128_MAX:
            raise _Fail("overflow", "NumberDownCastError")
        if price < MIN_SQRT_PRICE_X64:
            raise _program("TokenMinSubceeded")
        if price > MAX_SQRT_PRICE_X64:
            raise _program("TokenMaxExceeded")
        return price
    # fixing B: price rounded down
    if liquidity == 0:
        raise _program("DivideByZero")
    amount_x64 = amount << 64
    if is_input:
        nxt = sp + amount_x64 // liquidity
    else:
        nxt = sp + (-amount_x64 // liquidity)  # sp - ceil(amount_x64 / L)
    if nxt < 0 or nxt > U128_MAX:
        raise _program("SqrtPriceOutOfBounds")
    return nxt


def _fixed_delta(
    cur: int, target: int, liquidity: int, is_input: bool, a_to_b: bool
) -> int | _Fail:
    if a_to_b == is_input:
        return _try_delta_a(cur, target, liquidity, is_input)
    return _try_delta_b(cur, target, liquidity, is_input)


def _compute_swap(
    remaining: int,
    fee_rate: int,
    liquidity: int,
    cur: int,
    target: int,
    is_input: bool,
    a_to_b: bool,
) -> tuple[int, int, int, int]:
    """One step: ``(amount_in, amount_out, next_price, fee_amount)``."""
    fee_den = FEE_RATE_MUL_VALUE - fee_rate
    initial = _fixed_delta(cur, target, liquidity, is_input, a_to_b)
    calc = remaining * fee_den // FEE_RATE_MUL_VALUE if is_input else remaining
    if not isinstance(initial, _Fail) and initial <= calc:
        next_price = target
    else:
        next_price = _next_sqrt_price(cur, liquidity, calc, is_input, a_to_b)
    is_max = next_price == target
    if a_to_b == is_input:
        unfixed = _get(_try_delta_b(cur, next_price, liquidity, not is_input))
    else:
        unfixed = _get(_try_delta_a(cur, next_price, liquidity, not is_input))
    if is_max and not isinstance(initial, _Fail):
        fixed = initial
    else:
        fixed = _get(_fixed_delta(cur, next_price, liquidity, is_input, a_to_b))
    if is_input:
        amount_in, amount_out = fixed, unfixed
    else:
        amount_in, amount_out = unfixed, min(fixed, remaining)
    if is_input and not is_max:
        fee = remaining - amount_in
        if fee < 0:
            raise _Fail("overflow", "AmountRemainingOverflow")
    else:
        if fee_den == 0:
            raise _program("DivideByZero")
        fee = -(-amount_in * fee_rate // fee_den)
        if fee > U64_MAX:
            raise _Fail("overflow", "NumberDownCastError")
    return amount_in, amount_out, next_price, fee


# --------------------------------------------------------------------------------------
# the pool and its swap loop (swap_manager.rs, swap_tick_sequence.rs)


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


class ClmmPool:
    """A Whirlpool's swap-relevant state, validated once (twin of Rust ``ClmmPool``).

    ``ticks`` are the initialized ``(tick_index, liquidity_net)`` pairs, any order; they
    are kept sorted. Raises InvalidTickSpacingError (spacing 0 or > 65535),
    InvalidInputError (``fee_rate > 1_000_000``), InvalidTickError (price or
    ``tick_current`` out of bounds; a tick duplicated, not a multiple of the spacing,
    out of bounds, or in a splash pool not one of the two full-range ticks).
    """

    __slots__ = (
        "fee_rate",
        "liquidity",
        "sqrt_price_x64",
        "tick_current",
        "tick_spacing",
        "ticks",
    )

    def __init__(
        self,
        sqrt_price_x64: int,
        liquidity: int,
        tick_current: int,
        tick_spacing: int,
        fee_rate: int,
        ticks: Iterable[tuple[int, int]],
    ) -> None:
        if tick_spacing == 0 or tick_spacing > 0xFFFF:
            raise CLMM_ERRORS["InvalidTickSpacing"](
                f"InvalidTickSpacing: tick spacing {tick_spacing} not in [1, 65535]"
            )
        _check_fee_rate(fee_rate)
        _check_sqrt_price(sqrt_price_x64)
        if not MIN_TICK_INDEX - 1 <= tick_current <= MAX_TICK_INDEX:
            raise InvalidTickError(
                f"tick_current {tick_current} outside [{MIN_TICK_INDEX - 1}, {MAX_TICK_INDEX}]"
            )
        sorted_ticks = sorted(ticks, key=lambda t: t[0])
        ts = tick_spacing
        full_range = None
        if ts >= FULL_RANGE_ONLY_TICK_SPACING_THRESHOLD:
            # Rust's / truncates toward zero
            full_range = (-(-MIN_TICK_INDEX // ts) * ts, MAX_TICK_INDEX // ts * ts)
        prev = None
        for t, _ in sorted_ticks:
            if not MIN_TICK_INDEX <= t <= MAX_TICK_INDEX:
                raise InvalidTickError(
                    f"initialized tick {t} outside [{MIN_TICK_INDEX}, {MAX_TICK_INDEX}]"
                )
            if t % ts:
                raise InvalidTickError(
                    f"initialized tick {t} is not a multiple of tick spacing {ts}"
                )
            if full_range is not None and t not in full_range:
                raise InvalidTickError(
                    f"initialized tick {t}: a splash pool (tick spacing {ts}) has only the "
                    f"full-range ticks {full_range[0]} and {full_range[1]}"
                )
            if t == prev:
                raise InvalidTickError(f"initialized tick {t} given twice")
            prev = t
        self.sqrt_price_x64 = sqrt_price_x64
        self.liquidity = liquidity
        self.tick_current = tick_current
        self.tick_spacing = tick_spacing
        self.fee_rate = fee_rate
        self.ticks = sorted_ticks

    def spot_rate(self, a_to_b: bool) -> float:
        """Output per input after the fee at zero size (see `orca_whirlpool.spot_rate`)."""
        return _spot_rate(self.sqrt_price_x64, self.fee_rate, a_to_b)

    def swap(
        self,
        amount: int,
        a_to_b: bool,
        exact_in: bool,
        sqrt_price_limit: int | None,
        protocol_fee_rate: int,
        max_tick_arrays: int | None = PROGRAM_MAX_TICK_ARRAYS,
    ) -> SwapResult:
        """One swap with ``max_tick_arrays`` loadable tick arrays (None: unlimited; by
        default the program's 3; see `orca_whirlpool.swap`)."""
        if protocol_fee_rate > PROTOCOL_FEE_RATE_MUL_VALUE:
            raise InvalidInputError(
                f"protocol_fee_rate {protocol_fee_rate} exceeds {PROTOCOL_FEE_RATE_MUL_VALUE} "
                "(units of 1e-4 of the fee)"
            )
        if max_tick_arrays == 0:
            raise InvalidInputError("max_tick_arrays must be >= 1")
        limit_arg = 0 if sqrt_price_limit is None else sqrt_price_limit
        try:
            return self._run(
                amount, a_to_b, exact_in, limit_arg, protocol_fee_rate, max_tick_arrays
            )
        except _Fail as fail:
            _raise_public(fail, self.liquidity)

    def _run(
        self,
        amount: int,
        a_to_b: bool,
        exact_in: bool,
        limit_arg: int,
        protocol_fee_rate: int,
        max_tick_arrays: int | None,
    ) -> SwapResult:
        if limit_arg == 0:
            limit = MIN_SQRT_PRICE_X64 if a_to_b else MAX_SQRT_PRICE_X64
        else:
            limit = limit_arg
        if not MIN_SQRT_PRICE_X64 <= limit <= MAX_SQRT_PRICE_X64:
            raise _program("SqrtPriceOutOfBounds")
        if (a_to_b and limit >= self.sqrt_price_x64) or (
            not a_to_b and limit <= self.sqrt_price_x64
        ):
            raise _program("InvalidSqrtPriceLimitDirection")
        if amount == 0:
            raise _program("ZeroTradableAmount")

        ts = self.tick_spacing
        size = TICK_ARRAY_SIZE * ts
        base = self.tick_current // size * size
        first = base + size if not a_to_b and self.tick_current + ts >= base + size else base
        if not is_valid_start_tick(first, size):
            raise _Fail("arrays", "InvalidTickArraySequence")
        if a_to_b:
            d = first - MIN_TICK_INDEX
            edge = 0 if d <= 0 else (d + size - 1) // size
        else:
            d = MAX_TICK_INDEX - first
            edge = 0 if d < 0 else d // size
        available = edge + 1
        count = available if max_tick_arrays is None else min(available, max_tick_arrays)
        last_is_edge = count == available
        ticks = self.ticks
        keys = [t for t, _ in ticks]
        nets = dict(ticks)

        remaining = amount
        calculated = 0
        price = self.sqrt_price_x64
        tick = self.tick_current
        liquidity = self.liquidity
        protocol_fee = 0
        fee_growth = 0
        fee_sum = 0
        array_index = 0
        fee_rate = self.fee_rate

        while remaining > 0 and price != limit:
            # the next initialized tick, or the loaded arrays' far boundary
            if array_index >= count:
                raise _Fail("arrays", "TickArraySequenceInvalidIndex")
            pos = bisect_right(keys, tick)
            if a_to_b:
                start = first - array_index * size
                if not start <= tick < start + size:
                    raise _Fail("arrays", "InvalidTickArraySequence")
                lowest = first - (count - 1) * size
                if pos > 0 and keys[pos - 1] >= lowest:
                    next_tick = keys[pos - 1]
                    next_array = (first - next_tick // size * size) // size
                    initialized = True
                else:
                    next_array = count - 1
                    next_tick = MIN_TICK_INDEX if last_is_edge else lowest
                    initialized = False
            else:
                start = first + array_index * size
                if not start - ts <= tick < start + size - ts:
                    raise _Fail("arrays", "InvalidTickArraySequence")
                highest = first + count * size - 1
                if pos < len(keys) and keys[pos] <= highest:
                    next_tick = keys[pos]
                    next_array = (next_tick // size * size - first) // size
                    initialized = True
                else:
                    next_array = count - 1
                    next_tick = MAX_TICK_INDEX if last_is_edge else highest
                    initialized = False
            next_tick_price = _sqrt_price_at(next_tick)
            target = max(limit, next_tick_price) if a_to_b else min(limit, next_tick_price)

            while True:
                amount_in, amount_out, next_price, fee = _compute_swap(
                    remaining, fee_rate, liquidity, price, target, exact_in, a_to_b
                )
                if exact_in:
                    remaining -= amount_in + fee
                    if remaining < 0:
                        raise _Fail("overflow", "AmountRemainingOverflow")
                    calculated += amount_out
                else:
                    remaining -= amount_out
                    if remaining < 0:
                        raise _Fail("overflow", "AmountRemainingOverflow")
                    calculated += amount_in + fee
                if calculated > U64_MAX:
                    raise _program("AmountCalcOverflow")
                fee_sum += fee
                if fee_sum > U64_MAX:
                    raise _program("AmountCalcOverflow")
                lp_fee = fee
                if protocol_fee_rate > 0:
                    delta = lp_fee * protocol_fee_rate // PROTOCOL_FEE_RATE_MUL_VALUE
                    lp_fee -= delta
                    protocol_fee = (protocol_fee + delta) & U64_MAX
                if liquidity > 0:
                    fee_growth = (fee_growth + (lp_fee << 64) // liquidity) & U128_MAX

                if next_price == next_tick_price:
                    if initialized:
                        net = nets[next_tick]
                        liquidity = liquidity - net if a_to_b else liquidity + net
                        if liquidity < 0:
                            raise _Fail("underflow", "LiquidityUnderflow")
                        if liquidity > U128_MAX:
                            raise _Fail("overflow", "LiquidityOverflow")
                    if a_to_b:
                        offset = (next_tick - (first - next_array * size)) // ts
                        array_index = next_array + 1 if offset == 0 else next_array
                        tick = next_tick - 1
                    else:
                        offset = (next_tick - (first + next_array * size)) // ts
                        last = TICK_ARRAY_SIZE - 1
                        array_index = next_array + 1 if offset == last else next_array
                        tick = next_tick
                elif next_price != price:
                    tick = _tick_at(next_price)
                price = next_price
                if remaining == 0 or price == target:
                    break

        if remaining > 0 and not exact_in and limit_arg == 0:
            raise _program("PartialFillError")
        if exact_in:
            amount_in, amount_out = amount - remaining, calculated
        else:
            amount_in, amount_out = calculated, amount - remaining
        return SwapResult(
            amount_in=amount_in,
            amount_out=amount_out,
            fee_amount=fee_sum,
            protocol_fee=protocol_fee,
            fee_growth_x64=fee_growth,
            sqrt_price_x64=price,
            tick_current=tick,
            liquidity=liquidity,
        )


def clmm_swap(
    sqrt_price_x64: int,
    liquidity: int,
    tick_current: int,
    tick_spacing: int,
    fee_rate: int,
    ticks: Sequence[tuple[int, int]],
    amount: int,
    a_to_b: bool,
    exact_in: bool = True,
    sqrt_price_limit: int | None = None,
    protocol_fee_rate: int = 0,
    max_tick_arrays: int | None = PROGRAM_MAX_TICK_ARRAYS,
) -> SwapResult:
    """One Whirlpool swap, exactly as the program executes it.

    ``sqrt_price_x64`` (Q64.64), ``liquidity`` (u128), ``tick_current`` and
    ``tick_spacing`` are the pool's; ``fee_rate`` is in 1e-6 (at most 1_000_000);
    ``ticks`` are the initialized ticks as ``(tick_index, liquidity_net)`` pairs in any
    order. ``amount`` (base units) is the exact input, fee included (``exact_in``), or
    the exact output. ``sqrt_price_limit`` None (or 0) is the program's "no limit"
    (exact-out must then fill completely, else PartialFillError).
    ``protocol_fee_rate`` is in 1e-4 of the fee (at most 10_000). ``max_tick_arrays``
    is how many tick arrays the swap may cross (the program's 3; None: unlimited).

    Returns a SwapResult: amounts in base units (``amount_in`` includes
    ``fee_amount``), the LP fee growth this swap added (Q64.64, wrapping u128) and the
    pool's price, tick and liquidity afterwards. Errors: see the module docstring.
    """
    sqrt_price_x64, liquidity, tick_current = (
        u128(sqrt_price_x64),
        u128(liquidity),
        i32(tick_current),
    )
    tick_spacing, fee_rate = u64(tick_spacing), u64(fee_rate)
    amount = u64(amount)
    a_to_b, exact_in = _bool(a_to_b, "a_to_b"), _bool(exact_in, "exact_in")
    limit = None if sqrt_price_limit is None else u128(sqrt_price_limit)
    protocol_fee_rate = u64(protocol_fee_rate)
    arrays = None if max_tick_arrays is None else u64(max_tick_arrays)
    # the tick list is read last, as the extension reads it after the scalar arguments
    tick_list = checked_ticks(ticks)
    pool = ClmmPool(sqrt_price_x64, liquidity, tick_current, tick_spacing, fee_rate, tick_list)
    return pool.swap(amount, a_to_b, exact_in, limit, protocol_fee_rate, arrays)

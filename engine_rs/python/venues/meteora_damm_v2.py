"""Meteora DAMM v2, the ``cp-amm`` program (twin of
``crates/core/src/venues/meteora_damm_v2/``): its ``Pool`` account, its exact-input swap
and its ``EvtSwap2`` event.

Sources: ``MeteoraAg/damm-v2`` 0.2.1 (``programs/cp-amm/src/state/{pool,fee}.rs``,
``base_fee/``, ``liquidity_handler/``, ``math/``, ``instructions/swap/``, ``event.rs``) and
its Rust SDK's ``quote_exact_in``, whose quotes on real pool accounts are the oracle
(``tests/engine/test_meteora_damm_v2.py``).

The pool account (1,112 bytes) has Anchor's ``account:Pool`` discriminator, which
PumpSwap's pool shares: it is told by its owner. A swap reads only the pool: the base fee
(five modes: a time or a market-cap scheduler, each linear or exponential, and the rate
limiter), the variable fee of the stored volatility accumulator, the cap of the fee
version, the protocol / referral / compounding split, and the curve: one range of
concentrated liquidity (collect-fee modes 0 and 1) or constant product on the reserves
the pool tracks (mode 2, compounding). The schedulers and the activation read the clock
(the slot or the unix time, as ``activation_type`` says), so a pool follows the Clock
sysvar (role ``clock``) and quotes at its point; before the sysvar is seen, at the
upsert's slot for a pool activated by slot, else at the dynamic fee's
``last_update_timestamp`` (0 without one: nothing quotes until the clock comes).

The fee comes off the output, except b -> a in modes ``OnlyB`` and ``Compounding``, where
it comes off the input. Every step fails where the program's does; :func:`swap` returns
the program's error name.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Any

from ...decoded import DammSwapEvent, DammSwapQuote, MeteoraDammPool
from ...records import VenueInfo
from .._ints import u64
from ..decode import Reader, as_bytes, check, clock_slot_and_time
from . import base
from .base import CLOCK, Assembly, OwnAccount, no_role

PROGRAM_ID = "cpamdpZCGKUy5JxQXB4dcpGPiikHawvSWAd6mEn1sGG"
DISC_POOL = bytes([241, 154, 109, 4, 17, 177, 109, 188])  # account:Pool (PumpSwap's too)
DISC_EVT_SWAP2 = bytes([189, 66, 51, 168, 38, 80, 117, 153])
POOL_SIZE = 1_112
EVT_SWAP2_SIZE = 8 + 180
BOTH_TOKEN, ONLY_B, COMPOUNDING = 0, 1, 2
FEE_DENOMINATOR = 1_000_000_000
MAX_BASIS_POINT = 10_000
ONE_Q64 = 1 << 64
U64_MAX = (1 << 64) - 1
U128_MAX = (1 << 128) - 1
U256_MAX = (1 << 256) - 1
MAX_FEE_NUMERATOR = {0: 500_000_000, 1: 990_000_000}

LOG_PREFIX: str | None = None
ARRAYS: str | None = None
OWN_ROLES = base.own_roles(ARRAYS, CLOCK)
INFO = VenueInfo("meteora_damm_v2", "damm_v2", "damm", "damm", (PROGRAM_ID,), POOL_SIZE, ARRAYS)


class Fail(Exception):
    """The program refuses the swap: ``args[0]`` is its error's name."""


# the compute-unit model's steps of a compounding pool's swap (four more than a
# concentrated pool's)
COMPOUNDING_STEPS = 4


def _ovf(v: int | None, bound: int = U128_MAX) -> int:
    """A checked operation: MathOverflow when ``v`` is None or past ``bound``."""
    if v is None or v < 0 or v > bound:
        raise Fail("MathOverflow")
    return v


def _cast(v: int, bound: int) -> int:
    if v > bound:
        raise Fail("TypeCastFailed")
    return v


# ------------------------------------------------------------------ the pool account
def decode_meteora_damm_pool(data: bytes, owner: object = None) -> MeteoraDammPool:
    """DAMM v2 ``Pool`` (offsets from ``state/pool.rs`` and ``state/fee.rs``)."""
    r = check(data, "Pool", POOL_SIZE, DISC_POOL, owner, (PROGRAM_ID,))
    return MeteoraDammPool(
        bytes(r.data[8:40]),
        *r.packed(
            48,
            "u8 _1 u8 _3 u16 u8 _7 u32*2 u16*4 u64 u128*5 key*5 _32 u128 _16 u64*2 _16"
            " u128*3 u64 u8*7 _65 u128 _80 key u64*2 u8",
        ),
    )


decode = decode_meteora_damm_pool  # the pool account's decoder


# ------------------------------------------------------------------ the base fee
_SCHEDULER = ("number_of_period period_frequency reduction_factor", "u16 u64*2")
_MARKET_CAP = (
    "number_of_period sqrt_price_step_bps scheduler_expiration_duration reduction_factor",
    "u16 u32*2 u64",
)
_LIMITER = ("fee_increment_bps max_limiter_duration max_fee_bps reference_amount", "u16 u32*2 u64")
# a BaseFeeInfo's fields by its mode byte after the cliff numerator (u64 at 0) and the
# mode (u8 at 8): their names and their layout from byte 14 (Reader.packed)
_BASE_FEE_FIELDS = {0: _SCHEDULER, 1: _SCHEDULER, 2: _LIMITER, 3: _MARKET_CAP, 4: _MARKET_CAP}


@dataclass(frozen=True, slots=True)
class BaseFee:
    """A pool's ``BaseFeeInfo`` decoded by its mode byte (0/1 time scheduler linear /
    exponential, 2 rate limiter, 3/4 market-cap scheduler linear / exponential; any other
    byte fails every swap). Unused fields are 0."""

    mode: int
    cliff_fee_numerator: int
    number_of_period: int = 0
    period_frequency: int = 0
    reduction_factor: int = 0
    sqrt_price_step_bps: int = 0
    scheduler_expiration_duration: int = 0
    fee_increment_bps: int = 0
    max_limiter_duration: int = 0
    max_fee_bps: int = 0
    reference_amount: int = 0

    @staticmethod
    def from_bytes(d: bytes) -> BaseFee:
        r = Reader(d, "BaseFeeInfo")
        mode, cliff = r.u8(8), r.u64(0)
        names, layout = _BASE_FEE_FIELDS.get(mode, ("", ""))
        return BaseFee(mode, cliff, **dict(zip(names.split(), r.packed(14, layout))))

    def numerator(
        self,
        point: int,
        activation_point: int,
        a_to_b: bool,
        included: int,
        init_sqrt_price: int,
        sqrt_price: int,
    ) -> int:
        """``get_base_fee_numerator_from_included_fee_amount``."""
        if self.mode in (0, 1):
            if self.period_frequency == 0:
                return self.cliff_fee_numerator
            n = self.number_of_period
            if point < activation_point:
                period = n
            else:
                period = min((point - activation_point) // self.period_frequency, n)
            return _by_period(self, n, period)
        if self.mode in (3, 4):
            n = self.number_of_period
            expiration = _ovf(activation_point + self.scheduler_expiration_duration, U64_MAX)
            if point > expiration or point < activation_point:
                period = n
            elif sqrt_price <= init_sqrt_price:
                period = 0
            else:
                if init_sqrt_price == 0 or self.sqrt_price_step_bps == 0:
                    raise Fail("MathOverflow")
                passed = (sqrt_price - init_sqrt_price) * MAX_BASIS_POINT // init_sqrt_price
                passed //= self.sqrt_price_step_bps
                period = min(passed, n)
            return _by_period(self, n, min(period, n))
        if self.mode == 2:
            zero = not (
                self.reference_amount
                or self.max_limiter_duration
                or self.max_fee_bps
                or self.fee_increment_bps
            )
            applied = (
                not zero
                and not a_to_b
                and point >= activation_point
                and point <= activation_point + self.max_limiter_duration
            )
            if not applied:
                return self.cliff_fee_numerator
            return rate_limited(
                self.cliff_fee_numerator,
                self.fee_increment_bps,
                self.max_fee_bps,
                self.reference_amount,
                included,
            )
        raise Fail("InvalidBaseFeeMode")


def _by_period(b: BaseFee, n: int, period: int) -> int:
    period = min(period, n)
    if b.mode in (1, 4):
        return fee_in_period(b.cliff_fee_numerator, b.reduction_factor, period)
    sub = _ovf(b.reduction_factor * period, U64_MAX)
    return _ovf(b.cliff_fee_numerator - sub, U64_MAX)


def pow_q64(base: int, exp: int) -> int | None:
    """``pow``: ``base^exp`` in Q64.64 by squaring, rounding each step as the program
    (None where it overflows u128 or comes to 0)."""
    if exp == 0:
        return ONE_Q64
    if exp >= 0x80000:
        return None
    invert = False
    squared, result = base, ONE_Q64
    if squared >= result:
        if squared == 0:
            return None
        squared = U128_MAX // squared
        invert = True
    if exp & 1:
        result *= squared
        if result > U128_MAX:
            return None
        result >>= 64
    for bit in range(1, 19):
        squared *= squared
        if squared > U128_MAX:
            return None
        squared >>= 64
        if exp & (1 << bit):
            result *= squared
            if result > U128_MAX:
                return None
            result >>= 64
    if result == 0:
        return None
    if invert:
        result = U128_MAX // result
    return result


def fee_in_period(cliff: int, reduction: int, period: int) -> int:
    """``get_fee_in_period``: ``cliff·(1 − reduction/10 000)^period`` in Q64.64."""
    if reduction == 0:
        return cliff
    bps = (reduction << 64) // MAX_BASIS_POINT
    base = _ovf(ONE_Q64 - bps)
    result = _ovf(pow_q64(base, period))
    fee = _ovf(result * cliff) >> 64
    return _cast(fee, U64_MAX)


def _to_numerator(bps: int) -> int:
    return _cast(bps * FEE_DENOMINATOR // MAX_BASIS_POINT, U64_MAX)


def rate_limited(cliff: int, increment_bps: int, max_fee_bps: int, reference: int, x: int) -> int:
    """The rate limiter's fee numerator of an input ``x`` (fees included): each
    ``reference`` past the first pays ``increment_bps`` more, up to ``max_fee_bps``."""
    if x <= reference:
        return cliff
    max_fee = _to_numerator(max_fee_bps)
    i = _to_numerator(increment_bps)
    if reference == 0:
        raise Fail("Panic")  # num::Integer::div_rem by zero
    a, b = divmod(x - reference, reference)
    if i == 0:
        raise Fail("MathOverflow")
    max_index = _ovf(max_fee - cliff, U64_MAX) // i
    c, x0 = cliff, reference
    if a < max_index:
        n1 = c + c * a + i * a * (a + 1) // 2
        n2 = c + i * (a + 1)
        total = x0 * n1 + b * n2
    else:
        n1 = c + c * max_index + i * max_index * (max_index + 1) // 2
        total = x0 * n1 + ((a - max_index) * x0 + b) * max_fee
    total &= U256_MAX  # the program's U256 arithmetic wraps
    fee = _cast(-(-total // FEE_DENOMINATOR), U64_MAX)
    return mul_div(fee, FEE_DENOMINATOR, x, up=True)


def mul_div(x: int, y: int, d: int, up: bool) -> int:
    """``safe_mul_div_cast_u64``."""
    if d == 0:
        raise Fail("MathOverflow")
    q = -(-(x * y) // d) if up else x * y // d
    return _cast(q, U64_MAX)


# ------------------------------------------------------------------ the quote state
@dataclass(frozen=True, slots=True)
class DammState:
    """What a swap of a pool is priced with. ``curve``: ``("concentrated", liquidity,
    sqrt_price, sqrt_min_price, sqrt_max_price)`` or ``("compounding", token_a_amount,
    token_b_amount)``; ``point``: the clock's slot or unix time the swap is priced at."""

    base_fee: BaseFee
    dynamic: tuple[bool, int, int, int]  # initialized, bin_step, vfc, accumulator
    protocol_fee_percent: int
    referral_fee_percent: int
    compounding_fee_bps: int
    init_sqrt_price: int
    sqrt_price: int
    curve: tuple[Any, ...]
    collect_fee_mode: int
    fee_version: int
    activation_type: int
    activation_point: int
    pool_status: int
    point: int

    def fees_on_input(self, a_to_b: bool) -> bool:
        return not a_to_b and self.collect_fee_mode in (ONLY_B, COMPOUNDING)

    def cu_steps(self) -> int:
        """The steps a swap of this pool takes in its venue's compute-unit model: one for
        the dynamic fee, :data:`COMPOUNDING_STEPS` for the compounding curve."""
        compounding = self.curve[0] == "compounding"
        return int(self.dynamic[0]) + (COMPOUNDING_STEPS if compounding else 0)

    def check_access(self) -> None:
        if self.activation_type > 1:
            raise Fail("InvalidActivationType")
        if self.pool_status != 0 or self.point < self.activation_point:
            raise Fail("PoolDisabled")

    def fee_numerator(self, included: int, a_to_b: bool) -> int:
        if self.collect_fee_mode > COMPOUNDING:
            raise Fail("TypeCastFailed")
        cap = MAX_FEE_NUMERATOR.get(self.fee_version)
        if cap is None:
            raise Fail("InvalidPoolVersion")
        base = self.base_fee.numerator(
            self.point,
            self.activation_point,
            a_to_b,
            included,
            self.init_sqrt_price,
            self.sqrt_price,
        )
        total = _ovf(variable_fee(self.dynamic) + base)
        return min(_cast(total, U64_MAX), cap)


def variable_fee(dynamic: tuple[bool, int, int, int]) -> int:
    """``get_variable_fee``: ``⌈(va·bin_step)²·vfc / 10^11⌉``, 0 when disabled."""
    initialized, bin_step, vfc, va = dynamic
    if not initialized:
        return 0
    v = _ovf(va * bin_step)
    sq = v * v
    if sq > U128_MAX:
        raise Fail("TypeCastFailed")
    fee = _ovf(sq * vfc)
    return _ovf(fee + 99_999_999_999) // 100_000_000_000


def fee_on_amount(
    state: DammState, amount: int, numerator: int, has_referral: bool
) -> tuple[int, tuple[int, int, int, int]]:
    """What the fee leaves of ``amount`` and its split (claiming, compounding, protocol,
    referral): ``get_fee_on_amount``."""
    fee = mul_div(amount, numerator, FEE_DENOMINATOR, up=True)
    left = _ovf(amount - fee, U64_MAX)
    protocol = mul_div(fee, state.protocol_fee_percent, 100, up=False)
    trading = _ovf(fee - protocol, U64_MAX)
    if state.compounding_fee_bps > 0:
        compounding = mul_div(trading, state.compounding_fee_bps, MAX_BASIS_POINT, up=False)
        claiming = _ovf(trading - compounding, U64_MAX)
    else:
        compounding, claiming = 0, trading
    referral = mul_div(protocol, state.referral_fee_percent, 100, up=False) if has_referral else 0
    return left, (claiming, compounding, _ovf(protocol - referral, U64_MAX), referral)


def delta_a(lower: int, upper: int, liquidity: int, up: bool) -> int:
    """``L·(√u − √l) / (√u·√l)``, rounded, as u64 (MathOverflow past it)."""
    if upper < lower or lower * upper == 0:
        raise Fail("Panic")
    num, den = liquidity * (upper - lower), lower * upper
    q = -(-num // den) if up else num // den
    if q > U64_MAX:
        raise Fail("MathOverflow")
    return q


def delta_b(lower: int, upper: int, liquidity: int, up: bool) -> int:
    """``L·(√u − √l) / 2^128``, rounded, as u64."""
    if upper < lower:
        raise Fail("MathOverflow")
    prod = liquidity * (upper - lower)
    q = -(-prod >> 128) if up else prod >> 128
    if q > U64_MAX:
        raise Fail("MathOverflow")
    return q


def curve_swap(curve: tuple[Any, ...], amount: int, a_to_b: bool) -> tuple[int, int]:
    """The curve's output of ``amount`` in and the price after (0 for a compounding
    pool)."""
    if curve[0] == "concentrated":
        _, liquidity, sqrt_price, lo, hi = curve
        if sqrt_price == 0 or liquidity == 0:
            raise Fail("Panic")
        if a_to_b:
            if amount == 0:
                nxt = sqrt_price
            else:
                den = liquidity + amount * sqrt_price
                nxt = _cast(-(-(liquidity * sqrt_price) // den), U128_MAX)
            if nxt < lo:
                raise Fail("PriceRangeViolation")
            return delta_b(nxt, sqrt_price, liquidity, False), nxt
        nxt = (
            sqrt_price
            if amount == 0
            else _cast(sqrt_price + (amount << 128) // liquidity, U128_MAX)
        )
        if nxt > hi:
            raise Fail("PriceRangeViolation")
        return delta_a(sqrt_price, nxt, liquidity, False), nxt
    _, ta, tb = curve
    x, y = (ta, tb) if a_to_b else (tb, ta)
    return mul_div(y, amount, _ovf(x + amount, U64_MAX), up=False), 0


def sqrt_price_from_amounts(a: int, b: int) -> int:
    """``⌊√(b·2^128 / a)⌋``: a compounding pool's price."""
    if a == 0:
        raise Fail("MathOverflow")
    return _cast(math.isqrt((b << 128) // a), U128_MAX)


def _swap(s: DammState, amount: int, a_to_b: bool, has_referral: bool) -> DammSwapQuote:
    s.check_access()
    if amount == 0:
        raise Fail("AmountIsZero")
    numerator = s.fee_numerator(amount, a_to_b)
    on_input = s.fees_on_input(a_to_b)
    split = (0, 0, 0, 0)
    excluded = amount
    if on_input:
        excluded, split = fee_on_amount(s, amount, numerator, has_referral)
    out, nxt = curve_swap(s.curve, excluded, a_to_b)
    output = out
    if not on_input:
        output, split = fee_on_amount(s, out, numerator, has_referral)
    if s.curve[0] == "compounding":
        _, ta, tb = s.curve
        if a_to_b:
            ta, tb = _ovf(ta + excluded, U64_MAX), _ovf(tb - out, U64_MAX)
        else:
            ta, tb = _ovf(ta - out, U64_MAX), _ovf(tb + excluded, U64_MAX)
        nxt = sqrt_price_from_amounts(ta, _ovf(tb + split[1], U64_MAX))
    return DammSwapQuote(amount, excluded, output, nxt, numerator, *split, on_input)


def swap_state(
    s: DammState, amount: int, a_to_b: bool, has_referral: bool = False
) -> DammSwapQuote | str:
    """The program's exact-input swap on a quote state, or its error's name."""
    try:
        return _swap(s, amount, a_to_b, has_referral)
    except Fail as e:
        return str(e.args[0])


def state_of(rec: MeteoraDammPool, point: int) -> DammState:
    """The quote state of a pool account priced at ``point``."""
    if rec.collect_fee_mode == COMPOUNDING:
        curve: tuple[Any, ...] = ("compounding", rec.token_a_amount, rec.token_b_amount)
    else:
        curve = (
            "concentrated",
            rec.liquidity,
            rec.sqrt_price,
            rec.sqrt_min_price,
            rec.sqrt_max_price,
        )
    return DammState(
        BaseFee.from_bytes(rec.base_fee),
        (
            rec.dynamic_fee_initialized != 0,
            rec.bin_step,
            rec.variable_fee_control,
            rec.volatility_accumulator,
        ),
        rec.protocol_fee_percent,
        rec.referral_fee_percent,
        rec.compounding_fee_bps,
        rec.init_sqrt_price,
        rec.sqrt_price,
        curve,
        rec.collect_fee_mode,
        rec.fee_version,
        rec.activation_type,
        rec.activation_point,
        rec.pool_status,
        point,
    )


def meteora_damm_v2_swap(
    pool: bytes, point: int, amount: int, a_to_b: bool, has_referral: bool = False
) -> DammSwapQuote | str:
    """The program's exact-input swap of a pool account at ``point`` (the clock's slot or
    unix time, as the pool is activated): its ``SwapResult2`` as a record, or the name of
    the program's error (``"PriceRangeViolation"``, ``"PoolDisabled"`` ...)."""
    rec = decode_meteora_damm_pool(as_bytes(pool, "Pool"))
    return swap_state(state_of(rec, u64(point)), u64(amount), _flag(a_to_b), _flag(has_referral))


def meteora_damm_v2_quote(pool: bytes, point: int, amount: int, a_to_b: bool) -> int | None:
    """The output of :func:`meteora_damm_v2_swap` only (0 for 0; None when it fails)."""
    rec = decode_meteora_damm_pool(as_bytes(pool, "Pool"))
    p, x, d = u64(point), u64(amount), _flag(a_to_b)
    return quote(state_of(rec, p), x, d)


def _flag(v: object) -> bool:
    if not isinstance(v, bool):
        raise TypeError(f"expected bool, got {type(v).__name__}")
    return v


# ------------------------------------------------------------------ events
def parse_event(raw: bytes) -> DammSwapEvent | None:
    """``EvtSwap2`` (emitted by self-CPI); None for another discriminator."""
    r = base.event_reader(raw, DISC_EVT_SWAP2, "EvtSwap2", EVT_SWAP2_SIZE)
    if r is None:
        return None
    return DammSwapEvent(*r.packed(8, "key u8*2 flag u64*2 u8 u64*4 u128 u64*10"))


parse_log = base.no_log


# eng.meteora_damm_v2, its public namespace (Venue.API): a public name, then its definition
API = base.api(
    """
    decode_pool  decode_meteora_damm_pool
    swap         meteora_damm_v2_swap
    quote        meteora_damm_v2_quote
    """
)


# its pool account's identity (mints, vaults, token programs, collect-fee mode, activation
# type and creator), a field a line, its mints and vaults marked
identity, reserve_mints, vaults = base.pool_fields(
    """
    token_a_mint      mint_a
    token_b_mint      mint_b
    token_a_vault     vault_a
    token_b_vault     vault_b
    token_a_flag
    token_b_flag
    collect_fee_mode
    activation_type
    creator
    """
)


followed = base.clock_only  # the Clock sysvar (what the program prices and activates at)


@dataclass(slots=True)
class Clock:
    """What the ingest keeps of a pool's own accounts: the Clock sysvar's slot and unix
    time, once seen."""

    seen: tuple[int, int] | None = field(default=None)


def new_own() -> Clock:
    return Clock()


forget = absent = base.no_arrays


def _own_clock(role: str, cx: OwnAccount) -> tuple[int, int]:
    if role != CLOCK:
        raise no_role(INFO, role)
    return clock_slot_and_time(cx.data, cx.owner)


def own_account(own: Clock, role: str, cx: OwnAccount) -> None:
    own.seen = _own_clock(role, cx)


def check_own_account(role: str, cx: OwnAccount) -> None:
    _own_clock(role, cx)


def update(own: Clock, rec: MeteoraDammPool, cx: Assembly) -> tuple[DammState, int] | None:
    """The pool at the clock's point (the vaults are not read: the curve is the pool
    account's)."""
    slot = cx.slot()
    cx.check_ids()
    if own.seen is not None:
        point = own.seen[0] if rec.activation_type == 0 else own.seen[1]
    elif rec.activation_type == 0:
        point = slot
    else:
        point = rec.last_update_timestamp if rec.dynamic_fee_initialized else 0
    return state_of(rec, point), slot


def quote(state: DammState, amount: int, a_to_b: bool) -> int | None:
    if amount == 0:
        return 0
    r = swap_state(state, amount, a_to_b)
    return None if isinstance(r, str) else r.output_amount


def spot_rate(state: DammState, a_to_b: bool) -> float:
    """Output per input after the fee at zero size (Rust's float operations); the
    smallest positive float when no swap is possible."""
    try:
        state.check_access()
        numerator = state.fee_numerator(0, a_to_b)
    except Fail:
        return sys.float_info.min  # f64::MIN_POSITIVE
    if state.curve[0] == "concentrated":
        s = float(state.curve[2]) / 18446744073709551616.0
        price = s * s
    else:
        ta, tb = float(state.curve[1]), float(state.curve[2])
        price = tb / ta if ta else (math.inf if tb else math.nan)
    keep = 1.0 - float(numerator) / 1e9
    rate = price * keep if a_to_b else (keep / price if price else math.inf)
    if math.isfinite(rate) and rate > 0.0:
        return rate
    return sys.float_info.min


@dataclass(frozen=True, slots=True)
class DammLeg:
    """A DAMM v2 hop of a cycle: ``a_to_b`` says which way it is traversed."""

    pool: DammState
    a_to_b: bool

    def spot_rate(self) -> float:
        return spot_rate(self.pool, self.a_to_b)

    def amount_out(self, amount: int) -> int | None:
        return quote(self.pool, amount, self.a_to_b)

    def amount_steps(self, amount: int) -> tuple[int, int] | None:
        """:meth:`amount_out` and its steps in the compute-unit model (the pool's:
        :meth:`DammState.cu_steps`; a Token-2022 side is the caller's)."""
        out = quote(self.pool, amount, self.a_to_b)
        return None if out is None else (out, self.pool.cu_steps())

    def constant_product(self) -> None:
        """Not the engine's constant product: sizing searches over exact swaps."""
        return None


def leg(state: DammState, a_to_b: bool) -> DammLeg:
    return DammLeg(state, a_to_b)

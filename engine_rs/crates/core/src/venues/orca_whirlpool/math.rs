//! The Whirlpool program's fixed-point math (spec §2.5): tick <-> sqrt price, the token
//! amount deltas, the next sqrt price after an amount, and one swap step.
//!
//! Every function reproduces the program's integer rounding and its error *choice*
//! (which error, in which order), because the swap loop's result depends on both.
//! 256-bit intermediates use `ruint`; the hot paths take a u128 shortcut when the
//! operands are small enough that the result is provably the same.

use ruint::aliases::U256;

use crate::error::ClmmErrorCode;

pub const MIN_TICK_INDEX: i32 = -443_636;
pub const MAX_TICK_INDEX: i32 = 443_636;
pub const MIN_SQRT_PRICE_X64: u128 = 4_295_048_016;
pub const MAX_SQRT_PRICE_X64: u128 = 79_226_673_515_401_279_992_447_579_055;
/// Ticks per tick array (the program's `TICK_ARRAY_SIZE`).
pub const TICK_ARRAY_SIZE: i32 = 88;
/// `tick_spacing >= this` marks a splash (full-range-only) pool.
pub const FULL_RANGE_ONLY_TICK_SPACING_THRESHOLD: u16 = 32_768;
pub const FEE_RATE_MUL_VALUE: u32 = 1_000_000;
pub const PROTOCOL_FEE_RATE_MUL_VALUE: u16 = 10_000;

const Q64_MASK: u128 = 0xFFFF_FFFF_FFFF_FFFF;
const LOG_B_2_X32: i128 = 59_543_866_431_248;
const LOG_B_P_ERR_MARGIN_LOWER_X64: i128 = 184_467_440_737_095_516;
const LOG_B_P_ERR_MARGIN_UPPER_X64: i128 = 15_793_534_762_490_258_745;

/// Why a computation failed, cheap to carry through the loop; the public API turns it
/// into an [`crate::EngineError`] with a message only when a swap actually fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    /// A program error that has a class of its own in `engine_rs.errors`.
    Program(ClmmErrorCode),
    /// A program error without a class of its own (`NumberDownCastError`,
    /// `LiquidityOverflow`, `AmountRemainingOverflow`): reported as an overflow.
    Overflow(&'static str),
    /// `LiquidityUnderflow`: the supplied ticks take out more liquidity than the pool has.
    LiquidityUnderflow,
    /// The swap needs a tick array past the ones the program could load
    /// (`TickArraySequenceInvalidIndex` / `InvalidTickArraySequence`).
    OutOfTickArrays(&'static str),
}

impl From<ClmmErrorCode> for Fail {
    fn from(code: ClmmErrorCode) -> Self {
        Fail::Program(code)
    }
}

use ClmmErrorCode as E;

// ---------------------------------------------------------------------------------
// 256-bit helpers

/// Full 128x128 -> 256-bit product as (high, low) halves.
#[inline]
pub fn mul_128(a: u128, b: u128) -> (u128, u128) {
    let (a1, a0) = (a >> 64, a & Q64_MASK);
    let (b1, b0) = (b >> 64, b & Q64_MASK);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // each term < 2^64, so the sum of three < 2^66: no overflow
    let mid = (p00 >> 64) + (p01 & Q64_MASK) + (p10 & Q64_MASK);
    let lo = (p00 & Q64_MASK) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

#[inline]
fn u256_from_halves(hi: u128, lo: u128) -> U256 {
    U256::from_limbs([lo as u64, (lo >> 64) as u64, hi as u64, (hi >> 64) as u64])
}

#[inline]
fn u256_to_u128(x: &U256) -> Option<u128> {
    let l = x.as_limbs();
    if l[2] | l[3] != 0 {
        None
    } else {
        Some(u128::from(l[0]) | (u128::from(l[1]) << 64))
    }
}

/// `x << 64` for `x = hi:lo` (256-bit), or None when bits would be lost.
#[inline]
fn shl64(hi: u128, lo: u128) -> Option<U256> {
    if hi >> 64 != 0 {
        return None;
    }
    Some(U256::from_limbs([
        0,
        lo as u64,
        (lo >> 64) as u64,
        hi as u64,
    ]))
}

const TWO_64: f64 = 18_446_744_073_709_551_616.0;
/// Quotients below this come from the float estimate (off by at most a few units).
const SMALL_QUOTIENT: f64 = (1u64 << 51) as f64;

#[inline]
fn u256_to_f64(x: &U256) -> f64 {
    let l = x.as_limbs();
    ((l[3] as f64 * TWO_64 + l[2] as f64) * TWO_64 + l[1] as f64) * TWO_64 + l[0] as f64
}

/// `floor(n / d)` and whether the remainder is nonzero, exactly, when the quotient is
/// below 2^51: a float estimate corrected by multiplication (a 256-bit divide costs
/// ~50 ns on the machines we measured; this a third of that). None: use a real divide.
#[inline]
pub fn div_small_quotient(n: &U256, d: &U256) -> Option<(u64, bool)> {
    let estimate = u256_to_f64(n) / u256_to_f64(d);
    if estimate.is_nan() || estimate >= SMALL_QUOTIENT || d.is_zero() {
        return None;
    }
    // the estimate's relative error is a few 2^-53: q is within 2 of it. n < 2^245
    // here (d < 2^194 for two prices), so no product below overflows
    let mut q = estimate as u64;
    let mut prod = d.checked_mul(U256::from(q))?;
    while prod > *n {
        q = q.checked_sub(1)?;
        prod -= *d;
    }
    let mut rem = *n - prod;
    while rem >= *d {
        q += 1;
        rem -= *d;
    }
    Some((q, !rem.is_zero()))
}

/// `floor((fee << 64) / liquidity)` (the fee growth of one step), liquidity > 0, with
/// the same float-estimate shortcut as [`div_small_quotient`] for small quotients.
#[inline]
pub fn fee_growth_of(fee: u64, liquidity: u128) -> u128 {
    let n = u128::from(fee) << 64;
    let estimate = fee as f64 * TWO_64 / liquidity as f64;
    if estimate < SMALL_QUOTIENT {
        let mut q = estimate as u128;
        if let Some(mut prod) = q.checked_mul(liquidity) {
            while prod > n && q > 0 {
                q -= 1;
                prod -= liquidity;
            }
            if prod <= n {
                let mut rem = n - prod;
                while rem >= liquidity {
                    q += 1;
                    rem -= liquidity;
                }
                return q;
            }
        }
    }
    n / liquidity
}

// ---------------------------------------------------------------------------------
// tick math

#[inline]
fn mul_shift_96(a: u128, b: u128) -> u128 {
    let (hi, lo) = mul_128(a, b);
    // the program unwraps a u128 here; within the tick bounds hi < 2^96 always
    (hi << 32) | (lo >> 96)
}

const POS_MULTIPLIERS: [u128; 18] = [
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
];

const NEG_MULTIPLIERS: [u128; 18] = [
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
];

/// `sqrt(1.0001^tick) * 2^64`, the program's `sqrt_price_from_tick_index`.
/// Caller guarantees `|tick| <= 443_636` (other values give meaningless results, no panic).
#[inline]
pub fn sqrt_price_at(tick: i32) -> u128 {
    if tick >= 0 {
        let t = tick as u32;
        let mut ratio: u128 = if t & 1 != 0 {
            79_232_123_823_359_799_118_286_999_567
        } else {
            79_228_162_514_264_337_593_543_950_336
        };
        let mut bits = (t >> 1) & 0x3_FFFF;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            ratio = mul_shift_96(ratio, POS_MULTIPLIERS[i]);
            bits &= bits - 1;
        }
        ratio >> 32
    } else {
        let t = tick.unsigned_abs();
        let mut ratio: u128 = if t & 1 != 0 {
            18_445_821_805_675_392_311
        } else {
            18_446_744_073_709_551_616
        };
        let mut bits = (t >> 1) & 0x3_FFFF;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            // ratio <= 2^64 and every multiplier < 2^64: the product fits in u128
            ratio = ratio.wrapping_mul(NEG_MULTIPLIERS[i]) >> 64;
            bits &= bits - 1;
        }
        ratio
    }
}

/// The program's `tick_index_from_sqrt_price`: the greatest tick whose sqrt price is
/// `<= sqrt_price`. Caller guarantees `MIN_SQRT_PRICE_X64 <= sqrt_price <= MAX_SQRT_PRICE_X64`.
pub fn tick_at(sqrt_price: u128) -> i32 {
    // sqrt_price >= 1 by the caller's contract; max(1) keeps a bad call panic-free
    let sp = sqrt_price.max(1);
    let msb = 127 - sp.leading_zeros() as i32;
    let log2p_integer_x32 = i128::from(msb - 64) << 32;
    // r is in [2^63, 2^64): a u64, so each square is one widening multiply
    let mut r: u64 = if msb >= 64 {
        (sp >> (msb - 63)) as u64
    } else {
        (sp << (63 - msb)) as u64
    };
    let mut bit: i128 = 1 << 63;
    let mut fraction_x64: i128 = 0;
    for _ in 0..14 {
        let sq = u128::from(r) * u128::from(r);
        let is_more_than_two = (sq >> 127) as u32;
        r = (sq >> (63 + is_more_than_two)) as u64;
        fraction_x64 += bit * i128::from(is_more_than_two);
        bit >>= 1;
    }
    let log2p_x32 = log2p_integer_x32 + (fraction_x64 >> 32);
    let logbp_x64 = log2p_x32 * LOG_B_2_X32;
    let tick_low = ((logbp_x64 - LOG_B_P_ERR_MARGIN_LOWER_X64) >> 64) as i32;
    let tick_high = ((logbp_x64 + LOG_B_P_ERR_MARGIN_UPPER_X64) >> 64) as i32;
    if tick_low == tick_high || sqrt_price_at(tick_high) > sqrt_price {
        tick_low
    } else {
        tick_high
    }
}

// ---------------------------------------------------------------------------------
// amount deltas (token_math.rs)

/// The program's `AmountDeltaU64`: a delta that fits u64, or the error it would raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delta {
    Valid(u64),
    ExceedsMax(Fail),
}

impl Delta {
    #[inline]
    fn lte(self, other: u64) -> bool {
        matches!(self, Delta::Valid(v) if v <= other)
    }

    #[inline]
    fn get(self) -> Result<u64, Fail> {
        match self {
            Delta::Valid(v) => Ok(v),
            Delta::ExceedsMax(f) => Err(f),
        }
    }
}

#[inline]
fn ordered(a: u128, b: u128) -> (u128, u128) {
    if a > b {
        (b, a)
    } else {
        (a, b)
    }
}

/// Token A between two sqrt prices: `ceil/floor(L * (hi - lo) * 2^64 / (hi * lo))`.
#[inline]
pub fn try_delta_a(p0: u128, p1: u128, liquidity: u128, round_up: bool) -> Result<Delta, Fail> {
    let (lo, hi) = ordered(p0, p1);
    let diff = hi - lo;
    let (nh, nl) = mul_128(liquidity, diff);
    let numerator = shl64(nh, nl).ok_or(Fail::Program(E::MultiplicationOverflow))?;
    let (dh, dl) = mul_128(hi, lo);
    if dh == 0 && dl == 0 {
        // only reachable with a zero price, which the callers exclude; the program
        // would panic here
        return Err(E::DivideByZero.into());
    }
    let denominator = u256_from_halves(dh, dl);
    let (quotient, rem_nonzero) = match div_small_quotient(&numerator, &denominator) {
        Some((q, rem_nonzero)) => (Some(u128::from(q)), rem_nonzero),
        None => {
            let (q, r) = numerator.div_rem(denominator);
            (u256_to_u128(&q), !r.is_zero())
        }
    };
    let result = match quotient {
        Some(q) if round_up && rem_nonzero => q.checked_add(1),
        q => q,
    };
    Ok(match result {
        None => Delta::ExceedsMax(Fail::Overflow("NumberDownCastError")),
        Some(v) => match u64::try_from(v) {
            Ok(v) => Delta::Valid(v),
            Err(_) => Delta::ExceedsMax(E::TokenMaxExceeded.into()),
        },
    })
}

/// Token B between two sqrt prices: `ceil/floor(L * (hi - lo) / 2^64)`.
#[inline]
pub fn try_delta_b(p0: u128, p1: u128, liquidity: u128, round_up: bool) -> Delta {
    let (lo, hi) = ordered(p0, p1);
    let diff = hi - lo;
    if liquidity == 0 || diff == 0 {
        return Delta::Valid(0);
    }
    match liquidity.checked_mul(diff) {
        Some(p) => {
            let result = (p >> 64) as u64;
            let should_round = round_up && (p & Q64_MASK) > 0;
            if should_round && result == u64::MAX {
                Delta::ExceedsMax(E::MultiplicationOverflow.into())
            } else {
                Delta::Valid(result + u64::from(should_round))
            }
        }
        None => Delta::ExceedsMax(E::MultiplicationShiftRightOverflow.into()),
    }
}

/// `get_amount_delta_a` (errors instead of ExceedsMax).
#[inline]
pub fn delta_a(p0: u128, p1: u128, liquidity: u128, round_up: bool) -> Result<u64, Fail> {
    try_delta_a(p0, p1, liquidity, round_up)?.get()
}

/// `get_amount_delta_b` (errors instead of ExceedsMax).
#[inline]
pub fn delta_b(p0: u128, p1: u128, liquidity: u128, round_up: bool) -> Result<u64, Fail> {
    try_delta_b(p0, p1, liquidity, round_up).get()
}

// ---------------------------------------------------------------------------------
// next sqrt price

fn next_sqrt_price_from_a_round_up(
    sqrt_price: u128,
    liquidity: u128,
    amount: u64,
    is_input: bool,
) -> Result<u128, Fail> {
    if amount == 0 {
        return Ok(sqrt_price);
    }
    let (ph, pl) = mul_128(sqrt_price, u128::from(amount));
    let product = u256_from_halves(ph, pl);
    let (nh, nl) = mul_128(liquidity, sqrt_price);
    let numerator = shl64(nh, nl).ok_or(Fail::Program(E::MultiplicationOverflow))?;
    let liquidity_x64 = U256::from_limbs([0, liquidity as u64, (liquidity >> 64) as u64, 0]);
    if !is_input && liquidity_x64 <= product {
        return Err(E::DivideByZero.into());
    }
    let denominator = if is_input {
        liquidity_x64 + product // < 2^193: no overflow
    } else {
        liquidity_x64 - product
    };
    if denominator.is_zero() {
        return Err(E::DivideByZero.into()); // unreachable for a nonzero price; no panic
    }
    let (q, r) = numerator.div_rem(denominator);
    let q = if r.is_zero() { q } else { q + U256::from(1u8) };
    let price = u256_to_u128(&q).ok_or(Fail::Overflow("NumberDownCastError"))?;
    if price < MIN_SQRT_PRICE_X64 {
        Err(E::TokenMinSubceeded.into())
    } else if price > MAX_SQRT_PRICE_X64 {
        Err(E::TokenMaxExceeded.into())
    } else {
        Ok(price)
    }
}

fn next_sqrt_price_from_b_round_down(
    sqrt_price: u128,
    liquidity: u128,
    amount: u64,
    is_input: bool,
) -> Result<u128, Fail> {
    if liquidity == 0 {
        return Err(E::DivideByZero.into());
    }
    let amount_x64 = u128::from(amount) << 64;
    let mut delta = amount_x64 / liquidity;
    if !is_input && amount_x64 % liquidity > 0 {
        delta += 1;
    }
    let next = if is_input {
        sqrt_price.checked_add(delta)
    } else {
        sqrt_price.checked_sub(delta)
    };
    next.ok_or(E::SqrtPriceOutOfBounds.into())
}

#[inline]
fn next_sqrt_price(
    sqrt_price: u128,
    liquidity: u128,
    amount: u64,
    is_input: bool,
    a_to_b: bool,
) -> Result<u128, Fail> {
    if is_input == a_to_b {
        next_sqrt_price_from_a_round_up(sqrt_price, liquidity, amount, is_input)
    } else {
        next_sqrt_price_from_b_round_down(sqrt_price, liquidity, amount, is_input)
    }
}

// ---------------------------------------------------------------------------------
// one swap step (swap_math.rs)

/// The result of one `compute_swap` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub amount_in: u64,
    pub amount_out: u64,
    pub next_price: u128,
    pub fee_amount: u64,
}

#[inline]
fn fixed_delta(
    cur: u128,
    target: u128,
    liquidity: u128,
    is_input: bool,
    a_to_b: bool,
) -> Result<Delta, Fail> {
    if a_to_b == is_input {
        try_delta_a(cur, target, liquidity, is_input)
    } else {
        Ok(try_delta_b(cur, target, liquidity, is_input))
    }
}

#[inline]
fn unfixed_delta(
    cur: u128,
    target: u128,
    liquidity: u128,
    is_input: bool,
    a_to_b: bool,
) -> Result<u64, Fail> {
    if a_to_b == is_input {
        delta_b(cur, target, liquidity, !is_input)
    } else {
        delta_a(cur, target, liquidity, !is_input)
    }
}

/// Exact `n / d` for a divisor fixed over many divisions (Granlund & Montgomery 1994,
/// fig. 4.1): one multiply-high instead of a hardware divide, which costs ~30 ns here.
#[derive(Debug, Clone, Copy)]
pub struct Divider {
    d: u64,
    m: u64,
    shift: u32,
}

impl Divider {
    /// `d >= 1`; building costs one 128-bit divide.
    pub fn new(d: u64) -> Self {
        let d = d.max(1);
        if d == 1 {
            return Self { d, m: 0, shift: 0 };
        }
        let l = 64 - (d - 1).leading_zeros(); // ceil(log2 d) >= 1
                                              // (2^l - d) < d, so the quotient is < 2^64 - 1
        let m = ((((1u128 << l) - u128::from(d)) << 64) / u128::from(d)) as u64 + 1;
        Self { d, m, shift: l - 1 }
    }

    #[inline]
    pub fn div(self, n: u64) -> u64 {
        if self.d == 1 {
            return n;
        }
        let t1 = ((u128::from(self.m) * u128::from(n)) >> 64) as u64; // t1 <= n
        (t1 + ((n - t1) >> 1)) >> self.shift
    }

    #[inline]
    pub fn div_ceil(self, n: u64) -> u64 {
        let q = self.div(n);
        q + u64::from(n != q * self.d)
    }

    #[inline]
    pub fn is_multiple(self, n: u64) -> bool {
        self.div(n) * self.d == n
    }
}

/// `floor(amount * keep / 1e6)` for `keep <= 1e6`, with 64-bit divides by the constant:
/// `amount = hi * 1e6 + lo` gives `hi * keep + floor(lo * keep / 1e6)` exactly.
#[inline]
fn apply_fee(amount: u64, keep: u64) -> u64 {
    const M: u64 = FEE_RATE_MUL_VALUE as u64;
    let (hi, lo) = (amount / M, amount % M);
    hi * keep + lo * keep / M
}

/// The fee rate of a swap with the divide by `1e6 - fee_rate` prepared on first use.
#[derive(Debug, Clone, Copy)]
pub struct FeeRate {
    rate: u64,
    keep: u64,
    divider: Option<Divider>,
}

impl FeeRate {
    /// `fee_rate` in 1e-6 (values above 1e6 count as 1e6).
    pub fn new(fee_rate: u32) -> Self {
        let rate = u64::from(fee_rate.min(FEE_RATE_MUL_VALUE));
        Self {
            rate,
            keep: u64::from(FEE_RATE_MUL_VALUE) - rate,
            divider: None,
        }
    }

    /// `ceil(amount_in * rate / (1e6 - rate))`, the fee on a step that used `amount_in`.
    #[inline]
    fn fee_on(&mut self, amount_in: u64) -> Result<u64, Fail> {
        if self.keep == 0 {
            return Err(E::DivideByZero.into());
        }
        match amount_in.checked_mul(self.rate) {
            Some(p) => {
                let keep = self.keep;
                Ok(self
                    .divider
                    .get_or_insert_with(|| Divider::new(keep))
                    .div_ceil(p))
            }
            None => {
                let p = u128::from(amount_in) * u128::from(self.rate); // < 2^84
                let fee = p.div_ceil(u128::from(self.keep));
                u64::try_from(fee).map_err(|_| Fail::Overflow("NumberDownCastError"))
            }
        }
    }
}

/// One step of the swap toward `target`.
#[allow(clippy::too_many_arguments)]
pub fn compute_swap(
    amount_remaining: u64,
    fee: &mut FeeRate,
    liquidity: u128,
    cur: u128,
    target: u128,
    is_input: bool,
    a_to_b: bool,
) -> Result<Step, Fail> {
    let fee_den = u128::from(fee.keep);
    let initial_fixed = fixed_delta(cur, target, liquidity, is_input, a_to_b)?;
    let amount_calc = if is_input {
        apply_fee(amount_remaining, fee_den as u64)
    } else {
        amount_remaining
    };
    let next_price = if initial_fixed.lte(amount_calc) {
        target
    } else {
        next_sqrt_price(cur, liquidity, amount_calc, is_input, a_to_b)?
    };
    let is_max_swap = next_price == target;
    let unfixed = unfixed_delta(cur, next_price, liquidity, is_input, a_to_b)?;
    let fixed = match initial_fixed {
        Delta::Valid(v) if is_max_swap => v,
        _ => fixed_delta(cur, next_price, liquidity, is_input, a_to_b)?.get()?,
    };
    let (amount_in, mut amount_out) = if is_input {
        (fixed, unfixed)
    } else {
        (unfixed, fixed)
    };
    if !is_input && amount_out > amount_remaining {
        amount_out = amount_remaining;
    }
    let fee_amount = if is_input && !is_max_swap {
        amount_remaining
            .checked_sub(amount_in)
            .ok_or(Fail::Overflow("AmountRemainingOverflow"))?
    } else {
        fee.fee_on(amount_in)?
    };
    Ok(Step {
        amount_in,
        amount_out,
        next_price,
        fee_amount,
    })
}

//! DAMM v2's swap arithmetic (twin: `engine_rs/python/venues/meteora_damm_v2.py`), as
//! the program computes an exact-input swap (`MeteoraAg/damm-v2` 0.2.1,
//! `programs/cp-amm/src`): the base fee of its mode (`base_fee/`: a time or market-cap
//! scheduler, linear or exponential, or the rate limiter), the variable fee of its
//! volatility accumulator (`state/fee.rs`), the cap of its fee version, the fee taken off
//! the input or the output as its collect-fee mode says, and the curve: one price range
//! of concentrated liquidity or constant product on its tracked reserves
//! (`liquidity_handler/`).
//!
//! Every step fails where the program's does (a checked operation, a division by zero,
//! an assertion): [`Fail`] names the program's error, which the simulator answers with.

use ruint::aliases::U256;

/// Fees are per this (`FEE_DENOMINATOR`).
pub const FEE_DENOMINATOR: u64 = 1_000_000_000;
/// `MAX_BASIS_POINT`.
pub const MAX_BASIS_POINT: u64 = 10_000;
/// `ONE_Q64`.
pub const ONE_Q64: u128 = 1 << 64;
/// The fee cap of fee version 0 and 1 (`MAX_FEE_NUMERATOR_V0/V1`).
pub const MAX_FEE_NUMERATOR_V0: u64 = 500_000_000;
pub const MAX_FEE_NUMERATOR_V1: u64 = 990_000_000;

/// Why the program refuses a swap: its error, by the name its IDL gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    /// `MathOverflow` (6000): a checked operation overflowed or divided by zero.
    MathOverflow,
    /// `TypeCastFailed` (6007): a result does not fit its type.
    TypeCastFailed,
    /// `PriceRangeViolation` (6015): the swap would leave the pool's price range.
    PriceRangeViolation,
    /// `InvalidBaseFeeMode`: the base fee's mode byte is not one of the five.
    InvalidBaseFeeMode,
    /// `InvalidPoolVersion`: a fee version the program does not know.
    InvalidPoolVersion,
    /// `InvalidCollectFeeMode` (a byte the program cannot cast).
    InvalidCollectFeeMode,
    /// `PoolDisabled` (6003): disabled, or before its activation point.
    PoolDisabled,
    /// `InvalidActivationType`: an activation type byte the program does not know.
    InvalidActivationType,
    /// `AmountIsZero` (6006).
    AmountIsZero,
    /// The program panics (an `assert!`, a division by zero in `div_rem`): the
    /// transaction fails with no error code of the program's.
    Panic,
}

impl Fail {
    /// The program's error name (`Panic`: none of its own).
    pub fn name(self) -> &'static str {
        match self {
            Fail::MathOverflow => "MathOverflow",
            Fail::TypeCastFailed => "TypeCastFailed",
            Fail::PriceRangeViolation => "PriceRangeViolation",
            Fail::InvalidBaseFeeMode => "InvalidBaseFeeMode",
            Fail::InvalidPoolVersion => "InvalidPoolVersion",
            Fail::InvalidCollectFeeMode => "InvalidCollectFeeMode",
            Fail::PoolDisabled => "PoolDisabled",
            Fail::InvalidActivationType => "InvalidActivationType",
            Fail::AmountIsZero => "AmountIsZero",
            Fail::Panic => "Panic",
        }
    }
}

pub type R<T> = std::result::Result<T, Fail>;

fn ovf<T>(v: Option<T>) -> R<T> {
    v.ok_or(Fail::MathOverflow)
}

fn u64_of(v: U256) -> R<u64> {
    u64::try_from(v).map_err(|_| Fail::TypeCastFailed)
}

fn u128_of(v: U256) -> R<u128> {
    u128::try_from(v).map_err(|_| Fail::TypeCastFailed)
}

/// `safe_mul_div_cast_u64`: `x·y / d` in u128, rounded as asked, cast to u64.
pub fn mul_div_u64(x: u64, y: u64, d: u64, up: bool) -> R<u64> {
    let prod = u128::from(x) * u128::from(y);
    let d = u128::from(d);
    if d == 0 {
        return Err(Fail::MathOverflow);
    }
    let q = if up {
        ovf(prod.checked_add(d))?
            .checked_sub(1)
            .ok_or(Fail::MathOverflow)?
            / d
    } else {
        prod / d
    };
    u64::try_from(q).map_err(|_| Fail::TypeCastFailed)
}

/// The base fee of a pool (its `BaseFeeInfo`'s 32 bytes, decoded by their mode byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseFee {
    /// Modes 0 (linear) and 1 (exponential): the fee falls by period of the clock.
    Time {
        cliff_fee_numerator: u64,
        exponential: bool,
        number_of_period: u16,
        period_frequency: u64,
        reduction_factor: u64,
    },
    /// Mode 2: the fee rises with the size of a b -> a swap during the limiter's window.
    RateLimiter {
        cliff_fee_numerator: u64,
        fee_increment_bps: u16,
        max_limiter_duration: u32,
        max_fee_bps: u32,
        reference_amount: u64,
    },
    /// Modes 3 (linear) and 4 (exponential): the fee falls as the price rises above the
    /// pool's initial price, until the scheduler expires.
    MarketCap {
        cliff_fee_numerator: u64,
        exponential: bool,
        number_of_period: u16,
        sqrt_price_step_bps: u32,
        scheduler_expiration_duration: u32,
        reduction_factor: u64,
    },
    /// A mode byte the program does not know: every swap fails.
    Invalid { cliff_fee_numerator: u64, mode: u8 },
}

fn le<const N: usize>(d: &[u8; 32], off: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&d[off..off + N]);
    out
}

impl BaseFee {
    /// From the `BaseFeeInfo` bytes (`base_fee_serde.rs`: the mode byte at 8).
    pub fn from_bytes(d: &[u8; 32]) -> Self {
        let cliff_fee_numerator = u64::from_le_bytes(le(d, 0));
        let mode = d[8];
        let u16_at = |o| u16::from_le_bytes(le(d, o));
        let u32_at = |o| u32::from_le_bytes(le(d, o));
        let u64_at = |o| u64::from_le_bytes(le(d, o));
        match mode {
            0 | 1 => BaseFee::Time {
                cliff_fee_numerator,
                exponential: mode == 1,
                number_of_period: u16_at(14),
                period_frequency: u64_at(16),
                reduction_factor: u64_at(24),
            },
            2 => BaseFee::RateLimiter {
                cliff_fee_numerator,
                fee_increment_bps: u16_at(14),
                max_limiter_duration: u32_at(16),
                max_fee_bps: u32_at(20),
                reference_amount: u64_at(24),
            },
            3 | 4 => BaseFee::MarketCap {
                cliff_fee_numerator,
                exponential: mode == 4,
                number_of_period: u16_at(14),
                sqrt_price_step_bps: u32_at(16),
                scheduler_expiration_duration: u32_at(20),
                reduction_factor: u64_at(24),
            },
            mode => BaseFee::Invalid {
                cliff_fee_numerator,
                mode,
            },
        }
    }

    /// The mode byte.
    pub fn mode(&self) -> u8 {
        match *self {
            BaseFee::Time { exponential, .. } => u8::from(exponential),
            BaseFee::RateLimiter { .. } => 2,
            BaseFee::MarketCap { exponential, .. } => 3 + u8::from(exponential),
            BaseFee::Invalid { mode, .. } => mode,
        }
    }

    /// The cliff (starting) fee numerator.
    pub fn cliff_fee_numerator(&self) -> u64 {
        match *self {
            BaseFee::Time {
                cliff_fee_numerator,
                ..
            }
            | BaseFee::RateLimiter {
                cliff_fee_numerator,
                ..
            }
            | BaseFee::MarketCap {
                cliff_fee_numerator,
                ..
            }
            | BaseFee::Invalid {
                cliff_fee_numerator,
                ..
            } => cliff_fee_numerator,
        }
    }

    /// The base fee numerator of an exact-input swap of `included` (fees included) at
    /// `point`, as `get_base_fee_numerator_from_included_fee_amount`.
    pub fn numerator(
        &self,
        point: u64,
        activation_point: u64,
        a_to_b: bool,
        included: u64,
        init_sqrt_price: u128,
        sqrt_price: u128,
    ) -> R<u64> {
        match *self {
            BaseFee::Time {
                cliff_fee_numerator,
                exponential,
                number_of_period,
                period_frequency,
                reduction_factor,
            } => {
                if period_frequency == 0 {
                    return Ok(cliff_fee_numerator);
                }
                let n = u64::from(number_of_period);
                let period = if point < activation_point {
                    n
                } else {
                    ((point - activation_point) / period_frequency).min(n)
                };
                by_period(
                    cliff_fee_numerator,
                    exponential,
                    n,
                    reduction_factor,
                    period,
                )
            }
            BaseFee::MarketCap {
                cliff_fee_numerator,
                exponential,
                number_of_period,
                sqrt_price_step_bps,
                scheduler_expiration_duration,
                reduction_factor,
            } => {
                let n = u64::from(number_of_period);
                let expiration =
                    ovf(activation_point.checked_add(u64::from(scheduler_expiration_duration)))?;
                let period = if point > expiration || point < activation_point {
                    n
                } else if sqrt_price <= init_sqrt_price {
                    0
                } else {
                    let passed =
                        U256::from(sqrt_price - init_sqrt_price) * U256::from(MAX_BASIS_POINT);
                    let passed = ovf(passed.checked_div(U256::from(init_sqrt_price)))?;
                    let passed = ovf(passed.checked_div(U256::from(sqrt_price_step_bps)))?;
                    if passed > U256::from(n) {
                        n
                    } else {
                        u64::try_from(passed).map_err(|_| Fail::Panic)?
                    }
                };
                by_period(
                    cliff_fee_numerator,
                    exponential,
                    n,
                    reduction_factor,
                    period.min(n),
                )
            }
            BaseFee::RateLimiter {
                cliff_fee_numerator,
                fee_increment_bps,
                max_limiter_duration,
                max_fee_bps,
                reference_amount,
            } => {
                let zero = reference_amount == 0
                    && max_limiter_duration == 0
                    && max_fee_bps == 0
                    && fee_increment_bps == 0;
                let applied = !zero
                    && !a_to_b
                    && point >= activation_point
                    && u128::from(point)
                        <= u128::from(activation_point) + u128::from(max_limiter_duration);
                if !applied {
                    return Ok(cliff_fee_numerator);
                }
                rate_limited(
                    cliff_fee_numerator,
                    fee_increment_bps,
                    max_fee_bps,
                    reference_amount,
                    included,
                )
            }
            BaseFee::Invalid { .. } => Err(Fail::InvalidBaseFeeMode),
        }
    }
}

/// A scheduler's fee after `period` periods (`get_base_fee_numerator_by_period`).
fn by_period(cliff: u64, exponential: bool, n: u64, reduction: u64, period: u64) -> R<u64> {
    let period = period.min(n);
    if exponential {
        let period = u16::try_from(period).map_err(|_| Fail::MathOverflow)?;
        fee_in_period(cliff, reduction, period)
    } else {
        cliff
            .checked_sub(ovf(reduction.checked_mul(period))?)
            .ok_or(Fail::MathOverflow)
    }
}

/// `get_fee_in_period`: `cliff·(1 − reduction/10 000)^period` in Q64.64.
pub fn fee_in_period(cliff: u64, reduction: u64, period: u16) -> R<u64> {
    if reduction == 0 {
        return Ok(cliff);
    }
    let bps = (u128::from(reduction) << 64) / u128::from(MAX_BASIS_POINT);
    let base = ONE_Q64.checked_sub(bps).ok_or(Fail::MathOverflow)?;
    let result = ovf(pow_q64(base, u32::from(period)))?;
    let fee = ovf(result.checked_mul(u128::from(cliff)))? >> 64;
    u64::try_from(fee).map_err(|_| Fail::TypeCastFailed)
}

/// `pow`: `base^exp` in Q64.64 by squaring, as the program rounds each step (`None`
/// where it overflows or comes to 0). `exp` is a u16 here, never negative.
pub fn pow_q64(base: u128, exp: u32) -> Option<u128> {
    if exp == 0 {
        return Some(ONE_Q64);
    }
    if exp >= 0x80000 {
        return None;
    }
    let mut invert = false;
    let mut squared = base;
    let mut result = ONE_Q64;
    if squared >= result {
        squared = u128::MAX.checked_div(squared)?;
        invert = true;
    }
    if exp & 1 > 0 {
        result = result.checked_mul(squared)? >> 64;
    }
    for bit in 1..19 {
        squared = squared.checked_mul(squared)? >> 64;
        if exp & (1 << bit) > 0 {
            result = result.checked_mul(squared)? >> 64;
        }
    }
    if result == 0 {
        return None;
    }
    if invert {
        result = u128::MAX.checked_div(result)?;
    }
    Some(result)
}

/// `to_numerator`: basis points as a fee numerator.
fn to_numerator(bps: u64) -> R<u64> {
    let n = u128::from(bps) * u128::from(FEE_DENOMINATOR) / u128::from(MAX_BASIS_POINT);
    u64::try_from(n).map_err(|_| Fail::TypeCastFailed)
}

/// The rate limiter's fee numerator of an input of `input` (fees included):
/// `get_fee_numerator_from_included_fee_amount`. Each `reference_amount` past the first
/// pays `fee_increment_bps` more, up to `max_fee_bps`.
pub fn rate_limited(
    cliff: u64,
    fee_increment_bps: u16,
    max_fee_bps: u32,
    reference: u64,
    input: u64,
) -> R<u64> {
    if input <= reference {
        return Ok(cliff);
    }
    let max_fee_numerator = to_numerator(u64::from(max_fee_bps))?;
    let increment = to_numerator(u64::from(fee_increment_bps))?;
    // num::Integer::div_rem panics on a zero divisor
    if reference == 0 {
        return Err(Fail::Panic);
    }
    let over = input - reference;
    let (a, b) = (over / reference, over % reference);
    let max_index = max_fee_numerator
        .checked_sub(cliff)
        .ok_or(Fail::MathOverflow)?
        .checked_div(increment)
        .ok_or(Fail::MathOverflow)?;
    let c = U256::from(cliff);
    let (a, b) = (U256::from(a), U256::from(b));
    let mi = U256::from(max_index);
    let i = U256::from(increment);
    let x0 = U256::from(reference);
    let one = U256::from(1u8);
    let two = U256::from(2u8);
    let numerator = if a < mi {
        let n1 = c + c * a + i * a * (a + one) / two;
        let n2 = c + i * (a + one);
        x0 * n1 + b * n2
    } else {
        let n1 = c + c * mi + i * mi * (mi + one) / two;
        let n2 = U256::from(max_fee_numerator);
        let d = a - mi;
        x0 * n1 + (d * x0 + b) * n2
    };
    let den = U256::from(FEE_DENOMINATOR);
    let trading_fee = u64_of((numerator + den - one) / den)?;
    mul_div_u64(trading_fee, FEE_DENOMINATOR, input, true)
}

/// The dynamic fee's state (`DynamicFeeStruct`, the fields a quote reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dynamic {
    pub initialized: bool,
    pub bin_step: u16,
    pub variable_fee_control: u32,
    pub volatility_accumulator: u128,
}

impl Dynamic {
    /// `get_variable_fee`: `⌈(va·bin_step)²·vfc / 10^11⌉`, 0 when disabled.
    pub fn variable_fee(&self) -> R<u128> {
        if !self.initialized {
            return Ok(0);
        }
        let v = ovf(self
            .volatility_accumulator
            .checked_mul(u128::from(self.bin_step)))?;
        let sq = v.checked_pow(2).ok_or(Fail::TypeCastFailed)?;
        let fee = ovf(sq.checked_mul(u128::from(self.variable_fee_control)))?;
        Ok(ovf(fee.checked_add(99_999_999_999))? / 100_000_000_000)
    }
}

/// The fee cap of a fee version (`get_max_fee_numerator`).
pub fn max_fee_numerator(fee_version: u8) -> R<u64> {
    match fee_version {
        0 => Ok(MAX_FEE_NUMERATOR_V0),
        1 => Ok(MAX_FEE_NUMERATOR_V1),
        _ => Err(Fail::InvalidPoolVersion),
    }
}

/// The total fee numerator: base plus variable, as u64, capped.
pub fn total_fee_numerator(base: u64, dynamic: &Dynamic, cap: u64) -> R<u64> {
    let total = ovf(dynamic.variable_fee()?.checked_add(u128::from(base)))?;
    let total = u64::try_from(total).map_err(|_| Fail::TypeCastFailed)?;
    Ok(total.min(cap))
}

/// A fee split as the program splits it (`split_fees`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Split {
    pub claiming_fee: u64,
    pub compounding_fee: u64,
    pub protocol_fee: u64,
    pub referral_fee: u64,
}

/// What a fee leaves of `amount`, and its split (`get_fee_on_amount`).
pub fn fee_on_amount(
    amount: u64,
    numerator: u64,
    protocol_fee_percent: u8,
    referral_fee_percent: u8,
    compounding_fee_bps: u16,
    has_referral: bool,
) -> R<(u64, Split)> {
    let fee = mul_div_u64(amount, numerator, FEE_DENOMINATOR, true)?;
    let left = amount.checked_sub(fee).ok_or(Fail::MathOverflow)?;
    let protocol = mul_div_u64(fee, u64::from(protocol_fee_percent), 100, false)?;
    let trading = fee.checked_sub(protocol).ok_or(Fail::MathOverflow)?;
    let (compounding, claiming) = if compounding_fee_bps > 0 {
        let c = mul_div_u64(
            trading,
            u64::from(compounding_fee_bps),
            MAX_BASIS_POINT,
            false,
        )?;
        (c, trading.checked_sub(c).ok_or(Fail::MathOverflow)?)
    } else {
        (0, trading)
    };
    let referral = if has_referral {
        mul_div_u64(protocol, u64::from(referral_fee_percent), 100, false)?
    } else {
        0
    };
    let protocol = protocol.checked_sub(referral).ok_or(Fail::MathOverflow)?;
    Ok((
        left,
        Split {
            claiming_fee: claiming,
            compounding_fee: compounding,
            protocol_fee: protocol,
            referral_fee: referral,
        },
    ))
}

/// The curve a pool swaps on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// One range of concentrated liquidity (collect-fee modes 0 and 1).
    Concentrated {
        liquidity: u128,
        sqrt_price: u128,
        sqrt_min_price: u128,
        sqrt_max_price: u128,
    },
    /// Constant product on the tracked reserves (collect-fee mode 2, compounding).
    Compounding {
        token_a_amount: u64,
        token_b_amount: u64,
    },
}

/// `get_delta_amount_a_unsigned`: `L·(√u − √l) / (√u·√l)`, rounded, as u64.
pub fn delta_a(lower: u128, upper: u128, liquidity: u128, up: bool) -> R<u64> {
    let num = U256::from(liquidity) * U256::from(upper.checked_sub(lower).ok_or(Fail::Panic)?);
    let den = U256::from(lower) * U256::from(upper);
    if den.is_zero() {
        return Err(Fail::Panic);
    }
    let (q, r) = num.div_rem(den);
    let q = if up && !r.is_zero() {
        q + U256::from(1u8)
    } else {
        q
    };
    if q > U256::from(u64::MAX) {
        return Err(Fail::MathOverflow);
    }
    u64_of(q)
}

/// `get_delta_amount_b_unsigned`: `L·(√u − √l) / 2^128`, rounded, as u64.
pub fn delta_b(lower: u128, upper: u128, liquidity: u128, up: bool) -> R<u64> {
    let delta = upper.checked_sub(lower).ok_or(Fail::MathOverflow)?;
    let prod = U256::from(liquidity) * U256::from(delta);
    let q = prod >> 128;
    let mask: U256 = (U256::from(1u8) << 128) - U256::from(1u8);
    let q = if up && !(prod & mask).is_zero() {
        q + U256::from(1u8)
    } else {
        q
    };
    if q > U256::from(u64::MAX) {
        return Err(Fail::MathOverflow);
    }
    u64_of(q)
}

impl Curve {
    /// `calculate_a_to_b_from_amount_in` / `calculate_b_to_a_from_amount_in`: the output
    /// of `amount` in (after any input fee) and the price after (0 for a compounding
    /// pool, whose price follows its reserves).
    pub fn swap_in(&self, amount: u64, a_to_b: bool) -> R<(u64, u128)> {
        match *self {
            Curve::Concentrated {
                liquidity,
                sqrt_price,
                sqrt_min_price,
                sqrt_max_price,
            } => {
                if sqrt_price == 0 || liquidity == 0 {
                    return Err(Fail::Panic);
                }
                if a_to_b {
                    let next = if amount == 0 {
                        sqrt_price
                    } else {
                        let p = U256::from(sqrt_price);
                        let l = U256::from(liquidity);
                        let den = l + U256::from(amount) * p;
                        let (q, r) = (l * p).div_rem(den);
                        let q = if r.is_zero() { q } else { q + U256::from(1u8) };
                        u128_of(q)?
                    };
                    if next < sqrt_min_price {
                        return Err(Fail::PriceRangeViolation);
                    }
                    Ok((delta_b(next, sqrt_price, liquidity, false)?, next))
                } else {
                    let next = if amount == 0 {
                        sqrt_price
                    } else {
                        let q = (U256::from(amount) << 128) / U256::from(liquidity);
                        u128_of(U256::from(sqrt_price) + q)?
                    };
                    if next > sqrt_max_price {
                        return Err(Fail::PriceRangeViolation);
                    }
                    Ok((delta_a(sqrt_price, next, liquidity, false)?, next))
                }
            }
            Curve::Compounding {
                token_a_amount,
                token_b_amount,
            } => {
                let (x, y) = if a_to_b {
                    (token_a_amount, token_b_amount)
                } else {
                    (token_b_amount, token_a_amount)
                };
                let den = ovf(x.checked_add(amount))?;
                Ok((mul_div_u64(y, amount, den, false)?, 0))
            }
        }
    }
}

/// `get_sqrt_price_from_amounts`: `⌊√(b·2^128 / a)⌋` (a compounding pool's price).
pub fn sqrt_price_from_amounts(a: u64, b: u64) -> R<u128> {
    if a == 0 {
        return Err(Fail::MathOverflow);
    }
    let price = (U256::from(b) << 128) / U256::from(a);
    u128_of(isqrt(price))
}

/// `sqrt_u256`: the floor of the square root, bit by bit.
pub fn isqrt(n: U256) -> U256 {
    if n.is_zero() {
        return n;
    }
    let shift = (255 - n.leading_zeros()) & !1;
    let mut bit = U256::from(1u8) << shift;
    let mut n = n;
    let mut result = U256::ZERO;
    while !bit.is_zero() {
        let with_bit = result + bit;
        if n >= with_bit {
            n -= with_bit;
            result = (result >> 1) + bit;
        } else {
            result >>= 1;
        }
        bit >>= 2;
    }
    result
}

//! Meteora DLMM's integer math (twin: the `_math` part of
//! `engine_rs/python/venues/meteora_dlmm.py`): bin prices in Q64.64, the conversions
//! between amounts at a bin's price, and the fee rates (base, variable, total) with the
//! volatility updates. Rules from `MeteoraAg/dlmm-sdk` `commons/src/math/*` and
//! `commons/src/extensions/lb_pair.rs` (the program's own rules); every step is checked
//! and `None` means the program's `MathOverflow` (the swap fails).

/// Q64.64 scale: prices are `price * 2^64`.
pub const SCALE_OFFSET: u32 = 64;
/// 1.0 in Q64.64.
pub const ONE: u128 = 1 << SCALE_OFFSET;
/// Basis points per unit.
pub const BASIS_POINT_MAX: u64 = 10_000;
/// Fee rates are per this (1e9).
pub const FEE_PRECISION: u128 = 1_000_000_000;
/// The fee rate cap: 10%.
pub const MAX_FEE_RATE: u128 = 100_000_000;
/// Bin ids the program allows (`MIN_BIN_ID..=MAX_BIN_ID`, computed for 1 bp).
pub const MIN_BIN_ID: i32 = -443_636;
pub const MAX_BIN_ID: i32 = 443_636;
/// Exponents at or above this overflow Q64.64 (19 bits of exponent are enough).
const MAX_EXPONENTIAL: u32 = 0x80000;

/// `base^exp` in Q64.64 by binary exponentiation on 19 bits, inverting a base >= 1 so
/// every square stays below 2^128 (the program's `pow`); `None` on overflow or a zero
/// result.
pub fn pow(base: u128, exp: i32) -> Option<u128> {
    if exp == 0 {
        return Some(ONE);
    }
    let mut invert = exp < 0;
    let e = exp.unsigned_abs();
    if e >= MAX_EXPONENTIAL {
        return None;
    }
    let mut sq = base;
    if sq >= ONE {
        sq = u128::MAX.checked_div(sq)?;
        invert = !invert;
    }
    let mut result = ONE;
    for bit in 0..19 {
        if bit > 0 {
            sq = sq.checked_mul(sq)? >> SCALE_OFFSET;
        }
        if e & (1 << bit) != 0 {
            result = result.checked_mul(sq)? >> SCALE_OFFSET;
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

/// The price of bin `id` for `bin_step` (bp): `(1 + bin_step / 10,000)^id` in Q64.64.
pub fn price_from_id(id: i32, bin_step: u16) -> Option<u128> {
    let bps = (u128::from(bin_step) << SCALE_OFFSET) / u128::from(BASIS_POINT_MAX);
    pow(ONE.checked_add(bps)?, id)
}

/// `(a * p) >> 64`, rounded down or up, as u64 (`None`: it does not fit).
pub fn mul_shr(a: u64, p: u128, up: bool) -> Option<u64> {
    let a = u128::from(a);
    let lo = a * (p & u128::from(u64::MAX));
    let hi = a * (p >> 64);
    let mut r = hi.checked_add(lo >> 64)?;
    if up && lo & u128::from(u64::MAX) != 0 {
        r = r.checked_add(1)?;
    }
    u64::try_from(r).ok()
}

/// `(a << 64) / p`, rounded down or up, as u64 (`None`: p is 0 or it does not fit).
pub fn shl_div(a: u64, p: u128, up: bool) -> Option<u64> {
    if p == 0 {
        return None;
    }
    let num = u128::from(a) << SCALE_OFFSET;
    let mut q = num / p;
    if up && !num.is_multiple_of(p) {
        q = q.checked_add(1)?;
    }
    u64::try_from(q).ok()
}

/// Input needed at `price` for `out` (rounded up): Y per X when `swap_for_y`.
pub fn amount_in_for(out: u64, price: u128, swap_for_y: bool) -> Option<u64> {
    if swap_for_y {
        shl_div(out, price, true)
    } else {
        mul_shr(out, price, true)
    }
}

/// Output at `price` for `amount` in (rounded down).
pub fn amount_out_for(amount: u64, price: u128, swap_for_y: bool) -> Option<u64> {
    if swap_for_y {
        mul_shr(amount, price, false)
    } else {
        shl_div(amount, price, false)
    }
}

/// The pool's fee parameters (its `StaticParameters` and bin step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeParams {
    pub base_factor: u16,
    pub filter_period: u16,
    pub decay_period: u16,
    pub reduction_factor: u16,
    pub variable_fee_control: u32,
    pub max_volatility_accumulator: u32,
    pub protocol_share: u16,
    pub base_fee_power_factor: u8,
    pub bin_step: u16,
}

/// The pool's `VariableParameters`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Volatility {
    pub accumulator: u32,
    pub reference: u32,
    pub index_reference: i32,
    pub last_update_timestamp: i64,
}

impl FeeParams {
    /// `base_factor * bin_step * 10 * 10^base_fee_power_factor` (per 1e9).
    pub fn base_fee(&self) -> Option<u128> {
        u128::from(self.base_factor)
            .checked_mul(u128::from(self.bin_step))?
            .checked_mul(10)?
            .checked_mul(10u128.checked_pow(u32::from(self.base_fee_power_factor))?)
    }

    /// `ceil(variable_fee_control * (accumulator * bin_step)^2 / 1e11)`; 0 when the
    /// control is 0.
    pub fn variable_fee(&self, accumulator: u32) -> Option<u128> {
        if self.variable_fee_control == 0 {
            return Some(0);
        }
        let vb = u128::from(accumulator).checked_mul(u128::from(self.bin_step))?;
        let v = u128::from(self.variable_fee_control).checked_mul(vb.checked_mul(vb)?)?;
        Some(v.checked_add(99_999_999_999)? / 100_000_000_000)
    }

    /// The total rate (base + variable, capped at 10%) at `accumulator`.
    pub fn total_fee(&self, accumulator: u32) -> Option<u128> {
        let t = self
            .base_fee()?
            .checked_add(self.variable_fee(accumulator)?)?;
        Some(t.min(MAX_FEE_RATE))
    }

    /// The start of a swap at `now`: a swap after the filter period moves the index
    /// reference to the active bin and decays the reference (to 0 after the decay
    /// period); a faster one keeps both.
    pub fn update_references(&self, v: &mut Volatility, active_id: i32, now: i64) -> Option<()> {
        let elapsed = now.checked_sub(v.last_update_timestamp)?;
        if elapsed >= i64::from(self.filter_period) {
            v.index_reference = active_id;
            v.reference = if elapsed < i64::from(self.decay_period) {
                v.accumulator
                    .checked_mul(u32::from(self.reduction_factor))?
                    / BASIS_POINT_MAX as u32
            } else {
                0
            };
        }
        Some(())
    }

    /// Each bin with liquidity the swap reaches: `reference + |index_reference - id| *
    /// 10,000`, capped at `max_volatility_accumulator`.
    pub fn update_accumulator(&self, v: &mut Volatility, id: i32) -> Option<()> {
        let delta = (i64::from(v.index_reference) - i64::from(id)).unsigned_abs();
        let acc = u64::from(v.reference).checked_add(delta.checked_mul(BASIS_POINT_MAX)?)?;
        v.accumulator = u32::try_from(acc.min(u64::from(self.max_volatility_accumulator))).ok()?;
        Some(())
    }
}

/// The fee included in `amount` (rounded up): `ceil(amount * rate / 1e9)`.
pub fn fee_from_amount(amount: u64, rate: u128) -> Option<u64> {
    let f = u128::from(amount)
        .checked_mul(rate)?
        .checked_add(FEE_PRECISION - 1)?
        / FEE_PRECISION;
    u64::try_from(f).ok()
}

/// The fee to add on top of `amount` (rounded up): `ceil(amount * rate / (1e9 - rate))`.
pub fn fee_on_top(amount: u64, rate: u128) -> Option<u64> {
    let den = FEE_PRECISION.checked_sub(rate)?;
    let f = u128::from(amount)
        .checked_mul(rate)?
        .checked_add(den)?
        .checked_sub(1)?
        / den;
    u64::try_from(f).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_of_ids() {
        assert_eq!(price_from_id(0, 10), Some(ONE));
        // a price and its inverse id multiply to about one
        let up = price_from_id(100, 25).expect("fits");
        let down = price_from_id(-100, 25).expect("fits");
        let prod = (up >> 32) * (down >> 32);
        assert!(prod.abs_diff(ONE) < ONE / 1_000_000_000);
        assert_eq!(pow(ONE, i32::MAX), None);
    }

    #[test]
    fn conversions_round_as_asked() {
        let p = ONE + ONE / 3;
        assert_eq!(mul_shr(3, p, false), Some(3));
        assert_eq!(mul_shr(3, p, true), Some(4));
        assert_eq!(shl_div(4, p, false), Some(3));
        assert_eq!(shl_div(4, p, true), Some(4));
        assert_eq!(shl_div(1, 0, false), None);
        assert_eq!(mul_shr(u64::MAX, u128::MAX, false), None);
    }
}

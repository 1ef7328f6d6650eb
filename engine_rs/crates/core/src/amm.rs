//! Constant-product swap math with the integer rounding of Raydium AMM v4 and CP-Swap.
//!
//! Both programs charge the fee on the input, rounded **up**, and floor the output
//! (spec §1.3, §1.5). AMM v4 reads `swap_fee_numerator / swap_fee_denominator` from the
//! pool (default 25/10000); CP-Swap uses `trade_fee_rate / 1_000_000` from its `AmmConfig`.
//! The same two functions serve both: pass the pool's own fraction.

use crate::error::{EngineError, Result};

fn ceil_div(a: u128, b: u128) -> u128 {
    // b > 0 is checked by every caller.
    a / b + u128::from(!a.is_multiple_of(b))
}

/// `a / b` for a u128 numerator, using the 64-bit divide when both fit (the common case
/// for real pools); a full 128-bit division is several times slower.
#[inline]
fn div_u128(a: u128, b: u128) -> u128 {
    match (u64::try_from(a), u64::try_from(b)) {
        (Ok(a), Ok(b)) => u128::from(a / b),
        _ => a / b,
    }
}

#[inline]
fn ceil_div_fast(a: u128, b: u128) -> u128 {
    match (u64::try_from(a), u64::try_from(b)) {
        (Ok(a), Ok(b)) => u128::from(a.div_ceil(b)),
        _ => ceil_div(a, b),
    }
}

fn check_fee(fee_num: u64, fee_den: u64) -> Result<()> {
    if fee_den == 0 {
        return Err(EngineError::InvalidInput("fee_den must be > 0".into()));
    }
    if fee_num >= fee_den {
        return Err(EngineError::InvalidInput(format!(
            "fee_num ({fee_num}) must be < fee_den ({fee_den})"
        )));
    }
    Ok(())
}

fn check_reserves(reserve_in: u64, reserve_out: u64) -> Result<()> {
    if reserve_in == 0 || reserve_out == 0 {
        return Err(EngineError::InvalidInput(format!(
            "zero reserve (reserve_in={reserve_in}, reserve_out={reserve_out})"
        )));
    }
    Ok(())
}

/// Exact-in: the output for `amount_in` base units of the input token.
///
/// `fee = ceil(amount_in * fee_num / fee_den)`, `net = amount_in - fee`,
/// `out = floor(reserve_out * net / (reserve_in + net))`. All intermediates fit in u128
/// for u64 inputs, so the only errors are domain errors. May return 0 for dust inputs
/// (the program would reject such a swap; the number itself is exact).
pub fn cpmm_amount_out(
    amount_in: u64,
    reserve_in: u64,
    reserve_out: u64,
    fee_num: u64,
    fee_den: u64,
) -> Result<u64> {
    if amount_in == 0 {
        return Err(EngineError::InvalidInput("amount_in must be > 0".into()));
    }
    check_reserves(reserve_in, reserve_out)?;
    check_fee(fee_num, fee_den)?;
    Ok(amount_out_unchecked(
        amount_in,
        reserve_in,
        reserve_out,
        fee_num,
        fee_den,
    ))
}

/// [`cpmm_amount_out`] without the argument checks, for callers (the graph, sizing)
/// that validated the pool once at upsert time. `amount_in` may be 0 (returns 0).
#[inline]
pub fn amount_out_unchecked(
    amount_in: u64,
    reserve_in: u64,
    reserve_out: u64,
    fee_num: u64,
    fee_den: u64,
) -> u64 {
    let amount_in = u128::from(amount_in);
    let fee = ceil_div_fast(amount_in * u128::from(fee_num), u128::from(fee_den));
    let net = amount_in - fee;
    let out = div_u128(u128::from(reserve_out) * net, u128::from(reserve_in) + net);
    // out < reserve_out <= u64::MAX
    out as u64
}

/// Exact-out: the input (fee included) needed to receive `amount_out`.
///
/// `before_fee = ceil(reserve_in * amount_out / (reserve_out - amount_out))`,
/// `amount_in = ceil(before_fee * fee_den / (fee_den - fee_num))`.
/// Errors: `InsufficientLiquidity` when `amount_out >= reserve_out`; `Overflow` when the
/// required input does not fit in u64.
pub fn cpmm_amount_in(
    amount_out: u64,
    reserve_in: u64,
    reserve_out: u64,
    fee_num: u64,
    fee_den: u64,
) -> Result<u64> {
    if amount_out == 0 {
        return Err(EngineError::InvalidInput("amount_out must be > 0".into()));
    }
    check_reserves(reserve_in, reserve_out)?;
    check_fee(fee_num, fee_den)?;
    if amount_out >= reserve_out {
        return Err(EngineError::InsufficientLiquidity(format!(
            "amount_out ({amount_out}) must be < reserve_out ({reserve_out})"
        )));
    }
    let before_fee = ceil_div(
        u128::from(reserve_in) * u128::from(amount_out),
        u128::from(reserve_out - amount_out),
    );
    let too_big = |v: u128| EngineError::Overflow(format!("required amount_in {v} exceeds u64"));
    if before_fee > u128::from(u64::MAX) {
        return Err(too_big(before_fee));
    }
    let amount_in = ceil_div(
        before_fee * u128::from(fee_den),
        u128::from(fee_den - fee_num),
    );
    u64::try_from(amount_in).map_err(|_| too_big(amount_in))
}

/// Marginal rate (output per input, after the fee) at zero size:
/// `reserve_out / reserve_in * (fee_den - fee_num) / fee_den`, evaluated in that order
/// in f64 so the Python twin gets the same bits.
pub fn cpmm_spot_rate(
    reserve_in: u64,
    reserve_out: u64,
    fee_num: u64,
    fee_den: u64,
) -> Result<f64> {
    check_reserves(reserve_in, reserve_out)?;
    check_fee(fee_num, fee_den)?;
    Ok(spot_rate_unchecked(
        reserve_in,
        reserve_out,
        fee_num,
        fee_den,
    ))
}

#[inline]
pub fn spot_rate_unchecked(reserve_in: u64, reserve_out: u64, fee_num: u64, fee_den: u64) -> f64 {
    (reserve_out as f64 / reserve_in as f64) * ((fee_den - fee_num) as f64 / fee_den as f64)
}

/// A constant-product pool's quote state (Raydium AMM v4 and CP-Swap quote alike): the
/// reserves of mint a and mint b in base units and the fee fraction on the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConstantProduct {
    pub reserve_a: u64,
    pub reserve_b: u64,
    pub fee_num: u64,
    pub fee_den: u64,
}

impl ConstantProduct {
    /// The state of pool `pool_id`, checked once so quotes need no checks: both reserves
    /// > 0 and the fee in [0, 1) (`InvalidInput` naming the pool otherwise).
    pub fn checked(
        pool_id: &str,
        reserve_a: u64,
        reserve_b: u64,
        fee_num: u64,
        fee_den: u64,
    ) -> Result<Self> {
        if reserve_a == 0 || reserve_b == 0 {
            return Err(EngineError::InvalidInput(format!(
                "pool {pool_id}: zero reserve ({reserve_a}, {reserve_b})"
            )));
        }
        if fee_den == 0 || fee_num >= fee_den {
            return Err(EngineError::InvalidInput(format!(
                "pool {pool_id}: fee {fee_num}/{fee_den} must be in [0, 1)"
            )));
        }
        Ok(Self {
            reserve_a,
            reserve_b,
            fee_num,
            fee_den,
        })
    }

    /// `(reserve_in, reserve_out)` for a swap of a into b (`a_to_b`) or b into a.
    #[inline]
    pub fn reserves(&self, a_to_b: bool) -> (u64, u64) {
        if a_to_b {
            (self.reserve_a, self.reserve_b)
        } else {
            (self.reserve_b, self.reserve_a)
        }
    }

    /// Exact output for `amount_in` (0 for 0), Raydium's rounding.
    #[inline]
    pub fn amount_out(&self, amount_in: u64, a_to_b: bool) -> u64 {
        let (ri, ro) = self.reserves(a_to_b);
        amount_out_unchecked(amount_in, ri, ro, self.fee_num, self.fee_den)
    }

    /// Output per input after the fee at zero size ([`cpmm_spot_rate`]'s f64 operations).
    #[inline]
    pub fn spot_rate(&self, a_to_b: bool) -> f64 {
        let (ri, ro) = self.reserves(a_to_b);
        spot_rate_unchecked(ri, ro, self.fee_num, self.fee_den)
    }
}

/// A pool's reserves: its vault balances minus the amounts in them that are not
/// reserves (fees owed, PnL to take), in base units. `InvalidInput` naming `pool_id`
/// when a vault does not cover them (or leaves nothing).
pub fn reserves_from_vaults(
    pool_id: &str,
    vaults: (u64, u64),
    held: (u128, u128),
) -> Result<(u64, u64)> {
    let (va, vb) = vaults;
    let ra = u128::from(va).checked_sub(held.0).filter(|&r| r > 0);
    let rb = u128::from(vb).checked_sub(held.1).filter(|&r| r > 0);
    match (ra, rb) {
        // r <= the vault's u64 balance: fits
        (Some(ra), Some(rb)) => Ok((ra as u64, rb as u64)),
        _ => Err(EngineError::InvalidInput(format!(
            "pool {pool_id}: vaults ({va}, {vb}) do not cover the amounts that are not \
             reserves ({}, {})",
            held.0, held.1
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raydium_amm_v4_vector() {
        // spec §8.6: processor.rs test_swap_base_in, Coin2PC, fee 25/10000
        let out = cpmm_amount_out(
            212_854_295_571,
            77_043_918_330_755,
            1_511_361_338_135,
            25,
            10_000,
        );
        assert_eq!(out, Ok(4_153_651_556));
    }

    #[test]
    fn cpmm_rounding_table_without_fee() {
        // spec §8.6: constant_product_swap_rounding (no fee: fee_num = 0)
        let cases = [
            (10, 4_000_000, 70_000_000_000, 174_999),
            (20, 29_980, 10_000, 6),
            (19, 29_980, 10_000, 6),
            (18, 29_980, 10_000, 6),
            (10, 20_000, 30_000, 14),
            (10, 19_991, 30_000, 14),
            (10, 19_990, 30_000, 15),
            (100, 60_000, 30_000, 49),
            (99, 60_000, 30_000, 49),
            (98, 60_000, 30_000, 48),
        ];
        for (a, ri, ro, want) in cases {
            assert_eq!(
                cpmm_amount_out(a, ri, ro, 0, 1_000_000),
                Ok(want),
                "{a} {ri} {ro}"
            );
        }
    }

    #[test]
    fn exact_out_covers_the_request() {
        for out in [1u64, 7, 1_000, 999_999] {
            let need = cpmm_amount_in(out, 5_000_000, 2_000_000, 25, 10_000).unwrap();
            let got = cpmm_amount_out(need, 5_000_000, 2_000_000, 25, 10_000).unwrap();
            assert!(got >= out, "{out}: paid {need}, got {got}");
        }
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert!(matches!(
            cpmm_amount_out(1, 0, 5, 0, 1),
            Err(EngineError::InvalidInput(_))
        ));
        assert!(matches!(
            cpmm_amount_out(0, 5, 5, 0, 1),
            Err(EngineError::InvalidInput(_))
        ));
        assert!(matches!(
            cpmm_amount_out(1, 5, 5, 1, 1),
            Err(EngineError::InvalidInput(_))
        ));
        assert!(matches!(
            cpmm_amount_out(1, 5, 5, 0, 0),
            Err(EngineError::InvalidInput(_))
        ));
        assert!(matches!(
            cpmm_amount_in(5, 5, 5, 0, 1),
            Err(EngineError::InsufficientLiquidity(_))
        ));
        assert!(matches!(
            cpmm_amount_in(u64::MAX - 1, u64::MAX, u64::MAX, 25, 10_000),
            Err(EngineError::Overflow(_))
        ));
    }

    #[test]
    fn extremes_do_not_overflow() {
        let out = cpmm_amount_out(u64::MAX, u64::MAX, u64::MAX, 0, 1).unwrap();
        assert_eq!(out, u64::MAX / 2);
    }
}

//! Net profit after fees, persistence and staleness, and a go / no-go with its reasons.
//!
//! Fees (spec §5.3): base fee = `signatures × lamports_per_signature` unless the caller
//! gives the actual base fee (SIMD-0553's schedule, or `simulateTransaction.value.fee`);
//! priority fee = `ceil(cu_price × cu_limit / 1_000_000)` on the *requested* limit,
//! saturating at u64::MAX as the runtime does; plus the Jito tip. Lamports convert to base
//! units as `ceil(lamports × num / den)`, rounding against us: `num / den` is the session's
//! price of a lamport in the cycle's base token (1/1 for wSOL). When the session has no such
//! price (`base_rate_missing`: no pool path from SOL to the base), nothing is converted:
//! `fees_in_base` is 0, the net is the gross, and the score says `no_sol_price` (never a
//! silent 1/1).

use crate::error::{EngineError, Result};

pub const REASON_NOT_PROFITABLE: &str = "not_profitable";
pub const REASON_NET_BELOW_MIN: &str = "net_below_min";
pub const REASON_BPS_BELOW_MIN: &str = "bps_below_min";
pub const REASON_NOT_PERSISTENT: &str = "not_persistent";
pub const REASON_STALE: &str = "stale";
/// Sizing needed a Whirlpool's ticks its state does not hold (listed first: it is why
/// the other numbers cannot be trusted).
pub const REASON_TICKS_MISSING: &str = "ticks_missing";
/// No price converts lamports to the cycle's base token: its fees are not counted, so its
/// net is not known (listed first: no other number of the score can be trusted).
pub const REASON_NO_SOL_PRICE: &str = "no_sol_price";

/// What landing the transaction costs (see `engine_rs.records.FeeContext`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeeContext {
    pub cu_limit: u64,
    pub cu_price_micro_lamports: u64,
    pub tip_lamports: u64,
    pub signatures: u64,
    pub lamports_per_signature: u64,
    pub base_fee_lamports: Option<u64>,
    pub base_per_lamport_num: u64,
    pub base_per_lamport_den: u64,
    /// No price of a lamport in the base token is known: the conversion is not made.
    pub base_rate_missing: bool,
}

/// When an opportunity is a go (see `engine_rs.records.ScorePolicy`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScorePolicy {
    pub min_profit: i64,
    pub min_profit_bps: f64,
    pub min_persistence: u64,
    pub max_staleness_slots: u64,
}

/// The parts of an opportunity the scorer reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreInput {
    pub amount_in: u64,
    pub gross_profit: i128,
    pub persistence: u64,
    pub staleness_slots: u64,
    /// The opportunity's `ticks_missing`.
    pub ticks_missing: bool,
}

/// The verdict with the arithmetic behind it (see `engine_rs.records.Score`).
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub gross_profit: i128,
    pub base_fee_lamports: u64,
    pub priority_fee_lamports: u64,
    pub tip_lamports: u64,
    pub total_fee_lamports: u64,
    pub fees_in_base: u64,
    pub net_profit: i128,
    pub net_profit_bps: f64,
    pub persistence: u64,
    pub staleness_slots: u64,
    pub go: bool,
    pub reasons: Vec<&'static str>,
}

/// `ceil(cu_price × cu_limit / 1e6)` in u128, saturating to u64::MAX (agave `get_prioritization_fee`).
pub fn priority_fee_lamports(cu_price_micro_lamports: u64, cu_limit: u64) -> u64 {
    let micro = u128::from(cu_price_micro_lamports) * u128::from(cu_limit);
    let lamports = micro.div_ceil(1_000_000);
    u64::try_from(lamports).unwrap_or(u64::MAX)
}

/// Score one opportunity. Errors on a zero conversion denominator, a NaN/infinite bps
/// threshold, or fees that overflow u64.
pub fn score(input: &ScoreInput, fees: &FeeContext, policy: &ScorePolicy) -> Result<Score> {
    if fees.base_per_lamport_den == 0 {
        return Err(EngineError::InvalidInput(
            "base_per_lamport_den must be > 0".into(),
        ));
    }
    if !policy.min_profit_bps.is_finite() {
        return Err(EngineError::InvalidInput(format!(
            "min_profit_bps must be finite, got {}",
            policy.min_profit_bps
        )));
    }
    let overflow = |what: &str| EngineError::Overflow(format!("{what} exceeds u64"));
    let base = match fees.base_fee_lamports {
        Some(b) => b,
        None => fees
            .signatures
            .checked_mul(fees.lamports_per_signature)
            .ok_or_else(|| overflow("base fee"))?,
    };
    let priority = priority_fee_lamports(fees.cu_price_micro_lamports, fees.cu_limit);
    let total = base
        .checked_add(priority)
        .and_then(|t| t.checked_add(fees.tip_lamports))
        .ok_or_else(|| overflow("total fee"))?;
    let fees_in_base = if fees.base_rate_missing {
        0
    } else {
        let in_base = (u128::from(total) * u128::from(fees.base_per_lamport_num))
            .div_ceil(u128::from(fees.base_per_lamport_den));
        u64::try_from(in_base).map_err(|_| overflow("fee in base units"))?
    };
    let net = input.gross_profit - i128::from(fees_in_base);
    let net_bps = if input.amount_in > 0 {
        net as f64 * 10_000.0 / input.amount_in as f64
    } else {
        0.0
    };
    let mut reasons = Vec::new();
    if fees.base_rate_missing {
        reasons.push(REASON_NO_SOL_PRICE);
    }
    if input.ticks_missing {
        reasons.push(REASON_TICKS_MISSING);
    }
    if input.amount_in == 0 || input.gross_profit <= 0 {
        reasons.push(REASON_NOT_PROFITABLE);
    }
    if net < i128::from(policy.min_profit) {
        reasons.push(REASON_NET_BELOW_MIN);
    }
    if net_bps < policy.min_profit_bps {
        reasons.push(REASON_BPS_BELOW_MIN);
    }
    if input.persistence < policy.min_persistence {
        reasons.push(REASON_NOT_PERSISTENT);
    }
    if input.staleness_slots > policy.max_staleness_slots {
        reasons.push(REASON_STALE);
    }
    Ok(Score {
        gross_profit: input.gross_profit,
        base_fee_lamports: base,
        priority_fee_lamports: priority,
        tip_lamports: fees.tip_lamports,
        total_fee_lamports: total,
        fees_in_base,
        net_profit: net,
        net_profit_bps: net_bps,
        persistence: input.persistence,
        staleness_slots: input.staleness_slots,
        go: reasons.is_empty(),
        reasons,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fees() -> FeeContext {
        FeeContext {
            cu_limit: 300_000,
            cu_price_micro_lamports: 1,
            tip_lamports: 0,
            signatures: 1,
            lamports_per_signature: 5_000,
            base_fee_lamports: None,
            base_per_lamport_num: 1,
            base_per_lamport_den: 1,
            base_rate_missing: false,
        }
    }

    fn policy() -> ScorePolicy {
        ScorePolicy {
            min_profit: 1,
            min_profit_bps: 0.0,
            min_persistence: 1,
            max_staleness_slots: 4,
        }
    }

    #[test]
    fn priority_fee_vectors() {
        // spec §5.3 vectors
        assert_eq!(priority_fee_lamports(999_999, 1), 1);
        assert_eq!(priority_fee_lamports(1_000_000, 1), 1);
        assert_eq!(priority_fee_lamports(1_000_001, 1), 2);
        assert_eq!(priority_fee_lamports(200, 100_000), 20);
        assert_eq!(priority_fee_lamports(u64::MAX, u64::MAX), u64::MAX);
    }

    #[test]
    fn docs_example_total_is_5001() {
        let input = ScoreInput {
            amount_in: 1_000_000,
            gross_profit: 10_000,
            persistence: 1,
            staleness_slots: 0,
            ticks_missing: false,
        };
        let s = score(&input, &fees(), &policy()).unwrap();
        assert_eq!(s.total_fee_lamports, 5_001);
        assert_eq!(s.net_profit, 4_999);
        assert!(s.go, "{:?}", s.reasons);
    }

    #[test]
    fn every_failed_check_is_a_reason() {
        let input = ScoreInput {
            amount_in: 1_000,
            gross_profit: 100,
            persistence: 0,
            staleness_slots: 9,
            ticks_missing: true,
        };
        let s = score(&input, &fees(), &policy()).unwrap();
        assert!(!s.go);
        assert_eq!(
            s.reasons,
            vec![
                REASON_TICKS_MISSING,
                REASON_NET_BELOW_MIN,
                REASON_BPS_BELOW_MIN,
                REASON_NOT_PERSISTENT,
                REASON_STALE
            ]
        );
    }

    #[test]
    fn fees_convert_at_the_given_rate_rounding_up() {
        let input = ScoreInput {
            amount_in: 10_000_000,
            gross_profit: 100_000,
            persistence: 1,
            staleness_slots: 0,
            ticks_missing: false,
        };
        // 150.25 USDC per SOL: 150_250_000 raw per 10^9 lamports
        let mut f = fees();
        f.base_per_lamport_num = 150_250_000;
        f.base_per_lamport_den = 1_000_000_000;
        let s = score(&input, &f, &policy()).unwrap();
        assert_eq!(s.total_fee_lamports, 5_001);
        // 5_001 × 0.15025 = 751.40…: 752
        assert_eq!(s.fees_in_base, 752);
        assert_eq!(s.net_profit, 100_000 - 752);
    }

    #[test]
    fn a_missing_rate_converts_nothing_and_says_so_first() {
        let input = ScoreInput {
            amount_in: 1_000_000,
            gross_profit: 10_000,
            persistence: 1,
            staleness_slots: 0,
            ticks_missing: true,
        };
        let mut f = fees();
        f.base_rate_missing = true;
        f.base_per_lamport_num = 7; // ignored
        let s = score(&input, &f, &policy()).unwrap();
        assert_eq!((s.fees_in_base, s.net_profit), (0, 10_000));
        assert_eq!(s.total_fee_lamports, 5_001);
        assert!(!s.go);
        assert_eq!(s.reasons, vec![REASON_NO_SOL_PRICE, REASON_TICKS_MISSING]);
    }

    #[test]
    fn bad_inputs() {
        let input = ScoreInput {
            amount_in: 1,
            gross_profit: 1,
            persistence: 1,
            staleness_slots: 0,
            ticks_missing: false,
        };
        let mut f = fees();
        f.base_per_lamport_den = 0;
        assert!(matches!(
            score(&input, &f, &policy()),
            Err(EngineError::InvalidInput(_))
        ));
        let mut p = policy();
        p.min_profit_bps = f64::NAN;
        assert!(matches!(
            score(&input, &fees(), &p),
            Err(EngineError::InvalidInput(_))
        ));
        let mut f = fees();
        f.tip_lamports = u64::MAX;
        assert!(matches!(
            score(&input, &f, &policy()),
            Err(EngineError::Overflow(_))
        ));
    }
}

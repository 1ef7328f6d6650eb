//! Orca Whirlpool concentrated-liquidity math (spec §2.5), bit-exact with the program.
//!
//! CONTRACT (used by graph/sizing; the CLMM owner fills in the bodies):
//! - [`ClmmPool::new`] validates and sorts the initialized ticks once;
//! - [`ClmmPool::swap`] runs the program's swap loop;
//! - [`ClmmPool::spot_rate`] is the marginal rate after fee at zero size (f64, same
//!   operations as the Python twin).

use crate::error::{EngineError, Result};

/// The result of one swap (field names match `engine_rs.records.SwapResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapResult {
    pub amount_in: u64,
    pub amount_out: u64,
    pub fee_amount: u64,
    pub protocol_fee: u64,
    pub fee_growth_x64: u128,
    pub sqrt_price_x64: u128,
    pub tick_current: i32,
    pub liquidity: u128,
}

/// A Whirlpool's swap-relevant state with its initialized ticks sorted by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClmmPool {
    pub sqrt_price_x64: u128,
    pub liquidity: u128,
    pub tick_current: i32,
    pub tick_spacing: u16,
    /// hundredths of a basis point (denominator 1_000_000), as the program stores it
    pub fee_rate: u32,
    /// (tick_index, liquidity_net), sorted ascending, unique
    pub ticks: Vec<(i32, i128)>,
}

impl ClmmPool {
    /// Validate and build (ticks may come in any order).
    pub fn new(
        sqrt_price_x64: u128,
        liquidity: u128,
        tick_current: i32,
        tick_spacing: u16,
        fee_rate: u32,
        ticks: &[(i32, i128)],
    ) -> Result<Self> {
        let mut ticks = ticks.to_vec();
        ticks.sort_unstable_by_key(|t| t.0);
        Ok(Self {
            sqrt_price_x64,
            liquidity,
            tick_current,
            tick_spacing,
            fee_rate,
            ticks,
        })
    }

    /// One swap as the program executes it. `amount` is the exact input (exact_in) or
    /// exact output; `sqrt_price_limit` None means the program's 0 (MIN/MAX price).
    pub fn swap(
        &self,
        _amount: u64,
        _a_to_b: bool,
        _exact_in: bool,
        _sqrt_price_limit: Option<u128>,
        _protocol_fee_rate: u16,
    ) -> Result<SwapResult> {
        Err(EngineError::InvalidInput(
            "clmm swap not implemented yet".into(),
        ))
    }

    /// Output per input after the fee at zero size:
    /// `s = sqrt_price_x64 as f64 / 2^64; p = s * s; m = (1e6 - fee_rate) as f64 / 1e6;`
    /// a_to_b: `p * m`; b_to_a: `(1.0 / p) * m`.
    pub fn spot_rate(&self, a_to_b: bool) -> f64 {
        let s = self.sqrt_price_x64 as f64 / 18_446_744_073_709_551_616.0;
        let p = s * s;
        let m = (1_000_000u32.saturating_sub(self.fee_rate)) as f64 / 1_000_000.0;
        if a_to_b {
            p * m
        } else {
            (1.0 / p) * m
        }
    }
}

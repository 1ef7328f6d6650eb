//! Orca Whirlpool's swap (spec §2.5), bit-exact with the program: the pool's state and
//! the program's swap loop over the fixed-point math of [`super::math`].
//!
//! CONTRACT (used by the venue, the graph and sizing):
//! - [`ClmmPool::new`] validates and sorts the initialized ticks once;
//! - [`ClmmPool::swap`] runs the program's swap loop;
//! - [`ClmmPool::spot_rate`] is the marginal rate after fee at zero size (f64, same
//!   operations as the Python twin).
//!
//! # Tick arrays
//! The caller gives the initialized ticks, not tick arrays; the swap rebuilds the
//! array sequence the program's `swap_v2` would load (`sparse_swap.rs`): arrays of
//! `88 * tick_spacing` ticks starting at `floor(tick_current / (88 ts)) * 88 ts`, then
//! further in the swap direction (b->a starts one array later when the current tick
//! sits in the last `tick_spacing` ticks of its array), dropping starts that are not
//! valid. The program's stepping follows (`swap_tick_sequence.rs`): a step ends at the
//! next initialized tick, or, when none is left in the loaded arrays, at the last
//! array's far boundary (or MIN/MAX_TICK_INDEX in the edge arrays); it does **not**
//! stop at the boundaries between loaded arrays. Reaching an array's far boundary
//! moves on to the next array.
//!
//! The program loads at most 3 arrays. A swap that needs more (amount left and price
//! not at the limit after the third array's boundary) fails on chain with
//! `TickArraySequenceInvalidIndex`; here it raises `InsufficientLiquidity` naming that
//! error. [`ClmmPool::swap`] uses the program's 3; [`ClmmPool::swap_with_arrays`] takes
//! another count, or `None` for "as many as the swap needs" (no such transaction
//! exists, but it is the pool's curve through every supplied tick).
//!
//! # Zero liquidity
//! The program has no error for it: with `L = 0` a step moves the price straight to its
//! target (the next initialized tick, array boundary or limit) for zero tokens and zero
//! fee, and the loop goes on from there, picking liquidity up at the next initialized
//! tick. A pool with no liquidity anywhere in reach therefore returns a zero-amount
//! result when the limit is within the arrays, and fails as above (or with
//! `PartialFillError` for exact-out) otherwise.
//!
//! # Inputs not checked against each other
//! `tick_current` is taken as given (the program keeps it consistent with the price; it
//! may be `MIN_TICK_INDEX - 1` after a swap down to the minimum). A fee rate of exactly
//! 1_000_000 is accepted and fails where the program would divide by `1e6 - fee_rate`
//! (`DivideByZero`). Adaptive-fee pools are out of scope: pass their total fee rate.
//!
//! # Errors
//! Program errors keep the program's names (`EngineError::Clmm`). Those without a class
//! of their own map as: `NumberDownCastError`, `LiquidityOverflow`,
//! `AmountRemainingOverflow` -> `Overflow`; `LiquidityUnderflow` (ticks inconsistent
//! with the pool's liquidity) -> `InvalidInput`; running out of tick arrays ->
//! `InsufficientLiquidity`. Bad pool data (price or tick out of bounds, bad ticks) ->
//! `InvalidTick`; tick spacing 0 -> `InvalidTickSpacing`.

pub use super::math::{
    FEE_RATE_MUL_VALUE, FULL_RANGE_ONLY_TICK_SPACING_THRESHOLD, MAX_SQRT_PRICE_X64, MAX_TICK_INDEX,
    MIN_SQRT_PRICE_X64, MIN_TICK_INDEX, PROTOCOL_FEE_RATE_MUL_VALUE, TICK_ARRAY_SIZE,
};

use super::math::{compute_swap, fee_growth_of, sqrt_price_at, tick_at, Divider, Fail, FeeRate};

use crate::error::{ClmmErrorCode as E, EngineError, Result};

/// Tick arrays one swap instruction can load.
pub const PROGRAM_MAX_TICK_ARRAYS: u32 = 3;

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

/// `sqrt(1.0001^tick) * 2^64` as the program computes it (Q64.64).
///
/// Errors: `InvalidTick` outside `[-443636, 443636]`.
pub fn sqrt_price_from_tick(tick: i32) -> Result<u128> {
    if !(MIN_TICK_INDEX..=MAX_TICK_INDEX).contains(&tick) {
        return Err(EngineError::InvalidTick(format!(
            "tick {tick} outside [{MIN_TICK_INDEX}, {MAX_TICK_INDEX}]"
        )));
    }
    Ok(sqrt_price_at(tick))
}

/// The greatest tick whose sqrt price is `<= sqrt_price_x64` (the program's rounding).
///
/// Errors: `InvalidTick` outside `[MIN_SQRT_PRICE_X64, MAX_SQRT_PRICE_X64]`.
pub fn tick_from_sqrt_price(sqrt_price_x64: u128) -> Result<i32> {
    check_sqrt_price(sqrt_price_x64)?;
    Ok(tick_at(sqrt_price_x64))
}

fn check_sqrt_price(sqrt_price_x64: u128) -> Result<()> {
    if !(MIN_SQRT_PRICE_X64..=MAX_SQRT_PRICE_X64).contains(&sqrt_price_x64) {
        return Err(EngineError::InvalidTick(format!(
            "sqrt price {sqrt_price_x64} outside [{MIN_SQRT_PRICE_X64}, {MAX_SQRT_PRICE_X64}]"
        )));
    }
    Ok(())
}

fn check_fee_rate(fee_rate: u32) -> Result<()> {
    if fee_rate > FEE_RATE_MUL_VALUE {
        return Err(EngineError::InvalidInput(format!(
            "fee_rate {fee_rate} exceeds {FEE_RATE_MUL_VALUE} (units of 1e-6)"
        )));
    }
    Ok(())
}

/// Output per input after the fee at zero size, for a bare price (see
/// [`ClmmPool::spot_rate`] for the formula). Errors: `InvalidTick` for a price out of
/// bounds, `InvalidInput` for `fee_rate > 1_000_000`.
pub fn clmm_spot_rate(sqrt_price_x64: u128, fee_rate: u32, a_to_b: bool) -> Result<f64> {
    check_sqrt_price(sqrt_price_x64)?;
    check_fee_rate(fee_rate)?;
    Ok(spot_rate_unchecked(sqrt_price_x64, fee_rate, a_to_b))
}

#[inline]
fn spot_rate_unchecked(sqrt_price_x64: u128, fee_rate: u32, a_to_b: bool) -> f64 {
    let s = sqrt_price_x64 as f64 / 18_446_744_073_709_551_616.0;
    let p = s * s;
    let m = (1_000_000u32.saturating_sub(fee_rate)) as f64 / 1_000_000.0;
    if a_to_b {
        p * m
    } else {
        (1.0 / p) * m
    }
}

impl Fail {
    fn into_error(self, pool: &ClmmPool) -> EngineError {
        match self {
            Fail::Program(code) => EngineError::clmm(code, program_message(code)),
            Fail::Overflow(name) => EngineError::Overflow(format!(
                "{name}: an intermediate amount does not fit its on-chain type"
            )),
            Fail::LiquidityUnderflow => EngineError::InvalidInput(format!(
                "LiquidityUnderflow: crossing a tick takes out more liquidity than the pool \
                 has (liquidity {}; ticks inconsistent with it)",
                pool.liquidity
            )),
            Fail::OutOfTickArrays(name) => EngineError::InsufficientLiquidity(format!(
                "{name}: the swap runs past the tick arrays the program can load"
            )),
        }
    }
}

fn program_message(code: E) -> &'static str {
    match code {
        E::ZeroTradableAmount => "there are no tradable amount to swap",
        E::MultiplicationOverflow => "multiplication overflow",
        E::MultiplicationShiftRightOverflow => "multiplication with shift right overflow",
        E::TokenMaxExceeded => "exceeded token max",
        E::TokenMinSubceeded => "did not meet token min",
        E::AmountCalcOverflow => "amount calculated overflows",
        E::DivideByZero => "unable to divide by zero",
        E::SqrtPriceOutOfBounds => "provided sqrt price out of bounds",
        E::InvalidSqrtPriceLimitDirection => {
            "provided sqrt price limit is on the wrong side of the current price"
        }
        E::PartialFillError => "exact-out swap could not be filled without a price limit",
        E::InvalidTickSpacing => "tick spacing must be > 0",
        E::AmountOutBelowMinimum => "amount out below minimum threshold",
        E::AmountInAboveMaximum => "amount in above maximum threshold",
    }
}

/// Rust's `div_euclid` for a positive divisor, spelled out as the program's floor division.
#[inline]
fn floor_div(a: i32, b: i32) -> i32 {
    a.div_euclid(b)
}

/// The program's `Tick::check_is_valid_start_tick`.
fn is_valid_start_tick(start: i32, ticks_in_array: i32) -> bool {
    if !(MIN_TICK_INDEX..=MAX_TICK_INDEX).contains(&start) {
        if start > MIN_TICK_INDEX {
            return false;
        }
        let min_array_start = MIN_TICK_INDEX - (MIN_TICK_INDEX % ticks_in_array + ticks_in_array);
        return start == min_array_start;
    }
    start % ticks_in_array == 0
}

/// The loaded tick arrays, as arithmetic: array `i` starts at `first + dir * i * size`.
struct Arrays {
    first: i32,
    size: i32,
    /// number of arrays loaded (>= 1)
    count: i32,
    /// whether the last loaded array is the edge (min for a->b, max for b->a) array
    last_is_edge: bool,
}

impl Arrays {
    fn new(tick_current: i32, tick_spacing: i32, a_to_b: bool, max: Option<u32>) -> Option<Self> {
        let size = TICK_ARRAY_SIZE * tick_spacing;
        let base = floor_div(tick_current, size) * size;
        let first = if !a_to_b && tick_current + tick_spacing >= base + size {
            base + size
        } else {
            base
        };
        if !is_valid_start_tick(first, size) {
            return None;
        }
        // index of the edge array: the first whose start <= MIN (a->b) or whose end > MAX
        let edge = if a_to_b {
            let d = first - MIN_TICK_INDEX;
            if d <= 0 {
                0
            } else {
                (d + size - 1) / size
            }
        } else {
            let d = MAX_TICK_INDEX - first;
            if d < 0 {
                0
            } else {
                d / size
            }
        };
        let available = edge + 1;
        let count = match max {
            Some(m) => available.min(i32::try_from(m).unwrap_or(i32::MAX)),
            None => available,
        };
        Some(Self {
            first,
            size,
            count,
            last_is_edge: count == available,
        })
    }
}

impl ClmmPool {
    /// Validate and build (ticks may come in any order).
    ///
    /// Errors: `InvalidTickSpacing` for tick spacing 0; `InvalidInput` for
    /// `fee_rate > 1_000_000`; `InvalidTick` for a sqrt price outside its bounds, a
    /// `tick_current` outside `[MIN_TICK_INDEX - 1, MAX_TICK_INDEX]` (the program leaves
    /// `MIN - 1` after a swap down to the minimum), or a tick that is duplicated, not a
    /// multiple of `tick_spacing`, out of bounds, or (splash pools, spacing >= 32768)
    /// not one of the two full-range ticks.
    pub fn new(
        sqrt_price_x64: u128,
        liquidity: u128,
        tick_current: i32,
        tick_spacing: u16,
        fee_rate: u32,
        ticks: &[(i32, i128)],
    ) -> Result<Self> {
        Self::from_ticks(
            sqrt_price_x64,
            liquidity,
            tick_current,
            tick_spacing,
            fee_rate,
            ticks.to_vec(),
        )
    }

    /// [`ClmmPool::new`] taking ownership of the tick vector (no copy).
    pub fn from_ticks(
        sqrt_price_x64: u128,
        liquidity: u128,
        tick_current: i32,
        tick_spacing: u16,
        fee_rate: u32,
        mut ticks: Vec<(i32, i128)>,
    ) -> Result<Self> {
        Self::check_state(sqrt_price_x64, tick_current, tick_spacing, fee_rate)?;
        Self::check_ticks(tick_spacing, &mut ticks)?;
        Ok(Self {
            sqrt_price_x64,
            liquidity,
            tick_current,
            tick_spacing,
            fee_rate,
            ticks,
        })
    }

    /// The checks of [`ClmmPool::from_ticks`] on everything but the ticks, in its order
    /// (spacing, fee rate, sqrt price, current tick).
    pub fn check_state(
        sqrt_price_x64: u128,
        tick_current: i32,
        tick_spacing: u16,
        fee_rate: u32,
    ) -> Result<()> {
        if tick_spacing == 0 {
            return Err(EngineError::clmm(
                E::InvalidTickSpacing,
                "tick spacing must be > 0",
            ));
        }
        check_fee_rate(fee_rate)?;
        check_sqrt_price(sqrt_price_x64)?;
        if !(MIN_TICK_INDEX - 1..=MAX_TICK_INDEX).contains(&tick_current) {
            return Err(EngineError::InvalidTick(format!(
                "tick_current {tick_current} outside [{}, {MAX_TICK_INDEX}]",
                MIN_TICK_INDEX - 1
            )));
        }
        Ok(())
    }

    /// The tick checks of [`ClmmPool::from_ticks`] for `tick_spacing` (> 0), sorting
    /// `ticks` by index first if needed. Ticks that pass can be reused with any state
    /// that passes [`ClmmPool::check_state`] with the same spacing.
    pub fn check_ticks(tick_spacing: u16, ticks: &mut [(i32, i128)]) -> Result<()> {
        if !ticks.windows(2).all(|w| w[0].0 < w[1].0) {
            ticks.sort_unstable_by_key(|t| t.0);
        }
        let ts = i32::from(tick_spacing.max(1));
        // one multiply per tick instead of a hardware divide for the spacing check
        let spacing = Divider::new(u64::from(tick_spacing.max(1)));
        let full_range = if tick_spacing >= FULL_RANGE_ONLY_TICK_SPACING_THRESHOLD {
            Some((MIN_TICK_INDEX / ts * ts, MAX_TICK_INDEX / ts * ts))
        } else {
            None
        };
        for (i, &(t, _)) in ticks.iter().enumerate() {
            if !(MIN_TICK_INDEX..=MAX_TICK_INDEX).contains(&t) {
                return Err(EngineError::InvalidTick(format!(
                    "initialized tick {t} outside [{MIN_TICK_INDEX}, {MAX_TICK_INDEX}]"
                )));
            }
            if !spacing.is_multiple(u64::from(t.unsigned_abs())) {
                return Err(EngineError::InvalidTick(format!(
                    "initialized tick {t} is not a multiple of tick spacing {ts}"
                )));
            }
            if let Some((lo, hi)) = full_range {
                if t != lo && t != hi {
                    return Err(EngineError::InvalidTick(format!(
                        "initialized tick {t}: a splash pool (tick spacing {ts}) has only the \
                         full-range ticks {lo} and {hi}"
                    )));
                }
            }
            if i > 0 && ticks[i - 1].0 == t {
                return Err(EngineError::InvalidTick(format!(
                    "initialized tick {t} given twice"
                )));
            }
        }
        Ok(())
    }

    /// One swap as the program executes it with its 3 tick arrays. `amount` is the exact
    /// input (exact_in, fee included) or exact output; `sqrt_price_limit` None means the
    /// program's 0 (MIN/MAX price, and exact-out must then fill completely);
    /// `protocol_fee_rate` is in 1e-4 of the fee (at most 10_000).
    pub fn swap(
        &self,
        amount: u64,
        a_to_b: bool,
        exact_in: bool,
        sqrt_price_limit: Option<u128>,
        protocol_fee_rate: u16,
    ) -> Result<SwapResult> {
        self.swap_with_arrays(
            amount,
            a_to_b,
            exact_in,
            sqrt_price_limit,
            protocol_fee_rate,
            Some(PROGRAM_MAX_TICK_ARRAYS),
        )
    }

    /// [`ClmmPool::swap`] with `max_tick_arrays` loadable arrays (`None`: unlimited).
    /// Errors: `InvalidInput` for `max_tick_arrays == Some(0)` or
    /// `protocol_fee_rate > 10_000`; the program's errors otherwise (module docs).
    pub fn swap_with_arrays(
        &self,
        amount: u64,
        a_to_b: bool,
        exact_in: bool,
        sqrt_price_limit: Option<u128>,
        protocol_fee_rate: u16,
        max_tick_arrays: Option<u32>,
    ) -> Result<SwapResult> {
        if protocol_fee_rate > PROTOCOL_FEE_RATE_MUL_VALUE {
            return Err(EngineError::InvalidInput(format!(
                "protocol_fee_rate {protocol_fee_rate} exceeds {PROTOCOL_FEE_RATE_MUL_VALUE} \
                 (units of 1e-4 of the fee)"
            )));
        }
        if max_tick_arrays == Some(0) {
            return Err(EngineError::InvalidInput(
                "max_tick_arrays must be >= 1".into(),
            ));
        }
        self.run(
            amount,
            a_to_b,
            exact_in,
            sqrt_price_limit.unwrap_or(0),
            protocol_fee_rate,
            max_tick_arrays,
        )
        .map_err(|f| f.into_error(self))
    }

    /// Output per input after the fee at zero size:
    /// `s = sqrt_price_x64 as f64 / 2^64; p = s * s; m = (1e6 - fee_rate) as f64 / 1e6;`
    /// a_to_b: `p * m`; b_to_a: `(1.0 / p) * m`.
    pub fn spot_rate(&self, a_to_b: bool) -> f64 {
        spot_rate_unchecked(self.sqrt_price_x64, self.fee_rate, a_to_b)
    }

    /// Where the next step aims (`swap_tick_sequence.rs::get_next_initialized_tick_index`):
    /// `(array index, that array's start, tick, liquidity_net if initialized)`.
    ///
    /// `pos` is the number of initialized ticks `<= tick`; the tick moves monotonically
    /// during a swap, so it is kept up to date by stepping rather than searching.
    #[inline]
    fn next_target(
        &self,
        arrays: &Arrays,
        tick: i32,
        array_index: i32,
        pos: &mut usize,
        a_to_b: bool,
    ) -> std::result::Result<(i32, i32, i32, Option<i128>), Fail> {
        if array_index >= arrays.count {
            return Err(Fail::OutOfTickArrays("TickArraySequenceInvalidIndex"));
        }
        let ticks = &self.ticks;
        while *pos > 0 && ticks[*pos - 1].0 > tick {
            *pos -= 1;
        }
        while *pos < ticks.len() && ticks[*pos].0 <= tick {
            *pos += 1;
        }
        let ts = i32::from(self.tick_spacing);
        let size = arrays.size;
        let last = arrays.count - 1;
        if a_to_b {
            let start = arrays.first - array_index * size;
            if tick < start || tick >= start + size {
                return Err(Fail::OutOfTickArrays("InvalidTickArraySequence"));
            }
            let lowest = arrays.first - last * size;
            // the greatest initialized tick <= tick (the search includes the current tick)
            if *pos > 0 {
                let (t, net) = ticks[*pos - 1];
                if t >= lowest {
                    let (mut j, mut s) = (array_index, start);
                    if start - t > 4 * size {
                        s = floor_div(t, size) * size;
                        j = (arrays.first - s) / size;
                    }
                    while t < s {
                        s -= size;
                        j += 1;
                    }
                    return Ok((j, s, t, Some(net)));
                }
            }
            let t = if arrays.last_is_edge {
                MIN_TICK_INDEX
            } else {
                lowest
            };
            Ok((last, lowest, t, None))
        } else {
            let start = arrays.first + array_index * size;
            if tick < start - ts || tick >= start + size - ts {
                return Err(Fail::OutOfTickArrays("InvalidTickArraySequence"));
            }
            let highest_start = arrays.first + last * size;
            // the least initialized tick > tick
            if let Some(&(t, net)) = ticks.get(*pos) {
                if t < highest_start + size {
                    let (mut j, mut s) = (array_index, start);
                    if t - start > 4 * size {
                        s = floor_div(t, size) * size;
                        j = (s - arrays.first) / size;
                    }
                    while t >= s + size {
                        s += size;
                        j += 1;
                    }
                    return Ok((j, s, t, Some(net)));
                }
            }
            let t = if arrays.last_is_edge {
                MAX_TICK_INDEX
            } else {
                highest_start + size - 1
            };
            Ok((last, highest_start, t, None))
        }
    }

    /// The program's `swap` loop (`swap_manager.rs`), without adaptive fees or rewards.
    fn run(
        &self,
        amount: u64,
        a_to_b: bool,
        exact_in: bool,
        sqrt_price_limit: u128,
        protocol_fee_rate: u16,
        max_tick_arrays: Option<u32>,
    ) -> std::result::Result<SwapResult, Fail> {
        let limit = if sqrt_price_limit == 0 {
            if a_to_b {
                MIN_SQRT_PRICE_X64
            } else {
                MAX_SQRT_PRICE_X64
            }
        } else {
            sqrt_price_limit
        };
        if !(MIN_SQRT_PRICE_X64..=MAX_SQRT_PRICE_X64).contains(&limit) {
            return Err(E::SqrtPriceOutOfBounds.into());
        }
        if (a_to_b && limit >= self.sqrt_price_x64) || (!a_to_b && limit <= self.sqrt_price_x64) {
            return Err(E::InvalidSqrtPriceLimitDirection.into());
        }
        if amount == 0 {
            return Err(E::ZeroTradableAmount.into());
        }
        let ts = i32::from(self.tick_spacing);
        let arrays = Arrays::new(self.tick_current, ts, a_to_b, max_tick_arrays)
            .ok_or(Fail::OutOfTickArrays("InvalidTickArraySequence"))?;

        let mut remaining = amount;
        let mut calculated: u64 = 0;
        let mut price = self.sqrt_price_x64;
        let mut tick = self.tick_current;
        let mut liquidity = self.liquidity;
        let mut protocol_fee: u64 = 0;
        let mut fee_growth: u128 = 0;
        let mut fee_sum: u64 = 0;
        let mut array_index: i32 = 0;
        let mut pos = self.ticks.partition_point(|t| t.0 <= tick);
        let mut fee_rate = FeeRate::new(self.fee_rate);
        let overflow_remaining = Fail::Overflow("AmountRemainingOverflow");
        let overflow_calc = Fail::Program(E::AmountCalcOverflow);

        while remaining > 0 && price != limit {
            let (next_array, next_array_start, next_tick, next_net) =
                self.next_target(&arrays, tick, array_index, &mut pos, a_to_b)?;
            let next_tick_price = sqrt_price_at(next_tick);
            let target = if a_to_b {
                limit.max(next_tick_price)
            } else {
                limit.min(next_tick_price)
            };
            loop {
                let step = compute_swap(
                    remaining,
                    &mut fee_rate,
                    liquidity,
                    price,
                    target,
                    exact_in,
                    a_to_b,
                )?;
                if exact_in {
                    remaining = remaining
                        .checked_sub(step.amount_in)
                        .and_then(|r| r.checked_sub(step.fee_amount))
                        .ok_or(overflow_remaining)?;
                    calculated = calculated
                        .checked_add(step.amount_out)
                        .ok_or(overflow_calc)?;
                } else {
                    remaining = remaining
                        .checked_sub(step.amount_out)
                        .ok_or(overflow_remaining)?;
                    calculated = calculated
                        .checked_add(step.amount_in)
                        .and_then(|c| c.checked_add(step.fee_amount))
                        .ok_or(overflow_calc)?;
                }
                fee_sum = fee_sum.checked_add(step.fee_amount).ok_or(overflow_calc)?;

                let mut lp_fee = step.fee_amount;
                if protocol_fee_rate > 0 {
                    // fee * rate / 10_000 <= fee since rate <= 10_000
                    let rate = u64::from(protocol_fee_rate);
                    let den = u64::from(PROTOCOL_FEE_RATE_MUL_VALUE);
                    let delta = match lp_fee.checked_mul(rate) {
                        Some(p) => p / den,
                        None => (u128::from(lp_fee) * u128::from(rate) / u128::from(den)) as u64,
                    };
                    lp_fee -= delta;
                    protocol_fee = protocol_fee.wrapping_add(delta);
                }
                // no growth without liquidity
                if liquidity > 0 {
                    fee_growth = fee_growth.wrapping_add(fee_growth_of(lp_fee, liquidity));
                }

                if step.next_price == next_tick_price {
                    if let Some(net) = next_net {
                        // a->b crosses leftward: subtract liquidity_net
                        let add = (net > 0) != a_to_b;
                        let magnitude = net.unsigned_abs();
                        liquidity = if net == 0 {
                            liquidity
                        } else if add {
                            liquidity
                                .checked_add(magnitude)
                                .ok_or(Fail::Overflow("LiquidityOverflow"))?
                        } else {
                            liquidity
                                .checked_sub(magnitude)
                                .ok_or(Fail::LiquidityUnderflow)?
                        };
                    }
                    // the crossed tick's slot in its array is first (a->b) or last
                    // (b->a): floor((next_tick - start) / ts) == 0 or 87
                    let into = next_tick - next_array_start;
                    array_index = if (a_to_b && into < ts) || (!a_to_b && into >= arrays.size - ts)
                    {
                        next_array + 1
                    } else {
                        next_array
                    };
                    tick = if a_to_b { next_tick - 1 } else { next_tick };
                } else if step.next_price != price {
                    tick = tick_at(step.next_price);
                }
                price = step.next_price;
                if remaining == 0 || price == target {
                    break;
                }
            }
        }

        if remaining > 0 && !exact_in && sqrt_price_limit == 0 {
            return Err(E::PartialFillError.into());
        }
        let (amount_in, amount_out) = if exact_in {
            (amount - remaining, calculated)
        } else {
            (calculated, amount - remaining)
        };
        Ok(SwapResult {
            amount_in,
            amount_out,
            fee_amount: fee_sum,
            protocol_fee,
            fee_growth_x64: fee_growth,
            sqrt_price_x64: price,
            tick_current: tick,
            liquidity,
        })
    }
}

#[cfg(test)]
#[path = "swap_tests.rs"]
mod tests;

//! Bindings for `arbscope_core::venues::meteora_damm_v2`: `decode_meteora_damm_pool`, the
//! kernels `meteora_damm_v2_swap` / `meteora_damm_v2_quote` and the `EvtSwap2` record.

use arbscope_core::venues::meteora_damm_v2::{self as dm, DammPool, SwapEvent};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::args::U64;
use crate::decode::{add_functions, data_of, decoders, obj, rec};
use crate::errors::guard;

decoders! {
    /// DAMM v2 `Pool` -> `engine_rs.decoded.MeteoraDammPool`.
    fn decode_meteora_damm_pool(py, p = dm::decode_meteora_damm_pool) {
        pool_record(py, &p)
    }
}

/// `engine_rs.decoded.MeteoraDammPool` of a decoded `Pool`.
pub(crate) fn pool_record<'py>(py: Python<'py>, p: &DammPool) -> PyResult<Bound<'py, PyAny>> {
    rec!(py, "MeteoraDammPool", p => [PyBytes::new(py, &p.base_fee).into_any()],
        protocol_fee_percent, referral_fee_percent, compounding_fee_bps, dynamic_fee_initialized,
        max_volatility_accumulator, variable_fee_control, bin_step, filter_period, decay_period,
        dynamic_reduction_factor, last_update_timestamp, bin_step_u128, sqrt_price_reference,
        volatility_accumulator, volatility_reference, init_sqrt_price, key token_a_mint,
        key token_b_mint, key token_a_vault, key token_b_vault, key whitelisted_vault, liquidity,
        protocol_a_fee, protocol_b_fee, sqrt_min_price, sqrt_max_price, sqrt_price,
        activation_point, activation_type, pool_status, token_a_flag, token_b_flag,
        collect_fee_mode, pool_type, fee_version, permanent_lock_liquidity, key creator,
        token_a_amount, token_b_amount, layout_version)
}

/// The program's exact-input swap of a pool account at `point` (the clock's slot or unix
/// time, as the pool is activated) -> `engine_rs.decoded.DammSwapQuote`, or the name of
/// the program's error (`"PriceRangeViolation"`, `"PoolDisabled"` ...).
#[pyfunction]
#[pyo3(signature = (pool, point, amount, a_to_b, has_referral = false))]
fn meteora_damm_v2_swap<'py>(
    py: Python<'py>,
    pool: &Bound<'py, PyAny>,
    point: U64,
    amount: U64,
    a_to_b: bool,
    has_referral: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let d = data_of(pool)?;
    let (point, amount) = (point.0, amount.0);
    match guard(py, || dm::swap_raw(&d, point, amount, a_to_b, has_referral))? {
        Err(name) => Ok(obj!(py, name)),
        Ok(r) => rec!(py, "DammSwapQuote", r => included_fee_input_amount,
            excluded_fee_input_amount, output_amount, next_sqrt_price, trade_fee_numerator,
            (r.fee.claiming_fee), (r.fee.compounding_fee), (r.fee.protocol_fee),
            (r.fee.referral_fee), fees_on_input),
    }
}

/// The output of [`meteora_damm_v2_swap`] only (0 for 0, None when the program fails):
/// the exact-in quote the graph makes, on the pool account's bytes.
#[pyfunction]
fn meteora_damm_v2_quote(
    py: Python<'_>,
    pool: &Bound<'_, PyAny>,
    point: U64,
    amount: U64,
    a_to_b: bool,
) -> PyResult<Option<u64>> {
    let d = data_of(pool)?;
    let (point, amount) = (point.0, amount.0);
    if amount == 0 {
        guard(py, || dm::decode_meteora_damm_pool(&d, None))?;
        return Ok(Some(0));
    }
    Ok(
        guard(py, || dm::swap_raw(&d, point, amount, a_to_b, false))?
            .ok()
            .map(|r| r.output_amount),
    )
}

/// `engine_rs.decoded.DammSwapEvent` of a parsed `EvtSwap2`.
pub(crate) fn swap_event_record(py: Python<'_>, ev: SwapEvent) -> PyResult<Bound<'_, PyAny>> {
    rec!(py, "DammSwapEvent", ev => key pool, trade_direction, collect_fee_mode, has_referral,
        amount_0, amount_1, swap_mode, included_fee_input_amount, excluded_fee_input_amount,
        amount_left, output_amount, next_sqrt_price, claiming_fee, protocol_fee, compounding_fee,
        referral_fee, included_transfer_fee_amount_in, included_transfer_fee_amount_out,
        excluded_transfer_fee_amount_out, current_timestamp, reserve_a_amount, reserve_b_amount)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_functions!(
        m,
        decode_meteora_damm_pool,
        meteora_damm_v2_swap,
        meteora_damm_v2_quote
    )
}

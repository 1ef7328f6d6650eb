//! Bindings for `arbscope_core::venues::meteora_damm_v2`: `decode_meteora_damm_pool`, the
//! kernels `meteora_damm_v2_swap` / `meteora_damm_v2_quote` and the `EvtSwap2` record.

use arbscope_core::venues::meteora_damm_v2::{self as dm, DammPool, SwapEvent};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::args::U64;
use crate::decode::{data_of, key, obj, owner_of, record};
use crate::errors::guard;

/// DAMM v2 `Pool` -> `engine_rs.decoded.MeteoraDammPool`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_meteora_damm_pool<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let p = guard(py, || dm::decode_meteora_damm_pool(&d, o.as_ref()))?;
    pool_record(py, &p)
}

/// `engine_rs.decoded.MeteoraDammPool` of a decoded `Pool`.
pub(crate) fn pool_record<'py>(py: Python<'py>, p: &DammPool) -> PyResult<Bound<'py, PyAny>> {
    let args = vec![
        PyBytes::new(py, &p.base_fee).into_any(),
        obj!(py, p.protocol_fee_percent),
        obj!(py, p.referral_fee_percent),
        obj!(py, p.compounding_fee_bps),
        obj!(py, p.dynamic_fee_initialized),
        obj!(py, p.max_volatility_accumulator),
        obj!(py, p.variable_fee_control),
        obj!(py, p.bin_step),
        obj!(py, p.filter_period),
        obj!(py, p.decay_period),
        obj!(py, p.dynamic_reduction_factor),
        obj!(py, p.last_update_timestamp),
        obj!(py, p.bin_step_u128),
        obj!(py, p.sqrt_price_reference),
        obj!(py, p.volatility_accumulator),
        obj!(py, p.volatility_reference),
        obj!(py, p.init_sqrt_price),
        key(py, &p.token_a_mint),
        key(py, &p.token_b_mint),
        key(py, &p.token_a_vault),
        key(py, &p.token_b_vault),
        key(py, &p.whitelisted_vault),
        obj!(py, p.liquidity),
        obj!(py, p.protocol_a_fee),
        obj!(py, p.protocol_b_fee),
        obj!(py, p.sqrt_min_price),
        obj!(py, p.sqrt_max_price),
        obj!(py, p.sqrt_price),
        obj!(py, p.activation_point),
        obj!(py, p.activation_type),
        obj!(py, p.pool_status),
        obj!(py, p.token_a_flag),
        obj!(py, p.token_b_flag),
        obj!(py, p.collect_fee_mode),
        obj!(py, p.pool_type),
        obj!(py, p.fee_version),
        obj!(py, p.permanent_lock_liquidity),
        key(py, &p.creator),
        obj!(py, p.token_a_amount),
        obj!(py, p.token_b_amount),
        obj!(py, p.layout_version),
    ];
    record(py, "MeteoraDammPool", args)
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
        Ok(r) => record(
            py,
            "DammSwapQuote",
            vec![
                obj!(py, r.included_fee_input_amount),
                obj!(py, r.excluded_fee_input_amount),
                obj!(py, r.output_amount),
                obj!(py, r.next_sqrt_price),
                obj!(py, r.trade_fee_numerator),
                obj!(py, r.fee.claiming_fee),
                obj!(py, r.fee.compounding_fee),
                obj!(py, r.fee.protocol_fee),
                obj!(py, r.fee.referral_fee),
                obj!(py, r.fees_on_input),
            ],
        ),
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
    let args = vec![
        key(py, &ev.pool),
        obj!(py, ev.trade_direction),
        obj!(py, ev.collect_fee_mode),
        obj!(py, ev.has_referral),
        obj!(py, ev.amount_0),
        obj!(py, ev.amount_1),
        obj!(py, ev.swap_mode),
        obj!(py, ev.included_fee_input_amount),
        obj!(py, ev.excluded_fee_input_amount),
        obj!(py, ev.amount_left),
        obj!(py, ev.output_amount),
        obj!(py, ev.next_sqrt_price),
        obj!(py, ev.claiming_fee),
        obj!(py, ev.protocol_fee),
        obj!(py, ev.compounding_fee),
        obj!(py, ev.referral_fee),
        obj!(py, ev.included_transfer_fee_amount_in),
        obj!(py, ev.included_transfer_fee_amount_out),
        obj!(py, ev.excluded_transfer_fee_amount_out),
        obj!(py, ev.current_timestamp),
        obj!(py, ev.reserve_a_amount),
        obj!(py, ev.reserve_b_amount),
    ];
    record(py, "DammSwapEvent", args)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_meteora_damm_pool, m)?)?;
    m.add_function(wrap_pyfunction!(meteora_damm_v2_swap, m)?)?;
    m.add_function(wrap_pyfunction!(meteora_damm_v2_quote, m)?)?;
    Ok(())
}

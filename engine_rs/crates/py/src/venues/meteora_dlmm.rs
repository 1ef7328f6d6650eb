//! Bindings for `arbscope_core::venues::meteora_dlmm`: `decode_meteora_lb_pair`,
//! `decode_meteora_bin_array`, `decode_meteora_bitmap_extension`, the kernel
//! `meteora_dlmm_swap` and the `Swap` event record.

use arbscope_core::venues::meteora_dlmm::{self as dl, LbPair, SwapEvent};
use arbscope_core::EngineError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::decode::{data_of, key, obj, owner_of, record};
use crate::errors::guard;

/// Meteora DLMM `LbPair` -> `engine_rs.decoded.MeteoraLbPair`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_meteora_lb_pair<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let p = guard(py, || dl::decode_lb_pair(&d, o.as_ref()))?;
    pool_record(py, &p)
}

/// `engine_rs.decoded.MeteoraLbPair` of a decoded `LbPair`.
pub(crate) fn pool_record<'py>(py: Python<'py>, p: &LbPair) -> PyResult<Bound<'py, PyAny>> {
    let args = vec![
        obj!(py, p.base_factor),
        obj!(py, p.filter_period),
        obj!(py, p.decay_period),
        obj!(py, p.reduction_factor),
        obj!(py, p.variable_fee_control),
        obj!(py, p.max_volatility_accumulator),
        obj!(py, p.min_bin_id),
        obj!(py, p.max_bin_id),
        obj!(py, p.protocol_share),
        obj!(py, p.base_fee_power_factor),
        obj!(py, p.function_type),
        obj!(py, p.collect_fee_mode),
        obj!(py, p.volatility_accumulator),
        obj!(py, p.volatility_reference),
        obj!(py, p.index_reference),
        obj!(py, p.last_update_timestamp),
        obj!(py, p.bump_seed),
        obj!(py, p.bin_step_seed),
        obj!(py, p.pair_type),
        obj!(py, p.active_id),
        obj!(py, p.bin_step),
        obj!(py, p.status),
        obj!(py, p.require_base_factor_seed),
        obj!(py, p.base_factor_seed),
        obj!(py, p.activation_type),
        obj!(py, p.creator_pool_on_off_control),
        key(py, &p.token_x_mint),
        key(py, &p.token_y_mint),
        key(py, &p.reserve_x),
        key(py, &p.reserve_y),
        obj!(py, p.protocol_fee_x),
        obj!(py, p.protocol_fee_y),
        PyTuple::new(py, p.reward_mints.iter().map(|k| key(py, k)))?.into_any(),
        key(py, &p.oracle),
        PyTuple::new(py, p.bin_array_bitmap)?.into_any(),
        obj!(py, p.last_updated_at),
        key(py, &p.pre_activation_swap_address),
        key(py, &p.base_key),
        obj!(py, p.activation_point),
        obj!(py, p.pre_activation_duration),
        key(py, &p.creator),
        obj!(py, p.token_mint_x_program_flag),
        obj!(py, p.token_mint_y_program_flag),
        obj!(py, p.version),
    ];
    record(py, "MeteoraLbPair", args)
}

/// Meteora DLMM `BinArray` -> `engine_rs.decoded.DlmmBinArray`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_meteora_bin_array<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let a = guard(py, || dl::decode_bin_array(&d, o.as_ref()))?;
    let mut bins = Vec::with_capacity(a.bins.len());
    for b in &a.bins {
        bins.push(PyTuple::new(
            py,
            [
                obj!(py, b.amount_x),
                obj!(py, b.amount_y),
                obj!(py, b.price),
                obj!(py, b.liquidity_supply),
                obj!(py, b.open_order_amount),
                obj!(py, b.processed_order_remaining_amount),
                obj!(py, b.limit_order_ask_side),
            ],
        )?);
    }
    let args = vec![
        obj!(py, a.index),
        obj!(py, a.version),
        key(py, &a.lb_pair),
        PyTuple::new(py, bins)?.into_any(),
    ];
    record(py, "DlmmBinArray", args)
}

/// Meteora DLMM `BinArrayBitmapExtension` -> `engine_rs.decoded.DlmmBitmapExtension`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_meteora_bitmap_extension<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let e = guard(py, || dl::decode_bitmap_extension(&d, o.as_ref()))?;
    let words = |w: &[[u64; 8]; 12]| -> PyResult<Bound<'py, PyAny>> {
        let rows = w
            .iter()
            .map(|r| PyTuple::new(py, r))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyTuple::new(py, rows)?.into_any())
    };
    let args = vec![
        key(py, &e.lb_pair),
        words(&e.positive)?,
        words(&e.negative)?,
    ];
    record(py, "DlmmBitmapExtension", args)
}

/// Account bytes read in place: `bytes` borrowed, anything else copied (as `data_of`).
enum Data<'py> {
    Borrowed(Bound<'py, PyBytes>),
    Owned(Vec<u8>),
}

impl Data<'_> {
    fn of<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Data<'py>> {
        match obj.cast::<PyBytes>() {
            Ok(b) => Ok(Data::Borrowed(b.clone())),
            Err(_) => Ok(Data::Owned(data_of(obj)?)),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Data::Borrowed(b) => b.as_bytes(),
            Data::Owned(v) => v,
        }
    }
}

/// The pair's bytes and each bin array's, read in place.
fn accounts<'py>(
    lb_pair: &Bound<'py, PyAny>,
    bin_arrays: &Bound<'py, PyAny>,
) -> PyResult<(Data<'py>, Vec<Data<'py>>)> {
    let pair = Data::of(lb_pair)?;
    let mut arrays = Vec::new();
    if let Ok(list) = bin_arrays.cast::<PyList>() {
        for item in list.iter() {
            arrays.push(Data::of(&item)?);
        }
    } else {
        for item in bin_arrays.try_iter()? {
            arrays.push(Data::of(&item?)?);
        }
    }
    Ok((pair, arrays))
}

/// The program's exact-in swap on a pair's and its bin arrays' bytes at `now` (unix
/// seconds) and `slot` -> `engine_rs.decoded.DlmmSwapQuote`, or None when the program
/// fails; TicksMissingError when it needs a bin array not given.
#[pyfunction]
fn meteora_dlmm_swap<'py>(
    py: Python<'py>,
    lb_pair: &Bound<'py, PyAny>,
    bin_arrays: &Bound<'py, PyAny>,
    amount: u64,
    swap_for_y: bool,
    now: i64,
    slot: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let (pair, arrays) = accounts(lb_pair, bin_arrays)?;
    let views: Vec<&[u8]> = arrays.iter().map(Data::bytes).collect();
    let r = guard(py, || {
        dl::swap_accounts(pair.bytes(), &views, amount, swap_for_y, now, slot)
    })?;
    match r {
        None => Ok(obj!(py, py.None())),
        Some(r) => record(
            py,
            "DlmmSwapQuote",
            vec![
                obj!(py, r.amount_out),
                obj!(py, r.fee),
                obj!(py, r.protocol_fee),
                obj!(py, r.active_id),
                obj!(py, r.v.accumulator),
                obj!(py, r.v.reference),
                obj!(py, r.v.index_reference),
                PyTuple::new(py, r.fills)?.into_any(),
            ],
        ),
    }
}

/// The output of [`meteora_dlmm_swap`] only (0 for 0): the exact-in quote the graph
/// makes, on account bytes.
#[pyfunction]
fn meteora_dlmm_quote(
    py: Python<'_>,
    lb_pair: &Bound<'_, PyAny>,
    bin_arrays: &Bound<'_, PyAny>,
    amount: u64,
    swap_for_y: bool,
    now: i64,
    slot: u64,
) -> PyResult<Option<u64>> {
    let (pair, arrays) = accounts(lb_pair, bin_arrays)?;
    let views: Vec<&[u8]> = arrays.iter().map(Data::bytes).collect();
    guard(py, || {
        dl::quote_accounts(pair.bytes(), &views, amount, swap_for_y, now, slot)
    })
}

/// The price the program stores in bin `bin_id` for `bin_step` (bp): `(1 + bin_step /
/// 10,000)^bin_id` in Q64.64; MathOverflowError when it does not fit.
#[pyfunction]
fn meteora_dlmm_bin_price(py: Python<'_>, bin_id: i32, bin_step: u16) -> PyResult<u128> {
    guard(py, || {
        dl::math::price_from_id(bin_id, bin_step).ok_or_else(|| {
            EngineError::Overflow(format!(
                "the price of bin {bin_id} at bin step {bin_step} does not fit in Q64.64"
            ))
        })
    })
}

/// `engine_rs.decoded.DlmmSwapEvent` of a parsed `Swap` event.
pub(crate) fn swap_event_record(py: Python<'_>, ev: SwapEvent) -> PyResult<Bound<'_, PyAny>> {
    let args = vec![
        key(py, &ev.lb_pair),
        key(py, &ev.from),
        obj!(py, ev.start_bin_id),
        obj!(py, ev.end_bin_id),
        obj!(py, ev.amount_in),
        obj!(py, ev.amount_out),
        obj!(py, ev.swap_for_y),
        obj!(py, ev.fee),
        obj!(py, ev.protocol_fee),
        obj!(py, ev.fee_bps),
        obj!(py, ev.host_fee),
    ];
    record(py, "DlmmSwapEvent", args)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_meteora_lb_pair, m)?)?;
    m.add_function(wrap_pyfunction!(decode_meteora_bin_array, m)?)?;
    m.add_function(wrap_pyfunction!(decode_meteora_bitmap_extension, m)?)?;
    m.add_function(wrap_pyfunction!(meteora_dlmm_swap, m)?)?;
    m.add_function(wrap_pyfunction!(meteora_dlmm_quote, m)?)?;
    m.add_function(wrap_pyfunction!(meteora_dlmm_bin_price, m)?)?;
    Ok(())
}

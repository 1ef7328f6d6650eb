//! Bindings for `arbscope_core::venues::meteora_dlmm`: `decode_meteora_lb_pair`,
//! `decode_meteora_bin_array`, `decode_meteora_bitmap_extension`, the kernel
//! `meteora_dlmm_swap` and the `Swap` event record.

use arbscope_core::venues::meteora_dlmm::{self as dl, LbPair, SwapEvent};
use arbscope_core::EngineError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::decode::{add_functions, data_of, decoders, key, obj, rec};
use crate::errors::guard;

decoders! {
    /// Meteora DLMM `LbPair` -> `engine_rs.decoded.MeteoraLbPair`.
    fn decode_meteora_lb_pair(py, p = dl::decode_lb_pair) {
        pool_record(py, &p)
    }

    /// Meteora DLMM `BinArray` -> `engine_rs.decoded.DlmmBinArray`.
    fn decode_meteora_bin_array(py, a = dl::decode_bin_array) {
        let mut bins = Vec::with_capacity(a.bins.len());
        for b in &a.bins {
            let bin = (
                b.amount_x,
                b.amount_y,
                b.price,
                b.liquidity_supply,
                b.open_order_amount,
                b.processed_order_remaining_amount,
                b.limit_order_ask_side,
            );
            bins.push(bin.into_pyobject(py)?);
        }
        rec!(py, "DlmmBinArray", a => index, version, key lb_pair,
            [PyTuple::new(py, bins)?.into_any()])
    }

    /// Meteora DLMM `BinArrayBitmapExtension` -> `engine_rs.decoded.DlmmBitmapExtension`.
    fn decode_meteora_bitmap_extension(py, e = dl::decode_bitmap_extension) {
        let words = |w: &[[u64; 8]; 12]| -> PyResult<Bound<'_, PyAny>> {
            let rows = w.iter().map(|r| PyTuple::new(py, r)).collect::<PyResult<Vec<_>>>()?;
            Ok(PyTuple::new(py, rows)?.into_any())
        };
        rec!(py, "DlmmBitmapExtension", e => key lb_pair, [words(&e.positive)?],
            [words(&e.negative)?])
    }
}

/// `engine_rs.decoded.MeteoraLbPair` of a decoded `LbPair`.
pub(crate) fn pool_record<'py>(py: Python<'py>, p: &LbPair) -> PyResult<Bound<'py, PyAny>> {
    let reward_mints = PyTuple::new(py, p.reward_mints.iter().map(|k| key(py, k)))?;
    rec!(py, "MeteoraLbPair", p => base_factor, filter_period, decay_period, reduction_factor,
        variable_fee_control, max_volatility_accumulator, min_bin_id, max_bin_id, protocol_share,
        base_fee_power_factor, function_type, collect_fee_mode, volatility_accumulator,
        volatility_reference, index_reference, last_update_timestamp, bump_seed, bin_step_seed,
        pair_type, active_id, bin_step, status, require_base_factor_seed, base_factor_seed,
        activation_type, creator_pool_on_off_control, key token_x_mint, key token_y_mint,
        key reserve_x, key reserve_y, protocol_fee_x, protocol_fee_y,
        [reward_mints.into_any()], key oracle, tuple bin_array_bitmap, last_updated_at,
        key pre_activation_swap_address, key base_key, activation_point,
        pre_activation_duration, key creator, token_mint_x_program_flag,
        token_mint_y_program_flag, version)
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
        Some(r) => rec!(py, "DlmmSwapQuote", r => amount_out, fee, protocol_fee, active_id,
            (r.v.accumulator), (r.v.reference), (r.v.index_reference), tuple fills),
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
    rec!(py, "DlmmSwapEvent", ev => key lb_pair, key from, start_bin_id, end_bin_id, amount_in,
        amount_out, swap_for_y, fee, protocol_fee, fee_bps, host_fee)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_functions!(
        m,
        decode_meteora_lb_pair,
        decode_meteora_bin_array,
        decode_meteora_bitmap_extension,
        meteora_dlmm_swap,
        meteora_dlmm_quote,
        meteora_dlmm_bin_price
    )
}

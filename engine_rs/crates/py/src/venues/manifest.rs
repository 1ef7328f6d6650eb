//! Bindings for `arbscope_core::venues::manifest`: the market and global decoders, the
//! program's exact-in swap (`manifest_swap`), the venue's quote (`manifest_quote`) and
//! the L2 ladder (`manifest_ladder`), on the accounts' bytes.

use arbscope_core::venues::manifest::{self as mf, BookState, FillLog, ManifestMarket, Order};
use arbscope_core::venues::Curve;
use arbscope_core::EngineError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::args::{I64, U64};
use crate::decode::{data_of, key, obj, owner_of, record};
use crate::errors::guard;

/// Manifest market -> `engine_rs.decoded.ManifestMarket`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_manifest_market<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let m = guard(py, || mf::decode_manifest_market(&d, o.as_ref()))?;
    market_record(py, &m)
}

fn order_record<'py>(py: Python<'py>, o: &Order) -> PyResult<Bound<'py, PyAny>> {
    record(
        py,
        "ManifestOrder",
        vec![
            obj!(py, o.index),
            obj!(py, o.price),
            obj!(py, o.base_atoms),
            obj!(py, o.sequence_number),
            obj!(py, o.trader_index),
            key(py, &o.trader),
            obj!(py, o.last_valid_slot),
            obj!(py, o.is_bid),
            obj!(py, o.order_type),
            obj!(py, o.reverse_spread),
        ],
    )
}

/// A decoded market as its record.
pub(crate) fn market_record<'py>(
    py: Python<'py>,
    m: &ManifestMarket,
) -> PyResult<Bound<'py, PyAny>> {
    let side = |orders: &[Order]| -> PyResult<Bound<'py, PyAny>> {
        let items = orders
            .iter()
            .map(|o| order_record(py, o))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyTuple::new(py, items)?.into_any())
    };
    let args = vec![
        obj!(py, m.version),
        obj!(py, m.base_mint_decimals),
        obj!(py, m.quote_mint_decimals),
        obj!(py, m.base_vault_bump),
        obj!(py, m.quote_vault_bump),
        key(py, &m.base_mint),
        key(py, &m.quote_mint),
        key(py, &m.base_vault),
        key(py, &m.quote_vault),
        obj!(py, m.order_sequence_number),
        obj!(py, m.num_bytes_allocated),
        obj!(py, m.bids_root_index),
        obj!(py, m.bids_best_index),
        obj!(py, m.asks_root_index),
        obj!(py, m.asks_best_index),
        obj!(py, m.claimed_seats_root_index),
        obj!(py, m.free_list_head_index),
        obj!(py, m.quote_volume),
        side(&m.bids)?,
        side(&m.asks)?,
        obj!(py, m.seats),
        obj!(py, m.free_blocks),
    ];
    record(py, "ManifestMarket", args)
}

/// Manifest global account -> `engine_rs.decoded.ManifestGlobal`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_manifest_global<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let g = guard(py, || mf::decode_manifest_global(&d, o.as_ref()))?;
    let deposits = g
        .deposits
        .iter()
        .map(|(k, v)| PyTuple::new(py, [key(py, k), obj!(py, *v)]).map(|t| t.into_any()))
        .collect::<PyResult<Vec<_>>>()?;
    record(
        py,
        "ManifestGlobal",
        vec![
            key(py, &g.mint),
            key(py, &g.vault),
            obj!(py, g.num_bytes_allocated),
            obj!(py, g.vault_bump),
            obj!(py, g.global_bump),
            obj!(py, g.num_seats_claimed),
            PyTuple::new(py, deposits)?.into_any(),
        ],
    )
}

/// A global's deposits from its bytes (None: not given).
fn deposits_of(data: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<u8>>> {
    match data {
        Some(d) if !d.is_none() => data_of(d).map(Some),
        _ => Ok(None),
    }
}

/// The book of a market's bytes at `now_slot` (the program's `slot as u32`) with the
/// globals' bytes.
fn book(
    market: &[u8],
    now_slot: u64,
    base_global: Option<&[u8]>,
    quote_global: Option<&[u8]>,
) -> arbscope_core::Result<BookState> {
    let m = mf::decode_manifest_market(market, None)?;
    let g = |d: Option<&[u8]>| -> arbscope_core::Result<Option<mf::Held>> {
        d.map(|d| mf::decode_manifest_global(d, None).map(|g| g.deposits))
            .transpose()
    };
    Ok(BookState::new(
        &m,
        now_slot as u32,
        g(base_global)?,
        g(quote_global)?,
    ))
}

/// The program's exact-in swap of `amount` (base in when `a_to_b`) on a market's bytes
/// at `now_slot`, given the globals passed (the maker side's is used) ->
/// `engine_rs.decoded.ManifestSwap`, or the program's error name.
#[pyfunction]
#[pyo3(signature = (market, now_slot, amount, a_to_b, base_global = None, quote_global = None))]
fn manifest_swap<'py>(
    py: Python<'py>,
    market: &Bound<'py, PyAny>,
    now_slot: U64,
    amount: U64,
    a_to_b: bool,
    base_global: Option<&Bound<'py, PyAny>>,
    quote_global: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let d = data_of(market)?;
    let (bg, qg) = (deposits_of(base_global)?, deposits_of(quote_global)?);
    let s = guard(py, || book(&d, now_slot.0, bg.as_deref(), qg.as_deref()))?;
    match s.swap(amount.0, a_to_b) {
        Err(code) => Ok(obj!(py, mf::error_name(code))),
        Ok(r) => record(
            py,
            "ManifestSwap",
            vec![
                obj!(py, r.amount_in),
                obj!(py, r.amount_out),
                obj!(py, r.target_base),
                obj!(py, r.fills),
                obj!(py, r.removed),
                obj!(py, r.global_fills),
                obj!(py, r.exhausted),
                obj!(py, r.missing_global),
            ],
        ),
    }
}

/// The venue's quote (the graph's): the output of a complete swap on a market with two
/// free blocks (0 for 0; None: no number; TicksMissingError: a global order whose
/// global is not given).
#[pyfunction]
#[pyo3(signature = (market, now_slot, amount, a_to_b, base_global = None, quote_global = None))]
fn manifest_quote(
    py: Python<'_>,
    market: &Bound<'_, PyAny>,
    now_slot: U64,
    amount: U64,
    a_to_b: bool,
    base_global: Option<&Bound<'_, PyAny>>,
    quote_global: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<u64>> {
    let d = data_of(market)?;
    let (bg, qg) = (deposits_of(base_global)?, deposits_of(quote_global)?);
    let s = guard(py, || book(&d, now_slot.0, bg.as_deref(), qg.as_deref()))?;
    match s.quote_steps(amount.0, a_to_b) {
        Ok((out, _)) => Ok(Some(out)),
        Err(arbscope_core::venues::NoQuote::Unfillable) => Ok(None),
        Err(arbscope_core::venues::NoQuote::TicksMissing) => guard(py, || {
            Err(EngineError::TicksMissing(
                "the swap reaches a global order whose global account is not given".into(),
            ))
        }),
    }
}

/// The L2 ladder of a market's bytes at `now_slot`: `depth` levels a side
/// (`engine_rs.records.BookLadder`, market "" and slot 0).
#[pyfunction]
#[pyo3(
    signature = (market, now_slot, depth = I64(20), base_global = None, quote_global = None),
    text_signature = "(market, now_slot, depth=20, base_global=None, quote_global=None)"
)]
fn manifest_ladder<'py>(
    py: Python<'py>,
    market: &Bound<'py, PyAny>,
    now_slot: U64,
    depth: I64,
    base_global: Option<&Bound<'py, PyAny>>,
    quote_global: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let d = data_of(market)?;
    let (bg, qg) = (deposits_of(base_global)?, deposits_of(quote_global)?);
    let depth = guard(py, || {
        usize::try_from(depth.0)
            .map_err(|_| EngineError::InvalidInput(format!("depth {} is negative", depth.0)))
    })?;
    let m = guard(py, || mf::decode_manifest_market(&d, None))?;
    let s = guard(py, || book(&d, now_slot.0, bg.as_deref(), qg.as_deref()))?;
    let (a, b) = (
        arbscope_core::b58::encode(&m.base_mint),
        arbscope_core::b58::encode(&m.quote_mint),
    );
    super::ladder_record(py, &s.ladder(depth), "", (&a, &b), 0)
}

/// `engine_rs.decoded.ManifestFillLog` of a parsed `FillLog`.
pub(crate) fn fill_log_record(py: Python<'_>, ev: FillLog) -> PyResult<Bound<'_, PyAny>> {
    record(
        py,
        "ManifestFillLog",
        vec![
            key(py, &ev.market),
            key(py, &ev.maker),
            key(py, &ev.taker),
            key(py, &ev.base_mint),
            key(py, &ev.quote_mint),
            obj!(py, ev.price),
            obj!(py, ev.base_atoms),
            obj!(py, ev.quote_atoms),
            obj!(py, ev.maker_sequence_number),
            obj!(py, ev.taker_sequence_number),
            obj!(py, ev.taker_is_buy),
            obj!(py, ev.is_maker_global),
        ],
    )
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_manifest_market, m)?)?;
    m.add_function(wrap_pyfunction!(decode_manifest_global, m)?)?;
    m.add_function(wrap_pyfunction!(manifest_swap, m)?)?;
    m.add_function(wrap_pyfunction!(manifest_quote, m)?)?;
    m.add_function(wrap_pyfunction!(manifest_ladder, m)?)?;
    Ok(())
}

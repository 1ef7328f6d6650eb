//! Bindings for `arbscope_core::venues::manifest`: the market and global decoders, the
//! program's exact-in swap (`manifest_swap`), the venue's quote (`manifest_quote`) and
//! the L2 ladder (`manifest_ladder`), on the accounts' bytes.

use arbscope_core::venues::manifest::{self as mf, BookState, FillLog, ManifestMarket, Order};
use arbscope_core::venues::Curve;
use arbscope_core::EngineError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::args::{I64, U64};
use crate::decode::{add_functions, data_of, decoders, key, obj, rec};
use crate::errors::guard;

decoders! {
    /// Manifest market -> `engine_rs.decoded.ManifestMarket`.
    fn decode_manifest_market(py, m = mf::decode_manifest_market) {
        market_record(py, &m)
    }

    /// Manifest global account -> `engine_rs.decoded.ManifestGlobal`.
    fn decode_manifest_global(py, g = mf::decode_manifest_global) {
        let deposits = g
            .deposits
            .iter()
            .map(|(k, v)| PyTuple::new(py, [key(py, k), obj!(py, *v)]).map(|t| t.into_any()))
            .collect::<PyResult<Vec<_>>>()?;
        rec!(py, "ManifestGlobal", g => key mint, key vault, num_bytes_allocated, vault_bump,
            global_bump, num_seats_claimed, [PyTuple::new(py, deposits)?.into_any()])
    }
}

fn order_record<'py>(py: Python<'py>, o: &Order) -> PyResult<Bound<'py, PyAny>> {
    rec!(py, "ManifestOrder", o => index, price, base_atoms, sequence_number, trader_index,
        key trader, last_valid_slot, is_bid, order_type, reverse_spread)
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
    rec!(py, "ManifestMarket", m => version, base_mint_decimals, quote_mint_decimals,
        base_vault_bump, quote_vault_bump, key base_mint, key quote_mint, key base_vault,
        key quote_vault, order_sequence_number, num_bytes_allocated, bids_root_index,
        bids_best_index, asks_root_index, asks_best_index, claimed_seats_root_index,
        free_list_head_index, quote_volume, [side(&m.bids)?], [side(&m.asks)?], seats,
        free_blocks)
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
        Ok(r) => rec!(py, "ManifestSwap", r => amount_in, amount_out, target_base, fills, removed,
            global_fills, exhausted, missing_global),
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
    let depth = guard(py, || super::openbook_v2::depth_arg(depth))?;
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
    rec!(py, "ManifestFillLog", ev => key market, key maker, key taker, key base_mint,
        key quote_mint, price, base_atoms, quote_atoms, maker_sequence_number,
        taker_sequence_number, taker_is_buy, is_maker_global)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_functions!(
        m,
        decode_manifest_market,
        decode_manifest_global,
        manifest_swap,
        manifest_quote,
        manifest_ladder
    )
}

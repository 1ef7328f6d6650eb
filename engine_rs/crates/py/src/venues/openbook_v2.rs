//! Bindings for `arbscope_core::venues::openbook_v2`: the decoders of `Market`,
//! `BookSide` and `EventHeap` (records of `engine_rs.decoded`).

use std::borrow::Cow;

use arbscope_core::venues::openbook_v2::{self as ob, BookState, HeapEvent, Leaf};
use arbscope_core::venues::{Ladder, Level};
use arbscope_core::EngineError;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyTuple};

use crate::args::{I64, U64};
use crate::decode::{add_functions, data_of, decoders, key, native_record, rec};
use crate::errors::guard;

decoders! {
    /// OpenBook v2 `Market` -> `engine_rs.decoded.OpenBookMarket`.
    fn decode_openbook_market(py, m = ob::decode_openbook_market) {
        market_record(py, &m)
    }

    /// OpenBook v2 `BookSide` -> `engine_rs.decoded.OpenBookBookSide`.
    fn decode_openbook_bookside(py, b = ob::decode_openbook_bookside) {
        let orders = b.fixed.iter().chain(&b.pegged).map(|l| order_record(py, l, b.side));
        let orders = orders.collect::<PyResult<Vec<_>>>()?;
        rec!(py, "OpenBookBookSide", b => (b.side.name()), (b.roots[0].0), (b.roots[0].1),
            (b.roots[1].0), (b.roots[1].1), bump_index, free_list_len, free_list_head,
            [PyTuple::new(py, orders)?.into_any()])
    }

    /// OpenBook v2 `EventHeap` -> `engine_rs.decoded.OpenBookEventHeap`.
    fn decode_openbook_event_heap(py, h = ob::decode_openbook_event_heap) {
        let events = h.events.iter().map(|e| event_record(py, e));
        let events = events.collect::<PyResult<Vec<_>>>()?;
        rec!(py, "OpenBookEventHeap", h => free_head, used_head, count, seq_num,
            [PyTuple::new(py, events)?.into_any()])
    }
}

/// A decoded market as its record.
pub(crate) fn market_record<'py>(
    py: Python<'py>,
    m: &ob::OpenBookMarket,
) -> PyResult<Bound<'py, PyAny>> {
    rec!(py, "OpenBookMarket", m => bump, base_decimals, quote_decimals, key market_authority,
        time_expiry, key collect_fee_admin, opt open_orders_admin, opt consume_events_admin,
        opt close_market_admin, (m.name.as_str()), key bids, key asks, key event_heap,
        opt oracle_a, opt oracle_b, conf_filter, max_staleness_slots, quote_lot_size,
        base_lot_size, seq_num, registration_time, maker_fee, taker_fee, fees_accrued,
        fees_to_referrers, referrer_rebates_accrued, fees_available, maker_volume,
        taker_volume_wo_oo, key base_mint, key quote_mint, key market_base_vault,
        base_deposit_total, key market_quote_vault, quote_deposit_total)
}

fn order_record<'py>(py: Python<'py>, l: &Leaf, side: ob::Side) -> PyResult<Bound<'py, PyAny>> {
    rec!(py, "OpenBookOrder", l => handle, oracle_pegged, owner_slot, time_in_force, key,
        key owner, quantity, timestamp, peg_limit, client_order_id, (l.price_lots()),
        (l.seq_num(side)))
}

fn event_record<'py>(py: Python<'py>, e: &HeapEvent) -> PyResult<Bound<'py, PyAny>> {
    match *e {
        HeapEvent::Fill {
            slot,
            taker_side,
            maker_out,
            maker_slot,
            timestamp,
            market_seq_num,
            ref maker,
            maker_timestamp,
            ref taker,
            taker_client_order_id,
            price,
            peg_limit,
            quantity,
            maker_client_order_id,
        } => rec!(py, "OpenBookFillEvent", () => (slot), (taker_side), (maker_out),
            (maker_slot), (timestamp), (market_seq_num), [key(py, maker)], (maker_timestamp),
            [key(py, taker)], (taker_client_order_id), (price), (peg_limit), (quantity),
            (maker_client_order_id)),
        HeapEvent::Out {
            slot,
            side,
            owner_slot,
            timestamp,
            seq_num,
            ref owner,
            quantity,
        } => rec!(py, "OpenBookOutEvent", () => (slot), (side), (owner_slot), (timestamp),
            (seq_num), [key(py, owner)], (quantity)),
    }
}

/// `engine_rs.decoded.OpenBookTotalOrderFillEvent` of a parsed `TotalOrderFillEvent`.
pub(crate) fn total_fill_record(
    py: Python<'_>,
    ev: ob::TotalOrderFill,
) -> PyResult<Bound<'_, PyAny>> {
    rec!(py, "OpenBookTotalOrderFillEvent", ev => side, key taker, total_quantity_paid,
        total_quantity_received, fees)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_functions!(
        m,
        decode_openbook_market,
        decode_openbook_bookside,
        decode_openbook_event_heap
    )?;
    register_book(m)
}

// ------------------------------------------------------------------ the book

static RECORDS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn records_cls<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    let m = RECORDS.get_or_try_init(py, || py.import("engine_rs.records").map(Bound::unbind))?;
    m.bind(py).getattr(name)
}

/// An order book's ladder as `engine_rs.records.BookLadder`.
pub(crate) fn ladder_record<'py>(
    py: Python<'py>,
    l: &Ladder,
    market: &str,
    mints: (&str, &str),
    slot: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let level = records_cls(py, "BookLevel")?;
    let side = |levels: &[Level]| -> PyResult<Bound<'py, PyAny>> {
        let items = levels
            .iter()
            .map(|v| level.call1((v.price, v.size, v.price_lots, v.size_lots, v.orders)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyTuple::new(py, items)?.into_any())
    };
    records_cls(py, "BookLadder")?.call1((
        market,
        mints.0,
        mints.1,
        side(&l.bids)?,
        side(&l.asks)?,
        l.best_bid,
        l.best_ask,
        l.spread,
        l.mid,
        slot,
    ))
}

/// Account bytes without a copy when they are `bytes` (a book side is 90 KB).
fn bytes_of<'a>(data: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    match data.cast::<PyBytes>() {
        Ok(b) => Ok(Cow::Borrowed(b.as_bytes())),
        Err(_) => data_of(data).map(Cow::Owned),
    }
}

pub(crate) fn depth_arg(depth: I64) -> arbscope_core::Result<usize> {
    usize::try_from(depth.0)
        .map_err(|_| EngineError::InvalidInput(format!("depth {} is negative", depth.0)))
}

/// The L2 ladder of a market from its accounts' bytes (`engine_rs.records.BookLadder`).
#[pyfunction]
#[pyo3(
    signature = (market, bids, asks, now, depth = I64(20), oracle_price_lots = None),
    text_signature = "(market, bids, asks, now, depth=20, oracle_price_lots=None)"
)]
fn openbook_ladder<'py>(
    py: Python<'py>,
    market: &Bound<'py, PyAny>,
    bids: &Bound<'py, PyAny>,
    asks: &Bound<'py, PyAny>,
    now: U64,
    depth: I64,
    oracle_price_lots: Option<I64>,
) -> PyResult<Bound<'py, PyAny>> {
    let (m, b, a) = (bytes_of(market)?, bytes_of(bids)?, bytes_of(asks)?);
    let l = guard(py, || {
        let d = depth_arg(depth)?;
        ob::openbook_ladder(&m, &b, &a, now.0, d, oracle_price_lots.map(|o| o.0))
    })?;
    ladder_record(py, &l, "", ("", ""), 0)
}

/// A prepared book (`openbook_book`): a market and its sides decoded once.
#[pyclass(frozen, module = "engine_rs._engine", name = "OpenBookBook")]
pub struct PyOpenBookBook {
    state: BookState,
}

#[pymethods]
impl PyOpenBookBook {
    fn __repr__(&self) -> String {
        format!(
            "OpenBookBook(bids={}, asks={}, now={})",
            self.state.bids.len(),
            self.state.asks.len(),
            self.state.now
        )
    }
}

/// A market's book ready for `openbook_take`.
#[pyfunction]
#[pyo3(signature = (market, bids, asks, now, event_heap = None, oracle_price_lots = None))]
fn openbook_book<'py>(
    py: Python<'py>,
    market: &Bound<'py, PyAny>,
    bids: &Bound<'py, PyAny>,
    asks: &Bound<'py, PyAny>,
    now: U64,
    event_heap: Option<&Bound<'py, PyAny>>,
    oracle_price_lots: Option<I64>,
) -> PyResult<PyOpenBookBook> {
    let (m, b, a) = (bytes_of(market)?, bytes_of(bids)?, bytes_of(asks)?);
    let heap = match event_heap {
        Some(h) if !h.is_none() => Some(bytes_of(h)?),
        _ => None,
    };
    let state = guard(py, || {
        let oracle = oracle_price_lots.map(|o| o.0);
        let m = ob::decode_openbook_market(&m, None)?;
        let b = ob::decode_openbook_bookside(&b, None)?;
        let a = ob::decode_openbook_bookside(&a, None)?;
        let count = match &heap {
            Some(h) => ob::heap_count(h, None)?,
            None => 0,
        };
        BookState::new(&m, &b, &a, count, now.0, oracle)
    })?;
    Ok(PyOpenBookBook { state })
}

native_record! {
    /// The exact result of a take (fields as `engine_rs.records.OpenBookFill`).
    PyOpenBookFill = "OpenBookFill" from ob::Fill, eq {
        amount_in: u64,
        amount_out: u64,
        base_lots: i64,
        quote_lots: i64,
        taker_fee: u64,
        maker_rebates: u64,
        orders: u32,
        events: u32,
        last_price_lots: i64,
        complete: bool,
        refused: bool,
    }
}

/// The exact fill of a `place_take_order` of `amount` on a prepared book.
#[pyfunction]
#[pyo3(
    signature = (book, amount, a_to_b, limit = I64(50), price_lots = None),
    text_signature = "(book, amount, a_to_b, limit=50, price_lots=None)"
)]
fn openbook_take(
    py: Python<'_>,
    book: &Bound<'_, PyAny>,
    amount: U64,
    a_to_b: &Bound<'_, PyAny>,
    limit: I64,
    price_lots: Option<I64>,
) -> PyResult<PyOpenBookFill> {
    let book = book.cast::<PyOpenBookBook>().map_err(|_| {
        PyTypeError::new_err(format!(
            "book: expected OpenBookBook, got {}",
            book.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    let a_to_b = a_to_b.cast::<PyBool>().map_err(|_| {
        PyTypeError::new_err(format!(
            "a_to_b: expected bool, got {}",
            a_to_b
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    let a_to_b = a_to_b.is_true();
    let (limit, price) = guard(py, || {
        let limit = u8::try_from(limit.0)
            .map_err(|_| EngineError::InvalidInput(format!("limit {} is not a u8", limit.0)))?;
        let price = match price_lots {
            Some(I64(p)) if p < 1 => {
                return Err(EngineError::InvalidInput(format!(
                    "InvalidInputPriceLots: price_lots {p} is below 1"
                )))
            }
            Some(I64(p)) => Some(p),
            None => None,
        };
        Ok((limit, price))
    })?;
    Ok(ob::take(&book.get().state, amount.0, a_to_b, limit, price).into())
}

pub fn register_book(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyOpenBookBook>()?;
    m.add_class::<PyOpenBookFill>()?;
    add_functions!(m, openbook_ladder, openbook_book, openbook_take)
}

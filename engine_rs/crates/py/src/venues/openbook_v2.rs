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
use crate::decode::{data_of, key, obj, opt_key, owner_of, record};
use crate::errors::guard;

/// OpenBook v2 `Market` -> `engine_rs.decoded.OpenBookMarket`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_openbook_market<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let m = guard(py, || ob::decode_openbook_market(&d, o.as_ref()))?;
    market_record(py, &m)
}

/// A decoded market as its record.
pub(crate) fn market_record<'py>(
    py: Python<'py>,
    m: &ob::OpenBookMarket,
) -> PyResult<Bound<'py, PyAny>> {
    let args: Vec<Bound<'py, PyAny>> = vec![
        obj!(py, m.bump),
        obj!(py, m.base_decimals),
        obj!(py, m.quote_decimals),
        key(py, &m.market_authority),
        obj!(py, m.time_expiry),
        key(py, &m.collect_fee_admin),
        opt_key(py, &m.open_orders_admin),
        opt_key(py, &m.consume_events_admin),
        opt_key(py, &m.close_market_admin),
        obj!(py, m.name.as_str()),
        key(py, &m.bids),
        key(py, &m.asks),
        key(py, &m.event_heap),
        opt_key(py, &m.oracle_a),
        opt_key(py, &m.oracle_b),
        obj!(py, m.conf_filter),
        obj!(py, m.max_staleness_slots),
        obj!(py, m.quote_lot_size),
        obj!(py, m.base_lot_size),
        obj!(py, m.seq_num),
        obj!(py, m.registration_time),
        obj!(py, m.maker_fee),
        obj!(py, m.taker_fee),
        obj!(py, m.fees_accrued),
        obj!(py, m.fees_to_referrers),
        obj!(py, m.referrer_rebates_accrued),
        obj!(py, m.fees_available),
        obj!(py, m.maker_volume),
        obj!(py, m.taker_volume_wo_oo),
        key(py, &m.base_mint),
        key(py, &m.quote_mint),
        key(py, &m.market_base_vault),
        obj!(py, m.base_deposit_total),
        key(py, &m.market_quote_vault),
        obj!(py, m.quote_deposit_total),
    ];
    record(py, "OpenBookMarket", args)
}

fn order_record<'py>(py: Python<'py>, l: &Leaf, side: ob::Side) -> PyResult<Bound<'py, PyAny>> {
    let args: Vec<Bound<'py, PyAny>> = vec![
        obj!(py, l.handle),
        obj!(py, l.oracle_pegged),
        obj!(py, l.owner_slot),
        obj!(py, l.time_in_force),
        obj!(py, l.key),
        key(py, &l.owner),
        obj!(py, l.quantity),
        obj!(py, l.timestamp),
        obj!(py, l.peg_limit),
        obj!(py, l.client_order_id),
        obj!(py, l.price_lots()),
        obj!(py, l.seq_num(side)),
    ];
    record(py, "OpenBookOrder", args)
}

/// OpenBook v2 `BookSide` -> `engine_rs.decoded.OpenBookBookSide`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_openbook_bookside<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let b = guard(py, || ob::decode_openbook_bookside(&d, o.as_ref()))?;
    let orders = b
        .fixed
        .iter()
        .chain(&b.pegged)
        .map(|l| order_record(py, l, b.side))
        .collect::<PyResult<Vec<_>>>()?;
    let args: Vec<Bound<'py, PyAny>> = vec![
        obj!(py, b.side.name()),
        obj!(py, b.roots[0].0),
        obj!(py, b.roots[0].1),
        obj!(py, b.roots[1].0),
        obj!(py, b.roots[1].1),
        obj!(py, b.bump_index),
        obj!(py, b.free_list_len),
        obj!(py, b.free_list_head),
        PyTuple::new(py, orders)?.into_any(),
    ];
    record(py, "OpenBookBookSide", args)
}

fn event_record<'py>(py: Python<'py>, e: &HeapEvent) -> PyResult<Bound<'py, PyAny>> {
    match e {
        HeapEvent::Fill {
            slot,
            taker_side,
            maker_out,
            maker_slot,
            timestamp,
            market_seq_num,
            maker,
            maker_timestamp,
            taker,
            taker_client_order_id,
            price,
            peg_limit,
            quantity,
            maker_client_order_id,
        } => record(
            py,
            "OpenBookFillEvent",
            vec![
                obj!(py, *slot),
                obj!(py, *taker_side),
                obj!(py, *maker_out),
                obj!(py, *maker_slot),
                obj!(py, *timestamp),
                obj!(py, *market_seq_num),
                key(py, maker),
                obj!(py, *maker_timestamp),
                key(py, taker),
                obj!(py, *taker_client_order_id),
                obj!(py, *price),
                obj!(py, *peg_limit),
                obj!(py, *quantity),
                obj!(py, *maker_client_order_id),
            ],
        ),
        HeapEvent::Out {
            slot,
            side,
            owner_slot,
            timestamp,
            seq_num,
            owner,
            quantity,
        } => record(
            py,
            "OpenBookOutEvent",
            vec![
                obj!(py, *slot),
                obj!(py, *side),
                obj!(py, *owner_slot),
                obj!(py, *timestamp),
                obj!(py, *seq_num),
                key(py, owner),
                obj!(py, *quantity),
            ],
        ),
    }
}

/// `engine_rs.decoded.OpenBookTotalOrderFillEvent` of a parsed `TotalOrderFillEvent`.
pub(crate) fn total_fill_record(
    py: Python<'_>,
    ev: ob::TotalOrderFill,
) -> PyResult<Bound<'_, PyAny>> {
    let args: Vec<Bound<'_, PyAny>> = vec![
        obj!(py, ev.side),
        key(py, &ev.taker),
        obj!(py, ev.total_quantity_paid),
        obj!(py, ev.total_quantity_received),
        obj!(py, ev.fees),
    ];
    record(py, "OpenBookTotalOrderFillEvent", args)
}

/// OpenBook v2 `EventHeap` -> `engine_rs.decoded.OpenBookEventHeap`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_openbook_event_heap<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let h = guard(py, || ob::decode_openbook_event_heap(&d, o.as_ref()))?;
    let events = h
        .events
        .iter()
        .map(|e| event_record(py, e))
        .collect::<PyResult<Vec<_>>>()?;
    let args: Vec<Bound<'py, PyAny>> = vec![
        obj!(py, h.free_head),
        obj!(py, h.used_head),
        obj!(py, h.count),
        obj!(py, h.seq_num),
        PyTuple::new(py, events)?.into_any(),
    ];
    record(py, "OpenBookEventHeap", args)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_openbook_market, m)?)?;
    m.add_function(wrap_pyfunction!(decode_openbook_bookside, m)?)?;
    m.add_function(wrap_pyfunction!(decode_openbook_event_heap, m)?)?;
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

fn depth_arg(depth: I64) -> arbscope_core::Result<usize> {
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

/// The exact result of a take (fields as `engine_rs.records.OpenBookFill`).
#[pyclass(frozen, get_all, module = "engine_rs._engine", name = "OpenBookFill")]
pub struct PyOpenBookFill {
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

#[pymethods]
impl PyOpenBookFill {
    fn __repr__(&self) -> String {
        format!(
            "OpenBookFill(amount_in={}, amount_out={}, base_lots={}, quote_lots={}, \
             taker_fee={}, maker_rebates={}, orders={}, events={}, last_price_lots={}, \
             complete={}, refused={})",
            self.amount_in,
            self.amount_out,
            self.base_lots,
            self.quote_lots,
            self.taker_fee,
            self.maker_rebates,
            self.orders,
            self.events,
            self.last_price_lots,
            if self.complete { "True" } else { "False" },
            if self.refused { "True" } else { "False" },
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyOpenBookFill>().is_ok_and(|o| {
            let o = o.get();
            (
                o.amount_in,
                o.amount_out,
                o.base_lots,
                o.quote_lots,
                o.taker_fee,
                o.maker_rebates,
                o.orders,
                o.events,
                o.last_price_lots,
                o.complete,
                o.refused,
            ) == (
                self.amount_in,
                self.amount_out,
                self.base_lots,
                self.quote_lots,
                self.taker_fee,
                self.maker_rebates,
                self.orders,
                self.events,
                self.last_price_lots,
                self.complete,
                self.refused,
            )
        })
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
    let f = ob::take(&book.get().state, amount.0, a_to_b, limit, price);
    Ok(PyOpenBookFill {
        amount_in: f.amount_in,
        amount_out: f.amount_out,
        base_lots: f.base_lots,
        quote_lots: f.quote_lots,
        taker_fee: f.taker_fee,
        maker_rebates: f.maker_rebates,
        orders: f.orders,
        events: f.events,
        last_price_lots: f.last_price_lots,
        complete: f.complete,
        refused: f.refused,
    })
}

pub fn register_book(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyOpenBookBook>()?;
    m.add_class::<PyOpenBookFill>()?;
    m.add_function(wrap_pyfunction!(openbook_ladder, m)?)?;
    m.add_function(wrap_pyfunction!(openbook_book, m)?)?;
    m.add_function(wrap_pyfunction!(openbook_take, m)?)?;
    Ok(())
}

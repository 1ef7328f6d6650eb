//! Bindings for `arbscope_core::venues::openbook_v2`: the decoders of `Market`,
//! `BookSide` and `EventHeap` (records of `engine_rs.decoded`).

use arbscope_core::venues::openbook_v2::{self as ob, HeapEvent, Leaf};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

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
    Ok(())
}

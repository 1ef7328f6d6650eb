//! Bindings for `arbscope_core::venues`: the registry (`venue_infos()`), the event parser every
//! venue shares (`parse_program_data`), and one module per venue for its decoders and
//! records (the conversions only; the logic is in the core).

mod manifest;
mod meteora_damm_v2;
mod meteora_dlmm;
mod openbook_v2;
mod orca_whirlpool;
mod pump_amm;
mod raydium_amm_v4;
mod raydium_clmm;
mod raydium_cpmm;

pub(crate) use openbook_v2::ladder_record;
pub(crate) use orca_whirlpool::{fee_tier, PyWhirlpool};

use arbscope_core::venues::{self as core, Event, Record, VENUES};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::IntoPyObjectExt;

use crate::decode::{add_functions, obj, text_of};
use crate::errors::guard;

/// Every venue of the registry, in order, as `engine_rs.records.VenueInfo` (the same
/// records the twin returns).
#[pyfunction]
fn venue_infos(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyAny>>> {
    let cls = py.import("engine_rs.records")?.getattr("VenueInfo")?;
    VENUES
        .iter()
        .map(|v| {
            let info = v.info();
            cls.call1((
                info.name,
                info.kind,
                info.label,
                info.graph_kind,
                PyTuple::new(py, info.program_ids)?,
                info.pool_account_size,
                v.array_role(),
            ))
        })
        .collect()
}

/// The swap event of a `Program data: <b64>` line that `program` wrote (Whirlpool
/// `Traded`, CP-Swap `SwapEvent`), or None.
#[pyfunction]
fn parse_program_data<'py>(
    py: Python<'py>,
    b64: &Bound<'py, PyAny>,
    program: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let text = text_of(b64, "program data")?;
    let program = text_of(program, "program")?;
    match guard(py, || core::parse_program_data(&text, &program))? {
        None => Ok(obj!(py, py.None())),
        Some(ev) => event_py(py, ev),
    }
}

/// Every swap in one transaction's log lines as `(venue name, event)`, each decoded by
/// the program whose frame the line is in.
#[pyfunction]
fn parse_logs<'py>(py: Python<'py>, logs: Vec<String>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    core::parse_logs(logs.iter().map(|l| l.as_bytes()))
        .into_iter()
        .map(|(venue, ev)| {
            let name = venue.info().name.into_bound_py_any(py)?;
            PyTuple::new(py, [name, event_py(py, ev)?]).map(|t| t.into_any())
        })
        .collect()
}

/// A venue's event as its `engine_rs.decoded` record.
fn event_py(py: Python<'_>, ev: Event) -> PyResult<Bound<'_, PyAny>> {
    match ev {
        Event::RaydiumAmmV4(log) => raydium_amm_v4::ray_log_record(py, log),
        Event::RaydiumCpmm(ev) => raydium_cpmm::swap_event_record(py, ev),
        Event::OrcaWhirlpool(ev) => orca_whirlpool::traded_record(py, ev),
        Event::RaydiumClmm(ev) => raydium_clmm::swap_event_record(py, ev),
        Event::MeteoraDlmm(ev) => meteora_dlmm::swap_event_record(py, ev),
        Event::PumpAmm(ev) => pump_amm::swap_event_record(py, ev),
        Event::OpenBookV2(ev) => openbook_v2::total_fill_record(py, ev),
        Event::MeteoraDammV2(ev) => meteora_damm_v2::swap_event_record(py, ev),
        Event::Manifest(ev) => manifest::fill_log_record(py, ev),
    }
}

/// A decoded pool account of any venue as its `engine_rs.decoded` record (the one its
/// decoder returns).
pub(crate) fn record_py<'py>(py: Python<'py>, rec: &Record) -> PyResult<Bound<'py, PyAny>> {
    match rec {
        Record::RaydiumAmmV4(a) => raydium_amm_v4::pool_record(py, a),
        Record::RaydiumCpmm(p) => raydium_cpmm::pool_record(py, p),
        Record::OrcaWhirlpool(w) => Ok(Bound::new(py, PyWhirlpool { w: w.clone() })?.into_any()),
        Record::RaydiumClmm(p) => raydium_clmm::pool_record(py, p),
        Record::MeteoraDlmm(p) => meteora_dlmm::pool_record(py, p),
        Record::PumpAmm(p) => pump_amm::pool_record(py, p),
        Record::OpenBookV2(m) => openbook_v2::market_record(py, m),
        Record::MeteoraDammV2(p) => meteora_damm_v2::pool_record(py, p),
        Record::Manifest(m) => manifest::market_record(py, m),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_functions!(m, venue_infos, parse_program_data, parse_logs)?;
    raydium_amm_v4::register(m)?;
    raydium_cpmm::register(m)?;
    orca_whirlpool::register(m)?;
    raydium_clmm::register(m)?;
    meteora_dlmm::register(m)?;
    pump_amm::register(m)?;
    openbook_v2::register(m)?;
    meteora_damm_v2::register(m)?;
    manifest::register(m)?;
    Ok(())
}

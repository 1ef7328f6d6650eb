//! Bindings for `arbscope_core::venues::raydium_amm_v4`: `decode_raydium_amm_v4` and
//! `parse_ray_log`, returning the records of `engine_rs.decoded`.

use arbscope_core::venues::raydium_amm_v4::{self as v4, RayLog};
use pyo3::prelude::*;

use crate::decode::{data_of, key, obj, owner_of, record, text_of};
use crate::errors::guard;

/// Raydium AMM v4 `AmmInfo` -> `engine_rs.decoded.RaydiumAmmV4`.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_raydium_amm_v4<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let a = guard(py, || v4::decode_raydium_amm_v4(&d, o.as_ref()))?;
    pool_record(py, &a)
}

/// A decoded AMM v4 pool as its record.
pub(crate) fn pool_record<'py>(py: Python<'py>, a: &v4::AmmInfo) -> PyResult<Bound<'py, PyAny>> {
    let mut args: Vec<Bound<'py, PyAny>> = Vec::new();
    for v in a.u64s {
        args.push(obj!(py, v));
    }
    for k in &a.keys {
        args.push(key(py, k));
    }
    args.push(obj!(py, a.lp_amount));
    record(py, "RaydiumAmmV4", args)
}

/// `SwapBaseInLog` / `SwapBaseOutLog` of a parsed `ray_log`.
pub(crate) fn ray_log_record(py: Python<'_>, (kind, v): RayLog) -> PyResult<Bound<'_, PyAny>> {
    let mut args = Vec::with_capacity(7);
    for x in v {
        args.push(obj!(py, x));
    }
    let name = if kind == 0 {
        "SwapBaseInLog"
    } else {
        "SwapBaseOutLog"
    };
    record(py, name, args)
}

/// The swap of a `ray_log: <b64>` line, or None for the other log types.
#[pyfunction]
fn parse_ray_log<'py>(py: Python<'py>, b64: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let text = text_of(b64, "ray_log")?;
    match guard(py, || v4::parse_ray_log(&text))? {
        None => Ok(obj!(py, py.None())),
        Some(log) => ray_log_record(py, log),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_raydium_amm_v4, m)?)?;
    m.add_function(wrap_pyfunction!(parse_ray_log, m)?)?;
    Ok(())
}

//! Bindings for `arbscope_core::venues::raydium_amm_v4`: `decode_raydium_amm_v4` and
//! `parse_ray_log`, returning the records of `engine_rs.decoded`.

use arbscope_core::venues::raydium_amm_v4::{self as v4, RayLog};
use pyo3::prelude::*;

use crate::decode::{add_functions, decoders, obj, rec, text_of};
use crate::errors::guard;

decoders! {
    /// Raydium AMM v4 `AmmInfo` -> `engine_rs.decoded.RaydiumAmmV4`.
    fn decode_raydium_amm_v4(py, a = v4::decode_raydium_amm_v4) {
        pool_record(py, &a)
    }
}

/// A decoded AMM v4 pool as its record.
pub(crate) fn pool_record<'py>(py: Python<'py>, a: &v4::AmmInfo) -> PyResult<Bound<'py, PyAny>> {
    rec!(py, "RaydiumAmmV4", a => each u64s, keys keys, lp_amount)
}

/// `SwapBaseInLog` / `SwapBaseOutLog` of a parsed `ray_log`.
pub(crate) fn ray_log_record(py: Python<'_>, log: RayLog) -> PyResult<Bound<'_, PyAny>> {
    let name = if log.0 == 0 {
        "SwapBaseInLog"
    } else {
        "SwapBaseOutLog"
    };
    rec!(py, name, log => each 1)
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
    add_functions!(m, decode_raydium_amm_v4, parse_ray_log)
}

//! Bindings for `arbscope_core::amm`.

use arbscope_core::amm;
use pyo3::prelude::*;

use crate::args::U64;
use crate::errors::guard;

/// Exact-in constant-product output (Raydium AMM v4 / CP-Swap rounding).
#[pyfunction]
fn cpmm_amount_out(
    py: Python<'_>,
    amount_in: U64,
    reserve_in: U64,
    reserve_out: U64,
    fee_num: U64,
    fee_den: U64,
) -> PyResult<u64> {
    guard(py, || {
        amm::cpmm_amount_out(
            amount_in.0,
            reserve_in.0,
            reserve_out.0,
            fee_num.0,
            fee_den.0,
        )
    })
}

/// Exact-out constant-product input, fee included.
#[pyfunction]
fn cpmm_amount_in(
    py: Python<'_>,
    amount_out: U64,
    reserve_in: U64,
    reserve_out: U64,
    fee_num: U64,
    fee_den: U64,
) -> PyResult<u64> {
    guard(py, || {
        amm::cpmm_amount_in(
            amount_out.0,
            reserve_in.0,
            reserve_out.0,
            fee_num.0,
            fee_den.0,
        )
    })
}

/// Marginal output per input after the fee, at zero size.
#[pyfunction]
fn cpmm_spot_rate(
    py: Python<'_>,
    reserve_in: U64,
    reserve_out: U64,
    fee_num: U64,
    fee_den: U64,
) -> PyResult<f64> {
    guard(py, || {
        amm::cpmm_spot_rate(reserve_in.0, reserve_out.0, fee_num.0, fee_den.0)
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cpmm_amount_out, m)?)?;
    m.add_function(wrap_pyfunction!(cpmm_amount_in, m)?)?;
    m.add_function(wrap_pyfunction!(cpmm_spot_rate, m)?)?;
    Ok(())
}

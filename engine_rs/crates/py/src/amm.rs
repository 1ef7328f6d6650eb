//! Bindings for `arbscope_core::amm`. The two per-quote kernels use the raw fastcall
//! path in [`crate::fast`]; the spot rate uses ordinary PyO3.

use arbscope_core::amm;
use pyo3::ffi;
use pyo3::prelude::*;

use crate::args::U64;
use crate::errors::guard;
use crate::fast::{add_fastcall, call5};

unsafe extern "C" fn cpmm_amount_out(
    _slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    const NAMES: [&str; 5] = [
        "amount_in",
        "reserve_in",
        "reserve_out",
        "fee_num",
        "fee_den",
    ];
    // SAFETY: CPython calls this with the GIL held and a valid vectorcall array.
    unsafe { call5(&NAMES, amm::cpmm_amount_out, args, nargs, kwnames) }
}

unsafe extern "C" fn cpmm_amount_in(
    _slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    const NAMES: [&str; 5] = [
        "amount_out",
        "reserve_in",
        "reserve_out",
        "fee_num",
        "fee_den",
    ];
    // SAFETY: as above.
    unsafe { call5(&NAMES, amm::cpmm_amount_in, args, nargs, kwnames) }
}

fn identity5(a: u64, _: u64, _: u64, _: u64, _: u64) -> arbscope_core::Result<u64> {
    Ok(a)
}

/// The same argument handling with no kernel behind it: the interpreter's floor for a
/// five-int call, so benchmarks can show what the kernel itself adds.
unsafe extern "C" fn call_floor(
    _slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    const NAMES: [&str; 5] = ["a", "b", "c", "d", "e"];
    // SAFETY: as above.
    unsafe { call5(&NAMES, identity5, args, nargs, kwnames) }
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
    add_fastcall(
        m,
        c"cpmm_amount_out",
        c"cpmm_amount_out(amount_in, reserve_in, reserve_out, fee_num, fee_den)\n--\n\nExact-in constant-product output (Raydium AMM v4 / CP-Swap rounding).",
        cpmm_amount_out,
    )?;
    add_fastcall(
        m,
        c"cpmm_amount_in",
        c"cpmm_amount_in(amount_out, reserve_in, reserve_out, fee_num, fee_den)\n--\n\nExact-out constant-product input, fee included.",
        cpmm_amount_in,
    )?;
    add_fastcall(
        m,
        c"_call_floor",
        c"_call_floor(a, b, c, d, e)\n--\n\nFive u64 arguments parsed, first returned: the call overhead floor.",
        call_floor,
    )?;
    m.add_function(wrap_pyfunction!(cpmm_spot_rate, m)?)?;
    Ok(())
}

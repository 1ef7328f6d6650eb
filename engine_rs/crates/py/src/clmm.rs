//! Bindings for `arbscope_core::clmm` (Orca Whirlpool math).
//!
//! `clmm_swap` is called per quote, so it takes the raw METH_FASTCALL path: its twelve
//! arguments and the tick list are read straight off the vectorcall array and the
//! list / tuple objects into one Vec (PyO3's generic argument machinery cost more than
//! the swap itself). The result is a frozen pyclass whose fields become Python ints
//! only when read. Behaviour matches the Python twin: positional or keyword
//! arguments, `TypeError` for wrong types (bool is not an int, int is not a bool),
//! `MathOverflowError` for ints outside the chain's type, the scalar arguments checked
//! before the tick list.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use arbscope_core::venues::orca_whirlpool::swap::{self as clmm, ClmmPool};
use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;

use crate::args::{I32, U128, U64};
use crate::errors::{guard, raise, to_py};
use crate::fast::{add_fastcall, as_u64};

/// One Whirlpool swap (fields as `engine_rs.records.SwapResult`).
#[pyclass(frozen, get_all, module = "engine_rs._engine", name = "SwapResult")]
#[derive(Clone, Copy)]
pub struct PySwapResult {
    amount_in: u64,
    amount_out: u64,
    fee_amount: u64,
    protocol_fee: u64,
    fee_growth_x64: u128,
    sqrt_price_x64: u128,
    tick_current: i32,
    liquidity: u128,
}

impl From<clmm::SwapResult> for PySwapResult {
    fn from(r: clmm::SwapResult) -> Self {
        Self {
            amount_in: r.amount_in,
            amount_out: r.amount_out,
            fee_amount: r.fee_amount,
            protocol_fee: r.protocol_fee,
            fee_growth_x64: r.fee_growth_x64,
            sqrt_price_x64: r.sqrt_price_x64,
            tick_current: r.tick_current,
            liquidity: r.liquidity,
        }
    }
}

#[pymethods]
impl PySwapResult {
    fn __repr__(&self) -> String {
        format!(
            "SwapResult(amount_in={}, amount_out={}, fee_amount={}, protocol_fee={}, \
             fee_growth_x64={}, sqrt_price_x64={}, tick_current={}, liquidity={})",
            self.amount_in,
            self.amount_out,
            self.fee_amount,
            self.protocol_fee,
            self.fee_growth_x64,
            self.sqrt_price_x64,
            self.tick_current,
            self.liquidity
        )
    }
}

/// The Python type name of `obj`, for messages.
///
/// # Safety
/// `obj` is a valid borrowed reference and the GIL is held.
unsafe fn type_name(py: Python<'_>, obj: *mut ffi::PyObject) -> String {
    unsafe { Bound::from_borrowed_ptr(py, obj) }
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// # Safety
/// As [`type_name`].
unsafe fn shown(py: Python<'_>, obj: *mut ffi::PyObject) -> String {
    unsafe { Bound::from_borrowed_ptr(py, obj) }.to_string()
}

/// An int (not a bool), else `TypeError` like the twin's checks.
///
/// # Safety
/// As [`type_name`].
#[inline]
unsafe fn check_int(py: Python<'_>, obj: *mut ffi::PyObject, name: &str) -> PyResult<()> {
    unsafe {
        if ffi::PyLong_Check(obj) == 0 || ffi::PyBool_Check(obj) != 0 {
            return Err(PyTypeError::new_err(format!(
                "{name}: expected int, got {}",
                type_name(py, obj)
            )));
        }
    }
    Ok(())
}

fn does_not_fit(py: Python<'_>, value: String, label: &str) -> PyErr {
    raise(
        py,
        "MathOverflowError",
        format!("{value} does not fit in {label}"),
    )
}

/// # Safety
/// As [`type_name`].
unsafe fn get_u64(py: Python<'_>, obj: *mut ffi::PyObject, name: &str) -> PyResult<u64> {
    unsafe {
        check_int(py, obj, name)?;
        let v = as_u64(obj);
        if v == u64::MAX && !ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_Clear();
            return Err(does_not_fit(py, shown(py, obj), "u64"));
        }
        Ok(v)
    }
}

/// # Safety
/// As [`type_name`].
unsafe fn get_u128(py: Python<'_>, obj: *mut ffi::PyObject, name: &str) -> PyResult<u128> {
    unsafe {
        check_int(py, obj, name)?;
        // no exception on overflow here (PyLong_AsUnsignedLong would build one for
        // every price >= 2^64); only the wide values take PyO3's byte-array path
        if let Some(v) = as_i64(obj) {
            if let Ok(v) = u128::try_from(v) {
                return Ok(v);
            }
        }
        if !ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_Clear();
        }
        Bound::from_borrowed_ptr(py, obj)
            .extract::<u128>()
            .map_err(|_| does_not_fit(py, shown(py, obj), "u128"))
    }
}

/// The int as i64, or None when it does not fit. `PyLong_AsLongAndOverflow` walks the
/// digits directly (`PyLong_AsLongLong` goes through `_PyLong_AsByteArray` on 3.11 for
/// anything over 30 bits) and sets no exception on overflow.
///
/// # Safety
/// `obj` is an int object and the GIL is held.
#[inline]
unsafe fn as_i64(obj: *mut ffi::PyObject) -> Option<i64> {
    let mut overflow: std::os::raw::c_int = 0;
    // SAFETY: per the function contract.
    let v = unsafe { ffi::PyLong_AsLongAndOverflow(obj, &mut overflow) };
    if overflow != 0 || (v == -1 && !unsafe { ffi::PyErr_Occurred() }.is_null()) {
        return None; // the caller clears any error and takes the slow path
    }
    // c_long is i64 on LP64; where it is 32 bits, larger values take the slow path
    #[allow(clippy::useless_conversion)]
    Some(i64::from(v))
}

/// # Safety
/// As [`type_name`].
#[inline]
unsafe fn get_i32(py: Python<'_>, obj: *mut ffi::PyObject, name: &str) -> PyResult<i32> {
    unsafe {
        check_int(py, obj, name)?;
        match as_i64(obj).and_then(|v| i32::try_from(v).ok()) {
            Some(v) => Ok(v),
            None => {
                ffi::PyErr_Clear();
                Err(does_not_fit(py, shown(py, obj), "i32"))
            }
        }
    }
}

/// # Safety
/// As [`type_name`].
#[inline]
unsafe fn get_i128(py: Python<'_>, obj: *mut ffi::PyObject, name: &str) -> PyResult<i128> {
    unsafe {
        check_int(py, obj, name)?;
        if let Some(v) = as_i64(obj) {
            return Ok(i128::from(v));
        }
        ffi::PyErr_Clear();
        Bound::from_borrowed_ptr(py, obj)
            .extract::<i128>()
            .map_err(|_| does_not_fit(py, shown(py, obj), "i128"))
    }
}

/// # Safety
/// As [`type_name`].
unsafe fn get_bool(py: Python<'_>, obj: *mut ffi::PyObject, name: &str) -> PyResult<bool> {
    unsafe {
        if ffi::PyBool_Check(obj) == 0 {
            return Err(PyTypeError::new_err(format!(
                "{name}: expected bool, got {}",
                type_name(py, obj)
            )));
        }
        Ok(obj == ffi::Py_True())
    }
}

const PAIRS: &str = "ticks: expected (tick_index, liquidity_net) pairs";

/// An exact `int` (bools and subclasses take the slow path) that fits i64.
///
/// # Safety
/// `obj` is a valid borrowed reference and the GIL is held.
#[inline(always)]
unsafe fn exact_i64(obj: *mut ffi::PyObject) -> Option<i64> {
    unsafe {
        if ffi::PyLong_CheckExact(obj) == 0 {
            return None;
        }
        as_i64(obj)
    }
}

/// One `(tick_index, liquidity_net)` pair from a tuple or list of length 2.
///
/// # Safety
/// As [`type_name`].
#[inline(always)]
unsafe fn get_pair(py: Python<'_>, item: *mut ffi::PyObject) -> PyResult<(i32, i128)> {
    unsafe {
        if ffi::PyTuple_CheckExact(item) != 0 && ffi::PyTuple_GET_SIZE(item) == 2 {
            let (a, b) = (
                ffi::PyTuple_GET_ITEM(item, 0),
                ffi::PyTuple_GET_ITEM(item, 1),
            );
            if let (Some(t), Some(net)) = (exact_i64(a), exact_i64(b)) {
                if let Ok(t) = i32::try_from(t) {
                    return Ok((t, i128::from(net)));
                }
            }
        }
        get_pair_slow(py, item)
    }
}

/// [`get_pair`] for everything but a tuple of two small exact ints, with the errors.
///
/// # Safety
/// As [`type_name`].
#[cold]
#[inline(never)]
unsafe fn get_pair_slow(py: Python<'_>, item: *mut ffi::PyObject) -> PyResult<(i32, i128)> {
    unsafe {
        if !ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_Clear(); // left by a fast-path conversion that gave up
        }
        let (a, b) = if ffi::PyTuple_Check(item) != 0 && ffi::PyTuple_GET_SIZE(item) == 2 {
            (
                ffi::PyTuple_GET_ITEM(item, 0),
                ffi::PyTuple_GET_ITEM(item, 1),
            )
        } else if ffi::PyList_Check(item) != 0 && ffi::PyList_GET_SIZE(item) == 2 {
            (ffi::PyList_GET_ITEM(item, 0), ffi::PyList_GET_ITEM(item, 1))
        } else {
            return Err(PyTypeError::new_err(PAIRS));
        };
        Ok((
            get_i32(py, a, "tick_index")?,
            get_i128(py, b, "liquidity_net")?,
        ))
    }
}

/// The `(tick_index, liquidity_net)` pairs, in the order given. Lists and tuples are
/// read in place: nothing here runs Python code, so the sequence cannot change under us.
///
/// # Safety
/// As [`type_name`].
pub(crate) unsafe fn get_ticks(
    py: Python<'_>,
    ticks: *mut ffi::PyObject,
) -> PyResult<Vec<(i32, i128)>> {
    unsafe {
        if ffi::PyList_Check(ticks) != 0 {
            let n = ffi::PyList_GET_SIZE(ticks);
            let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
            for i in 0..n {
                out.push(get_pair(py, ffi::PyList_GET_ITEM(ticks, i))?);
            }
            return Ok(out);
        }
        if ffi::PyTuple_Check(ticks) != 0 {
            let n = ffi::PyTuple_GET_SIZE(ticks);
            let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
            for i in 0..n {
                out.push(get_pair(py, ffi::PyTuple_GET_ITEM(ticks, i))?);
            }
            return Ok(out);
        }
        let seq = Bound::from_borrowed_ptr(py, ticks);
        let not_seq = || {
            PyTypeError::new_err("ticks: expected a sequence of (tick_index, liquidity_net) pairs")
        };
        if ffi::PyUnicode_Check(ticks) != 0 || ffi::PyBytes_Check(ticks) != 0 {
            return Err(not_seq());
        }
        let mut out = Vec::new();
        for item in seq.try_iter().map_err(|_| not_seq())? {
            out.push(get_pair(py, item?.as_ptr())?);
        }
        Ok(out)
    }
}

/// `sqrt(1.0001^tick) * 2^64` as the program computes it (Q64.64).
#[pyfunction]
fn sqrt_price_from_tick(py: Python<'_>, tick: I32) -> PyResult<u128> {
    guard(py, || clmm::sqrt_price_from_tick(tick.0))
}

/// The greatest tick whose sqrt price is <= `sqrt_price_x64`.
#[pyfunction]
fn tick_from_sqrt_price(py: Python<'_>, sqrt_price_x64: U128) -> PyResult<i32> {
    guard(py, || clmm::tick_from_sqrt_price(sqrt_price_x64.0))
}

/// Output per input after the fee at zero size.
#[pyfunction]
fn clmm_spot_rate(
    py: Python<'_>,
    sqrt_price_x64: U128,
    fee_rate: U64,
    a_to_b: &Bound<'_, PyAny>,
) -> PyResult<f64> {
    // SAFETY: a live borrowed object, GIL held.
    let a_to_b = unsafe { get_bool(py, a_to_b.as_ptr(), "a_to_b")? };
    // anything past u32 is past 1e6 too: the core still says InvalidInput (after the
    // price check, as the twin)
    let fee = u32::try_from(fee_rate.0).unwrap_or(u32::MAX);
    guard(py, || clmm::clmm_spot_rate(sqrt_price_x64.0, fee, a_to_b))
}

const SWAP_NAMES: [&str; 12] = [
    "sqrt_price_x64",
    "liquidity",
    "tick_current",
    "tick_spacing",
    "fee_rate",
    "ticks",
    "amount",
    "a_to_b",
    "exact_in",
    "sqrt_price_limit",
    "protocol_fee_rate",
    "max_tick_arrays",
];
const SWAP_REQUIRED: usize = 8;

/// Sort the vectorcall arguments into the twelve slots (null = not given).
///
/// # Safety
/// CPython's vectorcall contract: `args` holds `nargs` positionals then one value per
/// name in `kwnames`; the GIL is held.
unsafe fn swap_slots(
    py: Python<'_>,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<[*mut ffi::PyObject; 12]> {
    unsafe {
        let nargs = usize::try_from(nargs).unwrap_or(0);
        let mut slots: [*mut ffi::PyObject; 12] = [ptr::null_mut(); 12];
        if nargs > slots.len() {
            return Err(PyTypeError::new_err(format!(
                "clmm_swap() takes at most 12 arguments ({nargs} given)"
            )));
        }
        for (i, slot) in slots.iter_mut().enumerate().take(nargs) {
            *slot = *args.add(i);
        }
        if !kwnames.is_null() {
            let nkw = ffi::PyTuple_GET_SIZE(kwnames);
            for k in 0..nkw {
                let key = Bound::from_borrowed_ptr(py, ffi::PyTuple_GET_ITEM(kwnames, k));
                let key = key.extract::<String>().unwrap_or_default();
                let value = *args.add(nargs + usize::try_from(k).unwrap_or(0));
                match SWAP_NAMES.iter().position(|n| *n == key) {
                    Some(i) if slots[i].is_null() => slots[i] = value,
                    Some(_) => {
                        return Err(PyTypeError::new_err(format!(
                            "clmm_swap() got multiple values for argument '{key}'"
                        )))
                    }
                    None => {
                        return Err(PyTypeError::new_err(format!(
                            "clmm_swap() got an unexpected keyword argument '{key}'"
                        )))
                    }
                }
            }
        }
        for (slot, name) in slots.iter().zip(SWAP_NAMES).take(SWAP_REQUIRED) {
            if slot.is_null() {
                return Err(PyTypeError::new_err(format!(
                    "clmm_swap() missing required argument '{name}'"
                )));
            }
        }
        Ok(slots)
    }
}

fn is_none_or_missing(obj: *mut ffi::PyObject) -> bool {
    // SAFETY: Py_None is a static object.
    obj.is_null() || obj == unsafe { ffi::Py_None() }
}

/// Arguments read, checked and swapped; the Python error on failure.
///
/// # Safety
/// As [`swap_slots`].
unsafe fn swap_impl(
    py: Python<'_>,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<PySwapResult> {
    unsafe {
        let s = swap_slots(py, args, nargs, kwnames)?;
        let sqrt_price = get_u128(py, s[0], SWAP_NAMES[0])?;
        let liquidity = get_u128(py, s[1], SWAP_NAMES[1])?;
        let tick_current = get_i32(py, s[2], SWAP_NAMES[2])?;
        let tick_spacing = get_u64(py, s[3], SWAP_NAMES[3])?;
        let fee_rate = get_u64(py, s[4], SWAP_NAMES[4])?;
        let amount = get_u64(py, s[6], SWAP_NAMES[6])?;
        let a_to_b = get_bool(py, s[7], SWAP_NAMES[7])?;
        let exact_in = if s[8].is_null() {
            true
        } else {
            get_bool(py, s[8], SWAP_NAMES[8])?
        };
        let limit = if is_none_or_missing(s[9]) {
            None
        } else {
            Some(get_u128(py, s[9], SWAP_NAMES[9])?)
        };
        let protocol_fee_rate = if s[10].is_null() {
            0
        } else {
            get_u64(py, s[10], SWAP_NAMES[10])?
        };
        let max_tick_arrays = if s[11].is_null() {
            Some(u64::from(clmm::PROGRAM_MAX_TICK_ARRAYS))
        } else if s[11] == ffi::Py_None() {
            None
        } else {
            Some(get_u64(py, s[11], SWAP_NAMES[11])?)
        };
        let ticks = get_ticks(py, s[5])?;

        let Ok(ts) = u16::try_from(tick_spacing) else {
            return Err(raise(
                py,
                "InvalidTickSpacingError",
                format!("InvalidTickSpacing: tick spacing {tick_spacing} not in [1, 65535]"),
            ));
        };
        if fee_rate > u64::from(clmm::FEE_RATE_MUL_VALUE) && ts > 0 {
            return Err(raise(
                py,
                "InvalidInputError",
                format!(
                    "fee_rate {fee_rate} exceeds {} (units of 1e-6)",
                    clmm::FEE_RATE_MUL_VALUE
                ),
            ));
        }
        // fee_rate <= 1e6 here unless ts == 0, which the core rejects first
        let fee = u32::try_from(fee_rate).unwrap_or(u32::MAX);
        let pool = ClmmPool::from_ticks(sqrt_price, liquidity, tick_current, ts, fee, ticks)
            .map_err(|e| to_py(py, e))?;
        if protocol_fee_rate > u64::from(clmm::PROTOCOL_FEE_RATE_MUL_VALUE) {
            return Err(raise(
                py,
                "InvalidInputError",
                format!(
                    "protocol_fee_rate {protocol_fee_rate} exceeds {} (units of 1e-4 of the fee)",
                    clmm::PROTOCOL_FEE_RATE_MUL_VALUE
                ),
            ));
        }
        let protocol = u16::try_from(protocol_fee_rate).unwrap_or(u16::MAX);
        let arrays = max_tick_arrays.map(|m| u32::try_from(m).unwrap_or(u32::MAX));
        pool.swap_with_arrays(amount, a_to_b, exact_in, limit, protocol, arrays)
            .map(PySwapResult::from)
            .map_err(|e| to_py(py, e))
    }
}

unsafe extern "C" fn clmm_swap(
    _slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held and a valid vectorcall array.
    unsafe {
        let py = Python::assume_attached();
        let result = catch_unwind(AssertUnwindSafe(|| {
            swap_impl(py, args, nargs, kwnames).and_then(|r| Bound::new(py, r))
        }));
        match result {
            Ok(Ok(obj)) => obj.into_ptr(),
            Ok(Err(e)) => {
                e.restore(py);
                ptr::null_mut()
            }
            Err(_) => {
                raise(py, "InternalError", "engine panicked in clmm_swap".into()).restore(py);
                ptr::null_mut()
            }
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySwapResult>()?;
    m.add_function(wrap_pyfunction!(sqrt_price_from_tick, m)?)?;
    m.add_function(wrap_pyfunction!(tick_from_sqrt_price, m)?)?;
    m.add_function(wrap_pyfunction!(clmm_spot_rate, m)?)?;
    add_fastcall(
        m,
        c"clmm_swap",
        c"clmm_swap(sqrt_price_x64, liquidity, tick_current, tick_spacing, fee_rate, ticks, amount, a_to_b, exact_in=True, sqrt_price_limit=None, protocol_fee_rate=0, max_tick_arrays=3)\n--\n\nOne Orca Whirlpool swap, bit-exact with the program.",
        clmm_swap,
    )?;
    Ok(())
}

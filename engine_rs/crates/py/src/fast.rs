//! A raw METH_FASTCALL path for the scalar kernels called per quote (constant product).
//!
//! PyO3's generic argument machinery costs more than the 5-ns kernel itself; these
//! functions read the five ints straight off the vectorcall array. Behaviour matches the
//! PyO3 bindings and the Python twin exactly: positional or keyword arguments, `TypeError`
//! for non-ints (bool included), `MathOverflowError` for ints outside u64, engine errors
//! mapped by [`crate::errors::to_py`], panics caught.
//!
//! The argument readers below (`get_u64`, `get_i32`, `get_ticks`, ...) serve the other
//! raw-fastcall kernels (a Whirlpool's and a Raydium CLMM pool's swap) and the graph's
//! tick lists: they read an argument straight off its object with the twin's errors.

use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;

use crate::errors::{raise, to_py};

/// Signature of a five-u64 kernel.
pub type Kernel5 = fn(u64, u64, u64, u64, u64) -> arbscope_core::Result<u64>;

/// `PyLong_AsUnsignedLongLong` goes through `_PyLong_AsByteArray` for multi-digit ints
/// on CPython 3.11 (~40 ns); `PyLong_AsUnsignedLong` walks the digits directly and is
/// the same type where `unsigned long` is 64 bits.
///
/// # Safety
/// `obj` is a valid int object and the GIL is held.
#[inline]
pub unsafe fn as_u64(obj: *mut ffi::PyObject) -> u64 {
    #[cfg(all(target_pointer_width = "64", not(windows)))]
    {
        unsafe { ffi::PyLong_AsUnsignedLong(obj) as u64 }
    }
    #[cfg(not(all(target_pointer_width = "64", not(windows))))]
    {
        unsafe { ffi::PyLong_AsUnsignedLongLong(obj) }
    }
}

/// Read one argument as u64 with the twin's error classes. On error the Python error is
/// set and `None` returned.
///
/// # Safety
/// `obj` is a valid borrowed reference and the GIL is held.
unsafe fn arg_u64(py: Python<'_>, obj: *mut ffi::PyObject, name: &str) -> Option<u64> {
    unsafe {
        if ffi::PyLong_Check(obj) == 0 || ffi::PyBool_Check(obj) != 0 {
            let tname = Bound::from_borrowed_ptr(py, obj)
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default();
            PyTypeError::new_err(format!("{name}: expected int, got {tname}")).restore(py);
            return None;
        }
        let v = as_u64(obj);
        if v == u64::MAX && !ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_Clear();
            let shown = Bound::from_borrowed_ptr(py, obj).to_string();
            raise(
                py,
                "MathOverflowError",
                format!("{shown} does not fit in u64"),
            )
            .restore(py);
            return None;
        }
        Some(v)
    }
}

/// The shared body of every five-u64 fastcall function.
///
/// # Safety
/// Called by CPython with the GIL held and a valid vectorcall argument array.
pub unsafe fn call5(
    names: &[&str; 5],
    kernel: Kernel5,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    unsafe {
        let py = Python::assume_attached();
        let nargs = usize::try_from(nargs).unwrap_or(0);
        let nkw = if kwnames.is_null() {
            0
        } else {
            usize::try_from(ffi::PyTuple_Size(kwnames)).unwrap_or(0)
        };
        let mut slots: [*mut ffi::PyObject; 5] = [ptr::null_mut(); 5];
        if nargs > 5 {
            PyTypeError::new_err(format!("expected 5 arguments, got {nargs}")).restore(py);
            return ptr::null_mut();
        }
        for (i, slot) in slots.iter_mut().enumerate().take(nargs) {
            *slot = *args.add(i);
        }
        for k in 0..nkw {
            let key =
                Bound::from_borrowed_ptr(py, ffi::PyTuple_GetItem(kwnames, k as ffi::Py_ssize_t));
            let key = key.extract::<String>().unwrap_or_default();
            match names.iter().position(|n| *n == key) {
                Some(i) if slots[i].is_null() => slots[i] = *args.add(nargs + k),
                Some(_) => {
                    PyTypeError::new_err(format!("got multiple values for argument '{key}'"))
                        .restore(py);
                    return ptr::null_mut();
                }
                None => {
                    PyTypeError::new_err(format!("unexpected keyword argument '{key}'"))
                        .restore(py);
                    return ptr::null_mut();
                }
            }
        }
        let mut vals = [0u64; 5];
        for i in 0..5 {
            if slots[i].is_null() {
                PyTypeError::new_err(format!("missing required argument '{}'", names[i]))
                    .restore(py);
                return ptr::null_mut();
            }
            match arg_u64(py, slots[i], names[i]) {
                Some(v) => vals[i] = v,
                None => return ptr::null_mut(),
            }
        }
        match catch_unwind(AssertUnwindSafe(|| {
            kernel(vals[0], vals[1], vals[2], vals[3], vals[4])
        })) {
            Ok(Ok(v)) => ffi::PyLong_FromUnsignedLongLong(v),
            Ok(Err(e)) => {
                to_py(py, e).restore(py);
                ptr::null_mut()
            }
            Err(_) => {
                raise(
                    py,
                    "InternalError",
                    "engine panicked in a scalar kernel".into(),
                )
                .restore(py);
                ptr::null_mut()
            }
        }
    }
}

/// Register a raw fastcall function on the module.
pub fn add_fastcall(
    m: &Bound<'_, PyModule>,
    name: &'static CStr,
    doc: &'static CStr,
    f: ffi::PyCFunctionFastWithKeywords,
) -> PyResult<()> {
    // The method table must outlive the function object; one small leak per module init.
    let def: &'static mut ffi::PyMethodDef = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: name.as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunctionFastWithKeywords: f,
        },
        ml_flags: ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
        ml_doc: doc.as_ptr(),
    }));
    let py = m.py();
    let module_name = m.name()?;
    // SAFETY: def is 'static and well-formed; the module name is a live str.
    let func = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            ffi::PyCFunction_NewEx(def, ptr::null_mut(), module_name.as_ptr()),
        )?
    };
    m.add(name.to_str().unwrap_or("kernel"), func)
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
pub(crate) unsafe fn get_u64(py: Python<'_>, obj: *mut ffi::PyObject, name: &str) -> PyResult<u64> {
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
pub(crate) unsafe fn get_u128(
    py: Python<'_>,
    obj: *mut ffi::PyObject,
    name: &str,
) -> PyResult<u128> {
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
pub(crate) unsafe fn get_i32(py: Python<'_>, obj: *mut ffi::PyObject, name: &str) -> PyResult<i32> {
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
pub(crate) unsafe fn get_bool(
    py: Python<'_>,
    obj: *mut ffi::PyObject,
    name: &str,
) -> PyResult<bool> {
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

//! A raw METH_FASTCALL path for the scalar kernels called per quote (constant product).
//!
//! PyO3's generic argument machinery costs more than the 5-ns kernel itself; these
//! functions read the five ints straight off the vectorcall array. Behaviour matches the
//! PyO3 bindings and the Python twin exactly: positional or keyword arguments, `TypeError`
//! for non-ints (bool included), `MathOverflowError` for ints outside u64, engine errors
//! mapped by [`crate::errors::to_py`], panics caught.

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

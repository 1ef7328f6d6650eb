//! Argument types that check ranges the way the Python twin does, so both backends raise
//! the same class: ints outside the chain's type -> `MathOverflowError`, non-ints -> `TypeError`.

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt};

use crate::errors::raise;

macro_rules! int_arg {
    ($name:ident, $ty:ty, $label:literal) => {
        /// A Python `int` that must fit the chain's type.
        #[allow(dead_code)]
        #[derive(Clone, Copy, Debug)]
        pub struct $name(pub $ty);

        impl<'a, 'py> FromPyObject<'a, 'py> for $name {
            type Error = PyErr;

            fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
                let py = obj.py();
                if !obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyBool>() {
                    return Err(PyTypeError::new_err(format!(
                        "expected int, got {}",
                        obj.get_type()
                            .name()
                            .map(|n| n.to_string())
                            .unwrap_or_default()
                    )));
                }
                obj.extract::<$ty>().map($name).map_err(|e| {
                    if e.is_instance_of::<PyOverflowError>(py) {
                        raise(
                            py,
                            "MathOverflowError",
                            format!("{} does not fit in {}", &*obj, $label),
                        )
                    } else {
                        e
                    }
                })
            }
        }
    };
}

int_arg!(U64, u64, "u64");
int_arg!(U128, u128, "u128");
int_arg!(I32, i32, "i32");
int_arg!(I128, i128, "i128");
int_arg!(I64, i64, "i64");

/// A percentile: a Python int or float (not bool), as the twin accepts.
#[derive(Clone, Copy, Debug)]
pub struct Pct(pub f64);

impl<'a, 'py> FromPyObject<'a, 'py> for Pct {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyBool>()
            || !(obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>())
        {
            return Err(PyTypeError::new_err(format!(
                "percentile: expected float, got {}",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            )));
        }
        obj.extract::<f64>().map(Pct)
    }
}

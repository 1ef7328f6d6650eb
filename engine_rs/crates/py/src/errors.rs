//! Mapping of core errors to the Python classes of `engine_rs.errors`, and the panic guard.

use std::panic::{catch_unwind, AssertUnwindSafe};

use arbscope_core::EngineError;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

static ERRORS_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// Build an instance of `engine_rs.errors.<class_name>(message)`.
pub fn raise(py: Python<'_>, class_name: &str, message: String) -> PyErr {
    let module =
        ERRORS_MODULE.get_or_try_init(py, || py.import("engine_rs.errors").map(Bound::unbind));
    let class = module.and_then(|m| {
        m.bind(py)
            .getattr(class_name)?
            .cast_into::<PyType>()
            .map_err(PyErr::from)
    });
    match class {
        Ok(cls) => PyErr::from_type(cls, message),
        // engine_rs.errors missing would be a packaging bug; still raise something clear.
        Err(e) => PyRuntimeError::new_err(format!(
            "{class_name}: {message} (engine_rs.errors unavailable: {e})"
        )),
    }
}

/// Convert a core error into the matching Python exception.
pub fn to_py(py: Python<'_>, err: EngineError) -> PyErr {
    let message = err.to_string();
    let err_obj = raise(py, err.class_name(), message);
    if let EngineError::Clmm { code, .. } = err {
        // the program's error name, so callers can compare with Orca's cases
        let _ = err_obj.value(py).setattr("code", code.name());
    }
    err_obj
}

/// Run `f`, turning a core error into its Python class and a panic into `InternalError`.
pub fn guard<T>(py: Python<'_>, f: impl FnOnce() -> arbscope_core::Result<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py(py, e)),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(raise(
                py,
                "InternalError",
                format!("engine panicked: {what}"),
            ))
        }
    }
}

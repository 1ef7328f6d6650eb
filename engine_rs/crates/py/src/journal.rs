//! Bindings for `arbscope_core::journal`: the `DeltaEncoder` a recording session hands
//! every input it records (`storage.delta.Encoder`'s bytes, in the frame's receipt).

use arbscope_core::journal::{self, DeltaEncoder as CoreEncoder};
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView};

use crate::errors::to_py;
use crate::ingest::buffer_bytes;

/// The journal's writer side of large accounts stored as deltas (see the twin,
/// `engine_rs.python.journal.DeltaEncoder`).
#[pyclass(module = "engine_rs._engine")]
pub struct DeltaEncoder {
    inner: CoreEncoder,
}

enum Payload<'a> {
    Bytes(&'a [u8]),
    Buffer(PyBuffer<u8>),
    Owned(Vec<u8>),
}

fn payload_arg<'a>(payload: &'a Bound<'_, PyAny>) -> PyResult<Payload<'a>> {
    if let Ok(b) = payload.cast::<PyBytes>() {
        return Ok(Payload::Bytes(b.as_bytes()));
    }
    if let Ok(b) = payload.cast::<PyByteArray>() {
        return Ok(Payload::Owned(b.to_vec()));
    }
    if payload.is_instance_of::<PyMemoryView>() {
        let buf = PyBuffer::<u8>::get(payload)?;
        if buf.is_c_contiguous() {
            return Ok(Payload::Buffer(buf));
        }
        return Ok(Payload::Owned(buf.to_vec(payload.py())?));
    }
    Err(PyTypeError::new_err(format!(
        "payload: expected bytes, got {}",
        payload.get_type().name()?
    )))
}

#[pymethods]
impl DeltaEncoder {
    #[new]
    #[pyo3(signature = (limit = 67108864))] // journal::TABLE_BYTES (a literal: the signature shows it)
    fn new(limit: usize) -> Self {
        Self {
            inner: CoreEncoder::new(limit),
        }
    }

    /// The stored form of an input of `kind` from `endpoint`: `(21, the DELTA input)`
    /// for a payload with a long span, else `(kind, payload)` as bytes (the same object
    /// when it is bytes).
    fn encode<'py>(
        &mut self,
        py: Python<'py>,
        kind: u8,
        endpoint: u16,
        payload: &Bound<'py, PyAny>,
    ) -> PyResult<(u8, Bound<'py, PyAny>)> {
        let arg = payload_arg(payload)?;
        let data: &[u8] = match &arg {
            Payload::Bytes(b) => b,
            Payload::Buffer(buf) => buffer_bytes(buf),
            Payload::Owned(v) => v,
        };
        match self.inner.encode(kind, endpoint, data) {
            Ok(Some(out)) => Ok((journal::KIND_DELTA, PyBytes::new(py, &out).into_any())),
            Ok(None) => match arg {
                Payload::Bytes(_) => Ok((kind, payload.clone())),
                _ => Ok((kind, PyBytes::new(py, data).into_any())),
            },
            Err(e) => Err(to_py(py, e)),
        }
    }

    /// An account subscription's notifications on `endpoint` under `subscription` are
    /// keyed by its account from now on.
    fn bind(&mut self, endpoint: u16, subscription: u128, account: &[u8]) {
        self.inner.bind(endpoint, subscription, account);
    }

    /// Inputs stored as deltas so far.
    #[getter]
    fn deltas(&self) -> u64 {
        self.inner.deltas
    }

    /// Of them, spans equal to their copy.
    #[getter]
    fn same(&self) -> u64 {
        self.inner.same
    }

    /// How many copies the table holds, and their bytes.
    fn copies(&self) -> (usize, usize) {
        self.inner.copies()
    }
}

const _: () = assert!(journal::TABLE_BYTES == 67108864);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<DeltaEncoder>()?;
    Ok(())
}

//! Bindings for `arbscope_core::decode`: SPL Token accounts and mints, returning the
//! shared records of `engine_rs.decoded` (the same classes the twin returns), and the
//! conversions every decoder binding uses (`crate::venues` has the venues' own).

use arbscope_core::b58;
use arbscope_core::decode::{self as dec, Key};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString, PyTuple};

use crate::errors::guard;

static DECODED: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// `engine_rs.decoded.<name>(*args)`.
pub(crate) fn record<'py>(
    py: Python<'py>,
    name: &str,
    args: Vec<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let m = DECODED.get_or_try_init(py, || py.import("engine_rs.decoded").map(Bound::unbind))?;
    m.bind(py).getattr(name)?.call1(PyTuple::new(py, args)?)
}

pub(crate) fn key<'py>(py: Python<'py>, k: &Key) -> Bound<'py, PyAny> {
    PyString::new(py, &b58::encode(k)).into_any()
}

pub(crate) fn opt_key<'py>(py: Python<'py>, k: &Option<Key>) -> Bound<'py, PyAny> {
    match k {
        Some(k) => key(py, k),
        None => py.None().into_bound(py),
    }
}

/// `$v` as a Python object (`?` on failure).
macro_rules! obj {
    ($py:expr, $v:expr) => {
        pyo3::IntoPyObjectExt::into_bound_py_any($v, $py)?
    };
}
pub(crate) use obj;

/// The account bytes: bytes, bytearray or memoryview (as the twin accepts).
pub(crate) fn data_of(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = data.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if data.is_instance_of::<PyMemoryView>() {
        return pyo3::buffer::PyBuffer::<u8>::get(data)?.to_vec(data.py());
    }
    Err(PyTypeError::new_err(format!(
        "expected bytes, got {}",
        data.get_type().name()?
    )))
}

/// The owner argument: None, a base58 str, 32 bytes, or anything whose `str()` is
/// base58 (solders `Pubkey`). Anything that is not a 32-byte address matches no
/// program (the decoder then raises WrongOwnerError), as in the twin.
pub(crate) fn owner_of(owner: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Key>> {
    let Some(o) = owner else { return Ok(None) };
    if o.is_none() {
        return Ok(None);
    }
    const NOBODY: Key = [0xff; 32];
    if let Ok(b) = o.cast::<PyBytes>() {
        return Ok(Some(<Key>::try_from(b.as_bytes()).unwrap_or(NOBODY)));
    }
    if o.is_instance_of::<PyByteArray>() || o.is_instance_of::<PyMemoryView>() {
        let v = data_of(o)?;
        return Ok(Some(<Key>::try_from(v.as_slice()).unwrap_or(NOBODY)));
    }
    let text = o.str()?;
    Ok(Some(b58::decode_32(text.to_str()?).unwrap_or(NOBODY)))
}

/// An SPL Token or Token-2022 account (spec §3; extensions ignored).
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_token_account<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let a = guard(py, || dec::decode_token_account(&d, o.as_ref()))?;
    let args = vec![
        key(py, &a.mint),
        key(py, &a.owner),
        obj!(py, a.amount),
        opt_key(py, &a.delegate),
        obj!(py, a.state),
        obj!(py, a.is_native),
        obj!(py, a.delegated_amount),
        opt_key(py, &a.close_authority),
    ];
    record(py, "TokenAccount", args)
}

/// An SPL Token or Token-2022 mint (spec §3), with Token-2022's TransferFeeConfig.
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_mint<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let m = guard(py, || dec::decode_mint(&d, o.as_ref()))?;
    let fee = |f: Option<dec::TransferFee>| -> PyResult<Bound<'py, PyAny>> {
        match f {
            Some((e, max, bps)) => record(
                py,
                "TransferFee",
                vec![obj!(py, e), obj!(py, max), obj!(py, bps)],
            ),
            None => Ok(py.None().into_bound(py)),
        }
    };
    let args = vec![
        opt_key(py, &m.mint_authority),
        obj!(py, m.supply),
        obj!(py, m.decimals),
        obj!(py, m.is_initialized),
        opt_key(py, &m.freeze_authority),
        fee(m.older_transfer_fee)?,
        fee(m.newer_transfer_fee)?,
    ];
    record(py, "Mint", args)
}

/// The text of a log argument (TypeError for anything but str, as the twin).
pub(crate) fn text_of(s: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    let s = s
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err(format!("{what}: expected str")))?;
    Ok(s.to_string_lossy().into_owned())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_token_account, m)?)?;
    m.add_function(wrap_pyfunction!(decode_mint, m)?)?;
    Ok(())
}

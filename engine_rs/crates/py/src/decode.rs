//! Bindings for `arbscope_core::decode`: SPL Token accounts and mints, returning the
//! shared records of `engine_rs.decoded` (the same classes the twin returns), and the
//! conversions every decoder binding uses (`crate::venues` has the venues' own).

use arbscope_core::b58;
use arbscope_core::decode::{self as dec, Key};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString, PyTuple};

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

/// `engine_rs.decoded.$name(...)` of the fields of `$s`, in order (`?` on failure): `f` is
/// the field's value, `f[i]` an element's, `key f` a base58 str, `opt f` an optional one,
/// `keys f` / `each f` every key / value of an array spread, `tuple f` the array as a
/// tuple, `(e)` an expression's value and `[e]` a Python object already made.
macro_rules! rec {
    ($py:ident, $name:expr, $s:expr => $($t:tt)*) => {{
        #[allow(unused_mut)]
        let mut args = $crate::decode::record_args($py);
        $crate::decode::rec!(@ args $py $s; $($t)*);
        $crate::decode::record($py, $name, args)
    }};
    (@ $a:ident $py:ident $s:expr;) => {};
    (@ $a:ident $py:ident $s:expr; key $f:ident $(, $($t:tt)*)?) => {
        $a.push($crate::decode::key($py, &$s.$f));
        $crate::decode::rec!(@ $a $py $s; $($($t)*)?);
    };
    (@ $a:ident $py:ident $s:expr; opt $f:ident $(, $($t:tt)*)?) => {
        $a.push($crate::decode::opt_key($py, &$s.$f));
        $crate::decode::rec!(@ $a $py $s; $($($t)*)?);
    };
    (@ $a:ident $py:ident $s:expr; keys $f:tt $(, $($t:tt)*)?) => {
        $a.extend($s.$f.iter().map(|k| $crate::decode::key($py, k)));
        $crate::decode::rec!(@ $a $py $s; $($($t)*)?);
    };
    (@ $a:ident $py:ident $s:expr; each $f:tt $(, $($t:tt)*)?) => {
        for v in $s.$f.iter() {
            $a.push($crate::decode::obj!($py, *v));
        }
        $crate::decode::rec!(@ $a $py $s; $($($t)*)?);
    };
    (@ $a:ident $py:ident $s:expr; tuple $f:tt $(, $($t:tt)*)?) => {
        $a.push(pyo3::types::PyTuple::new($py, $s.$f.iter())?.into_any());
        $crate::decode::rec!(@ $a $py $s; $($($t)*)?);
    };
    (@ $a:ident $py:ident $s:expr; ($e:expr) $(, $($t:tt)*)?) => {
        $a.push($crate::decode::obj!($py, $e));
        $crate::decode::rec!(@ $a $py $s; $($($t)*)?);
    };
    (@ $a:ident $py:ident $s:expr; [$e:expr] $(, $($t:tt)*)?) => {
        $a.push($e);
        $crate::decode::rec!(@ $a $py $s; $($($t)*)?);
    };
    (@ $a:ident $py:ident $s:expr; $f:ident [$i:tt] $(, $($t:tt)*)?) => {
        $a.push($crate::decode::obj!($py, $s.$f[$i]));
        $crate::decode::rec!(@ $a $py $s; $($($t)*)?);
    };
    (@ $a:ident $py:ident $s:expr; $f:tt $(, $($t:tt)*)?) => {
        $a.push($crate::decode::obj!($py, $s.$f));
        $crate::decode::rec!(@ $a $py $s; $($($t)*)?);
    };
}
pub(crate) use rec;

/// An empty argument list for [`record`] (what `rec!` fills).
pub(crate) fn record_args(_py: Python<'_>) -> Vec<Bound<'_, PyAny>> {
    Vec::with_capacity(48)
}

/// Account decoders as Python functions `name(data, owner=None)`: each reads the bytes
/// and the owner as the twin does, runs the core's decoder under [`crate::errors::guard`] and turns
/// the value (bound to `$v`) into Python with `$body`.
macro_rules! decoders {
    ($($(#[$m:meta])* fn $name:ident($py:ident, $v:ident = $core:path) $body:block)*) => {$(
        $(#[$m])*
        #[pyo3::pyfunction]
        #[pyo3(signature = (data, owner = None))]
        fn $name<'py>(
            $py: pyo3::Python<'py>,
            data: &pyo3::Bound<'py, pyo3::PyAny>,
            owner: Option<&pyo3::Bound<'py, pyo3::PyAny>>,
        ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
            let (d, o) = ($crate::decode::data_of(data)?, $crate::decode::owner_of(owner)?);
            let $v = $crate::errors::guard($py, || $core(&d, o.as_ref()))?;
            $body
        }
    )*};
}
pub(crate) use decoders;

/// `m.add_function(...)` for each function named.
macro_rules! add_functions {
    ($m:expr, $($f:ident),* $(,)?) => {{
        $($m.add_function(pyo3::wrap_pyfunction!($f, $m)?)?;)*
        pyo3::PyResult::Ok(())
    }};
}
pub(crate) use add_functions;

/// A value as Python's repr shows it (ints as digits, bools as `True` / `False`).
pub(crate) trait PyReprValue {
    fn py_repr(&self) -> String;
}

impl PyReprValue for bool {
    fn py_repr(&self) -> String {
        (if *self { "True" } else { "False" }).to_string()
    }
}

macro_rules! repr_as_display {
    ($($t:ty),*) => {$(
        impl PyReprValue for $t {
            fn py_repr(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
repr_as_display!(u32, i32, u64, i64, u128);

/// A native record: a frozen pyclass `$pyname` (module `engine_rs._engine`) whose fields
/// are read as attributes, made from the core's struct of the same fields, with the
/// dataclass's repr; `eq` adds the dataclass's `==` on every field.
macro_rules! native_record {
    ($(#[$m:meta])* $name:ident = $pyname:literal from $core:ty, eq {
        $($f:ident: $t:ty),* $(,)?
    }) => {
        $crate::decode::native_record!(@ [$(#[$m])*] $name $pyname $core { $($f: $t),* } {
            fn __eq__(&self, other: &pyo3::Bound<'_, pyo3::PyAny>) -> bool {
                other.cast::<$name>().is_ok_and(|o| {
                    let o = o.get();
                    true $(&& o.$f == self.$f)*
                })
            }
        });
    };
    ($(#[$m:meta])* $name:ident = $pyname:literal from $core:ty {
        $($f:ident: $t:ty),* $(,)?
    }) => {
        $crate::decode::native_record!(@ [$(#[$m])*] $name $pyname $core { $($f: $t),* } {});
    };
    (@ [$(#[$m:meta])*] $name:ident $pyname:literal $core:ty { $($f:ident: $t:ty),* } {
        $($extra:tt)*
    }) => {
        $(#[$m])*
        #[pyo3::pyclass(frozen, get_all, module = "engine_rs._engine", name = $pyname)]
        pub struct $name {
            $($f: $t),*
        }

        impl From<$core> for $name {
            fn from(r: $core) -> Self {
                Self { $($f: r.$f),* }
            }
        }

        #[pyo3::pymethods]
        impl $name {
            fn __repr__(&self) -> String {
                let fields: Vec<String> = vec![$(format!(
                    "{}={}",
                    stringify!($f),
                    $crate::decode::PyReprValue::py_repr(&self.$f)
                )),*];
                format!("{}({})", $pyname, fields.join(", "))
            }

            $($extra)*
        }
    };
}
pub(crate) use native_record;

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

decoders! {
    /// An SPL Token or Token-2022 account (spec §3; extensions ignored).
    fn decode_token_account(py, a = dec::decode_token_account) {
        rec!(py, "TokenAccount", a => key mint, key owner, amount, opt delegate, state,
            is_native, delegated_amount, opt close_authority)
    }

    /// An SPL Token or Token-2022 mint (spec §3), with Token-2022's TransferFeeConfig.
    fn decode_mint(py, m = dec::decode_mint) {
        let fee = |f: Option<dec::TransferFee>| -> PyResult<Bound<'_, PyAny>> {
            match f {
                Some(f) => rec!(py, "TransferFee", f => 0, 1, 2),
                None => Ok(py.None().into_bound(py)),
            }
        };
        rec!(py, "Mint", m => opt mint_authority, supply, decimals, is_initialized,
            opt freeze_authority, [fee(m.older_transfer_fee)?], [fee(m.newer_transfer_fee)?])
    }
}

/// The text of a log argument (TypeError for anything but str, as the twin).
pub(crate) fn text_of(s: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    let s = s
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err(format!("{what}: expected str")))?;
    Ok(s.to_string_lossy().into_owned())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_functions!(m, decode_token_account, decode_mint)
}

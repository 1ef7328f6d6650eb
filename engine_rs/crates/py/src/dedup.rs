//! Bindings for `arbscope_core::dedup`: the `Deduper` class and `DedupStats` record.
//!
//! `accept_many` checks every element before accepting any (a bad element accepts
//! nothing), reading list/tuple items without copying the key bytes.

use arbscope_core::dedup::{self, Deduper as CoreDeduper};
use arbscope_core::EngineError;
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyInt, PyList, PyMemoryView, PyTuple};

use crate::args::I64;
use crate::errors::{guard, raise, to_py};

/// Lead/lag of one endpoint (fields as `engine_rs.records.DedupStats`).
#[pyclass(frozen, get_all, module = "engine_rs._engine")]
pub struct DedupStats {
    endpoint: u32,
    first_seen: u64,
    duplicates: u64,
    lag_mean_ns: Option<f64>,
    lag_p50_ns: Option<i64>,
    lag_p99_ns: Option<i64>,
    lag_samples: u64,
}

#[pymethods]
impl DedupStats {
    fn __repr__(&self) -> String {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "None".into());
        format!(
            "DedupStats(endpoint={}, first_seen={}, duplicates={}, lag_mean_ns={}, \
             lag_p50_ns={}, lag_p99_ns={}, lag_samples={})",
            self.endpoint,
            self.first_seen,
            self.duplicates,
            opt(self.lag_mean_ns.map(|v| format!("{v:?}"))),
            opt(self.lag_p50_ns.map(|v| v.to_string())),
            opt(self.lag_p99_ns.map(|v| v.to_string())),
            self.lag_samples
        )
    }
}

impl From<dedup::DedupStats> for DedupStats {
    fn from(s: dedup::DedupStats) -> Self {
        Self {
            endpoint: s.endpoint,
            first_seen: s.first_seen,
            duplicates: s.duplicates,
            lag_mean_ns: s.lag_mean_ns,
            lag_p50_ns: s.lag_p50_ns,
            lag_p99_ns: s.lag_p99_ns,
            lag_samples: s.lag_samples,
        }
    }
}

/// An i64 argument with the twin's errors: TypeError for non-ints, MathOverflowError
/// outside i64.
fn i64_arg(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    if !obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "expected int, got {}",
            obj.get_type().name()?
        )));
    }
    obj.extract::<i64>().map_err(|e| {
        if e.is_instance_of::<PyOverflowError>(obj.py()) {
            raise(
                obj.py(),
                "MathOverflowError",
                format!("{obj} does not fit in i64"),
            )
        } else {
            e
        }
    })
}

/// Call `f` with the bytes of a bytes-like key (no copy for `bytes`).
fn with_key<R>(key: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> R) -> PyResult<R> {
    if let Ok(b) = key.cast::<PyBytes>() {
        return Ok(f(b.as_bytes()));
    }
    if let Ok(b) = key.cast::<PyByteArray>() {
        return Ok(f(&b.to_vec()));
    }
    if key.is_instance_of::<PyMemoryView>() {
        let buf = PyBuffer::<u8>::get(key)?;
        return Ok(f(&buf.to_vec(key.py())?));
    }
    Err(PyTypeError::new_err(format!(
        "dedup key: expected bytes, got {}",
        key.get_type().name()?
    )))
}

/// One int per element, read without PyO3's machinery: `Some(v)` for an exact `int`
/// in i64, `None` for anything else (the caller then takes the checked path, which raises
/// the right error).
///
/// # Safety
/// `obj` is a valid borrowed reference and the GIL is held.
#[inline]
unsafe fn fast_i64(obj: *mut ffi::PyObject) -> Option<i64> {
    unsafe {
        if ffi::PyLong_CheckExact(obj) == 0 {
            return None;
        }
        let v = ffi::PyLong_AsLong(obj);
        if v == -1 && !ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        // c_long is i64 here, i32 on Windows: widen either way
        #[allow(clippy::useless_conversion)]
        Some(i64::from(v))
    }
}

/// An ints argument for the fast path: one int, or an exact list of `n` of them.
enum FastInts {
    One(i64),
    List(*mut ffi::PyObject),
}

impl FastInts {
    /// # Safety
    /// `obj` is a valid borrowed reference and the GIL is held.
    unsafe fn new(obj: &Bound<'_, PyAny>, n: usize) -> Option<Self> {
        let ptr = obj.as_ptr();
        unsafe {
            if ffi::PyList_CheckExact(ptr) != 0 {
                return (ffi::PyList_GET_SIZE(ptr) as usize == n).then_some(Self::List(ptr));
            }
            fast_i64(ptr).map(Self::One)
        }
    }

    /// # Safety
    /// `i` < the list's length (checked in `new`), the list is not resized meanwhile
    /// (the GIL is held and no Python code runs), and the GIL is held.
    #[inline]
    unsafe fn get(&self, i: usize) -> Option<i64> {
        match self {
            Self::One(v) => Some(*v),
            Self::List(list) => unsafe {
                fast_i64(ffi::PyList_GET_ITEM(*list, i as ffi::Py_ssize_t))
            },
        }
    }
}

/// First-copy-wins de-duplicator with per-endpoint lead/lag (see `engine_rs.python.dedup`).
#[pyclass(module = "engine_rs._engine")]
pub struct Deduper {
    inner: CoreDeduper,
}

impl Deduper {
    /// The common case read straight off the list objects: `keys` an exact list of exact
    /// `bytes`, the ints exact. `None` when anything else is met (nothing is changed; the
    /// checked path then runs and raises the right error).
    fn fast_batch(
        &self,
        keys: &Bound<'_, PyAny>,
        endpoints: &Bound<'_, PyAny>,
        recv_ns: &Bound<'_, PyAny>,
    ) -> Option<Vec<(u128, u16, i64)>> {
        let kp = keys.as_ptr();
        // SAFETY: the GIL is held (we have `Bound`s), every pointer read is a borrowed item
        // of a list we hold a reference to, indices stay below the lengths checked here,
        // and no Python code runs in between (nothing can resize the lists).
        unsafe {
            if ffi::PyList_CheckExact(kp) == 0 {
                return None;
            }
            let n = ffi::PyList_GET_SIZE(kp) as usize;
            let eps = FastInts::new(endpoints, n)?;
            let nss = FastInts::new(recv_ns, n)?;
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                let item = ffi::PyList_GET_ITEM(kp, i as ffi::Py_ssize_t);
                if ffi::PyBytes_CheckExact(item) == 0 {
                    return None;
                }
                let len = ffi::Py_SIZE(item) as usize;
                let key =
                    std::slice::from_raw_parts(ffi::PyBytes_AS_STRING(item).cast::<u8>(), len);
                let ep = u16::try_from(eps.get(i)?).ok()?;
                let ns = nss.get(i)?;
                if key.is_empty() {
                    return None;
                }
                out.push((self.inner.fingerprint(key), ep, ns));
            }
            Some(out)
        }
    }

    fn checked(&self, py: Python<'_>, key: &Bound<'_, PyAny>, ep: i64) -> PyResult<(u128, u16)> {
        with_key(key, |k| {
            CoreDeduper::check(k, ep).map(|ep| (self.inner.fingerprint(k), ep))
        })?
        .map_err(|e| to_py(py, e))
    }
}

/// Either one int for every element, or a list/tuple of them of the right length.
enum IntsArg<'a, 'py> {
    One(i64),
    Many(&'a Bound<'py, PyAny>),
}

impl<'a, 'py> IntsArg<'a, 'py> {
    fn new(obj: &'a Bound<'py, PyAny>, n: usize, what: &str) -> PyResult<Self> {
        if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
            return Ok(Self::One(i64_arg(obj)?));
        }
        let len = obj.len()?;
        if len != n {
            return Err(to_py(
                obj.py(),
                EngineError::InvalidInput(format!("accept_many: {n} keys but {len} {what}")),
            ));
        }
        Ok(Self::Many(obj))
    }

    fn get(&self, i: usize) -> PyResult<i64> {
        match self {
            Self::One(v) => Ok(*v),
            Self::Many(obj) => {
                if let Ok(l) = obj.cast::<PyList>() {
                    i64_arg(&l.get_item(i)?)
                } else if let Ok(t) = obj.cast::<PyTuple>() {
                    i64_arg(&t.get_item(i)?)
                } else {
                    i64_arg(&obj.get_item(i)?)
                }
            }
        }
    }
}

#[pymethods]
impl Deduper {
    #[new]
    #[pyo3(
        signature = (capacity = I64(65_536), lag_window = I64(4_096)),
        text_signature = "(capacity=65536, lag_window=4096)"
    )]
    fn new(py: Python<'_>, capacity: I64, lag_window: I64) -> PyResult<Self> {
        let (cap, win) = (capacity.0, lag_window.0);
        let as_usize = |v: i64, name: &str, max: usize| {
            usize::try_from(v)
                .ok()
                .filter(|&u| (1..=max).contains(&u))
                .ok_or_else(|| {
                    EngineError::InvalidInput(format!("{name} must be within 1..={max}, got {v}"))
                })
        };
        let inner = guard(py, || {
            let cap = as_usize(cap, "capacity", dedup::MAX_CAPACITY)?;
            let win = as_usize(win, "lag_window", dedup::MAX_LAG_WINDOW)?;
            CoreDeduper::new(cap, win)
        })?;
        Ok(Self { inner })
    }

    #[getter]
    fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    #[getter]
    fn lag_window(&self) -> usize {
        self.inner.lag_window()
    }

    /// Keys forgotten to stay within capacity.
    #[getter]
    fn evicted(&self) -> u64 {
        self.inner.evicted()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let (fp, _) = self.checked(py, key, 0)?;
        Ok(self.inner.contains_fingerprint(fp))
    }

    /// True for the first copy of `key`; False for a later one (its lag recorded).
    fn accept(
        &mut self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        endpoint: &Bound<'_, PyAny>,
        recv_ns: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let ep = i64_arg(endpoint)?;
        let ns = i64_arg(recv_ns)?;
        let (fp, ep) = self.checked(py, key, ep)?;
        Ok(self.inner.accept_fingerprint(fp, ep, ns))
    }

    /// `accept` for each key in order; `endpoints` / `recv_ns` are sequences of the same
    /// length or one int for all. Everything is checked before any key is accepted.
    fn accept_many<'py>(
        &mut self,
        py: Python<'py>,
        keys: &Bound<'py, PyAny>,
        endpoints: &Bound<'py, PyAny>,
        recv_ns: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        if let Some(checked) = self.fast_batch(keys, endpoints, recv_ns) {
            let inner = &mut self.inner;
            let out = checked
                .into_iter()
                .map(|(fp, ep, ns)| inner.accept_fingerprint(fp, ep, ns));
            return PyList::new(py, out);
        }
        let n = keys.len()?;
        let eps = IntsArg::new(endpoints, n, "endpoints")?;
        let nss = IntsArg::new(recv_ns, n, "recv_ns")?;
        let mut checked: Vec<(u128, u16, i64)> = Vec::with_capacity(n);
        let mut one = |i: usize, key: &Bound<'py, PyAny>| -> PyResult<()> {
            let ep = eps.get(i)?;
            let ns = nss.get(i)?;
            let (fp, ep) = self.checked(py, key, ep)?;
            checked.push((fp, ep, ns));
            Ok(())
        };
        if let Ok(list) = keys.cast::<PyList>() {
            for (i, key) in list.iter().enumerate() {
                one(i, &key)?;
            }
        } else if let Ok(tuple) = keys.cast::<PyTuple>() {
            for (i, key) in tuple.iter().enumerate() {
                one(i, &key)?;
            }
        } else {
            for i in 0..n {
                one(i, &keys.get_item(i)?)?;
            }
        }
        if checked.len() != n {
            return Err(to_py(
                py,
                EngineError::InvalidInput("accept_many: keys changed size while read".into()),
            ));
        }
        let inner = &mut self.inner;
        let out = checked
            .into_iter()
            .map(|(fp, ep, ns)| inner.accept_fingerprint(fp, ep, ns));
        PyList::new(py, out)
    }

    /// Every endpoint that delivered anything, by id.
    fn stats(&self) -> Vec<DedupStats> {
        self.inner
            .stats()
            .into_iter()
            .map(DedupStats::from)
            .collect()
    }

    /// Forget every key and statistic.
    fn clear(&mut self) {
        self.inner.clear();
    }

    fn __repr__(&self) -> String {
        format!(
            "Deduper(capacity={}, keys={})",
            self.inner.capacity(),
            self.inner.len()
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<DedupStats>()?;
    m.add_class::<Deduper>()?;
    Ok(())
}

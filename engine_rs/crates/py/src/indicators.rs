//! Bindings for `arbscope_core::indicators`: batch functions over numpy arrays and the
//! incremental classes.
//!
//! Input: a 1-D C-contiguous float64 array is read in place (zero copy); anything else
//! goes through `numpy.ascontiguousarray(prices, dtype=float64)` once, exactly as the
//! twin does, and must come out 1-D. Output: new float64 arrays, filled in place. Long
//! inputs run without the GIL.

use arbscope_core::indicators as ind;
use arbscope_core::EngineError;
use numpy::{PyArray1, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::args::I64;
use crate::decode::add_functions;
use crate::errors::{guard, to_py};

/// Inputs at least this long are computed with the GIL released.
const DETACH_FROM: usize = 32_768;

/// The prices as a 1-D contiguous float64 array (see the module docs).
fn prices_array<'py>(prices: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray1<f64>>> {
    if let Ok(a) = prices.cast::<PyArray1<f64>>() {
        if a.is_contiguous() {
            return Ok(a.clone());
        }
    }
    let py = prices.py();
    let np = py.import("numpy")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", "float64")?;
    let arr = np.call_method("ascontiguousarray", (prices,), Some(&kwargs))?;
    let ndim: usize = arr.getattr("ndim")?.extract()?;
    if ndim != 1 {
        let shape = arr.getattr("shape")?.str()?.to_string();
        return Err(to_py(
            py,
            EngineError::InvalidInput(format!("prices must be 1-D, got shape {shape}")),
        ));
    }
    Ok(arr.cast_into::<PyArray1<f64>>()?)
}

/// Run `f(input, outputs…)` over `k` fresh output arrays the length of the input.
fn batch<'py, const K: usize>(
    prices: &Bound<'py, PyAny>,
    f: impl FnOnce(&[f64], &mut [&mut [f64]; K]) -> arbscope_core::Result<()> + Send,
) -> PyResult<[Bound<'py, PyArray1<f64>>; K]> {
    let py = prices.py();
    let input = prices_array(prices)?;
    let n = input.len();
    // SAFETY: fresh arrays, not yet visible to Python, filled completely below.
    let outs: [Bound<'py, PyArray1<f64>>; K] =
        std::array::from_fn(|_| unsafe { PyArray1::<f64>::new(py, n, false) });
    let ro = input.readonly();
    let x = ro.as_slice()?;
    // SAFETY: the output arrays are new, contiguous and aliased by nothing else.
    let mut slices: Vec<&mut [f64]> = Vec::with_capacity(K);
    for o in &outs {
        slices.push(unsafe { o.as_slice_mut() }?);
    }
    let mut slices: [&mut [f64]; K] = slices
        .try_into()
        .map_err(|_| to_py(py, EngineError::InvalidInput("output arrays".into())))?;
    let run = move || f(x, &mut slices);
    if n >= DETACH_FROM {
        let r = py.detach(run);
        guard(py, || r)?;
    } else {
        guard(py, run)?;
    }
    Ok(outs)
}

/// RSI (Wilder, TA-Lib seeding): NaN for the first `period` values.
#[pyfunction]
#[pyo3(signature = (prices, period = I64(14)), text_signature = "(prices, period=14)")]
fn rsi<'py>(prices: &Bound<'py, PyAny>, period: I64) -> PyResult<Bound<'py, PyArray1<f64>>> {
    ind::Rsi::new(period.0).map_err(|e| to_py(prices.py(), e))?;
    let [o] = batch::<1>(prices, |x, [o]| ind::rsi(x, period.0, o))?;
    Ok(o)
}

/// EMA (TA-Lib seeding: the SMA of the first `period`): NaN for the first `period - 1`.
#[pyfunction]
fn ema<'py>(prices: &Bound<'py, PyAny>, period: I64) -> PyResult<Bound<'py, PyArray1<f64>>> {
    ind::Ema::new(period.0).map_err(|e| to_py(prices.py(), e))?;
    let [o] = batch::<1>(prices, |x, [o]| ind::ema(x, period.0, o))?;
    Ok(o)
}

/// Bollinger bands `(upper, middle, lower)`: SMA middle, population σ, ± k·σ.
#[pyfunction]
#[pyo3(
    signature = (prices, period = I64(20), k = 2.0),
    text_signature = "(prices, period=20, k=2.0)"
)]
fn bollinger<'py>(
    prices: &Bound<'py, PyAny>,
    period: I64,
    k: f64,
) -> PyResult<Bound<'py, PyTuple>> {
    ind::Bollinger::new(period.0, k).map_err(|e| to_py(prices.py(), e))?;
    let [u, m, l] = batch::<3>(prices, |x, [u, m, l]| {
        ind::bollinger(x, period.0, k, u, m, l)
    })?;
    PyTuple::new(prices.py(), [u, m, l])
}

/// KAMA (TA-Lib seeding; TA-Lib fixes fast/slow at 2/30): NaN for the first `period`.
#[pyfunction]
#[pyo3(
    signature = (prices, period = I64(10), fast = I64(2), slow = I64(30)),
    text_signature = "(prices, period=10, fast=2, slow=30)"
)]
fn kama<'py>(
    prices: &Bound<'py, PyAny>,
    period: I64,
    fast: I64,
    slow: I64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    ind::Kama::new(period.0, fast.0, slow.0).map_err(|e| to_py(prices.py(), e))?;
    let [o] = batch::<1>(prices, |x, [o]| ind::kama(x, period.0, fast.0, slow.0, o))?;
    Ok(o)
}

macro_rules! scalar_class {
    ($name:ident, $core:ty, $doc:literal, ($($sig:tt)*), $text:literal, ($($arg:ident),*)) => {
        #[doc = $doc]
        #[pyclass(module = "engine_rs._engine")]
        pub struct $name {
            inner: $core,
        }

        #[pymethods]
        impl $name {
            #[new]
            #[pyo3(signature = ($($sig)*), text_signature = $text)]
            fn new(py: Python<'_>, $($arg: I64),*) -> PyResult<Self> {
                Ok(Self {
                    inner: <$core>::new($($arg.0),*).map_err(|e| to_py(py, e))?,
                })
            }

            /// Feed one price; the value once warm, else None. Non-finite prices raise
            /// InvalidInputError and change nothing.
            fn update(&mut self, py: Python<'_>, price: f64) -> PyResult<Option<f64>> {
                self.inner.update(price).map_err(|e| to_py(py, e))
            }

            #[getter]
            fn value(&self) -> Option<f64> {
                self.inner.value()
            }

            #[getter]
            fn ready(&self) -> bool {
                self.inner.value().is_some()
            }

            #[getter]
            fn period(&self) -> usize {
                self.inner.period()
            }

            /// Prices fed so far.
            #[getter]
            fn count(&self) -> usize {
                self.inner.count()
            }

            /// Forget every price (the parameters stay).
            fn reset(&mut self) {
                self.inner.reset();
            }
        }
    };
}

scalar_class!(
    Rsi,
    ind::Rsi,
    "Incremental RSI, O(1) per update.",
    (period = I64(14)),
    "(period=14)",
    (period)
);
scalar_class!(
    Ema,
    ind::Ema,
    "Incremental EMA, O(1) per update.",
    (period),
    "(period)",
    (period)
);
scalar_class!(
    Kama,
    ind::Kama,
    "Incremental KAMA, O(1) per update.",
    (period = I64(10), fast = I64(2), slow = I64(30)),
    "(period=10, fast=2, slow=30)",
    (period, fast, slow)
);

/// Incremental Bollinger bands, O(1) per update.
#[pyclass(module = "engine_rs._engine")]
pub struct Bollinger {
    inner: ind::Bollinger,
}

#[pymethods]
impl Bollinger {
    #[new]
    #[pyo3(signature = (period = I64(20), k = 2.0), text_signature = "(period=20, k=2.0)")]
    fn new(py: Python<'_>, period: I64, k: f64) -> PyResult<Self> {
        Ok(Self {
            inner: ind::Bollinger::new(period.0, k).map_err(|e| to_py(py, e))?,
        })
    }

    /// Feed one price; `(upper, middle, lower)` once warm, else None.
    fn update(&mut self, py: Python<'_>, price: f64) -> PyResult<Option<(f64, f64, f64)>> {
        self.inner.update(price).map_err(|e| to_py(py, e))
    }

    #[getter]
    fn value(&self) -> Option<(f64, f64, f64)> {
        self.inner.value()
    }

    #[getter]
    fn ready(&self) -> bool {
        self.inner.value().is_some()
    }

    #[getter]
    fn period(&self) -> usize {
        self.inner.period()
    }

    #[getter]
    fn k(&self) -> f64 {
        self.inner.k()
    }

    #[getter]
    fn count(&self) -> usize {
        self.inner.count()
    }

    /// Forget every price (the parameters stay).
    fn reset(&mut self) {
        self.inner.reset();
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Rsi>()?;
    m.add_class::<Ema>()?;
    m.add_class::<Bollinger>()?;
    m.add_class::<Kama>()?;
    add_functions!(m, rsi, ema, bollinger, kama)
}

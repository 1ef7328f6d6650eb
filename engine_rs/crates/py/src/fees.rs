//! Bindings for `arbscope_core::fees`: the `FeeEstimator` class and `PriorityFee` record.

use arbscope_core::fees::{self, FeeEstimator as CoreFees};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::args::{Pct, U64};
use crate::errors::guard;

/// A recommended CU price and its cost (fields as `engine_rs.records.PriorityFee`).
#[pyclass(frozen, get_all, module = "engine_rs._engine")]
pub struct PriorityFee {
    cu_price_micro_lamports: u64,
    cu_limit: u64,
    priority_fee_lamports: u64,
    percentile: f64,
    samples: u64,
    newest_slot: u64,
}

#[pymethods]
impl PriorityFee {
    fn __repr__(&self) -> String {
        format!(
            "PriorityFee(cu_price_micro_lamports={}, cu_limit={}, priority_fee_lamports={}, \
             percentile={:?}, samples={}, newest_slot={})",
            self.cu_price_micro_lamports,
            self.cu_limit,
            self.priority_fee_lamports,
            self.percentile,
            self.samples,
            self.newest_slot
        )
    }
}

/// Sliding-window estimator of priority fees by slot (see `engine_rs.python.fees`).
#[pyclass(module = "engine_rs._engine")]
pub struct FeeEstimator {
    inner: CoreFees,
}

#[pymethods]
impl FeeEstimator {
    #[new]
    #[pyo3(
        signature = (window_slots = U64(150), saturation_cu_price = U64(fees::DEFAULT_SATURATION_CU_PRICE)),
        text_signature = "(window_slots=150, saturation_cu_price=1000000)"
    )]
    fn new(py: Python<'_>, window_slots: U64, saturation_cu_price: U64) -> PyResult<Self> {
        let inner = guard(py, || CoreFees::new(window_slots.0, saturation_cu_price.0))?;
        Ok(Self { inner })
    }

    #[getter]
    fn window_slots(&self) -> u64 {
        self.inner.window_slots()
    }

    #[getter]
    fn saturation_cu_price(&self) -> u64 {
        self.inner.saturation_cu_price()
    }

    #[getter]
    fn newest_slot(&self) -> Option<u64> {
        self.inner.newest_slot()
    }

    #[getter]
    fn oldest_slot(&self) -> Option<u64> {
        self.inner.oldest_slot()
    }

    #[getter]
    fn slot_count(&self) -> usize {
        self.inner.slot_count()
    }

    #[getter]
    fn dropped(&self) -> u64 {
        self.inner.dropped()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Add one sample; False when its slot is already outside the window.
    fn add(&mut self, slot: U64, micro_lamports_per_cu: U64) -> bool {
        self.inner.add(slot.0, micro_lamports_per_cu.0)
    }

    /// Add `(slot, cu_price)` pairs in order (all checked first); returns how many were kept.
    fn add_many(&mut self, samples: &Bound<'_, PyAny>) -> PyResult<usize> {
        let mut checked: Vec<(u64, u64)> = Vec::new();
        for item in samples.try_iter()? {
            let item = item?;
            let pair_ok = (item.is_instance_of::<PyTuple>() || item.is_instance_of::<PyList>())
                && item.len()? == 2;
            if !pair_ok {
                return Err(PyTypeError::new_err(
                    "add_many: expected (slot, cu_price) pairs",
                ));
            }
            let slot = item.get_item(0)?.extract::<U64>()?.0;
            let price = item.get_item(1)?.extract::<U64>()?.0;
            checked.push((slot, price));
        }
        Ok(self.inner.add_many(&checked))
    }

    /// Nearest-rank `p`-th percentile (0-100) of the CU prices in the window.
    fn percentile(&self, py: Python<'_>, p: Pct) -> PyResult<u64> {
        guard(py, || self.inner.percentile(p.0))
    }

    /// `percentile` of each of `ps`.
    fn percentiles(&self, py: Python<'_>, ps: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        let mut out = Vec::new();
        for p in ps.try_iter()? {
            let p = p?.extract::<Pct>()?.0;
            out.push(guard(py, || self.inner.percentile(p))?);
        }
        Ok(out)
    }

    /// The congestion index in [0, 1].
    fn congestion(&self, py: Python<'_>) -> PyResult<f64> {
        guard(py, || self.inner.congestion())
    }

    /// The `percentile`-th CU price of the window and its cost at `cu_limit`.
    #[pyo3(
        signature = (cu_limit, percentile = Pct(75.0)),
        text_signature = "($self, cu_limit, percentile=75.0)"
    )]
    fn recommend(&self, py: Python<'_>, cu_limit: U64, percentile: Pct) -> PyResult<PriorityFee> {
        let p = percentile.0;
        let r = guard(py, || self.inner.recommend(cu_limit.0, p))?;
        Ok(PriorityFee {
            cu_price_micro_lamports: r.cu_price_micro_lamports,
            cu_limit: r.cu_limit,
            priority_fee_lamports: r.priority_fee_lamports,
            percentile: r.percentile,
            samples: r.samples,
            newest_slot: r.newest_slot,
        })
    }

    /// Per slot of the window, ascending: `(slot, samples, lowest, p-th percentile)`.
    #[pyo3(signature = (percentile = Pct(50.0)), text_signature = "($self, percentile=50.0)")]
    fn by_slot(&self, py: Python<'_>, percentile: Pct) -> PyResult<Vec<(u64, u64, u64, u64)>> {
        guard(py, || self.inner.by_slot(percentile.0))
    }

    /// Forget every sample and the window's edge.
    fn clear(&mut self) {
        self.inner.clear();
    }

    fn __repr__(&self) -> String {
        format!(
            "FeeEstimator(window_slots={}, samples={}, slots={}, newest_slot={})",
            self.inner.window_slots(),
            self.inner.len(),
            self.inner.slot_count(),
            self.inner
                .newest_slot()
                .map_or_else(|| "None".to_string(), |s| s.to_string())
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PriorityFee>()?;
    m.add_class::<FeeEstimator>()?;
    Ok(())
}

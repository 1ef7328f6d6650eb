//! Bindings for `arbscope_core::scorer`: `score(opportunity, fees, policy) -> Score`.
//!
//! The opportunity may come from either backend and the fee context / policy are the
//! shared dataclasses of `engine_rs.records`, so fields are read by attribute.

use arbscope_core::scorer::{self, FeeContext, ScoreInput, ScorePolicy};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt};

use crate::args::U64;
use crate::decode::add_functions;
use crate::errors::{guard, raise};

/// The verdict on one opportunity (fields as `engine_rs.records.Score`).
#[pyclass(frozen, get_all, module = "engine_rs._engine")]
pub struct Score {
    gross_profit: i128,
    base_fee_lamports: u64,
    priority_fee_lamports: u64,
    tip_lamports: u64,
    total_fee_lamports: u64,
    fees_in_base: u64,
    net_profit: i128,
    net_profit_bps: f64,
    persistence: u64,
    staleness_slots: u64,
    go: bool,
    reasons: Vec<String>,
}

#[pymethods]
impl Score {
    fn __repr__(&self) -> String {
        format!(
            "Score(gross_profit={}, total_fee_lamports={}, fees_in_base={}, net_profit={}, \
             net_profit_bps={}, persistence={}, staleness_slots={}, go={}, reasons={:?})",
            self.gross_profit,
            self.total_fee_lamports,
            self.fees_in_base,
            self.net_profit,
            self.net_profit_bps,
            self.persistence,
            self.staleness_slots,
            if self.go { "True" } else { "False" },
            self.reasons
        )
    }
}

fn u64_attr(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<u64> {
    Ok(obj.getattr(name)?.extract::<U64>()?.0)
}

fn i128_attr(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<i128> {
    let v = obj.getattr(name)?;
    if !v.is_instance_of::<PyInt>() || v.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{name}: expected int")));
    }
    v.extract::<i128>().map_err(|_| {
        raise(
            obj.py(),
            "MathOverflowError",
            format!("{name} does not fit in i128"),
        )
    })
}

fn f64_attr(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<f64> {
    let v = obj.getattr(name)?;
    if v.is_instance_of::<PyBool>()
        || !(v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>())
    {
        return Err(PyTypeError::new_err(format!("{name}: expected float")));
    }
    v.extract::<f64>()
}

/// The fee context of a `FeeContext` record (either backend's: read by attribute).
pub(crate) fn fee_context_of(fees: &Bound<'_, PyAny>) -> PyResult<FeeContext> {
    let base_fee = fees.getattr("base_fee_lamports")?;
    Ok(FeeContext {
        cu_limit: u64_attr(fees, "cu_limit")?,
        cu_price_micro_lamports: u64_attr(fees, "cu_price_micro_lamports")?,
        tip_lamports: u64_attr(fees, "tip_lamports")?,
        signatures: u64_attr(fees, "signatures")?,
        lamports_per_signature: u64_attr(fees, "lamports_per_signature")?,
        base_fee_lamports: if base_fee.is_none() {
            None
        } else {
            Some(base_fee.extract::<U64>()?.0)
        },
        base_per_lamport_num: u64_attr(fees, "base_per_lamport_num")?,
        base_per_lamport_den: u64_attr(fees, "base_per_lamport_den")?,
        // a fee context of an older record without the field: the rate is known
        base_rate_missing: match fees.getattr("base_rate_missing") {
            Ok(v) => v.is_truthy()?,
            Err(_) => false,
        },
    })
}

/// The policy of a `ScorePolicy` record.
pub(crate) fn policy_of(py: Python<'_>, policy: &Bound<'_, PyAny>) -> PyResult<ScorePolicy> {
    let min_profit = i128_attr(policy, "min_profit")?;
    let min_profit = i64::try_from(min_profit).map_err(|_| {
        raise(
            py,
            "MathOverflowError",
            format!("{min_profit} does not fit in i64"),
        )
    })?;
    Ok(ScorePolicy {
        min_profit,
        min_profit_bps: f64_attr(policy, "min_profit_bps")?,
        min_persistence: u64_attr(policy, "min_persistence")?,
        max_staleness_slots: u64_attr(policy, "max_staleness_slots")?,
    })
}

impl From<scorer::Score> for Score {
    fn from(s: scorer::Score) -> Self {
        Self {
            gross_profit: s.gross_profit,
            base_fee_lamports: s.base_fee_lamports,
            priority_fee_lamports: s.priority_fee_lamports,
            tip_lamports: s.tip_lamports,
            total_fee_lamports: s.total_fee_lamports,
            fees_in_base: s.fees_in_base,
            net_profit: s.net_profit,
            net_profit_bps: s.net_profit_bps,
            persistence: s.persistence,
            staleness_slots: s.staleness_slots,
            go: s.go,
            reasons: s.reasons.into_iter().map(String::from).collect(),
        }
    }
}

/// Net profit after fees, persistence, staleness, go / no-go and the reasons.
#[pyfunction]
fn score(
    py: Python<'_>,
    opportunity: &Bound<'_, PyAny>,
    fees: &Bound<'_, PyAny>,
    policy: &Bound<'_, PyAny>,
) -> PyResult<Score> {
    let input = ScoreInput {
        amount_in: u64_attr(opportunity, "amount_in")?,
        gross_profit: i128_attr(opportunity, "profit")?,
        persistence: u64_attr(opportunity, "persistence")?,
        staleness_slots: u64_attr(opportunity, "staleness_slots")?,
        // an opportunity of an older record without the field held every tick
        ticks_missing: match opportunity.getattr("ticks_missing") {
            Ok(v) => v.is_truthy()?,
            Err(_) => false,
        },
    };
    let fee_ctx = fee_context_of(fees)?;
    let pol = policy_of(py, policy)?;
    let s = guard(py, || scorer::score(&input, &fee_ctx, &pol))?;
    Ok(Score::from(s))
}

/// `ceil(cu_price × cu_limit / 1e6)` lamports, saturating at u64::MAX.
#[pyfunction]
fn priority_fee_lamports(cu_price_micro_lamports: U64, cu_limit: U64) -> u64 {
    scorer::priority_fee_lamports(cu_price_micro_lamports.0, cu_limit.0)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Score>()?;
    add_functions!(m, score, priority_fee_lamports)
}

//! Bindings for `arbscope_core::pricing`: the `CyclePricer` class that
//! `PoolGraph.score_touching` prices a pool's live cycles with.

use std::collections::HashMap;

use arbscope_core::pricing::{CuModel, Pricer};
use pyo3::prelude::*;

use crate::args::U64;
use crate::errors::guard;

/// A venue's compute-unit model as given: (kind, curve, base, per_step, max_steps,
/// scale, t22_fixed, t22_per_mint).
type ModelArg = (String, String, U64, U64, U64, U64, U64, U64);

/// What each cycle's compute-unit budget and score depend on besides the cycle.
#[pyclass(module = "engine_rs._engine")]
pub struct CyclePricer {
    pub(crate) inner: Pricer,
}

#[pymethods]
impl CyclePricer {
    #[new]
    fn new(
        py: Python<'_>,
        models: Vec<ModelArg>,
        base_units: U64,
        per_account: U64,
        max_limit: U64,
    ) -> PyResult<Self> {
        let models = models
            .into_iter()
            .map(
                |(kind, curve, base, per, most, scale, fixed, per_mint)| CuModel {
                    kind,
                    curve,
                    base: base.0,
                    per_step: per.0,
                    max_steps: most.0,
                    scale: scale.0,
                    t22_fixed: fixed.0,
                    t22_per_mint: per_mint.0,
                },
            )
            .collect();
        let inner = guard(py, || {
            Pricer::new(models, base_units.0, per_account.0, max_limit.0)
        })?;
        Ok(Self { inner })
    }

    /// The session's fees, the policy and the limit replacing every cycle's (None: none).
    #[pyo3(
        signature = (fees, policy, cu_override = None),
        text_signature = "($self, fees, policy, cu_override=None)"
    )]
    fn set_fees(
        &mut self,
        py: Python<'_>,
        fees: &Bound<'_, PyAny>,
        policy: &Bound<'_, PyAny>,
        cu_override: Option<U64>,
    ) -> PyResult<()> {
        let f = crate::scorer::fee_context_of(fees)?;
        let p = crate::scorer::policy_of(py, policy)?;
        let inner = &mut self.inner;
        guard(py, || inner.set_fees(f, p, cu_override.map(|o| o.0)))
    }

    /// A lamport's price in each base mint, ``(num, den)`` or None; replaces the last.
    fn set_prices(
        &mut self,
        py: Python<'_>,
        prices: HashMap<String, Option<(U64, U64)>>,
    ) -> PyResult<()> {
        let mut v: Vec<(String, Option<(u64, u64)>)> = prices
            .into_iter()
            .map(|(b, p)| (b, p.map(|(n, d)| (n.0, d.0))))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0)); // (the first bad one named is the same each time)
        let inner = &mut self.inner;
        guard(py, || inner.set_prices(v))
    }

    /// Each pool's program kind, added to those told (``replace``: instead of them).
    #[pyo3(
        signature = (kinds, replace = false),
        text_signature = "($self, kinds, replace=False)"
    )]
    fn set_pool_kinds(
        &mut self,
        py: Python<'_>,
        kinds: HashMap<String, String>,
        replace: bool,
    ) -> PyResult<()> {
        let mut v: Vec<(String, String)> = kinds.into_iter().collect();
        v.sort();
        let inner = &mut self.inner;
        guard(py, || inner.set_pool_kinds(v, replace))
    }

    /// How many pools' programs it knows.
    fn pool_kind_count(&self) -> usize {
        self.inner.pool_kind_count()
    }

    /// The live wallet: armed, its base mint, the mints it holds a token account of.
    fn set_wallet(&mut self, armed: bool, base: &str, accounts: Vec<String>) {
        self.inner.set_wallet(armed, base, accounts);
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<CyclePricer>()?;
    Ok(())
}

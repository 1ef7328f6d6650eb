//! Bindings for `arbscope_core::graph`: the `PoolGraph` class and its records.
//!
//! Heavy calls (negative-cycle search, enumeration) run without the GIL; the graph is
//! `&mut self` behind PyO3's borrow checking, so a second thread gets a clear error
//! instead of a data race.

use arbscope_core::decode::TransferFee;
use arbscope_core::graph::{self, PoolGraph as CoreGraph};
use arbscope_core::sizing::Sizing;
use arbscope_core::venues::orca_whirlpool::swap::ClmmPool;
use arbscope_core::venues::pump_amm::PumpState;
use arbscope_core::venues::PoolState;
use arbscope_core::EngineError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::args::{I32, U128, U64};
use crate::errors::{guard, to_py};
use crate::fast::get_ticks;

/// A cycle from `find_negative_cycle` (fields as `engine_rs.records.Cycle`).
#[pyclass(frozen, get_all, module = "engine_rs._engine")]
pub struct Cycle {
    tokens: Vec<String>,
    pools: Vec<String>,
    rate_product: f64,
}

#[pymethods]
impl Cycle {
    fn __repr__(&self) -> String {
        format!(
            "Cycle(tokens={:?}, pools={:?}, rate_product={:?})",
            self.tokens, self.pools, self.rate_product
        )
    }
}

/// A sized cycle through a base mint (fields as `engine_rs.records.Opportunity`).
#[pyclass(frozen, get_all, module = "engine_rs._engine")]
pub struct Opportunity {
    base_mint: String,
    tokens: Vec<String>,
    pools: Vec<String>,
    kinds: Vec<String>,
    hops: usize,
    spot_rate: f64,
    amount_in: u64,
    amount_out: u64,
    profit: i128,
    profit_bps: f64,
    hop_amounts: Vec<u64>,
    oldest_slot: u64,
    staleness_slots: u64,
    persistence: u64,
    ticks_missing: bool,
    hop_steps: Vec<u32>,
}

#[pymethods]
impl Opportunity {
    fn __repr__(&self) -> String {
        format!(
            "Opportunity(base_mint={:?}, tokens={:?}, pools={:?}, kinds={:?}, hops={}, \
             spot_rate={:?}, amount_in={}, amount_out={}, profit={}, profit_bps={:?}, \
             hop_amounts={:?}, oldest_slot={}, staleness_slots={}, persistence={}, \
             ticks_missing={}, hop_steps={:?})",
            self.base_mint,
            self.tokens,
            self.pools,
            self.kinds,
            self.hops,
            self.spot_rate,
            self.amount_in,
            self.amount_out,
            self.profit,
            self.profit_bps,
            self.hop_amounts,
            self.oldest_slot,
            self.staleness_slots,
            self.persistence,
            if self.ticks_missing { "True" } else { "False" },
            self.hop_steps
        )
    }
}

impl From<graph::Opportunity> for Opportunity {
    fn from(o: graph::Opportunity) -> Self {
        Self {
            base_mint: o.base_mint,
            tokens: o.tokens,
            pools: o.pools,
            kinds: o.kinds.into_iter().map(String::from).collect(),
            hops: o.hops,
            spot_rate: o.spot_rate,
            amount_in: o.amount_in,
            amount_out: o.amount_out,
            profit: o.profit,
            profit_bps: o.profit_bps,
            hop_amounts: o.hop_amounts,
            oldest_slot: o.oldest_slot,
            staleness_slots: o.staleness_slots,
            persistence: o.persistence,
            ticks_missing: o.ticks_missing,
            hop_steps: o.hop_steps,
        }
    }
}

fn hops_arg(py: Python<'_>, max_hops: &Bound<'_, PyAny>) -> PyResult<usize> {
    let v = max_hops.extract::<I32>()?.0;
    let v = usize::try_from(v).unwrap_or(0);
    graph::check_hops(v).map_err(|e| to_py(py, e))
}

/// Pools as edges between mints, with cycle search, sizing and an incremental index.
#[pyclass(module = "engine_rs._engine")]
pub struct PoolGraph {
    pub(crate) inner: CoreGraph,
}

#[pymethods]
impl PoolGraph {
    #[new]
    // max_hops: None (the default) is 4, any other value must be an int in 2..=5
    #[pyo3(
        signature = (base_mints = Vec::new(), max_hops = None),
        text_signature = "(base_mints=(), max_hops=4)"
    )]
    fn new(
        py: Python<'_>,
        base_mints: Vec<String>,
        max_hops: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let hops = match max_hops {
            Some(h) => hops_arg(py, h)?,
            None => 4,
        };
        let inner = guard(py, || CoreGraph::new(&base_mints, hops))?;
        Ok(Self { inner })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// The chain's slot as told by `set_slot` (an upsert's slot is its pool's).
    #[getter]
    fn slot(&self) -> u64 {
        self.inner.slot()
    }

    /// The longest cycle the index holds.
    #[getter]
    fn max_hops(&self) -> usize {
        self.inner.max_hops()
    }

    /// How a cycle is sized: "golden" (a new graph's) or "ternary" (sessions recorded
    /// before "golden"); see the engine's sizing module.
    #[getter]
    fn sizing(&self) -> &'static str {
        self.inner.sizing().name()
    }

    /// Size cycles by the rule named `rule` from now on ("golden", "ternary"); another
    /// rule than the graph's sizes every cycle again at its next evaluation.
    fn set_sizing(&mut self, py: Python<'_>, rule: &str) -> PyResult<()> {
        let r = Sizing::from_name(rule).ok_or_else(|| {
            let mut names: Vec<&str> = Sizing::ALL.iter().map(|r| r.name()).collect();
            names.sort_unstable();
            to_py(
                py,
                EngineError::InvalidInput(format!(
                    "sizing: '{rule}' is not one of {}",
                    names.join(", ")
                )),
            )
        })?;
        self.inner.set_sizing(r);
        Ok(())
    }

    /// Tell the graph the chain's current slot (for staleness, and the epoch of the
    /// mints' transfer fees).
    fn set_slot(&mut self, slot: U64) {
        self.inner.set_slot(slot.0);
    }

    /// The epoch of the graph's slot under its epoch schedule.
    #[getter]
    fn epoch(&self) -> u64 {
        self.inner.epoch()
    }

    /// The cluster's epoch schedule (``getEpochSchedule``'s fields).
    #[pyo3(
        signature = (slots_per_epoch, warmup = false, first_normal_epoch = U64(0), first_normal_slot = U64(0)),
        text_signature = "($self, slots_per_epoch, warmup=False, first_normal_epoch=0, first_normal_slot=0)"
    )]
    fn set_epoch_schedule(
        &mut self,
        py: Python<'_>,
        slots_per_epoch: U64,
        warmup: bool,
        first_normal_epoch: U64,
        first_normal_slot: U64,
    ) -> PyResult<()> {
        let inner = &mut self.inner;
        guard(py, || {
            inner.set_epoch_schedule(graph::EpochSchedule {
                slots_per_epoch: slots_per_epoch.0,
                warmup,
                first_normal_epoch: first_normal_epoch.0,
                first_normal_slot: first_normal_slot.0,
            })
        })
    }

    /// A mint account: its transfer fee counts in every quote through its pools; the
    /// refused extensions' names (empty: tradable).
    fn set_mint<'py>(
        &mut self,
        py: Python<'py>,
        mint: &str,
        data: &Bound<'py, PyAny>,
        owner: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<String>> {
        let d = crate::decode::data_of(data)?;
        let o = crate::decode::owner_of(Some(owner))?.ok_or_else(|| {
            to_py(
                py,
                EngineError::InvalidInput("owner: expected a program id".into()),
            )
        })?;
        let inner = &mut self.inner;
        guard(py, || inner.set_mint(mint, &d, &o))
    }

    /// A mint's transfer-fee config ``(older, newer)``, each ``(epoch, maximum_fee,
    /// bps)``; None without one.
    fn mint_fee(&self, mint: &str) -> Option<(TransferFee, TransferFee)> {
        self.inner.mint_fee(mint)
    }

    /// The program that owns a mint the graph was told, None for one it was not.
    fn mint_program(&self, mint: &str) -> Option<String> {
        self.inner.mint_program(mint)
    }

    /// The refused extensions of a mint (empty: tradable, or not told).
    fn refusal(&self, mint: &str) -> Vec<String> {
        self.inner.refusal(mint)
    }

    /// Mints with at least one pool, sorted.
    fn tokens(&self) -> Vec<String> {
        self.inner.tokens()
    }

    /// Pool ids, sorted.
    fn pools(&self) -> Vec<String> {
        self.inner.pools()
    }

    /// The indexed base mints, in the order they were added.
    fn base_mints(&self) -> Vec<String> {
        self.inner.base_mints()
    }

    /// How many cycles the incremental index holds.
    fn indexed_cycle_count(&self) -> usize {
        self.inner.indexed_cycle_count()
    }

    /// Index every cycle through `mint` (up to `max_hops`); no-op if already a base.
    fn add_base_mint(&mut self, py: Python<'_>, mint: &str) -> PyResult<()> {
        let inner = &mut self.inner;
        guard(py, || inner.add_base_mint(mint))
    }

    /// Insert or update a constant-product pool (reserves in base units of a and b;
    /// Raydium's rounding: CP-Swap's curve, which AMM v4 shares; graph kind `cpmm`).
    #[pyo3(
        signature = (pool_id, mint_a, mint_b, reserve_a, reserve_b, fee_num, fee_den, slot = U64(0)),
        text_signature = "($self, pool_id, mint_a, mint_b, reserve_a, reserve_b, fee_num, fee_den, slot=0)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn upsert_cpmm(
        &mut self,
        py: Python<'_>,
        pool_id: &str,
        mint_a: &str,
        mint_b: &str,
        reserve_a: U64,
        reserve_b: U64,
        fee_num: U64,
        fee_den: U64,
        slot: U64,
    ) -> PyResult<()> {
        let inner = &mut self.inner;
        guard(py, || {
            inner.upsert_cpmm(
                pool_id,
                mint_a,
                mint_b,
                reserve_a.0,
                reserve_b.0,
                fee_num.0,
                fee_den.0,
                slot.0,
            )
        })
    }

    /// Insert or update a PumpSwap pool: base and quote reserves (mint a is the base),
    /// the fee rates in bps (the creator's 0 without a coin creator); graph kind `pump`.
    #[pyo3(
        signature = (pool_id, mint_a, mint_b, base_reserve, quote_reserve, lp_fee_bps, protocol_fee_bps, creator_fee_bps, slot = U64(0)),
        text_signature = "($self, pool_id, mint_a, mint_b, base_reserve, quote_reserve, lp_fee_bps, protocol_fee_bps, creator_fee_bps, slot=0)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn upsert_pump(
        &mut self,
        py: Python<'_>,
        pool_id: &str,
        mint_a: &str,
        mint_b: &str,
        base_reserve: U64,
        quote_reserve: U64,
        lp_fee_bps: U64,
        protocol_fee_bps: U64,
        creator_fee_bps: U64,
        slot: U64,
    ) -> PyResult<()> {
        let inner = &mut self.inner;
        guard(py, || {
            graph::check_pool_ids(pool_id, mint_a, mint_b)?;
            let state = PumpState::checked(
                pool_id,
                base_reserve.0,
                quote_reserve.0,
                (lp_fee_bps.0, protocol_fee_bps.0, creator_fee_bps.0),
                0,
            )?;
            inner.upsert_state_ids_checked(
                pool_id,
                mint_a,
                mint_b,
                PoolState::PumpAmm(state),
                slot.0,
            )
        })
    }

    /// Insert or update a Whirlpool (state as in the account, ticks initialized only).
    #[pyo3(
        signature = (pool_id, mint_a, mint_b, sqrt_price_x64, liquidity, tick_current, tick_spacing, fee_rate, ticks, slot = U64(0)),
        text_signature = "($self, pool_id, mint_a, mint_b, sqrt_price_x64, liquidity, tick_current, tick_spacing, fee_rate, ticks, slot=0)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn upsert_clmm(
        &mut self,
        py: Python<'_>,
        pool_id: &str,
        mint_a: &str,
        mint_b: &str,
        sqrt_price_x64: U128,
        liquidity: U128,
        tick_current: I32,
        tick_spacing: U64,
        fee_rate: U64,
        ticks: &Bound<'_, PyAny>,
        slot: U64,
    ) -> PyResult<()> {
        // SAFETY: `ticks` is a live object and we hold the GIL.
        let tick_list = unsafe { get_ticks(py, ticks.as_ptr())? };
        let inner = &mut self.inner;
        guard(py, || {
            graph::check_pool_ids(pool_id, mint_a, mint_b)?;
            let spacing = u16::try_from(tick_spacing.0).map_err(|_| {
                EngineError::clmm(
                    arbscope_core::error::ClmmErrorCode::InvalidTickSpacing,
                    format!("tick spacing {} not in [1, 65535]", tick_spacing.0),
                )
            })?;
            let fee = u32::try_from(fee_rate.0).unwrap_or(u32::MAX);
            let pool = ClmmPool::from_ticks(
                sqrt_price_x64.0,
                liquidity.0,
                tick_current.0,
                spacing,
                fee,
                tick_list,
            )?;
            inner.upsert_clmm(pool_id, mint_a, mint_b, pool, slot.0)
        })
    }

    /// ``[amount_in, out_1, ..., out_n]`` through ``pools`` from ``token_in`` (empty when a
    /// hop cannot fill).
    fn quote(
        &self,
        py: Python<'_>,
        pools: Vec<String>,
        token_in: &str,
        amount_in: crate::args::U64,
    ) -> PyResult<Vec<u64>> {
        let inner = &self.inner;
        guard(py, || inner.quote(&pools, token_in, amount_in.0))
    }

    /// ``quote`` with the steps each hop crosses in its venue's compute-unit model:
    /// ``(amounts, steps)``, both empty when a hop cannot fill.
    fn quote_steps(
        &self,
        py: Python<'_>,
        pools: Vec<String>,
        token_in: &str,
        amount_in: crate::args::U64,
    ) -> PyResult<(Vec<u64>, Vec<u32>)> {
        let inner = &self.inner;
        guard(py, || inner.quote_steps(&pools, token_in, amount_in.0))
    }

    /// ``(mint_a, mint_b, rate_a_to_b, rate_b_to_a, slot)`` of a pool (rates after fees).
    fn pool_rate(
        &self,
        py: Python<'_>,
        pool_id: &str,
    ) -> PyResult<(String, String, f64, f64, u64)> {
        let inner = &self.inner;
        guard(py, || inner.pool_rate(pool_id))
    }

    /// The L2 ladder of an order-book pool (`engine_rs.records.BookLadder`, `depth` levels
    /// a side), None for a pool that is not a book; UnknownPoolError.
    #[pyo3(
        signature = (pool_id, depth = crate::args::I64(20)),
        text_signature = "($self, pool_id, depth=20)"
    )]
    fn ladder<'py>(
        &self,
        py: Python<'py>,
        pool_id: &str,
        depth: crate::args::I64,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let inner = &self.inner;
        let got = guard(py, || {
            let d = usize::try_from(depth.0)
                .map_err(|_| EngineError::InvalidInput(format!("depth {} is negative", depth.0)))?;
            inner.ladder(pool_id, d)
        })?;
        match got {
            None => Ok(None),
            Some((l, a, b, slot)) => {
                crate::venues::ladder_record(py, &l, pool_id, (&a, &b), slot).map(Some)
            }
        }
    }

    /// Drop a pool and every indexed cycle through it (UnknownPoolError if absent).
    fn remove_pool(&mut self, py: Python<'_>, pool_id: &str) -> PyResult<()> {
        let inner = &mut self.inner;
        guard(py, || inner.remove_pool(pool_id))
    }

    /// A cycle with rate product > 1, or None (Bellman-Ford, early exit).
    fn find_negative_cycle(&mut self, py: Python<'_>) -> PyResult<Option<Cycle>> {
        let inner = &mut self.inner;
        let found = guard(py, || Ok(inner.find_negative_cycle()))?;
        Ok(found.map(|c| Cycle {
            tokens: c.tokens,
            pools: c.pools,
            rate_product: c.rate_product,
        }))
    }

    /// Every simple cycle of 2..max_hops hops through `base_mint`, sized and sorted.
    #[pyo3(signature = (base_mint, max_hops = None), text_signature = "($self, base_mint, max_hops=4)")]
    fn cycles(
        &self,
        py: Python<'_>,
        base_mint: &str,
        max_hops: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Opportunity>> {
        let hops = match max_hops {
            Some(h) => {
                let v = h.extract::<I32>()?.0;
                usize::try_from(v).unwrap_or(0)
            }
            None => 4,
        };
        let inner = &self.inner;
        let opps = py.detach(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                inner.cycles(base_mint, hops)
            }))
        });
        let opps = match opps {
            Ok(r) => r.map_err(|e| to_py(py, e))?,
            Err(_) => {
                return Err(crate::errors::raise(
                    py,
                    "InternalError",
                    "engine panicked in cycles".into(),
                ))
            }
        };
        Ok(opps.into_iter().map(Opportunity::from).collect())
    }

    /// The indexed cycles through `pool_id`, re-evaluated (updates persistence); with
    /// `only_live`, only those with a profit or sized without ticks they needed; with
    /// `piece` ``(start, length)``, only those at these positions of the pool's cycles in
    /// their canonical order (by base mint, then the pools' ids along them).
    #[pyo3(
        signature = (pool_id, max_hops = None, only_live = false, piece = None),
        text_signature = "($self, pool_id, max_hops=4, only_live=False, piece=None)"
    )]
    fn cycles_touching(
        &mut self,
        py: Python<'_>,
        pool_id: &str,
        max_hops: Option<&Bound<'_, PyAny>>,
        only_live: bool,
        piece: Option<(usize, usize)>,
    ) -> PyResult<Vec<Opportunity>> {
        let hops = match max_hops {
            Some(h) => hops_arg(py, h)?,
            None => 4,
        };
        let inner = &mut self.inner;
        let opps = guard(py, || {
            inner.cycles_touching_piece(pool_id, hops, only_live, piece)
        })?;
        Ok(opps.into_iter().map(Opportunity::from).collect())
    }

    /// How many indexed cycles use `pool_id` (of every length): the positions the
    /// pieces of `score_touching` count in.
    fn touching_count(&self, py: Python<'_>, pool_id: &str) -> PyResult<usize> {
        guard(py, || self.inner.touching_count(pool_id))
    }

    /// `cycles_touching(pool_id, max_hops, only_live=True)` with each cycle priced by
    /// `pricer`: ``(opportunity, score, hop limits, steps, accounts)`` per live cycle.
    /// `piece` ``(start, length)``: only the cycles at those positions of the pool's
    /// cycles in their canonical order (by base mint, then the pools' ids along them).
    #[pyo3(
        signature = (pool_id, pricer, max_hops = None, piece = None),
        text_signature = "($self, pool_id, pricer, max_hops=4, piece=None)"
    )]
    fn score_touching<'py>(
        &mut self,
        py: Python<'py>,
        pool_id: &str,
        pricer: PyRef<'py, crate::pricing::CyclePricer>,
        max_hops: Option<&Bound<'py, PyAny>>,
        piece: Option<(usize, usize)>,
    ) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        let hops = match max_hops {
            Some(h) => hops_arg(py, h)?,
            None => 4,
        };
        let inner = &mut self.inner;
        let p = &pricer.inner;
        let got = guard(py, || inner.score_touching_piece(pool_id, hops, p, piece))?;
        got.into_iter()
            .map(|(o, s, b)| {
                let opp = Bound::new(py, Opportunity::from(o))?.into_any();
                let score = Bound::new(py, crate::scorer::Score::from(s))?.into_any();
                let limits = PyTuple::new(py, b.hops)?.into_any();
                let steps = PyTuple::new(py, b.steps)?.into_any();
                let accounts = b.accounts.into_pyobject(py)?.into_any();
                PyTuple::new(py, [opp, score, limits, steps, accounts])
            })
            .collect()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Cycle>()?;
    m.add_class::<Opportunity>()?;
    m.add_class::<PoolGraph>()?;
    Ok(())
}

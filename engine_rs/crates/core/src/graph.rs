//! The pool graph: tokens are vertices, every pool is two directed edges weighted by
//! `-ln(spot rate after fee)` (precomputed on upsert so search loops never call `ln`).
//!
//! Determinism contract shared with the Python twin (`engine_rs/python/graph.py`):
//! pools live in slots (a new pool takes the most recently freed slot, else a new one);
//! edge `2s` is slot `s` a->b and `2s+1` is b->a; each token's out/in edges stay sorted
//! by edge id; tokens get dense indices in order of first appearance.
//!
//! The incremental index holds every simple cycle of 2..`max_hops` hops through each
//! base mint (one entry per base it passes, starting there) and a map pool -> cycles.
//! A state-only upsert leaves it alone; a new pool enumerates only the cycles through
//! it (paths grown from the pool's two ends, so a hub base is never expanded); a
//! removed pool drops its cycles.

use std::collections::{HashMap, HashSet};

use crate::amm::ConstantProduct;
use crate::decode::{Key, TransferFee};
use crate::error::{EngineError, Result};
use crate::sizing::{optimal_input, Leg};
use crate::venues::orca_whirlpool::swap::ClmmPool;
use crate::venues::orca_whirlpool::WhirlpoolState;
use crate::venues::{NoQuote, PoolState};

/// A relaxation must improve a distance by more than float noise.
const EPS: f64 = 1e-12;
/// The longest cycle `cycles` and the index accept.
pub const MAX_HOPS_LIMIT: usize = 5;
const NONE: u32 = u32::MAX;
/// Warm starts reuse the last converged distances; potentials only ever fall, so start
/// from zero again every this many calls to keep them small.
const WARM_RESET: u32 = 64;
/// After a cycle, the distances are settled with it masked (and with at most this many
/// cycles masked in all) to be the next call's start; past it the next call is cold.
const MAX_MASKED: usize = 8;
/// The weight of an edge through a refused mint: never part of a negative cycle.
const REFUSED_WEIGHT: f64 = 1e9;
/// A refused mint's leg fee: no mint can hold it, so the leg quotes nothing and its
/// spot rate is 0 (sizing never picks it).
const REFUSED_FEE: TransferFee = (0, 0, u16::MAX);
/// Agave's `MINIMUM_SLOTS_PER_EPOCH` (the warmup's first epoch).
const MINIMUM_SLOTS_PER_EPOCH: u64 = 32;

/// A cluster's epoch schedule (`getEpochSchedule`): the epoch of a slot as Agave's
/// `EpochSchedule::get_epoch` computes it. Default: mainnet's (432,000 slots, no warmup).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochSchedule {
    pub slots_per_epoch: u64,
    pub warmup: bool,
    pub first_normal_epoch: u64,
    pub first_normal_slot: u64,
}

impl Default for EpochSchedule {
    fn default() -> Self {
        Self {
            slots_per_epoch: 432_000,
            warmup: false,
            first_normal_epoch: 0,
            first_normal_slot: 0,
        }
    }
}

impl EpochSchedule {
    /// The epoch of `slot` (Agave's `get_epoch_and_slot_index`): before the first normal
    /// slot the warmup epochs double from 32 slots; from it on, fixed.
    pub fn epoch(&self, slot: u64) -> u64 {
        if slot < self.first_normal_slot {
            let len = (slot + MINIMUM_SLOTS_PER_EPOCH + 1)
                .checked_next_power_of_two()
                .unwrap_or(1 << 63);
            u64::from(len.trailing_zeros())
                - u64::from(MINIMUM_SLOTS_PER_EPOCH.trailing_zeros())
                - 1
        } else {
            let normal = slot.saturating_sub(self.first_normal_slot);
            self.first_normal_epoch + normal / self.slots_per_epoch.max(1)
        }
    }
}

/// A Token-2022 mint as the graph prices it: its transfer-fee config and the extensions
/// that make it refused.
#[derive(Debug, Clone, Default)]
struct MintRules {
    fee: Option<(TransferFee, TransferFee)>,
    refused: Vec<String>,
}

#[derive(Debug, Clone)]
struct Pool {
    id: String,
    a: u32,
    b: u32,
    state: PoolState,
    slot: u64,
    rate: [f64; 2],
}

#[derive(Debug, Clone)]
struct IndexedCycle {
    base: u32,
    edges: Vec<u32>,
    persistence: u64,
}

/// A cycle from [`PoolGraph::find_negative_cycle`] (closed token path).
#[derive(Debug, Clone, PartialEq)]
pub struct Cycle {
    pub tokens: Vec<String>,
    pub pools: Vec<String>,
    pub rate_product: f64,
}

/// A sized cycle through a base mint (fields as `engine_rs.records.Opportunity`).
#[derive(Debug, Clone, PartialEq)]
pub struct Opportunity {
    pub base_mint: String,
    pub tokens: Vec<String>,
    pub pools: Vec<String>,
    pub kinds: Vec<&'static str>,
    pub hops: usize,
    pub spot_rate: f64,
    pub amount_in: u64,
    pub amount_out: u64,
    pub profit: i128,
    pub profit_bps: f64,
    pub hop_amounts: Vec<u64>,
    pub oldest_slot: u64,
    pub staleness_slots: u64,
    pub persistence: u64,
    /// Sizing needed a Whirlpool's ticks its state does not hold (the arrays around a
    /// moved price not received yet): the size is not to be trusted.
    pub ticks_missing: bool,
    /// The steps each hop crosses at `amount_in` in its venue's compute-unit model
    /// ([`crate::venues::Venue::quote_steps`]: what the curve crosses; a Token-2022
    /// surcharge is the caller's); all 0 when no size makes money.
    pub hop_steps: Vec<u32>,
}

/// The base58 alphabet as a byte table (one load per character on every upsert).
const BASE58: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l');
        c += 1;
    }
    t
};

fn is_base58(s: &str) -> bool {
    !s.is_empty() && s.len() <= 44 && s.bytes().all(|c| BASE58[usize::from(c)])
}

fn check_id(s: &str, what: &str) -> Result<()> {
    if is_base58(s) {
        Ok(())
    } else {
        Err(EngineError::InvalidInput(format!(
            "{what} {s:?} is not a base58 address (1-44 chars)"
        )))
    }
}

/// The id checks every upsert makes first (base58 ids, two different mints).
pub fn check_pool_ids(pool_id: &str, mint_a: &str, mint_b: &str) -> Result<()> {
    check_id(pool_id, "pool_id")?;
    check_id(mint_a, "mint_a")?;
    check_id(mint_b, "mint_b")?;
    if mint_a == mint_b {
        return Err(EngineError::InvalidInput(format!(
            "pool {pool_id}: mint_a == mint_b"
        )));
    }
    Ok(())
}

/// `max_hops` must be in 2..=5.
/// A path quote's missing number: `Ok` (no amounts) when a hop cannot fill,
/// `TicksMissing` when one would step past the ticks its state holds.
fn no_quote(e: NoQuote, pools: &[String], token_in: &str, amount_in: u64) -> Result<()> {
    match e {
        NoQuote::Unfillable => Ok(()),
        NoQuote::TicksMissing => Err(EngineError::TicksMissing(format!(
            "{amount_in} of {token_in} through {} steps past the tick arrays held",
            pools.join(" -> ")
        ))),
    }
}

pub fn check_hops(max_hops: usize) -> Result<usize> {
    if (2..=MAX_HOPS_LIMIT).contains(&max_hops) {
        Ok(max_hops)
    } else {
        Err(EngineError::InvalidInput(format!(
            "max_hops must be in 2..{MAX_HOPS_LIMIT}, got {max_hops}"
        )))
    }
}

fn check_rates(rates: [f64; 2]) -> Result<[f64; 2]> {
    for r in rates {
        if !(r.is_finite() && r > 0.0) {
            return Err(EngineError::InvalidInput(format!(
                "pool spot rate {r} is not a positive finite number"
            )));
        }
    }
    Ok(rates)
}

fn insert_sorted(v: &mut Vec<u32>, x: u32) {
    let at = v.partition_point(|&y| y < x);
    v.insert(at, x);
}

fn remove_sorted(v: &mut Vec<u32>, x: u32) {
    if let Ok(at) = v.binary_search(&x) {
        v.remove(at);
    }
}

/// One out-edge in the search's CSR copy of the adjacency: weight, head, edge id.
#[derive(Debug, Clone, Copy)]
struct Arc {
    w: f64,
    to: u32,
    edge: u32,
}

/// Pools as edges between mints, with cycle search, sizing and an incremental index.
#[derive(Debug, Default)]
pub struct PoolGraph {
    max_hops: usize,
    token_ix: HashMap<String, u32>,
    tokens: Vec<String>,
    token_pools: Vec<u32>,
    out: Vec<Vec<u32>>,
    inc: Vec<Vec<u32>>,
    pool_ix: HashMap<String, u32>,
    pools: Vec<Option<Pool>>,
    free: Vec<u32>,
    to: Vec<u32>,
    weight: Vec<f64>,
    slot: u64,
    base_names: Vec<String>,
    cycles: Vec<Option<IndexedCycle>>,
    free_cycles: Vec<u32>,
    cycle_by_key: HashMap<(u32, Vec<u32>), u32>,
    pool_cycles: Vec<Vec<u32>>,
    // Bellman-Ford scratch, reused across calls: a CSR copy of the adjacency (rebuilt
    // when the topology changes; weights patched in place on state-only upserts), the
    // tokens with out-edges, distances, predecessor edges, a pass's token bitsets and
    // the walk stamps of the cycle check
    csr_dirty: bool,
    csr_start: Vec<u32>,
    csr: Vec<Arc>,
    edge_pos: Vec<u32>,
    has_out: Vec<u64>,
    dist: Vec<f64>,
    warm: bool,
    warm_calls: u32,
    pred: Vec<u32>,
    active: Vec<u64>,
    changed: Vec<u64>,
    seen: Vec<u64>,
    stamp: u64,
    // the cycles remembered since the last cold start: (a token on it, its edges in order)
    masks: Vec<(u32, Vec<u32>)>,
    // Token-2022 mints with a transfer fee or a refused extension, by token index
    mints: HashMap<u32, MintRules>,
    /// each mint told (`set_mint`) and the program that owns it
    mint_owners: HashMap<u32, Key>,
    epochs: EpochSchedule,
    epoch: u64,
}

impl PoolGraph {
    /// An empty graph indexing cycles of up to `max_hops` (2..=5) through `base_mints`.
    pub fn new(base_mints: &[String], max_hops: usize) -> Result<Self> {
        let mut g = Self {
            max_hops: check_hops(max_hops)?,
            ..Self::default()
        };
        for m in base_mints {
            g.add_base_mint(m)?;
        }
        Ok(g)
    }

    pub fn len(&self) -> usize {
        self.pool_ix.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pool_ix.is_empty()
    }

    pub fn slot(&self) -> u64 {
        self.slot
    }

    pub fn max_hops(&self) -> usize {
        self.max_hops
    }

    /// Tell the graph the chain's current slot (never goes back). Upserts carry their
    /// pool's slot and never move the chain's: one update cannot make the others stale.
    pub fn set_slot(&mut self, slot: u64) {
        self.slot = self.slot.max(slot);
        let epoch = self.epochs.epoch(self.slot);
        if epoch != self.epoch {
            self.epoch = epoch;
            // a newer transfer fee may take over: the fee mints' edges are weighed again
            let tokens: Vec<u32> = self.mints.keys().copied().collect();
            for t in tokens {
                self.reweigh_token(t);
            }
        }
    }

    /// The epoch of the graph's slot under its epoch schedule.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The cluster's epoch schedule (what `getEpochSchedule` answers).
    pub fn set_epoch_schedule(&mut self, schedule: EpochSchedule) -> Result<()> {
        if schedule.slots_per_epoch < MINIMUM_SLOTS_PER_EPOCH {
            return Err(EngineError::InvalidInput(format!(
                "slots_per_epoch {} is below {MINIMUM_SLOTS_PER_EPOCH}",
                schedule.slots_per_epoch
            )));
        }
        self.epochs = schedule;
        self.epoch = u64::MAX; // recomputed (and the fee edges weighed again) now
        let slot = self.slot;
        self.set_slot(slot);
        Ok(())
    }

    /// A mint account (`owner`: SPL Token or Token-2022): its transfer fee counts in
    /// every quote through its pools from now on, and a mint with a refused extension
    /// (`token2022::refused_extensions`) makes them unquotable. The refused extensions'
    /// names (empty: tradable). Errors as `decode_mint`.
    pub fn set_mint(&mut self, mint: &str, data: &[u8], owner: &Key) -> Result<Vec<String>> {
        check_id(mint, "mint")?;
        let (fee, refused) = crate::token2022::mint_rules(data, Some(owner))?;
        let t = self.token(mint);
        self.mint_owners.insert(t, *owner);
        if fee.is_none() && refused.is_empty() {
            if self.mints.remove(&t).is_some() {
                self.reweigh_token(t);
            }
        } else {
            self.mints.insert(
                t,
                MintRules {
                    fee,
                    refused: refused.clone(),
                },
            );
            self.reweigh_token(t);
        }
        Ok(refused)
    }

    /// A mint's transfer-fee config `(older, newer)`, None without one.
    pub fn mint_fee(&self, mint: &str) -> Option<(TransferFee, TransferFee)> {
        let t = self.token_ix.get(mint)?;
        self.mints.get(t).and_then(|r| r.fee)
    }

    /// The program that owns a mint the graph was told (`set_mint`), None for one it
    /// was not (an SPL Token mint the feed does not follow).
    pub fn mint_program(&self, mint: &str) -> Option<String> {
        let t = self.token_ix.get(mint)?;
        self.mint_owners.get(t).map(|k| crate::b58::encode(k))
    }

    /// The refused extensions of a mint (empty: tradable or unknown).
    pub fn refusal(&self, mint: &str) -> Vec<String> {
        self.token_ix
            .get(mint)
            .and_then(|t| self.mints.get(t))
            .map(|r| r.refused.clone())
            .unwrap_or_default()
    }

    /// The transfer fee of token `t` in force now (a refused mint's: [`REFUSED_FEE`]).
    #[inline]
    fn fee_now(&self, t: u32) -> Option<TransferFee> {
        let rules = self.mints.get(&t)?;
        if !rules.refused.is_empty() {
            return Some(REFUSED_FEE);
        }
        crate::token2022::epoch_fee(&rules.fee?, self.epoch).ok()
    }

    #[inline]
    fn is_refused(&self, t: u32) -> bool {
        self.mints.get(&t).is_some_and(|r| !r.refused.is_empty())
    }

    /// Edge weights of a pool from its spot rates, the mints' transfer fees and refusals.
    fn weights(&self, a: u32, b: u32, rate: [f64; 2]) -> [f64; 2] {
        if self.mints.is_empty() {
            return [-rate[0].ln(), -rate[1].ln()];
        }
        if self.is_refused(a) || self.is_refused(b) {
            return [REFUSED_WEIGHT, REFUSED_WEIGHT];
        }
        let factor = |t: u32| {
            self.fee_now(t)
                .map_or(1.0, |f| 1.0 - f64::from(f.2.min(10_000)) / 10_000.0)
        };
        let k = factor(a) * factor(b);
        // a 100 % transfer fee: nothing ever arrives (the edge is as good as refused)
        let w = |r: f64| {
            if r * k > 0.0 {
                -(r * k).ln()
            } else {
                REFUSED_WEIGHT
            }
        };
        [w(rate[0]), w(rate[1])]
    }

    /// Weigh the edges of every pool of token `t` again (its mint's rules changed).
    fn reweigh_token(&mut self, t: u32) {
        let Some(out) = self.out.get(t as usize) else {
            return;
        };
        let slots: Vec<u32> = out.iter().map(|e| e >> 1).collect();
        for s in slots {
            let Some(p) = self.pools[s as usize].as_ref() else {
                continue;
            };
            let w = self.weights(p.a, p.b, p.rate);
            let su = s as usize;
            self.weight[2 * su] = w[0];
            self.weight[2 * su + 1] = w[1];
            if !self.csr_dirty {
                for e in [2 * su, 2 * su + 1] {
                    if let Some(&at) = self.edge_pos.get(e) {
                        if let Some(arc) = self.csr.get_mut(at as usize) {
                            arc.w = self.weight[e];
                        }
                    }
                }
            }
        }
        self.warm = false; // the distances were settled under other weights
    }

    /// Mints with at least one pool, sorted.
    pub fn tokens(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .tokens
            .iter()
            .zip(&self.token_pools)
            .filter(|(_, &n)| n > 0)
            .map(|(t, _)| t.clone())
            .collect();
        v.sort();
        v
    }

    /// Pool ids, sorted.
    pub fn pools(&self) -> Vec<String> {
        let mut v: Vec<String> = self.pool_ix.keys().cloned().collect();
        v.sort();
        v
    }

    /// The indexed base mints in the order they were added.
    pub fn base_mints(&self) -> Vec<String> {
        self.base_names.clone()
    }

    /// How many cycles the incremental index holds.
    pub fn indexed_cycle_count(&self) -> usize {
        self.cycle_by_key.len()
    }

    fn token(&mut self, mint: &str) -> u32 {
        if let Some(&ix) = self.token_ix.get(mint) {
            return ix;
        }
        let ix = self.tokens.len() as u32;
        self.token_ix.insert(mint.to_string(), ix);
        self.tokens.push(mint.to_string());
        self.token_pools.push(0);
        self.out.push(Vec::new());
        self.inc.push(Vec::new());
        ix
    }

    fn bases(&self) -> Vec<u32> {
        self.base_names
            .iter()
            .filter_map(|m| self.token_ix.get(m).copied())
            .collect()
    }

    /// Index every cycle through `mint`; a no-op if it is already a base.
    pub fn add_base_mint(&mut self, mint: &str) -> Result<()> {
        check_id(mint, "base mint")?;
        if self.base_names.iter().any(|m| m == mint) {
            return Ok(());
        }
        self.base_names.push(mint.to_string());
        if let Some(&b) = self.token_ix.get(mint) {
            for edges in self.enumerate(b, self.max_hops) {
                self.index_add(b, edges);
            }
        }
        Ok(())
    }

    /// Insert or update a constant-product pool (Raydium's rounding: CP-Swap's curve,
    /// which AMM v4 shares; it reports graph kind `cpmm`). On error the graph is
    /// unchanged.
    #[allow(clippy::too_many_arguments)]
    pub fn upsert_cpmm(
        &mut self,
        pool_id: &str,
        mint_a: &str,
        mint_b: &str,
        reserve_a: u64,
        reserve_b: u64,
        fee_num: u64,
        fee_den: u64,
        slot: u64,
    ) -> Result<()> {
        check_pool_ids(pool_id, mint_a, mint_b)?;
        let state = ConstantProduct::checked(pool_id, reserve_a, reserve_b, fee_num, fee_den)?;
        self.upsert_state_ids_checked(pool_id, mint_a, mint_b, PoolState::RaydiumCpmm(state), slot)
    }

    /// Insert or update a Whirlpool (pool already validated by [`ClmmPool::new`]).
    pub fn upsert_clmm(
        &mut self,
        pool_id: &str,
        mint_a: &str,
        mint_b: &str,
        pool: ClmmPool,
        slot: u64,
    ) -> Result<()> {
        check_pool_ids(pool_id, mint_a, mint_b)?;
        self.upsert_state_ids_checked(
            pool_id,
            mint_a,
            mint_b,
            PoolState::OrcaWhirlpool(WhirlpoolState { pool, held: None }),
            slot,
        )
    }

    /// Insert or update a pool of any venue by its quote state (what the feed ingest
    /// assembles). On error the graph is unchanged.
    pub fn upsert_state(
        &mut self,
        pool_id: &str,
        mint_a: &str,
        mint_b: &str,
        state: PoolState,
        slot: u64,
    ) -> Result<()> {
        check_pool_ids(pool_id, mint_a, mint_b)?;
        self.upsert_state_ids_checked(pool_id, mint_a, mint_b, state, slot)
    }

    /// [`Self::upsert_state`] for ids that passed [`check_pool_ids`] (the feed ingest checks
    /// its pool ids once, not on every update).
    pub fn upsert_state_ids_checked(
        &mut self,
        pool_id: &str,
        mint_a: &str,
        mint_b: &str,
        state: PoolState,
        slot: u64,
    ) -> Result<()> {
        let rates = check_rates([state.spot_rate(true), state.spot_rate(false)])?;
        self.upsert(pool_id, mint_a, mint_b, state, slot, rates);
        Ok(())
    }

    fn upsert(
        &mut self,
        pool_id: &str,
        mint_a: &str,
        mint_b: &str,
        state: PoolState,
        slot: u64,
        rate: [f64; 2],
    ) {
        if let Some(&s) = self.pool_ix.get(pool_id) {
            let su = s as usize;
            let same = self.pools[su].as_ref().is_some_and(|p| {
                self.tokens[p.a as usize] == mint_a && self.tokens[p.b as usize] == mint_b
            });
            if same {
                let (a, b) = (self.token_ix[mint_a], self.token_ix[mint_b]);
                let weights = self.weights(a, b, rate);
                if let Some(p) = self.pools[su].as_mut() {
                    p.state = state;
                    p.slot = slot;
                    p.rate = rate;
                }
                self.weight[2 * su] = weights[0];
                self.weight[2 * su + 1] = weights[1];
                if !self.csr_dirty {
                    for e in [2 * su, 2 * su + 1] {
                        if let Some(&at) = self.edge_pos.get(e) {
                            if let Some(arc) = self.csr.get_mut(at as usize) {
                                arc.w = self.weight[e];
                            }
                        }
                    }
                }
                return;
            }
            // new mints: a different edge pair
            let _ = self.remove_pool(pool_id);
        }
        let a = self.token(mint_a);
        let b = self.token(mint_b);
        let weights = self.weights(a, b, rate);
        let pool = Pool {
            id: pool_id.to_string(),
            a,
            b,
            state,
            slot,
            rate,
        };
        let s = match self.free.pop() {
            Some(s) => {
                self.pools[s as usize] = Some(pool);
                s
            }
            None => {
                self.pools.push(Some(pool));
                self.to.extend([0, 0]);
                self.weight.extend([0.0, 0.0]);
                self.pool_cycles.push(Vec::new());
                (self.pools.len() - 1) as u32
            }
        };
        let su = s as usize;
        self.to[2 * su] = b;
        self.to[2 * su + 1] = a;
        self.weight[2 * su] = weights[0];
        self.weight[2 * su + 1] = weights[1];
        self.pool_ix.insert(pool_id.to_string(), s);
        insert_sorted(&mut self.out[a as usize], 2 * s);
        insert_sorted(&mut self.inc[b as usize], 2 * s);
        insert_sorted(&mut self.out[b as usize], 2 * s + 1);
        insert_sorted(&mut self.inc[a as usize], 2 * s + 1);
        self.token_pools[a as usize] += 1;
        self.token_pools[b as usize] += 1;
        self.csr_dirty = true;
        self.index_new_pool(s);
    }

    /// A pool in the graph by id: its slot and state (UnknownPool otherwise).
    fn live_pool(&self, pool_id: &str) -> Result<(u32, &Pool)> {
        self.pool_ix
            .get(pool_id)
            .and_then(|&s| self.pools[s as usize].as_ref().map(|p| (s, p)))
            .ok_or_else(|| EngineError::UnknownPool(pool_id.to_string()))
    }

    /// The amounts through `pools` in order for `amount_in` of `token_in` (exact
    /// curves, the current states): `[amount_in, out_1, ..., out_n]`, or empty when a
    /// hop cannot fill. Errors: an unknown pool, a pool that does not trade the token
    /// the path holds at that hop, or `TicksMissing` when a Whirlpool hop would step
    /// past the tick arrays its state holds (no number is honest then).
    pub fn quote(&self, pools: &[String], token_in: &str, amount_in: u64) -> Result<Vec<u64>> {
        let edges = self.path(pools, token_in)?;
        match crate::sizing::simulate(&self.legs(&edges), amount_in) {
            Ok(amounts) => Ok(amounts),
            Err(e) => no_quote(e, pools, token_in, amount_in).map(|()| Vec::new()),
        }
    }

    /// [`PoolGraph::quote`] with the steps each hop crosses in its venue's compute-unit
    /// model ([`crate::venues::Venue::quote_steps`], counted by the same walk):
    /// `(amounts, steps)`, both empty when a hop cannot fill; the same errors.
    pub fn quote_steps(
        &self,
        pools: &[String],
        token_in: &str,
        amount_in: u64,
    ) -> Result<(Vec<u64>, Vec<u32>)> {
        let edges = self.path(pools, token_in)?;
        match crate::sizing::simulate_steps(&self.legs(&edges), amount_in) {
            Ok(r) => Ok(r),
            Err(e) => no_quote(e, pools, token_in, amount_in).map(|()| (Vec::new(), Vec::new())),
        }
    }

    /// The edges of the path through `pools` from `token_in` (the checks of
    /// [`PoolGraph::quote`]).
    fn path(&self, pools: &[String], token_in: &str) -> Result<Vec<u32>> {
        let mut cur = *self
            .token_ix
            .get(token_in)
            .ok_or_else(|| EngineError::UnknownToken(token_in.to_string()))?;
        let mut edges = Vec::with_capacity(pools.len());
        for id in pools {
            let (s, p) = self.live_pool(id)?;
            for t in [p.a, p.b] {
                if self.is_refused(t) {
                    let mint = &self.tokens[t as usize];
                    return Err(EngineError::InvalidInput(format!(
                        "pool {id} trades mint {mint}, refused for its extension(s): {}",
                        self.mints
                            .get(&t)
                            .map(|r| r.refused.join(", "))
                            .unwrap_or_default()
                    )));
                }
            }
            if p.a == cur {
                edges.push(2 * s);
                cur = p.b;
            } else if p.b == cur {
                edges.push(2 * s + 1);
                cur = p.a;
            } else {
                return Err(EngineError::InvalidInput(format!(
                    "pool {id} does not trade {}",
                    self.tokens[cur as usize]
                )));
            }
        }
        Ok(edges)
    }

    /// A pool's mints, spot rates after fees (`a -> b`, `b -> a`) and the slot of its
    /// state: what the price panel reads (mid price of `a` in `b` = sqrt(ab / ba)).
    pub fn pool_rate(&self, pool_id: &str) -> Result<(String, String, f64, f64, u64)> {
        let (_, p) = self.live_pool(pool_id)?;
        Ok((
            self.tokens[p.a as usize].clone(),
            self.tokens[p.b as usize].clone(),
            p.rate[0],
            p.rate[1],
            p.slot,
        ))
    }

    /// The L2 ladder of an order-book pool with its mints and the slot of its state
    /// (`None` for a pool that is not a book).
    pub fn ladder(
        &self,
        pool_id: &str,
        depth: usize,
    ) -> Result<Option<(crate::venues::Ladder, String, String, u64)>> {
        let (_, p) = self.live_pool(pool_id)?;
        Ok(p.state.ladder(depth).map(|l| {
            (
                l,
                self.tokens[p.a as usize].clone(),
                self.tokens[p.b as usize].clone(),
                p.slot,
            )
        }))
    }

    /// Drop a pool and every indexed cycle through it.
    pub fn remove_pool(&mut self, pool_id: &str) -> Result<()> {
        let s = self
            .pool_ix
            .remove(pool_id)
            .ok_or_else(|| EngineError::UnknownPool(pool_id.to_string()))?;
        let su = s as usize;
        let (a, b) = match self.pools[su].as_ref() {
            Some(p) => (p.a, p.b),
            None => return Err(EngineError::UnknownPool(pool_id.to_string())),
        };
        remove_sorted(&mut self.out[a as usize], 2 * s);
        remove_sorted(&mut self.inc[b as usize], 2 * s);
        remove_sorted(&mut self.out[b as usize], 2 * s + 1);
        remove_sorted(&mut self.inc[a as usize], 2 * s + 1);
        self.token_pools[a as usize] -= 1;
        self.token_pools[b as usize] -= 1;
        let ids = std::mem::take(&mut self.pool_cycles[su]);
        for id in ids {
            self.index_drop(id);
        }
        self.pools[su] = None;
        self.free.push(s);
        self.csr_dirty = true;
        Ok(())
    }

    #[inline]
    fn pool_of(&self, e: u32) -> &Pool {
        // edges are only ever taken from live adjacency lists
        match &self.pools[(e >> 1) as usize] {
            Some(p) => p,
            None => unreachable!("edge of a removed pool"),
        }
    }

    #[inline]
    fn head(&self, e: u32) -> u32 {
        self.to[e as usize]
    }

    #[inline]
    fn tail(&self, e: u32) -> u32 {
        self.to[(e ^ 1) as usize]
    }

    /// The search's copy of the adjacency: each token's out-edges (sorted by edge id) in
    /// one array, and which tokens have any.
    fn rebuild_csr(&mut self) {
        let n = self.tokens.len();
        self.csr_start.clear();
        self.csr.clear();
        self.edge_pos.clear();
        self.edge_pos.resize(self.to.len(), u32::MAX);
        self.has_out.clear();
        self.has_out.resize(n.div_ceil(64), 0);
        for u in 0..n {
            self.csr_start.push(self.csr.len() as u32);
            if !self.out[u].is_empty() {
                self.has_out[u >> 6] |= 1 << (u & 63);
            }
            for &e in &self.out[u] {
                self.edge_pos[e as usize] = self.csr.len() as u32;
                self.csr.push(Arc {
                    w: self.weight[e as usize],
                    to: self.to[e as usize],
                    edge: e,
                });
            }
        }
        self.csr_start.push(self.csr.len() as u32);
        self.csr_dirty = false;
    }

    /// A cycle whose product of spot rates after fees is > 1, or `None`.
    ///
    /// Bellman-Ford from a virtual source on `-ln(rate)`, relaxing only the out-edges of
    /// tokens whose distance changed in the previous pass (in token order), stopping when
    /// a pass changes nothing; after each pass the predecessor graph is walked for a
    /// cycle (from the tokens that changed, in order), returned only if its rate
    /// product, recomputed from the rates, is > 1.
    ///
    /// Warm start: the last call's distances are the start (a virtual source with those
    /// weights: same guarantee, far fewer passes); every 64th call, and on a new token,
    /// it starts from zero. A market that keeps an arbitrage would make every warm start
    /// useless (the cycle drags the distances down without end), so a call that finds a
    /// cycle settles the distances with it masked, and remembers it (see `settle`). The
    /// next call searches with the remembered cycles masked: a cycle found there is
    /// reported (and remembered too); if none, the first remembered cycle whose product
    /// is still > 1 is reported; if none is, the search goes on with nothing masked and
    /// they are forgotten. A cycle is reported exactly when one exists, whatever the start.
    pub fn find_negative_cycle(&mut self) -> Option<Cycle> {
        let n = self.tokens.len();
        if n == 0 {
            return None;
        }
        if self.csr_dirty || self.csr_start.len() != n + 1 {
            self.rebuild_csr();
            self.masks.clear(); // edge ids may name other pools now
        }
        if self.warm && self.dist.len() == n && self.warm_calls < WARM_RESET {
            // the last settled potentials: same answer, far fewer passes
            self.warm_calls += 1;
        } else {
            self.dist.clear();
            self.dist.resize(n, 0.0);
            self.warm_calls = 0;
            self.masks.clear();
        }
        self.warm = false;
        self.set_masked(true);
        if let Some((c, x)) = self.relax() {
            return Some(self.remember(c, x));
        }
        self.set_masked(false);
        self.warm = true;
        if self.masks.is_empty() {
            return None;
        }
        for (x, edges) in &self.masks {
            if let Some(c) = cycle_from_edges(&self.pools, &self.tokens, &self.to, *x, edges) {
                return Some(c);
            }
        }
        // no remembered cycle holds: search on with nothing masked
        self.masks.clear();
        self.warm = false;
        if let Some((c, x)) = self.relax() {
            return Some(self.remember(c, x));
        }
        self.warm = true;
        None
    }

    /// Every remembered cycle's arcs weigh +inf in the CSR (`on`), or their own again.
    fn set_masked(&mut self, on: bool) {
        for (_, edges) in &self.masks {
            for &e in edges {
                let w = if on {
                    f64::INFINITY
                } else {
                    self.weight[e as usize]
                };
                self.csr[self.edge_pos[e as usize] as usize].w = w;
            }
        }
    }

    /// The found cycle `c` (through `x` in `pred`) remembered, the distances settled
    /// with it masked; the masks lifted.
    fn remember(&mut self, c: Cycle, x: u32) -> Cycle {
        let last = self.changed.clone();
        self.mask_pred_cycle(x);
        self.warm = self.settle(last);
        self.set_masked(false);
        c
    }

    /// The passes from the tokens with out-edges (all, in pass 1) until one changes
    /// nothing (`None`: `dist` converged) or the predecessor walk closes a cycle whose
    /// product is > 1 (that cycle and a token on it; `changed` holds its pass's tokens).
    fn relax(&mut self) -> Option<(Cycle, u32)> {
        let n = self.tokens.len();
        self.pred.clear();
        self.pred.resize(n, NONE);
        if self.seen.len() < n {
            self.seen.resize(n, 0);
        }
        let Self {
            pools,
            tokens,
            to,
            csr_start,
            csr,
            has_out,
            dist,
            pred,
            active,
            changed,
            seen,
            stamp,
            ..
        } = self;
        // a pass's token sets as bitsets: iterating one visits its tokens in order, as
        // the sorted lists of the twin do
        active.clear();
        active.extend_from_slice(has_out);
        changed.clear();
        changed.resize(active.len(), 0);
        // slices: the loops keep their pointers in registers
        let (csr_start, csr, to) = (&csr_start[..], &csr[..], &to[..]);
        let (dist, pred, seen) = (&mut dist[..], &mut pred[..], &mut seen[..]);
        for _ in 0..=n {
            if !relax_pass(csr_start, csr, dist, pred, active, changed) {
                return None;
            }
            let mut walk = PredWalk::new(stamp);
            for start in set_bits(changed) {
                if let Some(x) = walk.closes(start as u32, to, pred, seen) {
                    if let Some(c) = cycle_from_pred(pools, tokens, to, pred, x) {
                        return Some((c, x));
                    }
                }
            }
            std::mem::swap(active, changed);
            changed.fill(0);
        }
        None
    }

    /// Settle the distances after a cycle was found and masked, `active` its search's
    /// last pass's changed tokens (a bitset: the only ones whose out-edges were not
    /// relaxed since their distance fell): forget the predecessors and relax with the
    /// masked arcs at +inf until a pass changes nothing. Each cycle the predecessor walk
    /// finds meanwhile is masked and remembered too (at most [`MAX_MASKED`] in all,
    /// within `n + 1` passes). True when settled: no unmasked edge is then violated.
    fn settle(&mut self, mut active: Vec<u64>) -> bool {
        let n = self.tokens.len();
        self.pred.fill(NONE);
        self.changed.clear();
        self.changed.resize(active.len(), 0);
        for _ in 0..=n {
            let found = {
                let Self {
                    to,
                    csr_start,
                    csr,
                    dist,
                    pred,
                    changed,
                    seen,
                    stamp,
                    ..
                } = &mut *self;
                if !relax_pass(csr_start, csr, dist, pred, &active, changed) {
                    return true;
                }
                let mut walk = PredWalk::new(stamp);
                set_bits(changed).find_map(|start| walk.closes(start as u32, to, pred, seen))
            };
            if let Some(y) = found {
                if self.masks.len() >= MAX_MASKED {
                    return false;
                }
                self.mask_pred_cycle(y);
            }
            std::mem::swap(&mut active, &mut self.changed);
            self.changed.fill(0);
        }
        false
    }

    /// Remember the cycle the predecessor edges close through `x` and mask it: its arcs
    /// weigh +inf in the CSR, its tokens forget their predecessors (a later walk does
    /// not find it again).
    fn mask_pred_cycle(&mut self, x: u32) {
        let mut edges = Vec::with_capacity(8);
        let mut v = x;
        while self.pred[v as usize] != NONE {
            let e = self.pred[v as usize];
            self.pred[v as usize] = NONE;
            edges.push(e);
            self.csr[self.edge_pos[e as usize] as usize].w = f64::INFINITY;
            v = self.to[(e ^ 1) as usize];
            if v == x {
                break;
            }
        }
        edges.reverse(); // in the cycle's order from `x`
        self.masks.push((x, edges));
    }

    /// Every simple cycle through `b` of 2..=max_hops hops, in DFS order over sorted edges.
    fn enumerate(&self, b: u32, max_hops: usize) -> Vec<Vec<u32>> {
        let mut found = Vec::new();
        let mut path = Vec::with_capacity(max_hops);
        let mut on_path = vec![false; self.tokens.len()];
        on_path[b as usize] = true;
        self.enumerate_dfs(b, b, max_hops, &mut path, &mut on_path, &mut found);
        found
    }

    fn enumerate_dfs(
        &self,
        b: u32,
        u: u32,
        max_hops: usize,
        path: &mut Vec<u32>,
        on_path: &mut [bool],
        found: &mut Vec<Vec<u32>>,
    ) {
        for &e in &self.out[u as usize] {
            let v = self.head(e);
            if v == b {
                if !path.is_empty() && (path.len() >= 2 || (path[0] >> 1) != (e >> 1)) {
                    let mut c = path.clone();
                    c.push(e);
                    found.push(c);
                }
                continue;
            }
            if on_path[v as usize] || path.len() + 2 > max_hops {
                continue;
            }
            on_path[v as usize] = true;
            path.push(e);
            self.enumerate_dfs(b, v, max_hops, path, on_path, found);
            path.pop();
            on_path[v as usize] = false;
        }
    }

    fn index_new_pool(&mut self, s: u32) {
        let (a, b_tok) = match self.pools[s as usize].as_ref() {
            Some(p) => (p.a, p.b),
            None => return,
        };
        for base in self.bases() {
            for (e, u, v) in [(2 * s, a, b_tok), (2 * s + 1, b_tok, a)] {
                for edges in self.cycles_through_edge(base, e, u, v) {
                    self.index_add(base, edges);
                }
            }
        }
    }

    /// Simple cycles through base `b` of 2..=max_hops hops using edge `e` (u -> v).
    fn cycles_through_edge(&self, b: u32, e: u32, u: u32, v: u32) -> Vec<Vec<u32>> {
        let h = self.max_hops;
        let mut found = Vec::new();
        let suffixes = if v == b {
            vec![Vec::new()]
        } else {
            let avoid: Vec<u32> = if u != b { vec![u] } else { Vec::new() };
            self.simple_paths(v, b, h - 1, &avoid, true)
        };
        for suffix in suffixes {
            let budget = h - 1 - suffix.len();
            let prefixes = if u == b {
                vec![Vec::new()]
            } else {
                let mut avoid: Vec<u32> = suffix.iter().map(|&x| self.head(x)).collect();
                avoid.push(v);
                avoid.retain(|&t| t != b);
                self.simple_paths(u, b, budget, &avoid, false)
            };
            for prefix in prefixes {
                let mut edges = prefix;
                edges.push(e);
                edges.extend_from_slice(&suffix);
                if edges.len() < 2 || (edges.len() == 2 && (edges[0] >> 1) == (edges[1] >> 1)) {
                    continue;
                }
                found.push(edges);
            }
        }
        found
    }

    /// Simple paths of 1..=budget edges between `start` and `goal` avoiding `avoid`.
    /// Forward: start -> goal over out-edges; backward: goal -> start, found over in-edges
    /// from `start` and returned in forward order.
    fn simple_paths(
        &self,
        start: u32,
        goal: u32,
        budget: usize,
        avoid: &[u32],
        forward: bool,
    ) -> Vec<Vec<u32>> {
        let mut results = Vec::new();
        if start == goal || budget == 0 {
            return results;
        }
        let mut on_path: HashSet<u32> = avoid.iter().copied().collect();
        on_path.insert(start);
        let mut path = Vec::with_capacity(budget);
        self.paths_dfs(
            start,
            goal,
            budget,
            forward,
            &mut on_path,
            &mut path,
            &mut results,
        );
        results
    }

    #[allow(clippy::too_many_arguments)]
    fn paths_dfs(
        &self,
        x: u32,
        goal: u32,
        budget: usize,
        forward: bool,
        on_path: &mut HashSet<u32>,
        path: &mut Vec<u32>,
        results: &mut Vec<Vec<u32>>,
    ) {
        if path.len() >= budget {
            return;
        }
        let edges = if forward {
            &self.out[x as usize]
        } else {
            &self.inc[x as usize]
        };
        for &e in edges {
            let y = if forward { self.head(e) } else { self.tail(e) };
            if y == goal {
                path.push(e);
                let mut p = path.clone();
                if !forward {
                    p.reverse();
                }
                results.push(p);
                path.pop();
                continue;
            }
            if on_path.contains(&y) {
                continue;
            }
            on_path.insert(y);
            path.push(e);
            self.paths_dfs(y, goal, budget, forward, on_path, path, results);
            path.pop();
            on_path.remove(&y);
        }
    }

    fn index_add(&mut self, base: u32, edges: Vec<u32>) {
        let key = (base, edges);
        if self.cycle_by_key.contains_key(&key) {
            return;
        }
        let (base, edges) = key;
        let c = IndexedCycle {
            base,
            edges: edges.clone(),
            persistence: 0,
        };
        let id = match self.free_cycles.pop() {
            Some(id) => {
                self.cycles[id as usize] = Some(c);
                id
            }
            None => {
                self.cycles.push(Some(c));
                (self.cycles.len() - 1) as u32
            }
        };
        for &e in &edges {
            self.pool_cycles[(e >> 1) as usize].push(id);
        }
        self.cycle_by_key.insert((base, edges), id);
    }

    fn index_drop(&mut self, id: u32) {
        let Some(c) = self.cycles[id as usize].take() else {
            return;
        };
        for &e in &c.edges {
            let list = &mut self.pool_cycles[(e >> 1) as usize];
            if let Some(at) = list.iter().position(|&x| x == id) {
                list.swap_remove(at);
            }
        }
        self.cycle_by_key.remove(&(c.base, c.edges));
        self.free_cycles.push(id);
    }

    fn legs(&self, edges: &[u32]) -> Vec<Leg<'_>> {
        edges
            .iter()
            .map(|&e| {
                let (tin, tout) = (self.tail(e), self.head(e));
                Leg {
                    state: &self.pool_of(e).state,
                    a_to_b: e & 1 == 0,
                    fee_in: self.fee_now(tin),
                    fee_out: self.fee_now(tout),
                }
            })
            .collect()
    }

    fn opportunity(&self, b: u32, edges: &[u32], persistence: Option<u64>) -> Opportunity {
        let sized = optimal_input(&self.legs(edges));
        let mut spot = 1.0;
        let mut tokens = Vec::with_capacity(edges.len() + 1);
        tokens.push(self.tokens[b as usize].clone());
        let mut pools = Vec::with_capacity(edges.len());
        let mut kinds = Vec::with_capacity(edges.len());
        let mut oldest = u64::MAX;
        for &e in edges {
            let p = self.pool_of(e);
            spot *= p.rate[(e & 1) as usize];
            tokens.push(self.tokens[self.head(e) as usize].clone());
            pools.push(p.id.clone());
            kinds.push(p.state.graph_kind());
            oldest = oldest.min(p.slot);
        }
        let profit = i128::from(sized.amount_out) - i128::from(sized.amount_in);
        let bps = if sized.amount_in > 0 {
            profit as f64 * 10_000.0 / sized.amount_in as f64
        } else {
            0.0
        };
        // not indexed: seen once, now; indexed: the counter, but 0 if not profitable in
        // this state and at least 1 if it is
        let persistence = match persistence {
            _ if sized.amount_in == 0 => 0,
            None => 1,
            Some(p) => p.max(1),
        };
        Opportunity {
            base_mint: self.tokens[b as usize].clone(),
            tokens,
            pools,
            kinds,
            hops: edges.len(),
            spot_rate: spot,
            amount_in: sized.amount_in,
            amount_out: sized.amount_out,
            profit,
            profit_bps: bps,
            hop_amounts: sized.hop_amounts,
            oldest_slot: oldest,
            staleness_slots: self.slot.saturating_sub(oldest),
            persistence,
            ticks_missing: sized.ticks_missing,
            hop_steps: sized.hop_steps,
        }
    }

    /// Every simple cycle of 2..=max_hops hops through `base_mint`, sized, sorted by
    /// (-profit, -spot_rate, pools, base). Persistence: 0 if not profitable now, else the
    /// index counter (at least 1), or 1 for a cycle not indexed; counters do not change.
    pub fn cycles(&self, base_mint: &str, max_hops: usize) -> Result<Vec<Opportunity>> {
        check_id(base_mint, "base_mint")?;
        let max_hops = check_hops(max_hops)?;
        let b = match self.token_ix.get(base_mint) {
            Some(&b) if self.token_pools[b as usize] > 0 => b,
            _ => return Err(EngineError::UnknownToken(base_mint.to_string())),
        };
        let mut opps: Vec<Opportunity> = self
            .enumerate(b, max_hops)
            .into_iter()
            .map(|edges| {
                let key = (b, edges);
                let p = self
                    .cycle_by_key
                    .get(&key)
                    .and_then(|&id| self.cycles[id as usize].as_ref())
                    .map(|c| c.persistence);
                (p, key.1)
            })
            .map(|(p, edges)| self.opportunity(b, &edges, p))
            .collect();
        sort(&mut opps);
        Ok(opps)
    }

    /// The indexed cycles using `pool_id` (up to `max_hops`), re-sized; each evaluation
    /// updates the cycle's persistence (+1 if profitable now, else 0).
    pub fn cycles_touching(&mut self, pool_id: &str, max_hops: usize) -> Result<Vec<Opportunity>> {
        let max_hops = check_hops(max_hops)?;
        let s = *self
            .pool_ix
            .get(pool_id)
            .ok_or_else(|| EngineError::UnknownPool(pool_id.to_string()))?;
        let ids = self.pool_cycles[s as usize].clone();
        let mut opps = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(c) = self.cycles[id as usize].as_ref() else {
                continue;
            };
            if c.edges.len() > max_hops {
                continue;
            }
            let mut opp = self.opportunity(c.base, &c.edges, Some(0));
            if let Some(c) = self.cycles[id as usize].as_mut() {
                c.persistence = if opp.amount_in > 0 {
                    c.persistence + 1
                } else {
                    0
                };
                opp.persistence = c.persistence;
            }
            opps.push(opp);
        }
        sort(&mut opps);
        Ok(opps)
    }
}

/// One Bellman-Ford pass: the out-edges of the tokens of `active` (a bitset, visited
/// in token order) relaxed, the tokens whose distance fell set in `changed`; whether
/// any did. A masked arc weighs +inf and never relaxes.
#[inline(always)]
fn relax_pass(
    csr_start: &[u32],
    csr: &[Arc],
    dist: &mut [f64],
    pred: &mut [u32],
    active: &[u64],
    changed: &mut [u64],
) -> bool {
    let n = dist.len();
    for u in set_bits(active) {
        let du = dist[u];
        let lo = csr_start[u] as usize;
        let hi = csr_start[u + 1] as usize;
        for arc in &csr[lo..hi] {
            let v = arc.to as usize;
            debug_assert!(v < n && v < pred.len() && v >> 6 < changed.len());
            let nd = du + arc.w;
            // SAFETY: `arc.to` is a token index (rebuild_csr copies the heads of live
            // edges, and the CSR is rebuilt whenever the tokens change), so
            // `v < n == dist.len() == pred.len()` and `v >> 6 < changed.len()` (n bits).
            // The unchecked loads are the hot loop's bounds checks.
            unsafe {
                let dv = dist.get_unchecked_mut(v);
                if nd < *dv - EPS {
                    *dv = nd;
                    *pred.get_unchecked_mut(v) = arc.edge;
                    *changed.get_unchecked_mut(v >> 6) |= 1 << (v & 63);
                }
            }
        }
    }
    changed.iter().any(|&w| w != 0)
}

/// The indices of the set bits of a bitset, in order.
#[inline(always)]
fn set_bits(words: &[u64]) -> impl Iterator<Item = usize> + '_ {
    words.iter().enumerate().flat_map(|(wi, &word)| {
        let mut bits = word;
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                wi * 64 + b
            })
        })
    })
}

/// The cycle check's walks over the predecessor edges of one pass: each walk from a
/// changed token stamps what it visits; a walk that meets its own stamp closed a cycle,
/// one that meets an earlier walk's stamp of this check stops (nothing new ahead).
struct PredWalk<'a> {
    stamp: &'a mut u64,
    base: u64,
}

impl<'a> PredWalk<'a> {
    fn new(stamp: &'a mut u64) -> Self {
        let base = *stamp;
        Self { stamp, base }
    }

    /// A token on the predecessor cycle the walk from `start` closes, if it closes one.
    fn closes(&mut self, start: u32, to: &[u32], pred: &[u32], seen: &mut [u64]) -> Option<u32> {
        *self.stamp += 1;
        let st = *self.stamp;
        let mut x = start;
        while x != NONE && seen[x as usize] != st {
            if seen[x as usize] > self.base {
                return None; // explored by an earlier walk of this check
            }
            seen[x as usize] = st;
            let e = pred[x as usize];
            x = if e == NONE {
                NONE
            } else {
                to[(e ^ 1) as usize]
            };
        }
        (x != NONE).then_some(x)
    }
}

/// The cycle the predecessor edges close through `x` (a token on it), if its rate
/// product, recomputed from the pools' rates, is > 1.
fn cycle_from_pred(
    pools: &[Option<Pool>],
    tokens: &[String],
    to: &[u32],
    pred: &[u32],
    x: u32,
) -> Option<Cycle> {
    let mut edges = Vec::with_capacity(8);
    let mut v = x;
    loop {
        let e = pred[v as usize];
        edges.push(e);
        v = to[(e ^ 1) as usize];
        if v == x {
            break;
        }
    }
    edges.reverse();
    cycle_from_edges(pools, tokens, to, x, &edges)
}

/// The cycle of `edges` (in order, from token `x`), if its rate product, recomputed
/// from the pools' rates, is > 1.
fn cycle_from_edges(
    pools: &[Option<Pool>],
    tokens: &[String],
    to: &[u32],
    x: u32,
    edges: &[u32],
) -> Option<Cycle> {
    let pool = |e: u32| match &pools[(e >> 1) as usize] {
        Some(p) => p,
        None => unreachable!("edge of a removed pool"),
    };
    let mut rate = 1.0;
    let mut names = Vec::with_capacity(edges.len() + 1);
    names.push(tokens[x as usize].clone());
    let mut ids = Vec::with_capacity(edges.len());
    for &e in edges {
        let p = pool(e);
        rate *= p.rate[(e & 1) as usize];
        names.push(tokens[to[e as usize] as usize].clone());
        ids.push(p.id.clone());
    }
    (rate > 1.0).then_some(Cycle {
        tokens: names,
        pools: ids,
        rate_product: rate,
    })
}

fn sort(opps: &mut [Opportunity]) {
    opps.sort_by(|x, y| {
        y.profit
            .cmp(&x.profit)
            .then(y.spot_rate.total_cmp(&x.spot_rate))
            .then_with(|| x.pools.cmp(&y.pools))
            .then_with(|| x.base_mint.cmp(&y.base_mint))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g3() -> PoolGraph {
        let mut g = PoolGraph::new(&["So1".to_string()], 4).unwrap();
        g.upsert_cpmm("P1", "So1", "USDC", 1_000_000, 150_000_000, 25, 10_000, 1)
            .unwrap();
        g.upsert_cpmm(
            "P2",
            "USDC",
            "Bonk",
            150_000_000,
            9_000_000_000,
            25,
            10_000,
            2,
        )
        .unwrap();
        g.upsert_cpmm("P3", "Bonk", "So1", 9_000_000_000, 1_100_000, 25, 10_000, 3)
            .unwrap();
        g
    }

    /// The search as first written, on the adjacency lists (not the CSR): sorted token
    /// lists and flags for a pass's changed tokens, a fresh stamp array per cycle check.
    /// From `start` (None: zeros); returns the cycle and, when a pass changed nothing,
    /// the distances. A fresh graph's first `find_negative_cycle` must match it exactly.
    fn reference(g: &PoolGraph, start: Option<&[f64]>) -> (Option<Cycle>, Option<Vec<f64>>) {
        let n = g.tokens.len();
        let mut dist = start.map_or_else(|| vec![0.0; n], <[f64]>::to_vec);
        let mut pred = vec![NONE; n];
        let mut flag = vec![false; n];
        let mut active: Vec<u32> = (0..n as u32)
            .filter(|&u| !g.out[u as usize].is_empty())
            .collect();
        for _ in 0..=n {
            let mut changed = Vec::new();
            for &u in &active {
                let du = dist[u as usize];
                for &e in &g.out[u as usize] {
                    let v = g.head(e) as usize;
                    let nd = du + g.weight[e as usize];
                    if nd < dist[v] - EPS {
                        dist[v] = nd;
                        pred[v] = e;
                        if !flag[v] {
                            flag[v] = true;
                            changed.push(v as u32);
                        }
                    }
                }
            }
            if changed.is_empty() {
                return (None, Some(dist));
            }
            changed.sort_unstable();
            for &v in &changed {
                flag[v as usize] = false;
            }
            let mut seen = vec![0usize; n];
            for (k, &s) in changed.iter().enumerate() {
                let mut x = s;
                while x != NONE && seen[x as usize] != k + 1 {
                    if seen[x as usize] != 0 {
                        x = NONE; // an earlier walk of this check went on from here
                        break;
                    }
                    seen[x as usize] = k + 1;
                    let e = pred[x as usize];
                    x = if e == NONE { NONE } else { g.tail(e) };
                }
                if x != NONE {
                    if let Some(c) = cycle_from_pred(&g.pools, &g.tokens, &g.to, &pred, x) {
                        return (Some(c), None);
                    }
                }
            }
            active = changed;
        }
        (None, None)
    }

    /// A small deterministic generator (tests only: no dependency).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 11
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn unit(&mut self) -> f64 {
            self.next() as f64 / (1u64 << 53) as f64
        }
    }

    fn name(kind: &str, i: usize) -> String {
        const A: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        format!("{kind}{}{}", A[i % 58] as char, A[i / 58 % 58] as char)
    }

    /// A market of `tokens` with hidden prices and constant-product pools priced by them
    /// (± `noise`); the first `standing` pools are `disloc` off, and stay so.
    struct Market {
        prices: Vec<f64>,
        pools: Vec<(usize, usize, u64, u64)>,
        standing: usize,
        disloc: f64,
        noise: f64,
    }

    impl Market {
        fn new(r: &mut Lcg, tokens: usize, pools: usize, standing: usize, disloc: f64) -> Self {
            let prices = (0..tokens).map(|_| (4.0 * r.unit() - 2.0).exp()).collect();
            let mut m = Self {
                prices,
                pools: Vec::new(),
                standing,
                disloc,
                noise: [0.0002, 0.0005, 0.001][r.below(3)],
            };
            for k in 0..pools {
                let a = r.below(tokens);
                let b = (a + 1 + r.below(tokens - 1)) % tokens;
                let ra = 1_000_000_000 + r.next() % 1_000_000_000_000;
                m.pools.push((a, b, ra, 0));
                m.reprice(r, k);
            }
            m
        }

        fn reprice(&mut self, r: &mut Lcg, k: usize) {
            let (a, b, ra, _) = self.pools[k];
            let off = if k < self.standing {
                1.0 + self.disloc
            } else {
                1.0
            };
            let mis = off * (1.0 + self.noise * (2.0 * r.unit() - 1.0));
            let rb = (ra as f64 * self.prices[a] / self.prices[b] * mis).max(1.0) as u64;
            self.pools[k].3 = rb;
        }

        fn upsert(&self, g: &mut PoolGraph, k: usize) {
            let (a, b, ra, rb) = self.pools[k];
            let fee = if k.is_multiple_of(3) { 30 } else { 25 };
            g.upsert_cpmm(
                &name("P", k),
                &name("T", a),
                &name("T", b),
                ra,
                rb,
                fee,
                10_000,
                0,
            )
            .unwrap();
        }
    }

    fn check_cycle(g: &PoolGraph, c: &Cycle) {
        assert!(c.rate_product > 1.0);
        assert_eq!(c.tokens.len(), c.pools.len() + 1);
        assert_eq!(c.tokens.first(), c.tokens.last());
        let mut rate = 1.0;
        for (i, id) in c.pools.iter().enumerate() {
            let (a, b, ab, ba, _) = g.pool_rate(id).unwrap();
            let (t0, t1) = (&c.tokens[i], &c.tokens[i + 1]);
            rate *= if (t0, t1) == (&a, &b) {
                ab
            } else {
                assert_eq!((t0, t1), (&b, &a));
                ba
            };
        }
        assert_eq!(rate, c.rate_product);
    }

    /// Random update sequences on markets with and without standing cycles: after every
    /// update the search (warm, with remembered cycles masked, or cold) reports a cycle
    /// exactly when a cold search does, and what it reports is one; a fresh graph's
    /// first search is the cold search exactly.
    #[test]
    fn search_is_exact_over_random_updates() {
        let mut r = Lcg(0x5eed);
        let (mut cycles, mut calls) = (0, 0);
        for case in 0..160 {
            let tokens = 3 + r.below(18);
            let pools = tokens + r.below(3 * tokens);
            let standing = [0, 0, 1, 1, 2, 3][case % 6].min(pools - 1);
            let disloc = [0.01, 0.02, 0.05, -0.02][r.below(4)];
            let mut m = Market::new(&mut r, tokens, pools, standing, disloc);
            let mut g = PoolGraph::new(&[], 4).unwrap();
            for k in 0..pools {
                m.upsert(&mut g, k);
            }
            let first = reference(&g, None).0;
            assert_eq!(g.find_negative_cycle(), first, "case {case}");
            for step in 0..90 {
                match r.below(20) {
                    // a new pool, at times on a new token
                    0 => {
                        if r.below(3) == 0 {
                            m.prices.push((4.0 * r.unit() - 2.0).exp());
                        }
                        let n = m.prices.len();
                        let a = r.below(n);
                        let b = (a + 1 + r.below(n - 1)) % n;
                        m.pools
                            .push((a, b, 1_000_000_000 + r.next() % 1_000_000_000, 0));
                        let k = m.pools.len() - 1;
                        m.reprice(&mut r, k);
                        m.upsert(&mut g, k);
                    }
                    // a pool leaves (and comes back later through an update)
                    1 if g.len() > 2 => {
                        let k = m.standing + r.below(m.pools.len() - m.standing);
                        let _ = g.remove_pool(&name("P", k));
                    }
                    // the prices move and every pool follows
                    2 => {
                        for p in &mut m.prices {
                            *p *= 1.0 + 0.01 * (2.0 * r.unit() - 1.0);
                        }
                        for k in 0..m.pools.len() {
                            m.reprice(&mut r, k);
                            if g.pool_rate(&name("P", k)).is_ok() {
                                m.upsert(&mut g, k);
                            }
                        }
                    }
                    // one pool's state changes: a trade, a tiny nudge or a repricing
                    _ => {
                        let k = if m.standing > 0 && r.below(4) == 0 {
                            r.below(m.standing)
                        } else {
                            m.standing + r.below(m.pools.len() - m.standing)
                        };
                        match r.below(3) {
                            0 => m.pools[k].3 += 1 + r.next() % 3,
                            1 => m.reprice(&mut r, k),
                            _ => {
                                let f = 1.0 + 0.006 * (2.0 * r.unit() - 1.0);
                                m.pools[k].3 = ((m.pools[k].3 as f64 * f) as u64).max(1);
                            }
                        }
                        m.upsert(&mut g, k);
                    }
                }
                let got = g.find_negative_cycle();
                let cold = reference(&g, None).0;
                assert_eq!(got.is_some(), cold.is_some(), "case {case} step {step}");
                if let Some(c) = &got {
                    check_cycle(&g, c);
                    cycles += 1;
                }
                calls += 1;
            }
        }
        // both kinds of market were searched, a good share of them holding a cycle
        assert!(
            cycles > calls / 5 && cycles < calls * 4 / 5,
            "{cycles} of {calls}"
        );
    }

    /// After a cycle the distances are left settled with the cycle masked: on markets
    /// holding one the next call starts warm (all but a few calls), and the distances
    /// violate no more edges than the masked cycles can hold.
    #[test]
    fn a_cycle_leaves_distances_settled_with_it_masked() {
        let mut r = Lcg(24);
        let (mut found, mut settled) = (0, 0);
        for case in 0..40 {
            let tokens = 6 + r.below(30);
            let pools = 2 * tokens + r.below(4 * tokens);
            let mut m = Market::new(&mut r, tokens, pools, 1 + case % 3, 0.03);
            let mut g = PoolGraph::new(&[], 4).unwrap();
            for k in 0..pools {
                m.upsert(&mut g, k);
            }
            for step in 0..40 {
                let k = m.standing + r.below(pools - m.standing);
                m.reprice(&mut r, k);
                m.upsert(&mut g, k);
                if g.find_negative_cycle().is_none() {
                    continue;
                }
                found += 1;
                if !g.warm {
                    continue;
                }
                settled += 1;
                let mut violated = 0;
                for e in 0..g.to.len() as u32 {
                    if g.pools[(e >> 1) as usize].is_none() {
                        continue;
                    }
                    let (u, v) = (g.tail(e) as usize, g.head(e) as usize);
                    if g.dist[v] > g.dist[u] + g.weight[e as usize] + EPS {
                        violated += 1;
                    }
                }
                // a cycle of at most `tokens` hops per masked cycle
                assert!(
                    violated <= MAX_MASKED * g.tokens.len(),
                    "case {case} step {step}"
                );
            }
        }
        assert!(
            found > 500 && settled * 10 > found * 9,
            "{settled} of {found}"
        );
    }

    #[test]
    fn finds_the_injected_cycle() {
        let mut g = g3();
        let c = g.find_negative_cycle().unwrap();
        assert!(c.rate_product > 1.0);
        assert_eq!(c.tokens.first(), c.tokens.last());
        assert_eq!(c.pools.len(), 3);
    }

    #[test]
    fn no_cycle_in_a_consistent_market() {
        let mut g = PoolGraph::new(&[], 4).unwrap();
        g.upsert_cpmm("P1", "So1", "USDC", 1_000_000, 150_000_000, 25, 10_000, 1)
            .unwrap();
        g.upsert_cpmm("P2", "USDC", "So1", 150_000_000, 1_000_000, 25, 10_000, 1)
            .unwrap();
        assert_eq!(g.find_negative_cycle(), None);
        assert_eq!(PoolGraph::new(&[], 4).unwrap().find_negative_cycle(), None);
    }

    #[test]
    fn index_matches_enumeration() {
        let mut g = g3();
        g.upsert_cpmm("P4", "So1", "USDC", 2_000_000, 300_000_000, 30, 10_000, 4)
            .unwrap();
        let all = g.cycles("So1", 4).unwrap();
        for pool in g.pools() {
            let mut want: Vec<_> = all
                .iter()
                .filter(|o| o.pools.contains(&pool))
                .map(|o| o.pools.clone())
                .collect();
            let mut got: Vec<_> = g
                .cycles_touching(&pool, 4)
                .unwrap()
                .into_iter()
                .map(|o| o.pools)
                .collect();
            want.sort();
            got.sort();
            assert_eq!(want, got, "{pool}");
        }
        g.remove_pool("P2").unwrap();
        assert!(g
            .cycles_touching("P3", 4)
            .unwrap()
            .iter()
            .all(|o| !o.pools.contains(&"P2".to_string())));
    }

    #[test]
    fn bad_input_leaves_graph_unchanged() {
        let mut g = g3();
        assert!(g
            .upsert_cpmm("P9", "So1", "USDC", 0, 5, 25, 10_000, 1)
            .is_err());
        assert!(g
            .upsert_cpmm("P9", "So1", "So1", 5, 5, 25, 10_000, 1)
            .is_err());
        assert!(g.upsert_cpmm("P9", "So1", "USDC", 5, 5, 1, 1, 1).is_err());
        assert!(g
            .upsert_cpmm("bad id!", "So1", "USDC", 5, 5, 1, 2, 1)
            .is_err());
        assert_eq!(g.len(), 3);
        assert!(matches!(
            g.remove_pool("nope"),
            Err(EngineError::UnknownPool(_))
        ));
        assert!(matches!(
            g.cycles("Zzz", 4),
            Err(EngineError::UnknownToken(_))
        ));
        assert!(matches!(
            g.cycles("So1", 6),
            Err(EngineError::InvalidInput(_))
        ));
    }
}

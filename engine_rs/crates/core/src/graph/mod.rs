//! The pool graph: tokens are vertices, every pool is two directed edges weighted by
//! `-ln(spot rate after fee)` (precomputed on upsert so search loops never call `ln`).
//!
//! Determinism contract shared with the Python twin (`engine_rs/python/graph/`):
//! pools live in slots (a new pool takes the most recently freed slot, else a new one);
//! edge `2s` is slot `s` a->b and `2s+1` is b->a; each token's out/in edges stay sorted
//! by edge id; tokens get dense indices in order of first appearance.
//!
//! The incremental index holds every simple cycle of 2..`max_hops` hops through each
//! base mint (one entry per base it passes, starting there) and a map pool -> cycles.
//! A state-only upsert leaves it alone; a new pool enumerates only the cycles through
//! it (paths grown from the pool's two ends, so a hub base is never expanded); a
//! removed pool drops its cycles.
//!
//! [`PoolGraph`] is one struct (here, with its id checks); its methods are in parts:
//! - `store.rs`: the pools and their states (upserts, removal, tokens, edges);
//! - `mints.rs`: the Token-2022 mints' transfer fees by epoch and refusals, and the
//!   edge weights they make;
//! - `quote.rs`: quotes through a path of pools (amounts, steps) and a cycle sized
//!   into an [`Opportunity`];
//! - `cycles.rs`: the enumeration of simple cycles (`cycles`);
//! - `index.rs`: the incremental index, pool -> cycles (`cycles_touching`);
//! - `bellman_ford.rs`: the negative-cycle search (`find_negative_cycle`).

mod bellman_ford;
mod cycles;
mod index;
mod mints;
mod quote;
mod store;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use crate::decode::Key;
use crate::error::{EngineError, Result};
use crate::sizing::Sizing;

use bellman_ford::Arc;
pub use bellman_ford::Cycle;
use index::IndexedCycle;
pub use mints::EpochSchedule;
use mints::MintRules;
pub use quote::Opportunity;
use store::Pool;

/// The longest cycle `cycles` and the index accept.
pub const MAX_HOPS_LIMIT: usize = 5;

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
pub fn check_hops(max_hops: usize) -> Result<usize> {
    if (2..=MAX_HOPS_LIMIT).contains(&max_hops) {
        Ok(max_hops)
    } else {
        Err(EngineError::InvalidInput(format!(
            "max_hops must be in 2..{MAX_HOPS_LIMIT}, got {max_hops}"
        )))
    }
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
    // whether a pool's cycles are in their canonical order (a piece of its evaluation
    // reads them so): a cycle joining them unsets it
    pool_cycles_ordered: Vec<bool>,
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
    // a counter stamped on each change a sizing reads: a pool's state (its `version`), the
    // mints' rules or the epoch (`mints_at`); a cycle sized at stamp `v` whose pools'
    // versions and `mints_at` are all <= `v` sizes the same again (`IndexedCycle::sized`)
    version: u64,
    mints_at: u64,
    // how a cycle is sized (`set_sizing`: a replay sizes as its recording did)
    sizing: Sizing,
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

    /// How the graph sizes a cycle ([`Sizing`]; a new graph: the default).
    pub fn sizing(&self) -> Sizing {
        self.sizing
    }

    /// Size cycles by `rule` from now on; a rule other than the graph's sizes every
    /// cycle again at its next evaluation (no sizing by the other rule is kept).
    pub fn set_sizing(&mut self, rule: Sizing) {
        if rule != self.sizing {
            self.sizing = rule;
            self.version += 1;
            self.mints_at = self.version;
        }
    }

    /// The indexed base mints in the order they were added.
    pub fn base_mints(&self) -> Vec<String> {
        self.base_names.clone()
    }
}

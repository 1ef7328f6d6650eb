//! The graph's pools and their states: upserts (a venue's quote state, or the
//! constant-product and Whirlpool shortcuts), removal, the tokens and the edges.

use crate::amm::ConstantProduct;
use crate::error::{EngineError, Result};
use crate::venues::orca_whirlpool::swap::ClmmPool;
use crate::venues::orca_whirlpool::WhirlpoolState;
use crate::venues::raydium_cpmm::CpmmState;
use crate::venues::PoolState;

use super::{check_pool_ids, PoolGraph};

/// A pool in its slot: its id, its two tokens (a, b), its quote state, the slot of
/// that state, and its spot rates after fees (a -> b, b -> a).
#[derive(Debug, Clone)]
pub(super) struct Pool {
    pub(super) id: String,
    pub(super) a: u32,
    pub(super) b: u32,
    pub(super) state: PoolState,
    pub(super) slot: u64,
    pub(super) rate: [f64; 2],
    /// The graph's stamp when this state was set (see `PoolGraph::version`).
    pub(super) version: u64,
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

impl PoolGraph {
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
        let state = PoolState::RaydiumCpmm(CpmmState::plain(state));
        self.upsert_state_ids_checked(pool_id, mint_a, mint_b, state, slot)
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
                self.version += 1;
                let version = self.version;
                if let Some(p) = self.pools[su].as_mut() {
                    p.state = state;
                    p.slot = slot;
                    p.rate = rate;
                    p.version = version;
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
        self.version += 1;
        let pool = Pool {
            id: pool_id.to_string(),
            a,
            b,
            state,
            slot,
            rate,
            version: self.version,
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
                self.pool_cycles_ordered.push(true);
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

    pub(super) fn token(&mut self, mint: &str) -> u32 {
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

    /// A pool in the graph by id: its slot and state (UnknownPool otherwise).
    pub(super) fn live_pool(&self, pool_id: &str) -> Result<(u32, &Pool)> {
        self.pool_ix
            .get(pool_id)
            .and_then(|&s| self.pools[s as usize].as_ref().map(|p| (s, p)))
            .ok_or_else(|| EngineError::UnknownPool(pool_id.to_string()))
    }

    #[inline]
    pub(super) fn pool_of(&self, e: u32) -> &Pool {
        // edges are only ever taken from live adjacency lists
        match &self.pools[(e >> 1) as usize] {
            Some(p) => p,
            None => unreachable!("edge of a removed pool"),
        }
    }

    #[inline]
    pub(super) fn head(&self, e: u32) -> u32 {
        self.to[e as usize]
    }

    #[inline]
    pub(super) fn tail(&self, e: u32) -> u32 {
        self.to[(e ^ 1) as usize]
    }
}

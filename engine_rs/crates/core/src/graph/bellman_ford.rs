//! The negative-cycle search: Bellman-Ford over a CSR copy of the adjacency, warm
//! started from the last settled distances, with the cycles it found masked (see
//! [`PoolGraph::find_negative_cycle`]).

use super::store::Pool;
use super::PoolGraph;

/// A relaxation must improve a distance by more than float noise.
pub(super) const EPS: f64 = 1e-12;
pub(super) const NONE: u32 = u32::MAX;
/// Warm starts reuse the last converged distances; potentials only ever fall, so start
/// from zero again every this many calls to keep them small.
const WARM_RESET: u32 = 64;
/// After a cycle, the distances are settled with it masked (and with at most this many
/// cycles masked in all) to be the next call's start; past it the next call is cold.
pub(super) const MAX_MASKED: usize = 8;

/// A cycle from [`PoolGraph::find_negative_cycle`] (closed token path).
#[derive(Debug, Clone, PartialEq)]
pub struct Cycle {
    pub tokens: Vec<String>,
    pub pools: Vec<String>,
    pub rate_product: f64,
}

/// One out-edge in the search's CSR copy of the adjacency: weight, head, edge id.
#[derive(Debug, Clone, Copy)]
pub(super) struct Arc {
    pub(super) w: f64,
    pub(super) to: u32,
    pub(super) edge: u32,
}

impl PoolGraph {
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
pub(super) fn cycle_from_pred(
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

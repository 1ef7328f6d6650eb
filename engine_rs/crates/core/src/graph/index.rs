//! The incremental index: every simple cycle through each base mint, and pool -> the
//! cycles using it, kept as pools come and go; `cycles_touching` re-sizes a pool's
//! cycles and counts their persistence.

use std::cmp::Ordering;

use crate::decode::TOKEN_2022_ID;
use crate::error::Result;
use crate::pricing::{Budget, Pricer};
use crate::scorer::{Score, ScoreInput};
use crate::sizing::Sized;

use super::quote::{sort, Opportunity};
use super::{check_hops, check_id, PoolGraph};

/// An indexed cycle: the base it starts at, its edges in order, how many evaluations
/// in a row found it profitable, and its last sizing with the graph's stamp then.
#[derive(Debug, Clone)]
pub(super) struct IndexedCycle {
    pub(super) base: u32,
    pub(super) edges: Vec<u32>,
    pub(super) persistence: u64,
    pub(super) sized: Option<(u64, Sized)>,
}

impl PoolGraph {
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

    /// The indexed cycles using `pool_id` (up to `max_hops`), re-sized; each evaluation
    /// updates the cycle's persistence (+1 if profitable now, else 0).
    pub fn cycles_touching(&mut self, pool_id: &str, max_hops: usize) -> Result<Vec<Opportunity>> {
        self.cycles_touching_kept(pool_id, max_hops, false)
    }

    /// [`PoolGraph::cycles_touching`], and with `only_live` only the cycles a caller
    /// keeps live: a profit (`profit > 0`), or sized without ticks they needed
    /// (`ticks_missing`). Every cycle is re-sized and its persistence counted either
    /// way; the others are never named (no strings built for them).
    pub fn cycles_touching_kept(
        &mut self,
        pool_id: &str,
        max_hops: usize,
        only_live: bool,
    ) -> Result<Vec<Opportunity>> {
        self.cycles_touching_piece(pool_id, max_hops, only_live, None)
    }

    /// How many indexed cycles use `pool_id` (of every length): what the pieces of its
    /// evaluation ([`PoolGraph::score_touching_piece`]) count positions in.
    pub fn touching_count(&self, pool_id: &str) -> Result<usize> {
        let s = self.live_pool(pool_id)?.0;
        Ok(self.pool_cycles[s as usize].len())
    }

    /// [`PoolGraph::cycles_touching_kept`] over the cycles at positions `start..start +
    /// len` of the pool's cycles in their canonical order (`piece`; None: all of them).
    pub fn cycles_touching_piece(
        &mut self,
        pool_id: &str,
        max_hops: usize,
        only_live: bool,
        piece: Option<(usize, usize)>,
    ) -> Result<Vec<Opportunity>> {
        let max_hops = check_hops(max_hops)?;
        let s = self.live_pool(pool_id)?.0;
        if piece.is_some() {
            self.order_pool_cycles(s);
        }
        // (taken while the cycles are walked, put back after: nothing in the walk reads it)
        let ids = std::mem::take(&mut self.pool_cycles[s as usize]);
        let walked = match piece {
            None => &ids[..],
            Some((start, len)) => {
                let from = start.min(ids.len());
                &ids[from..from.saturating_add(len).min(ids.len())]
            }
        };
        let stamp = self.version;
        let mut opps = Vec::with_capacity(if only_live { 0 } else { walked.len() });
        for &id in walked {
            let (persistence, fresh, opp) = {
                let Some(c) = self.cycles[id as usize].as_ref() else {
                    continue;
                };
                if c.edges.len() > max_hops {
                    continue;
                }
                // sized again only when a state it reads changed since its last sizing (a
                // cycle through several pools that moved together is evaluated once per
                // pool: the same numbers each time); its persistence counted either way.
                // A kept sizing is read where it is, copied only into a cycle kept
                let kept_sizing = self.kept_sizing(c);
                let fresh = match kept_sizing {
                    Some(_) => None,
                    None => Some(self.size(&c.edges)),
                };
                let Some(sized) = fresh.as_ref().or(kept_sizing.map(|(_, s)| s)) else {
                    continue;
                };
                let persistence = if sized.amount_in > 0 {
                    c.persistence + 1
                } else {
                    0
                };
                let kept = !only_live || sized.amount_out > sized.amount_in || sized.ticks_missing;
                let opp =
                    kept.then(|| self.opportunity_of(c.base, &c.edges, Some(0), sized.clone()));
                (persistence, fresh, opp)
            };
            if let Some(c) = self.cycles[id as usize].as_mut() {
                c.persistence = persistence;
                if let Some(sized) = fresh {
                    c.sized = Some((stamp, sized));
                }
            }
            if let Some(mut opp) = opp {
                opp.persistence = persistence;
                opps.push(opp);
            }
        }
        self.pool_cycles[s as usize] = ids;
        sort(&mut opps);
        Ok(opps)
    }

    /// [`PoolGraph::cycles_touching_kept`] with `only_live`, each cycle kept priced by
    /// `pricer`: its compute-unit budget (its pools' programs, the steps its quote
    /// crosses plus its mints' Token-2022 steps, the wallet's accounts) and its score at
    /// that limit and its base's price of a lamport. Every cycle through the pool is
    /// re-sized and its persistence counted first, as `cycles_touching` does; an error
    /// of the scorer comes after that.
    pub fn score_touching(
        &mut self,
        pool_id: &str,
        max_hops: usize,
        pricer: &Pricer,
    ) -> Result<Vec<(Opportunity, Score, Budget)>> {
        self.score_touching_piece(pool_id, max_hops, pricer, None)
    }

    /// [`PoolGraph::score_touching`] over one piece of the pool's cycles: those at
    /// positions `start..start + len` (`piece`; None: all) in their canonical order, by
    /// base mint and then the pools' ids along the cycle ([`PoolGraph::cycle_order`]).
    /// A pool's evaluation in pieces (`0..n`, `n..2n`, … up to
    /// [`PoolGraph::touching_count`]) re-sizes each cycle once, as the whole call does,
    /// and holds its caller for a bounded number of cycles at a time.
    pub fn score_touching_piece(
        &mut self,
        pool_id: &str,
        max_hops: usize,
        pricer: &Pricer,
        piece: Option<(usize, usize)>,
    ) -> Result<Vec<(Opportunity, Score, Budget)>> {
        let opps = self.cycles_touching_piece(pool_id, max_hops, true, piece)?;
        let mut out = Vec::with_capacity(opps.len());
        for o in opps {
            let t22: Vec<bool> = o.tokens.iter().map(|t| self.is_token_2022(t)).collect();
            let budget = pricer.budget(
                &o.pools,
                &o.kinds,
                &o.tokens,
                &t22,
                o.amount_in,
                &o.hop_steps,
            );
            let input = ScoreInput {
                amount_in: o.amount_in,
                gross_profit: o.profit,
                persistence: o.persistence,
                staleness_slots: o.staleness_slots,
                ticks_missing: o.ticks_missing,
            };
            let score = pricer.score(&o.base_mint, &input, budget.limit)?;
            out.push((o, score, budget));
        }
        Ok(out)
    }

    /// Whether the graph was told `mint` is owned by Token-2022's program.
    fn is_token_2022(&self, mint: &str) -> bool {
        self.token_ix
            .get(mint)
            .and_then(|t| self.mint_owners.get(t))
            .is_some_and(|k| *k == TOKEN_2022_ID)
    }

    /// How many cycles the incremental index holds.
    pub fn indexed_cycle_count(&self) -> usize {
        self.cycle_by_key.len()
    }

    fn bases(&self) -> Vec<u32> {
        self.base_names
            .iter()
            .filter_map(|m| self.token_ix.get(m).copied())
            .collect()
    }

    pub(super) fn index_new_pool(&mut self, s: u32) {
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
            sized: None,
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
            self.pool_cycles_ordered[(e >> 1) as usize] = false;
        }
        self.cycle_by_key.insert((base, edges), id);
    }

    /// `c`'s last sizing, when no state it reads changed since (its pools' and the
    /// mints' versions at most its stamp).
    fn kept_sizing<'a>(&self, c: &'a IndexedCycle) -> Option<&'a (u64, Sized)> {
        c.sized.as_ref().filter(|(at, _)| {
            *at >= self.mints_at && c.edges.iter().all(|&e| self.pool_of(e).version <= *at)
        })
    }

    /// The canonical order of two indexed cycles: by their base mint, then by the ids of
    /// the pools along them (as Python orders `(base_mint, tuple(pools))`).
    fn cycle_order(&self, x: u32, y: u32) -> Ordering {
        match (
            self.cycles[x as usize].as_ref(),
            self.cycles[y as usize].as_ref(),
        ) {
            (Some(a), Some(b)) => self.tokens[a.base as usize]
                .cmp(&self.tokens[b.base as usize])
                .then_with(|| {
                    let id = |&e: &u32| self.pools[(e >> 1) as usize].as_ref().map(|p| &p.id);
                    a.edges.iter().map(id).cmp(b.edges.iter().map(id))
                }),
            _ => x.cmp(&y),
        }
    }

    /// A pool's cycles put in their canonical order, when a cycle joined or left them
    /// since.
    fn order_pool_cycles(&mut self, s: u32) {
        let su = s as usize;
        if self.pool_cycles_ordered[su] {
            return;
        }
        let mut ids = std::mem::take(&mut self.pool_cycles[su]);
        ids.sort_by(|&x, &y| self.cycle_order(x, y));
        self.pool_cycles[su] = ids;
        self.pool_cycles_ordered[su] = true;
    }

    pub(super) fn index_drop(&mut self, id: u32) {
        let Some(c) = self.cycles[id as usize].take() else {
            return;
        };
        for &e in &c.edges {
            let su = (e >> 1) as usize;
            let list = &mut self.pool_cycles[su];
            if let Some(at) = list.iter().position(|&x| x == id) {
                list.swap_remove(at);
                // (out of order now, when it was not the last: put in order again when
                // a piece of its evaluation reads it)
                if at < list.len() {
                    self.pool_cycles_ordered[su] = false;
                }
            }
        }
        self.cycle_by_key.remove(&(c.base, c.edges));
        self.free_cycles.push(id);
    }
}

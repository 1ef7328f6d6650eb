//! The enumeration of simple cycles: every cycle of 2..=`max_hops` hops through a base
//! mint (`cycles`), and those through one edge (what the index adds for a new pool).

use std::collections::HashSet;

use crate::error::{EngineError, Result};

use super::quote::{sort, Opportunity};
use super::{check_hops, check_id, PoolGraph};

impl PoolGraph {
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

    /// Every simple cycle through `b` of 2..=max_hops hops, in DFS order over sorted edges.
    pub(super) fn enumerate(&self, b: u32, max_hops: usize) -> Vec<Vec<u32>> {
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

    /// Simple cycles through base `b` of 2..=max_hops hops using edge `e` (u -> v).
    pub(super) fn cycles_through_edge(&self, b: u32, e: u32, u: u32, v: u32) -> Vec<Vec<u32>> {
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
}

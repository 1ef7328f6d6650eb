//! Quotes through the graph: the amounts (and the steps of each venue's compute-unit
//! model) along a path of pools, a pool's rates and ladder, and a cycle sized into an
//! [`Opportunity`].

use crate::error::{EngineError, Result};
use crate::sizing::{optimal_input_by, Leg, Sized};
use crate::venues::NoQuote;

use super::PoolGraph;

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
    /// ([`crate::venues::Curve::quote_steps`]: what the curve crosses; a Token-2022
    /// surcharge is the caller's); all 0 when no size makes money.
    pub hop_steps: Vec<u32>,
}

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

impl PoolGraph {
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
    /// model ([`crate::venues::Curve::quote_steps`], counted by the same walk):
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

    pub(super) fn legs(&self, edges: &[u32]) -> Vec<Leg<'_>> {
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

    pub(super) fn opportunity(
        &self,
        b: u32,
        edges: &[u32],
        persistence: Option<u64>,
    ) -> Opportunity {
        self.opportunity_of(b, edges, persistence, self.size(edges))
    }

    /// The cycle along `edges` sized at its best input (no names built: what
    /// [`PoolGraph::opportunity_of`] makes an [`Opportunity`] of).
    pub(super) fn size(&self, edges: &[u32]) -> Sized {
        // the pools' spot rates as the graph keeps them (each pool state's own, before
        // the mints' transfer fees): each leg's rate is at most its pool's (a fee factor
        // is at most 1 and rounding is monotone), so a product at or below 1 here is one
        // there too, where `optimal_input_by` finds nothing. Most cycles end here, without
        // their legs built or their pools' spot rates computed again.
        let bound = edges
            .iter()
            .fold(1.0, |acc, &e| acc * self.pool_of(e).rate[(e & 1) as usize]);
        if bound <= 1.0 {
            return Sized::zero(edges.len(), false);
        }
        optimal_input_by(&self.legs(edges), self.sizing)
    }

    /// The [`Opportunity`] of a cycle through base `b` along `edges`, sized as `sized`.
    pub(super) fn opportunity_of(
        &self,
        b: u32,
        edges: &[u32],
        persistence: Option<u64>,
        sized: Sized,
    ) -> Opportunity {
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
}

pub(super) fn sort(opps: &mut [Opportunity]) {
    opps.sort_by(|x, y| {
        y.profit
            .cmp(&x.profit)
            .then(y.spot_rate.total_cmp(&x.spot_rate))
            .then_with(|| x.pools.cmp(&y.pools))
            .then_with(|| x.base_mint.cmp(&y.base_mint))
    });
}

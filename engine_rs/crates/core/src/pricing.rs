//! A cycle's compute-unit budget, fee context and score in one place: what the session's
//! evaluator did per cycle in Python (`arbscope.market.Evaluator.cost`, its `budget` and
//! `steps`, `arbscope.execution.compute.cycle_budget`), done for every live cycle of a
//! pool in the engine's call ([`crate::graph::PoolGraph::score_touching`]).
//!
//! The [`Pricer`] holds what the prices depend on besides the cycle: each venue's
//! compute-unit model (the Python side's `feeds.venues` figures, given as data: the
//! engine imports nothing of the venues' Python), each pool's program, the wallet's
//! token accounts, the session's fees and policy, a lamport's price in each base.
//!
//! A cycle's budget (as `cycle_budget`): each hop's limit at the steps its quote crosses
//! (`hop_steps`, plus its mints' Token-2022 steps), `base` for what is not a swap,
//! `per_account` for each token account the wallet would create, all capped at
//! `max_limit`, or the override for every transaction. A hop whose pool's program is not
//! known is priced at the most any venue of its curve would take.

use std::collections::{HashMap, HashSet};

use crate::error::{EngineError, Result};
use crate::scorer::{score, FeeContext, Score, ScoreInput, ScorePolicy};

/// One venue's compute units (`feeds.venues.base.ComputeUnits`) and the steps its swap
/// adds for Token-2022 mints.
#[derive(Debug, Clone, PartialEq)]
pub struct CuModel {
    /// The pool program's kind, as pools files and `track_pool` name it.
    pub kind: String,
    /// Its graph kind (`Opportunity.kinds`).
    pub curve: String,
    pub base: u64,
    pub per_step: u64,
    pub max_steps: u64,
    /// `round(margin × 10_000 + 10_000)`: the limit is `ceil(use × scale / 10_000)`.
    pub scale: u64,
    /// Steps a swap adds when one or both of its mints are Token-2022's ...
    pub t22_fixed: u64,
    /// ... and per such mint.
    pub t22_per_mint: u64,
}

/// The largest figure a model may hold (its products stay far inside u128).
const MODEL_MAX: u64 = u32::MAX as u64;

impl CuModel {
    /// The units a hop requests crossing `steps` (None: its most).
    pub fn limit(&self, steps: Option<u64>) -> u128 {
        let s = steps.unwrap_or(self.max_steps).min(self.max_steps);
        let used = u128::from(self.base) + u128::from(self.per_step) * u128::from(s);
        (used * u128::from(self.scale)).div_ceil(10_000)
    }

    /// The steps a swap adds for `t22` Token-2022 mints of its two.
    pub fn token_steps(&self, t22: u64) -> u64 {
        if t22 == 0 {
            0
        } else {
            self.t22_fixed + self.t22_per_mint * t22
        }
    }
}

/// A cycle's compute units part by part (`arbscope.execution.compute.CuBudget`'s
/// figures): each hop's limit, the steps it was priced at (None: not known, the venue's
/// most), the token accounts created, and the limit requested.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub hops: Vec<u128>,
    pub steps: Vec<Option<u64>>,
    pub accounts: u64,
    pub limit: u64,
}

/// What the session prices every cycle with (see the module docs).
#[derive(Debug, Clone)]
pub struct Pricer {
    models: Vec<CuModel>,
    by_kind: HashMap<String, usize>,
    base_units: u64,
    per_account: u64,
    max_limit: u64,
    fees: FeeContext,
    policy: ScorePolicy,
    cu_override: Option<u64>,
    /// base mint -> a lamport's price in it (num, den); absent: none known
    prices: HashMap<String, (u64, u64)>,
    pool_kinds: HashMap<String, usize>,
    /// the wallet, when armed: its base and the mints it holds an account of
    wallet: Option<(String, HashSet<String>)>,
}

impl Pricer {
    /// A pricer of `models` (one per venue, kinds distinct), `base_units` for what is not
    /// a swap, `per_account` per token account created, `max_limit` the runtime's cap;
    /// the default fees and policy until told, no price, no pool's program, no wallet.
    pub fn new(
        models: Vec<CuModel>,
        base_units: u64,
        per_account: u64,
        max_limit: u64,
    ) -> Result<Self> {
        if models.is_empty() {
            return Err(EngineError::InvalidInput(
                "a pricer needs at least one venue's compute-unit model".into(),
            ));
        }
        let mut by_kind = HashMap::new();
        for (i, m) in models.iter().enumerate() {
            let figures = [
                m.base,
                m.per_step,
                m.max_steps,
                m.scale,
                m.t22_fixed,
                m.t22_per_mint,
            ];
            if figures.iter().any(|&f| f > MODEL_MAX) {
                return Err(EngineError::InvalidInput(format!(
                    "venue {:?}: a compute-unit figure over {MODEL_MAX}",
                    m.kind
                )));
            }
            if by_kind.insert(m.kind.clone(), i).is_some() {
                return Err(EngineError::InvalidInput(format!(
                    "venue {:?} given twice",
                    m.kind
                )));
            }
        }
        Ok(Self {
            models,
            by_kind,
            base_units,
            per_account,
            max_limit,
            fees: FeeContext {
                cu_limit: 0,
                cu_price_micro_lamports: 0,
                tip_lamports: 0,
                signatures: 1,
                lamports_per_signature: 5_000,
                base_fee_lamports: None,
                base_per_lamport_num: 1,
                base_per_lamport_den: 1,
                base_rate_missing: false,
            },
            policy: ScorePolicy {
                min_profit: 1,
                min_profit_bps: 0.0,
                min_persistence: 1,
                max_staleness_slots: 4,
            },
            cu_override: None,
            prices: HashMap::new(),
            pool_kinds: HashMap::new(),
            wallet: None,
        })
    }

    /// The session's fees (their `cu_limit` and conversion are each cycle's own), the
    /// policy, and the limit that replaces every cycle's (`fees.cu_limit`; None or 0:
    /// none). InvalidInput for a threshold the scorer refuses.
    pub fn set_fees(
        &mut self,
        fees: FeeContext,
        policy: ScorePolicy,
        cu_override: Option<u64>,
    ) -> Result<()> {
        if !policy.min_profit_bps.is_finite() {
            return Err(EngineError::InvalidInput(format!(
                "min_profit_bps must be finite, got {}",
                policy.min_profit_bps
            )));
        }
        self.fees = fees;
        self.policy = policy;
        self.cu_override = cu_override.filter(|&o| o != 0);
        Ok(())
    }

    /// A lamport's price in each base mint, `(num, den)` (None: none known); replaces
    /// every price told before. InvalidInput for a zero denominator.
    pub fn set_prices(&mut self, prices: Vec<(String, Option<(u64, u64)>)>) -> Result<()> {
        let mut out = HashMap::with_capacity(prices.len());
        for (base, p) in prices {
            if let Some((num, den)) = p {
                if den == 0 {
                    return Err(EngineError::InvalidInput(format!(
                        "{base}: a lamport's price with a zero denominator"
                    )));
                }
                out.insert(base, (num, den));
            }
        }
        self.prices = out;
        Ok(())
    }

    /// Each pool's program kind (added to those told before; `replace`: instead of
    /// them). InvalidInput for a kind no model has.
    pub fn set_pool_kinds(&mut self, kinds: Vec<(String, String)>, replace: bool) -> Result<()> {
        let mut got = Vec::with_capacity(kinds.len());
        for (pool, kind) in kinds {
            let Some(&i) = self.by_kind.get(&kind) else {
                return Err(EngineError::InvalidInput(format!(
                    "pool {pool}: no compute-unit model for program kind {kind:?}"
                )));
            };
            got.push((pool, i));
        }
        if replace {
            self.pool_kinds.clear();
        }
        self.pool_kinds.extend(got);
        Ok(())
    }

    /// How many pools' programs it knows.
    pub fn pool_kind_count(&self) -> usize {
        self.pool_kinds.len()
    }

    /// The live wallet: armed, its base mint and the mints it holds a token account of
    /// (a cycle's other mints each cost a `CreateIdempotent`); not armed, none counted.
    pub fn set_wallet(&mut self, armed: bool, base: &str, accounts: Vec<String>) {
        self.wallet = armed.then(|| (base.to_string(), accounts.into_iter().collect()));
    }

    /// The most any model of `curve` (else of any venue) requests at `steps`.
    fn unknown_limit(&self, curve: &str, steps: Option<u64>) -> u128 {
        let same = self.models.iter().filter(|m| m.curve == curve);
        let most = same.map(|m| m.limit(steps)).max();
        most.unwrap_or_else(|| {
            self.models
                .iter()
                .map(|m| m.limit(steps))
                .max()
                .unwrap_or(0)
        })
    }

    /// The most any model of `curve` (else of any venue) adds for `t22` mints.
    fn unknown_token_steps(&self, curve: &str, t22: u64) -> u64 {
        if t22 == 0 {
            return 0;
        }
        let same = self.models.iter().filter(|m| m.curve == curve);
        let most = same.map(|m| m.token_steps(t22)).max();
        most.unwrap_or_else(|| {
            self.models
                .iter()
                .map(|m| m.token_steps(t22))
                .max()
                .unwrap_or(0)
        })
    }

    /// The budget of a cycle through `pools` (curves `curves`) over `tokens` (closed:
    /// `pools.len() + 1` of them, each with whether its mint is Token-2022's, `t22`),
    /// sized at `amount_in` crossing `hop_steps`.
    pub fn budget(
        &self,
        pools: &[String],
        curves: &[&str],
        tokens: &[String],
        t22: &[bool],
        amount_in: u64,
        hop_steps: &[u32],
    ) -> Budget {
        let n = pools.len();
        let kinds: Vec<Option<&CuModel>> = pools
            .iter()
            .map(|p| self.pool_kinds.get(p).map(|&i| &self.models[i]))
            .collect();
        let curve = |i: usize| curves.get(i).copied().unwrap_or("");
        let steps: Vec<Option<u64>> = if amount_in == 0 || hop_steps.len() != n {
            vec![None; n]
        } else {
            (0..n)
                .map(|i| {
                    let both = [i, i + 1]
                        .iter()
                        .filter(|&&j| t22.get(j).copied().unwrap_or(false))
                        .count() as u64;
                    let extra = match kinds[i] {
                        Some(m) => m.token_steps(both),
                        None => self.unknown_token_steps(curve(i), both),
                    };
                    Some(u64::from(hop_steps[i]) + extra)
                })
                .collect()
        };
        let hops: Vec<u128> = (0..n)
            .map(|i| match kinds[i] {
                Some(m) => m.limit(steps[i]),
                None => self.unknown_limit(curve(i), steps[i]),
            })
            .collect();
        let accounts = match &self.wallet {
            None => 0,
            Some((base, have)) => {
                let mut seen: HashSet<&str> = HashSet::with_capacity(tokens.len());
                tokens
                    .iter()
                    .filter(|t| *t != base && !have.contains(*t) && seen.insert(t.as_str()))
                    .count() as u64
            }
        };
        let estimate = u128::from(self.base_units)
            + hops.iter().sum::<u128>()
            + u128::from(self.per_account) * u128::from(accounts);
        let wanted = self.cu_override.map_or(estimate, u128::from);
        let limit = u64::try_from(wanted.min(u128::from(self.max_limit))).unwrap_or(u64::MAX);
        Budget {
            hops,
            steps,
            accounts,
            limit,
        }
    }

    /// The fee context a cycle through `base_mint` is scored with at `cu_limit`.
    pub fn fees_for(&self, base_mint: &str, cu_limit: u64) -> FeeContext {
        let mut f = self.fees;
        f.cu_limit = cu_limit;
        match self.prices.get(base_mint) {
            Some(&(num, den)) => {
                f.base_per_lamport_num = num;
                f.base_per_lamport_den = den;
                f.base_rate_missing = false;
            }
            None => {
                f.base_per_lamport_num = 1;
                f.base_per_lamport_den = 1;
                f.base_rate_missing = true;
            }
        }
        f
    }

    /// A sized cycle's score at its budget's limit and its base's price.
    pub fn score(&self, base_mint: &str, input: &ScoreInput, limit: u64) -> Result<Score> {
        score(input, &self.fees_for(base_mint, limit), &self.policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(kind: &str, curve: &str, base: u64, per: u64, most: u64, scale: u64) -> CuModel {
        CuModel {
            kind: kind.into(),
            curve: curve.into(),
            base,
            per_step: per,
            max_steps: most,
            scale,
            t22_fixed: 0,
            t22_per_mint: 0,
        }
    }

    #[test]
    fn limit_rounds_up_and_caps_steps() {
        let m = model("whirlpool", "clmm", 57_000, 6_800, 8, 14_000);
        // (57,000 + 6,800 × 2) × 1.4, rounded up
        assert_eq!(m.limit(Some(2)), 98_840);
        assert_eq!(m.limit(Some(99)), m.limit(None));
        assert_eq!(m.limit(None), (57_000 + 6_800 * 8) * 14 / 10);
    }

    #[test]
    fn budget_counts_accounts_and_caps() {
        let mut p = Pricer::new(
            vec![model("cpmm", "cpmm", 100_000, 0, 0, 10_000)],
            5_000,
            30_000,
            1_400_000,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let pools = vec!["P1".to_string(), "P2".to_string()];
        let tokens: Vec<String> = ["A", "B", "A"].iter().map(|s| s.to_string()).collect();
        p.set_pool_kinds(vec![("P1".into(), "cpmm".into())], false)
            .unwrap_or_else(|e| panic!("{e}"));
        let b = p.budget(&pools, &["cpmm", "cpmm"], &tokens, &[false; 3], 10, &[0, 0]);
        assert_eq!(b.hops, vec![100_000, 100_000]);
        assert_eq!((b.accounts, b.limit), (0, 205_000));
        p.set_wallet(true, "A", vec![]);
        let b = p.budget(&pools, &["cpmm", "cpmm"], &tokens, &[false; 3], 10, &[0, 0]);
        assert_eq!((b.accounts, b.limit), (1, 235_000));
        assert!(p
            .set_pool_kinds(vec![("P".into(), "nope".into())], false)
            .is_err());
    }
}

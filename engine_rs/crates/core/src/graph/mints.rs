//! The Token-2022 mints as the graph prices them: each mint's transfer fee in force at
//! the epoch of the graph's slot (under the cluster's epoch schedule) and the
//! extensions that make a mint refused; the edge weights they make.

use crate::decode::{Key, TransferFee};
use crate::error::{EngineError, Result};

use super::{check_id, PoolGraph};

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
pub(super) struct MintRules {
    pub(super) fee: Option<(TransferFee, TransferFee)>,
    pub(super) refused: Vec<String>,
}

impl PoolGraph {
    /// Tell the graph the chain's current slot (never goes back). Upserts carry their
    /// pool's slot and never move the chain's: one update cannot make the others stale.
    pub fn set_slot(&mut self, slot: u64) {
        self.slot = self.slot.max(slot);
        let epoch = self.epochs.epoch(self.slot);
        if epoch != self.epoch {
            self.epoch = epoch;
            self.version += 1; // a newer transfer fee may count in the quotes
            self.mints_at = self.version;
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
        self.version += 1; // its fee or refusal counts in the quotes from now on
        self.mints_at = self.version;
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
    pub(super) fn fee_now(&self, t: u32) -> Option<TransferFee> {
        let rules = self.mints.get(&t)?;
        if !rules.refused.is_empty() {
            return Some(REFUSED_FEE);
        }
        crate::token2022::epoch_fee(&rules.fee?, self.epoch).ok()
    }

    #[inline]
    pub(super) fn is_refused(&self, t: u32) -> bool {
        self.mints.get(&t).is_some_and(|r| !r.refused.is_empty())
    }

    /// Edge weights of a pool from its spot rates, the mints' transfer fees and refusals.
    pub(super) fn weights(&self, a: u32, b: u32, rate: [f64; 2]) -> [f64; 2] {
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
}

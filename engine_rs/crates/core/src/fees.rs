//! Priority-fee congestion over a sliding window of slots.
//!
//! Samples are compute-unit prices in micro-lamports per CU, tagged with the slot they were
//! seen in: one per slot from `getRecentPrioritizationFees` (the lowest fee that landed
//! in that slot for the accounts asked about) and one per swap seen on chain (its
//! `SetComputeUnitPrice`). The window holds the slots `(newest - window_slots, newest]`,
//! where `newest` is the highest slot ever added; a sample older than that is dropped on
//! arrival and older slots fall out as newer ones come in.
//!
//! * `percentile(p)` is nearest-rank: the `ceil(n·p/100)`-th smallest sample, with the
//!   index computed in f64 exactly as numpy's `percentile(method="inverted_cdf")` does
//!   (`n·(p/100) − 1`, rounded up unless it is whole, clipped to `[0, n−1]`), so the two
//!   agree at rank boundaries too.
//! * `congestion()` is the mean, over the slots of the window that have samples, of
//!   `min(1, ln(1 + m_s) / ln(1 + C))`, where `m_s` is the lowest CU price seen in slot `s`
//!   (what it took to land there) and `C` is the saturation price (default 1,000,000
//!   µlamports/CU = 1 lamport per CU). 0 = every slot had a transaction land for free;
//!   1 = in every slot even the cheapest landed transaction paid at least `C`. Log scale,
//!   because fees span six orders of magnitude.
//! * `recommend(cu_limit, p)` = the window's `p`-th percentile CU price and the priority
//!   fee it costs at that limit, `ceil(price × limit / 1e6)` lamports (spec §5.3).
//!
//! An empty window is an error ([`EngineError::EmptyWindow`]), never a silent 0.
//!
//! All samples live in one sorted multiset: sorted chunks of at most [`CHUNK`] values, so
//! an insert or removal moves at most one chunk and a rank query walks the chunk lengths.

use std::collections::BTreeMap;

use crate::error::{EngineError, Result};
use crate::scorer::priority_fee_lamports;

/// The runtime's `MAX_COMPUTE_UNIT_LIMIT` (agave `compute_budget_limits.rs`).
pub const MAX_COMPUTE_UNIT_LIMIT: u64 = 1_400_000;
/// Default saturation CU price of the congestion index: 1 lamport per CU.
pub const DEFAULT_SATURATION_CU_PRICE: u64 = 1_000_000;
/// Largest window accepted (about 1.5 hours of slots): the per-slot map stays small.
pub const MAX_WINDOW_SLOTS: u64 = 15_000;
const CHUNK: usize = 512;

/// Nearest-rank index into `n` sorted samples for percentile `p` in [0, 100], computed
/// the way numpy's `inverted_cdf` computes it (see the module docs).
pub fn nearest_rank_index(n: usize, p: f64) -> usize {
    let idx = n as f64 * (p / 100.0) - 1.0;
    let prev = idx.floor();
    let pick = if idx - prev == 0.0 { prev } else { prev + 1.0 };
    if pick <= 0.0 {
        0
    } else {
        (pick as usize).min(n.saturating_sub(1))
    }
}

/// Validate a percentile argument: finite and within [0, 100].
pub fn check_percentile(p: f64) -> Result<f64> {
    if p.is_finite() && (0.0..=100.0).contains(&p) {
        Ok(p)
    } else {
        Err(EngineError::InvalidInput(format!(
            "percentile must be within [0, 100], got {p}"
        )))
    }
}

/// A sorted multiset of u64 in chunks of at most `CHUNK` values.
#[derive(Debug, Clone, Default)]
struct SortedChunks {
    chunks: Vec<Vec<u64>>,
    len: usize,
}

impl SortedChunks {
    fn chunk_for(&self, v: u64) -> usize {
        // the first chunk whose last value is >= v (or the last chunk)
        let i = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|&last| last < v));
        i.min(self.chunks.len().saturating_sub(1))
    }

    fn insert(&mut self, v: u64) {
        self.len += 1;
        if self.chunks.is_empty() {
            self.chunks.push(vec![v]);
            return;
        }
        let ci = self.chunk_for(v);
        let chunk = &mut self.chunks[ci];
        let at = chunk.partition_point(|&x| x <= v);
        chunk.insert(at, v);
        if chunk.len() > 2 * CHUNK {
            let tail = chunk.split_off(CHUNK);
            self.chunks.insert(ci + 1, tail);
        }
    }

    /// Remove one copy of `v`; false when it is not there.
    fn remove(&mut self, v: u64) -> bool {
        if self.chunks.is_empty() {
            return false;
        }
        let ci = self.chunk_for(v);
        let chunk = &mut self.chunks[ci];
        let at = chunk.partition_point(|&x| x < v);
        if at >= chunk.len() || chunk[at] != v {
            return false;
        }
        chunk.remove(at);
        self.len -= 1;
        if chunk.is_empty() {
            self.chunks.remove(ci);
        }
        true
    }

    fn nth(&self, mut k: usize) -> Option<u64> {
        for c in &self.chunks {
            if k < c.len() {
                return Some(c[k]);
            }
            k -= c.len();
        }
        None
    }

    fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }
}

/// What one slot of the window holds.
#[derive(Debug, Clone, Default)]
struct SlotSamples {
    values: Vec<u64>,
    min: u64,
}

/// A recommended priority fee (see `engine_rs.records.PriorityFee`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriorityFee {
    pub cu_price_micro_lamports: u64,
    pub cu_limit: u64,
    pub priority_fee_lamports: u64,
    pub percentile: f64,
    pub samples: u64,
    pub newest_slot: u64,
}

/// The sliding-window fee estimator (see the module docs).
#[derive(Debug, Clone)]
pub struct FeeEstimator {
    window_slots: u64,
    saturation: u64,
    newest: Option<u64>,
    slots: BTreeMap<u64, SlotSamples>,
    sorted: SortedChunks,
    dropped: u64,
}

impl FeeEstimator {
    /// A window of `window_slots` slots (1..=15,000) and the congestion index's
    /// saturation CU price (> 0).
    pub fn new(window_slots: u64, saturation_cu_price: u64) -> Result<Self> {
        if window_slots == 0 || window_slots > MAX_WINDOW_SLOTS {
            return Err(EngineError::InvalidInput(format!(
                "window_slots must be within 1..={MAX_WINDOW_SLOTS}, got {window_slots}"
            )));
        }
        if saturation_cu_price == 0 {
            return Err(EngineError::InvalidInput(
                "saturation_cu_price must be > 0".into(),
            ));
        }
        Ok(Self {
            window_slots,
            saturation: saturation_cu_price,
            newest: None,
            slots: BTreeMap::new(),
            sorted: SortedChunks::default(),
            dropped: 0,
        })
    }

    pub fn window_slots(&self) -> u64 {
        self.window_slots
    }

    pub fn saturation_cu_price(&self) -> u64 {
        self.saturation
    }

    /// The highest slot ever added (the window's right edge), if any.
    pub fn newest_slot(&self) -> Option<u64> {
        self.newest
    }

    /// The oldest slot of the window that holds samples.
    pub fn oldest_slot(&self) -> Option<u64> {
        self.slots.keys().next().copied()
    }

    /// Samples in the window.
    pub fn len(&self) -> usize {
        self.sorted.len
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.len == 0
    }

    /// Slots of the window that hold samples.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Samples that arrived already older than the window (not kept).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The lowest slot still inside a window whose right edge is `newest`.
    fn floor_for(&self, newest: u64) -> u64 {
        newest.saturating_sub(self.window_slots - 1)
    }

    /// Add one sample; returns false (and counts it as dropped) when its slot is already
    /// outside the window.
    pub fn add(&mut self, slot: u64, cu_price: u64) -> bool {
        if let Some(newest) = self.newest {
            if slot < self.floor_for(newest) {
                self.dropped += 1;
                return false;
            }
        }
        if self.newest.is_none_or(|n| slot > n) {
            self.newest = Some(slot);
            self.evict_below(self.floor_for(slot));
        }
        let entry = self.slots.entry(slot).or_insert_with(|| SlotSamples {
            values: Vec::new(),
            min: u64::MAX,
        });
        entry.values.push(cu_price);
        entry.min = entry.min.min(cu_price);
        self.sorted.insert(cu_price);
        true
    }

    /// Add many `(slot, cu_price)` samples in order; returns how many were kept.
    pub fn add_many(&mut self, samples: &[(u64, u64)]) -> usize {
        samples.iter().filter(|&&(s, p)| self.add(s, p)).count()
    }

    fn evict_below(&mut self, floor: u64) {
        while let Some(entry) = self.slots.first_entry() {
            if *entry.key() >= floor {
                break;
            }
            let samples = entry.remove();
            if samples.values.len() * 4 > self.sorted.len {
                // a large share of the window: rebuild instead of removing one by one
                self.rebuild_sorted();
            } else {
                for v in samples.values {
                    self.sorted.remove(v);
                }
            }
        }
    }

    fn rebuild_sorted(&mut self) {
        let mut all: Vec<u64> = self
            .slots
            .values()
            .flat_map(|s| s.values.iter().copied())
            .collect();
        all.sort_unstable();
        self.sorted.clear();
        self.sorted.len = all.len();
        self.sorted.chunks = all.chunks(CHUNK).map(<[u64]>::to_vec).collect();
    }

    fn empty_error(&self) -> EngineError {
        EngineError::EmptyWindow(match self.newest {
            None => "no fee samples yet".into(),
            Some(n) => format!(
                "no fee samples in the last {} slots (newest slot {n})",
                self.window_slots
            ),
        })
    }

    /// Nearest-rank percentile `p` in [0, 100] of the samples in the window.
    pub fn percentile(&self, p: f64) -> Result<u64> {
        let p = check_percentile(p)?;
        if self.is_empty() {
            return Err(self.empty_error());
        }
        let k = nearest_rank_index(self.sorted.len, p);
        self.sorted
            .nth(k)
            .ok_or_else(|| EngineError::InvalidInput("percentile rank out of range".into()))
    }

    /// The congestion index in [0, 1] (see the module docs).
    pub fn congestion(&self) -> Result<f64> {
        if self.slots.is_empty() {
            return Err(self.empty_error());
        }
        let denom = (self.saturation as f64).ln_1p();
        let total: f64 = self
            .slots
            .values()
            .map(|s| ((s.min as f64).ln_1p() / denom).min(1.0))
            .sum();
        Ok(total / self.slots.len() as f64)
    }

    /// The `p`-th percentile CU price and what it costs at `cu_limit` (1..=1,400,000).
    pub fn recommend(&self, cu_limit: u64, p: f64) -> Result<PriorityFee> {
        if cu_limit == 0 || cu_limit > MAX_COMPUTE_UNIT_LIMIT {
            return Err(EngineError::InvalidInput(format!(
                "cu_limit must be within 1..={MAX_COMPUTE_UNIT_LIMIT}, got {cu_limit}"
            )));
        }
        let price = self.percentile(p)?;
        Ok(PriorityFee {
            cu_price_micro_lamports: price,
            cu_limit,
            priority_fee_lamports: priority_fee_lamports(price, cu_limit),
            percentile: p,
            samples: self.sorted.len as u64,
            newest_slot: self.newest.unwrap_or(0),
        })
    }

    /// Per slot of the window (ascending): `(slot, samples, lowest, p-th percentile)`,
    /// for a sparkline by slot.
    pub fn by_slot(&self, p: f64) -> Result<Vec<(u64, u64, u64, u64)>> {
        let p = check_percentile(p)?;
        Ok(self
            .slots
            .iter()
            .map(|(&slot, s)| {
                let mut v = s.values.clone();
                v.sort_unstable();
                let k = nearest_rank_index(v.len(), p);
                (
                    slot,
                    v.len() as u64,
                    s.min,
                    v.get(k).copied().unwrap_or(s.min),
                )
            })
            .collect())
    }

    /// Forget every sample (the window's edge too).
    pub fn clear(&mut self) {
        self.slots.clear();
        self.sorted.clear();
        self.newest = None;
        self.dropped = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_percentile(values: &[u64], p: f64) -> u64 {
        let mut v = values.to_vec();
        v.sort_unstable();
        v[nearest_rank_index(v.len(), p)]
    }

    #[test]
    fn rank_index_matches_nearest_rank() {
        assert_eq!(nearest_rank_index(1, 0.0), 0);
        assert_eq!(nearest_rank_index(1, 100.0), 0);
        assert_eq!(nearest_rank_index(4, 25.0), 0);
        assert_eq!(nearest_rank_index(4, 25.1), 1);
        assert_eq!(nearest_rank_index(4, 50.0), 1);
        assert_eq!(nearest_rank_index(4, 100.0), 3);
        assert_eq!(nearest_rank_index(30, 10.0), 2);
        assert_eq!(nearest_rank_index(10, 99.0), 9);
    }

    #[test]
    fn empty_window_is_an_error_not_zero() {
        let f = FeeEstimator::new(150, DEFAULT_SATURATION_CU_PRICE).expect("valid");
        assert!(matches!(
            f.percentile(50.0),
            Err(EngineError::EmptyWindow(_))
        ));
        assert!(matches!(f.congestion(), Err(EngineError::EmptyWindow(_))));
        assert!(matches!(
            f.recommend(200_000, 75.0),
            Err(EngineError::EmptyWindow(_))
        ));
    }

    #[test]
    fn old_slots_fall_out_of_the_window() {
        let mut f = FeeEstimator::new(10, DEFAULT_SATURATION_CU_PRICE).expect("valid");
        for s in 0..10 {
            assert!(f.add(s, 1_000 + s));
        }
        assert_eq!(f.len(), 10);
        assert!(f.add(12, 5)); // window is now (2, 12]: slots 0, 1, 2 leave
        assert_eq!(f.oldest_slot(), Some(3));
        assert_eq!(f.len(), 8);
        assert_eq!(f.percentile(0.0), Ok(5));
        assert!(!f.add(2, 7)); // too old
        assert_eq!(f.dropped(), 1);
        assert!(f.add(3, 7)); // oldest slot still in
        assert!(f.add(1_000, 9)); // everything else leaves
        assert_eq!(f.len(), 1);
        assert_eq!(f.percentile(50.0), Ok(9));
    }

    #[test]
    fn percentile_matches_a_sort_through_chunk_splits_and_evictions() {
        let mut f = FeeEstimator::new(40, DEFAULT_SATURATION_CU_PRICE).expect("valid");
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut kept: Vec<(u64, u64)> = Vec::new();
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let slot = i / 300 + (x % 5);
            let price = x % 2_000;
            if f.add(slot, price) {
                kept.push((slot, price));
            }
            if i % 997 == 0 {
                let newest = f.newest_slot().unwrap_or(0);
                let floor = newest.saturating_sub(39);
                let live: Vec<u64> = kept
                    .iter()
                    .filter(|(s, _)| *s >= floor)
                    .map(|&(_, p)| p)
                    .collect();
                assert_eq!(f.len(), live.len());
                for p in [0.0, 1.0, 25.0, 50.0, 90.0, 99.0, 100.0] {
                    assert_eq!(f.percentile(p), Ok(naive_percentile(&live, p)));
                }
            }
        }
    }

    #[test]
    fn congestion_is_zero_for_free_slots_and_one_at_saturation() {
        let mut f = FeeEstimator::new(150, 1_000_000).expect("valid");
        f.add(1, 0);
        f.add(1, 5_000_000);
        f.add(2, 0);
        assert_eq!(f.congestion(), Ok(0.0));
        let mut g = FeeEstimator::new(150, 1_000_000).expect("valid");
        g.add(1, 1_000_000);
        g.add(2, 9_000_000);
        assert_eq!(g.congestion(), Ok(1.0));
        let mut h = FeeEstimator::new(150, 1_000_000).expect("valid");
        h.add(1, 999); // ln(1000)/ln(1000001) ~ 0.5
        let c = h.congestion().expect("non-empty");
        assert!((c - 0.5).abs() < 1e-6, "{c}");
    }

    #[test]
    fn recommend_prices_the_limit_like_the_runtime() {
        let mut f = FeeEstimator::new(150, DEFAULT_SATURATION_CU_PRICE).expect("valid");
        f.add(100, 200);
        let r = f.recommend(100_000, 50.0).expect("non-empty");
        assert_eq!(r.cu_price_micro_lamports, 200);
        assert_eq!(r.priority_fee_lamports, 20); // spec §5.3 vector
        assert!(f.recommend(0, 50.0).is_err());
        assert!(f.recommend(MAX_COMPUTE_UNIT_LIMIT + 1, 50.0).is_err());
        assert!(f.percentile(f64::NAN).is_err());
        assert!(f.percentile(100.5).is_err());
    }

    #[test]
    fn bad_construction_is_an_error() {
        assert!(FeeEstimator::new(0, 1).is_err());
        assert!(FeeEstimator::new(MAX_WINDOW_SLOTS + 1, 1).is_err());
        assert!(FeeEstimator::new(150, 0).is_err());
    }
}

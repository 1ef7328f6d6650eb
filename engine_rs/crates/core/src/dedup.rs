//! First-copy-wins de-duplication of messages arriving from several endpoints, with
//! per-endpoint lead/lag statistics.
//!
//! Every RPC node sends its own copy of the same notification; the first copy of a key is
//! accepted (decoded once), later copies are rejected and only record how far behind the
//! first copy they arrived. Memory is bounded: at most `capacity` keys are remembered, in
//! two generations of `capacity / 2` keys by first arrival. When the current generation
//! is full, the older one is forgotten whole and the current one becomes the older. So
//! the oldest keys go first, and a key is remembered while at least `capacity / 2` (and
//! at most `capacity`) newer keys arrive. Dropping a generation at once, rather than one
//! key per insert, saves a cold hash-table probe per new key. A copy arriving after its
//! key was forgotten counts as a new first copy.
//!
//! Keys are the caller's bytes, stored as a 128-bit XXH3 fingerprint under a per-process
//! random seed (no allocation per key; a false "duplicate" needs a 128-bit collision, about
//! 2^-128 per pair of keys, and the seed keeps anyone from aiming for one).
//!
//! Per endpoint: `first_seen` (copies it delivered first), `duplicates` (copies that
//! arrived after another endpoint's, or its own, first copy), the mean lag behind the
//! first copy over all its duplicates, and the p99 lag (nearest rank) over its most recent
//! `lag_window` duplicates. Lags are `recv_ns - first_recv_ns` as given by the caller (a
//! monotonic clock); they can be negative if the caller's timestamps are not in call order.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use twox_hash::XxHash3_128;

use crate::error::{EngineError, Result};
use crate::fees::nearest_rank_index;

/// Largest capacity accepted (16 Mi keys, ~600 MB): beyond that, something is wrong.
pub const MAX_CAPACITY: usize = 1 << 24;
/// Smallest capacity accepted: two generations of at least one key.
pub const MIN_CAPACITY: usize = 2;
/// Largest lag window accepted per endpoint.
pub const MAX_LAG_WINDOW: usize = 1 << 20;
/// Endpoint ids are small integers (an index into the session's endpoint list).
pub const MAX_ENDPOINT: u32 = u16::MAX as u32;

/// The fingerprints are already uniformly random: the map uses their low 64 bits as is.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // only reached for non-u128 keys, which this map never has
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, i: u128) {
        self.0 = i as u64;
    }
}

type FingerprintMap<V> = HashMap<u128, V, BuildHasherDefault<PassThrough>>;

#[derive(Debug, Clone, Default)]
struct EndpointState {
    first_seen: u64,
    duplicates: u64,
    lag_sum: i128,
    lags: Vec<i64>, // ring of the most recent `lag_window` lags
    next: usize,
}

/// Statistics of one endpoint (see `engine_rs.records.DedupStats`).
#[derive(Debug, Clone, PartialEq)]
pub struct DedupStats {
    pub endpoint: u32,
    pub first_seen: u64,
    pub duplicates: u64,
    pub lag_mean_ns: Option<f64>,
    pub lag_p50_ns: Option<i64>,
    pub lag_p99_ns: Option<i64>,
    pub lag_samples: u64,
}

/// The de-duplicator (see the module docs).
pub struct Deduper {
    capacity: usize,
    lag_window: usize,
    half: usize,
    seed: u64,
    // first-arrival time by fingerprint: the current generation and the older one
    current: FingerprintMap<i64>,
    older: FingerprintMap<i64>,
    endpoints: Vec<EndpointState>,
    evicted: u64,
}

impl Deduper {
    /// Remember at most `capacity` keys (>= 2); keep `lag_window` lags per endpoint for
    /// the p99.
    pub fn new(capacity: usize, lag_window: usize) -> Result<Self> {
        if !(MIN_CAPACITY..=MAX_CAPACITY).contains(&capacity) {
            return Err(EngineError::InvalidInput(format!(
                "capacity must be within {MIN_CAPACITY}..={MAX_CAPACITY}, got {capacity}"
            )));
        }
        if lag_window == 0 || lag_window > MAX_LAG_WINDOW {
            return Err(EngineError::InvalidInput(format!(
                "lag_window must be within 1..={MAX_LAG_WINDOW}, got {lag_window}"
            )));
        }
        let seed = RandomState::new().build_hasher().finish();
        let half = capacity / 2;
        let table = || {
            FingerprintMap::with_capacity_and_hasher(
                half.min(1 << 16),
                BuildHasherDefault::default(),
            )
        };
        Ok(Self {
            capacity,
            lag_window,
            half,
            seed,
            current: table(),
            older: table(),
            endpoints: Vec::new(),
            evicted: 0,
        })
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn lag_window(&self) -> usize {
        self.lag_window
    }

    /// Keys remembered now.
    pub fn len(&self) -> usize {
        self.current.len() + self.older.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys forgotten to stay within capacity.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The fingerprint of a key.
    pub fn fingerprint(&self, key: &[u8]) -> u128 {
        XxHash3_128::oneshot_with_seed(self.seed, key)
    }

    /// The fingerprint of the key `parts` make end to end (the same as `fingerprint` of
    /// their concatenation), hashed where they lie: a large part (a gRPC update's account
    /// data, ~91 KB for an order book) is not copied into one key first.
    pub fn fingerprint_parts(&self, parts: &[&[u8]]) -> u128 {
        let mut h = XxHash3_128::with_seed(self.seed);
        for p in parts {
            h.write(p);
        }
        h.finish_128()
    }

    /// A hasher of this deduper's fingerprints: the key's parts `update`d into it in
    /// order, then `digest128`, give `fingerprint` of their concatenation (a replay's
    /// ingest keeps one fed with a large copy's bytes, to finish it per frame).
    pub fn hasher(&self) -> XxHash3_128 {
        XxHash3_128::with_seed(self.seed)
    }

    /// Whether a key is remembered.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.contains_fingerprint(self.fingerprint(key))
    }

    /// Whether a fingerprinted key is remembered.
    pub fn contains_fingerprint(&self, fp: u128) -> bool {
        self.current.contains_key(&fp) || self.older.contains_key(&fp)
    }

    /// Check an endpoint id and a key before `accept_fingerprint`.
    pub fn check(key: &[u8], endpoint: i64) -> Result<u16> {
        if key.is_empty() {
            return Err(EngineError::InvalidInput(
                "dedup key must not be empty".into(),
            ));
        }
        u16::try_from(endpoint).map_err(|_| {
            EngineError::InvalidInput(format!(
                "endpoint must be within 0..={MAX_ENDPOINT}, got {endpoint}"
            ))
        })
    }

    /// Accept the first copy of `key`; a later copy returns false and records its lag.
    pub fn accept(&mut self, key: &[u8], endpoint: i64, recv_ns: i64) -> Result<bool> {
        let ep = Self::check(key, endpoint)?;
        let fp = self.fingerprint(key);
        Ok(self.accept_fingerprint(fp, ep, recv_ns))
    }

    #[inline]
    fn endpoint_mut(&mut self, ep: u16) -> &mut EndpointState {
        let i = usize::from(ep);
        if self.endpoints.len() <= i {
            self.endpoints.resize_with(i + 1, EndpointState::default);
        }
        &mut self.endpoints[i]
    }

    /// [`Self::accept`] for a key already fingerprinted and checked.
    #[inline]
    pub fn accept_fingerprint(&mut self, fp: u128, ep: u16, recv_ns: i64) -> bool {
        let first = match self.current.get(&fp) {
            Some(&t) => Some(t),
            None => self.older.get(&fp).copied(),
        };
        if let Some(first_ns) = first {
            let lag = recv_ns.saturating_sub(first_ns);
            let window = self.lag_window;
            let st = self.endpoint_mut(ep);
            st.duplicates += 1;
            st.lag_sum += i128::from(lag);
            if st.lags.len() < window {
                st.lags.push(lag);
            } else {
                st.lags[st.next] = lag;
            }
            st.next += 1;
            if st.next == window {
                st.next = 0;
            }
            return false;
        }
        if self.current.len() >= self.half {
            // the current generation is full: forget the older one whole
            self.evicted += self.older.len() as u64;
            self.older.clear();
            std::mem::swap(&mut self.current, &mut self.older);
        }
        self.current.insert(fp, recv_ns);
        self.endpoint_mut(ep).first_seen += 1;
        true
    }

    /// Undo the acceptance of a first copy from `ep` (its receiver refused it): the key
    /// is forgotten and the copy no longer counts as `ep`'s lead. False when the key was
    /// not remembered.
    pub fn retract_fingerprint(&mut self, fp: u128, ep: u16) -> bool {
        if self.current.remove(&fp).is_none() && self.older.remove(&fp).is_none() {
            return false;
        }
        let st = self.endpoint_mut(ep);
        st.first_seen = st.first_seen.saturating_sub(1);
        true
    }

    /// Statistics of every endpoint that delivered anything, by endpoint id.
    pub fn stats(&self) -> Vec<DedupStats> {
        self.endpoints
            .iter()
            .enumerate()
            .filter(|(_, st)| st.first_seen + st.duplicates > 0)
            .map(|(i, st)| {
                let (mean, p50, p99) = if st.duplicates == 0 {
                    (None, None, None)
                } else {
                    let mut lags = st.lags.clone();
                    lags.sort_unstable();
                    let p50 = lags.get(nearest_rank_index(lags.len(), 50.0)).copied();
                    let p99 = lags.get(nearest_rank_index(lags.len(), 99.0)).copied();
                    (Some(st.lag_sum as f64 / st.duplicates as f64), p50, p99)
                };
                DedupStats {
                    endpoint: i as u32,
                    first_seen: st.first_seen,
                    duplicates: st.duplicates,
                    lag_mean_ns: mean,
                    lag_p50_ns: p50,
                    lag_p99_ns: p99,
                    lag_samples: st.lags.len() as u64,
                }
            })
            .collect()
    }

    /// Forget every key and every statistic (the seed stays).
    pub fn clear(&mut self) {
        self.current.clear();
        self.older.clear();
        self.endpoints.clear();
        self.evicted = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_the_reference_xxh3_128_under_the_seed() {
        // the reference implementation (xxhash-rust, its own vector path): the same 128
        // bits for every length across XXH3's short, medium and long paths (stripes of
        // 64 bytes, blocks of 1,024), one-shot and streamed in uneven parts
        let d = Deduper::new(16, 8).expect("valid");
        for len in (0usize..1_300).chain([4_095, 4_096, 4_097, 91_000, 121_337]) {
            let key: Vec<u8> = (0..len).map(|i| (i * 131 % 253) as u8).collect();
            let want = xxhash_rust::xxh3::xxh3_128_with_seed(&key, d.seed);
            assert_eq!(d.fingerprint(&key), want, "len {len}");
            let (a, b) = key.split_at(len / 3);
            let mut h = d.hasher();
            h.write(a);
            h.write(b);
            assert_eq!(h.finish_128(), want, "len {len} streamed");
            let mut fed = d.hasher();
            fed.write(a);
            let mut more = fed.clone();
            more.write(b);
            assert_eq!(more.finish_128(), want, "len {len} cloned");
        }
    }

    #[test]
    fn a_key_in_parts_has_the_fingerprint_of_the_whole_key() {
        let d = Deduper::new(16, 8).expect("valid");
        // lengths across xxh3's short (<= 16, <= 128, <= 240 bytes) and long paths, split
        // at every kind of boundary (an empty part, inside and across its 256-byte stripes)
        for len in [
            0usize, 1, 13, 16, 17, 128, 129, 240, 241, 1024, 1025, 91_000,
        ] {
            let key: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let whole = d.fingerprint(&key);
            for cut in [0, 1, len / 3, len / 2, len.saturating_sub(13), len] {
                let cut = cut.min(len);
                let (a, b) = key.split_at(cut);
                let mid = b.len() / 2;
                let (b1, b2) = b.split_at(mid);
                assert_eq!(
                    d.fingerprint_parts(&[a, b1, &[], b2]),
                    whole,
                    "len {len} cut {cut}"
                );
            }
        }
        let other = Deduper::new(16, 8).expect("valid"); // (another seed: another hash)
        assert_ne!(
            other.fingerprint_parts(&[b"key"]),
            d.fingerprint_parts(&[b"key"])
        );
    }

    #[test]
    fn first_copy_wins_and_later_copies_record_their_lag() {
        let mut d = Deduper::new(16, 8).expect("valid");
        assert_eq!(d.accept(b"a", 0, 100), Ok(true));
        assert_eq!(d.accept(b"a", 1, 130), Ok(false));
        assert_eq!(d.accept(b"a", 2, 150), Ok(false));
        assert_eq!(d.accept(b"b", 2, 200), Ok(true));
        assert_eq!(d.accept(b"b", 0, 210), Ok(false));
        let s = d.stats();
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].first_seen, s[0].duplicates), (1, 1));
        assert_eq!(s[0].lag_mean_ns, Some(10.0));
        assert_eq!(s[1].lag_p99_ns, Some(30));
        assert_eq!((s[2].first_seen, s[2].duplicates), (1, 1));
        assert_eq!(s[2].lag_mean_ns, Some(50.0));
    }

    #[test]
    fn memory_is_bounded_and_the_oldest_keys_go_first() {
        let mut d = Deduper::new(4, 8).expect("valid"); // generations of 2
        for k in [b"k1", b"k2", b"k3", b"k4"] {
            assert_eq!(d.accept(k, 0, 0), Ok(true));
        }
        assert_eq!((d.len(), d.evicted()), (4, 0));
        assert_eq!(d.accept(b"k5", 0, 0), Ok(true)); // k1, k2 (the older generation) go
        assert_eq!((d.len(), d.evicted()), (3, 2));
        assert!(!d.contains(b"k1") && !d.contains(b"k2"));
        assert_eq!(d.accept(b"k3", 1, 5), Ok(false)); // still remembered
        assert_eq!(d.accept(b"k1", 1, 5), Ok(true)); // forgotten: a first copy again
        assert!(d.len() <= d.capacity());
    }

    #[test]
    fn p99_uses_the_recent_lag_window() {
        let mut d = Deduper::new(1_000, 100).expect("valid");
        for i in 0..300i64 {
            let key = i.to_le_bytes();
            d.accept(&key, 0, 0).expect("valid");
            d.accept(&key, 1, if i < 200 { 1_000_000 } else { i })
                .expect("valid");
        }
        let s = &d.stats()[1];
        assert_eq!(s.lag_samples, 100);
        assert_eq!(s.lag_p99_ns, Some(298)); // the old large lags left the window
        assert_eq!(s.duplicates, 300);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(Deduper::new(1, 1).is_err());
        assert!(Deduper::new(1, 0).is_err());
        let mut d = Deduper::new(4, 4).expect("valid");
        assert!(d.accept(b"", 0, 0).is_err());
        assert!(d.accept(b"x", -1, 0).is_err());
        assert!(d.accept(b"x", 70_000, 0).is_err());
        assert!(d.is_empty());
    }
}

//! The derive-once cache of program-derived addresses ([`PdaCache`]): each address derived
//! once (by `derive.rs`, the runtime's derivation) and repeats answered from a hash map
//! (with lookups of their own for the Whirlpool addresses the feeds ask for most). A
//! venue's own addresses are in its folder (a Whirlpool's in
//! `venues/orca_whirlpool/pda.rs`, Raydium CLMM's in `venues/raydium_clmm/pda.rs`).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::b58;
use crate::error::{EngineError, Result};
use crate::venues::orca_whirlpool::pda::{oracle_address, tick_array_address, whirlpool_address};

pub use crate::derive::{
    create_program_address, find_program_address, is_on_curve, MAX_SEEDS, MAX_SEED_LEN, PDA_MARKER,
};

/// The rustc/Firefox "Fx" hash: a multiply-rotate per 8 bytes. [`PdaCache`]'s keys are
/// public addresses the caller chose, not attacker-controlled, and a hit must cost
/// nanoseconds (SipHash over a 44-byte id costs more than the rest of the lookup).
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

const FX_K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_i32(&mut self, i: i32) {
        self.add(u64::from(i as u32));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map on [`FxHasher`].
pub type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// An address and its bump.
pub type Derived = ([u8; 32], u8);
/// A Whirlpool's identity: config, mint a, mint b, fee tier index.
type WhirlpoolKey = ([u8; 32], [u8; 32], [u8; 32], u16);

/// Derive-once store of PDAs with O(1) lookups (twin: `engine_rs.python.pda.PdaCache`).
///
/// The keys, the derivations and the hit / miss counts are here; the value kept per
/// address is the caller's `V`, made once from the [`Derived`] address by the `wrap`
/// function of the lookup that missed (the Python binding keeps the ready
/// `(address, bump)` tuple, so a hit allocates nothing). Unbounded on purpose: a session
/// holds a few hundred pools with a handful of tick arrays each.
pub struct PdaCache<V> {
    /// base58 text -> bytes of the ids callers pass as text, so a hit never decodes
    ids: FxHashMap<String, [u8; 32]>,
    tick_arrays: FxHashMap<([u8; 32], i32), V>,
    whirlpools: FxHashMap<WhirlpoolKey, V>,
    oracles: FxHashMap<[u8; 32], V>,
    generic: FxHashMap<Vec<u8>, V>,
    hits: u64,
    misses: u64,
}

impl<V> Default for PdaCache<V> {
    fn default() -> Self {
        Self {
            ids: FxHashMap::default(),
            tick_arrays: FxHashMap::default(),
            whirlpools: FxHashMap::default(),
            oracles: FxHashMap::default(),
            generic: FxHashMap::default(),
            hits: 0,
            misses: 0,
        }
    }
}

/// The cached value of `key`, or `wrap(derive())` stored first; counts the hit or miss.
fn cached<'m, K: Hash + Eq, V, E: From<EngineError>>(
    map: &'m mut FxHashMap<K, V>,
    key: K,
    counts: (&mut u64, &mut u64),
    derive: impl FnOnce() -> Result<Derived>,
    wrap: impl FnOnce(Derived) -> std::result::Result<V, E>,
) -> std::result::Result<&'m V, E> {
    match map.entry(key) {
        Entry::Occupied(e) => {
            *counts.0 += 1;
            Ok(e.into_mut())
        }
        Entry::Vacant(e) => {
            *counts.1 += 1;
            let v = wrap(derive()?)?;
            Ok(e.insert(v))
        }
    }
}

impl<V> PdaCache<V> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes of an address given as base58 text, decoded once (`Base58` errors as
    /// [`b58::decode_32`]).
    pub fn id(&mut self, text: &str) -> Result<[u8; 32]> {
        if let Some(v) = self.ids.get(text) {
            return Ok(*v);
        }
        let v = b58::decode_32(text)?;
        self.ids.insert(text.to_owned(), v);
        Ok(v)
    }

    /// The cache key of `find_program_address(seeds, program)`: the program id, then
    /// each seed after its length (seeds concatenate ambiguously).
    pub fn seeds_key(program: &[u8; 32], seeds: &[&[u8]]) -> Vec<u8> {
        let mut key = program.to_vec();
        for p in seeds {
            key.push(p.len().min(255) as u8);
            key.extend_from_slice(p);
        }
        key
    }

    /// [`find_program_address`], derived once.
    pub fn find<E: From<EngineError>>(
        &mut self,
        seeds: &[&[u8]],
        program: &[u8; 32],
        wrap: impl FnOnce(Derived) -> std::result::Result<V, E>,
    ) -> std::result::Result<&V, E> {
        let key = Self::seeds_key(program, seeds);
        let counts = (&mut self.hits, &mut self.misses);
        cached(
            &mut self.generic,
            key,
            counts,
            || find_program_address(seeds, program),
            wrap,
        )
    }

    /// [`tick_array_address`], derived once.
    pub fn tick_array<E: From<EngineError>>(
        &mut self,
        whirlpool: &[u8; 32],
        start_tick_index: i32,
        wrap: impl FnOnce(Derived) -> std::result::Result<V, E>,
    ) -> std::result::Result<&V, E> {
        let counts = (&mut self.hits, &mut self.misses);
        cached(
            &mut self.tick_arrays,
            (*whirlpool, start_tick_index),
            counts,
            || tick_array_address(whirlpool, start_tick_index),
            wrap,
        )
    }

    /// [`whirlpool_address`], derived once.
    pub fn whirlpool<E: From<EngineError>>(
        &mut self,
        config: &[u8; 32],
        mint_a: &[u8; 32],
        mint_b: &[u8; 32],
        fee_tier_index: u16,
        wrap: impl FnOnce(Derived) -> std::result::Result<V, E>,
    ) -> std::result::Result<&V, E> {
        let counts = (&mut self.hits, &mut self.misses);
        cached(
            &mut self.whirlpools,
            (*config, *mint_a, *mint_b, fee_tier_index),
            counts,
            || whirlpool_address(config, mint_a, mint_b, fee_tier_index),
            wrap,
        )
    }

    /// [`oracle_address`], derived once.
    pub fn oracle<E: From<EngineError>>(
        &mut self,
        whirlpool: &[u8; 32],
        wrap: impl FnOnce(Derived) -> std::result::Result<V, E>,
    ) -> std::result::Result<&V, E> {
        let counts = (&mut self.hits, &mut self.misses);
        cached(
            &mut self.oracles,
            *whirlpool,
            counts,
            || oracle_address(whirlpool),
            wrap,
        )
    }

    /// Of the tick arrays of `whirlpool` starting at `starts`, those not cached yet.
    /// Derive them with [`crate::venues::orca_whirlpool::pda::derive_tick_arrays`] (no lookup counted: a warm-up is not a
    /// lookup) and keep them with [`Self::insert_tick_array`].
    pub fn missing_tick_arrays(&self, whirlpool: &[u8; 32], starts: &[i32]) -> Vec<i32> {
        starts
            .iter()
            .copied()
            .filter(|s| !self.tick_arrays.contains_key(&(*whirlpool, *s)))
            .collect()
    }

    pub fn insert_tick_array(&mut self, whirlpool: &[u8; 32], start: i32, value: V) {
        self.tick_arrays.insert((*whirlpool, start), value);
    }

    /// Whether the address of a [`Self::seeds_key`] is cached (no lookup counted).
    pub fn has_seeds(&self, key: &[u8]) -> bool {
        self.generic.contains_key(key)
    }

    /// The cached address of a [`Self::seeds_key`] (no lookup counted).
    pub fn seeds(&self, key: &[u8]) -> Option<&V> {
        self.generic.get(key)
    }

    pub fn insert_seeds(&mut self, key: Vec<u8>, value: V) {
        self.generic.insert(key, value);
    }

    /// Lookups answered from the cache.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Lookups that had to derive.
    pub fn misses(&self) -> u64 {
        self.misses
    }

    /// Addresses held.
    pub fn len(&self) -> usize {
        self.tick_arrays.len() + self.whirlpools.len() + self.oracles.len() + self.generic.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forget everything, the counters too.
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b58;
    use crate::venues::orca_whirlpool::pda::{derive_tick_arrays, tick_array_starts};
    use crate::venues::orca_whirlpool::PROGRAM as WHIRLPOOL_PROGRAM_ID;

    fn id(s: &str) -> [u8; 32] {
        b58::decode_32(s).expect("valid address")
    }

    #[test]
    fn the_cache_derives_once_and_counts() {
        let mut cache: PdaCache<Derived> = PdaCache::new();
        let w = id("2kJmUjxWBwL2NGPBV2PiA5hWtmLCqcKY6reQgkrPtaeS");
        assert_eq!(
            cache.id("2kJmUjxWBwL2NGPBV2PiA5hWtmLCqcKY6reQgkrPtaeS"),
            Ok(w)
        );
        assert!(cache.id("not base58!").is_err());
        let mut wrapped = 0;
        for _ in 0..3 {
            let got = *cache
                .tick_array(&w, 0, |d| {
                    wrapped += 1;
                    Ok::<_, EngineError>(d)
                })
                .expect("derives");
            assert_eq!(
                b58::encode(&got.0),
                "8PhPzk7n4wU98Z6XCbVtPai2LtXSxYnfjkmgWuoAU8Zy"
            );
        }
        assert_eq!((wrapped, cache.hits(), cache.misses()), (1, 2, 1));
        let o = *cache.oracle(&w, Ok::<_, EngineError>).expect("derives");
        assert_eq!(o, oracle_address(&w).expect("derives"));
        let f = *cache
            .find(
                &[b"oracle", &w],
                &WHIRLPOOL_PROGRAM_ID,
                Ok::<_, EngineError>,
            )
            .expect("derives");
        assert_eq!(f, o);
        // seeds "ab" + "c" and "a" + "bc" are different keys
        let k1 = PdaCache::<Derived>::seeds_key(&w, &[b"ab", b"c"]);
        let k2 = PdaCache::<Derived>::seeds_key(&w, &[b"a", b"bc"]);
        assert_ne!(k1, k2);
        assert_eq!(cache.misses(), 3);
        // a warm-up derives what is missing without counting lookups
        let starts = tick_array_starts(64, 100, 1).expect("valid");
        let todo = cache.missing_tick_arrays(&w, &starts);
        assert_eq!(todo, [-5632, 5632]);
        for (s, d) in todo
            .iter()
            .zip(derive_tick_arrays(&w, &todo).expect("derives"))
        {
            cache.insert_tick_array(&w, *s, d);
        }
        assert!(cache.missing_tick_arrays(&w, &starts).is_empty());
        assert_eq!((cache.hits(), cache.misses(), cache.len()), (2, 3, 5));
        // a failed derivation is a counted miss that keeps nothing
        let too_many: Vec<&[u8]> = (0..16).map(|_| &b"x"[..]).collect();
        assert!(cache.find(&too_many, &w, Ok::<_, EngineError>).is_err());
        assert_eq!((cache.misses(), cache.len()), (4, 5));
        cache.clear();
        assert_eq!((cache.hits(), cache.misses(), cache.len()), (0, 0, 0));
    }

    #[test]
    fn fx_hash_spreads_keys() {
        use std::hash::BuildHasher;
        let b = BuildHasherDefault::<FxHasher>::default();
        let hashes: std::collections::HashSet<u64> =
            (0..1000i32).map(|i| b.hash_one((&[7u8; 32], i))).collect();
        assert_eq!(hashes.len(), 1000);
    }
}

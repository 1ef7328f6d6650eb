//! The feed hot path: a raw PubSub frame in, the graph updated (twin:
//! `engine_rs/python/ingest.py`, whose docstring is the specification).
//!
//! [`FeedIngest::frame`] takes the frame's bytes as the socket delivered them and does
//! everything in one call: JSON (read as Python's `json.loads` reads it, see [`json`]),
//! base64, the endpoint-independent dedup key (first copy wins; later copies only update
//! that endpoint's lead/lag), the decode of the account, the assembly of its pool (AMM v4
//! and CP-Swap reserves are the vault balances minus the amounts that are not reserves;
//! Whirlpool ticks come from its tick arrays) and the upsert into the [`PoolGraph`].
//!
//! What depends on the DEX — decoding a pool account, its identity, mints, vaults, the
//! accounts of its own it follows, assembling its quote state — is its venue's
//! ([`crate::venues`]); this module keeps what every venue shares: roles, vault mints,
//! identity changes waiting for a re-fetch, slots, versions and quarantine, and the
//! Token-2022 mints of the pools' vaults: a vault owned by Token-2022 gives its mint the
//! role `mint` (watched, its bytes handed to [`PoolGraph::set_mint`] by every path), and
//! its pool stays out of the graph until the graph took that mint, so no quote is made
//! without its transfer fee. SPL Token mints are never followed.
//!
//! Every check runs in the twin's order, so the same input fails with the same class:
//! a frame that is not JSON-RPC PubSub is [`EngineError::Frame`]; an account that does not
//! decode (wrong owner, size, discriminator, or a vault of the wrong mint) a decode error;
//! an impossible pool state `InvalidInput` (the pool then leaves the graph until a good
//! update comes). Counters move exactly where the twin's do, also on the way to an error.
//!
//! Dedup keys: `b"slot" ‖ slot` and `signature [‖ "!"]` as in the twin; an account's key
//! is the (seeded, 128-bit) fingerprint of `owner ‖ 0 ‖ data ‖ slot ‖ account id ‖ 0xFF`
//! where the twin keys `pubkey ‖ slot ‖ blake2b(owner ‖ 0 ‖ data)`: different keys, the
//! same accept decisions.
//!
//! Speed (a ~1.1 KB Whirlpool notification is the case that counts): frames shaped like
//! a recent one skip most of the JSON parse (see [`json`]); strings are scanned and
//! base64 decoded with SSE2/AVX2; the buffers are reused; pubkeys are interned (an
//! account is an index); base58 is encoded only when a pool names new mints, vaults or
//! config; a Whirlpool's sorted, checked tick list is rebuilt only when a tick array
//! changes, and pool ids are checked once, not on every upsert.
//!
//! Integrity (the twin's module docstring has the rules): an endpoint's slot never goes
//! back; the chain's slot comes from a strict majority of the voting endpoints'
//! plausible slots — of exactly two, the steady one ahead leads a lagging one, within
//! [`MAX_LEADER_GAP`] of where the other is expected at the chain's pace — never one
//! frame; account updates never go back in slot; copies of one account and slot that
//! differ are decided by majority; a pool's identity and a vault's mint and token program
//! change only through `account` (the snapshot or a re-fetch, asked for in
//! [`FeedIngest::take_refetch`]); an endpoint that disagrees is quarantined and loses
//! first-copy rights until it agrees again; a refused first copy is no lead.

pub mod copies;
pub mod geyser;
pub mod json;

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};

use twox_hash::XxHash3_128;

use crate::b58;
use crate::decode::{self, Key};
use crate::dedup::{DedupStats, Deduper};
use crate::error::{EngineError, Result};
use crate::graph::{EpochSchedule, PoolGraph};
use crate::venues::orca_whirlpool::Whirlpool;
use crate::venues::{self, Assembly, Own, OwnAccount, Record, VenueId, VENUES};

pub use json::Input;

pub const SUB_KINDS: [&str; 3] = ["account", "logs", "slot"];
/// The owner of an account whose owner text is not an address: matches no program.
const NOBODY: Key = [0xFF; 32];
/// The system program: the owner of an account that does not exist.
const SYSTEM_PROGRAM: Key = [0; 32];
const NO_ACCOUNT: u32 = u32::MAX;

/// Slots an endpoint or an account update may be ahead of the chain's slot...
pub const MAX_SLOT_LEAD: u64 = 32;
/// ... plus one slot per this much time since the chain's slot last moved.
pub const SLOT_ALLOWANCE_NS: i128 = 250_000_000;
/// An endpoint's slot votes while it moved at most this long ago...
pub const LIVE_NS: i128 = 10_000_000_000;
/// ... or [`LIVE_STEPS`] of its own slot steps, but never less than this.
pub const LIVE_MIN_NS: i128 = 1_000_000_000;
pub const LIVE_STEPS: i128 = 16;
/// Of two voters, the higher leads once it moved at pace this long...
pub const STEADY_NS: i128 = 2_000_000_000;
/// ... and is at most this many slots ahead of where the other is expected.
pub const MAX_LEADER_GAP: u64 = 64;
/// An endpoint this many slots behind the chain (or behind and no longer voting) lags.
pub const LAG_SLOTS: u64 = 16;
/// Agreeing copies that end a first quarantine (doubled for each one before).
pub const AGREE_TO_LIFT: u32 = 16;
/// Held-back copies remembered per quarantined endpoint.
pub const HELD_RING: usize = 1_024;
/// Differing copies of one account and slot kept for the majority.
pub const MAX_VERSIONS: usize = 4;
/// Endpoints 0..VOTERS take part in the majority of versions.
pub const VOTERS: u16 = 64;

/// How far beyond the chain's slot a slot may be, `dt_ns` after it last moved.
fn lead(dt_ns: i128) -> u128 {
    u128::from(MAX_SLOT_LEAD) + (dt_ns.max(0) / SLOT_ALLOWANCE_NS) as u128
}

/// How long after its slot last moved an endpoint's slot still votes: [`LIVE_STEPS`] of
/// its own slot steps (of `hint`, the chain's pace or the slowest endpoint's, while it
/// has none; [`LIVE_NS`] without either), within [`LIVE_MIN_NS`] and [`LIVE_NS`].
fn live_ns(e: &Endpoint, hint: u64) -> i128 {
    let step = if e.step_ns > 0 { e.step_ns } else { hint };
    if step == 0 {
        return LIVE_NS;
    }
    (LIVE_STEPS * i128::from(step)).clamp(LIVE_MIN_NS, LIVE_NS)
}

/// Whether `e`'s slot votes at `t` (`hint` as [`live_ns`]'s).
fn live(e: &Endpoint, t: i64, hint: u64) -> bool {
    e.vote > 0
        && e.slot_subs > 0
        && !e.stats.quarantined
        && i128::from(t) - i128::from(e.vote_ns) <= live_ns(e, hint)
}

/// Where `e`'s slot would be at `t` had it kept the chain's pace (`pace_ns` per slot,
/// 0: not known) since it was last on time; its own slot while the pace is not known.
fn expected(e: &Endpoint, t: i64, pace_ns: u64) -> u128 {
    if pace_ns == 0 || e.anchor_slot == 0 {
        return u128::from(e.vote);
    }
    let dt = (i128::from(t) - i128::from(e.anchor_ns)).max(0) as u128;
    u128::from(e.vote).max(u128::from(e.anchor_slot) + dt / u128::from(pace_ns))
}

/// The slot `e` counts for in a vote of three or more: its own, or where it is expected
/// once it is more than `LAG_SLOTS` behind that.
fn reach(e: &Endpoint, t: i64, pace_ns: u64) -> u128 {
    let expected = expected(e, t, pace_ns);
    if expected > u128::from(e.vote) + u128::from(LAG_SLOTS) {
        expected
    } else {
        u128::from(e.vote)
    }
}

fn bit(ep: u16) -> u64 {
    if ep < VOTERS {
        1 << ep
    } else {
        0
    }
}

/// The hash of the subscription map: (endpoint, subscription id) mixed with a
/// per-process random seed (cheaper than SipHash; the seed keeps a server from choosing
/// ids that collide).
#[derive(Clone)]
struct SubHash(u64);

impl SubHash {
    fn new() -> Self {
        Self(RandomState::new().build_hasher().finish())
    }
}

impl BuildHasher for SubHash {
    type Hasher = SubHasher;
    fn build_hasher(&self) -> SubHasher {
        SubHasher(self.0)
    }
}

struct SubHasher(u64);

impl SubHasher {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0 ^ v)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
}

impl Hasher for SubHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.add(u64::from(b));
        }
    }
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn finish(&self) -> u64 {
        let x = self.0 ^ (self.0 >> 31);
        x.wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ (x >> 27)
    }
}

/// The message of a `track_array` / `untrack_array` on a pool that is not tracked or
/// whose venue has no arrays (the twin's words).
pub fn not_tracked(pool: &str) -> String {
    format!("{pool} is not a tracked pool with tick or bin arrays")
}

fn frame_error(what: impl Into<String>) -> EngineError {
    EngineError::Frame(what.into())
}

/// Python's `repr` of a tuple of str, for the twin's messages.
fn tuple_repr(names: &[&str]) -> String {
    let inner: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    format!("({})", inner.join(", "))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubKind {
    Account,
    Logs,
    Slot,
}

impl SubKind {
    /// The kind named `name` (account, logs, slot), with the twin's error.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "account" => Ok(Self::Account),
            "logs" => Ok(Self::Logs),
            "slot" => Ok(Self::Slot),
            _ => Err(EngineError::InvalidInput(format!(
                "subscription kind {name:?} is not one of {}",
                tuple_repr(&SUB_KINDS)
            ))),
        }
    }
}

/// An integer argument as the binding received it. The twin checks some arguments
/// only when it needs them (`recv_ns` at the dedup, `slot` at the upsert), so the
/// binding hands over what it found and the core fails at the twin's moment:
/// `Overflow` as `MathOverflowError`, `Wrong` (not an int) by setting
/// [`FeedIngest::take_wrong_argument`] so the binding raises its `TypeError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg<T> {
    Ok(T),
    Overflow,
    Wrong,
}

/// What it holds against one endpoint (fields as `engine_rs.records.EndpointStats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointStats {
    pub endpoint: u16,
    pub slot: u64,
    pub implausible: u64,
    pub older: u64,
    pub unknown: u64,
    pub identity: u64,
    pub disagreed: u64,
    pub held_back: u64,
    pub quarantined: bool,
    pub backwards: u64,
    pub behind: u64,
    pub lagging: bool,
    pub voting: bool,
    pub leading: bool,
    pub refused_first: u64,
    /// the newest context slot of its account notifications (its stream's watermark)
    pub account_slot: u64,
    /// account changes it never delivered, found by the reconcile (`reconcile`)
    pub repaired: u64,
}

/// One endpoint: its slot vote and its integrity counts.
#[derive(Debug, Default)]
struct Endpoint {
    /// its newest plausible (or confirmed) slot, 0: none; never goes back
    vote: u64,
    /// when its vote last moved
    vote_ns: i64,
    /// since when it moved at a pace wall time allows (its steadiness)
    run_ns: i64,
    /// its slots' pace: ns per slot (a moving average); 0: not known yet
    step_ns: u64,
    /// its slot when it was last on time (kept the chain's pace); 0: none
    anchor_slot: u64,
    anchor_ns: i64,
    /// the newest context slot of its account notifications
    acct_slot: u64,
    pending: u64,
    pending_ns: i64,
    /// the highest slot it told, unconfirmed, before the chain had one (judged then)
    early_max: u64,
    subs: u32,
    slot_subs: u32,
    stats: EndpointStats,
    agree: u32,
    /// quarantines so far: each one lasts twice as many agreements
    offenses: u32,
    ring: VecDeque<u128>,
}

/// A frame's account data a replay's copy holds decoded already
/// ([`FeedIngest::frame_delta`]), and the dedup key's hasher fed with `owner ‖ 0 ‖ data`
/// (the owner it was fed with first) while the copy is unchanged.
struct Pre<'a> {
    data: &'a [u8],
    hashed: &'a mut Option<(Vec<u8>, Box<XxHash3_128>)>,
}

/// The state held of one account: its context slot and the differing copies of that
/// slot (fingerprint, endpoint bits), with the one applied (None: from a snapshot), and
/// the digest of the bytes last applied ([`content_digest`]; None: none yet).
#[derive(Debug, Clone, Copy, Default)]
struct Held {
    slot: u64,
    versions: [(u128, u64); MAX_VERSIONS],
    n: usize,
    applied: Option<u128>,
    digest: Option<u128>,
}

/// The digest of an account's content, `owner ‖ data` (XXH3-128, unseeded): what
/// [`FeedIngest::compare`] holds another copy's bytes against. Only ever compared with
/// another of this backend's (the twin's is blake2b of the owner's base58 ‖ 0 ‖ data).
fn content_digest(owner: &Key, data: &[u8]) -> u128 {
    let mut h = XxHash3_128::new();
    h.write(owner);
    h.write(data);
    h.finish_128()
}

impl Held {
    fn set(&mut self, slot: u64, version: Option<(u128, u64)>) {
        self.slot = slot;
        self.n = usize::from(version.is_some());
        self.applied = version.map(|v| v.0);
        if let Some(v) = version {
            self.versions[0] = v;
        }
    }
}

/// A pool identity change seen in a notification, waiting for a re-fetch.
#[derive(Debug, Clone)]
struct Proposal {
    record: Record,
    slot: u64,
    endpoints: Vec<u16>,
}

/// What it has seen since it was made (fields as `engine_rs.records.IngestStats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    pub frames: u64,
    pub notifications: u64,
    pub first_copies: u64,
    pub duplicates: u64,
    pub accounts: u64,
    pub logs: u64,
    pub slots: u64,
    pub swaps: u64,
    pub unknown: u64,
    pub pool_updates: u64,
    pub slot: u64,
}

/// What an account is to a pool: the pool account itself, one of its two vaults, the
/// mint of a Token-2022 vault, or an account of the venue's own (its role number in the
/// venue's `OWN_ROLES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Pool(VenueId),
    VaultA,
    VaultB,
    Mint,
    Own(VenueId, u8),
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Self::Pool(v) => v.info().kind,
            Self::VaultA => "vault_a",
            Self::VaultB => "vault_b",
            Self::Mint => "mint",
            Self::Own(v, r) => v.own_roles().get(usize::from(r)).map_or("?", |o| o.name),
        }
    }
}

/// A vault's token program in words (the twin's `_PROGRAM`): Token-2022 or SPL Token.
fn program_name(t22: bool) -> &'static str {
    if t22 {
        "Token-2022"
    } else {
        "SPL Token"
    }
}

/// A followed mint is a Token-2022 account (its vaults are): another owner is
/// `WrongOwner` (None, the trusted caller's "unchecked", passes).
fn mint_owner(owner: Option<&Key>) -> Result<()> {
    match owner {
        Some(o) if *o != decode::TOKEN_2022_ID => Err(EngineError::WrongOwner(format!(
            "Mint: owner {} is not {}",
            b58::encode(o),
            decode::TOKEN_2022
        ))),
        _ => Ok(()),
    }
}

#[derive(Debug)]
struct Pool {
    id: String,
    key: Key,
    venue: VenueId,
    record: Option<Record>,
    /// what the venue keeps of its own accounts (a CP-Swap config, Whirlpool tick arrays)
    own: Own,
    /// base58 of the record's mints (valid while `record` is set)
    mint_names: (String, String),
    mints: Option<(Key, Key)>,
    vault_a: Option<u64>,
    vault_b: Option<u64>,
    /// the vaults and the own accounts the pool account names whose roles were
    /// registered last (skip base58)
    vaults_known: Option<(Key, Key)>,
    followed: Vec<(u8, Key)>,
    /// each vault's token program as last applied: Token-2022 (true), SPL Token (false),
    /// not yet seen (None); a Token-2022 vault's mint is followed (role `mint`)
    t22: [Option<bool>; 2],
    /// the mints it follows, with their account ids
    mint_roles: Vec<(Key, u32)>,
    in_graph: bool,
    changed: bool,
    /// the newest slot of its accounts' states
    slot: u64,
    /// the ingest's `record_seq` when `record` was last replaced (0: never)
    record_seq: u64,
    /// its accounts (not arrays) the chain does not hold now ([`is_absent`]): a closed
    /// vault, a deleted pool or config. Out of the graph while any is.
    absent: Vec<u32>,
}

/// Whether a copy of an account says it does not exist: owned by the system program with
/// no data. A node sends it so for an account deleted (PubSub: lamports 0, owner the
/// system program, no data) and Yellowstone for any account a transaction names
/// writable that holds nothing (an uninitialized tick array a swap names). It is not
/// malformed: it is the account's absence, read as its program reads it.
fn is_absent(owner: Option<&Key>, data: &[u8]) -> bool {
    data.is_empty() && owner == Some(&SYSTEM_PROGRAM)
}

#[derive(Debug)]
struct Account {
    pubkey: Box<str>,
    roles: Vec<(Role, u32)>,
    held: Held,
    /// a followed mint the graph took (`set_mint`): the pools waiting on it may enter
    minted: bool,
}

/// Frames in, graph updated (see the module docs).
pub struct FeedIngest {
    dedup: Deduper,
    accounts: Vec<Account>,
    account_ix: HashMap<Box<str>, u32>,
    /// the same accounts by their 32 bytes (a gRPC update names its account so)
    key_ix: HashMap<Key, u32>,
    watched: Vec<u32>,
    /// bumped whenever `watched` gains or loses an account (`watched_version`)
    watched_version: u64,
    /// bumped whenever a pool's decoded record is replaced (`record_seq`, `records_since`)
    record_seq: u64,
    subs: HashMap<(u16, u64), (SubKind, u32), SubHash>,
    pools: Vec<Pool>,
    pool_ix: HashMap<String, u32>,
    changed: Vec<u32>,
    n: IngestStats,
    programs: Vec<(String, Key)>,
    /// the parsed frame, boxed so lending it out moves a pointer
    doc: Option<Box<json::Doc>>,
    buf: Vec<u8>,
    /// the last gRPC update's owner not among the named programs, and its base58 (most
    /// updates of a run share an owner: encoded once)
    owner_b58: Option<(Key, Vec<u8>)>,
    scratch: Vec<u8>,
    wrong_argument: bool,
    /// the chain's slot (`n.slot`) moved last at this recv_ns
    chain_ns: i64,
    /// the newest recv_ns of a slot notification
    now: i64,
    /// the endpoint the chain's slot followed alone at the last vote
    leader: Option<u16>,
    /// the chain's pace, ns per slot, as the voters agree on it; 0: unknown
    pace_ns: u64,
    eps: Vec<(u16, Endpoint)>,
    proposals: HashMap<u32, Proposal>,
    refetch: Vec<(u32, u16)>,
    quarantined: usize,
    /// scratch for the own accounts a pool account names
    follow: Vec<(u8, Key)>,
    /// the first copy of every transaction a logs subscription or a gRPC transaction
    /// filter told of, oldest first ([`FeedIngest::take_transactions`]), at most
    /// [`TX_QUEUE`]: signature, slot, failed, endpoint
    txs: std::collections::VecDeque<(String, u64, bool, u16, u32)>,
    /// account copies far ahead of their account's state that came before the chain had
    /// a slot (nothing then says how far ahead one may be): held back, the newest per
    /// account and endpoint, until the first slot is decided ([`FeedIngest::early_copy`])
    early: HashMap<(u32, u16), Early>,
    /// the last copy of each large account's data a replay's deltas change
    /// ([`FeedIngest::frame_delta`])
    copies: copies::Copies,
    /// a delta's frame put together again (reused)
    joined: Vec<u8>,
}

/// An account copy held back until the chain has a slot.
#[derive(Debug)]
struct Early {
    /// its order of arrival
    seq: u64,
    fp: u128,
    dep: u16,
    owner: Vec<u8>,
    data: Vec<u8>,
    slot: u64,
}

/// Copies held back before the chain's first slot, at most (beyond it, the oldest
/// endpoint-and-account's is dropped: its account is then as the snapshot left it).
pub const EARLY_COPIES: usize = 65_536;

/// The transactions [`FeedIngest::take_transactions`] keeps between two reads (the
/// oldest go first when nobody reads them: a replay, a session without rivals).
pub const TX_QUEUE: usize = 16_384;

/// The runtime's and the token programs' ids: their invocations are not a program's
/// business of its own (a transfer, a budget, an account made).
const PLUMBING: [&[u8]; 9] = [
    b"11111111111111111111111111111111",
    b"ComputeBudget111111111111111111111111111111",
    b"TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
    b"TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",
    b"ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL",
    b"MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr",
    b"Memo1UhkJRfHyvLMcVucJwxXeuD728EQVDDwQDxFMNo",
    b"AddressLookupTab1e1111111111111111111111111",
    b"Sysvar1nstructions1111111111111111111111111",
];

/// How many programs a transaction's logs show invoked, the runtime's and the token
/// programs' aside and a program calling itself (an Anchor event) not counted again: a
/// plain swap is one, a swap through an aggregator two, an arbitrage at least two (one
/// per venue it swaps on, and its own program's if it has one). What the rivals'
/// fetcher reads to skip what cannot be an arbitrage. Logs cut short count what they show.
#[derive(Default)]
pub struct Invokes {
    stack: Vec<u64>,
    /// the programs counted so far
    pub n: u32,
}

impl Invokes {
    /// Read one log line.
    pub fn line(&mut self, line: &[u8]) {
        let Some(rest) = line.strip_prefix(b"Program ") else {
            return;
        };
        let Some(space) = rest.iter().position(|&b| b == b' ') else {
            return;
        };
        let (id, tail) = (&rest[..space], &rest[space + 1..]);
        if id.ends_with(b":") {
            return; // "Program log: ...", "Program data: ...": what a program wrote
        }
        if tail.starts_with(b"invoke [") {
            let h = fnv(id);
            if !PLUMBING.contains(&id) && self.stack.last() != Some(&h) {
                self.n += 1;
            }
            self.stack.push(h);
        } else if tail == b"success" || tail.starts_with(b"failed") {
            self.stack.pop();
        }
    }
}

/// FNV-1a of a program id (the invoke stack's key).
fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl FeedIngest {
    /// `capacity` and `lag_window` as [`Deduper::new`].
    pub fn new(capacity: usize, lag_window: usize) -> Result<Self> {
        // the owners of notifications: the venues' programs, the token programs
        let programs = VENUES
            .iter()
            .flat_map(|v| v.info().program_ids.iter().copied())
            .chain([decode::SPL_TOKEN, decode::TOKEN_2022])
            .map(|id| (id.to_string(), b58::key(id)))
            .collect();
        Ok(Self {
            dedup: Deduper::new(capacity, lag_window)?,
            accounts: Vec::new(),
            account_ix: HashMap::new(),
            key_ix: HashMap::new(),
            watched: Vec::new(),
            watched_version: 0,
            record_seq: 0,
            subs: HashMap::with_hasher(SubHash::new()),
            pools: Vec::new(),
            pool_ix: HashMap::new(),
            changed: Vec::new(),
            n: IngestStats::default(),
            programs,
            doc: Some(Box::default()),
            buf: Vec::with_capacity(2048),
            owner_b58: None,
            scratch: Vec::new(),
            wrong_argument: false,
            chain_ns: 0,
            now: 0,
            leader: None,
            pace_ns: 0,
            eps: Vec::new(),
            proposals: HashMap::new(),
            refetch: Vec::new(),
            quarantined: 0,
            follow: Vec::new(),
            txs: std::collections::VecDeque::new(),
            early: HashMap::new(),
            copies: copies::Copies::default(),
            joined: Vec::new(),
        })
    }

    /// Whether the last error was an argument of the wrong type (see [`Arg`]); clears it.
    pub fn take_wrong_argument(&mut self) -> bool {
        std::mem::take(&mut self.wrong_argument)
    }

    // ------------------------------------------------------------ registration
    fn intern(&mut self, pubkey: &str) -> u32 {
        if let Some(&id) = self.account_ix.get(pubkey) {
            return id;
        }
        let id = self.accounts.len() as u32;
        self.accounts.push(Account {
            pubkey: pubkey.into(),
            roles: Vec::new(),
            held: Held::default(),
            minted: false,
        });
        self.account_ix.insert(pubkey.into(), id);
        if let Ok(key) = b58::decode_32(pubkey) {
            self.key_ix.insert(key, id);
        }
        id
    }

    fn add_role(&mut self, id: u32, role: Role, pool: u32) {
        let acc = &mut self.accounts[id as usize];
        if acc.roles.contains(&(role, pool)) {
            return;
        }
        if acc.roles.is_empty() {
            self.watched.push(id);
            self.watched_version += 1;
        }
        acc.roles.push((role, pool));
    }

    fn role_of_key(&mut self, key: &Key, role: Role, pool: u32) {
        let id = self.intern(&b58::encode(key));
        self.add_role(id, role, pool);
    }

    /// The twin's `_unrole`: `key` no longer has `role` for `pool`; an account left with
    /// no role is no longer watched.
    fn remove_role_of_key(&mut self, key: &Key, role: Role, pool: u32) {
        let Some(&id) = self.account_ix.get(b58::encode(key).as_str()) else {
            return;
        };
        self.remove_role(id, role, pool);
    }

    fn remove_role(&mut self, id: u32, role: Role, pool: u32) {
        let acc = &mut self.accounts[id as usize];
        let before = acc.roles.len();
        acc.roles.retain(|&r| r != (role, pool));
        if acc.roles.len() != before && acc.roles.is_empty() {
            self.watched.retain(|&w| w != id);
            self.watched_version += 1;
        }
        if !acc.roles.iter().any(|r| r.1 == pool) {
            // no longer the pool's: its absence no longer holds the pool back
            self.pools[pool as usize].absent.retain(|&a| a != id);
        }
    }

    /// The twin's `_follow_mints`: the mints of the pool's Token-2022 vaults get the role
    /// `mint` for it; those no longer needed lose it, and a mint no pool follows is
    /// forgotten as taken (followed again, it waits for its bytes once more).
    fn follow_mints(&mut self, pix: u32) {
        let p = &self.pools[pix as usize];
        let Some((ma, mb)) = p.mints else {
            return;
        };
        let mut want = [ma, mb];
        let mut n = 0;
        if p.t22[0] == Some(true) {
            n = 1;
        }
        if p.t22[1] == Some(true) && !(n == 1 && ma == mb) {
            want[n] = mb;
            n += 1;
        }
        let want = &want[..n];
        if p.mint_roles.len() == n && p.mint_roles.iter().zip(want).all(|(h, w)| h.0 == *w) {
            return; // the common case: nothing changes, nothing is encoded
        }
        let had = std::mem::take(&mut self.pools[pix as usize].mint_roles);
        for &(_, id) in had.iter().filter(|h| !want.contains(&h.0)) {
            self.remove_role(id, Role::Mint, pix);
            let acc = &mut self.accounts[id as usize];
            if !acc.roles.iter().any(|r| r.0 == Role::Mint) {
                acc.minted = false;
            }
        }
        let mut now = Vec::with_capacity(n);
        for &key in want {
            let id = self.intern(&b58::encode(&key));
            self.add_role(id, Role::Mint, pix);
            now.push((key, id));
        }
        self.pools[pix as usize].mint_roles = now;
    }

    /// Whether every mint the pool follows was taken by the graph (a pool of a
    /// Token-2022 vault is never quoted without its mint's transfer fee).
    fn mints_ready(&self, pix: u32) -> bool {
        self.pools[pix as usize]
            .mint_roles
            .iter()
            .all(|&(_, id)| self.accounts[id as usize].minted)
    }

    /// The endpoint's state (made on first use).
    fn ep(&mut self, ep: u16) -> &mut Endpoint {
        let i = match self.eps.iter().position(|e| e.0 == ep) {
            Some(i) => i,
            None => {
                let mut e = Endpoint::default();
                e.stats.endpoint = ep;
                self.eps.push((ep, e));
                self.eps.len() - 1
            }
        };
        &mut self.eps[i].1
    }

    fn is_quarantined(&self, ep: u16) -> bool {
        self.eps.iter().any(|e| e.0 == ep && e.1.stats.quarantined)
    }

    /// Watch the pool at `address` (`kind`: a venue's universe kind — amm_v4, cpmm or
    /// whirlpool). Tracking an address again with another kind is an error.
    pub fn track_pool(&mut self, address: &str, kind: &str) -> Result<()> {
        let venue = VenueId::by_kind(kind)?;
        let key = b58::decode_32(address)?;
        let ix = match self.pool_ix.get(address) {
            Some(&ix) => {
                let have = self.pools[ix as usize].venue;
                if have != venue {
                    return Err(EngineError::InvalidInput(format!(
                        "pool {address} is tracked as {}, not {}",
                        have.info().kind,
                        venue.info().kind
                    )));
                }
                ix
            }
            None => {
                let ix = self.pools.len() as u32;
                self.pools.push(Pool {
                    id: address.to_string(),
                    key,
                    venue,
                    record: None,
                    own: Own::new(venue),
                    mint_names: (String::new(), String::new()),
                    mints: None,
                    vault_a: None,
                    vault_b: None,
                    vaults_known: None,
                    followed: Vec::new(),
                    t22: [None, None],
                    mint_roles: Vec::new(),
                    in_graph: false,
                    changed: false,
                    slot: 0,
                    record_seq: 0,
                    absent: Vec::new(),
                });
                self.pool_ix.insert(address.to_string(), ix);
                ix
            }
        };
        let id = self.intern(address);
        self.add_role(id, Role::Pool(venue), ix);
        Ok(())
    }

    /// The index of the tracked pool `pool` and the role of its venue's arrays
    /// (InvalidInput when it is not a tracked pool of a venue with arrays:
    /// [`crate::venues::Venue::ARRAYS`]).
    fn array_role(&self, pool: &str) -> Result<(u32, Role)> {
        let role = self.pool_ix.get(pool).and_then(|&ix| {
            let venue = self.pools[ix as usize].venue;
            venue.arrays().map(|r| (ix, Role::Own(venue, r)))
        });
        role.ok_or_else(|| EngineError::InvalidInput(not_tracked(pool)))
    }

    /// Watch an array of a tracked pool whose venue has arrays (a Whirlpool's or a
    /// Raydium CLMM pool's tick array, a DLMM pair's bin array: [`Venue::ARRAYS`]).
    ///
    /// [`Venue::ARRAYS`]: crate::venues::Venue::ARRAYS
    pub fn track_array(&mut self, address: &str, pool: &str) -> Result<()> {
        b58::decode_32(address)?;
        let (ix, role) = self.array_role(pool)?;
        let id = self.intern(address);
        self.add_role(id, role, ix);
        Ok(())
    }

    /// Stop watching an array of a tracked pool: its ticks (or bins) leave the pool's
    /// state, which is assembled again (its held range shrinks) when the pool is whole.
    /// An array it does not track is no error (nothing changes).
    pub fn untrack_array(
        &mut self,
        graph: &mut PoolGraph,
        address: &str,
        pool: &str,
    ) -> Result<()> {
        self.wrong_argument = false;
        b58::decode_32(address)?;
        let (ix, role) = self.array_role(pool)?;
        let Some(&id) = self.account_ix.get(address) else {
            return Ok(());
        };
        let acc = &mut self.accounts[id as usize];
        let before = acc.roles.len();
        acc.roles.retain(|&r| r != (role, ix));
        if acc.roles.len() == before {
            return Ok(());
        }
        if acc.roles.is_empty() {
            self.watched.retain(|&w| w != id);
            self.watched_version += 1;
        }
        let p = &mut self.pools[ix as usize];
        if p.own.forget(id) {
            let slot = Arg::Ok(p.slot);
            self.refresh(graph, ix, slot)?;
        }
        Ok(())
    }

    /// Every account it knows a role for, in the order they became known.
    pub fn watched(&self) -> Vec<String> {
        self.watched
            .iter()
            .map(|&id| self.accounts[id as usize].pubkey.to_string())
            .collect()
    }

    /// A count that changes whenever the watched set does (an account watched, or no
    /// longer): a caller holding a copy of `watched` re-reads it only when this moved.
    pub fn watched_version(&self) -> u64 {
        self.watched_version
    }

    /// The roles of `pubkey` as (role, pool id), for tests and diagnostics.
    pub fn roles(&self, pubkey: &str) -> Vec<(&'static str, String)> {
        let Some(&id) = self.account_ix.get(pubkey) else {
            return Vec::new();
        };
        self.accounts[id as usize]
            .roles
            .iter()
            .map(|&(r, p)| (r.name(), self.pools[p as usize].id.clone()))
            .collect()
    }

    /// The cluster's epoch schedule (`getEpochSchedule`), handed to the graph: the epoch
    /// of its slot picks each Token-2022 mint's transfer fee in force. Until told,
    /// mainnet's. Errors as [`PoolGraph::set_epoch_schedule`].
    pub fn set_epoch_schedule(
        &mut self,
        graph: &mut PoolGraph,
        schedule: EpochSchedule,
    ) -> Result<()> {
        graph.set_epoch_schedule(schedule)
    }

    /// Subscription `subscription` of `endpoint` delivers `kind` notifications about
    /// `label` (a pubkey for account subscriptions; ignored otherwise).
    pub fn bind(&mut self, endpoint: u16, subscription: u64, label: Option<&str>, kind: SubKind) {
        let account = match (kind, label) {
            (SubKind::Account, Some(l)) => self.intern(l),
            _ => NO_ACCOUNT,
        };
        let old = self.subs.insert((endpoint, subscription), (kind, account));
        let e = self.ep(endpoint);
        match old {
            None => e.subs += 1,
            Some((SubKind::Slot, _)) => e.slot_subs -= 1,
            Some(_) => {}
        }
        if kind == SubKind::Slot {
            e.slot_subs += 1;
        }
    }

    /// Forget every subscription id of `endpoint` (its connection closed): its slot no
    /// longer votes.
    pub fn unbind(&mut self, endpoint: u16) {
        self.subs.retain(|k, _| k.0 != endpoint);
        if let Some(e) = self.eps.iter_mut().find(|e| e.0 == endpoint) {
            e.1.subs = 0;
            e.1.slot_subs = 0;
        }
    }

    // ------------------------------------------------------------ the hot path
    /// One raw frame from `endpoint`: the subscription id of a notification, or `None`
    /// for anything else (a response: the caller's id book handles it).
    pub fn frame(
        &mut self,
        graph: &mut PoolGraph,
        endpoint: u16,
        frame: Input<'_>,
        recv_ns: Arg<i64>,
    ) -> Result<Option<u64>> {
        self.wrong_argument = false;
        self.n.frames += 1;
        let text = json::text_of(frame).map_err(|_| frame_error("frame is not JSON"))?;
        let mut doc = self.doc.take().unwrap_or_default();
        let out = match doc.parse(&text) {
            Ok(()) => self.notification(graph, endpoint, &text, &doc, recv_ns, None),
            Err(_) => Err(frame_error("frame is not JSON")),
        };
        self.doc = Some(doc);
        out
    }

    /// A recorded frame whose long span (its account data) a journal stored as a delta
    /// against the last copy stored under `key`: the copy under `key` made the next one
    /// (`how`, `body`: [`copies`]' module doc; the copy is changed even when the frame
    /// is then refused, as the journal's reader changes its own), then the frame `head ‖
    /// copy ‖ tail` applied as [`FeedIngest::frame`] applies it. A replay hands the
    /// engine the journal's bytes as stored: the ~121 KB copy of an order book side is
    /// never restored in Python. `InvalidInput` (nothing changed) when the delta refers to
    /// a copy not held or does not fit it.
    #[allow(clippy::too_many_arguments)]
    pub fn frame_delta(
        &mut self,
        graph: &mut PoolGraph,
        endpoint: u16,
        key: &[u8],
        head: &[u8],
        how: u8,
        body: &[u8],
        tail: &[u8],
        recv_ns: Arg<i64>,
    ) -> Result<Option<u64>> {
        let mut joined = std::mem::take(&mut self.joined);
        joined.clear();
        let copy = match self.copies.update(key, how, body) {
            Ok(copy) => copy,
            Err(e) => {
                self.joined = joined;
                return Err(e);
            }
        };
        // a copy that decodes (base64 only: no quote, escape or control character in it):
        // the frame without it reads as the same JSON, and its bytes are decoded already
        // (with the dedup key's hasher fed with them, while they are unchanged)
        let pre = copy
            .ok
            .then(|| (std::mem::take(&mut copy.decoded), copy.hashed.take()));
        let out = match pre {
            Some((pre, mut hashed)) => {
                joined.extend_from_slice(head);
                joined.extend_from_slice(tail);
                let given = Pre {
                    data: &pre,
                    hashed: &mut hashed,
                };
                let out = self.frame_with(graph, endpoint, &joined, head.len(), given, recv_ns);
                if let Some(copy) = self.copies.get_mut(key) {
                    copy.decoded = pre;
                    copy.hashed = hashed;
                }
                match out {
                    Some(out) => {
                        self.joined = joined;
                        out
                    }
                    None => self.frame_joined(graph, endpoint, key, head, tail, recv_ns, joined),
                }
            }
            None => self.frame_joined(graph, endpoint, key, head, tail, recv_ns, joined),
        };
        out
    }

    /// [`FeedIngest::frame_delta`]'s frame put together whole and applied as
    /// [`FeedIngest::frame`] applies it.
    #[allow(clippy::too_many_arguments)]
    fn frame_joined(
        &mut self,
        graph: &mut PoolGraph,
        endpoint: u16,
        key: &[u8],
        head: &[u8],
        tail: &[u8],
        recv_ns: Arg<i64>,
        mut joined: Vec<u8>,
    ) -> Result<Option<u64>> {
        joined.clear();
        if let Some(copy) = self.copies.get_mut(key) {
            joined.extend_from_slice(head);
            joined.extend_from_slice(&copy.span);
            joined.extend_from_slice(tail);
        }
        let out = self.frame(graph, endpoint, Input::Bytes(&joined), recv_ns);
        self.joined = joined;
        out
    }

    /// [`FeedIngest::frame`] of a frame whose account data (a string that decodes to
    /// `pre`) was cut out of `text` at `at`: what `frame` does with the whole frame, or
    /// None (nothing changed) when `text` is not JSON or its account data is not the
    /// string cut out there (the caller then applies the whole frame).
    fn frame_with(
        &mut self,
        graph: &mut PoolGraph,
        endpoint: u16,
        text: &[u8],
        at: usize,
        pre: Pre<'_>,
        recv_ns: Arg<i64>,
    ) -> Option<Result<Option<u64>>> {
        use json::{Kind, Node};
        let mut doc = self.doc.take().unwrap_or_default();
        // (the text as `frame` reads it: UTF-8, borrowed; the cut-out string is ASCII)
        let borrowed = matches!(json::text_of(Input::Bytes(text)), Ok(Cow::Borrowed(_)));
        let fits = borrowed
            && doc.parse(text).is_ok()
            && matches!(
                (doc.get(Node::Data), doc.items(Node::Data)),
                (Some(d), &[b64, _]) if d.kind == Kind::Arr
                    && b64.kind == Kind::Str && b64.start == at && b64.end == at
            );
        let out = fits.then(|| {
            self.wrong_argument = false;
            self.n.frames += 1;
            self.notification(graph, endpoint, text, &doc, recv_ns, Some(pre))
        });
        self.doc = Some(doc);
        out
    }

    /// Forget the copy under `key` ([`FeedIngest::frame_delta`]); none: nothing.
    pub fn drop_copy(&mut self, key: &[u8]) {
        self.copies.drop_copy(key);
    }

    /// How many copies [`FeedIngest::frame_delta`] holds, and their bytes.
    pub fn copies(&self) -> (usize, usize) {
        self.copies.size()
    }

    /// [`FeedIngest::frame`] after its JSON parse: `text` is the frame's text and `doc`
    /// what a [`json::Doc`] read in it. For the parser bench (`crates/json-bench`),
    /// which times other JSON parsers in front of the same rest of the hot path.
    pub fn frame_read(
        &mut self,
        graph: &mut PoolGraph,
        endpoint: u16,
        text: &[u8],
        doc: &json::Doc,
        recv_ns: Arg<i64>,
    ) -> Result<Option<u64>> {
        self.wrong_argument = false;
        self.n.frames += 1;
        self.notification(graph, endpoint, text, doc, recv_ns, None)
    }

    /// One Yellowstone gRPC `SubscribeUpdate` (protobuf bytes) from `endpoint`: the same
    /// path as a PubSub frame's notification, with the same dedup keys, so copies of one
    /// change from a PubSub and a gRPC endpoint are one change (first copy wins) and
    /// lead/lag compares them. Returns the update's kind (the `update_oneof` field number:
    /// [`geyser::ACCOUNT`], [`geyser::SLOT`], [`geyser::TRANSACTION`], [`geyser::PING`],
    /// [`geyser::PONG`], another member's number, 0 for none) and its slot (a pong: its
    /// id; else 0).
    ///
    /// An endpoint's updates count once something is bound for it (the worker binds a
    /// slot subscription when its stream opens, see [`Self::bind`]); before that, or
    /// after [`Self::unbind`], they are `unknown`. An account update names its account:
    /// one the ingest does not know is `unknown`. A slot update votes when its status
    /// is processed, confirmed or finalized (the worker asks `filter_by_commitment`, so
    /// one status a slot arrives); the other statuses are neither counted nor voted.
    /// Vote transactions are not counted. Bytes that are not a `SubscribeUpdate` raise
    /// [`EngineError::Frame`] and change nothing but the frame count.
    pub fn grpc(
        &mut self,
        graph: &mut PoolGraph,
        endpoint: u16,
        update: &[u8],
        recv_ns: Arg<i64>,
    ) -> Result<(u32, u64)> {
        use geyser::Update;
        self.wrong_argument = false;
        self.n.frames += 1;
        let up = geyser::parse(update).map_err(|e| {
            frame_error(format!("update is not a Yellowstone SubscribeUpdate: {e}"))
        })?;
        let ep = endpoint;
        let (subs, slot_subs) = self
            .eps
            .iter()
            .find(|e| e.0 == ep)
            .map_or((0, 0), |e| (e.1.subs, e.1.slot_subs));
        match up {
            Update::Account {
                pubkey,
                owner,
                data,
                slot,
            } => {
                let id = pubkey
                    .try_into()
                    .ok()
                    .and_then(|k: Key| self.key_ix.get(&k).copied());
                let Some(id) =
                    id.filter(|&i| subs > 0 && !self.accounts[i as usize].roles.is_empty())
                else {
                    self.unknown(ep);
                    return Ok((geyser::ACCOUNT, slot));
                };
                // the key of a PubSub copy: owner (base58) ‖ 0 ‖ data ‖ slot ‖ id ‖ 0xFF,
                // fingerprinted in place (the data, up to ~91 KB, is not copied into it)
                let mut buf = std::mem::take(&mut self.buf);
                buf.clear();
                let named = owner.try_into().ok().and_then(|k: Key| {
                    self.programs
                        .iter()
                        .find(|(_, p)| *p == k)
                        .map(|(n, _)| n.as_bytes())
                });
                match named {
                    Some(n) => buf.extend_from_slice(n),
                    None => match (&self.owner_b58, Key::try_from(owner)) {
                        (Some((k, text)), Ok(o)) if *k == o => buf.extend_from_slice(text),
                        (_, o) => {
                            b58::encode_into(owner, &mut buf);
                            if let Ok(o) = o {
                                self.owner_b58 = Some((o, buf.clone()));
                            }
                        }
                    },
                }
                let mut tail = [0u8; 13];
                tail[..8].copy_from_slice(&slot.to_le_bytes());
                tail[8..12].copy_from_slice(&id.to_le_bytes());
                tail[12] = 0xFF;
                let fp = self.dedup.fingerprint_parts(&[&buf, &[0], data, &tail]);
                let out = self.account_copy(graph, ep, id, fp, &buf, data, slot, recv_ns);
                self.buf = buf;
                out.map(|()| (geyser::ACCOUNT, slot))
            }
            Update::Slot { slot, status } => {
                if status > 2 {
                    return Ok((geyser::SLOT, slot));
                }
                let bound = (slot_subs > 0).then_some((SubKind::Slot, NO_ACCOUNT));
                let mut key = [0u8; 12];
                key[..4].copy_from_slice(b"slot");
                key[4..].copy_from_slice(&slot.to_le_bytes());
                let first = self.notified(ep, &key, recv_ns, bound, SubKind::Slot)?;
                if let (Some(_), Arg::Ok(t)) = (bound, recv_ns) {
                    self.observe_slot(graph, ep, slot, t, first); // every copy is a vote
                }
                Ok((geyser::SLOT, slot))
            }
            Update::Transaction {
                signature,
                vote,
                failed,
                logs,
                slot,
            } => {
                if vote {
                    return Ok((geyser::TRANSACTION, slot));
                }
                let bound = (subs > 0).then_some((SubKind::Logs, NO_ACCOUNT));
                let mut key = std::mem::take(&mut self.scratch);
                key.clear();
                b58::encode_into(signature, &mut key);
                if failed {
                    key.push(b'!');
                }
                let first = self.notified(ep, &key, recv_ns, bound, SubKind::Logs);
                let sig_len = key.len() - usize::from(failed);
                let text = String::from_utf8_lossy(&key[..sig_len]).into_owned();
                self.scratch = key;
                if !first? {
                    return Ok((geyser::TRANSACTION, slot));
                }
                let mut invokes = Invokes::default();
                for line in &logs {
                    invokes.line(line.as_bytes());
                }
                self.told_of(text, slot, failed, ep, invokes.n);
                if failed {
                    return Ok((geyser::TRANSACTION, slot));
                }
                let mut raw = std::mem::take(&mut self.scratch);
                let mut scan = venues::LogScan::new();
                for line in logs {
                    if scan.is_swap(line.as_bytes(), &mut raw) {
                        self.n.swaps += 1;
                    }
                }
                self.scratch = raw;
                Ok((geyser::TRANSACTION, slot))
            }
            Update::Ping => Ok((geyser::PING, 0)),
            Update::Pong(id) => Ok((geyser::PONG, u64::from(id as u32))),
            Update::Other(k) => Ok((k, 0)),
        }
    }

    /// `pre`: the account data decoded already (a replay's copy, see
    /// [`FeedIngest::frame_delta`]), its string cut out of `s`.
    fn notification(
        &mut self,
        graph: &mut PoolGraph,
        ep: u16,
        s: &[u8],
        doc: &json::Doc,
        recv_ns: Arg<i64>,
        pre: Option<Pre<'_>>,
    ) -> Result<Option<u64>> {
        use json::{Kind, Node};
        let obj = |n: Node, what: &str| match doc.get(n) {
            Some(v) if v.kind == Kind::Obj => Ok(()),
            _ => Err(frame_error(format!("{what}: expected an object"))),
        };
        let uint = |n: Node, what: &str| {
            doc.get(n)
                .and_then(|v| json::u64_of(s, v))
                .ok_or_else(|| frame_error(format!("{what}: expected a u64")))
        };
        obj(Node::Root, "frame")?;
        if !doc
            .get(Node::Jsonrpc)
            .is_some_and(|v| json::str_eq(s, v, b"2.0"))
        {
            return Err(frame_error("frame is not JSON-RPC 2.0"));
        }
        let method = match doc.get(Node::Method) {
            None => return Ok(None),
            Some(m) if m.kind == Kind::Null => return Ok(None),
            Some(m) => {
                json::str_of(s, m).ok_or_else(|| frame_error("frame.method: expected a string"))?
            }
        };
        obj(Node::Params, "params")?;
        let sub = uint(Node::Subscription, "params.subscription")?;
        obj(Node::Result, "params.result")?;
        let bound = self.subs.get(&(ep, sub)).copied();
        let kind = match &*method {
            b"slotNotification" => {
                let slot = uint(Node::ResultSlot, "slot.slot")?;
                let mut key = [0u8; 12];
                key[..4].copy_from_slice(b"slot");
                key[4..].copy_from_slice(&slot.to_le_bytes());
                let first = self.notified(ep, &key, recv_ns, bound, SubKind::Slot)?;
                if let (Some((SubKind::Slot, _)), Arg::Ok(t)) = (bound, recv_ns) {
                    self.observe_slot(graph, ep, slot, t, first); // every copy is a vote
                }
                return Ok(Some(sub));
            }
            b"accountNotification" => SubKind::Account,
            b"logsNotification" => SubKind::Logs,
            other => {
                return Err(frame_error(format!(
                    "unknown method {:?}",
                    String::from_utf8_lossy(other)
                )))
            }
        };
        obj(Node::Context, "result.context")?;
        let slot = uint(Node::ContextSlot, "context.slot")?;
        obj(Node::Value, "result.value")?;
        if kind == SubKind::Account {
            self.account_notification(graph, ep, s, doc, slot, bound, recv_ns, pre)?;
        } else {
            self.logs_notification(ep, s, doc, slot, bound, recv_ns)?;
        }
        Ok(Some(sub))
    }

    #[allow(clippy::too_many_arguments)]
    fn account_notification(
        &mut self,
        graph: &mut PoolGraph,
        ep: u16,
        s: &[u8],
        doc: &json::Doc,
        slot: u64,
        bound: Option<(SubKind, u32)>,
        recv_ns: Arg<i64>,
        pre: Option<Pre<'_>>,
    ) -> Result<()> {
        use json::{Kind, Node};
        let owner = doc
            .get(Node::Owner)
            .and_then(|v| json::str_of(s, v))
            .ok_or_else(|| frame_error("account.owner: expected a string"))?;
        let bad_data = || frame_error("account.data: expected [<base64>, \"base64\"]");
        let b64 = match (doc.get(Node::Data), doc.items(Node::Data)) {
            (Some(d), &[b64, tag]) if d.kind == Kind::Arr && json::str_eq(s, tag, b"base64") => {
                json::str_of(s, b64).ok_or_else(bad_data)?
            }
            _ => return Err(bad_data()),
        };
        if let Some(mut pre) = pre {
            // the data decoded already (a replay's copy): the key hashed where its parts
            // lie, the copy's part fed to the hasher once while it is unchanged
            return match bound {
                Some((SubKind::Account, id)) => {
                    let fp = self.pre_fingerprint(&owner, &mut pre, slot, id);
                    self.account_copy(graph, ep, id, fp, &owner, pre.data, slot, recv_ns)
                }
                _ => {
                    self.unknown(ep);
                    Ok(())
                }
            };
        }
        // buf = owner ‖ 0 ‖ data: the hashed bytes, with the data at the end
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        buf.extend_from_slice(&owner);
        buf.push(0);
        let decoded = decode::b64decode_into(&b64, &mut buf);
        let out = match decoded {
            Err(_) => Err(frame_error("account.data: not base64")),
            Ok(()) => match bound {
                Some((SubKind::Account, id)) => {
                    // the key: owner ‖ 0 ‖ data ‖ slot ‖ account id ‖ 0xFF, fingerprinted
                    // in one pass (the twin's pubkey ‖ slot ‖ blake2b(owner ‖ 0 ‖ data))
                    let end = buf.len();
                    buf.extend_from_slice(&slot.to_le_bytes());
                    buf.extend_from_slice(&id.to_le_bytes());
                    buf.push(0xFF);
                    let fp = self.dedup.fingerprint(&buf);
                    let data = &buf[owner.len() + 1..end];
                    self.account_copy(graph, ep, id, fp, &owner, data, slot, recv_ns)
                }
                _ => {
                    self.unknown(ep);
                    Ok(())
                }
            },
        };
        self.buf = buf;
        out
    }

    /// The dedup key of an account's copy whose data is `pre`'s (`owner ‖ 0 ‖ data ‖
    /// slot ‖ account id ‖ 0xFF`, the fingerprint [`Self::account_notification`] makes of
    /// it in one piece): the hasher fed with `owner ‖ 0 ‖ data` kept in `pre.hashed` (made
    /// when it holds none, or one of another owner), finished with the rest.
    fn pre_fingerprint(&self, owner: &[u8], pre: &mut Pre<'_>, slot: u64, id: u32) -> u128 {
        let (fed_owner, fed) = match pre.hashed.take() {
            Some((o, h)) if o[..] == owner[..] => (o, h),
            _ => {
                let mut h = Box::new(self.dedup.hasher());
                h.write(owner);
                h.write(&[0]);
                h.write(pre.data);
                (owner.to_vec(), h)
            }
        };
        let mut h = (*fed).clone();
        h.write(&slot.to_le_bytes());
        h.write(&id.to_le_bytes());
        h.write(&[0xFF]);
        *pre.hashed = Some((fed_owner, fed));
        h.finish_128()
    }

    #[allow(clippy::too_many_arguments)]
    fn logs_notification(
        &mut self,
        ep: u16,
        s: &[u8],
        doc: &json::Doc,
        slot: u64,
        bound: Option<(SubKind, u32)>,
        recv_ns: Arg<i64>,
    ) -> Result<()> {
        use json::{Kind, Node};
        let signature = doc
            .get(Node::Signature)
            .and_then(|v| json::str_of(s, v))
            .ok_or_else(|| frame_error("logs.signature: expected a string"))?;
        let lines = doc.items(Node::Logs);
        if !doc.get(Node::Logs).is_some_and(|v| v.kind == Kind::Arr)
            || lines.iter().any(|v| v.kind != Kind::Str)
        {
            return Err(frame_error("logs.logs: expected a list of strings"));
        }
        let failed = doc.get(Node::Err).is_some_and(|v| v.kind != Kind::Null);
        let mut key = std::mem::take(&mut self.scratch);
        key.clear();
        key.extend_from_slice(&signature);
        if failed {
            key.push(b'!');
        }
        let first = self.notified(ep, &key, recv_ns, bound, SubKind::Logs);
        self.scratch = key;
        if !first? {
            return Ok(());
        }
        let mut invokes = Invokes::default();
        for &v in lines {
            if let Some(line) = json::str_of(s, v) {
                invokes.line(&line);
            }
        }
        self.told_of(
            String::from_utf8_lossy(&signature).into_owned(),
            slot,
            failed,
            ep,
            invokes.n,
        );
        if failed {
            return Ok(());
        }
        let mut raw = std::mem::take(&mut self.scratch);
        let mut scan = venues::LogScan::new();
        for &v in lines {
            let Some(line) = json::str_of(s, v) else {
                continue;
            };
            if scan.is_swap(&line, &mut raw) {
                self.n.swaps += 1;
            }
        }
        self.scratch = raw;
        Ok(())
    }

    /// `recv_ns` as the dedup checks it (the twin's `i64(recv_ns)`).
    fn check_ns(&mut self, recv_ns: Arg<i64>) -> Result<i64> {
        match recv_ns {
            Arg::Ok(v) => Ok(v),
            Arg::Overflow => Err(EngineError::Overflow("recv_ns does not fit in i64".into())),
            Arg::Wrong => {
                self.wrong_argument = true;
                Err(EngineError::InvalidInput("recv_ns: expected int".into()))
            }
        }
    }

    fn unknown(&mut self, ep: u16) {
        self.n.unknown += 1;
        self.ep(ep).stats.unknown += 1;
    }

    /// Count a notification; true when it is the first copy of one it watches.
    fn notified(
        &mut self,
        ep: u16,
        key: &[u8],
        recv_ns: Arg<i64>,
        bound: Option<(SubKind, u32)>,
        kind: SubKind,
    ) -> Result<bool> {
        if bound.map(|b| b.0) != Some(kind) {
            self.unknown(ep);
            return Ok(false);
        }
        self.n.notifications += 1;
        let ep = Deduper::check(key, i64::from(ep))?;
        let ns = self.check_ns(recv_ns)?;
        let fp = self.dedup.fingerprint(key);
        if !self.dedup.accept_fingerprint(fp, ep, ns) {
            self.n.duplicates += 1;
            return Ok(false);
        }
        self.n.first_copies += 1;
        match kind {
            SubKind::Account => self.n.accounts += 1,
            SubKind::Logs => self.n.logs += 1,
            SubKind::Slot => self.n.slots += 1,
        }
        Ok(true)
    }

    // ------------------------------------------------------------ the chain's slot
    /// One endpoint's slot notification (every copy, first or not): its vote (see the
    /// twin's module docstring). `first`: it was the first copy (a refused one is
    /// forgotten by the dedup).
    fn observe_slot(&mut self, graph: &mut PoolGraph, ep: u16, slot: u64, t: i64, first: bool) {
        self.now = self.now.max(t);
        let chain = self.n.slot;
        let chain_ns = self.chain_ns;
        let dt = |from: i64| i128::from(t) - i128::from(from);
        let e = self.ep(ep);
        let refused = if e.vote > 0 && slot <= e.vote {
            // a repeat is no news; a slot going back is ignored
            if slot == e.vote {
                return;
            }
            e.stats.backwards += 1;
            true
        } else if (chain > 0 && u128::from(slot) <= u128::from(chain) + lead(dt(chain_ns)))
            || (e.pending > 0
                && e.pending <= slot
                && u128::from(slot) <= u128::from(e.pending) + lead(dt(e.pending_ns)))
        {
            false // plausible, or confirmed by its next notification
        } else {
            (e.pending, e.pending_ns) = (slot, t);
            if chain == 0 {
                e.early_max = e.early_max.max(slot);
                return;
            }
            e.stats.implausible += 1;
            true
        };
        if refused {
            if first {
                let mut key = [0u8; 12];
                key[..4].copy_from_slice(b"slot");
                key[4..].copy_from_slice(&slot.to_le_bytes());
                let fp = self.dedup.fingerprint(&key);
                self.forget(fp, ep);
            }
            return;
        }
        let e = self.ep(ep);
        if e.vote > 0 {
            let d = dt(e.vote_ns).max(0);
            let step = slot - e.vote;
            if u128::from(step) <= lead(d) {
                // a step at a pace wall time allows
                let sample = (d / i128::from(step)) as u128;
                e.step_ns = if e.step_ns > 0 {
                    ((7 * u128::from(e.step_ns) + sample) / 8) as u64
                } else {
                    sample as u64
                };
            } else {
                e.run_ns = t; // a jump: its steadiness starts again
            }
        } else {
            e.run_ns = t;
        }
        (e.vote, e.vote_ns, e.pending) = (slot, t, 0);
        let pace = self.pace_ns;
        let e = self.ep(ep);
        if e.anchor_slot == 0 || u128::from(slot) >= expected(e, t, pace) {
            (e.anchor_slot, e.anchor_ns) = (slot, t); // on time: expected from here on
        }
        self.decide_slot(graph, t);
    }

    /// A first copy refused: no lead for its endpoint, and a later copy of it is a first
    /// copy again (nobody else is charged for not sending it).
    fn forget(&mut self, fp: u128, ep: u16) {
        if self.dedup.retract_fingerprint(fp, ep) {
            self.ep(ep).stats.refused_first += 1;
        }
    }

    /// The pace an endpoint whose slot never moved is judged by: the chain's, else the
    /// slowest endpoint's (0: none known).
    fn pace_hint(&self) -> u64 {
        if self.pace_ns > 0 {
            return self.pace_ns;
        }
        self.eps.iter().map(|(_, x)| x.step_ns).max().unwrap_or(0)
    }

    /// The chain's slot from the live votes (see the twin's module docstring).
    fn decide_slot(&mut self, graph: &mut PoolGraph, t: i64) {
        let hint = self.pace_hint();
        let mut live: Vec<(u16, &Endpoint)> = self
            .eps
            .iter()
            .filter(|(_, x)| live(x, t, hint))
            .map(|(i, x)| (*i, x))
            .collect();
        if live.is_empty() {
            return;
        }
        live.sort_unstable_by_key(|x| x.0);
        let mut steps: Vec<u64> = live
            .iter()
            .map(|x| x.1.step_ns)
            .filter(|&s| s > 0)
            .collect();
        steps.sort_unstable();
        let mut pace = self.pace_ns;
        if live.len() >= 2 && steps.len() == live.len() {
            // the chain's pace, as the voters agree on it
            let sample = if steps.len() > 2 {
                // the (lower) median, when a strict majority keeps it: voters falling
                // behind neither slow it nor drag it along
                let m = u128::from(steps[(steps.len() - 1) / 2]);
                let near = steps
                    .iter()
                    .map(|&s| u128::from(s))
                    .filter(|&s| 4 * s <= 5 * m && 4 * m <= 5 * s)
                    .count();
                if 2 * near > steps.len() {
                    m
                } else {
                    0
                }
            } else if 4 * u128::from(steps[1]) <= 5 * u128::from(steps[0]) {
                (u128::from(steps[0]) + u128::from(steps[1])) / 2
            } else {
                0
            };
            if sample > 0 {
                pace = if pace > 0 {
                    ((7 * u128::from(pace) + sample) / 8) as u64
                } else {
                    sample as u64
                };
            }
        }
        let mut leader = None;
        let candidate = match live[..] {
            [(i, a)] => {
                leader = Some(i);
                a.vote
            }
            [(i, a), (j, b)] => {
                let ((hi, h), lo) = if a.vote >= b.vote {
                    ((i, a), b)
                } else {
                    ((j, b), a)
                };
                // where the other is: its slot, where the chain's pace puts it, or where its
                // own account updates say the chain is (its slot stream behind its data)
                let other = expected(lo, t, pace).max(u128::from(lo.acct_slot));
                if h.vote > lo.vote
                    && i128::from(t) - i128::from(h.run_ns) >= STEADY_NS
                    && u128::from(h.vote) <= other + u128::from(MAX_LEADER_GAP)
                {
                    leader = Some(hi); // the steady one leads the lagging one
                    h.vote
                } else {
                    lo.vote // both, or neither trusted: the strict majority
                }
            }
            _ => {
                // the highest slot a strict majority reached, one more than LAG_SLOTS behind
                // where the chain's pace puts it counted there, never beyond what two reached
                let mut reach: Vec<u128> = live.iter().map(|x| reach(x.1, t, pace)).collect();
                reach.sort_unstable_by(|a, b| b.cmp(a));
                let mut votes: Vec<u64> = live.iter().map(|x| x.1.vote).collect();
                votes.sort_unstable_by(|a, b| b.cmp(a));
                let top = u128::from(votes[1]);
                reach[reach.len() / 2].min(top) as u64
            }
        };
        self.pace_ns = pace;
        self.leader = leader;
        let chain = self.n.slot;
        if candidate > chain {
            self.n.slot = candidate;
            self.chain_ns = t;
            graph.set_slot(candidate);
            if chain == 0 {
                // the first slot: what a hostile copy put far ahead is not held, and a
                // slot told far ahead before it was a lie
                let limit = candidate.saturating_add(MAX_SLOT_LEAD);
                for a in &mut self.accounts {
                    if a.held.slot > limit {
                        a.held = Held::default();
                    }
                }
                for (_, e) in &mut self.eps {
                    if e.pending.max(e.early_max) > limit {
                        e.stats.implausible += 1;
                    }
                    if e.pending > limit {
                        e.pending = 0;
                    }
                    e.early_max = 0;
                }
                self.judge_early(graph);
            }
        }
    }

    // ------------------------------------------------------------ account copies
    fn trusted_other(&self, ep: u16) -> bool {
        self.eps
            .iter()
            .any(|(i, e)| *i != ep && e.subs > 0 && !e.stats.quarantined)
    }

    fn quarantine(&mut self, ep: u16) {
        let e = self.ep(ep);
        let new = !e.stats.quarantined;
        e.stats.quarantined = true;
        e.agree = 0;
        if new {
            e.offenses += 1;
            self.quarantined += 1;
        }
    }

    /// End a quarantine (its ring forgotten).
    fn lift(&mut self, ep: u16) {
        let e = self.ep(ep);
        if e.stats.quarantined {
            e.stats.quarantined = false;
            e.agree = 0;
            e.ring.clear();
            self.quarantined -= 1;
        }
    }

    /// A quarantined endpoint's copy agreed with the others'.
    fn agreed(&mut self, ep: u16) {
        let e = self.ep(ep);
        e.agree += 1;
        if e.agree >= AGREE_TO_LIFT << e.offenses.saturating_sub(1).min(10) {
            self.lift(ep);
        }
    }

    /// A copy that would change a pool's identity or re-point a vault: counted, and
    /// its endpoint quarantined.
    fn refused(&mut self, ep: u16) {
        self.ep(ep).stats.identity += 1;
        self.quarantine(ep);
    }

    fn ask_refetch(&mut self, id: u32, ep: u16) {
        if !self.refetch.iter().any(|r| r.0 == id) {
            self.refetch.push((id, ep));
        }
    }

    /// One copy of an account notification (the twin's `_account_copy`).
    #[allow(clippy::too_many_arguments)]
    fn account_copy(
        &mut self,
        graph: &mut PoolGraph,
        ep: u16,
        id: u32,
        fp: u128,
        owner: &[u8],
        data: &[u8],
        slot: u64,
        recv_ns: Arg<i64>,
    ) -> Result<()> {
        self.n.notifications += 1;
        let e = self.ep(ep);
        e.acct_slot = e.acct_slot.max(slot);
        let quarantined = self.quarantined > 0 && self.is_quarantined(ep);
        if quarantined && !self.dedup.contains_fingerprint(fp) && self.trusted_other(ep) {
            self.check_ns(recv_ns)?;
            let e = self.ep(ep);
            e.stats.held_back += 1;
            if e.ring.len() >= HELD_RING {
                e.ring.pop_front();
            }
            e.ring.push_back(fp);
            return Ok(());
        }
        let dep = Deduper::check(&[0xFF], i64::from(ep))?;
        let ns = self.check_ns(recv_ns)?;
        let first = self.dedup.accept_fingerprint(fp, dep, ns);
        let held = self.accounts[id as usize].held;
        if !first {
            self.n.duplicates += 1;
            if quarantined {
                self.agreed(ep);
            } else if slot == held.slot {
                if let Some(i) = (0..held.n).find(|&i| held.versions[i].0 == fp) {
                    if held.versions[i].1 & bit(ep) == 0 {
                        self.accounts[id as usize].held.versions[i].1 |= bit(ep);
                        self.decide(graph, id, ep, fp, owner, data, slot)?;
                    }
                }
            }
            return Ok(());
        }
        self.n.first_copies += 1;
        self.n.accounts += 1;
        if self.quarantined > 0 {
            let holders: Vec<(u16, usize)> = self
                .eps
                .iter()
                .filter(|(_, e)| e.stats.quarantined)
                .filter_map(|(i, e)| e.ring.iter().position(|&k| k == fp).map(|at| (*i, at)))
                .collect();
            for (q, at) in holders {
                self.ep(q).ring.remove(at);
                self.agreed(q);
            }
        }
        if self.accounts[id as usize].roles.is_empty() {
            return Ok(());
        }
        let since = self.accounts[id as usize].held.slot;
        if self.n.slot == 0
            && since > 0
            && slot > since.saturating_add(MAX_SLOT_LEAD)
            && self.eps.iter().any(|(_, e)| e.slot_subs > 0)
        {
            // far ahead of the state held, and no chain yet to say whether it may be:
            // checked as applying it would be, then held back until the first slot
            let owner_key = self.owner_key(owner);
            if let Err(err) = self.validate(id, &owner_key, data, slot, ep) {
                self.forget(fp, dep);
                return Err(err);
            }
            self.early_copy(ep, id, fp, dep, owner, data, slot);
            return Ok(());
        }
        self.copy_checked(graph, ep, id, fp, dep, owner, data, slot, ns)
    }

    /// Hold back a copy that came before the chain's first slot, more than
    /// [`MAX_SLOT_LEAD`] slots after the state held of its account (when some endpoint's
    /// slot subscription will decide one): the newest per account and endpoint.
    #[allow(clippy::too_many_arguments)]
    fn early_copy(
        &mut self,
        ep: u16,
        id: u32,
        fp: u128,
        dep: u16,
        owner: &[u8],
        data: &[u8],
        slot: u64,
    ) {
        let seq = self.n.notifications;
        if let Some(was) = self.early.get(&(id, ep)) {
            if was.slot > slot {
                return; // the one held is newer
            }
        } else if self.early.len() >= EARLY_COPIES {
            if let Some(oldest) = self
                .early
                .iter()
                .min_by_key(|(_, c)| c.seq)
                .map(|(k, _)| *k)
            {
                if let Some(c) = self.early.remove(&oldest) {
                    self.forget(c.fp, c.dep);
                }
            }
        }
        let copy = Early {
            seq,
            fp,
            dep,
            owner: owner.to_vec(),
            data: data.to_vec(),
            slot,
        };
        self.early.insert((id, ep), copy);
    }

    /// The first slot is decided: the copies held back are judged now, in their order
    /// of arrival, as had they come at this moment. One that does not decode is refused
    /// (forgotten: a later copy of it is a first copy).
    fn judge_early(&mut self, graph: &mut PoolGraph) {
        let mut copies: Vec<((u32, u16), Early)> = self.early.drain().collect();
        copies.sort_unstable_by_key(|(_, c)| c.seq);
        let ns = self.chain_ns;
        for ((id, ep), c) in copies {
            let out = self.copy_checked(graph, ep, id, c.fp, c.dep, &c.owner, &c.data, c.slot, ns);
            if out.is_err() {
                self.forget(c.fp, c.dep);
            }
        }
    }

    /// An account's first copy, judged: from the future (refused), older than the state
    /// held (refused), another version of the slot held (the majority), or applied.
    #[allow(clippy::too_many_arguments)]
    fn copy_checked(
        &mut self,
        graph: &mut PoolGraph,
        ep: u16,
        id: u32,
        fp: u128,
        dep: u16,
        owner: &[u8],
        data: &[u8],
        slot: u64,
        ns: i64,
    ) -> Result<()> {
        let held = self.accounts[id as usize].held;
        let chain = self.n.slot;
        if chain > 0
            && u128::from(slot)
                > u128::from(chain) + lead(i128::from(ns) - i128::from(self.chain_ns))
        {
            self.ep(ep).stats.implausible += 1;
            self.forget(fp, dep); // refused: no lead
            return Ok(());
        }
        if slot < held.slot {
            self.ep(ep).stats.older += 1;
            self.forget(fp, dep);
            return Ok(());
        }
        if slot == held.slot && held.applied.is_some() {
            let applied = (0..held.n).find(|&i| Some(held.versions[i].0) == held.applied);
            let alone = held.n == 1 && applied.is_some_and(|i| held.versions[i].1 == bit(ep));
            if !alone {
                if held.n < MAX_VERSIONS {
                    let owner_key = self.owner_key(owner);
                    if let Err(err) = self.validate(id, &owner_key, data, slot, ep) {
                        self.forget(fp, dep); // garbage is no version
                        return Err(err);
                    }
                    let h = &mut self.accounts[id as usize].held;
                    h.versions[h.n] = (fp, bit(ep));
                    h.n += 1;
                    self.decide(graph, id, ep, fp, owner, data, slot)?;
                }
                return Ok(());
            }
        }
        // apply; the held state follows unless the copy did not decode
        let owner_key = self.owner_key(owner);
        let out = self.apply(graph, id, Some(&owner_key), data, Arg::Ok(slot), Some(ep));
        if matches!(
            out,
            Err(EngineError::Decode(_)
                | EngineError::WrongOwner(_)
                | EngineError::WrongDiscriminator(_)
                | EngineError::AccountTooShort(_))
        ) {
            self.forget(fp, dep); // refused: no lead either
        } else {
            let held = &mut self.accounts[id as usize].held;
            held.set(slot, Some((fp, bit(ep))));
            held.digest = Some(content_digest(&owner_key, data));
        }
        out
    }

    /// The majority of the copies of one account and slot: a version with at least two
    /// endpoints and more than any other is the state; the others' endpoints disagreed.
    /// `fp` is the copy in hand (the only data there is to apply).
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        graph: &mut PoolGraph,
        id: u32,
        ep: u16,
        fp: u128,
        owner: &[u8],
        data: &[u8],
        slot: u64,
    ) -> Result<()> {
        let h = self.accounts[id as usize].held;
        if h.n < 2 {
            return Ok(());
        }
        let counts: Vec<u32> = (0..h.n).map(|i| h.versions[i].1.count_ones()).collect();
        let top = counts.iter().copied().max().unwrap_or(0);
        let best = counts.iter().position(|&c| c == top).unwrap_or(0);
        if top < 2 || counts.iter().filter(|&&c| c == top).count() > 1 {
            return Ok(());
        }
        let winner = h.versions[best];
        for (i, v) in h.versions[..h.n].iter().enumerate() {
            if i == best {
                continue;
            }
            let lost = v.1 & !winner.1;
            for b in 0..VOTERS {
                if lost >> b & 1 == 1 {
                    self.ep(b).stats.disagreed += 1;
                    self.quarantine(b);
                }
            }
        }
        let held = &mut self.accounts[id as usize].held;
        held.versions[0] = winner;
        held.n = 1;
        if held.applied != Some(winner.0) && winner.0 == fp {
            let owner_key = self.owner_key(owner);
            self.apply(graph, id, Some(&owner_key), data, Arg::Ok(slot), Some(ep))?;
            let held = &mut self.accounts[id as usize].held;
            held.applied = Some(fp);
            held.digest = Some(content_digest(&owner_key, data));
        }
        Ok(())
    }

    /// The owner program of a notification: its key when it is a program the decoders
    /// know (the common case, no base58), else the decoded address, else [`NOBODY`].
    fn owner_key(&self, owner: &[u8]) -> Key {
        if let Some((_, k)) = self.programs.iter().find(|(n, _)| n.as_bytes() == owner) {
            return *k;
        }
        std::str::from_utf8(owner)
            .ok()
            .and_then(|t| b58::decode_32(t).ok())
            .unwrap_or(NOBODY)
    }

    // ------------------------------------------------------------ accounts
    /// Apply one account's bytes (no dedup): decode it in each of its roles and refresh
    /// the pools it belongs to. False when no role is known for it. `owner` `None`
    /// skips the owner checks (as the twin's `owner=None`).
    pub fn account(
        &mut self,
        graph: &mut PoolGraph,
        pubkey: &str,
        owner: Option<&Key>,
        data: &[u8],
        slot: Arg<u64>,
    ) -> Result<bool> {
        self.wrong_argument = false;
        let Some(&id) = self.account_ix.get(pubkey) else {
            return Ok(false);
        };
        if self.accounts[id as usize].roles.is_empty() {
            return Ok(false);
        }
        if let Arg::Ok(s) = slot {
            if s < self.accounts[id as usize].held.slot {
                // older than the state held: not applied; a pending identity change it
                // was to settle is asked for again
                if let Some(ep) = self.proposals.get(&id).map(|p| p.endpoints[0]) {
                    self.ask_refetch(id, ep);
                }
                return Ok(true);
            }
        }
        self.apply(graph, id, owner, data, slot, None)?;
        if let Arg::Ok(s) = slot {
            let held = &mut self.accounts[id as usize].held;
            held.set(s, None);
            held.digest = owner.map(|o| content_digest(o, data));
        }
        Ok(true)
    }

    /// Each account of `accounts` (`(pubkey, owner, data)`: another copy, a node's
    /// `getMultipleAccounts` answer) against the state held of it: `None` when it is not
    /// watched, else `(the context slot held, whether the bytes last applied are these)`
    /// (slot 0 and false: nothing held yet). Changes nothing.
    pub fn compare(&self, accounts: &[(&str, &str, &[u8])]) -> Vec<Option<(u64, bool)>> {
        accounts
            .iter()
            .map(|&(pubkey, owner, data)| {
                let &id = self.account_ix.get(pubkey)?;
                let acc = &self.accounts[id as usize];
                if acc.roles.is_empty() {
                    return None;
                }
                let digest = content_digest(&self.owner_key(owner.as_bytes()), data);
                Some((acc.held.slot, acc.held.digest == Some(digest)))
            })
            .collect()
    }

    /// The context slot held of each of `pubkeys` (0: not watched, or nothing held).
    pub fn slots(&self, pubkeys: &[&str]) -> Vec<u64> {
        pubkeys
            .iter()
            .map(|k| {
                self.account_ix
                    .get(*k)
                    .map_or(0, |&id| self.accounts[id as usize].held.slot)
            })
            .collect()
    }

    /// The reconcile's repair: the trusted path's copy of `pubkey` (a re-read through
    /// `getMultipleAccounts`) applied as [`Self::account`] applies it when it differs from
    /// the bytes last applied and is not older than the state held; every endpoint that
    /// streams it (an account subscription bound to it, or a stream of every watched
    /// account: a gRPC one, whose only binding is its slot) is charged `repaired` (a
    /// change it never delivered). False, nothing changed, when it is not watched, older,
    /// or the same.
    pub fn reconcile(
        &mut self,
        graph: &mut PoolGraph,
        pubkey: &str,
        owner: &Key,
        data: &[u8],
        slot: u64,
    ) -> Result<bool> {
        self.wrong_argument = false;
        let Some(&id) = self.account_ix.get(pubkey) else {
            return Ok(false);
        };
        let held = self.accounts[id as usize].held;
        if self.accounts[id as usize].roles.is_empty()
            || slot < held.slot
            || held.digest == Some(content_digest(owner, data))
        {
            return Ok(false);
        }
        self.account(graph, pubkey, Some(owner), data, Arg::Ok(slot))?;
        let mut streams: Vec<u16> = Vec::new(); // endpoints with an account subscription
        let mut bound: Vec<u16> = Vec::new(); // ... to this one
        for (&(ep, _), &(kind, aid)) in &self.subs {
            if kind == SubKind::Account {
                if !streams.contains(&ep) {
                    streams.push(ep);
                }
                if aid == id && !bound.contains(&ep) {
                    bound.push(ep);
                }
            }
        }
        for (ep, e) in &mut self.eps {
            if e.subs > 0 && (bound.contains(ep) || !streams.contains(ep)) {
                e.stats.repaired += 1;
            }
        }
        Ok(true)
    }

    /// Whether `pubkey` has a role (what `account` would return before any decode).
    pub fn knows(&self, pubkey: &str) -> bool {
        self.account_ix
            .get(pubkey)
            .is_some_and(|&id| !self.accounts[id as usize].roles.is_empty())
    }

    /// Decode in each role and refresh; `source` None: trusted (snapshot / re-fetch),
    /// else the endpoint whose notification it is.
    fn apply(
        &mut self,
        graph: &mut PoolGraph,
        id: u32,
        owner: Option<&Key>,
        data: &[u8],
        slot: Arg<u64>,
        source: Option<u16>,
    ) -> Result<()> {
        // roles only grow: the first n are the twin's `list(roles)` snapshot
        let n = self.accounts.get(id as usize).map_or(0, |a| a.roles.len());
        let gone = is_absent(owner, data);
        // a mint is given to the graph once, however many pools follow it
        let mut minted = false;
        for r in 0..n {
            let (role, pix) = self.accounts[id as usize].roles[r];
            let pu = pix as usize;
            if gone {
                // the account does not exist: an array reads as its program reads an
                // absent one; any other account holds the pool out of the graph
                let p = &mut self.pools[pu];
                match role {
                    Role::Own(venue, own_role) if venue.arrays() == Some(own_role) => {
                        p.own.absent(id);
                    }
                    _ if !p.absent.contains(&id) => p.absent.push(id),
                    _ => {}
                }
                self.refresh(graph, pix, slot)?;
                continue;
            }
            match role {
                Role::Pool(venue) => {
                    if self.pool_account(id, pix, venue, owner, data, slot, source)? {
                        self.drop_pool(graph, pix)?;
                    }
                }
                Role::Mint => {
                    if !minted {
                        mint_owner(owner)?;
                        let acc = &mut self.accounts[id as usize];
                        graph.set_mint(&acc.pubkey, data, &decode::TOKEN_2022_ID)?;
                        acc.minted = true;
                        minted = true;
                    }
                }
                Role::VaultA | Role::VaultB => {
                    let acc = decode::decode_token_account(data, owner)?;
                    let side = usize::from(role == Role::VaultB);
                    if let Some((ma, mb)) = self.pools[pu].mints {
                        let want = if role == Role::VaultA { ma } else { mb };
                        if acc.mint != want {
                            let what = format!(
                                "vault {} holds mint {}, pool {} trades {}",
                                self.accounts[id as usize].pubkey,
                                b58::encode(&acc.mint),
                                self.pools[pu].id,
                                b58::encode(&want)
                            );
                            if let Some(ep) = source {
                                // a notification cannot re-point a vault
                                self.refused(ep);
                                return Err(EngineError::Decode(format!(
                                    "{what}: copy of endpoint {ep} refused, endpoint quarantined"
                                )));
                            }
                            self.drop_pool(graph, pix)?;
                            return Err(EngineError::Decode(what));
                        }
                    }
                    let t22 = owner == Some(&decode::TOKEN_2022_ID);
                    if let Some(ep) = source {
                        // nor move it to another token program
                        self.same_program(id, pix, side, t22, ep)?;
                    }
                    let p = &mut self.pools[pu];
                    if role == Role::VaultA {
                        p.vault_a = Some(acc.amount);
                    } else {
                        p.vault_b = Some(acc.amount);
                    }
                    p.t22[side] = Some(t22);
                    self.follow_mints(pix);
                }
                Role::Own(_, own_role) => {
                    let p = &mut self.pools[pu];
                    let cx = OwnAccount {
                        account: id,
                        pubkey: &self.accounts[id as usize].pubkey,
                        pool_key: &p.key,
                        pool_id: &p.id,
                        data,
                        owner,
                        slot: match slot {
                            Arg::Ok(s) => Some(s),
                            _ => None,
                        },
                    };
                    p.own.apply(own_role, &cx)?;
                }
            }
            // held, so it exists again (a vault re-created)
            self.pools[pu].absent.retain(|&a| a != id);
            self.refresh(graph, pix, slot)?;
        }
        Ok(())
    }

    /// A notification's copy would change a pool's identity: refused, its endpoint
    /// quarantined, a re-fetch asked for to settle it. The error to raise.
    fn propose(&mut self, id: u32, pix: u32, rec: Record, slot: u64, ep: u16) -> EngineError {
        self.refused(ep);
        match self.proposals.get_mut(&id) {
            Some(p) if p.record.same_identity(&rec) => {
                if !p.endpoints.contains(&ep) {
                    p.endpoints.push(ep);
                }
            }
            _ => {
                self.proposals.insert(
                    id,
                    Proposal {
                        record: rec,
                        slot,
                        endpoints: vec![ep],
                    },
                );
            }
        }
        self.ask_refetch(id, ep);
        EngineError::Decode(format!(
            "pool {}: its identity (mints, vaults, programs, status) changed in a copy of \
             endpoint {ep}; refused until a re-fetch confirms it",
            self.pools[pix as usize].id
        ))
    }

    /// The checks of [`Self::apply`] (decode in each role, identity, vault mint) on a copy
    /// that is not applied now: the error applying it would raise.
    fn validate(&mut self, id: u32, owner: &Key, data: &[u8], slot: u64, ep: u16) -> Result<()> {
        if is_absent(Some(owner), data) {
            return Ok(()); // an account's absence is no malformed copy
        }
        let n = self.accounts[id as usize].roles.len();
        for r in 0..n {
            let (role, pix) = self.accounts[id as usize].roles[r];
            let pu = pix as usize;
            let owner = Some(owner);
            match role {
                Role::Pool(venue) => {
                    let rec = Record::decode(venue, data, owner)?;
                    let changed = self.pools[pu]
                        .record
                        .as_ref()
                        .is_some_and(|old| !old.same_identity(&rec));
                    if changed {
                        return Err(self.propose(id, pix, rec, slot, ep));
                    }
                }
                Role::VaultA | Role::VaultB => {
                    let acc = decode::decode_token_account(data, owner)?;
                    if let Some((ma, mb)) = self.pools[pu].mints {
                        let want = if role == Role::VaultA { ma } else { mb };
                        if acc.mint != want {
                            self.refused(ep);
                            return Err(EngineError::Decode(format!(
                                "vault {} holds mint {}, pool {} trades {}: copy of endpoint \
                                 {ep} refused, endpoint quarantined",
                                self.accounts[id as usize].pubkey,
                                b58::encode(&acc.mint),
                                self.pools[pu].id,
                                b58::encode(&want)
                            )));
                        }
                    }
                    let side = usize::from(role == Role::VaultB);
                    let t22 = owner == Some(&decode::TOKEN_2022_ID);
                    self.same_program(id, pix, side, t22, ep)?;
                }
                Role::Mint => {
                    mint_owner(owner)?;
                    crate::token2022::mint_rules(data, Some(&decode::TOKEN_2022_ID))?;
                }
                Role::Own(venue, own_role) => {
                    let p = &self.pools[pu];
                    let cx = OwnAccount {
                        account: id,
                        pubkey: &self.accounts[id as usize].pubkey,
                        pool_key: &p.key,
                        pool_id: &p.id,
                        data,
                        owner,
                        slot: None,
                    };
                    venues::check_own_account(venue, own_role, &cx)?;
                }
            }
        }
        Ok(())
    }

    /// A notification's vault copy keeps the vault's token program (a token account never
    /// changes program: a copy that says so lies, as one re-pointing it does).
    fn same_program(&mut self, id: u32, pix: u32, side: usize, t22: bool, ep: u16) -> Result<()> {
        match self.pools[pix as usize].t22[side] {
            Some(was) if was != t22 => {
                self.refused(ep);
                Err(EngineError::Decode(format!(
                    "vault {} of pool {} is a {} account, the copy of endpoint {ep} says {}: \
                     refused, endpoint quarantined",
                    self.accounts[id as usize].pubkey,
                    self.pools[pix as usize].id,
                    program_name(was),
                    program_name(t22)
                )))
            }
            _ => Ok(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pool_account(
        &mut self,
        id: u32,
        pix: u32,
        venue: VenueId,
        owner: Option<&Key>,
        data: &[u8],
        slot: Arg<u64>,
        source: Option<u16>,
    ) -> Result<bool> {
        let rec = Record::decode(venue, data, owner)?;
        let changed = self.pools[pix as usize]
            .record
            .as_ref()
            .is_some_and(|old| !old.same_identity(&rec));
        if let (true, Some(ep)) = (changed, source) {
            let slot = if let Arg::Ok(s) = slot { s } else { 0 };
            return Err(self.propose(id, pix, rec, slot, ep));
        }
        if source.is_none() {
            if let Some(first) = self.proposals.get(&id).map(|p| p.endpoints[0]) {
                match slot {
                    Arg::Ok(s) if self.proposals.get(&id).is_some_and(|p| s >= p.slot) => {
                        if let Some(p) = self.proposals.remove(&id) {
                            self.refetch.retain(|r| r.0 != id);
                            let confirmed = p.record.same_identity(&rec);
                            for ep in p.endpoints {
                                if confirmed {
                                    self.lift(ep); // it was right
                                } else {
                                    self.ep(ep).stats.disagreed += 1;
                                }
                            }
                        }
                    }
                    _ => self.ask_refetch(id, first), // too old to settle it
                }
            }
        }
        // the own accounts the pool account names (a CP-Swap pool's AmmConfig) follow it
        let mut follow = std::mem::take(&mut self.follow);
        follow.clear();
        rec.followed(&mut follow);
        if self.pools[pix as usize].followed != follow {
            let known = std::mem::take(&mut self.pools[pix as usize].followed);
            for &(r, key) in known.iter().filter(|k| !follow.contains(k)) {
                self.remove_role_of_key(&key, Role::Own(venue, r), pix);
            }
            for &(r, key) in &follow {
                self.role_of_key(&key, Role::Own(venue, r), pix);
            }
            self.pools[pix as usize].followed = follow.clone();
            self.follow = known;
        } else {
            self.follow = follow;
        }
        let mints = rec.reserve_mints();
        let vaults = rec.vaults();
        self.record_seq += 1;
        let p = &mut self.pools[pix as usize];
        p.record_seq = self.record_seq;
        let old = p.record.replace(rec);
        let remint = old.is_some() && p.mints != Some(mints);
        if remint {
            // the pool was re-initialised: wait for the vaults
            p.vault_a = None;
            p.vault_b = None;
            p.t22 = [None, None];
        }
        if p.mints != Some(mints) {
            p.mint_names = (b58::encode(&mints.0), b58::encode(&mints.1));
            p.mints = Some(mints);
        }
        let known = p.vaults_known;
        let mut repointed = false;
        if known != Some(vaults) {
            p.vaults_known = Some(vaults);
            if let Some(was) = known {
                // the old vault's balance (and program) is not this pool's
                if was.0 != vaults.0 {
                    p.vault_a = None;
                    p.t22[0] = None;
                }
                if was.1 != vaults.1 {
                    p.vault_b = None;
                    p.t22[1] = None;
                }
                repointed = true;
                if was.0 != vaults.0 {
                    self.remove_role_of_key(&was.0, Role::VaultA, pix);
                }
                if was.1 != vaults.1 {
                    self.remove_role_of_key(&was.1, Role::VaultB, pix);
                }
            }
            self.role_of_key(&vaults.0, Role::VaultA, pix);
            self.role_of_key(&vaults.1, Role::VaultB, pix);
        }
        self.follow_mints(pix); // the old mints' roles go with the old vaults
                                // out of the graph until its state is whole again
        Ok(remint || repointed)
    }

    fn drop_pool(&mut self, graph: &mut PoolGraph, pix: u32) -> Result<()> {
        let p = &mut self.pools[pix as usize];
        if p.in_graph {
            graph.remove_pool(&p.id)?;
            p.in_graph = false;
            if !p.changed {
                p.changed = true;
                self.changed.push(pix);
            }
        }
        Ok(())
    }

    /// Upsert the pool when everything it needs is known.
    fn refresh(&mut self, graph: &mut PoolGraph, pix: u32, slot: Arg<u64>) -> Result<()> {
        if !self.mints_ready(pix) || !self.pools[pix as usize].absent.is_empty() {
            // a Token-2022 vault: never quoted without its mint's transfer fee (it has a
            // record, or it would follow no mint); nor a pool an account of which the
            // chain does not hold (a closed vault)
            if let Arg::Ok(s) = slot {
                let p = &mut self.pools[pix as usize];
                p.slot = p.slot.max(s);
            }
            return self.drop_pool(graph, pix);
        }
        match self.upsert(graph, pix, slot) {
            Ok(false) => Ok(()),
            Ok(true) => {
                let p = &mut self.pools[pix as usize];
                p.in_graph = true;
                self.n.pool_updates += 1;
                if !p.changed {
                    p.changed = true;
                    self.changed.push(pix);
                }
                Ok(())
            }
            Err(e) => {
                if !self.wrong_argument {
                    // the twin drops on any EngineError (a TypeError is not one)
                    self.drop_pool(graph, pix)?;
                }
                Err(e)
            }
        }
    }

    /// The upsert of [`Self::refresh`]: Ok(false) when something is still missing. The
    /// pool's slot is the newest of its accounts' (it never goes back).
    fn upsert(&mut self, graph: &mut PoolGraph, pix: u32, slot: Arg<u64>) -> Result<bool> {
        let slot = match slot {
            Arg::Ok(s) => {
                let p = &mut self.pools[pix as usize];
                p.slot = p.slot.max(s);
                Arg::Ok(p.slot)
            }
            other => other,
        };
        let wrong = &mut self.wrong_argument;
        let mut slot_of = || match slot {
            Arg::Ok(s) => Ok(s),
            Arg::Overflow => Err(EngineError::Overflow("slot does not fit in u64".into())),
            Arg::Wrong => {
                *wrong = true;
                Err(EngineError::InvalidInput("slot: expected int".into()))
            }
        };
        let Pool {
            id,
            record,
            own,
            mint_names,
            vault_a,
            vault_b,
            ..
        } = &mut self.pools[pix as usize];
        let Some(rec) = record else {
            return Ok(false);
        };
        let (a, b) = (mint_names.0.as_str(), mint_names.1.as_str());
        let mut cx = Assembly::new(id, (a, b), (*vault_a, *vault_b), &mut slot_of);
        let Some((state, slot)) = own.update(rec, &mut cx)? else {
            return Ok(false);
        };
        graph.upsert_state_ids_checked(id, a, b, state, slot)?;
        Ok(true)
    }

    /// Those of `pools` caught halfway through a slot: one vault's copy of a newer slot
    /// came by a notification and the other vault's is older (a swap moves both: its
    /// copy is on its way). Deciding on such a pool would quote a state that never
    /// existed. Not tracked, not decoded, or without two vaults: not half-moved.
    pub fn half_moved(&self, pools: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for id in pools {
            let Some(&pix) = self.pool_ix.get(id.as_str()) else {
                continue;
            };
            let Some((a, b)) = self.pools[pix as usize].vaults_known else {
                continue;
            };
            let (Some(&ia), Some(&ib)) = (self.key_ix.get(&a), self.key_ix.get(&b)) else {
                continue;
            };
            let (ha, hb) = (
                &self.accounts[ia as usize].held,
                &self.accounts[ib as usize].held,
            );
            let newer = if ha.slot > hb.slot {
                ha
            } else if hb.slot > ha.slot {
                hb
            } else {
                continue;
            };
            if newer.applied.is_some() {
                out.push(id.clone());
            }
        }
        out
    }

    // ------------------------------------------------------------ results
    /// Pools whose graph state changed since the last call, first change first.
    pub fn take_changed(&mut self) -> Vec<String> {
        let out = self
            .changed
            .iter()
            .map(|&pix| {
                let p = &mut self.pools[pix as usize];
                p.changed = false;
                p.id.clone()
            })
            .collect();
        self.changed.clear();
        out
    }

    /// How many pools changed since the last [`take_changed`](Self::take_changed) (a
    /// caller deciding whether a turn has anything to evaluate).
    pub fn pending(&self) -> usize {
        self.changed.len()
    }

    /// The decoded account of the tracked pool `address` as the graph holds it now
    /// (`None`: not tracked, or not decoded yet).
    pub fn record(&self, address: &str) -> Option<&Record> {
        let &pix = self.pool_ix.get(address)?;
        self.pools.get(pix as usize)?.record.as_ref()
    }

    pub fn stats(&self) -> IngestStats {
        self.n
    }

    /// Each endpoint it has heard of, by id: its slot vote, how it stands to the chain's
    /// slot (as of the newest slot notification) and its integrity counts.
    pub fn endpoint_stats(&self) -> Vec<EndpointStats> {
        let now = self.now;
        let hint = self.pace_hint();
        let mut out: Vec<EndpointStats> = self
            .eps
            .iter()
            .map(|(i, e)| {
                let behind = if e.vote > 0 {
                    self.n.slot.saturating_sub(e.vote)
                } else {
                    0
                };
                let voting = live(e, now, hint);
                // behind by more than LAG_SLOTS, or behind and stalled (its slot stopped)
                let stalled =
                    e.slot_subs > 0 && i128::from(now) - i128::from(e.vote_ns) > live_ns(e, hint);
                EndpointStats {
                    slot: e.vote,
                    account_slot: e.acct_slot,
                    behind,
                    lagging: behind > LAG_SLOTS || (behind > 0 && stalled),
                    voting,
                    leading: self.leader == Some(*i) && voting,
                    ..e.stats
                }
            })
            .collect();
        out.sort_unstable_by_key(|s| s.endpoint);
        out
    }

    fn told_of(&mut self, signature: String, slot: u64, failed: bool, ep: u16, invokes: u32) {
        if self.txs.len() >= TX_QUEUE {
            self.txs.pop_front();
        }
        self.txs.push_back((signature, slot, failed, ep, invokes));
    }

    /// The transactions told of since the last call, oldest first: the first copy of each
    /// logs notification and gRPC transaction update (a vote's excepted), as
    /// `(signature, slot, failed, endpoint, invokes)`, `invokes` the programs its logs
    /// show invoked ([`Invokes`]: one swap is one, an arbitrage at least two); at most
    /// [`TX_QUEUE`] (older ones are gone).
    pub fn take_transactions(&mut self) -> Vec<(String, u64, bool, u16, u32)> {
        self.txs.drain(..).collect()
    }

    /// Pool accounts to fetch again over HTTP (an identity change waits for it), each
    /// with the endpoint whose copy asked for it.
    pub fn take_refetch(&mut self) -> Vec<(String, u16)> {
        std::mem::take(&mut self.refetch)
            .into_iter()
            .map(|(id, ep)| (self.accounts[id as usize].pubkey.to_string(), ep))
            .collect()
    }

    /// Lead/lag per endpoint ([`Deduper::stats`]).
    pub fn dedup_stats(&self) -> Vec<DedupStats> {
        self.dedup.stats()
    }

    /// `(address, decoded pool account)` of every tracked pool decoded so far, in the
    /// order they were tracked.
    pub fn records(&self) -> Vec<(&str, &Record)> {
        self.records_since(0)
    }

    /// `records`, only the pools whose record was replaced after `since` (a value of
    /// `record_seq`): what a reader who saw the records at `since` has not seen.
    pub fn records_since(&self, since: u64) -> Vec<(&str, &Record)> {
        self.pools
            .iter()
            .filter(|p| p.record_seq > since)
            .filter_map(|p| p.record.as_ref().map(|r| (p.id.as_str(), r)))
            .collect()
    }

    /// Bumped whenever a pool's decoded record is replaced (never goes back).
    pub fn record_seq(&self) -> u64 {
        self.record_seq
    }

    /// `(address, decoded Whirlpool)` of every tracked Whirlpool decoded so far.
    pub fn whirlpools(&self) -> Vec<(&str, &Whirlpool)> {
        self.pools
            .iter()
            .filter_map(|p| match &p.record {
                Some(Record::OrcaWhirlpool(w)) => Some((p.id.as_str(), w)),
                _ => None,
            })
            .collect()
    }

    /// The chain's slot (see the module docs).
    pub fn slot(&self) -> u64 {
        self.n.slot
    }
}

#[cfg(test)]
mod tests;

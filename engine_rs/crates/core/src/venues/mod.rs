//! Venues: one module per DEX program, the unit of extension (twin:
//! `engine_rs/python/venues/`).
//!
//! A venue is modelled on Jupiter's `jupiter-amm-interface` `Amm` trait — the pool's key
//! (its address, which the caller tracks), its reserve mints, the accounts to follow,
//! `update` from those accounts, an exact `quote(amount, direction)` and a spot rate —
//! plus what the rest of the engine needs of it: its program ids and layout (its
//! decoders), the identity fields of its pool account, its two vaults, the accounts of
//! its own it follows (a CP-Swap pool's `AmmConfig`, a Whirlpool's tick arrays), and the
//! swap logs or events its program writes. [`Venue`] is that trait.
//!
//! The [`registry!`] at the bottom of this file lists the venues once. From it come
//! [`VenueId`] and [`VENUES`], and one enum per thing a venue has, each with a variant per
//! venue: [`Record`] (a decoded pool account), [`Own`] (what the feed ingest keeps of a
//! pool's own accounts), [`PoolState`] (what the graph and sizing quote) and [`Event`]
//! (a parsed swap log). Their methods are `match`es over the variants calling the venue's
//! trait functions, so the hot path dispatches statically (no `Box<dyn>`). Adding a
//! venue is its folder (`venues/<venue>/mod.rs`: its layout, decoders, quote state and
//! trait impl, with its math, PDAs and tests beside it) and one line in the registry.
//!
//! What venues share stays shared: `amm.rs` (constant product, used by both Raydium
//! AMMs and sizing), [`ticks`] (the tick-array layout and crossed-tick count of the two
//! tick venues, Orca Whirlpool and Raydium CLMM), `pda.rs` (the derivation and its
//! cache); shared account kinds (SPL Token accounts and mints, the Clock sysvar, base64)
//! stay in `decode.rs`.

/// `impl Decode for $record` by its decoder function (`decode_<venue>(data, owner)`).
macro_rules! decoded_by {
    ($record:ty, $decoder:path) => {
        impl $crate::venues::Decode for $record {
            fn decode(
                data: &[u8],
                owner: Option<&$crate::decode::Key>,
            ) -> $crate::error::Result<Self> {
                $decoder(data, owner)
            }
        }
    };
}

/// The items every `impl Venue` starts with, a line each: `INFO` (`info` name, kind,
/// label, graph kind, `[program ids]`, pool account size), the four types (`types`
/// Record, Own, State, Event), `same_identity` (`identity`: the record's fields that
/// never change through a notification, compared) and `reserve_mints` / `vaults`
/// (`mints` / `vaults`: the record's two fields, a then b). A field may be indexed
/// (`keys[2]`, `u16s[..2]`).
macro_rules! venue_items {
    (
        info $name:literal, $kind:literal, $label:literal, $graph:literal,
            [$($program:expr),+], $size:expr;
        types $record:ty, $own:ty, $state:ty, $event:ty;
        identity $($f:ident $([$($i:tt)*])?),+;
        mints $m0:ident $([$($mi0:tt)*])?, $m1:ident $([$($mi1:tt)*])?;
        vaults $v0:ident $([$($vi0:tt)*])?, $v1:ident $([$($vi1:tt)*])?;
    ) => {
        const INFO: $crate::venues::VenueInfo = $crate::venues::VenueInfo {
            name: $name,
            kind: $kind,
            label: $label,
            graph_kind: $graph,
            program_ids: &[$($program),+],
            pool_account_size: $size,
        };

        type Record = $record;
        type Own = $own;
        type State = $state;
        type Event = $event;

        fn same_identity(a: &$record, b: &$record) -> bool {
            $(a.$f $([$($i)*])? == b.$f $([$($i)*])?)&&+
        }

        fn reserve_mints(r: &$record) -> ($crate::decode::Key, $crate::decode::Key) {
            (r.$m0 $([$($mi0)*])?, r.$m1 $([$($mi1)*])?)
        }

        fn vaults(r: &$record) -> ($crate::decode::Key, $crate::decode::Key) {
            (r.$v0 $([$($vi0)*])?, r.$v1 $([$($vi1)*])?)
        }
    };
}

pub mod manifest;
pub mod meteora_damm_v2;
pub mod meteora_dlmm;
pub mod openbook_v2;
pub mod orca_whirlpool;
pub mod pump_amm;
pub mod raydium_amm_v4;
pub mod raydium_clmm;
pub mod raydium_cpmm;
pub mod ticks;

use std::fmt;

use crate::amm::ConstantProduct;
use crate::decode::{self, Key};
use crate::error::{EngineError, Result};
use crate::graph::check_pool_ids;

/// A venue's static facts (fields as `engine_rs.records.VenueInfo`, whose `arrays` is
/// [`VenueId::array_role`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VenueInfo {
    /// The module's name (`raydium_amm_v4`): the same in both backends.
    pub name: &'static str,
    /// The pool kind users write in their pools files and the journal records
    /// (`amm_v4`, `cpmm`, `whirlpool`): stable.
    pub kind: &'static str,
    /// The dashboard's short label (`v4`, `cp`, `wp`).
    pub label: &'static str,
    /// What `Opportunity.kinds` reports for its pools (`cpmm`, `clmm`): part of the
    /// replay digest, stable.
    pub graph_kind: &'static str,
    /// The programs that may own its pool accounts (base58), the main one first.
    pub program_ids: &'static [&'static str],
    /// The size of its pool account in bytes (the decoder's minimum; real accounts may
    /// be longer).
    pub pool_account_size: usize,
}

/// An account a venue follows for a pool besides the pool account and its two vaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnRole {
    /// The role's name in `FeedIngest.roles` (`config`, `tick_array`).
    pub name: &'static str,
    /// True when the pool account names it (followed as the pool says); false when the
    /// caller tracks it (its arrays: `FeedIngest.track_array`).
    pub from_pool: bool,
}

impl OwnRole {
    /// A role the pool account names (followed as the pool says).
    pub const fn named(name: &'static str) -> Self {
        Self {
            name,
            from_pool: true,
        }
    }

    /// A role the caller tracks (its arrays).
    pub const fn tracked(name: &'static str) -> Self {
        Self {
            name,
            from_pool: false,
        }
    }
}

/// One of a venue's own accounts as the feed ingest hands it over.
#[derive(Debug, Clone, Copy)]
pub struct OwnAccount<'a> {
    /// The ingest's id of the account (stable while it is tracked).
    pub account: u32,
    /// Its address.
    pub pubkey: &'a str,
    /// The pool it serves: its address as bytes and as text.
    pub pool_key: &'a Key,
    pub pool_id: &'a str,
    /// Its bytes and owner program (`None`: not checked).
    pub data: &'a [u8],
    pub owner: Option<&'a Key>,
    /// The slot of this copy (`None` where the caller's slot argument was bad, or where
    /// the account is only checked, not applied).
    pub slot: Option<u64>,
}

/// What a venue's [`Venue::update`] assembles its quote state with: the pool's id and
/// mints, its vault balances, and the slot to upsert at, asked for when the venue has
/// everything else (so a bad slot argument fails at the twin's moment).
pub struct Assembly<'a> {
    pub pool_id: &'a str,
    pub mints: (&'a str, &'a str),
    /// The vaults' token amounts in base units (`None` until seen).
    pub vaults: (Option<u64>, Option<u64>),
    slot: &'a mut dyn FnMut() -> Result<u64>,
}

impl<'a> Assembly<'a> {
    pub fn new(
        pool_id: &'a str,
        mints: (&'a str, &'a str),
        vaults: (Option<u64>, Option<u64>),
        slot: &'a mut dyn FnMut() -> Result<u64>,
    ) -> Self {
        Self {
            pool_id,
            mints,
            vaults,
            slot,
        }
    }

    /// The slot of the upsert (an error when the caller's slot argument was bad).
    pub fn slot(&mut self) -> Result<u64> {
        (self.slot)()
    }

    /// The graph's id checks on an assembled pool: its address passed `track_pool` and
    /// its mints are base58 of 32 bytes, so only two equal mints can fail.
    pub fn check_ids(&self) -> Result<()> {
        let (a, b) = self.mints;
        if a == b {
            check_pool_ids(self.pool_id, a, b)?;
        }
        Ok(())
    }
}

/// What [`Venue::update`] makes: the quote state and the slot to upsert it at, or
/// `None` while something is missing.
pub type Updated<S> = Result<Option<(S, u64)>>;

/// A venue's pool account from its bytes ([`Venue::decode`]'s default).
pub trait Decode: Sized {
    /// The account from its bytes; `owner` (when given) must be one of the venue's
    /// [`VenueInfo::program_ids`].
    fn decode(data: &[u8], owner: Option<&Key>) -> Result<Self>;
}

/// What quotes a swap: a venue's [`Venue::State`], as jupiter-amm-interface's `Amm`
/// quotes. `quote_checked` and `spot_rate` are what a venue writes; the rest are built
/// on them or default to nothing.
pub trait Curve {
    /// Exact output in base units for `amount` in (a into b when `a_to_b`); 0 for 0;
    /// or why there is no number: the swap cannot be done in full
    /// ([`NoQuote::Unfillable`]), or it needs ticks the state does not hold
    /// ([`NoQuote::TicksMissing`]: a Whirlpool's arrays not received yet). The one
    /// quote a venue must write; the others are built on it.
    fn quote_checked(&self, amount: u64, a_to_b: bool) -> std::result::Result<u64, NoQuote>;
    /// [`Curve::quote_checked`] without the reason: `None` when there is no number.
    #[inline]
    fn quote(&self, amount: u64, a_to_b: bool) -> Option<u64> {
        self.quote_checked(amount, a_to_b).ok()
    }
    /// [`Curve::quote_checked`] with the steps the venue's compute-unit model counts for
    /// the swap (`ComputeUnits` in `feeds/venues/<venue>.py`, fitted to its program): a
    /// Whirlpool's or a Raydium CLMM pool's initialized ticks crossed, a DLMM pair's bins
    /// filled after the first and every 18 empty bins walked past, an order book's maker
    /// orders reached; none for a venue whose use does not grow with the swap. Counted by
    /// the quote's own walk (no second one). Steps that depend on the mints' token
    /// programs (a Token-2022 surcharge) are not the curve's: the caller adds them.
    fn quote_steps(&self, amount: u64, a_to_b: bool) -> std::result::Result<(u64, u32), NoQuote> {
        self.quote_checked(amount, a_to_b).map(|out| (out, 0))
    }
    /// Output per input after the fee at zero size (f64, the twin's operations).
    fn spot_rate(&self, a_to_b: bool) -> f64;
    /// Its constant-product curve, when it quotes on one (sizing then has a closed form).
    fn constant_product(&self) -> Option<&ConstantProduct> {
        None
    }
    /// The L2 ladder of `depth` levels a side, for a venue that is an order book.
    fn ladder(&self, _depth: usize) -> Option<Ladder> {
        None
    }
}

/// One DEX program (see the module docs). Functions, not methods: a venue is a type
/// with no data; what it works on (a record, a quote state) is passed in.
pub trait Venue {
    /// Names, program ids, pool account size.
    const INFO: VenueInfo;
    /// Its own accounts besides the pool account and its vaults, by role number.
    const OWN_ROLES: &'static [OwnRole] = &[];
    /// The prefix of a `Program log:` line carrying its swap (AMM v4's `ray_log`).
    const LOG_PREFIX: Option<&'static [u8]> = None;
    /// The own role of its arrays, which the caller follows around the price
    /// (`FeedIngest::track_array` / `untrack_array`): a Whirlpool's or a Raydium CLMM
    /// pool's tick arrays, a DLMM pair's bin arrays; `None` for a venue without.
    const ARRAYS: Option<u8> = None;

    /// Its decoded pool account.
    type Record: Decode + Clone + fmt::Debug + PartialEq;
    /// What the feed ingest keeps of a pool's own accounts (a fee rate, tick arrays).
    type Own: Default + fmt::Debug;
    /// What quotes a swap: what the graph holds and sizing walks.
    type State: Curve + Clone + fmt::Debug + PartialEq;
    /// A swap its program logged.
    type Event: Clone + fmt::Debug + PartialEq;

    /// The pool account from its bytes; `owner` (when given) must be one of
    /// [`VenueInfo::program_ids`].
    fn decode(data: &[u8], owner: Option<&Key>) -> Result<Self::Record> {
        Self::Record::decode(data, owner)
    }
    /// Whether two records are the same pool: the fields that never change through a
    /// notification (mints, vaults, programs, status, decimals...) are equal.
    fn same_identity(a: &Self::Record, b: &Self::Record) -> bool;
    /// The two mints it trades: (a, b), in the order its quotes call a and b.
    fn reserve_mints(r: &Self::Record) -> (Key, Key);
    /// The token accounts holding mint a and mint b.
    fn vaults(r: &Self::Record) -> (Key, Key);
    /// Own accounts the pool account names, as (role number, address).
    fn followed(_r: &Self::Record, _out: &mut Vec<(u8, Key)>) {}
    /// Decode one of its own accounts in `role` and keep what quoting needs of it.
    fn own_account(_own: &mut Self::Own, role: u8, _cx: &OwnAccount<'_>) -> Result<()> {
        Err(no_role(Self::INFO, role))
    }
    /// Drop what it kept of the [`Venue::ARRAYS`] account the ingest knows as `account`
    /// (the caller no longer tracks it); true when something was dropped.
    fn forget(_own: &mut Self::Own, _account: u32) -> bool {
        false
    }
    /// The [`Venue::ARRAYS`] account the ingest knows as `account` does not exist on
    /// chain now (a copy owned by the system program with no data): what the venue keeps
    /// of it becomes what its program reads of an absent array. By default nothing (its
    /// program skips arrays nobody initialized: Raydium CLMM, DLMM), as
    /// [`Venue::forget`]; true when something changed.
    fn absent(own: &mut Self::Own, account: u32) -> bool {
        Self::forget(own, account)
    }
    /// The checks of [`Venue::own_account`] without keeping anything (a copy that is not
    /// applied now): by default [`Venue::own_account`] into a scratch [`Venue::Own`].
    fn check_own_account(role: u8, cx: &OwnAccount<'_>) -> Result<()> {
        Self::own_account(&mut Self::Own::default(), role, cx)
    }
    /// Its quote state and the slot to upsert it at, from the pool account, its own
    /// accounts and its vaults; `Ok(None)` while something is missing.
    fn update(own: &mut Self::Own, r: &Self::Record, cx: &mut Assembly) -> Updated<Self::State>;
    /// An Anchor event (`Program data:` bytes, discriminator first) of its program:
    /// `None` when the discriminator is not one of its own.
    fn parse_event(_raw: &[u8]) -> Option<Result<Self::Event>> {
        None
    }
    /// The swap in the bytes of a [`Venue::LOG_PREFIX`] line (`None`: another log type).
    fn parse_log(_raw: &[u8]) -> Result<Option<Self::Event>> {
        Ok(None)
    }
}

fn no_role(info: VenueInfo, role: u8) -> EngineError {
    EngineError::InvalidInput(format!("{} has no account role {role}", info.name))
}

/// One price level of the ladder (fields as `engine_rs.records.BookLevel`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    pub price: f64,
    pub size: f64,
    pub price_lots: i64,
    pub size_lots: i128,
    pub orders: u32,
}

/// An order book's L2 ladder (fields as `engine_rs.records.BookLadder`, without the
/// market's ids): bids best first, asks best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Ladder {
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub best_bid: Option<f64>,
    pub best_ask: Option<f64>,
    pub spread: Option<f64>,
    pub mid: Option<f64>,
}

/// Why a quote has no number ([`Curve::quote_checked`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoQuote {
    /// The swap cannot be done in full (a partial fill, a program error).
    Unfillable,
    /// The swap would step past the ticks the state holds: no number is honest.
    TicksMissing,
}

/// The `Program data: ` prefix of Anchor event lines.
pub const PROGRAM_DATA: &[u8] = b"Program data: ";

/// Python's `repr` of a tuple of str, for the twin's messages.
fn tuple_repr(names: &[&str]) -> String {
    let inner: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    format!("({})", inner.join(", "))
}

/// The generated part: see [`VenueId`], [`Record`], [`Own`], [`PoolState`], [`Event`].
macro_rules! registry {
    ($($id:ident => $module:ident :: $venue:ident),+ $(,)?) => {
        /// One venue of the registry.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum VenueId {
            $($id),+
        }

        /// Every venue, in registry order.
        pub const VENUES: &[VenueId] = &[$(VenueId::$id),+];

        impl VenueId {
            /// Its static facts.
            pub fn info(self) -> &'static VenueInfo {
                match self {
                    $(Self::$id => &<$module::$venue as Venue>::INFO),+
                }
            }

            /// Its own accounts' roles, by role number.
            pub fn own_roles(self) -> &'static [OwnRole] {
                match self {
                    $(Self::$id => <$module::$venue as Venue>::OWN_ROLES),+
                }
            }

            /// [`Venue::ARRAYS`].
            pub fn arrays(self) -> Option<u8> {
                match self {
                    $(Self::$id => <$module::$venue as Venue>::ARRAYS),+
                }
            }

            /// The role name of [`Venue::ARRAYS`] (`tick_array`, `bin_array`), if any.
            pub fn array_role(self) -> Option<&'static str> {
                self.arrays().map(|r| self.own_roles()[usize::from(r)].name)
            }
        }

        /// A decoded pool account of any venue.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Record {
            $($id(<$module::$venue as Venue>::Record)),+
        }

        impl Record {
            /// `venue`'s pool account from its bytes ([`Venue::decode`]).
            pub fn decode(venue: VenueId, data: &[u8], owner: Option<&Key>) -> Result<Self> {
                match venue {
                    $(VenueId::$id => <$module::$venue as Venue>::decode(data, owner).map(Self::$id)),+
                }
            }

            pub fn venue(&self) -> VenueId {
                match self {
                    $(Self::$id(_) => VenueId::$id),+
                }
            }

            /// [`Venue::same_identity`]; records of different venues are never the same.
            pub fn same_identity(&self, other: &Record) -> bool {
                match (self, other) {
                    $((Self::$id(a), Self::$id(b)) => <$module::$venue as Venue>::same_identity(a, b),)+
                    #[allow(unreachable_patterns)]
                    _ => false,
                }
            }

            /// [`Venue::reserve_mints`].
            pub fn reserve_mints(&self) -> (Key, Key) {
                match self {
                    $(Self::$id(r) => <$module::$venue as Venue>::reserve_mints(r)),+
                }
            }

            /// [`Venue::vaults`].
            pub fn vaults(&self) -> (Key, Key) {
                match self {
                    $(Self::$id(r) => <$module::$venue as Venue>::vaults(r)),+
                }
            }

            /// [`Venue::followed`].
            pub fn followed(&self, out: &mut Vec<(u8, Key)>) {
                match self {
                    $(Self::$id(r) => <$module::$venue as Venue>::followed(r, out)),+
                }
            }
        }

        /// What the feed ingest keeps of one pool's own accounts, for any venue.
        #[derive(Debug)]
        pub enum Own {
            $($id(<$module::$venue as Venue>::Own)),+
        }

        impl Own {
            /// Nothing seen yet, for a pool of `venue`.
            pub fn new(venue: VenueId) -> Self {
                match venue {
                    $(VenueId::$id => Self::$id(Default::default())),+
                }
            }

            /// [`Venue::own_account`].
            pub fn apply(&mut self, role: u8, cx: &OwnAccount<'_>) -> Result<()> {
                match self {
                    $(Self::$id(o) => <$module::$venue as Venue>::own_account(o, role, cx)),+
                }
            }

            /// [`Venue::forget`].
            pub fn forget(&mut self, account: u32) -> bool {
                match self {
                    $(Self::$id(o) => <$module::$venue as Venue>::forget(o, account)),+
                }
            }

            /// [`Venue::absent`].
            pub fn absent(&mut self, account: u32) -> bool {
                match self {
                    $(Self::$id(o) => <$module::$venue as Venue>::absent(o, account)),+
                }
            }

            /// [`Venue::update`] with `record` (of the same venue; `Ok(None)` otherwise).
            pub fn update(
                &mut self,
                record: &Record,
                cx: &mut Assembly<'_>,
            ) -> Result<Option<(PoolState, u64)>> {
                match (self, record) {
                    $((Self::$id(o), Record::$id(r)) => Ok(
                        <$module::$venue as Venue>::update(o, r, cx)?
                            .map(|(s, slot)| (PoolState::$id(s), slot)),
                    ),)+
                    #[allow(unreachable_patterns)]
                    _ => Ok(None),
                }
            }
        }

        /// [`Venue::check_own_account`] of `venue`.
        pub fn check_own_account(venue: VenueId, role: u8, cx: &OwnAccount<'_>) -> Result<()> {
            match venue {
                $(VenueId::$id => <$module::$venue as Venue>::check_own_account(role, cx)),+
            }
        }

        /// A pool's quote state, for any venue: what the graph holds and sizing walks.
        #[derive(Debug, Clone, PartialEq)]
        pub enum PoolState {
            $($id(<$module::$venue as Venue>::State)),+
        }

        impl PoolState {
            pub fn venue(&self) -> VenueId {
                match self {
                    $(Self::$id(_) => VenueId::$id),+
                }
            }

            /// [`Curve::quote`].
            #[inline]
            pub fn quote(&self, amount: u64, a_to_b: bool) -> Option<u64> {
                match self {
                    $(Self::$id(s) => Curve::quote(s, amount, a_to_b)),+
                }
            }

            /// [`Curve::quote_checked`].
            #[inline]
            pub fn quote_checked(
                &self,
                amount: u64,
                a_to_b: bool,
            ) -> std::result::Result<u64, NoQuote> {
                match self {
                    $(Self::$id(s) => Curve::quote_checked(s, amount, a_to_b)),+
                }
            }

            /// [`Curve::quote_steps`].
            #[inline]
            pub fn quote_steps(
                &self,
                amount: u64,
                a_to_b: bool,
            ) -> std::result::Result<(u64, u32), NoQuote> {
                match self {
                    $(Self::$id(s) => Curve::quote_steps(s, amount, a_to_b)),+
                }
            }

            /// [`Curve::spot_rate`].
            #[inline]
            pub fn spot_rate(&self, a_to_b: bool) -> f64 {
                match self {
                    $(Self::$id(s) => Curve::spot_rate(s, a_to_b)),+
                }
            }

            /// [`Curve::constant_product`].
            #[inline]
            pub fn constant_product(&self) -> Option<&ConstantProduct> {
                match self {
                    $(Self::$id(s) => Curve::constant_product(s)),+
                }
            }

            /// [`Curve::ladder`]: `None` for a pool that is not an order book.
            pub fn ladder(&self, depth: usize) -> Option<Ladder> {
                match self {
                    $(Self::$id(s) => Curve::ladder(s, depth)),+
                }
            }

            /// What `Opportunity.kinds` reports for it.
            pub fn graph_kind(&self) -> &'static str {
                self.venue().info().graph_kind
            }
        }

        /// A swap a venue's program logged.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event {
            $($id(<$module::$venue as Venue>::Event)),+
        }

        /// The event of `Program data:` bytes (discriminator first) that `venue`'s
        /// program wrote; `Ok(None)` for a discriminator it does not know. Anchor
        /// discriminators are hashes of type names, the same in every program (CP-Swap's
        /// and Raydium CLMM's `SwapEvent`, Jupiter's), so bytes are only ever decoded by
        /// the program that emitted them.
        pub fn parse_event_of(venue: VenueId, raw: &[u8]) -> Result<Option<Event>> {
            discriminated(raw)?;
            match venue {
                $(VenueId::$id => match <$module::$venue as Venue>::parse_event(raw) {
                    Some(ev) => ev.map(|e| Some(Event::$id(e))),
                    None => Ok(None),
                },)+
            }
        }

        /// The swap in a [`Venue::LOG_PREFIX`] line's bytes when `venue` wrote one
        /// (`line` without `Program log: ` prefix handling: the whole line).
        fn parse_prefixed(venue: VenueId, line: &[u8], raw: &mut Vec<u8>) -> Option<Result<Option<Event>>> {
            match venue {
                $(VenueId::$id => {
                    let prefix = <$module::$venue as Venue>::LOG_PREFIX?;
                    let b64 = line.strip_prefix(prefix)?;
                    raw.clear();
                    if let Err(e) = decode::b64decode_into(b64, raw) {
                        return Some(Err(decode::err(format!("log: {e}"))));
                    }
                    Some(<$module::$venue as Venue>::parse_log(raw).map(|o| o.map(Event::$id)))
                })+
            }
        }

        impl Event {
            /// The venue whose event it is.
            pub fn venue(&self) -> VenueId {
                match self {
                    $(Self::$id(_) => VenueId::$id),+
                }
            }
        }

        impl VenueId {
            /// The venue one of whose program ids is `program` (base58 text).
            pub fn by_program(program: &[u8]) -> Option<Self> {
                $(
                    if <$module::$venue as Venue>::INFO.program_ids.iter().any(|p| p.as_bytes() == program) {
                        return Some(VenueId::$id);
                    }
                )+
                None
            }
        }
    };
}

/// Event bytes hold at least a discriminator.
fn discriminated(raw: &[u8]) -> Result<()> {
    if raw.len() < 8 {
        return Err(EngineError::AccountTooShort(format!(
            "program data: {} bytes, no discriminator",
            raw.len()
        )));
    }
    Ok(())
}

/// The logs of one transaction read in order: which program each line belongs to (the
/// innermost `Program <id> invoke [n]` not yet closed by its `success` / `failed`), and
/// the swap a line of one of our venues' programs carries (a `ray_log`, an Anchor swap
/// event). A line is decoded only by the program that wrote it: a Jupiter `SwapEvent`
/// (CP-Swap's discriminator) is nobody's swap here.
#[derive(Debug, Default)]
pub struct LogScan {
    /// The invoke stack: each frame's venue (`None`: a program that is not ours).
    stack: Vec<Option<VenueId>>,
}

impl LogScan {
    pub fn new() -> Self {
        Self::default()
    }

    /// The venue whose program wrote the current line (`None`: not ours, or no program).
    pub fn current(&self) -> Option<VenueId> {
        self.stack.last().copied().flatten()
    }

    /// Read one line: `Ok(Some(event))` when it is a swap of the venue whose program
    /// wrote it; `raw` is scratch space for the decoded bytes.
    pub fn line(&mut self, line: &[u8], raw: &mut Vec<u8>) -> Result<Option<Event>> {
        let Some(rest) = line.strip_prefix(b"Program ") else {
            return Ok(None);
        };
        if let Some(b64) = line.strip_prefix(PROGRAM_DATA) {
            let Some(venue) = self.current() else {
                return Ok(None);
            };
            raw.clear();
            decode::b64decode_into(b64, raw)
                .map_err(|e| decode::err(format!("program data: {e}")))?;
            return parse_event_of(venue, raw);
        }
        if rest.starts_with(b"log: ") {
            return match self.current() {
                Some(venue) => parse_prefixed(venue, line, raw).unwrap_or(Ok(None)),
                None => Ok(None),
            };
        }
        let Some(space) = rest.iter().position(|&b| b == b' ') else {
            return Ok(None);
        };
        let (id, tail) = (&rest[..space], &rest[space + 1..]);
        if tail.starts_with(b"invoke [") {
            self.stack.push(VenueId::by_program(id));
        } else if tail == b"success" || tail.starts_with(b"failed") {
            self.stack.pop();
        }
        Ok(None)
    }

    /// Whether a line is a swap of the program that wrote it (a bad one is none).
    pub fn is_swap(&mut self, line: &[u8], raw: &mut Vec<u8>) -> bool {
        matches!(self.line(line, raw), Ok(Some(_)))
    }
}

/// Every swap in one transaction's log lines, with the program that wrote it
/// ([`LogScan`]); lines that fail to decode are skipped.
pub fn parse_logs<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Vec<(VenueId, Event)> {
    let mut scan = LogScan::new();
    let mut raw = Vec::new();
    let mut out = Vec::new();
    for line in lines {
        if let Ok(Some(ev)) = scan.line(line, &mut raw) {
            out.push((ev.venue(), ev));
        }
    }
    out
}

// The registry: one line per venue (variant => module::type).
registry! {
    RaydiumAmmV4 => raydium_amm_v4::RaydiumAmmV4,
    RaydiumCpmm => raydium_cpmm::RaydiumCpmm,
    OrcaWhirlpool => orca_whirlpool::OrcaWhirlpool,
    RaydiumClmm => raydium_clmm::RaydiumClmm,
    MeteoraDlmm => meteora_dlmm::MeteoraDlmm,
    PumpAmm => pump_amm::PumpAmm,
    OpenBookV2 => openbook_v2::OpenBookV2,
    MeteoraDammV2 => meteora_damm_v2::MeteoraDammV2,
    Manifest => manifest::Manifest,
}

impl VenueId {
    /// The venue whose universe kind is `kind` (`InvalidInput` with the twin's message
    /// naming the kinds otherwise).
    pub fn by_kind(kind: &str) -> Result<Self> {
        VENUES
            .iter()
            .copied()
            .find(|v| v.info().kind == kind)
            .ok_or_else(|| {
                EngineError::InvalidInput(format!(
                    "pool kind {kind:?} is not one of {}",
                    kinds_repr()
                ))
            })
    }
}

/// The universe kinds of every venue, in registry order.
pub fn kinds() -> Vec<&'static str> {
    VENUES.iter().map(|v| v.info().kind).collect()
}

/// [`kinds`] as the twin's messages show them (Python's repr of a tuple of str).
pub fn kinds_repr() -> String {
    tuple_repr(&kinds())
}

/// The event of a `Program data: <b64>` line that `program` (base58 text) wrote:
/// `Ok(None)` when it is not one of our venues' programs or the discriminator is not one
/// of its events ([`parse_event_of`]).
pub fn parse_program_data(b64: &str, program: &str) -> Result<Option<Event>> {
    let raw = decode::b64decode(b64).map_err(|e| decode::err(format!("program data: {e}")))?;
    match VenueId::by_program(program.as_bytes()) {
        Some(venue) => parse_event_of(venue, &raw),
        None => discriminated(&raw).map(|()| None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b58;

    #[test]
    fn every_venue_has_its_parts() {
        let mut names = Vec::new();
        for &v in VENUES {
            let info = v.info();
            assert!(!info.name.is_empty() && !info.kind.is_empty() && !info.label.is_empty());
            assert!(
                matches!(
                    info.graph_kind,
                    "cpmm" | "clmm" | "dlmm" | "pump" | "book" | "damm"
                ),
                "{}",
                info.name
            );
            assert!(!info.program_ids.is_empty(), "{}", info.name);
            for id in info.program_ids {
                assert!(b58::decode_32(id).is_ok(), "{id}");
            }
            assert!(info.pool_account_size > 0);
            assert_eq!(VenueId::by_kind(info.kind), Ok(v));
            // a pool account of zeros of its size decodes (or fails typed), never panics
            let _ = Record::decode(v, &vec![0u8; info.pool_account_size], None);
            names.push((info.name, info.kind, info.label));
        }
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            names.len(),
            "names, kinds and labels are unique"
        );
        assert_eq!(
            kinds(),
            [
                "amm_v4",
                "cpmm",
                "whirlpool",
                "clmm",
                "dlmm",
                "pumpswap",
                "openbook",
                "damm_v2",
                "manifest"
            ]
        );
        assert!(matches!(
            VenueId::by_kind("serum"),
            Err(EngineError::InvalidInput(m)) if m == "pool kind \"serum\" is not one of ('amm_v4', 'cpmm', 'whirlpool', 'clmm', 'dlmm', 'pumpswap', 'openbook', 'damm_v2', 'manifest')"
        ));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in [
            0usize, 7, 8, 82, 117, 137, 152, 165, 200, 221, 245, 321, 653, 752, 904, 1544, 1576,
            1832, 9988, 10_004, 10_136, 10_240, 848, 90_952, 91_288, 188, 1112,
        ] {
            for disc in [
                None,
                Some(orca_whirlpool::DISC_WHIRLPOOL),
                Some(orca_whirlpool::DISC_DYNAMIC_TICK_ARRAY),
                Some(orca_whirlpool::DISC_FIXED_TICK_ARRAY),
                Some(raydium_cpmm::DISC_POOL),
                Some(raydium_cpmm::DISC_CONFIG),
                Some(pump_amm::DISC_POOL),
                Some(pump_amm::DISC_GLOBAL_CONFIG),
                Some(pump_amm::DISC_BUY_EVENT),
                Some(pump_amm::DISC_SELL_EVENT),
                Some(pump_amm::DISC_FEE_CONFIG),
                Some(raydium_clmm::DISC_TICK_ARRAY),
                Some(raydium_clmm::DISC_BITMAP_EXTENSION),
                Some(meteora_dlmm::DISC_LB_PAIR),
                Some(meteora_dlmm::DISC_BIN_ARRAY),
                Some(meteora_dlmm::DISC_BITMAP_EXTENSION),
                Some(meteora_dlmm::DISC_SWAP_EVENT),
                Some(openbook_v2::DISC_MARKET),
                Some(openbook_v2::DISC_BOOKSIDE),
                Some(openbook_v2::DISC_EVENT_HEAP),
                Some(openbook_v2::DISC_TOTAL_ORDER_FILL_EVENT),
                Some(meteora_damm_v2::DISC_EVT_SWAP2),
                Some(manifest::DISC_MARKET),
                Some(manifest::DISC_GLOBAL),
                Some(manifest::DISC_FILL_LOG),
            ] {
                let mut d: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect();
                if let (Some(dc), true) = (disc, len >= 8) {
                    d[..8].copy_from_slice(&dc);
                }
                for &v in VENUES {
                    let _ = Record::decode(v, &d, None);
                }
                let _ = raydium_cpmm::decode_raydium_amm_config(&d, None);
                let _ = orca_whirlpool::decode_tick_array(&d, None);
                let _ = pump_amm::decode_pump_amm_global_config(&d, None);
                let _ = pump_amm::decode_pump_fee_config(&d, None);
                let _ = raydium_clmm::decode_amm_config(&d, None);
                let _ = raydium_clmm::decode_tick_array(&d, None);
                let _ = raydium_clmm::decode_bitmap_extension(&d, None);
                let _ = <raydium_clmm::RaydiumClmm as Venue>::parse_event(&d);
                let _ = <meteora_damm_v2::MeteoraDammV2 as Venue>::parse_event(&d);
                if let Ok(p) = meteora_damm_v2::decode_meteora_damm_pool(&d, None) {
                    for point in [0, u64::MAX] {
                        let s = meteora_damm_v2::state_of(&p, point);
                        for amount in [1, 1 << 40, u64::MAX] {
                            let _ = s.swap(amount, true, true);
                            let _ = s.swap(amount, false, false);
                        }
                        let _ = (s.spot_rate(true), s.spot_rate(false));
                    }
                }
                let _ = meteora_dlmm::decode_bin_array(&d, None);
                let _ = meteora_dlmm::decode_bitmap_extension(&d, None);
                let _ = decode::decode_token_account(&d, None);
                let _ = decode::decode_mint(&d, None);
                for &v in VENUES {
                    let _ = parse_event_of(v, &d);
                }
                let _ = raydium_amm_v4::parse_ray_log_bytes(&d);
                let _ = openbook_v2::decode_openbook_bookside(&d, None);
                let _ = openbook_v2::decode_openbook_event_heap(&d, None);
                let _ = manifest::decode_manifest_global(&d, None);
            }
        }
    }

    /// Log lines of `program`'s frame: invoke, the lines, success.
    fn framed(program: &str, lines: &[String]) -> Vec<String> {
        let mut out = vec![format!("Program {program} invoke [1]")];
        out.extend(lines.iter().cloned());
        out.push(format!("Program {program} success"));
        out
    }

    fn swaps(lines: &[String]) -> Vec<VenueId> {
        parse_logs(lines.iter().map(|l| l.as_bytes()))
            .into_iter()
            .map(|(v, _)| v)
            .collect()
    }

    #[test]
    fn log_lines_find_swaps_by_the_program_that_wrote_them() {
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let ray = "Program log: ray_log: AxPMGo8xAAAAAAAAAAAAAAACAAAAAAAAAAC4ZNlFAAAAg1tiLxJGAAAX2yfkXwEAAGSxk/cAAAAA".to_string();
        let mut traded = orca_whirlpool::DISC_TRADED.to_vec();
        traded.resize(121, 0);
        let mut swap = raydium_cpmm::DISC_SWAP_EVENT.to_vec();
        swap.resize(89, 0);
        let (v4, cp, wp) = (
            raydium_amm_v4::RaydiumAmmV4::INFO.program_ids[0],
            raydium_cpmm::RaydiumCpmm::INFO.program_ids[0],
            orca_whirlpool::OrcaWhirlpool::INFO.program_ids[0],
        );
        let data = |b: &[u8]| format!("Program data: {}", b64(b));
        // each venue's swap in its own program's frame
        assert_eq!(
            swaps(&framed(v4, std::slice::from_ref(&ray))),
            [VenueId::RaydiumAmmV4]
        );
        assert_eq!(
            swaps(&framed(wp, &[data(&traded)])),
            [VenueId::OrcaWhirlpool]
        );
        assert_eq!(swaps(&framed(cp, &[data(&swap)])), [VenueId::RaydiumCpmm]);
        // the same bytes in another program's frame are nobody's swap: a Jupiter
        // `SwapEvent` carries CP-Swap's discriminator; a ray_log outside AMM v4 is text
        let jupiter = "JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4";
        assert!(swaps(&framed(jupiter, &[data(&swap), data(&traded), ray.clone()])).is_empty());
        assert!(swaps(&framed(wp, &[data(&swap), ray.clone()])).is_empty());
        // no frame: no program
        assert!(swaps(std::slice::from_ref(&data(&traded))).is_empty());
        // nested: an inner CP-Swap call inside Jupiter's, then Jupiter's own event
        let mut nested = vec![format!("Program {jupiter} invoke [1]")];
        nested.extend(
            framed(cp, &[data(&swap)])
                .into_iter()
                .map(|l| l.replace("[1]", "[2]")),
        );
        nested.push(data(&swap));
        nested.push(format!("Program {jupiter} success"));
        assert_eq!(swaps(&nested), [VenueId::RaydiumCpmm]);
        // a failed inner call pops its frame too
        let failed = vec![
            format!("Program {jupiter} invoke [1]"),
            format!("Program {wp} invoke [2]"),
            format!("Program {wp} failed: custom program error: 0x1771"),
            data(&traded),
        ];
        assert!(swaps(&failed).is_empty());
        // text lines and bad base64 are no swap and no error for the scan
        let mut raw = Vec::new();
        let mut scan = LogScan::new();
        for l in framed(
            v4,
            &[
                "Program log: ray_log: mismatch: input:1".into(),
                "Program log: Instruction: Swap".into(),
                "Program data: !!".into(),
            ],
        ) {
            assert!(!scan.is_swap(l.as_bytes(), &mut raw));
        }
        assert_eq!(
            parse_program_data(&b64(&swap), jupiter),
            Ok(None),
            "not one of our programs"
        );
        assert!(matches!(
            parse_program_data(&b64(&swap), cp),
            Ok(Some(Event::RaydiumCpmm(_)))
        ));
        assert!(matches!(
            parse_program_data(&b64(&[1, 2]), jupiter),
            Err(EngineError::AccountTooShort(_))
        ));
    }
}

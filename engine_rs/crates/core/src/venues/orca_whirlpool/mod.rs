//! Orca Whirlpool (twin: `engine_rs/python/venues/orca_whirlpool/`): the `Whirlpool`
//! and tick-array accounts (spec §2.2, §2.3), its quotes through the program's swap
//! ([`swap`] over the fixed-point math of `math.rs`, spec §2.5), its PDAs ([`pda`],
//! spec §2.4) and its Anchor `Traded` event (spec §6.2).
//!
//! A Whirlpool quotes from its own account (price, liquidity, current tick, fee) and the
//! initialized ticks of its tick arrays, which the caller tracks
//! (`FeedIngest.track_array` / `untrack_array`: which arrays depends on the price).
//! Its vaults are followed for their mints only.
//!
//! # The held range
//! Its quote state ([`WhirlpoolState`]) knows the ticks it holds: the contiguous run of
//! received arrays around the array of the current tick (an array tracked but not yet
//! received is not held). A quote whose swap would step past that range — its final
//! price beyond the range's edge, or a swap that fails while the program's window of
//! arrays is not all held — is [`NoQuote::TicksMissing`], never a number computed as if
//! the missing arrays had no initialized ticks. The spot rate needs no ticks.

mod math;
pub mod pda;
pub mod swap;

use crate::b58;
use crate::decode::{at, err, Key, Layout, R};
use crate::error::{EngineError, Result};
use swap::{
    sqrt_price_from_tick, ClmmPool, SwapResult, MAX_SQRT_PRICE_X64, MAX_TICK_INDEX,
    MIN_SQRT_PRICE_X64, MIN_TICK_INDEX, TICK_ARRAY_SIZE,
};

use super::ticks::crossed_ticks;
use super::{Assembly, Curve, NoQuote, OwnAccount, OwnRole, Updated, Venue};

/// The Whirlpool program.
pub const PROGRAM_ID: &str = "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc";
pub const PROGRAM: Key = b58::key(PROGRAM_ID);
/// The same program deployed without an upgrade authority (it owns Whirlpools too).
pub const IMMUTABLE_PROGRAM_ID: &str = "iwhrLHdsgrvmnwU8GF2FSmyabSMjfHwFGJAX2ufJ3ZN";
pub const IMMUTABLE_PROGRAM: Key = b58::key(IMMUTABLE_PROGRAM_ID);
pub const DISC_WHIRLPOOL: [u8; 8] = [0x3f, 0x95, 0xd1, 0x0c, 0xe1, 0x80, 0x63, 0x09];
pub const DISC_FIXED_TICK_ARRAY: [u8; 8] = [69, 97, 189, 190, 110, 7, 66, 187];
pub const DISC_DYNAMIC_TICK_ARRAY: [u8; 8] = [17, 216, 246, 142, 225, 199, 218, 56];
pub const DISC_TRADED: [u8; 8] = [225, 202, 73, 175, 147, 43, 160, 150];
/// `Whirlpool` with its discriminator.
pub const POOL_SIZE: usize = 653;
/// A fixed tick array; a dynamic one is 148 bytes plus 112 per initialized tick.
pub const FIXED_TICK_ARRAY_SIZE: usize = 9988;
const DYNAMIC_TICK_ARRAY_MIN: usize = 148;
/// One tick of a fixed array (and an initialized one of a dynamic array, with its tag).
const TICK_LEN: usize = 113;
/// Ticks per array.
const TICKS: usize = TICK_ARRAY_SIZE as usize;
/// Role number of its tick arrays in [`Venue::OWN_ROLES`].
pub const TICK_ARRAY: u8 = 0;

const OWNERS: [&Key; 2] = [&PROGRAM, &IMMUTABLE_PROGRAM];

/// The decoded `Whirlpool` (fields as `engine_rs.decoded.Whirlpool`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Whirlpool {
    pub whirlpools_config: Key,
    pub whirlpool_bump: u8,
    /// tick_spacing, fee_tier_index_seed, fee_rate (per 1,000,000), protocol_fee_rate
    pub u16s: [u16; 4],
    pub liquidity: u128,
    /// Q64.64
    pub sqrt_price: u128,
    pub tick_current_index: i32,
    pub protocol_fee_owed: [u64; 2],
    pub token_mint_a: Key,
    pub token_vault_a: Key,
    pub fee_growth_global_a: u128,
    pub token_mint_b: Key,
    pub token_vault_b: Key,
    pub fee_growth_global_b: u128,
    pub reward_last_updated_timestamp: u64,
    pub reward_mints: [Key; 3],
}

/// Orca `Whirlpool` (653 bytes).
pub fn decode_whirlpool(data: &[u8], owner: Option<&Key>) -> Result<Whirlpool> {
    let r = Layout("Whirlpool", POOL_SIZE, &[DISC_WHIRLPOOL], &OWNERS).check(data, owner)?;
    // the size is checked: read from a fixed-size array, no bounds check per field
    let d: &[u8; POOL_SIZE] = r.bytes_ref()?;
    Ok(Whirlpool {
        whirlpools_config: at(d, 8),
        whirlpool_bump: d[40],
        u16s: [
            u16::from_le_bytes(at(d, 41)),
            u16::from_le_bytes(at(d, 43)),
            u16::from_le_bytes(at(d, 45)),
            u16::from_le_bytes(at(d, 47)),
        ],
        liquidity: u128::from_le_bytes(at(d, 49)),
        sqrt_price: u128::from_le_bytes(at(d, 65)),
        tick_current_index: i32::from_le_bytes(at(d, 81)),
        protocol_fee_owed: [u64::from_le_bytes(at(d, 85)), u64::from_le_bytes(at(d, 93))],
        token_mint_a: at(d, 101),
        token_vault_a: at(d, 133),
        fee_growth_global_a: u128::from_le_bytes(at(d, 165)),
        token_mint_b: at(d, 181),
        token_vault_b: at(d, 213),
        fee_growth_global_b: u128::from_le_bytes(at(d, 245)),
        reward_last_updated_timestamp: u64::from_le_bytes(at(d, 261)),
        reward_mints: [at(d, 269), at(d, 397), at(d, 525)],
    })
}

decoded_by!(Whirlpool, decode_whirlpool);

/// A decoded tick array (fields as `engine_rs.decoded.TickArray`).
#[derive(Debug, Clone, PartialEq)]
pub struct TickArray {
    pub dynamic: bool,
    pub start_tick_index: i32,
    pub whirlpool: Key,
    /// Initialized ticks only: (i, liquidity_net, liquidity_gross).
    pub ticks: Vec<(u8, i128, u128)>,
}

/// A Whirlpool tick array, fixed (9,988 bytes) or dynamic (148..10,004), by its
/// discriminator (spec §2.3).
pub fn decode_tick_array(data: &[u8], owner: Option<&Key>) -> Result<TickArray> {
    let discs = [DISC_FIXED_TICK_ARRAY, DISC_DYNAMIC_TICK_ARRAY];
    if data.get(..8) == Some(&DISC_DYNAMIC_TICK_ARRAY[..]) {
        let r = Layout("DynamicTickArray", DYNAMIC_TICK_ARRAY_MIN, &discs, &OWNERS)
            .check(data, owner)?;
        let bitmap = r.u128(44)?;
        let mut ticks = Vec::new();
        let mut off = 60usize;
        for i in 0..TICKS {
            let Some(&tag) = data.get(off) else {
                return Err(EngineError::AccountTooShort(format!(
                    "DynamicTickArray: tick {i} at {off} is past the end"
                )));
            };
            let set = bitmap >> i & 1 == 1;
            match (tag, set) {
                (0, false) => off += 1,
                (0, true) => {
                    return Err(err(format!(
                        "DynamicTickArray: bitmap says tick {i} is initialized"
                    )))
                }
                (1, true) => {
                    if off + TICK_LEN > data.len() {
                        return Err(EngineError::AccountTooShort(format!(
                            "DynamicTickArray: tick {i} runs past the end"
                        )));
                    }
                    ticks.push((i as u8, r.i128(off + 1)?, r.u128(off + 17)?));
                    off += TICK_LEN;
                }
                _ => {
                    return Err(err(format!(
                        "DynamicTickArray: tick {i} tag {tag} disagrees with the bitmap"
                    )))
                }
            }
        }
        return Ok(TickArray {
            dynamic: true,
            start_tick_index: r.i32(8)?,
            whirlpool: r.key(12)?,
            ticks,
        });
    }
    let r = Layout("TickArray", FIXED_TICK_ARRAY_SIZE, &discs, &OWNERS).check(data, owner)?;
    let mut ticks = Vec::new();
    for i in 0..TICKS {
        let off = 12 + TICK_LEN * i;
        if r.flag(off)? {
            ticks.push((i as u8, r.i128(off + 1)?, r.u128(off + 17)?));
        }
    }
    Ok(TickArray {
        dynamic: false,
        start_tick_index: r.i32(8)?,
        whirlpool: r.key(9956)?,
        ticks,
    })
}

/// Orca's `Traded` event.
#[derive(Debug, Clone, PartialEq)]
pub struct Traded {
    pub whirlpool: Key,
    pub a_to_b: bool,
    pub pre_sqrt_price: u128,
    pub post_sqrt_price: u128,
    /// input, output, input transfer fee, output transfer fee, lp fee, protocol fee
    pub amounts: [u64; 6],
}

/// The `Traded` event of `Program data:` bytes with its discriminator.
fn parse_traded(raw: &[u8]) -> Result<Traded> {
    let r = R::event(raw, "Traded", 121, "event")?;
    let amounts: [u64; 6] = r.array(73, 8, R::u64)?;
    Ok(Traded {
        whirlpool: r.key(8)?,
        a_to_b: r.flag(40)?,
        pre_sqrt_price: r.u128(41)?,
        post_sqrt_price: r.u128(57)?,
        amounts,
    })
}

/// What the pool uses of one of its tick arrays: (offset in the array, liquidity_net)
/// of its initialized ticks.
type ArrayTicks = super::ticks::ArrayTicks<(u8, i128)>;

/// The sorted `(tick index, liquidity_net)` list of a Whirlpool for one tick spacing.
#[derive(Debug, Clone)]
struct Ticks {
    spacing: u16,
    ticks: Vec<(i32, i128)>,
    /// The first (sorted) tick outside i32, if any: the twin's MathOverflowError.
    overflow: Option<i64>,
    /// [`ClmmPool::check_ticks`] of `ticks` for `spacing` (run once per tick list)
    checked: Result<()>,
}

/// What the ingest keeps of a Whirlpool's tick arrays: each array's initialized ticks,
/// and their sorted, checked union, rebuilt only when an array changes.
#[derive(Debug, Default)]
pub struct TickArrays {
    arrays: Vec<ArrayTicks>,
    ticks: Option<Ticks>,
}

impl TickArrays {
    /// Forget the array the ingest knows as `account` (untracked): its ticks leave the
    /// pool's state. False when it was never received.
    pub fn forget(&mut self, account: u32) -> bool {
        let before = self.arrays.len();
        self.arrays.retain(|a| a.account != account);
        let gone = self.arrays.len() != before;
        if gone {
            self.ticks = None;
        }
        gone
    }

    /// The array the ingest knows as `account` does not exist on chain: the program
    /// reads it as a zeroed one (orca-so/whirlpools `SparseSwapTickSequenceBuilder`: an
    /// account of the system program with no data is a `TickArray` with every tick
    /// uninitialized), so it keeps its start with no initialized tick (and the pool's
    /// held range with it). An array never received stays unknown (its start is not in
    /// the account). True when ticks were dropped.
    pub fn absent(&mut self, account: u32) -> bool {
        match self.arrays.iter_mut().find(|a| a.account == account) {
            Some(a) if !a.ticks.is_empty() => {
                a.ticks.clear();
                self.ticks = None;
                true
            }
            _ => false,
        }
    }
}

/// Every initialized tick of the arrays, `start + i * spacing`, sorted by tick index.
fn sorted_ticks(arrays: &[ArrayTicks], spacing: u16) -> Ticks {
    let ts = i64::from(spacing);
    let mut wide: Vec<(i64, i128)> = arrays
        .iter()
        .flat_map(|a| {
            let start = i64::from(a.start);
            a.ticks
                .iter()
                .map(move |&(i, net)| (start + i64::from(i) * ts, net))
        })
        .collect();
    wide.sort_unstable();
    let overflow = wide
        .iter()
        .map(|t| t.0)
        .find(|&t| i32::try_from(t).is_err());
    let mut ticks: Vec<(i32, i128)> = wide
        .iter()
        .map(|&(t, net)| (i32::try_from(t).unwrap_or(0), net))
        .collect();
    let checked = if overflow.is_some() || spacing == 0 {
        Ok(()) // never used: the overflow, or the spacing, fails first
    } else {
        ClmmPool::check_ticks(spacing, &mut ticks)
    };
    Ticks {
        spacing,
        ticks,
        overflow,
        checked,
    }
}

/// The tick array of `cx`, decoded and checked to belong to its pool.
fn own_tick_array(role: u8, cx: &OwnAccount<'_>) -> Result<TickArray> {
    if role != TICK_ARRAY {
        return Err(super::no_role(OrcaWhirlpool::INFO, role));
    }
    let ta = decode_tick_array(cx.data, cx.owner)?;
    if ta.whirlpool != *cx.pool_key {
        return Err(EngineError::Decode(format!(
            "tick array {} belongs to {}, not {}",
            cx.pubkey,
            b58::encode(&ta.whirlpool),
            cx.pool_id
        )));
    }
    Ok(ta)
}

/// The tick range a Whirlpool's quote state holds: arrays `lo..hi` (tick indexes, `hi`
/// exclusive) received without a gap around the current tick's array, with the sqrt
/// prices of its edges (the price bound itself at the first and last arrays). Empty
/// (`lo == hi`) when the current tick's array is not held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub lo: i32,
    pub hi: i32,
    lo_price: u128,
    hi_price: u128,
}

impl Held {
    /// The run of `starts` (array starts, any order) around the array of `tick`.
    pub fn around(starts: &[i32], tick: i32, spacing: u16) -> Held {
        let size = TICK_ARRAY_SIZE * i32::from(spacing.max(1));
        let cur = tick.div_euclid(size) * size;
        let has = |s: i32| starts.contains(&s);
        if !has(cur) {
            return Held {
                lo: cur,
                hi: cur,
                lo_price: 0,
                hi_price: 0,
            };
        }
        let (mut lo, mut hi) = (cur, cur.saturating_add(size));
        while lo > MIN_TICK_INDEX && has(lo - size) {
            lo -= size;
        }
        while hi <= MAX_TICK_INDEX && has(hi) {
            hi += size;
        }
        let price = |t: i32, edge: u128| {
            if t <= MIN_TICK_INDEX || t > MAX_TICK_INDEX {
                edge
            } else {
                sqrt_price_from_tick(t).unwrap_or(edge)
            }
        };
        Held {
            lo,
            hi,
            lo_price: price(lo, MIN_SQRT_PRICE_X64),
            hi_price: price(hi, MAX_SQRT_PRICE_X64),
        }
    }

    /// Whether nothing is held (the current tick's array is not).
    pub fn is_empty(&self) -> bool {
        self.lo == self.hi
    }

    /// Whether a swap ending at `sqrt_price` stayed in the held range.
    fn reaches(&self, sqrt_price: u128, a_to_b: bool) -> bool {
        !self.is_empty()
            && if a_to_b {
                sqrt_price >= self.lo_price
            } else {
                sqrt_price <= self.hi_price
            }
    }

    /// Whether every array the program's swap could load from `pool` (its 3, or up to
    /// the price bound) is held: then a failed swap failed on the real ticks.
    fn covers_window(&self, pool: &ClmmPool, a_to_b: bool) -> bool {
        if self.is_empty() {
            return false;
        }
        let ts = i32::from(pool.tick_spacing.max(1));
        let size = TICK_ARRAY_SIZE * ts;
        let base = pool.tick_current.div_euclid(size) * size;
        if a_to_b {
            self.lo <= MIN_TICK_INDEX || self.lo <= base - 2 * size
        } else {
            let first = if pool.tick_current + ts >= base + size {
                base + size
            } else {
                base
            };
            self.hi > MAX_TICK_INDEX || self.hi >= first + 3 * size
        }
    }
}

/// A Whirlpool's quote state: the program's swap state and the tick range it holds
/// (`None`: every tick given, as `PoolGraph.upsert_clmm` takes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhirlpoolState {
    pub pool: ClmmPool,
    pub held: Option<Held>,
}

/// The swap of [`Curve::quote_checked`] (`amount` > 0) and its verdict.
fn swap_state(
    s: &WhirlpoolState,
    amount: u64,
    a_to_b: bool,
) -> std::result::Result<SwapResult, NoQuote> {
    match (s.pool.swap(amount, a_to_b, true, None, 0), &s.held) {
        // a partial fill (price limit reached) is not the trade asked for
        (Ok(r), None) if r.amount_in == amount => Ok(r),
        (_, None) => Err(NoQuote::Unfillable),
        (Ok(r), Some(h)) if r.amount_in == amount => {
            if h.reaches(r.sqrt_price_x64, a_to_b) {
                Ok(r)
            } else {
                Err(NoQuote::TicksMissing)
            }
        }
        (_, Some(h)) => {
            if h.covers_window(&s.pool, a_to_b) {
                Err(NoQuote::Unfillable)
            } else {
                Err(NoQuote::TicksMissing)
            }
        }
    }
}

impl Curve for WhirlpoolState {
    /// The program's swap (3 tick arrays, no price limit) of `s`, with the held range's
    /// verdict: a partial fill or a failed swap is `Unfillable` when the arrays it needed
    /// are held, `TicksMissing` when it stepped (or may have stepped) past them.
    fn quote_checked(&self, amount: u64, a_to_b: bool) -> std::result::Result<u64, NoQuote> {
        if amount == 0 {
            return Ok(0);
        }
        swap_state(self, amount, a_to_b).map(|r| r.amount_out)
    }

    /// [`Curve::quote_checked`] with the swap's steps in the venue's compute-unit model
    /// (`feeds/venues/orca_whirlpool.py` `COMPUTE_UNITS`): the initialized ticks it crossed
    /// ([`crossed_ticks`]; the Token-2022 surcharge is the mints', not the curve's: the
    /// caller adds it). 0 crosses nothing.
    fn quote_steps(&self, amount: u64, a_to_b: bool) -> std::result::Result<(u64, u32), NoQuote> {
        if amount == 0 {
            return Ok((0, 0));
        }
        let r = swap_state(self, amount, a_to_b)?;
        let p = &self.pool;
        let crossed = crossed_ticks(&p.ticks, |t| t.0, p.tick_current, r.tick_current, a_to_b);
        Ok((r.amount_out, u32::try_from(crossed).unwrap_or(u32::MAX)))
    }

    #[inline]
    fn spot_rate(&self, a_to_b: bool) -> f64 {
        self.pool.spot_rate(a_to_b)
    }
}

/// The Orca Whirlpool venue.
pub struct OrcaWhirlpool;

impl Venue for OrcaWhirlpool {
    venue_items! {
        info "orca_whirlpool", "whirlpool", "wp", "clmm", [PROGRAM_ID, IMMUTABLE_PROGRAM_ID],
            POOL_SIZE;
        types Whirlpool, TickArrays, WhirlpoolState, Traded;
        // config, bump, tick spacing, fee tier, both mints and both vaults
        identity whirlpools_config, whirlpool_bump, u16s[..2], token_mint_a, token_vault_a,
            token_mint_b, token_vault_b;
        mints token_mint_a, token_mint_b;
        vaults token_vault_a, token_vault_b;
    }
    const OWN_ROLES: &'static [OwnRole] = &[OwnRole::tracked("tick_array")];
    const ARRAYS: Option<u8> = Some(TICK_ARRAY);

    fn own_account(own: &mut TickArrays, role: u8, cx: &OwnAccount<'_>) -> Result<()> {
        let ta = own_tick_array(role, cx)?;
        let ticks: Vec<(u8, i128)> = ta.ticks.iter().map(|&(i, n, _)| (i, n)).collect();
        if super::ticks::hold(&mut own.arrays, cx.account, ta.start_tick_index, ticks) {
            own.ticks = None;
        }
        Ok(())
    }

    /// [`TickArrays::forget`]: an untracked tick array's ticks leave the state (the
    /// trait's default keeps them, and the pool's held range with them, as the twin
    /// does not).
    fn forget(own: &mut TickArrays, account: u32) -> bool {
        own.forget(account)
    }

    /// [`TickArrays::absent`]: an absent tick array reads as a zeroed one.
    fn absent(own: &mut TickArrays, account: u32) -> bool {
        own.absent(account)
    }

    /// The pool account's state with the initialized ticks of every array held, and the
    /// range they cover around the current tick.
    fn update(own: &mut Self::Own, w: &Self::Record, cx: &mut Assembly) -> Updated<Self::State> {
        let spacing = w.u16s[0];
        let slot = cx.slot()?;
        if own.ticks.as_ref().map(|t| t.spacing) != Some(spacing) {
            own.ticks = Some(sorted_ticks(&own.arrays, spacing));
        }
        let Some(ticks) = &own.ticks else {
            return Ok(None);
        };
        if let Some(t) = ticks.overflow {
            return Err(EngineError::Overflow(format!("{t} does not fit in i32")));
        }
        cx.check_ids()?;
        // ClmmPool::from_ticks, its tick checks done once per tick list
        let fee_rate = u32::from(w.u16s[2]);
        ClmmPool::check_state(w.sqrt_price, w.tick_current_index, spacing, fee_rate)?;
        ticks.checked.clone()?;
        let pool = ClmmPool {
            sqrt_price_x64: w.sqrt_price,
            liquidity: w.liquidity,
            tick_current: w.tick_current_index,
            tick_spacing: spacing,
            fee_rate,
            ticks: ticks.ticks.clone(),
        };
        let starts: Vec<i32> = own.arrays.iter().map(|a| a.start).collect();
        let held = Held::around(&starts, w.tick_current_index, spacing);
        Ok(Some((
            WhirlpoolState {
                pool,
                held: Some(held),
            },
            slot,
        )))
    }

    fn parse_event(raw: &[u8]) -> Option<Result<Traded>> {
        (raw.get(..8) == Some(&DISC_TRADED[..])).then(|| parse_traded(raw))
    }
}

#[cfg(test)]
mod tests;

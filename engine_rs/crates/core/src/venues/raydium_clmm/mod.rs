//! Raydium CLMM (twin: `engine_rs/python/venues/raydium_clmm.py`): the `PoolState`,
//! `AmmConfig`, `TickArrayState` and `TickArrayBitmapExtension` accounts, its exact-input
//! quotes through the program's own swap ([`math`]) and its Anchor `SwapEvent`. Layouts
//! from raydium-io/raydium-clmm `programs/amm/src/states/` (commit 03b44b7).
//!
//! A pool quotes from its own account (price, liquidity, current tick, `fee_on`, status,
//! the tick-array bitmap), its `AmmConfig` (the trade fee rate: followed as the pool
//! names it), its bitmap extension (which tick arrays beyond the pool's own bitmap are
//! initialized: followed at its PDA for tick spacings below 15, the only ones it can
//! matter to) and the tick arrays the caller tracks
//! (`FeedIngest.track_array`, role `tick_array`).
//!
//! # The held range
//! The bitmaps say which tick arrays hold initialized ticks. The quote state knows the
//! ticks it holds and the range in which it holds every initialized array
//! ([`math::Complete`]); a swap that needs a tick past that range is
//! [`NoQuote::TicksMissing`], never a number computed as if the missing arrays were
//! empty. Arrays the bitmaps call empty need not be held.
//!
//! # Refused, with a reason
//! The program's dynamic fee (`DynamicFeeInfo` set: the fee depends on the block time
//! and the volatility accumulator) and limit-order matching at a tick are not
//! reproduced: a pool with a dynamic fee and a swap that reaches a tick holding limit
//! orders have no quote (`raydium_clmm_swap` raises `InvalidInputError` naming the
//! reason), never a wrong number. A pool whose swaps are disabled (status bit 4) has
//! none either (the program's `NotApproved`).

pub mod math;
pub mod pda;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::b58;
use crate::decode::{Key, Layout, R};
use crate::error::{EngineError, Result};

use super::{Assembly, Curve, NoQuote, OwnAccount, OwnRole, Updated, Venue};
pub use math::{
    Complete, Fail, Ledger, Pool, Swap, Tick, HAS_LIMIT_ORDERS, HAS_LIQUIDITY, MAX_SQRT_PRICE_X64,
    MAX_TICK, MIN_SQRT_PRICE_X64, MIN_TICK, SWAP_TICK_ARRAYS, TICK_ARRAY_SIZE,
};

/// The Raydium CLMM program (`declare_id!` in `programs/amm/src/lib.rs`).
pub const PROGRAM_ID: &str = "CAMMCzo5YL8w4VFF8KVHrK22GGUsp5VTaW7grrKgrWqK";
pub const PROGRAM: Key = b58::key(PROGRAM_ID);
/// sha256("account:PoolState")[..8]: the same as CP-Swap's (checked by owner).
pub const DISC_POOL: [u8; 8] = [247, 237, 227, 245, 215, 195, 222, 70];
/// sha256("account:AmmConfig")[..8]: the same as CP-Swap's.
pub const DISC_CONFIG: [u8; 8] = [218, 244, 33, 104, 203, 203, 43, 111];
pub const DISC_TICK_ARRAY: [u8; 8] = [192, 155, 85, 205, 49, 249, 129, 42];
pub const DISC_BITMAP_EXTENSION: [u8; 8] = [60, 150, 36, 219, 97, 128, 139, 153];
/// sha256("event:SwapEvent")[..8]: the same as CP-Swap's (decode by emitting program).
pub const DISC_SWAP_EVENT: [u8; 8] = [64, 198, 205, 232, 38, 8, 113, 226];
/// `PoolState::LEN`.
pub const POOL_SIZE: usize = 1544;
/// `AmmConfig::LEN`.
pub const CONFIG_SIZE: usize = 117;
/// `TickArrayState::LEN` (60 ticks of 168 bytes).
pub const TICK_ARRAY_LEN: usize = 10240;
/// `TickArrayBitmapExtension::LEN`.
pub const BITMAP_EXTENSION_SIZE: usize = 1832;
/// `SwapEvent` with its discriminator, before `trade_fee_0/1` were added (221 with them).
pub const SWAP_EVENT_MIN: usize = 205;
const TICK_LEN: usize = 168;
const TICKS: usize = TICK_ARRAY_SIZE as usize;
/// Bitmap words of the extension, each side (14 bitmaps of 8 u64).
const EXT_WORDS: usize = 14 * 8;
/// Role numbers in [`Venue::OWN_ROLES`].
pub const CONFIG: u8 = 0;
pub const TICK_ARRAY: u8 = 1;
pub const BITMAP_EXTENSION: u8 = 2;
/// Status bit 4: swaps disabled.
pub const STATUS_SWAP_DISABLED: u8 = 1 << 4;

/// The decoded `PoolState` (fields as `engine_rs.decoded.RaydiumClmmPool`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaydiumClmmPool {
    pub bump: u8,
    /// amm_config, owner, token_mint_0, token_mint_1, token_vault_0, token_vault_1,
    /// observation_key
    pub keys: [Key; 7],
    pub mint_decimals: [u8; 2],
    pub tick_spacing: u16,
    pub liquidity: u128,
    pub sqrt_price_x64: u128,
    pub tick_current: i32,
    pub fee_growth_global_x64: [u128; 2],
    pub protocol_fees: [u64; 2],
    pub status: u8,
    pub fee_on: u8,
    pub tick_array_bitmap: [u64; 16],
    pub fund_fees: [u64; 2],
    pub open_time: u64,
    pub recent_epoch: u64,
    /// `DynamicFeeInfo` is not all zeros (`get_dynamic_fee_info` is `Some`).
    pub dynamic_fee: bool,
}

/// Raydium CLMM `PoolState` (1,544 bytes).
pub fn decode_pool(data: &[u8], owner: Option<&Key>) -> Result<RaydiumClmmPool> {
    let r = Layout("PoolState", POOL_SIZE, &[DISC_POOL], &[&PROGRAM]).check(data, owner)?;
    let keys: [Key; 7] = r.array(9, 32, R::key)?;
    let tick_array_bitmap: [u64; 16] = r.array(904, 8, R::u64)?;
    Ok(RaydiumClmmPool {
        bump: r.u8(8)?,
        keys,
        mint_decimals: [r.u8(233)?, r.u8(234)?],
        tick_spacing: r.u16(235)?,
        liquidity: r.u128(237)?,
        sqrt_price_x64: r.u128(253)?,
        tick_current: r.i32(269)?,
        fee_growth_global_x64: [r.u128(277)?, r.u128(293)?],
        protocol_fees: [r.u64(309)?, r.u64(317)?],
        status: r.u8(389)?,
        fee_on: r.u8(390)?,
        tick_array_bitmap,
        fund_fees: [r.u64(1064)?, r.u64(1072)?],
        open_time: r.u64(1080)?,
        recent_epoch: r.u64(1088)?,
        dynamic_fee: data[1096..1176].iter().any(|&b| b != 0),
    })
}

decoded_by!(RaydiumClmmPool, decode_pool);

/// The decoded `AmmConfig` (fields as `engine_rs.decoded.RaydiumClmmConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaydiumClmmConfig {
    pub bump: u8,
    pub index: u16,
    pub owner: Key,
    pub protocol_fee_rate: u32,
    pub trade_fee_rate: u32,
    pub tick_spacing: u16,
    pub fund_fee_rate: u32,
    pub fund_owner: Key,
}

/// Raydium CLMM `AmmConfig` (117 bytes).
pub fn decode_amm_config(data: &[u8], owner: Option<&Key>) -> Result<RaydiumClmmConfig> {
    let r = Layout("AmmConfig", CONFIG_SIZE, &[DISC_CONFIG], &[&PROGRAM]).check(data, owner)?;
    Ok(RaydiumClmmConfig {
        bump: r.u8(8)?,
        index: r.u16(9)?,
        owner: r.key(11)?,
        protocol_fee_rate: r.u32(43)?,
        trade_fee_rate: r.u32(47)?,
        tick_spacing: r.u16(51)?,
        fund_fee_rate: r.u32(53)?,
        fund_owner: r.key(61)?,
    })
}

/// One initialized tick of an array (`liquidity_gross > 0` or limit orders open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrayTick {
    /// its offset in the array
    pub offset: u8,
    /// the tick index it stores
    pub tick: i32,
    pub liquidity_net: i128,
    pub liquidity_gross: u128,
    pub orders_amount: u64,
    pub part_filled_orders_remaining: u64,
}

/// The decoded `TickArrayState` (fields as `engine_rs.decoded.RaydiumClmmTickArray`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaydiumClmmTickArray {
    pub pool_id: Key,
    pub start_tick_index: i32,
    pub initialized_tick_count: u8,
    pub ticks: Vec<ArrayTick>,
}

/// Raydium CLMM `TickArrayState` (10,240 bytes).
pub fn decode_tick_array(data: &[u8], owner: Option<&Key>) -> Result<RaydiumClmmTickArray> {
    let r = Layout(
        "TickArrayState",
        TICK_ARRAY_LEN,
        &[DISC_TICK_ARRAY],
        &[&PROGRAM],
    )
    .check(data, owner)?;
    let mut ticks = Vec::new();
    for i in 0..TICKS {
        let off = 44 + TICK_LEN * i;
        let gross = r.u128(off + 20)?;
        let orders = r.u64(off + 124)?;
        let part = r.u64(off + 132)?;
        if gross > 0 || orders > 0 || part > 0 {
            ticks.push(ArrayTick {
                offset: i as u8,
                tick: r.i32(off)?,
                liquidity_net: r.i128(off + 4)?,
                liquidity_gross: gross,
                orders_amount: orders,
                part_filled_orders_remaining: part,
            });
        }
    }
    Ok(RaydiumClmmTickArray {
        pool_id: r.key(8)?,
        start_tick_index: r.i32(40)?,
        initialized_tick_count: r.u8(10124)?,
        ticks,
    })
}

/// The decoded `TickArrayBitmapExtension` (fields as
/// `engine_rs.decoded.RaydiumClmmBitmapExtension`): 14 bitmaps of 512 bits a side,
/// flattened to 112 words each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaydiumClmmBitmapExtension {
    pub pool_id: Key,
    pub positive: Vec<u64>,
    pub negative: Vec<u64>,
}

/// Raydium CLMM `TickArrayBitmapExtension` (1,832 bytes).
pub fn decode_bitmap_extension(
    data: &[u8],
    owner: Option<&Key>,
) -> Result<RaydiumClmmBitmapExtension> {
    let r = Layout(
        "TickArrayBitmapExtension",
        BITMAP_EXTENSION_SIZE,
        &[DISC_BITMAP_EXTENSION],
        &[&PROGRAM],
    )
    .check(data, owner)?;
    let words =
        |base: usize| -> Result<Vec<u64>> { (0..EXT_WORDS).map(|i| r.u64(base + 8 * i)).collect() };
    Ok(RaydiumClmmBitmapExtension {
        pool_id: r.key(8)?,
        positive: words(40)?,
        negative: words(40 + 8 * EXT_WORDS)?,
    })
}

/// Raydium CLMM's `SwapEvent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaydiumClmmSwapEvent {
    /// pool_state, sender, token_account_0, token_account_1
    pub keys: [Key; 4],
    /// amount_0, transfer_fee_0, amount_1, transfer_fee_1
    pub amounts: [u64; 4],
    pub zero_for_one: bool,
    pub sqrt_price_x64: u128,
    pub liquidity: u128,
    pub tick: i32,
    /// trade_fee_0, trade_fee_1 (absent from events of older program versions)
    pub trade_fees: Option<[u64; 2]>,
}

fn parse_swap_event(raw: &[u8]) -> Result<RaydiumClmmSwapEvent> {
    let r = R::event(raw, "SwapEvent", SWAP_EVENT_MIN, "event")?;
    let keys: [Key; 4] = r.array(8, 32, R::key)?;
    let amounts: [u64; 4] = r.array(136, 8, R::u64)?;
    let trade_fees = if raw.len() >= SWAP_EVENT_MIN + 16 {
        Some([r.u64(205)?, r.u64(213)?])
    } else {
        None
    };
    Ok(RaydiumClmmSwapEvent {
        keys,
        amounts,
        zero_for_one: r.flag(168)?,
        sqrt_price_x64: r.u128(169)?,
        liquidity: r.u128(185)?,
        tick: r.i32(201)?,
        trade_fees,
    })
}

/// The error of a failed swap: the program's error name first.
pub fn fail_error(f: Fail) -> EngineError {
    let name = f.name();
    match f {
        Fail::LiquidityInsufficient
        | Fail::InsufficientLiquidityForDirection
        | Fail::TooSmallInputOrOutputAmount => {
            EngineError::InsufficientLiquidity(format!("{name}: the pool cannot fill the swap"))
        }
        Fail::NotEnoughTickArrayAccount => EngineError::InsufficientLiquidity(format!(
            "{name}: the swap reads more than the {} initialized tick arrays a swap names",
            math::SWAP_TICK_ARRAYS
        )),
        Fail::CalculateOverflow | Fail::MaxTokenOverflow | Fail::LiquidityAddValueErr => {
            EngineError::Overflow(format!("{name}: an amount does not fit its on-chain type"))
        }
        Fail::TickUpperOverflow | Fail::SqrtPriceX64 => {
            EngineError::InvalidTick(format!("{name}: tick or price out of bounds"))
        }
        Fail::TicksMissing => {
            EngineError::TicksMissing(format!("{name}: the swap steps past the tick arrays held"))
        }
        Fail::LimitOrders => EngineError::InvalidInput(format!(
            "{name}: the swap reaches a tick with limit orders, whose matching is not quoted"
        )),
        Fail::ZeroLiquidity
        | Fail::LiquiditySubValueErr
        | Fail::ZeroAmountSpecified
        | Fail::NotApproved
        | Fail::SqrtPriceLimitOverflow
        | Fail::RequireViolated => {
            EngineError::InvalidInput(format!("{name}: the program refuses this swap"))
        }
    }
}

/// What the ingest keeps of one tick array.
type ArrayTicks = super::ticks::ArrayTicks<Tick>;

/// The config's rates (per 1,000,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rates {
    trade: u32,
    protocol: u32,
    fund: u32,
}

/// What the ingest keeps of a pool's own accounts: its config's rates, its bitmap
/// extension, its tick arrays and their sorted union (rebuilt when an array changes).
#[derive(Debug, Default)]
pub struct ClmmOwn {
    rates: Option<Rates>,
    extension: Option<(Vec<u64>, Vec<u64>)>,
    arrays: Vec<ArrayTicks>,
    ticks: Option<Vec<Tick>>,
}

impl ClmmOwn {
    /// Forget the array the ingest knows as `account` (untracked). False when it was
    /// never received.
    pub fn forget(&mut self, account: u32) -> bool {
        let before = self.arrays.len();
        self.arrays.retain(|a| a.account != account);
        let gone = self.arrays.len() != before;
        if gone {
            self.ticks = None;
        }
        gone
    }
}

/// The swap ticks of a decoded array.
fn array_ticks(ta: &RaydiumClmmTickArray) -> Vec<Tick> {
    ta.ticks
        .iter()
        .map(|t| Tick {
            index: t.tick,
            liquidity_net: t.liquidity_net,
            flags: (u8::from(t.liquidity_gross > 0) * HAS_LIQUIDITY)
                | (u8::from(t.orders_amount > 0 || t.part_filled_orders_remaining > 0)
                    * HAS_LIMIT_ORDERS),
        })
        .collect()
}

/// Initialized ticks sorted by index, duplicates (two arrays claiming a tick) refused.
pub fn sorted_ticks(mut ticks: Vec<Tick>) -> Result<Vec<Tick>> {
    ticks.sort_unstable_by_key(|t| t.index);
    if let Some(w) = ticks.windows(2).find(|w| w[0].index == w[1].index) {
        return Err(EngineError::InvalidTick(format!(
            "tick {} appears twice",
            w[0].index
        )));
    }
    Ok(ticks)
}

/// The start indexes of the tick arrays the pool's bitmap and its extension call
/// initialized (ascending), and whether the extension's range is known.
pub fn initialized_starts(
    bitmap: &[u64; 16],
    extension: Option<(&[u64], &[u64])>,
    tick_spacing: u16,
) -> Vec<i32> {
    let tc = TICK_ARRAY_SIZE * i32::from(tick_spacing.max(1));
    let mut out = Vec::new();
    if let Some((_, neg)) = extension {
        // negative bitmap o, bit k: start = -((o + 2) * 512 - k) * tc
        for o in (0..14).rev() {
            for k in (0..512).rev() {
                if neg[o * 8 + k / 64] >> (k % 64) & 1 == 1 {
                    out.push(-(((o as i32) + 2) * 512 - k as i32) * tc);
                }
            }
        }
    }
    for (w, &word) in bitmap.iter().enumerate() {
        let mut x = word;
        while x != 0 {
            let b = x.trailing_zeros() as i32;
            x &= x - 1;
            out.push((w as i32 * 64 + b - 512) * tc);
        }
    }
    if let Some((pos, _)) = extension {
        for o in 0..14 {
            for k in 0..512 {
                if pos[o * 8 + k / 64] >> (k % 64) & 1 == 1 {
                    out.push((((o as i32) + 1) * 512 + k as i32) * tc);
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Where the held arrays leave no initialized array out, around the current tick.
pub fn complete_range(
    initialized: &[i32],
    held: &[i32],
    tick_current: i32,
    tick_spacing: u16,
    extension_known: bool,
) -> Complete {
    let tc = TICK_ARRAY_SIZE * i32::from(tick_spacing.max(1));
    let cur = math::array_start(tick_current, tick_spacing);
    let mut lo: Option<i32> = None;
    let mut hi: Option<i32> = None;
    let mut missing = |s: i32| {
        if s <= cur {
            lo = Some(lo.map_or(s + tc, |l| l.max(s + tc)));
        }
        if s >= cur {
            hi = Some(hi.map_or(s, |h| h.min(s)));
        }
    };
    for &s in initialized {
        if !held.contains(&s) {
            missing(s);
        }
    }
    // below spacing 15 the pool's bitmap covers [-512 tc, 512 tc) only
    if tick_spacing < 15 && !extension_known {
        let edge = 512 * tc;
        if cur < -edge || cur >= edge {
            return Complete {
                lo: Some(cur + tc),
                hi: Some(cur),
            };
        }
        lo = Some(lo.map_or(-edge, |l| l.max(-edge)));
        hi = Some(hi.map_or(edge, |h| h.min(edge)));
    }
    Complete { lo, hi }
}

/// A pool's quote state: the program's swap state, its ticks and where they are
/// complete, and the reason it refuses every swap, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaydiumClmmState {
    pub pool: Pool,
    pub ticks: Vec<Tick>,
    pub complete: Complete,
    /// `NotApproved` (swaps disabled) or `None`; a dynamic-fee pool is refused at
    /// [`Venue::update`] already.
    pub refused: Option<Fail>,
}

/// The program's exact-input swap of `s` with the held range's verdict.
pub fn swap_state(
    s: &RaydiumClmmState,
    amount: u64,
    a_to_b: bool,
) -> std::result::Result<Swap, Fail> {
    if let Some(f) = s.refused {
        return Err(f);
    }
    math::swap_exact_in_ledger(
        &s.pool,
        &s.ticks,
        s.complete,
        amount,
        a_to_b,
        Some(math::SWAP_TICK_ARRAYS),
        None,
    )
}

/// The bitmap extension's address of the pool a record describes, derived once per
/// (config, mint 0, mint 1) for the process (a PDA costs microseconds; pool notifications
/// come often).
fn extension_of(r: &RaydiumClmmPool) -> Option<Key> {
    type Cache = Mutex<HashMap<[u8; 96], Option<Key>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let mut id = [0u8; 96];
    id[..32].copy_from_slice(&r.keys[0]);
    id[32..64].copy_from_slice(&r.keys[2]);
    id[64..].copy_from_slice(&r.keys[3]);
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = cache.lock().ok()?;
    if let Some(k) = map.get(&id) {
        return *k;
    }
    let k = pda::pool_address(&r.keys[0], &r.keys[2], &r.keys[3])
        .and_then(|(pool, _)| pda::bitmap_extension_address(&pool))
        .ok()
        .map(|(k, _)| k);
    if map.len() > 100_000 {
        map.clear();
    }
    map.insert(id, k);
    k
}

fn check_owned_by_pool(what: &str, got: &Key, cx: &OwnAccount<'_>) -> Result<()> {
    if got != cx.pool_key {
        return Err(EngineError::Decode(format!(
            "{what} {} belongs to {}, not {}",
            cx.pubkey,
            b58::encode(got),
            cx.pool_id
        )));
    }
    Ok(())
}

impl Curve for RaydiumClmmState {
    /// [`swap_state`] as a quote: a partial fill (the price limit reached) is not the trade
    /// asked for.
    fn quote_checked(&self, amount: u64, a_to_b: bool) -> std::result::Result<u64, NoQuote> {
        if amount == 0 {
            return Ok(0);
        }
        match swap_state(self, amount, a_to_b) {
            Ok(r) if r.amount_in == amount => Ok(r.amount_out),
            Err(Fail::TicksMissing) => Err(NoQuote::TicksMissing),
            _ => Err(NoQuote::Unfillable),
        }
    }

    /// [`Curve::quote_checked`] with the swap's steps in the venue's compute-unit model
    /// (`feeds/venues/raydium_clmm.py` `COMPUTE_UNITS`): the initialized ticks it crossed
    /// ([`super::ticks::crossed_ticks`] over the state's ticks: a swap that reaches a tick with
    /// limit orders fails, so every tick it crossed holds liquidity). The Token-2022
    /// surcharge is the mints', not the curve's: the caller adds it. 0 crosses nothing.
    fn quote_steps(&self, amount: u64, a_to_b: bool) -> std::result::Result<(u64, u32), NoQuote> {
        if amount == 0 {
            return Ok((0, 0));
        }
        match swap_state(self, amount, a_to_b) {
            Ok(r) if r.amount_in == amount => {
                let before = self.pool.tick_current;
                let crossed = super::ticks::crossed_ticks(
                    &self.ticks,
                    |t| t.index,
                    before,
                    r.tick_current,
                    a_to_b,
                );
                Ok((r.amount_out, u32::try_from(crossed).unwrap_or(u32::MAX)))
            }
            Err(Fail::TicksMissing) => Err(NoQuote::TicksMissing),
            _ => Err(NoQuote::Unfillable),
        }
    }

    /// Output per input after the fee at zero size (the Whirlpool's float operations).
    fn spot_rate(&self, a_to_b: bool) -> f64 {
        let s = self.pool.sqrt_price_x64 as f64 / 18_446_744_073_709_551_616.0;
        let p = s * s;
        let m = (1_000_000u32.saturating_sub(self.pool.fee_rate)) as f64 / 1_000_000.0;
        if a_to_b {
            p * m
        } else {
            (1.0 / p) * m
        }
    }
}

/// The Raydium CLMM venue.
pub struct RaydiumClmm;

impl Venue for RaydiumClmm {
    venue_items! {
        info "raydium_clmm", "clmm", "clmm", "clmm", [PROGRAM_ID], POOL_SIZE;
        types RaydiumClmmPool, ClmmOwn, RaydiumClmmState, RaydiumClmmSwapEvent;
        // bump, config, both mints, both vaults, observation, decimals, tick spacing
        identity bump, keys[0], keys[2..], mint_decimals, tick_spacing;
        mints keys[2], keys[3];
        vaults keys[4], keys[5];
    }
    const OWN_ROLES: &'static [OwnRole] = &[
        OwnRole::named("config"),
        OwnRole::tracked("tick_array"),
        OwnRole::named("bitmap_extension"),
    ];
    const ARRAYS: Option<u8> = Some(TICK_ARRAY);

    fn followed(r: &RaydiumClmmPool, out: &mut Vec<(u8, Key)>) {
        out.push((CONFIG, r.keys[0]));
        if r.tick_spacing < 15 {
            if let Some(k) = extension_of(r) {
                out.push((BITMAP_EXTENSION, k));
            }
        }
    }

    fn own_account(own: &mut ClmmOwn, role: u8, cx: &OwnAccount<'_>) -> Result<()> {
        match role {
            CONFIG => {
                let c = decode_amm_config(cx.data, cx.owner)?;
                own.rates = Some(Rates {
                    trade: c.trade_fee_rate,
                    protocol: c.protocol_fee_rate,
                    fund: c.fund_fee_rate,
                });
            }
            TICK_ARRAY => {
                let ta = decode_tick_array(cx.data, cx.owner)?;
                check_owned_by_pool("tick array", &ta.pool_id, cx)?;
                let ticks = array_ticks(&ta);
                if super::ticks::hold(&mut own.arrays, cx.account, ta.start_tick_index, ticks) {
                    own.ticks = None;
                }
            }
            BITMAP_EXTENSION => {
                let e = decode_bitmap_extension(cx.data, cx.owner)?;
                check_owned_by_pool("bitmap extension", &e.pool_id, cx)?;
                own.extension = Some((e.positive, e.negative));
            }
            _ => return Err(super::no_role(Self::INFO, role)),
        }
        Ok(())
    }

    fn forget(own: &mut ClmmOwn, account: u32) -> bool {
        own.forget(account)
    }

    /// The pool account's state, its config's fee, the ticks of every array held and
    /// the range they are complete in; `None` until the config is seen.
    fn update(own: &mut Self::Own, r: &Self::Record, cx: &mut Assembly) -> Updated<Self::State> {
        let Some(rates) = own.rates else {
            return Ok(None);
        };
        let slot = cx.slot()?;
        cx.check_ids()?;
        check_pool(r, rates)?;
        if own.ticks.is_none() {
            let all: Vec<Tick> = own
                .arrays
                .iter()
                .flat_map(|a| a.ticks.iter().copied())
                .collect();
            own.ticks = Some(sorted_ticks(all)?);
        }
        let ticks = own.ticks.clone().unwrap_or_default();
        let ext = own
            .extension
            .as_ref()
            .map(|(p, n)| (p.as_slice(), n.as_slice()));
        let initialized = initialized_starts(&r.tick_array_bitmap, ext, r.tick_spacing);
        let held: Vec<i32> = own.arrays.iter().map(|a| a.start).collect();
        let complete = complete_range(
            &initialized,
            &held,
            r.tick_current,
            r.tick_spacing,
            r.tick_spacing >= 15 || ext.is_some(),
        );
        let state = RaydiumClmmState {
            pool: Pool {
                sqrt_price_x64: r.sqrt_price_x64,
                liquidity: r.liquidity,
                tick_current: r.tick_current,
                tick_spacing: r.tick_spacing,
                fee_rate: rates.trade,
                fee_on: r.fee_on,
            },
            ticks,
            complete,
            refused: (r.status & STATUS_SWAP_DISABLED != 0).then_some(Fail::NotApproved),
        };
        Ok(Some((state, slot)))
    }

    /// Its `SwapEvent`: the discriminator, and at least the 205 bytes of its oldest form
    /// (a shorter line is not one of its events: CP-Swap's `SwapEvent`, 89 or 170 bytes,
    /// shares the discriminator).
    fn parse_event(raw: &[u8]) -> Option<Result<RaydiumClmmSwapEvent>> {
        (raw.get(..8) == Some(&DISC_SWAP_EVENT[..]) && raw.len() >= SWAP_EVENT_MIN)
            .then(|| parse_swap_event(raw))
    }
}

/// The refusals of a pool before any swap: a dynamic fee, a fee rate past the
/// denominator, protocol and fund rates that take more than the fee (the program's
/// `spilt_fees` would fail), a tick spacing of 0, a price out of bounds.
fn check_pool(r: &RaydiumClmmPool, rates: Rates) -> Result<()> {
    if r.dynamic_fee {
        return Err(EngineError::InvalidInput(
            "DynamicFee: the pool's fee depends on the block time and its volatility \
             accumulator, which is not quoted"
                .into(),
        ));
    }
    check_params(
        r.sqrt_price_x64,
        r.tick_current,
        r.tick_spacing,
        rates.trade,
    )?;
    if u64::from(rates.protocol) + u64::from(rates.fund) > u64::from(math::FEE_RATE_DENOMINATOR) {
        return Err(EngineError::InvalidInput(format!(
            "protocol_fee_rate {} + fund_fee_rate {} exceed 1000000",
            rates.protocol, rates.fund
        )));
    }
    Ok(())
}

/// The checks of a pool's swap parameters (as `raydium_clmm_swap` takes them).
pub fn check_params(
    sqrt_price_x64: u128,
    tick_current: i32,
    tick_spacing: u16,
    fee_rate: u32,
) -> Result<()> {
    if tick_spacing == 0 {
        return Err(EngineError::InvalidInput("tick_spacing must be > 0".into()));
    }
    if fee_rate > math::FEE_RATE_DENOMINATOR {
        return Err(EngineError::InvalidInput(format!(
            "fee_rate {fee_rate} exceeds 1000000 (units of 1e-6)"
        )));
    }
    if !(MIN_SQRT_PRICE_X64..MAX_SQRT_PRICE_X64).contains(&sqrt_price_x64) {
        return Err(EngineError::InvalidTick(format!(
            "sqrt price {sqrt_price_x64} outside [{MIN_SQRT_PRICE_X64}, {MAX_SQRT_PRICE_X64})"
        )));
    }
    if !(MIN_TICK..=MAX_TICK).contains(&tick_current) {
        return Err(EngineError::InvalidTick(format!(
            "tick {tick_current} outside [{MIN_TICK}, {MAX_TICK}]"
        )));
    }
    Ok(())
}

/// The program's exact-input swap on a pool given by its parameters and every initialized
/// tick `(index, liquidity_net)` (all carrying liquidity, none limit orders): the
/// kernel `raydium_clmm_swap`. Errors name the program's error.
#[allow(clippy::too_many_arguments)]
pub fn swap(
    sqrt_price_x64: u128,
    liquidity: u128,
    tick_current: i32,
    tick_spacing: u16,
    fee_rate: u32,
    fee_on: u8,
    ticks: &[(i32, i128)],
    amount: u64,
    zero_for_one: bool,
) -> Result<Swap> {
    swap_ledger(
        sqrt_price_x64,
        liquidity,
        tick_current,
        tick_spacing,
        fee_rate,
        fee_on,
        ticks,
        amount,
        zero_for_one,
        None,
    )
}

/// [`swap`], keeping the program's fee bookkeeping and the ticks it crossed in `ledger`
/// (its rates set by the caller: [`Ledger::new`]).
#[allow(clippy::too_many_arguments)]
pub fn swap_ledger(
    sqrt_price_x64: u128,
    liquidity: u128,
    tick_current: i32,
    tick_spacing: u16,
    fee_rate: u32,
    fee_on: u8,
    ticks: &[(i32, i128)],
    amount: u64,
    zero_for_one: bool,
    ledger: Option<&mut Ledger>,
) -> Result<Swap> {
    if let Some(l) = ledger.as_deref() {
        if u64::from(l.protocol_fee_rate) + u64::from(l.fund_fee_rate)
            > u64::from(math::FEE_RATE_DENOMINATOR)
        {
            return Err(EngineError::InvalidInput(format!(
                "protocol_fee_rate {} + fund_fee_rate {} exceed 1000000",
                l.protocol_fee_rate, l.fund_fee_rate
            )));
        }
    }
    check_params(sqrt_price_x64, tick_current, tick_spacing, fee_rate)?;
    if fee_on > 2 {
        return Err(EngineError::InvalidInput(format!(
            "fee_on must be 0, 1 or 2, got {fee_on}"
        )));
    }
    let ticks = sorted_ticks(
        ticks
            .iter()
            .map(|&(index, liquidity_net)| Tick {
                index,
                liquidity_net,
                flags: HAS_LIQUIDITY,
            })
            .collect(),
    )?;
    let pool = Pool {
        sqrt_price_x64,
        liquidity,
        tick_current,
        tick_spacing,
        fee_rate,
        fee_on,
    };
    math::swap_exact_in_ledger(
        &pool,
        &ticks,
        Complete::default(),
        amount,
        zero_for_one,
        None,
        ledger,
    )
    .map_err(fail_error)
}

//! Manifest (`MNFSTqtC…`), an order book whose market account holds the whole book
//! (twin: `engine_rs/python/venues/manifest.py`): the `MarketFixed` header and its
//! red-black trees of 80-byte blocks (bids, asks, claimed seats, one free list), the
//! `GlobalFixed` account of a mint (its traders' deposits, which back global orders),
//! the L2 ladder, and the exact exact-in `Swap` of the program.
//!
//! Sources: `CKS-Systems/manifest` at 95ee542 (program 3.0.9, `hypertree` 1.1.0):
//! `programs/manifest/src/state/{market,resting_order,claimed_seat,global,constants,
//! utils}.rs`, `quantities.rs` (the prices: a u128 of quote atoms per base atom scaled
//! by 10^18; `checked_quote_for_base` / `checked_base_for_quote`),
//! `program/processor/swap.rs` (the swap), `logs.rs` (its events), `lib/src/
//! red_black_tree.rs` (the trees: a tree's max is its best order; the walk goes down by
//! in-order predecessor from `*_best_index`).
//!
//! Mint a is the base mint, b the quote mint. a -> b sells base (the taker's order is an
//! ask, it walks the **bids**); b -> a buys base with quote (it walks the **asks**).
//!
//! # The swap (exact in)
//! Selling `x` base targets `x` base atoms; buying with `y` quote first asks
//! `impact_base_atoms` how many base atoms `y` buys (expired orders skipped, a global
//! order skipped when its maker's deposit cannot back it, the walk stopped at a global
//! order when that side's global account is not passed). Then `place_order` (IOC, no
//! price limit) walks the book: an expired or empty order is removed; a fill of a whole
//! order rounds its quote in the taker's favour, the last partial fill in the maker's;
//! a global order's maker pays from its deposit just in time (a deposit too small: the
//! order is removed and the walk goes on). No fees, no lots, no match limit. A buy
//! whose walk spends more than `y` fails (`InsufficientFunds`). A price conversion
//! overflowing u64 / u128 fails the swap (`PriceConversionError` 105 / 108 / 109).
//!
//! # The market's free blocks and the clock
//! A swap claims a temporary seat, which takes a free block; with one free block left
//! the market grows by 80 bytes and the payer pays its rent (556,800 lamports, never
//! refunded). The engine refuses such a market (as Jupiter's client does): a quote
//! needs two free blocks. Orders expire by slot (`last_valid_slot`); the state judges
//! them at the Clock sysvar's slot (or the notification's, when later) plus
//! [`EXPIRY_MARGIN`] slots: an order that expires before the swap lands does not count.

use std::sync::Arc;

use crate::b58;
use crate::decode::{clock_slot_and_time, err, Key, Layout, R, SYSVAR_CLOCK};
use crate::derive::find_program_address;
use crate::error::Result;

use super::openbook_v2::book::{self, pow10};
use super::{Assembly, Curve, Ladder, NoQuote, OwnAccount, OwnRole, Updated, Venue};

/// The Manifest program.
pub const PROGRAM_ID: &str = "MNFSTqtC93rEfYHB6hF82sKdZpUDFWkViLByLd1k1Ms";
pub const PROGRAM: Key = b58::key(PROGRAM_ID);
/// `MARKET_FIXED_DISCRIMINANT` (keccak256(program ‖ "manifest::state::market::MarketFixed")[..8]).
pub const DISC_MARKET: [u8; 8] = 4_859_840_929_024_028_656u64.to_le_bytes();
/// `GLOBAL_FIXED_DISCRIMINANT`.
pub const DISC_GLOBAL: [u8; 8] = 10_787_423_733_276_977_665u64.to_le_bytes();
/// `FillLog` (logs.rs), one per maker order filled.
pub const DISC_FILL_LOG: [u8; 8] = [58, 230, 242, 3, 75, 113, 4, 169];
/// `PlaceOrderLogV2`, once at the end of a swap.
pub const DISC_PLACE_ORDER_LOG_V2: [u8; 8] = [189, 97, 159, 235, 136, 5, 1, 141];
/// `GlobalCleanupLog`, an unbacked global order removed.
pub const DISC_GLOBAL_CLEANUP_LOG: [u8; 8] = [193, 249, 115, 186, 42, 126, 196, 82];
/// `FillLog` with its discriminator.
pub const FILL_LOG_SIZE: usize = 8 + 224;
/// `MarketFixed`: the market account's header; blocks of 80 bytes follow it.
pub const MARKET_FIXED_SIZE: usize = 256;
/// The smallest market: its header and the one free block `CreateMarket` adds.
pub const MARKET_MIN_SIZE: usize = MARKET_FIXED_SIZE + MARKET_BLOCK_SIZE;
pub const MARKET_BLOCK_SIZE: usize = 80;
/// `GlobalFixed`; blocks of 64 bytes follow it.
pub const GLOBAL_FIXED_SIZE: usize = 96;
pub const GLOBAL_BLOCK_SIZE: usize = 64;
/// A tree's empty index.
pub const NIL: u32 = u32::MAX;
/// The red-black node's header before its payload.
const NODE_HEADER: usize = 16;
/// Payload types of a market block.
pub const PAYLOAD_FREE: u8 = 0;
pub const PAYLOAD_SEAT: u8 = 1;
pub const PAYLOAD_ORDER: u8 = 2;
/// Order types (`OrderType`).
pub const LIMIT: u8 = 0;
pub const IMMEDIATE_OR_CANCEL: u8 = 1;
pub const POST_ONLY: u8 = 2;
pub const GLOBAL: u8 = 3;
pub const REVERSE: u8 = 4;
pub const REVERSE_TIGHT: u8 = 5;
/// Prices are quote atoms per base atom times 10^18 (`D18`).
pub const D18: u128 = 1_000_000_000_000_000_000;
/// `QuoteAtomsPerBaseAtom::MIN` / `MAX` (mantissa u32::MAX, exponent 8).
pub const PRICE_MIN: u128 = 1;
pub const PRICE_MAX: u128 = u32::MAX as u128 * 100_000_000 * D18;
/// `PriceConversionError` codes (100 + n): base atoms over u64, the quote product over
/// u128, quote atoms over u64.
pub const ERR_BASE_OVERFLOW: u32 = 105;
pub const ERR_QUOTE_PRODUCT_OVERFLOW: u32 = 108;
pub const ERR_QUOTE_OVERFLOW: u32 = 109;
/// `ManifestError::Overflow` (a total over u64).
pub const ERR_OVERFLOW: u32 = 14;
/// Slots added to the clock's slot when the state judges expiry (landing latency): our
/// choice, not the program's.
pub const EXPIRY_MARGIN: u64 = 2;
/// The most maker orders a quoted swap may reach (fills and removals): the program has
/// no match limit, so a longer walk is refused rather than sent past the compute units
/// its hop requests (`feeds/venues/manifest` `COMPUTE_UNITS` prices this many). Our
/// choice, not the program's.
pub const MAX_STEPS: u32 = 40;
/// The rent of the 80 bytes a market grows by (`(80) · 3480 · 2` lamports).
pub const EXPANSION_RENT: u64 = 556_800;
/// Role numbers in [`Venue::OWN_ROLES`].
pub const BASE_GLOBAL: u8 = 0;
pub const QUOTE_GLOBAL: u8 = 1;
pub const CLOCK: u8 = 2;

// ------------------------------------------------------------------ decoding

/// One resting order as the walk meets it (fields as `engine_rs.decoded.ManifestOrder`):
/// its price (quote atoms per base atom · 10^18), size, sequence number, maker (the
/// trader of its seat), expiry slot (0: none), type and reverse spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub index: u32,
    pub price: u128,
    pub base_atoms: u64,
    pub sequence_number: u64,
    pub trader_index: u32,
    pub trader: Key,
    pub last_valid_slot: u32,
    pub is_bid: bool,
    pub order_type: u8,
    pub reverse_spread: u16,
}

impl Order {
    /// `RestingOrder::is_expired`.
    #[inline]
    pub fn is_expired(&self, now_slot: u32) -> bool {
        self.last_valid_slot != 0 && self.last_valid_slot < now_slot
    }
}

/// The decoded market account (fields as `engine_rs.decoded.ManifestMarket`): its header
/// and both sides of its book, best order first (ties oldest first, as the tree holds
/// them).
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestMarket {
    pub version: u8,
    pub base_mint_decimals: u8,
    pub quote_mint_decimals: u8,
    pub base_vault_bump: u8,
    pub quote_vault_bump: u8,
    pub base_mint: Key,
    pub quote_mint: Key,
    pub base_vault: Key,
    pub quote_vault: Key,
    pub order_sequence_number: u64,
    pub num_bytes_allocated: u32,
    pub bids_root_index: u32,
    pub bids_best_index: u32,
    pub asks_root_index: u32,
    pub asks_best_index: u32,
    pub claimed_seats_root_index: u32,
    pub free_list_head_index: u32,
    pub quote_volume: u64,
    pub bids: Arc<[Order]>,
    pub asks: Arc<[Order]>,
    /// Claimed seats (the seats tree's nodes) and blocks on the free list.
    pub seats: u32,
    pub free_blocks: u32,
}

/// The dynamic area of an account of `block`-byte blocks, every index checked.
struct Blocks<'a> {
    d: &'a [u8],
    block: usize,
    what: &'static str,
    /// Node visits left: a walk longer than the blocks allow is a corrupt tree.
    budget: usize,
}

impl<'a> Blocks<'a> {
    fn new(d: &'a [u8], block: usize, what: &'static str) -> Self {
        let n = d.len() / block;
        Self {
            d,
            block,
            what,
            budget: 16 * n + 64,
        }
    }

    fn node(&mut self, i: u32) -> Result<&'a [u8]> {
        if self.budget == 0 {
            return Err(err(format!(
                "{}: a tree walk is longer than its blocks",
                self.what
            )));
        }
        self.budget -= 1;
        let at = i as usize;
        if i == NIL || !at.is_multiple_of(self.block) || at + self.block > self.d.len() {
            return Err(err(format!(
                "{}: index {i} is not a block of its {} bytes",
                self.what,
                self.d.len()
            )));
        }
        Ok(&self.d[at..at + self.block])
    }

    fn left(&mut self, i: u32) -> Result<u32> {
        Ok(le_u32(self.node(i)?, 0))
    }
    fn right(&mut self, i: u32) -> Result<u32> {
        Ok(le_u32(self.node(i)?, 4))
    }
    fn parent(&mut self, i: u32) -> Result<u32> {
        Ok(le_u32(self.node(i)?, 8))
    }

    /// The tree's max from `root` (`lookup_max_index`).
    fn max_of(&mut self, root: u32) -> Result<u32> {
        let mut i = root;
        loop {
            let r = self.right(i)?;
            if r == NIL {
                return Ok(i);
            }
            i = r;
        }
    }

    /// `get_next_lower_index`: the in-order predecessor.
    fn lower(&mut self, i: u32) -> Result<u32> {
        let l = self.left(i)?;
        if l != NIL {
            return self.max_of(l);
        }
        let mut cur = i;
        loop {
            let p = self.parent(cur)?;
            if p == NIL {
                return Ok(NIL);
            }
            if self.left(p)? == cur {
                cur = p;
                continue;
            }
            return Ok(p);
        }
    }

    /// Every node of the tree at `root` (any order), each once.
    fn all(&mut self, root: u32) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        let mut stack = Vec::new();
        if root != NIL {
            stack.push(root);
        }
        while let Some(i) = stack.pop() {
            let n = self.node(i)?;
            out.push(i);
            for child in [le_u32(n, 0), le_u32(n, 4)] {
                if child != NIL {
                    stack.push(child);
                }
            }
        }
        Ok(out)
    }
}

fn le_u32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn le_u64(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

fn key_at(b: &[u8], off: usize) -> Key {
    let mut k = [0u8; 32];
    k.copy_from_slice(&b[off..off + 32]);
    k
}

/// The trader of the seat at `index`.
fn seat_trader(blocks: &mut Blocks<'_>, index: u32) -> Result<Key> {
    let n = blocks.node(index)?;
    if n[13] != PAYLOAD_SEAT {
        return Err(err(format!(
            "MarketFixed: block {index} is no claimed seat (payload type {})",
            n[13]
        )));
    }
    Ok(key_at(n, NODE_HEADER))
}

/// One side's orders, best first: the walk down from its best index (the tree's max
/// when the best index is NIL and the root is not), as `RedBlackTree::iter`.
fn side_orders(blocks: &mut Blocks<'_>, root: u32, best: u32, bid: bool) -> Result<Vec<Order>> {
    let mut out = Vec::new();
    let mut i = if best == NIL && root != NIL {
        blocks.max_of(root)?
    } else {
        best
    };
    while i != NIL {
        let n = blocks.node(i)?;
        if n[13] != PAYLOAD_ORDER {
            return Err(err(format!(
                "MarketFixed: block {i} of the {} is no order (payload type {})",
                if bid { "bids" } else { "asks" },
                n[13]
            )));
        }
        let v = &n[NODE_HEADER..];
        let is_bid = v[40] != 0;
        if is_bid != bid {
            return Err(err(format!(
                "MarketFixed: order {i} of the {} is a{}",
                if bid { "bids" } else { "asks" },
                if is_bid { " bid" } else { "n ask" }
            )));
        }
        let trader_index = le_u32(v, 32);
        let trader = seat_trader(blocks, trader_index)?;
        out.push(Order {
            index: i,
            price: u128::from(le_u64(v, 0)) | (u128::from(le_u64(v, 8)) << 64),
            base_atoms: le_u64(v, 16),
            sequence_number: le_u64(v, 24),
            trader_index,
            trader,
            last_valid_slot: le_u32(v, 36),
            is_bid,
            order_type: v[41],
            reverse_spread: u16::from_le_bytes([v[42], v[43]]),
        });
        i = blocks.lower(i)?;
    }
    Ok(out)
}

/// The Manifest market account: its header, its book (both sides walked best first),
/// its seats and free blocks counted; every index checked.
pub fn decode_manifest_market(data: &[u8], owner: Option<&Key>) -> Result<ManifestMarket> {
    let r = Layout(
        "MarketFixed",
        MARKET_FIXED_SIZE,
        &[DISC_MARKET],
        &[&PROGRAM],
    )
    .check(data, owner)?;
    let allocated = r.u32(152)?;
    let end = MARKET_FIXED_SIZE + allocated as usize;
    if !(allocated as usize).is_multiple_of(MARKET_BLOCK_SIZE) || data.len() < end {
        return Err(err(format!(
            "MarketFixed: {allocated} bytes allocated in an account of {} (blocks of {MARKET_BLOCK_SIZE} after {MARKET_FIXED_SIZE})",
            data.len()
        )));
    }
    let dynamic = &data[MARKET_FIXED_SIZE..end];
    let (bids_root, bids_best) = (r.u32(156)?, r.u32(160)?);
    let (asks_root, asks_best) = (r.u32(164)?, r.u32(168)?);
    let (seats_root, free_head) = (r.u32(172)?, r.u32(176)?);
    let mut blocks = Blocks::new(dynamic, MARKET_BLOCK_SIZE, "MarketFixed");
    let bids = side_orders(&mut blocks, bids_root, bids_best, true)?;
    let asks = side_orders(&mut blocks, asks_root, asks_best, false)?;
    let seats = blocks.all(seats_root)?.len() as u32;
    let mut free_blocks = 0u32;
    let mut i = free_head;
    while i != NIL {
        let n = blocks.node(i)?;
        free_blocks += 1;
        i = le_u32(n, 0);
    }
    Ok(ManifestMarket {
        version: r.u8(8)?,
        base_mint_decimals: r.u8(9)?,
        quote_mint_decimals: r.u8(10)?,
        base_vault_bump: r.u8(11)?,
        quote_vault_bump: r.u8(12)?,
        base_mint: r.key(16)?,
        quote_mint: r.key(48)?,
        base_vault: r.key(80)?,
        quote_vault: r.key(112)?,
        order_sequence_number: r.u64(144)?,
        num_bytes_allocated: allocated,
        bids_root_index: bids_root,
        bids_best_index: bids_best,
        asks_root_index: asks_root,
        asks_best_index: asks_best,
        claimed_seats_root_index: seats_root,
        free_list_head_index: free_head,
        quote_volume: r.u64(184)?,
        bids: bids.into(),
        asks: asks.into(),
        seats,
        free_blocks,
    })
}

decoded_by!(ManifestMarket, decode_manifest_market);

/// A mint's global account (fields as `engine_rs.decoded.ManifestGlobal`): its header
/// and its traders' deposits, sorted by trader.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestGlobal {
    pub mint: Key,
    pub vault: Key,
    pub num_bytes_allocated: u32,
    pub vault_bump: u8,
    pub global_bump: u8,
    pub num_seats_claimed: u16,
    pub deposits: Arc<[(Key, u64)]>,
}

impl ManifestGlobal {
    /// `trader`'s deposit (0: no seat, or evicted).
    pub fn balance(&self, trader: &Key) -> u64 {
        balance_of(&self.deposits, trader)
    }
}

fn balance_of(deposits: &[(Key, u64)], trader: &Key) -> u64 {
    deposits
        .binary_search_by(|(k, _)| k.cmp(trader))
        .map_or(0, |i| deposits[i].1)
}

/// The Manifest global account of a mint (`["global", mint]`): its traders tree walked
/// into each trader's deposit.
pub fn decode_manifest_global(data: &[u8], owner: Option<&Key>) -> Result<ManifestGlobal> {
    let r = Layout(
        "GlobalFixed",
        GLOBAL_FIXED_SIZE,
        &[DISC_GLOBAL],
        &[&PROGRAM],
    )
    .check(data, owner)?;
    let allocated = r.u32(88)?;
    let end = GLOBAL_FIXED_SIZE + allocated as usize;
    if !(allocated as usize).is_multiple_of(GLOBAL_BLOCK_SIZE) || data.len() < end {
        return Err(err(format!(
            "GlobalFixed: {allocated} bytes allocated in an account of {}",
            data.len()
        )));
    }
    let mut blocks = Blocks::new(
        &data[GLOBAL_FIXED_SIZE..end],
        GLOBAL_BLOCK_SIZE,
        "GlobalFixed",
    );
    let mut deposits = Vec::new();
    for i in blocks.all(r.u32(72)?)? {
        let n = blocks.node(i)?;
        let trader = key_at(n, NODE_HEADER);
        let d = blocks.node(le_u32(n, NODE_HEADER + 32))?;
        if key_at(d, NODE_HEADER) != trader {
            return Err(err(format!(
                "GlobalFixed: the deposit of trader node {i} is another trader's"
            )));
        }
        deposits.push((trader, le_u64(d, NODE_HEADER + 32)));
    }
    deposits.sort_unstable();
    Ok(ManifestGlobal {
        mint: r.key(8)?,
        vault: r.key(40)?,
        num_bytes_allocated: allocated,
        vault_bump: r.u8(92)?,
        global_bump: r.u8(93)?,
        num_seats_claimed: r.u16(94)?,
        deposits: deposits.into(),
    })
}

// ------------------------------------------------------------------ PDAs

/// A market's vault of `mint`: `["vault", market, mint]`.
pub fn vault_address(market: &Key, mint: &Key) -> Result<Key> {
    Ok(find_program_address(&[b"vault", market, mint], &PROGRAM)?.0)
}

/// A mint's global account: `["global", mint]`.
pub fn global_address(mint: &Key) -> Result<Key> {
    Ok(find_program_address(&[b"global", mint], &PROGRAM)?.0)
}

/// A mint's global vault: `["global-vault", mint]`.
pub fn global_vault_address(mint: &Key) -> Result<Key> {
    Ok(find_program_address(&[b"global-vault", mint], &PROGRAM)?.0)
}

// ------------------------------------------------------------------ the math

/// `checked_quote_for_base`: ⌈ or ⌊ price · base / 10^18 ⌋.
pub fn quote_for_base(price: u128, base: u64, up: bool) -> std::result::Result<u64, u32> {
    let p = price
        .checked_mul(u128::from(base))
        .ok_or(ERR_QUOTE_PRODUCT_OVERFLOW)?;
    let q = if up { p.div_ceil(D18) } else { p / D18 };
    u64::try_from(q).map_err(|_| ERR_QUOTE_OVERFLOW)
}

/// `checked_base_for_quote`: ⌈ or ⌊ 10^18 · quote / price ⌋ (0 for a zero price).
pub fn base_for_quote(price: u128, quote: u64, up: bool) -> std::result::Result<u64, u32> {
    if price == 0 {
        return Ok(0);
    }
    let d = D18 * u128::from(quote);
    let b = if up { d.div_ceil(price) } else { d / price };
    u64::try_from(b).map_err(|_| ERR_BASE_OVERFLOW)
}

/// A global's deposits by trader, sorted (what the state holds of a global account).
pub type Held = Arc<[(Key, u64)]>;

/// The deposits behind one side's global orders: the maker side's mint's global
/// account (`None`: not passed, or not known).
pub type Deposits<'a> = Option<&'a [(Key, u64)]>;

/// `impact_base_atoms` of a buy: the base atoms `limit_quote` buys from `asks`
/// (expired orders skipped, unbacked global orders skipped without decrementing, the
/// walk stopped at a global order without its global account). Also whether the walk
/// ran out of orders (`exhausted`) and met a global order it could not judge.
pub fn impact_base_atoms(
    asks: &[Order],
    limit_quote: u64,
    now_slot: u32,
    deposits: Deposits<'_>,
) -> std::result::Result<(u64, bool, bool), u32> {
    let mut total = 0u64;
    let mut rem = limit_quote;
    for o in asks {
        if o.is_expired(now_slot) {
            continue;
        }
        let lim = base_for_quote(o.price, rem, false)?;
        let matched = o.base_atoms.min(lim);
        let full = lim >= o.base_atoms;
        let q = quote_for_base(o.price, matched, !full)?;
        if o.order_type == GLOBAL {
            let Some(d) = deposits else {
                return Ok((total, false, true));
            };
            if balance_of(d, &o.trader) < matched {
                continue;
            }
        }
        total = total.checked_add(matched).ok_or(ERR_OVERFLOW)?;
        if !full {
            return Ok((total, false, false));
        }
        rem -= q;
        if rem == 0 {
            return Ok((total, false, false));
        }
    }
    Ok((total, true, false))
}

/// What `place_order` of an IOC taker does on one side (fields as
/// `engine_rs.decoded.ManifestSwap` but the swap's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Walk {
    pub base_atoms: u64,
    pub quote_atoms: u64,
    /// Maker orders filled, and removed (expired, empty, unbacked global).
    pub fills: u32,
    pub removed: u32,
    /// Global orders filled.
    pub global_fills: u32,
    /// The walk stopped at a global order whose global account was not passed.
    pub missing_global: bool,
}

/// `place_order` of an IOC taker for `base` atoms (`is_bid`: buying, walking the asks)
/// at no price limit: the walk as the program does it.
pub fn place_order(
    orders: &[Order],
    is_bid: bool,
    base: u64,
    now_slot: u32,
    deposits: Deposits<'_>,
) -> std::result::Result<Walk, u32> {
    let mut w = Walk::default();
    let mut rem = base;
    // the global deposits as the fills move them (a maker's second order sees less)
    let mut spent: Vec<(Key, u64)> = Vec::new();
    for o in orders {
        if rem == 0 {
            break;
        }
        if o.is_expired(now_slot) || o.base_atoms == 0 {
            w.removed += 1;
            continue;
        }
        let full = rem >= o.base_atoms;
        let traded = if full { o.base_atoms } else { rem };
        let quote = quote_for_base(o.price, traded, is_bid != full)?;
        if o.order_type == GLOBAL {
            let Some(d) = deposits else {
                w.missing_global = true;
                break;
            };
            let need = if is_bid { traded } else { quote };
            let used = spent
                .iter()
                .find(|(k, _)| *k == o.trader)
                .map_or(0, |e| e.1);
            if balance_of(d, &o.trader) - used < need {
                w.removed += 1;
                continue;
            }
            match spent.iter_mut().find(|(k, _)| *k == o.trader) {
                Some(e) => e.1 += need,
                None => spent.push((o.trader, need)),
            }
            w.global_fills += 1;
        }
        w.base_atoms = w.base_atoms.checked_add(traded).ok_or(ERR_OVERFLOW)?;
        w.quote_atoms = w.quote_atoms.checked_add(quote).ok_or(ERR_OVERFLOW)?;
        w.fills += 1;
        if is_bid {
            // a reverse ask filled: its maker's bid on the other side, sized by the quote
            // it got; the program's conversions there can fail the swap (its `?`s)
            if let Some(p) = reverse_price(o) {
                let size = base_for_quote(p, quote, false)?;
                quote_for_base(p, size, true)?;
            }
        }
        if !full {
            break;
        }
        rem -= traded;
    }
    Ok(w)
}

/// `RestingOrder::reverse_price` of a reverse order (type 4: spread in 10^-5, type 5:
/// in 10^-8): a bid at P flips to an ask at ⌊P·base/(base−spread)⌋, an ask to a bid at
/// ⌈P·(base−spread)/base⌉; `None` for another type, or when the product overflows (the
/// program then places no reverse order).
pub fn reverse_price(o: &Order) -> Option<u128> {
    let base: u128 = match o.order_type {
        REVERSE => 100_000,
        REVERSE_TIGHT => 100_000_000,
        _ => return None,
    };
    let spread = u128::from(o.reverse_spread);
    if o.is_bid {
        Some(o.price.checked_mul(base)? / (base - spread))
    } else {
        Some(o.price.checked_mul(base - spread)?.div_ceil(base))
    }
}

/// The exact result of an exact-in swap (fields as `engine_rs.decoded.ManifestSwap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swap {
    /// What the taker's transfers move: in (at most the amount; the rest stays) and out.
    pub amount_in: u64,
    pub amount_out: u64,
    /// The base atoms `place_order` was asked for (`PlaceOrderLogV2.base_atoms`).
    pub target_base: u64,
    pub fills: u32,
    pub removed: u32,
    pub global_fills: u32,
    /// The book ran out before the input did (a sell left base unsold; a buy's impact
    /// walk ran out of orders).
    pub exhausted: bool,
    /// The walk met a global order whose side's global account it did not have.
    pub missing_global: bool,
}

/// `process_swap` exact in: `amount` of base (`base_in`) or quote in, against a book's
/// two sides at `now_slot` with the maker side's global deposits (`None`: the global
/// account not passed). `Err(code)` is the program's error: a price conversion, an
/// overflow, or `u32::MAX` for `InsufficientFunds` (a buy whose walk spends more than
/// its amount).
pub fn swap(
    bids: &[Order],
    asks: &[Order],
    amount: u64,
    base_in: bool,
    now_slot: u32,
    deposits: Deposits<'_>,
) -> std::result::Result<Swap, u32> {
    let is_bid = !base_in;
    let (target, exhausted_impact, missing_impact) = if base_in {
        (amount, false, false)
    } else {
        impact_base_atoms(asks, amount, now_slot, deposits)?
    };
    let w = place_order(
        if is_bid { asks } else { bids },
        is_bid,
        target,
        now_slot,
        deposits,
    )?;
    if is_bid && w.quote_atoms > amount {
        return Err(INSUFFICIENT_FUNDS);
    }
    let (amount_in, amount_out) = if base_in {
        (w.base_atoms, w.quote_atoms)
    } else {
        (w.quote_atoms, w.base_atoms)
    };
    Ok(Swap {
        amount_in,
        amount_out,
        target_base: target,
        fills: w.fills,
        removed: w.removed,
        global_fills: w.global_fills,
        exhausted: if base_in {
            w.base_atoms < amount && !w.missing_global
        } else {
            exhausted_impact || w.base_atoms < target
        },
        missing_global: w.missing_global || missing_impact,
    })
}

/// The code [`swap`] gives for the runtime's `InsufficientFunds` (not a custom code).
pub const INSUFFICIENT_FUNDS: u32 = u32::MAX;

/// The program's name of a [`swap`] error code.
pub fn error_name(code: u32) -> String {
    match code {
        INSUFFICIENT_FUNDS => "InsufficientFunds".into(),
        ERR_OVERFLOW => "Overflow".into(),
        ERR_BASE_OVERFLOW | ERR_QUOTE_PRODUCT_OVERFLOW | ERR_QUOTE_OVERFLOW => {
            format!("PriceConversionError({code})")
        }
        c => format!("Custom({c})"),
    }
}

// ------------------------------------------------------------------ the state

/// A market ready to be swapped against: what the graph holds and sizing walks.
#[derive(Debug, Clone, PartialEq)]
pub struct BookState {
    pub base_decimals: u8,
    pub quote_decimals: u8,
    pub bids: Arc<[Order]>,
    pub asks: Arc<[Order]>,
    /// The deposits of the base mint's global (backing global asks) and the quote
    /// mint's (backing global bids); `None`: not seen.
    pub base_global: Option<Held>,
    pub quote_global: Option<Held>,
    /// The slot orders are judged at.
    pub now_slot: u32,
    pub free_blocks: u32,
}

impl BookState {
    /// The book of a decoded market at `now_slot` with the globals' deposits.
    pub fn new(
        m: &ManifestMarket,
        now_slot: u32,
        base_global: Option<Held>,
        quote_global: Option<Held>,
    ) -> Self {
        Self {
            base_decimals: m.base_mint_decimals,
            quote_decimals: m.quote_mint_decimals,
            bids: m.bids.clone(),
            asks: m.asks.clone(),
            base_global,
            quote_global,
            now_slot,
            free_blocks: m.free_blocks,
        }
    }

    /// The deposits backing the side a swap walks (`a_to_b`: the bids, by quote).
    fn deposits(&self, a_to_b: bool) -> Deposits<'_> {
        if a_to_b {
            self.quote_global.as_deref()
        } else {
            self.base_global.as_deref()
        }
    }

    /// The exact swap of `amount` (base in when `a_to_b`).
    pub fn swap(&self, amount: u64, a_to_b: bool) -> std::result::Result<Swap, u32> {
        swap(
            &self.bids,
            &self.asks,
            amount,
            a_to_b,
            self.now_slot,
            self.deposits(a_to_b),
        )
    }

    /// Whether an order counts at the state's slot: not expired, not empty, a global
    /// order backed by its maker's deposit for all of it (unknown deposits: not).
    fn live(&self, o: &Order, bid: bool) -> bool {
        if o.is_expired(self.now_slot) || o.base_atoms == 0 {
            return false;
        }
        if o.order_type != GLOBAL {
            return true;
        }
        let Some(d) = self.deposits(bid) else {
            return false;
        };
        let need = if bid {
            match quote_for_base(o.price, o.base_atoms, false) {
                Ok(q) => q,
                Err(_) => return false,
            }
        } else {
            o.base_atoms
        };
        balance_of(d, &o.trader) >= need
    }

    /// The L2 ladder: live orders summed by equal price, best first.
    pub fn ladder(&self, depth: usize) -> Ladder {
        let (base, quote) = (self.base_decimals, self.quote_decimals);
        let side = |orders: &[Order], bid: bool| {
            let live = orders.iter().filter(|o| self.live(o, bid));
            book::levels(
                live.map(|o| {
                    let lots = i64::try_from(o.price).unwrap_or(i64::MAX);
                    (o.price, lots, i128::from(o.base_atoms))
                }),
                depth,
                |price, size_lots| {
                    let size = size_lots as f64 / pow10(u32::from(base));
                    (price_ui(price, base, quote), size)
                },
            )
        };
        Ladder::of(side(&self.bids, true), side(&self.asks, false))
    }
}

/// A price (quote atoms per base atom · 10^18) in quote UI units per base UI unit.
pub fn price_ui(price: u128, base_decimals: u8, quote_decimals: u8) -> f64 {
    let native = price as f64 / D18 as f64;
    let (b, q) = (u32::from(base_decimals), u32::from(quote_decimals));
    if b >= q {
        native * pow10(b - q)
    } else {
        native / pow10(q - b)
    }
}

/// What the ingest keeps of a market's own accounts: the two globals' deposits and the
/// clock's slot.
#[derive(Debug, Default)]
pub struct Own {
    pub base_global: Option<Held>,
    pub quote_global: Option<Held>,
    pub clock_slot: Option<u64>,
}

/// A `FillLog` (fields as `engine_rs.decoded.ManifestFillLog`): one maker order filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillLog {
    pub market: Key,
    pub maker: Key,
    pub taker: Key,
    pub base_mint: Key,
    pub quote_mint: Key,
    pub price: u128,
    pub base_atoms: u64,
    pub quote_atoms: u64,
    pub maker_sequence_number: u64,
    pub taker_sequence_number: u64,
    pub taker_is_buy: bool,
    pub is_maker_global: bool,
}

fn parse_fill_log(raw: &[u8]) -> Result<FillLog> {
    let what = "FillLog";
    let r = R::event(raw, what, FILL_LOG_SIZE, what)?;
    Ok(FillLog {
        market: r.key(8)?,
        maker: r.key(40)?,
        taker: r.key(72)?,
        base_mint: r.key(104)?,
        quote_mint: r.key(136)?,
        price: r.u128(168)?,
        base_atoms: r.u64(184)?,
        quote_atoms: r.u64(192)?,
        maker_sequence_number: r.u64(200)?,
        taker_sequence_number: r.u64(208)?,
        taker_is_buy: r.u8(216)? != 0,
        is_maker_global: r.u8(217)? != 0,
    })
}

/// The slot orders are judged at: the clock's slot or the notification's, the later,
/// plus [`EXPIRY_MARGIN`], as the program's `u32`.
pub fn judged_slot(clock: u64, notified: u64) -> u32 {
    clock.max(notified).saturating_add(EXPIRY_MARGIN) as u32
}

/// Whether a side holds a global order (whose deposits a quote then needs).
fn has_global(orders: &[Order]) -> bool {
    orders.iter().any(|o| o.order_type == GLOBAL)
}

impl Curve for BookState {
    fn quote_checked(&self, amount: u64, a_to_b: bool) -> std::result::Result<u64, NoQuote> {
        self.quote_steps(amount, a_to_b).map(|(out, _)| out)
    }

    /// The venue's quote with the maker orders reached (fills and removals, the
    /// compute-unit model's steps): the output of a complete swap that moves something,
    /// reaches at most [`MAX_STEPS`] orders, on a market with two free blocks.
    fn quote_steps(&self, amount: u64, a_to_b: bool) -> std::result::Result<(u64, u32), NoQuote> {
        if amount == 0 {
            return Ok((0, 0));
        }
        if self.free_blocks < 2 {
            return Err(NoQuote::Unfillable);
        }
        let s = self.swap(amount, a_to_b).map_err(|_| NoQuote::Unfillable)?;
        if s.missing_global {
            return Err(NoQuote::TicksMissing);
        }
        let steps = s.fills + s.removed;
        if s.exhausted || s.amount_out == 0 || steps > MAX_STEPS {
            return Err(NoQuote::Unfillable);
        }
        Ok((s.amount_out, steps))
    }

    /// Output per input at zero size (no fee): the best live bid's price selling, its
    /// inverse at the best live ask buying (the smallest positive f64 for none).
    fn spot_rate(&self, a_to_b: bool) -> f64 {
        let orders: &[Order] = if a_to_b { &self.bids } else { &self.asks };
        let Some(best) = orders.iter().find(|o| self.live(o, a_to_b)) else {
            return f64::MIN_POSITIVE;
        };
        let price = best.price as f64 / D18 as f64;
        if a_to_b {
            price
        } else {
            1.0 / price
        }
    }

    fn ladder(&self, depth: usize) -> Option<Ladder> {
        Some(BookState::ladder(self, depth))
    }
}

/// The Manifest venue.
pub struct Manifest;

impl Venue for Manifest {
    venue_items! {
        info "manifest", "manifest", "mfx", "book", [PROGRAM_ID], MARKET_MIN_SIZE;
        types ManifestMarket, Own, BookState, FillLog;
        // the mints, vaults, decimals, bumps and version (the book, sequence number,
        // sizes and volume change)
        identity version, base_mint_decimals, quote_mint_decimals, base_vault_bump,
            quote_vault_bump, base_mint, quote_mint, base_vault, quote_vault;
        mints base_mint, quote_mint;
        vaults base_vault, quote_vault;
    }
    const OWN_ROLES: &'static [OwnRole] = &[
        OwnRole::named("base_global"),
        OwnRole::named("quote_global"),
        OwnRole::named("clock"),
    ];

    /// The global of a side while that side holds global orders (the deposits a swap
    /// walking it needs; a mint's global may not exist otherwise), and the clock.
    fn followed(r: &ManifestMarket, out: &mut Vec<(u8, Key)>) {
        if has_global(&r.asks) {
            if let Ok(k) = global_address(&r.base_mint) {
                out.push((BASE_GLOBAL, k));
            }
        }
        if has_global(&r.bids) {
            if let Ok(k) = global_address(&r.quote_mint) {
                out.push((QUOTE_GLOBAL, k));
            }
        }
        out.push((CLOCK, SYSVAR_CLOCK));
    }

    /// A global account (its deposits; an empty account: not created) or the clock.
    fn own_account(own: &mut Own, role: u8, cx: &OwnAccount<'_>) -> Result<()> {
        match role {
            BASE_GLOBAL | QUOTE_GLOBAL => {
                let deposits = if cx.data.is_empty() {
                    None
                } else {
                    Some(decode_manifest_global(cx.data, cx.owner)?.deposits)
                };
                if role == BASE_GLOBAL {
                    own.base_global = deposits;
                } else {
                    own.quote_global = deposits;
                }
            }
            CLOCK => own.clock_slot = Some(clock_slot_and_time(cx.data, cx.owner)?.0),
            _ => return Err(super::no_role(Self::INFO, role)),
        }
        Ok(())
    }

    /// The book once the clock is seen, and the global of a side that holds global
    /// orders (a side without never needs its global: a global order cannot rest
    /// without its global account), judged at [`judged_slot`].
    fn update(own: &mut Self::Own, r: &Self::Record, cx: &mut Assembly) -> Updated<Self::State> {
        let Some(clock) = own.clock_slot else {
            return Ok(None);
        };
        // a side without global orders is not followed for them: what was kept of its
        // global is stale by the time one comes back
        if !has_global(&r.asks) {
            own.base_global = None;
        }
        if !has_global(&r.bids) {
            own.quote_global = None;
        }
        if (has_global(&r.asks) && own.base_global.is_none())
            || (has_global(&r.bids) && own.quote_global.is_none())
        {
            return Ok(None);
        }
        let slot = cx.slot()?;
        cx.check_ids()?;
        let state = BookState::new(
            r,
            judged_slot(clock, slot),
            own.base_global.clone(),
            own.quote_global.clone(),
        );
        Ok(Some((state, slot)))
    }

    fn parse_event(raw: &[u8]) -> Option<Result<FillLog>> {
        match raw.get(..8) {
            Some(d) if d == DISC_FILL_LOG => Some(parse_fill_log(raw)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;

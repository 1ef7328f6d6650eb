//! OpenBook v2, a central limit order book (twin: `engine_rs/python/venues/openbook_v2.py`):
//! the `Market`, `BookSide` and `EventHeap` accounts, the L2 ladder of a book, and the
//! exact fill of a `place_take_order` walking it.
//!
//! Sources: `openbook-dex/openbook-v2` v0.2.10 (`programs/openbook-v2/src/`):
//! `state/market.rs` (the `Market` layout, 840 bytes + discriminator; the fee rounding
//! `subtract_taker_fees`, `taker_fees_ceil`, `maker_rebate_floor`),
//! `state/orderbook/{bookside,ordertree,nodes,bookside_iterator,ordertree_iterator}.rs`
//! (the order tree: 1024 node slots of 88 bytes, inner and leaf nodes, two roots —
//! fixed and oracle-pegged — walked best first and merged by `rank_orders`),
//! `state/orderbook/heap.rs` (the `EventHeap`: 600 event slots, fill and out events),
//! `state/orderbook/book.rs` (`new_order`: the matching loop) and
//! `instructions/place_take_order.rs` (what the taker pays and receives). Discriminators
//! are Anchor's (sha256 of `account:<Name>`).
//!
//! Mint a is the base mint, b the quote mint. a -> b sells base (the taker's order is an
//! ask, it walks the **bids**); b -> a buys base with quote (a bid, it walks the
//! **asks**). A take is a `Market` order: selling `x` base sends
//! `max_base_lots = ⌊x / base_lot_size⌋` (what is below a lot stays with the seller) and
//! `max_quote_lots_including_fees = i64::MAX / quote_lot_size`; buying with `y` quote
//! sends `max_quote_lots_including_fees = ⌊y / quote_lot_size⌋` and
//! `max_base_lots = i64::MAX / base_lot_size` ([`take_args`]).
//!
//! # The fill (book.rs `new_order`, place_take_order.rs)
//! A bid's quote budget is first cut by the taker fee:
//! `⌊lots · 10⁶ / (10⁶ + taker_fee)⌋`. Then, best order first: an invalid order
//! (expired: `time_in_force > 0 && now >= timestamp + time_in_force`; an oracle-pegged
//! order past its peg limit) is skipped (the first 5 each push an `OutEvent`); the walk
//! stops at the price limit, after `limit` matched orders, or when the budget buys no
//! lot at the order's price; each match takes `min(remaining base lots, order quantity,
//! remaining quote lots / price)` lots and pushes a `FillEvent`. The taker fee is
//! `⌈quote native · taker_fee / 10⁶⌉`, but `place_take_order` only moves the makers'
//! rebates (`⌊quote native of each match · |maker_fee| / 10⁶⌋` when `maker_fee < 0`,
//! else nothing) through the taker's transfer: a buyer pays quote + rebates, a seller
//! receives quote − rebates (the program's own tests: 99 980 for 100 000 at
//! maker −200 / taker 400). Every event goes to the heap, which must have room (the
//! program asserts); a market past `time_expiry` refuses (`MarketHasExpired`).
//!
//! Oracle-pegged orders are priced `oracle_price_lots + offset` and skipped when that is
//! outside `1..i64::MAX`; without an oracle price the program does not see them at all.
//! The engine follows no oracle, so the graph's state quotes without them; a market with
//! an oracle and pegged orders has no honest quote ([`NoQuote::TicksMissing`]).
//!
//! # The time
//! Expiry needs the chain's clock. [`Venue::update`] uses the latest time the accounts
//! prove the program saw: the newest order timestamp on either side (or the market's
//! registration time). Orders that expired after it still count: a quote can meet an
//! order the program would skip (the program then skips it and fills deeper).

pub mod book;

use std::sync::Arc;

use crate::b58;
use crate::decode::{clock_unix_timestamp, err, Key, Layout, R, SYSVAR_CLOCK};
use crate::error::{EngineError, Result};

use self::book::scale10;
use super::{Assembly, Curve, Ladder, Level, NoQuote, OwnAccount, OwnRole, Updated, Venue};

/// The OpenBook v2 program (`declare_id!` in lib.rs).
pub const PROGRAM_ID: &str = "opnb2LAfJYbRMAHHvqjCwQxanZn7ReEHp1k81EohpZb";
pub const PROGRAM: Key = b58::key(PROGRAM_ID);
/// sha256("account:Market")[..8].
pub const DISC_MARKET: [u8; 8] = [219, 190, 213, 55, 0, 227, 198, 154];
/// sha256("account:BookSide")[..8].
pub const DISC_BOOKSIDE: [u8; 8] = [72, 44, 225, 141, 178, 130, 97, 57];
/// sha256("account:EventHeap")[..8].
pub const DISC_EVENT_HEAP: [u8; 8] = [119, 59, 61, 19, 165, 84, 57, 175];
/// sha256("global:place_take_order")[..8].
pub const DISC_PLACE_TAKE_ORDER: [u8; 8] = [3, 44, 71, 3, 26, 199, 203, 85];
/// sha256("event:TotalOrderFillEvent")[..8] (logs.rs; written by `emit_stack` as a
/// `Program data:` line after a take).
pub const DISC_TOTAL_ORDER_FILL_EVENT: [u8; 8] = [8, 235, 48, 58, 174, 76, 156, 105];
/// `TotalOrderFillEvent` with its discriminator: side, taker, paid, received, fees.
pub const TOTAL_ORDER_FILL_EVENT_SIZE: usize = 8 + 1 + 32 + 3 * 8;
/// `Market` with its discriminator (`size_of::<Market>() == 840`).
pub const MARKET_SIZE: usize = 848;
/// `BookSide` with its discriminator (`size_of::<BookSide>() == 90 944`).
pub const BOOKSIDE_SIZE: usize = 90_952;
/// `EventHeap` with its discriminator (`size_of::<EventHeap>() == 91 280`).
pub const EVENT_HEAP_SIZE: usize = 91_288;
/// Node slots of a book side's order tree (`MAX_ORDERTREE_NODES`).
pub const MAX_ORDERTREE_NODES: usize = 1024;
/// Event slots of the heap (`MAX_NUM_EVENTS`).
pub const MAX_NUM_EVENTS: usize = 600;
/// Fees are in units of 10⁻⁶ (`FEES_SCALE_FACTOR`).
pub const FEES_SCALE_FACTOR: i128 = 1_000_000;
/// Invalid orders a take removes at most, each with an `OutEvent`
/// (`DROP_EXPIRED_ORDER_LIMIT`).
pub const DROP_EXPIRED_ORDER_LIMIT: u32 = 5;
/// The `limit` (orders matched at most) of the takes the engine quotes and the live
/// executor sends: a choice of ours (compute units), not the program's.
pub const TAKE_LIMIT: u8 = 50;
/// The node tags (`NodeTag`).
pub const TAG_INNER: u8 = 1;
pub const TAG_LEAF: u8 = 2;
/// Role numbers in [`Venue::OWN_ROLES`].
pub const BIDS: u8 = 0;
pub const ASKS: u8 = 1;
pub const EVENT_HEAP: u8 = 2;
pub const CLOCK: u8 = 3;

const NODE_SIZE: usize = 88;
/// Offset of the first node slot in a `BookSide` account (discriminator, 6 roots, 256
/// reserved, the `OrderTreeNodes` header and its 512 reserved bytes).
const NODES_AT: usize = 8 + 48 + 256 + 16 + 512;
const EVENT_NODE_SIZE: usize = 8 + 144;
const EVENTS_AT: usize = 8 + 16;

// ------------------------------------------------------------------ Market

/// The decoded `Market` (fields as `engine_rs.decoded.OpenBookMarket`; the
/// `NonZeroPubkeyOption` keys are `None` when zero).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenBookMarket {
    pub bump: u8,
    pub base_decimals: u8,
    pub quote_decimals: u8,
    pub market_authority: Key,
    pub time_expiry: i64,
    pub collect_fee_admin: Key,
    pub open_orders_admin: Option<Key>,
    pub consume_events_admin: Option<Key>,
    pub close_market_admin: Option<Key>,
    /// The name without its zero padding (invalid UTF-8 replaced).
    pub name: String,
    pub bids: Key,
    pub asks: Key,
    pub event_heap: Key,
    pub oracle_a: Option<Key>,
    pub oracle_b: Option<Key>,
    pub conf_filter: f64,
    pub max_staleness_slots: i64,
    pub quote_lot_size: i64,
    pub base_lot_size: i64,
    pub seq_num: u64,
    pub registration_time: i64,
    pub maker_fee: i64,
    pub taker_fee: i64,
    pub fees_accrued: u128,
    pub fees_to_referrers: u128,
    pub referrer_rebates_accrued: u64,
    pub fees_available: u64,
    pub maker_volume: u128,
    pub taker_volume_wo_oo: u128,
    pub base_mint: Key,
    pub quote_mint: Key,
    pub market_base_vault: Key,
    pub base_deposit_total: u64,
    pub market_quote_vault: Key,
    pub quote_deposit_total: u64,
}

fn i64_at(r: &R<'_>, off: usize) -> Result<i64> {
    Ok(i64::from_le_bytes(r.bytes(off)?))
}

fn nonzero_key(r: &R<'_>, off: usize) -> Result<Option<Key>> {
    let k = r.key(off)?;
    Ok(if k == [0u8; 32] { None } else { Some(k) })
}

/// The name bytes without leading or trailing zeros, as text (`Market::name` trims
/// `\0` both ends; bytes that are not UTF-8 are replaced rather than refused).
fn name_text(raw: &[u8]) -> String {
    let start = raw.iter().position(|&b| b != 0).unwrap_or(raw.len());
    let end = raw.iter().rposition(|&b| b != 0).map_or(start, |i| i + 1);
    String::from_utf8_lossy(&raw[start..end]).into_owned()
}

/// OpenBook v2 `Market`.
pub fn decode_openbook_market(data: &[u8], owner: Option<&Key>) -> Result<OpenBookMarket> {
    let r = Layout("Market", MARKET_SIZE, &[DISC_MARKET], &[&PROGRAM]).check(data, owner)?;
    Ok(OpenBookMarket {
        bump: r.u8(8)?,
        base_decimals: r.u8(9)?,
        quote_decimals: r.u8(10)?,
        market_authority: r.key(16)?,
        time_expiry: i64_at(&r, 48)?,
        collect_fee_admin: r.key(56)?,
        open_orders_admin: nonzero_key(&r, 88)?,
        consume_events_admin: nonzero_key(&r, 120)?,
        close_market_admin: nonzero_key(&r, 152)?,
        name: name_text(&r.bytes::<16>(184)?),
        bids: r.key(200)?,
        asks: r.key(232)?,
        event_heap: r.key(264)?,
        oracle_a: nonzero_key(&r, 296)?,
        oracle_b: nonzero_key(&r, 328)?,
        conf_filter: f64::from_le_bytes(r.bytes(360)?),
        max_staleness_slots: i64_at(&r, 368)?,
        quote_lot_size: i64_at(&r, 448)?,
        base_lot_size: i64_at(&r, 456)?,
        seq_num: r.u64(464)?,
        registration_time: i64_at(&r, 472)?,
        maker_fee: i64_at(&r, 480)?,
        taker_fee: i64_at(&r, 488)?,
        fees_accrued: r.u128(496)?,
        fees_to_referrers: r.u128(512)?,
        referrer_rebates_accrued: r.u64(528)?,
        fees_available: r.u64(536)?,
        maker_volume: r.u128(544)?,
        taker_volume_wo_oo: r.u128(560)?,
        base_mint: r.key(576)?,
        quote_mint: r.key(608)?,
        market_base_vault: r.key(640)?,
        base_deposit_total: r.u64(672)?,
        market_quote_vault: r.key(680)?,
        quote_deposit_total: r.u64(712)?,
    })
}

decoded_by!(OpenBookMarket, decode_openbook_market);

// ------------------------------------------------------------------ BookSide

/// Which side of the book (`OrderTreeType`: 0 bids, 1 asks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Bid,
    Ask,
}

impl Side {
    /// `Side::is_price_better`: a bid is better higher, an ask lower.
    #[inline]
    pub fn is_price_better(self, lhs: i64, rhs: i64) -> bool {
        match self {
            Side::Bid => lhs > rhs,
            Side::Ask => lhs < rhs,
        }
    }

    /// `Side::is_price_within_limit` of a taker order on this side.
    #[inline]
    pub fn is_price_within_limit(self, price: i64, limit: i64) -> bool {
        match self {
            Side::Bid => price <= limit,
            Side::Ask => price >= limit,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Side::Bid => "bid",
            Side::Ask => "ask",
        }
    }
}

/// One order: a leaf node of the tree (fields as `engine_rs.decoded.OpenBookOrder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaf {
    /// Its node slot.
    pub handle: u32,
    /// In the oracle-pegged tree (its price data is an offset from the oracle price).
    pub oracle_pegged: bool,
    pub owner_slot: u8,
    pub time_in_force: u16,
    /// `price_data << 64 | seq_num` (a bid's seq num inverted: `!seq_num`).
    pub key: u128,
    pub owner: Key,
    /// Base lots, >= 1.
    pub quantity: i64,
    pub timestamp: u64,
    /// -1: none.
    pub peg_limit: i64,
    pub client_order_id: u64,
}

impl Leaf {
    /// The top 64 bits of the key.
    #[inline]
    pub fn price_data(&self) -> u64 {
        (self.key >> 64) as u64
    }

    /// A fixed order's price in lots; an oracle-pegged order's offset in lots
    /// (`oracle_pegged_price_offset`).
    #[inline]
    pub fn price_lots(&self) -> i64 {
        let d = self.price_data();
        if self.oracle_pegged {
            d.wrapping_sub(1u64 << 63) as i64
        } else {
            d as i64
        }
    }

    /// The order sequence number (the low 64 bits, un-inverted for a bid).
    #[inline]
    pub fn seq_num(&self, side: Side) -> u64 {
        let low = self.key as u64;
        match side {
            Side::Bid => !low,
            Side::Ask => low,
        }
    }

    /// `LeafNode::is_expired` (the sum saturates where the program's would overflow).
    #[inline]
    pub fn is_expired(&self, now: u64) -> bool {
        self.time_in_force > 0
            && now >= self.timestamp.saturating_add(u64::from(self.time_in_force))
    }
}

/// The decoded `BookSide` (fields as `engine_rs.decoded.OpenBookBookSide`): each tree's
/// orders in the program's iteration order (best first).
#[derive(Debug, Clone, PartialEq)]
pub struct BookSide {
    pub side: Side,
    /// (maybe_node, leaf_count) of the fixed and the oracle-pegged tree.
    pub roots: [(u32, u32); 2],
    pub bump_index: u32,
    pub free_list_len: u32,
    pub free_list_head: u32,
    pub fixed: Vec<Leaf>,
    pub pegged: Vec<Leaf>,
}

fn node_at(data: &[u8], handle: u32) -> Result<&[u8]> {
    let h = handle as usize;
    if h >= MAX_ORDERTREE_NODES {
        return Err(err(format!(
            "BookSide: node handle {handle} is not below {MAX_ORDERTREE_NODES}"
        )));
    }
    let at = NODES_AT + h * NODE_SIZE;
    data.get(at..at + NODE_SIZE)
        .ok_or_else(|| EngineError::AccountTooShort(format!("BookSide: no node {handle}")))
}

fn le_u32(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

fn le_u128(b: &[u8], off: usize) -> u128 {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[off..off + 16]);
    u128::from_le_bytes(a)
}

fn leaf_of(node: &[u8], handle: u32, pegged: bool) -> Result<Leaf> {
    let mut owner = [0u8; 32];
    owner.copy_from_slice(&node[24..56]);
    let leaf = Leaf {
        handle,
        oracle_pegged: pegged,
        owner_slot: node[1],
        time_in_force: u16::from_le_bytes([node[2], node[3]]),
        key: le_u128(node, 8),
        owner,
        quantity: le_u64(node, 56) as i64,
        timestamp: le_u64(node, 64),
        peg_limit: le_u64(node, 72) as i64,
        client_order_id: le_u64(node, 80),
    };
    if leaf.quantity < 1 {
        return Err(err(format!(
            "BookSide: order in node {handle} has quantity {}",
            leaf.quantity
        )));
    }
    if !pegged && (leaf.price_data() == 0 || leaf.price_data() > i64::MAX as u64) {
        return Err(err(format!(
            "BookSide: fixed order in node {handle} has price data {}",
            leaf.price_data()
        )));
    }
    Ok(leaf)
}

/// One tree's leaves best first (`OrderTreeIter`: bids high to low, asks low to high),
/// in at most [`MAX_ORDERTREE_NODES`] steps (a corrupt tree with a cycle is an error).
fn walk_tree(
    data: &[u8],
    side: Side,
    root: (u32, u32),
    pegged: bool,
    out: &mut Vec<Leaf>,
) -> Result<()> {
    let (node, leaf_count) = root;
    if leaf_count == 0 {
        return Ok(());
    }
    let (left, right) = match side {
        Side::Bid => (1usize, 0usize),
        Side::Ask => (0, 1),
    };
    let start = out.len();
    let mut stack: Vec<u32> = Vec::with_capacity(64);
    stack.push(node);
    let mut steps = 0usize;
    while let Some(h) = stack.pop() {
        steps += 1;
        if steps > MAX_ORDERTREE_NODES {
            return Err(err(format!(
                "BookSide: the {} tree has more than {MAX_ORDERTREE_NODES} nodes (a cycle)",
                if pegged { "oracle-pegged" } else { "fixed" }
            )));
        }
        let n = node_at(data, h)?;
        match n[0] {
            TAG_INNER => {
                let children = [le_u32(n, 24), le_u32(n, 28)];
                stack.push(children[right]);
                stack.push(children[left]);
            }
            TAG_LEAF => out.push(leaf_of(n, h, pegged)?),
            t => {
                return Err(err(format!(
                    "BookSide: node {h} in the tree has tag {t}, not inner or leaf"
                )))
            }
        }
    }
    let found = out.len() - start;
    if found != leaf_count as usize {
        return Err(err(format!(
            "BookSide: the {} tree holds {found} orders, its root says {leaf_count}",
            if pegged { "oracle-pegged" } else { "fixed" }
        )));
    }
    Ok(())
}

/// OpenBook v2 `BookSide`: its header and both trees' orders best first.
pub fn decode_openbook_bookside(data: &[u8], owner: Option<&Key>) -> Result<BookSide> {
    let r = Layout("BookSide", BOOKSIDE_SIZE, &[DISC_BOOKSIDE], &[&PROGRAM]).check(data, owner)?;
    let side = match r.u8(312)? {
        0 => Side::Bid,
        1 => Side::Ask,
        t => return Err(err(format!("BookSide: order tree type {t} is not 0 or 1"))),
    };
    let roots = [(r.u32(8)?, r.u32(12)?), (r.u32(16)?, r.u32(20)?)];
    let mut fixed = Vec::with_capacity(roots[0].1.min(1024) as usize);
    walk_tree(data, side, roots[0], false, &mut fixed)?;
    let mut pegged = Vec::new();
    walk_tree(data, side, roots[1], true, &mut pegged)?;
    Ok(BookSide {
        side,
        roots,
        bump_index: r.u32(316)?,
        free_list_len: r.u32(320)?,
        free_list_head: r.u32(324)?,
        fixed,
        pegged,
    })
}

// ------------------------------------------------------------------ EventHeap

/// One event of the heap (fields as `engine_rs.decoded.OpenBookFillEvent` /
/// `OpenBookOutEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeapEvent {
    Fill {
        slot: u16,
        taker_side: u8,
        maker_out: u8,
        maker_slot: u8,
        timestamp: u64,
        market_seq_num: u64,
        maker: Key,
        maker_timestamp: u64,
        taker: Key,
        taker_client_order_id: u64,
        price: i64,
        peg_limit: i64,
        quantity: i64,
        maker_client_order_id: u64,
    },
    Out {
        slot: u16,
        side: u8,
        owner_slot: u8,
        timestamp: u64,
        seq_num: u64,
        owner: Key,
        quantity: i64,
    },
}

/// The decoded `EventHeap`: its header and the used events in order (from `used_head`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHeap {
    pub free_head: u16,
    pub used_head: u16,
    pub count: u16,
    pub seq_num: u64,
    pub events: Vec<HeapEvent>,
}

fn key_of(b: &[u8], off: usize) -> Key {
    let mut k = [0u8; 32];
    k.copy_from_slice(&b[off..off + 32]);
    k
}

/// OpenBook v2 `EventHeap`: the header and the `count` events of the used list.
pub fn decode_openbook_event_heap(data: &[u8], owner: Option<&Key>) -> Result<EventHeap> {
    let r = Layout(
        "EventHeap",
        EVENT_HEAP_SIZE,
        &[DISC_EVENT_HEAP],
        &[&PROGRAM],
    )
    .check(data, owner)?;
    let (free_head, used_head, count) = (r.u16(8)?, r.u16(10)?, r.u16(12)?);
    if count as usize > MAX_NUM_EVENTS {
        return Err(err(format!(
            "EventHeap: count {count} is above {MAX_NUM_EVENTS}"
        )));
    }
    let mut events = Vec::with_capacity(count as usize);
    let mut slot = used_head;
    for _ in 0..count {
        if slot as usize >= MAX_NUM_EVENTS {
            return Err(err(format!(
                "EventHeap: used slot {slot} is not below {MAX_NUM_EVENTS}"
            )));
        }
        let at = EVENTS_AT + slot as usize * EVENT_NODE_SIZE;
        let node = data
            .get(at..at + EVENT_NODE_SIZE)
            .ok_or_else(|| EngineError::AccountTooShort(format!("EventHeap: no slot {slot}")))?;
        let next = u16::from_le_bytes([node[0], node[1]]);
        let e = &node[8..];
        events.push(match e[0] {
            0 => HeapEvent::Fill {
                slot,
                taker_side: e[1],
                maker_out: e[2],
                maker_slot: e[3],
                timestamp: le_u64(e, 8),
                market_seq_num: le_u64(e, 16),
                maker: key_of(e, 24),
                maker_timestamp: le_u64(e, 56),
                taker: key_of(e, 64),
                taker_client_order_id: le_u64(e, 96),
                price: le_u64(e, 104) as i64,
                peg_limit: le_u64(e, 112) as i64,
                quantity: le_u64(e, 120) as i64,
                maker_client_order_id: le_u64(e, 128),
            },
            1 => HeapEvent::Out {
                slot,
                side: e[1],
                owner_slot: e[2],
                timestamp: le_u64(e, 8),
                seq_num: le_u64(e, 16),
                owner: key_of(e, 24),
                quantity: le_u64(e, 56) as i64,
            },
            t => {
                return Err(err(format!(
                    "EventHeap: event in slot {slot} has type {t}, not fill (0) or out (1)"
                )))
            }
        });
        slot = next;
    }
    Ok(EventHeap {
        free_head,
        used_head,
        count,
        seq_num: r.u64(16)?,
        events,
    })
}

// ------------------------------------------------------------------ the book

/// One order as a take meets it: its price in lots, its quantity in base lots, and
/// whether the program matches it (`false`: expired or past its peg limit, skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub price_lots: i64,
    pub quantity: i64,
    pub valid: bool,
}

/// `oracle_pegged_price`: (state, price) with state 0 valid, 1 invalid, 2 skipped.
fn pegged_price(oracle: i64, leaf: &Leaf, side: Side) -> (u8, i64) {
    let price = oracle.saturating_add(leaf.price_lots());
    if (1..i64::MAX).contains(&price) {
        if leaf.peg_limit != -1 && side.is_price_better(price, leaf.peg_limit) {
            (1, price)
        } else {
            (0, price)
        }
    } else {
        (2, price.max(1))
    }
}

/// A book side's orders as the program iterates them (`BookSideIter`): both trees merged
/// by `rank_orders` at `now` and the oracle price, invalid orders included and marked;
/// without an oracle price the pegged tree is not seen.
pub fn side_orders(bs: &BookSide, now: u64, oracle_price_lots: Option<i64>) -> Vec<Order> {
    let side = bs.side;
    let mut out = Vec::with_capacity(bs.fixed.len() + bs.pegged.len());
    let (mut fi, mut oi) = (0usize, 0usize);
    loop {
        let o_peek = match oracle_price_lots {
            Some(oracle) => {
                while oi < bs.pegged.len() && pegged_price(oracle, &bs.pegged[oi], side).0 == 2 {
                    oi += 1;
                }
                bs.pegged
                    .get(oi)
                    .map(|l| (l, pegged_price(oracle, l, side)))
            }
            None => None,
        };
        let f_peek = bs.fixed.get(fi);
        let take_fixed = match (f_peek, o_peek) {
            (Some(f), Some((o, (_, price)))) => {
                let ok = (u128::from(price as u64) << 64) | u128::from(o.key as u64);
                match side {
                    Side::Bid => f.key > ok,
                    Side::Ask => f.key < ok,
                }
            }
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_fixed {
            if let Some(f) = f_peek {
                out.push(Order {
                    price_lots: f.price_data() as i64,
                    quantity: f.quantity,
                    valid: !f.is_expired(now),
                });
            }
            fi += 1;
        } else {
            if let Some((o, (state, price))) = o_peek {
                out.push(Order {
                    price_lots: price,
                    quantity: o.quantity,
                    valid: state == 0 && !o.is_expired(now),
                });
            }
            oi += 1;
        }
    }
    out
}

/// What the ladder and the take need of a market.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lots {
    pub base_lot_size: i64,
    pub quote_lot_size: i64,
    pub maker_fee: i64,
    pub taker_fee: i64,
    pub base_decimals: u8,
    pub quote_decimals: u8,
}

impl Lots {
    /// The market's lot sizes and fees, checked as `create_market` checks them
    /// (`InvalidInputLots`, `InvalidInputMarketFees`).
    pub fn of(m: &OpenBookMarket) -> Result<Self> {
        Self::checked(
            m.base_lot_size,
            m.quote_lot_size,
            m.maker_fee,
            m.taker_fee,
            m.base_decimals,
            m.quote_decimals,
        )
    }

    pub fn checked(
        base_lot_size: i64,
        quote_lot_size: i64,
        maker_fee: i64,
        taker_fee: i64,
        base_decimals: u8,
        quote_decimals: u8,
    ) -> Result<Self> {
        if base_lot_size <= 0 || quote_lot_size <= 0 {
            return Err(EngineError::InvalidInput(format!(
                "InvalidInputLots: lot sizes base {base_lot_size} quote {quote_lot_size} must be positive"
            )));
        }
        let scale = FEES_SCALE_FACTOR as u128;
        if u128::from(maker_fee.unsigned_abs()) > scale
            || u128::from(taker_fee.unsigned_abs()) > scale
            || !(taker_fee >= 0 && (maker_fee >= 0 || maker_fee.unsigned_abs() <= taker_fee as u64))
        {
            return Err(EngineError::InvalidInput(format!(
                "InvalidInputMarketFees: maker fee {maker_fee}, taker fee {taker_fee}"
            )));
        }
        Ok(Self {
            base_lot_size,
            quote_lot_size,
            maker_fee,
            taker_fee,
            base_decimals,
            quote_decimals,
        })
    }

    /// `Market::max_base_lots` / `max_quote_lots`.
    #[inline]
    pub fn max_base_lots(&self) -> i64 {
        i64::MAX / self.base_lot_size
    }
    #[inline]
    pub fn max_quote_lots(&self) -> i64 {
        i64::MAX / self.quote_lot_size
    }

    /// `Market::subtract_taker_fees`.
    #[inline]
    pub fn subtract_taker_fees(&self, quote: i64) -> i64 {
        (i128::from(quote) * FEES_SCALE_FACTOR / (FEES_SCALE_FACTOR + i128::from(self.taker_fee)))
            as i64
    }

    /// `Market::taker_fees_ceil`.
    #[inline]
    pub fn taker_fees_ceil(&self, amount: u64) -> u64 {
        ((i128::from(amount) * i128::from(self.taker_fee) + (FEES_SCALE_FACTOR - 1))
            / FEES_SCALE_FACTOR) as u64
    }

    /// `Market::maker_rebate_floor`.
    #[inline]
    pub fn maker_rebate_floor(&self, amount: u64) -> u64 {
        if self.maker_fee > 0 {
            0
        } else {
            (i128::from(amount) * i128::from(self.maker_fee.unsigned_abs()) / FEES_SCALE_FACTOR)
                as u64
        }
    }

    /// A price in lots as quote UI units per base UI unit.
    pub fn price_ui(&self, price_lots: i64) -> f64 {
        let native = price_lots as f64 * self.quote_lot_size as f64 / self.base_lot_size as f64;
        scale10(
            native,
            i32::from(self.base_decimals) - i32::from(self.quote_decimals),
        )
    }

    /// Base lots as base UI units.
    pub fn size_ui(&self, lots: i128) -> f64 {
        scale10(
            lots as f64 * self.base_lot_size as f64,
            -i32::from(self.base_decimals),
        )
    }
}

/// Up to `depth` levels of one side: its valid orders summed by price as they come
/// (best first), as the TypeScript client's `getL2` sums them.
pub fn levels(orders: &[Order], lots: &Lots, depth: usize) -> Vec<Level> {
    let valid = orders.iter().filter(|o| o.valid);
    book::levels(
        valid.map(|o| (o.price_lots, o.price_lots, i128::from(o.quantity))),
        depth,
        |price_lots, size_lots| (lots.price_ui(price_lots), lots.size_ui(size_lots)),
    )
}

/// The ladder of a book's two sides (orders best first, as [`side_orders`] gives them).
pub fn ladder(bids: &[Order], asks: &[Order], lots: &Lots, depth: usize) -> Ladder {
    Ladder::of(levels(bids, lots, depth), levels(asks, lots, depth))
}

/// `openbook_ladder`: decode the market and both sides, check the sides are the
/// market's kinds, and aggregate `depth` levels a side at `now`.
pub fn openbook_ladder(
    market: &[u8],
    bids: &[u8],
    asks: &[u8],
    now: u64,
    depth: usize,
    oracle_price_lots: Option<i64>,
) -> Result<Ladder> {
    let m = decode_openbook_market(market, None)?;
    let lots = Lots::of(&m)?;
    let b = decode_openbook_bookside(bids, None)?;
    let a = decode_openbook_bookside(asks, None)?;
    check_sides(&b, &a)?;
    Ok(ladder(
        &side_orders(&b, now, oracle_price_lots),
        &side_orders(&a, now, oracle_price_lots),
        &lots,
        depth,
    ))
}

fn check_sides(bids: &BookSide, asks: &BookSide) -> Result<()> {
    if bids.side != Side::Bid || asks.side != Side::Ask {
        return Err(EngineError::InvalidInput(format!(
            "the bids account holds {}s and the asks account {}s",
            bids.side.name(),
            asks.side.name()
        )));
    }
    Ok(())
}

// ------------------------------------------------------------------ the take

/// A book ready to be taken from: what the graph holds and sizing walks (the venue's
/// quote state).
#[derive(Debug, Clone, PartialEq)]
pub struct BookState {
    pub lots: Lots,
    /// Orders best first, invalid ones included (skipped by a take, not by the count of
    /// dropped orders).
    pub bids: Arc<[Order]>,
    pub asks: Arc<[Order]>,
    /// Free event slots of the heap (`MAX_NUM_EVENTS − count`).
    pub heap_free: u32,
    /// The market is past its `time_expiry` at `now`.
    pub expired: bool,
    /// The pegged orders need an oracle price the state does not have.
    pub needs_oracle: bool,
    /// The clock the orders were judged at.
    pub now: u64,
}

/// The arguments of the `place_take_order` a take of `amount` sends (a `Market` order):
/// (taker side, max_base_lots, max_quote_lots_including_fees).
pub fn take_args(lots: &Lots, amount: u64, a_to_b: bool) -> (Side, i64, i64) {
    if a_to_b {
        let base = (amount / lots.base_lot_size as u64).min(lots.max_base_lots() as u64) as i64;
        (Side::Ask, base, lots.max_quote_lots())
    } else {
        let quote = (amount / lots.quote_lot_size as u64).min(lots.max_quote_lots() as u64) as i64;
        (Side::Bid, lots.max_base_lots(), quote)
    }
}

/// The exact result of a take (fields as `engine_rs.records.OpenBookFill`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    /// What the taker's transfers move: paid in (base for a sell, quote with the
    /// rebates for a buy) and received.
    pub amount_in: u64,
    pub amount_out: u64,
    pub base_lots: i64,
    pub quote_lots: i64,
    /// `taker_fees_ceil` of the quote taken (the program's number; the taker's
    /// transfer carries only `maker_rebates` of it).
    pub taker_fee: u64,
    pub maker_rebates: u64,
    /// Orders matched, and events pushed to the heap (fills and outs).
    pub orders: u32,
    pub events: u32,
    /// The price of the last order matched (0: none).
    pub last_price_lots: i64,
    /// The whole order was filled: a sell sold every lot; a buy stopped because its
    /// budget bought no more (not because the book or the limit ran out).
    pub complete: bool,
    /// The program would fail: the market has expired, or the heap has no room.
    pub refused: bool,
}

/// The exact `place_take_order` of `amount` (base to sell when `a_to_b`, else quote to
/// spend) on `book`, matching at most `limit` orders, at `price_lots` or better (a
/// `Market` order without one).
pub fn take(
    book: &BookState,
    amount: u64,
    a_to_b: bool,
    limit: u8,
    price_lots: Option<i64>,
) -> Fill {
    let lots = &book.lots;
    let (side, max_base_lots, max_quote_incl) = take_args(lots, amount, a_to_b);
    let limit_price = price_lots.unwrap_or(match side {
        Side::Bid => i64::MAX,
        Side::Ask => 1,
    });
    let orders: &[Order] = match side {
        Side::Bid => &book.asks,
        Side::Ask => &book.bids,
    };
    let max_quote = match side {
        Side::Bid => lots.subtract_taker_fees(max_quote_incl),
        Side::Ask => max_quote_incl,
    };
    let (mut rem_base, mut rem_quote) = (max_base_lots, max_quote);
    let mut rebates = 0u64;
    let (mut dropped, mut matched) = (0u32, 0u32);
    let mut limit = limit;
    let mut last_price = 0i64;
    // why the walk stopped: true when the order's own amounts (not the book, not the
    // limit) stopped it
    let mut budget_stop = false;
    for o in orders {
        if rem_base == 0 || rem_quote == 0 {
            budget_stop = true;
            break;
        }
        if !o.valid {
            if dropped < DROP_EXPIRED_ORDER_LIMIT {
                dropped += 1;
            }
            continue;
        }
        let price = o.price_lots;
        if !side.is_price_within_limit(price, limit_price) || limit == 0 {
            break;
        }
        let by_quote = rem_quote / price;
        if by_quote == 0 {
            budget_stop = true;
            break;
        }
        let base = rem_base.min(o.quantity).min(by_quote);
        let quote = base * price;
        rebates += lots.maker_rebate_floor((quote * lots.quote_lot_size) as u64);
        rem_base -= base;
        rem_quote -= quote;
        matched += 1;
        last_price = price;
        limit -= 1;
    }
    // the walk ran out of orders (or hit the limit) with less left than one lot at the
    // last price: the budget buys no more at any price the walk could still reach
    if !budget_stop && (rem_base == 0 || rem_quote == 0 || rem_quote < last_price) {
        budget_stop = true;
    }
    let base_lots = max_base_lots - rem_base;
    let quote_lots = max_quote - rem_quote;
    let base_native = (base_lots * lots.base_lot_size) as u64;
    let quote_native = (quote_lots * lots.quote_lot_size) as u64;
    let (taker_fee, rebates) = if quote_native > 0 {
        (lots.taker_fees_ceil(quote_native), rebates)
    } else {
        (0, 0)
    };
    let (amount_in, amount_out, complete) = match side {
        Side::Bid => (quote_native + rebates, base_native, budget_stop),
        Side::Ask => (base_native, quote_native - rebates, rem_base == 0),
    };
    let events = matched + dropped;
    Fill {
        amount_in,
        amount_out,
        base_lots,
        quote_lots,
        taker_fee,
        maker_rebates: rebates,
        orders: matched,
        events,
        last_price_lots: last_price,
        complete,
        refused: book.expired || events > book.heap_free,
    }
}

impl BookState {
    /// The book of a market and its two sides at `now` (and the oracle price, if any),
    /// with `heap_count` events on its heap.
    pub fn new(
        m: &OpenBookMarket,
        bids: &BookSide,
        asks: &BookSide,
        heap_count: u16,
        now: u64,
        oracle_price_lots: Option<i64>,
    ) -> Result<Self> {
        check_sides(bids, asks)?;
        let lots = Lots::of(m)?;
        let pegged = !bids.pegged.is_empty() || !asks.pegged.is_empty();
        Ok(Self {
            lots,
            bids: side_orders(bids, now, oracle_price_lots).into(),
            asks: side_orders(asks, now, oracle_price_lots).into(),
            heap_free: (MAX_NUM_EVENTS as u32).saturating_sub(u32::from(heap_count)),
            expired: m.time_expiry != 0 && i128::from(m.time_expiry) < i128::from(now),
            needs_oracle: pegged && m.oracle_a.is_some() && oracle_price_lots.is_none(),
            now,
        })
    }

    /// The venue's quote: the output of a complete, accepted take of `amount` that
    /// trades at least one lot (`None` otherwise; `Some(0)` for 0).
    #[inline]
    pub fn take_quote(&self, amount: u64, a_to_b: bool) -> Option<u64> {
        self.take_quote_steps(amount, a_to_b).map(|(out, _)| out)
    }

    /// [`BookState::take_quote`] with the take's steps in the venue's compute-unit model
    /// (`feeds/venues/openbook_v2.py` `COMPUTE_UNITS`): the maker orders it reached, each
    /// fill and each expired order it dropped (its events). 0 reaches none.
    #[inline]
    pub fn take_quote_steps(&self, amount: u64, a_to_b: bool) -> Option<(u64, u32)> {
        if amount == 0 {
            return Some((0, 0));
        }
        let f = take(self, amount, a_to_b, TAKE_LIMIT, None);
        // an input that trades no lot is no swap (the simulator's traders refuse it too)
        (f.complete && !f.refused && f.amount_out > 0).then_some((f.amount_out, f.events))
    }

    /// Whether the best valid bid is at or above the best valid ask (a book the
    /// program would have matched).
    pub fn crossed(&self) -> bool {
        let best = |orders: &[Order]| orders.iter().find(|o| o.valid).map(|o| o.price_lots);
        matches!((best(&self.bids), best(&self.asks)), (Some(b), Some(a)) if b >= a)
    }
}

/// Whether a book assembled from sides of the slots `side_slots` is torn: the slots are
/// known and differ, and the book crosses (see [`Venue::update`] of [`OpenBookV2`]).
pub fn torn(side_slots: [Option<u64>; 2], s: &BookState) -> bool {
    matches!(side_slots, [Some(b), Some(a)] if a != b) && s.crossed()
}

/// What the ingest keeps of a market's own accounts: its two sides and its heap's count.
#[derive(Debug, Default)]
pub struct Book {
    pub bids: Option<Arc<BookSide>>,
    pub asks: Option<Arc<BookSide>>,
    pub heap_count: Option<u16>,
    /// The Clock sysvar's `unix_timestamp`, once it is seen (clamped at 0).
    pub clock: Option<u64>,
    /// The slots of the bids' and the asks' copies (`None`: not known).
    pub side_slots: [Option<u64>; 2],
}

/// The newest time the accounts prove the program saw: the latest order timestamp of
/// either side, or the market's registration.
pub fn book_now(m: &OpenBookMarket, bids: &BookSide, asks: &BookSide) -> u64 {
    let reg = u64::try_from(m.registration_time).unwrap_or(0);
    bids.fixed
        .iter()
        .chain(&bids.pegged)
        .chain(&asks.fixed)
        .chain(&asks.pegged)
        .map(|l| l.timestamp)
        .fold(reg, u64::max)
}

/// The `TotalOrderFillEvent` of a take (fields as
/// `engine_rs.decoded.OpenBookTotalOrderFillEvent`): the taker's side (0 bid, 1 ask) and
/// what `new_order` computed it paid and received and its taker fee, native units (a
/// bid's `paid` includes the whole taker fee; `place_take_order`'s transfers carry only
/// the makers' rebates of it, see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalOrderFill {
    pub side: u8,
    pub taker: Key,
    pub total_quantity_paid: u64,
    pub total_quantity_received: u64,
    pub fees: u64,
}

fn parse_total_order_fill(raw: &[u8]) -> Result<TotalOrderFill> {
    let what = "TotalOrderFillEvent";
    let r = R::event(raw, what, TOTAL_ORDER_FILL_EVENT_SIZE, what)?;
    Ok(TotalOrderFill {
        side: r.u8(8)?,
        taker: r.key(9)?,
        total_quantity_paid: r.u64(41)?,
        total_quantity_received: r.u64(49)?,
        fees: r.u64(57)?,
    })
}

impl Curve for BookState {
    /// [`BookState::take_quote`]; no number while an oracle-pegged order waits for its
    /// oracle.
    fn quote_checked(&self, amount: u64, a_to_b: bool) -> std::result::Result<u64, NoQuote> {
        if self.needs_oracle {
            return Err(NoQuote::TicksMissing);
        }
        self.take_quote(amount, a_to_b).ok_or(NoQuote::Unfillable)
    }

    fn quote_steps(&self, amount: u64, a_to_b: bool) -> std::result::Result<(u64, u32), NoQuote> {
        if self.needs_oracle {
            return Err(NoQuote::TicksMissing);
        }
        self.take_quote_steps(amount, a_to_b)
            .ok_or(NoQuote::Unfillable)
    }

    /// Output per input at zero size: a sell gets the best bid less the makers' rebate;
    /// a buy spends its budget less the taker fee at the best ask (native units; the
    /// smallest positive f64 for an empty side: an edge no cycle takes).
    fn spot_rate(&self, a_to_b: bool) -> f64 {
        let l = &self.lots;
        let orders: &[Order] = if a_to_b { &self.bids } else { &self.asks };
        let Some(best) = orders.iter().find(|o| o.valid) else {
            // no order to take: the smallest positive rate (the graph's edges need one)
            return f64::MIN_POSITIVE;
        };
        let price = best.price_lots as f64 * l.quote_lot_size as f64 / l.base_lot_size as f64;
        let scale = FEES_SCALE_FACTOR as f64;
        if a_to_b {
            let rebate = if l.maker_fee > 0 {
                0.0
            } else {
                l.maker_fee.unsigned_abs() as f64
            };
            price * ((scale - rebate) / scale)
        } else {
            (1.0 / price) * (scale / (scale + l.taker_fee as f64))
        }
    }

    fn ladder(&self, depth: usize) -> Option<Ladder> {
        Some(ladder(&self.bids, &self.asks, &self.lots, depth))
    }
}

/// The OpenBook v2 venue.
pub struct OpenBookV2;

impl Venue for OpenBookV2 {
    venue_items! {
        info "openbook_v2", "openbook", "ob", "book", [PROGRAM_ID], MARKET_SIZE;
        types OpenBookMarket, Book, BookState, TotalOrderFill;
        // everything fixed at `create_market`: accounts, mints, vaults, oracles, lot
        // sizes, decimals, fees
        identity bump, base_decimals, quote_decimals, market_authority, bids, asks, event_heap,
            oracle_a, oracle_b, base_lot_size, quote_lot_size, maker_fee, taker_fee, base_mint,
            quote_mint, market_base_vault, market_quote_vault;
        mints base_mint, quote_mint;
        vaults market_base_vault, market_quote_vault;
    }
    const OWN_ROLES: &'static [OwnRole] = &[
        OwnRole::named("bids"),
        OwnRole::named("asks"),
        OwnRole::named("event_heap"),
        OwnRole::named("clock"),
    ];

    fn followed(r: &OpenBookMarket, out: &mut Vec<(u8, Key)>) {
        out.push((BIDS, r.bids));
        out.push((ASKS, r.asks));
        out.push((EVENT_HEAP, r.event_heap));
        out.push((CLOCK, SYSVAR_CLOCK));
    }

    fn own_account(own: &mut Book, role: u8, cx: &OwnAccount<'_>) -> Result<()> {
        match role {
            BIDS | ASKS => {
                let side = decode_openbook_bookside(cx.data, cx.owner)?;
                let want = if role == BIDS { Side::Bid } else { Side::Ask };
                if side.side != want {
                    return Err(err(format!(
                        "BookSide {}: holds {}s, followed as the market's {}s",
                        cx.pubkey,
                        side.side.name(),
                        want.name()
                    )));
                }
                let held = if role == BIDS {
                    &mut own.bids
                } else {
                    &mut own.asks
                };
                *held = Some(Arc::new(side));
                own.side_slots[usize::from(role != BIDS)] = cx.slot;
            }
            EVENT_HEAP => {
                own.heap_count = Some(heap_count(cx.data, cx.owner)?);
            }
            CLOCK => {
                own.clock = Some(clock_unix_timestamp(cx.data, cx.owner)?);
            }
            _ => return Err(super::no_role(Self::INFO, role)),
        }
        Ok(())
    }

    /// The book without an oracle price, once both sides and the heap are seen (the
    /// vaults are not needed), at the Clock sysvar's time, or at [`book_now`] when that
    /// is later (or the node has not answered the sysvar).
    ///
    /// A torn book is held back: sides of different slots that cross (the best bid at or
    /// above the best ask). The program matches a crossing order as it is placed, so no
    /// book it leaves crosses; two sides that do are one side's copy of a newer slot
    /// and the other's of an older one, the newer copy of which is on its way (a maker
    /// who moves both sides in one transaction: two notifications). The graph keeps the
    /// book it had until the other side's copy comes.
    fn update(own: &mut Self::Own, r: &Self::Record, cx: &mut Assembly) -> Updated<Self::State> {
        let (Some(bids), Some(asks), Some(count)) = (&own.bids, &own.asks, own.heap_count) else {
            return Ok(None);
        };
        let now = book_now(r, bids, asks).max(own.clock.unwrap_or(0));
        let state = BookState::new(r, bids, asks, count, now, None)?;
        let slot = cx.slot()?;
        cx.check_ids()?;
        if torn(own.side_slots, &state) {
            return Ok(None);
        }
        Ok(Some((state, slot)))
    }

    fn parse_event(raw: &[u8]) -> Option<Result<TotalOrderFill>> {
        match raw.get(..8) {
            Some(d) if d == DISC_TOTAL_ORDER_FILL_EVENT => Some(parse_total_order_fill(raw)),
            _ => None,
        }
    }
}

/// The heap's event count (all a take needs of it): the decoder's account checks and its
/// count check, without reading the events.
pub fn heap_count(data: &[u8], owner: Option<&Key>) -> Result<u16> {
    let r = Layout(
        "EventHeap",
        EVENT_HEAP_SIZE,
        &[DISC_EVENT_HEAP],
        &[&PROGRAM],
    )
    .check(data, owner)?;
    let count = r.u16(12)?;
    if count as usize > MAX_NUM_EVENTS {
        return Err(err(format!(
            "EventHeap: count {count} is above {MAX_NUM_EVENTS}"
        )));
    }
    Ok(count)
}

#[cfg(test)]
mod tests;

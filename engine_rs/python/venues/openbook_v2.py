"""OpenBook v2, a central limit order book (twin of ``crates/core/src/venues/openbook_v2/``):
the ``Market``, ``BookSide`` and ``EventHeap`` accounts, the L2 ladder of a book and the
exact fill of a ``place_take_order`` walking it.

Sources: ``openbook-dex/openbook-v2`` v0.2.10 (``programs/openbook-v2/src/``:
``state/market.rs``, ``state/orderbook/{bookside,ordertree,nodes,bookside_iterator,
ordertree_iterator,heap,book}.rs``, ``instructions/place_take_order.rs``); the Rust
module's docs say what each rule is. Mint a is the base mint, b the quote mint; a -> b
sells base (the taker's ask walks the bids), b -> a buys base with quote (a bid walks the
asks). A take is a ``Market`` order (:func:`take_args`); the taker fee cuts a buy's
budget, but ``place_take_order`` moves only the makers' rebates through the taker's
transfer. Oracle-pegged orders need an oracle price; the graph's state has none (a market
with an oracle and pegged orders then has no honest quote: TicksMissingError). The
state's clock is the newest order timestamp seen (:func:`book_now`).
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass, field

from ...decoded import (
    OpenBookBookSide,
    OpenBookEventHeap,
    OpenBookFillEvent,
    OpenBookMarket,
    OpenBookOrder,
    OpenBookOutEvent,
    OpenBookTotalOrderFillEvent,
)
from ...errors import AccountTooShortError, DecodeError, InvalidInputError, TicksMissingError
from ...records import BookLadder, BookLevel, OpenBookFill, VenueInfo
from .._ints import U64_MAX, i64, u64
from ..b58 import b58encode
from ..decode import SYSVAR_CLOCK, Reader, as_bytes, check, clock_unix_timestamp
from . import base, book
from .base import CLOCK, Assembly, OwnAccount, no_role
from .book import ladder_of as ladder_of
from .book import leg as leg
from .book import pow10
from .book import quote as quote
from .book import quote_checked as quote_checked
from .book import quote_steps as quote_steps
from .book import spot_rate as spot_rate

PROGRAM_ID = "opnb2LAfJYbRMAHHvqjCwQxanZn7ReEHp1k81EohpZb"
DISC_MARKET = bytes([219, 190, 213, 55, 0, 227, 198, 154])
DISC_BOOKSIDE = bytes([72, 44, 225, 141, 178, 130, 97, 57])
DISC_EVENT_HEAP = bytes([119, 59, 61, 19, 165, 84, 57, 175])
DISC_TOTAL_ORDER_FILL_EVENT = bytes([8, 235, 48, 58, 174, 76, 156, 105])
TOTAL_ORDER_FILL_EVENT_SIZE = 8 + 1 + 32 + 3 * 8
DISC_PLACE_TAKE_ORDER = bytes([3, 44, 71, 3, 26, 199, 203, 85])
MARKET_SIZE = 848
BOOKSIDE_SIZE = 90_952
EVENT_HEAP_SIZE = 91_288
MAX_ORDERTREE_NODES = 1024
MAX_NUM_EVENTS = 600
FEES_SCALE_FACTOR = 1_000_000
DROP_EXPIRED_ORDER_LIMIT = 5
TAKE_LIMIT = 50  # orders a take matches at most: our choice (compute units)
TAG_INNER = 1
TAG_LEAF = 2
BIDS = "bids"
ASKS = "asks"
EVENT_HEAP = "event_heap"
I64_MAX = (1 << 63) - 1
DEPTH = 20  # the ladder's default levels a side

_NODE_SIZE = 88
_NODES_AT = 8 + 48 + 256 + 16 + 512
_EVENT_NODE_SIZE = 8 + 144
_EVENTS_AT = 8 + 16
_ZERO_KEY = "11111111111111111111111111111111"

ARRAYS: str | None = None
OWN_ROLES = base.own_roles(ARRAYS, BIDS, ASKS, EVENT_HEAP, CLOCK)
INFO = VenueInfo("openbook_v2", "openbook", "ob", "book", (PROGRAM_ID,), MARKET_SIZE, ARRAYS)
LOG_PREFIX: str | None = None


def _s64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


# ------------------------------------------------------------------ Market
def _nonzero_key(r: Reader, off: int) -> str | None:
    k = r.key(off)
    return None if k == _ZERO_KEY else k


def _name(raw: bytes) -> str:
    return raw.strip(b"\0").decode("utf-8", "replace")


def decode_openbook_market(data: bytes, owner: object = None) -> OpenBookMarket:
    """OpenBook v2 ``Market``."""
    r = check(data, "Market", MARKET_SIZE, DISC_MARKET, owner, (PROGRAM_ID,))
    d = r.data

    def s(off: int) -> int:
        return _s64(r.u64(off))

    fields = [
        *r.packed(8, "u8*3 _5 key"),
        s(48),
        r.key(56),
        _nonzero_key(r, 88),
        _nonzero_key(r, 120),
        _nonzero_key(r, 152),
        _name(d[184:200]),
        r.key(200),
        r.key(232),
        r.key(264),
        _nonzero_key(r, 296),
        _nonzero_key(r, 328),
        struct.unpack_from("<d", d, 360)[0],
        s(368),
        s(448),
        s(456),
        r.u64(464),
        s(472),
        s(480),
        s(488),
        *r.packed(496, "u128*2 u64*2 u128*2 key*3 u64 key u64"),
    ]
    return OpenBookMarket(*fields)


decode = decode_openbook_market  # the pool account's decoder


# ------------------------------------------------------------------ BookSide
@dataclass(frozen=True, slots=True)
class Leaf:
    """One order of the tree (the Rust ``Leaf``)."""

    handle: int
    oracle_pegged: bool
    owner_slot: int
    time_in_force: int
    key: int
    owner: str
    quantity: int
    timestamp: int
    peg_limit: int
    client_order_id: int

    def price_data(self) -> int:
        return self.key >> 64

    def price_lots(self) -> int:
        d = self.price_data()
        return _s64((d - (1 << 63)) % (1 << 64)) if self.oracle_pegged else d

    def seq_num(self, bid: bool) -> int:
        low = self.key & U64_MAX
        return U64_MAX ^ low if bid else low

    def is_expired(self, now: int) -> bool:
        return self.time_in_force > 0 and now >= min(self.timestamp + self.time_in_force, U64_MAX)


@dataclass(frozen=True, slots=True)
class BookSide:
    """The decoded side (the Rust ``BookSide``): each tree's orders best first."""

    bid: bool
    roots: tuple[tuple[int, int], tuple[int, int]]
    bump_index: int
    free_list_len: int
    free_list_head: int
    fixed: tuple[Leaf, ...]
    pegged: tuple[Leaf, ...]


def _node(d: bytes, handle: int) -> bytes:
    if handle >= MAX_ORDERTREE_NODES:
        raise DecodeError(f"BookSide: node handle {handle} is not below {MAX_ORDERTREE_NODES}")
    at = _NODES_AT + handle * _NODE_SIZE
    if at + _NODE_SIZE > len(d):
        raise AccountTooShortError(f"BookSide: no node {handle}")
    return d[at : at + _NODE_SIZE]


_LEAF = struct.Struct("<BBH4x16s32sqQqQ")


def _leaf(n: bytes, handle: int, pegged: bool) -> Leaf:
    _tag, slot, tif, key, owner, qty, ts, peg, coid = _LEAF.unpack(n)
    leaf = Leaf(
        handle,
        pegged,
        slot,
        tif,
        int.from_bytes(key, "little"),
        b58encode(owner),
        qty,
        ts,
        peg,
        coid,
    )
    if qty < 1:
        raise DecodeError(f"BookSide: order in node {handle} has quantity {qty}")
    pd = leaf.price_data()
    if not pegged and (pd == 0 or pd > I64_MAX):
        raise DecodeError(f"BookSide: fixed order in node {handle} has price data {pd}")
    return leaf


def _walk(d: bytes, bid: bool, root: tuple[int, int], pegged: bool) -> list[Leaf]:
    node, leaf_count = root
    out: list[Leaf] = []
    if leaf_count == 0:
        return out
    left, right = (1, 0) if bid else (0, 1)
    what = "oracle-pegged" if pegged else "fixed"
    stack = [node]
    steps = 0
    while stack:
        h = stack.pop()
        steps += 1
        if steps > MAX_ORDERTREE_NODES:
            raise DecodeError(
                f"BookSide: the {what} tree has more than {MAX_ORDERTREE_NODES} nodes (a cycle)"
            )
        n = _node(d, h)
        tag = n[0]
        if tag == TAG_INNER:
            children = (int.from_bytes(n[24:28], "little"), int.from_bytes(n[28:32], "little"))
            stack.append(children[right])
            stack.append(children[left])
        elif tag == TAG_LEAF:
            out.append(_leaf(n, h, pegged))
        else:
            raise DecodeError(f"BookSide: node {h} in the tree has tag {tag}, not inner or leaf")
    if len(out) != leaf_count:
        raise DecodeError(
            f"BookSide: the {what} tree holds {len(out)} orders, its root says {leaf_count}"
        )
    return out


def bookside(data: object, owner: object = None) -> BookSide:
    """The decoded side as the engine keeps it."""
    r = check(data, "BookSide", BOOKSIDE_SIZE, DISC_BOOKSIDE, owner, (PROGRAM_ID,))
    d = r.data
    kind = r.u8(312)
    if kind not in (0, 1):
        raise DecodeError(f"BookSide: order tree type {kind} is not 0 or 1")
    bid = kind == 0
    roots = ((r.u32(8), r.u32(12)), (r.u32(16), r.u32(20)))
    fixed = _walk(d, bid, roots[0], False)
    pegged = _walk(d, bid, roots[1], True)
    return BookSide(bid, roots, r.u32(316), r.u32(320), r.u32(324), tuple(fixed), tuple(pegged))


def _order_record(leaf: Leaf, bid: bool) -> OpenBookOrder:
    return OpenBookOrder(
        leaf.handle,
        leaf.oracle_pegged,
        leaf.owner_slot,
        leaf.time_in_force,
        leaf.key,
        leaf.owner,
        leaf.quantity,
        leaf.timestamp,
        leaf.peg_limit,
        leaf.client_order_id,
        leaf.price_lots(),
        leaf.seq_num(bid),
    )


def decode_openbook_bookside(data: bytes, owner: object = None) -> OpenBookBookSide:
    """OpenBook v2 ``BookSide``: its header and both trees' orders best first (the fixed
    tree's, then the oracle-pegged tree's)."""
    b = bookside(data, owner)
    return OpenBookBookSide(
        "bid" if b.bid else "ask",
        b.roots[0][0],
        b.roots[0][1],
        b.roots[1][0],
        b.roots[1][1],
        b.bump_index,
        b.free_list_len,
        b.free_list_head,
        tuple(_order_record(leaf, b.bid) for leaf in b.fixed + b.pegged),
    )


# ------------------------------------------------------------------ EventHeap
_FILL = struct.Struct("<BBBB4xQQ32sQ32sQqqqQ")
_OUT = struct.Struct("<BBB5xQQ32sq")


def decode_openbook_event_heap(data: bytes, owner: object = None) -> OpenBookEventHeap:
    """OpenBook v2 ``EventHeap``: the header and the ``count`` events of the used list."""
    r = check(data, "EventHeap", EVENT_HEAP_SIZE, DISC_EVENT_HEAP, owner, (PROGRAM_ID,))
    d = r.data
    free_head, used_head, count = r.u16(8), r.u16(10), r.u16(12)
    if count > MAX_NUM_EVENTS:
        raise DecodeError(f"EventHeap: count {count} is above {MAX_NUM_EVENTS}")
    events: list[OpenBookFillEvent | OpenBookOutEvent] = []
    slot = used_head
    for _ in range(count):
        if slot >= MAX_NUM_EVENTS:
            raise DecodeError(f"EventHeap: used slot {slot} is not below {MAX_NUM_EVENTS}")
        at = _EVENTS_AT + slot * _EVENT_NODE_SIZE
        nxt = int.from_bytes(d[at : at + 2], "little")
        e = at + 8
        kind = d[e]
        if kind == 0:
            f = _FILL.unpack_from(d, e)
            fill = OpenBookFillEvent(
                slot,
                f[1],
                f[2],
                f[3],
                f[4],
                f[5],
                b58encode(f[6]),
                f[7],
                b58encode(f[8]),
                f[9],
                f[10],
                f[11],
                f[12],
                f[13],
            )
            events.append(fill)
        elif kind == 1:
            o = _OUT.unpack_from(d, e)
            events.append(OpenBookOutEvent(slot, o[1], o[2], o[3], o[4], b58encode(o[5]), o[6]))
        else:
            raise DecodeError(
                f"EventHeap: event in slot {slot} has type {kind}, not fill (0) or out (1)"
            )
        slot = nxt
    return OpenBookEventHeap(free_head, used_head, count, r.u64(16), tuple(events))


def heap_count(data: object, owner: object = None) -> int:
    """The heap's event count (all a take needs of it): the decoder's account checks and
    its count check, without reading the events."""
    r = check(data, "EventHeap", EVENT_HEAP_SIZE, DISC_EVENT_HEAP, owner, (PROGRAM_ID,))
    count = r.u16(12)
    if count > MAX_NUM_EVENTS:
        raise DecodeError(f"EventHeap: count {count} is above {MAX_NUM_EVENTS}")
    return count


# ------------------------------------------------------------------ the book
@dataclass(frozen=True, slots=True)
class Order:
    """One order as a take meets it (``valid`` False: expired or past its peg limit)."""

    price_lots: int
    quantity: int
    valid: bool


def _better(bid: bool, lhs: int, rhs: int) -> bool:
    return lhs > rhs if bid else lhs < rhs


def _pegged_price(oracle: int, leaf: Leaf, bid: bool) -> tuple[int, int]:
    price = max(min(oracle + leaf.price_lots(), I64_MAX), -(1 << 63))
    if 1 <= price < I64_MAX:
        if leaf.peg_limit != -1 and _better(bid, price, leaf.peg_limit):
            return 1, price
        return 0, price
    return 2, max(price, 1)


def side_orders(bs: BookSide, now: int, oracle_price_lots: int | None) -> list[Order]:
    """A side's orders as the program iterates them (both trees merged by
    ``rank_orders``; invalid ones included and marked)."""
    bid = bs.bid
    fixed, pegged = bs.fixed, bs.pegged
    out: list[Order] = []
    fi = oi = 0
    while True:
        o_peek: tuple[Leaf, tuple[int, int]] | None = None
        if oracle_price_lots is not None:
            while oi < len(pegged) and _pegged_price(oracle_price_lots, pegged[oi], bid)[0] == 2:
                oi += 1
            if oi < len(pegged):
                o_peek = (pegged[oi], _pegged_price(oracle_price_lots, pegged[oi], bid))
        f = fixed[fi] if fi < len(fixed) else None
        if f is not None and o_peek is not None:
            o, (_, price) = o_peek
            ok = (price << 64) | (o.key & U64_MAX)
            take_fixed = f.key > ok if bid else f.key < ok
        elif f is not None:
            take_fixed = True
        elif o_peek is not None:
            take_fixed = False
        else:
            break
        if take_fixed:
            assert f is not None
            out.append(Order(f.price_data(), f.quantity, not f.is_expired(now)))
            fi += 1
        else:
            assert o_peek is not None
            o, (state, price) = o_peek
            out.append(Order(price, o.quantity, state == 0 and not o.is_expired(now)))
            oi += 1
    return out


def _scale10(x: float, n: int) -> float:
    return x * pow10(n) if n >= 0 else x / pow10(-n)


@dataclass(frozen=True, slots=True)
class Lots:
    """A market's lot sizes, fees and decimals (the Rust ``Lots``)."""

    base_lot_size: int
    quote_lot_size: int
    maker_fee: int
    taker_fee: int
    base_decimals: int
    quote_decimals: int

    @staticmethod
    def checked(
        base_lot_size: int,
        quote_lot_size: int,
        maker_fee: int,
        taker_fee: int,
        base_decimals: int,
        quote_decimals: int,
    ) -> Lots:
        """Checked as ``create_market`` checks them."""
        if base_lot_size <= 0 or quote_lot_size <= 0:
            raise InvalidInputError(
                f"InvalidInputLots: lot sizes base {base_lot_size} quote {quote_lot_size} "
                "must be positive"
            )
        if (
            abs(maker_fee) > FEES_SCALE_FACTOR
            or abs(taker_fee) > FEES_SCALE_FACTOR
            or not (taker_fee >= 0 and (maker_fee >= 0 or abs(maker_fee) <= taker_fee))
        ):
            raise InvalidInputError(
                f"InvalidInputMarketFees: maker fee {maker_fee}, taker fee {taker_fee}"
            )
        return Lots(
            base_lot_size, quote_lot_size, maker_fee, taker_fee, base_decimals, quote_decimals
        )

    @staticmethod
    def of(m: OpenBookMarket) -> Lots:
        return Lots.checked(
            m.base_lot_size,
            m.quote_lot_size,
            m.maker_fee,
            m.taker_fee,
            m.base_decimals,
            m.quote_decimals,
        )

    def max_base_lots(self) -> int:
        return I64_MAX // self.base_lot_size

    def max_quote_lots(self) -> int:
        return I64_MAX // self.quote_lot_size

    def subtract_taker_fees(self, quote: int) -> int:
        return quote * FEES_SCALE_FACTOR // (FEES_SCALE_FACTOR + self.taker_fee)

    def taker_fees_ceil(self, amount: int) -> int:
        return (amount * self.taker_fee + FEES_SCALE_FACTOR - 1) // FEES_SCALE_FACTOR

    def maker_rebate_floor(self, amount: int) -> int:
        if self.maker_fee > 0:
            return 0
        return amount * abs(self.maker_fee) // FEES_SCALE_FACTOR

    def price_ui(self, price_lots: int) -> float:
        native = float(price_lots) * float(self.quote_lot_size) / float(self.base_lot_size)
        return _scale10(native, self.base_decimals - self.quote_decimals)

    def size_ui(self, lots: int) -> float:
        return _scale10(float(lots) * float(self.base_lot_size), -self.base_decimals)


def levels(orders: list[Order] | tuple[Order, ...], lots: Lots, depth: int) -> list[BookLevel]:
    """Up to ``depth`` levels of one side: its valid orders summed by price as they come."""
    return book.levels(
        ((o.price_lots, o.quantity) for o in orders if o.valid),
        depth,
        lambda p, s, n: BookLevel(lots.price_ui(p), lots.size_ui(s), p, s, n),
    )


def ladder(
    bids: list[Order] | tuple[Order, ...],
    asks: list[Order] | tuple[Order, ...],
    lots: Lots,
    depth: int,
    market: str = "",
    mints: tuple[str, str] = ("", ""),
    slot: int = 0,
) -> BookLadder:
    """The ladder of a book's two sides."""
    return book.ladder(levels(bids, lots, depth), levels(asks, lots, depth), market, mints, slot)


def _check_sides(bids: BookSide, asks: BookSide) -> None:
    if not bids.bid or asks.bid:
        raise InvalidInputError(
            f"the bids account holds {'bid' if bids.bid else 'ask'}s and the asks account "
            f"{'bid' if asks.bid else 'ask'}s"
        )


def _depth(depth: object) -> int:
    d = i64(depth)
    if d < 0:
        raise InvalidInputError(f"depth {d} is negative")
    return d


def _oracle(oracle_price_lots: object) -> int | None:
    return None if oracle_price_lots is None else i64(oracle_price_lots)


def openbook_ladder(
    market: bytes,
    bids: bytes,
    asks: bytes,
    now: int,
    depth: int = DEPTH,
    oracle_price_lots: int | None = None,
) -> BookLadder:
    """The L2 ladder of a market from its accounts' bytes: ``depth`` levels a side at unix
    time ``now`` (expired orders skipped; oracle-pegged orders priced at
    ``oracle_price_lots``, skipped without it, as the program does)."""
    t = u64(now)
    d = _depth(depth)
    oracle = _oracle(oracle_price_lots)
    m = decode_openbook_market(as_bytes(market, "Market"))
    lots = Lots.of(m)
    b = bookside(bids)
    a = bookside(asks)
    _check_sides(b, a)
    return ladder(side_orders(b, t, oracle), side_orders(a, t, oracle), lots, d)


# ------------------------------------------------------------------ the take
@dataclass(frozen=True, slots=True)
class BookState:
    """A book ready to be taken from (the Rust ``BookState``): the venue's quote state."""

    lots: Lots
    bids: tuple[Order, ...]
    asks: tuple[Order, ...]
    heap_free: int
    expired: bool
    needs_oracle: bool
    now: int

    @staticmethod
    def new(
        m: OpenBookMarket,
        bids: BookSide,
        asks: BookSide,
        heap_count: int,
        now: int,
        oracle_price_lots: int | None,
    ) -> BookState:
        _check_sides(bids, asks)
        lots = Lots.of(m)
        pegged = bool(bids.pegged) or bool(asks.pegged)
        return BookState(
            lots,
            tuple(side_orders(bids, now, oracle_price_lots)),
            tuple(side_orders(asks, now, oracle_price_lots)),
            max(MAX_NUM_EVENTS - heap_count, 0),
            m.time_expiry != 0 and m.time_expiry < now,
            pegged and m.oracle_a is not None and oracle_price_lots is None,
            now,
        )

    def quote(self, amount: int, a_to_b: bool) -> int | None:
        r = self.quote_steps(amount, a_to_b)
        return None if r is None else r[0]

    def quote_steps(self, amount: int, a_to_b: bool) -> tuple[int, int] | None:
        """:meth:`quote` with the take's steps in the venue's compute-unit model
        (``feeds/venues/openbook_v2/`` ``COMPUTE_UNITS``): the maker orders it reached,
        each fill and each expired order it dropped (its events). 0 reaches none."""
        if amount == 0:
            return 0, 0
        f = take(self, amount, a_to_b, TAKE_LIMIT, None)
        # an input that trades no lot is no swap (the simulator's traders refuse it too)
        if f.complete and not f.refused and f.amount_out > 0:
            return f.amount_out, f.events
        return None

    def checked_steps(self, amount: int, a_to_b: bool) -> tuple[int, int] | None:
        """:meth:`quote_steps`; TicksMissingError when pegged orders need an oracle price."""
        if self.needs_oracle:
            raise TicksMissingError("the book's oracle-pegged orders need an oracle price")
        return self.quote_steps(amount, a_to_b)

    def ladder(self, depth: int, market: str, mints: tuple[str, str], slot: int) -> BookLadder:
        return ladder(self.bids, self.asks, self.lots, depth, market, mints, slot)

    def crossed(self) -> bool:
        """Whether the best valid bid is at or above the best valid ask (a book the
        program would have matched)."""
        bid = next((o.price_lots for o in self.bids if o.valid), None)
        ask = next((o.price_lots for o in self.asks if o.valid), None)
        return bid is not None and ask is not None and bid >= ask

    def spot_rate(self, a_to_b: bool) -> float:
        lots = self.lots
        orders = self.bids if a_to_b else self.asks
        best = next((o for o in orders if o.valid), None)
        if best is None:
            return sys.float_info.min  # no order to take: an edge no cycle takes
        price = float(best.price_lots) * float(lots.quote_lot_size) / float(lots.base_lot_size)
        scale = float(FEES_SCALE_FACTOR)
        if a_to_b:
            rebate = 0.0 if lots.maker_fee > 0 else float(abs(lots.maker_fee))
            return price * ((scale - rebate) / scale)
        return (1.0 / price) * (scale / (scale + float(lots.taker_fee)))


def take_args(lots: Lots, amount: int, a_to_b: bool) -> tuple[str, int, int]:
    """The ``place_take_order`` a take of ``amount`` sends (a ``Market`` order): (taker
    side "bid" / "ask", max_base_lots, max_quote_lots_including_fees)."""
    if a_to_b:
        return "ask", min(amount // lots.base_lot_size, lots.max_base_lots()), lots.max_quote_lots()
    return "bid", lots.max_base_lots(), min(amount // lots.quote_lot_size, lots.max_quote_lots())


def take(
    book: BookState, amount: int, a_to_b: bool, limit: int, price_lots: int | None
) -> OpenBookFill:
    """The exact ``place_take_order`` of ``amount`` (base to sell when ``a_to_b``, else
    quote to spend) matching at most ``limit`` orders at ``price_lots`` or better."""
    lots = book.lots
    side, max_base_lots, max_quote_incl = take_args(lots, amount, a_to_b)
    bid = side == "bid"
    limit_price = price_lots if price_lots is not None else (I64_MAX if bid else 1)
    orders = book.asks if bid else book.bids
    max_quote = lots.subtract_taker_fees(max_quote_incl) if bid else max_quote_incl
    rem_base, rem_quote = max_base_lots, max_quote
    rebates = dropped = matched = last_price = 0
    budget_stop = False
    qls = lots.quote_lot_size
    for o in orders:
        if rem_base == 0 or rem_quote == 0:
            budget_stop = True
            break
        if not o.valid:
            if dropped < DROP_EXPIRED_ORDER_LIMIT:
                dropped += 1
            continue
        price = o.price_lots
        within = price <= limit_price if bid else price >= limit_price
        if not within or limit == 0:
            break
        by_quote = rem_quote // price
        if by_quote == 0:
            budget_stop = True
            break
        base = min(rem_base, o.quantity, by_quote)
        quote = base * price
        rebates += lots.maker_rebate_floor(quote * qls)
        rem_base -= base
        rem_quote -= quote
        matched += 1
        last_price = price
        limit -= 1
    # the walk ran out of orders (or hit the limit) with less left than one lot at the
    # last price: the budget buys no more at any price the walk could still reach
    if not budget_stop and (rem_base == 0 or rem_quote == 0 or rem_quote < last_price):
        budget_stop = True
    base_lots = max_base_lots - rem_base
    quote_lots = max_quote - rem_quote
    base_native = base_lots * lots.base_lot_size
    quote_native = quote_lots * qls
    if quote_native > 0:
        taker_fee = lots.taker_fees_ceil(quote_native)
    else:
        taker_fee = rebates = 0
    if bid:
        amount_in, amount_out, complete = quote_native + rebates, base_native, budget_stop
    else:
        amount_in, amount_out, complete = base_native, quote_native - rebates, rem_base == 0
    events = matched + dropped
    return OpenBookFill(
        amount_in,
        amount_out,
        base_lots,
        quote_lots,
        taker_fee,
        rebates,
        matched,
        events,
        last_price,
        complete,
        book.expired or events > book.heap_free,
    )


class OpenBookBook:
    """A prepared book (``openbook_v2.book``): a market and its sides decoded once, ready
    for `openbook_v2.take` (made only by `openbook_v2.book`, as the extension's)."""

    __slots__ = ("_state",)
    _state: BookState

    def __init__(self) -> None:
        raise TypeError("cannot create OpenBookBook instances: use openbook_book()")

    @classmethod
    def _of(cls, state: BookState) -> OpenBookBook:
        book = object.__new__(cls)
        book._state = state
        return book

    def __repr__(self) -> str:
        s = self._state
        return f"OpenBookBook(bids={len(s.bids)}, asks={len(s.asks)}, now={s.now})"


def openbook_book(
    market: bytes,
    bids: bytes,
    asks: bytes,
    now: int,
    event_heap: bytes | None = None,
    oracle_price_lots: int | None = None,
) -> OpenBookBook:
    """A market's book ready for `openbook_v2.take`: its accounts decoded and its
    orders judged at unix time ``now`` (with ``oracle_price_lots`` for pegged orders);
    the heap's free slots from ``event_heap`` (an empty heap without it)."""
    t = u64(now)
    oracle = _oracle(oracle_price_lots)
    m = decode_openbook_market(as_bytes(market, "Market"))
    b = bookside(bids)
    a = bookside(asks)
    count = 0 if event_heap is None else heap_count(event_heap)
    return OpenBookBook._of(BookState.new(m, b, a, count, t, oracle))


def openbook_take(
    book: OpenBookBook,
    amount: int,
    a_to_b: bool,
    limit: int = TAKE_LIMIT,
    price_lots: int | None = None,
) -> OpenBookFill:
    """The exact fill of a ``place_take_order`` of ``amount`` on a prepared book: base
    to sell when ``a_to_b`` (walking the bids), else quote to spend (walking the asks),
    matching at most ``limit`` orders (u8) at ``price_lots`` or better (a ``Market``
    order without one)."""
    if not isinstance(book, OpenBookBook):
        raise TypeError(f"book: expected OpenBookBook, got {type(book).__name__}")
    x = u64(amount)
    if not isinstance(a_to_b, bool):
        raise TypeError(f"a_to_b: expected bool, got {type(a_to_b).__name__}")
    n = i64(limit)
    if not 0 <= n <= 255:
        raise InvalidInputError(f"limit {n} is not a u8")
    p = None if price_lots is None else i64(price_lots)
    if p is not None and p < 1:
        raise InvalidInputError(f"InvalidInputPriceLots: price_lots {p} is below 1")
    return take(book._state, x, a_to_b, n, p)


# ------------------------------------------------------------------ the venue

# eng.openbook_v2, its public namespace (Venue.API): a public name, then its definition
API = base.api(
    """
    decode_market      decode_openbook_market
    decode_bookside    decode_openbook_bookside
    decode_event_heap  decode_openbook_event_heap
    ladder             openbook_ladder
    Book               OpenBookBook
    book               openbook_book
    take               openbook_take
    """
)


def parse_event(raw: bytes) -> OpenBookTotalOrderFillEvent | None:
    """Its ``TotalOrderFillEvent`` (a take) when the discriminator is that one."""
    what, size = "TotalOrderFillEvent", TOTAL_ORDER_FILL_EVENT_SIZE
    r = base.event_reader(raw, DISC_TOTAL_ORDER_FILL_EVENT, what, size)
    return None if r is None else OpenBookTotalOrderFillEvent(*r.packed(8, "u8 key u64*3"))


parse_log = base.no_log


# its pool account's identity (everything fixed at ``create_market``), a field a line, its
# mints and vaults marked
identity, reserve_mints, vaults = base.pool_fields(
    """
    bump
    base_decimals
    quote_decimals
    market_authority
    bids
    asks
    event_heap
    oracle_a
    oracle_b
    base_lot_size
    quote_lot_size
    maker_fee
    taker_fee
    base_mint           mint_a
    quote_mint          mint_b
    market_base_vault   vault_a
    market_quote_vault  vault_b
    """
)


def followed(rec: OpenBookMarket) -> tuple[tuple[str, str], ...]:
    return ((BIDS, rec.bids), (ASKS, rec.asks), (EVENT_HEAP, rec.event_heap), (CLOCK, SYSVAR_CLOCK))


@dataclass(slots=True)
class Book:
    """What the ingest keeps of a market's own accounts."""

    bids: BookSide | None = None
    asks: BookSide | None = None
    heap_count: int | None = None
    clock: int | None = None  # the Clock sysvar's unix_timestamp, once seen (at least 0)
    # the slots of the bids' and the asks' copies (None: not known)
    side_slots: list[int | None] = field(default_factory=lambda: [None, None])


def new_own() -> Book:
    return Book()


forget = absent = base.no_arrays


def own_account(own: Book, role: str, cx: OwnAccount) -> None:
    if role in (BIDS, ASKS):
        side = bookside(cx.data, cx.owner)
        want_bid = role == BIDS
        if side.bid != want_bid:
            raise DecodeError(
                f"BookSide {cx.pubkey}: holds {'bid' if side.bid else 'ask'}s, followed as "
                f"the market's {'bid' if want_bid else 'ask'}s"
            )
        if want_bid:
            own.bids = side
        else:
            own.asks = side
        own.side_slots[0 if want_bid else 1] = cx.slot
    elif role == EVENT_HEAP:
        own.heap_count = heap_count(cx.data, cx.owner)
    elif role == CLOCK:
        own.clock = clock_unix_timestamp(cx.data, cx.owner)
    else:
        raise no_role(INFO, role)


def check_own_account(role: str, cx: OwnAccount) -> None:
    own_account(Book(), role, cx)


def book_now(m: OpenBookMarket, bids: BookSide, asks: BookSide) -> int:
    """The newest time the accounts prove the program saw: the latest order timestamp,
    or the market's registration."""
    now = max(m.registration_time, 0)
    for leaf in bids.fixed + bids.pegged + asks.fixed + asks.pegged:
        now = max(now, leaf.timestamp)
    return now


def torn(side_slots: list[int | None], state: BookState) -> bool:
    """Whether a book assembled from sides of the slots ``side_slots`` is torn: the slots
    are known and differ, and the book crosses (see :func:`update`)."""
    b, a = side_slots
    return b is not None and a is not None and a != b and state.crossed()


def update(own: Book, rec: OpenBookMarket, cx: Assembly) -> tuple[BookState, int] | None:
    """The book without an oracle price, once both sides and the heap are seen (the
    vaults are not needed), at the Clock sysvar's time, or at :func:`book_now` when that
    is later (or the node has not answered the sysvar).

    A torn book is held back: sides of different slots that cross (the best bid at or
    above the best ask). The program matches a crossing order as it is placed, so no book
    it leaves crosses; two sides that do are one side's copy of a newer slot and the
    other's of an older one, the newer copy of which is on its way (a maker who moves
    both sides in one transaction: two notifications). The graph keeps the book it had
    until the other side's copy comes."""
    if own.bids is None or own.asks is None or own.heap_count is None:
        return None
    now = max(book_now(rec, own.bids, own.asks), own.clock or 0)
    state = BookState.new(rec, own.bids, own.asks, own.heap_count, now, None)
    slot = cx.slot()
    cx.check_ids()
    if torn(own.side_slots, state):
        return None
    return state, slot

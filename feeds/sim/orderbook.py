"""OpenBook v2's order book as its program keeps it, byte for byte: the ``BookSide``
account (two crit-bit order trees, fixed and oracle-pegged, in one array of 88-byte node
slots with a free list), the ``EventHeap`` (fill and out events in 600 slots, a used
circular list and a free list) and the taker's walk (``Orderbook::new_order`` for an
order that does not post).

Sources (``openbook-dex/openbook-v2`` v0.2.10, ``programs/openbook-v2/src``, as the program
deployed on mainnet runs them: the build dumped there in 2024, code of 2024-02 to 2024-03,
differs from v0.2.10 where a taker order meets it, and this module is that build's —
no event-heap penalty (``PENALTY_EVENT_HEAP`` 0 until c889570, 2024-03-22), a fill event
carrying the heap's ``seq_num`` (the market's since 5dd7400, 2024-04-16); its missing
``FillOrKill`` is the simulated program's, :mod:`feeds.venues.openbook_v2.sim`):
``state/orderbook/{nodes,ordertree,ordertree_iterator,bookside,bookside_iterator,heap,
book,order,order_type}.rs``, ``state/market.rs``, ``instructions/place_take_order.rs``,
``instructions/consume_events.rs``. The functions here follow the program's operations
one for one (``insert_leaf``, ``remove_by_key``, ``push_back``, ``delete_slot``, the
matching loop), so the bytes are those the program would leave after the same
operations. Written from the sources; no code was copied.

This module is the simulator's, not the engine's: the engine decodes these bytes with
its own decoders (``openbook_v2.decode_bookside`` ...), which tests hold to what this module
wrote. The constants a client needs too (discriminators, the market's size and fee scale,
sides and order types) are the venue's (``feeds.venues.openbook_v2.layout``), taken from
there.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from ..venues.openbook_v2.layout import ASK as ASK
from ..venues.openbook_v2.layout import BID as BID
from ..venues.openbook_v2.layout import DISC_BOOKSIDE as DISC_BOOKSIDE
from ..venues.openbook_v2.layout import DISC_EVENT_HEAP as DISC_EVENT_HEAP
from ..venues.openbook_v2.layout import DISC_MARKET as DISC_MARKET
from ..venues.openbook_v2.layout import DROP_EXPIRED_ORDER_LIMIT as DROP_EXPIRED_ORDER_LIMIT
from ..venues.openbook_v2.layout import FEES_SCALE_FACTOR as FEES_SCALE_FACTOR
from ..venues.openbook_v2.layout import FILL_OR_KILL as FILL_OR_KILL
from ..venues.openbook_v2.layout import I64_MAX as I64_MAX
from ..venues.openbook_v2.layout import IMMEDIATE_OR_CANCEL as IMMEDIATE_OR_CANCEL
from ..venues.openbook_v2.layout import LIMIT as LIMIT
from ..venues.openbook_v2.layout import MARKET as MARKET
from ..venues.openbook_v2.layout import MARKET_LEN as MARKET_LEN
from ..venues.openbook_v2.layout import POST_ONLY as POST_ONLY
from ..venues.openbook_v2.layout import POST_ONLY_SLIDE as POST_ONLY_SLIDE

# ------------------------------------------------------------------ BookSide layout
# BookSide (zero copy, after the 8-byte discriminator): roots [OrderTreeRoot; 2] (fixed,
# oracle pegged: maybe_node u32, leaf_count u32), reserved_roots [OrderTreeRoot; 4],
# reserved [u8; 256], nodes: OrderTreeNodes (order_tree_type u8, padding [3], bump_index
# u32, free_list_len u32, free_list_head u32, reserved [u8; 512], nodes [AnyNode; 1024])
MAX_ORDERTREE_NODES = 1024
NODE_SIZE = 88
_ROOTS = 8
_TREE = 8 + 16 + 32 + 256  # OrderTreeNodes
_BUMP = _TREE + 4
_FREE_LEN = _TREE + 8
_FREE_HEAD = _TREE + 12
_NODES = _TREE + 16 + 512
BOOKSIDE_LEN = _NODES + NODE_SIZE * MAX_ORDERTREE_NODES  # 90,952: 8 + size_of BookSide 90,944
assert BOOKSIDE_LEN == 8 + 90_944

# NodeTag
UNINITIALIZED, INNER, LEAF, FREE, LAST_FREE = 0, 1, 2, 3, 4
FIXED, ORACLE_PEGGED = 0, 1  # BookSideOrderTree
BIDS, ASKS = 0, 1  # OrderTreeType; Side: Bid = 0, Ask = 1 (BID, ASK)
U64 = (1 << 64) - 1
U128 = (1 << 128) - 1


def new_node_key(side: int, price_data: int, seq_num: int) -> int:
    """``new_node_key``: price data in the top 64 bits, the sequence number below (a bid's
    inverted, so that of two bids at one price the earlier sorts first, highest first)."""
    seq = (~seq_num) & U64 if side == BID else seq_num
    return (price_data << 64) | seq


def oracle_pegged_price_data(price_offset_lots: int) -> int:
    """``oracle_pegged_price_data``: an i64 offset mapped order-preserving onto u64."""
    return (price_offset_lots + (1 << 63)) & U64


def oracle_pegged_price_offset(price_data: int) -> int:
    """The inverse of :func:`oracle_pegged_price_data`."""
    v = (price_data - (1 << 63)) & U64
    return v - (1 << 64) if v >= 1 << 63 else v


@dataclass(frozen=True, slots=True)
class Leaf:
    """A ``LeafNode``: one resting order (``owner``: its OpenOrdersAccount, 32 bytes)."""

    key: int
    owner: bytes
    quantity: int
    timestamp: int
    owner_slot: int = 0
    time_in_force: int = 0
    peg_limit: int = -1
    client_order_id: int = 0

    @property
    def price_data(self) -> int:
        return self.key >> 64

    def expiry(self) -> int:
        """``LeafNode::expiry``: u64::MAX when it never expires."""
        return U64 if self.time_in_force == 0 else self.timestamp + self.time_in_force

    def is_expired(self, now_ts: int) -> bool:
        return self.time_in_force > 0 and now_ts >= self.timestamp + self.time_in_force

    def pack(self) -> bytes:
        return struct.pack(
            "<BBH4x16s32sqQqQ",
            LEAF,
            self.owner_slot,
            self.time_in_force,
            self.key.to_bytes(16, "little"),
            self.owner,
            self.quantity,
            self.timestamp,
            self.peg_limit,
            self.client_order_id,
        )

    @classmethod
    def unpack(cls, raw: bytes | bytearray | memoryview, offset: int = 0) -> Leaf:
        _, slot, tif, key, owner, qty, ts, peg, coid = _LEAF.unpack_from(raw, offset)
        return cls(int.from_bytes(key, "little"), owner, qty, ts, slot, tif, peg, coid)


_LEAF = struct.Struct("<BBH4x16s32sqQqQ")
_CHILDREN = struct.Struct("<II")


def _inner(prefix_len: int, key: int, children: tuple[int, int], expiry: tuple[int, int]) -> bytes:
    """An ``InnerNode`` (``InnerNode::new`` then its children and their expiries)."""
    return struct.pack(
        "<B3xI16s2I2Q40x", INNER, prefix_len, key.to_bytes(16, "little"), *children, *expiry
    )


class BookSide:
    """One ``BookSide`` account's bytes and the program's operations on them."""

    __slots__ = ("buf",)

    def __init__(self, data: bytes | bytearray) -> None:
        if len(data) != BOOKSIDE_LEN:
            raise ValueError(f"a BookSide is {BOOKSIDE_LEN} bytes, not {len(data)}")
        self.buf = bytearray(data)

    @classmethod
    def new(cls, tree_type: int) -> BookSide:
        """What ``create_market`` leaves (a zeroed account, ``Orderbook::init`` setting its
        ``order_tree_type``, Anchor the discriminator)."""
        buf = bytearray(BOOKSIDE_LEN)
        buf[:8] = DISC_BOOKSIDE
        buf[_TREE] = tree_type
        return cls(buf)

    def copy(self) -> BookSide:
        return BookSide(self.buf)

    def data(self) -> bytes:
        return bytes(self.buf)

    # ---------------------------------------------------------------- fields
    @property
    def tree_type(self) -> int:
        return self.buf[_TREE]

    @property
    def side(self) -> int:
        return BID if self.tree_type == BIDS else ASK

    def root(self, tree: int) -> tuple[int, int]:
        """(maybe_node, leaf_count) of a root."""
        return struct.unpack_from("<II", self.buf, _ROOTS + 8 * tree)  # type: ignore[return-value]

    def _set_root(self, tree: int, node: int, count: int) -> None:
        struct.pack_into("<II", self.buf, _ROOTS + 8 * tree, node, count)

    def _u32(self, off: int) -> int:
        return int(struct.unpack_from("<I", self.buf, off)[0])

    def _set_u32(self, off: int, v: int) -> None:
        struct.pack_into("<I", self.buf, off, v)

    def _off(self, h: int) -> int:
        return _NODES + NODE_SIZE * h

    def tag(self, h: int) -> int:
        return self.buf[self._off(h)]

    def node_bytes(self, h: int) -> bytes:
        o = self._off(h)
        return bytes(self.buf[o : o + NODE_SIZE])

    def _put(self, h: int, raw: bytes) -> None:
        o = self._off(h)
        self.buf[o : o + NODE_SIZE] = raw

    def _key(self, h: int) -> int:
        o = self._off(h) + 8
        return int.from_bytes(self.buf[o : o + 16], "little")

    def _prefix_len(self, h: int) -> int:
        return self._u32(self._off(h) + 4)

    def _children(self, h: int) -> tuple[int, int]:
        return struct.unpack_from("<II", self.buf, self._off(h) + 24)  # type: ignore[return-value]

    def _child_expiry(self, h: int) -> tuple[int, int]:
        return struct.unpack_from("<QQ", self.buf, self._off(h) + 32)  # type: ignore[return-value]

    def _set_child_expiry(self, h: int, i: int, v: int) -> None:
        struct.pack_into("<Q", self.buf, self._off(h) + 32 + 8 * i, v)

    def leaf(self, h: int) -> Leaf:
        return Leaf.unpack(self.buf, _NODES + NODE_SIZE * h)

    def set_quantity(self, h: int, quantity: int) -> None:
        struct.pack_into("<q", self.buf, self._off(h) + 56, quantity)

    def _earliest_expiry(self, h: int) -> int:
        if self.tag(h) == INNER:
            return min(self._child_expiry(h))
        return self.leaf(h).expiry()

    def _walk_down(self, h: int, key: int) -> tuple[int, int]:
        bit = (key >> (127 - self._prefix_len(h))) & 1
        return self._children(h)[bit], bit

    # ---------------------------------------------------------------- slots
    def _remove(self, h: int) -> bytes:
        """``OrderTreeNodes::remove``: the slot becomes the free list's head."""
        val = self.node_bytes(h)
        free_len, head = self._u32(_FREE_LEN), self._u32(_FREE_HEAD)
        tag = LAST_FREE if free_len == 0 else FREE
        self._put(h, struct.pack("<B3xI72xQ", tag, head, 0))
        self._set_u32(_FREE_LEN, free_len + 1)
        self._set_u32(_FREE_HEAD, h)
        return val

    def _insert(self, raw: bytes) -> int:
        """``OrderTreeNodes::insert``: the free list's head, else the next bumped slot."""
        free_len = self._u32(_FREE_LEN)
        if free_len == 0:
            bump = self._u32(_BUMP)
            if bump >= MAX_ORDERTREE_NODES:
                raise BookFull("the book side has no free node")
            self._put(bump, raw)
            self._set_u32(_BUMP, bump + 1)
            return bump
        h = self._u32(_FREE_HEAD)
        nxt = self._u32(self._off(h) + 4)
        self._set_u32(_FREE_HEAD, nxt)
        self._set_u32(_FREE_LEN, free_len - 1)
        self._put(h, raw)
        return h

    def is_full(self) -> bool:
        return self._u32(_FREE_LEN) <= 1 and self._u32(_BUMP) >= MAX_ORDERTREE_NODES - 1

    # ---------------------------------------------------------------- the tree
    def _update_parent_earliest_expiry(
        self, stack: list[tuple[int, int]], outdated: int, new: int
    ) -> None:
        for parent, bit in reversed(stack):
            if self._child_expiry(parent)[bit] != outdated:
                break
            outdated = min(self._child_expiry(parent))
            self._set_child_expiry(parent, bit, new)
            new = min(self._child_expiry(parent))

    def insert_leaf(self, tree: int, leaf: Leaf) -> int:
        """``OrderTreeNodes::insert_leaf`` into root ``tree``; the new leaf's handle."""
        node, count = self.root(tree)
        if count == 0:
            h = self._insert(leaf.pack())
            self._set_root(tree, h, 1)
            return h
        stack: list[tuple[int, int]] = []
        parent = node
        buf, key = self.buf, leaf.key  # (the walk down read in place: the makers' hot loop)
        while True:
            o = _NODES + NODE_SIZE * parent
            parent_tag = buf[o]
            parent_key = int.from_bytes(buf[o + 8 : o + 24], "little")
            if parent_key == key and parent_tag == LEAF:  # the program clobbers it
                old = self.leaf(parent)
                self._put(parent, leaf.pack())
                self._update_parent_earliest_expiry(stack, old.expiry(), leaf.expiry())
                return parent
            shared = 128 - (parent_key ^ key).bit_length()
            if parent_tag == INNER:
                prefix_len = _CHILDREN.unpack_from(buf, o)[1]  # (the tag's u32, then it)
                if shared >= prefix_len:  # walk down
                    bit = (key >> (127 - prefix_len)) & 1
                    stack.append((parent, bit))
                    parent = _CHILDREN.unpack_from(buf, o + 24)[bit]
                    continue
            parent_raw = bytes(buf[o : o + NODE_SIZE])
            new_bit = (leaf.key >> (127 - shared)) & 1
            old_expiry = self._earliest_expiry(parent)
            new_h = self._insert(leaf.pack())
            try:
                moved = self._insert(parent_raw)
            except BookFull:
                self._remove(new_h)
                raise
            children = (new_h, moved) if new_bit == 0 else (moved, new_h)
            expiry = (leaf.expiry(), old_expiry) if new_bit == 0 else (old_expiry, leaf.expiry())
            self._put(parent, _inner(shared, leaf.key, children, expiry))
            if leaf.expiry() < old_expiry:
                self._update_parent_earliest_expiry(stack, old_expiry, leaf.expiry())
            self._set_root(tree, node, count + 1)
            return new_h

    def remove_by_key(self, tree: int, key: int) -> Leaf | None:
        """``OrderTreeNodes::remove_by_key``: the removed order, or None."""
        node, count = self.root(tree)
        if count == 0:
            return None
        parent = node
        if self.tag(parent) == LEAF:
            if self._key(parent) != key:
                return None
            leaf = self.leaf(parent)
            self._set_root(tree, 0, 0)
            self._remove(parent)
            return leaf
        child, bit = self._walk_down(parent, key)
        stack = [(parent, bit)]
        while True:
            if self.tag(child) == INNER:
                parent = child
                child, bit = self._walk_down(parent, key)
                stack.append((parent, bit))
                continue
            if self._key(child) != key:
                return None
            break
        other = self._children(parent)[1 - bit]
        other_raw = self._remove(other)
        new_expiry = self._earliest_expiry_of(other_raw)
        self._put(parent, other_raw)
        self._set_root(tree, node, count - 1)
        removed = Leaf.unpack(self._remove(child))
        stack.pop()
        self._update_parent_earliest_expiry(stack, removed.expiry(), new_expiry)
        return removed

    @staticmethod
    def _earliest_expiry_of(raw: bytes) -> int:
        if raw[0] == INNER:
            a, b = struct.unpack_from("<QQ", raw, 32)
            return min(int(a), int(b))
        return Leaf.unpack(raw).expiry()

    def iter_tree(self, tree: int) -> Iterator[tuple[int, Leaf]]:
        """``OrderTreeIter``: best first (asks lowest key first, bids highest)."""
        node, count = self.root(tree)
        if count == 0:
            return
        # (the node's tag, children and leaf read in place: the simulator's makers walk
        # every book side each time they requote)
        buf, children, unpack = self.buf, _CHILDREN.unpack_from, Leaf.unpack
        left = 1 if buf[_TREE] == BIDS else 0
        right = 1 - left
        stack: list[int] = []
        current: int | None = node
        while current is not None or stack:
            while current is not None:
                o = _NODES + NODE_SIZE * current
                if buf[o] == INNER:
                    stack.append(current)
                    current = children(buf, o + 24)[left]
                else:
                    yield current, unpack(buf, o)
                    current = None
            if stack:
                current = children(buf, _NODES + NODE_SIZE * stack.pop() + 24)[right]

    def iter_all(self, now_ts: int, oracle_price_lots: int | None = None) -> Iterator[Item]:
        """``BookSideIter``: both trees merged best first, invalid orders included (a
        pegged order is only seen with an oracle price)."""
        fixed = self.iter_tree(FIXED)
        pegged = self.iter_tree(ORACLE_PEGGED) if oracle_price_lots is not None else iter(())
        side = self.side
        f = next(fixed, None)
        o = _next_pegged(pegged, oracle_price_lots, side)
        while f is not None or o is not None:
            take_fixed: bool
            if f is not None and o is not None:
                assert oracle_price_lots is not None
                price, _ = _pegged_price(oracle_price_lots, o[1], side)
                okey = (price << 64) | (o[1].key & U64)
                take_fixed = f[1].key > okey if side == BID else f[1].key < okey
            else:
                take_fixed = f is not None
            if take_fixed:
                assert f is not None
                h, leaf = f
                yield Item(FIXED, h, leaf, leaf.price_data, not leaf.is_expired(now_ts))
                f = next(fixed, None)
            else:
                assert o is not None and oracle_price_lots is not None
                h, leaf = o
                price, state = _pegged_price(oracle_price_lots, leaf, side)
                valid = state == "valid" and not leaf.is_expired(now_ts)
                yield Item(ORACLE_PEGGED, h, leaf, price, valid)
                o = _next_pegged(pegged, oracle_price_lots, side)

    def orders(self, now_ts: int) -> list[Item]:
        """Every order in the program's order (no oracle: fixed orders only)."""
        return list(self.iter_all(now_ts))


@dataclass(frozen=True, slots=True)
class Item:
    """One order as ``BookSideIter`` yields it: its tree, slot, leaf, price in lots, and
    whether it may match (not expired; a pegged order within its peg limit)."""

    tree: int
    handle: int
    leaf: Leaf
    price_lots: int
    valid: bool


def _pegged_price(oracle: int, leaf: Leaf, side: int) -> tuple[int, str]:
    """``oracle_pegged_price``: (price, valid | invalid | skipped)."""
    price = max(-(1 << 63), min(I64_MAX, oracle + oracle_pegged_price_offset(leaf.price_data)))
    if 1 <= price < I64_MAX:
        better = price > leaf.peg_limit if side == BID else price < leaf.peg_limit
        if leaf.peg_limit != -1 and better:
            return price, "invalid"
        return price, "valid"
    return max(price, 1), "skipped"


def _next_pegged(
    it: Iterator[tuple[int, Leaf]], oracle: int | None, side: int
) -> tuple[int, Leaf] | None:
    for h, leaf in it:
        assert oracle is not None
        if _pegged_price(oracle, leaf, side)[1] != "skipped":
            return h, leaf
    return None


class BookFull(Exception):
    """The book side has no free node (``OpenBookError::SomeError`` in the program)."""


# ------------------------------------------------------------------ EventHeap
# EventHeap: header (free_head u16, used_head u16, count u16, padd u16, seq_num u64),
# nodes [EventNode; 600] (next u16, prev u16, pad [4], event [u8; 144]), reserved [64]
MAX_NUM_EVENTS = 600
NO_NODE = 0xFFFF
EVENT_SIZE = 144
_EV_NODE = 8 + EVENT_SIZE
_EV_NODES = 8 + 16
EVENT_HEAP_LEN = _EV_NODES + MAX_NUM_EVENTS * _EV_NODE + 64  # 91,288: 8 + 91,280
assert EVENT_HEAP_LEN == 8 + 91_280
FILL, OUT = 0, 1  # EventType


def fill_event(
    taker_side: int,
    maker_out: bool,
    maker_slot: int,
    timestamp: int,
    seq_num: int,
    maker: bytes,
    maker_client_order_id: int,
    maker_timestamp: int,
    taker: bytes,
    taker_client_order_id: int,
    price: int,
    peg_limit: int,
    quantity: int,
) -> bytes:
    """A ``FillEvent`` (144 bytes); ``seq_num``: the event heap's before it is pushed, as
    the deployed program writes it (v0.2.10 writes the market's there)."""
    return struct.pack(
        "<BBBB4xQQ32sQ32sQqqqQ8x",
        FILL,
        taker_side,
        int(maker_out),
        maker_slot,
        timestamp,
        seq_num,
        maker,
        maker_timestamp,
        taker,
        taker_client_order_id,
        price,
        peg_limit,
        quantity,
        maker_client_order_id,
    )


def out_event(
    side: int, owner_slot: int, timestamp: int, seq_num: int, owner: bytes, quantity: int
) -> bytes:
    """An ``OutEvent`` (144 bytes)."""
    return struct.pack(
        "<BBB5xQQ32sq80x", OUT, side, owner_slot, timestamp, seq_num, owner, quantity
    )


class EventHeap:
    """One ``EventHeap`` account's bytes and the program's operations on them."""

    __slots__ = ("buf",)

    def __init__(self, data: bytes | bytearray) -> None:
        if len(data) != EVENT_HEAP_LEN:
            raise ValueError(f"an EventHeap is {EVENT_HEAP_LEN} bytes, not {len(data)}")
        self.buf = bytearray(data)

    @classmethod
    def new(cls) -> EventHeap:
        """``EventHeap::init`` on a zeroed account (free list 0 → 1 → … → 599)."""
        h = cls(bytearray(EVENT_HEAP_LEN))
        h.buf[:8] = DISC_EVENT_HEAP
        h._header(0, NO_NODE, 0, 0)
        for i in range(MAX_NUM_EVENTS):
            h._links(i, i + 1 if i < MAX_NUM_EVENTS - 1 else NO_NODE, NO_NODE)
        return h

    def copy(self) -> EventHeap:
        return EventHeap(self.buf)

    def data(self) -> bytes:
        return bytes(self.buf)

    def header(self) -> tuple[int, int, int, int]:
        """(free_head, used_head, count, seq_num)."""
        free, used, count, _, seq = struct.unpack_from("<HHHHQ", self.buf, 8)
        return free, used, count, seq

    def _header(self, free: int, used: int, count: int, seq: int) -> None:
        struct.pack_into("<HHHHQ", self.buf, 8, free, used, count, 0, seq)

    def _off(self, slot: int) -> int:
        return _EV_NODES + _EV_NODE * slot

    def links(self, slot: int) -> tuple[int, int]:
        return struct.unpack_from("<HH", self.buf, self._off(slot))  # type: ignore[return-value]

    def _links(self, slot: int, nxt: int, prev: int) -> None:
        struct.pack_into("<HH", self.buf, self._off(slot), nxt, prev)

    def event(self, slot: int) -> bytes:
        o = self._off(slot) + 8
        return bytes(self.buf[o : o + EVENT_SIZE])

    def __len__(self) -> int:
        return self.header()[2]

    def push_back(self, event: bytes) -> None:
        """``EventHeap::push_back``."""
        free, used, count, seq = self.header()
        if count == MAX_NUM_EVENTS:
            raise ValueError("the event heap is full")
        slot = free
        free = self.links(slot)[0]
        if count == 0:
            nxt = prev = slot
            used = slot
        else:
            nxt = used
            prev = self.links(nxt)[1]
            self._links(prev, slot, self.links(prev)[1])
            self._links(nxt, self.links(nxt)[0], slot)
        self._header(free, used, count + 1, seq + 1)
        o = self._off(slot) + 8
        self.buf[o : o + EVENT_SIZE] = event
        self._links(slot, nxt, prev)

    def delete_slot(self, slot: int) -> bytes:
        """``EventHeap::delete_slot`` (the event's bytes stay in the freed slot)."""
        free, used, count, seq = self.header()
        if slot >= MAX_NUM_EVENTS or count == 0 or self.links(slot)[1] == NO_NODE:
            raise ValueError(f"event slot {slot} is not in use")
        nxt, prev = self.links(slot)
        self._links(prev, nxt, self.links(prev)[1])
        self._links(nxt, self.links(nxt)[0], prev)
        if count == 1:
            used = NO_NODE
        elif used == slot:
            used = nxt
        self._header(slot, used, count - 1, seq)
        self._links(slot, free, NO_NODE)
        return self.event(slot)

    def slots(self) -> list[int]:
        """The used slots from the head (``EventHeap::iter``)."""
        _, used, count, _ = self.header()
        out, slot = [], used
        for _ in range(count):
            out.append(slot)
            slot = self.links(slot)[0]
        return out

    def consume(self, limit: int) -> int:
        """``consume_events`` with no open-orders accounts missing: up to ``limit`` (at most
        ``MAX_EVENTS_CONSUME`` = 8) events from the head deleted; how many."""
        todo = self.slots()[: min(limit, 8)]
        for slot in todo:
            self.delete_slot(slot)
        return len(todo)


# ------------------------------------------------------------------ Market
# DISC_MARKET, MARKET_LEN, FEES_SCALE_FACTOR, DROP_EXPIRED_ORDER_LIMIT: the venue's
# lamports a taker pays when its order adds to the event heap: 0 in the deployed program
# (the penalty was set to 0 on 2023-12-26 and to 500 again on 2024-03-22, c889570, after
# the code it runs); the system transfer is made all the same
PENALTY_EVENT_HEAP = 0
ZERO32 = bytes(32)


@dataclass(slots=True)
class MarketState:
    """The ``Market`` account's fields (``state/market.rs``), keys as 32 raw bytes; a
    ``NonZeroPubkeyOption`` is 32 zero bytes when unset."""

    bump: int
    base_decimals: int
    quote_decimals: int
    market_authority: bytes
    time_expiry: int
    collect_fee_admin: bytes
    open_orders_admin: bytes
    consume_events_admin: bytes
    close_market_admin: bytes
    name: bytes
    bids: bytes
    asks: bytes
    event_heap: bytes
    oracle_a: bytes
    oracle_b: bytes
    conf_filter: float
    max_staleness_slots: int
    quote_lot_size: int
    base_lot_size: int
    seq_num: int
    registration_time: int
    maker_fee: int
    taker_fee: int
    fees_accrued: int
    fees_to_referrers: int
    referrer_rebates_accrued: int
    fees_available: int
    maker_volume: int
    taker_volume_wo_oo: int
    base_mint: bytes
    quote_mint: bytes
    market_base_vault: bytes
    base_deposit_total: int
    market_quote_vault: bytes
    quote_deposit_total: int

    def pack(self) -> bytes:
        """The account's 848 bytes: the discriminator, then the struct's fields at their
        offsets (``repr(C)``, no padding beyond ``padding1``; 128 reserved bytes last)."""
        head = struct.pack(
            "<BBB5x32sq32s32s32s32s16s32s32s32s32s32sdq72xqqQqqq",
            self.bump,
            self.base_decimals,
            self.quote_decimals,
            self.market_authority,
            self.time_expiry,
            self.collect_fee_admin,
            self.open_orders_admin,
            self.consume_events_admin,
            self.close_market_admin,
            self.name.ljust(16, b"\0"),
            self.bids,
            self.asks,
            self.event_heap,
            self.oracle_a,
            self.oracle_b,
            self.conf_filter,
            self.max_staleness_slots,
            self.quote_lot_size,
            self.base_lot_size,
            self.seq_num,
            self.registration_time,
            self.maker_fee,
            self.taker_fee,
        )
        body = (
            head
            + self.fees_accrued.to_bytes(16, "little")
            + self.fees_to_referrers.to_bytes(16, "little")
            + struct.pack("<QQ", self.referrer_rebates_accrued, self.fees_available)
            + self.maker_volume.to_bytes(16, "little")
            + self.taker_volume_wo_oo.to_bytes(16, "little")
            + self.base_mint
            + self.quote_mint
            + self.market_base_vault
            + struct.pack("<Q", self.base_deposit_total)
            + self.market_quote_vault
            + struct.pack("<Q", self.quote_deposit_total)
            + bytes(128)
        )
        assert len(body) == 840, len(body)
        return DISC_MARKET + body

    def max_base_lots(self) -> int:
        return I64_MAX // self.base_lot_size

    def max_quote_lots(self) -> int:
        return I64_MAX // self.quote_lot_size

    def subtract_taker_fees(self, quote: int) -> int:
        return quote * FEES_SCALE_FACTOR // (FEES_SCALE_FACTOR + self.taker_fee)

    def taker_fees_ceil(self, amount: int) -> int:
        return (amount * self.taker_fee + FEES_SCALE_FACTOR - 1) // FEES_SCALE_FACTOR

    def maker_rebate_floor(self, amount: int) -> int:
        """What a maker earns back on ``amount`` quote (0 when the maker fee is positive)."""
        if self.maker_fee > 0:
            return 0
        return amount * -self.maker_fee // FEES_SCALE_FACTOR

    def is_expired(self, now_ts: int) -> bool:
        return self.time_expiry != 0 and self.time_expiry < now_ts


# PlaceOrderType: LIMIT, IMMEDIATE_OR_CANCEL, POST_ONLY, MARKET, POST_ONLY_SLIDE,
# FILL_OR_KILL (the venue's)


class TakeRefused(Exception):
    """The program refused the taker order with its ``OpenBookError`` ``code``."""

    def __init__(self, code: int, name: str) -> None:
        super().__init__(f"{name} ({code})")
        self.code = code


@dataclass(frozen=True, slots=True)
class Take:
    """What ``place_take_order`` did: base and quote lots and native amounts matched, the
    taker fee, the makers' rebates, what the user deposits and withdraws, the fills and
    expired orders dropped, and whether the event heap grew (the penalty)."""

    base_lots: int
    quote_lots: int
    base_native: int
    quote_native: int
    taker_fees: int
    makers_rebates: int
    deposit: int
    withdraw: int
    fills: int
    dropped: int
    events_added: int


def take(
    market: MarketState,
    bids: BookSide,
    asks: BookSide,
    heap: EventHeap,
    side: int,
    price_lots: int,
    max_base_lots: int,
    max_quote_lots_including_fees: int,
    order_type: int,
    limit: int,
    now_ts: int,
    taker: bytes,
) -> Take:
    """``place_take_order`` (``lib.rs``, ``instructions/place_take_order.rs``) and the
    matching of ``Orderbook::new_order`` for a taker with no open-orders account and no
    oracle, on the given accounts (changed in place): the errors in the program's order."""
    if price_lots < 1:
        raise TakeRefused(6008, "InvalidInputPriceLots")
    if order_type == MARKET:
        limit_price = I64_MAX if side == BID else 1
    elif order_type in (IMMEDIATE_OR_CANCEL, FILL_OR_KILL):
        limit_price = price_lots
    else:
        raise TakeRefused(6010, "InvalidInputOrderType")
    if max_base_lots < 0 or max_quote_lots_including_fees < 0:
        raise TakeRefused(6004, "InvalidInputLots")
    if market.is_expired(now_ts):
        raise TakeRefused(6030, "MarketHasExpired")
    heap_before = len(heap)
    market.seq_num += 1  # gen_order_id
    max_quote = max_quote_lots_including_fees
    if side == BID:
        max_quote = market.subtract_taker_fees(max_quote)
    if max_base_lots > market.max_base_lots() or max_quote > market.max_quote_lots():
        raise TakeRefused(6005, "InvalidInputLotsSize")
    remaining_base, remaining_quote = max_base_lots, max_quote
    rebates = dropped = fills = 0
    changes: list[tuple[int, int]] = []
    deletes: list[tuple[int, int]] = []
    book = asks if side == BID else bids
    other = ASK if side == BID else BID
    for item in book.iter_all(now_ts):
        if remaining_base == 0 or remaining_quote == 0:
            break
        node = item.leaf
        if not item.valid:
            if dropped < DROP_EXPIRED_ORDER_LIMIT:
                dropped += 1
                seq = heap.header()[3]
                heap.push_back(
                    out_event(other, node.owner_slot, now_ts, seq, node.owner, node.quantity)
                )
                deletes.append((item.tree, node.key))
            continue
        price = item.price_lots
        if not (price <= limit_price if side == BID else price >= limit_price):
            break
        if limit == 0:
            break
        by_quote = remaining_quote // price
        if by_quote == 0:
            break
        base = min(remaining_base, node.quantity, by_quote)
        quote = base * price
        rebates += market.maker_rebate_floor(quote * market.quote_lot_size)
        remaining_base -= base
        remaining_quote -= quote
        left = node.quantity - base
        if left == 0:
            deletes.append((item.tree, node.key))
        else:
            changes.append((item.handle, left))
        heap.push_back(
            fill_event(
                side,
                left == 0,
                node.owner_slot,
                now_ts,
                heap.header()[3],
                node.owner,
                node.client_order_id,
                node.timestamp,
                taker,
                0,
                price,
                node.peg_limit,
                base,
            )
        )
        fills += 1
        limit -= 1
    quote_lots = max_quote - remaining_quote
    base_lots = max_base_lots - remaining_base
    base_native = base_lots * market.base_lot_size
    quote_native = quote_lots * market.quote_lot_size
    fees = 0
    if quote_lots > 0 or base_lots > 0:
        if quote_native > 0:
            fees = market.taker_fees_ceil(quote_native)
            market.fees_accrued += fees - rebates
        market.taker_volume_wo_oo += quote_native
    for h, qty in changes:
        book.set_quantity(h, qty)
    for tree, key in deletes:
        book.remove_by_key(tree, key)
    if order_type == FILL_OR_KILL and remaining_base > 0:
        raise TakeRefused(6043, "WouldExecutePartially")
    # place_take_order: makers_rebates = taker_fees - referrer_amount (0 with no quote)
    rebates_paid = rebates if quote_native > 0 else 0
    if side == BID:
        deposit, withdraw = quote_native + rebates_paid, base_native
        market.base_deposit_total -= base_native
        market.quote_deposit_total += deposit
    else:
        deposit, withdraw = base_native, quote_native - rebates_paid
        market.base_deposit_total += base_native
        market.quote_deposit_total -= withdraw
    return Take(
        base_lots,
        quote_lots,
        base_native,
        quote_native,
        fees,
        rebates_paid,
        deposit,
        withdraw,
        fills,
        dropped,
        len(heap) - heap_before,
    )


def maker_fees_floor(market: MarketState, amount: int) -> int:
    """``Market::maker_fees_floor``: a positive maker fee on ``amount`` quote, rounded down."""
    return amount * market.maker_fee // FEES_SCALE_FACTOR if market.maker_fee > 0 else 0


def consume_events(market: MarketState, heap: EventHeap, limit: int) -> int:
    """``consume_events`` with every maker's open-orders account at hand: up to ``limit``
    (at most 8) events from the head; a fill is ``OpenOrdersAccount::execute_maker``'s
    part in the market (the maker fee accrued, the maker volume), an out event changes
    only its owner's account. How many were consumed."""
    todo = heap.slots()[: min(limit, 8)]
    for slot in todo:
        raw = heap.event(slot)
        if raw[0] == FILL:
            price, _, quantity = struct.unpack_from("<qqq", raw, 104)
            quote_native = quantity * price * market.quote_lot_size
            fees = maker_fees_floor(market, quote_native)
            market.referrer_rebates_accrued += fees
            market.maker_volume += quote_native
            market.fees_accrued += fees
        heap.delete_slot(slot)
    return len(todo)

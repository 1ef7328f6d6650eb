"""OpenBook v2 account bytes for the bench and the tests: a ``Market``, a ``BookSide``
holding given orders in the program's order tree, an ``EventHeap`` holding given events.

Written from the program's layouts (``openbook-dex/openbook-v2`` v0.2.10:
``state/market.rs``, ``state/orderbook/{bookside,ordertree,nodes,heap}.rs``), not from the
engine's decoders, so the decoders can be held to them. A book side's tree is a crit-bit
tree (``OrderTreeNodes``): its shape is fixed by the set of keys (each inner node splits
on the highest bit in which its leaves differ: ``prefix_len`` leading bits shared, left
child 0, right child 1); only where the nodes sit in the 1024 slots depends on the order
they were inserted, so the slots are shuffled by a seed. Until the simulator's own
encoders exist (``feeds/venues/openbook_v2/sim.py``), this is the engine's source of books.
"""

from __future__ import annotations

import hashlib
import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass

DISC_MARKET = hashlib.sha256(b"account:Market").digest()[:8]
DISC_BOOKSIDE = hashlib.sha256(b"account:BookSide").digest()[:8]
DISC_EVENT_HEAP = hashlib.sha256(b"account:EventHeap").digest()[:8]
MARKET_LEN = 8 + 840
BOOKSIDE_LEN = 8 + 90_944
EVENT_HEAP_LEN = 8 + 91_280
NODES = 1024
NODE = 88
NODES_AT = 8 + 6 * 8 + 256 + 16 + 512  # roots, reserved, OrderTreeNodes header, reserved
EVENTS = 600
U64 = (1 << 64) - 1


def key32(label: str) -> bytes:
    """A deterministic 32-byte address for ``label``."""
    return hashlib.sha256(label.encode()).digest()


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """One resting order: ``price`` in lots for a fixed order, the offset in lots for an
    oracle-pegged one; ``seq`` its sequence number (unique per side); the rest as the
    ``LeafNode``."""

    price: int
    quantity: int
    seq: int
    pegged: bool = False
    owner_slot: int = 0
    time_in_force: int = 0
    owner: bytes = b"\x07" * 32
    timestamp: int = 0
    peg_limit: int = -1
    client_order_id: int = 0

    def key(self, bid: bool) -> int:
        data = (self.price + (1 << 63)) % (1 << 64) if self.pegged else self.price
        seq = U64 ^ self.seq if bid else self.seq
        return (data << 64) | seq


def market(
    *,
    base_decimals: int = 9,
    quote_decimals: int = 6,
    base_lot_size: int = 1_000_000,
    quote_lot_size: int = 1,
    maker_fee: int = -200,
    taker_fee: int = 400,
    time_expiry: int = 0,
    registration_time: int = 1_700_000_000,
    seq_num: int = 0,
    name: bytes = b"SOL-USDC",
    oracle_a: bytes | None = None,
    oracle_b: bytes | None = None,
    label: str = "market",
) -> bytes:
    """A ``Market`` account (848 bytes); its addresses derived from ``label``."""
    b = bytearray(MARKET_LEN)
    b[:8] = DISC_MARKET
    b[8], b[9], b[10] = 255, base_decimals, quote_decimals
    k = {
        n: key32(f"{label}/{n}")
        for n in (
            "authority",
            "fee_admin",
            "bids",
            "asks",
            "event_heap",
            "base_mint",
            "quote_mint",
            "base_vault",
            "quote_vault",
        )
    }
    b[16:48] = k["authority"]
    struct.pack_into("<q", b, 48, time_expiry)
    b[56:88] = k["fee_admin"]
    b[184 : 184 + len(name)] = name[:16]
    b[200:232], b[232:264], b[264:296] = k["bids"], k["asks"], k["event_heap"]
    if oracle_a is not None:
        b[296:328] = oracle_a
    if oracle_b is not None:
        b[328:360] = oracle_b
    struct.pack_into("<dq", b, 360, 0.1, -1)
    struct.pack_into(
        "<qqQqqq",
        b,
        448,
        quote_lot_size,
        base_lot_size,
        seq_num,
        registration_time,
        maker_fee,
        taker_fee,
    )
    b[576:608], b[608:640] = k["base_mint"], k["quote_mint"]
    b[640:672], b[680:712] = k["base_vault"], k["quote_vault"]
    return bytes(b)


def market_keys(label: str = "market") -> dict[str, str]:
    """The base58 addresses :func:`market` wrote for ``label``."""
    import engine_rs

    b58encode = engine_rs.load("python").b58encode  # the twin's: no backend under test

    names = ("bids", "asks", "event_heap", "base_mint", "quote_mint", "base_vault", "quote_vault")
    return {n: b58encode(key32(f"{label}/{n}")) for n in names}


def _leaf(o: OrderSpec, bid: bool) -> bytes:
    return struct.pack(
        "<BBH4x16s32sqQqQ",
        2,
        o.owner_slot,
        o.time_in_force,
        o.key(bid).to_bytes(16, "little"),
        o.owner,
        o.quantity,
        o.timestamp,
        o.peg_limit,
        o.client_order_id,
    )


def _expiry(o: OrderSpec) -> int:
    return U64 if o.time_in_force == 0 else min(o.timestamp + o.time_in_force, U64)


def _build(
    items: list[tuple[int, OrderSpec]], bid: bool, slots: list[int], nodes: dict[int, bytes]
) -> tuple[int, int]:
    """Write the crit-bit tree of ``items`` (sorted by key, distinct) into ``nodes`` at
    slots taken from ``slots``; (its root slot, its earliest expiry)."""
    if len(items) == 1:
        h = slots.pop()
        nodes[h] = _leaf(items[0][1], bid)
        return h, _expiry(items[0][1])
    lo, hi = items[0][0], items[-1][0]
    bit = (lo ^ hi).bit_length() - 1  # the highest bit in which they differ
    prefix_len = 127 - bit
    split = next(i for i, (k, _) in enumerate(items) if k >> bit & 1)
    h = slots.pop()
    left, le = _build(items[:split], bid, slots, nodes)
    right, re_ = _build(items[split:], bid, slots, nodes)
    nodes[h] = struct.pack(
        "<B3xI16sIIQQ40x", 1, prefix_len, lo.to_bytes(16, "little"), left, right, le, re_
    )
    return h, min(le, re_)


def bookside(
    bid: bool,
    orders: Sequence[OrderSpec],
    seed: int = 0,
    free_tags: bool = True,
) -> bytes:
    """A ``BookSide`` account (90 952 bytes) holding ``orders`` (fixed and pegged) in its
    two trees; node slots shuffled by ``seed``; the unused slots free nodes (tag 3, the
    last 4) when ``free_tags``."""
    fixed = sorted(((o.key(bid), o) for o in orders if not o.pegged), key=lambda t: t[0])
    pegged = sorted(((o.key(bid), o) for o in orders if o.pegged), key=lambda t: t[0])
    for tree in (fixed, pegged):
        keys = [k for k, _ in tree]
        if len(set(keys)) != len(keys):
            raise ValueError("two orders of a tree share a key")
    need = sum(2 * len(t) - 1 for t in (fixed, pegged) if t)
    if need > NODES:
        raise ValueError(f"{len(orders)} orders need {need} nodes, the tree has {NODES}")
    slots = list(range(NODES))
    random.Random(seed).shuffle(slots)
    nodes: dict[int, bytes] = {}
    roots = []
    for tree in (fixed, pegged):
        roots.append(_build(tree, bid, slots, nodes)[0] if tree else 0)
    b = bytearray(BOOKSIDE_LEN)
    b[:8] = DISC_BOOKSIDE
    struct.pack_into("<IIII", b, 8, roots[0], len(fixed), roots[1], len(pegged))
    b[312] = 0 if bid else 1
    free = [s for s in range(NODES) if s not in nodes]
    struct.pack_into(
        "<III",
        b,
        316,
        len(nodes),
        len(free) if free_tags else 0,
        free[0] if free and free_tags else 0,
    )
    for h, raw in nodes.items():
        at = NODES_AT + h * NODE
        b[at : at + NODE] = raw
    if free_tags:
        for i, h in enumerate(free):
            at = NODES_AT + h * NODE
            last = i == len(free) - 1
            struct.pack_into("<B3xI", b, at, 4 if last else 3, 0 if last else free[i + 1])
    return bytes(b)


@dataclass(frozen=True, slots=True)
class FillSpec:
    """A ``FillEvent`` (or, ``out`` True, an ``OutEvent`` of the same fields)."""

    quantity: int
    price: int = 1
    taker_side: int = 0
    maker_out: int = 0
    maker_slot: int = 0
    timestamp: int = 0
    seq_num: int = 0
    maker: bytes = b"\x01" * 32
    maker_timestamp: int = 0
    taker: bytes = b"\x02" * 32
    taker_client_order_id: int = 0
    peg_limit: int = -1
    maker_client_order_id: int = 0
    out: bool = False


def event_heap(events: Sequence[FillSpec], seed: int = 0, seq_num: int = 0) -> bytes:
    """An ``EventHeap`` (91 288 bytes) whose used list holds ``events`` in order, in
    slots shuffled by ``seed``; the free list the rest."""
    if len(events) > EVENTS:
        raise ValueError("too many events")
    slots = list(range(EVENTS))
    random.Random(seed).shuffle(slots)
    used, free = slots[: len(events)], slots[len(events) :]
    b = bytearray(EVENT_HEAP_LEN)
    b[:8] = DISC_EVENT_HEAP
    struct.pack_into(
        "<HHH2xQ",
        b,
        8,
        free[0] if free else 0xFFFF,
        used[0] if used else 0xFFFF,
        len(events),
        seq_num,
    )
    n = len(used)
    for i, (slot, e) in enumerate(zip(used, events, strict=True)):
        at = 24 + slot * 152
        struct.pack_into("<HH", b, at, used[(i + 1) % n], used[(i - 1) % n])
        if e.out:
            struct.pack_into(
                "<BBB5xQQ32sq",
                b,
                at + 8,
                1,
                e.taker_side,
                e.maker_slot,
                e.timestamp,
                e.seq_num,
                e.maker,
                e.quantity,
            )
        else:
            struct.pack_into(
                "<BBBB4xQQ32sQ32sQqqqQ",
                b,
                at + 8,
                0,
                e.taker_side,
                e.maker_out,
                e.maker_slot,
                e.timestamp,
                e.seq_num,
                e.maker,
                e.maker_timestamp,
                e.taker,
                e.taker_client_order_id,
                e.price,
                e.peg_limit,
                e.quantity,
                e.maker_client_order_id,
            )
    for i, slot in enumerate(free):
        at = 24 + slot * 152
        struct.pack_into("<HH", b, at, free[i + 1] if i + 1 < len(free) else 0xFFFF, 0xFFFF)
    return bytes(b)


def ladder_orders(
    levels: Sequence[tuple[int, int]], per_level: int = 1, first_seq: int = 1
) -> list[OrderSpec]:
    """Fixed orders at ``levels`` ((price lots, quantity) each), ``per_level`` orders a
    level splitting its quantity, sequence numbers from ``first_seq``."""
    out = []
    seq = first_seq
    for price, qty in levels:
        parts = [qty // per_level + (1 if i < qty % per_level else 0) for i in range(per_level)]
        for q in parts:
            if q > 0:
                out.append(OrderSpec(price, q, seq))
                seq += 1
    return out

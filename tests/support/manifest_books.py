"""A Manifest market account read as the program keeps it, wherever its blocks are: the
header's fields that a swap changes and every claimed seat (the engine decodes the book's
orders; these are the rest), for comparing two markets that hold the same book in other
blocks (the simulator writes its red-black trees whole, the program by its own
insertions and rotations).

Layout (``programs/manifest/src/state/market.rs``, ``claimed_seat.rs``; the simulator's
writer: :mod:`feeds.venues.manifest.layout`): ``MarketFixed`` (256 bytes: the order
sequence number at 144, bytes allocated at 152, the seats tree's root at 172, the free
list's head at 176, the quote volume at 184), then 80-byte blocks: a tree node's left,
right, parent (u32 each) and color, its payload from byte 16; a free block's first u32 the
next free one.
"""

from __future__ import annotations

import struct

from solders.pubkey import Pubkey

from feeds.venues.manifest.layout import BLOCK, MARKET_FIXED, NIL


def _in_order(data: bytes, root: int) -> list[int]:
    out: list[int] = []
    stack: list[int] = []
    node = root
    while stack or node != NIL:
        while node != NIL:
            stack.append(node)
            node = struct.unpack_from("<I", data, MARKET_FIXED + node)[0]
        node = stack.pop()
        out.append(node)
        node = struct.unpack_from("<I", data, MARKET_FIXED + node + 4)[0]
    return out


def seats(data: bytes) -> dict[str, tuple[int, int, int]]:
    """Every claimed seat: trader -> (base withdrawable, quote withdrawable, quote volume)."""
    root = struct.unpack_from("<I", data, 172)[0]
    out = {}
    for i in _in_order(data, root):
        o = MARKET_FIXED + i + 16
        trader = str(Pubkey(data[o : o + 32]))
        out[trader] = struct.unpack_from("<QQQ", data, o + 32)
    return out


def free_blocks(data: bytes) -> int:
    """The blocks on the free list."""
    n, at = 0, struct.unpack_from("<I", data, 176)[0]
    while at != NIL and n <= len(data) // BLOCK:
        n += 1
        at = struct.unpack_from("<I", data, MARKET_FIXED + at)[0]
    return n


def header(data: bytes) -> tuple[int, int, int, int]:
    """(order sequence number, bytes allocated, quote volume, free blocks)."""
    seq, allocated = struct.unpack_from("<QI", data, 144)
    (volume,) = struct.unpack_from("<Q", data, 184)
    return seq, allocated, volume, free_blocks(data)

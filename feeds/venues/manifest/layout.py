"""Manifest's account layouts written out (the simulator's markets and the tests' books):
a ``MarketFixed`` header and its 80-byte blocks (seats, bids, asks, the free list) as
red-black trees, and a mint's ``GlobalFixed`` with its traders' deposits. The engine
decodes them (``eng.manifest.decode_market`` / ``decode_global``).

The trees are built whole from sorted nodes (the middle of a run its root, the deepest
level of an incomplete tree red, every other node black: a valid red-black tree), not by
the program's own insertions and rotations, so a market written here holds the same book
in the same order as the program's but not always its bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from solders.pubkey import Pubkey

from ..ids import ids, program

IDS = ids("manifest")
PROGRAM = program(IDS)
NIL = 0xFFFF_FFFF
MARKET_FIXED = 256
BLOCK = 80
GLOBAL_FIXED = 96
GLOBAL_BLOCK = 64
DISC_MARKET = (4_859_840_929_024_028_656).to_bytes(8, "little")
DISC_GLOBAL = (10_787_423_733_276_977_665).to_bytes(8, "little")
SEAT, ORDER = 1, 2
LIMIT, IMMEDIATE_OR_CANCEL, POST_ONLY, GLOBAL, REVERSE, REVERSE_TIGHT = range(6)
D18 = 10**18


def _b(key: str) -> bytes:
    return bytes(Pubkey.from_string(key))


def pda(seeds: list[bytes]) -> tuple[str, int]:
    addr, bump = Pubkey.find_program_address(seeds, Pubkey.from_string(PROGRAM))
    return str(addr), bump


def vault_address(market: str, mint: str) -> tuple[str, int]:
    """``["vault", market, mint]``: a market's vault (its own token authority)."""
    return pda([b"vault", _b(market), _b(mint)])


def global_address(mint: str) -> tuple[str, int]:
    """``["global", mint]``."""
    return pda([b"global", _b(mint)])


def global_vault_address(mint: str) -> tuple[str, int]:
    """``["global-vault", mint]``."""
    return pda([b"global-vault", _b(mint)])


@dataclass(slots=True)
class Order:
    """A resting order as the market holds it (``price``: quote atoms per base atom
    times 10^18; ``trader``: its maker, who holds a seat)."""

    price: int
    base_atoms: int
    sequence_number: int
    trader: str
    is_bid: bool
    last_valid_slot: int = 0
    order_type: int = LIMIT
    reverse_spread: int = 0


@dataclass(slots=True)
class Seat:
    trader: str
    base: int = 0
    quote: int = 0
    quote_volume: int = 0


@dataclass(slots=True)
class Market:
    """A market's state: its header's fields, seats, orders and spare blocks."""

    base_mint: str
    quote_mint: str
    base_vault: str
    quote_vault: str
    base_decimals: int
    quote_decimals: int
    base_vault_bump: int = 255
    quote_vault_bump: int = 255
    sequence_number: int = 0
    quote_volume: int = 0
    free_blocks: int = 2

    def pack(self, seats: Sequence[Seat], bids: Sequence[Order], asks: Sequence[Order]) -> bytes:
        """The account's bytes: seats, bids and asks each a red-black tree, then the free
        blocks on the free list (``free_blocks`` of them)."""
        n_seats, n_bids, n_asks = len(seats), len(bids), len(asks)
        total = n_seats + n_bids + n_asks + self.free_blocks
        dyn = bytearray(total * BLOCK)
        at = 0
        seat_index: dict[str, int] = {}
        # seats: ordered by trader bytes
        s_sorted = sorted(seats, key=lambda s: _b(s.trader))
        s_idx = [(at + k) * BLOCK for k in range(n_seats)]
        for k, s in enumerate(s_sorted):
            seat_index[s.trader] = s_idx[k]
            payload = _b(s.trader) + struct.pack("<QQQ8x", s.base, s.quote, s.quote_volume)
            dyn[s_idx[k] + 16 : s_idx[k] + 80] = payload
            dyn[s_idx[k] + 13] = SEAT
        seats_root = _tree(dyn, s_idx)
        at += n_seats

        def side(orders: Sequence[Order], bid: bool, start: int) -> tuple[int, int]:
            # in-order ascending: the tree's max is the best order, ties oldest first
            if bid:
                ordered = sorted(orders, key=lambda o: (o.price, -o.sequence_number))
            else:
                ordered = sorted(orders, key=lambda o: (-o.price, -o.sequence_number))
            idx = [(start + k) * BLOCK for k in range(len(ordered))]
            for k, o in enumerate(ordered):
                payload = struct.pack(
                    "<QQQQIIBBH20x",
                    o.price & (2**64 - 1),
                    o.price >> 64,
                    o.base_atoms,
                    o.sequence_number,
                    seat_index[o.trader],
                    o.last_valid_slot,
                    1 if bid else 0,
                    o.order_type,
                    o.reverse_spread,
                )
                dyn[idx[k] + 16 : idx[k] + 80] = payload
                dyn[idx[k] + 13] = ORDER
            root = _tree(dyn, idx)
            return root, (idx[-1] if idx else NIL)

        bids_root, bids_best = side(bids, True, at)
        at += n_bids
        asks_root, asks_best = side(asks, False, at)
        at += n_asks
        free = [(at + k) * BLOCK for k in range(self.free_blocks)]
        for k, i in enumerate(free):
            nxt = free[k + 1] if k + 1 < len(free) else NIL
            dyn[i : i + 4] = struct.pack("<I", nxt)
        head = free[0] if free else NIL
        fixed = bytearray(MARKET_FIXED)
        fixed[0:8] = DISC_MARKET
        fixed[8:13] = bytes(
            [
                0,
                self.base_decimals,
                self.quote_decimals,
                self.base_vault_bump,
                self.quote_vault_bump,
            ]
        )
        fixed[16:48] = _b(self.base_mint)
        fixed[48:80] = _b(self.quote_mint)
        fixed[80:112] = _b(self.base_vault)
        fixed[112:144] = _b(self.quote_vault)
        struct.pack_into(
            "<QIIIIIII4xQ",
            fixed,
            144,
            self.sequence_number,
            len(dyn),
            bids_root,
            bids_best,
            asks_root,
            asks_best,
            seats_root,
            head,
            self.quote_volume,
        )
        return bytes(fixed) + bytes(dyn)


def _tree(dyn: bytearray, idx: Sequence[int]) -> int:
    """Link the blocks ``idx`` (in in-order) as a balanced red-black tree; its root."""
    if not idx:
        return NIL
    depth_of: dict[int, int] = {}

    def build(lo: int, hi: int, parent: int, depth: int) -> int:
        if lo > hi:
            return NIL
        mid = (lo + hi + 1) // 2
        node = idx[mid]
        depth_of[node] = depth
        left = build(lo, mid - 1, node, depth + 1)
        right = build(mid + 1, hi, node, depth + 1)
        struct.pack_into("<III", dyn, node, left, right, parent)
        return node

    root = build(0, len(idx) - 1, NIL, 0)
    deepest = max(depth_of.values())
    perfect = len(idx) == 2 ** (deepest + 1) - 1
    for node, d in depth_of.items():
        dyn[node + 12] = 1 if (d == deepest and not perfect and d > 0) else 0
    return root


def pack_global(
    mint: str, vault: str, deposits: dict[str, int], vault_bump: int = 255, global_bump: int = 255
) -> bytes:
    """A mint's global account holding ``deposits`` (trader -> atoms) and two free blocks."""
    traders = sorted(deposits, key=_b)
    n = len(traders)
    dyn = bytearray((2 * n + 2) * GLOBAL_BLOCK)
    t_idx = [k * GLOBAL_BLOCK for k in range(n)]
    # the deposits tree: reversed by balance (its max the smallest deposit)
    by_balance = sorted(traders, key=lambda t: -deposits[t])
    d_idx = [(n + k) * GLOBAL_BLOCK for k in range(n)]
    d_of = {t: d_idx[k] for k, t in enumerate(by_balance)}
    for k, t in enumerate(traders):
        dyn[t_idx[k] + 16 : t_idx[k] + 48] = _b(t)
        struct.pack_into("<I", dyn, t_idx[k] + 48, d_of[t])
    for t, i in d_of.items():
        dyn[i + 16 : i + 48] = _b(t)
        struct.pack_into("<Q", dyn, i + 48, deposits[t])
    traders_root = _tree64(dyn, t_idx)
    deposits_root = _tree64(dyn, d_idx)
    free = [(2 * n + k) * GLOBAL_BLOCK for k in range(2)]
    struct.pack_into("<I", dyn, free[0], free[1])
    struct.pack_into("<I", dyn, free[1], NIL)
    fixed = bytearray(GLOBAL_FIXED)
    fixed[0:8] = DISC_GLOBAL
    fixed[8:40] = _b(mint)
    fixed[40:72] = _b(vault)
    struct.pack_into(
        "<IIIIIBBH",
        fixed,
        72,
        traders_root,
        deposits_root,
        d_idx[-1] if d_idx else NIL,
        free[0],
        len(dyn),
        vault_bump,
        global_bump,
        n,
    )
    return bytes(fixed) + bytes(dyn)


def _tree64(dyn: bytearray, idx: Sequence[int]) -> int:
    return _tree(dyn, idx)

"""Transaction sizing: the one packet limit, and how big the transaction a cycle becomes
is (computed from the venues' own builders, on placeholder keys).

A transaction is refused by a node's RPC when its bytes on the wire exceed
:data:`PACKET_DATA_SIZE` (1280 IPv6 MTU - 40 IPv6 header - 8 fragment header); paper
refuses the cycles live could not send, the live executor refuses (or splits) what is
over, and the simulator refuses it as a node does.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from solders.pubkey import Pubkey

from .. import venues
from .instructions import (
    JITO_TIP_ACCOUNTS,
    create_ata_instruction,
    set_compute_unit_limit,
    set_compute_unit_price,
    transfer,
)

PACKET_DATA_SIZE = 1232  # the largest transaction a node accepts, in bytes on the wire


def _placeholder(name: str) -> str:
    return str(Pubkey.from_bytes(hashlib.sha256(name.encode()).digest()))


@lru_cache(maxsize=1024)
def _shape_size(kinds: tuple[str, ...], pattern: tuple[int, ...], tip: bool, creates: int) -> int:
    from solders.hash import Hash
    from solders.message import MessageV0
    from solders.signature import Signature
    from solders.transaction import VersionedTransaction

    me = _placeholder("payer")
    tok = [_placeholder(f"token{i}") for i in pattern]
    ata = [_placeholder(f"ata{i}") for i in pattern]
    ixs = [set_compute_unit_limit(1), set_compute_unit_price(1)]
    for i in range(creates):  # an ATA created in the transaction (its mint is a key too)
        ixs.append(create_ata_instruction(me, _placeholder(f"new-ata{i}"), me,
                                          _placeholder(f"new-mint{i}")))  # fmt: skip
    for h, kind in enumerate(kinds):
        k = [_placeholder(f"hop{h}:{j}") for j in range(8)]  # the pool's own accounts
        ixs.append(venues.by_kind(kind).sizing_swap(me, k, ata[h], ata[h + 1], tok[h], tok[h + 1]))
    if tip:
        ixs.append(transfer(me, JITO_TIP_ACCOUNTS[0], 1))
    msg = MessageV0.try_compile(Pubkey.from_string(me), ixs, [], Hash.default())
    return len(bytes(VersionedTransaction.populate(msg, [Signature.default()])))


def swap_tx_size(kinds: list[str], tokens: list[str], tip: bool = False, creates: int = 0) -> int:
    """The size in bytes of the transaction a cycle becomes (compute budget, one swap per
    hop of ``kinds`` — venue kinds: amm_v4 | cpmm | whirlpool — through ``tokens``, a
    tip, ``creates`` new token accounts), with no address lookup table: the venues'
    builders on placeholder keys. Exact when the pools share no account, an upper bound
    otherwise (two CP-Swap pools may share a config). Cached per shape."""
    first: dict[str, int] = {}
    pattern = tuple(first.setdefault(t, len(first)) for t in tokens)
    return _shape_size(tuple(kinds), pattern, tip, creates)

"""Transaction sizing: the one packet limit, and how big the transaction a cycle becomes
is (computed from the venues' own builders, on placeholder keys).

A transaction is refused by a node's RPC when its bytes on the wire exceed
:data:`PACKET_DATA_SIZE` (1280 IPv6 MTU - 40 IPv6 header - 8 fragment header); paper
refuses the cycles live could not send, the live executor refuses (or splits) what is
over, and the simulator refuses it as a node does.

With ``tables`` the size is that of the v0 message compiled against address lookup
tables holding what the live executor's tables hold (``arbscope.execution.tables``):
every account that does not sign, is not an invoked program and is not a Jito tip
account. The executor fills its tables pool by pool, so a cycle's accounts lie in a few
of them; the estimate puts each hop's accounts in a table of its own (the wallet's token
accounts in the first), an upper bound on the tables a live order references, so what
paper calls sendable the live executor can send once its tables hold the pools.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from .. import venues
from .instructions import (
    JITO_TIP_ACCOUNTS,
    SPL_TOKEN,
    create_ata_instruction,
    set_compute_unit_limit,
    set_compute_unit_price,
    transfer,
)

PACKET_DATA_SIZE = 1232  # the largest transaction a node accepts, in bytes on the wire
# the accounts a transaction may name, static and looked up (Agave's
# MAX_TX_ACCOUNT_LOCKS; more is TooManyAccountLocks, refused before it runs)
MAX_TX_ACCOUNT_LOCKS = 64


def _placeholder(name: str) -> str:
    return str(Pubkey.from_bytes(hashlib.sha256(name.encode()).digest()))


def lookup_keys(ixs: list[Instruction], payer: Pubkey) -> list[Pubkey]:
    """The accounts of ``ixs`` a lookup table may hold for a transaction of ``payer`` (in
    order, once each): not a signer, not an invoked program, not a Jito tip account."""
    programs = {ix.program_id for ix in ixs}
    out: dict[Pubkey, None] = {}
    for ix in ixs:
        for m in ix.accounts:
            k = m.pubkey
            if not (m.is_signer or k == payer or k in programs or k in _TIPS):
                out[k] = None
    return list(out)


_TIPS = frozenset(Pubkey.from_string(k) for k in JITO_TIP_ACCOUNTS)


@lru_cache(maxsize=16_384)  # (a 4-hop cycle and its cuts: a few shapes each)
def _shape(
    kinds: tuple[str, ...],
    pattern: tuple[int, ...],
    tip: bool,
    creates: int,
    tables: bool,
    programs: tuple[str, ...],
) -> tuple[int, int]:
    from solders.address_lookup_table_account import AddressLookupTableAccount
    from solders.hash import Hash
    from solders.message import MessageV0
    from solders.signature import Signature
    from solders.transaction import VersionedTransaction

    me = _placeholder("payer")
    tok = [_placeholder(f"token{i}") for i in pattern]
    ata = [_placeholder(f"ata{i}") for i in pattern]
    ixs = [set_compute_unit_limit(1), set_compute_unit_price(1)]
    for i in range(creates):  # an ATA created in the transaction (its mint is a key too)
        ixs.append(
            create_ata_instruction(
                me, _placeholder(f"new-ata{i}"), me, _placeholder(f"new-mint{i}")
            )
        )
    groups = [list(ixs)]
    for h, kind in enumerate(kinds):
        k = [_placeholder(f"hop{h}:{j}") for j in range(8)]  # the pool's own accounts
        swap = venues.by_kind(kind).sizing_swap(
            me, k, ata[h], ata[h + 1], tok[h], tok[h + 1], (programs[h], programs[h + 1])
        )
        ixs.append(swap)
        groups.append([swap])
    if tip:
        ixs.append(transfer(me, JITO_TIP_ACCOUNTS[0], 1))
    payer = Pubkey.from_string(me)
    luts = []
    if tables:  # each hop's accounts in a table of its own; the wallet's in the first
        seen: set[Pubkey] = set()
        invoked = {ix.program_id for ix in ixs}
        for g, group in enumerate(groups):
            keys = [k for k in lookup_keys(group, payer) if k not in seen and k not in invoked]
            seen.update(keys)
            if keys:
                luts.append(
                    AddressLookupTableAccount(Pubkey.from_string(_placeholder(f"table{g}")), keys)
                )
    msg = MessageV0.try_compile(payer, ixs, luts, Hash.default())
    size = len(bytes(VersionedTransaction.populate(msg, [Signature.default()])))
    looked = sum(
        len(t.writable_indexes) + len(t.readonly_indexes) for t in msg.address_table_lookups
    )
    return size, len(msg.account_keys) + looked


def swap_tx_size(
    kinds: list[str],
    tokens: list[str],
    tip: bool = False,
    creates: int = 0,
    tables: bool = False,
    programs: list[str] | None = None,
) -> int:
    """The size in bytes of the transaction a cycle becomes (compute budget, one swap per
    hop of ``kinds`` — venue kinds — through ``tokens``, a tip, ``creates`` new token
    accounts): the venues' builders on placeholder keys, without address lookup tables
    or (``tables``) through them as the module doc says; ``programs``: each token's
    program (a venue builds its Token-2022 instruction for a Token-2022 mint; default SPL
    Token's). Exact without tables when the pools share no account, an upper bound
    otherwise (two CP-Swap pools may share a config). Cached per shape."""
    return _sized(kinds, tokens, tip, creates, tables, programs)[0]


def swap_tx_accounts(
    kinds: list[str],
    tokens: list[str],
    tip: bool = False,
    creates: int = 0,
    programs: list[str] | None = None,
) -> int:
    """How many accounts that transaction names (what :data:`MAX_TX_ACCOUNT_LOCKS`
    bounds, lookup tables or not): on placeholder keys, each pool's accounts its own, so
    an upper bound where pools share one (a CP-Swap config, a mint)."""
    return _sized(kinds, tokens, tip, creates, True, programs)[1]


def _sized(
    kinds: list[str],
    tokens: list[str],
    tip: bool,
    creates: int,
    tables: bool,
    programs: list[str] | None,
) -> tuple[int, int]:
    first: dict[str, int] = {}
    pattern = tuple(first.setdefault(t, len(first)) for t in tokens)
    progs = tuple(programs) if programs is not None else (SPL_TOKEN,) * len(tokens)
    if len(progs) != len(tokens):
        raise ValueError(f"{len(progs)} token programs for {len(tokens)} tokens")
    return _shape(tuple(kinds), pattern, tip, creates, tables, progs)

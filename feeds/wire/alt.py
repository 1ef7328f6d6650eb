"""Address lookup tables on the wire (no I/O): the Address Lookup Table program's
instructions built on solders, a table's address, its account decoded, and v0 messages
compiled against tables.

The program (Agave ``programs/address-lookup-table``; the instruction enum in
``address_lookup_table/instruction.rs``) takes bincode data: a u32 little-endian variant
(0 create, 1 freeze, 2 extend, 3 deactivate, 4 close), then the variant's fields
(create: ``recent_slot`` u64, ``bump_seed`` u8; extend: a u64 count and the 32-byte
addresses). A table lives at the program address of ``[authority, recent_slot as u64
le]`` (``derive_lookup_table_address``) and its account is a 56-byte ``LookupTableMeta``
followed by up to 256 addresses. solders derives the address and decodes the account;
it has no instruction builders, hence these.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from solders.address_lookup_table_account import (
    ID as ALT_PROGRAM_ID,
)
from solders.address_lookup_table_account import (
    LOOKUP_TABLE_MAX_ADDRESSES,
    LOOKUP_TABLE_META_SIZE,
    AddressLookupTable,
    AddressLookupTableAccount,
    derive_lookup_table_address,
)
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey

from .txsize import PACKET_DATA_SIZE

ALT_PROGRAM = str(ALT_PROGRAM_ID)
SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")
MAX_ADDRESSES = LOOKUP_TABLE_MAX_ADDRESSES  # 256
META_SIZE = LOOKUP_TABLE_META_SIZE  # 56
SLOT_HASHES_MAX = 512  # slots a recent slot / a deactivation stays in SlotHashes

CREATE, FREEZE, EXTEND, DEACTIVATE, CLOSE = range(5)

__all__ = [
    "ALT_PROGRAM",
    "MAX_ADDRESSES",
    "META_SIZE",
    "SLOT_HASHES_MAX",
    "close_lookup_table",
    "compile_v0",
    "create_lookup_table",
    "deactivate_lookup_table",
    "extend_batches",
    "extend_lookup_table",
    "missing",
    "tx_size",
    "freeze_lookup_table",
    "table_account",
    "table_address",
]


def _key(k: str | Pubkey) -> Pubkey:
    return k if isinstance(k, Pubkey) else Pubkey.from_string(k)


def table_address(authority: str | Pubkey, recent_slot: int) -> tuple[Pubkey, int]:
    """The table of ``authority`` created with ``recent_slot``, and its bump seed."""
    return derive_lookup_table_address(_key(authority), recent_slot)


def create_lookup_table(
    authority: str | Pubkey, payer: str | Pubkey, recent_slot: int, authority_signs: bool = True
) -> tuple[Instruction, Pubkey]:
    """``CreateLookupTable``: the instruction and the table's address. ``recent_slot``
    must be in the SlotHashes of the slot the transaction runs in (a slot before it,
    at most 512 back)."""
    table, bump = table_address(authority, recent_slot)
    data = struct.pack("<IQB", CREATE, recent_slot, bump)
    metas = [
        AccountMeta(table, False, True),
        AccountMeta(_key(authority), authority_signs, False),
        AccountMeta(_key(payer), True, True),
        AccountMeta(SYSTEM_PROGRAM_ID, False, False),
    ]
    return Instruction(ALT_PROGRAM_ID, data, metas), table


def extend_lookup_table(
    table: str | Pubkey,
    authority: str | Pubkey,
    payer: str | Pubkey | None,
    addresses: Sequence[str | Pubkey],
) -> Instruction:
    """``ExtendLookupTable``: ``addresses`` appended (usable from the next slot); the
    payer (and the system program) only where the table needs more lamports for rent."""
    data = struct.pack("<IQ", EXTEND, len(addresses)) + b"".join(bytes(_key(a)) for a in addresses)
    metas = [AccountMeta(_key(table), False, True), AccountMeta(_key(authority), True, False)]
    if payer is not None:
        metas += [
            AccountMeta(_key(payer), True, True),
            AccountMeta(SYSTEM_PROGRAM_ID, False, False),
        ]
    return Instruction(ALT_PROGRAM_ID, data, metas)


def _simple(kind: int, table: str | Pubkey, authority: str | Pubkey) -> Instruction:
    metas = [AccountMeta(_key(table), False, True), AccountMeta(_key(authority), True, False)]
    return Instruction(ALT_PROGRAM_ID, struct.pack("<I", kind), metas)


def freeze_lookup_table(table: str | Pubkey, authority: str | Pubkey) -> Instruction:
    """``FreezeLookupTable``: the table can never change again (not when empty)."""
    return _simple(FREEZE, table, authority)


def deactivate_lookup_table(table: str | Pubkey, authority: str | Pubkey) -> Instruction:
    """``DeactivateLookupTable``: unusable once its slot leaves SlotHashes (512 slots)."""
    return _simple(DEACTIVATE, table, authority)


def close_lookup_table(
    table: str | Pubkey, authority: str | Pubkey, recipient: str | Pubkey
) -> Instruction:
    """``CloseLookupTable``: a fully deactivated table's lamports to ``recipient``."""
    ix = _simple(CLOSE, table, authority)
    metas = [*ix.accounts, AccountMeta(_key(recipient), False, True)]
    return Instruction(ALT_PROGRAM_ID, bytes(ix.data), metas)


def table_account(address: str | Pubkey, data: bytes) -> AddressLookupTableAccount:
    """A table account's bytes as the ``AddressLookupTableAccount`` a v0 message compiles
    against (every address it holds; ValueError when the bytes are not a table)."""
    table = AddressLookupTable.deserialize(data)
    return AddressLookupTableAccount(_key(address), table.addresses)


def compile_v0(
    payer: str | Pubkey,
    instructions: Sequence[Instruction],
    blockhash: str | Hash,
    tables: Sequence[AddressLookupTableAccount] = (),
) -> MessageV0:
    """A v0 message: every non-signer, non-program account found in ``tables`` is looked
    up there (solders' compiler, the same rule as Agave's ``try_compile``)."""
    bh = blockhash if isinstance(blockhash, Hash) else Hash.from_string(blockhash)
    return MessageV0.try_compile(_key(payer), list(instructions), list(tables), bh)


def tx_size(msg: MessageV0) -> int:
    """The bytes of a transaction of ``msg`` once signed (the signatures' count as a
    compact-u16, 64 bytes each, then the message with its version prefix)."""
    n = msg.header.num_required_signatures
    return (1 if n < 0x80 else 2) + 64 * n + len(to_bytes_versioned(msg))


def missing(
    table: AddressLookupTableAccount | None, wanted: Sequence[str | Pubkey]
) -> list[Pubkey]:
    """The addresses of ``wanted`` (in order, once each) that ``table`` does not hold."""
    have = set() if table is None else set(table.addresses)
    out: list[Pubkey] = []
    for a in wanted:
        k = _key(a)
        if k not in have:
            have.add(k)
            out.append(k)
    return out


def extend_batches(
    table: str | Pubkey,
    authority: str | Pubkey,
    payer: str | Pubkey,
    addresses: Sequence[str | Pubkey],
    before: Sequence[Instruction] = (),
    room: int = MAX_ADDRESSES,
) -> list[list[Pubkey]]:
    """``addresses`` cut into extends that each fit one transaction of ``payer`` with the
    ``before`` instructions (compute budget) ahead of it, at most ``room`` in all (what the
    table can still take); ValueError when they do not fit in the room."""
    keys = [_key(a) for a in addresses]
    if len(keys) > room:
        raise ValueError(f"{len(keys)} addresses, room for {room}")
    out: list[list[Pubkey]] = []
    i = 0
    while i < len(keys):
        n = 1
        while i + n < len(keys) and _fits(table, authority, payer, keys[i : i + n + 1], before):
            n += 1
        if not _fits(table, authority, payer, keys[i : i + n], before):
            raise ValueError("an extend of one address does not fit a transaction")
        out.append(keys[i : i + n])
        i += n
    return out


def _fits(
    table: str | Pubkey,
    authority: str | Pubkey,
    payer: str | Pubkey,
    batch: Sequence[Pubkey],
    before: Sequence[Instruction],
) -> bool:
    ix = extend_lookup_table(table, authority, payer, batch)
    msg = MessageV0.try_compile(_key(payer), [*before, ix], [], Hash.default())
    return tx_size(msg) <= PACKET_DATA_SIZE

"""The Address Lookup Table program and the runtime's address resolution, as a node
runs them (Agave: ``programs/address-lookup-table`` and its Core BPF successor
``solana-program/address-lookup-table``, whose behaviour LiteSVM runs; the state in
``address_lookup_table/state.rs``; resolution in the accounts loader).

- **Account**: a 56-byte ``LookupTableMeta`` (bincode: u32 state 1, ``deactivation_slot``
  u64 — ``u64::MAX`` while active —, ``last_extended_slot`` u64,
  ``last_extended_slot_start_index`` u8, ``authority`` Option<Pubkey> as a 0/1 byte and
  the key, then zero padding to 56), followed by the addresses, 32 bytes each, up to 256.
- **Create** (``recent_slot``, ``bump``): the payer signs;
  ``recent_slot`` must be in SlotHashes (a slot before the current one, at most 512
  back: every simulated slot has a block, so SlotHashes is the 512 slots before this
  one), the address the program address of ``[authority, recent_slot le]`` with that bump;
  the payer funds the rent-exempt minimum of 56 bytes (less what the account holds); a
  table that exists already is left as it is (the live program's create succeeds).
  The authority need not sign (the relaxed check the live program has).
- **Extend**: the authority signs, the table is not frozen nor deactivated, 1 to 256
  addresses in all; ``last_extended_slot`` / ``_start_index`` move once per slot, so the
  runtime serves only the addresses from before this slot (new entries from the next
  slot); the payer tops up rent when the table grows past what it holds.
- **Freeze**, **Deactivate** (deactivation slot = this slot), **Close** (only once
  deactivated: its deactivation slot no longer in SlotHashes, 513 slots later, as
  LiteSVM's run of the live program counts; lamports to a recipient that is not the
  table).
- **Resolution** of a v0 message's lookups at slot ``s``: no account ->
  ``AddressLookupTableNotFound``; not the program's -> ``InvalidAddressLookupTableOwner``;
  bytes that are not a table -> ``InvalidAddressLookupTableData``; a table whose
  deactivation slot has left SlotHashes (not ``s``, not one of the 512 before) ->
  ``AddressLookupTableNotFound``; an index past the active addresses ->
  ``InvalidAddressLookupTableIndex``.

Pure computation over the world's accounts; no I/O.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from solders.pubkey import Pubkey

from ..wire.alt import ALT_PROGRAM, MAX_ADDRESSES, META_SIZE, SLOT_HASHES_MAX
from ..wire.instructions import SYSTEM_PROGRAM
from . import node as N
from .state import Account, KeyTest, Ledger, Ran

if TYPE_CHECKING:
    from solders.instruction import Instruction

    from .state import Pool

U64_MAX = (1 << 64) - 1
# compute units the live program (Core BPF) reports in LiteSVM, rounded: a fixed model
CU_CREATE, CU_EXTEND, CU_OTHER = 10_500, 6_800, 3_000


class AltError(Exception):
    """A lookup the runtime refuses: ``name`` is the TransactionError."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


# how the message sanitizer words the same refusals (AddressLoaderError's Display), as
# getFeeForMessage shows them
LOADER_ERRORS = {
    "AddressLookupTableNotFound": "Attempted to lookup addresses from a table that does not exist",
    "InvalidAddressLookupTableOwner": (
        "Attempted to lookup addresses from an account owned by the wrong program"
    ),
    "InvalidAddressLookupTableData": "Attempted to lookup addresses from an invalid account",
    "InvalidAddressLookupTableIndex": "Address lookup contains an invalid index",
}


class AltFail(Exception):
    """The program failed: ``detail`` the InstructionError, ``logs`` its lines."""

    def __init__(self, detail: Any, logs: list[str]) -> None:
        super().__init__(detail)
        self.detail, self.logs = detail, logs


@dataclass(slots=True)
class Table:
    deactivation_slot: int
    last_extended_slot: int
    start_index: int
    authority: str | None
    addresses: list[str]

    def encode(self) -> bytes:
        auth = b"\x00" if self.authority is None else b"\x01" + N.b58decode(self.authority)
        meta = (
            struct.pack(
                "<IQQB", 1, self.deactivation_slot, self.last_extended_slot, self.start_index
            )
            + auth
        )
        meta = meta.ljust(META_SIZE, b"\x00")
        return meta + b"".join(N.b58decode(a) for a in self.addresses)


def decode(data: bytes) -> Table | None:
    """A table account's bytes (None: not an initialized table, as the program's
    ``deserialize`` refuses them)."""
    if len(data) < META_SIZE or (len(data) - META_SIZE) % 32:
        return None
    state, deact, ext, start = struct.unpack_from("<IQQB", data)
    if state != 1 or data[21] > 1:
        return None
    authority = _address(data[22:54]) if data[21] == 1 else None
    addrs = [_address(data[i : i + 32]) for i in range(META_SIZE, len(data), 32)]
    return Table(deact, ext, start, authority, addrs)


def _address(raw: bytes) -> str:
    """32 bytes as an address (solders' base58: the pure-Python one is slow for the
    hundreds a table holds)."""
    return str(Pubkey.from_bytes(raw))


def in_slot_hashes(slot: int, current: int) -> bool:
    """Whether ``slot`` is in the SlotHashes sysvar at ``current`` (every slot a block)."""
    return current - SLOT_HASHES_MAX <= slot < current


def active_len(t: Table, current: int) -> int | None:
    """How many of the table's addresses a transaction at ``current`` may use (None: the
    table is no longer active — deactivated and its slot out of SlotHashes)."""
    d = t.deactivation_slot
    if d != U64_MAX and d != current and not in_slot_hashes(d, current):
        return None
    return len(t.addresses) if current > t.last_extended_slot else t.start_index


def resolve(
    accounts: dict[str, Account], lookups: list[tuple[str, bytes, bytes]], current: int
) -> tuple[list[str], list[str]]:
    """A v0 message's lookups ``(table, writable indexes, readonly indexes)`` resolved at
    slot ``current``: (writable addresses, readonly addresses); AltError as the runtime
    refuses them."""
    writable: list[str] = []
    readonly: list[str] = []
    for key, w, r in lookups:
        acc = accounts.get(key)
        if acc is None:
            raise AltError("AddressLookupTableNotFound")
        if acc.owner != ALT_PROGRAM:
            raise AltError("InvalidAddressLookupTableOwner")
        data = acc.data
        t = decode(data[:META_SIZE]) if (len(data) - META_SIZE) % 32 == 0 else None
        if t is None:
            raise AltError("InvalidAddressLookupTableData")
        # its addresses as they stand (only those asked for are read)
        t.addresses = _Lazy(data)  # type: ignore[assignment]
        n = active_len(t, current)
        if n is None:
            raise AltError("AddressLookupTableNotFound")
        for idx, out in ((w, writable), (r, readonly)):
            for i in idx:
                if i >= n:
                    raise AltError("InvalidAddressLookupTableIndex")
                out.append(t.addresses[i])
    return writable, readonly


class _Lazy:
    """A table's addresses read from its bytes one at a time, as asked for."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __len__(self) -> int:
        return (len(self.data) - META_SIZE) // 32

    def __getitem__(self, i: int) -> str:
        off = META_SIZE + 32 * i
        return _address(self.data[off : off + 32])


def close_status(t: Table, current: int) -> int | None:
    """Blocks left before the table may be closed (0: deactivated; None: active): its
    deactivation slot must have left SlotHashes (512 then, 512 - its position there)."""
    d = t.deactivation_slot
    if d == U64_MAX:
        return None
    if d == current:
        return SLOT_HASHES_MAX
    if not in_slot_hashes(d, current):
        return 0
    return SLOT_HASHES_MAX - (current - 1 - d)


class Program:
    """One ALT instruction against the world's accounts (:class:`~.state.Ledger`) at
    ``slot``."""

    logs: list[str]

    def __init__(self, ledger: Ledger, slot: int) -> None:
        self.accounts, self.credit, self.touch, self.rent = ledger
        self.slot = slot

    def run(self, data: bytes, keys: list[str], signer: KeyTest, writable: KeyTest) -> Ran:
        """(compute units, log lines); AltFail."""
        logs: list[str] = []
        self.logs = logs

        def fail(detail: Any, msg: str | None = None) -> AltFail:
            if msg is not None:
                logs.append(f"Program log: {msg}")
            if isinstance(detail, str):
                logs.append(f"Program log: Error: {detail}")
            return AltFail(detail, logs)

        if len(data) < 4:
            raise fail("InvalidInstructionData")
        kind = int.from_bytes(data[:4], "little")
        names = [
            "CreateLookupTable",
            "FreezeLookupTable",
            "ExtendLookupTable",
            "DeactivateLookupTable",
            "CloseLookupTable",
        ]
        if kind >= len(names):
            raise fail("InvalidInstructionData")
        logs.append(f"Program log: Instruction: {names[kind]}")
        need = {0: 3, 1: 2, 2: 2, 3: 2, 4: 3}[kind]
        if len(keys) < need:
            raise fail("NotEnoughAccountKeys")
        if kind == 0:
            if len(data) < 4 + 9:
                raise fail("InvalidInstructionData")
            slot, bump = struct.unpack_from("<QB", data, 4)
            self._create(keys, slot, bump, signer, writable, fail)
            return CU_CREATE, logs
        table_key, authority = keys[0], keys[1]
        acc = self.accounts.get(table_key)
        if acc is None or acc.owner != ALT_PROGRAM:
            why = "Lookup table owner should be the Address Lookup Table program"
            raise fail("InvalidAccountOwner", why)
        if not signer(authority):
            raise fail("MissingRequiredSignature", "Authority account must be a signer")
        new: list[str] = []
        if kind == 2:
            if len(data) < 12:
                raise fail("InvalidInstructionData")
            count = int.from_bytes(data[4:12], "little")
            if len(data) < 12 + 32 * count:
                raise fail("InvalidInstructionData")
            new = [N.b58encode(data[12 + 32 * i : 44 + 32 * i]) for i in range(count)]
        t = decode(acc.data)
        if t is None:
            raise fail(
                "InvalidAccountData"
                if len(acc.data) < META_SIZE or acc.data[0]
                else "UninitializedAccount"
            )
        if t.authority is None:
            raise fail(
                "Immutable",
                "Lookup table is already frozen" if kind == 1 else "Lookup table is frozen",
            )
        if t.authority != authority:
            raise fail("IncorrectAuthority", "Incorrect lookup table authority")
        if not writable(table_key):
            raise fail("ReadonlyDataModified")
        if kind == 1:  # freeze
            if t.deactivation_slot != U64_MAX:
                raise fail("InvalidArgument", "Deactivated tables cannot be frozen")
            if not t.addresses:
                raise fail("InvalidInstructionData", "Empty lookup tables cannot be frozen")
            t.authority = None
            self._write(table_key, t)
            return CU_OTHER, logs
        if kind == 3:  # deactivate
            if t.deactivation_slot != U64_MAX:
                raise fail("InvalidArgument", "Lookup table is already deactivated")
            t.deactivation_slot = self.slot
            self._write(table_key, t)
            return CU_OTHER, logs
        if kind == 4:  # close
            recipient = keys[2]
            if recipient == table_key:
                why = "Lookup table cannot be the recipient of reclaimed lamports"
                raise fail("InvalidArgument", why)
            left = close_status(t, self.slot)
            if left is None:
                raise fail("InvalidArgument", "Lookup table is not deactivated")
            if left:
                raise fail(
                    "InvalidArgument",
                    f"Table cannot be closed until it's fully deactivated in {left} blocks",
                )
            if not writable(recipient):
                raise fail("ReadonlyLamportChange")
            lamports = acc.lamports
            del self.accounts[table_key]
            self.touch(table_key)
            self.credit(recipient, lamports)
            return CU_OTHER, logs
        return self._extend(table_key, acc, t, new, keys, signer, writable, fail), logs

    def _write(self, key: str, t: Table) -> None:
        acc = self.accounts[key]
        self.accounts[key] = Account(acc.owner, t.encode(), acc.lamports)
        self.touch(key)

    def _fund(self, payer: str, key: str, size: int, signer: Any, writable: Any, fail: Any) -> None:
        need = max(self.rent(size), 1) - (
            self.accounts[key].lamports if key in self.accounts else 0
        )
        if need <= 0:
            return
        if not signer(payer):
            raise fail("MissingRequiredSignature", "Payer account must be a signer")
        if not writable(payer):
            raise fail("ReadonlyLamportChange")
        have = self.accounts[payer].lamports if payer in self.accounts else 0
        self.logs.append(f"Program {SYSTEM_PROGRAM} invoke [2]")
        if have < need:  # the system program's transfer refuses (ResultWithNegativeLamports)
            self.logs.append(f"Transfer: insufficient lamports {have}, need {need}")
            self.logs.append(f"Program {SYSTEM_PROGRAM} failed: custom program error: 0x1")
            raise fail({"Custom": 1})
        self.logs.append(f"Program {SYSTEM_PROGRAM} success")
        self.credit(payer, -need)
        self.credit(key, need)

    def _create(
        self, keys: list[str], slot: int, bump: int, signer: Any, writable: Any, fail: Any
    ) -> None:
        from solders.pubkey import Pubkey

        table_key, authority, payer = keys[0], keys[1], keys[2]
        if not signer(payer):
            raise fail("MissingRequiredSignature", "Payer account must be a signer")
        if not in_slot_hashes(slot, self.slot):
            raise fail("InvalidInstructionData", f"{slot} is not a recent slot")
        prog = Pubkey.from_string(ALT_PROGRAM)
        seeds = [N.b58decode(authority), slot.to_bytes(8, "little"), bytes([bump])]
        try:
            derived = str(Pubkey.create_program_address(seeds, prog))
        except Exception:  # on the curve: no program address
            raise fail("InvalidSeeds") from None
        if derived != table_key:
            raise fail("InvalidArgument", f"Table address must match derived address: {derived}")
        acc = self.accounts.get(table_key)
        if acc is not None and acc.owner == ALT_PROGRAM:  # already created: nothing to do
            return
        if not writable(table_key):
            raise fail("ReadonlyDataModified")
        if acc is not None and (acc.owner != SYSTEM_PROGRAM or acc.data):
            raise fail({"Custom": 0}, "Allocate: account already in use")  # system program
        self._fund(payer, table_key, META_SIZE, signer, writable, fail)
        # allocate and assign, each a call of the system program
        self.logs += [
            f"Program {SYSTEM_PROGRAM} invoke [2]",
            f"Program {SYSTEM_PROGRAM} success",
        ] * 2
        lamports = self.accounts[table_key].lamports
        t = Table(U64_MAX, 0, 0, authority, [])
        self.accounts[table_key] = Account(ALT_PROGRAM, t.encode(), lamports)
        self.touch(table_key)

    def _extend(
        self,
        key: str,
        acc: Account,
        t: Table,
        new: list[str],
        keys: list[str],
        signer: Any,
        writable: Any,
        fail: Any,
    ) -> int:
        if t.deactivation_slot != U64_MAX:
            raise fail("InvalidArgument", "Deactivated tables cannot be extended")
        if len(t.addresses) >= MAX_ADDRESSES:
            raise fail("InvalidArgument", "Lookup table is full and cannot contain more addresses")
        if not new:
            raise fail("InvalidInstructionData", "Must extend with at least one address")
        total = len(t.addresses) + len(new)
        if total > MAX_ADDRESSES:
            raise fail(
                "InvalidInstructionData",
                f"Extended lookup table length {total} would exceed max capacity of "
                f"{MAX_ADDRESSES}",
            )
        if self.slot != t.last_extended_slot:
            t.last_extended_slot, t.start_index = self.slot, len(t.addresses)
        t.addresses += new
        self._write(key, t)
        size = META_SIZE + 32 * total
        if max(self.rent(size), 1) > acc.lamports:
            if len(keys) < 3:
                raise fail("NotEnoughAccountKeys")
            self._fund(keys[2], key, size, signer, writable, fail)
        return CU_EXTEND


def swap_keys(pools: Iterable[Pool], swap: Callable[[Pool, bool], Instruction]) -> dict[str, None]:
    """What a lookup table holds for swaps of ``pools``, in order: every account a swap
    names but the signer, both ways (``swap(pool, a_to_b)``: its instruction; a pool it
    cannot build one of is passed over), and each pool's arrays."""
    keys: dict[str, None] = {}
    for p in pools:
        for a_to_b in (True, False):
            try:
                ix = swap(p, a_to_b)
            except (ValueError, KeyError):
                continue
            for meta in ix.accounts:
                if not meta.is_signer:
                    keys[str(meta.pubkey)] = None
        for ta in p.tick_arrays:
            keys[ta] = None
    return keys

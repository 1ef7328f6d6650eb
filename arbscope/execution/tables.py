"""The wallet's address lookup tables: what lets a 3- to 5-hop cycle fit one packet.

A swap names 8 to 24 accounts; a v0 message may load every account that does not sign
and is not an invoked program from a lookup table at 1 byte each instead of 32
(Agave ``programs/address-lookup-table``; ``feeds.wire.alt`` builds the instructions).
:class:`TableKeeper` keeps the wallet's tables (authority = the wallet):

- **found, not remade**: on arming it asks the node for the Address Lookup Table
  program's accounts whose authority is the wallet (``getProgramAccounts`` with a memcmp
  on the authority at byte 22 of ``LookupTableMeta``), and uses those not deactivated.
  A restart pays nothing again; a deactivated or closed table is never used and a new
  one is made when one is needed;
- **ahead of trading**: :meth:`TableKeeper.ensure` is given the accounts the watched
  pools' swaps name (both directions, the wallet's token accounts) and extends the
  tables with those not held, creating a table when the last is full (256 addresses).
  A table is created with the node's finalized slot as its recent slot (it must be in
  SlotHashes, and two tables need two slots), then extended in batches that each fit a
  packet; the entries are usable from the slot after the extend, which it waits for by
  asking the node's slot. Its cost (the tables' rent and the transactions' fees, as the
  wallet's balance fell) is kept in :attr:`TableKeeper.spent` and journaled;
- **kept current**: accounts an order named that no table held (a Whirlpool's next tick
  array, a new pool) are remembered and added between orders.

Never in a table: signers (the payer), invoked programs (a v0 message keeps program ids
static) and the Jito tip accounts (Jito's rule: a tip to an account loaded from a table
is not seen as a tip).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from solders.address_lookup_table_account import (
    AddressLookupTable,
    AddressLookupTableAccount,
)
from solders.instruction import Instruction
from solders.pubkey import Pubkey

from feeds.clients.confirm import SignatureWatcher
from feeds.clients.rpc import RpcClient, RpcError
from feeds.wire import alt as A
from feeds.wire import instructions as I

from ..events import Event, TablesMade
from .nonces import land

log = logging.getLogger(__name__)

AUTHORITY_OFFSET = 22  # u32 type, u64 deactivation, u64 last extended, u8 index, Option tag
U64_MAX = 2**64 - 1
CU_TABLE = 50_000  # a create or an extend: the program, the system program's transfer
ACTIVATION_WAIT_S = 30.0  # how long to wait for the node's slot to pass an extend
RENT_PER_BYTE = 6_960  # lamports: 3,480 per byte-year, two years exempt (Agave's Rent)
RENT_OVERHEAD = 128  # bytes every account is charged for beyond its data
SIGNATURE_FEE = 5_000


def cost_estimate(new_tables: int, addresses: int, transactions: int) -> int:
    """Lamports ``new_tables`` tables and ``addresses`` more entries cost in rent, plus
    ``transactions`` base fees (what :meth:`TableKeeper.ensure` checks its budget with)."""
    rent = new_tables * (RENT_OVERHEAD + A.META_SIZE) * RENT_PER_BYTE
    return rent + addresses * 32 * RENT_PER_BYTE + transactions * SIGNATURE_FEE


NEVER_IN_TABLES = frozenset(Pubkey.from_string(k) for k in I.JITO_TIP_ACCOUNTS)

Sign = Callable[[list[Instruction]], Awaitable[tuple[Any, bytes, str, int]]]


def table_keys(ixs: Sequence[Instruction], payer: str | Pubkey) -> list[Pubkey]:
    """The accounts of ``ixs`` a lookup table could hold (in order, once each): not the
    payer or another signer, not an invoked program, not a Jito tip account."""
    me = payer if isinstance(payer, Pubkey) else Pubkey.from_string(payer)
    programs = {ix.program_id for ix in ixs}
    out: dict[Pubkey, None] = {}
    for ix in ixs:
        for m in ix.accounts:
            k = m.pubkey
            if m.is_signer or k == me or k in programs or k in NEVER_IN_TABLES:
                continue
            out[k] = None
    return list(out)


def _signed(table: str, step: str, signature: str) -> dict[str, str]:
    """One table transaction as the ``tables`` event journals it."""
    return {"table": table, "step": step, "signature": signature}


@dataclass
class TablesView:
    """What the screen and the journal show of the tables."""

    tables: tuple[str, ...] = ()
    addresses: int = 0
    pending: int = 0  # accounts seen in orders, not in a table yet
    spent: int = 0  # lamports: rent + fees of the tables made or extended by this process
    rent: int = 0
    fees: int = 0
    transactions: int = 0
    error: str = ""


@dataclass
class TableKeeper:
    """The lookup tables of ``authority`` (the wallet), read from and written to the node
    through ``rpc``; transactions signed by ``sign`` and confirmed by ``watch``."""

    rpc: RpcClient
    authority: str
    sign: Sign
    watch: Callable[[], SignatureWatcher]
    event: Callable[[Event], None] = lambda event: None
    confirm_timeout_s: float = 60.0
    cu_price: int = 0
    budget: int = 500_000_000  # lamports this process may spend on tables (0.5 SOL)
    tables: dict[Pubkey, AddressLookupTableAccount] = field(default_factory=dict)
    view: TablesView = field(default_factory=TablesView)
    # every table's transactions as known: (step, signature), step ``create`` /
    # ``extend`` (made by this process) or ``found`` (read from the node: a table found
    # at arming, as ``getSignaturesForAddress`` lists the transactions that wrote it)
    history: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    _wanted: dict[Pubkey, None] = field(default_factory=dict)
    _size: dict[Pubkey, int] = field(default_factory=dict)  # entries, active or not yet
    _used_slots: set[int] = field(default_factory=set)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    # ------------------------------------------------------------------ reading
    def accounts(self) -> list[AddressLookupTableAccount]:
        """The active tables, to compile a v0 message against."""
        return list(self.tables.values())

    def held(self) -> set[Pubkey]:
        return {a for t in self.tables.values() for a in t.addresses}

    async def load(self) -> int:
        """The wallet's usable tables from the node (an authority of the wallet, not
        deactivated); how many."""
        me = Pubkey.from_string(self.authority)
        mine = [(AUTHORITY_OFFSET, bytes(me))]
        got = await self.rpc.get_program_accounts(A.ALT_PROGRAM, memcmp=mine)
        self.tables = {}
        for address, acc in sorted(got.items()):
            try:
                table = AddressLookupTable.deserialize(acc.data)
            except ValueError:
                continue  # an uninitialized or closed account of the program
            if table.meta.authority != me or table.meta.deactivation_slot != U64_MAX:
                continue
            key = Pubkey.from_string(address)
            self.tables[key] = AddressLookupTableAccount(key, table.addresses)
            self._size[key] = len(table.addresses)
        self._refresh_view()
        found = [str(k) for k in self.tables if str(k) not in self.history]
        if found:  # what made them, for the audit of the orders that load from them
            signatures = []
            for t in found:
                self.history[t] = [("found", sig) for sig in await self._written_by(t)]
                signatures += [_signed(t, step, sig) for step, sig in self.history[t]]
            self.event(
                TablesMade(0, 0, 0, 0, list(self.view.tables), self.view.addresses, signatures)
            )
        return len(self.tables)

    async def _written_by(self, table: str) -> list[str]:
        """The signatures of the transactions that wrote ``table`` (its create and
        extends: ``getSignaturesForAddress``, oldest first; a transaction that only
        loads from it does not name it), or none when the node does not say."""
        try:
            got = await self.rpc.call(
                "getSignaturesForAddress", [table, {"limit": 1_000, "commitment": "confirmed"}]
            )
            return [str(r["signature"]) for r in reversed(got) if r.get("err") is None]
        except (RpcError, TypeError, KeyError, AttributeError):
            return []

    def note(self, ixs: Sequence[Instruction], payer: str) -> int:
        """Remember the accounts of an order that no table holds; how many are new."""
        held = self.held()
        new = [k for k in table_keys(ixs, payer) if k not in held and k not in self._wanted]
        for k in new:
            self._wanted[k] = None
        self.view.pending = len(self._wanted)
        return len(new)

    # ------------------------------------------------------------------ writing
    async def ensure(self, addresses: Iterable[Pubkey] = ()) -> int:
        """Every one of ``addresses`` (and those :meth:`note` remembered) in an active
        table; how many were added. RpcError / ValueError when the node refused."""
        async with self._lock:
            for k in addresses:
                self._wanted.setdefault(k, None)
            held = self.held()
            want = [k for k in self._wanted if k not in held]
            if not want:
                self._wanted.clear()
                self.view.pending = 0
                return 0
            room = sum(A.MAX_ADDRESSES - n for n in self._size.values())
            new_tables = -(-max(0, len(want) - room) // A.MAX_ADDRESSES)
            cost = cost_estimate(new_tables, len(want), new_tables + len(want) // 20 + 1)
            if self.view.spent + cost > self.budget:
                raise ValueError(
                    f"{len(want)} accounts would cost about {cost / 1e9:.4f} SOL, over the "
                    f"budget of {self.budget / 1e9:.4f} SOL (live.tables_budget_lamports; "
                    f"{self.view.spent / 1e9:.4f} spent): orders go with what the tables hold"
                )
            me = self.authority
            before = await self.rpc.get_balance(me)
            rent_before = await self._rent()
            sent = 0
            added = 0
            signatures: list[dict[str, str]] = []
            try:
                while want:
                    table = self._with_room()
                    if table is None:
                        table = await self._create(signatures)
                        sent += 1
                    room = A.MAX_ADDRESSES - self._size[table]
                    chunk, want = want[:room], want[room:]
                    sent += await self._extend(table, chunk, signatures)
                    self._size[table] += len(chunk)
                    added += len(chunk)
                await self._activate()
            finally:
                after = await self.rpc.get_balance(me)
                rent = await self._rent() - rent_before
                spent = before - after
                self.view.spent += spent
                self.view.rent += rent
                self.view.fees += spent - rent
                self.view.transactions += sent
                for k in list(self._wanted):
                    if k in self.held():
                        del self._wanted[k]
                self._refresh_view()
                self.event(
                    TablesMade(
                        added,
                        sent,
                        spent,
                        rent,
                        list(self.view.tables),
                        self.view.addresses,
                        signatures,
                    )
                )
            return added

    def _with_room(self) -> Pubkey | None:
        return next((k for k, n in self._size.items() if n < A.MAX_ADDRESSES), None)

    async def _rent(self) -> int:
        if not self._size:
            return 0
        got = await self.rpc.get_multiple_accounts([str(k) for k in self._size])
        return sum(a.lamports for a in got.values() if a is not None)

    def _budget(self) -> list[Instruction]:
        return [I.set_compute_unit_limit(CU_TABLE), I.set_compute_unit_price(self.cu_price)]

    async def _recent_slot(self) -> int:
        """The recent slot a create names (its table's address derives from it): one the
        program finds in the ``SlotHashes`` of the bank that runs the create, and of the
        bank its preflight runs on (``confirmed``, the blockhash's). A bank's
        ``SlotHashes`` lists its ancestors of the last 512 slots, not itself: so a rooted
        (``finalized``) slot — an ancestor of every bank that may run the transaction,
        on any fork — older than the ``confirmed`` bank (with a ``finalized`` preflight,
        the node's default, the slot was the preflight bank's own: "N is not a recent
        slot"); and one no other create of this keeper named (the same slot derives the
        same address, and the program takes a create of an existing table as done)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ACTIVATION_WAIT_S
        while True:
            rooted = await self.rpc.get_slot("finalized")
            if rooted not in self._used_slots and rooted < await self.rpc.get_slot("confirmed"):
                return rooted
            if loop.time() > deadline:
                raise RpcError(f"the node's finalized slot did not advance past {rooted}")
            await asyncio.sleep(0.05)

    async def _create(self, signatures: list[dict[str, str]]) -> Pubkey:
        slot = await self._recent_slot()
        self._used_slots.add(slot)
        ix, table = A.create_lookup_table(self.authority, self.authority, slot)
        sig = await self._land([*self._budget(), ix], "create")
        self._size[table] = 0
        self._wrote(table, "create", sig, signatures)
        return table

    async def _extend(
        self, table: Pubkey, keys: list[Pubkey], signatures: list[dict[str, str]]
    ) -> int:
        batches = A.extend_batches(
            table, self.authority, self.authority, keys, before=self._budget()
        )
        sigs = await asyncio.gather(
            *(
                self._land(
                    [
                        *self._budget(),
                        A.extend_lookup_table(table, self.authority, self.authority, b),
                    ],
                    "extend",
                )
                for b in batches
            )
        )
        for sig in sigs:
            self._wrote(table, "extend", sig, signatures)
        return len(batches)

    def _wrote(
        self, table: Pubkey, step: str, signature: str, signatures: list[dict[str, str]]
    ) -> None:
        """A transaction of ours that wrote ``table`` landed: kept for the audit."""
        self.history.setdefault(str(table), []).append((step, signature))
        signatures.append(_signed(str(table), step, signature))

    async def _land(self, ixs: list[Instruction], what: str) -> str:
        return await land(
            self.rpc,
            self.sign,
            self.watch,
            ixs,
            self.confirm_timeout_s,
            f"the lookup table's {what}",
        )

    async def _activate(self) -> None:
        """Read the tables back; wait until the node's slot is past their last extend
        (entries are usable from the next slot)."""
        got = await self.rpc.get_multiple_accounts([str(k) for k in self._size])
        last = 0
        ready: dict[Pubkey, AddressLookupTableAccount] = {}
        for k in list(self._size):
            acc = got.get(str(k))
            if acc is None:
                del self._size[k]
                continue
            table = AddressLookupTable.deserialize(acc.data)
            ready[k] = AddressLookupTableAccount(k, table.addresses)
            self._size[k] = len(table.addresses)
            last = max(last, table.meta.last_extended_slot)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ACTIVATION_WAIT_S
        while await self.rpc.get_slot("confirmed") <= last:
            if loop.time() > deadline:
                raise RpcError(f"the node's slot did not pass {last}, the tables' last extend")
            await asyncio.sleep(0.05)
        self.tables = ready  # from now on the orders load from them

    def _refresh_view(self) -> None:
        self.view.tables = tuple(str(k) for k in self.tables)
        self.view.addresses = sum(len(t.addresses) for t in self.tables.values())
        self.view.pending = len(self._wanted)

"""The wallet's durable nonce accounts: what lets an order be re-sent with a higher tip
and still land (and pay) at most once.

A durable transaction names a nonce account's stored *durable nonce* as its blockhash
and advances that nonce in its first instruction (``AdvanceNonceAccount``, the nonce's
authority signing). Whichever version of an order lands first moves the nonce on; every
other version of it names a nonce that no longer is, and the runtime drops it unrun: no
fee, no tip, no trade (Agave ``check_transactions.rs``; the simulator runs the same rule,
:mod:`feeds.sim.system`). One nonce account per order in flight (``max_open``).

:class:`NonceKeeper` keeps them:

- **found, not remade**: account *i* lives at ``create_with_seed(wallet,
  "arbscope-nonce-<i>", System program)``, so arming finds them with one
  ``getMultipleAccounts`` (no ``getProgramAccounts`` scan of the System program, which
  public endpoints refuse or time out on); one that is there but not a usable nonce of
  the wallet (another authority, not initialized) is named and skipped;
- **made when missing**: ``CreateAccountWithSeed`` (80 bytes, the wallet the base and the
  payer) and ``InitializeNonceAccount`` (the wallet the authority), a few to a
  transaction; the rent (1,447,680 lamports each, returned by ``WithdrawNonceAccount``)
  and the fees are the cost, checked against ``live.nonces_budget_lamports``, shown on the
  LIVE message and journaled as a ``nonces`` event;
- **one order each**: :meth:`NonceKeeper.take` hands a free one to an order and
  :meth:`NonceKeeper.give_back` returns it when the order ended.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from solders.instruction import Instruction

from feeds.clients.confirm import SignatureWatcher
from feeds.clients.rpc import RpcClient, RpcError
from feeds.wire import instructions as I

from ..events import Event, NoncesMade

log = logging.getLogger(__name__)

SEED = "arbscope-nonce-{}"
NONCE_RENT = 1_447_680  # lamports: the rent-exempt minimum of 80 bytes
PER_TRANSACTION = 6  # nonce accounts created by one transaction (12 instructions)
CU_NONCES = 5_000  # compute units a create transaction asks for (150 per instruction)
SIGNATURE_FEE = 5_000

Sign = Callable[..., Awaitable[tuple[Any, bytes, str, int]]]


async def land(
    rpc: RpcClient,
    sign: Sign,
    watch: Callable[[], SignatureWatcher],
    ixs: list[Instruction],
    timeout_s: float,
    what: str,
) -> str:
    """Sign ``ixs`` into a transaction, send it (preflight on) and wait until it is
    confirmed (re-sent while waiting): its signature; RpcError saying ``what`` did not
    land otherwise (the wallet's own upkeep: nonce accounts, lookup tables)."""
    tx, raw, _, last_valid = await sign(ixs)
    sig = str(tx.signatures[0])
    watcher = watch()
    fut = await watcher.subscribe(sig)
    wire = base64.b64encode(raw).decode()
    await rpc.send_transaction(wire, skip_preflight=False)
    conf = await watcher.wait(
        sig, fut, last_valid, timeout_s, resend=lambda: rpc.send_transaction(wire)
    )
    if conf.status != "confirmed":
        raise RpcError(
            f"{what} did not land: {conf.status} "
            f"{conf.err if conf.err is not None else ''}".rstrip()
        )
    return sig


@dataclass
class NoncesView:
    """What the screen and the journal show of the nonce accounts."""

    accounts: tuple[str, ...] = ()
    free: int = 0
    spent: int = 0  # lamports: rent + fees of the accounts this process made
    rent: int = 0
    transactions: int = 0
    error: str = ""


@dataclass
class NonceKeeper:
    """``count`` durable nonce accounts of ``authority`` (the wallet) on the node behind
    ``rpc``; transactions signed by ``sign`` and confirmed by ``watch``."""

    rpc: RpcClient
    authority: str
    count: int
    sign: Sign
    watch: Callable[[], SignatureWatcher]
    event: Callable[[Event], None] = lambda event: None
    confirm_timeout_s: float = 60.0
    budget: int = 50_000_000  # lamports this process may spend on nonce accounts
    ready: list[str] = field(default_factory=list)  # usable nonce accounts
    view: NoncesView = field(default_factory=NoncesView)
    _busy: set[str] = field(default_factory=set)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def addresses(self) -> list[str]:
        return [I.nonce_address(self.authority, SEED.format(i)) for i in range(self.count)]

    async def ensure(self) -> int:
        """Find the wallet's nonce accounts and make the missing ones; how many were made.
        RpcError / ValueError when the node refused or the budget would be passed."""
        async with self._lock:
            wanted = self.addresses()
            got = await self.rpc.get_multiple_accounts(wanted)
            ready, missing, unusable = [], [], []
            for i, address in enumerate(wanted):
                acc = got.get(address)
                if acc is None:
                    missing.append(i)
                    continue
                nonce = I.read_nonce_account(acc.owner, acc.data)
                if nonce is None or nonce[0] != self.authority:
                    unusable.append(address)
                    continue
                ready.append(address)
            self.ready = ready
            made = 0
            try:
                if missing:
                    made = await self._create(missing)
            finally:
                self._refresh()
            if unusable:
                self.view.error = (
                    f"nonce account(s) {', '.join(a[:8] + '…' for a in unusable)} "
                    "are not durable nonces of this wallet: skipped"
                )
            return made

    async def _create(self, missing: list[int]) -> int:
        txs = -(-len(missing) // PER_TRANSACTION)
        cost = len(missing) * NONCE_RENT + txs * SIGNATURE_FEE
        if self.view.spent + cost > self.budget:
            raise ValueError(
                f"{len(missing)} nonce account(s) would cost about {cost / 1e9:.4f} SOL, over "
                f"the budget of {self.budget / 1e9:.4f} SOL (live.nonces_budget_lamports)"
            )
        me = self.authority
        before = await self.rpc.get_balance(me)
        sent = made = 0
        signatures: list[str] = []
        try:
            for k in range(0, len(missing), PER_TRANSACTION):
                batch = missing[k : k + PER_TRANSACTION]
                ixs: list[Instruction] = [I.set_compute_unit_limit(CU_NONCES)]
                for i in batch:
                    seed = SEED.format(i)
                    ixs += I.create_nonce_account_with_seed(
                        me, I.nonce_address(me, seed), seed, me, NONCE_RENT
                    )
                signatures.append(await self._land(ixs))
                sent += 1
                made += len(batch)
                self.ready += [I.nonce_address(me, SEED.format(i)) for i in batch]
        finally:
            spent = before - await self.rpc.get_balance(me)
            self.view.spent += spent
            self.view.rent += made * NONCE_RENT
            self.view.transactions += sent
            self.event(
                NoncesMade(made, sent, spent, made * NONCE_RENT, list(self.ready), signatures)
            )
        return made

    async def _land(self, ixs: list[Instruction]) -> str:
        what = "creating the nonce accounts"
        return await land(self.rpc, self.sign, self.watch, ixs, self.confirm_timeout_s, what)

    # ------------------------------------------------------------ orders
    def take(self) -> str | None:
        """A free nonce account for one order (None: every one is in use)."""
        for a in self.ready:
            if a not in self._busy:
                self._busy.add(a)
                self._refresh()
                return a
        return None

    def give_back(self, address: str) -> None:
        self._busy.discard(address)
        self._refresh()

    def _refresh(self) -> None:
        self.view.accounts = tuple(self.ready)
        self.view.free = sum(1 for a in self.ready if a not in self._busy)

    def note(self) -> str:
        """The nonce accounts in a line: how many, what making them cost this process."""
        v = self.view
        cost = (
            f", made for {v.spent / 1e9:.4f} SOL (rent {v.rent / 1e9:.4f}, returned on withdrawal)"
            if v.spent
            else " (found, no cost)"
        )
        text = f"durable nonces: {len(v.accounts)}{cost}"
        return f"{text}; {v.error}" if v.error else text

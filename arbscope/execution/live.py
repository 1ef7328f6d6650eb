"""Live trading, behind guard rails.

Arming (:meth:`LiveExecutor.arm`, after the operator typed LIVE) refuses unless every
guard rail holds: a keypair file that passes :mod:`.keys` (0600, owned by the user,
outside any repository), an RPC endpoint, caps (per trade, per day, max open, max
slippage), a node that answers — and when that node is the arbscope simulator, one that
was asked to accept transactions — and SOL in the wallet for fees.

Each order (a GO cycle in auto mode, or ``x``) then runs one pipeline, every step
journaled (``tx`` events, with the signature once signed):

1. **caps** (synchronously, before anything is sent): per-trade size, the UTC day's
   total, open orders. The day's total counts every live order of this journal's sessions
   sent (or possibly sent) that UTC day, this process's and earlier or concurrent ones'
   (:class:`JournalLedger`); before an order goes on, the other sessions' total is read
   again and the order's ``accepted`` event is committed to the journal, so a crash cannot
   make a later process forget it. Without a journal, live trading does not arm;
2. **accounts**: one ``getMultipleAccounts`` of the pools (a Whirlpool's current tick
   picks its tick arrays), the fee payer and the wallet's associated token accounts;
3. **build**: ``SetComputeUnitLimit`` (:func:`.compute.cycle_budget`: the limit the
   scorer priced the cycle at, from its hops' venues and the token accounts the
   transaction creates) and ``SetComputeUnitPrice`` (the fee estimator's price at
   decision time), ``CreateIdempotent`` for a missing intermediate ATA, one exact-input
   swap per hop, and the Jito tip when one is set; a v0 message signed with the wallet.
   Hop *i* spends what hop *i-1* was quoted to give, and must give at least its own quote
   less ``max_slippage_bps`` — an order book's buy (``Venue.exact_buy``, fill-or-kill
   lots: the program has no minimum output) its whole quote; the last hop must also give
   back at least the amount put in (a losing cycle fails on chain instead of losing
   principal);
4. **simulate** (``simulateTransaction`` with ``sigVerify``): refused when it fails, or
   when the simulated output (the base account's balance after, read from the
   simulation) is under the minimum;
5. **send**: ``sendTransaction`` (preflight skipped: it was just simulated), or a Jito
   ``sendBundle`` carrying the tip to every block engine (each paced under its rate
   limit, ``live.jito_rps``); the kill switch is checked right before;
6. **confirm**: ``signatureSubscribe`` (opened before the send) or polling; ``expired``
   when the blockhash ran out first; then the wallet's balances are read again.

With tip escalation (``fees.tip_escalation``) the order is a durable transaction: its
first instruction advances one of the wallet's nonce accounts (:mod:`.nonces`) and its
blockhash is that nonce. While no version has landed, every ``tip_escalation_slots``
slots a new version with a higher tip (same nonce, a new signature) goes to every engine,
within ``tip_escalation_window`` slots; all are watched, the first to land wins (its tip
is the order's), the others can never land (the nonce moved) and count as superseded.
When the window ends (or the kill switch is pressed) with none landed, the executor
advances the nonce itself, so no version can land later.

The kill switch (:meth:`kill`) disarms at once: every order not yet handed to the node is
cancelled and never sent. One already sent cannot be recalled (but a durable one's
further versions stop at once and its nonce is advanced); it is followed to its end.
"""

from __future__ import annotations

import asyncio
import base64
import calendar
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

import engine_rs
from engine_rs.decoded import pool_mints
from engine_rs.errors import EngineError
from feeds import venues
from feeds.clients.confirm import Confirmation, SignatureWatcher
from feeds.clients.rpc import JitoClient, RawAccount, RpcClient, RpcError
from feeds.redact import redact, scrub
from feeds.wire import instructions as I
from feeds.wire.txsize import MAX_TX_ACCOUNT_LOCKS, PACKET_DATA_SIZE
from feeds.wire.units import TokenBook
from storage.journal import Event, Journal, JournalError
from storage.recorder import Recorder

from ..events import Armed, Disarmed, OrderStep
from ..events import Event as Derived
from .compute import cycle_budget, cycle_steps
from .keys import KeypairError, Wallet, load_wallet
from .nonces import NonceKeeper, NoncesView
from .routes import RouteStats, RouteView, TipPolicy, error_name, fetch_tip_floor, route_name, views
from .tables import TableKeeper, TablesView

log = logging.getLogger(__name__)

BLOCKHASH_MAX_AGE_S = 20.0
ESCALATION_POLL_S = 0.2  # how often an escalating order looks for a landing (half a slot)
SWAP_PROGRAMS = frozenset(v.program for v in venues.VENUES)
TERMINAL = frozenset({"confirmed", "failed", "expired", "unknown", "refused", "cancelled", "error"})
# an order that ended so without a ``sent`` step never reached the node
NOT_SENT = frozenset({"refused", "cancelled", "error"})


def _too_big(tx: Any, raw: bytes) -> str:
    """Why a node would refuse ``tx`` unrun for its size ("" when it would not): over
    the packet limit, or naming more accounts than a transaction may lock."""
    if len(raw) > PACKET_DATA_SIZE:
        limit = f"{PACKET_DATA_SIZE:,}-byte packet limit"
        return f"the transaction is {len(raw):,} bytes, over the {limit}"
    locks = _accounts_named(tx.message)
    if locks > MAX_TX_ACCOUNT_LOCKS:  # TooManyAccountLocks
        return (
            f"the transaction names {locks} accounts, over the {MAX_TX_ACCOUNT_LOCKS} one may lock"
        )
    return ""


def _accounts_named(msg: Any) -> int:
    """The accounts a message names: its static keys and every lookup's indexes."""
    looked = sum(
        len(t.writable_indexes) + len(t.readonly_indexes)
        for t in getattr(msg, "address_table_lookups", ())
    )
    return len(msg.account_keys) + looked


def utc_day(t: float) -> str:
    """``YYYY-MM-DD`` of the Unix time ``t`` in UTC (the day the ``max_day`` cap counts)."""
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def day_spent(rows: Iterable[tuple[str, float, int | None, Event]], day: str) -> tuple[int, int]:
    """(base units, sessions) of the live orders in ``rows`` (journaled ``tx`` events:
    session, its start, its first_ns, event) accepted on UTC ``day`` and sent or possibly
    sent: every order counts unless it ended refused, cancelled or in error without a
    ``sent`` step. An order with no end at all (its process died) counts: it may have
    gone out. The day is the one the executor counted it on (``day`` in the ``accepted``
    payload), else the session's start plus the event's offset."""
    orders: dict[tuple[str, Any], dict[str, Any]] = {}
    for sid, started, first_ns, ev in rows:
        p = ev.payload
        o = orders.setdefault(
            (sid, p.get("seq")), {"amount": 0, "day": "", "sent": False, "end": ""}
        )
        step = p.get("step")
        if step == "accepted":
            try:
                o["amount"] = int(p.get("amount_in") or 0)
            except (TypeError, ValueError):
                o["amount"] = 0
            wall = started + ((ev.t_ns - first_ns) / 1e9 if first_ns is not None else 0.0)
            o["day"] = p.get("day") or utc_day(wall)
        elif step == "sent":
            o["sent"] = True
        elif step in TERMINAL:
            o["end"] = step
    total, sessions = 0, set()
    for (sid, _), o in orders.items():
        if o["day"] != day or (o["end"] in NOT_SENT and not o["sent"]):
            continue
        total += o["amount"]
        if o["amount"]:
            sessions.add(sid)
    return total, len(sessions)


class DayLedger(Protocol):
    """Where the UTC day's live total lives across runs (:class:`JournalLedger`)."""

    async def spent_elsewhere(self, day: str) -> tuple[int, str]:
        """(base units sent on ``day`` by other sessions, where that figure comes from)."""
        ...

    async def commit(self) -> None:
        """Make what this session journaled so far durable (JournalError if it cannot)."""
        ...


class JournalLedger:
    """The day's total from the journal: the ``tx`` events of its other sessions (earlier
    runs and concurrent processes on the same file), and this session's recorder, whose
    flush makes an order's ``accepted`` event durable before the order can be sent."""

    def __init__(self, journal: Journal, recorder: Recorder) -> None:
        self.journal, self.recorder = journal, recorder

    async def spent_elsewhere(self, day: str) -> tuple[int, str]:
        start = calendar.timegm(time.strptime(day, "%Y-%m-%d"))
        rows = await self.journal.events_of("tx", since=start, exclude=self.recorder.session)
        total, n = day_spent(rows, day)
        return total, f"{n} other session{'s' if n != 1 else ''} in journal {self.journal.path}"

    async def commit(self) -> None:
        if self.recorder.stopped:
            raise JournalError(self.recorder.error)
        await self.recorder.flush()


@dataclass(frozen=True)
class LiveConfig:
    """What live trading needs. Amounts are base-token units; ``None`` caps refuse to
    arm. URLs may carry API keys: they are shown redacted everywhere."""

    keypair: str | None = None
    rpc: str | None = None  # HTTP JSON-RPC: simulate, send, statuses
    ws: str | None = None  # PubSub for signatureSubscribe (None: polling)
    # Jito block engines (one URL or several): send as a bundle with the tip to each
    jito: str | Sequence[str] | None = None
    tip_lamports: int = 0
    tip_policy: str = "fixed"  # fixed | percentile (of recently landed tips)
    tip_percentile: int = 50
    tip_max: int = 1_000_000  # lamports: the percentile policy's and escalation's cap
    tip_escalation: bool = False  # durable orders re-sent with a higher tip until one lands
    tip_step: float = 1.5  # each version's tip: the last one's times this
    tip_every_slots: int = 4  # slots without landing before the next version
    tip_window_slots: int = 150  # slots after the first version that versions go out in
    nonces_budget_lamports: int = 50_000_000  # what nonce accounts may cost (0.05 SOL)
    jito_rps: float = 1.0  # requests a second each block engine allows (0: not paced)
    max_trade: int | None = None
    max_day: int | None = None
    max_open: int = 1
    max_slippage_bps: int = 50
    # one compute-unit limit for every transaction (fees.cu_limit; the session sets it);
    # None: each cycle's own (.compute.cycle_budget), as the scorer priced it
    cu_limit: int | None = None
    confirm_timeout_s: float = 90.0
    tables_budget_lamports: int = 500_000_000  # what lookup tables may cost (0.5 SOL)
    ca_file: str | None = None  # a private CA for wss:// / https:// (feeds.ca_file)

    def __repr__(self) -> str:
        return (
            f"LiveConfig(keypair={self.keypair!r}, rpc={redact(self.rpc or '')!r}, "
            f"ws={redact(self.ws or '')!r}, jito={self.engines_shown()!r}, "
            f"tip={self.tip_lamports}, max_trade={self.max_trade}, max_day={self.max_day}, "
            f"max_open={self.max_open}, max_slippage_bps={self.max_slippage_bps})"
        )

    def engines(self) -> tuple[str, ...]:
        """The Jito block engines' URLs (none: sendTransaction)."""
        j = self.jito
        if not j:
            return ()
        return (j,) if isinstance(j, str) else tuple(u for u in j if u)

    def engines_shown(self) -> str:
        return ", ".join(redact(u) for u in self.engines())

    def shown(self) -> dict[str, Any]:
        """For the journal and the screen (URLs redacted, no key material)."""
        return {
            "keypair": self.keypair,
            "rpc": redact(self.rpc or ""),
            "ws": redact(self.ws or ""),
            "jito": self.engines_shown(),
            "tip_policy": self.tip_policy,
            "tip_lamports": self.tip_lamports,
            "tip_escalation": self.tip_escalation,
            "max_trade": self.max_trade,
            "max_day": self.max_day,
            "max_open": self.max_open,
            "max_slippage_bps": self.max_slippage_bps,
            "cu_limit": self.cu_limit,
        }


@dataclass
class LiveOrder:
    """One live order as it moves through the pipeline (the screen shows copies)."""

    seq: int
    trigger: str
    key: tuple[str, tuple[str, ...]]
    tokens: list[str]
    pools: list[str]
    kinds: list[str]  # the curves at decision time; the programs once built
    amount_in: int
    hops: list[int]  # quoted at decision time: [amount_in, out_1, ..., out_n]
    # the steps each hop's quote crosses, as the engine counts them for its curve
    # (PoolGraph.quote_steps, with ``hops``): its compute units (.compute.cycle_steps)
    steps: list[int] = field(default_factory=list)
    min_out: int = 0
    status: str = "accepted"
    signature: str = ""
    detail: str = ""
    simulated_out: int | None = None
    realized: int | None = None  # base balance change when it was the only open order
    fee_lamports: int | None = None
    units: int | None = None
    slot: int | None = None
    via: str = ""
    tip: int = 0  # lamports tipped (escalated: the landed version's)
    nonce: str = ""  # the durable nonce account of an escalating order
    durable: str = ""  # its durable nonce: the blockhash every version names
    versions: list[tuple[str, int]] = field(default_factory=list)  # (signature, tip) sent
    parts: int = 1  # transactions it went as (2: a bundle, when one could not hold it)
    decided_slot: int = 0  # the graph's slot when it was decided
    cu_priced: int = 0  # the compute-unit limit the scorer priced it at
    cu_limit: int = 0  # the limit its transaction requests (the same, unless the wallet changed)
    # the token accounts it created in a transaction of their own (too many for one)
    created_apart: list[str] = field(default_factory=list)
    sending: bool = False
    sent: bool = False
    t0: float = field(default_factory=time.perf_counter)
    ms: dict[str, float] = field(default_factory=dict)  # step -> ms since accepted


@dataclass(frozen=True, slots=True)
class OrderView:
    seq: int
    status: str
    signature: str
    path: str
    amount_in: int
    min_out: int
    simulated_out: int | None
    realized: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class LiveView:
    """What the portfolio panel shows of live trading."""

    wallet: str
    armed: bool
    base: str
    pnl: int  # the base token's balance now minus at arming (fees are paid in SOL)
    lamports: int | None
    balances: tuple[tuple[str, int], ...]  # (mint, amount) of the wallet's token accounts
    open: int
    sent: int
    confirmed: int
    failed: int
    refused: int
    spent_today: int
    orders: tuple[OrderView, ...]
    node: str
    last_error: str
    tables: TablesView | None = None  # the wallet's lookup tables (None: not armed yet)
    routes: tuple[RouteView, ...] = ()  # where orders went and how each way fared
    nonces: NoncesView | None = None  # the durable nonce accounts (escalation only)


@dataclass(slots=True)
class _Static:
    """What does not change about a pool: its kind, decoded account and token programs."""

    kind: str
    record: Any
    programs: dict[str, str]  # mint -> token program


class LiveExecutor:
    """Live orders for cycles through ``base`` (see the module docstring).

    ``graph`` is the session's pool graph (quotes at decision time); ``sink`` a callable
    returning where events go (the journal's recorder, or None)."""

    def __init__(
        self,
        config: LiveConfig,
        base: str,
        graph: Callable[[], Any],
        sink: Callable[[], Any] = lambda: None,
        clock: Callable[[], float] = time.time,
        sendable: Callable[[Any], str] = lambda opp: "",
        ledger: DayLedger | None = None,
    ) -> None:
        # the day's total across runs (None: no journal, and live does not arm)
        self.ledger = ledger
        # told each landed order's slots from decision to landing and ns from decision to
        # send (the session journals them and paper lands on them)
        self.on_landing: Callable[[int, int], None] | None = None
        self.config, self.base, self._graph, self._sink, self.clock = (
            config,
            base,
            graph,
            sink,
            clock,
        )
        # why a cycle cannot go as one transaction ("" when it can): the check paper uses
        self.sendable = sendable
        self.eng = engine_rs.backend()
        self.wallet: Wallet | None = None
        self.armed = False
        self.node = ""
        self.generation = 0
        self.seq = 0
        self.orders: deque[LiveOrder] = deque(maxlen=50)
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.day = ""
        self.spent_today = 0  # this session's live orders today (UTC), sent or in flight
        self.spent_elsewhere = 0  # other sessions of the journal, today (read from it)
        self.elsewhere_from = "no journal read yet"  # where spent_elsewhere comes from
        self.counts = {"sent": 0, "confirmed": 0, "failed": 0, "refused": 0}
        self.names = TokenBook()  # the session's token names (its registry's book)
        self.balances: dict[str, int] = {}
        # mint -> whether the wallet's token account of it exists, as last read (what the
        # scorer prices a cycle's account creations by)
        self.accounts: dict[str, bool] = {}
        self.accounts_seen = 0  # changes of ``accounts`` so far (the evaluator rescores)
        self.base_start: int | None = None  # the base balance when live was (first) armed
        self.lamports: int | None = None
        self.last_error = ""
        self._traded: dict[tuple[str, tuple[str, ...]], tuple[int, ...]] = {}
        self._static: dict[str, _Static] = {}
        self._programs: dict[str, str] = {}  # mint -> the token program that owns it
        self._rpc: RpcClient | None = None
        self._jitos: dict[str, JitoClient] = {}  # by engine URL
        self.routes: dict[str, RouteStats] = {}  # rpc / jito:<engine> -> how it fared
        c = config
        self.tip = TipPolicy(
            c.tip_policy,
            c.tip_lamports,
            c.tip_percentile,
            c.tip_max,
            c.tip_escalation,
            c.tip_step,
            c.tip_every_slots,
            c.tip_window_slots,
        )
        self.nonces: NonceKeeper | None = None  # the durable nonce accounts (escalation)
        self._watcher: SignatureWatcher | None = None
        self._blockhash: tuple[str, int, float] | None = None
        self.tables: TableKeeper | None = None  # the wallet's lookup tables (once armed)
        self._keeping: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ guard rails
    def checks(self) -> list[str]:
        """The guard rails as the confirmation screen lists them (✓ / ✗)."""
        c = self.config
        out = []
        try:
            if c.keypair:
                w = load_wallet(c.keypair)
                out.append(
                    f"✓ keypair {c.keypair} (owner-only, outside any repository): wallet {w.pubkey}"
                )
            else:
                out.append("✗ no keypair (--keypair FILE or ARBSCOPE_KEYPAIR)")
        except KeypairError as exc:
            out.append(f"✗ {exc}")
        out.append(
            f"✓ RPC {redact(c.rpc)}" if c.rpc else "✗ no RPC endpoint to send with (--send-rpc)"
        )
        cap_err = self._caps_error()
        out.append(
            f"✗ {cap_err}"
            if cap_err
            else f"✓ caps: {c.max_trade:,} per trade, {c.max_day:,} per day, {c.max_open} open, "
            f"{c.max_slippage_bps} bps slippage"
        )
        engines = c.engines()
        via = (
            f"Jito bundles to {len(engines)} block engine(s): {c.engines_shown()}"
            if engines
            else "sendTransaction"
        )
        out.append(f"  send via {via} (tip: {self.tip.shown()})")
        if self._escalating():
            out.append(
                f"  durable nonces: {c.max_open} nonce account(s) of the wallet, found "
                "on the node or made when armed (rent ≈ 0.0014 SOL each, returned "
                "on withdrawal)"
            )
        out.append(
            "  orders as v0 messages through the wallet's address lookup tables: found "
            "on the node, or made when armed (rent ≈ 0.0013 SOL a table + 0.00022 SOL "
            "an account, returned when a table is closed)"
            if self.tables is None
            else "  " + self.tables_note()
        )
        return out

    def _caps_error(self) -> str:
        c = self.config
        if c.max_trade is None or c.max_day is None:
            return "caps not set: --max-trade and --max-day (base-token units) are required"
        if c.max_trade <= 0 or c.max_day <= 0 or c.max_open < 1:
            return "caps must be positive (max trade, max day, max open >= 1)"
        if not 0 < c.max_slippage_bps <= 1_000:
            return "max slippage must be within 1..1000 bps"
        if c.engines() and c.tip_lamports < I.JITO_MIN_TIP:
            return (
                f"a Jito bundle needs a tip of at least {I.JITO_MIN_TIP} lamports (--tip-lamports)"
            )
        return ""

    async def arm(self) -> tuple[bool, str]:
        """Check every guard rail; (True, the lookup tables in a line) when live trading
        may start, else (False, why not)."""
        c = self.config
        gen = self.generation  # a kill switch while the checks run must win over them
        try:
            if not c.keypair:
                return False, "no keypair: pass --keypair FILE (or set ARBSCOPE_KEYPAIR)"
            self.wallet = load_wallet(c.keypair)
        except KeypairError as exc:
            return False, str(exc)
        if not c.rpc:
            return False, "no RPC endpoint to send transactions with (--send-rpc URL)"
        err = self._caps_error()
        if err:
            return False, err
        if self.ledger is None:
            return False, (
                "live trading needs the journal: it keeps the UTC day's total "
                "(--max-day) across runs; run without --no-record"
            )
        self._roll_day()
        try:
            await self._read_elsewhere()
        except JournalError as exc:
            return False, f"cannot read the day's live total from the journal: {exc}"
        rpc = self._client()
        try:
            version = await rpc.get_version()
            core = str(version.get("solana-core", "?"))
            if "arbscope-sim" in core:
                info = await rpc.call("simInfo")
                if not isinstance(info, dict) or not info.get("acceptsTransactions"):
                    return False, (
                        "the simulator does not accept transactions: start it with "
                        "`arbscope sim --accept-tx` (or run with --sim-accept-tx)"
                    )
                self.node = f"arbscope simulator {core} (accepts transactions)"
            else:
                self.node = f"solana-core {core}"
            await self._latest_blockhash(force=True)
            self.lamports = await rpc.get_balance(self.wallet.pubkey)
            base = (await rpc.get_multiple_accounts([self.base])).get(self.base)
            if base is not None:  # its program names the wallet's account of it
                self._programs[self.base] = base.owner
        except RpcError as exc:
            return False, f"RPC not usable: {exc}"
        if not self.lamports:
            return False, f"wallet {self.wallet.pubkey} has no SOL to pay fees"
        await self.refresh_balances([self.base])
        if self.balances.get(self.base, 0) <= 0:
            return False, f"wallet {self.wallet.pubkey} holds none of the base token {self.base}"
        await self._prepare_tables()
        if self._escalating():
            why = await self._prepare_nonces()
            if why:
                return False, why
        if gen != self.generation:
            return False, "the kill switch was pressed while the guard rails were checked"
        self._roll_day()
        if self.base_start is None:
            self.base_start = self.balances.get(self.base, 0)
        self.armed = True
        self._event(Armed(self.wallet.pubkey, self.node, c.shown()))
        log.info("live armed: wallet %s via %s", self.wallet.pubkey, redact(c.rpc))
        notes = [self.tables_note(), self.nonces.note() if self.nonces is not None else ""]
        return True, "; ".join(n for n in notes if n)

    def tables_note(self) -> str:
        """The lookup tables in a line: how many, the accounts they hold, what making and
        extending them cost this process (or why they could not be made)."""
        t = self.tables.view if self.tables is not None else None
        if t is None:
            return ""
        if t.error:
            return t.error
        cost = f", cost {t.spent / 1e9:.4f} SOL" if t.spent else " (found, no cost)"
        return f"lookup tables: {len(t.tables)} holding {t.addresses} accounts{cost}"

    def _client(self) -> RpcClient:
        if self._rpc is None:
            assert self.config.rpc is not None
            self._rpc = RpcClient(self.config.rpc, timeout_s=5.0, ca_file=self.config.ca_file)
        return self._rpc

    def disarm(self, why: str = "back to paper") -> int:
        """Stop live trading at once: every order not yet handed to the node is cancelled
        (never sent). Returns how many were cancelled."""
        was = self.armed
        self.armed = False
        self.generation += 1
        n = 0
        for o in self.orders:
            if o.status in TERMINAL or o.sending:
                continue
            task = self.tasks.get(o.seq)
            if task is not None and not task.done():
                task.cancel()
            self._finish(o, "cancelled", f"{why}: cancelled before it was sent")
            n += 1
        if was:
            self._event(Disarmed(why, n))
        return n

    def kill(self) -> int:
        return self.disarm("kill switch")

    # ------------------------------------------------------------ orders
    def _roll_day(self) -> None:
        day = utc_day(self.clock())
        if day != self.day:
            self.day, self.spent_today, self.spent_elsewhere = day, 0, 0
            self.elsewhere_from = "not read yet today"  # the next order reads it first

    async def _read_elsewhere(self) -> None:
        """Read the other sessions' total of the current day from the ledger."""
        assert self.ledger is not None
        day = self.day
        spent, where = await self.ledger.spent_elsewhere(day)
        if day == self.day:
            self.spent_elsewhere, self.elsewhere_from = spent, where

    def _day_error(self, amount: int, counted: bool = False) -> str:
        """Why an order of ``amount`` would pass the daily cap ("" when it would not);
        ``counted``: the order is in ``spent_today`` already."""
        cap = self.config.max_day
        assert cap is not None
        mine = self.spent_today - (amount if counted else 0)
        used = mine + self.spent_elsewhere
        if used + amount <= cap:
            return ""
        return (
            f"size {amount:,} over the daily cap {cap:,}: {used:,} used today (UTC "
            f"{self.day}): {mine:,} by this session, {self.spent_elsewhere:,} by "
            f"{self.elsewhere_from}"
        )

    def open_orders(self) -> int:
        return sum(1 for o in self.orders if o.status not in TERMINAL)

    def _saw_account(self, mint: str, exists: bool) -> None:
        """The wallet's token account of ``mint`` was read: it exists or not."""
        if self.accounts.get(mint) != exists:
            self.accounts[mint] = exists
            self.accounts_seen += 1

    def accounts_to_create(self, tokens: Sequence[str]) -> int:
        """How many of the wallet's token accounts a transaction through ``tokens``
        would create: the tokens other than the base whose account was not seen on the
        node (never read yet counts: the build reads it and creates it if missing)."""
        return sum(1 for t in set(tokens) if t != self.base and not self.accounts.get(t))

    def submit(
        self, opp: Any, score: Any, fees: Any, pool_slots: tuple[int, ...], trigger: str = "auto"
    ) -> str:
        """Start a live order on ``opp``; why not ("" when it started). Synchronous and
        cheap: every cap is checked here, before any I/O."""
        c = self.config
        if not self.armed or self.wallet is None:
            return "live trading is not armed"
        key = (opp.base_mint, tuple(opp.pools))
        if opp.base_mint != self.base:
            return f"not a {self.names.symbol(self.base)} cycle"
        if any(o.key == key and o.status not in TERMINAL for o in self.orders):
            return "already pending"
        if trigger == "auto" and self._traded.get(key) == pool_slots:
            return "traded in this pool state"
        amount = int(opp.amount_in)
        if amount <= 0:
            return "no profitable size"
        if getattr(fees, "base_rate_missing", False):
            return (
                f"no price of SOL in {self.names.symbol(opp.base_mint)}: its fees cannot be counted"
            )
        too_large = self.sendable(opp)
        if too_large:
            return too_large
        assert c.max_trade is not None and c.max_day is not None
        if amount > c.max_trade:
            return f"size {amount:,} over the per-trade cap {c.max_trade:,}"
        self._roll_day()
        day_err = self._day_error(amount)
        if day_err:
            return day_err
        if self.open_orders() >= c.max_open:
            return f"max open orders reached ({c.max_open})"
        busy = next(
            (o for o in self.orders if o.status not in TERMINAL and set(o.pools) & set(opp.pools)),
            None,
        )
        if busy is not None:  # its quote would not hold once the open order lands
            return f"a pool of this cycle is in open order #{busy.seq}"
        have = self.balances.get(self.base)
        if have is not None and amount > have:
            return f"size {amount:,} over the wallet's balance {have:,}"
        try:
            quoted, steps = self._graph().quote_steps(list(opp.pools), opp.base_mint, amount)
        except EngineError as exc:
            return f"cannot quote: {exc}"
        hops = list(quoted)
        if not hops:
            return "a hop cannot fill"
        self.seq += 1
        o = LiveOrder(
            self.seq,
            trigger,
            key,
            list(opp.tokens),
            list(opp.pools),
            list(opp.kinds),
            amount,
            hops,
            [int(x) for x in steps],
        )
        o.decided_slot = int(self._graph().slot)
        o.cu_priced = int(fees.cu_limit)
        self.orders.append(o)
        self.spent_today += amount
        self._traded[key] = pool_slots
        self._event(
            self._order_step(
                o,
                "accepted",
                score_net=int(score.net_profit),
                cu_price=int(fees.cu_price_micro_lamports),
                cu_priced=o.cu_priced,
                steps=o.steps,
                day=self.day,  # the UTC day it counts against (read back by day_spent)
            ),
        )
        self.tasks[o.seq] = asyncio.get_running_loop().create_task(
            self._run(o, self.generation, int(fees.cu_price_micro_lamports)),
            name=f"live-order-{o.seq}",
        )
        return ""

    async def _run(self, o: LiveOrder, gen: int, cu_price: int) -> None:
        try:
            await self._pipeline(o, gen, cu_price)
        except asyncio.CancelledError:
            if o.status not in TERMINAL:
                self._finish(o, "cancelled", "cancelled before it was sent")
        except (
            RpcError,
            KeypairError,
            EngineError,
            ValueError,
            KeyError,
            TypeError,
            IndexError,
            OSError,
        ) as exc:
            self._finish(o, "error", self._clean(f"{type(exc).__name__}: {exc}"))
        except Exception as exc:  # never a traceback on the operator's screen
            log.exception("live order %d", o.seq)
            self._finish(o, "error", self._clean(f"{type(exc).__name__}: {exc}"))
        finally:
            self.tasks.pop(o.seq, None)
            if not o.sent:  # nothing was traded: the day's cap is given back
                self.spent_today = max(0, self.spent_today - o.amount_in)

    async def _pipeline(self, o: LiveOrder, gen: int, cu_price: int) -> None:
        if not self._escalating():
            await self._order(o, gen, cu_price)
            return
        assert self.nonces is not None
        nonce = self.nonces.take()
        if nonce is None:  # max_open bounds the orders, so only when some were not made
            self._finish(
                o,
                "refused",
                "no durable nonce account is free "
                f"({len(self.nonces.ready)} usable): {self.nonces.note()}",
            )
            return
        o.nonce = nonce
        try:
            await self._order(o, gen, cu_price)
        finally:
            self.nonces.give_back(nonce)

    async def _order(self, o: LiveOrder, gen: int, cu_price: int) -> None:
        assert self.wallet is not None
        c = self.config
        if not await self._day_holds(o):
            return
        rpc = self._client()
        ixs, base_ata, pre_base, creates = await self._build(o, cu_price)
        if self.tables is not None:  # never the nonce account: it must be a static key
            self.tables.note(ixs[1:] if o.nonce else ixs, self.wallet.pubkey)
        tx, raw, bh, last_valid = await self._sign(ixs, o.durable)
        if _too_big(tx, raw) and creates:
            # too large only with the new token accounts in it: create them first, alone
            if not await self._create_accounts(o, creates, cu_price, gen):
                return
            o.created_apart = list(creates)
            ixs, base_ata, pre_base, creates = await self._build(o, cu_price)
            tx, raw, bh, last_valid = await self._sign(ixs, o.durable)
        parts = [(tx, raw, ixs)]
        why = _too_big(tx, raw)
        if why and not o.nonce and c.engines():
            # one transaction cannot hold it: two in one bundle, which lands whole or not
            # at all (the tip in the second), if a cut of its hops fits each
            split = await self._split(o, ixs, cu_price)
            if split is not None:
                parts, why = split, ""
        if why:
            held = len(getattr(tx.message, "address_table_lookups", ()))
            self._finish(
                o,
                "refused",
                f"{why} ({len(o.pools)} hops, {len(ixs)} instructions, "
                f"{held} lookup table(s) used; the accounts no table held yet are "
                "added for the next order; a bundle of two transactions needs "
                "live.jito)"
                if c.engines() or o.nonce
                else f"{why} ({len(o.pools)} "
                "hops; a bundle of two transactions would need live.jito)",
            )
            return
        tx = parts[-1][0]  # the one that pays the tip, and lands only with the others
        o.signature = str(tx.signatures[0])
        o.parts = len(parts)
        wires = [base64.b64encode(r).decode() for _, r, _ in parts]
        self._step(
            o,
            "signed",
            blockhash=bh,
            last_valid_block_height=last_valid,
            instructions=len(ixs),
            min_out=o.min_out,
            transactions=len(parts),
            cu_limit=o.cu_limit,
            cu_priced=o.cu_priced,
        )

        if len(parts) == 1:
            sim = await rpc.simulate_transaction(wires[0], accounts=[base_ata])
        else:
            sim = await self._simulate_parts(o, wires, base_ata)
        o.units, o.fee_lamports = sim.get("unitsConsumed"), sim.get("fee")
        if sim.get("err") is not None:
            self._finish(
                o,
                "refused",
                "simulation failed: " + describe_error(sim["err"], sim.get("ixs") or ixs),
                logs=list(sim.get("logs") or [])[-8:],
            )
            return
        post = self._simulated_amount(sim.get("accounts"))
        if post is None and not sim.get("unchecked"):
            self._finish(o, "refused", "the simulation did not return the base account")
            return
        if post is not None:
            o.simulated_out = post - pre_base + o.amount_in
        if o.simulated_out is not None and o.simulated_out < o.min_out:
            self._finish(
                o, "refused", f"simulated output {o.simulated_out:,} < minimum {o.min_out:,}"
            )
            return
        self._step(o, "simulated", units=o.units, fee=o.fee_lamports, simulated_out=o.simulated_out)

        if self._killed(o, gen):
            return
        watcher = self._watch()
        fut = await watcher.subscribe(o.signature)
        if self._killed(o, gen):  # the subscription awaited: look again
            watcher.forget(o.signature)
            return
        o.sending = True
        sent_slot = await rpc.get_slot("processed")
        handed = await self._hand_over(o, wires)
        o.sent = True
        self.counts["sent"] += 1
        o.versions.append((o.signature, o.tip))
        self._step(o, "sent", via=o.via, routes=[r for r, _ in handed], tip=o.tip)
        if o.nonce:
            watcher.forget(o.signature)  # every version is watched by polling below
            conf = await self._escalate(o, ixs, handed, sent_slot, gen)
        else:
            conf = await watcher.wait(o.signature, fut, last_valid, c.confirm_timeout_s)
            await self._count_routes(o, handed, conf, sent_slot, ixs)
        o.slot = conf.slot
        if conf.slot is not None and o.decided_slot and self.on_landing is not None:
            # paper lands on the measured latency: slots, and the decision-to-send time
            self.on_landing(conf.slot - o.decided_slot, round(o.ms.get("sent", 0.0) * 1e6))
        alone = self.open_orders() == 1
        await self.refresh_balances(o.tokens)
        if alone and conf.status in ("confirmed", "failed"):
            o.realized = self.balances.get(self.base, 0) - pre_base
        self._finish(
            o,
            conf.status,
            _confirmation_text(conf, ixs) if conf.status != "cancelled" else conf.via,
            slot=conf.slot,
            via=conf.via,
            realized=o.realized,
            tip=o.tip,
            versions=[{"signature": s, "tip": t} for s, t in o.versions],
        )

    # ------------------------------------------------------------ two transactions
    async def _split(
        self, o: LiveOrder, ixs: list[Any], cu_price: int
    ) -> list[tuple[VersionedTransaction, bytes, list[Any]]] | None:
        """``ixs`` (compute budget, new token accounts, one swap per hop, the tip) as two
        transactions of one bundle: the first hops (and the accounts created) in the
        first, the others and the tip in the second, each with the compute units its hops
        take; the cut nearest the middle whose two both fit a packet and the account-lock
        limit, None when no cut does. Both name the same blockhash: they land in the same
        slot, in order, or neither does."""
        at = [i for i, ix in enumerate(ixs) if str(ix.program_id) in SWAP_PROGRAMS]
        if len(at) < 2:
            return None
        first, last = at[0], at[-1]
        head, swaps, tail = ixs[2:first], ixs[first : last + 1], ixs[last + 1 :]
        n = len(swaps)
        over = self.config.cu_limit
        # each part's hops at their quote's steps (not known: each at its most)
        steps: Sequence[int | None] = self._hop_steps(o, o.kinds) or [None] * len(o.kinds)
        for k in sorted(range(1, n), key=lambda k: (abs(2 * k - n), k)):
            one = cycle_budget(
                o.kinds[:k], accounts=len(head), override=over, steps=steps[:k]
            ).limit
            two = cycle_budget(o.kinds[k:], override=over, steps=steps[k:]).limit
            groups = [
                [
                    I.set_compute_unit_limit(one),
                    I.set_compute_unit_price(cu_price),
                    *head,
                    *swaps[:k],
                ],
                [
                    I.set_compute_unit_limit(two),
                    I.set_compute_unit_price(cu_price),
                    *swaps[k:],
                    *tail,
                ],
            ]
            out = []
            for g in groups:
                tx, raw, _, _ = await self._sign(g)
                if _too_big(tx, raw):
                    break
                out.append((tx, raw, g))
            else:
                return out
        return None

    async def _simulate_parts(
        self, o: LiveOrder, wires: list[str], base_ata: str
    ) -> dict[str, Any]:
        """The bundle's simulation as ``simulateTransaction``'s value (the failing
        transaction's error and logs, the base account after the last one, the fees and
        units summed; ``ixs`` the failing one's instructions): Jito's ``simulateBundle``
        where the node has it, else the first transaction alone (a plain node: the later
        ones need its state; the bundle's atomicity stands for their check, and
        ``simulated_out`` is not known)."""
        rpc = self._client()
        try:
            v = await rpc.simulate_bundle(wires, [None] * (len(wires) - 1) + [[base_ata]])
        except RpcError as exc:
            if exc.code != -32601:
                raise
            alone = await rpc.simulate_transaction(wires[0])
            self._step(
                o,
                "simulated-first",
                note="the node has no simulateBundle: the first transaction simulated alone",
            )
            alone["accounts"] = None
            alone["unchecked"] = True
            return alone
        results = list(v.get("transactionResults") or [])
        out: dict[str, Any] = {
            "err": None,
            "logs": [],
            "fee": 0,
            "unitsConsumed": 0,
            "accounts": (results[-1].get("postExecutionAccounts") if results else None),
        }
        for r in results:
            out["fee"] += int(r.get("fee") or 0)
            out["unitsConsumed"] += int(r.get("unitsConsumed") or 0)
            if r.get("err") is not None:
                out["err"], out["logs"] = r["err"], list(r.get("logs") or [])
                break
        if v.get("summary") != "succeeded" and out["err"] is None:
            out["err"] = str(v.get("summary"))
        return out

    # ------------------------------------------------------------ tip escalation
    def _escalating(self) -> bool:
        """Whether orders go as durable transactions with an escalating tip."""
        return self.config.tip_escalation and bool(self.config.engines())

    async def _escalate(
        self,
        o: LiveOrder,
        ixs: list[Any],
        handed: list[tuple[str, str]],
        sent_slot: int,
        gen: int,
    ) -> Confirmation:
        """Follow a durable order to its end: while none of its versions has landed, a
        new version with a higher tip every ``every_slots`` slots, within the window; the
        first to land wins. At the window's end (or the kill switch) with none landed,
        the nonce is advanced by the wallet itself so that none ever can."""
        assert self.wallet is not None
        rpc = self._client()
        pol = self.tip
        sent: list[tuple[str, int, list[tuple[str, str]]]] = [(o.signature, o.tip, handed)]
        last = sent_slot
        deadline = time.monotonic() + self.config.confirm_timeout_s
        why = ""
        while True:
            got = await self._landed_version([s for s, _, _ in sent])
            if got is not None:
                break
            slot = await rpc.get_slot("processed")
            if gen != self.generation or not self.armed:
                why = "kill switch"
            elif slot - sent_slot >= pol.window_slots:
                why = "window"
            elif time.monotonic() > deadline:
                why = "timeout"
            if why:
                break
            tip = sent[-1][1]
            nxt = pol.escalated(tip)
            if slot - last >= pol.every_slots and nxt > tip:
                me = self.wallet.pubkey
                again = [*ixs[:-1], I.transfer(me, str(ixs[-1].accounts[1].pubkey), nxt)]
                tx, raw, _, _ = await self._sign(again, o.durable)
                if gen != self.generation or not self.armed:  # the kill switch meanwhile
                    continue
                sig = str(tx.signatures[0])
                prev = o.signature
                o.signature, o.tip = sig, nxt
                try:
                    more = await self._hand_over(o, base64.b64encode(raw).decode())
                except RpcError as exc:  # every engine refused this one: the others stand
                    o.signature, o.tip = prev, tip
                    self.last_error = self._clean(str(exc))
                    last = slot
                    continue
                sent.append((sig, nxt, more))
                o.versions.append((sig, nxt))
                last = slot
                self._step(
                    o,
                    "escalated",
                    version=len(sent),
                    tip=nxt,
                    slot=slot,
                    routes=[r for r, _ in more],
                )
                continue
            await asyncio.sleep(ESCALATION_POLL_S)
        if got is None:  # recall: no version may land after this
            burned = await self._advance_nonce(o)
            got = await self._landed_version([s for s, _, _ in sent])  # one may have beaten it
            if got is None:
                for k, (_, _, h) in enumerate(sent):
                    for name, _ in h:
                        r = self._route(name)
                        if k == len(sent) - 1:
                            r.expired += 1
                        else:
                            r.superseded += 1
                o.signature, o.tip = sent[-1][0], 0  # nothing landed: no tip paid
                if not burned:
                    return Confirmation(
                        "unknown",
                        None,
                        None,
                        "the nonce could not be advanced: a version may still land",
                    )
                if why == "kill switch":
                    return Confirmation(
                        "cancelled",
                        None,
                        None,
                        f"kill switch: {len(sent)} "
                        "version(s) recalled (their nonce advanced) before any "
                        "landed: nothing traded, no tip",
                    )
                return Confirmation("expired", None, None, "poll")
        k, conf = got
        o.signature, o.tip = sent[k][0], sent[k][1]
        for j, (_, _, h) in enumerate(sent):
            if j != k:
                for name, _ in h:
                    self._route(name).superseded += 1
        await self._count_routes(o, sent[k][2], conf, sent_slot, ixs)
        return conf

    async def _landed_version(self, sigs: list[str]) -> tuple[int, Confirmation] | None:
        """(index, confirmation) of the version of ``sigs`` that landed, if one did."""
        try:
            statuses = await self._client().get_signature_statuses(sigs)
        except RpcError:
            return None
        for k, st in enumerate(statuses):
            if isinstance(st, dict):
                err = st.get("err")
                return k, Confirmation(
                    "confirmed" if err is None else "failed", st.get("slot"), err, "poll"
                )
        return None

    async def _advance_nonce(self, o: LiveOrder) -> bool:
        """Advance ``o``'s nonce with a recent blockhash (the wallet signs): every version
        of ``o`` still unlanded can then never land. True once it landed."""
        assert self.wallet is not None
        me = self.wallet.pubkey
        ixs = [I.set_compute_unit_limit(1_000), I.advance_nonce(o.nonce, me)]
        try:
            tx, raw, _, last_valid = await self._sign(ixs)
            sig = str(tx.signatures[0])
            watcher = self._watch()
            fut = await watcher.subscribe(sig)
            await self._client().send_transaction(
                base64.b64encode(raw).decode(), skip_preflight=False
            )
            conf = await watcher.wait(sig, fut, last_valid, self.config.confirm_timeout_s)
        except RpcError as exc:
            self.last_error = self._clean(f"advancing the nonce of order #{o.seq}: {exc}")
            return False
        self._step(o, "recalled", nonce_signature=sig, outcome=conf.status)
        return conf.status in ("confirmed", "failed")

    async def _hand_over(self, o: LiveOrder, wires: str | list[str]) -> list[tuple[str, str]]:
        """Send ``wires`` (a transaction, or the transactions of one bundle): to every
        block engine at once as a bundle (the same signatures: it lands once, its tip is
        paid once), or by ``sendTransaction``; the routes that took it, with the bundle id
        ("" for rpc). RpcError when none did."""
        c = self.config
        engines = c.engines()
        bundle = [wires] if isinstance(wires, str) else list(wires)
        if not engines:
            if len(bundle) != 1:
                raise RpcError("a bundle of several transactions needs a block engine")
            route = self._route("rpc")
            try:
                got = await self._client().send_transaction(bundle[0])
            except RpcError:
                route.refused += 1
                raise
            if got != o.signature:
                raise RpcError(f"the node answered signature {got[:16]}…, not ours")
            route.sent += 1
            o.via = "sendTransaction"
            return [("rpc", "")]
        clients = []
        for url in engines:
            if url not in self._jitos:
                self._jitos[url] = JitoClient(url, ca_file=c.ca_file, rps=c.jito_rps)
            clients.append((route_name(url), self._jitos[url]))
        answers = await asyncio.gather(
            *(cl.send_bundle(bundle) for _, cl in clients), return_exceptions=True
        )
        handed: list[tuple[str, str]] = []
        why: list[str] = []
        for (name, _), answer in zip(clients, answers, strict=True):
            route = self._route(name)
            if isinstance(answer, BaseException):
                if not isinstance(answer, (RpcError, OSError, asyncio.TimeoutError)):
                    raise answer
                route.refused += 1
                limited = isinstance(answer, RpcError) and answer.rate_limited
                route.refusals["rate limited" if limited else "unavailable"] += 1
                why.append(f"{name}: {self._clean(str(answer))}")
                continue
            route.sent += 1
            handed.append((name, str(answer)))
        if not handed:
            raise RpcError("every block engine refused the bundle: " + "; ".join(why))
        o.via = f"jito bundle {handed[0][1][:16]} to {len(handed)} engine(s)"
        return handed

    async def _count_routes(
        self,
        o: LiveOrder,
        handed: list[tuple[str, str]],
        conf: Confirmation,
        sent_slot: int,
        ixs: Sequence[Any],
    ) -> None:
        """Per route: landed (the engine whose bundle says Landed; rpc: the confirmation),
        failed (with the error's name) or expired."""
        landed_by = ""
        if conf.status in ("confirmed", "failed"):
            landed_by = handed[0][0]
            if len(handed) > 1 or handed[0][1]:  # bundles: ask the engines which one
                for name, bid in handed:
                    url = next(u for u in self.config.engines() if route_name(u) == name)
                    try:
                        status = await self._jitos[url].inflight_status(bid)
                    except RpcError:
                        continue
                    if status == "Landed":
                        landed_by = name
                        break
        for name, _ in handed:
            route = self._route(name)
            if name != landed_by:
                if not landed_by:
                    route.expired += 1  # never landed anywhere (expired, or no answer)
                continue
            if conf.status == "confirmed":
                route.landed += 1
            else:
                route.failed += 1
                route.errors[error_name(_confirmation_text(conf, ixs))] += 1
            if conf.slot is not None:
                route.slots.append(max(0, conf.slot - sent_slot))

    def _route(self, name: str) -> RouteStats:
        return self.routes.setdefault(name, RouteStats())

    async def _refresh_tip(self) -> None:
        """The percentile policy's tip from the first engine that answers its tip floor
        (kept for 10 s); on no answer the last one (or the fixed fallback) stays."""
        now = time.monotonic()
        if not self.tip.stale(now):
            return
        import aiohttp

        from feeds.clients.tls import ssl_for

        for url in self.config.engines():
            try:
                async with aiohttp.ClientSession() as http:
                    answer = await fetch_tip_floor(http, url, ssl_for(url, self.config.ca_file))
                self.tip.read_floor(answer, now)
                return
            except (ValueError, aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                log.warning("tip floor: %s", self._clean(str(exc)))

    async def _day_holds(self, o: LiveOrder) -> bool:
        """Before anything is built: the other sessions' total read again (they may have
        traded since), the cap checked with it, and the order's ``accepted`` event
        committed to the journal. False (the order refused) when the cap would be passed
        or the journal cannot keep the total (a full disk): fail safe."""
        assert self.ledger is not None
        try:
            await self._read_elsewhere()
            over = self._day_error(o.amount_in, counted=True)
            if over:
                self._finish(o, "refused", over)
                return False
            await self.ledger.commit()
        except JournalError as exc:
            self._finish(
                o,
                "refused",
                f"the journal cannot keep the day's live total ({exc}): "
                "live orders are refused until it can",
            )
            return False
        return True

    # ------------------------------------------------------------ building
    async def _statics(self, pools: Sequence[str]) -> None:
        """Decode the pools not seen before, and the token program of their mints."""
        missing = [p for p in pools if p not in self._static]
        if not missing:
            return
        got = await self._client().get_multiple_accounts(missing)
        recs: dict[str, tuple[str, Any]] = {}
        for p in missing:
            acc = got.get(p)
            if acc is None:
                raise ValueError(f"pool {p} not found on the node")
            recs[p] = _decode_pool(self.eng, acc)
        mints = sorted({m for kind, r in recs.values() for m in pool_mints(kind, r)})
        mint_accounts = await self._client().get_multiple_accounts(mints)
        programs = {}
        for m in mints:
            acc = mint_accounts.get(m)
            if acc is None:
                raise ValueError(f"mint {m} not found on the node")
            programs[m] = acc.owner
        self._programs.update(programs)
        for p, (kind, r) in recs.items():
            self._static[p] = _Static(kind, r, {m: programs[m] for m in pool_mints(kind, r)})

    async def _create_accounts(
        self, o: LiveOrder, mints: list[str], cu_price: int, gen: int
    ) -> bool:
        """The wallet's missing token accounts for ``mints`` in a transaction of their own
        (simulated, sent, confirmed; journaled as the order's ``accounts`` step). False
        when that did not work (the order is finished then)."""
        assert self.wallet is not None
        me = self.wallet.pubkey
        rpc = self._client()
        ixs = [
            I.set_compute_unit_limit(cycle_budget((), accounts=len(mints)).limit),
            I.set_compute_unit_price(cu_price),
            *(I.create_ata_idempotent(me, me, m, self._program(m)) for m in mints),
        ]
        tx, raw, _, last_valid = await self._sign(ixs)
        sig = str(tx.signatures[0])
        wire = base64.b64encode(raw).decode()
        sim = await rpc.simulate_transaction(wire, accounts=())
        if sim.get("err") is not None:
            self._finish(
                o,
                "refused",
                "creating the token accounts would fail: " + describe_error(sim["err"], ixs),
            )
            return False
        if self._killed(o, gen):
            return False
        watcher = self._watch()
        fut = await watcher.subscribe(sig)
        o.sending = True
        await rpc.send_transaction(wire)
        conf = await watcher.wait(sig, fut, last_valid, self.config.confirm_timeout_s)
        o.sending = False
        self._step(o, "accounts", accounts_signature=sig, mints=mints, outcome=conf.status)
        if conf.status != "confirmed":
            self._finish(
                o,
                "refused",
                "creating the token accounts did not land: " + _confirmation_text(conf, ixs),
            )
            return False
        return True

    async def _sign(
        self, ixs: list[Any], durable: str = ""
    ) -> tuple[VersionedTransaction, bytes, str, int]:
        """(transaction, its bytes, blockhash, last valid block height) for ``ixs``: a v0
        message that loads from the wallet's lookup tables every account they hold. With
        ``durable`` (a durable nonce) that is its blockhash (it never expires by height:
        the escalation window bounds it)."""
        assert self.wallet is not None
        bh, last_valid = await self._latest_blockhash()
        if durable:
            bh = durable
        tables = self.tables.accounts() if self.tables is not None else []
        tx = compile_and_sign(self.wallet.keypair, self.wallet.key, ixs, bh, tables)
        return tx, bytes(tx), bh, last_valid

    # ------------------------------------------------------------ lookup tables
    async def _prepare_nonces(self) -> str:
        """Find or make one durable nonce account per order in flight (``max_open``); why
        live trading cannot arm ("" when it can): escalation needs them."""
        assert self.wallet is not None
        c = self.config
        if self.nonces is None:
            self.nonces = NonceKeeper(
                self._client(),
                self.wallet.pubkey,
                c.max_open,
                self._sign,
                self._watch,
                self._event,
                c.confirm_timeout_s,
                budget=c.nonces_budget_lamports,
            )
        try:
            await self.nonces.ensure()
        except (RpcError, ValueError, OSError) as exc:
            self.nonces.view.error = self._clean(f"durable nonces: {exc}")
        if not self.nonces.ready:
            return (self.nonces.view.error or "durable nonces: none usable") + (
                " (fees.tip_escalation needs them)"
            )
        return ""

    async def _prepare_tables(self) -> None:
        """Find the wallet's lookup tables on the node and extend them with every
        account the watched pools' swaps name (both directions, the wallet's token
        accounts), creating tables as needed; the cost is journaled and shown. A failure
        is shown and journaled; orders then go with what the tables hold."""
        assert self.wallet is not None
        if self.tables is None:
            self.tables = TableKeeper(
                self._client(),
                self.wallet.pubkey,
                self._sign,
                self._watch,
                self._event,
                self.config.confirm_timeout_s,
                budget=self.config.tables_budget_lamports,
            )
        keeper = self.tables
        try:
            await keeper.load()
            keys = await self._watched_keys()
            await keeper.ensure(keys)
            keeper.view.error = ""
        except (RpcError, ValueError, OSError) as exc:
            keeper.view.error = self._clean(f"lookup tables: {exc}")
            self.last_error = keeper.view.error
            log.warning("%s", keeper.view.error)

    async def _watched_keys(self) -> list[Pubkey]:
        """The accounts a lookup table could hold of one swap each way through every
        pool of the graph whose program arbscope trades."""
        from .tables import table_keys

        assert self.wallet is not None
        me = self.wallet.pubkey
        pools = [str(p) for p in self._graph().pools()]
        try:
            await self._statics(pools)
        except ValueError:  # a pool of a program not traded: the others one by one
            for p in pools:
                try:
                    await self._statics([p])
                except ValueError:
                    continue
        out: dict[Pubkey, None] = {}
        for p in pools:
            st = self._static.get(p)
            if st is None:
                continue
            venue = venues.by_kind(st.kind)
            mints = list(pool_mints(st.kind, st.record))
            for tin, tout in ((mints[0], mints[1]), (mints[1], mints[0])):
                leg = venues.Leg(
                    pool=p,
                    record=st.record,
                    owner=me,
                    mint_in=tin,
                    mint_out=tout,
                    source=self._ata(tin),
                    dest=self._ata(tout),
                    amount_in=1,
                    minimum_out=0,
                    token_programs=st.programs,
                )
                try:
                    ix = venue.swap_instruction(leg)
                except (ValueError, KeyError):
                    continue  # a swap this pool cannot build now (no tick array ahead)
                out.update(dict.fromkeys(table_keys([ix], me)))
        return list(out)

    def _keep_tables(self) -> None:
        """Between orders: add the accounts orders named that no table held."""
        keeper = self.tables
        if keeper is None or not keeper.view.pending or not self.armed:
            return
        if self.open_orders() or (self._keeping is not None and not self._keeping.done()):
            return

        async def keep() -> None:
            try:
                await keeper.ensure()
                keeper.view.error = ""
            except (RpcError, ValueError, OSError) as exc:
                keeper.view.error = self._clean(f"lookup tables: {exc}")
                log.warning("%s", keeper.view.error)

        self._keeping = asyncio.get_running_loop().create_task(keep(), name="lookup-tables")

    def _killed(self, o: LiveOrder, gen: int) -> bool:
        """Whether the kill switch (or back to paper) came since ``o`` started: then it
        is finished as cancelled, never sent."""
        if gen == self.generation and self.armed:
            return False
        self._finish(o, "cancelled", "kill switch: cancelled before it was sent")
        return True

    async def _build(self, o: LiveOrder, cu_price: int) -> tuple[list[Any], str, int, list[str]]:
        """(instructions, base ATA, base balance before, mints whose token account the
        instructions create) for ``o``; sets ``o.min_out``."""
        assert self.wallet is not None
        me = self.wallet.pubkey
        await self._statics(o.pools)
        # each token's account of its program (a Token-2022 mint's ATA is Token-2022's);
        # a venue builds its Token-2022 instruction for a pool with such a mint, and the
        # quotes (hence the minimums) are net of the mints' transfer fees
        atas = {t: self._ata(t) for t in dict.fromkeys(o.tokens)}
        # pools whose swap names accounts that follow their state (a Whirlpool's tick
        # arrays): read again with the wallet's accounts
        fresh = [p for p in o.pools if venues.by_kind(self._static[p].kind).fresh_state]
        keys = [*fresh, me, *atas.values(), *([o.nonce] if o.nonce else [])]
        got = await self._client().get_multiple_accounts(keys)
        if o.nonce:  # a durable order: its blockhash is the nonce's, read now
            acc = got.get(o.nonce)
            held = I.read_nonce_account(acc.owner, acc.data) if acc is not None else None
            if held is None or held[0] != me:
                raise ValueError(f"nonce account {o.nonce} is not a durable nonce of the wallet")
            o.durable = held[1]
        base_acc = got.get(atas[self.base])
        if base_acc is None:
            raise ValueError(f"the wallet has no token account for the base token {self.base}")
        pre_base = self._amount(base_acc.data)
        if pre_base < o.amount_in:
            raise ValueError(
                f"the wallet holds {pre_base:,} of the base token, the order needs {o.amount_in:,}"
            )
        bps = self.config.max_slippage_bps
        n = len(o.pools)
        # a durable order's first instruction advances its nonce (the runtime's rule)
        ixs: list[Any] = [I.advance_nonce(o.nonce, me)] if o.nonce else []
        creates = [t for t, a in atas.items() if got.get(a) is None]
        kinds = [self._static[p].kind for p in o.pools]
        o.kinds = kinds  # the programs (amm_v4 | cpmm | whirlpool), not the curves
        for t, a in atas.items():
            self._saw_account(t, got.get(a) is not None)
        # what the scorer priced it at, each hop at the steps its quote crosses, from what
        # the wallet holds now (the same, unless an account appeared or went since: the
        # step journals both)
        o.cu_limit = cycle_budget(
            kinds,
            accounts=len(creates),
            override=self.config.cu_limit,
            steps=self._hop_steps(o, kinds),
        ).limit
        ixs.append(I.set_compute_unit_limit(o.cu_limit))
        ixs.append(I.set_compute_unit_price(cu_price))
        for t in creates:
            ixs.append(I.create_ata_idempotent(me, me, t, self._program(t)))
        for i, pool in enumerate(o.pools):
            tin, tout = o.tokens[i], o.tokens[i + 1]
            amount, quoted = o.hops[i], o.hops[i + 1]
            st = self._static[pool]
            venue = venues.by_kind(st.kind)
            # a hop that gets exactly its minimum (an order book's buy) asks for its quote
            exact = venue.exact_buy and tout == self._graph().pool_rate(pool)[0]
            minimum = quoted if exact else quoted * (10_000 - bps) // 10_000
            if i == n - 1:
                minimum = max(minimum, o.amount_in)
                o.min_out = minimum
            rec = st.record
            if venue.fresh_state:
                now = got.get(pool)
                rec = _decode_pool(self.eng, now)[1] if now is not None else rec
            leg = venues.Leg(
                pool=pool,
                record=rec,
                owner=me,
                mint_in=tin,
                mint_out=tout,
                source=atas[tin],
                dest=atas[tout],
                amount_in=amount,
                minimum_out=minimum,
                token_programs=st.programs,
            )
            ixs.append(venue.swap_instruction(leg))
        await self._refresh_tip()
        tip = self.tip.current()
        if tip > 0:
            tip_to = I.JITO_TIP_ACCOUNTS[o.seq % len(I.JITO_TIP_ACCOUNTS)]
            ixs.append(I.transfer(me, tip_to, tip))
            o.tip = tip
        return ixs, atas[self.base], pre_base, creates

    async def _latest_blockhash(self, force: bool = False) -> tuple[str, int]:
        now = time.monotonic()
        if force or self._blockhash is None or now - self._blockhash[2] > BLOCKHASH_MAX_AGE_S:
            bh, last = await self._client().get_latest_blockhash()
            self._blockhash = (bh, last, now)
        return self._blockhash[0], self._blockhash[1]

    def _watch(self) -> SignatureWatcher:
        if self._watcher is None:
            self._watcher = SignatureWatcher(self.config.ws, self._client())
        return self._watcher

    async def refresh_balances(self, mints: Sequence[str] = ()) -> None:
        """Read the wallet's SOL and token balances again (every mint traded so far)."""
        if self.wallet is None:
            return
        me = self.wallet.pubkey
        want = list(dict.fromkeys([*self.balances, *mints]))
        atas = {self._ata(m): m for m in want}
        try:
            got = await self._client().get_multiple_accounts([me, *atas])
        except RpcError as exc:
            self.last_error = self._clean(str(exc))
            return
        acc: RawAccount | None = got.get(me)
        self.lamports = acc.lamports if acc is not None else 0
        for a, m in atas.items():
            t = got.get(a)
            self.balances[m] = self._amount(t.data) if t is not None else 0
            self._saw_account(m, t is not None)

    def _hop_steps(self, o: LiveOrder, kinds: Sequence[str]) -> tuple[int, ...] | None:
        """Each hop's steps in its venue's compute-unit model (``.compute.cycle_steps``):
        its quote's (``o.steps``) and its mints' Token-2022 steps, each mint's program as
        the scorer reads it (the graph's ``mint_program``; the node's, where the graph
        has none). None when the quote's steps are not known (each hop at its most)."""
        if len(o.steps) != len(kinds):
            return None
        g = self._graph()
        programs = [g.mint_program(t) or self._program(t) for t in o.tokens]
        return cycle_steps(kinds, (), o.steps, programs)

    def _program(self, mint: str) -> str:
        """The token program of ``mint`` (read with the pools it trades in; SPL Token's
        until then: the base, whose account the caps need before any pool is read)."""
        return self._programs.get(mint, I.SPL_TOKEN)

    def _ata(self, mint: str) -> str:
        """The wallet's associated token account for ``mint`` under its program."""
        assert self.wallet is not None
        return I.ata_address(self.wallet.pubkey, mint, self._program(mint))

    def _amount(self, data: bytes) -> int:
        """A token account's amount (the engine's decoder: DecodeError when it is not one)."""
        return int(self.eng.decode_token_account(data).amount)

    def _simulated_amount(self, accounts: Any) -> int | None:
        """The amount of the first account a simulation returned, or None."""
        try:
            return self._amount(base64.b64decode(accounts[0]["data"][0]))
        except (TypeError, KeyError, IndexError, ValueError):  # DecodeError is a ValueError
            return None

    # ------------------------------------------------------------ journal and view
    def _clean(self, text: str) -> str:
        c = self.config
        return scrub(text, *(u for u in (c.rpc, c.ws, *c.engines()) if u))[:300]

    def _event(self, event: Derived) -> None:
        sink = self._sink()
        if sink is not None:
            sink.emit(event, 0, time.monotonic_ns())

    def _order_step(self, o: LiveOrder, step: str, **extra: Any) -> OrderStep:
        o.ms[step] = round((time.perf_counter() - o.t0) * 1e3, 3)
        return OrderStep(
            o.ms[step],
            o.seq,
            step,
            o.signature,
            o.trigger,
            o.tokens,
            o.pools,
            o.amount_in,
            o.hops,
            extra,
        )

    def _step(self, o: LiveOrder, step: str, **extra: Any) -> None:
        o.status = step
        self._event(self._order_step(o, step, **extra))
        log.info("live order %d %s %s", o.seq, step, o.signature[:16])

    def _finish(self, o: LiveOrder, status: str, detail: str, **extra: Any) -> None:
        o.status, o.detail = status, detail
        if status in ("confirmed",):
            self.counts["confirmed"] += 1
        elif status in ("failed", "expired", "error", "unknown"):
            self.counts["failed"] += 1
            self.last_error = detail
        elif status == "refused":
            self.counts["refused"] += 1
        self._event(
            self._order_step(
                o,
                status,
                detail=detail,
                units=o.units,
                fee=o.fee_lamports,
                simulated_out=o.simulated_out,
                **extra,
            ),
        )
        log.info("live order %d %s: %s", o.seq, status, detail)
        try:
            self._keep_tables()
        except RuntimeError:  # no running loop (a test finishing orders by hand)
            pass

    def view(self) -> LiveView:
        def path(o: LiveOrder) -> str:
            return self.names.path(o.tokens)

        orders = tuple(
            OrderView(
                o.seq,
                o.status,
                o.signature,
                path(o),
                o.amount_in,
                o.min_out,
                o.simulated_out,
                o.realized,
                o.detail,
            )
            for o in list(self.orders)[-6:]
        )
        base_now = self.balances.get(self.base, 0)
        others = sorted((m, a) for m, a in self.balances.items() if m != self.base and a)
        return LiveView(
            wallet=self.wallet.pubkey if self.wallet else "",
            armed=self.armed,
            base=self.base,
            pnl=0 if self.base_start is None else base_now - self.base_start,
            lamports=self.lamports,
            balances=((self.base, base_now), *others),
            open=self.open_orders(),
            sent=self.counts["sent"],
            confirmed=self.counts["confirmed"],
            failed=self.counts["failed"],
            refused=self.counts["refused"],
            spent_today=self.spent_today,
            orders=orders,
            node=self.node,
            last_error=self.last_error,
            tables=None if self.tables is None else replace(self.tables.view),
            routes=views(self.routes),
            nonces=None if self.nonces is None else replace(self.nonces.view),
        )

    async def close(self) -> None:
        """Cancel what was never sent; close the connections."""
        self.disarm("session closed")
        keeping = [self._keeping] if self._keeping is not None else []
        for t in [*self.tasks.values(), *keeping]:
            t.cancel()
        for t in [*self.tasks.values(), *keeping]:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        if self._watcher is not None:
            await self._watcher.close()
        for j in self._jitos.values():
            await j.close()
        if self._rpc is not None:
            await self._rpc.close()


def compile_and_sign(
    keypair: Keypair,
    payer: Pubkey,
    ixs: Sequence[Any],
    blockhash: str,
    tables: Sequence[AddressLookupTableAccount] = (),
) -> VersionedTransaction:
    """A v0 message signed by ``keypair``, loading from ``tables`` every account they
    hold that does not sign and is not an invoked program (solders' compiler, Agave's
    rule): the signature over the message bytes, then the transaction populated with it
    (the same bytes as solders' ``VersionedTransaction(msg, [keypair])`` in well under
    half the time)."""
    msg = MessageV0.try_compile(payer, list(ixs), list(tables), Hash.from_string(blockhash))
    return VersionedTransaction.populate(msg, [keypair.sign_message(to_bytes_versioned(msg))])


def _decode_pool(eng: Any, acc: RawAccount) -> tuple[str, Any]:
    """(venue kind, decoded pool account) of a pool account, by the program that owns it."""
    venue = venues.by_program(acc.owner)
    if venue is None:
        raise ValueError(f"an account owned by {acc.owner} is not a pool arbscope can trade")
    return venue.kind, venue.decode_pool(eng, acc.data, acc.owner)


def describe_error(err: Any, ixs: Sequence[Any] = ()) -> str:
    """A TransactionError in words, with the program's own name for a custom error
    (``InstructionError [3, {Custom: 30}]`` -> ``instruction 3 (675k…): ExceededSlippage``)."""
    if isinstance(err, dict) and "InstructionError" in err:
        try:
            i, detail = err["InstructionError"]
            prog = str(ixs[i].program_id) if i < len(ixs) else ""
        except (TypeError, ValueError):
            return str(err)
        if isinstance(detail, dict) and "Custom" in detail:
            code = int(detail["Custom"])
            name = venues.error_name(prog, code)
            venue = venues.by_program(prog)
            if code == 1 and venue is not None and venue.anchor:  # from the token CPI
                name = "InsufficientFunds (token transfer)"
            swaps = [j for j, ix in enumerate(ixs) if str(ix.program_id) in SWAP_PROGRAMS]
            if "InsufficientFunds" in name and i in swaps and i != swaps[0]:
                name += " (the hop before gave less than its quote: its pool moved)"
            return f"instruction {i} ({prog[:4]}…): {name}"
        return f"instruction {i} ({prog[:4]}…): {detail}"
    return str(err)


def _confirmation_text(c: Confirmation, ixs: Sequence[Any]) -> str:
    if c.status == "confirmed":
        return f"landed in slot {c.slot}"
    if c.status == "failed":
        return f"landed in slot {c.slot} and failed (fee paid): {describe_error(c.err, ixs)}"
    if c.status == "expired":
        return "its blockhash expired before it landed: not executed"
    return "no status before the timeout: check the signature on an explorer"

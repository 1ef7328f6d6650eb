"""The live executor's state and what every part of it shares: the RPC client, the signature
watcher, the blockhash, signing, the journal (``tx`` events), an order's steps and end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from solders.instruction import Instruction

import engine_rs
from engine_rs.records import Opportunity
from feeds import venues
from feeds.clients.confirm import SignatureWatcher
from feeds.clients.rpc import JitoClient, RpcClient, RpcError
from feeds.clients.sender import HotSender
from feeds.redact import scrub
from feeds.wire import instructions as I
from feeds.wire.units import TokenBook

from ..events import Event, OrderStep
from ..ports import EventSink
from .blockhash import BlockhashKeeper
from .keys import Wallet
from .nonces import NonceKeeper
from .orders import (
    TERMINAL,
    LiveConfig,
    LiveOrder,
)
from .routes import RouteStats, TipPolicy
from .tables import TableKeeper

log = logging.getLogger(__name__)


BLOCKHASH_MAX_AGE_S = 20.0
# ... and at most this many of the chain's slots (the graph's): a blockhash lives 150 slots,
# 60 s on mainnet but 15 s on a simulator at 0.1 s a slot, so seconds alone do not bound it.
# 100 leaves an order signed with it 50 slots to land (an arbitrage lands in a few or
# never). With 50, the refresh read at half of it (25 slots: 1 s at bench.live's 40 ms
# slots) came back too late from a busy node: 8 of 32 orders found none held and went the
# ordinary way, 2-3.3 s each (the p99); with 100, none of 23.
BLOCKHASH_MAX_AGE_SLOTS = 100
# the fast path's keeper reads a new one when the held one is this close to either age
BLOCKHASH_REFRESH_S = 5.0
BLOCKHASH_REFRESH_SLOTS = 12
KEEP_WARM_S = 1.0  # how often the keeper looks (blockhash, tips, new pools, accounts)


@dataclass(slots=True)
class StaticPool:
    """What does not change about a pool: its kind, decoded account and token programs."""

    kind: str
    record: Any
    programs: dict[str, str]  # mint -> token program


def utc_day(t: float) -> str:
    """``YYYY-MM-DD`` of the Unix time ``t`` in UTC (the day the ``max_day`` cap counts)."""
    return time.strftime("%Y-%m-%d", time.gmtime(t))


class DayLedger(Protocol):
    """Where the UTC day's live total lives across runs (:class:`JournalLedger`)."""

    async def spent_elsewhere(self, day: str) -> tuple[int, str]:
        """(base units sent on ``day`` by other sessions, where that figure comes from)."""
        ...

    def close(self) -> None:
        """Let go of what it holds open."""
        ...

    def spent_now(self, day: str) -> tuple[int, str]:
        """:meth:`spent_elsewhere` without a query: what was read last, and what the
        other sessions noted since (cheap: before every order)."""
        ...

    def note(self, seq: int, day: str, amount: int) -> None:
        """This session's order ``seq`` of ``amount`` on ``day`` goes on: kept before
        anything is sent, where a later or concurrent session reads it (JournalError
        when it cannot be)."""
        ...


class ExecutorCore:
    """The live executor's shared state, given to each of its parts (not inherited): the
    config, the graph accessor, the kill switch (``armed``, ``generation``), the day's
    count, the orders, the wallet's balances and accounts as last read, the clients (the
    node's, the watcher, the block engines', the hot connections), the blockhash; and
    what every part does with it: an order's steps and end as journaled (``tx`` events),
    the lookup tables' upkeep between orders."""

    def __init__(
        self,
        config: LiveConfig,
        base: str,
        graph: Callable[[], Any],
        sink: Callable[[], EventSink | None] = lambda: None,
        clock: Callable[[], float] = time.time,
        sendable: Callable[[Opportunity], str] = lambda opp: "",
        ledger: DayLedger | None = None,
    ) -> None:
        # the day's total across runs (None: no journal, and live does not arm)
        self.ledger = ledger
        # told each landed order's slots from decision to landing and ns from decision to
        # send (the session journals them and paper lands on them)
        self.on_landing: Callable[[int, int], None] | None = None
        self.config, self.base, self.graph, self.sink, self.clock = (
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
        self.traded: dict[tuple[str, tuple[str, ...]], tuple[int, ...]] = {}
        # cycles refused because a hop paid less than its quote (its pool's state held
        # was not the chain's: a notification lost, or a trade landed first) -> the hops
        # at fault and the pools' slots it was decided at: not sent again (automatically)
        # until each pool at fault changed; ``on_stale`` is told the cycle's pools at once
        # (the session's reconcile reads them again through the trusted path)
        self.under_quote: dict[tuple[str, tuple[str, ...]], tuple[tuple[int, ...], ...]] = {}
        self.on_stale: Callable[[list[str]], None] | None = None
        self.stale_refusals = 0  # orders refused so (a hop paid less than its quote)
        self.static: dict[str, StaticPool] = {}
        # venue programs this chain does not run arbscope's swap with (the program refused
        # the instruction itself: InvalidInstructionData, Anchor 100-103): program -> why;
        # no order goes through them for the rest of the session
        self.not_run: dict[str, tuple[str, str]] = {}  # program -> (venue name, why)
        self.programs: dict[str, str] = {}  # mint -> the token program that owns it
        self.rpc: RpcClient | None = None
        self.jitos: dict[str, JitoClient] = {}  # by engine URL
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
        self.watcher: SignatureWatcher | None = None
        # the blockhash orders name: read on threads of its own while armed (hedged over
        # the node and the feeds' nodes), and by the ordinary way's reads
        self.blockhashes = BlockhashKeeper((c.rpc or "", *c.blockhash_rpcs), c.ca_file)
        # the fast path (no round trip between decision and send): the receive ns of the
        # frame behind the session's current turn (its orders' latency starts there), the
        # session graph's decoded state of a pool (kind, record), whether ``balances``
        # were read after every sent order had ended, sends so far, pools not traded
        self.trigger_ns = 0
        self.turn_ns = 0  # when the session's current turn began (time.monotonic_ns)
        # when the pools the turn decides on had their cycles evaluated (the rest of
        # turn -> decided is the decision's own)
        self.evaluated_ns = 0
        self.fast_path = True  # False: every order reads its accounts first (benchmarks)
        # read the thread's CPU clock from the decision to the signature (``LiveOrder.cpu_ns``;
        # benchmarks): off by default, because reading it is a system call that lets the
        # kernel's scheduler (EEVDF, Linux >= 6.6) hand the core away right there on a busy
        # machine — measured: 1 read in 10 took ~5 ms in the live bench (`bench.live --cpu`)
        self.cpu_clock = False
        self.state_of: Callable[[str], tuple[str, Any] | None] | None = None
        self.balances_clean = False
        self.sends = 0
        self.static_refused: set[str] = set()
        self.warming: asyncio.Task[None] | None = None
        self.hot: dict[str, HotSender] = {}  # by engine URL: the hot path's connections
        self.reading_blockhash: asyncio.Task[None] | None = None
        self.tables: TableKeeper | None = None  # the wallet's lookup tables (once armed)
        self.keeping: asyncio.Task[None] | None = None

    def client(self) -> RpcClient:
        if self.rpc is None:
            c = self.config
            assert c.rpc is not None
            self.rpc = RpcClient(c.rpc, timeout_s=c.rpc_timeout_s, ca_file=c.ca_file)
        return self.rpc

    def watch(self) -> SignatureWatcher:
        if self.watcher is None:
            self.watcher = SignatureWatcher(self.config.ws, self.client())
        return self.watcher

    def held_blockhash(self) -> tuple[str, int] | None:
        """The blockhash held and its last valid height while within its ages (from when
        it was asked for, and from its answer's slot), else None. The keeper's threads
        read one every :data:`~.blockhash.EVERY_S` while armed; without them (not armed
        yet), past half of either age a new one is read in the background."""
        held = self.blockhashes.held()
        if held is None:
            return None
        age_s, age_slots = time.monotonic() - held.asked, int(self.graph().slot) - held.slot
        if not self.blockhashes.running and (
            age_s > BLOCKHASH_MAX_AGE_S / 2 or age_slots > BLOCKHASH_MAX_AGE_SLOTS / 2
        ):
            self.refresh_blockhash_ahead()
        if age_s > BLOCKHASH_MAX_AGE_S or age_slots > BLOCKHASH_MAX_AGE_SLOTS:
            return None
        return held.blockhash, held.last_valid

    def refresh_blockhash_ahead(self) -> None:
        """Read a new blockhash in a task of its own (one at a time)."""
        if self.reading_blockhash is not None and not self.reading_blockhash.done():
            return

        async def read() -> None:
            try:
                await self.latest_blockhash(force=True)
            except RpcError as exc:
                self.last_error = self.clean(f"blockhash: {exc}")

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self.reading_blockhash = loop.create_task(read(), name="live-blockhash")

    async def latest_blockhash(
        self, force: bool = False, refresh_within_s: float = 0.0
    ) -> tuple[str, int]:
        """The blockhash orders name and its last valid block height: the held one while
        younger than :data:`BLOCKHASH_MAX_AGE_S` and :data:`BLOCKHASH_MAX_AGE_SLOTS`
        (the keeper, with ``refresh_within_s``, reads a new one that long before); else
        one read now from the node, held from then on (the keeper's threads may hold a
        fresher one meanwhile)."""
        now, slot = time.monotonic(), int(self.graph().slot)
        held = self.blockhashes.held()
        margin = BLOCKHASH_REFRESH_SLOTS if refresh_within_s else 0
        if (
            force
            or held is None
            or now - held.asked > BLOCKHASH_MAX_AGE_S - refresh_within_s
            or slot - held.slot > BLOCKHASH_MAX_AGE_SLOTS - margin
        ):
            bh, last = await self.client().get_latest_blockhash()
            # its slot: the graph's when it was asked for (at most the answer's)
            held = self.blockhashes.offer(bh, last, now, slot)
            if force:  # the one just read, even when a thread holds one as fresh
                return bh, last
        return held.blockhash, held.last_valid

    def program(self, mint: str) -> str:
        """The token program of ``mint`` (read with the pools it trades in; SPL Token's
        until then: the base, whose account the caps need before any pool is read)."""
        return self.programs.get(mint, I.SPL_TOKEN)

    def ata(self, mint: str) -> str:
        """The wallet's associated token account for ``mint`` under its program."""
        assert self.wallet is not None
        return I.ata_address(self.wallet.pubkey, mint, self.program(mint))

    def amount(self, data: bytes) -> int:
        """A token account's amount (the engine's decoder: DecodeError when it is not one)."""
        return int(self.eng.decode_token_account(data).amount)

    def saw_account(self, mint: str, exists: bool) -> None:
        """The wallet's token account of ``mint`` was read: it exists or not."""
        if self.accounts.get(mint) != exists:
            self.accounts[mint] = exists
            self.accounts_seen += 1

    def refused_venue(
        self, o: LiveOrder, err: Any, ixs: Sequence[Instruction]
    ) -> tuple[str, str] | None:
        """When ``err`` (a transaction's) says a swap's program refused the instruction
        itself (:func:`feeds.venues.refused_instruction`: a binary older than the swap
        arbscope builds, as Raydium AMM v4's without ``SwapBaseInV2``), its venue is not
        run by this chain: marked for the session (no order goes through it, the screen
        says so); (the venue's name, the words saying it), None for any other error."""
        try:
            i = int(err["InstructionError"][0])
            program = str(ixs[i].program_id)
        except (TypeError, KeyError, IndexError, ValueError):
            return None
        venue = venues.by_program(program)
        why = venues.refused_instruction(err, venue.anchor) if venue is not None else None
        if venue is None or why is None:
            return None
        if program not in self.not_run:
            self.not_run[program] = (
                venue.name,
                f"{venue.name} ({program[:4]}…) refused arbscope's swap itself ({why}, "
                f"order #{o.seq}): this chain's program does not run it; no more orders "
                "through its pools this session",
            )
            log.warning("live: %s", self.not_run[program][1])
        return self.not_run[program]

    def through_refused(self, pools: Sequence[str]) -> str:
        """Why an order through ``pools`` cannot go: one is of a venue this chain does not
        run (:meth:`_refused_venue`); "" when none is (or not known yet)."""
        for p in pools:
            st = self.static.get(p)
            if st is None:
                continue
            program = venues.by_kind(st.kind).program
            if program in self.not_run:
                return f"pool {p[:8]}…: {self.not_run[program][1]}"
        return ""

    def open_orders(self) -> int:
        return sum(1 for o in self.orders if o.status not in TERMINAL)

    def roll_day(self) -> None:
        day = utc_day(self.clock())
        if day != self.day:
            self.day, self.spent_today, self.spent_elsewhere = day, 0, 0
            self.elsewhere_from = "not read yet today"  # the next order reads it first

    def escalating(self) -> bool:
        """Whether orders go as durable transactions with an escalating tip."""
        return self.config.tip_escalation and bool(self.config.engines())

    def skips_simulation(self) -> bool:
        """Whether orders go unsimulated: bundles (block engines set), by policy."""
        return self.config.simulate == "plain" and bool(self.config.engines())

    def route(self, name: str) -> RouteStats:
        return self.routes.setdefault(name, RouteStats())

    def killed(self, o: LiveOrder, gen: int) -> bool:
        """Whether the kill switch (or back to paper) came since ``o`` started: then it
        is finished as cancelled, never sent."""
        if gen == self.generation and self.armed:
            return False
        self.finish(o, "cancelled", "kill switch: cancelled before it was sent")
        return True

    def keep_tables(self) -> None:
        """Between orders: add the accounts orders named that no table held."""
        keeper = self.tables
        if keeper is None or not keeper.view.pending or not self.armed:
            return
        if self.open_orders() or (self.keeping is not None and not self.keeping.done()):
            return

        async def keep() -> None:
            try:
                await keeper.ensure()
                keeper.view.error = ""
            except (RpcError, ValueError, OSError) as exc:
                keeper.view.error = self.clean(f"lookup tables: {exc}")
                log.warning("%s", keeper.view.error)

        self.keeping = asyncio.get_running_loop().create_task(keep(), name="lookup-tables")

    def clean(self, text: str) -> str:
        c = self.config
        return scrub(text, *(u for u in (c.rpc, c.ws, *c.engines()) if u))[:300]

    def event(self, event: Event) -> None:
        sink = self.sink()
        if sink is not None:
            sink.emit(event, 0, time.monotonic_ns())

    def announce(self, o: LiveOrder) -> None:
        """Journal ``o``'s ``accepted`` step if it waits (see ``LiveOrder.unannounced``)."""
        if o.unannounced is not None:
            accepted, o.unannounced = o.unannounced, None
            self.event(accepted)

    def order_step(self, o: LiveOrder, step: str, **extra: Any) -> OrderStep:
        self.announce(o)  # the accepted step first, always
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

    def step(self, o: LiveOrder, step: str, **extra: Any) -> None:
        o.status = step
        self.event(self.order_step(o, step, **extra))
        log.info("live order %d %s %s", o.seq, step, o.signature[:16])

    def paid_less(self, o: LiveOrder, hop: int | None) -> None:
        """``o`` was refused because hop ``hop`` of it paid less than its quote (None: a
        hop of it, which one unknown): its pools are read again at once (``on_stale``),
        and its cycle is not sent again automatically until the pool at fault (every pool,
        when unknown) changed from the state it was decided on."""
        self.stale_refusals += 1
        at_fault = tuple(range(len(o.pools))) if hop is None else (hop,)
        self.under_quote[o.key] = (at_fault, self.traded.get(o.key, ()))
        if self.on_stale is not None:
            self.on_stale(list(o.pools))

    def stale_block(self, key: tuple[str, tuple[str, ...]], pool_slots: tuple[int, ...]) -> str:
        """Why the cycle ``key``, its pools now at ``pool_slots``, is not sent again ("":
        it may be): refused for a hop that paid less than its quote, and the pool at fault
        has not changed since."""
        held = self.under_quote.get(key)
        if held is None:
            return ""
        at_fault, was = held
        if len(was) == len(pool_slots) and all(pool_slots[i] == was[i] for i in at_fault):
            return "refused when a hop paid less than its quote; its pool has not changed since"
        del self.under_quote[key]
        return ""

    def finish(self, o: LiveOrder, status: str, detail: str, **extra: Any) -> None:
        o.status, o.detail = status, detail
        if status in ("confirmed",):
            self.counts["confirmed"] += 1
        elif status in ("failed", "expired", "error", "unknown"):
            self.counts["failed"] += 1
            self.last_error = detail
        elif status == "refused":
            self.counts["refused"] += 1
        self.event(
            self.order_step(
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
            self.keep_tables()
        except RuntimeError:  # no running loop (a test finishing orders by hand)
            pass

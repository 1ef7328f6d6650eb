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
   (:class:`JournalLedger`): the journal's ``tx`` events (read when armed and every
   second after) and the journal's *day file*, to which every order is written before it
   goes on, so a crash cannot make a later process forget it; the day file's new lines
   are read before each order (no query on the way). Without a journal, live trading
   does not arm;
2. **accounts**: on the *fast path*, none: the pools' states are the session graph's (the
   ones the order was quoted on), the wallet's token accounts and base balance as last
   read, a blockhash, the tip floor and every pool's static part kept fresh in the
   background while armed (:meth:`keep_warm`, every second). Otherwise (a pool or token
   not read yet, a durable order) one ``getMultipleAccounts`` of the pools (a
   Whirlpool's current tick picks its tick arrays), the fee payer and the wallet's
   associated token accounts;
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
   simulation) is under the minimum. With ``live.simulate = plain`` a bundle skips it
   (block engines do not land a failing bundle; the minimums still hold on chain): the
   portfolio panel says ``unsimulated`` and the order's ``simulated`` step says why;
5. **send**: ``sendTransaction`` (preflight skipped: it was just simulated), or a Jito
   ``sendBundle`` carrying the tip to every block engine (each paced under its rate
   limit, ``live.jito_rps``); the kill switch is checked right before;
6. **confirm**: ``signatureSubscribe`` (opened before the send) or polling; ``expired``
   when the blockhash ran out first; then the wallet's balances are read again.

While it trades on its own the session decides on a frame in the frame's own call
(``FeedSession.decide``), not at its next turn; every order's ``sent`` step journals its tick to
trade (``timing_us``: from the frame's receipt to the decision, each step, and the send
request's body written to its socket) and its path (``fast`` or ``fetched``).

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
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from engine_rs.errors import EngineError
from engine_rs.records import FeeContext, Opportunity, Score
from feeds.clients.rpc import RpcError
from feeds.redact import redact
from feeds.wire.units import TokenBook
from storage.journal import JournalError

from ..events import Armed, Disarmed
from ..mirror import Via
from .blockhash import TIMEOUT_S as BLOCKHASH_TIMEOUT_S
from .build import Builder, Templates, compile_and_sign, too_big
from .core import BLOCKHASH_REFRESH_S, KEEP_WARM_S, DayLedger, ExecutorCore, utc_day
from .follow import Follower
from .guards import JournalLedger, RiskGate, day_spent
from .keys import KeypairError
from .orders import (
    NOT_SENT,
    TERMINAL,
    LiveConfig,
    LiveOrder,
    LiveView,
    OrderView,
    describe_error,
)
from .ordinary import OrdinaryWay
from .routes import views
from .send import SKIPPED_BY_POLICY, Fired, Sender
from .warm import Keeper

log = logging.getLogger(__name__)
T = TypeVar("T")


def _of(
    read: Callable[[LiveExecutor], T], write: Callable[[LiveExecutor, T], None] | None = None
) -> Via[LiveExecutor, T]:
    return Via(read, write)


def _set_config(ex: LiveExecutor, config: LiveConfig) -> None:
    ex.core.config = config


def _set_names(ex: LiveExecutor, names: TokenBook) -> None:
    ex.core.names = names


class LiveExecutor:
    """Live orders for cycles through ``base`` (see the module docstring): composed of its
    parts, each given the shared state (:class:`ExecutorCore`), none inherited: the risk
    gate every decision passes first (:class:`RiskGate`), the templates that sign
    (:class:`Templates`), the builder (:class:`Builder`), the sender (:class:`Sender`),
    the follower (:class:`Follower`), the fast path's keeper (:class:`Keeper`) and the
    ordinary way (:class:`OrdinaryWay`).

    Built on its ``core`` (:class:`ExecutorCore`: the config, the base mint, the
    session's pool graph for quotes at decision time, where events go, ...)."""

    def __init__(self, core: ExecutorCore) -> None:
        self.core = core
        self.gate = RiskGate(core)
        self.templates = Templates(core)
        self.keeper = Keeper(core, self.templates)
        self.builder = Builder(core, self.templates, self.keeper)
        self.sender = Sender(core)
        self.follower = Follower(core, self.templates, self.sender, self.keeper)
        self.ordinary = OrdinaryWay(
            core, self.gate, self.templates, self.builder, self.sender, self.follower
        )

    # what the session, the TUI and the benches read of it (the rest: ``core``)
    config = _of(lambda ex: ex.core.config, _set_config)
    armed = _of(lambda ex: ex.core.armed)
    base = _of(lambda ex: ex.core.base)
    seq = _of(lambda ex: ex.core.seq)
    names = _of(lambda ex: ex.core.names, _set_names)
    orders = _of(lambda ex: ex.core.orders)
    ledger = _of(lambda ex: ex.core.ledger)
    accounts = _of(lambda ex: ex.core.accounts)
    accounts_seen = _of(lambda ex: ex.core.accounts_seen)

    def checks(self) -> list[str]:
        """The guard rails as the confirmation screen lists them (:meth:`RiskGate.checks`)."""
        return self.gate.checks()

    def prewarm(self, opp: Opportunity) -> bool:
        """Compile ahead what the fast path's order on ``opp`` needs
        (:meth:`Builder.prewarm`)."""
        return self.builder.prewarm(opp)

    def submit(
        self,
        opp: Opportunity,
        score: Score,
        fees: FeeContext,
        pool_slots: tuple[int, ...],
        trigger: str = "auto",
    ) -> str:
        """Start a live order on ``opp``; why not ("" when it started). Synchronous and
        cheap: the decision passes the risk gate first (:meth:`RiskGate.refuse`: every
        cap, before any I/O), then the quote; the order is then sent in this call when
        everything it needs is held (:meth:`_fire`), else the ordinary way in a task."""
        why = self.gate.refuse(opp, fees, pool_slots, trigger)
        if why:
            return why
        key, amount = (opp.base_mint, tuple(opp.pools)), int(opp.amount_in)
        try:
            quoted, steps = self.core.graph().quote_steps(list(opp.pools), opp.base_mint, amount)
        except EngineError as exc:
            return f"cannot quote: {exc}"
        hops = list(quoted)
        if not hops:
            return "a hop cannot fill"
        self.core.seq += 1
        o = LiveOrder(
            self.core.seq,
            trigger,
            key,
            list(opp.tokens),
            list(opp.pools),
            list(opp.kinds),
            amount,
            hops,
            [int(x) for x in steps],
        )
        o.decided_slot = int(self.core.graph().slot)
        o.cu_priced = int(fees.cu_limit)
        o.cu_price = int(fees.cu_price_micro_lamports)
        o.t_ns["decided"] = time.monotonic_ns()
        if self.core.cpu_clock:  # (the thread's CPU to the signature: ``_fire``; opt-in)
            o.cpu_ns = -time.thread_time_ns()
        if trigger == "auto" and self.core.trigger_ns:  # the frame behind this turn, the turn
            o.frame_ns, o.t_ns["turn"] = self.core.trigger_ns, self.core.turn_ns
            if self.core.evaluated_ns >= self.core.turn_ns:
                o.t_ns["evaluated"] = self.core.evaluated_ns
        self.core.orders.append(o)
        self.core.spent_today += amount
        self.core.traded[key] = pool_slots
        # journaled after the hot path's write (its JSON costs more than the write), before
        # any other step of the order (``_order_step``)
        o.unannounced = self.core.order_step(
            o,
            "accepted",
            score_net=int(score.net_profit),
            cu_price=int(fees.cu_price_micro_lamports),
            cu_priced=o.cu_priced,
            steps=o.steps,
            day=self.core.day,  # the UTC day it counts against (read back by day_spent)
        )
        cu_price = int(fees.cu_price_micro_lamports)
        fired = self._fire(o, self.core.generation, cu_price)
        self.core.announce(o)
        self.core.tasks[o.seq] = asyncio.get_running_loop().create_task(
            self._run(o, self.core.generation, cu_price, fired),
            name=f"live-order-{o.seq}",
        )
        return ""

    def _fire(self, o: LiveOrder, gen: int, cu_price: int) -> Fired | None:
        """Send ``o`` now, in this call, when everything it needs is held: a bundle that
        goes unsimulated by policy, built from the session's state (:meth:`build_warm`),
        signed with the held blockhash, one transaction, and every block engine's hot
        connection idle (:class:`~feeds.clients.sender.HotSender`). What was sent (for
        :meth:`_after_fire`), or None: the order goes the ordinary way (from the start;
        the day file is idempotent per order)."""
        engines = self.core.config.engines()
        if not (
            self.core.fast_path and self.core.armed and engines and self.core.skips_simulation()
        ):
            return None
        if self.core.escalating():
            o.fallback = "durable orders"
            return None
        senders = [self.core.hot.get(url) for url in engines]
        if any(h is None or not h.ready for h in senders):
            o.fallback = "; ".join(
                "a block engine's hot connection is not open" if h is None else h.not_ready()
                for h in senders
                if h is None or not h.ready
            )
            return None
        assert self.core.ledger is not None and self.core.wallet is not None
        states = self.builder.warm(o)
        if states is None:
            o.fallback = self.builder.cold(o) or "not held"
            return None
        if self.core.held_blockhash() is None:
            o.fallback = "no fresh blockhash held"
            return None
        if not self.gate.day_holds_now(o):
            return Fired([], [], "", 0, 0, refused=True)
        o.t_ns["ledger"] = time.monotonic_ns()
        compiles = self.templates.compiles
        try:
            built = self.builder.build_warm(o, cu_price, states)
            if built is None:
                return None
            ixs, _base_ata, pre_base, _creates = built
            o.t_ns["built"] = time.monotonic_ns()
            signed = self.templates.sign_held(ixs)
            if signed is None:
                o.fallback = "no fresh blockhash held"
                return None
            signature, raw, bh, last_valid, named = signed
            o.t_ns["signed"] = time.monotonic_ns()
            if o.cpu_ns < 0:
                o.cpu_ns += time.thread_time_ns()
            o.compiled = self.templates.compiles - compiles
            if too_big(named, raw):
                o.fallback = "too big for one transaction"
                return None
        except (ValueError, KeyError, EngineError) as exc:
            o.fallback = f"{type(exc).__name__}: {exc}"[:120]
            return None  # the ordinary way says why
        if self.core.killed(o, gen):
            return Fired([], ixs, bh, last_valid, pre_base, refused=True)
        o.signature, o.parts = signature, 1
        o.sending = True
        wire = base64.b64encode(raw).decode()
        answers = self.sender.fire(engines, senders, wire)
        o.t_ns["simulated"] = o.t_ns["signed"]  # not simulated: by policy
        if answers:
            o.t_ns["written"] = min(t for _, t, _ in answers)
        return Fired(answers, ixs, bh, last_valid, pre_base)

    async def _run(self, o: LiveOrder, gen: int, cu_price: int, fired: Fired | None = None) -> None:
        try:
            if fired is not None:
                await self.follower.after_fire(o, gen, fired)
            else:
                await self.ordinary.pipeline(o, gen, cu_price)
        except asyncio.CancelledError:
            if o.status not in TERMINAL:
                self.core.finish(o, "cancelled", "cancelled before it was sent")
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
            self.core.finish(o, "error", self.core.clean(f"{type(exc).__name__}: {exc}"))
        except Exception as exc:  # never a traceback on the operator's screen
            log.exception("live order %d", o.seq)
            self.core.finish(o, "error", self.core.clean(f"{type(exc).__name__}: {exc}"))
        finally:
            self.core.tasks.pop(o.seq, None)
            if not o.sent:  # nothing was traded: the day's cap is given back
                self.core.spent_today = max(0, self.core.spent_today - o.amount_in)

    async def arm(self) -> tuple[bool, str]:
        """Check every guard rail (:meth:`RiskGate.admit`), then prepare what orders need
        (balances, lookup tables, durable nonces, the fast path warm); (True, the lookup
        tables in a line) when live trading may start, else (False, why not)."""
        core = self.core
        c = core.config
        gen = core.generation  # a kill switch while the checks run must win over them
        why = await self.gate.admit()
        if why:
            return False, why
        wallet = core.wallet
        assert wallet is not None
        await self.keeper.refresh_balances([core.base])
        if core.balances.get(core.base, 0) <= 0:
            return False, f"wallet {wallet.pubkey} holds none of the base token {core.base}"
        await self.keeper.prepare_tables()
        if core.escalating():
            why = await self.keeper.prepare_nonces()
            if why:
                return False, why
        if core.fast_path:
            # the fast path warm before the first order: the pools' static parts, the
            # wallet's token accounts, the hot connections (else the orders of the first
            # second read their accounts from the node, or wait for a connection)
            await self.keep_warm()
        if gen != core.generation:
            return False, "the kill switch was pressed while the guard rails were checked"
        core.roll_day()
        if core.base_start is None:
            core.base_start = core.balances.get(core.base, 0)
        core.armed = True
        if core.fast_path:  # the blockhash it signs with, read on threads of their own
            core.blockhashes.start()
        self._start_warming()
        core.event(Armed(wallet.pubkey, core.node, c.shown()))
        log.info("live armed: wallet %s via %s", wallet.pubkey, redact(c.rpc or ""))
        notes = [
            self.gate.tables_note(),
            core.nonces.note() if core.nonces is not None else "",
        ]
        return True, "; ".join(n for n in notes if n)

    def disarm(self, why: str = "back to paper") -> int:
        """Stop live trading at once: every order not yet handed to the node is cancelled
        (never sent). Returns how many were cancelled."""
        was = self.core.armed
        self.core.armed = False
        self.core.generation += 1
        if self.core.warming is not None:
            self.core.warming.cancel()
        self.core.blockhashes.stop()
        n = 0
        for o in self.core.orders:
            if o.status in TERMINAL or o.sending:
                continue
            task = self.core.tasks.get(o.seq)
            if task is not None and not task.done():
                task.cancel()
            self.core.finish(o, "cancelled", f"{why}: cancelled before it was sent")
            n += 1
        if was:
            self.core.event(Disarmed(why, n))
        return n

    def kill(self) -> int:
        return self.disarm("kill switch")

    async def keep_warm(self) -> None:
        """Once, what the fast path needs and the chain may move: the blockhash (ahead of
        its age), the tip floor, the static part of pools the graph gained, whether the
        wallet's token account of each of their mints exists, and the base balance once
        every sent order has ended. An error is noted (``last_error``); the next round
        tries again."""
        try:
            await self.core.latest_blockhash(refresh_within_s=BLOCKHASH_REFRESH_S)
            await self.keeper.refresh_tip()
            await self.keeper.statics_of([str(p) for p in self.core.graph().pools()])
            await self.keeper.read_accounts()
            await self.keeper.open_hot()
            self.core.roll_day()
            await self.gate.read_elsewhere()
            if not self.core.balances_clean and not self.core.open_orders():
                await self.keeper.refresh_balances([self.core.base])
        except (RpcError, JournalError, OSError, asyncio.TimeoutError) as exc:
            self.core.last_error = self.core.clean(f"keeping the fast path warm: {exc}")
            log.warning("%s", self.core.last_error)

    def _start_warming(self) -> None:
        """The fast path's keeper: :meth:`keep_warm` every :data:`KEEP_WARM_S` while
        armed (the kill switch or back to paper stops it)."""
        if self.core.warming is not None and not self.core.warming.done():
            return
        gen = self.core.generation

        async def keep() -> None:
            while self.core.armed and gen == self.core.generation:
                await self.keep_warm()
                await asyncio.sleep(KEEP_WARM_S)

        self.core.warming = asyncio.get_running_loop().create_task(keep(), name="live-keep-warm")

    def view(self) -> LiveView:
        """What the screen shows of live trading (:func:`view_of`)."""
        return view_of(self.core)

    async def close(self) -> None:
        """Cancel what was never sent; close the connections."""
        self.disarm("session closed")
        keeping = [
            t
            for t in (self.core.keeping, self.core.warming, self.core.reading_blockhash)
            if t is not None
        ]
        for t in [*self.core.tasks.values(), *keeping]:
            t.cancel()
        for t in [*self.core.tasks.values(), *keeping]:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        if self.core.watcher is not None:
            await self.core.watcher.close()
        # the blockhash threads end within a read's timeout (joined off the loop: one
        # may be reading from a simulator this loop serves)
        await asyncio.to_thread(self.core.blockhashes.stop, BLOCKHASH_TIMEOUT_S + 1.0)
        for j in self.core.jitos.values():
            await j.close()
        if self.core.rpc is not None:
            await self.core.rpc.close()
        for h in self.core.hot.values():
            await h.close()
        if self.core.ledger is not None:
            self.core.ledger.close()


def view_of(core: ExecutorCore) -> LiveView:
    """What the screen shows of live trading: the wallet, the counts, the last orders."""

    def path(o: LiveOrder) -> str:
        return core.names.path(o.tokens)

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
        for o in list(core.orders)[-6:]
    )
    last = next((o for o in reversed(core.orders) if o.sent and o.t_ns.get("written")), None)
    t2t = last.timing_us().get("total") if last is not None else None
    base_now = core.balances.get(core.base, 0)
    others = sorted((m, a) for m, a in core.balances.items() if m != core.base and a)
    return LiveView(
        wallet=core.wallet.pubkey if core.wallet else "",
        armed=core.armed,
        base=core.base,
        pnl=0 if core.base_start is None else base_now - core.base_start,
        lamports=core.lamports,
        balances=((core.base, base_now), *others),
        open=core.open_orders(),
        sent=core.counts["sent"],
        confirmed=core.counts["confirmed"],
        failed=core.counts["failed"],
        refused=core.counts["refused"],
        spent_today=core.spent_today,
        orders=orders,
        node=core.node,
        last_error=core.last_error,
        tables=None if core.tables is None else replace(core.tables.view),
        routes=views(core.routes),
        nonces=None if core.nonces is None else replace(core.nonces.view),
        simulate="plain" if core.skips_simulation() else "always",
        t2t_us=t2t,
        t2t_path=last.path if last is not None else "",
        not_run=tuple(core.not_run.values()),
    )


__all__ = [
    "NOT_SENT",
    "SKIPPED_BY_POLICY",
    "TERMINAL",
    "DayLedger",
    "ExecutorCore",
    "JournalLedger",
    "LiveConfig",
    "LiveExecutor",
    "LiveOrder",
    "LiveView",
    "OrderView",
    "compile_and_sign",
    "day_spent",
    "describe_error",
    "utc_day",
]

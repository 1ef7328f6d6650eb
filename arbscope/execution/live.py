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
from dataclasses import dataclass, replace
from typing import Any

from solders.instruction import Instruction

from engine_rs.errors import EngineError
from engine_rs.records import FeeContext, Opportunity, Score
from feeds.clients.confirm import SignatureWatcher
from feeds.clients.rpc import RpcError

from .blockhash import TIMEOUT_S as BLOCKHASH_TIMEOUT_S
from .build import compile_and_sign, lookups_of, too_big
from .core import DayLedger, ExecutorCore, utc_day
from .guards import GuardRails, JournalLedger, day_spent
from .keys import KeypairError
from .orders import (
    NOT_SENT,
    TERMINAL,
    LiveConfig,
    LiveOrder,
    LiveView,
    OrderView,
    confirmation_text,
    describe_error,
    hop_under_quote,
)
from .routes import route_name, views

log = logging.getLogger(__name__)

SKIPPED_BY_POLICY = "not simulated: a bundle, by policy (live.simulate = plain)"


@dataclass(slots=True)
class Fired:
    """An order sent on the hot path: each engine's (URL, ns written, answer to come), its
    instructions, blockhash and last valid height, the base balance before; ``refused``
    when it ended there (the day's cap, the kill switch) and nothing went out."""

    answers: list[tuple[str, int, asyncio.Future[Any]]]
    ixs: list[Instruction]
    blockhash: str
    last_valid: int
    pre_base: int
    refused: bool = False


class LiveExecutor(GuardRails):
    """Live orders for cycles through ``base`` (see the module docstring).

    ``graph`` is the session's pool graph (quotes at decision time); ``sink`` a callable
    returning where events go (the journal's recorder, or None)."""

    def submit(
        self,
        opp: Opportunity,
        score: Score,
        fees: FeeContext,
        pool_slots: tuple[int, ...],
        trigger: str = "auto",
    ) -> str:
        """Start a live order on ``opp``; why not ("" when it started). Synchronous and
        cheap: every cap is checked here, before any I/O; the refusals that cost least
        first (most calls refuse: a cycle already pending, or its pools in an open order,
        on every frame that moves them), the quote last."""
        c = self.config
        if not self.armed or self.wallet is None:
            return "live trading is not armed"
        if opp.base_mint != self.base:
            return f"not a {self.names.symbol(self.base)} cycle"
        key = (opp.base_mint, tuple(opp.pools))
        # one pass over the orders: the same cycle pending, the open ones, the first
        # open one sharing a pool (its quote would not hold once that order lands)
        opened, busy, mine = 0, None, frozenset(opp.pools)
        for o in self.orders:
            if o.status in TERMINAL:
                continue
            if o.key == key:
                return "already pending"
            opened += 1
            if busy is None and not mine.isdisjoint(o.pools):
                busy = o
        if trigger == "auto" and self._traded.get(key) == pool_slots:
            return "traded in this pool state"
        if trigger == "auto":
            stale = self.stale_block(key, pool_slots)
            if stale:
                return stale
        amount = int(opp.amount_in)
        if amount <= 0:
            return "no profitable size"
        if opened >= c.max_open:
            return f"max open orders reached ({c.max_open})"
        if busy is not None:
            return f"a pool of this cycle is in open order #{busy.seq}"
        if self.not_run:
            gone = self._through_refused(opp.pools)
            if gone:
                return gone
        if getattr(fees, "base_rate_missing", False):
            return (
                f"no price of SOL in {self.names.symbol(opp.base_mint)}: its fees cannot be counted"
            )
        assert c.max_trade is not None and c.max_day is not None
        if amount > c.max_trade:
            return f"size {amount:,} over the per-trade cap {c.max_trade:,}"
        too_large = self.sendable(opp)
        if too_large:
            return too_large
        self._roll_day()
        day_err = self._day_error(amount)
        if day_err:
            return day_err
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
        o.cu_price = int(fees.cu_price_micro_lamports)
        o.t_ns["decided"] = time.monotonic_ns()
        if self.cpu_clock:  # (the thread's CPU to the signature: ``_fire``; opt-in)
            o.cpu_ns = -time.thread_time_ns()
        if trigger == "auto" and self.trigger_ns:  # the frame behind this turn, the turn
            o.frame_ns, o.t_ns["turn"] = self.trigger_ns, self.turn_ns
            if self.evaluated_ns >= self.turn_ns:
                o.t_ns["evaluated"] = self.evaluated_ns
        self.orders.append(o)
        self.spent_today += amount
        self._traded[key] = pool_slots
        # journaled after the hot path's write (its JSON costs more than the write), before
        # any other step of the order (``_order_step``)
        o.unannounced = self._order_step(
            o,
            "accepted",
            score_net=int(score.net_profit),
            cu_price=int(fees.cu_price_micro_lamports),
            cu_priced=o.cu_priced,
            steps=o.steps,
            day=self.day,  # the UTC day it counts against (read back by day_spent)
        )
        cu_price = int(fees.cu_price_micro_lamports)
        fired = self._fire(o, self.generation, cu_price)
        self._announce(o)
        self.tasks[o.seq] = asyncio.get_running_loop().create_task(
            self._run(o, self.generation, cu_price, fired),
            name=f"live-order-{o.seq}",
        )
        return ""

    # ------------------------------------------------------------ the hot path
    def _fire(self, o: LiveOrder, gen: int, cu_price: int) -> Fired | None:
        """Send ``o`` now, in this call, when everything it needs is held: a bundle that
        goes unsimulated by policy, built from the session's state (:meth:`build_warm`),
        signed with the held blockhash, one transaction, and every block engine's hot
        connection idle (:class:`~feeds.clients.sender.HotSender`). What was sent (for
        :meth:`_after_fire`), or None: the order goes the ordinary way (from the start;
        the day file is idempotent per order)."""
        engines = self.config.engines()
        if not (self.fast_path and self.armed and engines and self._skips_simulation()):
            return None
        if self._escalating():
            o.fallback = "durable orders"
            return None
        senders = [self._hot.get(url) for url in engines]
        if any(h is None or not h.ready for h in senders):
            o.fallback = "; ".join(
                "a block engine's hot connection is not open" if h is None else h.not_ready()
                for h in senders
                if h is None or not h.ready
            )
            return None
        assert self.ledger is not None and self.wallet is not None
        states = self._warm(o)
        if states is None:
            o.fallback = self.cold(o) or "not held"
            return None
        if self._held_blockhash() is None:
            o.fallback = "no fresh blockhash held"
            return None
        if not self._day_holds_now(o):
            return Fired([], [], "", 0, 0, refused=True)
        o.t_ns["ledger"] = time.monotonic_ns()
        compiles = self.compiles
        try:
            built = self.build_warm(o, cu_price, states)
            if built is None:
                return None
            ixs, _base_ata, pre_base, _creates = built
            o.t_ns["built"] = time.monotonic_ns()
            signed = self.sign_held(ixs)
            if signed is None:
                o.fallback = "no fresh blockhash held"
                return None
            signature, raw, bh, last_valid, named = signed
            o.t_ns["signed"] = time.monotonic_ns()
            if o.cpu_ns < 0:
                o.cpu_ns += time.thread_time_ns()
            o.compiled = self.compiles - compiles
            if too_big(named, raw):
                o.fallback = "too big for one transaction"
                return None
        except (ValueError, KeyError, EngineError) as exc:
            o.fallback = f"{type(exc).__name__}: {exc}"[:120]
            return None  # the ordinary way says why
        if self._killed(o, gen):
            return Fired([], ixs, bh, last_valid, pre_base, refused=True)
        o.signature, o.parts = signature, 1
        o.sending = True
        wire = base64.b64encode(raw).decode()
        answers = []
        for url, h in zip(engines, senders, strict=True):
            assert h is not None
            sent = h.send("sendBundle", [[wire], {"encoding": "base64"}])
            if sent is not None:
                answers.append((url, sent[0], sent[1]))
        o.t_ns["simulated"] = o.t_ns["signed"]  # not simulated: by policy
        if answers:
            o.t_ns["written"] = min(t for _, t, _ in answers)
        return Fired(answers, ixs, bh, last_valid, pre_base)

    async def _after_fire(self, o: LiveOrder, gen: int, fired: Fired) -> None:
        """A fired order: journaled as the ordinary way journals it, its answers read,
        subscribed to, followed to its end."""
        if fired.refused:
            return  # finished (refused or cancelled) when it was fired
        if self.tables is not None:
            assert self.wallet is not None
            self.tables.note(fired.ixs, self.wallet.pubkey)
        self._step(
            o,
            "signed",
            blockhash=fired.blockhash,
            last_valid_block_height=fired.last_valid,
            instructions=len(fired.ixs),
            min_out=o.min_out,
            transactions=1,
            cu_limit=o.cu_limit,
            cu_priced=o.cu_priced,
            kinds=o.kinds,
            tables=list(self._message(fired.ixs).lookups),
        )
        self._step(o, "simulated", skipped=SKIPPED_BY_POLICY)
        watcher = self._watch()
        fut = await watcher.subscribe(o.signature)  # after the send: polling covers a race
        sent_slot = int(self._graph().slot)
        handed: list[tuple[str, str]] = []
        why: list[str] = []
        for url, _t, answer in fired.answers:
            name = route_name(url)
            route = self._route(name)
            try:
                bundle_id = await answer
            except RpcError as exc:
                route.refused += 1
                route.refusals["rate limited" if exc.rate_limited else "unavailable"] += 1
                why.append(f"{name}: {self._clean(str(exc))}")
                continue
            route.sent += 1
            handed.append((name, str(bundle_id)))
        if not handed:
            watcher.forget(o.signature)
            raise RpcError(
                "every block engine refused the bundle: " + ("; ".join(why) or "none was idle")
            )
        o.via = f"jito bundle {handed[0][1][:16]} to {len(handed)} engine(s) (hot path)"
        await self._follow(
            o, gen, handed, fired.ixs, watcher, fut, sent_slot, fired.last_valid, fired.pre_base
        )

    async def _run(self, o: LiveOrder, gen: int, cu_price: int, fired: Fired | None = None) -> None:
        try:
            if fired is not None:
                await self._after_fire(o, gen, fired)
            else:
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
        o.t_ns["ledger"] = time.monotonic_ns()
        rpc = self._client()
        ixs, base_ata, pre_base, creates = await self._build(o, cu_price)
        o.t_ns["built"] = time.monotonic_ns()
        if self.tables is not None:  # never the nonce account: it must be a static key
            self.tables.note(ixs[1:] if o.nonce else ixs, self.wallet.pubkey)
        tx, raw, bh, last_valid = await self._sign(ixs, o.durable)
        o.t_ns["signed"] = time.monotonic_ns()
        if too_big(tx, raw) and creates:
            # too large only with the new token accounts in it: create them first, alone
            if not await self._create_accounts(o, creates, cu_price, gen):
                return
            o.created_apart = list(creates)
            ixs, base_ata, pre_base, creates = await self._build(o, cu_price)
            tx, raw, bh, last_valid = await self._sign(ixs, o.durable)
        parts = [(tx, raw, ixs)]
        why = too_big(tx, raw)
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
            # the lookup tables its messages load from, and the nonce it advances: what
            # prepared it, for the audit (``arbscope export``'s orders)
            kinds=o.kinds,
            tables=sorted({t for p in parts for t in lookups_of(p[0].message)}),
            **({"nonce": o.nonce} if o.nonce else {}),
        )

        sim: dict[str, Any]
        if self._skips_simulation():
            # a bundle, unsimulated by policy: the engines do not land it when it fails
            sim = {"unchecked": True, "skipped": SKIPPED_BY_POLICY}
        elif len(parts) == 1:
            sim = await rpc.simulate_transaction(wires[0], accounts=[base_ata])
        else:
            sim = await self._simulate_parts(o, wires, base_ata)
        o.units, o.fee_lamports = sim.get("unitsConsumed"), sim.get("fee")
        if sim.get("err") is not None:
            failing = sim.get("ixs") or ixs
            gone = self._refused_venue(o, sim["err"], failing)
            self._finish(
                o,
                "refused",
                "simulation failed: "
                + describe_error(sim["err"], failing)
                + (f"; {gone[1]}" if gone else ""),
                logs=list(sim.get("logs") or [])[-8:],
                **({"not_run": gone[0]} if gone else {}),
            )
            hop = hop_under_quote(sim["err"], sim.get("ixs") or ixs)
            if hop is not None:
                self._paid_less(o, hop)
            return
        post = self._simulated_amount(sim.get("accounts"))
        if post is None and not sim.get("unchecked"):
            self._finish(o, "refused", "the simulation did not return the base account")
            return
        if post is not None and o.pre_known:
            o.simulated_out = post - pre_base + o.amount_in
        if o.simulated_out is not None and o.simulated_out < o.min_out:
            self._finish(
                o, "refused", f"simulated output {o.simulated_out:,} < minimum {o.min_out:,}"
            )
            self._paid_less(o, None)
            return
        o.t_ns["simulated"] = time.monotonic_ns()
        if sim.get("skipped"):
            self._step(o, "simulated", skipped=sim["skipped"])
        else:
            self._step(
                o, "simulated", units=o.units, fee=o.fee_lamports, simulated_out=o.simulated_out
            )

        if self._killed(o, gen):
            return
        watcher = self._watch()
        fut = await watcher.subscribe(o.signature)
        if self._killed(o, gen):  # the subscription awaited: look again
            watcher.forget(o.signature)
            return
        o.sending = True
        sent_slot = int(self._graph().slot)  # the session's slot: no round trip
        written: list[int] = []
        handed = await self._hand_over(o, wires, written)
        if written:  # the first send request's body written to its socket
            o.t_ns["written"] = min(written)
        await self._follow(
            o, gen, handed, ixs, watcher, fut, sent_slot, last_valid, pre_base, wires
        )

    async def _follow(
        self,
        o: LiveOrder,
        gen: int,
        handed: list[tuple[str, str]],
        ixs: list[Instruction],
        watcher: SignatureWatcher,
        fut: asyncio.Future[tuple[int, Any]],
        sent_slot: int,
        last_valid: int,
        pre_base: int,
        wires: list[str] | None = None,
    ) -> None:
        """``o`` was taken by ``handed`` (routes, bundle ids): journaled as sent, followed
        to its end (escalated when durable), the balances read again. A plain transaction
        (``wires``: its bytes, sent by ``sendTransaction``) is handed to the node again
        while it has not landed (:meth:`_resend`)."""
        c = self.config
        o.sent = True
        self._sends += 1
        self._balances_clean = False
        self.counts["sent"] += 1
        o.versions.append((o.signature, o.tip))
        self._step(
            o,
            "sent",
            via=o.via,
            routes=[r for r, _ in handed],
            tip=o.tip,
            path=o.path,
            timing_us=o.timing_us(),
            compiled=o.compiled,
            **({"cpu_us": o.cpu_ns / 1e3} if o.cpu_ns > 0 else {}),
            **({"fallback": o.fallback} if o.fallback else {}),
        )
        if o.nonce:
            watcher.forget(o.signature)  # every version is watched by polling below
            conf = await self._escalate(o, ixs, handed, sent_slot, gen)
        else:
            plain = wires is not None and len(wires) == 1 and handed == [("rpc", "")]
            conf = await watcher.wait(
                o.signature,
                fut,
                last_valid,
                c.confirm_timeout_s,
                self._bundle_failed(handed),
                self._resend(o, wires[0]) if plain and wires else None,
            )
            await self._count_routes(o, handed, conf, sent_slot, ixs)
        o.followed = True
        o.slot = conf.slot
        if conf.slot is not None and o.decided_slot and self.on_landing is not None:
            # paper lands on the measured latency: slots, and the decision-to-send time
            self.on_landing(conf.slot - o.decided_slot, round(o.ms.get("sent", 0.0) * 1e6))
        if conf.status == "failed":  # (a bundle sent unsimulated, or one the chain changed)
            self._refused_venue(o, conf.err, ixs)
        alone = self.open_orders() == 1
        await self.refresh_balances(o.tokens)
        if alone and o.pre_known and conf.status in ("confirmed", "failed"):
            o.realized = self.balances.get(self.base, 0) - pre_base
        self._finish(
            o,
            conf.status,
            confirmation_text(conf, ixs) if conf.status != "cancelled" else conf.via,
            slot=conf.slot,
            via=conf.via,
            realized=o.realized,
            tip=o.tip,
            versions=[{"signature": s, "tip": t} for s, t in o.versions],
            **({"resent": o.resent} if o.resent else {}),
        )
        if conf.status == "failed":  # landed and failed: a hop that paid less is the same
            hop = hop_under_quote(conf.err, ixs)
            if hop is not None:
                self._paid_less(o, hop)

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
        last = next((o for o in reversed(self.orders) if o.sent and o.t_ns.get("written")), None)
        t2t = last.timing_us().get("total") if last is not None else None
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
            simulate="plain" if self._skips_simulation() else "always",
            t2t_us=t2t,
            t2t_path=last.path if last is not None else "",
            not_run=tuple(self.not_run.values()),
        )

    async def close(self) -> None:
        """Cancel what was never sent; close the connections."""
        self.disarm("session closed")
        keeping = [
            t for t in (self._keeping, self._warming, self._reading_blockhash) if t is not None
        ]
        for t in [*self.tasks.values(), *keeping]:
            t.cancel()
        for t in [*self.tasks.values(), *keeping]:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        if self._watcher is not None:
            await self._watcher.close()
        # the blockhash threads end within a read's timeout (joined off the loop: one
        # may be reading from a simulator this loop serves)
        await asyncio.to_thread(self.blockhashes.stop, BLOCKHASH_TIMEOUT_S + 1.0)
        for j in self._jitos.values():
            await j.close()
        if self._rpc is not None:
            await self._rpc.close()
        for h in self._hot.values():
            await h.close()
        if self.ledger is not None:
            self.ledger.close()


__all__ = [
    "NOT_SENT",
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

"""Following an order to its end: a hot-path order's answers read, the ``sent`` step,
confirmation, the escalating versions of a durable order and its nonce advanced when none
landed, the wallet's balances read after (the keeper's).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from typing import Any

from solders.instruction import Instruction

from feeds.clients.confirm import Confirmation, SignatureWatcher
from feeds.clients.rpc import RpcError
from feeds.wire import instructions as I

from .build import Templates
from .core import ExecutorCore
from .orders import LiveOrder, confirmation_text, hop_under_quote
from .routes import route_name
from .send import SKIPPED_BY_POLICY, Fired, Sender
from .warm import Keeper

log = logging.getLogger(__name__)


ESCALATION_POLL_S = 0.2  # how often an escalating order looks for a landing (half a slot)


class Follower:
    """Following an order to its end (see the module doc)."""

    def __init__(
        self, core: ExecutorCore, templates: Templates, sender: Sender, keeper: Keeper
    ) -> None:
        self.core, self.templates, self.sender, self.keeper = core, templates, sender, keeper

    async def after_fire(self, o: LiveOrder, gen: int, fired: Fired) -> None:
        """A fired order: journaled as the ordinary way journals it, its answers read,
        subscribed to, followed to its end."""
        if fired.refused:
            return  # finished (refused or cancelled) when it was fired
        if self.core.tables is not None:
            assert self.core.wallet is not None
            self.core.tables.note(fired.ixs, self.core.wallet.pubkey)
        self.core.step(
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
            tables=list(self.templates.message(fired.ixs).lookups),
        )
        self.core.step(o, "simulated", skipped=SKIPPED_BY_POLICY)
        watcher = self.core.watch()
        fut = await watcher.subscribe(o.signature)  # after the send: polling covers a race
        sent_slot = int(self.core.graph().slot)
        handed: list[tuple[str, str]] = []
        why: list[str] = []
        for url, _t, answer in fired.answers:
            name = route_name(url)
            route = self.core.route(name)
            try:
                bundle_id = await answer
            except RpcError as exc:
                route.refused += 1
                route.refusals["rate limited" if exc.rate_limited else "unavailable"] += 1
                why.append(f"{name}: {self.core.clean(str(exc))}")
                continue
            route.sent += 1
            handed.append((name, str(bundle_id)))
        if not handed:
            watcher.forget(o.signature)
            raise RpcError(
                "every block engine refused the bundle: " + ("; ".join(why) or "none was idle")
            )
        o.via = f"jito bundle {handed[0][1][:16]} to {len(handed)} engine(s) (hot path)"
        await self.follow(
            o, gen, handed, fired.ixs, watcher, fut, sent_slot, fired.last_valid, fired.pre_base
        )

    async def follow(
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
        c = self.core.config
        o.sent = True
        self.core.sends += 1
        self.core.balances_clean = False
        self.core.counts["sent"] += 1
        o.versions.append((o.signature, o.tip))
        self.core.step(
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
            conf = await self.escalate(o, ixs, handed, sent_slot, gen)
        else:
            plain = wires is not None and len(wires) == 1 and handed == [("rpc", "")]
            conf = await watcher.wait(
                o.signature,
                fut,
                last_valid,
                c.confirm_timeout_s,
                self.sender.bundle_failed(handed),
                self.sender.resend(o, wires[0]) if plain and wires else None,
            )
            await self.sender.count_routes(o, handed, conf, sent_slot, ixs)
        o.followed = True
        o.slot = conf.slot
        if conf.slot is not None and o.decided_slot and self.core.on_landing is not None:
            # paper lands on the measured latency: slots, and the decision-to-send time
            self.core.on_landing(conf.slot - o.decided_slot, round(o.ms.get("sent", 0.0) * 1e6))
        if conf.status == "failed":  # (a bundle sent unsimulated, or one the chain changed)
            self.core.refused_venue(o, conf.err, ixs)
        alone = self.core.open_orders() == 1
        await self.keeper.refresh_balances(o.tokens)
        if alone and o.pre_known and conf.status in ("confirmed", "failed"):
            o.realized = self.core.balances.get(self.core.base, 0) - pre_base
        self.core.finish(
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
                self.core.paid_less(o, hop)

    async def escalate(
        self,
        o: LiveOrder,
        ixs: list[Instruction],
        handed: list[tuple[str, str]],
        sent_slot: int,
        gen: int,
    ) -> Confirmation:
        """Follow a durable order to its end: while none of its versions has landed, a
        new version with a higher tip every ``every_slots`` slots, within the window; the
        first to land wins. At the window's end (or the kill switch) with none landed,
        the nonce is advanced by the wallet itself so that none ever can."""
        assert self.core.wallet is not None
        rpc = self.core.client()
        pol = self.core.tip
        sent: list[tuple[str, int, list[tuple[str, str]]]] = [(o.signature, o.tip, handed)]
        last = sent_slot
        deadline = time.monotonic() + self.core.config.confirm_timeout_s
        why = ""
        while True:
            got = await self.landed_version([s for s, _, _ in sent])
            if got is not None:
                break
            slot = await rpc.get_slot("processed")
            if gen != self.core.generation or not self.core.armed:
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
                me = self.core.wallet.pubkey
                again = [*ixs[:-1], I.transfer(me, str(ixs[-1].accounts[1].pubkey), nxt)]
                tx, raw, _, _ = await self.templates.sign(again, o.durable)
                if gen != self.core.generation or not self.core.armed:  # the kill switch meanwhile
                    continue
                sig = str(tx.signatures[0])
                prev = o.signature
                o.signature, o.tip = sig, nxt
                try:
                    more = await self.sender.hand_over(o, base64.b64encode(raw).decode())
                except RpcError as exc:  # every engine refused this one: the others stand
                    o.signature, o.tip = prev, tip
                    self.core.last_error = self.core.clean(str(exc))
                    last = slot
                    continue
                sent.append((sig, nxt, more))
                o.versions.append((sig, nxt))
                last = slot
                self.core.step(
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
            burned = await self.advance_nonce(o)
            got = await self.landed_version([s for s, _, _ in sent])  # one may have beaten it
            if got is None:
                for k, (_, _, h) in enumerate(sent):
                    for name, _ in h:
                        r = self.core.route(name)
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
                    self.core.route(name).superseded += 1
        await self.sender.count_routes(o, sent[k][2], conf, sent_slot, ixs)
        return conf

    async def landed_version(self, sigs: list[str]) -> tuple[int, Confirmation] | None:
        """(index, confirmation) of the version of ``sigs`` that landed, if one did."""
        try:
            statuses = await self.core.client().get_signature_statuses(sigs)
        except RpcError:
            return None
        watcher = self.core.watch()
        for k, st in enumerate(statuses):
            if isinstance(st, dict) and watcher.reached(st):
                err = st.get("err")
                return k, Confirmation(
                    "confirmed" if err is None else "failed", st.get("slot"), err, "poll"
                )
        return None

    async def advance_nonce(self, o: LiveOrder) -> bool:
        """Advance ``o``'s nonce with a recent blockhash (the wallet signs): every version
        of ``o`` still unlanded can then never land. True once it landed."""
        assert self.core.wallet is not None
        me = self.core.wallet.pubkey
        ixs = [I.set_compute_unit_limit(1_000), I.advance_nonce(o.nonce, me)]
        try:
            tx, raw, _, last_valid = await self.templates.sign(ixs)
            sig = str(tx.signatures[0])
            watcher = self.core.watch()
            fut = await watcher.subscribe(sig)
            wire = base64.b64encode(raw).decode()
            await self.core.client().send_transaction(wire, skip_preflight=False)
            conf = await watcher.wait(
                sig,
                fut,
                last_valid,
                self.core.config.confirm_timeout_s,
                resend=lambda: self.core.client().send_transaction(wire),
            )
        except RpcError as exc:
            self.core.last_error = self.core.clean(f"advancing the nonce of order #{o.seq}: {exc}")
            return False
        self.core.step(o, "recalled", nonce_signature=sig, outcome=conf.status)
        return conf.status in ("confirmed", "failed")

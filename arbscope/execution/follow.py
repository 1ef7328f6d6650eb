"""Following an order to its end: confirmation, the escalating versions of a durable order and
its nonce advanced when none landed, the wallet's balances after.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Sequence

from solders.instruction import Instruction

from feeds.clients.confirm import Confirmation
from feeds.clients.rpc import RawAccount, RpcError
from feeds.wire import instructions as I

from .orders import (
    TERMINAL,
    LiveOrder,
)
from .send import Sending

log = logging.getLogger(__name__)


ESCALATION_POLL_S = 0.2  # how often an escalating order looks for a landing (half a slot)


class Following(Sending):
    """Following an order to its end (see the module doc)."""

    async def _escalate(
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
        watcher = self._watch()
        for k, st in enumerate(statuses):
            if isinstance(st, dict) and watcher.reached(st):
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
            wire = base64.b64encode(raw).decode()
            await self._client().send_transaction(wire, skip_preflight=False)
            conf = await watcher.wait(
                sig,
                fut,
                last_valid,
                self.config.confirm_timeout_s,
                resend=lambda: self._client().send_transaction(wire),
            )
        except RpcError as exc:
            self.last_error = self._clean(f"advancing the nonce of order #{o.seq}: {exc}")
            return False
        self._step(o, "recalled", nonce_signature=sig, outcome=conf.status)
        return conf.status in ("confirmed", "failed")

    async def refresh_balances(self, mints: Sequence[str] = ()) -> None:
        """Read the wallet's SOL and token balances again (every mint traded so far)."""
        if self.wallet is None:
            return
        me = self.wallet.pubkey
        want = list(dict.fromkeys([*self.balances, *mints]))
        atas = {self._ata(m): m for m in want}
        sends = self._sends
        try:
            got = await self._client().get_multiple_accounts([me, *atas])
        except RpcError as exc:
            self.last_error = self._clean(str(exc))
            return
        # what the fast path takes as the base balance before an order: read after every
        # sent order had ended on chain, and none sent while it was read
        self._balances_clean = sends == self._sends and not any(
            o.sent and not o.followed and o.status not in TERMINAL for o in self.orders
        )
        acc: RawAccount | None = got.get(me)
        self.lamports = acc.lamports if acc is not None else 0
        for a, m in atas.items():
            t = got.get(a)
            self.balances[m] = self._amount(t.data) if t is not None else 0
            self._saw_account(m, t is not None)

"""The ordinary way of an order (not the hot path): the day's cap, its accounts read when
not held, built, signed (split into a bundle of two when one transaction cannot hold it),
simulated, handed to the node or the block engines, and followed to its end.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

from .build import Builder, Templates, lookups_of, too_big
from .core import ExecutorCore
from .follow import Follower
from .guards import RiskGate
from .orders import LiveOrder, describe_error, hop_under_quote
from .send import SKIPPED_BY_POLICY, Sender

log = logging.getLogger(__name__)


class OrdinaryWay:
    """An order the hot path did not send, from its day's cap to its end (see the module
    doc); a durable order's nonce taken and given back around it."""

    def __init__(
        self,
        core: ExecutorCore,
        gate: RiskGate,
        templates: Templates,
        builder: Builder,
        sender: Sender,
        follower: Follower,
    ) -> None:
        self.core, self.gate, self.templates = core, gate, templates
        self.builder, self.sender, self.follower = builder, sender, follower

    async def pipeline(self, o: LiveOrder, gen: int, cu_price: int) -> None:
        if not self.core.escalating():
            await self.order(o, gen, cu_price)
            return
        assert self.core.nonces is not None
        nonce = self.core.nonces.take()
        if nonce is None:  # max_open bounds the orders, so only when some were not made
            self.core.finish(
                o,
                "refused",
                "no durable nonce account is free "
                f"({len(self.core.nonces.ready)} usable): {self.core.nonces.note()}",
            )
            return
        o.nonce = nonce
        try:
            await self.order(o, gen, cu_price)
        finally:
            self.core.nonces.give_back(nonce)

    async def order(self, o: LiveOrder, gen: int, cu_price: int) -> None:
        assert self.core.wallet is not None
        c = self.core.config
        if not await self.gate.day_holds(o):
            return
        o.t_ns["ledger"] = time.monotonic_ns()
        rpc = self.core.client()
        ixs, base_ata, pre_base, creates = await self.builder.build(o, cu_price)
        o.t_ns["built"] = time.monotonic_ns()
        if self.core.tables is not None:  # never the nonce account: it must be a static key
            self.core.tables.note(ixs[1:] if o.nonce else ixs, self.core.wallet.pubkey)
        tx, raw, bh, last_valid = await self.templates.sign(ixs, o.durable)
        o.t_ns["signed"] = time.monotonic_ns()
        if too_big(tx, raw) and creates:
            # too large only with the new token accounts in it: create them first, alone
            if not await self.builder.create_accounts(o, creates, cu_price, gen):
                return
            o.created_apart = list(creates)
            ixs, base_ata, pre_base, creates = await self.builder.build(o, cu_price)
            tx, raw, bh, last_valid = await self.templates.sign(ixs, o.durable)
        parts = [(tx, raw, ixs)]
        why = too_big(tx, raw)
        if why and not o.nonce and c.engines():
            # one transaction cannot hold it: two in one bundle, which lands whole or not
            # at all (the tip in the second), if a cut of its hops fits each
            split = await self.builder.split(o, ixs, cu_price)
            if split is not None:
                parts, why = split, ""
        if why:
            held = len(getattr(tx.message, "address_table_lookups", ()))
            self.core.finish(
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
        self.core.step(
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
        if self.core.skips_simulation():
            # a bundle, unsimulated by policy: the engines do not land it when it fails
            sim = {"unchecked": True, "skipped": SKIPPED_BY_POLICY}
        elif len(parts) == 1:
            sim = await rpc.simulate_transaction(wires[0], accounts=[base_ata])
        else:
            sim = await self.sender.simulate_parts(o, wires, base_ata)
        o.units, o.fee_lamports = sim.get("unitsConsumed"), sim.get("fee")
        if sim.get("err") is not None:
            failing = sim.get("ixs") or ixs
            gone = self.core.refused_venue(o, sim["err"], failing)
            self.core.finish(
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
                self.core.paid_less(o, hop)
            return
        post = self.sender.simulated_amount(sim.get("accounts"))
        if post is None and not sim.get("unchecked"):
            self.core.finish(o, "refused", "the simulation did not return the base account")
            return
        if post is not None and o.pre_known:
            o.simulated_out = post - pre_base + o.amount_in
        if o.simulated_out is not None and o.simulated_out < o.min_out:
            self.core.finish(
                o, "refused", f"simulated output {o.simulated_out:,} < minimum {o.min_out:,}"
            )
            self.core.paid_less(o, None)
            return
        o.t_ns["simulated"] = time.monotonic_ns()
        if sim.get("skipped"):
            self.core.step(o, "simulated", skipped=sim["skipped"])
        else:
            self.core.step(
                o, "simulated", units=o.units, fee=o.fee_lamports, simulated_out=o.simulated_out
            )

        if self.core.killed(o, gen):
            return
        watcher = self.core.watch()
        fut = await watcher.subscribe(o.signature)
        if self.core.killed(o, gen):  # the subscription awaited: look again
            watcher.forget(o.signature)
            return
        o.sending = True
        sent_slot = int(self.core.graph().slot)  # the session's slot: no round trip
        written: list[int] = []
        handed = await self.sender.hand_over(o, wires, written)
        if written:  # the first send request's body written to its socket
            o.t_ns["written"] = min(written)
        await self.follower.follow(
            o, gen, handed, ixs, watcher, fut, sent_slot, last_valid, pre_base, wires
        )

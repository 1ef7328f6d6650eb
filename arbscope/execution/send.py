"""Sending an order: to the node (``sendTransaction``) or as a Jito bundle to every block
engine, paced under its rate limit, and how each route fared.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from solders.instruction import Instruction

from feeds.clients.confirm import Confirmation
from feeds.clients.rpc import JitoClient, RpcError
from feeds.clients.sender import HotSender

from .core import ExecutorCore
from .orders import (
    LiveOrder,
    confirmation_text,
)
from .routes import error_name, route_name

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


class Sender:
    """Handing an order's transactions to the node or the block engines, simulating them,
    and how each route fared (see the module doc)."""

    def __init__(self, core: ExecutorCore) -> None:
        self.core = core

    def fire(
        self, engines: Sequence[str], senders: Sequence[HotSender | None], wire: str
    ) -> list[tuple[str, int, asyncio.Future[Any]]]:
        """The hot path's send: ``wire`` (one transaction) as a bundle written now, in this
        call, on each block engine's idle hot connection (``senders``, by ``engines``);
        each engine's (URL, ns written, answer to come) that took it."""
        answers = []
        for url, h in zip(engines, senders, strict=True):
            assert h is not None
            sent = h.send("sendBundle", [[wire], {"encoding": "base64"}])
            if sent is not None:
                answers.append((url, sent[0], sent[1]))
        return answers

    async def hand_over(
        self, o: LiveOrder, wires: str | list[str], written: list[int] | None = None
    ) -> list[tuple[str, str]]:
        """Send ``wires`` (a transaction, or the transactions of one bundle): to every
        block engine at once as a bundle (the same signatures: it lands once, its tip is
        paid once), or by ``sendTransaction``; the routes that took it, with the bundle id
        ("" for rpc). RpcError when none did. ``written`` gets the ns each request's body
        went to its socket (``time.monotonic_ns``)."""
        c = self.core.config
        engines = c.engines()
        bundle = [wires] if isinstance(wires, str) else list(wires)
        if not engines:
            if len(bundle) != 1:
                raise RpcError("a bundle of several transactions needs a block engine")
            route = self.core.route("rpc")
            hot = self.core.hot.get(c.rpc or "")
            try:
                fired = (
                    hot.send("sendTransaction", self.core.client().send_params(bundle[0]))
                    if hot is not None and self.core.fast_path
                    else None
                )
                if fired is not None:  # written in this call: a kept-alive connection
                    if written is not None:
                        written.append(fired[0])
                    got = await fired[1]
                    if not isinstance(got, str):
                        raise RpcError(f"sendTransaction at {self.core.client().shown}: bad answer")
                else:
                    got = await self.core.client().send_transaction(bundle[0], written=written)
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
            if url not in self.core.jitos:
                self.core.jitos[url] = JitoClient(url, ca_file=c.ca_file, rps=c.jito_rps)
            clients.append((route_name(url), self.core.jitos[url]))
        answers = await asyncio.gather(
            *(cl.send_bundle(bundle, written) for _, cl in clients), return_exceptions=True
        )
        handed: list[tuple[str, str]] = []
        why: list[str] = []
        for (name, _), answer in zip(clients, answers, strict=True):
            route = self.core.route(name)
            if isinstance(answer, BaseException):
                if not isinstance(answer, (RpcError, OSError, asyncio.TimeoutError)):
                    raise answer
                route.refused += 1
                limited = isinstance(answer, RpcError) and answer.rate_limited
                route.refusals["rate limited" if limited else "unavailable"] += 1
                why.append(f"{name}: {self.core.clean(str(answer))}")
                continue
            route.sent += 1
            handed.append((name, str(answer)))
        if not handed:
            raise RpcError("every block engine refused the bundle: " + "; ".join(why))
        o.via = f"jito bundle {handed[0][1][:16]} to {len(handed)} engine(s)"
        return handed

    def resend(self, o: LiveOrder, wire: str) -> Callable[[], Awaitable[object]]:
        """For a plain transaction sent with ``sendTransaction``: the watcher's ``resend``,
        the same bytes handed to the node again (preflight skipped: it was simulated; the
        node forwards it to the leader once, ``maxRetries`` 0, and a packet lost on the
        way never lands — on the real node under load an order that never landed was held
        until its blockhash expired). The same signature lands at most once."""

        async def again() -> object:
            o.resent += 1
            return await self.core.client().send_transaction(wire)

        return again

    def bundle_failed(self, handed: list[tuple[str, str]]) -> Callable[[], Awaitable[str]] | None:
        """For a bundle (``handed``: routes and bundle ids): the watcher's ``gave_up``.
        Every ``live.bundle_check_s`` after the send it asks each engine that has not said
        so yet (``getInflightBundleStatuses``) — only while that engine's rate gate is free,
        so it never delays a send — and says why the bundle will never land once every
        one of them marked it ``Failed`` (Jito's: every region that received it failed
        it, and it was not forwarded). None for a plain transaction, or when disabled."""
        every = self.core.config.bundle_check_s
        bundles = [(name, bid) for name, bid in handed if bid]
        if not bundles or every <= 0:
            return None
        urls = {route_name(u): u for u in self.core.config.engines()}
        failed: set[str] = set()
        last = [time.monotonic()]

        async def gave_up() -> str:
            now = time.monotonic()
            if now - last[0] < every:
                return ""
            last[0] = now
            for name, bid in bundles:
                if name in failed:
                    continue
                client = self.core.jitos.get(urls.get(name, ""))
                if client is None or client.rpc.gate.remaining() > 0:
                    return ""  # its gate is the sends': ask another time
                try:
                    status = await client.inflight_status(bid)
                except RpcError:
                    return ""
                if status != "Failed":
                    return ""
                failed.add(name)
            n = len(bundles)
            return f"{'the block engine' if n == 1 else f'all {n} block engines'} failed the bundle"

        return gave_up

    async def count_routes(
        self,
        o: LiveOrder,
        handed: list[tuple[str, str]],
        conf: Confirmation,
        sent_slot: int,
        ixs: Sequence[Instruction],
    ) -> None:
        """Per route: landed (the engine whose bundle says Landed; rpc: the confirmation),
        failed (with the error's name) or expired."""
        landed_by = ""
        if conf.status in ("confirmed", "failed"):
            landed_by = handed[0][0]
            if len(handed) > 1 or handed[0][1]:  # bundles: ask the engines which one
                for name, bid in handed:
                    url = next(u for u in self.core.config.engines() if route_name(u) == name)
                    try:
                        status = await self.core.jitos[url].inflight_status(bid)
                    except RpcError:
                        continue
                    if status == "Landed":
                        landed_by = name
                        break
        for name, _ in handed:
            route = self.core.route(name)
            if name != landed_by:
                if not landed_by:
                    route.expired += 1  # never landed anywhere (expired, or no answer)
                continue
            if conf.status == "confirmed":
                route.landed += 1
            else:
                route.failed += 1
                route.errors[error_name(confirmation_text(conf, ixs))] += 1
            if conf.slot is not None:
                route.slots.append(max(0, conf.slot - sent_slot))

    async def simulate_parts(self, o: LiveOrder, wires: list[str], base_ata: str) -> dict[str, Any]:
        """The bundle's simulation as ``simulateTransaction``'s value (the failing
        transaction's error and logs, the base account after the last one, the fees and
        units summed; ``ixs`` the failing one's instructions): Jito's ``simulateBundle``
        where the node has it, else the first transaction alone (a plain node: the later
        ones need its state; the bundle's atomicity stands for their check, and
        ``simulated_out`` is not known)."""
        rpc = self.core.client()
        try:
            v = await rpc.simulate_bundle(wires, [None] * (len(wires) - 1) + [[base_ata]])
        except RpcError as exc:
            if exc.code != -32601:
                raise
            alone = await rpc.simulate_transaction(wires[0])
            self.core.step(
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

    def simulated_amount(self, accounts: Any) -> int | None:
        """The amount of the first account a simulation returned, or None."""
        try:
            return self.core.amount(base64.b64decode(accounts[0]["data"][0]))
        except (TypeError, KeyError, IndexError, ValueError):  # DecodeError is a ValueError
            return None

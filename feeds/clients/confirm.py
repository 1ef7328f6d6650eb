"""Confirmation of sent transactions.

:class:`SignatureWatcher` subscribes to each signature with ``signatureSubscribe`` on one
PubSub connection (opened on first use, reopened when it drops; every signature still
waiting is subscribed again), and polls ``getSignatureStatuses`` as the fallback, so a
lost notification or a dead socket only delays the answer. A transaction whose blockhash
expired (block height past its ``lastValidBlockHeight``) without a status never lands.
While it waits, the caller may hand the transaction to the node again after every poll
that found nothing (``resend``): a node forwards a ``sendTransaction`` to its leader once
when told ``maxRetries`` 0, and a packet lost on the way would otherwise hold the order
until its blockhash expired (the real node under load: an order that never landed).

Subscribe *before* sending: a node only notifies signatures it processes after the
subscription (the simulator also answers one already processed).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import websockets

from ..redact import redact
from .rpc import RpcClient, RpcError
from .tls import ssl_for, tls_problem

COMMITMENTS = ("processed", "confirmed", "finalized")  # weakest first


@dataclass(frozen=True, slots=True)
class Confirmation:
    """How a transaction ended: ``confirmed`` (landed, no error), ``failed`` (landed with
    ``err``: the fee is paid), ``expired`` (its blockhash expired: it never landed) or
    ``unknown`` (no answer before the timeout)."""

    status: str
    slot: int | None = None
    err: Any = None
    via: str = ""  # "subscription" | "poll"


class SignatureWatcher:
    """See the module docstring. ``ws_url`` None: polling only."""

    def __init__(
        self,
        ws_url: str | None,
        rpc: RpcClient,
        commitment: str = "confirmed",
        poll_s: float = 1.0,
    ) -> None:
        self.ws_url, self.rpc, self.commitment, self.poll_s = ws_url, rpc, commitment, poll_s
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[str, asyncio.Future[tuple[int, Any]]] = {}
        self._by_request: dict[int, str] = {}
        self._by_sub: dict[int, str] = {}
        self._lock = asyncio.Lock()
        self.errors = 0
        self.last_error = ""

    async def subscribe(self, signature: str) -> asyncio.Future[tuple[int, Any]]:
        """Start watching ``signature``; the future resolves to ``(slot, err)``."""
        fut = self._waiting.get(signature)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self._waiting[signature] = fut
        await self._send_subscribe(signature)
        return fut

    async def _send_subscribe(self, signature: str) -> None:
        if self.ws_url is None:
            return
        try:
            if not await self._ensure():  # a new connection subscribed it already
                await self._ws.send(self._request(signature))
        except Exception as exc:  # polling covers it
            tls = tls_problem(exc, self.ws_url, self.rpc.ca_file)
            where = f"at {redact(self.ws_url)}: {type(exc).__name__}"
            self._note(f"signatureSubscribe: {tls}" if tls else f"signatureSubscribe {where}")

    async def _ensure(self) -> bool:
        """Connect when not connected; True when this call connected (and subscribed
        every signature still waiting)."""
        async with self._lock:
            if self._ws is not None and self._reader is not None and not self._reader.done():
                return False
            assert self.ws_url is not None
            self._ws = await websockets.connect(
                self.ws_url,
                open_timeout=5.0,
                close_timeout=1.0,
                ssl=ssl_for(self.ws_url, self.rpc.ca_file),  # the RPC's CA file serves both
            )
            self._by_sub.clear()
            self._reader = asyncio.create_task(self._read(self._ws), name="signature-watch")
            again = [s for s, f in self._waiting.items() if not f.done()]
        for sig in again:  # a new connection: every signature still waiting again
            await self._ws.send(self._request(sig))
        return True

    def _request(self, signature: str) -> str:
        """A ``signatureSubscribe`` frame (its id remembered for the answer)."""
        rid = next(self._ids)
        self._by_request[rid] = signature
        params = [signature, {"commitment": self.commitment}]
        return json.dumps(
            {"jsonrpc": "2.0", "id": rid, "method": "signatureSubscribe", "params": params}
        )

    async def _read(self, ws: Any) -> None:
        try:
            async for raw in ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(msg, dict):
                    continue
                if "id" in msg and isinstance(msg.get("result"), int):
                    sig = self._by_request.pop(msg["id"], None)
                    if sig is not None:
                        self._by_sub[msg["result"]] = sig
                    continue
                if msg.get("method") != "signatureNotification":
                    continue
                try:
                    params = msg["params"]
                    sig = self._by_sub.pop(int(params["subscription"]))
                    result = params["result"]
                    value = result["value"]
                    slot = int(result["context"]["slot"])
                except (KeyError, TypeError, ValueError):
                    continue
                if value == "receivedSignature" or not isinstance(value, dict):
                    continue
                fut = self._waiting.get(sig)
                if fut is not None and not fut.done():
                    fut.set_result((slot, value.get("err")))
        except Exception as exc:
            self._note(f"signature feed closed: {type(exc).__name__}")

    def _note(self, text: str) -> None:
        self.errors += 1
        self.last_error = text

    async def wait(
        self,
        signature: str,
        fut: asyncio.Future[tuple[int, Any]],
        last_valid_block_height: int,
        timeout_s: float = 90.0,
        gave_up: Callable[[], Awaitable[str]] | None = None,
        resend: Callable[[], Awaitable[object]] | None = None,
    ) -> Confirmation:
        """The end of ``signature``: the notification, else a poll that finds it, else
        expiry by block height, else ``unknown`` after ``timeout_s``. ``gave_up``, asked
        after each poll: why it will never land, when whoever took it says so (a bundle
        every block engine marked ``Failed``): it ends ``expired`` then, ``via`` that
        reason, without waiting for its blockhash to expire. ``resend``, called after each
        poll that found nothing: the same signed transaction handed to the node again (a
        node forwards a ``sendTransaction`` to its leader once when told ``maxRetries``
        0, and a packet dropped on the way never lands; the same signature lands at most
        once); what it raises is ignored."""
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                with contextlib.suppress(asyncio.TimeoutError):
                    slot, err = await asyncio.wait_for(asyncio.shield(fut), self.poll_s)
                    return Confirmation(
                        "confirmed" if err is None else "failed", slot, err, "subscription"
                    )
                try:
                    st = (await self.rpc.get_signature_statuses([signature]))[0]
                    if isinstance(st, dict) and self.reached(st):
                        err = st.get("err")
                        return Confirmation(
                            "confirmed" if err is None else "failed", st.get("slot"), err, "poll"
                        )
                    if await self.rpc.get_block_height() > last_valid_block_height:
                        return Confirmation("expired", None, None, "poll")
                except (RpcError, IndexError):
                    pass
                if gave_up is not None:
                    why = await gave_up()
                    if why:
                        return Confirmation("expired", None, None, why)
                if resend is not None and not fut.done():
                    with contextlib.suppress(RpcError):
                        await resend()
                if time.monotonic() > deadline:
                    return Confirmation("unknown", None, None, "poll")
        finally:
            self._waiting.pop(signature, None)

    def reached(self, status: dict[str, Any]) -> bool:
        """Whether a ``getSignatureStatuses`` entry has reached the watcher's commitment: a
        node lists a transaction as soon as a bank processed it (``confirmationStatus``
        ``processed``), before a read at ``confirmed`` sees what it wrote. An entry
        without the field (a node before 1.5) counts as reached."""
        got = status.get("confirmationStatus")
        if got not in COMMITMENTS or self.commitment not in COMMITMENTS:
            return True
        return COMMITMENTS.index(got) >= COMMITMENTS.index(self.commitment)

    def forget(self, signature: str) -> None:
        """Stop waiting for ``signature`` (it was never sent)."""
        fut = self._waiting.pop(signature, None)
        if fut is not None and not fut.done():
            fut.cancel()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        self._ws = self._reader = None
        for f in self._waiting.values():
            f.cancel()
        self._waiting.clear()

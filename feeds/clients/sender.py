"""A JSON-RPC request written to its socket in the caller's own call: the live fast path's
last step.

An ``aiohttp`` request takes several turns of the event loop before its first byte goes
out (a task, a connection taken from the pool, the headers, the body); on a busy loop
each turn waits behind every frame that came meanwhile. :class:`HotSender` keeps
``size`` HTTP/1.1 keep-alive connections to one endpoint open ahead of time (``http://``
or ``https://``, through the same TLS setup as :class:`~.rpc.RpcClient`); :meth:`send`
frames the request with h11 and hands it to an idle connection's transport at once (the
kernel's socket buffer takes it in that call), returning when it was written and a
future of the answer's ``result``. With no idle connection it says so (None) and the
caller goes the ordinary way. A connection that closes is opened again in the
background; an answer that is not a JSON-RPC success fails the future with the same
:class:`~.rpc.RpcError` the ordinary client raises.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import ssl
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import h11

from ..redact import redact
from .ratelimit import RateGate
from .rpc import RpcClient, RpcError
from .tls import ssl_for, tls_problem

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 1 << 20  # a send's answer is a signature or a bundle id


class _Conn(asyncio.Protocol):
    """One keep-alive connection: at most one request in flight."""

    def __init__(self, owner: HotSender) -> None:
        self.owner = owner
        self.h = h11.Connection(h11.CLIENT)
        self.transport: asyncio.Transport | None = None
        self.waiting: asyncio.Future[Any] | None = None
        self.where = ""
        self.status = 0
        self.body = bytearray()

    # ---------------------------------------------------------------- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.h.receive_data(data)
            while True:
                ev = self.h.next_event()
                if ev is h11.NEED_DATA or ev is h11.PAUSED:
                    break
                if isinstance(ev, h11.Response):
                    self.status = ev.status_code
                elif isinstance(ev, h11.Data):
                    self.body += ev.data
                    if len(self.body) > MAX_ANSWER_BYTES:
                        raise RpcError(f"{self.where}: the answer is over {MAX_ANSWER_BYTES} bytes")
                elif isinstance(ev, h11.EndOfMessage):
                    self._answered()
                    if self.h.our_state is h11.DONE and self.h.their_state is h11.DONE:
                        self.h.start_next_cycle()
                    else:
                        self._drop()
                    break
                elif isinstance(ev, h11.ConnectionClosed):
                    self._drop()
                    break
        except (h11.ProtocolError, RpcError) as exc:
            self._fail(RpcError(f"{self.where}: {exc}"))
            self._drop()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(RpcError(f"{self.where or self.owner.shown}: the connection closed"))
        self.owner._lost(self)

    # ---------------------------------------------------------------- requests
    @property
    def idle(self) -> bool:
        return (
            self.transport is not None
            and not self.transport.is_closing()
            and self.waiting is None
            and self.h.our_state is h11.IDLE
        )

    def write(self, head: bytes, body: bytes, where: str) -> tuple[int, asyncio.Future[Any]]:
        """Write the request (its head already rendered, as h11 renders it) at once: (the
        ns it was handed to the socket, the future of its answer); then h11 is told what
        went out, so it reads the answer and keeps the connection's state (its request
        object and checks cost more than the write: they come after it)."""
        assert self.transport is not None
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting, self.where, self.status, self.body = fut, where, 0, bytearray()
        self.transport.write(head + body)
        written = time.monotonic_ns()
        request = h11.Request(
            method="POST", target=self.owner.target, headers=self.owner.headers(len(body))
        )
        for ev in (request, h11.Data(data=body), h11.EndOfMessage()):
            self.h.send(ev)
        return written, fut

    def _answered(self) -> None:
        fut, self.waiting = self.waiting, None
        if fut is None or fut.done():
            return
        if self.status != 200:
            limited = self.status == 429
            fut.set_exception(
                RpcError(
                    f"{self.where}: HTTP {self.status}" + (" rate limited" if limited else ""),
                    self.status if limited else None,
                    rate_limited=limited,
                )
            )
            return
        try:
            msg = json.loads(self.body)
            fut.set_result(RpcClient.result_of(msg, self.where))
        except (ValueError, RecursionError):
            fut.set_exception(RpcError(f"{self.where}: the answer is not JSON"))
        except RpcError as exc:
            fut.set_exception(exc)

    def _fail(self, exc: RpcError) -> None:
        fut, self.waiting = self.waiting, None
        if fut is not None and not fut.done():
            fut.set_exception(exc)

    def _drop(self) -> None:
        if self.transport is not None:
            self.transport.close()


class HotSender:
    """``size`` keep-alive connections to ``url`` for requests written at once (see the
    module docstring). :meth:`open` (again after a loss: automatic) before use."""

    def __init__(
        self, url: str, size: int = 2, ca_file: str | None = None, gate: RateGate | None = None
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {redact(url)}")
        self.url, self.shown, self.size, self.ca_file = url, redact(url), size, ca_file
        # the endpoint's rate limit, shared with its ordinary client
        self.gate = gate if gate is not None else RateGate()
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.authority = parts.netloc.rsplit("@", 1)[-1]
        # a request's head up to its length, as h11 writes it (Connection.send: the
        # request line, then each header as given), rendered once
        self._head = b"".join(
            [
                b"POST %s HTTP/1.1\r\n" % self.target.encode(),
                *(b"%s: %s\r\n" % (k, v) for k, v in self.headers(0)[:-1]),
                b"Content-Length: ",
            ]
        )
        self._ssl: ssl.SSLContext | bool | None = ssl_for(url, ca_file)
        if parts.scheme == "https" and self._ssl is None:
            self._ssl = True
        self._conns: list[_Conn] = []
        self._opening: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self.closed = False
        self.last_error = ""
        self.sent = 0  # requests written at once
        self.busy = 0  # asked while no connection was idle

    def headers(self, length: int) -> list[tuple[bytes, bytes]]:
        """A request's headers (its body ``length`` bytes long), Content-Length last."""
        return [
            (b"Host", self.authority.encode()),
            (b"Content-Type", b"application/json"),
            (b"Content-Length", b"%d" % length),
        ]

    async def open(self) -> None:
        """Open connections until ``size`` are (RpcError when none can be)."""
        loop = asyncio.get_running_loop()
        while not self.closed and len(self._conns) < self.size:
            try:
                _, conn = await loop.create_connection(
                    lambda: _Conn(self),
                    self.host,
                    self.port,
                    ssl=self._ssl,
                    server_hostname=self.host if self._ssl else None,
                )
            except (OSError, ssl.SSLError) as exc:
                tls = tls_problem(exc, self.url, self.ca_file)
                self.last_error = tls or f"{self.shown}: {type(exc).__name__}: {exc}"
                raise RpcError(self.last_error, transport="tls" if tls else "") from None
            self._conns.append(conn)

    def _lost(self, conn: _Conn) -> None:
        if conn in self._conns:
            self._conns.remove(conn)
        if self.closed or (self._opening is not None and not self._opening.done()):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._opening = loop.create_task(self._reopen(), name=f"hot-sender {self.shown}")

    async def _reopen(self) -> None:
        try:
            await self.open()
        except RpcError as exc:
            log.warning("hot sender: %s", exc)

    @property
    def ready(self) -> bool:
        """Whether a request can be written now: a connection idle, the rate limit not
        holding requests back."""
        return self.gate.remaining() <= 0 and any(c.idle for c in self._conns)

    def not_ready(self) -> str:
        """Why :attr:`ready` is False ("" when it is not): the rate limit, or how many
        connections are open and how many of them await an answer."""
        if self.gate.remaining() > 0:
            return f"{self.shown}: the rate limit holds requests back"
        if any(c.idle for c in self._conns):
            return ""
        waiting = sum(c.waiting is not None for c in self._conns)
        return (
            f"{self.shown}: no idle connection ({len(self._conns)} of {self.size} open, "
            f"{waiting} awaiting an answer)"
        )

    def send(self, method: str, params: Sequence[Any]) -> tuple[int, asyncio.Future[Any]] | None:
        """Write one JSON-RPC request now: (``time.monotonic_ns`` once it was handed to
        the socket, the future of its ``result``), or None when no connection is idle or
        the endpoint's rate limit does not allow one now. A rate-limit answer backs the
        gate off, as the ordinary client's does."""
        conn = next((c for c in self._conns if c.idle), None)
        if conn is None:
            self.busy += 1
            return None
        if not self.gate.take_now():
            return None
        body = json.dumps(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)},
            separators=(",", ":"),
        ).encode()
        head = self._head + b"%d\r\n\r\n" % len(body)
        try:
            written, fut = conn.write(head, body, f"{method} at {self.shown}")
        except (h11.LocalProtocolError, OSError, RuntimeError) as exc:
            self.last_error = f"{self.shown}: {type(exc).__name__}: {exc}"
            conn._fail(RpcError(self.last_error))
            conn._drop()
            return None
        self.sent += 1
        fut.add_done_callback(self._gated)
        return written, fut

    def _gated(self, fut: asyncio.Future[Any]) -> None:
        exc = None if fut.cancelled() else fut.exception()
        if isinstance(exc, RpcError) and exc.rate_limited:
            self.gate.refused(exc.retry_after)
        elif exc is None and not fut.cancelled():
            self.gate.answered()

    async def close(self) -> None:
        self.closed = True
        if self._opening is not None:
            self._opening.cancel()
        for c in list(self._conns):
            c._fail(RpcError(f"{self.shown}: closed"))
            c._drop()
        self._conns.clear()

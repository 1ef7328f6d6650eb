"""Hostile endpoints for the transport tests: real servers on 127.0.0.1 (port 0) that
misbehave in one precise way each — PubSub over ``websockets`` (or, for what a library
server never does — not answering a ping, a frame no server may send —, over RFC 6455
written out by hand: :func:`raw_ws_server`), HTTP JSON-RPC over aiohttp. Nothing here is
a mock: the client code under test talks to them over sockets.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from websockets.asyncio.server import ServerConnection, serve


def slot_notification(sid: int, slot: int) -> str:
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "slotNotification",
            "params": {
                "result": {"parent": slot - 1, "root": slot - 32, "slot": slot},
                "subscription": sid,
            },
        }
    )


def ack(req: dict[str, Any], sid: int) -> str:
    return json.dumps({"jsonrpc": "2.0", "result": sid, "id": req["id"]})


def refusal(req: dict[str, Any], code: int = -32601, message: str = "Method not found") -> str:
    return json.dumps(
        {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": req["id"]}
    )


async def answer_subscriptions(ws: ServerConnection, n: int) -> list[tuple[str, int]]:
    """Acknowledge the first ``n`` requests (server ids 100, 101, ...); (method, id) each."""
    out = []
    for i in range(n):
        req = json.loads(await ws.recv())
        sid = 100 + i
        await ws.send(ack(req, sid))
        out.append((str(req["method"]), sid))
    return out


@asynccontextmanager
async def ws_server(handler: Callable[[ServerConnection], Awaitable[None]]) -> AsyncIterator[str]:
    """A PubSub server running ``handler`` per connection; yields its ws:// URL."""

    async def run(ws: ServerConnection) -> None:
        try:
            await handler(ws)
        except Exception:  # the client going away mid-handler is the point of these tests
            pass

    async with serve(run, "127.0.0.1", 0, max_size=None, compression=None) as srv:
        port = next(iter(srv.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/"


def server_frame(payload: bytes | str, opcode: int = 0x1, fin: bool = True) -> bytes:
    """One unmasked frame, as a server sends it (RFC 6455 §5.2)."""
    data = payload.encode() if isinstance(payload, str) else payload
    n = len(data)
    head = bytes((opcode | (0x80 if fin else 0),))
    if n < 126:
        head += bytes((n,))
    elif n < 1 << 16:
        head += bytes((126,)) + struct.pack("!H", n)
    else:
        head += bytes((127,)) + struct.pack("!Q", n)
    return head + data


class RawPeer:
    """One client connection of :func:`raw_ws_server`, after the upgrade: frames read
    (unmasked) and written exactly as asked, nothing answered on its own."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def recv(self) -> tuple[int, bytes]:
        """The next frame from the client: (opcode, payload) (RFC 6455 §5.2)."""
        b0, b1 = await self.reader.readexactly(2)
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
        mask = await self.reader.readexactly(4) if b1 & 0x80 else bytes(4)
        data = await self.reader.readexactly(n)
        return b0 & 0x0F, bytes(c ^ mask[i % 4] for i, c in enumerate(data))

    async def send(self, payload: bytes | str, opcode: int = 0x1, fin: bool = True) -> None:
        """One unmasked frame (server to client)."""
        self.writer.write(server_frame(payload, opcode, fin))
        await self.writer.drain()

    async def send_at_once(self, frames: list[bytes]) -> None:
        """Frames (:func:`server_frame`) in one write: the client reads them together."""
        self.writer.write(b"".join(frames))
        await self.writer.drain()

    async def request(self) -> dict[str, Any]:
        """The next text frame, as JSON (control frames before it are skipped)."""
        while True:
            op, data = await self.recv()
            if op == 0x1:
                return dict(json.loads(data))


_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3


@asynccontextmanager
async def raw_ws_server(handler: Callable[[RawPeer], Awaitable[None]]) -> AsyncIterator[str]:
    """A WebSocket server on RFC 6455 written out by hand: it completes the upgrade, then
    runs ``handler`` with the connection's :class:`RawPeer`; yields its ws:// URL."""

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            key = next(
                line.split(b":", 1)[1].strip()
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            )
            accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest())
            writer.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            await handler(RawPeer(reader, writer))
        except Exception:  # the client going away mid-handler is the point of these tests
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(run, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/"
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def http_server(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[str]:
    """An HTTP server answering every POST with ``handler``; yields its http:// URL."""

    async def route(request: web.Request) -> web.StreamResponse:
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/", route)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


class Hanging:
    """An HTTP handler that accepts each request and never answers. ``requests``: how
    many came; ``gone``: how many of them the client abandoned (closed the connection)."""

    def __init__(self) -> None:
        self.requests = 0
        self.gone = 0

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        while request.transport is not None and not request.transport.is_closing():
            await asyncio.sleep(0.01)
        self.gone += 1
        return web.Response()


async def until(predicate: Callable[[], object], timeout: float = 30.0) -> None:
    """Wait for ``predicate()`` to hold (polled on the loop); TimeoutError after
    ``timeout`` seconds, the failure mode of a test that would otherwise hang."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def until_answered(
    check: Callable[[], Awaitable[object]], timeout: float = 30.0, every: float = 0.05
) -> None:
    """:func:`until` for a condition that takes a request to learn (``await check()``),
    asked at most every ``every`` seconds."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(every)


async def step_until_cut(
    srv: Any,
    fast_slots: list[int],
    held: Callable[[], int],
    within: Callable[[int], bool],
    cut: Callable[[], bool],
) -> tuple[int, list[int], int]:
    """Step the simulator ``srv`` a slot at a time (at most 4,000), each once a fast
    reader has it (``fast_slots``), until a slow reader is cut (``cut()``); what waits for
    the slow one (``held()``) stays ``within`` its bound all along. The first slot
    stepped, every slot stepped, and the most that ever waited."""
    first = srv.world.slot + 1
    stepped: list[int] = []
    held_most = 0
    for _ in range(4000):
        stepped.append(srv.step().slot)
        await until(lambda: fast_slots[-1:] == stepped[-1:])
        now = held()
        held_most = max(held_most, now)
        assert within(now), now
        if cut():
            break
    return first, stepped, held_most

"""Hostile endpoints for the transport tests: real servers on 127.0.0.1 (port 0) that
misbehave in one precise way each — PubSub over ``websockets``, HTTP JSON-RPC over
aiohttp. Nothing here is a mock: the client code under test talks to them over sockets.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from websockets.asyncio.server import ServerConnection, serve


def slot_notification(sid: int, slot: int) -> str:
    return json.dumps({"jsonrpc": "2.0", "method": "slotNotification",
                       "params": {"result": {"parent": slot - 1, "root": slot - 32,
                                             "slot": slot}, "subscription": sid}})  # fmt: skip


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

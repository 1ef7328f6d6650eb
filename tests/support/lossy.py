"""A loss-injecting PubSub proxy: between a node's WebSocket and arbscope, it forwards
every message both ways but drops a share of the node's account notifications (seeded:
the same drops for the same stream), as a provider under load drops them. Nothing else is
touched: subscriptions, their answers, slot and logs notifications pass, in order."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

ACCOUNT_NOTICE = b'"accountNotification"'


@dataclass
class LossyProxy:
    """``ws://127.0.0.1:<port>`` in front of ``upstream`` (a node's PubSub URL), dropping
    each account notification with probability ``drop`` (``seed``: the draws). ``passed``
    and ``dropped`` count the account notifications; ``dropped_keys`` the subscription
    ids whose notifications were dropped, in order."""

    upstream: str
    drop: float
    seed: int = 0
    passed: int = 0
    dropped: int = 0
    url: str = ""
    _runner: web.AppRunner | None = field(default=None, repr=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, repr=False)

    async def start(self) -> str:
        self._rng.seed(self.seed)
        app = web.Application()
        app.router.add_get("/", self._serve)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"ws://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _serve(self, request: web.Request) -> web.WebSocketResponse:
        down = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await down.prepare(request)
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(self.upstream, max_msg_size=0, autoping=True) as up,
        ):

            async def to_node() -> None:
                async for msg in down:
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        await up.send_str(msg.data)
                    elif msg.type == aiohttp.WSMsgType.BINARY:
                        await up.send_bytes(msg.data)
                    else:
                        break
                await up.close()

            task = asyncio.create_task(to_node())
            self._tasks.add(task)
            try:
                async for msg in up:
                    if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                        break
                    data = msg.data if isinstance(msg.data, bytes) else msg.data.encode()
                    if ACCOUNT_NOTICE in data[:64]:
                        if self._rng.random() < self.drop:
                            self.dropped += 1
                            continue
                        self.passed += 1
                    if down.closed:
                        break
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        await down.send_bytes(data)
                    else:
                        await down.send_str(msg.data)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                self._tasks.discard(task)
                await down.close()
        return down

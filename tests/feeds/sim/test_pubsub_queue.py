"""The node's PubSub notification queue, as Agave bounds it (``rpc_pubsub_service.rs``,
``rpc_subscriptions.rs``: ``--rpc-pubsub-queue-capacity-items`` / ``-bytes``): a
subscriber too slow to take its notifications is cut once its oldest unsent one has left
the queue, never queued for without bound, while a subscriber that reads on the same
endpoint gets every slot; answers and pongs are not queued behind notifications."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any
from urllib.parse import urlparse

import aiohttp
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from feeds.sim.server import QUEUE_CAPACITY_BYTES, QUEUE_CAPACITY_ITEMS, EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from tests.support.hostile import step_until_cut, until

SMALL = WorldConfig(seed=11, tokens=8, pools=16, trades_per_slot=8)
STILL = 3600.0  # seconds per slot: nothing moves unless the test steps the world


def _req(i: int, method: str, params: list[Any] | None = None) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params or []})


async def _slow_client(url: str) -> Any:
    """A client whose socket takes little (a 4 KiB receive buffer) and that reads only
    when told: what the node has to send it soon waits on the node's side."""
    u = urlparse(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (u.hostname, u.port))
    # no keepalive: a client that reads nothing never sees its pong and would close
    return await websockets.connect(url, sock=sock, max_queue=1, ping_interval=None)


def test_the_defaults_are_agaves() -> None:
    """DEFAULT_QUEUE_CAPACITY_ITEMS and DEFAULT_QUEUE_CAPACITY_BYTES of
    ``rpc_pubsub_service.rs``."""
    assert (QUEUE_CAPACITY_ITEMS, QUEUE_CAPACITY_BYTES) == (10_000_000, 256 * 1024 * 1024)
    p = EndpointProfile()
    assert (p.queue_capacity_items, p.queue_capacity_bytes) == (10_000_000, 268_435_456)
    with pytest.raises(ValueError, match="queue_capacity"):
        EndpointProfile(queue_capacity_bytes=0)


@pytest.mark.slow
@pytest.mark.parametrize("bound", ["bytes", "items"])
async def test_a_subscriber_that_falls_behind_the_queue_is_cut(bound: str) -> None:
    """One connection subscribes to every pool, the slots and every log and reads
    nothing more; another takes its slots as they come. The node holds at most the
    queue's capacity for the slow one (checked after every slot), then drops its
    connection without a close frame, what it had written still delivered in order;
    the reader on the same endpoint is never cut and gets every slot."""
    cap = {"bytes": {"queue_capacity_bytes": 48 * 1024}, "items": {"queue_capacity_items": 60}}
    profile = EndpointProfile("a", latency_ms=0, jitter_ms=0, **cap[bound])  # type: ignore[arg-type]
    async with SimServer(SMALL, [profile], slot_seconds=STILL) as srv:
        ep, url = srv.endpoints[0], srv.infos()[0].ws_url
        fast_slots: list[int] = []
        async with websockets.connect(url, ping_interval=None) as fast:
            await fast.send(_req(1, "slotSubscribe"))
            json.loads(await fast.recv())

            async def read_fast() -> None:
                async for msg in fast:
                    fast_slots.append(json.loads(msg)["params"]["result"]["slot"])

            reader = asyncio.create_task(read_fast())
            slow = await _slow_client(url)
            pools = [p.address for p in srv.world.pools]
            asks = [
                _req(i, "accountSubscribe", [k, {"encoding": "base64"}])
                for i, k in enumerate(pools)
            ]
            asks += [_req(100, "slotSubscribe"), _req(101, "logsSubscribe", ["all"])]
            for a in asks:
                await slow.send(a)
            answers = [json.loads(await slow.recv()) for _ in asks]
            slot_sid = next(a["result"] for a in answers if a["id"] == 100)
            (conn,) = [c for c in ep.conns if len(c.subs) == len(asks)]
            # the node's side of the socket small too (else its kernel takes megabytes
            # before anything waits in the node: the same, only slower to reach)
            transport = conn.ws._req.transport if conn.ws._req else None
            assert transport is not None
            transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)

            def held() -> int:
                if bound == "bytes":
                    return sum(len(text) for _, text, _, _ in conn.notes)
                return len(conn.notes)

            first, stepped, held_most = await step_until_cut(
                srv,
                fast_slots,
                held,
                lambda n: n <= profile.queue_capacity_bytes if bound == "bytes" else n <= 60,
                lambda: bool(ep.stats["lagged"]),
            )
            assert ep.stats["lagged"] == 1 and conn.lagged and not conn.notes
            assert held_most > 0  # it did fall behind before it was cut
            got: list[int] = []
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(60):
                    async for msg in slow:
                        m = json.loads(msg)
                        if m["params"]["subscription"] == slot_sid:
                            got.append(m["params"]["result"]["slot"])
            assert closed.value.rcvd is None  # no close frame: the node dropped the socket
            assert got == list(range(first, first + len(got))) and len(got) < len(stepped)
            await until(lambda: conn not in ep.conns)
            # the reader was never cut and has every slot
            assert fast_slots == stepped and len(ep.conns) == 1
            reader.cancel()


@pytest.mark.slow
async def test_answers_and_pongs_go_before_waiting_notifications() -> None:
    """Notifications queued on a connection (here: a node a slot late, slots an hour
    long) do not hold back the answer to a request sent after them, nor the pong to a
    ping, as Agave's handler writes an answer when it has handled the request and
    handles what it receives (a ping too) before it sends notifications."""
    profile = EndpointProfile("a", latency_ms=0, jitter_ms=0, lag_slots=1)
    async with SimServer(SMALL, [profile], slot_seconds=STILL) as srv:
        ep = srv.endpoints[0]
        async with websockets.connect(srv.infos()[0].ws_url) as ws:
            await ws.send(_req(1, "slotSubscribe"))
            assert json.loads(await ws.recv())["id"] == 1
            for _ in range(3):
                srv.step()
            (conn,) = ep.conns
            assert len(conn.notes) == 3  # due an hour from now
            async with asyncio.timeout(60):
                await ws.send(_req(2, "rootSubscribe"))
                answer = json.loads(await ws.recv())
                await (await ws.ping())
            assert answer["id"] == 2 and isinstance(answer["result"], int)
            assert len(conn.notes) == 3 and not ep.stats["lagged"]


async def test_a_client_gone_with_its_pings_unanswered_ends_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A client that sends pings and goes (its socket aborted) before the pongs are
    written: each connection is dropped as a node drops it, with nothing logged as an
    error (the pong written to a closing socket raised out of the handler and aiohttp
    logged a traceback per connection)."""
    async with SimServer(SMALL, [EndpointProfile("a", latency_ms=0, jitter_ms=0)]) as srv:
        ep = srv.endpoints[0]
        url = srv.infos()[0].ws_url
        for _ in range(5):
            async with aiohttp.ClientSession() as cs:
                ws = await cs.ws_connect(url, autoping=False)
                for _ in range(50):
                    await ws.ping(b"x")
                conn = ws._response.connection
                assert conn is not None and conn.transport is not None
                conn.transport.abort()
        await until(lambda: not ep.conns)
    assert ep.stats["connections"] == 5
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]

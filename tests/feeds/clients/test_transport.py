"""Transport limits against hostile servers on loopback: oversized PubSub frames (the
backoff and the message), fragmented messages, an unanswered heartbeat, frames no
server may send — each over both PubSub transports (picows, websockets), with the same
outcome and wording —; oversized or slow HTTP answers (bounded, parsed in slices the loop runs between), a
hanging HTTP endpoint at start-up and at stop."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import itertools
import json
import logging
import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from websockets.asyncio.server import ServerConnection

from arbscope import sources
from arbscope.session import RecordSettings
from feeds import health as feeds_health
from feeds.clients import rpc as rpc_module
from feeds.clients import transport as transport_module
from feeds.clients.pool import Endpoint, FeedPool
from feeds.clients.pubsub import PubSubWorker, WorkerConfig
from feeds.clients.rpc import RpcClient, RpcError
from feeds.health import HealthCounters
from feeds.sim.server import SimServer, default_profiles
from feeds.sim.world import WorldConfig
from feeds.wire.protocol import account_subscription, slot_subscription
from storage.journal import Journal
from tests.support.feeds import sim_session
from tests.support.hostile import (
    Hanging,
    RawPeer,
    ack,
    answer_subscriptions,
    http_server,
    raw_ws_server,
    server_frame,
    slot_notification,
    until,
    ws_server,
)

FRAME_LIMIT = 64 << 10  # the worker's max_frame_bytes in these tests


def _ingest(eng: types.ModuleType) -> object:
    return eng.FeedIngest(eng.PoolGraph(base_mints=[], max_hops=3))


@contextlib.asynccontextmanager
async def _running(
    url: str, name: str, ing: object, cfg: WorkerConfig
) -> AsyncIterator[tuple[PubSubWorker, HealthCounters]]:
    """A worker of the slot subscription on ``url``, running; stopped (within 30 s) on
    the way out whatever happened."""
    counters = HealthCounters(0, name, url)
    worker = PubSubWorker(0, url, [slot_subscription()], ing, counters, cfg)  # type: ignore[arg-type]
    task = asyncio.create_task(worker.run())
    try:
        yield worker, counters
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 30)


def _limited(transport: str, backoff_min: float, backoff_max: float, **more: Any) -> WorkerConfig:
    """A worker reading frames up to ``FRAME_LIMIT``, never stale by silence, backing off
    ``backoff_min`` to ``backoff_max`` seconds; ``more`` settings on top."""
    return WorkerConfig(
        backoff_min_s=backoff_min,
        backoff_max_s=backoff_max,
        max_frame_bytes=FRAME_LIMIT,
        stale_after_s=30.0,
        transport=transport,
        **more,
    )


def _pinging(transport: str) -> WorkerConfig:
    """A worker pinging every half second, never stale by silence, slow to reconnect (a
    reconnect shows)."""
    return WorkerConfig(
        heartbeat_s=0.5,
        stale_after_s=30.0,
        backoff_min_s=5.0,
        backoff_max_s=5.0,
        transport=transport,
    )


async def test_oversized_frames_back_off_harder_until_a_healthy_period_and_name_the_limit(
    eng: types.ModuleType, transport: str
) -> None:
    """Every connection is accepted, its subscription answered, then sent one frame over
    the limit — except the fifth, which first streams slots until the test releases it.
    The backoff caps must double across the consecutive failures (a handshake alone is
    not health), restart from the minimum only after the healthy period, and the error
    must name the limit."""
    connections = 0
    release = asyncio.Event()

    async def hostile(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        n = connections
        [(_, sid)] = await answer_subscriptions(ws, 1)
        slot = 1_000
        while n == 5 and not release.is_set():  # a healthy stretch, until released
            slot += 1
            await ws.send(slot_notification(sid, slot))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(release.wait(), 0.005)
        await ws.send("x" * (FRAME_LIMIT + 1))
        await ws.wait_closed()

    cfg = _limited(transport, 0.002, 60.0, healthy_after_s=0.2, open_timeout_s=10.0)
    async with ws_server(hostile) as url:
        async with _running(url, "hostile", _ingest(eng), cfg) as (worker, counters):
            # the fifth connection is streaming: its healthy period resets the backoff
            await until(lambda: worker.connects == 5 and worker.attempt == 0)
            assert list(worker.backoffs) == [0.002, 0.004, 0.008, 0.016]
            release.set()
            await until(lambda: len(worker.backoffs) >= 7)
    caps = list(worker.backoffs)[:7]
    assert caps == [0.002, 0.004, 0.008, 0.016, 0.002, 0.004, 0.008], caps
    assert counters.reconnects >= 7
    assert "frame of more than 64 KiB refused; raise it with --max-frame-mb" in counters.last_error
    assert counters.oversize >= 1
    assert "no close frame" not in counters.last_error


async def test_an_oversize_frame_is_counted_and_worded_once_without_a_traceback(
    eng: types.ModuleType,
    transport: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three connections, each sent one frame over the limit: three counted as oversize,
    the feed's one rate-limited line, and no record with a traceback — picows kept its
    refusal in a future nobody read, which asyncio logged, traceback and all, as "Future
    exception was never retrieved" once the future was collected (one per frame).
    picows' own logger is left out: the app sets it to CRITICAL (arbscope.logs)."""

    async def hostile(ws: ServerConnection) -> None:
        await answer_subscriptions(ws, 1)
        await ws.send("x" * (FRAME_LIMIT + 1))
        await ws.wait_closed()

    cfg = _limited(transport, 0.002, 0.004)
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(feeds_health, "LOG_EVERY_S", 3600.0)  # one line, however slow the run
    async with ws_server(hostile) as url:
        async with _running(url, "hostile", _ingest(eng), cfg) as (worker, counters):
            await until(lambda: counters.reconnects >= 3)
    del worker
    gc.collect()  # an unread future's error is logged when the future is collected
    await asyncio.sleep(0)
    assert counters.oversize >= 3
    records = [r for r in caplog.records if not r.name.startswith("picows")]
    assert not [r for r in records if r.exc_info or "never retrieved" in r.getMessage()]
    lines = [r.getMessage() for r in records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and "feed hostile" in lines[0] and "64 KiB refused" in lines[0]


async def test_a_close_by_the_endpoint_is_worded_with_its_code_and_reason(
    eng: types.ModuleType, transport: str
) -> None:
    async def closes(ws: ServerConnection) -> None:
        await answer_subscriptions(ws, 1)
        await ws.close(4000, "too many subscriptions")

    cfg = WorkerConfig(
        backoff_min_s=0.002, backoff_max_s=0.01, stale_after_s=30.0, transport=transport
    )
    async with ws_server(closes) as url:
        async with _running(url, "closes", _ingest(eng), cfg) as (_worker, counters):
            await until(lambda: counters.reconnects >= 1)
    assert "closed by the endpoint (4000" in counters.last_error
    assert "too many subscriptions" in counters.last_error


async def test_a_fragmented_message_is_read_whole_and_held_to_the_limit_as_a_whole(
    eng: types.ModuleType, transport: str
) -> None:
    """RFC 6455 §5.4: a message may come in several frames. A slot notification in three
    fragments reaches the ingest as one message; then a message whose fragments are each
    under the limit but together over it is refused like a single frame over it."""
    done = asyncio.Event()

    async def fragments(ws: ServerConnection) -> None:
        [(_, sid)] = await answer_subscriptions(ws, 1)
        text = slot_notification(sid, 4_242)
        third = len(text) // 3
        await ws.send([text[:third], text[third : 2 * third], text[2 * third :]])
        piece = "x" * (FRAME_LIMIT // 2)
        await ws.send([piece, piece, piece])  # each under the limit, 1.5 times it in all
        await ws.wait_closed()
        done.set()

    cfg = _limited(transport, 5.0, 5.0)
    ing = _ingest(eng)
    async with ws_server(fragments) as url:
        async with _running(url, "fragments", ing, cfg) as (_worker, counters):
            await until(lambda: counters.oversize >= 1 and done.is_set())
    # the answer, then the slot notification read whole (one message, one slot vote)
    stats = ing.stats()  # type: ignore[attr-defined]
    assert counters.messages == 2 and stats.frames == 2 and stats.slots == 1
    assert counters.malformed == 0
    assert "frame of more than 64 KiB refused; raise it with --max-frame-mb" in counters.last_error


@pytest.mark.slow
@pytest.mark.parametrize("pongs", [False, True])
async def test_an_unanswered_heartbeat_closes_the_connection_an_answered_one_does_not(
    eng: types.ModuleType, transport: str, pongs: bool
) -> None:
    """The endpoint streams slots (the stall watchdog stays quiet) but never answers a
    ping: only the heartbeat can tell the path is dead, and it closes the connection
    ("no pong within"). The control answers every ping: pings come and go, the one
    connection stays."""
    pings = 0

    async def server(peer: RawPeer) -> None:
        nonlocal pings
        req = await peer.request()
        await peer.send(ack(req, 100))

        # the stream: a slot notification at once and one beside every ping (the path
        # carries data all along; only a pong answers a ping)
        slot = 1_001
        await peer.send(slot_notification(100, slot))
        while True:
            op, data = await peer.recv()
            if op == 0x9:  # a ping
                pings += 1
                slot += 1
                await peer.send(slot_notification(100, slot))
                if pongs:
                    await peer.send(data, opcode=0xA)
            elif op == 0x8:  # a close: answered, as RFC 6455 §5.5.1 asks
                await peer.send(data, opcode=0x8)
                return

    cfg = _pinging(transport)
    async with raw_ws_server(server) as url:
        async with _running(url, "no-pong", _ingest(eng), cfg) as (worker, counters):
            if pongs:  # three heartbeats answered
                await until(lambda: pings >= 3)
            else:
                await until(lambda: counters.reconnects >= 1)
    if pongs:
        assert worker.connects == 1 and counters.reconnects == 0 and counters.last_error == ""
    else:
        assert pings >= 1 and counters.messages > 1  # streaming, and pinged, all along
        assert "no pong within 0.5 s; reconnecting" in counters.last_error


@pytest.mark.slow
async def test_a_pong_behind_a_stream_of_messages_keeps_the_connection(
    eng: types.ModuleType, transport: str
) -> None:
    """A live peer whose pong comes after a heartbeat's wait, behind the messages it
    sends meanwhile (a reader behind a busy feed sees exactly this: the pong queued
    behind notifications), is not dropped: its connection stays through several such
    pings (:data:`BEHIND_PINGS`), while a peer that never answers is (the test above)."""
    pings = 0
    loop = asyncio.get_running_loop()

    async def server(peer: RawPeer) -> None:
        nonlocal pings
        req = await peer.request()
        await peer.send(ack(req, 100))
        slot = 1_001
        while True:
            op, data = await peer.recv()
            if op == 0x9:  # a ping: answered after a stream longer than the heartbeat
                pings += 1
                until_s = loop.time() + 0.8
                while loop.time() < until_s:
                    slot += 1
                    await peer.send(slot_notification(100, slot))
                    await asyncio.sleep(0.02)  # the peer's pace, not a synchronisation
                await peer.send(data, opcode=0xA)
            elif op == 0x8:
                await peer.send(data, opcode=0x8)
                return

    cfg = _pinging(transport)
    async with raw_ws_server(server) as url:
        async with _running(url, "late-pong", _ingest(eng), cfg) as (worker, counters):
            await until(lambda: pings >= 5 or counters.reconnects >= 1)
    assert counters.reconnects == 0 and worker.connects == 1, counters.last_error
    assert counters.messages > pings


class _Handed:
    """The engine's ingest, noting the slot of each message handed to it and the turns
    the event loop takes after each (a callback each message asks the loop for)."""

    def __init__(self, eng: types.ModuleType) -> None:
        self.inner: Any = _ingest(eng)
        self.log: list[object] = []
        self.reading: list[bool] = []  # picows: whether the socket was read meanwhile
        self.worker: PubSubWorker | None = None
        self.until_slot = 0  # the slot that sets ``reached``
        self.reached = asyncio.Event()

    def frame(self, ep: int, raw: bytes | memoryview, now: int) -> int:
        msg = json.loads(bytes(raw))
        slot = msg.get("params", {}).get("result", {}).get("slot")
        self.log.append(slot)
        asyncio.get_running_loop().call_soon(self.log.append, "turn")
        ws = self.worker._ws if self.worker is not None else None
        if isinstance(ws, transport_module._PicowsConnection) and ws.transport is not None:
            if not self.reached.is_set():  # (the connection open all along)
                self.reading.append(ws.transport.underlying_transport.is_reading())
        if slot == self.until_slot:
            self.reached.set()
        return int(self.inner.frame(ep, raw, now))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize("backlog_bytes", [0, transport_module.BACKLOG_BYTES])
async def test_a_read_of_many_messages_is_handed_over_in_order_a_slice_per_loop_step(
    eng: types.ModuleType, transport: str, backlog_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages that came in one socket read (a backlog after the loop was held) are
    handed over for ``read_slice_s`` at a time, the loop taking its turn (keys, redraws,
    the other endpoints) between slices — with a slice of nothing, a turn after every
    message —, in the order they came; the endpoint's close behind them is raised only
    once every one before it was handed over. With picows, the socket is not read while
    the backlog is over ``BACKLOG_BYTES``, and read on under it."""
    monkeypatch.setattr(transport_module, "BACKLOG_BYTES", backlog_bytes)
    n = 40
    first = 5_001

    async def server(peer: RawPeer) -> None:
        req = await peer.request()
        await peer.send(ack(req, 100))
        burst = [server_frame(slot_notification(100, first + i)) for i in range(n)]
        await peer.send_at_once(burst[: n // 2])  # half, then the rest and a close behind it
        await ing.reached.wait()
        await peer.send_at_once([*burst[n // 2 :], server_frame(bytes((0x0F, 0xA0)) + b"bye", 0x8)])
        with contextlib.suppress(asyncio.IncompleteReadError):
            while (await peer.recv())[0] != 0x8:  # until the client echoes the close
                pass

    ing = _Handed(eng)
    ing.until_slot = first + n // 2 - 1
    cfg = WorkerConfig(
        backoff_min_s=5.0,
        backoff_max_s=5.0,
        stale_after_s=30.0,
        transport=transport,
        read_slice_s=0.0,
    )
    async with raw_ws_server(server) as url:
        counters = HealthCounters(0, "burst", url)
        worker = PubSubWorker(0, url, [slot_subscription()], ing, counters, cfg)  # type: ignore[arg-type]
        ing.worker = worker
        task = asyncio.create_task(worker.run())
        try:
            await until(lambda: counters.reconnects >= 1)
            # the first half, the connection open: the socket not read while they were
            # handed over, or read on under the limit (20 messages: far under it)
            if transport == "picows" and backlog_bytes == 0:
                assert ing.reading.count(False) >= n // 2 - 1, ing.reading
            elif transport == "picows":
                assert len(ing.reading) >= n // 2 and all(ing.reading), ing.reading
            slots = [s for s in ing.log if isinstance(s, int)]
            # every message before the close, in order, before the close was raised
            assert slots == list(range(first, first + n))
            assert "closed by the endpoint (4000" in counters.last_error
            # the loop turned between every two of them (one read brought them all)
            at = [i for i, s in enumerate(ing.log) if isinstance(s, int)]
            between = [ing.log[a + 1 : b] for a, b in itertools.pairwise(at)]
            assert all("turn" in step for step in between), ing.log
        finally:
            await worker.stop()
            await asyncio.wait_for(task, 30)


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        (bytes((0x83, 0x00)), "an opcode RFC 6455 reserves"),
        (bytes((0x81, 0x82)) + bytes(4) + b"{}", "a masked frame from a server"),
        (bytes((0x09, 0x00)), "a fragmented ping"),
    ],
)
async def test_a_frame_no_server_may_send_closes_the_connection_with_a_protocol_error(
    eng: types.ModuleType, transport: str, frame: bytes, why: str
) -> None:
    """RFC 6455 §5.1, §5.2, §5.5: the client closes with 1002 and reconnects, and
    nothing reached the ingest from the bad frame. websockets hands over the message
    before it; picows, which parses one frame ahead, drops a message that came in the
    same read as a bad frame (the connection is lost either way, and the pool fetches
    the watched accounts again once the endpoint is back)."""
    sent = 0

    async def server(peer: RawPeer) -> None:
        nonlocal sent
        req = await peer.request()
        await peer.send(ack(req, 100))
        await peer.send(slot_notification(100, 7_000 + sent))
        sent += 1
        peer.writer.write(frame)
        await peer.writer.drain()
        while True:
            op, data = await peer.recv()
            if op == 0x8:
                await peer.send(data, opcode=0x8)
                return

    cfg = WorkerConfig(
        backoff_min_s=0.01, backoff_max_s=0.02, stale_after_s=30.0, transport=transport
    )
    ing = _ingest(eng)
    async with raw_ws_server(server) as url:
        async with _running(url, "hostile", ing, cfg) as (_worker, counters):
            await until(lambda: counters.reconnects >= 2)
    assert "closed by us (1002 (protocol error)" in counters.last_error, why
    assert counters.malformed == 0 and counters.oversize == 0
    slots = ing.stats().slots  # type: ignore[attr-defined]
    assert slots == sent if transport == "websockets" else slots <= sent


# ------------------------------------------------------------------ HTTP answers
KEYED = "?api-key=Zq8RkT4mW2nX7pL1vB6cH3dJ"  # a key in the URL: must never be shown


@pytest.mark.slow
async def test_an_answer_announced_over_the_limit_is_refused_before_it_is_read() -> None:
    """The issue's 200 MB answer, announced by Content-Length: refused at once with the
    default limit (it never arrives; without the check the client waits for it)."""
    sent = 0

    async def huge(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.content_length = 200 << 20
        await resp.prepare(request)
        await resp.write(b" " * (1 << 20))
        sent += 1 << 20
        # the rest never comes: a client that waits for it hangs until its timeout (the
        # server's shutdown ends this handler)
        await asyncio.Event().wait()
        return resp

    async with http_server(huge) as url:
        async with RpcClient(url + KEYED, timeout_s=60.0) as rpc:
            async with asyncio.timeout(30):
                with pytest.raises(RpcError) as err:
                    await rpc.get_slot()
    text = str(err.value)
    assert (
        "an answer of 200 MiB refused, over the 64 MiB limit; raise it with --max-frame-mb" in text
    )
    assert "getSlot at http://127.0.0.1:" in text and "api-key=***" in text
    assert "Zq8Rk" not in text


async def test_a_chunked_answer_is_cut_off_at_the_limit() -> None:
    """No Content-Length: the client counts while reading, stops at the limit and closes
    the connection — the server cannot send the rest."""
    chunks_sent, total_chunks = 0, 1_000  # 64 MiB in 64 KiB chunks, against a 1 MiB limit

    async def chunked(request: web.Request) -> web.StreamResponse:
        nonlocal chunks_sent
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        with contextlib.suppress(ConnectionError):
            for _ in range(total_chunks):
                await resp.write(b" " * (64 << 10))
                chunks_sent += 1
        return resp

    async with http_server(chunked) as url:
        async with RpcClient(url + KEYED, max_answer_bytes=1 << 20) as rpc:
            async with asyncio.timeout(30):
                with pytest.raises(RpcError) as err:
                    await rpc.get_slot()
    text = str(err.value)
    assert "an answer of more than 1 MiB refused; raise it with --max-frame-mb" in text
    assert "api-key=***" in text and "Zq8Rk" not in text
    assert chunks_sent < total_chunks


async def test_a_large_answer_is_parsed_and_decoded_with_the_loop_turning_between_accounts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A getProgramAccounts answer over the slicing threshold (3,000 accounts, 2 MiB),
    slices of 0 s: between the body's last byte and the first account's decoding (the
    parse) the loop's other tasks ran at least once per account, and again between
    every two accounts' decoding (turns counted, not time) — and the accounts decode
    byte for byte. (Parsed in a thread, as before, the JSON parser held the GIL
    from the first byte to the last and nothing else ran: ``/health`` waited 0.6-3 s
    for a 63 MiB answer, bench.rpc_parse.)"""
    n = 3000
    datas = [i.to_bytes(4, "little") * 100 for i in range(n)]
    keys = [f"{i:044d}" for i in range(n)]

    async def accounts(request: web.Request) -> web.StreamResponse:
        req = await request.json()
        value = [
            {
                "pubkey": k,
                "account": {
                    "data": [base64.b64encode(d).decode(), "base64"],
                    "owner": "o" * 43,
                    "lamports": i,
                    "executable": False,
                    "rentEpoch": 0,
                    "space": len(d),
                },
            }
            for i, (k, d) in enumerate(zip(keys, datas))
        ]
        return web.json_response(
            {"jsonrpc": "2.0", "id": req["id"], "result": {"context": {"slot": 77}, "value": value}}
        )

    turns = 0
    read_at: list[int] = []
    sizes: list[int] = []

    async def spin() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    read, account = RpcClient._read, rpc_module._account
    decoded_at: list[int] = []

    def decode(v: dict[str, object], slot: int) -> rpc_module.RawAccount:
        decoded_at.append(turns)
        return account(v, slot)

    monkeypatch.setattr(rpc_module, "_account", decode)

    async def noted(self: RpcClient, resp: object, where: str) -> bytearray:
        raw = await read(self, resp, where)  # type: ignore[arg-type]
        read_at.append(turns)
        sizes.append(len(raw))
        return raw

    monkeypatch.setattr(RpcClient, "_read", noted)
    monkeypatch.setattr(rpc_module, "SLICE_S", 0.0, raising=False)
    spinner = asyncio.create_task(spin())
    try:
        async with http_server(accounts) as url, RpcClient(url) as rpc:
            async with asyncio.timeout(60):
                got = await rpc.get_program_accounts(
                    "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", compress=False
                )
    finally:
        spinner.cancel()
    assert sizes[0] > 2 << 20
    assert {k: (a.data, a.lamports, a.slot) for k, a in got.items()} == {
        k: (d, i, 77) for i, (k, d) in enumerate(zip(keys, datas))
    }
    assert len(read_at) == 1 and len(decoded_at) == n
    assert decoded_at[0] - read_at[0] >= n  # the parse
    assert all(a < b for a, b in itertools.pairwise(decoded_at))  # the decoding
    assert gc.isenabled()  # held off while the answer was parsed, not after


async def test_a_large_answer_that_is_not_json_is_an_rpc_error() -> None:
    """Cut short past the threshold: the call's RpcError, the collector running again."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": ["x" * 1000] * 3000})[:-5]

    async def broken(request: web.Request) -> web.StreamResponse:
        return web.Response(text=body, content_type="application/json")

    async with http_server(broken) as url, RpcClient(url) as rpc:
        with pytest.raises(RpcError, match="the answer is not JSON"):
            await rpc.call("getPadding")
    assert gc.isenabled()


async def test_a_large_account_snapshot_decodes_exactly_in_slices() -> None:
    """getMultipleAccounts over the threshold (100 accounts of 20 KiB): decoded in
    slices, byte for byte."""
    datas = [bytes([i]) * (20 << 10) for i in range(100)]

    async def accounts(request: web.Request) -> web.StreamResponse:
        req = await request.json()
        value = [
            {
                "data": [base64.b64encode(d).decode(), "base64"],
                "owner": "o" * 32,
                "lamports": i,
                "executable": False,
                "rentEpoch": 0,
                "space": len(d),
            }
            for i, d in enumerate(datas)
        ]
        return web.json_response(
            {"jsonrpc": "2.0", "id": req["id"], "result": {"context": {"slot": 77}, "value": value}}
        )

    keys = [f"key{i}" for i in range(100)]
    async with http_server(accounts) as url, RpcClient(url) as rpc:
        async with asyncio.timeout(60):
            got = await rpc.get_multiple_accounts(keys)
    assert [a.data if (a := got[k]) else None for k in keys] == datas
    assert {a.slot for a in got.values() if a} == {77}


# ------------------------------------------------------------------ a hanging HTTP endpoint
SIM = WorldConfig(seed=5, tokens=8, pools=16, trades_per_slot=10)


@pytest.mark.slow
async def test_a_hanging_endpoint_first_costs_one_hedge_not_a_timeout_per_round(
    eng: types.ModuleType,
) -> None:
    """The hanging endpoint is asked first (it is first in the configuration), the
    healthy one after the hedge delay; the snapshot's three rounds all come from the
    healthy one, the hanging one is asked once and its request abandoned. Its timeout
    (60 s) is the failure mode: waiting for it would pass the test's 30 s."""
    hanging = Hanging()
    async with (
        SimServer(SIM, default_profiles(1), slot_seconds=0.05) as sim,
        http_server(hanging) as slow,
    ):
        info = sim.infos()[0]
        eps = [Endpoint("hangs", info.ws_url, slow), Endpoint("sim", info.ws_url, info.http_url)]
        graph = eng.PoolGraph(base_mints=sim.world.bases, max_hops=3)
        pool = FeedPool(eps, eng.FeedIngest(graph), eng, rpc_timeout_s=60.0)
        async with asyncio.timeout(30):
            boot = await pool.bootstrap(sim.world.universe())
            await until(lambda: hanging.gone == hanging.requests)
    assert boot.endpoint == "sim" and boot.pools == len(sim.world.pools) and not boot.missing
    assert hanging.requests == 1 and hanging.gone == 1


async def test_stop_during_a_hanging_start_cancels_it(tmp_path: Path) -> None:
    """The only HTTP endpoint never answers: stop() must cancel the start's request at
    once (the start ends stopped, not failed on the endpoint's timeout) and close the
    journal it opened."""
    hanging = Hanging()
    async with (
        SimServer(SIM, default_profiles(1), slot_seconds=0.05) as sim,
        http_server(hanging) as slow,
    ):
        s = sim_session(
            sim,
            [Endpoint("hangs", sim.infos()[0].ws_url, slow)],
            record=RecordSettings(tmp_path / "j.sqlite"),
        )
        starting = asyncio.create_task(s.start())
        async with asyncio.timeout(30):
            await until(lambda: hanging.requests == 1)
            await s.stop()
            await starting
            await until(lambda: hanging.gone == 1)
    assert s.start_error == "" and s.feeds.pool is not None and not s.feeds.pool.workers
    assert s.recorder is None and s.journal is None and s.session_id  # closed
    async with await Journal.open(tmp_path / "j.sqlite", create=False) as j:
        assert (await j.session(s.session_id)).complete


@pytest.mark.slow
async def test_a_session_beside_a_hanging_endpoint_starts_polls_fees_and_stops(
    tmp_path: Path,
) -> None:
    """Hanging endpoint first, the simulator second: the session gets its pools and its
    fee samples from the simulator, asks the hanging one only once, and stops."""
    hanging = Hanging()
    async with (
        SimServer(SIM, default_profiles(1), slot_seconds=0.05) as sim,
        http_server(hanging) as slow,
    ):
        info = sim.infos()[0]
        s = sim_session(
            sim, [Endpoint("hangs", info.ws_url, slow), Endpoint("sim", info.ws_url, info.http_url)]
        )
        async with asyncio.timeout(60):
            await s.start()
            try:
                await until(lambda: s.fees.estimator.newest_slot is not None)
            finally:
                await s.stop()
    assert s.start_error == "" and s.feeds.boot is not None and s.feeds.boot.endpoint == "sim"
    assert s.feeds.boot.pools == len(sim.world.pools)
    assert hanging.requests == 1


# ------------------------------------------------------------------ a clean stop
async def test_a_stop_unsubscribes_each_subscription_once_though_an_update_lands_meanwhile(
    eng: types.ModuleType, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The pool's follow() may update a worker's set while its stop() waits for the
    unsubscribes' answers (the maintenance task runs until the workers have stopped):
    the update used to unsubscribe again what the stop had just unsubscribed, and the
    simulator, as a node, refused it — "-32602 Invalid subscription id", a warning per
    endpoint at every such shutdown (`make bench` printed them). Now nothing is sent on
    a connection being stopped but the stop's own unsubscribes, and the stop closes as
    soon as they are answered (its wait here: up to 30 s)."""
    keys = [
        "11111111111111111111111111111111",
        "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
        "SysvarC1ock11111111111111111111111111111111",
    ]
    subs = [slot_subscription(), *(account_subscription(k) for k in keys)]
    cfg = WorkerConfig(unsubscribe_wait_s=30.0, stale_after_s=30.0, transport=transport)
    caplog.set_level(logging.DEBUG)
    async with SimServer(SIM, default_profiles(1), slot_seconds=0.05) as sim:
        info = sim.infos()[0]
        counters = HealthCounters(0, "sim", info.ws_url)
        worker = PubSubWorker(0, info.ws_url, subs, _ingest(eng), counters, cfg)  # type: ignore[arg-type]
        task = asyncio.create_task(worker.run())
        async with asyncio.timeout(60):
            await until(lambda: counters.subscriptions == len(subs))
            stopping = asyncio.create_task(worker.stop())
            await until(worker._stopping.is_set)
            await worker.update(subs[:1])  # the accounts dropped, as follow() would
            await stopping
            await task
    assert counters.last_error == "" and counters.malformed == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_clean_stop_of_a_session_against_the_simulator_logs_no_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A session on the embedded simulator (three endpoints, slots of 50 ms), run and
    stopped: not a warning in the log."""
    caplog.set_level(logging.INFO)
    s = sources.session(
        sources.Watch(seed=5), sources.Evaluation(shadow=False), sim=sources.SimSettings(world=SIM)
    )
    async with asyncio.timeout(60):
        await s.start()
        try:
            # every endpoint subscribed and streaming (the session is not run: no ticks)
            await until(
                lambda: (
                    s.feeds.pool is not None
                    and all(h.subscriptions and h.messages > 10 for h in s.feeds.pool.health())
                )
            )
        finally:
            await s.stop()
    assert s.start_error == ""
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_nothing_is_written_to_a_socket_that_is_closing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The socket under a picows connection is closing (the peer hung up, or it failed)
    and picows has not heard yet (it does a turn of the loop later): a send raises the
    connection's end at once, a reply waiting in the outbox is dropped, and nothing is
    written — the socket would drop each write and, past the fifth, log a warning per
    write (41 reconnects of a 10-minute soak at 3,000 pools logged 84)."""
    from feeds.clients.transport import Closed, Options, connect

    async def quiet(ws: ServerConnection) -> None:
        await ws.wait_closed()

    opts = Options(open_timeout_s=5.0, heartbeat_s=30.0, max_frame_bytes=FRAME_LIMIT)
    with caplog.at_level(logging.WARNING):
        async with ws_server(quiet) as url, connect("picows", url, opts) as conn:
            t = conn.transport  # type: ignore[attr-defined]
            t.underlying_transport.close()
            assert not t.is_disconnected  # (picows is told on the loop's next turn)
            for i in range(12):
                with pytest.raises(Closed):
                    await conn.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": "x"}))
            conn.outbox = ["a reply", "another"]  # type: ignore[attr-defined]
            conn.flush()  # type: ignore[attr-defined]
            assert conn.outbox == []  # type: ignore[attr-defined]
    said = [r.getMessage() for r in caplog.records if "after connection lost" in r.getMessage()]
    assert said == []

"""Transport limits against hostile servers on loopback: oversized PubSub frames (the
backoff and the message), oversized or slow HTTP answers (bounded, parsed off the
loop), a hanging HTTP endpoint at start-up and at stop."""

from __future__ import annotations

import asyncio
import types

from websockets.asyncio.server import ServerConnection

from feeds.health import HealthCounters
from feeds.protocol import slot_subscription
from feeds.pubsub import PubSubWorker, WorkerConfig

from .hostile import answer_subscriptions, slot_notification, until, ws_server

FRAME_LIMIT = 64 << 10  # the worker's max_frame_bytes in these tests


def _ingest(eng: types.ModuleType) -> object:
    graph = eng.PoolGraph(base_mints=[], max_hops=3)
    cls = getattr(eng, "FeedIngest", None)
    if cls is None:
        from engine_rs.python.ingest import FeedIngest as cls
    return cls(graph)


async def test_oversized_frames_back_off_harder_until_a_healthy_period_and_name_the_limit(
    eng: types.ModuleType,
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
        while n == 5 and not release.is_set():  # a healthy stretch
            slot += 1
            await ws.send(slot_notification(sid, slot))
            await asyncio.sleep(0.005)
        await ws.send("x" * (FRAME_LIMIT + 1))
        await ws.wait_closed()

    cfg = WorkerConfig(backoff_min_s=0.002, backoff_max_s=60.0, healthy_after_s=0.2,
                       max_frame_bytes=FRAME_LIMIT, stale_after_s=30.0, open_timeout_s=10.0)  # fmt: skip
    async with ws_server(hostile) as url:
        counters = HealthCounters(0, "hostile", url)
        worker = PubSubWorker(0, url, [slot_subscription()], _ingest(eng), counters, cfg)  # type: ignore[arg-type]
        task = asyncio.create_task(worker.run())
        try:
            # the fifth connection is streaming: its healthy period resets the backoff
            await until(lambda: worker.connects == 5 and worker.attempt == 0)
            assert list(worker.backoffs) == [0.002, 0.004, 0.008, 0.016]
            release.set()
            await until(lambda: len(worker.backoffs) >= 7)
        finally:
            await worker.stop()
            await asyncio.wait_for(task, 30)
    caps = list(worker.backoffs)[:7]
    assert caps == [0.002, 0.004, 0.008, 0.016, 0.002, 0.004, 0.008], caps
    assert counters.reconnects >= 7
    assert "frame of more than 64 KiB refused (max_frame_bytes)" in counters.last_error
    assert "no close frame" not in counters.last_error


async def test_a_close_by_the_endpoint_is_worded_with_its_code_and_reason(
    eng: types.ModuleType,
) -> None:
    async def closes(ws: ServerConnection) -> None:
        await answer_subscriptions(ws, 1)
        await ws.close(4000, "too many subscriptions")

    cfg = WorkerConfig(backoff_min_s=0.002, backoff_max_s=0.01, stale_after_s=30.0)
    async with ws_server(closes) as url:
        counters = HealthCounters(0, "closes", url)
        worker = PubSubWorker(0, url, [slot_subscription()], _ingest(eng), counters, cfg)  # type: ignore[arg-type]
        task = asyncio.create_task(worker.run())
        try:
            await until(lambda: counters.reconnects >= 1)
        finally:
            await worker.stop()
            await asyncio.wait_for(task, 30)
    assert "closed by the endpoint (4000" in counters.last_error
    assert "too many subscriptions" in counters.last_error

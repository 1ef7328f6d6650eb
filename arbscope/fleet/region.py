"""A consumer's side: :class:`RegionFeed` applies one region's stream to an engine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
)

from engine_rs.errors import EngineError
from feeds.health import HealthCounters, clip
from storage.codec import HEADER, Input, Kind, decompress
from storage.journal import JournalError

from ..inputs import consume
from ..ports import Ingest, StreamInputs
from .streams import (
    ACK_EVERY,
    ACK_WAIT_S,
    FETCH,
    FETCH_BYTES,
    LATENCY_SAMPLES,
    MAX_ACK_PENDING,
    PULL_EXPIRES_S,
    Retention,
    ensure_stream,
    stream_name,
    wall_offset_ns,
)

log = logging.getLogger("arbscope.fleet")  # (the package's one logger)

_FRAME, _GRPC, _KINDS = int(Kind.FRAME), int(Kind.GRPC), frozenset(int(k) for k in Kind)


# ------------------------------------------------------------------ the consumer side
@dataclass
class RegionStats:
    """One region's stream as this consumer sees it."""

    region: str
    connected: bool = False
    run: str = ""
    runs: int = 0  # collector runs met (a restarted collector starts a new one)
    batches: int = 0  # applied
    frames: int = 0
    inputs: int = 0
    skipped: int = 0  # batches stored twice (a resend past the duplicate window): applied once
    redelivered: int = 0  # messages delivered again (applied already: passed over)
    gaps: int = 0  # holes in a run's batch sequence
    gap_batches: int = 0  # batches in them
    lost: int = 0  # stream messages gone before they were read (retention)
    resets: int = 0  # the consumer started again at the next stream sequence
    damaged: int = 0  # batches that could not be read (their codec, their bytes)
    held: int = 0  # batches stored ahead of one not yet stored (a resend after a reconnect)
    stale_run: int = 0  # batches of an older run after a newer one started
    pending: int = 0  # messages in the stream this consumer has not fetched (server's count)
    last_stream_seq: int = 0  # the stream sequence of the last message applied
    next_seq: int = 0  # the run's next batch sequence
    last_error: str = ""
    last_message_ns: int | None = None
    latency_ns: deque[int] = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))
    applied_by_run: dict[str, int] = field(default_factory=dict)  # batches applied per run

    def latency_ms(self, q: float) -> float | None:
        """The ``q`` quantile of collector receive -> applied here (ms), recent frames
        (since the consumer caught up with the backlog it started with)."""
        return self.latency_quantiles_ms((q,))[0]

    def latency_quantiles_ms(self, qs: Sequence[float]) -> list[float | None]:
        """:meth:`latency_ms` of each of ``qs``, from one sort of the samples (the feeds'
        rows ask for p50 and p99 every turn)."""
        if not self.latency_ns:
            return [None] * len(qs)
        xs = sorted(self.latency_ns)
        return [xs[min(len(xs) - 1, int(q * len(xs)))] / 1e6 for q in qs]


class RegionFeed:
    """One region's stream applied to ``ingest``, every message once, in the order the
    stream holds them (see the module doc).

    The stream sequence is the consumer's own cursor: a message at or below the last
    one applied was delivered again and is passed over; one past the next means the
    delivery skipped some (a pull answer lost when the server or the connection died),
    and the consumer starts again at the next sequence (the durable consumer re-created
    there, on a fresh inbox, so nothing of the old one's deliveries is taken for new).
    What the stream no longer holds there (its retention dropped it before it was read)
    is counted as ``lost``, and shows as a gap in the run's batch sequence. Within a run
    the batches are applied in their own sequence (held when stored ahead, a gap when
    below the floor). No wait on a clock decides anything: a consumer far behind
    catches up, it never gives up."""

    def __init__(
        self,
        js: JetStreamContext,
        region: str,
        ingest: Ingest | None,
        endpoint_of: Callable[[str], int],
        consumer: str,
        retention: Retention,
        *,
        nc: NATS,
        inputs: StreamInputs | None = None,
        counters: Callable[[int], HealthCounters | None] | None = None,
    ) -> None:
        self.js, self.region, self.ingest = js, region, ingest
        self._nc = nc  # the connection of ``js`` (the pull requests and their inbox)
        self.endpoint_of = endpoint_of  # "region/name" -> the session's endpoint index
        self.consumer, self.retention = consumer, retention
        # the collector's own inputs: its fee samples, the pools it covers nowhere, the
        # token names it read (arbscope.inputs: what a collector publishes)
        self.inputs = inputs
        self.counters = counters  # endpoint index -> its HealthCounters (messages, ...)
        self.stats = RegionStats(region)
        self.stream = stream_name(region)
        self._map: list[int] = []  # ours, by the run's endpoint index
        # batches ahead of the run's next, by sequence: (bytes, codec, raw length)
        self._held: dict[int, tuple[bytes, str, int]] = {}
        self._applied_sseq = 0  # the stream sequence of the last message applied
        self._task: asyncio.Task[None] | None = None
        self._sub: Subscription | None = None
        self._gen = 0  # the consumer's generation: each start again has its own inbox
        self._fresh = False  # nothing delivered yet since the consumer started again
        self._restart = False  # the delivery skipped: start again at the next sequence
        self._answered = asyncio.Event()  # the current pull request is over
        self._got = 0  # messages delivered for the current pull request
        self._unacked: Msg | None = None  # the last message applied, not yet acknowledged
        self._n_unacked = 0
        self._heard = 0.0  # when the server last said anything to the pull request
        self.offset_ns = wall_offset_ns()
        self.hello: dict[str, Any] | None = None
        self.caught_up = False  # the backlog at the start has been read
        self._stopping = False
        self.applied_event = asyncio.Event()  # set after each applied message (tests, bench)

    async def latest_hello(self) -> tuple[int, dict[str, Any]] | None:
        """The region's newest collector run start: (stream sequence, body), or None."""
        try:
            m = await self.js.get_last_msg(self.stream, f"arbscope.{self.region}.hello")
        except nats.js.errors.NotFoundError:
            return None
        return int(m.seq or 0), json.loads(m.data or b"{}")

    async def start(self) -> None:
        await ensure_stream(self.js, self.stream, [f"arbscope.{self.region}.>"], self.retention)
        found = await self.latest_hello()
        if found is not None:
            self.hello = found[1]
            # a fresh engine needs the run's snapshot: from the latest hello on
            self._applied_sseq = found[0] - 1
        else:
            info = await self.js.stream_info(self.stream)
            self._applied_sseq = max(int(info.state.first_seq or 1), 1) - 1
        self._next = f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self.consumer}"
        await self._begin()
        self.stats.connected = True
        self._task = asyncio.create_task(self._run(), name=f"consume-{self.region}")

    async def _begin(self) -> None:
        """The durable consumer (a pull consumer, acks up to a message) from the next
        stream sequence to apply, read on an inbox of its own generation. A durable of
        the same name (an earlier process's, or this one's before) is replaced."""
        nxt = self._applied_sseq + 1
        info = await self.js.stream_info(self.stream)
        first = int(info.state.first_seq or 0)
        if first > nxt:  # retention took them before they were read
            self._lose(first - nxt)
            nxt = first
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await self.js.delete_consumer(self.stream, self.consumer)
        cfg = ConsumerConfig(
            durable_name=self.consumer,
            ack_policy=AckPolicy.ALL,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=nxt,
            max_ack_pending=MAX_ACK_PENDING,
            inactive_threshold=3600.0,
            ack_wait=ACK_WAIT_S,
        )
        await self.js.add_consumer(self.stream, cfg)
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
        self._gen += 1
        gen = self._gen
        self._inbox = self._nc.new_inbox()

        async def on_msg(m: Msg) -> None:
            if gen == self._gen:
                await self._on_msg(m)

        # the messages applied as they arrive (the library's fetch() returns a batch only
        # once it is full or expired, which would hold a frame up to the expiry)
        self._sub = await self._nc.subscribe(
            self._inbox, cb=on_msg, pending_bytes_limit=4 * FETCH_BYTES
        )
        self._fresh, self._restart, self._unacked, self._n_unacked = True, False, None, 0

    def _lose(self, n: int) -> None:
        """``n`` stream messages gone before they were read."""
        self.stats.lost += n
        self._applied_sseq += n
        log.warning(
            "region %s: %d messages of stream %s were gone before they were read (its retention)",
            self.region,
            n,
            self.stream,
        )

    async def pause(self) -> None:
        """Stop reading (the durable consumer stays, the stream keeps what it holds)."""
        self._stopping = True
        self._gen += 1  # what the server still sends is not applied: read again on resume
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    def resume(self) -> None:
        self._stopping = False
        if self._task is None:
            self._restart = True
            self._task = asyncio.create_task(self._run(), name=f"consume-{self.region}")

    async def wait_applied(self, done: Callable[[], bool], timeout_s: float) -> None:
        """Until ``done()`` holds after an applied message (TimeoutError after ``timeout_s``)."""

        async def until() -> None:
            while not done():
                self.applied_event.clear()
                await self.applied_event.wait()

        await asyncio.wait_for(until(), timeout_s)

    async def stop(self) -> None:
        await self.pause()
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def _run(self) -> None:
        request = json.dumps(
            {
                "batch": FETCH,
                "max_bytes": FETCH_BYTES,
                "expires": int(PULL_EXPIRES_S * 1e9),
                "idle_heartbeat": int(PULL_EXPIRES_S / 4 * 1e9),
            }
        ).encode()
        polls = 0
        while not self._stopping:
            try:
                if self._restart:
                    await self._begin()
                    self.stats.resets += 1
                self._answered.clear()
                self._got = 0
                await self._nc.publish(self._next, request, reply=self._inbox)
                self._heard = time.monotonic()
                # over when FETCH came, the request expired, or the delivery skipped; no
                # word at all (heartbeats included) for twice the expiry: it was lost
                while not self._answered.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._answered.wait(), PULL_EXPIRES_S)
                    if time.monotonic() - self._heard > 2 * PULL_EXPIRES_S:
                        raise TimeoutError("the pull request had no answer")
                await self._ack()
                self.stats.connected = True
                polls += 1
                if self._got == 0 and polls % 4 == 0:
                    await self._pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server is away, the request lost: start again
                self.stats.connected = False
                self.stats.last_error = clip(f"{type(exc).__name__}: {exc}")
                self._restart = True
                await asyncio.sleep(0.2)  # a pause between attempts, not a sync point

    async def _on_msg(self, m: Msg) -> None:
        """One message on the inbox: a status of the pull request, or the stream's."""
        self._heard = time.monotonic()
        status = JetStreamContext.is_status_msg(m)
        if status:
            if status != "100":  # 100: the request still stands (idle heartbeat)
                self.stats.connected = status != "503"
                self._answered.set()  # 408 expired, 409 ...: ask again
            return
        self._got += 1
        if self._got >= FETCH:
            self._answered.set()
        md = m.metadata
        sseq = int(md.sequence.stream)
        if sseq <= self._applied_sseq:
            self.stats.redelivered += 1  # applied already (a redelivery)
            return
        if sseq > self._applied_sseq + 1:
            if not self._fresh:  # the delivery skipped some: from the next one again
                self._restart = True
                self._gen += 1
                self._answered.set()
                return
            # the first message of a consumer started at the next sequence is past it:
            # the ones between are not in the stream any more
            self._lose(sseq - self._applied_sseq - 1)
        self._fresh = False
        self._applied_sseq = sseq
        self._batch(sseq, m.subject, m.headers or {}, m.data)
        self.stats.pending = int(md.num_pending or 0)
        if not self.caught_up and not self.stats.pending:
            # the backlog read at the start (the run from its hello) is behind by design:
            # the latency shown is the live stream's, from here on
            self.caught_up = True
            self.stats.latency_ns.clear()
        self._unacked = m
        self._n_unacked += 1
        sub = self._sub
        if self._n_unacked >= ACK_EVERY or (sub is not None and sub.pending_msgs == 0):
            await self._ack()  # caught up, or every ACK_EVERY: acknowledged up to here
        self.applied_event.set()

    async def _ack(self) -> None:
        m, self._unacked, self._n_unacked = self._unacked, None, 0
        if m is not None:
            with contextlib.suppress(Exception):
                await m.ack()  # AckPolicy.ALL: everything up to it

    async def _pending(self) -> None:
        with contextlib.suppress(Exception):
            info = await self.js.consumer_info(self.stream, self.consumer)
            self.stats.pending = int(info.num_pending or 0)
            self.applied_event.set()

    def _batch(self, sseq: int, subject: str, h: dict[str, str], data: bytes) -> None:
        """One message of the stream (at stream sequence ``sseq``), in stream order."""
        st = self.stats
        st.last_stream_seq = sseq
        st.last_message_ns = time.monotonic_ns()
        run, seq = h.get("Arbscope-Run", ""), int(h.get("Arbscope-Seq", "-1"))
        if subject.endswith(".hello"):
            self._new_run(run, json.loads(data or b"{}"))
            return
        if run != st.run:
            st.stale_run += 1  # a late resend of a run that is over (or before any hello)
            return
        if seq < st.next_seq or seq in self._held:
            st.skipped += 1  # stored twice (resent past the duplicate window): applied once
            return
        self._held[seq] = (data, h.get("Arbscope-Codec", "none"), int(h.get("Arbscope-Raw", 0)))
        self._drain(int(h.get("Arbscope-Floor", seq)))

    def _drain(self, floor: int) -> None:
        """The run's batches in their order: those held that are next, and past those
        below ``floor`` that are not here (never stored: a gap)."""
        st = self.stats
        held = self._held
        while True:
            batch = held.pop(st.next_seq, None)
            if batch is not None:
                data, codec, raw_len = batch
                try:
                    self._apply(decompress(data, codec, raw_len or len(data)))
                except JournalError as exc:  # damaged: said, counted, passed over
                    st.damaged += 1
                    st.last_error = clip(f"batch {st.next_seq}: {exc}")
                st.next_seq += 1
                st.batches += 1
                st.applied_by_run[st.run] = st.applied_by_run.get(st.run, 0) + 1
            elif st.next_seq < floor:  # never stored (retention, the collector's outbox)
                nxt = min([k for k in held if k > st.next_seq] + [floor])
                st.gaps += 1
                st.gap_batches += nxt - st.next_seq
                log.warning(
                    "region %s: batches %d..%d of run %s are not in the stream (a gap)",
                    self.region,
                    st.next_seq,
                    nxt - 1,
                    st.run,
                )
                st.next_seq = nxt
            else:
                break
        st.held = len(held)

    def _new_run(self, run: str, body: dict[str, Any]) -> None:
        st = self.stats
        if run == st.run:
            st.skipped += 1
            return
        if self._held:  # the old run is over: what it still had to send never comes
            self._drain(max(self._held) + 1)
        for ours in set(self._map):
            with contextlib.suppress(EngineError):
                if self.ingest is not None:
                    self.ingest.unbind(ours)  # the old run's subscription ids mean nothing now
        self.hello = body
        names = list(body.get("endpoints", []))
        self._map = [self.endpoint_of(f"{self.region}/{n}") for n in names]
        st.run, st.next_seq, st.runs = run, 1, st.runs + 1
        log.info("region %s: collector run %s (%s)", self.region, run, ", ".join(names))

    def _apply(self, raw: bytes) -> None:
        """A batch's inputs (packed as the journal packs them), given to the ingest as
        the collector's feeds gave them (errors the live callers catch are caught here
        the same way). Runs of frames, nearly all of it, go to the ingest in one call
        (``FeedIngest.frames``); the endpoint counters and a latency sample (the run's
        oldest frame per endpoint: the longest wait in it) once per run."""
        ing, st, lat = self.ingest, self.stats, self.stats.latency_ns
        assert ing is not None
        head, size = HEADER.unpack_from, HEADER.size
        pos, n = 0, len(raw)
        while pos < n:
            if pos + size > n:
                raise JournalError("a batch is truncated (header)")
            k, e, t_ns, wall, length = head(raw, pos)
            if k == _FRAME or k == _GRPC:
                try:
                    pos, runs, _refused = ing.frames(raw, pos, self._map, self.offset_ns)
                except EngineError as exc:  # cut short: what came before is applied
                    raise JournalError(str(exc)) from None
                now = time.monotonic_ns()
                for ep, count, first, last in runs:
                    st.frames += count
                    st.inputs += count
                    lat.append(now - first)
                    hc = self.counters(ep) if self.counters is not None else None
                    if hc is not None:
                        hc.messages += count
                        hc.last_message_ns = last
                continue
            end = pos + size + length
            if end > n:
                raise JournalError("a batch is truncated (payload)")
            if k not in _KINDS:
                raise JournalError(f"a batch holds an unknown input kind {k}")
            st.inputs += 1
            self._apply_other(Input(Kind(k), e, t_ns, wall, raw[pos + size : end]))
            pos = end

    def _apply_other(self, inp: Input) -> None:
        """An input other than a stream's message (``arbscope.inputs``: what a collector
        publishes): the snapshot's accounts, the pools and tick arrays tracked, the
        subscriptions bound (to the collector's endpoint as numbered here), drains, the
        epochs; the collector's fees, token names and uncovered pools to ``inputs``."""
        k, ing = inp.kind, self.ingest
        assert ing is not None
        try:
            if k is Kind.BIND or k is Kind.UNBIND:
                ep = self._map[inp.endpoint] if inp.endpoint < len(self._map) else None
                if ep is None:
                    return
                consume(inp, ing, self.inputs, ep)
                c = self.counters(ep) if self.counters is not None else None
                if c is not None:
                    c.subscriptions = c.subscriptions + 1 if k is Kind.BIND else 0
            else:
                consume(inp, ing, self.inputs, 0)
        except (EngineError, JournalError, ValueError, TypeError):
            pass  # the collector's ingest refused it too, and went on

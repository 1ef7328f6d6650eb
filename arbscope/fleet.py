"""Past one machine: collectors and dashboards over NATS JetStream (issue 23).

A *collector* (``arbscope collect --nats URL --region NAME``) runs the feed workers of a
session (:class:`~feeds.clients.pool.FeedPool`: any mix of endpoints, or the embedded
simulator) and publishes every input its feeds give — each raw frame with its endpoint
and receive time, the HTTP snapshot's accounts, the pools and tick arrays tracked, the
subscription ids bound, the epoch schedule, the fee samples — in the journal's own input
format (:mod:`storage.codec`), batched, to the region's JetStream stream. Its own engine
reads only the frames it needs (:class:`arbscope.inputs.Forwarder`: the slots, the
pools' own accounts); the others are forwarded only. A *consumer* (``arbscope run
--nats URL --region NAME ...``) applies those inputs to its own engine as if they had come
from its own sockets: each collector endpoint becomes an endpoint of its own named
``region/endpoint`` (``eu/sim-0``), so the engine's deduper takes the first copy across
regions as it does across endpoints, and the Feeds panel shows each one's lead and lag,
with a row per region (``eu/*``).

Streams and subjects: one stream per region, ``ARBSCOPE_<REGION>`` (file storage),
holding ``arbscope.<region>.hello`` (a collector run's start: its run id, endpoint
names, base mints) and ``arbscope.<region>.frames`` / ``arbscope.<region>.state``
(batches of inputs: frames only, or with any other input). Every batch carries the
collector's run id and batch sequence (headers ``Arbscope-Run``, ``Arbscope-Seq``) and a
``Nats-Msg-Id`` of both, so a batch the collector sends again after a lost ack is stored
once (JetStream's duplicate window). The collector keeps up to ``window`` batches in
flight (``publish_async``) and sends every unacknowledged one again, in order, when an
ack does not come (the server restarted, the connection broke).

Consumers are durable pull consumers (acks up to a message, one per dashboard:
``--consumer``), started at the region's latest hello (``get_last_msg``), so a dashboard
that starts late rebuilds the state from that run's snapshot on. A consumer applies the
stream in stream-sequence order, each message once (:class:`RegionFeed`): a message seen
again is passed over by its sequence, a skip in the delivery starts the consumer again
at the next sequence; a batch stored twice (a resend past the duplicate window) is
passed over by its run's batch sequence. The stream may hold a run's batches out of
order (after a reconnect the client's buffered batches go before the publisher's
resends): a batch ahead of the next is held until the next is read. Every batch carries
the publisher's *floor* (``Arbscope-Floor``: every batch below it was acknowledged, so
stored before it, or dropped unsent), so a hole below the floor, or a run that ended
(a new hello), is a *gap* decided without a clock, counted and shown (``gaps``,
``gap_batches``). Messages the stream lost before the consumer read them (retention)
are counted as ``lost``.

The journal can be the stream too (:class:`StreamJournal`): a session run with
``--journal-stream`` also publishes each journal chunk to ``ARBSCOPE_JOURNAL``
(``arbscope.journal.<session>.{begin,chunk,end}``), and ``arbscope replay SESSION --nats
URL [--seq A:B]`` replays it from there to the same digest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

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
    PubAck,
    RawStreamMsg,
    StorageType,
    StreamConfig,
)

from engine_rs.errors import EngineError
from feeds.health import FeedHealth, HealthCounters, clip, standing
from feeds.redact import redact, scrub
from feeds.wire.txview import TxView
from storage.codec import HEADER, Compressor, Input, Kind, decompress
from storage.journal import Chunk, Event, Journal, JournalError, SessionInfo
from storage.recorder import EventRow

from .inputs import consume
from .ports import Buffer, Ingest, StreamInputs

log = logging.getLogger(__name__)

# a message delivered and not acknowledged within this is delivered again; a consumer
# acknowledges what it applied as it goes, so only a consumer that died sees it
ACK_WAIT_S = 30.0
MAX_ACK_PENDING = 8192  # messages delivered, not yet acknowledged (the server's window)
ACK_EVERY = 256  # a consumer acknowledges at least every this many messages (and caught up)
ACK_TIMEOUT_S = 2.0  # a batch not acknowledged within this is sent again
FETCH = 512  # messages a consumer asks for at once
FETCH_BYTES = 16 * 2**20  # and at most this many bytes (big batches under load)
PULL_EXPIRES_S = 2.0  # how long one pull request lingers on the server
# a batch is cut past this many bytes of inputs (compressed, it stays under NATS' default
# max payload, 1 MiB, even when nothing compresses)
MAX_BATCH_BYTES = 960 * 1024
# batches in flight (sent, not acknowledged) at most. While fewer than half of them are,
# a batch goes as soon as there is an input (a light load: an input waits for no ack,
# ~1-3 ms on loopback); from half on, the next one gathers inputs up to GATHER_BYTES (or
# until an ack brings the window below half) before it goes: batches grow with the load
WINDOW = 8
GATHER_BYTES = 256 * 1024
# a batch's inputs compressed (zstd; ``Arbscope-Codec`` says so, its absence: raw) at
# level -1: a region's frames repeat the same accounts, ~32x on the simulator's ~10 KB
# frames at ~2.9 GB/s, where level 1 made ~40x at ~1.4 GB/s and was the collector's
# largest cost per frame (7 us of a ~10 KB frame); consumers read any level alike
CODEC = "zstd"
CODEC_LEVEL = -1
MAX_OUTBOX_BYTES = 256 * 2**20  # unsent batches kept while the server is away (then dropped)
JOURNAL_STREAM = "ARBSCOPE_JOURNAL"
_FRAME, _GRPC, _KINDS = int(Kind.FRAME), int(Kind.GRPC), frozenset(int(k) for k in Kind)
REGION_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
LATENCY_SAMPLES = 65_536
# a region (or a remote endpoint) with nothing for this long shows STALE: its collector
# is gone or cut off (a collector passes on every slot, 2.5 a second on mainnet)
SILENT_S = 5.0
# a NATS outage: its first line at once, then a summary at most this often (s)
OUTAGE_LOG_EVERY_S = 30.0
# what the client reports as it loses the connection (the disconnect's line names it)
_CONNECTION_LOST = (
    nats.errors.UnexpectedEOF,
    nats.errors.StaleConnectionError,
    ConnectionError,
    asyncio.IncompleteReadError,
)


@dataclass(frozen=True)
class Retention:
    """How long a stream keeps what it holds (JetStream limits; 0: no limit)."""

    max_age_s: float = 24 * 3600.0
    max_bytes: int = 8 * 2**30
    duplicate_window_s: float = 120.0  # a resent batch within this is stored once


@dataclass
class FleetSettings:
    """A session's NATS side: ``url``; ``collect``: the region this process publishes
    (a collector); ``regions``: the regions it consumes; ``consumer``: its durable
    consumers' name (one per dashboard; default from the host and process);
    ``journal_stream``: publish the journal's chunks to JetStream as well."""

    url: str
    collect: str | None = None
    regions: Sequence[str] = ()
    consumer: str | None = None
    journal_stream: bool = False
    retention: Retention = field(default_factory=Retention)

    def __post_init__(self) -> None:
        for r in [*self.regions, *([self.collect] if self.collect else [])]:
            if not REGION_RE.match(r):
                raise ValueError(f"region {r!r}: letters, digits, _ and - only (at most 32)")


def stream_name(region: str) -> str:
    return f"ARBSCOPE_{region.upper().replace('-', '_')}"


def wall_offset_ns() -> int:
    """This process's wall clock minus its monotonic clock (ns): receive times cross
    processes as wall-clock ns (the machines' clocks kept by NTP), and come back to the
    consumer's monotonic clock by its own offset."""
    return time.time_ns() - time.monotonic_ns()


class ConnectionLog:
    """What a NATS client says about its connection, in as few lines as tell it: the
    first disconnect or error of an outage is one line at once; while it lasts the
    failed reconnects (one every ``reconnect_time_wait``, each an error) are counted,
    and said at most once every ``every_s`` as a summary with the count and the last
    error; the reconnect is one line with the outage's length and count. (Each error was
    a line: every reconnect attempt, a line a second or more per client per process.)
    ``clock``: seconds (tests give their own)."""

    def __init__(
        self, url: str, every_s: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.url, self.shown, self.clock = url, redact(url), clock
        self.every_s = OUTAGE_LOG_EVERY_S if every_s is None else every_s
        self.down_since: float | None = None  # the outage's start (None: connected)
        self.failures = 0  # errors since the outage began (or since the last line)
        self.outages = 0
        self.lines = 0  # lines logged
        self._said_at = -1e18  # the last line
        self._error_at = -1e18  # the last line of an error while connected
        self._unsaid = 0  # errors while connected since that line, not in it
        self._last = ""
        self._lost = ""  # the error that lost the connection, for the disconnect's line

    def _say(self, level: int, text: str, *args: object) -> None:
        self.lines += 1
        self._said_at = self.clock()
        if level >= logging.WARNING:
            self._unsaid = 0
        log.log(level, "nats %s: " + text, self.shown, *args)

    def disconnected(self, closed: bool = False) -> None:
        """The connection is gone: an outage begins (``closed``: our own close, which
        is no outage and no warning)."""
        if closed:
            log.debug("nats %s: closed", self.shown)
            return
        if self.down_since is not None:
            return
        why, self._lost = self._lost, ""
        self.down_since, self.failures = self.clock(), 0
        self.outages += 1
        self._say(
            logging.WARNING,
            "disconnected%s; reconnecting (said again every %g s while it lasts)",
            f" ({why})" if why else "",
            self.every_s,
        )

    def error(self, exc: BaseException) -> None:
        text = clip(scrub(f"{type(exc).__name__}: {exc}", self.url))
        self.failures += 1
        self._last = text
        now = self.clock()
        if self.down_since is not None:  # a failed reconnect: counted, summed up now and then
            if now - self._said_at >= self.every_s:
                self._say(
                    logging.WARNING,
                    "still unreachable after %.0f s: %d reconnects failed, the last with %s",
                    now - self.down_since,
                    self.failures,
                    text,
                )
            return
        if isinstance(exc, _CONNECTION_LOST):  # the disconnect that follows says it
            self._lost = text
            return
        if now - self._error_at < self.every_s:  # connected: an error line a period at most
            self._unsaid += 1
            return
        more, self._error_at = self._unsaid, now
        self._say(
            logging.WARNING, "%s%s", text, f" (+{more} more since the last line)" if more else ""
        )

    def reconnected(self) -> None:
        since, self.down_since = self.down_since, None
        if since is None:
            self._say(logging.INFO, "reconnected")
            return
        self._say(
            logging.INFO,
            "reconnected after %.1f s (%d reconnects failed%s)",
            self.clock() - since,
            self.failures,
            f", the last with {self._last}" if self.failures else "",
        )
        self.failures = 0


async def connect(
    url: str,
    name: str = "arbscope",
    timeout_s: float = 5.0,
    attempts: int = 3,
    said: ConnectionLog | None = None,
) -> NATS:
    """A client of the NATS server at ``url``. The first connection gets ``attempts``
    tries; then ``ConnectionError`` with the URL redacted (a dead server is a message,
    never a hang). Once connected it reconnects forever (a restarted server is met again;
    what was sent meanwhile is buffered by the client up to its limit). What it meets is
    logged by ``said`` (a :class:`ConnectionLog` of its own unless given): a line when
    an outage begins, a summary every so often while it lasts, one when it ends — never
    a traceback."""
    said = ConnectionLog(url) if said is None else said
    client: list[NATS] = []  # once connected: a disconnect after its close() is no outage

    async def on_error(exc: Exception) -> None:
        said.error(exc)

    async def on_disconnect() -> None:
        said.disconnected(closed=bool(client) and client[0].is_closed)

    async def on_reconnect() -> None:
        said.reconnected()

    try:
        nc = await nats.connect(
            url,
            name=name,
            connect_timeout=timeout_s,
            max_reconnect_attempts=attempts,
            reconnect_time_wait=0.2,
            allow_reconnect=True,
            pending_size=64 * 2**20,
            error_cb=on_error,
            disconnected_cb=on_disconnect,
            reconnected_cb=on_reconnect,
        )
    except (nats.errors.Error, OSError, asyncio.TimeoutError, ValueError) as exc:
        raise ConnectionError(
            f"NATS at {redact(url)}: {scrub(str(exc), url) or type(exc).__name__}"[:300]
        ) from None
    nc.options["max_reconnect_attempts"] = -1  # from now on: reconnect forever
    client.append(nc)
    return nc


async def ensure_stream(
    js: JetStreamContext, name: str, subjects: list[str], retention: Retention
) -> None:
    """The stream ``name`` (file storage, on disk across server restarts), created when
    missing; an existing one is used as it is (its retention is the operator's)."""
    try:
        await js.stream_info(name)
        return
    except nats.js.errors.NotFoundError:
        pass
    cfg = StreamConfig(
        name=name,
        subjects=subjects,
        storage=StorageType.FILE,
        max_age=retention.max_age_s or None,
        max_bytes=retention.max_bytes or -1,
        duplicate_window=retention.duplicate_window_s,
    )
    try:
        await js.add_stream(cfg)
    except nats.js.errors.BadRequestError:
        await js.stream_info(name)  # another process created it meanwhile


# ------------------------------------------------------------------ the collector side
@dataclass
class _Batch:
    seq: int
    subject: str
    payload: bytes
    frames: int
    raw_len: int = 0  # the inputs' bytes before compression
    future: asyncio.Future[PubAck] | None = None
    sent_at: float = 0.0


@dataclass
class PublisherStats:
    batches: int = 0  # cut
    acked: int = 0  # batches JetStream acknowledged
    frames: int = 0  # frames in acknowledged batches
    inputs: int = 0  # inputs handed to the publisher
    resent: int = 0  # batches sent again (an ack that did not come)
    duplicates: int = 0  # resends the stream already held (its duplicate window)
    dropped: int = 0  # batches dropped unsent (the outbox overflowed): a gap downstream
    errors: int = 0
    last_error: str = ""
    last_stream_seq: int = 0


class Publisher:
    """Batches of inputs to one region's stream, in order, each acknowledged (see the
    module doc). ``add`` is the hot path (synchronous); a task sends."""

    def __init__(
        self,
        js: JetStreamContext,
        region: str,
        window: int = WINDOW,
        ack_timeout_s: float = ACK_TIMEOUT_S,
        max_batch_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        self.js, self.region = js, region
        self.run = uuid.uuid4().hex[:12]
        self.window, self.ack_timeout_s = window, ack_timeout_s
        self._eager = max(1, window // 2)  # in flight from which inputs gather
        self.max_batch_bytes = max_batch_bytes
        self.stats = PublisherStats()
        # the batch being gathered, written in place: a buffer kept from batch to batch
        # (a fresh ~1 MB allocation a batch costs a page fault per 4 KiB), each input's
        # header and payload copied in as it is added (one copy a frame, while its bytes
        # are hot: the frame's own copy and the batch's join, two, are gone)
        self._mem = bytearray(max_batch_bytes + HEADER.size)
        self._buf_bytes = 0
        self._codec = Compressor(CODEC, CODEC_LEVEL)  # its zstd context kept
        self._buf_frames = 0
        self._buf_state = False  # holds an input other than a frame
        self._seq = 0
        self._outbox: deque[_Batch] = deque()
        self._outbox_bytes = 0
        self._inflight: deque[_Batch] = deque()
        self._wake = asyncio.Event()
        self._acked = asyncio.Event()  # set on each acknowledgement (flush, tests)
        self._task: asyncio.Task[None] | None = None
        self.offset_ns = wall_offset_ns()
        self.clock: Callable[[], float] = time.monotonic  # the outage's (tests: their own)
        self.failing_since: float | None = None  # the first failure since the last ack

    def failing_s(self) -> float:
        """How long this publisher has not been able to publish: seconds since its first
        failure (an ack that did not come, a refused publish) after its last
        acknowledgement; 0 while batches are acknowledged."""
        since = self.failing_since
        return 0.0 if since is None else max(self.clock() - since, 0.0)

    def problem(self) -> str:
        """The publisher's trouble in words ("" when it publishes): what a collector's
        ``/health`` says."""
        failing = self.failing_s()
        if not failing:
            return ""
        st = self.stats
        return (
            f"cannot publish to NATS (region {self.region}) for {failing:.0f} s: "
            f"{st.last_error or 'no ack'}; {self.pending} batches waiting"
            + (f", {st.dropped} dropped" if st.dropped else "")
        )

    def hello(self, endpoints: Sequence[str], base_mints: Sequence[str], source: str) -> None:
        """A new run: batch 0, on the hello subject."""
        body = json.dumps(
            {
                "run": self.run,
                "region": self.region,
                "endpoints": list(endpoints),
                "base_mints": list(base_mints),
                "source": source,
                "started": time.time(),
            }
        ).encode()
        self._outbox.append(_Batch(0, f"arbscope.{self.region}.hello", body, 0))
        self._seq = 1
        self._wake.set()

    def add(self, kind: Kind, endpoint: int, payload: Buffer, t_mono_ns: int | None = None) -> None:
        """One input; its time as wall-clock ns (now when not given). ``payload`` is
        copied before this returns: a view valid only during the call (a socket's read
        buffer) will do."""
        t = (time.monotonic_ns() if t_mono_ns is None else t_mono_ns) + self.offset_ns
        n = len(payload)
        size = HEADER.size + n
        at = self._buf_bytes
        if at + size > self.max_batch_bytes and at:
            self._cut()
            at = 0
        end = at + size
        mem = self._mem
        if end > len(mem):  # an input larger than a batch: a batch of its own
            mem.extend(bytes(end - len(mem)))
        HEADER.pack_into(mem, at, kind, endpoint, t, t // 1000, n)  # storage.codec.pack
        mem[at + HEADER.size : end] = payload
        self._buf_bytes = end
        self.stats.inputs += 1
        if kind is Kind.FRAME:
            self._buf_frames += 1
        else:
            self._buf_state = True
        if len(self._inflight) < self._eager or end >= GATHER_BYTES:
            self._wake.set()  # a batch can go now (else the next ack lets it)

    def _cut(self) -> None:
        """What is buffered becomes the next batch."""
        if not self._buf_bytes:
            return
        kind = "state" if self._buf_state else "frames"
        if self._codec.codec != CODEC or self._codec.level != CODEC_LEVEL:
            self._codec = Compressor(CODEC, CODEC_LEVEL)  # (a test's own codec)
        with memoryview(self._mem) as view, view[: self._buf_bytes] as raw:
            body = self._codec.compress(raw)
        b = _Batch(
            self._seq,
            f"arbscope.{self.region}.{kind}",
            body,
            self._buf_frames,
            self._buf_bytes,
        )
        self._seq += 1
        self._buf_bytes, self._buf_frames, self._buf_state = 0, 0, False
        self._outbox.append(b)
        self._outbox_bytes += len(b.payload)
        self.stats.batches += 1
        while self._outbox_bytes > MAX_OUTBOX_BYTES and len(self._outbox) > 1:
            old = self._outbox.popleft()  # the server has been away too long: a gap
            self._outbox_bytes -= len(old.payload)
            self.stats.dropped += 1

    @property
    def pending(self) -> int:
        """Batches not yet acknowledged (buffered, unsent, in flight)."""
        return len(self._outbox) + len(self._inflight) + (1 if self._buf_bytes else 0)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"publish-{self.region}")

    async def wait_acked(self, done: Callable[[], bool], timeout_s: float) -> None:
        """Until ``done()`` holds after an acknowledgement (TimeoutError after
        ``timeout_s``)."""

        async def until() -> None:
            while not done():
                self._acked.clear()
                await self._acked.wait()

        await asyncio.wait_for(until(), timeout_s)

    async def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything added is acknowledged (True) or ``timeout_s`` passed."""
        self._wake.set()  # what is buffered goes now
        with contextlib.suppress(TimeoutError):
            await self.wait_acked(lambda: not self.pending, timeout_s)
        return not self.pending

    async def stop(self, flush_s: float = 5.0) -> None:
        if self._task is None:
            return
        await self.flush(flush_s)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        self._task = None

    async def _send(self, b: _Batch) -> None:
        # the floor: every batch below it is acknowledged (stored before this one) or was
        # dropped (it will never come): what lets a consumer decide a gap without a clock
        floor = min(self._inflight[0].seq, b.seq) if self._inflight else b.seq
        headers = {
            "Nats-Msg-Id": f"{self.run}-{b.seq}",
            "Arbscope-Run": self.run,
            "Arbscope-Seq": str(b.seq),
            "Arbscope-Floor": str(floor),
        }
        if b.raw_len:
            headers |= {"Arbscope-Codec": CODEC, "Arbscope-Raw": str(b.raw_len)}
        b.future = await self.js.publish_async(b.subject, b.payload, headers=headers)
        b.sent_at = time.monotonic()

    async def _run(self) -> None:
        backoff = 0.05
        while True:
            if not self._outbox and not self._inflight and not self._buf_bytes:
                await self._wake.wait()
            self._wake.clear()
            try:
                # a batch goes at once while under half the window is in flight (a
                # light load: latency); else the inputs gather until acks bring it
                # below half or they are GATHER_BYTES, so batches grow with the load
                while len(self._inflight) < self.window:
                    if not self._outbox:
                        if not self._buf_bytes or (
                            len(self._inflight) >= self._eager and self._buf_bytes < GATHER_BYTES
                        ):
                            break
                        self._cut()
                    b = self._outbox[0]
                    await self._send(b)
                    self._outbox.popleft()
                    self._outbox_bytes -= len(b.payload)
                    self._inflight.append(b)
                if not self._inflight:
                    continue
                oldest = self._inflight[0]
                assert oldest.future is not None
                left = oldest.sent_at + self.ack_timeout_s - time.monotonic()
                # new inputs wake the loop only when they could be sent
                room = len(self._inflight) < self.window
                waker = asyncio.ensure_future(self._wake.wait()) if room else None
                try:
                    await asyncio.wait(
                        [oldest.future] + ([waker] if waker else []),
                        timeout=max(left, 0.0),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    if waker is not None:
                        waker.cancel()
                self._reap()
                if self._inflight and not self._inflight[0].future.done():  # type: ignore[union-attr]
                    if time.monotonic() - self._inflight[0].sent_at >= self.ack_timeout_s:
                        raise TimeoutError("no ack")
                backoff = 0.05
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server is away: everything unacked again, in order
                if self.failing_since is None:
                    self.failing_since = self.clock()
                self.stats.errors += 1
                self.stats.last_error = clip(f"{type(exc).__name__}: {exc}")
                again = list(self._inflight)
                self._inflight.clear()
                for b in reversed(again):
                    if b.future is not None and not b.future.done():
                        b.future.cancel()
                    b.future = None
                    self._outbox.appendleft(b)
                    self._outbox_bytes += len(b.payload)
                    self.stats.resent += 1
                await asyncio.sleep(backoff)  # a pause between attempts, not a sync point
                backoff = min(backoff * 2, 1.0)

    def _reap(self) -> None:
        """Acknowledged batches off the front of the window (in order)."""
        while self._inflight:
            f = self._inflight[0].future
            if f is None or not f.done():
                return
            b = self._inflight[0]
            if f.cancelled() or f.exception() is not None:
                exc = f.exception() if not f.cancelled() else TimeoutError("cancelled")
                raise exc  # type: ignore[misc]
            ack = f.result()
            self._inflight.popleft()
            self.failing_since = None  # published again
            self.stats.acked += 1
            self.stats.frames += b.frames
            self.stats.duplicates += bool(getattr(ack, "duplicate", False))
            self.stats.last_stream_seq = int(getattr(ack, "seq", 0) or 0)
            self._acked.set()


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


class _RegionInputs:
    """What one region's collector says of itself, to the session's inputs: its fees and
    token names as they are, the pools it covers nowhere to :class:`RemoteFeeds` (a pool
    is uncovered for the consumer when no region covers it)."""

    def __init__(self, remote: RemoteFeeds, region: str) -> None:
        self.remote, self.region = remote, region

    def on_fees(self, samples: list[tuple[int, int]]) -> None:
        if self.remote.inputs is not None:
            self.remote.inputs.on_fees(samples)

    def on_tokens(self, rows: Sequence[dict[str, Any]]) -> None:
        if self.remote.inputs is not None:
            self.remote.inputs.on_tokens(rows)

    def on_transaction(self, tx: TxView) -> None:
        if self.remote.inputs is not None:
            self.remote.inputs.on_transaction(tx)

    def on_uncovered(self, pools: list[str]) -> None:
        self.remote.region_uncovered(self.region, pools)


class RemoteFeeds:
    """The regions a session consumes: their :class:`RegionFeed` s, the endpoints they
    add (``region/name``, numbered after the session's own), and their health."""

    def __init__(
        self,
        settings: FleetSettings,
        ingest: Ingest | None,
        first_endpoint: int,
        inputs: StreamInputs | None = None,
    ) -> None:
        self.settings = settings
        self.ingest, self.first = ingest, first_endpoint
        self.inputs = inputs  # the session's: the collectors' fees, names, uncovered pools
        self._uncovered: dict[str, frozenset[str]] = {}  # per region, as its collector said
        self.nc: NATS | None = None
        self.regions: list[RegionFeed] = []
        self.names: dict[str, int] = {}  # "region/name" -> endpoint index
        self.counters: dict[int, HealthCounters] = {}
        self.consumer = settings.consumer or f"arbscope-{os.uname().nodename}-{os.getpid()}"
        self.consumer = re.sub(r"[^A-Za-z0-9_-]", "_", self.consumer)

    def endpoint_of(self, name: str) -> int:
        i = self.names.get(name)
        if i is None:
            i = self.names[name] = self.first + len(self.names)
            self.counters[i] = HealthCounters(i, name, "nats")
            self.counters[i].connected = True
        return i

    async def connect(self) -> JetStreamContext:
        self.nc = await connect(self.settings.url, name=f"arbscope-{self.consumer}")
        return self.nc.jetstream(timeout=5.0)

    async def base_mints(self) -> list[str]:
        """The base mints the regions' newest collector runs announced (a consumer
        without its own configuration watches what the collectors watch)."""
        js = await self.connect() if self.nc is None else self.nc.jetstream()
        assert self.nc is not None
        out: list[str] = []
        for r in self.settings.regions:
            feed = RegionFeed(
                js, r, None, self.endpoint_of, self.consumer, self.settings.retention, nc=self.nc
            )
            with contextlib.suppress(nats.js.errors.NotFoundError):
                found = await feed.latest_hello()
                if found:
                    out += [b for b in found[1].get("base_mints", []) if b not in out]
        return out

    async def start(self) -> None:
        js = await self.connect() if self.nc is None else self.nc.jetstream(timeout=5.0)
        assert self.nc is not None
        for r in self.settings.regions:
            feed = RegionFeed(
                js,
                r,
                self.ingest,
                self.endpoint_of,
                self.consumer,
                self.settings.retention,
                nc=self.nc,
                inputs=_RegionInputs(self, r),
                counters=self.counters.get,
            )
            await feed.start()
            self.regions.append(feed)

    def region_uncovered(self, region: str, pools: list[str]) -> None:
        """A region's collector covers ``pools`` on none of its endpoints: a pool is
        uncovered for this consumer when no region covers it."""
        self._uncovered[region] = frozenset(pools)
        if self.inputs is not None:
            sets = [self._uncovered.get(r, frozenset()) for r in self.settings.regions]
            self.inputs.on_uncovered(sorted(frozenset.intersection(*sets)) if sets else [])

    async def stop(self) -> None:
        for f in self.regions:
            await f.stop()
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.close()
            self.nc = None

    def health(self, ingest: Ingest) -> list[FeedHealth]:
        """A row per region (``region/*``: its endpoints' leads summed, the collector ->
        here latency as its lag, gaps as missed, the stream's backlog as its error text),
        first (the panel may not have room for every row), then one per remote endpoint
        (``region/name``: lead and lag from the engine's deduper, as for the session's
        own)."""
        stats = {s.endpoint: s for s in ingest.dedup_stats()}
        integrity = {e.endpoint: e for e in ingest.endpoint_stats()}
        now = time.monotonic()
        out: list[FeedHealth] = []
        rates: dict[int, float] = {}  # messages/s per endpoint (one sample per call)
        for name, i in self.names.items():
            c = self.counters[i]
            region = next((f for f in self.regions if name.startswith(f.region + "/")), None)
            s, e = stats.get(i), integrity.get(i)
            age = None if c.last_message_ns is None else now - c.last_message_ns / 1e9
            # up while its copies keep coming: connected to NATS is not enough (a stopped
            # collector's endpoints were counted up, and decided on, for as long as the
            # server stayed up)
            c.connected = bool(region and region.stats.connected) and _fresh(age)
            out.append(
                FeedHealth(
                    i,
                    name,
                    "nats",
                    c.connected,
                    c.messages,
                    rates.setdefault(i, c.sample_rate(now)),
                    s.first_seen if s else 0,
                    s.duplicates if s else 0,
                    None if s is None or s.lag_p50_ns is None else s.lag_p50_ns / 1e6,
                    None if s is None or s.lag_p99_ns is None else s.lag_p99_ns / 1e6,
                    0,
                    0,
                    0,
                    0,
                    int(age is not None and age > SILENT_S),
                    c.subscriptions,
                    c.last_error,
                    age,
                    slot=e.slot if e else 0,
                    implausible=e.implausible if e else 0,
                    older=e.older if e else 0,
                    unknown=e.unknown if e else 0,
                    identity=e.identity if e else 0,
                    disagreed=e.disagreed if e else 0,
                    held_back=e.held_back if e else 0,
                    quarantined=e.quarantined if e else False,
                    transport="nats",
                    **standing(e),
                )
            )
        regions: list[FeedHealth] = []
        for k, f in enumerate(self.regions):
            st = f.stats
            mine = [i for n, i in self.names.items() if n.startswith(f.region + "/")]
            lead = sum(stats[i].first_seen for i in mine if i in stats)
            dups = sum(stats[i].duplicates for i in mine if i in stats)
            problem = (
                (f"{st.gaps} gaps ({st.gap_batches} batches)" if st.gaps else "")
                or (f"{st.lost} lost to retention" if st.lost else "")
                or (f"{st.damaged} damaged" if st.damaged else "")
                or st.last_error
            )
            p50, p99 = st.latency_quantiles_ms((0.5, 0.99))
            age = None if st.last_message_ns is None else now - st.last_message_ns / 1e9
            regions.append(
                FeedHealth(
                    10_000 + k,
                    f"{f.region}/*",
                    f"nats {stream_name(f.region)}",
                    st.connected and _fresh(age),
                    st.frames,
                    sum(rates.get(i, 0.0) for i in mine),
                    lead,
                    dups,
                    p50,
                    p99,
                    st.gap_batches,
                    0,
                    0,
                    st.runs - 1 if st.runs else 0,
                    int(age is not None and age > SILENT_S),
                    sum(self.counters[i].subscriptions for i in mine),
                    problem,
                    age,
                    transport="nats",
                )
            )
        return regions + out


def _fresh(age_s: float | None) -> bool:
    """Something came within :data:`SILENT_S` (``age_s``: seconds since; None: nothing yet)."""
    return age_s is not None and age_s <= SILENT_S


# ------------------------------------------------------------------ the journal on a stream
class StreamJournal:
    """A session's journal chunks published to ``ARBSCOPE_JOURNAL`` beside the SQLite
    file: ``begin`` (source, config, versions), each ``chunk`` (the same compressed
    blob, its number in ``Nats-Msg-Id``), ``end`` (digest). Publishing never fails the
    recorder: chunks wait in order and are sent again until acknowledged."""

    def __init__(self, js: JetStreamContext, retention: Retention) -> None:
        self.js, self.retention = js, retention
        self._q: asyncio.Queue[tuple[str, bytes, dict[str, str]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.published = 0
        self.last_error = ""

    async def open(self) -> None:
        await ensure_stream(self.js, JOURNAL_STREAM, ["arbscope.journal.>"], self.retention)
        self._task = asyncio.create_task(self._run(), name="journal-stream")

    async def _run(self) -> None:
        while True:
            subject, body, headers = await self._q.get()
            while True:
                try:
                    await self.js.publish(subject, body, timeout=ACK_TIMEOUT_S, headers=headers)
                    self.published += 1
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.last_error = clip(f"{type(exc).__name__}: {exc}")
                    await asyncio.sleep(0.2)  # a pause between attempts
            self._q.task_done()

    def begin(
        self, session: str, source: str, config: dict[str, Any], versions: dict[str, Any]
    ) -> None:
        body = json.dumps(
            {"source": source, "config": config, "versions": versions, "started": time.time()}
        ).encode()
        self._q.put_nowait(
            (f"arbscope.journal.{session}.begin", body, {"Nats-Msg-Id": f"{session}-begin"})
        )

    def chunk(self, session: str, c: Chunk) -> None:
        h = {
            "Nats-Msg-Id": f"{session}-{c.no}",
            "no": str(c.no),
            "first": str(c.first_seq),
            "n": str(c.n),
            "t0": str(c.t0_ns),
            "t1": str(c.t1_ns),
            "codec": c.codec,
            "raw": str(c.raw_len),
        }
        self._q.put_nowait((f"arbscope.journal.{session}.chunk", c.blob, h))

    def end(self, session: str, digest: str, pnl: float) -> None:
        body = json.dumps({"digest": digest, "pnl": pnl, "ended": time.time()}).encode()
        self._q.put_nowait(
            (f"arbscope.journal.{session}.end", body, {"Nats-Msg-Id": f"{session}-end"})
        )

    async def close(self, timeout_s: float = 10.0) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._q.join(), timeout_s)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class TeeJournal:
    """The recorder's journal (``storage.recorder.JournalTarget``): the SQLite file, and
    each chunk to the stream too."""

    def __init__(self, journal: Journal, stream: StreamJournal) -> None:
        self.journal, self.stream = journal, stream

    @property
    def path(self) -> Path:
        return self.journal.path

    async def begin_session(
        self,
        source: str,
        config: dict[str, Any],
        versions: dict[str, Any],
        session_id: str | None = None,
    ) -> str:
        sid = await self.journal.begin_session(source, config, versions, session_id=session_id)
        self.stream.begin(sid, source, config, versions)
        return sid

    async def write_batch(
        self,
        session: str,
        chunk: Chunk | None,
        frames: int,
        events: Sequence[EventRow],
        opportunities: int,
    ) -> None:
        await self.journal.write_batch(session, chunk, frames, events, opportunities)
        if chunk is not None:  # after the file took it: a retried batch is not sent twice
            self.stream.chunk(session, chunk)

    async def end_session(self, session: str, digest: str, pnl: float = 0.0) -> None:
        await self.journal.end_session(session, digest, pnl)
        self.stream.end(session, digest, pnl)

    # what the recorder asks of the file when it can
    async def committed(self, session: str, chunk: int | None, event: int | None) -> bool:
        return await self.journal.committed(session, chunk, event)

    async def check_wal(self) -> str:
        return await self.journal.check_wal()

    async def end_incomplete(self, session: str, note: str, pnl: float = 0.0) -> None:
        await self.journal.end_incomplete(session, note, pnl)


def parse_seq_range(text: str | None) -> tuple[int, int | None]:
    """``A:B``, ``A:`` or ``:B`` (stream sequences, inclusive) -> (first, last or None)."""
    if not text:
        return 1, None
    a, _, b = text.partition(":")
    try:
        first = int(a) if a else 1
        last = int(b) if b else None
    except ValueError:
        raise ValueError(f"--seq: expected A:B (stream sequence numbers), got {text!r}") from None
    if first < 1 or (last is not None and last < first):
        raise ValueError(f"--seq: expected 1 <= A <= B, got {text!r}")
    return first, last


class StreamJournalReader:
    """What a replay reads of a journal (``chunks``, ``tokens``, ``events``, ``close``),
    from ``ARBSCOPE_JOURNAL`` instead of the SQLite file; ``seq``: the stream sequence
    range of the chunks to read (the whole session by default)."""

    def __init__(self, url: str, seq: tuple[int, int | None] = (1, None)) -> None:
        self.url, self.seq = url, seq
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        self.chunk_seqs: list[int] = []  # the stream sequences of the chunks read

    async def open(self) -> StreamJournalReader:
        self.nc = await connect(self.url, name="arbscope-replay")
        self.js = self.nc.jetstream(timeout=5.0)
        return self

    async def _last(self, subject: str) -> RawStreamMsg | None:
        assert self.js is not None
        try:
            return await self.js.get_last_msg(JOURNAL_STREAM, subject)
        except nats.js.errors.NotFoundError:
            return None

    async def info(self, session: str) -> SessionInfo:
        """The session's header from its ``begin`` and ``end`` messages (JournalError
        when the stream holds no such session)."""
        begin = await self._last(f"arbscope.journal.{session}.begin")
        if begin is None:
            raise JournalError(f"no session {session} in stream {JOURNAL_STREAM}")
        b = json.loads(cast(bytes, begin.data))
        end = await self._last(f"arbscope.journal.{session}.end")
        e = json.loads(cast(bytes, end.data)) if end is not None else {}
        first_ns = last_ns = None
        inputs = frames = 0
        async for c in self._chunks(session):  # the header's counts (t0, inputs)
            first_ns = c.t0_ns if first_ns is None else first_ns
            last_ns = c.t1_ns
            inputs += c.n
        return SessionInfo(
            session,
            float(b.get("started", 0.0)),
            e.get("ended"),
            str(b.get("source", "")),
            dict(b.get("config", {})),
            "",
            dict(b.get("versions", {})),
            first_ns,
            last_ns,
            inputs,
            frames,
            0,
            0,
            float(e.get("pnl", 0.0)),
            0,
            0,
            e.get("digest"),
        )

    async def _chunks(self, session: str) -> AsyncIterator[Chunk]:
        assert self.js is not None
        first, last = self.seq
        sub = await self.js.pull_subscribe(
            f"arbscope.journal.{session}.chunk",
            stream=JOURNAL_STREAM,
            config=ConsumerConfig(
                ack_policy=AckPolicy.NONE,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=first,
                inactive_threshold=60.0,
            ),
        )
        seqs: list[int] = []
        try:
            while True:
                try:
                    msgs = await sub.fetch(FETCH, timeout=2.0)
                except (nats.errors.TimeoutError, asyncio.TimeoutError):
                    break
                done = False
                for m in msgs:
                    sseq = int(m.metadata.sequence.stream)
                    if last is not None and sseq > last:
                        done = True
                        break
                    h = m.headers or {}
                    seqs.append(sseq)
                    yield Chunk(
                        int(h["no"]),
                        int(h["first"]),
                        int(h["n"]),
                        int(h["t0"]),
                        int(h["t1"]),
                        h["codec"],
                        int(h["raw"]),
                        bytes(m.data),
                    )
                if done or not msgs or int(msgs[-1].metadata.num_pending or 0) == 0:
                    break
        finally:
            self.chunk_seqs = seqs
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    def chunks(self, session: str) -> AsyncIterator[Chunk]:
        return self._chunks(session)

    async def tokens(self, session: str) -> list[dict[str, Any]]:
        return []  # the names stay in the SQLite file (a replay shows mint prefixes)

    async def events(self, session: str, kinds: Sequence[str] = ()) -> list[Event]:
        return []

    async def close(self) -> None:
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.close()
            self.nc = None


__all__ = [
    "HEADER",
    "FleetSettings",
    "Publisher",
    "RegionFeed",
    "RemoteFeeds",
    "Retention",
    "StreamJournal",
    "StreamJournalReader",
    "TeeJournal",
    "parse_seq_range",
]

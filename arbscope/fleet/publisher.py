"""The collector's side: :class:`Publisher` batches inputs to a region's stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import (
    PubAck,
)

from feeds.health import clip
from storage.codec import HEADER, Compressor, Kind

from ..ports import Buffer
from .streams import (
    ACK_TIMEOUT_S,
    CODEC,
    CODEC_LEVEL,
    GATHER_BYTES,
    MAX_BATCH_BYTES,
    MAX_OUTBOX_BYTES,
    WINDOW,
    wall_offset_ns,
)


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

"""The recorder: what a session calls on its hot path (synchronous appends to memory) and
a background task that writes them to the journal in batches.

Every ``batch_s`` seconds (default 0.2) the pending inputs become one compressed chunk
and go, with the pending derived events and the session's counters, into the journal in
one transaction. So a crash (even SIGKILL) loses at most the last ``batch_s`` of the
session; everything before is replayable. ``close()`` flushes and stores the digest.

The digest is sha256 over the canonical JSON of the *decision* events only (``opp``,
``gone``, ``fee``, ``sweep``, ``fill``): what the engine concluded, never when (no
clocks, no latencies, no feed health), so a replay of the same inputs must match it.

When a write fails (a full disk, a busy file) the batch stays pending and the next one
retries it, but the pending queue is bounded: past ``max_pending_bytes`` (default
:data:`MAX_PENDING_BYTES`, 64 MiB: minutes of a busy session) recording stops for good —
the pending inputs are dropped (a gap would make every later input unreplayable), the
session goes on unrecorded, and ``error`` says so. What was committed stays a replayable
INCOMPLETE session. The recorder holds the session's :class:`~storage.journal.SessionLock`
from before its row exists until ``close()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from typing import Any

from .codec import Kind, best_codec, compress, pack
from .journal import Chunk, Journal, JournalError, SessionLock, new_session_id

log = logging.getLogger(__name__)

MAX_PENDING_BYTES = 64 * 1024 * 1024  # the write queue's bound (inputs + events, bytes)
EVENT_OVERHEAD = 48  # bytes counted per pending event besides its JSON (seq, kind, slot, t)
DIGEST_KINDS = frozenset({"opp", "gone", "fee", "sweep", "fill"})


class Digest:
    """The running digest of decision events (the live session's and a replay's)."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self.count = 0

    def add(self, kind: str, slot: int, payload_json: str) -> None:
        if kind in DIGEST_KINDS:
            self._h.update(f"{kind}\t{slot}\t{payload_json}\n".encode())
            self.count += 1

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


class Recorder:
    """Records one session into ``journal`` (``await Recorder.start(...)``)."""

    def __init__(
        self, journal: Journal, session: str, batch_s: float = 0.2, codec: str | None = None,
        max_pending_bytes: int = MAX_PENDING_BYTES, lock: SessionLock | None = None,
    ) -> None:  # fmt: skip
        self.journal, self.session, self.batch_s = journal, session, batch_s
        self.codec = codec or best_codec()
        self.max_pending_bytes = max_pending_bytes
        self.lock = lock
        self.digest = Digest()
        self._inputs: list[bytes] = []
        self._t0 = self._t1 = 0
        self._frames = 0
        self._events: list[tuple[int, str, int, int, str]] = []
        self._opps = 0
        self.pending_bytes = 0  # what the queue holds (inputs packed, events' JSON + overhead)
        self.seq = 0  # inputs recorded
        self.event_seq = 0
        self.chunk_no = 0
        self.written_inputs = 0
        self.flushes = 0
        self.last_flush_s = 0.0
        self.error = ""  # the last write failure (the session goes on; shown on screen)
        self.stopped = False  # recording stopped for good (the queue overflowed)
        self.dropped = 0  # inputs and events not recorded since
        self._write_error = ""  # the last write failure itself (why the queue grew)
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.closed = False

    @classmethod
    async def start(
        cls, journal: Journal, source: str, config: dict[str, Any], versions: dict[str, Any],
        batch_s: float = 0.2, codec: str | None = None,
        max_pending_bytes: int = MAX_PENDING_BYTES,
    ) -> Recorder:  # fmt: skip
        """A new session in ``journal`` and its recorder, flushing every ``batch_s``. The
        session's lock is taken before its row is written (prune never sees it unlocked)."""
        sid = new_session_id()
        lock = SessionLock.acquire(journal.path, sid)
        try:
            await journal.begin_session(source, config, versions, session_id=sid)
        except BaseException:
            lock.release()
            raise
        rec = cls(journal, sid, batch_s, codec, max_pending_bytes, lock)
        rec._task = asyncio.create_task(rec._run())
        return rec

    # ------------------------------------------------------------ hot path (sync)
    def input(self, kind: Kind, endpoint: int, payload: bytes, t_ns: int | None = None) -> None:
        """Append one engine input (``t_ns``: monotonic, now by default)."""
        if self.stopped:
            self.dropped += 1
            return
        t = time.monotonic_ns() if t_ns is None else t_ns
        if not self._inputs:
            self._t0 = t
        self._t1 = t
        packed = pack(kind, endpoint, t, time.time_ns() // 1000, payload)
        self._inputs.append(packed)
        self.pending_bytes += len(packed)
        if kind is Kind.FRAME or kind is Kind.GRPC:  # a stream's message, PubSub or gRPC
            self._frames += 1
        self.seq += 1
        if self.pending_bytes > self.max_pending_bytes:
            self._stop_recording()

    def event(self, kind: str, slot: int, payload: dict[str, Any], t_ns: int = 0) -> None:
        """Append one derived event (digested when it is a decision)."""
        text = canonical(payload)
        self.digest.add(kind, slot, text)
        if self.stopped:
            self.dropped += 1
            return
        self._events.append((self.event_seq, kind, slot, t_ns, text))
        self.pending_bytes += len(text) + EVENT_OVERHEAD
        self.event_seq += 1
        if kind == "opp":
            self._opps += 1
        if self.pending_bytes > self.max_pending_bytes:
            self._stop_recording()

    @property
    def pending(self) -> int:
        """Inputs and events not yet written (the journal's queue depth)."""
        return len(self._inputs) + len(self._events)

    def _stop_recording(self) -> None:
        """The queue overflowed: drop it and record nothing more (see module doc)."""
        self.stopped = True
        self.dropped += self.pending
        self._inputs, self._events, self._frames, self._opps = [], [], 0, 0
        self.pending_bytes = 0
        self.error = self._stopped_message()
        log.error("%s", self.error)

    @property
    def stop_reason(self) -> str:
        """Why recording stopped: the last write failure, or a queue that outgrew the
        journal's pace."""
        return self._write_error or (
            f"the journal could not keep up (over {self.max_pending_bytes / 2**20:g} MiB "
            "waiting to be written)"
        )

    def _stopped_message(self) -> str:
        return (f"{self.stop_reason}; recording stopped at input {self.written_inputs:,}, "
                "the session goes on unrecorded")  # fmt: skip

    # ------------------------------------------------------------ writing
    async def _run(self) -> None:
        while not self.stopped:
            await asyncio.sleep(self.batch_s)
            with contextlib.suppress(Exception):  # flush kept the error; the data stays pending
                await self.flush()

    async def flush(self) -> None:
        """Write what is pending in one transaction (nothing when nothing is)."""
        async with self._lock:
            if not self._inputs and not self._events:
                return
            inputs, events = self._inputs, self._events
            frames, opps, t0, t1 = self._frames, self._opps, self._t0, self._t1
            size = self.pending_bytes
            self._inputs, self._events, self._frames, self._opps = [], [], 0, 0
            self.pending_bytes = 0
            chunk = None
            t_start = time.perf_counter()
            try:
                if inputs:
                    raw = b"".join(inputs)
                    blob = await asyncio.to_thread(compress, raw, self.codec)
                    first = self.written_inputs
                    chunk = Chunk(self.chunk_no, first, len(inputs), t0, t1, self.codec,
                                  len(raw), blob)  # fmt: skip
                await self.journal.write_batch(self.session, chunk, frames, events, opps)
            except BaseException as exc:
                if isinstance(exc, Exception):  # kept and shown (a cancel is no failure)
                    why = str(exc) if isinstance(exc, JournalError) else (
                        f"{type(exc).__name__}: {exc}")  # fmt: skip
                    self._write_error = why[:300]
                    self.error = self._stopped_message() if self.stopped else self._write_error
                if self.stopped:  # dropped meanwhile: nothing goes back
                    self.dropped += len(inputs) + len(events)
                    raise
                # put them back in front: nothing is lost, the next flush retries
                self._inputs = inputs + self._inputs
                self._events = events + self._events
                self._frames += frames
                self._opps += opps
                self.pending_bytes += size
                if inputs:
                    self._t0 = t0
                raise
            if chunk is not None:
                self.chunk_no += 1
                self.written_inputs += len(inputs)
            self.flushes += 1
            self.last_flush_s = time.perf_counter() - t_start
            self._write_error = ""
            self.error = self._stopped_message() if self.stopped else ""

    async def close(self, pnl: float = 0.0) -> str:
        """Stop the batch task, flush, store the digest, release the session's lock; the
        digest (hex), or "" when the recording is incomplete (it stopped, see module doc).
        JournalError when the last flush fails: what was committed stays replayable."""
        try:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
                self._task = None
            if self.stopped:
                return ""
            await self.flush()
            digest = self.digest.hexdigest()
            if not self.closed:
                await self.journal.end_session(self.session, digest, pnl)
                self.closed = True
            return digest
        finally:
            if self.lock is not None:
                self.lock.release()

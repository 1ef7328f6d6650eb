"""The recorder: what a session calls on its hot path (synchronous appends to memory) and
a background task that writes them to the journal in batches.

Every ``batch_s`` seconds (default 0.2), and at once when ``seal_bytes`` of inputs are
waiting, the pending inputs become one compressed chunk and go, with the pending derived
events and the session's counters, into the journal in one transaction. So a crash (even
SIGKILL) loses at most the last batch; everything before is replayable. ``close()``
lets the write in flight finish (once), writes the rest and stores the digest.

The digest is sha256 over the canonical JSON of the *decision* events only (``opp``,
``gone``, ``fee``, ``sweep``, ``fill``): what the engine concluded, never when (no
clocks, no latencies, no feed health), so a replay of the same inputs must match it.

The write queue. Inputs are big (every endpoint's copy of every account notification,
order books of ~90 KB: 8 endpoints at 50 ms slots bring ~130 MB/s) and compress 15-60
times, so they wait raw only until the writer takes them (``seal_bytes`` or ``batch_s``);
a batch that could not be written waits compressed, numbered, and is written again as it
is. ``pending_bytes`` counts what waits in memory: raw inputs, compressed batches and
events. When it passes ``max_pending_bytes`` (default :data:`MAX_PENDING_BYTES`):

- while the journal's writes succeed (the writer is only behind: a start-up burst, a
  busy loop) what waits and later inputs *spill*, in order, to an anonymous file in
  ``$TMPDIR``: a thread of its own compresses them a piece at a time (as the writer
  would: the file holds chunks' blobs) and the writer writes the pieces as chunks; once
  it is drained, inputs wait in memory again. A burst costs nothing but some disk. (Far
  behind, :data:`SPILL_BEHIND` bounds, that thread writes raw pieces, which the writer
  compresses when it takes them: memory stays bounded even when it is starved of CPU.)
- while they fail (a full disk, a journal another process holds): past the bound
  (memory and spill together) recording stops for good — the pending inputs are dropped
  (a gap would make every later input unreplayable), the session goes on unrecorded and
  ``error`` says so. So does a spill the disk cannot take. What was committed stays a
  replayable INCOMPLETE session; ``close()`` stores why, and the PnL.

A write is never cancelled half-way: it runs shielded, a cancelled :meth:`flush` leaves
it to finish, and the next flush (or ``close()``) settles it before going on. A batch
whose write raised is looked up before being written again (its commit may have landed).

The recorder holds the session's :class:`~storage.journal.SessionLock` from before its row
exists until ``close()``, and writes its progress there after each batch: a journal that
later lacks what its recorder committed (its ``-wal`` file deleted, then a crash) says so
in the listing. A ``-wal`` file deleted while recording is noticed at the next batch,
logged, and re-created (see :meth:`~storage.journal.Journal.check_wal`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from .codec import HEADER, ChunkCompressor, Kind, best_codec, compress, compress_parts
from .delta import MIN_SPAN, SpanEncoder, binding
from .journal import Chunk, JournalError, SessionLock, new_session_id

log = logging.getLogger(__name__)

MAX_PENDING_BYTES = 64 * 1024 * 1024  # the write queue's memory bound (bytes), then: spill
SEAL_BYTES = 8 * 1024 * 1024  # raw inputs waiting that wake the writer before batch_s
IOV_MAX = 1024  # buffers per pwritev (Linux's limit)
SPILL_BEHIND = 4  # the spill's thread writes raw past this many queue bounds behind
SPILL_NOTE_S = 60.0  # the log says the queue spilled at most this often
EVENT_OVERHEAD = 48  # bytes counted per pending event besides its JSON (seq, kind, slot, t)
DIGEST_KINDS = frozenset({"opp", "gone", "fee", "sweep", "fill", "rival"})

EventRow = tuple[int, str, int, int, str]
T = TypeVar("T")


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


_made: tuple[object, str] = (None, "")  # the last event whose text was made, and its text


def event_text(event: JournaledEvent) -> str:
    """``canonical(event.payload())`` (or the same text from the event's own
    ``canonical_text()``), made once for the same event object: the session
    makes an opportunity's text to see whether it changed, then hands the same object to
    its sink, which digests (and stores) that text (one entry, by identity: the event is
    held, so its id is not reused while it is; the pair is replaced whole, so a thread
    never reads one event's text for another)."""
    global _made
    made = _made
    if made[0] is event:
        return made[1]
    # an event that writes its canonical text itself (``arbscope.events.Opp``: the same
    # text, made without its dict), else its payload's
    quick = getattr(event, "canonical_text", None)
    text = quick() if quick is not None else None
    if text is None:
        text = canonical(event.payload())
    _made = (event, text)
    return text


class JournalTarget(Protocol):
    """What the recorder writes to: a :class:`~storage.journal.Journal`, or one that also
    hands each chunk on (``arbscope.fleet.TeeJournal``). ``committed``, ``check_wal`` and
    ``end_incomplete`` are used when it has them."""

    @property
    def path(self) -> Path: ...
    def begin_session(
        self,
        source: str,
        config: dict[str, Any],
        versions: dict[str, Any],
        session_id: str | None = None,
    ) -> Awaitable[str]: ...
    def write_batch(
        self,
        session: str,
        chunk: Chunk | None,
        frames: int,
        events: Sequence[EventRow],
        opportunities: int,
    ) -> Awaitable[None]: ...
    def end_session(self, session: str, digest: str, pnl: float = 0.0) -> Awaitable[None]: ...


class JournaledEvent(Protocol):
    """A derived event as the journal takes it (``arbscope.events``: typed records): its
    kind, and the JSON object stored (and, for a decision, digested)."""

    @property
    def kind(self) -> str: ...
    def payload(self) -> dict[str, Any]: ...


@dataclass(slots=True)
class _Batch:
    """One transaction's worth, formed once and written once: a compressed chunk (None
    for events alone), its frames, the events taken with it."""

    chunk: Chunk | None
    frames: int
    events: list[EventRow]
    attempted: bool = False  # a write of it raised: look it up before writing it again
    opps: int = field(init=False)
    size: int = field(init=False)  # what it holds in memory (pending_bytes)

    def __post_init__(self) -> None:
        self.opps = sum(1 for e in self.events if e[1] == "opp")
        self.size = (len(self.chunk.blob) if self.chunk is not None else 0) + sum(
            len(e[4]) + EVENT_OVERHEAD for e in self.events
        )

    @property
    def n(self) -> int:
        return self.chunk.n if self.chunk is not None else 0


def _pwrite_all(fd: int, parts: Sequence[bytes], offset: int) -> int:
    """``parts`` one after another at ``offset`` (pwritev, IOV_MAX buffers at a time, short
    writes resumed); the bytes written."""
    total = 0
    for i in range(0, len(parts), IOV_MAX):
        group = parts[i : i + IOV_MAX]
        want = sum(len(p) for p in group)
        done = os.pwritev(fd, group, offset + total)
        if done < want:  # short (rare): the rest as one piece
            rest = memoryview(b"".join(group))[done:]
            while rest:
                n = os.pwrite(fd, rest, offset + total + done)
                done, rest = done + n, rest[n:]
        total += want
    return total


@dataclass(frozen=True, slots=True)
class _Piece:
    """One piece of the spill file: a chunk's blob, ready to be written as it is."""

    offset: int
    size: int  # bytes in the file
    raw_len: int
    codec: str  # the recorder's, or "none" when the spill was behind (compressed later)
    n: int
    frames: int
    t0: int
    t1: int


class _Spill:
    """Inputs past the memory bound, in order, in an anonymous file (gone with the process,
    however it ends). The hot path only appends to a list; a thread of its own joins each
    few MiB into a piece, compresses it (as the writer would have: the file holds chunks'
    blobs, so spilling costs little more than writing) and appends it to the file; the
    writer reads the pieces back, in order, as chunks. While that thread is behind by more
    than ``max_queued`` raw bytes it writes pieces uncompressed (memory stays bounded), and
    the writer compresses them when it takes them."""

    def __init__(self, where: Path | None, codec: str, piece_bytes: int, max_queued: int) -> None:
        self.file = tempfile.TemporaryFile(prefix=".arbscope-spill-", dir=where)
        self.fd = self.file.fileno()
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="journal-spill")
        self.codec, self.piece_bytes, self.max_queued = codec, piece_bytes, max_queued
        # the piece being gathered (the loop's)
        self.parts: list[bytes] = []  # headers and payloads, in turn
        self.parts_bytes = self.parts_n = self.parts_frames = self.t0 = self.t1 = 0
        self.handed = self.handed_raw = 0  # pieces (raw bytes) handed to the thread
        self.done_raw = 0  # raw bytes of them the thread has written (the thread's)
        self.pieces: collections.deque[_Piece] = collections.deque()  # written, not taken
        self.done = 0  # pieces written (the thread's)
        self.taken = 0  # pieces taken by the writer
        self.count = 0  # inputs not yet taken
        self.unread = 0  # raw bytes not yet taken
        self.offset = 0  # where the next piece goes (the thread's)
        self.error: OSError | None = None  # the thread's write failed (the disk is full)
        self.closed = False
        self._last: Future[None] | None = None
        self._buf = bytearray()  # where raw pieces are read back (the writer's thread)
        self.on_piece: Callable[[], None] | None = None  # a piece is in the file (its thread)

    @property
    def drained(self) -> bool:
        return self.count == 0 and not self.parts and self.taken == self.handed

    def append(self, header: bytes, payload: bytes, frame: bool, t_ns: int) -> None:
        """One input (OSError when an earlier piece could not be written)."""
        if self.error is not None:
            raise self.error
        if not self.parts_n:
            self.t0 = t_ns
        self.t1 = t_ns
        self.parts += (header, payload)
        size = len(header) + len(payload)
        self.parts_bytes += size
        self.parts_n += 1
        self.parts_frames += frame
        self.count += 1
        self.unread += size
        if self.parts_bytes >= self.piece_bytes:
            self.hand_off()

    def adopt(self, parts: list[bytes], n: int, frames: int, t0: int, t1: int, size: int) -> None:
        """The inputs waiting in memory when spilling begins: older than anything spilled
        after them, so they go first (the spill is empty then: it was drained)."""
        if not n:
            return
        self.parts, self.parts_n, self.parts_frames = parts, n, frames
        self.t0, self.t1, self.parts_bytes = t0, t1, size
        self.count += n
        self.unread += size
        self.hand_off()

    def hand_off(self) -> None:
        if not self.parts:
            return
        behind = self.handed_raw - self.done_raw > self.max_queued
        meta = (self.parts_bytes, self.parts_n, self.parts_frames, self.t0, self.t1)
        self.handed += 1
        self.handed_raw += self.parts_bytes
        self._last = self.pool.submit(self._write, self.parts, meta, behind)
        self.parts = []
        self.parts_bytes = self.parts_n = self.parts_frames = 0

    def _write(
        self, parts: list[bytes], meta: tuple[int, int, int, int, int], behind: bool
    ) -> None:
        """In the spill's thread: the piece compressed (raw when ``behind``), appended."""
        raw_len, n, frames, t0, t1 = meta
        try:
            if self.error is not None or self.closed:
                return
            if behind:  # as they are, no copy: the writer compresses them when it takes them
                codec, size = "none", _pwrite_all(self.fd, parts, self.offset)
            else:
                codec = self.codec
                size = _pwrite_all(self.fd, [compress_parts(parts, codec)], self.offset)
            self.pieces.append(_Piece(self.offset, size, raw_len, codec, n, frames, t0, t1))
            self.offset += size
            self.done += 1
            if self.on_piece is not None:
                self.on_piece()
        except OSError as exc:
            self.error = exc
        except Exception as exc:  # a codec that cannot compress: as a failed write
            self.error = OSError(5, f"{type(exc).__name__}: {exc}")
        finally:
            self.done_raw += raw_len

    async def sync(self) -> None:
        """Everything appended is in the file (OSError when it could not be)."""
        self.hand_off()
        if self._last is not None:
            await asyncio.wrap_future(self._last)
        if self.error is not None:
            raise self.error

    def read(self, piece: _Piece, codec: str) -> tuple[bytes, str]:
        """A piece's blob (in a thread: reads only), compressed with ``codec`` when the
        spill had to write it raw."""
        if piece.codec == "none" and codec != "none":  # read into a buffer kept for it
            if len(self._buf) < piece.size:
                self._buf = bytearray(piece.size)
            view = memoryview(self._buf)[: piece.size]
            got = os.preadv(self.fd, [view], piece.offset)
            if got != piece.size:
                raise OSError(5, f"the spill file ended early ({got} of {piece.size} bytes)")
            return compress(view, codec), codec  # type: ignore[arg-type]
        blob = os.pread(self.fd, piece.size, piece.offset)
        if len(blob) != piece.size:
            raise OSError(5, f"the spill file ended early ({len(blob)} of {piece.size} bytes)")
        return blob, piece.codec

    def took(self, piece: _Piece) -> None:
        """The writer has made ``piece`` a chunk."""
        self.pieces.popleft()
        self.taken += 1
        self.count -= piece.n
        self.unread -= piece.raw_len

    def reset(self) -> None:
        """Drained: start the file over (in the spill's thread, before any later piece)."""
        self.pool.submit(self._reset)

    def _reset(self) -> None:
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)
        self.offset = 0

    def close(self) -> None:
        """Give the file back: closed in the spill's thread, after the piece it may be
        writing (the pieces queued behind it are skipped), so no write ever lands on a
        descriptor number reused meanwhile."""
        self.closed = True
        self.pool.submit(self._close_file)
        self.pool.shutdown(wait=False)

    def _close_file(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()


class Recorder:
    """Records one session into ``journal`` (``await Recorder.start(...)``)."""

    def __init__(
        self,
        journal: JournalTarget,
        session: str,
        batch_s: float = 0.2,
        codec: str | None = None,
        max_pending_bytes: int = MAX_PENDING_BYTES,
        lock: SessionLock | None = None,
        seal_bytes: int | None = None,
        spill_dir: str | Path | None = None,
        deltas: bool = True,
        stream: bool = True,
        encoder: SpanEncoder | None = None,
    ) -> None:
        self.journal, self.session, self.batch_s = journal, session, batch_s
        # large accounts stored as deltas against their last stored copy (storage.delta),
        # by ``encoder``: the engine's DeltaEncoder (it takes a frame as the socket's
        # buffer holds it). None, or ``deltas`` False: every input whole, as journals
        # were before Kind.DELTA
        self.deltas: SpanEncoder | None = encoder if deltas else None
        self.codec = codec or best_codec()
        # the chunks' compression: zstd's, one stream over the session flushed at each
        # chunk's end (storage.codec: ChunkCompressor; False: each chunk alone, with a
        # dictionary trained on the session's first inputs, as before)
        self._zc = ChunkCompressor(self.codec, stream=stream)
        self._dict_said = False  # the log said why there is no dictionary
        self.max_pending_bytes = max_pending_bytes
        # a batch big enough to compress well, small enough to leave room in the bound
        self.seal_bytes = seal_bytes or max(1, min(SEAL_BYTES, max_pending_bytes // 4))
        self.lock = lock
        # where the queue spills past its bound: the system's temporary directory ($TMPDIR),
        # as sort(1) does (not beside the journal: a slow journal disk is what the spill
        # rides out, and a nearly full one could not take a start-up burst)
        self.spill_dir = Path(spill_dir) if spill_dir is not None else Path(tempfile.gettempdir())
        self.digest = Digest()
        # raw inputs waiting in memory (older than anything spilled while spilling)
        self._inputs: list[bytes] = []  # headers and payloads, in turn
        self._n = 0  # inputs in _inputs
        self._in_bytes = 0
        self._t0 = self._t1 = 0
        self._frames = 0
        self._events: list[EventRow] = []
        self._ev_bytes = 0
        self._sealing = 0  # raw bytes being compressed (still counted: still in memory)
        self._sealing_n = 0
        self._ready: collections.deque[_Batch] = collections.deque()  # compressed, in order
        self._ready_bytes = 0
        self._spill: _Spill | None = None
        self._spilling = False  # new inputs go to the spill until it is drained
        self.spilled = 0  # inputs that went through the spill (the bound was passed)
        self._spills = 0  # times the bound was passed
        self._spill_said = self._caught_up_said = -SPILL_NOTE_S  # when the log said so
        self.seq = 0  # inputs received
        self.event_seq = 0
        self.chunk_no = 0  # chunks written
        self._next_chunk = 0  # the number the next chunk formed gets
        self._next_seq = 0  # inputs formed into chunks
        self.written_inputs = 0
        self.written_events = 0
        self._writing: _Batch | None = None  # the batch whose write is under way
        self.incomplete = ""  # after close(): why the recording is incomplete ("" if not)
        self.flushes = 0
        self.last_flush_s = 0.0
        self.error = ""  # the last write failure (the session goes on; shown on screen)
        self.stopped = False  # recording stopped for good (see module doc)
        self.dropped = 0  # inputs and events not recorded since
        self._write_error = ""  # the last write failure itself (why the queue grew)
        self._stop_why = ""  # why recording stopped, when not a write failure
        self._announced = False  # the stop was logged (once the write in flight settled)
        self._task: asyncio.Task[None] | None = None
        self._inflight: asyncio.Future[Any] | None = None  # a write or seal under way
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._closing = False
        self.closed = False

    @classmethod
    async def start(
        cls,
        journal: JournalTarget,
        source: str,
        config: dict[str, Any],
        versions: dict[str, Any],
        batch_s: float = 0.2,
        codec: str | None = None,
        max_pending_bytes: int = MAX_PENDING_BYTES,
        seal_bytes: int | None = None,
        encoder: SpanEncoder | None = None,
        stream: bool = True,
    ) -> Recorder:
        """A new session in ``journal`` and its recorder, flushing every ``batch_s``. The
        session's lock is taken before its row is written (prune never sees it unlocked).
        ``stream`` False: each chunk compressed alone (``ChunkCompressor``)."""
        sid = new_session_id()
        lock = SessionLock.acquire(journal.path, sid)
        try:
            await journal.begin_session(source, config, versions, session_id=sid)
        except BaseException:
            lock.release()
            raise
        rec = cls(
            journal,
            sid,
            batch_s,
            codec,
            max_pending_bytes,
            lock,
            seal_bytes,
            encoder=encoder,
            stream=stream,
        )
        rec._task = asyncio.create_task(rec._run(), name=f"recorder-{sid}")
        return rec

    # ------------------------------------------------------------ hot path (sync)
    def input(self, kind: Kind, endpoint: int, payload: bytes, t_ns: int | None = None) -> None:
        """Append one engine input (``t_ns``: monotonic, now by default)."""
        if self.stopped:
            self.dropped += 1
            return
        t = time.monotonic_ns() if t_ns is None else t_ns
        frame = kind is Kind.FRAME or kind is Kind.GRPC  # a stream's message, PubSub or gRPC
        stored: int = kind
        deltas = self.deltas
        if deltas is not None and kind is Kind.BIND:
            bound = binding(payload)
            if bound is not None:
                deltas.bind(endpoint, *bound)
        elif deltas is not None and len(payload) >= MIN_SPAN:
            # (bytes back: a delta, or the payload as bytes; never a view)
            stored, payload = deltas.encode(kind, endpoint, payload)
        if type(payload) is not bytes:  # kept as it is until written: never a view
            payload = bytes(payload)
        # the header and the payload as they are (joined in the writer's thread, not here)
        header = HEADER.pack(stored, endpoint, t, time.time_ns() // 1000, len(payload))
        self.seq += 1
        spill = self._spill
        if self._spilling and spill is not None:
            try:
                spill.append(header, payload, frame, t)
            except OSError as exc:
                self._spill_failed(exc)
                return
            self.spilled += 1
            if self._write_error and self.backlog_bytes > self.max_pending_bytes:
                self._stop_recording()
            elif spill.done > spill.taken:  # a piece is in the file: the writer takes it
                self._wake.set()
            return
        if not self._n:
            self._t0 = t
        self._t1 = t
        self._inputs += (header, payload)
        self._n += 1
        self._in_bytes += len(header) + len(payload)
        self._frames += frame
        if self.pending_bytes > self.max_pending_bytes:
            self._overflow()
        elif self._in_bytes >= self.seal_bytes:
            self._wake.set()

    def emit(self, event: JournaledEvent, slot: int, t_ns: int = 0) -> None:
        """Append one derived event record (:meth:`event` of its kind and payload)."""
        self._text(event.kind, slot, event_text(event), t_ns)

    def event(self, kind: str, slot: int, payload: dict[str, Any], t_ns: int = 0) -> None:
        """Append one derived event (digested when it is a decision)."""
        self._text(kind, slot, canonical(payload), t_ns)

    def _text(self, kind: str, slot: int, text: str, t_ns: int) -> None:
        self.digest.add(kind, slot, text)
        if self.stopped:
            self.dropped += 1
            return
        self._events.append((self.event_seq, kind, slot, t_ns, text))
        self._ev_bytes += len(text) + EVENT_OVERHEAD
        self.event_seq += 1
        if self._write_error and self.backlog_bytes > self.max_pending_bytes:
            self._stop_recording()

    @property
    def pending_bytes(self) -> int:
        """What the queue holds in memory: raw inputs, compressed batches, events."""
        return self._in_bytes + self._sealing + self._ready_bytes + self._ev_bytes

    @property
    def backlog_bytes(self) -> int:
        """``pending_bytes`` and what waits in the spill file."""
        return self.pending_bytes + (self._spill.unread if self._spill is not None else 0)

    @property
    def pending(self) -> int:
        """Inputs and events not yet written (the journal's queue depth)."""
        spilled = self._spill.count if self._spill is not None else 0
        waiting = sum(b.n + len(b.events) for b in self._ready)
        return self._n + len(self._events) + self._sealing_n + spilled + waiting

    def _overflow(self) -> None:
        """Past the memory bound: spill while the writes succeed, else stop."""
        if self._write_error:
            self._stop_recording()
            return
        try:
            if self._spill is None:
                # its thread compresses (faster than writing raw: ~2 GB/s, 15-60 times
                # fewer bytes) unless it falls far behind (CPU-starved): then raw, so memory
                # stays bounded
                self._spill = _Spill(
                    self.spill_dir,
                    self.codec,
                    2 * self.seal_bytes,
                    SPILL_BEHIND * self.max_pending_bytes,
                )
                with contextlib.suppress(RuntimeError):  # (no loop: nothing to wake)
                    self._spill.on_piece = self._piece_ready(asyncio.get_running_loop())
        except OSError as exc:
            self._spill_failed(exc)
            return
        now = time.monotonic()
        self._spills += 1
        if not self._spilling and now - self._spill_said >= SPILL_NOTE_S:  # once a minute
            self._spill_said = now
            log.info(
                "journal: %.0f MiB waiting to be written; further inputs wait in a file "
                "in %s until the writer catches up (%d time%s so far)",
                self.pending_bytes / 2**20,
                self.spill_dir,
                self._spills,
                "" if self._spills == 1 else "s",
            )
        if not self._spilling:  # what waits in memory goes first: order is the spill's
            self._spill.adopt(
                self._inputs, self._n, self._frames, self._t0, self._t1, self._in_bytes
            )
            self._inputs, self._n, self._frames, self._in_bytes = [], 0, 0, 0
        self._spilling = True
        self._wake.set()

    def _piece_ready(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        """What the spill's thread calls when a piece is in the file: the writer wakes
        (even when no input comes to notice it)."""

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to wake
                loop.call_soon_threadsafe(self._wake.set)

        return wake

    def _spill_failed(self, exc: OSError) -> None:
        if self.stopped:  # the spill closed under a read: nothing more to say
            return
        what = "disk full" if exc.errno in (28, 122) else "cannot write"  # ENOSPC, EDQUOT
        self._stop_why = (
            f"{what} at {self.spill_dir}: the journal's queue could not spill "
            f"past its {self.max_pending_bytes / 2**20:g} MiB "
            f"({exc.strerror})"
        )
        self._stop_recording()

    def _stop_recording(self) -> None:
        """Drop what waits and record nothing more (see module doc). Logged once the write
        in flight (if any) settles, so the log and the final message state one count."""
        self.stopped = True
        self._stop_why = self._stop_why or self._write_error  # kept: a later write may succeed
        self._spilling = False
        # what waits is dropped (what is being compressed or written is booked by its task)
        writing = self._writing
        self.dropped += (
            self.pending
            - self._sealing_n
            - (writing.n + len(writing.events) if writing is not None else 0)
        )
        self._inputs, self._events, self._frames, self._n = [], [], 0, 0
        self._in_bytes = self._ev_bytes = self._ready_bytes = 0
        self._ready.clear()
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        self._wake.set()  # the writer ends
        self.error = self.stopped_message
        if self._inflight is None or self._inflight.done():
            self._announce()  # else: when it settles (its count is part of the message)

    def _announce(self) -> None:
        if not self._announced:
            self._announced = True
            self.error = self.stopped_message
            log.error("%s", self.error)

    @property
    def stop_reason(self) -> str:
        """Why recording stopped: the write failure that persisted (or the spill's)."""
        return (
            self._stop_why
            or self._write_error
            or (
                f"the journal's writes failed with over {self.max_pending_bytes / 2**20:g} MiB "
                "waiting to be written"
            )
        )

    @property
    def stopped_message(self) -> str:
        """The one line saying recording stopped, with the count of inputs written (the
        journal holds inputs 1 to that; the log, the status line and the final message
        all state it)."""
        return self._stop_line("goes")

    def _stop_line(self, verb: str) -> str:
        return (
            f"{self.stop_reason}; recording stopped at input {self.written_inputs:,} "
            f"(inputs written; {self.seq:,} received), the session {verb} on "
            "unrecorded"
        )

    # ------------------------------------------------------------ writing
    async def _run(self) -> None:
        while not self.stopped and not self._closing:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.batch_s)
            self._wake.clear()
            if self.stopped or self._closing:
                return
            with contextlib.suppress(Exception):  # flush kept the error; the data stays pending
                await self._flush(wait_spill=False)

    async def _guarded(self, work: Awaitable[T]) -> T:
        """``work`` as a task that a cancel of the caller does not stop (a write runs to its
        end, once); the next flush settles it if the caller was cancelled."""
        task = asyncio.ensure_future(work)
        self._inflight = task
        task.add_done_callback(self._settled)
        return await asyncio.shield(task)

    def _settled(self, task: asyncio.Future[Any]) -> None:
        if not task.cancelled():
            task.exception()  # retrieved (booked by the task itself; the caller re-raises)
        if self.stopped:
            self._announce()

    async def _settle(self) -> None:
        """Wait for what a cancelled flush left in flight (its outcome is booked by it)."""
        task = self._inflight
        if task is not None and not task.done():
            await asyncio.wait([task])

    async def flush(self) -> None:
        """Write what is pending now, in order, a transaction per batch (nothing when
        nothing is). JournalError when a write fails: what was not written stays pending
        (compressed) and is written again by the next flush."""
        await self._flush(wait_spill=True)

    async def _flush(self, wait_spill: bool) -> None:
        """:meth:`flush`; the batch task's (``wait_spill`` False) writes the pieces the
        spill's thread has finished and hands it what gathered, without waiting for it."""
        async with self._lock:
            await self._settle()
            if self.stopped:
                return
            t_start = time.perf_counter()
            if self._n or self._events:
                await self._guarded(self._seal_memory())
            mark = 0  # the pieces of the spill this flush writes (not what comes meanwhile)
            spill = self._spill
            if spill is not None and self._spilling:
                try:
                    if wait_spill:
                        await spill.sync()
                    else:
                        spill.hand_off()  # a crash loses no more than batch_s of it
                        if spill.error is not None:
                            raise spill.error
                except OSError as exc:
                    self._spill_failed(exc)
                    return
                mark = spill.done
            while not self.stopped:
                if not self._ready:
                    spill = self._spill
                    if spill is None or not self._spilling or spill.taken >= mark:
                        break
                    await self._guarded(self._seal_spill(spill))
                    continue
                await self._guarded(self._write_first())
            self.last_flush_s = time.perf_counter() - t_start

    async def _seal_memory(self) -> None:
        """The raw inputs and events in memory become one compressed batch."""
        inputs, events, n = self._inputs, self._events, self._n
        frames, t0, t1, size = self._frames, self._t0, self._t1, self._in_bytes
        self._inputs, self._events, self._frames, self._n = [], [], 0, 0
        self._in_bytes, self._ev_bytes = 0, 0
        self._sealing, self._sealing_n = size, n + len(events)
        try:
            blob = raw_len = codec = made = None
            if n:
                blob, raw_len, codec, made = await asyncio.to_thread(self._compress, inputs)
        except BaseException:
            if not self.stopped:  # back in front: nothing is lost
                self._inputs = inputs + self._inputs
                self._events = events + self._events
                self._n += n
                self._frames += frames
                self._in_bytes += size
                self._ev_bytes += sum(len(e[4]) + EVENT_OVERHEAD for e in events)
                if n:
                    self._t0 = t0
            raise
        finally:
            self._sealing = self._sealing_n = 0
        no = self._next_chunk
        self._add_ready(blob, raw_len, n, frames, t0, t1, events, codec)
        if self._next_chunk > no:  # its chunk is chunk ``no`` (its stream goes on from it)
            self._zc.adopt(made, no)
        if self._zc.error and not self._dict_said:  # recorded without one: said once
            self._dict_said = True
            log.warning("journal: %s (the session is recorded without one)", self._zc.error)

    def _compress(self, inputs: list[bytes]) -> tuple[bytes, int, str, Any]:
        """A batch's chunk, its raw length and codec, and what it brings (its stream, a
        dictionary: ``ChunkCompressor.adopt``) (in a thread: compressing tens of MB is no
        work for the loop; one at a time, under the flush's lock)."""
        blob, codec, made = self._zc.compress(inputs)
        return blob, sum(len(p) for p in inputs), codec, made

    async def _seal_spill(self, spill: _Spill) -> None:
        """The next piece of the spill (and the events in memory) becomes a batch."""
        piece = spill.pieces[0]
        try:
            blob, codec = await asyncio.to_thread(spill.read, piece, self.codec)
        except OSError as exc:
            if not self.stopped:  # (stopped: the file was closed under the read)
                self._spill_failed(exc)
            return
        if self.stopped or spill is not self._spill:
            return
        spill.took(piece)
        events, self._events, self._ev_bytes = self._events, [], 0
        self._add_ready(
            blob, piece.raw_len, piece.n, piece.frames, piece.t0, piece.t1, events, codec
        )
        if spill.drained:
            spill.reset()  # inputs wait in memory again
            self._spilling = False
            if self._caught_up_said < self._spill_said:  # once per spill said
                self._caught_up_said = time.monotonic()
                log.info(
                    "journal: the writer caught up (%s inputs went through the spill file so far)",
                    f"{self.spilled:,}",
                )

    def _add_ready(
        self,
        blob: bytes | None,
        raw_len: int | None,
        n: int,
        frames: int,
        t0: int,
        t1: int,
        events: list[EventRow],
        codec: str | None = None,
    ) -> None:
        if self.stopped:
            self.dropped += n + len(events)
            return
        chunk = None
        if blob is not None and raw_len is not None and n:
            chunk = Chunk(
                self._next_chunk, self._next_seq, n, t0, t1, codec or self.codec, raw_len, blob
            )
            self._next_chunk += 1
            self._next_seq += n
        if chunk is None and not events:
            return
        batch = _Batch(chunk, frames, events)
        self._ready.append(batch)
        self._ready_bytes += batch.size

    async def _write_first(self) -> None:
        """Write the oldest ready batch (in one transaction); book the outcome."""
        batch = self._ready[0]
        self._writing = batch
        try:
            done = batch.attempted and await self._committed(batch)
            if not done:
                try:
                    await self.journal.write_batch(
                        self.session, batch.chunk, batch.frames, batch.events, batch.opps
                    )
                except BaseException as exc:
                    batch.attempted = True
                    done = isinstance(exc, Exception) and await self._committed(batch)
                    if not done:
                        self._failed(batch, exc)
                        raise
        finally:
            self._writing = None
        self._written(batch)
        await self._check_wal()

    async def _committed(self, batch: _Batch) -> bool:
        """Whether a batch whose write raised is in the journal after all."""
        probe = getattr(self.journal, "committed", None)
        if probe is None:
            return False
        first_event = batch.events[0][0] if batch.events else None
        try:
            return bool(
                await probe(self.session, batch.chunk.no if batch.chunk else None, first_event)
            )
        except Exception:
            return False

    def _failed(self, batch: _Batch, exc: BaseException) -> None:
        if isinstance(exc, Exception):  # kept and shown (a cancel is no failure)
            why = str(exc) if isinstance(exc, JournalError) else f"{type(exc).__name__}: {exc}"
            self._write_error = why[:300]
            self.error = self.stopped_message if self.stopped else self._write_error
        if self.stopped:  # dropped meanwhile: nothing waits any more
            self.dropped += batch.n + len(batch.events)

    def _written(self, batch: _Batch) -> None:
        if self._ready and self._ready[0] is batch:
            self._ready.popleft()
            self._ready_bytes -= batch.size
        if batch.chunk is not None:
            self.chunk_no = batch.chunk.no + 1
            self.written_inputs += batch.chunk.n
        self.written_events += len(batch.events)
        self.flushes += 1
        self._write_error = ""
        if self.stopped:
            return
        self.error = ""
        if self.lock is not None:  # what a later listing compares the journal with
            self.lock.progress(self.written_inputs, self.written_events)

    async def _check_wal(self) -> None:
        """Whether the journal's ``-wal`` file is still there (after each batch, between
        the recorder's own transactions); said loudly when it was not."""
        check = getattr(self.journal, "check_wal", None)
        if check is None or self.stopped:
            return
        try:
            note = await check()
        except Exception as exc:
            note = f"journal {getattr(self.journal, 'path', '?')}: checking its -wal file: {exc}"
        if note:
            log.error("%s", note)

    async def close(self, pnl: float = 0.0) -> str:
        """Let the write in flight finish, write the rest, store the digest and the PnL,
        release the session's lock; the digest (hex), or "" when the recording is
        incomplete (it stopped, see module doc: the journal keeps why, and the PnL).
        JournalError when the last flush fails: what was committed stays replayable."""
        try:
            self._closing = True
            self._wake.set()
            if self._task is not None:
                await asyncio.wait([self._task])  # its current write ends, once (no cancel)
                self._task = None
            if self.stopped:
                await self._settle()
                self.incomplete = self._stop_line("went")
                await self._end_incomplete(self.incomplete, pnl)
                return ""
            try:
                await self.flush()
            except JournalError as exc:
                self.incomplete = (
                    f"{exc}; the last {self.pending:,} inputs and events were "
                    f"not written (recorded up to input "
                    f"{self.written_inputs:,})"
                )
                await self._end_incomplete(self.incomplete, pnl)
                raise
            digest = self.digest.hexdigest()
            if not self.closed:
                try:
                    await self.journal.end_session(self.session, digest, pnl)
                except JournalError as exc:
                    self.incomplete = (
                        f"{exc}; all {self.written_inputs:,} inputs were written but not the digest"
                    )
                    raise
                self.closed = True
            return digest
        finally:
            if self._spill is not None:
                self._spill.close()
                self._spill = None
            if self.lock is not None:
                self.lock.release()

    async def _end_incomplete(self, why: str, pnl: float) -> None:
        """Store why the session is incomplete, and its PnL (best effort: the disk that
        stopped the recording may refuse this too; the listing then says "not closed
        cleanly")."""
        end = getattr(self.journal, "end_incomplete", None)
        if end is None:
            return
        try:
            await end(self.session, why, pnl)
        except Exception as exc:
            log.warning(
                "journal: could not store why session %s is incomplete: %s", self.session, exc
            )

"""The recorder: what a session calls on its hot path (synchronous appends to memory) and
a background task that writes them to the journal in batches.

Every ``batch_s`` seconds (default 0.2) the pending inputs become one compressed chunk
and go, with the pending derived events and the session's counters, into the journal in
one transaction. So a crash (even SIGKILL) loses at most the last ``batch_s`` of the
session; everything before is replayable. ``close()`` flushes and stores the digest.

The digest is sha256 over the canonical JSON of the *decision* events only (``opp``,
``gone``, ``fee``, ``sweep``, ``fill``): what the engine concluded, never when (no
clocks, no latencies, no feed health), so a replay of the same inputs must match it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from typing import Any

from .codec import Kind, best_codec, compress, pack
from .journal import Chunk, Journal

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
        self, journal: Journal, session: str, batch_s: float = 0.2, codec: str | None = None
    ) -> None:
        self.journal, self.session, self.batch_s = journal, session, batch_s
        self.codec = codec or best_codec()
        self.digest = Digest()
        self._inputs: list[bytes] = []
        self._t0 = self._t1 = 0
        self._frames = 0
        self._events: list[tuple[int, str, int, int, str]] = []
        self._opps = 0
        self.seq = 0  # inputs recorded
        self.event_seq = 0
        self.chunk_no = 0
        self.written_inputs = 0
        self.flushes = 0
        self.last_flush_s = 0.0
        self.error = ""  # the last write failure (the session goes on; shown on screen)
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.closed = False

    @classmethod
    async def start(
        cls, journal: Journal, source: str, config: dict[str, Any], versions: dict[str, Any],
        batch_s: float = 0.2, codec: str | None = None,
    ) -> Recorder:  # fmt: skip
        """A new session in ``journal`` and its recorder, flushing every ``batch_s``."""
        sid = await journal.begin_session(source, config, versions)
        rec = cls(journal, sid, batch_s, codec)
        rec._task = asyncio.create_task(rec._run())
        return rec

    # ------------------------------------------------------------ hot path (sync)
    def input(self, kind: Kind, endpoint: int, payload: bytes, t_ns: int | None = None) -> None:
        """Append one engine input (``t_ns``: monotonic, now by default)."""
        t = time.monotonic_ns() if t_ns is None else t_ns
        if not self._inputs:
            self._t0 = t
        self._t1 = t
        self._inputs.append(pack(kind, endpoint, t, time.time_ns() // 1000, payload))
        if kind is Kind.FRAME:
            self._frames += 1
        self.seq += 1

    def event(self, kind: str, slot: int, payload: dict[str, Any], t_ns: int = 0) -> None:
        """Append one derived event (digested when it is a decision)."""
        text = canonical(payload)
        self.digest.add(kind, slot, text)
        self._events.append((self.event_seq, kind, slot, t_ns, text))
        self.event_seq += 1
        if kind == "opp":
            self._opps += 1

    @property
    def pending(self) -> int:
        """Inputs and events not yet written (the journal's queue depth)."""
        return len(self._inputs) + len(self._events)

    # ------------------------------------------------------------ writing
    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.batch_s)
            try:
                await self.flush()
            except Exception as exc:  # kept and shown; the data stays pending
                self.error = f"{type(exc).__name__}: {exc}"[:200]

    async def flush(self) -> None:
        """Write what is pending in one transaction (nothing when nothing is)."""
        async with self._lock:
            if not self._inputs and not self._events:
                return
            inputs, events = self._inputs, self._events
            frames, opps, t0, t1 = self._frames, self._opps, self._t0, self._t1
            self._inputs, self._events, self._frames, self._opps = [], [], 0, 0
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
            except BaseException:
                # put them back in front: nothing is lost, the next flush retries
                self._inputs = inputs + self._inputs
                self._events = events + self._events
                self._frames += frames
                self._opps += opps
                if inputs:
                    self._t0 = t0
                raise
            if chunk is not None:
                self.chunk_no += 1
                self.written_inputs += len(inputs)
            self.flushes += 1
            self.last_flush_s = time.perf_counter() - t_start
            self.error = ""

    async def close(self, pnl: float = 0.0) -> str:
        """Stop the batch task, flush, store the digest; the digest (hex)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        digest = self.digest.hexdigest()
        if not self.closed:
            await self.journal.end_session(self.session, digest, pnl)
            self.closed = True
        return digest

"""The journal on a stream: :class:`StreamJournal` publishes a session's chunks,
:class:`TeeJournal` writes SQLite and the stream, :class:`StreamJournalReader` reads
them back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, cast

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RawStreamMsg,
)

from feeds.health import clip
from storage.journal import Chunk, Event, Journal, JournalError, SessionInfo
from storage.recorder import EventRow

from .streams import (
    ACK_TIMEOUT_S,
    FETCH,
    JOURNAL_STREAM,
    Retention,
    connect,
    ensure_stream,
)


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

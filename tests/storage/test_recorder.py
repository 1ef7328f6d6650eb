"""The recorder's write queue under load and at its edges: a burst far past the queue's
bound recorded in full (spilled, drained, back in memory); failing writes still stop it,
with one count in the log and the final message; a stop that lands while a COMMIT is in
flight writes it once; a ``-wal`` file deleted while recording is noticed and made again.

The journals here are real SQLite files; where a test needs a write to be in flight it
gates :meth:`Journal.write_batch` on an event (the COMMIT itself runs on as it does in
aiosqlite's thread: a cancel of the awaiting task does not stop it)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
import re
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import storage.codec
from storage.codec import DICT_CODEC, HEADER, STREAM_CODEC, ChunkDecoder, Kind, unpack
from storage.journal import Journal, JournalError, SessionLock, lock_dir
from storage.recorder import Recorder
from tests.support.processes import run_python


def _payload(rng: random.Random, i: int) -> bytes:
    """~8 KB, compressible like an account notification (a header, repeated data)."""
    return f'{{"n":{i}}}'.encode() + rng.randbytes(64) * 128


async def _recorded(j: Journal, sid: str) -> list[tuple[Kind, int, bytes, int]]:
    out = []
    seq = 0
    decoder = ChunkDecoder()  # (the dictionary a chunk introduces, for the later ones)
    async for c in j.chunks(sid):
        assert c.first_seq == seq  # contiguous, in order, each chunk once
        got = list(unpack(decoder.chunk(c)))
        assert len(got) == c.n
        seq += c.n
        out += [(i.kind, i.endpoint, i.payload, i.t_ns) for i in got]
    return out


async def test_a_burst_far_past_the_queue_bound_is_recorded_in_full(tmp_path: Path) -> None:
    """16 MiB arriving with no chance for the writer to run (no await), 64 times the
    queue's bound: as 8 endpoints' start-up burst is to the 64 MiB default. Nothing is
    dropped: memory stays within the bound, the rest spills; a flush drains it all, in
    order, and later inputs wait in memory again."""
    db = tmp_path / "burst.sqlite"
    bound = 256 * 1024
    rng = random.Random(7)
    async with await Journal.open(db) as j:
        rec = await Recorder.start(j, "sim", {}, {}, batch_s=3600, max_pending_bytes=bound)
        sent = []
        biggest = 0
        for i in range(2_000):
            p = _payload(rng, i)
            sent.append((Kind.FRAME, i % 8, p, 1_000 + i))
            rec.input(Kind.FRAME, i % 8, p, 1_000 + i)
            biggest = max(biggest, HEADER.size + len(p))
            if i % 100 == 0:
                rec.event("opp", i, {"i": i})
            assert rec.pending_bytes <= bound + biggest  # memory: the bound, then the file
        assert not rec.stopped and rec.error == ""
        assert rec.spilled > 1_500 and rec.pending == 2_000 + 20
        await rec.flush()
        assert rec.pending == 0 and rec.written_inputs == 2_000 and rec.chunk_no > 1
        spilled = rec.spilled
        rec.input(Kind.TICK, 0, b"", 10**9)  # the queue drained: back in memory
        sent.append((Kind.TICK, 0, b"", 10**9))
        assert rec.spilled == spilled and rec.pending == 1
        digest = await rec.close(pnl=12.0)
        assert len(digest) == 64 and rec.incomplete == ""
        assert await _recorded(j, rec.session) == sent
        info = await j.session(rec.session)
        assert info.complete and info.inputs == 2_001 and info.frames == 2_000
        assert info.events == 20 and info.opportunities == 20 and info.pnl == 12.0
    assert not list(rec.spill_dir.glob(".arbscope-spill-*"))  # the spill file is anonymous


async def _codecs_of_a_spilled_burst(db: Path, stream: bool) -> dict[int, str]:
    """1,200 inputs recorded into ``db`` (``stream``: the recorder's), flushed every 40
    but from the 500th to the 900th (a burst past the 1 MiB bound: spilled), read back
    in order; each chunk's codec by its number."""
    rng = random.Random(11)
    sent = []
    async with await Journal.open(db) as j:
        rec = await Recorder.start(
            j, "sim", {}, {}, batch_s=3600, max_pending_bytes=1 << 20, stream=stream
        )
        for i in range(1_200):
            p = _payload(rng, i)
            sent.append((Kind.FRAME, i % 3, p, i))
            rec.input(Kind.FRAME, i % 3, p, i)
            if i % 40 == 39 and not 500 <= i < 900:  # (from 500 to 900: a burst, spilled)
                await rec.flush()
        assert rec.spilled > 0
        await rec.close()
        assert await _recorded(j, rec.session) == sent
    rows = sqlite3.connect(db).execute("SELECT no, codec FROM chunks ORDER BY no")
    return dict(rows.fetchall())


async def test_the_chunks_are_one_stream_across_a_spilled_burst_and_read_back(
    tmp_path: Path,
) -> None:
    """Every chunk sealed in memory is a block of the session's stream naming the chunk
    before it in the stream — also after a burst went through the spill file (its chunks
    are compressed alone) between them (a new stream every STREAM_CHUNKS chunks: 256,
    more than this session's); everything reads back in order."""
    codecs = await _codecs_of_a_spilled_burst(tmp_path / "stream.sqlite", stream=True)
    alone = [no for no, c in codecs.items() if c == "zstd"]
    streamed = [no for no in codecs if no not in alone]
    assert alone and len(streamed) > 12
    expected = {no: f"zstd>{before}" for before, no in itertools.pairwise(streamed)}
    assert {no: codecs[no] for no in streamed} == {streamed[0]: STREAM_CODEC, **expected}
    assert alone[0] > streamed[0] and alone[-1] < streamed[-1]  # (the stream went on over it)


async def test_the_chunks_after_the_first_ones_use_their_dictionary_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not as a stream (``stream=False``, the format before): a dictionary is trained on
    the first chunks' inputs (8 and 256 KB here; 64 and 4 MB in a session), travels in the
    next chunk, and every chunk sealed in memory after it names that chunk — also after a
    burst went through the spill file (its chunks are compressed alone) between them;
    everything reads back in order, and a dictionary chunk's number is the one the later
    chunks name."""
    monkeypatch.setattr(storage.codec, "TRAIN_CHUNKS", 8)
    monkeypatch.setattr(storage.codec, "TRAIN_MIN_BYTES", 256 * 1024)
    codecs = await _codecs_of_a_spilled_burst(tmp_path / "dict.sqlite", stream=False)
    (carrier,) = [no for no, c in codecs.items() if c == DICT_CODEC]
    named = {c for no, c in codecs.items() if no > carrier} - {"zstd"}
    assert named == {f"zstd@{carrier}"} and carrier >= 7


async def test_a_dictionary_zstd_refuses_to_train_is_said_once_and_nothing_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """zstd's training fails (here: a dictionary size it cannot fill): the session is
    recorded without one, every input reads back, and the log says why, once."""
    monkeypatch.setattr(storage.codec, "TRAIN_CHUNKS", 4)
    monkeypatch.setattr(storage.codec, "TRAIN_MIN_BYTES", 64 * 1024)
    monkeypatch.setattr(storage.codec, "DICT_BYTES", 16)  # (zstd: "buffer is too small")
    rng = random.Random(5)
    sent = []
    with caplog.at_level(logging.WARNING, logger="storage.recorder"):
        async with await Journal.open(tmp_path / "nodict.sqlite") as j:
            rec = await Recorder.start(j, "sim", {}, {}, batch_s=3600, stream=False)
            for i in range(400):
                p = _payload(rng, i)
                sent.append((Kind.FRAME, 0, p, i))
                rec.input(Kind.FRAME, 0, p, i)
                if i % 20 == 19:
                    await rec.flush()
            await rec.close()
            assert await _recorded(j, rec.session) == sent
    said = [r.getMessage() for r in caplog.records if "dictionary" in r.getMessage()]
    assert len(said) == 1 and "without one" in said[0] and "too small" in said[0], said
    codecs = {
        c
        for (c,) in sqlite3.connect(tmp_path / "nodict.sqlite").execute("SELECT codec FROM chunks")
    }
    assert codecs == {"zstd"}


async def test_the_writer_drains_a_burst_by_itself(tmp_path: Path) -> None:
    """The batch task, not only an explicit flush: woken by the queue's size (not its
    timer, an hour here), it writes the burst and the spill while the session goes on."""
    db = tmp_path / "self.sqlite"
    rng = random.Random(3)
    async with await Journal.open(db) as j:
        rec = await Recorder.start(j, "sim", {}, {}, batch_s=3600, max_pending_bytes=128 * 1024)
        for i in range(600):
            rec.input(Kind.FRAME, i % 4, _payload(rng, i), i)
        assert rec.spilled > 0
        flushed = asyncio.Event()
        real = j.write_batch

        async def write_batch(*args: Any) -> None:
            await real(*args)
            if rec.written_inputs + (args[1].n if args[1] is not None else 0) >= 600:
                flushed.set()

        j.write_batch = write_batch  # type: ignore[method-assign,assignment]
        await asyncio.wait_for(flushed.wait(), 120)  # the task wrote all 600 by itself
        await rec.close()
        assert len(await _recorded(j, rec.session)) == 600


async def test_failing_writes_past_the_bound_stop_with_one_count_everywhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Writes fail (the journal cannot grow); a later attempt is in flight when the queue
    passes its bound. Recording stops; the log line waits for that write to settle, so it
    and the final message state the same count of inputs written (and say it is that)."""
    db = tmp_path / "count.sqlite"
    payload = bytes(range(256)) * 4
    bound = 64 * 1024

    class Flaky(Journal):
        fail = False
        gate: asyncio.Event | None = None
        entered = asyncio.Event()

        async def write_batch(self, *args: Any) -> None:
            if self.fail:
                raise JournalError(f"disk full at {self.path}: the journal cannot grow")
            if self.gate is not None:
                self.entered.set()
                await self.gate.wait()
            await super().write_batch(*args)

    caplog.set_level(logging.ERROR, logger="storage.recorder")
    j = await Flaky.open(db)
    assert isinstance(j, Flaky)
    try:
        rec = await Recorder.start(
            j, "sim", {}, {}, batch_s=3600, codec="none", max_pending_bytes=bound
        )
        for _ in range(10):
            rec.input(Kind.FRAME, 0, payload)
        await rec.flush()
        j.fail = True
        for _ in range(10):
            rec.input(Kind.FRAME, 0, payload)
        with pytest.raises(JournalError, match="disk full"):
            await rec.flush()
        j.fail, j.gate = False, asyncio.Event()
        flushing = asyncio.ensure_future(rec.flush())  # the retry: in flight, held
        await j.entered.wait()
        while not rec.stopped:  # the queue passes its bound while the last write failed
            rec.input(Kind.FRAME, 0, payload)
        assert not [r for r in caplog.records if "recording stopped" in r.getMessage()]
        j.gate.set()  # the write in flight commits after all
        await flushing
        assert rec.written_inputs == 20
        assert await rec.close() == ""
    finally:
        await j.close()
    logged = [r.getMessage() for r in caplog.records if "recording stopped" in r.getMessage()]
    assert len(logged) == 1
    said = re.search(
        r"recording stopped at input ([\d,]+) \(inputs written; ([\d,]+) received", logged[0]
    )
    assert said and said.group(1) == "20", logged[0]
    assert f"recording stopped at input 20 (inputs written; {said.group(2)} received" in (
        rec.incomplete
    )
    assert "disk full" in rec.incomplete
    async with await Journal.open(db, create=False, write=False) as r:
        info = await r.session(rec.session)
    assert not info.complete and info.inputs == 20
    assert info.note is not None and "recording stopped at input 20 " in info.note
    assert info.ended is not None and "recording stopped at input 20" in info.why


async def test_a_spill_the_disk_refuses_stops_recording_as_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spill's own writes fail (ENOSPC): recording stops, said as a full disk where
    it spills ($TMPDIR), and what was committed stays readable."""
    db = tmp_path / "nospace.sqlite"

    def no_space(*_: Any) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "pwrite", no_space)
    monkeypatch.setattr(os, "pwritev", no_space)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read $TMPDIR again
    rng = random.Random(5)
    async with await Journal.open(db) as j:
        rec = await Recorder.start(j, "sim", {}, {}, batch_s=3600, max_pending_bytes=64 * 1024)
        assert rec.spill_dir == tmp_path
        rec.input(Kind.FRAME, 0, b"first")
        await rec.flush()
        i = 0
        while not rec.stopped and i < 10_000:  # over the bound: spilled, then refused
            rec.input(Kind.FRAME, 0, _payload(rng, i))
            if i % 50 == 0:
                await rec.flush()
            i += 1
        assert rec.stopped and rec.error.startswith(f"disk full at {tmp_path}: the journal's")
        written = rec.written_inputs
        assert written >= 1 and f"recording stopped at input {written:,} " in rec.error
        assert await rec.close() == ""
        info = await j.session(rec.session)
        assert info.inputs == written and info.note is not None and "disk full" in info.note


class GatedCommit(Journal):
    """``write_batch`` as aiosqlite runs it: the transaction goes on in the connection's
    thread (a task of its own, one transaction after another) whatever happens to the
    task awaiting it; the first one's COMMIT waits for ``gate``."""

    gate: asyncio.Event
    entered: asyncio.Event
    calls = 0

    async def write_batch(self, *args: Any) -> None:
        self.calls += 1
        if not hasattr(self, "thread"):
            self.thread = asyncio.Lock()
        commit = asyncio.ensure_future(self._commit(args))
        self.entered.set()
        await asyncio.shield(commit)  # a cancel reaches the caller, not the commit

    async def _commit(self, args: tuple[Any, ...]) -> None:
        async with self.thread:  # statements run in order, as in the connection's thread
            await self.gate.wait()
            await Journal.write_batch(self, *args)


async def test_a_stop_during_a_commit_writes_it_once_and_completes(tmp_path: Path) -> None:
    """``close()`` while the batch task's COMMIT is in flight: the write finishes, once
    (no "UNIQUE constraint failed"), and the session is complete with its digest."""
    db = tmp_path / "race.sqlite"
    j = await GatedCommit.open(db)
    assert isinstance(j, GatedCommit)
    j.gate, j.entered = asyncio.Event(), asyncio.Event()
    try:
        rec = await Recorder.start(j, "sim", {}, {}, batch_s=0.001)
        for i in range(4):
            rec.input(Kind.FRAME, 0, f"frame {i}".encode(), i)
            rec.event("opp", i, {"i": i})
        await j.entered.wait()  # the batch task is in its COMMIT
        closing = asyncio.ensure_future(rec.close(pnl=5.0))
        await asyncio.sleep(0)  # one turn: close() has begun (main cancelled the task here)
        j.gate.set()
        digest = await closing
        assert len(digest) == 64 and rec.incomplete == ""
        assert j.calls == 1  # the batch held everything: written once, nothing left
        info = await j.session(rec.session)
        assert info.complete and info.inputs == 4 and info.events == 4 and info.pnl == 5.0
        chunks = [c.no async for c in j.chunks(rec.session)]
        assert chunks == [0]
    finally:
        await j.close()


async def test_a_batch_whose_write_raised_after_its_commit_is_not_written_again(
    tmp_path: Path,
) -> None:
    """The write raised although its COMMIT landed: the batch is looked up before it is
    written again, so its chunk number is not reused."""
    db = tmp_path / "landed.sqlite"

    class Landed(Journal):
        lie = True

        async def write_batch(self, *args: Any) -> None:
            await super().write_batch(*args)
            if self.lie:
                self.lie = False
                raise JournalError(f"journal {self.path}: disk I/O error")

    async with await Landed.open(db) as j:
        rec = await Recorder.start(j, "sim", {}, {}, batch_s=3600)
        rec.input(Kind.FRAME, 0, b"one")
        await rec.flush()  # raised, looked up: it is there
        rec.input(Kind.FRAME, 0, b"two")
        assert len(await rec.close()) == 64
        assert [i[2] for i in await _recorded(j, rec.session)] == [b"one", b"two"]


async def test_a_deleted_wal_file_is_noticed_and_made_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``rm journal.sqlite-wal`` while recording: SQLite would go on writing into the
    deleted file, and a crash would lose everything since the last checkpoint (the whole
    session when short). The next batch notices it, says so, puts what the log held into
    the journal and makes a new one: a copy of the journal file alone (what a SIGKILL
    leaves) holds the session."""
    db = tmp_path / "wal.sqlite"
    caplog.set_level(logging.ERROR, logger="storage.recorder")
    async with await Journal.open(db) as j:
        await j.db.execute("PRAGMA wal_autocheckpoint=0")  # everything stays in the -wal
        rec = await Recorder.start(j, "sim", {}, {}, batch_s=3600)
        rec.input(Kind.FRAME, 0, b"before")
        await rec.flush()
        wal = Path(f"{db}-wal")
        wal.unlink()
        rec.input(Kind.FRAME, 0, b"after")
        rec.event("opp", 1, {"x": 1})
        await rec.flush()
        said = [r.getMessage() for r in caplog.records]
        assert any(
            f"write-ahead log {wal} was deleted" in m and "nothing is lost" in m for m in said
        ), said
        assert wal.exists()
        killed = tmp_path / "killed.sqlite"
        shutil.copy(db, killed)  # the journal file alone: what a SIGKILL would leave now
        with sqlite3.connect(killed) as c:
            row = c.execute("SELECT inputs, events FROM sessions WHERE id=?", (rec.session,))
            assert row.fetchone() == (2, 1)
        rec.input(Kind.FRAME, 0, b"later")  # and recording goes on into the new one
        assert len(await rec.close()) == 64
        assert [i[2] for i in await _recorded(j, rec.session)] == [b"before", b"after", b"later"]


async def test_the_listing_says_what_a_lost_write_ahead_log_took(tmp_path: Path) -> None:
    """A recorder killed after its ``-wal`` file was deleted: the journal holds less of
    the session than the recorder committed (or no row at all). Its lock file said how
    much; the listing says what was lost instead of showing nothing."""
    db = tmp_path / "lost.sqlite"
    async with await Journal.open(db) as j:
        kept = await j.begin_session("sim", {}, {}, session_id="20260101-000000-aaaa")
        await j.write_batch(kept, None, 0, [(0, "opp", 1, 0, "{}")], 1)
    # the recorders, killed: their locks left behind (the OS released them), saying what
    # they had committed; one's row is short by 40 inputs, the other's is gone entirely
    for sid, inputs in (("20260101-000000-aaaa", 40), ("20260101-000000-bbbb", 900)):
        lock = SessionLock.acquire(db, sid)
        lock.progress(inputs, 7)
        os.close(lock._fd)  # as a SIGKILL: the file stays, the lock is released
    async with await Journal.open(db, create=False, write=False) as j:
        (info,) = await j.sessions()
        assert info.state == "INCOMPLETE" and info.lost == 40
        assert "lost its last 40 inputs" in info.why
        lost = await j.lost_sessions()
        assert [(s.id, s.inputs) for s in lost] == [("20260101-000000-bbbb", 900)]
    assert (lock_dir(db) / "20260101-000000-bbbb.lock").exists()
    listed = run_python(["-m", "arbscope", "sessions", "--db", str(db)])
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert any(
        line.startswith("20260101-000000-aaaa") and "lost its last 40 inputs" in line
        for line in lines
    ), listed.stdout
    assert any(
        line.startswith("20260101-000000-bbbb")
        and "LOST" in line
        and "committed 900 inputs" in line
        for line in lines
    ), listed.stdout
    # the whole journal gone with its -wal (its schema too): the file is "empty", and
    # the message says what its recorder had committed
    empty = tmp_path / "empty.sqlite"
    with contextlib.closing(sqlite3.connect(empty)) as c:
        c.execute("PRAGMA journal_mode=WAL")
    lock = SessionLock.acquire(empty, "20260101-000000-cccc")
    lock.progress(500, 3)
    os.close(lock._fd)
    r = run_python(["-m", "arbscope", "sessions", "--db", str(empty)])
    assert r.returncode == 2 and "is empty: no sessions recorded" in r.stderr, r.stderr
    assert "had committed 20260101-000000-cccc (500 inputs)" in r.stderr, r.stderr
    assert "write-ahead log (-wal) was deleted or damaged" in r.stderr


@pytest.mark.slow
@settings(max_examples=25)
@given(
    st.lists(
        st.tuples(st.integers(0, 150), st.integers(1, 300), st.sampled_from(["yield", "flush"])),
        min_size=20,
        max_size=120,
    )
)
def test_inputs_are_recorded_in_the_order_received_whatever_the_queue_does(
    steps: list[tuple[int, int, str]],
) -> None:
    """Bursts of inputs of any size, the writer running between them (its batch task every
    millisecond, explicit flushes), the queue small enough to spill and drain again and
    again, a batch compressing while the bound is passed: the journal holds every input,
    each once, in the order received."""

    async def go(db: Path) -> None:
        async with await Journal.open(db) as j:
            rec = await Recorder.start(j, "sim", {}, {}, batch_s=0.001, max_pending_bytes=32 * 1024)
            i = 0
            for n, size, then in steps:
                for _ in range(n):
                    rec.input(Kind.FRAME, i % 5, f"{i:08d}".encode() + b"x" * size, i)
                    i += 1
                if then == "flush":
                    await rec.flush()
                else:
                    await asyncio.sleep(0)  # one turn of the loop: the writer may run
            assert len(await rec.close()) == 64
            got = [int(x[2][:8]) for x in await _recorded(j, rec.session)]
            assert got == list(range(i))

    with tempfile.TemporaryDirectory() as d:
        asyncio.run(go(Path(d) / "order.sqlite"))


def test_an_events_text_is_made_once_per_object_and_is_its_canonical_json() -> None:
    from storage.recorder import canonical, event_text

    class Ev:
        kind = "opp"

        def __init__(self, profit: int) -> None:
            self.profit, self.made = profit, 0

        def payload(self) -> dict[str, int | list[str]]:
            self.made += 1
            return {"profit": self.profit, "pools": ["b", "a"]}

    a, b = Ev(1), Ev(2)
    assert event_text(a) == canonical(a.payload()) == '{"pools":["b","a"],"profit":1}'
    made = a.made
    assert event_text(a) == event_text(a)  # the same object: made once
    assert a.made == made
    assert event_text(b) == canonical({"profit": 2, "pools": ["b", "a"]})
    assert event_text(a) != event_text(b)  # another object in between: made again
    assert a.made == made + 1

"""The journal end to end: a simulated session recorded over loopback PubSub, replayed
headless at max and at 10x to the digest recorded live; a recording killed with SIGKILL;
damaged, foreign and newer journals; retention and export."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from arbscope.replay import ReplaySession, load_info
from storage.codec import Input, Kind, json_payload
from storage.journal import SCHEMA_VERSION, Journal, JournalError
from tests.support.hostile import until, until_answered
from tests.support.processes import run_python
from tests.support.recording import record

ROOT = Path(__file__).resolve().parents[2]


def arbscope(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run_python(["-m", "arbscope", *args], timeout=timeout)


def _recording(db: Path, seconds: int, *extra: str) -> subprocess.Popen[str]:
    """A second process recording the simulator's seed 6 into ``db`` for up to
    ``seconds``, its journal's batches every 100 ms; its output piped as text."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arbscope",
            "run",
            "--headless",
            "--seed",
            "6",
            *extra,
            "--duration",
            str(seconds),
            "--db",
            str(db),
            "--batch-ms",
            "100",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextlib.asynccontextmanager
async def _replay_inputs(db: Path, sid: str) -> AsyncIterator[tuple[ReplaySession, list[Any]]]:
    """The replay of session ``sid`` started, with every input its journal holds; stopped
    at the end of the block."""
    r = ReplaySession(db, await load_info(db, sid))
    await r.start()
    try:
        yield r, [inp async for inp in r.cursor.inputs()]
    finally:
        await r.stop()


def _copy(db: Path, to: Path) -> Path:
    """A copy of the journal ``db`` at ``to`` (SQLite's backup: a consistent one)."""
    with sqlite3.connect(db) as src, sqlite3.connect(to) as dst:
        src.backup(dst)
    return to


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A 4 s simulated session (seed 11) recorded live: (db, session id, digest)."""
    db = tmp_path_factory.mktemp("rec") / "j.sqlite"

    s = record(db, 11, 4.0)
    assert s.start_error == ""
    assert s.session_id and len(s.digest) == 64
    return db, s.session_id, s.digest


async def replay_digest(db: Path, sid: str, speed: float) -> tuple[str, ReplaySession]:
    r = ReplaySession(db, await load_info(db, sid))
    await r.start()
    try:
        return await r.play(speed), r
    finally:
        await r.stop()


@pytest.mark.slow
def test_replay_digest_equals_the_live_one_at_max_and_at_10x(
    recorded: tuple[Path, str, str],
) -> None:
    db, sid, live = recorded

    async def go() -> None:
        info = await load_info(db, sid)
        assert info.complete and info.digest == live
        assert info.frames > 100 and info.opportunities > 0
        # the tick arrays' frames (13 KB of base64) are stored as deltas (storage.delta)
        kinds = set()
        async with await Journal.open(db, create=False, write=False) as j:
            kinds.update([i.kind async for i in j.stored_inputs(sid)])
        assert Kind.DELTA in kinds
        fast, r = await replay_digest(db, sid, float("inf"))
        assert fast == live
        assert r.frames_applied == info.frames and r.applied == info.inputs
        assert r.sink.opportunities == info.opportunities
        slow, _ = await replay_digest(db, sid, 10.0)
        assert slow == fast

    asyncio.run(go())


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["rust", "python"])
def test_the_committed_recording_replays_to_its_digest(tmp_path: Path, backend: str) -> None:
    """``tests/data/replay-seed2.sqlite`` (recorded live by ``arbscope run --headless
    --seed 2 --duration 8``) replays to the digest recorded with it, on either engine: a
    change that alters a decision of the engine shows here first (re-record it only when
    the change is meant to)."""
    import shutil

    import engine_rs

    if backend == "rust":
        try:
            engine_rs.load("rust")
        except ImportError:
            pytest.skip("the Rust extension is not built")
    db = tmp_path / "replay.sqlite"  # a copy: opening a journal switches it to WAL
    shutil.copyfile(ROOT / "tests" / "data" / "replay-seed2.sqlite", db)
    env = {**os.environ, "ARBSCOPE_ENGINE": backend}
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "arbscope",
            "replay",
            "--db",
            str(db),
            "",
            "--headless",
            "--speed",
            "max",
            "--digest",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    assert p.returncode == 0, p.stderr
    assert "digest matches the live recording" in p.stderr + p.stdout


def test_a_different_engine_state_gives_a_different_digest(recorded: tuple[Path, str, str]) -> None:
    """The digest is not a constant: a replay that loses the second half of the frames
    decides otherwise. (Dropping a fraction of the frames spread over the session need
    not: the endpoints send each notification three times and the first copy of each
    is enough.)"""
    db, sid, live = recorded

    async def go() -> str:
        async with _replay_inputs(db, sid) as (r, inputs):
            frames = sum(inp.kind.name == "FRAME" for inp in inputs)
            n = 0
            for inp in inputs:
                if inp.kind.name == "FRAME":
                    n += 1
                    if n > frames // 2:
                        continue
                r.apply(inp)
        return r.sink.digest.hexdigest()

    assert asyncio.run(go()) != live


def test_the_epoch_schedule_is_recorded_once_and_replayed(recorded: tuple[Path, str, str]) -> None:
    """The session reads ``getEpochSchedule`` once at its start (the simulator's is
    mainnet's) and records it before any account; a replay hands a recorded schedule to
    every backend's graph (one of 64 slots an epoch makes that visible). A recording from
    before the input replays on mainnet's, the engine's default (the committed one)."""
    db, sid, _ = recorded

    async def go() -> None:
        async with _replay_inputs(db, sid) as (r, inputs):
            pass
        kinds = [inp.kind for inp in inputs]
        assert kinds.count(Kind.EPOCH_SCHEDULE) == 1
        at = kinds.index(Kind.EPOCH_SCHEDULE)
        assert inputs[at].json() == [432_000, False, 0, 0]
        assert at < kinds.index(Kind.ACCOUNT)
        r.apply(Input(Kind.EPOCH_SCHEDULE, 0, inputs[at].t_ns, 0, json_payload([64, True, 1, 32])))
        for g in r.session.graphs.values():
            g.set_slot(32 + 5 * 64)
            assert g.epoch == 6  # 1 + 5 full epochs past the first normal slot
        r.apply(Input(Kind.EPOCH_SCHEDULE, 0, 0, 0, json_payload([8, False, 0, 0])))  # refused
        assert all(g.epoch == 6 for g in r.session.graphs.values())

    asyncio.run(go())


def test_screen_controls_step_seek_back_and_play_to_the_same_digest(
    recorded: tuple[Path, str, str],
) -> None:
    """The screen's controls on the replay's own run loop and clock. Steps are exact
    whatever the machine's load: a frame step applies the inputs through the next frame,
    a slot step those through the first tick after the slot moved, reading the journal
    as far as that takes (it once stopped at whatever a background reader had buffered)."""
    from arbscope.runloop import ManualClock

    db, sid, live = recorded

    async def go() -> None:
        info = await load_info(db, sid)
        wall = ManualClock()  # paces the recording at 1x: it moves only when told
        r = ReplaySession(db, info, speed=1.0, clock=wall)
        await r.start()
        loop = asyncio.create_task(r.run())
        try:
            await r.step_frame()
            assert r.frames_applied == 1 and r.paused
            slot, applied = r.session.ingest.stats().slot, r.applied
            await r.step_slot()
            assert r.session.ingest.stats().slot > slot and r.applied > applied
            # the step ended on the tick that followed the slot's move: what comes next is
            # the first input after it, and nothing after it was applied
            after = r.cursor.next or await r.cursor.peek()
            assert after is not None and r.pos_ns <= after.t_ns - r.t0_ns
            # the same steps on another replay apply the same inputs, whatever the load
            again = ReplaySession(db, info, speed=1.0, clock=ManualClock())
            await again.start()
            try:
                await again.step_frame()
                await again.step_slot()
                assert (again.applied, again.pos_ns) == (r.applied, r.pos_ns)
                assert again.session.slot == r.session.slot
            finally:
                await again.stop()
            r.seek(2.0)  # the run loop's next turn fast-forwards, then pauses
            await until(lambda: r.target_ns is None, 60)
            assert r.pos_ns == 2_000_000_000 and r.paused
            before = r.applied
            r.seek(0.5)  # backwards: rebuilt and fast-forwarded from the start
            await until(lambda: r.target_ns is None, 60)
            assert r.pos_ns == 500_000_000 and 0 < r.applied < before
            frames = r.frames_applied
            wall.advance(10**9)  # paused: the wall clock moves, the recording does not
            await asyncio.sleep(0)
            assert r.frames_applied == frames
            r.toggle_pause()  # play at 1x: 200 ms of recording per 200 ms of the wall
            await wall.parked()
            wall.advance(200_000_000)
            await wall.parked()
            # 200 ms played: every input recorded up to 0.7 s is applied and the next one
            # lies beyond (the recording is made live, so how many frames fell in
            # (0.5, 0.7] s depends on the machine that recorded it: maybe none)
            assert r.pos_ns == 700_000_000 and r.frames_applied >= frames
            due = r.cursor.next  # read, not applied: the first input after 0.7 s
            assert due is not None and due.t_ns - r.t0_ns > 700_000_000
            r.speed = float("inf")  # then as fast as it reads: to the end
            wall.advance(200_000_000)
            await until(lambda: r.ended, 120)
            assert r.sink.digest.hexdigest() == live
            assert r.applied == info.inputs and r.frames_applied == info.frames
            assert "end of the recording" in r.snapshot.note
            assert r.snapshot.source.startswith(f"REPLAY {sid}")
        finally:
            await r.stop()
            await loop

    asyncio.run(go())


@pytest.mark.slow
def test_headless_cli_records_lists_replays_and_exports(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.sqlite")
    run = arbscope("run", "--headless", "--seed", "4", "--duration", "2.5", "--db", db)
    assert run.returncode == 0, run.stderr
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines())
    sid, digest = lines["session"], lines["digest"]
    listed = arbscope("sessions", "--db", db)
    assert listed.returncode == 0 and sid in listed.stdout and "complete" in listed.stdout
    rep = arbscope("replay", sid, "--db", db, "--headless", "--speed", "max", "--digest")
    assert rep.returncode == 0, rep.stderr
    assert rep.stdout.strip() == digest and "matches" in rep.stderr
    out = arbscope("export", sid[:12], "--db", db, "--out", str(tmp_path / "x"))
    assert out.returncode == 0, out.stderr
    with open(tmp_path / "x" / f"{sid}-opportunities.csv") as f:
        rows = list(csv.DictReader(f))

    async def opps() -> int:
        async with await Journal.open(db, create=False) as j:
            return len(await j.events(sid, ["opp"]))

    assert len(rows) == asyncio.run(opps()) > 0
    assert all(r["path"].count(">") == int(r["hops"]) for r in rows)
    norec = arbscope(
        "run", "--headless", "--seed", "4", "--duration", "1", "--db", db, "--no-record"
    )
    assert norec.returncode == 0 and "session" not in norec.stdout


@pytest.mark.slow
def test_sigkill_mid_session_leaves_a_replayable_incomplete_session(tmp_path: Path) -> None:
    db = tmp_path / "killed.sqlite"
    proc = _recording(db, 60)
    try:
        _wait_frames(db, 300)  # (the other process's committed rows: read until there)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    listed = arbscope("sessions", "--db", str(db))
    assert listed.returncode == 0, listed.stderr
    assert "INCOMPLETE" in listed.stdout
    sid = listed.stdout.splitlines()[1].split()[0]

    async def committed() -> tuple[int, int]:
        async with await Journal.open(db, create=False) as j:
            info = await j.session(sid)
            return info.inputs, info.frames

    inputs, frames = asyncio.run(committed())
    rep = arbscope("replay", sid, "--db", str(db), "--headless", "--digest")
    assert rep.returncode == 0, rep.stderr
    assert "incomplete" in rep.stderr and "Traceback" not in rep.stderr
    assert f"{inputs:,} inputs, {frames:,} frames" in rep.stderr
    assert len(rep.stdout.strip()) == 64


def bad(*args: str) -> str:
    r = arbscope(*args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.startswith("arbscope: ")
    return r.stderr


@pytest.mark.slow
def test_bad_journals_and_ids_are_messages_with_exit_status_2(
    recorded: tuple[Path, str, str], tmp_path: Path
) -> None:
    db, sid, _ = recorded
    trunc = tmp_path / "trunc.sqlite"
    trunc.write_bytes(db.read_bytes()[:4096])
    assert "damaged" in bad("sessions", "--db", str(trunc))
    assert "damaged" in bad("replay", sid, "--db", str(trunc), "--headless")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    assert "damaged or not an arbscope journal" in bad("sessions", "--db", str(junk))
    assert "no journal" in bad("sessions", "--db", str(tmp_path / "missing.sqlite"))
    assert "no session 'nope'" in bad("replay", "nope", "--db", str(db), "--headless")
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as c:
        c.execute("CREATE TABLE t(x)")
    assert "not an arbscope journal" in bad("sessions", "--db", str(foreign))
    newer = tmp_path / "newer.sqlite"
    newer.write_bytes(db.read_bytes())
    for suffix in ("-wal", "-shm"):
        side = Path(str(db) + suffix)
        if side.exists():
            Path(str(newer) + suffix).write_bytes(side.read_bytes())
    with sqlite3.connect(newer) as c:
        c.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    assert "newer arbscope" in bad("sessions", "--db", str(newer))
    assert "newer arbscope" in bad("replay", sid, "--db", str(newer), "--headless")


@pytest.mark.slow
def test_a_damaged_chunk_stops_the_replay_with_a_message(
    recorded: tuple[Path, str, str], tmp_path: Path
) -> None:
    db, sid, _ = recorded
    copy = _copy(db, tmp_path / "chunk.sqlite")
    with sqlite3.connect(copy) as c:
        c.execute("UPDATE chunks SET blob=X'00112233' WHERE session=? AND no=3", (sid,))
    err = bad("replay", sid, "--db", str(copy), "--headless")
    assert "chunk is damaged" in err


def test_prune_by_age_and_by_size(tmp_path: Path) -> None:
    db = tmp_path / "prune.sqlite"

    async def go() -> None:
        async with await Journal.open(db) as j:
            ids = [await j.begin_session("sim", {"n": i}, {}) for i in range(4)]
            for i, s in enumerate(ids):
                await j.db.execute(
                    "UPDATE sessions SET started=?, stored_bytes=? WHERE id=?",
                    (time.time() - (40 - i) * 86400 * (i < 2), 1000, s),
                )
            gone = await j.prune(older_than_s=30 * 86400)
            assert gone.deleted == ids[:2] and gone.skipped == [] and gone.note == ""
            gone = await j.prune(max_bytes=1000)
            assert gone.deleted == [ids[2]]
            assert [s.id for s in await j.sessions()] == [ids[3]]

    asyncio.run(go())
    r = arbscope("sessions", "prune", "--db", str(db), "--older-than", "30x")
    assert r.returncode == 2 and "30d" in r.stderr
    r = arbscope("sessions", "prune", "--db", str(db), "--older-than", "30d")
    assert r.returncode == 0 and "deleted 0 session(s)" in r.stdout


def test_schema_is_created_once_and_reopened(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"

    async def go() -> None:
        async with await Journal.open(db) as j:
            sid = await j.begin_session("sim", {"a": 1}, {"v": 1})
        async with await Journal.open(db, create=False) as j:
            (s,) = await j.sessions()
            assert s.id == sid and not s.complete and s.config == {"a": 1}
            rows = await j.db.execute_fetchall("PRAGMA journal_mode")
            assert next(iter(rows))[0] == "wal"
        with pytest.raises(JournalError, match="no journal"):
            await Journal.open(tmp_path / "none.sqlite", create=False)

    asyncio.run(go())


# ------------------------------------------------------------------ issue 15: journal safety
def _wait_frames(db: Path, at_least: int, timeout: float = 60) -> None:
    """Until the journal's sessions hold ``at_least`` frames, read (read-only) every
    0.1 s: another process's committed rows are the only sign of its progress."""
    frames = [0]

    async def enough() -> bool:
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                    (frames[0],) = c.execute(
                        "SELECT COALESCE(SUM(frames), 0) FROM sessions"
                    ).fetchone()
            except sqlite3.Error:
                frames[0] = 0
        return frames[0] >= at_least

    try:
        asyncio.run(until_answered(enough, timeout, every=0.1))
    except TimeoutError:
        raise AssertionError(f"the recording never got going ({frames[0]} frames)") from None


@pytest.mark.slow
def test_prune_never_deletes_a_session_a_live_process_records(tmp_path: Path) -> None:
    """A real second process records while prune runs: its session is listed RECORDING,
    skipped by prune (which says so and exits 0), and finishes and replays to its digest;
    a session whose process is gone (no lock held) is deleted."""
    db = tmp_path / "j.sqlite"

    async def dead() -> str:  # what a killed recorder leaves: an incomplete row, no lock
        async with await Journal.open(db) as j:
            return await j.begin_session("sim", {}, {})

    gone = asyncio.run(dead())
    proc = _recording(db, 120, "--no-metrics")
    try:
        _wait_frames(db, 200)
        listed = arbscope("sessions", "--db", str(db))
        assert listed.returncode == 0, listed.stderr
        rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
        live = next(s for s in rows if s != gone)
        assert "RECORDING" in rows[live] and "INCOMPLETE" in rows[gone]
        pruned = arbscope("sessions", "prune", "--db", str(db), "--older-than", "0s")
        assert pruned.returncode == 0, pruned.stderr
        assert "deleted 1 session(s)" in pruned.stdout and gone in pruned.stdout
        assert "skipped 1 session(s) still being recorded" in pruned.stdout
        assert live in pruned.stdout.split("skipped", 1)[1]
        _wait_frames(db, 400)  # it goes on recording after the prune
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"session {live}" in out
    digest = out.split("digest ", 1)[1].strip()
    rep = arbscope("replay", live, "--db", str(db), "--headless", "--digest")
    assert rep.returncode == 0, rep.stderr
    assert rep.stdout.strip() == digest and "matches" in rep.stderr
    after = arbscope("sessions", "--db", str(db))
    assert gone not in after.stdout and "complete" in after.stdout
    assert not (tmp_path / ".j.sqlite.locks" / f"{gone}.lock").exists()


@pytest.mark.slow
def test_prune_reports_what_it_deleted_when_only_giving_space_back_is_blocked(
    tmp_path: Path,
) -> None:
    """Another process reads the journal (a read transaction held open): the deletion is
    committed and reported (exit 0) with a note, never "exit 2" after deleting."""
    db = tmp_path / "j.sqlite"

    async def make() -> list[str]:
        async with await Journal.open(db) as j:
            ids = [await j.begin_session("sim", {"n": i}, {}) for i in range(3)]
            await j.db.execute("UPDATE sessions SET started=started-86400")
            return ids

    ids = asyncio.run(make())
    reader = sqlite3.connect(db, isolation_level=None)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 3
        r = arbscope("sessions", "prune", "--db", str(db), "--older-than", "1h")
    finally:
        reader.close()
    assert r.returncode == 0, r.stderr
    assert "deleted 3 session(s)" in r.stdout and all(s in r.stdout for s in ids)
    assert "note: another process is using the journal" in r.stdout
    listed = arbscope("sessions", "--db", str(db))
    assert "(no sessions)" in listed.stdout


@pytest.mark.slow
def test_prune_sizes_and_ages_say_what_is_accepted(tmp_path: Path) -> None:
    from arbscope.cli.journal import age_s as _age_s
    from arbscope.cli.journal import size_b as _size_b

    assert _size_b("2GB") == 2 << 30 and _size_b("500 MB") == 500 << 20
    assert _size_b("1.5k") == 1536 and _size_b("4096") == 4096 and _size_b("3MiB") == 3 << 20
    assert _age_s("30d") == 30 * 86400 and _age_s("90m") == 5400
    db = tmp_path / "p.sqlite"
    for flag, value in (
        ("--max-size", "lots"),
        ("--max-size", "inf"),
        ("--max-size", "-1GB"),
        ("--older-than", "abcd"),
        ("--older-than", "nand"),
    ):
        err = bad("sessions", "prune", "--db", str(db), f"{flag}={value}")
        hint = "B, KB, MB, GB or TB (e.g. 2GB, 500MB)" if flag == "--max-size" else "e.g. 30d"
        assert hint in err and repr(value) in err, err


def _damage_tail(path: Path, pages: int, page: int = 4096) -> None:
    n = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(max(0, n - pages * page))
        f.write(bytes(range(256)) * (min(n, pages * page) // 256))


@pytest.mark.slow
def test_replay_of_a_journal_with_damaged_last_pages_exits_with_a_message(
    recorded: tuple[Path, str, str], tmp_path: Path
) -> None:
    """The failure mode is the subprocess timeout: a connection left open on an error
    path kept the process alive after it printed the error."""
    db, sid, _ = recorded
    copy = _copy(db, tmp_path / "tail.sqlite")
    _damage_tail(copy, 8)
    r = arbscope("replay", sid, "--db", str(copy), "--headless", timeout=60)
    assert r.returncode == 2 and "damaged" in r.stderr and "Traceback" not in r.stderr
    # the write-ahead log's last frames damaged: the journal copied into a WAL that is
    # never checkpointed (meta, sessions and events first, then the chunks, a few per
    # transaction), the copy of the files taken while it is open
    wal_db = tmp_path / "wal.sqlite"
    keep = sqlite3.connect(wal_db, isolation_level=None)
    try:
        keep.execute("PRAGMA journal_mode=WAL")
        keep.execute("PRAGMA wal_autocheckpoint=0")
        keep.execute("ATTACH DATABASE ? AS src", (f"file:{db}?mode=ro",))
        for table in ("meta", "sessions", "chunks", "events", "tokens"):
            sql = keep.execute("SELECT sql FROM src.sqlite_master WHERE name=?", (table,))
            keep.execute(sql.fetchone()[0])
        for table in ("meta", "sessions", "events"):
            keep.execute(f"INSERT INTO {table} SELECT * FROM src.{table}")
        n = keep.execute("SELECT MAX(no) FROM src.chunks").fetchone()[0]
        for lo in range(0, n + 1, 8):
            keep.execute(
                "INSERT INTO chunks SELECT * FROM src.chunks WHERE no BETWEEN ? AND ?", (lo, lo + 7)
            )
        side = tmp_path / "side"
        side.mkdir()
        for suffix in ("", "-wal"):
            (side / f"w.sqlite{suffix}").write_bytes(Path(f"{wal_db}{suffix}").read_bytes())
    finally:
        keep.close()
    assert (side / "w.sqlite-wal").stat().st_size > 64 * 1024
    _damage_tail(side / "w.sqlite-wal", 4)
    r = arbscope("replay", sid, "--db", str(side / "w.sqlite"), "--headless", timeout=60)
    # SQLite drops the WAL's frames from the first bad one: the last chunks are gone, so the
    # replay ends early (its digest differs, exit 3, or not when the lost tail held no
    # decision, exit 0) or meets damage (exit 2); it ends, with a message
    assert r.returncode in (0, 2, 3) and "Traceback" not in r.stderr, r.stderr
    if r.returncode == 2:
        assert r.stderr.startswith("arbscope: ") and "damaged" in r.stderr
    else:
        total = asyncio.run(load_info(db, sid)).inputs
        got = re.search(r"replayed \S+: ([\d,]+) inputs", r.stderr)
        assert got and int(got.group(1).replace(",", "")) < total, r.stderr


def _aiosqlite_threads() -> list[str]:
    import threading

    return [
        t.name
        for t in threading.enumerate()
        if t.is_alive() and "_connection_worker_thread" in t.name
    ]


@pytest.mark.slow
def test_the_dashboard_and_its_session_picker_close_a_damaged_journal(
    recorded: tuple[Path, str, str], tmp_path: Path
) -> None:
    from arbscope.replay import JournalSessions
    from tui.app import ArbscopeApp

    db, sid, _ = recorded
    copy = _copy(db, tmp_path / "tail.sqlite")
    _damage_tail(copy, 8)
    before = _aiosqlite_threads()

    async def go() -> tuple[str, str]:
        session = ReplaySession(copy, await load_info(copy, sid), shadow=False)
        app = ArbscopeApp(session, sessions=JournalSessions(copy))
        async with app.run_test(size=(120, 40)) as pilot:
            async with asyncio.timeout(30):  # the status bar says why
                while "damaged" not in session.snapshot.note:
                    await pilot.pause(0.01)
            first = session.snapshot.note
            await app.switch_source(sid)  # what the r key's picker does with its choice
            new = app.source
            assert isinstance(new, ReplaySession) and new is not session
            async with asyncio.timeout(30):
                while "damaged" not in new.snapshot.note:
                    await pilot.pause(0.01)
            second = new.snapshot.note
            await pilot.press("q")
        return first, second

    first, second = asyncio.run(go())
    assert "damaged" in first and "damaged" in second
    assert _aiosqlite_threads() == before


def _read_only(paths: list[Path]) -> list[Path]:
    """Make ``paths`` read-only for this process in a way that holds for root too:
    ``chattr +i`` as root (skip where the filesystem or the container refuses it), file
    modes otherwise. Returns what to undo."""
    if os.geteuid() != 0:
        for p in paths:
            p.chmod(0o555 if p.is_dir() else 0o444)
        return paths
    done: list[Path] = []
    for p in paths:
        r = subprocess.run(["chattr", "+i", str(p)], capture_output=True, text=True)
        if r.returncode != 0:
            _writable_again(done)
            pytest.skip(f"root here cannot make {p} immutable (chattr: {r.stderr.strip()})")
        done.append(p)
    return done


def _writable_again(paths: list[Path]) -> None:
    for p in paths:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(p)], capture_output=True)
        else:
            p.chmod(0o755 if p.is_dir() else 0o644)


@pytest.mark.slow
def test_a_read_only_journal_lists_replays_and_exports(
    recorded: tuple[Path, str, str], tmp_path: Path
) -> None:
    """A journal file and directory this process cannot write (after a clean close: no
    -wal or -shm to share): readers open it with SQLite's mode=ro; writers are refused
    with a message saying write access is needed."""
    db, sid, digest = recorded
    ro_dir = tmp_path / "ro"
    ro_dir.mkdir()
    ro = _copy(db, ro_dir / "j.sqlite")

    async def settle() -> None:  # opened once read-write: WAL mode, then closed cleanly
        async with await Journal.open(ro, create=False):
            pass

    asyncio.run(settle())
    assert not Path(f"{ro}-wal").exists() and not Path(f"{ro}-shm").exists()
    undo = _read_only([ro, ro_dir])
    try:
        from storage.journal import writable

        assert not writable(ro)
        listed = arbscope("sessions", "--db", str(ro))
        assert listed.returncode == 0 and sid in listed.stdout, listed.stderr
        rep = arbscope("replay", sid, "--db", str(ro), "--headless", "--digest")
        assert rep.returncode == 0 and rep.stdout.strip() == digest, rep.stderr
        out = arbscope("export", sid, "--db", str(ro), "--out", str(tmp_path / "x"))
        assert out.returncode == 0 and (tmp_path / "x" / f"{sid}-opportunities.csv").exists()
        err = bad("sessions", "prune", "--db", str(ro), "--older-than", "0s")
        assert "read-only" in err and "need write access" in err and str(ro) in err
        run = arbscope("run", "--headless", "--no-metrics", "--duration", "1", "--db", str(ro))
        assert run.returncode == 1 and "read-only" in run.stderr and "Traceback" not in run.stderr

        async def read() -> None:
            async with await Journal.open(ro, create=False, write=False) as j:
                assert j.readonly and [s.id for s in await j.sessions()] == [sid]
                with pytest.raises(JournalError, match="read-only for this process"):
                    await j.delete([sid])

        asyncio.run(read())
        assert sid in arbscope("sessions", "--db", str(ro)).stdout  # nothing was deleted
    finally:
        _writable_again(undo)


def test_a_full_disk_is_named_and_the_write_queue_is_bounded(tmp_path: Path) -> None:
    """SQLite's own SQLITE_FULL (``max_page_count`` on the recorder's connection): the
    error says "disk full" with the path (not "cannot rollback"), pending inputs are kept
    up to the bound (counted in bytes), then dropped for good; what was committed stays a
    replayable INCOMPLETE session."""
    from storage.codec import HEADER, Kind
    from storage.recorder import Recorder

    db = tmp_path / "full.sqlite"
    payload = bytes(range(256)) * 4  # 1,024 bytes (stored as they are: codec "none")
    size = HEADER.size + len(payload)
    bound = 40 * size

    async def go() -> None:
        j = await Journal.open(db)
        try:
            rec = await Recorder.start(
                j, "sim", {}, {}, batch_s=3600, codec="none", max_pending_bytes=bound
            )
            pages = next(iter(await j.db.execute_fetchall("PRAGMA page_count")))[0]
            await j.db.execute(f"PRAGMA max_page_count={pages + 6}")
            failure = None
            for _ in range(40):  # ~4 KB per flush: a few pages at most
                for _ in range(4):
                    rec.input(Kind.FRAME, 0, payload)
                try:
                    await rec.flush()
                except JournalError as exc:
                    failure = str(exc)
                    break
            assert failure is not None, "the journal never filled"
            assert f"disk full at {db}" in failure and "rollback" not in failure
            written = rec.written_inputs
            assert written > 0 and rec.pending == 4
            assert rec.pending_bytes == 4 * size  # nothing lost, counted in bytes
            with pytest.raises(JournalError, match="disk full"):
                await rec.flush()  # retried, still full: still pending, still counted
            assert rec.pending_bytes == 4 * size and not rec.stopped
            assert rec.error == failure  # shown on the status bar meanwhile
            while rec.pending_bytes + size <= bound:
                rec.input(Kind.FRAME, 0, payload)
            assert not rec.stopped and rec.pending_bytes == bound // size * size
            rec.input(Kind.FRAME, 0, payload)  # one more: over the bound
            assert rec.stopped and rec.pending == 0 and rec.pending_bytes == 0
            assert rec.error.startswith(f"disk full at {db}")
            assert f"recording stopped at input {written:,}" in rec.error
            assert "the session goes on unrecorded" in rec.error
            for _ in range(100):  # from now on nothing is kept
                rec.input(Kind.FRAME, 0, payload)
                rec.event("opp", 1, {"x": 1})
            assert rec.pending == 0 and rec.dropped >= 200
            assert await rec.close() == ""  # incomplete: no digest stored
            info = await j.session(rec.session)
            assert not info.complete and info.inputs == written
            assert sum([c.n async for c in j.chunks(rec.session)]) == written
        finally:
            await j.close()

    asyncio.run(go())


def _damage_last_event_cell(src: Path, dst: Path, nbytes: int, from_end: int) -> None:
    """A copy of ``src`` whose last events leaf page (the session's newest events) has
    ``nbytes`` of garbage ``from_end`` bytes before its end: in its cells' content, its
    header and cell pointers intact (as a torn write leaves a page)."""
    shutil.copy(src, dst)
    with sqlite3.connect(dst) as c:
        page, size = c.execute(
            "SELECT pageno, pgsize FROM dbstat WHERE name='events' AND pagetype='leaf' "
            "ORDER BY path DESC LIMIT 1"
        ).fetchone()
    with dst.open("r+b") as f:
        f.seek(page * size - from_end)
        f.write((bytes(range(256)) * 32)[:nbytes])


def test_export_of_damaged_event_pages_refuses_and_says_what_it_could_not_read(
    tmp_path: Path,
) -> None:
    """A damaged page can hide a row without any error from SQLite (a cell whose kind
    or session no longer matches is skipped): the export then wrote 34 of 35 opportunity
    rows and exited 0. Now every damage to the page is refused, saying what could not be
    read, with exit status 2 and no file written; an undamaged copy exports all 35."""
    src = tmp_path / "events.sqlite"
    sid = "20260101-000000-abcd"

    async def build() -> None:
        async with await Journal.open(src) as j:
            await j.begin_session("sim", {}, {}, session_id=sid)
            seq = 0
            for _ in range(7):
                rows = []
                for _ in range(5):
                    payload = (
                        f'{{"base":"B","go":true,"hops":2,"profit":{seq},"tokens":["B","X","B"]}}'
                    )
                    rows.append((seq, "opp", 100 + seq, seq * 1000, payload))
                    seq += 1
                await j.write_batch(sid, None, 0, rows, len(rows))
            await j.end_session(sid, "d" * 64, 0.0)

    asyncio.run(build())
    whole = arbscope("export", sid, "--db", str(src), "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    with open(tmp_path / "whole" / f"{sid}-opportunities.csv") as f:
        assert len(list(csv.DictReader(f))) == 35
    from storage.export import export_session

    for nbytes, from_end in ((40, 80), (16, 16), (64, 64), (8, 60), (128, 128), (24, 200)):
        bad_db = tmp_path / f"bad-{nbytes}-{from_end}.sqlite"
        _damage_last_event_cell(src, bad_db, nbytes, from_end)
        out = tmp_path / f"out-{nbytes}-{from_end}"
        try:
            asyncio.run(export_session(bad_db, sid, out))
        except JournalError as exc:
            assert "damaged" in str(exc), exc
            assert not out.exists() or not list(out.iterdir())
            continue
        with open(out / f"{sid}-opportunities.csv") as f:  # only when all of it was read
            assert len(list(csv.DictReader(f))) == 35, (nbytes, from_end)
    # the damage main exported as 34 rows: refused, saying exactly what
    bad_db = tmp_path / "bad-40-80.sqlite"
    r = arbscope("export", sid, "--db", str(bad_db), "--out", str(tmp_path / "cli"))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("arbscope: ") and "Traceback" not in r.stderr
    assert f"session {sid}: 1 of its 35 opportunities cannot be read" in r.stderr, r.stderr
    assert "nothing was exported" in r.stderr and not (tmp_path / "cli").exists()


def test_a_version_2_journal_reads_as_it_is_and_is_upgraded_by_a_writer(tmp_path: Path) -> None:
    """Version 3 adds why a session is incomplete (``sessions.note``). A journal the
    previous release wrote (version 2) is read as it is where it cannot be written, and
    upgraded on open where it can: its sessions intact, incomplete ones "not closed
    cleanly", and a new incomplete session keeps its reason."""
    db = tmp_path / "v2.sqlite"

    async def make() -> None:
        async with await Journal.open(db) as j:
            sid = await j.begin_session("sim", {}, {}, session_id="20250101-000000-0002")
            await j.write_batch(sid, None, 0, [(0, "opp", 1, 0, "{}")], 1)

    asyncio.run(make())
    c = sqlite3.connect(db, isolation_level=None)  # as version 2 had it
    c.execute("ALTER TABLE sessions DROP COLUMN note")
    c.execute("UPDATE meta SET value='2' WHERE key='schema_version'")
    c.close()  # the last connection: the log is checkpointed into the file and removed
    assert not Path(f"{db}-wal").exists()
    undo = _read_only([db, tmp_path])
    try:

        async def read() -> None:
            async with await Journal.open(db, create=False, write=False) as j:
                assert j.readonly and j.version == 2
                (info,) = await j.sessions()
                assert info.note is None and info.why == "not closed cleanly"
                assert (await j.session("20250101")).id == info.id

        asyncio.run(read())
    finally:
        _writable_again(undo)

    async def upgrade() -> None:
        async with await Journal.open(db) as j:
            assert j.version == SCHEMA_VERSION == 3
            (info,) = await j.sessions()
            assert info.events == 1 and info.why == "not closed cleanly"
            await j.end_incomplete(info.id, "disk full at X; recording stopped at input 0", 7.0)
            (info,) = await j.sessions()
            assert info.why.startswith("disk full at X") and info.pnl == 7.0 and info.ended

    asyncio.run(upgrade())
    listed = arbscope("sessions", "--db", str(db))
    assert listed.returncode == 0 and "INCOMPLETE (disk full at X; recording stopped" in (
        listed.stdout
    )

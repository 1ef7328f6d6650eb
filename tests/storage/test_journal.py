"""The journal end to end: a simulated session recorded over loopback PubSub, replayed
headless at max and at 10x to the digest recorded live; a recording killed with SIGKILL;
damaged, foreign and newer journals; retention and export."""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arbscope.replay import ReplaySession, load_info
from storage.journal import SCHEMA_VERSION, Journal, JournalError
from tests.recording import record

ROOT = Path(__file__).resolve().parents[2]


def arbscope(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "arbscope", *args], capture_output=True, text=True,
        timeout=timeout, cwd=ROOT,
    )  # fmt: skip


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
        return await r.run(speed), r
    finally:
        await r.stop()


def test_replay_digest_equals_the_live_one_at_max_and_at_10x(
    recorded: tuple[Path, str, str],
) -> None:
    db, sid, live = recorded

    async def go() -> None:
        info = await load_info(db, sid)
        assert info.complete and info.digest == live
        assert info.frames > 100 and info.opportunities > 0
        fast, r = await replay_digest(db, sid, float("inf"))
        assert fast == live
        assert r.frames_applied == info.frames and r.applied == info.inputs
        assert r.sink.opportunities == info.opportunities
        slow, _ = await replay_digest(db, sid, 10.0)
        assert slow == fast

    asyncio.run(go())


def test_a_different_engine_state_gives_a_different_digest(recorded: tuple[Path, str, str]) -> None:
    """The digest is not a constant: dropping every 5th frame changes it."""
    db, sid, live = recorded

    async def go() -> str:
        r = ReplaySession(db, await load_info(db, sid))
        await r.start()
        n = 0
        try:
            async for inp in r._inputs():
                n += 1
                if inp.kind.name == "FRAME" and n % 5 == 0:
                    continue
                r.apply(inp)
        finally:
            await r.stop()
        return r.sink.digest.hexdigest()

    assert asyncio.run(go()) != live


def test_screen_controls_step_seek_back_and_play_to_the_same_digest(
    recorded: tuple[Path, str, str],
) -> None:
    db, sid, live = recorded

    async def go() -> None:
        r = ReplaySession(db, await load_info(db, sid), speed=float("inf"))
        await r.start()
        try:
            while len(r.buffer) < 200 and not r.eof:
                await asyncio.sleep(0.01)
            r.step_frame()
            assert r.frames_applied == 1 and r.paused
            slot = r.ingest.stats().slot
            r.step_slot()
            assert r.ingest.stats().slot > slot
            r.seek(2.0)
            while r.target_ns is not None:
                r.tick()
                await asyncio.sleep(0)
            assert r.pos_ns >= 2e9 and r.paused
            r.seek(0.5)  # backwards: rebuilt and fast-forwarded
            assert r.applied == 0
            while r.target_ns is not None:
                r.tick()
                await asyncio.sleep(0)
            assert 0.5e9 <= r.pos_ns < 2e9
            r.toggle_pause()
            while not (r.eof and not r.buffer):
                r.tick()
                await asyncio.sleep(0)
            assert r.sink.digest.hexdigest() == live
            r.tick()  # the screen's next tick
            assert "end of the recording" in r.snapshot.note
            assert r.snapshot.source.startswith(f"REPLAY {sid}")
        finally:
            await r.stop()

    asyncio.run(go())


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


def test_sigkill_mid_session_leaves_a_replayable_incomplete_session(tmp_path: Path) -> None:
    db = tmp_path / "killed.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "arbscope", "run", "--headless", "--seed", "6",
         "--duration", "60", "--db", str(db), "--batch-ms", "100"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        frames = 0
        while time.monotonic() < deadline and frames < 300:
            time.sleep(0.2)
            if db.exists():
                try:
                    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                        frames = c.execute(
                            "SELECT COALESCE(SUM(frames), 0) FROM sessions"
                        ).fetchone()[0]
                except sqlite3.Error:
                    frames = 0
        assert frames >= 300, "the recording never got going"
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


def test_a_damaged_chunk_stops_the_replay_with_a_message(
    recorded: tuple[Path, str, str], tmp_path: Path
) -> None:
    db, sid, _ = recorded
    copy = tmp_path / "chunk.sqlite"
    with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
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
            assert gone == ids[:2]
            gone = await j.prune(max_bytes=1000)
            assert gone == [ids[2]]
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

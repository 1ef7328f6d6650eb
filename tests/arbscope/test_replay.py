"""A headless replay's runs of frames (``arbscope.replay.runs``, ``FeedIngest.frames``)
against the per-input path it replaces: the same chunks, the same state."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import engine_rs
from arbscope.replay import FrameRun, ReplaySession, load_info, runs
from storage.codec import Input, Kind, json_payload, pack, unpack
from storage.journal import JournalError, SessionInfo

ROOT = Path(__file__).resolve().parents[2]
SLOT = (
    b'{"jsonrpc":"2.0","method":"slotNotification","params":{"result":{"slot":7},"subscription":1}}'
)
ACCOUNT = b'{"jsonrpc":"2.0","method":"accountNotification","params":{"subscription":2}}'


def _chunk() -> bytes:
    return b"".join(
        [
            pack(Kind.FRAME, 0, 10, 0, ACCOUNT),
            pack(Kind.FRAME, 3, 11, 0, SLOT),  # ends a run
            pack(Kind.FRAME, 1, 13, 0, ACCOUNT),
            pack(Kind.FRAME, 0, 12, 0, ACCOUNT),
            pack(Kind.TRACK_POOL, 0, 14, 0, json_payload(["p", "amm_v4"])),  # ends a run
            pack(Kind.FRAME, 2, 15, 0, ACCOUNT),
        ]
    )


def test_runs_end_after_a_slot_notification_and_at_any_other_input() -> None:
    raw = _chunk()
    out: list[Input | FrameRun] = []
    runs(raw, lambda i: i, out)
    assert [type(x).__name__ for x in out] == ["FrameRun", "FrameRun", "Input", "FrameRun"]
    a, b, track, c = out
    assert isinstance(a, FrameRun) and isinstance(b, FrameRun) and isinstance(c, FrameRun)
    assert (a.ts, a.slot_notice, a.endpoints) == ([10, 11], True, 4)
    assert (b.ts, b.slot_notice, b.endpoints) == ([13, 12], False, 2)
    assert isinstance(track, Input) and track.kind is Kind.TRACK_POOL
    assert (c.ts, c.slot_notice) == ([15], False)
    # the runs and the input between them are the chunk's inputs, in order, unchanged
    again = [i for x in out for i in (x.inputs() if isinstance(x, FrameRun) else [x])]
    assert again == list(unpack(raw))
    # a run split at its goal: the first frames alone, the rest (and its notice) kept
    head = a.split(1)
    assert (head.ts, head.slot_notice, a.ts, a.slot_notice) == ([10], False, [11], True)
    assert list(head.inputs()) + list(a.inputs()) == list(unpack(raw))[:2]


def test_a_damaged_chunk_keeps_what_comes_before_the_damage() -> None:
    raw = _chunk()[:-5]  # the last frame cut short
    out: list[Input | FrameRun] = []
    with pytest.raises(JournalError, match="truncated"):
        runs(raw, lambda i: i, out)
    assert sum(len(x) if isinstance(x, FrameRun) else 1 for x in out) == 5


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["rust", "python"])
def test_runs_leave_the_engine_as_one_frame_at_a_time_does(tmp_path: Path, backend: str) -> None:
    """The committed recording (``tests/data/replay-seed2.sqlite``) replayed headless, its
    frames in runs, and again one input at a time through the same calls the live
    session made (the reference): the same digest, counts and slot clock."""
    try:
        eng = engine_rs.load(backend)
    except ImportError:
        pytest.skip("the Rust extension is not built")
    db = tmp_path / "replay.sqlite"  # a copy: opening a journal switches it to WAL
    shutil.copyfile(ROOT / "tests" / "data" / "replay-seed2.sqlite", db)

    async def go() -> tuple[tuple[object, ...], tuple[object, ...], int]:
        info = await load_info(db, (await _sessions(db))[-1])
        fast, one = await _both_ways(db, info, eng)
        return _state(fast), _state(one), fast.runs_applied

    fast, one, n_runs = asyncio.run(go())
    assert n_runs > 0
    assert fast == one


def _state(r: ReplaySession) -> tuple[object, ...]:
    """What a replay leaves: its digest and events, what it applied, the ingest's counts
    and slot clock."""
    ing = r.session.ingest
    return (
        r.sink.digest.hexdigest(),
        r.sink.events,
        r.applied,
        r.frames_applied,
        ing.stats(),
        (ing.slot_seen, ing.slot_t_ns, ing.slot_len_ns),
    )


async def _both_ways(db: Path, info: SessionInfo, eng: Any) -> tuple[ReplaySession, ReplaySession]:
    """The session replayed headless (frames in runs, ``play``), then again one input at
    a time through the input table (the reference): both replays, stopped."""
    fast = ReplaySession(db, info, backend=eng)
    await fast.start()
    try:
        await fast.play()
    finally:
        await fast.stop()
    one = ReplaySession(db, info, backend=eng)
    await one.start()
    try:
        async for inp in one.cursor.inputs():
            one.apply(inp)
    finally:
        await one.stop()
    return fast, one


async def _sessions(db: Path) -> list[str]:
    from storage.journal import Journal

    async with await Journal.open(db, create=False, write=False) as j:
        return [s.id for s in await j.sessions()]


async def _with_deltas(src: Path, out: Path, stream: bool = True) -> tuple[str, int]:
    """The last session of ``src`` written again into ``out`` as the recorder writes it
    now, its large accounts as deltas (the engine's ``DeltaEncoder``), in chunks of 64 inputs
    compressed as the recorder does (``ChunkCompressor``: one zstd stream, a new one every
    ``STREAM_CHUNKS`` chunks; ``stream`` False: each chunk alone, a dictionary once
    trained): its id, and how many inputs became deltas."""
    from storage.codec import HEADER, ChunkCompressor
    from storage.delta import encode_input
    from storage.journal import Chunk, Journal

    enc, zc = engine_rs.load("rust").DeltaEncoder(), ChunkCompressor("zstd", stream=stream)
    async with await Journal.open(src, create=False, write=False) as j:
        info = (await j.sessions())[-1]
        tokens = await j.tokens(info.id)
        inputs = [i async for i in j.stored_inputs(info.id)]
    async with await Journal.open(out) as j:
        sid = await j.begin_session(info.source, info.config, info.versions, session_id=info.id)
        await j.put_tokens(sid, tokens)
        seq = 0
        for no, at in enumerate(range(0, len(inputs), 64)):
            batch = inputs[at : at + 64]
            parts: list[bytes] = []
            for i in batch:
                kind, payload = encode_input(enc, int(i.kind), i.endpoint, i.payload)
                parts += (HEADER.pack(kind, i.endpoint, i.t_ns, i.wall_us, len(payload)), payload)
            raw_len = sum(map(len, parts))
            blob, codec, made = zc.compress(parts)
            chunk = Chunk(
                no, seq, len(batch), batch[0].t_ns, batch[-1].t_ns, codec, raw_len, blob
            )  # fmt: skip
            await j.write_batch(sid, chunk, 0, [], 0)
            zc.adopt(made, no)
            seq += len(batch)
        await j.end_session(sid, info.digest or "")
    return sid, enc.deltas


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "stream"), [("rust", True), ("python", True), ("rust", False)])
def test_frames_restored_from_deltas_replay_to_the_live_digest(
    tmp_path: Path, backend: str, stream: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The committed recording written again with its large accounts as deltas (the
    recorder's format now: a Whirlpool tick array's frame, as a book's) and its chunks
    compressed as one stream (a new one every 7 chunks here), or (the format before) each
    alone with a dictionary trained on its first ones: a headless replay gives its
    restored frames to the engine one call each (``_apply_frame``), its other frames in
    runs; the same digest — the one recorded live —, counts and slot clock as one input
    at a time through the input table."""
    import storage.codec

    try:
        eng = engine_rs.load(backend)
    except ImportError:
        pytest.skip("the Rust extension is not built")
    # (a dictionary after 8 chunks and 256 KB: the recording is smaller than a session's 4 MB)
    monkeypatch.setattr(storage.codec, "TRAIN_CHUNKS", 8)
    monkeypatch.setattr(storage.codec, "TRAIN_MIN_BYTES", 256 * 1024)
    monkeypatch.setattr(storage.codec, "STREAM_CHUNKS", 7)
    src, db = tmp_path / "replay.sqlite", tmp_path / "deltas.sqlite"
    shutil.copyfile(ROOT / "tests" / "data" / "replay-seed2.sqlite", src)  # (opened: WAL)
    sid, deltas = asyncio.run(_with_deltas(src, db, stream))
    assert deltas > 100  # restored frames to replay (the test would prove nothing without)
    codecs = [c for (c,) in sqlite3.connect(db).execute("SELECT codec FROM chunks ORDER BY no")]
    if stream:
        starts = [no for no, c in enumerate(codecs) if c == storage.codec.STREAM_CODEC]
        assert starts == list(range(0, len(codecs), 7)) and len(starts) > 2
    else:
        assert "zstd+dict" in codecs and codecs[-1].startswith("zstd@")

    async def go() -> tuple[tuple[object, ...], tuple[object, ...], str]:
        info = await load_info(db, sid)
        fast, one = await _both_ways(db, info, eng)
        return _state(fast), _state(one), info.digest or ""

    fast, one, live = asyncio.run(go())
    assert fast == one
    assert fast[0] == live


def test_a_replay_sizes_as_its_recording_did(tmp_path: Path) -> None:
    """The sizing rule is the recording's: the committed recording (from before the
    golden rule: no ``sizing`` in its config) replays by ternary search to the digest
    recorded live, and would not by golden (the rule shows in its events); a session
    recorded now journals "golden", and its replay sizes by it to its live digest."""
    from dataclasses import replace

    from arbscope import sources
    from arbscope.parts.settings import RecordSettings
    from arbscope.runloop import MonotonicClock

    db = tmp_path / "replay.sqlite"
    shutil.copyfile(ROOT / "tests" / "data" / "replay-seed2.sqlite", db)

    async def digests(db: Path, info: SessionInfo) -> dict[str, str]:
        out = {}
        for rule in ("ternary", "golden"):
            r = ReplaySession(db, replace(info, config={**info.config, "sizing": rule}))
            assert {g.sizing for g in r.session.graphs.values()} == {rule}
            await r.start()
            try:
                out[rule] = await r.play(float("inf"))
            finally:
                await r.stop()
        return out

    async def old() -> tuple[SessionInfo, dict[str, str], set[str]]:
        info = await load_info(db, (await _sessions(db))[-1])
        r = ReplaySession(db, info)  # as recorded
        return info, await digests(db, info), {g.sizing for g in r.session.graphs.values()}

    info, by_rule, rules = asyncio.run(old())
    assert "sizing" not in info.config and rules == {"ternary"}
    assert by_rule["ternary"] == info.digest != by_rule["golden"]

    new_db = tmp_path / "new.sqlite"

    async def new() -> tuple[str, SessionInfo]:
        s = sources.session(
            sources.Watch(seed=11),
            record=RecordSettings(new_db, batch_s=0.1),
            clock=MonotonicClock(),
        )
        await s.start()
        try:
            await s.run(duration_s=30.0, until=lambda: s.ev.found >= 5)
        finally:
            await s.stop()
        assert not s.start_error
        return s.digest, await load_info(new_db, s.session_id)

    live, info = asyncio.run(new())
    assert info.config["sizing"] == "golden" and info.digest == live
    r = ReplaySession(new_db, info)
    assert {g.sizing for g in r.session.graphs.values()} == {"golden"}

    async def again() -> str:
        await r.start()
        try:
            return await r.play(float("inf"))
        finally:
            await r.stop()

    assert asyncio.run(again()) == live

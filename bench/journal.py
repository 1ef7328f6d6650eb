"""`python -m bench.journal`: the journal's write rate, replay rate and size.

1. **Record**: a simulated session over loopback PubSub (3 endpoints) with its clock
   sped up ``--accel`` times (slots of 400/accel ms, screen ticks of 200/accel ms, so the
   recording holds as many slots and ticks as ``--minutes`` of a real-time session).
   What the recording stands for is the slots the simulator made, at mainnet's 0.4 s
   each: a simulator that cannot keep its clock records fewer slots in the same time.
2. **Size**: what the session's recorder stored, per recorded hour (goal <= 100 MB).
3. **Write rate**: that session's inputs (as received: deltas restored) re-recorded into
   a fresh journal as fast as possible, as the recorder does — large accounts as deltas
   (``storage.delta``), or whole as before them —, in batches of 0.2 s of traffic (one
   transaction and one compressed chunk each), per codec; bytes per recorded hour each.
4. **Replay rate**: the recording replayed headless at max speed; simulated session
   time over wall time (goal >= 150x), digest checked against the live one.
5. **Memory**: the process's peak RSS after each phase; the recording is streamed a
   chunk at a time (never held whole), so it stays bounded however long the session.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from bench.report import markdown

MAINNET_SLOT_S = 0.4  # what a recorded slot stands for: mainnet's pace


async def record(db: Path, minutes: float, accel: float, seed: int) -> tuple[str, str, float, int]:
    """The session recorded into ``db``: its id, its digest, the wall time it ran and the
    slots the simulator made meanwhile (fewer than ``wall / slot time`` when it cannot
    keep its clock: the recording is then a shorter stretch of chain)."""
    from arbscope import sources
    from arbscope.session import RecordSettings
    from feeds.sim.world import WorldConfig

    cfg = WorldConfig(seed=seed, slot_seconds=0.4 / accel)
    s = sources.session(
        sources.Watch(seed=seed),
        sim=sources.SimSettings(world=cfg),
        record=RecordSettings(db, batch_s=0.2 / accel),
    )
    sim = sources.simulator(s)
    sim.slot_seconds = 0.4 / accel
    wall = minutes * 60 / accel
    await s.run_for(wall, tick_s=0.2 / accel)
    if s.start_error:
        raise RuntimeError(s.start_error)
    return s.session_id, s.digest, wall, sim.world.slot - cfg.first_slot


async def raw_inputs(db: Path, sid: str) -> AsyncIterator[tuple[int, bytes]]:
    """(t_ns, packed input) of the recording, in order, as received (deltas restored),
    a chunk at a time (the recording is never held whole)."""
    from storage.codec import ChunkDecoder, pack, unpack
    from storage.delta import Restorer
    from storage.journal import Journal

    restore = Restorer().restore
    decoder = ChunkDecoder()
    async with await Journal.open(db, create=False) as j:
        async for c in j.chunks(sid):
            for stored in unpack(decoder.chunk(c)):
                i = restore(stored)
                yield i.t_ns, pack(i.kind, i.endpoint, i.t_ns, i.wall_us, i.payload)


async def write_rate(
    db: Path, sid: str, codec: str, deltas: bool, batch_ns: int, out: Path
) -> tuple[float, int, int, int]:
    """The recording re-recorded into ``out`` as the recorder does (deltas when
    ``deltas``, batches of ``batch_ns`` of traffic, ``codec``): inputs/s of encoding,
    compressing and writing (reading the source is not counted); stored and raw bytes;
    inputs. ``out`` holds the same session (its id, config, token names, digest), so it
    replays as the recording does."""
    import engine_rs
    from storage.codec import HEADER, ChunkCompressor
    from storage.delta import encode_input
    from storage.journal import Chunk, Journal

    enc = engine_rs.load("rust").DeltaEncoder() if deltas else None
    zc = ChunkCompressor(codec)  # zstd: one stream over the session, as live
    stored = raw_total = n = seq = no = t_first = 0
    spent = 0.0
    batch: list[bytes] = []
    async with await Journal.open(db, create=False) as src:
        info = await src.session(sid)
        tokens = await src.tokens(sid)
    async with await Journal.open(out) as j:
        wsid = await j.begin_session(info.source, info.config, info.versions, session_id=sid)
        await j.put_tokens(wsid, tokens)
        t_last = 0

        async def write() -> None:
            nonlocal stored, raw_total, seq, no, spent, batch
            t0 = time.perf_counter()
            raw_len = sum(len(p) for p in batch)
            blob, used, made = zc.compress(batch)
            k = len(batch) // 2
            chunk = Chunk(no, seq, k, t_first, t_last, used, raw_len, blob)
            await j.write_batch(wsid, chunk, 0, [], 0)
            zc.adopt(made, no)
            spent += time.perf_counter() - t0
            stored += len(blob)
            raw_total += raw_len
            seq += len(batch) // 2
            no += 1
            batch = []

        t_end = 0
        async for t, raw in raw_inputs(db, sid):
            if t >= t_end and batch:
                await write()
            if not batch:
                t_end, t_first = t + batch_ns, t
            t_last = t
            t0 = time.perf_counter()
            kind, ep, t_ns, wall, _len = HEADER.unpack_from(raw)
            payload = raw[HEADER.size :]
            if enc is not None:
                kind, payload = encode_input(enc, kind, ep, payload)
            batch += (HEADER.pack(kind, ep, t_ns, wall, len(payload)), payload)
            spent += time.perf_counter() - t0
            n += 1
        if batch:
            await write()
        await j.end_session(wsid, info.digest or "")
    return n / spent, stored, raw_total, n


def peak_rss_mb() -> float:
    """The process's peak resident set so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def replay(db: Path, sid: str) -> tuple[float, str, int]:
    from arbscope.replay import ReplaySession, load_info

    r = ReplaySession(db, await load_info(db, sid))
    await r.start()
    try:
        t0 = time.perf_counter()
        digest = await r.play()
        return time.perf_counter() - t0, digest, r.frames_applied
    finally:
        await r.stop()


async def last_session(db: Path) -> str:
    from storage.journal import Journal

    async with await Journal.open(db, create=False, write=False) as j:
        return (await j.sessions())[-1].id


async def live_digest(db: Path, sid: str) -> str:
    from storage.journal import Journal

    async with await Journal.open(db, create=False, write=False) as j:
        return (await j.session(sid)).digest or ""


GOAL_MB_PER_HOUR = 100.0
GOAL_REPLAY_X = 150.0
CODECS = (("zstd", True), ("zstd", False), ("zlib", True), ("none", True))


async def stored_bytes(db: Path, sid: str) -> int:
    """What the live recorder stored for the session's inputs (its chunks' blobs)."""
    from storage.journal import Journal

    n = 0
    async with await Journal.open(db, create=False) as j:
        async for c in j.chunks(sid):
            n += len(c.blob)
    return n


async def chunking(db: Path, sid: str, chain_s: float, accel: float) -> list[dict[str, float]]:
    """What the recording's inputs (as the recorder stores them: deltas) take per recorded
    hour when chunked every 0.2, 0.5 and 1 s of chain: as the journal stores them (one
    zstd stream over the session flushed at each chunk's end, each chunk durable at its
    end and decodable after the ones before it; a new stream every
    ``storage.codec.STREAM_CHUNKS`` chunks), against each chunk compressed alone with the
    session's dictionary (the format before, decision 0013). Bytes per recorded hour,
    each way."""
    import engine_rs
    from storage.codec import HEADER, ChunkCompressor, unpack
    from storage.delta import encode_input

    class Chunker:
        """One chunking of the inputs: every ``chain_batch_s`` of chain, both ways."""

        def __init__(self, chain_batch_s: float) -> None:
            self.chain_batch_s, self.batch_ns = chain_batch_s, int(chain_batch_s / accel * 1e9)
            self.alone, self.streamed = (
                ChunkCompressor("zstd", stream=False),
                ChunkCompressor("zstd"),
            )
            self.alone_bytes = self.streamed_bytes = self.chunks = 0
            self.batch: list[bytes] = []
            self.t_first: int | None = None

        def add(self, t: int, parts: tuple[bytes, bytes]) -> None:
            if self.t_first is None:
                self.t_first = t
            if t - self.t_first > self.batch_ns and self.batch:
                self.seal()
                self.t_first = t
            self.batch += parts

        def seal(self) -> None:
            if not self.batch:
                return
            self.alone_bytes += self._stored(self.alone)
            self.streamed_bytes += self._stored(self.streamed)
            self.chunks += 1
            self.batch = []

        def _stored(self, zc: ChunkCompressor) -> int:
            """The bytes of the batch's chunk as ``zc`` stores it."""
            blob, _codec, made = zc.compress(self.batch)
            zc.adopt(made, self.chunks)
            return len(blob)

    # the recording read and its deltas encoded once, handed to every chunking
    enc, chunkers = engine_rs.load("rust").DeltaEncoder(), [Chunker(s) for s in (0.2, 0.5, 1.0)]
    async for t, packed in raw_inputs(db, sid):
        for i in unpack(packed):
            kind, stored = encode_input(enc, i.kind, i.endpoint, i.payload)
            parts = (HEADER.pack(kind, i.endpoint, i.t_ns, i.wall_us, len(stored)), stored)
            for c in chunkers:
                c.add(t, parts)
    hour = 3600 / chain_s
    out = []
    for c in chunkers:
        c.seal()
        out.append(
            {
                "chunk_s": c.chain_batch_s,
                "chunks": c.chunks,
                "alone_per_hour": c.alone_bytes * hour,
                "one_stream_per_hour": c.streamed_bytes * hour,
                "streams": c.streamed.streams,
            }
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.journal", description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="simulated session length")
    ap.add_argument("--accel", type=float, default=10.0, help="simulated clock speed-up")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--replays", type=int, default=3)
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument(
        "--recording",
        metavar="DB",
        help="measure an existing recording (its last session, or --session) instead of "
        "recording one (--minutes: its simulated length)",
    )
    ap.add_argument("--session", metavar="ID")
    ap.add_argument(
        "--chunking",
        action="store_true",
        help="also: the recording chunked every 0.2, 0.5 and 1 s of chain, as the journal "
        "stores them (one zstd stream over the session) against each chunk compressed "
        "alone with the session's dictionary (the format before)",
    )
    a = ap.parse_args(argv)
    mb = 1 << 20
    sim_s = a.minutes * 60  # the recording's chain time: its slots at mainnet's pace
    slots = 0
    rss: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        db = tmp / "rec.sqlite"
        if a.recording:
            db = Path(a.recording)
            sid = a.session or asyncio.run(last_session(db))
            live = asyncio.run(live_digest(db, sid))
        else:
            print(
                f"# recording {a.minutes:g} simulated minutes at {a.accel:g}x ...", file=sys.stderr
            )
            sid, live, wall, slots = asyncio.run(record(db, a.minutes, a.accel, a.seed))
            # per recorded hour of chain, whatever pace the simulator kept: at its
            # clock's (a slot each 0.4 / accel s) this is --minutes; a simulator
            # slower than its clock (the machine busy, a slower build) records fewer
            # slots in the same wall time, and the sizes and the replay's speed-up
            # would otherwise be of a shorter session counted as the full one
            sim_s = slots * MAINNET_SLOT_S
            print(
                f"# recorded {slots:,} slots in {wall:,.0f} s: one every "
                f"{wall / max(slots, 1) * 1e3:,.0f} ms (clock {400 / a.accel:g} ms), "
                f"{sim_s / 60:,.2f} minutes of chain",
                file=sys.stderr,
            )
        rss["record"] = peak_rss_mb()
        recorded = asyncio.run(stored_bytes(db, sid))
        chunked = asyncio.run(chunking(db, sid, sim_s, a.accel)) if a.chunking else []
        batch_ns = int(0.2e9 / a.accel)
        sizes: dict[str, Any] = {}
        inputs = 0
        for codec, deltas in CODECS:
            name = f"{codec}, {'deltas' if deltas else 'whole inputs'}"
            print(f"# writing ({name}) ...", file=sys.stderr)
            out_db = tmp / f"write-{codec}-{int(deltas)}.sqlite"
            rate, stored, raw, inputs = asyncio.run(
                write_rate(db, sid, codec, deltas, batch_ns, out_db)
            )
            if (codec, deltas) != CODECS[0]:
                out_db.unlink()
            sizes[name] = {
                "inputs_per_s": rate,
                "stored": stored,
                "raw": raw,
                "per_hour": stored * 3600 / sim_s,
            }
        rss["write"] = peak_rss_mb()
        walls, digests = [], set()
        frames = 0
        for _ in range(a.replays):
            print("# replaying ...", file=sys.stderr)
            # the recorder's format (zstd, deltas) re-written: the inputs through the
            # encoder and the restorer once more, to the live digest
            wall, digest, frames = asyncio.run(replay(tmp / "write-zstd-1.sqlite", sid))
            walls.append(wall)
            digests.add(digest)
        rss["replay"] = peak_rss_mb()
    rep = statistics.median(walls)
    ok = digests == {live}
    per_hour = recorded * 3600 / sim_s
    out = {
        "simulated_minutes": sim_s / 60,
        "slots": slots,
        "slot_ms": 1e3 * a.minutes * 60 / a.accel / slots if slots else None,
        "clock_slot_ms": 400 / a.accel,
        "inputs": inputs,
        "frames": frames,
        "recorded_bytes": recorded,
        "recorded_per_hour": per_hour,
        "write": sizes,
        "replay_wall_s": rep,
        "replay_x_real_time": sim_s / rep,
        "replay_frames_per_s": frames / rep,
        "digest_matches": ok,
        "peak_rss_mb": rss,
        "chunking": chunked,
    }
    made = f"{slots:,} slots, " if slots else ""
    print(
        f"# journal: {sim_s / 60:,.2f}-minute simulated session ({made}3 endpoints), "
        f"{inputs:,} inputs ({frames:,} frames); medians"
    )
    rows = [
        (
            "recorded live (the session's recorder)",
            "zstd, deltas",
            "",
            f"{per_hour / mb:,.1f} MB",
            f"<= {GOAL_MB_PER_HOUR:g} MB / recorded hour",
        )
    ]
    for i, (name, v) in enumerate(sizes.items()):
        ratio = v["raw"] / v["stored"]
        rows.append(
            (
                "journal write (0.2 s of traffic per transaction)" if i == 0 else "",
                name,
                f"{v['inputs_per_s']:,.0f} inputs/s",
                f"{v['per_hour'] / mb:,.1f} MB (raw / stored = {ratio:.1f})",
                "",
            )
        )
    same = "equal" if ok else "DIFFERENT"
    rows.append(
        (
            "replay, headless, max speed",
            "",
            f"{sim_s / rep:,.0f}x real time",
            f"{frames / rep:,.0f} frames/s, digest {same}",
            f">= {GOAL_REPLAY_X:g}x real time",
        )
    )
    rows.append(
        (
            "peak RSS after record / write / replay",
            "",
            " / ".join(f"{rss[k]:,.0f}" for k in ("record", "write", "replay")) + " MB",
            "",
            "bounded: streamed, never the recording whole",
        )
    )
    head = ("", "codec", "rate", "bytes / recorded hour", "goal")
    print("\n".join(markdown(head, rows)))
    if chunked:
        print("\n# the recording's inputs (deltas) chunked every N s of chain, zstd")
        crows = [
            (
                f"{c['chunk_s']:g} s ({c['chunks']:,} chunks)",
                f"{c['one_stream_per_hour'] / mb:,.1f} MB ({c['streams']:,} streams)",
                f"{c['alone_per_hour'] / mb:,.1f} MB",
            )
            for c in chunked
        ]
        chead = (
            "chunks of",
            "the journal's streams, flushed a chunk",
            "each alone, the session's dictionary (before)",
        )
        print("\n".join(markdown(chead, crows)))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

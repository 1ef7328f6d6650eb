"""`python -m bench.journal`: the journal's write rate, replay rate and size.

1. **Record**: a simulated session over loopback PubSub (3 endpoints) with its clock
   sped up ``--accel`` times (slots of 400/accel ms, screen ticks of 200/accel ms, so the
   recording holds as many slots and ticks as ``--minutes`` of a real-time session).
2. **Write rate**: that session's frames re-recorded into a fresh journal as fast as
   possible, in batches of 0.2 s of traffic (one transaction and one compressed chunk
   each), per codec.
3. **Replay rate**: the recording replayed headless at max speed; simulated session
   time over wall time (target >= 100x), digest checked against the live one.
4. **Size**: stored bytes per recorded hour, per codec (zstd, zlib, none).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.report import markdown


async def record(db: Path, minutes: float, accel: float, seed: int) -> tuple[str, str, float]:
    from arbscope import sources
    from arbscope.session import RecordSettings
    from feeds.sim.world import WorldConfig

    cfg = WorldConfig(seed=seed, slot_seconds=0.4 / accel)
    s = sources.session(
        sources.Watch(seed=seed),
        sim=sources.SimSettings(world=cfg),
        record=RecordSettings(db, batch_s=0.2 / accel),
    )
    if s.feeds.simulated:
        sources.simulator(s).slot_seconds = 0.4 / accel
    wall = minutes * 60 / accel
    await s.run_for(wall, tick_s=0.2 / accel)
    if s.start_error:
        raise RuntimeError(s.start_error)
    return s.session_id, s.digest, wall


async def raw_inputs(db: Path, sid: str) -> list[tuple[int, bytes]]:
    """(t_ns, packed input) of the recording, in order."""
    from storage.codec import HEADER, decompress
    from storage.journal import Journal

    out = []
    async with await Journal.open(db, create=False) as j:
        async for c in j.chunks(sid):
            raw = decompress(c.blob, c.codec, c.raw_len)
            off = 0
            while off < len(raw):
                _, _, t_ns, _, n = HEADER.unpack_from(raw, off)
                end = off + HEADER.size + n
                out.append((t_ns, raw[off:end]))
                off = end
    return out


async def write_rate(
    inputs: list[tuple[int, bytes]], codec: str, batch_ns: int, tmp: Path
) -> tuple[float, int, int]:
    """Inputs/s written in batches of ``batch_ns`` of traffic; stored and raw bytes."""
    from storage.codec import compress
    from storage.journal import Chunk, Journal

    db = tmp / f"write-{codec}.sqlite"
    batches: list[list[bytes]] = [[]]
    t_first = inputs[0][0]
    for t, raw in inputs:
        if t - t_first >= batch_ns * len(batches):
            batches.append([])
        batches[-1].append(raw)
    stored = raw_total = 0
    async with await Journal.open(db) as j:
        sid = await j.begin_session("bench", {}, {})
        t0 = time.perf_counter()
        seq = 0
        for no, b in enumerate(x for x in batches if x):
            raw = b"".join(b)
            blob = compress(raw, codec)
            stored += len(blob)
            raw_total += len(raw)
            await j.write_batch(
                sid, Chunk(no, seq, len(b), 0, 0, codec, len(raw), blob), len(b), [], 0
            )
            seq += len(b)
        dt = time.perf_counter() - t0
    return len(inputs) / dt, stored, raw_total


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


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.journal", description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="simulated session length")
    ap.add_argument("--accel", type=float, default=10.0, help="simulated clock speed-up")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--replays", type=int, default=3)
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        db = tmp / "rec.sqlite"
        print(f"# recording {a.minutes:g} simulated minutes at {a.accel:g}x ...", file=sys.stderr)
        sid, live, _wall = asyncio.run(record(db, a.minutes, a.accel, a.seed))
        inputs = asyncio.run(raw_inputs(db, sid))
        frames = sum(1 for _, raw in inputs if raw[0] == 1)
        sim_s = a.minutes * 60
        batch_ns = int(0.2e9 / a.accel)
        sizes: dict[str, Any] = {}
        for codec in ("zstd", "zlib", "none"):
            rate, stored, raw = asyncio.run(write_rate(inputs, codec, batch_ns, tmp))
            sizes[codec] = {
                "inputs_per_s": rate,
                "stored": stored,
                "raw": raw,
                "per_hour": stored * 3600 / sim_s,
            }
        walls, digests = [], set()
        for _ in range(a.replays):
            wall, digest, _n = asyncio.run(replay(db, sid))
            walls.append(wall)
            digests.add(digest)
    rep = statistics.median(walls)
    ok = digests == {live}
    out = {
        "simulated_minutes": a.minutes,
        "inputs": len(inputs),
        "frames": frames,
        "write": sizes,
        "replay_wall_s": rep,
        "replay_x_real_time": sim_s / rep,
        "replay_frames_per_s": frames / rep,
        "digest_matches": ok,
    }
    mb = 1 << 20
    print(
        f"# journal: {a.minutes:g}-minute simulated session (3 endpoints), "
        f"{len(inputs):,} inputs ({frames:,} frames); medians"
    )
    rows = [
        (
            "journal write (batched, 0.2 s of traffic per transaction)",
            "codec",
            "rate",
            "bytes / recorded hour",
        )
    ]
    for codec, v in sizes.items():
        ratio = v["raw"] / v["stored"]
        rows.append(
            (
                "",
                codec,
                f"{v['inputs_per_s']:,.0f} inputs/s",
                f"{v['per_hour'] / mb:,.1f} MB (raw / stored = {ratio:.1f})",
            )
        )
    same = "equal" if ok else "DIFFERENT"
    rows.append(
        (
            "replay, headless, max speed",
            "",
            f"{sim_s / rep:,.0f}x real time",
            f"{frames / rep:,.0f} frames/s, digest {same}",
        )
    )
    print("\n".join(markdown(rows[0], rows[1:])))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m bench.json_parsers` (`make bench`): the feed hot path's JSON reader against
well-kept Rust JSON parsers, on a recorded frame mix.

The Rust side is ``engine_rs/crates/json-bench`` (``cargo bench -p arbscope-json-bench``):
it replays a recorded session's inputs into a fresh ``FeedIngest`` per run and times,
per parser, (1) the parse alone — each parser extracting exactly what ingest reads
(method, subscription, slots, owner, the base64 data string and its tag, signature, logs,
err) — and (2) end to end, the whole per-frame call (parse, base64, dedup, decode, pool
assembly, graph update). Its own docs say how; this module runs it and prints its table.

The frame mix is ``engine_rs/crates/json-bench/data/pubsub-seed63.inputs.zst``, a session
of the embedded simulator (3 endpoints; slot, account and logs notifications and the
subscription answers, with everything that set up the ingest state), written by
``--record`` (re-run it after a change to what the simulator sends).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from storage.codec import HEADER, Kind

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "engine_rs" / "Cargo.toml"
CORPUS = ROOT / "engine_rs" / "crates" / "json-bench" / "data" / "pubsub-seed63.inputs.zst"
SEED = 63
# the inputs that build the ingest state or are frames; fees, tips, trades... are not ingest's
KEPT = {
    Kind.FRAME,
    Kind.ACCOUNT,
    Kind.TRACK_POOL,
    Kind.TRACK_TICK_ARRAY,
    Kind.UNTRACK_TICK_ARRAY,
    Kind.BIND,
    Kind.UNBIND,
    Kind.EPOCH_SCHEDULE,
    Kind.TICK,
    Kind.DRAIN,
}


def record(out: Path, seconds: float, accel: float, seed: int) -> dict[str, int]:
    """Record ``seconds`` of a simulated session (clock sped up ``accel`` times) and write
    its ingest inputs to ``out``: the storage codec's input format, zstd level 19, led by
    a kind-0 input whose payload is the graph's config (JSON: base_mints, max_hops).
    Returns the count of inputs per kind."""
    import zstandard

    from arbscope.session import RecordSettings
    from feeds.sim.world import WorldConfig

    from .journal import raw_inputs

    async def run(db: Path) -> tuple[str, list[str], int]:
        from arbscope import sources

        cfg = WorldConfig(seed=seed, slot_seconds=0.4 / accel)
        s = sources.session(
            sources.Watch(seed=seed),
            sim=sources.SimSettings(world=cfg),
            record=RecordSettings(db, batch_s=0.2 / accel),
        )
        if s.feeds.simulated:
            sources.simulator(s).slot_seconds = 0.4 / accel
        await s.run_for(seconds / accel, tick_s=0.2 / accel)
        if s.start_error:
            raise RuntimeError(s.start_error)
        return s.session_id, list(s.base_mints), s.max_hops

    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "rec.sqlite"
        sid, bases, hops = asyncio.run(run(db))

        async def read() -> list[tuple[int, bytes]]:
            return [x async for x in raw_inputs(db, sid)]

        inputs = asyncio.run(read())
    head = json.dumps({"base_mints": bases, "max_hops": hops, "seed": seed}).encode()
    parts = [HEADER.pack(0, 0, 0, 0, len(head)), head]
    counts: dict[str, int] = {}
    for _, raw in inputs:
        kind, ep, t_ns, _wall, n = HEADER.unpack_from(raw)
        if Kind(kind) not in KEPT:
            continue
        counts[Kind(kind).name] = counts.get(Kind(kind).name, 0) + 1
        # the wall clock is not ingest's: zeroed, so the corpus compresses better
        parts += [HEADER.pack(kind, ep, t_ns, 0, n), raw[HEADER.size :]]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(zstandard.ZstdCompressor(level=19).compress(b"".join(parts)))
    return counts


def run_bench(runs: int, json_out: Path) -> int:
    """``cargo bench`` of the parsers (prints its table); the figures go to ``json_out``."""
    sys.stdout.flush()
    cmd = [
        "cargo",
        "bench",
        "-q",
        "--manifest-path",
        str(MANIFEST),
        "-p",
        "arbscope-json-bench",
        "--bench",
        "json_parsers",
        "--",
        "--runs",
        str(runs),
        "--json",
        str(json_out),
    ]
    return subprocess.run(cmd, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.json_parsers", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--record", action="store_true", help="write the frame mix anew, then time")
    ap.add_argument("--seconds", type=float, default=10.0, help="simulated seconds recorded")
    ap.add_argument("--accel", type=float, default=4.0, help="simulated clock speed-up")
    ap.add_argument("--runs", type=int, default=21, help="runs per parser (medians)")
    ap.add_argument("--json", metavar="PATH", help="write the figures here")
    a = ap.parse_args(argv)
    if a.record:
        counts = record(CORPUS, a.seconds, a.accel, SEED)
        size = CORPUS.stat().st_size
        print(f"# wrote {CORPUS.relative_to(ROOT)} ({size:,} bytes): {counts}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as d:
        out = Path(a.json) if a.json else Path(d) / "json_parsers.json"
        rc = run_bench(a.runs, out)
        if rc == 0 and a.json:
            print(f"# figures in {os.fspath(out)}")
    return rc


if __name__ == "__main__":
    sys.exit(main())

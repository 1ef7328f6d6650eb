"""`python -m bench` prints one table and writes the same rows as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.processes import run_python

pytestmark = pytest.mark.e2e


def test_quick_bench_of_one_kernel(tmp_path: Path) -> None:
    out_json = tmp_path / "bench.json"
    out = run_python(
        ["-m", "bench", "--quick", "--kernel", "cpmm_amount_out", "--json", str(out_json)]
    )
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("|")]
    assert lines[0].split("|")[1].strip() == "kernel" and len(lines) == 3
    assert "cpmm_amount_out" in lines[2]
    assert "empty Python call" in out.stdout and "call floor" in out.stdout
    data = json.loads(out_json.read_text())
    (row,) = data["rows"]
    assert row["kernel"] == "cpmm_amount_out"
    # timings are measured, never asserted (noisy machines): they are only present
    assert row["python_s"] > 0 and (row["rust_s"] is None or row["rust_s"] > 0)


def test_unknown_kernel_is_an_error() -> None:
    out = run_python(["-m", "bench", "--kernel", "nope"], timeout=60)
    assert out.returncode == 2 and "unknown kernel" in out.stderr


def test_live_bench_reports_build_sign_and_the_tick_to_trade_steps(tmp_path: Path) -> None:
    out_json = tmp_path / "live.json"
    way = "bundle, unsimulated (fast path)"
    args = ["--reps", "20", "--seconds", "3", "--pools", "48", "--tokens", "16"]
    args += ["--trades", "10", "--slot-ms", "100", "--way", way, "--sim-nice", "0,5"]
    args += ["--hot", "10"]
    out = run_python(["-m", "bench.live", *args, "--json", str(out_json)], timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out_json.read_text())
    assert data["build_sign"]["bytes"] > 1_000  # 5 instructions, one signature
    # the in-process hot path's steps, warm and with the caches written over
    hot, cold = data["hot_path"], data["hot_path_cold"]
    assert list(hot) == list(cold) and "build" in hot and "total" in hot
    assert all(v > 0 for v in (*hot.values(), *cold.values()))
    # the way once per simulator niceness: at 0 under the way's own name
    assert list(data["tick_to_trade"]) == [way, f"{way}, simulator at nice 5"]
    for r in data["tick_to_trade"].values():
        assert r["orders"] == sum(r["by_status"].values()) and r["timed"] <= r["orders"]
        assert sum(r["paths"].values()) == r["timed"]
        total = r["steps"].get("frame->written", {"n": 0})
        assert total["n"] == r["timed"]  # every timed order has its whole way measured
        for q in r["steps"].values():
            assert q["n"] <= r["timed"] and 0 <= q["p50_us"] <= q["p99_us"]
        assert len(r["each"]) == r["timed"]
        assert all(c >= 0 for c in r["compiled"]) and len(r["compiled"]) <= r["timed"]
    assert "build + sign" in out.stdout and "tick to trade" in out.stdout


def test_json_parsers_corpus_holds_the_frames_and_the_ingest_setup(tmp_path: Path) -> None:
    """``bench.json_parsers --record`` writes what the Rust bench replays: the graph's
    config first, then a session's frames and every input that set the ingest up."""
    import zstandard

    from bench.json_parsers import KEPT, record
    from storage.codec import HEADER, Kind

    out = tmp_path / "mix.inputs.zst"
    counts = record(out, seconds=2.0, accel=4.0, seed=5)
    raw = zstandard.ZstdDecompressor().decompress(out.read_bytes(), max_output_size=1 << 30)
    kinds: list[int] = []
    off = 0
    while off < len(raw):
        kind, _ep, _t, wall_us, n = HEADER.unpack_from(raw, off)
        off += HEADER.size
        if not kinds:
            assert kind == 0
            head = json.loads(raw[off : off + n])
            assert head["base_mints"] and head["max_hops"] >= 2
        else:
            assert Kind(kind) in KEPT and wall_us == 0
        kinds.append(kind)
        off += n
    assert off == len(raw)
    got = {Kind(k).name: kinds.count(k) for k in set(kinds) if k}
    assert got == counts
    for kind in ("FRAME", "ACCOUNT", "TRACK_POOL", "BIND"):
        assert got.get(kind, 0) > 0, got

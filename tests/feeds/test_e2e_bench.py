"""bench.e2e runs end to end on a small flood: the simulator in its own process, plain
websockets clients, then FeedPool + the Rust FeedIngest, every copy of every message
accounted for (a third of them first copies with 3 endpoints)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_e2e_bench_small_flood(tmp_path: Path, rust: object) -> None:
    from bench import e2e

    out = tmp_path / "e2e.json"
    args = ["--slots", "40", "--rounds", "1", "--rate", "400", "--tokens", "6", "--pools", "12"]
    assert e2e.main([*args, "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["endpoints"] == 3
    assert r["websockets_ceiling_msgs_s"] > 0 and r["arbscope_msgs_s"] > 0
    # identical streams on 3 endpoints: exactly one copy in three is decoded
    assert r["first_copy_share"] == pytest.approx(1 / 3, abs=1e-9)
    assert r["latency_samples"] > 40 * 3  # every paced message timed, at least a slot each
    assert 0 < r["latency_p50_us"] <= r["latency_p99_us"]

"""bench.turn runs end to end on a small market: the simulator in its own process, a
session on its endpoints, every evaluation timed and every collection counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_turn_bench_small_market(tmp_path: Path, rust: object) -> None:
    from bench import turn

    out = tmp_path / "turn.json"
    args = ["--pools", "24", "--tokens", "8", "--endpoints", "2", "--seconds", "2"]
    # --no-settle: settling would freeze this test process's heap for the rest of the run
    args += ["--warmup", "0.5", "--slot-ms", "100", "--no-settle", "--json", str(out)]
    assert turn.main(args) == 0
    r = json.loads(out.read_text())
    assert (r["pools"], r["endpoints"], r["settled"]) == (24, 2, False)
    assert r["evaluations"] > 0 and r["evaluations_per_s"] > 0
    assert 0 < r["evaluate_p50_us"] <= r["evaluate_p99_us"]
    assert set(r["gc"]) == {"0", "1", "2"}
    assert r["reconnects"] >= 0 and r["cpu_cores"] > 0

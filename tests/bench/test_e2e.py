"""bench.e2e runs end to end on a small flood: the simulator in its own process, for
each PubSub transport plain clients that only receive, then FeedPool + the Rust
FeedIngest, every copy of every message accounted for (a third of them first copies
with 3 endpoints)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_e2e_bench_small_flood(tmp_path: Path, rust: object) -> None:
    from bench import e2e

    out = tmp_path / "e2e.json"
    args = [
        "--slots",
        "40",
        "--paced-slots",
        "40",
        "--rounds",
        "1",
        "--rate",
        "400",
        "--tokens",
        "6",
        "--pools",
        "12",
    ]
    assert e2e.main([*args, "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["endpoints"] == 3
    assert list(r["feeds"]) == ["PubSub on websockets", "PubSub on picows"]
    for name, f in r["feeds"].items():
        assert f["ceiling"] > 0 and f["arbscope"] > 0 and f["arbscope_per_core"] > 0, name
        # identical streams on 3 endpoints: every copy counted, and one copy in three is
        # a first copy, but for first copies the ingest refused (older than what a
        # maintenance round read meanwhile: a later copy is a first copy again)
        assert f["first_copies"] + f["duplicates"] == f["messages"], name
        refused = f["refused_first"]
        assert f["first_copies"] - refused <= f["messages"] / 3 <= f["first_copies"], name
        if not refused:
            assert f["first_copy_share"] == pytest.approx(1 / 3, abs=1e-9), name
        assert f["latency_samples"] > 40 * 3, name  # every paced message, a slot each at least
        assert 0 < f["latency_p50_us"] <= f["latency_p99_us"], name
        assert len(f["rounds"]) == 1

"""``bench.goals``: the goal table of one ``make bench`` run, read from the JSON its benches
wrote (in the shapes they write it); a bench that did not run is ``not measured``, never
a figure from elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

from bench.goals import NOT, WAY, main, rows


def write(d: Path, name: str, obj: object) -> None:
    (d / f"{name}.json").write_text(json.dumps(obj))


def by_goal(d: Path) -> dict[str, tuple[str, str, str, str, str]]:
    return {r[0].split(" (")[0].split(":")[0]: r for r in rows(d)}


def test_each_goal_is_judged_from_this_runs_figures(tmp_path: Path) -> None:
    write(
        tmp_path,
        "live",
        {
            "build_sign": {"ours_median_us": 107.2, "peer_median_us": 237.3},
            "tick_to_trade": {
                WAY: {"steps": {"frame->written": {"p50_us": 420.0, "p99_us": 2_500.0, "n": 40}}}
            },
        },
    )
    write(
        tmp_path,
        "grpc_e2e",
        {
            "wire_speed_msgs_s": {
                "native arbscope": 131_000.0,
                "aio arbscope": 16_000.0,
                "native recv": 400_000.0,
            },
            "native_latency_p99_us": 480.0,
            "latency_p99_us": 15_000.0,
        },
    )
    write(
        tmp_path,
        "journal",
        {
            "recorded_per_hour": 62.2 * (1 << 20),
            "write": {
                "zstd, deltas": {"per_hour": 1.0},
                "zstd, whole inputs": {"per_hour": 584 * (1 << 20)},
            },
            "replay_x_real_time": 160.0,
            "replay_frames_per_s": 9_000.0,
            "digest_matches": False,
            "peak_rss_mb": {"record": 281.0, "write": 281.0, "replay": 285.0},
            "slots": 1_234,
            "slot_ms": 48.6,
            "clock_slot_ms": 40.0,
        },
    )
    write(
        tmp_path,
        "nats",
        {
            "ratio": 0.81,
            "nats_frames_s": 55_000.0,
            "direct_frames_s": 68_000.0,
            "latency_p99_ms": 1.2,
            "latency_p50_ms": 0.5,
        },
    )
    write(
        tmp_path,
        "ui",
        {
            "cpu_cores": 0.8,
            "messages_per_s": 17_000.0,
            "key_latency_p50_ms": 40.0,
            "key_latency_p99_ms": 120.0,
            "keys": 50,
            "rss_mb_start": 500.0,
            "rss_mb_end": 560.0,
            "seconds": 600,
            "pools": 3000,
            "endpoints": 5,
            "reconnects": 3,
            "simulator_cores": 0.97,
            "simulator_slot_ms": 121.0,
            "slot_ms": 40.0,
        },
    )
    g = by_goal(tmp_path)
    assert g["tick to trade, frame -> written"][4] == "no"  # p99 over 2 ms
    assert "build + sign 107 µs" in g["tick to trade, frame -> written"][2]
    assert g["gRPC updates applied at wire speed"][4] == "yes"
    assert "aio 16,000 /s" in g["gRPC updates applied at wire speed"][2]
    assert g["gRPC queue -> graph p99"][4] == "yes"
    assert g["journal, as the session records it"][4] == "yes"
    assert "584.0 MB" in g["journal, as the session records it"][2]
    assert "1,234 slots, one every 49 ms (clock 40)" in g["journal, as the session records it"][2]
    assert g["replay, headless"][4] == "no"  # fast enough, but the digest differs
    assert "DIFFERENT" in g["replay, headless"][1]
    assert g["NATS consumer / direct"][4] == "yes"
    assert g["NATS added latency p99"][4] == "no"
    cpu = next(r for r in rows(tmp_path) if r[0].startswith("dashboard ("))
    assert cpu[0] == "dashboard (3000 pools, 5 endpoints): CPU" and cpu[4] == "yes"
    # beside it, what fed it: a simulator that cannot keep its clock stretches its slots
    assert cpu[2] == (
        "17,000 feed msg/s, 3 reconnects; the simulator 0.97 cores, a slot every 121 ms (clock 40)"
    )
    keys = next(r for r in rows(tmp_path) if r[0].startswith("dashboard: key"))
    assert keys[4] == "no"
    memory = next(r for r in rows(tmp_path) if r[0].startswith("dashboard: memory"))
    assert memory[4] == "no"  # +12 %


def test_a_bench_that_did_not_run_is_not_measured(tmp_path: Path, capsys: object) -> None:
    (tmp_path / "nats.json").write_text("{ not json")
    write(
        tmp_path,
        "live",
        {
            "build_sign": {"ours_median_us": 100.0, "peer_median_us": 200.0},
            "tick_to_trade": {WAY: {"steps": {}}},
        },
    )
    g = by_goal(tmp_path)
    assert g["NATS consumer / direct"][1:] == (NOT, "", ">= 80 %", NOT)
    assert g["tick to trade, frame -> written"][1] == "no order timed"
    assert g["tick to trade, frame -> written"][4] == "no"
    assert all(
        r[1] == NOT
        for r in rows(tmp_path)
        if r[0].startswith(("gRPC", "journal", "replay", "dashboard"))
    )
    assert main([str(tmp_path)]) == 0

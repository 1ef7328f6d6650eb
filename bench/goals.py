"""`python -m bench.goals DIR`: issue 38's goals, each beside its peer or ceiling, from the
JSON the benches of one ``make bench`` run wrote to ``DIR`` (``live.json``,
``grpc_e2e.json``, ``journal.json``, ``nats.json``, ``ui.json``). A bench that did not
run (or failed) shows ``not measured``: never a number from another run.

``--record [NOTE]`` appends the table to docs/benchmarks/history.json (the run's commit, its
time, NOTE on the machine) and generates docs/benchmarks.md again (tools/bench_page.py).

The goals (docs/benchmarks.md, "Issue 38's goals"):
- tick to trade, frame -> send request written: p50 <= 0.5 ms, p99 <= 2 ms;
- gRPC: >= 130,000 updates/s applied at wire speed, p99 queue -> graph <= 0.5 ms;
- the journal: <= 100 MB per recorded hour, replay >= 150x real time, memory bounded;
- NATS: a consumer at >= 80 % of the direct rate, added p99 <= 1 ms;
- a 3,000-pool market on 5 endpoints: the dashboard <= 1 core, keys <= 100 ms p99,
  memory flat.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.report import markdown

WAY = "bundle, unsimulated (fast path)"
MB = 1 << 20
NOT = "not measured"

Row = tuple[str, str, str, str, str]


def _load(d: Path, name: str) -> dict[str, Any] | None:
    p = d / f"{name}.json"
    try:
        out = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    return out if isinstance(out, dict) else None


def _get(d: dict[str, Any] | None, *path: str) -> Any:
    """``d[path[0]][path[1]]...``, None where anything is missing."""
    cur: Any = d
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return None
        cur = cur[k]
    return cur


def _met(ok: bool | None) -> str:
    return NOT if ok is None else ("yes" if ok else "no")


def rows(d: Path) -> list[Row]:
    """The goal table's rows: (goal, measured, peer or ceiling in the same run, bound, met)."""
    out: list[Row] = []
    live = _load(d, "live")
    t2t = _get(live, "tick_to_trade", WAY, "steps", "frame->written")
    bs = _get(live, "build_sign")
    if t2t is not None and t2t.get("n"):
        p50, p99 = float(t2t["p50_us"]), float(t2t["p99_us"])
        measured = f"p50 {p50:,.0f} µs, p99 {p99:,.0f} µs (n {t2t['n']})"
        met: bool | None = p50 <= 500 and p99 <= 2_000
    else:
        measured, met = NOT if live is None else "no order timed", None if live is None else False
    peer = (
        f"build + sign {bs['ours_median_us']:,.0f} µs (solders {bs['peer_median_us']:,.0f})"
        if isinstance(bs, dict) and "ours_median_us" in bs
        else ""
    )
    lag = _get(live, "tick_to_trade", WAY, "loop_lag_ms")
    if isinstance(lag, dict) and "p99" in lag:  # (before the frame's receipt: not counted)
        peer += f"; loop late p99 {lag['p99']:,.0f} ms"
    out.append(
        (
            "tick to trade, frame -> written",
            measured,
            peer,
            "p50 <= 500, p99 <= 2,000 µs",
            _met(met),
        )
    )

    g = _load(d, "grpc_e2e")
    wire = _get(g, "wire_speed_msgs_s") or {}
    nat = wire.get("native arbscope")
    out.append(
        (
            "gRPC updates applied at wire speed",
            NOT if nat is None else f"{nat:,.0f} /s (native)",
            ""
            if nat is None
            else (
                f"aio {wire.get('aio arbscope', 0):,.0f} /s; "
                f"recv only {wire.get('native recv', 0):,.0f} /s"
            ),
            ">= 130,000 /s",
            _met(None if nat is None else nat >= 130_000),
        )
    )
    p99 = _get(g, "native_latency_p99_us")
    out.append(
        (
            "gRPC queue -> graph p99",
            NOT if p99 is None else f"{p99:,.0f} µs (native)",
            ""
            if p99 is None
            else f"aio {_get(g, 'latency_p99_us') or 0:,.0f} µs"
            + (
                f"; native from bench.h2_geyser (no simulator's server) {wp:,.0f} µs"
                if (wp := _get(g, "wire_speed_native_latency_p99_us")) is not None
                else ""
            ),
            "<= 500 µs",
            _met(None if p99 is None else p99 <= 500),
        )
    )

    j = _load(d, "journal")
    per_hour = _get(j, "recorded_per_hour")
    whole = next(
        (v.get("per_hour") for k, v in (_get(j, "write") or {}).items() if "whole" in k), None
    )
    out.append(
        (
            "journal, as the session records it",
            NOT if per_hour is None else f"{per_hour / MB:,.1f} MB / recorded hour",
            "; ".join(
                part
                for part in (
                    "" if whole is None else f"whole inputs {whole / MB:,.1f} MB / h",
                    # the recording's slots: what "an hour" is counted from
                    ""
                    if _get(j, "slot_ms") is None
                    else f"{_get(j, 'slots'):,} slots, one every {_get(j, 'slot_ms'):,.0f} ms "
                    f"(clock {_get(j, 'clock_slot_ms'):g})",
                )
                if part
            ),
            "<= 100 MB / h",
            _met(None if per_hour is None else per_hour / MB <= 100),
        )
    )
    x = _get(j, "replay_x_real_time")
    same = _get(j, "digest_matches")
    out.append(
        (
            "replay, headless",
            NOT if x is None else f"{x:,.0f}x real time, digest {'equal' if same else 'DIFFERENT'}",
            ""
            if _get(j, "replay_frames_per_s") is None
            else f"{_get(j, 'replay_frames_per_s'):,.0f} frames/s",
            ">= 150x, the live digest",
            _met(None if x is None else bool(x >= 150 and same)),
        )
    )
    rss = _get(j, "peak_rss_mb")
    out.append(
        (
            "journal bench memory (record / write / replay)",
            NOT
            if not isinstance(rss, dict)
            else " / ".join(f"{rss.get(k, 0):,.0f}" for k in ("record", "write", "replay")) + " MB",
            "",
            "bounded (streamed)",
            NOT if not isinstance(rss, dict) else "see the figures",
        )
    )

    n = _load(d, "nats")
    ratio = _get(n, "ratio")
    out.append(
        (
            "NATS consumer / direct",
            NOT if ratio is None else f"{100 * ratio:.0f} % ({_get(n, 'nats_frames_s'):,.0f} /s)",
            "" if ratio is None else f"direct {_get(n, 'direct_frames_s'):,.0f} /s",
            ">= 80 %",
            _met(None if ratio is None else ratio >= 0.8),
        )
    )
    lat = _get(n, "latency_p99_ms")
    out.append(
        (
            "NATS added latency p99",
            NOT if lat is None else f"{lat:.2f} ms",
            "" if lat is None else f"p50 {_get(n, 'latency_p50_ms'):.2f} ms",
            "<= 1 ms",
            _met(None if lat is None else lat <= 1.0),
        )
    )

    u = _load(d, "ui")
    if u is None or "cpu_cores" not in u:
        out.append(
            ("dashboard, a mainnet-size market", NOT, "", "<= 1 core, keys <= 100 ms p99", NOT)
        )
    else:
        size = f"{u.get('pools', '?')} pools, {u.get('endpoints', '?')} endpoints"
        # the simulator feeding it: its CPU, and a slot every how long against its clock
        # (one that cannot step the market in a slot stretches its slots)
        fed = (
            f"; the simulator {u['simulator_cores']:.2f} cores, a slot every "
            f"{u['simulator_slot_ms']:,.0f} ms (clock {u.get('slot_ms', 0):g})"
            if "simulator_slot_ms" in u
            else ""
        )
        out.append(
            (
                f"dashboard ({size}): CPU",
                f"{u['cpu_cores']:.2f} cores",
                f"{u.get('messages_per_s', 0):,.0f} feed msg/s, "
                f"{u.get('reconnects', 0)} reconnects{fed}",
                "<= 1 core",
                _met(u["cpu_cores"] <= 1.0),
            )
        )
        out.append(
            (
                "dashboard: key (space) p50 / p99",
                f"{u['key_latency_p50_ms']:.0f} / {u['key_latency_p99_ms']:.0f} ms",
                f"{u.get('keys', 0)} presses on their own; right behind t: "
                + (
                    f"{u['key_behind_theme_p50_ms']:.0f} / {u['key_behind_theme_p99_ms']:.0f} ms"
                    if "key_behind_theme_p99_ms" in u
                    else "not measured"
                ),
                "p99 <= 100 ms",
                _met(u["key_latency_p99_ms"] <= 100),
            )
        )
        start, end = u.get("rss_mb_start"), u.get("rss_mb_end")
        if start is not None and end is not None:
            out.append(
                (
                    "dashboard: memory after warm-up -> end",
                    f"{start:,.0f} -> {end:,.0f} MB",
                    f"{u.get('seconds', 0):,.0f} s",
                    "flat (<= +10 %)",
                    _met(end <= 1.1 * start),
                )
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.goals", description=__doc__.split("\n")[0])
    ap.add_argument("dir", help="where this run's benches wrote their JSON")
    ap.add_argument(
        "--record",
        nargs="?",
        const="",
        metavar="NOTE",
        help="append this table to docs/benchmarks/history.json (NOTE: the machine and its "
        "load) and generate docs/benchmarks.md again",
    )
    a = ap.parse_args(argv)
    d = Path(a.dir)
    print(f"# issue 38's goals, this run's figures ({d})")
    head = ("goal", "measured", "peer / ceiling, same run", "bound", "met")
    table = rows(d)
    print("\n".join(markdown(head, table)))
    if a.record is not None:
        from tools import bench_page

        h = bench_page.load()
        bench_page.append(
            h, bench_page.run_entry("goals", "One `make bench-goals` run", a.record, head, table)
        )
        bench_page.save(h)
        print("recorded in docs/benchmarks/history.json; docs/benchmarks.md written")
    return 0


if __name__ == "__main__":
    sys.exit(main())

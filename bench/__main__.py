"""Print one table: kernel, size, Rust median, Python median, peer medians, ratios.

Medians of repeated timeit runs with auto-chosen loop counts; the machine is noisy, so
a reference row (an empty 5-int call into the extension) shows the interpreter's floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import timeit
from collections.abc import Callable
from typing import Any

import engine_rs
from engine_rs.kernels import KERNELS


def median_s(fn: Callable[[], Any], budget_s: float, repeat: int = 7) -> float:
    t = timeit.Timer(fn)
    n, _ = t.autorange()
    per = max(1, int(n * budget_s / repeat / 0.2))
    return statistics.median(x / per for x in t.repeat(repeat=repeat, number=per))


def fmt(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    return f"{s * 1e3:.2f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(prog="bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="shorter runs")
    ap.add_argument("--kernel", help="only this kernel")
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args()
    budget = 0.3 if args.quick else 1.0
    rs, py = engine_rs.load("rust"), engine_rs.load("python")
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, engine build {rs.BUILD_PROFILE}"
    )
    floor = rs._engine._call_floor
    floor_s = median_s(lambda: floor(1_000_000, 5_000_000_000, 7_000_000_000, 25, 10_000), budget)
    print(f"# call floor (5-int fastcall, no kernel): {fmt(floor_s)}")
    head = (
        "kernel",
        "size",
        "Rust",
        "Python",
        "py/rust",
        "rustworkx",
        "rwx/rust",
        "networkx",
        "nx/rust",
    )
    rows = []
    for k in KERNELS:
        if args.kernel and k.name != args.kernel:
            continue
        r = median_s(k.prepare(rs), budget)
        p = median_s(k.prepare(py), budget, repeat=5 if r > 1e-4 else 7)
        peers: dict[str, float | None] = {}
        for lib in ("rustworkx", "networkx"):
            mk = k.peers.get(lib)
            call = mk() if mk else None
            peers[lib] = median_s(call, budget) if call else None
        rows.append(
            {
                "kernel": k.name,
                "size": k.size,
                "rust_s": r,
                "python_s": p,
                "rustworkx_s": peers["rustworkx"],
                "networkx_s": peers["networkx"],
            }
        )
    table = [head]
    for row in rows:
        r = row["rust_s"]
        table.append(
            (
                row["kernel"],
                row["size"],
                fmt(r),
                fmt(row["python_s"]),
                f"{row['python_s'] / r:.0f}×",
                fmt(row["rustworkx_s"]),
                f"{row['rustworkx_s'] / r:.1f}×" if row["rustworkx_s"] else "—",
                fmt(row["networkx_s"]),
                f"{row['networkx_s'] / r:.0f}×" if row["networkx_s"] else "—",
            )
        )
    widths = [max(len(str(r[i])) for r in table) for i in range(len(head))]
    for i, r in enumerate(table):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

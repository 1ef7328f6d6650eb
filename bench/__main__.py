"""`python -m bench` (`make bench`): one table of the engine's kernels, Rust vs Python vs peers.

Every (kernel, size) of the bench cases (bench/cases.py: one per kernel of the
registry, engine_rs/kernels.py) is prepared once per backend, then timed: the median
over repeated timeit runs of the per-call time, with the loop count chosen so each run
lasts about budget / repeats. Kernels whose call follows a pool update time the call
alone and print the update as its own row (marked ↳).

The machine is noisy, so the header gives the load and two reference timings: an empty
Python call and a 5-int call into the extension that does no work (the FFI floor).

The Rust core's own criterion benches (no Python in the loop) run with
`cargo bench --manifest-path engine_rs/Cargo.toml -p arbscope-core`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
import timeit
import types
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import engine_rs

from .cases import CASES, Call, Case, Size


@dataclass(slots=True)
class Row:
    """One line of the table; times in seconds per call, None when not measured."""

    kernel: str
    size: str
    rust_s: float | None
    python_s: float | None
    # peer library -> seconds per call, in the registry's order (the first is printed on
    # the kernel's row, any others on continuation rows below it)
    peers: dict[str, float] = field(default_factory=dict)


def _timer(fn: Callable[..., Any], args: Sequence[Any]) -> timeit.Timer:
    """A Timer whose statement is the bare call ``f(a0, a1, ...)``: no wrapper frame."""
    names = [f"a{i}" for i in range(len(args))]
    env: dict[str, Any] = dict(zip(names, args))
    env["f"] = fn
    return timeit.Timer(f"f({', '.join(names)})", globals=env)


def median_call_s(
    fn: Callable[..., Any], args: Sequence[Any], budget_s: float, repeat: int
) -> float:
    """Median seconds per call of ``fn(*args)`` over ``repeat`` timeit runs filling ``budget_s``."""
    t = _timer(fn, args)
    number, took = 1, t.timeit(1)  # also a warm-up
    while took < budget_s / repeat / 10 and number < 10**7:
        number *= 10
        took = t.timeit(number)
    per_run = budget_s / repeat
    number = max(1, int(number * per_run / max(took, 1e-9)))
    if took / number * repeat > budget_s:  # slow call: fewer runs, at least 3
        repeat = max(3, min(repeat, int(budget_s / max(took / number, 1e-9))))
    return statistics.median(x / number for x in t.repeat(repeat=repeat, number=number))


def median_with_before_s(c: Call, budget_s: float, min_samples: int = 7) -> tuple[float, float]:
    """Medians (seconds) of the timed call and, separately, of its ``before`` step,
    timing each call on its own (``before`` changes the state between calls)."""
    assert c.before is not None
    before: list[int] = []
    calls: list[int] = []
    clock = time.perf_counter_ns
    c()  # warm-up
    gc_was = gc.isenabled()
    gc.disable()  # as timeit does
    try:
        end = clock() + int(budget_s * 1e9)
        while len(calls) < min_samples or (clock() < end and len(calls) < 200_000):
            t0 = clock()
            c.before()
            t1 = clock()
            c.fn(*c.args)
            t2 = clock()
            before.append(t1 - t0)
            calls.append(t2 - t1)
    finally:
        if gc_was:
            gc.enable()
    return statistics.median(calls) / 1e9, statistics.median(before) / 1e9


def fmt(s: float | None) -> str:
    """A duration for the table, in the unit that keeps 2-4 significant digits."""
    if s is None:
        return "—"
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1.0:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def ratio(num: float | None, den: float | None) -> str:
    """``num / den`` as "12×" (one decimal below 10), or "—"."""
    if num is None or den is None or den <= 0:
        return "—"
    x = num / den
    return f"{x:.1f}×" if x < 10 else f"{x:,.0f}×"


def _load() -> str:
    """The 1-minute load average, or "?" where the OS has none."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?"


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_1m": _load(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def _measure(
    k: Case, size: Size, backend: types.ModuleType | None, budget: float, repeat: int
) -> tuple[float | None, float | None]:
    """(call, before) medians of ``k`` at ``size`` on ``backend`` (None: not available)."""
    if backend is None:
        return None, None
    c = k.call(backend, size)
    if c.before is not None:
        return median_with_before_s(c, budget)
    return median_call_s(c.fn, c.args, budget, repeat), None


def run(
    kernels: Sequence[Case], budget: float, repeat: int, log: Callable[[str], None]
) -> list[Row]:
    """Time every size of ``kernels`` on both backends and the peers."""
    try:
        rs: types.ModuleType | None = engine_rs.load("rust")
    except ImportError as exc:
        log(f"# Rust extension not built ({exc}): Rust column empty; run `make engine`")
        rs = None
    py = engine_rs.load("python")
    rows = []
    for k in kernels:
        for size in k.sizes:
            log(f"  {k.name} [{size.label}] ...")
            r, r_before = _measure(k, size, rs, budget, repeat)
            # the peers right after the Rust call, in the same process state: the twin's
            # slow run allocates and frees large arrays, after which glibc hands out 8 MB
            # arrays without fresh pages (it raises its mmap threshold), so whatever is
            # timed after the twin allocates faster than what was timed before it
            peers: dict[str, float] = {}
            inp = k.make_input(size, 7) if k.peers or k.timed_peers else None
            for lib, factory in k.peers.items():
                try:
                    call = factory(inp, size)
                except ImportError:
                    call = None
                if isinstance(call, Call) and call.before is not None:
                    # the same update as ours first, untimed: the search alone is timed
                    peers[lib] = median_with_before_s(call, budget)[0]
                elif call is not None:
                    peers[lib] = median_call_s(call, (), budget, repeat)
            for lib, timed in k.timed_peers.items():
                peer_s = timed(inp, size)
                if peer_s is not None:
                    peers[lib] = peer_s
            p, p_before = _measure(k, size, py, budget, repeat)
            per = k.calls_per_run  # a timed call that loops over ticks: time per tick
            r, p = (None if r is None else r / per), (None if p is None else p / per)
            rows.append(Row(k.name, size.label, r, p, peers))
            if r_before is not None or p_before is not None:
                rows.append(
                    Row(f"  ↳ {k.before_label}", "(not in the row above)", r_before, p_before)
                )
    return rows


def table(rows: Sequence[Row]) -> list[str]:
    """The rows as an aligned Markdown table: kernel, size, Rust, Python, py/rust, then
    one peer library per line (its time and peer/rust; more peers on continuation lines)."""
    head = ("kernel", "size", "Rust", "Python", "py/rust", "peer", "peer time", "peer/rust")
    cells: list[tuple[str, ...]] = [head]
    for r in rows:
        peers: list[tuple[str, float | None]] = list(r.peers.items()) or [("", None)]
        for i, (lib, peer_s) in enumerate(peers):
            own: tuple[str, ...] = (
                (r.kernel, r.size, fmt(r.rust_s), fmt(r.python_s), ratio(r.python_s, r.rust_s))
                if i == 0
                else ("", "", "", "", "")
            )
            peer = (lib, fmt(peer_s), ratio(peer_s, r.rust_s)) if lib else ("", "", "")
            cells.append(own + peer)
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    out = []
    for i, c in enumerate(cells):
        out.append("| " + " | ".join(v.ljust(w) for v, w in zip(c, widths)) + " |")
        if i == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench",
        description="Time the engine's kernels: Rust, the Python twin and peer libraries "
        "(one table). The Rust core alone: cargo bench --manifest-path "
        "engine_rs/Cargo.toml -p arbscope-core.",
    )
    ap.add_argument("--quick", action="store_true", help="short runs (noisier), ~4x faster")
    ap.add_argument("--kernel", metavar="NAME", help="only this kernel (see bench/cases.py)")
    ap.add_argument("--json", metavar="PATH", help="also write machine info and rows as JSON")
    args = ap.parse_args(argv)
    kernels = [k for k in CASES if args.kernel in (None, k.name)]
    if not kernels:
        ap.error(f"unknown kernel {args.kernel!r}; known: {', '.join(k.name for k in CASES)}")
    budget, repeat = (0.25, 5) if args.quick else (1.0, 7)
    started = time.monotonic()
    info = machine()
    try:
        info["engine_build"] = engine_rs.load("rust").BUILD_PROFILE
        floor = engine_rs.load("rust")._engine._call_floor
        info["ffi_floor_s"] = median_call_s(floor, (1, 2, 3, 4, 5), budget, repeat)
    except (ImportError, AttributeError):
        info["engine_build"], info["ffi_floor_s"] = None, None
    info["empty_python_call_s"] = median_call_s(lambda: None, (), budget, repeat)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    rows = run(kernels, budget, repeat, log)
    info["load_1m_after"] = _load()
    info["total_s"] = time.monotonic() - started
    print(
        f"# {info['cpu']}, {info['cores']} cores, {info['platform']}, Python {info['python']}, "
        f"engine build {info['engine_build']}"
    )
    print(
        f"# load avg {info['load_1m']} -> {info['load_1m_after']}; reference: empty "
        f"Python call {fmt(info['empty_python_call_s'])}, extension call floor (5 ints, no "
        f"work) {fmt(info['ffi_floor_s'])}"
    )
    print(
        f"# medians per call; {'quick' if args.quick else 'full'} run, {info['total_s']:.0f} s; "
        "↳ rows: the step done before each call of the row above (a pool update, a fresh "
        "batch), timed on its own"
    )
    print("\n".join(table(rows)))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"machine": info, "rows": [asdict(r) for r in rows]}, indent=1)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

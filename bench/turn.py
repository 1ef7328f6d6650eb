"""`python -m bench.turn`: a session's own work on a busy market, without a screen.

The simulator of ``bench.ui`` in its own process (``--pools 3000 --tokens 300
--endpoints 5``: the mainnet-size market) and, in this process, a ``FeedSession`` on its
endpoints (no screen, the twin's shadow off unless ``--shadow``), run for ``--seconds``
after ``--warmup`` seconds past its start. Measured over the run:

- pool evaluations (``Evaluator.evaluate``): how many, their time per call (mean, p50,
  p99: the decision path's first step, what the turn and tick to trade wait on);
- the garbage collector: collections per generation, their total and longest pause
  (``gc.callbacks``), with the heap settled as ``arbscope run --headless`` does
  (``arbscope.heap``; ``--no-settle``: CPython's defaults);
- reconnects of the endpoints (all of them, with their reasons) and CPU cores used.

Prints a table; ``--json PATH`` writes the figures. It measures what the session does
per input; ``bench.ui`` measures what the operator sees.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

from bench.report import markdown
from bench.ui import busy_simulator, market_args


class _GcWatch:
    """Every collection's generation and duration (ns), from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[int]] = {0: [], 1: [], 2: []}
        self._t0 = 0
        self.on = False

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter_ns()
        elif self.on and self._t0:
            self.pauses[info["generation"]].append(time.perf_counter_ns() - self._t0)


async def measure(urls: list[list[str]], a: argparse.Namespace) -> dict[str, Any]:
    from arbscope import heap, sources
    from arbscope.market import Evaluator
    from feeds.clients.pool import Endpoint
    from feeds.sim.world import World, WorldConfig

    if not a.no_settle:
        heap.enable()  # as `arbscope run --headless` does
    w = World(WorldConfig(seed=a.seed, tokens=a.tokens, pools=a.pools))
    eps = [Endpoint(f"sim-{i}", u[0], u[1]) for i, u in enumerate(urls)]
    s = sources.session(
        sources.Watch(universe=w.universe(), base_mints=w.bases, seed=a.seed),
        sources.Evaluation(shadow=a.shadow),
        endpoints=eps,
    )
    calls: list[int] = []
    timing = [False]
    evaluate = Evaluator.evaluate

    def timed(
        self: Evaluator, pool_id: str, slot: int, piece: tuple[int, int] | None = None
    ) -> list[Any]:
        if not timing[0]:
            return evaluate(self, pool_id, slot, piece)
        t0 = time.perf_counter_ns()
        try:
            return evaluate(self, pool_id, slot, piece)
        finally:
            calls.append(time.perf_counter_ns() - t0)

    watch = _GcWatch()
    Evaluator.evaluate = timed  # type: ignore[method-assign]
    gc.callbacks.append(watch)
    try:
        t0 = time.monotonic()
        await s.start()
        while (
            not (s.feeds.pool is not None and s.feeds.pool.workers and s.feeds.pool.start_filled)
            and not s.start_error
        ):
            if time.monotonic() - t0 > a.start_timeout:
                break
            await s.run(duration_s=0.5)
        started_s = time.monotonic() - t0
        if s.start_error or s.feeds.pool is None or not s.feeds.pool.workers:
            raise SystemExit(f"the session did not start: {s.start_error or 'timed out'}")
        await s.run(duration_s=a.warmup)
        reconnects0 = sum(c.reconnects for c in s.feeds.pool.counters)
        cpu0, wall0 = time.process_time(), time.monotonic()
        timing[0] = watch.on = True
        await s.run(duration_s=a.seconds)
        timing[0] = watch.on = False
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        reasons = sorted(
            {c.last_error for c in s.feeds.pool.counters if c.reconnects and c.last_error}
        )
        reconnects = sum(c.reconnects for c in s.feeds.pool.counters) - reconnects0
        await s.stop()
    finally:
        Evaluator.evaluate = evaluate  # type: ignore[method-assign]
        gc.callbacks.remove(watch)
    ordered = sorted(calls)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] / 1e3 if ordered else 0.0

    return {
        "pools": a.pools,
        "tokens": a.tokens,
        "endpoints": a.endpoints,
        "settled": not a.no_settle,
        "shadow": a.shadow,
        "start_s": started_s,
        "seconds": wall,
        "evaluations": len(calls),
        "evaluations_per_s": len(calls) / wall,
        "evaluate_mean_us": statistics.fmean(calls) / 1e3 if calls else 0.0,
        "evaluate_p50_us": pct(0.5),
        "evaluate_p99_us": pct(0.99),
        "gc": {
            str(g): {
                "collections": len(v),
                "total_ms": sum(v) / 1e6,
                "max_ms": max(v, default=0) / 1e6,
            }
            for g, v in watch.pauses.items()
        },
        "reconnects": reconnects,
        "reconnect_reasons": reasons,
        "cpu_cores": cpu / wall,
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.turn", description=__doc__.split("\n")[0])
    market_args(ap, tokens=300, pools=3000, endpoints=5)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds after the start")
    ap.add_argument("--start-timeout", type=float, default=900.0)
    ap.add_argument("--shadow", action="store_true", help="the Python twin mirrors the ingest")
    ap.add_argument("--no-settle", action="store_true", help="CPython's collector defaults")
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    with busy_simulator(a) as urls:
        r = asyncio.run(measure(urls, a))
    print(
        f"# a session's own work: {a.endpoints} endpoints, {a.pools} pools, {a.trades} trades "
        f"per {a.slot_ms:g} ms slot, {r['seconds']:.0f} s after {a.warmup:g} s of warm-up, "
        f"{'heap settled' if r['settled'] else 'collector defaults'}, "
        f"{'shadow' if a.shadow else 'no shadow'}"
    )
    gcr = r["gc"]
    rows = [
        ("session start (snapshot, subscriptions)", f"{r['start_s']:.0f} s"),
        ("pool evaluations", f"{r['evaluations']:,} ({r['evaluations_per_s']:,.0f} /s)"),
        (
            "evaluate mean / p50 / p99",
            f"{r['evaluate_mean_us']:,.0f} / {r['evaluate_p50_us']:,.0f} / "
            f"{r['evaluate_p99_us']:,.0f} µs",
        ),
        *(
            (
                f"gc generation {g}: collections, total, longest",
                f"{v['collections']}, {v['total_ms']:,.0f} ms, {v['max_ms']:,.1f} ms",
            )
            for g, v in gcr.items()
        ),
        ("reconnects", f"{r['reconnects']} {'; '.join(r['reconnect_reasons'])[:120]}"),
        ("CPU (process / wall)", f"{r['cpu_cores']:.2f} cores"),
    ]
    print("\n".join(markdown(("measure", "value"), rows)))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(r, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m bench.reconcile`: the graph against Agave's own validator, for minutes.

A validator (``../shared/bin/solana-test-validator``) on the market of seed 63 written
for it (``arbscope sim --export``), the market driver trading it (``arbscope node drive``:
noise traders, arbitrageurs, large trades, rival arbitrages), and feed sessions on it,
each its own ingest (the Rust engine) and ``FeedPool``, checked by
``tests/support/graphcheck.py`` (an account judged only at slots where the engine and the
node must agree):

1. **clean** — the node's PubSub straight, the reconcile off, for ``--minutes``: every
   watched account's bytes in the engine equal the node's at every checked slot (the
   goal: zero differing accounts over 30 minutes).
2. **the goal run** — for the first ``--goal-s`` seconds (120), one endpoint losing
   ``--drop`` (3 %) of its account notifications through a proxy, the reconcile on
   (``feeds.reconcile_rps`` 2): how long a difference lasted (seconds, the reconcile's
   sweeps), the repairs against the drops, the reconcile's request rate, ``/health``'s
   verdict; then the loss stops and, one sweep later, the stale pools against the node's
   accounts (the goal: none). Beside it the same loss with the reconcile off (the
   control): the stale pools at the end, and how long they were stale.
3. **phantom cycles** — at each check of a lossy session, the cycles its graph prices
   as profitable through a pool it holds stale (a cycle that does not exist on chain:
   what a live session would send and have refused), and how many checks each was seen
   in (the goal: none seen more than a few times).

It takes a core and ~1.5 GB for the validator; nothing else should run meanwhile. It
prints one table and, with ``--json PATH``, writes the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SEED = 63


async def _session(
    name: str, rpc_url: str, ws_url: str, market: Any, reconcile: Any
) -> tuple[Any, Any, Any, Any]:
    """A feed session on the node: its pool, ingest, checker and graph."""
    import engine_rs
    from feeds.clients.pool import Endpoint, FeedPool
    from feeds.clients.pubsub import WorkerConfig
    from tests.support.graphcheck import GraphCheck

    eng = engine_rs.load("rust")
    graph = eng.PoolGraph(base_mints=market.bases, max_hops=3)
    ing = eng.FeedIngest(graph)
    patient = WorkerConfig(open_timeout_s=10.0, heartbeat_s=10.0, stale_after_s=60.0)
    pool = FeedPool(
        [Endpoint(name, ws_url, rpc_url)],
        ing,
        eng,
        patient,
        commitment="confirmed",
        rpc_timeout_s=10.0,
        reconcile=reconcile,
    )
    boot = await pool.bootstrap(market.pools)
    await pool.start(boot.subscriptions)
    await pool.wait_started(timeout_s=120.0)
    check = GraphCheck(
        ing,
        rpc_url,
        streams=lambda: [c.endpoint for c in pool.counters if c.connected],
        since=int(ing.stats().slot),
    )
    return pool, ing, check, graph


class Stale:
    """Differences a session's checks saw: when each was first and last seen (wall and
    the reconcile's sweeps), and the phantom cycles (priced profitable through a stale
    pool) with how many checks saw each."""

    def __init__(self, name: str, pool: Any, ing: Any, bases: Sequence[str]) -> None:
        self.name, self.pool, self.ing, self.bases = name, pool, ing, bases
        self.open: dict[tuple[str, int], tuple[float, int]] = {}
        self.lasted: list[tuple[float, int]] = []  # (seconds, sweeps) of each closed one
        self.phantoms: collections.Counter[tuple[str, tuple[str, ...]]] = collections.Counter()
        self.stale_pools_seen: set[str] = set()

    def sweeps(self) -> int:
        rec = self.pool.reconciler
        return rec.stats.sweeps if rec is not None else 0

    def judge(self, tally: Any, graph: Any) -> None:
        """One check's differences (``tally``) and the cycles ``graph`` prices through
        the pools they are of."""
        now, sweeps = time.monotonic(), self.sweeps()
        seen = {(k, held) for k, held, _slot, _pools in tally.differing}
        stale_pools = {p for _k, _h, _s, pools in tally.differing for p in pools}
        self.stale_pools_seen |= stale_pools
        for key in seen:
            self.open.setdefault(key, (now, sweeps))
        for key in [k for k in self.open if k not in seen]:
            t0, s0 = self.open.pop(key)
            self.lasted.append((now - t0, sweeps - s0))
        if stale_pools:
            for base in self.bases:
                try:
                    cycles = graph.cycles(base, 3)
                except Exception:  # an engine refusal: no cycles to count
                    continue
                for o in cycles:
                    if o.profit > 0 and stale_pools & set(o.pools):
                        self.phantoms[(base, tuple(o.pools))] += 1

    def longest(self) -> tuple[float, int]:
        now, sweeps = time.monotonic(), self.sweeps()
        spans = self.lasted + [(now - t, sweeps - s) for t, s in self.open.values()]
        return max((t for t, _ in spans), default=0.0), max((s for _, s in spans), default=0)


async def run(a: argparse.Namespace) -> dict[str, Any]:
    from arbscope.health import HealthMonitor
    from feeds.clients.reconcile import ReconcileSettings
    from feeds.sim.export import export
    from feeds.sim.validator import Validator, find_validator
    from feeds.sim.world import WorldConfig
    from tests.support.driver import Driven
    from tests.support.lossy import LossyProxy
    from tests.support.realnode import PROGRAMS

    binary = find_validator()
    if binary is None:
        raise SystemExit("no solana-test-validator (../shared/bin): nothing to run")
    work = Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    market = export(WorldConfig(seed=SEED), work / "market", PROGRAMS)
    v = Validator(binary, work / "market", grpc=False)
    info = v.start()
    driven = Driven(info.rpc_url, work / "market", work / "driver").start()
    out: dict[str, Any] = {"seed": SEED, "minutes": a.minutes, "goal_s": a.goal_s, "drop": a.drop}
    proxies = [LossyProxy(info.ws_url, a.drop, seed=s) for s in (1, 2)]
    pools: list[Any] = []
    try:
        driven.wait_for(lambda t: t["totals"]["landed"] > 0, timeout=300.0)
        for p in proxies:
            await p.start()
        clean = await _session("clean", info.rpc_url, info.ws_url, market, None)
        goal = await _session(
            "goal", info.rpc_url, proxies[0].url, market, ReconcileSettings(rps=a.rps)
        )
        control = await _session("control", info.rpc_url, proxies[1].url, market, None)
        pools = [clean[0], goal[0], control[0]]
        stale = {
            "goal": Stale("goal", goal[0], goal[1], market.bases),
            "control": Stale("control", control[0], control[1], market.bases),
        }
        monitor = HealthMonitor(window_s=30.0)
        monitor.check(goal[0].health(), int(goal[1].stats().slot))
        landed0 = driven.tally()["totals"]["landed"]
        t0 = time.monotonic()
        # the goal window: three sessions checked in turn
        while time.monotonic() - t0 < a.goal_s:
            await clean[2].check()
            for name, session in (("goal", goal), ("control", control)):
                stale[name].judge(await session[2].check(), session[3])
        goal_window = time.monotonic() - t0
        verdict = monitor.check(goal[0].health(), int(goal[1].stats().slot))
        rec = goal[0].reconciler
        st = rec.stats
        requests_in_window, accounts_in_window = st.requests, st.accounts
        # the loss stops: one whole sweep later, nothing of the goal session is stale
        dropped = [p.dropped for p in proxies]
        passed = [p.passed for p in proxies]
        for p in proxies:
            p.drop = 0.0
        after = st.sweeps + 1
        while st.sweeps <= after:
            await asyncio.sleep(0.1)
        final_goal = await goal[2].check()
        final_control = await control[2].check()
        health = {h.name: h for p in pools for h in p.health()}
        out["goal"] = {
            "window_s": round(goal_window, 1),
            "notifications": passed[0] + dropped[0],
            "dropped": dropped[0],
            "repaired": health["goal"].repaired,
            "reconcile_requests": requests_in_window,
            "reconcile_rps": round(requests_in_window / goal_window, 2),
            "reconcile_accounts_per_s": round(accounts_in_window / goal_window, 1),
            "sweeps": st.sweeps,
            "unsettled": st.unsettled,
            "longest_s": round(stale["goal"].longest()[0], 1),
            "longest_sweeps": stale["goal"].longest()[1],
            "differences_seen": len(stale["goal"].lasted) + len(stale["goal"].open),
            "stale_pools_seen": len(stale["goal"].stale_pools_seen),
            "stale_pools_at_end": len({p for *_, ps in final_goal.differing for p in ps}),
            "compared_at_end": final_goal.compared,
            "phantom_cycles": len(stale["goal"].phantoms),
            "phantom_most_checks": max(stale["goal"].phantoms.values(), default=0),
            "health": [verdict.status, *verdict.problems],
            "checks": goal[2].tally.line(),
        }
        out["control"] = {
            "notifications": passed[1] + dropped[1],
            "dropped": dropped[1],
            "longest_s": round(stale["control"].longest()[0], 1),
            "differences_seen": len(stale["control"].lasted) + len(stale["control"].open),
            "stale_pools_seen": len(stale["control"].stale_pools_seen),
            "stale_pools_at_end": len({p for *_, ps in final_control.differing for p in ps}),
            "phantom_cycles": len(stale["control"].phantoms),
            "phantom_most_checks": max(stale["control"].phantoms.values(), default=0),
            "checks": control[2].tally.line(),
        }
        for p in (goal[0], control[0]):
            await p.stop()
        pools = [clean[0]]
        for p in proxies:
            await p.stop()
        # the rest of the minutes: the clean stream alone
        while time.monotonic() - t0 < a.minutes * 60:
            await clean[2].check()
        t = clean[2].tally
        out["clean"] = {
            "minutes": round((time.monotonic() - t0) / 60, 1),
            "answers": t.answers,
            "unsettled": t.unsettled,
            "compared": t.compared,
            "changed": t.changed,
            "equal": t.equal,
            "differing": len(t.differing),
            "first_differing": t.differing[:5],
            "slots": [min(t.slots, default=0), max(t.slots, default=0)],
            "reconnects": health["clean"].reconnects,
        }
        out["landed"] = driven.tally()["totals"]["landed"] - landed0
    finally:
        for p in pools:
            await p.stop()
        for p in proxies:
            await p.stop()
        driven.stop()
        v.stop()
    return out


def table(out: dict[str, Any]) -> str:
    c, g, k = out["clean"], out["goal"], out["control"]
    rows = [
        ("clean stream, reconcile off", f"{c['minutes']} min"),
        ("  accounts compared (moved since snapshot)", f"{c['compared']:,} ({c['changed']:,})"),
        ("  differing", f"{c['differing']}"),
        ("  answers (unsettled)", f"{c['answers']} ({c['unsettled']})"),
        (f"{out['drop']:.0%} of account notifications dropped, reconcile on", f"{g['window_s']} s"),
        ("  dropped / notifications", f"{g['dropped']} / {g['notifications']}"),
        ("  repaired", f"{g['repaired']}"),
        (
            "  reconcile requests/s (accounts/s)",
            f"{g['reconcile_rps']} ({g['reconcile_accounts_per_s']})",
        ),
        ("  longest difference", f"{g['longest_s']} s, {g['longest_sweeps']} sweeps"),
        ("  stale pools seen / at the end", f"{g['stale_pools_seen']} / {g['stale_pools_at_end']}"),
        (
            "  phantom cycles (most checks one was seen in)",
            f"{g['phantom_cycles']} ({g['phantom_most_checks']})",
        ),
        ("  /health", "; ".join(g["health"])[:90]),
        ("the same loss, reconcile off (control)", ""),
        ("  dropped / notifications", f"{k['dropped']} / {k['notifications']}"),
        ("  longest difference", f"{k['longest_s']} s"),
        ("  stale pools seen / at the end", f"{k['stale_pools_seen']} / {k['stale_pools_at_end']}"),
        ("  phantom cycles (most checks)", f"{k['phantom_cycles']} ({k['phantom_most_checks']})"),
        ("swaps landed by the driver", f"{out['landed']:,}"),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.reconcile", description=__doc__.splitlines()[0]
    )
    p.add_argument("--minutes", type=float, default=30.0, help="the clean check's length")
    p.add_argument("--goal-s", type=float, default=120.0, help="the lossy goal run's length")
    p.add_argument("--drop", type=float, default=0.03, help="account notifications dropped")
    p.add_argument("--rps", type=float, default=2.0, help="the reconcile's requests a second")
    p.add_argument("--json", metavar="PATH")
    a = p.parse_args(argv)
    out = asyncio.run(run(a))
    print(table(out))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1, default=str))
    return 0 if out["clean"]["differing"] == 0 and out["goal"]["stale_pools_at_end"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

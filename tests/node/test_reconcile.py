"""The graph equals the chain, on a real node with the market driven (issue 62, §2 and §4).

Five feed sessions read the same node at once, each with its own ingest (the Rust
engine), for a minute while the driver trades:

- ``clean``: the node's PubSub straight, the reconcile off. Every watched account's bytes
  in the engine equal the node's at every checked slot: zero differing accounts (the
  stream alone is exact);
- ``grpc`` and ``grpc+ws``: the node's Yellowstone plugin (the native receiver alone;
  grpc.aio beside the node's PubSub), the reconcile off: the same, zero differing;
- ``lossy``: 3 % of its account notifications dropped by a proxy, the reconcile off: the
  checker finds the accounts left behind (the checker can fail, and the loss is real);
- ``repaired``: the same loss, the reconcile on (``feeds.clients.reconcile``): each
  difference is gone within two sweeps of the reconcile, the repairs charged to the
  endpoint are at most the notifications dropped, ``/health``'s verdict names it, and
  once the loss stops, one sweep leaves no account differing at all.

The checker (``tests/support/graphcheck.py``) judges an account only at slots where the
engine and the node must agree; see its docstring."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import engine_rs
from arbscope.health import HealthMonitor
from feeds.clients.pool import Endpoint, FeedPool
from feeds.clients.pubsub import WorkerConfig
from feeds.clients.reconcile import ReconcileSettings
from feeds.sim.export import Market
from feeds.sim.validator import NodeInfo
from tests.support.driver import Driven
from tests.support.graphcheck import GraphCheck
from tests.support.hostile import until
from tests.support.lossy import LossyProxy

pytestmark = pytest.mark.node

DURATION_S = 60.0  # at least; longer on a machine too busy to reach the counts below
DEADLINE_S = 240.0
DROP = 0.03
# what a minute gives on an idle CI box many times over (the counts, not the time, say the
# check is not vacuous): accounts compared, of them moved since the snapshot, sweeps
MIN_COMPARED, MIN_CHANGED, MIN_SWEEPS = 300, 100, 5
# a validator starved of CPU (a loaded machine) stops its slots for seconds: the streams
# wait for it instead of reconnecting (a reconnect's re-fetch would hide the drops)
PATIENT = WorkerConfig(open_timeout_s=10.0, heartbeat_s=10.0, stale_after_s=60.0)


class Session:
    """One feed session on the node: its ingest, pool, checker and what it found."""

    def __init__(self, name: str, pool: FeedPool, ingest: Any, check: GraphCheck) -> None:
        self.name, self.pool, self.ingest, self.check = name, pool, ingest, check
        # differences seen, by (account, held slot): the reconcile's sweeps when first seen
        self.open: dict[tuple[str, int], int] = {}
        # differences still there at a check begun two whole sweeps after they were seen
        # (the reconcile reads every watched account each sweep: a change lost before a
        # sweep's read of it is repaired by that sweep, one lost after it by the next)
        self.late: list[tuple[str, int, int]] = []

    def sweeps(self) -> int:
        rec = self.pool.reconciler
        return rec.stats.sweeps if rec is not None else 0

    async def checked(self) -> None:
        """One pass of the checker, the differences it saw followed."""
        started = self.sweeps()
        t = await self.check.check()
        seen = {(k, held) for k, held, _slot, _pools in t.differing}
        for key in seen:
            first = self.open.setdefault(key, started)
            if started - first >= 2:
                self.late.append((*key, started - first))
        for key in [k for k in self.open if k not in seen]:
            del self.open[key]


async def _session(
    name: str,
    node: NodeInfo,
    market: Market,
    ws: str,
    reconcile: ReconcileSettings | None,
    endpoints: list[Endpoint] | None = None,
    config: WorkerConfig = PATIENT,
) -> Session:
    eng = engine_rs.load("rust")
    graph = eng.PoolGraph(base_mints=market.bases, max_hops=3)
    ing = eng.FeedIngest(graph)
    pool = FeedPool(
        endpoints or [Endpoint(name, ws, node.rpc_url)],
        ing,
        eng,
        config,
        commitment="confirmed",
        rpc_timeout_s=10.0,
        reconcile=reconcile,
    )
    boot = await pool.bootstrap(market.pools)
    assert boot.pools == len(market.pools) and not boot.missing and not boot.rejected, boot
    await pool.start(boot.subscriptions)
    await pool.wait_started(timeout_s=120.0)
    check = GraphCheck(
        ing,
        node.rpc_url,
        streams=lambda: [c.endpoint for c in pool.counters if c.connected],
        since=int(ing.stats().slot),
    )
    return Session(name, pool, ing, check)


async def test_the_graph_equals_the_chain_and_the_reconcile_repairs_what_a_stream_drops(
    driven: Driven, node: NodeInfo, node_market: tuple[Path, Market]
) -> None:
    _folder, market = node_market
    proxies = [LossyProxy(node.ws_url, DROP, seed=s) for s in (1, 2)]
    for p in proxies:
        await p.start()
    sessions: list[Session] = []
    try:
        sessions = [
            await _session("clean", node, market, node.ws_url, None),
            await _session(
                "grpc",
                node,
                market,
                "",
                None,
                [Endpoint("grpc-native", "", node.rpc_url, grpc=node.grpc_url)],
                replace(PATIENT, grpc_client="native"),
            ),
            await _session(
                "grpc+ws",
                node,
                market,
                "",
                None,
                [
                    Endpoint("ws-beside-grpc", node.ws_url, node.rpc_url),
                    Endpoint("grpc-aio", "", node.rpc_url, grpc=node.grpc_url),
                ],
                replace(PATIENT, grpc_client="aio"),
            ),
            await _session("lossy", node, market, proxies[0].url, None),
            await _session(
                "repaired", node, market, proxies[1].url, ReconcileSettings(rps=2.0, settle_s=30.0)
            ),
        ]
        clean, *over_grpc, lossy, repaired = sessions
        landed0 = driven.tally()["totals"]["landed"]
        monitor = HealthMonitor(window_s=30.0)
        monitor.check(repaired.pool.health(), int(repaired.ingest.stats().slot))
        t0 = time.monotonic()

        def enough() -> bool:
            return (
                time.monotonic() - t0 >= DURATION_S
                and all(
                    s.check.tally.compared >= MIN_COMPARED and s.check.tally.changed >= MIN_CHANGED
                    for s in (clean, *over_grpc)
                )
                and bool(lossy.check.tally.differing)
                and repaired.sweeps() >= MIN_SWEEPS
            )

        while not enough() and time.monotonic() - t0 < DEADLINE_S:
            for s in sessions:
                await s.checked()
        verdict = monitor.check(repaired.pool.health(), int(repaired.ingest.stats().slot))
        landed = driven.tally()["totals"]["landed"] - landed0
        # the loss stops; the reconcile's next whole sweep leaves nothing behind
        for p in proxies:
            p.drop = 0.0
        after = repaired.sweeps() + 1
        await until(lambda: repaired.sweeps() > after, DEADLINE_S)
        final = await repaired.check.check()
        health = {h.name: h for s in sessions for h in s.pool.health()}
        by_session = {s.name: s.pool.health() for s in sessions}
        rec = repaired.pool.reconciler
        assert rec is not None
        stats = rec.stats
        answered = sum(stats.per_endpoint.values())  # as health read it, this moment
        differing = stats.differing
    finally:
        for s in sessions:
            await s.pool.stop()
        for p in proxies:
            await p.stop()

    report = "\n".join(
        f"{s.name}: {s.check.tally.line()}; repaired "
        f"{sum(h.repaired for h in by_session[s.name])}, reconnects "
        f"{sum(h.reconnects for h in by_session[s.name])}"
        for s in sessions
    ) + (
        f"\ndropped {proxies[0].dropped} / {proxies[1].dropped} of "
        f"{proxies[0].passed + proxies[0].dropped} / {proxies[1].passed + proxies[1].dropped}; "
        f"reconcile: {stats.requests} requests, {stats.sweeps} sweeps, {stats.accounts} "
        f"accounts, {stats.differing} repaired, {stats.unsettled} unsettled; differences "
        f"left two sweeps after they were seen: {repaired.late}; landed {landed}"
    )
    print(report)
    assert landed > 50, report  # the market moved all along
    # the stream alone is exact: every account the engine holds is the node's
    c = clean.check.tally
    assert c.differing == [], report
    assert c.compared >= MIN_COMPARED and c.changed >= MIN_CHANGED, report
    assert c.unsettled <= c.answers // 10, report
    assert health["clean"].repaired == 0
    # the same over the node's Yellowstone plugin, alone and beside PubSub
    for s in over_grpc:
        g = s.check.tally
        assert g.differing == [], (s.name, report)
        assert g.compared >= MIN_COMPARED and g.changed >= MIN_CHANGED, (s.name, report)
    for name in ("grpc-native", "grpc-aio", "ws-beside-grpc"):
        assert health[name].repaired == 0 and health[name].reconnects == 0, (name, report)
    # drops leave accounts behind, and the checker sees them
    assert proxies[0].dropped > 0 and lossy.check.tally.differing, report
    # the reconcile repairs them: each gone within two of its sweeps, no more repairs than
    # drops, charged to the endpoint, shown on /health; nothing differs once the loss stops
    assert repaired.late == [], report
    assert 0 < health["repaired"].repaired <= proxies[1].dropped, report
    assert differing == health["repaired"].repaired and stats.requests > 0
    assert health["repaired"].reconcile_requests == answered > 0
    assert any("the reconcile repaired" in p for p in verdict.problems), verdict
    assert final.differing == [] and final.compared > 0, final.line()

"""An account the chain no longer holds, found by a re-fetch (issue 62): a watched
account that a fetch answers ``null`` goes into the ingest as its absence (the system
program's, no data: what a node notifies of an account deleted), so a pool whose vault
was closed leaves the graph even when no notification said so. Before, the re-fetch
passed over a ``null`` and the pool kept the vault's last state for good."""

from __future__ import annotations

import types

from feeds.clients.pool import Endpoint, FeedPool
from feeds.clients.pubsub import WorkerConfig
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from tests.support.hostile import until

QUIET = WorldConfig(seed=9, tokens=6, pools=12, trades_per_slot=0, dislocation_rate=0.0)
QUICK = WorkerConfig(open_timeout_s=2.0, heartbeat_s=2.0, stale_after_s=5.0, backoff_min_s=0.05)


async def test_a_vault_a_refetch_finds_gone_takes_its_pool_out(eng: types.ModuleType) -> None:
    server = SimServer(QUIET, [EndpointProfile("a")], slot_seconds=0.05)
    infos = await server.start()
    graph = eng.PoolGraph(base_mints=server.world.bases, max_hops=3)
    ing = eng.FeedIngest(graph)
    pool = FeedPool(
        [Endpoint(i.name, i.ws_url, i.http_url) for i in infos], ing, eng, QUICK, maintain_s=0.05
    )
    try:
        boot = await pool.bootstrap(server.world.universe())
        victim = next(p for p in server.world.pools if p.kind == "cpmm")
        before = set(graph.pools())
        assert victim.address in before
        # closed between the snapshot and the streams: nothing will notify it; the fill
        # after the start (every watched account fetched once more) finds it gone
        del server.world.accounts[victim.vault_a]
        await pool.start(boot.subscriptions)
        await until(lambda: pool.start_filled, 30.0)
        await until(lambda: victim.address not in graph.pools(), 30.0)
        assert set(graph.pools()) == before - {victim.address}  # only the victim left
        assert [(h.malformed, h.rejected) for h in pool.health()] == [(0, 0)]
    finally:
        await pool.stop()
        await server.stop()

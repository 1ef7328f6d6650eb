"""The simulated market as a pool graph, for the tests that compare a session's graph
with the world's."""

from __future__ import annotations

import types
from typing import Any

from feeds.sim.world import World


def world_graph(eng: types.ModuleType, world: World, max_hops: int = 3, slot: int = 0) -> Any:
    """``world``'s pools in a ``PoolGraph`` of ``eng``: each pool whose spec states its
    curve (constant-product reserves, Whirlpool ticks) upserted from its spec; the pools
    of the venues beyond the first three, which keep a market state of their own
    (``spec.venue``: DLMM bins ...), read from the world's bytes by an ingest of their
    own (the trusted path: pool, own accounts, vaults)."""
    graph = eng.PoolGraph(base_mints=world.bases, max_hops=max_hops)
    own = [p for p in world.pools if p.spec.venue]
    for p in world.pools:
        if not p.spec.venue:
            p.spec.upsert(graph, slot)
    if own:
        ing = eng.FeedIngest(graph)
        for p in own:
            ing.track_pool(p.address, p.kind)
            for a in p.tick_arrays:
                ing.track_tick_array(a, p.address)
        for _ in range(3):  # pools, then the accounts they name
            for k in ing.watched():
                acc = world.accounts.get(k)
                if acc is not None:
                    ing.account(k, acc.owner, acc.data, slot)
    return graph

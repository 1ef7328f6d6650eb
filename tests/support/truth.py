"""The simulated market's own graph, the oracle the feed tests compare a session's with.

The first three venues' pools carry their curves in their specs (reserves, Whirlpool
ticks): their states go straight into the graph (``PoolSpec.upsert``). The venues beyond
them (Raydium CLMM, ...) quote with curves the specs do not carry: a market holding any
of their pools is its accounts as they are now, read through each backend's trusted
path (``FeedIngest.account``, no frames, no dedup), every tick array of every pool held.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

from feeds.sim.state import Account


def market_graph(eng: types.ModuleType, world: Any, max_hops: int = 3) -> Any:
    g = eng.PoolGraph(base_mints=world.bases, max_hops=max_hops)
    if not any(p.spec.venue for p in world.pools):
        for p in world.pools:
            p.spec.upsert(g, 0)
        return g
    ing = eng.FeedIngest(g, 65_536, 64)
    for address, kind in world.universe():
        ing.track_pool(address, kind)
    for p in world.pools:
        for ta in p.tick_arrays:
            ing.track_array(ta, p.address)
    for _ in range(4):  # pools, then the accounts they name (vaults), then their mints
        for k in ing.watched():
            a = world.accounts.get(k)
            if a is not None:
                ing.account(k, a.owner, a.data, world.slot)
    return g


def feed(ing: Any, accounts: Mapping[str, Account], slot: int, rounds: int = 4) -> None:
    """Give ``ing`` every account it watches, until it asks for no new ones (pools, then
    the vaults and arrays they name, then mints)."""
    seen: set[str] = set()
    for _ in range(rounds):
        new = [k for k in ing.watched() if k not in seen]
        if not new:
            return
        for k in new:
            seen.add(k)
            a = accounts.get(k)
            if a is not None:
                ing.account(k, a.owner, a.data, slot)

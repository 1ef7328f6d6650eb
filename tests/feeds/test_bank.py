"""The simulator with the real programs as its bank (``arbscope sim --programs``):
the venues' ``SimVenue.load`` read a pool's state back from its bytes exactly as the world
holds it; the bank's probe refuses a binary older than arbscope's swap; a chain with a
bank runs what the bank can run there and the rest on the Python programs."""

from __future__ import annotations

from typing import Any

import pytest

from feeds import venues
from feeds.sim.state import Pool
from feeds.sim.world import World, WorldConfig


def view(pool: Pool) -> tuple[Any, ...]:
    """Everything of a pool's simulator state that its bytes determine."""
    s = pool.spec
    state = s.state
    if hasattr(state, "arrays"):  # a DLMM pair's bins
        state = {i: (a, [list(b) for b in bins]) for i, (a, bins) in state.arrays.items()}
    elif hasattr(state, "bids"):  # an order book
        state = (state.market.pack(), state.bids.data(), state.asks.data(), state.heap.data())
    return (pool.record, s.reserve_a, s.reserve_b, s.fee_num, s.fee_den, s.sqrt_price_x64,
            s.liquidity, s.tick_current, s.tick_spacing, s.fee_rate, list(s.ticks), state,
            pool.fees_a, pool.fees_b)  # fmt: skip


def test_every_venue_reads_its_pools_back() -> None:
    """The registry's parts: every venue's simulator reads its pools back (``load``)."""
    assert [v.name for v in venues.VENUES if v.sim.load is None] == []


@pytest.mark.parametrize("seed", [3, 7, 63])
@pytest.mark.parametrize("slots", [0, 40])
def test_load_on_the_worlds_own_bytes_is_the_state_it_holds(seed: int, slots: int) -> None:
    """Every pool of every venue, as created and after ``slots`` slots of the market's
    own trades (mainnet's pool writes on: what the programs write beside the price):
    ``load`` on its accounts gives back exactly the state the world holds."""
    w = World(WorldConfig.mainnet_like(seed=seed, competitors=0))
    for _ in range(slots):
        w.step()
    seen: dict[str, int] = {}
    for pool in w.pools:
        load = venues.by_kind(pool.kind).sim.load
        assert load is not None
        before = view(pool)
        load(w, pool)
        assert view(pool) == before, (pool.kind, pool.address)
        seen[pool.kind] = seen.get(pool.kind, 0) + 1
    assert set(seen) == set(venues.KINDS), seen  # every venue had pools to read back

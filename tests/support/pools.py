"""A simulated pool's state as its bytes determine it: what must survive a round trip
through the bytes (the simulated programs' ``load``, a real program's swap)."""

from __future__ import annotations

from typing import Any

from feeds.sim.state import Pool
from feeds.sim.world import World, WorldConfig


def view(pool: Pool) -> tuple[Any, ...]:
    """Everything of a pool's simulator state that its bytes determine."""
    s = pool.spec
    state = s.state
    if hasattr(state, "arrays"):  # a DLMM pair's bins
        state = {i: (a, [list(b) for b in bins]) for i, (a, bins) in state.arrays.items()}
    elif hasattr(state, "heap"):  # an OpenBook market: its four accounts
        state = (state.market.pack(), state.bids.data(), state.asks.data(), state.heap.data())
    elif hasattr(state, "seats"):  # a Manifest market: its account, which holds the book
        state = state.pack()
    return (
        type(pool.record),
        pool.record,
        s.reserve_a,
        s.reserve_b,
        s.fee_num,
        s.fee_den,
        s.sqrt_price_x64,
        s.liquidity,
        s.tick_current,
        s.tick_spacing,
        s.fee_rate,
        list(s.ticks),
        state,
        pool.fees_a,
        pool.fees_b,
    )


BOOKS_SEED = 63  # make run's market: it has books on SOL and USDC pairs


def booked_world() -> World:
    """``make run``'s market (:data:`BOOKS_SEED`) 30 slots on: the makers requoted,
    traders took, the cranker ran (its OpenBook v2 books hold orders and events)."""
    w = World(WorldConfig(seed=BOOKS_SEED, tokens=16, pools=48))
    for _ in range(30):
        w.step()
    return w

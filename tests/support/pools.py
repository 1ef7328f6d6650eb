"""A simulated pool's state as its bytes determine it: what must survive a round trip
through the bytes (the simulated programs' ``load``, a real program's swap)."""

from __future__ import annotations

from typing import Any

from feeds.sim.state import Pool


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

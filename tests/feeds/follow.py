"""What the array-following tests share (Whirlpool tick arrays, Raydium CLMM tick arrays,
Meteora DLMM bin arrays): a pool walked across its arrays by a scripted trade each slot,
and a quote that says ``ticks_missing`` instead of raising."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine_rs.errors import TicksMissingError
from feeds.sim.state import Pool
from feeds.sim.world import Trade, World

MISSING = "ticks_missing"


def walk(
    pool: Pool, goal: int, array_of: Callable[[Pool], int], amount_of: Callable[[Pool], int]
) -> Callable[[World], list[Trade]]:
    """The world's script: each slot, buy token a with b (the price up) by
    ``amount_of(pool)``, until the pool's active array (``array_of``) is ``goal``."""

    def script(world: World) -> list[Trade]:
        if array_of(pool) >= goal:
            return []
        t = world.swap(pool, False, amount_of(pool))
        return [] if t is None else [t]

    return script


def outcome(graph: Any, pool: str, mint: str, amount: int) -> Any:
    """The graph's quote through ``pool``, or :data:`MISSING` when it needs arrays the
    graph does not hold."""
    try:
        return graph.quote([pool], mint, amount)
    except TicksMissingError:
        return MISSING

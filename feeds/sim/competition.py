"""Competing arbitrageurs in the simulated market: bots that see a pool knocked off its
fair price, each after its own latency, and race to trade it back, each with its own fee
bid. Pure computation, like the world: the world asks for the orders due in a slot and
tells the competitors what it looks like after each slot.

Within a slot, what lands is ordered as a leader's scheduler orders it
(:meth:`feeds.sim.chain.Chain.land`): by priority — a transaction's compute-unit price
(micro-lamports per CU), a bundle's tip per requested compute unit on top of its price
(Jito's auction ranks bundles by tip) — highest first, the order they arrived in among
equals. A competitor's order that finds its pool already moved back (a faster or
better-paying order took the gap) does not trade: its slippage check fails it, and it
pays its fee as a failed swap does. An arbscope order behind one finds the pool moved and
fills worse or fails; one ahead takes the gap first.

Each competitor (:class:`Competitor`): its latency as the chances of landing 1, 2, ...
slots after the slot it saw the gap in; its bid (a bundle tip in lamports, lognormal, and
the compute units it asks for); the smallest gap it acts on (bps between the pool's price
and the fair one); how much of the gap it closes. The default roster (:data:`ROSTER`) has
a fast, well-paying bot, a middling one and a slow, cheap one. Their draws come from a
generator of their own (seeded from the world's seed), so a run is reproducible.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import Pool
    from .world import World


@dataclass(frozen=True, slots=True)
class Competitor:
    """One competing arbitrageur (see the module doc)."""

    name: str
    latency: tuple[float, ...]  # chances of landing 1, 2, ... slots after it saw the gap
    tip_median: float  # lamports: the median of its (lognormal) bundle tip
    tip_sigma: float = 0.6
    compute_units: int = 200_000  # what its transaction asks for (the tip is per CU)
    min_gap_bps: float = 30.0  # the smallest gap it acts on
    close: float = 0.6  # the share of the gap (in log price) its trade closes

    def priority(self, tip: int) -> int:
        """Its place in a slot's order: the tip per requested compute unit, in
        micro-lamports (the unit of a transaction's compute-unit price)."""
        return tip * 1_000_000 // self.compute_units


# a fast bot that pays well, a middling one, a slow and cheap one
ROSTER = (
    Competitor("fast", (0.85, 0.15), 20_000.0, min_gap_bps=25.0),
    Competitor("mid", (0.3, 0.5, 0.2), 6_000.0, min_gap_bps=35.0),
    Competitor("slow", (0.0, 0.3, 0.4, 0.3), 1_500.0, min_gap_bps=50.0),
)


@dataclass(slots=True)
class Order:
    """A competitor's trade on its way: ``pool`` in direction ``a_to_b``, landing in
    ``slot`` with ``priority`` (and the ``tip`` it pays when it trades)."""

    competitor: Competitor
    pool: Pool
    a_to_b: bool
    slot: int
    tip: int
    priority: int
    seen_gap: float  # log(pool price / fair) when it saw it
    seq: int = 0


@dataclass(slots=True)
class Outcome:
    """What the competitors did in a slot: trades made, orders that found the pool moved
    (failed, their fee paid), tips paid (landed bundles)."""

    traded: int = 0
    missed: int = 0
    tips: list[int] = field(default_factory=list)


class Competition:
    """The competitors of one world (see the module doc)."""

    def __init__(self, roster: Sequence[Competitor], seed: int) -> None:
        self.roster = tuple(roster)
        self.rng = random.Random(seed * 104_729 + 17)
        self.pending: list[Order] = []
        self._seq = 0
        self.stats = {c.name: Outcome() for c in self.roster}

    def due(self, slot: int) -> list[Order]:
        """The orders landing in ``slot`` (taken off the pending list)."""
        now = [o for o in self.pending if o.slot <= slot]
        self.pending = [o for o in self.pending if o.slot > slot]
        return now

    def observe(self, world: World) -> None:
        """After a slot: each competitor sees the pools off their fair price by more than
        its threshold that it is not already trading, and sends an order landing after
        its latency."""
        busy = {(o.competitor.name, o.pool.address) for o in self.pending}
        r = self.rng
        for pool in world.pools:
            gap = _gap(world, pool)
            if gap is None:
                continue
            for c in self.roster:
                if abs(gap) * 10_000 < c.min_gap_bps or (c.name, pool.address) in busy:
                    continue
                delay = 1 + _pick(r, c.latency)
                tip = max(1_000, int(r.lognormvariate(math.log(c.tip_median), c.tip_sigma)))
                self._seq += 1
                self.pending.append(
                    Order(
                        c, pool, gap > 0, world.slot + delay, tip, c.priority(tip), gap, self._seq
                    )
                )

    def execute(self, world: World, order: Order) -> Any:
        """Run ``order`` in its slot (its turn in the slot's order): a trade back toward
        the fair price when the gap is still there (the world's ``Trade``), else a failed
        swap (its slippage check: the pool moved). Records the tip of a trade made."""
        c = order.competitor
        gap = _gap(world, order.pool)
        st = self.stats[c.name]
        if gap is None or (gap > 0) != order.a_to_b or abs(gap) * 10_000 < c.min_gap_bps / 2:
            st.missed += 1
            return world.failed_swap(order.pool, order.a_to_b)
        amount = world.amount_to_close(order.pool, order.a_to_b, abs(gap) * c.close)
        trade = (
            world.swap(order.pool, order.a_to_b, amount, cu_price=order.priority)
            if amount > 0
            else None
        )
        if trade is None:
            st.missed += 1
            return None
        st.traded += 1
        st.tips.append(order.tip)
        return trade


def _gap(world: World, pool: Pool) -> float | None:
    """log(pool price / fair price), None where it cannot be said."""
    try:
        return math.log(world.pool_price(pool) / world.fair_price(pool))
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


def _pick(r: random.Random, chances: Sequence[float]) -> int:
    """An index drawn with ``chances`` (they need not sum to 1: the rest is the last)."""
    x = r.random()
    acc = 0.0
    for i, p in enumerate(chances):
        acc += p
        if x < acc:
            return i
    return len(chances) - 1

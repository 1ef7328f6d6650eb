"""The pools waiting to be evaluated: changed and not evaluated yet, oldest first, each
once however often it changed meanwhile (its newest state is what is evaluated), and the
pools a turn's slices or a frame's decisions evaluated (the price panel's)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from engine_rs.errors import EngineError, UnknownPoolError

from ..market import OppKey

if TYPE_CHECKING:
    from ..session import FeedSession


class Backlog:
    """``waiting``: the pools changed and not evaluated yet, with when each joined
    (monotonic ns: the status line's age, never a decision's input); ``sliced``: those the
    turn's slices evaluated so far; ``decided``: those the frames' decisions evaluated
    since the last turn; ``half``: those a frame's decision found halfway through a slot
    (one vault moved, the other's copy on its way), decided on with the next frame's, or
    at the turn."""

    def __init__(self, host: FeedSession) -> None:
        self.host = host
        self.waiting: OrderedDict[str, int] = OrderedDict()
        self.sliced: dict[str, None] = {}
        self.decided: dict[str, None] = {}
        self.half: dict[str, None] = {}

    def absorb(self) -> None:
        """The pools changed since the last look (and those a frame's decision held back)
        join the backlog, each once: one already waiting keeps its place."""
        changed = self.held_back(self.host.ingest.take_changed())
        if changed:
            t, waiting = time.monotonic_ns(), self.waiting
            for p in changed:
                if p not in waiting:
                    waiting[p] = t

    def slice(
        self, now_ns: int, most: int | None, over: Callable[[], bool], done: list[int]
    ) -> int:
        """The pools changed since the last slice join the backlog (a pool already there
        keeps its place), then its oldest are evaluated, each on its newest state, until
        ``most`` (None: the backlog's size then) or ``over()`` after a pool; ``done[0]``
        counts them as they begin. The backlog's size before evaluating."""
        self.absorb()
        backlog = self.waiting
        waiting = len(backlog)
        if not waiting:
            return 0
        host = self.host
        host.now_ns = now_ns
        ev = host.ev
        ev.hold(host.health.stalled(now_ns))  # before the slice's scores: they carry it
        ev.refresh_prices()  # a lamport's price in each base, as the graph holds it now
        most = waiting if most is None else min(most, waiting)
        slot, sliced = host.slot, self.sliced
        while done[0] < most:
            pool, _ = backlog.popitem(last=False)
            done[0] += 1
            sliced[pool] = None
            self.evaluate_pool(pool, slot)
            if over():
                break
        return waiting

    def held_back(self, changed: list[str]) -> list[str]:
        """``changed`` with the pools a frame's decision held back (halfway through a
        slot) first; none is held back any more."""
        if not self.half:
            return changed
        out = [*self.half, *(p for p in changed if p not in self.half)]
        self.half.clear()
        return out

    def evaluate_all(self, slot: int) -> list[str]:
        """A whole turn's evaluation: every pool changed or waiting, at once, at ``slot``;
        the pools evaluated."""
        self.absorb()
        changed = list(self.waiting)
        self.waiting.clear()
        for _ in self.evaluating(changed, slot):
            pass
        return changed

    @staticmethod
    def first(done: dict[str, None], changed: list[str]) -> list[str]:
        """``changed`` after the pools of ``done`` (evaluated by the turn's slices or the
        frames' decisions), each once; ``done`` emptied."""
        if not done:
            return changed
        out = [*done, *(p for p in changed if p not in done)]
        done.clear()
        return out

    def age(self) -> tuple[int, float]:
        """The pools waiting to be evaluated and how long the oldest has waited (s; 0 when
        none wait): the market outrunning the machine shows here."""
        if not self.waiting:
            return 0, 0.0
        oldest = next(iter(self.waiting.values()))
        return len(self.waiting), max(0.0, (time.monotonic_ns() - oldest) / 1e9)

    def evaluating(self, changed: Sequence[str], slot: int) -> Iterator[list[OppKey]]:
        """Every cycle through the ``changed`` pools evaluated, pool by pool, at ``slot``:
        each pool's live cycles' keys once its cycles are evaluated."""
        if not changed:
            return
        self.host.ev.refresh_prices()  # a lamport's price in each base, as the graph holds it now
        for pool_id in changed:
            yield self.evaluate_pool(pool_id, slot)

    def evaluate_pool(self, pool_id: str, slot: int) -> list[OppKey]:
        """Every cycle through ``pool_id`` evaluated at ``slot`` (one update); its live
        cycles' keys."""
        host = self.host
        ev = host.ev
        keys: list[OppKey] = []
        try:
            keys = ev.evaluate(pool_id, slot)
        except UnknownPoolError:  # it left the graph (a bad state): its cycles go too
            ev.drop_pool(pool_id)
        except EngineError:
            host.errors += 1
        host.updates += 1
        return keys

"""The pools waiting to be evaluated: changed and not evaluated yet, oldest first, each
once however often it changed meanwhile (its newest state is what is evaluated), and the
pools a turn's slices or a frame's decisions evaluated (the price panel's). A turn's
slices evaluate a pool in pieces of at most ``piece`` of its cycles (a hub's thousands
of cycles are many loop steps, not one); a pool whose pieces are not all done yet is
``midway``."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from engine_rs.errors import EngineError, UnknownPoolError

from ..market import OppKey
from ..opportunities import OpportunityBook

if TYPE_CHECKING:
    from ..session import FeedSession


class Backlog:
    """``waiting``: the pools changed and not evaluated yet, with when each joined
    (monotonic ns: the status line's age, never a decision's input); ``sliced``: those the
    turn's slices evaluated so far; ``decided``: those the frames' decisions evaluated
    since the last turn; ``half``: those a frame's decision found halfway through a slot
    (one vault moved, the other's copy on its way), decided on with the next frame's, or
    at the turn. ``piece``: the most cycles of one pool a slice evaluates at a time (0:
    whole pools); ``midway``: the pool being evaluated in pieces, the position of its next
    piece, the book's entry count before its first and the book (None: none)."""

    def __init__(self, host: FeedSession, piece: int = 0) -> None:
        self.host = host
        self.piece = piece
        self.waiting: OrderedDict[str, int] = OrderedDict()
        self.sliced: dict[str, None] = {}
        self.decided: dict[str, None] = {}
        self.half: dict[str, None] = {}
        self.midway: tuple[str, int, int, OpportunityBook] | None = None

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
        keeps its place), then the pool midway's next pieces and the backlog's oldest are
        evaluated, each on its newest state, until ``most`` steps (None: all) or
        ``over()`` after one; a step is a pool (``piece`` 0) or a piece of one, and
        ``done[0]`` counts them as they begin. The backlog's size before evaluating
        (the pool midway counted)."""
        self.absorb()
        backlog = self.waiting
        waiting = len(backlog) + (self.midway is not None)
        if not waiting:
            return 0
        host = self.host
        host.now_ns = now_ns
        ev = host.ev
        ev.hold(host.health.stalled(now_ns))  # before the slice's scores: they carry it
        ev.refresh_prices()  # a lamport's price in each base, as the graph holds it now
        slot, sliced = host.slot, self.sliced
        while (most is None or done[0] < most) and (backlog or self.midway is not None):
            if self.midway is None:
                pool, _ = backlog.popitem(last=False)
                sliced[pool] = None
                if not self.piece:
                    done[0] += 1
                    self.evaluate_pool(pool, slot)
                    if over():
                        break
                    continue
                self.midway = (pool, 0, ev.book.entries + 1, ev.book)
            done[0] += 1
            self.evaluate_piece(slot)
            if over():
                break
        return waiting

    def evaluate_piece(self, slot: int) -> None:
        """The next piece of the pool midway evaluated at ``slot``: at most ``piece`` of
        its cycles, from where the last piece ended (the pool's cycles counted again: a
        pool joining the graph meanwhile adds some). After its last, what no piece
        entered is dropped and the pool counts as one update."""
        if self.midway is None:
            return
        pool_id, start, since, book = self.midway
        host = self.host
        ev = host.ev
        if book is not ev.book:  # the engine was built again meanwhile: from the start
            start, since, book = 0, ev.book.entries + 1, ev.book
        try:
            count = ev.graph.touching_count(pool_id)
            if start == 0 and count <= self.piece:  # a piece: the whole pool
                self.midway = None
                self.evaluate_pool(pool_id, slot)
                return
            ev.evaluate(pool_id, slot, (start, self.piece))
            end = start + self.piece
            if end < count:
                self.midway = (pool_id, end, since, book)
                return
            ev.book.drop_stale(pool_id, since)
        except UnknownPoolError:  # it left the graph (a bad state): its cycles go too
            ev.drop_pool(pool_id)
        except EngineError:
            host.errors += 1
        self.midway = None
        host.updates += 1

    def finish(self, slot: int) -> list[str]:
        """The pool midway's remaining pieces evaluated at ``slot`` (a whole turn's, or a
        turn's end, evaluates whole pools); the pool, or none."""
        if self.midway is None:
            return []
        pool = self.midway[0]
        self.host.ev.refresh_prices()  # (as a slice does before its pieces)
        while self.midway is not None:
            self.evaluate_piece(slot)
        return [pool]

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
        midway = self.finish(slot)
        changed = list(self.waiting)
        self.waiting.clear()
        for _ in self.evaluating(changed, slot):
            pass
        return [*midway, *changed]

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

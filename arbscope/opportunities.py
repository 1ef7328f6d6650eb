"""The live cycles: :class:`OpportunityBook` keeps each profitable cycle with its score
and its cost, the slot it appeared in and the pools it goes through; the session's own
no-go reasons (:data:`REASON_UNCOVERED`, :data:`REASON_FEEDS_STALLED`) and the rank the
screen and the fee panel read (:func:`best_first`).
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Callable, Iterable, Mapping

from engine_rs.records import REASON_NO_SOL_PRICE, FeeContext, Opportunity, Score

from .cycle_costs import CycleCost

OppKey = tuple[str, tuple[str, ...]]  # (base mint, pools) of a cycle
Live = tuple[Opportunity, Score]

# The session's own no-go reason (the engine's scorer never says it): a pool on the path
# that no endpoint covers (every subscription of one of its accounts refused, over a cap
# or not connected). Its state is the last one read and nothing reports its changes, so
# the cycle's numbers are not known; listed first.
REASON_UNCOVERED = "uncovered"
# a session's reason no cycle goes (Evaluator.hold): no new slot from any feed for the
# session's stall time (its /health says the same) — every price is that old
REASON_FEEDS_STALLED = "feeds_stalled"


def no_go(score: Score, reason: str, first: bool = False) -> Score:
    """``score`` (either backend's record, as the Python one) with ``reason`` among its
    reasons, last (or ``first``): no-go."""
    fields = {f.name: getattr(score, f.name) for f in dataclasses.fields(Score)}
    reasons = [reason, *score.reasons] if first else [*score.reasons, reason]
    fields |= {"go": False, "reasons": reasons}
    return Score(**fields)


def _no_price(s: Score) -> bool:
    """Whether ``s`` could not convert its fees (its net is not known). A go score has
    no reason: its reasons, a list the engine builds, are not asked for."""
    return not s.go and REASON_NO_SOL_PRICE in s.reasons


def best_first(item: tuple[OppKey, Live]) -> tuple[bool, int, OppKey]:
    """A live cycle's rank, best first: its net known, then the highest net, then by
    base and pools (its key)."""
    score = item[1][1]
    return (_no_price(score), -score.net_profit, item[0])


Rank = tuple[bool, int, OppKey]  # best_first's


def fees_in(costs: Mapping[OppKey, CycleCost], key: OppKey, default: FeeContext) -> FeeContext:
    """The fee context the cycle ``key`` was scored with, as ``costs`` holds it
    (``default``: none there)."""
    cost = costs.get(key)
    return cost.fees if cost is not None else default


class OpportunityBook:
    """The live cycles (``live``: key -> (opportunity, score)), what each one's
    transaction costs as it was scored (``costs``), the slot each appeared in
    (``first_seen``) and, per pool, the live keys through it (what an evaluation of the
    pool drops when they no longer come back). Its dicts are never replaced: the
    evaluator hands them out as its own attributes. ``live`` (and ``costs``, with it) is
    written only here (:meth:`enter`, :meth:`put`, :meth:`drop`), which keeps what was
    written since the events were last made (:meth:`take_written`). Each live cycle's
    rank (:func:`best_first`) is kept with it, made when it is first asked for after the
    cycle was written, so :meth:`best` and :meth:`best_key` compare ranks made already
    (at 3,000 pools each screen's snapshot asked every one of ~15,000 live cycles for
    its rank, twice, through the engine's records: ~2.5 million calls in 30 s).

    ``entries`` counts the calls of :meth:`enter`, and each live cycle keeps the count at
    its last entry: what a pool evaluated in pieces drops at its end is what no call
    entered since its first piece (:meth:`drop_stale`)."""

    def __init__(self) -> None:
        self.live: dict[OppKey, Live] = {}
        self.costs: dict[OppKey, CycleCost] = {}
        self.first_seen: dict[OppKey, int] = {}
        self.through: dict[str, set[OppKey]] = {}
        self._rank: dict[OppKey, Rank] = {}
        self._unranked: set[OppKey] = set()  # written since its rank was made
        self._written: set[OppKey] = set()  # written or dropped since take_written
        # the keys that came into ``live`` or left it since take_moved (a superset of what
        # differs: one that left and came back is in it too), for the rivals' book
        self._moved: set[OppKey] = set()
        # the live keys whose score is GO (``live[k][1].go``), kept as they are written:
        # a first GO is found among a few thousand cycles not GO yet by one set
        # intersection, not by reading each one's score (the rivals' book)
        self.go: set[OppKey] = set()
        self.entries = 0
        self._entered: dict[OppKey, int] = {}  # each live key: ``entries`` at its last entry

    def enter(
        self,
        pool_id: str,
        got: Iterable[tuple[Opportunity, Score, tuple[int, ...], tuple[int | None, ...], int]],
        slot: int,
        scored: Callable[[str, tuple[int, ...], tuple[int | None, ...], int], CycleCost],
        uncovered: frozenset[str],
        held: str,
        drop: bool = True,
    ) -> tuple[list[OppKey], int]:
        """The engine's answer for ``pool_id`` (``score_touching``: each live cycle
        through it with its score and its budget's parts) entered, no-go through an
        ``uncovered`` pool or while ``held``; a live cycle through the pool that did not
        come back dropped (``drop``; not for a piece of the pool's cycles: see
        :meth:`drop_stale`). The keys entered, and how many appeared (not live before)."""
        first, live, costs, through = self.first_seen, self.live, self.costs, self.through
        unranked, written, entered = self._unranked, self._written, self._entered
        moved, go = self._moved, self.go
        self.entries += 1
        at = self.entries
        keys: list[OppKey] = []
        found = 0
        for o, score, hops, steps, accounts in got:
            key = (o.base_mint, tuple(o.pools))
            if key not in first:
                first[key] = slot
                found += 1  # an opportunity appeared
            if key not in live:
                moved.add(key)
                for p in key[1]:
                    through.setdefault(p, set()).add(key)
            if uncovered and not uncovered.isdisjoint(key[1]):
                score = no_go(score, REASON_UNCOVERED, first=True)
            if held:
                score = no_go(score, held)
            live[key] = (o, score)
            if score.go:
                go.add(key)
            else:
                go.discard(key)
            unranked.add(key)
            written.add(key)
            costs[key] = scored(key[0], hops, steps, accounts)
            entered[key] = at
            keys.append(key)
        was = through.get(pool_id)
        if drop and was is not None and len(was) > len(keys):
            for key in was.difference(keys):
                self.drop(key)
        return keys, found

    def drop_stale(self, pool_id: str, since: int) -> None:
        """The end of ``pool_id``'s evaluation in pieces, the first entered as call
        ``since`` (``entries + 1`` before it): a live cycle through the pool that no call
        entered since (no piece brought it back, nor a whole evaluation meanwhile) is
        dropped, as a whole evaluation drops what did not come back."""
        was = self.through.get(pool_id)
        if not was:
            return
        entered = self._entered
        for key in [k for k in was if entered.get(k, 0) < since]:
            self.drop(key)

    def put(self, key: OppKey, o: Opportunity, score: Score) -> None:
        """The live cycle ``key`` scored again (``score``)."""
        if key not in self.live:
            self._moved.add(key)
        self.live[key] = (o, score)
        if score.go:
            self.go.add(key)
        else:
            self.go.discard(key)
        self._unranked.add(key)
        self._written.add(key)

    def drop(self, key: OppKey) -> None:
        """``key`` is no longer live (no profit now, or its pool left the graph)."""
        if self.live.pop(key, None) is not None:
            self._moved.add(key)
        self.go.discard(key)
        self._rank.pop(key, None)
        self._unranked.discard(key)
        self._written.add(key)
        self.costs.pop(key, None)
        self.first_seen.pop(key, None)
        self._entered.pop(key, None)
        for p in key[1]:
            keys = self.through.get(p)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.through[p]

    def drop_pool(self, pool_id: str) -> None:
        """``pool_id`` left the graph (a bad state): the cycles through it go too."""
        for key in list(self.through.get(pool_id, ())):
            self.drop(key)

    def take_written(self) -> set[OppKey]:
        """The keys written (entered, scored again) or dropped since the last call: a
        live cycle not among them has the same opportunity, score and cost as then."""
        out, self._written = self._written, set()
        return out

    def take_moved(self) -> set[OppKey]:
        """The keys that came into ``live`` or left it since the last call (each live
        cycle not among them was live then too, and each not live was not)."""
        out, self._moved = self._moved, set()
        return out

    def keys_through(self, pools: Iterable[str]) -> set[OppKey]:
        """The live keys through any of ``pools``."""
        keys: set[OppKey] = set()
        through = self.through
        for p in pools:
            keys.update(through.get(p, ()))
        return keys

    def fees_of(self, key: OppKey, default: FeeContext) -> FeeContext:
        """The fee context the live cycle ``key`` was scored with (``default``: none)."""
        return fees_in(self.costs, key, default)

    def _ranks(self) -> dict[OppKey, Rank]:
        """Every live cycle's rank, those written since made now."""
        rank, live = self._rank, self.live
        for key in self._unranked:
            rank[key] = best_first((key, live[key]))
        self._unranked.clear()
        return rank

    def best(self, n: int) -> list[Live]:
        """The ``n`` best live cycles, best first (:func:`best_first`). (``nsmallest``:
        what ``sorted(...)[:n]`` gives, without sorting the ~15,000 live cycles a
        mainnet-size market holds; the ranks, tuples ending in the key, compared as
        they are.)"""
        live = self.live
        return [live[r[2]] for r in heapq.nsmallest(n, self._ranks().values())]

    def best_key(self) -> OppKey | None:
        """The best live cycle's key (None: none live)."""
        if not self.live:
            return None
        return min(self._ranks().values())[2]

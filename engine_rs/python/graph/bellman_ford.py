"""The negative-cycle search (twin of ``graph/bellman_ford.rs``): Bellman-Ford over the
adjacency, warm started from the last settled distances, with the cycles it found
masked (see :meth:`find_negative_cycle`).
"""

from __future__ import annotations

from typing import Any

from ...records import Cycle
from .index import _Index

_EPS = 1e-12  # a relaxation must improve by more than float noise
# Warm starts reuse the last converged distances; potentials only ever fall, so start
# from zero again every this many calls to keep them small.
_WARM_RESET = 64
_MAX_MASKED = 8  # cycles masked in all while settling after a cycle; past it, cold next


def _pass(
    adj: list[list[Any]],
    dist: list[float],
    pred: list[int],
    flag: list[bool],
    active: list[int],
    masked: set[int],
) -> list[int]:
    """One Bellman-Ford pass over the out-edges of ``active`` (in order), masked edges
    skipped: the tokens whose distance fell, sorted."""
    changed: list[int] = []
    for u in active:
        du = dist[u]
        for v, w, e in adj[u]:
            nd = du + w
            if nd < dist[v] - _EPS and e not in masked:
                dist[v] = nd
                pred[v] = e
                if not flag[v]:
                    flag[v] = True
                    changed.append(v)
    changed.sort()
    for v in changed:
        flag[v] = False
    return changed


def _closing(changed: list[int], pred: list[int], to: list[int], seen: list[int]) -> Any:
    """A pass's cycle check: for each changed token in order, a walk over the predecessor
    edges; yields a token on each cycle a walk closes (it met its own stamp). A walk that
    meets an earlier walk of this check stops (nothing new ahead). ``seen[-1]`` keeps the
    last stamp used (``seen`` has one slot more than there are tokens)."""
    base = stamp = seen[-1]
    for start in changed:
        stamp += 1
        seen[-1] = stamp
        x = start
        while x != -1 and seen[x] != stamp:
            if seen[x] > base:
                x = -1
                break
            seen[x] = stamp
            e = pred[x]
            x = -1 if e == -1 else to[e ^ 1]
        if x != -1:
            yield x


class _BellmanFord(_Index):
    """The negative-cycle search (see the module docstring)."""

    def find_negative_cycle(self) -> Cycle | None:
        """A cycle whose product of spot rates after fees is > 1, or None.

        Bellman-Ford from a virtual source on ``-ln(rate)``, relaxing
        only the out-edges of tokens whose distance changed in the previous pass (in
        token order), stopping early when a pass changes nothing. After each pass the
        predecessor graph is walked for a cycle; a cycle is returned only if its rate
        product, recomputed from the rates, is > 1.

        Warm start: the previous call's distances are the starting ones (a virtual source
        with those edge weights: the same guarantee, a few relaxations instead of several
        passes); every 64th call, and on a new token, it starts from zero. A market that
        keeps an arbitrage would make every warm start useless, so a call that finds a
        cycle settles the distances with it masked, and remembers it (``_settle``). The
        next call searches with the remembered cycles masked: a cycle found there is
        reported (and remembered too); if none, the first remembered cycle whose product
        is still > 1 is reported; if none is, the search goes on with nothing masked and
        they are forgotten. A cycle is reported exactly when one exists, whatever the start.
        """
        n = len(self._tokens)
        if n == 0:
            return None
        warm = self._warm
        self._warm = None
        if warm is not None and len(warm) == n and self._warm_calls < _WARM_RESET:
            dist = warm  # the last settled potentials: same answer, far fewer passes
            self._warm_calls += 1
        else:
            dist = [0.0] * n
            self._warm_calls = 0
            self._masks.clear()
        masked = {e for _, edges in self._masks for e in edges}
        found = self._relax(dist, masked)
        if found is not None:
            return self._remember(dist, masked, *found)
        self._warm = dist
        for x, edges in self._masks:
            cycle = self._cycle_from_edges(x, edges)
            if cycle is not None:
                return cycle
        if not self._masks:
            return None
        self._masks.clear()  # no remembered cycle holds: search on with nothing masked
        self._warm = None
        found = self._relax(dist, set())
        if found is not None:
            return self._remember(dist, set(), *found)
        self._warm = dist
        return None

    def _remember(
        self,
        dist: list[float],
        masked: set[int],
        cycle: Cycle,
        x: int,
        pred: list[int],
        last: list[int],
    ) -> Cycle:
        """Remember the found ``cycle`` (through ``x`` in ``pred``) and settle."""
        self._mask_pred_cycle(pred, x, masked)
        self._warm = self._settle(dist, masked, last)
        return cycle

    def _relax(
        self, dist: list[float], masked: set[int]
    ) -> tuple[Cycle, int, list[int], list[int]] | None:
        """The passes from every token with out-edges until one changes nothing (None:
        ``dist`` converged) or the predecessor walk closes a cycle whose product is > 1:
        that cycle, a token on it, the predecessors and its pass's tokens (sorted)."""
        n = len(dist)
        pred = [-1] * n
        adj, to = self._adj, self._to
        active = [u for u in range(n) if adj[u]]
        flag = [False] * n
        seen = [0] * (n + 1)
        for _ in range(n + 1):
            changed = _pass(adj, dist, pred, flag, active, masked)
            if not changed:
                return None
            for x in _closing(changed, pred, to, seen):
                cycle = self._cycle_from_pred(x, pred)
                if cycle is not None:
                    return cycle, x, pred, changed
            active = changed
        return None

    def _mask_pred_cycle(self, pred: list[int], x: int, masked: set[int]) -> None:
        """Remember and mask the predecessor cycle through ``x``; its tokens forget
        their predecessors."""
        edges = []
        v = x
        while pred[v] != -1:
            e = pred[v]
            pred[v] = -1
            edges.append(e)
            v = self._to[e ^ 1]
            if v == x:
                break
        edges.reverse()
        self._masks.append((x, edges))
        masked.update(edges)

    def _settle(self, dist: list[float], masked: set[int], last: list[int]) -> list[float] | None:
        """The distances after a cycle was found and masked, settled: relax from
        ``last`` (its search's last pass's tokens, sorted) with masked edges skipped until
        a pass changes nothing; each cycle the predecessor walk finds meanwhile is masked
        and remembered too (at most ``_MAX_MASKED`` in all, within ``n + 1`` passes).
        None when not settled (the next call is then cold)."""
        n = len(dist)
        pred = [-1] * n
        adj, to = self._adj, self._to
        flag = [False] * n
        seen = [0] * (n + 1)
        active = last
        for _ in range(n + 1):
            changed = _pass(adj, dist, pred, flag, active, masked)
            if not changed:
                return dist
            for y in _closing(changed, pred, to, seen):
                if len(self._masks) >= _MAX_MASKED:
                    return None
                self._mask_pred_cycle(pred, y, masked)
                break
            active = changed
        return None

    def _cycle_from_pred(self, x: int, pred: list[int]) -> Cycle | None:
        edges: list[int] = []
        v = x
        while True:
            e = pred[v]
            edges.append(e)
            v = self._edge(e)[1]
            if v == x:
                break
        edges.reverse()
        return self._cycle_from_edges(x, edges)

    def _cycle_from_edges(self, x: int, edges: list[int]) -> Cycle | None:
        """The cycle of ``edges`` (in order, from token ``x``) if its rate product,
        recomputed from the pools' rates, is > 1."""
        rate = 1.0
        tokens = [x]
        pools: list[str] = []
        for e in edges:
            p, _, to = self._edge(e)
            rate = rate * p.rate[e & 1]
            tokens.append(to)
            pools.append(p.pool_id)
        if not rate > 1.0:
            return None
        return Cycle([self._tokens[t] for t in tokens], pools, rate)

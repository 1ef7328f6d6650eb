"""The enumeration of simple cycles (twin of ``graph/cycles.rs``): every cycle of
2..``max_hops`` hops through a base mint (:meth:`cycles`), and those through one edge
(what the index adds for a new pool).
"""

from __future__ import annotations

from ...errors import UnknownTokenError
from ...records import Opportunity
from ._base import _check_hops, _check_id
from .quote import _Quotes, _sorted


class _Cycles(_Quotes):
    """Cycle enumeration (see the module docstring)."""

    def cycles(self, base_mint: str, max_hops: int = 4) -> list[Opportunity]:
        """Every simple cycle of 2..max_hops hops through ``base_mint``, sized.

        Each direction is its own cycle; a 2-hop cycle uses two different pools of the
        same pair. ``persistence`` is 0 when the cycle is not profitable now; else
        the index's counter for an indexed cycle (at least 1; this call does not change
        it), or 1. Sorted by
        (-profit, -spot_rate, pools). UnknownTokenError for a base not in the graph.
        """
        _check_id(base_mint, "base_mint")
        max_hops = _check_hops(max_hops)
        b = self._token_ix.get(base_mint)
        if b is None or self._token_pools[b] == 0:
            raise UnknownTokenError(f"unknown token: {base_mint}")
        opps = []
        for edges in self._enumerate(b, max_hops):
            c = self._cycles.get((b, edges))
            opps.append(self._opportunity(b, edges, None if c is None else c.persistence))
        return _sorted(opps)

    def _enumerate(self, b: int, max_hops: int) -> list[tuple[int, ...]]:
        """Every simple cycle through token ``b`` of 2..max_hops hops, as edge tuples."""
        found: list[tuple[int, ...]] = []
        path: list[int] = []
        on_path = {b}

        def dfs(u: int) -> None:
            for e in self._out[u]:
                _, _, v = self._edge(e)
                if v == b:
                    if path and (len(path) >= 2 or (path[0] >> 1) != (e >> 1)):
                        found.append((*path, e))
                    continue
                if v in on_path or len(path) + 2 > max_hops:
                    continue
                on_path.add(v)
                path.append(e)
                dfs(v)
                path.pop()
                on_path.discard(v)

        dfs(b)
        return found

    def _cycles_through_edge(self, b: int, e: int, u: int, v: int) -> list[tuple[int, ...]]:
        """Simple cycles through base ``b`` of 2..max_hops hops that use edge ``e`` (u->v)."""
        h = self._max_hops
        found: list[tuple[int, ...]] = []
        # suffix: v -> ... -> b (forward), prefix: b -> ... -> u (found backward from u)
        if v == b:
            suffixes: list[list[int]] = [[]]
        else:
            suffixes = self._simple_paths(v, b, h - 1, {u} if u != b else set(), True)
        for suffix in suffixes:
            used = {self._edge(x)[2] for x in suffix} | {v}
            budget = h - 1 - len(suffix)
            if u == b:
                prefixes: list[list[int]] = [[]]
            else:
                prefixes = self._simple_paths(u, b, budget, used - {b}, False)
            for prefix in prefixes:
                edges = (*prefix, e, *suffix)
                if len(edges) < 2:
                    continue
                if len(edges) == 2 and (edges[0] >> 1) == (edges[1] >> 1):
                    continue
                found.append(edges)
        return found

    def _simple_paths(
        self, start: int, goal: int, budget: int, avoid: set[int], forward: bool
    ) -> list[list[int]]:
        """Simple paths with 1..budget edges between ``start`` and ``goal`` avoiding
        ``avoid``. Forward: start -> goal over out-edges; backward: goal -> start, found by
        walking in-edges from ``start`` and returned in forward edge order."""
        results: list[list[int]] = []
        path: list[int] = []
        on_path = set(avoid)
        on_path.add(start)

        def dfs(x: int) -> None:
            if len(path) >= budget:
                return
            for e in self._out[x] if forward else self._in[x]:
                _, frm, to = self._edge(e)
                y = to if forward else frm
                if y == goal:
                    path.append(e)
                    results.append(list(path) if forward else path[::-1])
                    path.pop()
                    continue
                if y in on_path:
                    continue
                on_path.add(y)
                path.append(e)
                dfs(y)
                path.pop()
                on_path.discard(y)

        if start != goal:
            dfs(start)
        return results

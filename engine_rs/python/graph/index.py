"""The incremental index (twin of ``graph/index.rs``): every simple cycle through each
base mint, and pool -> the cycles using it, kept as pools come and go;
:meth:`cycles_touching` re-sizes a pool's cycles and counts their persistence.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ...errors import UnknownPoolError
from ...records import Opportunity
from .. import pricing
from ..decode import TOKEN_2022
from ._base import _check_hops, _check_id, _IndexedCycle
from .cycles import _Cycles
from .quote import _sorted, _with_persistence

if TYPE_CHECKING:
    from ..pricing import CyclePricer, Scored

# (start, length): positions in a pool's cycles in their canonical order (a piece of it)
Piece = tuple[int, int]


class _Index(_Cycles):
    """The index (see the module docstring)."""

    def add_base_mint(self, mint: str) -> None:
        """Index every cycle through ``mint`` (up to ``max_hops``); no-op if already a base."""
        _check_id(mint, "base mint")
        if mint in self._base_names:
            return
        self._base_names.append(mint)
        b = self._token_ix.get(mint)
        if b is None:
            return  # indexed as its pools arrive
        for edges in self._enumerate(b, self._max_hops):
            self._index_add(b, edges)

    def cycles_touching(
        self, pool_id: str, max_hops: int = 4, only_live: bool = False, piece: Piece | None = None
    ) -> list[Opportunity]:
        """The indexed cycles (through any base mint) that use ``pool_id``, re-sized.

        Each evaluation updates the cycle's persistence: +1 if it is profitable now, else
        reset to 0. Sorted like :meth:`cycles`. UnknownPoolError for an unknown pool.
        ``only_live``: only the cycles a caller keeps live (a profit, or sized without
        ticks they needed); every cycle is still re-sized and its persistence counted.
        ``piece`` ``(start, length)``: only the cycles at those positions of the pool's
        cycles in their canonical order (by base mint, then the pools' ids along them).
        """
        max_hops = _check_hops(max_hops)
        s = self._pool_ix.get(pool_id)
        if s is None:
            raise UnknownPoolError(f"unknown pool: {pool_id}")
        keys: Iterable[tuple[int, tuple[int, ...]]] = self._pool_cycles.get(s, ())
        if piece is not None:
            start, length = piece
            keys = sorted(keys, key=self._cycle_order)[start : start + length]
        opps = []
        for key in keys:
            c = self._cycles[key]
            if len(c.edges) > max_hops:
                continue
            opp = self._opportunity(c.base, c.edges, 0)
            c.persistence = c.persistence + 1 if opp.amount_in > 0 else 0
            if only_live and opp.profit <= 0 and not opp.ticks_missing:
                continue
            opps.append(_with_persistence(opp, c.persistence))
        return _sorted(opps)

    def touching_count(self, pool_id: str) -> int:
        """How many indexed cycles use ``pool_id`` (of every length): the positions the
        pieces of :meth:`score_touching` count in."""
        s = self._pool_ix.get(pool_id)
        if s is None:
            raise UnknownPoolError(f"unknown pool: {pool_id}")
        return len(self._pool_cycles.get(s, ()))

    def _cycle_order(self, key: tuple[int, tuple[int, ...]]) -> tuple[str, tuple[str, ...]]:
        pools = self._pools
        return self._tokens[key[0]], tuple(
            p.pool_id if (p := pools[e >> 1]) is not None else "" for e in key[1]
        )

    def score_touching(
        self, pool_id: str, pricer: CyclePricer, max_hops: int = 4, piece: Piece | None = None
    ) -> list[Scored]:
        """:meth:`cycles_touching` with ``only_live``, each cycle priced by ``pricer``
        (``engine_rs.python.pricing``): ``(opportunity, score, hop limits, steps,
        accounts)`` per live cycle, the compute-unit budget's parts and the score at its
        limit and its base's price of a lamport. Every cycle through the pool (or through
        its ``piece``, as :meth:`cycles_touching`'s) is re-sized and its persistence
        counted first; an error of the scorer comes after that."""
        opps = self.cycles_touching(pool_id, max_hops, only_live=True, piece=piece)
        out: list[Scored] = []
        owners = self._mint_owners
        for o in opps:
            t22 = [
                (t := self._token_ix.get(m)) is not None and owners.get(t) == TOKEN_2022
                for m in o.tokens
            ]
            budget, limit = pricing.budget(
                pricer, o.pools, o.kinds, o.tokens, t22, o.amount_in, o.hop_steps
            )
            hops, steps, accounts = budget
            out.append((o, pricing.score_at(pricer, o, limit), hops, steps, accounts))
        return out

    def indexed_cycle_count(self) -> int:
        """How many cycles the incremental index holds."""
        return len(self._cycles)

    def _bases(self) -> list[int]:
        return [self._token_ix[m] for m in self._base_names if m in self._token_ix]

    def _index_new_pool(self, s: int) -> None:
        p = self._pools[s]
        assert p is not None
        for b in self._bases():
            for e, (u, v) in ((2 * s, (p.a, p.b)), (2 * s + 1, (p.b, p.a))):
                for edges in self._cycles_through_edge(b, e, u, v):
                    self._index_add(b, edges)

    def _index_add(self, b: int, edges: tuple[int, ...]) -> None:
        key = (b, edges)
        if key in self._cycles:
            return
        self._cycles[key] = _IndexedCycle(b, edges, 0)
        for e in edges:
            self._pool_cycles.setdefault(e >> 1, set()).add(key)

    def _index_drop(self, key: tuple[int, tuple[int, ...]]) -> None:
        c = self._cycles.pop(key, None)
        if c is None:
            return
        for e in c.edges:
            cs = self._pool_cycles.get(e >> 1)
            if cs is not None:
                cs.discard(key)

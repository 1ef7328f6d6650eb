"""The pool graph, negative-cycle search and cycle enumeration (twin of
``crates/core/src/graph/``).

Tokens are vertices; every pool is two directed edges (``a -> b`` and ``b -> a``) whose
weight is ``-ln(spot rate after fee)``, recomputed on every upsert so the search loops
never call ``ln``. Several pools may join the same pair: each is its own pair of edges.

Determinism (both backends return the same answers for the same calls):
- pools live in slots; a new pool takes the most recently freed slot, else a new one;
  edge ``e`` of slot ``s`` is ``2*s`` (a->b) or ``2*s+1`` (b->a); each token's out-edges
  are kept sorted by edge id;
- tokens get dense indices in order of first appearance and keep them.

The incremental index holds every simple cycle of 2..``max_hops`` hops through each base
mint (one entry per base the cycle passes through, rotated to start there), with an
index from pool to the cycles using it. A state-only upsert leaves the index alone; a
new pool enumerates only the cycles through it; removing a pool drops its cycles.

:class:`PoolGraph` is one class built in layers, each part a class adding its methods to
the ones before (as the core's ``impl PoolGraph`` blocks, one per file):
``_base`` (the state, id checks, tokens and edges), ``mints`` (Token-2022 fees by epoch,
refusals, edge weights), ``quote`` (path quotes, steps, a cycle sized), ``cycles``
(enumeration), ``index`` (the incremental index, ``cycles_touching``), ``bellman_ford``
(the negative-cycle search), ``store`` (upserts, removal).
"""

from __future__ import annotations

from collections.abc import Sequence

from ._base import MAX_HOPS_LIMIT
from .store import _Store

__all__ = ["MAX_HOPS_LIMIT", "PoolGraph"]


class PoolGraph(_Store):
    """Pools as edges between mints, with cycle search, sizing and an incremental index.

    ``base_mints``: the tokens whose cycles are indexed for :meth:`cycles_touching`;
    ``max_hops`` (2..5): the longest indexed cycle.
    """

    def __init__(self, base_mints: Sequence[str] = (), max_hops: int = 4) -> None:
        super().__init__(max_hops)
        for mint in base_mints:
            self.add_base_mint(mint)

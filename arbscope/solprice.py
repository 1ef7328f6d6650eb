"""What a lamport is worth in each base token: the price a cycle's fees (paid in SOL) are
converted to its base token with (``FeeContext.base_per_lamport_num / _den``), read from
the session's own pool graph. The scorer, paper, live, the cycle detail, the journal's
``opp`` events (hence the export) and /metrics all use the figure kept here.

For wSOL the price is 1/1. For another base it comes from the pool path from SOL to the
base that the graph holds — one pool, or two through one token — that gives the most base
for :data:`DEPTH_PROBE` lamports (100 SOL): the deepest path, so a thin pool's price never
sets it. The price is what :data:`PRICE_PROBE` lamports (1 SOL) sell for through that path,
the engine's exact quote (the same on both backends; transfer fees and the pools' fees
included), plus one base unit, since a quote is the floor of what the curves give:
``(out + 1) / PRICE_PROBE`` base units per lamport, an exact ratio of integers, reduced.
Decimals are in it (raw units per raw unit): on USDC at 150 USDC/SOL it is about
150,000,001 / 10^9.

The path is chosen again when the graph's pools change in number, or when it stops
quoting; the price is read again at every tick that changed pools (a replay makes the
same choices at the same ticks). No path that fills the probe: no price, and the scorer
converts nothing and says ``no_sol_price``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine_rs.errors import EngineError
from feeds.wire.tokens import BY_SYMBOL

WSOL = BY_SYMBOL["SOL"].mint  # the wrapped-SOL mint: fees are paid in its unit
PRICE_PROBE = 10**9  # lamports sold to read the price: 1 SOL
DEPTH_PROBE = 100 * 10**9  # lamports sold to rank the paths by depth: 100 SOL

Path = tuple[tuple[str, ...], tuple[str, ...]]  # (pools, tokens from SOL to the base)


@dataclass(frozen=True, slots=True)
class LamportPrice:
    """Base units per lamport as ``num / den`` (reduced), and where it was read: the
    ``pools`` from SOL to ``base`` (through ``tokens``), ``probe`` lamports giving ``out``
    base units. wSOL's own is 1/1 with no pools."""

    base: str
    num: int
    den: int
    pools: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    probe: int = 0
    out: int = 0

    def in_base(self, lamports: int) -> int:
        """``lamports`` in base units, rounded up (the scorer's rounding)."""
        return -(-lamports * self.num // self.den)

    def per_sol(self) -> int:
        """Base units a whole SOL is worth at this price (rounded down)."""
        return PRICE_PROBE * self.num // self.den


def ratio(out: int, probe: int = PRICE_PROBE) -> tuple[int, int]:
    """``(out + 1) / probe`` reduced: the rate of a quote of ``probe`` lamports that gave
    ``out`` base units, rounded up by the unit the quote's floor may have cut."""
    num, den = out + 1, probe
    g = math.gcd(num, den)
    return num // g, den // g


class LamportPrices:
    """The price of a lamport in each base token (see the module docstring)."""

    def __init__(self, sol: str = WSOL) -> None:
        self.sol = sol
        self.prices: dict[str, LamportPrice | None] = {}
        self._paths: dict[str, Path | None] = {}
        self._adj: dict[str, list[tuple[str, str]]] = {}  # token -> (pool, other token)
        self._pools = -1  # the graph's pool count when the adjacency was read
        # each pool's two tokens, as the graph named them (a pool's mints never change):
        # the adjacency read again asks the graph only about pools not seen before (at
        # 3,000 pools, every ``pool_rate`` again held the event loop for ~0.3 s)
        self._tokens: dict[str, tuple[str, str]] = {}
        self.version = 0  # counted up by each update that changed a price
        self._sol_price = LamportPrice(sol, 1, 1)

    def get(self, base: str) -> LamportPrice | None:
        """The price of a lamport in ``base`` (None: none known). wSOL: 1/1."""
        if base == self.sol:
            return self._sol_price  # (frozen: one object)
        return self.prices.get(base)

    def update(self, graph: Any, bases: Iterable[str]) -> None:
        """Read the price of every base of ``bases`` from ``graph`` (its active backend's
        ``PoolGraph``): the path chosen again when the graph's pools changed in number."""
        before = dict(self.prices)
        if len(graph) != self._pools:
            self._read_adjacency(graph)
            self._paths.clear()
        for base in bases:
            if base == self.sol:
                continue
            path = self._paths.get(base)
            price = self._price(graph, base, path) if path is not None else None
            if price is None:  # no path chosen yet, or it no longer quotes
                path = self._paths[base] = self._choose(graph, base)
                price = self._price(graph, base, path) if path is not None else None
            self.prices[base] = price
        if self.prices != before:
            self.version += 1

    # ------------------------------------------------------------ the paths
    def _read_adjacency(self, graph: Any) -> None:
        adj: dict[str, list[tuple[str, str]]] = {}
        known, tokens = self._tokens, {}
        for p in graph.pools():
            ab = known.get(p)
            if ab is None:
                try:
                    ab = graph.pool_rate(p)[:2]
                except EngineError:  # no rate yet: asked again at the next read
                    continue
            a, b = tokens[p] = ab
            adj.setdefault(a, []).append((p, b))
            adj.setdefault(b, []).append((p, a))
        for v in adj.values():
            v.sort()
        self._adj, self._pools, self._tokens = adj, len(graph), tokens

    def paths(self, base: str) -> list[Path]:
        """Every path from SOL to ``base``: each pool between them, then each pair of
        pools through one other token (sorted: fewer hops, then by pool)."""
        sol, adj = self.sol, self._adj
        direct = [((p,), (sol, base)) for p, other in adj.get(sol, ()) if other == base]
        two = []
        into_base: dict[str, list[str]] = {}
        for p, other in adj.get(base, ()):
            into_base.setdefault(other, []).append(p)
        for p1, mid in adj.get(sol, ()):
            if mid in (sol, base):
                continue
            for p2 in into_base.get(mid, ()):
                two.append(((p1, p2), (sol, mid, base)))
        return direct + sorted(two)

    def _choose(self, graph: Any, base: str) -> Path | None:
        """The path giving the most base for DEPTH_PROBE lamports; when none fills that,
        the one giving the most for PRICE_PROBE (ties: the first of :meth:`paths`)."""
        paths = self.paths(base)
        for probe in (DEPTH_PROBE, PRICE_PROBE):
            best: Path | None = None
            most = 0
            for path in paths:
                out = _sell(graph, path, self.sol, probe)
                if out is not None and out > most:
                    best, most = path, out
            if best is not None:
                return best
        return None

    def _price(self, graph: Any, base: str, path: Path) -> LamportPrice | None:
        out = _sell(graph, path, self.sol, PRICE_PROBE)
        if out is None:
            return None
        num, den = ratio(out)
        return LamportPrice(base, num, den, path[0], path[1], PRICE_PROBE, out)


def _sell(graph: Any, path: Path, sol: str, lamports: int) -> int | None:
    """What ``lamports`` of SOL sell for through ``path`` (None: it cannot fill, or a
    pool left the graph or refuses a mint)."""
    try:
        amounts = graph.quote(list(path[0]), sol, lamports)
    except EngineError:
        return None
    return int(amounts[-1]) if amounts else None

"""The pool graph's state, its id checks and the accessors every part uses (the twin's
own module: in the core the state is ``graph/mod.rs``'s struct and these accessors are
``store.rs``'s). :class:`PoolGraph` is built on it in layers, each part a class adding
its methods to the ones before: ``mints``, ``quote``, ``cycles``, ``index``,
``bellman_ford``, ``store`` (see the package's docstring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import InvalidInputError, UnknownPoolError
from .._ints import Readonly
from ..sizing import SIZINGS, Leg, check_sizing
from ..venues.base import Venue

_B58 = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
MAX_HOPS_LIMIT = 5


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what}: expected str, got {type(value).__name__}")
    if not 1 <= len(value) <= 44 or not _B58.issuperset(value):
        raise InvalidInputError(f"{what} {value!r} is not a base58 address (1-44 chars)")
    return value


def _check_pool_ids(pool_id: object, mint_a: object, mint_b: object) -> None:
    """A pool's id and mints are base58 addresses (:func:`_check_id`), its mints two."""
    _check_id(pool_id, "pool_id")
    _check_id(mint_a, "mint_a")
    _check_id(mint_b, "mint_b")
    if mint_a == mint_b:
        raise InvalidInputError(f"pool {pool_id}: mint_a == mint_b")


def _check_hops(max_hops: object) -> int:
    if isinstance(max_hops, bool) or not isinstance(max_hops, int):
        raise TypeError("max_hops: expected int")
    if not 2 <= max_hops <= MAX_HOPS_LIMIT:
        raise InvalidInputError(f"max_hops must be in 2..{MAX_HOPS_LIMIT}, got {max_hops}")
    return max_hops


@dataclass(slots=True)
class _Pool:
    pool_id: str
    a: int
    b: int
    venue: Venue
    state: Any  # the venue's quote state
    kind: str  # its venue's graph kind ("cpmm" | "clmm")
    legs: tuple[Leg, Leg] | None  # the pool as a sizing hop a -> b, b -> a, once asked for
    slot: int
    rate: tuple[float, float]
    weight: tuple[float, float]


@dataclass(slots=True)
class _IndexedCycle:
    base: int
    edges: tuple[int, ...]
    persistence: int


class _Graph:
    """The graph's state (see the package's docstring)."""

    def __init__(self, max_hops: int) -> None:
        self._max_hops = _check_hops(max_hops)
        self._token_ix: dict[str, int] = {}
        self._tokens: list[str] = []
        self._token_pools: list[int] = []  # pools touching each token
        self._out: list[list[int]] = []  # sorted out-edge ids per token
        self._in: list[list[int]] = []  # sorted in-edge ids per token
        self._pool_ix: dict[str, int] = {}
        self._pools: list[_Pool | None] = []
        self._free: list[int] = []
        self._to: list[int] = []  # edge id -> head token (the tail is _to[e ^ 1])
        self._w: list[float] = []  # edge id -> -ln(rate)
        # the search loop's view: per token, [head, weight, edge] cells sorted by edge id
        # (mutable cells shared with _cell, so a state-only upsert patches one float)
        self._adj: list[list[list[Any]]] = []
        self._cell: list[list[Any]] = []
        self._slot = 0
        self._warm: list[float] | None = None
        self._warm_calls = 0
        # the cycles remembered since the last cold start: (a token on it, its edges)
        self._masks: list[tuple[int, list[int]]] = []
        self._base_names: list[str] = []
        self._cycles: dict[tuple[int, tuple[int, ...]], _IndexedCycle] = {}
        self._pool_cycles: dict[int, set[tuple[int, tuple[int, ...]]]] = {}
        # Token-2022 mints with a transfer fee or a refused extension, by token index:
        # (fee config or None, refused extension names)
        self._mints: dict[int, tuple[Any, list[str]]] = {}
        self._mint_owners: dict[int, str] = {}  # each mint told and its program
        self._epochs: tuple[int, bool, int, int] = (432_000, False, 0, 0)
        self._epoch = 0
        self._sizing = SIZINGS[0]  # how a cycle is sized (set_sizing)

    def __len__(self) -> int:
        return len(self._pool_ix)

    slot = Readonly[int](
        "_slot",
        "The chain's slot as told by :meth:`set_slot` (never goes back; an upsert's slot "
        "is its pool's, never the chain's: one update cannot make the others stale).",
    )

    max_hops = Readonly[int](
        "_max_hops",
        "The longest cycle the index holds.",
    )

    sizing = Readonly[str](
        "_sizing",
        'How a cycle is sized: "golden" (a new graph\'s) or "ternary" (sessions recorded '
        'before "golden"); see :mod:`engine_rs.python.sizing`.',
    )

    def set_sizing(self, rule: str) -> None:
        """Size cycles by the rule named ``rule`` from now on (:data:`SIZINGS`)."""
        check_sizing(rule)
        self._sizing = rule

    def tokens(self) -> list[str]:
        """Mints with at least one pool, sorted."""
        return sorted(t for t, n in zip(self._tokens, self._token_pools) if n > 0)

    def pools(self) -> list[str]:
        """Pool ids, sorted."""
        return sorted(self._pool_ix)

    def base_mints(self) -> list[str]:
        """The indexed base mints, in the order they were added."""
        return list(self._base_names)

    def _token(self, mint: str) -> int:
        ix = self._token_ix.get(mint)
        if ix is None:
            ix = len(self._tokens)
            self._token_ix[mint] = ix
            self._tokens.append(mint)
            self._token_pools.append(0)
            self._out.append([])
            self._in.append([])
            self._adj.append([])
        return ix

    def _live_pool(self, pool_id: object) -> tuple[int, _Pool]:
        s = self._pool_ix.get(pool_id) if isinstance(pool_id, str) else None
        p = self._pools[s] if s is not None else None
        if s is None or p is None:
            raise UnknownPoolError(f"unknown pool: {pool_id}")
        return s, p

    def _edge(self, e: int) -> tuple[_Pool, int, int]:
        p = self._pools[e >> 1]
        assert p is not None
        return (p, p.a, p.b) if e & 1 == 0 else (p, p.b, p.a)

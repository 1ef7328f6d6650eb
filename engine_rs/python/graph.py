"""The pool graph, negative-cycle search and cycle enumeration (twin of ``graph.rs``).

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
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError, TicksMissingError, UnknownPoolError, UnknownTokenError
from ..records import BookLadder, Cycle, Opportunity
from . import token2022 as _t22
from ._ints import i32, i64, u64, u128
from .amm import ConstantProduct
from .decode import owner_text
from .sizing import Leg, optimal_input, simulate, simulate_steps
from .venues import Venue, orca_whirlpool, pump_amm, raydium_cpmm
from .venues.orca_whirlpool.swap import ClmmPool
from .venues.ticks import checked_ticks

_B58 = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
_EPS = 1e-12  # a relaxation must improve by more than float noise
MAX_HOPS_LIMIT = 5
# Warm starts reuse the last converged distances; potentials only ever fall, so start
# from zero again every this many calls to keep them small.
_WARM_RESET = 64
_MAX_MASKED = 8  # cycles masked in all while settling after a cycle; past it, cold next
_REFUSED_WEIGHT = 1e9  # an edge through a refused mint: never part of a negative cycle
_REFUSED_FEE = (0, 0, 0xFFFF)  # a refused mint's leg fee: no mint holds it, nothing quotes
_MIN_SLOTS_PER_EPOCH = 32  # Agave's MINIMUM_SLOTS_PER_EPOCH


def _epoch_of(schedule: tuple[int, bool, int, int], slot: int) -> int:
    """Agave's ``EpochSchedule::get_epoch`` (graph.rs ``EpochSchedule::epoch``)."""
    spe, _warmup, first_epoch, first_slot = schedule
    if slot < first_slot:  # Agave: the warmup epochs lie before the first normal slot
        n = slot + _MIN_SLOTS_PER_EPOCH + 1
        length = 1 << (n - 1).bit_length() if n > 1 else 1
        return (length.bit_length() - 1) - (_MIN_SLOTS_PER_EPOCH.bit_length() - 1) - 1
    return first_epoch + (max(0, slot - first_slot)) // max(1, spe)


def _fee_factor(fee: tuple[int, int, int] | None) -> float:
    return 1.0 if fee is None else 1.0 - min(fee[2], 10_000) / 10_000.0


class _FeeLeg:
    """A hop through a pool between Token-2022 mints (graph.rs ``Leg`` with fees): the
    pool receives the input less its transfer fee, the trader the output less its."""

    __slots__ = ("fee_in", "fee_out", "leg")

    def __init__(self, leg: Leg, fee_in: Any, fee_out: Any) -> None:
        self.leg, self.fee_in, self.fee_out = leg, fee_in, fee_out

    def spot_rate(self) -> float:
        return self.leg.spot_rate() * _fee_factor(self.fee_in) * _fee_factor(self.fee_out)

    def amount_out(self, amount: int) -> int | None:
        if amount == 0:
            return 0
        into = _after_fee(self.fee_in, amount)
        if not into:
            return None
        out = self.leg.amount_out(into)
        return None if out is None else _after_fee(self.fee_out, out)

    def amount_steps(self, amount: int) -> tuple[int, int] | None:
        if amount == 0:
            return 0, 0
        into = _after_fee(self.fee_in, amount)
        if not into:
            return None
        r = self.leg.amount_steps(into)
        if r is None:
            return None
        out = _after_fee(self.fee_out, r[0])
        return None if out is None else (out, r[1])

    def constant_product(self) -> tuple[int, int, int, int] | None:
        return None  # the closed form does not hold with a transfer fee: the search sizes


def _after_fee(fee: tuple[int, int, int] | None, amount: int) -> int | None:
    if fee is None:
        return amount
    if fee[2] > 10_000:
        return None
    return amount - _t22._fee_of(fee, amount)


def _ticks_missing(pools: Sequence[str], token_in: str, amount_in: int) -> TicksMissingError:
    return TicksMissingError(
        f"{amount_in} of {token_in} through {' -> '.join(pools)} steps past the tick arrays held"
    )


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what}: expected str, got {type(value).__name__}")
    if not 1 <= len(value) <= 44 or not _B58.issuperset(value):
        raise InvalidInputError(f"{what} {value!r} is not a base58 address (1-44 chars)")
    return value


def _check_hops(max_hops: object) -> int:
    if isinstance(max_hops, bool) or not isinstance(max_hops, int):
        raise TypeError("max_hops: expected int")
    if not 2 <= max_hops <= MAX_HOPS_LIMIT:
        raise InvalidInputError(f"max_hops must be in 2..{MAX_HOPS_LIMIT}, got {max_hops}")
    return max_hops


def _rate_pair(rates: tuple[float, float]) -> tuple[float, float]:
    for r in rates:
        if not (math.isfinite(r) and r > 0.0):
            raise InvalidInputError(f"pool spot rate {r} is not a positive finite number")
    return rates


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


class PoolGraph:
    """Pools as edges between mints, with cycle search, sizing and an incremental index.

    ``base_mints``: the tokens whose cycles are indexed for :meth:`cycles_touching`;
    ``max_hops`` (2..5): the longest indexed cycle.
    """

    def __init__(self, base_mints: Sequence[str] = (), max_hops: int = 4) -> None:
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
        for mint in base_mints:
            self.add_base_mint(mint)

    # ------------------------------------------------------------------ state
    def __len__(self) -> int:
        return len(self._pool_ix)

    @property
    def slot(self) -> int:
        """The chain's slot as told by :meth:`set_slot` (never goes back; an upsert's
        slot is its pool's, never the chain's: one update cannot make the others stale)."""
        return self._slot

    @property
    def max_hops(self) -> int:
        """The longest cycle the index holds."""
        return self._max_hops

    def set_slot(self, slot: int) -> None:
        """Tell the graph the chain's current slot (for staleness, and the epoch of the
        mints' transfer fees)."""
        self._slot = max(self._slot, u64(slot))
        epoch = _epoch_of(self._epochs, self._slot)
        if epoch != self._epoch:
            self._epoch = epoch
            for t in list(self._mints):
                self._reweigh_token(t)

    @property
    def epoch(self) -> int:
        """The epoch of the graph's slot under its epoch schedule."""
        return self._epoch

    def set_epoch_schedule(
        self,
        slots_per_epoch: int,
        warmup: bool = False,
        first_normal_epoch: int = 0,
        first_normal_slot: int = 0,
    ) -> None:
        """The cluster's epoch schedule (``getEpochSchedule``'s fields)."""
        spe = u64(slots_per_epoch)
        if spe < _MIN_SLOTS_PER_EPOCH:
            raise InvalidInputError(f"slots_per_epoch {spe} is below {_MIN_SLOTS_PER_EPOCH}")
        self._epochs = (spe, bool(warmup), u64(first_normal_epoch), u64(first_normal_slot))
        self._epoch = -1
        self.set_slot(self._slot)

    def set_mint(self, mint: str, data: bytes, owner: object) -> list[str]:
        """A mint account: its transfer fee counts in every quote through its pools; the
        refused extensions' names (empty: tradable). Errors as ``decode_mint``."""
        _check_id(mint, "mint")
        if owner is None:
            raise InvalidInputError("owner: expected a program id")
        fee, refused = _t22.mint_rules(data, owner)
        t = self._token(mint)
        self._mint_owners[t] = str(owner_text(owner))
        if fee is None and not refused:
            if self._mints.pop(t, None) is not None:
                self._reweigh_token(t)
        else:
            self._mints[t] = (fee, list(refused))
            self._reweigh_token(t)
        return list(refused)

    def mint_fee(self, mint: str) -> Any:
        """A mint's transfer-fee config ``(older, newer)``; None without one."""
        t = self._token_ix.get(mint)
        rules = self._mints.get(t) if t is not None else None
        return None if rules is None else rules[0]

    def mint_program(self, mint: str) -> str | None:
        """The program that owns a mint the graph was told (``set_mint``), None for one
        it was not (an SPL Token mint the feed does not follow)."""
        t = self._token_ix.get(mint)
        return None if t is None else self._mint_owners.get(t)

    def refusal(self, mint: str) -> list[str]:
        """The refused extensions of a mint (empty: tradable, or not told)."""
        t = self._token_ix.get(mint)
        rules = self._mints.get(t) if t is not None else None
        return [] if rules is None else list(rules[1])

    def _fee_now(self, t: int) -> Any:
        rules = self._mints.get(t)
        if rules is None:
            return None
        if rules[1]:
            return _REFUSED_FEE
        if rules[0] is None:
            return None
        older, newer = rules[0]
        return newer if self._epoch >= newer[0] else older

    def _refused(self, t: int) -> bool:
        rules = self._mints.get(t)
        return rules is not None and bool(rules[1])

    def _weights(self, a: int, b: int, rates: tuple[float, float]) -> tuple[float, float]:
        if not self._mints:
            return (-math.log(rates[0]), -math.log(rates[1]))
        if self._refused(a) or self._refused(b):
            return (_REFUSED_WEIGHT, _REFUSED_WEIGHT)
        k = _fee_factor(self._fee_now(a)) * _fee_factor(self._fee_now(b))
        # a 100 % transfer fee: nothing ever arrives (the edge is as good as refused)
        wa, wb = (-math.log(r * k) if r * k > 0.0 else _REFUSED_WEIGHT for r in rates)
        return (wa, wb)

    def _reweigh_token(self, t: int) -> None:
        """Weigh the edges of every pool of token ``t`` again (its mint's rules changed)."""
        if t >= len(self._out):
            return
        for e in list(self._out[t]):
            s = e >> 1
            p = self._pools[s]
            if p is None:
                continue
            w = self._weights(p.a, p.b, p.rate)
            p.weight = w
            self._w[2 * s], self._w[2 * s + 1] = w
            self._cell[2 * s][1], self._cell[2 * s + 1][1] = w
            p.legs = None
        self._warm = None  # the distances were settled under other weights

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

    def _bases(self) -> list[int]:
        return [self._token_ix[m] for m in self._base_names if m in self._token_ix]

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

    # ---------------------------------------------------------------- upserts
    def upsert_cpmm(
        self,
        pool_id: str,
        mint_a: str,
        mint_b: str,
        reserve_a: int,
        reserve_b: int,
        fee_num: int,
        fee_den: int,
        slot: int = 0,
    ) -> None:
        """Insert or update a constant-product pool (reserves in base units of a and b;
        Raydium's rounding: CP-Swap's curve, which AMM v4 shares; graph kind ``cpmm``)."""
        reserve_a, reserve_b = u64(reserve_a), u64(reserve_b)
        fee_num, fee_den, slot = u64(fee_num), u64(fee_den), u64(slot)
        _check_id(pool_id, "pool_id")
        _check_id(mint_a, "mint_a")
        _check_id(mint_b, "mint_b")
        if mint_a == mint_b:
            raise InvalidInputError(f"pool {pool_id}: mint_a == mint_b")
        state = ConstantProduct.checked(pool_id, reserve_a, reserve_b, fee_num, fee_den)
        self._upsert_venue(pool_id, mint_a, mint_b, raydium_cpmm, state, slot)

    def upsert_pump(
        self,
        pool_id: str,
        mint_a: str,
        mint_b: str,
        base_reserve: int,
        quote_reserve: int,
        lp_fee_bps: int,
        protocol_fee_bps: int,
        creator_fee_bps: int,
        slot: int = 0,
    ) -> None:
        """Insert or update a PumpSwap pool: base and quote reserves (mint a is the base),
        the fee rates in bps (the creator's 0 without a coin creator); graph kind ``pump``."""
        base_reserve, quote_reserve = u64(base_reserve), u64(quote_reserve)
        bps = (u64(lp_fee_bps), u64(protocol_fee_bps), u64(creator_fee_bps))
        slot = u64(slot)
        _check_id(pool_id, "pool_id")
        _check_id(mint_a, "mint_a")
        _check_id(mint_b, "mint_b")
        if mint_a == mint_b:
            raise InvalidInputError(f"pool {pool_id}: mint_a == mint_b")
        state = pump_amm.PumpState.checked(pool_id, base_reserve, quote_reserve, bps, 0)
        self._upsert_venue(pool_id, mint_a, mint_b, pump_amm, state, slot)

    def upsert_clmm(
        self,
        pool_id: str,
        mint_a: str,
        mint_b: str,
        sqrt_price_x64: int,
        liquidity: int,
        tick_current: int,
        tick_spacing: int,
        fee_rate: int,
        ticks: Sequence[tuple[int, int]],
        slot: int = 0,
    ) -> None:
        """Insert or update a Whirlpool (state as in the account, ticks initialized only)."""
        sqrt_price_x64, liquidity = u128(sqrt_price_x64), u128(liquidity)
        tick_current, tick_spacing, fee_rate, slot = (
            i32(tick_current),
            u64(tick_spacing),
            u64(fee_rate),
            u64(slot),
        )
        tick_list = checked_ticks(ticks)
        _check_id(pool_id, "pool_id")
        _check_id(mint_a, "mint_a")
        _check_id(mint_b, "mint_b")
        if mint_a == mint_b:
            raise InvalidInputError(f"pool {pool_id}: mint_a == mint_b")
        pool = ClmmPool(sqrt_price_x64, liquidity, tick_current, tick_spacing, fee_rate, tick_list)
        state = orca_whirlpool.WhirlpoolState(pool, None)  # every tick given: nothing missing
        self._upsert_venue(pool_id, mint_a, mint_b, orca_whirlpool, state, slot)

    def _upsert_venue(
        self, pool_id: str, mint_a: str, mint_b: str, venue: Venue, state: Any, slot: int
    ) -> None:
        """Insert or update a pool of any venue by its quote state, ids checked (the feed
        ingest's entry: ``graph.rs``'s ``upsert_state_ids_checked``)."""
        rates = _rate_pair((venue.spot_rate(state, True), venue.spot_rate(state, False)))
        kind = venue.INFO.graph_kind
        s = self._pool_ix.get(pool_id)
        if s is not None:
            p = self._pools[s]
            assert p is not None
            if self._tokens[p.a] == mint_a and self._tokens[p.b] == mint_b:
                weights = self._weights(p.a, p.b, rates)
                p.venue, p.state, p.kind, p.legs = venue, state, kind, None
                p.slot, p.rate, p.weight = slot, rates, weights
                self._w[2 * s], self._w[2 * s + 1] = weights
                self._cell[2 * s][1], self._cell[2 * s + 1][1] = weights
                return
            self.remove_pool(pool_id)  # new mints: a different edge pair
        a, b = self._token(mint_a), self._token(mint_b)
        weights = self._weights(a, b, rates)
        pool = _Pool(pool_id, a, b, venue, state, kind, None, slot, rates, weights)
        if self._free:
            s = self._free.pop()
            self._pools[s] = pool
        else:
            s = len(self._pools)
            self._pools.append(pool)
            self._to.extend((0, 0))
            self._w.extend((0.0, 0.0))
            self._cell.extend(([0, 0.0, 2 * s], [0, 0.0, 2 * s + 1]))
        self._to[2 * s], self._to[2 * s + 1] = b, a
        self._w[2 * s], self._w[2 * s + 1] = weights
        self._pool_ix[pool_id] = s
        for e, (u, v) in ((2 * s, (a, b)), (2 * s + 1, (b, a))):
            _insort(self._out[u], e)
            _insort(self._in[v], e)
            cell = self._cell[e]
            cell[0], cell[1] = v, self._w[e]
            row = self._adj[u]
            row.insert(bisect_left(row, e, key=lambda c: c[2]), cell)
        self._token_pools[a] += 1
        self._token_pools[b] += 1
        self._masks.clear()  # edge ids may name other pools now (graph.rs: csr_dirty)
        self._index_new_pool(s)

    def _live_pool(self, pool_id: object) -> tuple[int, _Pool]:
        s = self._pool_ix.get(pool_id) if isinstance(pool_id, str) else None
        p = self._pools[s] if s is not None else None
        if s is None or p is None:
            raise UnknownPoolError(f"unknown pool: {pool_id}")
        return s, p

    def quote(self, pools: Sequence[str], token_in: str, amount_in: int) -> list[int]:
        """``[amount_in, out_1, ..., out_n]`` through ``pools`` in order from ``token_in``
        (exact curves, current states); empty when a hop cannot fill; TicksMissingError
        when a Whirlpool hop would step past the tick arrays its state holds."""
        amount_in = u64(amount_in)
        legs = self._legs(self._path(pools, token_in))
        try:
            return simulate(legs, amount_in) or []
        except TicksMissingError:
            raise _ticks_missing(pools, token_in, amount_in) from None

    def quote_steps(
        self, pools: Sequence[str], token_in: str, amount_in: int
    ) -> tuple[list[int], list[int]]:
        """:meth:`quote` with the steps each hop crosses in its venue's compute-unit model
        (``Leg.amount_steps``, counted by the same walk): ``(amounts, steps)``, both
        empty when a hop cannot fill; the same errors."""
        amount_in = u64(amount_in)
        legs = self._legs(self._path(pools, token_in))
        try:
            return simulate_steps(legs, amount_in) or ([], [])
        except TicksMissingError:
            raise _ticks_missing(pools, token_in, amount_in) from None

    def _path(self, pools: Sequence[str], token_in: str) -> list[int]:
        """The edges of the path through ``pools`` from ``token_in`` (:meth:`quote`'s
        checks)."""
        cur = self._token_ix.get(token_in) if isinstance(token_in, str) else None
        if cur is None:
            raise UnknownTokenError(f"unknown token: {token_in}")
        edges = []
        for pid in pools:
            s, p = self._live_pool(pid)
            for t in (p.a, p.b):
                if self._refused(t):
                    raise InvalidInputError(
                        f"pool {pid} trades mint {self._tokens[t]}, refused for its "
                        f"extension(s): {', '.join(self._mints[t][1])}"
                    )
            if p.a == cur:
                edges.append(2 * s)
                cur = p.b
            elif p.b == cur:
                edges.append(2 * s + 1)
                cur = p.a
            else:
                raise InvalidInputError(f"pool {pid} does not trade {self._tokens[cur]}")
        return edges

    def pool_rate(self, pool_id: str) -> tuple[str, str, float, float, int]:
        """``(mint_a, mint_b, rate_a_to_b, rate_b_to_a, slot)`` of a pool: its spot rates
        after fees (the mid price of a in b is ``sqrt(ab / ba)``); UnknownPoolError."""
        _, p = self._live_pool(pool_id)
        return (self._tokens[p.a], self._tokens[p.b], p.rate[0], p.rate[1], p.slot)

    def ladder(self, pool_id: str, depth: int = 20) -> BookLadder | None:
        """The L2 ladder of an order-book pool (``depth`` levels a side; ``market`` its id,
        ``slot`` its state's), None for a pool that is not a book; UnknownPoolError."""
        d = i64(depth)
        if d < 0:
            raise InvalidInputError(f"depth {d} is negative")
        _, p = self._live_pool(pool_id)
        ladder_of = getattr(p.venue, "ladder_of", None)  # the venues that are books
        if ladder_of is None:
            return None
        mints = (self._tokens[p.a], self._tokens[p.b])
        book: BookLadder = ladder_of(p.state, d, p.pool_id, mints, p.slot)
        return book

    def remove_pool(self, pool_id: str) -> None:
        """Drop a pool and every indexed cycle through it (UnknownPoolError if absent)."""
        s = self._pool_ix.pop(pool_id, None)
        if s is None:
            raise UnknownPoolError(f"unknown pool: {pool_id}")
        p = self._pools[s]
        assert p is not None
        for e, (u, v) in ((2 * s, (p.a, p.b)), (2 * s + 1, (p.b, p.a))):
            self._out[u].remove(e)
            self._in[v].remove(e)
            self._adj[u].remove(self._cell[e])
        self._token_pools[p.a] -= 1
        self._token_pools[p.b] -= 1
        for key in list(self._pool_cycles.get(s, ())):
            self._index_drop(key)
        self._pool_cycles.pop(s, None)
        self._pools[s] = None
        self._free.append(s)
        self._masks.clear()

    # -------------------------------------------------------------- edge info
    def _edge(self, e: int) -> tuple[_Pool, int, int]:
        p = self._pools[e >> 1]
        assert p is not None
        return (p, p.a, p.b) if e & 1 == 0 else (p, p.b, p.a)

    # ------------------------------------------------------ negative cycles
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

    def _index_new_pool(self, s: int) -> None:
        p = self._pools[s]
        assert p is not None
        for b in self._bases():
            for e, (u, v) in ((2 * s, (p.a, p.b)), (2 * s + 1, (p.b, p.a))):
                for edges in self._cycles_through_edge(b, e, u, v):
                    self._index_add(b, edges)

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

    # --------------------------------------------------------------- queries
    def _legs(self, edges: Sequence[int]) -> list[Leg]:
        """The hops of a path: each pool's leg in the direction the edge travels (made by
        its venue once per state, when first asked for)."""
        out: list[Leg] = []
        for e in edges:
            p = self._pools[e >> 1]
            assert p is not None
            legs = p.legs
            if legs is None:
                v, s = p.venue, p.state
                legs = (v.leg(s, True), v.leg(s, False))
                if self._mints:  # the mints' transfer fees in force, a -> b and b -> a
                    fa, fb = self._fee_now(p.a), self._fee_now(p.b)
                    if fa is not None or fb is not None:
                        legs = (_FeeLeg(legs[0], fa, fb), _FeeLeg(legs[1], fb, fa))
                p.legs = legs
            out.append(legs[e & 1])
        return out

    def _opportunity(self, b: int, edges: Sequence[int], persistence: int | None) -> Opportunity:
        legs = self._legs(edges)
        sized = optimal_input(legs)
        spot = 1.0
        tokens = [b]
        pools: list[str] = []
        kinds: list[str] = []
        oldest = None
        for e in edges:
            p, _, to = self._edge(e)
            spot = spot * p.rate[e & 1]
            tokens.append(to)
            pools.append(p.pool_id)
            kinds.append(p.kind)
            oldest = p.slot if oldest is None else min(oldest, p.slot)
        assert oldest is not None
        profit = sized.amount_out - sized.amount_in
        bps = profit * 10_000.0 / sized.amount_in if sized.amount_in else 0.0
        if persistence is None:  # not indexed: seen once, now
            persistence = 1 if sized.amount_in > 0 else 0
        elif sized.amount_in == 0:  # indexed, but not profitable in this state
            persistence = 0
        else:
            persistence = max(persistence, 1)
        return Opportunity(
            base_mint=self._tokens[b],
            tokens=[self._tokens[t] for t in tokens],
            pools=pools,
            kinds=kinds,
            hops=len(edges),
            spot_rate=spot,
            amount_in=sized.amount_in,
            amount_out=sized.amount_out,
            profit=profit,
            profit_bps=bps,
            hop_amounts=list(sized.hop_amounts),
            oldest_slot=oldest,
            staleness_slots=max(self._slot - oldest, 0),
            persistence=persistence,
            ticks_missing=sized.ticks_missing,
            hop_steps=list(sized.hop_steps),
        )

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

    def cycles_touching(self, pool_id: str, max_hops: int = 4) -> list[Opportunity]:
        """The indexed cycles (through any base mint) that use ``pool_id``, re-sized.

        Each evaluation updates the cycle's persistence: +1 if it is profitable now, else
        reset to 0. Sorted like :meth:`cycles`. UnknownPoolError for an unknown pool.
        """
        max_hops = _check_hops(max_hops)
        s = self._pool_ix.get(pool_id)
        if s is None:
            raise UnknownPoolError(f"unknown pool: {pool_id}")
        opps = []
        for key in self._pool_cycles.get(s, ()):
            c = self._cycles[key]
            if len(c.edges) > max_hops:
                continue
            opp = self._opportunity(c.base, c.edges, 0)
            c.persistence = c.persistence + 1 if opp.amount_in > 0 else 0
            opps.append(_with_persistence(opp, c.persistence))
        return _sorted(opps)

    def indexed_cycle_count(self) -> int:
        """How many cycles the incremental index holds."""
        return len(self._cycles)


def _with_persistence(opp: Opportunity, persistence: int) -> Opportunity:
    from dataclasses import replace

    return replace(opp, persistence=persistence)


def _sorted(opps: list[Opportunity]) -> list[Opportunity]:
    opps.sort(key=lambda o: (-o.profit, -o.spot_rate, o.pools, o.base_mint))
    return opps


def _insort(lst: list[int], x: int) -> None:
    from bisect import insort

    insort(lst, x)

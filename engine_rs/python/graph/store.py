"""The graph's pools and their states (twin of ``graph/store.rs``): upserts (a venue's
quote state, or the constant-product, PumpSwap and Whirlpool shortcuts) and removal.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

from ...errors import InvalidInputError, UnknownPoolError
from .._ints import i32, u64, u128
from ..amm import ConstantProduct
from ..venues import Venue, orca_whirlpool, pump_amm, raydium_cpmm
from ..venues.orca_whirlpool.swap import ClmmPool
from ..venues.ticks import checked_ticks
from ._base import _check_pool_ids, _Pool
from .bellman_ford import _BellmanFord


def _rate_pair(rates: tuple[float, float]) -> tuple[float, float]:
    for r in rates:
        if not (math.isfinite(r) and r > 0.0):
            raise InvalidInputError(f"pool spot rate {r} is not a positive finite number")
    return rates


class _Store(_BellmanFord):
    """Upserts and removal (see the module docstring)."""

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
        _check_pool_ids(pool_id, mint_a, mint_b)
        state = ConstantProduct.checked(pool_id, reserve_a, reserve_b, fee_num, fee_den)
        self._upsert_venue(pool_id, mint_a, mint_b, raydium_cpmm, raydium_cpmm.plain(state), slot)

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
        _check_pool_ids(pool_id, mint_a, mint_b)
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
        _check_pool_ids(pool_id, mint_a, mint_b)
        pool = ClmmPool(sqrt_price_x64, liquidity, tick_current, tick_spacing, fee_rate, tick_list)
        state = orca_whirlpool.WhirlpoolState(pool, None)  # every tick given: nothing missing
        self._upsert_venue(pool_id, mint_a, mint_b, orca_whirlpool, state, slot)

    def _upsert_venue(
        self, pool_id: str, mint_a: str, mint_b: str, venue: Venue, state: Any, slot: int
    ) -> None:
        """Insert or update a pool of any venue by its quote state, ids checked (the feed
        ingest's entry: ``graph/store.rs``'s ``upsert_state_ids_checked``)."""
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
        self._masks.clear()  # edge ids may name other pools now (graph/store.rs: csr_dirty)
        self._index_new_pool(s)

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


def _insort(lst: list[int], x: int) -> None:
    from bisect import insort

    insort(lst, x)

"""Quotes through the graph (twin of ``graph/quote.rs``): the amounts (and the steps of
each venue's compute-unit model) along a path of pools, a pool's rates and ladder, and a
cycle sized into an ``Opportunity``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...errors import InvalidInputError, TicksMissingError, UnknownTokenError
from ...records import BookLadder, Opportunity
from .._ints import i64, u64
from ..sizing import Leg, optimal_input, simulate, simulate_steps
from .mints import _FeeLeg, _Mints


def _ticks_missing(pools: Sequence[str], token_in: str, amount_in: int) -> TicksMissingError:
    return TicksMissingError(
        f"{amount_in} of {token_in} through {' -> '.join(pools)} steps past the tick arrays held"
    )


class _Quotes(_Mints):
    """Path quotes and sized cycles (see the module docstring)."""

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
        sized = optimal_input(legs, self._sizing)
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


def _with_persistence(opp: Opportunity, persistence: int) -> Opportunity:
    from dataclasses import replace

    return replace(opp, persistence=persistence)


def _sorted(opps: list[Opportunity]) -> list[Opportunity]:
    opps.sort(key=lambda o: (-o.profit, -o.spot_rate, o.pools, o.base_mint))
    return opps

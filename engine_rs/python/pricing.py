"""A cycle's compute-unit budget, fee context and score in one place (twin of
``crates/core/src/pricing.rs``): what ``PoolGraph.score_touching`` prices each live
cycle of a pool with.

:class:`CyclePricer` holds what the prices depend on besides the cycle: each venue's
compute-unit model (given as data, ``(kind, curve, base, per_step, max_steps, scale,
t22_fixed, t22_per_mint)``: ``scale`` is ``round(margin × 10_000 + 10_000)``), each
pool's program, the live wallet's token accounts, the session's fees and policy, a
lamport's price in each base mint.

A cycle's budget: each hop's limit ``ceil((base + per_step × min(steps, max_steps)) ×
scale / 10_000)`` at the steps its quote crosses plus its mints' Token-2022 steps
(``t22_fixed + t22_per_mint × n`` for ``n`` > 0 of its two mints Token-2022's; a cycle
with no size: each hop at its most), plus ``base_units``, plus ``per_account`` for each
of the cycle's mints other than the wallet's base it holds no account of (armed only),
capped at ``max_limit``; the override, when set (and not 0), instead of the sum. A hop
whose pool's program is not known: the most any venue of its curve (else any venue)
would take.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import InvalidInputError
from ..records import FeeContext, Opportunity, Score, ScorePolicy
from ._ints import i64, u64
from .scorer import score

_MODEL_MAX = (1 << 32) - 1  # the largest figure a model may hold

# a cycle's budget as score_touching returns it: (hop limits, steps, accounts)
Budget = tuple[tuple[int, ...], tuple[int | None, ...], int]
# one live cycle as score_touching returns it: (opportunity, score, *budget)
Scored = tuple[Opportunity, Score, tuple[int, ...], tuple[int | None, ...], int]


@dataclass(frozen=True, slots=True)
class _Model:
    kind: str
    curve: str
    base: int
    per_step: int
    max_steps: int
    scale: int
    t22_fixed: int
    t22_per_mint: int

    def limit(self, steps: int | None) -> int:
        s = self.max_steps if steps is None else min(steps, self.max_steps)
        return -(-(self.base + self.per_step * s) * self.scale // 10_000)

    def token_steps(self, t22: int) -> int:
        return self.t22_fixed + self.t22_per_mint * t22 if t22 else 0


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what}: expected str, got {type(value).__name__}")
    return value


class CyclePricer:
    """What each cycle's compute-unit budget and score depend on besides the cycle (see
    the module docstring)."""

    def __init__(
        self,
        models: Sequence[tuple[str, str, int, int, int, int, int, int]],
        base_units: int,
        per_account: int,
        max_limit: int,
    ) -> None:
        got = []
        for m in models:
            kind, curve, *figures = m
            nums = [u64(f) for f in figures]
            if len(nums) != 6:
                raise TypeError("a model is 8 fields")
            got.append(_Model(_text(kind, "kind"), _text(curve, "curve"), *nums))
        self._base_units, self._per_account = u64(base_units), u64(per_account)
        self._max_limit = u64(max_limit)
        if not got:
            raise InvalidInputError("a pricer needs at least one venue's compute-unit model")
        self._by_kind: dict[str, _Model] = {}
        for mo in got:
            if any(
                f > _MODEL_MAX
                for f in (
                    mo.base,
                    mo.per_step,
                    mo.max_steps,
                    mo.scale,
                    mo.t22_fixed,
                    mo.t22_per_mint,
                )
            ):
                raise InvalidInputError(
                    f"venue {mo.kind!r}: a compute-unit figure over {_MODEL_MAX}"
                )
            if mo.kind in self._by_kind:
                raise InvalidInputError(f"venue {mo.kind!r} given twice")
            self._by_kind[mo.kind] = mo
        self._models = tuple(got)
        self._fees = FeeContext(cu_limit=0)
        self._policy = ScorePolicy()
        self._override: int | None = None
        self._prices: dict[str, tuple[int, int]] = {}
        self._pool_kinds: dict[str, _Model] = {}
        self._wallet: tuple[str, frozenset[str]] | None = None

    def set_fees(
        self, fees: FeeContext, policy: ScorePolicy, cu_override: int | None = None
    ) -> None:
        """The session's fees (their ``cu_limit`` and conversion are each cycle's own),
        the policy, and the limit replacing every cycle's (None or 0: none)."""
        f = FeeContext(
            cu_limit=u64(fees.cu_limit),
            cu_price_micro_lamports=u64(fees.cu_price_micro_lamports),
            tip_lamports=u64(fees.tip_lamports),
            signatures=u64(fees.signatures),
            lamports_per_signature=u64(fees.lamports_per_signature),
            base_fee_lamports=(
                None if fees.base_fee_lamports is None else u64(fees.base_fee_lamports)
            ),
            base_per_lamport_num=u64(fees.base_per_lamport_num),
            base_per_lamport_den=u64(fees.base_per_lamport_den),
            base_rate_missing=bool(getattr(fees, "base_rate_missing", False)),
        )
        bps = policy.min_profit_bps
        if isinstance(bps, bool) or not isinstance(bps, (int, float)):
            raise TypeError("min_profit_bps: expected float")
        p = ScorePolicy(
            min_profit=i64(policy.min_profit),
            min_profit_bps=float(bps),
            min_persistence=u64(policy.min_persistence),
            max_staleness_slots=u64(policy.max_staleness_slots),
        )
        over = None if cu_override is None else u64(cu_override)
        if not math.isfinite(p.min_profit_bps):
            raise InvalidInputError(f"min_profit_bps must be finite, got {p.min_profit_bps}")
        self._fees, self._policy, self._override = f, p, over or None

    def set_prices(self, prices: Mapping[str, tuple[int, int] | None]) -> None:
        """A lamport's price in each base mint, ``(num, den)`` or None; replaces the last."""
        out: dict[str, tuple[int, int]] = {}
        for base in sorted(prices):
            p = prices[base]
            if p is None:
                continue
            num, den = u64(p[0]), u64(p[1])
            if den == 0:
                raise InvalidInputError(f"{base}: a lamport's price with a zero denominator")
            out[_text(base, "base")] = (num, den)
        self._prices = out

    def set_pool_kinds(self, kinds: Mapping[str, str], replace: bool = False) -> None:
        """Each pool's program kind, added to those told (``replace``: instead of them)."""
        got = {}
        for pool in sorted(kinds):
            kind = kinds[pool]
            m = self._by_kind.get(kind)
            if m is None:
                raise InvalidInputError(
                    f"pool {pool}: no compute-unit model for program kind {kind!r}"
                )
            got[_text(pool, "pool")] = m
        if replace:
            self._pool_kinds.clear()
        self._pool_kinds.update(got)

    def pool_kind_count(self) -> int:
        """How many pools' programs it knows."""
        return len(self._pool_kinds)

    def set_wallet(self, armed: bool, base: str, accounts: Iterable[str]) -> None:
        """The live wallet: armed, its base mint, the mints it holds a token account of."""
        have = frozenset(accounts)
        self._wallet = (base, have) if armed else None


# ---------------------------------------------------------------- what the graph calls
def _unknown_limit(p: CyclePricer, curve: str, steps: int | None) -> int:
    same = [m.limit(steps) for m in p._models if m.curve == curve]
    return max(same or [m.limit(steps) for m in p._models])


def _unknown_token_steps(p: CyclePricer, curve: str, t22: int) -> int:
    if not t22:
        return 0
    same = [m.token_steps(t22) for m in p._models if m.curve == curve]
    return max(same or [m.token_steps(t22) for m in p._models])


def budget(
    p: CyclePricer,
    pools: Sequence[str],
    curves: Sequence[str],
    tokens: Sequence[str],
    t22: Sequence[bool],
    amount_in: int,
    hop_steps: Sequence[int],
) -> tuple[Budget, int]:
    """The budget of a cycle priced by ``p`` (see the module docstring) and its limit."""
    n = len(pools)
    kinds = [p._pool_kinds.get(pool) for pool in pools]

    def curve(i: int) -> str:
        return curves[i] if i < len(curves) else ""

    steps: tuple[int | None, ...]
    if amount_in == 0 or len(hop_steps) != n:
        steps = (None,) * n
    else:
        out = []
        for i in range(n):
            both = sum(1 for j in (i, i + 1) if j < len(t22) and t22[j])
            m = kinds[i]
            extra = m.token_steps(both) if m else _unknown_token_steps(p, curve(i), both)
            out.append(int(hop_steps[i]) + extra)
        steps = tuple(out)
    hops = tuple(
        m.limit(steps[i]) if (m := kinds[i]) else _unknown_limit(p, curve(i), steps[i])
        for i in range(n)
    )
    accounts = 0
    if p._wallet is not None:
        base, have = p._wallet
        accounts = sum(1 for t in set(tokens) if t != base and t not in have)
    estimate = p._base_units + sum(hops) + p._per_account * accounts
    limit = min(p._override or estimate, p._max_limit)
    return (hops, steps, accounts), limit


def score_at(p: CyclePricer, opp: Any, limit: int) -> Score:
    """``opp``'s score at ``limit`` and its base's price of a lamport in ``p``."""
    price = p._prices.get(opp.base_mint)
    if price is None:
        fees = replace(
            p._fees,
            cu_limit=limit,
            base_per_lamport_num=1,
            base_per_lamport_den=1,
            base_rate_missing=True,
        )
    else:
        fees = replace(
            p._fees,
            cu_limit=limit,
            base_per_lamport_num=price[0],
            base_per_lamport_den=price[1],
            base_rate_missing=False,
        )
    return score(opp, fees, p._policy)

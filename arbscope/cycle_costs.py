"""What a cycle's transaction costs: :class:`CycleCost` and the :class:`CostModel` that
prices it (the evaluator's part that budgets compute units and keeps the engine's
pricers told what the prices depend on).

The model reads what it prices with (the session's fees and policy, the compute-unit
override, the lamport's prices, the wallet, the pools' programs, the graph) from the
:class:`Pricing` it was given, the evaluator whose attributes the session sets; it keeps
only its memos and the pricers.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from engine_rs.records import FeeContext, Opportunity, ScorePolicy
from feeds.wire.instructions import MAX_COMPUTE_UNIT_LIMIT, SPL_TOKEN

from .execution.compute import (
    CU_ATA,
    CU_BASE,
    TOKEN_STEP_KINDS,
    CuBudget,
    cu_models,
    cycle_budget,
    cycle_steps,
)
from .solprice import LamportPrice, LamportPrices

WalletView = tuple[bool, str, dict[str, bool]]  # armed, base, {mint: its account exists}
# pool programs whose swap takes steps for a Token-2022 mint (None: a program not known),
# the compute model's own list (``execution.compute``'s token rules)
_TOKEN_KINDS: frozenset[str | None] = frozenset({*TOKEN_STEP_KINDS, None})
_MEMO = 4_096  # entries a memo of this module holds before it is cleared


@dataclass(frozen=True, slots=True)
class CycleCost:
    """What landing a cycle's transaction costs, as the scorer priced it: ``fees`` the
    fee context it was scored with (its own compute-unit limit, its base token's price of
    a lamport), ``budget`` that limit part by part, ``price`` the lamport's price in the
    base token (None: none known, and the score says ``no_sol_price``). Paper, live, the
    cycle detail and the journal read these, never a figure of their own."""

    fees: FeeContext
    budget: CuBudget
    price: LamportPrice | None


class Pricing(Protocol):
    """What a cycle is priced with (the evaluator's attributes, set by the session)."""

    fees: FeeContext
    policy: ScorePolicy
    cu_override: int | None
    lamport_prices: LamportPrices
    wallet: WalletView
    pool_kinds: dict[str, str]
    graph: Any


def token_programs(graph: Any, tokens: Sequence[str]) -> list[str]:
    """Each token's program: Token-2022 for a mint the feed follows as such (the graph
    was told it), SPL Token's otherwise."""
    return [graph.mint_program(t) or SPL_TOKEN for t in tokens]


class CostModel:
    """The compute-unit budget and the :class:`CycleCost` of a cycle, memoized, and the
    engine's pricer of each backend (``score_touching``), told what the prices depend on
    when it changes (:meth:`sync`)."""

    def __init__(self, pricing: Pricing) -> None:
        self.pricing = pricing
        # what a cycle's transaction costs, by (its budget, its base's price): the same
        # CycleCost object while the session's fees are the same object (``cost``)
        self._cost_memo: dict[tuple[CuBudget, LamportPrice | None], CycleCost] = {}
        self._cost_fees: FeeContext | None = None
        self._budgets: dict[tuple[Any, ...], CuBudget] = {}
        # the engine's pricer of each backend, and what was told last
        self._pricers: dict[str, Any] = {}
        self._told: tuple[object, ...] = ()
        self._kinds_told: dict[str, str] = {}
        # a scored cycle's cost by (base, hop limits, steps, accounts), while the fees,
        # the prices and the override are the ones told
        self._scored_memo: dict[tuple[Any, ...], CycleCost] = {}
        self._hop_budgets: dict[tuple[Any, ...], CuBudget] = {}

    def budget(self, o: Opportunity) -> CuBudget:
        """The compute units ``o``'s transaction requests (``execution.compute``): its
        pools' programs, each hop at the steps its quote crosses at the cycle's size
        (``Opportunity.hop_steps`` and the mints' token programs: :meth:`steps`), the
        wallet's token accounts it would create (known once live is armed: what the
        executor has seen of the wallet), ``fees.cu_limit`` over all."""
        p = self.pricing
        kinds = tuple(map(p.pool_kinds.get, o.pools))  # (each getter of ``o`` a new list)
        armed, base, have = p.wallet
        accounts = sum(1 for t in set(o.tokens) if t != base and not have.get(t)) if armed else 0
        steps = self.steps(o, kinds)
        key = (kinds, tuple(o.kinds), accounts, p.cu_override, steps)
        b = self._budgets.get(key)
        if b is None:
            if len(self._budgets) > _MEMO:
                self._budgets.clear()
            b = self._budgets[key] = cycle_budget(kinds, o.kinds, accounts, p.cu_override, steps)
        return b

    def steps(self, o: Opportunity, kinds: Sequence[str | None]) -> tuple[int, ...] | None:
        """Each hop's steps in its venue's compute-unit model at ``o``'s size: what the
        engine's sizing counted for its curve plus its mints' Token-2022 steps (the
        graph's ``mint_program``: what the live executor counts too); None for a cycle
        with no size (its hops at their venues' most)."""
        hop_steps = o.hop_steps  # (read once: each read of ``o``'s is a new list)
        if o.amount_in <= 0 or len(hop_steps) != len(kinds):
            return None
        graph = self.pricing.graph
        programs = token_programs(graph, o.tokens) if _TOKEN_KINDS.intersection(kinds) else []
        if not programs:
            return tuple(int(s) for s in hop_steps)
        return cycle_steps(kinds, o.kinds, hop_steps, programs)

    def cost(self, o: Opportunity) -> CycleCost:
        """What ``o``'s transaction costs now: the session's fees with its own limit and
        its base token's price of a lamport (none known: the conversion is missing).
        Memoized by (budget, price) while ``fees`` is the same object."""
        return self.cost_for(self.budget(o), self.pricing.lamport_prices.get(o.base_mint))

    def cost_for(self, budget: CuBudget, price: LamportPrice | None) -> CycleCost:
        """:meth:`cost` of a cycle of ``budget`` through a base of ``price``."""
        fees = self.pricing.fees
        if self._cost_fees is not fees:
            self._cost_memo.clear()
            self._cost_fees = fees
        key = (budget, price)
        c = self._cost_memo.get(key)
        if c is not None:
            return c
        if price is None:
            priced = replace(
                fees,
                cu_limit=budget.limit,
                base_per_lamport_num=1,
                base_per_lamport_den=1,
                base_rate_missing=True,
            )
        else:
            priced = replace(
                fees,
                cu_limit=budget.limit,
                base_per_lamport_num=price.num,
                base_per_lamport_den=price.den,
                base_rate_missing=False,
            )
        if len(self._cost_memo) > _MEMO:
            self._cost_memo.clear()
        c = self._cost_memo[key] = CycleCost(priced, budget, price)
        return c

    def pricer(self, m: types.ModuleType) -> Any:
        """Backend ``m``'s ``CyclePricer``, made on first use and told what was told."""
        p = self._pricers.get(m.BACKEND)
        if p is None:
            p = m.CyclePricer(cu_models(), CU_BASE, CU_ATA, MAX_COMPUTE_UNIT_LIMIT)
            self._tell(p, fees=True, prices=True, wallet=True)
            p.set_pool_kinds(self._kinds_told, replace=True)
            self._pricers[m.BACKEND] = p
        return p

    def sync(self) -> None:
        """Tell the pricers what changed since they were told: the fees, the policy or
        the override (the session replaces ``fees`` on a new fee estimate), the lamport's
        prices (``refresh_prices``), the wallet (``set_wallet``), the pools' programs (a
        pool's never changes: told as pools are added)."""
        s = self.pricing
        lp, told = s.lamport_prices, self._told
        kinds = s.pool_kinds
        if (
            told
            and told[0] is s.fees
            and told[1] is s.policy
            and told[2] == s.cu_override
            and told[3] == lp.version
            and told[4] is s.wallet
            and len(kinds) == len(self._kinds_told)
        ):
            return
        fees = not told or told[0] is not s.fees or told[1] is not s.policy
        fees = fees or told[2] != s.cu_override
        prices = not told or told[3] != lp.version
        wallet = not told or told[4] is not s.wallet
        self._told = (s.fees, s.policy, s.cu_override, lp.version, s.wallet)
        if fees or prices:
            self._scored_memo.clear()
        if len(kinds) != len(self._kinds_told):
            was = self._kinds_told
            replace_all = len(kinds) < len(was)
            new = (
                dict(kinds) if replace_all else {p: k for p, k in kinds.items() if was.get(p) != k}
            )
            self._kinds_told = dict(kinds) if replace_all else {**was, **new}
            for p in self._pricers.values():
                p.set_pool_kinds(new, replace=replace_all)
        for p in self._pricers.values():
            self._tell(p, fees=fees, prices=prices, wallet=wallet)

    def _tell(self, p: Any, *, fees: bool, prices: bool, wallet: bool) -> None:
        """Tell pricer ``p`` the fees, the prices or the wallet as they are now."""
        s = self.pricing
        if fees:
            p.set_fees(s.fees, s.policy, s.cu_override)
        if prices:
            lp = s.lamport_prices
            told: dict[str, tuple[int, int] | None] = {
                b: None if v is None else (v.num, v.den) for b, v in lp.prices.items()
            }
            told[lp.sol] = (1, 1)  # (``LamportPrices.get``'s own for SOL)
            p.set_prices(told)
        if wallet:
            armed, base, have = s.wallet
            p.set_wallet(armed, base, [m for m, yes in have.items() if yes])

    def scored(
        self, base: str, hops: tuple[int, ...], steps: tuple[int | None, ...], accounts: int
    ) -> CycleCost:
        """The :class:`CycleCost` of a cycle the engine priced (``score_touching``):
        :meth:`cost`'s, from the engine's parts of its budget."""
        key = (base, hops, steps, accounts)
        c = self._scored_memo.get(key)
        if c is None:
            override = self.pricing.cu_override
            bkey = (hops, steps, accounts, override)
            budget = self._hop_budgets.get(bkey)
            if budget is None:
                if len(self._hop_budgets) > _MEMO:
                    self._hop_budgets.clear()
                budget = self._hop_budgets[bkey] = CuBudget(
                    hops, accounts, override=override, steps=steps
                )
            if len(self._scored_memo) > _MEMO:
                self._scored_memo.clear()
            price = self.pricing.lamport_prices.get(base)
            c = self._scored_memo[key] = self.cost_for(budget, price)
        return c

"""Optimal input for a cycle through the real curves (twin of ``crates/core/src/sizing.rs``).

A leg is any venue's hop (:class:`Leg`). Constant-product chains use the closed form of
their composed Möbius map ``f(x) = A·x / (B + C·x)``: ``x* = (√(A·B) − B) / C``, then the
best exact integer in ``⌊x*⌋ − 1 ..= ⌊x*⌋ + 1``. Chains with a CLMM leg double
``x = 2**k`` until profit falls past its peak, then search ``[2**(k−1), 2**(k+1)]`` by
the graph's sizing rule (:data:`SIZINGS`): ``"golden"`` (the default), golden-section
search stopped once the bracket is within ``lo >> GOLDEN_TOLERANCE_SHIFT``; ``"ternary"``
(sessions recorded before it), integer ternary search to the exact integer. Same f64 and
integer operations and tie rule (smaller input) as Rust, so both pick the same integer.

Every hop floors its output, so the chosen profit is within the rounding loss (under ~2
units of each intermediate token, valued downstream) of the true integer optimum (golden's:
of its bracket's best, itself within ``lo >> 20`` units of the optimum).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import InvalidInputError, TicksMissingError

U64_MAX = (1 << 64) - 1
_TWO_64 = 18_446_744_073_709_551_616.0
# the sizing rules, by name; a new graph's first ("golden"; Rust's ``Sizing::ALL`` has
# them in the other order: the names are what counts)
SIZINGS = ("golden", "ternary")
GOLDEN_TOLERANCE_SHIFT = 20  # golden stops once its bracket is within lo >> this


def check_sizing(rule: str) -> None:
    """InvalidInputError unless ``rule`` names a sizing rule (:data:`SIZINGS`)."""
    if rule not in SIZINGS:
        raise InvalidInputError(f"sizing: '{rule}' is not one of {', '.join(sorted(SIZINGS))}")


class Leg(Protocol):
    """One hop of a cycle, oriented in the direction of travel: what a venue's ``leg``
    returns (a constant-product hop, ``amm.CpmmLeg``; a Whirlpool hop,
    ``venues.exact.ExactLeg``)."""

    def spot_rate(self) -> float:
        """Marginal output per input after the fee, at zero size."""

    def amount_out(self, amount: int) -> int | None:
        """Exact output for ``amount`` in (0 for 0); None when it cannot fill;
        TicksMissingError when it needs ticks the pool's state does not hold."""

    def amount_steps(self, amount: int) -> tuple[int, int] | None:
        """:meth:`amount_out` with the steps the pool's venue counts for the swap in its
        compute-unit model (twin of Rust ``Venue::quote_steps``)."""

    def constant_product(self) -> tuple[int, int, int, int] | None:
        """``(reserve_in, reserve_out, fee_num, fee_den)`` of a constant-product hop."""


@dataclass(frozen=True, slots=True)
class Sized:
    """``hop_amounts[i]`` enters hop ``i``; the last entry is the output; ``hop_steps[i]``
    the steps hop ``i`` crosses at that size (``Leg.amount_steps``).
    ``ticks_missing``: some size the search tried needed ticks a Whirlpool hop does not
    hold, so the best size may lie where nothing is known (the caller says so)."""

    amount_in: int
    amount_out: int
    hop_amounts: list[int]
    ticks_missing: bool = False
    hop_steps: list[int] = field(default_factory=list)


def _zero(hops: int, ticks_missing: bool = False) -> Sized:
    return Sized(0, 0, [0] * (hops + 1), ticks_missing, [0] * hops)


def spot_rate(legs: Sequence[Leg]) -> float:
    """Product of the legs' spot rates, multiplied in path order."""
    acc = 1.0
    for leg in legs:
        acc = acc * leg.spot_rate()
    return acc


def simulate(legs: Sequence[Leg], amount_in: int) -> list[int] | None:
    """Amounts through every hop for ``amount_in``; None if a hop cannot fill
    (TicksMissingError when one needs ticks its state does not hold)."""
    amounts = [amount_in]
    a: int | None = amount_in
    for leg in legs:
        assert a is not None
        a = leg.amount_out(a)
        if a is None:
            return None
        amounts.append(a)
    return amounts


def simulate_steps(legs: Sequence[Leg], amount_in: int) -> tuple[list[int], list[int]] | None:
    """:func:`simulate` with the steps of every hop (``Leg.amount_steps``): ``(amounts,
    steps)``; None if a hop cannot fill (TicksMissingError as :func:`simulate`)."""
    amounts = [amount_in]
    steps: list[int] = []
    a = amount_in
    for leg in legs:
        r = (0, 0) if a == 0 else leg.amount_steps(a)
        if r is None:
            return None
        a = r[0]
        amounts.append(a)
        steps.append(r[1])
    return amounts, steps


def _profit(legs: Sequence[Leg], x: int, miss: list[bool]) -> int | None:
    """Exact profit; None when infeasible, noting in ``miss`` a size that needed ticks
    not held."""
    a: int | None = x
    for leg in legs:
        try:
            a = leg.amount_out(a)  # type: ignore[arg-type]
        except TicksMissingError:
            miss[0] = True
            return None
        if a is None:
            return None
    assert a is not None
    return a - x


def _better(candidate: int | None, best: int | None) -> bool:
    if candidate is None:
        return False
    return best is None or candidate > best


def optimal_input(legs: Sequence[Leg], rule: str = "golden") -> Sized:
    """The profit-maximising input by the sizing ``rule`` (:data:`SIZINGS`; 0 when nothing
    is profitable, e.g. spot product <= 1)."""
    check_sizing(rule)
    hops = len(legs)
    if hops == 0 or not (spot_rate(legs) > 1.0):
        return _zero(hops)
    curves = [leg.constant_product() for leg in legs]
    miss = [False]
    if all(c is not None for c in curves):
        best = _closed_form(legs, curves, miss)  # type: ignore[arg-type]
    else:
        best = _search(legs, rule == "golden", miss)
    if best is None:
        return _zero(hops, miss[0])
    # the chosen size walked once more, its steps counted (the search's walks count none)
    try:
        walked = simulate_steps(legs, best)
    except TicksMissingError:
        return _zero(hops, True)
    if walked is None or walked[0][hops] <= best:
        return _zero(hops, miss[0])
    amounts, steps = walked
    return Sized(best, amounts[hops], amounts, miss[0], steps)


def _closed_form(
    legs: Sequence[Leg], curves: Sequence[tuple[int, int, int, int]], miss: list[bool]
) -> int | None:
    a, b, c = 1.0, 1.0, 0.0
    for reserve_in, reserve_out, fee_num, fee_den in curves:
        gamma = float(fee_den - fee_num) / float(fee_den)
        a2 = gamma * float(reserve_out)
        b2 = float(reserve_in)
        c2 = gamma
        c = b2 * c + c2 * a
        a = a * a2
        b = b * b2
    x = (math.sqrt(a * b) - b) / c
    if not math.isfinite(x) or x < 1.0:
        return _best_of(legs, 1, 2, miss)
    x0 = U64_MAX if x >= _TWO_64 else math.floor(x)
    return _best_of(legs, max(x0 - 1, 1), min(x0 + 1, U64_MAX), miss)


def _best_of(legs: Sequence[Leg], lo: int, hi: int, miss: list[bool]) -> int | None:
    best_x: int | None = None
    best_p = 0
    for x in range(lo, hi + 1):
        p = _profit(legs, x, miss)
        if p is not None and p > 0 and (best_x is None or p > best_p):
            best_x, best_p = x, p
    return best_x


def _search(legs: Sequence[Leg], golden: bool, miss: list[bool]) -> int | None:
    best_k: int | None = None
    best_p: int | None = None
    for k in range(64):
        p = _profit(legs, 1 << k, miss)
        if p is None:
            # too small to pay anything (before a profitable size), or past the liquidity
            if best_p is not None:
                break
            continue
        if p > 0 and _better(p, best_p):
            best_k, best_p = k, p
        elif best_p is not None and p < best_p:
            break  # past the peak
    if best_k is None:
        return None
    lo = 1 if best_k == 0 else 1 << (best_k - 1)
    hi = U64_MAX if best_k >= 63 else 1 << (best_k + 1)
    if golden:
        return _golden(legs, lo, hi, miss)
    while hi - lo > 2:
        third = (hi - lo) // 3
        m1, m2 = lo + third, hi - third
        if _better(_profit(legs, m2, miss), _profit(legs, m1, miss)):
            lo = m1 + 1
        else:
            hi = m2
    return _best_of(legs, lo, hi, miss)


def _golden_points(lo: int, hi: int) -> tuple[int, int]:
    """The two points of a golden-section bracket, 0.382 of its width in from each end."""
    gap = (hi - lo) * 382 // 1000
    return lo + gap, hi - gap


def _golden(legs: Sequence[Leg], lo: int, hi: int, miss: list[bool]) -> int | None:
    """Golden-section search for the best input in ``lo..hi`` (Rust's ``golden``): keep
    the better point's side (ties: the lower one), walk the kept point's mirror; place
    both again when the mirror falls on or past it; stop within the tolerance (the
    better point, if it pays) or once 4 wide (every input walked)."""
    if hi - lo <= 4:
        return _best_of(legs, lo, hi, miss)
    m1, m2 = _golden_points(lo, hi)
    p1, p2 = _profit(legs, m1, miss), _profit(legs, m2, miss)
    while True:
        if hi - lo <= 4:
            return _best_of(legs, lo, hi, miss)
        if hi - lo <= lo >> GOLDEN_TOLERANCE_SHIFT:
            x, p = (m2, p2) if _better(p2, p1) else (m1, p1)
            return x if p is not None and p > 0 else None
        if _better(p2, p1):
            lo, m1, p1 = m1, m2, p2
            m2 = lo + (hi - m1)
            if m1 < m2 < hi:
                p2 = _profit(legs, m2, miss)
                continue
        else:
            hi, m2, p2 = m2, m1, p1
            m1 = lo + (hi - m2)
            if lo < m1 < m2:
                p1 = _profit(legs, m1, miss)
                continue
        if hi - lo > 4:
            m1, m2 = _golden_points(lo, hi)
            p1, p2 = _profit(legs, m1, miss), _profit(legs, m2, miss)

"""The quote face of a venue whose quotes are exact swaps (the CLMM family: Orca
Whirlpool, Raydium CLMM, Meteora DLMM; the order books), written once: ``quote``,
``quote_checked``, ``quote_steps``, ``spot_rate`` and the sizing ``leg`` over the venue's
own whole swap, its step count and its spot rate.

A venue module binds them to its names (``quote_checked = EXACT.quote_checked``...), so
the :class:`~.base.Venue` interface and the module's API are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from ...errors import TicksMissingError

S = TypeVar("S")
S_contra = TypeVar("S_contra", contravariant=True)
R = TypeVar("R", bound="Filled")


class Filled(Protocol):
    """A swap's result: what it paid out."""

    @property
    def amount_out(self) -> int: ...


class Quotes(Protocol[S_contra]):
    """What a sizing leg asks of its venue about a state."""

    def spot_rate(self, state: S_contra, a_to_b: bool) -> float: ...

    def quote_checked(self, state: S_contra, amount: int, a_to_b: bool) -> int | None: ...

    def quote_steps(self, state: S_contra, amount: int, a_to_b: bool) -> tuple[int, int] | None: ...


@dataclass(frozen=True, slots=True)
class ExactLeg(Generic[S]):
    """A hop of a cycle sized by exact swaps (no constant product): ``a_to_b`` says
    which way the pool is traversed; ``quotes`` is its venue's face."""

    pool: S
    a_to_b: bool
    quotes: Quotes[S]

    def spot_rate(self) -> float:
        """Marginal output per input after the fee, at zero size."""
        return self.quotes.spot_rate(self.pool, self.a_to_b)

    def amount_out(self, amount: int) -> int | None:
        """Exact output for ``amount`` in; None when the swap cannot be done in full;
        TicksMissingError when it needs what the state does not hold."""
        return self.quotes.quote_checked(self.pool, amount, self.a_to_b)

    def amount_steps(self, amount: int) -> tuple[int, int] | None:
        """:meth:`amount_out` with the swap's steps in the venue's compute-unit model."""
        return self.quotes.quote_steps(self.pool, amount, self.a_to_b)

    def constant_product(self) -> None:
        """Not a constant product: sizing searches over exact swaps."""
        return None


class ExactSwaps(Generic[S, R]):
    """The quotes of a venue over its whole swap: ``whole(state, amount > 0, a_to_b)``
    is the swap done in full (None: it cannot be; TicksMissingError: it needs what the
    state does not hold), ``steps(state, result, a_to_b)`` the steps it took in the
    venue's compute-unit model, ``spot(state, a_to_b)`` the spot rate."""

    __slots__ = ("_spot", "_steps", "_whole")

    def __init__(
        self,
        whole: Callable[[S, int, bool], R | None],
        steps: Callable[[S, R, bool], int],
        spot: Callable[[S, bool], float],
    ) -> None:
        self._whole = whole
        self._steps = steps
        self._spot = spot

    def quote_checked(self, state: S, amount: int, a_to_b: bool) -> int | None:
        """Exact output; None when the swap cannot be done in full; TicksMissingError
        when it needs what the state does not hold. 0 for 0."""
        if amount == 0:
            return 0
        r = self._whole(state, amount, a_to_b)
        return None if r is None else r.amount_out

    def quote_steps(self, state: S, amount: int, a_to_b: bool) -> tuple[int, int] | None:
        """:meth:`quote_checked` with the swap's steps; 0 crosses nothing."""
        if amount == 0:
            return 0, 0
        r = self._whole(state, amount, a_to_b)
        return None if r is None else (r.amount_out, self._steps(state, r, a_to_b))

    def quote(self, state: S, amount: int, a_to_b: bool) -> int | None:
        """:meth:`quote_checked`; None for both of its refusals."""
        try:
            return self.quote_checked(state, amount, a_to_b)
        except TicksMissingError:
            return None

    def spot_rate(self, state: S, a_to_b: bool) -> float:
        return self._spot(state, a_to_b)

    def leg(self, state: S, a_to_b: bool) -> ExactLeg[S]:
        return ExactLeg(state, a_to_b, self)

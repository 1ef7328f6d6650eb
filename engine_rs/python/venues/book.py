"""What the order-book venues share (OpenBook v2 and Manifest): the L2 ladder's levels
and the ladder itself, and the venue's face over a book state (its quotes, spot rate,
sizing leg and ladder), written once over :class:`BookPool`.

A book venue's state is a :class:`BookPool`: its :meth:`BookPool.checked_steps` raises
TicksMissingError when the book cannot be quoted honestly without something the graph
does not hold (OpenBook's oracle price for pegged orders, a Manifest global's deposits);
:func:`quote` turns that into no quote, :func:`quote_checked` lets it through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple, Protocol

from ...records import BookLadder, BookLevel
from .exact import ExactSwaps


class BookPool(Protocol):
    """A book venue's quote state."""

    def spot_rate(self, a_to_b: bool) -> float:
        """Output per input of the best order at zero size (``f64::MIN_POSITIVE``: none)."""
        ...

    def checked_steps(self, amount: int, a_to_b: bool) -> tuple[int, int] | None:
        """The output of a complete take of ``amount`` and the maker orders it reached
        (None: no quote; TicksMissingError: something the book needs is not held)."""
        ...

    def ladder(self, depth: int, market: str, mints: tuple[str, str], slot: int) -> BookLadder:
        """``depth`` levels a side, with the pool's id, mints and slot."""
        ...


def pow10(n: int) -> float:
    """10^n as a float the way the Rust module computes it (exact up to 10^22, then
    multiplied up by 10.0)."""
    if n <= 22:
        return float(10**n)
    p = 1e22
    for _ in range(22, n):
        p *= 10.0
    return p


def levels(
    orders: Iterable[tuple[int, int]],
    depth: int,
    level: Callable[[int, int, int], BookLevel],
) -> list[BookLevel]:
    """Up to ``depth`` levels of one side from its live orders as (price, size), in book
    order: orders at one price summed as they come; ``level(price, size, orders)``
    makes each level."""
    acc: list[list[int]] = []  # [price, size, orders]
    for price, size in orders:
        if acc and acc[-1][0] == price:
            acc[-1][1] += size
            acc[-1][2] += 1
            continue
        if len(acc) == depth:
            break
        acc.append([price, size, 1])
    return [level(p, s, n) for p, s, n in acc]


def ladder(
    bids: list[BookLevel],
    asks: list[BookLevel],
    market: str = "",
    mints: tuple[str, str] = ("", ""),
    slot: int = 0,
) -> BookLadder:
    """The ladder of a book's two sides' levels: best bid and ask, spread and mid."""
    best_bid = bids[0].price if bids else None
    best_ask = asks[0].price if asks else None
    spread = mid = None
    if best_bid is not None and best_ask is not None:
        spread, mid = best_ask - best_bid, (best_ask + best_bid) / 2.0
    return BookLadder(
        market, mints[0], mints[1], tuple(bids), tuple(asks), best_bid, best_ask, spread, mid, slot
    )


# ------------------------------------------------------------------ the venue's face
class Take(NamedTuple):
    """A complete take: its output and the maker orders it reached."""

    amount_out: int
    steps: int


def _take(state: BookPool, amount: int, a_to_b: bool) -> Take | None:
    got = state.checked_steps(amount, a_to_b)
    return None if got is None else Take(*got)


def _steps(state: BookPool, take: Take, a_to_b: bool) -> int:
    return take.steps


def _spot(state: BookPool, a_to_b: bool) -> float:
    return state.spot_rate(a_to_b)


# the quotes of a book: none where it cannot be quoted honestly (quote), or
# TicksMissingError (quote_checked, quote_steps)
BOOK: ExactSwaps[BookPool, Take] = ExactSwaps(_take, _steps, _spot)
quote = BOOK.quote
quote_checked = BOOK.quote_checked
quote_steps = BOOK.quote_steps
spot_rate = BOOK.spot_rate
leg = BOOK.leg


def ladder_of(
    state: BookPool, depth: int, market: str, mints: tuple[str, str], slot: int
) -> BookLadder:
    """The graph's ladder of a book pool (the Rust ``Venue::ladder``): ``depth`` levels
    a side, with the pool's id, mints and slot."""
    return state.ladder(depth, market, mints, slot)

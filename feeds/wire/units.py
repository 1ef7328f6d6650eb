"""Tokens by name, amounts in units: the one formatting helper every screen, export and
log line uses (no I/O).

A :class:`TokenBook` maps mints to :class:`TokenInfo` (symbol, name, decimals, where the
facts came from); a mint it does not hold is shown by a short prefix of its address, its
amounts in raw base units. Amounts are scaled with :mod:`decimal` from the integer, so a
u64 is never rounded through a float: ``format_amount(1_234_500_000, 9, "SOL")`` is
``1.2345 SOL``. USD values are estimates from the session's mid prices
(:meth:`TokenBook.with_usd`), shown only where a path of pairs to a USD stablecoin exists.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from .tokens import BY_MINT, BY_SYMBOL, SPL_TOKEN

DIGITS = 6  # significant digits of a shown amount (the integer part is never cut)
PREFIX = 4  # characters of an unknown mint's address shown in its place
MAX_SYMBOL = 10  # Metaplex's MAX_SYMBOL_LENGTH: a longer one is cut


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What the dashboard shows of a token. ``decimals`` None: not known (raw units)."""

    mint: str
    symbol: str
    name: str = ""
    decimals: int | None = None
    program: str = SPL_TOKEN
    usd_stable: bool = False
    source: str = "table"  # chain (mint + metadata read) | table (WELL_KNOWN) | prefix


def short(mint: str) -> str:
    """An unknown token's stand-in: the first characters of its address."""
    return mint[:PREFIX] + "…"


def clean_symbol(text: str) -> str:
    """A symbol from metadata made safe to show: printable, no spaces, at most 10."""
    kept = "".join(c for c in text.strip() if not unicodedata.category(c).startswith(("C", "Z")))
    return kept[:MAX_SYMBOL]


def format_amount(raw: int, decimals: int | None, symbol: str = "", digits: int = DIGITS) -> str:
    """``raw`` base units as units of a token with ``decimals``: ``digits`` significant
    digits (the integer part always whole, never more places than ``decimals``), grouped
    thousands, trailing zeros dropped, then the symbol. Unknown decimals: the raw amount
    with ``raw`` after it."""
    if decimals is None:
        text = f"{raw:,} raw"
        return f"{text} {symbol}" if symbol else text
    with localcontext() as ctx:
        ctx.prec = 60  # a u128 and its places, exactly
        d = Decimal(raw).scaleb(-decimals)
        places = 0
        if raw:
            places = max(0, min(decimals, digits - 1 - d.adjusted()))
        q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
        text = f"{q:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return f"{text} {symbol}" if symbol else text


def format_usd(value: float) -> str:
    """A USD estimate: cents, grouped; sub-cent values with 2 significant digits."""
    if value != value or value in (float("inf"), float("-inf")):
        return "—"
    if value and abs(value) < 0.01:
        return f"{'-' if value < 0 else ''}${abs(value):.2g}"
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


@dataclass(frozen=True, slots=True)
class TokenBook:
    """Mints to names and decimals (immutable: a session swaps in a new one when its
    registry learns more), with USD per base unit where a stablecoin path exists."""

    tokens: Mapping[str, TokenInfo] = field(default_factory=dict)
    usd_per_raw: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, infos: Iterable[TokenInfo]) -> TokenBook:
        return cls({t.mint: t for t in infos})

    def info(self, mint: str) -> TokenInfo:
        """What is known of ``mint``: this book's entry, the well-known table, a prefix."""
        t = self.tokens.get(mint)
        if t is not None:
            return t
        k = BY_MINT.get(mint)
        if k is not None:
            return TokenInfo(mint, k.symbol, k.name, k.decimals, k.program, k.usd_stable)
        return TokenInfo(mint, short(mint), source="prefix")

    def symbol(self, mint: str) -> str:
        """The symbol to show: a token whose symbol is that of a different well-known
        token (``USDC`` on another mint) carries its address prefix, so it is never
        taken for the real one."""
        t = self.info(mint)
        known = BY_SYMBOL.get(t.symbol.upper())
        if t.source != "prefix" and known is not None and known.mint != mint:
            return f"{t.symbol}({mint[:PREFIX]})"
        return t.symbol or short(mint)

    def decimals(self, mint: str) -> int | None:
        return self.info(mint).decimals

    def amount(self, mint: str, raw: int, symbol: bool = True) -> str:
        """``raw`` base units of ``mint`` in units: ``1.2345 SOL``."""
        return format_amount(raw, self.decimals(mint), self.symbol(mint) if symbol else "")

    def path(self, mints: Sequence[str]) -> str:
        """``SOL→USDC→JUP→SOL``."""
        return "→".join(self.symbol(m) for m in mints)

    def usd(self, mint: str, raw: int) -> float | None:
        """``raw`` base units of ``mint`` in USD, when a price path to a stablecoin exists."""
        rate = self.usd_per_raw.get(mint)
        return None if rate is None else raw * rate

    def usd_text(self, mint: str, raw: int) -> str:
        """:meth:`usd` formatted, or "" where there is no USD path."""
        v = self.usd(mint, raw)
        return "" if v is None else format_usd(v)

    def with_usd(self, mids: Mapping[tuple[str, str], float]) -> TokenBook:
        """This book with USD per base unit from ``mids`` (pair (a, b) -> raw b per raw
        a): 1 unit of a stablecoin is 1 USD; every other token reached through pairs
        from a stablecoin of known decimals takes the product of the mids on its
        shortest path. No path, or unknown decimals on the way: no USD. (A screen that
        asks again and again keeps a :class:`UsdRates`: the same book, the paths found
        only when the pairs change.)"""
        seeds = self._stable_rates(mids)
        return TokenBook(self.tokens, _rates(seeds, _paths(seeds, mids), mids))

    def _stable_rates(self, mids: Mapping[tuple[str, str], float]) -> dict[str, float]:
        """USD per base unit of each stablecoin of known decimals among ``mids``' tokens
        and this book's."""
        rates: dict[str, float] = {}
        for mint in {*(m for pair in mids for m in pair), *self.tokens}:
            t = self.info(mint)
            if t.usd_stable and t.decimals is not None:
                rates[mint] = 10.0**-t.decimals
        return rates


def _usable(mid: float) -> bool:
    return mid > 0 and mid == mid and mid != float("inf")


# one step of a path to a stablecoin: (token reached, token it is reached from, the
# pair's key in the mids, whether 1 raw of the second is the pair's mid raw of the first)
_Step = tuple[str, str, tuple[str, str], bool]


def _paths(seeds: Mapping[str, float], mids: Mapping[tuple[str, str], float]) -> list[_Step]:
    """Every token's shortest path from a stablecoin of ``seeds`` over the pairs of
    ``mids`` with a usable mid, as the steps that reach each token, in the order they
    are taken: breadth first (the fewest hops win), each round's tokens and each one's
    neighbours by mint (then by the step's rate, where two pairs join the same tokens)."""
    adj: dict[str, list[tuple[str, float, tuple[str, str], bool]]] = {}
    for (a, b), mid in mids.items():
        if _usable(mid):
            adj.setdefault(a, []).append((b, mid, (a, b), True))  # 1 raw a = mid raw b
            adj.setdefault(b, []).append((a, 1.0 / mid, (a, b), False))
    reached = set(seeds)
    steps: list[_Step] = []
    frontier = sorted(reached)
    while frontier:
        nxt: list[str] = []
        for m in frontier:
            for other, _x, key, forward in sorted(adj.get(m, []), key=lambda e: e[:2]):
                if other not in reached:
                    reached.add(other)
                    steps.append((other, m, key, forward))
                    nxt.append(other)
        frontier = sorted(nxt)
    return steps


def _rates(
    seeds: Mapping[str, float], steps: Sequence[_Step], mids: Mapping[tuple[str, str], float]
) -> dict[str, float]:
    """USD per base unit along ``steps`` from the stablecoins' ``seeds``, with the mids
    of now; none that is not above 0."""
    rates = dict(seeds)
    for other, m, key, forward in steps:
        mid = mids[key]
        rates[other] = rates[m] / (mid if forward else 1.0 / mid)  # 1 raw m = x raw other
    return {m: r for m, r in rates.items() if r > 0}


class UsdRates:
    """:meth:`TokenBook.with_usd` for a screen that asks on every frame: the paths to a
    stablecoin depend on which pairs have a usable mid and on the book's stablecoins,
    not on the mids' values, so they are found again only when those change (a new
    pair, a pair's mid no longer usable, a book that learned a token); otherwise the
    rates are one product per token along the paths kept. The same book as
    ``with_usd`` gives, to the bit. (Where two pairs join the same two tokens, which
    one a path takes can depend on their mids: found again each time then.)"""

    def __init__(self) -> None:
        self._tokens: Mapping[str, TokenInfo] | None = None
        self._pairs: tuple[tuple[str, str], ...] = ()
        self._usable: tuple[bool, ...] = ()
        self._seeds: dict[str, float] = {}
        self._steps: list[_Step] | None = None
        self.found = 0  # how many times the paths were found (the rest reused them)

    def book(self, names: TokenBook, mids: Mapping[tuple[str, str], float]) -> TokenBook:
        """``names.with_usd(mids)``."""
        pairs = tuple(mids)
        usable = tuple(_usable(mid) for mid in mids.values())
        if (
            self._steps is None
            or names.tokens is not self._tokens
            or pairs != self._pairs
            or usable != self._usable
        ):
            self._tokens, self._pairs, self._usable = names.tokens, pairs, usable
            self._seeds = names._stable_rates(mids)
            steps = _paths(self._seeds, mids)
            joined = {frozenset(p) for p in pairs}
            self._steps = steps if len(joined) == len(pairs) else None  # (see above)
            self.found += 1
        else:
            steps = self._steps
        return TokenBook(names.tokens, _rates(self._seeds, steps, mids))

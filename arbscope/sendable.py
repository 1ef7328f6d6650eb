"""Whether a cycle can be sent: :class:`TxFit` says why a cycle's hops would not fit a
transaction (nor a bundle of two), memoized by the cycle's shape, and which hops get
exactly their quote. The evaluator's part; paper and the screen ask it through
``Evaluator.sendable`` and ``Evaluator.exact_hops``.
"""

from __future__ import annotations

import itertools
from typing import Any

from engine_rs.errors import EngineError
from feeds import venues
from feeds.wire.txsize import (
    MAX_TX_ACCOUNT_LOCKS,
    PACKET_DATA_SIZE,
    swap_tx_accounts,
    swap_tx_size,
)

from .cycle_costs import Pricing, token_programs

# which cycles fit a transaction, by hops' kinds, which tokens repeat, tip and token
# programs (``TxFit.sendable``): a bound, not a working size — keyed by the mints, as
# it was first, the ~6,000-8,000 go cycles of a 3,000-pool market each asked every tick
# missed at 4,096 cleared whole; keyed by shape it holds far fewer
SENDABLE_MEMO = 32_768


def one_transaction(kinds: list[str], tokens: list[str], tip: bool, programs: list[str]) -> str:
    """Why one transaction of these hops would not fit ("" when it would): the
    accounts it names, then its bytes as is or through address lookup tables."""
    locks = swap_tx_accounts(kinds, tokens, tip, programs=programs)
    if locks > MAX_TX_ACCOUNT_LOCKS:
        return (
            f"one transaction would name {locks} accounts, over the "
            f"{MAX_TX_ACCOUNT_LOCKS} a transaction may lock"
        )
    if swap_tx_size(kinds, tokens, tip, programs=programs) <= PACKET_DATA_SIZE:
        return ""
    size = swap_tx_size(kinds, tokens, tip, tables=True, programs=programs)
    if size <= PACKET_DATA_SIZE:
        return ""
    return (
        f"one transaction would be {size:,} bytes even through address lookup "
        f"tables, over the {PACKET_DATA_SIZE:,}-byte limit"
    )


class TxFit:
    """Whether a cycle fits one transaction or a bundle of two (:meth:`sendable`), and
    which of its hops are exact (:meth:`exact_hops`), from the pools' programs, the
    session's tip and the mints' token programs (read from ``pricing``)."""

    def __init__(self, pricing: Pricing) -> None:
        self.pricing = pricing
        self.memo: dict[tuple[Any, ...], str] = {}

    def sendable(self, opp: Any) -> str:
        """ "" when the cycle fits in one transaction (the token accounts existing) as
        is, or as a v0 message through the wallet's address lookup tables holding the
        pools' accounts (what the live executor keeps), or else as two transactions of
        one Jito bundle (its hops cut in two, the tip in the second: what the live
        executor sends when one cannot hold it and block engines are configured); else
        why not; "" too when the pools' programs are unknown (the in-process market)."""
        s = self.pricing
        kinds = [s.pool_kinds.get(p) for p in opp.pools]
        if not kinds or None in kinds:
            return ""
        tip = bool(s.fees.tip_lamports)
        known = [k for k in kinds if k]
        tokens = list(opp.tokens)
        programs = self.programs(tokens)  # a Token-2022 pool's swap is its venue's v2
        # the answer depends on the tokens only through which of them repeat (the sizes
        # are counted on placeholder keys): the memo holds one answer per such shape
        first: dict[str, int] = {}
        pattern = tuple(first.setdefault(t, len(first)) for t in tokens)
        key = (tuple(known), pattern, tip, tuple(programs))
        memo = self.memo
        why = memo.get(key)
        if why is None:  # (asked of every order, and of the best cycles every screen)
            bound = SENDABLE_MEMO
            if len(memo) >= bound:  # the oldest quarter goes, not the whole
                for old in list(itertools.islice(memo, bound // 4)):
                    del memo[old]
            why = memo[key] = self.fits(known, tokens, tip, programs)
        return why

    @staticmethod
    def fits(known: list[str], tokens: list[str], tip: bool, programs: list[str]) -> str:
        """:meth:`sendable` of these hops, computed."""
        why = one_transaction(known, tokens, tip, programs)
        if not why:
            return ""
        n = len(known)
        for k in sorted(range(1, n), key=lambda k: (abs(2 * k - n), k)):
            if not one_transaction(known[:k], tokens[: k + 1], False, programs[: k + 1]) and not (
                one_transaction(known[k:], tokens[k:], tip, programs[k:])
            ):
                return ""  # a bundle of two
        return why + " (and no cut of its hops fits two)"

    def exact_hops(self, opp: Any) -> list[bool]:
        """Which hops of ``opp`` get exactly their quote or fail (``Venue.exact_buy``: an
        order book's buy of the market's base); all False where the programs are unknown."""
        s = self.pricing
        out = []
        for pool, tout in zip(opp.pools, opp.tokens[1:], strict=False):
            kind = s.pool_kinds.get(pool)
            exact = False
            if kind and venues.by_kind(kind).exact_buy:
                try:
                    exact = tout == s.graph.pool_rate(pool)[0]
                except EngineError:
                    exact = False
            out.append(exact)
        return out

    def programs(self, tokens: list[str]) -> list[str]:
        """Each token's program (:func:`~arbscope.cycle_costs.token_programs`)."""
        return token_programs(self.pricing.graph, tokens)

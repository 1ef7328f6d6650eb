"""The prop AMMs beside the public pools, per pair: their last realized price, the public
pools' mid against it, and how many slots the public pools took to follow.

``feeds.propamm.observe`` reads each transaction of a prop AMM's program (its swaps' prices
from the token balances, its oracle updates); :class:`PropAmmBook` keeps, per pair
``(base, quote)`` (``feeds.wire.tokens.pair_order``):

- the last swap: its prop AMM, its realized price (raw quote per raw base, as the Prices
  panel's mids), its slot, the public mid at that slot (the last mid the session saw at
  or before it), how many swaps and oracle updates were seen (an oracle update is
  counted for the pair of the market it names, once a swap told which pair that market
  trades);
- the spread: the prop's last price against the public mid now, in bps
  (``1e4 × (prop / mid − 1)``; positive: the prop AMM prices the base higher);
- the lead: a swap whose price is more than ``follow_bps`` from the public mid at its slot
  (the session's mid of that slot, once seen: the swap's slot's own trades in it) opens a
  lead at that slot; the public pools have followed at the first slot whose mid is
  within ``follow_bps`` of the prop's newest price, or on its other side (crossed), and the
  lag is that slot less the lead's first. A new swap on the same side while the lead is
  open moves its target, not its start; one back within ``follow_bps`` of the mid ends it:
  followed when the mid covered at least half of the lead's first gap (both move: the
  prop quotes on), else unfollowed (the prop came back, ``reverted``). ``waiting`` is the
  open lead's slots so far. The mids are the session's per slot
  (:meth:`PropAmmBook.follow`, each turn), kept for ``MID_SLOTS``, so a transaction
  fetched late is set against the mids of its own slot.

Everything it reads comes from the session's inputs (the transactions, journaled as
``TRANSACTION``, and the pools' states), so a replay shows the same. Like the Prices panel's
book, it is fed the mids only while a screen shows the session.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from feeds.propamm import PropTx

FOLLOW_BPS = 5.0  # within this many bps of the prop's price, the public mid has followed
MID_SLOTS = 512  # public mids kept per pair (slots)
CHART_POINTS = 120  # realized prices kept per pair for the chart (slots)
LAGS = 64  # follows kept per pair for the median
MARKETS = 4_096  # markets whose pair is remembered (oracle updates are counted by them)


@dataclass(frozen=True, slots=True)
class PropQuote:
    """One pair's prop AMM as the Prices panel shows it (see the module doc). Prices in
    raw units of the quote per raw unit of the base."""

    pair: tuple[str, str]
    program: str
    name: str
    price: float
    slot: int
    mid_at: float | None  # the public mid at the swap's slot (None: none seen by then)
    mid: float | None  # the public mid now
    spread_bps: float | None  # the prop's price against the public mid now
    lag: int | None  # the last lead's slots until the public pools followed
    lag_median: float | None  # over the last LAGS follows
    waiting: int | None  # the open lead's slots so far (None: none open)
    swaps: int
    oracle_updates: int
    oracle_slot: int | None  # the last oracle update's slot
    follows: int  # leads the public pools followed
    reverted: int  # leads that ended with the prop back at the mid


@dataclass(frozen=True, slots=True)
class PropSeries:
    """A pair's realized prop AMM prices for the chart, oldest first: the last one of each
    slot a swap landed in (at most ``CHART_POINTS``)."""

    slots: tuple[int, ...]
    price: tuple[float, ...]
    name: str


@dataclass
class _Lead:
    start: int  # the slot of the swap that opened it
    target: float  # the prop's newest price
    since: int  # the slot of that price (mids before it were judged against older ones)
    above: bool  # the public mid was above the prop's price when it opened
    gap: tuple[float, float] = (math.nan, math.nan)  # the mid and the prop price it opened at


@dataclass
class _Pair:
    program: str = ""
    name: str = ""
    price: float = math.nan
    slot: int = 0
    mid_at: float | None = None
    judge: int | None = None  # the newest swap's slot, until the mid of that slot is seen
    swaps: int = 0
    oracle_updates: int = 0
    oracle_slot: int | None = None
    mids: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=MID_SLOTS))
    lead: _Lead | None = None
    lags: deque[int] = field(default_factory=lambda: deque(maxlen=LAGS))
    follows: int = 0
    reverted: int = 0
    points: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=CHART_POINTS))
    series: PropSeries | None = None
    quote: PropQuote | None = None  # built when read, until it changes


class PropAmmBook:
    """The prop AMMs' last prices and the public pools' lag per pair (the module doc)."""

    def __init__(self, follow_bps: float = FOLLOW_BPS) -> None:
        if not (follow_bps > 0 and math.isfinite(follow_bps)):
            raise ValueError(f"follow_bps must be a positive number of bps, got {follow_bps!r}")
        self.follow_bps = follow_bps
        self.pairs: dict[tuple[str, str], _Pair] = {}
        self.market_pair: dict[str, tuple[str, str]] = {}  # a prop market -> its pair
        self.oracle_unplaced = 0  # oracle updates of markets no swap has placed yet
        self.failed = 0  # transactions of theirs that failed
        self.now: Mapping[tuple[str, str], float] = {}  # the public mids now

    def _within(self, mid: float, price: float) -> bool:
        return abs(mid / price - 1.0) * 1e4 <= self.follow_bps

    def add(self, obs: PropTx) -> bool:
        """A transaction's part on the prop AMMs; True when a pair changed."""
        if obs.failed:
            self.failed += 1
            return False
        changed = False
        for s in obs.swaps:
            if s.amount_in <= 0 or s.amount_out <= 0:
                continue
            key = s.pair
            p = self.pairs.setdefault(key, _Pair())
            if s.market is not None:
                self.market_pair[s.market] = key
                if len(self.market_pair) > MARKETS:
                    del self.market_pair[next(iter(self.market_pair))]
            p.swaps += 1
            if s.slot < p.slot:  # an older swap fetched late: counted, not the last
                changed = True
                p.quote = None
                continue
            price = s.price
            p.program, p.name, p.price, p.slot = s.program, s.name, price, s.slot
            p.mid_at, p.judge = None, s.slot
            if p.points and p.points[-1][0] == s.slot:
                p.points[-1] = (s.slot, price)
            else:
                p.points.append((s.slot, price))
            p.series = None
            if p.mids and p.mids[-1][0] >= s.slot:  # the mid of its slot is known: judged now
                self._judge(p)
            p.quote = None
            changed = True
        for o in obs.oracles:
            pairs = {self.market_pair[m] for m in o.markets if m in self.market_pair}
            if not pairs:
                self.oracle_unplaced += 1
                continue
            for key in pairs:
                p = self.pairs[key]
                p.oracle_updates += 1
                p.oracle_slot = max(p.oracle_slot or 0, o.slot)
                p.quote = None
                changed = True
        return changed

    def _judge(self, p: _Pair) -> None:
        """The newest swap against the public mid of its slot (the last one at or before
        it): its lead."""
        slot, p.judge = p.judge, None
        if slot is None:
            return
        p.mid_at = _mid_at(p.mids, slot)
        self._lead(p, slot, p.price)

    def _lead(self, p: _Pair, slot: int, price: float) -> None:
        """A new prop price at ``slot``: open, move or end the lead, then see whether the
        mids already seen since followed it."""
        mid = p.mid_at
        if mid is None:
            return
        lead = p.lead
        if self._within(mid, price):
            if lead is not None:  # the prop and the public mid met again
                p.lead = None
                mid0, price0 = lead.gap
                # whose move closed the gap: the public pools' when their mid covered at
                # least half of it (both move: the prop's own quotes are not still),
                # else the prop came back (reverted)
                if (mid - mid0) / (price0 - mid0) >= 0.5:
                    p.lags.append(slot - lead.start)
                    p.follows += 1
                else:
                    p.reverted += 1
            return
        above = mid > price
        if lead is None or lead.above != above:
            p.lead = _Lead(slot, price, slot, above, (mid, price))
        else:
            lead.target, lead.since = price, max(lead.since, slot)
        self._resolve(p)

    def _resolve(self, p: _Pair) -> None:
        """Whether a mid after the lead's newest target followed it (its first such slot)."""
        lead = p.lead
        if lead is None:
            return
        for slot, mid in p.mids:
            if slot <= lead.since:
                continue
            if self._within(mid, lead.target) or (mid > lead.target) != lead.above:
                p.lags.append(slot - lead.start)
                p.follows += 1
                p.lead = None
                p.quote = None
                return

    def follow(self, slot: int, mids: Mapping[tuple[str, str], float]) -> None:
        """The public mids at ``slot`` (each turn; the pairs with a prop AMM are kept)."""
        self.now = mids
        for key, p in self.pairs.items():
            mid = mids.get(key)
            if mid is None or not (mid > 0 and math.isfinite(mid)):
                continue
            if p.mids and p.mids[-1][0] >= slot:
                if p.mids[-1][0] == slot:
                    p.mids[-1] = (slot, mid)
                else:
                    continue
            else:
                p.mids.append((slot, mid))
            if p.lead is not None:  # the open lead against this mid first,
                self._resolve(p)
            if p.judge is not None and slot >= p.judge:  # then the newest swap's
                self._judge(p)
            p.quote = None

    def quotes(
        self, pairs: Iterable[tuple[str, str]] | None = None
    ) -> dict[tuple[str, str], PropQuote]:
        """Each pair's :class:`PropQuote` (of ``pairs``; None: every pair with a swap); a
        pair's record is the same object until it changes."""
        out = {}
        keys = self.pairs if pairs is None else pairs
        for key in keys:
            p = self.pairs.get(key)
            if p is None or not p.swaps or not math.isfinite(p.price):
                continue
            if p.quote is None:
                mid = self.now.get(key)
                spread = None
                if mid is not None and mid > 0:
                    spread = 1e4 * (p.price / mid - 1.0)
                last = p.mids[-1][0] if p.mids else None
                waiting = None
                if p.lead is not None and last is not None:
                    waiting = last - p.lead.start
                p.quote = PropQuote(
                    key,
                    p.program,
                    p.name,
                    p.price,
                    p.slot,
                    p.mid_at,
                    mid,
                    spread,
                    p.lags[-1] if p.lags else None,
                    statistics.median(p.lags) if p.lags else None,
                    waiting,
                    p.swaps,
                    p.oracle_updates,
                    p.oracle_slot,
                    p.follows,
                    p.reverted,
                )
            out[key] = p.quote
        return out

    def series(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], PropSeries]:
        """The chart series of each of ``pairs`` with a realized price; one object per pair
        until a swap adds a point."""
        out = {}
        for key in pairs:
            p = self.pairs.get(key)
            if p is None or not p.points:
                continue
            if p.series is None:
                p.series = PropSeries(
                    tuple(s for s, _ in p.points), tuple(v for _, v in p.points), p.name
                )
            out[key] = p.series
        return out


def _mid_at(mids: deque[tuple[int, float]], slot: int) -> float | None:
    """The last mid at or before ``slot`` (None: none)."""
    if not mids:
        return None
    i = bisect.bisect_right([s for s, _ in mids], slot)
    return mids[i - 1][1] if i else None

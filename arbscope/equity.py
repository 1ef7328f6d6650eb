"""The equity curves the dashboard draws: paper PnL after each paper attempt and live PnL
after each live order that landed, on the session's clock.

The paper broker keeps its equity as values only (``PaperBroker.equity``, the initial
balance plus the PnL after each attempt) and has no clock: it counts ticks. The
:class:`~arbscope.market.Evaluator` hands this keeper each tick's fills with the tick's
time, and once a tick looks at the live executor's view for orders that landed since.
Points are bounded (``MAX_POINTS`` per series) and the tuple the snapshot carries is
built once per change, so a frame that finds nothing new redraws nothing.

Time is seconds since the session's first tick on its own clock (the machine's
monotonic clock live, the recording's in a replay, a manual one in tests), so a replay
draws the curve the recorded session drew.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

MAX_POINTS = 200  # per series, as many as the paper broker's equity deque holds
LANDED = frozenset({"confirmed", "failed"})  # live orders that landed (a failed one paid)


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """One point of an equity curve. ``pnl`` is the series' PnL after it, in base units
    of the base mint: paper's is its fills' ``out - in - fees`` summed; live's is the
    wallet's base-token balance now minus when live was armed (fees are paid in SOL).
    ``fill`` is the PnL of the attempt at this point (None where the point is no
    attempt: the start of the series); ``ok`` is False for an attempt that failed
    (paper: no fill, its fees paid; live: it landed with an error)."""

    series: str  # "paper" | "live"
    t_s: float  # seconds since the session's first tick, on its clock
    slot: int
    pnl: int
    fill: int | None = None
    ok: bool = True

    @property
    def win(self) -> bool:
        """An attempt that went through with a positive PnL (the paper broker's win)."""
        return self.ok and self.fill is not None and self.fill > 0


class EquityCurves:
    """The paper and live equity series of one session (see the module doc)."""

    def __init__(self) -> None:
        self.t0_ns: int | None = None
        self.paper: deque[EquityPoint] = deque(maxlen=MAX_POINTS)
        self.live: deque[EquityPoint] = deque(maxlen=MAX_POINTS)
        self._seen: set[int] = set()  # live order seqs already drawn
        self._points: tuple[EquityPoint, ...] | None = ()

    def _t(self, now_ns: int) -> float:
        if self.t0_ns is None:
            self.t0_ns = now_ns
        return (now_ns - self.t0_ns) / 1e9

    def _add(self, series: deque[EquityPoint], point: EquityPoint) -> None:
        series.append(point)
        self._points = None

    def start(self, now_ns: int, slot: int, pnl: int) -> None:
        """The paper series' first point (the broker's PnL before any attempt)."""
        if not self.paper:
            self._add(self.paper, EquityPoint("paper", self._t(now_ns), slot, pnl))

    def paper_fills(self, fills: list[Any], pnl_after: int, now_ns: int, slot: int) -> None:
        """This tick's paper ``fills`` (``PaperBroker.on_tick``), the broker's PnL now
        ``pnl_after``: one point per attempt, each with the PnL after it."""
        t = self._t(now_ns)
        pnl = pnl_after - sum(f.pnl for f in fills)
        for f in fills:
            pnl += f.pnl
            self._add(self.paper, EquityPoint("paper", t, f.slot_filled, pnl, f.pnl, f.ok))

    def live_orders(self, view: Any, now_ns: int, slot: int) -> None:
        """The live executor's ``view`` (``LiveView``) this tick: the series starts at
        its PnL the first time it is seen armed, then gets one point per order that
        landed since (its realized PnL when it was the only open order, else the PnL's
        change since the last point)."""
        if not self.live:
            if not view.armed:
                return
            self._add(self.live, EquityPoint("live", self._t(now_ns), slot, view.pnl))
        t = self._t(now_ns)
        for o in view.orders:
            if o.status not in LANDED or o.seq in self._seen:
                continue
            self._seen.add(o.seq)
            change = o.realized if o.realized is not None else view.pnl - self.live[-1].pnl
            self._add(
                self.live, EquityPoint("live", t, slot, view.pnl, change, o.status == "confirmed")
            )
        if len(self._seen) > 4 * MAX_POINTS and view.orders:  # the view holds the newest
            oldest = min(o.seq for o in view.orders)
            self._seen = {s for s in self._seen if s >= oldest}

    @property
    def drawing_live(self) -> bool:
        """Whether the live series has started (live orders are then followed even once
        the executor is disarmed: an order already sent may still land)."""
        return bool(self.live)

    def points(self) -> tuple[EquityPoint, ...]:
        """Every point, paper's then live's, each oldest first (the same tuple until a
        point is added)."""
        if self._points is None:
            self._points = (*self.paper, *self.live)
        return self._points

"""The fast path's templates a turn compiles ahead: of the best live cycles, for a bounded
time, each again only after a while (its shape may have moved: a Whirlpool's tick arrays,
an account created). Decides nothing (a replay has no executor)."""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable, Mapping

from engine_rs.records import Opportunity, Score

from ..execution.live import LiveExecutor
from ..market import OppKey

# of the best live cycles (at most this many looked at), for at most this long a turn, a
# cycle's again after this long
PREWARM_MOST = 32
PREWARM_NS = 3_000_000
PREWARM_AGAIN_NS = 10_000_000_000
PREWARM_FRAME_NS = 1_000_000  # after a frame's decision, for the cycles it made live


class Prewarm:
    """The live cycles whose fast-path templates were compiled ahead (``warmed``), and when."""

    def __init__(self) -> None:
        self.warmed: dict[OppKey, int] = {}

    def run(
        self,
        ex: LiveExecutor,
        live: Mapping[OppKey, tuple[Opportunity, Score]],
        now_ns: int,
        keys: Iterable[OppKey] | None = None,
        budget_ns: int = PREWARM_NS,
    ) -> None:
        """The fast path's templates (swaps, message) of the best ``live`` cycles (of
        ``keys``; None: of all) not compiled lately compiled ahead
        (``LiveExecutor.prewarm``), for at most ``budget_ns``: at the turn, and after a
        frame's decision for the cycles it made live — a frame that makes one go then
        sends it without compiling them on the way."""
        warmed, base = self.warmed, ex.base
        best = heapq.nlargest(
            PREWARM_MOST,
            (
                (live[key][1].net_profit, key)
                for key in (live if keys is None else keys)
                if key[0] == base
                and key in live
                and now_ns - warmed.get(key, -PREWARM_AGAIN_NS) >= PREWARM_AGAIN_NS
            ),
        )
        until = time.monotonic_ns() + budget_ns  # (the turn's own time, not the session's)
        for _, key in best:
            warmed[key] = now_ns
            ex.prewarm(live[key][0])
            if time.monotonic_ns() >= until:
                break
        if len(warmed) > 4_096:
            warmed.clear()

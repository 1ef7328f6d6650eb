"""A frame's decision: while the session trades live on its own, a frame that moves pools
gets its cycles evaluated and decided on inside the frame's call (tick to trade), not at
the next turn; journaled as a ``DECIDE`` input so that a replay decides the same."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from ..market import OppKey
from .prewarm import PREWARM_FRAME_NS

if TYPE_CHECKING:
    from ..session import FeedSession

log = logging.getLogger("arbscope.session")  # the session's log, as before its parts


class FrameDecision:
    """``host``'s decisions on the frames that move its pools."""

    def __init__(self, host: FeedSession) -> None:
        self.host = host

    def moved(self) -> None:
        """The ingest's ``on_change`` while trading live on its own: :meth:`decide` now,
        inside the frame's call. Whatever goes wrong is counted and logged, never raised
        into the feed that delivered the frame."""
        host = self.host
        try:
            self.decide()
        except Exception:  # the feed's worker must go on; the next tick decides again
            host.errors += 1
            log.exception("deciding on a frame failed")

    def decide(self, now_ns: int | None = None) -> None:
        """A frame moved pools while the session trades live on its own: evaluate them and
        decide on their cycles now (tick to trade), not at the next turn; the rest of a
        turn's work (the sweep, paper fills, the screen) waits for the turn. ``now_ns`` is
        the session's clock: without it the decision is a live one, journaled as a
        ``DECIDE`` input, so a replay decides the same at the same point of the inputs —
        before any input the decision journals (``LINK``) and at its end, so the order's
        request is written first (``FeedSession.owe_decide``)."""
        host = self.host
        if now_ns is None:
            now_ns = host.clock.now_ns()
            host.desk.sync_wallet()
            host.owe_decide(now_ns)
            try:
                decided = self._decide(now_ns)
            finally:
                host.owe_decide(None)
            ex = host.ev.live_executor()
            if decided and ex is not None and ex.armed and ex.core.fast_path:
                # after the orders went: the cycles the frame made live, compiled ahead
                # for the frame that makes one go
                host.prewarm.run(ex, host.ev.live, now_ns, decided, PREWARM_FRAME_NS)
            return
        self._decide(now_ns)

    def _decide(self, now_ns: int) -> set[OppKey]:
        """:meth:`decide` at ``now_ns``, once journaled (or replayed); the live cycles'
        keys it decided on."""
        host = self.host
        host.now_ns = now_ns
        ev = host.ev
        ex = ev.live_executor()
        if ex is not None:  # the order's latency starts at the frame that moved it
            ex.core.trigger_ns, ex.core.turn_ns = host.ingest.change_ns, time.monotonic_ns()
        changed = host.queue.held_back(host.ingest.take_changed())
        if changed:  # a pool halfway through a slot waits for the rest of it
            half = host.ingest.half_moved(changed)
            if half:
                host.queue.half = dict.fromkeys(half)
                changed = [p for p in changed if p not in host.queue.half]
        if not changed:
            return set()
        backlog = host.queue.waiting
        for p in changed:
            host.queue.decided[p] = None
            backlog.pop(p, None)  # evaluated now, on its newest state
        # each pool's cycles decided on as soon as they are evaluated (tick to trade: an
        # order goes out before the other pools' cycles are evaluated), each cycle once (at
        # its first pool: the graph is the same for every pool of the call); evaluated at
        # the slot the session had, decided at the ingest's (as one pass over them all)
        evaluated_at, slot = host.slot, int(host.ingest.stats().slot)
        if ev.broker is not None:
            ing = host.ingest
            ev.broker.slot_clock = (ing.slot_seen, ing.slot_t_ns, ing.slot_len_ns)
        decided: set[OppKey] = set()
        try:
            for keys in host.queue.evaluating(changed, evaluated_at):
                fresh = [k for k in keys if k not in decided]
                if fresh:
                    decided.update(fresh)
                    if ex is not None:
                        ex.core.evaluated_ns = time.monotonic_ns()
                    ev.decide(slot, now_ns, fresh)
        finally:
            host.slot = slot
            host.screen.stale()
        return decided

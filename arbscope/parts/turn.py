"""The session's turn: every ``tick_s`` of its clock the pools waiting are evaluated (in
slices of the event loop, each journaled), then the turn ends (sweep, fills), decides,
reports (rivals), makes its events and shows (prices, feeds' health), a loop step each; or, whole,
in one call (a ``TICK``). What each step journals, and in which order, is what a replay
of the journal applies (:mod:`arbscope.inputs`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine_rs.errors import EngineError
from storage.codec import Kind

from ..execution.paper import Fill

if TYPE_CHECKING:
    from ..session import FeedSession

# the most one slice of a turn's evaluation holds the event loop (then keys, redraws and
# frames get their turn): a few pools' evaluations
SLICE_S = 0.004
# the most pools a turn evaluates (the oldest waiting; the rest wait for the next turn),
# a piece of a pool's evaluation (Backlog.piece) counted as one
TURN_POOLS = 512


class Turn:
    """``host``'s turn. ``slice_s``: the most a slice holds the loop (s of
    ``budget_clock``; None: no slices, every turn whole); ``turn_pools``: the most pools a
    sliced turn evaluates; ``slices_yielded``: the times a turn gave the event loop back
    (between its parts)."""

    def __init__(self, host: FeedSession, slice_s: float | None) -> None:
        self.host = host
        self.slice_s = slice_s
        self.turn_pools = TURN_POOLS
        self.budget_clock: Callable[[], float] = time.perf_counter
        self.slices_yielded = 0
        self.owed_fills: list[Fill] | None = None  # the report a turn's end left (apart)
        self.reset()

    def reset(self) -> None:
        """A fresh engine's: no sweep yet (a report owed stays owed, as before the
        engine was built again)."""
        self.last_sweep_t = 0.0

    # ------------------------------------------------------------ the inputs it applies
    def tick(self, now_ns: int | None = None) -> None:
        """A whole turn: every pool waiting evaluated, then its end, report and screen's
        part, in one call (``now_ns`` None: a live one at the clock's time, journaled as a
        ``TICK``; a replay passes the recorded time)."""
        if now_ns is None:
            now_ns = self.host.clock.now_ns()
            self.begin(now_ns)
            self.host.put_input(Kind.TICK, now_ns)
        self.show(self.end(now_ns, evaluate=True))

    def evaluate_slice(self, now_ns: int, n: int) -> None:
        """One slice of a turn's evaluation (a ``SLICE`` input, as a replay applies it):
        the pools changed since join the backlog, then its first ``n`` are evaluated."""
        self.host.queue.slice(now_ns, n, lambda: False, [0])

    def end_turn(self, now_ns: int) -> None:
        """The rest of a turn whose evaluation was done in slices (a ``TURN`` input): its
        end, evaluating nothing itself (its decisions and report, when apart, are
        :meth:`decide_turn`'s and :meth:`report_turn`'s);
        what still waits in the backlog is the next turn's."""
        self.show(self.end(now_ns, evaluate=False))

    def decide_turn(self, now_ns: int) -> None:
        """A sliced turn's decisions, a loop step after its end (a ``DECISIONS`` input):
        on its go cycles, in its slot (``Evaluator.decide_turn``)."""
        host = self.host
        host.now_ns = now_ns
        host.ev.decide_turn(host.slot, now_ns)

    def report_turn(self, now_ns: int, later: bool = False, events: bool = True) -> None:
        """A sliced turn's report, a loop step after its end (a ``REPORT`` input): the
        cycles, orders and fills of the turn set against the rivals', and (``events``)
        its events, else :meth:`events_turn`'s (``later``: made as the run loop's next
        steps drain them, in the same order)."""
        host = self.host
        fills, self.owed_fills = self.owed_fills or [], None
        host.observed.turned(fills)
        if events:
            host.screen.emit(host.sink, now_ns, later)
        host.screen.stale()

    def events_turn(self, now_ns: int, later: bool = False) -> None:
        """A sliced turn's events, a loop step after its report (an ``EVENTS`` input):
        the opportunities that came, changed or went since the last turn's."""
        host = self.host
        host.screen.emit(host.sink, now_ns, later)
        host.screen.stale()

    # ------------------------------------------------------------ the live run loop's
    async def run(self, now_ns: int) -> None:
        """The run loop's turn at ``now_ns``. Its evaluation is done in slices of at most
        ``slice_s`` (each journaled, ``SLICE``), the event loop given back between them, so
        a key, a redraw or a frame never waits for more than one slice: the turn evaluates
        the pools waiting when it began (the backlog, each pool once on its newest state),
        at most ``turn_pools`` slices' steps of them (a pool, or a piece of one), oldest
        first, and the pool midway to its end; the rest, and the pools that change
        meanwhile, wait for the next turn. Then its end (``TURN``: sweep, fills), its
        decisions (``DECISIONS``), its report (``REPORT``: rivals), its events
        (``EVENTS``) and the screen's part, a step each. A
        collector (it evaluates nothing), or ``slice_s`` None, ticks whole (``TICK``)."""
        host = self.host
        self.begin(now_ns)
        if host.collect_only or self.slice_s is None:
            host.put_input(Kind.TICK, now_ns)
            self.show(self.end(now_ns, evaluate=True))
            return
        most, queue = self.turn_pools, host.queue
        left: int | None = None  # the steps of the turn still to take
        while True:
            await self._yield()  # the event loop's turn: keys, redraws, frames
            n, waiting = self.slice_now(now_ns, most if left is None else max(left, 1))
            left = (min(waiting, most) if left is None else left) - n
            if (left <= 0 or n == 0) and queue.midway is None:
                break
        await self._yield()  # the turn's end (sweep, fills) a step of its own
        host.put_input(Kind.TURN, now_ns)
        changed = self.end(now_ns, evaluate=False)
        if host.turn_decide == "apart":
            await self._yield()  # its decisions (paper, live) another
            host.put_input(Kind.DECISIONS, now_ns)
            self.decide_turn(now_ns)
        if host.turn_report == "apart":
            await self._yield()  # its report (rivals; its events too when inline) another
            host.put_input(Kind.REPORT, now_ns)
            self.report_turn(now_ns, later=True, events=host.turn_events == "inline")
        if host.turn_events == "apart":
            await self._yield()  # its events another
            host.put_input(Kind.EVENTS, now_ns)
            self.events_turn(now_ns, later=True)
        await self._yield()  # and the screen's part (prices, feeds' health) another
        self.show(changed)

    async def _yield(self) -> None:
        self.slices_yielded += 1
        await asyncio.sleep(0)
        self.host.rivals.release()  # a slice of what the last report let go

    def begin(self, now_ns: int) -> None:
        """What a live turn does before it evaluates: at most every
        ``COVERAGE_EVERY_NS``, the pools no endpoint covers (when they moved); the live
        wallet."""
        host = self.host
        host.now_ns = now_ns
        bare = host.health.uncovered(now_ns)
        if bare is not None:
            host.told.on_uncovered(bare)
        host.desk.sync_wallet()

    def slice_now(self, now_ns: int, most: int | None) -> tuple[int, int]:
        """A live slice: ``Backlog.slice`` for at most ``slice_s`` of the budget clock and
        ``most`` pools, journaled once it is known how many it evaluated (``SLICE``;
        nothing else is journaled meanwhile; one that raised, with the pools it began)."""
        clock = self.budget_clock
        until = clock() + (self.slice_s or 0.0)
        self.host.screen.drain(lambda: clock() >= until)  # the last turn's events, first
        done = [0]
        try:
            waiting = self.host.queue.slice(now_ns, most, lambda: clock() >= until, done)
        finally:
            if done[0]:
                self.host.put_input(Kind.SLICE, now_ns, done[0])
        return done[0], waiting

    # ------------------------------------------------------------ its steps
    def end(self, now_ns: int, evaluate: bool) -> list[str] | None:
        """The turn's end: (``evaluate``: every pool waiting evaluated at once), the
        sweep on its timer, the fills, the decisions and the report when inline (or
        ``evaluate``); the pools the price panel shows moved (None: a collector's turn)."""
        host = self.host
        host.now_ns = now_ns
        if host.collect_only:  # a collector publishes; the consumers evaluate
            host.ingest.take_changed()
            host.slot = host.ingest.stats().slot
            host.health.judge()
            host.screen.stale()
            return None
        ev = host.ev
        ev.hold(host.health.stalled(now_ns))  # before the tick's scores: they carry it
        ex = ev.live_executor()
        if ex is not None:  # live: the order's latency starts at the frame that moved it
            ex.core.trigger_ns, ex.core.turn_ns = host.ingest.change_ns, time.monotonic_ns()
        queue = host.queue
        changed = queue.evaluate_all(host.slot) if evaluate else []  # a whole tick: at once
        if ex is not None:
            ex.core.evaluated_ns = time.monotonic_ns()
        changed = queue.first(queue.sliced, changed)  # evaluated by the turn's slices
        now = now_ns / 1e9
        if now - self.last_sweep_t >= host.sweep_s and len(host.graph):
            self.last_sweep_t = now
            try:
                ev.sweep()
            except EngineError:
                host.errors += 1
        ing = host.ingest
        host.slot = ing.stats().slot
        if ev.broker is not None:
            ev.broker.slot_clock = (ing.slot_seen, ing.slot_t_ns, ing.slot_len_ns)
        inline = evaluate or host.turn_decide == "inline"  # (else the DECISIONS step's)
        fills = ev.execute(host.slot, now_ns, host.sink, decide=inline)
        host.rate.add(now, host.updates)
        self.owed_fills = fills
        if evaluate or host.turn_report == "inline":
            self.report_turn(now_ns)
        else:  # its report a step of its own
            host.screen.stale()
        # trading live on its own: a frame that moves a pool is decided on in its own call,
        # not at the next period (tick to trade); otherwise the periodic turn decides
        auto_live = ex is not None and ev.broker is not None and ev.broker.auto and not ev.halted
        ing.on_change = host.decision.moved if auto_live else None
        if ex is not None and ex.armed and ex.core.fast_path:
            host.prewarm.run(ex, ev.live, now_ns)
        # and by the frames' decisions since the last turn: the price panel's
        return queue.first(queue.decided, changed)

    def show(self, changed: list[str] | None) -> None:
        """A turn's part no decision reads (a live turn's loop step of its own): the price
        panel's pools that ``changed`` (None: a collector's turn), the feeds' health."""
        if changed is None:
            return
        host = self.host
        host.screen.turned(changed)
        host.health.judge()
        host.screen.stale()

"""A session: feeds -> ingest -> evaluation -> snapshot, on its own run loop.

Frames come from the session's feed source (:class:`arbscope.ports.FeedSource`, chosen by
:mod:`arbscope.sources`) into the engine's ``FeedIngest``, both backends timed side by
side (:class:`arbscope.ingest.TimedIngest`); every turn the pools that changed are
evaluated once each, in slices of the event loop, a sweep runs on a timer, and the screen
reads a :class:`~arbscope.market.Snapshot` built when it is read.

The session keeps only the turn: its clock, the slices and the order of its journal's
inputs (:mod:`arbscope.inputs`). The rest is its parts (:mod:`arbscope.parts`), built and
wired here; its own inputs are ``told`` (:class:`arbscope.ports.SessionInputs`), readers
get its ``view`` (:class:`arbscope.ports.SessionView`). It imports no simulator, no NATS
and no metrics module.
"""

from __future__ import annotations

import asyncio
import logging
import time
import types
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import engine_rs
from engine_rs.errors import EngineError
from engine_rs.records import FeeContext, Opportunity, Score
from feeds.propamm import programs as prop_programs
from storage.codec import Kind
from storage.journal import Journal
from storage.recorder import Recorder

from . import inputs
from .execution.live import LiveConfig
from .execution.paper import Fill
from .ingest import TimedIngest
from .market import DEFAULT_CU_LIMIT, Evaluator, OppKey, Snapshot, UpdateRate
from .parts.backlog import Backlog
from .parts.decision import FrameDecision
from .parts.desk import Desk
from .parts.fees import Fees
from .parts.health import Health
from .parts.lifecycle import Lifecycle, versions
from .parts.observed import Observed
from .parts.prewarm import Prewarm
from .parts.screen import Screen
from .parts.settings import (
    DEFAULT_POLICY,
    Evaluation,
    FeeSettings,
    HealthSettings,
    RecordSettings,
    Watch,
    from_journal,
)
from .parts.tokens import Tokens
from .parts.told import Told
from .parts.view import SessionReadout
from .ports import EngineIngest, EventSink, FeedSource, InputPublisher, StreamSinks
from .prices import PriceBook
from .propamm import PropAmmBook
from .rivals import RivalBook
from .runloop import TICK_S, Clock, MonotonicClock, RunLoop
from .timing import KernelTimer

# the most one slice of a turn's evaluation holds the event loop (then keys, redraws and
# frames get their turn): a few pools' evaluations
SLICE_S = 0.004
# the most pools a turn evaluates (the oldest waiting; the rest wait for the next turn)
TURN_POOLS = 512
# the backlog is said (headless status line) once its oldest pool has waited this long
BACKLOG_SHOWN_S = 0.5
log = logging.getLogger(__name__)

# what is built from and read from here (the settings, the versions journaled)
__all__ = ["BACKLOG_SHOWN_S", "DEFAULT_POLICY", "Evaluation", "FeeSettings", "FeedSession"]
__all__ += ["HealthSettings", "RecordSettings", "Watch", "from_journal", "versions"]


class FeedSession:
    """The pools of ``watch`` watched on the feeds of ``feeds`` (a source adapter:
    :mod:`arbscope.sources` chooses and builds it; ``NoFeeds``: the session is fed by its
    owner, as a replay feeds the one it composes), evaluated as ``evaluation`` says.

    The session owns its time: :meth:`run` turns it every ``tick_s`` of ``clock`` (the
    machine's monotonic clock unless one is given) and the screen only reads
    :attr:`snapshot`. Its decisions are made by :attr:`ev`, the
    :class:`~arbscope.market.Evaluator` it owns. With ``record`` set, every engine input
    and derived event goes to the journal (``storage``); ``session_id`` and ``digest``
    are set by start() and stop(). ``live``: its live trading (its ``desk``); ``health``:
    its health and what serves it; ``streams``: its NATS side as sinks (a collector's
    publisher, the journal's stream)."""

    def __init__(
        self,
        watch: Watch | None = None,
        evaluation: Evaluation | None = None,
        *,
        feeds: FeedSource,
        record: RecordSettings | None = None,
        live: LiveConfig | None = None,
        health: HealthSettings | None = None,
        streams: StreamSinks | None = None,
        clock: Clock | None = None,
        tick_s: float = TICK_S,
        slice_s: float | None = SLICE_S,
    ) -> None:
        watch = watch or Watch()
        evaluation = evaluation or Evaluation()
        self.seed = watch.seed
        market = feeds.market()  # what the source knows of its market ahead
        self.evaluation = evaluation
        self.watch_rivals = watch.rivals
        # the signers' names: the wallets the source knows, then the labels file's (wins)
        labels = {**market.known_wallets, **watch.rival_labels}
        self.rivals: RivalBook = RivalBook(labels=labels, own=watch.rival_own)
        # the prop AMMs' programs (with the source's own) and what they did per pair
        props = prop_programs() if watch.prop_amms is None else dict(watch.prop_amms)
        if props:
            props.update(market.prop_amms)
        self.prop_programs: dict[str, str] = props
        self.props = PropAmmBook(watch.prop_follow_bps)
        health = health or HealthSettings()
        # no new slot from any feed for this long: every cycle is no-go (Health.stalled;
        # None: /health's stall time; 0: never, a replay from before the rule)
        stall = evaluation.feeds_stall_s
        self.feeds_stall_s = float(health.stall_s if stall is None else stall)
        self.sizing = evaluation.sizing  # how the engine sizes a cycle (journaled)
        self.turn_report = evaluation.turn_report  # where a sliced turn reports (journaled)
        self._owed_fills: list[Fill] | None = None  # the report a turn's end left (apart)
        self.feeds: FeedSource = feeds
        # NATS as sinks: a collector publishes its inputs (it evaluates nothing)
        self.streams = streams
        self.collect_only = streams is not None and streams.collects
        self.publisher: InputPublisher | None = None  # a collector's (set by start())
        self.policy_arg = evaluation.policy
        self.fee_settings = evaluation.fees
        # the parts that live as long as the session (the engine's are built with it)
        self.health = Health(self, health)
        self.desk = Desk(self, live)
        self.life = Lifecycle(self)
        self.told = Told(self)  # its own inputs (arbscope.ports.SessionInputs)
        self.view = SessionReadout(self)  # what readers read (arbscope.ports.SessionView)
        self.observed = Observed(self)
        self.source: str = feeds.label
        universe = watch.universe if watch.universe is not None else market.universe
        self.universe = list(universe or [])
        self.base_mints = list(watch.base_mints or market.base_mints)
        self.max_hops, self.sweep_s = watch.max_hops, evaluation.sweep_s
        self.backend_arg, self.shadow = evaluation.backend, evaluation.shadow
        self.record = record
        self.recorder: Recorder | None = None
        self.journal: Journal | None = None
        self.session_id: str = ""
        self.digest = ""  # set by stop() when the recording is complete
        self.journal_error = ""  # why the recording failed or is incomplete ("" when fine)
        self.sink: EventSink | None = None  # derived events: the recorder, a replay's sink
        self.start_error: str = ""
        self.idle_reason = ""  # the session can find nothing (no bases, no pools): why
        self.timer_clock = evaluation.timer_clock  # the kernel timer's (staged screens)
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.tick_s = tick_s
        # the most a slice of a turn holds the loop (s of ``budget_clock``; None: no slices)
        self.slice_s: float | None = slice_s
        self.turn_pools = TURN_POOLS  # the most pools a sliced turn evaluates
        self.budget_clock: Callable[[], float] = time.perf_counter
        self.slices_yielded = 0  # times a turn gave the event loop back (between its parts)
        self.loop = RunLoop(self._turn, self.clock, int(tick_s * 1e9))
        # what the parts call: an input of the session's own, written in the journal's
        # order; the engine's state built again (the collectors' base mints announced)
        self.put_input: Callable[..., None] = self._input
        self.setup_engine: Callable[[], None] = self._setup_engine
        self._setup_engine()

    def _setup_engine(self) -> None:
        """The graphs, ingests, evaluator, fee state and counters."""
        self.eng = self.backend_arg or engine_rs.backend()
        other: types.ModuleType | None = None
        if self.shadow:
            try:
                other = engine_rs.load("python" if self.eng.BACKEND == "rust" else "rust")
            except ImportError:
                other = None
        clock = self.timer_clock
        self.timer: KernelTimer = (
            KernelTimer(self.eng, other, clock=clock) if clock else KernelTimer(self.eng, other)
        )
        self.graphs: dict[str, Any] = {}
        ingests: dict[str, EngineIngest] = {}
        for m in (self.eng, other):
            if m is not None:
                g = m.PoolGraph(base_mints=list(self.base_mints), max_hops=self.max_hops)
                g.set_sizing(self.sizing)  # (a replay: as its recording sized)
                self.graphs[m.BACKEND] = g
                # each backend its own ingest (an extension without one of the twin's
                # names is refused at import, so there is no fallback to make)
                ingests[m.BACKEND] = m.FeedIngest(g)
        self.pool_kinds: dict[str, str] = {}  # what each tracked pool is (its program)
        self.ingest = TimedIngest(self.timer, ingests, kinds=self.pool_kinds)
        fs = self.fee_settings
        # one compute-unit limit for every transaction when configured (fees.cu_limit, or
        # its older name live.cu_limit), else each cycle's own: the scorer prices what the
        # live executor requests
        live = self.desk.config
        override = fs.cu_limit or (live.cu_limit if live else None)
        if live is not None and live.cu_limit != override:
            self.desk.config = replace(live, cu_limit=override)
        fees = FeeContext(
            cu_limit=override or DEFAULT_CU_LIMIT,
            cu_price_micro_lamports=5_000,
            tip_lamports=fs.tip_lamports,
        )
        self.ev: Evaluator = Evaluator(
            self.eng,
            self.timer,
            self.graphs,
            fees,
            self.policy_arg,
            self.pool_kinds,
            cu_override=override,
        )
        self.slot: int = 0
        self.updates = 0
        self.errors: int = 0
        self.rate = UpdateRate()
        self._last_sweep_t = 0.0
        self.now_ns = 0
        # a frame's decision's ``DECIDE`` input not journaled yet (its time; None: none):
        # written before any other input and at the decision's end, so after the order's
        # request (the journal's order of inputs is the same)
        self._decide_owed: int | None = None
        # whether anyone will show this session: a headless replay does not feed the
        # price panel's book (not part of the decisions)
        self.snapshots = True
        self.prices = PriceBook(self.eng)
        # the parts the engine's state is built with
        self.fees = Fees(self, self.eng.FeeEstimator())
        self.tokens = Tokens(self)
        self.queue = Backlog(self)  # the pools waiting to be evaluated
        self.prewarm = Prewarm()
        self.decision = FrameDecision(self)
        self.screen = Screen(self)
        self.health.judge()

    # ------------------------------------------------------------ what the turn reads most
    @property
    def graph(self) -> Any:
        """The active backend's pool graph."""
        return self.ev.graph

    @property
    def live(self) -> dict[OppKey, tuple[Opportunity, Score]]:
        """The profitable cycles now, by (base mint, pools)."""
        return self.ev.live

    @property
    def backlog(self) -> tuple[int, float]:
        """The pools waiting to be evaluated and how long the oldest has waited (s)."""
        return self.queue.age()

    @property
    def snapshot(self) -> Snapshot:
        """What the screen shows: the state after the latest tick, built when it is
        first read after that tick (while starting: at each read, its progress)."""
        return self.screen.snapshot(self.life.starting is not None)

    def changed(self) -> None:
        """The engine's state moved outside a tick (a replay's step or seek): the next
        read of :attr:`snapshot` builds a new one."""
        self.screen.stale()

    # ------------------------------------------------------------ the journal's order
    def _input(self, kind: Kind, *args: Any) -> None:
        """One of the session's own inputs (``arbscope.inputs``) to the journal when it
        records, and to a collector's consumers when it publishes (as its table says)."""
        if self._decide_owed is not None:
            self._owe_nothing()
        row = inputs.INPUTS[kind]
        rec = self.recorder if row.journaled else None
        pub = self.publisher if row.published else None
        if rec is not None or pub is not None:
            endpoint, payload, t_ns = row.encode(*args)
            if pub is not None:
                pub.add(kind, endpoint, payload, t_ns)
            if rec is not None:
                rec.input(kind, endpoint, payload, t_ns)

    def owe_decide(self, now_ns: int | None) -> None:
        """A frame's decision's ``DECIDE`` input owed from now (at ``now_ns``: written
        before any other input, see :meth:`_input`), or, None, written now if owed."""
        if now_ns is None:
            self._owe_nothing()
        else:
            self._decide_owed = now_ns

    def _owe_nothing(self) -> None:
        """Journal the frame's decision's ``DECIDE`` input :meth:`decide` put off."""
        owed, self._decide_owed = self._decide_owed, None
        if owed is not None:
            self._input(Kind.DECIDE, owed)

    # ------------------------------------------------------------ the tick
    def tick(self, now_ns: int | None = None) -> None:
        """Re-evaluate every pool that changed since the last tick (and every one of the
        backlog); sweep on a timer; execute. ``now_ns`` is the session's clock: without it
        the tick is a live one at the clock's time, journaled as a ``TICK`` input; a replay
        passes the recorded one. The snapshot is built when someone reads it, not here."""
        if now_ns is None:
            self._begin_turn(self.clock.now_ns())
            self._input(Kind.TICK, self.now_ns)
            self._show(self._tick(self.now_ns, evaluate=True))
            return
        self._show(self._tick(now_ns, evaluate=True))

    def end_turn(self, now_ns: int) -> None:
        """The rest of a turn whose evaluation was done in slices (:meth:`evaluate_slice`;
        a ``TURN`` input): a tick evaluating nothing itself (its report, when apart, is
        :meth:`report_turn`'s); what still waits in the backlog is the next turn's."""
        self._show(self._tick(now_ns, evaluate=False))

    def report_turn(self, now_ns: int, later: bool = False) -> None:
        """A sliced turn's report, a loop step after its end (a ``REPORT`` input): the
        cycles, orders and fills of the turn set against the rivals', and its events
        (``later``: made as the run loop's next steps drain them, in the same order)."""
        fills, self._owed_fills = self._owed_fills or [], None
        self.observed.turned(fills)
        self.screen.emit(self.sink, now_ns, later)
        self.screen.stale()

    def _tick(self, now_ns: int, evaluate: bool) -> list[str] | None:
        self.now_ns = now_ns
        if self.collect_only:  # a collector publishes; the consumers evaluate
            self.ingest.take_changed()
            self.slot = self.ingest.stats().slot
            self.health.judge()
            self.screen.stale()
            return None
        ev = self.ev
        ev.hold(self.health.stalled(now_ns))  # before the tick's scores: they carry it
        ex = ev.live_executor()
        if ex is not None:  # live: the order's latency starts at the frame that moved it
            ex.core.trigger_ns, ex.core.turn_ns = self.ingest.change_ns, time.monotonic_ns()
        queue = self.queue
        changed = queue.evaluate_all(self.slot) if evaluate else []  # a whole tick: at once
        if ex is not None:
            ex.core.evaluated_ns = time.monotonic_ns()
        changed = queue.first(queue.sliced, changed)  # evaluated by the turn's slices
        now = now_ns / 1e9
        if now - self._last_sweep_t >= self.sweep_s and len(self.graph):
            self._last_sweep_t = now
            try:
                ev.sweep()
            except EngineError:
                self.errors += 1
        self.slot = self.ingest.stats().slot
        if ev.broker is not None:
            ing = self.ingest
            ev.broker.slot_clock = (ing.slot_seen, ing.slot_t_ns, ing.slot_len_ns)
        fills = ev.execute(self.slot, now_ns, self.sink)
        self.rate.add(now, self.updates)
        self._owed_fills = fills
        if evaluate or self.turn_report == "inline":
            self.report_turn(now_ns)
        else:  # its report a step of its own
            self.screen.stale()
        # trading live on its own: a frame that moves a pool is decided on in its own call,
        # not at the next period (tick to trade); otherwise the periodic turn decides
        auto_live = ex is not None and ev.broker is not None and ev.broker.auto and not ev.halted
        self.ingest.on_change = self.decision.moved if auto_live else None
        if ex is not None and ex.armed and ex.core.fast_path:
            self.prewarm.run(ex, ev.live, now_ns)
        # and by the frames' decisions since the last turn: the price panel's
        return queue.first(queue.decided, changed)

    def _show(self, changed: list[str] | None) -> None:
        """A tick's part no decision reads (a live turn's loop step of its own): the price
        panel's pools that ``changed`` (None: a collector's tick), the feeds' health."""
        if changed is None:
            return
        self.screen.turned(changed)
        self.health.judge()
        self.screen.stale()

    def _begin_turn(self, now_ns: int) -> None:
        """What a live turn does before it evaluates: at most every
        ``COVERAGE_EVERY_NS``, the pools no endpoint covers (when they moved); the live
        wallet."""
        self.now_ns = now_ns
        bare = self.health.uncovered(now_ns)
        if bare is not None:
            self.told.on_uncovered(bare)
        self.desk.sync_wallet()

    async def _turn(self, now_ns: int) -> None:
        """The run loop's turn at ``now_ns``. Its evaluation is done in slices of at most
        ``slice_s`` (each journaled, ``SLICE``), the event loop given back between them, so
        a key, a redraw or a frame never waits for more than one slice: the turn evaluates
        the pools waiting when it began (the backlog, each pool once on its newest state),
        at most ``turn_pools`` of them, oldest first; the rest, and the pools that change
        meanwhile, wait for the next turn. Then its end (``TURN``: sweep, execution), its
        report (``REPORT``: rivals, events) and the screen's part, a step each. A
        collector (it evaluates nothing), or ``slice_s`` None, ticks whole (``TICK``)."""
        self._begin_turn(now_ns)
        if self.collect_only or self.slice_s is None:
            self._input(Kind.TICK, now_ns)
            self._show(self._tick(now_ns, evaluate=True))
            return
        left: int | None = None  # the pools of the turn still to evaluate
        while True:
            self.slices_yielded += 1
            await asyncio.sleep(0)  # the event loop's turn: keys, redraws, frames
            n, waiting = self._slice_now(now_ns, self.turn_pools if left is None else left)
            left = (min(waiting, self.turn_pools) if left is None else left) - n
            if left <= 0 or n == 0:
                break
        self.slices_yielded += 1
        await asyncio.sleep(0)  # the turn's end (sweep, fills, decisions) a step of its own
        self._input(Kind.TURN, now_ns)
        changed = self._tick(now_ns, evaluate=False)
        if self.turn_report == "apart":
            self.slices_yielded += 1
            await asyncio.sleep(0)  # its report (rivals, events) another
            self._input(Kind.REPORT, now_ns)
            self.report_turn(now_ns, later=True)
        self.slices_yielded += 1
        await asyncio.sleep(0)  # and the screen's part (prices, feeds' health) another
        self._show(changed)

    def _slice_now(self, now_ns: int, most: int | None) -> tuple[int, int]:
        """A live slice: ``Backlog.slice`` for at most ``slice_s`` of the budget clock and
        ``most`` pools, journaled once it is known how many it evaluated (``SLICE``;
        nothing else is journaled meanwhile; one that raised, with the pools it began)."""
        budget = self.slice_s or 0.0
        clock = self.budget_clock
        until = clock() + budget
        self.screen.drain(lambda: clock() >= until)  # the last turn's events, first
        done = [0]
        try:
            waiting = self.queue.slice(now_ns, most, lambda: clock() >= until, done)
        finally:
            if done[0]:
                self._input(Kind.SLICE, now_ns, done[0])
        return done[0], waiting

    def evaluate_slice(self, now_ns: int, n: int) -> None:
        """One slice of a turn's evaluation (a ``SLICE`` input, as a replay applies it):
        the pools changed since join the backlog, then its first ``n`` are evaluated."""
        self.queue.slice(now_ns, n, lambda: False, [0])

    def decide(self, now_ns: int | None = None) -> None:
        """A frame's decision (:meth:`arbscope.parts.decision.FrameDecision.decide`)."""
        self.decision.decide(now_ns)

    # ------------------------------------------------------------ the run loop
    async def start(self) -> None:
        """Start the session once (:meth:`arbscope.parts.lifecycle.Lifecycle.start`)."""
        await self.life.start()

    async def stop(self) -> None:
        """Stop the session once (:meth:`arbscope.parts.lifecycle.Lifecycle.stop`)."""
        await self.life.stop()

    async def run(
        self,
        on_error: Callable[[Exception], None] | None = None,
        *,
        duration_s: float | None = None,
        until: Callable[[], bool] | None = None,
    ) -> None:
        """The session's run loop: a tick every ``tick_s`` of its clock until
        :meth:`stop`, ``duration_s`` of the clock, or ``until()`` (checked before every
        wait). ``on_error``: what to do with an exception from a tick other than an
        engine error (counted by the session); without it, it propagates."""
        end = None if duration_s is None else self.clock.now_ns() + int(duration_s * 1e9)
        await self.loop.run(
            until_ns=end,
            done=lambda: self.life.stop_called or (until is not None and until()),
            on_error=on_error,
        )

    def set_paused(self, paused: bool) -> None:
        """Stop (or restart) evaluating (frames still arrive); the update rate restarts."""
        if not paused and self.loop.paused:
            self.rate.clear()
        self.loop.paused = paused

    async def run_for(self, seconds: float, tick_s: float | None = None) -> Snapshot:
        """Start, run ``seconds`` of its clock (turns ``tick_s`` apart), stop; the last snapshot."""
        if tick_s is not None:
            self.tick_s = tick_s
            self.loop.period_ns = int(tick_s * 1e9)
        await self.start()
        try:
            await self.run(duration_s=seconds)
            snap = self.snapshot
        finally:
            await self.stop()
        return snap

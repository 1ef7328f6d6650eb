"""A session: feeds -> ingest -> evaluation -> snapshot, on its own run loop.

Frames come from the session's feed source (:class:`arbscope.ports.FeedSource`, chosen by
:mod:`arbscope.sources`) into the engine's ``FeedIngest``, both backends timed side by
side (:class:`arbscope.ingest.TimedIngest`); every turn the pools that changed are
evaluated once each, in slices of the event loop, a sweep runs on a timer, and the screen
reads a :class:`~arbscope.market.Snapshot` built when it is read.

The session builds its parts (:mod:`arbscope.parts`) and wires them, and keeps its clock
and the order of its journal's inputs (:mod:`arbscope.inputs`); its turn (the slices, the
end, the report) is :class:`arbscope.parts.turn.Turn`; its own inputs are ``told``
(:class:`arbscope.ports.SessionInputs`), readers get its ``view``
(:class:`arbscope.ports.SessionView`). It imports no simulator, no NATS and no metrics
module.
"""

from __future__ import annotations

import logging
import types
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import engine_rs
from engine_rs.records import FeeContext, Opportunity, Score
from feeds.propamm import programs as prop_programs
from storage.codec import Kind
from storage.journal import Journal
from storage.recorder import Recorder

from . import inputs
from .execution.live import LiveConfig
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
from .parts.turn import SLICE_S, Turn
from .parts.view import SessionReadout
from .ports import EngineIngest, EventSink, FeedSource, InputPublisher, StreamSinks
from .prices import PriceBook
from .propamm import PropAmmBook
from .rivals import RivalBook
from .runloop import TICK_S, Clock, MonotonicClock, RunLoop
from .timing import KernelTimer

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
        self.turn_decide = evaluation.turn_decide or "inline"  # where it decides (journaled)
        self.turn_events = evaluation.turn_events or "inline"  # its events (journaled)
        self.slice_piece = evaluation.slice_piece  # a slice's piece of a pool (journaled)
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
        self.turn = Turn(self, slice_s)  # its turn: slices, end, report, the screen's part
        self.loop = RunLoop(self.turn.run, self.clock, int(tick_s * 1e9))
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
        self.turn.reset()
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
        self.queue = Backlog(self, self.slice_piece)  # the pools waiting to be evaluated
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

    # ------------------------------------------------------------ the turn
    def tick(self, now_ns: int | None = None) -> None:
        """A whole turn (:meth:`arbscope.parts.turn.Turn.tick`): every pool waiting
        evaluated, swept on a timer, executed (``now_ns`` None: a live one, a ``TICK``)."""
        self.turn.tick(now_ns)

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

"""A session: feeds -> ingest -> evaluation -> snapshot, on its own run loop.

Frames come from the session's feed source (an adapter of :mod:`arbscope.sources`: the
embedded simulator, RPC/PubSub and gRPC endpoints, NATS regions, through
:class:`arbscope.ports.FeedSource`) into the engine's ``FeedIngest`` (parse, dedup,
decode, graph update in one call); every ``tick()`` the pools that changed are
re-evaluated once each (``cycles_touching`` and ``score``), a sweep runs on a timer, and a
:class:`~arbscope.market.Snapshot` with the feeds' health is published for the screen.

Both backends see every frame (:class:`arbscope.ingest.TimedIngest`), so the timing panel
shows Rust and Python side by side and the shadow check compares graphs that saw the same
history.

The session talks to the rest through ports (:mod:`arbscope.ports`), never through their
types: it imports no simulator, no NATS and no metrics module. Its inputs go to the
journal (and a collector's stream) by the one table of input kinds
(:mod:`arbscope.inputs`); its derived events are typed records (:mod:`arbscope.events`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import logging
import time
import types
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import engine_rs
from engine_rs.errors import EngineError, UnknownPoolError
from engine_rs.records import Cycle, FeeContext, Opportunity, Score, ScorePolicy
from feeds.clients.pool import Bootstrap, Endpoint, FeedPool
from feeds.clients.rpc import RawAccount
from feeds.clients.tokens import TokenRegistry
from feeds.health import FeedHealth
from feeds.propamm import observe as observe_prop
from feeds.propamm import programs as prop_programs
from feeds.redact import scrub
from feeds.rivals import classify
from feeds.wire.txview import TxView
from feeds.wire.units import TokenBook, TokenInfo
from storage.codec import Kind
from storage.journal import Journal, JournalError
from storage.recorder import MAX_PENDING_BYTES, Recorder, canonical, event_text

from . import heap, inputs
from .events import FeeChange, FeedsHealth, Gone, Opp, Sweep, Timings
from .execution.keys import KeypairError, load_wallet
from .execution.live import JournalLedger, LiveConfig, LiveExecutor
from .execution.paper import PaperBroker
from .health import DEFAULT_THRESHOLDS, HealthMonitor, Thresholds, Verdict
from .ingest import TimedIngest
from .market import (
    DEFAULT_CU_LIMIT,
    PAPER_BALANCE,
    REASON_FEEDS_STALLED,
    Evaluator,
    OppKey,
    Snapshot,
    UpdateRate,
)
from .ports import (
    EngineIngest,
    EventSink,
    FeedSource,
    Ingest,
    InputPublisher,
    InputSink,
    NothingToFind,
    RegionView,
    Service,
    SessionView,
    SourceLink,
    StreamSinks,
)
from .prices import PriceBook, PriceRow, fee_view
from .propamm import FOLLOW_BPS, PropAmmBook
from .rivals import RivalBook
from .runloop import TICK_S, Clock, MonotonicClock, RunLoop
from .solprice import LamportPrice
from .timing import KernelTimer

HEALTH_EVERY_NS = 1_000_000_000  # feed health journaled once a second
COVERAGE_EVERY_NS = 1_000_000_000  # the pools no endpoint covers, looked at once a second
# the fast path's templates a turn compiles ahead (``_prewarm``): of the best live cycles
# (at most this many looked at), for at most this long a turn, a cycle's again after this
# long (its shape may have moved: a Whirlpool's tick arrays, an account created)
PREWARM_MOST = 32
PREWARM_NS = 3_000_000
PREWARM_AGAIN_NS = 10_000_000_000
PREWARM_FRAME_NS = 1_000_000  # after a frame's decision, for the cycles it made live
TIP_FLOOR_S = 10.0  # how often the tip floor is read (Jito's updates are slower)
# when the token names' request went unanswered: asked again after each of these
TOKEN_RETRY_S = (2.0, 5.0, 10.0, 30.0, 60.0)
# the most one slice of a turn's evaluation holds the event loop (then keys, redraws and
# frames get their turn): a few pools' evaluations
SLICE_S = 0.004
# the backlog is said (the headless status line; the screen's has its own) once its
# oldest pool has waited this long: more than a few turns is the market outrunning the machine
BACKLOG_SHOWN_S = 0.5
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeeSettings:
    """How the scorer prices landing a transaction (journaled with the session).
    ``cu_limit``: one compute-unit limit for every transaction (``fees.cu_limit``); None:
    each cycle's own, from its hops (``arbscope.execution.compute``)."""

    cu_limit: int | None = None
    percentile: float = 75.0
    tip_lamports: int = 0


DEFAULT_POLICY = ScorePolicy(min_profit=1, min_persistence=2, max_staleness_slots=150)
T = TypeVar("T")


def from_journal(default: T, recorded: Any) -> T:
    """``default`` (a dataclass) with the fields a journaled config recorded for it (an
    older recording's missing fields keep the default; unknown ones are ignored)."""
    if not isinstance(recorded, dict):
        return default
    names = {f.name for f in dataclasses.fields(default)}  # type: ignore[arg-type]
    return replace(default, **{k: v for k, v in recorded.items() if k in names})  # type: ignore[type-var]


@dataclass
class RecordSettings:
    """Where and how a session is journaled (``db`` None: the default journal)."""

    db: str | Path | None = None
    batch_s: float = 0.2  # the most a crash can lose
    codec: str | None = None  # zstd when available
    max_pending_bytes: int = MAX_PENDING_BYTES  # the write queue's bound (then: unrecorded)


@dataclass(frozen=True)
class Watch:
    """What a session watches: the pools (``universe``; None: its source's, the
    simulator's world), the base mints cycles start and end in (none: its source's), the
    cycles' length, and its seed (the simulator's world's, and the feeds' jitter)."""

    universe: Sequence[tuple[str, str]] | None = None
    base_mints: Sequence[str] = ()
    max_hops: int = 3
    seed: int = 7
    # the transactions that touch the pools, read for the rivals' arbitrage
    # (arbscope.rivals), and the names given to signers (the labels file)
    rivals: bool = True
    rival_labels: Mapping[str, str] = field(default_factory=dict)
    # our own signers (the live wallet): never a rival (journaled with the config)
    rival_own: Sequence[str] = ()
    # the prop AMMs observed (arbscope.propamm): program id -> name (None: the known ones,
    # feeds.propamm.PROP_AMMS; {}: none), the source's own added (the simulator's); and
    # how close the public mid must come to their price to have followed it (bps)
    prop_amms: Mapping[str, str] | None = None
    prop_follow_bps: float = FOLLOW_BPS


@dataclass(frozen=True)
class Evaluation:
    """How a session evaluates: the engine's backend (None: the default) and whether the
    other one shadows it, how often it sweeps, the scorer's policy and fees, how long
    without a new slot makes every cycle no-go (``feeds_stall_s``; None: the health's
    stall time, 0: never, a replay of a recording from before the rule), and the kernel
    timer's clock (staged screens: deterministic)."""

    backend: types.ModuleType | None = None
    shadow: bool = True
    sweep_s: float = 1.0
    policy: ScorePolicy = DEFAULT_POLICY
    fees: FeeSettings = field(default_factory=FeeSettings)
    feeds_stall_s: float | None = None
    timer_clock: Callable[[], int] | None = None


@dataclass(frozen=True)
class HealthSettings:
    """Whether the session judges its health (a replay does not: its feeds are a
    recording), after how long a standing slot it is unhealthy, and what serves it
    (``serve``: ``/metrics`` and ``/health`` over the session's view; None: nothing)."""

    judge: bool = True
    stall_s: float = 10.0
    serve: Callable[[SessionView], Service] | None = None
    thresholds: Thresholds = DEFAULT_THRESHOLDS  # an endpoint's stream is a problem past these


def _both(first: InputSink, second: InputSink) -> InputSink:
    """An input to ``first``, then to ``second`` (a collector that records: the
    publisher's and the journal's)."""

    def put(kind: Kind, endpoint: int, payload: bytes, t_ns: int | None = None, /) -> None:
        first(kind, endpoint, payload, t_ns)
        second(kind, endpoint, payload, t_ns)

    return put


class FeedSession:
    """The pools of ``watch`` watched on the feeds of ``feeds`` (a source adapter:
    :mod:`arbscope.sources` chooses and builds it; ``NoFeeds``: the session is fed by its
    owner, as a replay feeds the one it composes), evaluated as ``evaluation`` says.

    The session owns its time: :meth:`run` turns it every ``tick_s`` of ``clock`` (the
    machine's monotonic clock unless one is given) and the screen only reads
    :attr:`snapshot`. Its decisions are made by :attr:`ev`, the
    :class:`~arbscope.market.Evaluator` it owns. With ``record`` set, every engine input
    and derived event goes to the journal (``storage``); ``session_id`` and ``digest``
    are set by start() and stop(). ``live``: its live trading; ``health``: its health
    and what serves it; ``streams``: its NATS side as sinks (a collector's publisher, the
    journal's stream)."""

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
        health = health or HealthSettings()
        self.seed = watch.seed
        self.evaluation, self.health = evaluation, health
        self.watch_rivals = watch.rivals
        self.rivals = RivalBook(labels=watch.rival_labels, own=watch.rival_own)
        self.rival_errors = 0  # transactions the classifier could not read
        # the prop AMMs' programs (with the source's own: the simulator's) and what they
        # did per pair (journaled with the config: a replay reads the same programs)
        props = prop_programs() if watch.prop_amms is None else dict(watch.prop_amms)
        if props:
            props.update(feeds.prop_amms())
        self.prop_programs: dict[str, str] = props
        self.props = PropAmmBook(watch.prop_follow_bps)
        # no new slot from any feed for this long (the session's clock against the
        # frames' receive times): every cycle is no-go (market.REASON_FEEDS_STALLED)
        # until one comes. None: /health's stall time; 0: never (a replay of a recording
        # from before the rule). Journaled with the config.
        stall = evaluation.feeds_stall_s
        self.feeds_stall_s = float(health.stall_s if stall is None else stall)
        self.feeds: FeedSource = feeds
        # NATS JetStream as sinks: a collector publishes its feeds' inputs (it evaluates
        # nothing: ``collect_only``), the journal's chunks go to a stream too
        self.streams = streams
        self.collect_only = streams is not None and streams.collects
        self.publisher: InputPublisher | None = None  # a collector's (set by start())
        self._bg: set[asyncio.Task[None]] = set()  # fire-and-forget tasks, held until done
        self._starting: asyncio.Task[None] | None = None  # start() in progress (stop() cancels)
        self._stop_called = False
        self._start_called = False  # start() was called (it runs once)
        self.policy_arg = evaluation.policy
        self.fee_settings = evaluation.fees
        self.metrics_server: Service | None = None
        self.metrics_error = ""  # why /metrics could not listen ("" when it does, or is off)
        # the health verdict's memory (none where health is not judged: a replay)
        self.monitor: HealthMonitor | None = (
            HealthMonitor(stall_s=health.stall_s, thresholds=health.thresholds)
            if health.judge
            else None
        )
        self.live_config = live
        if live is not None and live.keypair:  # our own arbitrage is not a rival's
            try:
                self.rivals.own.add(load_wallet(live.keypair).pubkey)
            except KeypairError:
                pass  # arming says why; until then its transactions cannot be ours
        self.funded = ""  # what the embedded simulator's faucet gave the wallet
        self.source = feeds.label
        universe = watch.universe if watch.universe is not None else feeds.universe()
        self.universe = list(universe or [])
        self.base_mints = list(watch.base_mints or feeds.base_mints())
        self.max_hops, self.sweep_s = watch.max_hops, evaluation.sweep_s
        self.backend_arg, self.shadow = evaluation.backend, evaluation.shadow
        self.record = record
        self.recorder: Recorder | None = None
        self.journal: Journal | None = None
        self.session_id = ""
        self.digest = ""  # set by stop() when the recording is complete
        self.journal_error = ""  # why the recording failed or is incomplete ("" when fine)
        self._stopped = False
        self.sink: EventSink | None = None  # derived events: the recorder, a replay's sink
        self.start_error = ""
        self.idle_reason = ""  # the session can find nothing (no bases, no pools): why
        self.timer_clock = evaluation.timer_clock  # the kernel timer's (staged screens)
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.tick_s = tick_s
        # the most one slice of a turn's evaluation holds the event loop (s of
        # ``budget_clock``; the pool begun is finished); None: a turn evaluates at once
        self.slice_s: float | None = slice_s
        self.budget_clock: Callable[[], float] = time.perf_counter
        self.slices_yielded = 0  # times a turn gave the event loop back (between its parts)
        self.loop = RunLoop(self._turn, self.clock, int(tick_s * 1e9))
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
        self.timer = (
            KernelTimer(self.eng, other, clock=clock) if clock else KernelTimer(self.eng, other)
        )
        self.graphs: dict[str, Any] = {}
        ingests: dict[str, EngineIngest] = {}
        for m in (self.eng, other):
            if m is not None:
                g = m.PoolGraph(base_mints=list(self.base_mints), max_hops=self.max_hops)
                self.graphs[m.BACKEND] = g
                # each backend its own ingest (an extension without one of the twin's
                # names is refused at import, so there is no fallback to make)
                ingests[m.BACKEND] = m.FeedIngest(g)
        self.pool_kinds: dict[str, str] = {}  # what each tracked pool is (its program)
        self.ingest = TimedIngest(self.timer, ingests, kinds=self.pool_kinds)
        self.fee_estimator = self.eng.FeeEstimator()
        fs = self.fee_settings
        # one compute-unit limit for every transaction when configured (fees.cu_limit, or
        # its older name live.cu_limit), else each cycle's own: the scorer prices what the
        # live executor requests
        override = fs.cu_limit or (self.live_config.cu_limit if self.live_config else None)
        if self.live_config is not None and self.live_config.cu_limit != override:
            self.live_config = replace(self.live_config, cu_limit=override)
        fees = FeeContext(
            cu_limit=override or DEFAULT_CU_LIMIT,
            cu_price_micro_lamports=5_000,
            tip_lamports=fs.tip_lamports,
        )
        self.ev = Evaluator(
            self.eng,
            self.timer,
            self.graphs,
            fees,
            self.policy_arg,
            self.pool_kinds,
            cu_override=override,
        )
        self.slot = 0
        self.updates = 0
        self.errors = 0
        self._emitted: dict[tuple[str, tuple[str, ...]], str] = {}
        self._emitted_of: dict[tuple[str, tuple[str, ...]], tuple[Any, Any, Any]] = {}
        # the pools the frames' decisions evaluated since the last tick (its price panel's)
        self._decided: dict[str, None] = {}
        # the pools a frame's decision found halfway through a slot (one vault moved, the
        # other's copy on its way): decided on with the next frame's, or at the turn
        self._half: dict[str, None] = {}
        # the backlog: pools changed and not evaluated yet, oldest first, each once however
        # often it changed meanwhile (its newest state is what is evaluated), with when it
        # joined (monotonic ns: the status line's age, never a decision's input)
        self._backlog: OrderedDict[str, int] = OrderedDict()
        # the pools the turn's slices evaluated so far (the price panel's, at the turn's end)
        self._sliced: dict[str, None] = {}
        self._sweep_key = ""
        self.rate = UpdateRate()
        self._last_sweep_t = 0.0
        self._coverage_ns = -COVERAGE_EVERY_NS  # when the uncovered pools were last looked at
        self._last_health_ns = 0
        self._now_ns = 0
        # a frame's decision's ``DECIDE`` input not journaled yet (its time; None: none):
        # written before any other input and at the decision's end, so after the order's
        # request (the journal's order of inputs is the same)
        self._decide_owed: int | None = None
        # the live cycles whose fast-path templates were compiled ahead, and when
        self._warmed: dict[OppKey, int] = {}
        # whether anyone will show this session: a headless replay does not feed the
        # price panel's book (not part of the decisions)
        self.snapshots = True
        self.prices = PriceBook(self.eng)
        # the tokens' names and decimals: read once after the snapshot, in a task of its
        # own (the screen shows the well-known table and mint prefixes until then); a
        # replay's comes from its journal
        self.registry = TokenRegistry()
        self._names_task: asyncio.Task[None] | None = None
        self._tips_task: asyncio.Task[None] | None = None
        # the feeds' health and the verdict as of the latest tick (the snapshot shows
        # them; judging every tick keeps the verdict's memory as fine-grained as before)
        feeds = self.feed_health()
        self._health: tuple[list[FeedHealth], Verdict | None] = (feeds, self._verdict(feeds))
        self._snap: Snapshot | None = None

    # ------------------------------------------------------------ the evaluator's state
    # (read by /metrics, the headless status line, the journal's close and tests)
    @property
    def graph(self) -> Any:
        """The active backend's pool graph."""
        return self.ev.graph

    @property
    def live(self) -> dict[tuple[str, tuple[str, ...]], tuple[Opportunity, Score]]:
        """The profitable cycles now, by (base mint, pools)."""
        return self.ev.live

    @property
    def found(self) -> int:
        return self.ev.found

    @property
    def last_sweep(self) -> Cycle | None:
        return self.ev.last_sweep

    @property
    def fees(self) -> FeeContext:
        return self.ev.fees

    @property
    def policy(self) -> ScorePolicy:
        return self.ev.policy

    @property
    def broker(self) -> PaperBroker | None:
        return self.ev.broker

    @property
    def executor(self) -> LiveExecutor | None:
        return self.ev.executor

    @property
    def mode(self) -> str:
        """PAPER | LIVE: the execution mode."""
        return self.ev.mode

    @property
    def halted(self) -> bool:
        return self.ev.halted

    # ------------------------------------------------------------ the feeds' (its source's)
    @property
    def endpoints(self) -> Sequence[Endpoint]:
        """The session's own endpoints (the simulator's once it started)."""
        return self.feeds.endpoints

    @property
    def pool(self) -> FeedPool | None:
        """The session's own sockets (None until started, or without endpoints)."""
        return self.feeds.pool

    @property
    def boot(self) -> Bootstrap | None:
        """What the snapshot of the pools found."""
        return self.feeds.boot

    @property
    def commitment(self) -> str:
        return self.feeds.commitment

    @property
    def ca_file(self) -> str | None:
        return self.feeds.ca_file

    # ------------------------------------------------------------ read by /metrics, /health
    def versions(self) -> dict[str, Any]:
        return versions(self.eng)

    def pool_count(self) -> int:
        return len(self.graph)

    def lamport_prices(self) -> Mapping[str, LamportPrice | None]:
        prices = self.ev.lamport_prices
        return {b: prices.get(b) for b in self.graph.base_mints()}

    def regions(self) -> Sequence[RegionView]:
        return self.feeds.regions()

    def config(self) -> dict[str, Any]:
        """What the session was started with, as journaled (URLs redacted)."""
        src = self.feeds.config()
        return {
            "seed": self.seed,
            "source": self.source,
            "sim": src["sim"],
            "endpoints": src["endpoints"],
            "sim_grpc": src["sim_grpc"],
            "pools": len(self.universe),
            "base_mints": self.base_mints,
            "max_hops": self.max_hops,
            "sweep_s": self.sweep_s,
            "backend": self.eng.BACKEND,
            "policy": dataclasses.asdict(self.policy),
            "fees": dataclasses.asdict(self.fee_settings),
            "live": None if self.live_config is None else self.live_config.shown(),
            "sim_accept_tx": self.feeds.faucet is not None,
            "commitment": self.commitment,
            "feeds_stall_s": self.feeds_stall_s,
            # the signers' names (the labels file): a replay shows the Rivals panel as it was
            "rival_labels": dict(self.rivals.labels),
            "rival_own": sorted(self.rivals.own),
            # the prop AMMs' programs read, and the follow rule: a replay shows the same
            "prop_amms": dict(self.prop_programs),
            "prop_follow_bps": self.props.follow_bps,
        }

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Open the journal (when recording), start the simulator (if embedded),
        snapshot the pools, open the feeds. A failure is kept in ``start_error`` and
        shown; it never raises. :meth:`stop` during a start cancels it (an endpoint that
        never answers must not hold up a quit or a SIGTERM). Once only: a second call
        (a dashboard handed a session its caller started) waits for the first one's end
        and starts nothing again (a second journal session, feeds and executor, the first
        ones left open and running)."""
        if self._start_called:
            starting = self._starting
            if starting is not None:
                await asyncio.wait([starting])
            return
        self._start_called = True
        self._starting = asyncio.ensure_future(self._start())
        try:
            await self._starting
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not self._stop_called or (task is not None and task.cancelling()):
                raise  # our caller was cancelled, not stopped by stop()
            log.info("session stopped while starting")
        finally:
            self._starting = None

    async def _start(self) -> None:
        await self._start_metrics()
        try:
            feeds = self.feeds
            await feeds.prepare()
            if not self.base_mints:  # what the collectors watch
                bases = await feeds.announced_base_mints()
                if bases:
                    self.base_mints = bases
                    self._setup_engine()
            # what the feeds are handed: the ingest itself, or a facade over the stages
            # that record (the tee) and forward (a collector's) in front of it
            ingest: Ingest = self.ingest
            record: InputSink | None = None  # the recorder's input, when it records
            if self.record is not None:
                self.journal = await Journal.open(self.record.db)
                journal = self.journal
                target = await self.streams.journal(journal) if self.streams else journal
                self.recorder = await Recorder.start(
                    target,
                    "sim" if feeds.simulated else "live",
                    self.config(),
                    versions(self.eng),
                    self.record.batch_s,
                    self.record.codec,
                    self.record.max_pending_bytes,
                    encoder=self.eng.DeltaEncoder(),
                )
                self.session_id = self.recorder.session
                self.sink = self.recorder
                record = self.recorder.input
                ingest = inputs.IngestFacade(inputs.Tee(self.ingest, record), self.ingest)
            await feeds.open()
            if self.streams is not None:
                names = [e.name for e in self.endpoints]
                self.publisher = await self.streams.publisher(names, self.base_mints, self.source)
                if self.publisher is not None:
                    # a collector forwards what it has no use for: the frames it reads
                    # nothing in go to the stream (and the journal) without its ingest
                    put = self.publisher.add
                    forwarder = inputs.Forwarder(
                        self.ingest,
                        put if record is None else _both(put, record),
                        logs=self.watch_rivals,
                        put_copies=record is None,  # the publisher copies; a recorder keeps
                    )
                    ingest = inputs.IngestFacade(forwarder, self.ingest)
            await feeds.start(
                SourceLink(
                    ingest,
                    self.eng,
                    self.universe,
                    self,
                    self._fee_accounts,
                    self._nothing_to_find,
                    self._own_started,
                    seed=self.seed,
                    rivals=self.watch_rivals,
                    follow_programs=sorted(self.prop_programs) if self.watch_rivals else (),
                    reconcile=not self.collect_only,
                )
            )
            url = self._tip_floor_url()
            if url:
                self._tips_task = asyncio.create_task(self._poll_tips(url), name="tip-floor")
        except NothingToFind as exc:  # it would run forever and find nothing: say so
            self.idle_reason = self.start_error = f"nothing to find: {exc}"[:300]
            log.error("%s", self.start_error)
        except Exception as exc:  # a dead endpoint is a message, not a traceback
            self.start_error = f"{type(exc).__name__}: {exc}"[:300]
            log.error("session failed to start: %s", self.start_error)
        self._setup_live()
        self._snap = None  # what the start found (its note, the live view) shows now
        if self.executor is not None and self.feeds.faucet is not None and not self.start_error:
            await self.fund_from_faucet()
        if not self.start_error:
            heap.settle()  # the start's structures are for the session's life
            boot = self.boot
            log.info(
                "session %s started: %s, %d endpoints, %d pools (%d missing, %d rejected), "
                "base %s, recording %s",
                self.session_id or "(not recorded)",
                self.source,
                len(self.endpoints),
                boot.pools if boot else 0,
                len(boot.missing) if boot else 0,
                len(boot.rejected) if boot else 0,
                ",".join(self.registry.book.symbol(b) for b in self.base_mints),
                "yes" if self.recorder is not None else "no",
            )

    def _own_started(self) -> None:
        """The session's own sockets are up: the token names are read now."""
        self._names_task = asyncio.create_task(self._learn_tokens(), name="tokens")

    async def _fetch_accounts(self, keys: Sequence[str]) -> dict[str, RawAccount | None]:
        return await self.feeds.fetch_accounts(keys)

    async def _learn_tokens(self) -> None:
        """Read the graph's mints and their metadata, then cache what was learnt in the
        journal with the session, for its replays; asked again after
        :data:`TOKEN_RETRY_S` while no endpoint answered (a node under load: the real
        node's first answer came after the 5 s timeout, and one lost request left every
        token unnamed for the session). Never raises: a failure leaves the fallbacks on
        the screen and says why in the log."""
        self.registry.fetch = self._fetch_accounts
        for wait in (0.0, *TOKEN_RETRY_S):
            if wait:
                log.info("tokens: no endpoint answered; asking again in %g s", wait)
                await asyncio.sleep(wait)
            try:
                seen = len(self.registry.problems)
                new = await self.registry.resolve(self.ev.graph.tokens())
                self.ev.set_names(self.registry.book)
                if self.publisher is not None:  # a collector: its consumers have no RPC
                    rows = [dataclasses.asdict(t) for t in self.registry.book.tokens.values()]
                    self._input(Kind.TOKENS, rows)
                for problem in self.registry.problems[seen:]:
                    log.warning("tokens: %s", problem)
                self._snap = None
                log.info(
                    "tokens: %d read (%s)",
                    len(new),
                    ", ".join(sorted(t.symbol for t in new if t.symbol))[:300],
                )
                if self.journal is not None and self.session_id and new:
                    rows = [dataclasses.asdict(t) for t in new]
                    await self.journal.put_tokens(self.session_id, rows)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the names are a nicety: never the session's end
                log.warning("tokens: not read: %s: %s", type(exc).__name__, exc)
                return
            if not self.registry.unanswered:
                return

    def on_tokens(self, rows: Sequence[dict[str, Any]]) -> None:
        """Token names a region's collector read (a consumer reads none itself): added
        to the registry, and to the journal for the session's replays."""
        try:
            known = self.registry.book.tokens
            new = [t for t in (TokenInfo(**r) for r in rows) if t.mint not in known]
        except TypeError as exc:
            log.warning("tokens from a collector not read: %s", exc)
            return
        if not new:
            return
        self.registry.book = TokenBook({**known, **{t.mint: t for t in new}})
        self.ev.set_names(self.registry.book)
        self._snap = None
        log.info(
            "tokens: %d from the collectors (%s)",
            len(new),
            ", ".join(sorted(t.symbol for t in new if t.symbol))[:300],
        )
        if self.journal is not None and self.session_id:
            task = asyncio.get_running_loop().create_task(
                self._journal_tokens([dataclasses.asdict(t) for t in new]), name="tokens-journal"
            )
            self._bg.add(task)  # held until done (the loop keeps only weak references)
            task.add_done_callback(self._bg.discard)

    async def _journal_tokens(self, rows: list[dict[str, Any]]) -> None:
        if self.journal is None:
            return
        try:
            await self.journal.put_tokens(self.session_id, rows)
        except Exception as exc:  # the names are a nicety: never the session's end
            log.warning("tokens: not journaled: %s: %s", type(exc).__name__, exc)

    def use_tokens(self, rows: Sequence[dict[str, Any]]) -> None:
        """Names from a journal (a replay): what the recording session read."""
        self.registry = TokenRegistry(known=[TokenInfo(**r) for r in rows])
        self.ev.set_names(self.registry.book)
        self._snap = None

    def _nothing_to_find(self, boot: Bootstrap) -> str:
        """Why this session cannot find a cycle after its snapshot ("" when it can): no
        pool of the universe made it into the graph, or none trades a base mint."""
        if not self.base_mints:
            return (
                "no base mints (market.base_mints, or the pools file's base_mints): "
                "cycles start and end in a base mint"
            )
        if not self.universe:
            return "the pool universe is empty"
        if boot.pools == 0:
            return (
                f"none of the {len(self.universe)} pools of the universe is on "
                f"{boot.endpoint or 'the endpoints'} ({len(boot.missing)} not found, "
                f"{len(boot.rejected)} rejected): check market.pools_file and that the "
                "endpoints serve the cluster it was written for"
            )
        if not set(self.graph.tokens()) & set(self.base_mints):
            bases = ", ".join(b[:8] + "…" for b in self.base_mints)
            return f"no pool of the universe trades a base mint ({bases})"
        return ""

    async def _start_metrics(self) -> None:
        serve = self.health.serve
        if serve is None or self.metrics_server is not None:
            return
        server = serve(self)
        try:
            await server.start()
        except OSError as exc:  # the session goes on; the screen and the log say why
            self.metrics_error = (
                f"metrics: cannot listen on {server.host}:{server.port} ({exc.strerror})"
            )
            log.error("%s", self.metrics_error)
            return
        self.metrics_server = server

    def _setup_live(self) -> None:
        """The live executor, when the session has a live configuration (the embedded
        simulator's URLs stand in for missing ones)."""
        cfg = self.live_config
        if cfg is None or not self.base_mints:
            return
        if self.feeds.simulated and self.endpoints:
            ep = self.endpoints[0]
            cfg = replace(cfg, rpc=cfg.rpc or ep.http, ws=cfg.ws or ep.ws)
            self.live_config = cfg
        if not cfg.blockhash_rpcs:  # the feeds' nodes: the blockhash read from each too
            hedge = tuple(e.http for e in self.endpoints if e.http)
            cfg = self.live_config = replace(cfg, blockhash_rpcs=hedge)
        # the UTC day's total across runs comes from the journal (no journal: live refused)
        ledger = (
            JournalLedger(self.journal, self.recorder)
            if self.journal is not None and self.recorder is not None
            else None
        )
        self.ev.executor = LiveExecutor(
            cfg,
            self.base_mints[0],
            lambda: self.graph,
            lambda: self.sink,
            sendable=self.ev.sendable,
            ledger=ledger,
        )
        self.ev.executor.core.on_landing = self.on_landing
        # an order refused because a hop paid less than its quote: its pools are read
        # again at once through the trusted path (the state held may be stale)
        self.ev.executor.core.on_stale = self._reconcile_now
        self.ev.on_link = self.on_link
        # the fast path builds on the state the session holds (its ingest's, now)
        self.ev.executor.core.state_of = lambda pool: self.ingest.record(pool)

    def _reconcile_now(self, pools: list[str]) -> None:
        """Read ``pools``' accounts again at once (the feeds' reconcile), when the session
        has sockets of its own."""
        pool = self.feeds.pool
        if pool is not None:
            pool.reconcile_now(pools)

    async def fund_from_faucet(self, lamports: int = 10 * 10**9, base: int = PAPER_BALANCE) -> str:
        """Give the live wallet SOL and base tokens from the embedded simulator's faucet
        (``--sim-accept-tx``): what a devnet airdrop is to a real trial. A message."""
        faucet = self.feeds.faucet
        if faucet is None or self.live_config is None:
            return ""
        from .execution.keys import KeypairError, load_wallet

        try:
            w = load_wallet(self.live_config.keypair or "")
        except KeypairError as exc:
            return f"faucet: {exc}"
        faucet.fund(w.pubkey, lamports, self.base_mints[0], base)
        self.funded = f"faucet: {lamports / 1e9:g} SOL and {base:,} base units to {w.pubkey[:8]}…"
        return self.funded

    async def request_live(self) -> tuple[bool, str]:
        """Paper -> live, after the typed confirmation: every guard rail is checked again
        (the executor's ``arm``). A replay has no such capability."""
        if self.executor is None:
            return False, (
                "this session has no live configuration: start it with --keypair, "
                "--send-rpc, --max-trade and --max-day"
            )
        if self.feeds.simulated and self.feeds.faucet is None:
            return False, (
                "the embedded simulator does not accept transactions: run with "
                "--sim-accept-tx to trade live against it"
            )
        ok, why = await self.executor.arm()
        if ok:
            self.ev.mode, self.ev.halted = "LIVE", False
            self._snap = None
        return ok, why

    async def stop(self) -> None:
        """Unsubscribe and close the feeds, stop the simulator, then flush the journal
        and store the session's digest (once; a second call does nothing). A start still
        in progress is cancelled first (its pending requests with it). A journal that
        fails here never raises: ``journal_error`` says what happened."""
        self._stop_called = True
        starting = self._starting
        if starting is not None and not starting.done():
            starting.cancel()
            await asyncio.wait([starting])
        if self._stopped:
            return
        self._stopped = True
        try:
            await self._stop()
        finally:
            if self.metrics_server is not None:
                await self.metrics_server.stop()
                self.metrics_server = None
        if self.digest:
            journal = f"flushed, digest {self.digest[:16]}"
        elif self.session_id:
            journal = f"INCOMPLETE: {self.journal_error}"
        else:
            journal = "not recorded"
        log.info(
            "session %s stopped: slot %d, %d updates, journal %s",
            self.session_id or "(not recorded)",
            self.slot,
            self.updates,
            journal,
        )

    async def _stop(self) -> None:
        tasks = [t for t in (self._names_task, self._tips_task) if t is not None and not t.done()]
        self._names_task = self._tips_task = None
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        try:
            if self.executor is not None:
                await self.executor.close()
            await self.feeds.stop()
            if self.publisher is not None:  # what was received is acknowledged first
                await self.publisher.stop()
        finally:
            try:
                await self._close_journal()
            finally:
                if self.streams is not None:
                    await self.streams.close()

    async def _close_journal(self) -> None:
        """Flush and close the recording, and the journal (also when the recording never
        started: an open connection would keep the process from exiting)."""
        rec = self.recorder
        try:
            if rec is not None:
                rec.emit(Timings(self.timer.rows()), self.slot)
                pnl = self.broker.pnl if self.broker is not None else 0
                try:
                    self.digest = await rec.close(float(pnl))  # paper PnL, base units
                except JournalError:
                    pass  # rec.incomplete says what was and was not written
                if rec.incomplete:  # the recorder's own words (the count the log stated)
                    self.journal_error = (
                        f"{rec.incomplete}; session {rec.session} stays INCOMPLETE: "
                        "`arbscope replay` replays it up to there"
                    )
        finally:
            if self.journal is not None:
                await self.journal.close()
                self.journal = None
            if rec is not None:
                self.recorder = self.sink = None

    # ------------------------------------------------------------ the session's own inputs
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

    def _owe_nothing(self) -> None:
        """Journal the frame's decision's ``DECIDE`` input :meth:`decide` put off."""
        owed, self._decide_owed = self._decide_owed, None
        if owed is not None:
            self._input(Kind.DECIDE, owed)

    def on_fees(self, samples: list[tuple[int, int]]) -> None:
        """Recent prioritization fees (``(slot, micro-lamports per CU)``): the estimator's,
        what paper's orders compete against; the scorer's price when it moved (``fee``)."""
        self._input(Kind.FEES, samples)
        newest = self.fee_estimator.newest_slot
        fresh = [(s, f) for s, f in samples if newest is None or s > newest]
        if fresh and self.ev.broker is not None:  # what paper's orders compete against
            self.ev.broker.fee_samples.extend(f for _, f in fresh)
        if fresh:
            ev = self.ev
            before = ev.fees.cu_price_micro_lamports
            try:
                self.fee_estimator.add_many(fresh)
                rec = self.fee_estimator.recommend(DEFAULT_CU_LIMIT, self.fee_settings.percentile)
                ev.fees = replace(ev.fees, cu_price_micro_lamports=rec.cu_price_micro_lamports)
            except EngineError:
                self.errors += 1
            if self.sink is not None and ev.fees.cu_price_micro_lamports != before:
                self.sink.emit(
                    FeeChange(self.fees.cu_price_micro_lamports, self.fee_estimator.newest_slot),
                    self.slot,
                    self._now_ns,
                )

    def _fee_accounts(self) -> list[str]:
        """The pools the fee poll asks about: those of the orders in flight (paper and
        live), then of the best cycles (what the next orders will write)."""
        out: dict[str, None] = {}
        b = self.ev.broker
        if b is not None:
            for order in b.pending:
                out.update(dict.fromkeys(order.opp.pools))
        ex = self.ev.executor
        if ex is not None:
            for lo in list(ex.orders)[-8:]:
                out.update(dict.fromkeys(lo.pools))
        best = sorted(self.ev.live.values(), key=lambda v: -v[1].net_profit)[:16]
        for opp, _ in best:
            out.update(dict.fromkeys(opp.pools))
        return list(out)[:128]

    def _tip_floor_url(self) -> str:
        """Where the block engines' tip floor is read (paper's orders race the bundles
        that landed there, tipping or not: a plain transaction lands behind a bundle that
        pays more per compute unit): the first live block engine, else the embedded
        simulator's (it serves Jito's endpoint); "" when there is neither."""
        cfg = self.live_config
        if cfg is not None and cfg.engines():
            return str(cfg.engines()[0])
        if self.feeds.simulated and self.endpoints:
            return self.endpoints[0].http or ""
        return ""

    async def _poll_tips(self, url: str) -> None:
        """Read the tip floor every ``TIP_FLOOR_S`` seconds (``on_tips``); a failure is
        logged and the last one stands."""
        import aiohttp

        from feeds.clients.tls import ssl_for

        from .execution.routes import PERCENTILES, fetch_tip_floor

        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    answer = await fetch_tip_floor(http, url, ssl_for(url, self.ca_file))
                    row = answer[0] if isinstance(answer, list) else answer
                    tips = [
                        round(float(row[f"landed_tips_{p}th_percentile"]) * 1e9)
                        for p in PERCENTILES
                    ]
                    if all(t >= 0 for t in tips):
                        self.on_tips(tips)
                except (
                    ValueError,
                    KeyError,
                    TypeError,
                    IndexError,
                    aiohttp.ClientError,
                    asyncio.TimeoutError,
                    OSError,
                ) as exc:
                    log.warning("tip floor: %s", scrub(str(exc), url)[:200])
                await asyncio.sleep(TIP_FLOOR_S)

    def on_tips(self, lamports: list[int]) -> None:
        """The block engines' landed tips (lamports at the 25th ... 99th percentile):
        what paper's bundles compete against. Journaled as an input."""
        self._input(Kind.TIPS, lamports)
        if self.ev.broker is not None:
            self.ev.broker.tip_floor = tuple(int(x) for x in lamports)

    def on_landing(self, slots: int, send_ns: int = 0) -> None:
        """A live order landed ``slots`` after its decision, sent ``send_ns`` after it:
        paper lands its orders on the live orders' measured latency. Journaled as an
        input."""
        self._input(Kind.LANDING, slots, send_ns)
        if self.ev.broker is not None:
            self.ev.broker.observe_landing(int(slots), int(send_ns))

    # ------------------------------------------------------------ the tick
    def tick(self, now_ns: int | None = None) -> None:
        """Re-evaluate every pool that changed since the last tick (and every one of the
        backlog); sweep on a timer; execute. ``now_ns`` is the session's clock: without it
        the tick is a live one at the clock's time, journaled as a ``TICK`` input; a replay
        passes the recorded one. The snapshot is built when someone reads it, not here."""
        if now_ns is None:
            self._begin_turn(self.clock.now_ns())
            self._input(Kind.TICK, self._now_ns)
            self._tick(self._now_ns, evaluate=True)
            return
        self._tick(now_ns, evaluate=True)

    def end_turn(self, now_ns: int) -> None:
        """The rest of a turn whose evaluation was done in slices (:meth:`evaluate_slice`;
        a ``TURN`` input): the sweep, execution, events and health of a tick, evaluating
        nothing itself; what still waits in the backlog is the next turn's."""
        self._tick(now_ns, evaluate=False)

    def _tick(self, now_ns: int, evaluate: bool) -> None:
        self._now_ns = now_ns
        if self.collect_only:  # a collector publishes; the consumers evaluate
            self.ingest.take_changed()
            self.slot = self.ingest.stats().slot
            feeds = self.feed_health()
            self._health = (feeds, self._verdict(feeds))
            self._snap = None
            return
        ev = self.ev
        ev.hold(self._stalled(now_ns))  # before the tick's scores: they carry it
        ex = ev.live_executor()
        if ex is not None:  # live: the order's latency starts at the frame that moved it
            ex.core.trigger_ns, ex.core.turn_ns = self.ingest.change_ns, time.monotonic_ns()
        changed: list[str] = []
        if evaluate:  # a whole tick: every pool waiting, at once
            self._absorb()
            changed = list(self._backlog)
            self._backlog.clear()
            self._evaluate(changed)
        if ex is not None:
            ex.core.evaluated_ns = time.monotonic_ns()
        if self._sliced:  # evaluated by the turn's slices
            changed = [*self._sliced, *(p for p in changed if p not in self._sliced)]
            self._sliced.clear()
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
        rivals = self.rivals
        rivals.observe(self.slot, ev.live, ev.fees.cu_price_micro_lamports)
        if ev.broker is not None:
            for order in ev.broker.pending:
                rivals.traded(order.key[1], order.key[0], order.slot)
        for f in fills:
            if f.ok:
                rivals.landed(f.slot_landed or f.slot_filled)
        if self._decided:  # evaluated by the frames' decisions since the last tick
            changed = [*self._decided, *(p for p in changed if p not in self._decided)]
            self._decided.clear()
        if self.snapshots:  # the screen's price panel (not part of the replayed decisions)
            # slot 0: no slot notification yet (the prices are shown, not charted)
            self.prices.update(self.graph, changed, self.slot or None)
            if self.props.pairs and self.slot:  # the public mids the prop AMMs lead
                self.props.follow(self.slot, self.prices.mids())
        self.rate.add(now, self.updates)
        if self.sink is not None:
            self._emit(self.sink, now_ns)
        feeds = self.feed_health()
        self._health = (feeds, self._verdict(feeds))
        self._snap = None
        # trading live on its own: a frame that moves a pool is decided on in its own call,
        # not at the next period (tick to trade); otherwise the periodic turn decides
        auto_live = ex is not None and ev.broker is not None and ev.broker.auto and not ev.halted
        self.ingest.on_change = self._frame_moved if auto_live else None
        if ex is not None and ex.armed and ex.core.fast_path:
            self._prewarm(ex, now_ns)

    def _prewarm(
        self,
        ex: LiveExecutor,
        now_ns: int,
        keys: Iterable[OppKey] | None = None,
        budget_ns: int = PREWARM_NS,
    ) -> None:
        """The fast path's templates (swaps, message) of the best live cycles (of
        ``keys``; None: of all) not compiled lately compiled ahead
        (``LiveExecutor.prewarm``), for at most ``budget_ns``: at the turn, and after a
        frame's decision for the cycles it made live — a frame that makes one go then
        sends it without compiling them on the way. Decides nothing (a replay has no
        executor)."""
        warmed, live, base = self._warmed, self.ev.live, ex.base
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

    def _evaluate(self, changed: Sequence[str]) -> list[OppKey]:
        """Re-evaluate every cycle through the ``changed`` pools (counted as updates); the
        live cycles' keys."""
        return [k for keys in self._evaluating(changed, self.slot) for k in keys]

    def _evaluating(self, changed: Sequence[str], slot: int) -> Iterator[list[OppKey]]:
        """:meth:`_evaluate` pool by pool, at ``slot``: each pool's live cycles' keys once
        its cycles are evaluated."""
        if not changed:
            return
        self.ev.refresh_prices()  # a lamport's price in each base, as the graph holds it now
        for pool_id in changed:
            yield self._evaluate_pool(pool_id, slot)

    def _evaluate_pool(self, pool_id: str, slot: int) -> list[OppKey]:
        """Every cycle through ``pool_id`` evaluated at ``slot`` (one update); its live
        cycles' keys."""
        ev = self.ev
        keys: list[OppKey] = []
        try:
            keys = ev.evaluate(pool_id, slot)
        except UnknownPoolError:  # it left the graph (a bad state): its cycles go too
            ev.drop_pool(pool_id)
        except EngineError:
            self.errors += 1
        self.updates += 1
        return keys

    def _frame_moved(self) -> None:
        """The ingest's ``on_change`` while trading live on its own: :meth:`decide` now,
        inside the frame's call. Whatever goes wrong is counted and logged, never raised
        into the feed that delivered the frame."""
        try:
            self.decide()
        except Exception:  # the feed's worker must go on; the next tick decides again
            self.errors += 1
            log.exception("deciding on a frame failed")

    def decide(self, now_ns: int | None = None) -> None:
        """A frame moved pools while the session trades live on its own: evaluate them and
        decide on their cycles now (tick to trade), not at the next turn; the rest of a
        turn's work (the sweep, paper fills, the screen) waits for the turn. ``now_ns`` is
        the session's clock: without it the decision is a live one, journaled as a
        ``DECIDE`` input, so a replay decides the same at the same point of the inputs —
        before any input the decision journals (``LINK``) and at its end, so the order's
        request is written first (:meth:`_owe_nothing`)."""
        if now_ns is None:
            now_ns = self.clock.now_ns()
            self._sync_wallet()
            self._decide_owed = now_ns
            try:
                decided = self._decide(now_ns)
            finally:
                self._owe_nothing()
            ex = self.ev.live_executor()
            if decided and ex is not None and ex.armed and ex.core.fast_path:
                # after the orders went: the cycles the frame made live, compiled ahead
                # for the frame that makes one go
                self._prewarm(ex, now_ns, decided, PREWARM_FRAME_NS)
            return
        self._decide(now_ns)

    def _decide(self, now_ns: int) -> set[OppKey]:
        """:meth:`decide` at ``now_ns``, once journaled (or replayed); the live cycles'
        keys it decided on."""
        self._now_ns = now_ns
        ev = self.ev
        ex = ev.live_executor()
        if ex is not None:  # the order's latency starts at the frame that moved it
            ex.core.trigger_ns, ex.core.turn_ns = self.ingest.change_ns, time.monotonic_ns()
        changed = self._held_back(self.ingest.take_changed())
        if changed:  # a pool halfway through a slot waits for the rest of it
            half = self.ingest.half_moved(changed)
            if half:
                self._half = dict.fromkeys(half)
                changed = [p for p in changed if p not in self._half]
        if not changed:
            return set()
        backlog = self._backlog
        for p in changed:
            self._decided[p] = None
            backlog.pop(p, None)  # evaluated now, on its newest state
        # each pool's cycles decided on as soon as they are evaluated (tick to trade: an
        # order goes out before the other pools' cycles are evaluated), each cycle once (at
        # its first pool: the graph is the same for every pool of the call); evaluated at
        # the slot the session had, decided at the ingest's (as one pass over them all)
        evaluated_at, slot = self.slot, int(self.ingest.stats().slot)
        if ev.broker is not None:
            ing = self.ingest
            ev.broker.slot_clock = (ing.slot_seen, ing.slot_t_ns, ing.slot_len_ns)
        decided: set[OppKey] = set()
        try:
            for keys in self._evaluating(changed, evaluated_at):
                fresh = [k for k in keys if k not in decided]
                if fresh:
                    decided.update(fresh)
                    if ex is not None:
                        ex.core.evaluated_ns = time.monotonic_ns()
                    ev.decide(slot, now_ns, fresh)
        finally:
            self.slot = slot
            self._snap = None
        return decided

    def _held_back(self, changed: list[str]) -> list[str]:
        """``changed`` with the pools a frame's decision held back (halfway through a
        slot) first; none is held back any more."""
        if not self._half:
            return changed
        out = [*self._half, *(p for p in changed if p not in self._half)]
        self._half.clear()
        return out

    def _stalled(self, now_ns: int) -> str:
        """:data:`~arbscope.market.REASON_FEEDS_STALLED` when no feed has brought a new
        slot for ``feeds_stall_s`` at ``now_ns`` — every endpoint silent or frozen, a
        region's collector stopped — else "". The same fact ``/health`` judges (the slot
        standing still), from what is journaled (the tick's time and the frames'), so a
        replay decides the same."""
        limit_ns = int(self.feeds_stall_s * 1e9)
        since = int(self.ingest.slot_t_ns or 0)  # 0: no slot yet
        if limit_ns <= 0 or not since or now_ns - since <= limit_ns:
            return ""
        return REASON_FEEDS_STALLED

    def _begin_turn(self, now_ns: int) -> None:
        """What a live turn does before it evaluates: at most every
        ``COVERAGE_EVERY_NS``, the pools no endpoint covers; the live wallet."""
        self._now_ns = now_ns
        if now_ns - self._coverage_ns >= COVERAGE_EVERY_NS:
            uncovered = self.feeds.uncovered_pools()  # None: its collectors say them
            if uncovered is not None:
                self._coverage_ns = now_ns
                bare = sorted(uncovered)
                if frozenset(bare) != self.ev.uncovered:
                    self.on_uncovered(bare)
        self._sync_wallet()

    async def _turn(self, now_ns: int) -> None:
        """The run loop's turn at ``now_ns``. Its evaluation is done in slices of at most
        ``slice_s`` (each journaled, ``SLICE``), the event loop given back between them, so
        a key, a redraw or a frame never waits for more than one slice: the turn evaluates
        the pools waiting when it began (the backlog, each pool once on its newest state,
        however often it changed), the pools that change meanwhile join the backlog for
        the next turn. Then the rest of the tick (``TURN``): sweep, execution, events. A
        collector (it evaluates nothing), or ``slice_s`` None, ticks whole (``TICK``)."""
        self._begin_turn(now_ns)
        if self.collect_only or self.slice_s is None:
            self._input(Kind.TICK, now_ns)
            self._tick(now_ns, evaluate=True)
            return
        left: int | None = None  # the pools of the turn still to evaluate
        while True:
            await self._yield()  # the event loop's turn: keys, redraws, frames
            n, waiting = self._slice_now(now_ns, left)
            left = (waiting if left is None else left) - n
            if left <= 0 or n == 0:
                break
        await self._yield()  # the turn's end (feeds' health, sweep, fills) a step of its own
        self._input(Kind.TURN, now_ns)
        self._tick(now_ns, evaluate=False)

    async def _yield(self) -> None:
        """Give the event loop its turn between two parts of a turn."""
        self.slices_yielded += 1
        await asyncio.sleep(0)

    def _slice_now(self, now_ns: int, most: int | None) -> tuple[int, int]:
        """A live slice: :meth:`_slice` for at most ``slice_s`` of the budget clock
        (``most`` pools at most; None: as many as wait), journaled once it is known how
        many pools it evaluated (``SLICE``; nothing else is journaled meanwhile, and a
        slice that raised is journaled with the pools it began)."""
        budget = self.slice_s or 0.0
        clock = self.budget_clock
        until = clock() + budget
        done = [0]
        try:
            waiting = self._slice(now_ns, most, lambda: clock() >= until, done)
        finally:
            if done[0]:
                self._input(Kind.SLICE, now_ns, done[0])
        return done[0], waiting

    def evaluate_slice(self, now_ns: int, n: int) -> None:
        """One slice of a turn's evaluation (a ``SLICE`` input, as a replay applies it):
        the pools changed since join the backlog, then its first ``n`` are evaluated."""
        self._slice(now_ns, n, lambda: False, [0])

    def _slice(
        self, now_ns: int, most: int | None, over: Callable[[], bool], done: list[int]
    ) -> int:
        """The pools changed since the last slice join the backlog (a pool already there
        keeps its place), then its oldest are evaluated, each on its newest state, until
        ``most`` (None: the backlog's size then) or ``over()`` after a pool; ``done[0]``
        counts them as they begin. The backlog's size before evaluating."""
        self._absorb()
        backlog = self._backlog
        waiting = len(backlog)
        if not waiting:
            return 0
        self._now_ns = now_ns
        ev = self.ev
        ev.hold(self._stalled(now_ns))  # before the slice's scores: they carry it
        ev.refresh_prices()  # a lamport's price in each base, as the graph holds it now
        most = waiting if most is None else min(most, waiting)
        slot, sliced = self.slot, self._sliced
        while done[0] < most:
            pool, _ = backlog.popitem(last=False)
            done[0] += 1
            sliced[pool] = None
            self._evaluate_pool(pool, slot)
            if over():
                break
        return waiting

    def _absorb(self) -> None:
        """The pools changed since the last look (and those a frame's decision held back)
        join the backlog, each once: one already waiting keeps its place."""
        changed = self._held_back(self.ingest.take_changed())
        if changed:
            t, backlog = time.monotonic_ns(), self._backlog
            for p in changed:
                if p not in backlog:
                    backlog[p] = t

    @property
    def backlog(self) -> tuple[int, float]:
        """The pools waiting to be evaluated and how long the oldest has waited (s; 0 when
        none wait): the market outrunning the machine shows here."""
        if not self._backlog:
            return 0, 0.0
        oldest = next(iter(self._backlog.values()))
        return len(self._backlog), max(0.0, (time.monotonic_ns() - oldest) / 1e9)

    def _sync_wallet(self) -> None:
        """Before a live decision point (a turn, a frame's decision, the operator's order):
        when live was armed or disarmed or the wallet's token accounts changed, journal the
        wallet the cycles are scored with from now on (``WALLET``) and score them again."""
        moved = self.ev.wallet_moved()
        if moved is not None:
            self.on_wallet(*moved)

    def on_wallet(self, armed: bool, base: str, accounts: dict[str, bool]) -> None:
        """The live wallet the cycles are scored with (how many token accounts a cycle's
        transaction would create counts in its compute units): journaled as an input
        (``WALLET``), so a replay of a live session scores as it did."""
        self._input(Kind.WALLET, armed, base, accounts)
        self.ev.set_wallet(armed, base, accounts)

    def on_transaction(self, tx: TxView) -> None:
        """A transaction that touched a watched pool (its body and meta): journaled and
        published as an input (``TRANSACTION``), classified, and, when it is someone
        else's arbitrage on our pools, compared with what we held (``rival`` event)."""
        self._input(Kind.TRANSACTION, tx)
        if self.prop_programs:
            obs = observe_prop(tx, self.prop_programs)
            if obs is not None and self.props.add(obs):
                self._snap = None
        try:
            rt = classify(tx)
        except ValueError as exc:
            self.rival_errors += 1
            log.debug("transaction %s not classified: %s", tx.signature, exc)
            return
        r = self.rivals.add(rt, self.pool_state)
        if r is not None:
            self._snap = None
            if self.sink is not None:
                self.sink.emit(r, self.slot, self._now_ns)

    def pool_state(self, pool: str) -> tuple[str, str, float, float, int] | None:
        """The graph's state of ``pool`` now (``pool_rate``), None where it holds none: a
        rival's hops are set against it (in journal order, so a replay reads the same)."""
        try:
            a, b, ab, ba, slot = self.graph.pool_rate(pool)
        except EngineError:  # not in the graph (UnknownPoolError), or no state yet
            return None
        return str(a), str(b), float(ab), float(ba), int(slot)

    def on_uncovered(self, pools: list[str]) -> None:
        """The pools no endpoint covers now (the session's feeds, or a collector's):
        journaled and published as an input (``UNCOVERED``), so a replay and a consumer
        decide as this session did; their cycles are no-go until covered again."""
        self._input(Kind.UNCOVERED, pools)
        if self.ev.set_uncovered(pools):
            self._snap = None

    def changed(self) -> None:
        """The engine's state moved outside a tick (a replay's step or seek): the next
        read of :attr:`snapshot` builds a new one."""
        self._snap = None

    @property
    def snapshot(self) -> Snapshot:
        """What the screen shows: the state after the latest tick, built when it is
        first read after that tick (a session no one shows never builds one)."""
        # while starting, each read shows the snapshot's progress (the run loop, which
        # marks the next one due, has not begun)
        if self._snap is None or self._starting is not None:
            feeds, verdict = self._health
            coverage = self._coverage()  # one pass over the pools for the note and the detail
            self._snap = self.ev.snapshot(
                seed=self.seed,
                slot=self.slot,
                updates=self.updates,
                updates_per_s=self.rate.per_s(),
                errors=self.errors,
                source=self.source,
                kind=self._kind(),
                feeds=feeds,
                note=self._note(coverage),
                session_id=self.session_id,
                prices=self._price_rows(),
                fee=fee_view(
                    self.fee_estimator,
                    self.ev.shown_cu_limit(),
                    self.ev.fees.cu_price_micro_lamports,
                ),
                verdict=verdict,
                names=self.registry.book,
                mids=self.prices.mids(),
                commitment=self.commitment,
                coverage=coverage,
                endpoints=len(self.pool.endpoints) if self.pool is not None else 0,
                book=self.prices,
                rivals=self.rivals.view() if self.watch_rivals else None,
                props=self.props,
            )
        return self._snap

    def _price_rows(self) -> list[PriceRow]:
        """The Prices panel's rows, each with its pair's prop AMM when one was seen."""
        rows = self.prices.rows()
        if not self.props.pairs:
            return rows
        quotes = self.props.quotes(r.pair for r in rows)
        return [replace(r, prop=quotes[r.pair]) if r.pair in quotes else r for r in rows]

    def _emit(self, sink: EventSink, now_ns: int) -> None:
        """Derived events for what changed since the last tick: opportunities that are
        new or changed (``opp``), gone (``gone``), a new sweep result (``sweep``); feed
        health once a second (``health``, not digested)."""
        slot = self.slot
        seen = set()
        # what each emitted cycle's text was made of (frozen records): the same objects
        # make the same text, so it is not made again
        made_of = self._emitted_of
        for key in sorted(self.live):
            o, sc = self.live[key]
            seen.add(key)
            fees = self.ev.fees_of(key)
            last = made_of.get(key)
            if last is not None and last[0] is o and last[1] is sc and last[2] is fees:
                continue
            made_of[key] = (o, sc, fees)
            opp = Opp.of(o, sc, fees)
            text = event_text(opp)
            if self._emitted.get(key) != text:
                self._emitted[key] = text
                sink.emit(opp, slot, now_ns)
        for key in sorted(set(self._emitted) - seen):
            del self._emitted[key]
            made_of.pop(key, None)
            sink.emit(Gone(key[0], key[1]), slot, now_ns)
        c = self.last_sweep
        sweep = canonical({"tokens": list(c.tokens), "pools": list(c.pools)}) if c else "none"
        if sweep != self._sweep_key:
            self._sweep_key = sweep
            sink.emit(Sweep(c), slot, now_ns)
        if self.feeds.feeding and now_ns - self._last_health_ns >= HEALTH_EVERY_NS:
            self._last_health_ns = now_ns
            sink.emit(FeedsHealth(self.feed_health()), slot, now_ns)

    # ------------------------------------------------------------ the operator
    def trade(self, base: str, pools: list[str]) -> str:
        """``x``: an order on the cycle now (paper; live too when live); why not, or ""."""
        self._sync_wallet()
        self._input(Kind.TRADE, base, pools)  # the operator's decision is an input of the session
        self._snap = None
        return self.ev.trade(base, pools, self.slot)

    def on_link(self, seq: int, live_seq: int) -> None:
        """Paper order ``seq`` shadows live order ``live_seq``, which went out: journaled
        as an input (``LINK``), since whether a live order went out depends on the chain
        and the wallet, so a replay's paper fill names the live order as the session's did."""
        self._input(Kind.LINK, seq, live_seq)
        if self.ev.broker is not None:
            self.ev.broker.link(seq, live_seq)

    def kill(self) -> int:
        """Kill switch: back to paper, no automatic orders, pending ones cancelled."""
        self._input(Kind.KILL)
        self._snap = None
        return self.ev.kill()

    def resume(self) -> None:
        """Automatic orders again after the kill switch."""
        self._input(Kind.RESUME)
        self._snap = None
        self.ev.resume()

    def to_paper(self) -> None:
        """Live -> paper (immediate): live orders not yet sent are cancelled."""
        self._snap = None
        self.ev.to_paper()

    def live_checks(self) -> list[str]:
        """The guard rails, as the live confirmation screen lists them."""
        return self.ev.live_checks()

    def _kind(self) -> str:
        return "SIM" if self.feeds.simulated else "LIVE"

    def _coverage(self) -> dict[str, int]:
        """Per pool, the endpoints feeding it, once streaming has started ({} before)."""
        return self.feeds.coverage()

    def _note(self, coverage: dict[str, int]) -> str:
        if self.idle_reason:
            return self.idle_reason
        if self.start_error:
            return f"feeds failed to start: {self.start_error}"
        pool = self.pool
        if self._starting is not None and pool is not None and not pool.progress.done:
            return pool.progress.text()  # snapshot: its phase, accounts so far, retries
        boot = self.boot
        if boot is not None and (boot.missing or boot.rejected):
            return f"{len(boot.missing)} pools not found, {len(boot.rejected)} accounts rejected"
        bare = [p for p, n in coverage.items() if n == 0]
        if bare:  # subscribed on no endpoint (caps, refusals): nothing reports their changes
            return (
                f"{len(bare)} pools covered by no endpoint (subscriptions refused or over "
                f"a cap): their state is stale, e.g. {bare[0][:8]}…"
            )
        rec = self.recorder
        if rec is not None and rec.error:
            return f"journal: {rec.error}"
        return self.metrics_error

    def feed_health(self) -> list[FeedHealth]:
        """Every feed's health: the session's own endpoints, then the regions' (a row per
        region, then its endpoints)."""
        return self.feeds.health(self.ingest)

    def _verdict(self, feeds: list[FeedHealth]) -> Verdict | None:
        return self.health_verdict(feeds)

    def health_verdict(self, feeds: list[FeedHealth] | None = None) -> Verdict | None:
        """The session's health now (``arbscope.health``), for ``/health``, the metric
        and the status bar; ``feeds``: the feeds' health when the caller has it. None
        for a replay (its feeds are a recording; its clock is not the wall's)."""
        if self.monitor is None:
            return None
        feeds = self.feed_health() if feeds is None else feeds
        rec = self.recorder
        # the ingest's slot, not the tick's: a paused screen does not freeze the feeds
        slot = int(self.ingest.stats().slot) if self.feeds.feeding else self.slot
        pub = self.publisher  # a collector's: what it cannot publish reaches no one
        return self.monitor.check(
            feeds,
            slot,
            subscriptions=self.feeds.subscriptions(),
            start_error=self.start_error,
            journal_error=rec.error if rec is not None else "",
            pools_uncovered=len(self.ev.uncovered),
            publish_error=pub.problem() if pub is not None else "",
            publish_failing_s=pub.failing_s() if pub is not None else 0.0,
        )

    # ------------------------------------------------------------ the run loop
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
            done=lambda: self._stop_called or (until is not None and until()),
            on_error=on_error,
        )

    def set_paused(self, paused: bool) -> None:
        """Stop (or restart) evaluating: frames still arrive and are evaluated at the
        first tick after; the update rate restarts from there."""
        if not paused and self.loop.paused:
            self.rate.clear()
        self.loop.paused = paused

    async def run_for(self, seconds: float, tick_s: float | None = None) -> Snapshot:
        """Start, run for ``seconds`` of the session's clock (a tick every ``tick_s``,
        default the session's), stop (headless runs and tests); the last snapshot."""
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


def versions(eng: types.ModuleType) -> dict[str, Any]:
    """arbscope, Python and engine versions (journaled with each session)."""
    import platform
    from importlib import metadata

    try:
        own = metadata.version("arbscope")
    except metadata.PackageNotFoundError:
        own = "unknown"
    return {
        "arbscope": own,
        "python": platform.python_version(),
        "engine": eng.BACKEND,
        "engine_build": getattr(eng, "BUILD_PROFILE", ""),
    }

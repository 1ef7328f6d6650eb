"""The session's ports: what it needs and what it offers, as typed protocols (DESIGN.md,
Events and ports).

- :class:`Ingest` (``feeds.clients.ingest``: the feeds' one face of it): what the feeds
  drive (``FeedPool``, its workers, a NATS consumer, a replay) and read: the engine's
  ``FeedIngest``, and the session's, :class:`IngestPort`'s stages under
  ``arbscope.inputs.IngestFacade`` (the recorder's tee, a collector's forwarder, the
  timed mirror ``arbscope.ingest.TimedIngest``).
- :class:`SessionInputs`: the session's own inputs (tips, fees, landings, uncovered pools,
  token names, its ticks, the operator's orders), the methods the input table
  (``arbscope.inputs``) applies.
- :class:`InputSink` (the journal's ``Recorder.input``, a collector's ``Publisher.add``)
  and :class:`EventSink` (the recorder, a replay's digest, a what-if's tap): where inputs
  and derived events (``arbscope.events``) go.
- :class:`FeedSource`: where the frames come from; adapters in ``arbscope.sources`` (the
  embedded simulator and its PubSub/gRPC feeds, RPC/PubSub and gRPC endpoints, NATS
  regions), chosen in one place.
- :class:`StreamSinks`: a session's NATS side as sinks (the collector's publisher, the
  journal's stream); :class:`InputPublisher` the publisher as the session uses it.
- :class:`SessionView`: the session read-only, as ``/metrics``, ``/health`` and the headless
  status line read it (the dashboard reads ``tui.source.LiveSource``).

This module imports no adapter (no simulator, no NATS, no metrics): the session depends on
these shapes only.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from engine_rs.records import Opportunity, Score
from feeds.clients.ingest import Buffer, FrameRun, Ingest, IngestCalls, IngestReads
from feeds.clients.pool import Bootstrap, Endpoint, FeedPool
from feeds.clients.rpc import RawAccount
from feeds.health import FeedHealth
from feeds.wire.txview import TxView
from storage.codec import Kind
from storage.journal import Journal
from storage.recorder import JournaledEvent, JournalTarget

if TYPE_CHECKING:
    from .execution.orders import LiveView
    from .health import Verdict
    from .rivals import RivalBook
    from .solprice import LamportPrice
    from .timing import KernelTimer


# ------------------------------------------------------------------ the ingest
class Run(enum.Enum):
    """The port's one call that is no input kind: a run of recorded frames in one call
    (``FeedIngest.frames``: a NATS consumer's batch, a native gRPC batch, a replay's run),
    each of them a ``FRAME`` or ``GRPC`` input."""

    FRAMES = "frames"


Call = Kind | Run  # what the ingest port is asked to do


class IngestPort(Protocol):
    """The ingest's one port: ``apply(kind, *args)``, the call an input kind is
    (``arbscope.inputs.INPUTS``: its ``call``'s arguments), answered as the engine's
    ``FeedIngest`` answers it. The recorder's tee, a collector's forwarder and the timed
    mirror of both backends are stages on it (``arbscope.inputs``, ``arbscope.ingest``);
    the typed calls the feeds make (``frame``, ``bind``, ...) are written once on top of
    it (``arbscope.inputs.IngestFacade``)."""

    def apply(self, kind: Call, /, *args: Any) -> Any: ...


class EngineIngest(IngestCalls, IngestReads, Protocol):
    """An engine backend's ``FeedIngest`` (what ``TimedIngest`` drives): also a recorded
    frame stored as a delta, the engine keeping the copies (a headless replay's), alone or
    in a run (``frames(..., deltas=True)``); and the chain's slot as its slot
    notifications moved it (a getter: what a frame did to it, read without a scan)."""

    @property
    def slot(self) -> int: ...

    def frames(
        self,
        batch: Buffer,
        start: int,
        endpoints: Sequence[int],
        offset_ns: int,
        deltas: bool = False,
    ) -> FrameRun: ...

    def frame_delta(
        self,
        endpoint: int,
        key: Buffer,
        head: Buffer,
        how: int,
        body: Buffer,
        tail: Buffer,
        recv_ns: int,
    ) -> int: ...
    def drop_copy(self, key: Buffer) -> None: ...


class StreamInputs(Protocol):
    """The session's own inputs a collector publishes with its feeds' (``arbscope.inputs``):
    the fee samples, the pools its endpoints cover nowhere, the token names it read."""

    def on_fees(self, samples: list[tuple[int, int]]) -> None: ...
    def on_uncovered(self, pools: list[str]) -> None: ...
    def on_tokens(self, rows: Sequence[dict[str, Any]]) -> None: ...
    def on_transaction(self, tx: TxView) -> None: ...


class SessionInputs(StreamInputs, Protocol):
    """The session's own inputs: what it is told besides the feeds' frames, each an input
    kind of the journal (``arbscope.inputs``), journaled when it records and applied the
    same way by a replay (and, the :class:`StreamInputs`, by a consumer of a collector's
    stream): also the block engines' tips, its live orders' landings, its ticks (whole,
    or in slices, their end, decisions, report and events), its decisions on a frame, its live
    wallet, the operator's orders and which paper order shadows which live one."""

    def on_tips(self, lamports: list[int]) -> None: ...
    def on_landing(self, slots: int, send_ns: int = 0) -> None: ...
    def tick(self, now_ns: int | None = None) -> None: ...
    def decide(self, now_ns: int | None = None) -> None: ...
    def evaluate_slice(self, now_ns: int, n: int) -> None: ...
    def end_turn(self, now_ns: int) -> None: ...
    def decide_turn(self, now_ns: int) -> None: ...
    def report_turn(self, now_ns: int) -> None: ...
    def events_turn(self, now_ns: int) -> None: ...
    def on_wallet(self, armed: bool, base: str, accounts: dict[str, bool]) -> None: ...
    def trade(self, base: str, pools: list[str]) -> str: ...
    def on_link(self, seq: int, live_seq: int) -> None: ...
    def kill(self) -> int: ...
    def resume(self) -> None: ...


# ------------------------------------------------------------------ sinks
class InputSink(Protocol):
    """One input (its kind, endpoint, payload and time: monotonic ns, now when None), in
    the journal's format: ``Recorder.input``, ``Publisher.add``."""

    def __call__(
        self, kind: Kind, endpoint: int, payload: bytes, t_ns: int | None = None, /
    ) -> None: ...


class EventSink(Protocol):
    """Where derived events (``arbscope.events``) go: the journal's recorder, a replay's
    digest, a what-if's tap."""

    def emit(self, event: JournaledEvent, slot: int, t_ns: int = 0) -> None: ...


class PublisherStatsView(Protocol):
    @property
    def batches(self) -> int: ...
    @property
    def acked(self) -> int: ...
    @property
    def frames(self) -> int: ...
    @property
    def resent(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def last_error(self) -> str: ...


class InputPublisher(Protocol):
    """A collector's publisher (``arbscope.fleet.Publisher``) as the session uses it."""

    @property
    def region(self) -> str: ...
    @property
    def stats(self) -> PublisherStatsView: ...
    @property
    def pending(self) -> int: ...
    def add(self, kind: Kind, endpoint: int, payload: bytes, t_ns: int | None = None, /) -> None:
        """One input (see :class:`InputSink`)."""
        ...

    def problem(self) -> str: ...
    def failing_s(self) -> float: ...
    async def stop(self) -> None: ...


class StreamSinks(Protocol):
    """A session's NATS side, as sinks (``arbscope.sources.nats.NatsSinks``): the journal's
    chunks to a stream as well (``journal``), the feeds' inputs to a region's stream
    (``publisher``: a collector, which evaluates nothing itself)."""

    @property
    def collects(self) -> bool: ...
    async def journal(self, journal: Journal) -> JournalTarget:
        """The journal the recorder writes: ``journal``, or it and the stream."""
        ...

    async def publisher(
        self, endpoints: Sequence[str], base_mints: Sequence[str], source: str
    ) -> InputPublisher | None:
        """The collector's publisher, started with its hello (None: not a collector)."""
        ...

    async def close(self) -> None: ...


# ------------------------------------------------------------------ sources
class NothingToFind(Exception):
    """The session would run and find nothing (the message says why)."""


@dataclass(frozen=True)
class SourceLink:
    """What a session hands its source when it starts it: the ingest to drive (the
    recorder's and publisher's tees in front of it), the pools to watch, its own inputs
    (fees, token names, uncovered pools), the pools the fee poll asks about, the check
    after the snapshot (why nothing could be found, "" when something can), and what to
    call once its own sockets are up (the token names are read then)."""

    ingest: Ingest
    engine: types.ModuleType
    universe: Sequence[tuple[str, str]]
    inputs: SessionInputs
    fee_accounts: Callable[[], Sequence[str]]
    check: Callable[[Bootstrap], str]
    own_started: Callable[[], None]
    seed: int = 0
    first_endpoint: int = 0  # the number of the source's first endpoint (after others')
    rivals: bool = False  # read the transactions that touch the pools (on_transaction)
    # programs whose every transaction is read (the prop AMMs': arbscope.propamm)
    follow_programs: Sequence[str] = ()
    # read the watched accounts again and repair what the streams dropped (the reconcile,
    # as its options say): not a collector's, whose ingest reads most notifications not
    # at all (it forwards them), so it holds no account's newest bytes to compare
    reconcile: bool = True


class Faucet(Protocol):
    """The embedded simulator's faucet (when it accepts transactions)."""

    def fund(self, wallet: str, lamports: int, mint: str, amount: int) -> None: ...


class RegionStatsView(Protocol):
    """One NATS region as a consumer sees it (``arbscope.fleet.RegionStats``)."""

    @property
    def batches(self) -> int: ...
    @property
    def frames(self) -> int: ...
    @property
    def gap_batches(self) -> int: ...
    @property
    def lost(self) -> int: ...
    @property
    def damaged(self) -> int: ...
    @property
    def redelivered(self) -> int: ...
    @property
    def resets(self) -> int: ...
    @property
    def pending(self) -> int: ...
    def latency_quantiles_ms(self, qs: Sequence[float]) -> list[float | None]: ...


class RegionView(Protocol):
    @property
    def region(self) -> str: ...
    @property
    def stats(self) -> RegionStatsView: ...


@dataclass(frozen=True)
class SourceMarket:
    """What a source knows of its market before it starts, filled in one place per source
    (the simulator's world: ``arbscope.sources.known``; sockets and NATS regions know
    nothing ahead): the pools it serves (None: the configured ones), its base mints, the
    prop AMMs beyond the known ones (program id -> name), and the wallets it knows by name
    (signer -> label: the simulator's rival bots; the operator's labels file names others
    and wins). A new thing a source knows is a field here, with a default: no adapter
    changes for it."""

    universe: tuple[tuple[str, str], ...] | None = None
    base_mints: tuple[str, ...] = ()
    prop_amms: Mapping[str, str] = field(default_factory=dict)
    known_wallets: Mapping[str, str] = field(default_factory=dict)


class FeedSource(Protocol):
    """Where a session's frames come from (an adapter of ``arbscope.sources``): its
    lifecycle, its health and coverage, what it knows of its market
    (:class:`SourceMarket`) and what the session shows of it. The defaults are written
    once (``arbscope.sources.feeds.EndpointFeeds``); an adapter overrides what it does."""

    @property
    def label(self) -> str:
        """What the status bar says: ``sim ×3 (loopback PubSub)``, ``live ×2``, ``nats eu``."""
        ...

    @property
    def simulated(self) -> bool:
        """The embedded simulator (the journal's source ``sim``, the snapshot's ``SIM``)."""
        ...

    @property
    def faucet(self) -> Faucet | None:
        """The simulator's faucet, when it accepts transactions (None otherwise)."""
        ...

    @property
    def commitment(self) -> str: ...
    @property
    def ca_file(self) -> str | None: ...
    @property
    def endpoints(self) -> Sequence[Endpoint]:
        """The session's own endpoints (the simulator's once it started)."""
        ...

    @property
    def pool(self) -> FeedPool | None:
        """The session's own sockets (None before the start, or without endpoints)."""
        ...

    @property
    def boot(self) -> Bootstrap | None:
        """What the snapshot found (None before it)."""
        ...

    @property
    def feeding(self) -> bool:
        """Its feeds drive the ingest (the start has opened them, or begun to)."""
        ...

    def market(self) -> SourceMarket:
        """What it knows of its market before it starts."""
        ...

    def config(self) -> dict[str, Any]:
        """Its part of the journaled configuration: ``sim``, ``endpoints``, ``sim_grpc``."""
        ...

    async def prepare(self) -> None:
        """The first step of the session's start (NATS: connect to the regions)."""
        ...

    async def announced_base_mints(self) -> list[str]:
        """The base mints its publishers announce (NATS: the collectors'); [] otherwise."""
        ...

    async def open(self) -> None:
        """Start what serves the endpoints (the simulator): ``endpoints`` after it."""
        ...

    async def start(self, link: SourceLink) -> None:
        """Snapshot and subscribe (NothingToFind: the snapshot says nothing can be found)."""
        ...

    async def stop(self) -> None: ...
    def health(self, ingest: Ingest) -> list[FeedHealth]: ...
    def coverage(self) -> dict[str, int]:
        """Per pool, the endpoints feeding it, once streaming has started ({} before)."""
        ...

    def uncovered_pools(self) -> list[str] | None:
        """The pools no endpoint covers now; None: not this source's to say (its
        collectors say it, as inputs)."""
        ...

    def subscriptions(self) -> int:
        """Subscriptions each of its workers asks for."""
        ...

    def regions(self) -> Sequence[RegionView]:
        """The NATS regions it consumes (none for sockets of its own)."""
        ...

    async def fetch_accounts(self, keys: Sequence[str]) -> dict[str, RawAccount | None]: ...


# ------------------------------------------------------------------ services
class Service(Protocol):
    """Something the session runs beside itself for its lifetime (``/metrics``)."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def url(self) -> str: ...
    async def start(self) -> str:
        """Listen; the base URL (OSError when it cannot)."""
        ...

    async def stop(self) -> None: ...


# ------------------------------------------------------------------ readers
class PoolView(Protocol):
    """The session's own sockets as its readers read them: the pools covered nowhere and
    the reconcile (``FeedPool``, read-only)."""

    @property
    def reconciler(self) -> Any: ...
    def uncovered_pools(self) -> list[str]: ...


class RecorderView(Protocol):
    """The journal's recorder as its readers read it (``Recorder``, read-only)."""

    @property
    def error(self) -> str: ...
    @property
    def pending(self) -> int: ...
    @property
    def written_inputs(self) -> int: ...


class BrokerView(Protocol):
    """Paper's broker as its readers read it (``PaperBroker``, read-only)."""

    @property
    def attempts(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def pending(self) -> Sequence[Any]: ...
    @property
    def pnl(self) -> int: ...
    @property
    def fee_lamports_paid(self) -> int: ...
    @property
    def fees(self) -> int: ...


class ExecutorView(Protocol):
    """The live executor as its readers read it: its figures (``LiveExecutor.view``)."""

    def view(self) -> LiveView: ...


class SessionView(Protocol):
    """The session, read-only, as ``/metrics``, ``/health`` and the headless status line
    read it (``FeedSession.view``): facades of what they read, never the broker, the
    executor, the feed pool or the recorder themselves."""

    @property
    def source(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def session_id(self) -> str: ...
    @property
    def slot(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def found(self) -> int: ...
    @property
    def start_error(self) -> str: ...
    @property
    def live(self) -> Mapping[tuple[str, tuple[str, ...]], tuple[Opportunity, Score]]: ...
    @property
    def pool(self) -> PoolView | None: ...
    @property
    def recorder(self) -> RecorderView | None: ...
    @property
    def timer(self) -> KernelTimer: ...
    @property
    def broker(self) -> BrokerView | None: ...
    @property
    def executor(self) -> ExecutorView | None: ...
    @property
    def publisher(self) -> InputPublisher | None: ...
    @property
    def rivals(self) -> RivalBook: ...
    def versions(self) -> dict[str, Any]: ...
    def pool_count(self) -> int: ...
    def lamport_prices(self) -> Mapping[str, LamportPrice | None]:
        """Per base mint of the graph, a lamport's price in it (None: none known)."""
        ...

    def regions(self) -> Sequence[RegionView]: ...
    def feed_health(self) -> list[FeedHealth]: ...
    def health_verdict(self, feeds: list[FeedHealth] | None = None) -> Verdict | None: ...


__all__ = [
    "BrokerView",
    "Buffer",
    "Call",
    "EngineIngest",
    "EventSink",
    "ExecutorView",
    "Faucet",
    "FeedSource",
    "FrameRun",
    "Ingest",
    "IngestCalls",
    "IngestPort",
    "IngestReads",
    "InputPublisher",
    "InputSink",
    "NothingToFind",
    "PoolView",
    "RecorderView",
    "RegionView",
    "Run",
    "Service",
    "SessionInputs",
    "SessionView",
    "SourceLink",
    "SourceMarket",
    "StreamInputs",
    "StreamSinks",
]

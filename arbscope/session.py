"""A session on PubSub feeds: the embedded simulator's or real endpoints.

Frames come from :class:`feeds.pool.FeedPool` (one worker per endpoint) into the
engine's ``FeedIngest`` (parse, dedup, decode, graph update in one call); every
``tick()`` the pools that changed are re-evaluated once each (``cycles_touching`` and
``score``), a sweep runs on a timer, and a :class:`~arbscope.market.Snapshot` with the
feeds' health is published for the screen.

Both backends see every frame (the other backend's ingest is fed the same bytes,
``mirror``), so the timing panel shows Rust and Python side by side and the shadow
check compares graphs that saw the same history.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import engine_rs
from engine_rs.errors import EngineError, UnknownPoolError
from engine_rs.records import Cycle, FeeContext, Opportunity, Score, ScorePolicy
from feeds.clients.pool import Bootstrap, Endpoint, FeedPool
from feeds.clients.tokens import TokenRegistry
from feeds.health import FeedHealth
from feeds.redact import scrub
from feeds.wire.units import TokenBook, TokenInfo
from storage.codec import HEADER, Input, Kind, json_payload
from storage.journal import Journal, JournalError
from storage.recorder import MAX_PENDING_BYTES, Digest, Recorder, canonical

from .execution.live import JournalLedger, LiveConfig, LiveExecutor
from .execution.paper import PaperBroker
from .health import HealthMonitor, Verdict
from .market import (
    DEFAULT_CU_LIMIT,
    PAPER_BALANCE,
    REASON_FEEDS_STALLED,
    Evaluator,
    Snapshot,
    UpdateRate,
)
from .prices import PriceBook, fee_view
from .runloop import TICK_S, Clock, MonotonicClock, RunLoop
from .timing import KernelTimer

if TYPE_CHECKING:
    # the embedded simulator's types: arbscope.simulated imports it where a session has
    # one, so a live session loads no simulator module
    from feeds.sim.server import SimServer
    from feeds.sim.world import WorldConfig

HEALTH_EVERY_NS = 1_000_000_000  # feed health journaled once a second
COVERAGE_EVERY_NS = 1_000_000_000  # the pools no endpoint covers, looked at once a second
# a slot notification's method name, looked for in the head of a frame (anywhere in the
# envelope, whatever order a node writes its keys in: a slot notification is ~130 bytes)
SLOT_NOTICE = b'"slotNotification"'
SLOT_NOTICE_WITHIN = 256
GRPC_SLOT_UPDATE = 3  # SubscribeUpdate.update_oneof's slot member (FeedIngest.grpc's kind)
TIP_FLOOR_S = 10.0  # how often the tip floor is read (Jito's updates are slower)
log = logging.getLogger(__name__)


class _TimedIngest:
    """``FeedIngest`` of the active backend, mirrored on the other and timed."""

    def __init__(
        self,
        timer: KernelTimer,
        ingests: dict[str, Any],
        mirror_budget: float = 0.15,
        window_ns: int = 1_000_000_000,
        kinds: dict[str, str] | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.timer, self.ingests = timer, ingests
        self.clock = clock  # ns; the budget's wall time (tests give their own)
        self.kinds = kinds if kinds is not None else {}  # pool -> amm_v4 | cpmm | whirlpool
        self.active = ingests[timer.active.BACKEND]
        # the other backend follows every frame (so its graph can be shadow-checked)
        # while that costs less than ``mirror_budget`` of wall time; above it the mirror
        # is suspended for good and the timer stops shadowing stateful kernels
        self.mirror_budget, self.window_ns = mirror_budget, window_ns
        self._win_start = clock()
        self._win_ns = 0
        # the slot clock: the newest slot a slot notification brought, when its first
        # copy arrived (the frame's receive ns) and the slots' measured length (ns, a
        # moving average): where in its slot a decision is made (paper's landing model)
        self.slot_seen, self.slot_t_ns, self.slot_len_ns = 0, 0, 0

    def frame(self, endpoint: int, frame: bytes, recv_ns: int) -> int:
        sid = int(self._feed("frame", "feed_ingest", endpoint, frame, recv_ns))
        if SLOT_NOTICE in bytes(frame[:SLOT_NOTICE_WITHIN]):
            self._slot_notice(recv_ns)
        return sid

    def frames(
        self, batch: bytes, start: int, endpoints: Sequence[int], offset_ns: int
    ) -> tuple[int, list[tuple[int, int, int, int]], int]:
        """A run of recorded frames (a NATS consumer's batch: ``FeedIngest.frames``), the
        same hot path as ``frame`` in one call a run (its own timing row, ``feed_frames``,
        since a call is many frames); a slot the run moved starts at its newest receive
        time (the run's last frame: within a batch's span of the notification's)."""
        out: tuple[int, list[tuple[int, int, int, int]], int]
        out = self._feed("frames", "feed_frames", batch, start, endpoints, offset_ns)
        if out[1] and int(self.active.stats().slot) > self.slot_seen:
            self._slot_notice(max(last for _ep, _n, _first, last in out[1]))
        return out

    def grpc(self, endpoint: int, update: bytes, recv_ns: int) -> tuple[int, int]:
        """A Yellowstone gRPC update: the same hot path (and timing row) as a frame."""
        kind, value = self._feed("grpc", "feed_ingest", endpoint, update, recv_ns)
        if kind == GRPC_SLOT_UPDATE:
            self._slot_notice(recv_ns)
        return int(kind), int(value)

    def _slot_notice(self, recv_ns: int) -> None:
        """A slot notification (or gRPC slot update) went in: when it moved the session's
        slot, that slot starts at its receive time."""
        slot = int(self.active.stats().slot)
        if slot <= self.slot_seen:
            return
        if self.slot_seen and recv_ns > self.slot_t_ns:
            per = (recv_ns - self.slot_t_ns) // (slot - self.slot_seen)
            self.slot_len_ns = per if not self.slot_len_ns else (7 * self.slot_len_ns + per) // 8
        self.slot_seen, self.slot_t_ns = slot, recv_ns

    def _feed(self, method: str, kernel: str, *args: Any) -> Any:
        """``frame``, ``frames`` or ``grpc`` on the active backend, and on the other while
        the mirror is within its budget; timed as ``kernel``."""
        if len(self.ingests) > 1 and not self.timer.stateful_suspended:
            active = self.timer.active

            def run(m: types.ModuleType) -> Any:
                if m is active:
                    return getattr(self.ingests[m.BACKEND], method)(*args)
                t0 = self.clock()
                try:
                    return getattr(self.ingests[m.BACKEND], method)(*args)
                finally:
                    self._win_ns += self.clock() - t0

            sid: Any = self.timer.call(kernel, run, mirror=True)
            t1 = self.clock()
            if t1 - self._win_start >= self.window_ns:
                if self._win_ns > self.mirror_budget * (t1 - self._win_start):
                    self.suspend(
                        f"load: the mirror took {self._win_ns / (t1 - self._win_start):.0%}"
                    )
                self._win_start, self._win_ns = t1, 0
            return sid
        fn = getattr(self.active, method)
        return self.timer.call(kernel, lambda m: fn(*args))

    def suspend(self, why: str) -> None:
        """Stop feeding the other backend (its state no longer follows)."""
        self.timer.stateful_suspended = why
        self.ingests = {self.timer.active.BACKEND: self.active}

    def _all(self, name: str, *args: Any) -> Any:
        """``name(*args)`` on every backend's ingest (so they stay in step); the active
        one's result, or its exception once all have run."""
        out: Any = None
        err: Exception | None = None
        for backend, ing in self.ingests.items():
            try:
                r = getattr(ing, name)(*args)
            except Exception as exc:
                if backend == self.timer.active.BACKEND:
                    err = exc
                continue
            if backend == self.timer.active.BACKEND:
                out = r
        if err is not None:
            raise err
        return out

    def bind(self, endpoint: int, subscription: int, label: str, kind: str) -> None:
        self._all("bind", endpoint, subscription, label, kind)

    def unbind(self, endpoint: int) -> None:
        self._all("unbind", endpoint)

    def track_pool(self, address: str, kind: str) -> None:
        self._all("track_pool", address, kind)
        self.kinds[address] = kind

    def track_array(self, address: str, pool: str) -> None:
        self._all("track_array", address, pool)

    def untrack_array(self, address: str, pool: str) -> None:
        self._all("untrack_array", address, pool)

    def account(self, pubkey: str, owner: str, data: bytes, slot: int) -> bool:
        # errors of the active backend propagate (after the other one ran)
        if self.timer.stateful_suspended:
            ok: bool = self._all("account", pubkey, owner, data, slot)
            return ok
        result: bool = self.timer.call(
            "feed_account",
            lambda m: self.ingests[m.BACKEND].account(pubkey, owner, data, slot),
            mirror=True,
        )
        return result

    def set_epoch_schedule(
        self,
        slots_per_epoch: int,
        warmup: bool = False,
        first_normal_epoch: int = 0,
        first_normal_slot: int = 0,
    ) -> None:
        self._all(
            "set_epoch_schedule", slots_per_epoch, warmup, first_normal_epoch, first_normal_slot
        )

    def watched(self) -> list[str]:
        return list(self.active.watched())

    def roles(self, pubkey: str) -> list[tuple[str, str]]:
        return list(self.active.roles(pubkey))

    def whirlpools(self) -> list[tuple[str, Any]]:
        return list(self.active.whirlpools())

    def records(self, kinds: Sequence[str] | None = None) -> list[tuple[str, str, Any]]:
        return list(self.active.records(kinds))

    def take_changed(self) -> list[str]:
        out: list[str] = self._all("take_changed")
        return out

    def dedup_stats(self) -> Any:
        return self.active.dedup_stats()

    def endpoint_stats(self) -> Any:
        return self.active.endpoint_stats()

    def take_refetch(self) -> list[tuple[str, int]]:
        """What the active ingest wants re-fetched (the other one's list is drained too:
        both saw the same frames and ask for the same)."""
        out: list[tuple[str, int]] = self._all("take_refetch")
        return out

    def stats(self) -> Any:
        return self.active.stats()


class InputTee:
    """What the feeds call (``FeedPool``, its workers), handed to ``put`` as engine
    inputs (``Kind``, endpoint, payload, receive time) before being passed on: every
    frame's bytes, every account, pool, tick array (tracked or dropped), subscription
    binding, the cluster's epoch schedule, and a drain of the changed set. Replaying
    them in order rebuilds the state. ``put``: the journal's ``Recorder.input``, or a
    collector's ``arbscope.fleet.Publisher.add`` (the two can be chained)."""

    def __init__(self, inner: Any, put: Callable[..., None]) -> None:
        self.inner, self.put = inner, put

    def frame(self, endpoint: int, frame: bytes, recv_ns: int) -> int:
        self.put(Kind.FRAME, endpoint, bytes(frame), recv_ns)
        return int(self.inner.frame(endpoint, frame, recv_ns))

    def grpc(self, endpoint: int, update: bytes, recv_ns: int) -> tuple[int, int]:
        self.put(Kind.GRPC, endpoint, bytes(update), recv_ns)
        out: tuple[int, int] = self.inner.grpc(endpoint, update, recv_ns)
        return out

    def frames(
        self, batch: bytes, start: int, endpoints: Sequence[int], offset_ns: int
    ) -> tuple[int, list[tuple[int, int, int, int]], int]:
        """A run of recorded frames, handed on one by one as the frames they are (as this
        session's endpoints and clock see them), then applied in one call."""
        pos, n, size = start, len(batch), HEADER.size
        while pos + size <= n:
            kind, e, t_ns, _wall, length = HEADER.unpack_from(batch, pos)
            if kind not in (Kind.FRAME, Kind.GRPC) or pos + size + length > n:
                break  # the run ends (a batch cut short: the ingest says so)
            ep = endpoints[e] if e < len(endpoints) else -1
            if ep >= 0:
                payload = batch[pos + size : pos + size + length]
                self.put(Kind(kind), ep, payload, t_ns - offset_ns)
            pos += size + length
        out: tuple[int, list[tuple[int, int, int, int]], int]
        out = self.inner.frames(batch, start, endpoints, offset_ns)
        return out

    def account(self, pubkey: str, owner: str, data: bytes, slot: int) -> bool:
        self.put(Kind.ACCOUNT, 0, json_payload([pubkey, owner, slot], bytes(data)))
        return bool(self.inner.account(pubkey, owner, data, slot))

    def track_pool(self, address: str, kind: str) -> None:
        self.put(Kind.TRACK_POOL, 0, json_payload([address, kind]))
        self.inner.track_pool(address, kind)

    def track_array(self, address: str, pool: str) -> None:
        self.put(Kind.TRACK_TICK_ARRAY, 0, json_payload([address, pool]))
        self.inner.track_array(address, pool)

    def untrack_array(self, address: str, pool: str) -> None:
        self.put(Kind.UNTRACK_TICK_ARRAY, 0, json_payload([address, pool]))
        self.inner.untrack_array(address, pool)

    def bind(self, endpoint: int, subscription: int, label: str, kind: str) -> None:
        self.put(Kind.BIND, endpoint, json_payload([subscription, label, kind]))
        self.inner.bind(endpoint, subscription, label, kind)

    def set_epoch_schedule(
        self,
        slots_per_epoch: int,
        warmup: bool = False,
        first_normal_epoch: int = 0,
        first_normal_slot: int = 0,
    ) -> None:
        args = [slots_per_epoch, warmup, first_normal_epoch, first_normal_slot]
        self.put(Kind.EPOCH_SCHEDULE, 0, json_payload(args))
        self.inner.set_epoch_schedule(
            slots_per_epoch, warmup, first_normal_epoch, first_normal_slot
        )

    def unbind(self, endpoint: int) -> None:
        self.put(Kind.UNBIND, endpoint, b"")
        self.inner.unbind(endpoint)

    def take_changed(self) -> list[str]:
        self.put(Kind.DRAIN, 0, b"")
        out: list[str] = self.inner.take_changed()
        return out

    def __getattr__(self, name: str) -> Any:  # read-only views: watched, whirlpools, stats
        return getattr(self.inner, name)


def feed_input(ing: Any, inp: Input, endpoint: int) -> bool:
    """One recorded feed input (what :class:`InputTee` hands on) given to the ingest as
    the feeds gave it, as from ``endpoint``; False for a kind that is not the feeds'
    (ticks, trades, ...: the session's own). EngineError as the ingest raises it."""
    k = inp.kind
    if k is Kind.FRAME:
        ing.frame(endpoint, inp.payload, inp.t_ns)
    elif k is Kind.GRPC:  # the same ingest entry as live (FeedIngest.grpc)
        ing.grpc(endpoint, inp.payload, inp.t_ns)
    elif k is Kind.ACCOUNT:
        pubkey, owner, slot = inp.json()
        ing.account(pubkey, owner, inp.data(), slot)
    elif k is Kind.TRACK_POOL:
        ing.track_pool(*inp.json())
    elif k is Kind.TRACK_TICK_ARRAY:
        ing.track_array(*inp.json())
    elif k is Kind.UNTRACK_TICK_ARRAY:
        ing.untrack_array(*inp.json())
    elif k is Kind.BIND:
        sid, label, kind = inp.json()
        ing.bind(endpoint, sid, label, kind)
    elif k is Kind.UNBIND:
        ing.unbind(endpoint)
    elif k is Kind.DRAIN:
        ing.take_changed()
    elif k is Kind.EPOCH_SCHEDULE:
        ing.set_epoch_schedule(*inp.json())
    else:
        return False
    return True


class _NothingToFind(Exception):
    """The session would run and find nothing (the message says why)."""


class _ReplaySink:
    """Where a replay's derived events go: the digest, and the counts."""

    def __init__(self) -> None:
        self.digest = Digest()
        self.events = 0
        self.opportunities = 0

    def event(self, kind: str, slot: int, payload: dict[str, Any], t_ns: int = 0) -> None:
        self.digest.add(kind, slot, canonical(payload))
        self.events += 1
        self.opportunities += kind == "opp"


def opp_payload(o: Any, sc: Any, fees: Any = None) -> dict[str, Any]:
    """An opportunity and its score as journaled (``opp`` events; the export's columns);
    ``fees``: the fee context it was scored with (its compute-unit limit, and the price of
    a lamport in its base token, ``[num, den]``, or None when none was known)."""
    extra: dict[str, Any] = {}
    if fees is not None:
        extra = {
            "cu_limit": fees.cu_limit,
            "base_per_lamport": None
            if fees.base_rate_missing
            else [fees.base_per_lamport_num, fees.base_per_lamport_den],
        }
    return {
        **extra,
        "base": o.base_mint,
        "tokens": list(o.tokens),
        "pools": list(o.pools),
        "kinds": list(o.kinds),
        "hops": o.hops,
        "amount_in": o.amount_in,
        "amount_out": o.amount_out,
        "profit": o.profit,
        "profit_bps": round(o.profit_bps, 6),
        "net_profit": sc.net_profit,
        "fees_in_base": sc.fees_in_base,
        "total_fee_lamports": sc.total_fee_lamports,
        "persistence": sc.persistence,
        "staleness_slots": sc.staleness_slots,
        "go": sc.go,
        "reasons": list(sc.reasons),
    }


def _health_payload(h: FeedHealth) -> dict[str, Any]:
    return dataclasses.asdict(h)


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


class FeedSession:
    """Pools from ``universe`` watched on ``endpoints`` (or on an embedded simulator
    when ``endpoints`` is empty and ``embedded_sim``: ``sim`` gives its world, seeded
    with ``seed``; without it the session is fed by its owner, as a replay feeds the one
    it composes).

    The session owns its time: :meth:`run` turns it every ``tick_s`` of ``clock`` (the
    machine's monotonic clock unless one is given) and the screen only reads
    :attr:`snapshot`. Its decisions are made by :attr:`ev`, the
    :class:`~arbscope.market.Evaluator` it owns. With ``record`` set, every engine input
    and derived event goes to the journal (``storage``); ``session_id`` and ``digest``
    are set by start() and stop()."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint] = (),
        universe: Sequence[tuple[str, str]] | None = None,
        base_mints: Sequence[str] = (),
        seed: int = 7,
        sim_config: WorldConfig | None = None,
        sim_endpoints: int = 3,
        sim_grpc: int = 0,
        backend: types.ModuleType | None = None,
        sweep_s: float = 1.0,
        max_hops: int = 3,
        record: RecordSettings | None = None,
        shadow: bool = True,
        live: LiveConfig | None = None,
        sim_accept_tx: bool = False,
        policy: ScorePolicy | None = None,
        fee_settings: FeeSettings | None = None,
        metrics: Any = None,
        worker_config: Any = None,
        commitment: str = "confirmed",
        *,
        ca_file: str | None = None,
        max_answer_bytes: int | None = None,
        embedded_sim: bool = True,
        judge_health: bool = True,
        clock: Clock | None = None,
        tick_s: float = TICK_S,
        timer_clock: Callable[[], int] | None = None,
        fleet: Any = None,
        feeds_stall_s: float | None = None,
    ) -> None:
        self.seed = seed
        # no new slot from any feed for this long (the session's clock against the
        # frames' receive times): every cycle is no-go (market.REASON_FEEDS_STALLED)
        # until one comes. None: /health's stall time (metrics.stall_s); 0: never (a
        # replay of a recording from before the rule). Journaled with the config.
        self.feeds_stall_s = float(
            (metrics.stall_s if metrics is not None else 10.0)
            if feeds_stall_s is None
            else feeds_stall_s
        )
        # NATS JetStream (arbscope.fleet.FleetSettings): a collector publishes its feeds'
        # inputs (``collect``: its region), a consumer applies the regions' (``regions``)
        self.fleet = fleet
        self.collect_only = bool(fleet is not None and fleet.collect)
        self.remote: Any = None  # arbscope.fleet.RemoteFeeds (consumer)
        self._bg: set[asyncio.Task[None]] = set()  # fire-and-forget tasks, held until done
        self.publisher: Any = None  # arbscope.fleet.Publisher (collector)
        self.stream_journal: Any = None  # arbscope.fleet.StreamJournal (--journal-stream)
        self._nc: Any = None  # the NATS connection of the publisher and the journal stream
        self._starting: asyncio.Task[None] | None = None  # start() in progress (stop() cancels)
        self._stop_called = False
        self.policy_arg = policy or DEFAULT_POLICY
        self.fee_settings = fee_settings or FeeSettings()
        self.metrics_settings = metrics  # arbscope.metrics.MetricsSettings, or None
        self.metrics_server: Any = None
        self.metrics_error = ""  # why /metrics could not listen ("" when it does, or is off)
        # the health verdict's memory (none where health is not judged: a replay)
        self.monitor: HealthMonitor | None = (
            HealthMonitor(stall_s=metrics.stall_s if metrics is not None else 10.0)
            if judge_health
            else None
        )
        self.worker_config, self.commitment = worker_config, commitment
        # TLS and size limits of the HTTP reads (the workers': worker_config)
        self.ca_file, self.max_answer_bytes = ca_file, max_answer_bytes
        self.sim: SimServer | None = None
        self.sim_config = sim_config  # the embedded simulator's world (set with it)
        self.live_config = live
        self.sim_accept_tx = sim_accept_tx
        self.funded = ""  # what the embedded simulator's faucet gave the wallet
        if not endpoints and embedded_sim:
            from .simulated import embedded

            self.sim, self.sim_config = embedded(
                sim_config, seed, sim_endpoints, sim_accept_tx, sim_grpc > 0
            )
            universe = self.sim.world.universe() if universe is None else universe
            base_mints = base_mints or self.sim.world.bases
            self.source = f"sim ×{sim_endpoints} (loopback PubSub)"
            if sim_grpc:
                self.source = (
                    f"sim ×{sim_endpoints} (loopback PubSub, {min(sim_grpc, sim_endpoints)} gRPC)"
                )
        elif endpoints:
            self.source = f"live ×{len(endpoints)}"
        elif fleet is not None and fleet.regions:
            self.source = f"nats {','.join(fleet.regions)}"
        else:
            self.source = "fed by its owner"
        self.endpoints = list(endpoints)
        # of the simulator's endpoints, the last sim_grpc are read over Yellowstone gRPC
        self.sim_grpc = sim_grpc
        self.universe = list(universe or [])
        self.base_mints, self.max_hops, self.sweep_s = list(base_mints), max_hops, sweep_s
        self.backend_arg, self.shadow = backend, shadow
        self.record = record
        self.recorder: Recorder | None = None
        self.journal: Journal | None = None
        self.session_id = ""
        self.digest = ""  # set by stop() when the recording is complete
        self.journal_error = ""  # why the recording failed or is incomplete ("" when fine)
        self._stopped = False
        self.sink: Any = None  # derived events: the recorder, a replay's sink, or nowhere
        self.pool: FeedPool | None = None
        self.boot: Bootstrap | None = None
        self.start_error = ""
        self.idle_reason = ""  # the session can find nothing (no bases, no pools): why
        self.timer_clock = timer_clock  # the kernel timer's (staged screens: deterministic)
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.tick_s = tick_s
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
        ingests = {}
        for m in (self.eng, other):
            if m is not None:
                g = m.PoolGraph(base_mints=list(self.base_mints), max_hops=self.max_hops)
                self.graphs[m.BACKEND] = g
                # each backend its own ingest (an extension without one of the twin's
                # names is refused at import, so there is no fallback to make)
                ingests[m.BACKEND] = m.FeedIngest(g)
        self.pool_kinds: dict[str, str] = {}  # what each tracked pool is (its program)
        self.ingest = _TimedIngest(self.timer, ingests, kinds=self.pool_kinds)
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
        self._sweep_key = ""
        self.rate = UpdateRate()
        self._last_sweep_t = 0.0
        self._coverage_ns = -COVERAGE_EVERY_NS  # when the uncovered pools were last looked at
        self._last_health_ns = 0
        self._now_ns = 0
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
        feeds = self._feeds()
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

    def config(self) -> dict[str, Any]:
        """What the session was started with, as journaled (URLs redacted)."""
        from feeds.redact import redact

        c = self.sim_config
        return {
            "seed": self.seed,
            "source": self.source,
            "sim": None
            if self.sim is None or c is None
            else {
                "seed": c.seed,
                "tokens": c.tokens,
                "pools": c.pools,
                "bases": c.bases,
                "endpoints": len(self.sim.endpoints),
            },
            "endpoints": [redact(e.stream_url) for e in self.endpoints] if self.sim is None else [],
            "sim_grpc": self.sim_grpc,
            "pools": len(self.universe),
            "base_mints": self.base_mints,
            "max_hops": self.max_hops,
            "sweep_s": self.sweep_s,
            "backend": self.eng.BACKEND,
            "policy": dataclasses.asdict(self.policy),
            "fees": dataclasses.asdict(self.fee_settings),
            "live": None if self.live_config is None else self.live_config.shown(),
            "sim_accept_tx": self.sim_accept_tx,
            "commitment": self.commitment,
            "feeds_stall_s": self.feeds_stall_s,
        }

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Open the journal (when recording), start the simulator (if embedded),
        snapshot the pools, open the feeds. A failure is kept in ``start_error`` and
        shown; it never raises. :meth:`stop` during a start cancels it (an endpoint that
        never answers must not hold up a quit or a SIGTERM)."""
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

    async def _nats(self) -> Any:
        """The JetStream context of the publisher and the journal stream (one connection)."""
        from .fleet import connect

        if self._nc is None:
            self._nc = await connect(self.fleet.url, name="arbscope-session")
        return self._nc.jetstream(timeout=5.0)

    async def _start(self) -> None:
        await self._start_metrics()
        try:
            fleet = self.fleet
            if fleet is not None and fleet.regions:
                from .fleet import RemoteFeeds

                self.remote = RemoteFeeds(
                    fleet,
                    None,
                    0,
                    on_fees=self._on_fees,
                    on_tokens=self._on_remote_tokens,
                    on_uncovered=self._on_uncovered,
                )
                if not self.base_mints:  # what the collectors watch
                    bases = await self.remote.base_mints()
                    if bases:
                        self.base_mints = bases
                        self._setup_engine()
            ingest: Any = self.ingest
            if self.record is not None:
                self.journal = await Journal.open(self.record.db)
                journal: Any = self.journal
                if fleet is not None and fleet.journal_stream:
                    from .fleet import StreamJournal, TeeJournal

                    self.stream_journal = StreamJournal(await self._nats(), fleet.retention)
                    await self.stream_journal.open()
                    journal = TeeJournal(self.journal, self.stream_journal)
                self.recorder = await Recorder.start(
                    journal,
                    "sim" if self.sim is not None else "live",
                    self.config(),
                    versions(self.eng),
                    self.record.batch_s,
                    self.record.codec,
                    self.record.max_pending_bytes,
                )
                self.session_id = self.recorder.session
                self.sink = self.recorder
                ingest = InputTee(self.ingest, self.recorder.input)
            if self.sim is not None:
                infos = await self.sim.start()
                first_grpc = len(infos) - self.sim_grpc
                self.endpoints = [
                    Endpoint(
                        i.name, i.ws_url, i.http_url, grpc=i.grpc_url if n >= first_grpc else None
                    )
                    for n, i in enumerate(infos)
                ]
            if fleet is not None and fleet.collect:
                from .fleet import Publisher, ensure_stream, stream_name

                js = await self._nats()
                region = fleet.collect
                await ensure_stream(
                    js, stream_name(region), [f"arbscope.{region}.>"], fleet.retention
                )
                self.publisher = Publisher(js, region)
                self.publisher.hello([e.name for e in self.endpoints], self.base_mints, self.source)
                self.publisher.start()
                ingest = InputTee(ingest, self.publisher.add)
            if self.endpoints:
                await self._start_pool(ingest)
            if self.remote is not None:  # the regions' endpoints after the session's own
                self.remote.ingest, self.remote.first = ingest, len(self.endpoints)
                await self.remote.start()
            url = self._tip_floor_url()
            if url:
                self._tips_task = asyncio.create_task(self._poll_tips(url), name="tip-floor")
        except _NothingToFind as exc:  # it would run forever and find nothing: say so
            self.idle_reason = self.start_error = f"nothing to find: {exc}"[:300]
            log.error("%s", self.start_error)
        except Exception as exc:  # a dead endpoint is a message, not a traceback
            self.start_error = f"{type(exc).__name__}: {exc}"[:300]
            log.error("session failed to start: %s", self.start_error)
        self._setup_live()
        self._snap = None  # what the start found (its note, the live view) shows now
        if self.executor is not None and self.sim_accept_tx and not self.start_error:
            await self.fund_from_faucet()
        if not self.start_error:
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

    async def _start_pool(self, ingest: Any) -> None:
        """The session's own sockets: snapshot, workers, the token names."""
        limits = {} if self.max_answer_bytes is None else {"rpc_max_bytes": self.max_answer_bytes}
        self.pool = FeedPool(
            self.endpoints,
            ingest,
            self.eng,
            seed=self.seed,
            on_fees=self._on_fees,
            fee_accounts=self._fee_accounts,
            worker_config=self.worker_config,
            commitment=self.commitment,
            ca_file=self.ca_file,
            **limits,
        )
        self.boot = await self.pool.bootstrap(self.universe)
        idle = self._nothing_to_find(self.boot)
        if idle:
            raise _NothingToFind(idle)
        await self.pool.start(self.boot.subscriptions)
        self._names_task = asyncio.create_task(self._learn_tokens(), name="tokens")

    async def _fetch_accounts(self, keys: Sequence[str]) -> dict[str, Any]:
        assert self.pool is not None
        accounts, _endpoint = await self.pool._fetch(keys)
        return accounts

    async def _learn_tokens(self) -> None:
        """Read the graph's mints and their metadata (once), then cache what was learnt
        in the journal with the session, for its replays. Never raises: a failure
        leaves the fallbacks on the screen and says why in the log."""
        self.registry.fetch = self._fetch_accounts
        try:
            new = await self.registry.resolve(self.ev.graph.tokens())
            self.ev.set_names(self.registry.book)
            if self.publisher is not None:  # a collector: its consumers have no RPC to ask
                rows = [dataclasses.asdict(t) for t in self.registry.book.tokens.values()]
                self.publisher.add(Kind.TOKENS, 0, json_payload(rows))
            for problem in self.registry.problems:
                log.warning("tokens: %s", problem)
            self._snap = None
            log.info(
                "tokens: %d read (%s)",
                len(new),
                ", ".join(sorted(t.symbol for t in new if t.symbol))[:300],
            )
            if self.journal is not None and self.session_id and new:
                await self.journal.put_tokens(self.session_id, [dataclasses.asdict(t) for t in new])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the names are a nicety: never the session's end
            log.warning("tokens: not read: %s: %s", type(exc).__name__, exc)

    def _on_remote_tokens(self, rows: Sequence[dict[str, Any]]) -> None:
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
        m = self.metrics_settings
        if m is None or self.metrics_server is not None:
            return
        from .metrics import MetricsServer

        server = MetricsServer(self, m.host, m.port, m.stall_s)
        try:
            await server.start()
        except OSError as exc:  # the session goes on; the screen and the log say why
            self.metrics_error = f"metrics: cannot listen on {m.host}:{m.port} ({exc.strerror})"
            log.error("%s", self.metrics_error)
            return
        self.metrics_server = server

    def _setup_live(self) -> None:
        """The live executor, when the session has a live configuration (the embedded
        simulator's URLs stand in for missing ones)."""
        cfg = self.live_config
        if cfg is None or not self.base_mints:
            return
        if self.sim is not None and self.endpoints:
            ep = self.endpoints[0]
            cfg = replace(cfg, rpc=cfg.rpc or ep.http, ws=cfg.ws or ep.ws)
            self.live_config = cfg
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
        self.ev.executor.on_landing = self._on_landing

    async def fund_from_faucet(self, lamports: int = 10 * 10**9, base: int = PAPER_BALANCE) -> str:
        """Give the live wallet SOL and base tokens from the embedded simulator's faucet
        (``--sim-accept-tx``): what a devnet airdrop is to a real trial. A message."""
        if self.sim is None or not self.sim_accept_tx or self.live_config is None:
            return ""
        from .execution.keys import KeypairError, load_wallet

        try:
            w = load_wallet(self.live_config.keypair or "")
        except KeypairError as exc:
            return f"faucet: {exc}"
        chain = self.sim.chain
        chain.airdrop([w.pubkey, lamports])
        chain.fund([w.pubkey, self.base_mints[0], base])
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
        if self.sim is not None and not self.sim_accept_tx:
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
            if self.pool is not None:
                await self.pool.stop()
            if self.sim is not None:
                await self.sim.stop()
            if self.publisher is not None:  # what was received is acknowledged first
                await self.publisher.stop()
            if self.remote is not None:
                await self.remote.stop()
        finally:
            try:
                await self._close_journal()
            finally:
                if self.stream_journal is not None:
                    await self.stream_journal.close()
                if self._nc is not None:
                    with contextlib.suppress(Exception):
                        await self._nc.close()
                    self._nc = None

    async def _close_journal(self) -> None:
        """Flush and close the recording, and the journal (also when the recording never
        started: an open connection would keep the process from exiting)."""
        rec = self.recorder
        try:
            if rec is not None:
                rec.event("timings", self.slot, {"rows": _timing_rows(self.timer)})
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

    def _on_fees(self, samples: list[tuple[int, int]]) -> None:
        if self.publisher is not None or self.recorder is not None:
            payload = json_payload([list(x) for x in samples])
            if self.publisher is not None:
                self.publisher.add(Kind.FEES, 0, payload)
            if self.recorder is not None:
                self.recorder.input(Kind.FEES, 0, payload)
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
                self.sink.event(
                    "fee",
                    self.slot,
                    {
                        "cu_price": self.fees.cu_price_micro_lamports,
                        "newest_slot": self.fee_estimator.newest_slot,
                    },
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
        """Where the block engines' tip floor is read (paper's bundles compete with the
        tips landed there): when orders tip, the first live block engine, else the
        embedded simulator's (it serves Jito's endpoint); "" when nothing tips."""
        if not self.fee_settings.tip_lamports:
            return ""
        cfg = self.live_config
        if cfg is not None and cfg.engines():
            return str(cfg.engines()[0])
        if self.sim is not None and self.endpoints:
            return self.endpoints[0].http or ""
        return ""

    async def _poll_tips(self, url: str) -> None:
        """Read the tip floor every ``TIP_FLOOR_S`` seconds (``_on_tips``); a failure is
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
                        self._on_tips(tips)
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

    def _on_tips(self, lamports: list[int]) -> None:
        """The block engines' landed tips (lamports at the 25th ... 99th percentile):
        what paper's bundles compete against. Journaled as an input."""
        if self.recorder is not None:
            self.recorder.input(Kind.TIPS, 0, json_payload(list(lamports)))
        if self.ev.broker is not None:
            self.ev.broker.tip_floor = tuple(int(x) for x in lamports)

    def _on_landing(self, slots: int, send_ns: int = 0) -> None:
        """A live order landed ``slots`` after its decision, sent ``send_ns`` after it:
        paper lands its orders on the live orders' measured latency. Journaled as an
        input."""
        if self.recorder is not None:
            self.recorder.input(Kind.LANDING, 0, json_payload([int(slots), int(send_ns)]))
        if self.ev.broker is not None:
            self.ev.broker.observe_landing(int(slots), int(send_ns))

    # ------------------------------------------------------------ the tick
    def tick(self, now_ns: int | None = None) -> None:
        """Re-evaluate every pool that changed since the last tick; sweep on a timer;
        execute. ``now_ns`` is the session's clock: without it the tick is a live one at
        the clock's time, journaled as a ``TICK`` input; a replay passes the recorded one.
        The snapshot is built when someone reads it, not here."""
        if now_ns is None:
            self._turn(self.clock.now_ns())
            return
        self._now_ns = now_ns
        if self.collect_only:  # a collector publishes; the consumers evaluate
            self.ingest.take_changed()
            self.slot = self.ingest.stats().slot
            feeds = self._feeds()
            self._health = (feeds, self._verdict(feeds))
            self._snap = None
            return
        ev = self.ev
        ev.hold(self._stalled(now_ns))  # before the tick's scores: they carry it
        changed = self.ingest.take_changed()
        if changed:  # a lamport's price in each base, as the graph holds it now
            ev.refresh_prices()
        for pool_id in changed:
            try:
                ev.evaluate(pool_id, self.slot)
            except UnknownPoolError:  # it left the graph (a bad state): its cycles go too
                ev.drop_pool(pool_id)
            except EngineError:
                self.errors += 1
            self.updates += 1
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
        ev.execute(self.slot, now_ns, self.sink)
        if self.snapshots:  # the screen's price panel (not part of the replayed decisions)
            self.prices.update(self.graph, changed, self.slot)
        self.rate.add(now, self.updates)
        if self.sink is not None:
            self._emit(now_ns)
        feeds = self._feeds()
        self._health = (feeds, self._verdict(feeds))
        self._snap = None

    def _stalled(self, now_ns: int) -> str:
        """:data:`~arbscope.market.REASON_FEEDS_STALLED` when no feed has brought a new
        slot for ``feeds_stall_s`` at ``now_ns`` — every endpoint silent or frozen, a
        region's collector stopped — else "". The same fact ``/health`` judges (the slot
        standing still), from what is journaled (the tick's time and the frames'), so a
        replay decides the same."""
        limit_ns = int(self.feeds_stall_s * 1e9)
        since = int(getattr(self.ingest, "slot_t_ns", 0) or 0)  # 0: no slot yet
        if limit_ns <= 0 or not since or now_ns - since <= limit_ns:
            return ""
        return REASON_FEEDS_STALLED

    def _turn(self, now_ns: int) -> None:
        """The run loop's turn: a live tick at ``now_ns``, journaled first (``TICK``);
        before it, at most every ``COVERAGE_EVERY_NS``, the pools no endpoint covers."""
        pool = self.pool
        own = pool is not None and (self.remote is None or not self.remote.regions)
        if own and pool is not None and now_ns - self._coverage_ns >= COVERAGE_EVERY_NS:
            self._coverage_ns = now_ns
            bare = sorted(pool.uncovered_pools())
            if frozenset(bare) != self.ev.uncovered:
                self._on_uncovered(bare)
        if self.recorder is not None:
            self.recorder.input(Kind.TICK, 0, b"", now_ns)
        self.tick(now_ns)

    def _on_uncovered(self, pools: list[str]) -> None:
        """The pools no endpoint covers now (the session's feeds, or a collector's):
        journaled and published as an input (``UNCOVERED``), so a replay and a consumer
        decide as this session did; their cycles are no-go until covered again."""
        if self.publisher is not None or self.recorder is not None:
            payload = json_payload(list(pools))
            if self.publisher is not None:
                self.publisher.add(Kind.UNCOVERED, 0, payload)
            if self.recorder is not None:
                self.recorder.input(Kind.UNCOVERED, 0, payload)
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
        if self._snap is None:
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
                prices=self.prices.rows(),
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
            )
        return self._snap

    def _emit(self, now_ns: int) -> None:
        """Derived events for what changed since the last tick: opportunities that are
        new or changed (``opp``), gone (``gone``), a new sweep result (``sweep``); feed
        health once a second (``health``, not digested)."""
        sink, slot = self.sink, self.slot
        seen = set()
        for key in sorted(self.live):
            o, sc = self.live[key]
            seen.add(key)
            payload = opp_payload(o, sc, self.ev.fees_of(key))
            text = canonical(payload)
            if self._emitted.get(key) != text:
                self._emitted[key] = text
                sink.event("opp", slot, payload, now_ns)
        for key in sorted(set(self._emitted) - seen):
            del self._emitted[key]
            sink.event("gone", slot, {"base": key[0], "pools": list(key[1])}, now_ns)
        c = self.last_sweep
        sweep = canonical({"tokens": list(c.tokens), "pools": list(c.pools)}) if c else "none"
        if sweep != self._sweep_key:
            self._sweep_key = sweep
            sink.event(
                "sweep",
                slot,
                {
                    "cycle": None
                    if c is None
                    else {
                        "tokens": list(c.tokens),
                        "pools": list(c.pools),
                        "rate_product": c.rate_product,
                    }
                },
                now_ns,
            )
        if (self.pool is not None or self.remote is not None) and (
            now_ns - self._last_health_ns >= HEALTH_EVERY_NS
        ):
            self._last_health_ns = now_ns
            sink.event(
                "health", slot, {"feeds": [_health_payload(h) for h in self._feeds()]}, now_ns
            )

    # ------------------------------------------------------------ the operator
    def trade(self, base: str, pools: list[str]) -> str:
        """``x``: an order on the cycle now (paper; live too when live); why not, or ""."""
        if self.recorder is not None:  # the operator's decision is an input of the session
            self.recorder.input(Kind.TRADE, 0, json_payload([base, list(pools)]))
        self._snap = None
        return self.ev.trade(base, pools, self.slot)

    def kill(self) -> int:
        """Kill switch: back to paper, no automatic orders, pending ones cancelled."""
        if self.recorder is not None:
            self.recorder.input(Kind.KILL, 0, b"")
        self._snap = None
        return self.ev.kill()

    def resume(self) -> None:
        """Automatic orders again after the kill switch."""
        if self.recorder is not None:
            self.recorder.input(Kind.RESUME, 0, b"")
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
        return "SIM" if self.sim is not None else "LIVE"

    def _coverage(self) -> dict[str, int]:
        """Per pool, the endpoints feeding it, once streaming has started ({} before)."""
        pool = self.pool
        return pool.coverage() if pool is not None and pool.workers else {}

    def _note(self, coverage: dict[str, int]) -> str:
        if self.idle_reason:
            return self.idle_reason
        if self.start_error:
            return f"feeds failed to start: {self.start_error}"
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

    def _feeds(self) -> list[FeedHealth]:
        pool = self.pool  # None until start()
        own = pool.health() if pool is not None else []
        remote = self.remote  # the regions' endpoints and a row per region
        return own + remote.health(self.ingest) if remote is not None and remote.regions else own

    def _verdict(self, feeds: list[FeedHealth]) -> Verdict | None:
        return self.health_verdict(feeds)

    def health_verdict(self, feeds: list[FeedHealth] | None = None) -> Verdict | None:
        """The session's health now (``arbscope.health``), for ``/health``, the metric
        and the status bar; ``feeds``: the feeds' health when the caller has it. None
        for a replay (its feeds are a recording; its clock is not the wall's)."""
        if self.monitor is None:
            return None
        feeds = self._feeds() if feeds is None else feeds
        rec = self.recorder
        pool = self.pool
        # the ingest's slot, not the tick's: a paused screen does not freeze the feeds
        slot = int(self.ingest.stats().slot) if pool is not None or self.remote else self.slot
        pub = self.publisher  # a collector's: what it cannot publish reaches no one
        return self.monitor.check(
            feeds,
            slot,
            subscriptions=pool.wanted if pool is not None else 0,
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


def _timing_rows(timer: KernelTimer) -> list[dict[str, Any]]:
    return [dataclasses.asdict(r) for r in timer.rows()]


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

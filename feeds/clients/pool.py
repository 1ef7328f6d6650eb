"""The endpoint pool: the initial snapshot over HTTP, one PubSub worker per endpoint,
the priority-fee poller, and each endpoint's :class:`~feeds.health.FeedHealth`.

``bootstrap(universe)`` fetches the pools' accounts with ``getMultipleAccounts``
(endpoints hedged: see :meth:`FeedPool._fetch`), lets the ingest decode them (which tells it
their vaults and configs), derives the arrays each venue follows (``Venue.follow``: a
Whirlpool's tick arrays by PDA) around its current price, fetches all of those, and
returns the subscriptions the workers open: the slot pulse, every account, and the logs
of the DEX programs.

While streaming, a maintenance task re-fetches over HTTP what the ingest asks for (a
pool whose identity a notification tried to change: from another endpoint than that
one when there is one), and keeps every worker's subscriptions equal to the accounts
the ingest watches (a confirmed identity change re-points vaults: the new ones are
fetched and subscribed, the old ones unsubscribed). Each pool's arrays (a Whirlpool's
tick arrays) follow its price: once it moves to another array, the arrays within
``tick_arrays_each_side`` of the new one are tracked (fetched, subscribed) and the far
ones untracked (unsubscribed; their ticks leave the pool's state). Until the new arrays
arrive a quote that needs them is ``ticks_missing``, never a number.

Rate limits: every HTTP request to an endpoint goes through that endpoint's
:class:`~.ratelimit.RateGate`. An endpoint that answered "slow down" (HTTP 429, a
JSON-RPC rate-limit code) is asked last by the hedged fetch and skipped by the fee
poller until its ``Retry-After`` (capped) or its jittered exponential backoff has
passed; a fetch every endpoint refused waits for the first gate to open and tries again,
at most ``RATE_ROUNDS`` times, then fails (the next maintenance round asks again). So a
rate-limited endpoint receives no request while it backs off: no retry storm.

Coverage: a pool is covered by an endpoint when every account it needs (the pool, its
vaults and own accounts, its tick arrays) is subscribed there; :meth:`FeedPool.coverage`
says, per pool, how many endpoints cover it, and which pools no endpoint covers (their
state goes stale: nothing tells the ingest they changed).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, TypeVar

from engine_rs.errors import EngineError
from engine_rs.records import EndpointStats

from .. import venues
from ..health import FeedHealth, HealthCounters, standing
from ..redact import redact
from ..wire.instructions import SYSTEM_PROGRAM
from ..wire.protocol import Subscription
from .pubsub import PubSubWorker, WorkerConfig, all_subscriptions
from .ratelimit import RateGate
from .reconcile import Reconciler, ReconcileSettings
from .rpc import (
    MAINNET_EPOCH_SCHEDULE,
    MAX_ACCOUNTS,
    MAX_ANSWER_BYTES,
    EpochSchedule,
    RawAccount,
    RpcClient,
    RpcError,
)
from .slices import SLICE_S, Pace
from .transactions import TransactionFetcher
from .yellowstone import GrpcWorker, grpc_worker

log = logging.getLogger(__name__)
T = TypeVar("T")
RATE_ROUNDS = 4  # rounds of a fetch every endpoint refused as rate limited, then it fails
# a busy start (bootstrap): requests in flight at once per endpoint, attempts of each chunk
# of accounts, the backoff between them (doubling from the first, jittered, capped) and
# how far each attempt's timeout grows (doubling from rpc_timeout_s to this many times it)
RPC_CONCURRENCY = 4
BOOT_ATTEMPTS = 5
BOOT_BACKOFF_S = (0.5, 8.0)
BOOT_TIMEOUT_GROWTH = 8
PROGRESS_LOG_S = 2.0  # the snapshot's progress is logged at most this often
# fetches of newly watched accounts in one follow: a re-pointed vault, then the mint it
# names when it is a Token-2022 account (a fetched account can make another watched)
FOLLOW_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One RPC node: its name, HTTP URL (None: streaming only) and the stream it is read
    by: its WebSocket URL (PubSub), or with ``grpc`` its Yellowstone gRPC URL (then
    ``ws`` is unused) and that stream's ``x_token`` (a secret: never shown)."""

    name: str
    ws: str
    http: str | None = None
    grpc: str | None = None
    x_token: str | None = field(default=None, repr=False)

    @property
    def transport(self) -> str:
        """How its stream arrives: ``ws`` (PubSub) or ``grpc`` (Yellowstone)."""
        return "grpc" if self.grpc else "ws"

    @property
    def stream_url(self) -> str:
        return self.grpc or self.ws


@dataclass(slots=True)
class Bootstrap:
    """What the snapshot found: pools in the graph, and what went wrong (redacted)."""

    pools: int = 0
    accounts: int = 0
    missing: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    endpoint: str = ""


@dataclass(slots=True)
class BootProgress:
    """How far the snapshot (:meth:`FeedPool.bootstrap`) is: its phase, the accounts of
    the phase fetched so far and in all, the attempts that failed and were retried, and
    the last failure (redacted). What the status line says while a session starts."""

    phase: str = ""
    fetched: int = 0
    total: int = 0
    retries: int = 0
    problem: str = ""
    done: bool = False

    def text(self) -> str:
        """One line for the operator: ``snapshot: tick arrays 1,200 / 3,000 accounts``,
        then the retries and why (``""`` once done)."""
        if self.done or not self.phase:
            return ""
        out = f"snapshot: {self.phase}"
        if self.total:
            out += f" {self.fetched:,} / {self.total:,} accounts"
        if self.retries:
            out += f"; {self.retries} retried ({self.problem})"
        return out


def _read_error(task: asyncio.Task[Any]) -> None:
    """Mark a finished task's error as read (its owner reports it, or no longer waits)."""
    if not task.cancelled():
        task.exception()


class FeedPool:
    """Endpoints, workers and health for one session (see the module docstring)."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        ingest: Any,
        engine: Any,
        worker_config: WorkerConfig | None = None,
        seed: int = 0,
        commitment: str = "confirmed",
        on_fees: Callable[[list[tuple[int, int]]], None] | None = None,
        fee_poll_s: float = 2.0,
        tick_arrays_each_side: int = 2,
        rpc_timeout_s: float = 5.0,
        maintain_s: float = 0.5,
        rpc_hedge_s: float = 1.0,
        rpc_max_bytes: int = MAX_ANSWER_BYTES,
        ca_file: str | None = None,
        fee_accounts: Callable[[], Sequence[str]] | None = None,
        on_transaction: Callable[[Any], None] | None = None,
        follow_programs: Sequence[str] = (),
        rpc_concurrency: int = RPC_CONCURRENCY,
        boot_attempts: int = BOOT_ATTEMPTS,
        reconcile: ReconcileSettings | None = None,
    ) -> None:
        if not endpoints:
            raise ValueError("at least one endpoint is needed")
        if rpc_concurrency < 1 or boot_attempts < 1:
            raise ValueError("rpc_concurrency and boot_attempts must be at least 1")
        # the accounts the fee poll asks about (``lockedWritableAccounts``: the prices paid
        # by the transactions that wrote them, not the slot's cheapest), at most 128
        self.fee_accounts = fee_accounts
        self.endpoints = list(endpoints)
        self.ingest, self.eng = ingest, engine
        self.worker_config = worker_config or WorkerConfig()
        self.seed, self.commitment = seed, commitment
        self.on_fees, self.fee_poll_s = on_fees, fee_poll_s
        self.arrays_each_side = tick_arrays_each_side
        self.rpc_timeout_s = rpc_timeout_s
        self.rpc_hedge_s = min(rpc_hedge_s, rpc_timeout_s)
        self.rpc_max_bytes = rpc_max_bytes
        # HTTP requests in flight at once per endpoint (every client of that endpoint
        # waits for a place: a snapshot of thousands of accounts never floods a node)
        self.rpc_concurrency = rpc_concurrency
        self._inflight = [asyncio.Semaphore(rpc_concurrency) for _ in endpoints]
        self._clients: dict[int, RpcClient] = {}  # see _kept
        self.boot_attempts = boot_attempts
        self.progress = BootProgress()  # the snapshot's, while bootstrap runs
        # the watched accounts read again at a bounded rate, what a stream dropped
        # repaired (feeds.clients.reconcile; None: not read again); made by start
        self.reconcile_settings = reconcile
        self.reconciler: Reconciler | None = None
        self._jitter = random.Random(seed * 104729 + 1)
        self.ca_file = ca_file  # a private CA for https:// (the workers: worker_config)
        self.preferred: int | None = None  # the endpoint whose HTTP answered last (index)
        self.counters = [
            HealthCounters(i, e.name, redact(e.stream_url)) for i, e in enumerate(self.endpoints)
        ]
        self.maintain_s = maintain_s
        self.workers: list[PubSubWorker | GrpcWorker] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._dedup_seen = 0
        self.programs: list[str] = []
        self.subscriptions: list[Subscription] = []
        self.refetched = 0  # accounts fetched again for the ingest
        # a stream that broke has a gap a node never replays: once an endpoint that
        # reconnected is subscribed again, every watched account is fetched once more
        self.resnapshots = 0
        # the start's own gap: the snapshot was read before the streams were subscribed,
        # and a change between the two is never sent (set by start, cleared by the fill)
        self._start_gap = False
        self._reconnects_seen = [0] * len(self.endpoints)
        # the accounts of a gap still to fetch again (None: no gap being filled), and
        # each endpoint's reconnects it covers
        self._gap: dict[str, None] | None = None
        self._gap_marks: list[int] = []
        # who covered a gap (fill_gaps, sampled each maintenance round): per endpoint, the
        # round since which it has had every subscription answered and none refused,
        # with no reconnect (None: not now), and its reconnects then; per endpoint, the
        # round before its first outage not yet filled (the outage began after it)
        self._round = 0
        self._whole_from: list[int | None] = [None] * len(self.endpoints)
        self._whole_marks: list[tuple[int, ...]] = [()] * len(self.endpoints)
        self._down_from: list[int | None] = [None] * len(self.endpoints)
        self.gaps_covered = 0  # reconnects whose gap another endpoint's stream covered
        self._retry: list[tuple[str, int]] = []
        self.wanted = 0  # subscriptions each worker asks for (set by start)
        # each pool's tracked arrays (Whirlpool tick arrays ...: its venue's ``follow``),
        # and the array indexes they were derived for
        self._arrays: dict[str, set[str]] = {}
        self._centred: dict[str, list[int]] = {}
        # the record each pool's arrays were last derived from (a maintenance round
        # derives them again only for a pool whose state changed: deriving every pool's,
        # PDAs and bitmaps, took ~360 ms a round at 3,000 pools)
        self._followed: dict[str, Any] = {}
        self._records_seen = 0  # the ingest's record_seq when the last round read them
        self._array_of: dict[str, tuple[str, int]] = {}  # array -> (pool, index)
        self._absent: dict[str, Callable[[int, str], tuple[str, bytes] | None] | None] = {}
        self.zeroed = 0  # arrays absent on chain, read as the program reads them
        self.gates = [RateGate(seed=seed * 7919 + i) for i in range(len(self.endpoints))]
        # the accounts each pool needs (pool, vaults, own accounts, tick arrays, the mints
        # of its Token-2022 vaults): learned as the ingest asks to watch them after each
        # pool account, the mints from their roles (coverage())
        self.pool_accounts: dict[str, set[str]] = {}
        # bumped whenever ``pool_accounts`` may have changed: what is derived from it
        # (the accounts every pool needs, the coverage) is derived again only then
        self._accounts_gen = 0
        self._needed: tuple[int, frozenset[str]] | None = None
        self._owners_memo: tuple[int, dict[str, tuple[str, ...]]] | None = None
        self._lacking_memo: dict[int, tuple[AbstractSet[str], int, AbstractSet[str]]] = {}
        self._coverage: tuple[int, tuple[AbstractSet[str], ...], dict[str, int]] | None = None
        # the ingest's watched accounts (in order, and as a set), read again only when
        # its ``watched_version`` moved (~21,000 keys at 3,000 pools: two copies of them
        # each maintenance round and each health check held the loop for milliseconds)
        self._watched: tuple[int, tuple[str, ...], frozenset[str]] | None = None
        self._uncovered: dict[int, tuple[list[Subscription], AbstractSet[str], int]] = {}
        self._asked: tuple[list[Subscription] | None, frozenset[str]] = (None, frozenset())
        # the watched version the subscriptions were last made to match (follow())
        self._followed_version = -1
        self._made: tuple[list[Subscription], dict[str, Subscription]] | None = None
        # the cluster's epoch schedule (getEpochSchedule, read once by bootstrap); when no
        # node answered, mainnet's, and why in ``epoch_schedule_problem``
        self.epoch_schedule: EpochSchedule = MAINNET_EPOCH_SCHEDULE
        self.epoch_schedule_problem: str | None = None
        # the transactions that touched the watched pools, with their bodies (the
        # rivals'): fetched for the logs notifications, read from gRPC updates
        self.transactions: TransactionFetcher | None = None
        # programs whose every transaction is read (the prop AMMs': arbscope.propamm):
        # named in the gRPC streams' transaction filter, polled for over HTTP when an
        # endpoint streams PubSub
        self.follow_programs = tuple(follow_programs) if on_transaction is not None else ()
        if on_transaction is not None:
            http = [i for i, e in enumerate(self.endpoints) if e.http is not None]
            pubsub = any(not e.grpc for e in self.endpoints)
            self.transactions = TransactionFetcher(
                ingest,
                [self._kept(i) for i in http],
                on_transaction,
                order=lambda: [http.index(i) for i in self._http_order()],
                commitment="confirmed",
                mentions=lambda: set(self.pool_accounts),
                programs=self.follow_programs if pubsub else (),
            )

    # ------------------------------------------------------------ snapshot
    def _rpc(self, i: int, timeout_s: float | None = None) -> RpcClient:
        url = self.endpoints[i].http
        assert url is not None
        return RpcClient(
            url,
            self.rpc_timeout_s if timeout_s is None else timeout_s,
            self.rpc_max_bytes,
            self.ca_file,
            gate=self.gates[i],
            inflight=self._inflight[i],
        )

    def _kept(self, i: int, timeout_s: float | None = None) -> RpcClient:
        """The endpoint's client for hedged requests, kept for the pool's life: its
        connections are kept alive between requests (one TCP and TLS handshake per
        connection, not one per request) and closed by :meth:`stop`."""
        rpc = self._clients.get(i)
        if rpc is None:
            rpc = self._clients[i] = self._rpc(i)
        return rpc if timeout_s is None else rpc.timed(timeout_s)

    def _http_order(self) -> list[int]:
        """Indices of the endpoints with an HTTP URL: those not backing off from a rate
        limit first (the one that answered last first among them), then the others by
        when their backoff ends."""
        eps = [i for i, e in enumerate(self.endpoints) if e.http is not None]
        return sorted(eps, key=lambda i: (self.gates[i].remaining(), i != self.preferred))

    async def fetch_accounts(self, keys: Sequence[str]) -> dict[str, RawAccount | None]:
        """``getMultipleAccounts`` for ``keys``, hedged across the endpoints (what others
        read through the session's sockets: the token registry)."""
        accounts, _endpoint = await self._fetch(keys)
        return accounts

    async def _fetch(
        self, keys: Sequence[str], avoid: int | None = None
    ) -> tuple[dict[str, RawAccount | None], str]:
        """``getMultipleAccounts`` for ``keys``, hedged (:meth:`_hedged`; ``avoid`` last:
        a re-fetch asks another endpoint than the one whose copy it checks)."""
        commitment = self.commitment
        return await self._hedged(
            "getMultipleAccounts", lambda rpc: rpc.get_multiple_accounts(keys, commitment), avoid
        )

    async def _hedged(
        self,
        method: str,
        call: Callable[[RpcClient], Awaitable[T]],
        avoid: int | None = None,
        timeout_s: float | None = None,
    ) -> tuple[T, str]:
        """``call(rpc)`` (a request of ``method``), hedged: the preferred endpoint is asked
        first (``avoid`` last); the next one is asked too when it fails or has not
        answered within ``rpc_hedge_s``; the first answer wins and the other requests are
        cancelled. So a hanging endpoint costs at most ``rpc_hedge_s`` once (it is not
        asked first again), and a round ends within (endpoints - 1) * rpc_hedge_s +
        rpc_timeout_s seconds. An endpoint backing off from a rate limit is asked last;
        when only rate limits stood in the way, it waits for the first endpoint's
        backoff to end and tries again, at most RATE_ROUNDS rounds in all. The answer
        and the name of the endpoint that gave it. ``timeout_s``: each request's
        (default ``rpc_timeout_s``); the round's RpcError is ``transient`` when any
        endpoint's was, ``unreachable`` when every one's was."""
        if not self._http_order():
            raise RpcError(f"no endpoint answered {method}: no HTTP URL")
        for round_ in range(RATE_ROUNDS):
            try:
                return await self._hedged_round(method, call, avoid, timeout_s)
            except RpcError as exc:
                if not exc.rate_limited or round_ == RATE_ROUNDS - 1:
                    raise
                # every endpoint refused or is backing off: wait for the first to open
                await asyncio.sleep(min(g.remaining() for g in self._http_gates()))
        raise AssertionError("unreachable")

    def _http_gates(self) -> list[RateGate]:
        return [self.gates[i] for i in self._http_order()]

    async def _hedged_round(
        self,
        method: str,
        call: Callable[[RpcClient], Awaitable[T]],
        avoid: int | None,
        timeout_s: float | None = None,
    ) -> tuple[T, str]:
        """One round of :meth:`_hedged`: each endpoint asked at most once; RpcError with
        ``rate_limited`` when only rate limits stood in the way."""
        queue = sorted(self._http_order(), key=lambda i: i == avoid)

        async def one(i: int) -> T:
            rpc = self._kept(i, timeout_s)
            try:
                return await call(rpc)
            except RpcError as exc:
                if exc.transport:  # TLS or size: the operator's to fix; the Feeds panel says so
                    self.counters[i].oversize += exc.transport == "oversize"
                    self.counters[i].error(str(exc), rpc.url)
                raise

        errors: list[str] = []
        limited = transient = unreachable = 0
        pending: dict[asyncio.Task[T], int] = {}
        try:
            while queue or pending:
                if queue:  # at first, after a failure, or when the hedge delay ran out
                    i = queue.pop(0)
                    t = asyncio.create_task(one(i), name=f"fetch-{i}")
                    # a request that fails after the round has ended (its cancel came too
                    # late, or the round itself was cancelled) has its error read here:
                    # never "Task exception was never retrieved" on the operator's stderr
                    t.add_done_callback(_read_error)
                    pending[t] = i
                done, _ = await asyncio.wait(
                    pending,
                    timeout=self.rpc_hedge_s if queue else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for t in done:
                    i = pending.pop(t)
                    try:
                        answer = t.result()
                    except RpcError as exc:
                        errors.append(str(exc))
                        transient += exc.transient
                        unreachable += exc.unreachable
                        if exc.rate_limited:
                            limited += 1
                            self.counters[i].error(str(exc))
                        continue
                    self.preferred = i
                    return answer, self.endpoints[i].name
        finally:
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.wait(pending)
        raise RpcError(
            f"no endpoint answered {method}: " + "; ".join(errors),
            rate_limited=limited == len(errors) > 0,
            transient=transient > 0,
            unreachable=unreachable == len(errors) > 0,
        )

    async def read_epoch_schedule(self) -> None:
        """Ask the nodes for the cluster's epoch schedule (``getEpochSchedule``, hedged)
        and hand it to the ingest (``set_epoch_schedule``: the graph's epoch, which picks
        each Token-2022 mint's transfer fee in force). A node that does not answer, or
        answers a schedule the engine refuses, leaves mainnet's: said in the log and in
        ``epoch_schedule_problem``, never raised."""
        try:
            got, _ = await self._hedged("getEpochSchedule", RpcClient.get_epoch_schedule)
            self.ingest.set_epoch_schedule(
                got.slots_per_epoch, got.warmup, got.first_normal_epoch, got.first_normal_slot
            )
        except (RpcError, EngineError) as exc:
            self.epoch_schedule_problem = f"{exc}"[:300]
            log.warning(
                "epoch schedule: %s; mainnet's assumed (432,000 slots an epoch, no warmup)",
                self.epoch_schedule_problem,
            )
            return
        self.epoch_schedule, self.epoch_schedule_problem = got, None

    async def bootstrap(self, universe: Sequence[tuple[str, str]]) -> Bootstrap:
        """Snapshot ``universe`` (``(address, kind)`` pairs) into the graph (the epoch
        schedule first: :meth:`read_epoch_schedule`). Busy nodes are waited for, not
        flooded (:meth:`_snapshot_fetch`); the progress is in :attr:`progress` and the
        log. RpcError when no endpoint answers: at once when none can be reached, after
        ``boot_attempts`` attempts when they are only slow."""
        out = Bootstrap()
        self.progress = BootProgress("epoch schedule")
        await self.read_epoch_schedule()
        for address, kind in universe:
            self.ingest.track_pool(address, kind)
        done: set[str] = set()
        pools = dict(universe)
        answered: collections.Counter[str] = collections.Counter()
        phases = ("pools", "vaults and configs", "tick arrays and mints")
        pace = Pace(SLICE_S)
        # pools -> their vaults / configs -> (whirlpools ...) tick arrays and the mints of
        # the Token-2022 vaults (watched once their vault is read)
        for round_ in range(3):
            keys = [k for k in self.ingest.watched() if k not in done]
            if round_ == 2:
                keys += self._tick_arrays(done)
            if not keys:
                continue
            # the pools' own accounts: what each makes watched is noted once for the
            # batch (one pass over the watched accounts, not one per pool)
            before = set(self.ingest.watched()) if round_ == 0 else set()

            async def take(accounts: dict[str, RawAccount | None]) -> None:
                """One chunk's answer into the graph as it comes: the snapshot never
                holds the market's accounts all at once (a high-water mark the
                process would keep)."""
                slot = _answer_slot(accounts)
                for k, got in accounts.items():
                    if pace.due():  # the loop (feeds, the screen, keys) gets its turns
                        await asyncio.sleep(0)
                        pace.restart()
                    done.add(k)
                    acc = self._or_zeroed(k, got, slot)
                    if acc is None:
                        if k in pools:
                            out.missing.append(k)
                        continue
                    out.accounts += 1
                    try:
                        if k in pools:
                            self.pool_accounts.setdefault(k, {k})
                        self.ingest.account(k, acc.owner, acc.data, acc.slot)
                    except EngineError as exc:
                        out.rejected.append(f"{k}: {exc}")

            await self._snapshot_fetch(keys, phases[round_], answered, take)
            if round_ == 0:
                self._note_new(before)
            self._accounts_gen += 1
        self.progress.done = True
        if answered:
            out.endpoint = answered.most_common(1)[0][0]
        out.pools = len({p for p in self.ingest.take_changed()})
        self._note_mints()
        # the DEX programs whose logs are followed: the venues of the universe's pools;
        # when the transactions are wanted (rivals), the logs that mention each pool (the
        # transactions that touched it, and only those) instead
        self.programs = sorted(
            {venues.by_kind(k).program for _, k in universe if k in venues.KINDS}
        )
        logs = self.programs
        if self.transactions is not None:
            logs = [a for a, k in universe if k in venues.KINDS]
        out.subscriptions = all_subscriptions(self._by_pool(), logs, self.commitment)
        log.info(
            "snapshot: %d accounts read (%d retried) from %s",
            out.accounts,
            self.progress.retries,
            ", ".join(f"{n} ({c} requests)" for n, c in answered.most_common()) or "none",
        )
        return out

    async def _snapshot_fetch(
        self,
        keys: Sequence[str],
        phase: str,
        answered: collections.Counter[str],
        take: Callable[[dict[str, RawAccount | None]], Awaitable[None]],
    ) -> None:
        """``keys`` for the snapshot, a hedged ``getMultipleAccounts`` per chunk of
        ``MAX_ACCOUNTS`` (each endpoint takes at most ``rpc_concurrency`` at once; a chunk
        waiting for a place is asked of the next endpoint after ``rpc_hedge_s``, so the
        work goes where there is room). A chunk no endpoint answered is asked again after
        a jittered, doubling backoff, each attempt's timeout doubled (up to
        ``BOOT_TIMEOUT_GROWTH`` times ``rpc_timeout_s``), at most ``boot_attempts`` times,
        as long as the failure was transient (no answer in time, a dropped connection, a
        node behind); when no endpoint could be reached at all it fails at once.
        ``answered`` counts the chunks each endpoint answered. Each chunk's answer is
        handed to ``take`` as it comes (never all of them held at once)."""
        p = self.progress
        p.phase, p.fetched, p.total = phase, 0, len(keys)
        log.info("snapshot: %s, %d accounts", phase, len(keys))
        last_log = time.monotonic()

        def note(part: list[str], name: str) -> None:
            nonlocal last_log
            answered[name] += 1
            p.fetched += len(part)
            now = time.monotonic()
            if now - last_log >= PROGRESS_LOG_S:
                last_log = now
                log.info("%s", p.text())

        def retried(why: str) -> None:
            p.retries += 1
            p.problem = why[:300]

        await self._fetch_chunks(keys, take, note, retried, phase, self.boot_attempts)

    async def _fetch_chunks(
        self,
        keys: Sequence[str],
        take: Callable[[dict[str, RawAccount | None]], Awaitable[None] | None],
        note: Callable[[list[str], str], None] | None = None,
        retried: Callable[[str], None] | None = None,
        phase: str = "re-fetch",
        attempts: int = 1,
    ) -> None:
        """``keys``, a hedged ``getMultipleAccounts`` per chunk of ``MAX_ACCOUNTS``,
        each chunk's answer handed to ``take`` as it comes (the requests wait for a
        place at their endpoint: at most ``rpc_concurrency`` each, so what is held at
        once is bounded by the endpoints' places, not by ``len(keys)``); a transient
        failure retried up to ``attempts`` times (see :meth:`_snapshot_fetch`).
        ``note(part, endpoint)`` after each chunk, ``retried(why)`` at each retry."""
        commitment = self.commitment

        async def chunk(part: list[str]) -> None:
            timeout = self.rpc_timeout_s
            for attempt in range(1, attempts + 1):
                try:
                    got, name = await self._hedged(
                        "getMultipleAccounts",
                        lambda rpc: rpc.get_multiple_accounts(part, commitment),
                        timeout_s=timeout,
                    )
                    break
                except RpcError as exc:
                    if not exc.transient or exc.unreachable or attempt == attempts:
                        if attempt > 1:
                            raise RpcError(
                                f"{exc} (attempt {attempt} of {attempts})",
                                transient=exc.transient,
                                unreachable=exc.unreachable,
                            ) from None
                        raise
                    why = redact(str(exc))
                    if retried is not None:
                        retried(why)
                    low, high = BOOT_BACKOFF_S
                    wait = min(high, low * 2 ** (attempt - 1)) * self._jitter.uniform(0.5, 1.0)
                    log.warning(
                        "snapshot: %s: a chunk of %d accounts retried in %.1f s (%s)",
                        phase,
                        len(part),
                        wait,
                        why,
                    )
                    await asyncio.sleep(wait)
                    timeout = min(timeout * 2, self.rpc_timeout_s * BOOT_TIMEOUT_GROWTH)
            taken = take(got)
            if taken is not None:
                await taken
            if note is not None:
                note(part, name)

        parts = [list(keys[i : i + MAX_ACCOUNTS]) for i in range(0, len(keys), MAX_ACCOUNTS)]
        tasks = [asyncio.ensure_future(chunk(part)) for part in parts]
        try:
            await asyncio.gather(*tasks)
        finally:  # one chunk failed for good (or the start was cancelled): the rest stop
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _tick_arrays(self, done: set[str]) -> list[str]:
        """The arrays around each tracked pool's price that its venue follows (a
        Whirlpool's tick arrays: ``Venue.follow``), now tracked (and the ones no longer
        around it untracked); returns those to fetch (not in ``done``)."""
        keys: list[str] = []
        for address, kind, rec in self._follow_records():
            self._follow_pool(address, kind, rec, done, keys)
        return keys

    async def _tick_arrays_sliced(self) -> None:
        """:meth:`_tick_arrays` for a maintenance round, the event loop given back every
        slice (``SLICE_S``): in a busy market hundreds of Whirlpools move between two
        rounds, each one's arrays derived again (PDAs, bitmaps)."""
        pace = Pace(SLICE_S)
        keys: list[str] = []
        # only the pools whose record changed since the last round (a pool's arrays
        # depend on its record alone): at 3,000 pools every followed pool's record was
        # converted and compared twice a second, ~4 % of the dashboard's CPU
        seq = self.ingest.record_seq()
        for address, kind, rec in self._follow_records(self._records_seen):
            if pace.due():
                await asyncio.sleep(0)
                pace.restart()
            self._follow_pool(address, kind, rec, set(), keys)
        self._records_seen = seq  # (a round cut short reads its records again)

    def _follow_records(self, since: int = 0) -> list[tuple[str, str, Any]]:
        """The records of the pools whose venue follows arrays (the others' are not
        read); with ``since`` (a ``record_seq``), those replaced after it only."""
        follow_kinds = [v.kind for v in venues.VENUES if v.follow is not None]
        return list(self.ingest.records(follow_kinds, since))

    def _follow_pool(
        self, address: str, kind: str, rec: Any, done: set[str], keys: list[str]
    ) -> None:
        """One pool's arrays around its price (``rec``), tracked; those to fetch (not in
        ``done``) appended to ``keys``."""
        venue = venues.by_kind(kind)
        follow = venue.follow
        if follow is None:
            return
        if self._followed.get(address) == rec:
            return  # its state has not changed since its arrays were derived
        self._followed[address] = rec
        self._absent[address] = venue.absent
        arrays = follow(self.eng, address, rec, self.arrays_each_side)
        starts = [index for _, index in arrays]
        if self._centred.get(address) == starts:
            return  # its price stayed in the same array: nothing to do
        want = [ta for ta, _ in arrays]
        had = self._arrays.get(address, set())
        self._accounts_gen += 1
        mine = self.pool_accounts.setdefault(address, {address})
        for ta in had - set(want):
            self.ingest.untrack_array(ta, address)
            mine.discard(ta)
            self._array_of.pop(ta, None)
        for ta, start in arrays:
            self._array_of[ta] = (address, start)
            mine.add(ta)
            if ta not in had:
                self.ingest.track_array(ta, address)
            if ta not in done:
                keys.append(ta)
        self._arrays[address] = set(want)
        self._centred[address] = starts

    # ------------------------------------------------------------ streaming
    async def start(self, subscriptions: Sequence[Subscription]) -> None:
        """Open one worker per endpoint, the fee poller and the maintenance task."""
        self.subscriptions = list(subscriptions)
        self.wanted = len(subscriptions)
        self._start_gap = bool(self.wanted) and any(e.http for e in self.endpoints)
        for i, e in enumerate(self.endpoints):
            w: PubSubWorker | GrpcWorker
            if e.grpc:
                w = grpc_worker(
                    self.eng,
                    e.grpc,
                    self.worker_config,
                    endpoint=i,
                    subscriptions=subscriptions,
                    ingest=self.ingest,
                    counters=self.counters[i],
                    seed=self.seed,
                    commitment=self.commitment,
                    x_token=e.x_token,
                    gate=self.gates[i],
                    on_transaction=(
                        self.transactions.grpc_update if self.transactions is not None else None
                    ),
                    follow=self.follow_programs,
                )
            else:
                w = PubSubWorker(
                    i,
                    e.ws,
                    subscriptions,
                    self.ingest,
                    self.counters[i],
                    self.worker_config,
                    self.seed,
                    gate=self.gates[i],
                )
            self.workers.append(w)
            name = f"{e.transport}-{e.name}"
            self._tasks.append(asyncio.create_task(w.run(), name=name))
        if self.on_fees is not None and any(e.http for e in self.endpoints):
            self._tasks.append(asyncio.create_task(self._poll_fees(), name="fees"))
        if any(e.http for e in self.endpoints):
            self._tasks.append(asyncio.create_task(self._maintain(), name="maintain"))
            if self.reconcile_settings is not None and self.reconcile_settings.rps > 0:
                self.reconciler = self._reconciler(self.reconcile_settings)
                self._tasks.append(asyncio.create_task(self.reconciler.run(), name="reconcile"))
        if self.transactions is not None:
            self._tasks.append(asyncio.create_task(self.transactions.run(), name="transactions"))

    def _reconciler(self, settings: ReconcileSettings) -> Reconciler:
        """The reconcile over this pool's endpoints and bookkeeping."""
        names = {e.name: i for i, e in enumerate(self.endpoints)}
        commitment = self.commitment

        async def read(keys: list[str], min_slot: int) -> tuple[int, dict[str, Any], int]:
            (slot, got), name = await self._hedged(
                "getMultipleAccounts",
                lambda rpc: rpc.get_accounts_at(keys, commitment, min_slot),
            )
            return slot, got, names.get(name, -1)

        return Reconciler(
            settings,
            self.ingest,
            read,
            watched=lambda: self.watched()[0],
            watched_set=lambda: self.watched()[1],
            pools=lambda: self.pool_accounts,
            pools_version=lambda: self._accounts_gen,
            absent=self._or_zeroed,
            apply=lambda k, acc: self._account(k, acc, k in self.pool_accounts, repair=True),
            streams=lambda: [
                c.endpoint for c in self.counters if c.connected and c.subscriptions > 0
            ],
            ready=lambda: self.start_filled and any(map(self._answered, self.counters)),
        )

    def reconcile_now(self, pools: Sequence[str]) -> int:
        """Read the accounts of ``pools`` again at once (an order a hop of which paid less
        than its quote: the state held may be stale), ahead of the reconcile's turn; how
        many accounts were queued (0: no reconcile runs)."""
        if self.reconciler is None:
            return 0
        return self.reconciler.urgent(pools)

    @property
    def start_filled(self) -> bool:
        """Whether the start's own gap has been fetched (see :meth:`fill_gaps`): until
        then a pool that changed between the snapshot and the subscriptions may still be
        held as the snapshot read it. A bench measures from here, not from the
        subscriptions' answers, or it counts that fill's accounts as the flood's."""
        return not self._start_gap

    async def wait_started(self, timeout_s: float = 30.0) -> None:
        """Until every endpoint has every subscription answered and the start's gap is
        fetched (``TimeoutError`` after ``timeout_s``): where a bench begins to measure."""
        async with asyncio.timeout(timeout_s):
            while not self.start_filled or not all(map(self._answered, self.counters)):
                await asyncio.sleep(0.01)

    def _answered(self, c: HealthCounters) -> bool:
        """Whether the endpoint of ``c`` is connected with every subscription answered
        (taken or refused)."""
        return c.connected and c.subscriptions + c.refused >= self.wanted

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(self.maintain_s)
            try:
                await self.maintain()
            except RpcError as exc:  # no endpoint answered: the next round asks again
                log.warning("re-fetch: %s", exc)

    async def maintain(self) -> None:
        """Re-fetch what the ingest asked for; follow the watched accounts."""
        # (before follow() asks for the accounts newly watched: a stream whose last
        # round's subscriptions are answered counts as whole)
        self.note_streams()
        wanted = self._retry + list(self.ingest.take_refetch())
        self._retry = []
        by_endpoint: dict[int, list[str]] = {}
        for key, ep in wanted:
            by_endpoint.setdefault(ep, []).append(key)
        for ep, keys in by_endpoint.items():
            try:
                accounts, _ = await self._fetch(keys, avoid=ep)
            except RpcError:
                self._retry += [(k, ep) for k in keys]  # asked again next round
                raise
            self._apply(accounts)
            self.refetched += len(keys)
        await asyncio.sleep(0)  # the event loop's turn between the steps of a round
        await self.follow()
        await asyncio.sleep(0)
        await self.fill_gaps()

    async def fill_gaps(self) -> None:
        """Fetch every watched account again once an endpoint that reconnected is
        subscribed again: what changed while its stream was down is never sent (a node
        does not replay notifications), and if every endpoint missed it the ingest would
        keep the old state until the account next changes. Older copies than the
        ingest holds are refused by its slot order, so this never moves a pool back.

        Chunk by chunk, each applied as it comes (the market's accounts are never held
        at once), and resumed where it stopped: when a chunk fails (busy nodes), what
        was fetched stays done and the next round asks only for the rest — unless an
        endpoint reconnected again meanwhile, which makes a new gap of every account.

        No fetch at all when another endpoint streamed every watched account all through
        the outage: connected, every subscription answered and none refused at the round
        before the outage and every round since, with no reconnect. Its notifications
        were the changes the outage missed (a node cuts a subscriber it cannot keep up
        with; it never skips one), and the ingest took them. At 3,000 pools on five
        endpoints, each cut of one endpoint re-fetched ~21,000 accounts while four
        streams had them all, and the re-fetch put the dashboard further behind."""
        back = [
            i
            for i, c in enumerate(self.counters)
            if c.reconnects > self._reconnects_seen[i] and self._answered(c)
        ]
        # the start's gap, once the first endpoint is subscribed: what changed between the
        # snapshot and its subscriptions was never sent (a pool quiet since would be held
        # as it was at the snapshot: found by test_integrity, whose market stopped after
        # five slots); from then on that stream has every change
        start = self._start_gap and any(map(self._answered, self.counters))
        if not back and not start:
            return
        marks = [c.reconnects for c in self.counters]
        if not start and self._gap is None and all(self._covered(i) for i in back):
            for i in back:
                self._reconnects_seen[i], self._down_from[i] = marks[i], None
            self.gaps_covered += len(back)
            return
        if self._gap is None or any(marks[i] > self._gap_marks[i] for i in back):
            if self.transactions is not None:  # what landed on the pools while it was down
                await self.transactions.fill(int(self.ingest.stats().slot))
            self._gap, self._gap_marks = dict.fromkeys(self.ingest.watched()), marks
        gap = self._gap

        def take(accounts: dict[str, RawAccount | None]) -> None:
            self._apply(accounts)
            for k in accounts:
                gap.pop(k, None)
            self.refetched += len(accounts)

        if gap:
            await self._fetch_chunks(list(gap), take)
        for i in back:
            self._reconnects_seen[i] = self._gap_marks[i]
            self._down_from[i] = None
        self._gap = None
        self._start_gap = False
        self.resnapshots += 1

    def note_streams(self) -> None:
        """A maintenance round's look at the streams, before it changes the
        subscriptions (what :meth:`fill_gaps` judges a gap by): which endpoints have every
        subscription answered, none refused, no new reconnect and no frame dropped
        (malformed, rejected, oversize: a change the stream carried and the ingest never
        took), and which went down."""
        self._round += 1
        r = self._round
        integrity = {e.endpoint: e for e in self.ingest.endpoint_stats()}
        for j, c in enumerate(self.counters):
            i = integrity.get(c.endpoint)
            marks = _dropped(c, i)
            quarantined = i is not None and i.quarantined
            if quarantined or not (
                c.connected and not c.refused and c.subscriptions >= self.wanted
            ):
                self._whole_from[j] = None
            elif self._whole_from[j] is None or marks != self._whole_marks[j]:
                self._whole_from[j], self._whole_marks[j] = r, marks
            if c.reconnects > self._reconnects_seen[j] and self._down_from[j] is None:
                self._down_from[j] = r - 1

    def _covered(self, i: int) -> bool:
        """Whether another endpoint streamed every watched account all through endpoint
        ``i``'s outage (see :meth:`fill_gaps`)."""
        down = self._down_from[i]
        return down is not None and any(
            j != i and since is not None and since <= down
            for j, since in enumerate(self._whole_from)
        )

    async def follow(self) -> None:
        """Subscribe every worker to the accounts the ingest watches now (fetching the
        new ones first), and no others; the tick arrays of a Whirlpool whose price moved
        to another array first follow it (see the module docstring)."""
        await self._tick_arrays_sliced()  # a Whirlpool whose price moved: its arrays follow
        # each step of a round that reads every watched account is a step of the event
        # loop of its own (at 3,000 pools a round held it for ~300 ms in one step)
        await asyncio.sleep(0)
        version = self.ingest.watched_version()
        if version == self._followed_version:
            return  # nothing watched or unwatched since the subscriptions were made
        watched, watched_set = self.watched()
        have = self._asked_accounts()
        if have == watched_set:
            self._followed_version = version
            return
        # what a fetched account makes watched (a new vault's Token-2022 mint) is fetched
        # now too: subscribed unread, it would wait for its next change
        fetched: set[str] = set()
        for _ in range(FOLLOW_ROUNDS):
            new = [k for k in watched if k not in have and k not in fetched]
            if not new:
                break
            accounts, _ = await self._fetch(new)
            self._apply(accounts)
            fetched.update(new)
            watched = self.watched()[0]
        self._note_mints()
        noted = self.ingest.watched_version()
        await asyncio.sleep(0)
        if self.ingest.watched_version() != noted:  # (moved meanwhile: noted again)
            self._note_mints()
        # (the version read in the same step as the list the subscriptions are made of)
        self._followed_version = self.ingest.watched_version()
        self.subscriptions = self._subscriptions_for(self._by_pool())
        self.wanted = len(self.subscriptions)
        await asyncio.sleep(0)
        want = {(s.method, s.label): s for s in self.subscriptions}  # (one map for all)
        for w in self.workers:
            await w.update(self.subscriptions, want)
            await asyncio.sleep(0)  # each worker's diff is its own step of the event loop

    def _subscriptions_for(self, pubkeys: Sequence[str]) -> list[Subscription]:
        """``all_subscriptions(pubkeys, self.programs, self.commitment)``, the ones made
        already reused (each renders its request frame when made: ~25 µs, and a round
        whose watched set moved made ~21,000 of them again at 3,000 pools, ~0.5 s)."""
        fresh = {
            s.label: s
            for s in all_subscriptions(
                [k for k in pubkeys if k not in self._made_subscriptions()],
                self.programs,
                self.commitment,
            )
            if s.method == "accountSubscribe"
        }
        out = all_subscriptions([], self.programs, self.commitment)
        old = self._made_subscriptions()
        out[1:1] = [fresh.get(k) or old[k] for k in pubkeys]
        return out

    def _made_subscriptions(self) -> dict[str, Subscription]:
        """The account subscriptions made already, by account, those made as
        ``all_subscriptions`` makes them for this commitment only."""
        memo = self._made
        if memo is None or memo[0] is not self.subscriptions:
            want = {"encoding": "base64", "commitment": self.commitment}
            made = {
                s.label: s
                for s in self.subscriptions
                if s.method == "accountSubscribe" and s.params == (s.label, want)
            }
            memo = self._made = (self.subscriptions, made)
        return memo[1]

    def _account(self, key: str, acc: RawAccount, pool: bool, repair: bool = False) -> bool:
        """One fetched account into the ingest (``repair``: the reconcile's, applied only
        when it differs from what the ingest holds, ``FeedIngest.reconcile``); for a pool
        account, the accounts the ingest watches because of it are noted as the pool's
        (coverage): what is watched after the pool account and was not before is that
        pool's (a re-pointed vault replaces the old one: the count alone would not tell).
        (An account pools share, a config, is the first one's.) What the ingest answered."""
        put = self.ingest.reconcile if repair else self.ingest.account
        if not pool:
            return bool(put(key, acc.owner, acc.data, acc.slot))
        before = self.watched()[1]
        try:
            return bool(put(key, acc.owner, acc.data, acc.slot))
        finally:
            watched = self.watched()[1]  # the same set unless the account changed it
            mine = self.pool_accounts.setdefault(key, {key})
            n = len(mine)
            if watched is not before:
                mine.update(watched - before)
            # re-pointed: the old vaults are no longer watched
            mine.difference_update([k for k in mine if k not in watched and k != key])
            if watched is not before or len(mine) != n:
                self._accounts_gen += 1

    def watched(self) -> tuple[tuple[str, ...], frozenset[str]]:
        """The accounts the ingest watches, in its order and as a set: its
        ``watched()``, read again only when its ``watched_version()`` moved (the same
        objects until then)."""
        version = self.ingest.watched_version()
        memo = self._watched
        if memo is None or memo[0] != version:
            keys = tuple(self.ingest.watched())
            memo = self._watched = (version, keys, frozenset(keys))
        return memo[1], memo[2]

    def _note_new(self, before: AbstractSet[str]) -> None:
        """The accounts watched now and not in ``before`` (read after a batch of pool
        accounts), each noted as the pool's that first named it (its first role's):
        what :meth:`_account` notes one pool at a time."""
        self._accounts_gen += 1
        for k in self.watched()[0]:
            if k in before:
                continue
            for _role, pool in self.ingest.roles(k):
                mine = self.pool_accounts.get(pool)
                if mine is not None:
                    mine.add(k)
                    break

    def _or_zeroed(self, key: str, acc: RawAccount | None, slot: int) -> RawAccount | None:
        """``key``'s account ``acc`` in a fetch's answer; for a followed array the chain
        does not hold (nobody initialized it), what its program reads instead
        (``Venue.absent``: a Whirlpool reads a zeroed tick array) at the answer's
        ``slot`` (:func:`_answer_slot`). So a quote through it is exact (nothing changes
        liquidity there), never ``ticks_missing``; if it is initialized later its
        notification replaces it. A venue whose program skips absent arrays reads
        nothing (None)."""
        where = self._array_of.get(key) if acc is None else None
        if where is None:
            return acc
        pool, start = where
        absent = self._absent.get(pool)
        if absent is None:
            return None
        made = absent(start, pool)
        if made is None:
            return None
        self.zeroed += 1
        owner, data = made
        return RawAccount(owner, data, 0, slot)

    def _apply(self, accounts: dict[str, RawAccount | None]) -> None:
        """A re-fetch's answer into the ingest. An account the chain no longer holds
        (``null``) that the ingest watches goes in as its absence (the system program's,
        no data: what a node notifies of an account deleted), so a closed vault's pool
        leaves the graph even when its notification was lost."""
        slot = _answer_slot(accounts)
        for k, got in accounts.items():
            acc = self._or_zeroed(k, got, slot)
            if acc is None and got is None and k in self.watched()[1]:
                acc = RawAccount(SYSTEM_PROGRAM, b"", 0, slot)
            if acc is None:
                continue
            try:
                self._account(k, acc, k in self.pool_accounts)
            except EngineError as exc:
                log.warning("re-fetched account %s rejected: %s", k, exc)

    async def stop(self) -> None:
        """Unsubscribe and close every connection; stop polling."""
        await asyncio.gather(*(w.stop() for w in self.workers), return_exceptions=True)
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        if self.transactions is not None:
            for rpc in self.transactions.clients:
                await rpc.close()
        kept, self._clients = list(self._clients.values()), {}
        for rpc in kept:
            await rpc.close()

    async def _poll_fees(self) -> None:
        assert self.on_fees is not None
        clients = {i: self._kept(i) for i, e in enumerate(self.endpoints) if e.http}
        while True:
            # the endpoint that answered last first: a hanging one costs its timeout
            # once, not on every poll; one backing off from a rate limit is not asked
            for i in self._http_order():
                if self.gates[i].remaining() > 0:
                    continue
                accounts = list(self.fee_accounts())[:128] if self.fee_accounts else []
                try:
                    self.on_fees(await clients[i].get_recent_prioritization_fees(accounts))
                except RpcError as exc:
                    self.counters[i].oversize += exc.transport == "oversize"
                    self.counters[i].error(str(exc))
                    continue
                self.preferred = i
                break
            await asyncio.sleep(self.fee_poll_s)

    # ------------------------------------------------------------ coverage
    def _note_mints(self) -> None:
        """Each pool needs the mints it follows (the ingest's ``mint`` roles: its
        Token-2022 vaults'), which become watched when a vault is read, not with its pool
        account; a mint many pools share is each one's. What is no longer watched leaves
        the pools' sets."""
        self._accounts_gen += 1
        watched, live = self.watched()
        for pool, mine in self.pool_accounts.items():
            kept = pool in mine
            mine &= live  # (not ``live | {pool}``: a copy of every watched key per pool)
            if kept:
                mine.add(pool)
        for k in watched:
            for role, pool in self.ingest.roles(k):
                if role == "mint":
                    self.pool_accounts.setdefault(pool, {pool}).add(k)

    def _by_pool(self) -> list[str]:
        """The watched accounts, pool by pool (each pool's accounts together, pools in
        the order they were tracked), then any others: an endpoint that caps the
        subscriptions per connection then covers whole pools, not a scatter of
        accounts of every pool."""
        watched = self.watched()[0]
        pos = {k: i for i, k in enumerate(watched)}
        out: dict[str, None] = {}
        for accounts in self.pool_accounts.values():
            out.update((k, None) for k in sorted(accounts & pos.keys(), key=pos.__getitem__))
        out.update((k, None) for k in watched)
        return list(out)

    def _subscribed(self) -> list[AbstractSet[str]]:
        """Per endpoint, the accounts subscribed there now (none while it is down)."""
        out: list[AbstractSet[str]] = [NOTHING for _ in self.endpoints]
        for w in self.workers:
            if self.counters[w.endpoint].connected:
                out[w.endpoint] = w.account_labels()
        return out

    def coverage(self, subscribed: Sequence[AbstractSet[str]] | None = None) -> dict[str, int]:
        """Per pool, how many endpoints have every account it needs subscribed (the
        same dict again while neither the pools' accounts nor any endpoint's
        subscriptions changed: a connection's are one object until they change)."""
        subscribed = self._subscribed() if subscribed is None else subscribed
        memo = self._coverage
        if (
            memo is not None
            and memo[0] == self._accounts_gen
            and len(memo[1]) == len(subscribed)
            and all(a is b for a, b in zip(memo[1], subscribed, strict=True))
        ):
            return memo[2]
        whole = self._whole(subscribed)
        partial = [have for have, w in zip(subscribed, whole, strict=True) if not w]
        # every endpoint counted for every pool, less a partial one for each pool it
        # lacks some account of (found from the accounts it lacks, not pool by pool)
        out = dict.fromkeys(self.pool_accounts, len(subscribed))
        for have in partial:
            for p in self._lacking(have):
                out[p] -= 1
        self._coverage = (self._accounts_gen, tuple(subscribed), out)
        return out

    def _whole(self, subscribed: Sequence[AbstractSet[str]]) -> list[bool]:
        """Per endpoint, whether it has every account of every pool subscribed (then no
        pool need be looked at one by one: thousands of them, several times a second)."""
        needed = self._needed_now()
        return [needed <= have for have in subscribed]

    def _needed_now(self) -> frozenset[str]:
        """Every account some pool needs (derived again only when they changed)."""
        memo = self._needed
        if memo is None or memo[0] != self._accounts_gen:
            memo = self._needed = (
                self._accounts_gen,
                frozenset().union(*self.pool_accounts.values()),
            )
        return memo[1]

    def _owners(self) -> dict[str, tuple[str, ...]]:
        """Per account some pool needs, those pools (``pool_accounts`` inverted; derived
        again only when it changed)."""
        memo = self._owners_memo
        if memo is None or memo[0] != self._accounts_gen:
            owners: dict[str, list[str]] = {}
            for p, accounts in self.pool_accounts.items():
                for k in accounts:
                    owners.setdefault(k, []).append(p)
            memo = self._owners_memo = (
                self._accounts_gen,
                {k: tuple(ps) for k, ps in owners.items()},
            )
        return memo[1]

    def _lacking(self, have: AbstractSet[str]) -> AbstractSet[str]:
        """The pools that an endpoint subscribed to ``have`` lacks some account of (the
        same answer for the same subscriptions while the pools' accounts are the same:
        the coverage, the health and the uncovered pools ask in one turn)."""
        memo = self._lacking_memo.get(id(have))
        if memo is not None and memo[0] is have and memo[1] == self._accounts_gen:
            return memo[2]
        out: AbstractSet[str]
        missing = self._needed_now() - have
        if len(missing) >= len(self.pool_accounts):  # (a connection down, subscribing)
            out = {p for p, accounts in self.pool_accounts.items() if not accounts <= have}
        else:  # the usual case: a few accounts refused, over a cap, or not yet answered
            owners = self._owners()
            lacking: set[str] = set()
            for k in missing:
                lacking.update(owners.get(k, ()))
            out = lacking
        if len(self._lacking_memo) >= 4 * len(self.endpoints):
            self._lacking_memo.clear()
        self._lacking_memo[id(have)] = (have, self._accounts_gen, out)
        return out

    def _uncovered_of(self, endpoint: int, have: AbstractSet[str]) -> int:
        """How many of the accounts the pool subscribes ``endpoint`` (subscribed to
        ``have``) lacks: counted again only when its subscriptions or the pool's changed.
        An account watched and not yet followed (a new pool's vault, a Whirlpool's next
        tick array, between the ingest naming it and :meth:`follow` asking for it) is no
        endpoint's lack: no endpoint can tell of it yet, so none has missed anything. As
        a lack it made every endpoint uncovered for a moment at each such change, and
        the health's ``missed`` (judged only after a whole window covered) was never
        judged while the watched set moved more often than the window."""
        memo = self._uncovered.get(endpoint)
        if memo is not None and memo[0] is self.subscriptions and memo[1] is have:
            return memo[2]
        n = len(self._asked_accounts() - have) if self.workers else 0
        self._uncovered[endpoint] = (self.subscriptions, have, n)
        return n

    def _asked_accounts(self) -> frozenset[str]:
        """The accounts the pool subscribes (its account subscriptions' labels), read
        again only when its subscriptions were made again."""
        memo = self._asked
        if memo[0] is not self.subscriptions:
            labels = {s.label for s in self.subscriptions if s.method == "accountSubscribe"}
            memo = self._asked = (self.subscriptions, frozenset(labels))
        return memo[1]

    def uncovered_pools(self) -> list[str]:
        """The pools no endpoint covers (their state is stale: nothing reports their
        changes), once streaming has started; [] before."""
        if not self.workers:
            return []
        return [p for p, n in self.coverage().items() if n == 0]

    # ------------------------------------------------------------ health
    def health(self) -> list[FeedHealth]:
        """Each endpoint's health now (rates over the last calls of this method)."""
        stats = {s.endpoint: s for s in self.ingest.dedup_stats()}
        integrity = {e.endpoint: e for e in self.ingest.endpoint_stats()}
        # the notifications accepted once or more (a refused first copy is none: the
        # ingest forgets it, so no endpoint is charged for not sending it; one refused
        # from one endpoint and accepted from another later is the other's lead)
        unique = sum(s.first_seen for s in stats.values())
        now = time.monotonic()
        subscribed = self._subscribed()
        whole = self._whole(subscribed)
        caps = {w.endpoint: w.cap for w in self.workers}
        rec = self.reconciler.stats if self.reconciler is not None else None
        out = []
        for c in self.counters:
            gate, have = self.gates[c.endpoint], subscribed[c.endpoint]
            s = stats.get(c.endpoint)
            i = integrity.get(c.endpoint)
            # what it sent: its first copies, accepted or refused, and its later copies
            delivered = (s.first_seen + s.duplicates if s else 0) + (i.refused_first if i else 0)
            age = None if c.last_message_ns is None else now - c.last_message_ns / 1e9
            out.append(
                FeedHealth(
                    c.endpoint,
                    c.name,
                    c.url,
                    c.connected,
                    c.messages,
                    c.sample_rate(now),
                    s.first_seen if s else 0,
                    s.duplicates if s else 0,
                    None if s is None or s.lag_p50_ns is None else s.lag_p50_ns / 1e6,
                    None if s is None or s.lag_p99_ns is None else s.lag_p99_ns / 1e6,
                    max(0, unique - delivered),
                    c.malformed,
                    c.rejected,
                    c.reconnects,
                    c.stale,
                    c.subscriptions,
                    c.last_error,
                    age,
                    c.refused,
                    slot=i.slot if i else 0,
                    implausible=i.implausible if i else 0,
                    older=i.older if i else 0,
                    unknown=i.unknown if i else 0,
                    identity=i.identity if i else 0,
                    disagreed=i.disagreed if i else 0,
                    held_back=i.held_back if i else 0,
                    quarantined=i.quarantined if i else False,
                    **standing(i),
                    rate_limited=gate.hits,
                    backoff_s=gate.remaining(now),
                    retry_after_s=gate.last_retry_after,
                    uncovered=self._uncovered_of(c.endpoint, have) if self.workers else 0,
                    pools_uncovered=len(self._lacking(have))
                    if self.workers and not whole[c.endpoint]
                    else 0,
                    cap=caps.get(c.endpoint),
                    oversize=c.oversize,
                    transport=self.endpoints[c.endpoint].transport,
                    repaired=i.repaired if i else 0,
                    reconcile_requests=rec.per_endpoint.get(c.endpoint, 0) if rec else 0,
                    reconcile_per_s=rec.rate(now, endpoint=c.endpoint) if rec else 0.0,
                )
            )
        return out


NOTHING: frozenset[str] = frozenset()  # an endpoint's subscriptions while it is down


def _answer_slot(accounts: dict[str, RawAccount | None]) -> int:
    """The slot a fetch's answer speaks for (its newest context slot; 0 when it holds no
    account): what an account absent from it is as of."""
    return max((a.slot for a in accounts.values() if a is not None), default=0)


def _dropped(c: HealthCounters, i: EndpointStats | None) -> tuple[int, ...]:
    """An endpoint's reconnects and the frames it sent that the ingest did not apply: a
    stream is whole only while none of them moves. The transport's (malformed, rejected,
    oversize) and the ingest's integrity guard's (``i``, its :class:`EndpointStats`): a
    slot or an account from the future, a subscription id never given, a pool re-pointed
    at other mints or vaults, a copy outvoted, a copy held back in quarantine. An older
    copy than the ingest holds is not one (it had the change already)."""
    guard = (i.implausible, i.unknown, i.identity, i.disagreed, i.held_back) if i else (0,) * 5
    return (c.reconnects, c.malformed, c.rejected, c.oversize, *guard)

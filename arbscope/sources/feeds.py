"""The feed sources that are not the simulator's (and the settings of its, which it reads
where one is embedded: ``arbscope.sources.embedded``): RPC/PubSub and gRPC endpoints of the
session's own (:class:`EndpointFeeds`, one ``FeedPool``), none at all (:class:`NoFeeds`: a
replay feeds its session itself), and two at once (:class:`Feeds`: the session's own
endpoints, then the NATS regions it consumes, numbered after them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from feeds.clients.pool import Bootstrap, Endpoint, FeedPool
from feeds.clients.pubsub import WorkerConfig
from feeds.clients.reconcile import ReconcileSettings
from feeds.clients.rpc import RawAccount
from feeds.health import FeedHealth
from feeds.redact import redact

from ..mirror import Via
from ..ports import (
    Faucet,
    FeedSource,
    Ingest,
    NothingToFind,
    RegionView,
    SourceLink,
    SourceMarket,
)

if TYPE_CHECKING:
    from feeds.sim.world import WorldConfig

T = TypeVar("T")


@dataclass(frozen=True)
class FeedOptions:
    """How the session's sockets read: the workers' settings, the commitment of the
    subscriptions and reads, a private CA for TLS, the largest HTTP answer (None: the
    pool's default), an HTTP request's timeout (seconds; None: the pool's default), and
    how fast the watched accounts are read again (``reconcile``; None: never:
    :mod:`feeds.clients.reconcile`)."""

    worker_config: WorkerConfig | None = None
    commitment: str = "confirmed"
    ca_file: str | None = None
    max_answer_bytes: int | None = None
    rpc_timeout_s: float | None = None
    reconcile: ReconcileSettings | None = field(default_factory=ReconcileSettings)


@dataclass(frozen=True)
class SimSettings:
    """The embedded simulator: ``endpoints`` served (the last ``grpc`` of them read over
    Yellowstone gRPC), whether its chain takes transactions (``accept_tx``: live trading
    against it), and its world: ``world``, or one of the session's seed with a slot of
    ``slot_seconds``, ``competitors`` racing the pools knocked off their price with real
    transactions — ``rivals`` the preset of their strength (``feeds.sim.competition``),
    how many its own unless ``competitors`` says, its knobs ``rival_reaction`` (slots),
    ``rival_tip`` (lamports), ``rival_gap_bps`` — and real program binaries from
    ``programs`` (the world's defaults where None: no rivals)."""

    endpoints: int = 3
    grpc: int = 0
    accept_tx: bool = False
    world: WorldConfig | None = None
    slot_seconds: float | None = None
    competitors: int | None = None
    programs: str = ""
    rivals: str | None = None
    rival_reaction: int | None = None
    rival_tip: float | None = None
    rival_gap_bps: float | None = None
    prop_amms: bool = False  # a prop AMM per major pair (feeds.sim.propamm; sim.prop_amms)

    def world_config(self, seed: int) -> WorldConfig:
        from feeds.sim.world import WorldConfig

        if self.world is not None:
            return self.world
        knobs: dict[str, Any] = {"programs": self.programs, "prop_amms": self.prop_amms}
        if self.slot_seconds is not None:
            knobs["slot_seconds"] = self.slot_seconds
        if self.rivals is not None:
            from feeds.sim.competition import PRESETS

            knobs["rivals"] = self.rivals
            knobs["competitors"] = len(PRESETS[self.rivals])
            knobs["rival_reaction"] = self.rival_reaction
            knobs["rival_tip"] = None if self.rival_tip is None else float(self.rival_tip)
            knobs["rival_gap_bps"] = self.rival_gap_bps
        if self.competitors is not None:
            knobs["competitors"] = self.competitors
        return WorldConfig(seed=seed, **knobs)


class EndpointFeeds:
    """RPC/PubSub and gRPC endpoints (each a PubSub or a Yellowstone worker of one
    :class:`~feeds.clients.pool.FeedPool`): snapshot, subscriptions, health, coverage.

    It is also every source's defaults, written once (:class:`~arbscope.ports.FeedSource`):
    the other adapters (the simulator's, NATS regions, none) are it with what they do
    otherwise overridden; what a source knows of its market ahead is one record
    (:meth:`market`: :class:`~arbscope.ports.SourceMarket`, nothing for endpoints)."""

    def __init__(self, endpoints: Sequence[Endpoint], options: FeedOptions) -> None:
        self.options = options
        self._endpoints = list(endpoints)
        self._pool: FeedPool | None = None
        self._boot: Bootstrap | None = None

    @property
    def label(self) -> str:
        return f"live ×{len(self._endpoints)}"

    @property
    def simulated(self) -> bool:
        return False

    @property
    def faucet(self) -> Faucet | None:
        return None

    @property
    def commitment(self) -> str:
        return self.options.commitment

    @property
    def ca_file(self) -> str | None:
        return self.options.ca_file

    @property
    def endpoints(self) -> Sequence[Endpoint]:
        return self._endpoints

    @property
    def pool(self) -> FeedPool | None:
        return self._pool

    @property
    def boot(self) -> Bootstrap | None:
        return self._boot

    @property
    def feeding(self) -> bool:
        return self._pool is not None

    def market(self) -> SourceMarket:
        return SourceMarket()

    def config(self) -> dict[str, Any]:
        return {
            "sim": None,
            "endpoints": [redact(e.stream_url) for e in self._endpoints],
            "sim_grpc": 0,
        }

    async def prepare(self) -> None:
        return None

    async def announced_base_mints(self) -> list[str]:
        return []

    async def open(self) -> None:
        return None

    async def start(self, link: SourceLink) -> None:
        """The session's own sockets: snapshot, then (unless it finds nothing to
        evaluate: NothingToFind) the workers. No endpoint: nothing to open."""
        if not self._endpoints:
            return
        o = self.options
        limits: dict[str, Any] = {}
        if o.max_answer_bytes is not None:
            limits["rpc_max_bytes"] = o.max_answer_bytes
        if o.rpc_timeout_s is not None:
            limits["rpc_timeout_s"] = o.rpc_timeout_s
        self._pool = FeedPool(
            self._endpoints,
            link.ingest,
            link.engine,
            seed=link.seed,
            on_fees=link.inputs.on_fees,
            fee_accounts=link.fee_accounts,
            on_transaction=link.inputs.on_transaction if link.rivals else None,
            follow_programs=link.follow_programs,
            worker_config=o.worker_config,
            commitment=o.commitment,
            ca_file=o.ca_file,
            reconcile=o.reconcile if link.reconcile else None,
            **limits,
        )
        self._boot = await self._pool.bootstrap(link.universe)
        idle = link.check(self._boot)
        if idle:
            raise NothingToFind(idle)
        await self._pool.start(self._boot.subscriptions)
        link.own_started()

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.stop()

    def health(self, ingest: Ingest) -> list[FeedHealth]:
        return self._pool.health() if self._pool is not None else []

    def coverage(self) -> dict[str, int]:
        pool = self._pool
        return pool.coverage() if pool is not None and pool.workers else {}

    def uncovered_pools(self) -> list[str] | None:
        return list(self._pool.uncovered_pools()) if self._pool is not None else None

    def subscriptions(self) -> int:
        return self._pool.wanted if self._pool is not None else 0

    def regions(self) -> Sequence[RegionView]:
        return ()

    async def fetch_accounts(self, keys: Sequence[str]) -> dict[str, RawAccount | None]:
        assert self._pool is not None
        return await self._pool.fetch_accounts(keys)


class NoFeeds(EndpointFeeds):
    """No feeds: the session is fed by its owner (a replay applies its journal to it)."""

    def __init__(self, options: FeedOptions | None = None) -> None:
        super().__init__((), options or FeedOptions())

    @property
    def label(self) -> str:
        return "fed by its owner"


def _of(read: Callable[[Feeds], T]) -> Via[Feeds, T]:
    return Via(read)


class Feeds:
    """The session's own endpoints (``own``: the simulator's, or RPC/PubSub and gRPC ones)
    and the NATS regions it consumes (``regions``), whose endpoints are numbered after
    the own ones. What the status bar, the journal and the live executor see of the
    feeds is the own endpoints'; the pools no endpoint covers are the regions' to say."""

    def __init__(self, own: FeedSource, regions: FeedSource) -> None:
        self.own, self.others = own, regions

    label = _of(lambda f: f.own.label)
    simulated = _of(lambda f: f.own.simulated)
    faucet = _of(lambda f: f.own.faucet)

    @property
    def feeding(self) -> bool:
        return self.own.feeding or self.others.feeding

    commitment = _of(lambda f: f.own.commitment)
    ca_file = _of(lambda f: f.own.ca_file)
    endpoints = _of(lambda f: f.own.endpoints)
    pool = _of(lambda f: f.own.pool)
    boot = _of(lambda f: f.own.boot)

    def market(self) -> SourceMarket:
        return self.own.market()

    def config(self) -> dict[str, Any]:
        return self.own.config()

    async def prepare(self) -> None:
        await self.own.prepare()
        await self.others.prepare()

    async def announced_base_mints(self) -> list[str]:
        return await self.own.announced_base_mints() or await self.others.announced_base_mints()

    async def open(self) -> None:
        await self.own.open()
        await self.others.open()

    async def start(self, link: SourceLink) -> None:
        await self.own.start(link)  # the regions' endpoints after the session's own
        await self.others.start(replace(link, first_endpoint=len(self.own.endpoints)))

    async def stop(self) -> None:
        await self.own.stop()
        await self.others.stop()

    def health(self, ingest: Ingest) -> list[FeedHealth]:
        return self.own.health(ingest) + self.others.health(ingest)

    def coverage(self) -> dict[str, int]:
        return self.own.coverage()

    def uncovered_pools(self) -> list[str] | None:
        if self.others.regions():
            return None  # the regions' collectors say which (as inputs)
        return self.own.uncovered_pools()

    def subscriptions(self) -> int:
        return self.own.subscriptions()

    def regions(self) -> Sequence[RegionView]:
        return self.others.regions()

    async def fetch_accounts(self, keys: Sequence[str]) -> dict[str, RawAccount | None]:
        return await self.own.fetch_accounts(keys)

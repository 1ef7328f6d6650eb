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
import time
import types
from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import engine_rs
from engine_rs.errors import EngineError, UnknownPoolError
from engine_rs.records import FeeContext, ScorePolicy
from feeds.health import FeedHealth
from feeds.pool import Bootstrap, Endpoint, FeedPool
from feeds.sim.server import SimServer
from feeds.sim.world import WorldConfig

from .market import Evaluator, Snapshot
from .timing import KernelTimer


class _TimedIngest:
    """``FeedIngest`` of the active backend, mirrored on the other and timed."""

    def __init__(self, timer: KernelTimer, ingests: dict[str, Any], timed: bool = True) -> None:
        self.timer, self.ingests, self.timed = timer, ingests, timed
        self.active = ingests[timer.active.BACKEND]

    def frame(self, endpoint: int, frame: bytes, recv_ns: int) -> int:
        if not self.timed:  # the twin stands in for both: not a Rust-vs-Python timing
            out: int = self._all("frame", endpoint, frame, recv_ns)
            return out
        sid: int = self.timer.call(
            "feed_ingest", lambda m: self.ingests[m.BACKEND].frame(endpoint, frame, recv_ns),
            mirror=True,
        )  # fmt: skip
        return sid

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

    def track_tick_array(self, address: str, whirlpool: str) -> None:
        self._all("track_tick_array", address, whirlpool)

    def account(self, pubkey: str, owner: str, data: bytes, slot: int) -> bool:
        # errors of the active backend propagate (after the other one ran)
        if not self.timed:
            ok: bool = self._all("account", pubkey, owner, data, slot)
            return ok
        result: bool = self.timer.call(
            "feed_account", lambda m: self.ingests[m.BACKEND].account(pubkey, owner, data, slot),
            mirror=True,
        )  # fmt: skip
        return result

    def watched(self) -> list[str]:
        return list(self.active.watched())

    def whirlpools(self) -> list[tuple[str, Any]]:
        return list(self.active.whirlpools())

    def take_changed(self) -> list[str]:
        out: list[str] = self._all("take_changed")
        return out

    def dedup_stats(self) -> Any:
        return self.active.dedup_stats()

    def stats(self) -> Any:
        return self.active.stats()


def _ingest_class(m: types.ModuleType) -> Any:
    cls = getattr(m, "FeedIngest", None)
    if cls is None:  # an extension built before the ingest kernel existed
        from engine_rs.python.ingest import FeedIngest

        cls = FeedIngest
    return cls


class FeedSession(Evaluator):
    """Pools from ``universe`` watched on ``endpoints`` (or on an embedded simulator
    when ``endpoints`` is empty: ``sim`` gives its world, seeded with ``seed``)."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint] = (),
        universe: Sequence[tuple[str, str]] | None = None,
        base_mints: Sequence[str] = (),
        seed: int = 7,
        sim_config: WorldConfig | None = None,
        sim_endpoints: int = 3,
        backend: types.ModuleType | None = None,
        sweep_s: float = 1.0,
        max_hops: int = 3,
    ) -> None:
        self.seed = seed
        self.eng = backend or engine_rs.backend()
        try:
            other: types.ModuleType | None = engine_rs.load(
                "python" if self.eng.BACKEND == "rust" else "rust"
            )
        except ImportError:
            other = None
        self.timer = KernelTimer(self.eng, other)
        self.sim: SimServer | None = None
        if not endpoints:
            from feeds.sim.server import default_profiles

            self.sim = SimServer(sim_config or WorldConfig(seed=seed),
                                 default_profiles(sim_endpoints))  # fmt: skip
            universe = self.sim.world.universe() if universe is None else universe
            base_mints = base_mints or self.sim.world.bases
            self.source = f"sim ×{sim_endpoints} (loopback PubSub)"
        else:
            self.source = f"live ×{len(endpoints)}"
        self.endpoints = list(endpoints)
        self.universe = list(universe or [])
        self.graphs = {}
        ingests = {}
        for m in (self.eng, other):
            if m is not None:
                g = m.PoolGraph(base_mints=list(base_mints), max_hops=max_hops)
                self.graphs[m.BACKEND] = g
                ingests[m.BACKEND] = _ingest_class(m)(g)
        self.graph = self.graphs[self.eng.BACKEND]
        # time the ingest only when every backend has its own (an extension built before
        # the ingest kernel falls back to the twin, which must not pass for Rust)
        native = all(hasattr(m, "FeedIngest") for m in (self.eng, other) if m is not None)
        self.ingest = _TimedIngest(self.timer, ingests, timed=native)
        self.fee_estimator = self.eng.FeeEstimator()
        self.fees = FeeContext(cu_limit=300_000, cu_price_micro_lamports=5_000)
        self.policy = ScorePolicy(min_profit=1, min_persistence=2, max_staleness_slots=150)
        self.sweep_s = sweep_s
        self.slot = 0
        self.updates = 0
        self.errors = 0
        self.last_sweep = None
        self.live = {}
        self._rate: deque[tuple[float, int]] = deque(maxlen=64)
        self._last_sweep_t = 0.0
        self.pool: FeedPool | None = None
        self.boot: Bootstrap | None = None
        self.start_error = ""
        self.snapshot: Snapshot = self._snapshot()

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start the simulator (if embedded), snapshot the pools, open the feeds.
        A failure is kept in ``start_error`` and shown; it never raises."""
        try:
            if self.sim is not None:
                infos = await self.sim.start()
                self.endpoints = [Endpoint(i.name, i.ws_url, i.http_url) for i in infos]
            self.pool = FeedPool(
                self.endpoints, self.ingest, self.eng, seed=self.seed, on_fees=self._on_fees
            )
            self.boot = await self.pool.bootstrap(self.universe)
            await self.pool.start(self.boot.subscriptions)
        except Exception as exc:  # a dead endpoint is a message, not a traceback
            self.start_error = f"{type(exc).__name__}: {exc}"[:300]

    async def stop(self) -> None:
        """Unsubscribe and close the feeds, then stop the simulator."""
        if self.pool is not None:
            await self.pool.stop()
        if self.sim is not None:
            await self.sim.stop()

    def _on_fees(self, samples: list[tuple[int, int]]) -> None:
        newest = self.fee_estimator.newest_slot
        fresh = [(s, f) for s, f in samples if newest is None or s > newest]
        if fresh:
            try:
                self.fee_estimator.add_many(fresh)
                rec = self.fee_estimator.recommend(self.fees.cu_limit)
                self.fees = replace(self.fees, cu_price_micro_lamports=rec.cu_price_micro_lamports)
            except EngineError:
                self.errors += 1

    # ------------------------------------------------------------ the tick
    def tick(self) -> Snapshot:
        """Re-evaluate every pool that changed since the last tick; sweep on a timer."""
        for pool_id in self.ingest.take_changed():
            try:
                self._evaluate(pool_id)
            except UnknownPoolError:  # it left the graph (a bad state): its cycles go too
                self.live = {k: v for k, v in self.live.items() if pool_id not in k[1]}
            except EngineError:
                self.errors += 1
            self.updates += 1
        now = time.monotonic()
        if now - self._last_sweep_t >= self.sweep_s and len(self.graph):
            self._last_sweep_t = now
            try:
                self._sweep()
            except EngineError:
                self.errors += 1
        self.slot = self.ingest.stats().slot
        self._rate.append((now, self.updates))
        self.snapshot = self._snapshot()
        return self.snapshot

    def _note(self) -> str:
        if getattr(self, "start_error", ""):
            return f"feeds failed to start: {self.start_error}"
        boot = getattr(self, "boot", None)
        if boot is not None and (boot.missing or boot.rejected):
            return f"{len(boot.missing)} pools not found, {len(boot.rejected)} accounts rejected"
        return ""

    def _feeds(self) -> list[FeedHealth]:
        pool: FeedPool | None = getattr(self, "pool", None)  # None until start()
        return pool.health() if pool is not None else []

    async def run_for(self, seconds: float, tick_s: float = 0.2) -> Snapshot:
        """Start, tick for ``seconds``, stop (headless runs and tests)."""
        await self.start()
        try:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                await asyncio.sleep(tick_s)
                self.tick()
        finally:
            await self.stop()
        return self.snapshot

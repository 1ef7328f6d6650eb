"""The seeded in-process market behind the first screen: a synthetic market whose pools
drift on every tick, fed to the engine's PoolGraph in both backends (the active one is
timed; the other one shadows it for the Rust-vs-Python panel)."""

from __future__ import annotations

import random
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import engine_rs
from engine_rs import synthetic
from engine_rs.errors import EngineError
from engine_rs.records import FeeContext, Opportunity, Score, ScorePolicy

from .timing import KernelTimer


@dataclass(slots=True)
class Snapshot:
    """What the screen shows after a tick."""

    opportunities: list[tuple[Opportunity, Score]] = field(default_factory=list)
    updates: int = 0
    errors: int = 0
    slot: int = 0


class SimMarket:
    """A deterministic market (``seed``) that moves ``updates_per_tick`` pools per tick."""

    def __init__(
        self, seed: int = 7, tokens: int = 40, pools: int = 160, updates_per_tick: int = 10
    ) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.market = synthetic.market(
            seed, tokens, pools, bases=2, clmm_share=0.15, dislocation=0.004, dislocated_share=0.1
        )
        self.eng = engine_rs.backend()
        try:
            other: types.ModuleType | None = engine_rs.load(
                "python" if self.eng.BACKEND == "rust" else "rust"
            )
        except ImportError:
            other = None
        self.timer = KernelTimer(self.eng, other)
        # one graph per backend, fed the same updates, so the shadow sees the same state
        self.graphs: dict[str, Any] = {self.eng.BACKEND: self.market.graph(self.eng)}
        if other is not None:
            self.graphs[other.BACKEND] = self.market.graph(other)
        self.graph = self.graphs[self.eng.BACKEND]
        self.fees = FeeContext(cu_limit=300_000, cu_price_micro_lamports=5_000, tip_lamports=0)
        self.policy = ScorePolicy(min_profit=1, min_persistence=2, max_staleness_slots=150)
        self.updates_per_tick = updates_per_tick
        self.slot = 0
        self.best: dict[tuple[str, tuple[str, ...]], tuple[Opportunity, Score]] = {}
        self.snapshot = Snapshot()

    def _touching(self, pool_id: str) -> Callable[[types.ModuleType], Any]:
        return lambda m: self.graphs[m.BACKEND].cycles_touching(pool_id)

    def _scorer(self, o: Opportunity) -> Callable[[types.ModuleType], Any]:
        return lambda m: m.score(o, self.fees, self.policy)

    def _neg_cycle(self, m: types.ModuleType) -> Any:
        return self.graphs[m.BACKEND].find_negative_cycle()

    def tick(self) -> Snapshot:
        """Move some pools, re-evaluate the cycles they touch, score them."""
        self.slot += 1
        errors = 0
        for _ in range(self.updates_per_tick):
            spec = self.rng.choice(self.market.pools)
            if spec.kind == "cpmm":
                # a trade: reserve_a moves, reserve_b keeps the product
                k = spec.reserve_a * spec.reserve_b
                spec.reserve_a = max(10**6, int(spec.reserve_a * self.rng.uniform(0.99, 1.01)))
                spec.reserve_b = max(1, k // spec.reserve_a)
            else:
                spec.sqrt_price_x64 = int(spec.sqrt_price_x64 * self.rng.uniform(0.999, 1.001))
            try:
                for g in self.graphs.values():
                    spec.upsert(g, self.slot)
                opps = self.timer.call("cycles_touching", self._touching(spec.pool_id))
            except EngineError:
                errors += 1
                continue
            for o in opps:
                sc = self.timer.call("score", self._scorer(o))
                self.best[(o.base_mint, tuple(o.pools))] = (o, sc)
        self.timer.call("find_negative_cycle", self._neg_cycle)
        self.timer.call("cpmm_amount_out", _quote)
        live = sorted(
            (v for v in self.best.values() if v[0].profit > 0), key=lambda v: -v[1].net_profit
        )[:50]
        self.snapshot = Snapshot(
            live,
            self.snapshot.updates + self.updates_per_tick,
            self.snapshot.errors + errors,
            self.slot,
        )
        return self.snapshot


def _quote(m: types.ModuleType) -> Any:
    return m.cpmm_amount_out(10**6, 10**12, 10**12, 25, 10_000)

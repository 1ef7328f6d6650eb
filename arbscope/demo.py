"""The seeded in-process market behind ``arbscope demo`` and the UI tests.

A synthetic market (feeds.sim.synthetic: hidden prices, hub tokens, some Whirlpools, a
few dislocations) whose pools trade on every tick: each trade is quoted through the
engine's own swap math, moves the pool, and goes into the engine's PoolGraph; the
cycles through that pool are re-evaluated (``cycles_touching``) and scored. A full
negative-cycle sweep runs every ``sweep_every`` ticks as the safety net.

Every engine call goes through :class:`~arbscope.timing.KernelTimer` (active backend
timed, the other one shadowing). Same seed, same trades, same cycles.
"""

from __future__ import annotations

import random
import types
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import engine_rs
from engine_rs.errors import EngineError
from engine_rs.records import FeeContext, Opportunity, Score, ScorePolicy
from feeds.sim import synthetic
from feeds.wire.units import TokenBook

from .execution.paper import PaperBroker
from .market import DEFAULT_CU_LIMIT, Evaluator, OppKey, Snapshot, UpdateRate
from .prices import PriceBook, fee_view
from .runloop import TICK_S, Clock, MonotonicClock, RunLoop
from .timing import KernelTimer

Q64 = float(1 << 64)


def _widened(spec: synthetic.PoolSpec) -> synthetic.PoolSpec:
    """A Whirlpool with its liquidity spread over +-300 tick spacings, so a random walk of
    trades stays inside the range (the generator's ranges are narrow)."""
    if spec.kind != "clmm":
        return spec
    ts = spec.tick_spacing
    lo = max(-443_636 // ts, spec.tick_current // ts - 300) * ts
    hi = min(443_636 // ts, spec.tick_current // ts + 300) * ts
    return replace(spec, ticks=[(lo, spec.liquidity), (hi, -spec.liquidity)])


class SimMarket:
    """A deterministic market (``seed``) in which ``updates_per_tick`` pools trade per tick.

    It owns its clock like every session: :meth:`run` turns it every ``tick_s`` of
    ``clock`` time (the machine's monotonic clock unless one is given); ``timer_clock``
    is the kernel timer's (ns per reading; staged screens pass a deterministic one)."""

    source = "sim (in-process)"
    commitment = ""  # no feeds, so none (a staged screen may set one)

    def __init__(
        self,
        seed: int = 7,
        tokens: int = 60,
        pools: int = 200,
        bases: int = 2,
        hub_share: float = 0.2,
        updates_per_tick: int = 10,
        sweep_every: int = 5,
        backend: types.ModuleType | None = None,
        timer_clock: Callable[[], int] | None = None,
        clock: Clock | None = None,
        tick_s: float = TICK_S,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        mk = synthetic.market(
            seed,
            tokens,
            pools,
            bases=bases,
            hub_share=hub_share,
            clmm_share=0.15,
            dislocation=0.004,
            dislocated_share=0.1,
            known=synthetic.real_prices(seed),
        )
        # the well-known tokens by their real mints, decimals and magnitudes, the others
        # named
        mk, sim_tokens = synthetic.named(mk)
        self.names = TokenBook.of(t.info() for t in sim_tokens)
        self.market = replace(mk, pools=[_widened(p) for p in mk.pools])
        self._price = dict(zip(mk.tokens, mk.prices))
        self.eng = backend or engine_rs.backend()
        try:
            other: types.ModuleType | None = engine_rs.load(
                "python" if self.eng.BACKEND == "rust" else "rust"
            )
        except ImportError:
            other = None
        self.timer = (
            KernelTimer(self.eng, other, clock=timer_clock)
            if timer_clock
            else KernelTimer(self.eng, other)
        )
        # one graph per backend, fed the same updates: the shadow sees the same state
        graphs: dict[str, Any] = {}
        for m in (self.eng, other):
            if m is not None:
                graphs[m.BACKEND] = self.market.graph(m)
        # a simulated pool is never stale (its state is current until it trades), so the
        # staleness cap only guards against a stuck feed: 30 s of 200 ms ticks
        self.ev = Evaluator(
            self.eng,
            self.timer,
            graphs,
            FeeContext(cu_limit=300_000, cu_price_micro_lamports=5_000),
            ScorePolicy(min_profit=1, min_persistence=2, max_staleness_slots=150),
        )
        self.graph = self.ev.graph
        self.ev.set_names(self.names)
        self.updates_per_tick, self.sweep_every = updates_per_tick, sweep_every
        self.slot = 0
        self.updates = 0
        self.errors = 0
        self.rate = UpdateRate()
        self.prices = PriceBook(self.eng)
        self.prices.update(self.graph, self.graph.pools(), self.slot)
        # priority fees of the simulated chain: lognormal per slot, congested spells
        self.fee_estimator = self.eng.FeeEstimator()
        self._congested = False
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.loop = RunLoop(self._turn, self.clock, int(tick_s * 1e9))
        self._stopped = False
        self._snap: Snapshot | None = None

    # ------------------------------------------------------------------ trading
    def _fees_for_slot(self) -> None:
        r = self.rng
        if r.random() < (0.1 if self._congested else 0.03):
            self._congested = not self._congested
        median = 25_000.0 if self._congested else 1_500.0
        samples = [(self.slot, int(r.lognormvariate(0.0, 1.0) * median)) for _ in range(8)]
        fees = self.ev.fees
        try:
            self.fee_estimator.add_many(samples)
            rec = self.fee_estimator.recommend(DEFAULT_CU_LIMIT)
            self.ev.fees = replace(fees, cu_price_micro_lamports=rec.cu_price_micro_lamports)
        except EngineError:
            self.errors += 1

    def _fair(self, spec: synthetic.PoolSpec) -> float:
        return self._price[spec.mint_a] / self._price[spec.mint_b]  # b per a

    def _trade(self, spec: synthetic.PoolSpec) -> None:
        """One swap on ``spec``: towards the fair price 75% of the time (arbitrageurs),
        0.005-0.1% of the pool's depth, quoted and executed by the engine's math."""
        r = self.rng
        frac = r.uniform(0.00005, 0.001)
        if spec.kind == "cpmm":
            price = spec.reserve_b / spec.reserve_a
            a_to_b = (price > self._fair(spec)) == (r.random() < 0.75)  # a in: price falls
            rin, rout = (
                (spec.reserve_a, spec.reserve_b) if a_to_b else (spec.reserve_b, spec.reserve_a)
            )
            amount = max(1, int(rin * frac))
            out = self.timer.call(
                "cpmm_amount_out",
                lambda m: m.cpmm_amount_out(amount, rin, rout, spec.fee_num, spec.fee_den),
                detail=(amount, rin, rout, spec.fee_num, spec.fee_den),
            )
            rin, rout = rin + amount, rout - out
            spec.reserve_a, spec.reserve_b = (rin, rout) if a_to_b else (rout, rin)
            return
        sqrt = spec.sqrt_price_x64 / Q64
        a_to_b = (sqrt * sqrt > self._fair(spec)) == (r.random() < 0.75)
        # inside one liquidity range an input of frac * L/sqrt(P) of token a (L*sqrt(P) of
        # token b) moves the price by about 2 * frac, as frac of the reserve does in a cpmm
        depth = spec.liquidity / sqrt if a_to_b else spec.liquidity * sqrt
        amount = max(1, min(2**63, int(depth * frac)))
        args = (*spec.curve(), amount, a_to_b)
        res = self.timer.call("clmm_swap", lambda m: m.orca_whirlpool.swap(*args), detail=args)
        spec.sqrt_price_x64, spec.tick_current = res.sqrt_price_x64, res.tick_current
        spec.liquidity = res.liquidity

    def _upsert(self, spec: synthetic.PoolSpec) -> None:
        name = "upsert_cpmm" if spec.kind == "cpmm" else "upsert_clmm"
        graphs = self.ev.graphs
        self.timer.call(name, lambda m: spec.upsert(graphs[m.BACKEND], self.slot), mirror=True)

    def tick(self, now_ns: int | None = None) -> None:
        """One slot: ``updates_per_tick`` trades, each followed by its pool's upsert and
        the re-evaluation of the cycles through it; a sweep every ``sweep_every`` slots.
        ``now_ns``: the session's clock (read from it when not given)."""
        if now_ns is None:
            now_ns = self.clock.now_ns()
        self.slot += 1
        for g in self.ev.graphs.values():
            g.set_slot(self.slot)
        touched = []
        self.ev.refresh_prices()
        for _ in range(self.updates_per_tick):
            spec = self.rng.choice(self.market.pools)
            try:
                self._trade(spec)
                self._upsert(spec)
                self.ev.evaluate(spec.pool_id, self.slot)
                touched.append(spec.pool_id)
            except EngineError:
                self.errors += 1  # counted (per kernel too) and shown; the market goes on
            self.updates += 1
        self.prices.update(self.graph, touched, self.slot)
        self._fees_for_slot()
        moved = self.ev.wallet_moved()  # a live executor armed: its wallet scores the cycles
        if moved is not None:
            self.ev.set_wallet(*moved)
        self.ev.execute(self.slot, now_ns)
        if self.slot % self.sweep_every == 0:
            try:
                self.ev.sweep()
            except EngineError:
                self.errors += 1
        self.rate.add(now_ns / 1e9, self.updates)
        self._snap = None

    def _turn(self, now_ns: int) -> None:
        self.tick(now_ns)

    # ------------------------------------------------------------------ the run loop
    async def start(self) -> None:
        """Open what the session reads (nothing for an in-process market)."""

    async def run(self, on_error: Callable[[Exception], None] | None = None) -> None:
        """Tick every period of the session's clock until :meth:`stop`."""
        await self.loop.run(done=lambda: self._stopped, on_error=on_error)

    async def stop(self) -> None:
        """Close what the session reads; the run loop ends."""
        self._stopped = True

    def set_paused(self, paused: bool) -> None:
        """Stop (or restart) trading and evaluating; after a pause the update rate
        restarts from the next tick."""
        if not paused and self.loop.paused:
            self.rate.clear()
        self.loop.paused = paused

    @property
    def snapshot(self) -> Snapshot:
        """The state after the latest tick, built when first read after it."""
        if self._snap is None:
            self._snap = self.ev.snapshot(
                seed=self.seed,
                slot=self.slot,
                updates=self.updates,
                updates_per_s=self.rate.per_s(),
                errors=self.errors,
                source=self.source,
                kind="SIM",
                prices=self.prices.rows(),
                fee=fee_view(
                    self.fee_estimator,
                    self.ev.shown_cu_limit(),
                    self.ev.fees.cu_price_micro_lamports,
                ),
                names=self.names,
                mids=self.prices.mids(),
                commitment=self.commitment,
                book=self.prices,
            )
        return self._snap

    # ------------------------------------------------------------------ the operator
    @property
    def broker(self) -> PaperBroker | None:
        return self.ev.broker

    @property
    def live(self) -> dict[OppKey, tuple[Opportunity, Score]]:
        return self.ev.live

    def trade(self, base: str, pools: list[str]) -> str:
        """``x``: a paper order on the cycle now; why not, or ""."""
        self._snap = None
        return self.ev.trade(base, pools, self.slot)

    def kill(self) -> int:
        """Kill switch: no more automatic orders, pending ones cancelled."""
        self._snap = None
        return self.ev.kill()

    def resume(self) -> None:
        self._snap = None
        self.ev.resume()

    def live_checks(self) -> list[str]:
        return self.ev.live_checks()

    def request_live(self) -> tuple[bool, str]:
        """Never: the in-process market has no chain to send to."""
        return False, "this market is simulated in process: it has no chain to trade on"

    def to_paper(self) -> None:
        self._snap = None
        self.ev.to_paper()

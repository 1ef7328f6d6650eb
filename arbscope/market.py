"""The seeded in-process market behind the first screen.

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
import time
import types
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

import engine_rs
from engine_rs.errors import EngineError
from engine_rs.records import Cycle, FeeContext, Opportunity, Score, ScorePolicy
from feeds.health import FeedHealth
from feeds.sim import synthetic
from feeds.wire.txsize import PACKET_DATA_SIZE, swap_tx_size

from .execution.live import LiveExecutor, LiveView
from .execution.paper import PaperBroker, Portfolio
from .health import Verdict
from .prices import FeeView, PriceBook, PriceRow, fee_view
from .timing import KernelTimer, TimingRow

PAPER_BALANCE = 10**12  # base units a paper session starts with

Q64 = float(1 << 64)
MAX_ROWS = 100  # cycles kept for the screen, best net profit first


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the screen shows after a tick (immutable: the screen may hold it)."""

    seed: int
    backend: str
    shadow: str | None
    slot: int = 0
    pools: int = 0
    tokens: int = 0
    updates: int = 0
    updates_per_s: float = 0.0
    errors: int = 0
    mismatches: int = 0
    opportunities: list[tuple[Opportunity, Score]] = field(default_factory=list)
    timings: list[TimingRow] = field(default_factory=list)
    last_sweep: Cycle | None = None
    source: str = "sim (in-process)"
    feeds: list[FeedHealth] = field(default_factory=list)
    note: str = ""  # why the source is not running, when it is not
    kind: str = "SIM"  # SIM | LIVE | REPLAY
    session_id: str = ""
    prices: list[PriceRow] = field(default_factory=list)
    fee: FeeView = field(default_factory=FeeView)
    ages: dict[str, int] = field(default_factory=dict)  # row key -> slots since first seen
    fees_ctx: FeeContext | None = None
    portfolio: Portfolio | None = None
    live: LiveView | None = None  # live trading (wallet, orders), when configured
    mode: str = "PAPER"  # PAPER | LIVE: the session's execution mode
    health: str = ""  # ok | degraded | unhealthy | starting ("" where not judged: demo, replay)
    problems: tuple[str, ...] = ()  # why not ok, most serious first (arbscope.health)


def _widened(spec: synthetic.PoolSpec) -> synthetic.PoolSpec:
    """A Whirlpool with its liquidity spread over +-300 tick spacings, so a random walk of
    trades stays inside the range (the generator's ranges are narrow)."""
    if spec.kind != "clmm":
        return spec
    ts = spec.tick_spacing
    lo = max(-443_636 // ts, spec.tick_current // ts - 300) * ts
    hi = min(443_636 // ts, spec.tick_current // ts + 300) * ts
    return replace(spec, ticks=[(lo, spec.liquidity), (hi, -spec.liquidity)])


class Evaluator:
    """What every session shares: the graphs (one per backend, kept equal), the timer,
    the live opportunities, their scores and the snapshot."""

    seed: int
    slot: int
    updates: int
    errors: int
    eng: types.ModuleType
    graph: Any
    graphs: dict[str, Any]
    timer: KernelTimer
    fees: FeeContext
    policy: ScorePolicy
    live: dict[tuple[str, tuple[str, ...]], tuple[Opportunity, Score]]
    last_sweep: Cycle | None
    broker: PaperBroker | None = None
    executor: LiveExecutor | None = None  # live trading, when the session is configured for it
    mode: str = "PAPER"  # LIVE only after request_live() succeeded
    halted: bool = False
    found: int = 0  # opportunities that appeared (a profitable cycle not live before)
    _rate: deque[tuple[float, int]]
    source = "sim (in-process)"

    def _first_seen(self) -> dict[tuple[str, tuple[str, ...]], int]:
        fs: dict[tuple[str, tuple[str, ...]], int] | None = getattr(self, "_first_seen_d", None)
        if fs is None:
            fs = {}
            self._first_seen_d = fs
        return fs

    def _evaluate(self, pool_id: str) -> None:
        first = self._first_seen()
        opps = self.timer.call(
            "cycles_touching",
            lambda m: self.graphs[m.BACKEND].cycles_touching(pool_id),
            detail=pool_id,
        )
        for o in opps:
            key = (o.base_mint, tuple(o.pools))
            if o.profit <= 0:
                self.live.pop(key, None)
                first.pop(key, None)
                continue
            if key not in first:
                first[key] = self.slot
                self.found += 1  # an opportunity appeared
            self.live[key] = (o, self._score(o, key))

    def _score(self, o: Opportunity, key: object) -> Score:
        score: Score = self.timer.call(
            "score", lambda m: m.score(o, self.fees, self.policy), detail=key
        )
        return score

    def _sweep(self) -> None:
        self.last_sweep = self.timer.call(
            "find_negative_cycle",
            lambda m: self.graphs[m.BACKEND].find_negative_cycle(),
            mirror=True,  # warm-started: the result depends on the earlier sweeps
        )

    def _updates_per_s(self) -> float:
        if len(self._rate) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self._rate[0], self._rate[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    def _feeds(self) -> list[FeedHealth]:
        return []

    def _note(self) -> str:
        return ""

    def _verdict(self, feeds: list[FeedHealth]) -> Verdict | None:
        """The session's health (None: not judged, as for the in-process market)."""
        return None

    # ------------------------------------------------------------ paper execution
    def _broker(self) -> PaperBroker | None:
        b: PaperBroker | None = getattr(self, "broker", None)
        if b is None and getattr(self, "graph", None) is not None:
            bases = self.graph.base_mints()
            if bases:
                fees = getattr(self, "fees", None)
                tip = fees.tip_lamports if fees is not None else 0
                b = PaperBroker(base=bases[0], balance=PAPER_BALANCE, tip_lamports=tip,
                                sendable=self._sendable)  # fmt: skip
                self.broker = b
        return b

    def _sendable(self, opp: Any) -> str:
        """ "" when the cycle fits in one transaction without an address lookup table (the
        token accounts existing), else why not; "" too when the pools' programs are
        unknown (the in-process market)."""
        kinds_of: dict[str, str] = getattr(self, "pool_kinds", {})
        kinds = [kinds_of.get(p) for p in opp.pools]
        if not kinds or None in kinds:
            return ""
        fees = getattr(self, "fees", None)
        tip = bool(fees is not None and fees.tip_lamports)
        size = swap_tx_size([k for k in kinds if k], list(opp.tokens), tip)
        if size <= PACKET_DATA_SIZE:
            return ""
        return (f"one transaction would be {size:,} bytes, over the {PACKET_DATA_SIZE:,}-byte "
                "limit (it needs an address lookup table)")  # fmt: skip

    def _pool_slots(self, pools: list[str]) -> tuple[int, ...]:
        out = []
        for p in pools:
            try:
                out.append(int(self.graph.pool_rate(p)[4]))
            except EngineError:
                out.append(-1)
        return tuple(out)

    def _execute(self, now_ns: int = 0) -> None:
        """Fill the paper orders that are due, then (auto mode, not halted) decide on
        every cycle the scorer says go for. Fills go to the session's sink."""
        b = self._broker()
        if b is None:
            return
        sink = getattr(self, "sink", None)
        for f in b.on_tick(self.graph, self.slot):
            if sink is not None:
                sink.event("fill", self.slot, f.payload(), now_ns)
        if b.auto and not getattr(self, "halted", False):
            ex = self._live_executor()
            for key in sorted(self.live):
                o, sc = self.live[key]
                if sc.go:
                    slots = self._pool_slots(o.pools)
                    b.decide(o, sc, self.fees, self.slot, slots)
                    if ex is not None:  # live: the same decision, for real (paper shadows it)
                        ex.submit(o, sc, self.fees, slots, "auto")

    def _live_executor(self) -> LiveExecutor | None:
        """The executor when the session trades live right now (armed, not halted)."""
        ex: LiveExecutor | None = getattr(self, "executor", None)
        if ex is None or getattr(self, "mode", "PAPER") != "LIVE" or not ex.armed:
            return None
        return ex

    def trade(self, base: str, pools: list[str]) -> str:
        """The operator's ``x`` on a cycle: an order now (paper; live too when live);
        why not, or ""."""
        b = self._broker()
        entry = self.live.get((base, tuple(pools)))
        if b is None or entry is None:
            return "that cycle is gone"
        o, sc = entry
        slots = self._pool_slots(o.pools)
        ex = self._live_executor()
        if ex is not None:
            why = ex.submit(o, sc, self.fees, slots, "manual")
            if why:
                return f"live refused: {why}"
            b.decide(o, sc, self.fees, self.slot, slots, "manual")  # its paper shadow
            return ""
        return b.decide(o, sc, self.fees, self.slot, slots, "manual")

    def kill(self) -> int:
        """Kill switch: back to paper, no more automatic orders, pending ones cancelled
        (live orders not yet sent are never sent)."""
        self.halted = True
        self.mode = "PAPER"
        b = self._broker()
        n = b.cancel_all() if b is not None else 0
        ex: LiveExecutor | None = getattr(self, "executor", None)
        if ex is not None:
            n += ex.kill()
        return n

    def resume(self) -> None:
        self.halted = False

    def to_paper(self) -> None:
        """Live -> paper (immediate): live orders not yet sent are cancelled."""
        self.mode = "PAPER"
        ex: LiveExecutor | None = getattr(self, "executor", None)
        if ex is not None:
            ex.disarm("back to paper")

    def live_checks(self) -> list[str]:
        """The guard rails, as the live confirmation screen lists them."""
        ex: LiveExecutor | None = getattr(self, "executor", None)
        if ex is None:
            return ["✗ this session has no live configuration (paper only): start it with "
                    "--keypair, --send-rpc, --max-trade and --max-day"]  # fmt: skip
        return ex.checks()

    def request_live(self) -> Any:
        return False, "this market is simulated in process: it has no chain to trade on"

    def _price_rows(self) -> list[PriceRow]:
        book: PriceBook | None = getattr(self, "prices", None)
        return book.rows() if book is not None else []

    def _fee_view(self) -> FeeView:
        est = getattr(self, "fee_estimator", None)
        fees = getattr(self, "fees", None)
        if est is None or fees is None:
            return FeeView()
        return fee_view(est, fees.cu_limit, fees.cu_price_micro_lamports)

    def _kind(self) -> str:
        return "SIM"

    def _snapshot(self) -> Snapshot:
        best = sorted(
            self.live.values(), key=lambda v: (-v[1].net_profit, v[0].base_mint, v[0].pools)
        )[:MAX_ROWS]
        first = self._first_seen()
        ages = {
            o.base_mint + ":" + ",".join(o.pools): self.slot
            - first.get((o.base_mint, tuple(o.pools)), self.slot)
            for o, _ in best
        }
        feeds = self._feeds()
        verdict = self._verdict(feeds)
        return Snapshot(
            seed=self.seed,
            backend=self.eng.BACKEND,
            shadow=(
                None
                if self.timer.other is None
                else f"{self.timer.other.BACKEND} (stateless only)"
                if self.timer.stateful_suspended
                else self.timer.other.BACKEND
            ),
            slot=self.slot,
            pools=len(self.graph),
            tokens=len(self.graph.tokens()),
            updates=self.updates,
            updates_per_s=self._updates_per_s(),
            errors=self.errors,
            mismatches=self.timer.mismatch_count,
            opportunities=best,
            timings=self.timer.rows(),
            last_sweep=self.last_sweep,
            source=self.source,
            feeds=feeds,
            note=self._note(),
            kind=self._kind(),
            session_id=getattr(self, "session_id", ""),
            prices=self._price_rows(),
            fee=self._fee_view(),
            ages=ages,
            fees_ctx=getattr(self, "fees", None),
            portfolio=b.portfolio() if (b := getattr(self, "broker", None)) is not None else None,
            live=ex.view() if (ex := getattr(self, "executor", None)) is not None else None,
            mode=getattr(self, "mode", "PAPER"),
            health=verdict.status if verdict is not None else "",
            problems=verdict.problems if verdict is not None else (),
        )

    def pause_clock(self) -> None:
        """Forget the update-rate history (after a pause, the rate restarts from now)."""
        self._rate.clear()

    async def start(self) -> None:
        """Open what the session reads (nothing for an in-process market)."""

    async def stop(self) -> None:
        """Close what the session reads."""


class SimMarket(Evaluator):
    """A deterministic market (``seed``) in which ``updates_per_tick`` pools trade per tick."""

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
        clock: Any = None,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        mk = synthetic.market(
            seed, tokens, pools, bases=bases, hub_share=hub_share, clmm_share=0.15,
            dislocation=0.004, dislocated_share=0.1,
        )  # fmt: skip
        self.market = replace(mk, pools=[_widened(p) for p in mk.pools])
        self._price = dict(zip(mk.tokens, mk.prices))
        self.eng = backend or engine_rs.backend()
        try:
            other: types.ModuleType | None = engine_rs.load(
                "python" if self.eng.BACKEND == "rust" else "rust"
            )
        except ImportError:
            other = None
        self.timer = KernelTimer(self.eng, other, **({"clock": clock} if clock else {}))
        # one graph per backend, fed the same updates: the shadow sees the same state
        self.graphs: dict[str, Any] = {}
        for m in (self.eng, other):
            if m is not None:
                self.graphs[m.BACKEND] = self.market.graph(m)
        self.graph = self.graphs[self.eng.BACKEND]
        self.fees = FeeContext(cu_limit=300_000, cu_price_micro_lamports=5_000)
        # a simulated pool is never stale (its state is current until it trades), so the
        # staleness cap only guards against a stuck feed: 30 s of 200 ms ticks
        self.policy = ScorePolicy(min_profit=1, min_persistence=2, max_staleness_slots=150)
        self.updates_per_tick, self.sweep_every = updates_per_tick, sweep_every
        self.slot = 0
        self.updates = 0
        self.errors = 0
        self.last_sweep: Cycle | None = None
        self.live: dict[tuple[str, tuple[str, ...]], tuple[Opportunity, Score]] = {}
        self._rate: deque[tuple[float, int]] = deque(maxlen=64)
        self.prices = PriceBook(self.eng)
        self.prices.update(self.graph, self.graph.pools(), self.slot)
        self.now: Any = time.monotonic  # the update-rate clock (staged screens fix it)
        # priority fees of the simulated chain: lognormal per slot, congested spells
        self.fee_estimator = self.eng.FeeEstimator()
        self._congested = False
        self.snapshot = self._snapshot()

    # ------------------------------------------------------------------ trading
    def _fees_for_slot(self) -> None:
        r = self.rng
        if r.random() < (0.1 if self._congested else 0.03):
            self._congested = not self._congested
        median = 25_000.0 if self._congested else 1_500.0
        samples = [(self.slot, int(r.lognormvariate(0.0, 1.0) * median)) for _ in range(8)]
        try:
            self.fee_estimator.add_many(samples)
            rec = self.fee_estimator.recommend(self.fees.cu_limit)
            self.fees = replace(self.fees, cu_price_micro_lamports=rec.cu_price_micro_lamports)
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
        args = (
            spec.sqrt_price_x64, spec.liquidity, spec.tick_current, spec.tick_spacing,
            spec.fee_rate, spec.ticks, amount, a_to_b,
        )  # fmt: skip
        res = self.timer.call("clmm_swap", lambda m: m.clmm_swap(*args), detail=args)
        spec.sqrt_price_x64, spec.tick_current = res.sqrt_price_x64, res.tick_current
        spec.liquidity = res.liquidity

    def _upsert(self, spec: synthetic.PoolSpec) -> None:
        name = "upsert_cpmm" if spec.kind == "cpmm" else "upsert_clmm"
        self.timer.call(name, lambda m: spec.upsert(self.graphs[m.BACKEND], self.slot), mirror=True)

    def tick(self) -> Snapshot:
        """One slot: ``updates_per_tick`` trades, each followed by its pool's upsert and
        the re-evaluation of the cycles through it; a sweep every ``sweep_every`` slots."""
        self.slot += 1
        for g in self.graphs.values():
            g.set_slot(self.slot)
        touched = []
        for _ in range(self.updates_per_tick):
            spec = self.rng.choice(self.market.pools)
            try:
                self._trade(spec)
                self._upsert(spec)
                self._evaluate(spec.pool_id)
                touched.append(spec.pool_id)
            except EngineError:
                self.errors += 1  # counted (per kernel too) and shown; the market goes on
            self.updates += 1
        self.prices.update(self.graph, touched, self.slot)
        self._fees_for_slot()
        self._execute()
        if self.slot % self.sweep_every == 0:
            try:
                self._sweep()
            except EngineError:
                self.errors += 1
        self._rate.append((self.now(), self.updates))
        self.snapshot = self._snapshot()
        return self.snapshot

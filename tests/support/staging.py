"""Deterministic screen states for the snapshot tests and ``make screenshots`` (test
support: it reads ``tests/data``, so it is not part of the wheel).

Everything on screen must be the same on every run: the market is seeded, the kernel
timer gets a clock that advances a fixed step per reading (so every timing reads the
same), the status bar's wall clock is fixed, and the source's run loop waits on a
:class:`~arbscope.runloop.ManualClock` nobody advances once the app runs (the source is
advanced before the app starts). The replay state comes from a journal recorded once and
kept in ``tests/data`` (a live recording depends on socket timing).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from arbscope.demo import SimMarket
from arbscope.runloop import TICK_S, ManualClock

FIXED_WALL = 1_795_400_000.0  # 2026-11-23 01:33:20 UTC on the status bar
ROOT = Path(__file__).resolve().parents[2]
REPLAY_DB = ROOT / "tests" / "data" / "replay-seed2.sqlite"


SimMarketT = TypeVar("SimMarketT", bound=SimMarket)


class StepClock:
    """A nanosecond clock that advances ``step_ns`` per reading."""

    def __init__(self, step_ns: int = 1_250) -> None:
        self.t, self.step = 0, step_ns

    def __call__(self) -> int:
        self.t += self.step
        return self.t


def _market(seed: int, cls: type[SimMarket] = SimMarket) -> tuple[SimMarket, ManualClock]:
    """A seeded market on a manual clock whose kernel timer reads a step clock and
    shadows every sampled call (no wall-time budget: the shadowed counts the timing
    panel shows at 160 columns are the same on every run)."""
    clock = ManualClock()
    m = cls(seed=seed, timer_clock=StepClock(), clock=clock)
    m.timer.shadow_budget = math.inf
    return m, clock


def staged_sim(seed: int = 7, ticks: int = 40) -> SimMarket:
    """The in-process seeded market, ``ticks`` slots in (one 200 ms period of its
    manual clock each), then still."""
    m, clock = _market(seed)
    for _ in range(ticks):
        clock.advance(int(TICK_S * 1e9))
        m.tick()
    return m


def staged_no_price(seed: int = 7, ticks: int = 40) -> SimMarket:
    """:func:`staged_sim` in which no price of SOL in USDC is known (as in a session whose
    graph holds no pool path from SOL to USDC): the USDC cycles' fees are not converted,
    their net is not known and the decision says ``no_sol_price``."""
    from arbscope.solprice import LamportPrices
    from feeds.wire.tokens import BY_SYMBOL

    class NoPathTo(LamportPrices):
        def update(self, graph: Any, bases: Any) -> None:
            usdc = BY_SYMBOL["USDC"].mint
            super().update(graph, [b for b in bases if b != usdc])
            self.prices[usdc] = None

    m, clock = _market(seed)
    m.ev.lamport_prices = NoPathTo()
    for _ in range(ticks):
        clock.advance(int(TICK_S * 1e9))
        m.tick()
    return m


CHART_TICKS = 300  # the charts' staged market: long enough for the bands, a few losses


def staged_charts(seed: int = 7) -> SimMarket:
    """:func:`staged_sim` ``CHART_TICKS`` slots in: the price chart's pairs past the
    indicators' warm-up (Bollinger: 20 slots of the pair), paper fills won and lost."""
    return staged_sim(seed, CHART_TICKS)


async def staged_replay(db: Path = REPLAY_DB, at_s: float = 3.0) -> Any:
    """The recording in ``db`` (its only session; read from a temporary copy, since
    opening a journal switches it to WAL), paused at ``at_s`` seconds."""
    import shutil
    import tempfile

    from arbscope.replay import ReplaySession, load_info
    from storage.journal import Journal

    copy = Path(tempfile.mkdtemp(prefix="arbscope-staged-")) / db.name
    shutil.copyfile(db, copy)
    db = copy

    async with await Journal.open(db, create=False) as j:
        sid = (await j.sessions())[0].id
    r = ReplaySession(db, await load_info(db, sid), timer_clock=StepClock(), clock=ManualClock())
    r.session.timer.shadow_budget = math.inf  # every sampled shadow, whatever the load
    await r.start()
    await r.seek_now(at_s)  # paused there
    return r


class _StagedExecutor:
    """A live executor frozen mid-session (the portfolio panel's live view): a wallet,
    three orders (two confirmed, one refused by its simulation), fixed signatures. Its
    orders end at the ticks of ``ENDS`` (:meth:`at`), so a market ticked with it draws
    the live equity curve those orders make."""

    armed = True
    accounts_seen = 0  # the wallet's token accounts never change
    ENDS = (12, 20, 31)  # the tick each order ends at (confirmed, refused, confirmed)

    def __init__(self, base: str, mints: Sequence[str] = ()) -> None:
        import hashlib

        self.base = base
        self.accounts = dict.fromkeys(mints, True)  # its wallet holds every token's account

        from arbscope.execution.live import LiveView, OrderView
        from arbscope.execution.routes import RouteView
        from engine_rs.python.b58 import b58encode

        def key(tag: str, n: int = 32) -> str:
            return b58encode(hashlib.sha512(f"arbscope-staged:{tag}".encode()).digest()[:n])

        path = "→".join([base[:4], "EPjF", "7xKX", base[:4]])
        self._final = self._view = LiveView(
            wallet=key("wallet"),
            armed=True,
            base=base,
            pnl=48_349_090,
            lamports=9_987_412_640,
            balances=((base, 1_000_148_377_090),),
            open=0,
            sent=2,
            confirmed=2,
            node="arbscope simulator (staged)",
            failed=0,
            refused=1,
            spent_today=4_211_000_000,
            last_error="",
            routes=(
                RouteView("jito:127.0.0.1/frankfurt", 2, 0, 0, 0, 0, (), None, None, 0, 0),
                RouteView("jito:127.0.0.1/ny", 2, 0, 2, 0, 0, (), 1.5, 1.9, 3, 2),
            ),
            orders=(
                OrderView(
                    1,
                    "confirmed",
                    key("sig1", 64),
                    path,
                    2_960_000_000,
                    2_960_000_000,
                    2_991_204_155,
                    31_204_155,
                    "landed in slot 300000031",
                ),
                OrderView(
                    2,
                    "refused",
                    key("sig2", 64),
                    path,
                    1_251_000_000,
                    1_251_000_000,
                    None,
                    None,
                    "simulation failed: instruction 3 (675k…): ExceededSlippage",
                ),
                OrderView(
                    3,
                    "confirmed",
                    key("sig3", 64),
                    path,
                    1_251_000_000,
                    1_251_000_000,
                    1_268_144_935,
                    17_144_935,
                    "landed in slot 300000044",
                ),
            ),
        )

    def at(self, tick: int) -> None:
        """The view as it was after ``tick``: the orders ended by then, their PnL."""
        from dataclasses import replace

        done = tuple(o for o, end in zip(self._final.orders, self.ENDS) if end <= tick)
        if len(done) == len(self._final.orders):
            self._view = self._final
            return
        self._view = replace(
            self._final,
            orders=done,
            pnl=sum(o.realized or 0 for o in done),
            confirmed=sum(o.status == "confirmed" for o in done),
            refused=sum(o.status == "refused" for o in done),
            sent=sum(o.status != "refused" for o in done),
        )

    def view(self) -> Any:
        return self._view

    def checks(self) -> list[str]:
        return ["✓ keypair ~/.config/arbscope/sim-key.json (owner-only, outside any repository)"]

    def submit(self, *args: Any) -> str:
        return "staged"

    def kill(self) -> int:
        return 0

    def disarm(self, why: str = "") -> int:
        return 0


def staged_live(seed: int = 7, ticks: int = 40) -> SimMarket:
    """The seeded market in live mode with a staged executor (the live portfolio), armed
    from the first tick, its orders ending as :class:`_StagedExecutor` says."""
    m, clock = _market(seed)
    mints = {t for p in m.graph.pools() for t in m.graph.pool_rate(p)[:2]}
    ex = _StagedExecutor(m.graph.base_mints()[0], sorted(mints))
    m.ev.executor = ex  # type: ignore[assignment]
    m.ev.mode = "LIVE"
    m.commitment = "processed"  # a live session's feeds: the status bar shows their commitment
    for i in range(1, ticks + 1):
        ex.at(i)  # what ended during this tick's period
        clock.advance(int(TICK_S * 1e9))
        m.tick()
    return m


class StagedBookMarket(SimMarket):
    """The seeded market with the order books of a simulated world beside it: the
    ladders the engine builds from the world's book accounts (``book_ladders``)."""

    books: tuple[Any, ...] = ()

    @property
    def snapshot(self) -> Any:
        from dataclasses import replace

        books = self.books
        return replace(super().snapshot, books_of=lambda: books)


def book_world(world_seed: int = 63, slots: int = 12) -> Any:
    """The simulated world of ``world_seed``, ``slots`` slots in."""
    from feeds.sim.world import World, WorldConfig

    world = World(WorldConfig(seed=world_seed))
    for _ in range(slots):
        world.step()
    return world


def book_ladders(world: Any = None, depth: int = 24) -> tuple[Any, ...]:
    """The L2 ladder of every order book of ``world`` (default :func:`book_world`): the
    twin's ``openbook_v2.ladder`` / ``manifest.ladder`` on the accounts' bytes at the
    world's clock (a Manifest market's orders judged at its slot plus the engine's
    margin), with the market's address, mints and slot (what ``PoolGraph.ladder`` gives)."""
    from dataclasses import replace

    import engine_rs
    from engine_rs.python.venues import manifest as twin_manifest
    from feeds.venues import VENUES
    from feeds.venues.openbook_v2.sim import now_ts

    eng = engine_rs.load("python")
    world = world if world is not None else book_world()
    books = {v.kind for v in VENUES if v.ids.graph_kind == "book"}
    out = []
    for address, kind in world.universe():
        if kind not in books:
            continue
        market = world.accounts[address].data
        if kind == "manifest":
            rec = eng.manifest.decode_market(market)
            slot = world.slot + twin_manifest.EXPIRY_MARGIN
            ladder = eng.manifest.ladder(market, slot, depth)
        else:
            rec = eng.openbook_v2.decode_market(market)
            ladder = eng.openbook_v2.ladder(
                market,
                world.accounts[rec.bids].data,
                world.accounts[rec.asks].data,
                now_ts(world),
                depth,
            )
        out.append(
            replace(
                ladder,
                market=address,
                base_mint=rec.base_mint,
                quote_mint=rec.quote_mint,
                slot=world.slot,
            )
        )
    return tuple(sorted(out, key=lambda b: b.market))


def staged_books(seed: int = 7, ticks: int = 40) -> StagedBookMarket:
    """:func:`staged_sim` with the simulated world's order books (the ``o`` screen), their
    tokens named beside the market's."""
    from feeds.wire.units import TokenBook

    market, clock = _market(seed, StagedBookMarket)
    assert isinstance(market, StagedBookMarket)
    m = market
    for _ in range(ticks):
        clock.advance(int(TICK_S * 1e9))
        m.tick()
    world = book_world()
    m.books = book_ladders(world)
    m.names = TokenBook({**m.names.tokens, **{t.mint: t.info() for t in world.tokens}})
    return m


def _staged_key(tag: str, n: int = 32) -> str:
    """A fixed base58 key (or signature, ``n`` 64) for a staged record."""
    import hashlib

    from engine_rs.python.b58 import b58encode

    return str(b58encode(hashlib.sha512(f"arbscope-staged:{tag}".encode()).digest()[:n]))


# the staged rivals: their signers (two labelled, as a labels file would name them)
RIVAL_SIGNERS = tuple(_staged_key(f"rival-{i}") for i in range(3))
RIVAL_LABELS = {RIVAL_SIGNERS[0]: "fastbot", RIVAL_SIGNERS[1]: "jito-whale"}
# the engine venue a demo pool's curve stands for (the demo's pools have no venue)
DEMO_VENUES = {"cpmm": "raydium_cpmm", "clmm": "orca_whirlpool"}
NOT_WATCHED = _staged_key("a pool we do not watch")
# (tick, what the rival's cycle is): a cycle we called GO, one we called no-go, one through
# a pool we do not watch (unseen), a failed attempt on a GO one
RIVAL_PLAN = (
    (12, "go"),
    (15, "nogo"),
    (18, "go"),
    (21, "unseen"),
    (24, "go"),
    (27, "nogo"),
    (30, "failed"),
    (33, "go"),
    (36, "nogo"),
    (38, "go"),
    (40, "go"),
)


class StagedRivalsMarket(SimMarket):
    """The seeded market with a rival book beside it, as a session keeps one: our live
    cycles observed every tick (verdicts, bids, our paper orders and fills), and rival
    arbitrages landed by hand on the cycles it holds (:data:`RIVAL_PLAN`), classified
    records built from the cycles' own hops, our graph's state of their pools read as
    the session reads it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from arbscope.rivals import RivalBook

        super().__init__(*args, **kwargs)
        self.book = RivalBook(labels=RIVAL_LABELS)
        self._fills_seen = 0
        self._staged: tuple[Any, Any] | None = None

    def tick(self, now_ns: int | None = None) -> None:
        super().tick(now_ns)
        ev, book = self.ev, self.book
        book.observe(self.slot, ev.live, ev.fees.cu_price_micro_lamports)
        broker = ev.broker
        if broker is not None:
            for order in broker.pending:
                book.traded(order.key[1], order.key[0], order.slot)
            fills = list(broker.fills)
            for f in fills[self._fills_seen :]:
                if f.ok:
                    book.landed(f.slot_landed or f.slot_filled)
            self._fills_seen = len(fills)

    def pool_state(self, pool: str) -> tuple[str, str, float, float, int] | None:
        from engine_rs.errors import EngineError

        try:
            a, b, ab, ba, slot = self.graph.pool_rate(pool)
        except EngineError:
            return None
        return str(a), str(b), float(ab), float(ba), int(slot)

    def land_rival(self, n: int, what: str) -> None:
        """The ``n``-th rival of the plan: on the first cycle held now that is GO (or
        no-go) in key order; ``unseen`` through its first pool and one we do not watch;
        ``failed`` a GO one's attempt that lost the race."""
        from feeds.rivals import RivalTx, SwapLeg

        live = sorted(self.ev.live.items())
        want_go = what in ("go", "failed", "unseen")
        picked = [o for _, (o, sc) in live if sc.go == want_go] or [o for _, (o, _) in live]
        o = picked[(n * 7) % len(picked)]
        pools, tokens = list(o.pools), list(o.tokens)
        amounts = list(o.hop_amounts)
        kinds = list(o.kinds)
        if what == "unseen":  # back through a pool we do not watch
            pools, tokens = [pools[0], NOT_WATCHED], [tokens[0], tokens[1], tokens[0]]
            amounts = [amounts[0], amounts[1], amounts[0] + amounts[0] // 400]
            kinds = [kinds[0], "cpmm"]
        failed = what == "failed"
        legs = tuple(
            SwapLeg(
                venue=DEMO_VENUES.get(kinds[i], "raydium_cpmm"),
                program="",
                pool=pools[i],
                mint_in=tokens[i],
                mint_out=tokens[i + 1],
                amount_in=amounts[i],
                amount_out=None if failed else amounts[i + 1],
                outer=2 + i,
                source="instruction" if failed else "event",
                position=2 + i,
            )
            for i in range(len(pools))
        )
        signer = RIVAL_SIGNERS[n % len(RIVAL_SIGNERS)]
        cu_limit, cu_price = (250_000, 20_000) if n % 2 else (400_000, 1_000)
        priority_fee = -(-cu_price * cu_limit // 1_000_000)
        tip = 0 if failed else (1 + n % 3) * 25_000
        fee = 5_000 + priority_fee
        profit = max(1_000, amounts[-1] - amounts[0])
        tx = RivalTx(
            signature=_staged_key(f"rival-tx-{n}", 64),
            slot=self.slot,
            index=3 + n % 5,
            signer=signer,
            legs=legs,
            kind="failed_arbitrage" if failed else "arbitrage",
            base_mint=tokens[0],
            profit=None if failed else profit,
            net=None if failed else profit - fee - tip,
            fee=fee,
            base_fee=5_000,
            priority_fee=priority_fee,
            cu_limit=cu_limit,
            cu_price=cu_price,
            tip_account="96gYZGLnJYVFmbjzopPSU6QiEV5fGqZNyN9nmNhvrZU5" if tip else None,
            tip=tip,
            paid_away=0,  # nothing paid elsewhere: net = profit - fee - tip
            failed=failed,
        )
        self.book.add(tx, self.pool_state)
        self._snap = None

    @property
    def snapshot(self) -> Any:
        from dataclasses import replace

        snap = super().snapshot
        if self._staged is None or self._staged[0] is not snap:
            self._staged = (snap, replace(snap, rivals=self.book.view()))
        return self._staged[1]


def staged_rivals(seed: int = 7, ticks: int = 40) -> StagedRivalsMarket:
    """:func:`staged_sim` with rivals (the Rivals panel, ``v``; a rival's detail)."""
    market, clock = _market(seed, StagedRivalsMarket)
    assert isinstance(market, StagedRivalsMarket)
    plan = dict(RIVAL_PLAN)
    for i in range(1, ticks + 1):
        clock.advance(int(TICK_S * 1e9))
        market.tick()
        if i in plan:
            market.land_rival(list(plan).index(i), plan[i])
    return market


PROP_LEAD = 6  # slots the staged prop AMMs lead the public mid by
PROP_TICKS = 120
PROP_PROGRAM = _staged_key("prop-amm")


class StagedPropMarket(SimMarket):
    """The seeded market with a prop AMM on each of its two busiest pairs, kept as a
    session keeps them (``arbscope.propamm.PropAmmBook``): every slot a swap at the pair's
    public mid ``PROP_LEAD`` slots later (read from a first run of the same seeded market,
    :attr:`ahead`) ± 1 bp, buy and sell in turn, and an oracle update every fourth slot;
    the public mids fed each slot, the Prices panel's rows carrying the quotes and the
    chart the prop series."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from arbscope.propamm import PropAmmBook

        super().__init__(*args, **kwargs)
        self.props = PropAmmBook()
        self.ahead: dict[tuple[str, str], dict[int, float]] = {}
        self.prop_pairs: tuple[tuple[str, str], ...] = ()
        self._staged: tuple[Any, Any] | None = None

    def tick(self, now_ns: int | None = None) -> None:
        from feeds.propamm import PropOracle, PropSwap, PropTx

        super().tick(now_ns)
        slot = self.slot
        for n, pair in enumerate(self.prop_pairs):
            future = self.ahead.get(pair, {}).get(slot + PROP_LEAD)
            if future is None:
                continue
            buy = (slot + n) % 2 == 0
            price = future * (1 + (5e-5 if buy else -5e-5))
            base, quote = pair
            if price >= 1:
                b_amt, q_amt = 10**9, round(price * 10**9)
            else:
                b_amt, q_amt = round(10**9 / price), 10**9
            m_in, a_in, m_out, a_out = (
                (quote, q_amt, base, b_amt) if buy else (base, b_amt, quote, q_amt)
            )
            market = _staged_key(f"prop-market-{n}")
            sig = _staged_key(f"prop-swap-{slot}-{n}", 64)
            swap = PropSwap(
                sig, slot, 1, PROP_PROGRAM, "SimProp", market, m_in, m_out, a_in, a_out,
                None, None, 1, "balances",
            )  # fmt: skip
            self.props.add(PropTx(sig, slot, False, (swap,), ()))
            if slot % 4 == 0:
                o = PropOracle(_staged_key(f"prop-oracle-{slot}-{n}", 64), slot, 0,
                               PROP_PROGRAM, "SimProp", (market,))  # fmt: skip
                self.props.add(PropTx(o.signature, slot, False, (), (o,)))
        self.props.follow(slot, self.prices.mids())

    @property
    def snapshot(self) -> Any:
        from dataclasses import replace

        snap = super().snapshot
        if self._staged is None or self._staged[0] is not snap:
            quotes = self.props.quotes(r.pair for r in snap.prices)
            rows = [replace(r, prop=quotes[r.pair]) if r.pair in quotes else r for r in snap.prices]
            series = self.props.series(snap.price_series)
            self._staged = (snap, replace(snap, prices=rows, prop_series=series))
        return self._staged[1]


def staged_props(seed: int = 7, ticks: int = PROP_TICKS) -> StagedPropMarket:
    """:func:`staged_sim` ``ticks`` slots in with prop AMMs on its two busiest pairs,
    leading their public mids by ``PROP_LEAD`` slots (the Prices panel's prop columns,
    the chart's prop line)."""
    first, clock = _market(seed)
    ahead: dict[tuple[str, str], dict[int, float]] = {}
    for _ in range(ticks + PROP_LEAD):
        clock.advance(int(TICK_S * 1e9))
        first.tick()
        for pair, mid in first.prices.mids().items():
            ahead.setdefault(pair, {})[first.slot] = mid
    busiest = tuple(r.pair for r in first.snapshot.prices[:2])
    market, clock = _market(seed, StagedPropMarket)
    assert isinstance(market, StagedPropMarket)
    market.ahead, market.prop_pairs = ahead, busiest
    for _ in range(ticks):
        clock.advance(int(TICK_S * 1e9))
        market.tick()
    return market


def ticked(m: SimMarketT, clock: ManualClock, ticks: int) -> SimMarketT:
    """``m`` after ``ticks`` of its ticks, ``clock`` moved one tick period before each
    (what its run loop would have done)."""
    for _ in range(ticks):
        clock.advance(int(TICK_S * 1e9))
        m.tick()
    return m


def fix_app(app: Any) -> Any:
    """Pin the status bar's wall clock."""
    app.state.clock = lambda: FIXED_WALL
    return app

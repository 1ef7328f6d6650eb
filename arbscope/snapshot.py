"""What the screen shows after a tick: the :class:`Snapshot` (immutable: the screen may
hold it), the facts a session adds to its evaluator's state (:class:`SnapshotFacts`) and
the :class:`SnapshotBuilder` that makes one from both; the status line's
:class:`UpdateRate`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Required, TypedDict

from engine_rs.errors import EngineError
from engine_rs.records import Cycle, FeeContext, Opportunity, Score
from feeds import venues
from feeds.health import FeedHealth
from feeds.wire.tokens import pair_order
from feeds.wire.units import TokenBook, UsdRates

from .cycle_costs import CycleCost
from .equity import EquityPoint
from .execution.live import LiveView
from .execution.paper import Portfolio
from .health import Verdict
from .prices import FeeView, PriceBook, PriceRow, PriceSeries
from .propamm import PropAmmBook, PropSeries
from .rivals import RivalsView
from .solprice import LamportPrice
from .timing import TimingRow

if TYPE_CHECKING:
    from .market import Evaluator

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
    # per row key of the cycles shown, what its transaction costs as it was scored
    costs: dict[str, CycleCost] = field(default_factory=dict)
    # per base mint, the price of a lamport in it (None: none known)
    lamport_prices: dict[str, LamportPrice | None] = field(default_factory=dict)
    portfolio: Portfolio | None = None
    live: LiveView | None = None  # live trading (wallet, orders), when configured
    mode: str = "PAPER"  # PAPER | LIVE: the session's execution mode
    health: str = ""  # ok | degraded | unhealthy | starting ("" where not judged: demo, replay)
    problems: tuple[str, ...] = ()  # why not ok, most serious first (arbscope.health)
    # the tokens by name and decimals, with USD per base unit from the mids where a
    # stablecoin path exists (feeds.wire.units): what every panel formats amounts with
    names: TokenBook = field(default_factory=TokenBook)
    commitment: str = ""  # of the feeds' subscriptions and reads ("" where none: demo)
    # per pool, the endpoints subscribed to all its accounts, of ``endpoints`` ({}: no feeds)
    coverage: dict[str, int] = field(default_factory=dict)
    endpoints: int = 0
    # per pool of the cycles shown, its venue's short label (``clmm``, ``dlmm``, ``pump``
    # ...: ``Opportunity.kinds`` says only the curve); {} where pools have no venue (demo)
    labels: dict[str, str] = field(default_factory=dict)
    # per row key of the cycles shown that cannot be sent as one transaction (too many
    # accounts before address lookup tables), why: the scorer's GO is the economics only
    unsendable: dict[str, str] = field(default_factory=dict)
    # the order-book markets' L2 ladders (``PoolGraph.ladder``), by market address; ()
    # where the session has no book (the demo)
    # the order-book markets' ladders, built when read (the book screen, ``b``): every
    # market's ladder on every snapshot cost ~60 ms a tick at 3,000 pools (~450 books),
    # for a screen seldom shown. Read, they are the graph's as of the read
    books_of: Callable[[], tuple[Any, ...]] = field(default=tuple, compare=False, repr=False)
    # the Token-2022 mints the engine refuses to swap through (a transfer hook, ...):
    # (mint, the extensions, pools trading it); their pools make no cycle
    refused: tuple[tuple[str, tuple[str, ...], int], ...] = ()
    # the equity curves (arbscope.equity): paper PnL after each attempt and live PnL
    # after each landed order, on the session's clock; bounded
    equity: tuple[EquityPoint, ...] = ()
    # the price chart's series (arbscope.prices.PriceSeries) by pair ((base, quote):
    # those of the price rows and of the first hop of every cycle shown
    price_series: dict[tuple[str, str], PriceSeries] = field(default_factory=dict)
    # the prop AMMs' realized prices (arbscope.propamm.PropSeries) of those pairs that
    # have one: the price chart's prop line
    prop_series: dict[tuple[str, str], PropSeries] = field(default_factory=dict)
    # others' arbitrage on the watched pools and how we compare (arbscope.rivals); None
    # where the source reads no transactions (the demo)
    rivals: RivalsView | None = None

    @property
    def books(self) -> tuple[Any, ...]:
        """The ladder of every order-book market the graph holds (built now)."""
        return self.books_of()

    @staticmethod
    def pair_order(a: str, b: str) -> tuple[str, str]:
        """``(base, quote)`` of a pair: the one rule every price, chart and book shows
        (``feeds.wire.tokens.pair_order``)."""
        return pair_order(a, b)


BOOK_DEPTH = 24  # ladder levels a snapshot keeps per side (as many as the panel shows)
# the pool kinds whose venue is an order book (``PoolGraph.ladder`` answers for them)
BOOK_KINDS = frozenset(v.kind for v in venues.VENUES if v.ids.graph_kind == "book")


class UpdateRate:
    """Pool updates per second over the last ``keep`` ticks (the status line's rate)."""

    def __init__(self, keep: int = 64) -> None:
        self._points: deque[tuple[float, int]] = deque(maxlen=keep)

    def add(self, t_s: float, updates: int) -> None:
        """The session's clock (s) and its update count after a tick."""
        self._points.append((t_s, updates))

    def per_s(self) -> float:
        if len(self._points) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self._points[0], self._points[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    def clear(self) -> None:
        """Forget the history (after a pause the rate restarts from the next tick)."""
        self._points.clear()


class SnapshotFacts(TypedDict, total=False):
    """The session's own facts a snapshot shows beside its evaluator's state (its
    clock's counters, feeds, health, prices): ``Evaluator.snapshot``'s keywords."""

    seed: Required[int]
    slot: Required[int]
    updates: Required[int]
    updates_per_s: Required[float]
    errors: Required[int]
    source: Required[str]
    kind: Required[str]
    feeds: list[FeedHealth] | None
    note: str
    session_id: str
    prices: list[PriceRow] | None
    fee: FeeView | None
    verdict: Verdict | None
    names: TokenBook | None
    mids: dict[tuple[str, str], float] | None
    commitment: str
    coverage: dict[str, int] | None
    endpoints: int
    book: PriceBook | None
    rivals: RivalsView | None
    props: PropAmmBook | None


class SnapshotBuilder:
    """Makes the :class:`Snapshot` of an evaluator's state and a session's facts: the
    best cycles, their ages, costs, labels and whether they can be sent, the refused
    mints (counted again only when they or the pools changed), the books' ladders
    (built when read), the chart's series."""

    def __init__(self, ev: Evaluator) -> None:
        self.ev = ev
        # each pool's mints (a pool's never change), and the last refusals with what
        # they were counted from
        self._pool_mints: dict[str, tuple[str, str]] = {}
        self._refused_memo: tuple[object, tuple[tuple[str, tuple[str, ...], int], ...]] = (
            None,
            (),
        )
        self._usd = UsdRates()  # the tokens' paths to a stablecoin, while the pairs stay

    def build(self, facts: SnapshotFacts) -> Snapshot:
        """The screen's view of the evaluator's state, with the session's ``facts``."""
        ev = self.ev
        slot = facts["slot"]
        # best net first; a cycle whose fees could not be converted (its net not known)
        # after those whose net is known
        best = ev.book.best(MAX_ROWS)
        first = ev.first_seen
        ages = {
            o.base_mint + ":" + ",".join(o.pools): slot
            - first.get((o.base_mint, tuple(o.pools)), slot)
            for o, _ in best
        }
        timer = ev.timer
        verdict = facts.get("verdict")
        prices = facts.get("prices")
        props = facts.get("props")
        feeds, fee = facts.get("feeds"), facts.get("fee")
        names, mids = facts.get("names"), facts.get("mids")
        graph = ev.graph
        return Snapshot(
            seed=facts["seed"],
            backend=ev.eng.BACKEND,
            shadow=(
                None
                if timer.other is None
                else f"{timer.other.BACKEND} (stateless only)"
                if timer.stateful_suspended
                else timer.other.BACKEND
            ),
            slot=slot,
            pools=len(graph),
            tokens=len(graph.tokens()),
            updates=facts["updates"],
            updates_per_s=facts["updates_per_s"],
            errors=facts["errors"],
            mismatches=timer.mismatch_count,
            opportunities=best,
            timings=timer.rows(),
            last_sweep=ev.last_sweep,
            source=facts["source"],
            feeds=feeds if feeds is not None else [],
            note=facts.get("note", ""),
            kind=facts["kind"],
            session_id=facts.get("session_id", ""),
            prices=prices if prices is not None else [],
            fee=fee if fee is not None else FeeView(),
            ages=ages,
            fees_ctx=ev.fees,
            costs={
                o.base_mint + ":" + ",".join(o.pools): c
                for o, _ in best
                if (c := ev.costs.get((o.base_mint, tuple(o.pools)))) is not None
            },
            lamport_prices={b: ev.lamport_prices.get(b) for b in graph.base_mints()},
            portfolio=ev.broker.portfolio() if ev.broker is not None else None,
            live=ev.executor.view() if ev.executor is not None else None,
            mode=ev.mode,
            health=verdict.status if verdict is not None else "",
            problems=verdict.problems if verdict is not None else (),
            names=self._usd.book(names or TokenBook(), mids or {}),
            commitment=facts.get("commitment", ""),
            coverage=facts.get("coverage") or {},
            endpoints=facts.get("endpoints", 0),
            labels=self._labels(best),
            unsendable=self._unsendable(best),
            books_of=self._books,
            refused=self._refused(),
            equity=ev.equity.points(),
            price_series=(series := self._series(facts.get("book"), prices, best)),
            prop_series=props.series(series) if props is not None and props.pairs else {},
            rivals=facts.get("rivals"),
        )

    @staticmethod
    def _series(
        book: PriceBook | None, rows: list[PriceRow] | None, best: list[tuple[Opportunity, Score]]
    ) -> dict[tuple[str, str], PriceSeries]:
        """The chart series of the price rows' pairs and of each shown cycle's first hop
        (a pair as ``(base, quote)``: ``feeds.wire.tokens.pair_order``)."""
        if book is None:
            return {}
        pairs = dict.fromkeys(r.pair for r in rows or ())
        for o, _ in best:
            if len(o.tokens) > 1:
                pairs[pair_order(o.tokens[0], o.tokens[1])] = None
        return book.series(pairs)

    def _refused(self) -> tuple[tuple[str, tuple[str, ...], int], ...]:
        """The mints the graph refuses (``PoolGraph.refusal``), each with the pools of
        the graph trading it."""
        g = self.ev.graph
        bad = {t: tuple(r) for t in g.tokens() if (r := g.refusal(t))}
        if not bad:
            return ()
        # counted again only when the refusals or the graph's pools changed (a pool's
        # rate read for each of thousands of pools took ~12 ms a snapshot), each pool's
        # mints read once
        pools = g.pools()
        key = (bad, pools)
        if self._refused_memo[0] == key:
            return self._refused_memo[1]
        counts = dict.fromkeys(bad, 0)
        mints = self._pool_mints
        for p in pools:
            ab = mints.get(p)
            if ab is None:
                a, b = g.pool_rate(p)[:2]
                ab = mints[p] = (str(a), str(b))
            for m in ab:
                if m in counts:
                    counts[m] += 1
        out = tuple((m, bad[m], counts[m]) for m in sorted(bad))
        self._refused_memo = (key, out)
        return out

    def _books(self) -> tuple[Any, ...]:
        """The ladder of every order-book market the graph holds, by address."""
        ev = self.ev
        out = []
        for p in sorted(p for p, kind in ev.pool_kinds.items() if kind in BOOK_KINDS):
            try:
                ladder = ev.graph.ladder(p, BOOK_DEPTH)
            except EngineError:  # not assembled yet (its sides not received)
                continue
            if ladder is not None:
                out.append(ladder)
        return tuple(out)

    def _unsendable(self, best: list[tuple[Opportunity, Score]]) -> dict[str, str]:
        """Why each cycle shown could not be sent as one transaction, for those that
        could not (its size depends on its pools, tokens and the tip only: cached)."""
        ev = self.ev
        out: dict[str, str] = {}
        for o, _ in best:
            if any(p not in ev.pool_kinds for p in o.pools):
                continue  # a pool whose program is not known (yet): nothing to say, or cache
            why = ev.sendable(o)
            if why:
                out[o.base_mint + ":" + ",".join(o.pools)] = why
        return out

    def _labels(self, best: list[tuple[Opportunity, Score]]) -> dict[str, str]:
        """The venue label of each pool of the cycles shown whose kind is known."""
        kinds = self.ev.pool_kinds
        out: dict[str, str] = {}
        for o, _ in best:
            for p in o.pools:
                kind = kinds.get(p)
                if kind is not None and p not in out and kind in venues.KINDS:
                    out[p] = venues.by_kind(kind).label
        return out

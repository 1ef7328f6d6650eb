"""The session's evaluation, and what the screen is shown of it.

:class:`Evaluator` (one per session, live or replayed, and the in-process demo market of
``arbscope.demo``): each pool that changed re-evaluated (``cycles_touching``) and scored,
the sweep, paper and live execution, the fee context and the lamport's price per base,
and the :class:`Snapshot` the screen reads.

Every engine call goes through :class:`~arbscope.timing.KernelTimer` (active backend
timed, the other one shadowing). Same inputs, same cycles.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import types
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from engine_rs.errors import EngineError
from engine_rs.records import (
    REASON_NO_SOL_PRICE,
    Cycle,
    FeeContext,
    Opportunity,
    Score,
    ScorePolicy,
)
from feeds import venues
from feeds.health import FeedHealth
from feeds.wire.instructions import MAX_COMPUTE_UNIT_LIMIT, SPL_TOKEN
from feeds.wire.tokens import pair_order
from feeds.wire.txsize import (
    MAX_TX_ACCOUNT_LOCKS,
    PACKET_DATA_SIZE,
    swap_tx_accounts,
    swap_tx_size,
)
from feeds.wire.units import TokenBook

from .equity import EquityCurves, EquityPoint
from .execution.compute import (
    CU_ATA,
    CU_BASE,
    TOKEN_STEP_KINDS,
    CuBudget,
    cu_models,
    cycle_budget,
    cycle_steps,
)
from .execution.live import LiveExecutor, LiveView
from .execution.paper import Fill, PaperBroker, Portfolio
from .health import Verdict
from .ports import EventSink
from .prices import FeeView, PriceBook, PriceRow, PriceSeries
from .propamm import PropAmmBook, PropSeries
from .rivals import RivalsView
from .solprice import LamportPrice, LamportPrices
from .timing import KernelTimer, TimingRow

PAPER_BALANCE = 10**12  # base units a paper session starts with

MAX_ROWS = 100  # cycles kept for the screen, best net profit first
# which cycles fit a transaction, by hops' kinds, which tokens repeat, tip and token
# programs (``Evaluator.sendable``): a bound, not a working size — keyed by the mints, as
# it was first, the ~6,000-8,000 go cycles of a 3,000-pool market each asked every tick
# missed at 4,096 cleared whole; keyed by shape it holds far fewer
SENDABLE_MEMO = 32_768
DEFAULT_CU_LIMIT = 300_000  # the fee panel's limit while no cycle is shown
# The session's own no-go reason (the engine's scorer never says it): a pool on the path
# that no endpoint covers (every subscription of one of its accounts refused, over a cap
# or not connected). Its state is the last one read and nothing reports its changes, so
# the cycle's numbers are not known; listed first.
REASON_UNCOVERED = "uncovered"


@dataclass(frozen=True, slots=True)
class CycleCost:
    """What landing a cycle's transaction costs, as the scorer priced it: ``fees`` the
    fee context it was scored with (its own compute-unit limit, its base token's price of
    a lamport), ``budget`` that limit part by part, ``price`` the lamport's price in the
    base token (None: none known, and the score says ``no_sol_price``). Paper, live, the
    cycle detail and the journal read these, never a figure of their own."""

    fees: FeeContext
    budget: CuBudget
    price: LamportPrice | None


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


OppKey = tuple[str, tuple[str, ...]]  # (base mint, pools) of a cycle
WalletView = tuple[bool, str, dict[str, bool]]  # armed, base, {mint: its account exists}
# pool programs whose swap takes steps for a Token-2022 mint (None: a program not known),
# the compute model's own list (``execution.compute``'s token rules)
_TOKEN_KINDS: frozenset[str | None] = frozenset({*TOKEN_STEP_KINDS, None})


def _one_transaction(kinds: list[str], tokens: list[str], tip: bool, programs: list[str]) -> str:
    """Why one transaction of these hops would not fit ("" when it would): the
    accounts it names, then its bytes as is or through address lookup tables."""
    locks = swap_tx_accounts(kinds, tokens, tip, programs=programs)
    if locks > MAX_TX_ACCOUNT_LOCKS:
        return (
            f"one transaction would name {locks} accounts, over the "
            f"{MAX_TX_ACCOUNT_LOCKS} a transaction may lock"
        )
    if swap_tx_size(kinds, tokens, tip, programs=programs) <= PACKET_DATA_SIZE:
        return ""
    size = swap_tx_size(kinds, tokens, tip, tables=True, programs=programs)
    if size <= PACKET_DATA_SIZE:
        return ""
    return (
        f"one transaction would be {size:,} bytes even through address lookup "
        f"tables, over the {PACKET_DATA_SIZE:,}-byte limit"
    )


# a session's reason no cycle goes (Evaluator.hold): no new slot from any feed for the
# session's stall time (its /health says the same) — every price is that old
REASON_FEEDS_STALLED = "feeds_stalled"


def _no_go(score: Score, reason: str, first: bool = False) -> Score:
    """``score`` (either backend's record, as the Python one) with ``reason`` among its
    reasons, last (or ``first``): no-go."""
    fields = {f.name: getattr(score, f.name) for f in dataclasses.fields(Score)}
    reasons = [reason, *score.reasons] if first else [*score.reasons, reason]
    fields |= {"go": False, "reasons": reasons}
    return Score(**fields)


class Evaluator:
    """The decisions every session makes, owned by the session (one each; a replay's
    comes with the session it composes): the cycles through a changed pool re-evaluated
    and scored, the safety-net sweep, and execution — paper fills and decisions, and the
    live executor when the session has one.

    It holds the graphs (one per backend, fed the same updates so the shadow sees the
    same state) and the kernel timer the session built; the session owns time and its
    counters and passes the slot in."""

    def __init__(
        self,
        eng: types.ModuleType,
        timer: KernelTimer,
        graphs: dict[str, Any],
        fees: FeeContext,
        policy: ScorePolicy,
        pool_kinds: dict[str, str] | None = None,
        cu_override: int | None = None,
    ) -> None:
        self.eng, self.timer, self.graphs = eng, timer, graphs
        self.graph = graphs[eng.BACKEND]
        # what every transaction costs now (the compute-unit price, the tip, the
        # signatures); each cycle is scored with its own limit and base price on top
        self.fees, self.policy = fees, policy
        self.cu_override = cu_override  # fees.cu_limit: one limit for every transaction
        self.lamport_prices = LamportPrices()  # a lamport's price in each base token
        self.costs: dict[OppKey, CycleCost] = {}  # each live cycle's, as it was scored
        # what a cycle's transaction costs, by (its budget, its base's price): the same
        # CycleCost object while the session's fees are the same object (``cost``)
        self._cost_memo: dict[tuple[CuBudget, LamportPrice | None], CycleCost] = {}
        self._cost_fees: FeeContext | None = None
        self._budgets: dict[tuple[Any, ...], CuBudget] = {}
        # the engine's pricer of each backend (``score_touching``), told what the prices
        # depend on when it changes (``_sync_pricing``): what was told last
        self._pricers: dict[str, Any] = {}
        self._told: tuple[object, ...] = ()
        self._kinds_told: dict[str, str] = {}
        # a scored cycle's cost by (base, hop limits, steps, accounts), while the fees,
        # the prices and the override are the ones told
        self._scored_memo: dict[tuple[Any, ...], CycleCost] = {}
        self._hop_budgets: dict[tuple[Any, ...], CuBudget] = {}
        self._wallet_seen: tuple[bool, int] = (False, 0)  # the executor's, when last scored
        # the live wallet's token accounts as the cycles are scored with them: (armed, its
        # base, {mint: the account exists}); the executor's, or a replay's journaled copy
        self.wallet: WalletView = (False, "", {})
        # each pool's program, when the feed knows it (what a transaction would need)
        self.pool_kinds: dict[str, str] = pool_kinds if pool_kinds is not None else {}
        self._sendable_memo: dict[tuple[Any, ...], str] = {}
        self.live: dict[OppKey, tuple[Opportunity, Score]] = {}
        # pool -> the keys of ``live`` through it (what an evaluation of the pool drops
        # when they no longer come back); written with ``live``, only by this class
        self._through: dict[str, set[OppKey]] = {}
        # the pools no endpoint covers (``set_uncovered``): their cycles are no-go
        self.uncovered: frozenset[str] = frozenset()
        self.first_seen: dict[OppKey, int] = {}  # the slot each live cycle appeared in
        # the screen's refusals (``_refused``): each pool's mints (a pool's never
        # change), and the last answer with what it was counted from
        self._pool_mints: dict[str, tuple[str, str]] = {}
        self._refused_memo: tuple[object, tuple[tuple[str, tuple[str, ...], int], ...]] = (
            None,
            (),
        )
        self.found = 0  # opportunities that appeared (a profitable cycle not live before)
        self.last_sweep: Cycle | None = None
        bases = self.graph.base_mints()
        # paper trading on the first base mint (none when the graph has no base mint)
        self.broker: PaperBroker | None = None
        if bases:
            self.broker = PaperBroker(
                base=bases[0],
                balance=PAPER_BALANCE,
                tip_lamports=fees.tip_lamports,
                sendable=self.sendable,
                exact_hops=self.exact_hops,
            )
        self.executor: LiveExecutor | None = None  # live trading, when configured
        self.mode = "PAPER"  # LIVE only after the session's request_live() succeeded
        self.halted = False  # the kill switch was pressed
        self.equity = EquityCurves()  # what the equity chart draws
        self.held = ""  # why no cycle may go now, whatever its numbers ("": none; hold())
        # told (paper seq, live seq) when a live order went out and its paper shadow was
        # decided: the session journals it (``LINK``: a replay has no chain to send to);
        # None: the broker is told directly
        self.on_link: Callable[[int, int], None] | None = None

    def set_names(self, names: TokenBook) -> None:
        """The session's token names, for the brokers' messages."""
        if self.broker is not None:
            self.broker.names = names
        if self.executor is not None:
            self.executor.names = names

    # ------------------------------------------------------------ evaluation
    def refresh_prices(self) -> None:
        """Read the price of a lamport in every base token from the graph again (before
        the tick's evaluations: the cycles scored in it use these)."""
        self.lamport_prices.update(self.graph, self.graph.base_mints())

    def budget(self, o: Opportunity) -> CuBudget:
        """The compute units ``o``'s transaction requests (``execution.compute``): its
        pools' programs, each hop at the steps its quote crosses at the cycle's size
        (``Opportunity.hop_steps`` and the mints' token programs: :meth:`steps`), the
        wallet's token accounts it would create (known once live is armed: what the
        executor has seen of the wallet), ``fees.cu_limit`` over all."""
        kinds = tuple(map(self.pool_kinds.get, o.pools))  # (each getter of ``o`` a new list)
        armed, base, have = self.wallet
        accounts = sum(1 for t in set(o.tokens) if t != base and not have.get(t)) if armed else 0
        steps = self.steps(o, kinds)
        key = (kinds, tuple(o.kinds), accounts, self.cu_override, steps)
        b = self._budgets.get(key)
        if b is None:
            if len(self._budgets) > 4_096:
                self._budgets.clear()
            b = self._budgets[key] = cycle_budget(kinds, o.kinds, accounts, self.cu_override, steps)
        return b

    def steps(self, o: Opportunity, kinds: Sequence[str | None]) -> tuple[int, ...] | None:
        """Each hop's steps in its venue's compute-unit model at ``o``'s size: what the
        engine's sizing counted for its curve plus its mints' Token-2022 steps (the
        graph's ``mint_program``: what the live executor counts too); None for a cycle
        with no size (its hops at their venues' most)."""
        hop_steps = o.hop_steps  # (read once: each read of ``o``'s is a new list)
        if o.amount_in <= 0 or len(hop_steps) != len(kinds):
            return None
        programs = self._programs(o.tokens) if _TOKEN_KINDS.intersection(kinds) else []
        if not programs:
            return tuple(int(s) for s in hop_steps)
        return cycle_steps(kinds, o.kinds, hop_steps, programs)

    def cost(self, o: Opportunity) -> CycleCost:
        """What ``o``'s transaction costs now: the session's fees with its own limit and
        its base token's price of a lamport (none known: the conversion is missing).
        Memoized by (budget, price) while ``fees`` is the same object."""
        return self._cost_for(self.budget(o), self.lamport_prices.get(o.base_mint))

    def _cost_for(self, budget: CuBudget, price: LamportPrice | None) -> CycleCost:
        """:meth:`cost` of a cycle of ``budget`` through a base of ``price``."""
        if self._cost_fees is not self.fees:
            self._cost_memo.clear()
            self._cost_fees = self.fees
        key = (budget, price)
        c = self._cost_memo.get(key)
        if c is not None:
            return c
        if price is None:
            fees = replace(
                self.fees,
                cu_limit=budget.limit,
                base_per_lamport_num=1,
                base_per_lamport_den=1,
                base_rate_missing=True,
            )
        else:
            fees = replace(
                self.fees,
                cu_limit=budget.limit,
                base_per_lamport_num=price.num,
                base_per_lamport_den=price.den,
                base_rate_missing=False,
            )
        if len(self._cost_memo) > 4_096:
            self._cost_memo.clear()
        c = self._cost_memo[key] = CycleCost(fees, budget, price)
        return c

    def _pricer(self, m: types.ModuleType) -> Any:
        """Backend ``m``'s ``CyclePricer``, made on first use and told what was told."""
        p = self._pricers.get(m.BACKEND)
        if p is None:
            p = m.CyclePricer(cu_models(), CU_BASE, CU_ATA, MAX_COMPUTE_UNIT_LIMIT)
            self._tell(p, fees=True, prices=True, wallet=True)
            p.set_pool_kinds(self._kinds_told, replace=True)
            self._pricers[m.BACKEND] = p
        return p

    def _sync_pricing(self) -> None:
        """Tell the pricers what changed since they were told: the fees, the policy or
        the override (the session replaces ``fees`` on a new fee estimate), the lamport's
        prices (``refresh_prices``), the wallet (``set_wallet``), the pools' programs (a
        pool's never changes: told as pools are added)."""
        lp, told = self.lamport_prices, self._told
        kinds = self.pool_kinds
        if (
            told
            and told[0] is self.fees
            and told[1] is self.policy
            and told[2] == self.cu_override
            and told[3] == lp.version
            and told[4] is self.wallet
            and len(kinds) == len(self._kinds_told)
        ):
            return
        fees = not told or told[0] is not self.fees or told[1] is not self.policy
        fees = fees or told[2] != self.cu_override
        prices = not told or told[3] != lp.version
        wallet = not told or told[4] is not self.wallet
        self._told = (self.fees, self.policy, self.cu_override, lp.version, self.wallet)
        if fees or prices:
            self._scored_memo.clear()
        if len(kinds) != len(self._kinds_told):
            was = self._kinds_told
            replace_all = len(kinds) < len(was)
            new = (
                dict(kinds) if replace_all else {p: k for p, k in kinds.items() if was.get(p) != k}
            )
            self._kinds_told = dict(kinds) if replace_all else {**was, **new}
            for p in self._pricers.values():
                p.set_pool_kinds(new, replace=replace_all)
        for p in self._pricers.values():
            self._tell(p, fees=fees, prices=prices, wallet=wallet)

    def _tell(self, p: Any, *, fees: bool, prices: bool, wallet: bool) -> None:
        """Tell pricer ``p`` the fees, the prices or the wallet as they are now."""
        if fees:
            p.set_fees(self.fees, self.policy, self.cu_override)
        if prices:
            lp = self.lamport_prices
            told: dict[str, tuple[int, int] | None] = {
                b: None if v is None else (v.num, v.den) for b, v in lp.prices.items()
            }
            told[lp.sol] = (1, 1)  # (``LamportPrices.get``'s own for SOL)
            p.set_prices(told)
        if wallet:
            armed, base, have = self.wallet
            p.set_wallet(armed, base, [m for m, yes in have.items() if yes])

    def _scored_cost(
        self, base: str, hops: tuple[int, ...], steps: tuple[int | None, ...], accounts: int
    ) -> CycleCost:
        """The :class:`CycleCost` of a cycle the engine priced (``score_touching``):
        :meth:`cost`'s, from the engine's parts of its budget."""
        key = (base, hops, steps, accounts)
        c = self._scored_memo.get(key)
        if c is None:
            bkey = (hops, steps, accounts, self.cu_override)
            budget = self._hop_budgets.get(bkey)
            if budget is None:
                if len(self._hop_budgets) > 4_096:
                    self._hop_budgets.clear()
                budget = self._hop_budgets[bkey] = CuBudget(
                    hops, accounts, override=self.cu_override, steps=steps
                )
            if len(self._scored_memo) > 4_096:
                self._scored_memo.clear()
            c = self._scored_memo[key] = self._cost_for(budget, self.lamport_prices.get(base))
        return c

    def evaluate(self, pool_id: str, slot: int) -> list[OppKey]:
        """Re-evaluate every cycle through ``pool_id`` and score the ones with a profit
        (or sized without ticks they needed: shown as ``ticks_missing``); the live ones'
        keys. One engine call (``score_touching``) re-sizes every cycle through the pool,
        names only the live ones and prices each: its compute-unit budget and its score
        (what :meth:`cost` and the scorer give, the pricer told what they depend on); a
        live cycle through the pool that did not come back is dropped. (EngineError, and
        UnknownPoolError for a pool not in the graph, propagate: the caller counts.)"""
        first, live, costs, through = self.first_seen, self.live, self.costs, self._through
        keys: list[OppKey] = []
        self._sync_pricing()
        got = self.timer.call(
            "score_touching",
            # every indexed length: the graph's own max_hops (the call's default is 4)
            lambda m: self.graphs[m.BACKEND].score_touching(
                pool_id, self._pricer(m), self.graphs[m.BACKEND].max_hops
            ),
            detail=pool_id,
        )
        uncovered, held = self.uncovered, self.held
        for o, score, hops, steps, accounts in got:
            key = (o.base_mint, tuple(o.pools))
            if key not in first:
                first[key] = slot
                self.found += 1  # an opportunity appeared
            if key not in live:
                for p in key[1]:
                    through.setdefault(p, set()).add(key)
            if uncovered and not uncovered.isdisjoint(key[1]):
                score = _no_go(score, REASON_UNCOVERED, first=True)
            if held:
                score = _no_go(score, held)
            live[key] = (o, score)
            costs[key] = self._scored_cost(key[0], hops, steps, accounts)
            keys.append(key)
        was = through.get(pool_id)
        if was is not None and len(was) > len(keys):
            for key in was.difference(keys):
                self._drop(key)
        return keys

    def _drop(self, key: OppKey) -> None:
        """``key`` is no longer live (no profit now, or its pool left the graph)."""
        self.live.pop(key, None)
        self.costs.pop(key, None)
        self.first_seen.pop(key, None)
        for p in key[1]:
            keys = self._through.get(p)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._through[p]

    def rescore(self) -> None:
        """Score every live cycle again with what its transaction costs now (live was
        armed, or the wallet's token accounts changed: the accounts it would create)."""
        for key, (o, _) in sorted(self.live.items()):
            cost = self.cost(o)
            self.live[key] = (o, self._score(o, cost.fees, key))
            self.costs[key] = cost

    def wallet_moved(self) -> WalletView | None:
        """The executor's wallet as the cycles would be scored with it, when live was
        armed or disarmed or its token accounts changed since they were scored (the
        session journals it and calls :meth:`set_wallet`); else None."""
        ex = self.executor
        now = (bool(ex.armed), int(ex.accounts_seen)) if ex is not None else (False, 0)
        if now == self._wallet_seen or ex is None:
            return None
        self._wallet_seen = now
        view: WalletView = (now[0], str(ex.base), dict(ex.accounts) if now[0] else {})
        return None if view == self.wallet else view

    def set_wallet(self, armed: bool, base: str, accounts: dict[str, bool]) -> None:
        """Score with this wallet from now on (what the session's executor had, or a
        replay's journaled ``WALLET``): every live cycle is scored again."""
        self.wallet = (bool(armed), str(base), dict(accounts))
        self.rescore()

    def drop_pool(self, pool_id: str) -> None:
        """``pool_id`` left the graph (a bad state): the cycles through it go too."""
        for key in list(self._through.get(pool_id, ())):
            self._drop(key)

    def fees_of(self, key: OppKey) -> FeeContext:
        """The fee context the live cycle ``key`` was scored with."""
        cost = self.costs.get(key)
        return cost.fees if cost is not None else self.fees

    def _score(self, o: Opportunity, fees: FeeContext, key: object) -> Score:
        score: Score = self.timer.call("score", lambda m: m.score(o, fees, self.policy), detail=key)
        if self.uncovered and not self.uncovered.isdisjoint(o.pools):
            score = _no_go(score, REASON_UNCOVERED, first=True)
        return _no_go(score, self.held) if self.held else score

    def hold(self, reason: str) -> None:
        """No cycle may go while ``reason`` holds ("": none), whatever its numbers: the
        session's feeds stalled (:data:`REASON_FEEDS_STALLED`), so the state every cycle
        was scored on is as old as that. Every live cycle is scored again when it starts
        (no-go, the reason last) and when it ends."""
        if reason != self.held:
            self.held = reason
            self.rescore()

    def set_uncovered(self, pools: Sequence[str]) -> bool:
        """The pools no endpoint covers now; when the set changed (True then), the live
        cycles through a pool that came in or left it are scored again: a cycle through
        one of them is no-go (``uncovered``). Only those: the others' scores do not
        depend on it (at 3,000 pools, scoring every live cycle again held the event loop
        for up to ~0.5 s each time an endpoint's subscriptions moved)."""
        new = frozenset(pools)
        if new == self.uncovered:
            return False
        moved = new.symmetric_difference(self.uncovered)
        self.uncovered = new
        through, live, costs = self._through, self.live, self.costs
        keys: set[OppKey] = set()
        for p in moved:
            keys.update(through.get(p, ()))
        for key in sorted(keys):
            # with the cost it was scored with (the engine's budget of its steps): its
            # verdict moves with the pool's coverage alone, and back where it was
            o = live[key][0]
            cost = costs.get(key) or self.cost(o)
            live[key] = (o, self._score(o, cost.fees, key))
        return True

    def sweep(self) -> None:
        """The safety net: a full negative-cycle search (warm-started, so mirrored)."""
        self.last_sweep = self.timer.call(
            "find_negative_cycle",
            lambda m: self.graphs[m.BACKEND].find_negative_cycle(),
            mirror=True,  # warm-started: the result depends on the earlier sweeps
        )

    # ------------------------------------------------------------ execution
    def sendable(self, opp: Any) -> str:
        """ "" when the cycle fits in one transaction (the token accounts existing) as
        is, or as a v0 message through the wallet's address lookup tables holding the
        pools' accounts (what the live executor keeps), or else as two transactions of
        one Jito bundle (its hops cut in two, the tip in the second: what the live
        executor sends when one cannot hold it and block engines are configured); else
        why not; "" too when the pools' programs are unknown (the in-process market)."""
        kinds = [self.pool_kinds.get(p) for p in opp.pools]
        if not kinds or None in kinds:
            return ""
        tip = bool(self.fees.tip_lamports)
        known = [k for k in kinds if k]
        tokens = list(opp.tokens)
        programs = self._programs(tokens)  # a Token-2022 pool's swap is its venue's v2
        # the answer depends on the tokens only through which of them repeat (the sizes
        # are counted on placeholder keys): the memo holds one answer per such shape
        first: dict[str, int] = {}
        pattern = tuple(first.setdefault(t, len(first)) for t in tokens)
        key = (tuple(known), pattern, tip, tuple(programs))
        memo = self._sendable_memo
        why = memo.get(key)
        if why is None:  # (asked of every order, and of the best cycles every screen)
            if len(memo) >= SENDABLE_MEMO:  # the oldest quarter goes, not the whole
                for old in list(itertools.islice(memo, SENDABLE_MEMO // 4)):
                    del memo[old]
            why = memo[key] = self._fits(known, tokens, tip, programs)
        return why

    @staticmethod
    def _fits(known: list[str], tokens: list[str], tip: bool, programs: list[str]) -> str:
        """:meth:`sendable` of these hops, computed."""
        why = _one_transaction(known, tokens, tip, programs)
        if not why:
            return ""
        n = len(known)
        for k in sorted(range(1, n), key=lambda k: (abs(2 * k - n), k)):
            if not _one_transaction(known[:k], tokens[: k + 1], False, programs[: k + 1]) and not (
                _one_transaction(known[k:], tokens[k:], tip, programs[k:])
            ):
                return ""  # a bundle of two
        return why + " (and no cut of its hops fits two)"

    def exact_hops(self, opp: Any) -> list[bool]:
        """Which hops of ``opp`` get exactly their quote or fail (``Venue.exact_buy``: an
        order book's buy of the market's base); all False where the programs are unknown."""
        out = []
        for pool, tout in zip(opp.pools, opp.tokens[1:], strict=False):
            kind = self.pool_kinds.get(pool)
            exact = False
            if kind and venues.by_kind(kind).exact_buy:
                try:
                    exact = tout == self.graph.pool_rate(pool)[0]
                except EngineError:
                    exact = False
            out.append(exact)
        return out

    def _programs(self, tokens: list[str]) -> list[str]:
        """Each token's program: Token-2022 for a mint the feed follows as such (the
        graph was told it), SPL Token's otherwise."""
        return [self.graph.mint_program(t) or SPL_TOKEN for t in tokens]

    def pool_slots(self, pools: list[str]) -> tuple[int, ...]:
        """The slot of each pool's last update (-1: not in the graph)."""
        return self._pool_slots(pools, {})

    def _pool_slots(self, pools: list[str], known: dict[str, int]) -> tuple[int, ...]:
        """:meth:`pool_slots`, each pool's read kept in ``known`` (the graph unchanged)."""
        out = []
        for p in pools:
            s = known.get(p)
            if s is None:
                try:
                    s = int(self.graph.pool_rate(p)[4])
                except EngineError:
                    s = -1
                known[p] = s
            out.append(s)
        return tuple(out)

    def execute(self, slot: int, now_ns: int = 0, sink: EventSink | None = None) -> list[Fill]:
        """Fill the paper orders that are due, then (auto mode, not halted) decide on
        every cycle the scorer says go for. Fills (``fill`` events) go to ``sink`` (the
        journal's recorder, a replay's digest) when there is one; returns them."""
        b = self.broker
        if b is None:
            return []
        self.equity.start(now_ns, slot, b.pnl)
        fills = b.on_tick(self.graph, slot)
        for f in fills:
            if sink is not None:
                sink.emit(f, slot, now_ns)
        if fills:
            self.equity.paper_fills(fills, b.pnl, now_ns, slot)
        self.decide(slot, now_ns)
        executor = self.executor  # after the decisions: a live order waits for nothing
        if executor is not None and (executor.armed or self.equity.drawing_live):
            self.equity.live_orders(executor.view(), now_ns, slot)
        return fills

    def decide(self, slot: int, now_ns: int = 0, keys: Iterable[OppKey] | None = None) -> None:
        """In auto mode, not halted: decide on every live cycle the scorer says go for
        (of ``keys`` only, when given: the cycles a frame just moved, decided in its call),
        on paper and, trading live, for real (paper shadows it)."""
        b = self.broker
        if b is None or not b.auto or self.halted:
            return
        ex = self.live_executor()
        live = self.live
        # the go cycles, the most profitable first (a pool is in one pending order at a
        # time: the best cycle through it gets it), then in key order (at 3,000 pools
        # ~6,000 of ~10,000 live, every tick); each pool's slot read once per call:
        # nothing here moves the graph
        if keys is None:
            todo = sorted((-sc.net_profit, k) for k, (_, sc) in live.items() if sc.go)
        else:
            todo = sorted(
                (-got[1].net_profit, k) for k in set(keys) if (got := live.get(k)) is not None
            )
        slot_of: dict[str, int] = {}
        for _, key in todo:
            got = live.get(key)
            if got is None or not got[1].go:
                continue
            o, sc = got
            # paper alone refuses a cycle pending, of another base or through a pool in
            # a pending order: not asked (its refusal, a text to build, is no one's when
            # the decision is automatic)
            if ex is None and (key[0] != b.base or b.is_pending(key) or b.busy(o.pools)):
                continue
            slots = self._pool_slots(o.pools, slot_of)
            fees = self.fees_of(key)  # what it was scored with
            # the live order first (it goes out in this call), then its paper shadow
            sent = ex is not None and ex.submit(o, sc, fees, slots, "auto") == ""
            shadow = b.decide(o, sc, fees, slot, slots, now_ns=now_ns) == ""
            if ex is not None and sent and shadow:
                self._link(b.seq, ex.seq)

    def live_executor(self) -> LiveExecutor | None:
        """The executor when the session trades live right now (armed, not halted)."""
        ex = self.executor
        if ex is None or self.mode != "LIVE" or not ex.armed:
            return None
        return ex

    def trade(self, base: str, pools: list[str], slot: int) -> str:
        """The operator's ``x`` on a cycle: an order now (paper; live too when live);
        why not, or ""."""
        b = self.broker
        entry = self.live.get((base, tuple(pools)))
        if b is None or entry is None:
            return "that cycle is gone"
        if self.held == REASON_FEEDS_STALLED:
            return "no order: the feeds have stalled (no new slot), the prices are stale"
        o, sc = entry
        slots = self.pool_slots(o.pools)
        fees = self.fees_of((base, tuple(pools)))  # what it was scored with
        ex = self.live_executor()
        if ex is None:
            return b.decide(o, sc, fees, slot, slots, "manual")
        # the live order first (it goes out in this call), then its paper shadow, which is
        # decided whether or not the live one went out (as an automatic order's is): what
        # paper decides is the same in a replay, which has no chain to send to
        why = ex.submit(o, sc, fees, slots, "manual")
        shadow = b.decide(o, sc, fees, slot, slots, "manual")
        if why:
            return f"live refused: {why}"
        if shadow == "":
            self._link(b.seq, ex.seq)
        return ""

    def _link(self, seq: int, live_seq: int) -> None:
        """Paper order ``seq`` shadows live order ``live_seq`` (through ``on_link``, which
        journals it, when the session listens)."""
        if self.on_link is not None:
            self.on_link(seq, live_seq)
        elif self.broker is not None:
            self.broker.link(seq, live_seq)

    def kill(self) -> int:
        """Kill switch: back to paper, no more automatic orders, pending ones cancelled
        (live orders not yet sent are never sent); how many were cancelled."""
        self.halted = True
        self.mode = "PAPER"
        n = self.broker.cancel_all() if self.broker is not None else 0
        if self.executor is not None:
            n += self.executor.kill()
        return n

    def resume(self) -> None:
        """Automatic orders again after the kill switch."""
        self.halted = False

    def to_paper(self) -> None:
        """Live -> paper (immediate): live orders not yet sent are cancelled."""
        self.mode = "PAPER"
        if self.executor is not None:
            self.executor.disarm("back to paper")

    def live_checks(self) -> list[str]:
        """The guard rails, as the live confirmation screen lists them."""
        if self.executor is None:
            return [
                "✗ this session has no live configuration (paper only): start it with "
                "--keypair, --send-rpc, --max-trade and --max-day"
            ]
        return self.executor.checks()

    # ------------------------------------------------------------ what the screen shows
    def snapshot(
        self,
        *,
        seed: int,
        slot: int,
        updates: int,
        updates_per_s: float,
        errors: int,
        source: str,
        kind: str,
        feeds: list[FeedHealth] | None = None,
        note: str = "",
        session_id: str = "",
        prices: list[PriceRow] | None = None,
        fee: FeeView | None = None,
        verdict: Verdict | None = None,
        names: TokenBook | None = None,
        mids: dict[tuple[str, str], float] | None = None,
        commitment: str = "",
        coverage: dict[str, int] | None = None,
        endpoints: int = 0,
        book: PriceBook | None = None,
        rivals: RivalsView | None = None,
        props: PropAmmBook | None = None,
    ) -> Snapshot:
        """The screen's view of this evaluator's state, with the session's own facts
        (its clock's counters, feeds, health, prices) as given."""
        # best net first; a cycle whose fees could not be converted (its net not known)
        # after those whose net is known
        # (``nsmallest``: what ``sorted(...)[:MAX_ROWS]`` gives, without sorting the
        # ~10,000 live cycles a mainnet-size market holds; then by base and pools, the
        # live key, not read again from each opportunity; a go score has no reason, so
        # its reasons, a list the engine builds, are not asked for)
        best = [
            v
            for _, v in heapq.nsmallest(
                MAX_ROWS,
                self.live.items(),
                key=_best_first,
            )
        ]
        first = self.first_seen
        ages = {
            o.base_mint + ":" + ",".join(o.pools): slot
            - first.get((o.base_mint, tuple(o.pools)), slot)
            for o, _ in best
        }
        timer = self.timer
        return Snapshot(
            seed=seed,
            backend=self.eng.BACKEND,
            shadow=(
                None
                if timer.other is None
                else f"{timer.other.BACKEND} (stateless only)"
                if timer.stateful_suspended
                else timer.other.BACKEND
            ),
            slot=slot,
            pools=len(self.graph),
            tokens=len(self.graph.tokens()),
            updates=updates,
            updates_per_s=updates_per_s,
            errors=errors,
            mismatches=timer.mismatch_count,
            opportunities=best,
            timings=timer.rows(),
            last_sweep=self.last_sweep,
            source=source,
            feeds=feeds if feeds is not None else [],
            note=note,
            kind=kind,
            session_id=session_id,
            prices=prices if prices is not None else [],
            fee=fee if fee is not None else FeeView(),
            ages=ages,
            fees_ctx=self.fees,
            costs={
                o.base_mint + ":" + ",".join(o.pools): c
                for o, _ in best
                if (c := self.costs.get((o.base_mint, tuple(o.pools)))) is not None
            },
            lamport_prices={b: self.lamport_prices.get(b) for b in self.graph.base_mints()},
            portfolio=self.broker.portfolio() if self.broker is not None else None,
            live=self.executor.view() if self.executor is not None else None,
            mode=self.mode,
            health=verdict.status if verdict is not None else "",
            problems=verdict.problems if verdict is not None else (),
            names=(names or TokenBook()).with_usd(mids or {}),
            commitment=commitment,
            coverage=coverage or {},
            endpoints=endpoints,
            labels=self._labels(best),
            unsendable=self._unsendable(best),
            books_of=self._books,
            refused=self._refused(),
            equity=self.equity.points(),
            price_series=(series := self._series(book, prices, best)),
            prop_series=props.series(series) if props is not None and props.pairs else {},
            rivals=rivals,
        )

    def shown_cu_limit(self) -> int:
        """The compute-unit limit the fee panel prices: the best cycle's (else
        ``fees.cu_limit`` when set, else a typical one)."""
        if self.live:
            key = min(self.live.items(), key=_best_first)[0]
            cost = self.costs.get(key)
            if cost is not None:
                return cost.fees.cu_limit
        return self.cu_override or DEFAULT_CU_LIMIT

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
        g = self.graph
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
        out = []
        for p in sorted(p for p, kind in self.pool_kinds.items() if kind in BOOK_KINDS):
            try:
                ladder = self.graph.ladder(p, BOOK_DEPTH)
            except EngineError:  # not assembled yet (its sides not received)
                continue
            if ladder is not None:
                out.append(ladder)
        return tuple(out)

    def _unsendable(self, best: list[tuple[Opportunity, Score]]) -> dict[str, str]:
        """Why each cycle shown could not be sent as one transaction, for those that
        could not (its size depends on its pools, tokens and the tip only: cached)."""
        out: dict[str, str] = {}
        for o, _ in best:
            if any(p not in self.pool_kinds for p in o.pools):
                continue  # a pool whose program is not known (yet): nothing to say, or cache
            why = self.sendable(o)
            if why:
                out[o.base_mint + ":" + ",".join(o.pools)] = why
        return out

    def _labels(self, best: list[tuple[Opportunity, Score]]) -> dict[str, str]:
        """The venue label of each pool of the cycles shown whose kind is known."""
        out: dict[str, str] = {}
        for o, _ in best:
            for p in o.pools:
                kind = self.pool_kinds.get(p)
                if kind is not None and p not in out and kind in venues.KINDS:
                    out[p] = venues.by_kind(kind).label
        return out


def _no_price(s: Score) -> bool:
    """Whether ``s`` could not convert its fees (its net is not known). A go score has
    no reason: its reasons, a list the engine builds, are not asked for."""
    return not s.go and REASON_NO_SOL_PRICE in s.reasons


def _best_first(item: tuple[OppKey, tuple[Opportunity, Score]]) -> tuple[bool, int, OppKey]:
    """A live cycle's rank, best first: its net known, then the highest net, then by
    base and pools (its key)."""
    score = item[1][1]
    return (_no_price(score), -score.net_profit, item[0])

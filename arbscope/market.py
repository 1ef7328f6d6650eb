"""The session's evaluator: :class:`Evaluator` (one per session, live or replayed, and
the in-process demo market of ``arbscope.demo``) holds the graphs and composes its parts —
the live cycles (:class:`~arbscope.opportunities.OpportunityBook`), what a cycle costs
(:class:`~arbscope.cycle_costs.CostModel`), whether it can be sent
(:class:`~arbscope.sendable.TxFit`) and the screen's snapshot
(:class:`~arbscope.snapshot.SnapshotBuilder`) — and makes the decisions: each pool that
changed re-evaluated (``score_touching``) and scored, the sweep, paper and live execution.

Every engine call goes through :class:`~arbscope.timing.KernelTimer` (active backend
timed, the other one shadowing). Same inputs, same cycles.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Unpack

from engine_rs.errors import EngineError
from engine_rs.records import Cycle, FeeContext, Opportunity, Score, ScorePolicy
from feeds.wire.units import TokenBook

from .cycle_costs import CostModel, CycleCost, WalletView
from .equity import EquityCurves
from .execution.live import LiveExecutor
from .execution.paper import Fill, PaperBroker
from .opportunities import (
    REASON_FEEDS_STALLED,
    REASON_UNCOVERED,
    OppKey,
    OpportunityBook,
    no_go,
)
from .ports import EventSink
from .sendable import TxFit
from .snapshot import Snapshot, SnapshotBuilder, SnapshotFacts, UpdateRate
from .solprice import LamportPrices
from .timing import KernelTimer

__all__ = [
    "DEFAULT_CU_LIMIT",
    "PAPER_BALANCE",
    "REASON_FEEDS_STALLED",
    "REASON_UNCOVERED",
    "CycleCost",
    "Evaluator",
    "OppKey",
    "Snapshot",
    "UpdateRate",
    "WalletView",
]

PAPER_BALANCE = 10**12  # base units a paper session starts with
DEFAULT_CU_LIMIT = 300_000  # the fee panel's limit while no cycle is shown


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
        self._wallet_seen: tuple[bool, int] = (False, 0)  # the executor's, when last scored
        # the live wallet's token accounts as the cycles are scored with them: (armed, its
        # base, {mint: the account exists}); the executor's, or a replay's journaled copy
        self.wallet: WalletView = (False, "", {})
        # each pool's program, when the feed knows it (what a transaction would need)
        self.pool_kinds: dict[str, str] = pool_kinds if pool_kinds is not None else {}
        # the parts: what a cycle costs (reading the attributes above), whether it can
        # be sent, the live cycles, the screen's snapshot
        self.costing = CostModel(self)
        self.fit = TxFit(self)
        self.book = OpportunityBook()
        self.screen = SnapshotBuilder(self)
        # the book's own dicts (never replaced): key -> (opportunity, score), key -> its
        # cost as it was scored, key -> the slot it appeared in
        self.live = self.book.live
        self.costs = self.book.costs
        self.first_seen = self.book.first_seen
        # the pools no endpoint covers (``set_uncovered``): their cycles are no-go
        self.uncovered: frozenset[str] = frozenset()
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

    def cost(self, o: Opportunity) -> CycleCost:
        """What ``o``'s transaction costs now (:meth:`CostModel.cost
        <arbscope.cycle_costs.CostModel.cost>`)."""
        return self.costing.cost(o)

    def evaluate(
        self, pool_id: str, slot: int, piece: tuple[int, int] | None = None
    ) -> list[OppKey]:
        """Re-evaluate every cycle through ``pool_id`` and score the ones with a profit
        (or sized without ticks they needed: shown as ``ticks_missing``); the live ones'
        keys. One engine call (``score_touching``) re-sizes every cycle through the pool,
        names only the live ones and prices each: its compute-unit budget and its score
        (what :meth:`cost` and the scorer give, the pricer told what they depend on); a
        live cycle through the pool that did not come back is dropped. ``piece`` ``(start,
        length)``: only the cycles at those positions of the pool's (``score_touching``'s
        canonical order), none dropped (the pool's last piece's caller drops what no piece
        entered: :meth:`OpportunityBook.drop_stale`). (EngineError, and UnknownPoolError
        for a pool not in the graph, propagate: the caller counts.)"""
        costing, graphs = self.costing, self.graphs
        costing.sync()
        got = self.timer.call(
            "score_touching",
            # every indexed length: the graph's own max_hops (the call's default is 4)
            lambda m: graphs[m.BACKEND].score_touching(
                pool_id, costing.pricer(m), graphs[m.BACKEND].max_hops, piece
            ),
            detail=pool_id,
        )
        keys, found = self.book.enter(
            pool_id, got, slot, costing.scored, self.uncovered, self.held, drop=piece is None
        )
        self.found += found
        return keys

    def rescore(self) -> None:
        """Score every live cycle again with what its transaction costs now (live was
        armed, or the wallet's token accounts changed: the accounts it would create)."""
        for key, (o, _) in sorted(self.live.items()):
            cost = self.cost(o)
            self.book.put(key, o, self._score(o, cost.fees, key))
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
        self.book.drop_pool(pool_id)

    def fees_of(self, key: OppKey) -> FeeContext:
        """The fee context the live cycle ``key`` was scored with."""
        return self.book.fees_of(key, self.fees)

    def _score(self, o: Opportunity, fees: FeeContext, key: object) -> Score:
        score: Score = self.timer.call("score", lambda m: m.score(o, fees, self.policy), detail=key)
        if self.uncovered and not self.uncovered.isdisjoint(o.pools):
            score = no_go(score, REASON_UNCOVERED, first=True)
        return no_go(score, self.held) if self.held else score

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
        live, costs = self.live, self.costs
        for key in sorted(self.book.keys_through(moved)):
            # with the cost it was scored with (the engine's budget of its steps): its
            # verdict moves with the pool's coverage alone, and back where it was
            o = live[key][0]
            cost = costs.get(key) or self.cost(o)
            self.book.put(key, o, self._score(o, cost.fees, key))
        return True

    def sweep(self) -> None:
        """The safety net: a full negative-cycle search (warm-started, so mirrored)."""
        self.last_sweep = self.timer.call(
            "find_negative_cycle",
            lambda m: self.graphs[m.BACKEND].find_negative_cycle(),
            mirror=True,  # warm-started: the result depends on the earlier sweeps
        )

    def sendable(self, opp: Any) -> str:
        """Why ``opp`` cannot be sent ("" when it can: :meth:`TxFit.sendable
        <arbscope.sendable.TxFit.sendable>`)."""
        return self.fit.sendable(opp)

    def exact_hops(self, opp: Any) -> list[bool]:
        """Which hops of ``opp`` get exactly their quote (:meth:`TxFit.exact_hops
        <arbscope.sendable.TxFit.exact_hops>`)."""
        return self.fit.exact_hops(opp)

    def pool_slots(self, pools: list[str], known: dict[str, int] | None = None) -> tuple[int, ...]:
        """The slot of each pool's last update (-1: not in the graph); each pool's read
        kept in ``known`` when given (the graph unchanged between calls)."""
        if known is None:
            known = {}
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

    def execute(
        self, slot: int, now_ns: int = 0, sink: EventSink | None = None, decide: bool = True
    ) -> list[Fill]:
        """Fill the paper orders that are due, then (``decide``) :meth:`decide_turn`.
        Fills (``fill`` events) go to ``sink`` (the journal's recorder, a replay's digest)
        when there is one; returns them."""
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
        if decide:
            self.decide_turn(slot, now_ns)
        return fills

    def decide_turn(self, slot: int, now_ns: int = 0) -> None:
        """A turn's decisions: (auto mode, not halted) on every cycle the scorer says go
        for, then the live orders' curve."""
        if self.broker is None:
            return
        self.decide(slot, now_ns)
        executor = self.executor  # after the decisions: a live order waits for nothing
        if executor is not None and (executor.armed or self.equity.drawing_live):
            self.equity.live_orders(executor.view(), now_ns, slot)

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
        # paper alone refuses a cycle pending, of another base or through a pool in a
        # pending order: not asked (its refusal, a text to build, is no one's when the
        # decision is automatic), and left out before the sort (what the call queues
        # only adds pending cycles and busy pools: one refused at the start would be
        # refused where it comes); the key's pools are read, not the opportunity's
        free = b.free if ex is None else None
        # the go cycles free_go found (paper alone, every live cycle): live, go, of the
        # base and not pending each; a decision here only makes pools busy, so of them
        # only that is asked again (not ~11,000 lookups and key hashes a turn at 3,000
        # pools for the ~200 decided)
        busy = b.busy_pools if keys is None and free is not None else None
        if keys is None:
            if free is None:
                todo = sorted((-sc.net_profit, k) for k, (_, sc) in live.items() if sc.go)
            else:
                todo = sorted(b.free_go(live))
        else:
            todo = sorted(
                (-got[1].net_profit, k) for k in set(keys) if (got := live.get(k)) is not None
            )
        slot_of: dict[str, int] = {}
        for _, key in todo:
            if busy is not None:
                if not busy.isdisjoint(key[1]):
                    continue
                o, sc = live[key]
            else:
                got = live.get(key)
                if got is None or not got[1].go:
                    continue
                if free is not None and not free(key):
                    continue
                o, sc = got
            slots = self.pool_slots(o.pools, slot_of)
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
    def snapshot(self, **facts: Unpack[SnapshotFacts]) -> Snapshot:
        """The screen's view of this evaluator's state, with the session's own facts
        (its clock's counters, feeds, health, prices) as given."""
        return self.screen.build(facts)

    def shown_cu_limit(self) -> int:
        """The compute-unit limit the fee panel prices: the best cycle's (else
        ``fees.cu_limit`` when set, else a typical one)."""
        key = self.book.best_key()
        if key is not None:
            cost = self.costs.get(key)
            if cost is not None:
                return cost.fees.cu_limit
        return self.cu_override or DEFAULT_CU_LIMIT

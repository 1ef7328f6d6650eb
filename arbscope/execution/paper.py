"""Paper trading that does not lie: a decision is filled ``latency_ticks`` session ticks
later against the pools' state *then* (what a transaction sent now would meet), with
the exact AMM curves (``PoolGraph.quote``), so slippage is real; each attempt pays the
base fee, the priority fee (compute-unit limit x price at decision time) and the tip —
once, and also when it fails, as a failed transaction does on chain.

Accounting (base token units; lamports for the fee payer):
- ``base_balance = initial + sum(out - in)`` over the fills that went through;
- ``lamports = initial_lamports - sum(fee_lamports)`` over every attempt;
- ``pnl = sum(out - in) - sum(fees_in_base)``: fees converted to the base token at the
  cycle's own rates by the scorer, counted once;
- the equity curve is ``initial + pnl`` after each attempt.

A cycle is traded again only after one of its pools changed (paper fills do not move the
local pools, so the same state would be "arbitraged" forever).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine_rs.errors import EngineError
from feeds.wire.units import TokenBook

BASE_FEE_PER_SIGNATURE = 5_000


@dataclass(frozen=True, slots=True)
class Order:
    seq: int
    key: tuple[str, tuple[str, ...]]
    opp: Any  # Opportunity at decision time
    score: Any  # its Score
    fee_lamports: int
    slot: int
    due_tick: int
    trigger: str  # "auto" | "manual"


@dataclass(frozen=True, slots=True)
class Fill:
    """One paper attempt, as journaled (``fill`` events) and shown."""

    seq: int
    trigger: str
    slot_decided: int
    slot_filled: int
    base: str
    tokens: list[str]
    pools: list[str]
    amount_in: int
    expected_out: int
    amount_out: int  # 0 when it failed
    hop_amounts: list[int]
    fee_lamports: int
    fees_in_base: int
    pnl: int  # amount_out - amount_in - fees_in_base (just -fees_in_base when failed)
    ok: bool
    reason: str  # why it failed ("" when filled)

    def payload(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "mode": "paper", "trigger": self.trigger,
            "slot_decided": self.slot_decided, "slot": self.slot_filled, "base": self.base,
            "path": self.tokens, "pools": self.pools, "amount_in": self.amount_in,
            "expected_out": self.expected_out, "amount_out": self.amount_out,
            "hop_amounts": self.hop_amounts, "fee_lamports": self.fee_lamports,
            "fees": self.fees_in_base, "profit": self.pnl, "ok": self.ok,
            "status": "filled" if self.ok else self.reason,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Portfolio:
    """What the portfolio panel shows."""

    base: str
    balances: dict[str, int]
    lamports: int
    fills: int  # attempts
    wins: int  # filled with pnl > 0
    failed: int
    pnl: int
    fees: int  # in base units
    equity: tuple[int, ...]
    pending: int
    last: tuple[Fill, ...] = ()

    @property
    def hit_rate(self) -> float:
        return self.wins / self.fills if self.fills else 0.0


@dataclass
class PaperBroker:
    """Paper orders for cycles through ``base`` (see module doc)."""

    base: str
    balance: int  # initial base-token balance
    lamports: int = 10_000_000_000  # the fee payer: 10 SOL
    latency_ticks: int = 1
    max_slippage_bps: float = 50.0
    max_trade: int | None = None  # per-trade cap on amount_in (base units)
    tip_lamports: int = 0
    auto: bool = True
    signatures: int = 1
    base_balance: int = field(init=False)
    _lamports: int = field(init=False)
    pending: list[Order] = field(default_factory=list)
    fills: deque[Fill] = field(default_factory=lambda: deque(maxlen=50))
    attempts: int = 0
    wins: int = 0
    failed: int = 0
    pnl: int = 0
    fees: int = 0
    equity: deque[int] = field(default_factory=lambda: deque(maxlen=200))
    ticks: int = 0
    seq: int = 0
    _traded: dict[tuple[str, tuple[str, ...]], tuple[int, ...]] = field(default_factory=dict)
    # why a cycle could not be sent as one transaction ("" when it could): paper refuses
    # what live would have to refuse (the session sets it when it knows the pools' programs)
    sendable: Callable[[Any], str] | None = None
    names: TokenBook = field(default_factory=TokenBook)  # the session's token names

    def __post_init__(self) -> None:
        self.base_balance = self.balance
        self._lamports = self.lamports
        self.equity.append(self.balance)

    # ------------------------------------------------------------ decisions
    def decide(self, opp: Any, score: Any, fees: Any, slot: int, pool_slots: tuple[int, ...],
               trigger: str = "auto") -> str:  # fmt: skip
        """Queue a paper order for ``opp`` (scored ``score``, fee context ``fees``); the
        reason it was not queued, or "" when it was."""
        key = (opp.base_mint, tuple(opp.pools))
        if opp.base_mint != self.base:
            return f"not a {self.names.symbol(self.base)} cycle"
        if any(o.key == key for o in self.pending):
            return "already pending"
        if trigger == "auto" and self._traded.get(key) == pool_slots:
            return "traded in this pool state"
        if opp.amount_in <= 0:
            return "no profitable size"
        if self.sendable is not None:
            why = self.sendable(opp)
            if why:
                return why
        amount = opp.amount_in
        if self.max_trade is not None and amount > self.max_trade:
            return f"size {amount:,} over the per-trade cap {self.max_trade:,}"
        if amount > self.base_balance:
            return f"size {amount:,} over the balance {self.base_balance:,}"
        fee = (BASE_FEE_PER_SIGNATURE * self.signatures + self.tip_lamports
               + fees.cu_limit * fees.cu_price_micro_lamports // 1_000_000)  # fmt: skip
        if fee > self._lamports:
            return "not enough lamports for the fees"
        self.seq += 1
        self.pending.append(Order(self.seq, key, opp, score, fee, slot,
                                  self.ticks + self.latency_ticks, trigger))  # fmt: skip
        self._traded[key] = pool_slots
        return ""

    def cancel_all(self) -> int:
        """The kill switch: drop every pending order; how many."""
        n = len(self.pending)
        self.pending.clear()
        return n

    # ------------------------------------------------------------ fills
    def on_tick(self, graph: Any, slot: int) -> list[Fill]:
        """Fill the orders whose latency has elapsed against the graph's current state."""
        self.ticks += 1
        due = [o for o in self.pending if o.due_tick <= self.ticks]
        if not due:
            return []
        self.pending = [o for o in self.pending if o.due_tick > self.ticks]
        return [self._fill(o, graph, slot) for o in due]

    def _fill(self, o: Order, graph: Any, slot: int) -> Fill:
        opp, sc = o.opp, o.score
        expected = opp.amount_out
        fees_in_base = sc.fees_in_base
        try:
            hops = graph.quote(opp.pools, opp.base_mint, opp.amount_in)
        except EngineError as exc:  # a pool left the graph
            hops, reason = [], f"pool gone: {exc}"
        else:
            reason = "" if hops else "a hop cannot fill"
        out = hops[-1] if hops else 0
        floor = expected * (10_000 - self.max_slippage_bps) / 10_000
        if hops and out < floor:
            reason = f"slippage: {out:,} < minimum {int(floor):,}"
        ok = not reason
        self._lamports -= o.fee_lamports
        self.fees += fees_in_base
        self.attempts += 1
        if ok:
            self.base_balance += out - opp.amount_in
            pnl = out - opp.amount_in - fees_in_base
            self.wins += pnl > 0
        else:
            pnl, out, hops = -fees_in_base, 0, []
            self.failed += 1
        self.pnl += pnl
        self.equity.append(self.balance + self.pnl)
        f = Fill(o.seq, o.trigger, o.slot, slot, opp.base_mint, list(opp.tokens),
                 list(opp.pools), opp.amount_in, expected, out, list(hops), o.fee_lamports,
                 fees_in_base, pnl, ok, reason)  # fmt: skip
        self.fills.append(f)
        return f

    @property
    def fee_lamports_paid(self) -> int:
        """Lamports the fee payer has spent on every attempt so far."""
        return self.lamports - self._lamports

    def portfolio(self) -> Portfolio:
        return Portfolio(
            self.base, {self.base: self.base_balance}, self._lamports, self.attempts,
            self.wins, self.failed, self.pnl, self.fees, tuple(self.equity),
            len(self.pending), tuple(self.fills)[-5:],
        )  # fmt: skip

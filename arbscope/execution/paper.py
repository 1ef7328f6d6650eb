"""Paper trading that tells the truth: a decision fills at the slot where its transaction
would land, against the pools as they are then — including the trades of the other
arbitrageurs racing for the same gap — with the exact curves (``PoolGraph.quote``), the
live executor's own hop rules, and the fees of a transaction that lands whether it fills
or fails.

**Landing.** A decision at slot *D* lands at *D + L*: ``L`` the most likely latency of
``latency_slots`` (chances of 1, 2, ... slots; the session sets it from the live orders'
measured decision-to-landing slots when there are some, else the configured one), plus
the slots it misses before it is sent (:meth:`PaperBroker.late_slots`): a decision made
late in its slot whose transaction — the live orders' median decision-to-send time after
it — leaves once the next slot has begun reaches the leader a slot later, and meets (or is
simulated against) that slot's changes first. The slot clock is the session's: when each
slot's first notice arrived and the slots' measured length. It is resolved once the
session has seen the slot after the landing slot.

**Racing.** The broker watches each pending order's pools: the state before the landing
slot (the one it was decided on, or a later one seen while none of its pools had changed
in the landing slot) is what the order meets when it lands first; the state after the
landing slot's changes, what it meets behind the others. When none of its pools changed
in the landing slot nobody raced it. When one did, it is ahead with ``p_ahead``: the
share of the competing priorities observed below its own — a bundle's tip per compute
unit (plus its price) against the block engines' landed tips (``tip_floor``: the
25th...99th percentiles, the competitors' taken to ask for 200,000 compute units,
Agave's per-instruction default), a transaction's compute-unit price against the recent
fees of the pools it writes (``fee_samples``) and against those landed tips as well (the
leader orders plain transactions and bundles by one priority: the lower of the two
shares). The prediction is the likelier side
(ahead when ``p_ahead`` > 1/2): what maximises agreement with what live would do, and
``p_ahead`` is kept with the fill.

**Filling** follows the live executor (``arbscope.execution.live``): hop *i* spends what hop
*i-1* was quoted to give, so a hop that gives less than its quote leaves the next one short
(it fails: the pool moved); each hop must give at least its quote less
``max_slippage_bps``, the last also the amount put in; an exact hop (``exact_hops``: an
order book's buy, which live asks for its quote's lots, fill-or-kill) gives its quote or
fails. Failures carry their reason
(``outbid``: a competitor landed first in the landing slot; ``pool moved``: the pools changed
before it landed; ``below the input``; ``pool gone``; ``a hop cannot fill``). Slippage at
landing (the quote at decision against the output at landing) is kept per fill.

Accounting (base token units; lamports for the fee payer):
- ``base_balance = initial + sum(out - in)`` over the fills that went through;
- ``lamports = initial_lamports - sum(fee_lamports)`` over every attempt;
- ``pnl = sum(out - in) - sum(fees_in_base)``: the fees the scorer priced the cycle's
  transaction at (its own compute-unit limit: what live requests), converted to the base
  token at the session's price of a lamport in it, counted once; a cycle whose base has no
  such price is not traded (its fees could not be counted);
- the equity curve is ``initial + pnl`` after each attempt.

**Our own orders.** Paper fills do not move the local pools, so two pending orders through
one pool would both be filled against the gap only the first could take. As the live
executor does, an order is refused while a pool of its cycle is in a pending order (its
quote would not hold once that order lands): "a pool of this cycle is in pending order #N".
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, deque
from collections.abc import Callable, Iterable, KeysView, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from engine_rs.errors import EngineError
from engine_rs.records import REASON_NO_SOL_PRICE
from feeds.wire.units import TokenBook

from ..events import Event, json_float, json_str

if TYPE_CHECKING:
    from ..opportunities import OppKey

BASE_FEE_PER_SIGNATURE = 5_000


COMPETITOR_CU = 200_000  # what a competitor's transaction is taken to ask for
TIP_PERCENTILES = (25, 50, 75, 95, 99)
RESOLVE_AFTER = 1  # slots past the landing slot before an order is resolved
_INT = {int}


@dataclass(frozen=True, slots=True)
class Order:
    seq: int
    key: tuple[str, tuple[str, ...]]
    opp: Any  # Opportunity at decision time
    score: Any  # its Score
    fee_lamports: int
    slot: int
    land_slot: int
    trigger: str  # "auto" | "manual"
    priority: int = 0  # its place in a slot's order (micro-lamports per CU, tip included)
    live_seq: int = 0  # the live order it shadows (0: none)


@dataclass(slots=True)
class _Watch:
    """What the broker saw of a pending order's pools: the hops quoted before its landing
    slot (``ahead``), after it (``behind``), and whether its pools changed in it."""

    ahead: list[int] | None = None
    ahead_error: str = ""
    behind: list[int] | None = None
    behind_error: str = ""
    raced: bool = False
    moved: bool = False  # its pools changed between decision and landing slot


@dataclass(frozen=True, slots=True)
class Fill(Event):
    """One paper attempt, as journaled (``fill`` events: an ``arbscope.events`` record)
    and shown."""

    KIND: ClassVar[str] = "fill"

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
    slot_landed: int = 0  # the slot its transaction would land in
    raced: bool = False  # a pool of it changed in that slot
    p_ahead: float = 1.0  # its chance to be ahead of the others there
    live_seq: int = 0  # the live order it shadows (0: none)

    @property
    def slippage_bps(self) -> float:
        """What landing cost against the quote at decision (bps of it; 0 when failed)."""
        if not self.ok or self.expected_out <= 0:
            return 0.0
        return (self.expected_out - self.amount_out) * 10_000 / self.expected_out

    def canonical_text(self) -> str | None:
        """``storage.recorder.canonical(self.payload())`` made without the dict and
        ``json.dumps`` (``arbscope.events.Opp.canonical_text``'s way: the digest and the
        journal take every fill's); None when a field is not of the type the broker gives
        (the caller then makes it from the payload): strings, ints, bools ``ok`` and
        ``raced``, a float or int ``p_ahead``."""
        if (
            not (
                int
                is type(self.seq)
                is type(self.slot_decided)
                is type(self.slot_filled)
                is type(self.amount_in)
                is type(self.expected_out)
                is type(self.amount_out)
                is type(self.fee_lamports)
                is type(self.fees_in_base)
                is type(self.pnl)
                is type(self.slot_landed)
                is type(self.live_seq)
            )
            or not (bool is type(self.ok) is type(self.raced))
            or not all(type(x) in (list, tuple) for x in (self.tokens, self.pools))
            or type(self.hop_amounts) not in (list, tuple)
            or not {*map(type, self.hop_amounts)} <= _INT
        ):
            return None
        p = self.p_ahead
        if type(p) is float:
            p_text = json_float(round(p, 6))
        elif type(p) is int:
            p_text = repr(p)
        else:
            return None
        try:
            base = json_str(self.base)
            path = ",".join(map(json_str, self.tokens))
            pools = ",".join(map(json_str, self.pools))
            status = json_str("filled" if self.ok else self.reason)
            trigger = json_str(self.trigger)
        except TypeError:  # (a field not of strings)
            return None
        hops = ",".join(map(repr, self.hop_amounts))
        return (
            f'{{"amount_in":{self.amount_in!r},"amount_out":{self.amount_out!r},'
            f'"base":{base},"expected_out":{self.expected_out!r},'
            f'"fee_lamports":{self.fee_lamports!r},"fees":{self.fees_in_base!r},'
            f'"hop_amounts":[{hops}],"live_seq":{self.live_seq!r},"mode":"paper",'
            f'"ok":{"true" if self.ok else "false"},"p_ahead":{p_text},"path":[{path}],'
            f'"pools":[{pools}],"profit":{self.pnl!r},'
            f'"raced":{"true" if self.raced else "false"},"seq":{self.seq!r},'
            f'"slot":{self.slot_filled!r},"slot_decided":{self.slot_decided!r},'
            f'"slot_landed":{self.slot_landed!r},"status":{status},"trigger":{trigger}}}'
        )

    def payload(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "mode": "paper",
            "trigger": self.trigger,
            "slot_decided": self.slot_decided,
            "slot": self.slot_filled,
            "base": self.base,
            "path": self.tokens,
            "pools": self.pools,
            "amount_in": self.amount_in,
            "expected_out": self.expected_out,
            "amount_out": self.amount_out,
            "hop_amounts": self.hop_amounts,
            "fee_lamports": self.fee_lamports,
            "fees": self.fees_in_base,
            "profit": self.pnl,
            "ok": self.ok,
            "status": "filled" if self.ok else self.reason,
            "slot_landed": self.slot_landed,
            "raced": self.raced,
            "p_ahead": round(self.p_ahead, 6),
            "live_seq": self.live_seq,
        }


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
    reasons: tuple[tuple[str, int], ...] = ()  # failures by reason, most first
    slippage_bps: float = 0.0  # the filled attempts' mean slippage at landing

    @property
    def hit_rate(self) -> float:
        return self.wins / self.fills if self.fills else 0.0


@dataclass
class PaperBroker:
    """Paper orders for cycles through ``base`` (see module doc)."""

    base: str
    balance: int  # initial base-token balance
    lamports: int = 10_000_000_000  # the fee payer: 10 SOL
    latency_slots: tuple[float, ...] = (1.0,)  # chances of landing 1, 2, ... slots later
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
    reasons: Counter[str] = field(default_factory=Counter)
    slippage_sum: float = 0.0
    _traded: dict[tuple[str, tuple[str, ...]], tuple[int, ...]] = field(default_factory=dict)
    _watch: dict[int, _Watch] = field(default_factory=dict)
    # the pending orders' keys (``pending`` holds one order per key: :meth:`decide`
    # refuses a second), kept with it by every method that changes it
    _pending_keys: set[tuple[str, tuple[str, ...]]] = field(init=False)
    # the pools of the pending orders (each pool in one at most: :meth:`decide` refuses a
    # second) and the order holding each, kept with ``pending``
    _busy: dict[str, int] = field(init=False)
    _landings: deque[int] = field(default_factory=lambda: deque(maxlen=200))
    # why a cycle could not be sent as one transaction ("" when it could): paper refuses
    # what live would have to refuse (the session sets it when it knows the pools' programs)
    sendable: Callable[[Any], str] | None = None
    # which hops get exactly their quote or fail (an order book's buy: live asks it for
    # its quote's lots, fill-or-kill); None: none (the session sets it)
    exact_hops: Callable[[Any], list[bool]] | None = None
    names: TokenBook = field(default_factory=TokenBook)  # the session's token names
    # what the others bid (the session's journaled inputs): the block engines' landed
    # tips (lamports at TIP_PERCENTILES), the recent compute-unit prices of written pools
    tip_floor: tuple[int, ...] = ()
    fee_samples: deque[int] = field(default_factory=lambda: deque(maxlen=150))
    # the slot clock (the session's): (slot, the ns its first notice arrived, the slots'
    # length in ns); with the live orders' decision-to-send time, whether a decision's
    # transaction still reaches the next slot's leader
    slot_clock: tuple[int, int, int] = (0, 0, 0)
    _sends: deque[int] = field(default_factory=lambda: deque(maxlen=200))
    send_ns: int = 0  # the median of the live orders' decision-to-send times (0: none yet)

    def __post_init__(self) -> None:
        self.base_balance = self.balance
        self._lamports = self.lamports
        self.equity.append(self.balance)
        self._keep(self.pending)

    def _keep(self, orders: list[Order]) -> None:
        """``orders`` are the pending ones: their keys and pools held with them."""
        self.pending = orders
        self._pending_keys = {o.key for o in orders}
        self._busy = {p: o.seq for o in orders for p in o.opp.pools}

    # ------------------------------------------------------------ decisions
    def decide(
        self,
        opp: Any,
        score: Any,
        fees: Any,
        slot: int,
        pool_slots: tuple[int, ...],
        trigger: str = "auto",
        now_ns: int = 0,
    ) -> str:
        """Queue a paper order for ``opp`` (scored ``score`` with the fee context
        ``fees``: its transaction pays ``score.total_fee_lamports``), decided at ``now_ns``
        (the session's clock; 0: unknown); the reason it was not queued, or "" when it
        was. The live order it shadows, if any, is set by :meth:`link`."""
        key = (opp.base_mint, tuple(opp.pools))
        if opp.base_mint != self.base:
            return f"not a {self.names.symbol(self.base)} cycle"
        if key in self._pending_keys:
            return "already pending"
        if trigger == "auto" and self._traded.get(key) == pool_slots:
            return "traded in this pool state"
        if opp.amount_in <= 0:
            return "no profitable size"
        busy = self.busy(opp.pools)
        if busy:
            return busy
        if REASON_NO_SOL_PRICE in score.reasons:
            return (
                f"no price of SOL in {self.names.symbol(opp.base_mint)}: its fees cannot be counted"
            )
        if self.sendable is not None:
            why = self.sendable(opp)
            if why:
                return why
        amount = opp.amount_in
        if self.max_trade is not None and amount > self.max_trade:
            return f"size {amount:,} over the per-trade cap {self.max_trade:,}"
        if amount > self.base_balance:
            return f"size {amount:,} over the balance {self.base_balance:,}"
        fee = int(score.total_fee_lamports)  # base + priority at its limit + tip
        if fee > self._lamports:
            return "not enough lamports for the fees"
        self.seq += 1
        priority = fees.cu_price_micro_lamports + (
            self.tip_lamports * 1_000_000 // max(1, fees.cu_limit)
        )
        land = slot + 1 + max(range(len(self.latency_slots)), key=self.latency_slots.__getitem__)
        land += self.late_slots(slot, now_ns)
        self.pending.append(Order(self.seq, key, opp, score, fee, slot, land, trigger, priority))
        self._pending_keys.add(key)
        for p in opp.pools:
            self._busy[p] = self.seq
        # the state it was decided on is the one it meets landing first, until a later
        # update of the decision's slot (or of one before its landing slot) says otherwise
        self._watch[self.seq] = _Watch(ahead=list(opp.hop_amounts))
        self._traded[key] = pool_slots
        return ""

    def is_pending(self, key: tuple[str, tuple[str, ...]]) -> bool:
        """Whether an order on the cycle ``key`` (base, pools) is pending: :meth:`decide`
        refuses it then, whatever else it is given."""
        return key in self._pending_keys

    def free(self, key: OppKey) -> bool:
        """Whether :meth:`decide` could queue an automatic order on the cycle ``key``
        (base, pools) for all its pending orders and base say: of its base, not pending,
        no pool in a pending order (what ``decide`` refuses first, checked without a
        text)."""
        return (
            key[0] == self.base
            and key not in self._pending_keys
            and self._busy.keys().isdisjoint(key[1])
        )

    @property
    def busy_pools(self) -> KeysView[str]:
        """The pools in pending orders (a live view: :meth:`decide` adds to it)."""
        return self._busy.keys()

    def free_go(self, live: Mapping[OppKey, tuple[Any, Any]]) -> list[tuple[int, OppKey]]:
        """The go cycles of ``live`` (key -> (opportunity, score)) that are :meth:`free`,
        as (-net profit, key): what an automatic decision asks about, in one pass with the
        check inline (~15,000 live cycles at 3,000 pools, every turn)."""
        base, pending, busy = self.base, self._pending_keys, self._busy.keys()
        # (the cheapest test first: a slot's read; the key's hash, the dearest, last)
        return [
            (-sc.net_profit, k)
            for k, (_, sc) in live.items()
            if sc.go and k[0] == base and busy.isdisjoint(k[1]) and k not in pending
        ]

    def busy(self, pools: Iterable[str]) -> str:
        """Why an order through ``pools`` is refused for a pending order's sake (module
        doc: a pool in it), or ""."""
        busy = self._busy
        if busy:
            for p in pools:
                seq = busy.get(p)
                if seq is not None:
                    return f"a pool of this cycle is in pending order #{seq}"
        return ""

    def late_slots(self, slot: int, now_ns: int) -> int:
        """The slots a decision at ``now_ns`` in ``slot`` misses before its transaction
        is sent: the time since the slot's first notice plus the live orders' median
        decision-to-send time, in slot lengths. 0 while any of them is unknown."""
        seen, t_ns, length = self.slot_clock
        if not (self.send_ns and now_ns and length > 0 and seen == slot and now_ns >= t_ns):
            return 0
        return (now_ns - t_ns + self.send_ns) // length

    def observe_landing(self, slots: int, send_ns: int = 0) -> None:
        """A live order landed ``slots`` after its decision, sent ``send_ns`` after it:
        paper's latency follows the live orders' measured distribution (the last 200)
        and their median decision-to-send time."""
        if send_ns > 0:
            self._sends.append(send_ns)
            xs = sorted(self._sends)
            self.send_ns = xs[len(xs) // 2]
        if slots < 1:
            return
        self._landings.append(slots)
        counts = Counter(self._landings)
        top = max(counts)
        n = len(self._landings)
        self.latency_slots = tuple(counts.get(k, 0) / n for k in range(1, top + 1))

    def link(self, seq: int, live_seq: int) -> None:
        """Mark pending paper order ``seq`` as the shadow of live order ``live_seq``."""
        self.pending = [replace(o, live_seq=live_seq) if o.seq == seq else o for o in self.pending]

    def cancel_all(self) -> int:
        """The kill switch: drop every pending order; how many."""
        n = len(self.pending)
        self._keep([])
        self._watch.clear()
        return n

    def p_ahead(self, priority: int) -> float:
        """The chance of an order of ``priority`` to be ahead of a competing one: the share
        of the observed competing priorities below it (equal ones count half). A bundle
        races the landed bundles (the tip floor); a plain transaction races the plain ones
        (the fee samples) and the bundles too — the leader orders both by priority, a
        bundle's its tip per compute unit — so it is ahead only as often as it is ahead of
        both."""
        shares = []
        if self.tip_floor:
            others = [t * 1_000_000 // COMPETITOR_CU for t in self.tip_floor]
            shares.append(_share_below(priority, others, TIP_PERCENTILES))
            if self.tip_lamports > 0:
                return shares[0]
        if self.fee_samples:
            xs = sorted(self.fee_samples)
            lo = bisect_left(xs, priority)  # how many are below it; then the equal ones
            below = lo + 0.5 * (bisect_right(xs, priority, lo) - lo)
            shares.append(below / len(xs))
        return min(shares) if shares else 1.0  # nothing observed: nobody to be behind

    # ------------------------------------------------------------ fills
    def on_tick(self, graph: Any, slot: int) -> list[Fill]:
        """Watch the pending orders' pools at the session's slot ``slot``, and fill those
        whose landing slot has passed against the state they would have met."""
        self.ticks += 1
        out: list[Fill] = []
        keep: list[Order] = []
        for o in self.pending:
            w = self._watch.setdefault(o.seq, _Watch())
            pool_slots = _slots(graph, o.opp.pools)
            newest = max(pool_slots)
            if newest < o.land_slot:  # its pools as it would meet them landing first
                w.ahead, w.ahead_error = self._hops(graph, o)
                w.moved = w.moved or newest > o.slot
            elif newest == o.land_slot:  # changed in its landing slot: someone raced it
                w.raced = True
                w.behind, w.behind_error = self._hops(graph, o)
            elif not w.raced and any(s == o.land_slot for s in pool_slots):
                w.raced = True
            if slot <= o.land_slot + RESOLVE_AFTER - 1:
                keep.append(o)
                continue
            if w.behind is None and not w.behind_error:
                w.behind, w.behind_error = self._hops(graph, o)
            out.append(self._fill(o, w, slot))
            self._watch.pop(o.seq, None)
        if len(keep) != len(self.pending):
            self._keep(keep)
        return out

    def _hops(self, graph: Any, o: Order) -> tuple[list[int] | None, str]:
        """Each hop's output as the live executor's transaction would get it: hop *i*
        spends what hop *i-1* was quoted to give (the decision's hops); or why not."""
        opp = o.opp
        got: list[int] = [opp.amount_in]
        tokens, amounts = opp.tokens, opp.hop_amounts  # (read once: the engine's are copies)
        for i, pool in enumerate(opp.pools):
            try:
                hops = graph.quote([pool], tokens[i], amounts[i])
            except EngineError as exc:
                return None, f"pool gone: {exc}"
            if not hops:
                return None, "a hop cannot fill"
            got.append(int(hops[-1]))
        return got, ""

    def _fill(self, o: Order, w: _Watch, slot: int) -> Fill:
        opp, sc = o.opp, o.score
        expected = opp.amount_out
        fees_in_base = sc.fees_in_base
        p = self.p_ahead(o.priority) if w.raced else 1.0
        first = not w.raced or p > 0.5
        got, err = (w.ahead, w.ahead_error) if first else (w.behind, w.behind_error)
        if got is None and not err and first:  # never seen before its landing slot
            got, err = w.behind, w.behind_error
        reason = err
        out = 0
        if got is not None:
            exact = self.exact_hops(opp) if self.exact_hops is not None else None
            quoted = list(opp.hop_amounts)  # (neither changes it)
            got = _exactly(quoted, got, exact)
            reason = _hop_failure(quoted, got, opp.amount_in, self.max_slippage_bps, exact)
            if reason and not first:
                reason = "outbid: " + reason
            out = got[-1]
        ok = not reason
        self._lamports -= o.fee_lamports
        self.fees += fees_in_base
        self.attempts += 1
        hops = list(got) if got is not None and ok else []
        if ok:
            self.base_balance += out - opp.amount_in
            pnl = out - opp.amount_in - fees_in_base
            self.wins += pnl > 0
            self.slippage_sum += (expected - out) * 10_000 / expected if expected > 0 else 0.0
        else:
            pnl, out = -fees_in_base, 0
            self.failed += 1
            self.reasons[_reason_class(reason)] += 1
        self.pnl += pnl
        self.equity.append(self.balance + self.pnl)
        f = Fill(
            o.seq,
            o.trigger,
            o.slot,
            slot,
            opp.base_mint,
            list(opp.tokens),
            list(opp.pools),
            opp.amount_in,
            expected,
            out,
            hops,
            o.fee_lamports,
            fees_in_base,
            pnl,
            ok,
            reason,
            o.land_slot,
            w.raced,
            p,
            o.live_seq,
        )
        self.fills.append(f)
        return f

    @property
    def fee_lamports_paid(self) -> int:
        """Lamports the fee payer has spent on every attempt so far."""
        return self.lamports - self._lamports

    def portfolio(self) -> Portfolio:
        filled = self.attempts - self.failed
        return Portfolio(
            self.base,
            {self.base: self.base_balance},
            self._lamports,
            self.attempts,
            self.wins,
            self.failed,
            self.pnl,
            self.fees,
            tuple(self.equity),
            len(self.pending),
            tuple(self.fills)[-5:],
            tuple(self.reasons.most_common()),
            self.slippage_sum / filled if filled else 0.0,
        )


def _slots(graph: Any, pools: list[str]) -> list[int]:
    """The slot of each pool's last update (-1: not in the graph)."""
    out = []
    for p in pools:
        try:
            out.append(int(graph.pool_rate(p)[4]))
        except EngineError:
            out.append(-1)
    return out


def _exactly(quoted: list[int], got: list[int], exact: list[bool] | None) -> list[int]:
    """The hop outputs with each exact hop's (``exact[i-1]``) held to its quote: it buys
    the quote's lots when it can (what is left of its input stays), else its shortfall."""
    if not exact:
        return got
    return [g if i == 0 or not exact[i - 1] else min(g, quoted[i]) for i, g in enumerate(got)]


def _hop_failure(
    quoted: list[int], got: list[int], amount_in: int, bps: float, exact: list[bool] | None = None
) -> str:
    """Why live's transaction would fail with these hop outputs ("" when it fills): each
    hop under its quote less ``bps`` (an exact hop, ``exact[i-1]``: under its quote),
    an earlier hop short of what the next one spends, the last under the amount put in."""
    n = len(quoted) - 1
    for i in range(1, n + 1):
        tolerated = quoted[i] if exact and exact[i - 1] else quoted[i] * (10_000 - bps) // 10_000
        floor = max(tolerated, amount_in) if i == n else tolerated
        if got[i] < floor:
            if i == n and got[i] >= tolerated:
                return f"below the input: {got[i]:,} < {amount_in:,}"
            return f"slippage: hop {i} gives {got[i]:,} < minimum {int(floor):,}"
        if i < n and got[i] < quoted[i]:  # the next hop spends the quote: it is short
            return f"pool moved: hop {i} gives {got[i]:,} < the {quoted[i]:,} hop {i + 1} spends"
    return ""


def _reason_class(reason: str) -> str:
    """A failure's class for the panel: the words before the first colon."""
    return reason.split(":", 1)[0] or "failed"


def _share_below(x: int, points: list[int], pct: tuple[int, ...]) -> float:
    """The share of a distribution below ``x``, from its values ``points`` at the
    percentiles ``pct`` (linear between them; 0 below the first's half, 1 above the last)."""
    if x < points[0]:
        return pct[0] / 100 * (x / points[0] if points[0] > 0 else 0.0)
    for (p0, v0), (p1, v1) in zip(
        zip(pct, points, strict=True), zip(pct[1:], points[1:], strict=True), strict=False
    ):
        if x < v1:
            return (p0 + (p1 - p0) * ((x - v0) / (v1 - v0) if v1 > v0 else 1.0)) / 100
    return 1.0 if x > points[-1] else pct[-1] / 100

"""Rivals: the arbitrage others land on the watched pools, and how arbscope compares.

Every transaction that touched a watched pool (``feeds.clients.transactions``: fetched for
a logs notification, or read from a gRPC update; journaled as a ``TRANSACTION`` input) is
classified by ``feeds.rivals.classify``. A rival arbitrage (or a failed attempt) is then
set against what this session held of the same pools, slot by slot:

- **held**: a cycle of ours through the same pools (the same set; else one that contains
  all of them, or that they contain) was live at or before the rival's slot;
- **lead**: the rival's slot minus the first slot of the latest run of slots in which we
  held it (positive: we saw the dislocation that many slots before they landed; ``None``:
  we never held it);
- **verdict**: what we decided at the last evaluation at or before their slot: ``GO``,
  or the first failed check;
- **ahead**: whether our order would have been ahead of theirs in the slot's order had we
  sent it (a GO held before their slot, and our priority — tip per requested compute unit
  plus the compute-unit price, as the leader orders them — above theirs): the landing
  model's estimate, not a fact;
- **traded**: a paper or live order of ours on those pools decided in that run.

The outcome sums it up: ``ours`` (we traded it), ``speed`` (we called GO and did not get
there first: lost to speed), ``no-go: <check>`` (the threshold that cost us), ``unseen``
(we did not hold the cycle: a pool we do not watch, or a gap our graph never showed).

Each rival also keeps what its detail screen shows: its hops as they ran (venue, pool,
mints, amounts), its fee split and compute budget, our side of it (the slot our run of
holding it began, its first GO, our bid, our last score's net) and **our state of its
pools**: each pool's spot rate after fees in the hop's direction, as the session's graph
held it when the transaction was classified, with the slot of that state (before theirs:
what we saw when they landed; from theirs on: their trade may be in it).

Everything here is computed from journaled inputs and the session's own state at its
ticks, so a replay builds the same book; each comparison is a derived event (``rival``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import tomllib

from feeds.rivals import RivalTx, SwapLeg
from feeds.venues.ids import table as venue_table

from .events import Event

OppKey = tuple[str, tuple[str, ...]]  # (base mint, pools), as arbscope.market keys a cycle
# a pool's state as the graph holds it (``PoolGraph.pool_rate``): (mint a, mint b, rate a
# -> b, rate b -> a, the slot of the state); None: the pool is not in the graph
PoolState = tuple[str, str, float, float, int]
StateOf = Callable[[str], PoolState | None]

WINDOW_SLOTS = 9_000  # the totals' window: about an hour of slots
LATEST = 200  # the latest rival arbitrages kept for the list
# the superseded live entries freed a step (RivalBook.release): each may be the last
# reference to an opportunity and its score, the engine's objects (~1-2 µs a free on a
# busy heap)
RELEASE_SLICE = 2_000
# the copies of the live entries that wait to be freed at most (older: freed whole)
DYING_MOST = 2


class _Said(NamedTuple):
    """What :class:`_Held` reads of a gone cycle's last score (kept instead of the
    score: a cycle no longer live is held for the window, up to an hour, and the engine's
    score and its opportunity with it were most of the book's memory and of what the
    garbage collector walked; a tuple of numbers and text it does not walk at all)."""

    go: bool
    reasons: tuple[str, ...]  # its first failed check alone
    tip_lamports: int
    net_profit: int

    @classmethod
    def of(cls, score: Any) -> _Said:
        """What is read of ``score`` (an engine's ``Score``: a cycle goes once, from
        live, so its score is never a ``_Said`` already)."""
        reasons = score.reasons
        first = (str(reasons[0]),) if reasons else ()
        return cls(bool(score.go), first, int(score.tip_lamports), int(score.net_profit))


@dataclass(slots=True)
class _Price:
    """What the live cycles share, set once a turn (a write to each of ~12,000 held the
    turn's end at 3,000 pools): the CU price (``value``) and the live entries as the
    last observe saw them (``entries``: key -> (opportunity, score), what each live
    cycle's score is read from). A gone cycle keeps a cell of its own, fixed at the
    price it was last live with (``entries`` None: its score is its own, a
    :class:`_Said`)."""

    value: int
    entries: Mapping[OppKey, tuple[Any, Any]] | None = None


@dataclass(slots=True)
class _Held:
    """One of our cycles as the rival book remembers it."""

    pools: frozenset[str]
    since: int  # the first slot of the current (or latest) run of slots it was live
    last: int  # the last slot it was live (kept from when it is no longer live)
    live: bool
    first_go: int | None  # the first slot of this run it was GO
    # what its last score is read from, when asked (``verdict``, ``priority`` and
    # ``net_profit``: a rival on its pools, a few a second, where ~12,000 cycles are live
    # each tick): while live, the entry the last observe saw (the shared cell's
    # ``entries``); once gone, its last score (``said``: the engine's at first, what is
    # read of it, a :class:`_Said`, once ``RivalBook.release`` got to it)
    said: Any
    price: _Price
    cu_limit: int = 200_000
    traded: int | None = None  # the slot one of our orders on it was decided in this run
    key: OppKey = ("", ())  # the cycle's base mint and pools, in its order

    @property
    def score(self) -> Any:
        """Its last evaluation's score (an engine's ``Score`` while live, else a
        :class:`_Said`)."""
        said, entries = self.said, self.price.entries
        if said is not None or entries is None:
            return said
        return entries[self.key][1]

    @property
    def cu_price(self) -> int:
        """The CU price it was last observed with (the book's now, while live)."""
        return self.price.value

    @property
    def verdict(self) -> str:
        """ "GO" or the first failed check, at the last evaluation."""
        sc = self.score
        if sc.go:
            return "GO"
        reasons = sc.reasons
        return str(reasons[0]) if reasons else "no-go"

    @property
    def priority(self) -> int:
        """Our bid: tip per requested CU + CU price (micro-lamports)."""
        return int(self.score.tip_lamports) * 1_000_000 // self.cu_limit + self.cu_price

    @property
    def net_profit(self) -> int:
        """The last score's, in the base token."""
        return int(self.score.net_profit)


@dataclass(frozen=True, slots=True)
class RivalHop:
    """One hop of a rival arbitrage as it ran (``feeds.rivals.SwapLeg``: ``source`` says
    where its amounts come from; a mint "" or an amount None: not known), and our state
    of its pool: ``our_rate`` the spot rate after fees from ``mint_in`` to ``mint_out``
    (raw out per raw in) the session's graph held when the transaction was classified,
    ``state_slot`` the slot of that state (None: the pool is not in our graph, or the
    hop's mints are not its)."""

    venue: str
    pool: str
    mint_in: str
    mint_out: str
    amount_in: int | None
    amount_out: int | None
    source: str
    our_rate: float | None = None
    state_slot: int | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "pool": self.pool,
            "mint_in": self.mint_in,
            "mint_out": self.mint_out,
            "amount_in": self.amount_in,
            "amount_out": self.amount_out,
            "source": self.source,
            "our_rate": self.our_rate,
            "state_slot": self.state_slot,
        }


def hop_of(leg: SwapLeg, state_of: StateOf | None = None) -> RivalHop:
    """A classified leg as a :class:`RivalHop`, with our state of its pool when
    ``state_of`` (the graph's ``pool_rate``, None for a pool it does not hold) says it."""
    mint_in, mint_out = leg.mint_in or "", leg.mint_out or ""
    rate: float | None = None
    at: int | None = None
    state = state_of(leg.pool) if state_of is not None else None
    if state is not None:
        a, b, ab, ba, slot = state
        if (mint_in, mint_out) == (a, b):
            rate, at = ab, slot
        elif (mint_in, mint_out) == (b, a):
            rate, at = ba, slot
        if rate is not None and not math.isfinite(rate):
            rate = None  # a pool with no liquidity: no rate (and JSON has no NaN)
    return RivalHop(
        leg.venue, leg.pool, mint_in, mint_out, leg.amount_in, leg.amount_out, leg.source, rate, at
    )


@dataclass(frozen=True, slots=True)
class Rival(Event):
    """One rival arbitrage (or failed attempt) on our pools and how we compare
    (``rival``; the export's columns)."""

    KIND: ClassVar[str] = "rival"
    signature: str
    slot: int
    index: int | None
    signer: str
    landed: bool  # an arbitrage (True) or a failed attempt (False)
    base: str
    pools: Sequence[str]
    venues: Sequence[str]
    amount_in: int
    amount_out: int
    profit: int  # the cycle's gain in the base token, before the fee and tips (feeds.rivals)
    fee: int  # lamports: base + priority
    tip: int  # lamports to a Jito tip account
    priority: int  # their bid: tip per requested CU + CU price (micro-lamports)
    held: bool
    lead: int | None
    verdict: str
    ahead: bool | None
    traded: bool
    outcome: str
    # the detail screen's: the hops as they ran and our state of their pools, the fee
    # split and compute budget (``feeds.rivals.RivalTx``), and our side of the cycle: the
    # slot our run of holding it began and its first GO (None: never), our bid and our
    # last score's net profit (in ``our_base``) on ``our_pools`` (the cycle matched)
    hops: Sequence[RivalHop] = ()
    net: int | None = None
    base_fee: int = 0
    priority_fee: int = 0
    cu_limit: int = 0
    cu_price: int = 0
    tip_account: str = ""
    since: int | None = None
    first_go: int | None = None
    our_priority: int | None = None
    our_net: int | None = None
    our_base: str = ""
    our_pools: Sequence[str] = ()

    def payload(self) -> dict[str, Any]:
        return {
            "signature": self.signature,
            "slot": self.slot,
            "index": self.index,
            "signer": self.signer,
            "landed": self.landed,
            "base": self.base,
            "pools": list(self.pools),
            "venues": list(self.venues),
            "amount_in": self.amount_in,
            "amount_out": self.amount_out,
            "profit": self.profit,
            "fee": self.fee,
            "tip": self.tip,
            "priority": self.priority,
            "held": self.held,
            "lead": self.lead,
            "verdict": self.verdict,
            "ahead": self.ahead,
            "traded": self.traded,
            "outcome": self.outcome,
            "hops": [h.payload() for h in self.hops],
            "net": self.net,
            "base_fee": self.base_fee,
            "priority_fee": self.priority_fee,
            "cu_limit": self.cu_limit,
            "cu_price": self.cu_price,
            "tip_account": self.tip_account,
            "since": self.since,
            "first_go": self.first_go,
            "our_priority": self.our_priority,
            "our_net": self.our_net,
            "our_base": self.our_base,
            "our_pools": list(self.our_pools),
        }


@dataclass(slots=True)
class SignerTotals:
    """One signer's arbitrage on our pools in the window."""

    signer: str
    label: str
    landed: int = 0
    failed: int = 0
    profit: dict[str, int] = field(default_factory=dict)  # base mint -> raw units
    tips: int = 0


def load_labels(path: str | Path | None) -> dict[str, str]:
    """The labels file (TOML: ``<signer address> = "name"``; ``[labels]`` table or top
    level): signer -> name. ``None``: no labels. A file that cannot be read or holds
    anything else is a ``ValueError`` saying what and where."""
    if not path:
        return {}
    p = Path(path).expanduser()
    try:
        doc = tomllib.loads(p.read_text())
    except OSError as exc:
        raise ValueError(f"cannot read {p}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p} is not TOML: {exc}") from None
    table = doc.get("labels", doc)
    out: dict[str, str] = {}
    for k, v in table.items():
        if not isinstance(v, str):
            raise ValueError(f"{p}: {k}: expected a name (a string), got {type(v).__name__}")
        if not 32 <= len(k) <= 44:
            raise ValueError(f"{p}: {k!r} is not an address")
        out[k] = v
    return out


def venue_labels() -> dict[str, str]:
    """Each venue's short label on screen by its engine name (``orca_whirlpool`` ->
    ``wp``): how a rival's hops are named."""
    return {v.name: v.label for v in venue_table()}


def their_priority(tx: RivalTx) -> int:
    """A transaction's place in the leader's order: its tip per requested compute unit
    plus its compute-unit price (micro-lamports), as the simulator and Jito's auction
    order them."""
    limit = max(1, tx.cu_limit)
    return tx.tip * 1_000_000 // limit + tx.cu_price


@dataclass(frozen=True, slots=True)
class RivalsView:
    """What the Rivals panel shows: the latest rival arbitrages on our pools (newest
    first), the signers by profit in the window, the window's counts (theirs, ours), what
    was seen in all, our lead's quantiles, the signers' labels and each venue's short
    label (``orca_whirlpool`` -> ``wp``)."""

    latest: tuple[Rival, ...] = ()
    top: tuple[SignerTotals, ...] = ()
    theirs: int = 0
    ours: int = 0
    seen: int = 0
    arbitrages: int = 0
    failed: int = 0
    window_slots: int = WINDOW_SLOTS
    lead: tuple[tuple[float, int], ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    outcomes: Mapping[str, int] = field(default_factory=dict)
    venue_labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def our_share(self) -> float | None:
        """Ours / (ours + theirs) in the window; None when neither landed any."""
        n = self.theirs + self.ours
        return self.ours / n if n else None


class RivalBook:
    """See the module doc. ``labels``: signer -> name (the labels file); ``own``: our own
    signers (the live wallet), never a rival."""

    def __init__(
        self,
        labels: Mapping[str, str] | None = None,
        own: Iterable[str] = (),
        window_slots: int = WINDOW_SLOTS,
    ) -> None:
        self.labels = dict(labels or {})
        self.own = set(own)
        self.window_slots = window_slots
        self._held: dict[OppKey, _Held] = {}
        self._by_pool: dict[str, set[OppKey]] = {}
        # the cycles live at the last observe, each with the (opportunity, score) entry
        # it was observed with (a copy of the live dict then)
        self._entry: dict[OppKey, tuple[Any, Any]] = {}
        # the copies the last observes replaced, freed a slice a step (release): freeing
        # one whole held the turn's report for 40-60 ms at 3,000 pools, where most of
        # the ~35,000 entries were the last reference to an opportunity scored since
        self._dying: deque[dict[OppKey, tuple[Any, Any]]] = deque()
        # the cycles gone since release() last read their scores into a _Said (each
        # read is ~1.5 µs of the engine's getters: thousands in a report at 3,000 pools)
        self._unsaid: deque[_Held] = deque()
        # the live cycles not GO yet in their current run (``first_go`` None): what each
        # observe looks at for a first GO, not every live cycle
        self._not_go: set[OppKey] = set()
        # the cycles that came at the last observe whose _Held is not made (or begun
        # again) yet, with the slot and price they came with: made by release() a slice
        # a step (8,000 at once held a report for ~26 ms at 3,000 pools), or before
        # anything reads what the book holds (held(), a rival matched, a trade, forget)
        self._coming: dict[OppKey, tuple[int, _Price]] = {}
        self._coming_go: dict[OppKey, int] = {}  # a first GO of one not made yet
        self._observed: tuple[int, int] = (0, 0)  # the last observe's slot and CU price
        self._price = _Price(0)  # the live cycles' CU price (the last observe's)
        self._next_forget = 0
        self.latest: deque[Rival] = deque(maxlen=LATEST)
        self._window: deque[Rival] = deque()
        self._ours: deque[int] = deque()  # the slots our own arbitrage landed in (window)
        self.seen = 0  # transactions classified
        self.arbitrages = 0  # rival arbitrages landed on our pools
        self.failed = 0  # rival attempts that failed
        self.ours = 0  # arbitrages on our pools that were ours (our signer)
        self.outcomes: dict[str, int] = {}  # rival arbitrages landed, by outcome

    # ------------------------------------------------------------ our side
    def observe(
        self,
        slot: int,
        live: Mapping[OppKey, tuple[Any, Any]],
        cu_price: int,
        moved: AbstractSet[OppKey] | None = None,
        go: AbstractSet[OppKey] | None = None,
    ) -> None:
        """After a tick: the cycles live now (``Evaluator.live``: key -> (opportunity,
        score)), their verdicts and bids. No live cycle is looked up by its key unless it
        appeared, went or has not been GO yet in its run (a lookup hashes the key's
        nested tuple again, ~0.1 µs; a turn at 3,000 pools looked up each of ~15,000
        twice): the live entries are copied as they are (one C-level copy, which a live
        cycle's score is read from when a rival lands on its pools, a few a second), the
        cycles that appeared or went are found among ``moved`` by set differences (which
        reuse the hashes the sets and dicts keep: 1.5 ms for 12,700 moved, where a lookup
        of each took 5.5), and a first GO is looked for only among the live cycles not GO
        yet in their run. What came is made a slice a step (:meth:`release`).

        ``moved``: the keys that came into ``live`` or left it since the last call
        (``OpportunityBook.take_moved``, a superset of what differs): only they are set
        against the last call's. None: every live cycle is (two set differences over the
        ~15,000-30,000 live at 3,000 pools: 20-25 ms a call at the most).

        ``go``: the live keys whose score is GO (``OpportunityBook.go``), when the caller
        keeps them: a first GO is then found by one set intersection with the cycles not
        GO yet (thousands of them at 3,000 pools, each score read: ~16 ms a call). None:
        each of those cycles' score is read."""
        last_slot, last_price = self._observed
        now = self._price  # every live cycle's cell: set below, once
        old, held, not_go, coming = self._entry, self._held, self._not_go, self._coming
        if coming:  # what release() did not get to since the last call: made now
            self._make(len(coming))
        seen = dict(live)
        gone: Collection[OppKey]
        came: Collection[OppKey]
        if moved is None:
            gone = set(old).difference(seen) if old else ()
            came = set(seen).difference(old) if len(seen) != len(old) or gone else ()
        else:  # set operations: each key's hash kept by the set, none hashed again
            m = moved if isinstance(moved, (set, frozenset)) else set(moved)
            out = m.difference(seen)
            gone = out.difference(out.difference(old))  # out of it now, in it before
            came = m.difference(out).difference(old)  # in it now, not before
        if gone:
            was = _Price(last_price)  # (the price they were live with at the last call)
            not_go.difference_update(gone)
            unsaid = self._unsaid
            if unsaid:  # what release() did not get to since the last call: read now
                self._say(len(unsaid))
            for key in gone:
                h = held[key]
                h.live, h.last, h.price = False, last_slot, was  # (live last at the last call)
                h.said = old[key][1]  # (its score is final: read into a _Said by release)
                unsaid.append(h)
        if came:  # their _Held made (or begun again) by release(), a slice a step
            coming.update(dict.fromkeys(came, (slot, now)))
            not_go.update(came)
        # a first GO is looked for among the live cycles not GO yet in this run (each
        # appeared or came back in it, and none went: a subset of the live ones)
        first = not_go & go if go is not None else [k for k in not_go if seen[k][1].go]
        for key in first:
            if key in coming:
                self._coming_go[key] = slot
            else:
                held[key].first_go = slot
            not_go.discard(key)
        now.value, now.entries = cu_price, seen
        self._entry = seen
        if old:  # freed by release(), a slice a step (or whole, past DYING_MOST)
            self._dying.append(old)
            while len(self._dying) > DYING_MOST:
                self._dying.popleft()
        self._observed = (slot, cu_price)
        if slot >= self._next_forget:
            self._next_forget = slot + 1_000
            self._forget(slot - self.window_slots)

    def release(self, most: int = RELEASE_SLICE) -> int:
        """Free up to ``most`` of the live entries the last observes replaced (their
        opportunities and scores, where no one else holds them: what the opportunity
        book scored again since, or dropped); how many are left. The turn calls it at
        each of its steps, so no one step frees a whole turn's worth. First, the scores of
        the cycles gone since are read into what the book keeps of them (a
        :class:`_Said`), and the engine's let go."""
        most = self._say(self._make(most))
        dying = self._dying
        while dying and most > 0:
            d = dying[0]
            n = min(most, len(d))
            pop = d.popitem
            for _ in range(n):
                pop()
            most -= n
            if not d:
                dying.popleft()
        return len(self._coming) + len(self._unsaid) + sum(map(len, dying))

    def held(self) -> dict[OppKey, _Held]:
        """What the book holds of each cycle (read-only), every one that came made."""
        self._make(len(self._coming))
        return self._held

    def _make(self, most: int) -> int:
        """Make (or begin again) the _Held of up to ``most`` cycles that came; what is left
        of ``most``. In any order: each is made the same whenever it is."""
        coming, hold = self._coming, self._hold
        n = min(most, len(coming))
        pop = coming.popitem
        for _ in range(n):
            key, (slot, price) = pop()
            hold(key, slot, price)
        return most - n

    def _hold(self, key: OppKey, slot: int, price: _Price) -> None:
        """``key`` came at ``slot`` with the live cycles' ``price``: held from then."""
        back = self._held.get(key)
        if back is None:
            back = _Held(frozenset(key[1]), slot, slot, True, None, None, price, key=key)
            self._held[key] = back
            by_pool = self._by_pool
            for p in key[1]:
                keys = by_pool.get(p)
                if keys is None:
                    by_pool[p] = {key}
                else:
                    keys.add(key)
        else:  # a new run of slots
            back.since, back.first_go, back.traded, back.live = slot, None, None, True
            back.said, back.price = None, price
        if self._coming_go:
            back.first_go = self._coming_go.pop(key, None)

    def _say(self, most: int) -> int:
        """Read up to ``most`` gone cycles' scores into a :class:`_Said`, oldest first;
        what is left of ``most``."""
        unsaid = self._unsaid
        while unsaid and most > 0:
            h = unsaid.popleft()
            most -= 1
            if h.said is not None and type(h.said) is not _Said:
                h.said = _Said.of(h.said)  # (gone still: its engine score let go)
        return most

    def _forget(self, before: int) -> None:
        """Drop the cycles not held since ``before`` (older than any rival still in the
        window could be compared with)."""
        old = [k for k, h in self.held().items() if not h.live and h.last < before]
        for k in old:
            del self._held[k]
            for p in k[1]:
                ks = self._by_pool.get(p)
                if ks is not None:
                    ks.discard(k)
                    if not ks:
                        del self._by_pool[p]

    def traded(self, pools: Sequence[str], base: str, slot: int) -> None:
        """One of our orders (paper or live) on ``pools`` decided at ``slot``."""
        key = (base, tuple(pools))
        if key in self._coming:
            self._hold(key, *self._coming.pop(key))
        h = self._held.get(key)
        if h is not None and h.traded is None:
            h.traded = slot

    # ------------------------------------------------------------ theirs
    def _match(self, pools: frozenset[str], slot: int) -> _Held | None:
        """Our cycle through the same pools (else the closest one containing them or
        contained in them) held at or before ``slot``; the latest held. Between cycles
        alike in that (the same pools from another base, or the other way round): one we
        traded by then, else one we called GO by then, else the first by key — never the
        order of a set, which differs from process to process (a replay elsewhere must
        decide the same)."""
        keys: set[OppKey] = set()
        self._make(len(self._coming))
        for p in pools:
            keys |= self._by_pool.get(p, set())
        best: tuple[tuple[Any, ...], _Held] | None = None
        for k in keys:
            h = self._held[k]
            if h.since > slot:
                continue
            if h.pools == pools:
                rank = 0
            elif pools <= h.pools or h.pools <= pools:
                rank = 1
            else:
                continue
            traded = h.traded is not None and h.traded <= slot
            go = h.first_go is not None and h.first_go <= slot
            order = (rank, -h.since, not traded, not go, k)
            if best is None or order < best[0]:
                best = (order, h)
        return best[1] if best is not None else None

    def add(self, tx: RivalTx, state_of: StateOf | None = None) -> Rival | None:
        """A classified transaction: a ``Rival`` when it is an arbitrage (or a failed
        attempt) on our pools by someone else, else None. ``state_of``: our graph's state
        of a pool now (``PoolGraph.pool_rate``; None where it holds none), read for each
        hop (its detail's "our state of those pools")."""
        self.seen += 1
        if tx.kind not in ("arbitrage", "failed_arbitrage"):
            return None
        if tx.signer in self.own:
            self.ours += tx.kind == "arbitrage"
            return None
        pools = [leg.pool for leg in tx.legs]
        h = self._match(frozenset(pools), tx.slot)
        prio = their_priority(tx)
        if h is None:
            held, lead, verdict, ahead, traded, outcome = False, None, "", None, False, "unseen"
        else:
            held = True
            lead = tx.slot - h.since
            verdict = h.verdict
            was_go = h.first_go is not None and h.first_go < tx.slot
            ahead = was_go and h.priority > prio
            traded = h.traded is not None and h.traded <= tx.slot
            if traded:
                outcome = "ours"
            elif h.first_go is not None and h.first_go <= tx.slot:
                outcome = "speed"
            else:
                outcome = f"no-go: {verdict}"
        legs = tx.legs
        r = Rival(
            signature=tx.signature,
            slot=tx.slot,
            index=tx.index,
            signer=tx.signer,
            landed=tx.kind == "arbitrage",
            base=tx.base_mint or "",
            pools=pools,
            venues=[leg.venue for leg in legs],
            amount_in=(legs[0].amount_in or 0) if legs else 0,
            amount_out=(legs[-1].amount_out or 0) if legs else 0,
            profit=tx.profit or 0,
            fee=tx.fee,
            tip=tx.tip,
            priority=prio,
            held=held,
            lead=lead,
            verdict=verdict,
            ahead=ahead,
            traded=traded,
            outcome=outcome,
            hops=tuple(hop_of(leg, state_of) for leg in legs),
            net=tx.net,
            base_fee=tx.base_fee,
            priority_fee=tx.priority_fee,
            cu_limit=tx.cu_limit,
            cu_price=tx.cu_price,
            tip_account=tx.tip_account or "",
            since=None if h is None else h.since,
            first_go=None if h is None else h.first_go,
            our_priority=None if h is None else h.priority,
            our_net=None if h is None else h.net_profit,
            our_base="" if h is None else h.key[0],
            our_pools=() if h is None else h.key[1],
        )
        if tx.kind == "arbitrage":
            self.arbitrages += 1
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        else:
            self.failed += 1
        self.latest.appendleft(r)
        self._window.append(r)
        while self._window and self._window[0].slot < tx.slot - self.window_slots:
            self._window.popleft()
        return r

    # ------------------------------------------------------------ views
    def totals(self) -> list[SignerTotals]:
        """Each signer's arbitrage on our pools in the window, the most profitable first
        (summed over base tokens as raw units: per base, see ``profit``)."""
        by: dict[str, SignerTotals] = {}
        for r in self._window:
            t = by.get(r.signer)
            if t is None:
                t = by[r.signer] = SignerTotals(r.signer, self.labels.get(r.signer, ""))
            if r.landed:
                t.landed += 1
                t.profit[r.base] = t.profit.get(r.base, 0) + r.profit
                t.tips += r.tip
            else:
                t.failed += 1
        return sorted(by.values(), key=lambda t: (-sum(t.profit.values()), t.signer))

    def lead_quantiles(self, qs: Sequence[float] = (0.1, 0.5, 0.9)) -> list[tuple[float, int]]:
        """The quantiles of our lead (slots) over the rival arbitrages in the window whose
        cycle we held (nearest rank); [] when none."""
        leads = sorted(r.lead for r in self._window if r.lead is not None)
        if not leads:
            return []
        n = len(leads)
        return [(q, leads[min(n - 1, max(0, int(q * n + 0.999999) - 1))]) for q in qs]

    def view(self, top: int = 8, latest: int = 50) -> RivalsView:
        """The panel's view now."""
        theirs, ours = self.share()
        return RivalsView(
            latest=tuple(list(self.latest)[:latest]),
            top=tuple(self.totals()[:top]),
            theirs=theirs,
            ours=ours,
            seen=self.seen,
            arbitrages=self.arbitrages,
            failed=self.failed,
            window_slots=self.window_slots,
            lead=tuple(self.lead_quantiles()),
            labels=dict(self.labels),
            outcomes=dict(self.outcomes),
            venue_labels=venue_labels(),
        )

    def landed(self, slot: int) -> None:
        """One of our own arbitrages landed (a paper fill, a live order) in ``slot``."""
        self._ours.append(slot)
        while self._ours and self._ours[0] < slot - self.window_slots:
            self._ours.popleft()

    def share(self) -> tuple[int, int]:
        """(rival arbitrages landed on our pools in the window, ours landed in it)."""
        theirs = sum(1 for r in self._window if r.landed)
        return theirs, len(self._ours)

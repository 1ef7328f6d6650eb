"""Derived events: what a session concludes, as small typed records (DESIGN.md, Events
and ports).

Every record is a frozen dataclass that knows its journal kind (``KIND``) and the version
of its payload's schema (``VERSION``); :meth:`Event.payload` is the JSON object the
journal stores for it (``storage.recorder.canonical`` of it is also what the digest hashes,
for the decisions: ``opp``, ``gone``, ``fee``, ``sweep``, ``fill``). The schema is stable:
a payload's keys are never renamed or given another meaning, since recordings are replayed
for as long as they are kept; a change that does either is a new ``VERSION`` (all are 1:
the payloads as the journal has always held them). The sinks take the records
(:class:`arbscope.ports.EventSink`): the journal's recorder, a replay's digest, a what-if's
fill tap.

The records: :class:`Opp` (an opportunity and its score), :class:`Gone`, :class:`Sweep`,
:class:`FeeChange` (``fee``), :class:`FeedsHealth` (``health``), :class:`Timings`, the paper
broker's fill (``arbscope.execution.paper.Fill``), and the live executor's
:class:`Armed` / :class:`Disarmed` (``live``), :class:`OrderStep` (``tx``),
:class:`NoncesMade` (``nonces``) and :class:`TablesMade` (``tables``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from engine_rs.records import Cycle, FeeContext, Opportunity, Score
from feeds.health import FeedHealth

from .timing import TimingRow

SCHEMA_VERSION = 1  # the newest VERSION of any record (the journal's events carry their kind)
# a string's JSON as json.dumps writes it (ASCII, escaped: the C encoder's), and the
# floats JSON has no literal for as json.dumps writes them
_esc = json.encoder.encode_basestring_ascii
_FLOATS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
_NONE = "null"


# a string's JSON as ``storage.recorder.canonical`` writes it (ASCII, escaped: the C
# encoder json uses); TypeError for one that is not a string
json_str: Callable[[str], str] = _esc


def json_float(x: float) -> str:
    """A float's JSON as ``storage.recorder.canonical`` writes it (its repr; ``NaN``,
    ``Infinity``, ``-Infinity`` for the floats JSON has no literal for)."""
    return repr(x) if math.isfinite(x) else _FLOATS[str(x)]


class Event:
    """A derived event: its journal ``kind`` and its ``payload``."""

    __slots__ = ()
    KIND: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    @property
    def kind(self) -> str:
        return self.KIND

    def payload(self) -> dict[str, Any]:
        raise NotImplementedError


# ------------------------------------------------------------------ the session's decisions
@dataclass(frozen=True, slots=True)
class OppCost:
    """What an opportunity was scored with: its compute-unit limit and the price of a
    lamport in its base token, ``(num, den)`` (None: none was known)."""

    cu_limit: int
    base_per_lamport: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class Opp(Event):
    """An opportunity and its score, new or changed since the last tick (``opp``; the
    export's columns). ``cost``: the fees it was scored with (None: not known)."""

    KIND: ClassVar[str] = "opp"
    base: str
    tokens: Sequence[str]
    pools: Sequence[str]
    kinds: Sequence[str]
    hops: int
    amount_in: int
    amount_out: int
    profit: int
    profit_bps: float
    net_profit: int
    fees_in_base: int
    total_fee_lamports: int
    persistence: int
    staleness_slots: int
    go: bool
    reasons: Sequence[str]
    cost: OppCost | None = None

    @classmethod
    def of(cls, o: Opportunity, sc: Score, fees: FeeContext | None = None) -> Opp:
        cost = None
        if fees is not None:
            cost = OppCost(
                fees.cu_limit,
                None
                if fees.base_rate_missing
                else (fees.base_per_lamport_num, fees.base_per_lamport_den),
            )
        return cls(
            o.base_mint,
            tuple(o.tokens),
            tuple(o.pools),
            tuple(o.kinds),
            o.hops,
            o.amount_in,
            o.amount_out,
            o.profit,
            o.profit_bps,
            sc.net_profit,
            sc.fees_in_base,
            sc.total_fee_lamports,
            sc.persistence,
            sc.staleness_slots,
            sc.go,
            tuple(sc.reasons),
            cost,
        )

    def canonical_text(self) -> str | None:
        """``storage.recorder.canonical(self.payload())`` made without the dict and
        ``json.dumps`` (the session makes one per changed opportunity each tick); None
        when a field is not of the type the engine gives (the caller then makes it from
        the payload): strings, ints, a float or int ``profit_bps``, a bool ``go``."""
        cost = self.cost
        if cost is None:
            head = ""
        else:
            bpl = cost.base_per_lamport
            if type(cost.cu_limit) is not int:
                return None
            if bpl is None:
                head = f"{_NONE},"
            elif len(bpl) == 2 and type(bpl[0]) is int is type(bpl[1]):
                head = f"[{bpl[0]!r},{bpl[1]!r}],"
            else:
                return None
            head = f'"base_per_lamport":{head}"cu_limit":{cost.cu_limit!r},'
        if (
            not (
                int
                is type(self.hops)
                is type(self.amount_in)
                is type(self.amount_out)
                is type(self.profit)
                is type(self.net_profit)
                is type(self.fees_in_base)
                is type(self.total_fee_lamports)
                is type(self.persistence)
                is type(self.staleness_slots)
            )
            or type(self.go) is not bool
        ):
            return None
        bps = self.profit_bps
        if type(bps) is float:
            bps = round(bps, 6)
            bps_text = repr(bps) if math.isfinite(bps) else _FLOATS[str(bps)]
        elif type(bps) is int:
            bps_text = repr(bps)
        else:
            return None
        try:
            base = _esc(self.base)
            tokens = ",".join(map(_esc, self.tokens))
            pools = ",".join(map(_esc, self.pools))
            kinds = ",".join(map(_esc, self.kinds))
            reasons = ",".join(map(_esc, self.reasons))
        except TypeError:  # (a field not of strings)
            return None
        return (
            f'{{"amount_in":{self.amount_in!r},"amount_out":{self.amount_out!r},'
            f'"base":{base},{head}"fees_in_base":{self.fees_in_base!r},'
            f'"go":{"true" if self.go else "false"},"hops":{self.hops!r},'
            f'"kinds":[{kinds}],"net_profit":{self.net_profit!r},'
            f'"persistence":{self.persistence!r},"pools":[{pools}],'
            f'"profit":{self.profit!r},"profit_bps":{bps_text},"reasons":[{reasons}],'
            f'"staleness_slots":{self.staleness_slots!r},"tokens":[{tokens}],'
            f'"total_fee_lamports":{self.total_fee_lamports!r}}}'
        )

    def payload(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.cost is not None:
            bpl = self.cost.base_per_lamport
            extra = {
                "cu_limit": self.cost.cu_limit,
                "base_per_lamport": None if bpl is None else list(bpl),
            }
        return {
            **extra,
            "base": self.base,
            "tokens": list(self.tokens),
            "pools": list(self.pools),
            "kinds": list(self.kinds),
            "hops": self.hops,
            "amount_in": self.amount_in,
            "amount_out": self.amount_out,
            "profit": self.profit,
            "profit_bps": round(self.profit_bps, 6),
            "net_profit": self.net_profit,
            "fees_in_base": self.fees_in_base,
            "total_fee_lamports": self.total_fee_lamports,
            "persistence": self.persistence,
            "staleness_slots": self.staleness_slots,
            "go": self.go,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class Gone(Event):
    """A cycle that was an opportunity is one no more (``gone``)."""

    KIND: ClassVar[str] = "gone"
    base: str
    pools: Sequence[str]

    def payload(self) -> dict[str, Any]:
        return {"base": self.base, "pools": list(self.pools)}


@dataclass(frozen=True, slots=True)
class Sweep(Event):
    """The sweep's best cycle changed (``sweep``; None: it found none)."""

    KIND: ClassVar[str] = "sweep"
    cycle: Cycle | None

    def payload(self) -> dict[str, Any]:
        c = self.cycle
        return {
            "cycle": None
            if c is None
            else {"tokens": list(c.tokens), "pools": list(c.pools), "rate_product": c.rate_product}
        }


@dataclass(frozen=True, slots=True)
class FeeChange(Event):
    """The compute-unit price the scorer uses moved (``fee``)."""

    KIND: ClassVar[str] = "fee"
    cu_price: int
    newest_slot: int | None

    def payload(self) -> dict[str, Any]:
        return {"cu_price": self.cu_price, "newest_slot": self.newest_slot}


# ------------------------------------------------------------------ what is not a decision
@dataclass(frozen=True, slots=True)
class FeedsHealth(Event):
    """The feeds' health, once a second (``health``; not digested: it is the wall's)."""

    KIND: ClassVar[str] = "health"
    feeds: Sequence[FeedHealth]

    def payload(self) -> dict[str, Any]:
        return {"feeds": [dataclasses.asdict(h) for h in self.feeds]}


@dataclass(frozen=True, slots=True)
class Timings(Event):
    """The kernels' timings, at the session's end (``timings``)."""

    KIND: ClassVar[str] = "timings"
    rows: Sequence[TimingRow]

    def payload(self) -> dict[str, Any]:
        return {"rows": [dataclasses.asdict(r) for r in self.rows]}


# ------------------------------------------------------------------ the live executor's
@dataclass(frozen=True, slots=True)
class Armed(Event):
    """Live trading switched on (``live``)."""

    KIND: ClassVar[str] = "live"
    wallet: str
    node: str
    config: Mapping[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"armed": True, "wallet": self.wallet, "node": self.node, "config": self.config}


@dataclass(frozen=True, slots=True)
class Disarmed(Event):
    """Live trading switched off, and the orders it cancelled (``live``)."""

    KIND: ClassVar[str] = "live"
    why: str
    cancelled: int

    def payload(self) -> dict[str, Any]:
        return {"armed": False, "why": self.why, "cancelled": self.cancelled}


@dataclass(frozen=True, slots=True)
class OrderStep(Event):
    """A live order's step (``tx``): accepted, signed, sent ... and how it ended; ``ms``
    since its decision; ``detail``: what the step adds (the fee it paid, why it failed,
    the UTC day its amount counts against ...)."""

    KIND: ClassVar[str] = "tx"
    ms: float
    seq: int
    step: str
    signature: str
    trigger: str
    path: Sequence[str]
    pools: Sequence[str]
    amount_in: int
    hops: Sequence[int]
    detail: Mapping[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {
            "ms": self.ms,
            "seq": self.seq,
            "step": self.step,
            "signature": self.signature,
            "trigger": self.trigger,
            "path": self.path,
            "pools": self.pools,
            "amount_in": self.amount_in,
            "hops": self.hops,
            **self.detail,
        }


@dataclass(frozen=True, slots=True)
class NoncesMade(Event):
    """Durable nonce accounts the wallet made (``nonces``)."""

    KIND: ClassVar[str] = "nonces"
    created: int
    transactions: int
    spent: int
    rent: int
    accounts: Sequence[str]
    signatures: Sequence[str] = ()  # the transactions that created them

    def payload(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "transactions": self.transactions,
            "spent": self.spent,
            "rent": self.rent,
            "accounts": list(self.accounts),
            "signatures": list(self.signatures),
        }


@dataclass(frozen=True, slots=True)
class TablesMade(Event):
    """Address lookup tables the wallet made or extended (``tables``)."""

    KIND: ClassVar[str] = "tables"
    added: int
    transactions: int
    spent: int
    rent: int
    tables: Sequence[str]
    addresses: int
    # the transactions that wrote the tables (``table``, ``step``: create / extend /
    # found, ``signature``): an order's audit names those of the tables it loaded from
    signatures: Sequence[Mapping[str, str]] = ()

    def payload(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "transactions": self.transactions,
            "spent": self.spent,
            "rent": self.rent,
            "tables": list(self.tables),
            "addresses": self.addresses,
            "signatures": [dict(s) for s in self.signatures],
        }

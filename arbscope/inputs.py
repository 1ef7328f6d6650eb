"""The one table of input kinds and the ingest's one port.

For each kind of the journal (``storage.codec.Kind``, numbered once and for all, payloads
byte for byte as they have always been) a row says the call it is (``call``: a typed
function ``(target, *args)`` on the ingest or on the session, ``arbscope.ports``; no
method is looked up by its name), how the call's arguments become the input
(``encode``) and the input the call again (``decode``), and where it goes: to the journal
(and so to a replay) and to a collector's consumers.

The ingest is driven through one port, :class:`arbscope.ports.IngestPort`'s
``apply(kind, *args)``; what stands between the feeds and the engine is a stage on it, a
few lines each: :class:`Tee` (the recorder's, a publisher's: each call handed on as its
input before it runs), :class:`Forwarder` (a collector's: every input handed on, only the
frames it reads itself run), :class:`EnginePort` (an engine ingest as the port's end) and
``arbscope.ingest.TimedIngest`` (both backends, timed and mirrored). :class:`Calls`
writes the typed calls the feeds make (``frame``, ``bind``, ...) once, on the port;
:class:`Reads` hands out the engine ingest's own read views; :class:`IngestFacade` is
the two over a chain of stages. The session's own inputs are encoded with
:func:`encode`, a replay applies the journal with :func:`replayer` (:func:`replay`) and a
NATS consumer a collector's stream with :func:`consume`. A new input kind is one row here
(and its number in ``Kind``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from engine_rs.records import DedupStats, EndpointStats, IngestStats
from feeds.wire.txview import TxView
from storage.codec import HEADER, Input, Kind, json_payload
from storage.journal import JournalError

from .ports import (
    Buffer,
    Call,
    FrameRun,
    Ingest,
    IngestCalls,
    IngestPort,
    IngestReads,
    InputSink,
    Run,
    SessionInputs,
    StreamInputs,
)

# what a call's arguments make: (endpoint, payload, time: monotonic ns, None for now)
Encoded = tuple[int, bytes, int | None]


@dataclass(frozen=True)
class InputKind:
    """One kind of input: the call it is (``call(target, *args)``, ``method`` its name:
    of the ingest when ``to_ingest``, else of the session), ``encode`` (the call's
    arguments -> endpoint, payload, time), ``decode`` (an input, as from an endpoint ->
    the call's arguments); ``journaled``: the recorder takes it and a replay applies it;
    ``published``: a collector publishes it and its consumers apply it."""

    kind: Kind
    method: str
    to_ingest: bool
    call: Callable[..., Any]
    encode: Callable[..., Encoded]
    decode: Callable[[Input, int], tuple[Any, ...]]
    journaled: bool = True
    published: bool = True


def _stream(endpoint: int, data: Buffer, recv_ns: int) -> Encoded:
    return endpoint, bytes(data), recv_ns


def _streamed(inp: Input, endpoint: int) -> tuple[Any, ...]:
    return endpoint, inp.payload, inp.t_ns


def _args(*args: Any) -> Encoded:
    return 0, json_payload(list(args)), None


def _json_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    return tuple(inp.json())


def _none(*args: Any) -> Encoded:
    return 0, b"", None


def _no_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    return ()


def _account(pubkey: str, owner: str, data: Buffer, slot: int) -> Encoded:
    return 0, json_payload([pubkey, owner, slot], bytes(data)), None


def _account_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    pubkey, owner, slot = inp.json()
    return pubkey, owner, inp.data(), slot


def _bind(endpoint: int, subscription: int, label: str, kind: str) -> Encoded:
    return endpoint, json_payload([subscription, label, kind]), None


def _bind_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    sid, label, kind = inp.json()
    return endpoint, sid, label, kind


def _unbind(endpoint: int) -> Encoded:
    return endpoint, b"", None


def _epochs(
    slots_per_epoch: int,
    warmup: bool = False,
    first_normal_epoch: int = 0,
    first_normal_slot: int = 0,
) -> Encoded:
    return _args(slots_per_epoch, warmup, first_normal_epoch, first_normal_slot)


def _fees(samples: Sequence[tuple[int, int]]) -> Encoded:
    return 0, json_payload([list(x) for x in samples]), None


def _fees_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    return ([(int(s), int(f)) for s, f in inp.json()],)


def _list(items: Sequence[Any]) -> Encoded:
    return 0, json_payload(list(items)), None


def _tips_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    return ([int(x) for x in inp.json()],)


def _landing(slots: int, send_ns: int = 0) -> Encoded:
    return 0, json_payload([int(slots), int(send_ns)]), None


def _landing_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    slots, *send = inp.json()  # [slots, send ns]; [slots] before the slot clock
    return int(slots), int(send[0]) if send else 0


def _pools_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    return ([str(p) for p in inp.json()],)


def _rows(rows: Sequence[dict[str, Any]]) -> Encoded:
    return 0, json_payload(rows), None


def _rows_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    return (list(inp.json()),)


def _transaction(tx: TxView) -> Encoded:
    return 0, json_payload(tx.to_json()), None


def _transaction_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    return (TxView.from_json(inp.json()),)


def _tick(now_ns: int) -> Encoded:
    return 0, b"", now_ns


def _tick_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    return (inp.t_ns,)


def _slice(now_ns: int, n: int) -> Encoded:
    return 0, json_payload([int(n)]), now_ns


def _slice_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    (n,) = inp.json()
    return inp.t_ns, int(n)


def _wallet(armed: bool, base: str, accounts: dict[str, bool]) -> Encoded:
    return 0, json_payload([bool(armed), base, dict(sorted(accounts.items()))]), None


def _wallet_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    armed, base, accounts = inp.json()
    return bool(armed), str(base), {str(k): bool(v) for k, v in accounts.items()}


def _link(seq: int, live_seq: int) -> Encoded:
    return 0, json_payload([int(seq), int(live_seq)]), None


def _link_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    seq, live_seq = inp.json()
    return int(seq), int(live_seq)


def _trade(base: str, pools: Sequence[str]) -> Encoded:
    return 0, json_payload([base, list(pools)]), None


def _trade_args(inp: Input, endpoint: int) -> tuple[Any, ...]:
    base, pools = inp.json()
    return base, pools


# ---------------------------------------------------------------- each kind's call
def _frame(i: IngestCalls, endpoint: int, frame: Buffer, recv_ns: int) -> int:
    return i.frame(endpoint, frame, recv_ns)


def _grpc(i: IngestCalls, endpoint: int, update: Buffer, recv_ns: int) -> tuple[int, int]:
    return i.grpc(endpoint, update, recv_ns)


def _frames(
    i: IngestCalls, batch: bytes, start: int, endpoints: Sequence[int], offset_ns: int
) -> FrameRun:
    return i.frames(batch, start, endpoints, offset_ns)


def _account_call(i: IngestCalls, pubkey: str, owner: str, data: Buffer, slot: int) -> bool:
    return i.account(pubkey, owner, data, slot)


def _reconcile_call(i: IngestCalls, pubkey: str, owner: str, data: Buffer, slot: int) -> bool:
    return i.reconcile(pubkey, owner, data, slot)


def _track_pool(i: IngestCalls, address: str, kind: str) -> None:
    i.track_pool(address, kind)


def _track_array(i: IngestCalls, address: str, pool: str) -> None:
    i.track_array(address, pool)


def _untrack_array(i: IngestCalls, address: str, pool: str) -> None:
    i.untrack_array(address, pool)


def _bind_call(i: IngestCalls, endpoint: int, subscription: int, label: str, kind: str) -> None:
    i.bind(endpoint, subscription, label, kind)


def _unbind_call(i: IngestCalls, endpoint: int) -> None:
    i.unbind(endpoint)


def _epochs_call(i: IngestCalls, *args: Any) -> None:
    i.set_epoch_schedule(*args)


def _drain(i: IngestCalls) -> list[str]:
    return i.take_changed()


def _on_fees(s: StreamInputs, samples: list[tuple[int, int]]) -> None:
    s.on_fees(samples)


def _on_uncovered(s: StreamInputs, pools: list[str]) -> None:
    s.on_uncovered(pools)


def _on_tokens(s: StreamInputs, rows: Sequence[dict[str, Any]]) -> None:
    s.on_tokens(rows)


def _on_transaction(s: StreamInputs, tx: TxView) -> None:
    s.on_transaction(tx)


def _on_tips(s: SessionInputs, lamports: list[int]) -> None:
    s.on_tips(lamports)


def _on_landing(s: SessionInputs, slots: int, send_ns: int = 0) -> None:
    s.on_landing(slots, send_ns)


def _tick_call(s: SessionInputs, now_ns: int | None = None) -> None:
    s.tick(now_ns)


def _decide(s: SessionInputs, now_ns: int | None = None) -> None:
    s.decide(now_ns)


def _evaluate_slice(s: SessionInputs, now_ns: int, n: int) -> None:
    s.evaluate_slice(now_ns, n)


def _end_turn(s: SessionInputs, now_ns: int) -> None:
    s.end_turn(now_ns)


def _decide_turn(s: SessionInputs, now_ns: int) -> None:
    s.decide_turn(now_ns)


def _report_turn(s: SessionInputs, now_ns: int) -> None:
    s.report_turn(now_ns)


def _events_turn(s: SessionInputs, now_ns: int) -> None:
    s.events_turn(now_ns)


def _on_wallet(s: SessionInputs, armed: bool, base: str, accounts: dict[str, bool]) -> None:
    s.on_wallet(armed, base, accounts)


def _trade_call(s: SessionInputs, base: str, pools: list[str]) -> str:
    return s.trade(base, pools)


def _on_link(s: SessionInputs, seq: int, live_seq: int) -> None:
    s.on_link(seq, live_seq)


def _kill(s: SessionInputs) -> int:
    return s.kill()


def _resume(s: SessionInputs) -> None:
    s.resume()


_ROWS = (
    # the feeds' calls on the ingest
    InputKind(Kind.FRAME, "frame", True, _frame, _stream, _streamed),
    InputKind(Kind.GRPC, "grpc", True, _grpc, _stream, _streamed),
    InputKind(Kind.ACCOUNT, "account", True, _account_call, _account, _account_args),
    InputKind(Kind.RECONCILE, "reconcile", True, _reconcile_call, _account, _account_args),
    InputKind(Kind.TRACK_POOL, "track_pool", True, _track_pool, _args, _json_args),
    InputKind(Kind.TRACK_TICK_ARRAY, "track_array", True, _track_array, _args, _json_args),
    InputKind(Kind.UNTRACK_TICK_ARRAY, "untrack_array", True, _untrack_array, _args, _json_args),
    InputKind(Kind.BIND, "bind", True, _bind_call, _bind, _bind_args),
    InputKind(Kind.UNBIND, "unbind", True, _unbind_call, _unbind, lambda inp, ep: (ep,)),
    InputKind(Kind.EPOCH_SCHEDULE, "set_epoch_schedule", True, _epochs_call, _epochs, _json_args),
    InputKind(Kind.DRAIN, "take_changed", True, _drain, _none, _no_args),
    # the session's own: what its feeds tell it besides frames (a consumer is told too)
    InputKind(Kind.FEES, "on_fees", False, _on_fees, _fees, _fees_args),
    InputKind(Kind.UNCOVERED, "on_uncovered", False, _on_uncovered, _list, _pools_args),
    InputKind(Kind.TOKENS, "on_tokens", False, _on_tokens, _rows, _rows_args, journaled=False),
    InputKind(
        Kind.TRANSACTION,
        "on_transaction",
        False,
        _on_transaction,
        _transaction,
        _transaction_args,
    ),
    # ... and what only its journal keeps (a consumer evaluates on its own clock)
    InputKind(Kind.TIPS, "on_tips", False, _on_tips, _list, _tips_args, published=False),
    InputKind(
        Kind.LANDING, "on_landing", False, _on_landing, _landing, _landing_args, published=False
    ),
    InputKind(Kind.TICK, "tick", False, _tick_call, _tick, _tick_args, published=False),
    InputKind(Kind.DECIDE, "decide", False, _decide, _tick, _tick_args, published=False),
    InputKind(
        Kind.SLICE, "evaluate_slice", False, _evaluate_slice, _slice, _slice_args, published=False
    ),
    InputKind(Kind.TURN, "end_turn", False, _end_turn, _tick, _tick_args, published=False),
    InputKind(
        Kind.DECISIONS, "decide_turn", False, _decide_turn, _tick, _tick_args, published=False
    ),
    InputKind(Kind.REPORT, "report_turn", False, _report_turn, _tick, _tick_args, published=False),
    InputKind(Kind.EVENTS, "events_turn", False, _events_turn, _tick, _tick_args, published=False),
    InputKind(Kind.WALLET, "on_wallet", False, _on_wallet, _wallet, _wallet_args, published=False),
    InputKind(Kind.TRADE, "trade", False, _trade_call, _trade, _trade_args, published=False),
    InputKind(Kind.LINK, "on_link", False, _on_link, _link, _link_args, published=False),
    InputKind(Kind.KILL, "kill", False, _kill, _none, _no_args, published=False),
    InputKind(Kind.RESUME, "resume", False, _resume, _none, _no_args, published=False),
)
INPUTS: dict[Kind, InputKind] = {row.kind: row for row in _ROWS}
STREAMED = frozenset({Kind.FRAME, Kind.GRPC})  # a stream's messages (frames), by endpoint
# the port's calls on an ingest: each input kind's of the ingest, and a run of frames
CALLS: dict[Call, Callable[..., Any]] = {
    **{row.kind: row.call for row in _ROWS if row.to_ingest},
    Run.FRAMES: _frames,
}


def encode(kind: Kind, *args: Any) -> Encoded:
    """The input a call with ``args`` is (endpoint, payload, time or None: now)."""
    return INPUTS[kind].encode(*args)


def _target(
    row: InputKind, ingest: IngestCalls, session: StreamInputs | None
) -> IngestCalls | StreamInputs | None:
    return ingest if row.to_ingest else session


def replay(inp: Input, ingest: IngestCalls, session: SessionInputs) -> bool:
    """One journaled input given back as it was given live: to ``ingest`` as from its
    recorded endpoint, or to ``session``; False for a kind the journal does not keep.
    Whatever the call raises (EngineError) propagates; a ``DELTA`` (how the journal stores
    a large input: ``storage.delta.Restorer`` gives it back first) is a JournalError."""
    row = INPUTS.get(inp.kind)
    if row is None:
        raise JournalError(f"a stored {inp.kind.name} input was not restored before its replay")
    if not row.journaled:
        return False
    row.call(_target(row, ingest, session), *row.decode(inp, inp.endpoint))
    return True


def _bound(row: InputKind, ingest: IngestCalls, session: SessionInputs) -> Callable[..., Any]:
    """``row``'s call bound to its target; an ingest that is a port's typed face (the
    session's) is given the kind at its port, not through its typed call."""
    if row.to_ingest and isinstance(ingest, Calls):
        return partial(ingest.apply, row.kind)
    return partial(row.call, _target(row, ingest, session))


def replayer(ingest: IngestCalls, session: SessionInputs) -> Callable[[Input], bool]:
    """:func:`replay` bound to ``ingest`` and ``session`` once: each kind's call is bound
    to its target when this is made, not per input (a replay's hot loop); the same calls,
    the same errors."""
    calls: dict[Kind, tuple[Callable[..., Any], Callable[[Input, int], tuple[Any, ...]]]] = {
        row.kind: (_bound(row, ingest, session), row.decode) for row in _ROWS if row.journaled
    }

    def apply(inp: Input) -> bool:
        call = calls.get(inp.kind)
        if call is None:
            return replay(inp, ingest, session)  # not journaled (False), or a DELTA
        fn, decode = call
        fn(*decode(inp, inp.endpoint))
        return True

    return apply


def consume(inp: Input, ingest: IngestCalls, session: StreamInputs | None, endpoint: int) -> bool:
    """One input of a collector's stream applied by a consumer, as from ``endpoint``
    (the consumer's own number for the collector's): to ``ingest``, or to ``session``
    (None: the session's own inputs are not applied); False when it is not applied (a kind
    collectors do not publish)."""
    row = INPUTS[inp.kind]
    target = _target(row, ingest, session)
    if not row.published or target is None:
        return False
    row.call(target, *row.decode(inp, endpoint))
    return True


# ---------------------------------------------------------------- the port's stages
class EnginePort:
    """An engine's ingest (``FeedIngest``, or anything of its face) as the port's end:
    each call bound to it once, here, from :data:`CALLS`."""

    def __init__(self, ingest: IngestCalls) -> None:
        self.ingest = ingest
        self._calls = {kind: partial(call, ingest) for kind, call in CALLS.items()}

    def apply(self, kind: Call, /, *args: Any) -> Any:
        return self._calls[kind](*args)


def _tee_run(
    put: InputSink, batch: bytes, start: int, endpoints: Sequence[int], offset_ns: int
) -> None:
    """A run of recorded frames handed to ``put`` one by one as the frames they are (as
    this session's endpoints and clock see them). ``batch``: bytes or any byte buffer (a
    native gRPC stream's ``GrpcBatch``: each payload is handed on as bytes of its own, as a
    slice of bytes was: the sink keeps no view of it)."""
    view = memoryview(batch)
    pos, n, size = start, len(view), HEADER.size
    while pos + size <= n:
        kind, e, t_ns, _wall, length = HEADER.unpack_from(view, pos)
        if kind not in STREAMED or pos + size + length > n:
            break  # the run ends (a batch cut short: the ingest says so)
        ep = endpoints[e] if e < len(endpoints) else -1
        if ep >= 0:
            payload = view[pos + size : pos + size + length].tobytes()
            put(Kind(kind), ep, payload, t_ns - offset_ns)
        pos += size + length


class Tee:
    """The recorder's stage: each call handed to ``put`` as the journal's input (kind,
    endpoint, payload, time: ``INPUTS[kind].encode``) before ``inner`` runs it: every
    frame's bytes, every account, pool, tick array (tracked or dropped), subscription
    binding, the cluster's epoch schedule, and a drain of the changed set. Replaying them
    in order rebuilds the state. ``put``: the journal's ``Recorder.input``, or a
    collector's ``Publisher.add`` (the two can be chained)."""

    def __init__(self, inner: IngestPort, put: InputSink) -> None:
        self.inner, self.put = inner, put

    def apply(self, kind: Call, /, *args: Any) -> Any:
        if kind is Run.FRAMES:
            _tee_run(self.put, *args)
        else:
            self.put(kind, *INPUTS[kind].encode(*args))
        return self.inner.apply(kind, *args)


# a PubSub notification's tail as a node writes it (compact JSON, the id the envelope's
# last key): ``"subscription":N}}``. A JSON string cannot hold the bytes
# ``"subscription":`` unescaped, so what is found there is the envelope's key.
_SUBSCRIPTION = b'"subscription":'
_AFTER = len(_SUBSCRIPTION)
_TAIL = 48


class Forwarder:
    """A collector's stage (``arbscope collect``): every input handed to ``put`` (the
    publisher's ``add``, and the recorder's when it records) as :class:`Tee` hands them;
    but a frame is given to ``inner`` only when the collector needs it itself: the slot
    pulse (its feeds' slots and integrity, its health), the pool accounts (each pool's
    identity, which asks for a re-fetch when a notification tries to change it, and its
    price, which decides the tick arrays it subscribes) and, with ``logs``, the logs (the
    transactions it fetches for the rivals). The notifications of every other account —
    vaults, tick and bin arrays, mints, configs — and the logs without ``logs``: most of
    a busy chain's frames, are forwarded only: their bytes go to the stream (its
    consumers decode and apply them, as before) and the collector reads nothing in them
    but the subscription id its worker needs.

    A frame is forwarded only when it ends ``"subscription":N}}`` with ``N`` an id the
    ingest bound on that endpoint to such a subscription; anything else (a response, a
    frame shaped otherwise, an id not bound) takes the ingest's full path, so a malformed
    frame is refused and counted there as before. What the collector no longer reads is
    checked by its consumers' ingests (their integrity rules), not by it; its own
    lead/lag counts (the Feeds panel's) are of the frames it reads."""

    def __init__(
        self, inner: IngestPort, put: InputSink, logs: bool = False, put_copies: bool = False
    ) -> None:
        self.inner, self.put, self.tee = inner, put, Tee(inner, put)
        self.logs = logs  # read the logs notifications (the rivals' transactions)
        # ``put`` copies a payload before it returns (a publisher's ``add``, alone): a
        # frame is handed to it as the buffer it came in (a view into the socket's read
        # buffer), not copied first; a sink that keeps what it is given (the journal's
        # recorder) gets bytes of their own
        self.put_copies = put_copies
        self.pools: set[str] = set()  # tracked pools: their accounts are read
        # (endpoint, the id's digits) -> the id, for the subscriptions forwarded only
        self.forward: dict[tuple[int, bytes], int] = {}
        self._bound: dict[tuple[int, int], str] = {}  # (endpoint, id) -> account
        self.forwarded = 0  # frames forwarded only (not given to the ingest)

    def apply(self, kind: Call, /, *args: Any) -> Any:
        if kind is Kind.FRAME:
            return self._frame(*args)
        out = self.tee.apply(kind, *args)
        if kind is Kind.TRACK_POOL:
            self._track_pool(*args)
        elif kind is Kind.BIND:
            self._bind(*args)
        elif kind is Kind.UNBIND:
            self._unbind(*args)
        return out

    def _frame(self, endpoint: int, frame: Buffer, recv_ns: int) -> Any:
        if self.put_copies:
            data: Buffer = frame
            tail = bytes(frame[-_TAIL:])  # what the forward check reads (a frame's end)
        else:
            data = tail = bytes(frame)
        self.put(Kind.FRAME, endpoint, data, recv_ns)  # type: ignore[arg-type]
        at = tail.rfind(_SUBSCRIPTION, -_TAIL)
        if at >= 0:
            sid = self.forward.get((endpoint, tail[at + _AFTER : -2]))
            if sid is not None and tail.endswith(b"}}"):
                self.forwarded += 1
                return sid
        return self.inner.apply(Kind.FRAME, endpoint, data, recv_ns)

    def _track_pool(self, address: str, kind: str) -> None:
        self.pools.add(address)
        for (ep, sid), label in self._bound.items():  # bound before it was a pool
            if label == address:
                self.forward.pop((ep, str(sid).encode()), None)

    def _bind(self, endpoint: int, subscription: int, label: str, kind: str) -> None:
        key = (endpoint, str(subscription).encode())
        self.forward.pop(key, None)
        self._bound.pop((endpoint, subscription), None)
        if kind == "account":
            self._bound[(endpoint, subscription)] = label
            if label not in self.pools:
                self.forward[key] = subscription
        elif kind == "logs" and not self.logs:
            self.forward[key] = subscription

    def _unbind(self, endpoint: int) -> None:
        for key in [k for k in self.forward if k[0] == endpoint]:
            del self.forward[key]
        for k in [k for k in self._bound if k[0] == endpoint]:
            del self._bound[k]


# ---------------------------------------------------------------- on top of the port
_FRAME, _GRPC = Kind.FRAME, Kind.GRPC


class Calls:
    """The typed calls the feeds make, written once on a port's ``apply``."""

    apply: Callable[..., Any]

    # (the frame path's two: their answers are the engine's ints, handed on as they are)
    def frame(self, endpoint: int, frame: Buffer, recv_ns: int) -> int:
        sid: int = self.apply(_FRAME, endpoint, frame, recv_ns)
        return sid

    def grpc(self, endpoint: int, update: Buffer, recv_ns: int) -> tuple[int, int]:
        out: tuple[int, int] = self.apply(_GRPC, endpoint, update, recv_ns)
        return out

    def frames(
        self, batch: bytes, start: int, endpoints: Sequence[int], offset_ns: int
    ) -> FrameRun:
        """A run of recorded frames (a NATS consumer's batch, a native gRPC batch), the
        same hot path as ``frame`` in one call a run."""
        out: FrameRun = self.apply(Run.FRAMES, batch, start, endpoints, offset_ns)
        return out

    def account(self, pubkey: str, owner: str, data: Buffer, slot: int) -> bool:
        return bool(self.apply(Kind.ACCOUNT, pubkey, owner, data, slot))

    def reconcile(self, pubkey: str, owner: str, data: Buffer, slot: int) -> bool:
        return bool(self.apply(Kind.RECONCILE, pubkey, owner, data, slot))

    def track_pool(self, address: str, kind: str) -> None:
        self.apply(Kind.TRACK_POOL, address, kind)

    def track_array(self, address: str, pool: str) -> None:
        self.apply(Kind.TRACK_TICK_ARRAY, address, pool)

    def untrack_array(self, address: str, pool: str) -> None:
        self.apply(Kind.UNTRACK_TICK_ARRAY, address, pool)

    def bind(self, endpoint: int, subscription: int, label: str, kind: str) -> None:
        self.apply(Kind.BIND, endpoint, subscription, label, kind)

    def unbind(self, endpoint: int) -> None:
        self.apply(Kind.UNBIND, endpoint)

    def set_epoch_schedule(
        self,
        slots_per_epoch: int,
        warmup: bool = False,
        first_normal_epoch: int = 0,
        first_normal_slot: int = 0,
    ) -> None:
        self.apply(
            Kind.EPOCH_SCHEDULE, slots_per_epoch, warmup, first_normal_epoch, first_normal_slot
        )

    def take_changed(self) -> list[str]:
        out: list[str] = self.apply(Kind.DRAIN)
        return out


class Reads:
    """The engine ingest's read-only views: its own bound methods, taken once from
    ``view`` (no call passes through a wrapper of them)."""

    def __init__(self, view: IngestReads) -> None:
        self.view = view
        self.half_moved: Callable[[list[str]], list[str]] = view.half_moved
        self.compare: Callable[[Sequence[tuple[str, str, Buffer]]], list[Any]] = view.compare
        self.slots: Callable[[list[str]], list[int]] = view.slots
        self.record: Callable[[str], tuple[str, Any] | None] = view.record
        self.watched: Callable[[], list[str]] = view.watched
        self.watched_version: Callable[[], int] = view.watched_version
        self.roles: Callable[[str], list[tuple[str, str]]] = view.roles
        self.records: Callable[..., list[tuple[str, str, Any]]] = view.records
        self.record_seq: Callable[[], int] = view.record_seq
        self.dedup_stats: Callable[[], list[DedupStats]] = view.dedup_stats
        self.endpoint_stats: Callable[[], list[EndpointStats]] = view.endpoint_stats
        self.stats: Callable[[], IngestStats] = view.stats

    @property
    def pending(self) -> int:
        return int(self.view.pending)


class IngestFacade(Calls, Reads):
    """What the feeds are handed: the typed calls on a chain of stages (``port``: a
    :class:`Tee`, a :class:`Forwarder`, ...), the reads and drains of ``ingest`` (the
    session's ``TimedIngest``, or an engine's ingest) taken from it directly."""

    def __init__(self, port: IngestPort, ingest: Ingest) -> None:
        Reads.__init__(self, ingest)
        self.port, self.apply = port, port.apply
        self.take_refetch: Callable[[], list[tuple[str, int]]] = ingest.take_refetch
        self.take_transactions: Callable[[], list[tuple[str, int, bool, int, int]]]
        self.take_transactions = ingest.take_transactions


def recording(ingest: Ingest, put: InputSink) -> IngestFacade:
    """An engine's ``ingest`` (or anything of its face) behind the recorder's :class:`Tee`."""
    return IngestFacade(Tee(EnginePort(ingest), put), ingest)

"""The one table of input kinds: for each kind of the journal (``storage.codec.Kind``,
numbered once and for all, payloads byte for byte as they have always been), the call it
is — a method of the ingest or of the session (``arbscope.ports``) —, how the call's
arguments become the input (``encode``) and the input the call again (``decode``), and
where it goes: to the journal (and so to a replay) and to a collector's consumers.

From it come the recorder's tee (:class:`InputTee`: the feeds' calls handed on as inputs
before they run; :class:`ForwardingTee`, a collector's, hands every input on but runs
only the frames the collector reads itself), the session's own inputs (:func:`encode`:
``FeedSession`` records its fees, tips, landings, uncovered pools, ticks and the
operator's orders with it), the replay's dispatch (:func:`replay`) and a NATS consumer's
application (:func:`consume`). A new input kind is one row here (and its number in ``Kind``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine_rs.records import DedupStats, EndpointStats, IngestStats
from feeds.wire.txview import TxView
from storage.codec import HEADER, Input, Kind, json_payload
from storage.journal import JournalError

from .ports import Buffer, FrameRun, Ingest, InputSink, SessionInputs, StreamInputs

# what a call's arguments make: (endpoint, payload, time: monotonic ns, None for now)
Encoded = tuple[int, bytes, int | None]


@dataclass(frozen=True)
class InputKind:
    """One kind of input: the call it is (``method`` of the ingest when ``to_ingest``,
    else of the session), ``encode`` (the call's arguments -> endpoint, payload, time),
    ``decode`` (an input, as from an endpoint -> the call's arguments); ``journaled``: the
    recorder takes it and a replay applies it; ``published``: a collector publishes it
    and its consumers apply it."""

    kind: Kind
    method: str
    to_ingest: bool
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


_ROWS = (
    # the feeds' calls on the ingest
    InputKind(Kind.FRAME, "frame", True, _stream, _streamed),
    InputKind(Kind.GRPC, "grpc", True, _stream, _streamed),
    InputKind(Kind.ACCOUNT, "account", True, _account, _account_args),
    InputKind(Kind.RECONCILE, "reconcile", True, _account, _account_args),
    InputKind(Kind.TRACK_POOL, "track_pool", True, _args, _json_args),
    InputKind(Kind.TRACK_TICK_ARRAY, "track_array", True, _args, _json_args),
    InputKind(Kind.UNTRACK_TICK_ARRAY, "untrack_array", True, _args, _json_args),
    InputKind(Kind.BIND, "bind", True, _bind, _bind_args),
    InputKind(Kind.UNBIND, "unbind", True, _unbind, lambda inp, ep: (ep,)),
    InputKind(Kind.EPOCH_SCHEDULE, "set_epoch_schedule", True, _epochs, _json_args),
    InputKind(Kind.DRAIN, "take_changed", True, _none, _no_args),
    # the session's own: what its feeds tell it besides frames (a consumer is told too)
    InputKind(Kind.FEES, "on_fees", False, _fees, _fees_args),
    InputKind(Kind.UNCOVERED, "on_uncovered", False, _list, _pools_args),
    InputKind(Kind.TOKENS, "on_tokens", False, _rows, _rows_args, journaled=False),
    InputKind(Kind.TRANSACTION, "on_transaction", False, _transaction, _transaction_args),
    # ... and what only its journal keeps (a consumer evaluates on its own clock)
    InputKind(Kind.TIPS, "on_tips", False, _list, _tips_args, published=False),
    InputKind(Kind.LANDING, "on_landing", False, _landing, _landing_args, published=False),
    InputKind(Kind.TICK, "tick", False, _tick, _tick_args, published=False),
    InputKind(Kind.DECIDE, "decide", False, _tick, _tick_args, published=False),
    InputKind(Kind.SLICE, "evaluate_slice", False, _slice, _slice_args, published=False),
    InputKind(Kind.TURN, "end_turn", False, _tick, _tick_args, published=False),
    InputKind(Kind.WALLET, "on_wallet", False, _wallet, _wallet_args, published=False),
    InputKind(Kind.TRADE, "trade", False, _trade, _trade_args, published=False),
    InputKind(Kind.LINK, "on_link", False, _link, _link_args, published=False),
    InputKind(Kind.KILL, "kill", False, _none, _no_args, published=False),
    InputKind(Kind.RESUME, "resume", False, _none, _no_args, published=False),
)
INPUTS: dict[Kind, InputKind] = {row.kind: row for row in _ROWS}
STREAMED = frozenset({Kind.FRAME, Kind.GRPC})  # a stream's messages (frames), by endpoint


def encode(kind: Kind, *args: Any) -> Encoded:
    """The input a call with ``args`` is (endpoint, payload, time or None: now)."""
    return INPUTS[kind].encode(*args)


def _apply(row: InputKind, inp: Input, ingest: Ingest, session: SessionInputs, ep: int) -> None:
    target: Ingest | SessionInputs = ingest if row.to_ingest else session
    getattr(target, row.method)(*row.decode(inp, ep))


def replay(inp: Input, ingest: Ingest, session: SessionInputs) -> bool:
    """One journaled input given back as it was given live: to ``ingest`` as from its
    recorded endpoint, or to ``session``; False for a kind the journal does not keep.
    Whatever the call raises (EngineError) propagates; a ``DELTA`` (how the journal stores
    a large input: ``storage.delta.Restorer`` gives it back first) is a JournalError."""
    row = INPUTS.get(inp.kind)
    if row is None:
        raise JournalError(f"a stored {inp.kind.name} input was not restored before its replay")
    if not row.journaled:
        return False
    _apply(row, inp, ingest, session, inp.endpoint)
    return True


def replayer(ingest: Ingest, session: SessionInputs) -> Callable[[Input], bool]:
    """:func:`replay` bound to ``ingest`` and ``session`` once: each kind's call is looked
    up when this is made, not per input (a replay's hot loop); the same calls, the same
    errors."""
    calls: dict[Kind, tuple[Callable[..., Any], Callable[[Input, int], tuple[Any, ...]]]] = {
        row.kind: (getattr(ingest if row.to_ingest else session, row.method), row.decode)
        for row in _ROWS
        if row.journaled
    }

    def apply(inp: Input) -> bool:
        call = calls.get(inp.kind)
        if call is None:
            return replay(inp, ingest, session)  # not journaled (False), or a DELTA
        fn, decode = call
        fn(*decode(inp, inp.endpoint))
        return True

    return apply


def consume(inp: Input, ingest: Ingest, session: StreamInputs | None, endpoint: int) -> bool:
    """One input of a collector's stream applied by a consumer, as from ``endpoint``
    (the consumer's own number for the collector's): to ``ingest``, or to ``session``
    (None: the session's own inputs are not applied); False when it is not applied (a kind
    collectors do not publish)."""
    row = INPUTS[inp.kind]
    target: Ingest | StreamInputs | None = ingest if row.to_ingest else session
    if not row.published or target is None:
        return False
    getattr(target, row.method)(*row.decode(inp, endpoint))
    return True


class InputTee:
    """What the feeds call (``FeedPool``, its workers, a consumer), handed to ``put`` as
    the journal's inputs (``INPUTS``: kind, endpoint, payload, time) before being passed on
    to ``inner``: every frame's bytes, every account, pool, tick array (tracked or dropped),
    subscription binding, the cluster's epoch schedule, and a drain of the changed set.
    Replaying them in order rebuilds the state. ``put``: the journal's ``Recorder.input``,
    or a collector's ``Publisher.add`` (the two can be chained)."""

    def __init__(self, inner: Ingest, put: InputSink) -> None:
        self.inner, self.put = inner, put

    def _tee(self, kind: Kind, *args: Any) -> Any:
        row = INPUTS[kind]
        self.put(kind, *row.encode(*args))
        return getattr(self.inner, row.method)(*args)

    # ---------------------------------------------------------------- what changes the state
    def frame(self, endpoint: int, frame: Buffer, recv_ns: int) -> int:
        return int(self._tee(Kind.FRAME, endpoint, frame, recv_ns))

    def grpc(self, endpoint: int, update: Buffer, recv_ns: int) -> tuple[int, int]:
        out: tuple[int, int] = self._tee(Kind.GRPC, endpoint, update, recv_ns)
        return out

    def frames(
        self, batch: bytes, start: int, endpoints: Sequence[int], offset_ns: int
    ) -> FrameRun:
        """A run of recorded frames, handed on one by one as the frames they are (as this
        session's endpoints and clock see them), then applied in one call. ``batch``: bytes
        or any byte buffer (a native gRPC stream's ``GrpcBatch``: each payload is handed on
        as bytes of its own, as a slice of bytes was: the sink keeps no view of it)."""
        view = memoryview(batch)
        pos, n, size = start, len(view), HEADER.size
        while pos + size <= n:
            kind, e, t_ns, _wall, length = HEADER.unpack_from(view, pos)
            if kind not in STREAMED or pos + size + length > n:
                break  # the run ends (a batch cut short: the ingest says so)
            ep = endpoints[e] if e < len(endpoints) else -1
            if ep >= 0:
                payload = view[pos + size : pos + size + length].tobytes()
                self.put(Kind(kind), ep, payload, t_ns - offset_ns)
            pos += size + length
        return self.inner.frames(batch, start, endpoints, offset_ns)

    def account(self, pubkey: str, owner: str, data: Buffer, slot: int) -> bool:
        return bool(self._tee(Kind.ACCOUNT, pubkey, owner, data, slot))

    def reconcile(self, pubkey: str, owner: str, data: Buffer, slot: int) -> bool:
        return bool(self._tee(Kind.RECONCILE, pubkey, owner, data, slot))

    def track_pool(self, address: str, kind: str) -> None:
        self._tee(Kind.TRACK_POOL, address, kind)

    def track_array(self, address: str, pool: str) -> None:
        self._tee(Kind.TRACK_TICK_ARRAY, address, pool)

    def untrack_array(self, address: str, pool: str) -> None:
        self._tee(Kind.UNTRACK_TICK_ARRAY, address, pool)

    def bind(self, endpoint: int, subscription: int, label: str, kind: str) -> None:
        self._tee(Kind.BIND, endpoint, subscription, label, kind)

    def unbind(self, endpoint: int) -> None:
        self._tee(Kind.UNBIND, endpoint)

    def set_epoch_schedule(
        self,
        slots_per_epoch: int,
        warmup: bool = False,
        first_normal_epoch: int = 0,
        first_normal_slot: int = 0,
    ) -> None:
        self._tee(
            Kind.EPOCH_SCHEDULE, slots_per_epoch, warmup, first_normal_epoch, first_normal_slot
        )

    def take_changed(self) -> list[str]:
        out: list[str] = self._tee(Kind.DRAIN)
        return out

    # ---------------------------------------------------------------- the read-only views
    @property
    def pending(self) -> int:
        return self.inner.pending

    def record(self, address: str) -> tuple[str, Any] | None:
        return self.inner.record(address)

    def half_moved(self, pools: list[str]) -> list[str]:
        return self.inner.half_moved(pools)

    def compare(self, accounts: Sequence[tuple[str, str, Buffer]]) -> list[tuple[int, bool] | None]:
        return self.inner.compare(accounts)

    def slots(self, pubkeys: list[str]) -> list[int]:
        return self.inner.slots(pubkeys)

    def watched(self) -> list[str]:
        return self.inner.watched()

    def watched_version(self) -> int:
        return self.inner.watched_version()

    def roles(self, pubkey: str) -> list[tuple[str, str]]:
        return self.inner.roles(pubkey)

    def records(
        self, kinds: Sequence[str] | None = None, since: int = 0
    ) -> list[tuple[str, str, Any]]:
        return self.inner.records(kinds, since)

    def record_seq(self) -> int:
        return self.inner.record_seq()

    def dedup_stats(self) -> list[DedupStats]:
        return self.inner.dedup_stats()

    def endpoint_stats(self) -> list[EndpointStats]:
        return self.inner.endpoint_stats()

    def take_refetch(self) -> list[tuple[str, int]]:
        return self.inner.take_refetch()

    def take_transactions(self) -> list[tuple[str, int, bool, int, int]]:
        return self.inner.take_transactions()

    def stats(self) -> IngestStats:
        return self.inner.stats()


# a PubSub notification's tail as a node writes it (compact JSON, the id the envelope's
# last key): ``"subscription":N}}``. A JSON string cannot hold the bytes
# ``"subscription":`` unescaped, so what is found there is the envelope's key.
_SUBSCRIPTION = b'"subscription":'
_AFTER = len(_SUBSCRIPTION)
_TAIL = 48


class ForwardingTee(InputTee):
    """A collector's tee (``arbscope collect``): every input handed to ``put`` (the
    publisher's ``add``, and the recorder's when it records) as :class:`InputTee` hands
    them; but a frame is given to ``inner`` only when the collector needs it itself: the
    slot pulse (its feeds' slots and integrity, its health), the pool accounts (each
    pool's identity, which asks for a re-fetch when a notification tries to change it,
    and its price, which decides the tick arrays it subscribes) and, with ``logs``, the
    logs (the transactions it fetches for the rivals). The notifications of every other
    account — vaults, tick and bin arrays, mints, configs — and the logs without
    ``logs``: most of a busy chain's frames, are forwarded only: their bytes go to the
    stream (its consumers decode and apply them, as before) and the collector reads
    nothing in them but the subscription id its worker needs.

    A frame is forwarded only when it ends ``"subscription":N}}`` with ``N`` an id the
    ingest bound on that endpoint to such a subscription; anything else (a response, a
    frame shaped otherwise, an id not bound) takes the ingest's full path, so a malformed
    frame is refused and counted there as before. What the collector no longer reads is
    checked by its consumers' ingests (their integrity rules), not by it; its own
    lead/lag counts (the Feeds panel's) are of the frames it reads."""

    def __init__(
        self, inner: Ingest, put: InputSink, logs: bool = False, put_copies: bool = False
    ) -> None:
        super().__init__(inner, put)
        self.logs = logs
        # ``put`` copies a payload before it returns (a publisher's ``add``, alone): a
        # frame is handed to it as the buffer it came in (a view into the socket's read
        # buffer), not copied first; a sink that keeps what it is given (the journal's
        # recorder) gets bytes of their own
        self.put_copies = put_copies  # read the logs notifications (the rivals' transactions)
        self.pools: set[str] = set()  # tracked pools: their accounts are read
        # (endpoint, the id's digits) -> the id, for the subscriptions forwarded only
        self.forward: dict[tuple[int, bytes], int] = {}
        self._bound: dict[tuple[int, int], str] = {}  # (endpoint, id) -> account
        self.forwarded = 0  # frames forwarded only (not given to the ingest)

    def frame(self, endpoint: int, frame: Buffer, recv_ns: int) -> int:
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
        return int(self.inner.frame(endpoint, data, recv_ns))

    def track_pool(self, address: str, kind: str) -> None:
        super().track_pool(address, kind)
        self.pools.add(address)
        for (ep, sid), label in self._bound.items():  # bound before it was a pool
            if label == address:
                self.forward.pop((ep, str(sid).encode()), None)

    def bind(self, endpoint: int, subscription: int, label: str, kind: str) -> None:
        super().bind(endpoint, subscription, label, kind)
        key = (endpoint, str(subscription).encode())
        self.forward.pop(key, None)
        self._bound.pop((endpoint, subscription), None)
        if kind == "account":
            self._bound[(endpoint, subscription)] = label
            if label not in self.pools:
                self.forward[key] = subscription
        elif kind == "logs" and not self.logs:
            self.forward[key] = subscription

    def unbind(self, endpoint: int) -> None:
        super().unbind(endpoint)
        for key in [k for k in self.forward if k[0] == endpoint]:
            del self.forward[key]
        for k in [k for k in self._bound if k[0] == endpoint]:
            del self._bound[k]

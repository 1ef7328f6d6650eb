"""The one table of input kinds (``arbscope.inputs``): every kind of the journal has its
row, the recorder's tee writes the bytes the journal has always held, and what a replay
or a NATS consumer applies from them is the call that was made."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from arbscope import inputs
from arbscope.inputs import INPUTS, EnginePort, Forwarder, IngestFacade, recording
from storage.codec import Input, Kind
from storage.journal import JournalError


class Calls:
    """An ingest and a session that note every call (and answer as the engine would)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any) -> Any:
            self.calls.append((name, args))
            answers = {
                "frame": 7,
                "grpc": (3, 9),
                "account": True,
                "reconcile": True,
                "take_changed": ["p"],
            }
            return answers.get(name)

        return call


class Put:
    def __init__(self) -> None:
        self.inputs: list[Input] = []

    def __call__(self, kind: Kind, endpoint: int, payload: bytes, t_ns: int | None = None) -> None:
        self.inputs.append(Input(kind, endpoint, t_ns if t_ns is not None else -1, 0, payload))


def test_every_kind_of_the_journal_has_its_row() -> None:
    # but DELTA: how the journal stores a FRAME or ACCOUNT input (storage.delta), restored
    # to it before anything applies it
    assert set(INPUTS) == set(Kind) - {Kind.DELTA}
    assert {k for k, r in INPUTS.items() if not r.journaled} == {Kind.TOKENS}
    assert {k for k, r in INPUTS.items() if not r.published} == {
        Kind.TIPS,
        Kind.LANDING,
        Kind.TICK,
        Kind.DECIDE,
        Kind.SLICE,
        Kind.TURN,
        Kind.DECISIONS,
        Kind.REPORT,
        Kind.EVENTS,
        Kind.WALLET,
        Kind.TRADE,
        Kind.LINK,
        Kind.KILL,
        Kind.RESUME,
    }


def test_a_delta_not_restored_is_a_journal_error_not_a_call() -> None:
    with pytest.raises(JournalError, match="not restored"):
        inputs.replay(Input(Kind.DELTA, 0, 1, 1, b"\x01\x00"), None, None)  # type: ignore[arg-type]


# the feeds' calls, and the bytes the journal has always held for them
FEED_CALLS: list[tuple[str, tuple[Any, ...], Kind, int, bytes, int]] = [
    ("frame", (2, memoryview(b'{"a":1}'), 55), Kind.FRAME, 2, b'{"a":1}', 55),
    ("grpc", (3, b"\x08\x01", 66), Kind.GRPC, 3, b"\x08\x01", 66),
    ("account", ("Pk", "Own", b"\x00\x01", 9), Kind.ACCOUNT, 0, b'["Pk","Own",9]\x00\x00\x01', -1),
    (
        "reconcile",
        ("Pk", "Own", b"\x00\x01", 9),
        Kind.RECONCILE,
        0,
        b'["Pk","Own",9]\x00\x00\x01',
        -1,
    ),
    ("track_pool", ("Pool", "cpmm"), Kind.TRACK_POOL, 0, b'["Pool","cpmm"]', -1),
    ("track_array", ("Ta", "Wp"), Kind.TRACK_TICK_ARRAY, 0, b'["Ta","Wp"]', -1),
    ("untrack_array", ("Ta", "Wp"), Kind.UNTRACK_TICK_ARRAY, 0, b'["Ta","Wp"]', -1),
    ("bind", (1, 42, "Pool", "account"), Kind.BIND, 1, b'[42,"Pool","account"]', -1),
    ("unbind", (4,), Kind.UNBIND, 4, b"", -1),
    (
        "set_epoch_schedule",
        (432000, True, 14, 524256),
        Kind.EPOCH_SCHEDULE,
        0,
        b"[432000,true,14,524256]",
        -1,
    ),
    ("take_changed", (), Kind.DRAIN, 0, b"", -1),
]


@pytest.mark.parametrize(("method", "args", "kind", "ep", "payload", "t_ns"), FEED_CALLS)
def test_the_tee_records_the_journals_bytes_and_a_replay_makes_the_same_call(
    method: str, args: tuple[Any, ...], kind: Kind, ep: int, payload: bytes, t_ns: int
) -> None:
    inner, put = Calls(), Put()
    tee = recording(inner, put)  # type: ignore[arg-type]
    answer = getattr(tee, method)(*args)
    assert inner.calls == [(method, args)]
    assert answer == getattr(Calls(), method)(*args)
    (got,) = put.inputs
    assert (got.kind, got.endpoint, got.payload, got.t_ns) == (kind, ep, payload, t_ns)
    again = Calls()
    assert inputs.replay(got, again, again)  # type: ignore[arg-type]
    ((name, replayed),) = again.calls
    want = tuple(bytes(a) if isinstance(a, memoryview) else a for a in args)
    assert name == method and replayed == want
    # a consumer: the same call, as from its own number for the collector's endpoint
    consumer = Calls()
    assert inputs.consume(got, consumer, None, 11)  # type: ignore[arg-type]
    ((name, consumed),) = consumer.calls
    assert name == method
    if kind in (Kind.FRAME, Kind.GRPC, Kind.BIND, Kind.UNBIND):
        assert consumed == (11, *want[1:])
    else:
        assert consumed == want


SESSION_CALLS: list[tuple[Kind, str, tuple[Any, ...], bytes]] = [
    (Kind.FEES, "on_fees", ([(5, 1000), (6, 2000)],), b"[[5,1000],[6,2000]]"),
    (Kind.TIPS, "on_tips", ([1, 2, 3, 4, 5],), b"[1,2,3,4,5]"),
    (Kind.LANDING, "on_landing", (2, 1500), b"[2,1500]"),
    (Kind.UNCOVERED, "on_uncovered", (["A", "B"],), b'["A","B"]'),
    (Kind.TOKENS, "on_tokens", ([{"mint": "M", "symbol": "S"}],), b'[{"mint":"M","symbol":"S"}]'),
    (Kind.TRADE, "trade", ("Base", ["P1", "P2"]), b'["Base",["P1","P2"]]'),
    (
        Kind.WALLET,
        "on_wallet",
        (True, "B", {"M1": True, "M2": False}),
        b'[true,"B",{"M1":true,"M2":false}]',
    ),
    (Kind.LINK, "on_link", (4, 9), b"[4,9]"),
    (Kind.KILL, "kill", (), b""),
    (Kind.RESUME, "resume", (), b""),
]


@pytest.mark.parametrize(("kind", "method", "args", "payload"), SESSION_CALLS)
def test_the_sessions_own_inputs_encode_as_journaled_and_apply_back(
    kind: Kind, method: str, args: tuple[Any, ...], payload: bytes
) -> None:
    ep, got, t_ns = inputs.encode(kind, *args)
    assert (ep, got, t_ns) == (0, payload, None)
    session = Calls()
    applied = inputs.replay(Input(kind, 0, 1, 0, got), Calls(), session)  # type: ignore[arg-type]
    assert applied == INPUTS[kind].journaled
    if applied:
        assert session.calls == [(method, args)]
    consumer = Calls()
    published = inputs.consume(Input(kind, 0, 1, 0, got), Calls(), consumer, 0)  # type: ignore[arg-type]
    assert published == INPUTS[kind].published
    assert consumer.calls == ([(method, args)] if published else [])


def test_a_tick_is_its_clocks_time_and_an_old_landing_has_no_send_time() -> None:
    assert inputs.encode(Kind.TICK, 123_456) == (0, b"", 123_456)
    assert inputs.encode(Kind.DECIDE, 123_457) == (0, b"", 123_457)
    s = Calls()
    inputs.replay(Input(Kind.TICK, 0, 123_456, 0, b""), Calls(), s)  # type: ignore[arg-type]
    inputs.replay(Input(Kind.DECIDE, 0, 123_457, 0, b""), Calls(), s)  # type: ignore[arg-type]
    inputs.replay(Input(Kind.LANDING, 0, 1, 0, b"[3]"), Calls(), s)  # type: ignore[arg-type]
    assert s.calls == [("tick", (123_456,)), ("decide", (123_457,)), ("on_landing", (3, 0))]


def test_a_run_of_recorded_frames_is_teed_frame_by_frame() -> None:
    from storage.codec import pack

    batch = pack(Kind.FRAME, 0, 100, 0, b"one") + pack(Kind.GRPC, 1, 200, 0, b"two")
    batch += pack(Kind.ACCOUNT, 0, 300, 0, b"[]")  # the run ends before it
    inner, put = Calls(), Put()
    endpoints: Sequence[int] = [5, -1]  # the second endpoint is not this session's
    recording(inner, put).frames(batch, 0, endpoints, 10)  # type: ignore[arg-type]
    assert [(i.kind, i.endpoint, i.payload, i.t_ns) for i in put.inputs] == [
        (Kind.FRAME, 5, b"one", 90)
    ]
    assert inner.calls == [("frames", (batch, 0, endpoints, 10))]


def _note(sid: int, body: str = '{"context":{"slot":5},"value":{}}') -> bytes:
    return (
        '{"jsonrpc":"2.0","method":"accountNotification","params":{"result":'
        f'{body},"subscription":{sid}}}}}'
    ).encode()


class CopyingPut(Put):
    """A sink that copies what it is given before it returns (a publisher's ``add``)."""

    def __call__(self, kind: Kind, endpoint: int, payload: bytes, t_ns: int | None = None) -> None:
        super().__call__(kind, endpoint, bytes(payload), t_ns)


@pytest.mark.parametrize("put_copies", [False, True])
def test_a_collectors_tee_forwards_what_it_does_not_read_and_puts_everything(
    put_copies: bool,
) -> None:
    """``Forwarder``: every frame is put; the ingest is given the slots, the pools'
    own accounts, the answers, anything shaped otherwise, and the logs only when asked
    (rivals); the other accounts' notifications are forwarded only, their id returned.
    With ``put_copies`` (a sink that copies, as the publisher does) a frame is handed on
    as the view it came as, and every decision is the same."""
    inner, put = Calls(), (CopyingPut() if put_copies else Put())
    forwarder = Forwarder(EnginePort(inner), put, put_copies=put_copies)  # type: ignore[arg-type]
    tee = IngestFacade(forwarder, inner)  # type: ignore[arg-type]
    tee.track_pool("Pool", "whirlpool")
    tee.bind(0, 11, "Pool", "account")
    tee.bind(0, 12, "Vault", "account")
    tee.bind(0, 13, "slot", "slot")
    tee.bind(0, 14, "Prog", "logs")
    tee.bind(1, 21, "Vault", "account")
    tee.bind(1, 22, "Later", "account")
    tee.track_pool("Later", "cpmm")  # an account bound before it was a pool: read
    frames = [
        (0, _note(12), 12),  # a vault: forwarded
        (1, _note(21), 21),  # the same vault on another endpoint: forwarded
        (0, _note(14), 14),  # logs without rivals: forwarded
        (0, _note(11), None),  # the pool: read
        (1, _note(22), None),
        (0, _note(13), None),  # the slot pulse: read
        (1, _note(12), None),  # id 12 is not bound on endpoint 1
        (0, _note(99), None),  # not bound at all
        (0, _note(12).replace(b":12}}", b": 12}}"), None),  # shaped otherwise
        (0, _note(12) + b" ", None),
        (0, _note(12)[:-1], None),  # cut short: the ingest refuses it
        (0, b'{"jsonrpc":"2.0","result":12,"id":3}', None),  # an answer
        (0, b'{"params":{"result":{"subscription":12}}}', None),  # not the envelope's
    ]
    for ep, raw, forwarded in frames:
        n = len(inner.calls)
        got = tee.frame(ep, memoryview(raw), 5)
        if forwarded is None:
            assert got == 7 and inner.calls[n:] == [("frame", (ep, raw, 5))], raw
        else:
            assert got == forwarded and inner.calls[n:] == [], raw
    assert forwarder.forwarded == 3
    assert [(i.kind, i.endpoint, i.payload) for i in put.inputs if i.kind is Kind.FRAME] == [
        (Kind.FRAME, ep, raw) for ep, raw, _ in frames
    ]
    tee.unbind(0)  # its connection closed: its ids mean nothing now
    n = len(inner.calls)
    assert tee.frame(0, _note(12), 5) == 7 and len(inner.calls) == n + 1
    assert tee.frame(1, _note(21), 5) == 21 and len(inner.calls) == n + 1
    rivals = Forwarder(EnginePort(Calls()), Put(), logs=True)  # type: ignore[arg-type]
    rivals.apply(Kind.BIND, 0, 14, "Prog", "logs")
    assert rivals.apply(Kind.FRAME, 0, _note(14), 5) == 7 and rivals.forwarded == 0


def test_a_malformed_frame_is_refused_by_the_collectors_engine_as_before() -> None:
    import engine_rs
    from engine_rs.errors import EngineError

    eng = engine_rs.load("rust")
    put = Put()
    ingest = eng.FeedIngest(eng.PoolGraph(base_mints=[]), 1024, 64)
    forwarder = Forwarder(EnginePort(ingest), put)
    tee = IngestFacade(forwarder, ingest)
    tee.bind(0, 12, "11111111111111111111111111111111", "account")
    assert tee.frame(0, _note(12), 5) == 12
    with pytest.raises(EngineError):
        tee.frame(0, _note(12)[:-1], 5)
    assert len(put.inputs) == 3 and forwarder.forwarded == 1  # the bind, and both frames

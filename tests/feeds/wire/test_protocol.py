"""PubSub messages: the spec §5.1 frames parse, requests are what nodes expect, the id
book survives a reconnect, and malformed frames are a ProtocolError, never a crash."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from feeds.wire import protocol as P

WP = "EgxU92G34jw6QDG9RuTX9StFg1PmHuDqkRKAE5kVEiZ4"


def _account_frame(sub: int = 10, slot: int = 559, data: bytes = b"\x01\x02") -> str:
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "accountNotification",
            "params": {
                "result": {
                    "context": {"slot": slot},
                    "value": {
                        "lamports": 5_435_760,
                        "data": [base64.b64encode(data).decode(), "base64"],
                        "owner": "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc",
                        "executable": False,
                        "rentEpoch": 18446744073709551615,
                        "space": len(data),
                    },
                },
                "subscription": sub,
            },
        }
    )


def test_spec_frames_parse() -> None:
    a = P.parse_frame(_account_frame())
    assert isinstance(a, P.AccountNotification)
    assert (a.subscription, a.slot, a.data, a.rent_epoch) == (10, 559, b"\x01\x02", 2**64 - 1)
    logs = P.parse_frame(
        '{"jsonrpc":"2.0","method":"logsNotification","params":{"result":{"context":'
        '{"slot":5},"value":{"signature":"5h6x","err":null,"logs":["Program x invoke [1]"]}},'
        '"subscription":3}}'
    )
    assert isinstance(logs, P.LogsNotification) and logs.err is None and logs.slot == 5
    slot = P.parse_frame(
        b'{"jsonrpc":"2.0","method":"slotNotification","params":{"result":'
        b'{"parent":75,"root":44,"slot":76},"subscription":0}}'
    )
    assert slot == P.SlotNotification(0, 76, 75, 44)
    assert P.parse_frame('{"jsonrpc":"2.0","result":23784,"id":1}') == P.Response(1, 23784)
    err = P.parse_frame(
        '{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params"},"id":7}'
    )
    assert err == P.ErrorResponse(7, -32602, "Invalid params")


def test_requests_match_the_spec() -> None:
    sub = P.account_subscription(WP)
    assert json.loads(P.request(1, sub.method, sub.params)) == {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "accountSubscribe",
        "params": [WP, {"encoding": "base64", "commitment": "confirmed"}],
    }
    logs = P.logs_subscription(WP, "processed")
    assert json.loads(P.request(2, logs.method, logs.params))["params"] == [
        {"mentions": [WP]},
        {"commitment": "processed"},
    ]
    assert json.loads(P.request(3, "slotSubscribe")) == {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "slotSubscribe",
    }
    with pytest.raises(ValueError):
        P.account_subscription(WP, "final")


@given(
    kind=st.sampled_from(["account", "logs", "slot"]),
    key=st.binary(min_size=32, max_size=32),
    commitment=st.sampled_from(P.COMMITMENTS),
    id_=st.integers(0, 2**53),
)
def test_a_subscriptions_rendered_frame_is_the_request(
    kind: str, key: bytes, commitment: str, id_: int
) -> None:
    """The frame a subscription renders once (``Subscription.frame``) is byte for byte
    the request ``request`` builds with json for the same id."""
    from engine_rs.python.b58 import b58encode

    addr = b58encode(key)
    sub = {
        "account": lambda: P.account_subscription(addr, commitment),
        "logs": lambda: P.logs_subscription(addr, commitment),
        "slot": P.slot_subscription,
    }[kind]()
    assert sub.frame(id_) == P.request(id_, sub.method, sub.params)
    assert json.loads(sub.frame(id_))["id"] == id_


def test_book_tracks_ids_and_resubscribes_after_a_reconnect() -> None:
    book = P.Book()
    subs = [P.account_subscription(WP), P.slot_subscription(), P.logs_subscription(WP)]
    frames = [json.loads(book.subscribe(s)) for s in subs]
    assert [f["id"] for f in frames] == [1, 2, 3]
    assert book.answered(P.Response(1, 40)) is subs[0]
    assert book.answered(P.Response(2, 41)) is subs[1]
    assert book.answered(P.Response(99, True)) is None  # an unsubscribe ack
    with pytest.raises(P.ProtocolError):
        book.answered(P.Response(3, "nope"))
    assert book.active == {40: subs[0], 41: subs[1]}
    unsub = [json.loads(f) for f in book.unsubscribe_all()]
    assert [(u["method"], u["params"]) for u in unsub] == [
        ("accountUnsubscribe", [40]),
        ("slotUnsubscribe", [41]),
    ]
    again = book.reset()
    assert set(map(id, again)) == {id(subs[0]), id(subs[1])} and not book.active


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["subscribe", "answer", "drop", "clear", "reset"]),
            st.sampled_from(["account", "logs", "slot"]),
            st.integers(0, 3),  # which label (few: one label subscribed more than once)
            st.integers(0, 5),  # which pending request / active id; the server id given
        ),
        max_size=60,
    )
)
@example(  # two labels answered with one server id: the second replaces the first
    [("subscribe", "account", 0, 0), ("subscribe", "account", 1, 0)]
    + [("answer", "account", 0, 0)] * 2
)
def test_the_books_account_labels_are_its_active_account_subscriptions(
    ops: list[tuple[str, str, int, int]],
) -> None:
    """``Book.accounts`` (counted as subscriptions come and go) is at every step the set
    a walk over the active subscriptions gives, and the same object while that is the
    same: subscriptions answered (a server id given twice replaces the first), dropped,
    cleared, the connection reset."""
    book = P.Book()
    labels = [WP, "So11111111111111111111111111111111111111112", "A" * 43, "B" * 44]
    was = book.accounts()
    for op, kind, label, which in ops:
        addr = labels[label]
        if op == "subscribe":
            if kind == "account":
                book.subscribe(P.account_subscription(addr))
            else:
                book.subscribe(
                    P.logs_subscription(addr) if kind == "logs" else P.slot_subscription()
                )
        elif op == "answer" and book.pending:
            rid = sorted(book.pending)[which % len(book.pending)]
            book.answered(P.Response(rid, 40 + which % 3))  # (often an id given before)
        elif op == "drop":  # an active id (an unknown one when none is)
            book.drop(sorted(book.active)[which % len(book.active)] if book.active else 99)
        elif op == "clear":
            book.clear_active()
        elif op == "reset":
            book.reset()
        want = {s.label for s in book.active.values() if s.method == "accountSubscribe"}
        now = book.accounts()
        assert now == want
        assert (now is was) == (now == was)
        was = now


@pytest.mark.parametrize(
    "frame",
    [
        "",
        "not json",
        "[]",
        '{"jsonrpc":"1.0","id":1,"result":2}',
        '{"jsonrpc":"2.0","id":"x","result":2}',
        '{"jsonrpc":"2.0","id":1}',
        '{"jsonrpc":"2.0","method":"accountNotification","params":{"subscription":1}}',
        '{"jsonrpc":"2.0","method":"accountNotification","params":{"result":{},"subscription":1}}',
        '{"jsonrpc":"2.0","method":"slotNotification","params":{"result":{"slot":-1,'
        '"parent":0,"root":0},"subscription":1}}',
        '{"jsonrpc":"2.0","method":"slotNotification","params":{"result":{"slot":true,'
        '"parent":0,"root":0},"subscription":1}}',
        '{"jsonrpc":"2.0","method":"mysteryNotification","params":{"subscription":1}}',
        "[" * 100_000,
    ],
)
def test_malformed_frames_are_protocol_errors(frame: str) -> None:
    with pytest.raises(P.ProtocolError):
        P.parse_frame(frame)


def test_bad_account_data_is_a_protocol_error() -> None:
    f = json.loads(_account_frame())
    f["params"]["result"]["value"]["data"] = ["@@@", "base64"]
    with pytest.raises(P.ProtocolError, match="not base64"):
        P.parse_frame(json.dumps(f))
    f["params"]["result"]["value"]["data"] = ["AQI=", "base58"]
    with pytest.raises(P.ProtocolError, match="encoding"):
        P.parse_frame(json.dumps(f))


def test_dedup_keys_ignore_the_endpoint_and_separate_writes() -> None:
    a1 = P.parse_frame(_account_frame(sub=10))
    a2 = P.parse_frame(_account_frame(sub=77))  # same update, another endpoint's id
    assert isinstance(a1, P.AccountNotification) and isinstance(a2, P.AccountNotification)
    assert P.account_key(WP, a1.slot, a1.data) == P.account_key(WP, a2.slot, a2.data)
    assert P.account_key(WP, 559, b"x") != P.account_key(WP, 559, b"y")
    assert P.logs_key("sig", False) != P.logs_key("sig", True)
    assert P.slot_key(5) != P.slot_key(6)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(
        ["accountNotification", "logsNotification", "slotNotification", "other"]
    ),
    params=json_values,
    text=st.text(max_size=200),
)
def test_random_frames_parse_or_raise_protocol_error(
    method: str, params: object, text: str
) -> None:
    for frame in (
        json.dumps({"jsonrpc": "2.0", "method": method, "params": params}),
        json.dumps(
            {"jsonrpc": "2.0", "method": method, "params": {"subscription": 1, "result": params}}
        ),
        text,
    ):
        try:
            P.parse_frame(frame)
        except P.ProtocolError:
            pass

"""The reconcile's part of the ingest: what it holds of each account (the context slot
and the digest of the bytes last applied, by any path) compared with another copy
(``FeedIngest.compare``), and a trusted re-read applied only when it differs
(``FeedIngest.reconcile``), charging the endpoints that stream the account for a change
they never delivered. The two backends answer every call alike."""

from __future__ import annotations

import functools
import random
import types
from typing import Any

import pytest

import engine_rs
from engine_rs.errors import MathOverflowError
from tests.support.frames import (
    ENDPOINTS,
    Market,
    account_frame,
    account_value,
    make_ingest,
    market,
    read_market,
    same_call,
    sid,
)

SEED = 4


def _vault(m: Market, ing: Any) -> tuple[str, str, bytes]:
    """A watched SPL Token vault of the market, as the snapshot held it."""
    for k in ing.watched():
        owner, data = m.initial[k]
        if len(data) == 165 and any(r.startswith("vault") for r, _ in ing.roles(k)):
            return k, owner, data
    raise AssertionError("no vault")


def _moved(data: bytes, by: int = 1) -> bytes:
    """The vault's bytes with its amount moved (what a swap writes)."""
    amount = int.from_bytes(data[64:72], "little")
    return data[:64] + (amount + by).to_bytes(8, "little") + data[72:]


def _notify(ing: Any, ep: int, key: str, slot: int, owner: str, data: bytes, ns: int) -> None:
    import json

    index = ["slot", *ing.watched()].index(key)
    value = json.dumps(account_value(owner, data))
    ing.frame(ep, account_frame(sid(ep, key, index), slot, value).encode(), ns)


def test_what_is_held_is_compared_and_only_a_difference_is_applied(eng: types.ModuleType) -> None:
    m = market(SEED)
    _g, ing = make_ingest(eng, m)
    key, owner, data = _vault(m, ing)
    s0 = m.first_slot
    # the snapshot's bytes are what is held; other bytes are not; an unwatched key: None
    assert ing.compare([(key, owner, data)]) == [(s0, True)]
    assert ing.compare([(key, owner, _moved(data))]) == [(s0, False)]
    assert ing.compare([(key, "11111111111111111111111111111111", data)]) == [(s0, False)]
    assert ing.compare([("So11111111111111111111111111111111111111112", owner, data)]) == [None]
    assert ing.slots([key, "So11111111111111111111111111111111111111112"]) == [s0, 0]
    # a notification of endpoint 1 moves it: its bytes are held now, at its slot
    new = _moved(data, 7)
    _notify(ing, 1, key, s0 + 1, owner, new, 1_000)
    assert ing.compare([(key, owner, new), (key, owner, data)]) == [(s0 + 1, True), (s0 + 1, False)]
    ing.take_changed()
    # the reconcile: older than held, or the same bytes: nothing happens, no one charged
    assert ing.reconcile(key, owner, _moved(data, 9), s0) is False
    assert ing.reconcile(key, owner, new, s0 + 5) is False
    assert ing.take_changed() == [] and all(e.repaired == 0 for e in ing.endpoint_stats())
    # a change no endpoint delivered: applied, every endpoint that streams it charged
    later = _moved(data, 11)
    assert ing.reconcile(key, owner, later, s0 + 5) is True
    pools = {p for _, p in ing.roles(key)}
    assert set(ing.take_changed()) == pools
    assert ing.compare([(key, owner, later)]) == [(s0 + 5, True)]
    assert [e.repaired for e in ing.endpoint_stats()] == [1] * ENDPOINTS
    # ... and what came late of an older slot is refused as older (the repair stands)
    _notify(ing, 2, key, s0 + 3, owner, _moved(data, 3), 2_000)
    assert ing.compare([(key, owner, later)]) == [(s0 + 5, True)]
    assert {e.endpoint: e.older for e in ing.endpoint_stats()}[2] == 1
    # the stream's watermark: the newest context slot of its account notifications
    marks = {e.endpoint: e.account_slot for e in ing.endpoint_stats()}
    assert marks == {0: 0, 1: s0 + 1, 2: s0 + 3}


def test_an_endpoint_is_charged_only_for_what_it_streams(eng: types.ModuleType) -> None:
    m = market(SEED)
    _g, ing = read_market(eng, m, capacity=None, arrays=False)
    key, owner, data = _vault(m, ing)
    other = next(k for k in ing.watched() if k != key)
    ing.bind(0, 1, "slot", "slot")  # PubSub: subscribed to the vault
    ing.bind(0, 2, key, "account")
    ing.bind(1, 1, "slot", "slot")  # PubSub: subscribed to another account only
    ing.bind(1, 2, other, "account")
    ing.bind(2, 1, "slot", "slot")  # a gRPC stream: every watched account, no binding
    assert ing.reconcile(key, owner, _moved(data), m.first_slot + 1) is True
    assert {e.endpoint: e.repaired for e in ing.endpoint_stats()} == {0: 1, 1: 0, 2: 1}
    ing.unbind(2)  # its stream closed: nothing streams, nothing charged
    assert ing.reconcile(key, owner, _moved(data, 2), m.first_slot + 2) is True
    assert {e.endpoint: e.repaired for e in ing.endpoint_stats()} == {0: 2, 1: 0, 2: 1}


def test_bad_arguments_are_refused_alike() -> None:
    m = market(SEED)
    rust, py = (engine_rs.load(b) for b in ("rust", "python"))
    ings = [make_ingest(e, m)[1] for e in (rust, py)]
    key, owner, data = _vault(m, ings[0])
    for args in (
        (1, owner, data, 5),
        (key, None, data, 5),
        (key, owner, "text", 5),
        (key, owner, data, "5"),
        (key, owner, data, True),
        (key, owner, data, 2**64),
        (key, owner, data, -1),
    ):
        got = same_call(ings, lambda i, a=args: i.reconcile(*a))
        assert got[0] == "error", args
    assert same_call(ings, lambda i: i.reconcile(key, owner, data, 2**64)) == (
        "error",
        MathOverflowError,
    )
    for accounts in ([(key, owner)], [[key, owner, data]], [(key, 3, data)], [5], 7):
        assert same_call(ings, lambda i, a=accounts: i.compare(a)) == ("error", TypeError)


def test_the_backends_agree_call_by_call() -> None:
    """Random copies, notifications and repairs of the market's accounts on both backends:
    every answer (compare, slots, reconcile, endpoint stats) and the graph the same."""
    m = market(SEED)
    rust, py = (engine_rs.load(b) for b in ("rust", "python"))
    pairs = [make_ingest(e, m) for e in (rust, py)]
    ings = [i for _, i in pairs]
    rnd = random.Random(62)
    keys = [k for k in ings[0].watched() if len(m.initial[k][1]) == 165]
    slot, ns = m.first_slot, 0
    for _ in range(300):
        k = rnd.choice(keys)
        owner, data = m.initial[k]
        body = _moved(data, rnd.randrange(-5, 5))
        ns += 1_000
        what = rnd.random()
        call: Any
        if what < 0.4:
            slot += rnd.randrange(0, 2)
            ep = rnd.randrange(ENDPOINTS)
            call = functools.partial(_note, ep=ep, k=k, slot=slot, owner=owner, body=body, ns=ns)
        elif what < 0.8:
            at = slot - rnd.randrange(0, 3)
            call = functools.partial(_repair, k=k, owner=owner, body=body, at=at)
        else:
            call = functools.partial(_compare, k=k, owner=owner, body=body, data=data)
        same_call(ings, call)
        same_call(ings, functools.partial(_slots, keys=keys))
    stats = [
        [(e.endpoint, e.repaired, e.account_slot, e.older) for e in i.endpoint_stats()]
        for i in ings
    ]
    assert stats[0] == stats[1] and sum(r for _, r, _, _ in stats[0]) > 0
    assert sorted(pairs[0][0].pools()) == sorted(pairs[1][0].pools())


def _note(ing: Any, ep: int, k: str, slot: int, owner: str, body: bytes, ns: int) -> None:
    _notify(ing, ep, k, slot, owner, body, ns)


def _repair(ing: Any, k: str, owner: str, body: bytes, at: int) -> bool:
    return bool(ing.reconcile(k, owner, body, at))


def _compare(ing: Any, k: str, owner: str, body: bytes, data: bytes) -> Any:
    return ing.compare([(k, owner, body), (k, owner, data)])


def _slots(ing: Any, keys: list[str]) -> Any:
    return ing.slots(keys)


@pytest.mark.parametrize("backend", ["rust", "python"])
def test_a_notifications_digest_and_a_snapshots_are_one(backend: str) -> None:
    """The same bytes held by either path compare as the same: a notification's copy
    equal to what a re-read returns is no repair."""
    eng = engine_rs.load(backend)
    m = market(SEED)
    _, ing = make_ingest(eng, m)
    key, owner, data = _vault(m, ing)
    new = _moved(data, 4)
    _notify(ing, 0, key, m.first_slot + 2, owner, new, 10)
    assert ing.reconcile(key, owner, new, m.first_slot + 2) is False
    assert ing.reconcile(key, owner, new, m.first_slot + 3) is False
    ing.account(key, owner, _moved(data, 5), m.first_slot + 4)
    assert ing.compare([(key, owner, _moved(data, 5))]) == [(m.first_slot + 4, True)]

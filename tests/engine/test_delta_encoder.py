"""``DeltaEncoder``: the journal's writer side of large accounts stored as deltas, which
a recording session runs in every frame's receipt. Fed the same inputs in the same
order, Rust and twin store every one alike, byte for byte, with the same table (what it
holds and lets go, so later deltas agree too), whatever the inputs (books sent by several
endpoints, account and program notifications, subscriptions bound to their accounts,
HTTP accounts, frames that only look like notifications); the oracle is the journal's
reader (``storage.delta.Restorer``, written apart from both): every stored input comes
back as it was given, and the counts are what the stored inputs say. A bound account's
copy from another endpoint is stored as ``SAME`` (an encoder that ignores the bindings
fails that)."""

from __future__ import annotations

import json
import random
import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.codec import Input, Kind
from storage.delta import HEAD, MIN_SPAN, SAME, Restorer, binding
from tests.support.recorded import PUBKEYS, account_frame, book, sessions

Inputs = list[tuple[Kind, int, bytes]]


@st.composite
def bound_sessions(draw: st.DrawFn) -> Inputs:
    """:func:`sessions` with ``BIND`` inputs among them: an account subscription (of the
    ids the account frames use, on some endpoints), others that bind nothing (a slot
    subscription, a payload that is not one)."""
    items = draw(sessions())
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(0, 6))):
        at = rng.randrange(len(items) + 1)
        ep, which = rng.randrange(3), rng.randrange(3)
        payload = rng.choice(
            [
                json.dumps([100 + which, PUBKEYS[which % 2], "account"]),
                json.dumps([100 + which, "slot", "slot"]),
                json.dumps([True, PUBKEYS[0], "account"]),
                "[1, 2]",
                "5",
            ]
        ).encode()
        items.insert(at, (Kind.BIND, ep, payload))
    return items


def _engine_encode(
    enc: object, kind: Kind, ep: int, payload: bytes, view: bool
) -> tuple[int, bytes]:
    """What the recorder does with the engine's encoder: a BIND input binds, others are
    encoded (from a view of the payload, as picows hands a frame, when ``view``)."""
    if kind is Kind.BIND:
        bound = binding(payload)
        if bound is not None:
            enc.bind(ep, *bound)  # type: ignore[attr-defined]
        return int(kind), payload
    arg = memoryview(payload) if view else payload
    k, out = enc.encode(int(kind), ep, arg)  # type: ignore[attr-defined]
    return int(k), out


@given(items=bound_sessions(), small=st.booleans(), view=st.booleans())
@settings(max_examples=150, deadline=None)
def test_every_input_is_stored_as_the_journal_reads_it(
    rust: types.ModuleType, py: types.ModuleType, items: Inputs, small: bool, view: bool
) -> None:
    # small: a table that holds about one copy, so copies are let go and stored again
    limit = 12_000 if small else 64 * 2**20
    encs = [rust.DeltaEncoder(limit), py.DeltaEncoder(limit)]
    reader = Restorer(limit)
    deltas = same = 0
    for n, (kind, ep, payload) in enumerate(items):
        k, stored = _engine_encode(encs[0], kind, ep, payload, view)
        assert _engine_encode(encs[1], kind, ep, payload, view) == (k, stored)
        assert type(stored) is bytes
        back = reader.restore(Input(Kind(k), ep, n, n, stored))
        assert (back.kind, back.endpoint, back.payload) == (kind, ep, payload)
        if k == Kind.DELTA:
            deltas += 1
            same += HEAD.unpack_from(stored)[1] == SAME
    held = (len(reader.copies.spans), reader.copies.size)
    for enc in encs:
        assert (enc.deltas, enc.same, enc.copies()) == (deltas, same, held)


def test_a_short_payload_comes_back_as_the_same_bytes(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    """Stored as it is: the same object when it was bytes, bytes of it when a view."""
    for eng in (rust, py):
        enc = eng.DeltaEncoder()
        p = b'{"jsonrpc":"2.0","result":1,"id":1}'
        assert enc.encode(1, 0, p)[1] is p
        assert enc.encode(1, 0, memoryview(p)) == (1, p)
        with pytest.raises(TypeError):
            enc.encode(1, 0, "text")
        with pytest.raises(OverflowError):
            enc.encode(1, 70_000, p)


def _hows(enc: object, items: Inputs) -> list[int | None]:
    """How each input of ``items`` (not a BIND) is stored: a delta's ``how``, None when
    stored whole."""
    out: list[int | None] = []
    for kind, ep, payload in items:
        k, stored = _engine_encode(enc, kind, ep, payload, False)
        if kind is not Kind.BIND:
            out.append(HEAD.unpack_from(stored)[1] if k == Kind.DELTA else None)
    return out


def test_a_bound_accounts_copy_from_another_endpoint_is_same(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    """Every endpoint binds subscription 100 to one account and sends the same
    notification: the first is stored whole (FULL), the others as SAME. An encoder
    that never binds (the BIND inputs not handed to it) keys each endpoint's copy apart,
    and fails this."""
    from storage.delta import FULL

    data = bytes(book(random.Random(5), 2 * MIN_SPAN))
    items = _bound_book([0, 1, 2], data)
    for eng in (rust, py):
        assert _hows(eng.DeltaEncoder(), items) == [FULL, SAME, SAME]
        unbound = [i for i in items if i[0] is not Kind.BIND]
        assert _hows(eng.DeltaEncoder(), unbound) == [FULL, FULL, FULL]


def _bound_book(eps: list[int], data: bytes) -> Inputs:
    """Each endpoint of ``eps`` binds subscription 100 to one account, then sends the
    same notification of it."""
    bind = json.dumps([100, PUBKEYS[0], "account"]).encode()
    items: Inputs = [(Kind.BIND, ep, bind) for ep in sorted(set(eps))]
    return items + [(Kind.FRAME, ep, account_frame(100, 7, data)) for ep in eps]

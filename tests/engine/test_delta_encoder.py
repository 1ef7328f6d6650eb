"""``DeltaEncoder``: the journal's writer side of large accounts stored as deltas, which
a recording session runs in every frame's receipt. The oracle is the journal's own
``storage.delta.Encoder`` (the format's reference): fed the same inputs in the same
order, Rust and twin store every one as it does, byte for byte, with the same table
(what it holds and lets go, so later deltas agree too), whatever the inputs (books sent
by several endpoints, account and program notifications, subscriptions bound to their
accounts, HTTP accounts, frames that only look like notifications)."""

from __future__ import annotations

import json
import random
import types

import hypothesis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.codec import Kind
from storage.delta import MIN_SPAN, Encoder, binding
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
def test_every_input_is_stored_as_the_journal_stores_it(
    rust: types.ModuleType, py: types.ModuleType, items: Inputs, small: bool, view: bool
) -> None:
    # small: a table that holds about one copy, so copies are let go and stored again
    limit = 12_000 if small else 64 * 2**20
    want = Encoder(limit)
    encs = [rust.DeltaEncoder(limit), py.DeltaEncoder(limit)]
    for kind, ep, payload in items:
        k, stored = want.encode(kind, ep, payload)
        for enc in encs:
            got = _engine_encode(enc, kind, ep, payload, view)
            assert got == (int(k), stored)
            assert type(got[1]) is bytes
    held = (len(want.copies.spans), want.copies.size)
    for enc in encs:
        assert (enc.deltas, enc.same, enc.copies()) == (want.deltas, want.same, held)


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


def _unbound(items: Inputs) -> list[tuple[int, bytes]]:
    """The session stored by an encoder that never binds (every frame of an account
    subscription keyed by its endpoint and id: the journal reads it back, but another
    endpoint's copy is not SAME)."""
    from engine_rs.python.journal import DeltaEncoder

    enc = DeltaEncoder()
    return [enc.encode(int(k), ep, p) for k, ep, p in items if k is not Kind.BIND]


def test_the_property_fails_on_an_encoder_that_ignores_bindings() -> None:
    """The oracle tells an encoder that keys bound frames by their subscription from
    the journal's: the property above can fail."""
    rng = random.Random(5)
    data = bytes(book(rng, 2 * MIN_SPAN))

    def stored(items: Inputs) -> list[tuple[int, bytes]]:
        enc = Encoder()  # (a BIND input binds)
        out = [(k, enc.encode(k, ep, p)) for k, ep, p in items]
        return [kept for k, kept in out if k is not Kind.BIND]

    found = hypothesis.find(
        st.lists(st.sampled_from([0, 1, 2]), min_size=1, max_size=4),
        lambda eps: _unbound(items := _bound_book(eps, data)) != stored(items),
        settings=hypothesis.settings(database=None, derandomize=True),
    )
    assert found


def _bound_book(eps: list[int], data: bytes) -> Inputs:
    """Each endpoint of ``eps`` binds subscription 100 to one account, then sends the
    same notification of it."""
    bind = json.dumps([100, PUBKEYS[0], "account"]).encode()
    items: Inputs = [(Kind.BIND, ep, bind) for ep in sorted(set(eps))]
    return items + [(Kind.FRAME, ep, account_frame(100, 7, data)) for ep in eps]

"""``FeedIngest.frame_delta``: a recorded frame whose account data the journal stored as
a delta against the last copy under its key (``storage.delta``), restored by the ingest
itself. The oracle is the twin's ``frame`` on the frame put together by the journal's
own ``storage.delta.apply``: Rust and twin agree call by call with it (return value or
error class) and leave the same state, whatever the deltas (full, same, ranges, a copy
forgotten, a damaged one)."""

from __future__ import annotations

import random
import types
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine_rs.errors
from engine_rs.errors import InvalidInputError
from storage.delta import FULL, HEAD, RANGES, SAME, SPAN, apply, changes
from storage.journal import JournalError
from tests.support.frames import (
    ENDPOINTS,
    SEEDS,
    STATELESS_FIXTURE,
    STEPS,
    assert_same_state,
    make_ingest,
    market,
    messages,
    outcome,
    same_call,
)

_DATA = b'"data":'


def split(text: bytes) -> tuple[bytes, bytes, bytes] | None:
    """A frame's head, account data (its base64 string) and tail; None without one."""
    i = text.find(_DATA)
    if i < 0:
        return None
    start = text.find(b'"', i + len(_DATA)) + 1  # (after '["' or '[ "')
    end = text.find(b'"', start)
    return text[:start], text[start:end], text[end:]


def _ranges(body: bytes, n: int) -> bytes:
    """A damaged RANGES body (``n`` bytes cut off, or one past the copy's end)."""
    return body[:-n] if n else body[:4] + b"\xff\xff\xff\x7f" + body[8:]


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(
    seed=st.sampled_from(SEEDS),
    steps=st.integers(1, STEPS),
    rng=st.integers(0, 2**32 - 1),
    forget=st.sampled_from([0.0, 0.1]),
    damage=st.sampled_from([0.0, 0.05]),
)
def test_a_delta_frame_is_the_frame_the_journal_restores(
    rust: types.ModuleType,
    py: types.ModuleType,
    seed: int,
    steps: int,
    rng: int,
    forget: float,
    damage: float,
) -> None:
    _deltas(rust, py, seed, steps, rng, forget, damage)


def test_a_whole_market_goes_through_every_kind_of_delta(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    """The same on every step of one market, no copy forgotten: full copies, unchanged
    ones and ranges all met (the property above proves something)."""
    got = _deltas(rust, py, SEEDS[0], STEPS, 0, 0.0, 0.0)
    assert got[FULL] and got[SAME] and got[RANGES], got


def _deltas(
    rust: types.ModuleType,
    py: types.ModuleType,
    seed: int,
    steps: int,
    rng: int,
    forget: float,
    damage: float,
) -> dict[int, int]:
    """The market's first ``steps`` steps sent by every endpoint, each account frame as a
    delta against the last copy of its account; how many of each kind."""
    m = market(seed)
    rnd = random.Random(rng)
    # Rust, twin, and an oracle for each: the twin's frame on the restored frame
    pairs = [make_ingest(e, m) for e in (rust, py, py, py)]
    graphs, ings = [p[0] for p in pairs], [p[1] for p in pairs]
    copies: dict[bytes, bytes] = {}  # the journal reader's copies, by key
    ns, deltas = 2**41, {FULL: 0, SAME: 0, RANGES: 0}
    for step in m.steps[:steps]:
        for msg in messages(m, ings[0], step):
            for ep in range(ENDPOINTS):
                ns += rnd.randint(1, 5_000)
                text = msg.text(ep).encode()
                parts = split(text)
                if parts is None:  # not an account: as the journal keeps it, whole
                    _whole(ings, ep, text, ns)
                    continue
                key = b"p" + msg.label.encode()
                if rnd.random() < forget:  # the reader's table let it go
                    for ing in ings[:2]:
                        ing.drop_copy(key)
                    copies.pop(key, None)
                how = _delta(ings, ep, key, parts, copies.get(key), ns, rnd.random() < damage)
                copies[key] = parts[1]
                deltas[how] += 1
    # a delta against a copy not held: refused by both, nothing changed
    got = same_call(ings[:2], lambda ing: ing.frame_delta(0, b"none", b"", SAME, b"", b"", ns))
    assert got == ("error", InvalidInputError)
    for k in (0, 1):
        assert_same_state([ings[k], ings[k + 2]], [graphs[k], graphs[k + 2]], m, final=False)
    assert ings[0].copies() == ings[1].copies()
    assert ings[0].copies() == (len(copies), sum(map(len, copies.values())))
    return deltas


def _whole(ings: list[Any], ep: int, text: bytes, ns: int) -> None:
    """A frame without account data: ``frame`` on all four."""
    same_call(ings[:2], lambda ing: ing.frame(ep, text, ns))
    for oracle in ings[2:]:
        outcome(lambda o=oracle: o.frame(ep, text, ns))


def _delta(
    ings: list[Any],
    ep: int,
    key: bytes,
    parts: tuple[bytes, bytes, bytes],
    base: bytes | None,
    ns: int,
    damaged: bool,
) -> int:
    """An account frame as the journal stores it against ``base`` (the last copy under
    ``key``), through ``frame_delta`` on Rust and twin, the restored frame through the
    oracles' ``frame`` (a damaged delta first, refused by all: nothing changed); the
    delta's kind."""
    head, span, tail = parts
    if base is None or len(base) != len(span):
        how, body = FULL, span
    elif base == span:
        how, body = SAME, b""
    else:
        how, body = RANGES, changes(base, span)
    if how == RANGES and damaged:
        assert base is not None
        bad = _ranges(body, random.Random(ns).choice([0, 1, 3]))
        got = same_call(ings[:2], lambda ing: ing.frame_delta(ep, key, head, how, bad, tail, ns))
        assert got == ("error", InvalidInputError)
        assert outcome(lambda: apply(base, bad)) == ("error", JournalError)
    got = same_call(ings[:2], lambda ing: ing.frame_delta(ep, key, head, how, body, tail, ns))
    # the journal's reader restores the same frame
    if how == FULL:
        restored = head + body + tail
    else:
        assert base is not None
        restored = head + (base if how == SAME else apply(base, body)) + tail
    assert restored == head + span + tail
    for oracle in ings[2:]:
        assert outcome(lambda o=oracle: o.frame(ep, restored, ns)) == got
    return how


def _stored(key: bytes, parts: tuple[bytes, bytes, bytes], how: int, body: bytes) -> bytes:
    """A frame's ``DELTA`` payload as the journal lays it out (``storage.delta``)."""
    head, span, tail = parts
    return b"".join(
        (
            HEAD.pack(1, how, len(key)),
            key,
            SPAN.pack(len(head), len(span), len(head) + len(tail), 0 if how == FULL else 1),
            head,
            tail,
            body,
        )
    )


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(
    seed=st.sampled_from(SEEDS),
    steps=st.integers(1, STEPS),
    rng=st.integers(0, 2**32 - 1),
    forget=st.sampled_from([0.0, 0.2]),
    damage=st.sampled_from([0.0, 0.05]),
    tail=st.sampled_from(["end", "account", "truncated"]),
)
def test_a_packed_run_with_deltas_is_its_frames_restored(
    rust: types.ModuleType,
    py: types.ModuleType,
    seed: int,
    steps: int,
    rng: int,
    forget: float,
    damage: float,
    tail: str,
) -> None:
    """``frames(..., deltas=True)`` (a headless replay's run: frames whole and frames
    stored as deltas, ``storage.delta``'s layout) does what the twin's ``frame`` does on
    each frame restored, one by one (the oracle), Rust and twin alike: a damaged delta
    refused and counted, nothing changed; an account's delta ends the run; without
    ``deltas`` the run ends at the first delta; a batch cut short is refused by both."""
    from storage.codec import HEADER

    m = market(seed)
    rnd = random.Random(rng)
    pairs = [make_ingest(e, m) for e in (rust, py, py, py)]
    graphs, ings = [p[0] for p in pairs], [p[1] for p in pairs]
    copies: dict[bytes, bytes] = {}
    emap = list(range(ENDPOINTS))
    ns, kinds = 2**41, {FULL: 0, SAME: 0, RANGES: 0}
    for step in m.steps[:steps]:
        raw, expect, first_delta = b"", [], -1
        refused, per_ep, order = 0, {}, []  # order: each input's endpoint and time
        for msg in messages(m, ings[0], step):
            for ep in range(ENDPOINTS):
                ns += rnd.randint(1, 5_000)
                text = msg.text(ep).encode()
                parts = split(text)
                if parts is None:
                    raw += HEADER.pack(1, ep, ns, 0, len(text)) + text
                    expect.append((ep, text, ns))
                    order.append((ep, ns))
                    continue
                key = b"p" + msg.label.encode()
                base = copies.get(key)
                span = parts[1]
                if base is None or len(base) != len(span):
                    how, body = FULL, span
                elif base == span:
                    how, body = SAME, b""
                else:
                    how, body = RANGES, changes(base, span)
                kinds[how] += 1
                if first_delta < 0:
                    first_delta = len(raw)
                if how == RANGES and rnd.random() < damage:  # refused, the copy unchanged
                    bad = _ranges(body, rnd.choice([0, 1, 3]))
                    p = _stored(key, parts, how, bad)
                    raw += HEADER.pack(21, ep, ns, 0, len(p)) + p
                    refused += 1
                    order.append((ep, ns))
                if how == SAME and rnd.random() < damage:  # a SAME with a body: damaged
                    p = _stored(key, parts, how, b"x")
                    raw += HEADER.pack(21, ep, ns, 0, len(p)) + p
                    refused += 1
                    order.append((ep, ns))
                p = _stored(key, parts, how, body)
                raw += HEADER.pack(21, ep, ns, 0, len(p)) + p
                expect.append((ep, text, ns))
                order.append((ep, ns))
                copies[key] = span
        run_end = len(raw)
        if tail == "account":  # an account's delta ends the run
            p = HEAD.pack(2, FULL, 2) + b"aK" + SPAN.pack(0, 1, 0, 0) + b"x"
            raw += HEADER.pack(21, 0, ns, 0, len(p)) + p + HEADER.pack(1, 0, ns, 0, 2) + b"{}"
        elif tail == "truncated":
            raw += HEADER.pack(21, 0, ns, 0, 50) + b"{}"
        for ep, text, t in expect:
            for oracle in ings[2:]:
                try:
                    oracle.frame(ep, text, t)
                except engine_rs.errors.EngineError:
                    refused += oracle is ings[2]
        for ep, t in order:
            n, t0, _ = per_ep.get(ep, (0, t, 0))
            per_ep[ep] = (n + 1, t0, t)
        got = same_call(ings[:2], lambda ing, raw=raw: ing.frames(raw, 0, emap, 0, True))
        if tail == "truncated":
            assert got == ("error", InvalidInputError), got
            # (the frames before the cut were applied: the run applies as it goes)
        else:
            runs = sorted((e, n, first, last) for e, (n, first, last) in per_ep.items())
            assert got[0] == "ok"
            pos, got_runs, got_refused = got[1]
            assert (pos, sorted(got_runs), got_refused) == (run_end, runs, refused)
        if first_delta >= 0:  # a replay's state is not touched: a fresh pair reads it
            fresh = [make_ingest(e, m)[1] for e in (rust, py)]
            got = same_call(
                fresh, lambda ing, raw=raw, at=first_delta: ing.frames(raw, at, emap, 0)
            )
            assert got == ("ok", (first_delta, [], 0))
        for key in list(copies):
            if rnd.random() < forget:  # the reader's table let it go
                for ing in ings[:2]:
                    ing.drop_copy(key)
                del copies[key]
    for k in (0, 1):
        assert_same_state([ings[k], ings[k + 2]], [graphs[k], graphs[k + 2]], m, final=False)
    assert ings[0].copies() == ings[1].copies()
    assert ings[0].copies() == (len(copies), sum(map(len, copies.values())))

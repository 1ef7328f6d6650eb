"""Large accounts stored as deltas (``storage.delta``): every input comes back byte for
byte, whatever the frames hold; a delta that cannot be restored is a JournalError."""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine_rs
from arbscope.replay import ReplaySession, load_info
from storage.codec import Input, Kind, json_payload, pack, unpack
from storage.delta import (
    FULL,
    MIN_SPAN,
    RANGES,
    SAME,
    TABLE_BYTES,
    Held,
    Restorer,
    apply,
    changes,
    encode_input,
)
from storage.journal import Journal, JournalError
from storage.recorder import Recorder
from tests.support.paths import ROOT
from tests.support.recorded import PUBKEYS, account_frame, book, sessions


class Writer:
    """The journal's writer side as a recording session runs it: the engine's
    ``DeltaEncoder`` (what the session hands its recorder), a ``BIND`` input binding its
    account subscription (:func:`storage.delta.encode_input`)."""

    def __init__(self, limit: int = TABLE_BYTES) -> None:
        self.enc = engine_rs.load("rust").DeltaEncoder(limit)

    @property
    def deltas(self) -> int:
        return int(self.enc.deltas)

    @property
    def same(self) -> int:
        return int(self.enc.same)

    def encode(self, kind: Kind, endpoint: int, payload: bytes) -> tuple[int, bytes]:
        return encode_input(self.enc, kind, endpoint, payload)


def round_trip(
    items: list[tuple[Kind, int, bytes]], limit: int | None = None
) -> tuple[list[Input], Writer]:
    """``items`` encoded as the recorder stores them, packed into chunks of 3, read back
    and restored in order."""
    enc = Writer() if limit is None else Writer(limit)
    chunks: list[bytes] = []
    for i, (kind, ep, payload) in enumerate(items):
        k, stored = enc.encode(kind, ep, payload)
        if i % 3 == 0:
            chunks.append(b"")
        chunks[-1] += pack(Kind(k), ep, i, i, stored)
    res = Restorer() if limit is None else Restorer(limit)
    return [res.restore(inp) for raw in chunks for inp in unpack(raw)], enc


@given(items=sessions(), small=st.booleans())
@settings(max_examples=150, deadline=None)
def test_every_input_comes_back_byte_for_byte(
    items: list[tuple[Kind, int, bytes]], small: bool
) -> None:
    # small: a table that holds about one copy, so copies are dropped and stored again
    back, _ = round_trip(items, 12_000 if small else None)
    assert [(i.kind, i.endpoint, i.t_ns, i.payload) for i in back] == [
        (kind, ep, n, payload) for n, (kind, ep, payload) in enumerate(items)
    ]


@given(items=sessions(), small=st.booleans())
@settings(max_examples=100, deadline=None)
def test_deferred_deltas_come_back_byte_for_byte(
    items: list[tuple[Kind, int, bytes]], small: bool
) -> None:
    """A headless replay's reader (``Restorer.defer``): a frame's delta left as its parts
    for a holder of the copies (the engine's ``frame_delta``, modelled here by a dict),
    every other input restored; each comes back byte for byte, and the copies the table
    lets go (``copies.dropped``, in order) are exactly the holder's: it holds no more
    than the table counts."""
    limit = 12_000 if small else TABLE_BYTES
    enc, res = Writer(limit), Restorer(limit)
    held: dict[bytes, bytes] = {}
    for n, (kind, ep, payload) in enumerate(items):
        k, stored = enc.encode(kind, ep, payload)
        inp = Input(Kind(k), ep, n, n, stored)
        parts = res.defer(inp)
        for key in res.copies.dropped:
            del held[key]  # (a KeyError: a copy dropped that was never held)
        res.copies.dropped.clear()
        if parts is None:
            back = res.restore(inp)
            assert (back.kind, back.payload) == (kind, payload)
            continue
        key, head, how, body, tail = parts
        assert kind is Kind.FRAME
        if how == FULL:
            held[key] = body
        elif how == RANGES:
            held[key] = apply(held[key], body)
        assert head + held[key] + tail == payload
        counted = {k for k, (span, _v) in res.copies.spans.items() if isinstance(span, Held)}
        assert counted == set(held)


def test_a_changed_book_is_stored_in_a_few_bytes() -> None:
    """The oracle: what zstd/zlib makes of a book's copies, whole and as deltas."""
    rng = random.Random(3)
    b = book(rng, 90_952)
    frames = []
    for slot in range(20):
        for _ in range(12):  # a requote: a few leaves changed
            b[rng.randrange(len(b))] = rng.randrange(256)
        frames += [account_frame(5, slot, bytes(b)), account_frame(5, slot, bytes(b))]
    enc = Writer()
    stored = [enc.encode(Kind.FRAME, 0, f)[1] for f in frames]
    assert enc.deltas == len(frames) and enc.same == len(frames) // 2
    whole = sum(len(zlib.compress(f)) for f in frames[2:])  # one chunk per frame
    deltas = sum(len(zlib.compress(s)) for s in stored[2:])
    assert deltas * 50 < whole
    hows = [s[1] for s in stored[1:]]
    assert hows == [SAME, RANGES] * (len(frames) // 2 - 1) + [SAME]


def test_short_and_other_inputs_stay_whole() -> None:
    enc = Writer()
    small = account_frame(1, 1, bytes(100))
    assert enc.encode(Kind.FRAME, 0, small) == (Kind.FRAME, small)
    big_tick = b"x" * (3 * MIN_SPAN)
    assert enc.encode(Kind.TICK, 0, big_tick) == (Kind.TICK, big_tick)
    logs = b'{"method":"logsNotification","params":{"logs":["' + b"y" * 5000 + b'"]}}'
    assert enc.encode(Kind.FRAME, 0, logs) == (Kind.FRAME, logs)
    assert enc.deltas == 0


def _deltas() -> list[Input]:
    rng = random.Random(1)
    b = book(rng, 10_000)
    enc = Writer()
    out = []
    for slot in range(3):
        b[slot] ^= 1
        k, p = enc.encode(Kind.FRAME, 2, account_frame(9, slot, bytes(b)))
        out.append(Input(Kind(k), 2, slot, slot, p))
    return out


def test_a_delta_without_its_copy_is_a_journal_error() -> None:
    """A reader that starts past the first copy (a stream read from the middle)."""
    first, *later = _deltas()
    res = Restorer()
    with pytest.raises(JournalError, match="has not read"):
        res.restore(later[0])
    res.restore(first)
    assert res.restore(later[0]).kind is Kind.FRAME


@pytest.mark.parametrize("damage", ["cut", "how", "kind", "longer", "shorter", "range"])
def test_a_damaged_delta_is_a_journal_error(damage: str) -> None:
    first, second, _ = _deltas()
    p = bytearray(second.payload)
    if damage == "cut":
        p = p[:5]
    elif damage == "how":
        p[1] = 9
    elif damage == "kind":
        p[0] = int(Kind.TICK)
    elif damage == "range":  # the first range's start moved past the span's end
        p[-9:-5] = (10**6).to_bytes(4, "little")  # (count, start, length, 1 new byte)
    elif damage == "longer":
        p += b"\0"
    else:
        p = p[:-1]
    res = Restorer()
    res.restore(first)
    with pytest.raises(JournalError, match="damaged"):
        res.restore(Input(Kind.DELTA, 2, 1, 1, bytes(p)))


@given(
    base=st.binary(min_size=1, max_size=3000),
    edits=st.lists(st.tuples(st.integers(0, 2999), st.binary(min_size=1, max_size=40))),
)
@settings(max_examples=200, deadline=None)
def test_changes_turn_the_last_copy_into_the_new_one(
    base: bytes, edits: list[tuple[int, bytes]]
) -> None:
    new = bytearray(base)
    for at, data in edits:
        at %= len(new)
        new[at : at + len(data)] = data[: len(new) - at]
    new_b = bytes(new)
    if new_b != base:
        body = changes(base, new_b)
        assert apply(base, body) == new_b
        assert len(body) <= 4 + 8 * len(base) + len(base)


async def _read_back(j: Journal, sid: str) -> list[tuple[Kind, int, bytes]]:
    res, out = Restorer(), []
    async for inp in j.stored_inputs(sid):
        back = res.restore(inp)
        out.append((back.kind, back.endpoint, back.payload))
    return out


@pytest.mark.slow
async def test_books_through_the_queue_and_its_spill_come_back_byte_for_byte(
    tmp_path: Path,
) -> None:
    """The recorder stores them as deltas (in the order received, whatever the queue
    does: a bound small enough to spill and drain again), and they read back whole."""
    rng = random.Random(5)
    books = [book(rng, 20_000) for _ in range(3)]
    sent: list[tuple[Kind, int, bytes]] = []
    async with await Journal.open(tmp_path / "books.sqlite") as j:
        rec = await Recorder.start(
            j, "sim", {}, {}, batch_s=0.001, max_pending_bytes=8 * 1024, encoder=Writer().enc
        )
        for ep in range(3):
            for n in range(3):
                bind = json_payload([100 + n, PUBKEYS[0] + str(n), "account"])
                rec.input(Kind.BIND, ep, bind)
                sent.append((Kind.BIND, ep, bind))
        for slot in range(120):
            n = slot % 3
            for _ in range(rng.choice([1, 8, 60])):
                books[n][rng.randrange(len(books[n]))] = rng.randrange(256)
            for ep in rng.sample(range(3), 3):  # every endpoint's copy, in any order
                frame = account_frame(100 + n, slot, bytes(books[n]), " " * ep)
                rec.input(Kind.FRAME, ep, frame)
                sent.append((Kind.FRAME, ep, frame))
            if slot % 7 == 0:
                await rec.flush()
            elif slot % 3 == 0:
                await asyncio.sleep(0)
        assert len(await rec.close()) == 64
        assert rec.spilled > 0 and rec.deltas is not None and rec.deltas.same > 200
        assert await _read_back(j, rec.session) == sent
        stored = await j.session(rec.session)
        whole = sum(len(p) for _, _, p in sent)
        assert stored.inputs == len(sent)
    raw = sqlite3.connect(tmp_path / "books.sqlite").execute("SELECT sum(raw_len) FROM chunks")
    assert raw.fetchone()[0] * 20 < whole  # the deltas, before compression


async def test_a_replay_missing_a_copy_stops_with_a_journal_error(tmp_path: Path) -> None:
    """A chunk that held a book's first copy is gone (or damaged): the replay stops at
    the first delta that needs it, with a JournalError naming why, never a wrong frame."""
    db = tmp_path / "gap.sqlite"
    b = book(random.Random(2), 12_000)
    async with await Journal.open(db) as j:
        # (each chunk alone: a stream's next chunk would name the missing one first)
        rec = await Recorder.start(j, "sim", {}, {}, stream=False, encoder=Writer().enc)
        rec.input(Kind.BIND, 0, json_payload([7, PUBKEYS[1], "account"]))
        for slot in range(4):
            b[slot] ^= 0xFF
            rec.input(Kind.FRAME, 0, account_frame(7, slot, bytes(b)), slot + 1)
            await rec.flush()  # a chunk each
        await rec.close()
        sid = rec.session
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM chunks WHERE no = 1")  # the first copy's
    r = ReplaySession(db, await load_info(db, sid))
    await r.start()
    try:
        with pytest.raises(JournalError, match="has not read"):
            await r.play()
        assert "has not read" in r.start_error
    finally:
        await r.stop()


async def test_a_journal_from_before_deltas_reads_unchanged(tmp_path: Path) -> None:
    """``tests/data/replay-seed2.sqlite`` (whole frames, before Kind.DELTA): every input
    passes the restorer as it is (its digest: test_journal's committed-recording test);
    a recorder told ``deltas=False`` writes that format still."""
    db = tmp_path / "old.sqlite"
    shutil.copyfile(ROOT / "tests" / "data" / "replay-seed2.sqlite", db)
    res = Restorer()
    async with await Journal.open(db, create=False, write=False) as j:
        (info,) = await j.sessions()
        n = 0
        async for inp in j.stored_inputs(info.id):
            assert inp.kind is not Kind.DELTA and res.restore(inp) is inp
            n += 1
        assert n == info.inputs > 1000
    frame = account_frame(7, 1, bytes(10_000))
    async with await Journal.open(tmp_path / "whole.sqlite") as j:
        rec = await Recorder.start(j, "sim", {}, {})
        rec.deltas = None
        rec.input(Kind.FRAME, 0, frame)
        rec.input(Kind.FRAME, 1, frame)
        await rec.close()
        assert [i.kind async for i in j.stored_inputs(rec.session)] == [Kind.FRAME, Kind.FRAME]


def _table(res: Restorer) -> tuple[object, ...]:
    """A restorer's table as a value: each key's copy (its length when held elsewhere),
    version and order, the bytes counted, the copies let go."""
    spans = [
        (k, ("held", len(s)) if isinstance(s, Held) else bytes(s), v)
        for k, (s, v) in res.copies.spans.items()
    ]
    return spans, res.copies.size, list(res.copies.dropped)


def _damaged(rng: random.Random, p: bytes) -> bytes:
    """``p`` with a byte changed, cut short or grown (its header, lengths or ranges)."""
    b = bytearray(p)
    what = rng.randrange(5)
    if what == 4 and len(b) > 3 and b[1] == RANGES:  # a gap past the copy's end
        at = 3 + b[2]
        rest_len = int.from_bytes(b[at + 8 : at + 12], "little")
        body_at = at + 16 + rest_len
        if len(b) >= body_at + 12:
            b[body_at + 4 : body_at + 8] = (2**31 + rng.randrange(2**20)).to_bytes(4, "little")
    elif what == 0 and b:
        at = rng.randrange(min(len(b), 64))
        b[at] = rng.randrange(256)
    elif what == 1:
        del b[rng.randrange(len(b) + 1) :]
    elif what == 2:
        b += rng.randbytes(rng.randrange(1, 9))
    elif b:
        at = len(b) - 1 - rng.randrange(min(len(b), 24))  # the ranges' end
        b[at] = rng.randrange(256)
    return bytes(b)


@given(items=sessions(), small=st.booleans(), rng=st.randoms(use_true_random=False))
@settings(max_examples=100, deadline=None)
def test_hold_inline_is_hold_checked_in_turn(
    items: list[tuple[Kind, int, bytes]], small: bool, rng: random.Random
) -> None:
    """``Restorer.hold`` (the usual delta checked and counted inline) does what its
    checked way does (``_hold``: every check in turn, ``copies.store``), the oracle:
    the same answer or the same JournalError, the same table after, whatever the
    deltas (of frames and HTTP accounts, restored or held, damaged)."""
    limit = 12_000 if small else TABLE_BYTES
    enc, fast, slow = Writer(limit), Restorer(limit), Restorer(limit)
    for n, (kind, ep, payload) in enumerate(items):
        k, stored = enc.encode(kind, ep, payload)
        tries = [stored]
        if k == Kind.DELTA and rng.random() < 0.2:
            tries.insert(0, _damaged(rng, stored))
        for p in tries:
            got: list[tuple[str, object]] = []
            for hold in (fast.hold, slow._hold):
                try:
                    got.append(("ok", hold(p)))
                except JournalError as exc:
                    got.append(("error", str(exc)))
            assert got[0] == got[1]
            assert _table(fast) == _table(slow)
            if got[0] == ("ok", None) and p is stored:  # not held: restored, as a replay does
                for res in (fast, slow):
                    res.restore(Input(Kind(k), ep, n, n, p))
            if got[0][0] == "error" and p is stored:
                return  # (the session cannot go on past its own delta)

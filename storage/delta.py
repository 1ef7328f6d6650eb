"""Large accounts stored as deltas against their last stored copy (``Kind.DELTA``).

An order book side is ~91 KB of account data (~121 KB of base64 in a PubSub frame),
re-sent whole on every change by every endpoint; chunks are compressed one by one, so
each chunk held a fresh copy of every book that changed in it. Now an input whose
payload holds a long *span* (a frame's base64 account data, an HTTP account's bytes) is
stored as a ``DELTA`` input::

    kind u8 | how u8 | key length u8 | key | start u32 | span length u32 | rest length u32
    | version u32 | rest (the payload without the span) | body

``key`` names the account (``p`` + its pubkey, known from the frame itself
(``programNotification``) or from its subscription's ``BIND`` (``accountNotification``:
every endpoint's copy then has the same key); else ``s`` + the endpoint and subscription
id; ``a`` + the pubkey of an HTTP account) and ``how`` says what ``body`` is: ``FULL``
the span itself (the first copy under that key, or one of another length), ``SAME``
nothing (the span equals the last copy stored under the key: another endpoint's copy of
a notification), ``RANGES`` the ranges where the span differs from that copy, and their
new bytes (:func:`changes`: a requoted book side is a few hundred bytes, and the new
bytes — a maker's key, a price — repeat nearby, which zstd finds; an XOR of the two
copies measured 1.7 times larger once compressed). The transform is structural — the
payload is cut at two offsets and joined again, ranges copied over the last copy — never
a parse of the JSON or the base64, so any payload, canonical or not, comes back byte for
byte (the ingest gets the bytes it got live; the digest is unchanged).

The writer is the engine's ``DeltaEncoder`` (:class:`SpanEncoder`: Rust, and its twin
``engine_rs.python.journal``, the same bytes). The copies are a session's: a reader
restores the inputs in order from the session's first chunk (:class:`Restorer`), as a
replay reads them. Both sides keep the copies in the same bounded table (least recently
stored first out past :data:`TABLE_BYTES`, the same bound on both sides: part of the
format), updated by the same sequence of stores.
``version`` counts the copies stored under the key up to the one a delta is against
(0 for ``FULL``): a delta whose copy was not read — a reader that started mid-session, a
chunk gone or damaged — is a :class:`~storage.journal.JournalError`, never a wrong frame.
"""

from __future__ import annotations

import json
import struct
from collections import OrderedDict
from typing import Protocol

import numpy as np

from .codec import Input, Kind
from .journal import JournalError

# a span shorter than this (base64 characters) stays in its input: a delta would not pay.
# A pool account (AMM v4 752 bytes, a Whirlpool 653, a CLMM 1,544, a DLMM 904) changes a few
# words and its other endpoints' copies are the same: as deltas, bench.journal's recording
# re-written took 25 % less (36.5 -> 27.5 MB; 2,048 before). A token account (165 bytes,
# 220 characters) does not pay: with 200 or 64 the same recording took 28.2 MB.
MIN_SPAN = 512
TABLE_BYTES = 64 * 2**20  # the copies kept (bytes of spans): part of the format, never changed
GAP = 16  # changed words closer than this (bytes) are one range (a range costs 8 bytes)
FULL, SAME, RANGES = 0, 1, 2
HEAD = struct.Struct("<BBB")  # kind, how, key length
SPAN = struct.Struct("<IIII")  # start, span length, rest length, the copy's version
COUNT = struct.Struct("<I")
_FRAME, _ACCOUNT = int(Kind.FRAME), int(Kind.ACCOUNT)
_KINDS = {_FRAME: Kind.FRAME, _ACCOUNT: Kind.ACCOUNT}  # what a delta may restore


class Held:
    """A copy the table counts but another holds (a replay's engine ingest,
    ``FeedIngest.frame_delta``): its length only."""

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n


class _Copies:
    """The last stored copy of each key's span and how many copies were stored under the
    key (its version), at most ``limit`` bytes of them (the least recently stored go
    first). Writer and reader store the same spans in the same order, so their tables are
    the same at every input; a delta names its copy's version, so a reader that missed
    one (a chunk gone) is told, never handed a wrong frame."""

    def __init__(self, limit: int = TABLE_BYTES) -> None:
        self.limit = limit
        self.spans: OrderedDict[bytes, tuple[bytes | memoryview | Held, int]] = OrderedDict()
        self.size = 0
        self.dropped: list[bytes] = []  # the keys of copies held elsewhere, gone from here

    def get(self, key: bytes) -> tuple[bytes | memoryview | Held, int] | None:
        return self.spans.get(key)

    def store(self, key: bytes, span: bytes | memoryview | Held) -> None:
        old = self.spans.pop(key, None)
        version = 1
        if old is not None:
            self.size -= len(old[0])
            version = old[1] + 1 & 0xFFFFFFFF
        self.spans[key] = (span, version)
        self.size += len(span)
        self.trim()

    def trim(self) -> None:
        """The least recently stored copies let go until the table is within its
        limit (the last one stored always stays)."""
        while self.size > self.limit and len(self.spans) > 1:
            key, (gone, _v) = self.spans.popitem(last=False)
            self.size -= len(gone)
            if type(gone) is Held:
                self.dropped.append(key)


def changes(base: bytes | memoryview, span: bytes) -> bytes:
    """What turns ``base`` into ``span`` (the same length, not equal): the ranges that
    differ, as ``count u32`` then, per range, ``u32`` bytes since the last range's end and
    ``u32`` length, then their new bytes. Compared 8 bytes at a time (a range is whole
    8-byte words, the last one cut at the end; words less than GAP bytes apart joined)."""
    n = len(span)
    k = n // 8
    words = np.flatnonzero(np.frombuffer(base, "<u8", k) != np.frombuffer(span, "<u8", k))
    cut = np.flatnonzero(np.diff(words) > GAP // 8)
    starts = (np.concatenate((words[:1], words[cut + 1])) * 8).tolist()
    ends = ((np.concatenate((words[cut], words[-1:])) + 1) * 8).tolist()
    if bytes(base[8 * k :]) != span[8 * k :]:  # the last bytes, past the last whole word
        if ends and ends[-1] + GAP >= 8 * k:
            ends[-1] = n
        else:
            starts.append(8 * k)
            ends.append(n)
    view = memoryview(span)
    steps = np.diff(np.array([starts, ends], np.int64).T.ravel(), prepend=0).astype("<u4")
    return b"".join(
        [COUNT.pack(len(starts)), steps.tobytes(), *map(view.__getitem__, map(slice, starts, ends))]
    )


def apply(
    base: bytes | memoryview, body: bytes | memoryview, head: bytes = b"", tail: bytes = b""
) -> bytes:
    """``head``, then ``base`` with the ranges of ``body`` (:func:`changes`) written over
    it, then ``tail``, joined in one copy; JournalError when the ranges do not fit."""
    try:
        (count,) = COUNT.unpack_from(body, 0)
        steps = struct.unpack_from(f"<{2 * count}I", body, COUNT.size)
    except struct.error:
        raise JournalError("a recorded delta input is damaged (its ranges are cut short)") from None
    old, new = memoryview(base), memoryview(body)
    pieces: list[bytes | memoryview] = [head]
    pos, at = 0, COUNT.size + 8 * count
    for i in range(0, 2 * count, 2):
        start = pos + steps[i]
        n = steps[i + 1]
        pieces += (old[pos:start], new[at : at + n])
        pos, at = start + n, at + n
    if pos > len(old) or at != len(new):
        raise JournalError("a recorded delta input is damaged (its ranges do not fit)")
    pieces += (old[pos:], tail)
    return b"".join(pieces)


def binding(payload: bytes) -> tuple[int, bytes] | None:
    """A ``BIND`` input's (``[subscription, label, kind]``) account subscription: its
    id and account, whose notifications are keyed by the account from then on; None for
    another kind of subscription, or a payload that is not one."""
    try:
        sid, label, what = json.loads(payload)
        if what == "account" and isinstance(sid, int) and isinstance(label, str):
            if 0 <= sid < 2**128:  # (an id a frame's digits name is under 10^24)
                return int(sid), label.encode()
    except (ValueError, TypeError):
        pass
    return None


class SpanEncoder(Protocol):
    """What turns the inputs a recorder records into their stored form: the engine's
    ``DeltaEncoder`` (Rust, or its twin ``engine_rs.python.journal``), which the session
    hands the recorder (this package imports no engine). It takes a frame's bytes as the
    socket's buffer gives them, so a frame stored as a delta is never copied whole; the
    recorder binds the account subscriptions of ``BIND`` inputs (:func:`binding`)."""

    @property
    def deltas(self) -> int: ...
    @property
    def same(self) -> int: ...

    def bind(self, endpoint: int, subscription: int, account: bytes) -> None: ...

    def encode(self, kind: int, endpoint: int, payload: bytes) -> tuple[int, bytes]:
        """(kind, payload) as stored: ``(Kind.DELTA, ...)`` for a payload with a long
        span, else the input as it is (as bytes)."""
        ...


def encode_input(enc: SpanEncoder, kind: int, endpoint: int, payload: bytes) -> tuple[int, bytes]:
    """An input as a recorder stores it with ``enc`` (the engine's ``DeltaEncoder``): a
    ``BIND`` input binds its account subscription (:func:`binding`) and stays as it is,
    any other is encoded (``(Kind.DELTA, ...)`` for a long span). For what re-records a
    journal (benches, tests); the recorder does the same inline."""
    if kind == Kind.BIND:
        bound = binding(payload)
        if bound is not None:
            enc.bind(endpoint, *bound)
        return kind, payload
    return enc.encode(kind, endpoint, payload)


class Restorer:
    """The reader's side: :meth:`restore` each input of a session in order, from its
    first chunk; a ``DELTA`` comes back as the input that was recorded (or, :meth:`defer`,
    a frame's delta as its parts, for an engine that keeps the copies itself)."""

    def __init__(self, limit: int = TABLE_BYTES) -> None:
        self.copies = _Copies(limit)

    def _read(
        self, p: bytes
    ) -> tuple[int, int, bytes, int, int, tuple[bytes | memoryview | Held, int] | None, int, int]:
        """A delta input's header, checked: (kind, how, key, start, span length, the copy
        it is against (None for FULL), where the head starts, where the body starts)."""
        try:
            kind, how, klen = HEAD.unpack_from(p, 0)
            off = HEAD.size + klen
            start, span_len, rest_len, version = SPAN.unpack_from(p, off)
        except struct.error:
            raise JournalError("a recorded delta input is damaged (cut short)") from None
        key = p[HEAD.size : off]
        off += SPAN.size
        body_at = off + rest_len
        body_len = len(p) - body_at
        if how not in (FULL, SAME, RANGES):
            raise JournalError(f"a recorded delta input is damaged (how {how})")
        if (
            body_len < 0
            or (how == FULL and body_len != span_len)
            or (how == SAME and body_len != 0)
            or start > rest_len
            or kind not in (_FRAME, _ACCOUNT)
        ):
            raise JournalError("a recorded delta input is damaged (its lengths disagree)")
        last = None
        if how != FULL:
            last = self.copies.get(key)
            if last is None or last[1] != version:
                raise JournalError(
                    "a recorded delta input refers to account data this reader has not "
                    "read (a session is read from its first chunk, in order, every chunk)"
                )
            if len(last[0]) != span_len:
                raise JournalError("a recorded delta input is damaged (its copy's length)")
        return kind, how, key, start, span_len, last, off, body_at

    def restore(self, inp: Input) -> Input:
        if inp.kind is not Kind.DELTA:
            return inp
        p = inp.payload
        kind, how, key, start, span_len, last, off, body_at = self._read(p)
        head, tail = p[off : off + start], p[off + start : body_at]
        if last is None:  # FULL
            payload = b"".join((head, p[body_at:], tail))
        else:
            base = last[0]
            if type(base) is Held:
                raise JournalError("a recorded delta input refers to a copy another reader holds")
            assert not isinstance(base, Held)
            if how == SAME:
                payload = b"".join((head, base, tail))
            else:  # the copy with the ranges written over it
                payload = apply(base, memoryview(p)[body_at:], head, tail)
        # the span as this payload holds it (a view: no copy)
        self.copies.store(key, memoryview(payload)[start : start + span_len])
        return Input(_KINDS[kind], inp.endpoint, inp.t_ns, inp.wall_us, payload)

    def defer(self, inp: Input) -> tuple[bytes, bytes, int, bytes, bytes] | None:
        """A frame's ``DELTA`` input checked and counted in the table, its copy left to
        the caller (an engine that keeps the copies: ``FeedIngest.frame_delta``, which
        writes the ranges): ``(key, head, how, body, tail)``; None for any other input
        (:meth:`restore` it). The keys of such copies the table lets go are appended to
        ``self.copies.dropped`` (the caller forgets them in the same order)."""
        if inp.kind is not Kind.DELTA:
            return None
        p = inp.payload
        if self.hold(p) is None:
            return None
        return frame_parts(p)

    def hold(self, p: bytes) -> tuple[int, int] | None:
        """A frame's ``DELTA`` payload ``p`` checked and counted in the table as
        :meth:`defer` does, its parts left to the caller to cut (an engine that reads the
        delta as stored: ``FeedIngest.frames(..., deltas=True)``): where the frame's head
        starts and ends in ``p``; None (nothing done) for any other payload (restore it).
        A delta that fits (the usual one) is checked and counted inline, the checks of
        :meth:`_hold` in another order; any other goes :meth:`_hold`'s way (its
        JournalError, or its None)."""
        if not p or p[0] != _FRAME:
            return None
        try:
            how, klen = p[1], p[2]
            off = 3 + klen
            start, span_len, rest_len, version = _SPAN_AT(p, off)
        except (IndexError, struct.error):
            return self._hold(p)
        key = p[3:off]
        off += 16
        body_at = off + rest_len
        body_len = len(p) - body_at
        if start > rest_len or body_len < 0:
            return self._hold(p)
        copies = self.copies
        spans = copies.spans
        if how == FULL:
            if body_len != span_len:
                return self._hold(p)
            last = spans.pop(key, None)
        elif how == SAME or how == RANGES:
            if how == SAME and body_len:
                return self._hold(p)
            last = spans.get(key)
            if last is None or last[1] != version:
                return self._hold(p)
            base = last[0]
            if type(base) is not Held:
                return self._hold(p)  # (a restored copy, or a length that differs)
            if base.n != span_len:
                return self._hold(p)
            if how == RANGES:
                if body_len < 4:
                    return self._hold(p)
                (count,) = _COUNT_AT(p, body_at)
                if 4 + 8 * count > body_len:
                    return self._hold(p)
                steps = _steps(count).unpack_from(p, body_at + 4)
                if sum(steps) > span_len or 4 + 8 * count + sum(steps[1::2]) != body_len:
                    return self._hold(p)
            del spans[key]
        else:
            return self._hold(p)
        # copies.store(key, Held(span_len)), inline
        if last is None:
            version = 1
        else:
            gone = last[0]
            copies.size -= gone.n if type(gone) is Held else len(gone)
            version = last[1] + 1 & 0xFFFFFFFF
        spans[key] = (Held(span_len), version)
        copies.size += span_len
        if copies.size > copies.limit:
            copies.trim()
        return off, off + start

    def _hold(self, p: bytes) -> tuple[int, int] | None:
        """:meth:`hold`, every check in turn (a damaged delta's JournalError)."""
        if len(p) < 1 or p[0] != _FRAME:
            return None
        _kind, how, key, start, span_len, last, off, body_at = self._read(p)
        if last is not None and type(last[0]) is not Held:
            return None  # (a copy this reader restored: restore it so)
        if how == RANGES:
            _check_ranges(memoryview(p)[body_at:], span_len)
        self.copies.store(key, Held(span_len))
        return off, off + start


_SPAN_AT, _COUNT_AT = SPAN.unpack_from, COUNT.unpack_from
_STEPS: dict[int, struct.Struct] = {}


def _steps(count: int) -> struct.Struct:
    """The ranges' ``2 * count`` u32 (a struct per count, kept)."""
    st = _STEPS.get(count)
    if st is None:
        if len(_STEPS) > 256:
            _STEPS.clear()
        st = _STEPS[count] = struct.Struct(f"<{2 * count}I")
    return st


def frame_parts(p: bytes) -> tuple[bytes, bytes, int, bytes, bytes]:
    """A frame's ``DELTA`` payload (one :meth:`Restorer.hold` checked) cut into ``(key,
    head, how, body, tail)``, as ``FeedIngest.frame_delta`` takes it."""
    _kind, how, klen = HEAD.unpack_from(p, 0)
    off = HEAD.size + klen
    start, _span_len, rest_len, _version = SPAN.unpack_from(p, off)
    key = p[HEAD.size : off]
    off += SPAN.size
    body_at = off + rest_len
    return key, p[off : off + start], how, p[body_at:], p[off + start : body_at]


def _check_ranges(body: bytes | memoryview, span_len: int) -> None:
    """JournalError unless the ranges of ``body`` (:func:`changes`) fit a copy of
    ``span_len`` bytes (as :func:`apply` checks them)."""
    try:
        (count,) = COUNT.unpack_from(body, 0)
        steps = struct.unpack_from(f"<{2 * count}I", body, COUNT.size)
    except struct.error:
        raise JournalError("a recorded delta input is damaged (its ranges are cut short)") from None
    lengths = sum(steps[1::2])
    if sum(steps) > span_len or COUNT.size + 8 * count + lengths != len(body):
        raise JournalError("a recorded delta input is damaged (its ranges do not fit)")

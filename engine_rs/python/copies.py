"""The last copy of each large account's data a recording stored, kept by the ingest so
a replay hands it a delta instead of a restored frame (``FeedIngest.frame_delta``).

A delta says how the next copy under a key differs from the last: ``FULL`` (the span
itself), ``SAME`` (nothing) or ``RANGES`` (:func:`write_ranges`: ``storage.delta.changes``'
bytes), checked before anything is written. The core also keeps each copy decoded, range
by range (a speed-up only: the twin puts the frame together and reads it whole)."""

from __future__ import annotations

import struct

from ..errors import InvalidInputError

FULL, SAME, RANGES = 0, 1, 2
_STORED_FRAME = 1  # storage.codec.Kind.FRAME
_HEADER = struct.Struct("<BHqqI")  # storage.codec.HEADER: kind, endpoint, ns, µs, length
_SPAN = struct.Struct("<IIII")  # start, span length, rest length, version

# what :func:`stored` says of a DELTA input that is another input's, or damaged
OTHER, DAMAGED = "other", "damaged"


def stored(p: bytes) -> tuple[bytes, bytes, int, bytes, bytes] | str:
    """A journal's ``DELTA`` input's payload (``storage.delta``: kind u8, how u8, key
    length u8, the key, then start u32, span length u32, rest length u32 and version u32,
    little endian, then the frame without its span — ``rest``, the span was at ``start``
    —, then the body): a frame's cut into ``(key, head, how, body, tail)`` (head
    ``rest[:start]``, tail ``rest[start:]``), checked as the journal's reader checks it
    short of its table (a known ``how``, a ``FULL`` body as long as the span, a ``SAME``
    one empty, ``start`` within the rest); :data:`OTHER` for another input's delta (an
    HTTP account's), :data:`DAMAGED` when it is cut short or its lengths disagree. The
    version is the reader's to check."""
    if not p or p[0] != _STORED_FRAME:
        return OTHER
    if len(p) < 3:
        return DAMAGED
    how, klen = p[1], p[2]
    off = 3 + klen
    if len(p) < off + _SPAN.size:
        return DAMAGED
    start, span_len, rest_len, _version = _SPAN.unpack_from(p, off)
    rest_at = off + _SPAN.size
    body_at = rest_at + rest_len
    if body_at > len(p):
        return DAMAGED
    body_len = len(p) - body_at
    fits = {FULL: body_len == span_len, SAME: body_len == 0, RANGES: True}.get(how, False)
    if not fits or start > rest_len:
        return DAMAGED
    return p[3:off], p[rest_at : rest_at + start], how, p[body_at:], p[rest_at + start : body_at]


def write_ranges(span: bytes, body: bytes) -> bytes:
    """``span`` with the ranges of ``body`` (``count u32``, per range ``u32`` bytes since
    the last range's end and ``u32`` length, then their new bytes) written over it;
    InvalidInputError when they do not fit."""
    cut = "a delta is damaged (its ranges are cut short)"
    if len(body) < 4:
        raise InvalidInputError(cut)
    (count,) = struct.unpack_from("<I", body, 0)
    if 4 + 8 * count > len(body):
        raise InvalidInputError(cut)
    steps = struct.unpack_from(f"<{2 * count}I", body, 4)
    pos, at = 0, 4 + 8 * count
    out = bytearray(span)
    todo = []
    for i in range(0, 2 * count, 2):
        start = pos + steps[i]
        n = steps[i + 1]
        todo.append((start, at, n))
        pos, at = start + n, at + n
    if pos > len(span) or at != len(body):
        raise InvalidInputError("a delta is damaged (its ranges do not fit)")
    for start, at, n in todo:
        out[start : start + n] = body[at : at + n]
    return bytes(out)


GAP = 16  # changed words closer than this (bytes) are one range: storage.delta.GAP
_BLOCK = 64  # equal blocks of this many bytes are skipped whole


def delta_changes(
    base: bytes | bytearray | memoryview, span: bytes | bytearray | memoryview
) -> bytes:
    """What turns ``base`` into ``span`` (the same length): the journal's ``RANGES``
    body (``count u32``, per range ``u32`` bytes since the last range's end and ``u32``
    length, then the ranges' new bytes), byte for byte ``storage.delta.changes``:
    compared 8 bytes at a time, a range is whole words (the last one cut at the end),
    words less than :data:`GAP` bytes apart are one range, and the bytes past the last
    whole word join the last range when it ends within :data:`GAP` of them.
    InvalidInputError when the lengths differ."""
    for x in (base, span):
        if not isinstance(x, (bytes, bytearray, memoryview)):
            raise TypeError(f"data: expected bytes, got {type(x).__name__}")
    old, new = bytes(base), bytes(span)
    n = len(new)
    if len(old) != n:
        raise InvalidInputError(f"a delta's copy has {len(old)} bytes and the span {n}")
    if n > 0xFFFFFFFF:
        raise InvalidInputError(f"a span of {n} bytes is over a delta's u32 lengths")
    words = n - n % 8
    ranges: list[list[int]] = []
    i = 0
    while i < words:
        if i + _BLOCK <= words and old[i : i + _BLOCK] == new[i : i + _BLOCK]:
            i += _BLOCK
            continue
        if old[i : i + 8] != new[i : i + 8]:
            if ranges and i + 8 - ranges[-1][1] <= GAP:
                ranges[-1][1] = i + 8
            else:
                ranges.append([i, i + 8])
        i += 8
    if old[words:] != new[words:]:
        if ranges and ranges[-1][1] + GAP >= words:
            ranges[-1][1] = n
        else:
            ranges.append([words, n])
    steps: list[int] = []
    pos = 0
    for start, end in ranges:
        steps += (start - pos, end - start)
        pos = end
    head = struct.pack(f"<I{len(steps)}I", len(ranges), *steps)
    return b"".join([head, *(new[start:end] for start, end in ranges)])


def scan_frames(
    raw: bytes, start: int, notice: bytes, within: int
) -> tuple[int, list[int], list[int], int, bool]:
    """The frames stored whole (header and payload within ``raw``) that follow one
    another in a decompressed journal chunk from ``start`` (a replay's reader gathers
    them in runs): ``(end, offsets, receive ns, one past the highest endpoint,
    noticed)``, up to the first input that is not one (another kind, cut short: the
    reader's to say) or through the first whose payload's first ``within`` bytes hold
    ``notice`` (``noticed``)."""
    if not isinstance(raw, bytes) or not isinstance(notice, bytes):
        raise TypeError("raw and notice: expected bytes")
    if start < 0 or within < 0:
        raise OverflowError("can't convert negative int to unsigned")
    head, size, n, find = _HEADER.unpack_from, _HEADER.size, len(raw), raw.find
    offs: list[int] = []
    ts: list[int] = []
    pos = end_at = start
    top = 0
    while pos + size <= n:
        kind, ep, t_ns, _wall, length = head(raw, pos)
        body = pos + size
        end = body + length
        if kind != _STORED_FRAME or end > n:
            break
        offs.append(pos)
        ts.append(t_ns)
        top = max(top, ep + 1)
        pos = end_at = end
        if find(notice, body, min(end, body + within)) >= 0:
            return end_at, offs, ts, top, True
    return end_at, offs, ts, top, False

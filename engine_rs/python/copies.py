"""The last copy of each large account's data a recording stored, kept by the ingest so
a replay hands it a delta instead of a restored frame (``FeedIngest.frame_delta``).

A delta says how the next copy under a key differs from the last: ``FULL`` (the span
itself), ``SAME`` (nothing) or ``RANGES`` (:func:`write_ranges`: ``storage.delta.changes``'
bytes), checked before anything is written. The core also keeps each copy decoded, range
by range (a speed-up only: the twin puts the frame together and reads it whole)."""

from __future__ import annotations

import struct

from ..errors import InvalidInputError


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

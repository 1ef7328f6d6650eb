"""The journal's writer side of large accounts stored as deltas: a recording session
hands every input it records to :meth:`DeltaEncoder.encode`, in order, inside the
frame's receipt. An input whose payload holds a long span (a PubSub frame's base64
account data, an HTTP account's bytes) comes back as a ``DELTA`` input (kind 21) against
the last copy stored under its key, byte for byte what ``storage.delta.Encoder`` writes,
with the same table of copies (the least recently stored go first past its bytes):

``kind u8 | how u8 | key length u8 | key | start u32 | span length u32 | rest length u32 |
version u32 | rest (the payload without the span) | body`` (little endian), ``how``
``FULL`` (the span), ``SAME`` (nothing) or ``RANGES`` (:func:`.copies.delta_changes`).

A frame's key is ``p`` + its account (named in the frame, ``programNotification``, or
bound to its subscription: :meth:`DeltaEncoder.bind`), else ``s`` + the endpoint (u16)
and the subscription id's digits; an HTTP account's (``[pubkey, owner, slot]`` NUL
data) ``a`` + its pubkey."""

from __future__ import annotations

import struct
from collections import OrderedDict

from ..errors import InvalidInputError
from ._ints import Readonly
from .copies import FULL, RANGES, SAME, delta_changes

MIN_SPAN = 512  # a span shorter than this (characters) stays in its input
TABLE_BYTES = 64 * 2**20  # the copies a table keeps (bytes of spans)
KIND_FRAME, KIND_ACCOUNT, KIND_DELTA = 1, 2, 21
_HEAD = struct.Struct("<BBB")
_SPAN = struct.Struct("<IIII")
_DATA = b'"data":'
_PUBKEY = b'"pubkey":"'
_SUB = b'"subscription":'
_U16 = 0xFFFF


class DeltaEncoder:
    """See the module doc; ``limit``: the table's bytes of copies."""

    def __init__(self, limit: int = TABLE_BYTES) -> None:
        if limit < 0:
            raise OverflowError("can't convert negative int to unsigned")
        self._limit = limit
        self._size = 0
        self._spans: OrderedDict[bytes, tuple[bytes, int]] = OrderedDict()
        self._subs: dict[tuple[int, int], bytes] = {}
        self._deltas = 0
        self._same = 0

    deltas = Readonly[int](
        "_deltas",
        "Inputs stored as deltas so far.",
    )

    same = Readonly[int](
        "_same",
        "Of them, spans equal to their copy.",
    )

    def bind(self, endpoint: int, subscription: int, account: bytes) -> None:
        """An account subscription's notifications on ``endpoint`` under
        ``subscription`` are keyed by its account from now on."""
        _u16(endpoint)
        if not 0 <= subscription < 2**128:
            raise OverflowError("subscription: out of range for u128")
        self._subs[endpoint, subscription] = bytes(account)

    def copies(self) -> tuple[int, int]:
        """How many copies the table holds, and their bytes."""
        return len(self._spans), self._size

    def encode(
        self, kind: int, endpoint: int, payload: bytes | bytearray | memoryview
    ) -> tuple[int, bytes]:
        """``(21, the DELTA input)`` for a payload with a long span, else ``(kind,
        payload)`` as bytes."""
        if not 0 <= kind <= 0xFF:
            raise OverflowError("kind: out of range for u8")
        _u16(endpoint)
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError(f"payload: expected bytes, got {type(payload).__name__}")
        p = bytes(payload)
        if len(p) < MIN_SPAN:
            return kind, p
        if kind == KIND_FRAME:
            found = self._frame_span(p, endpoint)
        elif kind == KIND_ACCOUNT:
            found = _account_span(p)
        else:
            return kind, p
        if found is None:
            return kind, p
        if len(p) > 0xFFFFFFFF:
            raise InvalidInputError(f"an input of {len(p)} bytes is over a delta's u32 lengths")
        key, start, end = found
        span = p[start:end]
        last = self._spans.get(key)
        if last is None or len(last[0]) != len(span):
            how, body, version = FULL, span, 0
        elif last[0] == span:
            how, body, version = SAME, b"", last[1]
            self._same += 1
        else:
            how, body, version = RANGES, delta_changes(last[0], span), last[1]
        self._store(key, span)
        self._deltas += 1
        rest = len(p) - len(span)
        out = b"".join(
            (
                _HEAD.pack(kind, how, len(key)),
                key,
                _SPAN.pack(start, len(span), rest, version),
                p[:start],
                p[end:],
                body,
            )
        )
        return KIND_DELTA, out

    def _store(self, key: bytes, span: bytes) -> None:
        old = self._spans.pop(key, None)
        version = 1
        if old is not None:
            self._size -= len(old[0])
            version = (old[1] + 1) & 0xFFFFFFFF
        self._spans[key] = (span, version)
        self._size += len(span)
        while self._size > self._limit and len(self._spans) > 1:
            _key, (gone, _v) = self._spans.popitem(last=False)
            self._size -= len(gone)

    def _frame_span(self, p: bytes, endpoint: int) -> tuple[bytes, int, int] | None:
        i = p.find(_DATA)
        if i < 0:
            return None
        q = p.find(b'"', i + len(_DATA))
        if q < 0 or p[i + len(_DATA) : q].strip(b" [\t\r\n"):
            return None  # not a string (or a list's first string) after "data":
        start = q + 1
        end = p.find(b'"', start)
        if end - start < MIN_SPAN:  # (end < 0: no closing quote)
            return None
        k = p.find(_PUBKEY, 0, i)
        if k >= 0:
            k += len(_PUBKEY)
            close = p.find(b'"', k, i)
            if 0 < close - k <= 64:
                return b"p" + p[k:close], start, end
        s = p.rfind(_SUB, end)
        if s < 0:
            return None
        s += len(_SUB)
        digits = p[s : s + 24].lstrip(b" ")
        n = len(digits) - len(digits.lstrip(b"0123456789"))
        if not n:
            return None
        account = self._subs.get((endpoint, int(digits[:n])))
        if account is not None:
            return b"p" + account, start, end
        return b"s" + endpoint.to_bytes(2, "little") + digits[:n], start, end


def _account_span(p: bytes) -> tuple[bytes, int, int] | None:
    nul = p.find(b"\0")
    if nul < 0 or len(p) - nul - 1 < MIN_SPAN or not p.startswith(b'["'):
        return None
    close = p.find(b'"', 2, nul)
    if not 0 < close - 2 <= 64:
        return None
    return b"a" + p[2:close], nul + 1, len(p)


def _u16(endpoint: int) -> None:
    if not 0 <= endpoint <= _U16:
        raise OverflowError("endpoint: out of range for u16")

"""Base58 with the Bitcoin alphabet (spec §4.3). Twin of ``crates/core/src/b58.rs``.

Each leading zero byte is one leading ``'1'``; ``b58decode("") == b""``. A character
outside the alphabet raises :class:`~engine_rs.errors.Base58Error` naming it and its
position.
"""

from __future__ import annotations

from ..errors import Base58Error
from ._ints import as_bytes

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def b58encode(data: bytes) -> str:
    """Base58 text of bytes-like ``data``."""
    raw = as_bytes(data, "b58encode")
    zeros = len(raw) - len(raw.lstrip(b"\0"))
    n = int.from_bytes(raw, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(ALPHABET[r])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Bytes of base58 ``text``."""
    if not isinstance(text, str):
        raise TypeError(f"b58decode: expected str, got {type(text).__name__}")
    n = 0
    for pos, c in enumerate(text):
        d = _INDEX.get(c)
        if d is None:
            raise Base58Error(f"invalid base58 character {c!r} at position {pos}")
        n = n * 58 + d
    ones = len(text) - len(text.lstrip("1"))
    return b"\0" * ones + (n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b"")


def decode_32(text: str) -> bytes:
    """A 32-byte address from base58 ``text`` (Base58Error otherwise)."""
    if len(text) > 44:
        raise Base58Error(f"not a 32-byte address: {len(text)} characters (at most 44)")
    raw = b58decode(text)
    if len(raw) != 32:
        raise Base58Error(f"not a 32-byte address: {text!r} decodes to {len(raw)} bytes")
    return raw

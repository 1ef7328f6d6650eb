"""An account's bytes written field by field at its layout's offsets: :class:`Writer`,
with which each venue encodes its accounts and logs (``feeds.venues``: a Whirlpool's
zeroed tick array on the client side, every account of the simulated programs) and the
simulator its shared SPL accounts (``feeds.sim.layouts``)."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any

import engine_rs


class Writer:
    """An account's bytes being written field by field at the layout's offsets (little
    endian; keys as base58), over ``base`` when given, after the 8-byte Anchor
    discriminator ``disc`` when given."""

    __slots__ = ("buf",)

    def __init__(self, size: int, base: bytes | None, disc: bytes = b"") -> None:
        if base is not None and len(base) < size:
            raise ValueError(f"base has {len(base)} bytes, the layout needs {size}")
        self.buf = bytearray(base if base is not None else bytes(size))
        if disc:
            self.buf[:8] = disc

    def u8(self, off: int, v: int) -> None:
        self.buf[off] = v

    def u16(self, off: int, v: int) -> None:
        struct.pack_into("<H", self.buf, off, v)

    def u64(self, off: int, v: int) -> None:
        struct.pack_into("<Q", self.buf, off, v)

    def i32(self, off: int, v: int) -> None:
        struct.pack_into("<i", self.buf, off, v)

    def u128(self, off: int, v: int) -> None:
        self.buf[off : off + 16] = v.to_bytes(16, "little")

    def i128(self, off: int, v: int) -> None:
        self.buf[off : off + 16] = v.to_bytes(16, "little", signed=True)

    def key(self, off: int, v: str) -> None:
        raw = engine_rs.backend().b58decode(v)
        if len(raw) != 32:
            raise ValueError(f"{v!r} is not a 32-byte address")
        self.buf[off : off + 32] = raw

    def coption_key(self, off: int, v: str | None) -> None:
        self.buf[off : off + 4] = (1 if v is not None else 0).to_bytes(4, "little")
        if v is None:
            self.buf[off + 4 : off + 36] = bytes(32)
        else:
            self.key(off + 4, v)

    def coption_u64(self, off: int, v: int | None) -> None:
        self.buf[off : off + 4] = (1 if v is not None else 0).to_bytes(4, "little")
        self.u64(off + 4, v or 0)

    def keys(self, off: int, keys: Iterable[str]) -> None:
        """``keys`` one after another from ``off``."""
        for i, k in enumerate(keys):
            self.key(off + 32 * i, k)

    def u64s(self, off: int, values: Iterable[int]) -> None:
        """``values`` one after another from ``off``."""
        for i, v in enumerate(values):
            self.u64(off + 8 * i, v)

    def fields(self, write: Callable[[int, Any], None], record: Any, layout: str) -> None:
        """``record``'s fields each written by ``write`` (one of the methods above) at its
        offset: ``layout`` is the table, ``offset name`` pairs apart by spaces."""
        words = layout.split()
        for off, name in zip(words[::2], words[1::2], strict=True):
            write(int(off), getattr(record, name))

    def done(self) -> bytes:
        return bytes(self.buf)

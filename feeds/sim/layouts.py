"""Byte-exact account encoders (spec §3): the inverse of the decoders, for the accounts
every venue shares (SPL token accounts and mints), and :class:`Writer`, with which each
venue module encodes its own accounts and logs (``feeds.venues``).

The simulator builds every account it serves with these, so what a client receives has
the real layout at the real offsets and sizes. ``base`` (optional) is an existing
account to write over: fields the decoders read are replaced, every other byte is kept,
so ``encode_x(decode_x(real), base=real) == real`` for a real account (tested against
the mainnet fixtures). Without ``base`` the bytes no field covers are zero.
"""

from __future__ import annotations

import struct
from typing import Any

import engine_rs

TOKEN_ACCOUNT_LEN = 165
MINT_LEN = 82


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

    def done(self) -> bytes:
        return bytes(self.buf)


def encode_token_account(r: Any, base: bytes | None = None) -> bytes:
    """An SPL Token account (165 bytes, spec §3)."""
    w = Writer(TOKEN_ACCOUNT_LEN, base)
    w.key(0, r.mint)
    w.key(32, r.owner)
    w.u64(64, r.amount)
    w.coption_key(72, r.delegate)
    w.u8(108, r.state)
    w.coption_u64(109, r.is_native)
    w.u64(121, r.delegated_amount)
    w.coption_key(129, r.close_authority)
    return w.done()


def encode_mint(r: Any, base: bytes | None = None) -> bytes:
    """An SPL Token mint (82 bytes, spec §3; no Token-2022 extensions)."""
    w = Writer(MINT_LEN, base)
    w.coption_key(0, r.mint_authority)
    w.u64(36, r.supply)
    w.u8(44, r.decimals)
    w.u8(45, int(r.is_initialized))
    w.coption_key(46, r.freeze_authority)
    return w.done()

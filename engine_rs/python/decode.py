"""Account kinds every venue shares (spec §3, §6), twin of ``crates/core/src/decode.rs``:
SPL Token / Token-2022 accounts and mints, base64, and the checks every decoder makes
(the venues' own decoders are in :mod:`engine_rs.python.venues`).

Each ``decode_*(data, owner=None)`` takes the account's bytes (and, when given, the
owner program as base58 or bytes), checks the owner, the discriminator and the minimum
size — real accounts can be longer than their struct; trailing bytes are ignored — and
returns a frozen record with the spec's field names. Pubkeys are base58 strings.
Anything else raises a :class:`~engine_rs.errors.DecodeError` subclass naming what is
wrong; random bytes never crash a decoder.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from functools import cache
from typing import Any

from ..decoded import Mint, TokenAccount, TransferFee
from ..errors import AccountTooShortError, DecodeError, WrongDiscriminatorError, WrongOwnerError
from ._ints import as_bytes as as_bytes
from .b58 import b58encode

SPL_TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022 = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
# the Clock sysvar (``Clock::get()`` in a program: what an OpenBook order's
# ``is_expired`` and a DLMM pair's volatility decay compare with) and the owner of the
# sysvars; ``Clock``: slot, epoch_start_timestamp, epoch, leader_schedule_epoch,
# unix_timestamp
SYSVAR_CLOCK = "SysvarC1ock11111111111111111111111111111111"
SYSVAR_OWNER = "Sysvar1111111111111111111111111111111111111"
CLOCK_SIZE = 40


# ------------------------------------------------------------------ reading
class Reader:
    __slots__ = ("data", "what")

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.what = what

    def u8(self, off: int) -> int:
        return self.data[off]

    def u16(self, off: int) -> int:
        return int.from_bytes(self.data[off : off + 2], "little")

    def u32(self, off: int) -> int:
        return int.from_bytes(self.data[off : off + 4], "little")

    def u64(self, off: int) -> int:
        return int.from_bytes(self.data[off : off + 8], "little")

    def i32(self, off: int) -> int:
        return int.from_bytes(self.data[off : off + 4], "little", signed=True)

    def i64(self, off: int) -> int:
        return int.from_bytes(self.data[off : off + 8], "little", signed=True)

    def u128(self, off: int) -> int:
        return int.from_bytes(self.data[off : off + 16], "little")

    def i128(self, off: int) -> int:
        return int.from_bytes(self.data[off : off + 16], "little", signed=True)

    def key(self, off: int) -> str:
        return b58encode(self.data[off : off + 32])

    def flag(self, off: int) -> bool:
        b = self.data[off]
        if b > 1:
            raise DecodeError(f"{self.what}: byte {off} is {b}, not a bool")
        return b == 1

    def coption_key(self, off: int) -> str | None:
        tag = self.u32(off)
        if tag not in (0, 1):
            raise DecodeError(f"{self.what}: COption tag at {off} is {tag}")
        return self.key(off + 4) if tag else None

    def coption_u64(self, off: int) -> int | None:
        tag = self.u32(off)
        if tag not in (0, 1):
            raise DecodeError(f"{self.what}: COption tag at {off} is {tag}")
        return self.u64(off + 4) if tag else None

    def packed(self, off: int, layout: str) -> list[Any]:
        """The fields laid out back to back from byte ``off``, one word of ``layout``
        each, in a record's order: ``u64`` (likewise ``u8``, ``u16``, ``u32``, ``i32``,
        ``i64``, ``u128``, ``i128``, ``key``, ``flag``), ``u64*9`` (nine of them), ``_16``
        (16 bytes not read)."""
        return [read(self, off + at) for read, at in _fields(layout)]


# what a word of a layout reads, and its size in bytes
_KINDS: dict[str, tuple[Callable[[Reader, int], Any], int]] = {
    "u8": (Reader.u8, 1),
    "flag": (Reader.flag, 1),
    "u16": (Reader.u16, 2),
    "u32": (Reader.u32, 4),
    "i32": (Reader.i32, 4),
    "u64": (Reader.u64, 8),
    "i64": (Reader.i64, 8),
    "u128": (Reader.u128, 16),
    "i128": (Reader.i128, 16),
    "key": (Reader.key, 32),
}


@cache
def _fields(layout: str) -> tuple[tuple[Callable[[Reader, int], Any], int], ...]:
    """Each field of ``layout`` (:meth:`Reader.packed`) as its reader and offset."""
    out, at = [], 0
    for word in layout.split():
        if word[0] == "_":
            at += int(word[1:])
            continue
        kind, _, times = word.partition("*")
        read, size = _KINDS[kind]
        for _ in range(int(times or 1)):
            out.append((read, at))
            at += size
    return tuple(out)


def owner_text(owner: object) -> str | None:
    if owner is None:
        return None
    if isinstance(owner, str):
        return owner
    if isinstance(owner, (bytes, bytearray, memoryview)):
        return b58encode(bytes(owner))
    return str(owner)  # solders Pubkey prints as base58


def check(
    data: object,
    what: str,
    min_len: int,
    disc: bytes | tuple[bytes, ...] = b"",
    owner: object = None,
    owners: tuple[str, ...] = (),
) -> Reader:
    raw = as_bytes(data, what)
    o = owner_text(owner)
    if o is not None and owners and o not in owners:
        raise WrongOwnerError(f"{what}: owner {o} is not {' or '.join(owners)}")
    discs = disc if isinstance(disc, tuple) else (disc,)
    if discs[0] and len(raw) >= 8 and raw[:8] not in discs:
        raise WrongDiscriminatorError(
            f"{what}: discriminator {raw[:8].hex()} is not {discs[0].hex()}"
        )
    if len(raw) < min_len:
        raise AccountTooShortError(f"{what}: {len(raw)} bytes, needs at least {min_len}")
    return Reader(raw, what)


# ------------------------------------------------------------------ accounts
def clock_unix_timestamp(data: object, owner: object = None) -> int:
    """The Clock sysvar's ``unix_timestamp`` (``owner`` when given must be the sysvar
    owner), negative read as 0."""
    r = check(data, "Clock", CLOCK_SIZE, b"", owner, (SYSVAR_OWNER,))
    return max(int.from_bytes(r.data[32:40], "little", signed=True), 0)


def clock_slot_and_time(data: object, owner: object = None) -> tuple[int, int]:
    """The Clock sysvar's slot and ``unix_timestamp`` (a negative time read as 0), as a
    program reads ``Clock::get()``."""
    r = check(data, "Clock", CLOCK_SIZE, b"", owner, (SYSVAR_OWNER,))
    return r.u64(0), max(int.from_bytes(r.data[32:40], "little", signed=True), 0)


def decode_token_account(data: bytes, owner: object = None) -> TokenAccount:
    """An SPL Token or Token-2022 account (spec §3; extensions ignored)."""
    r = check(data, "TokenAccount", 165, owner=owner, owners=(SPL_TOKEN, TOKEN_2022))
    if len(r.data) > 165 and len(r.data) != 355 and r.data[165] not in (0, 2):
        raise DecodeError(f"TokenAccount: account type byte is {r.data[165]}, not Account")
    state = r.u8(108)
    if state > 2:
        raise DecodeError(f"TokenAccount: state {state} is not 0, 1 or 2")
    return TokenAccount(
        r.key(0),
        r.key(32),
        r.u64(64),
        r.coption_key(72),
        state,
        r.coption_u64(109),
        r.u64(121),
        r.coption_key(129),
    )


def decode_mint(data: bytes, owner: object = None) -> Mint:
    """An SPL Token or Token-2022 mint (spec §3), with Token-2022's TransferFeeConfig."""
    r = check(data, "Mint", 82, owner=owner, owners=(SPL_TOKEN, TOKEN_2022))
    raw = r.data
    older = newer = None
    if len(raw) > 165 and len(raw) != 355:
        if raw[165] != 1:
            raise DecodeError(f"Mint: account type byte is {raw[165]}, not Mint")
        off = 166
        while off + 4 <= len(raw):
            ext, length = r.u16(off), r.u16(off + 2)
            if off + 4 + length > len(raw):
                raise AccountTooShortError(f"Mint: extension {ext} at {off} runs past the end")
            if ext == 1 and length >= 108:
                v = off + 4 + 72
                older = TransferFee(r.u64(v), r.u64(v + 8), r.u16(v + 16))
                newer = TransferFee(r.u64(v + 18), r.u64(v + 26), r.u16(v + 34))
            if ext == 0 and length == 0:
                break
            off += 4 + length
    return Mint(r.coption_key(0), r.u64(36), r.u8(44), r.flag(45), r.coption_key(46), older, newer)


# ------------------------------------------------------------------ base64
def b64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"{what}: expected str, got {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecodeError(f"{what}: not base64 ({exc})") from None

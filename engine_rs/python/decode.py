"""Account and log decoders (spec §1–3, §6), pure Python: the twin of the Rust decoders
the feeds issue adds to the extension.

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
import struct

from ..decoded import (
    CpmmSwapEvent,
    Mint,
    RaydiumAmmConfig,
    RaydiumAmmV4,
    RaydiumCpmmPool,
    SwapBaseInLog,
    SwapBaseOutLog,
    TickArray,
    TokenAccount,
    Traded,
    TransferFee,
    Whirlpool,
)
from ..errors import AccountTooShortError, DecodeError, WrongDiscriminatorError, WrongOwnerError
from .b58 import b58encode

RAYDIUM_AMM_V4 = "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8"
RAYDIUM_CPMM = "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"
WHIRLPOOL = "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"
WHIRLPOOL_IMMUTABLE = "iwhrLHdsgrvmnwU8GF2FSmyabSMjfHwFGJAX2ufJ3ZN"
SPL_TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022 = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"

DISC_WHIRLPOOL = bytes.fromhex("3f95d10ce1806309")
DISC_FIXED_TICK_ARRAY = bytes([69, 97, 189, 190, 110, 7, 66, 187])
DISC_DYNAMIC_TICK_ARRAY = bytes([17, 216, 246, 142, 225, 199, 218, 56])
DISC_CPMM_POOL = bytes.fromhex("f7ede3f5d7c3de46")
DISC_CPMM_CONFIG = bytes.fromhex("daf42168cbcb2b6f")
DISC_TRADED = bytes([225, 202, 73, 175, 147, 43, 160, 150])
DISC_SWAP_EVENT = bytes([64, 198, 205, 232, 38, 8, 113, 226])

TICK_ARRAY_SIZE = 88
_TICK_LEN = 113


# ------------------------------------------------------------------ reading
class _Reader:
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


def _bytes(data: object, what: str) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what}: expected bytes, got {type(data).__name__}")


def _owner(owner: object) -> str | None:
    if owner is None:
        return None
    if isinstance(owner, str):
        return owner
    if isinstance(owner, (bytes, bytearray, memoryview)):
        return b58encode(bytes(owner))
    return str(owner)  # solders Pubkey prints as base58


def _check(
    data: object,
    what: str,
    min_len: int,
    disc: bytes | tuple[bytes, ...] = b"",
    owner: object = None,
    owners: tuple[str, ...] = (),
) -> _Reader:
    raw = _bytes(data, what)
    o = _owner(owner)
    if o is not None and owners and o not in owners:
        raise WrongOwnerError(f"{what}: owner {o} is not {' or '.join(owners)}")
    discs = disc if isinstance(disc, tuple) else (disc,)
    if discs[0] and len(raw) >= 8 and raw[:8] not in discs:
        raise WrongDiscriminatorError(
            f"{what}: discriminator {raw[:8].hex()} is not {discs[0].hex()}"
        )
    if len(raw) < min_len:
        raise AccountTooShortError(f"{what}: {len(raw)} bytes, needs at least {min_len}")
    return _Reader(raw, what)


# ------------------------------------------------------------------ accounts
def decode_raydium_amm_v4(data: bytes, owner: object = None) -> RaydiumAmmV4:
    """Raydium AMM v4 ``AmmInfo`` (spec §1.2)."""
    r = _check(data, "AmmInfo", 752, owner=owner, owners=(RAYDIUM_AMM_V4,))
    k = r.key
    return RaydiumAmmV4(
        r.u64(0), r.u64(8), r.u64(32), r.u64(40), r.u64(48),
        r.u64(144), r.u64(152), r.u64(176), r.u64(184), r.u64(192), r.u64(200), r.u64(224),
        k(336), k(368), k(400), k(432), k(464), k(496), k(528), k(560), k(592), k(688),
        r.u64(720),
    )  # fmt: skip


def decode_raydium_cpmm(data: bytes, owner: object = None) -> RaydiumCpmmPool:
    """Raydium CP-Swap ``PoolState`` (spec §1.4)."""
    r = _check(data, "PoolState", 637, DISC_CPMM_POOL, owner, (RAYDIUM_CPMM,))
    k = r.key
    return RaydiumCpmmPool(
        k(8), k(40), k(72), k(104), k(136), k(168), k(200), k(232), k(264), k(296),
        r.u8(328), r.u8(329), r.u8(330), r.u8(331), r.u8(332),
        r.u64(333), r.u64(341), r.u64(349), r.u64(357), r.u64(365), r.u64(373), r.u64(381),
        r.u8(389), r.flag(390), r.u64(397), r.u64(405),
    )  # fmt: skip


def decode_raydium_amm_config(data: bytes, owner: object = None) -> RaydiumAmmConfig:
    """Raydium CP-Swap ``AmmConfig`` (spec §1.4)."""
    r = _check(data, "AmmConfig", 236, DISC_CPMM_CONFIG, owner, (RAYDIUM_CPMM,))
    return RaydiumAmmConfig(
        r.u8(8), r.flag(9), r.u16(10), r.u64(12), r.u64(20), r.u64(28), r.u64(36),
        r.key(44), r.key(76), r.u64(108),
    )  # fmt: skip


def decode_whirlpool(data: bytes, owner: object = None) -> Whirlpool:
    """Orca ``Whirlpool`` (spec §2.2)."""
    r = _check(data, "Whirlpool", 653, DISC_WHIRLPOOL, owner, (WHIRLPOOL, WHIRLPOOL_IMMUTABLE))
    k = r.key
    return Whirlpool(
        k(8), r.u8(40), r.u16(41), r.u16(43), r.u16(45), r.u16(47),
        r.u128(49), r.u128(65), r.i32(81), r.u64(85), r.u64(93),
        k(101), k(133), r.u128(165), k(181), k(213), r.u128(245), r.u64(261),
        (k(269), k(397), k(525)),
    )  # fmt: skip


def decode_tick_array(data: bytes, owner: object = None) -> TickArray:
    """A Whirlpool tick array, fixed (9,988 bytes) or dynamic (148..10,004), by its
    discriminator (spec §2.3)."""
    discs = (DISC_FIXED_TICK_ARRAY, DISC_DYNAMIC_TICK_ARRAY)
    owners = (WHIRLPOOL, WHIRLPOOL_IMMUTABLE)
    raw = _bytes(data, "TickArray")
    if raw[:8] == DISC_DYNAMIC_TICK_ARRAY:
        r = _check(raw, "DynamicTickArray", 148, discs, owner, owners)
        bitmap = r.u128(44)
        ticks = []
        off = 60
        for i in range(TICK_ARRAY_SIZE):
            if off >= len(raw):
                raise AccountTooShortError(f"DynamicTickArray: tick {i} at {off} is past the end")
            tag = raw[off]
            if tag == 0:
                if bitmap >> i & 1:
                    raise DecodeError(f"DynamicTickArray: bitmap says tick {i} is initialized")
                off += 1
                continue
            if tag != 1 or not bitmap >> i & 1:
                raise DecodeError(f"DynamicTickArray: tick {i} tag {tag} disagrees with the bitmap")
            if off + _TICK_LEN > len(raw):
                raise AccountTooShortError(f"DynamicTickArray: tick {i} runs past the end")
            ticks.append((i, r.i128(off + 1), r.u128(off + 17)))
            off += _TICK_LEN
        return TickArray("dynamic", r.i32(8), r.key(12), ticks)
    r = _check(raw, "TickArray", 9988, discs, owner, owners)
    ticks = []
    for i in range(TICK_ARRAY_SIZE):
        off = 12 + _TICK_LEN * i
        if r.flag(off):
            ticks.append((i, r.i128(off + 1), r.u128(off + 17)))
    return TickArray("fixed", r.i32(8), r.key(9956), ticks)


def decode_token_account(data: bytes, owner: object = None) -> TokenAccount:
    """An SPL Token or Token-2022 account (spec §3; extensions ignored)."""
    r = _check(data, "TokenAccount", 165, owner=owner, owners=(SPL_TOKEN, TOKEN_2022))
    if len(r.data) > 165 and len(r.data) != 355 and r.data[165] not in (0, 2):
        raise DecodeError(f"TokenAccount: account type byte is {r.data[165]}, not Account")
    state = r.u8(108)
    if state > 2:
        raise DecodeError(f"TokenAccount: state {state} is not 0, 1 or 2")
    return TokenAccount(
        r.key(0), r.key(32), r.u64(64), r.coption_key(72), state, r.coption_u64(109),
        r.u64(121), r.coption_key(129),
    )  # fmt: skip


def decode_mint(data: bytes, owner: object = None) -> Mint:
    """An SPL Token or Token-2022 mint (spec §3), with Token-2022's TransferFeeConfig."""
    r = _check(data, "Mint", 82, owner=owner, owners=(SPL_TOKEN, TOKEN_2022))
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


# ------------------------------------------------------------------ logs
def _b64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"{what}: expected str, got {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecodeError(f"{what}: not base64 ({exc})") from None


def parse_ray_log(b64: str) -> SwapBaseInLog | SwapBaseOutLog | None:
    """The swap log of a ``Program log: ray_log: <b64>`` line (spec §6.1); None for the
    other log types (init, deposit, withdraw). Text that is not base64 (the program's
    plain-text mismatch diagnostics share the prefix) raises DecodeError."""
    raw = _b64(b64, "ray_log")
    if not raw:
        raise DecodeError("ray_log: empty")
    if raw[0] not in (3, 4):
        if raw[0] > 4:
            raise DecodeError(f"ray_log: log type {raw[0]} is unknown")
        return None
    if len(raw) < 57:
        raise AccountTooShortError(f"ray_log: {len(raw)} bytes, a swap log has 57")
    v = struct.unpack_from("<7Q", raw, 1)
    return SwapBaseInLog(*v) if raw[0] == 3 else SwapBaseOutLog(*v)


def parse_program_data(b64: str) -> Traded | CpmmSwapEvent | None:
    """An Anchor event of a ``Program data: <b64>`` line (spec §6.2): Whirlpool
    ``Traded`` or Raydium CP-Swap ``SwapEvent``; None for other discriminators. The
    caller attributes the line to the program that emitted it (CLMM's ``SwapEvent`` has
    the same discriminator)."""
    raw = _b64(b64, "program data")
    if len(raw) < 8:
        raise AccountTooShortError(f"program data: {len(raw)} bytes, no discriminator")
    r = _Reader(raw, "event")
    if raw[:8] == DISC_TRADED:
        if len(raw) < 121:
            raise AccountTooShortError(f"Traded: {len(raw)} bytes, needs 121")
        return Traded(
            r.key(8), r.flag(40), r.u128(41), r.u128(57), r.u64(73), r.u64(81), r.u64(89),
            r.u64(97), r.u64(105), r.u64(113),
        )  # fmt: skip
    if raw[:8] == DISC_SWAP_EVENT:
        if len(raw) < 8 + 81:
            raise AccountTooShortError(f"SwapEvent: {len(raw)} bytes, needs 89")
        base = (
            r.key(8), r.u64(40), r.u64(48), r.u64(56), r.u64(64), r.u64(72), r.u64(80),
            r.flag(88),
        )  # fmt: skip
        if len(raw) >= 8 + 162:
            return CpmmSwapEvent(*base, r.key(89), r.key(121), r.u64(153), r.u64(161), r.flag(169))
        return CpmmSwapEvent(*base)
    return None

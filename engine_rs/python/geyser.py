"""Yellowstone gRPC's ``SubscribeUpdate`` (protobuf) read by hand (twin of
``crates/core/src/ingest/geyser.rs``).

Only what the ingest uses is read: an account update's pubkey, owner, data and slot; a
slot update's slot and status; a transaction update's signature, vote flag, whether it
failed (its meta has an ``err``) and log lines; a pong's id. Field numbers are
Yellowstone's (``yellowstone-grpc-proto/proto/geyser.proto`` and ``solana-storage.proto``;
arbscope's copy: ``feeds/wire/geyser/*.proto``). Other fields are skipped by wire type.

Malformed input raises ``ValueError`` with the Rust core's words: a truncated varint or
field, a varint over 10 bytes, a length past the end, a group or unknown wire type,
field number 0 (or over 2^29 - 1), a known field with another wire type, a pubkey or
owner not of 32 bytes, a signature not of 64, a log line that is not UTF-8, an account
or transaction update without its inner message. A field given twice: the last one
counts (a message too: not merged as protobuf would merge it).
"""

from __future__ import annotations

from dataclasses import dataclass

ACCOUNT, SLOT, TRANSACTION, PING, PONG = 2, 3, 4, 6, 9
_OTHERS = (5, 7, 8, 10, 12)  # block, block meta, entry, transaction status, block footer


@dataclass(frozen=True, slots=True)
class Account:
    pubkey: bytes
    owner: bytes
    data: bytes
    slot: int


@dataclass(frozen=True, slots=True)
class Slot:
    slot: int
    status: int


@dataclass(frozen=True, slots=True)
class Transaction:
    signature: bytes
    vote: bool
    failed: bool
    logs: tuple[str, ...]
    slot: int


@dataclass(frozen=True, slots=True)
class Pong:
    id: int  # int32


@dataclass(frozen=True, slots=True)
class Other:
    kind: int  # the oneof's field number; 0: none set (PING: a ping)


Update = Account | Slot | Transaction | Pong | Other

_VARINT, _BYTES, _FIXED = 0, 2, 1


class _Reader:
    __slots__ = ("at", "buf", "what")

    def __init__(self, buf: bytes, what: str) -> None:
        self.buf, self.at, self.what = buf, 0, what

    def varint(self) -> int:
        v = 0
        for i in range(10):
            if self.at >= len(self.buf):
                raise ValueError(f"{self.what}: truncated varint")
            b = self.buf[self.at]
            self.at += 1
            v |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                return v & 0xFFFF_FFFF_FFFF_FFFF
        raise ValueError(f"{self.what}: varint longer than 10 bytes")

    def take(self, n: int) -> bytes:
        left = len(self.buf) - self.at
        if n > left:
            raise ValueError(f"{self.what}: field of {n} bytes past the end ({left} left)")
        out = self.buf[self.at : self.at + n]
        self.at += n
        return out

    def field(self) -> tuple[int, int, int | bytes | None] | None:
        """The next field as (number, kind, value), or None at the end."""
        if self.at >= len(self.buf):
            return None
        key = self.varint()
        number = key >> 3
        if number == 0 or number > 0x1FFF_FFFF:
            raise ValueError(f"{self.what}: field number {number} is not valid")
        wire = key & 7
        if wire == 0:
            return number, _VARINT, self.varint()
        if wire == 1:
            self.take(8)
            return number, _FIXED, None
        if wire == 2:
            return number, _BYTES, self.take(self.varint())
        if wire == 5:
            self.take(4)
            return number, _FIXED, None
        raise ValueError(
            f"{self.what}: field {number} has wire type {wire}, which is not supported"
        )


def _varint(f: tuple[int, int, int | bytes | None], what: str) -> int:
    if f[1] != _VARINT or not isinstance(f[2], int):
        raise ValueError(f"{what}: field {f[0]} has the wrong wire type")
    return f[2]


def _bytes(f: tuple[int, int, int | bytes | None], what: str) -> bytes:
    if f[1] != _BYTES or not isinstance(f[2], bytes):
        raise ValueError(f"{what}: field {f[0]} has the wrong wire type")
    return f[2]


def _sized(b: bytes, n: int, what: str) -> bytes:
    if len(b) != n:
        raise ValueError(f"{what} is {len(b)} bytes, not {n}")
    return b


def parse(buf: bytes) -> Update:
    """A ``SubscribeUpdate``'s bytes read (see the module docstring); a ping is
    ``Other(PING)``."""
    what = "SubscribeUpdate"
    r = _Reader(bytes(buf), what)
    out: Update = Other(0)
    while (f := r.field()) is not None:
        n = f[0]
        if n == 1:
            _bytes(f, what)
        elif n == ACCOUNT:
            out = _account(_bytes(f, what))
        elif n == SLOT:
            out = _slot(_bytes(f, what))
        elif n == TRANSACTION:
            out = _transaction(_bytes(f, what))
        elif n == PING:
            _bytes(f, what)
            out = Other(PING)
        elif n == PONG:
            out = _pong(_bytes(f, what))
        elif n in _OTHERS:
            _bytes(f, what)
            out = Other(n)
    return out


def _message(
    buf: bytes, what: str, varints: tuple[int, ...], lengths: tuple[int, ...]
) -> tuple[dict[int, int], dict[int, bytes]]:
    """The fields of the message ``buf`` that are read, the last of each: those numbered
    in ``varints`` (varints) and in ``lengths`` (length-delimited); one of them with
    another wire type raises ValueError; any other field is skipped."""
    r = _Reader(buf, what)
    ints: dict[int, int] = {}
    blobs: dict[int, bytes] = {}
    while (f := r.field()) is not None:
        if f[0] in varints:
            ints[f[0]] = _varint(f, what)
        elif f[0] in lengths:
            blobs[f[0]] = _bytes(f, what)
    return ints, blobs


def _account(buf: bytes) -> Account:
    what = "SubscribeUpdateAccount"
    top, inner = _message(buf, what, (2, 3, 4), (1,))
    if 1 not in inner:
        raise ValueError(f"{what}: no account")
    _, info = _message(inner[1], "SubscribeUpdateAccountInfo", (2, 4, 5, 7), (1, 3, 6, 8))
    pubkey, owner = info.get(1, b""), info.get(3, b"")
    return Account(
        _sized(pubkey, 32, "account.pubkey"),
        _sized(owner, 32, "account.owner"),
        info.get(6, b""),
        top.get(2, 0),
    )


def _slot(buf: bytes) -> Slot:
    ints, _ = _message(buf, "SubscribeUpdateSlot", (1, 2, 3, 5), (4,))
    return Slot(ints.get(1, 0), ints.get(3, 0))


def _transaction(buf: bytes) -> Transaction:
    what = "SubscribeUpdateTransaction"
    top, inner = _message(buf, what, (2, 3), (1,))
    if 1 not in inner:
        raise ValueError(f"{what}: no transaction")
    flags, info = _message(inner[1], "SubscribeUpdateTransactionInfo", (2, 5), (1, 3, 4))
    slot, vote, meta = top.get(2, 0), flags.get(2, 0) != 0, info.get(4)
    signature = _sized(info.get(1, b""), 64, "transaction.signature")
    failed = False
    logs: list[str] = []
    if meta is not None:
        what = "TransactionStatusMeta"
        r = _Reader(meta, what)
        while (f := r.field()) is not None:
            if f[0] == 1:
                _bytes(f, what)
                failed = True
            elif f[0] == 6:
                try:
                    logs.append(_bytes(f, what).decode("utf-8"))
                except UnicodeDecodeError:
                    raise ValueError(f"{what}: a log line is not UTF-8") from None
            elif f[0] in (2, 11, 16):
                _varint(f, what)
    return Transaction(signature, vote, failed, tuple(logs), slot)


def _pong(buf: bytes) -> Pong:
    ints, _ = _message(buf, "SubscribeUpdatePong", (1,), ())
    v = ints.get(1, 0) & 0xFFFF_FFFF  # int32: the low 32 bits, two's complement
    return Pong(v - (1 << 32) if v >= 1 << 31 else v)

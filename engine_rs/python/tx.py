"""A v0 transaction rendered from its message template and signed in one call: the live
fast path's last CPU step. Twin of ``crates/core/src/tx.rs``; the ed25519 signature is
OpenSSL's (the ``cryptography`` package), deterministic as RFC 8032 makes every ed25519
signature, so both give the same bytes.

A template is a versioned message's bytes compiled once for a route (see
``arbscope/execution/build.py``'s ``MessageTemplate``); an order writes its blockhash and
each instruction's data at fixed places, signs, and puts the transaction together: one
signature (compact-u16 ``1``), the signature, the message.

``cryptography`` is imported when a signer is made, not with the engine: the engine's
package needs only numpy (``tools/wheel_check.py`` installs it alone), and the app, which
depends on ``cryptography``, is what signs.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import InvalidInputError
from ._ints import Readonly
from .b58 import b58encode
from .derive import _id32


def _put(buf: bytearray, at: int, data: bytes, what: str) -> None:
    if at < 0 or at + len(data) > len(buf):
        raise InvalidInputError(
            f"{what} ({len(data)} bytes at {at}) falls outside the {len(buf)}-byte message"
        )
    buf[at : at + len(data)] = data


class TxSigner:
    """A wallet's ed25519 signing key (see the module doc): ``keypair`` is the Solana CLI
    file's 64 bytes (secret ‖ public, which must match) or the 32-byte secret alone. The
    secret is never shown; ``pubkey`` is the wallet's address."""

    __slots__ = ("_key", "_pubkey")

    def __init__(self, keypair: bytes) -> None:
        raw = bytes(keypair)
        if len(raw) not in (32, 64):
            raise InvalidInputError(f"a keypair is 64 bytes (or its secret 32), got {len(raw)}")
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self._key = Ed25519PrivateKey.from_private_bytes(raw[:32])
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        if len(raw) == 64 and raw[32:] != public:
            raise InvalidInputError("the keypair's public half is not its secret's")
        self._pubkey = b58encode(public)

    pubkey = Readonly[str]("_pubkey")

    def sign(self, message: bytes) -> bytes:
        """The ed25519 signature (64 bytes, RFC 8032: deterministic) of ``message``."""
        return self._key.sign(bytes(message))

    def sign_v0(
        self,
        message: bytes,
        blockhash_at: int,
        blockhash: object,
        patches: Sequence[tuple[int, bytes]],
    ) -> tuple[bytes, str]:
        """One transaction from a v0 message template, in one call: ``message`` (a
        versioned message's bytes, 0x80 first, this key its one signer) with the 32 bytes
        at ``blockhash_at`` replaced by ``blockhash`` (base58 or bytes) and each
        ``(at, data)`` of ``patches`` written at ``at``, signed: (the transaction's bytes,
        ``[1] ‖ signature ‖ message``; the signature in base58). InvalidInputError when
        the message has another signer count or a patch falls outside it."""
        if len(message) < 2 or message[0] != 0x80 or message[1] != 1:
            raise InvalidInputError("not a v0 message signed by one key (0x80, then one signature)")
        bh = _id32(blockhash, "blockhash")
        buf = bytearray(message)
        _put(buf, blockhash_at, bh, "the blockhash")
        for at, data in patches:
            _put(buf, at, bytes(data), "an instruction's data")
        body = bytes(buf)
        sig = self._key.sign(body)
        return b"\x01" + sig + body, b58encode(sig)

    def __repr__(self) -> str:
        return f"TxSigner({self._pubkey})"

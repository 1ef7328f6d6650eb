"""Program-derived addresses (spec §4.1): the derivation every venue's PDAs use. The
derive-once cache is :mod:`.pda`; a venue's own addresses are in its module (a
Whirlpool's in ``venues/orca_whirlpool/pda.py``, Raydium CLMM's ``raydium_clmm.address``).

Twin of ``crates/core/src/pda.rs``: ``sha256(seeds ‖ program_id ‖
"ProgramDerivedAddress")``, valid when it does **not** decompress as an ed25519 point.
The on-curve test matches curve25519-dalek's ``decompress().is_some()`` (what the
validator uses): y is read little-endian with bit 255 cleared and reduced mod p (a
non-canonical y is accepted), and the point exists iff ``(y² − 1)/(d·y² + 1)`` is a
square mod p — zero included, whatever the sign bit (dalek does not reject x = 0 with
the sign bit set). ``find_program_address`` tries bumps 255 down to 1 like the runtime.

Seeds and ids are bytes-like, base58 ``str`` (a 32-byte address) or objects with
``__bytes__`` (solders ``Pubkey``); give text seeds as bytes (``b"whirlpool"``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ..errors import InvalidInputError, InvalidSeedsError, NoViableBumpError, SeedError
from .b58 import b58encode, decode_32

MAX_SEEDS = 16
MAX_SEED_LEN = 32
PDA_MARKER = b"ProgramDerivedAddress"

_P = 2**255 - 19
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_HALF = (_P - 1) // 2


def _bytes_of(obj: object, what: str) -> bytes:
    if isinstance(obj, bytes):
        return obj
    if isinstance(obj, str):
        return decode_32(obj)
    if isinstance(obj, (bytearray, memoryview)):
        return bytes(obj)
    to_bytes = getattr(obj, "__bytes__", None)
    if to_bytes is not None:
        b = to_bytes()
        if not isinstance(b, bytes):
            raise TypeError(f"{what}: __bytes__ did not return bytes")
        return b
    raise TypeError(f"{what}: expected bytes or a base58 str, got {type(obj).__name__}")


def _id32(obj: object, what: str) -> bytes:
    b = _bytes_of(obj, what)
    if len(b) != 32:
        raise InvalidInputError(f"{what} must be 32 bytes, got {len(b)}")
    return b


def _seeds(seeds: object) -> list[bytes]:
    if isinstance(seeds, (str, bytes)):
        raise TypeError("seeds: expected a list or tuple of seeds, got a single str/bytes")
    if not isinstance(seeds, (list, tuple)):
        raise TypeError(f"seeds: expected a list or tuple, got {type(seeds).__name__}")
    return [_bytes_of(s, "seed") for s in seeds]


def _check_seeds(seeds: Sequence[bytes], most: int) -> None:
    if len(seeds) > most:
        raise SeedError(f"{len(seeds)} seeds: at most {most} (16 including the bump)")
    for i, s in enumerate(seeds):
        if len(s) > MAX_SEED_LEN:
            raise SeedError(f"seed {i} is {len(s)} bytes: at most {MAX_SEED_LEN}")


def _on_curve(h: bytes) -> bool:
    y = (int.from_bytes(h, "little") & ((1 << 255) - 1)) % _P
    yy = y * y % _P
    u, v = (yy - 1) % _P, (_D * yy + 1) % _P
    return pow(u * v % _P, _HALF, _P) != _P - 1  # a square, or zero


def is_on_curve(address: object) -> bool:
    """Whether 32 bytes (or an address) decompress to an ed25519 point."""
    return _on_curve(_id32(address, "address"))


def _create(seeds: Sequence[bytes], program: bytes) -> bytes:
    return hashlib.sha256(b"".join(seeds) + program + PDA_MARKER).digest()


def create_program_address(seeds: Sequence[object], program_id: object) -> str:
    """The address of ``seeds`` under ``program_id``; InvalidSeedsError when on-curve."""
    parts = _seeds(seeds)
    program = _id32(program_id, "program_id")
    _check_seeds(parts, MAX_SEEDS)
    h = _create(parts, program)
    if _on_curve(h):
        raise InvalidSeedsError(
            "the derived address is on the ed25519 curve: not a valid program address"
        )
    return b58encode(h)


def _find(parts: list[bytes], program: bytes) -> tuple[str, int]:
    _check_seeds(parts, MAX_SEEDS - 1)
    prefix = hashlib.sha256(b"".join(parts))
    tail = program + PDA_MARKER
    for bump in range(255, 0, -1):
        h = prefix.copy()
        h.update(bytes((bump,)) + tail)
        digest = h.digest()
        if not _on_curve(digest):
            return b58encode(digest), bump
    raise NoViableBumpError("no bump from 255 down to 1 gives an off-curve address")


def find_program_address(seeds: Sequence[object], program_id: object) -> tuple[str, int]:
    """``(address, bump)``: the first off-curve address of ``seeds ‖ [bump]``."""
    parts = _seeds(seeds)
    return _find(parts, _id32(program_id, "program_id"))

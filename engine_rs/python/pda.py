"""Program-derived addresses (spec §4.1): the derivation every venue's PDAs use, and the
derive-once cache. A venue's own addresses are in its module (a Whirlpool's in
``venues/orca_whirlpool/pda.py``, Raydium CLMM's ``raydium_clmm.address``).

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
from collections.abc import Iterable, Sequence

from ..errors import InvalidInputError, InvalidSeedsError, NoViableBumpError, SeedError
from ._ints import i32, i64
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


# The cache's Whirlpool lookups derive with the venue's functions, which derive with the
# machinery above (defined first: the venue's module imports it).
from .venues.orca_whirlpool.pda import (  # noqa: E402
    fee_tier,
    oracle_address,
    tick_array_address,
    tick_array_starts,
    whirlpool_address,
)


class PdaCache:
    """Derive-once store of PDAs: lookups after the first are dictionary hits.

    Unbounded on purpose: a session holds a few hundred pools with a handful of tick
    arrays each; ``clear()`` empties it.
    """

    __slots__ = ("_generic", "_hits", "_ids", "_misses", "_oracles", "_tick_arrays", "_wps")

    def __init__(self) -> None:
        self._ids: dict[str, bytes] = {}
        self._tick_arrays: dict[tuple[bytes, int], tuple[str, int]] = {}
        self._wps: dict[tuple[bytes, bytes, bytes, int], tuple[str, int]] = {}
        self._oracles: dict[bytes, tuple[str, int]] = {}
        self._generic: dict[bytes, tuple[str, int]] = {}
        self._hits = 0
        self._misses = 0

    def _id(self, obj: object, what: str) -> bytes:
        if isinstance(obj, str):
            v = self._ids.get(obj)
            if v is None:
                v = self._ids[obj] = _id32(obj, what)
            return v
        return _id32(obj, what)

    def _count(self, found: tuple[str, int] | None) -> tuple[str, int] | None:
        if found is None:
            self._misses += 1
        else:
            self._hits += 1
        return found

    @staticmethod
    def _key(program: bytes, parts: Sequence[bytes]) -> bytes:
        return program + b"".join(bytes((min(len(p), 255),)) + p for p in parts)

    def find(self, seeds: Sequence[object], program_id: object) -> tuple[str, int]:
        """``find_program_address(seeds, program_id)``, derived once."""
        parts = _seeds(seeds)
        program = self._id(program_id, "program_id")
        key = self._key(program, parts)
        found = self._count(self._generic.get(key))
        if found is None:
            found = self._generic[key] = _find(parts, program)
        return found

    def tick_array(self, whirlpool: object, start_tick_index: int) -> tuple[str, int]:
        """``orca_whirlpool.tick_array_address(whirlpool, start_tick_index)``, derived once."""
        start = i32(start_tick_index)
        key = (self._id(whirlpool, "whirlpool"), start)
        found = self._count(self._tick_arrays.get(key))
        if found is None:
            found = self._tick_arrays[key] = tick_array_address(key[0], start)
        return found

    def whirlpool(
        self, config: object, mint_a: object, mint_b: object, fee_tier_index: int
    ) -> tuple[str, int]:
        """``orca_whirlpool.pool_address(...)``, derived once."""
        fee = i64(fee_tier_index)
        c = self._id(config, "config")
        a, b = self._id(mint_a, "mint_a"), self._id(mint_b, "mint_b")
        key = (c, a, b, fee_tier(fee))
        found = self._count(self._wps.get(key))
        if found is None:
            found = self._wps[key] = whirlpool_address(c, a, b, key[3])
        return found

    def oracle(self, whirlpool: object) -> tuple[str, int]:
        """``orca_whirlpool.oracle_address(whirlpool)``, derived once."""
        w = self._id(whirlpool, "whirlpool")
        found = self._count(self._oracles.get(w))
        if found is None:
            found = self._oracles[w] = oracle_address(w)
        return found

    def warm_tick_arrays(
        self, whirlpool: object, tick_spacing: int, center_tick: int, arrays_each_side: int = 2
    ) -> list[int]:
        """Derive the tick arrays around ``center_tick`` in one batch; returns their
        start indices."""
        ts, center, each = i64(tick_spacing), i64(center_tick), i64(arrays_each_side)
        w = self._id(whirlpool, "whirlpool")
        starts = tick_array_starts(ts, center, each)
        for s in starts:
            if (w, s) not in self._tick_arrays:
                self._tick_arrays[(w, s)] = tick_array_address(w, s)
        return starts

    def find_many(
        self, requests: Iterable[tuple[Sequence[object], object]]
    ) -> list[tuple[str, int]]:
        """Derive many ``(seeds, program_id)`` at once (each once); results in order."""
        parsed = []
        for item in requests:
            if not isinstance(item, tuple) or len(item) != 2:
                raise TypeError("find_many: expected (seeds, program_id) tuples")
            parts = _seeds(item[0])
            program = self._id(item[1], "program_id")
            parsed.append((self._key(program, parts), program, parts))
        derived = {
            key: _find(parts, program) for key, program, parts in parsed if key not in self._generic
        }
        self._generic.update(derived)
        return [self._generic[key] for key, _, _ in parsed]

    @property
    def hits(self) -> int:
        return self._hits

    @property
    def misses(self) -> int:
        return self._misses

    def __len__(self) -> int:
        return len(self._tick_arrays) + len(self._wps) + len(self._oracles) + len(self._generic)

    def clear(self) -> None:
        """Forget everything (the counters too)."""
        self.__init__()  # type: ignore[misc]

"""The derive-once cache of program-derived addresses (twin of ``crates/core/src/pda.rs``'s
``PdaCache``): generic derivations and a Whirlpool's pool, tick-array and oracle PDAs,
each derived once. The derivation itself is :mod:`.derive` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ._ints import Readonly, i32, i64
from .derive import MAX_SEED_LEN as MAX_SEED_LEN
from .derive import MAX_SEEDS as MAX_SEEDS
from .derive import PDA_MARKER as PDA_MARKER
from .derive import _find, _id32, _seeds
from .derive import create_program_address as create_program_address
from .derive import find_program_address as find_program_address
from .derive import is_on_curve as is_on_curve
from .venues.orca_whirlpool.pda import (
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

    hits = Readonly[int]("_hits")

    misses = Readonly[int]("_misses")

    def __len__(self) -> int:
        return len(self._tick_arrays) + len(self._wps) + len(self._oracles) + len(self._generic)

    def clear(self) -> None:
        """Forget everything (the counters too)."""
        self.__init__()  # type: ignore[misc]

"""First-copy-wins de-duplication across endpoints, with per-endpoint lead/lag.

Twin of ``crates/core/src/dedup.rs`` (its module docs hold the definitions). The twin
keeps the key bytes themselves where Rust keeps a seeded 128-bit fingerprint; the two
behave the same unless two different keys collide in 128 bits.

Recommended keys (the caller's choice; never the raw frame, whose subscription id
differs per endpoint):

- account notification: ``pubkey (32 B) ‖ context.slot (u64 LE) ‖ a hash of the account
  data`` (e.g. 8 bytes of blake2b/xxh3) — two writes in one slot stay distinct;
- logs notification: the transaction signature (64 B) — plus ``b"err"`` when failed;
- slot notification: ``b"slot" ‖ slot (u64 LE)``;
- program data / swap events: ``signature ‖ instruction index ‖ event index``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import InvalidInputError
from ..records import DedupStats
from ._ints import Readonly, i64
from .fees import nearest_rank_index

MIN_CAPACITY = 2
MAX_CAPACITY = 1 << 24
MAX_LAG_WINDOW = 1 << 20
MAX_ENDPOINT = 0xFFFF
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


class _Endpoint:
    __slots__ = ("duplicates", "first_seen", "lag_sum", "lags", "next")

    def __init__(self) -> None:
        self.first_seen = 0
        self.duplicates = 0
        self.lag_sum = 0
        self.lags: list[int] = []
        self.next = 0


def _key(key: object) -> bytes:
    if isinstance(key, (bytes, bytearray, memoryview)):
        k = bytes(key)
    else:
        raise TypeError(f"dedup key: expected bytes, got {type(key).__name__}")
    if not k:
        raise InvalidInputError("dedup key must not be empty")
    return k


def _endpoint(endpoint: object) -> int:
    ep = i64(endpoint)
    if not 0 <= ep <= MAX_ENDPOINT:
        raise InvalidInputError(f"endpoint must be within 0..={MAX_ENDPOINT}, got {ep}")
    return ep


class Deduper:
    """Remembers the first arrival of up to ``capacity`` keys, in two generations of
    ``capacity // 2``: when the current one is full the older one is forgotten whole
    (so a key lives while between capacity/2 and capacity newer keys arrive)."""

    __slots__ = (
        "_capacity",
        "_current",
        "_endpoints",
        "_evicted",
        "_half",
        "_lag_window",
        "_older",
    )

    def __init__(self, capacity: int = 65_536, lag_window: int = 4_096) -> None:
        capacity, lag_window = i64(capacity), i64(lag_window)
        if not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
            raise InvalidInputError(
                f"capacity must be within {MIN_CAPACITY}..={MAX_CAPACITY}, got {capacity}"
            )
        if not 1 <= lag_window <= MAX_LAG_WINDOW:
            raise InvalidInputError(
                f"lag_window must be within 1..={MAX_LAG_WINDOW}, got {lag_window}"
            )
        self._capacity = capacity
        self._lag_window = lag_window
        self._half = capacity // 2
        self._current: dict[bytes, int] = {}
        self._older: dict[bytes, int] = {}
        self._endpoints: list[_Endpoint] = []
        self._evicted = 0

    capacity = Readonly[int]("_capacity")

    lag_window = Readonly[int]("_lag_window")

    evicted = Readonly[int](
        "_evicted",
        "Keys forgotten to stay within capacity.",
    )

    def __len__(self) -> int:
        return len(self._current) + len(self._older)

    def __contains__(self, key: object) -> bool:
        k = _key(key)
        return k in self._current or k in self._older

    def _state(self, ep: int) -> _Endpoint:
        eps = self._endpoints
        while len(eps) <= ep:
            eps.append(_Endpoint())
        return eps[ep]

    def _accept(self, key: bytes, ep: int, recv_ns: int) -> bool:
        first = self._current.get(key)
        if first is None:
            first = self._older.get(key)
        if first is not None:
            lag = min(max(recv_ns - first, _I64_MIN), _I64_MAX)
            st = self._state(ep)
            st.duplicates += 1
            st.lag_sum += lag
            if len(st.lags) < self._lag_window:
                st.lags.append(lag)
            else:
                st.lags[st.next] = lag
            st.next = (st.next + 1) % self._lag_window
            return False
        if len(self._current) >= self._half:
            self._evicted += len(self._older)
            self._older = self._current
            self._current = {}
        self._current[key] = recv_ns
        self._state(ep).first_seen += 1
        return True

    def accept(self, key: bytes, endpoint: int, recv_ns: int) -> bool:
        """True for the first copy of ``key``; False for a later one (its lag recorded)."""
        k, ep, ns = _key(key), _endpoint(endpoint), i64(recv_ns)
        return self._accept(k, ep, ns)

    def _retract(self, key: bytes, ep: int) -> bool:
        """Undo the acceptance of ``key``'s first copy (from ``ep``; the ingest refused
        it): the key is forgotten and the copy no longer counts as ``ep``'s lead. False
        when the key was not remembered."""
        if self._current.pop(key, None) is None and self._older.pop(key, None) is None:
            return False
        st = self._state(ep)
        st.first_seen = max(st.first_seen - 1, 0)
        return True

    def accept_many(
        self,
        keys: Sequence[bytes],
        endpoints: Sequence[int] | int,
        recv_ns: Sequence[int] | int,
    ) -> list[bool]:
        """:meth:`accept` for each key in order. ``endpoints`` and ``recv_ns`` are
        sequences of the same length as ``keys``, or one int for all. Every argument is
        checked before any key is accepted: a bad element accepts nothing."""
        n = len(keys)
        eps = [endpoints] * n if isinstance(endpoints, int) else list(endpoints)
        nss = [recv_ns] * n if isinstance(recv_ns, int) else list(recv_ns)
        if len(eps) != n or len(nss) != n:
            raise InvalidInputError(
                f"accept_many: {n} keys, {len(eps)} endpoints, {len(nss)} recv_ns"
            )
        checked = [(_key(k), _endpoint(e), i64(t)) for k, e, t in zip(keys, eps, nss)]
        return [self._accept(k, e, t) for k, e, t in checked]

    def stats(self) -> list[DedupStats]:
        """Every endpoint that delivered anything, by id."""
        out = []
        for i, st in enumerate(self._endpoints):
            if st.first_seen + st.duplicates == 0:
                continue
            mean: float | None = None
            p50: int | None = None
            p99: int | None = None
            if st.duplicates:
                lags = sorted(st.lags)
                p50 = lags[nearest_rank_index(len(lags), 50.0)]
                p99 = lags[nearest_rank_index(len(lags), 99.0)]
                mean = float(st.lag_sum) / float(st.duplicates)
            out.append(DedupStats(i, st.first_seen, st.duplicates, mean, p50, p99, len(st.lags)))
        return out

    def clear(self) -> None:
        """Forget every key and statistic."""
        self._current = {}
        self._older = {}
        self._endpoints.clear()
        self._evicted = 0

    def __repr__(self) -> str:
        return f"Deduper(capacity={self._capacity}, keys={len(self)})"

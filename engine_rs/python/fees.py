"""Priority-fee congestion over a sliding window of slots.

Twin of ``crates/core/src/fees.rs`` (read its module docs for the full definitions):

- the window holds the slots ``(newest - window_slots, newest]``, ``newest`` being the
  highest slot ever added; a sample already older than that is dropped (``add`` returns
  False) and older slots fall out as newer ones arrive;
- ``percentile(p)`` is nearest-rank, the index computed in float64 exactly as numpy's
  ``percentile(method="inverted_cdf")`` computes it;
- ``congestion()`` is the mean over the window's slots of
  ``min(1, ln(1 + lowest CU price of the slot) / ln(1 + saturation_cu_price))``;
- ``recommend(cu_limit, p)`` prices the ``p``-th percentile CU price at ``cu_limit``
  (spec §5.3: ``ceil(price × limit / 1e6)`` lamports);
- an empty window raises :class:`~engine_rs.errors.EmptyWindowError`, never returns 0.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterable

from ..errors import EmptyWindowError, InvalidInputError
from ..records import PriorityFee
from ._ints import Readonly, u64
from .scorer import priority_fee_lamports

MAX_COMPUTE_UNIT_LIMIT = 1_400_000
DEFAULT_SATURATION_CU_PRICE = 1_000_000
MAX_WINDOW_SLOTS = 15_000


def nearest_rank_index(n: int, p: float) -> int:
    """Index of the nearest-rank ``p``-th percentile among ``n`` sorted values, computed
    as numpy's ``inverted_cdf`` does (``n·(p/100) − 1`` rounded up unless whole)."""
    idx = n * (p / 100.0) - 1.0
    prev = math.floor(idx)
    pick = prev if idx - prev == 0.0 else prev + 1
    return 0 if pick <= 0 else min(int(pick), max(n - 1, 0))


def _pfloat(p: object) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"percentile: expected float, got {type(p).__name__}")
    return float(p)


def check_percentile(p: object) -> float:
    """``p`` as a float in [0, 100], else TypeError / InvalidInputError."""
    p = _pfloat(p)
    if not (math.isfinite(p) and 0.0 <= p <= 100.0):
        raise InvalidInputError(f"percentile must be within [0, 100], got {p}")
    return p


class FeeEstimator:
    """Sliding-window estimator of priority fees (micro-lamports per CU) by slot."""

    __slots__ = ("_dropped", "_min", "_newest", "_saturation", "_slots", "_sorted", "_window")

    def __init__(
        self, window_slots: int = 150, saturation_cu_price: int = DEFAULT_SATURATION_CU_PRICE
    ) -> None:
        window_slots = u64(window_slots)
        saturation_cu_price = u64(saturation_cu_price)
        if not 1 <= window_slots <= MAX_WINDOW_SLOTS:
            raise InvalidInputError(
                f"window_slots must be within 1..={MAX_WINDOW_SLOTS}, got {window_slots}"
            )
        if saturation_cu_price == 0:
            raise InvalidInputError("saturation_cu_price must be > 0")
        self._window = window_slots
        self._saturation = saturation_cu_price
        self._newest: int | None = None
        self._slots: dict[int, list[int]] = {}
        self._min: dict[int, int] = {}
        self._sorted: list[int] = []
        self._dropped = 0

    window_slots = Readonly[int]("_window")

    saturation_cu_price = Readonly[int]("_saturation")

    newest_slot = Readonly[int | None](
        "_newest",
        "The highest slot ever added (the window's right edge).",
    )

    @property
    def oldest_slot(self) -> int | None:
        """The oldest slot of the window that holds samples."""
        return min(self._slots) if self._slots else None

    @property
    def slot_count(self) -> int:
        """Slots of the window that hold samples."""
        return len(self._slots)

    dropped = Readonly[int](
        "_dropped",
        "Samples that arrived already older than the window.",
    )

    def __len__(self) -> int:
        return len(self._sorted)

    def _floor(self, newest: int) -> int:
        return max(newest - (self._window - 1), 0)

    def _add(self, slot: int, price: int) -> bool:
        if self._newest is not None and slot < self._floor(self._newest):
            self._dropped += 1
            return False
        if self._newest is None or slot > self._newest:
            self._newest = slot
            floor = self._floor(slot)
            for old in [s for s in self._slots if s < floor]:
                for v in self._slots.pop(old):
                    del self._sorted[bisect_left(self._sorted, v)]
                del self._min[old]
        values = self._slots.get(slot)
        if values is None:
            self._slots[slot] = [price]
            self._min[slot] = price
        else:
            values.append(price)
            if price < self._min[slot]:
                self._min[slot] = price
        insort(self._sorted, price)
        return True

    def add(self, slot: int, micro_lamports_per_cu: int) -> bool:
        """Add one sample; False (and counted in ``dropped``) when its slot is already
        outside the window."""
        return self._add(u64(slot), u64(micro_lamports_per_cu))

    def add_many(self, samples: Iterable[tuple[int, int]]) -> int:
        """Add ``(slot, cu_price)`` pairs in order (all checked first; a bad one adds
        nothing); returns how many were kept."""
        checked = []
        for item in samples:
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise TypeError("add_many: expected (slot, cu_price) pairs")
            checked.append((u64(item[0]), u64(item[1])))
        return sum(self._add(s, p) for s, p in checked)

    def _empty(self) -> EmptyWindowError:
        if self._newest is None:
            return EmptyWindowError("no fee samples yet")
        return EmptyWindowError(
            f"no fee samples in the last {self._window} slots (newest slot {self._newest})"
        )

    def percentile(self, p: float) -> int:
        """Nearest-rank ``p``-th percentile (0-100) of the CU prices in the window."""
        p = check_percentile(p)
        if not self._sorted:
            raise self._empty()
        return self._sorted[nearest_rank_index(len(self._sorted), p)]

    def percentiles(self, ps: Iterable[float]) -> list[int]:
        """:meth:`percentile` of each of ``ps``."""
        return [self.percentile(p) for p in ps]

    def congestion(self) -> float:
        """The congestion index in [0, 1] (see the module docs)."""
        if not self._slots:
            raise self._empty()
        denom = math.log1p(self._saturation)
        total = 0.0
        for slot in sorted(self._min):
            total += min(math.log1p(self._min[slot]) / denom, 1.0)
        return total / len(self._min)

    def recommend(self, cu_limit: int, percentile: float = 75.0) -> PriorityFee:
        """The ``percentile``-th CU price of the window and its cost at ``cu_limit``."""
        cu_limit = u64(cu_limit)
        p = _pfloat(percentile)
        if not 1 <= cu_limit <= MAX_COMPUTE_UNIT_LIMIT:
            raise InvalidInputError(
                f"cu_limit must be within 1..={MAX_COMPUTE_UNIT_LIMIT}, got {cu_limit}"
            )
        p = check_percentile(p)
        price = self.percentile(p)
        return PriorityFee(
            cu_price_micro_lamports=price,
            cu_limit=cu_limit,
            priority_fee_lamports=priority_fee_lamports(price, cu_limit),
            percentile=p,
            samples=len(self._sorted),
            newest_slot=self._newest or 0,
        )

    def by_slot(self, percentile: float = 50.0) -> list[tuple[int, int, int, int]]:
        """Per slot of the window, ascending: ``(slot, samples, lowest, p-th percentile)``."""
        p = check_percentile(percentile)
        out = []
        for slot in sorted(self._slots):
            v = sorted(self._slots[slot])
            out.append((slot, len(v), self._min[slot], v[nearest_rank_index(len(v), p)]))
        return out

    def clear(self) -> None:
        """Forget every sample and the window's edge."""
        self._slots.clear()
        self._min.clear()
        self._sorted.clear()
        self._newest = None
        self._dropped = 0

    def __repr__(self) -> str:
        return (
            f"FeeEstimator(window_slots={self._window}, samples={len(self._sorted)}, "
            f"slots={len(self._slots)}, newest_slot={self._newest})"
        )

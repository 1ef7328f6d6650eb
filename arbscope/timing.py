"""Per-kernel timings in both backends, with a shadow check of the other backend.

Every call goes through :meth:`KernelTimer.call`: the active backend runs and is timed
in ns; one call in ``shadow_every`` is re-run on the other backend with the same input,
timed too, and compared. A mismatch is a bug: it is counted and kept with its input.
"""

from __future__ import annotations

import time
import types
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine_rs.records import as_dict


def _same(a: Any, b: Any) -> bool:
    try:
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
        da, db = as_dict(a), as_dict(b)
        # persistence counts evaluations, and the shadow only sees a sample of them
        da.pop("persistence", None)
        db.pop("persistence", None)
        return da == db
    except TypeError:
        return bool(a == b)


@dataclass(slots=True)
class KernelStats:
    samples: dict[str, deque[int]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=2048))
    )
    mismatches: int = 0
    errors: int = 0

    def percentile(self, backend: str, q: float) -> float | None:
        data = sorted(self.samples.get(backend, ()))
        if not data:
            return None
        return float(data[min(len(data) - 1, int(q * len(data)))])


class KernelTimer:
    """Times kernel calls on the active backend and shadows some on the other."""

    def __init__(
        self, active: types.ModuleType, other: types.ModuleType | None, shadow_every: int = 20
    ) -> None:
        self.active, self.other, self.shadow_every = active, other, shadow_every
        self.stats: dict[str, KernelStats] = defaultdict(KernelStats)
        self.mismatch_inputs: deque[tuple[str, Any]] = deque(maxlen=50)
        self._calls: dict[str, int] = defaultdict(int)

    def call(
        self,
        name: str,
        fn: Callable[[types.ModuleType], Any],
    ) -> Any:
        """``fn(backend)`` on the active backend, timed; on the other backend for one
        call in ``shadow_every``, timed and compared (``fn`` must not hold state of one
        backend: it receives the backend module to use)."""
        shadow = fn
        st = self.stats[name]
        t0 = time.perf_counter_ns()
        result = fn(self.active)
        st.samples[self.active.BACKEND].append(time.perf_counter_ns() - t0)
        self._calls[name] += 1
        n = self._calls[name]
        if self.other is not None and n % self.shadow_every == 1:
            t0 = time.perf_counter_ns()
            try:
                other = shadow(self.other)
            except Exception:  # the shadow must never take the session down
                st.errors += 1
                return result
            st.samples[self.other.BACKEND].append(time.perf_counter_ns() - t0)
            if not _same(result, other):
                st.mismatches += 1
                self.mismatch_inputs.append((name, result))
        return result

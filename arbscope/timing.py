"""Per-kernel timings in both backends, with a shadow check of the other backend.

Every engine call of the session goes through :meth:`KernelTimer.call`: the active
backend runs it, timed in ns. One call in ``shadow_every`` (every call when ``mirror``)
also runs on the other backend with the same input, timed too, and the two results are
compared with the kernel's ``compare`` from the registry (engine_rs/kernels.py). A
mismatch is a bug: it is counted and kept with its input.

``mirror`` is for calls that change or depend on backend state (pool upserts, the
warm-started negative-cycle sweep): the other backend must see all of them to stay the
same graph. A sampled stateful read (``cycles_touching``) is compared without the
kernel's ``history_fields`` (persistence counts evaluations the shadow did not see).
"""

from __future__ import annotations

import time
import types
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine_rs.errors import EngineError
from engine_rs.kernels import by_name, same

WINDOW = 4096  # samples kept per kernel per backend: p99 needs a few hundred
# latency histogram bounds for /metrics (ns, inclusive upper bounds): 250 ns .. 50 ms
BUCKETS_NS = (
    250,
    500,
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    10_000_000,
    50_000_000,
)


def _percentiles_us(samples: Sequence[int], qs: Sequence[float]) -> list[float | None]:
    """Each ``q`` of ``qs``'s quantile (nearest rank) of ns ``samples``, in µs (the
    samples sorted once); Nones when there are none."""
    if not samples:
        return [None] * len(qs)
    data = sorted(samples)
    return [data[min(len(data) - 1, int(q * len(data)))] / 1000.0 for q in qs]


@dataclass(slots=True)
class KernelStats:
    """What one kernel did in this session."""

    samples_ns: dict[str, deque[int]] = field(default_factory=dict)
    # per backend: counts per BUCKETS_NS bucket (the last one: above them all), and the sum
    hist: dict[str, list[int]] = field(default_factory=dict)
    sum_ns: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    shadow_checks: int = 0
    mismatches: int = 0
    errors: int = 0  # engine errors the active backend raised

    def add(self, backend: str, ns: int) -> None:
        """Record one call of ``backend`` that took ``ns`` nanoseconds."""
        samples = self.samples_ns.get(backend)
        if samples is None:  # (a deque made only once: this runs on every engine call)
            samples = self.samples_ns[backend] = deque(maxlen=WINDOW)
            self.hist[backend] = [0] * (len(BUCKETS_NS) + 1)
            self.sum_ns[backend] = 0
        samples.append(ns)
        self.hist[backend][bisect_left(BUCKETS_NS, ns)] += 1
        self.sum_ns[backend] += ns


@dataclass(frozen=True, slots=True)
class TimingRow:
    """One kernel's line in the timing panel (µs; None: no samples yet)."""

    kernel: str
    calls: int
    rust_p50_us: float | None
    rust_p99_us: float | None
    python_p50_us: float | None
    python_p99_us: float | None
    shadow_checks: int
    mismatches: int
    errors: int

    @property
    def speedup(self) -> float | None:
        """Python p50 / Rust p50."""
        if self.rust_p50_us and self.python_p50_us:
            return self.python_p50_us / self.rust_p50_us
        return None


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A shadow call that disagreed with the active backend: the evidence for a bug."""

    kernel: str
    detail: Any  # the call's input, as the caller described it
    active: Any  # result or exception of the active backend
    other: Any


def _compare(name: str, sampled: bool) -> Callable[[Any, Any], bool]:
    k = by_name(name)
    if k is None:
        return same
    if sampled and k.history_fields:
        fields = frozenset(k.history_fields)
        return lambda a, b: same(a, b, ignore=fields)
    return k.compare


# kernels whose result depends on the backend's own state (its graph), not only on the
# call's arguments: shadowing them needs the other backend to have seen the same history
STATEFUL = frozenset(
    {
        "cycles_touching",
        "score_touching",
        "find_negative_cycle",
        "feed_ingest",
        "feed_frames",
        "feed_account",
    }
)


class KernelTimer:
    """Times kernel calls on the active backend and shadows some on the other."""

    def __init__(
        self,
        active: types.ModuleType,
        other: types.ModuleType | None,
        shadow_every: int = 20,
        keep_mismatches: int = 50,
        clock: Callable[[], int] = time.perf_counter_ns,
        shadow_budget: float = 0.05,
    ) -> None:
        self.active, self.other, self.shadow_every = active, other, shadow_every
        self.clock = clock  # ns; tests and screenshots pass a deterministic one
        # sampled shadows may use at most this share of wall time (per second): under
        # load the sampler thins out instead of stealing the event loop from the screen
        self.shadow_budget = shadow_budget
        self.skipped = 0  # sampled shadows skipped for the budget
        # set when the other backend's state (its graph, its ingest) stopped following
        # the active one's (a session suspends its mirror under load): from then on only
        # calls that carry their whole input are shadowed, never a stateful mirror
        self.stateful_suspended = ""
        self._window_start = time.monotonic_ns()
        self._window_shadow_ns = 0
        self.stats: dict[str, KernelStats] = {}
        self.mismatches: deque[Mismatch] = deque(maxlen=keep_mismatches)

    def call(
        self,
        name: str,
        fn: Callable[[types.ModuleType], Any],
        *,
        mirror: bool = False,
        detail: Any = None,
    ) -> Any:
        """``fn(backend)`` on the active backend, timed; on the other backend too for one
        call in ``shadow_every`` (every call if ``mirror``), timed and compared.

        ``fn`` receives the backend module to use and must not hold state of one backend.
        Engine errors of the active backend are counted and re-raised (after the mirror
        ran, so both graphs stay in step); the shadow never raises.
        """
        st = self.stats.get(name)
        if st is None:
            st = self.stats[name] = KernelStats()
        st.calls += 1
        shadow = self.other is not None and (
            (mirror and not self.stateful_suspended)
            or (
                not mirror
                and (st.calls - 1) % self.shadow_every == 0
                and not (self.stateful_suspended and name in STATEFUL)
                and self._within_budget()
            )
        )
        clock = self.clock
        t0 = clock()
        try:
            result = fn(self.active)
        except EngineError as exc:
            st.errors += 1
            if shadow:
                self._shadow(name, st, fn, exc, detail, sampled=not mirror)
            raise
        st.add(self.active.BACKEND, clock() - t0)
        if shadow:
            self._shadow(name, st, fn, result, detail, sampled=not mirror)
        return result

    def _shadow(
        self,
        name: str,
        st: KernelStats,
        fn: Callable[[types.ModuleType], Any],
        active: Any,
        detail: Any,
        sampled: bool,
    ) -> None:
        assert self.other is not None
        clock = self.clock
        st.shadow_checks += 1
        w0 = time.monotonic_ns()
        t0 = clock()
        try:
            other: Any = fn(self.other)
        except Exception as exc:  # the shadow must never take the session down
            other = exc
        else:
            st.add(self.other.BACKEND, clock() - t0)
        if sampled:
            self._window_shadow_ns += time.monotonic_ns() - w0
        if isinstance(active, BaseException) or isinstance(other, BaseException):
            ok = type(active) is type(other)  # same error class from both, or a mismatch
        else:
            ok = _compare(name, sampled)(active, other)
        if not ok:
            st.mismatches += 1
            self.mismatches.append(Mismatch(name, detail, active, other))

    def _within_budget(self) -> bool:
        now = time.monotonic_ns()
        span = now - self._window_start
        if span >= 1_000_000_000:  # a new one-second window
            self._window_start, self._window_shadow_ns = now, 0
            return True
        if self._window_shadow_ns > self.shadow_budget * 1e9:
            self.skipped += 1
            return False
        return True

    def rows(self) -> list[TimingRow]:
        """One row per kernel seen so far, by name."""
        out = []
        for name in sorted(self.stats):
            st = self.stats[name]
            rs = _percentiles_us(st.samples_ns.get("rust", ()), (0.5, 0.99))
            py = _percentiles_us(st.samples_ns.get("python", ()), (0.5, 0.99))
            out.append(
                TimingRow(
                    name,
                    st.calls,
                    rs[0],
                    rs[1],
                    py[0],
                    py[1],
                    st.shadow_checks,
                    st.mismatches,
                    st.errors,
                )
            )
        return out

    @property
    def errors(self) -> int:
        """Engine errors raised by the active backend, all kernels."""
        return sum(s.errors for s in self.stats.values())

    @property
    def mismatch_count(self) -> int:
        """Shadow mismatches, all kernels."""
        return sum(s.mismatches for s in self.stats.values())

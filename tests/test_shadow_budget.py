"""The live shadow under load: sampled shadows thin out to their time budget, and a
session's ingest mirror suspends itself (for good) when it costs too much; from then on
only stateless kernels are shadowed, so no false mismatch can come from a twin whose
graph stopped following."""

from __future__ import annotations

import types

from arbscope.session import _TimedIngest
from arbscope.timing import KernelTimer


def test_stateful_kernels_are_not_shadowed_once_suspended(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    t = KernelTimer(rust, py, shadow_every=1, shadow_budget=1.0)
    t.call("score", lambda m: 1)
    t.call("cycles_touching", lambda m: 1)
    t.call("feed_ingest", lambda m: 1, mirror=True)
    assert {k: s.shadow_checks for k, s in t.stats.items()} == {
        "score": 1, "cycles_touching": 1, "feed_ingest": 1,
    }  # fmt: skip
    t.stateful_suspended = "load"
    for _ in range(3):
        t.call("score", lambda m: 1)
        t.call("cycles_touching", lambda m: 1)
        t.call("feed_ingest", lambda m: 1, mirror=True)
    assert {k: s.shadow_checks for k, s in t.stats.items()} == {
        "score": 4, "cycles_touching": 1, "feed_ingest": 1,
    }  # fmt: skip
    assert t.mismatch_count == 0


def test_sampled_shadows_keep_to_their_budget(rust: types.ModuleType, py: types.ModuleType) -> None:
    import time

    def slow(m: types.ModuleType) -> int:
        if m.BACKEND == "python":
            time.sleep(0.002)
        return 1

    t = KernelTimer(rust, py, shadow_every=1, shadow_budget=0.01)  # 10 ms a second
    for _ in range(50):
        t.call("score", slow)
    assert t.stats["score"].shadow_checks <= 7 and t.skipped >= 40


class _Clock:
    """Wall time that moves only as the test says (ns): the budget is judged on it, so
    the verdict never depends on how busy the machine is."""

    def __init__(self) -> None:
        self.t = 0

    def __call__(self) -> int:
        self.t += 1_000  # every reading costs 1 µs of bookkeeping
        return self.t


class _Ingest:
    def __init__(self, clock: _Clock, cost_ns: int) -> None:
        self.clock, self.cost_ns, self.frames = clock, cost_ns, 0

    def frame(self, endpoint: int, frame: bytes, recv_ns: int) -> int:
        self.frames += 1
        self.clock.t += self.cost_ns
        return 1


def test_the_ingest_mirror_suspends_itself_over_budget(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    t = KernelTimer(rust, py)
    clock = _Clock()
    fast, slow = _Ingest(clock, 0), _Ingest(clock, 1_000_000)  # the mirror: 1 ms a frame
    ti = _TimedIngest(t, {"rust": fast, "python": slow}, mirror_budget=0.2,
                      window_ns=20_000_000, clock=clock)  # fmt: skip
    for _ in range(40):  # ~100 % of the time in the mirror
        ti.frame(0, b"{}", 0)
    assert t.stateful_suspended.startswith("load")
    before = slow.frames
    for _ in range(10):
        ti.frame(0, b"{}", 0)
    assert slow.frames == before and fast.frames == 50
    assert list(ti.ingests) == ["rust"]


def test_a_cheap_mirror_is_kept(rust: types.ModuleType, py: types.ModuleType) -> None:
    t = KernelTimer(rust, py)
    clock = _Clock()
    # the active ingest costs 9 µs a frame, the mirror 1 µs (plus the clock's own reads):
    # well under the 90 % budget
    a, b = _Ingest(clock, 9_000), _Ingest(clock, 1_000)
    ti = _TimedIngest(t, {"rust": a, "python": b}, mirror_budget=0.9, window_ns=5_000_000,
                      clock=clock)  # fmt: skip
    for _ in range(2000):
        ti.frame(0, b"{}", 0)
    assert not t.stateful_suspended and a.frames == b.frames == 2000

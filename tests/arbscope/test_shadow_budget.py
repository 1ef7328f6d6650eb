"""The live shadow under load: sampled shadows thin out to their time budget, and a
session's ingest mirror suspends itself (for good) when it costs too much; from then on
only stateless kernels are shadowed, so no false mismatch can come from a twin whose
graph stopped following."""

from __future__ import annotations

import types
from typing import Any

import pytest

from arbscope.ingest import TimedIngest as _TimedIngest
from arbscope.timing import KernelTimer
from engine_rs.errors import FrameError


def _call_each(t: KernelTimer) -> None:
    """One call of each kind: ``score`` (stateless), ``cycles_touching`` (reads the
    graph) and the ingest (mirrored into the twin)."""
    t.call("score", lambda m: 1)
    t.call("cycles_touching", lambda m: 1)
    t.call("feed_ingest", lambda m: 1, mirror=True)


def _shadowed(t: KernelTimer) -> dict[str, int]:
    """How often each kernel was checked against its shadow."""
    return {k: s.shadow_checks for k, s in t.stats.items()}


def test_stateful_kernels_are_not_shadowed_once_suspended(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    t = KernelTimer(rust, py, shadow_every=1, shadow_budget=1.0)
    _call_each(t)
    assert _shadowed(t) == {"score": 1, "cycles_touching": 1, "feed_ingest": 1}
    t.stateful_suspended = "load"
    for _ in range(3):
        _call_each(t)
    assert _shadowed(t) == {"score": 4, "cycles_touching": 1, "feed_ingest": 1}
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
        self.slot = 0  # the chain's slot: it reads no slot notification

    def __getattr__(self, name: str) -> Any:
        """The reads (the timed ingest takes them once, as bound methods): none is made."""

        def unused(*args: Any) -> Any:
            raise AssertionError(f"{name} was called")

        return unused

    def frame(self, endpoint: int, frame: bytes, recv_ns: int) -> int:
        self.frames += 1
        self.clock.t += self.cost_ns
        return 1

    def account(self, pubkey: str, owner: str, data: bytes, slot: int) -> bool:
        self.frames += 1
        self.clock.t += self.cost_ns
        return True


def test_the_ingest_mirror_suspends_itself_over_budget(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    t = KernelTimer(rust, py)
    clock = _Clock()
    fast, slow = _Ingest(clock, 0), _Ingest(clock, 1_000_000)  # the mirror: 1 ms a frame
    ti = _TimedIngest(
        t, {"rust": fast, "python": slow}, mirror_budget=0.2, window_ns=20_000_000, clock=clock
    )
    for _ in range(40):  # ~100 % of the time in the mirror
        ti.frame(0, b"{}", 0)
    assert t.stateful_suspended.startswith("load")
    before = slow.frames
    for _ in range(10):
        ti.frame(0, b"{}", 0)
    assert slow.frames == before and fast.frames == 50
    assert list(ti.ingests) == ["rust"]


def test_a_snapshot_s_accounts_count_against_the_mirror_s_budget(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    """A session's snapshot applies thousands of accounts before its first frame (3,462
    pools: ~17,000); a twin that spends more than the accounts' budget on them is
    suspended within the burst, and no later account reaches it."""
    t = KernelTimer(rust, py)
    clock = _Clock()
    fast, slow = _Ingest(clock, 0), _Ingest(clock, 1_000_000)
    ti = _TimedIngest(
        t,
        {"rust": fast, "python": slow},
        accounts_budget_ns=20_000_000,
        accounts_window_ns=10_000_000_000,
        clock=clock,
    )
    for _ in range(40):
        assert ti.account("k", "o", b"", 1)
    assert t.stateful_suspended.startswith("load: the mirror took 0.0 s on a snapshot")
    mirrored = slow.frames  # the budget's 20 ms at 1 ms an account (and the clock's reads)
    assert 19 <= mirrored <= 21
    for _ in range(10):
        ti.account("k", "o", b"", 1)
    assert slow.frames == mirrored and fast.frames == 50


def test_a_small_snapshot_keeps_the_mirror(rust: types.ModuleType, py: types.ModuleType) -> None:
    """The default market's snapshot (~280 accounts) back to back, the twin 250 µs an
    account against the engine's 20 µs: 92 % of the burst's wall time, far over the
    frames' share, but 70 ms of the accounts' budget: the mirror is kept (the timing
    panel's Python column for the stateful kernels), and so is it for the re-fetch of
    every account after each of many reconnects, a window apart."""
    t = KernelTimer(rust, py)
    clock = _Clock()
    fast, slow = _Ingest(clock, 20_000), _Ingest(clock, 250_000)
    ti = _TimedIngest(t, {"rust": fast, "python": slow}, clock=clock)
    for _burst in range(30):
        for _ in range(280):
            assert ti.account("k", "o", b"", 1)
        assert t.stateful_suspended == ""
        clock.t += 10_000_000_000  # the next reconnect's re-fetch, a window later
    assert slow.frames == fast.frames == 30 * 280
    assert list(ti.ingests) == ["rust", "python"]


def test_a_cheap_mirror_is_kept(rust: types.ModuleType, py: types.ModuleType) -> None:
    t = KernelTimer(rust, py)
    clock = _Clock()
    # the active ingest costs 9 µs a frame, the mirror 1 µs (plus the clock's own reads):
    # well under the 90 % budget
    a, b = _Ingest(clock, 9_000), _Ingest(clock, 1_000)
    ti = _TimedIngest(
        t, {"rust": a, "python": b}, mirror_budget=0.9, window_ns=5_000_000, clock=clock
    )
    for _ in range(2000):
        ti.frame(0, b"{}", 0)
    assert not t.stateful_suspended and a.frames == b.frames == 2000


def slot_frame(slot: int, sub: int = 7) -> bytes:
    """A ``slotNotification`` as a node writes it (spec: solana.md, slotSubscribe)."""
    return (
        '{"jsonrpc":"2.0","method":"slotNotification","params":{"result":'
        f'{{"parent":{slot - 1},"root":{slot - 32},"slot":{slot}}},"subscription":{sub}}}}}'
    ).encode()


def test_the_slot_clock_is_when_each_slot_began(eng: types.ModuleType) -> None:
    """The session's slot clock (paper's landing model reads it): the receive time of the
    notification that moved the session's slot (the engine's: the highest slot a strict
    majority of endpoints reached), later copies and older slots ignored, and the slots'
    length as a moving average of the gaps between new slots."""
    t = KernelTimer(eng, None)
    ing = eng.FeedIngest(eng.PoolGraph(base_mints=[], max_hops=3))
    for ep in (0, 1, 2):
        ing.bind(ep, 7, "slot", "slot")
    ti = _TimedIngest(t, {eng.BACKEND: ing})
    ms = 1_000_000
    # (endpoint, slot, receive ms): three endpoints, the slow one 30 ms behind
    frames = [
        (e, s, 1_000 + 400 * (s - 100) + lag)
        for s in range(100, 106)
        for e, lag in ((0, 0), (1, 5), (2, 30))
    ]
    frames = [f for f in frames if f[1] != 103]  # nobody saw slot 103
    frames.append((0, 101, 3_500))  # a late repeat of an old slot
    frames.sort(key=lambda f: f[2])
    began: dict[int, int] = {}
    for e, s, at in frames:
        before = ing.stats().slot
        ti.frame(e, slot_frame(s), at * ms)
        if ing.stats().slot > before:
            began[ing.stats().slot] = at * ms
    # the first slot waits for its endpoint's next notification (the engine's rule)
    assert sorted(began) == [101, 102, 104, 105]
    assert ti.slot_seen == 105 and ti.slot_t_ns == began[105]
    # the first gap (102 after 101) starts the average, the later ones move it by an eighth
    want = began[102] - began[101]
    for a, b in ((102, 104), (104, 105)):
        want = (7 * want + (began[b] - began[a]) // (b - a)) // 8
    assert ti.slot_len_ns == want and 390 * ms < want < 410 * ms
    with pytest.raises(FrameError):  # a malformed frame moves nothing
        ti.frame(0, b'{"jsonrpc":"2.0","method":"slotNotification","params":{}}', 9_000 * ms)
    assert ti.slot_seen == 105 and ti.slot_t_ns == began[105]

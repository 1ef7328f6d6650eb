"""Deterministic screen states for snapshot tests and ``make screenshots``.

Everything on screen must be the same on every run: the market is seeded, the kernel
timer gets a clock that advances a fixed step per reading (so every timing reads the
same), the status bar's wall clock is fixed, and the app's own tick never fires (the
source is advanced before the app starts). The replay state comes from a journal
recorded once and kept in ``tests/data`` (a live recording depends on socket timing).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from .market import SimMarket

FIXED_WALL = 1_795_400_000.0  # 2026-11-23 01:33:20 UTC on the status bar
NEVER = 3600.0  # the app's tick interval in a staged state: it never fires
ROOT = Path(__file__).resolve().parent.parent
REPLAY_DB = ROOT / "tests" / "data" / "replay-seed7.sqlite"


class StepClock:
    """A nanosecond clock that advances ``step_ns`` per reading."""

    def __init__(self, step_ns: int = 1_250) -> None:
        self.t, self.step = 0, step_ns

    def __call__(self) -> int:
        self.t += self.step
        return self.t


class _Ticks:
    def __init__(self, step_s: float) -> None:
        self.t, self.step = 0.0, step_s

    def __call__(self) -> float:
        self.t += self.step
        return self.t


def staged_sim(seed: int = 7, ticks: int = 40) -> SimMarket:
    """The in-process seeded market, ``ticks`` slots in."""
    m = SimMarket(seed=seed, clock=StepClock())
    m.now = _Ticks(0.2)  # one 200 ms tick per reading
    for _ in range(ticks):
        m.tick()
    return m


async def staged_replay(db: Path = REPLAY_DB, at_s: float = 3.0) -> Any:
    """The recording in ``db`` (its only session; read from a temporary copy, since
    opening a journal switches it to WAL), paused at ``at_s`` seconds."""
    import shutil
    import tempfile

    from storage.journal import Journal

    from .replay import ReplaySession, load_info

    copy = Path(tempfile.mkdtemp(prefix="arbscope-staged-")) / db.name
    shutil.copyfile(db, copy)
    db = copy

    async with await Journal.open(db, create=False) as j:
        sid = (await j.sessions())[0].id
    r = ReplaySession(db, await load_info(db, sid), clock=StepClock())
    await r.start()
    r.seek(at_s)
    for _ in range(10_000):  # ~10 s at most
        if r.target_ns is None:
            break
        r.tick()
        await asyncio.sleep(0.001)
    return r


def fix_app(app: Any) -> Any:
    """Pin the status bar's wall clock."""
    app.state.clock = lambda: FIXED_WALL
    return app

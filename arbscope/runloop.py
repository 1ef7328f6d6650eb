"""The session's time: one run loop and the clocks it can be given.

Every source — the live or simulated feeds, the in-process demo market, a replay — is
driven the same way: :class:`RunLoop` waits one period on its :class:`Clock`, then
calls the session's turn (ingest drain, evaluation, execution; a replay applies the
recorded inputs that fell due) with the clock's time. Who drives the loop changes
nothing: the dashboard, ``arbscope run --headless``, ``FeedSession.run_for`` and a
headless replay all await the same :meth:`RunLoop.run`. The screen never drives it: it
reads the session's latest snapshot at its own frame rate.

The clock is injected, so time is whatever the caller says it is:

- :class:`MonotonicClock` — the machine's monotonic clock (live sessions, the demo);
- :class:`RecordedClock` — a recording's own time, paced at a speed (1×, 10×, 100×,
  as fast as possible) against a wall clock, stopped while paused (replay);
- :class:`ManualClock` — time moves only when told to (tests, staged screens): a test
  advances it one period and waits until the loop is parked again, so what a turn did
  never depends on how busy the machine is.

Times are integer nanoseconds throughout.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

TICK_S = 0.2  # the sessions' default period: they evaluate what changed this often


class Clock(Protocol):
    """What the run loop needs of time: the time now, and a way to wait for a later one."""

    def now_ns(self) -> int:
        """The clock's time (ns; only differences mean anything)."""
        ...

    async def wait_until(self, t_ns: int) -> None:
        """Return once the clock reads ``t_ns`` or later (at once, after yielding to the
        event loop, when it already does)."""
        ...


class MonotonicClock:
    """The machine's monotonic clock (``time.monotonic_ns``), waited on with
    ``asyncio.sleep``."""

    def now_ns(self) -> int:
        return time.monotonic_ns()

    async def wait_until(self, t_ns: int) -> None:
        await asyncio.sleep(max(0, t_ns - time.monotonic_ns()) / 1e9)


class ManualClock:
    """A clock that moves only when :meth:`advance` is called (tests, staged screens).

    A loop driven by it is *parked* while it waits for a time the clock has not reached;
    :meth:`parked` returns once that is so, which is how a test knows a turn is over
    without sleeping."""

    def __init__(self, t_ns: int = 0) -> None:
        self._t = t_ns
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._parked: asyncio.Event | None = None

    def now_ns(self) -> int:
        return self._t

    def _event(self) -> asyncio.Event:
        if self._parked is None:
            self._parked = asyncio.Event()
        return self._parked

    async def wait_until(self, t_ns: int) -> None:
        if t_ns <= self._t:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (t_ns, fut)
        self._waiters.append(entry)
        self._event().set()
        try:
            await fut
        finally:
            if entry in self._waiters:  # cancelled while waiting
                self._waiters.remove(entry)
                if not self._waiters:
                    self._event().clear()

    def advance(self, ns: int) -> None:
        """Move the time on by ``ns`` and wake whoever waited for it (they run at the
        event loop's next turns)."""
        self._t += ns
        due = [w for w in self._waiters if w[0] <= self._t]
        self._waiters = [w for w in self._waiters if w[0] > self._t]
        if not self._waiters:
            self._event().clear()
        for _, fut in due:
            if not fut.done():
                fut.set_result(None)

    @property
    def waiting(self) -> int:
        """How many coroutines wait for a time the clock has not reached."""
        return len(self._waiters)

    async def parked(self) -> None:
        """Return once some coroutine waits on this clock for a later time (a loop
        driven by it has finished its turn and waits for the next)."""
        await self._event().wait()


class RecordedClock:
    """A recording's time (ns since its first input) for a replay's run loop.

    It runs at ``speed`` times the pace of ``wall`` (``math.inf``: as fast as the
    inputs can be applied, yielding to the event loop at every wait), and stands still
    while ``paused``; once the recording is over (``ended``, set by the replay) it runs
    at the wall's own pace, so a replay at ``max`` that reached the end does not spin.
    The replay moves it itself when a control moves the position (:meth:`set`: a step, a
    seek), and :meth:`poke` makes a wait return, so the loop takes a turn to act on a
    control at once.

    The pace is anchored: from the wall's time and the recording's when it last started
    (a resume, a speed change, a seek), the recording reads ``speed`` times the wall time
    since, so the time a turn takes is not added to every period (1x keeps to the wall
    clock; a machine too slow for the speed falls behind, turn after turn, and never
    bursts)."""

    def __init__(self, wall: Clock | None = None, speed: float = 1.0) -> None:
        self.wall: Clock = wall if wall is not None else MonotonicClock()
        self.speed = speed
        self.paused = False
        self.ended = False
        self._t = 0
        self._poked: asyncio.Event | None = None
        # (wall ns, recording ns, speed) when the pace last started; None: at the next wait
        self._anchor: tuple[int, int, float] | None = None

    def _event(self) -> asyncio.Event:
        if self._poked is None:
            self._poked = asyncio.Event()
        return self._poked

    def now_ns(self) -> int:
        return self._t

    def set(self, t_ns: int) -> None:
        """The replay's position moved (a step, a seek, a resume): the clock reads it,
        and its pace starts again from there."""
        self._t = t_ns
        self._anchor = None

    def poke(self) -> None:
        """A control wants the loop to take a turn now (a paused wait returns)."""
        self._event().set()

    async def wait_until(self, t_ns: int) -> None:
        poked = self._event()
        if poked.is_set():
            poked.clear()
            await asyncio.sleep(0)
            return
        if self.paused:
            self._anchor = None
            await poked.wait()
            poked.clear()
            return
        speed = min(self.speed, 1.0) if self.ended else self.speed
        if t_ns > self._t and not math.isinf(speed):
            anchor = self._anchor
            if anchor is None or anchor[2] != speed:
                anchor = self._anchor = (self.wall.now_ns(), self._t, speed)
            wall0, rec0, _ = anchor
            due = wall0 + math.ceil((t_ns - rec0) / speed)
            if await self._poked_during(self.wall.wait_until(due)):
                return  # a control (a seek, a stop) wants its turn now: the time stays
        else:
            self._anchor = None
            await asyncio.sleep(0)
        if not self.paused:  # a pause pressed meanwhile keeps the time where it was
            self._t = max(self._t, t_ns)

    async def _poked_during(self, wait: Awaitable[None]) -> bool:
        """Await ``wait`` unless :meth:`poke` comes first (then ``wait`` is cancelled and
        the poke consumed); whether it did."""
        poked = self._event()
        waiting = asyncio.ensure_future(wait)
        woken = asyncio.ensure_future(poked.wait())
        try:
            await asyncio.wait((waiting, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in (waiting, woken):
                fut.cancel()
            await asyncio.gather(waiting, woken, return_exceptions=True)
        if waiting.done() and not waiting.cancelled() and waiting.exception() is not None:
            raise waiting.exception()  # type: ignore[misc]  # the wall clock failed
        if poked.is_set():
            poked.clear()
            return True
        return False


Turn = Callable[[int], Awaitable[None] | None]


class RunLoop:
    """Calls ``turn(now_ns)`` once every ``period_ns`` of ``clock`` time.

    Deadlines are a fixed rate, one period apart whatever a turn takes (the session's
    rate, as the dashboard's timer kept it); a turn that overran skips the deadlines it
    missed rather than being followed by a burst of catch-up turns, and a clock moved
    back (a replay's seek) starts the deadlines again from its time. While
    :attr:`paused`, the clock runs and no turn is taken."""

    def __init__(self, turn: Turn, clock: Clock, period_ns: int) -> None:
        if period_ns <= 0:
            raise ValueError(f"the run loop's period must be positive, got {period_ns} ns")
        self.turn, self.clock, self.period_ns = turn, clock, period_ns
        self.paused = False
        self.turns = 0  # turns taken (for tests and the benchmarks)

    async def run(
        self,
        *,
        until_ns: int | None = None,
        done: Callable[[], bool] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Turn until ``done()`` is true (checked before every wait) or the clock has
        passed ``until_ns``, forever otherwise (cancel the task to stop it).

        ``on_error``: an exception from a turn is handed to it and the loop goes on (the
        dashboard counts it on the status line); without it, it propagates."""
        clock = self.clock
        due = clock.now_ns() + self.period_ns
        while done is None or not done():
            await clock.wait_until(due)
            if done is not None and done():
                return
            if not self.paused:
                try:
                    out = self.turn(clock.now_ns())
                    if inspect.isawaitable(out):
                        await out
                except Exception as exc:
                    if on_error is None:
                        raise
                    on_error(exc)
                self.turns += 1
            now, period = clock.now_ns(), self.period_ns
            if until_ns is not None and now >= until_ns:
                return
            due += period
            if due <= now:  # the turn overran: the next deadline still to come
                due += ((now - due) // period + 1) * period
            elif due > now + period:  # the clock was moved back, or stood (a poke)
                due = now + period


__all__ = ["TICK_S", "Clock", "ManualClock", "MonotonicClock", "RecordedClock", "RunLoop"]

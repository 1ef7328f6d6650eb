"""The session's run loop and its clocks: a turn per period of the injected clock, pause,
errors, the end; a recording's clock paced against a wall clock; a session that builds
its snapshot only for a reader. Driven by a ManualClock: nothing here waits on time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from arbscope.demo import SimMarket
from arbscope.runloop import ManualClock, RecordedClock, RunLoop

PERIOD = 200_000_000  # ns


async def started(clock: ManualClock, coro: Any) -> asyncio.Task[Any]:
    """``coro`` as a task, once it waits on ``clock``."""
    task = asyncio.ensure_future(coro)
    await clock.parked()
    return task


async def test_the_loop_turns_once_per_period_of_its_clock_and_not_while_paused() -> None:
    clock = ManualClock(t_ns=5_000)
    seen: list[int] = []
    loop = RunLoop(seen.append, clock, PERIOD)
    task = await started(clock, loop.run())
    clock.advance(PERIOD - 1)
    await clock.parked()  # still waiting: the period is not over
    assert seen == []
    clock.advance(1)
    await clock.parked()
    assert seen == [5_000 + PERIOD]  # the turn gets the clock's time
    clock.advance(PERIOD)
    await clock.parked()
    assert seen == [5_000 + PERIOD, 5_000 + 2 * PERIOD] and loop.turns == 2
    loop.paused = True
    for _ in range(3):
        clock.advance(PERIOD)
        await clock.parked()
    assert len(seen) == 2 and loop.turns == 2  # the clock ran, no turn was taken
    loop.paused = False
    clock.advance(PERIOD)
    await clock.parked()
    assert seen[-1] == 5_000 + 6 * PERIOD
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.waiting == 0  # a cancelled wait leaves nothing behind


async def test_the_loop_ends_at_its_deadline_or_when_done_and_awaits_async_turns() -> None:
    clock = ManualClock()
    seen: list[int] = []

    async def turn(now_ns: int) -> None:  # a replay's turn awaits the journal
        await asyncio.sleep(0)
        seen.append(now_ns)

    loop = RunLoop(turn, clock, PERIOD)
    task = await started(clock, loop.run(until_ns=3 * PERIOD))
    for _ in range(2):
        clock.advance(PERIOD)
        await clock.parked()  # the turn is over: the loop waits for the next period
    clock.advance(PERIOD)
    await asyncio.wait_for(task, 30)  # the deadline: no further wait
    assert seen == [PERIOD, 2 * PERIOD, 3 * PERIOD]  # the last turn is at the deadline

    stop = False
    task = await started(clock, RunLoop(turn, clock, PERIOD).run(done=lambda: stop))
    stop = True
    clock.advance(PERIOD)
    await asyncio.wait_for(task, 30)
    assert len(seen) == 3  # done is checked after the wait, before the turn


async def test_the_rate_is_fixed_whatever_a_turn_takes_and_an_overrun_never_bursts() -> None:
    """A turn's own time does not push the next one back (the session keeps its rate);
    a turn longer than a period skips the deadlines it missed."""
    clock = ManualClock()
    seen: list[int] = []
    cost = [PERIOD // 4, 3 * PERIOD // 2, 0, 0]  # clock time each turn takes

    def turn(now_ns: int) -> None:
        seen.append(now_ns)
        clock.advance(cost[len(seen) - 1])

    task = await started(clock, RunLoop(turn, clock, PERIOD).run(until_ns=5 * PERIOD))
    for step in (PERIOD, 3 * PERIOD // 4, PERIOD // 2):  # to each deadline: P, 2 P, 4 P
        clock.advance(step)
        await clock.parked()
    clock.advance(PERIOD)
    await asyncio.wait_for(task, 30)
    # 1 P (took 0.25 P) -> 2 P (took 1.5 P: 3 P missed) -> 4 P -> 5 P, the deadline
    assert seen == [PERIOD, 2 * PERIOD, 4 * PERIOD, 5 * PERIOD]


async def test_an_error_in_a_turn_goes_to_on_error_and_the_loop_goes_on() -> None:
    clock = ManualClock()
    calls: list[int] = []

    def turn(now_ns: int) -> None:
        calls.append(now_ns)
        if len(calls) == 1:
            raise RuntimeError("boom")

    errors: list[Exception] = []
    task = await started(clock, RunLoop(turn, clock, PERIOD).run(on_error=errors.append))
    for _ in range(2):
        clock.advance(PERIOD)
        await clock.parked()
    assert len(calls) == 2 and [str(e) for e in errors] == ["boom"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # without on_error, the exception ends the loop (a headless run reports it)
    calls.clear()
    task = await started(clock, RunLoop(turn, clock, PERIOD).run())
    clock.advance(PERIOD)
    with pytest.raises(RuntimeError, match="boom"):
        await asyncio.wait_for(task, 30)


def test_a_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RunLoop(lambda now: None, ManualClock(), 0)


async def test_a_recorded_clock_runs_at_its_speed_stops_when_paused_and_wakes_when_poked() -> None:
    wall = ManualClock()
    rec = RecordedClock(wall, speed=10.0)
    waiting = asyncio.ensure_future(rec.wait_until(PERIOD))  # 200 ms of recording...
    await wall.parked()
    wall.advance(PERIOD // 10 - 1)
    await wall.parked()
    assert not waiting.done() and rec.now_ns() == 0
    wall.advance(1)  # ...is 20 ms of the wall at 10x
    await asyncio.wait_for(waiting, 30)
    assert rec.now_ns() == PERIOD
    rec.paused = True
    waiting = asyncio.ensure_future(rec.wait_until(2 * PERIOD))
    wall.advance(10 * PERIOD)
    await asyncio.sleep(0)
    assert not waiting.done()  # paused: the wall moves, the recording does not
    rec.poke()  # a control (a step, a seek) wants a turn now
    await asyncio.wait_for(waiting, 30)
    assert rec.now_ns() == PERIOD
    rec.paused, rec.speed = False, float("inf")
    await asyncio.wait_for(rec.wait_until(50 * PERIOD), 30)  # max: no waiting at all
    assert rec.now_ns() == 50 * PERIOD
    rec.ended = True  # the recording is over: the wall's own pace, even at max
    waiting = asyncio.ensure_future(rec.wait_until(51 * PERIOD))
    await wall.parked()
    wall.advance(PERIOD)
    await asyncio.wait_for(waiting, 30)
    assert rec.now_ns() == 51 * PERIOD


async def test_a_market_ticks_on_its_clock_and_builds_a_snapshot_only_when_read() -> None:
    """The session owns its time (its run loop on the injected clock) and the snapshot is
    built by whoever reads it, once per tick at most: nobody reading, nothing built."""
    clock = ManualClock()
    m = SimMarket(seed=5, pools=60, tokens=20, clock=clock)
    built = 0
    build = m.ev.snapshot

    def counting(**kw: Any) -> Any:
        nonlocal built
        built += 1
        return build(**kw)

    m.ev.snapshot = counting  # type: ignore[method-assign]
    task = await started(clock, m.run())
    for _ in range(5):
        clock.advance(PERIOD)
        await clock.parked()
    assert m.slot == 5 and built == 0  # five ticks, no reader
    first = m.snapshot
    assert m.snapshot is first and built == 1 and first.slot == 5
    assert first.updates_per_s == pytest.approx(10 / 0.2)  # the clock's, not the wall's
    clock.advance(PERIOD)
    await clock.parked()
    assert m.snapshot.slot == 6 and built == 2
    await m.stop()
    clock.advance(PERIOD)
    await asyncio.wait_for(task, 30)  # stopped: the loop ends without another tick
    assert m.slot == 6


async def test_a_recorded_clock_keeps_its_pace_whatever_the_turns_take() -> None:
    """At 1x the recording keeps to the wall clock: the time a turn takes is not added
    to each period (the pace is anchored where it last started), and a seek starts it
    again from the new position."""
    wall = ManualClock()
    rec = RecordedClock(wall, speed=1.0)
    waiting = asyncio.ensure_future(rec.wait_until(PERIOD))
    await wall.parked()
    wall.advance(PERIOD)
    await asyncio.wait_for(waiting, 30)
    wall.advance(PERIOD // 4)  # the turn took a quarter of a period
    waiting = asyncio.ensure_future(rec.wait_until(2 * PERIOD))
    await wall.parked()
    wall.advance(3 * PERIOD // 4 - 1)
    await wall.parked()
    assert not waiting.done()
    wall.advance(1)  # two periods of the wall since the start: two of the recording
    await asyncio.wait_for(waiting, 30)
    assert rec.now_ns() == 2 * PERIOD
    rec.set(10 * PERIOD)  # a seek: the pace starts again from there and from now
    wall.advance(5 * PERIOD)
    waiting = asyncio.ensure_future(rec.wait_until(11 * PERIOD))
    await wall.parked()
    wall.advance(PERIOD - 1)
    await wall.parked()
    assert not waiting.done()
    wall.advance(1)
    await asyncio.wait_for(waiting, 30)
    assert rec.now_ns() == 11 * PERIOD


async def test_a_poke_ends_a_wait_on_the_wall_and_the_time_stays() -> None:
    """A control (a seek, a stop) does not wait for the period to end: the loop gets its
    turn at once, at the time the clock read (it once waited on a wall clock that a test
    never moved, and a stopped replay never ended)."""
    wall = ManualClock()
    rec = RecordedClock(wall, speed=1.0)
    waiting = asyncio.ensure_future(rec.wait_until(PERIOD))
    await wall.parked()
    rec.poke()
    await asyncio.wait_for(waiting, 30)
    assert rec.now_ns() == 0 and wall.waiting == 0  # the wall's wait was withdrawn

"""A turn's evaluation in slices (``arbscope.parts.turn.Turn.run``): the event loop is given back
between slices, so a key is handled while a turn still has pools to evaluate; a pool that
changed many times while it waited is evaluated once, on its newest state; what changes
during a turn waits for the next; and the slices are journaled, so a replay decides the
same. Nothing here waits on wall time: the session's clock is a ManualClock moved by the
test, and a slice budget of 0 makes every slice one pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from arbscope import sources
from arbscope.parts.settings import SLICE_PIECE
from arbscope.replay import ReplaySession, load_info
from arbscope.runloop import TICK_S, ManualClock
from arbscope.session import FeedSession, RecordSettings
from tests.support.live import quiet
from tests.support.pilot import until
from tui.app import ArbscopeApp

PERIOD_NS = int(TICK_S * 1e9)


def unstarted(slice_s: float | None, seed: int = 11) -> tuple[FeedSession, ManualClock]:
    """A session on a quiet simulated market (its pools move only when told), turned by
    hand, with ``slice_s`` as its slice budget (0: a pool a slice; None: whole turns)."""
    clock = ManualClock()
    s = sources.session(
        sources.Watch(max_hops=3, seed=seed),
        sources.Evaluation(shadow=False),
        sim=sources.SimSettings(world=quiet(seed), endpoints=1),
        clock=clock,
    )
    s.turn.slice_s = slice_s
    return s, clock


@asynccontextmanager
async def session(slice_s: float | None) -> AsyncIterator[tuple[FeedSession, ManualClock]]:
    """:func:`unstarted`, started (and stopped after)."""
    s, clock = unstarted(slice_s)
    await s.start()
    try:
        assert not s.start_error, s.start_error
        yield s, clock
    finally:
        await s.stop()


def script(s: FeedSession, reports: list[list[str]]) -> list[str]:
    """The ingest's changed pools from here on are ``reports``, one list a look (then
    none); what was looked at is logged (``"changed <pool>"``) in the list returned."""
    log: list[str] = []
    queue = list(reports)

    def take_changed() -> list[str]:
        got = queue.pop(0) if queue else []
        log.extend(f"changed {p}" for p in got)
        return got

    s.ingest.take_changed = take_changed  # type: ignore[method-assign]
    return log


def spy_evaluations(
    s: FeedSession, log: list[str], also: Callable[[], None] = lambda: None
) -> None:
    """Every evaluation of a pool logged (``"evaluate <pool>"``); ``also`` runs before each."""
    evaluate = s.ev.evaluate

    def evaluating(pool: str, slot: int) -> Any:
        also()
        log.append(f"evaluate {pool}")
        return evaluate(pool, slot)

    s.ev.evaluate = evaluating  # type: ignore[method-assign]


async def turn(s: FeedSession, clock: ManualClock) -> None:
    """One turn of the session's run loop, to its end (the loop waits for the next)."""
    turns = s.loop.turns
    clock.advance(PERIOD_NS)
    await clock.parked()
    assert s.loop.turns == turns + 1


def pools_of(s: FeedSession, n: int) -> list[str]:
    pools = [p for p, _ in s.universe if s.observed.pool_state(p) is not None][:n]
    assert len(pools) == n
    return pools


@pytest.mark.slow
async def test_a_pool_that_changed_while_it_waited_is_evaluated_once_on_its_newest_state() -> None:
    async with session(slice_s=0.0) as (s, clock):
        a, b, c, d = pools_of(s, 4)
        task = asyncio.ensure_future(s.run())
        try:
            await clock.parked()
            # the first slice finds a..d; while the turn goes on, b changes again (it keeps
            # its place), c twice (it is evaluated once, after both), b once more after
            # its evaluation (it waits for the next turn)
            log = script(s, [[a, b, c, d], [b], [c, c], [b], [], [], []])
            spy_evaluations(s, log)
            await turn(s, clock)
            first = list(log)
            await turn(s, clock)
        finally:
            s.loop.paused = True
            await s.stop()
            task.cancel()
    assert first == [
        *(f"changed {p}" for p in (a, b, c, d)),
        f"evaluate {a}",
        f"changed {b}",
        f"evaluate {b}",
        f"changed {c}",
        f"changed {c}",
        f"evaluate {c}",
        f"changed {b}",  # evaluated already this turn: back in the backlog, at its end
        f"evaluate {d}",  # the turn's four pools are done: b is the next turn's
    ]
    assert log[len(first) :] == [f"evaluate {b}"]
    assert s.backlog == (0, 0.0)
    # before each of the first turn's four slices, its end, its decisions, its report, its
    # events and its screen's part; the second's one, and the same five steps
    assert s.turn.slices_yielded == 9 + 6


@pytest.mark.slow
@pytest.mark.parametrize("sliced", [True, False])
async def test_a_key_is_handled_between_slices_of_a_turn(sliced: bool) -> None:
    """``space`` pressed as a turn begins is handled before the turn's last pool when the
    turn is sliced; a whole turn (the old way) holds it until the turn is over."""
    s, clock = unstarted(0.0 if sliced else None)
    try:
        app = ArbscopeApp(s)  # it starts the session and runs its loop
        async with app.run_test(size=(120, 40)) as pilot:
            await clock.parked()
            assert not s.start_error, s.start_error
            pools = [p for p, _ in s.universe if s.observed.pool_state(p) is not None]
            assert len(pools) >= 20
            log = script(s, [pools])
            seen: list[bool] = []  # app.paused at each evaluation
            pressed = app.paused

            def watch() -> None:
                if not seen:
                    app.simulate_key("space")  # as a terminal key arrives mid-turn
                seen.append(app.paused)

            spy_evaluations(s, log, watch)
            await turn(s, clock)
            assert len(seen) == len(pools)
            if sliced:
                assert not seen[0] and seen[-1] != pressed  # handled before the last pool
            else:
                assert seen == [pressed] * len(pools)  # the whole turn held the key
            await until(pilot, lambda: app.paused != pressed)  # handled either way, in the end
    finally:
        await s.stop()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("report", "decide", "events", "piece"),
    [
        ("apart", "apart", "apart", SLICE_PIECE),
        ("apart", "apart", "inline", SLICE_PIECE),
        ("apart", "inline", "inline", SLICE_PIECE),
        ("inline", "inline", "inline", SLICE_PIECE),
        ("apart", "apart", "apart", 2),
    ],
)
async def test_a_sliced_session_replays_to_the_same_digest(
    tmp_path: Path, report: str, decide: str, events: str, piece: int
) -> None:
    """A pool a slice on a busy market, the frames arriving between slices: the journal
    holds the slices (``SLICE``, ``TURN``) and, when the turns report apart (a new
    session's way), each turn's report (``REPORT``) after its end, the frames arriving
    between them too; a replay makes the same decisions and events. A session that
    reports in the turn's end (a recording from before ``REPORT``) journals none. Each
    turn's decisions (``DECISIONS``) likewise, between its end and its report, or in its
    end (a recording from before ``DECISIONS``); and its events (``EVENTS``) after its
    report, or in it (a recording from before ``EVENTS``). With
    pieces of 2 cycles, every pool through more is evaluated a piece a slice, frames
    arriving between its pieces, and a replay evaluates the same pieces."""
    from arbscope.runloop import MonotonicClock
    from storage.codec import Kind
    from storage.journal import Journal

    db = tmp_path / "j.sqlite"
    s = sources.session(
        sources.Watch(seed=11),
        sources.Evaluation(
            turn_report=report, turn_decide=decide, turn_events=events, slice_piece=piece
        ),
        record=RecordSettings(db, batch_s=0.1),
        clock=MonotonicClock(),
    )
    s.turn.slice_s = 0.0
    pieces: list[tuple[int, int]] = []
    evaluate = s.ev.evaluate

    def evaluating(pool: str, slot: int, piece: tuple[int, int] | None = None) -> Any:
        if piece is not None:
            pieces.append(piece)
        return evaluate(pool, slot, piece)

    s.ev.evaluate = evaluating  # type: ignore[method-assign]
    await s.start()
    try:
        await s.run(duration_s=30.0, until=lambda: s.ev.found >= 5)  # a few opportunities
    finally:
        await s.stop()
    assert not s.start_error and len(s.digest) == 64 and s.turn.slices_yielded > 0
    info = await load_info(db, s.session_id)
    kinds: dict[Kind, int] = {}
    async with await Journal.open(db, create=False, write=False) as j:
        async for i in j.stored_inputs(s.session_id):
            kinds[i.kind] = kinds.get(i.kind, 0) + 1
    assert kinds.get(Kind.SLICE, 0) > kinds.get(Kind.TURN, 0) > 0
    assert Kind.TICK not in kinds  # every turn was sliced
    if report == "apart":  # (the last turn's may be cut short by the stop)
        assert kinds[Kind.TURN] - 1 <= kinds.get(Kind.REPORT, 0) <= kinds[Kind.TURN]
    else:
        assert Kind.REPORT not in kinds
    if decide == "apart":
        assert kinds[Kind.TURN] - 1 <= kinds.get(Kind.DECISIONS, 0) <= kinds[Kind.TURN]
        assert kinds.get(Kind.REPORT, 0) <= kinds[Kind.DECISIONS]
    else:
        assert Kind.DECISIONS not in kinds
    assert info.config["turn_report"] == report and info.config["slice_piece"] == piece
    assert info.config["turn_decide"] == decide
    if events == "apart":
        assert kinds[Kind.REPORT] - 1 <= kinds.get(Kind.EVENTS, 0) <= kinds[Kind.REPORT]
    else:
        assert Kind.EVENTS not in kinds
    assert info.config["turn_events"] == events
    # pieces of 2: pools evaluated a piece at a time, past their first
    assert (piece == 2) == any(start > 0 for start, _ in pieces)
    r = ReplaySession(db, info)
    await r.start()
    try:
        digest = await r.play(float("inf"))
    finally:
        await r.stop()
    assert info.complete and info.opportunities > 0 and digest == s.digest


@pytest.mark.slow
@pytest.mark.parametrize("slice_s", [0.0, 1.0])
async def test_a_turn_evaluates_at_most_its_pools_and_the_rest_wait_oldest_first(
    slice_s: float,
) -> None:
    """Five pools waiting, a turn of at most two: each turn evaluates the two oldest
    (a slice a pool, or both in one slice), ends, and reports before the next begins;
    a pool that changes meanwhile joins the queue behind them."""
    async with session(slice_s=slice_s) as (s, clock):
        a, b, c, d, e = pools_of(s, 5)
        s.turn.turn_pools = 2
        task = asyncio.ensure_future(s.run())
        try:
            await clock.parked()
            log = script(s, [[a, b, c, d], [], [e, a]])
            spy_evaluations(s, log)
            turned = s.observed.turned

            def reporting(fills: Any) -> None:
                log.append("report")
                turned(fills)

            s.observed.turned = reporting  # type: ignore[method-assign]
            for _ in range(4):
                await turn(s, clock)
        finally:
            s.loop.paused = True
            await s.stop()
            task.cancel()
    looks = [x for x in log if not x.startswith("changed")]
    assert looks == [
        f"evaluate {a}",
        f"evaluate {b}",
        "report",
        f"evaluate {c}",
        f"evaluate {d}",
        "report",
        f"evaluate {e}",
        f"evaluate {a}",  # changed again after its evaluation: behind e
        "report",
        "report",  # nothing waits: a turn of no evaluation still ends and reports
    ]


def test_a_turn_reports_apart_or_inline_and_nowhere_else() -> None:
    with pytest.raises(ValueError, match="turn_report: 'later' is not one of apart, inline"):
        sources.Evaluation(turn_report="later")


def test_a_turn_decides_where_it_reports_unless_told_and_never_after_it() -> None:
    assert sources.Evaluation().turn_decide == "apart"
    assert sources.Evaluation(turn_report="inline").turn_decide == "inline"
    assert sources.Evaluation(turn_decide="inline").turn_decide == "inline"
    with pytest.raises(ValueError, match="turn_decide: 'later' is not one of apart, inline"):
        sources.Evaluation(turn_decide="later")
    with pytest.raises(ValueError, match="needs turn_report apart"):
        sources.Evaluation(turn_report="inline", turn_decide="apart")


def test_a_turn_makes_its_events_where_it_reports_unless_told_and_never_before_it() -> None:
    assert sources.Evaluation().turn_events == "apart"
    assert sources.Evaluation(turn_report="inline").turn_events == "inline"
    assert sources.Evaluation(turn_events="inline").turn_events == "inline"
    with pytest.raises(ValueError, match="turn_events: 'later' is not one of apart, inline"):
        sources.Evaluation(turn_events="later")
    with pytest.raises(ValueError, match="turn_events apart needs turn_report apart"):
        sources.Evaluation(turn_report="inline", turn_events="apart")

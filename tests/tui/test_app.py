"""The first screen: fills with cycles on a fixed seed, keys answer, errors never crash it."""

from __future__ import annotations

import asyncio
import gc
import itertools
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from arbscope.demo import SimMarket
from arbscope.runloop import TICK_S, ManualClock
from tests.support.pilot import until
from tui.app import ArbscopeApp
from tui.screens.live import LiveScreen
from tui.widgets.cycles import CyclesPanel, row_key
from tui.widgets.status import StatusLine


def _status(app: ArbscopeApp) -> str:
    return str(app.screen.query_one(StatusLine).render())


@pytest.mark.slow
async def test_screen_fills_with_cycles_and_q_quits() -> None:
    app = ArbscopeApp(SimMarket(seed=7))
    async with app.run_test(size=(120, 40)) as pilot:
        cycles = app.screen.query_one("#cycles", DataTable)
        await until(pilot, lambda: cycles.row_count > 0)
        assert cycles.row_count > 0
        snap = app.source.snapshot
        # the rows are the snapshot's cycles, keyed by base mint and pools
        shown = {str(k.value) for k in cycles.rows}
        assert shown <= {o.base_mint + ":" + ",".join(o.pools) for o, _ in snap.opportunities}
        timings = app.screen.query_one("#timings", DataTable)
        assert timings.row_count >= 5  # swaps, upserts, cycles_touching, score, ...
        status = _status(app)
        assert "seed 7" in status and "errors 0" in status and "mismatch 0" in status
        await pilot.press("q")
    assert not app.is_running


async def turns(clock: ManualClock, n: int) -> None:
    """Let the source's run loop take ``n`` turns: one period of its clock each, and
    back to waiting for the next."""
    for _ in range(n):
        clock.advance(int(TICK_S * 1e9))
        await clock.parked()


@pytest.mark.slow
async def test_space_pauses_the_market() -> None:
    """The market runs on its own clock (driven here by hand); space stops its
    evaluation, not the clock, and the screen says so."""
    clock = ManualClock()
    app = ArbscopeApp(SimMarket(seed=3, clock=clock))
    async with app.run_test(size=(120, 40)) as pilot:
        await clock.parked()  # started: its run loop waits for the first period
        await turns(clock, 2)
        assert app.source.snapshot.slot == 2
        await pilot.press("space")
        assert app.paused
        await turns(clock, 3)
        assert app.source.snapshot.slot == 2  # paused: the periods pass, no tick
        async with asyncio.timeout(30):  # the next redraw shows it
            while "PAUSED" not in _status(app):
                await pilot.pause(0.05)
        await pilot.press("space")
        await turns(clock, 1)
        assert app.source.snapshot.slot == 3


class _PanelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CyclesPanel(id="cycles")


def _keys(opps: Any) -> list[str]:
    return [row_key(o) for o, _ in opps]


async def test_cycles_panel_updates_rows_by_key_never_rebuilds() -> None:
    m = SimMarket(seed=7)

    def ticked() -> list[Any]:
        m.tick()
        return list(m.snapshot.opportunities)

    snaps = [ticked() for _ in range(12)]
    # two consecutive snapshots that share some rows and differ in others
    a, b = next(
        (x, y)
        for x, y in itertools.pairwise(snaps)
        if set(_keys(x)) & set(_keys(y)) and set(_keys(x)) ^ set(_keys(y))
    )
    app = _PanelApp()
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(CyclesPanel)
        panel.show(a)
        await pilot.pause()
        calls: dict[str, list[str]] = {"remove": [], "add": [], "clear": []}
        remove, add = panel.remove_row, panel.add_row

        def spy_remove(key: Any) -> None:
            calls["remove"].append(str(key))
            remove(key)

        def spy_add(*cells: Any, key: str | None = None, **kw: Any) -> Any:
            calls["add"].append(str(key))
            return add(*cells, key=key, **kw)

        panel.remove_row = spy_remove  # type: ignore[method-assign]
        panel.add_row = spy_add  # type: ignore[method-assign]
        panel.clear = lambda *a, **k: calls["clear"].append("x")  # type: ignore[method-assign,assignment]
        panel.show(b)
        await pilot.pause()
        # a row that went gives its place to one that came (no remove_row: it asks for
        # a layout pass); rows are removed or added only as their number changes
        went, came = set(_keys(a)) - set(_keys(b)), set(_keys(b)) - set(_keys(a))
        assert len(calls["remove"]) == max(0, len(went) - len(came))
        assert len(calls["add"]) == max(0, len(came) - len(went))
        assert set(calls["remove"]) <= went and set(calls["add"]) <= came
        assert not calls["clear"]
        assert [str(r.key.value) for r in panel.ordered_rows] == _keys(b)  # best net first
        shown = [[str(c) for c in panel.get_row(k)] for k in _keys(b)]
    fresh_app = _PanelApp()  # the oracle: a table that showed only b
    async with fresh_app.run_test(size=(120, 40)) as pilot:
        fresh = fresh_app.query_one(CyclesPanel)
        fresh.show(b)
        await pilot.pause()
        assert shown == [[str(c) for c in fresh.get_row(k)] for k in _keys(b)]


@pytest.mark.slow
async def test_redraws_by_the_clock_not_per_update() -> None:
    app = ArbscopeApp(SimMarket(seed=7, updates_per_tick=50, tick_s=0.05), frame_s=0.25)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        f0, u0 = screen.frames, app.source.snapshot.updates
        t0 = time.monotonic()
        await until(pilot, lambda: app.source.snapshot.updates - u0 >= 200)  # >= 4 ticks
        elapsed = time.monotonic() - t0
        # the screen's timer fires at most once per frame period however busy the machine
        # is; a redraw per tick (every 0.05 s) or per update would exceed this bound
        assert screen.frames - f0 <= elapsed / 0.25 + 2


class _Failing:
    """A source whose run loop raises: the app must count it, not crash."""

    def __init__(self) -> None:
        self.inner = SimMarket(seed=7, pools=60, tokens=20)

    @property
    def snapshot(self) -> Any:
        return self.inner.snapshot

    async def run(self, on_error: Any = None) -> None:
        raise RuntimeError("boom")

    def set_paused(self, paused: bool) -> None:
        pass

    async def start(self) -> None:
        raise RuntimeError("cannot start")

    async def stop(self) -> None:
        raise RuntimeError("cannot stop")


@pytest.mark.slow
async def test_errors_are_counted_not_raised() -> None:
    app = ArbscopeApp(_Failing())
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.state.internal_errors > 0)
        await until(pilot, lambda: "RuntimeError: boom" in _status(app))
        assert app.is_running
        await pilot.press("q")


@pytest.mark.slow
async def test_garbage_is_collected_in_a_loop_turn_of_its_own() -> None:
    """Python's collector runs inside whatever allocated last (often a redraw), and a full
    pass walked every object alive (~170,000): a key waited for both. Once the source has
    started, the app freezes what is alive and runs each collection from its own timer."""
    app = ArbscopeApp(SimMarket(seed=7, updates_per_tick=50, tick_s=0.05))
    seen: list[tuple[int, bool]] = []  # (generation, inside the app's collector turn)
    inside = False
    original = app._collect

    def collect() -> None:
        nonlocal inside
        inside = True
        try:
            original()
        finally:
            inside = False

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append((info["generation"], inside))

    app._collect = collect  # type: ignore[method-assign]
    gc.callbacks.append(on_gc)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(100):  # the source has started: the app collects from now on
                if not gc.isenabled():
                    break
                await pilot.pause(0.1)
            assert not gc.isenabled() and gc.get_freeze_count() > 10_000
            seen.clear()
            for _ in range(300):  # ticks and redraws allocate: collections come
                if sum(1 for _, own in seen if own) >= 5:
                    break
                await pilot.pause(0.1)
            await pilot.press("t", "space", "t", "space")
            await pilot.pause(0.5)
            assert seen and all(own for _, own in seen), seen  # never inside a redraw or tick
            assert sum(app.collections) >= len(seen)
            await pilot.press("q")
    finally:
        gc.callbacks.remove(on_gc)
    assert gc.isenabled() and gc.get_freeze_count() == 0  # Python's own collector again


def test_the_app_runs_the_older_passes_at_its_own_thresholds() -> None:
    # settled, the app's collector runs a middle pass after MIDDLE_EVERY young ones and a
    # full one after FULL_EVERY middle ones (collect_due reads the thresholds; a full pass
    # ten times rarer than Python's), a settle from its own full pass keeps them, and
    # restoring puts Python's back. In a fresh interpreter: the thresholds are the
    # process's.
    code = textwrap.dedent(
        """
        import gc
        from tui import app
        gc.set_threshold(700, 10, 10)
        app.settle_gc()
        assert gc.get_threshold() == (700, app.MIDDLE_EVERY, app.FULL_EVERY)
        assert app.FULL_EVERY > 10 and not gc.isenabled()
        app.settle_gc()  # (as collect_due's whole pass does)
        assert gc.get_threshold() == (700, app.MIDDLE_EVERY, app.FULL_EVERY)
        junk, gens = [], []
        while 2 not in gens:
            junk.extend([i] for i in range(800))  # a young pass due each time
            gens.append(app.collect_due())
            if len(junk) > 100_000:
                junk.clear()
        # each middle pass after MIDDLE_EVERY young ones, the full one after FULL_EVERY
        # middle ones
        assert gens.count(1) == app.FULL_EVERY, gens.count(1)
        assert len(gens) == app.FULL_EVERY * (app.MIDDLE_EVERY + 1) + 1, len(gens)
        app.restore_gc()
        assert gc.get_threshold() == (700, 10, 10) and gc.isenabled()
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_a_full_collection_walks_only_what_came_since_the_last_one() -> None:
    # the app's collector policy (automatic collection off, collect_due on a timer):
    # what survives a full pass is frozen, so each full pass walks what reached the old
    # generation since the last one however large the heap the session keeps (on the
    # 3,000-pool market the old generation came to hold the whole state again and full
    # passes took 526-871 ms); a cycle frozen so and then dropped is freed when the app
    # settles again. In a fresh interpreter: the collector's state is the process's.
    code = textwrap.dedent(
        """
        import gc, weakref
        from tui import app
        class Node:
            pass
        app.settle_gc()
        gc.set_threshold(100, 2, 2)
        keep, walked = [], []
        ring = Node(); ring.me = ring; gone = weakref.ref(ring)
        for i in range(60_000):
            keep.append([i])  # long-lived and tracked: promoted to the old generation
            if i % 10 == 0:
                before = len(gc.get_objects(generation=2))
                if app.collect_due() == 2:
                    walked.append(before)
                    assert not gc.get_objects(generation=2)  # its survivors frozen
        assert len(walked) >= 10, walked
        assert max(walked) < 5_000, walked  # not the 60,000 kept
        assert gc.get_freeze_count() >= 60_000
        del ring  # frozen by then, and garbage now
        gc.collect()
        assert gone() is not None  # a frozen cycle is not walked
        app.settle_gc()
        assert gone() is None  # the next settle frees it
        # cycles that outlive a full pass, then dropped: the frozen objects grow by them
        # until half as many again as at the settle (and what one pass froze), when a
        # full pass settles again
        settled, most, rings, first = gc.get_freeze_count(), 0, [], None
        for i in range(400_000):
            ring = Node(); ring.me = ring; rings.append(ring)
            first = first or weakref.ref(ring)
            if len(rings) == 1_000:
                rings = []  # the last thousand: garbage once frozen
            # the frozen objects change only in a full pass (and gc.get_freeze_count walks
            # them all: counted after each one, not every time)
            if i % 10 == 0 and app.collect_due() == 2:
                most = max(most, gc.get_freeze_count())
        assert first() is None  # freed without a settle from outside
        assert most <= settled * 3 // 2 + 5_000, (settled, most)  # (+ one pass)
        app.restore_gc()
        print("ok")
        """
    )
    out = subprocess.run(
        # the timeout only stops a hang (the walk takes a few seconds)
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr

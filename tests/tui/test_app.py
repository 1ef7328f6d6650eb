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


def test_a_full_collection_waits_for_the_old_generation_to_grow_by_a_quarter() -> None:
    # as CPython's own collector: with the app's collector policy (automatic collection
    # off, collect_due on a timer), a full pass whose threshold is reached runs only once
    # the old generation grew by a quarter since the last one, so a heap of long-lived
    # objects that keeps growing is walked whole a logarithmic number of times, not at
    # every tenth middle pass (on the 3,000-pool market: 12 full passes in 150 s, 176 ms
    # each). In a fresh interpreter: the collector's state is the process's.
    code = textwrap.dedent(
        """
        import gc
        from tui import app
        app.settle_gc()
        gc.set_threshold(100, 2, 2)
        keep, fulls, middles = [], [], 0
        for i in range(60_000):
            keep.append([i])  # long-lived and tracked: promoted to the old generation
            if i % 10 == 0:
                gen = app.collect_due()
                if gen == 2:
                    fulls.append(len(gc.get_objects(generation=2)))
                middles += gen == 1
        app.restore_gc()
        assert len(fulls) >= 3, fulls
        assert all(b > a * 5 // 4 for a, b in zip(fulls, fulls[1:])), fulls
        assert middles > 4 * len(fulls), (middles, fulls)
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr

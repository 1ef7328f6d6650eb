"""Replay on screen: the dashboard opens on a recording; space, arrows, '.', +/- and
[ ] drive the replay clock (and only in a replay); the status line says REPLAY."""

from __future__ import annotations

from pathlib import Path

import pytest

from arbscope.demo import SimMarket
from arbscope.replay import ReplaySession, load_info
from tests.support.pilot import until
from tests.support.recording import recorded
from tui.app import ArbscopeApp
from tui.widgets.status import StatusLine


async def steps_done(app: ArbscopeApp) -> None:
    """Wait for the replay steps the keys started (they may read the journal)."""
    steps = [w for w in app.workers if w.group == "replay"]
    if steps:  # (an empty list would mean every worker, the source's run loop included)
        await app.workers.wait_for_complete(steps)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return recorded(tmp_path_factory.mktemp("ui"), 13, 3.0)


@pytest.mark.slow
async def test_replay_keys_drive_the_replay_clock(recording: tuple[Path, str]) -> None:
    db, sid = recording
    src = ReplaySession(db, await load_info(db, sid))
    app = ArbscopeApp(src)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: src.frames_applied > 0)
        await until(pilot, lambda: "REPLAY" in str(app.screen.query_one(StatusLine).render()))
        status = str(app.screen.query_one(StatusLine).render())
        assert status.split()[:2] == ["PAPER", "REPLAY"] and sid in status
        await pilot.press("space")
        assert src.paused
        frames = src.frames_applied
        await pilot.pause(0.3)
        assert src.frames_applied == frames  # paused: nothing applied
        await pilot.press("full_stop")
        await steps_done(app)
        assert src.frames_applied == frames + 1
        slot = src.session.ingest.stats().slot
        await pilot.press("right")
        await steps_done(app)
        assert src.session.ingest.stats().slot > slot
        await pilot.press("plus")
        assert src.speed == 10.0
        await pilot.press("minus")
        assert src.speed == 1.0
        pos = src.pos_ns
        await pilot.press("left")  # back one slot: rebuilt, then fast-forwarded
        await until(pilot, lambda: src.target_ns is None)
        assert src.pos_ns < pos and src.paused
        await pilot.press("right_square_bracket")  # +10 s: to the end of a 3 s recording
        await until(pilot, lambda: src.ended)
        assert src.frames_applied == src.info.frames
        await pilot.press("q")
    assert not app.is_running


@pytest.mark.slow
async def test_replay_keys_do_nothing_on_a_live_source() -> None:
    app = ArbscopeApp(SimMarket(seed=3, tick_s=0.05))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("plus", "right", "full_stop")
        await pilot.pause(0.1)
        assert app.replay is None and app.state.internal_errors == 0
        shown = [b.binding.description for b in app.active_bindings.values() if b.enabled]
        assert "Step slot" not in shown and "Quit" in shown

"""Every key of the dashboard, pressed as an operator would (Textual's pilot)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual import events

from arbscope.demo import SimMarket
from arbscope.replay import JournalSessions, ReplaySession
from arbscope.runloop import ManualClock
from tests.support.pilot import until
from tests.support.recording import recorded
from tests.support.staging import fix_app, staged_sim
from tui.app import ArbscopeApp
from tui.screens.detail import CycleDetail
from tui.screens.help import HelpScreen
from tui.screens.live import LiveScreen
from tui.screens.prompts import LiveConfirm, SessionPicker, TextPrompt
from tui.widgets.cycles import CyclesPanel
from tui.widgets.status import StatusLine


def status(app: ArbscopeApp) -> str:
    return str(app.screen.query_one(StatusLine).render())


def staged() -> ArbscopeApp:
    return fix_app(ArbscopeApp(staged_sim()))


@asynccontextmanager
async def on_staged(size: tuple[int, int]) -> AsyncIterator[tuple[ArbscopeApp, Any]]:
    """The staged dashboard (:func:`staged`) run at ``size``: the app and its pilot."""
    app = staged()
    async with app.run_test(size=size) as pilot:
        yield app, pilot


def dimmed(app: ArbscopeApp) -> set[str]:
    """The footer's keys shown but disabled (check_action said None)."""
    return {
        b.binding.description
        for b in app.active_bindings.values()
        if not b.enabled and b.binding.show
    }


@pytest.mark.slow
async def test_m_asks_for_live_and_refuses_without_execution() -> None:
    async with on_staged((120, 40)) as (app, pilot):
        await pilot.press("m")
        assert isinstance(app.screen, LiveConfirm)
        await pilot.press("escape")
        assert isinstance(app.screen, LiveScreen) and app.state.mode == "PAPER"
        await pilot.press("m")
        await pilot.press("l", "i", "v", "e", "enter")  # lower case is not the word
        assert app.state.mode == "PAPER" and "not confirmed" in app.state.message
        await pilot.press("m", "L", "I", "V", "E", "enter")
        assert app.state.mode == "PAPER"  # the demo market has no execution engine
        assert "live refused" in app.state.message
        await until(pilot, lambda: "PAPER" in status(app) and "live refused" in status(app))


@pytest.mark.slow
async def test_m_goes_live_when_the_source_allows_and_k_halts() -> None:
    class Allowing(SimMarket):
        killed = 0

        def request_live(self) -> tuple[bool, str]:
            return True, ""

        def kill(self) -> None:
            self.killed += 1

    src = Allowing(seed=3)
    app = fix_app(ArbscopeApp(src))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("m", "L", "I", "V", "E", "enter")
        assert app.state.mode == "LIVE"
        await until(pilot, lambda: status(app).split()[0] == "LIVE")
        await pilot.press("k")
        assert app.state.mode == "PAPER" and app.state.halted and src.killed == 1
        await until(pilot, lambda: "HALTED" in status(app) and "KILL SWITCH" in status(app))
        assert app.key_latency_s  # measured for bench.ui; speed is not asserted in tests


class Killable(SimMarket):
    """The staged market, counting the kill switch's calls."""

    killed = 0

    def kill(self) -> int:
        self.killed += 1
        return super().kill()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("opens", "modal"), [("enter", CycleDetail), ("question_mark", HelpScreen)]
)
async def test_the_kill_switch_works_over_a_modal_screen(opens: str, modal: type) -> None:
    """k is a priority binding: a modal screen (the cycle detail, the help) does not
    swallow it; a text field keeps the letter typed into it."""
    clock = ManualClock()
    src = Killable(seed=7, clock=clock)
    for _ in range(40):  # cycles on screen (the run loop's clock then stays put)
        clock.advance(200_000_000)
        src.tick()
    app = fix_app(ArbscopeApp(src))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press(opens)
        assert isinstance(app.screen, modal)
        await pilot.press("k")
        assert src.killed == 1 and app.state.halted and src.ev.halted
        assert "KILL SWITCH" in app.state.message
        assert isinstance(app.screen, modal)  # the modal stays; the kill is done
        await pilot.press("escape", "u")
        assert not app.state.halted and not src.ev.halted
        await pilot.press("slash", "k")  # the filter's text field: the letter, not the kill
        assert isinstance(app.screen, TextPrompt) and src.killed == 1
        await pilot.press("enter")
        assert app.screen.query_one(CyclesPanel).filter == "k"


@pytest.mark.slow
async def test_keys_that_do_not_apply_are_dimmed_not_hidden() -> None:
    """On the demo market without a journal: the replay keys and r are shown greyed out
    (and do nothing); what the market can do stays enabled."""
    async with on_staged((160, 40)) as (app, pilot):
        await pilot.pause()
        off = dimmed(app)
        assert {"Step slot", "Back", "Step frame", "Faster", "Slower", "Replay…"} <= off
        assert not {"Paper/Live", "Kill", "Pause", "Quit"} & off
        # the footer leads with what works; the dimmed keys come after
        shown = [b.enabled for b in app.screen.active_bindings.values() if b.binding.show]
        assert shown == sorted(shown, reverse=True) and shown[0] and not shown[-1]
        called: list[str] = []
        for name in ("step_slot", "step_frame", "faster"):
            setattr(app, f"action_{name}", lambda name=name: called.append(name))
        await pilot.press("right", "full_stop", "plus")
        assert called == [] and app.state.internal_errors == 0  # dimmed: never dispatched


@pytest.mark.slow
async def test_enter_opens_the_cycle_detail_and_escape_closes_it() -> None:
    async with on_staged((120, 40)) as (app, pilot):
        panel = app.screen.query_one(CyclesPanel)
        await until(pilot, lambda: panel.row_count > 0)
        o, _s = panel.selected() or (None, None)
        await pilot.press("enter")
        assert isinstance(app.screen, CycleDetail) and app.screen.o is o
        await pilot.press("escape")
        assert isinstance(app.screen, LiveScreen)


@pytest.mark.slow
async def test_slash_filters_cycles_by_token() -> None:
    async with on_staged((120, 40)) as (app, pilot):
        panel = app.screen.query_one(CyclesPanel)
        await until(pilot, lambda: panel.row_count > 0)
        everything = panel.row_count
        o, _ = app.source.snapshot.opportunities[-1]
        prefix = o.tokens[1][:5]
        await pilot.press("slash")
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*prefix, "enter")
        assert panel.filter == prefix
        want = sum(
            1
            for q, _ in app.source.snapshot.opportunities
            if any(t.startswith(prefix) for t in (*q.tokens, *q.pools))
        )
        assert 0 < panel.row_count == want <= everything
        await pilot.press("slash")
        for _ in prefix:
            await pilot.press("backspace")
        await pilot.press("enter")
        assert panel.filter == "" and panel.row_count == everything


@pytest.mark.slow
async def test_t_cycles_themes_and_question_mark_helps() -> None:
    async with on_staged((120, 40)) as (app, pilot):
        seen = [app.theme]
        for _ in range(3):
            await pilot.press("t")
            seen.append(app.theme)
        assert seen == ["arbscope-dark", "arbscope-light", "arbscope-contrast", "arbscope-dark"]
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, LiveScreen)


@pytest.mark.slow
async def test_the_dashboards_keys_are_handled_in_the_apps_own_step() -> None:
    """A dashboard key is not sent to the focused table to bubble back up through its
    parents (a loop step per hop, each waiting its turn on a busy loop): the app takes
    it at once. Over a dialog the dialog keeps its own keys (q closes the help; space
    does not pause the screen under it)."""
    async with on_staged((120, 40)) as (app, pilot):
        table = app.focused
        assert isinstance(table, CyclesPanel)
        forwarded: list[str] = []
        post = table.post_message

        def watch(message: Any) -> bool:
            if isinstance(message, events.Key):
                forwarded.append(message.key)
            return post(message)

        table.post_message = watch  # type: ignore[method-assign]
        await pilot.press("space")
        assert app.state.paused and forwarded == []
        await pilot.press("t", "space", "down")
        assert not app.state.paused and forwarded == ["down"]  # the table's own key
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("space")
        assert not app.state.paused and isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        assert isinstance(app.screen, LiveScreen) and app.is_running


@pytest.mark.slow
async def test_tab_switches_panels_only_in_the_narrow_layout() -> None:
    async with on_staged((80, 24)) as (app, pilot):
        from textual.widgets import ContentSwitcher, TabbedContent

        await until(pilot, lambda: app.screen.query(TabbedContent))
        tabs = app.screen.query_one("#tabs", TabbedContent)
        assert tabs.active == "t-prices"
        await pilot.press("tab")
        assert tabs.active == "t-chart"
        await pilot.press("tab", "tab")
        assert tabs.active == "t-feeds"
        await pilot.resize_terminal(120, 40)
        await until(  # recomposed, then filled by the next redraw; wide: every panel at
            pilot,  # once, the timings (then the charts: c) beside the prices
            lambda: (
                not app.screen.query(TabbedContent)
                and app.screen.query_one("#charts", ContentSwitcher).current == "timings"
                and app.screen.query_one(CyclesPanel).row_count > 0
            ),
        )


@pytest.mark.slow
async def test_space_pauses_and_q_quits_cleanly() -> None:
    app = ArbscopeApp(SimMarket(seed=3, tick_s=0.05))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        slot = app.source.snapshot.slot
        await until(pilot, lambda: "PAUSED" in status(app))
        await pilot.pause(0.3)  # a window for a tick that must not come
        assert app.source.snapshot.slot == slot
        await pilot.press("space", "q")
    assert not app.is_running


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return recorded(tmp_path_factory.mktemp("keys"), 5, 2.0)


@pytest.mark.slow
async def test_r_opens_a_recorded_session_as_a_replay(journal: tuple[Path, str]) -> None:
    db, sid = journal
    app = fix_app(ArbscopeApp(SimMarket(seed=3, tick_s=0.05), sessions=JournalSessions(db)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, SessionPicker))
        await pilot.press("enter")
        await until(
            pilot, lambda: isinstance(app.source, ReplaySession) and app.source.frames_applied
        )
        assert isinstance(app.source, ReplaySession) and app.source.info.id == sid
        await until(pilot, lambda: status(app).split()[:2] == ["PAPER", "REPLAY"])
        # live is impossible in a replay, and so are orders: those keys are dimmed
        assert {"Paper/Live", "Kill"} <= dimmed(app) and "Step slot" not in dimmed(app)
        await pilot.press("m", "k")
        assert isinstance(app.screen, LiveScreen)  # no confirmation was asked for
        assert app.state.mode == "PAPER" and not app.state.halted
        await pilot.press("q")


@pytest.mark.slow
async def test_r_without_a_journal_says_so(tmp_path: Path) -> None:
    app = fix_app(
        ArbscopeApp(
            SimMarket(seed=3, clock=ManualClock()),
            sessions=JournalSessions(tmp_path / "none.sqlite"),
        )
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, SessionPicker))
        picker: Any = app.screen
        assert isinstance(picker, SessionPicker) and "no journal" in picker.error
        await pilot.press("escape")
        assert isinstance(app.screen, LiveScreen)


async def test_a_frame_reads_the_snapshot_and_shows_it_a_step_later() -> None:
    """The frame interval's redraw is two steps of the event loop: the source's snapshot
    read (built, after a turn) in one, the panels shown from that snapshot in the next,
    so a key pressed meanwhile waits for one of them, not both."""
    async with on_staged((120, 40)) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        shown: list[Any] = []
        redraw = screen.redraw

        def spy(every: bool = True, snap: Any = None) -> None:
            shown.append(snap)
            redraw(every, snap)

        screen.redraw = spy  # type: ignore[method-assign]
        frames, n = screen.frames, len(shown)
        screen._tick()
        assert screen.frames == frames and len(shown) == n  # read; nothing shown yet
        await pilot.pause()
        assert len(shown) > n and shown[n] is not None  # shown from what was read
        assert screen.frames > frames

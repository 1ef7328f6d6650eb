"""arbscope's Textual app: bindings, themes and screens (no business logic here).

The app drives its source on a fixed tick (the session's clock) and the screen redraws
on its own fixed frame interval from the source's latest snapshot, never per update.
No exception from a tick reaches the terminal: engine errors are counted by the source,
anything else is counted here and shown in the status line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from themes import register_themes

from .screens.live import LiveScreen
from .source import LiveSource, UiState

TICK_S = 0.2  # the simulated market's clock: one slot, 10 pool updates
FRAME_S = 0.25  # redraws: 4 a second at most


class ArbscopeApp(App[None]):
    """Live cycles and kernel timings on one source (the seeded market for now)."""

    CSS_PATH = str(Path(__file__).resolve().parent.parent / "themes" / "arbscope.tcss")
    TITLE = "arbscope"
    SUB_TITLE = "simulated market"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("space", "toggle_pause", "Pause"),
        # replay only (hidden otherwise, see check_action)
        Binding("right", "step_slot", "Step slot", priority=True),
        Binding("left", "back_slot", "Back", priority=True),
        Binding("full_stop", "step_frame", "Step frame"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("left_square_bracket", "seek(-10)", "-10 s", show=False),
        Binding("right_square_bracket", "seek(10)", "+10 s", show=False),
    ]
    REPLAY_ACTIONS = frozenset({"step_slot", "back_slot", "step_frame", "faster", "slower", "seek"})

    def __init__(self, source: LiveSource, tick_s: float = TICK_S, frame_s: float = FRAME_S):
        super().__init__()
        self.source = source
        self.state = UiState()
        self.tick_s, self.frame_s = tick_s, frame_s

    def on_mount(self) -> None:
        register_themes(self)
        self.push_screen(LiveScreen(self.source, self.state, self.frame_s))
        self.set_interval(self.tick_s, self._tick)
        self.run_worker(self._start(), name="source-start", exit_on_error=False)

    async def _start(self) -> None:
        try:
            await self.source.start()
        except Exception as exc:  # shown in the status line, never a traceback
            self.state.internal_errors += 1
            self.state.last_error = f"{type(exc).__name__}: {exc}"[:80]

    async def action_quit(self) -> None:
        """Clean shutdown: unsubscribe and close the feeds, then exit."""
        try:
            await self.source.stop()
        except Exception as exc:  # never a traceback on the way out either
            self.state.last_error = f"{type(exc).__name__}: {exc}"[:80]
        self.exit()

    @property
    def paused(self) -> bool:
        """Whether the source's clock is stopped (space toggles)."""
        return self.state.paused

    @property
    def replay(self) -> Any:
        """The source when it is a replay (it has the replay controls), else None."""
        return self.source if hasattr(self.source, "step_slot") else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.REPLAY_ACTIONS:
            return self.replay is not None
        return True

    def action_toggle_pause(self) -> None:
        if self.replay is not None:  # the replay clock stops; the screen keeps drawing
            self.replay.toggle_pause()
            return
        self.state.paused = not self.state.paused
        if not self.state.paused:
            self.source.pause_clock()

    def _replay_do(self, fn: str, *args: Any) -> None:
        r = self.replay
        if r is None:
            return
        try:
            getattr(r, fn)(*args)
        except Exception as exc:  # never a traceback on the operator's screen
            self.state.internal_errors += 1
            self.state.last_error = f"{type(exc).__name__}: {exc}"[:80]

    def action_step_slot(self) -> None:
        self._replay_do("step_slot")

    def action_step_frame(self) -> None:
        self._replay_do("step_frame")

    def action_back_slot(self) -> None:
        r = self.replay
        if r is not None:
            self._replay_do("seek", max(0.0, r.pos_ns / 1e9 - 0.4))

    def action_faster(self) -> None:
        self._replay_do("faster")

    def action_slower(self) -> None:
        self._replay_do("slower")

    def action_seek(self, delta_s: float) -> None:
        r = self.replay
        if r is not None:
            self._replay_do("seek", max(0.0, r.pos_ns / 1e9 + delta_s))

    def _tick(self) -> None:
        if self.state.paused:
            return
        try:
            self.source.tick()
        except Exception as exc:  # never a traceback on the operator's screen
            self.state.internal_errors += 1
            self.state.last_error = f"{type(exc).__name__}: {exc}"[:80]

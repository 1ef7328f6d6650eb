"""The live screen: status line, the cycles the engine finds, Rust-vs-Python timings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header

from ..source import LiveSource, UiState
from ..widgets.cycles import CyclesPanel
from ..widgets.status import StatusLine
from ..widgets.timings import TimingsPanel


class LiveScreen(Screen[None]):
    """Redraws every ``frame_s`` seconds from the source's latest snapshot."""

    def __init__(self, source: LiveSource, state: UiState, frame_s: float) -> None:
        super().__init__()
        self.source, self.state, self.frame_s = source, state, frame_s
        self.frames = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield StatusLine(id="status")
        yield CyclesPanel(id="cycles")
        yield TimingsPanel(id="timings")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(self.frame_s, self.redraw)
        self.redraw()

    def redraw(self) -> None:
        """Show the latest snapshot (one call per frame, whatever the update rate)."""
        snap = self.source.snapshot
        try:
            self.query_one(CyclesPanel).show(snap.opportunities)
            self.query_one(TimingsPanel).show(snap.timings)
        except Exception as exc:  # a bad value must not kill the dashboard
            self.state.internal_errors += 1
            self.state.last_error = f"redraw: {type(exc).__name__}: {exc}"[:80]
        self.query_one(StatusLine).show(snap, self.state)
        self.frames += 1

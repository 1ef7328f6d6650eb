"""The live screen: status bar, cycles, prices, feeds, fee congestion, portfolio and the
Rust-vs-Python timings, redrawn at a fixed rate from the source's latest snapshot.

Wide terminals (>= 100 columns) show every panel at once: the cycles across the top,
feeds / fees / portfolio, then prices / timings; narrow ones show the cycles' main
columns and one other panel at a time in tabs (``tab`` moves to the next). Crossing the width
threshold recomposes the screen.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import ActiveBinding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, TabbedContent, TabPane

from ..source import LiveSource, UiState
from ..widgets.cycles import CyclesPanel
from ..widgets.feeds import FeedsPanel
from ..widgets.fees import FeesPanel
from ..widgets.portfolio import PortfolioPanel
from ..widgets.prices import PricesPanel
from ..widgets.status import StatusLine
from ..widgets.timings import TimingsPanel

NARROW_BELOW = 100  # columns
TABS = ("prices", "feeds", "fees", "portfolio", "timings")


class LiveScreen(Screen[None]):
    """Redraws every ``frame_s`` seconds from the source's latest snapshot."""

    def __init__(self, source: LiveSource, state: UiState, frame_s: float) -> None:
        super().__init__()
        self.source, self.state, self.frame_s = source, state, frame_s
        self.frames = 0
        self.narrow = False

    def compose(self) -> ComposeResult:
        self.narrow = self.app.size.width < NARROW_BELOW
        yield Header()
        yield StatusLine(id="status")
        if self.narrow:
            with Vertical(id="main"):
                yield CyclesPanel(id="cycles", compact=True)
                with TabbedContent(id="tabs"):
                    with TabPane("Prices", id="t-prices"):
                        yield PricesPanel(id="prices")
                    with TabPane("Feeds", id="t-feeds"):
                        yield FeedsPanel(id="feeds")
                    with TabPane("Fees", id="t-fees"):
                        yield FeesPanel(id="fees")
                    with TabPane("Portfolio", id="t-portfolio"):
                        yield PortfolioPanel(id="portfolio")
                    with TabPane("Timings", id="t-timings"):
                        yield TimingsPanel(id="timings")
        else:
            with Vertical(id="main"):
                yield CyclesPanel(id="cycles")
                with Horizontal(id="mid"):
                    yield FeedsPanel(id="feeds")
                    yield FeesPanel(id="fees")
                    yield PortfolioPanel(id="portfolio")
                with Horizontal(id="bottom"):
                    yield PricesPanel(id="prices")
                    yield TimingsPanel(id="timings")
        yield Footer()

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's, with the keys that do not apply to this source (dimmed) after the
        ones that do: the footer leads with what works (a focused table's own arrow keys
        would otherwise put the dimmed replay steps first, and push ``k`` off a narrow
        footer)."""
        keys = super().active_bindings
        return dict(sorted(keys.items(), key=lambda kv: not kv[1].enabled))  # stable

    def on_mount(self) -> None:
        self.set_interval(self.frame_s, self.redraw)
        self.query_one(CyclesPanel).focus()
        self.redraw()

    def on_resize(self, event: Resize) -> None:
        if (event.size.width < NARROW_BELOW) != self.narrow:
            self.refresh(recompose=True)
            self.call_after_refresh(self._after_recompose)

    def _after_recompose(self) -> None:
        self.query_one(CyclesPanel).focus()
        self.redraw()

    def next_tab(self) -> None:
        """Narrow layout: show the next panel below the cycles."""
        tabs = self.query(TabbedContent)
        if not tabs:
            return
        t = tabs.first()
        cur = (t.active or "t-prices")[2:]
        t.active = "t-" + TABS[(TABS.index(cur) + 1) % len(TABS)] if cur in TABS else "t-prices"

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if isinstance(event.data_table, CyclesPanel):
            self.app.action_detail()  # type: ignore[attr-defined]

    def redraw(self) -> None:
        """Show the latest snapshot (one call per frame, whatever the update rate)."""
        if not self.query(StatusLine) or not self.query(CyclesPanel):
            return  # between layouts (a resize recomposes the screen): next frame
        try:
            snap = self.source.snapshot
            self.query_one(CyclesPanel).show(
                snap.opportunities, snap.ages, snap.names, snap.labels, snap.unsendable
            )
            self.query_one(PricesPanel).show(snap.prices, snap.names)
            self.query_one(FeedsPanel).show(snap.feeds)
            self.query_one(FeesPanel).show(snap.fee)
            self.query_one(PortfolioPanel).show(
                snap.portfolio, self.state.mode, snap.live, snap.names
            )
            self.query_one(TimingsPanel).show(snap.timings)
            self.query_one(StatusLine).show(snap, self.state)
        except Exception as exc:  # a bad value must not kill the dashboard
            self.state.internal_errors += 1
            self.state.last_error = f"redraw: {type(exc).__name__}: {exc}"[:80]
        self.frames += 1

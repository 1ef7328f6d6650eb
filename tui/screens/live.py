"""The live screen: status bar, cycles, prices, feeds, fee congestion, portfolio, the
Rust-vs-Python timings and two charts (the price chart of the pair under the cursor, the
equity curve), redrawn at a fixed rate from the source's latest snapshot.

Wide terminals (>= 100 columns) show every panel at once: the cycles across the top,
feeds / fees / portfolio, then prices beside one place for the timings, the price chart
and the equity chart (``c`` shows the next chart, then the timings again); narrow
ones show the cycles' main columns and one other panel at a time in tabs (``tab`` moves
to the next, ``c`` to the charts). Crossing the width threshold recomposes the screen.

The price chart follows the focused table: the pair under the Prices panel's cursor, or
the first hop of the cycle under the Cycles panel's (a table without focus leaves it
where it was).

A source that reads transactions (``SnapshotView.rivals``) gets the **Rivals** panel:
``v`` swaps the whole lower row (prices and timings or charts) for it in the wide layout
and back — the signers and the latest rival arbitrages need that width side by side, the
cycles, feeds, fees and portfolio stay, and the prices are one key away — and, narrow, it
is a tab (the list alone, the share and top signer in its borders); either way ``v``
focuses its list, where ``enter`` opens a rival. The Cycles panel's bottom border says
the share meanwhile (``v: rivals · them 42 · us 18 · our share 30%``), so the panel's
news is on screen without it. A source that reads none (the demo) has neither, and no
``v``.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import ActiveBinding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher, DataTable, Footer, Header, TabbedContent, TabPane

from ..source import Backlogged, LiveSource, SnapshotView, UiState
from ..widgets.cycles import CyclesPanel
from ..widgets.equity import EquityChart
from ..widgets.feeds import FeedsPanel
from ..widgets.fees import FeesPanel
from ..widgets.portfolio import PortfolioPanel
from ..widgets.pricechart import PriceChart
from ..widgets.prices import PricesPanel
from ..widgets.rivals import RivalsPanel, RivalsTable, share_line
from ..widgets.status import StatusLine
from ..widgets.timings import TimingsPanel

NARROW_BELOW = 100  # columns
# The Prices and Timings tables are synced every other frame, on alternate frames (the
# first frame, and any redraw a key asks for, syncs both): each DataTable whose cells
# changed is painted again whole (Textual keys its caches by the table's update count),
# ~20-45 ms of a 2-core machine's CPU for one table at 120x40, and a key waits for the
# paint under way. The cycles and the status line, what the operator acts on, keep the
# frame rate.
EVERY_OTHER = ("prices", "timings")
TABS = ("prices", "chart", "equity", "feeds", "fees", "portfolio", "timings")  # narrow
RIVALS_TAB_AFTER = "prices"  # where the Rivals tab goes when the source has rivals
CHARTS = ("chart", "equity")  # the tabs ``c`` goes through, in both layouts


class LiveScreen(Screen[None]):
    """Redraws every ``frame_s`` seconds from the source's latest snapshot."""

    def __init__(self, source: LiveSource, state: UiState, frame_s: float) -> None:
        super().__init__()
        self.source, self.state, self.frame_s = source, state, frame_s
        self.frames = 0
        self.narrow = False
        self.chart_pair: tuple[str, str] | None = None  # the price chart's pair
        self._before_charts = ""  # the tab shown before ``c`` went to the charts
        self._before_rivals = ""  # the tab shown before ``v`` went to the rivals
        self.has_rivals = self._reads_rivals()

    def _reads_rivals(self) -> bool:
        """Whether the source reads transactions (its snapshot has a rivals view)."""
        try:
            return self.source.snapshot.rivals is not None
        except Exception:  # a source that cannot say yet: no panel (never a traceback)
            return False

    @property
    def tab_order(self) -> tuple[str, ...]:
        """The narrow layout's tabs, in order (the Rivals tab after the prices, when the
        source has rivals)."""
        if not self.has_rivals:
            return TABS
        at = TABS.index(RIVALS_TAB_AFTER) + 1
        return (*TABS[:at], "rivals", *TABS[at:])

    def _bottom(self) -> ComposeResult:
        """The wide layout's lower row: the prices beside one place for the timings, the
        price chart and the equity chart."""
        with Horizontal(id="bottom"):
            yield PricesPanel(id="prices")
            # no tab strip: a TabbedContent is 14 more widgets for every theme switch
            # to restyle (bench.ui); the titles and the footer say ``c``
            with ContentSwitcher(id="charts", initial="timings"):
                timings = TimingsPanel(id="timings")
                timings.border_subtitle = "c: price chart, equity"
                yield timings
                yield PriceChart(id="chart")
                yield EquityChart(id="equity")

    def _tabs(self) -> list[tuple[str, Widget]]:
        """The narrow layout's tabs below the cycles, in order: title and panel."""
        rivals: list[tuple[str, Widget]] = (
            [("Rivals", RivalsPanel(id="rivals", compact=True))] if self.has_rivals else []
        )
        return [
            ("Prices", PricesPanel(id="prices")),
            *rivals,
            ("Chart", PriceChart(id="chart")),
            ("Equity", EquityChart(id="equity")),
            ("Feeds", FeedsPanel(id="feeds")),
            ("Fees", FeesPanel(id="fees")),
            ("Portfolio", PortfolioPanel(id="portfolio")),
            ("Timings", TimingsPanel(id="timings")),
        ]

    def compose(self) -> ComposeResult:
        self.narrow = self.app.size.width < NARROW_BELOW
        yield Header()
        yield StatusLine(id="status")
        if self.narrow:
            with Vertical(id="main"):
                yield CyclesPanel(id="cycles", compact=True)
                with TabbedContent(id="tabs"):
                    for title, panel in self._tabs():
                        with TabPane(title, id=f"t-{panel.id}"):
                            yield panel
        else:
            with Vertical(id="main"):
                yield CyclesPanel(id="cycles")
                with Horizontal(id="mid"):
                    yield FeedsPanel(id="feeds")
                    yield FeesPanel(id="fees")
                    yield PortfolioPanel(id="portfolio")
                if self.has_rivals:  # ``v`` swaps the lower row for the Rivals panel
                    with ContentSwitcher(id="lower", initial="bottom"):
                        yield from self._bottom()
                        yield RivalsPanel(id="rivals")
                else:
                    yield from self._bottom()
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
        self.set_interval(self.frame_s, self._tick, name="redraw")
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
        tabs = self.query("#tabs").results(TabbedContent)
        t = next(tabs, None)
        if t is None:
            return
        order = self.tab_order
        cur = (t.active or "t-prices")[2:]
        t.active = "t-" + order[(order.index(cur) + 1) % len(order)] if cur in order else "t-prices"

    @property
    def rivals_shown(self) -> bool:
        """Whether the Rivals panel is on screen (its tab, or the wide lower row)."""
        if not self.has_rivals:
            return False
        tabs = next(self.query("#tabs").results(TabbedContent), None)
        if tabs is not None:
            return tabs.active == "t-rivals"
        lower = next(self.query("#lower").results(ContentSwitcher), None)
        return lower is not None and lower.current == "rivals"

    def toggle_rivals(self) -> None:
        """``v``: the Rivals panel, its list focused (narrow: its tab; wide: in place of
        the lower row); again: back to what was shown before, the cycles focused."""
        if not self.has_rivals:
            return
        tabs = next(self.query("#tabs").results(TabbedContent), None)
        lower = next(self.query("#lower").results(ContentSwitcher), None)
        showing = self.rivals_shown
        if tabs is not None:
            if showing:
                tabs.active = "t-" + (self._before_rivals or "prices")
            else:
                self._before_rivals = (tabs.active or "t-prices")[2:]
                tabs.active = "t-rivals"
        elif lower is not None:
            lower.current = "bottom" if showing else "rivals"
        else:
            return
        if showing:
            self.query_one(CyclesPanel).focus()
        else:
            self.redraw()  # its rows before it takes focus
            self.query_one(RivalsTable).focus()

    def next_chart(self) -> None:
        """``c``: the price chart, then the equity chart, then the panel shown before
        (narrow: a tab below the cycles; wide: the place of the timings)."""
        tabs = next(self.query("#tabs").results(TabbedContent), None)
        place = next(self.query("#charts").results(ContentSwitcher), None)
        lower = next(self.query("#lower").results(ContentSwitcher), None)
        if lower is not None and lower.current == "rivals":  # the charts' row back first
            lower.current = "bottom"
        if tabs is not None:
            cur = (tabs.active or "")[2:]
        elif place is not None:
            cur = place.current or ""
        else:
            return
        if cur == CHARTS[0]:
            to = CHARTS[1]
        elif cur == CHARTS[1]:
            to = self._before_charts or ("prices" if self.narrow else "timings")
        else:
            self._before_charts, to = cur, CHARTS[0]
        if tabs is not None:
            tabs.active = "t-" + to
        elif place is not None:
            place.current = to
        self._draw_chart()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if isinstance(event.data_table, CyclesPanel):
            self.app.action_detail()  # type: ignore[attr-defined]
        elif isinstance(event.data_table, RivalsTable):
            self.app.action_rival_detail()  # type: ignore[attr-defined]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.focused:  # the cursor moved: the chart follows at once
            self._draw_chart()

    def on_descendant_focus(self) -> None:
        self._draw_chart()

    def _chosen_pair(self) -> tuple[str, str] | None:
        """The pair under the focused table's cursor (Prices: its row; Cycles: the first
        hop of its cycle), else the one chosen before."""
        focused = self.focused
        if isinstance(focused, PricesPanel):
            keys = focused.keys
            if 0 <= focused.cursor_row < len(keys):
                a, _, b = keys[focused.cursor_row].partition("/")
                self.chart_pair = (a, b)
        elif isinstance(focused, CyclesPanel):
            picked = focused.selected()
            if picked is not None and len(picked[0].tokens) > 1:
                # a pair as (base, quote), the rule every price is shown by
                order = self.source.snapshot.pair_order
                self.chart_pair = order(picked[0].tokens[0], picked[0].tokens[1])
        return self.chart_pair

    def _draw_chart(self, snap: SnapshotView | None = None) -> None:
        """The price chart's pair from the latest snapshot (cheap when nothing changed)."""
        charts = self.query(PriceChart)
        if not charts:
            return
        try:
            snap = snap if snap is not None else self.source.snapshot
            pair = self._chosen_pair()
            series = snap.price_series.get(pair) if pair is not None else None
            prop = snap.prop_series.get(pair) if pair is not None else None
            charts.first().show(series, pair, snap.names, prop)
        except Exception as exc:  # a bad value must not kill the dashboard
            self.state.failed(exc, "chart: ")

    def _draw_rivals(self, snap: SnapshotView) -> None:
        """The rivals' share on the Cycles panel's bottom border; the panel when shown."""
        view = snap.rivals
        cycles = self.query_one(CyclesPanel)
        if view is None:
            cycles.border_subtitle = ""
            return
        cycles.border_subtitle = f"v: rivals · {share_line(view)}"
        if self.rivals_shown:
            self.query_one(RivalsPanel).show(view, snap.names)

    def _due(self, panel: str, every: bool) -> bool:
        """Whether this frame syncs ``panel`` (see :data:`EVERY_OTHER`)."""
        return every or panel not in EVERY_OTHER or self.frames % 2 == EVERY_OTHER.index(panel)

    def _tick(self) -> None:
        """The frame interval's redraw (the Prices and Timings tables every other one), in
        two steps of the event loop: the snapshot read now (built, when the source's
        turn ended since the last frame: 10-40 ms at 3,000 pools), the panels shown
        from it in a step of their own (10-50 ms), so a key pressed meanwhile is
        handled between them, not after both."""
        try:
            snap = self.source.snapshot
        except Exception as exc:  # a bad value must not kill the dashboard
            self.state.failed(exc, "redraw: ")
            return
        self.call_later(self.redraw, False, snap)

    def redraw(self, every: bool = True, snap: SnapshotView | None = None) -> None:
        """Show the latest snapshot (one call per frame, whatever the update rate), or
        ``snap``, read from the source a step before; ``every``: every panel now (else
        :data:`EVERY_OTHER`'s on their frames)."""
        if not self.query(StatusLine) or not self.query(CyclesPanel):
            return  # between layouts (a resize recomposes the screen): next frame
        every = every or self.frames == 0
        try:
            snap = self.source.snapshot if snap is None else snap
            self.query_one(CyclesPanel).show(
                snap.opportunities, snap.ages, snap.names, snap.labels, snap.unsendable
            )
            if self._due("prices", every):
                self.query_one(PricesPanel).show(snap.prices, snap.names)
            self.query_one(FeedsPanel).show(snap.feeds)
            self.query_one(FeesPanel).show(snap.fee)
            self.query_one(PortfolioPanel).show(
                snap.portfolio, self.state.mode, snap.live, snap.names
            )
            if self._due("timings", every):
                self.query_one(TimingsPanel).show(snap.timings)
            pf = snap.portfolio
            self.query_one(EquityChart).show(
                snap.equity, pf.base if pf is not None else "", snap.names
            )
            self._draw_chart(snap)
            if self.has_rivals:
                self._draw_rivals(snap)
            backlog = self.source.backlog if isinstance(self.source, Backlogged) else (0, 0.0)
            self.query_one(StatusLine).show(snap, self.state, backlog)
        except Exception as exc:  # a bad value must not kill the dashboard
            self.state.failed(exc, "redraw: ")
        self.frames += 1

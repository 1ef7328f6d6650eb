"""``o``: the order books — a list of the book markets and the L2 ladder of the one under
the cursor, redrawn at the dashboard's frame rate from the source's latest snapshot."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ..source import BookLadderView, LiveSource, UiState
from ..widgets.book import BookList, ladder_view
from ..widgets.palette import Palette

NARROW_BELOW = 110  # columns: the market list shows pair and spread only


class OrderBookScreen(ModalScreen[None]):
    """The book markets on the left (``↑``/``↓``), the chosen one's ladder on the right;
    ``market`` is the one shown first (a book leg of the cycle under the cursor). The
    ladder is laid out for the width its place has (a narrow screen's list is narrower)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,o,q", "dismiss", "Close"),
    ]

    def __init__(
        self,
        source: LiveSource,
        state: UiState,
        frame_s: float,
        market: str = "",
    ) -> None:
        super().__init__()
        self.source, self.state, self.frame_s, self.market = source, state, frame_s, market
        self.frames = 0  # redraws done (tests: the panel follows the snapshot)
        self.shown: BookLadderView | None = None  # the ladder drawn last

    def compose(self) -> ComposeResult:
        with Horizontal(id="book"):
            yield BookList(id="book-list", cursor=True, title="Markets")
            with VerticalScroll(id="book-ladder"):
                yield Static(id="ladder")

    def on_mount(self) -> None:
        self.query_one("#book").border_title = "Order books (↑↓ market · esc to close)"
        self._fit(self.app.size.width)
        self.set_interval(self.frame_s, self.redraw, name="book redraw")
        self.redraw()
        table = self.query_one(BookList)
        table.focus()
        if self.market in table.keys:
            table.move_cursor(row=table.keys.index(self.market))

    def on_resize(self, event: Resize) -> None:
        self._fit(event.size.width)
        self.call_after_refresh(self.redraw)  # the ladder for its new width

    def _fit(self, width: int) -> None:
        """The market list's columns and width for a screen ``width`` wide."""
        table = self.query_one(BookList)
        narrow = width < NARROW_BELOW
        table.styles.width = BookList.COMPACT_WIDTH if narrow else BookList.WIDTH
        table.pick(BookList.COMPACT if narrow else ())

    def _ladder_width(self) -> int:
        """The cells the ladder may use: its place's width inside its padding and its
        scrollbar when it shows one (every frame redraws: a scrollbar that appears is
        taken into account at the next)."""
        place = self.query_one("#book-ladder", VerticalScroll)
        return max(20, place.scrollable_content_region.width)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if isinstance(event.data_table, BookList) and event.row_key.value is not None:
            self.market = str(event.row_key.value)
            self.redraw()

    def redraw(self) -> None:
        """The list and the chosen market's ladder from the latest snapshot."""
        try:
            snap = self.source.snapshot
            books = {b.market: b for b in snap.books}
            names = snap.names
            self.query_one(BookList).show(list(books.values()), names, snap.pair_order)
            ladder = books.get(self.market)
            if ladder is None and books:
                self.market = next(iter(books))
                ladder = books[self.market]
            view = self.query_one("#ladder", Static)
            if ladder is None:
                view.update(Text("no order-book market in this session", style="dim"))
            else:
                view.update(
                    ladder_view(
                        ladder,
                        Palette.of(self.app),
                        names,
                        width=self._ladder_width(),
                        order=snap.pair_order,
                    )
                )
        except Exception as exc:  # a bad value must not kill the dashboard
            self.state.failed(exc, "order books: ")
            return
        self.shown = ladder
        self.frames += 1

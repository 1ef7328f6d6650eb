"""A DataTable updated by row key: rows that went are removed, new ones added, and only
the cells that changed are updated (never a rebuild: Textual issues #6457 and #5273
report CPU spikes from clearing and refilling tables)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text
Column = tuple[str, str, int]  # key, label, width


def num(value: int | float | None, fmt: str = ",", none: str = "—") -> Text:
    """A right-justified number (``none`` when missing or not finite)."""
    if value is None or (isinstance(value, float) and value != value):
        return Text(none, justify="right")
    return Text(format(value, fmt), justify="right")


def _lead(c: Cell) -> Cell:
    """A cell with its one-blank separator: before a left-aligned one, and before a
    right-justified number too, so a number as wide as its column never runs into the
    one before it (it is cut at the column's end instead, which the widths avoid)."""
    if isinstance(c, str):
        return " " + c
    if c.justify == "right":
        t = c.copy()
        t.pad_left(1)
        return t
    return Text(" ") + c


class KeyedTable(DataTable[Cell]):
    """Rows keyed by a string; :meth:`sync` makes the table show exactly ``rows``."""

    COLUMNS: Sequence[Column] = ()

    def __init__(self, id: str | None = None, cursor: bool = False, title: str = "") -> None:
        # no cell padding: every column's width includes one leading blank (text cells
        # and labels get a " " prefix, numbers are right-justified in a wider column)
        super().__init__(
            id=id, cursor_type="row" if cursor else "none", zebra_stripes=cursor, cell_padding=0
        )
        self.border_title = title
        self._shown: dict[str, tuple[Cell, ...]] = {}
        self._order: list[str] = []

    def on_mount(self) -> None:
        for key, label, width in self.COLUMNS:
            shown: Cell = Text(label, justify="right") if key in self.NUMERIC else " " + label
            self.add_column(shown, key=key, width=width)

    NUMERIC: frozenset[str] = frozenset()  # columns whose label is right-justified

    def sync(self, rows: Mapping[str, tuple[Cell, ...]], ordered: bool = True) -> None:
        """Show ``rows`` (in their order when ``ordered``, else sorted by the first column
        as rows arrive)."""
        for key in [k for k in self._shown if k not in rows]:
            self.remove_row(key)
            del self._shown[key]
        added = False
        for key, row in rows.items():
            row = tuple(_lead(c) for c in row)
            old = self._shown.get(key)
            if old is None:
                self.add_row(*row, key=key)
                added = True
            elif old != row:
                for (col, _, _), new, was in zip(self.COLUMNS, row, old):
                    if new != was:
                        self.update_cell(key, col, new)
            self._shown[key] = row
        if ordered:
            order = list(rows)
            if order != self._order:
                rank = {k: i for i, k in enumerate(order)}
                # DataTable.sort hands the key function a row's cells, not its key
                by_cells = {tuple(map(str, r)): rank[k] for k, r in self._shown.items()}
                self.sort(key=lambda v: by_cells.get(tuple(map(str, v)), len(rank)))
                self._order = order
        elif added:
            self.sort(self.COLUMNS[0][0])

    @property
    def keys(self) -> list[str]:
        """The row keys, top to bottom."""
        return [str(r.key.value) for r in self.ordered_rows]

"""A DataTable updated by row key: a row that went gives its place to one that came (its
key changed, only the cells that differ updated), rows are removed or added only when
their number changes, and only the cells that changed are updated (never a rebuild:
Textual issues #6457 and #5273 report CPU spikes from clearing and refilling tables;
``DataTable.remove_row`` asks for a layout pass of the whole screen)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, ColumnKey, Row, RowKey

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


def _shaped_as_expected() -> bool:
    """Whether this Textual's DataTable has the private shape the cell and row caches rely
    on (Textual 8: ``_render_cell`` and ``_render_line_in_row`` with these parameters,
    keyed by ``_update_count``, ``_clear_caches``, ``_row_locations``,
    ``_column_locations``); another Textual renders as it always does."""
    expected = {
        "_render_cell": "self row_index column_index base_style width cursor hover".split(),
        "_render_line_in_row": (
            "self row_key line_no base_style cursor_location hover_location".split()
        ),
    }
    if not hasattr(DataTable, "_clear_caches"):
        return False
    for name, params in expected.items():
        try:
            if list(inspect.signature(getattr(DataTable, name)).parameters) != params:
                return False
        except (AttributeError, TypeError, ValueError):
            return False
    return True


CELL_CACHE = _shaped_as_expected()


class KeyedTable(DataTable[Cell]):
    """Rows keyed by a string; :meth:`sync` makes the table show exactly ``rows``.

    Rows always carry a cell per column of :attr:`COLUMNS`; :meth:`pick` shows some of
    the columns only (a narrow panel's), and :meth:`fit` those that fit a width."""

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
        self.shown: tuple[Column, ...] = tuple(self.COLUMNS)  # the columns on screen
        self._pick: tuple[int, ...] | None = None  # their indexes in COLUMNS (None: all)
        self._rows: Mapping[str, tuple[Cell, ...]] = {}  # the rows last synced, whole
        self._ordered = True
        # DataTable keys every cell's rendering by one counter (``_update_count``) that
        # each update_cell, sort or row change bumps, so one changed cell renders every
        # visible cell again (the dashboard's longest event-loop holds). Here a body cell
        # is keyed by its row, column, place and look, its own version (a number drawn
        # when its value changes or its row is renamed) and the epoch: the count of the
        # table's other changes (rows added or removed, resized), which start afresh.
        self._cell_version: dict[tuple[RowKey, ColumnKey], int] = {}  # in self._epoch
        self._row_version: dict[RowKey, int] = {}  # its cells' newest, in self._epoch
        self._epoch = 0
        self._free_bumps = 0  # the bumps of _update_count that were not the epoch's
        self._versions = 0  # the last version drawn
        self._cells: LRUCache[tuple[Any, ...], Any] = LRUCache(4096)
        self._row_lines: LRUCache[tuple[Any, ...], Any] = LRUCache(1024)

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for key, label, width in self.shown:
            shown: Cell = Text(label, justify="right") if key in self.NUMERIC else " " + label
            self.add_column(shown, key=key, width=width)

    NUMERIC: frozenset[str] = frozenset()  # columns whose label is right-justified

    def pick(self, keys: Sequence[str] = (), widths: Mapping[str, int] | None = None) -> bool:
        """Show only the columns ``keys`` (in the order of :attr:`COLUMNS`; empty: all),
        ``widths`` replacing some of their widths; the table is rebuilt, its rows and
        cursor kept, only when that changes anything. Whether it did."""
        idx = tuple(i for i, c in enumerate(self.COLUMNS) if not keys or c[0] in keys)
        widths = widths or {}
        shown = tuple(
            (k, label, widths.get(k, w)) for k, label, w in (self.COLUMNS[i] for i in idx)
        )
        if shown == self.shown:
            return False
        self._pick = idx if len(idx) < len(self.COLUMNS) else None
        self.shown = shown
        if not self.is_mounted:
            return True
        keys_now = self.keys
        at = keys_now[self.cursor_row] if 0 <= self.cursor_row < len(keys_now) else None
        self.clear(columns=True)
        self._shown, self._order = {}, []
        self._add_columns()
        self.sync(self._rows, self._ordered)
        if at is not None and at in self.keys:
            self.move_cursor(row=self.keys.index(at))
        return True

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Cell,
        *,
        update_width: bool = False,
    ) -> None:
        before = self._update_count
        super().update_cell(row_key, column_key, value, update_width=update_width)
        if not update_width and self._free_bump(before):  # a new width: a new epoch
            rk = row_key if isinstance(row_key, RowKey) else RowKey(row_key)
            ck = column_key if isinstance(column_key, ColumnKey) else ColumnKey(column_key)
            self._versions += 1
            self._cell_version[rk, ck] = self._row_version[rk] = self._versions

    def sort(self, *columns: Any, key: Any = None, reverse: bool = False) -> KeyedTable:
        before = self._update_count
        super().sort(*columns, key=key, reverse=reverse)
        self._free_bump(before)  # the rows move: their places are in the cells' keys
        return self

    def _free_bump(self, before: int) -> bool:
        """After a change that bumped ``_update_count`` from ``before``: count it out of
        the epoch when it bumped it once (an update_cell, a sort, a rename: each cell's
        key says what changed). Whether it did."""
        if not CELL_CACHE or self._update_count != before + 1:
            return False
        epoch = before - self._free_bumps
        if epoch != self._epoch:  # the cells' keys name the epoch: older versions are moot
            self._epoch = epoch
            self._cell_version.clear()
            self._row_version.clear()
        self._free_bumps += 1
        return True

    def _stamp(self, versions: Mapping[Any, int], key: Any) -> tuple[int, int]:
        """(the epoch now, ``key``'s version in it): what a cached cell or row line is
        keyed by besides its place and look (0: unchanged since the epoch began)."""
        epoch = self._update_count - self._free_bumps
        return epoch, versions.get(key, 0) if epoch == self._epoch else 0

    def _clear_caches(self) -> None:
        super()._clear_caches()
        for cache in (getattr(self, "_cells", None), getattr(self, "_row_lines", None)):
            if cache is not None:  # None: DataTable's __init__ clears them first
                cache.clear()

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        """A body cell's lines, cached by the cell's own version (see ``__init__``); the
        header and row labels, and any cell of another Textual, as DataTable renders them."""
        if not CELL_CACHE or row_index < 0 or column_index < 0:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        rk = self._row_locations.get_key(row_index)
        ck = self._column_locations.get_key(column_index)
        if rk is None or ck is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            rk,
            ck,
            row_index,
            width,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            *self._stamp(self._cell_version, (rk, ck)),
            self._pseudo_class_state,
        )
        lines = self._cells.get(key)
        if lines is None:
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            self._cells[key] = lines
        return lines

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Any,
        hover_location: Any,
    ) -> Any:
        """A row's line, cached by its cells' newest version and its place (see
        ``__init__``): a row none of whose cells changed is not assembled again."""
        if not CELL_CACHE:
            return super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        locations = self._row_locations
        key = (
            row_key,
            line_no,
            locations.get(row_key) if row_key in locations else -1,
            base_style,
            cursor_location,
            hover_location,
            self.cursor_type,
            self.show_cursor,
            self._show_hover_cursor,
            *self._stamp(self._row_version, row_key),
            self._pseudo_class_state,
        )
        lines = self._row_lines.get(key)
        if lines is None:
            lines = super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
            self._row_lines[key] = lines
        return lines

    def fit(self, width: int, drop: Sequence[str], reserve: int = 0) -> tuple[str, ...]:
        """The columns shown ``width`` cells wide: all, less those of ``drop`` in its
        order until the others fit in ``width - reserve`` (never fewer than the others)."""
        keep = list(self.COLUMNS)
        for key in drop:
            if sum(c[2] for c in keep) <= width - reserve:
                break
            keep = [c for c in keep if c[0] != key]
        return tuple(c[0] for c in keep)

    def sync(self, rows: Mapping[str, tuple[Cell, ...]], ordered: bool = True) -> None:
        """Show ``rows`` (a cell per column of :attr:`COLUMNS`; in their order when
        ``ordered``, else sorted by the first column as rows arrive)."""
        self._rows, self._ordered = rows, ordered
        pick = self._pick
        gone = [k for k in self._shown if k not in rows]
        came = iter([k for k in rows if k not in self._shown])
        for key in gone:
            taker = next(came, None)
            if taker is not None and self._rekey(key, taker):
                self._shown[taker] = self._shown.pop(key)  # its cells, updated below
                continue
            self.remove_row(key)
            del self._shown[key]
        added = False
        for key, whole in rows.items():
            cells = whole if pick is None else tuple(whole[i] for i in pick)
            row = tuple(_lead(c) for c in cells)
            old = self._shown.get(key)
            if old is None:
                self.add_row(*row, key=key)
                added = True
            elif old != row:
                for (col, _, _), new, was in zip(self.shown, row, old):
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
            self.sort(self.shown[0][0])

    def _rekey(self, old: str, new: str) -> bool:
        """Give the row ``old`` the key ``new`` in place (its place, height and cells
        kept: the caller updates the cells that differ), so a row replaced by another
        costs no layout pass as ``remove_row`` does. DataTable has no API for it: this
        renames the row in the maps the table keeps by key (Textual 8's ``rows``,
        ``_data``, ``_row_locations``, ``_updated_cells``) and bumps its update count,
        which keys its render caches. False, nothing changed, if those maps are not the
        expected ones (another Textual): the caller removes the row instead."""
        try:
            ok, nk = RowKey(old), RowKey(new)
            row, locations = self.rows[ok], self._row_locations
            index = locations.get(ok)
            if index is None or nk in self.rows or not isinstance(row, Row):
                return False
            del locations[ok]
            locations[nk] = index
            del self.rows[ok]
            self.rows[nk] = Row(nk, row.height, row.label, row.auto_height)
            self._data[nk] = self._data.pop(ok)
            self._updated_cells = {
                CellKey(nk, c.column_key) if c.row_key == ok else c for c in self._updated_cells
            }
        except (AttributeError, KeyError, TypeError):
            return False
        before = self._update_count
        self._update_count += 1
        if self._free_bump(before):  # both names' cells: versions never drawn before
            versions, rows = self._cell_version, self._row_version
            for ck in self.columns:
                versions.pop((ok, ck), None)
                self._versions += 1
                versions[nk, ck] = self._versions
            rows.pop(ok, None)
            rows[nk] = self._versions
        self.refresh()
        return True

    @property
    def keys(self) -> list[str]:
        """The row keys, top to bottom."""
        return [str(r.key.value) for r in self.ordered_rows]

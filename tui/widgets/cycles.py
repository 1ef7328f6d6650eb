"""The cycles panel: one row per profitable cycle, updated by row key, never rebuilt."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from engine_rs.records import Opportunity, Score

COLUMNS = (  # key, label, width
    ("path", "path", 24),
    ("hops", "hops", 4),
    ("amount_in", "amount_in", 14),
    ("profit", "profit", 12),
    ("bps", "profit_bps", 10),
    ("net", "net of fees", 12),
    ("persist", "persist", 7),
    ("go", "go / no-go", 17),
)
Cell = str | Text


def row_key(o: Opportunity) -> str:
    """A cycle's identity: its base mint and pools (direction included)."""
    return o.base_mint + ":" + ",".join(o.pools)


def _num(value: int | float, fmt: str = ",") -> Text:
    return Text(format(value, fmt), justify="right")


def cells(o: Opportunity, s: Score) -> tuple[Cell, ...]:
    """The row of one scored opportunity (amounts in base-token units)."""
    path = "→".join(t[:4] for t in o.tokens)
    if s.go:
        verdict = "GO"
    else:
        verdict = s.reasons[0] + (f" +{len(s.reasons) - 1}" if len(s.reasons) > 1 else "")
    return (
        path,
        _num(o.hops),
        _num(o.amount_in),
        _num(o.profit),
        _num(o.profit_bps, ",.1f"),
        _num(s.net_profit),
        _num(o.persistence),
        verdict,
    )


class CyclesPanel(DataTable[Cell]):
    """Live cycles, best net profit first."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.border_title = "Cycles the engine finds (best net first)"
        self._shown: dict[str, tuple[Cell, ...]] = {}
        self._order: list[str] = []

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def show(self, opportunities: Sequence[tuple[Opportunity, Score]]) -> None:
        """Make the rows those of ``opportunities`` (given best first): remove the rows
        that went, add the new ones, update only the cells that changed."""
        want = {row_key(o): cells(o, s) for o, s in opportunities}
        for key in [k for k in self._shown if k not in want]:
            self.remove_row(key)
            del self._shown[key]
        for key, row in want.items():
            old = self._shown.get(key)
            if old is None:
                self.add_row(*row, key=key)
            elif old != row:
                for (col, _, _), new, was in zip(COLUMNS, row, old):
                    if new != was:
                        self.update_cell(key, col, new)
            self._shown[key] = row
        order = list(want)
        if order != self._order:
            rank = {k: i for i, k in enumerate(order)}
            self._sort_by_rank(rank)
            self._order = order

    def _sort_by_rank(self, rank: dict[str, int]) -> None:
        # DataTable.sort hands the key function a row's cells, not its key: rank by the
        # cells (two rows with equal cells look the same, so their order does not show)
        by_cells = {tuple(map(str, r)): rank[k] for k, r in self._shown.items()}
        self.sort(key=lambda v: by_cells.get(tuple(map(str, v)), len(rank)))

"""The timing panel: each kernel's p50/p99 in Rust and Python, and the shadow checks."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from ..source import TimingRowView

COLUMNS = (  # key, label, width
    ("kernel", "kernel", 19),
    ("calls", "calls", 7),
    ("rs50", "Rust p50 µs", 11),
    ("rs99", "Rust p99 µs", 11),
    ("py50", "Py p50 µs", 10),
    ("py99", "Py p99 µs", 10),
    ("x", "py/rust", 7),
    ("checks", "shadowed", 8),
    ("mism", "mismatch", 8),
    ("err", "errors", 6),
)
Cell = str | Text


def _us(value: float | None) -> Text:
    return Text("—" if value is None else f"{value:,.1f}", justify="right")


def cells(r: TimingRowView) -> tuple[Cell, ...]:
    """One kernel's row."""
    x = r.speedup
    return (
        r.kernel,
        Text(f"{r.calls:,}", justify="right"),
        _us(r.rust_p50_us),
        _us(r.rust_p99_us),
        _us(r.python_p50_us),
        _us(r.python_p99_us),
        Text("—" if x is None else f"{x:,.1f}×", justify="right"),
        Text(f"{r.shadow_checks:,}", justify="right"),
        Text(f"{r.mismatches:,}", justify="right"),
        Text(f"{r.errors:,}", justify="right"),
    )


class TimingsPanel(DataTable[Cell]):
    """Rust vs Python per kernel, live (the active backend runs every call, the other
    a sample of them)."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none")
        self.border_title = "Kernel timings: Rust vs Python (shadow-checked)"
        self._shown: dict[str, tuple[Cell, ...]] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def show(self, rows: Sequence[TimingRowView]) -> None:
        """Update the rows by kernel name (cells that changed only)."""
        for r in rows:
            row = cells(r)
            old = self._shown.get(r.kernel)
            if old is None:
                self.add_row(*row, key=r.kernel)
                self.sort("kernel")
            elif old != row:
                for (col, _, _), new, was in zip(COLUMNS, row, old):
                    if new != was:
                        self.update_cell(r.kernel, col, new)
            self._shown[r.kernel] = row

"""The timing panel: each kernel's p50/p99 in Rust and Python, and the shadow checks."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from ..source import TimingRowView
from .table import Cell, Column, KeyedTable, num


def _us(v: float) -> str:
    """µs in at most 5 characters: 7.3, 188, 2,413, 12k."""
    if v < 100:
        return f"{v:.1f}"
    if v < 10_000:
        return f"{v:,.0f}"
    return f"{v / 1000:,.0f}k"


def _pair(a: float | None, b: float | None) -> Text:
    if a is None:
        return Text("—", justify="right")
    return Text(f"{_us(a)}/{_us(b or 0.0)}", justify="right")


NAME_WIDTH = 15  # the kernel column's characters (cycles_touching, cpmm_amount_out)
# kernels whose names are longer, as the panel shows them (the rest of the name is the
# same words): chosen, not cut wherever the column ends
SHORT_NAMES = {"find_negative_cycle": "find_neg_cycle"}


def kernel_label(name: str) -> str:
    """``name`` in at most NAME_WIDTH characters: itself, its chosen short form, or (a
    kernel added later) cut with an ellipsis, never silently."""
    if len(name) <= NAME_WIDTH:
        return name
    short = SHORT_NAMES.get(name)
    if short is not None and len(short) <= NAME_WIDTH:
        return short
    return name[: NAME_WIDTH - 1] + "…"


def cells(r: TimingRowView) -> tuple[Cell, ...]:
    """One kernel's row."""
    x = r.speedup
    mism = Text(f"{r.mismatches:,}", justify="right", style="bold red" if r.mismatches else "")
    return (
        kernel_label(r.kernel),
        _pair(r.rust_p50_us, r.rust_p99_us),
        _pair(r.python_p50_us, r.python_p99_us),
        Text("—" if x is None else f"{x:,.0f}×" if x >= 10 else f"{x:.1f}×", justify="right"),
        num(r.calls),
        mism,
        num(r.shadow_checks),
    )


class TimingsPanel(KeyedTable):
    """Rust vs Python per kernel, live (the active backend runs every call, the other
    a sample of them)."""

    COLUMNS: Sequence[Column] = (
        ("kernel", "kernel", NAME_WIDTH + 1),  # + the leading blank
        ("rs", "Rust p50/99", 12),
        ("py", "Py p50/99", 12),
        ("x", "×", 5),
        ("calls", "calls", 7),
        ("mism", "mism", 5),
        ("checks", "shadowed", 9),
    )
    NUMERIC = frozenset({"rs", "py", "x", "calls", "checks", "mism"})

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, title="Rust vs Python µs (live, shadow-checked)")

    def show(self, rows: Sequence[TimingRowView]) -> None:
        """Update the rows by kernel name (cells that changed only)."""
        self.sync({r.kernel: cells(r) for r in rows}, ordered=False)

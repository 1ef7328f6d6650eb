"""``tui.widgets.table.KeyedTable``: what it draws after any run of syncs (rows come, go,
change, the cursor moves) is what Textual's own DataTable rendering draws with every
cache cold (the oracle), and a changed cell renders that cell again, not every visible one (DataTable keys
every cell by one counter that each ``update_cell`` bumps)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import DataTable

from tui.widgets import table
from tui.widgets.table import KeyedTable, num


class Grid(KeyedTable):
    COLUMNS = (("name", "NAME", 8), ("a", "A", 7), ("b", "B", 9))
    NUMERIC = frozenset({"a", "b"})


class One(App[None]):
    def compose(self) -> ComposeResult:
        yield Grid(id="live", cursor=True)


def drawn(t: KeyedTable) -> list[str]:
    """The table's lines as drawn (text and style), every row on screen."""
    strips = t.render_lines(Region(0, 0, t.size.width, t.size.height))
    return ["".join(f"{s.text}\0{s.style}" for s in strip) for strip in strips]


Rows = dict[str, tuple[Any, ...]]


def rows_of(spec: list[tuple[int, int, float]]) -> Rows:
    out: Rows = {}
    for key, a, b in spec:
        out[f"r{key}"] = (f"n{key}", num(a), Text(f"{b:.2f}", justify="right", style="bold"))
    return out


row_specs = st.lists(
    st.tuples(st.integers(0, 9), st.integers(-50, 50), st.floats(-9, 9, allow_nan=False)),
    max_size=8,
    unique_by=lambda r: r[0],
)


async def _draws_as_fresh(steps: list[tuple[list[tuple[int, int, float]], int]]) -> None:
    app = One()
    async with app.run_test(size=(40, 30)) as pilot:
        live = app.query_one("#live", Grid)
        for spec, cursor in steps:
            rows = rows_of(spec)
            live.sync(rows)
            if rows:
                live.move_cursor(row=cursor % len(rows))
            await pilot.pause()
            live.refresh()
            drawn(live)  # drawn between syncs: what it caches is what a later sync reuses
            cached = drawn(live)
            live._clear_caches()  # Textual's rendering with every cache cold: the oracle
            live.refresh()
            assert cached == drawn(live)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(steps=st.lists(st.tuples(row_specs, st.integers(0, 7)), min_size=1, max_size=6))
def test_any_run_of_syncs_draws_what_a_fresh_table_draws(
    steps: list[tuple[list[tuple[int, int, float]], int]],
) -> None:
    asyncio.run(_draws_as_fresh(steps))


async def _renders_after_one_change(monkeypatch: pytest.MonkeyPatch) -> int:
    calls = [0]
    original = DataTable._render_cell

    def counted(self: DataTable[Any], *a: Any, **kw: Any) -> Any:
        calls[0] += 1
        return original(self, *a, **kw)

    monkeypatch.setattr(DataTable, "_render_cell", counted)
    app = One()
    async with app.run_test(size=(40, 30)) as pilot:
        live = app.query_one("#live", Grid)
        spec = [(k, k, k / 3) for k in range(8)]
        live.sync(rows_of(spec))
        await pilot.pause()
        live.refresh()  # its resize was a change of its own (a new key for every cell)
        drawn(live)
        calls[0] = 0
        spec[3] = (3, 40, 1.5)  # one row's two numbers change
        live.sync(rows_of(spec))
        drawn(live)
        return calls[0]


def test_a_changed_cell_is_the_only_one_rendered_again(monkeypatch: pytest.MonkeyPatch) -> None:
    assert table.CELL_CACHE, "this Textual's DataTable is not the shape the cache relies on"
    # the two changed cells and the header's three (DataTable renders the header through
    # the same method, keyed by the same counter); not 8 rows x 3 columns again
    assert asyncio.run(_renders_after_one_change(monkeypatch)) <= 2 + 3

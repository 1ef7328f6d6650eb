"""``bench.tables``: the dashboard tables' caches render a fraction of the cells Textual's
DataTable renders for the same redraws (a count, the same on any machine)."""

from __future__ import annotations

import pytest

from bench import tables
from tui.widgets import table


@pytest.mark.slow
def test_the_cached_table_renders_only_the_changed_cells() -> None:
    assert table.CELL_CACHE
    (row,) = tables.run([0.05], redraws=4, runs=1)
    # 30 rows x 8 cells and the header drawn again every redraw without the caches; with
    # them, the ~5 % that changed (the seed's draw)
    assert row["uncached_cells"] == 30 * 8 + 8
    assert 0 < row["cached_cells"] < 30
    assert table.CELL_CACHE  # the bench leaves the switch as it found it

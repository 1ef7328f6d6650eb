"""`python -m bench.tables`: what a dashboard table costs per redraw, with the cell and
row caches of ``tui.widgets.table.KeyedTable`` and without (``CELL_CACHE`` off: Textual's
DataTable keys every cell by one counter that each changed cell bumps).

A 30-row, 8-column table (one text column, seven numbers) at 120×40 on Textual's
headless driver; before each redraw a share of its number cells change (as prices and
cycles do between two frames), then the table is synced and drawn. Per share and mode:
the process CPU per redraw (the median over ``--redraws``, then the median of
``--runs`` runs, the modes interleaved) and the cells Textual rendered per redraw (a
count: the same on any machine)."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Sequence
from typing import Any

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import DataTable

from tui.widgets import table
from tui.widgets.table import Column, KeyedTable, num

ROWS, NUMBERS = 30, 7


class Grid(KeyedTable):
    COLUMNS: Sequence[Column] = (
        ("pair", "PAIR", 14),
        *((f"n{i}", f"N{i}", 14) for i in range(NUMBERS)),
    )
    NUMERIC = frozenset(f"n{i}" for i in range(NUMBERS))


class _App(App[None]):
    def compose(self) -> ComposeResult:
        yield Grid(cursor=True)


def _rows(values: list[list[float]]) -> dict[str, tuple[Any, ...]]:
    return {f"r{k}": (f"pair {k}", *(num(v, ",.4f") for v in values[k])) for k in range(ROWS)}


async def measure(share: float, redraws: int, seed: int = 7) -> tuple[float, float]:
    """(CPU ms per redraw, median; cells rendered per redraw, mean) at ``share``."""
    rendered = [0]
    original = DataTable._render_cell

    def counted(self: DataTable[Any], *a: Any, **kw: Any) -> Any:
        rendered[0] += 1
        return original(self, *a, **kw)

    DataTable._render_cell = counted  # type: ignore[method-assign]
    try:
        app = _App()
        async with app.run_test(size=(120, 40)) as pilot:
            grid = app.query_one(Grid)
            rng = random.Random(seed)
            values = [[rng.random() * 100 for _ in range(NUMBERS)] for _ in range(ROWS)]
            grid.sync(_rows(values))
            await pilot.pause()
            grid.refresh()
            grid.render_lines(Region(0, 0, grid.size.width, grid.size.height))
            cpu: list[float] = []
            rendered[0] = 0
            for _ in range(redraws):
                for row in values:
                    for j in range(NUMBERS):
                        if rng.random() < share:
                            row[j] = rng.random() * 100
                c0 = time.process_time()
                grid.sync(_rows(values))
                grid.render_lines(Region(0, 0, grid.size.width, grid.size.height))
                cpu.append(time.process_time() - c0)
            return 1e3 * statistics.median(cpu), rendered[0] / redraws
    finally:
        DataTable._render_cell = original  # type: ignore[method-assign]


def run(shares: Sequence[float], redraws: int, runs: int) -> list[dict[str, Any]]:
    """One row per share: both modes, interleaved ``runs`` times."""
    out = []
    shaped = table.CELL_CACHE
    try:
        for share in shares:
            got: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
            for _ in range(runs):
                for on in (True, False):
                    table.CELL_CACHE = on and shaped
                    got[on].append(asyncio.run(measure(share, redraws)))
            out.append(
                {
                    "share": share,
                    "cached_ms": statistics.median(c for c, _ in got[True]),
                    "uncached_ms": statistics.median(c for c, _ in got[False]),
                    "cached_cells": statistics.median(n for _, n in got[True]),
                    "uncached_cells": statistics.median(n for _, n in got[False]),
                }
            )
    finally:
        table.CELL_CACHE = shaped
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.tables", description=__doc__)
    ap.add_argument("--shares", type=float, nargs="+", default=[0.05, 0.2, 0.5])
    ap.add_argument("--redraws", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    rows = run(a.shares, a.redraws, a.runs)
    print(f"# a {ROWS}x{NUMBERS + 1} table, {a.redraws} redraws, median of {a.runs} runs")
    print("| cells changed | CPU per redraw, cached / not | cells rendered, cached / not |")
    print("|---|---|---|")
    for r in rows:
        print(
            f"| {r['share']:.0%} | {r['cached_ms']:.1f} / {r['uncached_ms']:.1f} ms "
            f"({r['uncached_ms'] / r['cached_ms']:.1f}x) "
            f"| {r['cached_cells']:.0f} / {r['uncached_cells']:.0f} |"
        )
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

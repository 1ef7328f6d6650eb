"""The benches' Markdown tables: one way to lay out a header and its rows."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def markdown(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """``head`` and ``rows`` as the lines of a Markdown table, each column as wide as
    its widest cell."""
    table = [list(head), *map(list, rows)]
    w = [max(len(r[i]) for r in table) for i in range(len(head))]
    out = ["| " + " | ".join(f"{c:<{w[i]}}" for i, c in enumerate(r)) + " |" for r in table]
    out.insert(1, "|" + "|".join("-" * (x + 2) for x in w) + "|")
    return out


def cpu_s(pid: int, thread: bool = False) -> float:
    """CPU time (user + system, s) a process has used, from /proc; with ``thread``, its
    main thread's alone (a Python process's event loop, without its other threads)."""
    try:
        where = f"/proc/{pid}/task/{pid}/stat" if thread else f"/proc/{pid}/stat"
        fields = Path(where).read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")

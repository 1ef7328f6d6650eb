"""The benches' Markdown tables: one way to lay out a header and its rows."""

from __future__ import annotations

from collections.abc import Sequence


def markdown(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """``head`` and ``rows`` as the lines of a Markdown table, each column as wide as
    its widest cell."""
    table = [list(head), *map(list, rows)]
    w = [max(len(r[i]) for r in table) for i in range(len(head))]
    out = ["| " + " | ".join(f"{c:<{w[i]}}" for i, c in enumerate(r)) + " |" for r in table]
    out.insert(1, "|" + "|".join("-" * (x + 2) for x in w) + "|")
    return out

"""The portfolio panel (paper by default): balances, equity, fills, PnL, hit rate."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from .prices import sparkline


class PortfolioPanel(Static):
    """What the execution engine reports; a note until it has traded."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Portfolio (paper)"
        self._last: Any = object()

    def show(self, pf: Any, mode: str) -> None:
        self.border_title = f"Portfolio ({mode.lower()})"
        if pf == self._last:
            return
        self._last = pf
        if pf is None or not getattr(pf, "fills", 0):
            self.update(Text("no fills yet", style="dim"))
            return
        t = Text()
        pnl_style = "green" if pf.pnl >= 0 else "red"
        t.append("PnL ")
        t.append(f"{pf.pnl:+,}", style=f"bold {pnl_style}")
        t.append(f" {pf.base[:4]}\n")
        t.append(f"fills {pf.fills}  hit {100 * pf.hit_rate:.0f}%  failed {pf.failed}\n")
        t.append(f"fees {pf.fees:,}  pending {pf.pending}\n")
        t.append(f"{sparkline(pf.equity, 26)}\n")
        t.append(f"{pf.lamports / 1e9:,.4f} SOL for fees")
        self.update(t)

"""The fee panel: priority-fee percentiles over the window, p50 per slot as a
sparkline, the congestion index and the recommended compute-unit price."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from .panel import TextPanel
from .prices import sparkline


class FeesPanel(TextPanel):
    """Fee congestion (from ``getRecentPrioritizationFees``, polled)."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Fees µL/CU"
        self._last: Any = None

    def show(self, fee: Any) -> None:
        if fee == self._last:
            return
        self._last = fee
        if not fee.samples:
            self.put(Text("no priority-fee samples yet", style="dim"))
            return
        level = fee.congestion
        style = "bold red" if level >= 0.66 else "bold yellow" if level >= 0.33 else "green"
        word = "congested" if level >= 0.66 else "busy" if level >= 0.33 else "calm"
        t = Text()
        t.append(f"p50 {fee.p50:,}  p75 {fee.p75:,}\n")
        t.append(f"p90 {fee.p90:,}  ({fee.slots} slots)\n")
        t.append(f"{sparkline(fee.by_slot, 26)}\n")
        t.append("congestion ")
        t.append(f"{level:.2f} {word}", style=style)
        t.append(f"\nuse {fee.cu_price:,}/CU = {fee.priority_lamports:,} L")
        self.put(t)

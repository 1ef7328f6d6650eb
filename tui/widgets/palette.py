"""Profit and loss colours, from the theme's variables (``$profit`` and ``$loss``, set
by every arbscope theme), so a theme swap recolours them with everything else. A theme
without them falls back on its ``$success`` and ``$error``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Palette:
    """Rich colours (``#rrggbb``) for money made and money lost."""

    profit: str
    loss: str

    @classmethod
    def of(cls, app: Any) -> Palette:
        """The palette of ``app``'s current theme (its CSS variables)."""
        v: dict[str, str] = app.theme_variables
        return cls(v.get("profit") or v.get("success", ""), v.get("loss") or v.get("error", ""))

    def pnl(self, amount: int) -> str:
        """The colour of ``amount``: profit at zero and above, loss below."""
        return self.profit if amount >= 0 else self.loss

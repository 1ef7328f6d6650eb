"""Profit and loss colours, from the theme's variables (``$profit`` and ``$loss``, set
by every arbscope theme), so a theme swap recolours them with everything else. A theme
without them falls back on its ``$success`` and ``$error``. Beside them: the theme's
``$warning`` (amber: a rival arbitrage lost to speed) and a muted grey, its foreground
half-way to its background (what went unseen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.color import Color, ColorParseError


@dataclass(frozen=True, slots=True)
class Palette:
    """Rich colours (``#rrggbb``) for money made and money lost."""

    profit: str
    loss: str
    warning: str = "yellow"
    muted: str = "grey50"

    @classmethod
    def of(cls, app: Any) -> Palette:
        """The palette of ``app``'s current theme (its CSS variables)."""
        v: dict[str, str] = app.theme_variables
        muted = "grey50"
        try:
            fg, bg = Color.parse(v["foreground"]), Color.parse(v["background"])
            muted = fg.blend(bg, 0.5).hex
        except (KeyError, ColorParseError):
            pass
        return cls(
            v.get("profit") or v.get("success", ""),
            v.get("loss") or v.get("error", ""),
            v.get("warning") or "yellow",
            muted,
        )

    def pnl(self, amount: int) -> str:
        """The colour of ``amount``: profit at zero and above, loss below."""
        return self.profit if amount >= 0 else self.loss

"""Textual themes for arbscope; the .tcss uses only theme variables, so `t` (or the
config) swaps every colour at once. Dark is the default; light for bright rooms; high
contrast for projectors, bad terminals and tired eyes (pure black/white, saturated
accents). Besides Textual's own variables each theme sets ``$profit`` and ``$loss``:
the colours of money made and lost in the cycles, the detail and the portfolio."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.theme import Theme

# each theme's colours, in this order ("-": Textual's own); profit and loss are ours
_ROLES = "primary secondary accent warning error success background surface panel foreground"
_PALETTES = {
    "dark": "#4FC1FF #C586C0 #FFB454 #FFB454 #F44747 #6A9955 #0E1116 #161B22 #1F2630 - "
    "#89D185 #F44747",
    "light": "#0B61A4 #8E3B8E #B35900 #A65F00 #C62828 #2E7D32 #F7F7F5 #FFFFFF #E6E8EB #1B1F24 "
    "#2E7D32 #C62828",
    "contrast": "#00FFFF #FF00FF #FFFF00 #FFFF00 #FF3030 #00FF00 #000000 #000000 #202020 "
    "#FFFFFF #00FF00 #FF3030",
}


def _theme(name: str) -> Theme:
    """The theme ``arbscope-<name>`` from its palette (dark but for ``light``)."""
    c = dict(zip([*_ROLES.split(), "profit", "loss"], _PALETTES[name].split(), strict=True))
    return Theme(
        name=f"arbscope-{name}",
        primary=c["primary"],
        secondary=c["secondary"],
        accent=c["accent"],
        warning=c["warning"],
        error=c["error"],
        success=c["success"],
        background=c["background"],
        surface=c["surface"],
        panel=c["panel"],
        foreground=None if c["foreground"] == "-" else c["foreground"],
        dark=name != "light",
        variables={"profit": c["profit"], "loss": c["loss"]},
    )


ARBSCOPE_DARK = _theme("dark")
ARBSCOPE_LIGHT = _theme("light")
ARBSCOPE_CONTRAST = _theme("contrast")

THEMES = (ARBSCOPE_DARK, ARBSCOPE_LIGHT, ARBSCOPE_CONTRAST)
THEME_NAMES = tuple(t.name for t in THEMES)


def register_themes(app: App[Any], default: str = ARBSCOPE_DARK.name) -> None:
    """Register arbscope's themes on ``app`` and select ``default`` (a name in
    :data:`THEME_NAMES`, with or without the ``arbscope-`` prefix)."""
    for theme in THEMES:
        app.register_theme(theme)
    name = default if default.startswith("arbscope-") else f"arbscope-{default}"
    if name not in THEME_NAMES:
        raise ValueError(f"unknown theme {default!r}: one of dark, light, contrast")
    app.theme = name


def next_theme(current: str) -> str:
    """The theme after ``current`` (wrapping)."""
    i = THEME_NAMES.index(current) if current in THEME_NAMES else -1
    return THEME_NAMES[(i + 1) % len(THEME_NAMES)]

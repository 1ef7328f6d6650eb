"""Textual themes for arbscope; the .tcss uses only theme variables, so `t` (or the
config) swaps every colour at once. Dark is the default; light for bright rooms; high
contrast for projectors, bad terminals and tired eyes (pure black/white, saturated
accents). Besides Textual's own variables each theme sets ``$profit`` and ``$loss``:
the colours of money made and lost in the cycles, the detail and the portfolio."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.theme import Theme

ARBSCOPE_DARK = Theme(
    name="arbscope-dark",
    primary="#4FC1FF",
    secondary="#C586C0",
    accent="#FFB454",
    warning="#FFB454",
    error="#F44747",
    success="#6A9955",
    background="#0E1116",
    surface="#161B22",
    panel="#1F2630",
    dark=True,
    variables={"profit": "#89D185", "loss": "#F44747"},
)

ARBSCOPE_LIGHT = Theme(
    name="arbscope-light",
    primary="#0B61A4",
    secondary="#8E3B8E",
    accent="#B35900",
    warning="#A65F00",
    error="#C62828",
    success="#2E7D32",
    background="#F7F7F5",
    surface="#FFFFFF",
    panel="#E6E8EB",
    foreground="#1B1F24",
    dark=False,
    variables={"profit": "#2E7D32", "loss": "#C62828"},
)

ARBSCOPE_CONTRAST = Theme(
    name="arbscope-contrast",
    primary="#00FFFF",
    secondary="#FF00FF",
    accent="#FFFF00",
    warning="#FFFF00",
    error="#FF3030",
    success="#00FF00",
    background="#000000",
    surface="#000000",
    panel="#202020",
    foreground="#FFFFFF",
    dark=True,
    variables={"profit": "#00FF00", "loss": "#FF3030"},
)

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

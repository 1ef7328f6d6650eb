"""Textual themes for arbscope; the .tcss uses only theme variables."""

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
)

THEMES = (ARBSCOPE_DARK,)


def register_themes(app: App[Any]) -> None:
    """Register arbscope's themes on ``app`` and select the default one."""
    for theme in THEMES:
        app.register_theme(theme)
    app.theme = ARBSCOPE_DARK.name

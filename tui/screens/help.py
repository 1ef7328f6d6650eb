"""``?``: every key, what it does, and where it applies."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("m", "paper / live mode (live asks for a typed confirmation and checks its guard rails)"),
    ("k", "kill switch: back to paper at once, cancel what is pending, no automatic orders"),
    ("u", "resume automatic paper orders after the kill switch"),
    ("x", "an order on the cycle under the cursor (paper; in live mode also on chain)"),
    ("space", "pause / resume the view (in a replay: the replay)"),
    ("→ / ←", "replay: step one slot forward / back"),
    (".", "replay: step one frame"),
    ("+ / -", "replay: speed 1× 10× 100× max"),
    ("] / [", "replay: seek 10 s forward / back"),
    ("r", "open a recorded session (replay)"),
    ("t", "next theme (dark, light, high contrast)"),
    ("/", "filter cycles by token (a mint prefix); empty clears"),
    (
        "enter",
        "details of the cycle (or, in the Rivals panel, the rival arbitrage) under the cursor",
    ),
    ("o", "order books: ladder, spread, mid (the cycle's book first; ↑↓ another market)"),
    (
        "c",
        "charts: the price chart (the pair under the focused table's cursor: a Prices "
        "row, or a cycle's first hop), then the equity curve (paper and live PnL, fills "
        "▲ won / ▼ lost), then back",
    ),
    (
        "v",
        "rivals: others' arbitrage on our pools, the top signers, their share and ours "
        "(in place of the prices and timings; narrow: a tab); again: back",
    ),
    ("tab", "narrow terminals: next panel below the cycles; wide ones: next table (focus)"),
    ("?", "this help"),
    ("q", "quit: journal flushed, sockets closed"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q,enter", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        t = Table(show_header=True, expand=True, box=None)
        t.add_column("key", style="bold", no_wrap=True)
        t.add_column("does")
        for k, v in KEYS:
            t.add_row(k, v)
        with VerticalScroll(id="help"):
            yield Static(t)

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Keys (esc to close)"

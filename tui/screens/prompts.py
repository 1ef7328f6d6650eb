"""Small modal screens: the live-mode confirmation, a one-line text prompt (the cycle
filter), and the recorded-session picker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

CONFIRM_WORD = "LIVE"


class LiveConfirm(ModalScreen[bool]):
    """Switching to live trading: the operator types LIVE (anything else, or escape,
    stays in paper). The guard rails are checked after this, by the source."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Stay in paper")]

    def __init__(self, checks: Sequence[str] = ()) -> None:
        super().__init__()
        self.checks = list(checks)

    def compose(self) -> ComposeResult:
        lines = [
            "[b]Switch to LIVE trading?[/b]",
            "Real transactions will be signed and sent with your keypair.",
            "",
            *self.checks,
            "",
            f"Type [b]{CONFIRM_WORD}[/b] and press enter to confirm; escape stays in paper.",
        ]
        with Vertical(id="confirm"):
            yield Static("\n".join(lines))
            yield Input(placeholder=CONFIRM_WORD, id="confirm-input")

    def on_mount(self) -> None:
        self.query_one("#confirm").border_title = "Live mode"
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() == CONFIRM_WORD)

    def action_cancel(self) -> None:
        self.dismiss(False)


class TextPrompt(ModalScreen[str | None]):
    """One line of text (enter: the text; escape: None)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text, self.value, self.placeholder = title, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")

    def on_mount(self) -> None:
        self.query_one("#prompt").border_title = self.title_text
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class SessionPicker(ModalScreen[str | None]):
    """The recorded sessions, newest first; enter opens one."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, sessions: Sequence[tuple[str, str]], error: str = "") -> None:
        super().__init__()
        self.sessions, self.error = list(sessions), error

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            if self.error or not self.sessions:
                yield Static(self.error or "no recorded sessions yet")
            yield OptionList(*[Option(label, id=sid) for sid, label in self.sessions])

    def on_mount(self) -> None:
        self.query_one("#picker").border_title = "Recorded sessions (enter opens, esc cancels)"
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)

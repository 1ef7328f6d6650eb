"""A text panel that asks Textual for a layout pass only when its size may change.

``Static.update`` reflows the whole screen by default (``layout=True``): every widget
arranged and painted again, several times a second for panels whose numbers change
while their shape does not. A panel's height follows its lines (``height: auto``), so a
layout is needed when the number of lines changes, or a line too long for the panel's
width (wrapped, its rows depending on its words) changes; otherwise a repaint of the
panel itself is enough."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static


class TextPanel(Static):
    """A ``Static`` whose :meth:`put` reflows the screen only when its shape changes."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shape: tuple[object, ...] | None = None

    def put(self, content: Text | str) -> None:
        """Show ``content`` (a layout pass only when its shape may have changed)."""
        width = self.content_size.width
        plain = content.plain if isinstance(content, Text) else content
        # a line that fits keeps its one row whatever it says; a longer one is kept whole
        shape = (
            width,
            *(n if (n := cell_len(line)) > width else 0 for line in plain.split("\n")),
        )
        layout = width <= 0 or shape != self._shape
        self._shape = shape
        self.update(content, layout=layout)

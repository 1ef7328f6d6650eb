"""tui: the Textual dashboard (no business logic here)."""

"""themes: Textual themes and .tcss."""

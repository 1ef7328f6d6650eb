"""The status line: what runs, on what, how fast, and how many errors."""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from ..source import SnapshotView, UiState


class StatusLine(Static):
    """One line: state, engine backend and shadow, seed, graph size, rate, sweep, errors."""

    def show(self, snap: SnapshotView, state: UiState) -> None:
        """Render ``snap`` and the app's ``state``."""
        run = "[b]PAUSED[/b]" if state.paused else "[b]RUNNING[/b]"
        if snap.source.startswith("REPLAY"):  # the replay's own clock says paused or speed
            run = "[b]REPLAY[/b]"
            source = snap.source[len("REPLAY") :].strip()
        else:
            source = snap.source
        sweep = "none"
        if snap.last_sweep is not None:
            c = snap.last_sweep
            sweep = f"{len(c.pools)}-hop ×{c.rate_product:.4f}"
        errors = f"errors {snap.errors}"
        if state.internal_errors:
            errors += f" (+{state.internal_errors} internal: {escape(state.last_error)})"
        feeds = ""
        if snap.feeds:
            up = sum(f.connected for f in snap.feeds)
            lead = max(snap.feeds, key=lambda f: f.lead)
            feeds = f"feeds {up}/{len(snap.feeds)} up, lead {escape(lead.name)}  "
        note = f"  [b]{escape(snap.note)}[/b]" if snap.note else ""
        self.update(
            f"{run}  {escape(source)}  {feeds}"
            f"[b]{snap.backend}[/b], shadow {snap.shadow or 'none'}  "
            f"seed {snap.seed}  slot {snap.slot}  {snap.pools} pools/{snap.tokens} tok  "
            f"{snap.updates_per_s:,.0f} upd/s  {errors}  mismatch {snap.mismatches}  "
            f"sweep {sweep}{note}"
        )

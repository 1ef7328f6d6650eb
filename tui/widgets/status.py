"""The status line: what runs, on what, how fast, and how many errors."""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from ..source import SnapshotView, UiState


class StatusLine(Static):
    """One line: state, engine backend and shadow, seed, graph size, rate, sweep, errors."""

    def show(self, snap: SnapshotView, state: UiState) -> None:
        """Render ``snap`` and the app's ``state``."""
        run = "[b]PAUSED[/b]" if state.paused else "[b]LIVE[/b]"
        sweep = "none"
        if snap.last_sweep is not None:
            c = snap.last_sweep
            sweep = f"{len(c.pools)}-hop ×{c.rate_product:.4f}"
        errors = f"errors {snap.errors}"
        if state.internal_errors:
            errors += f" (+{state.internal_errors} internal: {escape(state.last_error)})"
        self.update(
            f"{run}  [b]{snap.backend}[/b], shadow {snap.shadow or 'none'}  "
            f"seed {snap.seed}  slot {snap.slot}  {snap.pools} pools/{snap.tokens} tok  "
            f"{snap.updates_per_s:,.0f} upd/s  {errors}  mismatch {snap.mismatches}  "
            f"sweep {sweep}"
        )

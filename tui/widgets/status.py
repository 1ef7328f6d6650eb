"""The status bar: mode (PAPER / LIVE) and source (SIM / LIVE / REPLAY) as badges that
can't be missed, the session's health when it is not ok (DEGRADED / UNHEALTHY and the
first problem in words), then what matters most first (the line is cut on narrow
terminals): the operator's last answer, slot, clock, feeds (and any lagging the chain's
slot) and their commitment (processed in yellow: it may be rolled back), the evaluation's
backlog when the market outruns the machine, errors, then the details."""

from __future__ import annotations

import time

from rich.markup import escape
from textual.widgets import Static

from ..source import SnapshotView, UiState

SOURCE_STYLE = {"SIM": "black on cyan", "LIVE": "black on magenta", "REPLAY": "black on yellow"}
HEALTH_STYLE = {"degraded": "black on yellow", "unhealthy": "white on red"}
PROBLEM_CHARS = 36  # the first problem, cut so that the slot still shows at 80 columns
# the evaluation's backlog is shown once its oldest pool has waited this long (a turn
# evaluates what waits when it begins: more than a few turns' wait is the market
# outrunning the machine)
BACKLOG_SHOWN_S = 0.5


class StatusLine(Static):
    """One line: badges, then what runs and how fast."""

    _text: str | None = None  # the markup shown

    def show(
        self, snap: SnapshotView, state: UiState, backlog: tuple[int, float] = (0, 0.0)
    ) -> None:
        """Render ``snap`` and the app's ``state``; ``backlog``: the pools waiting to be
        evaluated and the oldest's wait (s), said when it is long."""
        mode = state.mode
        badge = "white on red" if mode == "LIVE" else "black on green"
        parts = [f"[b {badge}] {mode} [/]"]
        if state.halted:
            parts.append("[b white on red] HALTED [/]")
        kind = snap.kind
        parts.append(f"[b {SOURCE_STYLE.get(kind, 'reverse')}] {kind} [/]")
        # the session's health verdict (the one /health serves): shown only when not ok
        health = snap.health
        if health in HEALTH_STYLE:
            parts.append(f"[b {HEALTH_STYLE[health]}] {health.upper()} [/]")
            problems = snap.problems
            if problems:
                first = problems[0]
                if len(first) > PROBLEM_CHARS:
                    first = first[: PROBLEM_CHARS - 1] + "…"
                parts.append(escape(first))
        source = snap.source
        if kind == "REPLAY" and source.startswith("REPLAY"):
            source = source[len("REPLAY") :].strip()
            parts.append(escape(source))  # position, speed, frame: the replay's clock
        if state.paused:
            parts.append("[b]PAUSED[/]")
        if state.message:
            parts.append(f"[b]{escape(state.message)}[/b]")
        if snap.note:
            parts.append(f"[b]{escape(snap.note)}[/b]")
        parts.append(f"slot {snap.slot}")
        parts.append(time.strftime("%H:%M:%S", time.gmtime(state.clock())) + "Z")
        if snap.feeds:
            up = sum(f.connected for f in snap.feeds)
            lead = max(snap.feeds, key=lambda f: f.lead)
            line = f"feeds {up}/{len(snap.feeds)} up, lead {escape(lead.name)}"
            lagging = [f for f in snap.feeds if f.connected and f.lagging]
            if lagging:  # its slot far behind the chain's, or stopped
                line += (
                    "[b yellow], lagging "
                    + ", ".join(f"{escape(f.name)} {f.behind:,}" for f in lagging)
                    + "[/]"
                )
            parts.append(line)
        if snap.commitment:  # processed is faster and may be rolled back: say which
            style = "b yellow" if snap.commitment == "processed" else "b"
            parts.append(f"[{style}]{escape(snap.commitment)}[/]")
        waiting, age = backlog
        if waiting and age >= BACKLOG_SHOWN_S:  # the market outruns the machine
            parts.append(f"[b yellow]behind: {waiting:,} pools waiting, oldest {age:.1f} s[/]")
        errors = f"errors {snap.errors}"
        if state.internal_errors:
            errors += f" (+{state.internal_errors} internal: {escape(state.last_error)})"
        parts.append(errors)
        mism = f"mismatch {snap.mismatches}"
        parts.append(f"[b red]{mism}[/]" if snap.mismatches else mism)
        if snap.refused:  # pools the engine will not route through, and why
            n = sum(c for _, _, c in snap.refused)
            why = ", ".join(
                f"{snap.names.symbol(m)}: {'/'.join(ext)}" for m, ext, _ in snap.refused
            )
            parts.append(f"[b yellow]{n} pools refused[/] ({escape(why)})")
        if kind != "REPLAY":
            parts.append(escape(source))
        sid = snap.session_id
        if sid and kind != "REPLAY":
            parts.append(f"session {escape(sid)}")
        if kind == "SIM":
            parts.append(f"seed {snap.seed}")
        parts.append(f"[b]{snap.backend}[/b]/{snap.shadow or 'no shadow'}")
        parts.append(f"{snap.pools} pools  {snap.updates_per_s:,.0f} upd/s")
        text = "  ".join(parts)
        if text != self._text:
            self._text = text
            # one line high whatever it says (``#status``): no layout pass for the screen
            self.update(text, layout=False)

"""arbscope's first screen: live cycles from the engine and Rust-vs-Python timings.

Panels redraw on a fixed interval from the market's latest snapshot, never per update.
The full dashboard (feeds, fees, portfolio, replay) comes in later issues.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Static

from arbscope.market import SimMarket
from themes import register_themes

FRAME_S = 0.2  # at most 5 redraws a second


def _us(ns: float | None) -> str:
    return "—" if ns is None else f"{ns / 1000:,.1f}"


class ArbscopeApp(App[None]):
    """Live cycles and kernel timings on a seeded in-process market."""

    CSS_PATH = "../themes/arbscope.tcss"
    TITLE = "arbscope"
    BINDINGS: ClassVar = [("q", "quit", "Quit"), ("space", "toggle_pause", "Pause")]

    def __init__(self, seed: int = 7) -> None:
        super().__init__()
        self.market = SimMarket(seed=seed)
        self.paused = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static(id="status")
            yield DataTable(id="cycles", cursor_type="row")
            yield DataTable(id="timings")
        yield Footer()

    def on_mount(self) -> None:
        register_themes(self)
        cycles = self.query_one("#cycles", DataTable)
        cycles.border_title = "Cycles (sorted by net profit)"
        cycles.add_columns("path", "hops", "size in", "gross", "net", "bps", "persist", "go / why")
        timings = self.query_one("#timings", DataTable)
        timings.border_title = "Rust vs Python (µs)"
        timings.add_columns(
            "kernel", "active p50", "active p99", "other p50", "speedup", "mismatches"
        )
        self.set_interval(FRAME_S / 2, self._tick)
        self.set_interval(FRAME_S, self._redraw)
        self._tick()
        self._redraw()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused

    def _tick(self) -> None:
        if not self.paused:
            try:
                self.market.tick()
            except Exception as exc:  # never a traceback on the operator's screen
                self.market.snapshot.errors += 1
                self.notify(f"engine error: {exc}", severity="error")

    def _redraw(self) -> None:
        m = self.market
        snap = m.snapshot
        other = m.timer.other.BACKEND if m.timer.other is not None else "none"
        state = "PAUSED" if self.paused else "LIVE"
        self.query_one("#status", Static).update(
            f"[b]{state}[/b]  source SIM  seed {m.seed}  engine [b]{m.eng.BACKEND}[/b] "
            f"(shadow: {other})  slot {snap.slot}  pools {len(m.graph)}  "
            f"tokens {len(m.graph.tokens())}  updates {snap.updates}  errors {snap.errors}"
        )
        cycles = self.query_one("#cycles", DataTable)
        want = {}
        for o, s in snap.opportunities:
            key = "|".join(o.pools) + o.base_mint
            path = "→".join(t[:4] for t in o.tokens)
            why = "GO" if s.go else ", ".join(s.reasons)
            want[key] = (
                path,
                str(o.hops),
                f"{o.amount_in:,}",
                f"{o.profit:,}",
                f"{s.net_profit:,}",
                f"{s.net_profit_bps:.1f}",
                str(o.persistence),
                why,
            )
        existing = {str(k.value) for k in cycles.rows}
        for key in existing - want.keys():
            cycles.remove_row(key)
        for key, row in want.items():
            if key in existing:
                for col, value in zip(cycles.columns, row):
                    cycles.update_cell(key, col, value)
            else:
                cycles.add_row(*row, key=key)
        cycles.sort(cycles.ordered_columns[4].key, key=lambda v: -int(str(v).replace(",", "")))
        timings = self.query_one("#timings", DataTable)
        active = m.eng.BACKEND
        for name, st in sorted(m.timer.stats.items()):
            p50, p99 = st.percentile(active, 0.5), st.percentile(active, 0.99)
            o50 = st.percentile(other, 0.5)
            speed = f"{o50 / p50:,.0f}×" if (p50 and o50) else "—"
            trow = (name, _us(p50), _us(p99), _us(o50), speed, str(st.mismatches))
            if name in {str(k.value) for k in timings.rows}:
                for col, value in zip(timings.columns, trow):
                    timings.update_cell(name, col, value)
            else:
                timings.add_row(*trow, key=name)

"""The cycle detail: each hop's amounts and pool, and the arithmetic behind the score."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine_rs.records import Opportunity, Score

from ..widgets.palette import Palette


def detail(o: Opportunity, s: Score, palette: Palette, fees: Any = None) -> Table:
    """The tables of the detail view; net profit and the decision in the theme's profit
    and loss colours (``palette``)."""
    hops = Table(title="hops", expand=True, title_justify="left")
    for col in ("#", "pool", "kind", "in", "token in", "out", "token out", "rate"):
        hops.add_column(col, justify="right" if col in ("#", "in", "out", "rate") else "left")
    # hop_amounts: what enters each hop, then what comes out of the last one
    amounts = list(o.hop_amounts)
    ins, outs = amounts[:-1], amounts[1:]
    for i, (pool, kind) in enumerate(zip(o.pools, o.kinds)):
        if i >= len(ins):
            break
        rate = outs[i] / ins[i] if ins[i] else float("nan")
        hops.add_row(str(i + 1), pool[:10] + "…", kind, f"{ins[i]:,}", o.tokens[i][:8],
                     f"{outs[i]:,}", o.tokens[i + 1][:8], f"{rate:.6g}")  # fmt: skip
    calc = Table.grid(padding=(0, 2))
    calc.add_column(justify="left")
    calc.add_column(justify="right")
    calc.add_column(justify="left", style="dim")
    calc.add_row("amount in (optimal size)", f"{o.amount_in:,}", f"base {o.base_mint[:8]}…")
    calc.add_row("amount out", f"{o.amount_out:,}", f"after {o.hops} hops")
    calc.add_row("gross profit = out − in", f"{s.gross_profit:,}",
                 f"{o.profit_bps:.2f} bps of the size")  # fmt: skip
    calc.add_row("base fee", f"{s.base_fee_lamports:,}", "lamports (5,000 per signature)")
    cu = ""
    if fees is not None:
        cu = f"{fees.cu_limit:,} CU × {fees.cu_price_micro_lamports:,} µL/CU"
    calc.add_row("+ priority fee", f"{s.priority_fee_lamports:,}", cu or "lamports")
    calc.add_row("+ tip", f"{s.tip_lamports:,}", "lamports")
    calc.add_row("= total fees", f"{s.total_fee_lamports:,}", "lamports")
    calc.add_row("fees in the base token", f"{s.fees_in_base:,}", "at the cycle's own rates")
    net_style = f"bold {palette.profit if s.net_profit > 0 else palette.loss}"
    calc.add_row(
        Text("net profit = gross − fees", style="bold"),
        Text(f"{s.net_profit:,}", style=net_style),
        f"{s.net_profit_bps:.2f} bps",
    )
    calc.add_row("persistence", f"{s.persistence}", "profitable evaluations in a row")
    calc.add_row("staleness", f"{s.staleness_slots}", "slots since the oldest pool update")
    verdict = (Text("GO", style=f"bold {palette.profit}") if s.go
               else Text("NO-GO", style=f"bold {palette.loss}"))  # fmt: skip
    calc.add_row(
        Text("decision", style="bold"), verdict, ", ".join(s.reasons) or "every check passed"
    )
    outer = Table.grid()
    outer.add_row(Text("→".join(t[:6] for t in o.tokens), style="bold"))
    outer.add_row(hops)
    outer.add_row(Text("score", style="bold"))
    outer.add_row(calc)
    return outer


class CycleDetail(ModalScreen[None]):
    """``enter`` on a cycle; ``escape`` or ``enter`` closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "dismiss", "Close"),
    ]

    def __init__(self, o: Opportunity, s: Score, fees: Any = None) -> None:
        super().__init__()
        self.o, self.s, self.fees = o, s, fees

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static(detail(self.o, self.s, Palette.of(self.app), self.fees))

    def on_mount(self) -> None:
        self.query_one("#detail").border_title = "Cycle detail (esc to close)"

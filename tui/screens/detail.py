"""The cycle detail: each hop's amounts and pool, and the arithmetic behind the score —
with the compute units its transaction requests part by part and the price of SOL in its
base token that converted the fees (the figures the scorer used: ``SnapshotView.costs``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import Static

from engine_rs.records import Opportunity, Score

from ..source import CycleCostView, LamportPriceView, TokenNames
from ..widgets.cycles import hop_labels, no_price
from ..widgets.palette import Palette


def price_text(p: LamportPriceView, names: TokenNames | None) -> str:
    """``1 SOL = 151.23 USDC via SOL→USDC (7xKX9p…): 151,230,001/1,000,000,000 raw per
    lamport``: the price and the exact ratio the fees were converted with."""

    def sym(m: str) -> str:
        return names.symbol(m) if names is not None else m[:6]

    if not p.pools and p.num == p.den:
        return "the base is SOL: fees count as they are (1/1)"
    one = names.amount(p.base, p.per_sol()) if names is not None else f"{p.per_sol():,}"
    via = ""
    if p.pools:
        through = "→".join(sym(t) for t in p.tokens)
        via = f" via {through} ({', '.join(q[:6] + '…' for q in p.pools)})"
    return f"1 SOL = {one}{via}: {p.num:,}/{p.den:,} raw per lamport"


def detail(
    o: Opportunity,
    s: Score,
    palette: Palette,
    cost: CycleCostView | None = None,
    names: TokenNames | None = None,
    coverage: Mapping[str, int] | None = None,
    endpoints: int = 0,
    labels: Mapping[str, str] | None = None,
    unsendable: str = "",
    narrow: bool = False,
) -> Table:
    """The tables of the detail view; net profit and the decision in the theme's profit
    and loss colours (``palette``). ``cost``: the cycle's fee context, compute units and
    price of SOL in its base token, as the scorer used them. Amounts raw (base units, as
    the engine computed them) and, with ``names``, in units of their token. With
    ``coverage`` (per pool, the endpoints subscribed to all its accounts, of
    ``endpoints``) each hop says how many endpoints feed its pool: 0 is a pool whose state
    nothing updates (in the loss colour). ``narrow``: the hops without their raw amounts
    (an 80-column screen: the score below has them)."""

    def sym(mint: str) -> str:
        return names.symbol(mint) if names is not None else mint[:8]

    def units(mint: str, raw: int) -> str:
        return names.amount(mint, raw) if names is not None else ""

    hops = Table(title="hops", expand=True, title_justify="left")
    cols = ("#", "pool", "kind", "feeds", "in (raw)", "in", "out (raw)", "out", "rate")
    keep = [c for c in cols if not (narrow and "raw" in c)]
    for col in keep:
        hops.add_column(
            col,
            justify="left" if col in ("pool", "kind") else "right",
            no_wrap=col in ("#", "pool", "kind", "feeds"),
        )
    # hop_amounts: what enters each hop, then what comes out of the last one
    amounts = list(o.hop_amounts)
    ins, outs = amounts[:-1], amounts[1:]
    for i, (pool, kind) in enumerate(zip(o.pools, hop_labels(o, labels))):
        if i >= len(ins):
            break
        rate = outs[i] / ins[i] if ins[i] else float("nan")
        tin, tout = o.tokens[i], o.tokens[i + 1]
        fed: str | Text = "—"
        if coverage and pool in coverage:
            n = coverage[pool]
            fed = Text(f"{n}/{endpoints}", style=palette.loss if n == 0 else "")
        cells = (
            str(i + 1),
            pool[:10] + "…",
            kind,
            fed,
            f"{ins[i]:,}",
            units(tin, ins[i]) or sym(tin),
            f"{outs[i]:,}",
            units(tout, outs[i]) or sym(tout),
            f"{rate:.6g}",
        )
        row = dict(zip(cols, cells, strict=True))
        hops.add_row(*(row[c] for c in keep))
    calc = Table.grid(padding=(0, 2))
    calc.add_column(justify="left")
    calc.add_column(justify="right")
    calc.add_column(justify="left", style="dim")
    base = o.base_mint

    def both(raw: int, note: str) -> str:
        u = units(base, raw)
        usd = names.usd_text(base, raw) if names is not None else ""
        return "  ".join(x for x in (u, usd, note) if x)

    calc.add_row(
        "amount in (optimal size)",
        f"{o.amount_in:,}",
        both(o.amount_in, f"base {sym(base)} ({base[:8]}…)"),
    )
    calc.add_row("amount out", f"{o.amount_out:,}", both(o.amount_out, f"after {o.hops} hops"))
    calc.add_row(
        "gross profit = out − in",
        f"{s.gross_profit:,}",
        both(s.gross_profit, f"{o.profit_bps:.2f} bps of the size"),
    )
    calc.add_row("base fee", f"{s.base_fee_lamports:,}", "lamports (5,000 per signature)")
    fees = cost.fees if cost is not None else None
    cu = ""
    if fees is not None:
        cu = f"lamports: {fees.cu_limit:,} CU × {fees.cu_price_micro_lamports:,} µL/CU"
    calc.add_row("+ priority fee", f"{s.priority_fee_lamports:,}", cu or "lamports")
    if cost is not None:
        calc.add_row("  compute units", f"{cost.budget.limit:,}", _cu_note(cost, o, labels))
    calc.add_row("+ tip", f"{s.tip_lamports:,}", "lamports")
    calc.add_row("= total fees", f"{s.total_fee_lamports:,}", "lamports")
    missing = no_price(s)
    if missing:
        calc.add_row(
            "price of SOL",
            Text("none", style=palette.loss),
            f"no pool path from SOL to {sym(base)} in the graph: the fees cannot be converted",
        )
        calc.add_row("fees in the base token", Text("?", style=palette.loss), "not converted")
        calc.add_row(
            Text("net profit = gross − fees", style="bold"),
            Text("?", style=f"bold {palette.loss}"),
            f"not known: at most the gross, {units(base, s.gross_profit)}",
        )
    else:
        if cost is not None and cost.price is not None:
            calc.add_row("price of SOL", "", price_text(cost.price, names))
        calc.add_row(
            "fees in the base token",
            f"{s.fees_in_base:,}",
            both(s.fees_in_base, "the total at the price of SOL, rounded up"),
        )
        net_style = f"bold {palette.profit if s.net_profit > 0 else palette.loss}"
        calc.add_row(
            Text("net profit = gross − fees", style="bold"),
            Text(f"{s.net_profit:,}", style=net_style),
            both(s.net_profit, f"{s.net_profit_bps:.2f} bps"),
        )
    calc.add_row("persistence", f"{s.persistence}", "profitable evaluations in a row")
    calc.add_row("staleness", f"{s.staleness_slots}", "slots since the oldest pool update")
    verdict = (
        Text("GO", style=f"bold {palette.profit}")
        if s.go
        else Text("NO-GO", style=f"bold {palette.loss}")
    )
    calc.add_row(
        Text("decision", style="bold"), verdict, ", ".join(s.reasons) or "every check passed"
    )
    if unsendable:  # the scorer's GO is the economics; nothing can send this cycle yet
        calc.add_row(
            Text("transaction", style="bold"),
            Text("too big", style=palette.loss),
            unsendable + "; not traded",
        )
    outer = Table.grid()
    path = names.path(o.tokens) if names is not None else "→".join(t[:6] for t in o.tokens)
    outer.add_row(Text(path, style="bold"))
    outer.add_row(hops)
    outer.add_row(Text("score", style="bold"))
    outer.add_row(calc)
    return outer


def _cu_note(cost: CycleCostView, o: Opportunity, labels: Mapping[str, str] | None) -> str:
    """The limit part by part, each hop named by its venue with the steps its quote
    crosses at the cycle's size: ``5,000 + 70,600 wp 2 steps + 55,000 cp + 30,000 × 1
    account = 160,600 (each hop at its quote's steps)``; the configured limit when one
    replaces them (``fees.cu_limit``)."""
    b = cost.budget
    if b.override or len(b.hops) != len(o.pools):
        return b.text()
    steps = list(b.steps) if len(b.steps) == len(b.hops) else [None] * len(b.hops)

    def hop(h: int, k: str, st: int | None) -> str:
        if st is None:
            return f"{h:,} {k} (its most)"
        return f"{h:,} {k}" + (f" {st} step{'s' if st > 1 else ''}" if st else "")

    parts = [f"{b.base:,}"] + [
        hop(h, k, st) for h, k, st in zip(b.hops, hop_labels(o, labels), steps, strict=True)
    ]
    if b.accounts:
        parts.append(f"{b.per_account:,} × {b.accounts} account{'s' if b.accounts > 1 else ''}")
    total = b.base + sum(b.hops) + b.per_account * b.accounts
    capped = " (the runtime's cap)" if b.limit < total else ""
    return " + ".join(parts) + f" = {b.limit:,}{capped} (each hop at its quote's steps)"


# columns: the hops table leaves out the raw amounts; a rival's hop puts its figures on
# lines of their own, no raw amounts
NARROW_BELOW = 110


class TableDetail(ModalScreen[None]):
    """A detail table in a scrolling modal, laid out again for each width (narrower than
    ``NARROW_BELOW`` columns: ``table``'s narrow form); ``escape``, ``enter`` or ``q``
    closes. ``table(palette, narrow)`` draws it; ``TOP`` is the border's title."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "dismiss", "Close"),
    ]
    TOP: ClassVar[str] = "Detail"

    def table(self, palette: Palette, narrow: bool) -> Table:
        raise NotImplementedError

    def _view(self, width: int) -> Table:
        return self.table(Palette.of(self.app), width < NARROW_BELOW)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static(self._view(self.app.size.width), id="detail-body")

    def on_mount(self) -> None:
        self.query_one("#detail").border_title = f"{self.TOP} (esc to close)"

    def on_resize(self, event: Resize) -> None:
        self.query_one("#detail-body", Static).update(self._view(event.size.width))


class CycleDetail(TableDetail):
    """``enter`` on a cycle (``o``): ``table`` draws its :func:`detail` with what the
    snapshot knows of it."""

    TOP = "Cycle detail"

    def __init__(self, o: Opportunity, table: Callable[[Palette, bool], Table]) -> None:
        super().__init__()
        self.o, self._table = o, table

    def table(self, palette: Palette, narrow: bool) -> Table:
        return self._table(palette, narrow)

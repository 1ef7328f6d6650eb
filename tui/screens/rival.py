"""A rival arbitrage's detail (``enter`` on a row of the Rivals panel): the transaction —
signature, signer and label, slot and position in the block, each hop (venue, pool, mint
in -> out, amounts in units and raw), the fee split, compute budget and Jito tip, the
profit — and our side of it: did we hold the cycle and since which slot, our verdict, our
bid against theirs, whether we traded, and our state of its pools (each pool's spot rate
after fees as our graph held it when the transaction was read, with that state's slot)."""

from __future__ import annotations

import math

from rich.table import Table
from rich.text import Text

from ..source import RivalHopView, RivalRowView, TokenNames
from ..widgets.palette import Palette
from ..widgets.rivals import SOL, outcome_text, path_text, short
from .detail import TableDetail


def _scale(names: TokenNames | None, mint_in: str, mint_out: str) -> float | None:
    """Raw out per raw in -> units out per unit in: 10^(decimals in - decimals out)."""
    if names is None:
        return None
    din, dout = names.decimals(mint_in), names.decimals(mint_out)
    if din is None or dout is None:
        return None
    return 10.0 ** (din - dout)


def _rate(v: float | None) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{v:.6g}"


def their_rate(h: RivalHopView, names: TokenNames | None) -> float | None:
    """What the hop paid: units out per unit in (None: an amount or decimals not known)."""
    if not h.amount_in or h.amount_out is None:
        return None
    k = _scale(names, h.mint_in, h.mint_out)
    return None if k is None else h.amount_out / h.amount_in * k


def our_rate(h: RivalHopView, names: TokenNames | None) -> float | None:
    """Our graph's spot rate after fees for the hop, in units out per unit in."""
    if h.our_rate is None:
        return None
    k = _scale(names, h.mint_in, h.mint_out)
    return None if k is None else h.our_rate * k


def state_text(h: RivalHopView, slot: int, palette: Palette) -> Text:
    """The slot of our state of the pool against theirs: ``3 before``, ``same slot``,
    ``2 after`` (their trade may be in it), ``not in our graph``."""
    if h.state_slot is None:
        return Text("not in our graph", style=palette.muted)
    d = slot - h.state_slot
    if d > 0:
        return Text(f"{h.state_slot} ({d} before)")
    if d == 0:
        return Text(f"{h.state_slot} (same slot)", style=palette.warning)
    return Text(f"{h.state_slot} ({-d} after)", style=palette.warning)


def gap_text(r: RivalRowView) -> str:
    """Our graph's spot rates multiplied around their path (a cycle: raw units cancel):
    the gap our state showed, in bps before size and costs; "" when a hop has none."""
    if not r.hops or any(h.our_rate is None for h in r.hops):
        return ""
    if r.hops[0].mint_in != r.hops[-1].mint_out:
        return ""
    product = 1.0
    for h in r.hops:
        product *= h.our_rate or 0.0
    if not math.isfinite(product):
        return ""
    bps = (product - 1.0) * 1e4
    slots = [h.state_slot for h in r.hops if h.state_slot is not None]
    lo, hi = min(slots), max(slots)
    at = f"slot {lo}" if lo == hi else f"slots {lo}–{hi}"
    when = (
        "all before theirs"
        if hi < r.slot
        else "their trade may be in it: a state from their slot or later"
    )
    return (
        f"×{product:.6f} around their path ({bps:+.1f} bps at the spot rates after fees, "
        f"before size and costs), our states of {at} ({when})"
    )


def rival_detail(
    r: RivalRowView,
    palette: Palette,
    names: TokenNames | None = None,
    labels: dict[str, str] | None = None,
    venue_labels: dict[str, str] | None = None,
    narrow: bool = False,
) -> Table:
    """The tables of the rival detail (see the module docstring). Amounts raw (as the
    transaction's meta has them) and, with ``names``, in units of their token."""
    labels, venue_labels = labels or {}, venue_labels or {}

    def units(mint: str, raw: int | None, symbol: bool = True) -> str:
        if raw is None:
            return "?"
        return names.amount(mint, raw, symbol) if names is not None and mint else f"{raw:,}"

    def sym(mint: str) -> str:
        if not mint:
            return "?"
        return names.symbol(mint) if names is not None else mint[:6]

    # ------------------------------------------------ the transaction
    tx = Table.grid(padding=(0, 2))
    tx.add_column(justify="left", style="bold")
    tx.add_column(justify="left")
    tx.add_row("signature", r.signature)
    label = labels.get(r.signer, "")
    tx.add_row("signer", r.signer + (f"  “{label}”" if label else "  (no label)"))
    where = f"position {r.index} in the block" if r.index is not None else "position not known"
    tx.add_row("slot", f"{r.slot}, {where}")
    kind = (
        Text("arbitrage landed", style=palette.profit)
        if r.landed
        else Text("failed attempt (its swaps undone, its fee paid)", style=palette.loss)
    )
    tx.add_row("kind", kind)

    # ------------------------------------------------ the hops
    hops = Table(title="hops", expand=True, title_justify="left")
    if narrow:  # a hop per row, its figures on lines of their own (80 columns)
        hops.add_column("#", justify="right", no_wrap=True)
        hops.add_column("venue, pool", no_wrap=True)
        hops.add_column("in → out · their rate · our spot at our state's slot")
        for i, h in enumerate(r.hops):
            line = Text(f"{units(h.mint_in, h.amount_in)} → {units(h.mint_out, h.amount_out)}\n")
            line.append(f"theirs {_rate(their_rate(h, names))} · ours {_rate(our_rate(h, names))}")
            line.append(" at slot " if h.state_slot is not None else " · ")
            line.append_text(state_text(h, r.slot, palette))
            hops.add_row(
                str(i + 1), f"{venue_labels.get(h.venue, h.venue)}\n{short(h.pool, 4)}", line
            )
    else:
        cols = (
            "#",
            "venue",
            "pool",
            "in",
            "in (raw)",
            "out",
            "out (raw)",
            "their rate",
            "our spot",
            "our state (slot)",
        )
        for c in cols:
            hops.add_column(
                c,
                justify="left" if c in ("venue", "pool", "our state (slot)") else "right",
                no_wrap=c in ("#", "venue", "in", "out"),
                overflow="ellipsis",
            )
        for i, h in enumerate(r.hops):
            hops.add_row(
                str(i + 1),
                venue_labels.get(h.venue, h.venue),
                h.pool[:12] + "…",
                units(h.mint_in, h.amount_in),
                "?" if h.amount_in is None else f"{h.amount_in:,}",
                units(h.mint_out, h.amount_out),
                "?" if h.amount_out is None else f"{h.amount_out:,}",
                _rate(their_rate(h, names)),
                _rate(our_rate(h, names)),
                state_text(h, r.slot, palette),
            )
    if r.hops:
        h0 = r.hops[0]
        hops.caption = (
            f"rates in {sym(h0.mint_out)} per {sym(h0.mint_in)} and so on, units out per "
            "unit in; their rate is what the hop paid (size and price impact in it), our "
            "spot the pool's rate after fees in our graph when their transaction was read; "
            f"amounts from: {', '.join(sorted({h.source for h in r.hops}))}"
        )
        hops.caption_justify = "left"

    # ------------------------------------------------ their money
    money = Table.grid(padding=(0, 2))
    money.add_column(justify="left")
    money.add_column(justify="right")
    money.add_column(justify="left", style="dim")
    base = r.base
    money.add_row("amount in", f"{r.amount_in:,}", units(base, r.amount_in))
    money.add_row("amount out", f"{r.amount_out:,}", units(base, r.amount_out))
    if r.landed:
        money.add_row(
            Text("profit (before costs)", style="bold"),
            Text(f"{r.profit:,}", style=f"bold {palette.pnl(r.profit)}"),
            f"{units(base, r.profit)}: the signer's gain in {sym(base)}, fee and tip added back",
        )
    else:
        money.add_row("profit", Text("—", style=palette.loss), "failed: nothing moved")
    money.add_row("base fee", f"{r.base_fee:,}", "lamports (5,000 per signature)")
    money.add_row(
        "+ priority fee",
        f"{r.priority_fee:,}",
        f"lamports: {r.cu_limit:,} CU × {r.cu_price:,} µL/CU",
    )
    money.add_row("  compute budget", f"{r.cu_limit:,}", f"CU requested, at {r.cu_price:,} µL/CU")
    to = f" to {short(r.tip_account)}" if r.tip_account else ""
    money.add_row("+ Jito tip", f"{r.tip:,}", f"lamports{to}" if r.tip else "none")
    total = r.fee + r.tip
    money.add_row("= costs", f"{total:,}", f"lamports ({units(SOL, total)})")
    if r.net is not None and r.landed:
        note = "after fee and tip" if base == SOL else f"in {sym(base)}: the costs are SOL"
        money.add_row(
            Text("net", style="bold"),
            Text(f"{r.net:,}", style=f"bold {palette.pnl(r.net)}"),
            f"{units(base, r.net)} {note}",
        )
    money.add_row(
        "their bid", f"{r.priority:,}", "µL/CU: tip per requested CU + CU price (leader's order)"
    )

    # ------------------------------------------------ our side
    us = Table.grid(padding=(0, 2))
    us.add_column(justify="left", style="bold")
    us.add_column(justify="left")
    if r.held:
        same = sorted(r.our_pools) == sorted(r.pools)
        which = "through the same pools" if same else "through some of the same pools"
        pools = ", ".join(short(p) for p in r.our_pools)
        us.add_row("held", f"yes: our cycle from {sym(r.our_base)} {which} ({pools})")
        if r.since is not None:
            us.add_row(
                "since",
                f"slot {r.since}: {r.lead or 0} slot{'s' if (r.lead or 0) != 1 else ''} "
                "before they landed (our lead)",
            )
        go = "" if r.first_go is None else f" (first GO at slot {r.first_go})"
        verdict = Text(
            r.verdict or "—", style=f"bold {palette.profit}" if r.verdict == "GO" else ""
        )
        us.add_row("our verdict", verdict + Text(go))
        if r.our_priority is not None:
            if r.ahead:
                bid = "ahead of theirs (the landing model's estimate)"
            elif r.ahead is False:
                bid = "not ahead of theirs"
            else:
                bid = ""
            us.add_row(
                "our bid vs theirs",
                f"{r.our_priority:,} vs {r.priority:,} µL/CU" + (f": {bid}" if bid else ""),
            )
        if r.our_net is not None:
            us.add_row(
                "our last score",
                Text(f"net {units(r.our_base, r.our_net)}", style=palette.pnl(r.our_net)),
            )
    else:
        us.add_row(
            "held",
            Text(
                "no: no cycle of ours through these pools at or before their slot "
                "(a pool we do not watch, or a gap our graph never showed)",
                style=palette.muted,
            ),
        )
    us.add_row("traded", "yes: an order of ours on it in that run" if r.traded else "no")
    us.add_row("outcome", outcome_text(r, palette))
    gap = gap_text(r)
    if gap:
        us.add_row("our state of its pools", gap)
    elif r.hops:
        us.add_row("our state of its pools", Text("not every pool's rate known", style="dim"))

    outer = Table.grid()
    path = path_text(r, names) if names is not None else "→".join(r.venues)
    outer.add_row(Text(f"{path}  by {labels.get(r.signer) or short(r.signer)}", style="bold"))
    outer.add_row(tx)
    outer.add_row(hops)
    outer.add_row(Text("their money", style="bold"))
    outer.add_row(money)
    outer.add_row(Text("our side", style="bold"))
    outer.add_row(us)
    return outer


class RivalDetail(TableDetail):
    """``enter`` on a rival arbitrage; ``escape`` (or ``enter``, ``q``) closes."""

    TOP = "Rival arbitrage"

    def __init__(
        self,
        r: RivalRowView,
        names: TokenNames | None = None,
        labels: dict[str, str] | None = None,
        venue_labels: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.r, self.names = r, names
        self.labels, self.venue_labels = labels, venue_labels

    def table(self, palette: Palette, narrow: bool) -> Table:
        return rival_detail(
            self.r, palette, self.names, self.labels, self.venue_labels, narrow=narrow
        )

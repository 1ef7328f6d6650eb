"""The Rivals panel: who lands arbitrage on our pools, and how we compare.

Two tables side by side (one above the other when ``compact``: the narrow layout's tab
shows the list only, the top signer in its subtitle):

- **the signers** by profit in the window: our own row first (``us``: the arbitrage we
  landed on our pools), then each signer (its label from the labels file or the wallets
  its source knows, ``sim fast`` for the simulator's bots, else its short address),
  arbitrages landed, failed attempts, profit in the base token (units, from the
  snapshot's token book), tips in SOL and its share of the arbitrage landed on our pools
  (ours included: the shares add up to 100 %);
- **the latest rival arbitrages**, newest first: slot, path (token symbols), venues,
  signer, size in, profit, tip, our lead in slots (we held the cycle that many slots
  before they landed; ``—``: we never held it) and the outcome, coloured: ``ours`` (we
  traded it) in the theme's profit colour, ``speed`` (we called GO and were not first)
  amber, ``no-go: <check>`` dim, ``unseen`` grey; a failed attempt's profit reads
  ``failed``. ``enter`` opens one (``tui.screens.rival``).

The panel reads ``SnapshotView.rivals`` only; its cells are recomputed when that view
changes (the tables update the cells that changed, never rebuild).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Resize

from ..source import RivalRowView, RivalsView, SignerTotalsView, TokenNames
from .palette import Palette
from .table import Cell, Column, KeyedTable, num

SOL = "So11111111111111111111111111111111111111112"  # tips and fees are lamports
US = "us"  # our own row's key among the signers (no address is this short)


def short(address: str, n: int = 4) -> str:
    """``7xKX…AsU``: an address in a column."""
    return address if len(address) <= 2 * n + 1 else f"{address[:n]}…{address[-n:]}"


def signer_name(signer: str, labels: Mapping[str, str]) -> str:
    """A signer's label (the labels file, a wallet its source knows), else its short
    address."""
    return labels.get(signer) or short(signer)


def venues_text(r: RivalRowView, venue_labels: Mapping[str, str]) -> str:
    """Each hop's venue by its short label: ``wp·cp``."""
    return "·".join(venue_labels.get(v, v[:4]) for v in r.venues)


def path_text(r: RivalRowView, names: TokenNames) -> str:
    """The tokens the hops go through: ``SOL→USDC→SOL`` (the venues where a mint is not
    known)."""
    hops = r.hops
    if hops and all(h.mint_in and h.mint_out for h in hops):
        return names.path([hops[0].mint_in, *(h.mint_out for h in hops)])
    return "→".join(r.venues) or "—"


def outcome_text(r: RivalRowView, palette: Palette) -> Text:
    """The outcome in its colour (see the module docstring)."""
    o = r.outcome
    if o == "ours":
        return Text(o, style=f"bold {palette.profit}")
    if o == "speed":
        return Text("speed (GO)", style=palette.warning)
    if o.startswith("no-go"):
        return Text(o, style="dim")
    return Text(o or "—", style=palette.muted)


def lead_text(r: RivalRowView) -> Text:
    """Our lead in slots (``+3``: we held it 3 slots before they landed), ``—`` unseen."""
    if r.lead is None:
        return Text("—", justify="right")
    return Text(f"{r.lead:+d}" if r.lead else "0", justify="right")


def profit_text(names: TokenNames, mints: Mapping[str, int], palette: Palette) -> Text:
    """A signer's profit: in units of its base token (``0.012 SOL``); over several bases
    their sum in USD where each has a price (``≈$3.72``), else the first base's and how
    many more (``0.012 SOL +1``); ``—`` when none."""
    if not mints:
        return Text("—", justify="right")
    if len(mints) == 1:
        (base, raw), *_ = mints.items()
        return Text(names.amount(base, raw), justify="right", style=palette.pnl(raw))
    usd = [names.usd(m, raw) for m, raw in mints.items()]
    if all(u is not None and math.isfinite(u) for u in usd):  # in USD, summed
        total = sum(u for u in usd if u is not None)
        return Text(f"≈${total:,.2f}", justify="right", style=palette.pnl(-1 if total < 0 else 0))
    base = sorted(mints, key=lambda m: (names.symbol(m), m))[0]
    raw = mints[base]
    text = f"{names.amount(base, raw)} +{len(mints) - 1}"
    return Text(text, justify="right", style=palette.pnl(raw))


def row_cells(
    r: RivalRowView,
    palette: Palette,
    names: TokenNames,
    labels: Mapping[str, str],
    venue_labels: Mapping[str, str],
) -> tuple[Cell, ...]:
    """One rival arbitrage's row (the columns of :class:`RivalsTable`)."""
    if r.landed:
        profit = Text(
            names.amount(r.base, r.profit, symbol=False),
            justify="right",
            style=palette.pnl(r.profit),
        )
    else:
        profit = Text("failed", justify="right", style=palette.loss)
    return (
        num(r.slot, "d"),
        path_text(r, names),
        venues_text(r, venue_labels),
        signer_name(r.signer, labels),
        # the base is the path's first token: amounts without its symbol
        Text(names.amount(r.base, r.amount_in, symbol=False), justify="right"),
        profit,
        Text(names.amount(SOL, r.tip, symbol=False) if r.tip else "—", justify="right"),
        lead_text(r),
        outcome_text(r, palette),
    )


def share_text(n: int, total: int) -> Text:
    return Text(f"{n / total:.0%}" if total else "—", justify="right")


def signer_cells(
    t: SignerTotalsView, total: int, palette: Palette, names: TokenNames
) -> tuple[Cell, ...]:
    """One signer's row (the columns of :class:`SignersTable`)."""
    name = Text(t.label, style="bold") if t.label else Text(short(t.signer))
    return (
        name,
        num(t.landed),
        num(t.failed),
        profit_text(names, t.profit, palette),
        Text(names.amount(SOL, t.tips, symbol=False) if t.tips else "—", justify="right"),
        share_text(t.landed, total),
    )


def us_cells(view: RivalsView, total: int, palette: Palette) -> tuple[Cell, ...]:
    """Our own row: the arbitrage we landed on our pools in the window, our share."""
    return (
        Text("us (arbscope)", style=f"bold {palette.profit}"),
        num(view.ours),
        Text("", justify="right"),
        Text("", justify="right"),
        Text("", justify="right"),
        Text(share_text(view.ours, total).plain, justify="right", style=f"bold {palette.profit}"),
    )


def share_line(view: RivalsView) -> str:
    """``them 42 · us 18 · our share 30%``."""
    share = view.our_share
    ours = f"{share:.0%}" if share is not None else "—"
    return f"them {view.theirs:,} · us {view.ours:,} · our share {ours}"


def lead_line(view: RivalsView) -> str:
    """``lead p50 2 slots`` (nearest rank over the window's rivals we held), "" when none."""
    p50 = next((v for q, v in view.lead if q == 0.5), None)
    return "" if p50 is None else f"our lead p50 {p50:+d} slots"


class SignersTable(KeyedTable):
    """The signers by profit in the window, our own row first."""

    COLUMNS: Sequence[Column] = (
        ("signer", "signer", 14),
        ("landed", "arbs", 5),
        ("failed", "fail", 5),
        ("profit", "profit", 17),
        ("tips", "tips SOL", 9),
        ("share", "share", 6),
    )
    NUMERIC = frozenset({"landed", "failed", "profit", "tips", "share"})
    DROP = ("tips", "failed", "profit")  # a narrower table leaves these out, in order

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, title="Rivals: top signers")

    def on_resize(self, event: Resize) -> None:
        self.pick(self.fit(self.size.width, self.DROP, SCROLLBAR))

    def show(self, view: RivalsView, palette: Palette, names: TokenNames) -> None:
        total = view.theirs + view.ours
        rows: dict[str, tuple[Cell, ...]] = {US: us_cells(view, total, palette)}
        for t in view.top:
            rows[t.signer] = signer_cells(t, total, palette, names)
        self.sync(rows)
        hours = view.window_slots * 0.4 / 3600
        self.border_title = (
            f"Rivals: top signers (last {view.window_slots:,} slots ≈ {hours:.0f} h)"
        )
        self.border_subtitle = share_line(view)


# the columns a narrower list leaves out, first dropped first
DROP_ORDER = ("signer", "venues", "slot", "tip", "size")
SCROLLBAR = 2  # columns kept for the vertical scrollbar (it appears with more rows)
PATH_MAX = 30  # the widest the path column grows into spare cells


class RivalsTable(KeyedTable):
    """The latest rival arbitrages, newest first (a row per transaction, by signature)."""

    COLUMNS: Sequence[Column] = (
        ("slot", "slot", 10),
        ("path", "path", 20),
        ("venues", "pools", 12),
        ("signer", "signer", 11),
        ("size", "size in", 12),
        ("profit", "profit", 12),
        ("tip", "tip SOL", 9),
        ("lead", "lead", 5),
        ("outcome", "ours?", 22),
    )
    NUMERIC = frozenset({"slot", "size", "profit", "tip", "lead"})

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, cursor=True, title="Rival arbitrages on our pools")
        self.by_key: dict[str, RivalRowView] = {}

    def on_resize(self, event: Resize) -> None:
        """The columns that fit the new width; the cells left over widen the path."""
        width = self.size.width
        keys = self.fit(width, DROP_ORDER, SCROLLBAR)
        used = sum(w for k, _, w in self.COLUMNS if k in keys)
        path = min(PATH_MAX, self.COLUMNS[1][2] + max(0, width - SCROLLBAR - used))
        self.pick(keys, {"path": path})

    def show(
        self,
        view: RivalsView,
        palette: Palette,
        names: TokenNames,
    ) -> None:
        rows: dict[str, tuple[Cell, ...]] = {}
        self.by_key = {}
        for r in view.latest:
            rows[r.signature] = row_cells(r, palette, names, view.labels, view.venue_labels)
            self.by_key[r.signature] = r
        self.sync(rows)
        n = f"{view.arbitrages:,} landed, {view.failed:,} failed"
        self.border_title = f"Rival arbitrages on our pools: {n}"

    def selected(self) -> RivalRowView | None:
        """The rival arbitrage under the cursor, if any."""
        keys = self.keys
        if not keys or not 0 <= self.cursor_row < len(keys):
            return None
        return self.by_key.get(keys[self.cursor_row])


class RivalsPanel(Vertical):
    """The signers and the latest rival arbitrages (``compact``: the list alone)."""

    def __init__(self, id: str | None = None, compact: bool = False) -> None:
        super().__init__(id=id)
        self.compact = compact
        self._last: tuple[object, object, Palette | None] = (None, None, None)

    def compose(self) -> ComposeResult:
        with Horizontal(id="rivals-row"):
            if not self.compact:
                yield SignersTable(id="rival-signers")
            yield RivalsTable(id="rival-list")

    @property
    def table(self) -> RivalsTable:
        return self.query_one(RivalsTable)

    def show(self, view: RivalsView, names: TokenNames) -> None:
        """Show ``view`` (a new view object or theme redraws the cells; the same one
        does nothing)."""
        palette = Palette.of(self.app)
        view0, names0, palette0 = self._last
        if view is view0 and names is names0 and palette == palette0:
            return
        self._last = (view, names, palette)
        table = self.table
        table.show(view, palette, names)
        lead = lead_line(view)
        tail = f"{view.seen:,} tx read · enter: detail"
        if self.compact:  # the share and the top signer in the list's own borders
            table.border_title = f"Rivals: {share_line(view)}"
            top = view.top[0] if view.top else None
            who = ""
            if top is not None:
                who = f"top {signer_name(top.signer, view.labels)} {top.landed:,} · "
            table.border_subtitle = who + (f"{lead} · " if lead else "") + tail
            return
        table.border_subtitle = (f"{lead} · " if lead else "") + tail
        self.query_one(SignersTable).show(view, palette, names)

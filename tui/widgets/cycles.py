"""The cycles panel: one row per profitable cycle, best net profit first, updated by row
key (never rebuilt); ``filter`` keeps the cycles through a token.

The columns are those that fit the panel's width, the decision (``go / no-go``) always
among them and last: a narrower panel drops the columns of :data:`DROP_ORDER` in order
(the hop count first; the path, size, net, persistence and decision stay), so the
decision is never scrolled off screen at any width from 80 columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.events import Resize

from engine_rs.records import REASON_NO_SOL_PRICE, Opportunity, Score

from ..source import TokenNames
from .palette import Palette
from .table import Cell, Column, KeyedTable, num

# a hop's label where the source does not name its pool's venue (the in-process demo):
# by its curve, ``Opportunity.kinds``
KIND_SHORT = {"cpmm": "cp", "clmm": "wp", "dlmm": "dlmm", "pump": "pump", "book": "ob"}


def row_key(o: Opportunity) -> str:
    """A cycle's identity: its base mint and pools (direction included)."""
    return o.base_mint + ":" + ",".join(o.pools)


def path_text(o: Opportunity, names: TokenNames) -> str:
    """``SOL→USDC→JUP→SOL``."""
    return names.path(o.tokens)


def _units(names: TokenNames, mint: str, raw: int, symbol: bool = False) -> Text:
    return Text(names.amount(mint, raw, symbol=symbol), justify="right")


def hop_labels(o: Opportunity, labels: Mapping[str, str] | None = None) -> list[str]:
    """Each hop's venue label (``labels``: per pool, from the source), else its curve's."""
    labels = labels or {}
    return [labels.get(p) or KIND_SHORT.get(k, k[:4]) for p, k in zip(o.pools, o.kinds)]


def kinds_text(o: Opportunity, labels: Mapping[str, str] | None = None) -> str:
    """Each hop's venue: ``cp·wp·v4·clmm·dlmm·pump`` (CP-Swap, Whirlpool, AMM v4,
    Raydium CLMM, Meteora DLMM, PumpSwap)."""
    return "·".join(hop_labels(o, labels))


def verdict(s: Score, palette: Palette, unsendable: str = "") -> Text:
    """GO in the theme's profit colour (dim with ``too big`` when one transaction cannot
    hold the cycle even through lookup tables: ``unsendable`` says why, and nothing
    trades it); else the first
    reason (and how many more)."""
    if s.go and unsendable:
        return Text("GO · too big", style="dim")
    if s.go:
        return Text("GO", style=f"bold {palette.profit}")
    more = f" +{len(s.reasons) - 1}" if len(s.reasons) > 1 else ""
    return Text(s.reasons[0] + more if s.reasons else "no-go", style="dim")


def no_price(s: Score) -> bool:
    """Whether the scorer had no price of SOL in the cycle's base token: its fees were
    not converted, so its net is not known."""
    return REASON_NO_SOL_PRICE in s.reasons


def cells(
    o: Opportunity,
    s: Score,
    palette: Palette,
    names: TokenNames,
    age: int = 0,
    labels: Mapping[str, str] | None = None,
    unsendable: str = "",
) -> tuple[Cell, ...]:
    """The row of one scored opportunity: amounts in units of the base token (the size
    with its symbol), the net profit also in USD where a stablecoin path exists. Without a
    price of SOL in the base token the fees say so and the net is not known (``?``)."""
    base = o.base_mint
    if no_price(s):
        fees: Cell = Text("no SOL px", justify="right", style=palette.loss)
        net: Cell = Text("?", justify="right", style=palette.loss)
        usd: Cell = Text("?", justify="right", style="dim")
    else:
        fees = _units(names, base, s.fees_in_base)
        net = _units(names, base, s.net_profit)
        usd = Text(names.usd_text(base, s.net_profit) or "—", justify="right")
    return (
        path_text(o, names),
        kinds_text(o, labels),
        num(o.hops),
        _units(names, base, o.amount_in, symbol=True),
        _units(names, base, o.profit),
        fees,
        net,
        usd,
        num(o.profit_bps, ",.1f"),
        num(age),
        num(s.persistence),
        verdict(s, palette, unsendable),
    )


def matches(o: Opportunity, text: str, names: TokenNames | None = None) -> bool:
    """Whether the cycle goes through a token (by symbol, any case, or mint) or a pool
    starting with ``text``."""
    t = text.strip()
    if not t:
        return True
    if any(x.startswith(t) for x in (*o.tokens, *o.pools)):
        return True
    return names is not None and any(
        names.symbol(m).upper().startswith(t.upper()) for m in o.tokens
    )


# the columns a narrower panel leaves out, first dropped first (those of COMPACT never)
DROP_ORDER = ("hops", "age", "gross", "bps", "usd", "kinds", "fees")
SCROLLBAR = 2  # columns kept for the vertical scrollbar (it appears with more rows)
PATH_MAX = 44  # the widest the path column grows into a wide panel's spare cells


class CyclesPanel(KeyedTable):
    """Live cycles, best net profit first: the columns that fit its width (``compact``:
    the fewest, until it knows its width)."""

    COLUMNS: Sequence[Column] = (
        ("path", "path", 24),
        ("kinds", "pools", 14),
        ("hops", "hops", 5),
        ("size", "size in", 17),
        ("gross", "gross", 12),
        ("fees", "fees", 12),
        ("net", "net", 12),
        ("usd", "net $", 10),
        ("bps", "bps", 7),
        ("age", "age", 5),
        ("persist", "pers", 5),
        ("go", "go / no-go", 18),
    )
    COMPACT = ("path", "size", "net", "persist", "go")
    NUMERIC = frozenset({"hops", "size", "gross", "fees", "net", "usd", "bps", "age", "persist"})

    def __init__(self, id: str | None = None, compact: bool = False) -> None:
        super().__init__(id=id, cursor=True, title="Cycles (best net first)")
        self.filter = ""
        self.names: TokenNames = _Raw()
        self.by_key: dict[str, tuple[Opportunity, Score]] = {}
        self._drawn: tuple[tuple[object, ...], tuple[object, ...]] | None = None  # show()'s last
        if compact:
            self.pick(self.COMPACT)

    def fitting(self, width: int) -> tuple[str, ...]:
        """The columns shown ``width`` cells wide: all, less those of DROP_ORDER in order
        until the rest fit (a scrollbar's width kept); never fewer than COMPACT, the
        decision always last."""
        return self.fit(width, DROP_ORDER, SCROLLBAR)

    def on_resize(self, event: Resize) -> None:
        """Show the columns that fit the new width; the cells they leave widen the path
        (a 4-hop path is 30 cells)."""
        width = self.size.width  # inside the border (the event's size is the outer one)
        keys = self.fitting(width)
        used = sum(w for k, _, w in self.COLUMNS if k in keys)
        base = self.COLUMNS[0][2]
        path = min(PATH_MAX, base + max(0, width - SCROLLBAR - used))
        self.pick(keys, {"path": path})

    def show(
        self,
        opportunities: Sequence[tuple[Opportunity, Score]],
        ages: Mapping[str, int] | None = None,
        names: TokenNames | None = None,
        labels: Mapping[str, str] | None = None,
        unsendable: Mapping[str, str] | None = None,
    ) -> None:
        """Make the rows those of ``opportunities`` (given best first) that pass the
        filter; ``labels``: each pool's venue label; ``unsendable``: per row key, why one
        transaction cannot hold the cycle."""
        names = names if names is not None else self.names
        self.names = names
        palette = Palette.of(self.app)  # after a theme swap the cells differ: sync rewrites them
        # the same snapshot's rows again (redraws outpace the session's turns): nothing to do
        drawn = (opportunities, ages, names, labels, unsendable)
        again = (self.filter, palette, self.shown)
        last = self._drawn
        if last is not None and last[1] == again and all(a is b for a, b in zip(last[0], drawn)):
            return
        self._drawn = (drawn, again)
        ages = ages or {}
        unsendable = unsendable or {}
        rows: dict[str, tuple[Cell, ...]] = {}
        self.by_key = {}
        for o, s in opportunities:
            if not matches(o, self.filter, names):
                continue
            k = row_key(o)
            row = cells(o, s, palette, names, ages.get(k, 0), labels, unsendable.get(k, ""))
            rows[k] = row
            self.by_key[k] = (o, s)
        self.sync(rows)
        title = "Cycles (best net first)"
        if self.filter:
            title += f" — through {self.filter}…: {len(rows)} of {len(opportunities)}"
        self.border_title = title

    def selected(self) -> tuple[Opportunity, Score] | None:
        """The cycle under the cursor, if any."""
        keys = self.keys
        if not keys or not 0 <= self.cursor_row < len(keys):
            return None
        return self.by_key.get(keys[self.cursor_row])


class _Raw:
    """Before the first snapshot: mints by prefix, raw amounts."""

    def symbol(self, mint: str) -> str:
        return mint[:4] + "…"

    def decimals(self, mint: str) -> int | None:
        return None

    def amount(self, mint: str, raw: int, symbol: bool = True) -> str:
        return f"{raw:,}" + (f" {self.symbol(mint)}" if symbol else "")

    def path(self, mints: Sequence[str]) -> str:
        return "→".join(self.symbol(m) for m in mints)

    def usd(self, mint: str, raw: int) -> float | None:
        return None

    def usd_text(self, mint: str, raw: int) -> str:
        return ""

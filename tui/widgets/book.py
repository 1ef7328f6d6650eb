"""Order books: the market list and one market's L2 ladder (the ``o`` screen).

The ladder puts bids and asks side by side, best first, each level with its size, the
size summed from the top, and a depth bar scaled to the deeper side's total over the
levels shown; above it the best bid and ask, the spread (in quote units and bps of the
mid), the mid, and the size resting on the top levels of each side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..source import BookLadderView, BookLevelView, TokenNames
from .palette import Palette
from .prices import price
from .table import Cell, Column, KeyedTable

LEVELS = 24  # ladder rows shown per side (as many as a snapshot keeps)
TOP = 5  # "size at the top levels": the first TOP levels of each side
BAR = 6  # depth bar width, in cells
BLOCKS = " ▏▎▍▌▋▊▉█"


def spread_bps(ladder: BookLadderView) -> float | None:
    """The spread in basis points of the mid (None on a one-sided or empty book)."""
    if ladder.spread is None or not ladder.mid:
        return None
    return ladder.spread / ladder.mid * 1e4


def pair(ladder: BookLadderView, names: TokenNames | None) -> str:
    """``SOL/USDC``: base / quote."""
    if names is None:
        return f"{ladder.base_mint[:4]}/{ladder.quote_mint[:4]}"
    return f"{names.symbol(ladder.base_mint)}/{names.symbol(ladder.quote_mint)}"


def size_text(v: float) -> str:
    """A size in units: whole above 1,000 (thousands separated), 2 decimals above 1,
    else 4 significant digits."""
    if not math.isfinite(v):
        return "—"
    if v >= 1_000:
        return f"{v:,.0f}"
    return f"{v:,.2f}" if v >= 1 else f"{v:.4g}"


def bar(fraction: float, width: int = BAR, right: bool = False) -> str:
    """A horizontal bar of ``fraction`` of ``width`` cells in eighths (grows leftwards
    from the right edge when ``right``: the bid side, towards the middle)."""
    f = min(1.0, max(0.0, fraction if math.isfinite(fraction) else 0.0))
    eighths = round(f * width * 8)
    full, part = divmod(eighths, 8)
    s = "█" * full + (BLOCKS[part] if part else "")
    return s.rjust(width) if right else s.ljust(width)


def top_size(levels: Sequence[BookLevelView], n: int = TOP) -> float:
    return sum(lv.size for lv in levels[:n])


def ladder_view(
    ladder: BookLadderView,
    palette: Palette,
    names: TokenNames | None = None,
    label: str = "",
    levels: int = LEVELS,
) -> Group:
    """The header lines and the side-by-side ladder of one market."""
    base = names.symbol(ladder.base_mint) if names is not None else ladder.base_mint[:4]
    quote = names.symbol(ladder.quote_mint) if names is not None else ladder.quote_mint[:4]
    head = Text()
    head.append(pair(ladder, names), style="bold")
    if label:
        head.append(f"  {label}", style="dim")
    head.append(f"  {ladder.market[:10]}…" if ladder.market else "", style="dim")
    head.append(f"  slot {ladder.slot:,}" if ladder.slot else "", style="dim")
    head.append(f"  prices in {quote} per {base}, sizes in {base}", style="dim")
    bps = spread_bps(ladder)
    quotes = Text()
    quotes.append("bid ")
    quotes.append_text(_p(ladder.best_bid, palette.profit))
    quotes.append("   ask ")
    quotes.append_text(_p(ladder.best_ask, palette.loss))
    quotes.append("   spread ")
    quotes.append(price(ladder.spread).plain)
    quotes.append(f" ({bps:,.1f} bps)" if bps is not None else "")
    quotes.append("   mid ")
    quotes.append(price(ladder.mid).plain)
    tops = Text(
        f"top {TOP} levels: bids {size_text(top_size(ladder.bids))} {base}"
        f" · asks {size_text(top_size(ladder.asks))} {base}"
        f"   ({len(ladder.bids)} bid / {len(ladder.asks)} ask levels)",
        style="dim",
    )
    bids, asks = list(ladder.bids[:levels]), list(ladder.asks[:levels])
    cum_b = _cumulative(bids)
    cum_a = _cumulative(asks)
    deepest = max(cum_b[-1] if cum_b else 0.0, cum_a[-1] if cum_a else 0.0) or 1.0
    t = Table(box=None, padding=(0, 0, 0, 1), show_edge=False, pad_edge=False)
    t.add_column("", justify="right", no_wrap=True, width=BAR)
    for col in ("total", "size", "n", "bid"):
        t.add_column(col, justify="right", no_wrap=True, min_width=3 if col == "n" else 9)
    for col in ("ask", "n", "size", "total"):
        t.add_column(col, justify="right", no_wrap=True, min_width=3 if col == "n" else 9)
    t.add_column("", justify="left", no_wrap=True, width=BAR)
    for i in range(max(len(bids), len(asks), 1)):
        row: list[Cell] = []
        if i < len(bids):
            b = bids[i]
            row += [
                Text(bar(cum_b[i] / deepest, right=True), style=palette.profit),
                size_text(cum_b[i]), size_text(b.size), str(b.orders),
                Text(price(b.price).plain, style=f"bold {palette.profit}" if i == 0 else ""),
            ]  # fmt: skip
        else:
            row += ["", "", "", "", Text("—" if i == 0 else "", style="dim")]
        if i < len(asks):
            a = asks[i]
            row += [
                Text(price(a.price).plain, style=f"bold {palette.loss}" if i == 0 else ""),
                str(a.orders), size_text(a.size), size_text(cum_a[i]),
                Text(bar(cum_a[i] / deepest), style=palette.loss),
            ]  # fmt: skip
        else:
            row += [Text("—" if i == 0 else "", style="dim"), "", "", "", ""]
        t.add_row(*row)
    return Group(head, quotes, tops, Text(""), t)


def _p(v: float | None, style: str) -> Text:
    return Text(price(v).plain, style=f"bold {style}" if v is not None else "dim")


def _cumulative(levels: Sequence[BookLevelView]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for lv in levels:
        total += lv.size
        out.append(total)
    return out


class BookList(KeyedTable):
    """The order-book markets: pair, venue, best bid and ask, spread in bps."""

    COLUMNS: Sequence[Column] = (
        ("pair", "pair", 13),
        ("bid", "bid", 11),
        ("ask", "ask", 11),
        ("bps", "bps", 7),
    )
    NUMERIC = frozenset({"bid", "ask", "bps"})

    def show(self, books: Sequence[BookLadderView], names: TokenNames | None) -> None:
        rows: dict[str, tuple[Cell, ...]] = {}
        for b in books:
            bps = spread_bps(b)
            rows[b.market] = (
                pair(b, names),
                price(b.best_bid),
                price(b.best_ask),
                Text(f"{bps:,.1f}" if bps is not None else "—", justify="right"),
            )
        self.sync(rows)

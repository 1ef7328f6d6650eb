"""Order books: the market list and one market's L2 ladder (the ``o`` screen).

A book is shown base/quote by the rule every price follows (the source's
``pair_order``: USDC, USDT, SOL, ... quote): a market listed the other way round is turned
(its asks become bids at the inverse price, sizes in the shown base). The ladder puts bids
and asks side by side, best first, each level with its size, the size summed from the top
on both sides, and a depth bar scaled to the deeper side's total over the levels shown;
above it the best bid and ask, the spread (in quote units and bps of the mid), the mid, and
the size resting on the top levels of each side. The ladder is laid out for the width it
is given: the bars take what the numbers leave (up to :data:`BAR`), and a narrow one drops
the order counts, then the per-level sizes (the running totals stay).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..source import BookLadderView, BookLevelView, TokenNames
from .palette import Palette
from .prices import price
from .table import Cell, Column, KeyedTable

LEVELS = 24  # ladder rows shown per side (as many as a snapshot keeps)
TOP = 5  # "size at the top levels": the first TOP levels of each side
BAR = 16  # the widest depth bar, in cells
MIN_BAR = 2  # a layout leaving a narrower bar drops a column instead
BLOCKS = " ▏▎▍▌▋▊▉█"
PairOrder = Callable[[str, str], tuple[str, str]]  # (a, b) -> (base, quote): SnapshotView's


@dataclass(frozen=True, slots=True)
class Level:
    """One level as shown: its price (quote per base), size (base) and order count."""

    price: float
    size: float
    orders: int


@dataclass(frozen=True, slots=True)
class Book:
    """A ladder as shown, base/quote by the source's pair rule (``turned``: the market
    lists the pair the other way round)."""

    market: str
    base_mint: str
    quote_mint: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    best_bid: float | None
    best_ask: float | None
    spread: float | None
    mid: float | None
    slot: int
    turned: bool = False


def oriented(ladder: BookLadderView, order: PairOrder | None = None) -> Book:
    """``ladder`` as shown: as listed when its quote is the pair's by ``order`` (the
    source's ``pair_order``; None: as listed), else turned (an ask to sell base at price
    p for quote is a bid for the quote at 1/p, its size p × size)."""

    def levels(side: Sequence[BookLevelView]) -> tuple[Level, ...]:
        return tuple(Level(lv.price, lv.size, lv.orders) for lv in side)

    listed = (ladder.base_mint, ladder.quote_mint)
    if order is None or order(*listed) == listed:
        return Book(
            ladder.market,
            ladder.base_mint,
            ladder.quote_mint,
            levels(ladder.bids),
            levels(ladder.asks),
            ladder.best_bid,
            ladder.best_ask,
            ladder.spread,
            ladder.mid,
            ladder.slot,
        )

    def turn(side: Sequence[BookLevelView]) -> tuple[Level, ...]:
        return tuple(
            Level(1.0 / lv.price, lv.size * lv.price, lv.orders) for lv in side if lv.price > 0
        )

    bids, asks = turn(ladder.asks), turn(ladder.bids)
    bid = bids[0].price if bids else None
    ask = asks[0].price if asks else None
    both = bid is not None and ask is not None
    return Book(
        ladder.market,
        ladder.quote_mint,
        ladder.base_mint,
        bids,
        asks,
        bid,
        ask,
        ask - bid if both else None,  # type: ignore[operator]
        (ask + bid) / 2 if both else None,  # type: ignore[operator]
        ladder.slot,
        turned=True,
    )


def spread_bps(ladder: BookLadderView | Book) -> float | None:
    """The spread in basis points of the mid (None on a one-sided or empty book)."""
    if ladder.spread is None or not ladder.mid:
        return None
    return ladder.spread / ladder.mid * 1e4


def pair(
    ladder: BookLadderView | Book, names: TokenNames | None, order: PairOrder | None = None
) -> str:
    """``SOL/USDC``: base / quote as shown (:func:`oriented`)."""
    b = ladder if isinstance(ladder, Book) else oriented(ladder, order)
    if names is None:
        return f"{b.base_mint[:4]}/{b.quote_mint[:4]}"
    return f"{names.symbol(b.base_mint)}/{names.symbol(b.quote_mint)}"


def size_text(v: float, compact: bool = False) -> str:
    """A size in units: whole above 1,000 (thousands separated), 2 decimals above 1,
    else 4 significant digits; ``compact``: a million and more as ``432.83M``,
    ``1.06B`` (a narrow ladder of a token counted in billions: BONK)."""
    if not math.isfinite(v):
        return "—"
    if compact and v >= 1_000_000:
        for div, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
            if v >= div:
                return f"{v / div:,.2f}{unit}"
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


def top_size(levels: Sequence[BookLevelView | Level], n: int = TOP) -> float:
    return sum(lv.size for lv in levels[:n])


# a side's columns, from the outside in (the bids' order; the asks' is the reverse)
SIDE = ("total", "size", "n", "price")
# what a narrow ladder leaves out, in this order (the running totals always stay)
LADDER_DROPS: tuple[tuple[str, ...], ...] = ((), ("n",), ("n", "size"))


def _layout(
    bids: Sequence[Level], asks: Sequence[Level], width: int
) -> tuple[tuple[str, ...], dict[str, int], int, bool]:
    """(the side columns kept, each one's width, the bars' width, whether sizes are
    compact) for a ladder ``width`` cells wide: every column as wide as its widest text,
    the bars what is left (at most BAR each); a column dropped (LADDER_DROPS) while the
    bars would be under MIN_BAR; when even that leaves them under it, the sizes written
    compact (:func:`size_text`: totals in billions cut no cell)."""
    got = _fit(bids, asks, width, compact=False)
    if got[2] >= MIN_BAR:
        return (*got, False)
    return (*_fit(bids, asks, width, compact=True), True)


def _fit(
    bids: Sequence[Level], asks: Sequence[Level], width: int, compact: bool
) -> tuple[tuple[str, ...], dict[str, int], int]:
    texts = {
        "total": [size_text(t, compact) for t in (*_cumulative(bids), *_cumulative(asks))],
        "size": [size_text(lv.size, compact) for lv in (*bids, *asks)],
        "n": [str(lv.orders) for lv in (*bids, *asks)],
        "price": [price(lv.price).plain for lv in (*bids, *asks)] + ["—"],
    }
    widths = {k: max([len(k if k != "price" else "bid"), *map(len, v)]) for k, v in texts.items()}
    keep: tuple[str, ...] = SIDE
    bars = 0
    for drop in LADDER_DROPS:
        keep = tuple(c for c in SIDE if c not in drop)
        # both sides' columns and bars, one blank between columns (not at the edges)
        used = 2 * sum(widths[c] for c in keep) + 2 * (len(keep) + 1) - 1
        bars = min(BAR, (width - used) // 2)
        if bars >= MIN_BAR:
            break
    return keep, widths, max(1, bars)


def ladder_view(
    ladder: BookLadderView,
    palette: Palette,
    names: TokenNames | None = None,
    label: str = "",
    levels: int = LEVELS,
    width: int = 80,
    order: PairOrder | None = None,
) -> Group:
    """The header lines and the side-by-side ladder of one market, ``width`` cells wide,
    base/quote by ``order``, the rule every price follows (:func:`oriented`)."""
    book = oriented(ladder, order)
    base = names.symbol(book.base_mint) if names is not None else book.base_mint[:4]
    quote = names.symbol(book.quote_mint) if names is not None else book.quote_mint[:4]
    head = Text()
    head.append(pair(book, names), style="bold")
    if label:
        head.append(f"  {label}", style="dim")
    head.append(f"  {book.market[:10]}…" if book.market else "", style="dim")
    head.append(f"  slot {book.slot:,}" if book.slot else "", style="dim")
    units = Text(f"prices in {quote} per {base}, sizes in {base}", style="dim")
    if book.turned:
        units.append(f" (the market lists it {quote}/{base})", style="dim")
    bps = spread_bps(book)
    quotes = Text()
    quotes.append("bid ")
    quotes.append_text(_p(book.best_bid, palette.profit))
    quotes.append("  ask ")
    quotes.append_text(_p(book.best_ask, palette.loss))
    quotes.append("  spread ")
    quotes.append(price(book.spread).plain)
    quotes.append(f" ({bps:,.1f} bps)" if bps is not None else "")
    quotes.append("  mid ")
    quotes.append(price(book.mid).plain)
    tops = Text(
        f"top {TOP} levels: bids {size_text(top_size(book.bids))} {base}"
        f" · asks {size_text(top_size(book.asks))} {base}"
        f"   ({len(book.bids)} bid / {len(book.asks)} ask levels)",
        style="dim",
    )
    bids, asks = list(book.bids[:levels]), list(book.asks[:levels])
    keep, widths, bars, compact = _layout(bids, asks, width)
    cum_b = _cumulative(bids)
    cum_a = _cumulative(asks)
    deepest = max(cum_b[-1] if cum_b else 0.0, cum_a[-1] if cum_a else 0.0) or 1.0
    t = Table(box=None, padding=(0, 0, 0, 1), show_edge=False, pad_edge=False)
    t.add_column("", justify="right", no_wrap=True, width=bars)
    for col in keep:
        t.add_column(
            "bid" if col == "price" else col, justify="right", no_wrap=True, width=widths[col]
        )
    for col in reversed(keep):
        t.add_column(
            "ask" if col == "price" else col, justify="right", no_wrap=True, width=widths[col]
        )
    t.add_column("", justify="left", no_wrap=True, width=bars)
    for i in range(max(len(bids), len(asks), 1)):
        row: list[Cell] = []
        if i < len(bids):
            b = bids[i]
            cells: dict[str, Cell] = {
                "total": size_text(cum_b[i], compact),
                "size": size_text(b.size, compact),
                "n": str(b.orders),
                "price": Text(
                    price(b.price).plain, style=f"bold {palette.profit}" if i == 0 else ""
                ),
            }
            row.append(Text(bar(cum_b[i] / deepest, bars, right=True), style=palette.profit))
            row += [cells[c] for c in keep]
        else:
            row += [""] * len(keep) + [Text("—" if i == 0 else "", style="dim")]
        if i < len(asks):
            a = asks[i]
            cells = {
                "total": size_text(cum_a[i], compact),
                "size": size_text(a.size, compact),
                "n": str(a.orders),
                "price": Text(price(a.price).plain, style=f"bold {palette.loss}" if i == 0 else ""),
            }
            row += [cells[c] for c in reversed(keep)]
            row.append(Text(bar(cum_a[i] / deepest, bars), style=palette.loss))
        else:
            row += [Text("—" if i == 0 else "", style="dim")] + [""] * len(keep)
        t.add_row(*row)
    return Group(head, units, quotes, tops, Text(""), t)


def _p(v: float | None, style: str) -> Text:
    return Text(price(v).plain, style=f"bold {style}" if v is not None else "dim")


def _cumulative(levels: Sequence[BookLevelView | Level]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for lv in levels:
        total += lv.size
        out.append(total)
    return out


class BookList(KeyedTable):
    """The order-book markets: pair (base/quote as shown), best bid and ask, spread in bps
    (``compact``: pair and spread only, for a narrow screen)."""

    COLUMNS: Sequence[Column] = (
        ("pair", "pair", 13),
        ("bid", "bid", 11),
        ("ask", "ask", 11),
        ("bps", "bps", 7),
    )
    NUMERIC = frozenset({"bid", "ask", "bps"})
    COMPACT = ("pair", "bps")
    WIDTH, COMPACT_WIDTH = 46, 23  # with its border and a scrollbar

    def show(
        self,
        books: Sequence[BookLadderView],
        names: TokenNames | None,
        order: PairOrder | None = None,
    ) -> None:
        rows: dict[str, tuple[Cell, ...]] = {}
        for ladder in books:
            b = oriented(ladder, order)
            bps = spread_bps(b)
            rows[b.market] = (
                pair(b, names),
                price(b.best_bid),
                price(b.best_ask),
                Text(f"{bps:,.1f}" if bps is not None else "—", justify="right"),
            )
        self.sync(rows)

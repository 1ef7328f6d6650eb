"""The price panel: per token pair the mid price, a sparkline of its last slots, and
RSI / EMA / Bollinger / KAMA from the engine's incremental indicators."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.text import Text

from ..source import TokenNames
from .table import Cell, Column, KeyedTable

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 16) -> str:
    """The last ``width`` values as block characters (flat: a middle line)."""
    vals = [v for v in values[-width:] if math.isfinite(v)]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    if hi - lo <= abs(hi) * 1e-12:
        return BARS[3] * len(vals)
    return "".join(BARS[min(7, int((v - lo) / (hi - lo) * 8))] for v in vals)


def price(v: float | None) -> Text:
    """A price with 6 significant digits (very small or large ones in e-notation)."""
    if v is None or not math.isfinite(v):
        return Text("—", justify="right")
    if v != 0 and (abs(v) < 1e-4 or abs(v) >= 1e7):
        return Text(f"{v:.4e}", justify="right")
    return Text(f"{v:,.6g}", justify="right")


def rsi_text(v: float | None) -> Text:
    if v is None:
        return Text("—", justify="right")
    style = "bold red" if v >= 70 else "bold green" if v <= 30 else ""
    return Text(f"{v:.0f}", justify="right", style=style)


def _dev(v: float | None, mid: float) -> Text:
    """``v`` as a % deviation from the mid (EMA, KAMA)."""
    if v is None or not mid or not math.isfinite(v):
        return Text("—", justify="right")
    return Text(f"{100 * (v / mid - 1):+.2f}", justify="right")


def unit_scale(names: TokenNames | None, a: str, b: str) -> float:
    """What turns a mid in raw units (raw b per raw a) into units (b per a): 10^(da−db);
    1 while a decimals is unknown (the mid stays raw)."""
    if names is None:
        return 1.0
    da, db = names.decimals(a), names.decimals(b)
    return 1.0 if da is None or db is None else 10.0 ** (da - db)


def cells(r: Any, names: TokenNames | None = None) -> tuple[Cell, ...]:
    """One pair's row (``r``: arbscope.prices.PriceRow, its pair ``(base, quote)``): the
    mid in units of the quote per unit of the base, ``SOL/USDC 1,829`` (indicators are
    ratios of the mid: no scaling)."""
    a, b = r.pair
    k = unit_scale(names, a, b)
    label = f"{names.symbol(a)}/{names.symbol(b)}" if names is not None else f"{a[:4]}/{b[:4]}"
    chg = Text(
        f"{r.change_pct:+.2f}",
        justify="right",
        style="green" if r.change_pct > 0 else "red" if r.change_pct < 0 else "",
    )
    pos = r.percent_b  # 0 at the lower band, 1 at the upper
    band = Text("—", justify="right")
    if pos is not None and math.isfinite(pos):
        band = Text(
            f"{round(pos, 2) + 0.0:.2f}",
            justify="right",  # + 0.0: never -0.00
            style="bold red" if pos > 1 else "bold green" if pos < 0 else "",
        )
    return (
        label,
        price(r.mid * k if r.mid is not None else None),
        chg,
        sparkline(r.history, 7),
        rsi_text(r.rsi),
        band,
        _dev(r.ema, r.mid),
        _dev(r.kama, r.mid),
    )


class PricesPanel(KeyedTable):
    """Mid prices per pair (most pools first); chg, EMA and KAMA in % of the mid."""

    COLUMNS: Sequence[Column] = (
        ("pair", "pair", 14),
        ("mid", "mid", 12),
        ("chg", "chg%", 8),
        ("spark", "slots", 8),
        ("rsi", "RSI", 5),
        ("bb", "%B", 7),
        ("ema", "EMA%", 7),
        ("kama", "KAMA%", 7),
    )
    NUMERIC = frozenset({"mid", "chg", "rsi", "bb", "ema", "kama"})

    def __init__(self, id: str | None = None) -> None:
        # a row cursor: the price chart (``c``) draws the pair under it
        title = "Prices: mid per pair; RSI14, Bollinger %B, EMA10, KAMA10"
        super().__init__(id=id, cursor=True, title=title)
        self._drawn: tuple[object, object, object] | None = None  # show()'s last rows

    def show(self, rows: Sequence[Any], names: TokenNames | None = None) -> None:
        last = self._drawn
        if last is not None and last[0] is rows and last[1] is names and last[2] == self.shown:
            return  # the same snapshot's rows again (redraws outpace the session's turns)
        self._drawn = (rows, names, self.shown)
        self.sync({"/".join(r.pair): cells(r, names) for r in rows})

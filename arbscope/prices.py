"""Prices per token pair, for the price panel: the mid price from the graph's spot rates,
a short history for the sparkline, and incremental indicators (RSI 14, EMA 10,
Bollinger 20/2, KAMA 10) from the engine's streaming kernels.

A pair is two mints as ``(base, quote)`` (``feeds.wire.tokens.pair_order``: the quote is
USDC, USDT, SOL, ... when the pair holds one); its mid is the price of the base in the
quote, and its indicators are computed on that price. With several pools on a pair, the
mid is that of the pool updated last (each pool's mid is ``sqrt(rate_ab / rate_ba)``: the
fee cancels). Indicators take one value per
slot (the last mid seen in it), so their periods are in slots whatever the update rate.

Each pair also keeps its last ``CHART_POINTS`` per-slot values — the slot, the mid, the
Bollinger bands, the EMA and the KAMA the kernels gave for it — as a :class:`PriceSeries`
for the dashboard's price chart: the UI draws them, never computes them.
"""

from __future__ import annotations

import math
import types
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from feeds.wire.tokens import pair_order

HISTORY = 48  # sparkline points (slots)
CHART_POINTS = 120  # price-chart points per pair (slots in which its mid moved)
NAN = math.nan


@dataclass(frozen=True, slots=True)
class PriceSeries:
    """A pair's recent per-slot values, oldest first, one entry per slot in which its mid
    moved (at most ``CHART_POINTS``): what the price chart draws. The mid is in raw units
    of the pair's second mint per raw unit of its first; the bands, EMA and KAMA are the
    engine's incremental kernels' values after that slot's mid (NaN while an indicator is
    still in its warm-up: Bollinger 20 slots, EMA 10, KAMA 11)."""

    slots: tuple[int, ...]
    mid: tuple[float, ...]
    lower: tuple[float, ...]  # Bollinger 20/2
    middle: tuple[float, ...]
    upper: tuple[float, ...]
    ema: tuple[float, ...]  # EMA 10
    kama: tuple[float, ...]  # KAMA 10


@dataclass(frozen=True, slots=True)
class PriceRow:
    """One pair as the panel shows it."""

    pair: tuple[str, str]
    pools: int
    mid: float
    change_pct: float  # since the first mid seen
    history: tuple[float, ...]
    rsi: float | None
    ema: float | None
    bollinger: tuple[float, float, float] | None  # lower, middle, upper
    kama: float | None
    slot: int
    cex: float | None = None  # a CEX reference, when configured
    # Bollinger %B of the mid: (mid − lower) / (upper − lower); 0 at the lower band, 1 at
    # the upper one, outside [0, 1] beyond them; None before 20 slots or on a flat series
    percent_b: float | None = None
    # the pair's prop AMM (arbscope.propamm.PropQuote): its last realized price, the
    # spread to this mid, the public pools' lag; None where none was seen
    prop: Any = None


def _keep_last(col: array[Any], value: Any, keep: int) -> None:
    """Append ``value`` to ``col``, keeping its last ``keep`` values."""
    col.append(value)
    if len(col) > keep:
        del col[0]


@dataclass
class _Pair:
    ind: tuple[Any, Any, Any, Any]
    pools: set[str] = field(default_factory=set)
    mid: float = math.nan
    first: float = math.nan
    slot: int = 0
    last_slot: int = -1  # the slot whose mid the indicators took last
    # the sparkline's mids and the chart's columns (slot, mid, lower, middle, upper, ema,
    # kama) as arrays of machine numbers, newest last, not containers of Python objects:
    # 8 bytes a value instead of a 24-byte float object each (at 3,000 pools, ~1,500
    # pairs: ~1.3 million floats, ~40 MB, that an operator's RSS grew by over a session's
    # first minutes), and nothing for the garbage collector to walk
    history: array[float] = field(default_factory=lambda: array("d"))
    values: tuple[Any, Any, Any, Any] = (None, None, None, None)
    chart: tuple[array[Any], ...] = field(
        default_factory=lambda: (array("q"), *(array("d") for _ in range(6)))
    )
    series: PriceSeries | None = None  # the chart's columns as a record, until they move

    def record(self) -> None:
        """Append the slot's mid and indicator values to the chart's columns."""
        _, ema, bb, kama = self.values
        upper, middle, lower = bb if bb is not None else (NAN, NAN, NAN)
        row = (
            self.last_slot,
            self.mid,
            lower,
            middle,
            upper,
            NAN if ema is None else ema,
            NAN if kama is None else kama,
        )
        for col, v in zip(self.chart, row):
            _keep_last(col, v, CHART_POINTS)
        self.series = None

    def chart_series(self) -> PriceSeries:
        """The chart's columns as a record (built once per slot the pair moved in)."""
        if self.series is None:
            self.series = PriceSeries(*(tuple(col) for col in self.chart))
        return self.series


class PriceBook:
    """Mid prices and indicators per pair, fed with the pools that changed."""

    def __init__(self, eng: types.ModuleType) -> None:
        self.eng = eng
        self.pairs: dict[tuple[str, str], _Pair] = {}
        self.errors = 0

    def update(self, graph: Any, pool_ids: list[str], slot: int | None) -> None:
        """Read the spot rates of ``pool_ids`` (unknown pools are skipped) at ``slot``.
        ``slot`` None: the chain has no slot yet (a session's first tick, before any slot
        notification): the mids are shown, but neither charted nor fed to the
        indicators until a pair moves at a known slot (a point at the session's slot 0
        stretched the chart's axis over 300 million slots)."""
        for pid in pool_ids:
            try:
                a, b, ab, ba, _ = graph.pool_rate(pid)
            except Exception:  # it left the graph: nothing to show for it
                continue
            if not (ab > 0 and ba > 0 and math.isfinite(ab) and math.isfinite(ba)):
                self.errors += 1
                continue
            mid = math.sqrt(ab / ba)  # price of a in b
            key = pair_order(a, b)
            px = mid if key == (a, b) else 1.0 / mid
            p = self.pairs.get(key)
            if p is None:
                e = self.eng
                p = self.pairs[key] = _Pair(
                    (e.Rsi(14), e.Ema(10), e.Bollinger(20, 2.0), e.Kama(10))
                )
                p.first = px
            p.pools.add(pid)
            p.mid = px
            if slot is None:
                p.last_slot = max(p.last_slot, p.slot)  # this mid is no slot's point
            else:
                p.slot = slot
        if slot is None:
            return
        for p in self.pairs.values():
            if p.slot > p.last_slot and math.isfinite(p.mid):
                p.last_slot = p.slot
                _keep_last(p.history, p.mid, HISTORY)
                try:
                    p.values = tuple(ind.update(p.mid) for ind in p.ind)  # type: ignore[assignment]
                except Exception:
                    self.errors += 1
                p.record()

    def series(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], PriceSeries]:
        """The chart series of each of ``pairs`` (``(base, quote)``) that has one; a pair's
        record is the same object until it moves again."""
        out = {}
        for key in pairs:
            p = self.pairs.get(key)
            if p is not None and p.chart[0]:
                out[key] = p.chart_series()
        return out

    def mids(self) -> dict[tuple[str, str], float]:
        """Every pair's mid (raw units of its quote per raw unit of its base)."""
        return {k: p.mid for k, p in self.pairs.items() if math.isfinite(p.mid)}

    def rows(self, limit: int = 50) -> list[PriceRow]:
        """The pairs, most pools first, then by name."""
        out = []
        for key, p in sorted(self.pairs.items(), key=lambda kv: (-len(kv[1].pools), kv[0])):
            rsi, ema, bb, kama = p.values
            bands, pct_b = None, None
            if bb is not None:  # the engine's Bollinger gives (upper, middle, lower)
                upper, middle, lower = bb
                bands = (lower, middle, upper)
                if upper > lower:
                    pct_b = (p.mid - lower) / (upper - lower)
            out.append(
                PriceRow(
                    key,
                    len(p.pools),
                    p.mid,
                    100.0 * (p.mid / p.first - 1.0),
                    tuple(p.history),
                    rsi,
                    ema,
                    bands,
                    kama,
                    p.slot,
                    percent_b=pct_b,
                )
            )
            if len(out) >= limit:
                break
        return out


@dataclass(frozen=True, slots=True)
class FeeView:
    """The fee panel: the window's percentiles, p50 per slot, congestion, recommendation."""

    samples: int = 0
    slots: int = 0
    p25: int = 0
    p50: int = 0
    p75: int = 0
    p90: int = 0
    by_slot: tuple[int, ...] = ()  # p50 per slot, oldest first
    congestion: float = 0.0
    cu_price: int = 0  # recommended µlamports per CU (p75)
    priority_lamports: int = 0  # at the session's CU limit


def fee_view(est: Any, cu_limit: int, cu_price: int) -> FeeView:
    """What ``est`` (a FeeEstimator) says now; an empty view before any sample."""
    if not len(est):
        return FeeView(cu_price=cu_price)
    p25, p50, p75, p90 = est.percentiles([25.0, 50.0, 75.0, 90.0])
    by_slot = tuple(row[3] for row in est.by_slot(50.0))
    return FeeView(
        len(est),
        est.slot_count,
        p25,
        p50,
        p75,
        p90,
        by_slot[-HISTORY:],
        est.congestion(),
        cu_price,
        cu_price * cu_limit // 1_000_000,
    )

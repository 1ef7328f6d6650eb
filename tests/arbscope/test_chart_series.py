"""The series the dashboard's charts draw, built in arbscope (the UI draws, never
computes): a pair's per-slot mid with the engine's Bollinger bands, EMA and KAMA
(checked against the batch kernels and TA-Lib), and the paper and live equity curves
(checked against the paper broker's own books and the live executor's view)."""

from __future__ import annotations

import math
import types
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import talib

from arbscope.equity import MAX_POINTS, EquityCurves
from arbscope.market import PAPER_BALANCE
from arbscope.prices import CHART_POINTS, HISTORY, PriceBook
from feeds.wire.tokens import pair_order
from tests.support.staging import staged_live, staged_sim

SOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
POOL = "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2"
PAIR = (SOL, USDC)  # (base, quote) by the one pair rule: the mid is USDC per SOL
TOL = 1e-9  # the indicators' bar against TA-Lib (tests/engine/test_indicators.py)


def _walk(n: int, seed: int = 1) -> list[float]:
    return (150 + np.cumsum(np.random.default_rng(seed).normal(0, 0.4, n))).tolist()


def _fed(eng: types.ModuleType, mids: list[float], first_slot: int = 1) -> tuple[Any, PriceBook]:
    """A graph and a PriceBook fed one pool update per slot, the pool priced ``mids``."""
    g = eng.PoolGraph(base_mints=[SOL], max_hops=3)
    book = PriceBook(eng)
    for slot, mid in enumerate(mids, first_slot):
        g.upsert_cpmm(POOL, SOL, USDC, 10**12, int(mid * 10**12), 25, 10_000, slot=slot)
        book.update(g, [POOL], slot)
    return g, book


def _same(a: tuple[float, ...], b: np.ndarray) -> bool:
    """Equal value for value, NaN where the other is NaN (the warm-up)."""
    return len(a) == len(b) and all(
        (math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b.tolist())
    )


def test_price_series_are_the_engines_indicators_slot_by_slot(eng: types.ModuleType) -> None:
    walk = _walk(60)
    _, book = _fed(eng, walk)
    s = book.series([PAIR])[PAIR]
    # base/quote: USDC per SOL, the pool's own price (not its inverse)
    assert all(abs(m - w) < 1e-9 for m, w in zip(s.mid, walk, strict=True))
    mids = np.array(s.mid)
    assert s.slots == tuple(range(1, 61))
    # the mids are the pool's (sqrt(rate_ab / rate_ba): the fee cancels), as the table's
    (row,) = book.rows()
    assert s.mid[-1] == row.mid and s.mid[-len(row.history) :] == row.history
    # incremental == batch bit for bit on one backend: the chart's values are the kernels'
    upper, middle, lower = eng.bollinger(mids, 20, 2.0)
    assert _same(s.upper, upper) and _same(s.middle, middle) and _same(s.lower, lower)
    assert _same(s.ema, eng.ema(mids, 10)) and _same(s.kama, eng.kama(mids, 10))
    # and TA-Lib's, the outside oracle: same warm-up, values within its bar
    ta_up, ta_mid, ta_low = talib.BBANDS(mids, 20, 2.0, 2.0, 0)
    for ours, theirs in (
        (s.upper, ta_up),
        (s.middle, ta_mid),
        (s.lower, ta_low),
        (s.ema, talib.EMA(mids, 10)),
        (s.kama, talib.KAMA(mids, 10)),
    ):
        o = np.array(ours)
        assert np.array_equal(np.isnan(o), np.isnan(theirs))
        assert np.allclose(o[~np.isnan(o)], theirs[~np.isnan(theirs)], rtol=TOL, atol=0)
    # the bands the price row shows are the series' newest
    assert row.bollinger == (s.lower[-1], s.middle[-1], s.upper[-1])
    assert (row.ema, row.kama) == (s.ema[-1], s.kama[-1])
    first_ema = next(i for i, v in enumerate(s.ema) if not math.isnan(v))
    first_bb = next(i for i, v in enumerate(s.upper) if not math.isnan(v))
    first_kama = next(i for i, v in enumerate(s.kama) if not math.isnan(v))
    assert (first_ema, first_kama, first_bb) == (9, 10, 19)  # the warm-ups the doc says


def test_price_series_are_bounded_and_one_object_until_the_pair_moves(
    eng: types.ModuleType,
) -> None:
    g = eng.PoolGraph(base_mints=[SOL], max_hops=3)
    book = PriceBook(eng)
    seen = []  # every slot's mid, as the book took it
    n = CHART_POINTS + 37
    for slot, mid in enumerate(_walk(n, seed=2), 1):
        g.upsert_cpmm(POOL, SOL, USDC, 10**12, int(mid * 10**12), 25, 10_000, slot=slot)
        book.update(g, [POOL], slot)
        seen.append(book.series([PAIR])[PAIR].mid[-1])
    s = book.series([PAIR])[PAIR]
    assert len(s.slots) == len(s.kama) == CHART_POINTS
    assert s.mid == tuple(seen[-CHART_POINTS:])
    assert s.slots == tuple(range(n - CHART_POINTS + 1, n + 1))
    # the sparkline: the last HISTORY mids, in the order they came
    assert book.rows()[0].history == tuple(seen[-HISTORY:])
    # the kernels over the whole history, cut to the window: no restart at its edge
    full = np.array(seen)
    assert _same(s.ema, eng.ema(full, 10)[-CHART_POINTS:])
    assert _same(s.kama, eng.kama(full, 10)[-CHART_POINTS:])
    assert _same(s.upper, eng.bollinger(full, 20, 2.0)[0][-CHART_POINTS:])
    # nothing moved: the same record (the chart redraws nothing); a slot without an
    # update of the pair adds no point either
    assert book.series([PAIR])[PAIR] is s
    book.update(g, [], n + 1)
    assert book.series([PAIR])[PAIR] is s
    g.upsert_cpmm(POOL, SOL, USDC, 10**12, 151 * 10**12, 25, 10_000, slot=n + 2)
    book.update(g, [POOL], n + 2)
    moved = book.series([PAIR])[PAIR]
    assert moved is not s and moved.slots[-1] == n + 2 and len(moved.slots) == CHART_POINTS
    assert book.series([(USDC, SOL)]) == {}  # the other way round: a pair the book never saw


def test_the_snapshot_has_the_series_of_the_rows_and_of_each_cycles_first_hop() -> None:
    m = staged_sim(ticks=60)
    snap = m.snapshot
    hops = set()
    for o, _ in snap.opportunities:
        hops.add(pair_order(o.tokens[0], o.tokens[1]))
    rows = {r.pair for r in snap.prices}
    assert set(snap.price_series) == {p for p in rows | hops if p in m.prices.pairs}
    assert hops - rows, "the demo has cycles whose first hop is not among the 50 rows"
    for pair, s in snap.price_series.items():
        assert s is m.prices.pairs[pair].chart_series()


def test_the_paper_curve_ties_out_with_the_broker() -> None:
    m = staged_sim(ticks=150)
    b = m.broker
    assert b is not None and b.attempts < MAX_POINTS  # the whole session fits
    snap = m.snapshot
    paper = [p for p in snap.equity if p.series == "paper"]
    start, fills = paper[0], paper[1:]
    assert (start.t_s, start.pnl, start.fill) == (0.0, 0, None)
    # the broker's own equity deque: initial + PnL after each attempt
    assert [PAPER_BALANCE + p.pnl for p in fills] == list(b.equity)[1:]
    assert len(fills) == b.attempts and fills[-1].pnl == b.pnl == snap.portfolio.pnl
    assert all(q.fill == q.pnl - p.pnl for p, q in zip(paper, fills))  # each attempt's own
    assert sum(p.win for p in fills) == b.wins
    assert sum(not p.ok for p in fills) == b.failed
    # the session's clock: 200 ms ticks from the first one, never backwards
    times = [p.t_s for p in paper]
    assert times == sorted(times) and times[-1] <= 149 * 0.2 + 1e-9
    assert all(abs(t / 0.2 - round(t / 0.2)) < 1e-6 for t in times)
    # one tuple until a point is added: the chart compares identities
    assert m.snapshot.equity is snap.equity
    for _ in range(20):
        attempts, before = b.attempts, m.snapshot.equity
        m.clock.advance(200_000_000)  # type: ignore[attr-defined]
        m.tick()
        assert (m.snapshot.equity is before) == (b.attempts == attempts)


@dataclass(frozen=True)
class _Order:
    seq: int
    status: str
    realized: int | None


@dataclass(frozen=True)
class _View:
    armed: bool
    pnl: int
    orders: tuple[_Order, ...] = ()


def test_the_live_curve_has_a_point_per_landed_order() -> None:
    c = EquityCurves()
    c.live_orders(_View(False, 0), 0, 1)
    assert c.points() == ()  # not armed: no live series
    c.live_orders(_View(True, 0), 1_000_000_000, 2)  # armed one second in
    (start,) = c.points()
    assert (start.series, start.t_s, start.pnl, start.fill) == ("live", 0.0, 0, None)
    v = _View(
        True,
        500,
        (_Order(1, "confirmed", 500), _Order(2, "refused", None), _Order(3, "sent", None)),
    )
    c.live_orders(v, 2_000_000_000, 3)
    c.live_orders(v, 2_200_000_000, 4)  # seen once only
    v = replace(v, pnl=380, orders=(*v.orders[:2], _Order(3, "failed", None)))
    c.live_orders(v, 3_000_000_000, 5)
    pts = c.points()
    assert [(p.t_s, p.pnl, p.fill, p.ok, p.win) for p in pts[1:]] == [
        (1.0, 500, 500, True, True),
        (2.0, 380, -120, False, False),  # realized unknown: the PnL's change; it failed
    ]
    assert c.points() is pts


def test_a_staged_live_session_draws_its_landed_orders() -> None:
    m = staged_live()
    live = [p for p in m.snapshot.equity if p.series == "live"]
    view = m.snapshot.live
    landed = [o for o in view.orders if o.status in ("confirmed", "failed")]
    assert [p.fill for p in live[1:]] == [o.realized for o in landed]
    assert live[-1].pnl == view.pnl and all(p.win for p in live[1:])
    assert [round(p.t_s, 6) for p in live] == [0.0, 2.2, 6.0]  # ticks 1, 12 and 31


def test_a_mid_before_the_chain_has_a_slot_is_shown_not_charted(eng: types.ModuleType) -> None:
    # a session's first tick can read the pools while its slot is still 0 (no slot
    # notification yet; the session passes None): that mid is on the Prices panel, but
    # a chart point at slot 0 stretched the chart's axis from 0 to the chain's slot
    # (300 million slots)
    g = eng.PoolGraph(base_mints=[SOL], max_hops=3)
    book = PriceBook(eng)
    g.upsert_cpmm(POOL, SOL, USDC, 10**12, 150 * 10**12, 25, 10_000, slot=0)
    book.update(g, [POOL], None)
    assert math.isclose(book.rows()[0].mid, 150.0) and book.series([PAIR]) == {}
    for slot in (300_000_001, 300_000_002):
        g.upsert_cpmm(POOL, SOL, USDC, 10**12, 151 * 10**12, 25, 10_000, slot=slot)
        book.update(g, [POOL], slot)
    assert book.series([PAIR])[PAIR].slots == (300_000_001, 300_000_002)

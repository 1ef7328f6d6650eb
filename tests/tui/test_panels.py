"""What the panels show for the numbers they are given: the feeds' lag, the prices'
Bollinger %B, the timing panel's kernel names."""

from __future__ import annotations

import dataclasses
import math
import types
from typing import Any

import numpy as np
from rich.cells import cell_len

from arbscope.market import SimMarket
from arbscope.prices import PriceBook
from feeds.health import FeedHealth
from tui.app import ArbscopeApp
from tui.widgets import feeds, prices
from tui.widgets.timings import SHORT_NAMES, TimingsPanel

SOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
POOL = "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2"


def _health(**kw: Any) -> FeedHealth:
    base: dict[str, Any] = {f.name: 0 for f in dataclasses.fields(FeedHealth)}
    base.update(name="sim-0", url="ws://127.0.0.1:1", connected=True, last_error="",
                lag_p50_ms=None, lag_p99_ms=None, last_message_age_s=None)  # fmt: skip
    base.update(kw)
    return FeedHealth(**base)


def _lag(f: FeedHealth) -> str:
    return str(feeds.cells(f)[4])


def test_feed_lag_is_a_dash_without_samples_and_never_minus_zero() -> None:
    # the leading endpoint: its rare duplicates were stamped just before the first copy
    assert _lag(_health(lag_p50_ms=-0.3, lag_p99_ms=-0.04)) == "0/0"
    assert _lag(_health(lag_p50_ms=0.2, lag_p99_ms=5.17)) == "0/5"
    assert _lag(_health()) == "—"  # every copy first: no lag samples at all
    assert _lag(_health(lag_p50_ms=20.4, lag_p99_ms=1_079.6)) == "20/1,080"
    assert _lag(_health(lag_p50_ms=-3.2, lag_p99_ms=-0.4)) == "-3/0"  # not hidden either


def _book_after(eng: types.ModuleType, mids: list[float]) -> PriceBook:
    """A PriceBook fed one pool update per slot, the pool's price following ``mids``."""
    g = eng.PoolGraph(base_mints=[SOL], max_hops=3)
    book = PriceBook(eng)
    for slot, mid in enumerate(mids, 1):
        g.upsert_cpmm(POOL, SOL, USDC, 10**12, int(mid * 10**12), 25, 10_000, slot=slot)
        book.update(g, [POOL], slot)
    return book


def test_prices_show_bollinger_percent_b(eng: types.ModuleType) -> None:
    mids = [150.0 + 4.0 * math.sin(i / 3.0) + 0.05 * i for i in range(30)]
    (row,) = _book_after(eng, mids).rows()
    lower, middle, upper = row.bollinger
    assert lower < middle < upper
    # the batch kernel over the same per-slot mids gives the same bands (upper, middle, lower)
    up, mid_band, low = (a[-1] for a in eng.bollinger(np.array(row.history), 20, 2.0))
    assert (upper, middle, lower) == (up, mid_band, low)
    expected = (row.mid - low) / (up - low)
    assert row.percent_b is not None and math.isclose(row.percent_b, expected, rel_tol=1e-12)
    assert str(prices.cells(row)[5]) == f"{expected:.2f}"
    # before 20 slots, and on a flat series (no band width), there is no %B; nor once a
    # walk has gone flat (its running sums used to leave a width of ~6e-11 there)
    (young,) = _book_after(eng, mids[:19]).rows()
    (flat,) = _book_after(eng, [150.0] * 25).rows()
    walk = (43 + np.cumsum(np.random.default_rng(0).normal(0, 0.3, 30))).tolist()
    (walked_flat,) = _book_after(eng, walk + [walk[-1]] * 25).rows()
    for r in (young, flat, walked_flat):
        assert r.percent_b is None and str(prices.cells(r)[5]) == "—"


async def test_timing_panel_shows_every_kernel_name_whole() -> None:
    app = ArbscopeApp(SimMarket(seed=7), tick_s=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.screen.query_one(TimingsPanel)
        for _ in range(100):  # until the sweep (every 5 slots) has been timed and drawn
            if "find_negative_cycle" in [str(k.value) for k in panel.rows]:
                break
            await pilot.pause(0.1)
        width = panel.columns[next(iter(panel.columns))].width  # the kernel column's
        kernels = [str(k.value) for k in panel.rows]
        assert {"cycles_touching", "cpmm_amount_out", "find_negative_cycle"} <= set(kernels)
        for k in kernels:
            label = str(panel.get_cell(k, "kernel")).strip()
            assert label == SHORT_NAMES.get(k, k), (k, label)
            assert cell_len(" " + label) <= width, (label, width)
        await pilot.press("q")

"""What the panels show for the numbers they are given: the feeds' lag, the prices'
Bollinger %B, the timing panel's kernel names, money in the theme's profit and loss
colours."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import types
from typing import Any

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console

from arbscope.demo import SimMarket
from arbscope.prices import PriceBook
from feeds.health import FeedHealth
from tests.support.staging import fix_app, staged_sim
from tui.app import ArbscopeApp
from tui.widgets import feeds, prices
from tui.widgets.timings import SHORT_NAMES, TimingsPanel

SOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
POOL = "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2"


def _health(**kw: Any) -> FeedHealth:
    base: dict[str, Any] = {f.name: 0 for f in dataclasses.fields(FeedHealth)}
    base.update(
        name="sim-0",
        url="ws://127.0.0.1:1",
        connected=True,
        last_error="",
        lag_p50_ms=None,
        lag_p99_ms=None,
        last_message_age_s=None,
    )
    base.update(kw)
    return FeedHealth(**base)


def _cell(f: FeedHealth, key: str) -> str:
    """The text of ``f``'s cell in the feeds panel's column ``key``."""
    keys = [c[0] for c in feeds.FeedsPanel.COLUMNS]
    return str(feeds.cells(f)[keys.index(key)])


def _lag(f: FeedHealth) -> str:
    return _cell(f, "lag")


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


BB = [c[0] for c in prices.PricesPanel.COLUMNS].index("bb")  # the %B column


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
    assert str(prices.cells(row)[BB]) == f"{expected:.2f}"
    # before 20 slots, and on a flat series (no band width), there is no %B; nor once a
    # walk has gone flat (its running sums used to leave a width of ~6e-11 there)
    (young,) = _book_after(eng, mids[:19]).rows()
    (flat,) = _book_after(eng, [150.0] * 25).rows()
    walk = (43 + np.cumsum(np.random.default_rng(0).normal(0, 0.3, 30))).tolist()
    (walked_flat,) = _book_after(eng, walk + [walk[-1]] * 25).rows()
    for r in (young, flat, walked_flat):
        assert r.percent_b is None and str(prices.cells(r)[BB]) == "—"


@pytest.mark.slow
async def test_timing_panel_shows_every_kernel_name_whole() -> None:
    app = ArbscopeApp(SimMarket(seed=7, tick_s=0.05))
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.screen.query_one(TimingsPanel)
        for _ in range(100):  # until the sweep (every 5 slots) has been timed and drawn
            if "find_negative_cycle" in [str(k.value) for k in panel.rows]:
                break
            await pilot.pause(0.1)
        width = panel.columns[next(iter(panel.columns))].width  # the kernel column's
        kernels = [str(k.value) for k in panel.rows]
        assert {"score_touching", "cpmm_amount_out", "find_negative_cycle"} <= set(kernels)
        for k in kernels:
            label = str(panel.get_cell(k, "kernel")).strip()
            assert label == SHORT_NAMES.get(k, k), (k, label)
            assert cell_len(" " + label) <= width, (label, width)
        await pilot.press("q")


def test_every_theme_names_its_profit_and_loss_colours() -> None:
    """The cycles, the detail and the portfolio colour money from ``$profit`` / ``$loss``:
    each theme sets both, and they differ."""
    from themes import THEMES

    for theme in THEMES:
        v = theme.variables
        assert v.get("profit") and v.get("loss") and v["profit"] != v["loss"], theme.name


def cost_of(snap: Any, o: Any) -> Any:
    """What the snapshot says the cycle ``o``'s transaction costs."""
    return snap.costs.get(o.base_mint + ":" + ",".join(o.pools))


def test_the_detail_colours_net_profit_and_the_decision_from_the_palette() -> None:
    from tui.screens.detail import detail
    from tui.widgets.palette import Palette

    m = staged_sim()
    go = next((o, s) for o, s in m.snapshot.opportunities if s.go)
    no = next((o, s) for o, s in m.snapshot.opportunities if not s.go and s.net_profit < 0)
    pal = Palette(profit="#010203", loss="#040506")
    console = Console(record=True, color_system="truecolor", width=140)
    console.print(detail(*go, pal, cost_of(m.snapshot, go[0])))
    good = console.export_text(styles=True)
    console.print(detail(*no, pal, cost_of(m.snapshot, no[0])))
    bad = console.export_text(styles=True)
    assert "38;2;1;2;3" in good and "38;2;4;5;6" not in good  # GO, net profit > 0
    assert "38;2;4;5;6" in bad and "38;2;1;2;3" not in bad  # NO-GO, net profit < 0


def test_the_detail_says_how_many_endpoints_feed_each_pool() -> None:
    """With the feeds' coverage, each hop shows ``n/m`` endpoints subscribed to all its
    pool's accounts; a pool no endpoint covers (its state stale) in the loss colour;
    without coverage (the demo, a replay) a dash."""
    from tui.screens.detail import detail
    from tui.widgets.palette import Palette

    m = staged_sim()
    o, s = next((o, s) for o, s in m.snapshot.opportunities if len(o.pools) >= 2)
    pal = Palette(profit="#010203", loss="#040506")
    coverage = {o.pools[0]: 0, o.pools[1]: 2}
    console = Console(record=True, color_system="truecolor", width=160)
    console.print(detail(o, s, pal, cost_of(m.snapshot, o), None, coverage, 3))
    text = console.export_text(styles=False)
    rows = [ln for ln in text.splitlines() if o.pools[0][:10] in ln or o.pools[1][:10] in ln]
    assert "0/3" in rows[0] and "2/3" in rows[1], rows
    styled = Console(record=True, color_system="truecolor", width=160)
    styled.print(detail(o, s, pal, cost_of(m.snapshot, o), None, coverage, 3))
    zero = next(ln for ln in styled.export_text(styles=True).splitlines() if "0/3" in ln)
    assert "\x1b[38;2;4;5;6m" in zero and zero.index("38;2;4;5;6m") < zero.index("0/3")
    console.print(detail(o, s, pal, cost_of(m.snapshot, o)))
    plain = console.export_text(styles=False)
    assert "0/3" not in plain and "2/3" not in plain


@pytest.mark.slow
async def test_a_theme_swap_recolours_the_go_cells_already_shown() -> None:
    """``t``: the rows kept across the swap are rewritten in the new theme's ``$profit``
    (a cell's text is the same, so comparing texts alone would keep the old colour)."""
    from themes import THEMES
    from tui.widgets.cycles import CyclesPanel, row_key

    app = fix_app(ArbscopeApp(staged_sim()))
    profit = {t.name: t.variables["profit"] for t in THEMES}

    def go_styles(panel: CyclesPanel) -> set[str]:
        keys = [row_key(o) for o, s in panel.by_key.values() if s.go]
        cells = [panel.get_row(k)[-1] for k in keys]  # the decision: " GO", padded
        return {str(sp.style) for c in cells for sp in c.spans}

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        panel = app.screen.query_one(CyclesPanel)
        assert go_styles(panel) == {f"bold {profit[app.theme]}"}
        await pilot.press("t")
        theme = app.theme
        async with asyncio.timeout(30):  # the next redraw
            while go_styles(panel) != {f"bold {profit[theme]}"}:
                await pilot.pause(0.05)
        assert profit[theme] != profit["arbscope-dark"]


def test_feeds_show_rate_limits_with_their_backoff_and_uncovered_accounts() -> None:
    row = _health(rate_limited=1234, backoff_s=12.4, uncovered=56)
    assert _cell(row, "rl") == "1,234 12s" and _cell(row, "unc") == "56"
    # a backoff that has (almost) run out shows the count alone; none shows 0
    assert _cell(_health(rate_limited=3, backoff_s=0.2), "rl") == "3"
    assert _cell(_health(), "rl") == "0" and _cell(_health(), "unc") == "0"
    assert len(feeds.cells(_health())) == len(feeds.FeedsPanel.COLUMNS)


def test_feeds_say_which_transport_each_endpoint_is_read_by() -> None:
    """Lead and lag compare endpoints whatever their transport: the via column says
    which is which, the name stays whole."""
    grpc = _health(name="sim-slow", transport="grpc")
    assert _cell(grpc, "via") == "grpc" and _cell(grpc, "name") == "sim-slow"
    assert _cell(_health(transport="ws"), "via") == "ws"


def test_a_go_cycle_one_transaction_cannot_hold_says_so_and_the_detail_why() -> None:
    """The scorer's GO is the economics; a cycle too big for one transaction even through
    address lookup tables is traded by nobody, so the row says ``GO · too big`` (not the
    profit colour) and the detail names the size and the limit."""
    from engine_rs.records import Opportunity, Score, as_dict
    from tui.screens.detail import detail
    from tui.widgets.cycles import verdict
    from tui.widgets.palette import Palette

    m = SimMarket(seed=7)
    m.tick()
    o: Opportunity
    s: Score
    o, s = m.snapshot.opportunities[0]
    s = Score(**{**as_dict(s), "go": True, "reasons": []})
    palette = Palette("green", "red")
    assert verdict(s, palette).plain == "GO"
    why = (
        "one transaction would be 1,498 bytes even through address lookup tables, over "
        "the 1,232-byte limit"
    )
    row = verdict(s, palette, why)
    assert row.plain == "GO · too big" and "green" not in str(row.style)
    console = Console(width=160, record=True)
    console.print(detail(o, s, palette, unsendable=why))
    text = console.export_text()
    assert "too big" in text and "1,498 bytes" in text and "not traded" in text
    console = Console(width=160, record=True)
    console.print(detail(o, s, palette))
    assert "too big" not in console.export_text()


def test_feeds_say_an_endpoint_lags_the_chain() -> None:
    """Issue 35: an endpoint whose slot is far behind the chain's (the chain follows the
    others) says by how much in its state; quarantine and down say more."""
    assert _cell(_health(lagging=True, behind=1_040), "st") == "LAG 1,040"
    assert _cell(_health(behind=3), "st") == "up"
    assert _cell(_health(lagging=True, behind=40, quarantined=True), "st") == "QUARANT"
    assert _cell(_health(lagging=True, behind=40, connected=False), "st") == "DOWN"


def test_the_status_bar_names_a_lagging_endpoint() -> None:
    """Issue 35: beside the verdict (DEGRADED and its first problem), the feeds part of
    the status bar names the endpoints lagging the chain's slot and by how much."""
    from types import SimpleNamespace

    from tui.widgets.status import StatusLine

    problem = "node-0 lagging: 40 slots behind the chain"
    snap = SimpleNamespace(
        kind="SIM",
        health="degraded",
        problems=(problem,),
        source="sim",
        note="",
        slot=5,
        feeds=[_health(name="node-0", lagging=True, behind=40), _health(name="node-1", lead=5)],
        commitment="confirmed",
        errors=0,
        mismatches=0,
        refused=[],
        names=None,
        session_id="",
        seed=7,
        backend="rust",
        shadow=None,
        pools=3,
        updates_per_s=1.0,
    )
    state = SimpleNamespace(
        mode="PAPER",
        halted=False,
        paused=False,
        message="",
        clock=lambda: 0.0,
        internal_errors=0,
        last_error="",
    )
    line = StatusLine()
    line.show(snap, state)  # type: ignore[arg-type]
    text = str(line.render())
    assert "DEGRADED" in text and "feeds 2/2 up, lead node-1, lagging node-0 40" in text
    snap.feeds = [_health(name="node-0"), _health(name="node-1", lead=5)]
    line.show(snap, state)  # type: ignore[arg-type]
    assert "lagging" not in str(line.render()).split("…")[-1]
    # the evaluation's backlog: said once its oldest pool has waited long (the market
    # outrunning the machine), not while pools wait their turn as usual
    line.show(snap, state, (1_234, 2.5))  # type: ignore[arg-type]
    assert "behind: 1,234 pools waiting, oldest 2.5 s" in str(line.render())
    line.show(snap, state, (40, 0.1))  # type: ignore[arg-type]
    assert "pools waiting" not in str(line.render())

"""Getting orders landed: several Jito block engines at once (the simulator's regions),
one landing and one tip per order, per-route counts in the view, the Portfolio panel
and ``/metrics``, the tip policy from the engines' tip floor."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from arbscope.execution.routes import RouteStats, TipPolicy, route_name, views
from feeds.sim.chain import BlockEngine
from feeds.wire import instructions as I
from tests.execution.test_live import (
    finished,
    go_cycle,
    live_session,
    record_landings,
    tick_until,
)


async def one_order(s: Any, timeout: float = 20.0) -> Any:
    """Arm, knock the market until a GO cycle, send one order by hand (``x``); the order
    once it ended."""
    assert (await s.request_live())[0]
    s.broker.auto = False
    o, _ = await go_cycle(s)
    assert s.trade(o.base_mint, list(o.pools)) == ""
    return await finished(s, 1, timeout)


def _engines(s: Any, **regions: BlockEngine) -> tuple[str, ...]:
    """Point the executor at the simulator's block engines ``regions``."""
    assert s.sim is not None and s.executor is not None
    s.sim.chain.engines.update(regions)
    base = s.endpoints[0].http.rstrip("/")
    urls = tuple(f"{base}/{r}" for r in regions)
    s.executor.config = replace(s.executor.config, jito=urls)
    return urls


async def test_one_order_to_three_engines_lands_once_and_pays_one_tip(
    keyfile: Path, tmp_path: Path
) -> None:
    async with live_session(keyfile, seed=11, db=tmp_path / "j.sqlite", tip_lamports=2_000) as s:
        urls = _engines(s, ny=BlockEngine(0), frankfurt=BlockEngine(1), tokyo=BlockEngine(2))
        landings = record_landings(s)
        order = await one_order(s)
        assert order.status == "confirmed", order.detail
        assert s.sim is not None and s.executor is not None
        chain = s.sim.chain
        # three bundles handed over, one landed (the nearest engine's); the later copies
        # are refused as already processed: one signature, one fee, one tip
        assert chain.stats.bundles == 3
        await tick_until(s, lambda: all(b["status"] != "Pending" for b in chain.bundles.values()))
        statuses = {r: chain.bundles[(r, b)]["status"] for (r, b) in chain.bundles}
        assert sorted(statuses.values()) == ["Failed", "Failed", "Landed"]
        assert statuses["ny"] == "Landed"
        _, acc_before, _, acc_after, _ = landings[order.signature]
        tips = sum(acc_after[t][0] - acc_before[t][0] for t in I.JITO_TIP_ACCOUNTS)
        assert tips == order.tip == 2_000
        routes = {r.route: r for r in s.executor.view().routes}
        assert set(routes) == {route_name(u) for u in urls}
        ny = routes[route_name(urls[0])]
        assert (ny.sent, ny.landed, ny.expired, ny.failed) == (1, 1, 0, 0)
        assert ny.slots_count == 1 and ny.p50_slots is not None and ny.p50_slots >= 1
        for u in urls[1:]:
            r = routes[route_name(u)]
            assert (r.sent, r.landed, r.expired, r.failed) == (1, 0, 0, 0)
        # /metrics exports the same numbers
        from prometheus_client import CollectorRegistry, generate_latest

        from arbscope.metrics import Health, SessionCollector

        reg = CollectorRegistry()
        reg.register(SessionCollector(s, Health(s)))
        text = generate_latest(reg).decode()
        name = route_name(urls[0])
        assert f'arbscope_route_orders_total{{outcome="landed",route="{name}"}} 1.0' in text
        assert f'arbscope_route_slots_to_land_count{{route="{name}"}} 1.0' in text


async def test_a_dead_engine_is_counted_and_the_order_lands_through_another(
    keyfile: Path, tmp_path: Path
) -> None:
    async with live_session(keyfile, seed=11, db=tmp_path / "j.sqlite", tip_lamports=2_000) as s:
        urls = _engines(s, amsterdam=BlockEngine(down=True), frankfurt=BlockEngine(0))
        order = await one_order(s)
        assert order.status == "confirmed", order.detail
        assert s.executor is not None
        routes = {r.route: r for r in s.executor.view().routes}
        dead, alive = routes[route_name(urls[0])], routes[route_name(urls[1])]
        assert (dead.sent, dead.refused, dead.landed) == (0, 1, 0)
        assert (alive.sent, alive.landed) == (1, 1)


async def test_an_order_no_engine_forwards_expires_on_every_route(
    keyfile: Path, tmp_path: Path
) -> None:
    """Both engines drop the bundle (it never reaches a leader): nothing lands, nothing
    is paid, and each route counts it expired."""
    async with live_session(keyfile, seed=11, db=tmp_path / "j.sqlite", tip_lamports=2_000,
                            confirm_timeout_s=3.0) as s:  # fmt: skip
        urls = _engines(s, ny=BlockEngine(drop=1.0), tokyo=BlockEngine(drop=1.0))
        assert (await s.request_live())[0]
        s.broker.auto = False  # type: ignore[union-attr]
        o, _ = await go_cycle(s)
        assert s.sim is not None and s.executor is not None
        tips_before = sum(s.sim.world.lamports(t) for t in I.JITO_TIP_ACCOUNTS)
        assert s.trade(o.base_mint, list(o.pools)) == ""
        order = await finished(s, 1, timeout=30)
        assert order.status in ("expired", "unknown")
        assert order.signature not in s.sim.chain.statuses
        assert sum(s.sim.world.lamports(t) for t in I.JITO_TIP_ACCOUNTS) == tips_before
        for u in urls:
            r = next(r for r in s.executor.view().routes if r.route == route_name(u))
            assert (r.sent, r.landed, r.expired, r.failed) == (1, 0, 1, 0)


async def test_the_percentile_tip_is_read_from_the_engines_tip_floor(
    keyfile: Path, tmp_path: Path
) -> None:
    """The simulator's tip floor is the percentiles of landed bundles' tips; the policy
    tips its p75 (within the floor of 1,000 and the cap)."""
    async with live_session(keyfile, seed=11, db=tmp_path / "j.sqlite", tip_lamports=1_000,
                            tip_policy="percentile", tip_percentile=75) as s:  # fmt: skip
        _engines(s, frankfurt=BlockEngine(0))
        assert s.sim is not None and s.executor is not None
        s.sim.chain.landed_tips.extend([1_000, 3_000, 5_000, 7_000, 9_000, 11_000, 13_000,
                                        15_000])  # fmt: skip
        floor = s.sim.chain.tip_floor()[0]
        assert floor["landed_tips_75th_percentile"] == 13_000 / 1e9
        order = await one_order(s)
        assert order.status == "confirmed", order.detail
        assert order.tip == 13_000


def test_the_tip_policy_keeps_within_its_floor_and_cap_and_refuses_bad_answers() -> None:
    p = TipPolicy("percentile", lamports=5_000, percentile=50, max_lamports=20_000)
    assert p.current() == 5_000 and p.stale(0.0)  # until a floor is read: the fallback
    assert p.read_floor([{"landed_tips_50th_percentile": 0.0000001}], 1.0) == 1_000
    assert p.read_floor([{"landed_tips_50th_percentile": 0.5}], 2.0) == 20_000
    assert p.current() == 20_000 and not p.stale(3.0) and p.stale(20.0)
    for bad in ([], [{}], [{"landed_tips_50th_percentile": "x"}],
                [{"landed_tips_50th_percentile": float("nan")}]):  # fmt: skip
        with pytest.raises(ValueError):
            p.read_floor(bad, 30.0)
    with pytest.raises(ValueError):
        TipPolicy("percentile", percentile=60)
    with pytest.raises(ValueError):
        TipPolicy("escalate")


def test_route_views_count_and_name_what_happened() -> None:
    r = RouteStats(sent=4, landed=3, failed=1, slots=[1, 2, 2, 5])
    r.errors["ExceededSlippage"] += 1
    (v,) = views({"jito:ny.mainnet.block-engine.jito.wtf": r})
    assert (v.sent, v.landed, v.failed, v.errors) == (4, 3, 1, (("ExceededSlippage", 1),))
    assert v.p50_slots == 2.0 and v.slots_sum == 10 and v.slots_count == 4
    assert route_name(None) == "rpc"
    assert route_name("https://user:key@ny.mainnet.block-engine.jito.wtf/?uuid=abc") == (
        "jito:ny.mainnet.block-engine.jito.wtf")  # fmt: skip

"""Getting orders landed: several Jito block engines at once (the simulator's regions),
one landing and one tip per order, per-route counts in the view, the Portfolio panel
and ``/metrics``, the tip policy from the engines' tip floor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from arbscope.events import Event
from arbscope.execution.routes import RouteStats, TipPolicy, route_name, views
from feeds.sim.chain import BlockEngine
from feeds.wire import instructions as I
from tests.support.live import (
    block_engines,
    finished,
    go_cycle,
    live_session,
    record_landings,
    tick_until,
)


async def one_order(s: Any, timeout: float = 20.0) -> Any:
    """Arm, knock the market until a GO cycle, send one order by hand (``x``); the order
    once it ended."""
    assert (await s.desk.request_live())[0]
    s.ev.broker.auto = False
    o, _ = await go_cycle(s)
    assert s.desk.trade(o.base_mint, list(o.pools)) == ""
    return await finished(s, 1, timeout)


@pytest.mark.slow
async def test_one_order_to_three_engines_lands_once_and_pays_one_tip(
    keyfile: Path, tmp_path: Path
) -> None:
    async with live_session(keyfile, seed=11, db=tmp_path / "j.sqlite", tip_lamports=2_000) as s:
        urls = block_engines(s, ny=BlockEngine(0), frankfurt=BlockEngine(1), tokyo=BlockEngine(2))
        landings = record_landings(s)
        order = await one_order(s)
        assert order.status == "confirmed", order.detail
        assert s.feeds.server is not None and s.ev.executor is not None
        chain = s.feeds.server.chain
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
        routes = {r.route: r for r in s.ev.executor.view().routes}
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
        reg.register(SessionCollector(s.view, Health(s.view)))
        text = generate_latest(reg).decode()
        name = route_name(urls[0])
        assert f'arbscope_route_orders_total{{outcome="landed",route="{name}"}} 1.0' in text
        assert f'arbscope_route_slots_to_land_count{{route="{name}"}} 1.0' in text


@pytest.mark.slow
async def test_a_dead_engine_is_counted_and_the_order_lands_through_another(
    keyfile: Path, tmp_path: Path
) -> None:
    async with live_session(keyfile, seed=11, db=tmp_path / "j.sqlite", tip_lamports=2_000) as s:
        urls = block_engines(s, amsterdam=BlockEngine(down=True), frankfurt=BlockEngine(0))
        order = await one_order(s)
        assert order.status == "confirmed", order.detail
        assert s.ev.executor is not None
        routes = {r.route: r for r in s.ev.executor.view().routes}
        dead, alive = routes[route_name(urls[0])], routes[route_name(urls[1])]
        assert (dead.sent, dead.refused, dead.landed) == (0, 1, 0)
        assert (alive.sent, alive.landed) == (1, 1)


@pytest.mark.slow
async def test_an_order_no_engine_forwards_ends_when_they_say_failed_and_expires_on_every_route(
    keyfile: Path, tmp_path: Path
) -> None:
    """Both engines drop the bundle (it never reaches a leader): nothing lands, nothing
    is paid, and each route counts it expired. The order does not wait for its blockhash
    (nor the confirmation's timeout, a minute here): once both engines answer
    ``getInflightBundleStatuses`` with ``Failed`` it ends, saying so, and frees its place."""
    async with live_session(
        keyfile,
        seed=11,
        db=tmp_path / "j.sqlite",
        tip_lamports=2_000,
        confirm_timeout_s=60.0,
        bundle_check_s=0.2,
    ) as s:
        urls = block_engines(s, ny=BlockEngine(drop=1.0), tokyo=BlockEngine(drop=1.0))
        assert (await s.desk.request_live())[0]
        s.ev.broker.auto = False  # type: ignore[union-attr]
        o, _ = await go_cycle(s)
        assert s.feeds.server is not None and s.ev.executor is not None
        tips_before = sum(s.feeds.server.world.lamports(t) for t in I.JITO_TIP_ACCOUNTS)
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        order = await finished(s, 1, timeout=30)
        assert order.status == "expired"
        assert "all 2 block engines failed the bundle" in order.detail
        assert s.ev.executor.core.open_orders() == 0  # its place is free
        assert order.signature not in s.feeds.server.chain.statuses
        assert sum(s.feeds.server.world.lamports(t) for t in I.JITO_TIP_ACCOUNTS) == tips_before
        for u in urls:
            r = next(r for r in s.ev.executor.view().routes if r.route == route_name(u))
            assert (r.sent, r.landed, r.expired, r.failed) == (1, 0, 1, 0)


@pytest.mark.slow
async def test_the_percentile_tip_is_read_from_the_engines_tip_floor(
    keyfile: Path, tmp_path: Path
) -> None:
    """The simulator's tip floor is the percentiles of landed bundles' tips; the policy
    tips its p75 (within the floor of 1,000 and the cap)."""
    async with live_session(
        keyfile,
        seed=11,
        db=tmp_path / "j.sqlite",
        tip_lamports=1_000,
        tip_policy="percentile",
        tip_percentile=75,
    ) as s:
        block_engines(s, frankfurt=BlockEngine(0))
        assert s.feeds.server is not None and s.ev.executor is not None
        s.feeds.server.chain.landed_tips.extend(
            [1_000, 3_000, 5_000, 7_000, 9_000, 11_000, 13_000, 15_000]
        )
        floor = s.feeds.server.chain.tip_floor()[0]
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
    for bad in (
        [],
        [{}],
        [{"landed_tips_50th_percentile": "x"}],
        [{"landed_tips_50th_percentile": float("nan")}],
    ):
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
        "jito:ny.mainnet.block-engine.jito.wtf"
    )


# ------------------------------------------------------------------ escalation, rate limits
ESCALATE: dict[str, Any] = {
    "tip_lamports": 2_000,
    "tip_escalation": True,
    "tip_step": 2.0,
    "tip_every_slots": 2,
    "tip_window_slots": 150,
}


@pytest.mark.slow
async def test_escalation_lands_a_later_version_once_and_pays_only_its_tip(
    keyfile: Path, tmp_path: Path
) -> None:
    """An engine that loses the first two versions: the third (tip 8,000) lands, the tip
    accounts gain exactly its tip, the earlier versions never land (their nonce moved),
    and the executor never went over the engines' 1 request a second."""
    async with live_session(keyfile, seed=11, db=tmp_path / "j.sqlite", **ESCALATE) as s:
        urls = block_engines(s, ny=BlockEngine(0, drop_first=2))
        assert s.feeds.server is not None and s.ev.executor is not None
        chain, w = s.feeds.server.chain, s.feeds.server.world
        landings = record_landings(s)
        events: list[tuple[str, dict[str, Any]]] = []
        journal = s.ev.executor.core.event

        def seen(event: Event) -> None:
            events.append((event.kind, event.payload()))
            journal(event)

        s.ev.executor.core.event = seen  # type: ignore[method-assign]
        order = await one_order(s, timeout=40)
        assert order.status == "confirmed", order.detail
        sigs = [sig for sig, _ in order.versions]
        tips = [tip for _, tip in order.versions]
        assert len(sigs) >= 3 and tips[:3] == [2_000, 4_000, 8_000], order.versions
        assert order.signature == sigs[2] and order.tip == 8_000
        # the landed version is the only one with a status, ever
        for _ in range(5):
            await tick_until(s, lambda: True)
        assert [sig in chain.statuses for sig in sigs] == [k == 2 for k in range(len(sigs))]
        _, before, _, after, _ = landings[order.signature]
        paid = sum(after[t][0] - before[t][0] for t in I.JITO_TIP_ACCOUNTS)
        assert paid == order.tip == 8_000
        # the nonce moved on when that version landed: none of the others can land now
        assert s.ev.executor.core.nonces is not None
        (nonce,) = s.ev.executor.core.nonces.ready
        held = I.read_nonce_account(I.SYSTEM_PROGRAM, w.accounts[nonce].data)
        assert held is not None and held[1] != order.durable
        r = next(r for r in s.ev.executor.view().routes if r.route == route_name(urls[0]))
        assert (r.sent, r.landed, r.superseded, r.expired, r.refused) == (
            len(sigs),
            1,
            len(sigs) - 1,
            0,
            0,
        )
        assert chain.engines["ny"].limited == 0  # paced under 1 request a second
        assert s.ev.executor.core.nonces.view.free == 1  # given back
        steps = [p.get("step") for k, p in events if k == "tx"]
        assert steps.count("escalated") == len(sigs) - 1
        end = next(p for k, p in events if k == "tx" and p.get("step") == "confirmed")
        assert end["tip"] == 8_000 and [v["tip"] for v in end["versions"]] == tips


@pytest.mark.slow
async def test_the_kill_switch_stops_the_versions_and_recalls_the_order(
    keyfile: Path, tmp_path: Path
) -> None:
    """Between versions the kill switch: no version more, the nonce advanced by the
    wallet, so none of those sent can ever land: nothing traded, no tip."""
    async with live_session(keyfile, seed=11, db=tmp_path / "j.sqlite", **ESCALATE) as s:
        block_engines(s, ny=BlockEngine(drop=1.0))
        assert (await s.desk.request_live())[0]
        assert s.feeds.server is not None and s.ev.executor is not None and s.ev.broker is not None
        s.ev.broker.auto = False
        o, _ = await go_cycle(s)
        tips_before = sum(s.feeds.server.world.lamports(t) for t in I.JITO_TIP_ACCOUNTS)
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        order = await tick_until(
            s, lambda: next((x for x in s.ev.executor.orders if len(x.versions) >= 2), None), 30
        )  # type: ignore[union-attr]
        s.ev.executor.kill()
        sent = len(order.versions)
        order = await finished(s, 1, timeout=30)
        assert order.status == "cancelled" and "recalled" in order.detail, order.detail
        assert len(order.versions) <= sent + 1  # at most one already on its way
        assert not any(sig in s.feeds.server.chain.statuses for sig, _ in order.versions)
        assert sum(s.feeds.server.world.lamports(t) for t in I.JITO_TIP_ACCOUNTS) == tips_before
        assert order.tip == 0
        # the nonce was advanced past every version's durable nonce
        nonce = order.nonce
        held = I.read_nonce_account(I.SYSTEM_PROGRAM, s.feeds.server.world.accounts[nonce].data)
        assert held is not None and held[1] != order.durable


@pytest.mark.slow
async def test_an_engine_over_its_rate_limit_is_counted_and_the_order_lands_elsewhere(
    keyfile: Path, tmp_path: Path
) -> None:
    """Another sender from this address used tokyo's one request of the second: the
    bundle there gets Jito's 429 (counted as refused, rate limited); frankfurt takes it."""
    async with live_session(keyfile, seed=11, db=tmp_path / "j.sqlite", tip_lamports=2_000) as s:
        assert s.feeds.server is not None
        tokyo = BlockEngine(0, rps=0.001)  # one request, then none for 1,000 s
        urls = block_engines(s, tokyo=tokyo, frankfurt=BlockEngine(1))
        assert tokyo.admit(s.feeds.server.jito_clock())  # the other sender's request
        order = await one_order(s)
        assert order.status == "confirmed", order.detail
        assert s.ev.executor is not None
        routes = {r.route: r for r in s.ev.executor.view().routes}
        limited, other = routes[route_name(urls[0])], routes[route_name(urls[1])]
        assert (limited.sent, limited.refused, limited.refusals) == (0, 1, (("rate limited", 1),))
        assert (other.sent, other.landed) == (1, 1)
        assert tokyo.limited >= 1 and s.feeds.server.chain.engines["frankfurt"].limited == 0


async def test_a_rate_limited_answer_is_jitos_429() -> None:
    from feeds.clients.rpc import JitoClient, RpcError
    from feeds.sim.server import SimServer, default_profiles
    from feeds.sim.world import WorldConfig

    async with SimServer(
        WorldConfig(seed=3, trades_per_slot=0),
        default_profiles(1),
        slot_seconds=3600,
        accept_transactions=True,
    ) as srv:
        now = [0.0]
        srv.jito_clock = lambda: now[0]
        jito = JitoClient(srv.infos()[0].http_url)
        try:
            await jito.inflight_status("x" * 64)
            with pytest.raises(RpcError) as e:
                await jito.inflight_status("x" * 64)
            assert e.value.rate_limited and e.value.code == -32097
            assert "Network congested. Endpoint is globally rate limited." in str(e.value)
            now[0] = 1.0  # a second later the engine takes one more
            jito.rpc.gate.until = 0.0
            assert await jito.inflight_status("x" * 64) == "Invalid"
        finally:
            await jito.close()


async def test_a_paced_gate_holds_the_next_request_back_and_escalation_steps_to_its_cap() -> None:
    from feeds.clients.ratelimit import RateGate

    gate = RateGate(interval_s=30.0)
    assert await gate.wait(limit_s=1.0)  # the first goes at once, and takes the slot
    assert gate.remaining() > 25.0
    assert not await gate.wait(limit_s=1.0)  # the next would wait too long: refused unsent
    assert await RateGate().wait(limit_s=0.0) and RateGate().remaining() == 0.0
    p = TipPolicy(
        "fixed",
        lamports=2_000,
        max_lamports=10_000,
        escalate=True,
        step=1.5,
        every_slots=4,
        window_slots=150,
    )
    tips = [2_000]
    while (nxt := p.escalated(tips[-1])) > tips[-1]:
        tips.append(nxt)
    assert tips == [2_000, 3_000, 4_500, 6_750, 10_000]
    assert "escalated x1.5 every 4 slot(s)" in p.shown()
    for bad in ({"step": 1.0}, {"every_slots": 150}, {"window_slots": 151}):
        with pytest.raises(ValueError, match=r"fees\.tip_escalation"):
            TipPolicy("fixed", escalate=True, **bad)  # type: ignore[arg-type]

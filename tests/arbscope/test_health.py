"""Health that tells the truth, over real sockets: simulator endpoints that refuse every
subscription, send mostly garbage, or freeze their slot while data still flows. `/health`
must degrade and say why, and the session's snapshot (the status bar's source) must say
the same; the dashboard at 80 columns shows it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from arbscope.metrics import MetricsSettings
from arbscope.session import FeedSession
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from tests.support.feeds import sim_session
from tests.support.hostile import until, until_answered

CFG = WorldConfig(seed=5, tokens=8, pools=16, trades_per_slot=10)


async def _health(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(url + "/health") as r:
        return r.status, json.loads(await r.text())


async def _until_health(
    s: FeedSession, pred: Callable[[dict[str, Any]], bool], timeout: float = 30.0
) -> tuple[int, dict[str, Any]]:
    """Tick the session and read /health until ``pred`` holds; AssertionError (with the
    last verdict) after ``timeout`` seconds."""
    assert s.health.server is not None
    url = s.health.server.url
    last: tuple[int, dict[str, Any]] = (0, {})

    async def holds() -> bool:
        nonlocal last
        s.tick()
        last = await _health(url)
        return pred(last[1])

    try:
        await until_answered(holds, timeout)
    except TimeoutError:
        raise AssertionError(f"/health never held the condition; last: {last}") from None
    return last


def _session(sim: SimServer, stall_s: float = 10.0) -> FeedSession:
    return sim_session(sim, metrics=MetricsSettings(port=0, stall_s=stall_s))


def _endpoint(name: str, **faults: Any) -> EndpointProfile:
    """An endpoint 2 ms away (1 ms of jitter), with the simulator's ``faults``."""
    return EndpointProfile(name, latency_ms=2, jitter_ms=1, **faults)


@contextlib.asynccontextmanager
async def _running(
    profiles: list[EndpointProfile], stall_s: float = 10.0
) -> AsyncIterator[FeedSession]:
    """A session on the simulator's endpoints ``profiles`` (50 ms slots), started;
    stopped on the way out."""
    async with SimServer(CFG, profiles, slot_seconds=0.05) as sim:
        s = _session(sim, stall_s=stall_s)
        await s.start()
        try:
            yield s
        finally:
            await s.stop()


def _mentions(verdict: dict[str, Any], text: str) -> bool:
    return any(text in p for p in verdict.get("problems", []))


async def test_an_endpoint_that_refuses_every_subscription_degrades_health() -> None:
    profiles = [
        _endpoint("good"),
        _endpoint("refuses", refuse_subscriptions=True),
    ]
    async with _running(profiles) as s:
        code, v = await _until_health(s, lambda v: _mentions(v, "refuses refused all"))
        s.tick()
        snap = s.snapshot
    assert s.feeds.pool is not None and s.feeds.pool.wanted > 1
    assert code == 200 and v["status"] == "degraded"
    assert f"refuses refused all {s.feeds.pool.wanted} subscriptions" in v["problems"]
    feeds = {f["name"]: f for f in v["feeds"]}
    assert feeds["refuses"]["refused"] == s.feeds.pool.wanted and feeds["good"]["refused"] == 0
    assert snap.health == "degraded" and any("refuses refused all" in p for p in snap.problems)


async def test_an_endpoint_sending_mostly_garbage_degrades_health() -> None:
    profiles = [
        _endpoint("good"),
        _endpoint("garbage", malformed_rate=0.9),
    ]
    async with _running(profiles) as s:
        code, v = await _until_health(s, lambda v: _mentions(v, "frames malformed"))
        s.tick()
        snap = s.snapshot
    assert code == 200 and v["status"] == "degraded"
    [problem] = [p for p in v["problems"] if "malformed" in p]
    assert problem.startswith("garbage: ") and "of frames malformed" in problem
    assert not _mentions(v, "good:")
    assert snap.health == "degraded" and any(p.startswith("garbage: ") for p in snap.problems)


@pytest.mark.slow
async def test_a_frozen_slot_while_frames_arrive_degrades_health() -> None:
    """The only endpoint keeps sending account notifications (and slot notifications
    that repeat one slot, so its watchdog sees a pulse): the slot stands still."""
    profiles = [_endpoint("frozen", freeze_slot_after=5)]
    async with SimServer(CFG, profiles, slot_seconds=0.05) as sim:
        s = _session(sim, stall_s=1.0)
        await s.start()
        try:
            code, v = await _until_health(s, lambda v: _mentions(v, "slot frozen"))
            frames = v["feeds"][0]
            s.tick()
            snap = s.snapshot
            updates = s.updates

            def moved() -> bool:  # the pools still change: only the slot is stuck
                s.tick()
                return s.updates > updates

            await until(moved)
        finally:
            await s.stop()
    assert code == 200 and v["status"] == "degraded"
    # it was heard from (how recently is the machine's pace, not the feature's: that the
    # pools still change after the verdict is the proof that frames flow)
    assert frames["connected"] and frames["last_message_age_s"] is not None
    assert not _mentions(v, "all feeds stalled")
    assert v["slot"] == sim.endpoints[0].frozen_slot
    assert snap.health == "degraded" and any("slot frozen" in p for p in snap.problems)


@pytest.mark.slow
@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_the_status_bar_shows_the_degraded_state_and_its_first_problem(
    size: tuple[int, int],
) -> None:
    from tui.app import ArbscopeApp
    from tui.widgets.status import StatusLine

    profiles = [
        _endpoint("good"),
        _endpoint("refuses", refuse_subscriptions=True),
    ]
    async with SimServer(CFG, profiles, slot_seconds=0.05) as sim:
        s = _session(sim)
        s.health.settings = replace(s.health.settings, serve=None)  # no /metrics (the screen alone)
        app = ArbscopeApp(s)
        async with app.run_test(size=size) as pilot:
            status = app.screen.query_one(StatusLine)
            first = ""
            async with asyncio.timeout(30):
                while "refuses refused all" not in first:
                    await pilot.pause(0.1)
                    first = "".join(seg.text for seg in status.render_line(0))
            await pilot.press("q")
    assert first.split()[:3] == ["PAPER", "LIVE", "DEGRADED"]
    assert "slot" in first and len(first) <= size[0]


async def _metrics(url: str) -> str:
    async with aiohttp.ClientSession() as s, s.get(url + "/metrics") as r:
        return await r.text()


def _metric(text: str, name: str, endpoint: str) -> float:
    for line in text.splitlines():
        if line.startswith(f'{name}{{endpoint="{endpoint}"}} '):
            return float(line.split()[-1])
    raise AssertionError(f"{name} of {endpoint} not in /metrics")


async def test_endpoints_that_lose_account_data_degrade_health_and_show_in_metrics() -> None:
    """Issue 62's fault run: one of the endpoints delivers no account data at all (99 %
    dropped), another loses a fifth of it; their slots keep coming, so nothing else is
    wrong with them. `missed` had the number and /health said ok: now each is a problem
    on /health past the threshold (metrics.missed_max_pct), and the healthy one is not."""
    profiles = [
        _endpoint("good"),
        _endpoint("no-accounts", account_drop_rate=0.99),
        _endpoint("fifth", account_drop_rate=0.2),
    ]
    async with _running(profiles) as s:
        code, v = await _until_health(
            s,
            lambda v: _mentions(v, "no-accounts missed") and _mentions(v, "fifth missed"),
            timeout=60.0,
        )
        assert s.health.server is not None
        text = await _metrics(s.health.server.url)
    assert code == 200 and v["status"] == "degraded"
    assert not _mentions(v, "good missed")
    assert (
        _metric(text, "arbscope_feed_missed", "no-accounts")
        > _metric(text, "arbscope_feed_missed", "fifth")
        > _metric(text, "arbscope_feed_missed", "good")
    )
    assert "arbscope_reconcile_requests_per_second " in text


async def test_unknown_ids_and_slots_from_the_future_degrade_health_and_show_in_metrics() -> None:
    """Notifications under subscription ids never given (7,387 in one run) and slots from
    the future were counted inside and shown nowhere: each is a problem on /health
    (unknown_max_pct, implausible_max) and a counter on /metrics, per endpoint."""
    unknown, future = _endpoint("unknown", unknown_rate=0.3), _endpoint("future", future_after=40)
    async with _running([_endpoint("good"), unknown, future]) as s:
        _code, v = await _until_health(
            s, lambda v: _mentions(v, "never gave (unknown)"), timeout=60.0
        )
        assert s.health.server is not None
        if not _mentions(v, "future: "):  # the future endpoint's lie, once a connection
            _code, v = await _until_health(s, lambda v: _mentions(v, "future: "), timeout=60.0)
        text = await _metrics(s.health.server.url)
    assert v["status"] == "degraded"
    # (the problems said in full when not: a CI run once saw the healthy endpoint named,
    # and the truncated verdict did not say how)
    assert _mentions(v, "(implausible)"), v["problems"]
    assert not _mentions(v, "good"), v["problems"]
    assert _metric(text, "arbscope_feed_unknown_total", "unknown") > 0
    assert _metric(text, "arbscope_feed_unknown_total", "good") == 0
    assert _metric(text, "arbscope_feed_implausible_total", "future") > 0
    assert _metric(text, "arbscope_feed_implausible_total", "good") == 0
    for name in ("arbscope_feed_older_total", "arbscope_feed_repaired_total"):
        assert _metric(text, name, "good") == 0

"""Provider limits end to end: a session on a simulator whose endpoints rate-limit and
cap subscriptions rides them out, and the counts reach the Feeds panel on the screen,
``/metrics`` and ``/health`` (the real session, the real Textual app, real sockets)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from arbscope.metrics import MetricsSettings
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from tests.support.feeds import refusing, sim_session
from tests.support.pilot import until
from tui.app import ArbscopeApp
from tui.widgets.feeds import FeedsPanel

pytestmark = pytest.mark.e2e

CFG = WorldConfig(seed=5, tokens=8, pools=16, trades_per_slot=10)
CAP = 12


# the feeds panel's columns: rate-limit answers, accounts not covered
RL, UNC = ([c[0] for c in FeedsPanel.COLUMNS].index(k) for k in ("rl", "unc"))


async def _get(url: str) -> str:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return await r.text()


async def test_rate_limits_and_caps_ride_out_and_show_on_screen_and_in_metrics() -> None:
    profiles = [
        refusing("limited", "retry-after", retry_after_s=60),
        EndpointProfile(
            "capped", latency_ms=2, jitter_ms=1, max_subscriptions=CAP, cap_answer="close"
        ),
        EndpointProfile("full", latency_ms=2, jitter_ms=1),
    ]
    async with SimServer(CFG, profiles, slot_seconds=0.05) as sim:
        s = sim_session(sim, metrics=MetricsSettings(port=0))
        app = ArbscopeApp(s)
        async with app.run_test(size=(200, 50)) as pilot:

            def rows() -> dict[str, list[str]]:
                found = app.screen.query(FeedsPanel)  # on the live screen, once it is up
                if not found:
                    return {}
                t = found.first()
                return {
                    str(t.get_row(k)[0]).strip(): [str(c).strip() for c in t.get_row(k)]
                    for k in t.rows
                }

            seen: list[tuple[dict[str, list[str]], int]] = []

            def shown() -> bool:
                # the panel as drawn and the accounts watched at the same moment: the
                # set moves as tick arrays follow prices, and the screen redraws a tick
                # later (on a busy machine, later still), so they are judged together
                r = rows()
                watched = len(s.feeds.pool.ingest.watched()) if s.feeds.pool is not None else 0
                ok = (
                    "limited" in r
                    and r["limited"][RL].startswith("1 ")
                    and "capped" in r
                    and r["capped"][UNC] == f"{watched - (CAP - 1):,}"
                    and "full" in r
                    and r["full"][UNC] == "0"
                    and s.feeds.pool is not None
                    and s.feeds.pool.workers[1].cap == CAP
                )
                if ok:
                    seen.append((r, watched))
                return ok

            await until(pilot, shown, timeout=60.0)
            r, watched = seen[-1]
            pool = s.feeds.pool
            assert pool is not None
            assert s.health.server is not None
            # a scrape whose count of the capped endpoint's uncovered accounts is the one
            # the watched set says as it was answered, with the full endpoint covering
            # everything and so no pool uncovered (the set moves between scrapes: a tick
            # array that follows a price is uncovered everywhere until its subscriptions
            # are confirmed; and the pools no endpoint covers are looked at once a second,
            # at a turn's start, the endpoints' accounts at the scrape, so one scrape can
            # hold a pool uncovered a moment ago beside endpoints that cover it now)
            async with asyncio.timeout(60.0):
                while True:
                    metrics = await _get(s.health.server.url + "/metrics")
                    now = len(pool.ingest.watched()) - (CAP - 1)
                    if (
                        f'uncovered_accounts{{endpoint="capped"}} {now}.0' in metrics
                        and 'uncovered_accounts{endpoint="full"} 0.0' in metrics
                        and "arbscope_pools_uncovered 0.0" in metrics
                    ):
                        break
                    await pilot.pause(0.02)
            health = await _get(s.health.server.url + "/health")
            limited_requests = sim.endpoints[0].stats["requests"]
            await pilot.press("q")
    # the rate-limited endpoint: one request, refused, then 60 s (capped at 30) of
    # backoff: asked no more, however many snapshots, re-fetches and fee polls ran
    assert limited_requests == 1
    assert r["limited"][RL].endswith("s")  # the backoff still to wait, in seconds
    # the capped one covers the first CAP - 1 accounts; the full one everything
    assert r["capped"][UNC] == f"{watched - (CAP - 1):,}"
    assert 'arbscope_feed_rate_limited_total{endpoint="limited"} 1.0' in metrics
    assert 'arbscope_feed_rate_limited_total{endpoint="full"} 0.0' in metrics
    assert 'arbscope_feed_uncovered_accounts{endpoint="capped"}' in metrics
    assert 'arbscope_feed_uncovered_accounts{endpoint="full"} 0.0' in metrics
    assert "arbscope_pools_uncovered 0.0" in metrics
    assert 'arbscope_feed_backoff_seconds{endpoint="limited"}' in metrics
    assert '"rate_limited": 1' in health


async def test_pools_no_endpoint_covers_are_named_stale_in_the_status_note() -> None:
    from tests.support.hostile import until as until_true

    profiles = [
        EndpointProfile(f"cap-{i}", latency_ms=2, jitter_ms=1, max_subscriptions=CAP)
        for i in range(2)
    ]
    async with SimServer(CFG, profiles, slot_seconds=0.05) as sim:
        s = sim_session(sim, metrics=MetricsSettings(port=0))
        await s.start()
        try:
            pool = s.feeds.pool
            assert pool is not None
            # every endpoint at its cap and its refusals answered: a subscription asked and
            # not yet answered counts as covered for its round trip (a fresh connection,
            # the tick arrays a price walked into), and on a busy machine that window is
            # long enough to be read
            await until_true(
                lambda: (
                    all(h.subscriptions == CAP for h in pool.health())
                    and bool(pool.uncovered_pools())
                )
            )
            s.tick()
            note = s.snapshot.note
            bare = pool.uncovered_pools()
            assert s.health.server is not None
            metrics = await _get(s.health.server.url + "/metrics")
        finally:
            await s.stop()
    assert bare and note.startswith(f"{len(bare)} pools covered by no endpoint")
    assert "their state is stale" in note and bare[0][:8] in note
    # the count moves as tick arrays come and go (new ones over the cap): one of the pools
    [line] = [x for x in metrics.splitlines() if x.startswith("arbscope_pools_uncovered ")]
    assert 0 < float(line.split()[1]) <= len(pool.pool_accounts)


async def test_cycles_through_pools_no_endpoint_covers_are_no_go_on_health_and_in_replay(
    tmp_path: Path,
) -> None:
    """Pools every endpoint's cap leaves out: their cycles are no-go (``uncovered``), the
    count is a problem on ``/health``, and the set is journaled (``UNCOVERED``) so the
    replay decides as the session did (same digest, same set)."""
    from arbscope.market import REASON_UNCOVERED
    from arbscope.replay import ReplaySession, load_info
    from arbscope.session import RecordSettings
    from tests.support.hostile import until as until_true

    profiles = [
        EndpointProfile(f"cap-{i}", latency_ms=2, jitter_ms=1, max_subscriptions=CAP)
        for i in range(2)
    ]
    db = tmp_path / "j.sqlite"
    async with SimServer(CFG, profiles, slot_seconds=0.05) as sim:
        s = sim_session(sim, metrics=MetricsSettings(port=0), record=RecordSettings(db))
        await s.start()
        try:
            pool = s.feeds.pool
            assert pool is not None

            def turned() -> bool:
                s.tick()
                return bool(s.ev.uncovered)

            await until_true(turned)
            bare = set(s.ev.uncovered)
            for p in sorted(bare):  # every cycle through them, scored now
                s.ev.evaluate(p, s.slot)
            through = [sc for k, (_, sc) in s.ev.live.items() if bare & set(k[1])]
            assert s.health.server is not None
            health = await _get(s.health.server.url + "/health")
        finally:
            await s.stop()
    final = s.ev.uncovered  # the last set the session recorded and applied
    assert bare <= set(pool.pool_accounts)
    assert all(not sc.go and sc.reasons[0] == REASON_UNCOVERED for sc in through)
    assert f"{len(bare)} pools covered by no endpoint: their cycles are no-go" in health
    info = await load_info(db, s.session_id)
    assert info.complete and info.digest == s.digest
    r = ReplaySession(db, info)
    await r.start()
    try:
        assert await r.play() == s.digest
        assert r.session.ev.uncovered == final
    finally:
        await r.stop()

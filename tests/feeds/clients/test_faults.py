"""Faults, against the real simulator over real sockets: an endpoint that closes
mid-stream, one that sends malformed JSON, one that sends wrong-size or wrong-owner
accounts, one that stalls, one that never answers. The session must not crash, each
fault must show in that endpoint's FeedHealth, the broken endpoints must reconnect, and
the healthy endpoint must lose nothing: every notification it was sent arrives, and
the graph ends equal to the simulated market's."""

from __future__ import annotations

import dataclasses
import types

import pytest

from engine_rs.records import as_dict
from feeds.clients.pool import Endpoint, FeedPool
from feeds.health import FeedHealth
from feeds.redact import redact
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from tests.support.feeds import QUICK
from tests.support.hostile import until
from tests.support.truth import market_graph

CFG = WorldConfig(seed=5, tokens=8, pools=16, trades_per_slot=10)
# short enough that every fault shows within seconds, long enough that a healthy endpoint
# on a busy machine never looks stalled (the test waits on conditions, not on these)
# the support's quick config: its 2 s to open a connection, not less (with 0.5 s a loaded
# machine's slow reconnect after the "closes" endpoint's close ended as "no answer": the
# last error then named the timeout, not the close this test looks for)
PROFILES = [
    EndpointProfile("healthy", latency_ms=2, jitter_ms=1),
    EndpointProfile("closes", latency_ms=3, jitter_ms=1, close_after=40),
    EndpointProfile("garbage", latency_ms=3, jitter_ms=1, malformed_rate=0.2),
    EndpointProfile("bad-accounts", latency_ms=3, jitter_ms=1, bad_account_rate=0.3),
    EndpointProfile("stalls", latency_ms=3, jitter_ms=1, stall_after=60),
    EndpointProfile("silent", silent=True),
]


@pytest.mark.slow
async def test_faulty_endpoints_are_counted_and_the_healthy_one_loses_nothing(
    eng: types.ModuleType, transport: str
) -> None:
    server = SimServer(CFG, PROFILES, slot_seconds=0.03)
    infos = await server.start()
    graph = eng.PoolGraph(base_mints=server.world.bases, max_hops=3)
    ing = eng.FeedIngest(graph)
    # the silent endpoint is first: the snapshot must fall through to the next one
    order = [5, 0, 1, 2, 3, 4]
    eps = [Endpoint(infos[i].name, infos[i].ws_url, infos[i].http_url) for i in order]
    # no maintenance round: the accounts followed stay the bootstrap's. Tick arrays that
    # follow a moved Whirlpool are subscribed on each endpoint in turn, and a copy one
    # endpoint sends before another has subscribed counts as "missed" there, which is
    # not what this test measures (the exact count below is)
    cfg = dataclasses.replace(QUICK, transport=transport)
    pool = FeedPool(eps, ing, eng, cfg, rpc_timeout_s=2.0, maintain_s=3600.0)
    try:
        boot = await pool.bootstrap(server.world.universe())
        assert boot.pools == len(server.world.pools) and not boot.missing and not boot.rejected
        assert boot.endpoint == "healthy"
        await pool.start(boot.subscriptions)

        def by_name() -> dict[str, FeedHealth]:
            return {h.name: h for h in pool.health()}

        def refused_first(endpoint: int) -> int:
            return sum(e.refused_first for e in ing.endpoint_stats() if e.endpoint == endpoint)

        # every fault has shown at least as often as the assertions below ask
        await until(
            lambda: (
                (h := by_name())["closes"].reconnects >= 2
                and h["garbage"].malformed > 0
                and h["bad-accounts"].rejected > 0
                and h["stalls"].reconnects >= 1
                and h["silent"].reconnects >= 1
            ),
            timeout=120.0,
        )
        # quiesce: stop the market, then wait until the healthy endpoint's last
        # notifications have arrived (well before its stall watchdog would fire)
        server._clock.cancel()  # type: ignore[union-attr]
        healthy = next(ep for ep in server.endpoints if ep.profile.name == "healthy")

        def drained() -> bool:  # received, and through the ingest (what `missed` is
            # counted from); a copy the ingest refused (older than the state held: a
            # stalled endpoint's copy came first) is neither a lead nor a duplicate
            h = by_name()["healthy"]
            return bool(
                h.messages >= healthy.stats["notifications"] + healthy.stats["pubsub_requests"]
                and h.lead + h.duplicates + refused_first(h.endpoint)
                >= healthy.stats["notifications"]
            )

        try:
            await until(drained, timeout=60.0)
        except TimeoutError:
            h = by_name()["healthy"]
            raise AssertionError(
                f"the healthy endpoint never drained: {h} refused_first="
                f"{refused_first(h.endpoint)} sent={healthy.stats}"
            ) from None
        health = by_name()
        sent = {ep.profile.name: ep.stats["notifications"] for ep in server.endpoints}
        answered = healthy.stats["pubsub_requests"]  # one answer per request
    finally:
        await pool.stop()
        await server.stop()

    ok = health["healthy"]
    assert ok.connected and ok.reconnects == 0 and ok.malformed == ok.rejected == 0
    # every notification the healthy endpoint was sent arrived, and every answer to a
    # request (its subscriptions)
    assert answered >= len(boot.subscriptions)
    assert ok.messages == sent["healthy"] + answered
    # `missed` is counted from the ingest's dedup (first copies any endpoint delivered
    # that this one did not). The exact count above is what proves nothing was lost; on a
    # loaded machine a stalled or reconnecting endpoint's late copy can count as a first
    # one for a moment (seen 2 in ~3,800 under two busy loops; 11 and 12 in ~3,300 on the
    # twin in whole-suite runs on a fresh clone, 0 when run alone; more under heavy load
    # on picows, which hands a whole socket read over at once: the bad-accounts
    # endpoint's copies refused as older count here), so the metric is held to a small
    # share (5 %), not to zero
    assert ok.missed <= max(5, ok.lead // 20) and ok.lead > 0 and ok.last_error == ""
    assert health["closes"].reconnects >= 2 and "closed" in health["closes"].last_error
    assert health["garbage"].malformed > 0 and "malformed" in health["garbage"].last_error
    assert health["bad-accounts"].rejected > 0 and "rejected" in health["bad-accounts"].last_error
    assert health["stalls"].reconnects >= 1 and "stalled" in health["stalls"].last_error
    silent = health["silent"]
    assert not silent.connected and silent.messages == 0 and silent.reconnects >= 1
    assert "no answer" in silent.last_error
    for h in health.values():
        assert h.url == redact(h.url)

    # the graph equals the simulated market, whatever the faulty endpoints sent
    want = market_graph(eng, server.world)
    assert sorted(graph.pools()) == sorted(want.pools())
    for b in server.world.bases:
        got = [as_dict(o) for o in graph.cycles(b, 3)]
        exp = [as_dict(o) for o in want.cycles(b, 3)]
        for o in got + exp:
            o.pop("age_slots", None)
        assert [(o["pools"], o["amount_in"], o["profit"]) for o in got] == [
            (o["pools"], o["amount_in"], o["profit"]) for o in exp
        ]


async def test_a_dead_endpoint_is_a_message_not_a_traceback(
    eng: types.ModuleType, transport: str
) -> None:
    graph = eng.PoolGraph(base_mints=[], max_hops=3)
    pool = FeedPool(
        [
            Endpoint(
                "dead",
                "ws://127.0.0.1:9/?api-key=SECRETSECRETSECRET1",
                "http://127.0.0.1:9/?api-key=SECRETSECRETSECRET1",
            )
        ],
        eng.FeedIngest(graph),
        eng,
        dataclasses.replace(QUICK, transport=transport),
        rpc_timeout_s=0.5,
    )
    from feeds.clients.rpc import RpcError

    with pytest.raises(RpcError) as err:
        await pool.bootstrap([("11111111111111111111111111111112", "whirlpool")])
    assert "SECRET" not in str(err.value) and "api-key=***" in str(err.value)
    await pool.start([])
    try:
        await until(lambda: pool.health()[0].reconnects >= 1)
        h = pool.health()[0]
    finally:
        await pool.stop()
    assert not h.connected and h.reconnects >= 1 and "SECRET" not in h.last_error and h.last_error

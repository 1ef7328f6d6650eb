"""A busy start, against the real simulator over real sockets: a node slow to answer
HTTP JSON-RPC (``EndpointProfile.rpc_delay_ms``: the answer it would give, later) is
waited for — the snapshot's chunks retried with a longer timeout — never a failed start
while some endpoint answers; an endpoint nothing listens on fails the start at once
with a clear error; the requests in flight at one endpoint stay within
``rpc_concurrency`` (counted by the server); and the snapshot's progress is on the
status line while the session starts."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import types
from collections.abc import Callable
from dataclasses import replace

import pytest

from arbscope import sources
from engine_rs.errors import DecodeError
from feeds.clients.pool import BootProgress, Endpoint, FeedPool
from feeds.clients.pubsub import WorkerConfig
from feeds.clients.rpc import RpcError
from feeds.sim.server import IDENTITY_KEYS, EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from tests.support.feeds import market_equal
from tests.support.frames import account_frame
from tests.support.hostile import until

CFG = WorldConfig(seed=5, tokens=8, pools=16, trades_per_slot=10)
DEAD = Endpoint("dead", "ws://127.0.0.1:9", "http://127.0.0.1:9")  # nothing listens on 9
# the slow node's answers come 0.6 s late, its client gives up after 0.2 s at first: the
# first attempt of every chunk times out whatever the machine's load, and the timeout
# doubles (0.2, 0.4, 0.8, 1.6, 1.6) until one is long enough
SLOW = EndpointProfile("slow", latency_ms=1, jitter_ms=0, rpc_delay_ms=600)
TIMEOUT_S = 0.2


def endpoints(server: SimServer) -> list[Endpoint]:
    return [Endpoint(i.name, i.ws_url, i.http_url) for i in server.infos()]


async def test_a_slow_node_is_waited_for_and_the_snapshot_is_whole(
    eng: types.ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="feeds.clients.pool")
    async with SimServer(CFG, [SLOW], slot_seconds=0.05) as server:
        ing = eng.FeedIngest(eng.PoolGraph(base_mints=server.world.bases, max_hops=3))
        # the dead endpoint first: it is asked first and refuses; the slow one answers
        pool = FeedPool([DEAD, *endpoints(server)], ing, eng, rpc_timeout_s=TIMEOUT_S)
        boot = await pool.bootstrap(server.world.universe())
        await pool.stop()
    assert boot.pools == len(server.world.pools) and not boot.missing and not boot.rejected
    assert boot.endpoint == "slow"
    assert pool.progress.done and pool.progress.retries > 0
    said = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("snapshot: pools,") for m in said)
    assert any("retried in" in m and "no answer within 0.2 s" in m for m in said)
    assert any(
        "retried in" in m and r.levelno == logging.WARNING for m, r in zip(said, caplog.records)
    )
    assert any(m.startswith("snapshot: ") and "accounts read" in m for m in said)


async def test_no_endpoint_that_can_be_reached_fails_at_once_and_says_why(
    eng: types.ModuleType,
) -> None:
    ing = eng.FeedIngest(eng.PoolGraph(base_mints=[], max_hops=3))
    pool = FeedPool([DEAD], ing, eng, rpc_timeout_s=5.0)
    with pytest.raises(RpcError) as got:
        await pool.bootstrap([("11111111111111111111111111111112", "amm_v4")])
    await pool.stop()
    assert got.value.unreachable and not got.value.transient
    assert "no endpoint answered getMultipleAccounts" in str(got.value)
    assert "http://127.0.0.1:9" in str(got.value)
    assert pool.progress.retries == 0  # nothing to wait for: not retried


async def test_requests_in_flight_at_an_endpoint_stay_within_the_bound(
    eng: types.ModuleType,
) -> None:
    # 160 pools: several chunks of 100 accounts in a phase; each answer held 200 ms, so
    # without the bound they would all be in flight at once (a loaded machine may send
    # them apart: at most the bound, not exactly it)
    cfg = WorldConfig(seed=5, tokens=30, pools=160, trades_per_slot=10)
    slowish = EndpointProfile("busy", latency_ms=1, jitter_ms=0, rpc_delay_ms=200)
    async with SimServer(cfg, [slowish], slot_seconds=0.05) as server:
        ing = eng.FeedIngest(eng.PoolGraph(base_mints=server.world.bases, max_hops=3))
        pool = FeedPool(endpoints(server), ing, eng, rpc_timeout_s=30.0, rpc_concurrency=2)
        boot = await pool.bootstrap(server.world.universe())
        await pool.stop()
        stats = server.endpoints[0].stats
        served = server.endpoints[0].served
    assert boot.pools == len(server.world.pools) and not boot.missing
    assert served["getMultipleAccounts"][0] >= 6  # enough chunks to go past the bound
    assert 1 <= stats["http_inflight_max"] <= 2


async def test_the_snapshots_requests_go_over_kept_alive_connections(
    eng: types.ModuleType,
) -> None:
    """Every hedged request used to open a connection of its own (a TCP and, on a
    real node, a TLS handshake before each ``getMultipleAccounts``; measured: ~11 new
    connections a second in the 3,000-pool soak, each left as cyclic garbage). The
    endpoint's connections are kept: no more than the requests it allows in flight at
    once, however many requests."""
    cfg = WorldConfig(seed=5, tokens=30, pools=160, trades_per_slot=10)
    async with SimServer(cfg, [EndpointProfile("one", latency_ms=1, jitter_ms=0)]) as server:
        ing = eng.FeedIngest(eng.PoolGraph(base_mints=server.world.bases, max_hops=3))
        pool = FeedPool(endpoints(server), ing, eng, rpc_timeout_s=30.0, rpc_concurrency=2)
        boot = await pool.bootstrap(server.world.universe())
        again = await pool.fetch_accounts([a for a, _ in server.world.universe()[:5]])
        await pool.stop()
        stats = server.endpoints[0].stats
    assert boot.pools == len(server.world.pools) and len(again) == 5
    assert stats["requests"] >= 8  # the snapshot's chunks, its phases, the fetch after
    assert 1 <= stats["http_connections"] <= 2


def test_the_progress_line() -> None:
    p = BootProgress("tick arrays and mints", 1200, 3000)
    assert p.text() == "snapshot: tick arrays and mints 1,200 / 3,000 accounts"
    p.retries, p.problem = 2, "no endpoint answered getMultipleAccounts: ..."
    assert p.text().endswith("; 2 retried (no endpoint answered getMultipleAccounts: ...)")
    p.done = True
    assert p.text() == ""


async def test_the_snapshot_s_progress_is_on_the_status_line_while_starting() -> None:
    async with SimServer(CFG, [SLOW], slot_seconds=0.05) as server:
        s = sources.session(
            sources.Watch(universe=server.world.universe(), base_mints=server.world.bases, seed=5),
            endpoints=endpoints(server),
            options=sources.FeedOptions(rpc_timeout_s=TIMEOUT_S),
        )
        start = asyncio.create_task(s.start())
        try:
            await until(lambda: "retried (" in s.snapshot.note, timeout=120.0)
            note = s.snapshot.note
            await start
            after = s.snapshot.note
        finally:
            await s.stop()
    assert note.startswith("snapshot: ") and "no endpoint answered" in note
    assert s.start_error == "" and "snapshot" not in after


class _Tap:
    """The ingest, calling ``each(n)`` before the ``n``-th account reaches it (a tap
    only: every call goes to the real ingest)."""

    def __init__(self, ingest: object, each: Callable[[int], None]) -> None:
        self._ingest, self._each, self._n = ingest, each, 0

    def account(self, *args: object) -> object:
        self._n += 1
        self._each(self._n)
        return self._ingest.account(*args)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._ingest, name)


async def test_each_chunk_reaches_the_graph_as_it_comes_not_the_market_at_once(
    eng: types.ModuleType,
) -> None:
    # the snapshot and the re-fetch after a reconnect (fill_gaps) hand each chunk's
    # answer to the graph as it comes: what is held at once is bounded by the requests
    # in flight, never the whole market's accounts (at 3,000 pools, holding them all
    # left the process ~700 MB bigger for good after the first reconnect). One request
    # in flight at a time: the first account reaches the graph after one or two
    # answers, not after all of them (the snapshot's first phase, 300 pools, is 3).
    cfg = WorldConfig(seed=5, tokens=30, pools=300, trades_per_slot=10)
    async with SimServer(cfg, [EndpointProfile("one", latency_ms=1, jitter_ms=0)]) as server:
        ep = server.endpoints[0]

        def served() -> int:
            return ep.served.get("getMultipleAccounts", [0])[0]

        # how many answers the node had given when the first account reached the graph
        ing = types.SimpleNamespace(first=None)

        def note(_n: int) -> None:
            if ing.first is None:
                ing.first = served()

        real = eng.FeedIngest(eng.PoolGraph(base_mints=server.world.bases, max_hops=3))
        pool = FeedPool(
            endpoints(server), _Tap(real, note), eng, rpc_timeout_s=30.0, rpc_concurrency=1
        )
        boot = await pool.bootstrap(server.world.universe())
        assert boot.pools == len(server.world.pools) and not boot.missing and not boot.rejected
        assert served() >= 6 and ing.first is not None and ing.first <= 2
        # an endpoint that reconnected and is subscribed again: every watched account
        # is fetched once more, chunk by chunk into the graph
        watched = len(list(real.watched()))
        c = pool.counters[0]
        c.reconnects, c.connected, c.subscriptions = 1, True, pool.wanted
        before, ing.first = served(), None
        await pool.fill_gaps()
        await pool.stop()
    assert pool.resnapshots == 1 and pool.refetched == watched
    assert served() - before >= 2 and ing.first is not None and ing.first - before <= 2


async def test_a_gap_fill_that_failed_halfway_resumes_where_it_stopped(
    eng: types.ModuleType,
) -> None:
    # the re-fetch after a reconnect, on busy nodes: a chunk that fails ends the round,
    # what was fetched stays done, and the next round asks only for the rest (before,
    # each round asked for the whole market again, and on nodes too busy to answer it
    # all in time never ended)
    cfg = WorldConfig(seed=5, tokens=30, pools=300, trades_per_slot=10)
    prof = EndpointProfile("one", latency_ms=1, jitter_ms=0)
    async with SimServer(cfg, [prof]) as server:
        ep = server.endpoints[0]

        def served() -> int:
            return ep.served.get("getMultipleAccounts", [0])[0]

        real = eng.FeedIngest(eng.PoolGraph(base_mints=server.world.bases, max_hops=3))
        pool = FeedPool(endpoints(server), real, eng, rpc_timeout_s=5.0, rpc_concurrency=1)
        await pool.bootstrap(server.world.universe())
        watched = len(list(real.watched()))
        assert watched > 400  # at least five chunks

        def slow() -> None:
            ep.profile = replace(prof, rpc_delay_ms=120_000)  # past the client's 5 s

        # halfway through the second chunk
        pool.ingest = _Tap(real, lambda n: slow() if n == 150 else None)
        c = pool.counters[0]
        c.reconnects, c.connected, c.subscriptions = 1, True, pool.wanted
        with pytest.raises(RpcError):
            await pool.fill_gaps()
        assert pool.resnapshots == 0 and 100 <= pool.refetched < watched
        first = pool.refetched
        ep.profile = prof  # the node answers again
        pool.ingest = real
        before = served()
        await pool.fill_gaps()
        asked = served() - before
        await pool.stop()
    assert pool.resnapshots == 1 and pool.refetched == watched  # each account once
    assert asked == -(-(watched - first) // 100)  # only the rest, in chunks of 100


@pytest.mark.parametrize(
    "other",
    [
        "whole",
        "cut too",
        "refused some",
        "subscribing",
        "whole only after",
        "malformed",
        "rejected",
        "oversize",
        "unknown",
        "identity",
    ],
)
async def test_a_reconnect_is_filled_unless_another_endpoint_streamed_everything_meanwhile(
    eng: types.ModuleType, other: str
) -> None:
    """Endpoint 1 drops (a maintenance round sees it down) and comes back subscribed.
    Its gap is fetched again unless endpoint 0 streamed every watched account all through
    the outage: connected with every subscription answered and none refused from the
    round before the outage on, no reconnect of its own, and no frame it could not apply
    (malformed, rejected, over the size limit: a change the stream carried and the ingest
    never took; a notification for a subscription it never gave, a pool re-pointed at
    other mints or vaults: frames the ingest's guard refused)."""
    cfg = WorldConfig(seed=5, tokens=30, pools=60, trades_per_slot=10)
    profs = [EndpointProfile(n, latency_ms=1, jitter_ms=0) for n in ("zero", "one")]
    async with SimServer(cfg, profs) as server:
        real = eng.FeedIngest(eng.PoolGraph(base_mints=server.world.bases, max_hops=3))
        pool = FeedPool(endpoints(server), real, eng, rpc_timeout_s=30.0)
        await pool.bootstrap(server.world.universe())
        watched = len(list(real.watched()))
        c0, c1 = pool.counters
        for c in (c0, c1):  # both streaming everything (what the workers would say)
            c.connected, c.subscriptions = True, pool.wanted
        if other == "whole only after":
            c0.connected = False
        pool.note_streams()  # a maintenance round: both whole
        await pool.fill_gaps()
        c1.reconnects, c1.connected, c1.subscriptions = 1, False, 0  # endpoint 1 down
        if other == "cut too":
            c0.reconnects = 1  # (connected again before the next round)
        elif other == "refused some":
            c0.refused = 3
        elif other == "subscribing":
            c0.subscriptions = pool.wanted - 1
        elif other == "whole only after":
            c0.connected = True
        elif other in ("malformed", "rejected", "oversize"):
            setattr(c0, other, getattr(c0, other) + 1)  # a frame endpoint 0 dropped
        elif other == "unknown":  # a notification for an id it never gave
            pool_ = server.world.pools[0].address
            frame = account_frame(991, server.world.slot, server.world.accounts[pool_].value_json())
            real.frame(c0.endpoint, frame.encode(), time.monotonic_ns())
        elif other == "identity":  # a pool re-pointed at other mints and vaults: refused
            pool_ = next(
                p.address
                for p in server.world.pools
                if len(server.world.accounts[p.address].data) in IDENTITY_KEYS
            )
            real.bind(c0.endpoint, 992, pool_, "account")
            lie = server.repointed(pool_, random.Random(3))
            frame = account_frame(992, server.world.slot + 1, lie)
            with pytest.raises(DecodeError, match="identity"):
                real.frame(c0.endpoint, frame.encode(), time.monotonic_ns())
        pool.note_streams()  # a maintenance round: endpoint 1 down
        await pool.fill_gaps()
        c0.refused, c0.subscriptions = 0, pool.wanted
        c1.connected, c1.subscriptions = True, pool.wanted  # back, subscribed
        fetched, filled = pool.refetched, pool.resnapshots  # (endpoint 0's own gap: filled)
        pool.note_streams()
        await pool.fill_gaps()
        await pool.stop()
    if other == "whole":
        assert pool.gaps_covered == 1 and pool.resnapshots == 0 and pool.refetched == 0
    else:
        assert pool.gaps_covered == 0 and pool.resnapshots == filled + 1
        assert pool.refetched - fetched == watched


async def test_what_changed_between_the_snapshot_and_the_subscriptions_is_fetched(
    eng: types.ModuleType,
) -> None:
    """The snapshot is read before the streams are subscribed, and a node never sends
    what changed in between: once the first endpoint has every subscription answered,
    every watched account is fetched once more (a pool quiet since would otherwise be
    held as the snapshot read it: CI's test_integrity stopped its market five slots in).
    The world moves only when the test steps it."""
    cfg = WorldConfig(seed=5, tokens=8, pools=16, trades_per_slot=10)
    profs = [EndpointProfile(n, latency_ms=1, jitter_ms=0) for n in ("zero", "one")]
    async with SimServer(cfg, profs, slot_seconds=3600.0) as server:
        graph = eng.PoolGraph(base_mints=server.world.bases, max_hops=3)
        ingest = eng.FeedIngest(graph)
        # (a quiet stream is never taken for a stalled one here: no reconnect's own fill)
        quiet = WorkerConfig(stale_after_s=3600.0)
        pool = FeedPool(endpoints(server), ingest, eng, quiet, rpc_timeout_s=30.0, maintain_s=0.05)
        boot = await pool.bootstrap(server.world.universe())
        for _ in range(3):  # the market moves before any stream is subscribed
            server.step()
        assert not market_equal(eng, server, graph)
        await pool.start(boot.subscriptions)
        try:
            assert not pool.start_filled  # (what a bench waits for: wait_started)
            await pool.wait_started(30.0)
            assert pool.resnapshots == 1  # (the fill, done)
            assert market_equal(eng, server, graph)
            assert pool.refetched >= len(list(ingest.watched()))
            assert [c.reconnects for c in pool.counters] == [0, 0]
        finally:
            await pool.stop()

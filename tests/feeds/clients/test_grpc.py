"""Yellowstone gRPC over loopback: the simulator's Geyser service beside its PubSub
(same world, slots and accounts), the client's stream worker, and sessions mixing the two
transports. A mixed session's graph ends equal to the simulated market's, as an
all-PubSub one's does (the same graph); copies across transports are deduplicated and
compared (lead/lag per endpoint); pings are answered; a dropped stream reconnects and
resubscribes with ``from_slot`` (refused when too old, unsupported without a store);
bad filters and a missing x-token are refused in Yellowstone's words; malformed updates
are counted and lose nothing another endpoint delivered; a recorded mixed session
replays to its digest. Every wait has a timeout; none is a sleep standing in for an
event."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import types
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
import pytest

from arbscope import sources
from arbscope.replay import ReplaySession, load_info
from feeds.clients.pool import Endpoint, FeedPool
from feeds.clients.pubsub import WorkerConfig
from feeds.clients.yellowstone import GrpcWorker, grpc_worker, subscribe_request, target
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from feeds.wire.geyser import geyser_pb2 as pb
from storage.codec import Kind
from storage.journal import Journal
from tests.support.feeds import QUICK, market_equal, subscribe_call
from tests.support.hostile import until
from tests.support.recording import recording_sim

CFG = WorldConfig(seed=9, tokens=6, pools=12, trades_per_slot=8)
SLOT_S = 0.05


@pytest.fixture(params=["native", "aio"])
def client(request: pytest.FixtureRequest, eng: types.ModuleType) -> str:
    """Each gRPC receiver in turn: the engine's native stream and grpc.aio (the oracle).
    The Python engine has no native one (its fallback is tested on its own)."""
    if request.param == "native" and eng.BACKEND != "rust":
        pytest.skip("the Python engine has no native gRPC client (aio serves it)")
    return str(request.param)


def quick(client: str) -> WorkerConfig:
    return replace(QUICK, grpc_client=client)


def worker(eng: types.ModuleType, client: str, url: str, *args: Any, **kw: Any) -> GrpcWorker:
    """A worker of ``client`` (checked: no silent fallback)."""
    endpoint, subs, ingest, counters = args
    w = grpc_worker(
        eng,
        url,
        quick(client),
        endpoint=endpoint,
        subscriptions=subs,
        ingest=ingest,
        counters=counters,
        **kw,
    )
    assert w.client == client, w.fallback
    return w


PROFILES = (
    EndpointProfile("a", latency_ms=8, jitter_ms=2),
    EndpointProfile("b", latency_ms=12, jitter_ms=3),
    EndpointProfile("c", latency_ms=1, jitter_ms=0.5),  # the gRPC one of the mixed session
)


@dataclass
class Run:
    server: SimServer
    pools: list[FeedPool]
    ingests: list[Any]
    graphs: list[Any]

    def grpc_worker(self, pool: int = 0) -> GrpcWorker:
        return next(w for w in self.pools[pool].workers if isinstance(w, GrpcWorker))

    def stop_clock(self) -> None:
        """Stop the market's clock: its slots come from :meth:`step_until` from now."""
        clock = self.server._clock
        assert clock is not None
        clock.cancel()

    def at_slot(self, slot: int) -> bool:
        """Every session's chain is at ``slot`` or beyond."""
        return all(i.stats().slot >= slot for i in self.ingests)

    async def step_until(self, done: Callable[[], bool], most: int = 1_000) -> None:
        """Advance the stopped market a slot at a time until ``done()``, each slot the
        chain's slot of every session before the next is made: the market never outruns
        the sessions, whatever share of the machine they get."""
        for _ in range(most):
            await until(functools.partial(self.at_slot, self.server.world.slot), 60.0)
            if done():
                return
            self.server.step()
        raise AssertionError(f"not done after {most} slots")

    async def settle(self, eng: types.ModuleType) -> None:
        """Stop the market; wait until every graph is the world's again."""
        clock = self.server._clock
        assert clock is not None
        clock.cancel()
        for g in self.graphs:
            await until(lambda g=g: market_equal(eng, self.server, g), 60.0)


@asynccontextmanager
async def market(
    eng: types.ModuleType,
    sessions: Sequence[set[int]],
    profiles: Sequence[EndpointProfile] = PROFILES,
    x_token: str | None = None,
    slot_s: float = SLOT_S,
    client: str = "native",
    **sim: Any,
) -> AsyncIterator[Run]:
    """The simulator (gRPC on) and one FeedPool per entry of ``sessions``: the endpoint
    indexes it reads over gRPC (the others over PubSub)."""
    server = SimServer(CFG, profiles, slot_seconds=slot_s, grpc=True, grpc_x_token=x_token, **sim)
    infos = await server.start()
    pools, ings, graphs = [], [], []
    try:
        for grpc_eps in sessions:
            graph = eng.PoolGraph(base_mints=server.world.bases, max_hops=3)
            ing = eng.FeedIngest(graph)
            eps = [
                Endpoint(
                    i.name,
                    i.ws_url,
                    i.http_url,
                    grpc=i.grpc_url if n in grpc_eps else None,
                    x_token=x_token,
                )
                for n, i in enumerate(infos)
            ]
            pool = FeedPool(eps, ing, eng, quick(client), rpc_timeout_s=5.0, maintain_s=0.05)
            boot = await pool.bootstrap(server.world.universe())
            assert boot.pools == len(server.world.pools) and not boot.missing
            await pool.start(boot.subscriptions)
            for w in pool.workers:  # the receiver asked for (the Python engine's: aio)
                if isinstance(w, GrpcWorker):
                    assert w.client == (client if eng.BACKEND == "rust" else "aio"), w.fallback
            pools.append(pool)
            ings.append(ing)
            graphs.append(graph)
        yield Run(server, pools, ings, graphs)
    finally:
        for p in pools:
            await p.stop()
        await server.stop()


def first_seen(ing: Any, endpoint: int) -> int:
    s = {d.endpoint: d for d in ing.dedup_stats()}.get(endpoint)
    return 0 if s is None else s.first_seen + s.duplicates


def _worker_and_service(run: Any) -> tuple[Any, Any]:
    """The run's gRPC worker and the Geyser service of its (first) endpoint."""
    service = run.server.endpoints[0].geyser
    assert service is not None
    return run.grpc_worker(), service


@pytest.mark.slow
async def test_a_mixed_session_builds_the_graph_an_all_pubsub_one_does(
    eng: types.ModuleType, client: str
) -> None:
    # three sessions in one process, five PubSub streams among them: on the Python twin
    # a market on a clock is more work a second than a loaded machine gives the loop, and
    # a grpc.aio stream reads one message a loop turn where a PubSub socket's read takes
    # all that came: at load 6 the gRPC streams got ~7 updates/s and the first 50 took
    # over a minute. What is compared does not depend on the rate: after the sessions'
    # start, the market moves a slot at a time, each delivered everywhere before the next
    async with market(eng, [set(), {2}, {0, 1, 2}], slot_s=0.2, client=client) as run:
        mixed = run.ingests[1]
        await until(lambda: all(i.stats().slot for i in run.ingests), 60.0)  # streams live
        run.stop_clock()
        # (what is asserted below: the mixed session's gRPC and first PubSub endpoint;
        # waiting on the all-gRPC session's endpoint 0 instead let the mixed one's PubSub
        # endpoint stand at 49 on a busy machine)
        await run.step_until(
            lambda: (
                first_seen(mixed, 2) > 50
                and first_seen(mixed, 0) > 50
                and first_seen(run.ingests[2], 0) > 50
            )
        )
        assert [h.transport for h in run.pools[1].health()] == ["ws", "ws", "grpc"]
        await until(lambda: all(h.connected for h in run.pools[1].health()))
        assert run.pools[1].health()[2].subscriptions > 0
        await run.settle(eng)
        ws, mix, all_grpc = run.graphs
        assert sorted(ws.pools()) == sorted(mix.pools()) == sorted(all_grpc.pools())
        for b in run.server.world.bases:
            want = [(o.pools, o.amount_in, o.profit) for o in ws.cycles(b, 3)]
            assert [(o.pools, o.amount_in, o.profit) for o in mix.cycles(b, 3)] == want
            assert [(o.pools, o.amount_in, o.profit) for o in all_grpc.cycles(b, 3)] == want
        # the gRPC endpoint's copies were compared with the PubSub ones (the same slots,
        # accounts and swaps, one change each): which endpoint is first is a race and
        # differs run to run, but the first copies of the three together are one per
        # change, about as many as any one endpoint delivered (not the gRPC endpoint's
        # on top of the PubSub ones', as they would be if its copies were keyed apart)
        lags = {d.endpoint: d for d in mixed.dedup_stats()}
        delivered = {e: d.first_seen + d.duplicates for e, d in lags.items()}
        assert delivered[2] > 50 and delivered[0] > 50
        assert sum(d.duplicates for d in lags.values()) > 0
        assert sum(d.first_seen for d in lags.values()) < 1.25 * max(delivered.values()), lags
        assert mixed.stats().swaps > 0 and mixed.stats().slot == ws.slot
        for h in run.pools[1].health():
            assert (h.malformed, h.rejected, h.identity, h.disagreed) == (0, 0, 0, 0), h


@pytest.mark.slow
async def test_pings_are_answered_with_a_request_carrying_their_id(
    eng: types.ModuleType, client: str
) -> None:
    async with market(eng, [{0}], PROFILES[:1], grpc_ping_s=0.05, client=client) as run:
        w, service = _worker_and_service(run)
        await until(lambda: w.pings >= 5 and w.pongs >= 5, 30.0)
        assert service.stats["pongs"] >= 5 and service.stats["pings"] >= w.pings
        # answering a ping leaves the filter as it was: updates go on
        n = first_seen(run.ingests[0], 0)
        await until(lambda: first_seen(run.ingests[0], 0) > n + 20, 30.0)


async def test_a_dropped_stream_resubscribes_from_the_last_slot(
    eng: types.ModuleType, client: str
) -> None:
    async with market(eng, [{1}], PROFILES[:2], client=client) as run:
        w = run.grpc_worker()
        service = run.server.endpoints[1].geyser
        assert service is not None
        await until(lambda: w.last_slot is not None and first_seen(run.ingests[0], 1) > 30)
        assert service.drop_streams() == 1
        await until(lambda: w.connects == 2 and service.stats["replayed"] > 0, 30.0)
        assert w.replays == 1 and run.pools[0].counters[1].reconnects == 1
        assert "stream dropped by the simulator" in run.pools[0].counters[1].last_error
        await until(lambda: run.pools[0].health()[1].connected, 30.0)
        before = {d.endpoint: d.duplicates for d in run.ingests[0].dedup_stats()}[1]
        await until(
            lambda: {d.endpoint: d.duplicates for d in run.ingests[0].dedup_stats()}[1] > before
        )
        await run.settle(eng)


async def test_a_stream_ended_while_a_ping_answer_is_written_reports_the_servers_words(
    eng: types.ModuleType, client: str
) -> None:
    """Pings every 2 ms keep a ping's answer in flight as the server ends the stream:
    grpc.aio then reports its own failed write (INTERNAL "Internal error from Core",
    grpc/grpc#36066) instead of the server's status. The worker reports the server's."""
    async with market(eng, [{0}], PROFILES[:1], grpc_ping_s=0.002, client=client) as run:
        w, service = _worker_and_service(run)
        counters = run.pools[0].counters[0]

        def streaming(n: int) -> bool:  # the n-th stream open, pings answered
            return w.connects == n and w.pongs > 3 and bool(service.streams)

        def dropped(n: int) -> bool:
            return counters.reconnects == n

        for n in range(1, 13):
            await until(functools.partial(streaming, n), 30.0)
            assert service.drop_streams(f"drop {n} by the simulator") == 1
            await until(functools.partial(dropped, n), 30.0)
            assert f"drop {n} by the simulator" in counters.last_error, (n, counters.last_error)
            assert "UNAVAILABLE" in counters.last_error


async def test_a_call_keeps_the_servers_status_over_its_failed_writes() -> None:
    """grpc.aio's own race, without the worker: a server that ends a bidi stream while
    the client answers every message it sends. Left alone, grpc.aio ends some of these
    calls with its INTERNAL "Internal error from Core" (the failed write's, written over
    the server's status); wrapped, every call ends with the server's status."""
    from feeds.clients.yellowstone import _KeepStatus, keep_server_status

    async def handler(requests: Any, context: Any) -> AsyncIterator[bytes]:
        async def drain() -> None:
            with contextlib.suppress(Exception):
                async for _ in requests:
                    pass

        reader = asyncio.create_task(drain())
        for _ in range(40):
            yield b"x"
            await asyncio.sleep(0)
        try:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "ended by the server")
        finally:
            await reader

    class Answers:
        def __init__(self) -> None:
            self.queue: asyncio.Queue[bytes] = asyncio.Queue()

        def __aiter__(self) -> Answers:
            return self

        async def __anext__(self) -> bytes:
            return await self.queue.get()

    failed_writes = []
    set_internal_error = _KeepStatus.set_internal_error

    def counted(self: Any, error: str) -> None:
        failed_writes.append(error)
        set_internal_error(self, error)

    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "t.T", {"S": grpc.stream_stream_rpc_method_handler(handler)}
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    ends: list[tuple[grpc.StatusCode, str]] = []
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_KeepStatus, "set_internal_error", counted)
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
                for _ in range(60):
                    answers = Answers()
                    call = ch.stream_stream("/t.T/S")(answers)
                    keep_server_status(call)
                    with pytest.raises(grpc.aio.AioRpcError) as err:
                        async with asyncio.timeout(30):
                            while (await call.read()) is not grpc.aio.EOF:
                                answers.queue.put_nowait(b"pong")
                    ends.append((err.value.code(), err.value.details() or ""))
    finally:
        await server.stop(None)
    server_words = (grpc.StatusCode.UNAVAILABLE, "ended by the server")
    assert set(ends) == {server_words}, ends
    # the race was run: writes failed as the calls ended (unwrapped, such a write ends
    # its call with grpc.aio's INTERNAL instead: 15-17 of 60 calls when measured)
    assert failed_writes, "no write failed: the race was not run"


async def test_a_from_slot_older_than_the_store_is_refused_then_the_stream_starts_fresh(
    eng: types.ModuleType, client: str
) -> None:
    async with SimServer(
        CFG, PROFILES[:1], slot_seconds=SLOT_S, grpc=True, grpc_replay_slots=4
    ) as server:
        service = server.endpoints[0].geyser
        assert service is not None
        await until(lambda: len(service.store) == 4)
        # the server's words, to a raw stream
        req = subscribe_request([], "confirmed", from_slot=CFG.first_slot)
        req.slots["s"].filter_by_commitment = True
        err = await _subscribe_once(server.infos()[0].grpc_url, req)
        assert err.code() == grpc.StatusCode.OUT_OF_RANGE
        assert err.details().startswith(
            f"broadcast from {CFG.first_slot} is not available, last available: "
        )
        # a worker that was away longer than the store holds: refused, then fresh
        from feeds.health import HealthCounters
        from feeds.wire.protocol import slot_subscription

        counters = HealthCounters(0, "g", server.infos()[0].grpc_url)
        graph = eng.PoolGraph(base_mints=server.world.bases, max_hops=3)
        ing = eng.FeedIngest(graph)
        url = server.infos()[0].grpc_url
        w = worker(eng, client, url, 0, [slot_subscription()], ing, counters)
        w.last_slot = CFG.first_slot
        task = asyncio.create_task(w.run())
        try:
            await until(lambda: "from_slot refused" in counters.last_error, 30.0)
            await until(lambda: w.connects >= 2 and ing.stats().slots > 3, 30.0)
        finally:
            await w.stop()
            await asyncio.wait_for(task, 10)
        # from_slot asked until the server refused it (a stream that failed otherwise on a
        # busy machine, say one the client's core ended, asks the same again), then a
        # stream that asked for no from_slot (a later reconnect asks again, from what the
        # fresh stream delivered)
        asked = list(w.asked)
        assert None in asked, asked
        fresh = asked.index(None)
        assert fresh >= 1 and asked[:fresh] == [CFG.first_slot] * fresh, asked
        assert "is not available, last available:" in counters.last_error


@pytest.mark.slow
async def test_a_server_without_a_store_does_not_support_from_slot(
    eng: types.ModuleType, client: str
) -> None:
    async with market(eng, [{0}], PROFILES[:1], grpc_replay_slots=0, client=client) as run:
        w, service = _worker_and_service(run)
        await until(lambda: w.last_slot is not None)
        service.drop_streams()
        await until(lambda: not w.from_slot_ok, 30.0)
        assert "from_slot is not supported" in run.pools[0].counters[0].last_error
        await until(lambda: w.connects >= 3 and w.last_slot is not None, 30.0)
        await run.settle(eng)


async def _subscribe_once(url: str, req: Any, metadata: tuple[tuple[str, str], ...] = ()) -> Any:
    """Open a stream, send ``req``, read until the server ends it: its error."""
    host, _ = target(url)
    async with grpc.aio.insecure_channel(host) as ch:
        stream = subscribe_call(ch, req, metadata)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            async with asyncio.timeout(30):
                async for _ in stream:
                    pass
        stream.cancel()
        return err.value


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ({"account": ["not-a-key"]}, "failed to create filter: Invalid Base58 string"),
        ({"account": ["1" * 33]}, "failed to create filter: String is the wrong size"),
        (
            {"name": "x" * 129},
            "failed to create filter: oversized filter name (max allowed size 128), found 129",
        ),
        ({"commitment": 7}, "failed to create filter: failed to create CommitmentLevel from 7"),
    ],
)
async def test_a_bad_filter_ends_the_stream_in_yellowstones_words(
    bad: dict[str, Any], words: str
) -> None:
    async with SimServer(CFG, PROFILES[:1], slot_seconds=SLOT_S, grpc=True) as server:
        req = pb.SubscribeRequest()
        req.accounts[bad.get("name", "f")].account.extend(bad.get("account", []))
        if "commitment" in bad:
            req.commitment = bad["commitment"]
        err = await _subscribe_once(server.infos()[0].grpc_url, req)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details() == words


async def test_the_x_token_is_required_and_never_shown(eng: types.ModuleType, client: str) -> None:
    token = "tok-3f9a1c2b7d4e5f60718293a4b5c6d7e8"
    async with SimServer(
        CFG, PROFILES[:1], slot_seconds=SLOT_S, grpc=True, grpc_x_token=token
    ) as server:
        url = server.infos()[0].grpc_url
        req = subscribe_request([], "confirmed")
        req.slots["s"].filter_by_commitment = True
        err = await _subscribe_once(url, req)
        assert err.code() == grpc.StatusCode.UNAUTHENTICATED
        assert err.details() == "No valid auth token"
        err = await _subscribe_once(url, req, (("x-token", "wrong"),))
        assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    # a worker with the wrong token says so, without the token; with it, it streams
    async with market(eng, [{0}], PROFILES[:1], x_token=token, client=client) as run:
        await until(lambda: first_seen(run.ingests[0], 0) > 10)
    from feeds.health import HealthCounters

    async with SimServer(
        CFG, PROFILES[:1], slot_seconds=SLOT_S, grpc=True, grpc_x_token=token
    ) as server:
        counters = HealthCounters(0, "g", server.infos()[0].grpc_url)
        graph = eng.PoolGraph(base_mints=server.world.bases, max_hops=3)
        bad = worker(
            eng,
            client,
            server.infos()[0].grpc_url,
            0,
            [],
            eng.FeedIngest(graph),
            counters,
            x_token=token[::-1],
        )
        task = asyncio.create_task(bad.run())
        try:
            await until(lambda: "UNAUTHENTICATED" in counters.last_error, 30.0)
        finally:
            await bad.stop()
            task.cancel()
        assert "No valid auth token" in counters.last_error
        assert token not in counters.last_error and token[::-1] not in counters.last_error


@pytest.mark.parametrize("at", [150, 180, 195, 230])
def test_an_error_holding_the_x_token_past_the_cut_shows_none_of_it(at: int) -> None:
    """The error's text was cut at 200 characters before the token was replaced: a token
    straddling the cut stayed in part. Now the text is scrubbed whole, then clipped."""
    from feeds.clients.yellowstone import GrpcWorker
    from feeds.health import HealthCounters

    token = "tok-3f9a1c2b7d4e5f60718293a4b5c6d7e8"
    counters = HealthCounters(0, "g", "http://127.0.0.1:1")
    w = GrpcWorker(0, "http://127.0.0.1:1", [], None, counters, x_token=token)  # type: ignore[arg-type]
    w._failed(ConnectionError("x" * at + f" refused x-token {token} " + "y" * 300))
    assert counters.last_error
    for i in range(len(token) - 7):  # not one 8-character piece of it
        assert token[i : i + 8] not in counters.last_error, counters.last_error


async def test_malformed_updates_are_counted_and_lose_nothing(
    eng: types.ModuleType, client: str
) -> None:
    profiles = (PROFILES[0], EndpointProfile("bad", latency_ms=2, jitter_ms=1, malformed_rate=0.3))
    async with market(eng, [{1}], profiles, client=client) as run:
        await until(lambda: run.pools[0].counters[1].malformed > 10)
        h = run.pools[0].health()[1]
        assert h.transport == "grpc" and h.rejected == 0
        assert "not a Yellowstone SubscribeUpdate" in h.last_error
        await run.settle(eng)


@pytest.mark.slow
def test_a_recorded_mixed_session_replays_to_its_digest(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    sim = WorldConfig(seed=11, tokens=8, pools=16, trades_per_slot=8, slot_seconds=0.05)

    async def go() -> None:
        s = recording_sim(db, 11, sources.SimSettings(world=sim, grpc=1))
        await s.run_for(3.0, tick_s=0.1)
        assert s.start_error == "" and len(s.digest) == 64
        assert "1 gRPC" in s.source
        feeds = s.feeds.pool.health() if s.feeds.pool else []
        assert [f.transport for f in feeds] == ["ws", "ws", "grpc"]
        j = await Journal.open(db, create=False, write=False)
        try:
            kinds = {i.kind async for i in j.stored_inputs(s.session_id)}
        finally:
            await j.close()
        assert Kind.GRPC in kinds and Kind.FRAME in kinds
        info = await load_info(db, s.session_id)
        assert info.complete and info.digest == s.digest and info.opportunities > 0
        r = ReplaySession(db, info)
        await r.start()
        try:
            assert await r.play(float("inf")) == s.digest
            assert r.frames_applied == info.frames
        finally:
            await r.stop()

    asyncio.run(go())


async def test_the_native_streams_of_a_loop_share_one_wake_pipe(rust: types.ModuleType) -> None:
    """Three native streams in two sessions: one pipe wakes the loop for all of them, each
    stream's own byte drains that stream only (one misrouted would stall its stream: its
    byte is written again only after a take); the pipe goes with the last stream."""
    from feeds.clients import yellowstone

    loop = asyncio.get_running_loop()
    async with market(rust, [{0, 1}, {2}], client="native") as run:
        await until(
            lambda: (
                all(first_seen(run.ingests[0], e) > 30 for e in (0, 1))
                and first_seen(run.ingests[1], 2) > 30
            ),
            60.0,
        )
        wakes = yellowstone._WAKES[loop]
        assert sorted(wakes.drains) == [0, 1, 2]
        for pool in run.pools:
            await pool.stop()
        assert loop not in yellowstone._WAKES and not wakes.drains


def test_the_native_client_falls_back_to_aio_with_its_reason(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    """TLS endpoints and the Python engine are read by grpc.aio, the reason on the
    endpoint's health line; ``aio`` asked is aio; native where it can serve."""
    from feeds.health import HealthCounters

    def make(eng: types.ModuleType, url: str, client: str) -> tuple[GrpcWorker, HealthCounters]:
        counters = HealthCounters(0, "g", url)
        ing = eng.FeedIngest(eng.PoolGraph(base_mints=[], max_hops=3))
        w = grpc_worker(
            eng,
            url,
            quick(client),
            endpoint=0,
            subscriptions=[],
            ingest=ing,
            counters=counters,
            x_token="tok-secret-1234567890",
        )
        return w, counters

    w, c = make(rust, "grpc://127.0.0.1:10000", "native")
    assert w.client == "native" and w.fallback == "" and c.last_error == ""
    w, c = make(rust, "grpc://127.0.0.1:10000", "aio")
    assert w.client == "aio" and w.fallback == "" and c.last_error == ""
    w, c = make(rust, "grpcs://provider.example:443/?k=v", "native")
    assert w.client == "aio" and "plaintext only" in w.fallback
    assert "read by grpc.aio" in c.last_error and "tok-secret" not in c.last_error
    w, c = make(py, "grpc://127.0.0.1:10000", "native")
    assert w.client == "aio" and w.fallback == "the python engine has no native gRPC client"
    assert "read by grpc.aio" in c.last_error


async def test_a_dead_endpoint_is_a_counted_error_and_reconnects(
    eng: types.ModuleType, client: str
) -> None:
    """Nothing listens on the port: each attempt fails with its reason (no traceback),
    backs off and tries again; nothing is applied."""
    import socket

    from feeds.health import HealthCounters

    with socket.socket() as s:  # a port nothing listens on: bound, then closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"grpc://127.0.0.1:{port}"
    counters = HealthCounters(0, "g", url)
    ing = eng.FeedIngest(eng.PoolGraph(base_mints=[], max_hops=3))
    w = worker(eng, client, url, 0, [], ing, counters, x_token="tok-secret-1234567890")
    task = asyncio.create_task(w.run())
    try:
        await until(lambda: counters.reconnects >= 3, 30.0)
    finally:
        await w.stop()
        await asyncio.wait_for(task, 10)
    assert counters.last_error and "tok-secret" not in counters.last_error
    assert not counters.connected and ing.stats().frames == 0

"""A feed pool's quick settings on loopback, and the checks the feed tests make of what it
built: the graph is the world's market, an endpoint that told no lie has nothing held
against it."""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator
from typing import Any

import grpc

from arbscope import sources
from arbscope.session import FeedSession
from feeds.clients.pool import Endpoint
from feeds.clients.pubsub import WorkerConfig
from feeds.health import FeedHealth
from feeds.sim.server import EndpointProfile, SimServer
from feeds.wire.geyser import geyser_pb2 as pb
from tests.support.truth import market_graph

# quick to open, to notice a silent endpoint (no slot for 3 s: the default) and to come back
QUICK = WorkerConfig(
    open_timeout_s=2.0,
    heartbeat_s=2.0,
    backoff_min_s=0.05,
    backoff_max_s=0.3,
    unsubscribe_wait_s=0.1,
)


def sim_session(
    sim: SimServer, endpoints: list[Endpoint] | None = None, seed: int = 5, **settings: Any
) -> FeedSession:
    """A session (not started) watching the simulator's whole market, without the twin's
    shadow, over ``endpoints`` (the simulator's every endpoint by default); ``settings``
    as :func:`arbscope.sources.session` takes them (``metrics=``, ``record=`` ...)."""
    eps = endpoints or [Endpoint(i.name, i.ws_url, i.http_url) for i in sim.infos()]
    return sources.session(
        sources.Watch(universe=sim.world.universe(), base_mints=sim.world.bases, seed=seed),
        sources.Evaluation(shadow=False),
        endpoints=eps,
        **settings,
    )


def market_equal(eng: types.ModuleType, server: SimServer, graph: Any) -> bool:
    """The graph holds every pool of the world, each in the world's state (the same
    cycles, sizes and profits)."""
    want = market_graph(eng, server.world)
    if sorted(graph.pools()) != sorted(want.pools()):
        return False
    for b in server.world.bases:
        got = [(o.pools, o.amount_in, o.profit) for o in graph.cycles(b, 3)]
        if got != [(o.pools, o.amount_in, o.profit) for o in want.cycles(b, 3)]:
            return False
    return True


def healthy(h: FeedHealth) -> None:
    """Nothing held against an endpoint that told no lie."""
    assert (h.rejected, h.implausible, h.identity, h.disagreed, h.unknown) == (0, 0, 0, 0, 0), h
    assert not h.quarantined and h.held_back == 0


def subscribe_call(
    channel: grpc.aio.Channel, req: Any, metadata: tuple[tuple[str, str], ...] = ()
) -> Any:
    """A raw Yellowstone ``Subscribe`` stream on ``channel`` that sends ``req`` once the
    server's headers came (as the worker does, ``_Requests.hold_until``: a refusal at
    once is then never hidden by grpc.aio's "Internal error from Core") and stays open
    until the server ends it; its updates decoded."""
    call = channel.stream_stream(
        "/geyser.Geyser/Subscribe",
        request_serializer=pb.SubscribeRequest.SerializeToString,
        response_deserializer=pb.SubscribeUpdate.FromString,
    )
    calls: list[Any] = []

    async def reqs() -> AsyncIterator[Any]:
        await calls[0].initial_metadata()
        yield req
        await asyncio.Event().wait()

    stream = call(reqs(), metadata=metadata)
    calls.append(stream)
    return stream


def refusing(name: str, answer: str, retry_after_s: int = 1, ws: bool = False) -> EndpointProfile:
    """An endpoint that refuses every HTTP request (0 per second) the way ``answer`` says
    (``retry-after``: with that header of ``retry_after_s``); with ``ws``, its WebSocket
    upgrades too."""
    return EndpointProfile(
        name,
        latency_ms=2,
        jitter_ms=1,
        rate_limit_rps=0,
        rate_limit_answer=answer,
        retry_after_s=retry_after_s,
        rate_limit_ws=ws,
    )

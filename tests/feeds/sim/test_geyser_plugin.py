"""The simulator's Yellowstone gRPC service answers as the real plugin does (issue 62):
the same probe (``tests/support/geyser_shapes.py``) sent to the simulator playing the
node's market, compared with what ``libyellowstone_grpc_geyser.so`` answered in Agave's
own validator on that market (``tests/data/node/geyser_shapes.json``, committed: a clone
without ``../shared`` still checks it; ``tests/node/test_grpc.py`` checks the plugin
still answers so).

Compared: the unary calls (fields, errors, relations) at the server's start and past it;
the stream's first message, pings and pong, update fields, filters matched, slot
statuses and their order, where a slot's accounts and transactions come among its
statuses (``processed`` and ``confirmed``), ``write_version``, the update of an absent
account a swap names writable; the end of each bad request and of a ``from_slot`` too
old, and a ``from_slot`` in the store or the future. What differs, and why, is
:data:`tests.support.geyser_shapes.DIFFERENCES` and ``docs/simulator.md``."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from feeds.sim import geyser as G
from feeds.sim.chain import Chain
from feeds.sim.export import market_wallets, node_config, pool_holdings
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import World, WorldConfig
from tests.support import geyser_shapes as shapes
from tests.support.hostile import until
from tests.support.realnode import NODE_SEED

PING_S = 2.0  # the test's ping interval (the plugin's, 10 s, is checked as a constant)


def fixture() -> dict[str, Any]:
    return shapes.load_fixture()


@pytest.mark.slow
async def test_the_simulator_streams_as_the_plugin_does() -> None:
    want = fixture()
    cfg = node_config(WorldConfig(seed=NODE_SEED))
    srv = SimServer(
        cfg,
        [EndpointProfile("sim")],
        # the node market's slot costs the simulator ~90 ms of CPU (profiled): at 0.1 s a
        # slot its loop, which also writes the streams, is full and a ping is delivered
        # late by more than the interval's half-second rounding on a loaded CI machine
        slot_seconds=0.2,
        accept_transactions=True,
        grpc=True,
        grpc_ping_s=PING_S,
        grpc_replay_slots=200,
    )
    w = srv.world
    _, wallets = market_wallets(w, pool_holdings(w, w.pools))  # the node market's wallets
    w.accounts.update(wallets)
    (info,) = await srv.start()
    try:
        target = info.grpc_url.split("//", 1)[1]
        async with grpc.aio.insecure_channel(target) as ch:
            young = await shapes.unary_shapes(ch)
        # past the first root (slot 32), as the plugin was: its FINALIZED statuses flow
        await until(lambda: w.slot > G.ROOT_DISTANCE + 2, 60.0)
        probe = await asyncio.to_thread(
            shapes.probe_for, info.http_url, target, w.universe(), cfg.seed
        )
        probe.window_s = 2.5 * PING_S
        got = await shapes.collect(probe)
    finally:
        await srv.stop()
    # the unary calls as the plugin answered them at its start (the simulator's is young)
    got["unary"] = young  # the unary calls at its start, as the fixture's "startup"
    expected = {**want, "unary": want["startup"]["unary"]}
    assert shapes.compare(expected, got, skip=shapes.CONFIRMED_AT_START) == {}
    assert shapes.about(got["stream"]["ping_interval_s"], PING_S)
    assert want["stream"]["ping_interval_s"] == G.PING_S
    assert got["stream"]["absent"] == want["stream"]["absent"]  # the value, not only the shape


async def test_past_its_start_the_unary_calls_answer_as_the_plugins() -> None:
    """Past its start (every slot's blockhash held, the replay store full), the unary
    calls answer as the plugin does past its own, with the chain's values."""
    want = fixture()
    world = World(node_config(WorldConfig(seed=NODE_SEED, tokens=4, pools=6)))
    chain = Chain(world)
    svc = G.GeyserService(EndpointProfile("sim"), 1, replay_slots=200, blocks=chain)
    last = G.BLOCKHASHES_HELD + 300
    for slot in range(1, last + 1):
        svc.publish(G.SlotRecord(slot, (), ()), 0.0, None)
    await svc.start("127.0.0.1")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{svc.port}") as ch:
            got = await shapes.unary_shapes(ch)
            latest = await ch.unary_unary(
                "/geyser.Geyser/GetLatestBlockhash",
                request_serializer=G.pb.GetLatestBlockhashRequest.SerializeToString,
                response_deserializer=G.pb.GetLatestBlockhashResponse.FromString,
            )(G.pb.GetLatestBlockhashRequest(commitment=2))
            info = await ch.unary_unary(
                "/geyser.Geyser/SubscribeReplayInfo",
                request_serializer=G.pb.SubscribeReplayInfoRequest.SerializeToString,
                response_deserializer=G.pb.SubscribeReplayInfoResponse.FromString,
            )(G.pb.SubscribeReplayInfoRequest())
    finally:
        await svc.stop()
    assert shapes.compare(want, {"unary": got}, part="unary") == {}
    final = last - G.ROOT_DISTANCE
    assert (latest.slot, latest.blockhash) == (final, chain.blockhash(final))
    assert latest.last_valid_block_height == chain.block_height(final) + G.RECENT_BLOCKHASHES
    assert info.first_available == svc.store[0].slot == last - svc.store.maxlen + 1

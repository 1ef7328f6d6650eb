"""The simulator's Yellowstone channel per stream (yellowstone-grpc-geyser ``config.rs``,
``channel_capacity``; ``grpc.rs``: ``try_send`` ``Full`` ends the stream ``INTERNAL``
"lagged to send an update"): a stream too slow to take its updates is ended once its
channel is full, after what the channel held, in order; a reader on the same endpoint
is never cut and gets every slot."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from feeds.clients.yellowstone import target
from feeds.sim.geyser import CONFIRMED, LAGGED
from feeds.sim.server import GRPC_CHANNEL_CAPACITY, EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from feeds.wire.geyser import geyser_pb2 as pb
from tests.support.feeds import subscribe_call
from tests.support.hostile import step_until_cut, until

SMALL = WorldConfig(seed=11, tokens=8, pools=16, trades_per_slot=8)
STILL = 3600.0  # seconds per slot: nothing moves unless the test steps the world
# a client that takes little: no BDP probe (its window stays at HTTP/2's 64 KiB)
SLOW_OPTIONS = [("grpc.http2.bdp_probe", 0), ("grpc.max_receive_message_length", 64 << 20)]


def test_the_default_is_yellowstones() -> None:
    """``ConfigGrpc::channel_capacity_default``."""
    assert GRPC_CHANNEL_CAPACITY == 250_000
    assert EndpointProfile().grpc_channel_capacity == 250_000
    with pytest.raises(ValueError, match="grpc_channel_capacity"):
        EndpointProfile(grpc_channel_capacity=0)


@pytest.mark.slow
async def test_a_stream_that_falls_behind_its_channel_is_ended_lagged() -> None:
    cap = 40
    profile = EndpointProfile("a", latency_ms=0, jitter_ms=0, grpc_channel_capacity=cap)
    async with SimServer(SMALL, [profile], slot_seconds=STILL, grpc=True) as srv:
        service = srv.endpoints[0].geyser
        assert service is not None
        host, _ = target(srv.infos()[0].grpc_url)
        fast_req = pb.SubscribeRequest(commitment=CONFIRMED)  # type: ignore[arg-type]
        fast_req.slots["s"].filter_by_commitment = True
        slow_req = pb.SubscribeRequest(commitment=CONFIRMED)  # type: ignore[arg-type]
        slow_req.slots["s"].filter_by_commitment = True
        slow_req.accounts["a"].account.extend(p.address for p in srv.world.pools)
        fast_slots: list[int] = []
        async with (
            grpc.aio.insecure_channel(host) as fast_ch,
            grpc.aio.insecure_channel(host, options=SLOW_OPTIONS) as slow_ch,
        ):
            fast = subscribe_call(fast_ch, fast_req)

            async def read_fast() -> None:
                async for u in fast:
                    if u.HasField("slot"):
                        fast_slots.append(u.slot.slot)

            reader = asyncio.create_task(read_fast())
            await until(lambda: sum(s.filter is not None for s in service.streams) == 1)
            slow = subscribe_call(slow_ch, slow_req)
            await until(lambda: sum(s.filter is not None for s in service.streams) == 2)
            (stream,) = [s for s in service.streams if s.filter and s.filter.accounts]
            first, stepped, held_most = await step_until_cut(
                srv,
                fast_slots,
                stream.queue.qsize,
                lambda held: held <= cap + 1,  # the channel, and the status after it
                lambda: bool(service.stats["lagged"]),
            )
            assert service.stats["lagged"] == 1 and stream.lagged
            assert held_most >= cap  # it did fall behind before it was ended
            got: list[int] = []
            accounts = 0
            with pytest.raises(grpc.aio.AioRpcError) as ended:
                async with asyncio.timeout(60):
                    async for u in slow:
                        if u.HasField("slot"):
                            got.append(u.slot.slot)
                        accounts += u.HasField("account")
            assert ended.value.code() == grpc.StatusCode.INTERNAL
            assert ended.value.details() == LAGGED
            # what it was sent came in order, none after the slot it was ended in
            assert got == list(range(first, first + len(got))) and len(got) <= len(stepped)
            assert accounts > 0
            # more slots: the reader is never cut and has every one
            for _ in range(3):
                stepped.append(srv.step().slot)
                await until(lambda: fast_slots[-1:] == stepped[-1:])
            assert fast_slots == stepped and service.stats["lagged"] == 1
            await until(lambda: stream not in service.streams)
            reader.cancel()
            fast.cancel()

"""The blockhash keeper (``arbscope.execution.blockhash``): threads reading
``getLatestBlockhash`` from several nodes, hedged, over real sockets against the
simulator's RPC endpoints. The oracle is the simulated chain itself: what the keeper
holds is a blockhash the chain made, valid as long as the chain says."""

from __future__ import annotations

import asyncio
import math
import threading
import time

from arbscope.execution.blockhash import BlockhashKeeper
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig

CFG = WorldConfig(seed=3, tokens=6, pools=8, trades_per_slot=4)
SECRET = "k3y0123456789abcdef0123"


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("blockhash-")}


def test_the_freshest_answer_is_held_whoever_gave_it() -> None:
    """An answer valid longer replaces the one held; an older one (a node that lags)
    never does, nor does one read earlier with the same last height."""
    k = BlockhashKeeper([])
    assert k.held() is None
    k.offer("A", 100, 1.0, 10)
    k.offer("B", 90, 2.0, 12)  # a lagging node's, read later
    held = k.held()
    assert held is not None and held.blockhash == "A"
    k.offer("C", 100, 0.5, 9)  # as long, asked earlier
    assert k.held().blockhash == "A"  # type: ignore[union-attr]
    k.offer("D", 101, 0.1, 3)
    assert k.held().blockhash == "D" and k.answers == 4  # type: ignore[union-attr]


async def test_a_silent_node_costs_nothing_while_another_answers() -> None:
    """One node never answers (its reads time out), the other does: the keeper holds
    the chain's blockhash from the one that answers, says what the silent one did with
    its URL's key redacted, and its threads end when stopped (and start again)."""
    profiles = [
        EndpointProfile("silent", latency_ms=1, jitter_ms=0, silent=True),
        EndpointProfile("good", latency_ms=1, jitter_ms=0),
    ]
    async with SimServer(CFG, profiles, slot_seconds=0.05) as sim:
        silent, good = (i.http_url for i in sim.infos())
        k = BlockhashKeeper([f"{silent}/?api-key={SECRET}", good], every_s=0.05, timeout_s=0.3)
        k.start()
        try:
            # both read at least once (the silent one timed out), three answers held
            done = await asyncio.to_thread(
                k.wait, lambda: len(k.reads) == 2 and k.answers >= 3, 20.0
            )
            assert done, (k.reads, k.answers)
            held = k.held()
            assert held is not None
            assert sim.chain.blockhash_valid(held.blockhash)
            assert held.last_valid > sim.chain.block_height() >= held.last_valid - 150
            assert held.slot <= sim.world.slot
            said = " ".join(k.errors.values())
            assert "getLatestBlockhash at" in said and "timed out" in said
            assert SECRET not in said and "api-key=***" in said
            assert k.error() == ""  # the good one answers: no error for the keeper as such
        finally:
            await asyncio.to_thread(k.stop, 2.0)
        assert not k.running and not _threads()
        k.start()  # again after a stop
        try:
            n = k.answers
            assert await asyncio.to_thread(k.wait, lambda: k.answers > n, 20.0)
        finally:
            await asyncio.to_thread(k.stop, 2.0)
    assert not _threads()


async def test_a_node_that_rate_limits_is_backed_off_for_its_retry_after() -> None:
    """A node that answers 429 (Retry-After 1 s) is asked again only after that, while
    the keeper keeps holding another node's answers."""
    profiles = [
        EndpointProfile("limits", latency_ms=1, jitter_ms=0, rate_limit_rps=1, retry_after_s=1),
        EndpointProfile("good", latency_ms=1, jitter_ms=0),
    ]
    async with SimServer(CFG, profiles, slot_seconds=0.05) as sim:
        limits, good = (i.http_url for i in sim.infos())
        k = BlockhashKeeper([limits, good], every_s=0.02, timeout_s=1.0)
        began = time.monotonic()
        k.start()
        try:
            done = await asyncio.to_thread(k.wait, lambda: k.reads.get(good, 0) >= 30, 60.0)
            assert done, k.reads
        finally:
            await asyncio.to_thread(k.stop, 2.0)
        took = time.monotonic() - began
        asked = {e.profile.name: e.stats["requests"] for e in sim.endpoints}
    # the good node read at its pace, 30 times at least; the limiting one at most once
    # a second, and once more per refusal's Retry-After (two per second of the run)
    assert asked["good"] >= 30
    assert asked["limits"] <= 2 * (math.ceil(took) + 1), (asked, took)
    assert "HTTP 429 rate limited" in k.errors[limits]

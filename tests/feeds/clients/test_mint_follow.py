"""The Token-2022 mints of the tracked pools, over real sockets (SimServer + FeedPool +
ingest, both backends): a mint whose vaults are Token-2022 accounts is fetched with the
snapshot, subscribed with its pools, and its notifications reprice them; a mint that
becomes watched while streaming (a re-pointed vault that proves Token-2022) is fetched
in the same maintenance round; the cluster's epoch schedule is read once at the start,
and a node that does not serve it leaves mainnet's, said, never a crash.

The simulated market has no Token-2022 mint of its own yet: these tests make one by
writing, before the server starts, a mint's account as a Token-2022 mint with a transfer
fee and every vault of it as a Token-2022 account (the same 165 bytes)."""

from __future__ import annotations

import struct
import types
from dataclasses import replace
from typing import Any

from feeds.clients.pool import Endpoint, FeedPool
from feeds.clients.rpc import MAINNET_EPOCH_SCHEDULE
from feeds.sim.layouts import encode_mint, encode_token2022_mint
from feeds.sim.server import EndpointProfile, SimServer, _copy
from feeds.sim.world import World, WorldConfig
from feeds.venues.raydium_cpmm import sim as CP
from feeds.wire.tokens import SPL_TOKEN, TOKEN_2022
from tests.support.feeds import QUICK as FEEDS_QUICK
from tests.support.hostile import until
from tests.support.truth import market_graph

CFG = WorldConfig(seed=9, tokens=6, pools=12, trades_per_slot=0, dislocation_rate=0.0)
# the market holds still (no slot for minutes): no stall watchdog within a test
QUICK = replace(FEEDS_QUICK, stale_after_s=600.0)
STILL = 3600.0  # seconds per slot: the market moves only when a test steps it
FEE1 = (0, 10**15, 100)  # 1 %
FEE2 = (0, 10**15, 300)  # 3 %


def fee_mint(fee: tuple[int, int, int], decimals: int) -> bytes:
    """A Token-2022 mint with a TransferFeeConfig (older = newer = ``fee``)."""
    cfg = bytes(64) + struct.pack("<Q", 0)
    for e, m, b in (fee, fee):
        cfg += struct.pack("<QQH", e, m, b)
    r = types.SimpleNamespace(
        mint_authority=None,
        supply=10**18,
        decimals=decimals,
        is_initialized=True,
        freeze_authority=None,
    )
    return encode_token2022_mint(r, {1: cfg})


def make_t22(server: SimServer, mint: str, fee: tuple[int, int, int]) -> list[str]:
    """``mint`` a Token-2022 fee mint, and every vault of it a Token-2022 account (before
    the server starts: its genesis too). The pools of ``mint``."""
    world = server.world
    world.put(mint, TOKEN_2022, fee_mint(fee, world.decimals[mint]))
    pools = []
    for p in world.pools:
        for m, v in ((p.mint_a, p.vault_a), (p.mint_b, p.vault_b)):
            if m == mint:
                world.put(v, TOKEN_2022, world.accounts[v].data)
                server.genesis[v] = _copy(world.accounts[v])
                pools.append(p.address)
    server.genesis[mint] = _copy(world.accounts[mint])
    return pools


def fee_mint_of(world: World) -> str:
    """A mint that is no base and that a CP-Swap pool trades (its quote is a curve)."""
    return next(
        m
        for p in world.pools
        if p.kind == "cpmm"
        for m in (p.mint_a, p.mint_b)
        if m not in world.bases
    )


def in_next_slot(server: SimServer, writes: dict[str, tuple[str, bytes]]) -> None:
    """Write accounts (address -> owner, data) in the next slot, as a transaction would:
    they are notified with it. Steps the server."""
    world = server.world

    def once(w: World) -> list[Any]:
        for k, (owner, data) in writes.items():
            w.put(k, owner, data)
            w._touched.append(k)
        w.script = None
        return []

    world.script = once
    server.step()


def bare_quote(eng: types.ModuleType, world: World, pool: str, mint: str, x: int) -> int:
    """The market's own quote of ``x`` arriving at the pool: the world's graph, told the
    mint is a plain SPL Token one (no fee)."""
    bare = market_graph(eng, world)
    plain = types.SimpleNamespace(
        mint_authority=None, supply=1, decimals=6, is_initialized=True, freeze_authority=None
    )
    bare.set_mint(mint, encode_mint(plain), SPL_TOKEN)
    assert bare.mint_fee(mint) is None
    return int(bare.quote([pool], mint, x)[1])


def _still_server() -> SimServer:
    """The market on two endpoints (1 and 2 ms), still until a test steps it."""
    return SimServer(
        CFG,
        [
            EndpointProfile("a", latency_ms=1, jitter_ms=0),
            EndpointProfile("b", latency_ms=2, jitter_ms=0),
        ],
        slot_seconds=STILL,
    )


async def _started(eng: types.ModuleType, server: Any, maintain_s: float) -> tuple[Any, Any, Any]:
    """``server`` started, and a feed pool on its endpoints (not started), maintaining
    every ``maintain_s``, over a new graph's ingest: the graph, the ingest, the pool."""
    infos = await server.start()
    graph = eng.PoolGraph(base_mints=server.world.bases, max_hops=3)
    ing = eng.FeedIngest(graph)
    eps = [Endpoint(i.name, i.ws_url, i.http_url) for i in infos]
    return graph, ing, FeedPool(eps, ing, eng, QUICK, rpc_timeout_s=5.0, maintain_s=maintain_s)


async def _stop(feed: Any, server: Any) -> None:
    """The feed stopped, then its simulator."""
    await feed.stop()
    await server.stop()


async def test_a_fee_mint_is_snapshotted_subscribed_and_followed(eng: types.ModuleType) -> None:
    server = _still_server()
    world = server.world
    mint = fee_mint_of(world)
    pools = make_t22(server, mint, FEE1)
    graph, ing, feed = await _started(eng, server, maintain_s=0.05)
    try:
        boot = await feed.bootstrap(world.universe())
        assert not boot.missing and not boot.rejected
        # the schedule was read: mainnet's, and said so nowhere as a problem
        assert feed.epoch_schedule == MAINNET_EPOCH_SCHEDULE
        assert feed.epoch_schedule_problem is None
        # the mint: watched once, a role per pool, read with the snapshot
        assert ing.watched().count(mint) == 1
        assert sorted(p for _, p in ing.roles(mint)) == sorted(pools)
        assert graph.mint_fee(mint) == (FEE1, FEE1)
        assert set(pools) <= set(graph.pools())
        assert boot.pools == len(world.universe())
        # subscribed with its pools, and needed by each for coverage
        labels = [s.label for s in boot.subscriptions]
        assert labels.count(mint) == 1
        assert all(mint in feed.pool_accounts[p] for p in pools)
        # another mint (SPL Token's) is never followed as one (a PumpSwap pool's base
        # mint is its venue's own account: role base_mint)
        others = {m for p in world.pools for m in (p.mint_a, p.mint_b)} - {mint}
        assert not any(r == "mint" for m in others for r, _ in ing.roles(m))
        # a quote through one of its pools: the pool receives x less the fee
        cp = next(p for p in world.pools if p.kind == "cpmm" and p.address in pools)
        x = 10 ** world.decimals[mint]
        less = eng.post_fee_amount((FEE1, FEE1), graph.epoch, x)
        assert graph.quote([cp.address], mint, x)[1] == bare_quote(
            eng, world, cp.address, mint, less
        )
        await feed.start(boot.subscriptions)
        await until(
            lambda: all(h.subscriptions == len(boot.subscriptions) for h in feed.health()), 30
        )
        # the authority raises the fee: the notification reprices the pools
        in_next_slot(server, {mint: (TOKEN_2022, fee_mint(FEE2, world.decimals[mint]))})
        await until(lambda: graph.mint_fee(mint) == (FEE2, FEE2), 30)
        less = eng.post_fee_amount((FEE2, FEE2), graph.epoch, x)
        assert graph.quote([cp.address], mint, x)[1] == bare_quote(
            eng, world, cp.address, mint, less
        )
    finally:
        await _stop(feed, server)


async def test_a_mint_watched_while_streaming_is_fetched_in_the_same_round(
    eng: types.ModuleType,
) -> None:
    """A CP-Swap pool re-initialised on another vault, a Token-2022 account: the
    notification is refused and re-fetched; one maintenance round then fetches the new
    vault, learns its mint, fetches that too (subscribed unread, the pool would wait for
    the mint's next change) and subscribes both; the pool quotes the fee."""
    server = _still_server()
    world = server.world
    mint = fee_mint_of(world)
    cp = next(p for p in world.pools if p.kind == "cpmm" and mint in (p.mint_a, p.mint_b))
    graph, ing, feed = await _started(eng, server, maintain_s=3600.0)
    try:
        boot = await feed.bootstrap(world.universe())
        assert mint not in ing.watched() and cp.address in graph.pools()
        await feed.start(boot.subscriptions)
        await until(
            lambda: all(h.subscriptions == len(boot.subscriptions) for h in feed.health()), 30
        )
        # on chain now: the mint a Token-2022 fee mint, the pool on a new vault of it
        a_side = cp.mint_a == mint
        old = cp.vault_a if a_side else cp.vault_b
        new = str(eng.b58encode(bytes(range(1, 33))))
        field = "token_0_vault" if a_side else "token_1_vault"
        acc = world.accounts[cp.address]
        in_next_slot(
            server,
            {
                new: (TOKEN_2022, world.accounts[old].data),
                mint: (TOKEN_2022, fee_mint(FEE1, world.decimals[mint])),
                cp.address: (
                    acc.owner,
                    CP.encode_pool(replace(cp.record, **{field: new}), acc.data),
                ),
            },
        )
        await until(lambda: any(e.identity for e in ing.endpoint_stats()), 30)
        assert new not in ing.watched()  # a notification re-points nothing
        await feed.maintain()  # one round: the re-fetch, then what it made watched
        assert new in ing.watched() and mint in ing.watched() and old not in ing.watched()
        assert ing.roles(mint) == [("mint", cp.address)]
        assert graph.mint_fee(mint) == (FEE1, FEE1) and cp.address in graph.pools()
        labels = {s.label for s in feed.subscriptions}
        assert {new, mint} <= labels and old not in labels
        assert {new, mint} <= feed.pool_accounts[cp.address]
        x = 10 ** world.decimals[mint]
        less = eng.post_fee_amount((FEE1, FEE1), graph.epoch, x)
        got = graph.quote([cp.address], mint, x)[1]
        assert got == bare_quote(eng, world, cp.address, mint, less)
    finally:
        await _stop(feed, server)


async def test_a_node_without_get_epoch_schedule_leaves_mainnets_and_says_so(
    eng: types.ModuleType,
) -> None:
    refusing = EndpointProfile("a", latency_ms=1, jitter_ms=0, refuse_methods=("getEpochSchedule",))
    async with SimServer(CFG, [refusing], slot_seconds=STILL) as server:
        info = server.infos()[0]
        graph = eng.PoolGraph(base_mints=server.world.bases, max_hops=3)
        feed = FeedPool(
            [Endpoint(info.name, info.ws_url, info.http_url)],
            eng.FeedIngest(graph),
            eng,
            QUICK,
            rpc_timeout_s=5.0,
        )
        boot = await feed.bootstrap(server.world.universe())
        assert boot.pools == len(server.world.universe())  # the start went on
        assert feed.epoch_schedule == MAINNET_EPOCH_SCHEDULE
        problem = feed.epoch_schedule_problem
        assert problem is not None and "getEpochSchedule" in problem
        assert "Method not found" in problem
        graph.set_slot(server.world.slot)  # the graph's schedule: mainnet's
        assert graph.epoch == server.world.slot // 432_000


async def test_the_schedule_comes_from_a_node_that_serves_it(eng: types.ModuleType) -> None:
    """Hedged: one endpoint refusing the method, the other answering: its schedule."""
    profiles = [
        EndpointProfile("a", latency_ms=1, jitter_ms=0, refuse_methods=("getEpochSchedule",)),
        EndpointProfile("b", latency_ms=1, jitter_ms=0),
    ]
    async with SimServer(CFG, profiles, slot_seconds=STILL) as server:
        ing: Any = eng.FeedIngest(eng.PoolGraph(base_mints=server.world.bases))
        eps = [Endpoint(i.name, i.ws_url, i.http_url) for i in server.infos()]
        feed = FeedPool(eps, ing, eng, QUICK, rpc_timeout_s=5.0)
        await feed.read_epoch_schedule()
        assert feed.epoch_schedule == MAINNET_EPOCH_SCHEDULE
        assert feed.epoch_schedule_problem is None

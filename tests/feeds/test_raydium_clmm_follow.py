"""Raydium CLMM tick arrays follow the price, over real sockets (SimServer + FeedPool +
ingest), as ``test_tick_follow.py`` holds the Whirlpool's: the simulator walks a Raydium
CLMM pool across four tick arrays while trading through it, and at every slot the
session's quote is the quote over the world's full tick state (its accounts through the
trusted path, every array held), or ``ticks_missing`` while the initialized arrays around
the new price are not held yet (never another number). Only the arrays holding ticks
exist, as on mainnet: the pool's bitmap names them, and the session follows those
nearest the price (``follow``), skipping the empty ones between."""

from __future__ import annotations

import types
from dataclasses import replace
from typing import Any

from feeds.clients.pool import Endpoint, FeedPool
from feeds.sim.server import EndpointProfile, SimServer, _copy
from feeds.sim.state import Pool
from feeds.sim.world import World, WorldConfig
from feeds.venues import raydium_clmm as RC
from feeds.venues.raydium_clmm import layout as RC_layout
from feeds.venues.raydium_clmm import sim as RCsim
from tests.feeds.follow import MISSING, outcome, walk
from tests.feeds.hostile import until
from tests.feeds.test_tick_follow import QUICK
from tests.truth import market_graph

WALK_ARRAYS = 4


def _config() -> WorldConfig:
    """The first quiet seeded world holding a Raydium CLMM pool."""
    for seed in range(1, 60):
        c = WorldConfig(seed=seed, tokens=6, pools=12, trades_per_slot=0, dislocation_rate=0.0)
        if any(p.kind == RC.IDS.kind for p in World(c).pools):
            return c
    raise AssertionError("no seed gave a Raydium CLMM pool")


def _widen(world: World, pool: Pool) -> list[str]:
    """A wide position over ten arrays and a narrow one in every other array; the tick
    arrays holding ticks written at their PDAs (the others absent), the pool's liquidity
    and bitmap rewritten."""
    s = pool.spec
    ts = s.tick_spacing
    width = RC.TICK_ARRAY_SIZE * ts
    cur = RC.array_start(s.tick_current, ts)
    liq = max(s.liquidity, 10**12)
    edges: dict[int, int] = {}

    def add(lo: int, hi: int, n: int) -> None:
        edges[lo] = edges.get(lo, 0) + n
        edges[hi] = edges.get(hi, 0) - n

    add(cur - 2 * width, cur + 8 * width, liq)
    for k in range(-2, 8, 2):
        add(cur + k * width + 8 * ts, cur + k * width + 50 * ts, liq // 2)
    s.ticks = sorted((t, n) for t, n in edges.items() if n)
    s.liquidity = sum(n for t, n in s.ticks if t <= s.tick_current)
    arrays: dict[int, list[tuple[int, int, int]]] = {}
    for t, n in s.ticks:
        arrays.setdefault(RC.array_start(t, ts), []).append((t, n, abs(n)))
    for ta in pool.tick_arrays:
        world.accounts.pop(ta, None)
    pool.tick_arrays = []
    for start in sorted(arrays):
        ta = RC_layout._addr("tick_array", pool.address, start)
        world.put(ta, RC.PROGRAM, RCsim.encode_tick_array(start, pool.address, arrays[start], ts))
        pool.tick_arrays.append(ta)
    pool.record = replace(
        pool.record, liquidity=s.liquidity, tick_array_bitmap=RCsim._bitmap(list(arrays), ts)
    )
    acc = world.accounts[pool.address]
    acc.data = RCsim.encode_pool(pool.record, acc.data)
    for vault in (pool.vault_a, pool.vault_b):
        world._set_balance(vault, 10**18)
    return [*pool.tick_arrays, pool.address, pool.vault_a, pool.vault_b]


def _array(pool: Pool) -> int:
    return pool.spec.tick_current // (RC.TICK_ARRAY_SIZE * pool.spec.tick_spacing)


def _half(pool: Pool) -> float:
    """The relative sqrt-price move of half an array."""
    return float(1.0001 ** (RC.TICK_ARRAY_SIZE * pool.spec.tick_spacing / 4) - 1)


def _walk(pool: Pool, goal: int) -> Any:
    """Each slot, buy token a with b (the price up) by about half an array's worth."""
    return walk(
        pool,
        goal,
        _array,
        lambda pool: int(pool.spec.liquidity * (pool.spec.sqrt_price_x64 / 2**64) * _half(pool)),
    )


async def test_a_raydium_clmm_pool_walked_across_arrays_quotes_as_its_full_tick_state(
    eng: types.ModuleType,
) -> None:
    server = SimServer(
        _config(), [EndpointProfile("a", latency_ms=1, jitter_ms=0)], slot_seconds=3600.0
    )
    world = server.world
    pool = next(p for p in world.pools if p.kind == RC.IDS.kind)
    for k in _widen(world, pool):
        server.genesis[k] = _copy(world.accounts[k])
    first = _array(pool)
    world.script = _walk(pool, first + WALK_ARRAYS)
    infos = await server.start()
    graph = eng.PoolGraph(base_mints=world.bases, max_hops=3)
    ing = eng.FeedIngest(graph)
    eps = [Endpoint(i.name, i.ws_url, i.http_url) for i in infos]
    feed = FeedPool(eps, ing, eng, QUICK, rpc_timeout_s=5.0, maintain_s=0.05)
    wrong: list[tuple[int, Any, Any]] = []
    filled = 0
    try:
        boot = await feed.bootstrap(world.universe())
        assert not boot.missing and not boot.rejected
        await feed.start(boot.subscriptions)
        s = pool.spec

        def caught_up() -> bool:
            nonlocal filled
            full = market_graph(eng, world)
            try:
                if graph.pool_rate(pool.address)[2:4] != full.pool_rate(pool.address)[2:4]:
                    return False  # not the world's price yet: stale, not wrong
            except KeyError:
                return False
            sqrt = s.sqrt_price_x64 / 2**64
            h = _half(pool)
            asks = [(s.mint_b, int(s.liquidity * sqrt * h * f)) for f in (1e-3, 1.0, 2.5)]
            asks += [(s.mint_a, int(s.liquidity / sqrt * h * f)) for f in (1e-3, 1.0, 2.5)]
            done = True
            for mint, amount in asks:
                want = full.quote([pool.address], mint, amount)
                got = outcome(graph, pool.address, mint, amount)
                if got == MISSING:
                    done = False
                elif got != want:
                    wrong.append((world.slot, got, want))
                elif got:
                    filled += 1
            return done

        server._clock.cancel() if server._clock else None
        await until(caught_up, 60)
        for _ in range(4 * WALK_ARRAYS + 4):
            server.step()
            await until(caught_up, 60)
            if _array(pool) >= first + WALK_ARRAYS:
                break
        assert not wrong, wrong[:3]
        assert filled >= 4 * WALK_ARRAYS  # numbers were compared, not only refusals
        assert _array(pool) >= first + WALK_ARRAYS
        # the initialized arrays nearest the new price are watched; the first one is not
        near = {a for a, _ in RC.VENUE.follow(eng, pool.address, pool.record, 2)}  # type: ignore[misc]
        width = RC.TICK_ARRAY_SIZE * s.tick_spacing
        far = RC_layout._addr("tick_array", pool.address, first * width - 2 * width)
        await until(lambda: near <= set(ing.watched()), 60)
        assert far not in set(ing.watched())
    finally:
        await feed.stop()
        await server.stop()

"""Whirlpool tick arrays follow the price, over real sockets (SimServer + FeedPool +
ingest): the simulator walks a Whirlpool across five tick arrays while trading through
it, and at every slot the session's quote is the quote over the world's full tick
state, or ``ticks_missing`` while the arrays around the new price are not held yet
(never another number); once following catches up it is the number again."""

from __future__ import annotations

import types
from dataclasses import replace
from typing import Any

from feeds.clients.pool import Endpoint, FeedPool
from feeds.clients.pubsub import WorkerConfig
from feeds.sim.server import EndpointProfile, SimServer, _copy
from feeds.sim.state import Pool
from feeds.sim.world import World, WorldConfig
from feeds.venues import orca_whirlpool as WP
from feeds.venues.orca_whirlpool import sim as WPsim
from tests.feeds.follow import MISSING, outcome, walk
from tests.feeds.hostile import until

CFG = WorldConfig(seed=9, tokens=6, pools=12, trades_per_slot=0, dislocation_rate=0.0)
QUICK = WorkerConfig(
    open_timeout_s=2.0,
    heartbeat_s=2.0,
    stale_after_s=3.0,
    backoff_min_s=0.05,
    backoff_max_s=0.3,
    unsubscribe_wait_s=0.1,
)
WALK_ARRAYS = 4  # from the first array into the fifth


def _widen(world: World, pool: Pool) -> list[str]:
    """Liquidity over many arrays around the price (a wide position, and a narrow one
    in every other array); the accounts rewritten. As on mainnet only the arrays holding
    ticks exist: the ones between are absent, and the walk goes through them."""
    s = pool.spec
    ts = s.tick_spacing
    width = WP.TICK_ARRAY_SIZE * ts
    cur = s.tick_current // width * width
    liq = max(s.liquidity, 10**12)
    edges: dict[int, int] = {}

    def add(lo: int, hi: int, n: int) -> None:
        edges[lo] = edges.get(lo, 0) + n
        edges[hi] = edges.get(hi, 0) - n

    add(cur - 2 * width, cur + 8 * width, liq)
    for k in range(-2, 8, 2):
        add(cur + k * width + 8 * ts, cur + k * width + 60 * ts, liq // 2)
    s.ticks = sorted((t, n) for t, n in edges.items() if n)
    s.liquidity = sum(n for t, n in s.ticks if t <= s.tick_current)
    arrays: dict[int, list[tuple[int, int, int]]] = {}
    for t, n in s.ticks:
        start = t // width * width
        arrays.setdefault(start, []).append(((t - start) // ts, n, abs(n)))
    changed = []
    for k in range(-5, 12):
        start = cur + k * width
        ta, _ = world.eng.tick_array_address(pool.address, start)
        if start in arrays:
            world.put(
                ta, WP.PROGRAM, WP.encode_fixed_tick_array(start, pool.address, arrays[start])
            )
            changed.append(ta)
        else:
            world.accounts.pop(ta, None)  # nobody initialized it
    pool.record = replace(pool.record, liquidity=s.liquidity)
    acc = world.accounts[pool.address]
    acc.data = WPsim.encode_pool(pool.record, acc.data)
    for vault in (pool.vault_a, pool.vault_b):
        world._set_balance(vault, 10**18)
    return [*changed, pool.address, pool.vault_a, pool.vault_b]


def _array(pool: Pool) -> int:
    width = WP.TICK_ARRAY_SIZE * pool.spec.tick_spacing
    return pool.spec.tick_current // width


def _half(pool: Pool) -> float:
    """The relative sqrt-price move of half an array."""
    return float(1.0001 ** (WP.TICK_ARRAY_SIZE * pool.spec.tick_spacing / 4) - 1)


def _walk(pool: Pool, goal: int) -> Any:
    """Each slot, buy token a with b (the price up) by about half an array's worth,
    until the current tick is in array ``goal``."""
    return walk(
        pool,
        goal,
        _array,
        lambda pool: int(pool.spec.liquidity * (pool.spec.sqrt_price_x64 / 2**64) * _half(pool)),
    )


async def test_a_whirlpool_walked_across_five_arrays_quotes_as_its_full_tick_state(
    eng: types.ModuleType,
) -> None:
    server = SimServer(CFG, [EndpointProfile("a", latency_ms=1, jitter_ms=0)], slot_seconds=3600.0)
    world = server.world
    pool = next(p for p in world.pools if p.kind == WP.IDS.kind)
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
    missing = 0
    filled = 0
    try:
        boot = await feed.bootstrap(world.universe())
        assert not boot.missing and not boot.rejected
        await feed.start(boot.subscriptions)
        s = pool.spec

        def caught_up() -> bool:
            """The session's pool is the world's now (same price) and every quote is the
            full state's number; a different number is recorded as wrong."""
            nonlocal missing, filled
            full = eng.PoolGraph(base_mints=world.bases, max_hops=3)
            s.upsert(full, 0)
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
                    missing += 1
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
        assert feed.zeroed > 0  # arrays absent on chain were quoted through as empty ones
        assert filled >= 4 * WALK_ARRAYS  # numbers were compared, not only refusals
        assert _array(pool) >= first + WALK_ARRAYS
        # the arrays followed: those within 2 of the new one watched, the first ones not
        starts = eng.tick_array_starts(s.tick_spacing, s.tick_current, 2)
        near = {eng.tick_array_address(pool.address, t)[0] for t in starts}
        width = WP.TICK_ARRAY_SIZE * s.tick_spacing
        far = eng.tick_array_address(pool.address, first * width - 2 * width)[0]
        await until(lambda: near <= set(ing.watched()), 60)  # following catches up
        assert far not in set(ing.watched())
        assert all(far not in {x.label for x in w.subs} for w in feed.workers)
    finally:
        await feed.stop()
        await server.stop()

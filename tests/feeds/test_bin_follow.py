"""Meteora DLMM bin arrays follow the active bin, over real sockets (SimServer +
FeedPool + ingest): the simulator walks a DLMM pair across several bin arrays while
trading through it, and at every slot the session's quote becomes the program's swap on
the world's bytes (every bin array given) at the chain's clock (each slot an hour on:
the pair's volatility decays between trades), through ``ticks_missing`` while the arrays
around the new active bin are not held yet; the arrays far behind are dropped."""

from __future__ import annotations

import types
from dataclasses import replace
from typing import Any

from engine_rs.errors import TicksMissingError
from feeds.clients.pool import Endpoint, FeedPool
from feeds.clients.pubsub import WorkerConfig
from feeds.sim.server import EndpointProfile, SimServer, _copy
from feeds.sim.state import Pool
from feeds.sim.world import World, WorldConfig
from feeds.venues import meteora_dlmm as DL
from feeds.venues.meteora_dlmm import sim as DLsim
from tests.feeds.follow import MISSING, outcome, walk
from tests.feeds.hostile import until

CFG = WorldConfig(seed=1, tokens=6, pools=12, trades_per_slot=0, dislocation_rate=0.0)
QUICK = WorkerConfig(
    open_timeout_s=2.0,
    heartbeat_s=2.0,
    stale_after_s=3.0,
    backoff_min_s=0.05,
    backoff_max_s=0.3,
    unsubscribe_wait_s=0.1,
)
WALK_ARRAYS = 3  # from the active bin's array into the fourth above it
SIDE = 6  # arrays of liquidity on each side of the active one


def _pool(world: World) -> Pool:
    return next(p for p in world.pools if p.kind == DL.IDS.kind)


def _widen(world: World, pool: Pool) -> list[str]:
    """Liquidity in every bin of ``SIDE`` arrays each side of the active one (X above, Y
    below, both in the active bin), at their PDAs, the pair's bitmap marking them."""
    rec = pool.record
    mid = rec.active_id // DL.BINS_PER_ARRAY
    arrays: dict[int, tuple[str, list[list[int]]]] = {}
    bitmap = [0] * 16
    for idx in range(mid - SIDE, mid + SIDE + 1):
        bins = []
        for i in range(DL.BINS_PER_ARRAY):
            bin_id = idx * DL.BINS_PER_ARRAY + i
            x = 10**12 if bin_id >= rec.active_id else 0
            y = 10**12 if bin_id <= rec.active_id else 0
            p = world.eng.meteora_dlmm_bin_price(bin_id, rec.bin_step)
            bins.append([x, y, p, x * p + (y << 64), 0, 0, 0])
        arrays[idx] = (DL.bin_array_address(pool.address, idx), bins)
        off = idx + DL.BITMAP_SIZE
        bitmap[off // 64] |= 1 << (off % 64)
    changed = []
    for a in pool.tick_arrays:
        world.accounts.pop(a, None)
    for idx, (a, bins) in arrays.items():
        world.put(a, DL.PROGRAM, DLsim.encode_bin_array(idx, pool.address, bins))
        changed.append(a)
    pool.tick_arrays = [a for _, (a, _) in sorted(arrays.items())]
    pool.spec.state = DLsim.DlmmMarket(arrays)
    pool.record = replace(rec, bin_array_bitmap=tuple(bitmap))
    acc = world.accounts[pool.address]
    acc.data = DLsim.encode_lb_pair(pool.record, acc.data)
    for vault in (pool.vault_a, pool.vault_b):
        world._set_balance(vault, 10**18)
    return [*changed, pool.address, pool.vault_a, pool.vault_b]


def _array(pool: Pool) -> int:
    return int(pool.record.active_id) // DL.BINS_PER_ARRAY


def _walk(pool: Pool, goal: int) -> Any:
    """Each slot, buy X with Y (the active bin up) by about half an array of bins."""
    return walk(
        pool, goal, _array, lambda pool: int(10**12 * DLsim._price(pool) * DL.BINS_PER_ARRAY / 2)
    )


def _full(eng: types.ModuleType, world: World, pool: Pool, mint: str, amount: int) -> Any:
    """The program's swap on the world's bytes with every bin array, at the chain's
    clock (the Clock sysvar the session follows)."""
    a_to_b = mint == pool.mint_a
    data = [world.accounts[a].data for a in pool.tick_arrays]
    try:
        out = eng.meteora_dlmm_quote(
            world.accounts[pool.address].data,
            data,
            amount,
            a_to_b,
            world.unix_time(),
            world.slot,
        )
    except TicksMissingError:
        return MISSING
    return [] if out is None else [amount, out]


async def test_a_dlmm_pair_walked_across_bin_arrays_quotes_as_the_program_on_its_bytes(
    eng: types.ModuleType,
) -> None:
    server = SimServer(CFG, [EndpointProfile("a", latency_ms=1, jitter_ms=0)], slot_seconds=3600.0)
    world = server.world
    pool = _pool(world)
    for k in _widen(world, pool):
        server.genesis[k] = _copy(world.accounts[k])
    first = _array(pool)
    world.script = _walk(pool, first + WALK_ARRAYS)
    infos = await server.start()
    graph = eng.PoolGraph(base_mints=world.bases, max_hops=3)
    ing = eng.FeedIngest(graph)
    eps = [Endpoint(i.name, i.ws_url, i.http_url) for i in infos]
    feed = FeedPool(eps, ing, eng, QUICK, rpc_timeout_s=5.0, maintain_s=0.05)
    seen = {"missing": 0, "filled": 0}
    try:
        boot = await feed.bootstrap(world.universe())
        assert not boot.missing and not boot.rejected
        await feed.start(boot.subscriptions)

        def caught_up() -> bool:
            """Every quote of the session is the program's number on the world's bytes
            now (a quote needing arrays not held yet is ticks_missing, and waits)."""
            # from dust to about 30 bins each way: within the arrays the session holds
            price = DLsim._price(pool)
            asks = [(pool.mint_b, int(10**12 * price * f)) for f in (1e-3, 1.0, 30.0)]
            asks += [(pool.mint_a, int(10**12 / price * f)) for f in (1e-3, 1.0, 30.0)]
            done = True
            for mint, amount in asks:
                want = _full(eng, world, pool, mint, amount)
                got = outcome(graph, pool.address, mint, amount)
                if got == MISSING:
                    seen["missing"] += 1
                    done = False
                elif got != want:
                    done = False  # not the world's bytes yet
                elif got:
                    seen["filled"] += 1
            return done

        server._clock.cancel() if server._clock else None
        await until(caught_up, 60)
        for _ in range(4 * WALK_ARRAYS + 4):
            server.step()
            await until(caught_up, 60)
            if _array(pool) >= first + WALK_ARRAYS:
                break
        assert _array(pool) >= first + WALK_ARRAYS
        assert seen["filled"] >= 4 * WALK_ARRAYS  # numbers were compared, not only refusals
        # the arrays followed: those within 2 of the new one watched, the first ones not
        near = {DL.bin_array_address(pool.address, _array(pool) + k) for k in range(-2, 3)}
        far = DL.bin_array_address(pool.address, first - 2)
        await until(lambda: near <= set(ing.watched()), 60)
        assert far not in set(ing.watched())
    finally:
        await feed.stop()
        await server.stop()

"""A pool's arrays follow its price, over real sockets (SimServer + FeedPool + ingest), for
every venue of the engine's registry that has arrays (``VenueInfo.arrays``: Whirlpool
tick arrays, Raydium CLMM tick arrays, Meteora DLMM bin arrays). The simulator walks a
pool across several of its arrays while trading through it, and at every slot the
session's quote is the reference number for the world's state, or ``ticks_missing``
while the arrays around the new price are not held yet (never another number); once
following catches up it is the number again, the arrays near the new price are watched
and the first ones are not.

Each venue's case (:data:`CASES`) says how its pool is widened over many arrays, which
array its price is in, how a slot's trade moves it, what the reference quote is, and
which arrays must be watched at the end:

- Whirlpool: liquidity over many arrays, the ones between absent on chain (the walk goes
  through them: they are quoted as the zeroed arrays the program reads); the reference
  is the quote over the world's full tick state.
- Raydium CLMM: only the arrays holding ticks exist, as on mainnet: the pool's bitmap
  names them, and the session follows those nearest the price (``follow``), skipping
  the empty ones between; the reference is the quote over the world's accounts through
  the trusted path, every array held.
- Meteora DLMM: the reference is the program's swap on the world's bytes (every bin
  array given) at the chain's clock (each slot an hour on: the pair's volatility decays
  between trades); the session's number may trail the world's bytes for a slot, so a
  different number waits instead of counting as wrong.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from engine_rs.errors import TicksMissingError
from feeds import venues
from feeds.clients.pool import Endpoint, FeedPool
from feeds.sim.server import EndpointProfile, SimServer, _copy
from feeds.sim.state import Pool
from feeds.sim.world import Trade, World, WorldConfig
from feeds.venues import meteora_dlmm as DL
from feeds.venues import orca_whirlpool as WP
from feeds.venues import raydium_clmm as RC
from feeds.venues.ids import table
from feeds.venues.meteora_dlmm import sim as DLsim
from feeds.venues.orca_whirlpool import sim as WPsim
from feeds.venues.raydium_clmm import layout as RC_layout
from feeds.venues.raydium_clmm import sim as RCsim
from tests.support.feeds import QUICK
from tests.support.hostile import until
from tests.support.truth import market_graph

MISSING = "ticks_missing"

Quote = Callable[[str, int], Any]  # (mint in, amount) -> the reference outcome


@dataclass(frozen=True)
class Case:
    """How one venue's pool is walked across its arrays, and what is checked."""

    config: Callable[[], WorldConfig]
    walk_arrays: int  # how many arrays the price walks past the first
    widen: Callable[[World, Pool], list[str]]  # liquidity over many arrays; accounts changed
    array: Callable[[Pool], int]  # the index of the array the price is in
    step: Callable[[Pool], int]  # a slot's trade (token b in): about half an array's worth
    asks: Callable[[Pool], list[tuple[str, int]]]  # the quotes compared, both ways
    # the reference outcome of a quote on the world's state now; None while the
    # session's pool is not at the world's price yet (stale, not wrong)
    reference: Callable[[types.ModuleType, World, Pool, Any], Quote | None]
    # True: a number other than the reference is wrong; False: the session's bytes may
    # trail the world's for a slot, and a different number waits
    strict: bool
    # the arrays that must be watched at the end, and one far behind that must not
    near: Callable[[types.ModuleType, Pool], set[str]]
    far: Callable[[types.ModuleType, Pool, int], str]
    # the walk went through arrays absent on chain, quoted as zeroed ones
    absent_arrays: bool = False
    # the far array is no longer any worker's subscription either
    unsubscribed: bool = False


def walk(
    pool: Pool, goal: int, array_of: Callable[[Pool], int], amount_of: Callable[[Pool], int]
) -> Callable[[World], list[Trade]]:
    """The world's script: each slot, buy token a with b (the price up) by
    ``amount_of(pool)``, until the pool's active array (``array_of``) is ``goal``."""

    def script(world: World) -> list[Trade]:
        if array_of(pool) >= goal:
            return []
        t = world.swap(pool, False, amount_of(pool))
        return [] if t is None else [t]

    return script


def outcome(graph: Any, pool: str, mint: str, amount: int) -> Any:
    """The graph's quote through ``pool``, or :data:`MISSING` when it needs arrays the
    graph does not hold."""
    try:
        return graph.quote([pool], mint, amount)
    except TicksMissingError:
        return MISSING


def _quiet(seed: int) -> WorldConfig:
    return WorldConfig(seed=seed, tokens=6, pools=12, trades_per_slot=0, dislocation_rate=0.0)


def _spread(pool: Pool, ticks_per_array: int, offsets: Callable[[int], list[int]]) -> None:
    """A wide position from two arrays below the price's array to eight above, and a
    narrow one in every other array (from ``offsets(tick_spacing)[0]`` ticks into it to
    ``[1]``); the pool's ticks and liquidity rewritten."""
    s = pool.spec
    ts = s.tick_spacing
    width = ticks_per_array * ts
    cur = s.tick_current // width * width
    liq = max(s.liquidity, 10**12)
    edges: dict[int, int] = {}

    def add(lo: int, hi: int, n: int) -> None:
        edges[lo] = edges.get(lo, 0) + n
        edges[hi] = edges.get(hi, 0) - n

    add(cur - 2 * width, cur + 8 * width, liq)
    lo, hi = offsets(ts)
    for k in range(-2, 8, 2):
        add(cur + k * width + lo, cur + k * width + hi, liq // 2)
    s.ticks = sorted((t, n) for t, n in edges.items() if n)
    s.liquidity = sum(n for t, n in s.ticks if t <= s.tick_current)


def _tick_array(ticks_per_array: int) -> Callable[[Pool], int]:
    def array(pool: Pool) -> int:
        return int(pool.spec.tick_current // (ticks_per_array * pool.spec.tick_spacing))

    return array


def _half(ticks_per_array: int) -> Callable[[Pool], float]:
    """The relative sqrt-price move of half an array."""

    def half(pool: Pool) -> float:
        return float(1.0001 ** (ticks_per_array * pool.spec.tick_spacing / 4) - 1)

    return half


def _tick_step(ticks_per_array: int) -> Callable[[Pool], int]:
    half = _half(ticks_per_array)

    def step(pool: Pool) -> int:
        return int(pool.spec.liquidity * (pool.spec.sqrt_price_x64 / 2**64) * half(pool))

    return step


def _tick_asks(ticks_per_array: int) -> Callable[[Pool], list[tuple[str, int]]]:
    half = _half(ticks_per_array)

    def asks(pool: Pool) -> list[tuple[str, int]]:
        s = pool.spec
        sqrt = s.sqrt_price_x64 / 2**64
        h = half(pool)
        out = [(s.mint_b, int(s.liquidity * sqrt * h * f)) for f in (1e-3, 1.0, 2.5)]
        return out + [(s.mint_a, int(s.liquidity / sqrt * h * f)) for f in (1e-3, 1.0, 2.5)]

    return asks


def _same_price(graph: Any, full: Any, pool: Pool) -> bool:
    try:
        return bool(graph.pool_rate(pool.address)[2:4] == full.pool_rate(pool.address)[2:4])
    except KeyError:
        return False


# ---- Orca Whirlpool -------------------------------------------------------------------
def _wp_widen(world: World, pool: Pool) -> list[str]:
    """Liquidity over many arrays around the price (a wide position, and a narrow one
    in every other array); the accounts rewritten. As on mainnet only the arrays holding
    ticks exist: the ones between are absent, and the walk goes through them."""
    _spread(pool, WP.TICK_ARRAY_SIZE, lambda ts: [8 * ts, 60 * ts])
    s = pool.spec
    ts = s.tick_spacing
    width = WP.TICK_ARRAY_SIZE * ts
    cur = s.tick_current // width * width
    arrays: dict[int, list[tuple[int, int, int]]] = {}
    for t, n in s.ticks:
        start = t // width * width
        arrays.setdefault(start, []).append(((t - start) // ts, n, abs(n)))
    changed = []
    for k in range(-5, 12):
        start = cur + k * width
        ta, _ = world.eng.orca_whirlpool.tick_array_address(pool.address, start)
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


def _wp_reference(eng: types.ModuleType, world: World, pool: Pool, graph: Any) -> Quote | None:
    """The quote over the world's full tick state."""
    full = eng.PoolGraph(base_mints=world.bases, max_hops=3)
    pool.spec.upsert(full, 0)
    if not _same_price(graph, full, pool):
        return None
    return lambda mint, amount: full.quote([pool.address], mint, amount)


def _wp_near(eng: types.ModuleType, pool: Pool) -> set[str]:
    s = pool.spec
    starts = eng.orca_whirlpool.tick_array_starts(s.tick_spacing, s.tick_current, 2)
    return {eng.orca_whirlpool.tick_array_address(pool.address, t)[0] for t in starts}


def _wp_far(eng: types.ModuleType, pool: Pool, first: int) -> str:
    width = WP.TICK_ARRAY_SIZE * pool.spec.tick_spacing
    return str(eng.orca_whirlpool.tick_array_address(pool.address, first * width - 2 * width)[0])


# ---- Raydium CLMM ---------------------------------------------------------------------
def _rc_config() -> WorldConfig:
    """The first quiet seeded world holding a Raydium CLMM pool."""
    for seed in range(1, 60):
        c = _quiet(seed)
        if any(p.kind == RC.IDS.kind for p in World(c).pools):
            return c
    raise AssertionError("no seed gave a Raydium CLMM pool")


def _rc_widen(world: World, pool: Pool) -> list[str]:
    """A wide position over ten arrays and a narrow one in every other array; the tick
    arrays holding ticks written at their PDAs (the others absent), the pool's liquidity
    and bitmap rewritten."""
    _spread(pool, RC.TICK_ARRAY_SIZE, lambda ts: [8 * ts, 50 * ts])
    s = pool.spec
    ts = s.tick_spacing
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


def _rc_reference(eng: types.ModuleType, world: World, pool: Pool, graph: Any) -> Quote | None:
    """The quote over the world's accounts through the trusted path, every array held."""
    full = market_graph(eng, world)
    if not _same_price(graph, full, pool):
        return None
    return lambda mint, amount: full.quote([pool.address], mint, amount)


def _rc_near(eng: types.ModuleType, pool: Pool) -> set[str]:
    """The initialized arrays nearest the new price."""
    return {a for a, _ in RC.VENUE.follow(eng, pool.address, pool.record, 2)}  # type: ignore[misc]


def _rc_far(eng: types.ModuleType, pool: Pool, first: int) -> str:
    width = RC.TICK_ARRAY_SIZE * pool.spec.tick_spacing
    return str(RC_layout._addr("tick_array", pool.address, first * width - 2 * width))


# ---- Meteora DLMM ---------------------------------------------------------------------
DL_SIDE = 6  # arrays of liquidity on each side of the active one


def _dl_widen(world: World, pool: Pool) -> list[str]:
    """Liquidity in every bin of ``DL_SIDE`` arrays each side of the active one (X
    above, Y below, both in the active bin), at their PDAs, the pair's bitmap marking
    them."""
    rec = pool.record
    mid = rec.active_id // DL.BINS_PER_ARRAY
    arrays: dict[int, tuple[str, list[list[int]]]] = {}
    bitmap = [0] * 16
    for idx in range(mid - DL_SIDE, mid + DL_SIDE + 1):
        bins = []
        for i in range(DL.BINS_PER_ARRAY):
            bin_id = idx * DL.BINS_PER_ARRAY + i
            x = 10**12 if bin_id >= rec.active_id else 0
            y = 10**12 if bin_id <= rec.active_id else 0
            p = world.eng.meteora_dlmm.bin_price(bin_id, rec.bin_step)
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


def _dl_array(pool: Pool) -> int:
    return int(pool.record.active_id) // DL.BINS_PER_ARRAY


def _dl_asks(pool: Pool) -> list[tuple[str, int]]:
    """From dust to about 30 bins each way: within the arrays the session holds. Token a
    in is counted in a's atoms, not at the price: the bins the walk bought out hold
    ``10**12 x`` their price of b each (not ``10**12``), so a's ``10**12 / price`` would
    walk ``1 / price`` of them a bin (at BONK's real magnitude, thousands: past every
    array the session follows)."""
    price = DLsim._price(pool)
    asks = [(pool.mint_b, int(10**12 * price * f)) for f in (1e-3, 1.0, 30.0)]
    return asks + [(pool.mint_a, int(10**12 * f)) for f in (1e-3, 1.0, 30.0)]


def _dl_reference(eng: types.ModuleType, world: World, pool: Pool, graph: Any) -> Quote:
    """The program's swap on the world's bytes with every bin array, at the chain's
    clock (the Clock sysvar the session follows)."""

    def quote(mint: str, amount: int) -> Any:
        data = [world.accounts[a].data for a in pool.tick_arrays]
        try:
            out = eng.meteora_dlmm.quote(
                world.accounts[pool.address].data,
                data,
                amount,
                mint == pool.mint_a,
                world.unix_time(),
                world.slot,
            )
        except TicksMissingError:
            return MISSING
        return [] if out is None else [amount, out]

    return quote


def _dl_near(eng: types.ModuleType, pool: Pool) -> set[str]:
    return {DL.bin_array_address(pool.address, _dl_array(pool) + k) for k in range(-2, 3)}


def _dl_far(eng: types.ModuleType, pool: Pool, first: int) -> str:
    return str(DL.bin_array_address(pool.address, first - 2))


# ---- the registry's venues with arrays -------------------------------------------------
CASES: dict[str, Case] = {
    "orca_whirlpool": Case(
        config=lambda: _quiet(9),
        walk_arrays=4,  # from the first array into the fifth
        widen=_wp_widen,
        array=_tick_array(WP.TICK_ARRAY_SIZE),
        step=_tick_step(WP.TICK_ARRAY_SIZE),
        asks=_tick_asks(WP.TICK_ARRAY_SIZE),
        reference=_wp_reference,
        strict=True,
        near=_wp_near,
        far=_wp_far,
        absent_arrays=True,
        unsubscribed=True,
    ),
    "raydium_clmm": Case(
        config=_rc_config,
        walk_arrays=4,
        widen=_rc_widen,
        array=_tick_array(RC.TICK_ARRAY_SIZE),
        step=_tick_step(RC.TICK_ARRAY_SIZE),
        asks=_tick_asks(RC.TICK_ARRAY_SIZE),
        reference=_rc_reference,
        strict=True,
        near=_rc_near,
        far=_rc_far,
    ),
    "meteora_dlmm": Case(
        config=lambda: _quiet(1),
        walk_arrays=3,  # from the active bin's array into the fourth above it
        widen=_dl_widen,
        array=_dl_array,
        step=lambda pool: int(10**12 * DLsim._price(pool) * DL.BINS_PER_ARRAY / 2),
        asks=_dl_asks,
        reference=_dl_reference,
        strict=False,
        near=_dl_near,
        far=_dl_far,
    ),
}

ARRAY_VENUES = [i.name for i in table() if i.arrays]


def test_every_venue_with_arrays_follows_them_and_has_a_case_here() -> None:
    # the engine's registry says which venues have arrays; the feeds' side of each one
    # derives them around the price (`follow`), and this module walks each one
    assert ARRAY_VENUES == ["orca_whirlpool", "raydium_clmm", "meteora_dlmm"]
    assert [v.ids.name for v in venues.VENUES if v.follow is not None] == ARRAY_VENUES
    assert set(CASES) == set(ARRAY_VENUES)


@pytest.mark.slow
@pytest.mark.parametrize("name", ARRAY_VENUES)
async def test_a_pool_walked_across_its_arrays_quotes_as_the_worlds_state(
    name: str, eng: types.ModuleType
) -> None:
    case = CASES[name]
    kind = next(i.kind for i in table() if i.name == name)
    server = SimServer(
        case.config(), [EndpointProfile("a", latency_ms=1, jitter_ms=0)], slot_seconds=3600.0
    )
    world = server.world
    pool = next(p for p in world.pools if p.kind == kind)
    for k in case.widen(world, pool):
        server.genesis[k] = _copy(world.accounts[k])
    first = case.array(pool)
    goal = first + case.walk_arrays
    world.script = walk(pool, goal, case.array, case.step)
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

        def caught_up() -> bool:
            """Every quote of the session is the reference number now (a quote needing
            arrays not held yet is ticks_missing, and waits); a different number is
            recorded as wrong where the case is strict, else waited on."""
            nonlocal filled
            reference = case.reference(eng, world, pool, graph)
            if reference is None:
                return False  # not the world's price yet: stale, not wrong
            done = True
            for mint, amount in case.asks(pool):
                want = reference(mint, amount)
                got = outcome(graph, pool.address, mint, amount)
                if got == MISSING:
                    done = False
                elif got != want:
                    if case.strict:
                        wrong.append((world.slot, got, want))
                    else:
                        done = False  # not the world's bytes yet
                elif got:
                    filled += 1
            return done

        server._clock.cancel() if server._clock else None
        await until(caught_up, 60)
        for _ in range(4 * case.walk_arrays + 4):
            server.step()
            await until(caught_up, 60)
            if case.array(pool) >= goal:
                break
        assert not wrong, wrong[:3]
        if case.absent_arrays:
            assert feed.zeroed > 0  # arrays absent on chain were quoted through as empty ones
        assert filled >= 4 * case.walk_arrays  # numbers were compared, not only refusals
        assert case.array(pool) >= goal
        # the arrays followed: those near the new price watched, the first ones not
        near = case.near(eng, pool)
        far = case.far(eng, pool, first)
        await until(lambda: near <= set(ing.watched()), 60)  # following catches up
        assert far not in set(ing.watched())
        if case.unsubscribed:
            assert all(far not in {x.label for x in w.subs} for w in feed.workers)
    finally:
        await feed.stop()
        await server.stop()

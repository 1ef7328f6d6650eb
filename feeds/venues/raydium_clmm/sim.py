"""Raydium CLMM's simulated program (the simulator's part of
:mod:`feeds.venues.raydium_clmm`; only the simulator and tests import it): the encoders
of its accounts (``PoolState``, ``AmmConfig``, ``TickArrayState``, the bitmap extension,
``ObservationState``) and of its ``SwapEvent``, ``swap_v2``'s checks, the market's
configs and pools, and what a swap writes (:data:`SIM`; see the package's docstring)."""

from __future__ import annotations

import base64
import struct
import weakref
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from engine_rs import decoded as D

from ...sim import clmm
from ...sim import venue as sv
from ...sim.clmm import crossed_ticks as crossed_ticks
from ...sim.state import Pool, sim_key
from ...sim.venue import ANCHOR_CONSTRAINT_ADDRESS, InstructionFailed, ProgramError
from ...wire.instructions import MEMO_PROGRAM, SPL_TOKEN, TOKEN_2022, Swap
from ...wire.writer import Writer
from . import (
    COMPUTE_UNITS,
    TOKEN_2022_STEPS,
    VENUE,
    layout,
)
from .layout import _addr

if TYPE_CHECKING:
    from ...sim import synthetic
    from ...sim.world import SwapQuote, World


# the simulator's configs: (index, tick spacing, trade fee rate per 1e6)
SIM_CONFIGS = ((0, 10, 500), (1, 60, 2_500), (2, 120, 10_000))


# ------------------------------------------------------------------ simulator: layouts
def encode_pool(r: Any, base: bytes | None = None) -> bytes:
    """Raydium CLMM ``PoolState`` (1,544 bytes): the decoded fields at their offsets
    (rewards and the dynamic fee left as they are: zero for a new pool)."""
    w = Writer(layout.POOL_LEN, base, layout.DISC_POOL)
    w.u8(8, r.bump)
    for i, k in enumerate(
        (
            r.amm_config,
            r.owner,
            r.token_mint_0,
            r.token_mint_1,
            r.token_vault_0,
            r.token_vault_1,
            r.observation_key,
        )
    ):
        w.key(9 + 32 * i, k)
    w.u8(233, r.mint_decimals_0)
    w.u8(234, r.mint_decimals_1)
    w.u16(235, r.tick_spacing)
    w.u128(237, r.liquidity)
    w.u128(253, r.sqrt_price_x64)
    w.i32(269, r.tick_current)
    w.u128(277, r.fee_growth_global_0_x64)
    w.u128(293, r.fee_growth_global_1_x64)
    w.u64s(309, (r.protocol_fees_token_0, r.protocol_fees_token_1))
    w.u8(389, r.status)
    w.u8(390, r.fee_on)
    w.u64s(904, r.tick_array_bitmap)
    w.u64s(1064, (r.fund_fees_token_0, r.fund_fees_token_1, r.open_time, r.recent_epoch))
    return w.done()


def encode_amm_config(r: Any) -> bytes:
    """Raydium CLMM ``AmmConfig`` (117 bytes)."""
    w = Writer(layout.CONFIG_LEN, None, layout.DISC_CONFIG)
    w.u8(8, r.bump)
    w.u16(9, r.index)
    w.key(11, r.owner)
    for off, v in ((43, r.protocol_fee_rate), (47, r.trade_fee_rate), (53, r.fund_fee_rate)):
        w.buf[off : off + 4] = v.to_bytes(4, "little")
    w.u16(51, r.tick_spacing)
    w.key(61, r.fund_owner)
    return w.done()


TICK_ARRAY_EPOCH = 10_125  # TickArrayState.recent_epoch (after initialized_tick_count)


def encode_tick_array(
    start: int, pool: str, ticks: Sequence[tuple[int, int, int]], tick_spacing: int
) -> bytes:
    """A ``TickArrayState`` (10,240 bytes); ``ticks``: the initialized ones as ``(tick,
    liquidity_net, liquidity_gross)`` within the array."""
    w = Writer(layout.TICK_ARRAY_LEN, None, layout.DISC_TICK_ARRAY)
    w.key(8, pool)
    w.i32(40, start)
    for t, net, gross in ticks:
        i = (t - start) // tick_spacing
        if not 0 <= i < layout.TICK_ARRAY_SIZE:
            raise ValueError(f"tick {t} is not in the array at {start}")
        off = 44 + layout.TICK_LEN * i
        w.i32(off, t)
        w.i128(off + 4, net)
        w.u128(off + 20, gross)
    w.u8(10124, len(ticks))
    return w.done()


def encode_bitmap_extension(pool: str, starts: Sequence[int] = (), tick_spacing: int = 1) -> bytes:
    """A ``TickArrayBitmapExtension`` (1,832 bytes: the pool's key, then 14 bitmaps of
    512 bits for the arrays above the pool's own bitmap and 14 below), with the bits of
    the initialized arrays ``starts`` that lie outside the pool's own range
    (``flip_tick_array_bit``: bitmap ``|start| / (512 * 60 * spacing) - 1``, one less
    below zero on a multiple; bit ``|start| % that / (60 * spacing)``, from the far end
    below zero). No ``starts``: empty, as ``create_pool`` makes it."""
    w = Writer(layout.EXTENSION_LEN, None, layout.DISC_BITMAP_EXTENSION)
    w.key(8, pool)
    tc = layout.TICK_ARRAY_SIZE * tick_spacing
    span = 512 * tc
    for s in starts:
        if -span <= s < span:
            continue  # the pool's own bitmap
        a = abs(s)
        offset = a // span - 1 - (1 if s < 0 and a % span == 0 else 0)
        m = a % span
        bit = m // tc
        if s < 0 and m:
            bit = 512 - bit
        at = (936 if s < 0 else 40) + 64 * offset + 8 * (bit // 64)
        word = int.from_bytes(w.buf[at : at + 8], "little") | 1 << (bit % 64)
        w.u64(at, word)
    return w.done()


def encode_observation(pool: str, recent_epoch: int) -> bytes:
    """A new ``ObservationState`` (``ObservationState::initialize``, as ``create_pool``
    makes it): not initialized, its epoch, index 0, the pool's key, no observations."""
    w = Writer(layout.OBSERVATION_LEN, None, layout.DISC_OBSERVATION)
    w.u64(9, recent_epoch)
    w.key(19, pool)
    return w.done()


def observe(data: bytes, block_timestamp: int, tick: int) -> bytes:
    """``ObservationState::update`` at ``block_timestamp`` (the clock's unix time as
    u32) with ``tick`` (the pool's tick before the swap): the first observation where
    the index points, then a new one at most every 15 seconds, its tick cumulative the
    last one's plus ``tick * seconds`` (wrapping i64; the product saturating)."""
    buf = bytearray(data)
    index = int.from_bytes(buf[17:19], "little")
    at = layout.OBSERVATION_AT + layout.OBSERVATION_ITEM_LEN * index
    if not buf[8]:
        buf[8] = 1
        struct.pack_into("<Iq", buf, at, block_timestamp, 0)
        return bytes(buf)
    last_time, last_cumulative = struct.unpack_from("<Iq", buf, at)
    delta = max(0, block_timestamp - last_time)
    if delta < layout.OBSERVATION_UPDATE_DURATION:
        return bytes(buf)
    step = max(-(1 << 63), min((1 << 63) - 1, tick * delta))
    cumulative = (last_cumulative + step + (1 << 63)) % (1 << 64) - (1 << 63)
    index = 0 if index == layout.OBSERVATION_NUM - 1 else index + 1
    struct.pack_into(
        "<Iq",
        buf,
        layout.OBSERVATION_AT + layout.OBSERVATION_ITEM_LEN * index,
        block_timestamp,
        cumulative,
    )
    buf[17:19] = index.to_bytes(2, "little")
    return bytes(buf)


def _key_bytes(key: str) -> bytes:
    import engine_rs

    return bytes(engine_rs.backend().b58decode(key))


def encode_swap_event(ev: Any) -> str:
    """The base64 of a ``SwapEvent`` (221 bytes, with ``trade_fee_0/1``)."""
    body = b"".join(
        _key_bytes(k) for k in (ev.pool_state, ev.sender, ev.token_account_0, ev.token_account_1)
    )
    body += struct.pack(
        "<QQQQ?", ev.amount_0, ev.transfer_fee_0, ev.amount_1, ev.transfer_fee_1, ev.zero_for_one
    )
    body += ev.sqrt_price_x64.to_bytes(16, "little") + ev.liquidity.to_bytes(16, "little")
    body += struct.pack("<iQQ", ev.tick, ev.trade_fee_0 or 0, ev.trade_fee_1 or 0)
    return base64.b64encode(layout.DISC_SWAP_EVENT + body).decode()


# ------------------------------------------------------------------ simulator: program
def _ticks_of(pool: Pool) -> list[tuple[int, int]]:
    return list(pool.spec.ticks)


def _needed_arrays(
    world: World, pool: Pool, zfo: bool, tick_after: int, sqrt_after: int | None
) -> list[int]:
    """The initialized arrays (their starts) a swap from the pool's state to
    ``tick_after`` at ``sqrt_after`` reads, in order: from the first initialized one in
    its direction (the current tick's when initialized) to the one holding its last
    target, the tick it crossed and stopped on, else the next initialized tick past where
    it stopped (each step finds its target before the amount runs out). ``sqrt_after``
    None: it ran past every tick (all arrays in its direction)."""
    s = pool.spec
    ts = s.tick_spacing
    ticks = {t for t, _ in s.ticks}
    starts = sorted({layout.array_start(t, ts) for t in ticks})
    cur = layout.array_start(s.tick_current, ts)
    price = world.eng.raydium_clmm.sqrt_price_at_tick
    if zfo:
        on = tick_after + 1  # a crossing going down leaves the tick one below it
        if sqrt_after is not None and on in ticks and price(on) == sqrt_after:
            last: int | None = on
        else:
            last = max((t for t in ticks if t <= tick_after), default=None)
        lo = -(1 << 40) if last is None else layout.array_start(last, ts)
        return sorted((x for x in starts if lo <= x <= cur), reverse=True)
    if sqrt_after is not None and tick_after in ticks and price(tick_after) == sqrt_after:
        last = tick_after
    else:
        last = min((t for t in ticks if t > tick_after), default=None)
    hi = 1 << 40 if last is None else layout.array_start(last, ts)
    return sorted(x for x in starts if cur <= x <= hi)


# the swap the runtime is running, by world: (pool, payer, input account, output account),
# from its check (``_check``) to its event (``_swapped``); the market's own trades have none
_RUNNING: weakref.WeakKeyDictionary[Any, tuple[str, str, str, str]] = weakref.WeakKeyDictionary()


def _check(world: World, s: Swap, pool: Pool, src: D.TokenAccount, dst: D.TokenAccount) -> bool:
    """The program's checks of a ``swap_v2``, in its order; the direction."""
    acc = s.accounts
    r = pool.record
    if acc["amm_config"] != r.amm_config or acc["observation_state"] != r.observation_key:
        raise ProgramError(ANCHOR_CONSTRAINT_ADDRESS)
    programs = (acc["token_program"], acc["token_program_2022"], acc["memo_program"])
    if programs != (SPL_TOKEN, TOKEN_2022, MEMO_PROGRAM):  # Program<Token>, <Token2022>, <Memo>
        raise ProgramError(3008)  # Anchor's InvalidProgramId
    vin, vout = acc["input_vault"], acc["output_vault"]
    tin, tout = world.token_account(vin), world.token_account(vout)
    if tin is None or tout is None:  # Anchor: not a token account
        raise ProgramError(3007)  # Anchor's AccountOwnedByWrongProgram (code from memory)
    if acc["input_vault_mint"] != tin.mint or acc["output_vault_mint"] != tout.mint:
        raise ProgramError(ANCHOR_CONSTRAINT_ADDRESS)
    zfo: bool = tin.mint == r.token_mint_0
    want = (r.token_vault_0, r.token_vault_1) if zfo else (r.token_vault_1, r.token_vault_0)
    if (vin, vout) != want:
        raise ProgramError(6025)  # InvalidInputPoolVault
    if int(acc["sqrt_price_limit"]) != 0:
        raise InstructionFailed("InvalidArgument", "the simulator takes no price limit")
    if s.amount_in == 0:
        raise ProgramError(6024)  # ZeroAmountSpecified
    # who trades, for its SwapEvent (the runtime commits the swap next, or fails it)
    _RUNNING[world] = (pool.address, s.owner, s.user_source, s.user_dest)
    ext = _addr("bitmap_extension", pool.address)
    arrays = [k for k in s.tick_arrays if k != ext]
    # the arrays the swap walks: with what reaches the vault (less a fee mint's fee); one
    # past the liquidity walks every initialized array in its direction before it finds
    # none left (LiquidityInsufficient), so it needs them all named
    from engine_rs.errors import EngineError

    after: tuple[int, int | None] | None = None
    try:
        q = _quote(world, pool, zfo, s.amount_in - world.transfer_fee(tin.mint, s.amount_in))
        after = None if q is None else (q.tick, q.sqrt_price)
    except EngineError as exc:
        if "LiquidityInsufficient:" in str(exc):
            after = (layout.MIN_TICK - 1 if zfo else layout.MAX_TICK + 1, None)
    if after is not None:
        starts = _needed_arrays(world, pool, zfo, *after)
        needed = [_addr("tick_array", pool.address, x) for x in starts]
        it = iter(arrays)
        if not all(any(k == w for k in it) for w in needed):  # popped in order, as it walks
            raise ProgramError(6027)  # NotEnoughTickArrayAccount
    return zfo


_QUOTE_ERRORS = (
    ("InsufficientLiquidityForDirection", 6041),
    ("LiquidityInsufficient", 6019),
    ("TooSmallInputOrOutputAmount", 6026),
    ("MaxTokenOverflow", 6042),
    ("SqrtPriceLimitOverflow", 6013),
    ("ZeroAmountSpecified", 6024),
    ("NotApproved", 6001),
)


def _quote_error(text: str) -> int:
    """The program's code for the engine's error text (its error name first)."""
    return next((code for name, code in _QUOTE_ERRORS if name in text), 6043)


# the steps of :data:`COMPUTE_UNITS` a swap from ``tick_before`` to the pool's tick now
# took (:func:`feeds.sim.clmm.swap_steps`), and their units
swap_steps = partial(clmm.swap_steps, token_2022_steps=TOKEN_2022_STEPS)
_cost = clmm.cost(COMPUTE_UNITS, TOKEN_2022_STEPS)


# ------------------------------------------------------------------ simulator: market
def _config(
    world: World,
    index: int,
    ts: int,
    rate: int,
    protocol_fee_rate: int = 120_000,
    fund_fee_rate: int = 40_000,
) -> tuple[str, Any]:
    """An ``AmmConfig`` at its PDA (written to the world)."""
    import engine_rs

    addr, bump = engine_rs.backend().raydium_clmm.address("amm_config", index)
    cfg = D.RaydiumClmmConfig(
        bump,
        index,
        sim_key("clmm-owner", 0),
        protocol_fee_rate,
        rate,
        ts,
        fund_fee_rate,
        sim_key("clmm-owner", 1),
    )
    world.put(str(addr), layout.PROGRAM, encode_amm_config(cfg))
    return str(addr), cfg


def add_config(
    world: World,
    index: int,
    tick_spacing: int,
    trade_fee_rate: int,
    protocol_fee_rate: int,
    fund_fee_rate: int,
) -> tuple[str, Any]:
    """One more ``AmmConfig`` of the market (index, spacing, rates per 1,000,000), kept
    with the others; returns (address, config)."""
    configs = world.venue_state[layout.IDS.name]
    configs[index] = _config(
        world, index, tick_spacing, trade_fee_rate, protocol_fee_rate, fund_fee_rate
    )
    return configs[index]  # type: ignore[no-any-return]


def config_of(world: World, pool: Pool) -> Any:
    """The ``AmmConfig`` (decoded record) of ``pool``."""
    address = pool.record.amm_config
    return next(cfg for addr, cfg in world.venue_state[layout.IDS.name].values() if addr == address)


def _setup(world: World) -> dict[int, tuple[str, Any]]:
    """The configs the pools share, at their PDAs: index -> (address, config)."""
    return {index: _config(world, index, ts, rate) for index, ts, rate in SIM_CONFIGS}


def _takes(spec: synthetic.PoolSpec) -> bool:
    return spec.venue == layout.IDS.name


def _bitmap(starts: Sequence[int], tick_spacing: int) -> tuple[int, ...]:
    words = [0] * 16
    tc = layout.TICK_ARRAY_SIZE * tick_spacing
    for s in starts:
        bit = s // tc + 512
        if 0 <= bit < 1024:
            words[bit // 64] |= 1 << (bit % 64)
    return tuple(words)


def position_amounts(
    eng: Any, positions: Sequence[tuple[int, int, int]], sqrt_price: int, tick: int
) -> tuple[int, int]:
    """The tokens (0, 1) ``positions`` hold at ``sqrt_price``, each rounded up as a
    deposit is (:func:`feeds.sim.clmm.position_amounts`)."""
    return clmm.position_amounts(eng.raydium_clmm.sqrt_price_at_tick, positions, sqrt_price, tick)


def _create(world: World, i: int, spec: synthetic.PoolSpec) -> Pool:
    """The pool at its PDA (mints ordered as the program requires: the price inverted
    when the spec's are not), its vaults, its bitmap extension, observation account and
    tick arrays holding a few nested positions around the price (:func:`place`)."""
    import engine_rs

    eng = engine_rs.backend()
    r = world.rng
    if _key_bytes(spec.mint_a) > _key_bytes(spec.mint_b):
        spec.mint_a, spec.mint_b = spec.mint_b, spec.mint_a
        spec.sqrt_price_x64 = (1 << 128) // spec.sqrt_price_x64
    # the config of the nearest fee whose pool of this pair is free (one pool per config
    # and pair: the address is their PDA); a new config of that fee when every one is taken
    configs = world.venue_state[layout.IDS.name]
    order = sorted(configs, key=lambda k: (abs(configs[k][1].trade_fee_rate - spec.fee_rate), k))
    for index in order:
        config, cfg = configs[index]
        addr, _ = eng.raydium_clmm.address("pool", config, spec.mint_a, spec.mint_b)
        if str(addr) not in world.accounts:
            break
    else:
        best = configs[order[0]][1]
        index = max(configs) + 1
        configs[index] = _config(world, index, best.tick_spacing, best.trade_fee_rate)
        config, cfg = configs[index]
    ts = cfg.tick_spacing
    spec.tick_spacing, spec.fee_rate = ts, cfg.trade_fee_rate
    lo_p, hi_p = layout.MIN_SQRT_PRICE_X64, layout.MAX_SQRT_PRICE_X64 - 1
    spec.sqrt_price_x64 = min(max(spec.sqrt_price_x64, lo_p), hi_p)
    spec.tick_current = eng.raydium_clmm.tick_at_sqrt_price(spec.sqrt_price_x64)
    cur = spec.tick_current // ts
    bound = layout.MAX_TICK // ts * ts
    positions = []
    for _ in range(3):
        lo = max((cur - r.randint(8, 150)) * ts, -bound)
        hi = min((cur + r.randint(8, 150)) * ts, bound)
        positions.append((lo, hi, max(spec.liquidity // 3, 1)))
    active = sum(liq for lo, hi, liq in positions if lo <= spec.tick_current < hi)
    sqrt = spec.sqrt_price_x64 / 2**64
    vaults = (max(1, int(active / sqrt)), max(1, int(active * sqrt)))
    return place(world, i, spec, positions, config, vaults)


def place(
    world: World,
    i: int,
    spec: synthetic.PoolSpec,
    positions: Sequence[tuple[int, int, int]],
    config: str,
    vaults: tuple[int, int] | None = None,
) -> Pool:
    """Write a Raydium CLMM pool of ``spec`` (mints in byte order, price, tick, the tick
    spacing and trade fee of its config ``config``, one of the market's) holding
    ``positions`` (``(tick_lower, tick_upper, liquidity)``, ticks on the spacing): the
    pool at its PDA, its vaults (``vaults``: their amounts; None: what the positions
    hold, rounded up, and one unit more), its bitmap extension, its observation account
    and the tick arrays of its initialized ticks. ``spec`` takes the pool's address,
    initialized ticks and active liquidity."""
    eng = world.eng
    ts = spec.tick_spacing
    addr_, bump = eng.raydium_clmm.address("pool", config, spec.mint_a, spec.mint_b)
    addr = str(addr_)
    spec.pool_id = addr
    edges: dict[int, int] = {}
    gross: dict[int, int] = {}
    for lo, hi, liq in positions:
        for t, net in ((lo, liq), (hi, -liq)):
            edges[t] = edges.get(t, 0) + net
            gross[t] = gross.get(t, 0) + liq
    bound = layout.MAX_TICK // ts * ts
    if any(t % ts or not -bound <= t <= bound for t in edges):
        raise ValueError("position ticks must be multiples of the spacing within the range")
    # a tick stays initialized while a position references it (gross > 0)
    ticks = sorted((t, n) for t, n in edges.items() if gross[t])
    spec.ticks = ticks
    spec.liquidity = sum(n for t, n in ticks if t <= spec.tick_current)
    programs = (world.token_programs.get(spec.mint_a), world.token_programs.get(spec.mint_b))
    spec.state = {"token_2022": TOKEN_2022 in programs}  # and the last swap's (``_apply``)
    va = str(eng.raydium_clmm.address("vault", addr, spec.mint_a)[0])
    vb = str(eng.raydium_clmm.address("vault", addr, spec.mint_b)[0])
    observation = str(eng.raydium_clmm.address("observation", addr)[0])
    if vaults is None:
        a, b = position_amounts(eng, positions, spec.sqrt_price_x64, spec.tick_current)
        vaults = (a + 1, b + 1)
    arrays: dict[int, list[tuple[int, int, int]]] = {}
    for t, n in ticks:
        arrays.setdefault(layout.array_start(t, ts), []).append((t, n, gross[t]))
    rec = D.RaydiumClmmPool(
        bump,
        config,
        sim_key("clmm-creator", i),
        spec.mint_a,
        spec.mint_b,
        va,
        vb,
        observation,
        world.decimals[spec.mint_a],
        world.decimals[spec.mint_b],
        ts,
        spec.liquidity,
        spec.sqrt_price_x64,
        spec.tick_current,
        0,
        0,
        0,
        0,
        0,
        0,
        _bitmap(list(arrays), ts),
        0,
        0,
        0,
        world.epoch(),
        False,
    )
    world.put(addr, layout.PROGRAM, encode_pool(rec))
    # the program's vaults carry ImmutableOwner (``create_token_vault_account``)
    world.vault(va, spec.mint_a, addr, vaults[0], immutable_owner=True)
    world.vault(vb, spec.mint_b, addr, vaults[1], immutable_owner=True)
    extension = encode_bitmap_extension(addr, list(arrays), ts)
    world.put(_addr("bitmap_extension", addr), layout.PROGRAM, extension)
    world.put(observation, layout.PROGRAM, encode_observation(addr, world.epoch()))
    names = []
    for start in sorted(arrays):
        ta = _addr("tick_array", addr, start)
        world.put(ta, layout.PROGRAM, encode_tick_array(start, addr, arrays[start], ts))
        names.append(ta)
    return Pool(
        layout.IDS.kind, addr, spec.mint_a, spec.mint_b, va, vb, rec, spec, tick_arrays=names
    )


def _quote(world: World, pool: Pool, a_to_b: bool, amount: int) -> SwapQuote | None:
    """The program's exact-input swap on the pool's state (the engine's kernel, with its
    config's fee bookkeeping: what the program writes; a partial fill at the price limit
    takes less input, as the program does); None where either side is nothing."""
    s = pool.spec
    cfg = config_of(world, pool)
    fees = (pool.record.fee_on, cfg.protocol_fee_rate, cfg.fund_fee_rate)
    res, *ledger = world.eng.raydium_clmm.swap_ledger(
        *clmm.state_args(s), *fees, s.ticks, amount, a_to_b
    )
    if res.amount_in == 0 or res.amount_out == 0:
        # ``exact_internal_v2``: ``require!(amount_0 != 0 && amount_1 != 0,
        # TooSmallInputOrOutputAmount)`` right after the swap's math, before the
        # threshold's check (the runtime answers ``no_output_error``, 6026)
        return None
    return clmm.quote_of(res, (res.fee_amount, tuple(ledger)))


def _apply(world: World, pool: Pool, a_to_b: bool, q: SwapQuote, kept: int) -> None:
    s = pool.spec
    s.sqrt_price_x64, s.tick_current, s.liquidity = q.sqrt_price, q.tick, q.liquidity
    if not isinstance(s.state, dict):
        s.state = {}
    s.state["swap"] = q.after


def fee_on_token_0(fee_on: int, zero_for_one: bool) -> bool:
    """``PoolState::is_fee_on_token0``: the fee is on token 0 (``fee_on`` 1), token 1
    (2), or the input (0)."""
    return fee_on == 1 or (fee_on == 0 and zero_for_one)


def _cross(world: World, pool: Pool, tick: int, growth_0: int, growth_1: int) -> None:
    """``TickState::cross`` on the tick's bytes in its tick array: each fee growth
    outside becomes the global one less itself (wrapping). Its reward growths would
    too, for an initialized reward: the market's pools have none. Then
    ``TickArrayState::update_tick_state`` stamps the array's ``recent_epoch`` (found by the
    2026-04 mainnet build: the simulator left the creation epoch there)."""
    ts = pool.spec.tick_spacing
    start = layout.array_start(tick, ts)
    address = _addr("tick_array", pool.address, start)
    acc = world.accounts[address]
    buf = bytearray(acc.data)
    off = 44 + layout.TICK_LEN * ((tick - start) // ts) + layout.TICK_FEE_GROWTH_OUTSIDE_0
    for at, glob in ((off, growth_0), (off + 16, growth_1)):
        v = (glob - int.from_bytes(buf[at : at + 16], "little")) % (1 << 128)
        buf[at : at + 16] = v.to_bytes(16, "little")
    buf[TICK_ARRAY_EPOCH : TICK_ARRAY_EPOCH + 8] = world.epoch().to_bytes(8, "little")
    acc.data = bytes(buf)
    world._touched.append(address)


def _swapped(world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> str:
    """What the program writes after a trade (``swap_internal``), and its ``SwapEvent``:
    the crossed ticks' fee growths outside, the observation (when the tick moved: the
    tick before), then the pool's price, tick, liquidity, the fee token's fee growth,
    protocol and fund fees, and its epoch (``update_reward_infos``)."""
    s = pool.spec
    pre = pool.record
    state = s.state if isinstance(s.state, dict) else {}
    fee, (lp_fee, protocol_fee, fund_fee, growth, crossings) = state.pop("swap")
    on_0 = fee_on_token_0(pre.fee_on, a_to_b)
    g0, g1 = pre.fee_growth_global_0_x64, pre.fee_growth_global_1_x64
    for t, grown in crossings:
        if on_0:
            _cross(world, pool, t, (g0 + grown) % (1 << 128), g1)
        else:
            _cross(world, pool, t, g0, (g1 + grown) % (1 << 128))
    if s.tick_current != pre.tick_current:
        obs = world.accounts[pre.observation_key]
        obs.data = observe(obs.data, world.unix_time() % (1 << 32), pre.tick_current)
        world._touched.append(pre.observation_key)
    fees: dict[str, int] = {}
    side = "0" if on_0 else "1"
    if lp_fee:
        fees[f"fee_growth_global_{side}_x64"] = ((g0 if on_0 else g1) + growth) % (1 << 128)
    if protocol_fee:
        fees[f"protocol_fees_token_{side}"] = (
            getattr(pre, f"protocol_fees_token_{side}") + protocol_fee
        )
    if fund_fee:
        fees[f"fund_fees_token_{side}"] = getattr(pre, f"fund_fees_token_{side}") + fund_fee
    pool.record = replace(
        pre,
        sqrt_price_x64=s.sqrt_price_x64,
        tick_current=s.tick_current,
        liquidity=s.liquidity,
        recent_epoch=world.epoch(),
        **fees,
    )
    world.accounts[pool.address].data = encode_pool(pool.record, world.accounts[pool.address].data)
    # the event: amounts without the transfer fees, the fees, the trade fee on its token
    fee_in, fee_out = world.last_fees
    running = _RUNNING.pop(world, None)
    if running is not None and running[0] == pool.address:
        sender, source, dest = running[1:]
    else:  # one of the market's own trades
        sender, source, dest = (sim_key("clmm-trader", k) for k in range(3))
    acc_0, acc_1 = (source, dest) if a_to_b else (dest, source)
    if a_to_b:
        amounts = (paid_in, fee_in, out - fee_out, fee_out)
    else:
        amounts = (out - fee_out, fee_out, paid_in, fee_in)
    ev = D.RaydiumClmmSwapEvent(
        pool.address,
        sender,
        acc_0,
        acc_1,
        *amounts,
        a_to_b,
        s.sqrt_price_x64,
        s.liquidity,
        s.tick_current,
        fee if on_0 else 0,
        0 if on_0 else fee,
    )
    return "Program data: " + encode_swap_event(ev)


def _load(world: World, pool: Pool) -> None:
    """``Program.load``: the pool read back from its accounts: ``PoolState`` (price,
    tick, liquidity, spacing), its ``AmmConfig``'s trade fee, the initialized ticks
    (liquidity gross above 0) of its tick arrays (the Python program keeps no fees
    apart: ``fees_a``/``fees_b`` are left as they are)."""
    acc = world.accounts[pool.address]
    r = layout.decode_pool(world.eng, acc.data, acc.owner)
    pool.record = r
    s = pool.spec
    s.sqrt_price_x64, s.tick_current = int(r.sqrt_price_x64), int(r.tick_current)
    s.liquidity, s.tick_spacing = int(r.liquidity), int(r.tick_spacing)
    cfg = world.accounts[r.amm_config]
    s.fee_rate = int(world.eng.raydium_clmm.decode_config(cfg.data, cfg.owner).trade_fee_rate)
    ticks: list[tuple[int, int]] = []
    for ta in pool.tick_arrays:
        data = world.accounts[ta].data if ta in world.accounts else b""
        if len(data) != layout.TICK_ARRAY_LEN:
            continue
        for i in range(layout.TICK_ARRAY_SIZE):
            off = 44 + layout.TICK_LEN * i
            if int.from_bytes(data[off + 20 : off + 36], "little"):
                tick = int.from_bytes(data[off : off + 4], "little", signed=True)
                ticks.append(
                    (tick, int.from_bytes(data[off + 4 : off + 20], "little", signed=True))
                )
    s.ticks = sorted(ticks)


NO_OUTPUT = 6026  # TooSmallInputOrOutputAmount
RUNS = sv.Program(_check, _quote_error, NO_OUTPUT, _cost, "SwapV2", _load)
MARKET = sv.Market(_setup, _takes, _create, _swapped, share=0.5, from_kind="clmm")
RENT = {
    layout.POOL_LEN: 11_637_120,
    layout.TICK_ARRAY_LEN: 72_161_280,
    layout.CONFIG_LEN: 1_705_200,
    layout.EXTENSION_LEN: 13_641_600,
    layout.OBSERVATION_LEN: 32_092_560,
}
CURVE = sv.Curve(_quote, _apply, clmm.price, clmm.depth)
SIM = sv.SimVenue(VENUE, RUNS, MARKET, RENT, CURVE, sv.Logs(token_instruction=sv.TRANSFER_CHECKED))

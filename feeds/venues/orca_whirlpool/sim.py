"""Orca Whirlpool's simulated program (the simulator's part of
:mod:`feeds.venues.orca_whirlpool`; only the simulator and tests import it): the
``Whirlpool`` and ``Traded`` encoders, ``swap`` / ``swap_v2``'s checks, the market's
pools and their positions, and what a swap writes (:data:`SIM`): the price, tick and
liquidity, the input side's fee growth and protocol fee owed, the rewards' growths and
their update time, and each crossed tick's fee and reward growths outside."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from engine_rs import decoded as D

from ...sim import clmm
from ...sim import venue as sv
from ...sim.clmm import crossed_ticks as crossed_ticks
from ...sim.state import Pool, sim_key
from ...sim.venue import (
    ANCHOR_CONSTRAINT_ADDRESS,
    ANCHOR_CONSTRAINT_SEEDS,
    InstructionFailed,
    ProgramError,
)
from ...wire.instructions import MEMO_PROGRAM, SPL_TOKEN, TOKEN_2022, Swap
from ...wire.writer import Writer
from . import (
    COMPUTE_UNITS,
    TOKEN_2022_STEPS,
    VENUE,
    layout,
    oracle,
    swap_tick_arrays,
)

if TYPE_CHECKING:
    from ...sim import synthetic
    from ...sim.world import SwapQuote, World


# Anchor's account errors: an account owned by another program than its type's, a
# program account that is not the program its type names
ANCHOR_ACCOUNT_OWNED_BY_WRONG_PROGRAM = 3007
ANCHOR_INVALID_PROGRAM_ID = 3008


# ------------------------------------------------------------------ simulator: layouts
def encode_pool(r: Any, base: bytes | None = None) -> bytes:
    """Orca ``Whirlpool`` (653 bytes, spec §2.2)."""
    w = Writer(layout.POOL_LEN, base, layout.DISC_WHIRLPOOL)
    w.key(8, r.whirlpools_config)
    w.u8(40, r.whirlpool_bump)
    w.fields(w.u16, r, "41 tick_spacing 43 fee_tier_index_seed 45 fee_rate 47 protocol_fee_rate")
    w.u128(49, r.liquidity)
    w.u128(65, r.sqrt_price)
    w.i32(81, r.tick_current_index)
    w.u64(85, r.protocol_fee_owed_a)
    w.u64(93, r.protocol_fee_owed_b)
    w.key(101, r.token_mint_a)
    w.key(133, r.token_vault_a)
    w.u128(165, r.fee_growth_global_a)
    w.key(181, r.token_mint_b)
    w.key(213, r.token_vault_b)
    w.u128(245, r.fee_growth_global_b)
    w.u64(261, r.reward_last_updated_timestamp)
    for off, k in zip((269, 397, 525), r.reward_mints):
        w.key(off, k)
    return w.done()


def encode_traded(r: Any) -> str:
    """The base64 of a Whirlpool ``Traded`` Anchor event (spec §6.2, 121 bytes)."""
    w = Writer(121, None, layout.DISC_TRADED)
    w.key(8, r.whirlpool)
    w.u8(40, int(r.a_to_b))
    w.u128(41, r.pre_sqrt_price)
    w.u128(57, r.post_sqrt_price)
    for i, v in enumerate(
        (
            r.input_amount,
            r.output_amount,
            r.input_transfer_fee,
            r.output_transfer_fee,
            r.lp_fee,
            r.protocol_fee,
        )
    ):
        w.u64(73 + 8 * i, v)
    return base64.b64encode(w.done()).decode()


# ------------------------------------------------------------------ simulator: program
def _check(world: World, s: Swap, pool: Pool, src: D.TokenAccount, dst: D.TokenAccount) -> bool:
    """The program's checks of a swap, in its order; the direction it states."""
    acc = s.accounts
    a_to_b = bool(s.a_to_b)
    owners = {
        k: world.accounts[acc[k]].owner
        for k in (
            "token_owner_account_a",
            "token_vault_a",
            "token_owner_account_b",
            "token_vault_b",
        )
        if acc[k] in world.accounts
    }
    if s.name == "SwapV2":  # Anchor's constraints in the accounts' order
        mint_owner = {m: world.token_programs.get(m) for m in (pool.mint_a, pool.mint_b)}
        if acc["token_mint_a"] != pool.mint_a or acc["token_mint_b"] != pool.mint_b:
            raise ProgramError(ANCHOR_CONSTRAINT_ADDRESS)
        if (acc["token_program_a"], acc["token_program_b"]) != (
            mint_owner[pool.mint_a],
            mint_owner[pool.mint_b],
        ):
            raise ProgramError(ANCHOR_CONSTRAINT_ADDRESS)
        if acc["memo_program"] != MEMO_PROGRAM:
            raise ProgramError(ANCHOR_INVALID_PROGRAM_ID)
    else:  # swap: Program<Token> and Account<TokenAccount>, SPL Token's only
        if acc["token_program"] != SPL_TOKEN:
            raise ProgramError(ANCHOR_INVALID_PROGRAM_ID)
        if any(o != SPL_TOKEN for o in owners.values()):
            raise ProgramError(ANCHOR_ACCOUNT_OWNED_BY_WRONG_PROGRAM)
    if acc["token_vault_a"] != pool.vault_a or acc["token_vault_b"] != pool.vault_b:
        raise ProgramError(ANCHOR_CONSTRAINT_ADDRESS)
    mine = (src.mint, dst.mint) if a_to_b else (dst.mint, src.mint)
    if mine != (pool.mint_a, pool.mint_b):
        raise ProgramError(ANCHOR_CONSTRAINT_ADDRESS)
    if acc["oracle"] != oracle(pool.address):
        raise ProgramError(ANCHOR_CONSTRAINT_SEEDS)
    sp = pool.spec
    if list(s.tick_arrays) != swap_tick_arrays(
        pool.address, sp.tick_spacing, sp.tick_current, a_to_b
    ):
        raise ProgramError(6023)  # InvalidTickArraySequence
    if int(acc["sqrt_price_limit"]) not in (layout.MIN_SQRT_PRICE_X64, layout.MAX_SQRT_PRICE_X64):
        raise InstructionFailed("InvalidArgument", "the simulator takes no price limit")
    if s.amount_in == 0:
        raise ProgramError(6035)  # ZeroTradableAmount
    return a_to_b


# the program's error codes of what its swap refuses (errors.rs), by the name the engine's
# error text starts with: the specific names before those they contain
_QUOTE_ERRORS = (
    ("TickArraySequenceInvalidIndex", 6038),
    ("InvalidTickArraySequence", 6023),
    ("ZeroTradableAmount", 6035),
    ("InvalidSqrtPriceLimitDirection", 6034),
    ("SqrtPriceOutOfBounds", 6011),
    ("AmountCalcOverflow", 6039),
    ("AmountRemainingOverflow", 6040),
    ("LiquidityOverflow", 6014),
    ("LiquidityUnderflow", 6015),
    ("NumberDownCastError", 6008),
    ("MultiplicationShiftRightOverflow", 6030),
    ("MultiplicationOverflow", 6033),
    ("MulDivOverflow", 6031),
    ("TokenMaxExceeded", 6017),
    ("TokenMinSubceeded", 6018),
    ("DivideByZero", 6006),
    ("PartialFillError", 6057),
)


def _quote_error(text: str) -> int:
    """The program's code when the curve refuses the trade (the engine's error text
    names the program's error first)."""
    return next((code for name, code in _QUOTE_ERRORS if name in text), 6023)


# the steps of :data:`COMPUTE_UNITS` a swap from ``tick_before`` to the pool's tick now
# took (:func:`feeds.sim.clmm.swap_steps`), and their units
swap_steps = partial(clmm.swap_steps, token_2022_steps=TOKEN_2022_STEPS)
_cost = clmm.cost(COMPUTE_UNITS, TOKEN_2022_STEPS)


# ------------------------------------------------------------------ simulator: market
def _takes(spec: synthetic.PoolSpec) -> bool:
    """Every synthetic concentrated-liquidity pool becomes one."""
    return spec.kind == layout.IDS.graph_kind and not spec.venue


def position_amounts(
    eng: Any, positions: Sequence[tuple[int, int, int]], sqrt_price: int, tick: int
) -> tuple[int, int]:
    """The tokens (a, b) ``positions`` hold at ``sqrt_price``, each rounded up as a
    deposit is (:func:`feeds.sim.clmm.position_amounts`)."""
    return clmm.position_amounts(eng.orca_whirlpool.sqrt_price_at_tick, positions, sqrt_price, tick)


def _create(world: World, i: int, spec: synthetic.PoolSpec) -> Pool:
    """The pool account at its PDA, its vaults, and fixed tick arrays holding a few
    nested positions around the price (:func:`place`)."""
    r = world.rng
    ts = spec.tick_spacing
    # liquidity in a few nested positions around the price, all within +-2 arrays
    # (the arrays a client fetches for a quote, spec §2.3)
    cur = spec.tick_current // ts
    positions = []
    for _ in range(3):
        lo = (cur - r.randint(8, 150)) * ts
        hi = (cur + r.randint(8, 150)) * ts
        positions.append((lo, hi, spec.liquidity // 3))
    sqrt = spec.sqrt_price_x64
    # the vaults: about the pool's virtual reserves at its price (more than its
    # positions hold: a swap never runs a vault dry before the liquidity)
    active = sum(liq for lo, hi, liq in positions if lo <= spec.tick_current < hi)
    amounts = (max(1, int(active / (sqrt / 2**64))), max(1, int(active * (sqrt / 2**64))))
    return place(world, i, spec, positions, vaults=amounts)


def place(
    world: World,
    i: int,
    spec: synthetic.PoolSpec,
    positions: Sequence[tuple[int, int, int]],
    protocol_fee_rate: int = 300,
    vaults: tuple[int, int] | None = None,
) -> Pool:
    """Write a Whirlpool of ``spec`` (mints, price, tick, spacing, fee rate) holding
    ``positions`` (``(tick_lower, tick_upper, liquidity)``, ticks on the spacing): the
    pool account at its PDA (``protocol_fee_rate`` in 1e-4 of the fee), its vaults
    (``vaults``: their amounts; None: what the positions hold, rounded up, as the
    program's deposits leave them) and the fixed tick arrays of its initialized ticks
    and of the current tick (others stay absent, as on mainnet). ``spec`` takes the
    pool's address, initialized ticks and active liquidity."""
    wp = world.eng.orca_whirlpool
    ts = spec.tick_spacing
    # the address is the PDA of (config, mints, fee tier index): a second pool of the
    # same pair and spacing takes another index, as adaptive-fee tiers do (spec §2.4):
    # the spacing plus a multiple of 1024, then any free index (a u16)
    tiers = [*range(ts, 1 << 16, 1024), *range(1 << 16)]
    for fee_tier in tiers:
        addr, bump = wp.pool_address(layout.WHIRLPOOLS_CONFIG, spec.mint_a, spec.mint_b, fee_tier)
        if addr not in world.accounts:
            break
    spec.pool_id = addr
    width = layout.TICK_ARRAY_SIZE * ts
    edges: dict[int, int] = {}
    gross: dict[int, int] = {}
    for lo, hi, liq in positions:
        for t, net in ((lo, liq), (hi, -liq)):
            edges[t] = edges.get(t, 0) + net
            gross[t] = gross.get(t, 0) + liq
    hi_bound = layout.MAX_TICK_INDEX // ts * ts  # the range is symmetric: -hi_bound is the lowest
    if any(t % ts or not -hi_bound <= t <= hi_bound for t in edges):
        raise ValueError("position ticks must be multiples of the spacing within the range")
    # a tick stays initialized while a position references it (gross > 0), even when
    # the positions on it cancel out (net 0): the program's swap crosses it all the same
    ticks = sorted((t, n) for t, n in edges.items() if gross[t])
    spec.ticks = ticks
    spec.liquidity = sum(n for t, n in ticks if t <= spec.tick_current)
    t22 = TOKEN_2022 in (
        world.token_programs.get(spec.mint_a),
        world.token_programs.get(spec.mint_b),
    )
    spec.state = {"token_2022": t22}  # and the last swap's result (``_apply``)
    va, vb = sim_key("vault", i, 0), sim_key("vault", i, 1)
    sqrt = spec.sqrt_price_x64
    if vaults is None:
        vaults = position_amounts(world.eng, positions, sqrt, spec.tick_current)
    rec = D.Whirlpool(
        layout.WHIRLPOOLS_CONFIG,
        bump,
        ts,
        fee_tier,
        spec.fee_rate,
        protocol_fee_rate,
        spec.liquidity,
        sqrt,
        spec.tick_current,
        0,
        0,
        spec.mint_a,
        va,
        0,
        spec.mint_b,
        vb,
        0,
        1_700_000_000,
        (sim_key("reward", i, 0), sim_key("reward", i, 1), sim_key("reward", i, 2)),
    )
    world.put(addr, layout.PROGRAM, encode_pool(rec))
    # the program's vaults carry ImmutableOwner (``initialize_vault_token_account``)
    world.vault(va, spec.mint_a, addr, vaults[0], immutable_owner=True)
    world.vault(vb, spec.mint_b, addr, vaults[1], immutable_owner=True)
    arrays: dict[int, list[tuple[int, int, int]]] = {}
    for t, n in ticks:
        start = t // width * width
        arrays.setdefault(start, []).append(((t - start) // ts, n, gross[t]))
    names = []
    # as on mainnet, only the arrays someone initialized exist: those holding ticks and
    # the current one; the others within a client's reach are absent (an uninitialized
    # array: the program's swap reads it as all ticks uninitialized, and so must a client)
    current = wp.tick_array_starts(ts, spec.tick_current, 0)
    for start in sorted(set(arrays) | set(current)):
        ta, _ = wp.tick_array_address(addr, start)
        world.put(
            ta, layout.PROGRAM, layout.encode_fixed_tick_array(start, addr, arrays.get(start, []))
        )
        names.append(ta)
    return Pool(
        layout.IDS.kind, addr, spec.mint_a, spec.mint_b, va, vb, rec, spec, tick_arrays=names
    )


def _quote(world: World, pool: Pool, a_to_b: bool, amount: int) -> SwapQuote | None:
    """The program's exact-input swap on the pool's state (the engine's kernel, with the
    pool's protocol fee rate: the split the program writes). A swap giving nothing is
    still one the program runs (an input the fee takes whole: it keeps the fee and the
    time, pays 0), so it is quoted, not refused."""
    s = pool.spec
    rate = pool.record.protocol_fee_rate
    res = world.eng.orca_whirlpool.swap(
        *clmm.state_args(s), s.ticks, amount, a_to_b, protocol_fee_rate=rate
    )
    return clmm.quote_of(res, (amount, res))


def _apply(world: World, pool: Pool, a_to_b: bool, q: SwapQuote, kept: int) -> None:
    """The spec takes the price, tick and liquidity after the swap; the swap's result is
    kept for what the program writes (``_swapped``)."""
    s = pool.spec
    s.sqrt_price_x64, s.tick_current, s.liquidity = q.sqrt_price, q.tick, q.liquidity
    if not isinstance(s.state, dict):
        s.state = {}
    s.state["swap"] = q.after


# ------------------------------------------------------------------ simulator: writes
REWARD_INFOS = 269  # WhirlpoolRewardInfo[3] in the pool account, 128 bytes each
REWARD_INFO_LEN = 128  # mint, vault, authority, emissions_per_second_x64, growth_global_x64
TICK_FEE_GROWTH_OUTSIDE_A = 33  # Tick: initialized u8, liquidity_net, liquidity_gross, ...
TICK_REWARD_GROWTHS_OUTSIDE = 65  # fee_growth_outside_a/b u128, then reward growths [u128; 3]
_U64 = (1 << 64) - 1
_U128 = (1 << 128) - 1


def _u128(data: bytes | bytearray, off: int) -> int:
    return int.from_bytes(data[off : off + 16], "little")


def next_reward_growths(data: bytes, liquidity: int, last: int, now: int) -> list[int | None]:
    """Each reward's ``growth_global_x64`` after ``next_whirlpool_reward_infos`` at unix
    time ``now`` (None: the reward is not initialized, its mint the default key):
    unchanged without liquidity or time passed, else ``+ time * emissions / liquidity``
    (0 when the product overflows u128, as ``checked_mul_div`` leaves it). Source:
    orca-so/whirlpools ``manager/whirlpool_manager.rs``."""
    out: list[int | None] = []
    for i in range(3):
        off = REWARD_INFOS + REWARD_INFO_LEN * i
        if not any(data[off : off + 32]):
            out.append(None)
            continue
        growth = _u128(data, off + 112)
        if liquidity and now != last:
            product = (now - last) * _u128(data, off + 96)
            growth = (growth + (product // liquidity if product <= _U128 else 0)) & _U128
        out.append(growth)
    return out


def _growth_at(world: World, pool: Pool, a_to_b: bool, amount: int, tick: int) -> int:
    """The fee growth (this swap's part, wrapping) at the moment it crosses ``tick``: the
    same swap stopped at that tick's price runs the same steps up to it, the crossing one
    included (the program's ``calculate_update`` uses the growth after that step)."""
    r = pool.record
    limit = world.eng.orca_whirlpool.sqrt_price_at_tick(tick)
    if limit == r.sqrt_price:  # crossed where the price stands: a step of nothing
        return 0
    s = pool.spec
    res = world.eng.orca_whirlpool.swap(
        r.sqrt_price,
        r.liquidity,
        r.tick_current_index,
        s.tick_spacing,
        s.fee_rate,
        s.ticks,
        amount,
        a_to_b,
        sqrt_price_limit=limit,
        protocol_fee_rate=r.protocol_fee_rate,
    )
    growth: int = res.fee_growth_x64
    return growth


def _cross(
    world: World,
    pool: Pool,
    tick: int,
    growth_a: int,
    growth_b: int,
    rewards: Sequence[int | None],
) -> None:
    """``next_tick_cross_update`` on the tick's bytes in its fixed tick array: each
    ``*_outside`` becomes the global value less itself (wrapping); a reward's only when
    the reward is initialized."""
    ts = pool.spec.tick_spacing
    width = layout.TICK_ARRAY_SIZE * ts
    start = tick // width * width
    address = str(world.eng.orca_whirlpool.tick_array_address(pool.address, start)[0])
    acc = world.accounts[address]
    buf = bytearray(acc.data)
    off = 12 + layout.TICK_LEN * ((tick - start) // ts)
    pairs: list[tuple[int, int | None]] = [
        (off + TICK_FEE_GROWTH_OUTSIDE_A, growth_a),
        (off + TICK_FEE_GROWTH_OUTSIDE_A + 16, growth_b),
    ]
    pairs += [(off + TICK_REWARD_GROWTHS_OUTSIDE + 16 * i, g) for i, g in enumerate(rewards)]
    for at, glob in pairs:
        if glob is not None:
            v = (glob - _u128(buf, at)) & _U128
            buf[at : at + 16] = v.to_bytes(16, "little")
    acc.data = bytes(buf)
    world._touched.append(address)


def _swapped(world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> str:
    """What the program writes after a trade, and its ``Traded`` event: the crossed
    ticks' growths outside, then the pool's price, tick, liquidity, the input side's fee
    growth and protocol fee owed, its rewards' growths and the time they were updated
    (``Whirlpool::update_after_swap``)."""
    s = pool.spec
    pre = pool.record
    state = s.state if isinstance(s.state, dict) else {}
    amount, res = state.pop("swap")
    acc = world.accounts[pool.address]
    now = world.unix_time()
    rewards = next_reward_growths(acc.data, pre.liquidity, pre.reward_last_updated_timestamp, now)
    for t in crossed_ticks(s.ticks, pre.tick_current_index, s.tick_current, a_to_b):
        grown = _growth_at(world, pool, a_to_b, amount, t)
        if a_to_b:
            ga, gb = (pre.fee_growth_global_a + grown) & _U128, pre.fee_growth_global_b
        else:
            ga, gb = pre.fee_growth_global_a, (pre.fee_growth_global_b + grown) & _U128
        _cross(world, pool, t, ga, gb, rewards)
    fee_in, fee_out = world.last_fees  # swap_v2's amounts include the transfer fees
    if a_to_b:
        fees = {
            "fee_growth_global_a": (pre.fee_growth_global_a + res.fee_growth_x64) & _U128,
            "protocol_fee_owed_a": (pre.protocol_fee_owed_a + res.protocol_fee) & _U64,
        }
    else:
        fees = {
            "fee_growth_global_b": (pre.fee_growth_global_b + res.fee_growth_x64) & _U128,
            "protocol_fee_owed_b": (pre.protocol_fee_owed_b + res.protocol_fee) & _U64,
        }
    pool.record = replace(
        pre,
        sqrt_price=s.sqrt_price_x64,
        tick_current_index=s.tick_current,
        liquidity=s.liquidity,
        reward_last_updated_timestamp=now,
        **fees,
    )
    data = bytearray(encode_pool(pool.record, acc.data))
    for i, g in enumerate(rewards):
        if g is not None:
            off = REWARD_INFOS + REWARD_INFO_LEN * i + 112
            data[off : off + 16] = g.to_bytes(16, "little")
    acc.data = bytes(data)
    ev = D.Traded(
        pool.address,
        a_to_b,
        pre.sqrt_price,
        s.sqrt_price_x64,
        paid_in + fee_in,
        out,
        fee_in,
        fee_out,
        res.fee_amount - res.protocol_fee,
        res.protocol_fee,
    )
    return "Program data: " + encode_traded(ev)


def _load(world: World, pool: Pool) -> None:
    """``Program.load``: the pool read back from its accounts: the ``Whirlpool`` (price,
    tick, liquidity, spacing, fee) and the initialized ticks of its tick arrays (the
    Python program keeps no fees apart: ``fees_a``/``fees_b`` are left as they are)."""
    from dataclasses import fields

    acc = world.accounts[pool.address]
    r = layout.decode_pool(world.eng, acc.data, acc.owner)
    # the world's record is the dataclass (the extension's Whirlpool is its own type,
    # which ``replace`` does not take)
    r = D.Whirlpool(*(getattr(r, f.name) for f in fields(D.Whirlpool)))
    pool.record = r
    s = pool.spec
    s.sqrt_price_x64, s.tick_current = int(r.sqrt_price), int(r.tick_current_index)
    s.liquidity, s.tick_spacing, s.fee_rate = int(r.liquidity), int(r.tick_spacing), int(r.fee_rate)
    ticks: list[tuple[int, int]] = []
    for ta in pool.tick_arrays:
        data = world.accounts[ta].data if ta in world.accounts else b""
        if len(data) != layout.FIXED_TICK_ARRAY_LEN:
            continue
        start = int.from_bytes(data[8:12], "little", signed=True)
        for i in range(layout.TICK_ARRAY_SIZE):
            off = 12 + layout.TICK_LEN * i
            if data[off]:
                net = int.from_bytes(data[off + 1 : off + 17], "little", signed=True)
                ticks.append((start + i * s.tick_spacing, net))
    s.ticks = sorted(ticks)


NO_OUTPUT = 6035  # ZeroTradableAmount
RUNS = sv.Program(_check, _quote_error, NO_OUTPUT, _cost, "Swap", _load)
MARKET = sv.Market(lambda world: None, _takes, _create, _swapped)
RENT = {layout.POOL_LEN: 5_435_760, layout.FIXED_TICK_ARRAY_LEN: 70_407_360}
CURVE = sv.Curve(_quote, _apply, clmm.price, clmm.depth)
SIM = sv.SimVenue(
    VENUE, RUNS, MARKET, RENT, CURVE, sv.Logs(log_after_transfers=True, v2_name="SwapV2")
)

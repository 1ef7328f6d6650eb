"""Raydium CP-Swap's simulated program (the simulator's part of
:mod:`feeds.venues.raydium_cpmm`; only the simulator and tests import it): the
``PoolState``, ``AmmConfig`` and ``ObservationState`` encoders, ``swap_base_input``'s
checks, the market's configs and pools, a swap with its trade and creator fees
(``CurveCalculator::swap_base_input`` since b0b2a08, 2025-08), what it writes and its
``SwapEvent`` (:data:`SIM`), held to the program's 2026-04 binary
(``tests/judge/test_raydium_cpmm.py``)."""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from engine_rs import decoded as D
from engine_rs.errors import EngineError

from ...sim import venue as sv
from ...sim.state import Pool, sim_key
from ...sim.token import TRANSFER_HOOK_INCORRECT_ACCOUNT
from ...sim.venue import ANCHOR_CONSTRAINT_ADDRESS, ProgramError
from ...wire.instructions import SPL_TOKEN, TOKEN_2022, Swap
from ...wire.writer import Writer
from . import (
    ANCHOR_REQUIRE_GT,
    AUTHORITY,
    COMPUTE_UNITS,
    CONFIG_LEN,
    DISC_CONFIG,
    DISC_OBSERVATION,
    DISC_POOL,
    IDS,
    OBSERVATION_LEN,
    OBSERVATION_NUM,
    OBSERVATION_UPDATE_DURATION,
    POOL_LEN,
    PROGRAM,
    VENUE,
    decode_pool,
    reserves,
)

if TYPE_CHECKING:
    from ...sim import synthetic
    from ...sim.world import SwapQuote, World


Q32 = 1 << 32


SIM_FEE_RATES = (2_500, 3_000)  # the simulated market's configs (1e-6 units: 25, 30 bps)


# ------------------------------------------------------------------ simulator: layouts
def encode_pool(r: Any, base: bytes | None = None) -> bytes:
    """Raydium CP-Swap ``PoolState`` (637 bytes, spec §1.4)."""
    w = Writer(POOL_LEN, base, DISC_POOL)
    keys = (
        r.amm_config,
        r.pool_creator,
        r.token_0_vault,
        r.token_1_vault,
        r.lp_mint,
        r.token_0_mint,
        r.token_1_mint,
        r.token_0_program,
        r.token_1_program,
        r.observation_key,
    )
    w.keys(8, keys)
    w.fields(
        w.u8,
        r,
        "328 auth_bump 329 status 330 lp_mint_decimals 331 mint_0_decimals 332 mint_1_decimals "
        "389 creator_fee_on",
    )
    w.fields(
        w.u64,
        r,
        "333 lp_supply 341 protocol_fees_token_0 349 protocol_fees_token_1 357 fund_fees_token_0 "
        "365 fund_fees_token_1 373 open_time 381 recent_epoch 397 creator_fees_token_0 "
        "405 creator_fees_token_1",
    )
    w.u8(390, int(r.enable_creator_fee))
    return w.done()


def encode_amm_config(r: Any, base: bytes | None = None) -> bytes:
    """Raydium CP-Swap ``AmmConfig`` (236 bytes, spec §1.4)."""
    w = Writer(CONFIG_LEN, base, DISC_CONFIG)
    w.u8(8, r.bump)
    w.u8(9, int(r.disable_create_pool))
    w.u16(10, r.index)
    w.fields(
        w.u64,
        r,
        "12 trade_fee_rate 20 protocol_fee_rate 28 fund_fee_rate 36 create_pool_fee "
        "108 creator_fee_rate",
    )
    w.key(44, r.protocol_owner)
    w.key(76, r.fund_owner)
    return w.done()


def encode_observation(pool: str) -> bytes:
    """A pool's ``ObservationState`` as ``initialize`` leaves it (raydium-cp-swap
    ``states/oracle.rs``, ``#[repr(C, packed)]``): not initialized (the first swap
    initializes it), index 0, the pool's id, every observation zero."""
    w = Writer(OBSERVATION_LEN, None, DISC_OBSERVATION)
    w.key(11, pool)
    return w.done()


def update_observation(data: bytes, now: int, price_0: int, price_1: int) -> bytes:
    """``ObservationState::update`` (raydium-cp-swap ``states/oracle.rs``, today's): a
    swap at unix time ``now`` records the prices before it (``token_price_x32``: token 1
    per token 0 and back, Q32.32). The first swap only initializes (the observation at
    the index takes ``now``, cumulative prices 0). After it, nothing when no second has
    passed since the last update or the last observation; the time since the last update
    times each price is added to the newest observation's cumulative prices when it is
    under 15 s old, else written as the next observation of the ring (index moves on);
    ``last_update_timestamp`` (byte 4,043) becomes ``now``. Layout: initialized (8),
    observation_index u16 (9), pool_id (11), 100 x (block_timestamp u64, cumulative
    token 0 and 1 prices u128) from 43, last_update_timestamp (4,043), padding."""
    buf = bytearray(data)
    mod = 1 << 128
    index = int.from_bytes(buf[9:11], "little")

    def at(i: int) -> int:
        return 43 + 40 * i

    if not buf[8]:
        buf[8] = 1
        o = at(index)
        buf[o : o + 40] = now.to_bytes(8, "little") + bytes(32)
        buf[4043:4051] = now.to_bytes(8, "little")
        return bytes(buf)
    o = at(index)
    last_ts = int.from_bytes(buf[o : o + 8], "little")
    cum_0 = int.from_bytes(buf[o + 8 : o + 24], "little")
    cum_1 = int.from_bytes(buf[o + 24 : o + 40], "little")
    last_update = int.from_bytes(buf[4043:4051], "little") or last_ts  # a legacy account
    since_observation = max(0, now - last_ts)
    since_update = max(0, now - last_update)
    if since_update == 0 or since_observation == 0:
        return bytes(buf)
    cum_0 = (cum_0 + price_0 * since_update) % mod
    cum_1 = (cum_1 + price_1 * since_update) % mod
    if since_observation < OBSERVATION_UPDATE_DURATION:
        buf[o + 8 : o + 40] = cum_0.to_bytes(16, "little") + cum_1.to_bytes(16, "little")
    else:
        nxt = 0 if index == OBSERVATION_NUM - 1 else index + 1
        n = at(nxt)
        buf[n : n + 40] = (
            now.to_bytes(8, "little") + cum_0.to_bytes(16, "little") + cum_1.to_bytes(16, "little")
        )
        buf[9:11] = nxt.to_bytes(2, "little")
    buf[4043:4051] = now.to_bytes(8, "little")
    return bytes(buf)


# ------------------------------------------------------------------ simulator: program
def _check(world: World, s: Swap, pool: Pool, src: D.TokenAccount, dst: D.TokenAccount) -> bool:
    """The program's checks of a swap, in its order; the direction (token 0 -> 1)."""
    acc = s.accounts
    rec = pool.record
    if src.mint not in (pool.mint_a, pool.mint_b) or dst.mint == src.mint:
        raise ProgramError(6003)  # InvalidInput
    a_to_b = src.mint == pool.mint_a
    vin, vout = (pool.vault_a, pool.vault_b) if a_to_b else (pool.vault_b, pool.vault_a)
    want = {
        "authority": AUTHORITY,
        "amm_config": rec.amm_config,
        "input_vault": vin,
        "output_vault": vout,
        "input_token_mint": src.mint,
        "output_token_mint": dst.mint,
        "observation_state": rec.observation_key,
        # each vault's token program (``token::token_program``): the mint's owner
        "input_token_program": world.token_programs.get(src.mint, SPL_TOKEN),
        "output_token_program": world.token_programs.get(dst.mint, SPL_TOKEN),
    }
    if any(acc[k] != v for k, v in want.items()):
        raise ProgramError(ANCHOR_CONSTRAINT_ADDRESS)
    # then the instruction (swap_base_input.rs): swaps enabled (status bit 2 clear) and
    # the pool open, then something left of the input once its transfer fee is taken
    if rec.status & 4 or world.unix_time() < rec.open_time:
        raise ProgramError(6000)  # NotApproved
    if s.amount_in - world.transfer_fee(src.mint, s.amount_in) <= 0:
        raise ProgramError(ANCHOR_REQUIRE_GT)
    return a_to_b


# ------------------------------------------------------------------ simulator: market
def _setup(world: World) -> dict[int, tuple[str, Any]]:
    """The configs the pools share: fee rate -> (address, decoded ``AmmConfig``)."""
    configs: dict[int, tuple[str, Any]] = {}
    for i, rate in enumerate(SIM_FEE_RATES):
        addr = sim_key("cpmm-config", i)
        cfg = D.RaydiumAmmConfig(
            254,
            False,
            i,
            rate,
            120_000,
            40_000,
            150_000_000,
            sim_key("owner", 0),
            sim_key("owner", 1),
            0,
        )
        configs[rate] = (addr, cfg)
        world.put(addr, PROGRAM, encode_amm_config(cfg))
    return configs


def _takes(spec: synthetic.PoolSpec) -> bool:
    """Every synthetic constant-product pool but AMM v4's (25 bps) becomes one."""
    return (
        spec.kind == IDS.graph_kind
        and not spec.venue
        and (spec.fee_num, spec.fee_den) != (25, 10_000)
    )


def _create(world: World, i: int, spec: synthetic.PoolSpec) -> Pool:
    """The pool account (on the config of the nearer fee rate) and its two vaults."""
    r = world.rng
    a, b = spec.mint_a, spec.mint_b
    va, vb = sim_key("vault", i, 0), sim_key("vault", i, 1)
    fa, fb = r.randint(0, 10**6), r.randint(0, 10**6)
    rate = 2_500 if spec.fee_num * 1_000_000 // spec.fee_den == 2_500 else 3_000
    spec.fee_num, spec.fee_den = rate, 1_000_000
    addr = sim_key("cpmm", i)
    cfg_addr = world.venue_state[IDS.name][rate][0]
    rec = D.RaydiumCpmmPool(
        cfg_addr,
        sim_key("creator", i),
        va,
        vb,
        sim_key("lp", i),
        a,
        b,
        world.token_programs.get(a, SPL_TOKEN),
        world.token_programs.get(b, SPL_TOKEN),
        sim_key("obs", i),
        253,
        0,
        9,
        world.decimals[a],
        world.decimals[b],
        10**12,
        fa,
        fb,
        0,
        0,
        1_700_000_000,
        800,
        0,
        False,
        0,
        0,
    )
    world.put(addr, PROGRAM, encode_pool(rec))
    world.put(rec.observation_key, PROGRAM, encode_observation(addr))
    spec.pool_id = addr
    world.vault(va, a, AUTHORITY, spec.reserve_a + fa)
    world.vault(vb, b, AUTHORITY, spec.reserve_b + fb)
    return Pool(IDS.kind, addr, a, b, va, vb, rec, spec, fa, fb)


DISC_SWAP_EVENT = bytes([64, 198, 205, 232, 38, 8, 113, 226])  # sha256("event:SwapEvent")[..8]


def amm_config(world: World, pool: Pool) -> Any:
    """The pool's ``AmmConfig``, decoded from the account it names (its fee rates)."""
    acc = world.accounts[pool.record.amm_config]
    return world.eng.raydium_cpmm.decode_config(acc.data, acc.owner)


def creator_fee(world: World, pool: Pool) -> tuple[int, tuple[bool, bool]]:
    """The creator fee rate the pool charges (``adjust_creator_fee_rate``: its config's
    when ``enable_creator_fee``, else 0) and whether it comes off the input a -> b, b -> a
    (``is_creator_fee_on_input``: ``creator_fee_on`` 0 both tokens, 1 token 0 only, 2 token
    1 only)."""
    r = pool.record
    rate = int(amm_config(world, pool).creator_fee_rate) if r.enable_creator_fee else 0
    on = {0: (True, True), 1: (True, False), 2: (False, True)}.get(int(r.creator_fee_on))
    if on is None:
        raise EngineError("InvalidInput")  # CreatorFeeOn::from_u8 fails
    return rate, on


@dataclass(frozen=True, slots=True)
class Swapped:
    """``CurveCalculator::swap_base_input``'s result (``SwapQuote.after``): the output of
    the curve before an output creator fee, and the fees."""

    swapped: int
    trade_fee: int
    protocol_fee: int
    fund_fee: int
    creator_fee: int
    creator_on_input: bool


def _fees(world: World, pool: Pool, a_to_b: bool, amount: int) -> tuple[int, int, bool, int]:
    """The fees of ``amount`` in: (trade fee, creator fee off the input, whether the
    creator fee is the input's, the creator's rate)."""
    trade_rate = int(amm_config(world, pool).trade_fee_rate)
    rate, on = creator_fee(world, pool)
    if on[0 if a_to_b else 1]:
        if trade_rate + rate == 0:
            raise EngineError("ZeroTradingTokens")
        total = -(-amount * (trade_rate + rate) // 1_000_000)
        creator = total * rate // (trade_rate + rate)
        return total - creator, creator, True, rate
    return -(-amount * trade_rate // 1_000_000), 0, False, rate


def trade_fees(world: World, pool: Pool, paid_in: int, a_to_b: bool = True) -> tuple[int, int, int]:
    """A swap's trade fee and the protocol's and the fund's shares of it (floor), from the
    pool's ``AmmConfig`` (1e-6 units)."""
    cfg = amm_config(world, pool)
    trade = _fees(world, pool, a_to_b, paid_in)[0]
    return (
        trade,
        trade * int(cfg.protocol_fee_rate) // 1_000_000,
        trade * int(cfg.fund_fee_rate) // 1_000_000,
    )


def curve(world: World, pool: Pool, a_to_b: bool, amount: int) -> Swapped:
    """``swap_base_input`` of ``amount`` (after its transfer fee) on the pool's reserves:
    the creator fee on the input (added to the trade fee, then split off it) or on the
    output; with the fee on the input and no fee at all, ``split_creator_fee`` divides by
    zero: ``ZeroTradingTokens`` (raised as the engine's error naming it)."""
    s = pool.spec
    rin, rout = (s.reserve_a, s.reserve_b) if a_to_b else (s.reserve_b, s.reserve_a)
    trade, creator, on_input, rate = _fees(world, pool, a_to_b, amount)
    net = amount - trade - creator
    swapped = net * rout // (rin + net) if rin + net else 0
    if not on_input:
        creator = -(-swapped * rate // 1_000_000)
    _, protocol, fund = trade_fees(world, pool, amount, a_to_b)
    return Swapped(swapped, trade, protocol, fund, creator, on_input)


def _quote(world: World, pool: Pool, a_to_b: bool, amount: int) -> SwapQuote | None:
    """The program's swap of ``amount`` now (None when nothing comes out or it would take
    the output reserve whole)."""
    from ...sim.world import SwapQuote

    if amount <= 0:
        return None
    c = curve(world, pool, a_to_b, amount)
    out = c.swapped - (0 if c.creator_on_input else c.creator_fee)
    rout = pool.spec.reserve_b if a_to_b else pool.spec.reserve_a
    if out <= 0 or c.swapped >= rout:
        return None
    return SwapQuote(amount, out, after=c)


def _apply(world: World, pool: Pool, a_to_b: bool, q: SwapQuote, kept: int) -> None:
    """The reserves after a swap: the input less what the vault keeps for others
    (protocol, fund, an input creator fee: ``kept``), the output less the curve's whole
    output (an output creator fee stays in the vault, owed)."""
    s = pool.spec
    c: Swapped = q.after
    if a_to_b:
        s.reserve_a, s.reserve_b = s.reserve_a + q.paid_in - kept, s.reserve_b - c.swapped
    else:
        s.reserve_b, s.reserve_a = s.reserve_b + q.paid_in - kept, s.reserve_a - c.swapped


def _price(pool: Pool) -> float:
    """Units of b per unit of a: the reserves' ratio (the constant product's, as the
    world reads a ``cpmm`` spec; given beside ``quote`` as every venue with one does)."""
    return pool.spec.reserve_b / pool.spec.reserve_a


def _depth(pool: Pool, a_to_b: bool) -> float:
    """The input side's reserve (trade sizes)."""
    return float(pool.spec.reserve_a if a_to_b else pool.spec.reserve_b)


def _owed(r: Any) -> tuple[int, int]:
    """What each vault holds that is not the pool's reserve: the protocol's, the fund's
    and the creator's fees (``vault_amount_without_fee``)."""
    return (
        r.protocol_fees_token_0 + r.fund_fees_token_0 + r.creator_fees_token_0,
        r.protocol_fees_token_1 + r.fund_fees_token_1 + r.creator_fees_token_1,
    )


def _record_swap(world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> int:
    """What ``swap_base_input`` writes besides the vaults (raydium-cp-swap
    ``instructions/swap_base_input.rs``, ``PoolState::update_fees``), called before the
    vaults move: the protocol's and the fund's shares of the trade fee, in the input
    token, and the creator fee, in the input or the output token, to ``PoolState`` (they
    stay in the vaults but leave the reserves: what the input vault keeps is returned,
    an output creator fee goes to the pool's other owed fees); the price before the swap
    to the pool's ``ObservationState`` (:func:`update_observation`); ``recent_epoch``, the
    clock's epoch."""
    c = curve(world, pool, a_to_b, paid_in)
    r = pool.record
    owed_0, owed_1 = _owed(r)
    amount_0 = world.balance(pool.vault_a) - owed_0
    amount_1 = world.balance(pool.vault_b) - owed_1
    obs = world.accounts.get(r.observation_key)
    if obs is not None and amount_0 > 0 and amount_1 > 0:  # token_price_x32
        obs.data = update_observation(
            obs.data, world.unix_time(), amount_1 * Q32 // amount_0, amount_0 * Q32 // amount_1
        )
        world._touched.append(r.observation_key)
    creator_in = c.creator_fee if c.creator_on_input else 0
    creator_out = 0 if c.creator_on_input else c.creator_fee
    # the fees the pool keeps apart, by token: the protocol's, the fund's and the
    # creator's (on the input) in the input's token, the creator's (on the output) in the
    # output's
    owed_in, owed_out = (c.protocol_fee, c.fund_fee, creator_in), (0, 0, creator_out)
    add_0, add_1 = (owed_in, owed_out) if a_to_b else (owed_out, owed_in)
    r = replace(
        r,
        protocol_fees_token_0=r.protocol_fees_token_0 + add_0[0],
        protocol_fees_token_1=r.protocol_fees_token_1 + add_1[0],
        fund_fees_token_0=r.fund_fees_token_0 + add_0[1],
        fund_fees_token_1=r.fund_fees_token_1 + add_1[1],
        creator_fees_token_0=r.creator_fees_token_0 + add_0[2],
        creator_fees_token_1=r.creator_fees_token_1 + add_1[2],
        recent_epoch=world.epoch(),
    )
    if a_to_b:
        pool.fees_b += creator_out
    else:
        pool.fees_a += creator_out
    pool.record = r
    pool.spec.state = c  # the event's fees (:func:`_event`)
    world.accounts[pool.address].data = encode_pool(r, world.accounts[pool.address].data)
    return c.protocol_fee + c.fund_fee + creator_in


def encode_swap_event(
    pool: str,
    vault_in: int,
    vault_out: int,
    amount_in: int,
    out: int,
    mint_in: str,
    mint_out: str,
    trade_fee: int,
    fee_in: int = 0,
    fee_out: int = 0,
    creator_fee: int = 0,
    creator_fee_on_input: bool = True,
) -> str:
    """The base64 of an Anchor ``SwapEvent`` (the 162-byte body CP-Swap logs since
    2025-08, spec §6.2): the reserves before, the amounts (the input less its transfer
    fee, the output before its fee), the transfer fees, exact input, the mints, the trade
    fee, the creator fee and whether it came off the input."""
    body = (
        DISC_SWAP_EVENT
        + b58decode_32(pool)
        + struct.pack("<6Q?", vault_in, vault_out, amount_in, out, fee_in, fee_out, True)
        + b58decode_32(mint_in)
        + b58decode_32(mint_out)
        + struct.pack("<2Q?", trade_fee, creator_fee, creator_fee_on_input)
    )
    return base64.b64encode(body).decode()


def b58decode_32(key: str) -> bytes:
    """A pubkey's 32 bytes."""
    from solders.pubkey import Pubkey

    return bytes(Pubkey.from_string(key))


def _event(
    world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int, before: tuple[int, int, int]
) -> str:
    """The trade's ``SwapEvent`` line (the curve's fees, on the reserves before it)."""
    mint_in, mint_out = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    c: Swapped = pool.spec.state
    fee_in, fee_out = world.last_fees
    return "Program data: " + encode_swap_event(
        pool.address,
        before[0],
        before[1],
        paid_in,
        out,
        mint_in,
        mint_out,
        c.trade_fee,
        fee_in,
        fee_out,
        c.creator_fee,
        c.creator_on_input,
    )


def _steps(pool: Pool) -> int:
    """A swap's steps in :data:`COMPUTE_UNITS`: its Token-2022 sides."""
    r = pool.record
    return sum(p == TOKEN_2022 for p in (r.token_0_program, r.token_1_program))


def _cost(pool: Pool, tick_before: int) -> int:
    return COMPUTE_UNITS.use(_steps(pool))


def _load(world: World, pool: Pool) -> None:
    """``Program.load``: the pool read back from its accounts: ``PoolState``, the fees it
    owes (protocol, fund, creator: in the vaults, not reserves), the reserves, the trade
    fee of its ``AmmConfig``."""
    acc = world.accounts[pool.address]
    r = decode_pool(world.eng, acc.data, acc.owner)
    pool.record = r
    va, vb = world.balance(pool.vault_a), world.balance(pool.vault_b)
    ra, rb = reserves(r, va, vb)
    pool.fees_a, pool.fees_b = va - ra, vb - rb
    s = pool.spec
    s.reserve_a, s.reserve_b = ra, rb
    cfg = world.accounts[r.amm_config]
    s.fee_num = int(world.eng.raydium_cpmm.decode_config(cfg.data, cfg.owner).trade_fee_rate)
    s.fee_den = 1_000_000


def _quote_error(text: str) -> int:
    """ZeroTradingTokens (a fee on the input and none at all), else InvalidInput."""
    return 6006 if "ZeroTradingTokens" in text else 6003


def _swapped(world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> str:
    return "Program log: Instruction: SwapBaseInput"


# no output: require_gt!(amount_received, 0); nothing received: the same check, after the
# output's transfer fee
RUNS = sv.Program(_check, _quote_error, ANCHOR_REQUIRE_GT, _cost, "SwapBaseInput", _load)
RENT = {POOL_LEN: 5_324_000, CONFIG_LEN: 2_533_440, OBSERVATION_LEN: 29_252_880}
SIM = sv.SimVenue(
    VENUE,
    RUNS,
    sv.Market(_setup, _takes, _create, _swapped),
    RENT,
    sv.Curve(_quote, _apply, _price, _depth),
    sv.Logs(_event, token_instruction=sv.TRANSFER_CHECKED),
    state_in_pool_account=False,
    record_swap=_record_swap,
    hook_error=TRANSFER_HOOK_INCORRECT_ACCOUNT,
    nothing_received_error=ANCHOR_REQUIRE_GT,
)

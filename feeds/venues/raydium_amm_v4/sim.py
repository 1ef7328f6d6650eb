"""Raydium AMM v4's simulated program (the simulator's part of
:mod:`feeds.venues.raydium_amm_v4`; only the simulator and tests import it): the
``AmmInfo`` and ``ray_log`` encoders, ``SwapBaseInV2``'s checks, the market's pools
and what a swap writes (:data:`SIM`)."""

from __future__ import annotations

import base64
import struct
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from engine_rs import decoded as D

from ...sim import venue as sv
from ...sim.state import Pool, sim_key
from ...sim.venue import ProgramError
from ...wire.instructions import SPL_TOKEN, Swap
from ...wire.writer import Writer
from . import (
    AUTHORITY,
    AUTHORITY_NONCE,
    COMPUTE_UNITS,
    IDS,
    INITIALIZED,
    POOL_LEN,
    PROGRAM,
    RECENT_EPOCH,
    SWAP_ONLY,
    VENUE,
    WAITING_TRADE,
    decode_pool,
)

if TYPE_CHECKING:
    from ...sim import synthetic
    from ...sim.world import World

OPENBOOK = "srmqPvymJeFKQ4zGQed1GxppgkRHL5ZF2z7pBpV3D2u"  # the simulated pools' market program


OPENBOOK = "srmqPvymJeFKQ4zGQed1GxppgkRHL5ZF2z7pBpV3D2u"  # the simulated pools' market program


# ------------------------------------------------------------------ simulator: layouts
def encode_pool(r: Any, base: bytes | None = None) -> bytes:
    """Raydium AMM v4 ``AmmInfo`` (752 bytes, spec §1.2)."""
    w = Writer(POOL_LEN, base)
    w.fields(
        w.u64,
        r,
        "0 status 8 nonce 32 coin_decimals 40 pc_decimals 48 state 144 trade_fee_numerator "
        "152 trade_fee_denominator 176 swap_fee_numerator 184 swap_fee_denominator "
        "192 need_take_pnl_coin 200 need_take_pnl_pc 224 pool_open_time 720 lp_amount",
    )
    w.fields(
        w.key,
        r,
        "336 coin_vault 368 pc_vault 400 coin_vault_mint 432 pc_vault_mint 464 lp_mint "
        "496 open_orders 528 market 560 market_program 592 target_orders 688 amm_owner",
    )
    return w.done()


def encode_ray_log(r: Any) -> str:
    """The base64 of a ``ray_log`` swap log (spec §6.1): SwapBaseIn (type 3) when ``r``
    has ``amount_in``, else SwapBaseOut (type 4)."""
    if hasattr(r, "amount_in"):
        vals = (
            3,
            r.amount_in,
            r.minimum_out,
            r.direction,
            r.user_source,
            r.pool_coin,
            r.pool_pc,
            r.out_amount,
        )
    else:
        vals = (
            4,
            r.max_in,
            r.amount_out,
            r.direction,
            r.user_source,
            r.pool_coin,
            r.pool_pc,
            r.deduct_in,
        )
    return base64.b64encode(struct.pack("<B7Q", *vals)).decode()


# ------------------------------------------------------------------ simulator: program
def _check(world: World, s: Swap, pool: Pool, src: D.TokenAccount, dst: D.TokenAccount) -> bool:
    """``process_swap_base_in_v2``'s checks (raydium-amm ``processor.rs``, today's), in its
    order; the direction (coin -> pc). The swap itself (its ``ray_log``, the slippage check, no
    output: ``InvalidInput``) is the runtime's with this venue's codes."""
    acc = s.accounts
    r = pool.record
    if acc["token_program"] != SPL_TOKEN:
        raise ProgramError(38)  # InvalidSplTokenProgram
    if acc["authority"] != AUTHORITY:
        raise ProgramError(1)  # InvalidProgramAddress
    if acc["coin_vault"] != pool.vault_a:
        raise ProgramError(4)  # InvalidCoinVault
    if acc["pc_vault"] != pool.vault_b:
        raise ProgramError(5)  # InvalidPCVault
    if {s.user_source, s.user_dest} & {pool.vault_a, pool.vault_b}:
        raise ProgramError(42)  # InvalidUserToken
    # AmmStatus::swap_permission: initialized, swap-only, or waiting for its open time
    # (today's program, raydium-amm 27f461d "Remove openbook dependency", trades each
    # without the book)
    if r.status not in (INITIALIZED, SWAP_ONLY, WAITING_TRADE):
        raise ProgramError(22)  # InvalidStatus
    if r.status == WAITING_TRADE and world.unix_time() < r.pool_open_time:
        raise ProgramError(22)
    if (src.mint, dst.mint) not in ((pool.mint_a, pool.mint_b), (pool.mint_b, pool.mint_a)):
        raise ProgramError(42)  # InvalidUserToken
    a_to_b = src.mint == pool.mint_a  # Coin2PC
    if src.amount < s.amount_in:
        raise ProgramError(40)  # InsufficientFunds
    # the slippage check comes before the one for no output (InvalidInput, the runtime's
    # ``no_output_error``): a minimum above nothing fails on slippage
    q = world.quote_swap(pool, a_to_b, s.amount_in) if s.amount_in else None
    if (q.out if q is not None else 0) < s.minimum_out:
        raise ProgramError(30)  # ExceededSlippage
    return a_to_b


# ------------------------------------------------------------------ simulator: market
def _takes(spec: synthetic.PoolSpec) -> bool:
    """A synthetic constant-product pool with AMM v4's fee (25 bps) becomes one."""
    return (
        spec.kind == IDS.graph_kind
        and not spec.venue
        and (spec.fee_num, spec.fee_den) == (25, 10_000)
    )


def _create(world: World, i: int, spec: synthetic.PoolSpec) -> Pool:
    """The pool account and its two vaults (the vaults also hold the pnl it owes)."""
    r = world.rng
    a, b = spec.mint_a, spec.mint_b
    va, vb = sim_key("vault", i, 0), sim_key("vault", i, 1)
    fa, fb = r.randint(0, 10**6), r.randint(0, 10**6)
    addr = sim_key("amm", i)
    r.randint(250, 255)  # drawn as before (the market's draws stay as they were); the
    # nonce is the authority's bump: the program signs with [b"amm authority", [nonce]]
    rec = D.RaydiumAmmV4(
        6,
        AUTHORITY_NONCE,
        world.decimals[a],
        world.decimals[b],
        1,
        25,
        10_000,
        25,
        10_000,
        fa,
        fb,
        1_700_000_000,
        va,
        vb,
        a,
        b,
        sim_key("lp", i),
        sim_key("oo", i),
        sim_key("market", i),
        OPENBOOK,
        sim_key("to", i),
        AUTHORITY,
        10**12,
    )
    world.put(addr, PROGRAM, encode_pool(rec))
    spec.pool_id = addr
    world.vault(va, a, AUTHORITY, spec.reserve_a + fa)
    world.vault(vb, b, AUTHORITY, spec.reserve_b + fb)
    return Pool(IDS.kind, addr, a, b, va, vb, rec, spec, fa, fb)


def _reserves_before(
    world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int
) -> tuple[int, int]:
    """(coin, pc) the swap traded on: the vaults before it (it has moved them) less the
    pnl the pool owes (``calc_total_without_take_pnl_no_orderbook``)."""
    coin, pc = world.balance(pool.vault_a), world.balance(pool.vault_b)
    coin, pc = (coin - paid_in, pc + out) if a_to_b else (coin + out, pc - paid_in)
    return coin - pool.record.need_take_pnl_coin, pc - pool.record.need_take_pnl_pc


def _swapped(world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> str:
    """The ``ray_log`` line of a trade (raydium-amm ``processor.rs`` ``process_swap_base_in``):
    the amount in and the minimum out, the direction (2: coin to pc), the user's source
    balance before, the pool's coin and pc before (vaults less pnl), the amount out. The
    market's own trades have no user: minimum 0, the amount in as the balance."""
    minimum, source = world.order if world.order is not None else (0, paid_in)
    coin, pc = _reserves_before(world, pool, a_to_b, paid_in, out)
    return "Program log: ray_log: " + encode_ray_log(
        D.SwapBaseInLog(paid_in, minimum, 2 if a_to_b else 1, source, coin, pc, out)
    )


def _record_swap(world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> int:
    """What ``swap_base_in`` writes to ``AmmInfo`` besides the vaults (raydium-amm
    ``processor.rs``): in ``state_data``, coin in: ``swap_coin_in_amount``,
    ``swap_pc_out_amount``, ``swap_acc_coin_fee``; pc in: ``swap_pc_in_amount``,
    ``swap_coin_out_amount``, ``swap_acc_pc_fee`` (the fee ``ceil(in x swap_fee)``, as
    ``checked_ceil_div`` rounds since 2025-08); ``recent_epoch`` (byte 736), the clock's
    epoch; a pool waiting to trade (status 7) becomes swap-only (6). Nothing leaves the
    reserves."""
    acc = world.accounts[pool.address]
    data = bytearray(acc.data)
    r = pool.record
    fee = -(-paid_in * r.swap_fee_numerator // r.swap_fee_denominator)
    into, out_at, fee_at = (256, 272, 328) if a_to_b else (296, 312, 288)
    for off, add, size in ((into, paid_in, 16), (out_at, out, 16), (fee_at, fee, 8)):
        value = (int.from_bytes(data[off : off + size], "little") + add) % (1 << (8 * size))
        data[off : off + size] = value.to_bytes(size, "little")
    data[RECENT_EPOCH : RECENT_EPOCH + 8] = world.epoch().to_bytes(8, "little")
    if r.status == WAITING_TRADE:
        data[0:8] = SWAP_ONLY.to_bytes(8, "little")
        pool.record = replace(r, status=SWAP_ONLY)
    acc.data = bytes(data)
    return 0


def _slippage_lines(
    world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int
) -> tuple[str, ...]:
    """A swap refused on slippage: ``swap_base_in`` logs its ``ray_log`` (what it would
    have given, the trader's minimum above it) before the check fails, then the error."""
    coin = world.balance(pool.vault_a) - pool.record.need_take_pnl_coin
    pc = world.balance(pool.vault_b) - pool.record.need_take_pnl_pc
    log = encode_ray_log(
        D.SwapBaseInLog(paid_in, out + 1, 2 if a_to_b else 1, paid_in, coin, pc, out)
    )
    return ("Program log: ray_log: " + log, "Program log: Error: exceeds desired slippage limit")


def _load(world: World, pool: Pool) -> None:
    """``Program.load``: the pool read back from its accounts: ``AmmInfo``, the pnl it
    owes (the vaults' part that is not reserves), the reserves, the swap fee."""
    acc = world.accounts[pool.address]
    r = decode_pool(world.eng, acc.data, acc.owner)
    pool.record = r
    pool.fees_a, pool.fees_b = int(r.need_take_pnl_coin), int(r.need_take_pnl_pc)
    s = pool.spec
    s.reserve_a = world.balance(pool.vault_a) - pool.fees_a
    s.reserve_b = world.balance(pool.vault_b) - pool.fees_b
    s.fee_num, s.fee_den = int(r.swap_fee_numerator), int(r.swap_fee_denominator)


INVALID_INPUT = 29  # InvalidInput: the curve refuses the trade, or gives nothing
COST = sv.flat(COMPUTE_UNITS.use(0))
RUNS = sv.Program(_check, sv.always(INVALID_INPUT), INVALID_INPUT, COST, "SwapBaseInV2", _load)
MARKET = sv.Market(lambda world: None, _takes, _create, _swapped)
RENT = {POOL_LEN: 6_124_800}
LOGS = sv.Logs(slippage_lines=_slippage_lines)
SIM = sv.SimVenue(
    VENUE, RUNS, MARKET, RENT, logs=LOGS, state_in_pool_account=False, record_swap=_record_swap
)

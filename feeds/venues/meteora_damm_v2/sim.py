"""Meteora DAMM v2's simulated program (the simulator's part of
:mod:`feeds.venues.meteora_damm_v2`; only the simulator and tests import it): the ``Pool``
encoder, ``swap``'s checks in the program's order (``SwapCtx::validate_p_accounts``,
``p_handle_swap``), a swap as the program writes it (``apply_swap_result`` with the
dynamic fee's ``update_pre_swap`` / ``update_post_swap``), its ``EvtSwap2`` by self-CPI,
and the market's pools: one-range concentrated pools over the whole price range (both
collect-fee modes) and compounding ones, some with a dynamic fee, some with a market-cap
fee scheduler (:data:`SIM`).

The swap's arithmetic is the engine's (``meteora_damm_v2.swap`` on the pool account's
bytes), held to the program's own SDK on real pools (``tests/engine/test_meteora_damm_v2.py``),
and the whole swap (payout, errors, every account's bytes, the event, compute units) to
the program's 2026-03 binary (``tests/judge/test_meteora_damm_v2.py``).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from engine_rs import decoded as D
from engine_rs.errors import EngineError

from ...sim import venue as sv
from ...sim.state import InnerIx, Pool, sim_key
from ...sim.venue import (
    ANCHOR_CONSTRAINT_ADDRESS,
    ANCHOR_CONSTRAINT_SEEDS,
    InstructionFailed,
    ProgramError,
)
from ...wire.instructions import SPL_TOKEN, TOKEN_2022, Swap, pubkey
from ...wire.writer import Writer
from . import (
    CODES,
    COMPOUNDING_STEPS,
    COMPUTE_UNITS,
    DISC_POOL,
    IDS,
    POOL_LEN,
    PROGRAM,
    RATE_LIMITER,
    SYSVAR_INSTRUCTIONS,
    VENUE,
    base_fee_mode,
    decode_pool,
    event_authority,
    pool_address,
    pool_authority,
    token_vault,
)

if TYPE_CHECKING:
    from ...sim import synthetic
    from ...sim.world import SwapQuote, World

MIN_SQRT_PRICE = 4_295_048_016
MAX_SQRT_PRICE = 79_226_673_521_066_979_257_578_248_091
ONE_Q64 = 1 << 64
MAX_BASIS_POINT = 10_000
EVENT_IX_TAG = bytes.fromhex("e445a52e51cb9a1d")  # Anchor's emit_cpi! instruction tag
DISC_EVT_SWAP2 = bytes([189, 66, 51, 168, 38, 80, 117, 153])
ANCHOR_CONSTRAINT_HAS_ONE = 2001
ANCHOR_CONSTRAINT_TOKEN_MINT = 2014
ANCHOR_CONSTRAINT_TOKEN_PROGRAM = 2021
SIM_CLIFF_FEE = 2_500_000  # 0.25 %
SIM_CONFIG = sim_key("damm-v2-config")


# ------------------------------------------------------------------ simulator: layouts
def encode_pool(r: Any, base: bytes | None = None) -> bytes:
    """DAMM v2 ``Pool`` (1,112 bytes, ``state/pool.rs``): the fields the engine decodes;
    the rest (paddings, fee accumulators, metrics, rewards) as ``base`` has them."""
    w = Writer(POOL_LEN, base, DISC_POOL)
    b = w.buf
    b[8:40] = r.base_fee
    w.u8(48, r.protocol_fee_percent)
    w.u8(50, r.referral_fee_percent)
    w.u16(54, r.compounding_fee_bps)
    w.u8(56, r.dynamic_fee_initialized)
    struct.pack_into(
        "<IIHHHHQ",
        b,
        64,
        r.max_volatility_accumulator,
        r.variable_fee_control,
        r.bin_step,
        r.filter_period,
        r.decay_period,
        r.dynamic_reduction_factor,
        r.last_update_timestamp,
    )
    w.fields(
        w.u128,
        r,
        "88 bin_step_u128 104 sqrt_price_reference 120 volatility_accumulator "
        "136 volatility_reference 152 init_sqrt_price 360 liquidity 424 sqrt_min_price "
        "440 sqrt_max_price 456 sqrt_price 552 permanent_lock_liquidity",
    )
    w.fields(
        w.key,
        r,
        "168 token_a_mint 200 token_b_mint 232 token_a_vault 264 token_b_vault "
        "296 whitelisted_vault 648 creator",
    )
    w.fields(w.u64, r, "392 protocol_a_fee 400 protocol_b_fee 472 activation_point")
    struct.pack_into(
        "<7B",
        b,
        480,
        r.activation_type,
        r.pool_status,
        r.token_a_flag,
        r.token_b_flag,
        r.collect_fee_mode,
        r.pool_type,
        r.fee_version,
    )
    w.u64(680, r.token_a_amount)
    w.u64(688, r.token_b_amount)
    w.u8(696, r.layout_version)
    return w.done()


def time_base_fee(
    cliff: int, periods: int = 0, frequency: int = 0, reduction: int = 0, exponential: bool = False
) -> bytes:
    """A time scheduler's ``BaseFeeInfo`` (mode 0 linear, 1 exponential); all zero but
    the cliff: a static fee."""
    return struct.pack("<QB5xHQQ", cliff, int(exponential), periods, frequency, reduction)


def market_cap_base_fee(
    cliff: int,
    periods: int,
    step_bps: int,
    expiration: int,
    reduction: int,
    exponential: bool = False,
) -> bytes:
    """A market-cap scheduler's ``BaseFeeInfo`` (mode 3 linear, 4 exponential)."""
    return struct.pack(
        "<QB5xHIIQ", cliff, 3 + int(exponential), periods, step_bps, expiration, reduction
    )


# ------------------------------------------------------------------ simulator: the math
def sim_point(world: World, rec: Any) -> int:
    """The clock's point the program prices a swap at: the slot, or the unix time."""
    return world.slot if rec.activation_type == 0 else world.unix_time()


def delta_bin(bin_step_u128: int, a: int, b: int) -> int:
    """``get_delta_bin_id``: twice the bins between two prices (the ratio in Q64 less one,
    over the bin step)."""
    hi, lo = max(a, b), min(a, b)
    if lo == 0 or bin_step_u128 == 0:
        raise EngineError("MathOverflow")
    return ((hi << 64) // lo - ONE_Q64) // bin_step_u128 * 2


def dynamic_after(rec: Any, old_sqrt: int, new_sqrt: int, now: int) -> dict[str, int]:
    """The dynamic fee's fields after a swap: ``update_references`` at ``now`` before it
    (the fee it charged read only the accumulator), ``update_volatility_accumulator``
    after it, the time stamped when the price crossed a bin."""
    if not rec.dynamic_fee_initialized:
        return {}
    ref, vref = rec.sqrt_price_reference, rec.volatility_reference
    elapsed = max(now - rec.last_update_timestamp, 0)
    if elapsed >= rec.filter_period:
        ref = old_sqrt
        if elapsed < rec.decay_period:
            vref = rec.volatility_accumulator * rec.dynamic_reduction_factor // MAX_BASIS_POINT
        else:
            vref = 0
    acc = min(
        vref + delta_bin(rec.bin_step_u128, new_sqrt, ref) * MAX_BASIS_POINT,
        rec.max_volatility_accumulator,
    )
    moved = delta_bin(rec.bin_step_u128, old_sqrt, new_sqrt) > 0
    return {
        "sqrt_price_reference": ref,
        "volatility_reference": vref,
        "volatility_accumulator": acc,
        "last_update_timestamp": now if moved else rec.last_update_timestamp,
    }


@dataclass(frozen=True, slots=True)
class Swapped:
    """A pool's last swap as its event reports it."""

    a_to_b: bool
    result: Any  # the engine's DammSwapQuote
    now: int
    reserves: tuple[int, int]


def _quote(world: World, pool: Pool, a_to_b: bool, amount: int) -> SwapQuote | None:
    """The program's swap now (the engine's ``meteora_damm_v2.swap`` on the pool
    account's bytes at the clock's point): ``after`` is its ``DammSwapQuote``; the
    program's refusal as the engine error naming it (``quote_error`` maps it)."""
    from ...sim.world import SwapQuote

    rec = pool.record
    r = world.eng.meteora_damm_v2.swap(
        world.accounts[pool.address].data, sim_point(world, rec), amount, a_to_b
    )
    if isinstance(r, str):
        raise EngineError(r)
    return SwapQuote(amount, r.output_amount, sqrt_price=r.next_sqrt_price, after=r)


def _apply(world: World, pool: Pool, a_to_b: bool, q: SwapQuote, kept: int) -> None:
    """The pool as ``apply_swap_result`` leaves it: its tracked reserves take the input
    after any input fee and give the output with any output fee, the compounding fee
    stays in b, the protocol's fee is owed in the fee's token, the price moves, the
    dynamic fee follows. The vaults keep every fee (the runtime moves what was paid in
    and out)."""
    r = q.after
    rec = pool.record
    now = world.unix_time()
    gross_out = (
        r.output_amount
        if r.fees_on_input
        else (
            r.output_amount + r.claiming_fee + r.compounding_fee + r.protocol_fee + r.referral_fee
        )
    )
    ta, tb = rec.token_a_amount, rec.token_b_amount
    if a_to_b:
        ta, tb = ta + r.excluded_fee_input_amount, tb - gross_out
    else:
        ta, tb = ta - gross_out, tb + r.excluded_fee_input_amount
    tb += r.compounding_fee
    fee_in_a = not a_to_b and not r.fees_on_input  # BothToken b -> a: the fee is a's
    rec = replace(
        rec,
        token_a_amount=ta,
        token_b_amount=tb,
        sqrt_price=r.next_sqrt_price,
        protocol_a_fee=rec.protocol_a_fee + (r.protocol_fee if fee_in_a else 0),
        protocol_b_fee=rec.protocol_b_fee + (0 if fee_in_a else r.protocol_fee),
        **dynamic_after(rec, rec.sqrt_price, r.next_sqrt_price, now),
    )
    pool.record = rec
    pool.spec.state = Swapped(a_to_b, r, now, (ta, tb))
    pool.spec.reserve_a, pool.spec.reserve_b = ta, tb
    data = bytearray(encode_pool(rec, world.accounts[pool.address].data))
    accrue(data, fee_in_a, r.claiming_fee, r.compounding_fee, r.protocol_fee, rec.liquidity)
    world.accounts[pool.address].data = bytes(data)


def accrue(
    data: bytearray, in_a: bool, claiming: int, compounding: int, protocol: int, liquidity: int
) -> None:
    """What ``apply_swap_result`` adds besides the fields the engine reads: the fee per
    liquidity of the fee's token (``claiming << 128 / liquidity``, a U256 at 488 / 520) and
    the pool's metrics (its LP fee, ``claiming + compounding``, a u128 at 568 / 584; its
    protocol fee, a u64 at 600 / 608)."""
    per, lp, pr = (488, 568, 600) if in_a else (520, 584, 608)
    if liquidity:
        stored = int.from_bytes(data[per : per + 32], "little") + (claiming << 128) // liquidity
        data[per : per + 32] = (stored % (1 << 256)).to_bytes(32, "little")
    total = int.from_bytes(data[lp : lp + 16], "little") + claiming + compounding
    data[lp : lp + 16] = (total % (1 << 128)).to_bytes(16, "little")
    paid = int.from_bytes(data[pr : pr + 8], "little") + protocol
    data[pr : pr + 8] = (paid % (1 << 64)).to_bytes(8, "little")


def _price(pool: Pool) -> float:
    """Units of b per unit of a."""
    rec = pool.record
    if rec.collect_fee_mode == 2:
        return float(rec.token_b_amount) / max(int(rec.token_a_amount), 1)
    return float((rec.sqrt_price / ONE_Q64) ** 2)


def _depth(pool: Pool, a_to_b: bool) -> float:
    rec = pool.record
    return float(rec.token_a_amount if a_to_b else rec.token_b_amount)


# ------------------------------------------------------------------ simulator: program
def _check(world: World, s: Swap, pool: Pool, src: D.TokenAccount, dst: D.TokenAccount) -> bool:
    """``swap``'s checks in the program's order (``validate_p_accounts``, then the access
    check and the rate limiter's single-swap check); the direction from the input
    account's mint."""
    acc = s.accounts
    rec = pool.record
    if acc["pool_authority"] != pool_authority():
        raise ProgramError(ANCHOR_CONSTRAINT_ADDRESS)
    if (acc["token_a_vault"], acc["token_b_vault"]) != (rec.token_a_vault, rec.token_b_vault):
        raise ProgramError(ANCHOR_CONSTRAINT_HAS_ONE)
    programs = world.token_programs
    for side, mint in (
        ("token_a_program", rec.token_a_mint),
        ("token_b_program", rec.token_b_mint),
    ):
        if acc[side] != programs.get(mint, SPL_TOKEN):
            raise ProgramError(ANCHOR_CONSTRAINT_TOKEN_PROGRAM)
    if (acc["token_a_mint"], acc["token_b_mint"]) != (rec.token_a_mint, rec.token_b_mint):
        raise ProgramError(ANCHOR_CONSTRAINT_TOKEN_MINT)
    if acc["event_authority"] != event_authority():
        raise ProgramError(ANCHOR_CONSTRAINT_SEEDS)
    if src.mint not in (rec.token_a_mint, rec.token_b_mint):
        # the direction is b -> a for any input mint but a; the vault transfer then fails
        raise InstructionFailed("InvalidAccountData", "token mint mismatch")
    a_to_b: bool = src.mint == rec.token_a_mint
    if rec.pool_status != 0 or sim_point(world, rec) < rec.activation_point:
        raise ProgramError(CODES["PoolDisabled"])
    if s.amount_in == 0:
        raise ProgramError(CODES["AmountIsZero"])
    if base_fee_mode(rec) == RATE_LIMITER and not a_to_b:
        # the limiter applies to b -> a within its window: it reads the Instructions
        # sysvar as the first remaining account (an unsupported sysvar otherwise)
        limiter = struct.unpack_from("<HII", rec.base_fee, 14)
        applies = (
            any(limiter) or rec.base_fee[24:32] != bytes(8)
        ) and rec.activation_point <= sim_point(world, rec) <= rec.activation_point + limiter[1]
        if applies and acc.get("remaining_0") != SYSVAR_INSTRUCTIONS:
            if "remaining_0" not in acc:
                raise ProgramError(CODES["FailToValidateSingleSwapInstruction"])
            raise InstructionFailed("UnsupportedSysvar", "unsupported sysvar")
    return a_to_b


def _quote_error(text: str) -> int:
    """The program's code of the engine's refusal (its name); a panic is none of its own
    (MathOverflow stands for it)."""
    return CODES.get(text.strip("'\""), CODES["MathOverflow"])


def _swapped(world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> str:
    return "Program log: Instruction: Swap"


def _event_body(pool: Pool, s: Swap, world: World) -> bytes:
    st: Swapped = pool.spec.state
    r = st.result
    mint_out = pool.mint_b if st.a_to_b else pool.mint_a
    received = r.output_amount - world.transfer_fee(mint_out, r.output_amount)
    body: bytes = DISC_EVT_SWAP2 + bytes(pubkey(pool.address))
    body += bytes([0 if st.a_to_b else 1, pool.record.collect_fee_mode, 0])
    body += struct.pack("<QQB", s.amount_in, s.minimum_out, 0)
    body += struct.pack(
        "<4Q", r.included_fee_input_amount, r.excluded_fee_input_amount, 0, r.output_amount
    )
    body += r.next_sqrt_price.to_bytes(16, "little")
    body += struct.pack("<4Q", r.claiming_fee, r.protocol_fee, r.compounding_fee, r.referral_fee)
    body += struct.pack(
        "<6Q", s.amount_in, r.output_amount, received, st.now, st.reserves[0], st.reserves[1]
    )
    return body


def _cpi_events(
    world: World, pool: Pool, s: Swap, events: tuple[str, ...]
) -> tuple[list[InnerIx], list[InnerIx]]:
    """``EvtSwap2`` by self-CPI after the transfers (``p_emit_cpi``): the program, its
    event authority signing, the event tag then the event."""
    body = _event_body(pool, s, world)
    return [], [InnerIx(PROGRAM, (event_authority(),), EVENT_IX_TAG + body)]


# ------------------------------------------------------------------ simulator: market
def _takes(spec: synthetic.PoolSpec) -> bool:
    return spec.venue == IDS.name


def _flag(world: World, mint: str) -> int:
    return 1 if world.token_programs.get(mint, SPL_TOKEN) == TOKEN_2022 else 0


def _create(world: World, i: int, spec: synthetic.PoolSpec) -> Pool:
    """A pool at the spec's price and depth: ``i % 3`` picks its collect-fee mode (both
    tokens, only b, compounding); every other pool has a dynamic fee (bin step 1 bp, the
    program's default); one in five a linear market-cap scheduler (1 % falling 0.15 % a
    1 % rise of the price above its start, to 0.25 %). Concentrated pools span the whole
    price range, so their depth is the spec's."""
    ra, rb = max(spec.reserve_a, 1), max(spec.reserve_b, 1)
    mode = i % 3
    sqrt_price = math.isqrt((rb << 128) // ra)
    config = SIM_CONFIG
    addr = pool_address(config, spec.mint_a, spec.mint_b)
    k = 0
    while addr in world.accounts:  # another pool of the pair: another config
        k += 1
        config = sim_key("damm-v2-config", k)
        addr = pool_address(config, spec.mint_a, spec.mint_b)
    if i % 5 == 4:
        base_fee = market_cap_base_fee(10_000_000, 5, 100, 86_400 * 3650, 1_500_000)
    else:
        base_fee = time_base_fee(SIM_CLIFF_FEE)
    dynamic = i % 2 == 0
    if mode == 2:
        liquidity = math.isqrt(ra * rb) << 64
        ta, tb = ra, rb
        lo, hi = 0, (1 << 128) - 1
    else:
        liquidity = math.isqrt(ra * rb) << 64
        lo, hi = MIN_SQRT_PRICE, MAX_SQRT_PRICE
        ta = -(-liquidity * (hi - sqrt_price) // (sqrt_price * hi))
        tb = -(-liquidity * (sqrt_price - lo) >> 128)
    va, vb = token_vault(spec.mint_a, addr), token_vault(spec.mint_b, addr)
    rec = D.MeteoraDammPool(
        base_fee,
        20,
        20,
        5_000 if mode == 2 else 0,
        int(dynamic),
        14_460_000 if dynamic else 0,
        120_000 if dynamic else 0,
        1 if dynamic else 0,
        10 if dynamic else 0,
        120 if dynamic else 0,
        5_000 if dynamic else 0,
        0,
        1_844_674_407_370_955 if dynamic else 0,
        sqrt_price if dynamic else 0,
        0,
        0,
        sqrt_price,
        spec.mint_a,
        spec.mint_b,
        va,
        vb,
        "11111111111111111111111111111111",
        liquidity,
        0,
        0,
        lo,
        hi,
        sqrt_price,
        0,
        0,
        0,
        _flag(world, spec.mint_a),
        _flag(world, spec.mint_b),
        mode,
        0,
        1,
        0,
        sim_key("damm-v2-creator", i),
        ta,
        tb,
        1,
    )
    world.put(addr, PROGRAM, encode_pool(rec))
    spec.pool_id = addr
    spec.reserve_a, spec.reserve_b = ta, tb
    world.vault(va, spec.mint_a, pool_authority(), ta)
    world.vault(vb, spec.mint_b, pool_authority(), tb)
    return Pool(IDS.kind, addr, spec.mint_a, spec.mint_b, va, vb, rec, spec)


def _load(world: World, pool: Pool) -> None:
    """``Program.load``: the pool read back from its account."""
    acc = world.accounts[pool.address]
    pool.record = decode_pool(world.eng, acc.data, acc.owner)
    pool.spec.reserve_a = pool.record.token_a_amount
    pool.spec.reserve_b = pool.record.token_b_amount


def steps(pool: Pool) -> int:
    """A swap's steps in :data:`COMPUTE_UNITS`: the dynamic fee, the compounding curve
    (``COMPOUNDING_STEPS``: the engine's ``quote_steps`` counts these two), each
    Token-2022 side (the live executor's token rule)."""
    rec = pool.record
    curve = COMPOUNDING_STEPS if rec.collect_fee_mode == 2 else 0
    tokens = int(rec.token_a_flag) + int(rec.token_b_flag)
    return int(rec.dynamic_fee_initialized != 0) + curve + tokens


def _cost(pool: Pool, before: int) -> int:
    """The venue's model (:data:`COMPUTE_UNITS`) at the swap's steps."""
    return COMPUTE_UNITS.use(steps(pool))


RUNS = sv.Program(_check, _quote_error, CODES["ExceededSlippage"], _cost, "Swap", _load)
MARKET = sv.Market(lambda world: None, _takes, _create, _swapped, share=0.3, from_kind="cpmm")
CURVE = sv.Curve(_quote, _apply, _price, _depth)
LOGS = sv.Logs(cpi_events=_cpi_events, token_instruction=sv.TRANSFER_CHECKED)
SIM = sv.SimVenue(VENUE, RUNS, MARKET, {POOL_LEN: 8_630_400}, CURVE, LOGS)

"""Raydium CLMM (``CAMMCzo…``), the Anchor concentrated-liquidity pools.

Facts from raydium-io/raydium-clmm (commit 03b44b7): ``programs/amm/src/lib.rs``,
``instructions/swap_v2.rs``, ``states/{pool,config,tick_array,tickarray_bitmap_extension,
oracle}.rs``, ``error.rs``.

- Swap: ``swap_v2``: discriminator ‖ amount u64 ‖ other_amount_threshold u64 ‖
  sqrt_price_limit_x64 u128 ‖ is_base_input bool (41 bytes); 13 accounts (payer
  (signer), amm_config, pool_state, input and output token accounts, input and output
  vaults, observation_state, token_program, token_program_2022, memo_program, input
  and output vault mints), then the remaining accounts: the pool's tick-array bitmap
  extension, then the tick arrays the swap walks, in its direction (the program tells
  them apart by size). The arrays depend on the pool's state now (``fresh_state``).
- Pool account: ``PoolState`` (1,544 bytes) at ``["pool", config, mint_0, mint_1]``
  (mint_0 < mint_1); fee rates in its ``AmmConfig`` (117 bytes, ``["amm_config", index
  u16 BE]``); liquidity in ``TickArrayState`` accounts of 60 ticks (10,240 bytes) at
  ``["tick_array", pool, start i32 BE]``; which arrays exist is in the pool's bitmap (and
  its extension, 1,832 bytes at ``["pool_tick_array_bitmap_extension", pool]``); vaults
  at ``["pool_vault", pool, mint]``, owned by the pool account.
- Log: the ``SwapEvent`` Anchor event (``Program data:``), written before the transfers.
- Errors: ``error.rs`` (Anchor, from 6000).

The simulated market: its configs are the simulator's own (index, tick spacing, trade
fee; the mainnet configs' values are not in the sources: from memory, and only the
spacing/fee pairs matter here). Its program writes what today's program writes on a
swap (judged by a real, older binary in tests/programs/test_raydium_clmm.py): the pool's
price, tick, liquidity, the fee token's fee growth and protocol and fund fees
(``raydium_clmm_swap_ledger``: the engine's per-step split), its epoch; the crossed ticks'
fee growths outside; the ``ObservationState`` (today's layout) when the tick moves; the
``SwapEvent`` of the swap being run (its payer and token accounts).

Compute units (:data:`COMPUTE_UNITS`): measured on that binary, 76,000 and 14,500 for each
initialized tick crossed (a Token-2022 pool one step more). The binary searches the bitmap
extension's PDA on every swap (1,500 units for each bump below 255), which today's
program no longer does (raydium-clmm 695968c): today's use is likely lower.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import weakref
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from solders.instruction import Instruction

from engine_rs import decoded as D

from ..sim.layouts import Writer
from ..sim.state import Pool, sim_key
from ..wire.instructions import (
    MEMO_PROGRAM,
    SPL_TOKEN,
    TOKEN_2022,
    InstructionError,
    Swap,
    account_meta,
    instruction,
    need_accounts,
)
from .base import (
    ANCHOR_CONSTRAINT_ADDRESS,
    ComputeUnits,
    Discoverable,
    InstructionFailed,
    Leg,
    PoolFacts,
    PoolLayout,
    ProgramError,
    SimVenue,
    Venue,
)
from .ids import ids, program

if TYPE_CHECKING:
    from ..sim import synthetic
    from ..sim.world import SwapQuote, World

IDS = ids("raydium_clmm")
PROGRAM = program(IDS)
POOL_LEN = IDS.pool_account_size  # PoolState::LEN, 1,544
CONFIG_LEN = 117  # AmmConfig::LEN
TICK_ARRAY_LEN = 10240  # TickArrayState::LEN
EXTENSION_LEN = 1832  # TickArrayBitmapExtension::LEN
TICK_ARRAY_SIZE = 60  # ticks per tick array
TICK_LEN = 168  # bytes per TickState
MIN_TICK, MAX_TICK = -443_636, 443_636
MIN_SQRT_PRICE_X64 = 4_295_048_016
MAX_SQRT_PRICE_X64 = 79_226_673_521_066_979_257_578_248_091
# Anchor: sha256("account:<Type>")[..8]; PoolState's and AmmConfig's are CP-Swap's too
DISC_POOL = hashlib.sha256(b"account:PoolState").digest()[:8]
DISC_CONFIG = hashlib.sha256(b"account:AmmConfig").digest()[:8]
DISC_TICK_ARRAY = hashlib.sha256(b"account:TickArrayState").digest()[:8]
DISC_BITMAP_EXTENSION = hashlib.sha256(b"account:TickArrayBitmapExtension").digest()[:8]
DISC_SWAP_EVENT = hashlib.sha256(b"event:SwapEvent").digest()[:8]
DISC_OBSERVATION = hashlib.sha256(b"account:ObservationState").digest()[:8]
# ObservationState (states/oracle.rs since 5f96f58, 2024-08): initialized u8 at 8,
# recent_epoch u64 at 9, observation_index u16 at 17, pool_id at 19, then 100
# observations of 44 bytes at 51 (block_timestamp u32, tick_cumulative i64, padding)
OBSERVATION_LEN = 4483  # ObservationState::LEN
OBSERVATION_NUM = 100
OBSERVATION_AT = 51
OBSERVATION_ITEM_LEN = 44
OBSERVATION_UPDATE_DURATION = 15  # seconds between two observations
# TickState (168 bytes from 44 in a TickArrayState): tick i32, liquidity_net i128,
# liquidity_gross u128, fee_growth_outside_0/1 u128, reward_growths_outside [u128; 3]
TICK_FEE_GROWTH_OUTSIDE_0 = 36
SWAP_V2 = hashlib.sha256(b"global:swap_v2").digest()[:8]
SWAP_EVENT_LEN = 221
ERRORS = {
    6000: "NotApproved",
    6009: "InvalidTickArray",
    6011: "SqrtPriceLimitOverflow",
    6016: "LiquidityInsufficient",
    6018: "TooLittleOutputReceived",
    6020: "ZeroAmountSpecified",
    6021: "InvalidInputPoolVault",
    6022: "TooSmallInputOrOutputAmount",
    6023: "NotEnoughTickArrayAccount",
    6024: "InvalidFirstTickArrayAccount",
    6035: "MissingTickArrayBitmapExtensionAccount",
    6036: "InsufficientLiquidityForDirection",
    6037: "MaxTokenOverflow",
    6038: "CalculateOverflow",
    6051: "InvalidTickArrayBitmapExtensionAccount",
}
# the simulator's configs: (index, tick spacing, trade fee rate per 1e6)
SIM_CONFIGS = ((0, 10, 500), (1, 60, 2_500), (2, 120, 10_000))
# compute units of a swap (its instruction, the token programs' CPIs included), measured
# on the program (tests/programs/test_raydium_clmm.py): a step is an initialized tick the
# swap crosses (another step of its loop, the tick's update); a pool with a Token-2022
# mint (the transfer-fee arithmetic, Token-2022's TransferChecked) this many steps more
COMPUTE_UNITS = ComputeUnits(base=76_000, per_step=14_500, max_steps=6, margin=0.3)
TOKEN_2022_STEPS = 1
SWAP_TICK_ARRAYS = 3  # the arrays a built swap names (the first one and the next two)
_ACCOUNTS = (
    "payer",
    "amm_config",
    "pool_state",
    "input_token_account",
    "output_token_account",
    "input_vault",
    "output_vault",
    "observation_state",
    "token_program",
    "token_program_2022",
    "memo_program",
    "input_vault_mint",
    "output_vault_mint",
)


def array_start(tick: int, tick_spacing: int) -> int:
    """The start of the tick array holding ``tick`` (``get_array_start_index``)."""
    n = TICK_ARRAY_SIZE * tick_spacing
    return tick // n * n


def initialized_starts(bitmap: Sequence[int], tick_spacing: int) -> list[int]:
    """The starts of the tick arrays the pool's own bitmap calls initialized (bit ``b``:
    start ``(b - 512) * 60 * tick_spacing``, ``tick_array_bit_map.rs``)."""
    tc = TICK_ARRAY_SIZE * tick_spacing
    return [
        (w * 64 + b - 512) * tc for w, word in enumerate(bitmap) for b in range(64) if word >> b & 1
    ]


def _addr(kind: str, *args: object) -> str:
    import engine_rs

    return str(engine_rs.backend().raydium_clmm_address(kind, *args)[0])


# ------------------------------------------------------------------ the swap instruction
def swap_v2(
    payer: str,
    amm_config: str,
    pool: str,
    source: str,
    dest: str,
    vault_in: str,
    vault_out: str,
    observation: str,
    mint_in: str,
    mint_out: str,
    remaining: Sequence[str],
    amount: int,
    other_amount_threshold: int,
    sqrt_price_limit: int = 0,
) -> Instruction:
    """``swap_v2``, exact input (``sqrt_price_limit`` 0: the program's default, the far
    end of the direction); ``remaining``: the bitmap extension, then the tick arrays."""
    data = SWAP_V2 + struct.pack("<QQ", amount, other_amount_threshold)
    data += sqrt_price_limit.to_bytes(16, "little") + b"\x01"
    return instruction(
        PROGRAM,
        data,
        [
            account_meta(payer, signer=True),
            account_meta(amm_config),
            account_meta(pool, writable=True),
            account_meta(source, writable=True),
            account_meta(dest, writable=True),
            account_meta(vault_in, writable=True),
            account_meta(vault_out, writable=True),
            account_meta(observation, writable=True),
            account_meta(SPL_TOKEN),
            account_meta(TOKEN_2022),
            account_meta(MEMO_PROGRAM),
            account_meta(mint_in),
            account_meta(mint_out),
            *(account_meta(k, writable=True) for k in remaining),
        ],
    )


def swap_array_starts(
    bitmap: Sequence[int],
    tick_spacing: int,
    tick_current: int,
    zero_for_one: bool,
    count: int = SWAP_TICK_ARRAYS,
) -> list[int]:
    """The start indexes of the first ``count`` initialized tick arrays a swap walks (the
    pool's bitmap: the array of the current tick when initialized, then the next ones
    in the swap's direction)."""
    cur = array_start(tick_current, tick_spacing)
    starts = initialized_starts(bitmap, tick_spacing)
    if zero_for_one:
        return sorted((s for s in starts if s <= cur), reverse=True)[:count]
    return sorted(s for s in starts if s >= cur)[:count]


def swap_instruction(leg: Leg) -> Instruction:
    """The hop's ``swap_v2``: its direction from the mints, the tick arrays from the
    pool's bitmap and current tick (``leg.record`` must be fresh)."""
    r = leg.record
    zfo = leg.mint_in == r.token_mint_0
    vin, vout = (r.token_vault_0, r.token_vault_1) if zfo else (r.token_vault_1, r.token_vault_0)
    # the initialized arrays the swap may walk, no more: an account that does not exist
    # ends today's program's reading of its remaining accounts (by size), and the older
    # build refuses it (3007); transaction sizing counts the most a swap names
    # (``sizing_swap``)
    starts = swap_array_starts(r.tick_array_bitmap, r.tick_spacing, r.tick_current, zfo)
    arrays = [_addr("tick_array", leg.pool, s) for s in starts]
    remaining = [_addr("bitmap_extension", leg.pool), *arrays]
    return swap_v2(
        leg.owner,
        r.amm_config,
        leg.pool,
        leg.source,
        leg.dest,
        vin,
        vout,
        r.observation_key,
        leg.mint_in,
        leg.mint_out,
        remaining,
        leg.amount_in,
        leg.minimum_out,
    )


def _placeholder(seed: str) -> str:
    import engine_rs

    return str(engine_rs.backend().b58encode(hashlib.sha256(seed.encode()).digest()))


def sizing_swap(
    payer: str,
    keys: Sequence[str],
    source: str,
    dest: str,
    mint_in: str,
    mint_out: str,
    programs: tuple[str, str] = (SPL_TOKEN, SPL_TOKEN),
) -> Instruction:
    """The swap's shape on placeholder keys: pool, config, vaults, observation, bitmap
    extension and three distinct tick arrays (the third derived from the last key)."""
    remaining = [keys[5], keys[6], keys[7], _placeholder(f"{keys[7]}:tick_array")]
    return swap_v2(
        payer,
        keys[1],
        keys[0],
        source,
        dest,
        keys[2],
        keys[3],
        keys[4],
        mint_in,
        mint_out,
        remaining,
        1,
        1,
    )


def decode_swap(data: bytes, accounts: list[str]) -> Swap:
    """A ``swap_v2`` (exact input only) back as a :class:`Swap` (``InstructionError``
    otherwise); ``tick_arrays`` holds its remaining accounts."""
    if data[:8] != SWAP_V2:
        raise InstructionError("InvalidInstructionData", "raydium clmm: not swap_v2")
    if len(data) < 41:
        raise InstructionError("InvalidInstructionData", f"swap_v2: {len(data)} bytes of data")
    amount, threshold = struct.unpack_from("<QQ", data, 8)
    base_input = data[40]
    if base_input not in (0, 1):
        raise InstructionError("InvalidInstructionData", "swap_v2: bool out of range")
    if not base_input:
        raise InstructionError("InvalidInstructionData", "swap_v2: only exact input is supported")
    need_accounts(accounts, len(_ACCOUNTS), "swap_v2")
    acc = dict(zip(_ACCOUNTS, accounts))
    acc["sqrt_price_limit"] = str(int.from_bytes(data[24:40], "little"))
    return Swap(
        PROGRAM,
        acc["pool_state"],
        amount,
        threshold,
        acc["input_token_account"],
        acc["output_token_account"],
        acc["payer"],
        acc,
        None,
        tuple(accounts[len(_ACCOUNTS) :]),
    )


def decode_pool(eng: Any, data: bytes, owner: str) -> Any:
    """The ``PoolState`` account, decoded by the engine."""
    return eng.decode_raydium_clmm(data, owner)


# ------------------------------------------------------------------ simulator: layouts
def encode_pool(r: Any, base: bytes | None = None) -> bytes:
    """Raydium CLMM ``PoolState`` (1,544 bytes): the decoded fields at their offsets
    (rewards and the dynamic fee left as they are: zero for a new pool)."""
    w = Writer(POOL_LEN, base, DISC_POOL)
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
    w.u64(309, r.protocol_fees_token_0)
    w.u64(317, r.protocol_fees_token_1)
    w.u8(389, r.status)
    w.u8(390, r.fee_on)
    for i, word in enumerate(r.tick_array_bitmap):
        w.u64(904 + 8 * i, word)
    w.u64(1064, r.fund_fees_token_0)
    w.u64(1072, r.fund_fees_token_1)
    w.u64(1080, r.open_time)
    w.u64(1088, r.recent_epoch)
    return w.done()


def encode_amm_config(r: Any) -> bytes:
    """Raydium CLMM ``AmmConfig`` (117 bytes)."""
    w = Writer(CONFIG_LEN, None, DISC_CONFIG)
    w.u8(8, r.bump)
    w.u16(9, r.index)
    w.key(11, r.owner)
    for off, v in ((43, r.protocol_fee_rate), (47, r.trade_fee_rate), (53, r.fund_fee_rate)):
        w.buf[off : off + 4] = v.to_bytes(4, "little")
    w.u16(51, r.tick_spacing)
    w.key(61, r.fund_owner)
    return w.done()


def encode_tick_array(
    start: int, pool: str, ticks: Sequence[tuple[int, int, int]], tick_spacing: int
) -> bytes:
    """A ``TickArrayState`` (10,240 bytes); ``ticks``: the initialized ones as ``(tick,
    liquidity_net, liquidity_gross)`` within the array."""
    w = Writer(TICK_ARRAY_LEN, None, DISC_TICK_ARRAY)
    w.key(8, pool)
    w.i32(40, start)
    for t, net, gross in ticks:
        i = (t - start) // tick_spacing
        if not 0 <= i < TICK_ARRAY_SIZE:
            raise ValueError(f"tick {t} is not in the array at {start}")
        off = 44 + TICK_LEN * i
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
    w = Writer(EXTENSION_LEN, None, DISC_BITMAP_EXTENSION)
    w.key(8, pool)
    tc = TICK_ARRAY_SIZE * tick_spacing
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
    w = Writer(OBSERVATION_LEN, None, DISC_OBSERVATION)
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
    at = OBSERVATION_AT + OBSERVATION_ITEM_LEN * index
    if not buf[8]:
        buf[8] = 1
        struct.pack_into("<Iq", buf, at, block_timestamp, 0)
        return bytes(buf)
    last_time, last_cumulative = struct.unpack_from("<Iq", buf, at)
    delta = max(0, block_timestamp - last_time)
    if delta < OBSERVATION_UPDATE_DURATION:
        return bytes(buf)
    step = max(-(1 << 63), min((1 << 63) - 1, tick * delta))
    cumulative = (last_cumulative + step + (1 << 63)) % (1 << 64) - (1 << 63)
    index = 0 if index == OBSERVATION_NUM - 1 else index + 1
    struct.pack_into(
        "<Iq", buf, OBSERVATION_AT + OBSERVATION_ITEM_LEN * index, block_timestamp, cumulative
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
    return base64.b64encode(DISC_SWAP_EVENT + body).decode()


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
    starts = sorted({array_start(t, ts) for t in ticks})
    cur = array_start(s.tick_current, ts)
    price = world.eng.raydium_clmm_sqrt_price_at_tick
    if zfo:
        on = tick_after + 1  # a crossing going down leaves the tick one below it
        if sqrt_after is not None and on in ticks and price(on) == sqrt_after:
            last: int | None = on
        else:
            last = max((t for t in ticks if t <= tick_after), default=None)
        lo = -(1 << 40) if last is None else array_start(last, ts)
        return sorted((x for x in starts if lo <= x <= cur), reverse=True)
    if sqrt_after is not None and tick_after in ticks and price(tick_after) == sqrt_after:
        last = tick_after
    else:
        last = min((t for t in ticks if t > tick_after), default=None)
    hi = 1 << 40 if last is None else array_start(last, ts)
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
        raise ProgramError(6021)  # InvalidInputPoolVault
    if int(acc["sqrt_price_limit"]) != 0:
        raise InstructionFailed("InvalidArgument", "the simulator takes no price limit")
    if s.amount_in == 0:
        raise ProgramError(6020)  # ZeroAmountSpecified
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
            after = (MIN_TICK - 1 if zfo else MAX_TICK + 1, None)
    if after is not None:
        starts = _needed_arrays(world, pool, zfo, *after)
        needed = [_addr("tick_array", pool.address, x) for x in starts]
        it = iter(arrays)
        if not all(any(k == w for k in it) for w in needed):  # popped in order, as it walks
            raise ProgramError(6023)  # NotEnoughTickArrayAccount
    return zfo


_QUOTE_ERRORS = (
    ("InsufficientLiquidityForDirection", 6036),
    ("LiquidityInsufficient", 6016),
    ("TooSmallInputOrOutputAmount", 6022),
    ("MaxTokenOverflow", 6037),
    ("SqrtPriceLimitOverflow", 6011),
    ("ZeroAmountSpecified", 6020),
    ("NotApproved", 6000),
)


def _quote_error(text: str) -> int:
    """The program's code for the engine's error text (its error name first)."""
    return next((code for name, code in _QUOTE_ERRORS if name in text), 6038)


def crossed_ticks(
    ticks: Sequence[tuple[int, int]], tick_before: int, tick_after: int, zero_for_one: bool
) -> list[int]:
    """The initialized ticks a swap from ``tick_before`` to ``tick_after`` crossed, in
    its order (going down a crossed tick leaves the current tick one below it)."""
    if zero_for_one:
        return sorted((t for t, _ in ticks if tick_after < t <= tick_before), reverse=True)
    return sorted(t for t, _ in ticks if tick_before < t <= tick_after)


def swap_steps(pool: Pool, tick_before: int) -> int:
    """The steps of :data:`COMPUTE_UNITS` a swap from ``tick_before`` to the pool's tick
    now took: the initialized ticks it crossed, and the Token-2022 surcharge of a pool
    with such a mint."""
    s = pool.spec
    crossed = crossed_ticks(s.ticks, tick_before, s.tick_current, s.tick_current < tick_before)
    t22 = isinstance(s.state, dict) and s.state.get("token_2022", False)
    return len(crossed) + (TOKEN_2022_STEPS if t22 else 0)


def _cost(pool: Pool, tick_before: int) -> int:
    """A swap's compute units: the model's use for the steps it took."""
    return COMPUTE_UNITS.use(swap_steps(pool, tick_before))


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

    addr, bump = engine_rs.backend().raydium_clmm_address("amm_config", index)
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
    world.put(str(addr), PROGRAM, encode_amm_config(cfg))
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
    configs = world.venue_state[IDS.name]
    configs[index] = _config(
        world, index, tick_spacing, trade_fee_rate, protocol_fee_rate, fund_fee_rate
    )
    return configs[index]  # type: ignore[no-any-return]


def config_of(world: World, pool: Pool) -> Any:
    """The ``AmmConfig`` (decoded record) of ``pool``."""
    address = pool.record.amm_config
    return next(cfg for addr, cfg in world.venue_state[IDS.name].values() if addr == address)


def _setup(world: World) -> dict[int, tuple[str, Any]]:
    """The configs the pools share, at their PDAs: index -> (address, config)."""
    return {index: _config(world, index, ts, rate) for index, ts, rate in SIM_CONFIGS}


def _takes(spec: synthetic.PoolSpec) -> bool:
    return spec.venue == IDS.name


def _bitmap(starts: Sequence[int], tick_spacing: int) -> tuple[int, ...]:
    words = [0] * 16
    tc = TICK_ARRAY_SIZE * tick_spacing
    for s in starts:
        bit = s // tc + 512
        if 0 <= bit < 1024:
            words[bit // 64] |= 1 << (bit % 64)
    return tuple(words)


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
    configs = world.venue_state[IDS.name]
    order = sorted(configs, key=lambda k: (abs(configs[k][1].trade_fee_rate - spec.fee_rate), k))
    for index in order:
        config, cfg = configs[index]
        addr, _ = eng.raydium_clmm_address("pool", config, spec.mint_a, spec.mint_b)
        if str(addr) not in world.accounts:
            break
    else:
        best = configs[order[0]][1]
        index = max(configs) + 1
        configs[index] = _config(world, index, best.tick_spacing, best.trade_fee_rate)
        config, cfg = configs[index]
    ts = cfg.tick_spacing
    spec.tick_spacing, spec.fee_rate = ts, cfg.trade_fee_rate
    lo_p, hi_p = MIN_SQRT_PRICE_X64, MAX_SQRT_PRICE_X64 - 1
    spec.sqrt_price_x64 = min(max(spec.sqrt_price_x64, lo_p), hi_p)
    spec.tick_current = eng.raydium_clmm_tick_at_sqrt_price(spec.sqrt_price_x64)
    cur = spec.tick_current // ts
    bound = MAX_TICK // ts * ts
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
    addr_, bump = eng.raydium_clmm_address("pool", config, spec.mint_a, spec.mint_b)
    addr = str(addr_)
    spec.pool_id = addr
    edges: dict[int, int] = {}
    gross: dict[int, int] = {}
    for lo, hi, liq in positions:
        for t, net in ((lo, liq), (hi, -liq)):
            edges[t] = edges.get(t, 0) + net
            gross[t] = gross.get(t, 0) + liq
    bound = MAX_TICK // ts * ts
    if any(t % ts or not -bound <= t <= bound for t in edges):
        raise ValueError("position ticks must be multiples of the spacing within the range")
    # a tick stays initialized while a position references it (gross > 0)
    ticks = sorted((t, n) for t, n in edges.items() if gross[t])
    spec.ticks = ticks
    spec.liquidity = sum(n for t, n in ticks if t <= spec.tick_current)
    programs = (world.token_programs.get(spec.mint_a), world.token_programs.get(spec.mint_b))
    spec.state = {"token_2022": TOKEN_2022 in programs}  # and the last swap's (``_apply``)
    va = str(eng.raydium_clmm_address("vault", addr, spec.mint_a)[0])
    vb = str(eng.raydium_clmm_address("vault", addr, spec.mint_b)[0])
    observation = str(eng.raydium_clmm_address("observation", addr)[0])
    if vaults is None:
        a, b = position_amounts(eng, positions, spec.sqrt_price_x64, spec.tick_current)
        vaults = (a + 1, b + 1)
    arrays: dict[int, list[tuple[int, int, int]]] = {}
    for t, n in ticks:
        arrays.setdefault(array_start(t, ts), []).append((t, n, gross[t]))
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
    world.put(addr, PROGRAM, encode_pool(rec))
    # the program's vaults carry ImmutableOwner (``create_token_vault_account``)
    world.vault(va, spec.mint_a, addr, vaults[0], immutable_owner=True)
    world.vault(vb, spec.mint_b, addr, vaults[1], immutable_owner=True)
    extension = encode_bitmap_extension(addr, list(arrays), ts)
    world.put(_addr("bitmap_extension", addr), PROGRAM, extension)
    world.put(observation, PROGRAM, encode_observation(addr, world.epoch()))
    names = []
    for start in sorted(arrays):
        ta = _addr("tick_array", addr, start)
        world.put(ta, PROGRAM, encode_tick_array(start, addr, arrays[start], ts))
        names.append(ta)
    return Pool(IDS.kind, addr, spec.mint_a, spec.mint_b, va, vb, rec, spec, tick_arrays=names)


def position_amounts(
    eng: Any, positions: Sequence[tuple[int, int, int]], sqrt_price: int, tick: int
) -> tuple[int, int]:
    """The tokens (0, 1) ``positions`` hold at ``sqrt_price``, each rounded up
    (``liquidity_math::get_delta_amounts_signed`` of a deposit)."""
    a = b = 0
    for lo, hi, liq in positions:
        pl = eng.raydium_clmm_sqrt_price_at_tick(lo)
        pu = eng.raydium_clmm_sqrt_price_at_tick(hi)
        lo_a = pl if tick < lo else pu if tick >= hi else sqrt_price
        if pu > lo_a:  # 0: L * (pu - p) * 2^64 / (p * pu), up
            a += -(-(liq * (pu - lo_a) << 64) // (lo_a * pu))
        hi_b = pl if tick < lo else pu if tick >= hi else sqrt_price
        if hi_b > pl:  # 1: L * (p - pl) / 2^64, up
            b += -(-liq * (hi_b - pl) >> 64)
    return a, b


def _quote(world: World, pool: Pool, a_to_b: bool, amount: int) -> SwapQuote | None:
    """The program's exact-input swap on the pool's state (the engine's kernel, with its
    config's fee bookkeeping: what the program writes; a partial fill at the price limit
    takes less input, as the program does)."""
    from ..sim.world import SwapQuote

    s = pool.spec
    cfg = config_of(world, pool)
    res, *ledger = world.eng.raydium_clmm_swap_ledger(
        s.sqrt_price_x64,
        s.liquidity,
        s.tick_current,
        s.tick_spacing,
        s.fee_rate,
        pool.record.fee_on,
        cfg.protocol_fee_rate,
        cfg.fund_fee_rate,
        s.ticks,
        amount,
        a_to_b,
    )
    return SwapQuote(
        res.amount_in,
        res.amount_out,
        res.sqrt_price_x64,
        res.tick_current,
        res.liquidity,
        after=(res.fee_amount, tuple(ledger)),
    )


def _apply(world: World, pool: Pool, a_to_b: bool, q: SwapQuote, kept: int) -> None:
    s = pool.spec
    s.sqrt_price_x64, s.tick_current, s.liquidity = q.sqrt_price, q.tick, q.liquidity
    if not isinstance(s.state, dict):
        s.state = {}
    s.state["swap"] = q.after


def _price(pool: Pool) -> float:
    return float((pool.spec.sqrt_price_x64 / 2**64) ** 2)


def _depth(pool: Pool, a_to_b: bool) -> float:
    s = pool.spec
    sqrt = s.sqrt_price_x64 / 2**64
    return float(s.liquidity / sqrt if a_to_b else s.liquidity * sqrt)


def fee_on_token_0(fee_on: int, zero_for_one: bool) -> bool:
    """``PoolState::is_fee_on_token0``: the fee is on token 0 (``fee_on`` 1), token 1
    (2), or the input (0)."""
    return fee_on == 1 or (fee_on == 0 and zero_for_one)


def _cross(world: World, pool: Pool, tick: int, growth_0: int, growth_1: int) -> None:
    """``TickState::cross`` on the tick's bytes in its tick array: each fee growth
    outside becomes the global one less itself (wrapping). Its reward growths would
    too, for an initialized reward: the market's pools have none."""
    ts = pool.spec.tick_spacing
    start = array_start(tick, ts)
    address = _addr("tick_array", pool.address, start)
    acc = world.accounts[address]
    buf = bytearray(acc.data)
    off = 44 + TICK_LEN * ((tick - start) // ts) + TICK_FEE_GROWTH_OUTSIDE_0
    for at, glob in ((off, growth_0), (off + 16, growth_1)):
        v = (glob - int.from_bytes(buf[at : at + 16], "little")) % (1 << 128)
        buf[at : at + 16] = v.to_bytes(16, "little")
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


def _follow(eng: Any, pool: str, rec: Any, each_side: int) -> list[tuple[str, int]]:
    """The initialized tick arrays nearest the current tick (the pool's bitmap): the
    current tick's and ``each_side`` more each way, at their PDAs."""
    ts = rec.tick_spacing
    cur = array_start(rec.tick_current, ts)
    starts = initialized_starts(rec.tick_array_bitmap, ts)
    below = sorted((s for s in starts if s <= cur), reverse=True)[: each_side + 1]
    above = sorted(s for s in starts if s > cur)[:each_side]
    return [
        (str(eng.raydium_clmm_address("tick_array", pool, s)[0]), s) for s in sorted(below + above)
    ]


def _price_of(r: Any) -> float | None:
    sp = r.sqrt_price_x64
    return None if sp <= 0 else float((sp / 2**64) ** 2)


DISCOVERY = Discoverable(
    "Raydium CLMM",
    # token_mint_0 73 / token_mint_1 105 of 1,544 bytes (states/pool.rs); create_pool
    # requires token_mint_0 < token_mint_1
    PoolLayout(73, 105, discriminator=DISC_POOL, ordered=True),
    lambda r: PoolFacts(
        r.token_mint_0,
        r.token_mint_1,
        r.token_vault_0,
        r.token_vault_1,
        0.0,
        r.mint_decimals_0,
        r.mint_decimals_1,
    ),
    config=lambda r: str(r.amm_config),
    fee_of_config=lambda eng, data, owner: (
        eng.decode_raydium_clmm_config(data, owner).trade_fee_rate / 1e6
    ),
    # the vaults less the protocol's and the fund's fees they hold
    reserves=lambda r, a, b: (
        a - r.protocol_fees_token_0 - r.fund_fees_token_0,
        b - r.protocol_fees_token_1 - r.fund_fees_token_1,
    ),
    price=_price_of,
)


def _load(world: World, pool: Pool) -> None:
    """``SimVenue.load``: the pool read back from its accounts: ``PoolState`` (price,
    tick, liquidity, spacing), its ``AmmConfig``'s trade fee, the initialized ticks
    (liquidity gross above 0) of its tick arrays (the Python program keeps no fees
    apart: ``fees_a``/``fees_b`` are left as they are)."""
    acc = world.accounts[pool.address]
    r = decode_pool(world.eng, acc.data, acc.owner)
    pool.record = r
    s = pool.spec
    s.sqrt_price_x64, s.tick_current = int(r.sqrt_price_x64), int(r.tick_current)
    s.liquidity, s.tick_spacing = int(r.liquidity), int(r.tick_spacing)
    cfg = world.accounts[r.amm_config]
    s.fee_rate = int(world.eng.decode_raydium_clmm_config(cfg.data, cfg.owner).trade_fee_rate)
    ticks: list[tuple[int, int]] = []
    for ta in pool.tick_arrays:
        data = world.accounts[ta].data if ta in world.accounts else b""
        if len(data) != TICK_ARRAY_LEN:
            continue
        for i in range(TICK_ARRAY_SIZE):
            off = 44 + TICK_LEN * i
            if int.from_bytes(data[off + 20 : off + 36], "little"):
                tick = int.from_bytes(data[off : off + 4], "little", signed=True)
                ticks.append(
                    (tick, int.from_bytes(data[off + 4 : off + 20], "little", signed=True))
                )
    s.ticks = sorted(ticks)


VENUE = Venue(
    ids=IDS,
    decode_pool=decode_pool,
    swap_instruction=swap_instruction,
    sizing_swap=sizing_swap,
    decode_swap=decode_swap,
    errors=ERRORS,
    slippage_error=6018,  # TooLittleOutputReceived
    compute_units=COMPUTE_UNITS,
    fresh_state=True,
    anchor=True,
    sim=SimVenue(
        load=_load,
        check=_check,
        quote_error=_quote_error,
        no_output_error=6022,  # TooSmallInputOrOutputAmount
        cost=_cost,
        instruction_name="SwapV2",
        setup=_setup,
        takes=_takes,
        create=_create,
        swapped=_swapped,
        state_in_pool_account=True,
        token_instruction="TransferChecked",
        log_after_transfers=False,
        rent={
            POOL_LEN: 11_637_120,
            TICK_ARRAY_LEN: 72_161_280,
            CONFIG_LEN: 1_705_200,
            EXTENSION_LEN: 13_641_600,
            OBSERVATION_LEN: 32_092_560,
        },
        quote=_quote,
        apply=_apply,
        price=_price,
        depth=_depth,
        share=0.5,
        from_kind="clmm",
    ),
    follow=_follow,
    absent=lambda start, pool: None,  # the program reads only arrays its bitmap names
    discovery=DISCOVERY,
)

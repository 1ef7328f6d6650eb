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
spacing/fee pairs matter here); the observation account is named, not written.
"""

from __future__ import annotations

import base64
import hashlib
import struct
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
CU_BASE = 60_000
CU_PER_TICK_ARRAY = 12_000
SWAP_TICK_ARRAYS = 3  # the arrays a built swap names (the first one and the next two)
_ACCOUNTS = ("payer", "amm_config", "pool_state", "input_token_account",
             "output_token_account", "input_vault", "output_vault", "observation_state",
             "token_program", "token_program_2022", "memo_program", "input_vault_mint",
             "output_vault_mint")  # fmt: skip


def array_start(tick: int, tick_spacing: int) -> int:
    """The start of the tick array holding ``tick`` (``get_array_start_index``)."""
    n = TICK_ARRAY_SIZE * tick_spacing
    return tick // n * n


def initialized_starts(bitmap: Sequence[int], tick_spacing: int) -> list[int]:
    """The starts of the tick arrays the pool's own bitmap calls initialized (bit ``b``:
    start ``(b - 512) * 60 * tick_spacing``, ``tick_array_bit_map.rs``)."""
    tc = TICK_ARRAY_SIZE * tick_spacing
    return [(w * 64 + b - 512) * tc for w, word in enumerate(bitmap) for b in range(64)
            if word >> b & 1]  # fmt: skip


def _addr(kind: str, *args: object) -> str:
    import engine_rs

    return str(engine_rs.backend().raydium_clmm_address(kind, *args)[0])


# ------------------------------------------------------------------ the swap instruction
def swap_v2(
    payer: str, amm_config: str, pool: str, source: str, dest: str, vault_in: str,
    vault_out: str, observation: str, mint_in: str, mint_out: str, remaining: Sequence[str],
    amount: int, other_amount_threshold: int, sqrt_price_limit: int = 0,
) -> Instruction:  # fmt: skip
    """``swap_v2``, exact input (``sqrt_price_limit`` 0: the program's default, the far
    end of the direction); ``remaining``: the bitmap extension, then the tick arrays."""
    data = SWAP_V2 + struct.pack("<QQ", amount, other_amount_threshold)
    data += sqrt_price_limit.to_bytes(16, "little") + b"\x01"
    return instruction(PROGRAM, data, [
        account_meta(payer, signer=True), account_meta(amm_config),
        account_meta(pool, writable=True), account_meta(source, writable=True),
        account_meta(dest, writable=True), account_meta(vault_in, writable=True),
        account_meta(vault_out, writable=True), account_meta(observation, writable=True),
        account_meta(SPL_TOKEN), account_meta(TOKEN_2022), account_meta(MEMO_PROGRAM),
        account_meta(mint_in), account_meta(mint_out),
        *(account_meta(k, writable=True) for k in remaining),
    ])  # fmt: skip


def swap_array_starts(
    bitmap: Sequence[int], tick_spacing: int, tick_current: int, zero_for_one: bool,
    count: int = SWAP_TICK_ARRAYS,
) -> list[int]:  # fmt: skip
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
    starts = swap_array_starts(r.tick_array_bitmap, r.tick_spacing, r.tick_current, zfo)
    # fewer initialized arrays than the shape names: the next starts on, accounts that do
    # not exist (the program stops reading its remaining accounts at the first account
    # that is not a tick array or the extension, by size), so every swap has one shape
    step = TICK_ARRAY_SIZE * r.tick_spacing * (-1 if zfo else 1)
    last = starts[-1] if starts else array_start(r.tick_current, r.tick_spacing)
    while len(starts) < SWAP_TICK_ARRAYS:
        last += step
        starts.append(last)
    arrays = [_addr("tick_array", leg.pool, s) for s in starts]
    remaining = [_addr("bitmap_extension", leg.pool), *arrays]
    return swap_v2(leg.owner, r.amm_config, leg.pool, leg.source, leg.dest, vin, vout,
                   r.observation_key, leg.mint_in, leg.mint_out, remaining, leg.amount_in,
                   leg.minimum_out)  # fmt: skip


def _placeholder(seed: str) -> str:
    import engine_rs

    return str(engine_rs.backend().b58encode(hashlib.sha256(seed.encode()).digest()))


def sizing_swap(
    payer: str, keys: Sequence[str], source: str, dest: str, mint_in: str, mint_out: str,
    programs: tuple[str, str] = (SPL_TOKEN, SPL_TOKEN),
) -> Instruction:  # fmt: skip
    """The swap's shape on placeholder keys: pool, config, vaults, observation, bitmap
    extension and three distinct tick arrays (the third derived from the last key)."""
    remaining = [keys[5], keys[6], keys[7], _placeholder(f"{keys[7]}:tick_array")]
    return swap_v2(payer, keys[1], keys[0], source, dest, keys[2], keys[3], keys[4], mint_in,
                   mint_out, remaining, 1, 1)  # fmt: skip


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
    return Swap(PROGRAM, acc["pool_state"], amount, threshold, acc["input_token_account"],
                acc["output_token_account"], acc["payer"], acc, None,
                tuple(accounts[len(_ACCOUNTS):]))  # fmt: skip


def decode_pool(eng: Any, data: bytes, owner: str) -> Any:
    """The ``PoolState`` account, decoded by the engine."""
    return eng.decode_raydium_clmm(data, owner)


# ------------------------------------------------------------------ simulator: layouts
def encode_pool(r: Any, base: bytes | None = None) -> bytes:
    """Raydium CLMM ``PoolState`` (1,544 bytes): the decoded fields at their offsets
    (rewards and the dynamic fee left as they are: zero for a new pool)."""
    w = Writer(POOL_LEN, base, DISC_POOL)
    w.u8(8, r.bump)
    for i, k in enumerate((r.amm_config, r.owner, r.token_mint_0, r.token_mint_1,
                           r.token_vault_0, r.token_vault_1, r.observation_key)):  # fmt: skip
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


def encode_bitmap_extension(pool: str) -> bytes:
    """An empty ``TickArrayBitmapExtension`` (1,832 bytes), as ``create_pool`` makes it."""
    w = Writer(EXTENSION_LEN, None, DISC_BITMAP_EXTENSION)
    w.key(8, pool)
    return w.done()


def _key_bytes(key: str) -> bytes:
    import engine_rs

    return bytes(engine_rs.backend().b58decode(key))


def encode_swap_event(ev: Any) -> str:
    """The base64 of a ``SwapEvent`` (221 bytes, with ``trade_fee_0/1``)."""
    body = b"".join(_key_bytes(k) for k in (ev.pool_state, ev.sender, ev.token_account_0,
                                             ev.token_account_1))  # fmt: skip
    body += struct.pack("<QQQQ?", ev.amount_0, ev.transfer_fee_0, ev.amount_1,
                        ev.transfer_fee_1, ev.zero_for_one)  # fmt: skip
    body += ev.sqrt_price_x64.to_bytes(16, "little") + ev.liquidity.to_bytes(16, "little")
    body += struct.pack("<iQQ", ev.tick, ev.trade_fee_0 or 0, ev.trade_fee_1 or 0)
    return base64.b64encode(DISC_SWAP_EVENT + body).decode()


# ------------------------------------------------------------------ simulator: program
def _ticks_of(pool: Pool) -> list[tuple[int, int]]:
    return list(pool.spec.ticks)


def _needed_arrays(pool: Pool, zfo: bool, tick_after: int) -> list[int]:
    """The initialized arrays (their starts) a swap from the pool's state to
    ``tick_after`` walks, in order."""
    s = pool.spec
    ts = s.tick_spacing
    starts = sorted({array_start(t, ts) for t, _ in s.ticks})
    cur, end = array_start(s.tick_current, ts), array_start(tick_after, ts)
    if zfo:
        out = sorted((x for x in starts if end <= x <= cur), reverse=True)
        first = [x for x in starts if x <= cur]
    else:
        out = sorted(x for x in starts if cur <= x <= end)
        first = [x for x in starts if x >= cur]
    if not out and first:  # the first initialized array in the direction is always read
        out = [max(first) if zfo else min(first)]
    return out


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
    ext = _addr("bitmap_extension", pool.address)
    arrays = [k for k in s.tick_arrays if k != ext]
    # the arrays the swap walks: with what reaches the vault (less a fee mint's fee)
    q = world.quote_swap(pool, zfo, s.amount_in - world.transfer_fee(tin.mint, s.amount_in))
    if q is not None:
        needed = [_addr("tick_array", pool.address, x) for x in _needed_arrays(pool, zfo, q.tick)]
        it = iter(arrays)
        if not all(any(k == w for k in it) for w in needed):  # popped in order, as it walks
            raise ProgramError(6023)  # NotEnoughTickArrayAccount
    return zfo


_QUOTE_ERRORS = (
    ("InsufficientLiquidityForDirection", 6036), ("LiquidityInsufficient", 6016),
    ("TooSmallInputOrOutputAmount", 6022), ("MaxTokenOverflow", 6037),
    ("SqrtPriceLimitOverflow", 6011), ("ZeroAmountSpecified", 6020), ("NotApproved", 6000),
)  # fmt: skip


def _quote_error(text: str) -> int:
    """The program's code for the engine's error text (its error name first)."""
    return next((code for name, code in _QUOTE_ERRORS if name in text), 6038)


def _cost(pool: Pool, tick_before: int) -> int:
    """A swap's compute units: a base, and more for every tick array it moved into."""
    size = TICK_ARRAY_SIZE * pool.spec.tick_spacing
    return CU_BASE + CU_PER_TICK_ARRAY * abs(pool.spec.tick_current // size - tick_before // size)


# ------------------------------------------------------------------ simulator: market
def _config(world: World, index: int, ts: int, rate: int) -> tuple[str, Any]:
    """An ``AmmConfig`` at its PDA (written to the world)."""
    import engine_rs

    addr, bump = engine_rs.backend().raydium_clmm_address("amm_config", index)
    cfg = D.RaydiumClmmConfig(bump, index, sim_key("clmm-owner", 0), 120_000, rate, ts,
                              40_000, sim_key("clmm-owner", 1))  # fmt: skip
    world.put(str(addr), PROGRAM, encode_amm_config(cfg))
    return str(addr), cfg


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
    when the spec's are not), its vaults, its bitmap extension, and tick arrays holding a
    few nested positions around the price."""
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
        addr, bump = eng.raydium_clmm_address("pool", config, spec.mint_a, spec.mint_b)
        if str(addr) not in world.accounts:
            break
    else:
        best = configs[order[0]][1]
        index = max(configs) + 1
        configs[index] = _config(world, index, best.tick_spacing, best.trade_fee_rate)
        config, cfg = configs[index]
        addr, bump = eng.raydium_clmm_address("pool", config, spec.mint_a, spec.mint_b)
    addr = str(addr)
    ts = cfg.tick_spacing
    spec.tick_spacing, spec.fee_rate = ts, cfg.trade_fee_rate
    lo_p, hi_p = MIN_SQRT_PRICE_X64, MAX_SQRT_PRICE_X64 - 1
    spec.sqrt_price_x64 = min(max(spec.sqrt_price_x64, lo_p), hi_p)
    spec.tick_current = eng.raydium_clmm_tick_at_sqrt_price(spec.sqrt_price_x64)
    spec.pool_id = addr
    cur = spec.tick_current // ts
    edges: dict[int, int] = {}
    for _ in range(3):
        lo = (cur - r.randint(8, 150)) * ts
        hi = (cur + r.randint(8, 150)) * ts
        liq = max(spec.liquidity // 3, 1)
        edges[lo] = edges.get(lo, 0) + liq
        edges[hi] = edges.get(hi, 0) - liq
    bound = MAX_TICK // ts * ts
    ticks = sorted((t, n) for t, n in edges.items() if -bound <= t <= bound and n)
    spec.ticks = ticks
    spec.liquidity = sum(n for t, n in ticks if t <= spec.tick_current)
    spec.state = {"fee": 0}
    va = str(eng.raydium_clmm_address("vault", addr, spec.mint_a)[0])
    vb = str(eng.raydium_clmm_address("vault", addr, spec.mint_b)[0])
    observation = str(eng.raydium_clmm_address("observation", addr)[0])
    sqrt = spec.sqrt_price_x64 / 2**64
    amount_a = max(1, int(spec.liquidity / sqrt))
    amount_b = max(1, int(spec.liquidity * sqrt))
    arrays: dict[int, list[tuple[int, int, int]]] = {}
    gross: dict[int, int] = {}
    for t, n in ticks:
        gross[t] = gross.get(t, 0) + abs(n)
    for t, n in ticks:
        arrays.setdefault(array_start(t, ts), []).append((t, n, gross[t]))
    rec = D.RaydiumClmmPool(
        bump, config, sim_key("clmm-creator", i), spec.mint_a, spec.mint_b, va, vb, observation,
        world.decimals[spec.mint_a], world.decimals[spec.mint_b], ts, spec.liquidity,
        spec.sqrt_price_x64, spec.tick_current, 0, 0, 0, 0, 0, 0, _bitmap(list(arrays), ts),
        0, 0, 0, 0, False,
    )  # fmt: skip
    world.put(addr, PROGRAM, encode_pool(rec))
    # the program's vaults carry ImmutableOwner (``create_token_vault_account``)
    world.vault(va, spec.mint_a, addr, amount_a, immutable_owner=True)
    world.vault(vb, spec.mint_b, addr, amount_b, immutable_owner=True)
    world.put(_addr("bitmap_extension", addr), PROGRAM, encode_bitmap_extension(addr))
    names = []
    for start in sorted(arrays):
        ta = _addr("tick_array", addr, start)
        world.put(ta, PROGRAM, encode_tick_array(start, addr, arrays[start], ts))
        names.append(ta)
    return Pool(IDS.kind, addr, spec.mint_a, spec.mint_b, va, vb, rec, spec,
                tick_arrays=names)  # fmt: skip


def _quote(world: World, pool: Pool, a_to_b: bool, amount: int) -> SwapQuote | None:
    """The program's exact-input swap on the pool's state (the engine's kernel; a partial
    fill at the price limit takes less input, as the program does)."""
    from ..sim.world import SwapQuote

    s = pool.spec
    res = world.eng.raydium_clmm_swap(
        s.sqrt_price_x64, s.liquidity, s.tick_current, s.tick_spacing, s.fee_rate,
        pool.record.fee_on, s.ticks, amount, a_to_b,
    )  # fmt: skip
    return SwapQuote(res.amount_in, res.amount_out, res.sqrt_price_x64, res.tick_current,
                     res.liquidity, after=res.fee_amount)  # fmt: skip


def _apply(world: World, pool: Pool, a_to_b: bool, q: SwapQuote, kept: int) -> None:
    s = pool.spec
    s.sqrt_price_x64, s.tick_current, s.liquidity = q.sqrt_price, q.tick, q.liquidity
    s.state = {"fee": int(q.after or 0)}


def _price(pool: Pool) -> float:
    return float((pool.spec.sqrt_price_x64 / 2**64) ** 2)


def _depth(pool: Pool, a_to_b: bool) -> float:
    s = pool.spec
    sqrt = s.sqrt_price_x64 / 2**64
    return float(s.liquidity / sqrt if a_to_b else s.liquidity * sqrt)


def _swapped(world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> str:
    """The trade's ``SwapEvent``; the pool account takes the new price, tick and
    liquidity."""
    s = pool.spec
    fee = int((s.state or {}).get("fee", 0))
    fee_on_0 = a_to_b if pool.record.fee_on == 0 else pool.record.fee_on == 1
    ev = D.RaydiumClmmSwapEvent(
        pool.address, sim_key("clmm-trader", 0), sim_key("clmm-trader", 1),
        sim_key("clmm-trader", 2), paid_in if a_to_b else out, 0, out if a_to_b else paid_in, 0,
        a_to_b, s.sqrt_price_x64, s.liquidity, s.tick_current,
        fee if fee_on_0 else 0, 0 if fee_on_0 else fee,
    )  # fmt: skip
    pool.record = replace(pool.record, sqrt_price_x64=s.sqrt_price_x64,
                          tick_current=s.tick_current, liquidity=s.liquidity)  # fmt: skip
    world.accounts[pool.address].data = encode_pool(pool.record, world.accounts[pool.address].data)
    return "Program data: " + encode_swap_event(ev)


def _follow(eng: Any, pool: str, rec: Any, each_side: int) -> list[tuple[str, int]]:
    """The initialized tick arrays nearest the current tick (the pool's bitmap): the
    current tick's and ``each_side`` more each way, at their PDAs."""
    ts = rec.tick_spacing
    cur = array_start(rec.tick_current, ts)
    starts = initialized_starts(rec.tick_array_bitmap, ts)
    below = sorted((s for s in starts if s <= cur), reverse=True)[: each_side + 1]
    above = sorted(s for s in starts if s > cur)[:each_side]
    return [(str(eng.raydium_clmm_address("tick_array", pool, s)[0]), s)
            for s in sorted(below + above)]  # fmt: skip


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
    compute_units=ComputeUnits(180_000),
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

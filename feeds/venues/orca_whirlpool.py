"""Orca Whirlpool (``whirLbM…``), the Anchor concentrated-liquidity pools.

- Swap: ``swap`` (spec §2.6): discriminator ‖ amount ‖ other_amount_threshold ‖
  sqrt_price_limit u128 ‖ amount_specified_is_input ‖ a_to_b (42 bytes); 11 accounts
  (token program, authority (signer), whirlpool, owner account a, vault a, owner
  account b, vault b, tick arrays 0..2, oracle). The three tick arrays are the ones the
  program walks from the current tick in the swap's direction, so a swap is built from
  the pool's state now (:data:`VENUE`'s ``fresh_state``).
- ``swap_v2`` (``instructions/v2/swap.rs``) for a pool with a Token-2022 mint (``swap``
  names its token accounts as SPL Token's: a Token-2022 account fails Anchor's owner
  check, 3007): the same arguments then ``remaining_accounts_info``
  (``Option<RemainingAccountsInfo>``, None here: no transfer-hook accounts, no
  supplemental tick arrays; 43 bytes); 15 accounts (token programs a and b — each its
  mint's owner —, the memo program, authority, whirlpool, mints a and b, owner account
  a, vault a, owner account b, vault b, tick arrays 0..2, oracle). The input's transfer
  fee comes off before the swap, the output's after it, and the minimum is checked
  against what the owner receives (``swap_with_transfer_fee_extension``).
- Pool account: ``Whirlpool`` (653 bytes, spec §2.2); liquidity lives in fixed
  ``TickArray`` accounts of 88 ticks (9,988 bytes, spec §2.3) at PDAs of the pool.
- Log: the ``Traded`` Anchor event (spec §6.2).
- Errors: whirlpool ``errors.rs`` (Anchor, from 6000), and Anchor's constraint errors.

The simulator's program writes what the program writes on a swap (judged by its binary
in tests/programs/test_whirlpool.py; orca-so/whirlpools ``manager/swap_manager.rs``,
``state/whirlpool.rs``): the price, tick and liquidity, the input side's fee growth and
protocol fee owed, the rewards' growths and their update time, and each crossed tick's
fee and reward growths outside; its ``Traded`` event carries the LP and protocol fees.

Compute units (:data:`COMPUTE_UNITS`, measured on the binary): 57,000 and 6,800 for each
initialized tick crossed; a Token-2022 pool's ``swap_v2`` three steps more. A pool's
addresses move it by 1,500 for each attempt of the PDA searches the program makes on
every swap (its oracle; each required tick array that does not exist) beyond the first:
within the margin for all but unlucky bumps.
"""

from __future__ import annotations

import base64
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
    pdas,
)
from .base import (
    ANCHOR_CONSTRAINT_ADDRESS,
    ANCHOR_CONSTRAINT_SEEDS,
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

IDS = ids("orca_whirlpool")
PROGRAM = program(IDS)
POOL_LEN = IDS.pool_account_size
FIXED_TICK_ARRAY_LEN = 9988
TICK_ARRAY_SIZE = 88  # ticks per tick array
TICK_LEN = 113  # bytes per tick in a fixed tick array
MIN_TICK_INDEX = -443_636
MAX_TICK_INDEX = 443_636
MIN_SQRT_PRICE_X64 = 4_295_048_016
MAX_SQRT_PRICE_X64 = 79_226_673_515_401_279_992_447_579_055
DISC_WHIRLPOOL = bytes.fromhex("3f95d10ce1806309")  # Anchor: sha256("account:Whirlpool")[..8]
DISC_FIXED_TICK_ARRAY = bytes.fromhex("4561bdbe6e0742bb")  # sha256("account:TickArray")[..8]
DISC_TRADED = bytes.fromhex("e1ca49af932ba096")  # sha256("event:Traded")[..8]
SWAP = bytes([248, 198, 158, 145, 225, 117, 135, 200])  # sha256("global:swap")[..8]
SWAP_V2 = bytes([43, 4, 237, 11, 26, 201, 30, 98])  # sha256("global:swap_v2")[..8], spec §2.6
# Anchor's account errors: an account owned by another program than its type's, a
# program account that is not the program its type names
ANCHOR_ACCOUNT_OWNED_BY_WRONG_PROGRAM = 3007
ANCHOR_INVALID_PROGRAM_ID = 3008
WHIRLPOOLS_CONFIG = "2LecshUwdy9xi7meFgHtFJQNSKk4KdTrcpvaB56dP2NQ"  # mainnet config
ERRORS = {
    6006: "DivideByZero",
    6008: "NumberDownCastError",
    6011: "SqrtPriceOutOfBounds",
    6014: "LiquidityOverflow",
    6015: "LiquidityUnderflow",
    6017: "TokenMaxExceeded",
    6018: "TokenMinSubceeded",
    6023: "InvalidTickArraySequence",
    6030: "MultiplicationShiftRightOverflow",
    6031: "MulDivOverflow",
    6033: "MultiplicationOverflow",
    6034: "InvalidSqrtPriceLimitDirection",
    6035: "ZeroTradableAmount",
    6036: "AmountOutBelowMinimum",
    6038: "TickArraySequenceInvalidIndex",
    6039: "AmountCalcOverflow",
    6040: "AmountRemainingOverflow",
    6057: "PartialFillError",
}
# compute units of a swap (its instruction, the token programs' CPIs included), measured
# on the real program (tests/programs/test_whirlpool.py): a step is an initialized tick
# crossed (its tick update, another step of the swap loop); a pool with a Token-2022 mint
# swaps by ``swap_v2`` (the mints, the memo program, TransferChecked and the transfer-fee
# arithmetic), about this many steps more
COMPUTE_UNITS = ComputeUnits(base=57_000, per_step=6_800, max_steps=8, margin=0.4)
TOKEN_2022_STEPS = 3
_ACCOUNTS = (
    "token_program",
    "token_authority",
    "whirlpool",
    "token_owner_account_a",
    "token_vault_a",
    "token_owner_account_b",
    "token_vault_b",
    "tick_array_0",
    "tick_array_1",
    "tick_array_2",
    "oracle",
)
_ACCOUNTS_V2 = (
    "token_program_a",
    "token_program_b",
    "memo_program",
    "token_authority",
    "whirlpool",
    "token_mint_a",
    "token_mint_b",
    "token_owner_account_a",
    "token_vault_a",
    "token_owner_account_b",
    "token_vault_b",
    "tick_array_0",
    "tick_array_1",
    "tick_array_2",
    "oracle",
)


# ------------------------------------------------------------------ the swap instruction
def swap(
    authority: str,
    whirlpool: str,
    owner_a: str,
    vault_a: str,
    owner_b: str,
    vault_b: str,
    tick_arrays: list[str],
    oracle: str,
    amount: int,
    other_amount_threshold: int,
    a_to_b: bool,
    exact_in: bool = True,
    sqrt_price_limit: int = 0,
) -> Instruction:
    """Whirlpool ``swap`` (spec §2.6); ``sqrt_price_limit`` 0: the far end of the
    direction (the program's own default)."""
    if len(tick_arrays) != 3:
        raise ValueError("a Whirlpool swap takes exactly 3 tick arrays")
    if sqrt_price_limit == 0:
        sqrt_price_limit = MIN_SQRT_PRICE_X64 if a_to_b else MAX_SQRT_PRICE_X64
    data = SWAP + struct.pack("<QQ", amount, other_amount_threshold)
    data += sqrt_price_limit.to_bytes(16, "little") + bytes([int(exact_in), int(a_to_b)])
    return instruction(
        PROGRAM,
        data,
        [
            account_meta(SPL_TOKEN),
            account_meta(authority, signer=True),
            account_meta(whirlpool, writable=True),
            account_meta(owner_a, writable=True),
            account_meta(vault_a, writable=True),
            account_meta(owner_b, writable=True),
            account_meta(vault_b, writable=True),
            *(account_meta(t, writable=True) for t in tick_arrays),
            account_meta(oracle, writable=True),
        ],
    )


def swap_v2(
    authority: str,
    whirlpool: str,
    mint_a: str,
    mint_b: str,
    program_a: str,
    program_b: str,
    owner_a: str,
    vault_a: str,
    owner_b: str,
    vault_b: str,
    tick_arrays: list[str],
    oracle: str,
    amount: int,
    other_amount_threshold: int,
    a_to_b: bool,
    exact_in: bool = True,
    sqrt_price_limit: int = 0,
) -> Instruction:
    """Whirlpool ``swap_v2`` (the module doc): no remaining accounts."""
    if len(tick_arrays) != 3:
        raise ValueError("a Whirlpool swap takes exactly 3 tick arrays")
    if sqrt_price_limit == 0:
        sqrt_price_limit = MIN_SQRT_PRICE_X64 if a_to_b else MAX_SQRT_PRICE_X64
    data = SWAP_V2 + struct.pack("<QQ", amount, other_amount_threshold)
    data += sqrt_price_limit.to_bytes(16, "little") + bytes([int(exact_in), int(a_to_b), 0])
    return instruction(
        PROGRAM,
        data,
        [
            account_meta(program_a),
            account_meta(program_b),
            account_meta(MEMO_PROGRAM),
            account_meta(authority, signer=True),
            account_meta(whirlpool, writable=True),
            account_meta(mint_a),
            account_meta(mint_b),
            account_meta(owner_a, writable=True),
            account_meta(vault_a, writable=True),
            account_meta(owner_b, writable=True),
            account_meta(vault_b, writable=True),
            *(account_meta(t, writable=True) for t in tick_arrays),
            account_meta(oracle, writable=True),
        ],
    )


def is_valid_start_tick(start: int, size: int) -> bool:
    """Whether ``start`` can begin a tick array of ``size`` ticks (the program's rule:
    a multiple of ``size`` within the price range, or the one array holding MIN_TICK)."""
    if not MIN_TICK_INDEX <= start <= MAX_TICK_INDEX:
        if start > MIN_TICK_INDEX:
            return False
        # Rust's % truncates toward zero: MIN % size is <= 0
        rem = -(-MIN_TICK_INDEX % size)
        return start == MIN_TICK_INDEX - (rem + size)
    return start % size == 0


def swap_tick_array_starts(tick_spacing: int, tick_current: int, a_to_b: bool) -> list[int]:
    """The start indices of the (up to 3) tick arrays a swap loads, in order: the array
    holding the current tick (for b->a, the next one when the tick sits in the last
    ``tick_spacing`` ticks of its array), then further in the swap's direction; starts
    past the price range are left out (the engine's ``clmm_swap`` follows the same rule)."""
    size = TICK_ARRAY_SIZE * tick_spacing
    base = tick_current // size * size
    first = base + size if not a_to_b and tick_current + tick_spacing >= base + size else base
    step = -size if a_to_b else size
    out = []
    for k in range(3):
        s = first + k * step
        if not is_valid_start_tick(s, size):
            break
        out.append(s)
    return out


def swap_tick_arrays(
    whirlpool: str, tick_spacing: int, tick_current: int, a_to_b: bool
) -> list[str]:
    """The 3 tick-array accounts of a Whirlpool swap (the last repeated when fewer exist)."""
    starts = swap_tick_array_starts(tick_spacing, tick_current, a_to_b)
    if not starts:
        raise ValueError(f"no tick array holds tick {tick_current} (spacing {tick_spacing})")
    cache = pdas()
    keys = [str(cache.tick_array(whirlpool, s)[0]) for s in starts]
    return (keys + [keys[-1]] * 3)[:3]


def oracle(whirlpool: str) -> str:
    """A Whirlpool's oracle account (PDA ``["oracle", whirlpool]``, spec §2.4)."""
    return str(pdas().oracle(whirlpool)[0])


def swap_instruction(leg: Leg) -> Instruction:
    """The hop's ``swap`` (``swap_v2`` when a mint of the pool is Token-2022's): its
    direction from the mints, the tick arrays from the pool's current tick
    (``leg.record`` must be fresh), the oracle by PDA."""
    r = leg.record
    a_to_b = leg.mint_in == r.token_mint_a
    arrays = swap_tick_arrays(leg.pool, r.tick_spacing, r.tick_current_index, a_to_b)
    owner_a, owner_b = (leg.source, leg.dest) if a_to_b else (leg.dest, leg.source)
    pa = leg.token_programs.get(r.token_mint_a, SPL_TOKEN)
    pb = leg.token_programs.get(r.token_mint_b, SPL_TOKEN)
    if TOKEN_2022 in (pa, pb):
        return swap_v2(
            leg.owner,
            leg.pool,
            r.token_mint_a,
            r.token_mint_b,
            pa,
            pb,
            owner_a,
            r.token_vault_a,
            owner_b,
            r.token_vault_b,
            arrays,
            oracle(leg.pool),
            leg.amount_in,
            leg.minimum_out,
            a_to_b,
        )
    return swap(
        leg.owner,
        leg.pool,
        owner_a,
        r.token_vault_a,
        owner_b,
        r.token_vault_b,
        arrays,
        oracle(leg.pool),
        leg.amount_in,
        leg.minimum_out,
        a_to_b,
    )


def sizing_swap(
    payer: str,
    keys: Sequence[str],
    source: str,
    dest: str,
    mint_in: str,
    mint_out: str,
    programs: tuple[str, str] = (SPL_TOKEN, SPL_TOKEN),
) -> Instruction:
    """The swap's shape on placeholder keys (pool, vaults, three distinct tick arrays,
    oracle: an upper bound when the arrays repeat at the end of the price range);
    ``swap_v2`` when ``programs`` (of mint_in, mint_out) has Token-2022."""
    if TOKEN_2022 in programs:
        return swap_v2(
            payer,
            keys[0],
            mint_in,
            mint_out,
            programs[0],
            programs[1],
            source,
            keys[1],
            dest,
            keys[2],
            [keys[3], keys[4], keys[5]],
            keys[6],
            1,
            1,
            True,
        )
    return swap(
        payer,
        keys[0],
        source,
        keys[1],
        dest,
        keys[2],
        [keys[3], keys[4], keys[5]],
        keys[6],
        1,
        1,
        True,
    )


def decode_swap(data: bytes, accounts: list[str]) -> Swap:
    """A ``swap`` or ``swap_v2`` (exact input only) back as a :class:`Swap`
    (``InstructionError`` otherwise)."""
    v2 = data[:8] == SWAP_V2
    if data[:8] != SWAP and not v2:
        raise InstructionError("InvalidInstructionData", "whirlpool: not swap")
    what = "swap_v2" if v2 else "swap"
    if len(data) < 42 + v2:
        raise InstructionError("InvalidInstructionData", f"{what}: {len(data)} bytes of data")
    amount, threshold = struct.unpack_from("<QQ", data, 8)
    exact_in, a_to_b = data[40], data[41]
    if exact_in not in (0, 1) or a_to_b not in (0, 1):
        raise InstructionError("InvalidInstructionData", f"{what}: bool out of range")
    if v2 and data[42:] != b"\x00":  # remaining_accounts_info: None is all the simulator takes
        raise InstructionError(
            "InvalidInstructionData",
            "swap_v2: remaining accounts (transfer hooks, supplemental "
            "tick arrays) are not simulated",
        )
    if not exact_in:
        raise InstructionError("InvalidInstructionData", f"{what}: only exact input is supported")
    names = _ACCOUNTS_V2 if v2 else _ACCOUNTS
    need_accounts(accounts, len(names), what)
    acc = dict(zip(names, accounts))
    acc["sqrt_price_limit"] = str(int.from_bytes(data[24:40], "little"))
    src, dst = (
        ("token_owner_account_a", "token_owner_account_b")
        if a_to_b
        else ("token_owner_account_b", "token_owner_account_a")
    )
    return Swap(
        PROGRAM,
        acc["whirlpool"],
        amount,
        threshold,
        acc[src],
        acc[dst],
        acc["token_authority"],
        acc,
        bool(a_to_b),
        (acc["tick_array_0"], acc["tick_array_1"], acc["tick_array_2"]),
        name="SwapV2" if v2 else "",
    )


def decode_pool(eng: Any, data: bytes, owner: str) -> Any:
    """The ``Whirlpool`` account, decoded by the engine."""
    return eng.decode_whirlpool(data, owner)


# ------------------------------------------------------------------ simulator: layouts
def encode_pool(r: Any, base: bytes | None = None) -> bytes:
    """Orca ``Whirlpool`` (653 bytes, spec §2.2)."""
    w = Writer(POOL_LEN, base, DISC_WHIRLPOOL)
    w.key(8, r.whirlpools_config)
    w.u8(40, r.whirlpool_bump)
    for off, v in (
        (41, r.tick_spacing),
        (43, r.fee_tier_index_seed),
        (45, r.fee_rate),
        (47, r.protocol_fee_rate),
    ):
        w.u16(off, v)
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


def encode_fixed_tick_array(
    start_tick_index: int,
    whirlpool: str,
    ticks: list[tuple[int, int, int]],
    base: bytes | None = None,
) -> bytes:
    """A fixed ``TickArray`` (9,988 bytes, spec §2.3); ``ticks`` are the initialized ones
    as ``(i, liquidity_net, liquidity_gross)`` with ``0 <= i < 88``; the others are
    written uninitialized (net and gross zero)."""
    w = Writer(FIXED_TICK_ARRAY_LEN, base, DISC_FIXED_TICK_ARRAY)
    w.i32(8, start_tick_index)
    init = {i: (net, gross) for i, net, gross in ticks}
    if any(not 0 <= i < TICK_ARRAY_SIZE for i in init):
        raise ValueError("tick offsets must be in [0, 88)")
    for i in range(TICK_ARRAY_SIZE):
        off = 12 + TICK_LEN * i
        net, gross = init.get(i, (0, 0))
        w.u8(off, 1 if i in init else 0)
        w.i128(off + 1, net)
        w.u128(off + 17, gross)
    w.key(9956, whirlpool)
    return w.done()


def encode_traded(r: Any) -> str:
    """The base64 of a Whirlpool ``Traded`` Anchor event (spec §6.2, 121 bytes)."""
    w = Writer(121, None, DISC_TRADED)
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
    if int(acc["sqrt_price_limit"]) not in (MIN_SQRT_PRICE_X64, MAX_SQRT_PRICE_X64):
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


def swap_steps(pool: Pool, tick_before: int) -> int:
    """The steps of :data:`COMPUTE_UNITS` a swap from ``tick_before`` to the pool's tick
    now took: the initialized ticks it crossed (a swap down leaves the tick below the
    last one crossed, so the direction shows in the ticks), and the Token-2022 surcharge
    of a pool with such a mint."""
    s = pool.spec
    crossed = crossed_ticks(s.ticks, tick_before, s.tick_current, s.tick_current < tick_before)
    t22 = isinstance(s.state, dict) and s.state.get("token_2022", False)
    return len(crossed) + (TOKEN_2022_STEPS if t22 else 0)


def _cost(pool: Pool, tick_before: int) -> int:
    """A swap's compute units: the model's use for the steps it took."""
    return COMPUTE_UNITS.use(swap_steps(pool, tick_before))


# ------------------------------------------------------------------ simulator: market
def _takes(spec: synthetic.PoolSpec) -> bool:
    """Every synthetic concentrated-liquidity pool becomes one."""
    return spec.kind == IDS.graph_kind and not spec.venue


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
    eng = world.eng
    ts = spec.tick_spacing
    # the address is the PDA of (config, mints, fee tier index): a second pool of the
    # same pair and spacing takes another index, as adaptive-fee tiers do (spec §2.4):
    # the spacing plus a multiple of 1024, then any free index (a u16)
    tiers = [*range(ts, 1 << 16, 1024), *range(1 << 16)]
    for fee_tier in tiers:
        addr, bump = eng.whirlpool_address(WHIRLPOOLS_CONFIG, spec.mint_a, spec.mint_b, fee_tier)
        if addr not in world.accounts:
            break
    spec.pool_id = addr
    width = TICK_ARRAY_SIZE * ts
    edges: dict[int, int] = {}
    gross: dict[int, int] = {}
    for lo, hi, liq in positions:
        for t, net in ((lo, liq), (hi, -liq)):
            edges[t] = edges.get(t, 0) + net
            gross[t] = gross.get(t, 0) + liq
    hi_bound = MAX_TICK_INDEX // ts * ts  # the range is symmetric: -hi_bound is the lowest
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
        vaults = position_amounts(eng, positions, sqrt, spec.tick_current)
    rec = D.Whirlpool(
        WHIRLPOOLS_CONFIG,
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
    world.put(addr, PROGRAM, encode_pool(rec))
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
    current = eng.tick_array_starts(ts, spec.tick_current, 0)
    for start in sorted(set(arrays) | set(current)):
        ta, _ = eng.tick_array_address(addr, start)
        world.put(ta, PROGRAM, encode_fixed_tick_array(start, addr, arrays.get(start, [])))
        names.append(ta)
    return Pool(IDS.kind, addr, spec.mint_a, spec.mint_b, va, vb, rec, spec, tick_arrays=names)


def position_amounts(
    eng: Any, positions: Sequence[tuple[int, int, int]], sqrt_price: int, tick: int
) -> tuple[int, int]:
    """The tokens (a, b) ``positions`` hold at ``sqrt_price``, each rounded up as the
    program's deposits are (``try_get_amount_delta_a/b`` with ``round_up``)."""
    a = b = 0
    for lo, hi, liq in positions:
        pl, pu = eng.sqrt_price_from_tick(lo), eng.sqrt_price_from_tick(hi)
        if tick < lo:
            pa, pb = pl, pu
        elif tick >= hi:
            pa = pb = pu
        else:
            pa, pb = sqrt_price, pu
        if pb > pa:  # a: L * (pb - pa) * 2^64 / (pa * pb), up
            a += -(-(liq * (pb - pa) << 64) // (pa * pb))
        lo_b, hi_b = (pl, pl) if tick < lo else (pl, pu) if tick >= hi else (pl, sqrt_price)
        if hi_b > lo_b:  # b: L * (hi - lo) / 2^64, up
            b += -(-liq * (hi_b - lo_b) >> 64)
    return a, b


def _quote(world: World, pool: Pool, a_to_b: bool, amount: int) -> SwapQuote | None:
    """The program's exact-input swap on the pool's state (the engine's kernel, with the
    pool's protocol fee rate: the split the program writes). A swap giving nothing is
    still one the program runs (an input the fee takes whole: it keeps the fee and the
    time, pays 0), so it is quoted, not refused."""
    from ..sim.world import SwapQuote

    s = pool.spec
    res = world.eng.clmm_swap(
        s.sqrt_price_x64,
        s.liquidity,
        s.tick_current,
        s.tick_spacing,
        s.fee_rate,
        s.ticks,
        amount,
        a_to_b,
        protocol_fee_rate=pool.record.protocol_fee_rate,
    )
    return SwapQuote(
        res.amount_in,
        res.amount_out,
        res.sqrt_price_x64,
        res.tick_current,
        res.liquidity,
        after=(amount, res),
    )


def _pool_price(pool: Pool) -> float:
    """Units of b per unit of a at the pool's price."""
    return float((pool.spec.sqrt_price_x64 / 2**64) ** 2)


def _depth(pool: Pool, a_to_b: bool) -> float:
    """The input side's virtual reserve at the price (the traders' sizes)."""
    s = pool.spec
    sqrt = s.sqrt_price_x64 / 2**64
    return float(s.liquidity / sqrt if a_to_b else s.liquidity * sqrt)


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


def crossed_ticks(
    ticks: Sequence[tuple[int, int]], tick_before: int, tick_after: int, a_to_b: bool
) -> list[int]:
    """The initialized ticks a swap from ``tick_before`` to ``tick_after`` crossed, in
    its order: going down (a to b) those in ``(after, before]`` (a crossed tick leaves
    the current tick one below it), going up those in ``(before, after]``."""
    if a_to_b:
        return sorted((t for t, _ in ticks if tick_after < t <= tick_before), reverse=True)
    return sorted(t for t, _ in ticks if tick_before < t <= tick_after)


def _growth_at(world: World, pool: Pool, a_to_b: bool, amount: int, tick: int) -> int:
    """The fee growth (this swap's part, wrapping) at the moment it crosses ``tick``: the
    same swap stopped at that tick's price runs the same steps up to it, the crossing one
    included (the program's ``calculate_update`` uses the growth after that step)."""
    r = pool.record
    limit = world.eng.sqrt_price_from_tick(tick)
    if limit == r.sqrt_price:  # crossed where the price stands: a step of nothing
        return 0
    s = pool.spec
    res = world.eng.clmm_swap(
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
    width = TICK_ARRAY_SIZE * ts
    start = tick // width * width
    address = str(world.eng.tick_array_address(pool.address, start)[0])
    acc = world.accounts[address]
    buf = bytearray(acc.data)
    off = 12 + TICK_LEN * ((tick - start) // ts)
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


def _follow(eng: Any, pool: str, rec: Any, each_side: int) -> list[tuple[str, int]]:
    """The fixed tick arrays around the pool's current tick, at their PDAs."""
    starts = eng.tick_array_starts(rec.tick_spacing, rec.tick_current_index, each_side)
    return [(eng.tick_array_address(pool, start)[0], start) for start in starts]


def _absent(start: int, pool: str) -> tuple[str, bytes]:
    """An array nobody initialized reads as a zeroed one (orca-so/whirlpools
    ``SparseSwapTickSequenceBuilder``: an account of the system program with no data is a
    ``TickArray`` with every tick uninitialized)."""
    return PROGRAM, encode_fixed_tick_array(start, pool, [])


def _price(r: Any) -> float | None:
    sp = r.sqrt_price
    return None if sp <= 0 else float((sp / 2**64) ** 2)


DISCOVERY = Discoverable(
    "Orca Whirlpool",
    # token_mint_a 101 / token_mint_b 181 of 653 bytes (spec §2.2); mint_a < mint_b
    PoolLayout(101, 181, discriminator=DISC_WHIRLPOOL, ordered=True),
    # the static fee; an adaptive-fee pool adds a volatility part on top (spec §2.2)
    lambda r: PoolFacts(
        r.token_mint_a, r.token_mint_b, r.token_vault_a, r.token_vault_b, r.fee_rate / 1_000_000
    ),
    price=_price,
)


def _load(world: World, pool: Pool) -> None:
    """``SimVenue.load``: the pool read back from its accounts: the ``Whirlpool`` (price,
    tick, liquidity, spacing, fee) and the initialized ticks of its tick arrays (the
    Python program keeps no fees apart: ``fees_a``/``fees_b`` are left as they are)."""
    from dataclasses import fields

    acc = world.accounts[pool.address]
    r = decode_pool(world.eng, acc.data, acc.owner)
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
        if len(data) != FIXED_TICK_ARRAY_LEN:
            continue
        start = int.from_bytes(data[8:12], "little", signed=True)
        for i in range(TICK_ARRAY_SIZE):
            off = 12 + TICK_LEN * i
            if data[off]:
                net = int.from_bytes(data[off + 1 : off + 17], "little", signed=True)
                ticks.append((start + i * s.tick_spacing, net))
    s.ticks = sorted(ticks)


VENUE = Venue(
    ids=IDS,
    decode_pool=decode_pool,
    swap_instruction=swap_instruction,
    sizing_swap=sizing_swap,
    decode_swap=decode_swap,
    errors=ERRORS,
    slippage_error=6036,  # AmountOutBelowMinimum
    compute_units=COMPUTE_UNITS,
    fresh_state=True,
    anchor=True,
    sim=SimVenue(
        load=_load,
        check=_check,
        quote_error=_quote_error,
        no_output_error=6035,  # ZeroTradableAmount
        cost=_cost,
        instruction_name="Swap",
        setup=lambda world: None,
        takes=_takes,
        create=_create,
        swapped=_swapped,
        state_in_pool_account=True,
        log_after_transfers=True,
        quote=_quote,
        apply=_apply,
        price=_pool_price,
        depth=_depth,
        rent={POOL_LEN: 5_435_760, FIXED_TICK_ARRAY_LEN: 70_407_360},
    ),
    follow=_follow,
    absent=_absent,
    discovery=DISCOVERY,
)

"""Orca Whirlpool's swap instructions (``swap``, ``swap_v2``: see the package's
docstring): builders, the accounts a swap names (the three tick arrays it walks from the
pool's current tick, the oracle), the sizing shape and the decoder."""

from __future__ import annotations

import struct
from typing import Any

from solders.instruction import Instruction

from ...wire import instructions as wire
from ...wire.instructions import MEMO_PROGRAM, SPL_TOKEN, TOKEN_2022, InstructionError, Swap
from ..base import Leg, Sizing
from .layout import MAX_SQRT_PRICE_X64, MIN_SQRT_PRICE_X64, PROGRAM, swap_tick_array_starts

SWAP = bytes([248, 198, 158, 145, 225, 117, 135, 200])  # sha256("global:swap")[..8]
SWAP_V2 = bytes([43, 4, 237, 11, 26, 201, 30, 98])  # sha256("global:swap_v2")[..8], spec §2.6
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
    *_ACCOUNTS[3:],  # the owners' accounts and vaults, the tick arrays, the oracle
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
    v2: tuple[tuple[str, str], tuple[str, str]] | None = None,
) -> Instruction:
    """Whirlpool ``swap`` (spec §2.6); ``sqrt_price_limit`` 0: the far end of the
    direction (the program's own default). ``v2``: the pool's mints (a, b) and their
    token programs, for ``swap_v2`` (the module doc) with no remaining accounts."""
    if len(tick_arrays) != 3:
        raise ValueError("a Whirlpool swap takes exactly 3 tick arrays")
    if sqrt_price_limit == 0:
        sqrt_price_limit = MIN_SQRT_PRICE_X64 if a_to_b else MAX_SQRT_PRICE_X64
    data = (SWAP if v2 is None else SWAP_V2) + struct.pack("<QQ", amount, other_amount_threshold)
    data += sqrt_price_limit.to_bytes(16, "little") + bytes([int(exact_in), int(a_to_b)])
    users = (owner_a, vault_a, owner_b, vault_b, *tick_arrays, oracle)
    if v2 is None:
        signer = [wire.account_meta(SPL_TOKEN), wire.account_meta(authority, signer=True)]
        return wire.instruction(PROGRAM, data, [*signer, *wire.writable(whirlpool, *users)])
    mints, programs = v2
    metas = [
        *wire.readonly(*programs, MEMO_PROGRAM),
        wire.account_meta(authority, signer=True),
        wire.account_meta(whirlpool, writable=True),
        *wire.readonly(*mints),
        *wire.writable(*users),
    ]
    return wire.instruction(PROGRAM, data + bytes(1), metas)  # RemainingAccountsInfo: none


def swap_tick_arrays(
    whirlpool: str, tick_spacing: int, tick_current: int, a_to_b: bool
) -> list[str]:
    """The 3 tick-array accounts of a Whirlpool swap (the last repeated when fewer exist)."""
    starts = swap_tick_array_starts(tick_spacing, tick_current, a_to_b)
    if not starts:
        raise ValueError(f"no tick array holds tick {tick_current} (spacing {tick_spacing})")
    cache = wire.pdas()
    keys = [str(cache.tick_array(whirlpool, s)[0]) for s in starts]
    return (keys + [keys[-1]] * 3)[:3]


def oracle(whirlpool: str) -> str:
    """A Whirlpool's oracle account (PDA ``["oracle", whirlpool]``, spec §2.4)."""
    return str(wire.pdas().oracle(whirlpool)[0])


def swap_key(r: Any, mint_in: str) -> tuple[Any, ...]:
    """What of the pool's state :func:`swap_instruction` reads besides the amounts
    (``Venue.swap_key``): the direction, mints and vaults, and the tick arrays' starts."""
    a_to_b = mint_in == r.token_mint_a
    starts = swap_tick_array_starts(r.tick_spacing, r.tick_current_index, a_to_b)
    return (a_to_b, r.token_mint_a, r.token_mint_b, r.token_vault_a, r.token_vault_b, *starts)


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
    v2 = ((r.token_mint_a, r.token_mint_b), (pa, pb)) if TOKEN_2022 in (pa, pb) else None
    users = (owner_a, r.token_vault_a, owner_b, r.token_vault_b)
    amounts = (leg.amount_in, leg.minimum_out)
    return swap(leg.owner, leg.pool, *users, arrays, oracle(leg.pool), *amounts, a_to_b, v2=v2)


def sizing_swap(s: Sizing) -> Instruction:
    """The swap's shape on placeholder keys (pool, vaults, three distinct tick arrays,
    oracle: an upper bound when the arrays repeat at the end of the price range);
    ``swap_v2`` when ``programs`` (of mint_in, mint_out) has Token-2022."""
    k = s.keys
    v2 = (s.mints, s.programs) if TOKEN_2022 in s.programs else None
    users = (s.source, k[1], s.dest, k[2])
    return swap(s.payer, k[0], *users, [k[3], k[4], k[5]], k[6], 1, 1, True, v2=v2)


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
    acc = wire.named_accounts(accounts, names, what)
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

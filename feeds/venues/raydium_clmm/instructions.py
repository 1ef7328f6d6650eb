"""Raydium CLMM's swap instruction (``swap_v2``: see the package's docstring): the
builder, the tick arrays a swap names (the pool's bitmap from its current tick), the
sizing shape and the decoder."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from typing import Any

from solders.instruction import Instruction

from ...wire import instructions as wire
from ...wire.instructions import MEMO_PROGRAM, SPL_TOKEN, TOKEN_2022, InstructionError, Swap
from ..base import Leg, Sizing
from .layout import PROGRAM, _addr, array_start, initialized_starts

SWAP_V2 = hashlib.sha256(b"global:swap_v2").digest()[:8]
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
    return wire.instruction(
        PROGRAM,
        data,
        [
            wire.account_meta(payer, signer=True),
            wire.account_meta(amm_config),
            *wire.writable(pool, source, dest, vault_in, vault_out, observation),
            *wire.readonly(SPL_TOKEN, TOKEN_2022, MEMO_PROGRAM, mint_in, mint_out),
            *wire.writable(*remaining),
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


def swap_key(r: Any, mint_in: str) -> tuple[Any, ...]:
    """What of the pool's state :func:`swap_instruction` reads besides the amounts
    (``Venue.swap_key``): the direction, its config, vaults and observation, and the
    tick arrays' starts."""
    zfo = mint_in == r.token_mint_0
    starts = swap_array_starts(r.tick_array_bitmap, r.tick_spacing, r.tick_current, zfo)
    return (
        zfo,
        r.token_mint_0,
        r.amm_config,
        r.token_vault_0,
        r.token_vault_1,
        r.observation_key,
        *starts,
    )


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
    accounts = (r.amm_config, leg.pool, *leg.users, vin, vout, r.observation_key)
    return swap_v2(leg.owner, *accounts, *leg.mints, remaining, *leg.amounts)


def _placeholder(seed: str) -> str:
    import engine_rs

    return str(engine_rs.backend().b58encode(hashlib.sha256(seed.encode()).digest()))


def sizing_swap(s: Sizing) -> Instruction:
    """The swap's shape on placeholder keys: pool, config, vaults, observation, bitmap
    extension and three distinct tick arrays (the third derived from the last key)."""
    k = s.keys
    remaining = [k[5], k[6], k[7], _placeholder(f"{k[7]}:tick_array")]
    return swap_v2(s.payer, k[1], k[0], *s.users, k[2], k[3], k[4], *s.mints, remaining, 1, 1)


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
    acc = wire.named_accounts(accounts, _ACCOUNTS, "swap_v2")
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

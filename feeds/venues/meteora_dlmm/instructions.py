"""Meteora DLMM's swap instructions (``swap``, ``swap2``: see the package's docstring):
builders, the bin arrays a swap names (the pair's bitmap from its active bin), the
sizing shape and the decoder."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import partial
from typing import Any

from solders.instruction import Instruction

from ...wire import instructions as wire
from ...wire.instructions import MEMO_PROGRAM, SPL_TOKEN, TOKEN_2022, InstructionError, Swap
from ..base import Leg, Sizing
from .layout import BINS_PER_ARRAY, PROGRAM, bin_array_address, event_authority, next_array

SWAP = bytes([248, 198, 158, 145, 225, 117, 135, 200])  # sha256("global:swap")[..8]
SWAP2 = bytes([65, 75, 63, 76, 235, 91, 91, 136])  # sha256("global:swap2")[..8] (idls/dlmm.json)
SWAP_ARRAYS = 3  # bin arrays a built swap names (the SDK's examples take 3 a side)
_ACCOUNTS = (
    "lb_pair",
    "bin_array_bitmap_extension",
    "reserve_x",
    "reserve_y",
    "user_token_in",
    "user_token_out",
    "token_x_mint",
    "token_y_mint",
    "oracle",
    "host_fee_in",
    "user",
    "token_x_program",
    "token_y_program",
    "event_authority",
    "program",
)
_ACCOUNTS_2 = (*_ACCOUNTS[:13], "memo_program", *_ACCOUNTS[13:])  # swap2: the memo program


def swap_array_indexes(rec: Any, swap_for_y: bool, count: int = SWAP_ARRAYS) -> list[int]:
    """The bin arrays a swap walks, in order (at most ``count``): from the active bin's
    array in the swap's direction, those the pair's bitmap marks."""
    out: list[int] = []
    start = rec.active_id // BINS_PER_ARRAY
    while len(out) < count:
        found = next_array(rec.bin_array_bitmap, start, swap_for_y)
        if found is None:
            break
        out.append(found)
        start = found - 1 if swap_for_y else found + 1
    return out


def swap_bin_arrays(pair: str, rec: Any, swap_for_y: bool) -> list[str]:
    """The :data:`SWAP_ARRAYS` bin arrays a built swap names: those it walks, in order,
    the last repeated when fewer have liquidity (as a Whirlpool swap repeats its last
    tick array: one shape for every swap, which transaction sizing counts)."""
    keys = [bin_array_address(pair, i) for i in swap_array_indexes(rec, swap_for_y)]
    if not keys:
        raise ValueError(f"pair {pair} has no bin array in its bitmap that way")
    return (keys + [keys[-1]] * SWAP_ARRAYS)[:SWAP_ARRAYS]


# ------------------------------------------------------------------ the swap instruction
def swap(
    user: str,
    pair: str,
    reserve_x: str,
    reserve_y: str,
    user_in: str,
    user_out: str,
    mint_x: str,
    mint_y: str,
    oracle: str,
    program_x: str,
    program_y: str,
    bin_arrays: Sequence[str],
    amount_in: int,
    min_amount_out: int,
    v2: bool = False,
) -> Instruction:
    """DLMM ``swap`` (exact input), no bitmap extension and no host fee account; ``v2``:
    ``swap2`` (exact input; ``idls/dlmm.json``), the swap of a pair with a Token-2022
    mint (``swap`` fixes both token programs to SPL Token's): ``swap``'s accounts with
    the memo program after the token programs, and a ``RemainingAccountsInfo`` with no
    slices (no transfer-hook accounts: the remaining accounts are the bin arrays)."""
    keys = (pair, reserve_x, reserve_y, user_in, user_out, mint_x, mint_y, oracle)
    if v2:
        data = SWAP2 + struct.pack("<QQI", amount_in, min_amount_out, 0)
        return _swap(data, user, keys, (program_x, program_y, MEMO_PROGRAM), bin_arrays)
    data = SWAP + struct.pack("<QQ", amount_in, min_amount_out)
    return _swap(data, user, keys, (program_x, program_y), bin_arrays)


swap2 = partial(swap, v2=True)  # DLMM ``swap2``: :func:`swap` with ``v2``


def _swap(
    data: bytes,
    user: str,
    keys: tuple[str, str, str, str, str, str, str, str],
    programs: tuple[str, ...],
    bin_arrays: Sequence[str],
) -> Instruction:
    """``swap``'s accounts (:data:`_ACCOUNTS`; ``swap2``'s with the memo program after
    the token ``programs``): the pair, no bitmap extension, the reserves, the user's
    token accounts, mints, oracle, no host fee, the user, then the bin arrays."""
    pair, reserve_x, reserve_y, user_in, user_out, mint_x, mint_y, oracle = keys
    return wire.instruction(
        PROGRAM,
        data,
        [
            wire.account_meta(pair, writable=True),
            wire.account_meta(PROGRAM),
            *wire.writable(reserve_x, reserve_y, user_in, user_out),
            *wire.readonly(mint_x, mint_y),
            wire.account_meta(oracle, writable=True),
            wire.account_meta(PROGRAM),
            wire.account_meta(user, signer=True),
            *wire.readonly(*programs, event_authority(), PROGRAM),
            *wire.writable(*bin_arrays),
        ],
    )


def swap_key(r: Any, mint_in: str) -> tuple[Any, ...]:
    """What of the pair's state :func:`swap_instruction` reads besides the amounts
    (``Venue.swap_key``): the direction, mints, reserves and oracle, and the bin arrays'
    indexes."""
    swap_for_y = mint_in == r.token_x_mint
    return (
        swap_for_y,
        r.token_x_mint,
        r.token_y_mint,
        r.reserve_x,
        r.reserve_y,
        r.oracle,
        *swap_array_indexes(r, swap_for_y),
    )


def swap_instruction(leg: Leg) -> Instruction:
    """The hop's ``swap`` (``swap2`` when a mint of the pair is Token-2022's): its
    direction from the mints, the bin arrays from the pair's active bin and bitmap
    (``leg.record`` must be fresh)."""
    r = leg.record
    swap_for_y = leg.mint_in == r.token_x_mint
    arrays = swap_bin_arrays(leg.pool, r, swap_for_y)
    px = leg.token_programs.get(r.token_x_mint, SPL_TOKEN)
    py = leg.token_programs.get(r.token_y_mint, SPL_TOKEN)
    mints = (r.token_x_mint, r.token_y_mint)
    user = (leg.owner, leg.pool, r.reserve_x, r.reserve_y, leg.source, leg.dest)
    amounts = (leg.amount_in, leg.minimum_out)
    return swap(*user, *mints, r.oracle, px, py, arrays, *amounts, TOKEN_2022 in (px, py))


def sizing_swap(s: Sizing) -> Instruction:
    """The swap's shape on placeholder keys (pair, reserves, oracle, three bin arrays);
    ``swap2`` when ``programs`` (of mint_in, mint_out) has Token-2022."""
    k, v2 = s.keys, TOKEN_2022 in s.programs
    arrays = [k[4], k[5], k[6]]
    return swap(s.payer, k[0], k[1], k[2], *s.users, *s.mints, k[3], *s.programs, arrays, 1, 1, v2)


def decode_swap(data: bytes, accounts: list[str]) -> Swap:
    """A ``swap`` or ``swap2`` back as a :class:`Swap` (``InstructionError`` otherwise)."""
    v2 = data[:8] == SWAP2
    if data[:8] != SWAP and not v2:
        raise InstructionError("InvalidInstructionData", "dlmm: not swap")
    what = "swap2" if v2 else "swap"
    amount, minimum = wire.read_u64s(data, 8, 2, what)
    if v2 and data[24:] != bytes(4):  # RemainingAccountsInfo: no slices is all it takes here
        raise InstructionError(
            "InvalidInstructionData",
            "swap2: remaining-account slices (transfer hooks) are not simulated",
        )
    names = _ACCOUNTS_2 if v2 else _ACCOUNTS
    acc = wire.named_accounts(accounts, names, what)
    return Swap(
        PROGRAM,
        acc["lb_pair"],
        amount,
        minimum,
        acc["user_token_in"],
        acc["user_token_out"],
        acc["user"],
        acc,
        None,
        tuple(accounts[len(names) :]),
        name="Swap2" if v2 else "",
    )

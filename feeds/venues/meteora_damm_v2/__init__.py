"""Meteora DAMM v2 (``cpamdpZ…``, the cp-amm program): one-range concentrated pools and
compounding constant-product pools, with scheduled, rate-limited and dynamic fees.

- Swap: ``swap`` (Anchor discriminator ‖ amount_in ‖ minimum_amount_out; the program's
  ``SwapParameters``, handled by its optimized entrypoint as ``swap2`` in exact-in mode);
  14 accounts: pool authority, pool (w), input and output token accounts (w), vaults a
  and b (w), mints a and b, payer (signer), token programs a and b, the referral token
  account (optional: the program id for none), event authority, program. A pool whose
  base fee is the rate limiter reads the Instructions sysvar as its first remaining
  account (``validate_single_swap_instruction``) when the limiter applies (b -> a within
  its window); the program reads no remaining account otherwise, so our swaps always pass
  it (one shape for every pool: sizing is exact).
- Pool account: ``Pool`` (1,112 bytes, ``state/pool.rs``; Anchor's ``account:Pool``
  discriminator, PumpSwap's too: told by the owner). Mints a/b at 168/200.
- Events: ``EvtSwap2`` by self-CPI (after the transfers), no log line of its own.
- Errors: ``error.rs`` (Anchor, from 6000). Sources: ``MeteoraAg/damm-v2`` 0.2.1.

Its simulated program is :mod:`.sim` (only the simulator loads it).
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

from solders.instruction import Instruction

from ...wire import instructions as wire
from ...wire.instructions import InstructionError, Swap
from ..base import ComputeUnits, Discoverable, Leg, PoolFacts, PoolLayout, Sizing, Swaps, Venue
from ..ids import ids, program

IDS = ids("meteora_damm_v2")
PROGRAM = program(IDS)
POOL_LEN = IDS.pool_account_size  # 1,112
DISC_POOL = bytes([241, 154, 109, 4, 17, 177, 109, 188])  # sha256("account:Pool")[..8]
SWAP = hashlib.sha256(b"global:swap").digest()[:8]
SWAP2 = hashlib.sha256(b"global:swap2").digest()[:8]
SYSVAR_INSTRUCTIONS = "Sysvar1nstructions1111111111111111111111111"
RATE_LIMITER = 2  # the base fee mode that reads the Instructions sysvar
Q64 = 1 << 64
# error.rs, in order from 6000 (the ones a swap can answer with)
ERRORS = {
    6000: "MathOverflow",
    6002: "ExceededSlippage",
    6003: "PoolDisabled",
    6006: "AmountIsZero",
    6007: "TypeCastFailed",
    6010: "InvalidActivationType",
    6015: "PriceRangeViolation",
    6018: "InvalidInput",
    6046: "InvalidBaseFeeMode",
    6048: "FailToValidateSingleSwapInstruction",
    6050: "UndeterminedError",
    6051: "InvalidPoolVersion",
    6068: "TransferFeeExcludedAmountIsZero",
}
CODES = {name: code for code, name in ERRORS.items()}
_ACCOUNTS = (
    "pool_authority",
    "pool",
    "input_token_account",
    "output_token_account",
    "token_a_vault",
    "token_b_vault",
    "token_a_mint",
    "token_b_mint",
    "payer",
    "token_a_program",
    "token_b_program",
    "referral_token_account",
    "event_authority",
    "program",
)


def _pda(seeds: list[bytes]) -> str:
    return str(wire.pdas().find(seeds, PROGRAM)[0])


def pool_authority() -> str:
    """``["pool_authority"]`` (HLnpSz9h… on mainnet): the vaults' owner."""
    return _pda([b"pool_authority"])


def event_authority() -> str:
    """Anchor's event authority: ``["__event_authority"]``."""
    return _pda([b"__event_authority"])


def _raw(key: str) -> bytes:
    return bytes(wire.pubkey(key))


def pool_address(config: str, mint_a: str, mint_b: str) -> str:
    """A pool of a config: ``["pool", config, max(mint a, mint b), min(...)]`` (bytes)."""
    a, b = _raw(mint_a), _raw(mint_b)
    return _pda([b"pool", _raw(config), max(a, b), min(a, b)])


def token_vault(mint: str, pool: str) -> str:
    """A pool's vault: ``["token_vault", mint, pool]``."""
    return _pda([b"token_vault", _raw(mint), _raw(pool)])


# ------------------------------------------------------------------ the swap instruction
def swap_ix(
    payer: str,
    pool: str,
    source: str,
    dest: str,
    vaults: tuple[str, str],
    mints: tuple[str, str],
    programs: tuple[str, str],
    amount_in: int,
    minimum_out: int,
    sysvar: bool = True,
) -> Instruction:
    """``swap`` (exact in) with no referral account; ``sysvar``: the Instructions sysvar
    as the remaining account a rate-limited pool reads."""
    metas = [
        wire.account_meta(pool_authority()),
        *wire.writable(pool, source, dest, *vaults),
        *wire.readonly(*mints),
        wire.account_meta(payer, signer=True),
        *wire.readonly(*programs),
        wire.account_meta(PROGRAM),  # no referral: Anchor's None is the program id
        *wire.readonly(event_authority(), PROGRAM),
    ]
    if sysvar:
        metas.append(wire.account_meta(SYSVAR_INSTRUCTIONS))
    return wire.instruction(PROGRAM, SWAP + struct.pack("<QQ", amount_in, minimum_out), metas)


def base_fee_mode(record: Any) -> int:
    """The mode byte of a pool's base fee."""
    return int(record.base_fee[8])


def swap_instruction(leg: Leg) -> Instruction:
    """The hop's ``swap``: the vaults, mints and token programs in the pool's order (the
    program reads the direction from the input account's mint)."""
    r = leg.record
    mints = (r.token_a_mint, r.token_b_mint)
    return swap_ix(
        leg.owner,
        leg.pool,
        leg.source,
        leg.dest,
        (r.token_a_vault, r.token_b_vault),
        mints,
        (leg.token_programs[mints[0]], leg.token_programs[mints[1]]),
        leg.amount_in,
        leg.minimum_out,
    )


def sizing_swap(s: Sizing) -> Instruction:
    """The swap's shape on placeholder keys (pool, vaults)."""
    k = s.keys
    return swap_ix(s.payer, k[0], *s.users, (k[1], k[2]), s.mints, s.programs, 1, 1)


def decode_swap(data: bytes, accounts: list[str]) -> Swap:
    """A ``swap`` (or an exact-in ``swap2``) back as a :class:`Swap`
    (``InstructionError`` otherwise)."""
    if data[:8] == SWAP:
        amount, minimum = wire.read_u64s(data, 8, 2, "swap")
        name = "Swap"
    elif data[:8] == SWAP2:
        amount, minimum = wire.read_u64s(data, 8, 2, "swap2")
        if data[24:25] != b"\x00":
            raise InstructionError("InvalidInstructionData", "damm v2: swap2 not exact in")
        name = "Swap2"
    else:
        raise InstructionError("InvalidInstructionData", "damm v2: not swap")
    acc = wire.named_accounts(accounts, _ACCOUNTS, "swap")
    if len(accounts) > len(_ACCOUNTS):
        acc["remaining_0"] = accounts[len(_ACCOUNTS)]
    roles = ("pool", "input_token_account", "output_token_account", "payer")
    return wire.swap_of(PROGRAM, acc, roles, amount, minimum, name=name)


def decode_pool(eng: Any, data: bytes, owner: str) -> Any:
    """The ``Pool`` account, decoded by the engine."""
    return eng.meteora_damm_v2.decode_pool(data, owner)


# Measured (the 2026-03 binary in LiteSVM running the swap live builds:
# tests/judge/test_meteora_damm_v2.py prints the units by steps; docs/programs.md's table
# quotes them): a concentrated pool's swap about 27k with SPL Token mints, the dynamic fee
# and each Token-2022 side about 3-4k more each, a compounding pool's curve on the tracked
# reserves about 14k more; the rate limiter's window (b -> a) about 2.5k more (within the
# margin). A step is 3,500 units: the dynamic fee one (``COMPOUNDING_STEPS`` for the
# compounding curve: the engine's ``quote_steps`` counts both), each Token-2022 side one
# (``arbscope.execution.compute``'s token rule); every swap measured within the 15 %
# margin and under the limit a hop requests.
COMPOUNDING_STEPS = 4
COMPUTE_UNITS = ComputeUnits(27_000, 3_500, 1 + COMPOUNDING_STEPS + 2, 0.15)


def _facts(r: Any) -> PoolFacts:
    cliff_fee = int.from_bytes(r.base_fee[:8], "little") / 1e9
    return PoolFacts(r.token_a_mint, r.token_b_mint, r.token_a_vault, r.token_b_vault, cliff_fee)


def _reserves(r: Any, a: int, b: int) -> tuple[int, int]:
    """The vaults less the protocol's fees they hold (LP fees stay in them too: a
    concentrated pool's curve is its liquidity, not its vaults)."""
    return a - int(r.protocol_a_fee), b - int(r.protocol_b_fee)


def _price(r: Any) -> float | None:
    if r.collect_fee_mode == 2:
        return r.token_b_amount / r.token_a_amount if r.token_a_amount else None
    return float((r.sqrt_price / Q64) ** 2)


DISCOVERY = Discoverable(
    "Meteora DAMM v2",
    PoolLayout(168, 200, discriminator=DISC_POOL),
    _facts,
    reserves=_reserves,
    price=_price,
)


def read_event(ev: Any) -> tuple[str | None, int, int] | None:
    """An ``EvtSwap2`` (``engine_rs.decoded.DammSwapEvent``) as the user saw it: what
    left their account (the instruction's amount, any input transfer fee included) and
    what reached theirs (after the output mint's transfer fee)."""
    if type(ev).__name__ != "DammSwapEvent":
        return None
    return ev.pool, ev.included_transfer_fee_amount_in, ev.excluded_transfer_fee_amount_out


SLIPPAGE = 6002  # ExceededSlippage
SWAPS = Swaps(swap_instruction, sizing_swap, decode_swap)
VENUE = Venue(
    IDS, decode_pool, SWAPS, ERRORS, SLIPPAGE, COMPUTE_UNITS, DISCOVERY, read_event=read_event
)

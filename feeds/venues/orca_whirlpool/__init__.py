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

The package: :mod:`.layout` (the accounts, the tick-array rules), :mod:`.instructions`
(the swaps), here the errors, compute units, discovery, the arrays a session follows and
the :data:`VENUE` record. The simulated program is :mod:`.sim` (only the simulator loads
it): it writes what the program writes on a swap (judged by its binary in
tests/judge/test_whirlpool.py; orca-so/whirlpools ``manager/swap_manager.rs``,
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

from typing import Any

from ..base import ComputeUnits, Discoverable, Fresh, PoolFacts, PoolLayout, Swaps, Venue
from .instructions import (
    SWAP,
    SWAP_V2,
    decode_swap,
    oracle,
    sizing_swap,
    swap,
    swap_instruction,
    swap_key,
    swap_tick_arrays,
)
from .layout import (
    DISC_FIXED_TICK_ARRAY,
    DISC_TRADED,
    DISC_WHIRLPOOL,
    FIXED_TICK_ARRAY_LEN,
    IDS,
    MAX_SQRT_PRICE_X64,
    MAX_TICK_INDEX,
    MIN_SQRT_PRICE_X64,
    MIN_TICK_INDEX,
    POOL_LEN,
    PROGRAM,
    TICK_ARRAY_SIZE,
    TICK_LEN,
    WHIRLPOOLS_CONFIG,
    decode_pool,
    encode_fixed_tick_array,
    is_valid_start_tick,
    swap_tick_array_starts,
)

__all__ = [
    "COMPUTE_UNITS",
    "DISCOVERY",
    "DISC_FIXED_TICK_ARRAY",
    "DISC_TRADED",
    "DISC_WHIRLPOOL",
    "ERRORS",
    "FIXED_TICK_ARRAY_LEN",
    "IDS",
    "MAX_SQRT_PRICE_X64",
    "MAX_TICK_INDEX",
    "MIN_SQRT_PRICE_X64",
    "MIN_TICK_INDEX",
    "POOL_LEN",
    "PROGRAM",
    "SWAP",
    "SWAP_V2",
    "TICK_ARRAY_SIZE",
    "TICK_LEN",
    "TOKEN_2022_STEPS",
    "VENUE",
    "WHIRLPOOLS_CONFIG",
    "decode_pool",
    "decode_swap",
    "encode_fixed_tick_array",
    "is_valid_start_tick",
    "oracle",
    "sizing_swap",
    "swap",
    "swap_instruction",
    "swap_key",
    "swap_tick_array_starts",
    "swap_tick_arrays",
]

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
# on the real program (tests/judge/test_whirlpool.py): a step is an initialized tick
# crossed (its tick update, another step of the swap loop); a pool with a Token-2022 mint
# swaps by ``swap_v2`` (the mints, the memo program, TransferChecked and the transfer-fee
# arithmetic), about this many steps more
COMPUTE_UNITS = ComputeUnits(base=57_000, per_step=6_800, max_steps=8, margin=0.4)
TOKEN_2022_STEPS = 3


def _follow(eng: Any, pool: str, rec: Any, each_side: int) -> list[tuple[str, int]]:
    """The fixed tick arrays around the pool's current tick, at their PDAs."""
    wp = eng.orca_whirlpool
    starts = wp.tick_array_starts(rec.tick_spacing, rec.tick_current_index, each_side)
    return [(wp.tick_array_address(pool, start)[0], start) for start in starts]


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


SLIPPAGE = 6036  # AmountOutBelowMinimum
SWAPS = Swaps(swap_instruction, sizing_swap, decode_swap)
FRESH = Fresh(swap_key, _follow, _absent)
VENUE = Venue(IDS, decode_pool, SWAPS, ERRORS, SLIPPAGE, COMPUTE_UNITS, DISCOVERY, fresh=FRESH)

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

The package: :mod:`.layout` (the accounts), :mod:`.instructions` (the swap), here the
errors, compute units, discovery, the arrays a session follows and the :data:`VENUE`
record. The simulated program is :mod:`.sim` (only the simulator loads it).

The simulated market: its configs are the simulator's own (index, tick spacing, trade
fee; the mainnet configs' values are not in the sources: from memory, and only the
spacing/fee pairs matter here). Its program writes what today's program writes on a
swap (judged by a real, older binary in tests/judge/test_raydium_clmm.py): the pool's
price, tick, liquidity, the fee token's fee growth and protocol and fund fees
(``raydium_clmm.swap_ledger``: the engine's per-step split), its epoch; the crossed ticks'
fee growths outside; the ``ObservationState`` (today's layout) when the tick moves; the
``SwapEvent`` of the swap being run (its payer and token accounts).

Compute units (:data:`COMPUTE_UNITS`): measured on that binary, 76,000 and 14,500 for each
initialized tick crossed (a Token-2022 pool one step more). The binary searches the bitmap
extension's PDA on every swap (1,500 units for each bump below 255), which today's
program no longer does (raydium-clmm 695968c): today's use is likely lower.
"""

from __future__ import annotations

from typing import Any

from ..base import ComputeUnits, Discoverable, Fresh, PoolFacts, PoolLayout, Swaps, Venue
from .instructions import (
    SWAP_TICK_ARRAYS,
    SWAP_V2,
    decode_swap,
    sizing_swap,
    swap_array_starts,
    swap_instruction,
    swap_key,
    swap_v2,
)
from .layout import (
    CONFIG_LEN,
    DISC_BITMAP_EXTENSION,
    DISC_CONFIG,
    DISC_OBSERVATION,
    DISC_POOL,
    DISC_SWAP_EVENT,
    DISC_TICK_ARRAY,
    EXTENSION_LEN,
    IDS,
    MAX_SQRT_PRICE_X64,
    MAX_TICK,
    MIN_SQRT_PRICE_X64,
    MIN_TICK,
    OBSERVATION_AT,
    OBSERVATION_ITEM_LEN,
    OBSERVATION_LEN,
    OBSERVATION_NUM,
    OBSERVATION_UPDATE_DURATION,
    POOL_LEN,
    PROGRAM,
    SWAP_EVENT_LEN,
    TICK_ARRAY_LEN,
    TICK_ARRAY_SIZE,
    TICK_FEE_GROWTH_OUTSIDE_0,
    TICK_LEN,
    array_start,
    decode_pool,
    initialized_starts,
)

__all__ = [
    "COMPUTE_UNITS",
    "CONFIG_LEN",
    "DISCOVERY",
    "DISC_BITMAP_EXTENSION",
    "DISC_CONFIG",
    "DISC_OBSERVATION",
    "DISC_POOL",
    "DISC_SWAP_EVENT",
    "DISC_TICK_ARRAY",
    "ERRORS",
    "EXTENSION_LEN",
    "IDS",
    "MAX_SQRT_PRICE_X64",
    "MAX_TICK",
    "MIN_SQRT_PRICE_X64",
    "MIN_TICK",
    "OBSERVATION_AT",
    "OBSERVATION_ITEM_LEN",
    "OBSERVATION_LEN",
    "OBSERVATION_NUM",
    "OBSERVATION_UPDATE_DURATION",
    "POOL_LEN",
    "PROGRAM",
    "SWAP_EVENT_LEN",
    "SWAP_TICK_ARRAYS",
    "SWAP_V2",
    "TICK_ARRAY_LEN",
    "TICK_ARRAY_SIZE",
    "TICK_FEE_GROWTH_OUTSIDE_0",
    "TICK_LEN",
    "TOKEN_2022_STEPS",
    "VENUE",
    "array_start",
    "decode_pool",
    "decode_swap",
    "initialized_starts",
    "sizing_swap",
    "swap_array_starts",
    "swap_instruction",
    "swap_key",
    "swap_v2",
]

# the deployed program's codes (the 2026-04 mainnet build, raydium_clmm-20260427.so):
# mainnet's numbering, not today's source's (error.rs since dropped LOK, ZeroMintAmount,
# InvaildLiquidity and TransactionTooOld and renumbered the rest; no deployed program
# numbers its errors so); held to the binary by tests/judge/test_raydium_clmm.py
ERRORS = {
    6001: "NotApproved",
    6011: "InvalidTickArray",
    6013: "SqrtPriceLimitOverflow",
    6014: "SqrtPriceX64",
    6015: "LiquiditySubValueErr",
    6016: "LiquidityAddValueErr",
    6019: "LiquidityInsufficient",
    6022: "TooLittleOutputReceived",
    6024: "ZeroAmountSpecified",
    6025: "InvalidInputPoolVault",
    6026: "TooSmallInputOrOutputAmount",
    6027: "NotEnoughTickArrayAccount",
    6028: "InvalidFirstTickArrayAccount",
    6039: "NotSupportMint",
    6040: "MissingTickArrayBitmapExtensionAccount",
    6041: "InsufficientLiquidityForDirection",
    6042: "MaxTokenOverflow",
    6043: "CalculateOverflow",
}
# compute units of a swap (its instruction, the token programs' CPIs included), measured
# on the program (tests/judge/test_raydium_clmm.py): a step is an initialized tick the
# swap crosses (another step of its loop, the tick's update); a pool with a Token-2022
# mint (the transfer-fee arithmetic, Token-2022's TransferChecked) this many steps more
COMPUTE_UNITS = ComputeUnits(base=76_000, per_step=14_500, max_steps=6, margin=0.3)
TOKEN_2022_STEPS = 1


def _follow(eng: Any, pool: str, rec: Any, each_side: int) -> list[tuple[str, int]]:
    """The initialized tick arrays nearest the current tick (the pool's bitmap): the
    current tick's and ``each_side`` more each way, at their PDAs."""
    ts = rec.tick_spacing
    cur = array_start(rec.tick_current, ts)
    starts = initialized_starts(rec.tick_array_bitmap, ts)
    below = sorted((s for s in starts if s <= cur), reverse=True)[: each_side + 1]
    above = sorted(s for s in starts if s > cur)[:each_side]
    address = eng.raydium_clmm.address
    return [(str(address("tick_array", pool, s)[0]), s) for s in sorted(below + above)]


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
        eng.raydium_clmm.decode_config(data, owner).trade_fee_rate / 1e6
    ),
    # the vaults less the protocol's and the fund's fees they hold
    reserves=lambda r, a, b: (
        a - r.protocol_fees_token_0 - r.fund_fees_token_0,
        b - r.protocol_fees_token_1 - r.fund_fees_token_1,
    ),
    price=_price_of,
)


SLIPPAGE = 6022  # TooLittleOutputReceived (mainnet's numbering)
SWAPS = Swaps(swap_instruction, sizing_swap, decode_swap)
# absent: the program reads only arrays its bitmap names
FRESH = Fresh(swap_key, _follow, lambda start, pool: None)
VENUE = Venue(IDS, decode_pool, SWAPS, ERRORS, SLIPPAGE, COMPUTE_UNITS, DISCOVERY, fresh=FRESH)

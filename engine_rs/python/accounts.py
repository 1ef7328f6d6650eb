"""The old home of the twin's decoders, now in :mod:`.decode` (shared account kinds) and
:mod:`.venues` (each venue's own): a re-export kept for code outside ``engine_rs`` that
imports it — removed once nothing outside engine_rs imports it."""

from __future__ import annotations

from .clmm import TICK_ARRAY_SIZE
from .decode import SPL_TOKEN, TOKEN_2022, decode_mint, decode_token_account
from .venues import parse_program_data
from .venues.orca_whirlpool import (
    DISC_DYNAMIC_TICK_ARRAY,
    DISC_FIXED_TICK_ARRAY,
    DISC_TRADED,
    DISC_WHIRLPOOL,
    decode_tick_array,
    decode_whirlpool,
)
from .venues.orca_whirlpool import IMMUTABLE_PROGRAM_ID as WHIRLPOOL_IMMUTABLE
from .venues.orca_whirlpool import PROGRAM_ID as WHIRLPOOL
from .venues.raydium_amm_v4 import PROGRAM_ID as RAYDIUM_AMM_V4
from .venues.raydium_amm_v4 import decode_raydium_amm_v4, parse_ray_log
from .venues.raydium_cpmm import DISC_CONFIG as DISC_CPMM_CONFIG
from .venues.raydium_cpmm import DISC_POOL as DISC_CPMM_POOL
from .venues.raydium_cpmm import DISC_SWAP_EVENT, decode_raydium_amm_config, decode_raydium_cpmm
from .venues.raydium_cpmm import PROGRAM_ID as RAYDIUM_CPMM

__all__ = [
    "DISC_CPMM_CONFIG",
    "DISC_CPMM_POOL",
    "DISC_DYNAMIC_TICK_ARRAY",
    "DISC_FIXED_TICK_ARRAY",
    "DISC_SWAP_EVENT",
    "DISC_TRADED",
    "DISC_WHIRLPOOL",
    "RAYDIUM_AMM_V4",
    "RAYDIUM_CPMM",
    "SPL_TOKEN",
    "TICK_ARRAY_SIZE",
    "TOKEN_2022",
    "WHIRLPOOL",
    "WHIRLPOOL_IMMUTABLE",
    "decode_mint",
    "decode_raydium_amm_config",
    "decode_raydium_amm_v4",
    "decode_raydium_cpmm",
    "decode_tick_array",
    "decode_token_account",
    "decode_whirlpool",
    "parse_program_data",
    "parse_ray_log",
]

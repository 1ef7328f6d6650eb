"""The pure-Python twin of the Rust engine: same names, same arguments, same results.

It is the fallback when the extension is missing and the baseline in the timing panel.
Scalar kernels need nothing beyond the standard library.
"""

from __future__ import annotations

from ..records import (
    Cycle,
    DedupStats,
    FeeContext,
    Opportunity,
    PriorityFee,
    Score,
    ScorePolicy,
    SwapResult,
    VenueInfo,
)
from .amm import cpmm_amount_in, cpmm_amount_out, cpmm_spot_rate
from .b58 import b58decode, b58encode
from .decode import decode_mint, decode_token_account
from .dedup import Deduper
from .fees import FeeEstimator
from .graph import PoolGraph
from .indicators import Bollinger, Ema, Kama, Rsi, bollinger, ema, kama, rsi
from .ingest import FeedIngest
from .pda import PdaCache, create_program_address, find_program_address, is_on_curve
from .scorer import priority_fee_lamports, score
from .token2022 import (
    inverse_transfer_fee,
    post_fee_amount,
    pre_fee_amount,
    refused_extensions,
    transfer_fee,
)
from .venues import parse_logs, parse_program_data, venue_infos
from .venues.meteora_dlmm import (
    decode_meteora_bin_array,
    decode_meteora_bitmap_extension,
    decode_meteora_lb_pair,
    meteora_dlmm_bin_price,
    meteora_dlmm_quote,
    meteora_dlmm_swap,
)
from .venues.openbook_v2 import (
    OpenBookBook,
    decode_openbook_bookside,
    decode_openbook_event_heap,
    decode_openbook_market,
    openbook_book,
    openbook_ladder,
    openbook_take,
)
from .venues.orca_whirlpool import decode_tick_array, decode_whirlpool
from .venues.orca_whirlpool.pda import (
    WHIRLPOOL_PROGRAM_ID,
    oracle_address,
    tick_array_address,
    tick_array_starts,
    whirlpool_address,
)
from .venues.orca_whirlpool.swap import (
    clmm_spot_rate,
    clmm_swap,
    sqrt_price_from_tick,
    tick_from_sqrt_price,
)
from .venues.pump_amm import (
    decode_pump_amm_global_config,
    decode_pump_amm_pool,
    decode_pump_fee_config,
    pump_swap,
)
from .venues.raydium_amm_v4 import decode_raydium_amm_v4, parse_ray_log
from .venues.raydium_clmm import (
    decode_raydium_clmm,
    decode_raydium_clmm_bitmap_extension,
    decode_raydium_clmm_config,
    decode_raydium_clmm_tick_array,
    raydium_clmm_address,
    raydium_clmm_sqrt_price_at_tick,
    raydium_clmm_swap,
    raydium_clmm_swap_ledger,
    raydium_clmm_tick_array_starts,
    raydium_clmm_tick_at_sqrt_price,
)
from .venues.raydium_cpmm import decode_raydium_amm_config, decode_raydium_cpmm

BACKEND = "python"

__all__ = [
    "BACKEND",
    "Bollinger",
    "Cycle",
    "DedupStats",
    "Ema",
    "Deduper",
    "FeeContext",
    "FeeEstimator",
    "FeedIngest",
    "Kama",
    "OpenBookBook",
    "Opportunity",
    "PdaCache",
    "PoolGraph",
    "PriorityFee",
    "Rsi",
    "Score",
    "ScorePolicy",
    "SwapResult",
    "VenueInfo",
    "WHIRLPOOL_PROGRAM_ID",
    "b58decode",
    "bollinger",
    "b58encode",
    "clmm_spot_rate",
    "clmm_swap",
    "cpmm_amount_in",
    "cpmm_amount_out",
    "cpmm_spot_rate",
    "create_program_address",
    "decode_meteora_bin_array",
    "decode_meteora_bitmap_extension",
    "decode_meteora_lb_pair",
    "decode_mint",
    "decode_openbook_bookside",
    "decode_openbook_event_heap",
    "decode_openbook_market",
    "decode_pump_amm_global_config",
    "decode_pump_amm_pool",
    "decode_pump_fee_config",
    "decode_raydium_amm_config",
    "decode_raydium_amm_v4",
    "decode_raydium_clmm",
    "decode_raydium_clmm_bitmap_extension",
    "decode_raydium_clmm_config",
    "decode_raydium_clmm_tick_array",
    "decode_raydium_cpmm",
    "decode_tick_array",
    "decode_token_account",
    "decode_whirlpool",
    "ema",
    "find_program_address",
    "is_on_curve",
    "kama",
    "meteora_dlmm_bin_price",
    "meteora_dlmm_quote",
    "meteora_dlmm_swap",
    "openbook_book",
    "openbook_ladder",
    "openbook_take",
    "oracle_address",
    "parse_logs",
    "parse_program_data",
    "parse_ray_log",
    "priority_fee_lamports",
    "pump_swap",
    "raydium_clmm_address",
    "raydium_clmm_sqrt_price_at_tick",
    "raydium_clmm_swap",
    "raydium_clmm_swap_ledger",
    "raydium_clmm_tick_array_starts",
    "raydium_clmm_tick_at_sqrt_price",
    "rsi",
    "score",
    "sqrt_price_from_tick",
    "tick_array_address",
    "tick_array_starts",
    "tick_from_sqrt_price",
    "venue_infos",
    "inverse_transfer_fee",
    "post_fee_amount",
    "pre_fee_amount",
    "refused_extensions",
    "transfer_fee",
    "whirlpool_address",
]

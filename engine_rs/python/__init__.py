"""The pure-Python twin of the Rust engine: same names, same arguments, same results.

It is the fallback when the extension is missing and the baseline in the timing panel.
Scalar kernels need nothing beyond the standard library. A venue's functions are in its
namespace (``raydium_clmm.swap``), built from its module's ``API`` table (see
:mod:`.venues`).
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
from .copies import delta_changes
from .decode import decode_mint, decode_token_account
from .dedup import Deduper
from .derive import create_program_address, find_program_address, is_on_curve
from .fees import FeeEstimator
from .graph import PoolGraph
from .indicators import Bollinger, Ema, Kama, Rsi, bollinger, ema, kama, rsi
from .ingest import FeedIngest
from .journal import DeltaEncoder
from .pda import PdaCache
from .pricing import CyclePricer
from .scorer import priority_fee_lamports, score
from .token2022 import (
    inverse_transfer_fee,
    post_fee_amount,
    pre_fee_amount,
    refused_extensions,
    transfer_fee,
)
from .tx import TxSigner
from .venues import VENUES, namespace, parse_logs, parse_program_data, venue_infos

# One namespace per venue, named as the registry names it (VenueInfo.name), holding its
# functions and classes without the venue in their names (eng.raydium_clmm.swap); each
# venue module's API table says what is in it.
for _venue in VENUES:
    globals()[_venue.INFO.name] = namespace(_venue)
del _venue

BACKEND = "python"

__all__ = [
    "BACKEND",
    "Bollinger",
    "Cycle",
    "CyclePricer",
    "DedupStats",
    "Deduper",
    "DeltaEncoder",
    "Ema",
    "FeeContext",
    "FeeEstimator",
    "FeedIngest",
    "Kama",
    "Opportunity",
    "PdaCache",
    "PoolGraph",
    "PriorityFee",
    "Rsi",
    "Score",
    "ScorePolicy",
    "SwapResult",
    "TxSigner",
    "VenueInfo",
    "b58decode",
    "b58encode",
    "bollinger",
    "cpmm_amount_in",
    "cpmm_amount_out",
    "cpmm_spot_rate",
    "create_program_address",
    "decode_mint",
    "decode_token_account",
    "delta_changes",
    "ema",
    "find_program_address",
    "inverse_transfer_fee",
    "is_on_curve",
    "kama",
    "parse_logs",
    "parse_program_data",
    "post_fee_amount",
    "pre_fee_amount",
    "priority_fee_lamports",
    "refused_extensions",
    "rsi",
    "score",
    "transfer_fee",
    "venue_infos",
    # the venues' namespaces
    *(v.INFO.name for v in VENUES),
]

"""Net profit after fees, persistence, staleness and a go / no-go with reasons.

Twin of ``crates/core/src/scorer.rs``. Fees per spec §5.3: base fee =
``signatures × lamports_per_signature`` unless ``fees.base_fee_lamports`` gives the actual
one (SIMD-0553, or ``simulateTransaction.value.fee``); priority fee =
``ceil(cu_price × cu_limit / 1e6)`` saturating at u64::MAX; plus the tip. Lamports become
base units as ``ceil(lamports × num / den)``: ``num / den`` the price of a lamport in the
cycle's base token. Without one (``fees.base_rate_missing``) nothing is converted:
``fees_in_base`` is 0, the net is the gross and the score says ``no_sol_price``.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import InvalidInputError, MathOverflowError
from ..records import (
    REASON_BPS_BELOW_MIN,
    REASON_NET_BELOW_MIN,
    REASON_NO_SOL_PRICE,
    REASON_NOT_PERSISTENT,
    REASON_NOT_PROFITABLE,
    REASON_STALE,
    REASON_TICKS_MISSING,
    FeeContext,
    Score,
    ScorePolicy,
)
from ._ints import U64_MAX, u64

_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


def priority_fee_lamports(cu_price_micro_lamports: int, cu_limit: int) -> int:
    """``ceil(cu_price × cu_limit / 1_000_000)`` lamports, saturating at u64::MAX."""
    micro = u64(cu_price_micro_lamports) * u64(cu_limit)
    return min(-(-micro // 1_000_000), U64_MAX)


def _f64(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected float, got {type(value).__name__}")
    return float(value)


def score(opportunity: Any, fees: FeeContext, policy: ScorePolicy) -> Score:
    """Score an :class:`~engine_rs.records.Opportunity` (from either backend).

    Reads ``amount_in``, ``profit`` (gross), ``persistence`` and ``staleness_slots``.
    ``net_profit = profit − fees_in_base``; ``net_profit_bps = net × 10_000 / amount_in``.
    Raises InvalidInputError on a zero conversion denominator or a non-finite bps
    threshold, MathOverflowError when fees overflow u64.
    """
    amount_in = u64(opportunity.amount_in)
    gross = int(opportunity.profit)
    persistence = u64(opportunity.persistence)
    staleness = u64(opportunity.staleness_slots)
    # an opportunity of an older record without the field held every tick
    ticks_missing = bool(getattr(opportunity, "ticks_missing", False))
    cu_limit, cu_price = u64(fees.cu_limit), u64(fees.cu_price_micro_lamports)
    tip = u64(fees.tip_lamports)
    signatures, per_sig = u64(fees.signatures), u64(fees.lamports_per_signature)
    base_override = None if fees.base_fee_lamports is None else u64(fees.base_fee_lamports)
    num, den = u64(fees.base_per_lamport_num), u64(fees.base_per_lamport_den)
    # a fee context of an older record without the field: the rate is known
    missing = bool(getattr(fees, "base_rate_missing", False))
    min_profit = policy.min_profit
    if isinstance(min_profit, bool) or not isinstance(min_profit, int):
        raise TypeError("min_profit: expected int")
    if not _I64_MIN <= min_profit <= _I64_MAX:
        raise MathOverflowError(f"{min_profit} does not fit in i64")
    min_bps = _f64(policy.min_profit_bps, "min_profit_bps")
    min_persistence, max_stale = u64(policy.min_persistence), u64(policy.max_staleness_slots)

    if den == 0:
        raise InvalidInputError("base_per_lamport_den must be > 0")
    if not math.isfinite(min_bps):
        raise InvalidInputError(f"min_profit_bps must be finite, got {min_bps}")
    base = base_override if base_override is not None else signatures * per_sig
    if base > U64_MAX:
        raise MathOverflowError("base fee exceeds u64")
    priority = min(-(-(cu_price * cu_limit) // 1_000_000), U64_MAX)
    total = base + priority + tip
    if total > U64_MAX:
        raise MathOverflowError("total fee exceeds u64")
    fees_in_base = 0 if missing else -(-(total * num) // den)
    if fees_in_base > U64_MAX:
        raise MathOverflowError("fee in base units exceeds u64")
    net = gross - fees_in_base
    net_bps = float(net) * 10_000.0 / float(amount_in) if amount_in > 0 else 0.0
    reasons: list[str] = []
    if missing:
        reasons.append(REASON_NO_SOL_PRICE)
    if ticks_missing:
        reasons.append(REASON_TICKS_MISSING)
    if amount_in == 0 or gross <= 0:
        reasons.append(REASON_NOT_PROFITABLE)
    if net < min_profit:
        reasons.append(REASON_NET_BELOW_MIN)
    if net_bps < min_bps:
        reasons.append(REASON_BPS_BELOW_MIN)
    if persistence < min_persistence:
        reasons.append(REASON_NOT_PERSISTENT)
    if staleness > max_stale:
        reasons.append(REASON_STALE)
    return Score(
        gross_profit=gross,
        base_fee_lamports=base,
        priority_fee_lamports=priority,
        tip_lamports=tip,
        total_fee_lamports=total,
        fees_in_base=fees_in_base,
        net_profit=net,
        net_profit_bps=net_bps,
        persistence=persistence,
        staleness_slots=staleness,
        go=not reasons,
        reasons=reasons,
    )

"""Scorer: spec §5.3 fee vectors, reasons as data, twins agree, bad input."""

from __future__ import annotations

import math
import types
from dataclasses import replace
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine_rs import errors, load
from engine_rs.records import (
    REASON_BPS_BELOW_MIN,
    REASON_NET_BELOW_MIN,
    REASON_NO_SOL_PRICE,
    REASON_NOT_PERSISTENT,
    REASON_NOT_PROFITABLE,
    REASON_STALE,
    FeeContext,
    ScorePolicy,
    as_dict,
)

U64 = (1 << 64) - 1


def opp(
    amount_in: int = 1_000_000, profit: int = 10_000, persistence: int = 1, staleness_slots: int = 0
) -> SimpleNamespace:
    return SimpleNamespace(
        amount_in=amount_in, profit=profit, persistence=persistence, staleness_slots=staleness_slots
    )


@pytest.mark.parametrize(
    ("price", "limit", "want"),
    [(999_999, 1, 1), (1_000_000, 1, 1), (1_000_001, 1, 2), (200, 100_000, 20), (U64, U64, U64)],
)
def test_priority_fee_vectors(eng: types.ModuleType, price: int, limit: int, want: int) -> None:
    assert eng.priority_fee_lamports(price, limit) == want


def test_docs_example_5001_lamports(eng: types.ModuleType) -> None:
    # solana docs: price 1 µlamport, limit 300k -> 1 + 5000 = 5001 lamports
    s = eng.score(opp(), FeeContext(cu_limit=300_000, cu_price_micro_lamports=1), ScorePolicy())
    assert (s.base_fee_lamports, s.priority_fee_lamports, s.total_fee_lamports) == (5_000, 1, 5_001)
    assert s.net_profit == 10_000 - 5_001
    assert s.go and s.reasons == []


def test_fee_override_and_conversion(eng: types.ModuleType) -> None:
    # SIMD-0553-style base fee given by the caller; lamports priced at 3/7 base units, ceil
    priced = FeeContext(base_per_lamport_num=3, base_per_lamport_den=7)
    fees = replace(priced, cu_limit=0, base_fee_lamports=2_500, tip_lamports=1_000)
    s = eng.score(opp(), fees, ScorePolicy())
    assert s.total_fee_lamports == 3_500
    assert s.fees_in_base == math.ceil(3_500 * 3 / 7)


def test_a_missing_rate_converts_nothing_and_is_the_first_reason(eng: types.ModuleType) -> None:
    """No price of a lamport in the base token: the fees stay in lamports (counted, not
    converted), the net is the gross, and the decision says why first (never a silent 1/1)."""
    fees = FeeContext(
        cu_limit=200_000,
        cu_price_micro_lamports=50_000,
        tip_lamports=10_000,
        base_per_lamport_num=5,
        base_rate_missing=True,
    )
    s = eng.score(opp(profit=100_000, persistence=0), fees, ScorePolicy())
    assert s.total_fee_lamports == 25_000 and s.fees_in_base == 0
    assert s.net_profit == s.gross_profit == 100_000
    assert not s.go and s.reasons == [REASON_NO_SOL_PRICE, REASON_NOT_PERSISTENT]


def test_fees_counted_once(eng: types.ModuleType) -> None:
    fees = FeeContext(cu_limit=200_000, cu_price_micro_lamports=50_000, tip_lamports=10_000)
    s = eng.score(opp(profit=100_000), fees, ScorePolicy())
    assert s.total_fee_lamports == s.base_fee_lamports + s.priority_fee_lamports + s.tip_lamports
    assert s.net_profit == s.gross_profit - s.fees_in_base == 100_000 - 25_000


def test_every_failed_check_is_a_reason(eng: types.ModuleType) -> None:
    s = eng.score(
        opp(amount_in=1_000, profit=100, persistence=0, staleness_slots=9),
        FeeContext(),
        ScorePolicy(min_profit_bps=1.0),
    )
    assert not s.go
    assert s.reasons == [
        REASON_NET_BELOW_MIN,
        REASON_BPS_BELOW_MIN,
        REASON_NOT_PERSISTENT,
        REASON_STALE,
    ]
    z = eng.score(opp(amount_in=0, profit=0), FeeContext(), ScorePolicy(min_profit=-(10**9)))
    assert z.reasons[0] == REASON_NOT_PROFITABLE and z.net_profit_bps == 0.0


@pytest.mark.parametrize(
    ("fees", "policy", "exc"),
    [
        (FeeContext(base_per_lamport_den=0), ScorePolicy(), errors.InvalidInputError),
        (FeeContext(), ScorePolicy(min_profit_bps=float("nan")), errors.InvalidInputError),
        (FeeContext(tip_lamports=U64), ScorePolicy(), errors.MathOverflowError),
        (FeeContext(cu_limit=U64 + 1), ScorePolicy(), errors.MathOverflowError),
        (FeeContext(), ScorePolicy(min_profit=1 << 63), errors.MathOverflowError),
    ],
)
def test_bad_input(
    eng: types.ModuleType, fees: FeeContext, policy: ScorePolicy, exc: type[Exception]
) -> None:
    with pytest.raises(exc):
        eng.score(opp(), fees, policy)


small = st.integers(0, 10**12)


@given(
    amount_in=small,
    profit=st.integers(-(10**12), 10**12),
    persistence=st.integers(0, 10),
    stale=st.integers(0, 10),
    cu_limit=st.integers(0, 1_400_000),
    cu_price=st.integers(0, 10**9),
    tip=small,
    sigs=st.integers(0, 4),
    base=st.none() | small,
    num=st.integers(0, 10**6),
    den=st.integers(1, 10**6),
    missing=st.booleans(),
    min_profit=st.integers(-(10**6), 10**6),
    min_bps=st.floats(-100, 100),
    min_pers=st.integers(0, 5),
    max_stale=st.integers(0, 8),
)
def test_twins_agree(**kw: int) -> None:
    try:
        rs = load("rust")
    except ImportError:
        pytest.skip("Rust extension not built")
    py = load("python")
    o = opp(kw["amount_in"], kw["profit"], kw["persistence"], kw["stale"])
    fees = FeeContext(
        cu_limit=kw["cu_limit"],
        cu_price_micro_lamports=kw["cu_price"],
        tip_lamports=kw["tip"],
        signatures=kw["sigs"],
        base_fee_lamports=kw["base"],
        base_per_lamport_num=kw["num"],
        base_per_lamport_den=kw["den"],
        base_rate_missing=bool(kw["missing"]),
    )
    policy = ScorePolicy(
        min_profit=kw["min_profit"],
        min_profit_bps=kw["min_bps"],
        min_persistence=kw["min_pers"],
        max_staleness_slots=kw["max_stale"],
    )
    assert as_dict(rs.score(o, fees, policy)) == as_dict(py.score(o, fees, policy))

"""Constant-product kernels: spec vectors, rounding properties, twins agree, bad input."""

from __future__ import annotations

import types

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine_rs import errors

U64 = (1 << 64) - 1

# spec §8.6 constant_product_swap_rounding (no fee), and the AMM v4 processor vector
ROUNDING = [
    (10, 4_000_000, 70_000_000_000, 174_999),
    (20, 29_980, 10_000, 6),
    (19, 29_980, 10_000, 6),
    (18, 29_980, 10_000, 6),
    (10, 20_000, 30_000, 14),
    (10, 19_991, 30_000, 14),
    (10, 19_990, 30_000, 15),
    (100, 60_000, 30_000, 49),
    (99, 60_000, 30_000, 49),
    (98, 60_000, 30_000, 48),
]


@pytest.mark.parametrize(("amount", "r_in", "r_out", "want"), ROUNDING)
def test_cpmm_rounding_table(
    eng: types.ModuleType, amount: int, r_in: int, r_out: int, want: int
) -> None:
    assert eng.cpmm_amount_out(amount, r_in, r_out, 0, 1_000_000) == want


def test_raydium_amm_v4_vector(eng: types.ModuleType) -> None:
    out = eng.cpmm_amount_out(212_854_295_571, 77_043_918_330_755, 1_511_361_338_135, 25, 10_000)
    assert out == 4_153_651_556


def test_fee_is_ceiled_on_input(eng: types.ModuleType) -> None:
    # 1 unit in with any nonzero fee: ceil(1 * 25 / 10000) = 1 -> nothing left to swap
    assert eng.cpmm_amount_out(1, 1_000, 1_000, 25, 10_000) == 0
    # 400 in at 25 bps: fee = ceil(1.0) = 1, 399 swapped
    assert eng.cpmm_amount_out(400, 10**9, 10**9, 25, 10_000) == 10**9 * 399 // (10**9 + 399)


reserves = st.integers(min_value=1, max_value=U64)
amounts = st.integers(min_value=1, max_value=U64)
fees = st.tuples(st.integers(0, 9_999), st.just(10_000)) | st.tuples(
    st.integers(0, 999_999), st.just(1_000_000)
)


@given(amounts, reserves, reserves, fees)
def test_twins_agree_amount_out(a: int, ri: int, ro: int, fee: tuple[int, int]) -> None:
    from engine_rs import load

    py, rs = load("python"), _maybe_rust()
    if rs is None:
        pytest.skip("Rust extension not built")
    assert rs.cpmm_amount_out(a, ri, ro, *fee) == py.cpmm_amount_out(a, ri, ro, *fee)
    assert rs.cpmm_spot_rate(ri, ro, *fee) == py.cpmm_spot_rate(ri, ro, *fee)


@given(amounts, reserves, reserves, fees)
def test_twins_agree_amount_in(out: int, ri: int, ro: int, fee: tuple[int, int]) -> None:
    from engine_rs import load

    py, rs = load("python"), _maybe_rust()
    if rs is None:
        pytest.skip("Rust extension not built")
    results = []
    for mod in (rs, py):
        try:
            results.append(mod.cpmm_amount_in(out, ri, ro, *fee))
        except errors.EngineError as exc:
            results.append(type(exc))
    assert results[0] == results[1]


@given(st.integers(1, 10**12), st.integers(1, 10**15), st.integers(1, 10**15), fees)
def test_exact_out_is_the_least_input_that_covers(
    out: int, ri: int, ro: int, fee: tuple[int, int]
) -> None:
    from engine_rs import load

    py = load("python")
    try:
        need = py.cpmm_amount_in(out, ri, ro, *fee)
    except (errors.InsufficientLiquidityError, errors.MathOverflowError):
        return
    assert py.cpmm_amount_out(need, ri, ro, *fee) >= out


def _maybe_rust() -> types.ModuleType | None:
    from engine_rs import load

    try:
        return load("rust")
    except ImportError:
        return None


@pytest.mark.parametrize(
    ("args", "exc"),
    [
        ((1, 0, 5, 25, 10_000), errors.InvalidInputError),
        ((1, 5, 0, 25, 10_000), errors.InvalidInputError),
        ((0, 5, 5, 25, 10_000), errors.InvalidInputError),
        ((1, 5, 5, 10_000, 10_000), errors.InvalidInputError),
        ((1, 5, 5, 0, 0), errors.InvalidInputError),
        ((U64 + 1, 5, 5, 25, 10_000), errors.MathOverflowError),
        ((-1, 5, 5, 25, 10_000), errors.MathOverflowError),
    ],
)
def test_bad_input_amount_out(
    eng: types.ModuleType, args: tuple[int, ...], exc: type[Exception]
) -> None:
    with pytest.raises(exc):
        eng.cpmm_amount_out(*args)


def test_nan_and_float_are_type_errors(eng: types.ModuleType) -> None:
    with pytest.raises(TypeError):
        eng.cpmm_amount_out(float("nan"), 5, 5, 25, 10_000)
    with pytest.raises(TypeError):
        eng.cpmm_amount_out(1.0, 5, 5, 25, 10_000)


def test_exact_out_errors(eng: types.ModuleType) -> None:
    with pytest.raises(errors.InsufficientLiquidityError):
        eng.cpmm_amount_in(5, 5, 5, 25, 10_000)
    with pytest.raises(errors.MathOverflowError):
        eng.cpmm_amount_in(U64 - 1, U64, U64, 25, 10_000)
    # the error classes refine builtins, so generic handlers still work
    with pytest.raises(ValueError):
        eng.cpmm_amount_in(5, 5, 5, 25, 10_000)

"""Indicators: TA-Lib as the oracle (random walks, flat, gapped, tiny, NaN/inf, short),
Rust == twin, incremental == batch, and typed errors."""

from __future__ import annotations

import math
import types
from typing import Any

import numpy as np
import pytest
import talib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_rs import errors

STATELESS_FIXTURE = [HealthCheck.function_scoped_fixture]
TOL = 1e-9  # the bar against TA-Lib


def _series() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    walk = 100 + np.cumsum(rng.normal(0, 1, 2_000))
    return {
        "walk": walk,
        "walk_small_steps": 50 + np.cumsum(rng.normal(0, 1e-3, 500)),
        "flat": np.full(120, 7.25),
        "gapped": np.concatenate(
            [np.full(40, 10.0), np.full(40, 25.0), 12 + np.cumsum(rng.normal(0, 0.1, 80))]
        ),
        "tiny_prices": 1e-5 * (1 + 0.01 * np.cumsum(rng.normal(0, 1, 300))),
        "huge_prices": 1e9 + np.cumsum(rng.normal(0, 1e3, 300)),
        "nan_inside": np.where(np.arange(300) == 150, np.nan, walk[:300]),
        "nan_first": np.where(np.arange(100) == 0, np.nan, walk[:100]),
        "inf_inside": np.where(np.arange(300) == 120, np.inf, walk[:300]),
        "len0": np.array([], dtype=float),
        "len1": np.array([3.0]),
        "len13": walk[:13],
        "len14": walk[:14],
        "len15": walk[:15],
        "len20": walk[:20],
        "len21": walk[:21],
    }


SERIES = _series()


def assert_matches(ours: np.ndarray, oracle: np.ndarray, what: str, atol: float = 0.0) -> None:
    assert ours.shape == oracle.shape and ours.dtype == np.float64, what
    assert np.array_equal(np.isnan(ours), np.isnan(oracle)), f"{what}: NaN positions differ"
    ok = ~np.isnan(oracle)
    if ok.any():
        a, b = ours[ok], oracle[ok]
        both_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
        fin = ~both_inf
        excess = np.maximum(np.abs(a[fin] - b[fin]) - atol, 0.0)
        rel = excess / np.maximum(np.abs(b[fin]), 1e-300)
        assert not fin.any() or rel.max() <= TOL, f"{what}: max rel {rel.max():.3e}"


@pytest.mark.parametrize("name", sorted(SERIES))
@pytest.mark.parametrize("period", [2, 5, 14, 30])
def test_matches_ta_lib(eng: types.ModuleType, name: str, period: int) -> None:
    x = SERIES[name]
    assert_matches(eng.rsi(x, period), talib.RSI(x, period), f"rsi {name} {period}")
    assert_matches(eng.ema(x, period), talib.EMA(x, period), f"ema {name} {period}")
    assert_matches(eng.kama(x, period), talib.KAMA(x, period), f"kama {name} {period}")
    for k in (1.0, 2.0, 2.5):
        ours = eng.bollinger(x, period, k)
        oracle = talib.BBANDS(x, period, k, k, 0)
        for o, t, band in zip(ours, oracle, ("upper", "middle", "lower")):
            assert_matches(o, t, f"bollinger {band} {name} {period} k={k}")


def test_defaults_match_ta_lib_defaults(eng: types.ModuleType) -> None:
    x = SERIES["walk"]
    assert_matches(eng.rsi(x), talib.RSI(x), "rsi default 14")
    # our default period is 10 (the API asked for); TA-Lib's own KAMA default is 30
    assert_matches(eng.kama(x), talib.KAMA(x, 10), "kama default 10 (2/30)")
    for o, t in zip(eng.bollinger(x), talib.BBANDS(x, 20, 2.0, 2.0, 0)):
        assert_matches(o, t, "bollinger default 20, 2")
    assert_matches(eng.ema(x, 1), talib.EMA(x, 1), "ema period 1")
    assert_matches(eng.kama(x, 1), talib.KAMA(x, 1), "kama period 1")


walks = st.builds(
    lambda start, steps: start + np.cumsum(np.asarray(steps, dtype=np.float64)),
    st.floats(1.0, 1e4),
    st.lists(st.floats(-5.0, 5.0), min_size=0, max_size=200),
)


@settings(max_examples=120, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(x=walks, period=st.integers(2, 40), k=st.floats(0.5, 3.0))
def test_random_walks_match_ta_lib(
    eng: types.ModuleType, x: np.ndarray, period: int, k: float
) -> None:
    assert_matches(eng.rsi(x, period), talib.RSI(x, period), "rsi")
    assert_matches(eng.ema(x, period), talib.EMA(x, period), "ema")
    assert_matches(eng.kama(x, period), talib.KAMA(x, period), "kama")
    # sigma comes from E[x^2] - E[x]^2 (TA-Lib's formula too): when the window is nearly
    # flat the difference cancels, and any two evaluation orders may differ by up to
    # sqrt(|rounding of E[x^2]|) in sigma. The bands are allowed k times that, no more.
    cancel = k * float(np.sqrt(16 * np.finfo(np.float64).eps * np.max(x * x, initial=0.0)))
    bands = zip(eng.bollinger(x, period, k), talib.BBANDS(x, period, k, k, 0), (cancel, 0, cancel))
    for o, t, atol in bands:
        assert_matches(o, t, "bollinger", atol)


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.allclose(a, b, rtol=1e-12, atol=0.0, equal_nan=True))


@settings(max_examples=120, deadline=None)
@given(x=walks, period=st.integers(1, 40), fast=st.integers(1, 5), slow=st.integers(6, 40))
def test_rust_and_twin_agree(
    rust: types.ModuleType,
    py: types.ModuleType,
    x: np.ndarray,
    period: int,
    fast: int,
    slow: int,
) -> None:
    assert _same(rust.ema(x, period), py.ema(x, period))
    assert _same(rust.kama(x, period, fast, slow), py.kama(x, period, fast, slow))
    if period >= 2:
        assert _same(rust.rsi(x, period), py.rsi(x, period))
        assert all(_same(r, p) for r, p in zip(rust.bollinger(x, period), py.bollinger(x, period)))


def _incremental(cls: Any, x: np.ndarray) -> list[Any]:
    out = []
    for v in x.tolist():
        out.append(cls.update(v))
    return out


@pytest.mark.parametrize("name", ["walk", "flat", "gapped", "tiny_prices", "len14", "len0"])
def test_incremental_equals_batch(eng: types.ModuleType, name: str) -> None:
    x = SERIES[name][:400]
    pairs = [
        (eng.Rsi(14), eng.rsi(x, 14)),
        (eng.Ema(10), eng.ema(x, 10)),
        (eng.Kama(10, 2, 30), eng.kama(x, 10, 2, 30)),
        (eng.Kama(1), eng.kama(x, 1)),
    ]
    for obj, batch in pairs:
        got = _incremental(obj, x)
        for i, v in enumerate(got):
            if math.isnan(batch[i]):
                assert v is None, (type(obj).__name__, i)
            else:
                assert v == batch[i], (type(obj).__name__, i)  # bit for bit
        assert obj.count == len(x) and obj.ready == (len(x) > 0 and not math.isnan(batch[-1]))
    b = eng.Bollinger(20, 2.0)
    bands = eng.bollinger(x, 20, 2.0)
    for i, v in enumerate(_incremental(b, x)):
        if math.isnan(bands[1][i]):
            assert v is None
        else:
            assert v == (bands[0][i], bands[1][i], bands[2][i])


def test_update_refuses_non_finite_and_keeps_state(eng: types.ModuleType) -> None:
    for obj in (eng.Rsi(3), eng.Ema(3), eng.Kama(3), eng.Bollinger(3, 2.0)):
        for v in (1.0, 2.0, 3.0, 2.5):
            obj.update(v)
        before = (obj.count, obj.value)
        for bad in (float("nan"), float("inf"), -float("inf")):
            with pytest.raises(errors.InvalidInputError):
                obj.update(bad)
        assert (obj.count, obj.value) == before
        with pytest.raises(TypeError):
            obj.update("1.5")
        obj.reset()
        assert obj.count == 0 and obj.value is None and not obj.ready


@pytest.mark.parametrize(
    ("call", "exc"),
    [
        (lambda m: m.rsi(np.ones(30), 1), errors.InvalidInputError),
        (lambda m: m.rsi(np.ones(30), 0), errors.InvalidInputError),
        (lambda m: m.ema(np.ones(30), 0), errors.InvalidInputError),
        (lambda m: m.ema(np.ones(30), -3), errors.InvalidInputError),
        (lambda m: m.kama(np.ones(30), 0), errors.InvalidInputError),
        (lambda m: m.kama(np.ones(30), 10, 30, 2), errors.InvalidInputError),
        (lambda m: m.bollinger(np.ones(30), 1), errors.InvalidInputError),
        (lambda m: m.bollinger(np.ones(30), 20, float("nan")), errors.InvalidInputError),
        (lambda m: m.ema(np.ones((3, 10)), 2), errors.InvalidInputError),
        (lambda m: m.ema(np.ones(30), 200_000), errors.InvalidInputError),
        (lambda m: m.ema(np.ones(30), 2.5), TypeError),
        (lambda m: m.Rsi(0), errors.InvalidInputError),
        (lambda m: m.Ema(0), errors.InvalidInputError),
        (lambda m: m.Bollinger(20, float("inf")), errors.InvalidInputError),
        (lambda m: m.Kama(10, 5, 5), errors.InvalidInputError),
    ],
)
def test_bad_input_is_a_typed_error(eng: types.ModuleType, call: Any, exc: type) -> None:
    with pytest.raises(exc):
        call(eng)


def test_inputs_other_than_float64_arrays(eng: types.ModuleType) -> None:
    x = SERIES["walk"][:100]
    want = eng.ema(x, 10)
    assert np.array_equal(eng.ema(x.tolist(), 10), want, equal_nan=True)
    assert np.array_equal(
        eng.ema(x.astype(np.float32), 10),
        eng.ema(x.astype(np.float32).astype(float), 10),
        equal_nan=True,
    )
    strided = np.repeat(x, 2)[::2]  # a non-contiguous view
    assert np.array_equal(eng.ema(strided, 10), want, equal_nan=True)
    assert eng.rsi(np.array([], dtype=float)).shape == (0,)

"""Indicators: TA-Lib as the oracle (random walks, flat, nearly flat, stepped, gapped,
tiny, NaN/inf, short), Rust == twin, incremental == batch, and typed errors.

Bollinger is TA-Lib's BBANDS bit for bit, except that a window of equal prices has zero
width exactly (TA-Lib's reseeded variance usually gets there, not always: see
``FLAT_AFTER_MOVES``)."""

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


# Ten prices moving by up to 11 then by ~1e-4, then flat: TA-Lib 0.8.1 leaves a width of
# 9.6e-8 (5.5e-10 of the price) on every flat window here, because the deviation leaving
# the window is too small to trigger its reseed; ours is 0.
FLAT_AFTER_MOVES = np.array(
    [
        172.97556154540203,
        173.6417007741936,
        161.74285953027172,
        173.06259196521663,
        172.9755770133214,
        172.97556308138965,
        172.97562844391126,
        172.9755576884579,
        172.97548473495013,
        172.97550360682177,
        172.97575019987582,
        172.97557565603807,
        172.97559326340433,
    ]
    + [172.97556154540203] * 20
)


# KAMA after jumps, found by hypothesis. A window of exactly-zero changes has path 0, not
# the running sum's residue (8.9e-16 here; scaled by 64 it is beyond TA_IS_ZERO's 1e-14).
KAMA_FLAT_AFTER_JUMP = 64.0 * np.array(
    [
        1.0,
        -3.832636426833944,
        0.9691071409686431,
        0.9691071409686431,
        0.9691071409686431,
        0.969107140598614,
    ]
)
# KAMA(3) (hence period 3 below): straight falls of ~1e-10 whose running path rounded
# below |change|; the efficiency ratio is 1, not 1.0000003.
KAMA_STRAIGHT_FALL = np.array(
    [
        0.4669171070276325,
        0.3603408302491639,
        1.9158159960925571,
        -0.32481359363005197,
        -0.32481359356116535,
        -0.3248135934749901,
        -0.324813593590845,
        -0.3248135938488697,
        -0.3248135938488697,
        -0.3248135938220995,
        -0.32481359428451884,
        -0.32481359428451884,
        -0.32481359428451884,
        -0.3248135942433443,
        -0.3248135942433443,
        -0.3248135942067233,
    ]
)


def _series() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    walk = 100 + np.cumsum(rng.normal(0, 1, 2_000))
    near_43 = 43 + np.cumsum(rng.normal(0, 0.3, 400))
    return {
        "walk": walk,
        "walk_small_steps": 50 + np.cumsum(rng.normal(0, 1e-3, 500)),
        "flat": np.full(120, 7.25),
        # a walk near 43, then flat at a price that is not a short binary fraction
        "flat_after_walk": np.concatenate([near_43, np.full(60, near_43[-1])]),
        "flat_after_moves": FLAT_AFTER_MOVES,
        # steps of ~1e-12 on 43.17: windows that are nearly, not exactly, flat
        "nearly_flat": 43.17 + np.cumsum(rng.choice([-1e-12, 0.0, 1e-12], 300)),
        # plateaus one cent apart and a jump, each longer than the periods tested
        "stepped": np.repeat([43.17, 43.18, 43.17, 43.16, 57.3, 43.17], 40),
        "gapped": np.concatenate(
            [np.full(40, 10.0), np.full(40, 25.0), 12 + np.cumsum(rng.normal(0, 0.1, 80))]
        ),
        "kama_flat_after_jump": KAMA_FLAT_AFTER_JUMP,
        "kama_straight_fall": KAMA_STRAIGHT_FALL,
        "tiny_prices": 1e-5 * (1 + 0.01 * np.cumsum(rng.normal(0, 1, 300))),
        "huge_prices": 1e9 + np.cumsum(rng.normal(0, 1e3, 300)),
        # prices near the subnormals: the batch takes their middle band with the divider
        "subnormal_prices": 1e-306 * (1 + 0.01 * np.cumsum(rng.normal(0, 1, 300))),
        "nan_inside": np.where(np.arange(300) == 150, np.nan, walk[:300]),
        "nan_first": np.where(np.arange(100) == 0, np.nan, walk[:100]),
        "inf_inside": np.where(np.arange(300) == 120, np.inf, walk[:300]),
        "inf_first": np.where(np.arange(100) == 0, np.inf, walk[:100]),
        "len0": np.array([], dtype=float),
        "len1": np.array([3.0]),
        "len13": walk[:13],
        "len14": walk[:14],
        "len15": walk[:15],
        "len20": walk[:20],
        "len21": walk[:21],
    }


SERIES = _series()


def assert_matches(ours: np.ndarray, oracle: np.ndarray, what: str) -> None:
    assert ours.shape == oracle.shape and ours.dtype == np.float64, what
    assert np.array_equal(np.isnan(ours), np.isnan(oracle)), f"{what}: NaN positions differ"
    ok = ~np.isnan(oracle)
    if ok.any():
        a, b = ours[ok], oracle[ok]
        both_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
        fin = ~both_inf
        rel = np.abs(a[fin] - b[fin]) / np.maximum(np.abs(b[fin]), 1e-300)
        assert not fin.any() or rel.max() <= TOL, f"{what}: max rel {rel.max():.3e}"


def flat_windows(x: np.ndarray, period: int) -> np.ndarray:
    """True at each index ending a window of ``period`` equal finite prices."""
    same = np.concatenate([[False], x[1:] == x[:-1]])
    run = np.zeros(len(x), dtype=np.int64)
    for i in range(len(x)):
        run[i] = run[i - 1] + 1 if same[i] else 1
    return (run >= period) & np.isfinite(x)


def ta_lib_bands(x: np.ndarray, period: int, k: float) -> tuple[np.ndarray, ...]:
    """TA-Lib's BBANDS, except that a flat window has zero width (both bands the middle)."""
    upper, middle, lower = talib.BBANDS(x, period, k, k, 0)
    flat = flat_windows(x, period)
    return np.where(flat, middle, upper), middle, np.where(flat, middle, lower)


def assert_bands(ours: tuple[np.ndarray, ...], x: np.ndarray, period: int, k: float) -> None:
    flat = flat_windows(x, period)
    upper, middle, lower = ours
    assert np.array_equal(upper[flat], middle[flat]) and np.array_equal(lower[flat], middle[flat])
    for o, t, band in zip(ours, ta_lib_bands(x, period, k), ("upper", "middle", "lower")):
        assert_matches(o, t, f"bollinger {band} {period} k={k}")


@pytest.mark.parametrize("name", sorted(SERIES))
@pytest.mark.parametrize("period", [2, 3, 5, 14, 30])
def test_matches_ta_lib(eng: types.ModuleType, name: str, period: int) -> None:
    x = SERIES[name]
    assert_matches(eng.rsi(x, period), talib.RSI(x, period), f"rsi {name} {period}")
    assert_matches(eng.ema(x, period), talib.EMA(x, period), f"ema {name} {period}")
    assert_matches(eng.kama(x, period), talib.KAMA(x, period), f"kama {name} {period}")
    for k in (1.0, 2.0, 2.5):
        assert_bands(eng.bollinger(x, period, k), x, period, k)


@pytest.mark.parametrize("name", sorted(SERIES))
@pytest.mark.parametrize("period", [2, 5, 20, 30])
def test_bollinger_is_ta_lib_bit_for_bit(eng: types.ModuleType, name: str, period: int) -> None:
    """The same operations as TA-Lib 0.8's BBANDS (its shifted, reseeded variance sums),
    so the same bits, apart from zero width on flat windows."""
    x = SERIES[name]
    for k in (1.0, 1.7, 2.0):
        for o, t in zip(eng.bollinger(x, period, k), ta_lib_bands(x, period, k)):
            assert np.array_equal(o, t, equal_nan=True), (name, period, k)


@pytest.mark.parametrize("name", ["flat", "flat_after_walk", "flat_after_moves", "stepped"])
def test_flat_windows_have_zero_width(eng: types.ModuleType, name: str) -> None:
    x = SERIES[name]
    for period in (2, 10, 20):
        flat = flat_windows(x, period)
        assert flat.any()
        upper, middle, lower = eng.bollinger(x, period, 2.0)
        assert np.all(upper[flat] == middle[flat]) and np.all(lower[flat] == middle[flat])
        # the incremental class too: %B, (price − lower) / (upper − lower), is then
        # undefined and the dashboard shows none
        b = eng.Bollinger(period, 2.0)
        got = [b.update(v) for v in x.tolist()]
        assert all(got[i][0] == got[i][2] for i in np.flatnonzero(flat))
    # nearly flat windows keep their (tiny) width, as TA-Lib computes it
    x = SERIES["nearly_flat"]
    upper, middle, lower = eng.bollinger(x, 20, 2.0)
    width = (upper - lower)[~flat_windows(x, 20)][19:]
    assert np.all(width > 0) and np.all(width < 1e-10)


def test_defaults_match_ta_lib_defaults(eng: types.ModuleType) -> None:
    x = SERIES["walk"]
    assert_matches(eng.rsi(x), talib.RSI(x), "rsi default 14")
    # our default period is 10 (the API asked for); TA-Lib's own KAMA default is 30
    assert_matches(eng.kama(x), talib.KAMA(x, 10), "kama default 10 (2/30)")
    for o, t in zip(eng.bollinger(x), talib.BBANDS(x, 20, 2.0, 2.0, 0)):
        assert_matches(o, t, "bollinger default 20, 2")
    assert_matches(eng.ema(x, 1), talib.EMA(x, 1), "ema period 1")
    assert_matches(eng.kama(x, 1), talib.KAMA(x, 1), "kama period 1")


# steps that are often exactly 0 or tiny: flat and nearly flat windows among the moves
steps = st.one_of(st.floats(-5.0, 5.0), st.just(0.0), st.floats(-1e-9, 1e-9))
walks = st.builds(
    lambda start, steps: start + np.cumsum(np.asarray(steps, dtype=np.float64)),
    st.floats(1.0, 1e4),
    st.lists(steps, min_size=0, max_size=200),
)


@settings(max_examples=120, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(x=walks, period=st.integers(2, 40), k=st.floats(0.5, 3.0))
def test_random_walks_match_ta_lib(
    eng: types.ModuleType, x: np.ndarray, period: int, k: float
) -> None:
    assert_matches(eng.rsi(x, period), talib.RSI(x, period), "rsi")
    assert_matches(eng.ema(x, period), talib.EMA(x, period), "ema")
    assert_matches(eng.kama(x, period), talib.KAMA(x, period), "kama")
    assert_bands(eng.bollinger(x, period, k), x, period, k)


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


@pytest.mark.parametrize(
    "name",
    ["walk", "flat", "flat_after_moves", "stepped", "gapped", "tiny_prices", "len14", "len0"],
)
def test_incremental_equals_batch(eng: types.ModuleType, name: str) -> None:
    x = SERIES[name][:1_500]  # the walk: Bollinger's forced reseeds (every 32 periods) too
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

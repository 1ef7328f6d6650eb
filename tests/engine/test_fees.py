"""FeeEstimator: numpy's inverted-CDF percentile as the oracle, the window rules, the
congestion definition recomputed independently, Rust == twin, and bad input."""

from __future__ import annotations

import math
import types
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_rs import errors
from engine_rs.records import as_dict

U64 = (1 << 64) - 1
# `eng` is a backend module, not state: reusing it across examples is fine
STATELESS_FIXTURE = [HealthCheck.function_scoped_fixture]

samples_st = st.lists(
    st.tuples(
        st.integers(0, 400),
        st.one_of(st.integers(0, 2_000), st.integers(0, 10**9), st.sampled_from([0, 1, U64])),
    ),
    max_size=300,
)
percentiles_st = st.one_of(
    st.sampled_from([0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 100.0]),
    st.floats(0.0, 100.0, allow_nan=False),
)


def window_model(samples: list[tuple[int, int]], window: int) -> tuple[list[tuple[int, int]], int]:
    """The samples a window of ``window`` slots keeps, and how many it refused on
    arrival, replayed from the rules alone."""
    kept: list[tuple[int, int]] = []
    newest: int | None = None
    refused = 0
    for slot, price in samples:
        if newest is not None and slot < max(newest - window + 1, 0):
            refused += 1
            continue
        newest = slot if newest is None else max(newest, slot)
        kept.append((slot, price))
    floor = 0 if newest is None else max(newest - window + 1, 0)
    return [(s, p) for s, p in kept if s >= floor], refused


@settings(max_examples=150, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(samples=samples_st, window=st.integers(1, 200), ps=st.lists(percentiles_st, max_size=6))
def test_percentile_is_numpy_inverted_cdf_over_the_window(
    eng: types.ModuleType, samples: list[tuple[int, int]], window: int, ps: list[float]
) -> None:
    f = eng.FeeEstimator(window)
    for slot, price in samples:
        f.add(slot, price)
    live, refused = window_model(samples, window)
    assert len(f) == len(live)
    assert f.dropped == refused
    if not live:
        with pytest.raises(errors.EmptyWindowError):
            f.percentile(50)
        return
    values = np.array([p for _, p in live], dtype=np.uint64)
    for p in ps:
        want = int(np.percentile(values, p, method="inverted_cdf"))
        assert f.percentile(p) == want, (p, sorted(values.tolist()))
    assert f.percentiles(ps) == [f.percentile(p) for p in ps]
    assert f.oldest_slot == min(s for s, _ in live)
    assert f.newest_slot == max(s for s, _ in samples)


@settings(max_examples=100, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(samples=samples_st, window=st.integers(1, 200), sat=st.integers(1, 10**12))
def test_congestion_matches_its_definition(
    eng: types.ModuleType, samples: list[tuple[int, int]], window: int, sat: int
) -> None:
    f = eng.FeeEstimator(window, sat)
    f.add_many(samples)
    live, _ = window_model(samples, window)
    if not live:
        with pytest.raises(errors.EmptyWindowError):
            f.congestion()
        return
    lowest: dict[int, int] = {}
    for s, p in live:
        lowest[s] = min(p, lowest.get(s, p))
    want = sum(min(math.log1p(m) / math.log1p(sat), 1.0) for m in lowest.values()) / len(lowest)
    got = f.congestion()
    assert 0.0 <= got <= 1.0
    assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-15)
    by_slot = f.by_slot(50)
    assert [b[0] for b in by_slot] == sorted(lowest)
    assert all(b[2] == lowest[b[0]] for b in by_slot)
    assert sum(b[1] for b in by_slot) == len(live)


@settings(max_examples=100, deadline=None)
@given(
    samples=samples_st,
    window=st.integers(1, 200),
    ps=st.lists(percentiles_st, min_size=1, max_size=4),
    limit=st.integers(1, 1_400_000),
)
def test_rust_and_twin_agree(
    rust: types.ModuleType,
    py: types.ModuleType,
    samples: list[tuple[int, int]],
    window: int,
    ps: list[float],
    limit: int,
) -> None:
    r, p = rust.FeeEstimator(window), py.FeeEstimator(window)
    for i in range(0, len(samples), 7):  # mix add and add_many
        chunk = samples[i : i + 7]
        if i % 2:
            assert r.add_many(chunk) == p.add_many(chunk)
        else:
            assert [r.add(*s) for s in chunk] == [p.add(*s) for s in chunk]
    assert (len(r), r.dropped, r.slot_count, r.newest_slot, r.oldest_slot) == (
        len(p),
        p.dropped,
        p.slot_count,
        p.newest_slot,
        p.oldest_slot,
    )
    if not len(p):
        for obj in (r, p):
            with pytest.raises(errors.EmptyWindowError):
                obj.recommend(limit, ps[0])
        return
    assert r.percentiles(ps) == p.percentiles(ps)
    assert r.by_slot(ps[0]) == p.by_slot(ps[0])
    assert math.isclose(r.congestion(), p.congestion(), rel_tol=1e-12, abs_tol=0.0)
    assert as_dict(r.recommend(limit, ps[0])) == as_dict(p.recommend(limit, ps[0]))


def test_old_slots_fall_out(eng: types.ModuleType) -> None:
    f = eng.FeeEstimator(window_slots=150)
    assert f.add_many([(1000 + i, 10 * i) for i in range(150)]) == 150
    assert f.percentile(0) == 0 and f.oldest_slot == 1000
    assert f.add(1150, 7)  # slot 1000 leaves
    assert f.oldest_slot == 1001 and len(f) == 150 and f.percentile(0) == 7
    assert not f.add(1000, 1)  # arrived too late: not kept, counted
    assert f.dropped == 1 and len(f) == 150
    assert f.add(5000, 42)  # a jump empties the old window
    assert len(f) == 1 and f.percentile(100) == 42 and f.slot_count == 1


def test_recommend_uses_spec_priority_fee(eng: types.ModuleType) -> None:
    f = eng.FeeEstimator()
    f.add_many([(10, 100), (10, 200), (11, 300), (12, 400)])
    r = f.recommend(100_000, 50)
    assert r.cu_price_micro_lamports == 200
    assert r.priority_fee_lamports == 20  # ceil(200 * 100_000 / 1e6), spec §5.3
    assert (r.cu_limit, r.samples, r.newest_slot, r.percentile) == (100_000, 4, 12, 50.0)
    assert f.recommend(1, 100).priority_fee_lamports == 1  # ceil(400 / 1e6)
    assert f.recommend(300_000).cu_price_micro_lamports == 300  # default p75


def test_empty_window_says_so(eng: types.ModuleType) -> None:
    f = eng.FeeEstimator()
    for call in (lambda: f.percentile(50), f.congestion, lambda: f.recommend(200_000, 75)):
        with pytest.raises(errors.EmptyWindowError, match="no fee samples"):
            call()
    assert f.newest_slot is None and f.oldest_slot is None and len(f) == 0
    f.add(7, 5)
    f.clear()
    with pytest.raises(LookupError):  # EmptyWindowError is a LookupError too
        f.percentile(50)


@pytest.mark.parametrize(
    ("call", "exc"),
    [
        (lambda m: m.FeeEstimator(0), errors.InvalidInputError),
        (lambda m: m.FeeEstimator(15_001), errors.InvalidInputError),
        (lambda m: m.FeeEstimator(-1), errors.MathOverflowError),
        (lambda m: m.FeeEstimator(150, 0), errors.InvalidInputError),
        (lambda m: m.FeeEstimator(1.5), TypeError),
        (lambda m: m.FeeEstimator().add(-1, 5), errors.MathOverflowError),
        (lambda m: m.FeeEstimator().add(1, 1 << 64), errors.MathOverflowError),
        (lambda m: m.FeeEstimator().add(1, 2.5), TypeError),
        (lambda m: m.FeeEstimator().add_many([(1, 2, 3)]), TypeError),
        (lambda m: m.FeeEstimator().add_many([5]), TypeError),
        (lambda m: _one(m).percentile(float("nan")), errors.InvalidInputError),
        (lambda m: _one(m).percentile(100.01), errors.InvalidInputError),
        (lambda m: _one(m).percentile(-1), errors.InvalidInputError),
        (lambda m: _one(m).percentile("50"), TypeError),
        (lambda m: _one(m).percentile(True), TypeError),
        (lambda m: _one(m).recommend(0, 50), errors.InvalidInputError),
        (lambda m: _one(m).recommend(1_400_001, 50), errors.InvalidInputError),
        (lambda m: _one(m).recommend(200_000, float("inf")), errors.InvalidInputError),
    ],
)
def test_bad_input_is_a_typed_error(
    eng: types.ModuleType, call: Callable[[types.ModuleType], object], exc: type[Exception]
) -> None:
    with pytest.raises(exc):
        call(eng)


def _one(m: types.ModuleType) -> object:
    f = m.FeeEstimator()
    f.add(1, 1)
    return f


def test_bad_add_many_adds_nothing(eng: types.ModuleType) -> None:
    f = eng.FeeEstimator()
    with pytest.raises(errors.MathOverflowError):
        f.add_many([(1, 5), (2, -1)])
    assert len(f) == 0 and f.newest_slot is None

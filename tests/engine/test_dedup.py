"""Deduper: a reference model written here from the rules (first copy wins, two
generations of capacity/2 keys with the older forgotten whole, lags against the first
copy), numpy for the p99, Rust == twin, and bad input that accepts nothing."""

from __future__ import annotations

import statistics
import types
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_rs import errors
from engine_rs.records import as_dict

STATELESS_FIXTURE = [HealthCheck.function_scoped_fixture]

arrivals_st = st.lists(
    st.tuples(
        st.binary(min_size=1, max_size=3),  # few distinct keys: many duplicates
        st.integers(0, 4),
        st.integers(0, 10**6),
    ),
    max_size=400,
)


def model(
    arrivals: list[tuple[bytes, int, int]], capacity: int, lag_window: int
) -> tuple[list[bool], dict[int, dict[str, object]], int]:
    """Accept flags, per-endpoint stats and the keys remembered, from the documented
    rules only."""
    first: OrderedDict[bytes, int] = OrderedDict()  # by first arrival
    half, in_current = capacity // 2, 0
    flags: list[bool] = []
    per: dict[int, dict[str, list[int] | int]] = {}
    for key, ep, ns in arrivals:
        e = per.setdefault(ep, {"first": 0, "lags": []})
        if key in first:
            flags.append(False)
            e["lags"].append(ns - first[key])  # type: ignore[union-attr]
            continue
        if in_current >= half:  # forget everything older than the current generation
            while len(first) > in_current:
                first.popitem(last=False)
            in_current = 0
        first[key] = ns
        in_current += 1
        e["first"] += 1  # type: ignore[operator]
        flags.append(True)
    stats: dict[int, dict[str, object]] = {}
    for ep, e in per.items():
        lags: list[int] = e["lags"]  # type: ignore[assignment]
        recent = lags[-lag_window:]
        stats[ep] = {
            "endpoint": ep,
            "first_seen": e["first"],
            "duplicates": len(lags),
            "lag_mean_ns": statistics.fmean(lags) if lags else None,
            "lag_p50_ns": int(np.percentile(recent, 50, method="inverted_cdf")) if lags else None,
            "lag_p99_ns": int(np.percentile(recent, 99, method="inverted_cdf")) if lags else None,
            "lag_samples": len(recent),
        }
    return flags, stats, len(first)


@settings(max_examples=200, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(arrivals=arrivals_st, capacity=st.integers(2, 40), lag_window=st.integers(1, 50))
def test_matches_the_reference_model(
    eng: types.ModuleType,
    arrivals: list[tuple[bytes, int, int]],
    capacity: int,
    lag_window: int,
) -> None:
    d = eng.Deduper(capacity, lag_window)
    flags = [d.accept(k, e, t) for k, e, t in arrivals]
    want_flags, want_stats, remembered = model(arrivals, capacity, lag_window)
    assert flags == want_flags
    assert len(d) == remembered <= capacity
    got = {s.endpoint: as_dict(s) for s in d.stats()}
    assert got.keys() == want_stats.keys()
    for ep, want in want_stats.items():
        g = got[ep]
        for field in (
            "endpoint",
            "first_seen",
            "duplicates",
            "lag_p50_ns",
            "lag_p99_ns",
            "lag_samples",
        ):
            assert g[field] == want[field], (ep, field)
        if want["lag_mean_ns"] is None:
            assert g["lag_mean_ns"] is None
        else:
            assert g["lag_mean_ns"] == pytest.approx(want["lag_mean_ns"], rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    arrivals=arrivals_st,
    capacity=st.integers(2, 40),
    batch=st.integers(1, 50),
    broadcast=st.booleans(),
)
def test_rust_and_twin_agree_in_batches(
    rust: types.ModuleType,
    py: types.ModuleType,
    arrivals: list[tuple[bytes, int, int]],
    capacity: int,
    batch: int,
    broadcast: bool,
) -> None:
    r, p = rust.Deduper(capacity, 16), py.Deduper(capacity, 16)
    for i in range(0, len(arrivals), batch):
        chunk = arrivals[i : i + batch]
        keys = [k for k, _, _ in chunk]
        eps: list[int] | int = chunk[0][1] if broadcast else [e for _, e, _ in chunk]
        nss = tuple(t for _, _, t in chunk)  # tuples work as well as lists
        assert r.accept_many(keys, eps, nss) == p.accept_many(keys, eps, nss)
    assert [as_dict(s) for s in r.stats()] == [as_dict(s) for s in p.stats()]
    assert (len(r), r.evicted) == (len(p), p.evicted)
    for k, _, _ in arrivals[:20]:
        assert (k in r) == (k in p)


def test_three_endpoints_lead_and_lag(eng: types.ModuleType) -> None:
    d = eng.Deduper(1_000)
    # endpoint 0 is first for 60% of messages; 1 trails by 2 µs, 2 by 5 µs
    keys, eps, nss = [], [], []
    for i in range(100):
        k = i.to_bytes(8, "little")
        leader = 0 if i % 5 < 3 else 1
        order = [(leader, 0), (1 - leader, 2_000), (2, 5_000)]
        for ep, dt in order:
            keys.append(k)
            eps.append(ep)
            nss.append(i * 1_000_000 + dt)
    flags = d.accept_many(keys, eps, nss)
    assert sum(flags) == 100
    s = {x.endpoint: x for x in d.stats()}
    assert (s[0].first_seen, s[1].first_seen, s[2].first_seen) == (60, 40, 0)
    assert s[2].duplicates == 100 and s[2].lag_mean_ns == 5_000.0 and s[2].lag_p99_ns == 5_000
    assert s[0].duplicates == 40 and s[0].lag_mean_ns == 2_000.0
    assert s[1].lag_p99_ns == 2_000


def test_memory_is_bounded(eng: types.ModuleType) -> None:
    d = eng.Deduper(capacity=100)
    d.accept_many([i.to_bytes(4, "little") for i in range(1_000)], 0, 0)
    assert len(d) == 100 and d.evicted == 900
    assert (999).to_bytes(4, "little") in d and (0).to_bytes(4, "little") not in d
    d.clear()
    assert len(d) == 0 and d.stats() == []


@pytest.mark.parametrize(
    ("call", "exc"),
    [
        (lambda m: m.Deduper(1), errors.InvalidInputError),
        (lambda m: m.Deduper(1 << 25), errors.InvalidInputError),
        (lambda m: m.Deduper(10, 0), errors.InvalidInputError),
        (lambda m: m.Deduper(1 << 64), errors.MathOverflowError),
        (lambda m: m.Deduper("10"), TypeError),
        (lambda m: m.Deduper().accept(b"", 0, 0), errors.InvalidInputError),
        (lambda m: m.Deduper().accept("key", 0, 0), TypeError),
        (lambda m: m.Deduper().accept(5, 0, 0), TypeError),
        (lambda m: m.Deduper().accept(b"k", -1, 0), errors.InvalidInputError),
        (lambda m: m.Deduper().accept(b"k", 65_536, 0), errors.InvalidInputError),
        (lambda m: m.Deduper().accept(b"k", 0, 1 << 63), errors.MathOverflowError),
        (lambda m: m.Deduper().accept(b"k", 0, 1.5), TypeError),
        (lambda m: m.Deduper().accept_many([b"a", b"b"], [0], 0), errors.InvalidInputError),
        (lambda m: m.Deduper().accept_many([b"a"], 0, [1, 2]), errors.InvalidInputError),
        (lambda m: m.Deduper().accept_many(b"ab", 0, 0), TypeError),
    ],
)
def test_bad_input_is_a_typed_error(
    eng: types.ModuleType, call: object, exc: type[Exception]
) -> None:
    with pytest.raises(exc):
        call(eng)  # type: ignore[operator]


def test_a_bad_element_accepts_nothing(eng: types.ModuleType) -> None:
    d = eng.Deduper()
    with pytest.raises(TypeError):
        d.accept_many([b"a", b"b", "c"], 0, 0)
    with pytest.raises(errors.InvalidInputError):
        d.accept_many([b"a", b"b"], [0, 99_999], 0)
    assert len(d) == 0 and d.stats() == []
    assert d.accept_many([bytearray(b"a"), memoryview(b"b")], 0, 0) == [True, True]
    assert d.accept(b"a", 1, 5) is False

"""Orca Whirlpool math: the program's own swap cases, spec §8 vectors, errors, twins agree.

Oracles come from outside: Orca's ``swap_test_cases*.json`` (the program's integration
expectations; all 6720 when ../shared/fixtures is present, a 44-case copy always), the
exact tick-math bit values and the ``compute_swap`` / SDK quote vectors of spec §8.
"""

from __future__ import annotations

import json
import math
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_rs import errors, records

DATA = Path(__file__).parent / "data" / "orca_swap_cases_small.json"
FIXTURES = ("swap_test_cases.json", "swap_test_cases_splash_pool.json")
MIN_TICK, MAX_TICK = -443_636, 443_636
MIN_SQRT, MAX_SQRT = 4_295_048_016, 79_226_673_515_401_279_992_447_579_055
Q64 = 1 << 64
U64 = (1 << 64) - 1


# --------------------------------------------------------------------------------------
# Orca's swap integration cases (spec §8.4)


def _run_case(eng: types.ModuleType, case: dict[str, Any]) -> dict[str, Any] | str:
    """One case as the program's runner sets it up: no initialized ticks, 3 arrays from
    the current tick's array, the price limit at the far end of the third."""
    ts, cur, a_to_b = case["tickSpacing"], case["currTickIndex"], case["aToB"]
    size = 88 * ts
    start = cur // size * size
    last = start - 2 * size if a_to_b else start + 3 * size - 1
    last = max(MIN_TICK, min(MAX_TICK, last))
    try:
        r = eng.orca_whirlpool.swap(
            eng.orca_whirlpool.sqrt_price_at_tick(cur),
            int(case["liquidity"]),
            cur,
            ts,
            case["feeRate"],
            [],
            int(case["tradeAmount"]),
            a_to_b,
            exact_in=case["amountIsInput"],
            sqrt_price_limit=eng.orca_whirlpool.sqrt_price_at_tick(last),
            protocol_fee_rate=case["protocolFeeRate"],
        )
    except errors.ClmmError as exc:
        return exc.code
    return {
        "amountA": r.amount_in if a_to_b else r.amount_out,
        "amountB": r.amount_out if a_to_b else r.amount_in,
        "nextLiquidity": r.liquidity,
        "nextTickIndex": r.tick_current,
        "nextSqrtPrice": r.sqrt_price_x64,
        "nextFeeGrowthGlobal": r.fee_growth_x64,
        "nextProtocolFee": r.protocol_fee,
    }


def _expected(case: dict[str, Any]) -> dict[str, Any] | str:
    e = case["expectation"]
    if e["exception"]:
        return str(e["exception"])
    return {k: int(v) for k, v in e.items() if k not in ("exception", "nextTickIndex")} | {
        "nextTickIndex": e["nextTickIndex"]
    }


def _mismatches(eng: types.ModuleType, cases: list[dict[str, Any]]) -> list[str]:
    bad = []
    for case in cases:
        got, want = _run_case(eng, case), _expected(case)
        if got != want:
            bad.append(f"{case['testId']} {case['description']}: got {got}, want {want}")
    return bad


@pytest.mark.parametrize("name", FIXTURES)
def test_every_orca_swap_case(eng: types.ModuleType, shared_fixtures: Path, name: str) -> None:
    cases = json.loads((shared_fixtures / "orca" / name).read_text())
    assert len(cases) == {FIXTURES[0]: 3840, FIXTURES[1]: 2880}[name]
    bad = _mismatches(eng, cases)
    assert not bad, f"{len(bad)} of {len(cases)} differ, first: " + "\n".join(bad[:5])


def test_embedded_orca_swap_cases(eng: types.ModuleType) -> None:
    cases = json.loads(DATA.read_text())
    assert len(cases) == 44
    kinds = {c["expectation"]["exception"] for c in cases}
    assert kinds == {
        "",
        "ZeroTradableAmount",
        "TokenMaxExceeded",
        "MultiplicationShiftRightOverflow",
        "MultiplicationOverflow",
        "AmountCalcOverflow",
    }
    assert {c["tickSpacing"] >= 32768 for c in cases} == {True, False}
    bad = _mismatches(eng, cases)
    assert not bad, "\n".join(bad)


def test_spec_sample_case_values(eng: types.ModuleType) -> None:
    # spec §8.4 table, row 1399 (exact-out a->b, 65535/600 fee), checked field by field
    case = next(c for c in json.loads(DATA.read_text()) if c["testId"] == 1399)
    got = _run_case(eng, case)
    assert got == {
        "amountA": 1_070_131_095_559,
        "amountB": 1_000_000_000_000,
        "nextLiquidity": Q64,
        "nextTickIndex": -1,
        "nextSqrtPrice": 18_446_743_073_709_551_616,
        "nextFeeGrowthGlobal": 65_923_178_868,
        "nextProtocolFee": 4_207_862_480,
    }


# --------------------------------------------------------------------------------------
# tick math (spec §8.3)

EXACT_BITS = [
    (0, 18446744073709551616, 18446744073709551616),
    (1, 18447666387855959850, 18445821805675392311),
    (2, 18448588748116922571, 18444899583751176498),
    (4, 18450433606991734263, 18443055278223354162),
    (8, 18454123878217468680, 18439367220385604838),
    (16, 18461506635090006701, 18431993317065449817),
    (32, 18476281010653910144, 18417254355718160513),
    (64, 18505865242158250041, 18387811781193591352),
    (128, 18565175891880433522, 18329067761203520168),
    (256, 18684368066214940582, 18212142134806087854),
    (512, 18925053041275764671, 17980523815641551639),
    (1024, 19415764168677886926, 17526086738831147013),
    (2048, 20435687552633177494, 16651378430235024244),
    (4096, 22639080592224303007, 15030750278693429944),
    (8192, 27784196929998399742, 12247334978882834399),
    (16384, 41848122137994986128, 8131365268884726200),
    (32768, 94936283578220370716, 3584323654723342297),
    (65536, 488590176327622479860, 696457651847595233),
    (131072, 12941056668319229769860, 26294789957452057),
    (262144, 9078618265828848800676189, 37481735321082),
]


@pytest.mark.parametrize(("tick", "pos", "neg"), EXACT_BITS)
def test_sqrt_price_exact_bits(eng: types.ModuleType, tick: int, pos: int, neg: int) -> None:
    assert eng.orca_whirlpool.sqrt_price_at_tick(tick) == pos
    assert eng.orca_whirlpool.sqrt_price_at_tick(-tick) == neg


def test_tick_math_boundaries(eng: types.ModuleType) -> None:
    assert eng.orca_whirlpool.sqrt_price_at_tick(MAX_TICK) == MAX_SQRT
    assert eng.orca_whirlpool.sqrt_price_at_tick(MIN_TICK) == MIN_SQRT
    assert eng.orca_whirlpool.tick_at_sqrt_price(MAX_SQRT) == MAX_TICK
    assert eng.orca_whirlpool.tick_at_sqrt_price(MAX_SQRT - 1) == MAX_TICK - 1
    assert eng.orca_whirlpool.tick_at_sqrt_price(MIN_SQRT) == MIN_TICK
    assert eng.orca_whirlpool.tick_at_sqrt_price(MIN_SQRT + 1) == MIN_TICK
    assert eng.orca_whirlpool.tick_at_sqrt_price(Q64) == 0
    assert eng.orca_whirlpool.tick_at_sqrt_price(Q64 + 1) == 0
    assert eng.orca_whirlpool.tick_at_sqrt_price(Q64 - 1) == -1


@pytest.mark.parametrize("bad", [MIN_TICK - 1, MAX_TICK + 1, -(2**31), 2**31 - 1])
def test_sqrt_price_from_tick_rejects_out_of_range(eng: types.ModuleType, bad: int) -> None:
    with pytest.raises(errors.InvalidTickError):
        eng.orca_whirlpool.sqrt_price_at_tick(bad)


@pytest.mark.parametrize("bad", [0, 1, MIN_SQRT - 1, MAX_SQRT + 1, (1 << 128) - 1])
def test_tick_from_sqrt_price_rejects_out_of_range(eng: types.ModuleType, bad: int) -> None:
    with pytest.raises(errors.InvalidTickError):
        eng.orca_whirlpool.tick_at_sqrt_price(bad)


def test_tick_round_trip_sample(eng: types.ModuleType) -> None:
    # every tick is checked by the Rust unit tests; here a spread plus both edges
    ticks = [
        *range(MIN_TICK, MIN_TICK + 300),
        *range(-3000, 3000),
        *range(MAX_TICK - 300, MAX_TICK + 1),
    ]
    ticks += list(range(MIN_TICK, MAX_TICK, 997))
    for t in ticks:
        sp = eng.orca_whirlpool.sqrt_price_at_tick(t)
        assert eng.orca_whirlpool.tick_at_sqrt_price(sp) == t, t
        if t < MAX_TICK:
            # one below the next tick's price still rounds down to t
            assert (
                eng.orca_whirlpool.tick_at_sqrt_price(
                    eng.orca_whirlpool.sqrt_price_at_tick(t + 1) - 1
                )
                == t
            ), t


def test_tick_math_agrees_with_floats(eng: types.ModuleType) -> None:
    # a sanity check against floats; the exact bits are pinned above
    for t in range(-400_000, 400_001, 12_345):
        want = 1.0001 ** (t / 2) * Q64
        assert math.isclose(
            eng.orca_whirlpool.sqrt_price_at_tick(t), want, rel_tol=1e-10, abs_tol=64
        ), t


# --------------------------------------------------------------------------------------
# one step (spec §8.1), through a swap whose first step aims at the limit


@pytest.mark.parametrize(
    ("amount", "exact_in", "a_to_b", "fee", "amount_in", "amount_out", "next_sqrt", "step_fee"),
    [
        (100, True, True, 20_000, 98, 4723, 98_789_174_874_080_904_523, 2),
        (1000, True, True, 20_000, 180, 6480, 4 * Q64, 4),
        (1000, True, True, 10_000, 180, 6480, 4 * Q64, 2),
        (4723, False, True, 20_000, 98, 4723, 98_795_409_425_631_171_116, 2),
        (10_000, False, True, 20_000, 180, 6480, 4 * Q64, 4),
        (2000, True, False, 20_000, 1960, 20, 193_918_550_355_107_200_012, 40),
        (20_000, True, False, 20_000, 9072, 63, 16 * Q64, 186),
        (20, False, False, 20_000, 1882, 20, 192_798_228_383_286_926_568, 39),
        (80, False, False, 20_000, 9072, 63, 16 * Q64, 186),
    ],
)
def test_compute_swap_vectors(
    eng: types.ModuleType,
    amount: int,
    exact_in: bool,
    a_to_b: bool,
    fee: int,
    amount_in: int,
    amount_out: int,
    next_sqrt: int,
    step_fee: int,
) -> None:
    # L = 1296 at 9 * 2^64, target 4 * 2^64 (a->b) or 16 * 2^64 (b->a): with no
    # initialized ticks and every array loadable, the only stop is the limit
    sp = 9 * Q64
    limit = 4 * Q64 if a_to_b else 16 * Q64
    r = eng.orca_whirlpool.swap(
        sp,
        1296,
        eng.orca_whirlpool.tick_at_sqrt_price(sp),
        1,
        fee,
        [],
        amount,
        a_to_b,
        exact_in=exact_in,
        sqrt_price_limit=limit,
        max_tick_arrays=None,
    )
    assert (r.amount_in, r.amount_out, r.sqrt_price_x64, r.fee_amount) == (
        amount_in + step_fee,
        amount_out,
        next_sqrt,
        step_fee,
    )
    assert r.liquidity == 1296
    assert r.tick_current == eng.orca_whirlpool.tick_at_sqrt_price(
        next_sqrt
    )  # the limit is no tick price


# --------------------------------------------------------------------------------------
# SDK quote vectors with initialized ticks every 2 ticks (spec §8.5): tick crossing


def _sdk_ticks() -> list[tuple[int, int]]:
    ticks = []
    for start in (-352, -176, 0, 176, 352):
        for i in range(88):
            ticks.append((start + 2 * i, 1000 if start < 0 else -1000))
    return ticks


def _slippage(x: int, bps: int, up: bool) -> int:
    return -(-x * (10_000 + bps) // 10_000) if up else x * (10_000 - bps) // 10_000


@pytest.mark.parametrize(
    ("liquidity", "a_to_b", "exact_in", "est", "bound", "fee"),
    [
        (100_000_000, True, True, 996, 896, 3),
        (265_000, True, True, 920, 828, 38),
        (100_000_000, False, True, 996, 896, 3),
        (265_000, False, True, 918, 826, 39),
        (100_000_000, True, False, 1005, 1106, 4),
        (265_000, True, False, 1088, 1197, 42),
        (100_000_000, False, False, 1005, 1106, 4),
        (265_000, False, False, 1088, 1197, 42),
    ],
)
def test_sdk_quote_vectors(
    eng: types.ModuleType,
    liquidity: int,
    a_to_b: bool,
    exact_in: bool,
    est: int,
    bound: int,
    fee: int,
) -> None:
    r = eng.orca_whirlpool.swap(
        Q64, liquidity, 0, 2, 3000, _sdk_ticks(), 1000, a_to_b, exact_in=exact_in
    )
    if exact_in:
        assert (r.amount_in, r.amount_out) == (1000, est)
        assert _slippage(r.amount_out, 1000, up=False) == bound
    else:
        assert (r.amount_in, r.amount_out) == (est, 1000)
        assert _slippage(r.amount_in, 1000, up=True) == bound
    assert r.fee_amount == fee


def test_crossing_changes_liquidity(eng: types.ModuleType) -> None:
    # the low-liquidity quotes cross many ticks; a->b subtracts each crossed net,
    # b->a adds it (the net is +1000 below tick 0 and -1000 from tick 0 up)
    ticks = _sdk_ticks()
    r = eng.orca_whirlpool.swap(Q64, 265_000, 0, 2, 3000, ticks, 1000, True)
    crossed = [net for t, net in ticks if r.tick_current < t <= 0]
    assert len(crossed) >= 10
    assert r.liquidity == 265_000 - sum(crossed)
    r = eng.orca_whirlpool.swap(Q64, 265_000, 0, 2, 3000, ticks, 1000, False)
    crossed = [net for t, net in ticks if 0 < t <= r.tick_current]
    assert len(crossed) >= 10
    assert r.liquidity == 265_000 + sum(crossed)


# --------------------------------------------------------------------------------------
# tick arrays, zero liquidity, spot rate


def test_swap_past_three_arrays_needs_more_arrays(eng: types.ModuleType) -> None:
    # ts 1: three arrays span 264 ticks; a large swap in a thin pool runs past them
    args = (Q64, 10**9, 0, 1, 3000, [], 10**12, True)
    with pytest.raises(errors.InsufficientLiquidityError):
        eng.orca_whirlpool.swap(*args)
    r = eng.orca_whirlpool.swap(*args, max_tick_arrays=None)
    assert r.amount_in == 10**12 and r.tick_current < -264
    with pytest.raises(errors.InsufficientLiquidityError):
        eng.orca_whirlpool.swap(*args, max_tick_arrays=1)
    # a small swap is the same whatever the array count
    small = (Q64, 10**9, 0, 1, 3000, [], 1000, True)
    assert records.as_dict(eng.orca_whirlpool.swap(*small)) == records.as_dict(
        eng.orca_whirlpool.swap(*small, max_tick_arrays=None)
    )


def test_zero_liquidity_jumps_to_the_next_tick(eng: types.ModuleType) -> None:
    # L = 0 until tick -16, where a position starts: the price jumps there for free
    ticks = [(-16, -(10**12)), (-64, 10**12)]  # a->b crossing -16 adds 1e12
    r = eng.orca_whirlpool.swap(Q64, 0, 0, 8, 3000, ticks, 10**6, True)
    assert r.liquidity == 10**12
    assert -64 < r.tick_current < -16
    ref = eng.orca_whirlpool.swap(
        eng.orca_whirlpool.sqrt_price_at_tick(-16), 10**12, -17, 8, 3000, ticks, 10**6, True
    )
    assert (r.amount_in, r.amount_out, r.sqrt_price_x64) == (
        ref.amount_in,
        ref.amount_out,
        ref.sqrt_price_x64,
    )


def test_zero_liquidity_everywhere(eng: types.ModuleType) -> None:
    # with a limit inside the arrays: a zero-amount result at the limit
    limit = eng.orca_whirlpool.sqrt_price_at_tick(-100)
    r = eng.orca_whirlpool.swap(Q64, 0, 0, 8, 3000, [], 10**6, True, sqrt_price_limit=limit)
    assert (r.amount_in, r.amount_out, r.sqrt_price_x64) == (0, 0, limit)
    # without one: out of arrays (exact-in) ...
    with pytest.raises(errors.InsufficientLiquidityError):
        eng.orca_whirlpool.swap(Q64, 0, 0, 8, 3000, [], 10**6, True)
    # ... or, with every array loadable, exact-out cannot fill
    with pytest.raises(errors.PartialFillError):
        eng.orca_whirlpool.swap(
            Q64, 0, 0, 8, 3000, [], 10**6, True, exact_in=False, max_tick_arrays=None
        )


@pytest.mark.parametrize("fee", [0, 3000, 65_535, 1_000_000])
@pytest.mark.parametrize("sp", [MIN_SQRT, 3 * Q64 // 7, Q64, 6_918_418_495_991_757_039, MAX_SQRT])
def test_spot_rate(eng: types.ModuleType, sp: int, fee: int) -> None:
    price = (sp / Q64) ** 2
    keep = (1_000_000 - fee) / 1_000_000
    assert math.isclose(eng.orca_whirlpool.spot_rate(sp, fee, True), price * keep, rel_tol=1e-12)
    assert math.isclose(eng.orca_whirlpool.spot_rate(sp, fee, False), keep / price, rel_tol=1e-12)


def test_spot_rate_errors(eng: types.ModuleType) -> None:
    with pytest.raises(errors.InvalidTickError):
        eng.orca_whirlpool.spot_rate(MIN_SQRT - 1, 0, True)
    with pytest.raises(errors.InvalidInputError):
        eng.orca_whirlpool.spot_rate(Q64, 1_000_001, True)
    with pytest.raises(TypeError):
        eng.orca_whirlpool.spot_rate(Q64, 0, 1)


def test_price_spec_vector(eng: types.ModuleType) -> None:
    # spec §2.2: sqrt 6918418495991757039 with decimals (9, 6) -> 140.66116595692344
    assert math.isclose(
        eng.orca_whirlpool.spot_rate(6_918_418_495_991_757_039, 0, True) * 1e3,
        140.66116595692344,
        rel_tol=1e-12,
    )


# --------------------------------------------------------------------------------------
# errors


POOL = (Q64, 10**12, 0, 8, 3000)


def _swap(eng: types.ModuleType, *pool: Any, ticks: Any = (), **kw: Any) -> Any:
    args = pool or POOL
    amount = kw.pop("amount", 10**6)
    a_to_b = kw.pop("a_to_b", True)
    return eng.orca_whirlpool.swap(*args, list(ticks), amount, a_to_b, **kw)


@pytest.mark.parametrize(
    ("pool", "ticks", "cls"),
    [
        (POOL, [(8, 1), (8, -1)], errors.InvalidTickError),  # duplicate
        (POOL, [(4, 1)], errors.InvalidTickError),  # not a multiple of 8
        (POOL, [(443_640, 1)], errors.InvalidTickError),  # out of bounds
        ((Q64, 10**12, 0, 32_769, 3000), [(0, 5)], errors.InvalidTickError),  # splash
        ((MIN_SQRT - 1, 10**12, 0, 8, 3000), [], errors.InvalidTickError),
        ((Q64, 10**12, MAX_TICK + 1, 8, 3000), [], errors.InvalidTickError),
        ((Q64, 10**12, MIN_TICK - 2, 8, 3000), [], errors.InvalidTickError),
        ((Q64, 10**12, 0, 0, 3000), [], errors.InvalidTickSpacingError),
        ((Q64, 10**12, 0, 65_536, 3000), [], errors.InvalidTickSpacingError),
        ((Q64, 10**12, 0, 8, 1_000_001), [], errors.InvalidInputError),
    ],
)
def test_bad_pool(eng: types.ModuleType, pool: Any, ticks: Any, cls: type[Exception]) -> None:
    with pytest.raises(cls):
        _swap(eng, *pool, ticks=ticks)


def test_splash_pool_full_range_ticks_are_fine(eng: types.ModuleType) -> None:
    ts = 32_769
    lo, hi = -(443_636 // ts) * ts, 443_636 // ts * ts
    r = _swap(eng, Q64, 10**12, 0, ts, 3000, ticks=[(lo, 10**12), (hi, -(10**12))])
    assert r.amount_in == 10**6


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"amount": 0}, "ZeroTradableAmount"),
        ({"sqrt_price_limit": Q64}, "InvalidSqrtPriceLimitDirection"),
        ({"sqrt_price_limit": Q64 + 1}, "InvalidSqrtPriceLimitDirection"),
        ({"sqrt_price_limit": MIN_SQRT - 1}, "SqrtPriceOutOfBounds"),
        ({"sqrt_price_limit": MAX_SQRT + 1, "a_to_b": False}, "SqrtPriceOutOfBounds"),
        ({"amount": U64, "exact_in": False, "max_tick_arrays": None}, "PartialFillError"),
    ],
)
def test_program_errors(eng: types.ModuleType, kw: dict[str, Any], code: str) -> None:
    pool = (Q64, 10**6, 0, 32_769, 3000) if code == "PartialFillError" else POOL
    with pytest.raises(errors.ClmmError) as info:
        _swap(eng, *pool, **kw)
    assert info.value.code == code
    assert type(info.value) is errors.CLMM_ERRORS[code]


def test_divide_by_zero(eng: types.ModuleType) -> None:
    # a fee rate of 100% leaves (1e6 - fee_rate) = 0 under the exact-out fee
    with pytest.raises(errors.DivideByZeroError) as info:
        _swap(eng, Q64, 10**12, 0, 8, 1_000_000, exact_in=False)
    assert info.value.code == "DivideByZero"


def test_liquidity_underflow_is_invalid_input(eng: types.ModuleType) -> None:
    # crossing tick 0 leftward subtracts its +10^13 net from a 10^12 pool
    with pytest.raises(errors.InvalidInputError):
        _swap(eng, ticks=[(0, 10**13)])


@pytest.mark.parametrize(
    ("kw", "cls"),
    [
        ({"protocol_fee_rate": 10_001}, errors.InvalidInputError),
        ({"max_tick_arrays": 0}, errors.InvalidInputError),
        ({"amount": -1}, errors.MathOverflowError),
        ({"amount": 1 << 64}, errors.MathOverflowError),
        ({"sqrt_price_limit": 1 << 128}, errors.MathOverflowError),
        ({"amount": 1.5}, TypeError),
        ({"a_to_b": 1}, TypeError),
        ({"exact_in": None}, TypeError),
    ],
)
def test_bad_arguments(eng: types.ModuleType, kw: dict[str, Any], cls: type[Exception]) -> None:
    with pytest.raises(cls):
        _swap(eng, **kw)


@pytest.mark.parametrize(
    ("ticks", "cls"),
    [
        ([(8,)], TypeError),
        ([(8, 1, 2)], TypeError),
        ([8], TypeError),
        ([(8.0, 1)], TypeError),
        ([(True, 1)], TypeError),
        ([(2**31, 1)], errors.MathOverflowError),
        ([(8, 2**127)], errors.MathOverflowError),
        ("88", TypeError),
    ],
)
def test_bad_ticks(eng: types.ModuleType, ticks: Any, cls: type[Exception]) -> None:
    with pytest.raises(cls):
        eng.orca_whirlpool.swap(*POOL, ticks, 10**6, True)


def test_ticks_any_order_and_container(eng: types.ModuleType) -> None:
    ticks = [(-16, 5 * 10**11), (-8, 10**11), (16, -(10**11))]
    want = records.as_dict(eng.orca_whirlpool.swap(*POOL, ticks, 10**9, True))
    for variant in (ticks[::-1], tuple(ticks), [list(t) for t in ticks], iter(ticks)):
        assert records.as_dict(eng.orca_whirlpool.swap(*POOL, variant, 10**9, True)) == want


def test_keywords(eng: types.ModuleType) -> None:
    r = eng.orca_whirlpool.swap(
        sqrt_price_x64=Q64,
        liquidity=10**12,
        tick_current=0,
        tick_spacing=8,
        fee_rate=3000,
        ticks=[],
        amount=10**6,
        a_to_b=False,
        exact_in=True,
        sqrt_price_limit=None,
        protocol_fee_rate=2500,
        max_tick_arrays=3,
    )
    assert r.amount_in == 10**6 and r.protocol_fee == r.fee_amount * 2500 // 10_000
    with pytest.raises(TypeError):
        eng.orca_whirlpool.swap(*POOL, [], 10**6)  # a_to_b missing
    with pytest.raises(TypeError):
        eng.orca_whirlpool.swap(*POOL, [], 10**6, True, bogus=1)


# --------------------------------------------------------------------------------------
# twins agree on random pools


@st.composite
def pools(draw: st.DrawFn) -> dict[str, Any]:
    ts = draw(st.sampled_from([1, 2, 8, 64, 128, 256, 32_768, 32_896]))
    tick = draw(st.integers(MIN_TICK, MAX_TICK - 1))
    lo_sp = _sqrt_price(tick)
    sp = draw(st.integers(lo_sp, _sqrt_price(tick + 1) - 1))
    if ts >= 32_768:
        lo, hi = -(MAX_TICK // ts) * ts, MAX_TICK // ts * ts
        candidates = st.sampled_from([lo, hi])
    else:
        span = 88 * ts * 4
        candidates = (
            st.integers(max(MIN_TICK, tick - span), min(MAX_TICK, tick + span))
            .map(lambda t: max(MIN_TICK, min(MAX_TICK, t // ts * ts)))
            .filter(lambda t: MIN_TICK <= t <= MAX_TICK)
        )
    tick_idx = draw(st.lists(candidates, max_size=12, unique=True))
    liquidity = draw(st.integers(0, 1 << 100) | st.sampled_from([0, 1, 1 << 64, 1 << 110]))
    nets = draw(
        st.lists(
            st.integers(-(1 << 90), 1 << 90) | st.integers(-(10**9), 10**9),
            min_size=len(tick_idx),
            max_size=len(tick_idx),
        )
    )
    return {
        "sqrt_price_x64": sp,
        "liquidity": liquidity,
        "tick_current": tick,
        "tick_spacing": ts,
        "fee_rate": draw(st.sampled_from([0, 100, 3000, 65_535, 100_000]) | st.integers(0, 10**6)),
        "ticks": list(zip(tick_idx, nets, strict=True)),
    }


def _sqrt_price(tick: int) -> int:
    from engine_rs.python.venues.orca_whirlpool import swap as clmm

    return clmm.sqrt_price_from_tick(tick)


def _outcome(eng: types.ModuleType, pool: dict[str, Any], **kw: Any) -> object:
    try:
        return records.as_dict(eng.orca_whirlpool.swap(**pool, **kw))
    except errors.EngineError as exc:
        return (type(exc).__name__, getattr(exc, "code", None))


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pool=pools(),
    amount=st.integers(0, U64) | st.integers(1, 10**12),
    a_to_b=st.booleans(),
    exact_in=st.booleans(),
    protocol=st.sampled_from([0, 300, 2500, 10_000]),
    arrays=st.sampled_from([3, 1, 2, None]),
    limit_frac=st.none() | st.floats(0.0, 1.0),
)
def test_twins_agree(
    rust: types.ModuleType,
    py: types.ModuleType,
    pool: dict[str, Any],
    amount: int,
    a_to_b: bool,
    exact_in: bool,
    protocol: int,
    arrays: int | None,
    limit_frac: float | None,
) -> None:
    limit = None
    if limit_frac is not None:
        # somewhere between the price and the bound in the swap direction
        sp = pool["sqrt_price_x64"]
        edge = MIN_SQRT if a_to_b else MAX_SQRT
        limit = int(sp + (edge - sp) * limit_frac)
    kw = {
        "amount": amount,
        "a_to_b": a_to_b,
        "exact_in": exact_in,
        "sqrt_price_limit": limit,
        "protocol_fee_rate": protocol,
        "max_tick_arrays": arrays,
    }
    assert _outcome(rust, pool, **kw) == _outcome(py, pool, **kw)


@settings(max_examples=200, deadline=None)
@given(tick=st.integers(MIN_TICK, MAX_TICK), frac=st.floats(0.0, 1.0), fee=st.integers(0, 10**6))
def test_twins_agree_tick_math(
    rust: types.ModuleType, py: types.ModuleType, tick: int, frac: float, fee: int
) -> None:
    sp = rust.orca_whirlpool.sqrt_price_at_tick(tick)
    assert sp == py.orca_whirlpool.sqrt_price_at_tick(tick)
    hi = rust.orca_whirlpool.sqrt_price_at_tick(min(tick + 1, MAX_TICK))
    x = min(MAX_SQRT, sp + int((hi - sp) * frac))
    assert rust.orca_whirlpool.tick_at_sqrt_price(x) == py.orca_whirlpool.tick_at_sqrt_price(x)
    for a_to_b in (True, False):
        assert rust.orca_whirlpool.spot_rate(x, fee, a_to_b) == py.orca_whirlpool.spot_rate(
            x, fee, a_to_b
        )


def test_python_pool_object_matches_clmm_swap(py: types.ModuleType) -> None:
    # the twin's ClmmPool (used by sizing) is the same code path as clmm_swap
    from engine_rs.python.venues.orca_whirlpool.swap import ClmmPool

    ticks = [(-16, 5 * 10**11), (-8, 10**11), (16, -(10**11))]
    pool = ClmmPool(Q64, 10**12, 0, 8, 3000, ticks)
    for a_to_b in (True, False):
        want = py.orca_whirlpool.swap(Q64, 10**12, 0, 8, 3000, ticks, 10**9, a_to_b)
        assert pool.swap(10**9, a_to_b, True, None, 0) == want
        assert pool.spot_rate(a_to_b) == py.orca_whirlpool.spot_rate(Q64, 3000, a_to_b)

"""What a cycle's transaction costs, in its base token: the price of a lamport in each base
(``arbscope.solprice``) checked against an independent computation — the paths from SOL to
the base enumerated with networkx, each quoted by hand on the pools' raw reserves with the
constant-product rule, a Whirlpool's against its sqrt price — on both backends, on SOL,
USDC and bases of unusual decimals; and the one figure carried by the score, paper, the
cycle detail, /metrics and the export. The compute-unit limit of a cycle
(``arbscope.execution.compute``) against the venues' own figures."""

from __future__ import annotations

import math
import types
from fractions import Fraction
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from rich.console import Console

from arbscope import sources
from arbscope.execution.compute import CU_ATA, CU_BASE, cycle_budget, hop_limit
from arbscope.market import Evaluator
from arbscope.solprice import DEPTH_PROBE, PRICE_PROBE, WSOL, LamportPrice, LamportPrices
from arbscope.timing import KernelTimer
from engine_rs import load
from engine_rs.python.b58 import b58encode
from engine_rs.records import REASON_NO_SOL_PRICE, FeeContext, ScorePolicy
from feeds import venues
from feeds.wire.instructions import MAX_COMPUTE_UNIT_LIMIT
from feeds.wire.tokens import BY_SYMBOL
from feeds.wire.units import TokenBook, TokenInfo

SOL, USDC = WSOL, BY_SYMBOL["USDC"].mint
BASE = "Base1111111111111111111111111111111111111111"  # an invented base token
HUB = "Hub11111111111111111111111111111111111111111"  # a token between SOL and the base
X = "Xtok1111111111111111111111111111111111111111"  # a token the base's cycle goes through
FEES = FeeContext(cu_limit=300_000, cu_price_micro_lamports=20_000, tip_lamports=1_000)
POLICY = ScorePolicy(min_profit=1, min_persistence=1, max_staleness_slots=100)

Pool = tuple[str, str, str, int, int, int, int]  # id, mint a, mint b, reserves, fee num/den


def hand_out(pool: Pool, token_in: str, amount: int) -> int:
    """A constant-product exact-in swap on raw reserves: the fee taken from the input
    rounded up, the output rounded down (Raydium's rule, written out here)."""
    _, a, _, ra, rb, fn, fd = pool
    rin, rout = (ra, rb) if token_in == a else (rb, ra)
    net = amount - (amount * fn + fd - 1) // fd
    return rout * net // (rin + net)


def hand_price(pools: list[Pool], base: str) -> tuple[int, int] | None:
    """The price of a lamport in ``base``, computed here: networkx's paths of one or two
    pools from SOL to the base, the one giving the most base for DEPTH_PROBE lamports
    (the first of the fewest hops, then by pool, on a tie; PRICE_PROBE when none fills
    the depth probe), then (what PRICE_PROBE gives through it + 1) / PRICE_PROBE."""
    g = nx.MultiGraph()
    for p in pools:
        g.add_edge(p[1], p[2], key=p[0], pool=p)
    if SOL not in g or base not in g:
        return None
    paths = []
    for edges in nx.all_simple_edge_paths(g, SOL, base, cutoff=2):
        paths.append([g.edges[e]["pool"] for e in edges])
    paths.sort(key=lambda ps: (len(ps), [p[0] for p in ps]))

    def sell(path: list[Pool], lamports: int) -> int:
        token, amount = SOL, lamports
        for p in path:
            amount = hand_out(p, token, amount) if amount > 0 else 0
            token = p[2] if token == p[1] else p[1]
        return amount

    for probe in (DEPTH_PROBE, PRICE_PROBE):
        best, most = None, 0
        for path in paths:
            out = sell(path, probe)
            if out > most:
                best, most = path, out
        if best is not None:
            f = Fraction(sell(best, PRICE_PROBE) + 1, PRICE_PROBE)
            return f.numerator, f.denominator
    return None


def graph_of(eng: types.ModuleType, pools: list[Pool], bases: list[str]) -> Any:
    g = eng.PoolGraph(base_mints=bases, max_hops=3)
    for pid, a, b, ra, rb, fn, fd in pools:
        g.upsert_cpmm(pid, a, b, ra, rb, fn, fd, 1)
    return g


def price_of(eng: types.ModuleType, pools: list[Pool], base: str) -> tuple[int, int] | None:
    prices = LamportPrices()
    prices.update(graph_of(eng, pools, [SOL, base]), [SOL, base])
    p = prices.get(base)
    return None if p is None else (p.num, p.den)


def pid(n: int) -> str:
    """A pool address (base58) of number ``n``; ordered as ``n``."""
    return "Pxxx" + b58encode(n.to_bytes(4, "big")).rjust(8, "1") + "1" * 30


# ------------------------------------------------------------------ the price of a lamport
def test_sol_is_one_lamport_per_lamport() -> None:
    p = LamportPrices().get(SOL)
    assert p is not None and (p.num, p.den, p.pools) == (1, 1, ())


reserve = st.integers(10**6, 10**15)
fee = st.sampled_from([(25, 10_000), (30, 10_000), (2_500, 1_000_000), (1, 100)])


@settings(max_examples=60)
@given(
    direct=st.lists(st.tuples(reserve, reserve, fee), max_size=3),
    via=st.lists(st.tuples(reserve, reserve, reserve, reserve, fee), max_size=2),
)
def test_the_price_is_the_deepest_paths_quote_computed_by_hand(
    direct: list[tuple[int, int, tuple[int, int]]],
    via: list[tuple[int, int, int, int, tuple[int, int]]],
) -> None:
    """Random SOL/base pools and two-pool paths through a hub, on both backends: the
    price is what the hand computation over networkx's paths gives (None where no path
    fills a probe)."""
    pools: list[Pool] = []
    for i, (rs, rb, (fn, fd)) in enumerate(direct):
        pools.append((pid(i), SOL, BASE, rs, rb, fn, fd))
    for i, (rs, rh, rh2, rb, (fn, fd)) in enumerate(via):
        pools.append((pid(10 + i), HUB, SOL, rh, rs, fn, fd))  # listed hub-first
        pools.append((pid(20 + i), HUB, BASE, rh2, rb, fn, fd))
    want = hand_price(pools, BASE)
    for backend in ("rust", "python"):
        prices = LamportPrices()
        prices.update(graph_of(load(backend), pools, [SOL, BASE]), [BASE])
        p = prices.get(BASE)
        assert (None if p is None else (p.num, p.den)) == want, backend
    event("no price" if p is None else f"a path of {len(p.pools)} pool(s)")


def test_usdc_the_deep_pool_sets_the_price_not_the_thin_one(eng: types.ModuleType) -> None:
    """SOL at 150 USDC in a deep pool (10,000 SOL), at 200 in a thin one (2 SOL) and at
    151 through a hub: the deep path's quote of 1 SOL is the price (about 0.1496 raw USDC
    per lamport: 6 decimals against 9)."""
    pools: list[Pool] = [
        (pid(1), SOL, USDC, 10_000 * 10**9, 1_500_000 * 10**6, 25, 10_000),
        (pid(2), USDC, SOL, 400 * 10**6, 2 * 10**9, 25, 10_000),
        (pid(3), SOL, HUB, 100 * 10**9, 100 * 10**9, 25, 10_000),
        (pid(4), HUB, USDC, 100 * 10**9, 15_100 * 10**6, 25, 10_000),
    ]
    got = price_of(eng, pools, USDC)
    assert got == hand_price(pools, USDC)
    num, den = got  # type: ignore[misc]
    out = hand_out(pools[0], SOL, PRICE_PROBE)
    assert Fraction(num, den) == Fraction(out + 1, PRICE_PROBE)
    # 1 SOL is 150 USDC less the 0.25 % fee and a 1/10,000 impact
    assert 149_000_000 < out < 150_000_000


def test_a_whirlpools_price_is_its_sqrt_price_less_its_fee(eng: types.ModuleType) -> None:
    """SOL/USDC in a Whirlpool only: the price agrees with the pool's sqrt price taken by
    hand (raw USDC per lamport = sqrt_price² / 2^128) less its fee, to within the 1-SOL
    probe's impact on a deep range."""
    price = Fraction(150 * 10**6, 10**9)  # raw USDC per lamport
    sqrt_x64 = math.isqrt(price.numerator * 2**128 // price.denominator)
    tick = math.floor(math.log(price) / math.log(1.0001))
    spacing, liquidity, fee_rate = 64, 10**16, 3_000
    lo, hi = (tick // spacing - 500) * spacing, (tick // spacing + 500) * spacing
    g = eng.PoolGraph(base_mints=[SOL, USDC], max_hops=3)
    g.upsert_clmm(
        pid(7),
        SOL,
        USDC,
        sqrt_x64,
        liquidity,
        tick,
        spacing,
        fee_rate,
        [(lo, liquidity), (hi, -liquidity)],
        1,
    )
    prices = LamportPrices()
    prices.update(g, [USDC])
    p = prices.get(USDC)
    assert p is not None and p.pools == (pid(7),)
    mid = Fraction(sqrt_x64 * sqrt_x64, 2**128)
    expect = mid * (1 - Fraction(fee_rate, 10**6))
    assert abs(Fraction(p.num, p.den) / expect - 1) < Fraction(1, 10**5)


@pytest.mark.parametrize(
    ("decimals", "usd"),
    [(5, 0.00002), (0, 2_500.0), (2, 1.0), (12, 3.0), (9, 150.0)],
)
def test_fees_keep_their_value_whatever_the_bases_decimals(
    eng: types.ModuleType, decimals: int, usd: float
) -> None:
    """A base of ``decimals`` worth ``usd`` (BONK-like 5, a whole-unit token 0, ...),
    its SOL pool built from prices in dollars (SOL at 150): the fee converted to the base
    is worth what the lamports are worth, to the pool's fee and one base unit — the
    decimals are in the ratio (the conversion's old error on a 5-decimal base was x1,000)."""
    sol_usd, depth_usd = 150.0, 3_000_000.0
    rs = int(depth_usd / sol_usd * 10**9)
    rb = int(depth_usd / usd * 10**decimals)
    pools: list[Pool] = [(pid(1), SOL, BASE, rs, rb, 25, 10_000)]
    assert price_of(eng, pools, BASE) == hand_price(pools, BASE)
    ev = _evaluator(eng, pools + _cycle_pools(BASE, decimals), [BASE, SOL])
    (_, sc), cost = _scored(ev, BASE)
    assert cost.price is not None
    lamports = sc.total_fee_lamports
    worth = lamports / 1e9 * sol_usd  # what the fees cost, in dollars
    got = sc.fees_in_base / 10**decimals * usd
    unit = usd / 10**decimals  # one base unit, in dollars
    assert worth * (1 - 0.003) - unit <= got <= worth + 2 * unit, (worth, got)
    assert sc.fees_in_base == -(-lamports * cost.price.num // cost.price.den)


def test_no_path_from_sol_no_conversion_and_the_decision_says_why(eng: types.ModuleType) -> None:
    """A base no pool links to SOL: no price; its cycles keep their fees in lamports,
    their net unknown, the decision ``no_sol_price`` — never a silent 1/1 — and paper
    refuses to trade one by hand."""
    pools = _cycle_pools(BASE, 6)
    ev = _evaluator(eng, pools, [BASE])
    (o, sc), cost = _scored(ev, BASE)
    assert cost.price is None and cost.fees.base_rate_missing
    assert sc.reasons[0] == REASON_NO_SOL_PRICE and not sc.go and sc.fees_in_base == 0
    assert ev.broker is not None
    assert "no price of SOL" in ev.trade(o.base_mint, list(o.pools), 2)
    from tui.screens.detail import detail
    from tui.widgets.cycles import cells
    from tui.widgets.palette import Palette

    row = cells(o, sc, Palette("#00ff00", "#ff0000"), TokenBook())
    assert str(row[5]).strip() == "no SOL px" and str(row[6]).strip() == "?"
    text = _render(detail(o, sc, Palette("#00ff00", "#ff0000"), cost, TokenBook()))
    assert "no pool path from SOL" in text and "not converted" in text


# ------------------------------------------------------------------ one figure everywhere
def _cycle_pools(base: str, decimals: int) -> list[Pool]:
    """Two base/X pools a little apart: a cycle base -> X -> base that pays."""
    r = 10**6 * 10**decimals
    return [
        (pid(50), base, X, r, 10**12, 25, 10_000),
        (pid(51), X, base, 10**12, r * 1_02 // 100, 25, 10_000),
    ]


def _evaluator(eng: types.ModuleType, pools: list[Pool], bases: list[str]) -> Evaluator:
    g = graph_of(eng, pools, bases)
    ev = Evaluator(eng, KernelTimer(eng, None), {eng.BACKEND: g}, FEES, POLICY)
    ev.refresh_prices()
    return ev


def _scored(ev: Evaluator, base: str) -> tuple[Any, Any]:
    ev.evaluate(pid(50), 1)
    key = min(k for k in ev.live if k[0] == base)
    return ev.live[key], ev.costs[key]


def _render(renderable: Any) -> str:
    c = Console(width=200, record=True, color_system=None)
    c.print(renderable)
    return c.export_text()


def test_a_sol_cycles_fees_are_its_lamports(eng: types.ModuleType) -> None:
    """A SOL cycle: 1/1, the fees in base units are the lamports, the net the gross less
    them, whatever other pools the graph holds."""
    ev = _evaluator(eng, _cycle_pools(SOL, 9), [SOL])
    (_, sc), cost = _scored(ev, SOL)
    assert cost.price is not None and (cost.price.num, cost.price.den) == (1, 1)
    assert sc.fees_in_base == sc.total_fee_lamports > 0
    assert sc.net_profit == sc.gross_profit - sc.total_fee_lamports


def test_score_paper_detail_and_metrics_use_the_one_figure(eng: types.ModuleType) -> None:
    """A USDC cycle: the scorer converts its fees with the price read here by hand; the
    paper fill counts those fees (in lamports and in USDC), the cycle detail shows that
    price and limit, /metrics exports it."""
    pools: list[Pool] = [(pid(1), SOL, USDC, 5_000 * 10**9, 750_000 * 10**6, 25, 10_000)]
    pools += _cycle_pools(USDC, 6)
    ev = _evaluator(eng, pools, [USDC, SOL])
    (o, sc), cost = _scored(ev, USDC)
    num, den = hand_price(pools, USDC)  # type: ignore[misc]
    assert (cost.fees.base_per_lamport_num, cost.fees.base_per_lamport_den) == (num, den)
    assert sc.fees_in_base == -(-sc.total_fee_lamports * num // den)
    assert sc.net_profit == sc.gross_profit - sc.fees_in_base
    # the in-process pools have no known program: each hop at its curve's most at the
    # steps its quote crosses (a constant product crosses none)
    assert o.hop_steps == [0, 0] and cost.budget.steps == (0, 0)
    assert cost.fees.cu_limit == CU_BASE + 2 * hop_limit(None, "cpmm", 0) == cost.budget.limit
    assert sc.priority_fee_lamports == -(
        -cost.fees.cu_limit * FEES.cu_price_micro_lamports // 1_000_000
    )
    b = ev.broker
    assert b is not None and b.base == USDC
    assert ev.trade(o.base_mint, list(o.pools), 2) == ""
    (order,) = b.pending
    assert order.fee_lamports == sc.total_fee_lamports
    (fill,) = b.on_tick(ev.graph, order.land_slot + 1)
    assert fill.fees_in_base == sc.fees_in_base and fill.fee_lamports == sc.total_fee_lamports
    from tui.screens.detail import detail
    from tui.widgets.palette import Palette

    names = TokenBook.of([TokenInfo(USDC, "USDC", decimals=6), TokenInfo(SOL, "SOL", decimals=9)])
    text = _render(detail(o, sc, Palette("#00ff00", "#ff0000"), cost, names))
    assert f"{num:,}/{den:,} raw per lamport" in text
    assert f"{cost.fees.cu_limit:,} CU" in text and cost.budget.text().split(" = ")[-1] in text
    from arbscope.metrics import families

    # the evaluator read as a session's view (arbscope.ports.SessionView) reads it
    s = types.SimpleNamespace(
        live=ev.live,
        slot=0,
        found=0,
        broker=b,
        executor=None,
        pool_count=lambda: len(ev.graph),
        lamport_prices=lambda: {m: ev.lamport_prices.get(m) for m in ev.graph.base_mints()},
    )
    fams = {m.name: m for m in families.market(s)}
    got = {x.labels["base"]: x.value for x in fams["arbscope_lamport_price"].samples}
    assert got == {USDC: num / den, SOL: 1.0}
    assert all(x.value == 0 for x in fams["arbscope_lamport_price_missing"].samples)
    base_fees = {x.labels["mode"]: x.value for x in fams["arbscope_fees_base"].samples}
    assert base_fees["paper"] == sc.fees_in_base


@pytest.mark.slow
async def test_the_journal_and_export_carry_the_scorers_figures(tmp_path: Path) -> None:
    """A recorded session on the simulator: every exported opportunity has the limit and
    the price its fees were scored with, and its fees are those (SOL's 1/1)."""
    import csv

    from arbscope.session import RecordSettings
    from feeds.sim.world import WorldConfig
    from storage.export import export_session
    from tests.support.hostile import until

    db = tmp_path / "j.sqlite"
    cfg = WorldConfig(
        seed=9, tokens=12, pools=24, trades_per_slot=10, slot_seconds=0.05, dislocation_rate=0.5
    )
    s = sources.session(
        sources.Watch(seed=9),
        sources.Evaluation(shadow=False),
        sim=sources.SimSettings(world=cfg, endpoints=1),
        record=RecordSettings(db, batch_s=0.1),
    )
    await s.start()
    try:
        assert s.start_error == ""

        def turn() -> bool:
            s.tick()
            return len({k[0] for k in s.live}) == 2  # cycles of both bases

        await until(turn, 60.0)
        sid = s.session_id
        assert s.feeds.server is not None
        fair = (
            s.feeds.server.world.fair[SOL] / s.feeds.server.world.fair[USDC]
        )  # raw USDC per lamport
    finally:
        await s.stop()
    (path, *_) = await export_session(db, sid, tmp_path / "out")
    rows = list(csv.DictReader(path.open()))
    assert {r["base"] for r in rows} == {SOL, USDC}
    for r in rows:
        num, den = (int(x) for x in r["base_per_lamport"].split("/"))
        if r["base"] == SOL:
            assert (num, den) == (1, 1)
        else:  # USDC: the simulator's hidden price of SOL, to its pools' fees and the
            # knocks that make the cycles (a factor 1,000 off would be a decimals error)
            assert abs(num / den / fair - 1) < 0.05
        lamports = int(r["total_fee_lamports"])
        assert int(r["fees_in_base"]) == -(-lamports * num // den)
        # at least two hops, each at its venue's limit for a swap of no steps (a hop is
        # priced at the steps its quote crosses, not at its venue's most)
        assert int(r["cu_limit"]) >= CU_BASE + 2 * min(
            v.compute_units.limit(0) for v in venues.VENUES
        )


# ------------------------------------------------------------------ compute units
def test_a_cycles_limit_is_its_venues_limits_the_base_and_the_accounts() -> None:
    """Each hop at its venue's ``compute_units.limit(steps)`` at the steps its quote
    crosses (read from the venue, whatever its figures are; past the venue's
    ``max_steps``, its most; not known, its most), the base, 30,000 per account created;
    capped at the runtime's 1,400,000; ``fees.cu_limit`` replaces the sum."""
    kinds = [v.kind for v in venues.VENUES]
    for k in kinds:
        cu = venues.by_kind(k).compute_units
        for n in sorted({0, 1, 3, cu.max_steps, cu.max_steps + 7}):
            b = cycle_budget([k, k], accounts=1, steps=[n, n])
            want = CU_BASE + 2 * cu.limit(min(n, cu.max_steps)) + CU_ATA
            assert b.limit == min(want, MAX_COMPUTE_UNIT_LIMIT)
            assert b.hops == (hop_limit(k, steps=n),) * 2 and b.steps == (n, n)
        # steps not known (no quote): the venue's most
        assert cycle_budget([k, k], steps=[None, 2]).hops == (cu.limit(), cu.limit(2))
        assert cycle_budget([k]).hops == (cu.limit(),)
    many = cycle_budget(kinds * 4, accounts=3)
    assert many.limit == min(many.estimate, MAX_COMPUTE_UNIT_LIMIT)
    assert cycle_budget(kinds, override=400_000).limit == 400_000
    assert "fees.cu_limit" in cycle_budget(kinds, override=400_000).text()
    # a pool of unknown program: the most a venue of its curve asks at its quote's steps
    for curve in {v.ids.graph_kind for v in venues.VENUES}:
        for n in (0, 2, 9):
            most = max(v.compute_units.limit(n) for v in venues.VENUES if v.ids.graph_kind == curve)
            assert cycle_budget([None], [curve], steps=[n]).limit == CU_BASE + most


def test_a_hops_steps_are_its_quotes_and_its_mints_token_2022_steps() -> None:
    """``cycle_steps``: the engine's curve steps plus what each venue's swap adds for
    Token-2022 mints (its module's figure: a Whirlpool's and a Raydium CLMM pool's
    surcharge with any such mint, a CP-Swap side per such mint, nothing elsewhere)."""
    from arbscope.execution.compute import cycle_steps, token_steps
    from feeds.venues import orca_whirlpool, raydium_clmm
    from feeds.wire.instructions import SPL_TOKEN, TOKEN_2022

    t22, spl = TOKEN_2022, SPL_TOKEN
    for k in (v.kind for v in venues.VENUES):
        assert token_steps(k, (spl, None)) == 0
    assert token_steps("whirlpool", (spl, t22)) == orca_whirlpool.TOKEN_2022_STEPS
    assert token_steps("whirlpool", (t22, t22)) == orca_whirlpool.TOKEN_2022_STEPS
    assert token_steps("clmm", (t22, spl)) == raydium_clmm.TOKEN_2022_STEPS
    assert [token_steps("cpmm", p) for p in ((t22, spl), (t22, t22))] == [1, 2]
    for k in ("amm_v4", "dlmm", "pumpswap", "openbook"):
        assert token_steps(k, (t22, t22)) == 0
    # unknown program: the most a venue of its curve adds
    assert token_steps(None, (t22, spl), "clmm") == max(
        orca_whirlpool.TOKEN_2022_STEPS, raydium_clmm.TOKEN_2022_STEPS
    )
    # hop i trades tokens i and i + 1
    got = cycle_steps(["whirlpool", "dlmm", "cpmm"], (), [2, 40, 0], [spl, t22, spl, t22])
    assert got == (2 + orca_whirlpool.TOKEN_2022_STEPS, 40, 1)


_KINDS = st.sampled_from([None, *sorted({v.kind for v in venues.VENUES})])
_CURVES = st.sampled_from(["", *sorted({v.ids.graph_kind for v in venues.VENUES})])


@given(
    hops=st.lists(st.tuples(_KINDS, _CURVES, st.integers(0, 60)), min_size=1, max_size=5),
    programs=st.lists(
        st.sampled_from([None, "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "T22"]),
        min_size=6,
        max_size=6,
    ),
)
def test_a_paths_steps_without_a_token_2022_mint_are_its_quotes(
    hops: list[tuple[str | None, str, int]], programs: list[str | None]
) -> None:
    """``cycle_steps``' shortcut (no Token-2022 mint on the path: each hop its quote's
    steps, no venue's surcharge looked up) is the hop-by-hop sum, with or without such a
    mint on the path: the oracle is :func:`token_steps` of each hop's two mints."""
    from arbscope.execution.compute import cycle_steps, token_steps
    from feeds.wire.instructions import TOKEN_2022

    kinds = [k for k, _, _ in hops]
    curves = [c for _, c, _ in hops]
    steps = [n for _, _, n in hops]
    path = [TOKEN_2022 if p == "T22" else p for p in programs[: len(hops) + 1]]
    want = tuple(steps[i] + token_steps(k, path[i : i + 2], curves[i]) for i, k in enumerate(kinds))
    assert cycle_steps(kinds, curves, steps, path) == want
    event("a Token-2022 mint on the path" if TOKEN_2022 in path else "none")


def test_fees_cu_limit_is_one_override_for_the_scorer_and_live() -> None:
    """``fees.cu_limit`` unset: each cycle its own limit; set, every transaction's (the
    scorer's and live's: the session gives live the same). ``live.cu_limit``, its older
    name, is the same override; the two set apart is a configuration error."""
    from arbscope.config import Config, ConfigError, check, parse
    from arbscope.execution.live import LiveConfig
    from arbscope.session import FeeSettings

    cfg = check(Config())  # the defaults
    assert cfg["fees.cu_limit"] is None and cfg["live.cu_limit"] is None
    with pytest.raises(ConfigError, match=r"live\.cu_limit .* differs from fees\.cu_limit"):
        check(parse("[fees]\ncu_limit = 400000\n[live]\ncu_limit = 300000\n", "c.toml"))
    check(parse("[fees]\ncu_limit = 400000\n[live]\ncu_limit = 400000\n", "c.toml"))
    for fees, live, want in (
        (None, None, None),
        (400_000, None, 400_000),
        (None, 350_000, 350_000),
    ):
        s = sources.session(
            None,
            sources.Evaluation(shadow=False, fees=FeeSettings(fees)),
            sim=None,
            live=LiveConfig(cu_limit=live),
        )
        assert s.ev.cu_override == want
        assert s.desk.config is not None and s.desk.config.cu_limit == want


class _Counting:
    """A real graph whose ``pool_rate`` calls are counted (everything else is its own)."""

    def __init__(self, graph: Any) -> None:
        self.graph, self.rates = graph, 0

    def __len__(self) -> int:
        return len(self.graph)

    def pool_rate(self, pool_id: str) -> Any:
        self.rates += 1
        return self.graph.pool_rate(pool_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.graph, name)


def test_a_grown_graphs_prices_are_a_fresh_reads_asking_only_new_pools(
    eng: types.ModuleType,
) -> None:
    """The adjacency read again when the graph's pools change in number asks the graph
    for the tokens of the pools it has not seen only (a pool's mints never change), and
    the prices are what a fresh read of the same graph gives: pools added (a deeper path
    appears), then one removed (the path through it goes)."""
    pools: list[Pool] = [
        (pid(1), SOL, USDC, 10 * 10**9, 1_500 * 10**6, 25, 10_000),
        (pid(2), SOL, HUB, 100 * 10**9, 100 * 10**9, 25, 10_000),
    ]
    g = graph_of(eng, pools, [SOL, USDC])
    spy = _Counting(g)
    prices = LamportPrices()
    prices.update(spy, [USDC])
    assert spy.rates == len(pools)  # (only the adjacency asks for a pool's tokens)

    def fresh() -> LamportPrice | None:
        p = LamportPrices()
        p.update(g, [USDC])
        return p.get(USDC)

    assert prices.get(USDC) == fresh()
    g.upsert_cpmm(pid(3), HUB, USDC, 1_000 * 10**9, 150_000 * 10**6, 25, 10_000, 1)
    spy.rates = 0
    prices.update(spy, [USDC])
    got = prices.get(USDC)
    assert spy.rates == 1  # the new pool's tokens, never the old pools' again
    assert got == fresh() and got is not None and got.pools == (pid(2), pid(3))
    g.remove_pool(pid(3))
    prices.update(spy, [USDC])
    assert prices.get(USDC) == fresh()

"""Pool graph and cycles: networkx oracles, enumeration and index oracles, twins agree."""

from __future__ import annotations

import math
import types

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_rs import errors, load
from engine_rs.records import as_dict
from feeds.sim import synthetic


def _rust_or_skip() -> types.ModuleType:
    try:
        return load("rust")
    except ImportError:
        pytest.skip("Rust extension not built")


def spot_rates(eng: types.ModuleType, p: synthetic.PoolSpec) -> tuple[float, float]:
    """A pool's spot rates after fees, a -> b and b -> a, from the engine's kernels."""
    if p.kind == "cpmm":
        return (
            eng.cpmm_spot_rate(p.reserve_a, p.reserve_b, p.fee_num, p.fee_den),
            eng.cpmm_spot_rate(p.reserve_b, p.reserve_a, p.fee_num, p.fee_den),
        )
    return (
        eng.orca_whirlpool.spot_rate(p.sqrt_price_x64, p.fee_rate, True),
        eng.orca_whirlpool.spot_rate(p.sqrt_price_x64, p.fee_rate, False),
    )


def nx_graph(m: synthetic.Market, eng: types.ModuleType) -> nx.DiGraph:
    """The market as networkx sees it: one edge per direction, the best pool's -ln(rate)."""
    g = nx.DiGraph()
    for p in m.pools:
        rates = spot_rates(eng, p)
        for (u, v), rate in zip(((p.mint_a, p.mint_b), (p.mint_b, p.mint_a)), rates):
            w = -math.log(rate)
            if not g.has_edge(u, v) or g[u][v]["weight"] > w:
                g.add_edge(u, v, weight=w)
    return g


def check_cycle(c: object, m: synthetic.Market) -> None:
    pools = {p.pool_id: p for p in m.pools}
    tokens, ids = c.tokens, c.pools  # type: ignore[attr-defined]
    assert tokens[0] == tokens[-1] and len(ids) == len(tokens) - 1
    for t0, t1, pid in zip(tokens, tokens[1:], ids):
        assert {t0, t1} == {pools[pid].mint_a, pools[pid].mint_b}
    assert c.rate_product > 1.0  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", range(40))
def test_negative_cycle_iff_networkx(eng: types.ModuleType, seed: int) -> None:
    disloc = [0.0, 0.003, 0.01, 0.05][seed % 4]
    m = synthetic.market(
        seed,
        tokens=12 + seed % 7,
        pools=30 + seed,
        bases=1,
        clmm_share=0.2 if seed % 3 == 0 else 0.0,
        dislocation=disloc,
    )
    g = m.graph(eng, index_bases=False)
    found = g.find_negative_cycle()
    # networkx.find_negative_cycle has bug #5916; negative_edge_cycle is the oracle
    assert (found is not None) == nx.negative_edge_cycle(nx_graph(m, eng)), seed
    if found is not None:
        check_cycle(found, m)


def test_empty_graph_and_unknowns(eng: types.ModuleType) -> None:
    g = eng.PoolGraph()
    assert g.find_negative_cycle() is None
    assert len(g) == 0 and g.tokens() == [] and g.pools() == []
    with pytest.raises(errors.UnknownPoolError):
        g.remove_pool("Pool1111")
    with pytest.raises(errors.UnknownPoolError):
        g.cycles_touching("Pool1111")
    with pytest.raises(errors.UnknownTokenError):
        g.cycles("So11111111111111111111111111111111111111112")


def brute_cycles(
    m: synthetic.Market, base: str, max_hops: int
) -> set[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every simple cycle through ``base`` by brute force over pool sequences."""
    out = set()
    edges = [(p.mint_a, p.mint_b, p.pool_id) for p in m.pools] + [
        (p.mint_b, p.mint_a, p.pool_id) for p in m.pools
    ]

    def walk(path_t: list[str], path_p: list[str]) -> None:
        for u, v, pid in edges:
            if u != path_t[-1]:
                continue
            if v == base and len(path_p) >= 1:
                if len(path_p) == 1 and path_p[0] == pid:
                    continue
                out.add((tuple([*path_t, v]), tuple([*path_p, pid])))
            elif v not in path_t and len(path_p) + 2 <= max_hops:
                walk([*path_t, v], [*path_p, pid])

    walk([base], [])
    return out


@pytest.mark.parametrize("seed", range(8))
def test_cycles_equal_brute_force(eng: types.ModuleType, seed: int) -> None:
    m = synthetic.market(seed, tokens=6, pools=14, bases=1, clmm_share=0.3, dislocation=0.02)
    g = m.graph(eng)
    for hops in (2, 3, 4):
        got = {(tuple(o.tokens), tuple(o.pools)) for o in g.cycles(m.bases[0], max_hops=hops)}
        assert got == brute_cycles(m, m.bases[0], hops)


def test_cycles_are_sized_and_sorted(eng: types.ModuleType) -> None:
    m = synthetic.market(3, tokens=10, pools=40, bases=1, dislocation=0.03, dislocated_share=0.2)
    opps = m.graph(eng).cycles(m.bases[0])
    assert any(o.profit > 0 for o in opps)
    keys = [(-o.profit, -o.spot_rate, o.pools) for o in opps]
    assert keys == sorted(keys)
    for o in opps:
        assert o.hops == len(o.pools) == len(o.kinds) == len(o.tokens) - 1
        assert o.profit == o.amount_out - o.amount_in
        if o.amount_in:
            assert o.spot_rate > 1.0 and o.profit > 0 and o.hop_amounts[0] == o.amount_in
            assert o.hop_amounts[-1] == o.amount_out
        else:
            assert o.hop_amounts == [0] * (o.hops + 1)


def keyset(opps: list[object]) -> set[tuple[str, tuple[str, ...]]]:
    return {(o.base_mint, tuple(o.pools)) for o in opps}  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", range(6))
def test_index_tracks_upserts_and_removes(eng: types.ModuleType, seed: int) -> None:
    m = synthetic.market(seed, tokens=9, pools=30, bases=2, clmm_share=0.2, dislocation=0.01)
    g = eng.PoolGraph(base_mints=[m.bases[0]], max_hops=4)
    for p in m.pools[:20]:
        p.upsert(g)
    g.add_base_mint(m.bases[1])
    for p in m.pools[20:]:
        p.upsert(g)
    for pid in g.pools()[::4]:
        g.remove_pool(pid)

    def expected(pid: str) -> set[tuple[str, tuple[str, ...]]]:
        want: set[tuple[str, tuple[str, ...]]] = set()
        for base in m.bases:
            if base in g.tokens():
                want |= {k for k in keyset(g.cycles(base)) if pid in k[1]}
        return want

    for pid in g.pools():
        assert keyset(g.cycles_touching(pid)) == expected(pid), pid


def test_persistence_counts_consecutive_profitable_updates(eng: types.ModuleType) -> None:
    base, usdc = synthetic.address("mint", 0), synthetic.address("mint", 1)
    p1, p2 = synthetic.address("pool", 1), synthetic.address("pool", 2)
    g = eng.PoolGraph(base_mints=[base], max_hops=2)
    g.upsert_cpmm(p1, base, usdc, 10**12, 150 * 10**12, 25, 10_000, slot=1)
    g.upsert_cpmm(p2, base, usdc, 10**12, 153 * 10**12, 25, 10_000, slot=2)
    seen = [max(o.persistence for o in g.cycles_touching(p1)) for _ in range(3)]
    assert seen == [1, 2, 3]
    g.upsert_cpmm(p2, base, usdc, 10**12, 150 * 10**12, 25, 10_000, slot=3)  # arb gone
    assert max(o.persistence for o in g.cycles_touching(p1)) == 0
    g.set_slot(10)
    assert all(o.staleness_slots == 10 - 1 for o in g.cycles(base))


@pytest.mark.parametrize(
    ("args", "exc"),
    [
        (("P1", "Aa", "Bb", 0, 5, 25, 10_000), errors.InvalidInputError),
        (("P1", "Aa", "Aa", 5, 5, 25, 10_000), errors.InvalidInputError),
        (("P1", "Aa", "Bb", 5, 5, 10_000, 10_000), errors.InvalidInputError),
        (("P1", "Aa", "Bb", 5, 5, 0, 0), errors.InvalidInputError),
        (("P-1", "Aa", "Bb", 5, 5, 25, 10_000), errors.InvalidInputError),
        (("P1", "Aa", "0x", 5, 5, 25, 10_000), errors.InvalidInputError),
        (("P1", "Aa", "Bb", 1 << 64, 5, 25, 10_000), errors.MathOverflowError),
    ],
)
def test_bad_upserts_leave_the_graph_unchanged(
    eng: types.ModuleType, args: tuple[object, ...], exc: type[Exception]
) -> None:
    g = eng.PoolGraph()
    g.upsert_cpmm("P2", "Aa", "Bb", 10, 10, 25, 10_000)
    with pytest.raises(exc):
        g.upsert_cpmm(*args)
    assert g.pools() == ["P2"] and g.tokens() == ["Aa", "Bb"]


def test_bad_clmm_and_hops(eng: types.ModuleType) -> None:
    g = eng.PoolGraph()
    with pytest.raises(errors.InvalidTickError):
        g.upsert_clmm("P1", "Aa", "Bb", 1, 10, 0, 64, 3000, [])  # price below the minimum
    with pytest.raises(errors.InvalidTickError):
        g.upsert_clmm("P1", "Aa", "Bb", 1 << 64, 10, 0, 64, 3000, [(3, 5)])  # not a multiple
    with pytest.raises(TypeError):
        g.upsert_clmm("P1", "Aa", "Bb", 1 << 64, 10, 0, 64, 3000, [(float("nan"), 5)])
    assert len(g) == 0
    with pytest.raises(errors.InvalidInputError):
        eng.PoolGraph(max_hops=6)
    g.upsert_cpmm("P2", "Aa", "Bb", 10, 10, 25, 10_000)
    with pytest.raises(errors.InvalidInputError):
        g.cycles("Aa", max_hops=1)


def test_changing_mints_moves_the_pool(eng: types.ModuleType) -> None:
    g = eng.PoolGraph(base_mints=["Aa"], max_hops=3)
    g.upsert_cpmm("P1", "Aa", "Bb", 10**9, 10**9, 25, 10_000)
    g.upsert_cpmm("P2", "Aa", "Bb", 10**9, 10**9, 25, 10_000)
    assert len(g.cycles_touching("P1")) == 2
    g.upsert_cpmm("P2", "Aa", "Cc", 10**9, 10**9, 25, 10_000)
    assert g.cycles_touching("P1") == [] and g.tokens() == ["Aa", "Bb", "Cc"]


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(4, 10),
    st.integers(6, 30),
    st.floats(0, 0.05),
    st.floats(0, 0.5),
    st.sampled_from(["golden", "ternary"]),
)
def test_twins_agree(
    seed: int, tokens: int, pools: int, disloc: float, clmm: float, sizing: str
) -> None:
    rs, py = _rust_or_skip(), load("python")
    m = synthetic.market(
        seed, tokens, pools, bases=2, clmm_share=clmm, dislocation=disloc, dislocated_share=0.3
    )
    gr, gp = m.graph(rs), m.graph(py)
    gr.set_sizing(sizing)
    gp.set_sizing(sizing)
    cr, cp = gr.find_negative_cycle(), gp.find_negative_cycle()
    assert (cr is None) == (cp is None)
    if cr is not None:
        assert as_dict(cr) == as_dict(cp)
    for base in m.bases:
        if base in gp.tokens():
            assert [as_dict(o) for o in gr.cycles(base)] == [as_dict(o) for o in gp.cycles(base)]
    for pid in gp.pools()[:6]:
        assert [as_dict(o) for o in gr.cycles_touching(pid)] == [
            as_dict(o) for o in gp.cycles_touching(pid)
        ]
    assert gr.tokens() == gp.tokens() and gr.pools() == gp.pools() and len(gr) == len(gp)


@pytest.mark.parametrize("seed", range(6))
def test_warm_started_search_stays_exact_across_updates(eng: types.ModuleType, seed: int) -> None:
    """The search reuses its last potentials; after every update it still answers iff
    networkx finds a negative cycle (and the twins answer alike, see below)."""
    import random

    r = random.Random(seed)
    m = synthetic.market(seed, tokens=15, pools=45, bases=0, noise=0.0005)
    g = m.graph(eng, index_bases=False)
    for step in range(80):
        p = r.choice(m.pools)
        if p.kind == "cpmm":
            p.reserve_b = max(1, int(p.reserve_b * r.choice([0.995, 1.005, 0.97, 1.03])))
        p.upsert(g, step)
        found = g.find_negative_cycle()
        assert (found is not None) == nx.negative_edge_cycle(nx_graph(m, eng)), step
        if found is not None:
            check_cycle(found, m)


def _move(p: synthetic.PoolSpec, k: int, factor: float) -> None:
    """A new state of ``p``: a constant-product pool's price moved by ``factor``, a
    Whirlpool's price nudged by a few units of its sqrt price (its ticks stay valid)."""
    if p.kind == "cpmm":
        p.reserve_b = max(1, int(p.reserve_b * factor))
    else:
        p.sqrt_price_x64 += 1 + k % 3


_FACTORS = st.sampled_from([0.9995, 1.0005, 0.998, 1.002, 0.99, 1.01, 0.97, 1.03])
_MARKETS = {
    "seed": st.integers(0, 10_000),
    "tokens": st.integers(4, 14),
    "extra": st.integers(0, 30),
    "standing": st.booleans(),  # a few pools 3% off: most states hold a cycle
    "clmm": st.sampled_from([0.0, 0.3]),
}


def _market(
    seed: int,
    tokens: int,
    extra: int,
    standing: bool,
    clmm: float,
    *,
    bases: int = 0,
    dislocated_share: float = 0.1,
) -> synthetic.Market:
    """A drawn market (_MARKETS): ``tokens + extra`` pools, a few ``standing`` 3 % off."""
    return synthetic.market(
        seed,
        tokens,
        tokens + extra,
        bases=bases,
        clmm_share=clmm,
        dislocation=0.03 if standing else 0.0,
        dislocated_share=dislocated_share,
        noise=0.0005,
    )


@settings(max_examples=40, deadline=None)
@given(**_MARKETS, moves=st.lists(st.tuples(st.integers(0, 10**6), _FACTORS), max_size=30))
def test_search_after_a_cycle_starts_settled_and_stays_exact(
    seed: int,
    tokens: int,
    extra: int,
    standing: bool,
    clmm: float,
    moves: list[tuple[int, float]],
) -> None:
    """After a call that found a cycle the next one starts from the distances settled
    with that cycle masked (not from zero): on markets that keep a cycle, whatever the
    start, a cycle is reported iff networkx finds one, and it is one (both backends)."""
    for eng in (_rust_or_skip(), load("python")):
        m = _market(seed, tokens, extra, standing, clmm)
        g = m.graph(eng, index_bases=False)
        g.find_negative_cycle()
        for step, (k, factor) in enumerate(moves):
            _move(m.pools[k % len(m.pools)], k, factor)
            m.pools[k % len(m.pools)].upsert(g, step)
            found = g.find_negative_cycle()
            assert (found is not None) == nx.negative_edge_cycle(nx_graph(m, eng)), step
            if found is not None:
                check_cycle(found, m)


@settings(max_examples=30, deadline=None)
@given(
    **_MARKETS,
    ops=st.lists(
        st.tuples(st.sampled_from("mmmmrra"), st.integers(0, 10**6), _FACTORS), max_size=40
    ),
)
def test_twins_agree_on_update_sequences(
    seed: int,
    tokens: int,
    extra: int,
    standing: bool,
    clmm: float,
    ops: list[tuple[str, int, float]],
) -> None:
    """Rust and the twin give the same answer after every step of a sequence of pool
    moves (m), removals (r) and returns (a), on markets with and without standing
    cycles: both start warm or cold alike, relax in the same order, report the same cycle."""
    rs, py = _rust_or_skip(), load("python")
    m = _market(seed, tokens, extra, standing, clmm)
    gr, gp = m.graph(rs, index_bases=False), m.graph(py, index_bases=False)
    gone: list[synthetic.PoolSpec] = []
    for step, (op, k, factor) in enumerate(ops):
        live = [p for p in m.pools if p not in gone]
        if op == "r" and len(live) > 2:
            p = live[k % len(live)]
            gr.remove_pool(p.pool_id)
            gp.remove_pool(p.pool_id)
            gone.append(p)
        elif op == "a" and gone:
            p = gone.pop(k % len(gone))
            p.upsert(gr, step)
            p.upsert(gp, step)
        else:
            p = live[k % len(live)]
            _move(p, k, factor)
            p.upsert(gr, step)
            p.upsert(gp, step)
        a, b = gr.find_negative_cycle(), gp.find_negative_cycle()
        assert (a is None) == (b is None), step
        if a is not None:
            assert as_dict(a) == as_dict(b), step


def test_twins_agree_on_warm_sequences() -> None:
    import random

    rs, py = _rust_or_skip(), load("python")
    m = synthetic.market(5, tokens=20, pools=60, bases=1, noise=0.0005)
    gr, gp = m.graph(rs, index_bases=False), m.graph(py, index_bases=False)
    r = random.Random(1)
    for step in range(150):
        p = r.choice(m.pools)
        if p.kind == "cpmm":
            p.reserve_b = max(1, int(p.reserve_b * r.choice([0.99, 1.01, 0.95, 1.05])))
        p.upsert(gr, step)
        p.upsert(gp, step)
        a, b = gr.find_negative_cycle(), gp.find_negative_cycle()
        assert (a is None) == (b is None), step
        if a is not None:
            assert as_dict(a) == as_dict(b), step


@pytest.mark.parametrize("seed", range(6))
def test_pool_rate_is_the_spot_rate_each_way(eng: types.ModuleType, seed: int) -> None:
    """``pool_rate`` against the engine's own spot-rate kernels (checked against Orca's
    and Raydium's math elsewhere): same mints, rates and slot; unknown ids refused."""
    m = synthetic.market(seed, 8, 20, bases=1, clmm_share=0.4)
    g = m.graph(eng)
    for p in m.pools:
        a, b, ab, ba, slot = g.pool_rate(p.pool_id)
        want = spot_rates(eng, p)
        assert (a, b) == (p.mint_a, p.mint_b)
        assert ab == pytest.approx(want[0], rel=1e-12) and ba == pytest.approx(want[1], rel=1e-12)
        assert slot == g.slot
    with pytest.raises(errors.UnknownPoolError):
        g.pool_rate("nope")


def test_pool_rate_twins_agree_exactly() -> None:
    rs, py = _rust_or_skip(), load("python")
    m = synthetic.market(3, 10, 30, bases=2, clmm_share=0.5)
    gr, gp = m.graph(rs), m.graph(py)
    for pid in gp.pools():
        assert gr.pool_rate(pid) == gp.pool_rate(pid)


@pytest.mark.parametrize("seed", range(8))
def test_quote_reproduces_the_sized_cycles(eng: types.ModuleType, seed: int) -> None:
    """``quote`` walks the same exact curves the sizing used: at the optimal size it
    gives the opportunity's hop amounts; the twins agree on other sizes too."""
    m = synthetic.market(seed, 10, 30, bases=1, clmm_share=0.4, dislocation=0.02)
    g = m.graph(eng)
    opps = [o for b in m.bases for o in g.cycles(b) if o.amount_in > 0]
    for o in opps[:20]:
        assert g.quote(o.pools, o.base_mint, o.amount_in) == o.hop_amounts
        half = g.quote(o.pools, o.base_mint, max(1, o.amount_in // 2))
        assert half == [] or (len(half) == o.hops + 1 and half[0] == max(1, o.amount_in // 2))
    with pytest.raises(errors.UnknownPoolError):
        g.quote(["nope"], m.bases[0], 10)
    with pytest.raises(errors.UnknownTokenError):
        g.quote([m.pools[0].pool_id], "nope", 10)
    other = next(t for t in m.tokens if t not in (m.pools[0].mint_a, m.pools[0].mint_b))
    with pytest.raises(errors.InvalidInputError, match="does not trade"):
        g.quote([m.pools[0].pool_id], other, 10)
    with pytest.raises(errors.MathOverflowError):
        g.quote([m.pools[0].pool_id], m.pools[0].mint_a, 2**64)


@given(seed=st.integers(0, 10_000), amount=st.integers(1, 10**15))
@settings(max_examples=60, deadline=None)
def test_quote_twins_agree(seed: int, amount: int) -> None:
    rs, py = _rust_or_skip(), load("python")
    m = synthetic.market(seed, 6, 14, bases=1, clmm_share=0.5)
    gr, gp = m.graph(rs), m.graph(py)
    for o in gp.cycles(m.bases[0])[:5] if m.bases[0] in gp.tokens() else []:
        assert gr.quote(o.pools, o.base_mint, amount) == gp.quote(o.pools, o.base_mint, amount)


def _kept(opps: list[object]) -> list[dict[str, object]]:
    """What ``cycles_touching(only_live=True)`` must return of a full evaluation: the
    cycles with a profit or sized without ticks they needed, in the same order."""
    return [
        as_dict(o)
        for o in opps
        if o.profit > 0 or o.ticks_missing  # type: ignore[attr-defined]
    ]


@settings(max_examples=30, deadline=None)
@given(
    **_MARKETS,
    moves=st.lists(st.tuples(st.integers(0, 10**6), _FACTORS), min_size=1, max_size=25),
)
def test_only_live_is_the_kept_part_of_every_evaluation(
    seed: int,
    tokens: int,
    extra: int,
    standing: bool,
    clmm: float,
    moves: list[tuple[int, float]],
) -> None:
    """``only_live`` leaves out exactly the cycles a caller drops (no profit, ticks not
    missing), and still counts every cycle's persistence: a graph asked with it and one
    asked without agree on every later evaluation. Both backends, each against the full
    answer of a twin graph, and the two backends against each other."""
    rs, py = _rust_or_skip(), load("python")
    m = _market(seed, tokens, extra, standing, clmm, bases=2, dislocated_share=0.2)
    graphs = {e: (m.graph(eng), m.graph(eng)) for e, eng in (("rust", rs), ("python", py))}
    for step, (k, factor) in enumerate(moves):
        p = m.pools[k % len(m.pools)]
        _move(p, k, factor)
        answers = {}
        for e, (full, only) in graphs.items():
            p.upsert(full, step)
            p.upsert(only, step)
            want = _kept(full.cycles_touching(p.pool_id))
            got = [as_dict(o) for o in only.cycles_touching(p.pool_id, only_live=True)]
            assert got == want, (e, step)
            answers[e] = got
        assert answers["rust"] == answers["python"], step


def test_only_live_leaves_out_the_unprofitable_and_counts_them(eng: types.ModuleType) -> None:
    base, usdc = synthetic.address("mint", 0), synthetic.address("mint", 1)
    p1, p2, p3 = (synthetic.address("pool", i) for i in (1, 2, 3))
    g = eng.PoolGraph(base_mints=[base], max_hops=2)
    g.upsert_cpmm(p1, base, usdc, 10**12, 150 * 10**12, 25, 10_000, slot=1)
    g.upsert_cpmm(p2, base, usdc, 10**12, 153 * 10**12, 25, 10_000, slot=1)
    g.upsert_cpmm(p3, base, usdc, 10**12, 150 * 10**12, 25, 10_000, slot=1)
    # through p1: both ways round with p2 and with p3; only one of the four makes money
    assert len(g.cycles_touching(p1)) == 4
    (o,) = g.cycles_touching(p1, only_live=True)
    assert o.profit > 0 and set(o.pools) == {p1, p2} and o.persistence == 2
    # p3 moves: its cycle with p1 turns profitable; left out until then, it was still
    # counted (0 while unprofitable), so it starts at 1 like the full evaluation's
    g.upsert_cpmm(p3, base, usdc, 10**12, 147 * 10**12, 25, 10_000, slot=2)
    kept = {tuple(o.pools): o.persistence for o in g.cycles_touching(p1, only_live=True)}
    assert kept.get((p1, p3)) == 1 or kept.get((p3, p1)) == 1
    assert max(kept.values()) == 3  # p1 and p2's cycle, three evaluations in a row
    # p2 back in line: its cycle is left out, and its count starts again from 0
    g.upsert_cpmm(p2, base, usdc, 10**12, 150 * 10**12, 25, 10_000, slot=3)
    g.upsert_cpmm(p3, base, usdc, 10**12, 150 * 10**12, 25, 10_000, slot=3)
    assert g.cycles_touching(p1, only_live=True) == []
    g.upsert_cpmm(p2, base, usdc, 10**12, 153 * 10**12, 25, 10_000, slot=4)
    (o,) = g.cycles_touching(p1, only_live=True)
    assert set(o.pools) == {p1, p2} and o.persistence == 1

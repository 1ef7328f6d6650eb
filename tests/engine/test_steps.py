"""The steps a quote crosses (``PoolGraph.quote_steps``, ``Opportunity.hop_steps``): the
Rust core and the Python twin count the same, on every venue's pools as a session's graph
holds them (a ``FeedIngest`` fed a simulated market's accounts: AMM v4, CP-Swap,
Whirlpool, Raydium CLMM, Meteora DLMM, PumpSwap and OpenBook v2 pools, Token-2022 mints),
on random paths and sizes from one unit to past the liquidity; the amounts are
``quote``'s (one walk); a sized cycle's steps are those ``quote_steps`` gives at its size.
That each count is the simulator's (and the program's) is tests/judge/test_steps.py's.
"""

from __future__ import annotations

import functools
import types
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_rs import load
from engine_rs.errors import EngineError
from feeds import venues
from feeds.sim.state import Account
from feeds.sim.world import World, WorldConfig
from tests.support.truth import feed

BACKENDS = ("rust", "python")
SEEDS = (3, 7, 11)
CASES: Counter[str] = Counter()


def _rust_or_skip() -> types.ModuleType:
    try:
        return load("rust")
    except ImportError as exc:  # pragma: no cover - the extension is built by make engine
        pytest.skip(f"the Rust extension is not built: {exc}")


@functools.cache
def market(seed: int) -> tuple[World, dict[str, Any]]:
    """A quiet simulated market of every venue and each backend's graph of it, fed as a
    session feeds it (its pools tracked, each pool's arrays around the price)."""
    w = World(WorldConfig(seed=seed, trades_per_slot=0, dislocation_rate=0.0))
    graphs = {}
    for name in BACKENDS:
        eng = _rust_or_skip() if name == "rust" else load(name)
        g = eng.PoolGraph(base_mints=list(w.bases), max_hops=3)
        g.set_slot(w.slot)
        ing = eng.FeedIngest(g, 8192, 64)
        accounts: dict[str, Account] = dict(w.accounts)
        for pool in w.pools:
            ing.track_pool(pool.address, pool.kind)
            venue = venues.by_kind(pool.kind)
            if venue.follow is None:
                continue
            acc = accounts[pool.address]
            rec = venue.decode_pool(eng, acc.data, acc.owner)
            for ta, start in venue.follow(eng, pool.address, rec, 2):
                ing.track_array(ta, pool.address)
                made = None if venue.absent is None else venue.absent(start, pool.address)
                if ta not in accounts and made is not None:
                    accounts[ta] = Account(made[0], made[1], 0)
        feed(ing, accounts, w.slot, rounds=6)
        graphs[name] = g
    return w, graphs


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print("\nquote_steps compared:", dict(sorted(CASES.items())))


def outcome(g: Any, pools: list[str], token: str, amount: int) -> Any:
    try:
        return g.quote_steps(pools, token, amount)
    except EngineError as e:
        return type(e).__name__


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_backends_count_the_same_steps_and_quote_the_same_amounts(
    data: st.DataObject,
) -> None:
    """A random path of one to three pools of the market from one of its tokens, and a
    size from one unit to past the first pool's liquidity: both backends give the same
    amounts and steps (or the same error); the amounts are ``quote``'s."""
    w, graphs = market(data.draw(st.sampled_from(SEEDS), "seed"))
    g = graphs["python"]
    live = set(g.pools())
    pools = [p for p in w.pools if p.address in live]
    first = pools[data.draw(st.integers(0, len(pools) - 1), "pool")]
    a_to_b = data.draw(st.booleans(), "a_to_b")
    token = first.mint_a if a_to_b else first.mint_b
    path, at = [first.address], first.mint_b if a_to_b else first.mint_a
    for _ in range(data.draw(st.integers(0, 2), "more hops")):
        nxt = [p for p in pools if at in (p.mint_a, p.mint_b) and p.address not in path]
        if not nxt:
            break
        p = nxt[data.draw(st.integers(0, len(nxt) - 1), "next")]
        path.append(p.address)
        at = p.mint_b if at == p.mint_a else p.mint_a
    frac = data.draw(st.sampled_from([0.0, 1e-6, 1e-4, 1e-2, 0.1, 0.5, 1.0, 3.0]), "frac")
    amount = max(1, min(2**63, int(w._trade_size(first, a_to_b, frac))))
    if frac == 0.0:
        amount = data.draw(st.integers(1, 1_000), "dust")
    got = {n: outcome(graphs[n], path, token, amount) for n in BACKENDS}
    assert got["rust"] == got["python"], (path, amount, got)
    r = got["rust"]
    if isinstance(r, str) or not r[0]:
        CASES["refused or no fill"] += 1
        return
    amounts, steps = r
    assert [int(x) for x in amounts] == [int(x) for x in g.quote(path, token, amount)]
    assert len(steps) == len(path) and all(s >= 0 for s in steps)
    for address, s in zip(path, steps, strict=True):
        kind = w.by_address[address].kind
        CASES[f"{kind} hops"] += 1
        CASES[f"{kind} steps"] += s
        if kind in ("amm_v4", "cpmm", "pumpswap"):
            assert s == 0, (kind, s)  # no walk: nothing crossed (a Token-2022 side is
            # the caller's, compute.token_steps)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_sized_cycles_steps_are_its_quotes_at_its_size(seed: int) -> None:
    """``Opportunity.hop_steps``: the steps ``quote_steps`` gives at the cycle's size (the
    sizing's last walk counts them), the same on both backends; zeros with no size."""
    w, graphs = market(seed)
    got = {n: [o for b in w.bases for o in graphs[n].cycles(b, 3)] for n in BACKENDS}
    assert [o.hop_steps for o in got["rust"]] == [o.hop_steps for o in got["python"]]
    for o in got["python"]:
        assert len(o.hop_steps) == o.hops
        if o.amount_in <= 0:
            assert o.hop_steps == [0] * o.hops
            continue
        CASES["sized cycles"] += 1
        amounts, steps = graphs["python"].quote_steps(o.pools, o.base_mint, o.amount_in)
        assert amounts == o.hop_amounts and steps == o.hop_steps


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_sized_cycles_through_whirlpools_count_alike(seed: int) -> None:
    """Dislocated markets of constant-product pools and Whirlpools (``upsert_clmm``): the
    cycles' ``hop_steps`` are the same on both backends and are ``quote_steps`` at the
    cycle's size; a Whirlpool hop's steps grow with its size."""
    from feeds.sim import synthetic

    rs, py = _rust_or_skip(), load("python")
    m = synthetic.market(
        seed, 8, 24, bases=1, clmm_share=0.6, dislocation=0.05, dislocated_share=0.3
    )
    gr, gp = m.graph(rs, 3), m.graph(py, 3)
    if m.bases[0] not in gp.tokens():
        return
    opps = {n: g.cycles(m.bases[0], 3) for n, g in (("rust", gr), ("python", gp))}
    assert [o.hop_steps for o in opps["rust"]] == [o.hop_steps for o in opps["python"]]
    for o in opps["python"][:10]:
        if o.amount_in <= 0:
            assert o.hop_steps == [0] * o.hops
            continue
        CASES["sized cycles"] += 1
        CASES["sized cycles' steps"] += sum(o.hop_steps)
        for g in (gr, gp):
            assert g.quote_steps(o.pools, o.base_mint, o.amount_in) == (o.hop_amounts, o.hop_steps)
        # larger sizes cross at least as many ticks on the first hop
        last = -1
        for k in (1, 4, 16, 64, 256):
            r = gp.quote_steps(o.pools[:1], o.base_mint, o.amount_in * k)
            assert r == gr.quote_steps(o.pools[:1], o.base_mint, o.amount_in * k)
            if not r[0]:
                break
            assert r[1][0] >= last
            last = r[1][0]
        CASES["most steps on a first hop"] = max(CASES["most steps on a first hop"], last)


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_whirlpools_of_many_ticks_count_alike(data: st.DataObject) -> None:
    """A Whirlpool of many positions around its price (``upsert_clmm``): both backends
    count the same initialized ticks crossed for sizes from one unit to past its
    liquidity, both ways, and a larger size crosses at least as many."""
    rs, py = _rust_or_skip(), load("python")
    ts = data.draw(st.sampled_from([1, 8, 64]), "spacing")
    tick = data.draw(st.integers(-50_000, 50_000), "tick")
    nets: dict[int, int] = {}
    for _ in range(data.draw(st.integers(1, 30), "positions")):
        lo = (tick // ts + data.draw(st.integers(-60, 60), "lo")) * ts
        hi = lo + data.draw(st.integers(1, 40), "width") * ts
        liq = 10 ** data.draw(st.integers(6, 14), "liquidity")
        nets[lo] = nets.get(lo, 0) + liq
        nets[hi] = nets.get(hi, 0) - liq
    ticks = sorted((t, n) for t, n in nets.items() if n)
    liquidity = sum(n for t, n in ticks if t <= tick)
    sqrt = py.orca_whirlpool.sqrt_price_at_tick(tick) + 1
    a, b = "A" * 32, "B" * 32
    graphs = []
    for eng in (rs, py):
        g = eng.PoolGraph(base_mints=[], max_hops=3)
        g.upsert_clmm("P" * 32, a, b, sqrt, liquidity, tick, ts, 3_000, ticks, 1)
        graphs.append(g)
    for token in (a, b):
        last = -1
        for e in range(0, 19):
            amount = 10**e
            got = [outcome(g, ["P" * 32], token, amount) for g in graphs]
            assert got[0] == got[1], (token, amount, got)
            if isinstance(got[0], str) or not got[0][0]:
                break
            n = got[0][1][0]
            assert n >= last, (token, amount, n, last)
            last = n
        CASES["whirlpool of many ticks: most crossed"] = max(
            CASES["whirlpool of many ticks: most crossed"], last
        )

"""``PoolGraph.score_touching`` and its ``CyclePricer``: a pool's live cycles re-sized,
each with its compute-unit budget and its score, in one engine call.

The oracle is the session's per-cycle Python path as it was before the call existed:
``cycles_touching(only_live=True)`` on a third graph fed the same calls, each cycle's
``Evaluator.cost`` (``execution.compute.cycle_budget`` at ``cycle_steps``, the fee context
with the cycle's limit and its base's price of a lamport) and the scorer on it. Rust and
the twin must give the same answers as each other and as that, on random markets: pool
programs known or not (any venue's kind on any curve), Token-2022 mints on the paths, an
armed wallet with some token accounts, prices known or not, fees, policies and the
override, every pool evaluated once and some twice (persistence counted), pools moved and
mints' transfer fees set between the evaluations (the engine sizes a cycle again only
when a state its sizing reads changed: the twin sizes every time).
"""

from __future__ import annotations

import struct
import types
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine_rs
from arbscope.execution.compute import CU_ATA, CU_BASE, cu_models
from arbscope.market import Evaluator
from arbscope.solprice import WSOL, LamportPrice
from arbscope.timing import KernelTimer
from engine_rs.errors import InvalidInputError
from engine_rs.kernels import same
from engine_rs.records import FeeContext, ScorePolicy
from feeds import venues
from feeds.sim import synthetic
from feeds.sim.layouts import encode_token2022_mint
from feeds.wire.instructions import MAX_COMPUTE_UNIT_LIMIT
from feeds.wire.tokens import SPL_TOKEN, TOKEN_2022

RUST = engine_rs.load("rust")
PY = engine_rs.load("python")
KINDS = [v.kind for v in venues.VENUES]
TRANSFER_FEE_CONFIG = 1  # the Token-2022 extension's type


def _mint(t22: bool) -> bytes:
    plain = types.SimpleNamespace(
        mint_authority=None, supply=10**15, decimals=6, is_initialized=True, freeze_authority=None
    )
    data = encode_token2022_mint(plain, {})
    return data if t22 else data[:82]


def _fee_mint(bps: int) -> bytes:
    """A Token-2022 mint with a transfer fee of ``bps`` (at most 10**9 base units)."""
    plain = types.SimpleNamespace(
        mint_authority=None, supply=10**15, decimals=6, is_initialized=True, freeze_authority=None
    )
    cfg = bytes(64) + struct.pack("<Q", 0) + struct.pack("<QQH", 0, 10**9, bps) * 2
    return encode_token2022_mint(plain, {TRANSFER_FEE_CONFIG: cfg})


def _pricer(m: types.ModuleType) -> Any:
    return m.CyclePricer(cu_models(), CU_BASE, CU_ATA, MAX_COMPUTE_UNIT_LIMIT)


def _pricers(s: dict[str, Any], *names: str) -> dict[str, Any]:
    """A pricer for each name (the twin's for "python", else Rust's), told ``s``'s fees,
    prices, pools' kinds and wallet."""
    armed, base, have = s["wallet"]
    out = {n: _pricer(PY if n == "python" else RUST) for n in names}
    for p in out.values():
        p.set_fees(s["fees"], s["policy"], s["override"])
        p.set_prices({**s["prices"], WSOL: (1, 1)})
        p.set_pool_kinds(s["kinds"])
        p.set_wallet(armed, base, [m for m, yes in have.items() if yes])
    return out


@st.composite
def _setup(draw: st.DrawFn) -> dict[str, Any]:
    seed = draw(st.integers(0, 10_000))
    mk = synthetic.market(seed, 9, 30, bases=2, clmm_share=0.3, dislocation=0.03)
    kinds = {
        p.pool_id: k
        for p in mk.pools
        if (k := draw(st.sampled_from([*KINDS, None, None]))) is not None
    }
    told = {t: draw(st.sampled_from([None, SPL_TOKEN, TOKEN_2022, TOKEN_2022])) for t in mk.tokens}
    armed = draw(st.booleans())
    have = {t: draw(st.booleans()) for t in mk.tokens if draw(st.booleans())}
    base = draw(st.sampled_from(mk.tokens))
    prices = {
        b: draw(st.none() | st.tuples(st.integers(0, 10**9), st.integers(1, 10**9)))
        for b in mk.bases
    }
    fees = FeeContext(
        cu_limit=draw(st.integers(0, 2_000_000)),
        cu_price_micro_lamports=draw(st.integers(0, 10**7)),
        tip_lamports=draw(st.integers(0, 10**6)),
        signatures=draw(st.integers(1, 3)),
        base_fee_lamports=draw(st.none() | st.integers(0, 10**5)),
    )
    policy = ScorePolicy(
        min_profit=draw(st.integers(-1_000, 10**6)),
        min_profit_bps=draw(st.floats(-50.0, 50.0)),
        min_persistence=draw(st.integers(0, 3)),
        max_staleness_slots=draw(st.integers(0, 10)),
    )
    override = draw(st.none() | st.just(0) | st.integers(100_000, 2_000_000))
    order = draw(st.permutations([p.pool_id for p in mk.pools]))
    # between evaluations: a pool's state moved (its index, a factor), or a mint told
    # again as Token-2022's with a transfer fee (its index, bps) or plain; what the
    # engine's sizing reads changes, so a cycle it sized before must be sized again
    moves = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(order) + 10),
                st.one_of(
                    st.tuples(st.just("pool"), st.integers(0, 29), st.floats(0.9, 1.1)),
                    st.tuples(st.just("fee"), st.integers(0, 8), st.floats(0.0, 500.0)),
                ),
            ),
            max_size=8,
        )
    )
    return {
        "mk": mk,
        "kinds": kinds,
        "told": told,
        "wallet": (armed, base, have),
        "prices": prices,
        "fees": fees,
        "policy": policy,
        "override": override,
        "order": order,
        "moves": moves,
    }


def _graph(m: types.ModuleType, s: dict[str, Any]) -> Any:
    g = s["mk"].graph(m, max_hops=4)
    for t, owner in s["told"].items():
        if owner is not None:
            g.set_mint(t, _mint(owner == TOKEN_2022), owner)
    return g


@settings(max_examples=40, deadline=None)
@given(_setup())
def test_score_touching_is_the_per_cycle_python_path_on_both_backends(s: dict[str, Any]) -> None:
    graphs = {"rust": _graph(RUST, s), "python": _graph(PY, s)}
    pricers = _pricers(s, "rust", "python")
    armed, base, have = s["wallet"]
    # the oracle: the evaluator's own per-cycle Python on a graph of its own
    oracle_graph = _graph(RUST, s)
    ev = Evaluator(
        RUST,
        KernelTimer(RUST, None),
        {"rust": oracle_graph},
        s["fees"],
        s["policy"],
        pool_kinds=dict(s["kinds"]),
        cu_override=s["override"],
    )
    ev.wallet = (armed, base, dict(have))
    ev.lamport_prices.prices = {
        b: None if p is None else LamportPrice(b, p[0], p[1]) for b, p in s["prices"].items()
    }
    seen = 0
    all_graphs = [*graphs.values(), oracle_graph]
    for at, pool in enumerate([*s["order"], *s["order"][:10]]):
        for _, (what, i, x) in [m for m in s["moves"] if m[0] == at]:
            if what == "pool":
                spec = s["mk"].pools[int(i)]
                spec.reserve_b = max(1, int(spec.reserve_b * x))
                spec.sqrt_price_x64 = int(spec.sqrt_price_x64 * (1 + (x - 1) / 100))
                for g in all_graphs:
                    spec.upsert(g, at)
            else:
                mint = s["mk"].tokens[int(i)]
                for g in all_graphs:
                    g.set_mint(mint, _fee_mint(int(x)), TOKEN_2022)
        got = {k: graphs[k].score_touching(pool, pricers[k], 4) for k in graphs}
        assert same(got["rust"], got["python"]), pool
        opps = oracle_graph.cycles_touching(pool, 4, only_live=True)
        assert same([g[0] for g in got["rust"]], opps)
        for (_o, score, hops, steps, accounts), want in zip(got["rust"], opps, strict=True):
            cost = ev.cost(want)
            assert (hops, steps, accounts) == (
                cost.budget.hops,
                cost.budget.steps,
                cost.budget.accounts,
            )
            assert same(score, RUST.score(want, cost.fees, s["policy"]))
            seen += 1
    assert seen or not any(o.profit > 0 for o in oracle_graph.cycles(s["mk"].bases[0]))


@pytest.mark.parametrize("m", [RUST, PY], ids=lambda m: m.BACKEND)
def test_a_pricer_refuses_what_it_cannot_price(m: types.ModuleType) -> None:
    """No model, a venue twice, a figure too large, a pool of a program no model has, a
    price with a zero denominator, a threshold the scorer refuses: InvalidInputError,
    and the pricer keeps what it was told."""
    models = cu_models()
    for bad in ((), (*models, models[0]), ((*models[0][:2], 2**40, *models[0][3:]),)):
        with pytest.raises(InvalidInputError):
            m.CyclePricer(bad, CU_BASE, CU_ATA, MAX_COMPUTE_UNIT_LIMIT)
    p = _pricer(m)
    p.set_pool_kinds({"P1": "cpmm"})
    with pytest.raises(InvalidInputError):
        p.set_pool_kinds({"P2": "no_such_venue"})
    assert p.pool_kind_count() == 1
    with pytest.raises(InvalidInputError):
        p.set_prices({"B": (1, 0)})
    with pytest.raises(InvalidInputError):
        p.set_fees(FeeContext(), ScorePolicy(min_profit_bps=float("nan")))
    p.set_pool_kinds({"P3": "whirlpool"}, replace=True)
    assert p.pool_kind_count() == 1


@settings(max_examples=30, deadline=None)
@given(_setup(), st.integers(1, 6))
def test_a_pool_evaluated_in_pieces_is_the_whole_call_on_both_backends(
    s: dict[str, Any], piece: int
) -> None:
    """``score_touching`` with ``piece=(start, length)`` over ``0, length, 2 * length``
    up to ``touching_count``: both backends give the same answer for every piece, the
    pieces together are the whole call's answer on a graph of its own (each cycle
    re-sized and its persistence counted once, some pools evaluated twice), and each
    piece's cycles come after the last piece's in the canonical order (by base mint,
    then the pools along the cycle)."""
    graphs = {"rust": _graph(RUST, s), "python": _graph(PY, s)}
    whole = _graph(RUST, s)
    pricers = _pricers(s, "rust", "python", "whole")
    pieces_seen = 0
    for pool in [*s["order"], *s["order"][:10]]:
        count = graphs["rust"].touching_count(pool)
        assert count == graphs["python"].touching_count(pool) == whole.touching_count(pool)
        together: list[Any] = []
        last_key: tuple[str, tuple[str, ...]] | None = None
        for start in range(0, count, piece):
            got = {k: graphs[k].score_touching(pool, pricers[k], 4, (start, piece)) for k in graphs}
            assert same(got["rust"], got["python"]), (pool, start)
            keys = sorted((o.base_mint, tuple(o.pools)) for o, *_ in got["rust"])
            if keys and last_key is not None:
                assert keys[0] > last_key, (pool, start)
            last_key = keys[-1] if keys else last_key
            together.extend(got["rust"])
            pieces_seen += 1
        want = whole.score_touching(pool, pricers["whole"], 4)
        order = lambda g: (g[0].base_mint, tuple(g[0].pools))  # noqa: E731
        assert same(sorted(together, key=order), sorted(want, key=order)), pool
    # past the end, a piece is empty; an unknown pool is refused as the whole call does
    pool = s["order"][0]
    for k, g in graphs.items():
        assert g.score_touching(pool, pricers[k], 4, (g.touching_count(pool), 3)) == []
        with pytest.raises(engine_rs.errors.UnknownPoolError):
            g.touching_count("no such pool")
    assert pieces_seen >= len(s["order"])

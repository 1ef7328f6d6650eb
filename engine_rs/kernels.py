"""One registry of the engine's kernels: how to call each on a backend, on what input,
against which peer library. `make bench` and the registry test read it, so a new kernel
is wired in one place."""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import synthetic
from .records import FeeContext, ScorePolicy

Call = Callable[[], Any]


@dataclass(frozen=True, slots=True)
class Kernel:
    """``prepare(backend)`` builds the input once and returns the timed zero-arg call;
    ``peers`` maps a peer library's name to a function building its call (or None)."""

    name: str
    size: str
    prepare: Callable[[types.ModuleType], Call]
    peers: dict[str, Callable[[], Call | None]]


def _cpmm_out(m: types.ModuleType) -> Call:
    f = m.cpmm_amount_out
    return lambda: f(1_000_000, 5_000_000_000, 7_000_000_000, 25, 10_000)


def _cpmm_in(m: types.ModuleType) -> Call:
    f = m.cpmm_amount_in
    return lambda: f(1_396_221, 5_000_000_000, 7_000_000_000, 25, 10_000)


_CLMM_TICKS = [(i * 8, 1_000_000 if i < 0 else -1_000_000) for i in range(-40, 41) if i != 0]


def _clmm(m: types.ModuleType) -> Call:
    # ts-8 pool at tick 4; the a->b swap of 4.23e9 crosses 10 initialized ticks
    f, sp = m.clmm_swap, m.sqrt_price_from_tick(4)
    return lambda: f(sp, 10**12, 4, 8, 3000, _CLMM_TICKS, 4_230_000_000, True)


def _neg_cycle(tokens: int, pools: int) -> Callable[[types.ModuleType], Call]:
    def prep(m: types.ModuleType) -> Call:
        g = synthetic.market(7, tokens, pools, bases=0).graph(m, index_bases=False)
        return g.find_negative_cycle  # type: ignore[no-any-return]

    return prep


def _neg_cycle_after_update(tokens: int, pools: int) -> Callable[[types.ModuleType], Call]:
    """One pool's reserves move, then the sweep: the live pattern (upsert included)."""

    def prep(m: types.ModuleType) -> Call:
        mk = synthetic.market(7, tokens, pools, bases=0)
        g = mk.graph(m, index_bases=False)
        state = {"i": 0}

        def call() -> Any:
            state["i"] += 1
            p = mk.pools[(state["i"] * 7) % len(mk.pools)]
            bump = 1 + (state["i"] % 2)  # alternate two states: the market stays put
            g.upsert_cpmm(
                p.pool_id,
                p.mint_a,
                p.mint_b,
                p.reserve_a,
                p.reserve_b + bump,
                p.fee_num,
                p.fee_den,
                0,
            )
            return g.find_negative_cycle()

        return call

    return prep


def _peer_graph(lib: str, tokens: int, pools: int) -> Callable[[], Call | None]:
    def prep() -> Call | None:
        from . import python as twin

        mk = synthetic.market(7, tokens, pools, bases=0)
        edges = []
        for p in mk.pools:
            r1 = twin.cpmm_spot_rate(p.reserve_a, p.reserve_b, p.fee_num, p.fee_den)
            r2 = twin.cpmm_spot_rate(p.reserve_b, p.reserve_a, p.fee_num, p.fee_den)
            edges += [(p.mint_a, p.mint_b, -math.log(r1)), (p.mint_b, p.mint_a, -math.log(r2))]
        try:
            if lib == "networkx":
                import networkx as nx

                g = nx.MultiDiGraph()
                g.add_weighted_edges_from(edges)
                return lambda: nx.negative_edge_cycle(g)
            import rustworkx as rx

            rg = rx.PyDiGraph(multigraph=True)
            ix = {t: rg.add_node(t) for t in mk.tokens}
            for u, v, w in edges:
                rg.add_edge(ix[u], ix[v], w)
            return lambda: rx.negative_edge_cycle(rg, lambda w: w)
        except ImportError:
            return None

    return prep


def _cycles(m: types.ModuleType) -> Call:
    mk = synthetic.market(5, 60, 300, bases=1, clmm_share=0.1, dislocation=0.01)
    g = mk.graph(m, index_bases=False)
    base = mk.bases[0]
    return lambda: g.cycles(base, 4)


def _touching(tokens: int, pools: int) -> Callable[[types.ModuleType], Call]:
    def prep(m: types.ModuleType) -> Call:
        mk = synthetic.market(11, tokens, pools, bases=3, hub_share=0.05)
        g = mk.graph(m)
        ids = [p.pool_id for p in mk.pools]
        state = {"i": 0}

        def call() -> Any:
            state["i"] = (state["i"] + 7) % len(ids)
            return g.cycles_touching(ids[state["i"]])

        return call

    return prep


def _score(m: types.ModuleType) -> Call:
    mk = synthetic.market(3, 10, 40, bases=1, dislocation=0.03, dislocated_share=0.2)
    o = mk.graph(m).cycles(mk.bases[0])[0]
    fees, pol = FeeContext(cu_price_micro_lamports=10_000), ScorePolicy()
    f = m.score
    return lambda: f(o, fees, pol)


KERNELS: list[Kernel] = [
    Kernel("cpmm_amount_out", "1 call", _cpmm_out, {}),
    Kernel("cpmm_amount_in", "1 call", _cpmm_in, {}),
    Kernel("clmm_swap", "10 ticks crossed", _clmm, {}),
    Kernel(
        "find_negative_cycle",
        "100 tok / 400 pools, repeat sweep",
        _neg_cycle(100, 400),
        {
            "rustworkx": _peer_graph("rustworkx", 100, 400),
            "networkx": _peer_graph("networkx", 100, 400),
        },
    ),
    Kernel(
        "find_negative_cycle",
        "100 tok / 2000 pools, repeat sweep",
        _neg_cycle(100, 2000),
        {
            "rustworkx": _peer_graph("rustworkx", 100, 2000),
            "networkx": _peer_graph("networkx", 100, 2000),
        },
    ),
    Kernel("find_negative_cycle", "100/400, +1 pool update", _neg_cycle_after_update(100, 400), {}),
    Kernel(
        "find_negative_cycle", "100/2000, +1 pool update", _neg_cycle_after_update(100, 2000), {}
    ),
    Kernel("cycles", "60 tok / 300 pools, 4 hops", _cycles, {}),
    Kernel("cycles_touching", "2000 tok / 10000 pools, 3 bases", _touching(2000, 10_000), {}),
    Kernel("score", "1 call", _score, {}),
]

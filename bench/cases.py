"""How to run each kernel of the engine's registry (``engine_rs.kernels``) in a benchmark.

For each kernel: the sizes to run it at, a deterministic input generator
(``make_input(size, seed)``, backend-neutral), how to get a ready call on a backend
module (``prepare(backend, input)`` -> :class:`Call`), and optional peer libraries doing
the same job (networkx, rustworkx, numpy, TA-Lib, solders, base58, orjson) with how
their answer must relate to ours. The inputs come from the simulator's synthetic markets
and bytes (``feeds.sim``) and the twin's exact math, so they do not depend on the
backend under test.

- ``python -m bench`` times every (kernel, size) on Rust, Python and the peers;
- ``tests/engine/test_kernels_registry.py`` runs every kernel's smallest size on both
  backends and asserts the registry's ``compare`` holds (and that the peers agree
  where they exist), and that every registered kernel has exactly one case here.

The running app needs none of this: the live shadow checker reads only the registry.

Stateful kernels (the graph searches after a pool update) give their :class:`Call` a
``before`` step: it runs before every timed call and is **not** part of the timing;
the bench times it on its own and prints it as a separate row.
"""

from __future__ import annotations

import base64
import itertools
import math
import random
import struct
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any

import engine_rs
from engine_rs.kernels import Kernel, by_name
from engine_rs.records import FeeContext, ScorePolicy
from feeds.sim import synthetic
from feeds.sim.world import World, WorldConfig
from feeds.wire.protocol import account_notification

__all__ = [
    "CASES",
    "Call",
    "Case",
    "Size",
    "case",
]

DEFAULT_SEED = 7


def _twin() -> types.ModuleType:
    """The pure-Python backend: its exact math makes inputs that do not depend on the
    backend under test."""
    return engine_rs.load("python")


@dataclass(frozen=True, slots=True)
class Size:
    """One input size of a kernel: a label for the table and the generator's parameters."""

    label: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Call:
    """A prepared call on one backend: the timed call is ``fn(*args)``.

    ``before`` (if set) runs before each timed call and may change ``args`` and the
    backend's state (a pool update); it is excluded from the timing.
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    before: Callable[[], None] | None = None

    def __call__(self) -> Any:
        """``before()`` then ``fn(*args)``: one complete evaluation."""
        if self.before is not None:
            self.before()
        return self.fn(*self.args)


# A peer builds a zero-arg call from the kernel's input, or None when it does not
# apply to that size; ImportError when its library is not installed. A stateful size's
# peer returns a :class:`Call` whose ``before`` makes the same update as ours (untimed).
PeerFactory = Callable[[Any, Size], Callable[[], Any] | None]
# A peer in another process that times itself (the TypeScript client under node): from
# the kernel's input, its median seconds per call, or None where it cannot run.
TimedPeer = Callable[[Any, Size], float | None]


@dataclass(frozen=True, slots=True)
class Case:
    """How the bench and the parity test run the registered kernel called ``name``."""

    name: str
    sizes: tuple[Size, ...]  # smallest first: the parity test runs sizes[0]
    make_input: Callable[[Size, int], Any]
    prepare: Callable[[types.ModuleType, Any], Call]
    peers: Mapping[str, PeerFactory] = field(default_factory=dict)
    # how a peer's answer must relate to the kernel's answer on the same input
    peer_agrees: Callable[[Any, Any], bool] | None = None
    # what the untimed ``before`` step does, for the bench's separate row
    before_label: str = "pool update"
    # a timed call does this many operations (a loop over ticks): the bench divides
    calls_per_run: int = 1
    # peers that time themselves in a process of their own (their own clock, same bytes)
    timed_peers: Mapping[str, TimedPeer] = field(default_factory=dict)

    @property
    def kernel(self) -> Kernel:
        """The registry's entry of this kernel (KeyError: not registered)."""
        k = by_name(self.name)
        if k is None:
            raise KeyError(f"{self.name!r} is not in engine_rs.kernels.KERNELS")
        return k

    @property
    def doc(self) -> str:
        """What the kernel does (the registry's words)."""
        return self.kernel.doc

    @property
    def compare(self) -> Callable[[Any, Any], bool]:
        """Whether two backends' results agree (the registry's ``compare``)."""
        return self.kernel.compare

    def call(
        self, backend: types.ModuleType, size: Size | None = None, seed: int = DEFAULT_SEED
    ) -> Call:
        """A prepared :class:`Call` on ``backend`` at ``size`` (default: the smallest)."""
        return self.prepare(backend, self.make_input(size or self.sizes[0], seed))


# ---------------------------------------------------------------- constant product
def _cpmm_input(size: Size, seed: int) -> tuple[int, ...]:
    r = random.Random(seed)
    reserve_in, reserve_out = r.randint(10**9, 10**12), r.randint(10**9, 10**12)
    fee_num, fee_den = r.choice([(25, 10_000), (2_500, 1_000_000), (30, 10_000)])
    if size.params.get("exact_out"):
        return (reserve_out // r.randint(50, 5_000), reserve_in, reserve_out, fee_num, fee_den)
    return (reserve_in // r.randint(50, 5_000), reserve_in, reserve_out, fee_num, fee_den)


def _scalar(fn_name: str) -> Callable[[types.ModuleType, Any], Call]:
    """A call of the backend's ``fn_name`` (a venue's function by its namespace:
    ``"raydium_clmm.swap"``), looked up once when prepared, never per timed call."""
    get = attrgetter(fn_name)

    def prepare(m: types.ModuleType, args: Any) -> Call:
        return Call(get(m), tuple(args))

    return prepare


def _fee_path_input(size: Size, seed: int) -> tuple[Any, ...]:
    """A 3-hop cycle of constant-product pools A -> B -> C -> A whose middle mints are
    Token-2022 mints with a transfer fee (``fees``: how many of them carry one)."""
    from feeds.sim.layouts import encode_token2022_mint

    r = random.Random(seed)
    b58 = engine_rs.backend().b58encode
    mints = [str(b58(bytes([i + 1]) * 32)) for i in range(3)]
    pools = [str(b58(bytes([i + 9]) * 32)) for i in range(3)]
    reserves = [(r.randint(10**11, 10**12), r.randint(10**11, 10**12)) for _ in range(3)]
    mint = types.SimpleNamespace(
        mint_authority=None, supply=10**15, decimals=6, is_initialized=True, freeze_authority=None
    )
    cfg = bytes(72) + (struct.pack("<QQH", 0, 10**7, 100) * 2)
    data = encode_token2022_mint(mint, {1: cfg})
    return mints, pools, reserves, data, size.params.get("fees", 2)


def _prepare_fee_path(m: types.ModuleType, inp: tuple[Any, ...], method: str = "quote") -> Call:
    mints, pools, reserves, data, fees = inp
    g = m.PoolGraph(base_mints=[mints[0]], max_hops=3)
    for i in range(3):
        g.upsert_cpmm(pools[i], mints[i], mints[(i + 1) % 3], *reserves[i], 25, 10_000, 1)
    for mint in mints[1 : 1 + fees]:
        g.set_mint(mint, data, "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
    return Call(getattr(g, method), (pools, mints[0], 10**9))


def _path_input(size: Size, seed: int) -> tuple[str, tuple[Any, ...]]:
    """A path for ``PoolGraph.quote`` / ``quote_steps``: the 3-hop constant-product cycle
    of :func:`_fee_path_input`, or (``crossings``) one Whirlpool hop whose input crosses
    that many initialized ticks (:func:`_clmm_input`'s pool and amount)."""
    if size.params.get("crossings"):
        return "whirlpool", _clmm_input(size, seed)
    return "cpmm", _fee_path_input(size, seed)


def _prepare_path(method: str) -> Callable[[types.ModuleType, Any], Call]:
    def prepare(m: types.ModuleType, inp: tuple[str, tuple[Any, ...]]) -> Call:
        tag, args = inp
        if tag == "cpmm":
            return _prepare_fee_path(m, args, method)
        sqrt_price, liquidity, tick, ts, fee, ticks, amount, _ = args
        b58 = engine_rs.backend().b58encode
        a, b, pool = (str(b58(bytes([i]) * 32)) for i in (1, 2, 9))
        g = m.PoolGraph(base_mints=[], max_hops=3)
        g.upsert_clmm(pool, a, b, sqrt_price, liquidity, tick, ts, fee, ticks, 1)
        return Call(getattr(g, method), ([pool], a, amount))

    return prepare


# the paths ``quote`` and ``quote_steps`` are timed on (the same inputs: the steps' cost)
_PATH_SIZES = (
    Size("3 hops, no fee mint", {"fees": 0}),
    Size("3 hops, 2 fee mints", {"fees": 2}),
    Size("1 Whirlpool hop, 10 ticks crossed", {"crossings": 10}),
    Size("1 Whirlpool hop, 40 ticks crossed", {"crossings": 40}),
)


def _transfer_fee_input(size: Size, seed: int) -> tuple[Any, ...]:
    """A Token-2022 fee config (older fee until epoch 600, then the newer one) and an
    amount at an epoch on either side of the change."""
    r = random.Random(seed)
    older = (r.randint(0, 500), r.randint(0, 10**9), r.randint(0, 10_000))
    newer = (600, r.randint(0, 10**12), r.randint(0, 10_000))
    return ((older, newer), r.choice([599, 600, 700]), r.randint(0, 10**15))


def _pump_input(size: Size, seed: int) -> tuple[Any, ...]:
    """A PumpSwap pool (mainnet-like reserves and fee rates) and an exact input."""
    r = random.Random(seed)
    base, quote = r.randint(10**13, 10**15), r.randint(10**10, 10**12)
    lp, protocol, creator = r.choice([(20, 5, 5), (2, 93, 30), (25, 5, 0)])
    sell = bool(size.params.get("sell"))
    amount = (base if sell else quote) // r.randint(50, 5_000)
    return (base, quote, lp, protocol, creator, amount, sell)


# ---------------------------------------------------------------- OpenBook v2
def _openbook_sides(orders_each: int, seed: int) -> tuple[bytes, bytes, bytes]:
    """A SOL-USDC-like market and two book sides of ``orders_each`` fixed orders over
    levels a tick apart around a fair price (several orders a level)."""
    from bench import openbook_books as B

    r = random.Random(seed)
    mid = 150_000  # quote lots per base lot: 150.000 USDC with lot sizes 10^6 / 1
    levels = max(orders_each // 3, 1)
    bids, asks = [], []
    for i in range(orders_each):
        lvl = i % levels
        ts = 1_700_000_000 + r.randint(0, 600)
        bids.append(
            B.OrderSpec(
                mid - 5 - lvl * 3,
                r.randint(1, 400),
                2 * i + 1,
                timestamp=ts,
                time_in_force=r.choice([0, 0, 0, 300]),
            )
        )
        asks.append(
            B.OrderSpec(
                mid + 5 + lvl * 3,
                r.randint(1, 400),
                2 * i + 2,
                timestamp=ts,
                time_in_force=r.choice([0, 0, 0, 300]),
            )
        )
    m = B.market(base_decimals=9, quote_decimals=6, base_lot_size=1_000_000, quote_lot_size=1)
    return m, B.bookside(True, bids, seed=seed), B.bookside(False, asks, seed=seed + 1)


def _openbook_ladder_input(size: Size, seed: int) -> tuple[Any, ...]:
    m, bids, asks = _openbook_sides(size.params["orders"], seed)
    return (m, bids, asks, 1_700_000_300, size.params.get("depth", 20))


def _ts_client_ladder(inp: Any, size: Size) -> float | None:
    """The official TypeScript client on the same bytes (node timing its decode of the
    market and both sides and its ``getL2`` of each: ``bench.jspeer``); None without
    node or the package."""
    from bench.jspeer import ts_ladder_ns

    market, bids, asks, now, depth = inp
    ns = ts_ladder_ns(market, bids, asks, iterations=300, depth=depth, now=now)
    return None if ns is None else ns / 1e9


def _openbook_take_input(size: Size, seed: int) -> tuple[Any, ...]:
    """A book whose bids hold one order a level (``levels`` of them) and a sell that
    walks all of them (limit 50)."""
    from bench import openbook_books as B

    r = random.Random(seed)
    n = size.params["levels"]
    orders = [B.OrderSpec(150_000 - 3 * i, r.randint(1, 400), i + 1) for i in range(n)]
    m = B.market(base_decimals=9, quote_decimals=6, base_lot_size=1_000_000, quote_lot_size=1)
    bids, asks = B.bookside(True, orders, seed=seed), B.bookside(False, [])
    amount = sum(o.quantity for o in orders) * 1_000_000
    return (m, bids, asks, 0, amount, True, 50)


def _openbook_take_prepare(m: types.ModuleType, args: Any) -> Call:
    market, bids, asks, now, amount, a_to_b, limit = args
    book = m.openbook_v2.book(market, bids, asks, now)  # decoded once, untimed
    return Call(m.openbook_v2.take, (book, amount, a_to_b, limit))


# ---------------------------------------------------------------- Whirlpool swap
def _clmm_input(size: Size, seed: int) -> tuple[Any, ...]:
    """A tick-spacing-8 pool with initialized ticks every 8 ticks around the price, and the
    exact input (fee included) that moves the price across ``crossings`` of them, a -> b."""
    twin = _twin()  # exact tick math; the input must not depend on the backend

    crossings = int(size.params.get("crossings", 10))
    r = random.Random(seed)
    ts, tick = 8, r.randint(1, 7)
    liquidity = r.randint(10**12, 10**13)
    nets = {k * ts: r.randint(10**5, 10**7) for k in range(1, crossings + 30)}
    # going down a tick subtracts its liquidity_net: positive below, negative above
    ticks = sorted([(-t, n) for t, n in nets.items()] + [(t, -n) for t, n in nets.items()])
    sqrt_price = twin.orca_whirlpool.sqrt_price_at_tick(tick)
    limit = twin.orca_whirlpool.sqrt_price_at_tick(-(crossings * ts) - ts // 2)
    to_limit = twin.orca_whirlpool.swap(
        sqrt_price, liquidity, tick, ts, 3_000, ticks, 2**63, True, True, limit
    )
    return (sqrt_price, liquidity, tick, ts, 3_000, ticks, to_limit.amount_in, True)


# ---------------------------------------------------------------- Raydium CLMM swap
def _raydium_clmm_input(size: Size, seed: int) -> tuple[Any, ...]:
    """A tick-spacing-10 pool with initialized ticks every 10 ticks around the price, and
    the exact input (fee included) that moves the price across ``crossings`` of them,
    0 -> 1 (found by bisection on the twin's swap: it ends between the last crossed tick
    and the next)."""
    twin = _twin()
    crossings = int(size.params.get("crossings", 10))
    r = random.Random(seed)
    ts, tick = 10, r.randint(1, 9)
    liquidity = r.randint(10**12, 10**13)
    nets = {k * ts: r.randint(10**5, 10**7) for k in range(1, crossings + 30)}
    ticks = sorted([(-t, n) for t, n in nets.items()] + [(t, -n) for t, n in nets.items()])
    sqrt_price = twin.raydium_clmm.sqrt_price_at_tick(tick)
    args = (sqrt_price, liquidity, tick, ts, 2_500, 0, ticks)
    # crossing tick -k*ts leaves the current tick at -k*ts - 1: aim between the
    # crossings-th tick below 0 and the next one
    from engine_rs.errors import EngineError

    def short(amount: int) -> bool:
        try:
            return bool(
                twin.raydium_clmm.swap(*args, amount, True).tick_current
                >= -(crossings * ts) - ts // 2
            )
        except EngineError:  # out of liquidity: far past it
            return False

    lo, hi = 1, 2**62
    while lo < hi:
        mid = (lo + hi) // 2
        if short(mid):
            lo = mid + 1
        else:
            hi = mid
    return (*args, lo, True)


# ---------------------------------------------------------------- Meteora DLMM swap
def _world_with(kind: str, seed: int, twin: types.ModuleType) -> World:
    """A small simulated market holding a pool of ``kind``: seed's, or the first of the
    seeds after it that has one (a venue takes only a share of the pools)."""
    for k in range(64):
        w = World(WorldConfig(seed=seed + 1_000 * k, tokens=8, pools=24), backend=twin)
        if any(p.kind == kind for p in w.pools):
            return w
    raise RuntimeError(f"no simulated market of seed {seed} holds a {kind} pool")


def _damm_input(size: Size, seed: int) -> tuple[Any, ...]:
    """A simulated DAMM v2 pool's bytes (``feeds.sim``) of the size's collect-fee mode
    (1: concentrated, fee on b; 2: compounding), its clock point and an exact input of
    about a thousandth of its input side, b -> a (the fee on the input)."""
    twin = _twin()
    mode = int(size.params.get("mode", 1))
    for k in range(64):
        w = _world_with("damm_v2", seed + 7_919 * k, twin)
        pool = next(
            (p for p in w.pools if p.kind == "damm_v2" and p.record.collect_fee_mode == mode),
            None,
        )
        if pool is not None:
            rec = pool.record
            return (w.accounts[pool.address].data, w.slot, rec.token_b_amount // 1_000, False)
    raise RuntimeError(f"no simulated DAMM v2 pool of collect-fee mode {mode} near seed {seed}")


def _dlmm_input(size: Size, seed: int) -> tuple[Any, ...]:
    """A simulated DLMM pair's bytes and its bin arrays' (``feeds.sim``), and the exact
    input that walks X for Y ``crossings`` bins down from the active one."""
    twin = _twin()  # the input must not depend on the backend

    crossings = int(size.params.get("crossings", 10))
    w = _world_with("dlmm", seed, twin)
    pool = next(p for p in w.pools if p.kind == "dlmm")
    pair = w.accounts[pool.address].data
    arrays = [w.accounts[a].data for a in pool.tick_arrays]
    now = pool.record.last_update_timestamp
    target = pool.record.active_id - crossings

    def end(amount: int) -> int:
        r = twin.meteora_dlmm.swap(pair, arrays, amount, True, now, w.slot)
        return pool.record.active_id + 1 if r is None else int(r.active_id)

    lo, hi = 1, 1
    while end(hi) > target:
        lo, hi = hi, hi * 2
    while lo < hi:  # the least input that ends on the target bin
        mid = (lo + hi) // 2
        if end(mid) > target:
            lo = mid + 1
        else:
            hi = mid
    return (pair, arrays, lo, True, now, w.slot)


# ---------------------------------------------------------------- pool graph
@dataclass(frozen=True, slots=True)
class GraphInput:
    """A synthetic market, and whether each timed call follows one pool update."""

    market: synthetic.Market
    update: bool = False


def _graph_input(size: Size, seed: int) -> GraphInput:
    params = dict(size.params)
    update = bool(params.pop("update", False))
    return GraphInput(synthetic.market(seed, **params), update)


def _graph(m: types.ModuleType, mk: synthetic.Market) -> Any:
    """Every pool upserted first, then the base mints indexed in one pass (the same
    index as indexing while upserting, built much faster)."""
    g = mk.graph(m, index_bases=False)
    for b in mk.bases:
        g.add_base_mint(b)
    return g


def _nudged(spec: synthetic.PoolSpec, k: int) -> synthetic.PoolSpec:
    """``spec`` with its price moved by one of two tiny steps (by the parity of ``k``):
    nudges alternate between two states, so a long timing run leaves the market put."""
    step = 1 + k % 2
    if spec.kind == "cpmm":
        return replace(spec, reserve_b=spec.reserve_b + step)
    return replace(spec, sqrt_price_x64=spec.sqrt_price_x64 + step)


def _upsert_args(spec: synthetic.PoolSpec) -> tuple[Any, ...]:
    """The arguments of ``upsert_cpmm`` / ``upsert_clmm`` for ``spec`` at slot 0."""
    if spec.kind == "cpmm":
        return (
            spec.pool_id,
            spec.mint_a,
            spec.mint_b,
            spec.reserve_a,
            spec.reserve_b,
            spec.fee_num,
            spec.fee_den,
            0,
        )
    return (spec.pool_id, spec.mint_a, spec.mint_b, *spec.curve(), 0)


def _update_order(n: int, stride: int) -> Callable[[], tuple[int, int]]:
    """Each call names the next update: ``(pool index, state)``, every ``stride``-th of
    ``n`` pools (wrapping), its state alternating between the two nudges of
    :func:`_nudged` on each lap. Our graph and the peers' follow the same order."""
    state = [0]

    def nxt() -> tuple[int, int]:
        state[0] += 1
        k = state[0] * stride
        return k % n, (k // n) % 2

    return nxt


def _pool_updates(g: Any, specs: Sequence[synthetic.PoolSpec], stride: int) -> Callable[[], str]:
    """Each call upserts a new state of the next pool of ``specs`` (every ``stride``-th,
    wrapping) into ``g`` and returns its id. The states are built here, so a call is
    the upsert alone."""
    upserts = [
        [
            (
                g.upsert_cpmm if spec.kind == "cpmm" else g.upsert_clmm,
                _upsert_args(_nudged(spec, k)),
            )
            for k in (0, 1)
        ]
        for spec in specs
    ]
    nxt = _update_order(len(specs), stride)

    def update() -> str:
        i, k = nxt()
        fn, args = upserts[i][k]
        fn(*args)
        return str(args[0])

    return update


_NEG_STRIDE = 7  # the sweep rows update every 7th pool


def _prepare_negative_cycle(m: types.ModuleType, inp: GraphInput) -> Call:
    g = _graph(m, inp.market)
    c = Call(g.find_negative_cycle)
    if inp.update:
        update = _pool_updates(g, inp.market.pools, _NEG_STRIDE)

        def before() -> None:
            update()

        c.before = before  # the sweep after each update is what the live path runs
    return c


def _weights(p: synthetic.PoolSpec) -> tuple[float, float]:
    """A pool's edge weights ``a -> b``, ``b -> a``: -ln(spot rate after fee), from the
    twin's rates."""
    twin = _twin()
    if p.kind == "cpmm":
        ab = twin.cpmm_spot_rate(p.reserve_a, p.reserve_b, p.fee_num, p.fee_den)
        ba = twin.cpmm_spot_rate(p.reserve_b, p.reserve_a, p.fee_num, p.fee_den)
    else:
        ab = twin.orca_whirlpool.spot_rate(p.sqrt_price_x64, p.fee_rate, True)
        ba = twin.orca_whirlpool.spot_rate(p.sqrt_price_x64, p.fee_rate, False)
    return -math.log(ab), -math.log(ba)


def _neg_edges(mk: synthetic.Market) -> list[tuple[str, str, float]]:
    """The graph's edges with -ln(spot rate after fee) weights: ``a -> b`` then ``b -> a``
    for each pool in order."""
    edges = []
    for p in mk.pools:
        ab, ba = _weights(p)
        edges += [(p.mint_a, p.mint_b, ab), (p.mint_b, p.mint_a, ba)]
    return edges


def _peer_updates(inp: GraphInput, set_weight: Callable[[int, float], None]) -> Callable[[], None]:
    """A peer's ``before`` step: the update our ``before`` makes (same pool, same new
    state, same order), written as the pool's two new edge weights through
    ``set_weight(edge number, weight)`` (edges numbered as :func:`_neg_edges` lists them)."""
    pools = inp.market.pools
    weights = [[_weights(_nudged(spec, k)) for k in (0, 1)] for spec in pools]
    nxt = _update_order(len(pools), _NEG_STRIDE)

    def before() -> None:
        i, k = nxt()
        ab, ba = weights[i][k]
        set_weight(2 * i, ab)
        set_weight(2 * i + 1, ba)

    return before


def _peer_networkx(inp: GraphInput, size: Size) -> Callable[[], Any] | None:
    import networkx as nx

    g = nx.MultiDiGraph()
    keys = [(u, v, g.add_edge(u, v, weight=w)) for u, v, w in _neg_edges(inp.market)]
    if not inp.update:
        return lambda: nx.negative_edge_cycle(g)

    def set_weight(i: int, w: float) -> None:
        u, v, key = keys[i]
        g[u][v][key]["weight"] = w

    # the same graph after the same update as ours (the update is not timed)
    return Call(nx.negative_edge_cycle, (g,), _peer_updates(inp, set_weight))


def _peer_rustworkx(inp: GraphInput, size: Size) -> Callable[[], Any] | None:
    import rustworkx as rx

    g = rx.PyDiGraph(multigraph=True)
    ix = {t: g.add_node(t) for t in inp.market.tokens}
    edges = [g.add_edge(ix[u], ix[v], w) for u, v, w in _neg_edges(inp.market)]
    if not inp.update:
        return lambda: rx.negative_edge_cycle(g, float)

    def set_weight(i: int, w: float) -> None:
        g.update_edge_by_index(edges[i], w)

    # the same graph after the same update as ours (the update is not timed)
    return Call(rx.negative_edge_cycle, (g, float), _peer_updates(inp, set_weight))


def _cycle_exists_agrees(ours: Any, peer: Any) -> bool:
    """The peers answer whether a negative cycle exists; ours returns it or None."""
    return (ours is not None) == bool(peer)


def _prepare_cycles(m: types.ModuleType, inp: GraphInput) -> Call:
    g = _graph(m, inp.market)
    return Call(g.cycles, (inp.market.bases[0], 4))


def _prepare_touching(m: types.ModuleType, inp: GraphInput) -> Call:
    """The timed call re-evaluates the cycles of the pool the (untimed) ``before`` step
    just updated. Updates go round the hub pools (a base mint on one side): the busiest
    pools, in the most cycles."""
    mk = inp.market
    g = _graph(m, mk)
    hubs = [p for p in mk.pools if p.mint_a in mk.bases or p.mint_b in mk.bases]
    c = Call(g.cycles_touching, (hubs[0].pool_id, 4))
    update = _pool_updates(g, hubs, 1)

    def before() -> None:
        c.args = (update(), 4)

    c.before = before
    return c


def _prepare_score_touching(m: types.ModuleType, inp: GraphInput) -> Call:
    """:func:`_prepare_touching`'s updates, each pool's live cycles priced in the same
    call (``score_touching``: compute-unit budget and score, every venue's model, a
    price of 1/1 in every base)."""
    from arbscope.execution.compute import CU_ATA, CU_BASE, cu_models
    from feeds.wire.instructions import MAX_COMPUTE_UNIT_LIMIT

    mk = inp.market
    g = _graph(m, mk)
    pricer = m.CyclePricer(cu_models(), CU_BASE, CU_ATA, MAX_COMPUTE_UNIT_LIMIT)
    pricer.set_fees(FeeContext(cu_price_micro_lamports=1_000, tip_lamports=10_000), ScorePolicy())
    pricer.set_prices({b: (1, 1) for b in mk.bases})
    hubs = [p for p in mk.pools if p.mint_a in mk.bases or p.mint_b in mk.bases]
    c = Call(g.score_touching, (hubs[0].pool_id, pricer, 4))
    update = _pool_updates(g, hubs, 1)

    def before() -> None:
        c.args = (update(), pricer, 4)

    c.before = before
    return c


# ---------------------------------------------------------------- scorer
@dataclass(frozen=True, slots=True)
class ScoreInput:
    market: synthetic.Market
    fees: FeeContext
    policy: ScorePolicy


def _score_input(size: Size, seed: int) -> ScoreInput:
    r = random.Random(seed)
    mk = synthetic.market(seed, 10, 40, bases=1, dislocation=0.03, dislocated_share=0.2)
    fees = FeeContext(
        cu_limit=r.choice([200_000, 300_000, 400_000]),
        cu_price_micro_lamports=r.randint(0, 50_000),
        tip_lamports=r.choice([0, 10_000, 100_000]),
    )
    return ScoreInput(mk, fees, ScorePolicy(min_profit=1, min_persistence=1))


def _prepare_score(m: types.ModuleType, inp: ScoreInput) -> Call:
    # the best opportunity of this backend's own graph: the record type the live path scores
    best = _graph(m, inp.market).cycles(inp.market.bases[0])[0]
    return Call(m.score, (best, inp.fees, inp.policy))


# ---------------------------------------------------------------- fee estimator
@dataclass(frozen=True, slots=True)
class FeeInput:
    """A window already full (``slots`` slots of ``per_slot`` samples) and the stream of
    samples the timed calls add: a new slot every ``per_slot`` samples, so the oldest
    slot leaves the window as often as it does live."""

    window: int
    warm: tuple[tuple[int, int], ...]
    stream: tuple[tuple[int, int], ...]


def _fee_input(size: Size, seed: int) -> FeeInput:
    r = random.Random(seed)
    slots, per_slot = int(size.params["slots"]), int(size.params["per_slot"])

    def price() -> int:  # heavy-tailed, as real CU prices are
        return int(r.paretovariate(1.2) * 1_000) if r.random() > 0.1 else 0

    warm = tuple((s, price()) for s in range(slots) for _ in range(per_slot))
    stream = tuple((slots + k // per_slot, price()) for k in range(20_000))
    return FeeInput(slots, warm, stream)


def _prepare_fees(m: types.ModuleType, inp: FeeInput) -> Call:
    """Each call adds the next sample of the stream, then asks for the p75."""
    f = m.FeeEstimator(inp.window)
    f.add_many(inp.warm)
    stream, n, k = inp.stream, len(inp.stream), [0]
    add, percentile = f.add, f.percentile

    def add_then_p75() -> int:
        slot, price = stream[k[0] % n]
        k[0] += 1
        add(slot, price)
        return int(percentile(75))

    return Call(add_then_p75)


def _peer_numpy_percentile(inp: FeeInput, size: Size) -> Callable[[], Any] | None:
    """numpy's percentile over the same window's samples (no add: a lower bound)."""
    import numpy as np

    values = np.array([p for _, p in inp.warm], dtype=np.uint64)
    return lambda: np.percentile(values, 75, method="inverted_cdf")


def _same_percentile(ours: Any, peer: Any) -> bool:
    return bool(ours >= 0 and peer >= 0)  # different windows (peer has no add): both ran


# ---------------------------------------------------------------- de-duplication
@dataclass(frozen=True, slots=True)
class DedupInput:
    """Batches of notifications as three endpoints deliver them: each of ``messages``
    keys (48 bytes: account, slot, data hash) arrives from each endpoint with a
    probability and a lag of its own, all sorted by arrival time."""

    capacity: int
    batches: tuple[tuple[list[bytes], list[int], list[int]], ...]


def _dedup_input(size: Size, seed: int) -> DedupInput:
    r = random.Random(seed)
    messages, n_batches = int(size.params["messages"]), int(size.params.get("batches", 32))
    deliver = (0.95, 0.75, 0.6)  # ~2.3 copies per message
    lag_ns = (200_000, 400_000, 1_500_000)
    batches = []
    t = 0
    for b in range(n_batches):
        arrivals = []
        for i in range(messages):
            key = r.randbytes(32) + (b * messages + i).to_bytes(8, "little") + r.randbytes(8)
            t += 20_000
            eps = [ep for ep, pr in enumerate(deliver) if r.random() < pr] or [0]
            arrivals += [(key, ep, t + int(r.expovariate(1 / lag_ns[ep]))) for ep in eps]
        arrivals.sort(key=lambda a: a[2])
        batches.append(
            ([a[0] for a in arrivals], [a[1] for a in arrivals], [a[2] for a in arrivals])
        )
    # capacity below the keys of all batches: the timed loop runs with eviction going on
    return DedupInput(max(messages * n_batches // 4, 1), tuple(batches))


def _fresh(batch: tuple[list[bytes], list[int], list[int]]) -> tuple[Any, ...]:
    """New objects with the batch's values: live, the keys and times were just built
    from the frames and sit in the cache; reused objects would be cold after the other
    batches went through, and the timing would measure cache misses instead."""
    keys, eps, nss = batch
    return ([bytes(bytearray(k)) for k in keys], list(eps), [t + 1 - 1 for t in nss])


def _prepare_dedup(m: types.ModuleType, inp: DedupInput) -> Call:
    d = m.Deduper(inp.capacity)
    batches, k = inp.batches, [0]
    c = Call(d.accept_many, _fresh(batches[0]))

    def before() -> None:  # the next batch (keys of a batch long gone are new again)
        c.args = _fresh(batches[k[0] % len(batches)])
        k[0] += 1

    c.before = before
    return c


def _peer_set_ring(inp: DedupInput, size: Size) -> Callable[[], Any] | None:
    """The usual hand-written Python: a set plus a ring of keys for eviction, no stats."""
    from collections import deque

    seen: set[bytes] = set()
    ring: deque[bytes] = deque()
    cap, batches, k = inp.capacity, inp.batches, [0]

    def accept_batch() -> list[bool]:
        keys = batches[k[0] % len(batches)][0]  # (reused objects: a bound in its favour)
        k[0] += 1
        out = []
        for key in keys:
            if key in seen:
                out.append(False)
                continue
            if len(ring) >= cap:
                seen.discard(ring.popleft())
            seen.add(key)
            ring.append(key)
            out.append(True)
        return out

    return accept_batch


def _same_flags(ours: Any, peer: Any) -> bool:
    return bool(ours == peer)


# ---------------------------------------------------------------- the journal's deltas
def _delta_input(size: Size, seed: int) -> tuple[bytes, bytes]:
    """A large account's last stored copy and its next one (base64 text, as a frame
    carries it): ``edits`` runs of a few characters changed, as a swap moves a pool's
    words or a requote a book side's orders."""
    r = random.Random(seed)
    n = int(size.params["bytes"])
    base = base64.b64encode(r.randbytes(n * 3 // 4))
    span = bytearray(base)
    for _ in range(int(size.params["edits"])):
        at = r.randrange(len(span) - 12)
        span[at : at + 12] = base64.b64encode(r.randbytes(9))
    return base, bytes(span)


def _prepare_delta_changes(m: types.ModuleType, inp: tuple[bytes, bytes]) -> Call:
    return Call(m.delta_changes, inp)


def _peer_numpy_changes(inp: tuple[bytes, bytes], size: Size) -> Callable[[], Any] | None:
    from storage.delta import changes  # the journal's reference (numpy)

    base, span = inp
    return lambda: changes(base, span)


def _encoder_input(size: Size, seed: int) -> tuple[bytes, bytes]:
    """Two account notifications of one subscription (a pool account or a book side,
    as a node sends them): the account's data, and the same after a swap or a requote."""
    base, span = _delta_input(size, seed)

    def note(data: bytes) -> bytes:
        return (
            b'{"jsonrpc":"2.0","method":"accountNotification","params":{"result":{"context":'
            b'{"slot":345678901},"value":{"lamports":633916800,"data":["' + data + b'","base64"],'
            b'"owner":"opnb2LAfJYbRMAHHvqjCwQxanZn7ReEHp1k81EohpZb","executable":false,'
            b'"rentEpoch":18446744073709551615,"space":90952}},"subscription":24}}'
        )

    return note(base), note(span)


def _encoding(enc: Any, frames: tuple[bytes, bytes]) -> Callable[[], Any]:
    """Each call encodes the next of the two notifications, alternately (a delta
    against the other one, every time after the first two)."""
    turn = itertools.cycle(frames)
    enc.encode(1, 0, frames[0])
    enc.encode(1, 0, frames[1])
    return lambda: enc.encode(1, 0, next(turn))


def _prepare_delta_encoder(m: types.ModuleType, frames: tuple[bytes, bytes]) -> Call:
    return Call(_encoding(m.DeltaEncoder(), frames))


# ---------------------------------------------------------------- base58 and PDAs
def _b58_input(size: Size, seed: int) -> bytes:
    r = random.Random(seed)
    return r.randbytes(int(size.params["bytes"]))


def _prepare_b58encode(m: types.ModuleType, data: bytes) -> Call:
    return Call(m.b58encode, (data,))


def _prepare_b58decode(m: types.ModuleType, data: bytes) -> Call:
    twin = _twin()  # the text must not depend on the backend under test

    return Call(m.b58decode, (twin.b58encode(data),))


def _peer_solders_encode(data: bytes, size: Size) -> Callable[[], Any] | None:
    from solders.pubkey import Pubkey
    from solders.signature import Signature

    obj = Pubkey(data) if len(data) == 32 else Signature(data)
    return lambda: str(obj)


def _peer_solders_decode(data: bytes, size: Size) -> Callable[[], Any] | None:
    from solders.pubkey import Pubkey
    from solders.signature import Signature

    cls = Pubkey if len(data) == 32 else Signature
    text = str(cls(data))
    return lambda: cls.from_string(text)


def _peer_base58_encode(data: bytes, size: Size) -> Callable[[], Any] | None:
    import base58

    return lambda: base58.b58encode(data)


def _peer_base58_decode(data: bytes, size: Size) -> Callable[[], Any] | None:
    import base58

    text = base58.b58encode(data)
    return lambda: base58.b58decode(text)


def _same_text(ours: Any, peer: Any) -> bool:
    return str(ours) == (peer.decode() if isinstance(peer, bytes) else str(peer))


def _same_bytes(ours: Any, peer: Any) -> bool:
    return bytes(ours) == bytes(peer)


def _same_stored(ours: Any, peer: Any) -> bool:
    """Two stored inputs, (kind, bytes): the same kind and bytes."""
    return int(ours[0]) == int(peer[0]) and bytes(ours[1]) == bytes(peer[1])


@dataclass(frozen=True, slots=True)
class PdaInput:
    """Whirlpool PDA seeds (config, two mints, a fee tier) under the Whirlpool program."""

    seeds: tuple[bytes, ...]
    program_id: bytes
    whirlpool: str
    starts: tuple[int, ...]


def _pda_input(size: Size, seed: int) -> PdaInput:
    twin = _twin()

    r = random.Random(seed)
    config, a, b = r.randbytes(32), r.randbytes(32), r.randbytes(32)
    seeds = (b"whirlpool", config, a, b, r.choice([1, 2, 4, 8, 64, 128]).to_bytes(2, "little"))
    program = twin.b58decode(twin.orca_whirlpool.PROGRAM_ID)
    return PdaInput(seeds, program, twin.b58encode(r.randbytes(32)), tuple(range(-5, 6)))


def _prepare_find_pda(m: types.ModuleType, inp: PdaInput) -> Call:
    return Call(m.find_program_address, (list(inp.seeds), inp.program_id))


def _peer_solders_find(inp: PdaInput, size: Size) -> Callable[[], Any] | None:
    from solders.pubkey import Pubkey

    program, seeds = Pubkey(inp.program_id), list(inp.seeds)
    return lambda: Pubkey.find_program_address(seeds, program)


def _same_pda(ours: Any, peer: Any) -> bool:
    return tuple(ours) == (str(peer[0]), peer[1])


def _prepare_pda_hit(m: types.ModuleType, inp: PdaInput) -> Call:
    """A lookup of a tick array derived at start-up, the whirlpool given as base58 text."""
    cache = m.PdaCache()
    cache.warm_tick_arrays(inp.whirlpool, 64, 0, 5)
    return Call(cache.tick_array, (inp.whirlpool, 0))


# ---------------------------------------------------------------- indicators
def _prices_input(size: Size, seed: int) -> Any:
    """A seeded random walk of ``points`` prices around 100 (float64 array)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return 100.0 + np.cumsum(rng.normal(0.0, 0.5, int(size.params["points"])))


def _prepare_indicator(name: str, *params: Any) -> Callable[[types.ModuleType, Any], Call]:
    def prepare(m: types.ModuleType, prices: Any) -> Call:
        return Call(getattr(m, name), (prices, *params))

    return prepare


def _peer_talib(fn: str, *params: Any) -> PeerFactory:
    def factory(prices: Any, size: Size) -> Callable[[], Any] | None:
        import talib

        f = getattr(talib, fn)
        return lambda: f(prices, *params)

    return factory


def _close_to_talib(ours: Any, peer: Any) -> bool:
    """Each output within 1e-9 relative of TA-Lib, NaN where TA-Lib has NaN."""
    import numpy as np

    pairs = zip(ours, peer) if isinstance(ours, tuple) else [(ours, peer)]
    return all(np.allclose(a, b, rtol=1e-9, atol=0.0, equal_nan=True) for a, b in pairs)


def _indicator_case(name: str, params: tuple[Any, ...], ta_lib: tuple[Any, ...]) -> Case:
    """An indicator over 500 and 1e6 points against TA-Lib's (``ta_lib``: its function's
    name and arguments)."""
    return Case(
        name,
        (Size("500 points", {"points": 500}), Size("1e6 points", {"points": 1_000_000})),
        _prices_input,
        _prepare_indicator(name, *params),
        {"TA-Lib": _peer_talib(*ta_lib)},
        _close_to_talib,
    )


def _prepare_rsi_updates(m: types.ModuleType, prices: Any) -> Call:
    """A warmed ``Rsi(14)`` fed 1,000 ticks per timed call (per-tick time = / 1000)."""
    r = m.Rsi(14)
    ticks = prices.tolist()
    for t in ticks[:100]:
        r.update(t)
    update = r.update

    def feed() -> Any:
        for t in ticks:
            update(t)
        return r.value

    return Call(feed)


# ---------------------------------------------------------------- decoders
def _whirlpool_account(size: Size, seed: int) -> bytes:
    """A Whirlpool account (653 bytes) with random keys and a plausible state."""
    import struct

    r = random.Random(seed)
    b = bytearray(r.randbytes(653))
    b[:8] = bytes.fromhex("3f95d10ce1806309")
    struct.pack_into("<HHHH", b, 41, 64, 64, 3000, 1300)
    struct.pack_into("<i", b, 81, r.randint(-20_000, 20_000))
    return bytes(b)


def _prepare_decode_whirlpool(m: types.ModuleType, data: bytes) -> Call:
    return Call(m.orca_whirlpool.decode_pool, (data,))


# ---------------------------------------------------------------- feed ingest
@dataclass(frozen=True, slots=True)
class IngestInput:
    """A small simulated market (``feeds.sim``) and one of its Whirlpools in two real
    states (before and after a swap): notifications alternate between them at rising
    slots, so every timed frame is a first copy that changes the pool in the graph."""

    bases: tuple[str, ...]
    universe: tuple[tuple[str, str], ...]
    tick_arrays: tuple[tuple[str, str], ...]
    accounts: Mapping[str, tuple[str, bytes]]
    whirlpool: str  # the account whose notifications are timed (a Whirlpool's by default)
    states: tuple[str, str]  # the JSON ``value`` of each state (base64 data)
    first_slot: int
    duplicate: bool  # time the second endpoint's copy of each frame instead


def _ingest_input(size: Size, seed: int) -> IngestInput:
    import json

    twin = _twin()

    # the pool kind whose notification is timed (``kind``): its pool account, or with
    # ``vault`` its quote vault (PumpSwap: the pool account does not change with a swap)
    kind = str(size.params.get("kind", "whirlpool"))
    w = _world_with(kind, seed, twin)
    accounts = {k: (a.owner, a.data) for k, a in w.accounts.items()}
    pool = next(p for p in w.pools if p.kind == kind)
    timed = pool.vault_b if size.params.get("vault") else pool.address
    before = json.dumps(w.accounts[timed].value(), separators=(",", ":"))
    for amount in (10**6, 10**5, 10**4, 10**3):
        if w.swap(pool, True, amount) is not None:
            break
    after = json.dumps(w.accounts[timed].value(), separators=(",", ":"))
    if after == before:
        raise RuntimeError(f"the simulated {kind} pool did not move")
    return IngestInput(
        tuple(w.bases),
        tuple(w.universe()),
        tuple((ta, p.address) for p in w.pools for ta in p.tick_arrays),
        accounts,
        timed,
        (before, after),
        w.slot,
        bool(size.params.get("duplicate")),
    )


def _notification(sub: int, slot: int, value: str) -> bytes:
    return account_notification(sub, slot, value).encode()


def _prepare_ingest(m: types.ModuleType, inp: IngestInput) -> Call:
    """A bootstrapped ``FeedIngest``; ``before`` builds the next frame (untimed) and, in the
    duplicate size, delivers its first copy from endpoint 0 (untimed too)."""
    ing = _bootstrapped_ingest(m, inp)
    state = {"slot": inp.first_slot, "ns": 1_000_000}
    call = Call(ing.frame)

    def before() -> None:
        state["slot"] += 1
        state["ns"] += 1_000
        slot = state["slot"]
        value = inp.states[slot % 2]
        if inp.duplicate:
            ing.frame(0, _notification(100, slot, value), state["ns"])
            call.args = (1, _notification(101, slot, value), state["ns"] + 500)
        else:
            call.args = (0, _notification(100, slot, value), state["ns"])

    call.before = before
    return call


def _bootstrapped_ingest(m: types.ModuleType, inp: IngestInput) -> Any:
    """A ``FeedIngest`` holding the input's market, the timed account bound on
    endpoints 0 and 1 (subscriptions 100 and 101)."""
    g = m.PoolGraph(base_mints=list(inp.bases), max_hops=3)
    ing = m.FeedIngest(g, 65_536, 64)
    for address, kind in inp.universe:
        ing.track_pool(address, kind)
    for ta, pool in inp.tick_arrays:
        ing.track_array(ta, pool)
    for _ in range(3):  # pools, then the vaults and configs they name
        for k in ing.watched():
            owner, data = inp.accounts[k]
            ing.account(k, owner, data, inp.first_slot)
    for ep in (0, 1):
        ing.bind(ep, 100 + ep, inp.whirlpool, "account")
    return ing


BATCH_FRAMES = 64  # frames in a FeedIngest.frames batch (a NATS consumer's run)


def _prepare_ingest_batch(m: types.ModuleType, inp: IngestInput) -> Call:
    """The bootstrapped ``FeedIngest`` of ``_prepare_ingest``; ``before`` packs the next
    BATCH_FRAMES slots' notifications as a collector's batch (untimed), the timed call
    applies the batch (``FeedIngest.frames``: per frame, ``calls_per_run``)."""
    from storage.codec import HEADER

    ing = _bootstrapped_ingest(m, inp)
    state = {"slot": inp.first_slot, "ns": 1_000_000}
    call = Call(ing.frames)

    def before() -> None:
        parts: list[bytes] = []
        for _ in range(BATCH_FRAMES):
            state["slot"] += 1
            state["ns"] += 1_000
            frame = _notification(100, state["slot"], inp.states[state["slot"] % 2])
            parts += (HEADER.pack(1, 0, state["ns"], 0, len(frame)), frame)
        call.args = (b"".join(parts), 0, [0], 0)

    call.before = before
    return call


def _parser(
    inp: IngestInput, loads: Callable[[bytes], Any], b64: Callable[[Any], bytes]
) -> Callable[[], Any]:
    """A peer that parses the next notification with ``loads`` and decodes its account
    data with ``b64``: its subscription and bytes."""
    frame = _notification(100, inp.first_slot + 1, inp.states[1])

    def parse() -> Any:
        msg = loads(frame)
        return msg["params"]["subscription"], b64(msg["params"]["result"]["value"]["data"][0])

    return parse


def _peer_json_base64(inp: IngestInput, size: Size) -> Callable[[], Any] | None:
    import base64
    import json

    return _parser(inp, json.loads, base64.b64decode)


def _peer_orjson_binascii(inp: IngestInput, size: Size) -> Callable[[], Any] | None:
    import binascii

    import orjson

    return _parser(inp, orjson.loads, binascii.a2b_base64)


def _same_subscription(ours: Any, peer: Any) -> bool:
    """The peers only parse (no dedup, decode or graph): they must find the same
    subscription and a Whirlpool's 653 bytes."""
    return bool(ours == peer[0] and len(peer[1]) == 653)


# ---------------------------------------------------------------- the cases (registry order)
# Markets that hold an arbitrage while other pools update: at seed 7, one pool 2% off at
# 100/400 (a 5-hop cycle), three at 100/2000 (2- and 3-hop cycles). A nudge moves a price
# by ~1e-9, so the dislocations stay: every search after an update finds a cycle.
_HOLDING = {"bases": 0, "dislocation": 0.02, "update": 1}

_NEG_PEERS: dict[str, PeerFactory] = {"rustworkx": _peer_rustworkx, "networkx": _peer_networkx}


# the markets the two kernels of a moved pool's cycles are measured on (the same two)
_TOUCHING_SIZES = (
    Size(
        "60 tok / 240 pools, 3 bases",
        {"tokens": 60, "pools": 240, "bases": 3, "clmm_share": 0.1, "dislocation": 0.01},
    ),
    Size(
        "2000 tok / 10000 pools, 3 bases",
        {"tokens": 2000, "pools": 10_000, "bases": 3, "hub_share": 0.1, "clmm_share": 0.1},
    ),
)

CASES: tuple[Case, ...] = (
    Case(
        "cpmm_amount_out",
        (Size("1 call"),),
        _cpmm_input,
        _scalar("cpmm_amount_out"),
    ),
    Case(
        "cpmm_amount_in",
        (Size("1 call", {"exact_out": True}),),
        _cpmm_input,
        _scalar("cpmm_amount_in"),
    ),
    Case(
        "clmm_swap",
        (Size("10 ticks crossed", {"crossings": 10}),),
        _clmm_input,
        _scalar("orca_whirlpool.swap"),
    ),
    Case(
        "raydium_clmm_swap",
        (Size("10 ticks crossed", {"crossings": 10}),),
        _raydium_clmm_input,
        _scalar("raydium_clmm.swap"),
    ),
    Case(
        "meteora_dlmm_quote",
        (Size("10 bins crossed", {"crossings": 10}),),
        _dlmm_input,
        _scalar("meteora_dlmm.quote"),
    ),
    Case("transfer_fee", (Size("1 call"),), _transfer_fee_input, _scalar("transfer_fee")),
    Case(
        "quote",
        _PATH_SIZES,
        _path_input,
        _prepare_path("quote"),
    ),
    Case(
        "quote_steps",
        _PATH_SIZES,
        _path_input,
        _prepare_path("quote_steps"),
    ),
    Case("pre_fee_amount", (Size("1 call"),), _transfer_fee_input, _scalar("pre_fee_amount")),
    Case(
        "pump_swap",
        (Size("1 sell", {"sell": True}), Size("1 buy_exact_quote_in")),
        _pump_input,
        _scalar("pump_amm.swap"),
    ),
    Case(
        "meteora_damm_v2_swap",
        (Size("1 swap, concentrated", {"mode": 1}), Size("1 swap, compounding", {"mode": 2})),
        _damm_input,
        _scalar("meteora_damm_v2.swap"),
    ),
    Case(
        "openbook_ladder",
        (
            Size("2 x 64 orders, 20 levels", {"orders": 64}),
            Size("2 full sides (512 orders), 20 levels", {"orders": 512}),
        ),
        _openbook_ladder_input,
        _scalar("openbook_v2.ladder"),
        timed_peers={"ts-client (node)": _ts_client_ladder},
    ),
    Case(
        "openbook_take",
        (Size("sell through 50 levels", {"levels": 50}),),
        _openbook_take_input,
        _openbook_take_prepare,
    ),
    Case(
        "find_negative_cycle",
        (
            Size(
                "30 tok / 120 pools, arbitrage",
                {"tokens": 30, "pools": 120, "bases": 0, "dislocation": 0.02},
            ),
            Size("100 tok / 400 pools", {"tokens": 100, "pools": 400, "bases": 0}),
            Size("100 tok / 2000 pools", {"tokens": 100, "pools": 2000, "bases": 0}),
            Size("100/400, after 1 update", {"tokens": 100, "pools": 400, "bases": 0, "update": 1}),
            Size(
                "100/2000, after 1 update", {"tokens": 100, "pools": 2000, "bases": 0, "update": 1}
            ),
            Size(
                "100/400 holding an arb, after 1 update",
                {"tokens": 100, "pools": 400, "dislocated_share": 0.005, **_HOLDING},
            ),
            Size(
                "100/2000 holding an arb, after 1 update",
                {"tokens": 100, "pools": 2000, "dislocated_share": 0.001, **_HOLDING},
            ),
        ),
        _graph_input,
        _prepare_negative_cycle,
        _NEG_PEERS,
        _cycle_exists_agrees,
    ),
    Case(
        "cycles",
        (
            Size("12 tok / 40 pools", {"tokens": 12, "pools": 40, "bases": 1, "dislocation": 0.01}),
            Size(
                "100 tok / 300 pools, 4 hops",
                {"tokens": 100, "pools": 300, "bases": 1, "clmm_share": 0.1, "dislocation": 0.01},
            ),
        ),
        _graph_input,
        _prepare_cycles,
    ),
    Case(
        "cycles_touching",
        _TOUCHING_SIZES,
        _graph_input,
        _prepare_touching,
    ),
    Case(
        "score_touching",
        _TOUCHING_SIZES,
        _graph_input,
        _prepare_score_touching,
    ),
    Case(
        "score",
        (Size("1 call"),),
        _score_input,
        _prepare_score,
    ),
    Case(
        "FeeEstimator add+p75",
        (
            Size("150 slots x 20", {"slots": 150, "per_slot": 20}),
            Size("150 slots x 200", {"slots": 150, "per_slot": 200}),
        ),
        _fee_input,
        _prepare_fees,
        {"numpy percentile": _peer_numpy_percentile},
        _same_percentile,
    ),
    Case(
        "Deduper.accept_many",
        (
            Size("100 msgs, ~230 copies", {"messages": 100, "batches": 8}),
            Size("1000 msgs, ~2300 copies", {"messages": 1000}),
        ),
        _dedup_input,
        _prepare_dedup,
        {"python set+ring": _peer_set_ring},
        _same_flags,
        before_label="build the batch",
    ),
    *(
        _indicator_case(name, params, ta_lib)
        for name, params, ta_lib in (
            ("rsi", (14,), ("RSI", 14)),
            ("ema", (10,), ("EMA", 10)),
            ("bollinger", (20, 2.0), ("BBANDS", 20, 2.0, 2.0, 0)),
            ("kama", (10, 2, 30), ("KAMA", 10)),
        )
    ),
    Case(
        "Rsi.update",
        (Size("per tick (1000-tick loop)", {"points": 1_100}),),
        _prices_input,
        _prepare_rsi_updates,
        calls_per_run=1_000,
    ),
    Case(
        "decode_whirlpool",
        (Size("653 B"),),
        _whirlpool_account,
        _prepare_decode_whirlpool,
    ),
    Case(
        "FeedIngest.frame",
        (
            Size("first copy (653 B account)"),
            Size("duplicate from a 2nd endpoint", {"duplicate": True}),
            Size("first copy, PumpSwap vault (165 B)", {"kind": "pumpswap", "vault": True}),
            Size("first copy (1544 B Raydium CLMM pool)", {"kind": "clmm"}),
            Size("first copy (904 B DLMM LbPair)", {"kind": "dlmm"}),
        ),
        _ingest_input,
        _prepare_ingest,
        {"json+base64": _peer_json_base64, "orjson+binascii": _peer_orjson_binascii},
        _same_subscription,
        before_label="build the frame (and its 1st copy)",
    ),
    Case(
        "FeedIngest.frames",
        (Size(f"{BATCH_FRAMES} first copies (653 B account)"),),
        _ingest_input,
        _prepare_ingest_batch,
        before_label=f"pack the batch of {BATCH_FRAMES} frames",
        calls_per_run=BATCH_FRAMES,
    ),
    Case(
        "delta_changes",
        (
            Size("pool account, 1.2 KB, 2 edits", {"bytes": 1_200, "edits": 2}),
            Size("book side, 121 KB, 24 edits", {"bytes": 121_000, "edits": 24}),
        ),
        _delta_input,
        _prepare_delta_changes,
        {"numpy (storage.delta)": _peer_numpy_changes},
        _same_bytes,
    ),
    Case(
        "DeltaEncoder.encode",
        (
            Size("pool account, 1.2 KB, 2 edits", {"bytes": 1_200, "edits": 2}),
            Size("book side, 121 KB, 24 edits", {"bytes": 121_000, "edits": 24}),
        ),
        _encoder_input,
        _prepare_delta_encoder,
        {},
        _same_stored,
    ),
    Case(
        "b58encode",
        (Size("32 B", {"bytes": 32}), Size("64 B", {"bytes": 64})),
        _b58_input,
        _prepare_b58encode,
        {"solders": _peer_solders_encode, "base58 pkg": _peer_base58_encode},
        _same_text,
    ),
    Case(
        "b58decode",
        (Size("32 B", {"bytes": 32}), Size("64 B", {"bytes": 64})),
        _b58_input,
        _prepare_b58decode,
        {"solders": _peer_solders_decode, "base58 pkg": _peer_base58_decode},
        _same_bytes,
    ),
    Case(
        "find_program_address",
        (Size("whirlpool seeds"),),
        _pda_input,
        _prepare_find_pda,
        {"solders": _peer_solders_find},
        _same_pda,
    ),
    Case(
        "PdaCache hit",
        (Size("1 lookup"),),
        _pda_input,
        _prepare_pda_hit,
    ),
)

_BY_NAME = {c.name: c for c in CASES}


def case(name: str) -> Case | None:
    """The bench case of the kernel called ``name``, if any."""
    return _BY_NAME.get(name)

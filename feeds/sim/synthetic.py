"""Deterministic synthetic markets for the simulator, the in-process demo, tests and
benchmarks.

A market is a list of pool specs over tokens with hidden prices: reserves are consistent
with the prices times a little noise (so, with fees, there is usually no arbitrage), a
few base tokens are hubs that many pools touch, some pools are Whirlpools, and
``dislocation`` injects mispriced pools. Ids are base58 strings of deterministic
32-byte values, like real mints and pool addresses. No I/O; same seed, same market.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import engine_rs

from ..wire.units import TokenInfo

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
Q64 = 1 << 64


def b58(data: bytes) -> str:
    """Base58 (Bitcoin alphabet) of ``data``; leading zero bytes become '1'."""
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def address(kind: str, i: int, seed: int = 0) -> str:
    """A deterministic 32-byte address as base58."""
    return b58(hashlib.sha256(f"arbscope:{kind}:{seed}:{i}".encode()).digest())


@dataclass(slots=True)
class PoolSpec:
    """One pool of a synthetic market, in the graph's upsert arguments."""

    pool_id: str
    kind: str  # "cpmm" | "clmm"
    mint_a: str
    mint_b: str
    reserve_a: int = 0
    reserve_b: int = 0
    fee_num: int = 25
    fee_den: int = 10_000
    sqrt_price_x64: int = 0
    liquidity: int = 0
    tick_current: int = 0
    tick_spacing: int = 64
    fee_rate: int = 3_000
    ticks: list[tuple[int, int]] = field(default_factory=list)
    # the venue (module name) that takes this pool when it is not one of the first three
    # venues' (``assign_venues``), and that venue's own market state (DLMM bins ...)
    venue: str = ""
    state: Any = None

    def curve(self) -> tuple[int, int, int, int, int, list[tuple[int, int]]]:
        """A CLMM pool's curve as the engine's tick kernels (``orca_whirlpool.swap``) and
        ``upsert_clmm`` take it: sqrt price, liquidity, current tick, spacing, fee rate,
        the initialized ticks."""
        return (
            self.sqrt_price_x64,
            self.liquidity,
            self.tick_current,
            self.tick_spacing,
            self.fee_rate,
            self.ticks,
        )

    def upsert(self, graph: Any, slot: int = 0) -> None:
        """Insert this pool's state into a ``PoolGraph`` of either backend."""
        if self.venue and hasattr(self.state, "upsert"):  # a venue's own state
            self.state.upsert(graph, self, slot)
            return
        if self.kind == "cpmm":
            graph.upsert_cpmm(
                self.pool_id,
                self.mint_a,
                self.mint_b,
                self.reserve_a,
                self.reserve_b,
                self.fee_num,
                self.fee_den,
                slot,
            )
        else:
            graph.upsert_clmm(self.pool_id, self.mint_a, self.mint_b, *self.curve(), slot)


@dataclass(slots=True)
class Market:
    tokens: list[str]
    bases: list[str]
    prices: list[float]
    pools: list[PoolSpec]

    def graph(self, module: Any, max_hops: int = 4, index_bases: bool = True) -> Any:
        """A ``PoolGraph`` of ``module`` (a backend) holding every pool."""
        g = module.PoolGraph(base_mints=self.bases if index_bases else [], max_hops=max_hops)
        for p in self.pools:
            p.upsert(g)
        return g


def _tick_for_price(price: float, tick_spacing: int) -> int:
    tick = math.floor(math.log(price) / math.log(1.0001))
    return max(-443_636 + tick_spacing, min(443_636 - tick_spacing, tick))


def _clmm_pool(
    r: random.Random, pool_id: str, a: int, b: int, tokens: list[str], price_ab: float
) -> PoolSpec:
    """A Whirlpool pricing b per a near ``price_ab`` with liquidity around the price."""
    ts = r.choice([1, 8, 64])
    tick = _tick_for_price(price_ab, ts)
    # exact integer tick math: both backends give the same value, so the market does
    # not depend on which one is active
    sqrt = engine_rs.backend().orca_whirlpool.sqrt_price_at_tick(tick) + r.randint(0, 1000)
    liq = r.randint(10**10, 10**13)
    lo = (tick // ts - r.randint(2, 40)) * ts
    hi = (tick // ts + r.randint(2, 40)) * ts
    return PoolSpec(
        pool_id,
        "clmm",
        tokens[a],
        tokens[b],
        sqrt_price_x64=sqrt,
        liquidity=liq,
        tick_current=tick,
        tick_spacing=ts,
        fee_rate=r.choice([100, 500, 3000]),
        ticks=[(lo, liq), (hi, -liq)],
    )


def market(
    seed: int,
    tokens: int,
    pools: int,
    bases: int = 1,
    hub_share: float = 0.3,
    clmm_share: float = 0.0,
    dislocation: float = 0.0,
    dislocated_share: float = 0.05,
    noise: float = 0.001,
    known: Sequence[float] = (),
) -> Market:
    """A deterministic market of ``pools`` pools over ``tokens`` tokens.

    ``hub_share`` of the pools have a base token on one side; ``clmm_share`` are
    Whirlpools; ``dislocated_share`` of the pools are mispriced by ``dislocation``.
    ``known``: the prices of the first tokens (a base unit's, in base units of the
    first token: :func:`real_prices` for the well-known ones :func:`named` gives them);
    the others are drawn. A pool's depth on a side whose base unit is worth less than
    :data:`MIN_UNIT_VALUE` is scaled up to match (BONK's base unit is worth a thousandth
    of a lamport: its pools hold as many tokens as a real one does).
    """
    r = random.Random(seed)
    names = [address("mint", i, seed) for i in range(tokens)]
    prices = [math.exp(r.uniform(-2.0, 2.0)) for _ in range(tokens)]
    for i, price in enumerate(known[:tokens]):
        prices[i] = price
    specs = []
    for k in range(pools):
        if bases and r.random() < hub_share:
            a = r.randrange(bases)
            b = r.randrange(tokens - 1)
            b = b + 1 if b >= a else b
        else:
            a, b = r.sample(range(tokens), 2)
        mis = 1.0 + r.uniform(-noise, noise)
        if dislocation and r.random() < dislocated_share:
            mis *= 1.0 + dislocation * r.choice([-1.0, 1.0])
        price_ab = prices[a] / prices[b] * mis  # b per a
        pid = address("pool", k, seed)
        if r.random() < clmm_share:
            specs.append(_clmm_pool(r, pid, a, b, names, price_ab))
        else:
            ra = r.randint(10**9, 10**12) * max(1, round(MIN_UNIT_VALUE / prices[a]))
            rb = max(1, int(ra * price_ab))
            fee = r.choice([(25, 10_000), (2_500, 1_000_000), (30, 10_000)])
            specs.append(PoolSpec(pid, "cpmm", names[a], names[b], ra, rb, *fee))
    return Market(names, names[:bases], prices, specs)


# a base unit worth less than this (in base units of the market's first token, SOL's
# lamports) makes its pools' depth on that side scaled up (:func:`market`)
MIN_UNIT_VALUE = 0.1

# The well-known tokens at their real magnitudes (:func:`real_prices`): dollars a whole
# token, each drawn within its spread (a factor, log-uniform) from the seed; SOL in the
# low hundreds of dollars; USDC at $1 and USDT within a few bps of it; the liquid staking
# tokens at their SOL rate (SOL a token, above 1), which grows only with staking rewards
REAL_USD: dict[str, tuple[float, float]] = {
    "SOL": (165.0, 1.3),
    "USDC": (1.0, 1.0),
    "USDT": (1.0, 1.0002),
    "JUP": (0.5, 1.3),
    "BONK": (0.00002, 1.3),
    "WIF": (0.9, 1.3),
    "RAY": (2.5, 1.3),
}
LST_RATE: dict[str, tuple[float, float]] = {
    "MSOL": (1.30, 1.005),
    "JITOSOL": (1.25, 1.005),
}
# the tokens that keep their price against another (its symbol): stablecoins against
# USDC, liquid staking tokens against SOL (:func:`pegs`)
PEGGED: dict[str, str] = {"USDT": "USDC", "MSOL": "SOL", "JITOSOL": "SOL"}


def real_prices(seed: int) -> list[float]:
    """The prices :func:`market` takes as ``known`` for the well-known tokens of
    :func:`named`, in ``WELL_KNOWN`` order: each one's base unit in lamports (the market's
    first token is SOL), at its real magnitude (:data:`REAL_USD`, :data:`LST_RATE`), drawn
    from a generator of its own (the market's draws are unchanged)."""
    from feeds.wire.tokens import WELL_KNOWN

    r = random.Random(f"real-prices:{seed}")

    def draw(centre: float, spread: float) -> float:
        return centre * math.exp(r.uniform(-math.log(spread), math.log(spread)))

    usd = {sym: draw(*v) for sym, v in REAL_USD.items()}
    sol_usd = usd["SOL"]
    out = []
    for k in WELL_KNOWN:
        sym = k.symbol.upper()
        in_sol = draw(*LST_RATE[sym]) if sym in LST_RATE else usd[sym] / sol_usd
        out.append(in_sol * 10**9 / 10**k.decimals)
    return out


def pegs(tokens: Sequence[SimToken]) -> dict[str, str]:
    """``{mint: the mint it keeps its price against}`` among ``tokens``
    (:data:`PEGGED`: USDT against USDC, mSOL and JitoSOL against SOL) where both are
    there: a world moves their fair prices together."""
    by_symbol = {t.symbol.upper(): t.mint for t in tokens if t.well_known}
    return {
        by_symbol[sym]: by_symbol[anchor]
        for sym, anchor in PEGGED.items()
        if sym in by_symbol and anchor in by_symbol
    }


def assign_venues(mk: Market, seed: int, shares: Sequence[tuple[str, str, float]]) -> None:
    """Give ``share`` of ``mk``'s pools of kind ``from_kind`` to each ``(venue,
    from_kind, share)``, in order, from a generator of their own (the market's draws are
    unchanged): the venue's simulator builds its pool from the spec's price and depth."""
    for name, from_kind, share in shares:
        r = random.Random(f"venues:{seed}:{name}")
        for spec in mk.pools:
            if spec.kind == from_kind and not spec.venue and r.random() < share:
                spec.venue = name


def add_beside(mk: Market, seed: int, name: str, share: float, quotes: Sequence[str] = ()) -> None:
    """Add a pool of venue ``name`` beside ``share`` of ``mk``'s pools (drawn from a
    generator of its own): the same pair at the same price, a pool of its own appended
    after the others (an order book next to the AMM pools of its pair). Its mint b (an
    order book's quote token) is the pair's mint earliest in ``quotes`` when either is
    there (USDC, USDT, then SOL: ``SOL/USDC``, ``JUP/SOL`` as real markets are listed)."""
    r = random.Random(f"beside:{seed}:{name}")
    rank = {m: i for i, m in enumerate(quotes)}
    for k, spec in enumerate(list(mk.pools)):
        if r.random() < share:
            price = (
                spec.reserve_b / spec.reserve_a
                if spec.kind == "cpmm"
                else (spec.sqrt_price_x64 / Q64) ** 2
            )
            a, b = spec.mint_a, spec.mint_b
            ra = spec.reserve_a if spec.kind == "cpmm" else r.randint(10**9, 10**12)
            if rank.get(a, len(rank)) < rank.get(b, len(rank)):  # a is the quote token
                a, b, price = b, a, 1.0 / price
                ra = spec.reserve_b if spec.kind == "cpmm" else ra
            rb = max(1, int(ra * price))
            pid = address(f"beside-{name}", k, seed)
            mk.pools.append(PoolSpec(pid, "cpmm", a, b, ra, rb, venue=name))


# Token-2022 in a synthetic market: what a token is made, in this order, among the invented
# tokens that trade on no order book (OpenBook v2 takes SPL Token mints only): a mint with
# a transfer fee (1 %, the older 0.5 % before the current epoch), one with a transfer hook
# (a program set: arbscope refuses it), a plain one (metadata only, as a pump.fun coin
# of ``create_v2``), a second fee mint whose maximum fee binds early
TOKEN2022_ROLES = ("fee", "hook", "plain", "fee_capped")


def token2022_roles(mk: Market, invented: Sequence[str]) -> dict[str, str]:
    """Pick the Token-2022 tokens of ``mk`` among its ``invented`` ones, in order
    (``{mint: role}``, roles from
    :data:`TOKEN2022_ROLES`) and move their pools to venues that take such mints: a pool
    AMM v4 would take (SPL Token only) becomes a CP-Swap pool (30 bps instead of 25), and
    a PumpSwap pool of a fee or hook mint (PumpSwap refuses both at pool creation:
    ``UnsupportedBaseMint``) too. No draws: the same market gives the same choice."""
    roles: dict[str, str] = {}
    book = {m for p in mk.pools if p.venue == "openbook_v2" for m in (p.mint_a, p.mint_b)}
    candidates = [m for m in invented if m not in book and m not in mk.bases]
    for role, mint in zip(TOKEN2022_ROLES, candidates, strict=False):
        roles[mint] = role
        for p in mk.pools:
            if mint not in (p.mint_a, p.mint_b):
                continue
            if role != "plain" and p.venue == "pump_amm":
                p.venue = ""
            if p.kind == "cpmm" and not p.venue and (p.fee_num, p.fee_den) == (25, 10_000):
                p.fee_num, p.fee_den = 30, 10_000
    return roles


# invented tokens of the synthetic markets beyond the well-known ones: symbol, name
SYNTHETIC_NAMES = (
    ("KELP", "Kelp"),
    ("MOSS", "Moss"),
    ("FERN", "Fern"),
    ("REED", "Reed"),
    ("SAGE", "Sage"),
    ("TERN", "Tern"),
    ("WREN", "Wren"),
    ("LARK", "Lark"),
    ("DUNE", "Dune"),
    ("GLEN", "Glen"),
    ("OPAL", "Opal"),
    ("RUNE", "Rune"),
    ("VALE", "Vale"),
    ("COVE", "Cove"),
    ("FJORD", "Fjord"),
    ("MESA", "Mesa"),
    ("TIDE", "Tide"),
    ("EMBER", "Ember"),
    ("QUILL", "Quill"),
    ("BRIAR", "Briar"),
)


@dataclass(frozen=True, slots=True)
class SimToken:
    """A token of a synthetic market as the simulator names it."""

    mint: str
    symbol: str
    name: str
    decimals: int
    usd_stable: bool = False
    well_known: bool = False

    def info(self) -> TokenInfo:
        """What the dashboard names it by (``feeds.wire.units``): a well-known token from
        the table, the others as the simulator's."""
        source = "table" if self.well_known else "sim"
        return TokenInfo(
            self.mint,
            self.symbol,
            self.name,
            self.decimals,
            usd_stable=self.usd_stable,
            source=source,
        )


def named(mk: Market) -> tuple[Market, list[SimToken]]:
    """``mk`` with its first tokens replaced by the well-known mainnet tokens (their real
    mints and decimals: SOL, USDC, USDT, ... in ``WELL_KNOWN`` order) and the others
    named (``KELP``, ``MOSS``, ...; a number after the name once the list runs out,
    decimals 6 or 9 from the mint's hash). The market's draws are those of ``mk``: only
    addresses change, so its prices and pools stay the same."""
    from feeds.wire.tokens import WELL_KNOWN

    rename: dict[str, str] = {}
    out: list[SimToken] = []
    for i, mint in enumerate(mk.tokens):
        if i < len(WELL_KNOWN):
            k = WELL_KNOWN[i]
            rename[mint] = k.mint
            out.append(SimToken(k.mint, k.symbol, k.name, k.decimals, k.usd_stable, True))
            continue
        j = i - len(WELL_KNOWN)
        sym, name = SYNTHETIC_NAMES[j % len(SYNTHETIC_NAMES)]
        if j >= len(SYNTHETIC_NAMES):
            n = j // len(SYNTHETIC_NAMES) + 1
            sym, name = f"{sym[:8]}{n}", f"{name} {n}"
        dec = 6 if hashlib.sha256(mint.encode()).digest()[0] % 2 else 9
        rename[mint] = mint
        out.append(SimToken(mint, sym, f"{name} (simulated)", dec))
    pools = [
        PoolSpec(
            **{
                **{f: getattr(p, f) for f in PoolSpec.__dataclass_fields__},
                "mint_a": rename[p.mint_a],
                "mint_b": rename[p.mint_b],
            }
        )
        for p in mk.pools
    ]
    tokens = [rename[m] for m in mk.tokens]
    return Market(tokens, [rename[m] for m in mk.bases], list(mk.prices), pools), out

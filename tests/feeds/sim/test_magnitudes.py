"""The simulated market looks like mainnet to someone who knows it: the well-known tokens
at their real magnitudes (SOL in the low hundreds of dollars, USDC and USDT at $1 within
a few bps of each other, the liquid staking tokens at their SOL rate above 1, BONK, WIF,
JUP and RAY near their prices), and the pegs hold as the market moves; the invented
tokens stay invented. The ranges here are a trader's, not the simulator's table."""

from __future__ import annotations

import math
import statistics

import pytest

from feeds.sim.world import World, WorldConfig
from feeds.wire.tokens import BY_SYMBOL, WELL_KNOWN

# dollars a whole token: what someone who trades Solana would not find odd
USD_RANGE = {
    "SOL": (100.0, 300.0),
    "USDC": (1.0, 1.0),
    "USDT": (0.999, 1.001),
    "JUP": (0.15, 2.0),
    "BONK": (0.000005, 0.0001),
    "WIF": (0.2, 5.0),
    "RAY": (0.5, 10.0),
}
SOL_RATE = {"MSOL": (1.05, 1.5), "JITOSOL": (1.05, 1.5)}  # SOL a token
SEEDS = (1, 2, 3, 7, 63)  # make run's market among them


def usd(w: World, symbol: str) -> float:
    """A whole token's fair price in dollars (USDC's base unit is a millionth of $1)."""
    t = BY_SYMBOL[symbol]
    return w.fair[t.mint] * 10**t.decimals / (w.fair[BY_SYMBOL["USDC"].mint] * 10**6)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_well_known_tokens_are_at_their_real_magnitudes(seed: int) -> None:
    w = World(WorldConfig(seed=seed))
    symbols = {t.symbol.upper() for t in w.tokens if t.well_known}
    assert symbols == {t.symbol.upper() for t in WELL_KNOWN}
    for sym, (lo, hi) in USD_RANGE.items():
        assert lo <= usd(w, sym) <= hi, (sym, usd(w, sym))
    assert abs(usd(w, "USDT") - 1.0) * 1e4 <= 5  # within a few bps of USDC
    for sym, (lo, hi) in SOL_RATE.items():
        assert lo <= usd(w, sym) / usd(w, "SOL") <= hi, sym
    # the pools quote them so: each pool's price within its noise of the fair price
    for p in w.pools:
        assert abs(math.log(w.pool_price(p) / w.fair_price(p))) < 0.002, p.address
    # the invented tokens stay invented: names of their own, said to be simulated
    for t in w.tokens:
        if not t.well_known:
            assert t.symbol.upper() not in BY_SYMBOL and t.name.endswith("(simulated)")


def test_the_pegs_hold_as_the_market_moves() -> None:
    """Over 300 slots (two minutes) SOL and the tokens move, the pegs do not: USDT stays
    within a few bps of USDC, mSOL and JitoSOL at their SOL rate; the pools of a pegged
    pair keep its price but for what the last trades left (10 bps off at the median
    slot, 30 bps on average)."""
    w = World(WorldConfig(seed=63))
    before = {s: usd(w, s) for s in USD_RANGE}
    rates = {s: usd(w, s) / usd(w, "SOL") for s in SOL_RATE}
    pegged = {
        frozenset((BY_SYMBOL["USDT"].mint, BY_SYMBOL["USDC"].mint)),
        frozenset((BY_SYMBOL["MSOL"].mint, BY_SYMBOL["SOL"].mint)),
        frozenset((BY_SYMBOL["JITOSOL"].mint, BY_SYMBOL["SOL"].mint)),
    }
    pools = [p for p in w.pools if frozenset((p.mint_a, p.mint_b)) in pegged]
    assert pools  # the market holds pegged pairs (mSOL/SOL and JitoSOL/SOL at seed 63)
    gaps: list[float] = []
    for _ in range(300):
        w.step()
        gaps += [abs(math.log(w.pool_price(p) / w.fair_price(p))) for p in pools]
    moved = [s for s in ("SOL", "JUP", "BONK", "WIF", "RAY") if usd(w, s) != before[s]]
    assert moved == ["SOL", "JUP", "BONK", "WIF", "RAY"]
    assert abs(usd(w, "USDT") - before["USDT"]) < 1e-12 and abs(usd(w, "USDT") - 1) <= 5e-4
    for s, rate in rates.items():
        assert math.isclose(usd(w, s) / usd(w, "SOL"), rate, rel_tol=1e-12)
    # their pools: off the peg only for what a large trade did until arbitrage closed it
    assert statistics.median(gaps) < 0.001 and statistics.mean(gaps) < 0.003, (
        statistics.median(gaps),
        statistics.mean(gaps),
        max(gaps),
    )

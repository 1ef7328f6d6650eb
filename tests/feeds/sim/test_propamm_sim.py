"""The simulator's prop AMMs (``feeds.sim.propamm``): one per major pair, a program of the
chain whose oracle updates and swaps are real landed transactions (served by
``getSignaturesForAddress`` and ``getTransaction`` with their token balances, read by
``feeds.propamm.observe`` as mainnet's are, under an aggregator too), quoting the hidden
fair price first, so the public pools lag it after a jump; the market's own draws are the
same with or without them."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from arbscope.propamm import PropAmmBook
from feeds import propamm as P
from feeds.sim import methods as M
from feeds.sim import propamm as SP
from feeds.sim.server import SimServer
from feeds.sim.world import World, WorldConfig
from feeds.venues import VENUES
from feeds.wire.tokens import BY_SYMBOL, pair_order
from feeds.wire.txview import TxView
from tests.support.rivals import under_aggregator

SOL, USDC, USDT = (BY_SYMBOL[s].mint for s in ("SOL", "USDC", "USDT"))
JUPITER = "JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4"
CONFIRMED = {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}


def server(**kw: Any) -> SimServer:
    return SimServer(WorldConfig(seed=63, prop_amms=True, **kw), accept_transactions=True)


def landed(srv: SimServer) -> list[dict[str, Any]]:
    """Every prop AMM transaction the node serves, oldest first, as ``getTransaction``
    answers it (its signatures from ``getSignaturesForAddress``)."""
    out = []
    for program in srv.world.prop_amms:
        rows = M.get_signatures_for_address(srv, [program, {"commitment": "confirmed"}])
        for row in reversed(rows):
            got = M.get_transaction(srv, [row["signature"], {**CONFIRMED, "encoding": "json"}])
            assert got is not None
            out.append(got)
    return sorted(out, key=lambda r: r["slot"])


def test_sol_against_each_stablecoin_gets_a_prop_amm_of_its_own() -> None:
    w = World(WorldConfig(seed=63, prop_amms=True))
    amms = list(w.prop_amms.values())
    assert {(a.base, a.quote) for a in amms} == {(SOL, USDC), (SOL, USDT)}
    assert {a.name for a in amms} == {"SimProp SOL/USDC", "SimProp SOL/USDT"}
    assert len({a.program for a in amms}) == 2
    assert not set(w.prop_amms) & set(P.programs())  # no real prop AMM's id
    for a in amms:  # public pools trade the pair; its quote starts at the fair price
        assert any(pair_order(p.mint_a, p.mint_b) == (a.base, a.quote) for p in w.pools)
        assert a.price_e12 == SP.fair_e12(w, a.base, a.quote)
    assert World(WorldConfig(seed=63)).prop_amms == {}


def test_the_markets_own_draws_are_the_same_with_or_without_them() -> None:
    a, b = World(WorldConfig(seed=63)), World(WorldConfig(seed=63, prop_amms=True))
    for _ in range(15):
        ra, rb = a.step(), b.step()
        assert [t.signature for t in ra.trades] == [t.signature for t in rb.trades]
    assert a.fair == b.fair
    for p in a.pools:
        for k in (p.address, p.vault_a, p.vault_b):
            assert a.accounts[k].data == b.accounts[k].data


def test_their_swaps_and_oracle_updates_are_landed_transactions_read_as_mainnets() -> None:
    srv = server()
    w = srv.world
    for _ in range(12):
        srv.step()
    table = P.programs({p: a.name for p, a in w.prop_amms.items()})
    swaps: list[P.PropSwap] = []
    oracles: list[P.PropOracle] = []
    for raw in landed(srv):
        got = P.observe(TxView.from_rpc_json(raw), table)
        assert got is not None and not got.failed
        swaps += got.swaps
        oracles += got.oracles
        assert bool(got.swaps) != bool(got.oracles)  # a swap moves tokens, an update none
    stats = {k: sum(a.stats[k] for a in w.prop_amms.values()) for k in ("swaps", "updates")}
    assert len(swaps) == stats["swaps"] > 4 and len(oracles) == stats["updates"] > 4
    assert {s.buy for s in swaps} == {True, False}
    markets = {a.market: a for a in w.prop_amms.values()}
    for s in swaps:
        amm = markets[s.market or ""]
        assert s.name == amm.name and s.pair == (amm.base, amm.quote)
        assert (s.decimals_in, s.decimals_out) == ((6, 9) if s.buy else (9, 6))
        # within its half spread (and rounding) of the quote it had then
        assert abs(s.price / (amm.price_e12 / SP.PRICE_SCALE) - 1) * 1e4 < 30
        assert s.price_units() == pytest.approx(s.price * 1e3)
    assert {o.markets for o in oracles} <= {(m,) for m in markets}


def test_a_swap_run_by_an_aggregator_reads_the_same() -> None:
    srv = server()
    for _ in range(6):
        srv.step()
    table = P.programs({p: a.name for p, a in srv.world.prop_amms.items()})
    raw = next(r for r in landed(srv) if r["meta"]["preTokenBalances"])
    direct = P.observe(TxView.from_rpc_json(raw), table)
    routed = P.observe(TxView.from_rpc_json(under_aggregator(raw, JUPITER, [2])), table)
    assert direct is not None and routed is not None
    (d,), (r,) = direct.swaps, routed.swaps
    assert (r.mint_in, r.amount_in, r.mint_out, r.amount_out, r.market) == (
        d.mint_in,
        d.amount_in,
        d.mint_out,
        d.amount_out,
        d.market,
    )


BOOK_KINDS = {v.kind for v in VENUES if v.ids.graph_kind == "book"}


def _mid(w: World, pair: tuple[str, str]) -> float:
    """The public pools' mid of ``pair``: the median of its pools' prices (raw quote per
    raw base)."""
    px = []
    for p in w.pools:
        # the AMM pools: an order book's makers requote around the fair price at once
        if pair_order(p.mint_a, p.mint_b) != pair or p.kind in BOOK_KINDS:
            continue
        price = w.pool_price(p)
        px.append(price if (p.mint_a, p.mint_b) == pair else 1 / price)
    return statistics.median(px)


def test_after_a_jump_the_prop_amm_moves_first_and_the_public_pools_follow() -> None:
    """SOL's fair price jumps 1.5 %: the prop AMM's next swap is at the new price while the
    public pools' mid is still far from it, and they follow it over the slots after."""
    srv = server()
    w = srv.world
    table = P.programs({p: a.name for p, a in w.prop_amms.items()})
    pair = (SOL, USDC)
    book = PropAmmBook(follow_bps=5)
    for _ in range(5):
        srv.step()
        book.follow(w.slot, {pair: _mid(w, pair)})
    w.fair[SOL] *= 1.015
    jump = w.slot + 1
    seen: set[str] = set()
    gap_at_first_swap = None
    # the public pools' arbitrageurs trade each pool now and then (a dozen trades a slot
    # over the market's pools): the three of the pair follow within a few dozen slots,
    # how many the seed's draws say
    for _ in range(240):
        if book.quotes().get(pair) is not None and book.quotes()[pair].follows >= 1:
            break
        srv.step()
        book.follow(w.slot, {pair: _mid(w, pair)})
        for raw in landed(srv):
            tx = TxView.from_rpc_json(raw)
            if tx.signature in seen:
                continue
            seen.add(tx.signature)
            got = P.observe(tx, table)
            assert got is not None
            book.add(got)
            for s in got.swaps:
                if s.pair == pair and s.slot >= jump and gap_at_first_swap is None:
                    gap_at_first_swap = abs(s.price / _mid(w, pair) - 1) * 1e4
    assert gap_at_first_swap is not None and gap_at_first_swap > 50  # the prop led
    q = book.quotes()[pair]
    assert q.follows >= 1 and q.lag is not None and q.lag >= 1
    assert q.mid is not None and abs(q.price / q.mid - 1) * 1e4 < 60  # they caught up

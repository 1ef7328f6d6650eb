"""Manifest's simulated program on the simulated chain: a swap built by the venue runs as
the program does (the engine's numbers, the book after it, ``FillLog`` per maker filled
then ``PlaceOrderLogV2``, parsed back by the engine), and refuses as the program does
(``InsufficientOut`` 8 below the minimum, ``Overflow`` 14 for an input above the
balance). No Manifest binary is in ``../shared/programs``: this is the simulator's model,
held to the engine, which is held to the program's tests (``tests/engine/test_manifest.py``)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

import engine_rs
from feeds import venues
from feeds.sim.state import Pool
from feeds.venues.base import Leg
from feeds.venues.manifest import layout as L
from feeds.wire import instructions as I
from tests.support.chain import Market

VENUE = venues.by_kind("manifest")


@pytest.fixture(scope="module")
def market() -> Market:
    for seed in range(1, 20):
        m = Market(seed=seed)
        if any(p.kind == "manifest" for p in m.world.pools):
            return m
    raise AssertionError("no quiet market holds a Manifest market")


def _leg(m: Market, pool: Pool, a_to_b: bool, amount: int, minimum: int) -> Leg:
    tin, tout = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    m.chain.fund([m.me, tin, 10**16])
    m.chain.fund([m.me, tout, 0])
    src, dst = I.ata_address(m.me, tin), I.ata_address(m.me, tout)
    return Leg(
        pool.address,
        pool.record,
        m.me,
        tin,
        tout,
        src,
        dst,
        amount,
        minimum,
        {pool.mint_a: I.SPL_TOKEN, pool.mint_b: I.SPL_TOKEN},
    )


def _run(m: Market, leg: Leg) -> dict[str, Any]:
    tx = m.tx([VENUE.swap_instruction(leg)])
    got: dict[str, Any] = m.simulate(tx, [leg.pool])
    return got


@pytest.mark.parametrize("a_to_b", [True, False])
def test_a_swap_runs_as_the_engine_quotes_it_and_logs_its_fills(
    market: Market, a_to_b: bool
) -> None:
    m = market
    eng = engine_rs.load("python")
    pool = m.pool("manifest")
    data = m.world.accounts[pool.address].data
    rec = eng.manifest.decode_market(data)
    side = rec.bids if a_to_b else rec.asks
    # about three orders deep
    if a_to_b:
        amount = sum(o.base_atoms for o in side[:3]) - 1
    else:
        amount = sum(o.price * o.base_atoms // 10**18 for o in side[:3]) - 1
    want = eng.manifest.swap(data, m.world.slot & 0xFFFF_FFFF, amount, a_to_b)
    assert not isinstance(want, str) and want.fills >= 2
    got = _run(m, _leg(m, pool, a_to_b, amount, want.amount_out))
    assert got["err"] is None, got["logs"]
    logs = got["logs"]
    events = [ev for v, ev in eng.parse_logs(logs) if v == "manifest"]
    assert len(events) == want.fills  # one FillLog per maker order filled
    assert sum(e.base_atoms for e in events) == (want.amount_in if a_to_b else want.amount_out)
    assert sum(e.quote_atoms for e in events) == (want.amount_out if a_to_b else want.amount_in)
    assert all(e.market == pool.address and e.taker == m.me for e in events)
    assert all(e.taker_is_buy is (not a_to_b) for e in events)
    place = base64.b64decode(
        [ln for ln in logs if ln.startswith("Program data: ")][-1][len("Program data: ") :]
    )
    assert place[:8] == bytes([189, 97, 159, 235, 136, 5, 1, 141])  # PlaceOrderLogV2 last
    # the market after: the filled orders gone, the partly filled one smaller
    after = eng.manifest.decode_market(base64.b64decode(got["accounts"][0]["data"][0]))
    walked = after.bids if a_to_b else after.asks
    assert len(walked) == len(side) - (want.fills - 1) - want.removed
    assert after.order_sequence_number == rec.order_sequence_number + 1


def test_it_refuses_below_the_minimum_and_above_the_balance(market: Market) -> None:
    m = market
    eng = engine_rs.load("python")
    pool = m.pool("manifest")
    data = m.world.accounts[pool.address].data
    want = eng.manifest.swap(data, m.world.slot & 0xFFFF_FFFF, 10**6, False)
    assert not isinstance(want, str) and want.amount_out > 0
    got = _run(m, _leg(m, pool, False, 10**6, want.amount_out + 1))
    assert got["err"] == {"InstructionError": [0, {"Custom": 8}]}  # InsufficientOut
    assert VENUE.error_name(8) == "InsufficientOut" == VENUE.errors[VENUE.slippage_error]
    got = _run(m, _leg(m, pool, False, 10**17, 0))
    assert got["err"] == {"InstructionError": [0, {"Custom": 14}]}  # Overflow: above balance


def test_the_swap_decodes_back_with_its_direction_and_global_accounts(market: Market) -> None:
    pool = market.pool("manifest")
    leg = _leg(market, pool, True, 5, 3)
    ix = VENUE.swap_instruction(leg)
    assert (
        bytes(ix.data)
        == bytes([4]) + (5).to_bytes(8, "little") + (3).to_bytes(8, "little") + b"\x01\x01"
    )
    s = VENUE.decode_swap(bytes(ix.data), [str(a.pubkey) for a in ix.accounts])
    assert (s.a_to_b, s.amount_in, s.minimum_out, s.owner) == (True, 5, 3, market.me)
    assert "global" not in s.accounts  # its bids hold no global order
    assert ix.accounts[0].is_signer and ix.accounts[0].is_writable


def test_a_filled_reverse_ask_flips_to_a_bid(market: Market) -> None:
    """``place_order``'s reverse branch: a reverse ask (spread 200 in 10^-5) filled whole
    by a buy leaves its maker a bid at ⌈P·(1 − 0.002)⌉ of the base its quote buys there
    (the program's roundings), which never expires; the taker's side, not the one
    walked, so the swap's output is the engine's all the same."""
    m = market
    eng = engine_rs.load("python")
    pool = m.pool("manifest")
    book = pool.spec.state
    best = book.asks[0]
    best.order_type, best.reverse_spread = L.REVERSE, 200
    data = book.pack()
    m.world.accounts[pool.address].data = data
    pool.record = eng.manifest.decode_market(data)
    quote = -(-best.price * best.base_atoms // 10**18)  # enough for the whole order
    want = eng.manifest.swap(data, m.world.slot & 0xFFFF_FFFF, quote, False)
    assert not isinstance(want, str) and want.fills == 1 and want.amount_out == best.base_atoms
    got = _run(m, _leg(m, pool, False, quote, want.amount_out))
    assert got["err"] is None, got["logs"]
    after = eng.manifest.decode_market(base64.b64decode(got["accounts"][0]["data"][0]))
    price = -(-best.price * (100_000 - 200) // 100_000)
    flipped = [o for o in after.bids if o.trader == best.trader and o.order_type == L.REVERSE]
    assert [(o.price, o.base_atoms, o.last_valid_slot) for o in flipped] == [
        (price, 10**18 * want.amount_in // price, 0)
    ]
    assert all(o.sequence_number != best.sequence_number for o in after.asks)

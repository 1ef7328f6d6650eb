"""The prop AMMs per pair (``arbscope.propamm.PropAmmBook``): the last realized price, the
spread to the public mid now, a lead opened by a swap away from the public mid and the
slots the public pools took to follow it (within the band, or crossing), a lead whose
target moves, one the prop gave up, a swap fetched late judged against its own slot's
mid, oracle updates counted by their market's pair, the chart's series."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbscope.propamm import PropAmmBook
from feeds.propamm import PropOracle, PropSwap, PropTx
from feeds.wire.tokens import BY_SYMBOL

SOL, USDC = BY_SYMBOL["SOL"].mint, BY_SYMBOL["USDC"].mint
PAIR = (SOL, USDC)
MARKET = "Market1111111111111111111111111111111111111"
PROGRAM = "9H6tua7jkLhdm3w8BvgpTn5LZNU7g4ZynDmCiNN3q6Rp"


def swap(slot: int, price: float, buy: bool = False, sig: str = "") -> PropTx:
    """A swap of 1 SOL (10^9 lamports) at ``price`` raw USDC per lamport."""
    sol, usdc = 10**9, round(price * 10**9)
    m_in, a_in, m_out, a_out = (USDC, usdc, SOL, sol) if buy else (SOL, sol, USDC, usdc)
    s = PropSwap(
        sig or f"s{slot}-{price}",
        slot,
        0,
        PROGRAM,
        "HumidiFi",
        MARKET,
        m_in,
        m_out,
        a_in,
        a_out,
        9 if m_in == SOL else 6,
        6 if m_in == SOL else 9,
        1,
        "balances",
    )
    return PropTx(s.signature, slot, False, (s,), ())


def oracle(slot: int, market: str = MARKET) -> PropTx:
    o = PropOracle(f"o{slot}", slot, 0, PROGRAM, "HumidiFi", (market,))
    return PropTx(o.signature, slot, False, (), (o,))


def test_a_swap_at_the_mid_opens_no_lead_and_the_spread_is_against_the_mid_now() -> None:
    b = PropAmmBook(follow_bps=5)
    b.follow(100, {PAIR: 0.150})
    assert b.quotes() == {}
    assert b.add(swap(101, 0.15003))  # 2 bps from the mid
    b.follow(101, {PAIR: 0.150})
    q = b.quotes()[PAIR]
    assert (q.name, q.program, q.slot, q.swaps) == ("HumidiFi", PROGRAM, 101, 1)
    assert q.price == pytest.approx(0.15003) and q.mid_at == pytest.approx(0.150)
    assert q.spread_bps == pytest.approx(2.0)
    assert q.lag is None and q.waiting is None and q.follows == 0
    b.follow(102, {PAIR: 0.1503})
    assert b.quotes()[PAIR].spread_bps == pytest.approx(1e4 * (0.15003 / 0.1503 - 1))


def test_the_public_pools_follow_a_lead_within_the_band() -> None:
    b = PropAmmBook(follow_bps=5)
    b.follow(100, {PAIR: 0.150})
    b.add(swap(101, 0.153))  # the prop moves 2 % up; the public mid is still at 0.150
    b.follow(101, {PAIR: 0.150})
    assert b.quotes()[PAIR].waiting == 0
    b.follow(102, {PAIR: 0.151})
    b.follow(103, {PAIR: 0.152})
    q = b.quotes()[PAIR]
    assert q.waiting == 2 and q.lag is None
    b.follow(104, {PAIR: 0.15295})  # within 5 bps of 0.153
    q = b.quotes()[PAIR]
    assert (q.lag, q.waiting, q.follows, q.lag_median) == (3, None, 1, 3)


def test_crossing_the_prop_price_is_following_it() -> None:
    b = PropAmmBook(follow_bps=5)
    b.follow(10, {PAIR: 0.150})
    b.add(swap(11, 0.147))  # the prop down 2 %
    b.follow(11, {PAIR: 0.150})
    b.follow(12, {PAIR: 0.1465})  # overshot below it
    q = b.quotes()[PAIR]
    assert (q.lag, q.follows) == (1, 1)


def test_a_second_swap_on_the_same_side_moves_the_target_not_the_start() -> None:
    b = PropAmmBook(follow_bps=5)
    b.follow(10, {PAIR: 0.150})
    b.add(swap(11, 0.152))
    b.follow(11, {PAIR: 0.150})
    b.follow(12, {PAIR: 0.1505})
    b.add(swap(13, 0.154))  # further up: the public mid must now reach 0.154
    b.follow(13, {PAIR: 0.1515})
    b.follow(14, {PAIR: 0.1520})  # the old target, not the new one: still waiting
    assert b.quotes()[PAIR].waiting == 3
    b.follow(15, {PAIR: 0.1540})
    q = b.quotes()[PAIR]
    assert q.lag == 4 and q.follows == 1  # from slot 11


def test_a_prop_back_at_the_mid_ends_its_lead_unfollowed() -> None:
    b = PropAmmBook(follow_bps=5)
    b.follow(10, {PAIR: 0.150})
    b.add(swap(11, 0.152))
    b.follow(11, {PAIR: 0.150})
    b.add(swap(12, 0.15001))
    b.follow(12, {PAIR: 0.150})
    q = b.quotes()[PAIR]
    assert (q.reverted, q.follows, q.waiting, q.lag) == (1, 0, None, None)


def test_a_swap_fetched_late_is_judged_against_the_mids_of_its_own_slot() -> None:
    b = PropAmmBook(follow_bps=5)
    b.add(swap(5, 0.150))  # a first swap: the pair is watched from now on
    for slot, mid in ((10, 0.150), (11, 0.150), (12, 0.151), (13, 0.15295), (14, 0.153)):
        b.follow(slot, {PAIR: mid})
    b.add(swap(11, 0.153))  # landed in slot 11, read at slot 14
    q = b.quotes()[PAIR]
    assert q.mid_at == pytest.approx(0.150) and q.lag == 2  # followed at slot 13


def test_an_older_swap_is_counted_but_does_not_replace_the_last() -> None:
    b = PropAmmBook()
    b.add(swap(20, 0.151))
    b.add(swap(19, 0.149))
    q = b.quotes()[PAIR]
    assert (q.slot, q.swaps) == (20, 2) and q.price == pytest.approx(0.151)


def test_oracle_updates_count_for_the_pair_their_market_trades() -> None:
    b = PropAmmBook()
    assert not b.add(oracle(5))  # no swap has said which pair this market trades
    assert b.oracle_unplaced == 1
    b.add(swap(6, 0.15))
    assert b.add(oracle(7)) and b.add(oracle(9))
    assert not b.add(oracle(10, market="Other111111111111111111111111111111111111111"))
    q = b.quotes()[PAIR]
    assert (q.oracle_updates, q.oracle_slot) == (2, 9)
    failed = PropTx("f", 11, True, (), ())
    assert not b.add(failed) and b.failed == 1


def test_a_quote_and_a_series_are_the_same_objects_until_they_change() -> None:
    b = PropAmmBook()
    b.add(swap(6, 0.15))
    b.add(swap(6, 0.1502, buy=True))  # one point per slot: the slot's last
    s1, q1 = b.series([PAIR])[PAIR], b.quotes()[PAIR]
    assert s1.slots == (6,) and s1.price == (pytest.approx(0.1502),) and s1.name == "HumidiFi"
    assert b.series([PAIR])[PAIR] is s1 and b.quotes()[PAIR] is q1
    b.add(swap(7, 0.1504))
    s2 = b.series([PAIR])[PAIR]
    assert s2 is not s1 and s2.slots == (6, 7) and b.quotes()[PAIR] is not q1
    assert b.series([("x", "y")]) == {} and b.quotes([("x", "y")]) == {}


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf])
def test_a_follow_band_that_is_no_positive_number_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="follow_bps"):
        PropAmmBook(follow_bps=bad)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    st.floats(0.9, 1.1),
    st.lists(st.floats(0.9, 1.1), min_size=1, max_size=30),
)
def test_a_lag_is_always_a_later_slot_at_which_the_mid_followed(
    jump: float, path: list[float]
) -> None:
    """Whatever the mids do after a swap, a lag recorded is at least one slot and the mid
    at that slot is within the band of the prop's price or across it."""
    b = PropAmmBook(follow_bps=5)
    b.follow(0, {PAIR: 1.0})
    b.add(swap(1, jump))
    b.follow(1, {PAIR: 1.0})
    for i, m in enumerate(path, start=2):
        b.follow(i, {PAIR: m})
    q = b.quotes()[PAIR]
    if abs(jump - 1.0) * 1e4 <= 5:
        assert q.lag is None and q.waiting is None
        return
    if q.lag is None:
        assert q.waiting == len(path)
        return
    assert q.lag >= 1
    m = path[q.lag - 1]
    assert abs(m / jump - 1) * 1e4 <= 5 or (m > jump) != (1.0 > jump)

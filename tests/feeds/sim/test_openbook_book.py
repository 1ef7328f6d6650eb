"""The simulator's OpenBook v2 book (``feeds.sim.orderbook``): the order tree keeps the
program's invariants through inserts and removes, the event heap its lists, and the
taker's walk gives the program's own test numbers (``programs/openbook-v2/tests/cases``
of ``openbook-dex/openbook-v2`` v0.2.10: ``test_take_order.rs``,
``test_fill_or_kill_order.rs``; the market of ``TestNewMarketInitialize::default``:
quote lot 10, base lot 100, maker fee -200, taker fee 400 in 10^-6, and
``price_lots = native_price_to_lot(1000)`` = 1000 · 100 / 10 = 10,000)."""

from __future__ import annotations

import dataclasses
import random
import struct

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from feeds.sim import orderbook as ob
from feeds.venues import openbook_v2
from feeds.venues.openbook_v2 import sim as openbook_sim

OWNER = bytes(range(32))
TAKER = bytes([7] * 32)


def _market(**kw: int) -> ob.MarketState:
    z = bytes(32)
    fields = dict(quote_lot_size=10, base_lot_size=100, maker_fee=-200, taker_fee=400)
    fields.update(kw)
    return ob.MarketState(
        1,
        6,
        6,
        z,
        0,
        z,
        z,
        z,
        z,
        b"T",
        z,
        z,
        z,
        z,
        z,
        0.0,
        -1,
        fields["quote_lot_size"],
        fields["base_lot_size"],
        0,
        0,
        fields["maker_fee"],
        fields["taker_fee"],
        0,
        0,
        0,
        0,
        0,
        0,
        z,
        z,
        z,
        10**12,
        z,
        10**12,
    )


def _rest(
    m: ob.MarketState, side: ob.BookSide, price: int, qty: int, tif: int = 0, ts: int = 100
) -> ob.Leaf:
    m.seq_num += 1
    leaf = ob.Leaf(
        ob.new_node_key(side.side, price, m.seq_num), OWNER, qty, ts, 0, tif, -1, m.seq_num
    )
    side.insert_leaf(ob.FIXED, leaf)
    return leaf


def _book() -> tuple[ob.MarketState, ob.BookSide, ob.BookSide, ob.EventHeap]:
    return _market(), ob.BookSide.new(ob.BIDS), ob.BookSide.new(ob.ASKS), ob.EventHeap.new()


def test_taking_a_bid_with_an_ask_pays_what_test_take_ask_order_says() -> None:
    # test_take_ask_order: a bid of 1 lot at price_lots; the take sells 1 lot (IOC,
    # max quote 10,000, limit 10): base -100, quote +99,980 (the maker's 20 rebate off)
    m, bids, asks, heap = _book()
    _rest(m, bids, 10_000, 1)
    t = ob.take(
        m, bids, asks, heap, ob.ASK, 10_000, 1, 10_000, ob.IMMEDIATE_OR_CANCEL, 10, 200, TAKER
    )
    assert (t.deposit, t.withdraw) == (100, 99_980)
    assert list(bids.iter_tree(ob.FIXED)) == [] and len(heap) == 1 and t.events_added == 1


def test_taking_an_ask_with_a_bid_pays_what_test_take_bid_order_says() -> None:
    # test_take_bid_order: an ask of 1 lot; the take buys 1 lot with max quote 10,040
    # lots including fees: base +100, quote -100,020
    m, bids, asks, heap = _book()
    _rest(m, asks, 10_000, 1)
    t = ob.take(
        m, bids, asks, heap, ob.BID, 10_000, 1, 10_040, ob.IMMEDIATE_OR_CANCEL, 10, 200, TAKER
    )
    assert (t.deposit, t.withdraw) == (100_020, 100)


def test_fill_or_kill_takes_all_or_fails_as_test_fill_or_kill_order_says() -> None:
    # test_fill_or_kill_order: bids of 5 lots; a fill-or-kill ask of 1 lot fills, one of
    # 6 lots fails with WouldExecutePartially
    m, bids, asks, heap = _book()
    _rest(m, bids, 10_000, 5)
    t = ob.take(m, bids, asks, heap, ob.ASK, 10_000, 1, 10_000, ob.FILL_OR_KILL, 10, 200, TAKER)
    assert t.base_lots == 1 and [leaf.quantity for _, leaf in bids.iter_tree(ob.FIXED)] == [4]
    with pytest.raises(ob.TakeRefused) as err:
        ob.take(m, bids, asks, heap, ob.ASK, 10_000, 6, 60_000, ob.FILL_OR_KILL, 10, 200, TAKER)
    assert err.value.code == 6043


def test_refusals_carry_the_programs_codes() -> None:
    m, bids, asks, heap = _book()
    cases = [
        ((ob.ASK, 0, 1, 1, ob.IMMEDIATE_OR_CANCEL), 6008),  # InvalidInputPriceLots
        ((ob.ASK, 1, 1, 1, ob.LIMIT), 6010),  # InvalidInputOrderType
        ((ob.ASK, 1, -1, 1, ob.MARKET), 6004),  # InvalidInputLots
        ((ob.ASK, 1, ob.I64_MAX, 1, ob.MARKET), 6005),  # InvalidInputLotsSize
    ]
    for (side, price, base, quote, kind), code in cases:
        with pytest.raises(ob.TakeRefused) as err:
            ob.take(m, bids, asks, heap, side, price, base, quote, kind, 10, 200, TAKER)
        assert err.value.code == code
    m.time_expiry = 150
    with pytest.raises(ob.TakeRefused) as err:
        ob.take(m, bids, asks, heap, ob.ASK, 1, 1, 1, ob.MARKET, 10, 200, TAKER)
    assert err.value.code == 6030  # MarketHasExpired


def test_a_taker_drops_expired_orders_it_meets_with_out_events() -> None:
    m, bids, asks, heap = _book()
    _rest(m, bids, 10_010, 3, tif=10, ts=100)  # expired at 110
    _rest(m, bids, 10_000, 2)
    t = ob.take(m, bids, asks, heap, ob.ASK, 1, 1, 10**9, ob.MARKET, 10, 200, TAKER)
    assert (t.dropped, t.fills, t.base_lots) == (1, 1, 1)
    kinds = [heap.event(s)[0] for s in heap.slots()]
    assert kinds == [ob.OUT, ob.FILL]
    assert [leaf.quantity for _, leaf in bids.iter_tree(ob.FIXED)] == [1]


def _check_tree(side: ob.BookSide, tree: int) -> list[int]:
    """The tree's invariants as ordertree.rs's tests state them: each inner node's
    children share its key's top ``prefix_len`` bits and split on the next one, its
    children's earliest expiries are theirs; the leaf count is the root's; every node
    slot is reachable from a root or on the free list. Returns the leaves' keys."""
    node, count = side.root(tree)
    keys: list[int] = []

    def walk(h: int, prefix: int, bits: int) -> int:
        if side.tag(h) == ob.LEAF:
            leaf = side.leaf(h)
            assert bits == 0 or leaf.key >> (128 - bits) == prefix >> (128 - bits)
            keys.append(leaf.key)
            return leaf.expiry()
        assert side.tag(h) == ob.INNER
        plen = side._prefix_len(h)
        key = side._key(h)
        left, right = side._children(h)
        e0 = walk(left, key & ~((1 << (128 - plen)) - 1) if plen else 0, plen)
        e1 = walk(right, key | (1 << (127 - plen)), plen + 1)
        le = side.leaf(left).key if side.tag(left) == ob.LEAF else None
        if le is not None:
            assert (le >> (127 - plen)) & 1 == 0
        assert side._child_expiry(h) == (e0, e1)
        return min(e0, e1)

    if count:
        walk(node, 0, 0)
    assert len(keys) == count
    return keys


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(1, 40), st.integers(0, 30)), max_size=80),
    st.integers(0, 2**32),
)
def test_inserts_and_removes_keep_a_valid_tree_in_the_programs_order(
    ops: list[tuple[bool, int, int]], seed: int
) -> None:
    r = random.Random(seed)
    m = _market()
    for tree_type in (ob.BIDS, ob.ASKS):
        side = ob.BookSide.new(tree_type)
        held: dict[int, ob.Leaf] = {}
        for insert, price, tif in ops:
            if insert or not held:
                leaf = _rest(m, side, price, r.randint(1, 9), tif, ts=r.randint(0, 50))
                held[leaf.key] = leaf
            else:
                key = r.choice(sorted(held))
                assert side.remove_by_key(ob.FIXED, key) == held.pop(key)
            keys = _check_tree(side, ob.FIXED)
            assert sorted(keys) == sorted(held)
            walked = [leaf.key for _, leaf in side.iter_tree(ob.FIXED)]
            assert walked == sorted(held, reverse=tree_type == ob.BIDS)
            # the makers' best price, read from the fixed tree, is ``iter_all``'s first
            # valid order's (some expired by then)
            now = r.randint(0, 90)
            first = next((i.price_lots for i in side.iter_all(now) if i.valid), None)
            assert openbook_sim.best(side, now) == first
        # every slot below the bump index is in the tree or on the free list
        bump = struct.unpack_from("<I", side.buf, ob._BUMP)[0]
        free_len, head = struct.unpack_from("<II", side.buf, ob._FREE_LEN)
        free, h = [], head
        for _ in range(free_len):
            free.append(h)
            assert side.tag(h) in (ob.FREE, ob.LAST_FREE)
            h = struct.unpack_from("<I", side.buf, side._off(h) + 4)[0]
        used = bump - free_len
        assert used == (2 * len(held) - 1 if held else 0)


def test_the_event_heap_keeps_its_used_and_free_lists() -> None:
    heap = ob.EventHeap.new()
    assert heap.header() == (0, ob.NO_NODE, 0, 0)
    for i in range(5):
        heap.push_back(ob.out_event(0, i, 1, i, OWNER, 1))
    assert heap.slots() == [0, 1, 2, 3, 4] and heap.header() == (5, 0, 5, 5)
    heap.delete_slot(2)
    assert heap.slots() == [0, 1, 3, 4] and heap.header()[:3] == (2, 0, 4)
    heap.push_back(ob.out_event(0, 9, 1, 9, OWNER, 1))  # the freed slot comes back first
    assert heap.slots() == [0, 1, 3, 4, 2] and heap.header()[3] == 6
    assert heap.consume(100) == 5 and heap.slots() == [] and heap.header()[1] == ob.NO_NODE


@pytest.mark.parametrize(
    ("maker_fee", "taker_fee", "accrued_at_fill", "accrued_after_crank"),
    [(-100, 200, 10, 10), (200, 400, 40, 60)],
)
def test_fees_accrue_as_test_fees_rs_says(
    maker_fee: int, taker_fee: int, accrued_at_fill: int, accrued_after_crank: int
) -> None:
    # test_fees.rs (test_fees_accrued, test_maker_fees): a maker's 1 lot at price_lots
    # (100,000 quote native) taken; the market's fees_accrued: the taker fee less the
    # maker's rebate at the fill, plus a positive maker fee once the crank consumes it
    m, bids, asks, heap = _book()
    m.maker_fee, m.taker_fee = maker_fee, taker_fee
    _rest(m, bids, 10_000, 1)
    ob.take(m, bids, asks, heap, ob.ASK, 10_000, 1, 10_000, ob.IMMEDIATE_OR_CANCEL, 10, 200, TAKER)
    assert m.fees_accrued == accrued_at_fill
    assert ob.consume_events(m, heap, 8) == 1 and len(heap) == 0
    assert m.fees_accrued == accrued_after_crank and m.maker_volume == 100_000


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 10**6),
    st.integers(1, 10**6),
    st.sampled_from([-1_000, -500, -200, 0, 300]),
    st.integers(1, 10**5),
    st.lists(st.integers(1, 10**9), min_size=1, max_size=8),
    st.integers(0, 10**6),
)
def test_a_sell_at_its_limit_gets_its_minimum_whatever_the_fills(
    bls: int, qls: int, maker_fee: int, price: int, orders: list[int], under: int
) -> None:
    """``openbook_v2.sell_limit`` / ``sell_receives``: a sell of every lot the bids at one
    price hold receives at least ``sell_receives`` (its makers' rebates rounded down fill
    by fill come to at most the whole's rounded down) and less than that plus a unit a
    fill; its order (immediate-or-cancel, as live sends it) asking exactly that fills
    whole; asking more (its exact quote over several fills may be up to a unit a fill
    more) gets a limit a price lot up and fills nothing: at that price one fill would pay
    short. The limit is the lowest price that promises the minimum."""
    m, bids, asks, heap = (
        _market(base_lot_size=bls, quote_lot_size=qls, maker_fee=maker_fee),
        ob.BookSide.new(ob.BIDS),
        ob.BookSide.new(ob.ASKS),
        ob.EventHeap.new(),
    )
    for qty in orders:
        _rest(m, bids, price, qty)
    lots = sum(orders)
    assume(lots * price * qls < 2**62)  # the quote within the program's u64 amounts
    quoted = ob.take(
        dataclasses.replace(m),
        bids.copy(),
        asks.copy(),
        heap.copy(),
        ob.ASK,
        1,
        lots,
        m.max_quote_lots(),
        ob.MARKET,
        50,
        200,
        TAKER,
    ).withdraw
    least = openbook_v2.sell_receives(m, lots, price)
    assert least <= quoted < least + len(orders)
    for minimum in (least, quoted, max(1, least - under)):
        a = openbook_v2.take_args(m, True, lots * bls, minimum)
        limit = openbook_v2.sell_limit(m, lots, minimum)
        assert a.price_lots == limit and a.max_base_lots == lots
        assert openbook_v2.sell_receives(m, lots, limit) >= minimum
        assert limit == 1 or openbook_v2.sell_receives(m, lots, limit - 1) < minimum
        args = (ob.ASK, a.price_lots, a.max_base_lots, a.max_quote_lots_including_fees)
        assert a.order_type == ob.IMMEDIATE_OR_CANCEL
        t = ob.take(
            dataclasses.replace(m),
            bids.copy(),
            asks.copy(),
            heap.copy(),
            *args,
            a.order_type,
            a.limit,
            200,
            TAKER,
        )
        if t.base_lots == 0:
            assert minimum > least and limit == price + 1
        else:
            assert t.base_lots == lots and t.withdraw == quoted >= minimum and limit <= price

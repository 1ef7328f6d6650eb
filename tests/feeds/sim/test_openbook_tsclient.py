"""The simulator's OpenBook v2 accounts read by the official TypeScript client
(``@openbook-dex/openbook-v2`` 0.2.10, ``tests/support/jsbook.py``): what the client
decodes from the bytes the simulator serves is the simulator's own book — its market's
fields, every order of both sides in the program's order (``BookSide.iter_all``), each
side's L2 over its valid orders, and the event heap's events.

The client is asked at ``now + 1``: it counts an order expired one second after the
program does (``clusterTime > expiry`` in ``bookSide.ts``; ``now_ts >= expiry`` in
``nodes.rs``), see ``tests/engine/test_openbook_oracle.py``.
"""

from __future__ import annotations

import base64
import dataclasses
import math
import random
from typing import Any

import pytest
from solders.pubkey import Pubkey

from feeds.sim import orderbook as ob
from feeds.sim.world import World
from tests.support.jsbook import (
    MARKET_INTS,
    MARKET_KEYS,
    OpenBookJs,
    client_order,
    heap_fill,
    heap_out,
)
from tests.support.pools import booked_world

ZERO = bytes(32)


def _key(raw: bytes) -> str:
    return str(Pubkey.from_bytes(raw))


@pytest.fixture(scope="module")
def world() -> World:
    return booked_world()


def _books(w: World) -> list[Any]:
    try:
        from feeds.venues import openbook_v2
    except KeyError:
        pytest.skip("the engine has no openbook_v2 venue (its registry line: i19-engine)")
    books = [p for p in w.pools if p.kind == openbook_v2.IDS.kind]
    if not books:
        pytest.skip(
            "the simulated market has no OpenBook v2 market (the engine's registry line: i19-engine)"
        )
    return books


@pytest.mark.slow
def test_the_client_reads_the_simulators_books(world: World, objs: OpenBookJs) -> None:
    books = _books(world)
    states = [p.spec.state for p in books]
    acc = world.accounts
    views = objs.decode(
        [
            {
                "market": acc[st.address].data,
                "bids": acc[st.bids_address].data,
                "asks": acc[st.asks_address].data,
                "event_heap": acc[st.heap_address].data,
                "now": st.now + 1,
                "oracle_price_lots": None,
                "depth": 1000,
            }
            for st in states
        ]
    )
    orders = events = 0
    for st, view in zip(states, views, strict=True):
        m = st.market
        theirs = view["market"]
        for name in MARKET_INTS:
            assert int(theirs[name]) == getattr(m, name), (st.address, name)
        for name in MARKET_KEYS:
            assert theirs[name] == _key(getattr(m, name)), (st.address, name)
        assert theirs["name"] == m.name.split(b"\0")[0].decode()
        assert theirs["bids"] == st.bids_address and theirs["asks"] == st.asks_address
        assert theirs["event_heap"] == st.heap_address

        for side, book in (("bids", st.bids), ("asks", st.asks)):
            ours = book.orders(st.now)  # the program's iteration: no oracle, fixed orders
            got = view[side]["orders"]
            assert [int(o["key"]) for o in got] == [it.leaf.key for it in ours], (st.address, side)
            for o, it in zip(got, ours, strict=True):
                leaf = it.leaf
                assert (int(o["price_lots"]), *client_order(o), not o["expired"]) == (
                    it.price_lots,
                    leaf.quantity,
                    _key(leaf.owner),
                    leaf.owner_slot,
                    leaf.timestamp,
                    leaf.time_in_force,
                    leaf.peg_limit,
                    leaf.client_order_id,
                    False,
                    it.valid,
                )
                orders += 1
            # the client's getL2 over its valid orders: the simulator's valid orders by price
            want: dict[int, int] = {}
            for it in ours:
                if it.valid:
                    want[it.price_lots] = want.get(it.price_lots, 0) + it.leaf.quantity
            prices = sorted(want, reverse=side == "bids")
            levels = view[side]["l2"]
            assert [(int(lv["price_lots"]), int(lv["size_lots"])) for lv in levels] == [
                (p, want[p]) for p in prices
            ], (st.address, side)
            tick = m.quote_lot_size * 10 ** (m.base_decimals - m.quote_decimals) / m.base_lot_size
            for lv in levels:
                assert math.isclose(lv["price"], int(lv["price_lots"]) * tick, rel_tol=1e-12)

        free, used, count, seq = st.heap.header()
        h = view["event_heap"]["header"]
        header = (h["free_head"], h["used_head"], h["count"], int(h["seq_num"]))
        assert header == (free, used, count, seq), st.address
        got_events = view["event_heap"]["events"]
        assert len(got_events) == count
        for e, slot in zip(got_events, st.heap.slots(), strict=True):
            raw = st.heap.event(slot)
            if raw[0] == ob.FILL:
                assert e["kind"] == "fill"
                assert (
                    e["takerSide"],
                    e["makerOut"],
                    e["makerSlot"],
                    int(e["timestamp"]),
                    int(e["seqNum"]),
                    e["maker"],
                    int(e["makerTimestamp"]),
                    e["taker"],
                    int(e["takerClientOrderId"]),
                    int(e["price"]),
                    int(e["pegLimit"]),
                    int(e["quantity"]),
                    int(e["makerClientOrderId"]),
                ) == heap_fill(raw)
            else:
                assert e["kind"] == "out"
                assert (
                    e["side"],
                    e["ownerSlot"],
                    int(e["timestamp"]),
                    int(e["seqNum"]),
                    e["owner"],
                    int(e["quantity"]),
                ) == heap_out(raw)
            events += 1
    assert orders > 0 and events > 0


def _churned_book(seed: int) -> tuple[ob.MarketState, ob.BookSide, ob.BookSide, int, int]:
    """A market whose sides went through the program's own tree operations (the
    simulator's ``insert_leaf`` / ``remove_by_key``): fixed and oracle-pegged orders at
    random prices, sizes and times in force, a share of them removed again."""
    rng = random.Random(seed)
    z = bytes(32)
    key = lambda: rng.randbytes(32)  # noqa: E731
    m = ob.MarketState(
        rng.randrange(256),
        rng.randrange(10),
        rng.randrange(10),
        key(),
        0,
        key(),
        z,
        z,
        key(),
        b"SIM-%d" % seed,
        key(),
        key(),
        key(),
        z,
        z,
        0.0,
        -1,
        rng.choice([1, 10, 100]),
        rng.choice([1, 100, 10_000]),
        0,
        1_700_000_000,
        rng.randrange(-200, 500),
        rng.randrange(0, 1000),
        0,
        0,
        0,
        0,
        0,
        0,
        key(),
        key(),
        key(),
        0,
        key(),
        0,
    )
    now = 1_700_000_000
    centre = rng.randrange(100, 50_000)
    sides = (ob.BookSide.new(ob.BIDS), ob.BookSide.new(ob.ASKS))
    live: list[tuple[ob.BookSide, int, int]] = []
    for _ in range(rng.randrange(0, 400)):
        side = rng.choice(sides)
        bid = side.side == ob.BID
        m.seq_num += 1
        if rng.random() < 0.2:
            tree = ob.ORACLE_PEGGED
            offset = rng.randrange(-40, 10) if bid else rng.randrange(-10, 40)
            price_data = ob.oracle_pegged_price_data(offset)
            peg_limit = -1 if rng.random() < 0.5 else centre + rng.randrange(-20, 20)
        else:
            tree = ob.FIXED
            step = rng.randrange(0, 40)
            price_data = max(1, centre - 5 - step if bid else centre + 5 + step)
            peg_limit = -1
        tif = 0 if rng.random() < 0.5 else rng.randrange(1, 2000)
        ts = now - rng.randrange(0, 2500)
        if tif and rng.random() < 0.1:
            ts = now - tif  # expires exactly now
        leaf = ob.Leaf(
            ob.new_node_key(side.side, price_data, m.seq_num),
            key(),
            rng.randrange(1, 10_000),
            ts,
            rng.randrange(256),
            tif,
            peg_limit,
            rng.getrandbits(64),
        )
        if side.is_full():
            break
        side.insert_leaf(tree, leaf)
        live.append((side, tree, leaf.key))
        if live and rng.random() < 0.3:
            s, tr, k = live.pop(rng.randrange(len(live)))
            s.remove_by_key(tr, k)
    return m, sides[0], sides[1], now, centre


@pytest.mark.slow
@pytest.mark.parametrize("oracle", [False, True])
def test_the_client_reads_the_simulators_order_trees(objs: OpenBookJs, oracle: bool) -> None:
    """Book sides built by the simulator's tree operations (the program's, one for one)
    read by the client: every order in the program's order, fixed and pegged merged, and
    its validity."""
    books = [_churned_book(seed) for seed in range(12)]
    views = objs.decode(
        [
            {
                "market": m.pack(),
                "bids": b.data(),
                "asks": a.data(),
                "now": now + 1,
                "oracle_price_lots": centre if oracle else None,
                "depth": 1000,
            }
            for m, b, a, now, centre in books
        ]
    )
    seen = 0
    for (m, bids, asks, now, centre), view in zip(books, views, strict=True):
        assert view["market"]["name"] == m.name.decode()
        for side, book in (("bids", bids), ("asks", asks)):
            ours = list(book.iter_all(now, centre if oracle else None))
            got = view[side]["orders"]
            assert [(int(o["key"]), int(o["price_lots"])) for o in got] == [
                (it.leaf.key, it.price_lots) for it in ours
            ], (side, m.name)
            valid = [not o["expired"] and o["peg_state"] in (None, "valid") for o in got]
            assert valid == [it.valid for it in ours], (side, m.name)
            assert [o["pegged"] for o in got] == [it.tree == ob.ORACLE_PEGGED for it in ours]
            seen += len(ours)
    assert seen > 0


def _json_args(args: Any) -> dict[str, Any]:
    """The arguments for JSON: integers past 2^53 as strings (a JSON number is a double in
    JavaScript)."""
    return {k: str(v) if abs(v) > 2**53 else v for k, v in dataclasses.asdict(args).items()}


@pytest.mark.slow
def test_the_taker_instruction_is_the_clients(objs: OpenBookJs) -> None:
    """``place_take_order`` as live trading builds it (``feeds.venues.openbook_v2``) and as
    the client's ``placeTakeOrderIx`` builds it for the same market, user accounts and
    arguments: the same program, data bytes (discriminator, Borsh ``PlaceTakeOrderArgs``)
    and accounts with the same signer and writable flags, in the IDL's order. Markets with
    and without oracles and an open-orders admin; sells and buys of each order type.

    One difference, both accepted by the program: for a market without an oracle the
    client passes the market's zero key (``market.oracleA.key``, the System Program's
    id) where we leave the optional account out (the program id, Anchor's None);
    ``accounts_ix/place_take_order.rs`` compares ``oracle_a.non_zero_key()`` with the
    market's, and both read as none."""
    try:
        from feeds.venues import openbook_v2 as ov
    except KeyError:
        pytest.skip("the engine has no openbook_v2 venue (its registry line: i19-engine)")
    import engine_rs

    eng = engine_rs.backend()
    rng = random.Random(5)
    books = objs.random([{"seed": 500 + i, "bids": 0, "asks": 0, "events": 0} for i in range(24)])
    cases = []
    for bk in books:
        args = ov.TakeArgs(
            rng.choice([0, 1]),
            rng.randrange(1, 1 << 40),
            rng.randrange(1, 1 << 40),
            rng.randrange(1, 1 << 62),
            rng.choice([1, 3, 5]),
            rng.randrange(0, 256),
        )
        keys = [_key(rng.randbytes(32)) for _ in range(3)]
        cases.append((bk, args, keys))
    answers = objs._many(
        [
            {
                "op": "take_ix",
                "market": base64.b64encode(bk.market).decode(),
                "market_key": keys[0],
                "user_base": keys[1],
                "user_quote": keys[2],
                "args": _json_args(args),
            }
            for bk, args, keys in cases
        ]
    )
    no_oracle = 0
    for (bk, args, keys), theirs in zip(cases, answers, strict=True):
        rec = eng.openbook_v2.decode_market(bk.market)
        ix = ov.place_take_order(
            theirs["wallet"], ov.take_keys(keys[0], rec), keys[1], keys[2], args
        )
        assert str(ix.program_id) == theirs["program_id"] == str(ov.PROGRAM)
        assert bytes(ix.data) == base64.b64decode(theirs["data"]), args
        ours = [(str(m.pubkey), m.is_signer, m.is_writable) for m in ix.accounts]
        client = [(k["pubkey"], k["signer"], k["writable"]) for k in theirs["keys"]]
        assert len(ours) == len(client) == 16
        for i, (o, c) in enumerate(zip(ours, client, strict=True)):
            if i in (11, 12) and c[0] == str(Pubkey.default()):  # oracle_a, oracle_b unset
                assert o == (str(ov.PROGRAM), False, False) and c[1:] == (False, False)
                no_oracle += 1
            else:
                assert o == c, (bk.seed, i)
    assert 0 < no_oracle < 2 * len(cases)  # both kinds of market were tried

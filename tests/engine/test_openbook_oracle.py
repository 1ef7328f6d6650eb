"""The engine's OpenBook v2 decoders and L2 ladder against the official TypeScript client
(``@openbook-dex/openbook-v2`` 0.2.10, ``tests/support/jsbook.py``), on both backends.

The accounts are written by ``tests/js/openbook_client.mjs`` (its own crit-bit tree and
event-heap writer, the client's Anchor coder), not by the engine or the simulator; the
client decodes them, walks the order trees in its own order (``BookSide.items``) and
aggregates its L2 (``BookSide.getL2``). Every order and every level must agree: lots,
keys, owners, timestamps exactly, UI prices and sizes within float rounding.

Two places where the client is not the program, and what the comparison does about them:

* Expiry. The program (``state/orderbook/nodes.rs`` ``LeafNode::is_expired``) counts an
  order expired when ``now_ts >= timestamp + time_in_force``; the client
  (``ts/client/src/accounts/bookSide.ts`` ``fixedItems``) when ``clusterTime >
  timestamp + time_in_force``: one second later. For integer clocks, the client at
  ``now + 1`` judges exactly as the program at ``now``, so the client is asked at
  ``now + 1``; ``test_client_keeps_orders_expiring_now`` pins the difference down on the
  books written with orders expiring exactly at ``now``.
* Oracle-pegged orders. The client's ``Order`` throws 'Not implemented yet' for them; the
  script prices them by the program's rule (``bookside_iterator.rs``
  ``oracle_pegged_price``) and the client's merge and ``getL2`` do the rest. Without an
  oracle price the program's iterator yields none (``rank_orders``), and neither does the
  script.
"""

from __future__ import annotations

import math
import types
from typing import Any

import pytest

from tests.support.jsbook import MARKET_INTS, MARKET_KEYS, OpenBookJs, RandomBook, client_order

pytest.importorskip("engine_rs")

NEEDED = ("decode_market", "decode_bookside", "decode_event_heap", "ladder")

# (bids, asks, pegged per side, events, orders expiring exactly at now, root garbage)
SHAPES: tuple[tuple[int, int, int, int, bool, bool], ...] = (
    (0, 0, 0, 0, False, False),
    (0, 0, 0, 0, False, True),  # empty trees whose root handle points anywhere
    (1, 0, 0, 1, False, False),
    (0, 1, 0, 1, True, True),
    (2, 2, 1, 2, True, False),
    (20, 20, 0, 10, False, False),
    (20, 20, 5, 10, True, False),
    (60, 40, 12, 50, True, True),
    (150, 150, 30, 200, True, False),
    (500, 499, 10, 600, True, False),  # near full: 1018 of 1024 node slots
    (512, 0, 0, 599, False, False),  # 1023 slots
    (3, 300, 0, 3, True, False),
)
SEEDS_PER_SHAPE = 3
DEPTHS = (1000, 5)


def _need(eng: types.ModuleType) -> None:
    missing = [n for n in NEEDED if not hasattr(eng.openbook_v2, n)]
    if missing:
        pytest.skip(
            f"the engine lacks {', '.join(missing)} (OpenBook v2 decoders: branch i19-engine)"
        )


@pytest.fixture(scope="module")
def books(objs: OpenBookJs) -> list[RandomBook]:
    specs = [
        {
            "seed": 1000 * i + k,
            "bids": b,
            "asks": a,
            "pegged": p,
            "events": e,
            "boundary": edge,
            "empty_root_garbage": garbage,
        }
        for i, (b, a, p, e, edge, garbage) in enumerate(SHAPES)
        for k in range(SEEDS_PER_SHAPE)
    ]
    return objs.random(specs)


Views = dict[tuple[int, str, int], dict[str, Any]]


@pytest.fixture(scope="module")
def views(objs: OpenBookJs, books: list[RandomBook]) -> Views:
    """The client's view of every book: at ``now + 1`` (the program's expiry at ``now``)
    and at ``now``, without and with an oracle price, at each depth."""
    keys: list[tuple[int, str, int]] = []
    requests: list[dict[str, Any]] = []
    for bk in books:
        for mode in ("plain", "oracle", "client-now"):
            for depth in DEPTHS if mode != "client-now" else (1000,):
                keys.append((bk.seed, mode, depth))
                requests.append(
                    {
                        "market": bk.market,
                        "bids": bk.bids,
                        "asks": bk.asks,
                        "event_heap": bk.event_heap if mode == "plain" and depth == 1000 else None,
                        "now": bk.now if mode == "client-now" else bk.now + 1,
                        "oracle_price_lots": bk.oracle_price_lots if mode == "oracle" else None,
                        "depth": depth,
                    }
                )
    return dict(zip(keys, objs.decode(requests), strict=True))


def _field(rec: Any, *names: str) -> Any:
    """The first of ``names`` the engine's record has (the contract fixes the functions,
    not every field name of the decoded records)."""
    for n in names:
        if hasattr(rec, n):
            return getattr(rec, n)
    raise AssertionError(f"{type(rec).__name__} has none of {names}")


def _same_float(ours: float, theirs: float) -> bool:
    return math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=0.0)


# ---------------------------------------------------------------------------- Market

ZERO_KEY = "11111111111111111111111111111111"
NAME_AT = 8 + 8 + 32 + 8 + 32 + 3 * 32  # Market.name (market.rs), after the discriminator


@pytest.mark.slow
def test_market_fields(eng: types.ModuleType, books: list[RandomBook], views: Views) -> None:
    _need(eng)
    for bk in books:
        theirs = views[(bk.seed, "plain", 1000)]["market"]
        ours = eng.openbook_v2.decode_market(bk.market)
        for name in MARKET_INTS:
            assert int(getattr(ours, name)) == int(theirs[name]), (bk.seed, name)
        for name in MARKET_KEYS:
            key = getattr(ours, name)  # a NonZeroPubkeyOption is None when zero
            assert (ZERO_KEY if key is None else str(key)) == theirs[name], (bk.seed, name)
        assert _same_float(float(ours.conf_filter), theirs["conf_filter"]), bk.seed
        # the program's Market::name (market.rs): UTF-8, NULs trimmed at both ends; the
        # client's nameToString stops at the first NUL instead (names with bytes after one
        # or starting with one tell them apart)
        raw_name = bk.market[NAME_AT : NAME_AT + 16].decode()
        assert ours.name == raw_name.strip("\0"), bk.seed
        assert theirs["name"] == raw_name.split("\0")[0], bk.seed


# ---------------------------------------------------------------------------- BookSide


def _order_tuple(o: Any) -> tuple[Any, ...]:
    return (
        int(_field(o, "key")),
        int(o.seq_num),
        int(_field(o, "quantity", "size_lots")),
        str(_field(o, "owner")),
        int(_field(o, "owner_slot")),
        int(_field(o, "timestamp")),
        int(_field(o, "time_in_force")),
        int(_field(o, "peg_limit")),
        int(_field(o, "client_order_id")),
        bool(_field(o, "pegged", "oracle_pegged", "is_oracle_pegged")),
    )


def _client_tuple(o: dict[str, Any]) -> tuple[Any, ...]:
    return (int(o["key"]), int(o["seq_num"]), *client_order(o))


def test_bookside_orders(eng: types.ModuleType, books: list[RandomBook], views: Views) -> None:
    """Every order of both trees, in the client's iteration order (best first, the fixed
    and the pegged trees merged), where the client can order the pegged tree: with an
    oracle price (the program's ranking needs one) or with no pegged order at all."""
    _need(eng)
    for bk in books:
        view = views[(bk.seed, "oracle", 1000)]
        for side, data in (("bids", bk.bids), ("asks", bk.asks)):
            rec = eng.openbook_v2.decode_bookside(data)
            theirs = view[side]
            assert rec.side == ("bid" if theirs["order_tree_type"] == 0 else "ask"), (bk.seed, side)
            header = (
                rec.fixed_leaf_count,
                rec.pegged_leaf_count,
                rec.bump_index,
                rec.free_list_len,
                rec.free_list_head,
            )
            assert header == (
                theirs["fixed_leaf_count"],
                theirs["pegged_leaf_count"],
                theirs["bump_index"],
                theirs["free_list_len"],
                theirs["free_list_head"],
            ), (bk.seed, side)
            if hasattr(rec, "orders"):
                orders = list(rec.orders)
            else:  # the fixed and the pegged tree, each in its own order
                orders = [*rec.fixed, *rec.pegged]
            assert len(orders) == theirs["fixed_leaf_count"] + theirs["pegged_leaf_count"], (
                bk.seed,
                side,
            )
            fixed = [_order_tuple(o) for o in orders if not _order_tuple(o)[-1]]
            client_fixed = [_client_tuple(o) for o in theirs["orders"] if not o["pegged"]]
            assert fixed == client_fixed, (bk.seed, side)
            prices = [int(o.price_lots) for o in orders if not o.oracle_pegged]
            assert prices == [int(o["price_lots"]) for o in theirs["orders"] if not o["pegged"]]
            if theirs["pegged_leaf_count"] == 0:
                assert [_order_tuple(o) for o in orders] == [
                    _client_tuple(o) for o in theirs["orders"]
                ]
            else:
                # the client's pegged orders are the program's iteration: those not
                # representable at the front are skipped, so compare as a subset in order
                pegged = [_order_tuple(o) for o in orders if _order_tuple(o)[-1]]
                client_pegged = [_client_tuple(o) for o in theirs["orders"] if o["pegged"]]
                assert pegged[len(pegged) - len(client_pegged) :] == client_pegged, (bk.seed, side)


# ---------------------------------------------------------------------------- the L2 ladder


def _client_levels(view: dict[str, Any], side: str) -> list[tuple[int, int, int, float, float]]:
    """The client's getL2 levels with the number of the client's valid orders at each."""
    counts: dict[int, int] = {}
    for o in view[side]["orders"]:
        if not o["expired"] and o["peg_state"] in (None, "valid"):
            counts[int(o["price_lots"])] = counts.get(int(o["price_lots"]), 0) + 1
    return [
        (
            int(lv["price_lots"]),
            int(lv["size_lots"]),
            counts[int(lv["price_lots"])],
            lv["price"],
            lv["size"],
        )
        for lv in view[side]["l2"]
    ]


def _our_levels(levels: Any) -> list[tuple[int, int, int, float, float]]:
    return [(lv.price_lots, lv.size_lots, lv.orders, lv.price, lv.size) for lv in levels]


def _assert_same_ladder(ladder: Any, view: dict[str, Any], where: Any) -> None:
    for side in ("bids", "asks"):
        ours, theirs = _our_levels(getattr(ladder, side)), _client_levels(view, side)
        assert [x[:3] for x in ours] == [x[:3] for x in theirs], (where, side)
        for o, t in zip(ours, theirs, strict=True):
            assert _same_float(o[3], t[3]) and _same_float(o[4], t[4]), (where, side, o, t)
    bid = view["bids"]["l2"][0]["price"] if view["bids"]["l2"] else None
    ask = view["asks"]["l2"][0]["price"] if view["asks"]["l2"] else None
    for ours_v, theirs_v in ((ladder.best_bid, bid), (ladder.best_ask, ask)):
        assert (ours_v is None) == (theirs_v is None), where
        if ours_v is not None:
            assert _same_float(ours_v, theirs_v), where
    if bid is None or ask is None:
        assert ladder.spread is None and ladder.mid is None, where
    else:
        assert math.isclose(ladder.spread, ask - bid, rel_tol=1e-9, abs_tol=1e-12), where
        assert math.isclose(ladder.mid, (ask + bid) / 2, rel_tol=1e-12), where


@pytest.mark.parametrize("depth", DEPTHS)
def test_ladder_without_oracle(
    eng: types.ModuleType, books: list[RandomBook], views: Views, depth: int
) -> None:
    """No oracle price: fixed orders only, expired ones skipped, every level."""
    _need(eng)
    for bk in books:
        ladder = eng.openbook_v2.ladder(bk.market, bk.bids, bk.asks, bk.now, depth=depth)
        _assert_same_ladder(ladder, views[(bk.seed, "plain", depth)], (bk.seed, depth))


@pytest.mark.parametrize("depth", DEPTHS)
def test_ladder_with_oracle(
    eng: types.ModuleType, books: list[RandomBook], views: Views, depth: int
) -> None:
    """An oracle price at the book's centre: pegged orders priced and merged among the
    fixed ones, those past their peg limit or expired skipped."""
    _need(eng)
    for bk in books:
        ladder = eng.openbook_v2.ladder(
            bk.market, bk.bids, bk.asks, bk.now, depth=depth, oracle_price_lots=bk.oracle_price_lots
        )
        _assert_same_ladder(ladder, views[(bk.seed, "oracle", depth)], (bk.seed, depth))


def test_client_keeps_orders_expiring_now(books: list[RandomBook], views: Views) -> None:
    """The client at cluster time ``now`` still counts an order with ``timestamp +
    time_in_force == now`` (``clusterTime.gt(expiry)``); the program does not
    (``now_ts >= expiry``, nodes.rs). The books written with such orders show it, which
    is why the comparisons ask the client at ``now + 1``."""
    seen = 0
    for bk in books:
        at_now, at_next = views[(bk.seed, "client-now", 1000)], views[(bk.seed, "plain", 1000)]
        for side in ("bids", "asks"):
            for a, b in zip(at_now[side]["orders"], at_next[side]["orders"], strict=True):
                assert a["key"] == b["key"]
                edge = a["time_in_force"] > 0 and int(a["timestamp"]) + a["time_in_force"] == bk.now
                if edge:
                    seen += 1
                    assert not a["expired"] and b["expired"], (bk.seed, side, a["key"])
                else:
                    assert a["expired"] == b["expired"], (bk.seed, side, a["key"])
    assert seen > 0, "no book had an order expiring exactly at now"


# ---------------------------------------------------------------------------- EventHeap

FILL_FIELDS = {
    "taker_side": "takerSide",
    "maker_out": "makerOut",
    "maker_slot": "makerSlot",
    "timestamp": "timestamp",
    "market_seq_num": "seqNum",
    "maker": "maker",
    "maker_timestamp": "makerTimestamp",
    "taker": "taker",
    "taker_client_order_id": "takerClientOrderId",
    "price": "price",
    "peg_limit": "pegLimit",
    "quantity": "quantity",
    "maker_client_order_id": "makerClientOrderId",
}
OUT_FIELDS = {
    "side": "side",
    "owner_slot": "ownerSlot",
    "timestamp": "timestamp",
    "seq_num": "seqNum",
    "owner": "owner",
    "quantity": "quantity",
}


def test_event_heap(eng: types.ModuleType, books: list[RandomBook], views: Views) -> None:
    """The heap's header and its events from ``used_head`` along ``next``, ``count`` of
    them, as the client's ``rawEvents`` walks them, fill and out events field by field."""
    _need(eng)
    for bk in books:
        theirs = views[(bk.seed, "plain", 1000)]["event_heap"]
        ours = eng.openbook_v2.decode_event_heap(bk.event_heap)
        header = theirs["header"]
        for name in ("free_head", "used_head", "count", "seq_num"):
            assert int(_field(ours, name, "header_" + name)) == int(header[name]), (bk.seed, name)
        events = list(_field(ours, "events"))
        assert len(events) == len(theirs["events"]), bk.seed
        for i, (o, t) in enumerate(zip(events, theirs["events"], strict=True)):
            kind = "fill" if type(o).__name__ == "OpenBookFillEvent" else "out"
            assert kind == t["kind"], (bk.seed, i)
            for ours_name, their_name in (
                FILL_FIELDS if t["kind"] == "fill" else OUT_FIELDS
            ).items():
                v = getattr(o, ours_name)
                assert (str(v) if isinstance(v, str) else int(v)) == (
                    t[their_name] if isinstance(v, str) else int(t[their_name])
                ), (bk.seed, i, ours_name)


def test_written_trees_walk_in_order(books: list[RandomBook], views: Views) -> None:
    """The script's trees are ones the client walks whole and in key order (bids
    descending, asks ascending, ordertree.rs): the fixtures are well-formed books."""
    for bk in books:
        for side in ("bids", "asks"):
            view = views[(bk.seed, "plain", 1000)][side]
            keys = [int(o["key"]) for o in view["orders"]]
            assert len(keys) == view["fixed_leaf_count"], (bk.seed, side)
            assert keys == sorted(keys, reverse=side == "bids"), (bk.seed, side)
            assert view["order_tree_type"] == (0 if side == "bids" else 1)


# ---------------------------------------------------------------------------- corrupt trees

NODES_AT = 8 + 48 + 256 + 16 + 512  # bookside.rs / ordertree.rs: roots, reserved, header
NODE = 88


def _corruptions(data: bytes) -> list[tuple[str, bytes]]:
    """Well-formed book-side bytes broken in the ways a walker can trip on."""
    root = int.from_bytes(data[8:12], "little")
    count = int.from_bytes(data[12:16], "little")
    at = NODES_AT + NODE * root
    out: list[tuple[str, bytes]] = []

    def put(off: int, value: int, width: int = 4) -> bytes:
        b = bytearray(data)
        b[off : off + width] = value.to_bytes(width, "little")
        return bytes(b)

    out.append(("root out of range", put(8, 1024)))
    out.append(("root far out of range", put(8, 0xFFFF_FFFF)))
    out.append(("more leaves than the tree holds", put(12, count + 5)))
    out.append(("root slot freed", put(at, 3, 1)))
    out.append(("root slot uninitialized", put(at, 0, 1)))
    out.append(("root tag unknown", put(at, 9, 1)))
    out.append(("truncated", data[: NODES_AT + NODE * 3 + 17]))
    if data[at] == 1:  # an inner root: its children
        out.append(("child is the root (a cycle)", put(at + 24, root)))
        out.append(("right child is the root (a cycle)", put(at + 28, root)))
        out.append(("child out of range", put(at + 24, 4096)))
        out.append(
            (
                "both children the same",
                put(at + 28, int.from_bytes(data[at + 24 : at + 28], "little")),
            )
        )
    return out


@pytest.mark.slow
def test_corrupt_trees_give_typed_errors(eng: types.ModuleType, books: list[RandomBook]) -> None:
    """A book side broken as a client-written one could be (cycles, handles past the 1024
    slots, freed or unknown node tags, leaf counts the tree does not hold, short data)
    decodes or raises the engine's typed error; it never hangs or raises anything else."""
    _need(eng)
    from engine_rs.errors import EngineError

    tried = 0
    for bk in books:
        for what, data in _corruptions(bk.bids) + _corruptions(bk.asks):
            tried += 1
            calls: tuple[tuple[Any, tuple[Any, ...], dict[str, Any]], ...] = (
                (eng.openbook_v2.decode_bookside, (data,), {}),
                (eng.openbook_v2.ladder, (bk.market, data, bk.asks, bk.now), {}),
                (
                    eng.openbook_v2.ladder,
                    (bk.market, bk.bids, data, bk.now),
                    {"oracle_price_lots": 1},
                ),
            )
            for fn, args, kwargs in calls:
                try:
                    fn(*args, **kwargs)
                except EngineError:
                    pass
                except Exception as e:  # anything else is the defect
                    raise AssertionError(f"seed {bk.seed}, {what}: {type(e).__name__}: {e}") from e
    assert tried > 100


# ---------------------------------------------------------------------------- the dashboard's path


@pytest.mark.slow
def test_the_graphs_ladder_is_the_clients(
    eng: types.ModuleType, objs: OpenBookJs, books: list[RandomBook]
) -> None:
    """What the dashboard reads every frame, ``PoolGraph.ladder``, for books fed through
    ``FeedIngest`` as account notifications, is the client's L2. The graph has no clock
    of its own: it judges expiry at the newest time the accounts prove (the market's
    registration or the latest order's timestamp), so the client is asked one second
    after that (its expiry is a second late, see above); books without pegged orders (the
    graph has no oracle price)."""
    _need(eng)
    from engine_rs import decoded as D
    from feeds.sim import layouts as L

    prog = "opnb2LAfJYbRMAHHvqjCwQxanZn7ReEHp1k81EohpZb"
    token = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
    chosen = [bk for bk in books if SHAPES[bk.seed // 1000][2] == 0]
    plain = {
        bk.seed: objs_view
        for bk, objs_view in zip(
            chosen,
            objs.decode(
                [
                    {"market": bk.market, "bids": bk.bids, "asks": bk.asks, "now": 0, "depth": 1}
                    for bk in chosen
                ]
            ),
            strict=True,
        )
    }
    clocks = {}
    for bk in chosen:
        v = plain[bk.seed]
        stamps = [int(o["timestamp"]) for s in ("bids", "asks") for o in v[s]["orders"]]
        clocks[bk.seed] = max([int(v["market"]["registration_time"]), 0, *stamps])
    views = objs.decode(
        [
            {
                "market": bk.market,
                "bids": bk.bids,
                "asks": bk.asks,
                "now": clocks[bk.seed] + 1,
                "depth": 20,
            }
            for bk in chosen
        ]
    )
    for bk, view in zip(chosen, views, strict=True):
        m = view["market"]
        market_id = str(eng.b58encode(bytes([bk.seed % 251 + 1]) * 32))
        accounts = {
            market_id: bk.market,
            m["bids"]: bk.bids,
            m["asks"]: bk.asks,
            m["event_heap"]: bk.event_heap,
        }
        owners = dict.fromkeys(accounts, prog)
        for vault, mint in (
            (m["market_base_vault"], m["base_mint"]),
            (m["market_quote_vault"], m["quote_mint"]),
        ):
            accounts[vault] = L.encode_token_account(
                D.TokenAccount(mint, market_id, 10**12, None, 1, None, 0, None)
            )
            owners[vault] = token
        g = eng.PoolGraph(base_mints=[m["quote_mint"]], max_hops=3)
        ing = eng.FeedIngest(g)
        ing.track_pool(market_id, "openbook")
        for _ in range(3):
            for k in ing.watched():
                if k in accounts:
                    ing.account(k, owners[k], accounts[k], 9)
        lad = g.ladder(market_id, 20)
        assert lad is not None, bk.seed
        assert (lad.market, lad.base_mint, lad.quote_mint, lad.slot) == (
            market_id,
            m["base_mint"],
            m["quote_mint"],
            9,
        )
        _assert_same_ladder(lad, view, (bk.seed, "graph"))

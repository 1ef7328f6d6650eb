"""OpenBook v2 on the Python side and in the simulator (``feeds/venues/openbook_v2/``):
the accounts the simulator writes decode through the engine's decoders order for order
and field for field; its program fills taker orders as the engine's exact taker math
says, both ways; it refuses with the program's codes; its makers keep a two-sided book
around the fair price that moves with it."""

from __future__ import annotations

import dataclasses
import types
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solders.pubkey import Pubkey

from feeds import venues
from feeds.sim import orderbook as ob
from feeds.sim.state import Pool
from feeds.sim.venue import ProgramError
from feeds.sim.world import World, WorldConfig
from feeds.venues import Leg, openbook_v2
from feeds.venues.openbook_v2 import sim as openbook_v2_sim
from feeds.wire import instructions as I
from tests.support.jsbook import MARKET_INTS, heap_fill, heap_out
from tests.support.pools import BOOKS_SEED as SEED
from tests.support.pools import booked_world

# the Market's numbers the decoded record carries (the client's, MARKET_INTS, but for
# the fees and volumes the venue does not read)
RECORD_INTS = tuple(
    n
    for n in MARKET_INTS
    if n
    not in (
        "fees_to_referrers",
        "referrer_rebates_accrued",
        "fees_available",
        "maker_volume",
        "max_staleness_slots",
    )
)


@pytest.fixture(scope="module")
def world() -> World:
    return booked_world()


def _books(w: World) -> list[Pool]:
    return [p for p in w.pools if p.kind == openbook_v2.IDS.kind]


def _key(raw: bytes) -> str:
    return str(Pubkey.from_bytes(raw))


def test_make_runs_market_has_books_beside_amm_pools_on_sol_pairs(world: World) -> None:
    books = _books(world)
    assert len(books) >= 3
    sol = world.bases[0]
    pairs = {frozenset((p.mint_a, p.mint_b)) for p in world.pools if p.kind != "openbook"}
    assert all(frozenset((b.mint_a, b.mint_b)) in pairs for b in books)
    assert any(sol in (b.mint_a, b.mint_b) for b in books)


def test_the_market_account_decodes_field_for_field(world: World, eng: types.ModuleType) -> None:
    for pool in _books(world):
        st: openbook_v2_sim.Book = pool.spec.state
        m = st.market
        acc = world.accounts[pool.address]
        assert acc.owner == openbook_v2.PROGRAM and len(acc.data) == 848
        rec = eng.openbook_v2.decode_market(acc.data, openbook_v2.PROGRAM)
        for name in (
            "market_authority",
            "collect_fee_admin",
            "bids",
            "asks",
            "event_heap",
            "base_mint",
            "quote_mint",
            "market_base_vault",
            "market_quote_vault",
        ):
            assert getattr(rec, name) == _key(getattr(m, name)), name
        for name in RECORD_INTS:
            assert getattr(rec, name) == getattr(m, name), name
        for name in ("open_orders_admin", "oracle_a", "oracle_b"):
            assert getattr(rec, name) is None, name  # unset NonZeroPubkeyOption
        with pytest.raises(Exception, match=r"owner|program"):
            eng.openbook_v2.decode_market(acc.data, I.SPL_TOKEN)


def _decoded_orders(rec: Any) -> list[Any]:
    return list(rec.orders)


def test_the_book_sides_decode_order_for_order(world: World, eng: types.ModuleType) -> None:
    for pool in _books(world):
        st: openbook_v2_sim.Book = pool.spec.state
        for side, address in ((st.bids, st.bids_address), (st.asks, st.asks_address)):
            data = world.accounts[address].data
            assert data == side.data() and len(data) == ob.BOOKSIDE_LEN
            rec = eng.openbook_v2.decode_bookside(data, openbook_v2.PROGRAM)
            got = _decoded_orders(rec)
            fixed = [leaf for _, leaf in side.iter_tree(ob.FIXED)]
            pegged = [leaf for _, leaf in side.iter_tree(ob.ORACLE_PEGGED)]
            assert len(got) == len(fixed) + len(pegged)
            by_key = {int(o.key): o for o in got}
            for leaf in [*fixed, *pegged]:
                o = by_key[leaf.key]
                assert (
                    o.owner,
                    o.quantity,
                    o.timestamp,
                    o.time_in_force,
                    o.owner_slot,
                    o.peg_limit,
                    o.client_order_id,
                ) == (
                    _key(leaf.owner),
                    leaf.quantity,
                    leaf.timestamp,
                    leaf.time_in_force,
                    leaf.owner_slot,
                    leaf.peg_limit,
                    leaf.client_order_id,
                )
            # the fixed orders in the program's order: best first
            keys = [int(o.key) for o in got if int(o.key) in {f.key for f in fixed}]
            assert keys == [f.key for f in fixed]


def test_the_ladder_sums_the_valid_orders_by_price(world: World, eng: types.ModuleType) -> None:
    for pool in _books(world):
        st: openbook_v2_sim.Book = pool.spec.state
        m = st.market
        acc = world.accounts
        lad = eng.openbook_v2.ladder(
            acc[pool.address].data,
            acc[st.bids_address].data,
            acc[st.asks_address].data,
            st.now,
            depth=100,
        )
        for levels, side in ((lad.bids, st.bids), (lad.asks, st.asks)):
            want: dict[int, list[int]] = {}
            for _, leaf in side.iter_tree(ob.FIXED):  # no oracle: pegged orders sit out
                if not leaf.is_expired(st.now):
                    want.setdefault(leaf.price_data, []).append(leaf.quantity)
            prices = sorted(want, reverse=side is st.bids)
            assert [lv.price_lots for lv in levels] == prices
            assert [lv.size_lots for lv in levels] == [sum(want[p]) for p in prices]
            assert [lv.orders for lv in levels] == [len(want[p]) for p in prices]
        assert lad.bids and lad.asks and lad.best_bid is not None and lad.best_ask is not None
        assert lad.best_bid < lad.best_ask
        del m


def _leg(pool: Pool, a_to_b: bool, amount: int, minimum: int, me: str) -> Leg:
    tin, tout = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    programs = {pool.mint_a: I.SPL_TOKEN, pool.mint_b: I.SPL_TOKEN}
    src, dst = I.ata_address(me, tin), I.ata_address(me, tout)
    return Leg(pool.address, pool.record, me, tin, tout, src, dst, amount, minimum, programs)


def _swap(leg: Leg) -> I.Swap:
    ix = openbook_v2.swap_instruction(leg)
    return openbook_v2.decode_swap(bytes(ix.data), [str(m.pubkey) for m in ix.accounts])


@pytest.mark.parametrize("a_to_b", [True, False])
def test_the_simulated_program_fills_a_hop_as_the_world_quotes_it(
    world: World, a_to_b: bool
) -> None:
    me = str(Pubkey.new_unique())
    world.credit_lamports(me, 10**9)  # the penalty the event heap's new fills cost
    for pool in _books(world):
        depth = openbook_v2_sim._depth(pool, a_to_b)
        amount = int(depth * 0.3)
        q = world.quote_swap(pool, a_to_b, amount)
        assert q is not None
        # a sell: a minimum 1% under the quote, as a live order's slippage allows (the
        # price limit it gives, every lot at that price or better, is past the walk's last
        # level); a buy: the quote's own lots, as the live executor asks an exact buy
        minimum = q.out * 99 // 100 if a_to_b else q.out
        s = _swap(_leg(pool, a_to_b, amount, minimum, me))
        assert s.a_to_b == a_to_b and s.order[5] == openbook_v2.TAKE_LIMIT
        assert s.order[4] == ob.IMMEDIATE_OR_CANCEL
        got = openbook_v2_sim._take(world, pool, s, a_to_b)
        # the hop's order gets what the market order gets on the same book (a buy through
        # several levels too: no price limit from the average stops it short)
        assert (got.paid_in, got.out) == (q.paid_in, q.out) and got.out >= minimum
        m = pool.spec.state.market
        unit = m.base_lot_size if a_to_b else m.quote_lot_size
        assert q.paid_in <= amount
        if a_to_b:  # what is below a base lot stays with the seller
            assert amount - q.paid_in < unit


def test_a_sell_below_its_minimum_fills_what_the_book_holds_at_its_limit(world: World) -> None:
    """Immediate-or-cancel (the deployed program has no fill-or-kill): a sell asking twice
    its quote fills only the lots the bids hold at its limit (none here) and lands; more
    than the whole book fills the whole book, the rest stays with the seller."""
    me = str(Pubkey.new_unique())
    world.credit_lamports(me, 10**9)
    pool = _books(world)[0]
    amount = int(openbook_v2_sim._depth(pool, True) * 0.3)
    q = world.quote_swap(pool, True, amount)
    assert q is not None
    got = openbook_v2_sim._take(world, pool, _swap(_leg(pool, True, amount, q.out * 2, me)), True)
    assert got.out < q.out and got.paid_in < amount
    assert openbook_v2.ERRORS[6043] == "WouldExecutePartially"  # v0.2.1's, never met here
    depth = openbook_v2_sim._depth(pool, True)
    s = _swap(_leg(pool, True, int(depth * 2), 1, me))
    got = openbook_v2_sim._take(world, pool, s, True)
    assert got.paid_in <= depth < int(depth * 2)


def test_a_buy_gets_the_lots_of_its_minimum_never_more(world: World) -> None:
    me = str(Pubkey.new_unique())
    world.credit_lamports(me, 10**9)
    for pool in _books(world):
        m = pool.spec.state.market
        amount = int(openbook_v2_sim._depth(pool, False) * 0.3)
        q = world.quote_swap(pool, False, amount)
        assert q is not None and q.out > m.base_lot_size
        # a minimum under the quote: exactly the lots it needs, for less than the budget
        minimum = q.out * 99 // 100
        got = openbook_v2_sim._take(
            world, pool, _swap(_leg(pool, False, amount, minimum, me)), False
        )
        lots = -(-minimum // m.base_lot_size)
        assert got.out == lots * m.base_lot_size >= minimum
        assert got.paid_in <= q.paid_in
        # one lot more than the budget buys: the lots the budget buys, fewer than asked
        # (the program has no minimum output: the hop after it then finds its input short)
        over = q.out + m.base_lot_size
        got = openbook_v2_sim._take(world, pool, _swap(_leg(pool, False, amount, over, me)), False)
        assert got.out == q.out < over
    assert openbook_v2.VENUE.exact_buy


def test_wrong_accounts_and_arguments_get_the_programs_codes(world: World) -> None:
    me = str(Pubkey.new_unique())
    pool = _books(world)[0]
    leg = _leg(pool, True, 10**6, 1, me)
    s = _swap(leg)
    src, dst = (world.token_account(pool.vault_a), world.token_account(pool.vault_b))
    assert src is not None and dst is not None
    check = openbook_v2_sim.SIM.program.check
    assert check(world, s, pool, src, dst) is True

    def with_account(name: str, key: str) -> I.Swap:
        return dataclasses.replace(s, accounts={**s.accounts, name: key})

    other = str(Pubkey.new_unique())
    for name, code in (
        ("bids", 2001),
        ("asks", 2001),
        ("event_heap", 2001),
        ("market_base_vault", 2001),
        ("market_authority", 2001),
        ("oracle_a", 2003),
        ("open_orders_admin", 6017),
        ("token_program", 3008),
    ):
        with pytest.raises(ProgramError) as err:
            check(world, with_account(name, other), pool, src, dst)
        assert err.value.code == code, name
    with pytest.raises(ProgramError) as err:  # a user account of another mint
        check(world, s, pool, dst, src)
    assert err.value.code == 2014
    # a fill-or-kill order: the deployed program cannot deserialize it (Anchor's 102),
    # before it reads an account
    fok = dataclasses.replace(s, order=(*s.order[:4], ob.FILL_OR_KILL, s.order[5]))
    with pytest.raises(ProgramError) as err:
        check(world, fok, pool, dst, src)
    assert err.value.code == 102
    for order, code in (
        ((1, 0, 1, 1, 1, 40), 6008),
        ((1, 1, 1, 1, 0, 40), 6010),
        ((1, 1, -1, 1, 1, 40), 6004),
    ):
        with pytest.raises(ProgramError) as err:
            openbook_v2_sim._take(world, pool, dataclasses.replace(s, order=order), True)
        assert err.value.code == code
        assert code in openbook_v2.ERRORS


@pytest.mark.slow
def test_the_makers_keep_a_two_sided_book_around_the_moving_fair_price() -> None:
    w = World(WorldConfig(seed=SEED, tokens=16, pools=48))
    books = _books(w)
    seen_expired = consumed = near = seen = 0
    moved: dict[str, set[tuple[int, int]]] = {p.address: set() for p in books}
    # a book on a pegged pair (mSOL/SOL at this seed: the world keeps a liquid staking
    # token at its SOL rate, USDT at USDC's) has a fair price that does not move
    pegged = {frozenset((m, anchor)) for m, (anchor, _) in w.pegs.items()}
    fixed = {p.address: w.fair_price(p) for p in books if frozenset((p.mint_a, p.mint_b)) in pegged}
    for _ in range(150):
        w.step()
        for p in books:
            st: openbook_v2_sim.Book = p.spec.state
            bid, ask = openbook_v2_sim.best(st.bids, st.now), openbook_v2_sim.best(st.asks, st.now)
            assert bid is not None and ask is not None and bid < ask
            off = abs(openbook_v2_sim._price(p) / w.fair_price(p) - 1)
            # the makers requote every few slots: after a jump of the fair price (the
            # world's shocks move it by a few %) the book is behind it for a slot or three
            assert off < 0.05
            near += off < 0.01
            seen += 1
            moved[p.address].add((bid, ask))
            seen_expired += sum(leaf.is_expired(st.now) for _, leaf in st.bids.iter_tree(ob.FIXED))
            consumed += st.heap.header()[3] - len(st.heap)
    assert near >= 0.95 * seen  # around the fair price, but for the slots after a jump
    # the best prices move with the fair price; on a pegged pair neither does
    assert all(len(v) > 10 for a, v in moved.items() if a not in fixed)
    assert fixed and len(books) - len(fixed) >= 3  # both kinds of book are seen
    assert all(
        w.fair_price(p) == pytest.approx(fixed[p.address], rel=1e-9)
        for p in books
        if p.address in fixed
    )
    assert seen_expired > 0 and consumed > 0
    # the venue's draws are its own: the market's other pools trade as without books
    assert venues.by_kind("openbook") is openbook_v2.VENUE


def test_the_event_heap_decodes_event_for_event(world: World, eng: types.ModuleType) -> None:

    held = 0
    for pool in _books(world):
        st: openbook_v2_sim.Book = pool.spec.state
        data = world.accounts[st.heap_address].data
        assert data == st.heap.data() and len(data) == ob.EVENT_HEAP_LEN
        rec = eng.openbook_v2.decode_event_heap(data, openbook_v2.PROGRAM)
        free, used, count, seq = st.heap.header()
        assert (rec.free_head, rec.used_head, rec.count, rec.seq_num) == (free, used, count, seq)
        assert [e.slot for e in rec.events] == st.heap.slots()
        for e in rec.events:
            raw = st.heap.event(e.slot)
            if raw[0] == ob.FILL:
                assert (
                    e.taker_side,
                    e.maker_out,
                    e.maker_slot,
                    e.timestamp,
                    e.market_seq_num,
                    e.maker,
                    e.maker_timestamp,
                    e.taker,
                    e.taker_client_order_id,
                    e.price,
                    e.peg_limit,
                    e.quantity,
                    e.maker_client_order_id,
                ) == heap_fill(raw)
            else:
                out = (e.side, e.owner_slot, e.timestamp, e.seq_num, e.owner, e.quantity)
                assert out == heap_out(raw)
            held += 1
    assert held > 0  # the traders' fills wait for the cranker


def test_a_taker_order_moves_the_vaults_and_pays_no_event_heap_penalty() -> None:
    # place_take_order.rs: the deposit into one vault, the withdrawal from the other; the
    # deployed program's PENALTY_EVENT_HEAP is 0 (v0.2.10's source: 500 lamports from the
    # penalty payer to the market when the order added events to the heap)
    w = World(WorldConfig(seed=SEED, tokens=16, pools=48, trades_per_slot=0))
    pool = _books(w)[0]
    me = str(Pubkey.new_unique())
    w.credit_lamports(me, 10**9)
    st: openbook_v2_sim.Book = pool.spec.state
    amount = int(openbook_v2_sim._depth(pool, False) * 0.2)
    s = _swap(_leg(pool, False, amount, 1, me))
    q = openbook_v2_sim._take(w, pool, s, False)
    before = (
        w.lamports(me),
        w.lamports(pool.address),
        w.balance(pool.vault_a),
        w.balance(pool.vault_b),
        len(st.heap),
        st.market.seq_num,
    )
    w.commit_swap(pool, False, q, "sig")
    st = pool.spec.state  # a new Book: the runtime's undo keeps the old one
    fills = q.after.take.fills
    assert fills > 0 and len(st.heap) == before[4] + fills
    assert ob.PENALTY_EVENT_HEAP == 0
    assert (w.lamports(me), w.lamports(pool.address)) == (before[0], before[1])
    assert w.balance(pool.vault_b) == before[3] + q.paid_in  # quote in (a bid)
    assert w.balance(pool.vault_a) == before[2] - q.out  # base out
    assert st.market.seq_num == before[5] + 1  # gen_order_id, even for a take
    assert st.market.quote_deposit_total == w.balance(pool.vault_b)
    assert st.market.base_deposit_total == w.balance(pool.vault_a)
    assert w.accounts[pool.address].data == st.market.pack()


STATELESS_FIXTURE = [HealthCheck.function_scoped_fixture]


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=STATELESS_FIXTURE)
@given(st.data())
def test_the_simulated_program_fills_as_the_engines_exact_taker_math(
    eng: types.ModuleType, data: st.DataObject
) -> None:
    """Random books written by the simulator's encoder (fixed orders, some expired, the
    program's inserts and removes), random takes both ways: the simulator's program and
    the engine's ``openbook_v2.take`` on the same bytes move the same amounts."""
    d = data.draw
    bls = 10 ** d(st.integers(0, 4))
    qls = 10 ** d(st.integers(0, 2))
    taker = d(st.sampled_from([0, 200, 400, 1_000]))
    maker = -d(st.integers(0, taker))
    m = ob.MarketState(
        1,
        6,
        6,
        bytes(32),
        0,
        bytes(32),
        bytes(32),
        bytes(32),
        bytes(32),
        b"H",
        bytes(32),
        bytes(32),
        bytes(32),
        bytes(32),
        bytes(32),
        0.0,
        -1,
        qls,
        bls,
        0,
        0,
        maker,
        taker,
        0,
        0,
        0,
        0,
        0,
        0,
        bytes([1] * 32),
        bytes([2] * 32),
        bytes(32),
        10**15,
        bytes(32),
        10**15,
    )
    now = 1_000
    sides = {ob.BIDS: ob.BookSide.new(ob.BIDS), ob.ASKS: ob.BookSide.new(ob.ASKS)}
    for tree_type, lo, hi in ((ob.BIDS, 900, 1_000), (ob.ASKS, 1_001, 1_100)):
        side = sides[tree_type]
        keys = []
        for _ in range(d(st.integers(0, 60))):
            m.seq_num += 1
            tif = d(st.sampled_from([0, 0, 0, 5, 50]))
            leaf = ob.Leaf(
                ob.new_node_key(side.side, d(st.integers(lo, hi)), m.seq_num),
                bytes([m.seq_num % 256] * 32),
                d(st.integers(1, 500)),
                d(st.integers(940, 1_000)),
                m.seq_num % 24,
                tif,
                -1,
                m.seq_num,
            )
            side.insert_leaf(ob.FIXED, leaf)
            keys.append(leaf.key)
        for key in d(st.lists(st.sampled_from(keys), unique=True, max_size=10)) if keys else []:
            side.remove_by_key(ob.FIXED, key)
    a_to_b = d(st.booleans())
    amount = d(st.integers(0, 200 * 1_100 * 60 * max(bls, qls)))
    limit = d(st.sampled_from([0, 1, 3, 50, 255]))
    heap = ob.EventHeap.new()
    book = eng.openbook_v2.book(
        m.pack(), sides[ob.BIDS].data(), sides[ob.ASKS].data(), now, heap.data()
    )
    fill = eng.openbook_v2.take(book, amount, a_to_b, limit)
    if a_to_b:
        args = (ob.ASK, 1, amount // bls, m.max_quote_lots(), ob.MARKET, limit)
    else:
        args = (ob.BID, 1, m.max_base_lots(), amount // qls, ob.MARKET, limit)
    t = ob.take(m, sides[ob.BIDS], sides[ob.ASKS], heap, args[0], *args[1:], now, bytes(32))
    assert (fill.amount_in, fill.amount_out, fill.base_lots, fill.quote_lots) == (
        t.deposit,
        t.withdraw,
        t.base_lots,
        t.quote_lots,
    )
    assert (fill.taker_fee, fill.maker_rebates, fill.orders, fill.events) == (
        t.taker_fees,
        t.makers_rebates,
        t.fills,
        t.events_added,
    )

"""OpenBook v2's simulated program (the simulator's part of
:mod:`feeds.venues.openbook_v2`; only the simulator and tests import it): each market a
:class:`Book` in its pool's spec holding its ``Market``, ``BookSide`` and ``EventHeap``
as the program's bytes (:mod:`feeds.sim.orderbook`), ``place_take_order``'s checks and
matching, its makers quoting around the fair price and its cranker (:data:`SIM`).

The program simulated is the one deployed on mainnet (the build dumped there in 2024,
``openbook_v2-mainnet-2024.so``, judged in ``tests/judge/test_openbook_v2.py``): a
``FillOrKill`` order does not deserialize (Anchor's 102: v0.2.1's source added it), no
event-heap penalty is charged, no ``TakerSignatureLog`` is logged, a fill event carries
the heap's sequence number (:mod:`feeds.sim.orderbook`)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import math
import random
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from solders.pubkey import Pubkey

from ...sim import orderbook as ob
from ...sim import venue as sv
from ...sim.state import Pool, sim_key
from ...sim.venue import ProgramError
from ...wire.instructions import SPL_TOKEN, SYSTEM_PROGRAM, Swap, ata_address
from . import (
    ASK,
    BID,
    COMPUTE_UNITS,
    IDS,
    INVALID_INPUT_LOTS_SIZE,
    INVALID_OPEN_ORDERS_ADMIN,
    MARKET_LEN,
    PROGRAM,
    TAKE_LIMIT,
    VENUE,
    WOULD_EXECUTE_PARTIALLY,
    decode_pool,
    market_authority,
)
from .layout import _b

if TYPE_CHECKING:
    from ...sim import synthetic
    from ...sim.world import SwapQuote, World


# anchor-lang ErrorCode (the numbers anchorpy's and Anchor's own tables give)
ANCHOR_CONSTRAINT_HAS_ONE = 2001
ANCHOR_CONSTRAINT_RAW = 2003
ANCHOR_CONSTRAINT_TOKEN_MINT = 2014
ANCHOR_INVALID_PROGRAM_ID = 3008
ANCHOR_INSTRUCTION_DID_NOT_DESERIALIZE = 102


# ------------------------------------------------------------------ simulator: layouts
def market_state(r: Any) -> ob.MarketState:
    """A decoded ``Market`` (the engine's record: keys in base58, unset options None, the
    name without its zero padding) as the simulator's :class:`~feeds.sim.orderbook.MarketState`."""

    def key(k: str | None) -> bytes:
        return ob.ZERO32 if k is None else _b(k)

    return ob.MarketState(
        r.bump,
        r.base_decimals,
        r.quote_decimals,
        key(r.market_authority),
        r.time_expiry,
        key(r.collect_fee_admin),
        key(r.open_orders_admin),
        key(r.consume_events_admin),
        key(r.close_market_admin),
        r.name.encode(),
        key(r.bids),
        key(r.asks),
        key(r.event_heap),
        key(r.oracle_a),
        key(r.oracle_b),
        r.conf_filter,
        r.max_staleness_slots,
        r.quote_lot_size,
        r.base_lot_size,
        r.seq_num,
        r.registration_time,
        r.maker_fee,
        r.taker_fee,
        r.fees_accrued,
        r.fees_to_referrers,
        r.referrer_rebates_accrued,
        r.fees_available,
        r.maker_volume,
        r.taker_volume_wo_oo,
        key(r.base_mint),
        key(r.quote_mint),
        key(r.market_base_vault),
        r.base_deposit_total,
        key(r.market_quote_vault),
        r.quote_deposit_total,
    )


def encode_market(r: Any) -> bytes:
    """OpenBook v2 ``Market`` (848 bytes) from its decoded record."""
    return market_state(r).pack()


# ------------------------------------------------------------------ simulator: the book
LEVELS = 6  # price levels the makers keep each side
MAKERS = 3  # open-orders accounts quoting each market
CRANK_EVERY = 4  # slots between the cranker's consume_events
REQUOTE_CHANCE = 0.25  # a market's makers requote about every fourth slot by default
MAX_OPEN_ORDERS = 24  # an OpenOrdersAccount's order slots (state/open_orders_account.rs)


def now_ts(world: World) -> int:
    """The simulated clock's unix time (``Clock::unix_timestamp``: the world's Clock
    sysvar)."""
    return world.unix_time()


@dataclass(slots=True)
class Book:
    """One simulated market: its accounts' state as the program holds it, where they
    live, and its makers' parameters (prices in lots: quote lots per base lot)."""

    address: str
    bids_address: str
    asks_address: str
    heap_address: str
    market: ob.MarketState
    bids: ob.BookSide
    asks: ob.BookSide
    heap: ob.EventHeap
    makers: list[bytes]
    step: int  # lots between levels
    half: int  # lots from the fair price to the best level
    size: int  # base lots of a level's typical order
    rng: random.Random
    now: int = 0
    placed: int = 0
    last_fills: int = 0  # the last taker order's fills and expired orders it dropped
    last_dropped: int = 0
    last_events: str = ""  # the last taker order's event lines (:func:`order_events`)
    mid: float = 0.0  # the last mid (native units of b per unit of a)
    quiet: bool = False  # its makers hold still (a test's market that moves when told)
    pool: Pool | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class After:
    """A taker order's result on copies of the book (``SwapQuote.after``)."""

    market: ob.MarketState
    bids: ob.BookSide
    asks: ob.BookSide
    heap: ob.EventHeap
    take: ob.Take
    penalty_payer: str | None
    taker: bytes = ob.ZERO32


def _book(pool: Pool) -> Book:
    book: Book = pool.spec.state
    return book


def _run(
    world: World,
    pool: Pool,
    side: int,
    args: tuple[int, int, int, int, int, int],
    taker: bytes,
    payer: str | None,
) -> After:
    b = _book(pool)
    m = dataclasses.replace(b.market)
    bids, asks, heap = b.bids.copy(), b.asks.copy(), b.heap.copy()
    _, price, base_lots, quote_lots, order_type, limit = args
    t = ob.take(
        m,
        bids,
        asks,
        heap,
        side,
        price,
        base_lots,
        quote_lots,
        order_type,
        limit,
        now_ts(world),
        taker,
    )
    return After(m, bids, asks, heap, t, payer if t.events_added else None, taker)


def _quote(world: World, pool: Pool, a_to_b: bool, amount: int) -> SwapQuote | None:
    """The market's traders: a market order of ``amount`` (base lots selling, quote lots
    with fees buying); None when nothing would come out."""
    from ...sim.world import SwapQuote

    m = _book(pool).market
    if a_to_b:
        args = (ASK, 1, amount // m.base_lot_size, m.max_quote_lots(), ob.MARKET, TAKE_LIMIT)
    else:
        args = (BID, 1, m.max_base_lots(), amount // m.quote_lot_size, ob.MARKET, TAKE_LIMIT)
    try:
        after = _run(world, pool, args[0], args, ob.ZERO32, None)
    except ob.TakeRefused:
        return None
    t = after.take
    if t.withdraw <= 0 or t.deposit <= 0 or t.withdraw > world.balance(_out_vault(pool, a_to_b)):
        return None
    return SwapQuote(t.deposit, t.withdraw, after=after)


def _take(world: World, pool: Pool, s: Swap, a_to_b: bool) -> SwapQuote:
    """The program's ``place_take_order`` on the decoded instruction (``Swap.order``)."""
    from ...sim.world import SwapQuote

    signer, payer = s.accounts["signer"], s.accounts["penalty_payer"]
    try:
        after = _run(world, pool, s.order[0], s.order, _b(signer), payer)  # type: ignore[arg-type]
    except ob.TakeRefused as exc:
        raise ProgramError(exc.code) from None
    if after.penalty_payer is not None and world.lamports(payer) < ob.PENALTY_EVENT_HEAP:
        raise ProgramError(1)  # the system program's transfer: insufficient lamports
    if after.take.withdraw > world.balance(_out_vault(pool, a_to_b)):
        raise ProgramError(1)  # the vault's transfer out: SPL Token's InsufficientFunds
    return SwapQuote(after.take.deposit, after.take.withdraw, after=after)


def _out_vault(pool: Pool, a_to_b: bool) -> str:
    return pool.vault_b if a_to_b else pool.vault_a


def _write(world: World, address: str, data: bytes) -> None:
    acc = world.accounts[address]
    if acc.data != data:
        acc.data = data
        world._touched.append(address)


def _apply(world: World, pool: Pool, a_to_b: bool, q: SwapQuote, kept: int) -> None:
    """The book after the order: the market, the book sides, the event heap; the
    penalty's lamports to the market (the runtime moves the tokens)."""
    after: After = q.after
    # a new Book in the spec (the old one untouched): the runtime's undo of a failed
    # transaction puts the spec it copied back
    b = dataclasses.replace(_book(pool), market=after.market, heap=after.heap)
    b.bids, b.asks, b.last_fills = after.bids, after.asks, after.take.fills
    b.last_dropped = after.take.dropped
    b.last_events = order_events(b, a_to_b, after)
    pool.spec.state = b
    _write(world, b.bids_address, b.bids.data())
    _write(world, b.asks_address, b.asks.data())
    _write(world, b.heap_address, b.heap.data())
    world.accounts[b.address].data = b.market.pack()
    if after.penalty_payer is not None:
        world.credit_lamports(after.penalty_payer, -ob.PENALTY_EVENT_HEAP)
        world.credit_lamports(b.address, ob.PENALTY_EVENT_HEAP)
    pool.record = _record(world, b)


DISC_TAKER_SIGNATURE_LOG = hashlib.sha256(b"event:TakerSignatureLog").digest()[:8]
DISC_TOTAL_ORDER_FILL = hashlib.sha256(b"event:TotalOrderFillEvent").digest()[:8]


def order_events(b: Book, ask: bool, after: After) -> str:
    """What ``Orderbook::new_order`` logs of a taker order (``state/orderbook/book.rs``,
    ``logs.rs``; ``Program data:`` lines apart by newlines): when anything matched, a
    ``TotalOrderFillEvent``: side, taker, what it paid and received *as the book counts
    them* (the whole taker fee: ``place_take_order`` charges its caller only the makers'
    rebates, but this event is the book's), the taker fee. (v0.2.10 logs a
    ``TakerSignatureLog`` before each fill too; the deployed program does not.)"""
    t = after.take
    lines = []
    if t.base_lots > 0 or t.quote_lots > 0:
        paid, got = (
            (t.base_native, t.quote_native - t.taker_fees)
            if ask
            else (t.quote_native + t.taker_fees, t.base_native)
        )
        body = struct.pack("<B32sQQQ", ASK if ask else BID, after.taker, paid, got, t.taker_fees)
        lines.append(_data(DISC_TOTAL_ORDER_FILL + body))
    return "\n".join(lines)


def _data(raw: bytes) -> str:
    return "Program data: " + base64.b64encode(raw).decode()


def _event(
    world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int, before: tuple[int, int, int]
) -> str:
    return _book(pool).last_events


def _record(world: World, b: Book) -> Any:
    return decode_pool(world.eng, b.market.pack(), PROGRAM)


def best(side: ob.BookSide, now: int) -> int | None:
    """The best valid price in lots (None: no valid order): ``iter_all`` without an
    oracle price, whose orders are the fixed tree's, read straight from it."""
    for _, leaf in side.iter_tree(ob.FIXED):
        if not leaf.is_expired(now):
            return leaf.price_data
    return None


def _mid(b: Book) -> float:
    bid, ask = best(b.bids, b.now), best(b.asks, b.now)
    if bid is None and ask is None:
        return b.mid
    lots = (bid + ask) / 2 if bid is not None and ask is not None else (bid or ask or 0)
    return lots * b.market.quote_lot_size / b.market.base_lot_size


def _price(pool: Pool) -> float:
    return _mid(_book(pool))


def _depth(pool: Pool, a_to_b: bool) -> float:
    """What one side can take: base (native) the bids absorb, quote the asks ask for."""
    b = _book(pool)
    m = b.market
    if a_to_b:
        return float(
            sum(i.leaf.quantity for i in b.bids.iter_all(b.now) if i.valid) * m.base_lot_size
        )
    return float(
        sum(i.leaf.quantity * i.price_lots for i in b.asks.iter_all(b.now) if i.valid)
        * m.quote_lot_size
    )


# ------------------------------------------------------------------ simulator: makers
def _place(b: Book, side: int, price: int, qty: int, owner: bytes, tif: int) -> None:
    """A maker's resting limit order that crosses nothing (``place_order`` posting all of
    it): a new ``seq_num``, the key, the leaf in the fixed tree."""
    m = b.market
    m.seq_num += 1
    key = ob.new_node_key(side, price, m.seq_num)
    slot = b.placed % MAX_OPEN_ORDERS
    b.placed += 1
    leaf = ob.Leaf(key, owner, qty, b.now, slot, tif, -1, m.seq_num)
    (b.bids if side == BID else b.asks).insert_leaf(ob.FIXED, leaf)


def _requote(b: Book, fair_lots: float) -> None:
    """Cancel what is stale (past the fair price, or now and then any order; an expired
    order now and then) and fill the levels back: ``LEVELS`` each side, ``half`` lots
    from the fair price, ``step`` apart, one or two orders a level."""
    r = b.rng
    for side, book in ((BID, b.bids), (ASK, b.asks)):
        edge = fair_lots - b.half / 2 if side == BID else fair_lots + b.half / 2
        held = set()  # the prices of the valid orders left (``iter_all``'s, no oracle)
        for _, leaf in list(book.iter_tree(ob.FIXED)):
            price = leaf.price_data
            stale = price >= edge if side == BID else price <= edge
            expired = leaf.is_expired(b.now)
            gone = r.random() < (0.15 if expired else 0.06)
            if stale or gone:
                book.remove_by_key(ob.FIXED, leaf.key)
            elif not expired:
                held.add(price)
        for j in range(LEVELS):
            off = b.half + j * b.step
            price = round(fair_lots - off if side == BID else fair_lots + off)
            if price < 1 or price in held or r.random() < 0.1:
                continue
            for _ in range(2 if r.random() < 0.3 else 1):
                qty = max(1, int(b.size * (1 + 0.4 * j) * r.lognormvariate(0.0, 0.5)))
                tif = r.randint(8, 60) if r.random() < 0.2 else 0
                _place(b, side, price, qty, r.choice(b.makers), tif)


def requote_chance(slot_seconds: float, every_s: float | None) -> float:
    """The chance a market's makers requote in one slot of ``slot_seconds``: about every
    fourth slot (:data:`REQUOTE_CHANCE`), or, with ``every_s``
    (``WorldConfig.book_requote_s``), the rate of one every ``every_s`` seconds."""
    if every_s is None:
        return REQUOTE_CHANCE
    return 1.0 - math.exp(-slot_seconds / every_s)


def _on_slot(world: World) -> None:
    """Each market's makers requote about every fourth slot (or every
    ``WorldConfig.book_requote_s``); the cranker consumes up to 8 events every
    ``CRANK_EVERY`` slots. The accounts that changed are written."""
    pools: list[Pool] = world.venue_state[IDS.name]
    now = now_ts(world)
    chance = requote_chance(world.config.slot_seconds, world.config.book_requote_s)
    for pool in pools:
        b = _book(pool)
        b.now = now
        assert b.pool is not None
        requote = b.rng.random() < chance and not b.quiet
        crank = world.slot % CRANK_EVERY == 0 and len(b.heap) > 0
        # only the makers and the cranker change the book here (a slot of neither: no copy)
        before = (
            (b.bids.data(), b.asks.data(), b.heap.data(), b.market.seq_num)
            if requote or crank
            else None
        )
        if requote:
            fair = world.fair_price(b.pool) * b.market.base_lot_size / b.market.quote_lot_size
            _requote(b, fair)
        if crank:
            ob.consume_events(b.market, b.heap, 8)
        b.mid = _mid(b)
        if before is not None and (
            (b.bids.data(), b.asks.data(), b.heap.data(), b.market.seq_num) != before
        ):
            _write(world, b.bids_address, b.bids.data())
            _write(world, b.asks_address, b.asks.data())
            _write(world, b.heap_address, b.heap.data())
            _write(world, b.address, b.market.pack())
            b.pool.record = _record(world, b)


def _setup(world: World) -> Any:
    """The simulated markets' pools, kept by the world (the makers' per-slot part reads
    each one's ``Book`` from its spec)."""
    return []


def _takes(spec: synthetic.PoolSpec) -> bool:
    return spec.venue == IDS.name


def lot_sizes(price: float) -> tuple[int, int]:
    """(base_lot_size, quote_lot_size) for a market near ``price`` (native b per native
    a): powers of ten giving prices of 20,000 to 200,000 quote lots per base lot."""
    k = max(0, math.ceil(math.log10(2e5 / price)))
    return 10**k, 10


def _create(world: World, i: int, spec: synthetic.PoolSpec) -> Pool:
    """A market of the spec's pair (base a, quote b) at a deterministic keypair address,
    its book sides and event heap, its authority's ATAs as vaults (funded with the
    spec's reserves: the makers' deposits), and the makers' first quotes."""
    base, quote = spec.mint_a, spec.mint_b
    addr = sim_key("openbook-market", i)
    bids_a, asks_a, heap_a = (sim_key(f"openbook-{n}", i) for n in ("bids", "asks", "heap"))
    auth, bump = market_authority(addr)
    va, vb = ata_address(auth, base), ata_address(auth, quote)
    rng = random.Random(f"openbook:{world.config.seed}:{i}")
    price = spec.reserve_b / spec.reserve_a
    bls, qls = lot_sizes(price)
    taker, maker = rng.choice(((400, -200), (200, 0), (0, 0), (1_000, -500)))
    dec = world.decimals if hasattr(world, "decimals") else {}
    name = f"SIM-{i}".encode()
    m = ob.MarketState(
        bump,
        dec.get(base, 9),
        dec.get(quote, 9),
        _b(auth),
        0,
        _b(sim_key("openbook-fees")),
        ob.ZERO32,
        ob.ZERO32,
        ob.ZERO32,
        name,
        _b(bids_a),
        _b(asks_a),
        _b(heap_a),
        ob.ZERO32,
        ob.ZERO32,
        0.0,
        -1,
        qls,
        bls,
        0,
        world.unix_time(),
        maker,
        taker,
        0,
        0,
        0,
        0,
        0,
        0,
        _b(base),
        _b(quote),
        _b(va),
        spec.reserve_a,
        _b(vb),
        spec.reserve_b,
    )
    fair_lots = price * bls / qls
    size = max(1, int(spec.reserve_a * 0.004 / bls))
    step = max(1, int(fair_lots * rng.uniform(0.0004, 0.0010)))
    half = max(1, int(fair_lots * rng.uniform(0.0004, 0.0012)))
    makers = [_b(sim_key("openbook-oo", i, k)) for k in range(MAKERS)]
    sides = (ob.BookSide.new(ob.BIDS), ob.BookSide.new(ob.ASKS))
    b = Book(
        addr, bids_a, asks_a, heap_a, m, *sides, ob.EventHeap.new(), makers, step, half, size, rng
    )
    b.now = now_ts(world)
    _requote(b, fair_lots)
    # one oracle-pegged order each side, as markets with an oracle have: this market has
    # none, so the program (and the ladder) passes over them
    for side, book in ((BID, b.bids), (ASK, b.asks)):
        m.seq_num += 1
        off = -3 * half if side == BID else 3 * half
        key = ob.new_node_key(side, ob.oracle_pegged_price_data(off), m.seq_num)
        book.insert_leaf(ob.ORACLE_PEGGED, ob.Leaf(key, makers[0], size, b.now, 23, 0, -1, 0))
    b.mid = _mid(b)
    spec.state = b
    spec.pool_id = addr
    world.put(addr, PROGRAM, m.pack())
    world.put(bids_a, PROGRAM, b.bids.data())
    world.put(asks_a, PROGRAM, b.asks.data())
    world.put(heap_a, PROGRAM, b.heap.data())
    world.vault(va, base, auth, spec.reserve_a)
    world.vault(vb, quote, auth, spec.reserve_b)
    pool = Pool(IDS.kind, addr, base, quote, va, vb, _record(world, b), spec)
    b.pool = pool
    world.venue_state[IDS.name].append(pool)
    return pool


def _check(world: World, s: Swap, pool: Pool, src: Any, dst: Any) -> bool:
    """The arguments as the deployed program deserializes them (a ``FillOrKill`` order:
    Anchor's 102, before any account is read), the accounts' constraints
    (``accounts_ix/place_take_order.rs``), the direction the order states (an ask sells
    base); the arguments' checks in ``lib.rs`` are the matching's."""
    if s.order[4] == ob.FILL_OR_KILL:  # Borsh: no such PlaceOrderType in the deployed program
        raise ProgramError(ANCHOR_INSTRUCTION_DID_NOT_DESERIALIZE)
    acc = s.accounts
    m = _book(pool).market
    for name, want in (
        ("market_authority", m.market_authority),
        ("bids", m.bids),
        ("asks", m.asks),
        ("event_heap", m.event_heap),
        ("market_base_vault", m.market_base_vault),
        ("market_quote_vault", m.market_quote_vault),
    ):
        if acc[name] != str(Pubkey.from_bytes(want)):
            raise ProgramError(ANCHOR_CONSTRAINT_HAS_ONE)
    for name, want in (("oracle_a", m.oracle_a), ("oracle_b", m.oracle_b)):
        given = None if acc[name] == PROGRAM else acc[name]
        if given != (None if want == ob.ZERO32 else str(Pubkey.from_bytes(want))):
            raise ProgramError(ANCHOR_CONSTRAINT_RAW)
    admin = None if acc["open_orders_admin"] == PROGRAM else acc["open_orders_admin"]
    if admin != (
        None if m.open_orders_admin == ob.ZERO32 else str(Pubkey.from_bytes(m.open_orders_admin))
    ):
        raise ProgramError(INVALID_OPEN_ORDERS_ADMIN)
    ask = s.order[0] == ASK
    base_acc, quote_acc = (src, dst) if ask else (dst, src)
    if base_acc.mint != pool.mint_a or quote_acc.mint != pool.mint_b:
        raise ProgramError(ANCHOR_CONSTRAINT_TOKEN_MINT)
    if acc["token_program"] != SPL_TOKEN or acc["system_program"] != SYSTEM_PROGRAM:
        raise ProgramError(ANCHOR_INVALID_PROGRAM_ID)
    return ask


def steps(b: Book) -> int:
    """The last taker order's steps in :data:`COMPUTE_UNITS`: the maker orders it reached
    (each fill, each expired order it dropped)."""
    return b.last_fills + b.last_dropped


def _cost(pool: Pool, tick_before: int) -> int:
    """The compute units of the last taker order (:data:`COMPUTE_UNITS`)."""
    return COMPUTE_UNITS.use(steps(_book(pool)))


def _swapped(world: World, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> str:
    return "Program log: Instruction: PlaceTakeOrder"


# rent-exempt minimums: (128 + size) * 3480 * 2 lamports (heap.rs: "Costs 0.636 SOL")
RENT = {size: (128 + size) * 6_960 for size in (MARKET_LEN, ob.BOOKSIDE_LEN, ob.EVENT_HEAP_LEN)}


def _load(world: World, pool: Pool) -> None:
    """``Program.load``: the market read back from its accounts: ``Market``, its book
    sides and event heap (a new ``Book``: the runtime's undo keeps the old one); the
    makers' own parameters stay."""
    b = _book(pool)
    data = world.accounts[pool.address].data
    new = dataclasses.replace(
        b,
        market=market_state(decode_pool(world.eng, data, PROGRAM)),
        bids=ob.BookSide(world.accounts[b.bids_address].data),
        asks=ob.BookSide(world.accounts[b.asks_address].data),
        heap=ob.EventHeap(world.accounts[b.heap_address].data),
    )
    pool.spec.state = new
    pool.record = _record(world, new)


QUOTE_ERROR = sv.always(INVALID_INPUT_LOTS_SIZE)
RUNS = sv.Program(_check, QUOTE_ERROR, WOULD_EXECUTE_PARTIALLY, _cost, "PlaceTakeOrder", _load)
MARKET = sv.Market(_setup, _takes, _create, _swapped, 0.15, "cpmm", beside=True, on_slot=_on_slot)
LOGS = sv.Logs(_event, zero_transfers=False)  # token_utils.rs makes no transfer of nothing
SIM = sv.SimVenue(
    VENUE, RUNS, MARKET, RENT, sv.Curve(_quote, _apply, _price, _depth), LOGS, take=_take
)

"""OpenBook v2 judged by its real binary (``openbook_v2.so`` at ``opnb2LAf…``), as far as
it can run the taker order live builds.

The binary is a 2023-10 pre-release (between openbook-v2 ``cd3d6cc``, 2023-10-24, "make
explicit the penalty payer", and ``fb0faaf``, 2023-11-22, its security.txt). Live
builds v0.2.10's ``place_take_order`` (:func:`feeds.venues.openbook_v2.swap_instruction`),
which this binary cannot run as it is:

- its accounts: the binary takes an optional ``referrer_account`` after
  ``user_quote_account`` (removed in ``e4c6318``, 2023-12-31); the order here passes the
  program id there (None), every other account as live builds it (:func:`as_the_binary_takes_it`);
- its order type: ``FillOrKill`` (5, added with ``WouldExecutePartially`` in December
  2023) does not deserialize; the binary gets ``ImmediateOrCancel`` (1) with the same
  price, lots and limit. A fill-or-kill order that fills whole is that IOC order; one
  the simulator kills (6043), the binary's IOC fills short of its lots — checked. A
  sell asking its exact quote is killed when the quote crossed levels, or when it took
  several orders at the best bid whose rebates, rounded down one by one, came to a few
  units more than the limit can promise (:func:`at_best`: the binary fills nothing at
  that limit, and every lot when the minimum is lowered by that shortfall);
- its fees: before ``acbc8fb`` (2023-12-29, "give implicit referrer rebate to all
  place_take_order callers") a taker order pays the whole taker fee (the part not
  rebated to makers going to ``fees_available``), where v0.2.10 charges it only the
  makers' rebates. A sell's quote out is checked to be the simulator's (and the
  engine's quote) less exactly what the binary adds to ``fees_available``; a buy
  receives the same base lots and pays that much more quote. ``fees_available``,
  ``quote_deposit_total``, the quote vault and the user's quote account are compared
  through that difference, not byte for byte;
- the event heap: a ``FillEvent`` carried the heap's ``seq_num`` where v0.2.10's carries
  the market's (``market_seq_num``): those 8 bytes of each fill are left out, the heap's
  other bytes compared; the penalty for adding to the heap was 5,000 lamports (v0.2.10:
  500): the market's and the payer's lamports are checked against each;
- its logs: no ``TakerSignatureLog`` (v0.2.10 logs one before each fill: the simulator's
  count is checked); its ``TotalOrderFillEvent`` is v0.2.10's, compared byte for byte.

Everything else is compared exactly: the book sides' bytes, the market's other fields,
the base vault and the user's base account, the error codes, the compute units (the
model's per-fill figure). The engine's quote (Rust and Python) is compared with the
simulator's payout and, through the fee difference above, with the binary's; the
engine's own OpenBook math is also judged by v0.2.10's program test cases
(``tests/engine/test_openbook_v2.py``) and the TypeScript client (``tests/js``).

Random books (the makers' ladder from a drawn seed: levels, sizes, spread, orders with
a time in force, oracle-pegged orders the markets without an oracle pass over), random
fees (taker 0 to 0.1 %, maker rebates, maker fees), sizes from one lot to past the
book's depth, both directions, a minimum at the quote or above it, sequences with the
book carried and the clock moved (orders expire).
"""

from __future__ import annotations

import random
import types
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from solders.instruction import AccountMeta, Instruction

import engine_rs
from feeds.sim import orderbook as ob
from feeds.sim.state import Account, Pool
from feeds.venues import openbook_v2 as OB
from feeds.venues.openbook_v2 import sim as OBsim
from tests.support.judge import Judge, consumed, differing, program_data, token_amount

pytestmark = pytest.mark.judge

REFERRER_AT = 11  # the binary's optional referrer_account, after user_quote_account
ORDER_TYPE_AT = 8 + 1 + 8 + 8 + 8  # PlaceTakeOrderArgs.order_type in the data
PENALTY_THEN = 5_000  # PENALTY_EVENT_HEAP in the binary (v0.2.10: 500)
MARKET_FEES_AVAILABLE = 8 + 528  # Market.fees_available (u64)
MARKET_QUOTE_DEPOSITS = 8 + 704  # Market.quote_deposit_total (u64)
FIT = 0.05  # the compute-unit model within 5 % of every order the binary ran
DEPTH = 10**17  # what each vault holds (the makers' deposits)
COUNTS: Counter[str] = Counter()


def judge() -> Judge:
    """A new judge for each example (its world and bank): an example replayed starts
    where it first did (one judge shared across examples made each depend on those
    before it: irreproducible, which Hypothesis reports as flaky)."""
    return Judge()


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    if COUNTS:
        print("\nOpenBook v2 cases:", dict(sorted(COUNTS.items())))


def backends() -> dict[str, types.ModuleType]:
    return {"rust": engine_rs.load("rust"), "python": engine_rs.load("python")}


def as_the_binary_takes_it(ix: Instruction) -> Instruction:
    """Live's ``place_take_order`` in the binary's layout: no referrer (the program id in
    its place), ``ImmediateOrCancel`` for ``FillOrKill`` (module docstring)."""
    metas = list(ix.accounts)
    metas.insert(REFERRER_AT, AccountMeta(ix.program_id, False, False))
    data = bytearray(bytes(ix.data))
    if data[ORDER_TYPE_AT] == ob.FILL_OR_KILL:
        data[ORDER_TYPE_AT] = ob.IMMEDIATE_OR_CANCEL
    return Instruction(ix.program_id, bytes(data), metas)


@dataclass(frozen=True)
class Shape:
    seed: int
    taker_fee: int
    maker_fee: int
    step: float  # the ladder's levels apart, a share of the price
    half: float  # the best level from the fair price, a share of it
    size: float  # a level's typical order, a share of DEPTH


@st.composite
def shapes(draw: Any) -> Shape:
    taker, maker = draw(
        st.sampled_from(
            [(0, 0), (0, 300), (400, -200), (1_000, -500), (200, 0), (1_000, -1_000), (700, 100)]
        )
    )
    return Shape(
        draw(st.integers(0, 2**32)),
        taker,
        maker,
        draw(st.floats(0.0002, 0.01)),
        draw(st.floats(0.0002, 0.01)),
        draw(st.floats(1e-7, 1e-3)),
    )


def shape(j: Judge, pool: Pool, s: Shape) -> None:
    """Make ``pool``'s market the drawn one: its fees, an empty heap and a new ladder
    (``_requote`` from the drawn seed), its makers held still (the test moves the clock,
    not the quotes), its vaults holding ``DEPTH`` of each token as its deposits."""
    w = j.world
    b = OBsim._book(pool)
    m = b.market
    m.taker_fee, m.maker_fee = s.taker_fee, s.maker_fee
    m.base_deposit_total = m.quote_deposit_total = DEPTH
    b.bids, b.asks, b.heap = ob.BookSide.new(ob.BIDS), ob.BookSide.new(ob.ASKS), ob.EventHeap.new()
    b.rng = random.Random(s.seed)
    b.now = w.unix_time()
    fair = w.fair_price(pool) * m.base_lot_size / m.quote_lot_size
    b.step, b.half = max(1, int(fair * s.step)), max(1, int(fair * s.half))
    b.size = max(1, int(DEPTH * s.size / m.base_lot_size))
    OBsim._requote(b, fair)
    b.quiet = True
    for addr, data in (
        (b.bids_address, b.bids.data()),
        (b.asks_address, b.asks.data()),
        (b.heap_address, b.heap.data()),
        (b.address, m.pack()),
    ):
        w.accounts[addr].data = data
    for vault in (pool.vault_a, pool.vault_b):
        w.move_tokens(vault, DEPTH - w.balance(vault))
    pool.record = OBsim._record(w, b)


def heap_without_fill_seq(data: bytes) -> bytes:
    """An ``EventHeap``'s bytes with each used ``FillEvent``'s ``seq_num`` (bytes 16..24 of
    the event) zeroed: the binary's is the heap's, v0.2.10's the market's."""
    heap = ob.EventHeap(data)
    buf = bytearray(data)
    for slot in heap.slots():
        o = 24 + 152 * slot + 8
        if buf[o] == ob.FILL:
            buf[o + 16 : o + 24] = bytes(8)
    return bytes(buf)


def one_level(b: OBsim.Book, lots: int) -> bool:
    """Whether the best bid's price level holds ``lots`` base lots (valid orders)."""
    valid = [i for i in b.bids.iter_all(b.now) if i.valid]
    return (
        bool(valid)
        and sum(i.leaf.quantity for i in valid if i.price_lots == valid[0].price_lots) >= lots
    )


def left(real: Any, key: str) -> Account:
    """The account ``key`` as the program left it (it exists)."""
    acc: Account | None = real.post[key]
    assert acc is not None, key
    return acc


def u64_at(data: bytes | bytearray, off: int) -> int:
    return int.from_bytes(data[off : off + 8], "little")


def at_best(j: Judge, pool: Pool, amount: int, q: int, quoted: Any) -> None:
    """A sell at its quote ``q`` the best bid's level takes whole, killed: only because its
    fills' rebates, each rounded down, came to less than the whole's rounded down, so
    that one fill at the best price could pay short of ``q`` (by less than a unit a
    fill) and the limit must be a price lot up (``OB.sell_limit``); the same order asking
    ``q`` less that shortfall fills every lot, on the binary and in the simulator."""
    rec, b = pool.record, OBsim._book(pool)
    lots = amount // b.market.base_lot_size
    best = next(i.price_lots for i in b.bids.iter_all(b.now) if i.valid)
    short = q - OB.sell_receives(rec, lots, best)
    assert 0 < short < quoted.after.take.fills, (short, quoted.after.take)
    assert OB.sell_limit(rec, lots, q) == best + 1
    lower = j.swap_ix(pool, pool.mint_a, amount, q - short)
    real = j.real(j.tx([as_the_binary_takes_it(lower)]), commit=False)
    assert real.err is None, real.logs
    sold = token_amount(j.world.accounts[j.ata(pool.mint_a)]) - token_amount(
        real.post[j.ata(pool.mint_a)]
    )
    assert sold == lots * b.market.base_lot_size, (sold, lots)
    assert j.chain.run(j.tx([lower]), commit=False).err is None
    COUNTS["killed at its quote (rebates rounded per fill)"] += 1


def trade(j: Judge, pool: Pool, a_to_b: bool, amount: int, above: bool) -> None:
    """One taker order: live's through the simulator, the binary's form of it through the
    program, both on the same state; compared (module docstring)."""
    w = j.world
    b = OBsim._book(pool)
    mint_in, mint_out = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    quotes = {name: j.quote(eng, pool, mint_in, amount) for name, eng in backends().items()}
    q = quotes["rust"]
    assert quotes["python"] == q, quotes
    for name in quotes:
        COUNTS[f"quote {name}"] += 1
    minimum = (q + 1 if above else q) if isinstance(q, int) else 0
    quoted = OBsim._quote(w, pool, a_to_b, amount)  # the simulator's market order: its fills
    j.fund(mint_in, amount)
    j.fund(mint_out, 0)
    keys = (
        b.address,
        b.bids_address,
        b.asks_address,
        b.heap_address,
        pool.vault_a,
        pool.vault_b,
        j.ata(pool.mint_a),
        j.ata(pool.mint_b),
        j.me,
    )
    pre = {k: w.accounts[k] for k in keys}
    pre = {k: type(a)(a.owner, a.data, a.lamports) for k, a in pre.items()}
    live = j.swap_ix(pool, mint_in, amount, minimum)
    real = j.real(j.tx([as_the_binary_takes_it(live)]))
    sim = j.chain.run(j.tx([live]), commit=True)
    post = w.accounts
    after = OBsim._book(pool)  # the simulator's book after it (a new one when it traded)
    if sim.err == {"InstructionError": [2, {"Custom": OB.WOULD_EXECUTE_PARTIALLY}]}:
        # fill-or-kill killed: never a buy of a quote's lots; a sell at its quote when the
        # quote crossed levels (its limit, every lot at it or better, is above the deepest
        # level the quote reaches: OB.sell_limit) or, the best bid's level taking it whole,
        # by its rebates' rounding alone (at_best); the binary's IOC fills short of the
        # order's base lots
        if isinstance(q, int) and not above:
            assert a_to_b, (q, minimum)
            if one_level(b, amount // b.market.base_lot_size):
                at_best(j, pool, amount, q, quoted)
        assert real.err is None, real.logs
        lots = int.from_bytes(bytes(live.data)[8 + 1 + 8 : 8 + 1 + 16], "little")
        got = token_amount(real.post[j.ata(pool.mint_a)]) - token_amount(pre[j.ata(pool.mint_a)])
        filled = abs(got) // b.market.base_lot_size
        assert filled < lots, (filled, lots)
        COUNTS["killed (IOC short)"] += 1
        return
    assert real.err == sim.err, (real.err, real.logs, sim.logs)
    if real.err is not None:
        COUNTS[f"error {real.err['InstructionError'][1]}"] += 1
        return
    # the book's own event, and v0.2.10's signature logs (one a fill)
    total = [e for e in program_data(real.logs, OB.PROGRAM) if e[:8] == OBsim.DISC_TOTAL_ORDER_FILL]
    mine = program_data(sim.logs, OB.PROGRAM)
    assert [e for e in mine if e[:8] == OBsim.DISC_TOTAL_ORDER_FILL] == total
    signatures = sum(e[:8] == OBsim.DISC_TAKER_SIGNATURE_LOG for e in mine)
    assert signatures == after.last_fills
    # what the binary adds to fees_available: the taker fee less the makers' rebates
    referrer = u64_at(left(real, b.address).data, MARKET_FEES_AVAILABLE) - u64_at(
        pre[b.address].data, MARKET_FEES_AVAILABLE
    )
    got_real = token_amount(real.post[j.ata(mint_out)]) - token_amount(pre[j.ata(mint_out)])
    got_sim = token_amount(post[j.ata(mint_out)]) - token_amount(pre[j.ata(mint_out)])
    paid_real = token_amount(pre[j.ata(mint_in)]) - token_amount(real.post[j.ata(mint_in)])
    paid_sim = token_amount(pre[j.ata(mint_in)]) - token_amount(post[j.ata(mint_in)])
    if isinstance(q, int):
        assert got_sim == q, (got_sim, q)
    else:  # the engine quotes none (past the book's depth: live sends none); the order
        # with no minimum is still the simulator's against the program's
        COUNTS["no quote"] += 1
    if a_to_b:  # a sell: the same base in, the quote out less the referrer's part
        assert paid_real == paid_sim and got_real == got_sim - referrer
    else:  # a buy: the same base out, paying the referrer's part more
        assert got_real == got_sim and paid_real == paid_sim + referrer
    # the bytes
    for key in (b.bids_address, b.asks_address):
        assert left(real, key).data == post[key].data, (
            key,
            differing(left(real, key).data, post[key].data),
        )
    theirs, ours = (
        heap_without_fill_seq(x)
        for x in (left(real, b.heap_address).data, post[b.heap_address].data)
    )
    assert theirs == ours, differing(theirs, ours)
    market = (bytearray(left(real, b.address).data), bytearray(post[b.address].data))
    deposits = [u64_at(x, MARKET_QUOTE_DEPOSITS) for x in market]
    assert deposits[0] == deposits[1] + referrer  # the referrer's part stays in the vault
    for x in market:  # the fields the fee rule changes, compared above
        x[MARKET_FEES_AVAILABLE : MARKET_FEES_AVAILABLE + 8] = bytes(8)
        x[MARKET_QUOTE_DEPOSITS : MARKET_QUOTE_DEPOSITS + 8] = bytes(8)
    assert market[0] == market[1], differing(bytes(market[0]), bytes(market[1]))
    for key in (pool.vault_a, j.ata(pool.mint_a)):  # the base side: byte for byte
        assert left(real, key).data == post[key].data, key
    heap = (ob.EventHeap(pre[b.heap_address].data), ob.EventHeap(post[b.heap_address].data))
    penalty = (PENALTY_THEN, ob.PENALTY_EVENT_HEAP) if len(heap[1]) > len(heap[0]) else (0, 0)
    assert left(real, b.address).lamports - pre[b.address].lamports == penalty[0]
    assert post[b.address].lamports - pre[b.address].lamports == penalty[1]
    assert post[j.me].lamports - left(real, j.me).lamports == penalty[0] - penalty[1]
    # compute units: the simulator charges the model's use for its fills
    cu, n = OB.VENUE.compute_units, OBsim.steps(after)
    (units,) = consumed(real.logs, OB.PROGRAM)
    (charged,) = consumed(sim.logs, OB.PROGRAM)
    assert charged == cu.use(n) and units <= cu.limit(n)
    # an order matching nothing (one that only dropped expired orders too) moves no tokens:
    # the model errs high there (OB.COMPUTE_UNITS)
    if after.last_fills:
        assert abs(units - charged) <= FIT * charged, (units, charged, n)
    COUNTS["filled"] += 1
    COUNTS[f"fills {min(after.last_fills, 5)}{'+' if after.last_fills >= 5 else ''}"] += 1


def _amount(j: Judge, pool: Pool, a_to_b: bool, size: int | float) -> int:
    m = OBsim._book(pool).market
    if isinstance(size, int):  # lots
        return size * (m.base_lot_size if a_to_b else m.quote_lot_size)
    depth = OBsim._depth(pool, a_to_b)
    return max(1, min(2**62, int(depth * size)))


@settings(max_examples=100)
@example(  # two orders at the best bid, each fill's rebate rounded down: killed (at_best)
    which=0,
    book=Shape(
        seed=201,
        taker_fee=400,
        maker_fee=-200,
        step=0.0078125,
        half=0.0078125,
        size=0.0005974215856652371,
    ),
    trades=[(True, 0.0625, False, 0)],
)
@given(
    which=st.integers(0, 3),
    book=shapes(),
    trades=st.lists(
        st.tuples(
            st.booleans(),
            st.one_of(st.integers(0, 3), st.floats(1e-6, 0.3), st.floats(0.3, 1.2)),
            st.sampled_from([False, False, False, True]),
            st.sampled_from([0, 0, 30]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_the_binary_fills_the_order_the_engine_quotes_as_the_simulator_does(
    which: int, book: Shape, trades: list[tuple[bool, Any, bool, int]]
) -> None:
    """Sequences of taker orders on a random book (module docstring)."""
    j = judge()
    pools = [p for p in j.world.pools if p.kind == "openbook"]
    pool = pools[which % len(pools)]  # the market holds as many as its venues' shares give
    shape(j, pool, book)
    for a_to_b, size, above, wait in trades:
        if wait:
            j.step(wait)  # 12 s: orders with a short time in force expire
        trade(j, pool, a_to_b, _amount(j, pool, a_to_b, size), above)


def test_the_binary_refuses_what_live_sends_as_it_is() -> None:
    """The module docstring's two reasons: v0.2.10's accounts (no referrer) put a token
    program where the binary reads an oracle, and ``FillOrKill`` does not deserialize
    (Anchor's ``InstructionDidNotDeserialize``, 102)."""
    j = judge()
    pool = next(p for p in j.world.pools if p.kind == "openbook")
    j.fund(pool.mint_a, 10**12)
    j.fund(pool.mint_b, 0)
    live = j.swap_ix(pool, pool.mint_a, 10**9, 1)
    assert j.real(j.tx([live]), commit=False).err is not None
    metas = list(live.accounts)
    metas.insert(REFERRER_AT, AccountMeta(live.program_id, False, False))
    fok = Instruction(live.program_id, bytes(live.data), metas)
    assert j.real(j.tx([fok]), commit=False).err == {"InstructionError": [2, {"Custom": 102}]}

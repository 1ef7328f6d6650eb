"""Manifest: the market and global decoders, the book walk and ladder, and the program's
exact-in swap, on both backends.

The oracles come from outside (``tests/data/venues/manifest/``, its README):

- the two real mainnet markets committed in ``CKS-Systems/manifest``
  (``programs/manifest/tests/testdata/``: SOL/USDC ``ENhU8…`` and USDT/USDC ``8sjV1…``),
  decoded alike by the program's own TypeScript SDK (``@cks-systems/manifest-sdk``
  0.2.38, ``tests/js/manifest_client.mjs``): every order's maker, size, sequence number,
  expiry, type and price, in the tree's order, and the seats;
- the swap vectors of the program's own tests (``programs/manifest/tests/cases/swap.rs``):
  a sell past an expired order, a buy whose budget runs out inside an order, an unbacked
  global order removed and the limit order behind it filled;
- hypothesis: both backends give the same swap, quote and ladder on any book the
  simulator's layout writes (global orders backed or not, expiring, empty).
"""

from __future__ import annotations

import base64
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solders.pubkey import Pubkey

from engine_rs.errors import DecodeError, TicksMissingError, WrongOwnerError
from engine_rs.python.venues import manifest as twin
from feeds.venues.manifest import layout as L
from tools.nodejs import install, run_script

DATA = Path(__file__).parents[1] / "data" / "venues" / "manifest"
SOL_USDC = "ENhU8LsaR7vDD2G1CsWcsuSGNrih9Cv5WZEk7q9kPapQ"
USDT_USDC = "8sjV1AqBFvFuADBCQHhotaRq5DFFYSjjg1jMyVWMqXvZ"
SLOTS = {SOL_USDC: 330_442_322, USDT_USDC: 330_620_981}
MARKETS = {k: (DATA / f"{k}.bin").read_bytes() for k in SLOTS}
VAULTS = {
    SOL_USDC: ("AKjfJDv4ywdpCDrj7AURuNkGA3696GTVFgrMwk4TjkKs", "FN9K6rTdWtRDUPmLTN2FnGvLZpHVNRN2MeRghKknSGDs"),
    USDT_USDC: ("CNRQ2Q5YURFcQrATzYeKUWgKUoBDfqzkDrRWf21UXCVo", "FGQoLafigpyVb7mLa6pvsDDpDaEE3JetrzQoAggTo3n7"),
}  # fmt: skip
OWNER = twin.PROGRAM_ID


def test_the_real_markets_decode(eng: types.ModuleType) -> None:
    m = eng.manifest.decode_market(MARKETS[SOL_USDC], OWNER)
    assert (len(m.bids), len(m.asks), m.seats, m.free_blocks) == (21, 50, 341, 4)
    assert (m.base_mint_decimals, m.quote_mint_decimals) == (9, 6)
    assert len(MARKETS[SOL_USDC]) == 256 + m.num_bytes_allocated
    b, a = m.bids[0], m.asks[0]
    assert (b.price, b.base_atoms, b.sequence_number, b.last_valid_slot) == (
        125_527_191_000_000_000, 1_967_941_262, 4_240_500, 330_442_808
    )  # fmt: skip
    assert (a.price, a.base_atoms, a.sequence_number) == (
        125_897_856_000_000_000,
        198_573_674,
        4_240_503,
    )
    # emptied reverse asks (six; four right behind the best ask): the program removes
    # them when a taker meets them
    assert sum(o.base_atoms == 0 for o in m.asks) == 6
    assert [o.base_atoms == 0 for o in m.asks[:6]] == [False, True, True, True, True, False]
    m2 = eng.manifest.decode_market(MARKETS[USDT_USDC], OWNER)
    assert (len(m2.bids), len(m2.asks), m2.seats, m2.free_blocks) == (21, 22, 17, 2)
    for key, rec in ((SOL_USDC, m), (USDT_USDC, m2)):
        # the vaults are the program's PDAs of the market and each mint
        assert (rec.base_vault, rec.quote_vault) == VAULTS[key]
        assert twin.vault_address(key, rec.base_mint) == rec.base_vault
        assert twin.vault_address(key, rec.quote_mint) == rec.quote_vault
    with pytest.raises(WrongOwnerError):
        eng.manifest.decode_market(MARKETS[SOL_USDC], "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
    with pytest.raises(DecodeError):
        eng.manifest.decode_market(MARKETS[SOL_USDC][:-80], OWNER)


def test_both_backends_decode_alike(rust: types.ModuleType, py: types.ModuleType) -> None:
    for data in MARKETS.values():
        assert rust.manifest.decode_market(data) == py.manifest.decode_market(data)


@pytest.mark.js
def test_the_ts_sdk_decodes_what_we_decode(eng: types.ModuleType) -> None:
    """``@cks-systems/manifest-sdk`` (``Market.loadFromBuffer``; ``bids()`` / ``asks()``,
    worst first, and ``claimedSeats()``) on the two real markets, at their slots and
    later ones (the SDK keeps the orders not expired at its slot)."""
    why = install()
    if why:
        pytest.skip(why)
    cases = [(k, s) for k, s0 in SLOTS.items() for s in (s0, s0 + 300, s0 + 600)]
    request = [
        {"address": k, "data": base64.b64encode(MARKETS[k]).decode(), "slot": str(s)}
        for k, s in cases
    ]
    theirs = run_script("manifest_client.mjs", {"op": "decode", "markets": request})
    dropped = 0
    for (key, slot), js in zip(cases, theirs, strict=True):
        m = eng.manifest.decode_market(MARKETS[key], OWNER)
        assert (js["base_mint"], js["quote_mint"]) == (m.base_mint, m.quote_mint)
        assert (js["base_decimals"], js["quote_decimals"]) == (
            m.base_mint_decimals,
            m.quote_mint_decimals,
        )
        assert int(js["quote_volume"]) == m.quote_volume and len(js["seats"]) == m.seats
        for ours, sdk in ((m.bids, js["bids"]), (m.asks, js["asks"])):
            kept = [o for o in ours if not (o.last_valid_slot != 0 and o.last_valid_slot < slot)]
            dropped += len(ours) - len(kept)
            sdk = sdk[::-1]  # the SDK lists worst first
            assert [
                (o.trader, str(o.sequence_number), str(o.last_valid_slot), o.order_type)
                for o in kept
            ] == [
                (j["trader"], j["sequence_number"], j["last_valid_slot"], j["order_type"])
                for j in sdk
            ]
            for o, j in zip(kept, sdk, strict=True):
                # the SDK's floats: atoms over 10^decimals, the price in UI units
                assert float(j["num_base_atoms"]) == pytest.approx(
                    o.base_atoms / 10**m.base_mint_decimals, rel=1e-12, abs=1e-15
                )
                ui = twin.price_ui(o.price, m.base_mint_decimals, m.quote_mint_decimals)
                assert j["token_price"] == pytest.approx(ui, rel=1e-9)
    assert dropped == 8  # the later slots drop the expiring post-only orders alike


# ------------------------------------------------------------------ the program's tests
SOL, USDC = (
    "So11111111111111111111111111111111111111112",
    "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
)
MAKER, OTHER = str(Pubkey.new_unique()), str(Pubkey.new_unique())


def _price(mantissa: int, exponent: int) -> int:
    return mantissa * 10 ** (18 + exponent)


def _market(bids: list[L.Order], asks: list[L.Order], free: int = 2) -> bytes:
    m = L.Market(
        SOL, USDC, str(Pubkey.new_unique()), str(Pubkey.new_unique()), 9, 6, free_blocks=free
    )
    traders = {o.trader for o in (*bids, *asks)}
    return m.pack([L.Seat(t) for t in traders], bids, asks)


def test_the_programs_exact_in_sell(eng: types.ModuleType) -> None:
    """``swap.rs:57-165``: 3 SOL into [1 @ 10.00000001, 1 @ the same expiring at slot
    10, 4 @ 5.00000001] after the expiry: 20,000,001 USDC atoms (a full fill rounded up,
    the last partial one down)."""
    p = _price(1_000_000_001, -11)
    bids = [
        L.Order(p, 10**9, 0, MAKER, True),
        L.Order(p, 10**9, 1, MAKER, True, 10),
        L.Order(_price(500_000_001, -11), 4 * 10**9, 2, MAKER, True),
    ]
    r = eng.manifest.swap(_market(bids, []), 30, 3 * 10**9, True)
    assert (r.amount_in, r.amount_out, r.fills, r.removed) == (3 * 10**9, 20_000_001, 2, 1)


def test_the_programs_exact_in_buy(eng: types.ModuleType) -> None:
    """``swap.rs:280-379``: 40 USDC for [1 @ 10.00000001, 1 expiring, 3 @ 15.00000001]:
    2,999,999,998 lamports, all 40 USDC spent."""
    asks = [
        L.Order(_price(1_000_000_001, -11), 10**9, 0, MAKER, False),
        L.Order(_price(1_000_000_001, -11), 10**9, 1, MAKER, False, 10),
        L.Order(_price(1_500_000_001, -11), 3 * 10**9, 2, MAKER, False),
    ]
    r = eng.manifest.swap(_market([], asks), 30, 40 * 10**6, False)
    assert (r.amount_in, r.amount_out) == (40 * 10**6, 2_999_999_998)


def test_the_programs_unbacked_global(eng: types.ModuleType) -> None:
    """``swap_global_not_backed`` (``swap.rs:1089-1205``): an unbacked global bid at the
    top is removed, the limit bid behind it fills; backed, the global fills; without the
    global account the walk stops there (the quote: TicksMissing)."""
    bids = [
        L.Order(_price(2, 0), 10**9, 0, MAKER, True, order_type=L.GLOBAL),
        L.Order(_price(1, 0), 10**9, 1, OTHER, True),
    ]
    market = _market(bids, [])
    empty = L.pack_global(USDC, str(Pubkey.new_unique()), {MAKER: 0})
    r = eng.manifest.swap(market, 1, 10**9, True, None, empty)
    assert (r.amount_out, r.fills, r.removed, r.global_fills) == (10**9, 1, 1, 0)
    backed = L.pack_global(USDC, str(Pubkey.new_unique()), {MAKER: 2 * 10**9})
    r = eng.manifest.swap(market, 1, 10**9, True, None, backed)
    assert (r.amount_out, r.global_fills) == (2 * 10**9, 1)
    r = eng.manifest.swap(market, 1, 10**9, True)
    assert r.missing_global and r.amount_out == 0
    with pytest.raises(TicksMissingError):
        eng.manifest.quote(market, 1, 10**9, True)
    g = eng.manifest.decode_global(backed)
    assert g.mint == USDC and g.deposits == ((MAKER, 2 * 10**9),)


def test_the_real_markets_quote(eng: types.ModuleType) -> None:
    """Regression numbers on the real markets at their slots (the same on both backends:
    the program itself is not run here)."""
    q = eng.manifest.quote
    sol, usdt = MARKETS[SOL_USDC], MARKETS[USDT_USDC]
    assert q(sol, SLOTS[SOL_USDC], 100 * 10**6, False) == 793_381_192
    assert q(sol, SLOTS[SOL_USDC], 10_000 * 10**6, False) == 78_329_745_141
    assert q(sol, SLOTS[SOL_USDC], 10**9, True) == 125_527_191
    assert q(usdt, SLOTS[USDT_USDC], 100 * 10**6, False) == 100_015_336
    assert q(usdt, SLOTS[USDT_USDC], 10_000 * 10**6, False) == 9_999_867_297
    assert q(usdt, SLOTS[USDT_USDC], 1_000 * 10**6, True) == 999_824_363
    assert q(usdt, SLOTS[USDT_USDC], 10**18, True) is None  # past the whole book
    lad = eng.manifest.ladder(sol, SLOTS[SOL_USDC], 5)
    assert lad.best_bid == pytest.approx(125.527191) and lad.best_ask == pytest.approx(125.897856)
    assert len(lad.bids) == len(lad.asks) == 5 and all(lv.size > 0 for lv in lad.asks)


# ------------------------------------------------------------------ hypothesis
TRADERS = [str(Pubkey.new_unique()) for _ in range(4)]

order = st.builds(
    lambda price, base, seq, t, lvs, kind: (price, base, seq, t, lvs, kind),
    st.one_of(st.integers(1, 10**22), st.integers(1, 2**80)),
    st.one_of(st.integers(0, 10**12), st.just(0)),
    st.integers(0, 10**6),
    st.sampled_from(TRADERS),
    st.one_of(st.just(0), st.integers(1, 60)),
    st.sampled_from([L.LIMIT, L.POST_ONLY, L.GLOBAL, L.REVERSE]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(order, max_size=12),
    st.lists(order, max_size=12),
    st.dictionaries(st.sampled_from(TRADERS), st.integers(0, 10**13)),
    st.integers(0, 2**64 - 1),
    st.booleans(),
    st.integers(0, 80),
    st.integers(1, 4),
)
def test_both_backends_agree_on_any_book(
    bids: list[tuple[int, ...]],
    asks: list[tuple[int, ...]],
    deposits: dict[str, int],
    amount: int,
    a_to_b: bool,
    slot: int,
    free: int,
) -> None:
    import engine_rs

    rust, py = engine_rs.load("rust"), engine_rs.load("python")

    def orders(raw: list[tuple[int, ...]], bid: bool) -> list[L.Order]:
        return [L.Order(p, b, s, t, bid, lvs, kind) for p, b, s, t, lvs, kind in raw]

    market = _market(orders(bids, True), orders(asks, False), free)
    glob = L.pack_global(USDC, str(Pubkey.new_unique()), deposits)
    for g in (None, glob):
        args = (market, slot, amount, a_to_b, g, g)
        assert rust.manifest.swap(*args) == py.manifest.swap(*args)
        outcomes = []
        for eng in (rust, py):
            try:
                outcomes.append(eng.manifest.quote(*args))
            except TicksMissingError:
                outcomes.append("missing")
        assert outcomes[0] == outcomes[1]
        assert rust.manifest.ladder(market, slot, 5, g, g) == py.manifest.ladder(
            market, slot, 5, g, g
        )


def test_a_walk_past_max_steps_has_no_quote(eng: types.ModuleType) -> None:
    """The program has no match limit; a quote reaching more than ``MAX_STEPS`` maker
    orders (fills and removals alike) is refused, so a hop's compute units stay priced."""
    asks = [L.Order(10**18 + i, 10, i, MAKER, False) for i in range(45)]
    market = _market([], asks)
    assert eng.manifest.swap(market, 1, 420, False).fills == 42
    assert eng.manifest.quote(market, 1, 400, False) == 399  # the 40th order partly
    assert eng.manifest.quote(market, 1, 420, False) is None
    assert twin.MAX_STEPS == 40


def test_a_reverse_flip_that_overflows_fails_the_swap(eng: types.ModuleType) -> None:
    """A filled reverse ask places its maker's bid, sized by the quote it got at the
    flipped price; past u64 the program's conversion fails the swap (105), and the quote
    is none; a limit order of the same size and price is filled."""
    big = 10**19
    rev = L.Order(10**18, big, 0, MAKER, False, 0, L.REVERSE, 65_535)
    assert eng.manifest.swap(_market([], [rev]), 1, big, False) == "PriceConversionError(105)"
    assert eng.manifest.quote(_market([], [rev]), 1, big, False) is None
    rev.reverse_spread = 200
    assert eng.manifest.quote(_market([], [rev]), 1, big, False) == big
    lim = L.Order(10**18, big, 0, MAKER, False)
    assert eng.manifest.quote(_market([], [lim]), 1, big, False) == big

"""The templates of the live fast path against what they stand for: a hop's swap template
(``build.SwapTemplate``) against its venue's own builder (at any amounts the same bytes,
or both refuse; a venue whose accounts follow its pool's state has none), and a message
template (``build.MessageTemplate``) patched and signed against a transaction compiled
and signed afresh (``compile_and_sign``), at any amounts, prices, tips and blockhashes."""

from __future__ import annotations

import struct
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from arbscope.execution.build import (
    _accounts_named,
    compile_and_sign,
    message_template,
    shape_of,
    still_loads,
    swap_template,
)
from feeds import venues
from feeds.sim.world import World, WorldConfig
from feeds.venues import Leg
from feeds.wire import instructions as I


def _market() -> World:
    """A small market holding a pool of every venue."""
    for seed in range(1, 60):
        w = World(WorldConfig(seed=seed, tokens=8, pools=24, trades_per_slot=0))
        if {p.kind for p in w.pools} == set(venues.KINDS):
            return w
    raise AssertionError("no small market holds every venue")


WORLD = _market()
ME = str(Pubkey.new_unique())


def _leg(kind: str, a_to_b: bool) -> Leg:
    pool = next(p for p in WORLD.pools if p.kind == kind)
    tin, tout = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    programs = {m: WORLD.token_programs[m] for m in (pool.mint_a, pool.mint_b)}
    src = I.ata_address(ME, tin, programs[tin])
    dst = I.ata_address(ME, tout, programs[tout])
    return Leg(pool.address, pool.record, ME, tin, tout, src, dst, 0, 0, programs)


STATIC = [v.kind for v in venues.VENUES if not v.fresh_state]
amounts = st.one_of(st.integers(0, 2**64 - 1), st.integers(0, 10**12), st.integers(-1, 2**65))
u64s = st.integers(0, 2**64 - 1)


@pytest.mark.parametrize("kind", STATIC)
@pytest.mark.parametrize("a_to_b", [True, False])
@given(amount=amounts, minimum=amounts)
def test_a_template_builds_what_its_venue_builds(
    kind: str, a_to_b: bool, amount: int, minimum: int
) -> None:
    venue = venues.by_kind(kind)
    leg = _leg(kind, a_to_b)
    template = swap_template(venue, leg)
    assert template is not None, f"{kind}: no template"
    try:
        fresh = bytes(venue.swap_instruction(replace(leg, amount_in=amount, minimum_out=minimum)))
    except (ValueError, OverflowError, struct.error):  # the venue refuses: so does the template
        with pytest.raises(ValueError):
            template.make(amount, minimum)
        return
    assert bytes(template.make(amount, minimum)) == fresh


@pytest.mark.parametrize(
    "kind", [v.kind for v in venues.VENUES if v.fresh_state and v.swap_key is None]
)
def test_a_venue_whose_accounts_follow_its_state_unkeyed_has_no_template(kind: str) -> None:
    assert swap_template(venues.by_kind(kind), _leg(kind, True)) is None


KEYED = [v.kind for v in venues.VENUES if v.fresh_state and v.swap_key is not None]
TICK = 443_636  # the tick range's bound (Whirlpool's and Raydium CLMM's)
words = st.lists(
    st.one_of(st.just(0), st.integers(0, 2**64 - 1), st.sampled_from([1, 1 << 63, 0x600])),
    min_size=16,
    max_size=16,
)


@st.composite
def moved(draw: st.DrawFn, kind: str) -> tuple[Any, Any]:
    """Two states of ``kind``'s pool: the second the first's current tick (active bin)
    moved a little (often within its array, sometimes past it), and for the venues
    whose arrays the pool's bitmap names, its bitmap drawn anew or kept."""
    r = next(p for p in WORLD.pools if p.kind == kind).record
    if kind == "whirlpool":
        span = 88 * r.tick_spacing
        t = draw(st.integers(-TICK, TICK))
        t2 = max(-TICK, min(TICK, t + draw(st.integers(-2 * span, 2 * span))))
        return replace(r, tick_current_index=t), replace(r, tick_current_index=t2)
    bitmap = draw(words)
    other = draw(st.one_of(st.just(bitmap), words))
    if kind == "clmm":
        span = 60 * r.tick_spacing
        t = draw(st.integers(-TICK, TICK))
        t2 = max(-TICK, min(TICK, t + draw(st.integers(-2 * span, 2 * span))))
        one = replace(r, tick_current=t, tick_array_bitmap=bitmap)
        return one, replace(r, tick_current=t2, tick_array_bitmap=other)
    assert kind == "dlmm", kind
    b = draw(st.integers(-512 * 70, 512 * 70 - 1))
    b2 = max(-512 * 70, min(512 * 70 - 1, b + draw(st.integers(-140, 140))))
    one = replace(r, active_id=b, bin_array_bitmap=bitmap)
    return one, replace(r, active_id=b2, bin_array_bitmap=other)


def _built(venue: venues.Venue, leg: Leg) -> bytes | None:
    try:
        return bytes(venue.swap_instruction(leg))
    except ValueError:
        return None


@pytest.mark.parametrize("kind", KEYED)
@pytest.mark.parametrize("a_to_b", [True, False])
@given(data=st.data(), amount=u64s, minimum=u64s)
def test_a_keyed_template_builds_what_its_venue_builds_at_every_state_of_its_key(
    kind: str, a_to_b: bool, data: st.DataObject, amount: int, minimum: int
) -> None:
    """A fresh-state venue's template made at one state is its builder's swap at every
    state of the same ``swap_key``, at any amounts; and states of other keys build other
    swaps (the key names no state the swap does not follow: the template is reused)."""
    venue = venues.by_kind(kind)
    assert venue.swap_key is not None
    one, two = data.draw(moved(kind))
    leg = _leg(kind, a_to_b)
    first, second = replace(leg, record=one), replace(leg, record=two)
    at = replace(second, amount_in=amount, minimum_out=minimum)
    fresh = _built(venue, at)
    if venue.swap_key(one, leg.mint_in) == venue.swap_key(two, leg.mint_in):
        template = swap_template(venue, first)
        if template is None:  # the venue cannot build at this state: nor at the other
            assert fresh is None
            return
        assert fresh is not None
        assert bytes(template.make(amount, minimum)) == fresh
    else:
        assert _built(venue, replace(first, amount_in=amount, minimum_out=minimum)) != fresh


def test_a_venue_whose_data_does_not_hold_the_amounts_has_no_template() -> None:
    """A builder whose data does not carry the minimum as a u64 (here: none at all) is
    built fresh every time."""
    venue = venues.by_kind(STATIC[0])

    def no_minimum(leg: Leg) -> Instruction:
        ix = venue.swap_instruction(leg)
        return Instruction(ix.program_id, bytes(ix.data)[:-8], ix.accounts)

    odd = replace(venue, swaps=replace(venue.swaps, build=no_minimum))
    assert swap_template(odd, _leg(STATIC[0], True)) is None


# ---------------------------------------------------------------- the message template
KP = Keypair.from_seed(bytes(range(32)))
PAYER = KP.pubkey()


def _cycle(limit: int, price: int, amounts: list[int], tip: int) -> list[Instruction]:
    """A 3-hop cycle's instructions as the executor builds them (compute budget, one swap
    per hop through a CP-Swap, an AMM v4 and a Whirlpool pool, the tip)."""
    me = str(PAYER)
    ixs = [I.set_compute_unit_limit(limit), I.set_compute_unit_price(price)]
    for i, kind in enumerate(("cpmm", "amm_v4", "whirlpool")):
        leg = replace(
            _leg(kind, i % 2 == 0),
            owner=me,
            amount_in=amounts[2 * i],
            minimum_out=amounts[2 * i + 1],
        )
        leg = replace(
            leg, source=I.ata_address(me, leg.mint_in), dest=I.ata_address(me, leg.mint_out)
        )
        ixs.append(venues.by_kind(kind).swap_instruction(leg))
    ixs.append(I.transfer(me, I.JITO_TIP_ACCOUNTS[3], tip))
    return ixs


def _table(ixs: list[Instruction], every: int) -> AddressLookupTableAccount:
    """A lookup table holding every ``every``-th account the instructions name."""
    keys = list(dict.fromkeys(m.pubkey for ix in ixs for m in ix.accounts))
    return AddressLookupTableAccount(Pubkey.new_unique(), keys[::every])


u64 = st.integers(0, 2**64 - 1)
FIRST = _cycle(200_000, 1, [1] * 6, 1_000)
TABLES = {0: [], 1: [_table(FIRST, 1)], 2: [_table(FIRST, 2), _table(FIRST, 3)]}


@pytest.mark.parametrize("tables", sorted(TABLES))
@given(
    limit=st.integers(0, 2**32 - 1),
    price=u64,
    amounts=st.lists(u64, min_size=6, max_size=6),
    tip=u64,
    blockhash=st.binary(min_size=32, max_size=32),
)
def test_a_message_template_signs_what_compile_and_sign_signs(
    tables: int, limit: int, price: int, amounts: list[int], tip: int, blockhash: bytes
) -> None:
    """Compiled once (other amounts, another blockhash), patched and signed: byte for
    byte the transaction compiled and signed afresh, with or without lookup tables."""
    template = message_template(PAYER, FIRST, TABLES[tables])
    ixs = _cycle(limit, price, amounts, tip)
    assert shape_of(ixs) == template.shape
    message = template.render(ixs, Hash(blockhash))
    raw = b"\x01" + bytes(KP.sign_message(message)) + message
    fresh = compile_and_sign(KP, PAYER, ixs, str(Hash(blockhash)), TABLES[tables])
    assert raw == bytes(fresh)
    assert template.accounts_named == _accounts_named(fresh)


def test_a_message_another_account_must_sign_is_not_templated() -> None:
    other = Pubkey.new_unique()
    ixs = [*FIRST, I.transfer(str(other), str(PAYER), 1)]
    with pytest.raises(ValueError, match="must sign"):
        message_template(PAYER, ixs)


def test_other_accounts_are_another_shape() -> None:
    """A route's swap through other accounts (another tip account, another pool) is not
    the shape of the template: it is compiled apart."""
    other = _cycle(200_000, 1, [1] * 6, 1_000)
    other[-1] = I.transfer(str(PAYER), I.JITO_TIP_ACCOUNTS[4], 1_000)
    assert shape_of(other) != shape_of(FIRST)
    assert shape_of(_cycle(7, 8, [9] * 6, 10)) == shape_of(FIRST)


def _loaded(message: bytes, tables: list[AddressLookupTableAccount]) -> list[Pubkey]:
    """The accounts a v0 message's lookups load from ``tables`` (as a node resolves them:
    by table address and index; IndexError / KeyError when one is not there)."""
    from solders.message import from_bytes_versioned

    msg = from_bytes_versioned(message)
    by_key = {t.key: t.addresses for t in tables}
    lookups = msg.address_table_lookups  # type: ignore[union-attr]
    writable = [by_key[lu.account_key][i] for lu in lookups for i in lu.writable_indexes]
    readonly = [by_key[lu.account_key][i] for lu in lookups for i in lu.readonly_indexes]
    return writable + readonly


@given(extra=st.lists(st.integers(1, 3), min_size=2, max_size=2), more=st.booleans())
def test_a_template_still_loads_the_same_accounts_from_tables_that_only_grew(
    extra: list[int], more: bool
) -> None:
    """Lookup tables only append: a message compiled against them loads the same accounts
    (by the same indexes) once they grew or another table joined them — the template
    stays (``still_loads``, so the hot path compiles nothing) — and not once an entry it
    may load was rewritten or its table is gone (compiled again)."""
    was = TABLES[2]
    template = message_template(PAYER, FIRST, was)
    grown = [
        AddressLookupTableAccount(t.key, [*t.addresses, *(Pubkey.new_unique() for _ in range(n))])
        for t, n in zip(was, extra, strict=True)
    ]
    if more:
        grown.append(_table(FIRST, 1))
    kept = still_loads(template.tables, grown)
    assert kept == tuple(grown)
    assert _loaded(template.message, grown) == _loaded(template.message, was)
    rewritten = [AddressLookupTableAccount(was[0].key, was[0].addresses[::-1]), was[1]]
    assert _loaded(template.message, rewritten) != _loaded(template.message, was)
    assert still_loads(template.tables, rewritten) is None
    assert still_loads(template.tables, grown[1:]) is None  # a table it loads from, gone
    assert still_loads(template.tables, list(template.tables)) == template.tables

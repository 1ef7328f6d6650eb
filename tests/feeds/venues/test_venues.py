"""The venue registry (feeds.venues): every venue package is registered and has every
part, and the simulator's registry (feeds.sim.programs) holds its simulated program
(its package's ``sim`` module); its ids and layout constants agree with the engine (the
decoders, and the twin's constants); and each part does its job for a pool the simulator
made: the pool account decodes, a hop's swap instruction decodes back to the hop, the
sizing shape matches the real one, and the simulated market creates and trades pools of
every venue."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import sys
import types

import pytest
from solders.pubkey import Pubkey

import feeds.venues as registry
from engine_rs.errors import DecodeError
from engine_rs.python import decode as twin_decode
from engine_rs.python.venues import orca_whirlpool as wp
from engine_rs.python.venues import raydium_amm_v4 as v4
from engine_rs.python.venues import raydium_cpmm as cp
from engine_rs.python.venues.orca_whirlpool import pda as twin_pda
from engine_rs.python.venues.orca_whirlpool import swap as clmm
from engine_rs.python.venues.orca_whirlpool import swap as twin_clmm
from engine_rs.records import as_dict
from feeds import venues
from feeds.sim import programs, synthetic
from feeds.sim.venue import SimVenue
from feeds.sim.world import World, WorldConfig
from feeds.venues import Leg, Venue, orca_whirlpool, raydium_amm_v4, raydium_cpmm
from feeds.venues.ids import table
from feeds.wire import instructions as I
from feeds.wire.universe import KINDS as UNIVERSE_KINDS
from tui.widgets.cycles import KIND_SHORT

NOT_VENUES = {"base", "ids"}  # the registry's own modules


def _venue_modules() -> list[str]:
    return sorted(
        m.name for m in pkgutil.iter_modules(registry.__path__) if m.name not in NOT_VENUES
    )


def test_every_venue_module_is_registered_once_under_its_own_name() -> None:
    names = [v.name for v in venues.VENUES]
    assert names and sorted(names) == _venue_modules()
    for v in venues.VENUES:
        assert importlib.import_module(f"feeds.venues.{v.name}").VENUE is v
    assert [t.name for t in table()] == names, "the ids table lists the registered venues"


@pytest.mark.parametrize("venue", venues.VENUES, ids=lambda v: v.name)
def test_a_venue_has_every_part(venue: Venue) -> None:
    # a part left out is a TypeError when the module builds its VENUE; here each part
    # must be of its kind: functions callable, tables filled, codes its program's own
    sim = programs.of(venue)
    for owner, cls in ((venue, Venue), (sim, SimVenue)):
        for part in dataclasses.fields(cls):
            value = getattr(owner, part.name)
            if str(part.type).startswith("Callable") and str(part.type).endswith("| None"):
                assert value is None or callable(value), part.name  # an optional part
            elif str(part.type).startswith("Callable"):
                assert callable(value), part.name
            elif str(part.type).startswith("Mapping"):
                assert value, part.name
    assert venue.slippage_error in venue.errors
    assert sim.program.no_output_error in venue.errors
    assert venue.ids.pool_account_size in sim.rent, "its pool account is created rent-exempt"
    assert sim.program.name and venue.compute_units.limit() > 0


def test_every_venue_has_its_simulated_program_in_the_simulators_registry() -> None:
    assert [s.venue for s in programs.SIMULATED] == list(venues.VENUES)
    for v in venues.VENUES:
        sim = importlib.import_module(f"feeds.venues.{v.name}.sim").SIM
        assert programs.of(v) is sim and sim.venue is v
        assert programs.by_kind(v.kind) is sim and programs.by_program(v.program) is sim
    assert programs.by_program(I.SPL_TOKEN) is None
    with pytest.raises(KeyError, match="amm_v4"):
        programs.by_kind("serum")


def test_kinds_programs_and_labels_are_distinct_and_match_their_users() -> None:
    kinds = [v.kind for v in venues.VENUES]
    assert len(set(kinds)) == len(kinds) and UNIVERSE_KINDS == venues.KINDS == tuple(kinds)
    programs = [p for v in venues.VENUES for p in v.ids.program_ids]
    assert len(set(programs)) == len(programs)
    for v in venues.VENUES:
        assert venues.by_kind(v.kind) is v and venues.by_program(v.program) is v
        # the screen labels a hop by its pool's venue; without one (the demo), by its curve
        # (KIND_SHORT where the short name is not the graph kind's first four letters)
        assert 2 <= len(KIND_SHORT.get(v.ids.graph_kind, v.ids.graph_kind[:4])) <= 4
    assert venues.by_program(I.SPL_TOKEN) is None
    with pytest.raises(KeyError, match="amm_v4"):
        venues.by_kind("serum")


def test_ids_and_layout_constants_are_the_engines() -> None:
    # the twin is the engine's other face: the Python side's one copy must say the same
    assert raydium_amm_v4.PROGRAM == v4.PROGRAM_ID
    assert raydium_cpmm.PROGRAM == cp.PROGRAM_ID
    assert orca_whirlpool.IDS.program_ids == (wp.PROGRAM_ID, wp.IMMUTABLE_PROGRAM_ID)
    assert orca_whirlpool.PROGRAM == twin_pda.WHIRLPOOL_PROGRAM_ID
    assert (I.SPL_TOKEN, I.TOKEN_2022) == (twin_decode.SPL_TOKEN, twin_decode.TOKEN_2022)
    assert raydium_cpmm.DISC_POOL == cp.DISC_POOL
    assert raydium_cpmm.DISC_CONFIG == cp.DISC_CONFIG
    assert orca_whirlpool.DISC_WHIRLPOOL == wp.DISC_WHIRLPOOL
    assert orca_whirlpool.DISC_FIXED_TICK_ARRAY == wp.DISC_FIXED_TICK_ARRAY
    assert orca_whirlpool.DISC_TRADED == wp.DISC_TRADED
    assert orca_whirlpool.TICK_ARRAY_SIZE == clmm.TICK_ARRAY_SIZE
    assert (orca_whirlpool.MIN_TICK_INDEX, orca_whirlpool.MAX_TICK_INDEX) == (
        twin_clmm.MIN_TICK_INDEX,
        twin_clmm.MAX_TICK_INDEX,
    )
    for size in (88, 88 * 8, 88 * 64, 88 * 32768):
        for start in (0, -size, size, twin_clmm.MIN_TICK_INDEX - size, 443_636, -443_636):
            got = orca_whirlpool.is_valid_start_tick(start, size)
            assert got == twin_clmm.is_valid_start_tick(start, size), (start, size)


@pytest.fixture(scope="module")
def world() -> World:
    """The first small market from seed 5 on that holds a pool of every venue (the venues
    beyond the first three take a share of the pools)."""
    for seed in range(5, 500):
        w = World(WorldConfig(seed=seed, tokens=8, pools=24, trades_per_slot=0))
        if {p.kind for p in w.pools} == set(venues.KINDS):
            return w
    raise AssertionError("no small market holds every venue")


@pytest.mark.parametrize("venue", venues.VENUES, ids=lambda v: v.name)
def test_its_pool_account_decodes_with_its_program_and_size(
    venue: Venue, world: World, eng: types.ModuleType
) -> None:
    pool = next(p for p in world.pools if p.kind == venue.kind)
    acc = world.accounts[pool.address]
    assert acc.owner == venue.program
    if venue.kind == "manifest":  # a market holding its book: 256 bytes, then 80 a block
        size = venue.ids.pool_account_size
        assert len(acc.data) >= size and (len(acc.data) - size) % 80 == 0
    else:
        assert len(acc.data) == venue.ids.pool_account_size
    assert as_dict(venue.decode_pool(eng, acc.data, venue.program)) == as_dict(pool.record)
    other = next(v for v in venues.VENUES if v is not venue)
    with pytest.raises(DecodeError):  # the engine checks the owner the registry names
        venue.decode_pool(eng, acc.data, other.program)


@pytest.mark.parametrize("venue", venues.VENUES, ids=lambda v: v.name)
@pytest.mark.parametrize("a_to_b", [True, False])
def test_a_legs_swap_decodes_back_to_the_leg_and_sizes_like_the_sizing_shape(
    venue: Venue, a_to_b: bool, world: World
) -> None:
    pool = next(p for p in world.pools if p.kind == venue.kind)
    me = str(Pubkey.new_unique())
    tin, tout = (pool.mint_a, pool.mint_b) if a_to_b else (pool.mint_b, pool.mint_a)
    src, dst = I.ata_address(me, tin), I.ata_address(me, tout)
    programs = {pool.mint_a: I.SPL_TOKEN, pool.mint_b: I.SPL_TOKEN}
    leg = Leg(pool.address, pool.record, me, tin, tout, src, dst, 12_345, 678, programs)
    ix = venue.swap_instruction(leg)
    assert str(ix.program_id) == venue.program
    s = venues.decode(venue.program, bytes(ix.data), [str(m.pubkey) for m in ix.accounts])
    assert (s.program, s.pool, s.user_source, s.user_dest, s.owner) == (
        venue.program,
        pool.address,
        src,
        dst,
        me,
    )
    if s.order:  # a taker order in lots (``Swap.order``: OpenBook v2's)
        side, price, base_lots, quote_lots, _, _ = s.order
        r = pool.record
        if a_to_b:  # an ask of the whole base lots of the input
            assert (side, base_lots, s.amount_in) == (1, 12_345 // r.base_lot_size, base_lots)
        else:  # a bid of the whole quote lots of the input, fees included
            assert (side, quote_lots, s.amount_in) == (0, 12_345 // r.quote_lot_size, quote_lots)
        assert s.minimum_out == 0 and price >= 1  # its price limit stands for the minimum
    else:
        assert (s.amount_in, s.minimum_out) == (12_345, 678)
    keys = [str(Pubkey.new_unique()) for _ in range(8)]
    shape = venue.sizing_swap(me, keys, src, dst, tin, tout)
    if venue.kind == "pumpswap" and len(shape.accounts) != len(ix.accounts):
        # its sizing is the larger of its two swaps (a buy): an upper bound for a sell
        assert len(shape.accounts) > len(ix.accounts) and len(shape.data) > len(ix.data)
        return
    flags = [(m.is_signer, m.is_writable) for m in ix.accounts]
    if venue.kind == "clmm" and len(shape.accounts) != len(ix.accounts):
        # a swap names the initialized tick arrays it may walk, fewer than the most its
        # sizing counts when the pool has fewer ahead: an upper bound, the same prefix
        assert len(shape.accounts) > len(ix.accounts) and len(shape.data) == len(ix.data)
        assert [(m.is_signer, m.is_writable) for m in shape.accounts][: len(flags)] == flags
        return
    assert (len(shape.accounts), len(shape.data)) == (len(ix.accounts), len(ix.data))
    assert [(m.is_signer, m.is_writable) for m in shape.accounts] == flags


def test_error_names_come_from_the_programs_venue() -> None:
    for v in venues.VENUES:
        assert venues.error_name(v.program, v.slippage_error) == v.errors[v.slippage_error]
    assert venues.error_name(I.SPL_TOKEN, 1) == "InsufficientFunds"
    assert venues.error_name(raydium_cpmm.PROGRAM, 1) == "custom program error 0x1"
    assert venues.error_name(str(Pubkey.new_unique()), 30) == "custom program error 0x1e"


def test_each_synthetic_pool_becomes_a_pool_of_exactly_one_venue() -> None:
    mk = synthetic.market(3, 10, 40, bases=2, hub_share=0.35, clmm_share=0.3)
    for spec in mk.pools:
        assert sum(s.market.takes(spec) for s in programs.SIMULATED) == 1, spec
    w = World(WorldConfig(seed=4, tokens=10, pools=40))  # a market holding every venue
    assert {p.kind for p in w.pools} == set(venues.KINDS)
    for p in w.pools:  # every pool is traded by its venue: its trades name the program
        t = w.swap(p, True, 1_000)
        assert t is None or t.program == venues.by_kind(p.kind).program


def test_a_venue_of_the_engine_without_its_module_here_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import feeds.venues.ids as ids_module

    listed = ids_module.table()
    extra = dataclasses.replace(listed[0], name="phoenix_v1", kind="phoenix")
    monkeypatch.setattr(ids_module, "table", lambda: (*listed, extra))
    with pytest.raises(ImportError, match=r"'phoenix_v1'.*feeds/venues/phoenix_v1/"):
        registry._load()
    assert [v.name for v in registry.VENUES] == [i.name for i in listed]  # loaded as listed


def test_a_venue_without_its_simulated_program_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = venues.VENUES[0]
    extra = dataclasses.replace(first, ids=dataclasses.replace(first.ids, name="phoenix_v1"))
    package = types.ModuleType("feeds.venues.phoenix_v1")  # its client side, no sim.py
    package.__path__ = []
    monkeypatch.setitem(sys.modules, package.__name__, package)
    monkeypatch.setattr(venues, "VENUES", (*venues.VENUES, extra))
    with pytest.raises(ImportError, match=r"'phoenix_v1'.*feeds/venues/phoenix_v1/sim\.py"):
        programs._load()
    assert len(programs.SIMULATED) == len(venues.VENUES) - 1  # loaded as listed

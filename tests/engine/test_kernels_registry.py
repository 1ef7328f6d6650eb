"""Every kernel in the registry runs on both backends at its smallest size and the
results agree by the registry's own ``compare``; peers agree where there are peers.

This is how a new kernel gets parity-checked: add it to engine_rs/kernels.py (the
registry) and its case to bench/cases.py (sizes, input, call, peers)."""

from __future__ import annotations

import types

import pytest

from bench.cases import CASES, Case, Size, case
from engine_rs.kernels import KERNELS, by_name, same

EVALUATIONS = 3  # stateful kernels: a few update + call rounds, compared after each


@pytest.mark.parametrize("kernel", CASES, ids=lambda k: k.name)
def test_backends_agree_on_smallest_size(
    kernel: Case, rust: types.ModuleType, py: types.ModuleType
) -> None:
    rc, pc = kernel.call(rust), kernel.call(py)
    rounds = EVALUATIONS if rc.before is not None else 1
    for _ in range(rounds):
        r, p = rc(), pc()
        assert kernel.compare(r, p), f"{kernel.name}: rust {r!r} != python {p!r}"


@pytest.mark.parametrize("kernel", [k for k in CASES if k.peers], ids=lambda k: k.name)
def test_peers_agree_on_smallest_size(kernel: Case, py: types.ModuleType) -> None:
    size = kernel.sizes[0]
    ours = kernel.call(py, size)()
    assert kernel.peer_agrees is not None
    ran = 0
    for lib, factory in kernel.peers.items():
        try:
            call = factory(kernel.make_input(size, 7), size)
        except ImportError:
            continue
        if call is not None:
            ran += 1
            assert kernel.peer_agrees(ours, call()), lib
    assert ran, "no peer library installed"


def test_registry_is_well_formed() -> None:
    names = [k.name for k in KERNELS]
    assert len(names) == len(set(names))
    for k in KERNELS:
        assert by_name(k.name) is k
        assert k.doc, k.name


def test_every_registered_kernel_has_one_bench_case() -> None:
    # same names, same order: the bench table follows the registry
    assert [c.name for c in CASES] == [k.name for k in KERNELS]
    for c in CASES:
        assert case(c.name) is c
        assert c.kernel is by_name(c.name) and c.compare is c.kernel.compare
        assert c.sizes, c.name
        assert len({s.label for s in c.sizes}) == len(c.sizes), c.name


@pytest.mark.slow
def test_inputs_are_deterministic_by_seed() -> None:
    for k in CASES:
        size = k.sizes[0]
        a, b, c = k.make_input(size, 7), k.make_input(size, 7), k.make_input(size, 8)
        assert repr(a) == repr(b), k.name
        assert repr(a) != repr(c), k.name


def test_clmm_input_crosses_ten_initialized_ticks(py: types.ModuleType) -> None:
    k = case("clmm_swap")
    assert k is not None
    args = k.make_input(k.sizes[0], 7)
    tick, ts, ticks = args[2], args[3], args[5]
    res = k.call(py)()
    crossed = [t for t, _ in ticks if res.tick_current < t <= tick]
    assert len(crossed) == 10, (res.tick_current, crossed)
    assert res.amount_in == args[6]  # filled completely, no price limit hit
    assert ts == 8


def test_compare_tells_records_apart(py: types.ModuleType) -> None:
    k = case("cycles")
    assert k is not None
    opps = k.call(py)()
    assert len(opps) >= 2
    assert same(opps, list(opps))
    assert not same(opps, opps[::-1])
    assert not same(opps, opps[:-1])
    assert same(1.0, 1.0 + 1e-15) and not same(1.0, 1.0 + 1e-9)
    assert not same(1, 1.0) and not same(True, 1)


def test_history_fields_are_ignored_only_when_asked(py: types.ModuleType) -> None:
    from dataclasses import replace

    k = by_name("cycles_touching")
    c = case("cycles_touching")
    assert k is not None and c is not None and k.history_fields == ("persistence",)
    opps = c.call(py)()
    assert opps
    bumped = [replace(o, persistence=o.persistence + 1) for o in opps]
    assert not k.compare(opps, bumped)
    assert same(opps, bumped, ignore=frozenset(k.history_fields))


@pytest.mark.slow
def test_bulk_index_matches_incremental(py: types.ModuleType) -> None:
    # the registry indexes the base mints after the upserts (fast); the live path indexes
    # while upserting: both must hold the same cycles
    from bench.cases import _graph, _graph_input

    k = case("cycles_touching")
    assert k is not None
    mk = _graph_input(k.sizes[0], 7).market
    bulk, incremental = _graph(py, mk), mk.graph(py)
    assert bulk.indexed_cycle_count() == incremental.indexed_cycle_count() > 0
    for p in mk.pools[:40]:
        assert same(bulk.cycles_touching(p.pool_id), incremental.cycles_touching(p.pool_id))


_SWEEP_AFTER_UPDATE = [s for s in case("find_negative_cycle").sizes if s.params.get("update")]


@pytest.mark.parametrize("size", _SWEEP_AFTER_UPDATE, ids=lambda s: s.label)
def test_sweep_rows_after_an_update_are_what_they_say(size: Size, rust: types.ModuleType) -> None:
    """The "after 1 update" rows: the peers search the same graph after the same update as
    ours (they agree on every round), and the markets "holding an arb" hold one through
    every update while the others never have one."""
    k = case("find_negative_cycle")
    inp = k.make_input(size, 7)
    ours = k.prepare(rust, inp)
    peers = {lib: factory(inp, size) for lib, factory in k.peers.items()}
    holding = "holding" in size.label
    assert k.peer_agrees is not None
    for _ in range(25):
        found = ours()
        assert (found is not None) == holding
        for lib, peer in peers.items():
            assert peer is not None and k.peer_agrees(found, peer()), lib

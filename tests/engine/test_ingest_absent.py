"""An account the chain does not hold is no malformed copy (issue 62, found on a real
node): a notification of an account owned by the system program with no data is the
account's absence, and the ingest reads it as the account's program reads an absent
account.

A real node sends it so over both transports: Yellowstone gRPC sends every account a
transaction names writable, so a swap naming a tick array nobody initialized sends that
array owned by the system program, with no data (measured on Agave 3.1.12 with the
Yellowstone plugin); PubSub sends it for an account deleted (a closed vault): lamports 0,
the system program's, no data. Before, the ingest refused both as a malformed copy.

- a Whirlpool tick array: the program reads an absent one as zeroed (no initialized
  tick), so the pool's state is the one a zeroed array gives (the snapshot's reading of
  an array nobody made, ``Venue.absent`` in ``feeds/venues/orca_whirlpool``);
- a Raydium CLMM tick array, a DLMM bin array: their programs skip absent arrays, so
  nothing is kept of it (the state of a session that never held it);
- any other account (a vault, the pool account, a config): the pool cannot be traded, so
  it leaves the graph until the account exists again, and nothing is counted against
  the endpoint;
- only the pair is an absence: a system account holding data, or an empty account of
  another owner, is refused as before.

Each over PubSub frames and gRPC updates, on both backends; the two backends agree."""

from __future__ import annotations

import functools
import json
import types
from typing import Any

import pytest

import engine_rs
from engine_rs.records import as_dict
from feeds.venues.orca_whirlpool import encode_fixed_tick_array
from feeds.wire.geyser import geyser_pb2 as pb
from tests.support.frames import (
    SEEDS,
    SYSTEM_PROGRAM,
    WHIRLPOOL,
    Market,
    account_frame,
    account_value,
    assert_same_state,
    make_ingest,
    market,
    outcome,
    same_call,
    sid,
)

GRPC = 2  # the gRPC endpoint (0 and 1 are PubSub)
b58 = engine_rs.load("python")
AMOUNTS = tuple(10**k for k in range(3, 19, 2))


def setup(eng: types.ModuleType, m: Market) -> tuple[Any, Any]:
    """Every account of the market applied (the snapshot), PubSub subscriptions on
    endpoints 0 and 1, endpoint 2 a gRPC stream."""
    g, ing = make_ingest(eng, m, endpoints=2)
    ing.bind(GRPC, 0, "slot", "slot")
    return g, ing


def deliver(ing: Any, ep: int, key: str, owner: str, data: bytes, slot: int, ns: int) -> Any:
    """One account's copy from ``ep`` (PubSub below ``GRPC``, else gRPC), as a node sends
    an absent account when ``owner`` is the system program and ``data`` empty."""
    if ep == GRPC:
        info = pb.SubscribeUpdateAccountInfo(
            pubkey=b58.b58decode(key),
            lamports=0 if not data else 2_039_280,
            owner=b58.b58decode(owner),
            rent_epoch=2**64 - 1,
            data=data,
            write_version=ns,
        )
        up = pb.SubscribeUpdate(
            filters=["arbscope"], account=pb.SubscribeUpdateAccount(account=info, slot=slot)
        )
        return ing.grpc(ep, up.SerializeToString(), ns)
    labels = ["slot", *ing.watched()]
    value = account_value(owner, data)
    if not data:
        value.update(lamports=0, rentEpoch=0)
    frame = account_frame(sid(ep, key, labels.index(key)), slot, json.dumps(value))
    return ing.frame(ep, frame.encode(), ns)


def quotes(g: Any, pool: str) -> list[Any]:
    """Every size's quote through ``pool`` both ways (or the error's class)."""
    a, b, *_ = g.pool_rate(pool)
    return [outcome(lambda t=t, x=x: g.quote([pool], t, x)) for t in (a, b) for x in AMOUNTS]


def roles(ing: Any, key: str) -> list[str]:
    return [r for r, _ in ing.roles(key)]


def rejected(ing: Any, ep: int) -> int:
    e = {s.endpoint: s for s in ing.endpoint_stats()}.get(ep)
    return 0 if e is None else e.identity + e.disagreed


@pytest.mark.parametrize("ep", [0, GRPC], ids=["pubsub", "grpc"])
def test_an_absent_whirlpool_tick_array_reads_as_a_zeroed_one(
    eng: types.ModuleType, ep: int
) -> None:
    seen = 0
    for seed in SEEDS:
        m = market(seed)
        for ta, pool in m.tick_arrays:
            owner, data = m.initial[ta]
            if owner != WHIRLPOOL:
                continue
            if not eng.orca_whirlpool.decode_tick_array(data, owner).ticks:
                continue  # no initialized tick: its absence changes nothing
            start = eng.orca_whirlpool.decode_tick_array(data, owner).start_tick_index
            g, ing = setup(eng, m)
            before = quotes(g, pool)
            deliver(ing, ep, ta, SYSTEM_PROGRAM, b"", m.first_slot + 1, 1_000)
            # the reference: the same market with that array zeroed
            g0, ing0 = setup(eng, m)
            ing0.account(
                ta, m.initial[ta][0], encode_fixed_tick_array(start, pool, []), m.first_slot + 1
            )
            assert pool in g.pools()
            assert quotes(g, pool) == quotes(g0, pool)
            seen += quotes(g0, pool) != before  # its ticks mattered
            assert rejected(ing, ep) == 0
    assert seen  # an absence that changed a quote was tried


@pytest.mark.parametrize("ep", [0, GRPC], ids=["pubsub", "grpc"])
def test_absent_clmm_and_dlmm_arrays_are_not_held(eng: types.ModuleType, ep: int) -> None:
    seen = set()
    for seed in SEEDS:
        m = market(seed)
        _, probe = make_ingest(eng, m)
        for key in probe.watched():
            rs = roles(probe, key)
            if not {"tick_array", "bin_array"} & set(rs):
                continue
            pool = probe.roles(key)[0][1]
            kind = probe.record(pool)[0]
            if kind == "whirlpool":
                continue
            g, ing = setup(eng, m)
            deliver(ing, ep, key, SYSTEM_PROGRAM, b"", m.first_slot + 1, 1_000)
            # the reference: a session that never held that array
            g0, ing0 = setup(eng, m)
            ing0.untrack_array(key, pool)
            assert (pool in g.pools()) == (pool in g0.pools())
            if pool in g0.pools():
                assert quotes(g, pool) == quotes(g0, pool)
            assert rejected(ing, ep) == 0
            seen.add(kind)
    assert seen == {"clmm", "dlmm"}


@pytest.mark.parametrize("ep", [0, GRPC], ids=["pubsub", "grpc"])
def test_a_closed_account_holds_its_pool_out_until_it_is_back(
    eng: types.ModuleType, ep: int
) -> None:
    """A vault closed, a pool account or a config deleted: the pool cannot be traded; it
    leaves the graph, no error, nothing against the endpoint; the account back, the
    pool is back with the state it had."""
    m = market(SEEDS[0])
    _, probe = make_ingest(eng, m)
    tried: set[str] = set()
    for key in probe.watched():
        rs = roles(probe, key)
        if {"tick_array", "bin_array"} & set(rs) or not rs:
            continue
        role = "pool" if probe.record(key) is not None else rs[0]
        if role in tried and role != "pool":
            continue
        tried.add(role)
        g, ing = setup(eng, m)
        pools = {p for _, p in ing.roles(key)} & set(g.pools())
        if not pools:
            continue
        want = {p: quotes(g, p) for p in pools}
        assert deliver(ing, ep, key, SYSTEM_PROGRAM, b"", m.first_slot + 1, 1_000) is not None
        assert not pools & set(g.pools()), (role, key)
        assert rejected(ing, ep) == 0
        owner, data = m.initial[key]
        deliver(ing, ep, key, owner, data, m.first_slot + 2, 2_000)
        assert pools <= set(g.pools()), (role, key)
        assert {p: quotes(g, p) for p in pools} == want
    assert {"pool", "vault_a", "vault_b"} <= tried


@pytest.mark.parametrize("ep", [0, GRPC], ids=["pubsub", "grpc"])
def test_only_an_empty_system_account_is_an_absence(eng: types.ModuleType, ep: int) -> None:
    m = market(SEEDS[0])
    _, ing = setup(eng, m)
    vault = next(k for k in ing.watched() if "vault_a" in roles(ing, k))
    owner, data = m.initial[vault]
    with pytest.raises(engine_rs.errors.EngineError):
        deliver(ing, ep, vault, SYSTEM_PROGRAM, data, m.first_slot + 1, 1_000)
    with pytest.raises(engine_rs.errors.EngineError):
        deliver(ing, ep, vault, owner, b"", m.first_slot + 2, 2_000)


def test_rust_and_twin_agree_on_absent_accounts(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    for seed in SEEDS:
        m = market(seed)
        (ga, a), (gb, b) = setup(rust, m), setup(py, m)
        for i, key in enumerate(a.watched()):
            ep = (0, 1, GRPC)[i % 3]
            slot = m.first_slot + 1 + i // 7
            # the same call on both, the same outcome (a value, or the error's class)
            gone = functools.partial(deliver, ep=ep, key=key, slot=slot, ns=2 * i + 1)
            same_call([a, b], functools.partial(gone, owner=SYSTEM_PROGRAM, data=b""))
            if i % 2:  # half of them back again
                owner, data = m.initial[key]
                back = functools.partial(deliver, ep=ep, key=key, slot=slot + 1, ns=2 * i + 2)
                same_call([a, b], functools.partial(back, owner=owner, data=data))
        assert_same_state([a, b], [ga, gb], m, final=True)
        assert [as_dict(s) for s in a.endpoint_stats()] == [as_dict(s) for s in b.endpoint_stats()]

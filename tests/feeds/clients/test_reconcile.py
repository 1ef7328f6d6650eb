"""The reconcile's own rules on a real ingest (the market of ``tests/support/frames``),
its node a dict of accounts at a slot: what it reads first (an order's pools, then the
pools whose accounts moved apart, each once per such state, then every watched account
in turn), when an answer is judged (every stream past its slot), what it repairs (only
what differs and is not older than the state held) and what it counts."""

from __future__ import annotations

import asyncio
import json
import time
import types
from typing import Any

import pytest

import engine_rs
from feeds.clients.reconcile import SUSPECT_AFTER_S, Reconciler, ReconcileSettings
from feeds.clients.rpc import RawAccount, RpcError
from tests.support.frames import account_frame, account_value, make_ingest, market, sid

SEED = 4


class Node:
    """A node's accounts as of ``slot`` (what a read returns), reads counted."""

    def __init__(self, m: Any, slot: int) -> None:
        self.accounts = {k: RawAccount(o, d, 1, slot) for k, (o, d) in m.initial.items()}
        self.slot = slot
        self.reads: list[list[str]] = []
        self.fail = False

    async def read(self, keys: list[str], min_slot: int) -> tuple[int, dict[str, Any], int]:
        if self.fail:
            raise RpcError("no endpoint answered getMultipleAccounts", transient=True)
        self.slot = max(self.slot, min_slot)  # a node there (minContextSlot)
        self.reads.append(list(keys))
        return self.slot, {k: self.accounts.get(k) for k in keys}, 0


def _moved(data: bytes, by: int) -> bytes:
    amount = int.from_bytes(data[64:72], "little")
    return data[:64] + (amount + by).to_bytes(8, "little") + data[72:]


def _notify(ing: Any, key: str, slot: int, owner: str, data: bytes, ep: int = 0) -> None:
    index = ["slot", *ing.watched()].index(key)
    value = json.dumps(account_value(owner, data))
    ing.frame(ep, account_frame(sid(ep, key, index), slot, value).encode(), slot * 1_000)


def _setup(eng: types.ModuleType, **kw: Any) -> tuple[Any, Any, Node, Reconciler, list[float]]:
    m = market(SEED)
    _g, ing = make_ingest(eng, m, endpoints=1)
    node = Node(m, m.first_slot + 10)
    now = [0.0]
    pools: dict[str, set[str]] = {}
    for k in ing.watched():
        for _role, p in ing.roles(k):
            pools.setdefault(p, {p}).add(k)
    rec = Reconciler(
        ReconcileSettings(**kw),
        ing,
        node.read,
        watched=ing.watched,
        pools=lambda: pools,
        pools_version=lambda: 0,
        absent=lambda k, acc, slot: acc,
        apply=lambda k, acc: bool(ing.reconcile(k, acc.owner, acc.data, acc.slot)),
        streams=lambda: [0],
        clock=lambda: now[0],
    )
    return m, ing, node, rec, now


def _vaults(ing: Any) -> list[tuple[str, str, str]]:
    """(pool, vault a, vault b) of the market's pools of three accounts: the pool and
    two vaults (no config, no arrays)."""
    out: dict[str, dict[str, str]] = {}
    for k in ing.watched():
        for role, p in ing.roles(k):
            out.setdefault(p, {})[role] = k
    return [
        (p, v["vault_a"], v["vault_b"])
        for p, v in out.items()
        if len(v) == 3 and "vault_a" in v and "vault_b" in v
    ]


async def test_a_difference_is_repaired_once_and_charged(eng: types.ModuleType) -> None:
    m, ing, node, rec, _now = _setup(eng, batch=100, settle_s=0.0)
    pool, va, vb = _vaults(ing)[0]
    owner, data = m.initial[va]
    # a change of the vault no stream delivered: the node holds it, the engine does not
    node.accounts[va] = RawAccount(owner, _moved(data, 9), 1, node.slot)
    _notify(ing, vb, node.slot + 1, *m.initial[vb])  # a stream told of a later slot
    node.slot += 1
    keys = list(ing.watched())
    assert len(keys) <= 100 and await rec.once(keys) == 1
    st = rec.stats
    assert st.differing == 1 and st.pools[pool] == 1 and pool in ing.take_changed()
    assert st.equal == len(keys) - 1 and st.accounts == len(keys)
    assert ing.compare([(va, owner, _moved(data, 9))]) == [(node.slot, True)]
    assert [e.repaired for e in ing.endpoint_stats()] == [1]
    assert await rec.once([va]) == 0  # the same bytes again: nothing to do
    # the engine moved past the answer meanwhile (a notification during the wait): the
    # answer is older than what it holds, and judged by a later read
    answer = node.read

    async def late(keys: list[str], min_slot: int) -> tuple[int, dict[str, Any], int]:
        got = await answer(keys, min_slot)
        _notify(ing, va, node.slot + 1, owner, _moved(data, 20))
        return got

    node.accounts[va] = RawAccount(owner, _moved(data, 15), 1, node.slot)
    rec.read = late
    assert await rec.once([va]) == 0
    assert st.ahead == 1 and st.differing == 1 and st.requests == 3 and st.per_endpoint == {0: 3}
    assert [e.repaired for e in ing.endpoint_stats()] == [1]


async def test_an_answer_waits_for_the_streams_to_pass_its_slot(eng: types.ModuleType) -> None:
    m, ing, node, rec, _now = _setup(eng, settle_s=0.5)
    rec.clock = time.monotonic  # the wait's deadline is the wall's
    key = next(iter(ing.watched()))
    # no stream has told anything past the answer's slot: it waits, then judges anyway
    assert await rec.once([key]) == 0 and rec.stats.unsettled == 1
    _notify(ing, key, node.slot + 1, *m.initial[key])
    assert await rec.settle(node.slot) and not await rec.settle(node.slot + 1)
    assert rec.watermark() == node.slot + 1


async def test_what_is_read_first(eng: types.ModuleType) -> None:
    m, ing, node, rec, now = _setup(eng, batch=6, settle_s=0.0)
    ((p1, a1, b1),) = _vaults(ing)[:1]
    p2 = next(p for p in rec.pools() if p != p1)
    watched = list(ing.watched())
    # nothing suspect, nothing urgent: the watched accounts in turn, from the cursor
    assert rec.next_batch() == (watched[:6], 0)
    assert rec.next_batch() == (watched[6:12], 0)
    # a vault of p1 moved by a notification, the other not (its copy lost, or on its way)
    owner, data = m.initial[a1]
    _notify(ing, a1, node.slot, owner, _moved(data, 3))
    assert rec.suspects() == []  # one slot's copies come one after the other: not yet
    now[0] += SUSPECT_AFTER_S
    assert rec.suspects() == [p1]
    batch, urgent = rec.next_batch()
    assert urgent == 0 and set(batch[:3]) == {p1, a1, b1}  # its accounts first
    assert rec.suspects() == []  # read once in that state
    # an order's pools come before anything
    mine = rec.pools()[p2]
    assert rec.urgent([p2]) == len(mine)
    batch, urgent = rec.next_batch()
    assert urgent == min(6, len(mine)) and set(batch[:urgent]) <= mine
    assert rec.stats.urgent == len(mine)


async def test_a_failed_read_is_read_first_next_time_and_sweeps_are_whole(
    eng: types.ModuleType,
) -> None:
    _m, ing, node, rec, _now = _setup(eng, batch=40, settle_s=0.0)
    n = len(ing.watched())
    node.fail = True
    with pytest.raises(RpcError):
        await rec.once()
    assert rec.stats.errors == 1 and "no endpoint answered" in rec.stats.problem
    node.fail = False
    await rec.once()
    assert node.reads[0] == list(ing.watched())[:40]  # the failed batch, read first
    while rec.stats.sweeps == 0:
        await rec.once()
    read = {k for r in node.reads for k in r}
    assert read == set(ing.watched()) and sum(map(len, node.reads)) >= n


def test_the_settings_are_checked() -> None:
    for bad in ({"rps": -1}, {"batch": 0}, {"batch": 101}, {"settle_s": -1}):
        with pytest.raises(ValueError, match="reconcile"):
            ReconcileSettings(**bad)  # type: ignore[arg-type]


@pytest.fixture(params=["rust", "python"])
def eng(request: pytest.FixtureRequest) -> types.ModuleType:
    return engine_rs.load(request.param)


def test_the_fixture_runs_both_backends(eng: types.ModuleType) -> None:
    assert asyncio.iscoroutinefunction(Reconciler.once)

"""A simulated market as the frames a Solana node sends (accounts, slots, logs),
delivered to FeedIngest on either backend, and the checks that two ingests fed the same
deliveries agree: the engine's ingest tests and the feed-integrity tests share them."""

from __future__ import annotations

import dataclasses
import functools
import json
import random
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck

import engine_rs
from engine_rs import decoded as D
from engine_rs.records import as_dict
from feeds.sim.world import World, WorldConfig
from feeds.wire.protocol import account_notification

STATELESS_FIXTURE = [HealthCheck.function_scoped_fixture]
SEEDS = (2, 4, 5)  # small markets holding every venue (a Whirlpool among them)
STEPS = 8
ENDPOINTS = 3
SYSTEM_PROGRAM = "11111111111111111111111111111111"
WHIRLPOOL = "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"
SPL_TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"


# ---------------------------------------------------------------- frames, as a node sends them
def slot_frame(sid: int, slot: int) -> str:
    return (
        '{"jsonrpc":"2.0","method":"slotNotification","params":'
        f'{{"result":{{"parent":{slot - 1},"root":{slot - 32},"slot":{slot}}},"subscription":{sid}}}}}'
    )


def account_frame(sid: int, slot: int, value: str) -> str:
    return account_notification(sid, slot, value)


def logs_frame(sid: int, slot: int, value: str) -> str:
    return (
        '{"jsonrpc":"2.0","method":"logsNotification","params":'
        f'{{"result":{{"context":{{"slot":{slot}}},"value":{value}}},"subscription":{sid}}}}}'
    )


def account_value(owner: str, data: bytes) -> dict[str, Any]:
    import base64

    return {
        "lamports": 2_039_280,
        "data": [base64.b64encode(data).decode(), "base64"],
        "owner": owner,
        "executable": False,
        "rentEpoch": 18446744073709551615,
        "space": len(data),
    }


# ---------------------------------------------------------------- the market
@dataclass
class Step:
    slot: int
    accounts: list[tuple[str, str, bytes]]  # pubkey, owner, data after the slot
    trades: list[tuple[str, str]]  # program, logs value (JSON)


@dataclass
class Market:
    world: World
    universe: list[tuple[str, str]]
    tick_arrays: list[tuple[str, str]]
    initial: dict[str, tuple[str, bytes]]
    programs: list[str]
    bases: list[str]
    first_slot: int
    steps: list[Step]


@functools.cache
def market(seed: int) -> Market:
    """A seeded world stepped STEPS slots; what changed each slot (computed once)."""
    w = World(WorldConfig(seed=seed, tokens=6, pools=12), backend=engine_rs.load("python"))
    initial = {k: (a.owner, a.data) for k, a in w.accounts.items()}
    first = w.slot
    steps = []
    for _ in range(STEPS):
        res = w.step()
        accounts = [(k, w.accounts[k].owner, w.accounts[k].data) for k in res.changed]
        trades = [
            (
                t.program,
                json.dumps(
                    {
                        "signature": t.signature,
                        "err": None,
                        "logs": [
                            f"Program {t.program} invoke [1]",
                            t.log,
                            f"Program {t.program} success",
                        ],
                    }
                ),
            )
            for t in res.trades
        ]
        steps.append(Step(res.slot, accounts, trades))
    return Market(
        world=w,
        universe=w.universe(),
        tick_arrays=[(ta, p.address) for p in w.pools for ta in p.tick_arrays],
        initial=initial,
        programs=sorted({t for s in steps for t, _ in s.trades} | {WHIRLPOOL}),
        bases=list(w.bases),
        first_slot=first,
        steps=steps,
    )


def sid(endpoint: int, label: str, index: int) -> int:
    """Each endpoint numbers its subscriptions its own way (as real servers do)."""
    return 7 + endpoint * 100_003 + index * (endpoint + 3)


def read_market(
    eng: types.ModuleType, m: Market, capacity: int | None = 65_536, arrays: bool = True
) -> tuple[Any, Any]:
    """A graph and its ingest tracking ``m``'s pools (with ``arrays``, their tick arrays
    too) that have read every account they watch at the market's first slot: the pools,
    then the vaults and configs they name. ``capacity`` None: the ingest's default."""
    g = eng.PoolGraph(base_mints=m.bases, max_hops=3)
    ing = eng.FeedIngest(g) if capacity is None else eng.FeedIngest(g, capacity, 64)
    for address, kind in m.universe:
        ing.track_pool(address, kind)
    if arrays:
        for ta, pool in m.tick_arrays:
            ing.track_array(ta, pool)
    for _ in range(3):
        for k in ing.watched():
            owner, data = m.initial[k]
            ing.account(k, owner, data, m.first_slot)
    return g, ing


def make_ingest(
    eng: types.ModuleType, m: Market, capacity: int = 65_536, endpoints: int = ENDPOINTS
) -> tuple[Any, Any]:
    g, ing = read_market(eng, m, capacity)
    labels = ["slot", *ing.watched(), *m.programs]
    for ep in range(endpoints):
        for i, label in enumerate(labels):
            kind = "slot" if i == 0 else "logs" if label in m.programs else "account"
            ing.bind(ep, sid(ep, label, i), label, kind)
    return g, ing


@dataclass
class Message:
    kind: str
    label: str
    index: int
    slot: int
    owner: str = ""
    data: bytes = b""
    value: str = ""

    def text(self, endpoint: int) -> str:
        s = sid(endpoint, self.label, self.index)
        if self.kind == "slot":
            return slot_frame(s, self.slot)
        if self.kind == "logs":
            return logs_frame(s, self.slot, self.value)
        return account_frame(s, self.slot, json.dumps(account_value(self.owner, self.data)))


def messages(m: Market, ing: Any, step: Step) -> list[Message]:
    labels = ["slot", *ing.watched(), *m.programs]
    index = {label: i for i, label in enumerate(labels)}
    out = [Message("slot", "slot", 0, step.slot)]
    out += [
        Message("account", k, index[k], step.slot, owner, data)
        for k, owner, data in step.accounts
        if k in index
    ]
    out += [Message("logs", p, index[p], step.slot, value=v) for p, v in step.trades]
    return out


def corrupt(msg: Message, endpoint: int, how: str, rnd: random.Random) -> bytes:
    """A broken copy, as faulty or hostile endpoints send them (feeds.sim.server)."""
    if how == "future":  # from a slot far ahead (a lying or broken node)
        return (
            dataclasses.replace(msg, slot=msg.slot + rnd.choice([40, 1_000]))
            .text(endpoint)
            .encode()
        )
    if how == "truncate":
        text = msg.text(endpoint)
        return text[: rnd.randrange(len(text))].encode()
    if how == "flip":
        raw = bytearray(msg.text(endpoint).encode())
        for _ in range(rnd.randint(1, 3)):
            raw[rnd.randrange(len(raw))] = rnd.randrange(256)
        return bytes(raw)
    if msg.kind != "account":
        return msg.text(endpoint).encode()
    bad = dataclasses.replace(msg)
    if how == "owner":
        bad.owner = SYSTEM_PROGRAM
    elif how == "short":
        bad.data = msg.data[: len(msg.data) // 3]
    elif how == "empty_vault" and len(msg.data) == 165:
        bad.data = msg.data[:64] + bytes(8) + msg.data[72:]  # below the fees: no reserve
    elif how == "other_mint" and len(msg.data) == 165:
        bad.data = bytes(32) + msg.data[32:]
    elif how == "plausible" and len(msg.data) == 165:  # decodes, only the amount is wrong
        amount = int.from_bytes(msg.data[64:72], "little")
        bad.data = msg.data[:64] + (amount // 2 + 1).to_bytes(8, "little") + msg.data[72:]
    elif how == "repoint" and len(msg.data) in REPOINT:  # a pool's vault re-pointed
        at = REPOINT[len(msg.data)]
        bad.data = msg.data[:at] + bytes([msg.data[at] ^ 0x5A]) + msg.data[at + 1 :]
    return bad.text(endpoint).encode()


# a byte inside a vault address of each pool layout (by size): AMM v4 coin_vault,
# CP-Swap token_0_vault, Whirlpool token_vault_a
REPOINT = {752: 340, 637: 76, 653: 140}


# ---------------------------------------------------------------- comparing the two
def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("ok", fn())
    except Exception as exc:  # the class is what must agree
        return ("error", type(exc))


def same_call(ings: list[Any], fn: Callable[[Any], Any]) -> tuple[str, Any]:
    results = [outcome(lambda ing=ing: fn(ing)) for ing in ings]
    assert results[0] == results[1], results
    return results[0]


def whirlpool_fields(rec: Any) -> dict[str, Any]:
    return {f.name: getattr(rec, f.name) for f in dataclasses.fields(D.Whirlpool)}


def record_fields(rec: Any) -> tuple[str, dict[str, Any]]:
    """A decoded record of any venue, by its ``engine_rs.decoded`` class's fields."""
    cls = getattr(D, type(rec).__name__)
    return cls.__name__, {f.name: getattr(rec, f.name) for f in dataclasses.fields(cls)}


def assert_same_state(ings: list[Any], graphs: list[Any], m: Market, final: bool) -> None:
    a, b = ings
    pending = a.pending
    assert b.pending == pending
    changed = a.take_changed()
    assert changed == b.take_changed() and len(changed) == pending
    assert a.pending == b.pending == 0
    assert as_dict(a.stats()) == as_dict(b.stats())
    assert [as_dict(e) for e in a.endpoint_stats()] == [as_dict(e) for e in b.endpoint_stats()]
    assert [as_dict(s) for s in a.dedup_stats()] == [as_dict(s) for s in b.dedup_stats()]
    assert a.slot == b.slot == a.stats().slot
    assert a.watched() == b.watched()
    assert a.record_seq() == b.record_seq()
    ga, gb = graphs
    assert ga.pools() == gb.pools()
    assert ga.slot == gb.slot
    if final:
        for base in m.bases:
            # a corrupt feed can leave a base token with no pool at all: then both
            # graphs must refuse it with the same error class
            ra = outcome(lambda base=base: [as_dict(o) for o in ga.cycles(base, 3)])
            rb = outcome(lambda base=base: [as_dict(o) for o in gb.cycles(base, 3)])
            assert ra == rb
        ca, cb = ga.find_negative_cycle(), gb.find_negative_cycle()
        assert (ca is None) == (cb is None)
        if ca is not None:
            assert as_dict(ca) == as_dict(cb)
        wa, wb = a.whirlpools(), b.whirlpools()
        assert [(k, whirlpool_fields(r)) for k, r in wa] == [
            (k, whirlpool_fields(r)) for k, r in wb
        ]
        # every venue's decoded pool accounts, in the order the pools were tracked
        ra_, rb_ = a.records(), b.records()
        assert [(k, kind, record_fields(r)) for k, kind, r in ra_] == [
            (k, kind, record_fields(r)) for k, kind, r in rb_
        ]
        # one pool's record as the live fast path reads it: the same as in the list
        for k, kind, r in ra_:
            one_a, one_b = a.record(k), b.record(k)
            assert one_a is not None and one_b is not None
            assert (one_a[0], record_fields(one_a[1])) == (kind, record_fields(r))
            assert (one_b[0], record_fields(one_b[1])) == (kind, record_fields(r))
        assert a.record("11111111111111111111111111111111") is None
        assert b.record("11111111111111111111111111111111") is None

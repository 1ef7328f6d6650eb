"""What a Yellowstone gRPC server answers, reduced to its shape: the same requests sent to
the real plugin (``../shared/bin/libyellowstone_grpc_geyser.so`` in Agave's validator) and
to the simulator's Geyser service (``feeds.sim.geyser``), over the same market, and
compared.

:func:`collect` makes one probe of a server (``host:port``) and returns a JSON-able dict:

- ``unary``: each unary call (``GetVersion``, ``GetSlot``, ``GetBlockHeight``,
  ``GetLatestBlockhash``, ``IsBlockhashValid``, ``Ping``, ``SubscribeReplayInfo``) with
  each commitment and a bad one: the answer's fields and their types, or the error's code
  and words (numbers as ``N``); and the relations between answers (processed ≥ confirmed
  ≥ finalized, a blockhash's last valid height);
- ``stream``: one ``Subscribe`` stream (accounts by key, by owner, by owner with
  ``datasize`` and ``memcmp``; slots with and without ``interslot_updates``; the
  transactions naming a program; ``processed``) for ``window_s`` while ``move`` makes the
  market move: a ping as it opens, the pings' interval, the pong of a client's ping, the
  fields of each kind of update, which filters each matched, each slot's statuses in
  order, whether a slot's accounts and transactions come before its ``PROCESSED`` status,
  whether ``write_version`` only grows, and the update of an account ``move`` names
  writable that does not exist (``absent``);
- ``errors``: the status a stream ends with for each bad request (filters the server
  cannot make, ``from_slot`` older than its store) and what a ``from_slot`` in the
  future or in the store gives.

The plugin's dict is committed (``tests/data/node/geyser_shapes.json``, written by
``python -m tests.support.geyser_shapes``), so a clone without ``../shared`` still checks
the simulator against what the plugin said; the node test checks the plugin still says it.
:data:`DIFFERENCES` names what the simulator answers otherwise, each with its reason (and
``docs/simulator.md`` says so).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from feeds.wire.geyser import geyser_pb2 as pb
from tests.support.hostile import until_answered
from tests.support.paths import ROOT

FIXTURE = ROOT / "tests" / "data" / "node" / "geyser_shapes.json"
SUBSCRIBE = "/geyser.Geyser/Subscribe"
SYSTEM = bytes(32)
STATUS = {v: k for k, v in pb.SlotStatus.items()}
COMMITMENTS = {"default": None, "processed": 0, "confirmed": 1, "finalized": 2, "bad": 9}
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

# What the simulator answers otherwise, and why (docs/simulator.md, "Yellowstone gRPC"):
# the paths of the shapes dict (dotted) whose values differ, and how they are compared.
DIFFERENCES: dict[str, str] = {
    "unary.GetVersion": "the same keys (compared); the values name the simulator, not a build",
    "stream.statuses": (
        "one order of a slot's statuses, one of those the plugin sends (its COMPLETED "
        "comes from another thread than PROCESSED: either first): the simulator's are a "
        "subset of the plugin's"
    ),
    "stream.fields": (
        "the transaction updates of the market's own swaps have no body (a message of "
        "their program, a meta of their logs and fee: docs/simulator.md): the plugin's "
        "update shapes are a subset of the simulator's"
    ),
    "stream.pings": "how many came in the window follows from the ping interval (the test's own)",
    "stream.ping_interval_s": "the simulator's PING_S, measured on its own interval in tests",
    "unary.*.confirmed at the start": (
        "the simulator confirms each slot at once, so a confirmed block is there from its "
        "first slot; a lone validator confirms its first a few slots after its start "
        "(until then the plugin says 'block is not available yet')"
    ),
}
CONFIRMED_AT_START = (
    "unary.GetSlot.confirmed",
    "unary.GetBlockHeight.confirmed",
    "unary.GetLatestBlockhash.confirmed",
)
# what depends on the server's age: IsBlockhashValid answers "startup" while the plugin
# holds fewer than 332 blockhashes (past its start, too, on a busy node skipping slots:
# a slot skipped has none, and it keeps those of the last ~365 slots), and
# SubscribeReplayInfo u64::MAX until its store first dropped a slot. Each may be any of
# the answers the plugin gave at its start ("startup"), once past it ("settled") or later
AGE = (
    "unary.IsBlockhashValid.latest",
    "unary.IsBlockhashValid.unknown",
    "unary.IsBlockhashValid.garbage",
    "unary.SubscribeReplayInfo",
)


def of_age(fixture: dict[str, Any], key: str) -> list[Any]:
    """The answers of ``key`` (an :data:`AGE` path) the plugin gave at any age."""
    name = key.split(".", 1)[1]
    return [
        part["unary"][name]
        for part in (fixture, fixture.get("startup", {}), fixture.get("settled", {}))
        if name in part.get("unary", {})
    ]


DUMP: list[tuple[float, Any]] | None = None  # (a developer's look) every update of the stream


def b58encode(raw: bytes) -> str:
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def words(text: str) -> str:
    """An error's text with its numbers as ``N`` (a slot, a size)."""
    return re.sub(r"\d+", "N", text)


def typeof(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, (bytes, bytearray)):
        return f"bytes[{len(v)}]" if len(v) in (0, 32, 64) else "bytes"
    if isinstance(v, str):
        return "str"
    return type(v).__name__


def fields(msg: Any) -> dict[str, str]:
    """The fields a message sets (protobuf's ``ListFields``), with their types; a nested
    message by its own fields."""
    out: dict[str, Any] = {}
    for f, v in msg.ListFields():
        if f.message_type is not None and not f.is_repeated:
            out[f.name] = fields(v)
        elif f.is_repeated:
            out[f.name] = "list"
        else:
            out[f.name] = typeof(v)
    return out


@dataclass
class Probe:
    """What to ask a server about: accounts to watch by key, a program whose accounts
    are watched by owner (and whose transactions), a token mint for the ``memcmp``
    filter, an account a move names writable that does not exist, and ``move``: makes
    the market move (a swap through the program), called during the stream."""

    target: str
    accounts: Sequence[str]
    program: str
    token_program: str
    mint: str
    absent: str | None = None
    move: Callable[[], Awaitable[Any]] | None = None
    window_s: float = 11.5  # long enough for a second ping (the plugin's: every 10 s)
    moves: int = 2


@dataclass
class _Seen:
    t0: float
    items: list[tuple[float, Any]] = field(default_factory=list)
    end: tuple[str, str] | None = None


# The plugin's block store takes a slot's PROCESSED status and its block meta from two
# geyser callbacks (grpc.rs, BlockMetaStorage): between them, a processed ask finds the new
# slot without its block and answers this, whatever the node's age (measured on the node:
# 0.1-0.6 % of 3,000 asks, at most 16 in a row, none at confirmed or finalized). A client
# asks again; so does the probe, for as long as WINDOW_S (a server still saying it then
# has no block, and that is its answer).
NOT_YET_ERROR = {"error": ["INTERNAL", "block is not available yet"]}
WINDOW_S = 2.0


async def unary_shapes(ch: grpc.aio.Channel) -> dict[str, Any]:
    out: dict[str, Any] = {}

    async def call(name: str, req: Any, resp: Any) -> Any:
        fn = ch.unary_unary(
            f"/geyser.Geyser/{name}",
            request_serializer=type(req).SerializeToString,
            response_deserializer=resp.FromString,
        )
        try:
            got = await fn(req, timeout=10)
        except grpc.aio.AioRpcError as exc:
            return {"error": [exc.code().name, words(exc.details() or "")]}
        return got

    version = await call("GetVersion", pb.GetVersionRequest(), pb.GetVersionResponse)
    if isinstance(version, dict):
        out["GetVersion"] = version
    else:
        doc = json.loads(version.version)
        out["GetVersion"] = {
            k: sorted(v) if isinstance(v, dict) else typeof(v) for k, v in doc.items()
        }
    values: dict[str, dict[str, Any]] = defaultdict(dict)
    for name, req_t, resp_t in (
        ("GetSlot", pb.GetSlotRequest, pb.GetSlotResponse),
        ("GetBlockHeight", pb.GetBlockHeightRequest, pb.GetBlockHeightResponse),
        ("GetLatestBlockhash", pb.GetLatestBlockhashRequest, pb.GetLatestBlockhashResponse),
    ):
        for c, level in COMMITMENTS.items():
            req = req_t() if level is None else req_t(commitment=level)  # type: ignore[call-arg]
            got = await call(name, req, resp_t)
            end = time.monotonic() + WINDOW_S  # (the processed block's window: NOT_YET_ERROR)
            while c in ("default", "processed") and got == NOT_YET_ERROR and time.monotonic() < end:
                got = await call(name, req, resp_t)
            if isinstance(got, dict):
                out[f"{name}.{c}"] = got
                continue
            out[f"{name}.{c}"] = fields(got)
            values[name][c] = got
    latest = values["GetLatestBlockhash"].get("processed")
    for label, blockhash in (
        ("latest", latest.blockhash if latest is not None else ""),
        ("unknown", "11111111111111111111111111111111"),
        ("garbage", "not a blockhash"),
    ):
        got = await call(
            "IsBlockhashValid",
            pb.IsBlockhashValidRequest(blockhash=blockhash, commitment=0),
            pb.IsBlockhashValidResponse,
        )
        if isinstance(got, dict):
            out[f"IsBlockhashValid.{label}"] = got
        else:
            out[f"IsBlockhashValid.{label}"] = {**fields(got), "valid": got.valid}
    got = await call(
        "IsBlockhashValid",
        pb.IsBlockhashValidRequest(blockhash="x", commitment=9),
        pb.IsBlockhashValidResponse,
    )
    out["IsBlockhashValid.bad"] = got if isinstance(got, dict) else fields(got)
    pong = await call("Ping", pb.PingRequest(count=7), pb.PongResponse)
    out["Ping"] = pong if isinstance(pong, dict) else {"count": pong.count}
    info = await call(
        "SubscribeReplayInfo", pb.SubscribeReplayInfoRequest(), pb.SubscribeReplayInfoResponse
    )
    if isinstance(info, dict):
        out["SubscribeReplayInfo"] = info
    else:
        fa = info.first_available if info.HasField("first_available") else None
        out["SubscribeReplayInfo"] = {
            "first_available": "absent" if fa is None else "u64::MAX" if fa == 2**64 - 1 else "int"
        }
    slots = {c: v.slot for c, v in values["GetSlot"].items()}
    rel: dict[str, Any] = {}
    if {"processed", "confirmed", "finalized"} <= slots.keys():
        rel["slots ordered"] = slots["processed"] >= slots["confirmed"] >= slots["finalized"]
        # (asked first: the processed slot asked after it is the same or a few on)
        rel["default is processed"] = 0 <= slots["processed"] - slots.get("default", -99) <= 5
    lb = values["GetLatestBlockhash"]
    if lb:
        rel["blockhash is base58 of 32 bytes"] = all(
            len(_b58decode(v.blockhash)) == 32 for v in lb.values()
        )
    for _ in range(20):  # a blockhash's last valid height, against the height of its block
        h0 = await call(
            "GetBlockHeight", pb.GetBlockHeightRequest(commitment=2), pb.GetBlockHeightResponse
        )
        b = await call(
            "GetLatestBlockhash",
            pb.GetLatestBlockhashRequest(commitment=2),
            pb.GetLatestBlockhashResponse,
        )
        h1 = await call(
            "GetBlockHeight", pb.GetBlockHeightRequest(commitment=2), pb.GetBlockHeightResponse
        )
        if isinstance(b, dict) or isinstance(h0, dict) or isinstance(h1, dict):
            break
        if h0.block_height == h1.block_height:
            rel["last valid height - height"] = b.last_valid_block_height - h0.block_height
            break
    out["relations"] = rel
    return out


def _b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        n = n * 58 + _B58.index(ch)
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + (n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b"")


def _request(p: Probe) -> Any:
    req = pb.SubscribeRequest(commitment=0)
    req.accounts["by_key"].account.extend(p.accounts)
    if p.absent:
        req.accounts["absent"].account.append(p.absent)
    req.accounts["by_owner"].owner.append(p.program)
    tokens = req.accounts["tokens"]
    tokens.owner.append(p.token_program)
    tokens.filters.add().datasize = 165
    tokens.filters.add().memcmp.base58 = p.mint  # offset 0: the token account's mint
    req.slots["slots"].filter_by_commitment = False
    req.slots["interslot"].interslot_updates = True
    tx = req.transactions["txs"]
    tx.vote = False
    tx.account_include.append(p.program)
    return req


async def _read(
    call: Any, seen: _Seen, until: float, enough: Callable[[_Seen], bool] | None = None
) -> None:
    """Read the stream into ``seen`` until ``until`` (monotonic), its end, or ``enough``."""
    try:
        while enough is None or not enough(seen):
            left = until - time.monotonic()
            if left <= 0:
                return
            try:
                raw = await asyncio.wait_for(call.read(), left)
            except asyncio.TimeoutError:
                return
            if raw is grpc.aio.EOF:  # type: ignore[attr-defined]
                seen.end = ("EOF", "")
                return
            seen.items.append((time.monotonic() - seen.t0, pb.SubscribeUpdate.FromString(raw)))
    except grpc.aio.AioRpcError as exc:
        seen.end = (exc.code().name, words(exc.details() or ""))


class _Requests:
    """A stream's requests as grpc.aio reads them (a plain async iterator, not a
    generator: the call's cancel leaves nothing to close)."""

    def __init__(self, first: Any) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.queue.put_nowait(first)

    def __aiter__(self) -> _Requests:
        return self

    async def __anext__(self) -> Any:
        return await self.queue.get()


def _open(ch: grpc.aio.Channel, first: Any) -> tuple[Any, asyncio.Queue[Any]]:
    reqs = _Requests(first)
    call = ch.stream_stream(
        SUBSCRIBE,
        request_serializer=pb.SubscribeRequest.SerializeToString,
        response_deserializer=None,
    )(reqs)
    return call, reqs.queue


def _at(commitment: int, p: Probe) -> Any:
    """The stream of a commitment other than processed (``confirmed``, arbscope's
    default): the accounts by key, every slot status, the transactions. (Not
    ``finalized``: 32 slots after a move, past the window on a busy machine.)"""
    req = pb.SubscribeRequest(commitment=commitment)  # type: ignore[arg-type]
    req.accounts["by_key"].account.extend(p.accounts)
    req.slots["slots"].filter_by_commitment = False
    tx = req.transactions["txs"]
    tx.vote = False
    tx.account_include.append(p.program)
    return req


async def _stream(ch: grpc.aio.Channel, p: Probe) -> dict[str, Any]:
    t0 = time.monotonic()
    until = t0 + p.window_s
    opened = [_open(ch, r) for r in (_request(p), _at(1, p))]
    seen = [_Seen(t0) for _ in opened]
    readers = [
        asyncio.create_task(_read(call, s, until))
        for (call, _), s in zip(opened, seen, strict=True)
    ]
    await asyncio.sleep(min(1.0, p.window_s / 8))
    opened[0][1].put_nowait(pb.SubscribeRequest(ping=pb.SubscribeRequestPing(id=4242)))
    for _ in range(p.moves if p.move is not None else 0):
        assert p.move is not None
        await p.move()
        await asyncio.sleep(min(1.0, p.window_s / 8))
    await asyncio.gather(*readers)
    for call, _ in opened:
        call.cancel()
    if DUMP is not None:
        DUMP.extend(seen[0].items)
    out = summarize(seen[0], p)
    got = summarize(seen[1], p)
    out["confirmed"] = {
        k: got[k] for k in ("ping at open", "end", "slots_filter", "updates before", "filters")
    }
    return out


def summarize(seen: _Seen, p: Probe) -> dict[str, Any]:
    """The shape of what one stream delivered (see the module docstring)."""
    items = seen.items
    kinds = [u.WhichOneof("update_oneof") for _, u in items]
    pings = [t for (t, _), k in zip(items, kinds, strict=True) if k == "ping"]
    # the plugin pings a stream as it opens (its interval's first tick), then every 10 s;
    # whether that ping or the first update reaches the client first is a race between
    # its tasks (seen both ways on the node), so the shape is the ping's time, not the
    # first message: the ping within half an interval of the stream's first message (as
    # read: a busy client reads both late alike), or only an interval later
    half = (pings[1] - pings[0] if len(pings) > 1 else 10.0) / 2
    out: dict[str, Any] = {"ping at open": bool(pings) and pings[0] - items[0][0] < half}
    out["end"] = seen.end
    out["pings"] = len(pings)
    out["ping_interval_s"] = round(pings[1] - pings[0], 1) if len(pings) > 1 else None
    out["pong_ids"] = sorted(
        {u.pong.id for _, u in items if u.WhichOneof("update_oneof") == "pong"}
    )
    shapes: dict[str, set[str]] = defaultdict(set)
    names: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    statuses: dict[int, list[str]] = defaultdict(list)
    by_filter: dict[str, set[str]] = defaultdict(set)
    status_at: dict[tuple[int, int], int] = {}
    firsts: dict[tuple[str, int], int] = {}
    versions: list[int] = []
    absent: list[dict[str, Any]] = []
    for i, (_, u) in enumerate(items):
        k = u.WhichOneof("update_oneof")
        if k in ("ping", "pong"):
            continue
        body = getattr(u, k)
        shapes[k].add(json.dumps(_shape(k, body), sort_keys=True))
        names[k].add(tuple(sorted(u.filters)))
        if k == "slot":
            st = STATUS[body.status]
            statuses[body.slot].append(st)
            for n in u.filters:
                by_filter[n].add(st)
            status_at.setdefault((body.slot, body.status), i)
            continue
        firsts.setdefault((k, body.slot), i)
        if k == "account":
            versions.append(body.account.write_version)
            a = body.account
            if p.absent and b58encode(a.pubkey) == p.absent:
                absent.append(
                    {
                        "owner": b58encode(a.owner),
                        "lamports": a.lamports,
                        "data": len(a.data),
                        "executable": a.executable,
                        "filters": sorted(u.filters),
                    }
                )
    out["fields"] = {k: [json.loads(s) for s in sorted(v)] for k, v in sorted(shapes.items())}
    out["filters"] = {k: sorted(list(v) for v in vs) for k, vs in sorted(names.items())}
    out["slots_filter"] = sorted(by_filter.get("slots", ()))
    out["interslot"] = sorted(by_filter.get("interslot", ()))
    # the distinct sequences of statuses a slot went through from its bank's creation
    # (a slot the stream saw created; its FINALIZED, 32 slots on, may be past the window)
    out["statuses"] = sorted(
        {
            " ".join(x for x in _dedup(seq) if x != "SLOT_FINALIZED")
            for seq in statuses.values()
            if seq[0] == "SLOT_CREATED_BANK" and "SLOT_CONFIRMED" in seq
        }
    )
    # whether a slot's account and transaction updates come before each of its statuses
    out["updates before"] = {
        STATUS[st]: sorted(
            {
                at < status_at[(key[1], st)]
                for key, at in firsts.items()
                if (key[1], st) in status_at
            }
        )
        for st in (pb.SLOT_PROCESSED, pb.SLOT_CONFIRMED)  # (FINALIZED: 32 slots on)
    }
    out["write_version grows"] = all(b > a for a, b in itertools.pairwise(versions))
    out["absent"] = absent[:1]
    return out


def _dedup(seq: list[str]) -> list[str]:
    out: list[str] = []
    for s in seq:
        if s not in out:
            out.append(s)
    return out


def _shape(kind: str, body: Any) -> Any:
    """An update's fields and types; for a slot update, per status."""
    f = fields(body)
    if kind == "slot":
        return {"status": STATUS[body.status], **{k: v for k, v in f.items() if k != "status"}}
    if kind == "transaction":
        info = f.get("transaction", {})
        if isinstance(info, dict):
            # its place in the block: 0 (not written) or not, as the block's votes fall
            info.pop("index", None)
            meta = info.get("meta", {})
            if isinstance(meta, dict):
                # a transaction's own meta says what it did: the fields present vary
                info["meta"] = sorted(meta)
            tx = info.get("transaction", {})
            if isinstance(tx, dict):
                info["transaction"] = sorted(tx)
        return f
    return f


async def _error(ch: grpc.aio.Channel, req: Any, wait_s: float = 8.0) -> Any:
    call, _ = _open(ch, req)
    seen = _Seen(time.monotonic())
    await _read(call, seen, seen.t0 + wait_s)
    call.cancel()
    kinds = [u.WhichOneof("update_oneof") for _, u in seen.items]
    return {"end": list(seen.end) if seen.end else None, "got": sorted(set(kinds))}


def _bad_requests(p: Probe) -> dict[str, Any]:
    def req(**accounts: Any) -> Any:
        r = pb.SubscribeRequest(commitment=0)
        r.accounts["f"].CopyFrom(pb.SubscribeRequestFilterAccounts(**accounts))
        return r

    def filters(*fs: Any) -> Any:
        r = req(owner=[p.token_program])
        r.accounts["f"].filters.extend(fs)
        return r

    F = pb.SubscribeRequestFilterAccountsFilter
    M = pb.SubscribeRequestFilterAccountsFilterMemcmp
    bad_commitment = pb.SubscribeRequest()
    bad_commitment.slots["s"].filter_by_commitment = True
    bad_commitment.commitment = 9  # type: ignore[assignment]
    long_name = pb.SubscribeRequest()
    long_name.slots["n" * 200].filter_by_commitment = True
    return {
        "invalid base58 key": req(account=["0OIl"]),
        "key of the wrong size": req(account=["1111"]),
        "bad commitment": bad_commitment,
        "oversized filter name": long_name,
        "memcmp invalid base58": filters(F(memcmp=M(offset=0, base58="0OIl"))),
        "memcmp invalid base64": filters(F(memcmp=M(offset=0, base64="!!"))),
        "memcmp data too large": filters(F(memcmp=M(offset=0, bytes=bytes(129)))),
        "memcmp without data": filters(F(memcmp=M(offset=0))),
        "datasize twice": filters(F(datasize=165), F(datasize=82)),
        "token_account_state false": filters(F(token_account_state=False)),
        "five filters": filters(*(F(datasize=165) for _ in range(5))),
        "an empty filter": filters(F()),
        "lamports without cmp": filters(
            F(lamports=pb.SubscribeRequestFilterAccountsFilterLamports())
        ),
    }


async def _errors(ch: grpc.aio.Channel, p: Probe) -> dict[str, Any]:
    out: dict[str, Any] = {}
    slot = (
        await ch.unary_unary(
            "/geyser.Geyser/GetSlot",
            request_serializer=pb.GetSlotRequest.SerializeToString,
            response_deserializer=pb.GetSlotResponse.FromString,
        )(pb.GetSlotRequest(commitment=0), timeout=10)
    ).slot
    reqs = _bad_requests(p)
    old = pb.SubscribeRequest(commitment=0, from_slot=0)
    old.slots["s"].filter_by_commitment = True
    reqs["from_slot older than the store"] = old
    future = pb.SubscribeRequest(commitment=0, from_slot=slot + 100_000)
    future.slots["s"].filter_by_commitment = True
    results = await asyncio.gather(*(_error(ch, r, 30.0) for r in reqs.values()))
    # how each ended (whether the stream's first ping came before the error is a race)
    out.update((k, r["end"]) for k, r in zip(reqs, results, strict=True))
    # a from_slot in the store: the slots from there come first, statuses before accounts
    recent = pb.SubscribeRequest(commitment=0, from_slot=max(1, slot - 5))
    recent.slots["s"].filter_by_commitment = False
    recent.accounts["a"].owner.append(p.program)
    call, _ = _open(ch, recent)
    seen = _Seen(time.monotonic())

    def data(s: _Seen) -> bool:
        return any(u.WhichOneof("update_oneof") in ("slot", "account") for _, u in s.items)

    await _read(call, seen, seen.t0 + 30.0, data)
    call.cancel()
    ups = [u for _, u in seen.items if u.WhichOneof("update_oneof") in ("slot", "account")]
    first = [getattr(u, u.WhichOneof("update_oneof")).slot for u in ups[:1]]
    out["from_slot in the store"] = {
        "end": list(seen.end) if seen.end else None,
        "replays from it": bool(first) and first[0] <= max(1, slot - 5) + 1,
    }
    call, _ = _open(ch, future)
    seen = _Seen(time.monotonic())
    await _read(call, seen, seen.t0 + 30.0, data)  # live slots: the stream goes on
    call.cancel()
    out["from_slot in the future"] = {
        "end": list(seen.end) if seen.end else None,
        "got": sorted({u.WhichOneof("update_oneof") for _, u in seen.items}),
    }
    return out


async def collect(p: Probe) -> dict[str, Any]:
    """One probe of the server at ``p.target`` (see the module docstring)."""
    async with grpc.aio.insecure_channel(p.target) as ch:
        unary = await unary_shapes(ch)
        stream, errors = await asyncio.gather(_stream(ch, p), _errors(ch, p))
    return {"unary": unary, "stream": stream, "errors": errors}


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and k not in ("end",) and prefix.count(".") < 1:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def compare(
    plugin: dict[str, Any], sim: dict[str, Any], skip: Sequence[str] = (), part: str = ""
) -> dict[str, tuple[Any, Any]]:
    """The shapes that differ (path -> (plugin's, simulator's)) under the rules of
    :data:`DIFFERENCES`; ``skip``: paths the caller compares its own way; ``part``: only
    the paths under it (``unary``)."""
    a, b = flatten(plugin), flatten(sim)
    out = {}
    for k in sorted(a.keys() | b.keys()):
        if part and not k.startswith(part + "."):
            continue
        if k in skip or k in ("stream.pings", "stream.ping_interval_s"):
            continue
        if k.startswith(("startup.", "settled.")):  # the fixture's answers at other ages
            continue
        want, got = a.get(k), b.get(k)
        if k in AGE:
            ok = got in of_age(plugin, k)
        elif k == "stream.statuses":
            ok = want is not None and got is not None and bool(got) and set(got) <= set(want)
        elif k == "stream.fields":
            ok = isinstance(want, dict) and isinstance(got, dict) and want.keys() == got.keys()
            for kind in want or {}:
                mine = [json.dumps(x, sort_keys=True) for x in (got or {}).get(kind, [])]
                theirs = [json.dumps(x, sort_keys=True) for x in want[kind]]
                ok = ok and (set(theirs) <= set(mine) if kind == "transaction" else mine == theirs)
        else:
            ok = want == got
        if not ok:
            out[k] = (want, got)
    return out


def about(interval: float | None, want: float) -> bool:
    """Whether a ping interval read by a client is ``want``'s: within half of it (a busy
    machine delivers a ping late; an interval of another setting is twice or half)."""
    return interval is not None and abs(interval - want) < want / 2


def load_fixture(path: Path = FIXTURE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# ---------------------------------------------------------------- a probe of a market
def probe_for(rpc_url: str, target: str, pools: list[tuple[str, str]], seed: int) -> Probe:
    """The probe of a node (or the simulator playing it) holding the market of
    ``pools``: a Whirlpool of two SPL mints one of whose swap directions names a tick
    array nobody initialized; its account and vaults watched; the moves small swaps that
    way from the market's faucet."""
    from feeds.wire import instructions as I
    from tests.support import swaps

    for pool in swaps.spl_pools(rpc_url, pools):
        found = swaps.absent_array(rpc_url, pool)
        if found is not None:
            break
    else:
        raise AssertionError("no Whirlpool whose swap names an absent tick array")
    a_to_b, array = found
    r = swaps.whirlpool(rpc_url, pool)

    async def move() -> None:
        await asyncio.to_thread(swaps.whirlpool_swap, rpc_url, seed, pool, a_to_b, 10_000)

    return Probe(
        target=target,
        accounts=[pool, r.token_vault_a, r.token_vault_b],
        program=swaps.account(rpc_url, pool)["owner"],
        token_program=I.SPL_TOKEN,
        mint=r.token_mint_a,
        absent=array,
        move=move,
    )


async def steady(target: str, timeout_s: float = 300.0) -> tuple[dict[str, Any], dict[str, Any]]:
    """The unary answers while the server starts (the first call), and the first ones
    past its start (``IsBlockhashValid`` no longer "startup", ``SubscribeReplayInfo`` a
    slot), waited for."""
    async with grpc.aio.insecure_channel(target) as ch:
        first = await unary_shapes(ch)
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            now = await unary_shapes(ch)
            if "error" not in now["IsBlockhashValid.latest"] and now["SubscribeReplayInfo"] == {
                "first_available": "int"
            }:
                return first, now
            await asyncio.sleep(1.0)
    raise AssertionError(f"{target} still starting after {timeout_s:.0f} s")


async def window(
    target: str, asks: int, wait_s: float = 300.0
) -> dict[str, dict[str, tuple[int, int]]]:
    """The processed block's window, counted: each block call (``GetSlot``,
    ``GetBlockHeight``, ``GetLatestBlockhash``) asked ``asks`` times at each commitment,
    one after another, once the server holds a finalized block (waited for up to
    ``wait_s``); per call and commitment, how many answers were :data:`NOT_YET_ERROR`
    and the longest run of them."""
    out: dict[str, dict[str, tuple[int, int]]] = {}
    async with grpc.aio.insecure_channel(target) as ch:
        final = ch.unary_unary(
            "/geyser.Geyser/GetSlot",
            request_serializer=pb.GetSlotRequest.SerializeToString,
            response_deserializer=pb.GetSlotResponse.FromString,
        )

        async def finalized() -> bool:
            try:
                await final(pb.GetSlotRequest(commitment=pb.FINALIZED), timeout=10)
            except grpc.aio.AioRpcError:
                return False  # "block is not available yet": still starting
            return True

        await until_answered(finalized, wait_s, every=0.5)
    calls = (
        ("GetSlot", pb.GetSlotRequest, pb.GetSlotResponse),
        ("GetBlockHeight", pb.GetBlockHeightRequest, pb.GetBlockHeightResponse),
        ("GetLatestBlockhash", pb.GetLatestBlockhashRequest, pb.GetLatestBlockhashResponse),
    )
    async with grpc.aio.insecure_channel(target) as ch:
        for name, req_t, resp_t in calls:
            fn = ch.unary_unary(
                f"/geyser.Geyser/{name}",
                request_serializer=req_t.SerializeToString,
                response_deserializer=resp_t.FromString,
            )
            for c in ("default", "processed", "confirmed", "finalized"):
                level = COMMITMENTS[c]
                req = req_t() if level is None else req_t(commitment=level)  # type: ignore[call-arg]
                n = run = longest = 0
                for _ in range(asks):
                    try:
                        await fn(req, timeout=10)
                        run = 0
                    except grpc.aio.AioRpcError as exc:
                        if [exc.code().name, words(exc.details() or "")] != NOT_YET_ERROR["error"]:
                            raise
                        n, run = n + 1, run + 1
                        longest = max(longest, run)
                out.setdefault(name, {})[c] = (n, longest)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Write :data:`FIXTURE` from the real plugin: a validator with it on the node
    market (``tests/support/realnode.py``), probed as it starts and once past its
    start. ``--window N``: instead, once it holds a finalized block, count the processed
    block's window (:func:`window`, ``N`` asks of each call at each commitment) and
    print it."""
    import argparse
    import tempfile

    from tests.support import realnode

    ap = argparse.ArgumentParser(prog="python -m tests.support.geyser_shapes")
    ap.add_argument("--window", type=int, metavar="N", help="count the processed window")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="arbscope-shapes-") as tmp:
        market = realnode.market(Path(tmp) / "market")
        v = realnode.start(Path(tmp) / "market")
        try:
            assert v.info is not None
            target = v.info.grpc_url.split("//", 1)[1]
            if args.window:  # (once a block is finalized: the window is there at any age)
                counts = asyncio.run(window(target, args.window, wait_s=300.0))
                print(f"{'call':<20} " + " ".join(f"{c:>16}" for c in counts["GetSlot"]))
                for name, row in counts.items():
                    cells = " ".join(f"{f'{n} (run {r})':>16}" for n, r in row.values())
                    print(f"{name:<20} {cells}")
                print(f"answers {NOT_YET_ERROR['error']} of {args.window} asks each (longest run)")
                return 0
            startup, settled = asyncio.run(steady(target))
            probe = probe_for(v.info.rpc_url, target, market.pools, market.config["seed"])
            shapes = asyncio.run(collect(probe))
        finally:
            v.stop()
    shapes["startup"] = {"unary": startup}
    shapes["settled"] = {"unary": {k: settled[k] for k in (a.split(".", 1)[1] for a in AGE)}}
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(shapes, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(shapes, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

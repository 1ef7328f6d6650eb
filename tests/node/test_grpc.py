"""arbscope over the real Yellowstone gRPC plugin (issue 62): the session validator loads
``libyellowstone_grpc_geyser.so``, the server providers run.

- The plugin still answers as ``tests/data/node/geyser_shapes.json`` says (the fixture
  the simulator's gRPC service is checked against without a node).
- A swap naming a tick array nobody initialized makes the plugin send that array owned
  by the system program with no data; arbscope reads it as the program does (a zeroed
  array), not as a malformed copy: no update rejected, over both receivers.
- arbscope's feeds over the plugin, the native receiver alone and grpc.aio beside PubSub:
  the snapshot decodes every pool of the market, the streams deliver, nothing is
  refused, and once the market rests every pool's state equals a fresh read of the
  chain; a stream cut reconnects asking ``from_slot`` and the plugin replays the gap.
- ``arbscope run --grpc ... --ws ...`` headless, with the market moving: cycles found,
  paper fills, no error.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import types
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
import pytest

from engine_rs.records import as_dict
from feeds.clients.pool import Endpoint, FeedPool
from feeds.clients.pubsub import WorkerConfig
from feeds.clients.yellowstone import GrpcWorker
from feeds.sim.export import Market
from feeds.sim.validator import NodeInfo, rpc_call
from feeds.wire.geyser import geyser_pb2 as pb
from tests.support import geyser_shapes as shapes
from tests.support import swaps
from tests.support.cutter import Cutter
from tests.support.graphcheck import GraphCheck
from tests.support.hostile import until, until_answered
from tests.support.paths import ROOT

pytestmark = pytest.mark.node

CONFIG = WorkerConfig(
    open_timeout_s=10.0,
    heartbeat_s=5.0,
    stale_after_s=20.0,  # a busy machine's validator can pause seconds between slots
    backoff_min_s=0.1,
    backoff_max_s=1.0,
)


def target(node: NodeInfo) -> str:
    return node.grpc_url.split("//", 1)[1]


# ---------------------------------------------------------------- arbscope's feeds
@dataclass
class Session:
    name: str
    pool: FeedPool
    ingest: Any
    graph: Any

    def errors(self) -> list[tuple[str, int, int, str]]:
        return [
            (h.name, h.malformed, h.rejected, h.last_error)
            for h in self.pool.health()
            if h.malformed or h.rejected
        ]


@asynccontextmanager
async def sessions(
    eng: types.ModuleType, node: NodeInfo, market: Market, grpc_url: str
) -> AsyncIterator[list[Session]]:
    """Two sessions on the node: the native receiver alone, grpc.aio beside PubSub
    (their gRPC streams to ``grpc_url``)."""
    made: list[Session] = []
    plans = [
        ("native", [Endpoint("grpc", "", node.rpc_url, grpc=grpc_url)]),
        (
            "aio",
            [
                Endpoint("ws", node.ws_url, node.rpc_url),
                Endpoint("grpc", "", node.rpc_url, grpc=grpc_url),
            ],
        ),
    ]
    try:
        for client, eps in plans:
            graph = eng.PoolGraph(base_mints=market.bases, max_hops=3)
            ingest = eng.FeedIngest(graph)
            pool = FeedPool(
                eps, ingest, eng, replace(CONFIG, grpc_client=client), rpc_timeout_s=10.0
            )
            boot = await pool.bootstrap(market.pools)
            assert (boot.pools, boot.missing, boot.rejected) == (len(market.pools), [], [])
            await pool.start(boot.subscriptions)
            for w in pool.workers:
                if isinstance(w, GrpcWorker):
                    assert w.client == client, w.fallback
            made.append(Session(client, pool, ingest, graph))
        yield made
    finally:
        for s in made:
            await s.pool.stop()


def landed(node: NodeInfo, signature: str) -> int | None:
    """The slot a transaction landed in (confirmed), None until it did."""
    got = rpc_call(node.rpc_url, "getSignatureStatuses", [[signature]])["value"][0]
    if got is None or got.get("confirmationStatus") not in ("confirmed", "finalized"):
        return None
    assert got["err"] is None, got
    return int(got["slot"])


async def swap_and_wait(
    node: NodeInfo, market: Market, pool: str, a_to_b: bool, amount: int
) -> int:
    sig = await asyncio.to_thread(
        swaps.whirlpool_swap, node.rpc_url, market.config["seed"], pool, a_to_b, amount
    )
    slot: list[int] = []

    def done() -> bool:
        s = landed(node, sig)
        if s is not None:
            slot.append(s)
        return bool(slot)

    await until(done, 60.0)
    return slot[0]


def pool_states(graph: Any, pools: list[str]) -> dict[str, Any]:
    """Each pool's quote state as the graph prices it: its rate and quotes both ways."""
    out = {}
    for p in pools:
        try:
            a, b, fwd, back, _slot = graph.pool_rate(p)
        except Exception as exc:  # (a pool out of the graph: its class is its state)
            out[p] = type(exc).__name__
            continue
        quotes = []
        for mint in (a, b):
            for amount in (10**3, 10**6, 10**9):
                try:
                    quotes.append(graph.quote([p], mint, amount))
                except Exception as exc:
                    quotes.append(type(exc).__name__)
        out[p] = (a, b, fwd, back, quotes)
    return out


async def fresh_states(eng: types.ModuleType, node: NodeInfo, market: Market) -> dict[str, Any]:
    """Every pool's state from a fresh read of the chain (a snapshot, no stream)."""
    graph = eng.PoolGraph(base_mints=market.bases, max_hops=3)
    pool = FeedPool([Endpoint("rpc", "", node.rpc_url)], eng.FeedIngest(graph), eng, CONFIG)
    try:
        await pool.bootstrap(market.pools)
    finally:
        await pool.stop()
    return pool_states(graph, [p for p, _ in market.pools])


# the pools whose price moves with the clock (a book's orders expire, DAMM v2's fee
# scheduler decays): their rates differ between two reads some seconds apart, so they are
# held to the chain by their bytes, at one slot (:class:`GraphCheck`), and by their mints
CLOCKED = frozenset({"openbook", "manifest", "damm_v2"})


def rates(states: dict[str, Any], whole: str, kinds: dict[str, str]) -> dict[str, Any]:
    """Each pool's mints and rates both ways (a clocked pool's mints only), and every quote
    of the pool ``whole`` (the one swapped). The quotes of pools whose price moves with the
    clock or the epoch (a Token-2022 transfer fee's schedule too) differ between two reads
    a slot apart."""
    return {
        p: s if p == whole or isinstance(s, str) else s[:2] if kinds[p] in CLOCKED else s[:4]
        for p, s in states.items()
    }


async def equal_to_chain(
    s: Session, node: NodeInfo, market: Market, want: dict[str, Any], whole: str
) -> None:
    """The session's graph holds the chain: every watched account's bytes equal the
    node's at one slot (:class:`GraphCheck`), and every pool prices as ``want`` (a fresh
    read of the chain) does (:func:`rates`); on a timeout, fail naming what differs."""
    check = GraphCheck(
        s.ingest, node.rpc_url, streams=lambda: [c.endpoint for c in s.pool.counters if c.connected]
    )
    tally = await check.check()
    assert tally.unsettled == 0 and tally.compared > 0, (s.name, tally.line())
    assert tally.differing == [], (s.name, tally.differing)
    kinds = dict(market.pools)
    pools = list(kinds)
    want = rates(want, whole, kinds)
    try:
        await until(lambda: rates(pool_states(s.graph, pools), whole, kinds) == want, 30.0)
    except TimeoutError:
        got = rates(pool_states(s.graph, pools), whole, kinds)
        diff = {p: (want[p], got[p]) for p in pools if want[p] != got[p]}
        raise AssertionError(f"{s.name}: pools unlike the chain: {diff}") from None


async def test_arbscope_over_the_plugin_alone_and_beside_pubsub(
    rust: types.ModuleType, node: NodeInfo, node_market: tuple[Path, Market]
) -> None:
    _, market = node_market
    eng = rust
    spl = await asyncio.to_thread(swaps.spl_pools, node.rpc_url, market.pools)
    found = [(p, await asyncio.to_thread(swaps.absent_array, node.rpc_url, p)) for p in spl]
    pool, (a_to_b, _array) = next((p, f) for p, f in found if f is not None)
    host, port = target(node).rsplit(":", 1)
    path = Cutter(host, int(port))  # the streams' path to the plugin, which the test cuts
    await path.start()
    try:
        async with sessions(eng, node, market, f"http://127.0.0.1:{path.port}") as made:
            await until(lambda: all(s.ingest.stats().slot > 0 for s in made), 60.0)
            # a swap naming an uninitialized tick array writable (the plugin sends that
            # array owned by the system program, no data), then one the other way
            slots = [await swap_and_wait(node, market, pool, a_to_b, 10_000)]
            slots.append(await swap_and_wait(node, market, pool, not a_to_b, 10_000))
            await until(lambda: all(s.ingest.stats().slot > max(slots) for s in made), 60.0)
            for s in made:
                assert s.errors() == [], s.name
                assert all(h.connected and h.messages for h in s.pool.health()), s.name
            # the market at rest: every pool as a fresh read of the chain has it
            want = await fresh_states(eng, node, market)
            for s in made:
                await equal_to_chain(s, node, market, want, pool)
            # the path cut and down while a swap lands: each stream comes back asking
            # from_slot, and the plugin replays what it missed (no refusal)
            workers = [next(w for w in s.pool.workers if isinstance(w, GrpcWorker)) for s in made]
            path.held = True
            assert path.cut() > 0
            gap = await swap_and_wait(node, market, pool, a_to_b, 20_000)
            path.held = False
            await until(lambda: all(w.connects >= 2 and w.replays >= 1 for w in workers), 60.0)
            for w in workers:
                assert w.asked[-1] is not None and w.asked[-1] <= gap, list(w.asked)
                assert w.from_slot_ok
            await until(lambda: all(s.ingest.stats().slot > gap for s in made), 60.0)
            want = await fresh_states(eng, node, market)
            for s in made:
                await equal_to_chain(s, node, market, want, pool)
                assert [e for e in s.errors() if "refused" in e[3]] == [], s.name
                stats = [as_dict(e) for e in s.ingest.endpoint_stats()]
                assert all(e["identity"] == e["disagreed"] == 0 for e in stats), stats
    finally:
        await path.stop()


# ---------------------------------------------------------------- the command
def test_arbscope_run_over_the_plugin_finds_cycles_and_fills_on_paper(
    node: NodeInfo, node_market: tuple[Path, Market], tmp_path: Path
) -> None:
    folder, market = node_market
    spl = swaps.spl_pools(node.rpc_url, market.pools)
    cmd = [
        sys.executable,
        "-m",
        "arbscope",
        "run",
        "--ws",
        node.ws_url,
        "--rpc",
        node.rpc_url,
        "--grpc",
        node.grpc_url,
        "--pools",
        str(folder / "pools.toml"),
        "--headless",
        "--duration",
        "25",
        "--no-record",
        "--no-metrics",
        "--log-file",
        str(tmp_path / "arbscope.log"),
    ]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        # dislocate pools while it runs: 5 % of a vault at a time
        deadline = time.monotonic() + 20
        i = 0
        while time.monotonic() < deadline and proc.poll() is None:
            p = spl[i % len(spl)]
            try:
                swaps.whirlpool_swap(node.rpc_url, market.config["seed"], p, i % 2 == 0, 5 * 10**9)
            except Exception:  # (a swap the price limit refuses: the next one)
                pass
            i += 1
            # pacing, not synchronisation: a load generator of about two swaps a second
            # for the run's fixed duration (its fills need some, no assertion counts them)
            time.sleep(0.5)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text[-3000:]
    fills = [int(n) for n in re.findall(r"\((\d+) fills\)", text)]
    last = text.strip().splitlines()[-1]
    assert re.search(r"(\d+) live opportunities, 0 errors", text), text[-3000:]
    assert fills and fills[-1] > 0, text[-3000:]
    # ("0 rejected" is the snapshot's count)
    assert not re.search(r"[1-9]\d* (rejected|malformed)", text), text[-3000:]
    assert json.dumps(last)


# ---------------------------------------------------------------- the plugin's shapes
async def settled(target: str, timeout_s: float = 180.0) -> None:
    """Wait until the plugin is past its start as it was when the fixture was written: a
    finalized block held and its replay store full once (``SubscribeReplayInfo`` a slot,
    not u64::MAX). (Its tests run last in this module: the node is older by then.)"""
    async with grpc.aio.insecure_channel(target) as ch:
        slot = ch.unary_unary(
            "/geyser.Geyser/GetSlot",
            pb.GetSlotRequest.SerializeToString,
            pb.GetSlotResponse.FromString,
        )
        info = ch.unary_unary(
            "/geyser.Geyser/SubscribeReplayInfo",
            pb.SubscribeReplayInfoRequest.SerializeToString,
            pb.SubscribeReplayInfoResponse.FromString,
        )

        async def ready() -> bool:
            try:
                await slot(pb.GetSlotRequest(commitment=pb.FINALIZED))
            except grpc.aio.AioRpcError:
                return False  # "block is not available yet"
            got = await info(pb.SubscribeReplayInfoRequest())
            return got.HasField("first_available") and got.first_available < 2**64 - 1

        await until_answered(ready, timeout_s, every=0.5)


@pytest.fixture(scope="module")
def plugin_shapes(node: NodeInfo, node_market: tuple[Path, Market]) -> dict[str, Any]:
    _, market = node_market
    asyncio.run(settled(target(node)))
    probe = shapes.probe_for(node.rpc_url, target(node), market.pools, market.config["seed"])
    return asyncio.run(shapes.collect(probe))


def test_the_plugin_answers_as_its_fixture_says(plugin_shapes: dict[str, Any]) -> None:
    want, got = shapes.load_fixture(), plugin_shapes
    # what depends on the node's age ("startup" while it holds fewer than 332
    # blockhashes, longer on a busy node skipping slots): an answer it gave at some age
    for key in shapes.AGE:
        name = key.split(".", 1)[1]
        assert got["unary"][name] in shapes.of_age(want, key), key
    # one node's slot statuses come in the orders its threads make: each slot's from its
    # bank's creation, processed before confirmed
    for seq in got["stream"]["statuses"]:
        s = seq.split()
        assert s[0] == "SLOT_CREATED_BANK" and s.index("SLOT_PROCESSED") < s.index("SLOT_CONFIRMED")
    skip = (*shapes.AGE, "stream.statuses", "unary.relations")
    diff = shapes.compare(want, got, skip=skip)
    assert diff == {}, json.dumps(diff, indent=1, default=str)
    assert want["stream"]["ping_interval_s"] == 10 and shapes.about(
        got["stream"]["ping_interval_s"], 10
    )
    assert (
        got["stream"]["absent"]
        == want["stream"]["absent"]
        == [
            {
                "owner": "11111111111111111111111111111111",
                "lamports": 0,
                "data": 0,
                "executable": False,
                "filters": ["absent"],
            }
        ]
    )

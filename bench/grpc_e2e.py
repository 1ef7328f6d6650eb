"""`python -m bench.grpc_e2e`: Yellowstone gRPC end to end on loopback, socket to graph.

The gRPC counterpart of ``bench.e2e`` (kept apart so each can change alone). A simulator
in its own process (``--serve``: :class:`feeds.sim.server.SimServer` in bench mode with
its Geyser services on, ``feeds.sim.geyser``) serves ``--endpoints`` gRPC endpoints. On
request (``simFlood``) it steps its market ``slots`` slots at once and queues every
stream's updates (slot, account and transaction, the same on every endpoint). This
process measures, alternately, ``--rounds`` times:

- **grpc ceiling**: plain ``grpc.aio`` clients, one stream per endpoint, subscribed with
  the same ``SubscribeRequest`` as arbscope, that only receive the raw bytes and count;
- **arbscope, aio**: the production path, :class:`feeds.clients.pool.FeedPool` with a
  :class:`feeds.clients.yellowstone.GrpcWorker` per endpoint (grpc.aio) handing every
  update to the Rust ``FeedIngest.grpc`` (protobuf, dedup, decode, pool assembly, graph
  update);
- **arbscope, native**: the same pool with the engine's own receiver
  (:class:`feeds.clients.yellowstone.NativeGrpcWorker`: HTTP/2 in a thread of its own,
  the updates applied a batch at a time through ``FeedIngest.frames``);
- **latency**: each arbscope path at a paced rate (``--rate`` updates/s per endpoint):
  server queueing (``CLOCK_MONOTONIC``, same machine) to graph updated, p50/p99.

Throughput is updates (all copies, every endpoint) per second between the first and the
last update of a flood. The goals (issue 38): the native path applies >= 130,000
updates/s, p99 queue -> graph <= 0.5 ms. Prints a table; ``--json PATH`` writes the
figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.e2e import _rpc, pct, served, subscriptions
from bench.report import markdown

SEED = 11
ACCOUNT, SLOT, TRANSACTION = 2, 3, 4
GOAL_RATE, GOAL_P99_US = 130_000, 500  # issue 38's goals for the native path


def serve(seed: int, endpoints: int, tokens: int, pools: int) -> None:
    from feeds.sim.server import EndpointProfile, SimServer
    from feeds.sim.world import WorldConfig

    async def main() -> None:
        profiles = [EndpointProfile(f"bench-{i}", 0.0, 0.0) for i in range(endpoints)]
        cfg = WorldConfig(seed=seed, tokens=tokens, pools=pools)
        async with SimServer(cfg, profiles, bench=True, grpc=True) as sim:
            for info in sim.infos():
                print(info.grpc_url, info.http_url, flush=True)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, sys.stdin.read)  # until the parent goes

    asyncio.run(main())


@contextlib.contextmanager
def settled_gc() -> Iterator[None]:
    """What is alive collected and frozen for a paced run, as the session does once its
    source started (``tui.app.settle_gc``): a full collection then walks only what was
    made since, not the pool, the market and the captured flood (one such walk held the
    loop ~100 ms: the p99 of a paced run)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _varint(buf: bytes | memoryview, at: int) -> tuple[int, int]:
    v = shift = 0
    while True:
        b = buf[at]
        at += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return v, at


def _update_field(buf: bytes | memoryview, at: int, end: int) -> int:
    """The ``update_oneof`` field number of the ``SubscribeUpdate`` in ``buf[at:end]``
    (its top-level fields walked, none parsed: a paced run reads every update's kind, and
    the loop it is measured on must not spend a protobuf parse an update on it); 0: none."""
    found = 0
    while at < end:
        key, at = _varint(buf, at)
        n, wire = key >> 3, key & 7
        if wire == 0:
            _v, at = _varint(buf, at)
        elif wire == 2:
            length, at = _varint(buf, at)
            at += length
            if n != 1:  # (1: the filters' names)
                found = n
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        else:
            return 0
    return found


class Recorder:
    """The Rust ``FeedIngest``, noting when updates reach the graph (see bench.e2e)."""

    def __init__(self, ingest: Any, endpoints: int) -> None:
        self.ingest = ingest
        self.paced = False
        self.done: list[list[int]] = [[] for _ in range(endpoints)]
        self.recv: list[list[int]] = [[] for _ in range(endpoints)]  # (paced) receive ns
        # (paced, native) when the batch's frames call began: received -> began is the
        # hand-over (the wake byte, the loop's wake-up, the take), began -> done the apply
        self.began: list[list[int]] = [[] for _ in range(endpoints)]
        self.count = [0] * endpoints
        self.expect = [-1] * endpoints
        self.last = [0] * endpoints
        self.first_recv = 0

    def grpc(self, endpoint: int, update: bytes, recv_ns: int) -> tuple[int, int]:
        kind, value = self.ingest.grpc(endpoint, update, recv_ns)
        if kind in (ACCOUNT, SLOT, TRANSACTION):
            if self.paced:
                self.done[endpoint].append(time.monotonic_ns())
                self.recv[endpoint].append(recv_ns)
            n = self.count[endpoint] = self.count[endpoint] + 1
            if n == 1 and not self.first_recv:
                self.first_recv = recv_ns
            if n == self.expect[endpoint]:
                self.last[endpoint] = time.monotonic_ns()
        return kind, value

    def frames(
        self, batch: Any, start: int, endpoints: Sequence[int], offset_ns: int
    ) -> tuple[int, list[tuple[int, int, int, int]], int]:
        """A native stream's batch: every update in it reached the graph on return."""
        out: tuple[int, list[tuple[int, int, int, int]], int]
        began = time.monotonic_ns()
        out = self.ingest.frames(batch, start, endpoints, offset_ns)
        now = time.monotonic_ns()
        for ep, n in self._counted(batch, out[1]):
            if self.paced:
                self.done[ep].extend([now] * n)
                self.recv[ep].extend(self._recv.get(ep, []))
                self.began[ep].extend([began] * n)
            c = self.count[ep] = self.count[ep] + n
            if not self.first_recv and n:
                self.first_recv = min(first for _e, _n, first, _last in out[1])
            if self.expect[ep] >= 0 and c >= self.expect[ep] and not self.last[ep]:
                self.last[ep] = now
        return out

    def _counted(self, batch: Any, run: list[tuple[int, int, int, int]]) -> list[tuple[int, int]]:
        """(endpoint, account, slot and transaction updates) of a batch: a paced run reads
        each update's kind (a ping must not take a latency sample), a flood counts all."""
        if not self.paced:
            return [(ep, n) for ep, n, _first, _last in run]
        self._recv: dict[int, list[int]] = {}
        from storage.codec import HEADER

        batch = memoryview(batch)  # (a native stream's GrpcBatch: a buffer, not bytes)

        counts: dict[int, int] = {}
        pos = 0
        while pos + HEADER.size <= len(batch):
            _kind, ep, t_ns, _wall, length = HEADER.unpack_from(batch, pos)
            body = pos + HEADER.size
            pos = body + length
            counted = _update_field(batch, body, pos) in (ACCOUNT, SLOT, TRANSACTION)
            counts[ep] = counts.get(ep, 0) + counted
            if counted:
                self._recv.setdefault(ep, []).append(t_ns)
        return list(counts.items())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ingest, name)


async def _flood(http: str, slots: int, rate: float) -> list[int]:
    res = await _rpc(http, "simFlood", [slots, rate])
    return [int(n) for n in res["grpc"]]


async def _writes(http: str) -> list[list[int]]:
    async with asyncio.timeout(120):
        while True:
            rep = await _rpc(http, "simFloodReport", [])
            if rep["done"]:
                return [list(x) for x in rep["grpc_writes"]]
            await asyncio.sleep(0.05)


async def _ready(http: str, want: int) -> None:
    """Until every endpoint has ``want`` streams with a filter."""
    async with asyncio.timeout(30):
        while any(n < want for n in await _rpc(http, "simGrpcReady", [])):
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def _aio_streams(urls: Sequence[str], request: bytes) -> AsyncIterator[list[Any]]:
    """A plain grpc.aio subscription on each of ``urls`` (``request``, kept open) for the
    block: its calls; cancelled and their channels closed after."""
    import grpc

    from feeds.clients.yellowstone import SUBSCRIBE, target

    opts = [("grpc.max_receive_message_length", 64 << 20)]
    channels = [grpc.aio.insecure_channel(target(u)[0], options=opts) for u in urls]
    calls = []
    try:
        for ch in channels:
            multi = ch.stream_stream(SUBSCRIBE, request_serializer=None, response_deserializer=None)

            async def reqs() -> Any:
                yield request
                await asyncio.Event().wait()

            calls.append(multi(reqs()))
        yield calls
    finally:
        for c in calls:
            c.cancel()
        for ch in channels:
            await ch.close(None)


async def _drained(calls: Sequence[Any], counts: Sequence[int], timeout_s: float) -> float:
    """Read ``counts[i]`` updates from each call (within ``timeout_s``): the seconds from
    the first one received to the last."""
    first: list[int] = []
    last: list[int] = []

    async def drain(call: Any, n: int) -> None:
        read = call.read
        await read()
        first.append(time.monotonic_ns())
        for _ in range(n - 1):
            await read()
        last.append(time.monotonic_ns())

    async with asyncio.timeout(timeout_s):
        await asyncio.gather(*(drain(c, n) for c, n in zip(calls, counts)))
    return (max(last) - min(first)) / 1e9


async def raw_round(urls: Sequence[str], http: str, request: bytes, slots: int) -> float:
    """Updates/s through plain grpc.aio streams that only receive."""
    async with _aio_streams(urls, request) as calls:
        await _ready(http, 1)
        counts = await _flood(http, slots, 0.0)
        took = await _drained(calls, counts, 300)
        await _writes(http)
        return sum(counts) / took


async def native_raw_round(urls: Sequence[str], http: str, request: bytes, slots: int) -> float:
    """Updates/s through the engine's native streams (``GrpcStream``) that only receive
    (nothing applied): the server's ceiling as the native client sees it."""
    import engine_rs
    from feeds.clients.yellowstone import SUBSCRIBE, target

    eng = engine_rs.load("rust")
    streams = [eng.GrpcStream(target(u)[0], SUBSCRIBE, request, i) for i, u in enumerate(urls)]
    try:
        await _ready(http, 1)
        base = [s.seen()[1] for s in streams]
        counts = await _flood(http, slots, 0.0)
        first = 0
        async with asyncio.timeout(300):
            while True:
                got = [s.seen()[1] - b for s, b in zip(streams, base)]
                if not first and any(got):
                    first = time.monotonic_ns()
                if all(g >= n for g, n in zip(got, counts)):
                    break
                await asyncio.sleep(0.001)
        last = time.monotonic_ns()
        await _writes(http)
        return sum(counts) / ((last - first) / 1e9)
    finally:
        for s in streams:
            s.stop()
            s.join()


class Fast:
    """``bench.h2_geyser`` in its own process: the captured updates at the wire's speed."""

    def __init__(self, folder: str, endpoints: int) -> None:
        cmd = [sys.executable, "-m", "bench.h2_geyser", folder, str(endpoints)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.urls = [self.proc.stdout.readline().strip() for _ in range(endpoints)]
        self.counts: list[int] = []  # the updates of each endpoint's loaded flood

    def _ask(self, cmd: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    async def ask(self, cmd: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(None, self._ask, cmd)

    async def ready(self, want: int) -> None:
        async with asyncio.timeout(30):
            while any(int(n) < want for n in (await self.ask("streams")).split()):
                await asyncio.sleep(0.02)

    async def idle(self) -> None:
        """Until the last round's streams are gone (a flood must reach the new ones only)."""
        async with asyncio.timeout(30):
            while any(int(n) for n in (await self.ask("streams")).split()):
                await asyncio.sleep(0.02)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def _taken(stream: Any) -> bytes:
    """Every batch a native stream has queued (a take hands over one batch)."""
    out = []
    while batch := stream.take()[0]:
        out.append(batch)
    return b"".join(out)


async def capture(
    urls: Sequence[str], http: str, request: bytes, slots: int, folder: str
) -> list[int]:
    """A flood of the simulator received by native streams, written gRPC-framed to
    ``folder/<endpoint>.grpc`` for :class:`Fast`; the updates of each endpoint."""
    import engine_rs
    from feeds.clients.yellowstone import SUBSCRIBE, target
    from feeds.wire.geyser import geyser_pb2 as pb
    from storage.codec import HEADER

    eng = engine_rs.load("rust")
    streams = [eng.GrpcStream(target(u)[0], SUBSCRIBE, request, i) for i, u in enumerate(urls)]
    try:
        await _ready(http, 1)
        for s in streams:
            s.take()  # (the ping a stream opens with)
        counts = await _flood(http, slots, 0.0)
        got: list[list[bytes]] = [[] for _ in streams]
        async with asyncio.timeout(300):
            while any(len(g) < n for g, n in zip(got, counts)):
                for s, g in zip(streams, got):
                    batch = _taken(s)
                    pos = 0
                    while pos < len(batch):
                        length = HEADER.unpack_from(batch, pos)[4]
                        body = batch[pos + HEADER.size : pos + HEADER.size + length]
                        pos += HEADER.size + length
                        which = pb.SubscribeUpdate.FromString(body).WhichOneof("update_oneof")
                        if which in ("account", "slot", "transaction"):  # (not a ping)
                            g.append(b"\x00" + len(body).to_bytes(4, "big") + body)
                await asyncio.sleep(0.01)
        await _writes(http)
    finally:
        for s in streams:
            s.stop()
            s.join()
    for i, g in enumerate(got):
        with open(f"{folder}/{i}.grpc", "wb") as f:
            f.write(b"".join(g))
    return [len(g) for g in got]


async def fast_raw_round(client: str, fast: Fast, request: bytes) -> float:
    """Updates/s through streams of ``client`` that only receive, from :class:`Fast`."""
    import engine_rs
    from feeds.clients.yellowstone import SUBSCRIBE, target

    await fast.idle()
    counts = fast.counts
    if client == "native":
        eng = engine_rs.load("rust")
        streams = [
            eng.GrpcStream(target(u)[0], SUBSCRIBE, request, i) for i, u in enumerate(fast.urls)
        ]
        try:
            await fast.ready(1)
            flood = asyncio.create_task(fast.ask("flood"))
            first = 0
            async with asyncio.timeout(60):
                while True:
                    got = [s.seen()[1] for s in streams]
                    if not first and any(got):
                        first = time.monotonic_ns()
                    if all(g >= n for g, n in zip(got, counts)):
                        break
                    await asyncio.sleep(0.0005)
            last = time.monotonic_ns()
            await flood
            return sum(counts) / ((last - first) / 1e9)
        finally:
            for s in streams:
                s.stop()
                s.join()
    async with _aio_streams(fast.urls, request) as calls:
        await fast.ready(1)
        flood = asyncio.create_task(fast.ask("flood"))
        took = await _drained(calls, counts, 60)
        await flood
        return sum(counts) / took


@dataclass(frozen=True)
class WireRun:
    """What a wire-speed round of the pool runs on: the simulator's gRPC and HTTP URLs,
    the market (pools, base mints), the subscription, the flood's slots, and :class:`Fast`
    with the folder its captures go to."""

    sim_urls: Sequence[str]
    http: Sequence[str]
    universe: Any
    bases: Sequence[str]
    request: bytes
    slots: int
    fast: Fast
    folder: str


@contextlib.asynccontextmanager
async def _armed(client: str, run: WireRun) -> AsyncIterator[tuple[Recorder, list[int]]]:
    """A FeedPool + FeedIngest (receiver ``client``) booted from the simulator and
    streaming from :class:`Fast`, a fresh flood newer than its snapshot captured and loaded
    into it, the start's fill done: the recorder (counting from now) and the flood's
    updates per endpoint. The pool stops after the block."""
    import engine_rs
    from feeds.clients.pool import Endpoint, FeedPool
    from feeds.clients.pubsub import WorkerConfig

    fast, http = run.fast, run.http
    eng = engine_rs.load("rust")
    graph = eng.PoolGraph(base_mints=list(run.bases), max_hops=3)
    rec = Recorder(eng.FeedIngest(graph, 1 << 17, 64), len(run.sim_urls))
    quiet = WorkerConfig(
        heartbeat_s=60.0, stale_after_s=600.0, quiet_after_s=600.0, grpc_client=client
    )
    eps = [Endpoint(f"bench-{i}", "", h, grpc=u) for i, (u, h) in enumerate(zip(fast.urls, http))]
    pool = FeedPool(eps, rec, eng, worker_config=quiet, fee_poll_s=3600.0)
    boot = await pool.bootstrap(run.universe)
    counts = await capture(run.sim_urls, http[0], run.request, run.slots, run.folder)
    await fast.ask("load")
    fast.counts = counts
    await fast.idle()
    await pool.start(boot.subscriptions)
    try:
        await fast.ready(1)
        await pool.wait_started(30)  # the start's fill is not the flood's
        rec.count = [0] * len(run.sim_urls)
        rec.expect = counts
        yield rec, counts
    finally:
        await pool.stop()


async def fast_arb_round(client: str, run: WireRun) -> float:
    """Updates/s through FeedPool + FeedIngest (receiver ``client``) at the wire's speed:
    the pool boots from the simulator, a fresh flood newer than its snapshot is captured
    and played back by :class:`Fast` to the pool's streams."""
    fast = run.fast
    async with _armed(client, run) as (rec, counts):
        flood = asyncio.create_task(fast.ask("flood"))
        async with asyncio.timeout(60):
            while any(c < n for c, n in zip(rec.count, counts)):
                await asyncio.sleep(0.005)
        await flood
        return sum(counts) / ((max(rec.last) - rec.first_recv) / 1e9)


async def fast_paced_round(client: str, run: WireRun, rate: float) -> ArbRun:
    """Queue-to-graph latency through FeedPool + FeedIngest (receiver ``client``), the
    captured updates played back by :class:`Fast` at ``rate`` a second per endpoint, each
    stamped as it is written (no simulator's gRPC server in between: the client's share)."""
    fast = run.fast
    async with _armed(client, run) as (rec, counts):
        rec.paced = True
        with settled_gc():
            paced = asyncio.create_task(fast.ask(f"pace {rate}"))
            async with asyncio.timeout(300):
                while any(c < n for c, n in zip(rec.count, counts)):
                    await asyncio.sleep(0.005)
            writes: list[list[int]] = json.loads(await paced)
        lat = [d - w for dd, ww in zip(rec.done, writes) for d, w in zip(dd, ww)]
        wire = [r - w for rr, ww in zip(rec.recv, writes) for r, w in zip(rr, ww)]
        apply = [d - r for dd, rr in zip(rec.done, rec.recv) for d, r in zip(dd, rr)]
        hand = [b - r for bb, rr in zip(rec.began, rec.recv) for b, r in zip(bb, rr)]
        return ArbRun(rate * len(counts), lat, 0, 0, wire, apply, hand)


def _or_nan(round_: Any) -> float:
    """A wire-speed round's rate; NaN (said) when it did not finish within its time."""
    try:
        return float(asyncio.run(round_))
    except TimeoutError:
        print("# a wire-speed round timed out: NaN", file=sys.stderr)
        return float("nan")


@dataclass
class ArbRun:
    rate: float  # updates/s
    latency_ns: list[int]
    first_copies: int
    duplicates: int
    # the latency's two parts (paced): queued -> received (the server, the wire and the
    # receiver's read), received -> graph (the hand-over to the loop and the apply)
    wire_ns: list[int] = field(default_factory=list)
    apply_ns: list[int] = field(default_factory=list)
    # received -> graph's own two parts (native): received -> the frames call began (the
    # hand-over to the loop), began -> graph (the apply)
    handover_ns: list[int] = field(default_factory=list)


async def arb_round(
    urls: Sequence[str],
    http: Sequence[str],
    universe: Any,
    bases: Sequence[str],
    slots: int,
    rate: float,
    client: str = "aio",
) -> ArbRun:
    """Updates/s (and queue-to-graph latency when paced) through FeedPool + FeedIngest,
    the streams received by ``client`` (aio or native)."""
    import engine_rs
    from feeds.clients.pool import Endpoint, FeedPool
    from feeds.clients.pubsub import WorkerConfig

    eng = engine_rs.load("rust")
    graph = eng.PoolGraph(base_mints=list(bases), max_hops=3)
    rec = Recorder(eng.FeedIngest(graph, 1 << 17, 64), len(urls))
    quiet = WorkerConfig(
        heartbeat_s=60.0, stale_after_s=600.0, quiet_after_s=600.0, grpc_client=client
    )
    eps = [Endpoint(f"bench-{i}", "", h, grpc=u) for i, (u, h) in enumerate(zip(urls, http))]
    pool = FeedPool(eps, rec, eng, worker_config=quiet, fee_poll_s=3600.0)
    boot = await pool.bootstrap(universe)
    if boot.missing or boot.rejected:
        raise RuntimeError(f"bootstrap: {len(boot.missing)} missing, {len(boot.rejected)} bad")
    await pool.start(boot.subscriptions)
    got = {getattr(w, "client", "") for w in pool.workers}
    if got != {client}:
        raise RuntimeError(f"asked for the {client} client, got {got}")
    try:
        await _ready(http[0], 1)
        await pool.wait_started(30)  # the start's fill is not the flood's
        rec.count = [0] * len(urls)  # (the ping a stream opens with is not the flood's)
        before = rec.ingest.stats()
        rec.paced = rate > 0
        with settled_gc() if rec.paced else contextlib.nullcontext():
            counts = await _flood(http[0], slots, rate)
            rec.expect = counts
            async with asyncio.timeout(300):
                while any(c < n for c, n in zip(rec.count, counts)):
                    await asyncio.sleep(0.005)
        writes = await _writes(http[0])
        after = rec.ingest.stats()
        span = max(rec.last) - rec.first_recv
        lat = [d - w for dd, ww in zip(rec.done, writes) for d, w in zip(dd, ww)]
        wire = [r - w for rr, ww in zip(rec.recv, writes) for r, w in zip(rr, ww)]
        apply = [d - r for dd, rr in zip(rec.done, rec.recv) for d, r in zip(dd, rr)]
        hand = [b - r for bb, rr in zip(rec.began, rec.recv) for b, r in zip(bb, rr)]
        return ArbRun(
            sum(counts) / (span / 1e9),
            lat,
            after.first_copies - before.first_copies,
            after.duplicates - before.duplicates,
            wire,
            apply,
            hand,
        )
    finally:
        await pool.stop()


def _request(universe: Any, bases: Sequence[str], http: str) -> tuple[bytes, int]:
    """The SubscribeRequest arbscope sends (for the plain clients) and its account count."""
    from feeds.clients.yellowstone import subscribe_request

    subs = subscriptions(universe, bases, http)
    return subscribe_request(subs, "confirmed").SerializeToString(), len(subs)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.grpc_e2e", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--endpoints", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--pools", type=int, default=48)
    ap.add_argument("--slots", type=int, default=300, help="slots per flood (~40 updates each)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=float, default=2000.0, help="paced updates/s per endpoint")
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    if a.serve:
        serve(a.seed, a.endpoints, a.tokens, a.pools)
        return 0

    with served("bench.grpc_e2e", a) as market:
        if not market.http:
            return 1
        universe, bases = market.universe, market.bases
        grpc_urls, http = market.stream, market.http
        request, subs = _request(universe, bases, http[0])
        raw: list[float] = []
        raw_n: list[float] = []
        arb: list[ArbRun] = []
        nat: list[ArbRun] = []
        for r in range(a.rounds):
            raw.append(asyncio.run(raw_round(grpc_urls, http[0], request, a.slots)))
            raw_n.append(asyncio.run(native_raw_round(grpc_urls, http[0], request, a.slots)))
            arb.append(asyncio.run(arb_round(grpc_urls, http, universe, bases, a.slots, 0.0)))
            nat.append(
                asyncio.run(
                    arb_round(grpc_urls, http, universe, bases, a.slots, 0.0, client="native")
                )
            )
            print(
                f"# round {r + 1}: grpc {raw[-1]:,.0f}, native recv {raw_n[-1]:,.0f} updates/s, "
                f"arbscope aio {arb[-1].rate:,.0f}, native {nat[-1].rate:,.0f} updates/s",
                file=sys.stderr,
            )
        fast_rows: dict[str, list[float]] = {}
        with tempfile.TemporaryDirectory() as folder:
            counts = asyncio.run(capture(grpc_urls, http[0], request, a.slots, folder))
            fast = Fast(folder, a.endpoints)
            fast.counts = counts
            wire = WireRun(grpc_urls, http, universe, bases, request, a.slots, fast, folder)
            try:
                for r in range(a.rounds):
                    for client in ("aio", "native"):
                        x = _or_nan(fast_raw_round(client, fast, request))
                        fast_rows.setdefault(f"{client} recv", []).append(x)
                        y = _or_nan(fast_arb_round(client, wire))
                        fast_rows.setdefault(f"{client} arbscope", []).append(y)
                    print(
                        "# wire-speed round "
                        + f"{r + 1}: "
                        + ", ".join(f"{k} {v[-1]:,.0f}" for k, v in fast_rows.items()),
                        file=sys.stderr,
                    )
                fast_paced = asyncio.run(fast_paced_round("native", wire, a.rate))
            finally:
                fast.close()
        paced = asyncio.run(arb_round(grpc_urls, http, universe, bases, a.slots, a.rate))
        paced_nat = asyncio.run(
            arb_round(grpc_urls, http, universe, bases, a.slots, a.rate, client="native")
        )
    raw_m = statistics.median(raw)
    raw_nm = statistics.median(raw_n)
    arb_m = statistics.median(x.rate for x in arb)
    nat_m = statistics.median(x.rate for x in nat)
    lat, lat_n, last = paced.latency_ns, paced_nat.latency_ns, nat[-1]
    fast_m = {k: statistics.median(v) for k, v in fast_rows.items()}
    out = {
        "endpoints": a.endpoints,
        "subscriptions_per_endpoint": subs,
        "grpc_ceiling_msgs_s": raw_m,
        "native_recv_msgs_s": raw_nm,
        "arbscope_grpc_msgs_s": arb_m,
        "arbscope_native_msgs_s": nat_m,
        "share_of_ceiling": arb_m / raw_m,
        "first_copy_share": last.first_copies / max(1, last.first_copies + last.duplicates),
        "paced_rate_msgs_s": a.rate * a.endpoints,
        "latency_p50_us": pct(lat, 0.5) / 1e3,
        "latency_p99_us": pct(lat, 0.99) / 1e3,
        "latency_samples": len(lat),
        "native_latency_p50_us": pct(lat_n, 0.5) / 1e3,
        "native_latency_p99_us": pct(lat_n, 0.99) / 1e3,
        "native_latency_samples": len(lat_n),
        "native_queued_to_received_p50_us": pct(paced_nat.wire_ns, 0.5) / 1e3,
        "native_queued_to_received_p99_us": pct(paced_nat.wire_ns, 0.99) / 1e3,
        "native_received_to_graph_p50_us": pct(paced_nat.apply_ns, 0.5) / 1e3,
        "native_received_to_graph_p99_us": pct(paced_nat.apply_ns, 0.99) / 1e3,
        "native_handover_p99_us": pct(paced_nat.handover_ns, 0.99) / 1e3,
        "wire_speed_msgs_s": fast_m,
        "wire_speed_native_latency_p50_us": pct(fast_paced.latency_ns, 0.5) / 1e3,
        "wire_speed_native_latency_p99_us": pct(fast_paced.latency_ns, 0.99) / 1e3,
        "wire_speed_native_written_to_received_p99_us": pct(fast_paced.wire_ns, 0.99) / 1e3,
        "wire_speed_native_received_to_graph_p99_us": pct(fast_paced.apply_ns, 0.99) / 1e3,
        "wire_speed_native_handover_p99_us": pct(fast_paced.handover_ns, 0.99) / 1e3,
        "wire_speed_native_latency_samples": len(fast_paced.latency_ns),
    }
    paced_at = f"{a.rate * a.endpoints:,.0f} msg/s"

    def goal(ok: bool) -> str:
        return "goal met" if ok else "goal NOT met"

    rows = [
        ("grpc.aio recv only (ceiling of the aio path)", f"{raw_m:,.0f} msg/s", "100 %"),
        (
            "native GrpcStream recv only (the server's pace)",
            f"{raw_nm:,.0f} msg/s",
            f"{100 * raw_nm / raw_m:.0f} %",
        ),
        (
            "arbscope aio: GrpcWorker + Rust FeedIngest.grpc",
            f"{arb_m:,.0f} msg/s",
            f"{100 * arb_m / raw_m:.0f} %",
        ),
        (
            "arbscope native: GrpcStream + Rust FeedIngest.frames",
            f"{nat_m:,.0f} msg/s",
            f"{100 * nat_m / raw_m:.0f} % (the simulator's server bounds both)",
        ),
        (
            "wire speed (bench.h2_geyser): grpc.aio recv only",
            f"{fast_m['aio recv']:,.0f} msg/s",
            "",
        ),
        (
            "wire speed: native GrpcStream recv only",
            f"{fast_m['native recv']:,.0f} msg/s",
            "",
        ),
        (
            "wire speed: arbscope aio (GrpcWorker + FeedIngest.grpc)",
            f"{fast_m['aio arbscope']:,.0f} msg/s",
            "",
        ),
        (
            "wire speed: arbscope native (GrpcStream + FeedIngest.frames)",
            f"{fast_m['native arbscope']:,.0f} msg/s",
            f">= {GOAL_RATE:,}: {goal(fast_m['native arbscope'] >= GOAL_RATE)}",
        ),
        (f"aio latency at {paced_at}, p50", f"{out['latency_p50_us']:,.0f} µs", "queued -> graph"),
        (f"aio latency at {paced_at}, p99", f"{out['latency_p99_us']:,.0f} µs", "queued -> graph"),
        (
            f"native latency at {paced_at}, p50",
            f"{out['native_latency_p50_us']:,.0f} µs",
            "queued -> graph",
        ),
        (
            f"native latency at {paced_at}, p99",
            f"{out['native_latency_p99_us']:,.0f} µs",
            f"queued -> graph; <= {GOAL_P99_US} µs: "
            f"{goal(out['native_latency_p99_us'] <= GOAL_P99_US)}",
        ),
        (
            f"wire speed: native latency at {paced_at}, p50 / p99",
            f"{out['wire_speed_native_latency_p50_us']:,.0f} / "
            f"{out['wire_speed_native_latency_p99_us']:,.0f} µs",
            "written (bench.h2_geyser) -> graph: the client's share; p99 of its parts: "
            f"-> received {out['wire_speed_native_written_to_received_p99_us']:,.0f}, "
            f"-> graph {out['wire_speed_native_received_to_graph_p99_us']:,.0f} µs "
            f"(of which the hand-over to the loop "
            f"{out['wire_speed_native_handover_p99_us']:,.0f})",
        ),
        (
            "native: queued -> received, p50 / p99",
            f"{out['native_queued_to_received_p50_us']:,.0f} / "
            f"{out['native_queued_to_received_p99_us']:,.0f} µs",
            "the simulator's server, the wire, the receiver's read",
        ),
        (
            "native: received -> graph, p50 / p99",
            f"{out['native_received_to_graph_p50_us']:,.0f} / "
            f"{out['native_received_to_graph_p99_us']:,.0f} µs",
            "the hand-over to the loop (p99 "
            f"{out['native_handover_p99_us']:,.0f} µs: received -> the frames call began), "
            "the apply",
        ),
    ]
    print(
        f"# Yellowstone gRPC end to end, loopback, {a.endpoints} endpoints x {subs} "
        f"subscriptions (one filter), medians of {a.rounds} floods of {a.slots} slots; "
        f"first copies {100 * out['first_copy_share']:.0f} % of updates"
    )
    print("\n".join(markdown(("path", "rate", "share"), rows)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

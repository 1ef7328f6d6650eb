"""`python -m bench.e2e`: end to end on loopback, socket to graph.

A simulator in its own process (``--serve``: :class:`feeds.sim.server.SimServer` in bench
mode, no slot clock) serves ``--endpoints`` PubSub endpoints. On request (``simFlood``) it
steps its market ``slots`` slots at once and writes every subscriber's notifications
(slot, account and logs, the same stream on every endpoint) straight to the sockets, so
the server is never the bottleneck. This process measures, alternately, ``--rounds``
times:

- **websockets ceiling**: plain ``websockets`` clients, one per endpoint, subscribed to
  the same accounts, that only receive (``recv(decode=False)``) and count;
- **arbscope**: the production path, :class:`feeds.clients.pool.FeedPool` workers (one per
  endpoint) handing every frame to the Rust ``FeedIngest`` (JSON, base64, dedup, decode,
  pool assembly, graph update in one call);
- **latency**: the same arbscope path at a paced rate (``--rate`` messages/s per
  endpoint): server write (``CLOCK_MONOTONIC``, same machine) to graph updated, p50/p99.

Throughput is messages (all copies, every endpoint) per second between the first and the
last message of a flood. Prints a table; ``--json PATH`` writes the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import websockets

SEED = 11


# ---------------------------------------------------------------- the server process
def serve(seed: int, endpoints: int, tokens: int, pools: int) -> None:
    from feeds.sim.server import EndpointProfile, SimServer
    from feeds.sim.world import WorldConfig

    async def main() -> None:
        profiles = [EndpointProfile(f"bench-{i}", 0.0, 0.0) for i in range(endpoints)]
        cfg = WorldConfig(seed=seed, tokens=tokens, pools=pools)
        async with SimServer(cfg, profiles, bench=True) as sim:
            for info in sim.infos():
                print(info.ws_url, info.http_url, flush=True)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, sys.stdin.read)  # until the parent goes

    asyncio.run(main())


# ---------------------------------------------------------------- the client side
class Recorder:
    """The Rust ``FeedIngest``, noting when notifications reach the graph: every one
    when ``paced`` (latency), otherwise only the first received and the last of each
    endpoint's ``expect`` (so the measurement costs next to nothing)."""

    def __init__(self, ingest: Any, endpoints: int) -> None:
        self.ingest = ingest
        self.paced = False
        self.done: list[list[int]] = [[] for _ in range(endpoints)]
        self.count = [0] * endpoints
        self.expect = [-1] * endpoints
        self.last = [0] * endpoints
        self.first_recv = 0

    def frame(self, endpoint: int, frame: bytes, recv_ns: int) -> int:
        sid: int = self.ingest.frame(endpoint, frame, recv_ns)
        if sid >= 0:
            if self.paced:
                self.done[endpoint].append(time.monotonic_ns())
            n = self.count[endpoint] = self.count[endpoint] + 1
            if n == 1 and not self.first_recv:
                self.first_recv = recv_ns
            if n == self.expect[endpoint]:
                self.last[endpoint] = time.monotonic_ns()
        return sid

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ingest, name)


async def _rpc(url: str, method: str, params: list[Any]) -> Any:
    from feeds.clients.rpc import RpcClient

    client = RpcClient(url, timeout_s=60.0)
    try:
        return await client.call(method, params)
    finally:
        await client.close()


async def _flood(http: str, slots: int, rate: float) -> list[int]:
    res = await _rpc(http, "simFlood", [slots, rate])
    return [int(n) for n in res["messages"]]


async def _writes(http: str) -> list[list[int]]:
    while True:
        rep = await _rpc(http, "simFloodReport", [])
        if rep["done"]:
            return [list(x) for x in rep["writes"]]
        await asyncio.sleep(0.05)


async def raw_round(ws: Sequence[str], http: str, texts: Sequence[str], slots: int) -> float:
    """Messages/s through plain websockets clients that only receive."""
    conns = [await websockets.connect(u, max_size=16 << 20, compression=None) for u in ws]
    try:
        for c in conns:
            for t in texts:
                await c.send(t)
            for _ in texts:
                await c.recv(decode=False)
        counts = await _flood(http, slots, 0.0)
        first: list[int] = []
        last: list[int] = []

        async def drain(c: Any, n: int) -> None:
            recv = c.recv
            await recv(decode=False)
            first.append(time.monotonic_ns())
            for _ in range(n - 1):
                await recv(decode=False)
            last.append(time.monotonic_ns())

        await asyncio.gather(*(drain(c, n) for c, n in zip(conns, counts)))
        await _writes(http)
        return sum(counts) / ((max(last) - min(first)) / 1e9)
    finally:
        for c in conns:
            await c.close()


@dataclass
class ArbRun:
    rate: float  # messages/s
    latency_ns: list[int]
    first_copies: int
    duplicates: int


async def arb_round(
    ws: Sequence[str], http: Sequence[str], universe: Any, bases: Sequence[str],
    slots: int, rate: float,
) -> ArbRun:  # fmt: skip
    """Messages/s (and write-to-graph latency when paced) through FeedPool + FeedIngest."""
    import engine_rs
    from feeds.clients.pool import Endpoint, FeedPool
    from feeds.clients.pubsub import WorkerConfig

    eng = engine_rs.load("rust")
    graph = eng.PoolGraph(base_mints=list(bases), max_hops=3)
    rec = Recorder(eng.FeedIngest(graph, 1 << 17, 64), len(ws))
    quiet = WorkerConfig(heartbeat_s=60.0, stale_after_s=600.0, quiet_after_s=600.0)
    eps = [Endpoint(f"bench-{i}", w, h) for i, (w, h) in enumerate(zip(ws, http))]
    pool = FeedPool(eps, rec, eng, worker_config=quiet, fee_poll_s=3600.0)
    boot = await pool.bootstrap(universe)
    if boot.missing or boot.rejected:
        raise RuntimeError(f"bootstrap: {len(boot.missing)} missing, {len(boot.rejected)} bad")
    await pool.start(boot.subscriptions)
    try:
        want = len(boot.subscriptions)
        deadline = time.monotonic() + 30
        while any(h.subscriptions < want for h in pool.health()):
            if time.monotonic() > deadline:
                raise RuntimeError("subscriptions were not all answered")
            await asyncio.sleep(0.01)
        before = rec.ingest.stats()
        rec.paced = rate > 0
        counts = await _flood(http[0], slots, rate)
        rec.expect = counts
        deadline = time.monotonic() + 120
        while any(c < n for c, n in zip(rec.count, counts)):
            if time.monotonic() > deadline:
                raise RuntimeError("the flood did not arrive in full")
            await asyncio.sleep(0.005)
        writes = await _writes(http[0])
        after = rec.ingest.stats()
        span = max(rec.last) - rec.first_recv  # first received to last in the graph
        lat = [d - w for dd, ww in zip(rec.done, writes) for d, w in zip(dd, ww)]
        return ArbRun(
            sum(counts) / (span / 1e9),
            lat,
            after.first_copies - before.first_copies,
            after.duplicates - before.duplicates,
        )
    finally:
        await pool.stop()


def _subscribe_texts(universe: Any, bases: Sequence[str], http: str) -> list[str]:
    """The subscribe requests arbscope sends, for the plain clients (same server work)."""

    async def boot() -> list[str]:
        import engine_rs
        from feeds.clients.pool import Endpoint, FeedPool
        from feeds.wire.protocol import Book

        eng = engine_rs.load("rust")
        ing = eng.FeedIngest(eng.PoolGraph(base_mints=list(bases), max_hops=3), 1024, 8)
        pool = FeedPool([Endpoint("probe", "ws://unused", http)], ing, eng)
        b = await pool.bootstrap(universe)
        book = Book()
        return [book.subscribe(s) for s in b.subscriptions]

    return asyncio.run(boot())


def pct(xs: Sequence[int], q: float) -> float:
    s = sorted(xs)
    return float(s[min(len(s) - 1, int(q * len(s)))]) if s else float("nan")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.e2e", description=__doc__.split("\n")[0])
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--endpoints", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--pools", type=int, default=48)
    ap.add_argument("--slots", type=int, default=1000, help="slots per flood (~40 msgs each)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=float, default=2000.0, help="paced msgs/s per endpoint")
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    if a.serve:
        serve(a.seed, a.endpoints, a.tokens, a.pools)
        return 0

    from feeds.sim.world import World, WorldConfig

    world = World(WorldConfig(seed=a.seed, tokens=a.tokens, pools=a.pools))
    universe, bases = world.universe(), list(world.bases)
    cmd = [sys.executable, "-m", "bench.e2e", "--serve", "--seed", str(a.seed),
           "--endpoints", str(a.endpoints), "--tokens", str(a.tokens),
           "--pools", str(a.pools)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        urls = [proc.stdout.readline().split() for _ in range(a.endpoints)]
        if not all(len(u) == 2 for u in urls):
            print("the simulator did not start", file=sys.stderr)
            return 1
        ws, http = [u[0] for u in urls], [u[1] for u in urls]
        texts = _subscribe_texts(universe, bases, http[0])
        raw: list[float] = []
        arb: list[ArbRun] = []
        for r in range(a.rounds):
            raw.append(asyncio.run(raw_round(ws, http[0], texts, a.slots)))
            arb.append(asyncio.run(arb_round(ws, http, universe, bases, a.slots, 0.0)))
            print(f"# round {r + 1}: websockets {raw[-1]:,.0f} msg/s, "
                  f"arbscope {arb[-1].rate:,.0f} msg/s", file=sys.stderr)  # fmt: skip
        paced = asyncio.run(arb_round(ws, http, universe, bases, a.slots, a.rate))
    finally:
        with contextlib.suppress(Exception):
            assert proc.stdin is not None
            proc.stdin.close()
        proc.wait(timeout=10)
    raw_m = statistics.median(raw)
    arb_m = statistics.median(x.rate for x in arb)
    lat, last = paced.latency_ns, arb[-1]
    out = {
        "endpoints": a.endpoints,
        "subscriptions_per_endpoint": len(texts),
        "websockets_ceiling_msgs_s": raw_m,
        "arbscope_msgs_s": arb_m,
        "share_of_ceiling": arb_m / raw_m,
        "first_copy_share": last.first_copies / max(1, last.first_copies + last.duplicates),
        "paced_rate_msgs_s": a.rate * a.endpoints,
        "latency_p50_us": pct(lat, 0.5) / 1e3,
        "latency_p99_us": pct(lat, 0.99) / 1e3,
        "latency_samples": len(lat),
    }
    rows = [
        ("websockets recv only (ceiling)", f"{raw_m:,.0f} msg/s", "100 %"),
        ("arbscope: FeedPool + Rust FeedIngest", f"{arb_m:,.0f} msg/s",
         f"{100 * arb_m / raw_m:.0f} %"),
        (f"latency at {a.rate * a.endpoints:,.0f} msg/s, p50",
         f"{out['latency_p50_us']:,.0f} µs", "write -> graph"),
        (f"latency at {a.rate * a.endpoints:,.0f} msg/s, p99",
         f"{out['latency_p99_us']:,.0f} µs", "write -> graph"),
    ]  # fmt: skip
    print(f"# end to end, loopback, {a.endpoints} endpoints x {len(texts)} subscriptions, "
          f"medians of {a.rounds} floods of {a.slots} slots; first copies "
          f"{100 * out['first_copy_share']:.0f} % of frames")  # fmt: skip
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"| {'path':<{w[0]}} | {'rate':<{w[1]}} | {'share':<{w[2]}} |")
    print(f"|{'-' * (w[0] + 2)}|{'-' * (w[1] + 2)}|{'-' * (w[2] + 2)}|")
    for row in rows:
        print(f"| {row[0]:<{w[0]}} | {row[1]:<{w[1]}} | {row[2]:<{w[2]}} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

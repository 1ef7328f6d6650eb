"""`python -m bench.e2e`: end to end on loopback, socket to graph, per feed transport.

A simulator in its own process (``--serve``: :class:`feeds.sim.server.SimServer` in bench
mode, no slot clock) serves ``--endpoints`` PubSub endpoints. On request (``simFlood``) it
steps its market ``slots`` slots at once and writes every subscriber's notifications
(slot, account and logs, the same stream on every endpoint) straight to the sockets, so
the server is never the bottleneck. Each feed of :data:`FEEDS` (PubSub on ``websockets``,
PubSub on ``picows``; a :class:`Feed` is the place for another, e.g. a gRPC stream) is
measured, the feeds taking turns, ``--rounds`` times:

- **ceiling**: plain clients of that transport, one per endpoint, subscribed to the same
  accounts, that only receive and count;
- **arbscope**: the production path, :class:`feeds.clients.pool.FeedPool` workers (one per
  endpoint) on that transport handing every frame to the Rust ``FeedIngest`` (JSON,
  base64, dedup, decode, pool assembly, graph update in one call);
- **latency** (once per feed): the same arbscope path at a paced rate (``--rate``
  messages/s per endpoint): server write (``CLOCK_MONOTONIC``, same machine) to graph
  updated, p50/p99.

Throughput is messages (all copies, every endpoint) per second between the first and the
last message of a flood; "per core" is the same messages per CPU-second this process
spent over that span (the client is one thread: its rate on one core of its own, which
the wall-clock rate is not where the simulator and other work share the cores). Prints a
table; ``--json PATH`` writes the figures.
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
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import websockets

from bench.report import markdown

if TYPE_CHECKING:
    from feeds.wire.protocol import Subscription

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
def _runqueue_ns() -> int:
    """Time this process has waited for a core while runnable (Linux schedstat; 0
    elsewhere): how much other work on the machine took from a measurement."""
    try:
        with open("/proc/self/schedstat") as f:
            return int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


@dataclass
class Span:
    """When a flood's messages were received: the first, the last (monotonic ns), and
    this process's CPU time and run-queue wait (ns) at each."""

    first_ns: int = 0
    first_cpu: int = 0
    first_wait: int = 0
    last_ns: int = 0
    last_cpu: int = 0
    last_wait: int = 0

    def start(self) -> None:
        if not self.first_ns:
            self.first_ns, self.first_cpu = time.monotonic_ns(), time.process_time_ns()
            self.first_wait = _runqueue_ns()

    def stop(self) -> None:
        self.last_ns, self.last_cpu = time.monotonic_ns(), time.process_time_ns()
        self.last_wait = _runqueue_ns()


@dataclass
class Measure:
    """One flood through one path: messages/s on the wall clock and per CPU-second;
    ``waited``: the share of the span the client spent runnable but without a core."""

    rate: float
    per_core: float
    waited: float = 0.0
    latency_ns: list[int] = field(default_factory=list)
    first_copies: int = 0
    duplicates: int = 0
    # first copies the ingest refused (older than what it held: a maintenance round's
    # read during an unpaced flood is newer than the flood's queued copies); a later copy
    # of the same notification is a first copy again
    refused_first: int = 0
    messages: int = 0

    @staticmethod
    def of(messages: int, span: Span, **kw: Any) -> Measure:
        wall = (span.last_ns - span.first_ns) / 1e9
        cpu = (span.last_cpu - span.first_cpu) / 1e9
        waited = (span.last_wait - span.first_wait) / 1e9 / wall
        rate, per_core = messages / wall, messages / cpu if cpu > 0 else float("nan")
        return Measure(rate, per_core, waited, messages=messages, **kw)


@dataclass
class Bench:
    """The running simulator and the session's pools, what every measurement needs."""

    ws: list[str]
    http: list[str]
    texts: list[str]  # the subscribe requests arbscope sends, for the plain clients
    universe: Any
    bases: list[str]
    slots: int
    paced_slots: int
    rate: float


@dataclass
class Feed:
    """One way into the graph, measured as a table row: its receive-only ceiling and the
    arbscope path through it (``arbscope(bench, rate)``: a flood when ``rate`` is 0,
    else paced at ``rate`` messages/s per endpoint, every message's latency timed). Each
    call runs in an event loop of its own."""

    name: str
    ceiling: Callable[[Bench], Coroutine[Any, Any, Measure]]
    arbscope: Callable[[Bench, float], Coroutine[Any, Any, Measure]]


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
        self.left = endpoints  # endpoints whose flood has not all arrived
        self.span = Span()

    def frame(self, endpoint: int, frame: Any, recv_ns: int) -> int:
        sid: int = self.ingest.frame(endpoint, frame, recv_ns)
        if sid >= 0:
            if self.paced:
                self.done[endpoint].append(time.monotonic_ns())
            n = self.count[endpoint] = self.count[endpoint] + 1
            if n == 1:
                self.span.start()
            if n == self.expect[endpoint]:
                self.left -= 1
                if not self.left:
                    self.span.stop()
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


async def websockets_ceiling(b: Bench) -> Measure:
    """Messages/s through plain websockets clients that only receive."""
    conns = [await websockets.connect(u, max_size=16 << 20, compression=None) for u in b.ws]
    try:
        for c in conns:
            for t in b.texts:
                await c.send(t)
            for _ in b.texts:
                await c.recv(decode=False)
        counts = await _flood(b.http[0], b.slots, 0.0)
        span, left = Span(), [len(conns)]

        async def drain(c: Any, n: int) -> None:
            recv = c.recv
            await recv(decode=False)
            span.start()
            for _ in range(n - 1):
                await recv(decode=False)
            left[0] -= 1
            if not left[0]:
                span.stop()

        await asyncio.gather(*(drain(c, n) for c, n in zip(conns, counts)))
        await _writes(b.http[0])
        return Measure.of(sum(counts), span)
    finally:
        for c in conns:
            await c.close()


async def picows_ceiling(b: Bench) -> Measure:
    """Messages/s through plain picows clients that only receive (a listener counting
    the text frames picows parses, touching none)."""
    import picows

    span, left, done = Span(), [len(b.ws)], asyncio.Event()
    text = picows.WSMsgType.TEXT

    class Counter(picows.WSListener):  # type: ignore[misc]
        def __init__(self) -> None:
            self.n, self.want = 0, -1

        def on_ws_frame(self, transport: picows.WSTransport, frame: picows.WSFrame) -> None:
            if frame.msg_type != text:
                return
            self.n += 1
            if self.n == 1 and self.want > 0:
                span.start()
            if self.n == self.want:
                left[0] -= 1
                if not left[0]:
                    span.stop()
                    done.set()

    conns: list[tuple[picows.WSTransport, Counter]] = []
    for u in b.ws:
        t, listener = await picows.ws_connect(Counter, u, max_frame_size=16 << 20)
        assert isinstance(listener, Counter)
        conns.append((t, listener))
    try:
        for t, _ in conns:
            for x in b.texts:
                t.send(picows.WSMsgType.TEXT, x.encode())
        deadline = time.monotonic() + 30
        while any(c.n < len(b.texts) for _, c in conns):  # every subscription answered
            if time.monotonic() > deadline:
                raise RuntimeError("subscriptions were not all answered")
            await asyncio.sleep(0.01)
        for _, c in conns:
            c.n = 0
        counts = await _flood(b.http[0], b.slots, 0.0)
        for (_, c), n in zip(conns, counts):
            c.want = n
        await asyncio.wait_for(done.wait(), 120)
        await _writes(b.http[0])
        return Measure.of(sum(counts), span)
    finally:
        for t, _ in conns:
            t.disconnect()


async def arb_round(b: Bench, transport: str, rate: float) -> Measure:
    """Messages/s (and write-to-graph latency when paced) through FeedPool + FeedIngest
    over PubSub on ``transport``."""
    import engine_rs
    from feeds.clients.pool import Endpoint, FeedPool
    from feeds.clients.pubsub import WorkerConfig

    eng = engine_rs.load("rust")
    graph = eng.PoolGraph(base_mints=list(b.bases), max_hops=3)
    rec = Recorder(eng.FeedIngest(graph, 1 << 17, 64), len(b.ws))
    quiet = WorkerConfig(
        heartbeat_s=60.0, stale_after_s=600.0, quiet_after_s=600.0, transport=transport
    )
    eps = [Endpoint(f"bench-{i}", w, h) for i, (w, h) in enumerate(zip(b.ws, b.http))]
    pool = FeedPool(eps, rec, eng, worker_config=quiet, fee_poll_s=3600.0)
    boot = await pool.bootstrap(b.universe)
    if boot.missing or boot.rejected:
        raise RuntimeError(f"bootstrap: {len(boot.missing)} missing, {len(boot.rejected)} bad")
    await pool.start(boot.subscriptions)
    try:
        # every subscription answered and the start's gap fetched (its accounts are not
        # the flood's: counted in, they moved the first copies' share off a third)
        await pool.wait_started(30)
        before = rec.ingest.stats()
        refused0 = sum(e.refused_first for e in rec.ingest.endpoint_stats())
        rec.paced = rate > 0
        counts = await _flood(b.http[0], b.paced_slots if rate > 0 else b.slots, rate)
        rec.expect = counts
        deadline = time.monotonic() + 120
        while any(c < n for c, n in zip(rec.count, counts)):
            if time.monotonic() > deadline:
                raise RuntimeError("the flood did not arrive in full")
            await asyncio.sleep(0.005)
        writes = await _writes(b.http[0])
        after = rec.ingest.stats()
        lat = [d - w for dd, ww in zip(rec.done, writes) for d, w in zip(dd, ww)]
        return Measure.of(
            sum(counts),
            rec.span,
            latency_ns=lat,
            first_copies=after.first_copies - before.first_copies,
            duplicates=after.duplicates - before.duplicates,
            refused_first=sum(e.refused_first for e in rec.ingest.endpoint_stats()) - refused0,
        )
    finally:
        await pool.stop()


def pubsub(transport: str, ceiling: Callable[[Bench], Coroutine[Any, Any, Measure]]) -> Feed:
    """PubSub (JSON over WebSocket) on ``transport`` (``feeds.transport``)."""

    async def arbscope(b: Bench, rate: float) -> Measure:
        return await arb_round(b, transport, rate)

    return Feed(f"PubSub on {transport}", ceiling, arbscope)


# the feeds measured, the first being today's baseline ("vs" column); a feed of another
# kind (a gRPC stream) adds its Feed here
FEEDS: list[Feed] = [
    pubsub("websockets", websockets_ceiling),
    pubsub("picows", picows_ceiling),
]


def subscriptions(universe: Any, bases: Sequence[str], http: str) -> list[Subscription]:
    """The subscriptions arbscope makes on the market at ``http`` (what a throwaway
    pool's snapshot finds), for the plain clients: the same server work."""

    async def boot() -> list[Subscription]:
        import engine_rs
        from feeds.clients.pool import Endpoint, FeedPool

        eng = engine_rs.load("rust")
        ing = eng.FeedIngest(eng.PoolGraph(base_mints=list(bases), max_hops=3), 1024, 8)
        pool = FeedPool([Endpoint("probe", "ws://unused", http)], ing, eng)
        try:
            return list((await pool.bootstrap(universe)).subscriptions)
        finally:
            await pool.stop()  # (its HTTP connections)

    return asyncio.run(boot())


def _subscribe_texts(universe: Any, bases: Sequence[str], http: str) -> list[str]:
    """The subscribe requests arbscope sends, for the plain clients (same server work)."""
    from feeds.wire.protocol import Book

    book = Book()
    return [book.subscribe(s) for s in subscriptions(universe, bases, http)]


def pct(xs: Sequence[int], q: float) -> float:
    s = sorted(xs)
    return float(s[min(len(s) - 1, int(q * len(s)))]) if s else float("nan")


@dataclass
class Result:
    """A feed's figures: medians over the rounds, latency from the paced run."""

    feed: str
    ceiling: float
    ceiling_per_core: float
    arbscope: float
    arbscope_per_core: float
    latency_p50_us: float
    latency_p99_us: float
    latency_samples: int
    first_copy_share: float
    rounds: list[dict[str, float]]
    # the last flood's counts (every copy of every message: first copies + duplicates)
    messages: int = 0
    first_copies: int = 0
    duplicates: int = 0
    refused_first: int = 0

    @staticmethod
    def of(feed: str, ceilings: list[Measure], arbs: list[Measure], paced: Measure) -> Result:
        last = arbs[-1]
        return Result(
            feed,
            statistics.median(m.rate for m in ceilings),
            statistics.median(m.per_core for m in ceilings),
            statistics.median(m.rate for m in arbs),
            statistics.median(m.per_core for m in arbs),
            pct(paced.latency_ns, 0.5) / 1e3,
            pct(paced.latency_ns, 0.99) / 1e3,
            len(paced.latency_ns),
            last.first_copies / max(1, last.first_copies + last.duplicates),
            [
                {
                    "ceiling": c.rate,
                    "ceiling_per_core": c.per_core,
                    "arbscope": a.rate,
                    "arbscope_per_core": a.per_core,
                    "ceiling_waited": c.waited,
                    "arbscope_waited": a.waited,
                }
                for c, a in zip(ceilings, arbs)
            ],
            last.messages,
            last.first_copies,
            last.duplicates,
            last.refused_first,
        )


def table(results: Sequence[Result], paced_rate: float) -> list[str]:
    """The results as a Markdown table, each feed against the first (today's)."""
    base = results[0]
    head = (
        "feed",
        "recv-only ceiling",
        "arbscope",
        "of ceiling",
        "arbscope per core",
        f"vs {base.feed}",
        f"latency p50 / p99 at {paced_rate:,.0f} msg/s",
    )
    rows = [head]
    for r in results:
        rows.append(
            (
                r.feed,
                f"{r.ceiling:,.0f} msg/s ({r.ceiling_per_core:,.0f}/core)",
                f"{r.arbscope:,.0f} msg/s",
                f"{100 * r.arbscope / r.ceiling:.0f} %",
                f"{r.arbscope_per_core:,.0f} msg/s",
                f"{r.arbscope / base.arbscope:.2f}x "
                f"({r.arbscope_per_core / base.arbscope_per_core:.2f}x per core)",
                f"{r.latency_p50_us:,.0f} / {r.latency_p99_us:,.0f} µs",
            )
        )
    return markdown(head, rows[1:])


@dataclass
class Served:
    """The simulated market a bench serves from a process of its own (``pid``): its pools
    and base mints, and its endpoints' stream and HTTP URLs (none when the simulator did
    not start: said on stderr)."""

    universe: list[tuple[str, str]]
    bases: list[str]
    stream: list[str]
    http: list[str]
    pid: int


@contextlib.contextmanager
def served(module: str, a: argparse.Namespace) -> Iterator[Served]:
    """``python -m module --serve`` on the market of ``a`` (seed, endpoints, tokens,
    pools) for the block; its stdin closed after it (the server's signal to end)."""
    from feeds.sim.world import World, WorldConfig

    world = World(WorldConfig(seed=a.seed, tokens=a.tokens, pools=a.pools))
    cmd = [sys.executable, "-m", module, "--serve", "--seed", str(a.seed)]
    cmd += ["--endpoints", str(a.endpoints), "--tokens", str(a.tokens), "--pools", str(a.pools)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        urls = [proc.stdout.readline().split() for _ in range(a.endpoints)]
        if not all(len(u) == 2 for u in urls):
            print("the simulator did not start", file=sys.stderr)
            urls = []
        stream, http = [u[0] for u in urls], [u[1] for u in urls]
        yield Served(world.universe(), list(world.bases), stream, http, proc.pid)
    finally:
        with contextlib.suppress(Exception):
            assert proc.stdin is not None
            proc.stdin.close()
        proc.wait(timeout=10)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.e2e", description=__doc__.split("\n")[0])
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--endpoints", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--pools", type=int, default=48)
    ap.add_argument("--slots", type=int, default=800, help="slots per flood (~46 msgs each)")
    ap.add_argument("--paced-slots", type=int, default=200, help="slots of the paced run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=float, default=2000.0, help="paced msgs/s per endpoint")
    ap.add_argument(
        "--feed",
        action="append",
        metavar="NAME",
        help="only the feeds whose name contains NAME (repeatable)",
    )
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    if a.serve:
        serve(a.seed, a.endpoints, a.tokens, a.pools)
        return 0
    feeds = [f for f in FEEDS if not a.feed or any(n in f.name for n in a.feed)]
    if not feeds:
        print(f"no feed matches {a.feed}: {', '.join(f.name for f in FEEDS)}", file=sys.stderr)
        return 2

    with served("bench.e2e", a) as market:
        if not market.http:
            return 1
        universe, bases, ws, http = market.universe, market.bases, market.stream, market.http
        b = Bench(
            ws,
            http,
            _subscribe_texts(universe, bases, http[0]),
            universe,
            bases,
            a.slots,
            a.paced_slots,
            a.rate,
        )
        ceilings: dict[str, list[Measure]] = {f.name: [] for f in feeds}
        arbs: dict[str, list[Measure]] = {f.name: [] for f in feeds}
        for r in range(a.rounds):
            for f in feeds:  # the feeds take turns: a slow spell of the machine hits all
                ceilings[f.name].append(asyncio.run(f.ceiling(b)))
                arbs[f.name].append(asyncio.run(f.arbscope(b, 0.0)))
                c, m = ceilings[f.name][-1], arbs[f.name][-1]
                print(
                    f"# round {r + 1}, {f.name}: ceiling {c.rate:,.0f} msg/s, arbscope "
                    f"{m.rate:,.0f} msg/s ({m.per_core:,.0f} per core; waited for a core "
                    f"{100 * c.waited:.0f} % / {100 * m.waited:.0f} % of the time)",
                    file=sys.stderr,
                )
        paced: dict[str, Measure] = {f.name: asyncio.run(f.arbscope(b, a.rate)) for f in feeds}
    results = [Result.of(f.name, ceilings[f.name], arbs[f.name], paced[f.name]) for f in feeds]
    share = results[0].first_copy_share
    print(
        f"# end to end, loopback, {a.endpoints} endpoints x {len(b.texts)} subscriptions, "
        f"medians of {a.rounds} floods of {a.slots} slots; first copies {100 * share:.0f} % "
        "of frames; per core: messages per CPU-second of the client process"
    )
    for line in table(results, a.rate * a.endpoints):
        print(line)
    if a.json:
        out = {
            "endpoints": a.endpoints,
            "subscriptions_per_endpoint": len(b.texts),
            "rounds": a.rounds,
            "slots": a.slots,
            "paced_rate_msgs_s": a.rate * a.endpoints,
            "feeds": {r.feed: r.__dict__ for r in results},
        }
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

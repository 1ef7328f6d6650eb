"""arbscope command line.

- ``arbscope`` / ``arbscope run``: the dashboard. With no ``--ws`` it starts the embedded
  simulator (3 endpoints on 127.0.0.1) and watches every pool it serves; with ``--ws``
  (repeatable, paired with ``--rpc`` in order) it watches the pools of ``--pools FILE``
  on those endpoints, the simulator's or real ones.
- ``arbscope sim``: the simulator alone; prints its URLs and serves until interrupted.
- ``arbscope demo``: the seeded in-process market of the first screen (no sockets).

The engine backend is Rust unless ARBSCOPE_ENGINE=python.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=7, help="seed of the simulated market (default 7)")


def parser() -> argparse.ArgumentParser:
    """The command line's options."""
    p = argparse.ArgumentParser(
        prog="arbscope",
        description="Terminal dashboard for Solana DEX arbitrage: PubSub feeds from several "
        "endpoints (the embedded simulator by default), the pools in the engine's graph, live "
        "cycles, feed health and Rust-vs-Python timings. The engine backend is Rust unless "
        "ARBSCOPE_ENGINE=python.",
    )
    sub = p.add_subparsers(dest="command")
    run = sub.add_parser("run", help="the dashboard (default)")
    _add_run(run)
    sim = sub.add_parser("sim", help="serve the simulated market; prints its URLs")
    _add_common(sim)
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sim.add_argument(
        "--port", type=int, default=0,
        help="first port (the endpoints take consecutive ports; default: ephemeral)",
    )  # fmt: skip
    sim.add_argument("--endpoints", type=int, default=3, help="endpoints to present (default 3)")
    sim.add_argument("--slot-ms", type=float, default=400.0, help="slot length (default 400 ms)")
    demo = sub.add_parser("demo", help="the seeded in-process market (no sockets)")
    _add_common(demo)
    demo.add_argument("--updates", type=int, default=10, metavar="N",
                      help="pool updates per 200 ms tick (default 10)")  # fmt: skip
    _add_run(p)  # `arbscope` alone is `arbscope run`
    return p


def _add_run(p: argparse.ArgumentParser) -> None:
    _add_common(p)
    p.add_argument("--ws", action="append", default=[], metavar="URL",
                   help="a PubSub endpoint (repeatable); none: the embedded simulator")  # fmt: skip
    p.add_argument("--rpc", action="append", default=[], metavar="URL",
                   help="the HTTP JSON-RPC URL of the --ws at the same position")  # fmt: skip
    p.add_argument("--pools", metavar="FILE",
                   help="pool universe (TOML) to watch on --ws endpoints")  # fmt: skip
    p.add_argument("--endpoints", type=int, default=3,
                   help="endpoints of the embedded simulator (default 3)")  # fmt: skip


def _fail(message: str) -> int:
    print(f"arbscope: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen command; the exit status."""
    args = parser().parse_args(argv)
    if args.command == "sim":
        return _sim(args)
    if args.command == "demo":
        if args.updates < 1:
            return _fail("--updates must be at least 1")
        from tui.app import ArbscopeApp

        from .market import SimMarket

        ArbscopeApp(SimMarket(seed=args.seed, updates_per_tick=args.updates)).run()
        return 0
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from feeds.pool import Endpoint
    from feeds.universe import UniverseError, load_universe

    from .session import FeedSession

    if args.rpc and len(args.rpc) != len(args.ws):
        return _fail("give one --rpc per --ws (in the same order), or none")
    if args.endpoints < 1:
        return _fail("--endpoints must be at least 1")
    if args.ws:
        if not args.pools:
            return _fail("--ws needs --pools FILE (the pools to watch)")
        try:
            uni = load_universe(args.pools)
        except UniverseError as exc:
            return _fail(str(exc))
        rpcs = args.rpc or [None] * len(args.ws)
        eps = [Endpoint(f"node-{i}", ws, rpc) for i, (ws, rpc) in enumerate(zip(args.ws, rpcs))]
        if not any(e.http for e in eps):
            return _fail("at least one --rpc is needed for the initial snapshot")
        session = FeedSession(eps, uni.pools, uni.base_mints, seed=args.seed)
    else:
        session = FeedSession(seed=args.seed, sim_endpoints=args.endpoints)
    from tui.app import ArbscopeApp

    ArbscopeApp(session).run()
    return 0


def _sim(args: argparse.Namespace) -> int:
    from feeds.sim.server import SimServer, default_profiles
    from feeds.sim.world import WorldConfig

    if args.endpoints < 1:
        return _fail("--endpoints must be at least 1")
    if args.slot_ms <= 0:
        return _fail("--slot-ms must be positive")

    async def serve() -> None:
        server = SimServer(
            WorldConfig(seed=args.seed), default_profiles(args.endpoints), args.host,
            args.port, slot_seconds=args.slot_ms / 1000.0,
        )  # fmt: skip
        try:
            infos = await server.start()
        except OSError as exc:
            raise SystemExit(
                _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror}")
            ) from None
        for i in infos:
            print(i.ws_url, flush=True)
            print(i.http_url, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await server.stop()

    asyncio.run(serve())
    return 0

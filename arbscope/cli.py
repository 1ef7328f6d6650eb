"""arbscope command line.

- ``arbscope`` / ``arbscope run``: the dashboard. With no ``--ws`` it starts the embedded
  simulator (3 endpoints on 127.0.0.1) and watches every pool it serves; with ``--ws``
  (repeatable, paired with ``--rpc`` in order) it watches the pools of ``--pools FILE``
  on those endpoints, the simulator's or real ones.
- ``arbscope sim``: the simulator alone; prints its URLs and serves until interrupted.
- ``arbscope demo``: the seeded in-process market of the first screen (no sockets).
- ``arbscope run --headless --duration S``: a session without the screen; prints its id
  and digest.
- ``arbscope sessions [prune]``, ``arbscope replay SESSION``, ``arbscope export SESSION``:
  the journal (every session is recorded unless ``--no-record``).
- ``arbscope keygen FILE``: a new keypair file (0600) for trials on the simulator.

Live trading (``m`` on screen) needs ``--keypair FILE`` (or ``$ARBSCOPE_KEYPAIR``), an RPC
to send with (``--send-rpc`` / ``$ARBSCOPE_SEND_RPC``, default the first ``--rpc``), and
caps (``--max-trade``, ``--max-day``); on the embedded simulator also ``--sim-accept-tx``.

The engine backend is Rust unless ARBSCOPE_ENGINE=python.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=7, help="seed of the simulated market (default 7)")
    p.add_argument("--theme", choices=["dark", "light", "contrast"], default="dark",
                   help="colour theme (t cycles them on screen)")  # fmt: skip


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
    sessions = sub.add_parser("sessions", help="list recorded sessions (or prune them)")
    _add_db(sessions)
    ssub = sessions.add_subparsers(dest="sessions_command")
    prune = ssub.add_parser("prune", help="delete old sessions, or the oldest over a size cap")
    _add_db(prune)
    prune.add_argument("--older-than", metavar="AGE", help="e.g. 30d, 12h, 90m")
    prune.add_argument("--max-size", metavar="SIZE", help="keep the journal under e.g. 2GB, 500MB")
    replay = sub.add_parser("replay", help="replay a recorded session (dashboard or headless)")
    replay.add_argument("session", help="session id (or a unique prefix)")
    replay.add_argument("--theme", choices=["dark", "light", "contrast"], default="dark",
                        help="colour theme (t cycles them on screen)")  # fmt: skip
    _add_db(replay)
    replay.add_argument("--headless", action="store_true", help="no screen: apply and report")
    replay.add_argument("--speed", default=None, help="1, 10, 100 or max (default: 1 on "
                        "screen, max headless)")  # fmt: skip
    replay.add_argument("--digest", action="store_true",
                        help="print the digest of the derived events (headless)")  # fmt: skip
    replay.add_argument("--start", type=float, default=0.0, metavar="SECONDS",
                        help="seek to this time before playing (screen)")  # fmt: skip
    replay.add_argument("--shadow", action="store_true",
                        help="also run the other backend (timing panel; slower)")  # fmt: skip
    export = sub.add_parser("export", help="a session's opportunities (and fills) as CSV")
    export.add_argument("session", help="session id (or a unique prefix)")
    _add_db(export)
    export.add_argument("--out", default=".", metavar="DIR",
                        help="directory for SESSION-opportunities.csv / -fills.csv")  # fmt: skip
    export.add_argument("--parquet", action="store_true",
                        help="also write .parquet files (needs pyarrow)")  # fmt: skip
    sim.add_argument("--accept-tx", action="store_true",
                     help="accept transactions (simulate, send, Jito, faucet)")  # fmt: skip
    sim.add_argument("--fund", action="append", default=[], metavar="PUBKEY",
                     help="with --accept-tx: 10 SOL and 10^12 of each base to PUBKEY")  # fmt: skip
    keygen = sub.add_parser("keygen", help="write a new keypair file (0600) for simulator trials")
    keygen.add_argument("path", metavar="FILE", help="where (outside any git repository)")
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
    p.add_argument(
        "--headless",
        action="store_true",
        help="no screen: run for --duration seconds, print the session id and digest",
    )
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                   help="stop after this long (required with --headless)")  # fmt: skip
    _add_db(p)
    p.add_argument("--no-record", action="store_true", help="do not journal this session")
    live = p.add_argument_group(
        "live trading (m on screen; the session always starts on paper)",
        "Secrets come from files and the environment only: the keypair file must be 0600 "
        "and outside any git repository; RPC URLs may carry API keys and are shown redacted.",
    )
    live.add_argument("--keypair", metavar="FILE", default=os.environ.get("ARBSCOPE_KEYPAIR"),
                      help="Solana keypair file (default $ARBSCOPE_KEYPAIR)")  # fmt: skip
    live.add_argument("--send-rpc", metavar="URL", default=os.environ.get("ARBSCOPE_SEND_RPC"),
                      help="HTTP JSON-RPC to simulate and send with (default "
                           "$ARBSCOPE_SEND_RPC, else the first --rpc)")  # fmt: skip
    live.add_argument("--send-ws", metavar="URL", default=os.environ.get("ARBSCOPE_SEND_WS"),
                      help="PubSub for signatureSubscribe (default $ARBSCOPE_SEND_WS, else "
                           "the first --ws)")  # fmt: skip
    live.add_argument("--jito", metavar="URL", default=os.environ.get("ARBSCOPE_JITO"),
                      help="send Jito bundles to this block engine (--tip-lamports)")  # fmt: skip
    live.add_argument("--tip-lamports", type=int, default=0, metavar="N",
                      help="tip per transaction (Jito needs >= 1000)")  # fmt: skip
    live.add_argument("--max-trade", type=int, metavar="N", help="cap per trade (base units)")
    live.add_argument("--max-day", type=int, metavar="N", help="cap per UTC day (base units)")
    live.add_argument("--max-open", type=int, default=1, metavar="N",
                      help="orders in flight at once (default 1)")  # fmt: skip
    live.add_argument("--max-slippage-bps", type=int, default=50, metavar="BPS",
                      help="per hop, under the quote (default 50)")  # fmt: skip
    live.add_argument("--cu-limit", type=int, metavar="N",
                      help="compute-unit limit (default: estimated per hop)")  # fmt: skip
    live.add_argument("--sim-accept-tx", action="store_true",
                      help="the embedded simulator accepts transactions; its faucet funds "
                           "the keypair's wallet (10 SOL, 10^12 base units)")  # fmt: skip
    p.add_argument(
        "--batch-ms",
        type=float,
        default=200.0,
        help="journal write batch (the most a crash can lose; default 200 ms)",
    )


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                   help="journal file (default: $ARBSCOPE_DB or the user data dir)")  # fmt: skip


def _fail(message: str) -> int:
    print(f"arbscope: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen command; the exit status."""
    args = parser().parse_args(argv)
    if args.command == "sim":
        return _sim(args)
    if args.command == "sessions":
        return _sessions(args)
    if args.command == "replay":
        return _replay(args)
    if args.command == "export":
        return _export(args)
    if args.command == "keygen":
        return _keygen(args.path)
    if args.command == "demo":
        if args.updates < 1:
            return _fail("--updates must be at least 1")
        from tui.app import ArbscopeApp

        from .market import SimMarket

        ArbscopeApp(SimMarket(seed=args.seed, updates_per_tick=args.updates),
                    theme=args.theme).run()  # fmt: skip
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
    if args.headless and (args.duration is None or not args.duration > 0):
        return _fail("--headless needs --duration SECONDS (> 0)")
    if args.batch_ms <= 0:
        return _fail("--batch-ms must be positive")
    from .session import RecordSettings

    record = None if args.no_record else RecordSettings(getattr(args, "db", None),
                                                           args.batch_ms / 1000.0)  # fmt: skip
    try:
        live = _live_config(args)
    except ValueError as exc:
        return _fail(str(exc))
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
        session = FeedSession(eps, uni.pools, uni.base_mints, seed=args.seed, record=record,
                              live=live)  # fmt: skip
    else:
        session = FeedSession(seed=args.seed, sim_endpoints=args.endpoints, record=record,
                              live=live, sim_accept_tx=args.sim_accept_tx)  # fmt: skip
    if args.headless:
        return _headless(session, args.duration)
    from tui.app import ArbscopeApp

    from .replay import JournalSessions

    ArbscopeApp(session, sessions=JournalSessions(getattr(args, "db", None)),
                theme=args.theme).run()  # fmt: skip
    if session.session_id:
        print(f"session {session.session_id} recorded (digest {session.digest[:16]})")
    return 0


def _live_config(args: argparse.Namespace) -> Any:
    """The live configuration from the flags and environment (None: paper only)."""
    from .execution.live import LiveConfig

    if not (args.keypair or args.sim_accept_tx):
        return None
    for name in ("max_trade", "max_day", "cu_limit"):
        v = getattr(args, name)
        if v is not None and v <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive")
    if args.tip_lamports < 0 or args.max_open < 1:
        raise ValueError("--tip-lamports must be >= 0 and --max-open >= 1")
    if args.sim_accept_tx and args.ws:
        raise ValueError("--sim-accept-tx is for the embedded simulator (no --ws)")
    return LiveConfig(
        keypair=args.keypair,
        rpc=args.send_rpc or (args.rpc[0] if args.rpc else None),
        ws=args.send_ws or (args.ws[0] if args.ws else None),
        jito=args.jito, tip_lamports=args.tip_lamports, max_trade=args.max_trade,
        max_day=args.max_day, max_open=args.max_open, max_slippage_bps=args.max_slippage_bps,
        cu_limit=args.cu_limit,
    )  # fmt: skip


def _keygen(path: str) -> int:
    from .execution.keys import KeypairError, write_keypair

    try:
        w = write_keypair(path)
    except (KeypairError, OSError) as exc:
        return _fail(str(exc))
    print(f"wrote {w.path} (mode 0600): wallet {w.pubkey}")
    return 0


def _headless(session: object, duration: float) -> int:
    """Run ``session`` for ``duration`` s without a screen; SIGINT/SIGTERM stop it early
    (the journal is flushed either way)."""
    from .session import FeedSession

    assert isinstance(session, FeedSession)

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await session.start()
        try:
            end = loop.time() + duration
            while not stop.is_set() and loop.time() < end and not session.start_error:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.2)
                session.tick()
        finally:
            await session.stop()

    asyncio.run(go())
    snap = session.snapshot
    if session.start_error:
        print(f"arbscope: {session.start_error}", file=sys.stderr)
    print(
        f"slot {snap.slot}, {snap.pools} pools, {snap.updates} updates, "
        f"{len(snap.opportunities)} live opportunities, {snap.errors} errors",
        file=sys.stderr,
    )
    if session.session_id:
        print(f"session {session.session_id}")
        print(f"digest {session.digest}")
    return 1 if session.start_error else 0


def _journal_call(fn: Any) -> int:
    """Run a journal coroutine; a JournalError is a message and exit status 2."""
    from storage.journal import JournalError

    try:
        return int(asyncio.run(fn))
    except JournalError as exc:
        return _fail(str(exc))


def _age_s(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    t = text.strip().lower()
    if not t or t[-1] not in units:
        raise ValueError(f"age {text!r}: use a number and s, m, h, d or w (e.g. 30d)")
    return float(t[:-1]) * units[t[-1]]


def _size_b(text: str) -> int:
    t = text.strip().upper().rstrip("B") or "0"
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    if t[-1] in mult:
        return int(float(t[:-1]) * mult[t[-1]])
    return int(float(t))


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def _sessions(args: argparse.Namespace) -> int:
    import time

    from storage.journal import Journal

    db = getattr(args, "db", None)
    if getattr(args, "sessions_command", None) == "prune":
        if args.older_than is None and args.max_size is None:
            return _fail("prune needs --older-than AGE and/or --max-size SIZE")
        try:
            age = _age_s(args.older_than) if args.older_than else None
            cap = _size_b(args.max_size) if args.max_size else None
        except ValueError as exc:
            return _fail(str(exc))

        async def prune() -> int:
            async with await Journal.open(db, create=False) as j:
                gone = await j.prune(age, cap)
                print(f"deleted {len(gone)} session(s); journal {_human(await j.file_bytes())}")
                for s in gone:
                    print(f"  {s}")
            return 0

        return _journal_call(prune())

    async def listing() -> int:
        async with await Journal.open(db, create=False) as j:
            rows = await j.sessions()
            print(f"{'session':<22} {'started (UTC)':<19} {'source':<6} {'duration':>9} "
                  f"{'frames':>9} {'opps':>6} {'paper pnl':>14} {'stored':>9}  state")  # fmt: skip
            for s in rows:
                started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s.started))
                state = "complete" if s.complete else "INCOMPLETE (not closed cleanly)"
                print(f"{s.id:<22} {started:<19} {s.source:<6} {s.duration_s:>8.1f}s "
                      f"{s.frames:>9,} {s.opportunities:>6,} {int(s.pnl):>+14,} "
                      f"{_human(s.stored_bytes):>9}  {state}")  # fmt: skip
            if not rows:
                print("(no sessions)")
        return 0

    return _journal_call(listing())


def _replay(args: argparse.Namespace) -> int:
    from .replay import ReplaySession, load_info, parse_speed

    db = getattr(args, "db", None)
    try:
        speed = parse_speed(args.speed or ("max" if args.headless else "1"))
    except ValueError as exc:
        return _fail(str(exc))

    async def info() -> Any:
        return await load_info(db, args.session)

    from storage.journal import JournalError

    try:
        meta = asyncio.run(info())
    except JournalError as exc:
        return _fail(str(exc))
    try:
        session = ReplaySession(db, meta, shadow=args.shadow, speed=speed)
    except Exception as exc:  # e.g. a config the engine refuses: a message, not a traceback
        return _fail(f"cannot replay {meta.id}: {type(exc).__name__}: {exc}")
    if args.headless:

        async def go() -> int:
            await session.start()
            if session.start_error:
                raise JournalError(session.start_error)
            try:
                digest = await session.run(speed)
            finally:
                await session.stop()
            if session.start_error:  # damaged chunk met on the way
                raise JournalError(session.start_error)
            snap = session.snapshot
            print(f"replayed {meta.id}: {session.applied:,} inputs, "
                  f"{session.frames_applied:,} frames, slot {snap.slot}, "
                  f"{session.sink.events:,} events", file=sys.stderr)  # fmt: skip
            if args.digest:
                print(digest)
            if meta.digest is None:
                print("the recording is incomplete (no digest stored): replayed up to its "
                      "last committed batch", file=sys.stderr)  # fmt: skip
                return 0
            if digest != meta.digest:
                print(f"arbscope: digest MISMATCH: recorded {meta.digest}, replayed {digest}",
                      file=sys.stderr)  # fmt: skip
                return 3
            print("digest matches the live recording", file=sys.stderr)
            return 0

        try:
            return int(asyncio.run(go()))
        except JournalError as exc:
            return _fail(str(exc))
    if args.start:
        session.seek(args.start)
    from tui.app import ArbscopeApp

    from .replay import JournalSessions

    ArbscopeApp(session, sessions=JournalSessions(db), theme=args.theme).run()
    return 0


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from storage.export import export_session

    out = Path(args.out)

    async def go() -> int:
        written = await export_session(getattr(args, "db", None), args.session, out,
                                       parquet=args.parquet)  # fmt: skip
        for p in written:
            print(p)
        return 0

    return _journal_call(go())


def _sim(args: argparse.Namespace) -> int:
    from feeds.sim.server import SimServer, default_profiles
    from feeds.sim.world import WorldConfig

    if args.endpoints < 1:
        return _fail("--endpoints must be at least 1")
    if args.fund and not args.accept_tx:
        return _fail("--fund needs --accept-tx")
    if args.slot_ms <= 0:
        return _fail("--slot-ms must be positive")

    async def serve() -> None:
        server = SimServer(
            WorldConfig(seed=args.seed), default_profiles(args.endpoints), args.host,
            args.port, slot_seconds=args.slot_ms / 1000.0, accept_transactions=args.accept_tx,
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
        for pubkey in args.fund:
            try:
                server.chain.airdrop([pubkey, 10 * 10**9])
                for base in server.world.bases:
                    server.chain.fund([pubkey, base, 10**12])
            except Exception as exc:  # a bad pubkey: say so, keep serving
                print(f"arbscope: --fund {pubkey[:60]}: {exc}", file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await server.stop()

    asyncio.run(serve())
    return 0

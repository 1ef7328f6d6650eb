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
- ``arbscope replay SESSION --headless --policy FILE``, ``arbscope sweep SESSION --set
  KEY=V1,V2``: what-if replays of a recording under other policies (``arbscope.whatif``).
- ``arbscope keygen FILE``: a new keypair file (0600) for trials on the simulator.
- ``arbscope pools discover --mint SOL --mint USDC [...]``: every pool of the supported
  venues among those mints on a node that serves ``getProgramAccounts``, ranked by
  liquidity, written as a pools file.
- ``arbscope programs dump --rpc URL --out DIR``: today's binaries of the programs arbscope
  trades, as ``solana program dump`` reads them (``arbscope.programs``); ``arbscope sim
  --programs DIR`` (and ``run --programs DIR``) runs the simulator's transactions with them.

Live trading (``m`` on screen) needs ``--keypair FILE`` (or ``$ARBSCOPE_KEYPAIR``), an RPC
to send with (``--send-rpc`` / ``$ARBSCOPE_SEND_RPC``, default the first ``--rpc``), and
caps (``--max-trade``, ``--max-day``); on the embedded simulator also ``--sim-accept-tx``.

The engine backend is Rust unless ARBSCOPE_ENGINE=python.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fleet import FleetSettings
    from .session import FeedSession


def _add_common(p: argparse.ArgumentParser) -> None:
    from . import SIM_SEED

    p.add_argument(
        "--seed",
        type=int,
        default=SIM_SEED,
        help=f"seed of the simulated market (default {SIM_SEED})",
    )
    p.add_argument(
        "--theme",
        choices=["dark", "light", "contrast"],
        default="dark",
        help="colour theme (t cycles them on screen)",
    )


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
    _add_nats(run)
    collect = sub.add_parser(
        "collect",
        help="headless: run the feeds and publish every frame to NATS JetStream "
        "(one region's collector; see docs/fleet.md)",
    )
    _add_run(collect)
    collect.add_argument(
        "--nats",
        required=True,
        metavar="URL",
        help="the NATS server (nats://host:4222) with JetStream",
    )
    collect.add_argument(
        "--region",
        required=True,
        metavar="NAME",
        help="this collector's region (its stream: ARBSCOPE_<NAME>)",
    )
    sim = sub.add_parser("sim", help="serve the simulated market; prints its URLs")
    _add_common(sim)
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sim.add_argument(
        "--port",
        type=int,
        default=0,
        help="first port (the endpoints take consecutive ports; default: ephemeral)",
    )
    sim.add_argument("--endpoints", type=int, default=3, help="endpoints to present (default 3)")
    sim.add_argument(
        "--programs",
        metavar="DIR",
        help="run transactions with the real program binaries of DIR (<program id>.so, as "
        "`arbscope programs dump` writes them; LiteSVM), the simulator's own programs for "
        "the rest; the programs are served as a node serves them",
    )
    sim.add_argument("--slot-ms", type=float, default=400.0, help="slot length (default 400 ms)")
    sim.add_argument(
        "--pools-out",
        metavar="FILE",
        help="write the simulated market's pools and base mints as a pools file, for "
        "`arbscope run --ws ... --rpc ... --pools FILE`",
    )
    sim.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="N:KEY=VALUE[,KEY=VALUE]",
        help="make endpoint N (0-based) misbehave, for trials: e.g. 2:future_after=30, "
        "1:repoint_rate=1, 0:lag_slots=3, 2:skew_rate=0.5, 1:drop_rate=0.2; provider limits: "
        "0:rate_limit_rps=5,rate_limit_answer=plain (or retry-after, jsonrpc), "
        "1:max_subscriptions=20,cap_answer=close (or error) "
        "(any field of feeds.sim.server.EndpointProfile)",
    )
    sessions = sub.add_parser("sessions", help="list recorded sessions (or prune them)")
    _add_db(sessions)
    ssub = sessions.add_subparsers(dest="sessions_command")
    prune = ssub.add_parser("prune", help="delete old sessions, or the oldest over a size cap")
    _add_db(prune)
    prune.add_argument("--older-than", metavar="AGE", help="e.g. 30d, 12h, 90m")
    prune.add_argument("--max-size", metavar="SIZE", help="keep the journal under e.g. 2GB, 500MB")
    replay = sub.add_parser("replay", help="replay a recorded session (dashboard or headless)")
    replay.add_argument("session", help="session id (or a unique prefix)")
    replay.add_argument(
        "--theme",
        choices=["dark", "light", "contrast"],
        default="dark",
        help="colour theme (t cycles them on screen)",
    )
    _add_db(replay)
    replay.add_argument("--headless", action="store_true", help="no screen: apply and report")
    replay.add_argument(
        "--speed", default=None, help="1, 10, 100 or max (default: 1 on screen, max headless)"
    )
    replay.add_argument(
        "--digest", action="store_true", help="print the digest of the derived events (headless)"
    )
    replay.add_argument(
        "--start",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="seek to this time before playing (screen)",
    )
    replay.add_argument(
        "--shadow", action="store_true", help="also run the other backend (timing panel; slower)"
    )
    replay.add_argument(
        "--policy",
        metavar="FILE",
        help="what-if (headless): replay under this policy file's "
        "[policy] and [fees] keys; prints PnL, fills, hit rate, fees and drawdown",
    )
    replay.add_argument(
        "--until",
        type=float,
        metavar="SECONDS",
        help="what-if (headless): stop this many seconds after the recording's start",
    )
    replay.add_argument(
        "--json", action="store_true", help="what-if (headless): the summary as JSON"
    )
    replay.add_argument(
        "--nats",
        metavar="URL",
        help="read the session from JetStream (a session run with "
        "--journal-stream) instead of the journal file",
    )
    replay.add_argument(
        "--seq",
        metavar="A:B",
        help="with --nats: only the chunks at these stream sequence "
        "numbers (inclusive; A: or :B for open ends)",
    )
    sweep = sub.add_parser(
        "sweep", help="what-if replays of a session over a grid of policy and fee values"
    )
    sweep.add_argument("session", help="session id (or a unique prefix)")
    _add_db(sweep)
    sweep.add_argument(
        "--set",
        action="append",
        default=[],
        required=True,
        metavar="KEY=V1,V2,...",
        dest="sets",
        help="a what-if key and its values (repeatable: the grid is every "
        "combination), e.g. policy.min_profit=0,100000 fees.tip_lamports=0,10000",
    )
    sweep.add_argument("--policy", metavar="FILE", help="a policy file every cell starts from")
    sweep.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="processes at once (default: the cells, at most the CPUs)",
    )
    sweep.add_argument(
        "--out", metavar="DIR", help="where sweep.csv and the charts go (default ./sweep-ID/)"
    )
    sweep.add_argument(
        "--until",
        type=float,
        metavar="SECONDS",
        help="each cell stops this many seconds after the recording's start",
    )
    sweep.add_argument("--no-charts", action="store_true", help="the table and CSV only")
    export = sub.add_parser("export", help="a session's opportunities (and fills) as CSV")
    export.add_argument("session", help="session id (or a unique prefix)")
    _add_db(export)
    export.add_argument(
        "--out",
        default=".",
        metavar="DIR",
        help="directory for SESSION-opportunities.csv / -fills.csv",
    )
    export.add_argument(
        "--parquet", action="store_true", help="also write .parquet files (needs pyarrow)"
    )
    sim.add_argument(
        "--tls-cert",
        metavar="FILE",
        help="serve https:// and wss:// with this PEM certificate chain (and --tls-key)",
    )
    sim.add_argument(
        "--tls-key",
        metavar="FILE",
        help="the certificate's private key, PEM (default: in --tls-cert)",
    )
    sim.add_argument(
        "--mainnet-like", action="store_true", help="full logs and failed swaps, as on mainnet"
    )
    sim.add_argument(
        "--competitors",
        type=int,
        default=3,
        choices=range(4),
        metavar="N",
        help="competing arbitrageurs racing for gaps (0-3, default 3)",
    )
    sim.add_argument(
        "--grpc",
        action="store_true",
        help="also serve Yellowstone gRPC on each endpoint (its own port; its "
        "grpc:// URL printed after the endpoint's http:// one)",
    )
    sim.add_argument(
        "--accept-tx",
        action="store_true",
        help="accept transactions (simulate, send, Jito, faucet)",
    )
    sim.add_argument(
        "--fund",
        action="append",
        default=[],
        metavar="PUBKEY",
        help="with --accept-tx: 10 SOL and 10^12 of each base to PUBKEY",
    )
    keygen = sub.add_parser("keygen", help="write a new keypair file (0600) for simulator trials")
    keygen.add_argument("path", metavar="FILE", help="where (outside any git repository)")
    init = sub.add_parser("init", help="write a commented configuration file (every key)")
    init.add_argument(
        "path", nargs="?", metavar="FILE", help="where (default: ~/.config/arbscope/config.toml)"
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    doctor = sub.add_parser(
        "doctor",
        help="check the engine, config, endpoints, clock, keypair, journal, logs and metrics port",
    )
    doctor.add_argument("--config", metavar="FILE", help="configuration to check")
    doctor.add_argument(
        "--ca-file",
        metavar="FILE",
        help="a private CA (PEM) for wss:// and https:// (feeds.ca_file)",
    )
    doctor.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="per network check (default 5)",
    )
    pools = sub.add_parser("pools", help="pool files: find the pools among some mints")
    psub = pools.add_subparsers(dest="pools_command")
    disc = psub.add_parser(
        "discover",
        help="every pool of the supported venues among the given mints, ranked by "
        "liquidity, written as a pools file (needs getProgramAccounts)",
    )
    disc.add_argument(
        "--mint",
        action="append",
        default=[],
        metavar="MINT",
        help="a token: symbol (SOL, USDC, ...) or mint address; at least two",
    )
    disc.add_argument(
        "--venue",
        action="append",
        metavar="KIND",
        help="only this venue, by the kind pools files name it (amm_v4, whirlpool, ...; "
        "a wrong one lists them); repeatable",
    )
    disc.add_argument(
        "--min-liquidity",
        type=float,
        default=0.0,
        metavar="X",
        help="leave out pools worth less (USD, or units of the first mint)",
    )
    disc.add_argument(
        "--rpc",
        metavar="URL",
        help="HTTP JSON-RPC (default: the first feeds.rpc of the configuration)",
    )
    disc.add_argument(
        "--config", metavar="FILE", help="configuration (for feeds.rpc and feeds.ca_file)"
    )
    disc.add_argument(
        "--ca-file",
        metavar="FILE",
        help="PEM CA certificate(s) for an https:// node signed by a private CA "
        "(default: feeds.ca_file)",
    )
    disc.add_argument(
        "--out", default="pools.toml", metavar="FILE", help="where to write (default pools.toml)"
    )
    disc.add_argument("--force", action="store_true", help="overwrite an existing --out")
    disc.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="per request (default 30)"
    )
    programs = sub.add_parser("programs", help="program binaries: fetch today's from a node")
    prsub = programs.add_subparsers(dest="programs_command")
    dump = prsub.add_parser(
        "dump",
        help="the binaries of the programs arbscope trades (every venue's, the token "
        "programs), read from a node as `solana program dump` reads them, written as "
        "DIR/<program id>.so with DIR/manifest.json (for `arbscope sim --programs DIR`)",
    )
    dump.add_argument(
        "--rpc",
        metavar="URL",
        help="HTTP JSON-RPC (default: the first feeds.rpc of the configuration)",
    )
    dump.add_argument("--out", required=True, metavar="DIR", help="the folder to write")
    dump.add_argument(
        "--program",
        action="append",
        default=[],
        metavar="ID",
        help="one more program to fetch (repeatable)",
    )
    dump.add_argument(
        "--config", metavar="FILE", help="configuration (for feeds.rpc and feeds.ca_file)"
    )
    dump.add_argument(
        "--ca-file",
        metavar="FILE",
        help="PEM CA certificate(s) for an https:// node signed by a private CA "
        "(default: feeds.ca_file)",
    )
    dump.add_argument(
        "--timeout", type=float, default=60.0, metavar="SECONDS", help="per request (default 60)"
    )
    demo = sub.add_parser("demo", help="the seeded in-process market (no sockets)")
    _add_common(demo)
    demo.add_argument(
        "--updates",
        type=int,
        default=10,
        metavar="N",
        help="pool updates per 200 ms tick (default 10)",
    )
    _add_run(p)  # `arbscope` alone is `arbscope run`
    return p


# command-line flags of `run` -> configuration keys (flags win over the file and env)
RUN_FLAGS: dict[str, str] = {
    "seed": "sim.seed",
    "theme": "ui.theme",
    "ws": "feeds.ws",
    "grpc": "feeds.grpc",
    "grpc_token_file": "feeds.grpc_token_file",
    "grpc_token_env": "feeds.grpc_token_env",
    "sim_grpc": "sim.grpc",
    "rpc": "feeds.rpc",
    "pools": "market.pools_file",
    "commitment": "feeds.commitment",
    "ca_file": "feeds.ca_file",
    "max_frame_mb": "feeds.max_frame_mb",
    "transport": "feeds.transport",
    "endpoints": "sim.endpoints",
    "programs": "sim.programs",
    "db": "journal.path",
    "batch_ms": "journal.batch_ms",
    "keypair": "live.keypair",
    "send_rpc": "live.send_rpc",
    "send_ws": "live.send_ws",
    "jito": "live.jito",
    "tip_lamports": "fees.tip_lamports",
    "tip_policy": "fees.tip_policy",
    "tip_percentile": "fees.tip_percentile",
    "max_trade": "live.max_trade",
    "max_day": "live.max_day",
    "max_open": "live.max_open",
    "max_slippage_bps": "live.max_slippage_bps",
    "cu_limit": "live.cu_limit",
    "metrics_port": "metrics.port",
    "log_file": "logs.file",
    "log_level": "logs.level",
}


def _add_run(p: argparse.ArgumentParser) -> None:
    """`run`'s flags. Each one overrides a key of the configuration (arbscope init)."""
    p.add_argument(
        "--config",
        metavar="FILE",
        help="configuration (default: $ARBSCOPE_CONFIG, else "
        "~/.config/arbscope/config.toml when it exists)",
    )
    p.add_argument("--seed", type=int, help="seed of the simulated market (sim.seed, default 63)")
    p.add_argument(
        "--theme",
        choices=["dark", "light", "contrast"],
        help="colour theme (ui.theme; t cycles them on screen)",
    )
    p.add_argument(
        "--ws",
        action="append",
        metavar="URL",
        help="a PubSub endpoint (repeatable; feeds.ws); none: the embedded simulator",
    )
    p.add_argument(
        "--grpc",
        action="append",
        metavar="URL",
        help="a Yellowstone gRPC endpoint (repeatable; feeds.grpc), read beside --ws",
    )
    p.add_argument(
        "--grpc-token-file",
        metavar="FILE",
        help="a file holding the --grpc endpoints' x-token (feeds.grpc_token_file; a secret)",
    )
    p.add_argument(
        "--grpc-token-env",
        metavar="NAME",
        help="an environment variable holding that x-token (feeds.grpc_token_env)",
    )
    p.add_argument(
        "--sim-grpc",
        type=int,
        metavar="N",
        help="read the last N of the embedded simulator's endpoints over Yellowstone gRPC "
        "(sim.grpc, default 0)",
    )
    p.add_argument(
        "--rpc",
        action="append",
        metavar="URL",
        help="the HTTP JSON-RPC URL of the --ws at the same position (feeds.rpc)",
    )
    p.add_argument(
        "--pools",
        metavar="FILE",
        help="pool universe (TOML) to watch on --ws endpoints (market.pools_file)",
    )
    p.add_argument(
        "--commitment",
        choices=["processed", "confirmed", "finalized"],
        help="commitment of every subscription and read (feeds.commitment, default "
        "confirmed; shown in the status bar)",
    )
    p.add_argument(
        "--ca-file",
        metavar="FILE",
        help="a private CA (PEM) trusted besides the system's for wss:// and https:// "
        "(feeds.ca_file)",
    )
    p.add_argument(
        "--max-frame-mb",
        type=float,
        metavar="MB",
        help="largest PubSub frame and HTTP answer accepted, MiB (feeds.max_frame_mb, default 64)",
    )
    p.add_argument(
        "--transport",
        choices=["picows", "websockets"],
        help="the PubSub WebSocket client (feeds.transport, default picows; websockets: the "
        "fallback)",
    )
    p.add_argument(
        "--endpoints",
        type=int,
        help="endpoints of the embedded simulator (sim.endpoints, default 3)",
    )
    p.add_argument(
        "--programs",
        metavar="DIR",
        help="the embedded simulator runs transactions with the real program binaries of "
        "DIR (sim.programs; `arbscope programs dump` writes them)",
    )
    p.add_argument(
        "--headless",
        action="store_true",
        help="no screen: log to stderr and the log file, serve metrics, stop on "
        "SIGINT/SIGTERM (or after --duration); prints the session id and digest",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this long (headless)",
    )
    _add_db(p)
    p.add_argument(
        "--no-record",
        action="store_true",
        help="do not journal this session (journal.record = false)",
    )
    p.add_argument(
        "--batch-ms",
        type=float,
        help="journal write batch: the most a crash can lose (journal.batch_ms)",
    )
    ops = p.add_argument_group("operations")
    ops.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="/metrics and /health port (metrics.port, default 9464; 0: any)",
    )
    ops.add_argument(
        "--no-metrics",
        action="store_true",
        help="do not serve /metrics and /health (metrics.enabled = false)",
    )
    ops.add_argument("--log-file", metavar="FILE", help="JSON-lines log (logs.file)")
    ops.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="logs.level (default info)",
    )
    live = p.add_argument_group(
        "live trading (m on screen; the session always starts on paper)",
        "Secrets come from files and the environment only: the keypair file must be 0600 "
        "and outside any git repository; RPC URLs may carry API keys and are shown redacted.",
    )
    live.add_argument(
        "--keypair", metavar="FILE", help="Solana keypair file (live.keypair or $ARBSCOPE_KEYPAIR)"
    )
    live.add_argument(
        "--send-rpc",
        metavar="URL",
        help="HTTP JSON-RPC to simulate and send with (live.send_rpc; default the first --rpc)",
    )
    live.add_argument(
        "--send-ws",
        metavar="URL",
        help="PubSub for signatureSubscribe (live.send_ws; default the first --ws)",
    )
    live.add_argument(
        "--jito",
        metavar="URL",
        action="append",
        help="send Jito bundles to this block engine; repeat for several, all sent at once "
        "(live.jito)",
    )
    live.add_argument(
        "--tip-policy",
        choices=("fixed", "percentile"),
        help="the Jito tip: fixed (--tip-lamports) or a percentile of recently landed tips "
        "(fees.tip_policy)",
    )
    live.add_argument(
        "--tip-percentile",
        type=int,
        choices=(25, 50, 75, 95, 99),
        help="the percentile policy's percentile (fees.tip_percentile)",
    )
    live.add_argument(
        "--tip-lamports",
        type=int,
        metavar="N",
        help="tip per transaction (fees.tip_lamports; Jito needs >= 1000)",
    )
    live.add_argument(
        "--max-trade", type=int, metavar="N", help="cap per trade, base units (live.max_trade)"
    )
    live.add_argument(
        "--max-day", type=int, metavar="N", help="cap per UTC day, base units (live.max_day)"
    )
    live.add_argument(
        "--max-open",
        type=int,
        metavar="N",
        help="orders in flight at once (live.max_open, default 1)",
    )
    live.add_argument(
        "--max-slippage-bps",
        type=int,
        metavar="BPS",
        help="per hop, under the quote (live.max_slippage_bps, default 50)",
    )
    live.add_argument(
        "--cu-limit",
        type=int,
        metavar="N",
        help="compute-unit limit (live.cu_limit; default: estimated per hop)",
    )
    live.add_argument(
        "--sim-accept-tx",
        action="store_true",
        help="the embedded simulator accepts transactions; its faucet funds "
        "the keypair's wallet (sim.accept_tx)",
    )


def _add_nats(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("NATS JetStream (collectors in other places; see docs/fleet.md)")
    g.add_argument("--nats", metavar="URL", help="the NATS server (nats://host:4222)")
    g.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="NAME",
        help="consume this region's stream (repeatable): its collector's endpoints show as "
        "REGION/ENDPOINT beside the session's own (no --ws: the regions alone)",
    )
    g.add_argument(
        "--consumer",
        metavar="NAME",
        help="this session's durable consumer name (default: "
        "from the host and process; every dashboard has its own)",
    )
    g.add_argument(
        "--journal-stream",
        action="store_true",
        help="publish the journal's chunks to JetStream too (arbscope replay --nats)",
    )


def fleet_settings(args: argparse.Namespace) -> Any:
    """The NATS side of `run` / `collect` (None without --nats); ValueError for a bad
    region name or a flag without --nats."""
    from .fleet import FleetSettings

    url = getattr(args, "nats", None)
    regions = list(getattr(args, "region", None) or [])
    if args.command == "collect":
        return FleetSettings(str(url), collect=args.region)
    if not url:
        if regions or getattr(args, "journal_stream", False):
            raise ValueError("--region and --journal-stream need --nats URL")
        return None
    return FleetSettings(
        url, regions=regions, consumer=args.consumer, journal_stream=args.journal_stream
    )


def resolve_config(args: argparse.Namespace) -> Any:
    """The configuration for `run`: defaults < file < environment < these flags."""
    from .config import BY_DOTTED, Config, ConfigError, _convert, check, load

    cfg: Config = load(getattr(args, "config", None))
    problems = []
    for attr, dotted in RUN_FLAGS.items():
        v = getattr(args, attr, None)
        if v is None:
            continue
        flag = "--" + attr.replace("_", "-")
        try:
            cfg.set(dotted, _convert(BY_DOTTED[dotted], v), f"flag {flag}")
        except ValueError as exc:
            problems.append(f"{flag}: {exc}")
    if args.no_record:
        cfg.set("journal.record", False, "flag --no-record")
    if getattr(args, "no_metrics", False):
        cfg.set("metrics.enabled", False, "flag --no-metrics")
    if getattr(args, "sim_accept_tx", False):
        cfg.set("sim.accept_tx", True, "flag --sim-accept-tx")
    if problems:
        raise ConfigError(problems)
    return check(cfg)


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="journal file (journal.path; default: $ARBSCOPE_DB or the user data dir)",
    )


def _fail(message: str) -> int:
    print(f"arbscope: {message}", file=sys.stderr)
    return 2


def _engine_problem() -> str:
    """Why ``ARBSCOPE_ENGINE`` cannot be honoured ("" when it can): an unknown value (a
    typo must not quietly run the slow twin), or ``rust`` forced without the extension."""
    import engine_rs

    try:
        wanted = engine_rs.requested()
    except ValueError as exc:
        return str(exc)
    if wanted == "rust":
        try:
            engine_rs.load("rust")
        except ImportError as exc:
            return (
                f"ARBSCOPE_ENGINE=rust but the Rust extension does not load ({exc}); "
                "build it with `make`"
            )
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen command; the exit status."""
    args = parser().parse_args(argv)
    problem = _engine_problem()
    if problem:
        return _fail(problem)
    if args.command == "sim":
        return _sim(args)
    if args.command == "collect":
        args.no_record = True  # the stream is its record
        args.headless = True
        return _run(args)
    if args.command == "sessions":
        return _sessions(args)
    if args.command == "replay":
        if not args.headless:  # the screen owns the terminal: log lines go to the file
            from . import logs

            logs.setup()
        return _replay(args)
    if args.command == "sweep":
        return _sweep(args)
    if args.command == "export":
        return _export(args)
    if args.command == "keygen":
        return _keygen(args.path)
    if args.command == "init":
        return _init(args.path, args.force)
    if args.command == "doctor":
        return _doctor(args.config, args.timeout, args.ca_file)
    if args.command == "pools":
        if args.pools_command != "discover":
            return _fail("pools: give a subcommand (arbscope pools discover --help)")
        return _discover(args)
    if args.command == "programs":
        if args.programs_command != "dump":
            return _fail("programs: give a subcommand (arbscope programs dump --help)")
        return _programs_dump(args)
    if args.command == "demo":
        if args.updates < 1:
            return _fail("--updates must be at least 1")
        from . import logs

        logs.setup()
        from tui.app import ArbscopeApp

        from .demo import SimMarket

        ArbscopeApp(
            SimMarket(seed=args.seed, updates_per_tick=args.updates), theme=args.theme
        ).run()
        return 0
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from .config import ConfigError

    if args.duration is not None and not args.duration > 0:
        return _fail("--duration must be positive")
    try:
        fleet = fleet_settings(args)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        cfg = resolve_config(args)
        session = build_session(cfg, fleet)
    except ConfigError as exc:
        return _fail("configuration:\n  " + "\n  ".join(exc.problems))
    from . import logs

    log_path = logs.setup(
        cfg["logs.file"],
        cfg["logs.level"],
        cfg["logs.max_bytes"],
        cfg["logs.backups"],
        stderr=args.headless,
    )
    logging.getLogger(__name__).info(
        "arbscope %s: config %s, log %s", _version(), cfg.path or "(defaults)", log_path
    )
    if args.headless:
        return _headless(session, args.duration)
    from tui.app import ArbscopeApp

    from .replay import JournalSessions

    _run_app(
        ArbscopeApp(session, sessions=JournalSessions(cfg["journal.path"]), theme=cfg["ui.theme"])
    )
    if session.session_id and session.digest:
        print(f"session {session.session_id} recorded (digest {session.digest[:16]})")
    elif session.session_id:
        print(f"session {session.session_id} recorded INCOMPLETE", file=sys.stdout)
        print(f"arbscope: journal: {session.journal_error}", file=sys.stderr)
        return 1
    return 0


def _run_app(app: Any) -> None:
    """Run the dashboard; whatever ends it (q, an error inside the app), its source is
    stopped afterwards in the same event loop: feeds closed, the journal flushed and its
    connection closed (a connection left open keeps the process from exiting)."""

    async def go() -> None:
        try:
            await app.run_async()
        finally:
            try:
                await app.source.stop()  # q already stopped it: then this does nothing
            except Exception as exc:  # never a traceback on the way out
                print(f"arbscope: stopping: {type(exc).__name__}: {exc}", file=sys.stderr)

    asyncio.run(go())


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("arbscope")
    except metadata.PackageNotFoundError:
        return "unknown"


def pubsub_transport(wanted: str) -> str:
    """The PubSub transport to use for ``feeds.transport``: picows falls back to websockets,
    said in the log, where it cannot be imported (an install without its wheel)."""
    from feeds.clients.transport import default_transport

    if wanted == "picows" and default_transport() != "picows":
        logging.getLogger(__name__).warning(
            "feeds.transport: picows cannot be imported; PubSub runs on websockets"
        )
        return "websockets"
    return wanted


def build_session(cfg: Any, fleet: FleetSettings | None = None) -> FeedSession:
    """The session a configuration describes (ConfigError for a bad pool file);
    ``fleet``: its NATS side, if any. The feeds are chosen by ``arbscope.sources``: the
    configured endpoints, else the embedded simulator (the only branch that loads it),
    and the NATS regions."""
    from engine_rs.records import ScorePolicy
    from feeds.clients.pool import Endpoint
    from feeds.clients.pubsub import WorkerConfig
    from feeds.wire.universe import UniverseError, load_universe

    from . import sources
    from .config import ConfigError
    from .execution.live import LiveConfig
    from .metrics import MetricsSettings
    from .session import Evaluation, FeeSettings, RecordSettings, Watch

    record = (
        RecordSettings(
            cfg["journal.path"],
            cfg["journal.batch_ms"] / 1000.0,
            max_pending_bytes=int(cfg["journal.queue_mb"] * 2**20),
        )
        if cfg["journal.record"]
        else None
    )
    policy = ScorePolicy(
        min_profit=cfg["policy.min_profit"],
        min_profit_bps=cfg["policy.min_profit_bps"],
        min_persistence=cfg["policy.min_persistence"],
        max_staleness_slots=cfg["policy.max_staleness_slots"],
    )
    fees = FeeSettings(cfg["fees.cu_limit"], cfg["fees.percentile"], cfg["fees.tip_lamports"])
    metrics = (
        MetricsSettings(cfg["metrics.host"], cfg["metrics.port"], cfg["metrics.stall_s"])
        if cfg["metrics.enabled"]
        else None
    )
    ws, rpc, grpc_urls = cfg["feeds.ws"], cfg["feeds.rpc"], cfg["feeds.grpc"]
    ca_file = cfg["feeds.ca_file"]
    if ca_file:
        from feeds.clients.tls import TlsSetupError, client_context

        try:  # a CA file that cannot be used is a message now, not a failure per connection
            client_context(ca_file)
        except TlsSetupError as exc:
            raise ConfigError([f"feeds.ca_file: {exc}"]) from None
    max_frame = int(cfg["feeds.max_frame_mb"] * 2**20)
    transport = pubsub_transport(cfg["feeds.transport"])
    if cfg["fees.tip_percentile"] not in (25, 50, 75, 95, 99):
        raise ConfigError(
            [
                f"fees.tip_percentile: expected 25, 50, 75, 95 or 99 (the tip "
                f"floor's), got {cfg['fees.tip_percentile']}"
            ]
        )
    live = None
    if cfg["live.keypair"] or cfg["sim.accept_tx"]:
        live = LiveConfig(
            keypair=cfg["live.keypair"],
            rpc=cfg["live.send_rpc"] or (rpc[0] if rpc else None),
            ws=cfg["live.send_ws"] or (ws[0] if ws else None),
            jito=tuple(cfg["live.jito"]),
            tip_lamports=cfg["fees.tip_lamports"],
            tip_policy=cfg["fees.tip_policy"],
            tip_percentile=cfg["fees.tip_percentile"],
            tip_max=cfg["fees.tip_max"],
            tip_escalation=cfg["fees.tip_escalation"],
            tip_step=cfg["fees.tip_escalation_step"],
            tip_every_slots=cfg["fees.tip_escalation_slots"],
            tip_window_slots=cfg["fees.tip_escalation_window"],
            tables_budget_lamports=cfg["live.tables_budget_lamports"],
            nonces_budget_lamports=cfg["live.nonces_budget_lamports"],
            jito_rps=cfg["live.jito_rps"],
            max_trade=cfg["live.max_trade"],
            max_day=cfg["live.max_day"],
            max_open=cfg["live.max_open"],
            max_slippage_bps=cfg["live.max_slippage_bps"],
            cu_limit=cfg["live.cu_limit"],
            ca_file=ca_file,
        )
    evaluation = Evaluation(policy=policy, fees=fees, sweep_s=cfg["market.sweep_s"])
    options = sources.FeedOptions(
        worker_config=WorkerConfig(
            stale_after_s=cfg["feeds.stale_after_s"],
            max_frame_bytes=max_frame,
            ca_file=ca_file,
            transport=transport,
        ),
        commitment=cfg["feeds.commitment"],
        ca_file=ca_file,
        max_answer_bytes=max_frame,
    )

    def build(
        watch: Watch,
        endpoints: Sequence[Endpoint] = (),
        sim: sources.SimSettings | None = None,
    ) -> FeedSession:
        return sources.session(
            watch,
            evaluation,
            endpoints=endpoints,
            sim=sim,
            options=options,
            fleet=fleet,
            metrics=metrics,
            record=record,
            live=live,
        )

    seed, max_hops = cfg["sim.seed"], cfg["market.max_hops"]
    if fleet is not None and fleet.regions and not (ws or grpc_urls):  # the collectors alone
        if cfg["sim.accept_tx"]:
            raise ConfigError(["sim.accept_tx is for the embedded simulator (--region is set)"])
        return build(Watch(base_mints=cfg["market.base_mints"], max_hops=max_hops, seed=seed))
    if ws or grpc_urls:
        if cfg["sim.accept_tx"]:
            raise ConfigError(["sim.accept_tx is for the embedded simulator (feeds.ws is set)"])
        try:
            uni = load_universe(cfg["market.pools_file"])
        except UniverseError as exc:
            raise ConfigError([f"market.pools_file: {exc}"]) from None
        bases = cfg["market.base_mints"] or uni.base_mints
        if not bases:  # every cycle starts and ends in a base mint: nothing could be found
            pools_file = cfg["market.pools_file"]
            raise ConfigError(
                [
                    f"market.base_mints: none set, and {pools_file} has no base_mints: cycles "
                    "start and end in a base mint, so nothing could be found (add base_mints = "
                    '["<mint>", ...])'
                ]
            )
        eps = [Endpoint(f"node-{i}", w, r) for i, (w, r) in enumerate(zip(ws, rpc))]
        if grpc_urls:
            token = grpc_token(cfg["feeds.grpc_token_file"], cfg["feeds.grpc_token_env"])
            more = list(rpc[len(ws) :]) if len(rpc) > len(ws) else []
            eps += [
                Endpoint(f"grpc-{i}", "", more[i] if i < len(more) else None, grpc=u, x_token=token)
                for i, u in enumerate(grpc_urls)
            ]
        return build(Watch(uni.pools, bases, max_hops, seed), endpoints=eps)
    programs = cfg["sim.programs"] or ""
    if programs:  # a folder that cannot be used is one line now, not a traceback later
        from .sources.sim import programs_problem

        problem = programs_problem(programs)
        if problem:
            raise ConfigError([f"sim.programs: {problem}"])
    sim = sources.SimSettings(
        endpoints=cfg["sim.endpoints"],
        grpc=cfg["sim.grpc"],
        accept_tx=cfg["sim.accept_tx"],
        slot_seconds=cfg["sim.slot_ms"] / 1000.0,
        competitors=cfg["sim.competitors"],
        programs=programs,
    )
    return build(Watch(base_mints=cfg["market.base_mints"], max_hops=max_hops, seed=seed), sim=sim)


def grpc_token(path: str | None, env: str | None) -> str | None:
    """The x-token of the gRPC endpoints: the file's first line, or the environment
    variable's value (None: neither named). A problem is a ConfigError that names the
    file or variable, never the token."""
    from pathlib import Path

    from .config import ConfigError

    if path:
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([f"feeds.grpc_token_file: cannot read {path}: {exc}"]) from None
        if not text:
            raise ConfigError([f"feeds.grpc_token_file: {path} is empty"])
        return text.splitlines()[0].strip()
    if env:
        value = os.environ.get(env, "").strip()
        if not value:
            raise ConfigError([f"feeds.grpc_token_env: ${env} is not set or empty"])
        return value
    return None


def _init(path: str | None, force: bool) -> int:
    """Write the commented configuration (0600: it may come to hold RPC URLs with keys)."""
    from pathlib import Path

    from .config import default_path, template

    p = Path(path).expanduser() if path else default_path()
    if p.exists() and not force:
        return _fail(f"{p} exists; --force overwrites it")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(template())
    except OSError as exc:
        return _fail(f"cannot write {p}: {exc.strerror}")
    print(f"wrote {p}: every key at its default; `arbscope doctor --config {p}` checks it")
    return 0


def _doctor(config: str | None, timeout: float, ca_file: str | None = None) -> int:
    from .doctor import run

    checks = asyncio.run(run(config, timeout_s=timeout, ca_file=ca_file))
    for c in checks:
        print(c.line())
    bad = [c for c in checks if c.ok is False]
    print(
        f"{len(bad)} problem{'s' if len(bad) != 1 else ''} found"
        if bad
        else "everything checks out"
    )
    return 1 if bad else 0


def _discover(args: argparse.Namespace) -> int:
    """``arbscope pools discover``: find, rank, write; every failure one clear line."""
    from feeds.clients.rpc import RpcClient
    from feeds.clients.tls import TlsSetupError
    from feeds.discover import (
        VENUE_NAMES,
        DiscoveryError,
        amount_text,
        discover,
        fee_text,
        render,
    )
    from feeds.redact import redact
    from feeds.venues import KINDS
    from feeds.wire.tokens import resolve_mint
    from feeds.wire.universe import address_problem

    from .config import ConfigError, load

    mints = []
    for text in args.mint:
        try:
            mint = resolve_mint(text)
        except ValueError as exc:
            return _fail(f"--mint: {exc}")
        why = address_problem(mint)
        if why:
            return _fail(f"--mint {text!r} is not a mint address ({why})")
        mints.append(mint)
    if len(set(mints)) < 2:
        return _fail("pools discover: give at least two different --mint (a pool trades a pair)")
    for kind in args.venue or ():
        if kind not in KINDS:
            return _fail(f"--venue {kind!r} is not one of {', '.join(KINDS)}")
    url, ca_file = args.rpc, args.ca_file
    if url is None or ca_file is None:
        try:
            cfg = load(args.config)
        except ConfigError as exc:
            return _fail(str(exc))
        ca_file = ca_file or cfg["feeds.ca_file"] or None
        rpcs = cfg["feeds.rpc"]
    if url is None:
        if not rpcs:
            return _fail(
                "pools discover: give --rpc URL (or feeds.rpc in the configuration): "
                "a node that serves getProgramAccounts; `arbscope sim` prints a "
                "simulator's"
            )
        url = rpcs[0]
    out = Path(args.out)
    if out.exists() and not args.force:
        return _fail(f"{out} exists (--force to overwrite)")
    shown = redact(url)

    async def go() -> Any:
        async with RpcClient(
            url, timeout_s=args.timeout, max_answer_bytes=16 << 20, ca_file=ca_file
        ) as rpc:
            return await discover(rpc, mints, args.venue, args.min_liquidity)

    try:
        found = asyncio.run(go())
    except (DiscoveryError, TlsSetupError) as exc:
        return _fail(str(exc))
    for line in found.unreadable:
        print(f"skipped {line}", file=sys.stderr)
    if not found.pools:
        return _fail(
            f"no pool of {', '.join(args.venue or KINDS)} among those mints on "
            f"{shown}" + (f" ({found.dropped} under --min-liquidity)" if found.dropped else "")
        )
    try:
        out.write_text(render(found, shown), encoding="utf-8")
    except OSError as exc:
        return _fail(f"{out}: {exc.strerror}")
    for p in found.pools:
        liq = "?" if p.liquidity is None else amount_text(p.liquidity, found.unit)
        print(
            f"{p.pair(found.book):<20} {VENUE_NAMES[p.kind]:<16} "
            f"fee {fee_text(p.fee):<8} {liq:>12}  {p.address}"
        )
    extra = f"; {found.dropped} under --min-liquidity left out" if found.dropped else ""
    print(f"wrote {len(found.pools)} pools to {out} ({found.requests} requests to {shown}{extra})")
    return 0


def _programs_dump(args: argparse.Namespace) -> int:
    """``arbscope programs dump`` (:mod:`arbscope.programs`): the node from ``--rpc`` or
    the configuration; every failure one clear line."""
    from .config import ConfigError, load
    from .programs import dump

    url, ca_file = args.rpc, args.ca_file
    if url is None or ca_file is None:
        try:
            cfg = load(args.config)
        except ConfigError as exc:
            return _fail(str(exc))
        ca_file = ca_file or cfg["feeds.ca_file"] or None
        if url is None:
            if not cfg["feeds.rpc"]:
                return _fail(
                    "programs dump: give --rpc URL (or feeds.rpc in the "
                    "configuration); `arbscope sim` prints a simulator's"
                )
            url = cfg["feeds.rpc"][0]
    if not args.timeout > 0:
        return _fail("--timeout must be positive")
    return asyncio.run(dump(url, Path(args.out), args.program, args.timeout, ca_file))


def _keygen(path: str) -> int:
    from .execution.keys import KeypairError, write_keypair

    try:
        w = write_keypair(path)
    except (KeypairError, OSError) as exc:
        return _fail(str(exc))
    print(f"wrote {w.path} (mode 0600): wallet {w.pubkey}")
    return 0


STATUS_EVERY_S = 10.0  # a headless session's status line


def _headless(session: object, duration: float | None) -> int:
    """Run ``session`` without a screen until SIGINT/SIGTERM (or ``duration`` seconds):
    human log lines on stderr, JSON lines in the log file, metrics served. The journal
    is flushed either way. Exit status: 0 clean, 1 when the session could not start or
    the journal failed (the last error says why; ``session ID`` is printed all the same,
    ``digest HEX`` only for a complete recording)."""
    from .session import FeedSession

    assert isinstance(session, FeedSession)
    log = logging.getLogger("arbscope.headless")

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal(name: str) -> None:
            log.info("%s: stopping (feeds unsubscribed, journal flushed)", name)
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, on_signal, sig.name)

        async def status() -> None:  # the only reader of the snapshot here
            clock = session.clock
            due = clock.now_ns()
            while True:
                due += int(STATUS_EVERY_S * 1e9)
                await clock.wait_until(due)
                log.info("%s", _status_line(session))

        starting = asyncio.ensure_future(session.start())
        signalled = asyncio.ensure_future(stop.wait())
        running: list[asyncio.Future[None]] = []
        try:
            # a signal during the start stops it (session.stop() in finally cancels it)
            await asyncio.wait([starting, signalled], return_when=asyncio.FIRST_COMPLETED)
            if not stop.is_set():
                # the session's own run loop, until a signal, the duration or a failed start
                runner = asyncio.ensure_future(
                    session.run(duration_s=duration, until=lambda: bool(session.start_error))
                )
                running += [runner, asyncio.ensure_future(status())]
                await asyncio.wait([runner, signalled], return_when=asyncio.FIRST_COMPLETED)
                if runner.done():
                    runner.result()  # an exception from a tick ends the run, as it always did
        finally:
            signalled.cancel()
            waiting = [t for t in running if not t.done()]
            for task in waiting:
                task.cancel()
            for task in waiting:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await session.stop()
            await starting

    asyncio.run(go())
    snap = session.snapshot
    journal_error = session.journal_error
    if session.start_error:
        print(f"arbscope: {session.start_error}", file=sys.stderr)
    if journal_error:
        print(f"arbscope: journal: {journal_error}", file=sys.stderr)
    print(
        f"slot {snap.slot}, {snap.pools} pools, {snap.updates} updates, "
        f"{len(snap.opportunities)} live opportunities, {snap.errors} errors",
        file=sys.stderr,
    )
    if session.session_id:
        print(f"session {session.session_id}")
        if session.digest:
            print(f"digest {session.digest}")
    return 1 if session.start_error or journal_error else 0


def _status_line(s: Any) -> str:
    snap = s.snapshot
    up = sum(1 for f in snap.feeds if f.connected)
    go = sum(1 for _, sc in snap.opportunities if sc.go)
    pf = snap.portfolio
    paper = f"paper pnl {pf.pnl:+,} ({pf.fills} fills)" if pf is not None else "paper idle"
    live = ""
    if snap.live is not None:
        lv = snap.live
        live = f", live {s.mode.lower()} pnl {lv.pnl:+,} ({lv.confirmed} ok, {lv.failed} failed)"
    rec = getattr(s, "recorder", None)
    journal = f", journal: {rec.error}" if rec is not None and rec.error else ""
    pub = getattr(s, "publisher", None)
    if pub is not None:  # a collector
        st = pub.stats
        return (
            f"slot {snap.slot}, feeds {up}/{len(snap.feeds)} up, published {st.acked:,} "
            f"batches ({st.frames:,} frames) to {pub.region}, {pub.pending} pending, "
            f"{st.resent} resent, {st.dropped} dropped"
            + (f", last error: {st.last_error}" if st.last_error else "")
        )
    return (
        f"slot {snap.slot}, feeds {up}/{len(snap.feeds)} up, {snap.updates_per_s:.0f} "
        f"updates/s, {len(snap.opportunities)} opportunities ({go} go), {paper}{live}, "
        f"errors {snap.errors}{journal}"
    )


def _journal_call(fn: Any) -> int:
    """Run a journal coroutine; a JournalError is a message and exit status 2."""
    from storage.journal import JournalError

    try:
        return int(asyncio.run(fn))
    except JournalError as exc:
        return _fail(str(exc))


def _age_s(text: str) -> float:
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w`` -> seconds (ValueError saying what is
    accepted)."""
    import re

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text.lower())
    if m is None:
        raise ValueError(f"age {text!r}: use a number and s, m, h, d or w (e.g. 30d)")
    return float(m.group(1)) * units[m.group(2)]


def _size_b(text: str) -> int:
    """``2GB``, ``500MB``, ``750K``, ``1.5T``, ``4096`` -> bytes (binary multiples; ValueError
    saying what is accepted)."""
    import re

    mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", text.upper())
    if m is None:
        raise ValueError(f"size {text!r}: use a number and B, KB, MB, GB or TB (e.g. 2GB, 500MB)")
    return int(float(m.group(1)) * mult[m.group(2)])


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
                done = await j.prune(age, cap)
                size = _human(await j.file_bytes())
            print(f"deleted {len(done.deleted)} session(s); journal {size}")
            for s in done.deleted:
                print(f"  {s}")
            if done.skipped:
                print(f"skipped {len(done.skipped)} session(s) still being recorded:")
                for s in done.skipped:
                    print(f"  {s}")
            if done.note:
                print(f"note: {done.note}")
            return 0

        return _journal_call(prune())

    async def listing() -> int:
        async with await Journal.open(db, create=False, write=False) as j:
            rows = await j.sessions()
            lost = await j.lost_sessions()
        print(
            f"{'session':<22} {'started (UTC)':<19} {'source':<6} {'duration':>9} "
            f"{'frames':>9} {'opps':>6} {'paper pnl':>14} {'stored':>9}  state"
        )
        for s in rows:
            started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s.started))
            # an incomplete session says why (its recorder stored it, or what was lost)
            state = {
                "INCOMPLETE": f"INCOMPLETE ({s.why})",
                "RECORDING": "RECORDING (a live process records it now)",
            }.get(s.state, s.state)
            # the PnL is known when the session ended (cleanly or with why it is incomplete)
            pnl = f"{int(s.pnl):>+14,}" if s.ended is not None else f"{'?':>14}"
            print(
                f"{s.id:<22} {started:<19} {s.source:<6} {s.duration_s:>8.1f}s "
                f"{s.frames:>9,} {s.opportunities:>6,} {pnl} "
                f"{_human(s.stored_bytes):>9}  {state}"
            )
        for gone in lost:  # a killed recorder's lock says it committed what is not there
            print(
                f"{gone.id:<22} {'?':<19} {'?':<6} {'?':>9} {'?':>9} {'?':>6} {'?':>14} "
                f"{'?':>9}  LOST (its recorder committed {gone.inputs:,} inputs and "
                f"{gone.events:,} events; the journal holds none: its write-ahead log was "
                "deleted or damaged before the process died)"
            )
        if not rows and not lost:
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

    whatif = args.policy is not None or args.until is not None or args.json
    if whatif and not args.headless:
        return _fail("--policy, --until and --json are for --headless replays")
    if args.until is not None and not args.until > 0:
        return _fail(f"--until must be a positive number of seconds, got {args.until:g}")

    opener = None
    if args.nats:
        from .fleet import StreamJournalReader, parse_seq_range

        try:
            seq = parse_seq_range(args.seq)
        except ValueError as exc:
            return _fail(str(exc))

        async def opener() -> Any:
            return await StreamJournalReader(args.nats, seq).open()
    elif args.seq:
        return _fail("--seq needs --nats URL")

    async def info() -> Any:
        if opener is None:
            return await load_info(db, args.session)
        reader = await opener()
        try:
            return await reader.info(args.session)
        finally:
            await reader.close()

    from storage.journal import JournalError

    try:
        meta = asyncio.run(info())
    except (JournalError, ConnectionError) as exc:  # (no NATS server: its URL redacted)
        return _fail(str(exc))
    except Exception as exc:  # the server answered, not as JetStream does
        from feeds.redact import scrub

        return _fail(scrub(f"--nats {args.nats}: {type(exc).__name__}: {exc}", args.nats))
    if whatif and opener is not None:
        return _fail("--policy, --until and --json read the journal file (not --nats)")
    if whatif:
        from .whatif import replay_command

        return replay_command(db, meta, args.policy, args.until, args.json)
    try:
        session = ReplaySession(db, meta, shadow=args.shadow, speed=speed, opener=opener)
    except Exception as exc:  # e.g. a config the engine refuses: a message, not a traceback
        return _fail(f"cannot replay {meta.id}: {type(exc).__name__}: {exc}")
    if args.headless:

        async def go() -> int:
            try:  # the journal is closed on every path (an open one keeps the process alive)
                await session.start()
                if session.start_error:
                    raise JournalError(session.start_error)
                digest = await session.play(speed)
            finally:
                await session.stop()
            if session.start_error:  # damaged chunk met on the way
                raise JournalError(session.start_error)
            snap = session.snapshot
            print(
                f"replayed {meta.id}: {session.applied:,} inputs, "
                f"{session.frames_applied:,} frames, slot {snap.slot}, "
                f"{session.sink.events:,} events",
                file=sys.stderr,
            )
            if args.digest:
                print(digest)
            if meta.digest is None:
                print(
                    "the recording is incomplete (no digest stored): replayed up to its "
                    "last committed batch",
                    file=sys.stderr,
                )
                return 0
            if digest != meta.digest:
                print(
                    f"arbscope: digest MISMATCH: recorded {meta.digest}, replayed {digest}",
                    file=sys.stderr,
                )
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

    _run_app(ArbscopeApp(session, sessions=JournalSessions(db), theme=args.theme))
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from .whatif import sweep_command

    if args.jobs is not None and args.jobs < 1:
        return _fail(f"--jobs must be at least 1, got {args.jobs}")
    if args.until is not None and not args.until > 0:
        return _fail(f"--until must be a positive number of seconds, got {args.until:g}")
    return sweep_command(
        getattr(args, "db", None),
        args.session,
        args.sets,
        args.policy,
        args.jobs,
        args.out,
        args.until,
        not args.no_charts,
    )


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from feeds.wire.units import TokenBook, TokenInfo
    from storage.export import export_session

    out = Path(args.out)

    def names(rows: list[dict[str, Any]]) -> TokenBook:
        """The session's cached registry (the well-known table, then prefixes, beyond)."""
        return TokenBook.of(TokenInfo(**r) for r in rows)

    async def go() -> int:
        written = await export_session(
            getattr(args, "db", None), args.session, out, parquet=args.parquet, names_for=names
        )
        for p in written:
            print(p)
        return 0

    return _journal_call(go())


def _faulty_profiles(profiles: list[Any], faults: Sequence[str]) -> list[Any]:
    """``profiles`` with each ``N:KEY=VALUE[,KEY=VALUE]`` of ``faults`` applied to
    endpoint N; ValueError naming what is wrong."""
    import dataclasses

    out = list(profiles)
    for spec in faults:
        head, _, body = spec.partition(":")
        if not head.isdigit() or not body:
            raise ValueError(f"{spec!r}: expected N:KEY=VALUE[,KEY=VALUE] (N an endpoint, 0-based)")
        n = int(head)
        if n >= len(out):
            raise ValueError(f"{spec!r}: there are {len(out)} endpoints (0..{len(out) - 1})")
        fields = {f.name: f for f in dataclasses.fields(out[n])}
        changes: dict[str, Any] = {}
        for item in body.split(","):
            key, eq, text = item.partition("=")
            if not eq or key not in fields or key == "name":
                known = ", ".join(k for k in fields if k != "name")
                raise ValueError(f"{spec!r}: {key!r} is not one of {known}")
            old = getattr(out[n], key)
            try:
                if isinstance(old, bool):
                    if text.lower() not in ("true", "false", "1", "0"):
                        raise ValueError(text)
                    changes[key] = text.lower() in ("true", "1")
                elif isinstance(old, float):
                    changes[key] = float(text)
                elif isinstance(old, str):
                    changes[key] = text
                else:  # int, or None for an optional count
                    changes[key] = None if text.lower() == "none" else int(text)
            except ValueError:
                kind = "whole number (or none)" if old is None else type(old).__name__
                raise ValueError(f"{spec!r}: {key}={text!r} is not a {kind}") from None
        try:
            out[n] = dataclasses.replace(out[n], **changes)
        except ValueError as exc:  # a value the profile refuses (an unknown answer style)
            raise ValueError(f"{spec!r}: {exc}") from None
    return out


def _sim(args: argparse.Namespace) -> int:
    from feeds.sim.server import SimServer, default_profiles
    from feeds.sim.world import WorldConfig

    if args.endpoints < 1:
        return _fail("--endpoints must be at least 1")
    if args.fund and not args.accept_tx:
        return _fail("--fund needs --accept-tx")
    if args.slot_ms <= 0:
        return _fail("--slot-ms must be positive")
    last = args.port + args.endpoints - 1  # the endpoints take consecutive ports
    if not 0 <= args.port <= 65_535:
        return _fail(f"--port {args.port}: ports are 1..65535 (0, the default, picks free ones)")
    if last > 65_535:
        return _fail(
            f"--port {args.port}: the {args.endpoints} endpoints would take "
            f"ports {args.port}..{last}, past 65535 (0, the default, picks free "
            "ones)"
        )
    from feeds.wire.universe import address_problem

    for pubkey in args.fund:
        why = address_problem(pubkey)
        if why:
            return _fail(f"--fund {pubkey[:60]!r}: not an address ({why})")

    try:
        profiles = _faulty_profiles(default_profiles(args.endpoints), args.fault)
    except ValueError as exc:
        return _fail(f"--fault {exc}")

    if args.tls_key and not args.tls_cert:
        return _fail("--tls-key needs --tls-cert")
    tls = None
    if args.tls_cert:
        from feeds.sim.server import server_context

        try:
            tls = server_context(args.tls_cert, args.tls_key)
        except ValueError as exc:
            return _fail(f"--tls-cert: {exc}")

    if args.programs:
        from feeds.sim.bank import ProgramsError, find_programs

        try:
            if not find_programs(args.programs):
                raise ProgramsError(
                    f"{args.programs}: no program binaries found (*.so named by program id)"
                )
        except ProgramsError as exc:
            return _fail(f"--programs {exc}")

    async def serve() -> None:
        server = SimServer(
            (WorldConfig.mainnet_like if args.mainnet_like else WorldConfig)(
                seed=args.seed, competitors=args.competitors, programs=args.programs or ""
            ),
            profiles,
            args.host,
            args.port,
            slot_seconds=args.slot_ms / 1000.0,
            accept_transactions=args.accept_tx,
            tls=tls,
            grpc=args.grpc,
        )
        try:
            infos = await server.start()
        except OSError as exc:
            raise SystemExit(
                _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror}")
            ) from None
        if args.pools_out:
            from feeds.wire.universe import Universe, dump_universe

            w = server.world
            try:
                Path(args.pools_out).write_text(
                    dump_universe(Universe(w.universe(), list(w.bases))), encoding="utf-8"
                )
            except OSError as exc:
                await server.stop()
                raise SystemExit(_fail(f"--pools-out {args.pools_out}: {exc.strerror}")) from None
        bank = server.chain.bank
        for line in bank.describe() if bank is not None else ():  # stdout carries the URLs
            print(f"arbscope sim: {line}", file=sys.stderr, flush=True)
        for i in infos:
            print(i.ws_url, flush=True)
            print(i.http_url, flush=True)
            if i.grpc_url:
                print(i.grpc_url, flush=True)
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
        if bank is not None:
            st = server.chain.stats
            print(f"arbscope sim: {st.bank_split()}", file=sys.stderr, flush=True)

    asyncio.run(serve())
    return 0

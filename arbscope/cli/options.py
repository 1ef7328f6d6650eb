"""The command line's options: the parser, ``run``'s flags and the configuration they override."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from feeds.redact import scrub_urls

# the simulator's rival presets (arbscope.config.RIVAL_PRESETS; the config module is not
# imported here: it loads the engine, and the engine's choice is checked after parsing)
RIVAL_PRESETS = ("none", "weak", "mainnet", "strong")


def add_common(p: argparse.ArgumentParser) -> None:
    from .. import SIM_SEED

    p.add_argument(
        "--seed",
        type=int,
        default=SIM_SEED,
        help=f"seed of the simulated market (default {SIM_SEED})",
    )
    add_theme(p)


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors never print a secret: argparse echoes the
    arguments it refuses (``unrecognized arguments: --ws wss://...?api-key=...``, ``invalid
    choice: '...'``), and an endpoint URL carries its provider's key. The message is
    scrubbed (:func:`feeds.redact.scrub_urls`) before it is printed; every subcommand's
    parser is one of these (argparse makes them of the parent's class)."""

    def error(self, message: str) -> NoReturn:
        super().error(scrub_urls(message))


THEMES = ("dark", "light", "contrast")


def add_theme(
    p: argparse.ArgumentParser,
    default: str | None = "dark",
    help: str = "colour theme (t cycles them on screen)",
) -> None:
    """``--theme`` (``run``'s has no default of its own: the configuration's)."""
    kw: dict[str, Any] = {} if default is None else {"default": default}
    p.add_argument("--theme", choices=list(THEMES), help=help, **kw)


def add_session(p: argparse.ArgumentParser, theme: bool = False) -> None:
    """A recorded session's commands: the session, (``--theme``,) the journal file."""
    p.add_argument("session", help="session id (or a unique prefix)")
    if theme:
        add_theme(p)
    add_db(p)


def add_node_access(p: argparse.ArgumentParser, timeout: int) -> None:
    """A tool's way to a node (``pools discover``, ``programs dump``): its RPC, the
    configuration it falls back on, a private CA, a request's timeout."""
    p.add_argument(
        "--rpc",
        metavar="URL",
        help="HTTP JSON-RPC (default: the first feeds.rpc of the configuration)",
    )
    p.add_argument(
        "--config", metavar="FILE", help="configuration (for feeds.rpc and feeds.ca_file)"
    )
    p.add_argument(
        "--ca-file",
        metavar="FILE",
        help="PEM CA certificate(s) for an https:// node signed by a private CA "
        "(default: feeds.ca_file)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=float(timeout),
        metavar="SECONDS",
        help=f"per request (default {timeout})",
    )


def add_drive(p: argparse.ArgumentParser) -> None:
    """The market driver's flags (``arbscope node --drive``, ``arbscope node drive``)."""
    p.add_argument(
        "--rate",
        type=float,
        default=None,
        metavar="N",
        help="the market's own swaps a second (default 8; rivals and large trades besides)",
    )
    p.add_argument(
        "--rivals",
        type=int,
        default=None,
        metavar="N",
        help="rival arbitrage wallets that trade (default 2, the market's; 0: none)",
    )
    p.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds")
    p.add_argument(
        "--stats",
        metavar="FILE",
        help="write the driver's tally (JSON: sent, landed, failed by program error) "
        "there every few seconds",
    )


def parser() -> argparse.ArgumentParser:
    """The command line's options."""
    p = Parser(
        prog="arbscope",
        description="Terminal dashboard for Solana DEX arbitrage: PubSub feeds from several "
        "endpoints (the embedded simulator by default), the pools in the engine's graph, live "
        "cycles, feed health and Rust-vs-Python timings. The engine backend is Rust unless "
        "ARBSCOPE_ENGINE=python.",
    )
    sub = p.add_subparsers(dest="command")
    run = sub.add_parser("run", help="the dashboard (default)")
    add_run(run)
    add_nats(run)
    collect = sub.add_parser(
        "collect",
        help="headless: run the feeds and publish every frame to NATS JetStream "
        "(one region's collector; see docs/fleet.md)",
    )
    add_run(collect)
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
    add_common(sim)
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
        "--export",
        metavar="DIR",
        help="write the market for a real node instead of serving it: its accounts as "
        "the validator's account files, the programs to load (the newest build of each in "
        "--programs DIR, default ../shared/programs), pools.toml; then exit "
        "(arbscope node --market DIR starts a validator on it)",
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
    add_db(sessions)
    ssub = sessions.add_subparsers(dest="sessions_command")
    prune = ssub.add_parser("prune", help="delete old sessions, or the oldest over a size cap")
    add_db(prune)
    prune.add_argument("--older-than", metavar="AGE", help="e.g. 30d, 12h, 90m")
    prune.add_argument("--max-size", metavar="SIZE", help="keep the journal under e.g. 2GB, 500MB")
    replay = sub.add_parser("replay", help="replay a recorded session (dashboard or headless)")
    add_session(replay, theme=True)
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
    add_session(sweep)
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
    add_session(export)
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
        "--no-prop-amms",
        dest="prop_amms",
        action="store_false",
        help="no prop AMMs (default: one per major pair, SOL against each stablecoin; "
        "their program ids are printed for a programs file, docs/propamm.md)",
    )
    sim.add_argument(
        "--rivals",
        default="mainnet",
        choices=RIVAL_PRESETS,
        help="how strong the competing arbitrageurs are (default mainnet: a tipped bundle "
        "bot landing the slot after a gap, a slower one, a bot spamming plain transactions)",
    )
    sim.add_argument(
        "--competitors",
        type=int,
        choices=range(9),
        metavar="N",
        help="how many rivals race for gaps (0-8; default: the preset's own)",
    )
    sim.add_argument(
        "--rival-reaction",
        type=int,
        metavar="SLOTS",
        help="slots after a gap the fastest rival most likely lands in (default: the preset's)",
    )
    sim.add_argument(
        "--rival-tip",
        type=int,
        metavar="LAMPORTS",
        help="the best rival's median tip (the others scaled alike; default: the preset's)",
    )
    sim.add_argument(
        "--rival-gap-bps",
        type=float,
        metavar="BPS",
        help="the smallest gap the keenest rival acts on (default: the preset's)",
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
    node = sub.add_parser(
        "node",
        help="a real Solana node on loopback (Agave's solana-test-validator) on a market "
        "arbscope sim --export wrote; prints its URLs",
    )
    node.add_argument("--market", metavar="DIR", help="the exported market (required)")
    node.add_argument(
        "--validator",
        metavar="FILE",
        help="the solana-test-validator binary (default: $ARBSCOPE_VALIDATOR, "
        "../shared/bin, then PATH)",
    )
    node.add_argument(
        "--grpc",
        action="store_true",
        help="load the Yellowstone gRPC plugin beside the validator (its grpc:// URL printed)",
    )
    node.add_argument(
        "--ledger", metavar="DIR", help="where the validator keeps its ledger (default: a temp dir)"
    )
    node.add_argument(
        "--drive",
        action="store_true",
        help="trade the market too: the market driver (noise traders, arbitrageurs, "
        "rivals) on the node (arbscope node drive --help)",
    )
    add_drive(node)
    nsub = node.add_subparsers(dest="node_command")
    drive = nsub.add_parser(
        "drive",
        help="trade an exported market on any node: real signed swaps through the real "
        "programs (noise traders, arbitrageurs, large trades, rival arbitrages)",
    )
    drive.add_argument("--rpc", required=True, metavar="URL", help="the node's JSON-RPC URL")
    drive.add_argument(
        "--market", required=True, metavar="DIR", help="the market the node holds (sim --export)"
    )
    add_drive(drive)
    keygen = sub.add_parser("keygen", help="write a new keypair file (0600) for simulator trials")
    keygen.add_argument("path", metavar="FILE", help="where (outside any git repository)")
    init = sub.add_parser("init", help="write a commented configuration file (every key)")
    init.add_argument(
        "path", nargs="?", metavar="FILE", help="where (default: ~/.config/arbscope/config.toml)"
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    # every flag of run, as run takes it (--ws, --rpc, --ca-file, --keypair ...: what is
    # checked is what run would use); a flag not given is absent from the namespace, so
    # one given before the command (arbscope --ws URL doctor) is not replaced by a default
    doctor = sub.add_parser(
        "doctor",
        help="check the engine, config, endpoints, clock, keypair, journal, logs and metrics "
        "port (with run's flags: what run would use)",
        argument_default=argparse.SUPPRESS,
    )
    add_run(doctor)
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
    add_node_access(disc, timeout=30)
    disc.add_argument(
        "--out", default="pools.toml", metavar="FILE", help="where to write (default pools.toml)"
    )
    disc.add_argument("--force", action="store_true", help="overwrite an existing --out")
    programs = sub.add_parser("programs", help="program binaries: fetch today's from a node")
    prsub = programs.add_subparsers(dest="programs_command")
    dump = prsub.add_parser(
        "dump",
        help="the binaries of the programs arbscope trades (every venue's, the token "
        "programs), read from a node as `solana program dump` reads them, written as "
        "DIR/<program id>.so with DIR/manifest.json (for `arbscope sim --programs DIR`)",
    )
    add_node_access(dump, timeout=60)
    dump.add_argument("--out", required=True, metavar="DIR", help="the folder to write")
    dump.add_argument(
        "--program",
        action="append",
        default=[],
        metavar="ID",
        help="one more program to fetch (repeatable)",
    )
    demo = sub.add_parser("demo", help="the seeded in-process market (no sockets)")
    add_common(demo)
    demo.add_argument(
        "--updates",
        type=int,
        default=10,
        metavar="N",
        help="pool updates per 200 ms tick (default 10)",
    )
    add_run(p)  # `arbscope` alone is `arbscope run`
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
    "rpc_timeout": "feeds.rpc_timeout_s",
    "transport": "feeds.transport",
    "grpc_client": "feeds.grpc_client",
    "endpoints": "sim.endpoints",
    "programs": "sim.programs",
    "rivals": "sim.rivals",
    "competitors": "sim.competitors",
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
    "simulate": "live.simulate",
    "cu_limit": "live.cu_limit",
    "metrics_port": "metrics.port",
    "log_file": "logs.file",
    "log_level": "logs.level",
}
# run's switches (store_true flags) -> the configuration key and the value they set
SWITCHES: tuple[tuple[str, str, Any], ...] = (
    ("no_record", "journal.record", False),
    ("no_metrics", "metrics.enabled", False),
    ("sim_accept_tx", "sim.accept_tx", True),
)


def add_run(p: argparse.ArgumentParser) -> None:
    """`run`'s flags. Each one overrides a key of the configuration (arbscope init)."""
    p.add_argument(
        "--config",
        metavar="FILE",
        help="configuration (default: $ARBSCOPE_CONFIG, else "
        "~/.config/arbscope/config.toml when it exists)",
    )
    p.add_argument("--seed", type=int, help="seed of the simulated market (sim.seed, default 63)")
    add_theme(p, None, "colour theme (ui.theme; t cycles them on screen)")
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
        "--rpc-timeout",
        type=float,
        metavar="SECONDS",
        help="an HTTP JSON-RPC request's timeout (feeds.rpc_timeout_s, default 5; the "
        "snapshot at start retries a busy node with up to 8 times it)",
    )
    p.add_argument(
        "--transport",
        choices=["picows", "websockets"],
        help="the PubSub WebSocket client (feeds.transport, default picows; websockets: the "
        "fallback)",
    )
    p.add_argument(
        "--grpc-client",
        choices=["native", "aio"],
        help="the Yellowstone gRPC receiver (feeds.grpc_client, default native; aio: "
        "grpc.aio, for TLS endpoints and the fallback)",
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
        "--rivals",
        choices=RIVAL_PRESETS,
        help="how strong the embedded simulator's competing arbitrageurs are (sim.rivals, "
        "default mainnet; none, weak, mainnet, strong)",
    )
    p.add_argument(
        "--competitors",
        type=int,
        metavar="N",
        help="how many of them race (sim.competitors; default: the preset's own)",
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
    add_db(p)
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
        "--simulate",
        choices=("always", "plain"),
        help="simulate before sending: always (default), or plain transactions only: "
        "bundles go unsimulated, said on screen (live.simulate)",
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


def add_nats(p: argparse.ArgumentParser) -> None:
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
    from ..fleet import FleetSettings

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


def flag_settings(args: argparse.Namespace) -> list[tuple[str, str, Any]]:
    """The configuration keys run's flags set: ``(dotted key, flag, value)`` for each flag
    given (a flag absent from ``args`` or None was not)."""
    out = []
    for attr, dotted in RUN_FLAGS.items():
        v = getattr(args, attr, None)
        if v is not None:
            out.append((dotted, "--" + attr.replace("_", "-"), v))
    for attr, dotted, value in SWITCHES:
        if getattr(args, attr, False):
            out.append((dotted, "--" + attr.replace("_", "-"), value))
    return out


def apply_flags(cfg: Any, args: argparse.Namespace) -> list[str]:
    """Set on ``cfg`` what run's flags in ``args`` say (flags win over the file and the
    environment); the problems, one line each (a flag's value the key refuses)."""
    from ..config import BY_DOTTED, _convert

    problems = []
    for dotted, flag, v in flag_settings(args):
        try:
            cfg.set(dotted, _convert(BY_DOTTED[dotted], v), f"flag {flag}")
        except ValueError as exc:
            problems.append(f"{flag}: {exc}")
    return problems


def resolve_config(args: argparse.Namespace) -> Any:
    """The configuration for `run`: defaults < file < environment < these flags."""
    from ..config import Config, ConfigError, check, load

    cfg: Config = load(getattr(args, "config", None))
    problems = apply_flags(cfg, args)
    if problems:
        raise ConfigError(problems)
    return check(cfg)


# commands that take run's flags (given before the command too: `arbscope --ws URL doctor`)
TAKE_RUN_FLAGS = frozenset({None, "run", "collect", "doctor"})


def misplaced_flags(argv: list[str], command: str | None) -> list[str]:
    """Run's flags given before a command that does not take them (``arbscope --ws URL
    sessions``: argparse takes them for the top level, the command never reads them): the
    flags' names, in order ([] when none, or when the command takes them)."""
    if command in TAKE_RUN_FLAGS:
        return []
    probe = Parser(prog="arbscope", add_help=False, argument_default=argparse.SUPPRESS)
    add_run(probe)
    add_nats(probe)
    probe.add_argument("rest", nargs=argparse.REMAINDER)
    given, _ = probe.parse_known_args(argv)
    unset = vars(probe.parse_known_args([])[0])  # the flags with a default of their own
    return [
        "--" + k.replace("_", "-")
        for k, v in vars(given).items()
        if k != "rest" and (k not in unset or unset[k] != v)
    ]


def add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="journal file (journal.path; default: $ARBSCOPE_DB or the user data dir)",
    )

"""arbscope's configuration: one TOML file; every key has a default and an environment
override.

Precedence, last wins: the defaults below < the config file < the environment
(``ARBSCOPE_<SECTION>_<KEY>``, e.g. ``ARBSCOPE_POLICY_MIN_PROFIT=5000``; a few keys also
keep a short legacy name such as ``ARBSCOPE_KEYPAIR``) < command-line flags.

The file is ``--config FILE``, else ``$ARBSCOPE_CONFIG``, else
``~/.config/arbscope/config.toml`` when it exists, else none (the defaults run the
embedded simulator). ``arbscope init`` writes a commented one with every key.

Every problem is a :class:`ConfigError` naming the key, and for the file its line::

    config.toml:14: policy.min_profit: expected an integer >= 0, got "lots"
    config.toml:3: unknown key "polcy.min_profit" (did you mean "policy.min_profit"?)
    ARBSCOPE_LIVE_MAX_TRADE: expected an integer >= 1, got "1e9"

All problems are reported at once. URLs (which may carry API keys) are only ever shown
through :func:`feeds.redact.redact`, in errors too.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feeds.redact import redact
from feeds.wire.universe import address_problem

from . import SIM_SEED

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# the simulator's rival presets (feeds.sim.competition.PRESETS: a test holds the two equal)
RIVAL_PRESETS = ("none", "weak", "mainnet", "strong")
ENV_PREFIX = "ARBSCOPE_"


class ConfigError(ValueError):
    """Configuration that cannot be used; one line per problem, each naming the key."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Key:
    """One configuration key: its type, default, limits and documentation."""

    section: str
    name: str
    kind: str  # int | float | bool | str | choice | url | urls | mints | path
    default: Any
    doc: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    legacy_env: str | None = None  # an older, shorter variable that also sets it
    schemes: tuple[str, ...] = ("http", "https")  # url / urls keys
    example: str = ""  # shown commented out in `arbscope init` when the default is None

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def env(self) -> str:
        return f"{ENV_PREFIX}{self.section.upper()}_{self.name.upper()}"


SECTIONS: dict[str, str] = {
    "feeds": "Where market data comes from. No ws endpoints: the embedded simulator.",
    "market": "Which pools are watched and which cycles are searched.",
    "policy": "When an opportunity is a GO (the scorer's thresholds).",
    "fees": "How landing a transaction is priced (compute budget, priority fee, tip).",
    "live": "Live trading (m on screen): off until every guard rail holds. Keys are read\n"
    "# from files only; the keypair file must be 0600 and outside any git repository.",
    "journal": "The session journal (SQLite): every input, every decision.",
    "metrics": "Prometheus /metrics and JSON /health over HTTP.",
    "rivals": "Others' arbitrage on the watched pools, and how we compare (the Rivals panel).",
    "propamm": "Prop AMMs (HumidiFi, SolFi, Tessera V ...) observed beside the public pools.",
    "logs": "Structured logs (JSON lines, rotated) and, headless, human lines on stderr.",
    "ui": "The dashboard.",
    "sim": "The embedded simulator (used when feeds.ws is empty).",
}


KEYS: tuple[Key, ...] = (
    Key(
        "feeds",
        "ws",
        "urls",
        [],
        "PubSub endpoints (wss://...), one per node",
        schemes=("ws", "wss"),
    ),
    Key(
        "feeds",
        "rpc",
        "urls",
        [],
        "HTTP JSON-RPC URLs paired with feeds.ws in order (snapshot, fee samples); at least one",
    ),
    Key(
        "feeds",
        "grpc",
        "urls",
        [],
        "Yellowstone gRPC endpoints (grpcs://host:port), one per "
        "node, read beside feeds.ws (the Geyser Subscribe stream; feeds.rpc pairs with "
        "feeds.ws first, then with these)",
        schemes=("grpc", "grpcs", "http", "https"),
    ),
    Key(
        "feeds",
        "grpc_token_file",
        "path",
        None,
        "a file holding the x-token of the feeds.grpc endpoints (a secret: never logged or shown)",
        example="~/.config/arbscope/grpc-token",
    ),
    Key(
        "feeds",
        "grpc_token_env",
        "str",
        None,
        "the name of an environment variable holding that x-token instead",
        example="YELLOWSTONE_TOKEN",
    ),
    Key(
        "feeds",
        "commitment",
        "choice",
        "confirmed",
        "commitment of every subscription and read of the session (shown in the status bar)",
        choices=("processed", "confirmed", "finalized"),
    ),
    Key(
        "feeds",
        "ca_file",
        "path",
        None,
        "a private CA (PEM) trusted besides the system's "
        "for wss:// and https:// (every feed, the sender, Jito, doctor)",
        example="~/.config/arbscope/provider-ca.pem",
    ),
    Key(
        "feeds",
        "max_frame_mb",
        "float",
        64.0,
        "largest PubSub frame and HTTP answer accepted, MiB (big accounts, getProgramAccounts)",
        lo=1,
        hi=4096,
    ),
    Key(
        "feeds",
        "rpc_timeout_s",
        "float",
        5.0,
        "an HTTP JSON-RPC request's timeout, s; the snapshot at start retries what a busy "
        "node did not answer in time with a doubled timeout (up to 8 times this)",
        lo=0.1,
        hi=600,
    ),
    Key(
        "feeds",
        "reconcile_rps",
        "float",
        2.0,
        "the watched accounts are read again through getMultipleAccounts at most this many "
        "requests a second (the suspects first), and what a stream dropped is repaired; "
        "0: never",
        lo=0,
        hi=1000,
    ),
    Key(
        "feeds",
        "reconcile_batch",
        "int",
        100,
        "accounts in each of the reconcile's requests",
        lo=1,
        hi=100,
    ),
    Key(
        "feeds",
        "stale_after_s",
        "float",
        3.0,
        "no slot notification for this long: reconnect that endpoint",
        lo=0.5,
        hi=600,
    ),
    Key(
        "feeds",
        "transport",
        "choice",
        "picows",
        "the PubSub WebSocket client: picows "
        "(C frame parsing, no copy: the faster) or websockets (the fallback)",
        choices=("picows", "websockets"),
    ),
    Key(
        "feeds",
        "grpc_client",
        "choice",
        "native",
        "the Yellowstone gRPC receiver: native (the engine's HTTP/2 client in its own "
        "thread: the faster; plaintext grpc:// only) or aio (grpc.aio: TLS endpoints and "
        "the fallback)",
        choices=("native", "aio"),
    ),
    Key(
        "market",
        "pools_file",
        "path",
        None,
        "pool universe ([[pool]] address + kind); required with feeds.ws",
        example="pools.toml",
    ),
    Key(
        "market",
        "base_mints",
        "mints",
        [],
        "cycles start and end in these (default: the pool file's base_mints)",
    ),
    Key("market", "max_hops", "int", 3, "longest cycle searched", lo=2, hi=4),
    Key(
        "market",
        "sweep_s",
        "float",
        1.0,
        "full negative-cycle sweep every this many seconds",
        lo=0.05,
        hi=3600,
    ),
    Key("policy", "min_profit", "int", 1, "net profit floor, base-token units", lo=0),
    Key(
        "policy",
        "min_profit_bps",
        "float",
        0.0,
        "net profit floor, bps of the input",
        lo=0,
        hi=10_000,
    ),
    Key(
        "policy",
        "min_persistence",
        "int",
        2,
        "evaluations in a row an opportunity must survive",
        lo=1,
        hi=10_000,
    ),
    Key("policy", "max_staleness_slots", "int", 150, "oldest pool state a decision may use", lo=0),
    Key(
        "fees",
        "cu_limit",
        "int",
        None,
        "one compute-unit limit for every transaction, "
        "requested by live and priced by the scorer (default: each cycle's own: its hops' "
        "venue limits, 5,000 more, 30,000 per token account it creates)",
        lo=1,
        hi=1_400_000,
        example="400000",
    ),
    Key(
        "fees",
        "percentile",
        "float",
        75.0,
        "priority fee: this percentile of the recent window's per-slot fees",
        lo=0,
        hi=100,
    ),
    Key(
        "fees",
        "tip_lamports",
        "int",
        0,
        "tip per transaction, counted in every score "
        "(the percentile policy's tip until a tip floor is read)",
        lo=0,
    ),
    Key(
        "fees",
        "tip_policy",
        "choice",
        "fixed",
        "the Jito tip: fixed (tip_lamports) or "
        "percentile (of recently landed tips, from the engines' tip floor)",
        choices=("fixed", "percentile"),
    ),
    Key(
        "fees",
        "tip_percentile",
        "int",
        50,
        "the percentile policy's percentile: 25, 50, 75, 95 or 99",
        lo=25,
        hi=99,
    ),
    Key(
        "fees",
        "tip_max",
        "int",
        1_000_000,
        "the percentile policy's and escalation's cap, lamports",
        lo=1_000,
    ),
    Key(
        "fees",
        "tip_escalation",
        "bool",
        False,
        "re-send an order that has not landed with a "
        "higher tip (needs live.jito): each order a durable transaction of one of the "
        "wallet's nonce accounts, so at most one version lands and one tip is paid",
    ),
    Key(
        "fees",
        "tip_escalation_step",
        "float",
        1.5,
        "each version's tip: the last one's times this (at most tip_max)",
        lo=1.01,
        hi=10,
    ),
    Key(
        "fees",
        "tip_escalation_slots",
        "int",
        4,
        "slots without landing before the next version",
        lo=1,
        hi=149,
    ),
    Key(
        "fees",
        "tip_escalation_window",
        "int",
        150,
        "slots after the first version that "
        "versions are sent in (at most the blockhash window, 150)",
        lo=2,
        hi=150,
    ),
    Key(
        "live",
        "keypair",
        "path",
        None,
        "Solana keypair file (JSON array of 64 numbers)",
        legacy_env="ARBSCOPE_KEYPAIR",
        example="~/.config/solana/id.json",
    ),
    Key(
        "live",
        "send_rpc",
        "url",
        None,
        "JSON-RPC to simulate and send with (default: the first feeds.rpc)",
        legacy_env="ARBSCOPE_SEND_RPC",
        example="https://rpc.example.com/?api-key=...",
    ),
    Key(
        "live",
        "send_ws",
        "url",
        None,
        "PubSub for signatureSubscribe (default: the first feeds.ws)",
        legacy_env="ARBSCOPE_SEND_WS",
        schemes=("ws", "wss"),
    ),
    Key(
        "live",
        "jito",
        "urls",
        [],
        "send as Jito bundles to these block engines, all at "
        "once (one signature: it lands once, one tip)",
        legacy_env="ARBSCOPE_JITO",
        example='["https://ny.mainnet.block-engine.jito.wtf", '
        '"https://frankfurt.mainnet.block-engine.jito.wtf"]',
    ),
    Key(
        "live",
        "tables_budget_lamports",
        "int",
        500_000_000,
        "what the wallet's address lookup tables may cost this process (rent + fees), lamports",
        lo=0,
    ),
    Key(
        "live",
        "nonces_budget_lamports",
        "int",
        50_000_000,
        "what the wallet's durable nonce "
        "accounts (fees.tip_escalation; one per live.max_open) may cost this process, lamports",
        lo=0,
    ),
    Key(
        "live",
        "jito_rps",
        "float",
        1.0,
        "requests a second each block engine allows (Jito's "
        "default: 1 per IP and region); requests are paced under it (0: not paced)",
        lo=0,
    ),
    Key(
        "live",
        "bundle_check_s",
        "float",
        2.0,
        "a sent bundle's block engines are asked for its status this long after the send "
        "and as often again, only while their rate gate is free (never delaying a send); "
        "Failed at every one ends the order at once instead of at its blockhash's expiry, "
        "freeing its pools and live.max_open (0: not asked)",
        lo=0,
    ),
    Key(
        "live",
        "max_trade",
        "int",
        None,
        "cap per trade, base-token units (required)",
        lo=1,
        example="1000000000",
    ),
    Key(
        "live",
        "max_day",
        "int",
        None,
        "cap per UTC day, base-token units (required)",
        lo=1,
        example="10000000000",
    ),
    Key("live", "max_open", "int", 1, "orders in flight at once", lo=1, hi=64),
    Key(
        "live",
        "simulate",
        "choice",
        "always",
        "simulate before sending: always, or plain (plain transactions only: bundles go "
        "unsimulated, since block engines do not land a failing bundle)",
        choices=("always", "plain"),
    ),
    Key(
        "live",
        "max_slippage_bps",
        "int",
        50,
        "each hop may give this much under its quote",
        lo=1,
        hi=1_000,
    ),
    Key(
        "live",
        "cu_limit",
        "int",
        None,
        "the older name of fees.cu_limit (the scorer prices what live requests: set one)",
        lo=1,
        hi=1_400_000,
        example="400000",
    ),
    Key(
        "journal",
        "path",
        "path",
        None,
        "journal file (default: journal.sqlite in the user data directory)",
        legacy_env="ARBSCOPE_DB",
        example="~/arbscope/journal.sqlite",
    ),
    Key("journal", "record", "bool", True, "record sessions"),
    Key(
        "journal",
        "batch_ms",
        "float",
        200.0,
        "write batch: the most a crash can lose",
        lo=10,
        hi=60_000,
    ),
    Key(
        "journal",
        "queue_mb",
        "float",
        64.0,
        "the write queue's memory: past this much "
        "waiting to be written, inputs wait in a file beside the journal while its writes "
        "succeed; while they fail (a full disk), recording stops and the session goes on "
        "unrecorded",
        lo=0.1,
        hi=65_536,
    ),
    Key(
        "rivals",
        "enabled",
        "bool",
        True,
        "read the transactions that touch the watched pools (logs that mention each pool, "
        "gRPC transaction updates; bodies by getTransaction) and compare others' arbitrage "
        "with ours",
    ),
    Key(
        "rivals",
        "labels_file",
        "path",
        None,
        'a TOML file naming signers: <address> = "name" (shown beside their address)',
        example="~/.config/arbscope/rivals.toml",
    ),
    Key(
        "propamm",
        "enabled",
        "bool",
        True,
        "read the prop AMMs' transactions (their swaps' realized prices, their oracle "
        "updates; on the transaction path rivals.enabled opens) and show them beside the "
        "public pools' mid (the Prices panel, the chart)",
    ),
    Key(
        "propamm",
        "programs_file",
        "path",
        None,
        'a TOML file of more prop AMM programs: <program id> = "name" (added to the known '
        "ones, docs/propamm.md)",
        example="~/.config/arbscope/propamm.toml",
    ),
    Key(
        "propamm",
        "follow_bps",
        "float",
        5.0,
        "the public pools have followed a prop AMM's price once their mid is this close "
        "to it (bps), or crossed it",
        lo=0.01,
        hi=10_000,
    ),
    Key("metrics", "enabled", "bool", True, "serve /metrics and /health"),
    Key("metrics", "host", "str", "127.0.0.1", "address to listen on (loopback by default)"),
    Key("metrics", "port", "int", 9464, "port (0: any free port)", lo=0, hi=65_535),
    Key(
        "metrics",
        "stall_s",
        "float",
        10.0,
        "/health is unhealthy when no feed delivered anything for this long",
        lo=1,
        hi=3600,
    ),
    Key(
        "metrics",
        "missed_max_pct",
        "float",
        5.0,
        "/health is degraded when an endpoint missed more than this share of the "
        "notifications the other endpoints delivered over the last 10 s (%)",
        lo=0,
        hi=100,
    ),
    Key(
        "metrics",
        "unknown_max_pct",
        "float",
        5.0,
        "/health is degraded when more than this share of an endpoint's messages over the "
        "last 10 s came under subscription ids it never gave (%)",
        lo=0,
        hi=100,
    ),
    Key(
        "metrics",
        "implausible_max",
        "int",
        0,
        "/health is degraded when an endpoint sent more than this many notifications from "
        "slots too far ahead of the chain over the last 10 s (an honest node sends none)",
        lo=0,
        hi=1_000_000,
    ),
    Key(
        "metrics",
        "older_max_pct",
        "float",
        20.0,
        "/health is degraded when more than this share of an endpoint's messages over the "
        "last 10 s were account updates older than the state held (%)",
        lo=0,
        hi=100,
    ),
    Key(
        "metrics",
        "repaired_max_pct",
        "float",
        0.5,
        "/health is degraded when the reconcile repaired more than this share of an "
        "endpoint's notifications over the last 10 s (account changes its stream never "
        "delivered, %)",
        lo=0,
        hi=100,
    ),
    Key(
        "logs",
        "file",
        "path",
        None,
        "JSON-lines log file (default: arbscope.log in the user data directory)",
        example="~/arbscope/arbscope.log",
    ),
    Key(
        "logs",
        "level",
        "choice",
        "info",
        "least important level logged",
        choices=("debug", "info", "warning", "error"),
    ),
    Key("logs", "max_bytes", "int", 10 * 1024 * 1024, "rotate the log file at this size", lo=4096),
    Key("logs", "backups", "int", 5, "rotated files kept", lo=0, hi=100),
    Key(
        "ui",
        "theme",
        "choice",
        "dark",
        "colour theme (t cycles them)",
        choices=("dark", "light", "contrast"),
    ),
    Key("sim", "seed", "int", SIM_SEED, "seed of the simulated market", lo=0, hi=2**63 - 1),
    Key("sim", "endpoints", "int", 3, "endpoints the simulator presents", lo=1, hi=32),
    Key(
        "sim",
        "grpc",
        "int",
        0,
        "of the simulator's endpoints, this many (the last ones) are "
        "read over Yellowstone gRPC instead of PubSub (a session mixing transports)",
        lo=0,
        hi=32,
    ),
    Key("sim", "slot_ms", "float", 400.0, "slot length", lo=1, hi=60_000),
    Key(
        "sim",
        "prop_amms",
        "bool",
        True,
        "a prop AMM per major pair (SOL against each stablecoin), quoting the hidden fair "
        "price first, its swaps and oracle updates real transactions",
    ),
    Key(
        "sim",
        "rivals",
        "choice",
        "mainnet",
        "how strong the competing arbitrageurs are (feeds.sim.competition): none; weak (two "
        "slow bots); mainnet (a tipped bundle bot landing the slot after a gap, a slower one, "
        "a bot spamming plain transactions); strong (five, faster, richer, keener)",
        choices=RIVAL_PRESETS,
    ),
    Key(
        "sim",
        "competitors",
        "int",
        None,
        "how many rivals race for the gaps (none set: the preset's own; 0: none)",
        lo=0,
        hi=8,
    ),
    Key(
        "sim",
        "rival_reaction",
        "int",
        None,
        "slots after seeing a gap that the fastest rival most likely lands in (1: the next "
        "slot; the others shifted alike; none set: the preset's)",
        lo=1,
        hi=16,
    ),
    Key(
        "sim",
        "rival_tip",
        "int",
        None,
        "the best rival's median tip, lamports (the others scaled alike; none set: the preset's)",
        lo=0,
    ),
    Key(
        "sim",
        "rival_gap_bps",
        "float",
        None,
        "the smallest gap the keenest rival acts on, bps (the others scaled alike; none set: "
        "the preset's)",
        lo=0,
    ),
    Key(
        "sim",
        "programs",
        "path",
        None,
        "a folder of real program binaries (<program id>.so, "
        "`arbscope programs dump`): the simulator runs transactions with them (LiteSVM), its "
        "own programs for the rest",
        example="~/arbscope/programs",
    ),
    Key(
        "sim",
        "accept_tx",
        "bool",
        False,
        "the simulator accepts transactions (live trials; its faucet funds live.keypair)",
    ),
)
BY_DOTTED = {k.dotted: k for k in KEYS}
KNOWN_ENV = (
    {k.env for k in KEYS}
    | {k.legacy_env for k in KEYS if k.legacy_env}
    | {
        "ARBSCOPE_CONFIG",
        "ARBSCOPE_ENGINE",
        "ARBSCOPE_FAULT_JOURNAL_MAX_PAGES",  # fault injection for tests (storage.journal)
    }
)


def default_path() -> Path:
    return (
        Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
        / "arbscope"
        / "config.toml"
    )


@dataclass
class Config:
    """Resolved values by dotted key, and where each came from."""

    values: dict[str, Any] = field(default_factory=lambda: {k.dotted: k.default for k in KEYS})
    sources: dict[str, str] = field(default_factory=lambda: {k.dotted: "default" for k in KEYS})
    path: Path | None = None

    def __getitem__(self, dotted: str) -> Any:
        return self.values[dotted]

    def set(self, dotted: str, value: Any, source: str) -> None:
        if dotted not in BY_DOTTED:
            raise KeyError(dotted)
        self.values[dotted] = value
        self.sources[dotted] = source


# ------------------------------------------------------------------ values
def _convert(key: Key, v: Any) -> Any:
    """``v`` (parsed TOML, or an environment string already split) as ``key`` wants it;
    ValueError with the reason otherwise."""
    k = key.kind
    if k == "bool":
        if isinstance(v, bool):
            return v
        raise ValueError(f"expected true or false, got {_show(key, v)}")
    if k == "int":
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"expected an integer{_range(key)}, got {_show(key, v)}")
        _check_range(key, v)
        return v
    if k == "float":
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            raise ValueError(f"expected a number{_range(key)}, got {_show(key, v)}")
        _check_range(key, float(v))
        return float(v)
    if k in ("str", "path", "choice"):
        if not isinstance(v, str) or not v.strip():
            raise ValueError(f"expected a non-empty string, got {_show(key, v)}")
        if k == "choice" and v not in key.choices:
            raise ValueError(f"expected one of {', '.join(key.choices)}, got {_show(key, v)}")
        return str(Path(v).expanduser()) if k == "path" else v
    if k == "url":
        return _url(key, v)
    if k in ("urls", "mints"):
        if not isinstance(v, list):
            raise ValueError(f"expected a list, got {_show(key, v)}")
        if k == "urls":
            return [_url(key, u) for u in v]
        for m in v:
            why = address_problem(m)
            if why:
                raise ValueError(f"{_show(key, m)} is not an address ({why})")
        return list(v)
    raise AssertionError(k)


def _url(key: Key, v: Any) -> str:
    m = re.match(r"^([a-z]+)://[^/\s]+", v) if isinstance(v, str) else None
    if m is None or m.group(1) not in key.schemes:
        want = " or ".join(f"{x}://" for x in key.schemes)
        raise ValueError(f"expected a {want} URL, got {_show(key, v)}")
    return str(v)


def _show(key: Key, v: Any) -> str:
    if key.kind in ("url", "urls") and isinstance(v, str):
        return repr(redact(v))
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _range(key: Key) -> str:
    if key.lo is not None and key.hi is not None:
        return f" within {key.lo:g}..{key.hi:g}"
    if key.lo is not None:
        return f" >= {key.lo:g}"
    return ""


def _check_range(key: Key, v: float) -> None:
    if (key.lo is not None and v < key.lo) or (key.hi is not None and v > key.hi):
        raise ValueError(f"expected a value{_range(key)}, got {v:g}")


def _from_env(key: Key, text: str) -> Any:
    """An environment string as the TOML value it stands for."""
    t = text.strip()
    k = key.kind
    if k == "bool":
        low = t.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        return t
    if k == "int":
        try:
            return int(t.replace("_", ""))
        except ValueError:
            return t
    if k == "float":
        try:
            return float(t)
        except ValueError:
            return t
    if k in ("urls", "mints"):
        return [p.strip() for p in t.split(",") if p.strip()]
    return t


# ------------------------------------------------------------------ the file
_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$")
_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.\-]+)\s*\]\]")
_KEYLINE = re.compile(r"^\s*([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=")


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Where each key is set: the path of tables and key names -> 1-based line (tables
    themselves too). Enough for a hand-written config; a value spanning lines is found
    at its first line."""
    out: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for n, line in enumerate(text.splitlines(), 1):
        m = _ARRAY_HEADER.match(line)
        if m:
            table = tuple(p.strip() for p in m.group(1).split("."))
            out.setdefault(table, n)
            continue
        m = _HEADER.match(line)
        if m:
            table = tuple(p.strip() for p in m.group(1).split("."))
            out.setdefault(table, n)
            continue
        m = _KEYLINE.match(line)
        if m:
            path = table + tuple(p.strip() for p in m.group(1).split("."))
            out.setdefault(path, n)
    return out


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def parse(text: str, source: str, cfg: Config | None = None) -> Config:
    """Apply the TOML ``text`` (named ``source`` in messages) over ``cfg`` (defaults)."""
    cfg = cfg or Config()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{source}: not valid TOML: {exc}"]) from None
    lines = key_lines(text)
    problems: list[str] = []

    def at(*path: str) -> str:
        n = lines.get(tuple(path))
        if n is None:  # a dotted key or an inline table: the first line under the path
            n = min((ln for p, ln in lines.items() if p[: len(path)] == path), default=None)
        return f"{source}:{n}" if n else source

    for section, body in doc.items():
        if section not in SECTIONS and not isinstance(body, dict):  # a key outside a table
            named = [k.dotted for k in KEYS if k.name == section]
            hint = f' (did you mean "{named[0]}"?)' if named else ""
            problems.append(f'{at(section)}: unknown key "{section}"{hint}')
            continue
        if section not in SECTIONS:
            problems.append(
                f'{at(section)}: unknown section "{section}"{_suggest(section, SECTIONS)}'
            )
            continue
        if not isinstance(body, dict):
            problems.append(f'{at(section)}: "{section}" must be a table ([{section}])')
            continue
        for name, v in body.items():
            dotted = f"{section}.{name}"
            key = BY_DOTTED.get(dotted)
            if key is None:
                names = [k.dotted for k in KEYS]
                problems.append(
                    f'{at(section, name)}: unknown key "{dotted}"{_suggest(dotted, names)}'
                )
                continue
            try:
                cfg.set(dotted, _convert(key, v), f"{source}:{lines.get((section, name), '?')}")
            except ValueError as exc:
                problems.append(f"{at(section, name)}: {dotted}: {exc}")
    if problems:
        raise ConfigError(problems)
    return cfg


def apply_env(cfg: Config, env: Mapping[str, str]) -> Config:
    """Environment overrides (legacy names first, then ARBSCOPE_<SECTION>_<KEY>)."""
    problems = []
    for name in sorted(env):
        if name.startswith(ENV_PREFIX) and name not in KNOWN_ENV:
            problems.append(f"{name}: unknown setting{_suggest(name, KNOWN_ENV)}")
    for key in KEYS:
        for var in (key.legacy_env, key.env):
            if var is None or var not in env:
                continue
            try:
                cfg.set(key.dotted, _convert(key, _from_env(key, env[var])), f"env {var}")
            except ValueError as exc:
                problems.append(f"{var}: {exc}")
    if problems:
        raise ConfigError(problems)
    return cfg


def known_key(dotted: str) -> Key:
    """The key named ``dotted``; ConfigError (with the nearest name) when there is none."""
    key = BY_DOTTED.get(dotted)
    if key is None:
        raise ConfigError([f'unknown key "{dotted}"{_suggest(dotted, BY_DOTTED)}'])
    return key


def parse_value(dotted: str, text: str) -> Any:
    """``text`` (a command-line value: ``--set KEY=V1,V2``) as ``dotted`` wants it, read
    as its environment variable would be; ConfigError naming the key otherwise."""
    key = known_key(dotted)
    try:
        return _convert(key, _from_env(key, text))
    except ValueError as exc:
        raise ConfigError([f"{dotted}: {exc}"]) from None


def check(cfg: Config) -> Config:
    """Rules between keys."""
    problems = []
    ws, rpc, grpc = cfg["feeds.ws"], cfg["feeds.rpc"], cfg["feeds.grpc"]

    def src(dotted: str) -> str:
        return cfg.sources[dotted] if cfg.sources[dotted] != "default" else "defaults"

    if rpc and ws and len(rpc) != len(ws) and len(rpc) != len(ws) + len(grpc):
        problems.append(
            f"{src('feeds.rpc')}: feeds.rpc has {len(rpc)} URLs for {len(ws)} "
            "feeds.ws endpoints: pair them in order"
        )
    if grpc and len(rpc) > len(ws) + len(grpc):
        problems.append(
            f"{src('feeds.rpc')}: feeds.rpc has {len(rpc)} URLs for "
            f"{len(ws) + len(grpc)} endpoints (feeds.ws, then feeds.grpc)"
        )
    streams = "feeds.ws" if ws else "feeds.grpc"
    if (ws or grpc) and not rpc:
        problems.append(
            f"{src(streams)}: {streams} needs at least one feeds.rpc (the initial snapshot)"
        )
    if (ws or grpc) and not cfg["market.pools_file"]:
        problems.append(f"{src(streams)}: {streams} needs market.pools_file (the pools to watch)")
    if cfg["feeds.grpc_token_file"] and cfg["feeds.grpc_token_env"]:
        problems.append(
            f"{src('feeds.grpc_token_env')}: feeds.grpc_token_file and "
            "feeds.grpc_token_env both set: name one"
        )
    mt, md = cfg["live.max_trade"], cfg["live.max_day"]
    if mt is not None and md is not None and mt > md:
        problems.append(
            f"{src('live.max_trade')}: live.max_trade ({mt:,}) is above live.max_day ({md:,})"
        )
    fl, ll = cfg["fees.cu_limit"], cfg["live.cu_limit"]
    if fl is not None and ll is not None and fl != ll:
        problems.append(
            f"{src('live.cu_limit')}: live.cu_limit ({ll:,}) differs from "
            f"fees.cu_limit ({fl:,}): the scorer prices what live requests, "
            "set fees.cu_limit only"
        )
    if cfg["fees.tip_escalation"]:
        every, window = cfg["fees.tip_escalation_slots"], cfg["fees.tip_escalation_window"]
        if every >= window:
            problems.append(
                f"{src('fees.tip_escalation_slots')}: fees.tip_escalation_slots "
                f"({every}) must be under fees.tip_escalation_window ({window}): "
                "no second version would ever be sent"
            )
        if not cfg["live.jito"]:
            problems.append(
                f"{src('fees.tip_escalation')}: fees.tip_escalation needs "
                "live.jito (each version's tip goes to the block engines)"
            )
    if problems:
        raise ConfigError(problems)
    return cfg


def load(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """The configuration: defaults, the file (see module doc), the environment."""
    env = os.environ if env is None else env
    explicit = path is not None or "ARBSCOPE_CONFIG" in env
    p = Path(path if path is not None else env.get("ARBSCOPE_CONFIG", default_path())).expanduser()
    cfg = Config()
    if p.exists() or explicit:
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                [f"{p}: no such config file (arbscope init {p} writes one)"]
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{p}: cannot read it ({exc})"]) from None
        cfg = parse(text, str(p), cfg)
        cfg.path = p
    return check(apply_env(cfg, env))


# ------------------------------------------------------------------ arbscope init
def _toml_value(key: Key, v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if not isinstance(v, float) or v != int(v) else f"{v:.1f}"
    if isinstance(v, list):
        return "[" + ", ".join(f'"{x}"' for x in v) + "]"
    return f'"{v}"'


def template() -> str:
    """A commented config with every key at its default (unset ones commented out)."""
    out = [
        "# arbscope configuration (written by `arbscope init`).",
        "# Every key below is at its default. Precedence, last wins: these defaults <",
        "# this file < the environment (the variable named above each key) < command-line",
        "# flags. `arbscope doctor` checks the result; URLs are shown redacted everywhere.",
        "",
    ]
    for section, doc in SECTIONS.items():
        out.append(f"# {doc}")
        out.append(f"[{section}]")
        for key in (k for k in KEYS if k.section == section):
            env = key.env + (f" (or {key.legacy_env})" if key.legacy_env else "")
            extra = f"; one of: {', '.join(key.choices)}" if key.choices else ""
            out.append(f"# {key.doc}{extra}. env: {env}")
            if key.default is None:
                example = key.example or "..."
                # a number's example as the number it is (uncommented, it must parse)
                shown = example if key.kind in ("int", "float") else _toml_value(key, example)
                out.append(f"# {key.name} = {shown}")
            else:
                out.append(f"{key.name} = {_toml_value(key, key.default)}")
        out.append("")
    return "\n".join(out)

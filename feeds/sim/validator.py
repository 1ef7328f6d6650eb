"""A real Solana node on loopback: Agave's ``solana-test-validator`` started on a market
``arbscope sim --export`` wrote (:mod:`feeds.sim.export`), with the real program binaries,
optionally the real Yellowstone gRPC plugin, on free ports; waited for until it answers.

It is what ``arbscope node`` runs for an operator's rehearsal and what the node tests
(``tests/node/``) share: one validator for a whole session (it takes ~1.5 GB and more
than a core: two of its threads spin).

What the validator does that a caller must know (``../shared/bin/README.md``):

- its RPC (port P), PubSub (P+1), faucet and gossip bind every interface whatever
  ``--bind-address`` says, so every instance takes free ports of its own
  (:func:`free_ports`: a block none of which is bound on any interface), and traffic goes
  to 127.0.0.1 only;
- ``--ticks-per-slot 8`` gives ~66 ms slots (the default, 64, ~440 ms);
- its epochs are mainnet's 432,000 slots (``slots_per_epoch``): with short epochs it stalls
  for good ("No next leader found") once its root falls an epoch behind its newest slot,
  which a busy machine makes happen (measured: 64-slot epochs, root 345 with the bank at
  389, stalled 35 s after its start under a load of 45 on 2 cores); fewer than 64 stalls
  it at the first boundary;
- it keeps 100 PubSub notifications per subscriber unless told otherwise and then drops a
  client that lags; a mainnet node keeps ten million
  (``--rpc-pubsub-queue-capacity-items``);
- reads and ``sendTransaction``'s preflight default to ``finalized`` (~32 slots behind).

Nothing here imports the rest of the simulator's market: it starts a process and waits.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# where the repository's shared test binaries are (a developer's checkout; an operator
# names the binary with --validator or ARBSCOPE_VALIDATOR, or has it on PATH)
_SHARED_BIN = Path(__file__).resolve().parents[3] / "shared" / "bin"
VALIDATOR_NAME = "solana-test-validator"
PLUGIN_NAME = "libyellowstone_grpc_geyser.so"
PUBSUB_QUEUE_ITEMS = 10_000_000  # a mainnet validator's (the test validator's default: 100)
PORT_BLOCK = 64  # ports one instance takes: RPC, PubSub, faucet, gossip, gRPC, metrics, range
DYNAMIC_PORTS = 40
START_TIMEOUT_S = 120.0


class NodeError(RuntimeError):
    """The validator could not be found, started or reached; the message says why (and
    the end of its log)."""


def find_validator(explicit: str | None = None) -> Path | None:
    """The ``solana-test-validator`` to run: ``explicit``, ``$ARBSCOPE_VALIDATOR``, the
    repository's ``../shared/bin``, then ``PATH``; None when there is none."""
    for cand in (explicit, os.environ.get("ARBSCOPE_VALIDATOR")):
        if cand:
            p = Path(cand)
            return p if p.is_file() else None
    local = _SHARED_BIN / VALIDATOR_NAME
    if local.is_file():
        return local
    found = shutil.which(VALIDATOR_NAME)
    return Path(found) if found else None


def find_plugin(validator: Path, explicit: str | None = None) -> Path | None:
    """The Yellowstone gRPC plugin built for ``validator``: ``explicit``,
    ``$ARBSCOPE_GEYSER_PLUGIN``, or the file beside the validator; None when absent."""
    for cand in (explicit, os.environ.get("ARBSCOPE_GEYSER_PLUGIN")):
        if cand:
            p = Path(cand)
            return p if p.is_file() else None
    beside = validator.parent / PLUGIN_NAME
    return beside if beside.is_file() else None


def _bindable(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                return False
    return True


def free_ports(count: int = PORT_BLOCK, rng: random.Random | None = None) -> int:
    """The first of ``count`` consecutive ports free on every interface, TCP and UDP
    (the validator binds them all)."""
    r = rng or random.Random()
    for _ in range(200):
        base = r.randrange(20_000, 60_000 - count)
        if all(_bindable(base + i) for i in range(count)):
            return base
    raise NodeError(f"no {count} consecutive free ports found")


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """Where a started node answers (all on 127.0.0.1)."""

    rpc_url: str
    ws_url: str
    grpc_url: str  # "" without the plugin
    pid: int
    ledger: str
    log: str
    started: float  # unix time it answered

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> NodeInfo:
        return cls(**json.loads(text))


@dataclass
class Validator:
    """One ``solana-test-validator`` on ``market`` (a folder ``arbscope sim --export``
    wrote; None: an empty chain), with the programs its ``market.json`` names."""

    binary: Path
    market: Path | None = None
    grpc: bool = False
    plugin: Path | None = None
    workdir: Path | None = None
    ticks_per_slot: int = 8
    slots_per_epoch: int = 432_000  # mainnet's: the leader schedule never runs out
    limit_ledger_shreds: int = 50_000_000
    extra_args: Sequence[str] = ()
    nice: int = 0  # its scheduling priority's increment: a test run's other processes first
    info: NodeInfo | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    def programs(self) -> list[tuple[str, str]]:
        """(program id, file) of every program the market loads."""
        if self.market is None:
            return []
        data = json.loads((self.market / "market.json").read_text(encoding="utf-8"))
        return [(p["program_id"], p["path"]) for p in data["programs"]]

    def command(self, base: int, ledger: Path, plugin_config: Path | None) -> list[str]:
        """The command line, ports from ``base``: RPC base, PubSub base + 1, faucet + 2,
        gossip + 3, gRPC + 4, the plugin's metrics + 5, the dynamic range after them."""
        cmd = [
            str(self.binary),
            "--reset",
            "--quiet",
            "--ledger",
            str(ledger),
            "--rpc-port",
            str(base),
            "--faucet-port",
            str(base + 2),
            "--gossip-port",
            str(base + 3),
            "--dynamic-port-range",
            f"{base + 8}-{base + 8 + DYNAMIC_PORTS}",
            "--ticks-per-slot",
            str(self.ticks_per_slot),
            "--slots-per-epoch",
            str(self.slots_per_epoch),
            "--limit-ledger-size",
            str(self.limit_ledger_shreds),
            "--rpc-pubsub-queue-capacity-items",
            str(PUBSUB_QUEUE_ITEMS),
        ]
        for pid, path in self.programs():
            cmd += ["--upgradeable-program", pid, path, "none"]
        if self.market is not None:
            cmd += ["--account-dir", str(self.market / "accounts")]
        if plugin_config is not None:
            cmd += ["--geyser-plugin-config", str(plugin_config)]
        return [*cmd, *self.extra_args]

    def start(self, timeout_s: float = START_TIMEOUT_S) -> NodeInfo:
        """Start it and wait until its RPC answers ``getHealth`` ok at a slot past 0
        (and its gRPC port listens, with the plugin); :class:`NodeError` otherwise."""
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="arbscope-node-")
            self.workdir = Path(self._tmp.name)
        # the validator runs in ``workdir``: every path it is given must not be relative
        # (``arbscope node --market mkt`` named ``mkt/accounts`` inside its workdir)
        self.workdir = self.workdir.resolve()
        if self.market is not None:
            self.market = self.market.resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        ledger = self.workdir / "ledger"
        log_path = self.workdir / "validator.log"
        base = free_ports()
        plugin_config = None
        grpc_url = ""
        if self.grpc:
            plugin = self.plugin or find_plugin(self.binary)
            if plugin is None:
                raise NodeError(f"no {PLUGIN_NAME} beside {self.binary} (gRPC asked for)")
            plugin_config = self.workdir / "geyser.json"
            plugin_config.write_text(json.dumps(geyser_config(plugin, base + 4, base + 5)))
            grpc_url = f"http://127.0.0.1:{base + 4}"
        cmd = self.command(base, ledger, plugin_config)
        log = log_path.open("wb")
        pre = (lambda: os.nice(self.nice)) if self.nice else None
        self._proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
            start_new_session=True,
            preexec_fn=pre,
        )
        log.close()
        rpc = f"http://127.0.0.1:{base}"
        try:
            _wait_ready(self._proc, rpc, timeout_s, log_path, base + 4 if self.grpc else None)
        except BaseException:
            self.stop()
            raise
        self.info = NodeInfo(
            rpc,
            f"ws://127.0.0.1:{base + 1}",
            grpc_url,
            self._proc.pid,
            str(ledger),
            str(log_path),
            time.time(),
        )
        return self.info

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        """SIGTERM to its process group, then SIGKILL after 10 s; its folder removed when
        it made one."""
        p = self._proc
        if p is not None and p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
        self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Validator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def geyser_config(plugin: Path, grpc_port: int, metrics_port: int) -> dict[str, Any]:
    """The Yellowstone plugin's config (``../shared/bin/README.md``), on loopback."""
    return {
        "libpath": str(plugin.resolve()),
        "log": {"level": "info"},
        "tokio": {"worker_threads": 2},
        "grpc": {
            "address": f"127.0.0.1:{grpc_port}",
            "x_token": None,
            "compression": {"accept": ["gzip", "zstd"], "send": ["gzip", "zstd"]},
            "max_decoding_message_size": "4_194_304",
            "channel_capacity": "100_000",
            "snapshot_client_channel_capacity": "50_000_000",
            "unary_concurrency_limit": 100,
            "unary_disabled": False,
            "replay_stored_slots": 200,
        },
        "prometheus": {"address": f"127.0.0.1:{metrics_port}"},
    }


def rpc_call(url: str, method: str, params: list[Any] | None = None, timeout: float = 5.0) -> Any:
    """One blocking JSON-RPC call (the launcher's own: no event loop); the ``result``,
    or :class:`NodeError` with the node's error."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    req = urllib.request.Request(
        url, json.dumps(body).encode(), {"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as r:
        out = json.loads(r.read())
    if "error" in out:
        raise NodeError(f"{method}: {out['error']}")
    return out["result"]


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def _wait_ready(
    proc: subprocess.Popen[bytes],
    rpc: str,
    timeout_s: float,
    log_path: Path,
    grpc_port: int | None,
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise NodeError(
                f"the validator exited with status {proc.returncode}:\n{_tail(log_path)}"
            )
        # (http.client.HTTPException: before the node listens, a connection to its port
        # can meet itself, TCP's self-connect in the ephemeral range, and read back its own
        # request: "BadStatusLine: POST / HTTP/1.1", seen on a busy machine)
        with contextlib.suppress(
            OSError, NodeError, urllib.error.URLError, ValueError, http.client.HTTPException
        ):
            if rpc_call(rpc, "getHealth") == "ok" and (
                rpc_call(rpc, "getSlot", [{"commitment": "processed"}]) > 0
            ):
                if grpc_port is None or _listening(grpc_port):
                    return
        if time.monotonic() > deadline:
            raise NodeError(
                f"the validator did not answer in {timeout_s:.0f} s:\n{_tail(log_path)}"
            )
        time.sleep(0.2)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0

"""``arbscope doctor``: one command that says what is wrong.

Each check prints one line, ``✓`` / ``✗`` / ``-`` (not applicable), its name and what it
found; the exit status is 1 when any check failed. Checks: the configuration, the engine
(the Rust extension and its build profile), every endpoint (HTTP answer and latency,
PubSub connect and first slot notification; for ``https://`` / ``wss://`` the TLS
handshake as the session verifies it, with the certificate's issuer and expiry; its
limits, from small bounded probes: a burst of ``PROBE_REQUESTS`` ``getSlot`` calls, and
the rate-limit answers it drew with their ``Retry-After``; ``PROBE_SUBSCRIPTIONS``
account subscriptions on one connection, and the cap if the endpoint refused some or
closed the socket), the commitment and size limit in force, the clock against the node
(``getBlockTime`` of the current slot), the keypair (when live trading is configured),
the sending RPC, the journal (writable, readable), the log file and the metrics port.
With no endpoints configured the embedded simulator is started and checked instead.
URLs are shown redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feeds.redact import redact, scrub_urls

EXPIRY_WARN_DAYS = 14  # a certificate this close to its end is a problem to fix now
MAX_SKEW_S = 3.0  # block times are whole seconds and slots ~0.4 s: more is a clock problem
# the limit probes stay small: a doctor must not hammer a provider
PROBE_REQUESTS = 10  # getSlot calls sent at once
PROBE_SUBSCRIPTIONS = 50  # accountSubscribe requests on one connection (then unsubscribed)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool | None  # None: not applicable
    detail: str

    def line(self) -> str:
        mark = "-" if self.ok is None else ("✓" if self.ok else "✗")
        return f"{mark} {self.name:<10} {self.detail}"


async def run(
    config_path: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 5.0,
    ca_file: str | None = None,
    flags: Callable[[Any], list[str]] | None = None,
) -> list[Check]:
    """Every check, in order (``ca_file``: overrides ``feeds.ca_file``; ``flags`` sets on
    the configuration what the command line's flags say, and returns its problems:
    ``arbscope doctor --ws URL`` checks what ``arbscope run --ws URL`` would use)."""
    from .config import Config, ConfigError, check, load

    env = os.environ if env is None else env
    out: list[Check] = []
    try:
        cfg = load(config_path, env)
        from_file = sum(
            1 for v in cfg.sources.values() if v not in ("default",) and not v.startswith("env")
        )
        from_env = sum(1 for v in cfg.sources.values() if v.startswith("env"))
        where = str(cfg.path) if cfg.path else "no file (defaults)"
        out.append(
            Check(
                "config",
                True,
                f"{where}: {from_file} keys from the file, {from_env} from the environment",
            )
        )
    except ConfigError as exc:
        for p in exc.problems:
            out.append(Check("config", False, p))
        cfg = Config()
    if ca_file:
        cfg.set("feeds.ca_file", ca_file, "flag --ca-file")
    if flags is not None:
        problems = flags(cfg)
        if not problems:
            try:
                check(cfg)  # the rules between keys, with the flags' values
            except ConfigError as exc:
                problems = exc.problems
        out.extend(Check("flags", False, scrub_urls(p)) for p in problems)
        n = sum(1 for v in cfg.sources.values() if v.startswith("flag"))
        if n and not problems:
            out.append(Check("flags", True, f"{n} setting{'s' * (n != 1)} from the command line"))
    out.append(_engine())
    out.append(_transport(cfg))
    out.extend(await _endpoints(cfg, timeout_s))
    out.append(_keypair(cfg))
    out.append(await _send_rpc(cfg, timeout_s))
    out.append(await _journal(cfg))
    out.append(_log_file(cfg))
    out.append(_metrics_port(cfg))
    return out


def _engine() -> Check:
    import engine_rs

    try:
        rust = engine_rs.load("rust")
    except ImportError as exc:
        return Check(
            "engine",
            False,
            f"the Rust extension does not load ({exc}); the Python "
            "twin would run instead, much slower: `make run` builds it",
        )
    profile = getattr(rust, "BUILD_PROFILE", "?")
    if profile != "release":
        return Check(
            "engine",
            False,
            f"the Rust extension is a {profile} build: rebuild it "
            "with `maturin develop --release` (make run does)",
        )
    forced = os.environ.get("ARBSCOPE_ENGINE")
    if forced == "python":
        return Check("engine", False, "ARBSCOPE_ENGINE=python forces the slow Python twin")
    return Check("engine", True, f"Rust extension loaded ({profile} build)")


async def _endpoints(cfg: Any, timeout_s: float) -> list[Check]:
    from feeds.clients.rpc import RpcClient, RpcError

    ws, rpc = list(cfg["feeds.ws"]), list(cfg["feeds.rpc"])
    ca, max_bytes = cfg["feeds.ca_file"], int(cfg["feeds.max_frame_mb"] * 2**20)
    sim = None
    out: list[Check] = []
    if not ws:
        from feeds.sim.server import SimServer, default_profiles
        from feeds.sim.world import WorldConfig

        sim = SimServer(
            WorldConfig(seed=cfg["sim.seed"]),
            default_profiles(cfg["sim.endpoints"]),
            slot_seconds=cfg["sim.slot_ms"] / 1000.0,
        )
        try:
            infos = await sim.start()
        except OSError as exc:
            return [Check("endpoints", False, f"the embedded simulator cannot listen: {exc}")]
        ws = [i.ws_url for i in infos]
        rpc = [i.http_url for i in infos]
        out.append(
            Check(
                "endpoints",
                True,
                f"no feeds.ws configured: the embedded simulator ({len(ws)} endpoints) is checked",
            )
        )
    try:
        first_rpc = None
        for i, w in enumerate(ws):
            r = rpc[i] if i < len(rpc) else None
            if r:
                async with RpcClient(r, timeout_s, max_bytes, ca) as c:
                    t0 = time.perf_counter()
                    try:
                        version = await c.get_version()
                        ms = (time.perf_counter() - t0) * 1e3
                        core = version.get("solana-core", "?")
                        out.append(
                            Check(
                                "rpc",
                                True,
                                f"{redact(r)} answers in {ms:.1f} ms (solana-core {core})",
                            )
                        )
                        first_rpc = first_rpc or r
                    except RpcError as exc:
                        out.append(Check("rpc", False, str(exc)))
                out.append(await _rate_probe(r, timeout_s, ca))
            out.append(await _ws(w, timeout_s, ca, max_bytes))
            out.append(await _cap_probe(w, timeout_s, ca))
        out.extend(await _tls([*ws, *rpc], timeout_s, ca))
        out.append(await _clock(first_rpc, timeout_s, ca))
    finally:
        if sim is not None:
            await sim.stop()
    return out


async def _ws(
    url: str, timeout_s: float, ca_file: str | None = None, max_bytes: int | None = None
) -> Check:
    import websockets

    from feeds.clients.tls import ssl_for, tls_problem

    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            async with websockets.connect(
                url, open_timeout=timeout_s, max_size=max_bytes, ssl=ssl_for(url, ca_file)
            ) as ws:
                t_open = time.perf_counter()
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "slotSubscribe"}))
                while True:
                    msg = json.loads(await ws.recv())
                    if msg.get("method") == "slotNotification":
                        break
                    if "error" in msg:
                        raise ValueError(f"slotSubscribe refused: {msg['error']}")
        t_slot = time.perf_counter()
    except TimeoutError:
        return Check("pubsub", False, f"{redact(url)}: no slot notification within {timeout_s:g} s")
    except Exception as exc:
        from feeds.redact import scrub

        tls = tls_problem(exc, url, ca_file)
        if tls is not None:
            return Check("pubsub", False, tls)
        return Check(
            "pubsub", False, f"{redact(url)}: {type(exc).__name__}: {scrub(str(exc), url)}"
        )
    return Check(
        "pubsub",
        True,
        f"{redact(url)} connects in {(t_open - t0) * 1e3:.1f} ms, "
        f"first slot after {(t_slot - t_open) * 1e3:.0f} ms",
    )


async def _rate_probe(
    url: str, timeout_s: float, ca_file: str | None = None, n: int = PROBE_REQUESTS
) -> Check:
    """``n`` getSlot calls at once: how many drew a rate-limit answer, and its Retry-After."""
    from feeds.clients.rpc import RpcClient, RpcError

    async with RpcClient(url, timeout_s, ca_file=ca_file) as c:
        got = await asyncio.gather(*(c.get_slot() for _ in range(n)), return_exceptions=True)
    limited = [e for e in got if isinstance(e, RpcError) and e.rate_limited]
    failed = [e for e in got if isinstance(e, BaseException) and e not in limited]
    if failed and not limited:
        return Check("limits", None, f"{redact(url)}: rate not probed ({failed[0]})")
    if not limited:
        return Check("limits", True, f"{redact(url)}: {n} requests at once, none rate limited")
    after = sorted({e.retry_after for e in limited if e.retry_after is not None})
    codes = sorted({str(e.code) for e in limited if e.code is not None})
    said = f"Retry-After {', '.join(f'{a:g}' for a in after)} s" if after else "no Retry-After"
    return Check(
        "limits",
        False,
        f"{redact(url)}: {len(limited)} of {n} requests at once "
        f"rate limited (code {', '.join(codes) or '?'}, {said}): the session backs "
        "off from it, a plan with more requests per second keeps it useful",
    )


def _probe_keys(n: int) -> list[str]:
    """``n`` distinct addresses (hashes: no account needs to exist to be subscribed)."""
    import hashlib

    import engine_rs

    b58 = engine_rs.backend().b58encode
    return [str(b58(hashlib.sha256(f"arbscope-doctor-{i}".encode()).digest())) for i in range(n)]


async def _cap_probe(
    url: str, timeout_s: float, ca_file: str | None = None, n: int = PROBE_SUBSCRIPTIONS
) -> Check:
    """``n`` account subscriptions on one connection: all accepted, or the cap the
    endpoint showed (an error answer, or the socket closed) and what it said."""
    import websockets

    from feeds.clients.tls import ssl_for
    from feeds.redact import scrub

    keys = _probe_keys(n)
    accepted: list[int] = []
    refused: list[str] = []
    closed = ""
    try:
        async with asyncio.timeout(timeout_s):
            async with websockets.connect(
                url, open_timeout=timeout_s, ssl=ssl_for(url, ca_file)
            ) as ws:
                cfg = {"encoding": "base64", "commitment": "confirmed"}
                for i, k in enumerate(keys, 1):
                    req = {
                        "jsonrpc": "2.0",
                        "id": i,
                        "method": "accountSubscribe",
                        "params": [k, cfg],
                    }
                    await ws.send(json.dumps(req))
                try:
                    while len(accepted) + len(refused) < n:
                        msg = json.loads(await ws.recv())
                        if "id" not in msg:
                            continue  # a notification
                        if "error" in msg:
                            err = msg["error"]
                            refused.append(f"{err.get('code')} {err.get('message')}"[:160])
                        else:
                            accepted.append(int(msg["result"]))
                    for i, sid in enumerate(accepted, n + 1):
                        await ws.send(
                            json.dumps(
                                {
                                    "jsonrpc": "2.0",
                                    "id": i,
                                    "method": "accountUnsubscribe",
                                    "params": [sid],
                                }
                            )
                        )
                except websockets.ConnectionClosed as exc:
                    rcvd = exc.rcvd
                    closed = f"{rcvd.code} {rcvd.reason}".strip() if rcvd else "no close frame"
    except TimeoutError:
        if not accepted and not refused and not closed:
            return Check(
                "subs",
                None,
                f"{redact(url)}: subscriptions not probed (no answer within {timeout_s:g} s)",
            )
    except Exception as exc:
        return Check(
            "subs",
            None,
            f"{redact(url)}: subscriptions not probed "
            f"({type(exc).__name__}: {scrub(str(exc), url)})",
        )
    a = len(accepted)
    if closed:
        return Check(
            "subs",
            False,
            f"{redact(url)}: closed the connection ({closed}) after "
            f"{a} of {n} subscriptions: a cap of {a} per connection",
        )
    if refused:
        return Check(
            "subs",
            False,
            f"{redact(url)}: accepted {a} of {n} subscriptions on one "
            f"connection, refused {len(refused)} ({refused[0]}): a cap of {a} per "
            "connection",
        )
    if a < n:
        return Check(
            "subs", None, f"{redact(url)}: {a} of {n} subscriptions answered within {timeout_s:g} s"
        )
    return Check("subs", True, f"{redact(url)}: {n} subscriptions on one connection accepted")


async def _clock(rpc: str | None, timeout_s: float, ca_file: str | None = None) -> Check:
    from feeds.clients.rpc import RpcClient, RpcError

    if rpc is None:
        return Check("clock", None, "no RPC answered: skew not measured")
    async with RpcClient(rpc, timeout_s, ca_file=ca_file) as c:
        try:
            slot = await c.get_slot()
            block_time = await c.call("getBlockTime", [slot])
        except RpcError as exc:
            return Check("clock", None, f"skew not measured: {exc}")
    if not isinstance(block_time, int):
        return Check("clock", None, f"skew not measured: getBlockTime answered {block_time!r}")
    skew = time.time() - block_time
    ok = abs(skew) <= MAX_SKEW_S
    what = "ahead of" if skew > 0 else "behind"
    return Check(
        "clock",
        ok,
        f"{abs(skew):.1f} s {what} the node's block time (slot {slot})"
        + ("" if ok else f": more than {MAX_SKEW_S:g} s, check NTP"),
    )


def _transport(cfg: Any) -> Check:
    """The session's commitment and size limit, and the CA file when there is one."""
    from feeds.clients.tls import TlsSetupError, client_context
    from feeds.health import size_text

    ca = cfg["feeds.ca_file"]
    size = size_text(int(cfg["feeds.max_frame_mb"] * 2**20))
    limits = (
        f"commitment {cfg['feeds.commitment']}, PubSub over {cfg['feeds.transport']}, "
        f"frames and HTTP answers up to {size} (feeds.max_frame_mb)"
    )
    if not ca:
        return Check("transport", True, f"{limits}; TLS verified against the system's trust store")
    try:
        client_context(ca)
    except TlsSetupError as exc:
        return Check("transport", False, f"feeds.ca_file: {exc}")
    return Check(
        "transport", True, f"{limits}; TLS verified against the system's trust store and {ca}"
    )


async def _tls(urls: list[str], timeout_s: float, ca_file: str | None) -> list[Check]:
    """Per TLS endpoint (host and port once): the handshake, verified as the session
    verifies it, with the certificate's subject, issuer, expiry and the protocol."""
    from urllib.parse import urlsplit

    from feeds.clients.tls import client_context, is_tls, tls_problem

    seen: set[tuple[str, int]] = set()
    out: list[Check] = []
    for url in urls:
        if not is_tls(url):
            continue
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or 443
        if (host, port) in seen:
            continue
        seen.add((host, port))
        try:
            ctx = client_context(ca_file)
            async with asyncio.timeout(timeout_s):
                _, writer = await asyncio.open_connection(host, port, ssl=ctx, server_hostname=host)
            try:
                cert = writer.get_extra_info("peercert") or {}
                version = writer.get_extra_info("ssl_object").version()
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
        except TimeoutError:
            out.append(
                Check("tls", False, f"{redact(url)}: no TLS handshake within {timeout_s:g} s")
            )
            continue
        except Exception as exc:
            why = tls_problem(exc, url, ca_file) or f"{redact(url)}: {type(exc).__name__}: {exc}"
            out.append(Check("tls", False, why))
            continue
        out.append(_cert_check(url, cert, version))
    return out


def _cert_check(url: str, cert: dict[str, Any], version: str) -> Check:
    """What a verified peer certificate says (``ssl.SSLSocket.getpeercert``'s dict)."""
    import ssl

    def name(field: str) -> str:
        rdns = cert.get(field, ())
        pairs = [f"{k}={v}" for rdn in rdns for k, v in rdn]
        return ", ".join(pairs) or "?"

    not_after = cert.get("notAfter")
    expires, soon = "?", False
    if isinstance(not_after, str):
        end = ssl.cert_time_to_seconds(not_after)
        days = (end - time.time()) / 86400
        expires = time.strftime("%Y-%m-%d", time.gmtime(end)) + f" ({days:.0f} days)"
        soon = days < EXPIRY_WARN_DAYS
    detail = (
        f"{redact(url)}: certificate verified ({version}), subject {name('subject')}, "
        f"issuer {name('issuer')}, expires {expires}"
    )
    if soon:
        return Check("tls", False, detail + f": renew it, less than {EXPIRY_WARN_DAYS} days left")
    return Check("tls", True, detail)


def _keypair(cfg: Any) -> Check:
    from .execution.keys import KeypairError, load_wallet

    path = cfg["live.keypair"]
    if not path:
        return Check("keypair", None, "not configured: paper trading only")
    try:
        w = load_wallet(path)
    except KeypairError as exc:
        return Check("keypair", False, str(exc))
    return Check("keypair", True, f"{path}: owner-only, outside any repository, wallet {w.pubkey}")


async def _send_rpc(cfg: Any, timeout_s: float) -> Check:
    from feeds.clients.rpc import RpcClient, RpcError

    url = cfg["live.send_rpc"]
    if not url:
        return Check("send-rpc", None, "not configured (live sends through the first feeds.rpc)")
    async with RpcClient(url, timeout_s, ca_file=cfg["feeds.ca_file"]) as c:
        try:
            await c.get_version()
        except RpcError as exc:
            return Check("send-rpc", False, str(exc))
    return Check("send-rpc", True, f"{redact(url)} answers")


async def _journal(cfg: Any) -> Check:
    from storage.journal import Journal, JournalError, default_path

    path = Path(cfg["journal.path"]).expanduser() if cfg["journal.path"] else default_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".arbscope-doctor-"):
            pass
    except OSError as exc:
        return Check("journal", False, f"{path.parent} is not writable ({exc.strerror})")
    existed = path.exists()
    try:
        async with await Journal.open(path) as j:
            n = len(await j.sessions())
            size = await j.file_bytes()
    except JournalError as exc:
        return Check("journal", False, str(exc))
    if not existed:
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        return Check("journal", True, f"{path}: writable (new; no sessions yet)")
    free = _free_bytes(path.parent)
    return Check(
        "journal", True, f"{path}: {n} sessions, {size / 1e6:.1f} MB, {free / 1e9:.1f} GB free"
    )


def _free_bytes(d: Path) -> int:
    st = os.statvfs(d)
    return st.f_bavail * st.f_frsize


def _log_file(cfg: Any) -> Check:
    from .logs import default_log_file

    path = Path(cfg["logs.file"]).expanduser() if cfg["logs.file"] else default_log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        return Check("logs", False, f"{path}: not writable ({exc.strerror})")
    return Check("logs", True, f"{path}: writable")


def _metrics_port(cfg: Any) -> Check:
    if not cfg["metrics.enabled"]:
        return Check("metrics", None, "disabled")
    host, port = cfg["metrics.host"], cfg["metrics.port"]
    if port == 0:
        return Check("metrics", True, f"{host}: any free port")
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.bind((host, port))
    except OSError as exc:
        return Check(
            "metrics",
            False,
            f"{host}:{port} cannot be bound ({exc.strerror}): another "
            "arbscope, or set metrics.port",
        )
    return Check("metrics", True, f"{host}:{port} is free")

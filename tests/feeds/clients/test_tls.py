"""TLS on loopback: the simulator serves ``https://`` and ``wss://`` with a certificate of
a throwaway CA (trustme), and every client verifies it — with ``ca_file``, the session
streams; without it, one clear line and no traceback. Doctor reports the certificate;
``arbscope sim --tls-cert`` and ``arbscope run --ws wss://… --rpc https://… --ca-file``
run as real processes.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest

from arbscope import sources
from arbscope.doctor import run as doctor
from arbscope.session import FeedSession
from feeds.clients.pool import Endpoint
from feeds.clients.pubsub import PubSubWorker, WorkerConfig, all_subscriptions
from feeds.clients.rpc import RpcClient, RpcError
from feeds.health import HealthCounters
from feeds.sim.server import SimServer, default_profiles, server_context
from feeds.sim.world import WorldConfig
from feeds.wire.tokens import WELL_KNOWN
from feeds.wire.universe import Universe, dump_universe, parse_universe
from tests.support.hostile import until
from tests.support.processes import headless_env, start_arbscope

trustme = pytest.importorskip("trustme")

CFG = WorldConfig(seed=11)


class Certs:
    """A throwaway CA, a server certificate for 127.0.0.1 it signs, and another CA."""

    def __init__(self, d: Path) -> None:
        ca, other = trustme.CA(), trustme.CA()
        server = ca.issue_cert("127.0.0.1", "localhost")
        self.ca, self.other_ca = d / "ca.pem", d / "other-ca.pem"
        self.chain, self.key = d / "server-chain.pem", d / "server-key.pem"
        ca.cert_pem.write_to_path(str(self.ca))
        other.cert_pem.write_to_path(str(self.other_ca))
        server.private_key_pem.write_to_path(str(self.key))
        for i, blob in enumerate(server.cert_chain_pems):
            blob.write_to_path(str(self.chain), append=i > 0)


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    return Certs(tmp_path)


def _server(certs: Certs, endpoints: int = 1) -> SimServer:
    return SimServer(
        CFG, default_profiles(endpoints), slot_seconds=0.05, tls=(str(certs.chain), str(certs.key))
    )


async def _one_tick(s: FeedSession) -> Any:
    """``s`` started, one tick, stopped: its snapshot of that tick."""
    await s.start()
    try:
        s.tick()
        return s.snapshot
    finally:
        await s.stop()


def _session(server: SimServer, options: sources.FeedOptions | None = None) -> FeedSession:
    """A session on the simulator's one endpoint (its universe, its base mints), no
    shadow; ``options``: the feed's (the defaults without)."""
    info = server.infos()[0]
    return sources.session(
        sources.Watch(universe=server.world.universe(), base_mints=server.world.bases, seed=3),
        sources.Evaluation(shadow=False),
        endpoints=[Endpoint(info.name, info.ws_url, info.http_url)],
        options=options,
    )


async def test_a_session_streams_over_wss_and_https_with_the_ca_file(
    certs: Certs, transport: str
) -> None:
    async with _server(certs) as server:
        info = server.infos()[0]
        assert info.ws_url.startswith("wss://") and info.http_url.startswith("https://")
        ca = str(certs.ca)
        s = _session(
            server,
            sources.FeedOptions(
                worker_config=WorkerConfig(ca_file=ca, transport=transport),
                commitment="processed",
                ca_file=ca,
            ),
        )
        await s.start()
        try:
            assert s.start_error == ""
            assert s.feeds.boot is not None and s.feeds.boot.pools == len(server.world.universe())
            pool = s.feeds.pool
            assert pool is not None
            # notifications arrive over wss and reach the engine's ingest
            base = s.ingest.stats().slot
            await until(lambda: pool.counters[0].messages > 50 and s.ingest.stats().slot > base)
            s.tick()
            snap = s.snapshot
            assert snap.feeds[0].connected and snap.feeds[0].last_error == ""
            assert snap.commitment == "processed"
            # the node was asked at the session's commitment, for every account
            ep = server.endpoints[0]
            levels = {o.level for subs in ep.account_subs.values() for o in subs.values()}
            assert levels == {"processed"}
        finally:
            await s.stop()


async def test_without_the_ca_the_session_says_certificate_verify_failed(certs: Certs) -> None:
    async with _server(certs) as server:
        info = server.infos()[0]
        s = _session(server)
        snap = await _one_tick(s)
    port = info.http_url.rsplit(":", 1)[1]
    assert "certificate verify failed at https://127.0.0.1:" + port in s.start_error
    assert "--ca-file" in s.start_error and "Traceback" not in s.start_error
    # the Feeds panel names the endpoint's problem in its first 60 characters
    assert snap.feeds[0].last_error.startswith("getMultipleAccounts: certificate verify failed")


async def test_a_pubsub_worker_without_the_ca_backs_off_with_one_line(
    certs: Certs, transport: str
) -> None:
    """wss:// refused by verification: the last error says why and how to fix it, and
    the retries slow down (never a tight loop, never verification turned off)."""
    async with _server(certs) as server:
        info = server.infos()[0]
        for ca_file, hint in ((None, "--ca-file FILE"), (str(certs.other_ca), "does not vouch")):
            counters = HealthCounters(0, "tls", info.ws_url)
            cfg = WorkerConfig(
                backoff_min_s=0.01, backoff_max_s=0.08, ca_file=ca_file, transport=transport
            )
            w = PubSubWorker(0, info.ws_url, all_subscriptions([], []), _NoIngest(), counters, cfg)
            task = asyncio.create_task(w.run())
            try:
                await until(lambda c=counters: c.reconnects >= 4)  # type: ignore[misc]
            finally:
                await w.stop()
                await task
            assert w.connects == 0 and not counters.connected
            assert counters.last_error.startswith(f"certificate verify failed at {info.ws_url}")
            assert hint in counters.last_error
            assert list(w.backoffs)[:4] == [0.01, 0.02, 0.04, 0.08]
        assert server.endpoints[0].stats["connections"] == 0  # no handshake ever completed


class _NoIngest:
    def frame(self, endpoint: int, frame: bytes, recv_ns: int) -> int:
        return -1

    def bind(self, endpoint: int, subscription: int, label: str, kind: str) -> None: ...
    def unbind(self, endpoint: int) -> None: ...


async def test_rpc_over_https_verifies_and_a_bad_ca_file_is_a_clear_error(
    certs: Certs, tmp_path: Path
) -> None:
    async with _server(certs) as server:
        url = server.infos()[0].http_url
        async with RpcClient(url, ca_file=str(certs.ca)) as rpc:
            assert await rpc.get_slot() > 0
        async with RpcClient(url) as rpc:
            with pytest.raises(RpcError) as err:
                await rpc.get_slot()
        assert err.value.transport == "tls"
        assert str(err.value).startswith(f"getSlot: certificate verify failed at {url}")
        # a plain client against the TLS port, and TLS against a plain port
        async with SimServer(CFG, default_profiles(1), slot_seconds=0.05) as plain:
            https_to_plain = "https://" + plain.infos()[0].http_url.split("://", 1)[1]
            async with RpcClient(https_to_plain, ca_file=str(certs.ca)) as rpc:
                with pytest.raises(RpcError) as err:
                    await rpc.get_slot()
            assert "TLS handshake failed" in str(err.value), str(err.value)
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello\n")
    from feeds.clients.tls import TlsSetupError

    with pytest.raises(TlsSetupError, match="not usable PEM certificates"):
        RpcClient("https://127.0.0.1:1", ca_file=str(not_pem))
    with pytest.raises(TlsSetupError, match="no such file"):
        RpcClient("https://127.0.0.1:1", ca_file=str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError, match="no such file"):
        server_context(str(tmp_path / "missing.pem"))


@pytest.mark.slow
async def test_doctor_reports_the_certificate_of_a_tls_endpoint(
    certs: Certs, tmp_path: Path
) -> None:
    async with _server(certs) as server:
        info = server.infos()[0]
        pools = tmp_path / "pools.toml"
        w = server.world
        pools.write_text(dump_universe(Universe(w.universe(), list(w.bases))))
        env = {
            "ARBSCOPE_FEEDS_WS": info.ws_url,
            "ARBSCOPE_FEEDS_RPC": info.http_url,
            "ARBSCOPE_MARKET_POOLS_FILE": str(pools),
            "ARBSCOPE_JOURNAL_PATH": str(tmp_path / "j.sqlite"),
            "ARBSCOPE_LOGS_FILE": str(tmp_path / "a.log"),
            "ARBSCOPE_FEEDS_COMMITMENT": "processed",
        }
        good = await doctor(None, {**env, "ARBSCOPE_FEEDS_CA_FILE": str(certs.ca)}, 10.0)
        bad = await doctor(None, env, 10.0)
    by = {c.name: c for c in good}
    tls = by["tls"]
    assert tls.ok is True, tls.detail
    assert tls.detail.startswith(f"{info.ws_url}: certificate verified (TLSv1.")
    assert "issuer organizationName=trustme" in tls.detail and "expires " in tls.detail
    assert by["rpc"].ok and by["pubsub"].ok
    assert by["transport"].ok and "commitment processed" in by["transport"].detail
    assert str(certs.ca) in by["transport"].detail and "64 MiB" in by["transport"].detail
    failed = {c.name: c for c in bad if c.ok is False}
    assert set(failed) == {"rpc", "pubsub", "tls"}
    for c in failed.values():
        assert "certificate verify failed" in c.detail and "--ca-file" in c.detail


@pytest.mark.slow
async def test_arbscope_run_against_the_tls_simulator_with_ca_file(
    certs: Certs, tmp_path: Path
) -> None:
    """The issue's command lines: `arbscope sim --tls-cert … --tls-key …` serving,
    `arbscope pools discover --rpc https://… --ca-file … --mint SOL --mint USDC …`
    writing a pools file (symbols and USD liquidity in its comments), then `arbscope run --ws wss://… --rpc https://… --pools
    that file --ca-file …`; and without --ca-file, exit 1 (run) or 2 (discover) with the
    one line that says what to do."""
    pools = tmp_path / "pools.toml"
    env = headless_env(tmp_path)
    sim = await start_arbscope(
        [
            "sim",
            "--endpoints",
            "1",
            "--slot-ms",
            "100",
            "--seed",
            "5",
            "--tls-cert",
            str(certs.chain),
            "--tls-key",
            str(certs.key),
            "--pools-out",
            str(pools),
        ],
        env,
    )
    try:
        assert sim.stdout is not None
        ws = (await asyncio.wait_for(sim.stdout.readline(), 60)).decode().strip()
        http = (await asyncio.wait_for(sim.stdout.readline(), 60)).decode().strip()
        assert ws.startswith("wss://127.0.0.1:") and http.startswith("https://127.0.0.1:")
        found = tmp_path / "found.toml"
        # the simulator names its first tokens as the well-known ones: pools among them
        mints = [x for t in WELL_KNOWN for x in ("--mint", t.symbol)]
        discover = ["pools", "discover", "--rpc", http, *mints, "--out", str(found)]
        p = await start_arbscope(discover, env)
        out, err = await asyncio.wait_for(p.communicate(), 120)
        assert p.returncode == 2 and "Traceback" not in err.decode(), err.decode()
        assert f"certificate verify failed at {http}" in err.decode() and not found.exists()
        p = await start_arbscope([*discover, "--ca-file", str(certs.ca)], env)
        out, err = await asyncio.wait_for(p.communicate(), 120)
        assert p.returncode == 0, err.decode()
        written = found.read_text()
        n = len(parse_universe(written, str(found)).pools)
        assert n >= 1 and len(re.findall(r"^# \S+/\S+ · .* · liquidity \$", written, re.M)) == n
        common = [
            "run",
            "--headless",
            "--no-metrics",
            "--duration",
            "3",
            "--db",
            str(tmp_path / "j.sqlite"),
            "--ws",
            ws,
            "--rpc",
            http,
            "--pools",
            str(found),
            "--commitment",
            "processed",
        ]
        p = await start_arbscope([*common, "--ca-file", str(certs.ca)], env)
        out, err = await asyncio.wait_for(p.communicate(), 120)
        text = err.decode()
        assert p.returncode == 0, text
        assert "Traceback" not in text and "certificate" not in text
        m = re.search(r"^slot \d+, (\d+) pools, (\d+) updates", text, re.M)
        assert m is not None and int(m[1]) > 0 and int(m[2]) > 0, text
        assert "digest " in out.decode()

        p = await start_arbscope(common, env)
        out, err = await asyncio.wait_for(p.communicate(), 120)
        text = err.decode()
        assert p.returncode == 1, text
        assert "Traceback" not in text
        line = f"certificate verify failed at {http}"
        assert any(
            ln.startswith("arbscope: ") and line in ln and "--ca-file" in ln
            for ln in text.splitlines()
        ), text
    finally:
        sim.send_signal(signal.SIGTERM)
        await asyncio.wait_for(sim.communicate(), 60)


async def test_an_answer_over_the_limit_is_counted_and_says_how_to_raise_it(
    certs: Certs,
) -> None:
    async with _server(certs) as server:
        s = _session(server, sources.FeedOptions(ca_file=str(certs.ca), max_answer_bytes=1024))
        snap = await _one_tick(s)
    assert "over the 1 KiB limit; raise it with --max-frame-mb N" in s.start_error
    assert snap.feeds[0].oversize == 1 and "--max-frame-mb" in snap.feeds[0].last_error


def test_the_flags_reach_the_session_and_a_bad_ca_file_is_a_config_error(
    certs: Certs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arbscope.cli import build_session, parser, resolve_config
    from arbscope.config import ConfigError

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for k in [k for k in os.environ if k.startswith("ARBSCOPE_")]:
        monkeypatch.delenv(k)
    pools = tmp_path / "pools.toml"
    pools.write_text(
        'base_mints = ["So11111111111111111111111111111111111111112"]\n'
        '[[pool]]\naddress = "Czfq3xZZDmsdGdUyrNLtRhGc47cXcZtLG4crryfu44zE"\n'
        'kind = "whirlpool"\n'
    )
    base = [
        "run",
        "--ws",
        "wss://127.0.0.1:1",
        "--rpc",
        "https://127.0.0.1:1",
        "--pools",
        str(pools),
        "--no-record",
        "--no-metrics",
    ]
    args = parser().parse_args(
        [*base, "--ca-file", str(certs.ca), "--commitment", "processed", "--max-frame-mb", "2"]
    )
    s = build_session(resolve_config(args))
    assert s.feeds.commitment == "processed" and s.feeds.ca_file == str(certs.ca)
    assert s.feeds.options.worker_config.ca_file == str(certs.ca)
    assert (
        s.feeds.options.worker_config.max_frame_bytes == s.feeds.options.max_answer_bytes == 2 << 20
    )
    bad = parser().parse_args([*base, "--ca-file", str(tmp_path / "none.pem")])
    with pytest.raises(ConfigError, match=r"feeds.ca_file: CA file .*none.pem: no such file"):
        build_session(resolve_config(bad))

"""Headless runs, metrics, health, logs, doctor — and redaction on every output path.

The headless tests run `arbscope run --headless` as a real process (signals, exit
status, stdout/stderr, the log file, the journal on disk); the simulator they read is
either embedded or served by this test process on loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from arbscope import sources
from arbscope.metrics import MetricsSettings
from feeds.sim.server import SimServer, default_profiles
from feeds.sim.world import WorldConfig
from storage.journal import Journal
from tests.support.hostile import until_answered
from tests.support.processes import headless_env, reap, run_python, start_arbscope

pytestmark = pytest.mark.e2e

SECRET = "Zq8RkT4mW2nX7pL1vB6cH3dJ"  # an API key, in URLs only


async def _wait_line(
    p: asyncio.subprocess.Process, pattern: str, seen: list[str], timeout: float = 60
) -> re.Match[str]:
    assert p.stderr is not None
    end = time.monotonic() + timeout
    rx = re.compile(pattern)
    while time.monotonic() < end:
        line = await asyncio.wait_for(p.stderr.readline(), max(0.1, end - time.monotonic()))
        if not line:
            break
        seen.append(line.decode())
        m = rx.search(seen[-1])
        if m:
            return m
    raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(seen)}")


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return r.status, await r.text()


def _one_pool(tmp: Path) -> Path:
    """A pools file of one Whirlpool (a mainnet address) on SOL."""
    pools = tmp / "pools.toml"
    pools.write_text(
        'base_mints = ["So11111111111111111111111111111111111111112"]\n'
        '[[pool]]\naddress = "Czfq3xZZDmsdGdUyrNLtRhGc47cXcZtLG4crryfu44zE"\n'
        'kind = "whirlpool"\n'
    )
    return pools


HEADLESS = ["run", "--headless", "--no-metrics"]


def _one_pool_run(tmp: Path, rpc: str) -> list[str]:
    """``run --headless`` of :func:`_one_pool`'s pool, journaled to ``j.sqlite``, on a
    PubSub endpoint that is not there and the RPC endpoint ``rpc``."""
    pools = _one_pool(tmp)
    feeds = ["--ws", "ws://127.0.0.1:9", "--rpc", rpc, "--pools", str(pools)]
    return [*HEADLESS, "--db", str(tmp / "j.sqlite"), *feeds]


def _families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


async def test_headless_serves_metrics_and_sigterm_flushes_the_journal(tmp_path: Path) -> None:
    db, logf = tmp_path / "j.sqlite", tmp_path / "logs" / "a.log"
    p = await start_arbscope(
        [
            "run",
            "--headless",
            "--metrics-port",
            "0",
            "--db",
            str(db),
            "--log-file",
            str(logf),
            "--seed",
            "5",
        ],
        headless_env(tmp_path),
    )
    seen: list[str] = []
    try:
        url = (await _wait_line(p, r"metrics on (http://127\.0\.0\.1:\d+)", seen)).group(1)
        await _wait_line(p, r"session \S+ started", seen)
        fams: dict[str, Any] = {}

        async def traded() -> bool:  # scrape until the session has traded a little
            status, text = await _get(url + "/metrics")
            assert status == 200
            fams.clear()
            fams.update(_families(text))
            ingest = [
                s
                for s in fams["arbscope_kernel_latency_seconds"].samples
                if s.labels.get("kernel") == "feed_ingest" and s.name.endswith("_count")
            ]
            return bool(
                ingest and ingest[0].value > 50 and fams["arbscope_slot"].samples[0].value > 0
            )

        await until_answered(traded, timeout=60.0, every=0.2)
        # frames per endpoint, dedup, lead/lag
        msgs = {
            s.labels["endpoint"]: s.value
            for s in fams["arbscope_feed_messages"].samples
            if s.name.endswith("_total")
        }
        assert set(msgs) == {"sim-fast", "sim-mid", "sim-slow"} and min(msgs.values()) > 0
        assert 0 < fams["arbscope_feed_dedup_ratio"].samples[0].value < 1
        assert {s.labels["quantile"] for s in fams["arbscope_feed_lag_seconds"].samples} == {
            "0.5",
            "0.99",
        }
        # kernel latencies: a histogram (buckets cumulative, +Inf equals the count)
        hist = [
            s
            for s in fams["arbscope_kernel_latency_seconds"].samples
            if s.labels.get("kernel") == "feed_ingest" and s.labels["backend"] == "rust"
        ]
        buckets = [s.value for s in hist if s.name.endswith("_bucket")]
        count = next(s.value for s in hist if s.name.endswith("_count"))
        assert buckets == sorted(buckets) and buckets[-1] == count > 0
        for name in (
            "arbscope_opportunities_found",
            "arbscope_journal_queue_depth",
            "arbscope_pnl",
            "arbscope_orders",
            "arbscope_health",
            "arbscope_info",
            "process_cpu_seconds",
        ):
            assert name in fams, name
        status, body = await _get(url + "/health")
        health = json.loads(body)
        assert status == 200 and health["status"] == "ok" and health["slot"] > 0
        assert len(health["feeds"]) == 3 and health["session"]
        p.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(p.communicate(), 60)
    finally:
        await reap(p)
    assert p.returncode == 0, "".join(seen) + err.decode()
    stdout = out.decode()
    sid = re.search(r"^session (\S+)$", stdout, re.M)
    digest = re.search(r"^digest ([0-9a-f]{64})$", stdout, re.M)
    assert sid and digest, stdout
    assert "SIGTERM: stopping" in "".join(seen) + err.decode()
    async with await Journal.open(db, create=False) as j:
        info = await j.session(sid.group(1))
    assert info.complete and info.digest == digest.group(1) and info.frames > 0
    lines = [json.loads(x) for x in logf.read_text().splitlines()]
    assert {"ts", "level", "logger", "msg"} <= set(lines[0])
    assert any("SIGTERM" in x["msg"] for x in lines)
    assert any(x["logger"] == "arbscope.session" and "stopped" in x["msg"] for x in lines)


async def test_headless_exits_non_zero_when_it_cannot_start(tmp_path: Path) -> None:
    p = await start_arbscope(_one_pool_run(tmp_path, "http://127.0.0.1:9"), headless_env(tmp_path))
    _, err = await asyncio.wait_for(p.communicate(), 60)
    assert p.returncode == 1
    assert "no endpoint answered getMultipleAccounts" in err.decode()
    assert "Traceback" not in err.decode()


async def test_sigterm_during_a_start_on_a_hanging_endpoint_stops_at_once(tmp_path: Path) -> None:
    """The only RPC endpoint accepts and never answers: SIGTERM while the session is
    still fetching its snapshot ends the run cleanly (exit 0, journal flushed), not
    after the request's timeout with a start failure."""
    from tests.support.hostile import Hanging, http_server, until

    hanging = Hanging()
    async with http_server(hanging) as slow:
        p = await start_arbscope(_one_pool_run(tmp_path, slow), headless_env(tmp_path))
        try:
            await until(lambda: hanging.requests == 1, timeout=60)
            p.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(p.communicate(), 60)
            await until(lambda: hanging.gone == 1)
        finally:
            await reap(p)
    text = err.decode()
    assert p.returncode == 0, text
    assert "SIGTERM: stopping" in text and "stopped while starting" in text
    assert "no answer within" not in text and "Traceback" not in text
    assert re.search(r"^session \S+$", out.decode(), re.M)


async def test_health_turns_unhealthy_when_every_feed_stalls(tmp_path: Path) -> None:
    s = sources.session(
        sources.Watch(seed=3),
        sources.Evaluation(shadow=False),
        sim=sources.SimSettings(endpoints=2),
        metrics=MetricsSettings(port=0, stall_s=1.0),
    )
    await s.start()
    try:
        assert s.health.server is not None and s.feeds.server is not None
        url = s.health.server.url + "/health"
        seen: list[Any] = [0, {}]  # the last answer: status, verdict

        def health_is(want: str) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                s.tick()
                status, body = await _get(url)
                seen[:] = [status, json.loads(body)]
                return bool(seen[1]["status"] == want)

            return check

        await until_answered(health_is("ok"), timeout=30.0, every=0.1)
        assert seen[0] == 200 and seen[1]["status"] == "ok"
        assert s.feeds.server._clock is not None
        s.feeds.server._clock.cancel()  # every endpoint falls silent (sockets open, no slots)
        await until_answered(health_is("unhealthy"), timeout=30.0, every=0.1)
        status, verdict = seen
        assert status == 503 and verdict["status"] == "unhealthy"
        assert "all feeds stalled" in verdict["problems"][0]
        assert all(
            f["last_message_age_s"] is None or f["last_message_age_s"] > 1.0
            for f in verdict["feeds"]
        )
        _, text = await _get(s.health.server.url + "/metrics")
        assert _families(text)["arbscope_health"].samples[0].value == 2
    finally:
        await s.stop()


async def test_urls_with_keys_are_redacted_on_every_output_path(tmp_path: Path) -> None:
    """Endpoints whose URLs carry an API key (query and path): the key must not reach
    stderr, the JSON log, the journal, /health, /metrics, doctor or the screen."""
    from arbscope.cli import build_session
    from arbscope.config import load
    from tests.support.staging import fix_app
    from tui.app import ArbscopeApp

    async with SimServer(WorldConfig(seed=4), default_profiles(2)) as sim:
        infos = sim.infos()
        ws = [f"{i.ws_url}/?api-key={SECRET}" for i in infos]
        rpc = [f"{i.http_url}/?api-key={SECRET}" for i in infos]
        pools = tmp_path / "pools.toml"
        pools.write_text(
            f"base_mints = {json.dumps(sim.world.bases)}\n"
            + "".join(f'[[pool]]\naddress = "{a}"\nkind = "{k}"\n' for a, k in sim.world.universe())
        )
        cfg_file = tmp_path / "c.toml"
        db, logf = tmp_path / "j.sqlite", tmp_path / "a.log"
        cfg_file.write_text(
            f"[feeds]\nws = {json.dumps(ws)}\nrpc = {json.dumps(rpc)}\n"
            f'[market]\npools_file = "{pools}"\n[journal]\npath = "{db}"\n'
            f'[logs]\nfile = "{logf}"\nlevel = "debug"\n[metrics]\nport = 0\n'
            f'[live]\nsend_rpc = "{rpc[0]}"\n'
        )
        env = headless_env(tmp_path)
        p = await start_arbscope(["run", "--headless", "--config", str(cfg_file)], env)
        seen: list[str] = []
        try:
            url = (await _wait_line(p, r"metrics on (http://127\.0\.0\.1:\d+)", seen)).group(1)
            await _wait_line(p, r"session \S+ started", seen)

            async def fed() -> bool:  # the endpoints' frames have reached the metrics
                fams = _families((await _get(url + "/metrics"))[1])
                return any(x.value > 0 for x in fams["arbscope_feed_messages"].samples)

            await until_answered(fed, timeout=60.0, every=0.2)
            outputs = [(await _get(url + "/health"))[1], (await _get(url + "/metrics"))[1]]
            p.send_signal(signal.SIGINT)
            out, err = await asyncio.wait_for(p.communicate(), 60)
        finally:
            await reap(p)
        assert p.returncode == 0
        outputs += ["".join(seen), out.decode(), err.decode(), logf.read_text()]
        assert '"url": "ws://127.0.0.1' in outputs[0] and "***" in outputs[0]
        doctor = await start_arbscope(["doctor", "--config", str(cfg_file), "--timeout", "15"], env)
        d_out, d_err = await asyncio.wait_for(doctor.communicate(), 120)
        outputs.append(d_out.decode() + d_err.decode())
        assert "api-key=***" in outputs[-1] and "✓ rpc" in outputs[-1], outputs[-1]
        # the screen: the same configuration, in-process, on the dashboard
        session = build_session(load(cfg_file, {}))
        session.health.settings = replace(session.health.settings, serve=None)  # no /metrics
        app = fix_app(ArbscopeApp(session))
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause(3.0)
            outputs.append(app.export_screenshot())
            await pilot.press("m")  # the live confirmation lists the RPC
            await pilot.pause(0.3)
            outputs.append(app.export_screenshot())
            await pilot.press("escape")
            await pilot.press("q")
    raw = b"".join(f.read_bytes() for f in tmp_path.glob("j.sqlite*"))
    assert raw, "the journal was written"
    for text in outputs:
        assert SECRET not in text
    assert SECRET.encode() not in raw


def _small_filesystem(where: Path, free: int) -> Path | None:
    """A tmpfs at ``where`` with about ``free`` bytes left (None when this machine does not
    allow mounting one: then only SQLite's own SQLITE_FULL is used)."""
    import subprocess

    where.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True
    )
    if r.returncode != 0:
        return None
    st = os.statvfs(where)
    with (where / "filler").open("wb") as f:
        f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - free))
    return where


async def test_a_busy_multi_endpoint_session_is_recorded_in_full(tmp_path: Path) -> None:
    """8 endpoints at 50 ms slots, the journal's queue at 1 MiB: the start-up burst (every
    endpoint's snapshot and first notifications) is many times the queue, as 8 to 16 busy
    endpoints' bursts are to the 64 MiB default. It stopped the recording for good (exit
    1, INCOMPLETE); now the queue spills past its bound and the writer drains it: exit 0,
    the digest, and the replay of every input matches it."""

    db = tmp_path / "busy.sqlite"
    env = headless_env(
        tmp_path, ARBSCOPE_JOURNAL_QUEUE_MB="1", ARBSCOPE_SIM_SLOT_MS="50", TMPDIR=str(tmp_path)
    )
    args = ["--seed", "4", "--endpoints", "8", "--duration", "4", "--db", str(db)]
    run = run_python(
        ["-m", "arbscope", *HEADLESS, *args, "--log-file", str(tmp_path / "a.log")],
        env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "recording stopped" not in run.stderr
    assert "further inputs wait in a file" in run.stderr, run.stderr  # the burst spilled
    assert "the writer caught up" in run.stderr, run.stderr  # and was drained
    lines = dict(x.split(" ", 1) for x in run.stdout.splitlines())
    sid, digest = lines["session"], lines["digest"]
    replay = ["replay", sid, "--db", str(db), "--headless", "--speed", "max", "--digest"]
    rep = run_python(["-m", "arbscope", *replay], headless_env(tmp_path), timeout=300)
    assert rep.returncode == 0, rep.stderr
    assert rep.stdout.strip() == digest and "matches" in rep.stderr
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        inputs, frames = c.execute("SELECT inputs, frames FROM sessions").fetchone()
    assert f"replayed {sid}: {inputs:,} inputs, {frames:,} frames" in rep.stderr
    assert frames > 1_000


async def test_a_wal_file_deleted_while_recording_then_sigkill_loses_nothing_said(
    tmp_path: Path,
) -> None:
    """``rm journal.sqlite-wal`` while a session records, then ``kill -9``: SQLite went
    on writing into the deleted file and the session vanished without a word. Now the
    next batch notices, says so in the log, puts what the deleted log held into the
    journal and makes a new one: after the kill the session is listed (INCOMPLETE, as any
    killed session) and replays everything it committed."""
    import contextlib

    db = tmp_path / "wal.sqlite"
    args = ["--seed", "6", "--db", str(db), "--batch-ms", "100"]
    p = await start_arbscope(
        [*HEADLESS, *args, "--log-file", str(tmp_path / "a.log")], headless_env(tmp_path)
    )
    seen: list[str] = []
    try:
        sid = (await _wait_line(p, r"session (\S+) started", seen)).group(1)

        async def committed() -> bool:
            try:
                with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as c:
                    row = c.execute("SELECT inputs FROM sessions WHERE id=?", (sid,)).fetchone()
            except sqlite3.Error:
                return False
            return bool(row and row[0] > 0)

        await until_answered(committed, timeout=60.0, every=0.2)
        Path(f"{db}-wal").unlink()
        await _wait_line(p, r"write-ahead log \S+ was deleted while recording", seen)
        assert "nothing is lost" in seen[-1], seen[-1]
        p.kill()  # SIGKILL
        await p.wait()
    finally:
        await reap(p)
    listed = run_python(
        ["-m", "arbscope", "sessions", "--db", str(db)],
        headless_env(tmp_path),
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    (row,) = [x for x in listed.stdout.splitlines() if x.startswith(sid)]
    assert "INCOMPLETE (not closed cleanly)" in row and "LOST" not in row, listed.stdout
    async with await Journal.open(db, create=False, write=False) as j:
        info = await j.session(sid)
    assert info.inputs > 0 and info.lost == 0
    rep = run_python(
        ["-m", "arbscope", "replay", sid, "--db", str(db), "--headless"],
        headless_env(tmp_path),
        timeout=300,
    )
    assert rep.returncode == 0, rep.stderr
    assert f"replayed {sid}: {info.inputs:,} inputs" in rep.stderr


@pytest.mark.parametrize("fault", ["sqlite_full", "tmpfs"])
async def test_a_full_disk_stops_recording_the_session_goes_on_and_exits_1(
    tmp_path: Path, fault: str
) -> None:
    """The journal's disk fills up mid-session: the log says "disk full" with the path and
    that recording stopped (the write queue is bounded: journal.queue_mb); SIGTERM ends
    it with exit 1, the ``session ID`` line and a one-line journal message, no traceback;
    the recorded part replays. ``sqlite_full``: SQLite's own SQLITE_FULL (max_page_count,
    runs anywhere); ``tmpfs``: a real full filesystem, where mounting one is allowed."""
    import subprocess

    # a small queue: while the writes fail what waits is compressed (a few seconds of this
    # session per MiB); a start-up burst past it spills while they succeed, so only the
    # disk stops the recording
    env = headless_env(tmp_path, ARBSCOPE_JOURNAL_QUEUE_MB="1")
    if fault == "tmpfs":
        # room for the schema, the session's token registry and its first chunks (the
        # WAL counts too): at 160 KB a session with names filled it before its first input
        small = _small_filesystem(tmp_path / "small", 320 * 1024)
        if small is None:
            pytest.skip("this machine does not allow mounting a tmpfs")
        db = small / "j.sqlite"
    else:
        env["ARBSCOPE_FAULT_JOURNAL_MAX_PAGES"] = "40"  # 160 KB
        db = tmp_path / "j.sqlite"
    try:
        log = ["--log-file", str(tmp_path / "a.log")]
        p = await start_arbscope([*HEADLESS, "--seed", "4", "--db", str(db), *log], env)
        seen: list[str] = []
        try:
            line = await _wait_line(p, r"recording stopped at input ([\d,]+)", seen, timeout=120)
            assert f"disk full at {db}" in seen[-1], seen[-1]
            await _wait_line(p, r"journal: disk full", seen, timeout=60)  # the status line
            p.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(p.communicate(), 60)
        finally:
            await reap(p)
        stderr = "".join(seen) + err.decode()
        assert p.returncode == 1, stderr
        assert "Traceback" not in stderr and "rollback" not in stderr
        sid = re.search(r"^session (\S+)$", out.decode(), re.M)
        assert sid and "digest" not in out.decode(), out.decode()
        last = [x for x in err.decode().splitlines() if x.startswith("arbscope: journal: ")]
        assert len(last) == 1 and f"disk full at {db}" in last[0]
        assert "INCOMPLETE" in last[0] and sid.group(1) in last[0]
        written = int(line.group(1).replace(",", ""))
        assert written > 0
        rep = run_python(
            [
                "-m",
                "arbscope",
                "replay",
                sid.group(1),
                "--db",
                str(db),
                "--headless",
                "--speed",
                "max",
            ],
            headless_env(tmp_path),
            timeout=120,
        )
        assert rep.returncode == 0, rep.stderr
        assert f"{written:,} inputs" in rep.stderr and "incomplete" in rep.stderr
        # the listing says why it is incomplete, with the count the log stated, and its
        # PnL (stored at the end without a digest; a disk with no room left at all may
        # refuse even that: then "not closed cleanly", with no PnL, and the log says so)
        listed = run_python(
            ["-m", "arbscope", "sessions", "--db", str(db)],
            headless_env(tmp_path),
            timeout=120,
        )
        assert listed.returncode == 0, listed.stderr
        (row,) = [x for x in listed.stdout.splitlines() if x.startswith(sid.group(1))]
        if "not closed cleanly" in row:
            assert fault == "tmpfs" and "could not store why" in stderr, (row, stderr)
        else:
            assert f"INCOMPLETE (disk full at {db}" in row, row
            assert f"recording stopped at input {written:,} (inputs written;" in row, row
            assert re.search(r"\s[+-]\d[\d,]*\s", row) and " ? " not in row, row
    finally:
        if fault == "tmpfs":
            subprocess.run(["umount", "-l", str(tmp_path / "small")], capture_output=True)

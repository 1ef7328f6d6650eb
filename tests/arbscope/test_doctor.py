"""`arbscope doctor` says what is wrong: one line per check, exit 1 on any failure."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from arbscope.doctor import Check, run
from arbscope.execution.keys import write_keypair
from feeds.sim.server import SimServer, default_profiles
from feeds.sim.world import WorldConfig


def _by_name(checks: list[Check]) -> dict[str, list[Check]]:
    out: dict[str, list[Check]] = {}
    for c in checks:
        out.setdefault(c.name, []).append(c)
    return out


def _env(tmp: Path) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp / "cfg")}


@pytest.mark.slow
async def test_a_healthy_setup_checks_out(tmp_path: Path) -> None:
    async with SimServer(WorldConfig(seed=2), default_profiles(1), slot_seconds=0.1) as sim:
        i = sim.infos()[0]
        (tmp_path / "keys").mkdir()
        key = write_keypair(tmp_path / "keys" / "k.json")
        cfg = tmp_path / "c.toml"
        pools = tmp_path / "pools.toml"
        pools.write_text(
            "".join(f'[[pool]]\naddress = "{a}"\nkind = "{k}"\n' for a, k in sim.world.universe())
        )
        cfg.write_text(
            f'[feeds]\nws = ["{i.ws_url}"]\nrpc = ["{i.http_url}"]\n'
            f'[market]\npools_file = "{pools}"\n'
            f'[live]\nkeypair = "{key.path}"\nsend_rpc = "{i.http_url}"\n'
            f'[journal]\npath = "{tmp_path / "j.sqlite"}"\n'
            f'[logs]\nfile = "{tmp_path / "a.log"}"\n[metrics]\nport = 0\n'
        )
        checks = await run(str(cfg), _env(tmp_path), timeout_s=5)
    by = _by_name(checks)
    assert all(c.ok is not False for c in checks), [c.line() for c in checks]
    assert by["keypair"][0].ok and key.pubkey in by["keypair"][0].detail
    assert by["rpc"][0].ok and "ms" in by["rpc"][0].detail
    assert by["pubsub"][0].ok and "first slot after" in by["pubsub"][0].detail
    assert by["clock"][0].ok and by["journal"][0].ok and by["metrics"][0].ok
    assert by["engine"][0].ok and "release" in by["engine"][0].detail


@pytest.mark.slow
async def test_every_problem_gets_its_own_line(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    key = write_keypair(tmp_path / "keys" / "k.json")
    os.chmod(key.path, 0o644)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    journal_dir = tmp_path / "ro"
    journal_dir.mkdir()
    (journal_dir / "j.sqlite").write_text("this is not a journal")
    async with SimServer(WorldConfig(seed=3), default_profiles(1), slot_seconds=0.1) as sim:
        i = sim.infos()[0]
        for slot in sim.slot_times:  # a node whose clock is a minute behind ours
            sim.slot_times[slot] -= 60
        sim.tx_delay_s = 0.0
        orig_step = sim.step

        def step() -> object:
            res = orig_step()
            sim.slot_times[res.slot] -= 60
            return res

        sim.step = step  # type: ignore[method-assign]
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            f'[feeds]\nws = ["{i.ws_url}", "ws://127.0.0.1:9"]\n'
            f'rpc = ["{i.http_url}", "http://127.0.0.1:9/?api-key=K3yK3yK3yK3yK3yK3y"]\n'
            f'[market]\npools_file = "{tmp_path / "p.toml"}"\n'
            f'[live]\nkeypair = "{key.path}"\n[journal]\npath = "{journal_dir / "j.sqlite"}"\n'
            f"[metrics]\nport = {port}\n"
        )
        try:
            # a loaded machine may answer slowly; the failing checks here are refusals, so
            # a long bound costs nothing when it is quick
            checks = await run(str(cfg), _env(tmp_path), timeout_s=15)
        finally:
            busy.close()
    text = "\n".join(c.line() for c in checks)
    by = _by_name(checks)
    assert [c.ok for c in by["rpc"]] == [True, False] and [c.ok for c in by["pubsub"]] == [
        True,
        False,
    ]
    assert "api-key=***" in text and "K3yK3y" not in text
    assert not by["keypair"][0].ok and "chmod 600" in by["keypair"][0].detail
    # ours ahead of the node's by its minute: block times are whole seconds (floored) and
    # the answer takes a while on a busy machine, so the skew reads 60 s up to a few more
    clock = by["clock"][0]
    skew = float(clock.detail.split(" s ", 1)[0])
    assert not clock.ok and 60.0 <= skew < 75.0 and "ahead of" in clock.detail, clock.detail
    assert not by["journal"][0].ok and "not an arbscope journal" in by["journal"][0].detail.lower()
    assert not by["metrics"][0].ok and str(port) in by["metrics"][0].detail


@pytest.mark.slow
def test_the_command_prints_the_checks_and_exits_1_on_a_problem(tmp_path: Path) -> None:
    from tests.support.processes import run_python

    cfg = tmp_path / "c.toml"
    cfg.write_text("[policy]\nmin_profit = -1\n[metrics]\nport = 0\n")  # 9464 may be taken
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBSCOPE_")}
    env.update(_env(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))
    out = run_python(["-m", "arbscope", "doctor", "--config", str(cfg), "--timeout", "3"], env)
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"✗ config     {cfg}:2: policy.min_profit: expected a value >= 0" in out.stdout
    assert out.stdout.strip().endswith("1 problem found")
    assert "✓ engine" in out.stdout and "✓ journal" in out.stdout


@pytest.mark.slow
async def test_the_doctor_reports_rate_limits_and_subscription_caps(tmp_path: Path) -> None:
    from arbscope.doctor import PROBE_REQUESTS, PROBE_SUBSCRIPTIONS
    from feeds.sim.server import EndpointProfile

    profiles = [
        EndpointProfile(
            "limited",
            rate_limit_rps=0,
            rate_limit_answer="retry-after",
            retry_after_s=2,
            max_subscriptions=20,
        ),
        EndpointProfile(
            "plain",
            rate_limit_rps=0,
            rate_limit_answer="plain",
            max_subscriptions=7,
            cap_answer="close",
        ),
        EndpointProfile("fine"),
    ]
    async with SimServer(WorldConfig(seed=2), profiles, slot_seconds=0.1) as sim:
        infos = sim.infos()
        ws = ", ".join(f'"{i.ws_url}"' for i in infos)
        rpc = ", ".join(f'"{i.http_url}"' for i in infos)
        pools = tmp_path / "pools.toml"
        pools.write_text(
            "".join(f'[[pool]]\naddress = "{a}"\nkind = "{k}"\n' for a, k in sim.world.universe())
        )
        cfg = tmp_path / "c.toml"
        cfg.write_text(f'[feeds]\nws = [{ws}]\nrpc = [{rpc}]\n[market]\npools_file = "{pools}"\n')
        checks = await run(str(cfg), _env(tmp_path), timeout_s=5)
        requests = [ep.stats["requests"] for ep in sim.endpoints]
    by = _by_name(checks)
    limits, subs = by["limits"], by["subs"]
    assert [c.ok for c in limits] == [False, False, True], [c.line() for c in checks]
    # the burst refused, with the header's seconds (Helius's way)
    assert f"{PROBE_REQUESTS} of {PROBE_REQUESTS} requests at once rate limited" in (
        limits[0].detail
    )
    assert "code -32429, Retry-After 2 s" in limits[0].detail
    # the public endpoint's way: HTTP 429 in the body's code, no Retry-After
    assert "code 429, no Retry-After" in limits[1].detail
    assert [c.ok for c in subs] == [False, False, True]
    assert f"accepted 20 of {PROBE_SUBSCRIPTIONS}" in subs[0].detail
    assert "Node subscription limit reached" in subs[0].detail
    assert "closed the connection (1008" in subs[1].detail and "a cap of 7" in subs[1].detail
    assert f"{PROBE_SUBSCRIPTIONS} subscriptions on one connection accepted" in subs[2].detail
    # bounded probes: the burst, the version and clock calls; nothing retried in a loop
    assert all(n <= PROBE_REQUESTS + 3 for n in requests), requests

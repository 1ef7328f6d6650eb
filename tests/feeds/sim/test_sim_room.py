"""The simulator is a room of its own: a live (non-simulated) session loads no simulator
module. Each venue's simulated program is its package's ``sim`` module, which only the
simulator loads (``feeds.sim.programs``); the client side (``feeds.venues``, the feed
clients, discovery, the wiring of a live session) never imports ``feeds.sim``. The
import-linter contract ``sim-room`` (pyproject.toml, ``make lint``) holds the imports to
that; these tests hold what a process actually loads, each in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.processes import headless_env, run_python

# what a process has loaded of the simulator: feeds.sim itself and the venues' sim modules
LOADED = "sorted(m for m in sys.modules if m.startswith('feeds.sim') or m.endswith('.sim'))"


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_python(["-c", code], env, timeout=180)


@pytest.mark.slow
def test_the_client_side_loads_no_simulator_module(tmp_path: Path) -> None:
    """The venue registry, the feed pool and discovery: everything a live session reads
    the chain with, and no simulator module among what they load."""
    code = "import feeds.venues, feeds.clients.pool, feeds.discover"
    out = _python(f"import json, sys\n{code}\nprint(json.dumps({LOADED}))", headless_env(tmp_path))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
    # and the simulator, once asked for, holds every venue's simulated program
    code = "import feeds.sim.world\nprint(json.dumps([m for m in sys.modules if 'venues' in m]))"
    out = _python(f"import json, sys\n{code}", headless_env(tmp_path))
    assert out.returncode == 0, out.stderr
    import feeds.venues as venues

    loaded = {m for m in json.loads(out.stdout) if m.endswith(".sim")}
    assert loaded == {f"feeds.venues.{v.name}.sim" for v in venues.VENUES}


# a live session built as ``arbscope run --headless --ws ... --rpc ... --pools FILE``
# builds it (arbscope.cli: resolve_config, build_session), run until it has applied
# updates from the endpoints; then what it loaded
LIVE = f"""
import asyncio, json, sys
from arbscope.cli import build_session, parser, resolve_config

args = parser().parse_args(sys.argv[1:])
session = build_session(resolve_config(args))

async def go():
    try:
        await session.start()
        await session.run(until=lambda: session.updates > 0 or bool(session.start_error))
    finally:
        await session.stop()

asyncio.run(go())
print(json.dumps(dict(
    source=session.source,
    embedded=session.feeds.simulated,
    error=session.start_error,
    updates=session.updates,
    loaded={LOADED},
)))
"""


@pytest.mark.slow
def test_a_live_session_loads_no_simulator_module(tmp_path: Path) -> None:
    """A simulator in a process of its own (``arbscope sim``), and a live session on its
    two endpoints in another: the session applies the endpoints' updates having loaded
    no ``feeds.sim`` module and no venue's ``sim`` module."""
    env = headless_env(tmp_path)
    pools = tmp_path / "pools.toml"
    cmd = ["sim", "--seed", "4", "--endpoints", "2", "--port", "0", "--pools-out", str(pools)]
    sim = subprocess.Popen(
        [sys.executable, "-m", "arbscope", *cmd],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stdout is not None
        urls = [sim.stdout.readline().strip() for _ in range(4)]  # ws, http per endpoint
        assert [u.split("://")[0] for u in urls] == ["ws", "http", "ws", "http"], urls
        args = ["run", "--headless", "--no-record", "--no-metrics", "--pools", str(pools)]
        for ws, http in (urls[0:2], urls[2:4]):
            args += ["--ws", ws, "--rpc", http]
        out = run_python(["-c", LIVE, *args], env, timeout=180)
    finally:
        sim.terminate()
        sim.wait(60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["source"] == "live ×2" and not got["embedded"] and got["error"] == ""
    assert got["updates"] > 0, "the session applied the endpoints' updates"
    assert got["loaded"] == [], got["loaded"]

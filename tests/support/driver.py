"""The market driver (``feeds/sim/driver.py``) as the node tests run it: ``arbscope node
drive`` in a process of its own against the session's node, its tally read from the
stats file it writes every few seconds."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feeds.sim.driver import read_stats
from feeds.sim.export import Market
from feeds.sim.world import World
from tests.support.paths import ROOT
from tests.support.processes import cli_env


@dataclass
class Driven:
    """A driver process trading the node at ``rpc_url`` (see the module doc)."""

    rpc_url: str
    market: Path
    workdir: Path
    args: tuple[str, ...] = ()
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def stats(self) -> Path:
        return self.workdir / "driver-stats.json"

    @property
    def log(self) -> Path:
        return self.workdir / "driver.log"

    def start(self) -> Driven:
        self.workdir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "arbscope",
            "node",
            "drive",
            "--rpc",
            self.rpc_url,
            "--market",
            str(self.market),
            "--stats",
            str(self.stats),
            *self.args,
        ]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=cli_env(self.workdir),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    def tally(self) -> dict[str, Any]:
        """The driver's last tally ({} before its first)."""
        return read_stats(self.stats) or {}

    def wait_for(
        self, what: Callable[[dict[str, Any]], bool], timeout: float = 180.0
    ) -> dict[str, Any]:
        """Poll the tally until ``what`` holds (AssertionError with the tally and the
        log's end after ``timeout`` seconds, or when the driver exited)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.tally()
            if got and what(got):
                return got
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"the driver exited ({self.proc.returncode}):\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {timeout:g} s: {got}\n{self.tail()}")
            time.sleep(0.5)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM (it writes its tally and exits), SIGKILL after 20 s."""
        p = self.proc
        if p is None or p.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)


_WORLDS: dict[str, World] = {}


def world_of(market: Market) -> World:
    """The world ``market`` was exported from, rebuilt from its config (its pools'
    mints, vaults and arrays, its tokens; at slot 0), once per test session."""
    key = json.dumps(market.config, sort_keys=True)
    if key not in _WORLDS:
        _WORLDS[key] = World(market.world_config())
    return _WORLDS[key]

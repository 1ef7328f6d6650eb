"""``arbscope`` as a separate process, as a user runs it: its environment and its start."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def headless_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of an ``arbscope`` process: no ``ARBSCOPE_`` setting of the
    caller's, its config and data under ``tmp``, unbuffered output; ``extra`` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBSCOPE_")}
    env.update(
        XDG_CONFIG_HOME=str(tmp / "xdg-config"),
        XDG_DATA_HOME=str(tmp / "xdg-data"),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


async def start_arbscope(args: list[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    """``python -m arbscope ARGS`` started in the repository, its output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "arbscope",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        # at level debug aiosqlite logs each journal chunk it writes, blob and all: lines
        # past asyncio's 64 KiB default as the market's stream grows
        limit=2**24,
    )


def cli_env(tmp: Path) -> dict[str, str]:
    """As :func:`headless_env`, keeping the caller's ``ARBSCOPE_ENGINE``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBSCOPE_")}
    env.update(
        XDG_CONFIG_HOME=str(tmp / "xdg-config"),
        XDG_DATA_HOME=str(tmp / "xdg-data"),
        PYTHONUNBUFFERED="1",
    )
    if "ARBSCOPE_ENGINE" in os.environ:
        env["ARBSCOPE_ENGINE"] = os.environ["ARBSCOPE_ENGINE"]
    return env


async def reap(p: asyncio.subprocess.Process) -> None:
    """Kill ``p`` if it still runs, and wait for it (a test's ``finally``)."""
    if p.returncode is None:
        p.kill()
        await p.wait()


async def run_arbscope(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> tuple[int, str, str]:
    """``python -m arbscope ARGS`` run to its end (killed after ``timeout``): its exit
    status, stdout and stderr."""
    p = await start_arbscope(args, env)
    try:
        out, err = await asyncio.wait_for(p.communicate(), timeout)
    finally:
        await reap(p)
    assert p.returncode is not None
    return p.returncode, out.decode(), err.decode()


def run_python(
    args: list[str], env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` run to its end in the repository (``subprocess.run``: raises after
    ``timeout``), its output captured as text."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )

"""A JavaScript client written by other people (@solana/web3.js v1 from npm), driven by
``tests/js/web3_client.mjs`` under node in a subprocess, so the simulator is tried by a
second, independent client library besides solana-py.

The package is installed on first use (``npm ci`` from ``tests/js/package-lock.json``,
into ``tests/js/node_modules``); where node or npm is missing, or the registry cannot be
reached, the tests that need it are skipped and say why.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).resolve().parent.parent / "js"
SCRIPT = JS_DIR / "web3_client.mjs"
INSTALL_TIMEOUT_S = 600
_install_problem: list[str] = []  # "" once installed, the reason when it cannot be


def _install() -> str:
    """Install the npm packages once per session; "" when ready, else why not."""
    if _install_problem:
        return _install_problem[0]
    why = ""
    if shutil.which("node") is None or shutil.which("npm") is None:
        why = "node and npm are not installed: the JavaScript client (@solana/web3.js) is not run"
    elif not (JS_DIR / "node_modules" / "@solana" / "web3.js" / "package.json").is_file():
        try:
            done = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                cwd=JS_DIR, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            why = f"npm ci did not finish within {INSTALL_TIMEOUT_S} s"
        else:
            if done.returncode != 0:
                why = "npm could not install @solana/web3.js: " + done.stderr.strip()[-300:]
    _install_problem.append(why)
    return why


class Web3Js:
    """Runs steps of ``web3_client.mjs`` against one endpoint."""

    def __init__(self, http_url: str, ws_url: str = "") -> None:
        self.http_url, self.ws_url = http_url, ws_url

    async def run(self, *steps: dict[str, Any], timeout_s: float = 60.0) -> list[dict[str, Any]]:
        """Each step's ``{"ok": result}`` or ``{"error": {...}}``, in order."""
        request = json.dumps({"http": self.http_url, "ws": self.ws_url, "steps": list(steps)})
        proc = await asyncio.create_subprocess_exec(
            "node", str(SCRIPT), cwd=JS_DIR, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            async with asyncio.timeout(timeout_s):
                out, err = await proc.communicate(request.encode())
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        assert proc.returncode == 0, err.decode()[-2000:]
        result: list[dict[str, Any]] = json.loads(out)
        return result

    async def one(self, step: dict[str, Any], timeout_s: float = 60.0) -> Any:
        """One step's result; AssertionError with the library's message when it failed."""
        (res,) = await self.run(step, timeout_s=timeout_s)
        assert "ok" in res, res["error"]
        return res["ok"]


@pytest.fixture(scope="session")
def web3js() -> type[Web3Js]:
    """The JavaScript client; skips the test (saying why) where it cannot be installed."""
    why = _install()
    if why:
        pytest.skip(why)
    return Web3Js

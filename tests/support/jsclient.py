"""A JavaScript client written by other people (@solana/web3.js v1 from npm), driven by
``tests/js/web3_client.mjs`` under node in a subprocess, so the simulator is tried by a
second, independent client library besides solana-py.

The package is installed on first use (``tools/nodejs.py``: ``npm ci`` from
``tests/js/package-lock.json``, into ``tests/js/node_modules``); where node or npm is
missing, or the registry cannot be reached, the tests that need it are skipped and say why.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tools.nodejs import JS_DIR, install

SCRIPT = JS_DIR / "web3_client.mjs"


class Web3Js:
    """Runs steps of ``web3_client.mjs`` against one endpoint."""

    def __init__(self, http_url: str, ws_url: str = "") -> None:
        self.http_url, self.ws_url = http_url, ws_url

    async def run(self, *steps: dict[str, Any], timeout_s: float = 60.0) -> list[dict[str, Any]]:
        """Each step's ``{"ok": result}`` or ``{"error": {...}}``, in order."""
        request = json.dumps({"http": self.http_url, "ws": self.ws_url, "steps": list(steps)})
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(SCRIPT),
            cwd=JS_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
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
    why = install()
    if why:
        pytest.skip(why)
    return Web3Js

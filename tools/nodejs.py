"""The npm packages of ``tests/js`` (JavaScript libraries written by other people, which
the tests and the bench compare arbscope against): installed on first use with
``npm ci --prefer-offline`` from ``tests/js/package-lock.json`` into
``tests/js/node_modules`` (not committed), once per process.

- ``@solana/web3.js`` drives the simulator as a second client (``tests/support/jsclient.py``);
- ``@openbook-dex/openbook-v2`` decodes OpenBook v2 accounts as the engine's oracle
  (``tests/support/jsbook.py``) and is the bench's peer for the order-book ladder
  (``bench/jspeer.py``);
- ``@solana/spl-token`` (pinned in package.json and the lockfile)
  computes Token-2022 transfer fees as the engine's oracle (``tests/engine/test_token2022_js.py``);
- ``@meteora-ag/cp-amm-sdk`` decodes DAMM v2 pools and quotes their swaps as the engine's
  oracle (``tests/js/damm_v2_client.mjs``, ``tests/engine/test_meteora_damm_v2.py``).

:func:`install` answers "" when every package of ``package.json`` is there, else why not
(node or npm missing, the registry unreachable, the install failing), for the caller to
skip with.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

JS_DIR = Path(__file__).resolve().parent.parent / "tests" / "js"
INSTALL_TIMEOUT_S = 600
_problem: list[str] = []  # "" once installed, the reason when it cannot be


def _missing() -> list[str]:
    """The packages of package.json not installed in node_modules."""
    wanted = json.loads((JS_DIR / "package.json").read_text())["dependencies"]
    return [p for p in wanted if not (JS_DIR / "node_modules" / p / "package.json").is_file()]


def install() -> str:
    """Install the npm packages once per process; "" when ready, else why not."""
    if _problem:
        return _problem[0]
    why = ""
    if shutil.which("node") is None or shutil.which("npm") is None:
        why = "node and npm are not installed: the JavaScript clients (tests/js) are not run"
    elif missing := _missing():
        try:
            done = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                cwd=JS_DIR,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            why = f"npm ci did not finish within {INSTALL_TIMEOUT_S} s"
        else:
            if done.returncode != 0:
                why = f"npm could not install {', '.join(missing)}: " + done.stderr.strip()[-300:]
            elif still := _missing():
                why = f"npm ci left {', '.join(still)} uninstalled"
    _problem.append(why)
    return why


class NodeScriptError(RuntimeError):
    """A script of tests/js answered ``{"error": ...}`` or exited non-zero."""


def run_script(script: str, request: dict[str, Any], timeout_s: float = 120.0) -> Any:
    """Run ``tests/js/<script>`` under node with ``request`` as JSON on stdin; its
    ``{"ok": answer}``'s answer, or :class:`NodeScriptError` with its message."""
    done = subprocess.run(
        ["node", str(JS_DIR / script)],
        cwd=JS_DIR,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    if done.returncode != 0:
        raise NodeScriptError(f"{script} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    answer = json.loads(done.stdout)
    if "ok" not in answer:
        raise NodeScriptError(f"{script}: {answer.get('error')}")
    return answer["ok"]

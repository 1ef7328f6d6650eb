"""A headless session has no screen: it must not even import one. A short ``arbscope run
--headless`` against the embedded simulator, in its own interpreter, then a look at what
it loaded."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.e2e

PROBE = """
import json, sys
from arbscope.cli import main
rc = main(sys.argv[1:])
ui = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "tui"))
print(json.dumps({"rc": rc, "ui": ui}))
"""


def test_a_headless_session_never_imports_textual(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBSCOPE_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_DATA_HOME=str(tmp_path / "data"))
    p = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            "run",
            "--headless",
            "--seed",
            "3",
            "--duration",
            "2",
            "--no-metrics",
            "--db",
            str(tmp_path / "j.sqlite"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out == {"rc": 0, "ui": []}, out
    # it did run: the simulator's pools were evaluated and the session was recorded
    done = re.search(r"slot (\d+), (\d+) pools, (\d+) updates", p.stderr)
    assert done and int(done.group(2)) > 0 and int(done.group(3)) > 0, p.stderr
    assert re.search(r"^session \S+$", p.stdout, re.M) and "digest " in p.stdout

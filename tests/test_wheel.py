"""The built wheel ships the card's packages, no Rust sources or artefacts, and works
installed alone in a fresh venv (tools/wheel_check.py does the work)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.skipif(shutil.which("cargo") is None, reason="needs a Rust toolchain")
def test_wheel_is_clean_and_installs() -> None:
    out = subprocess.run(
        [sys.executable, "tools/wheel_check.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "wheel OK" in out.stdout

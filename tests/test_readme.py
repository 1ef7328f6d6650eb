"""The README's engine example runs as written, on both backends."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize("backend", ["rust", "python"])
def test_readme_example_runs(backend: str) -> None:
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None
    out = subprocess.run(
        [sys.executable, "-c", code.group(1)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "ARBSCOPE_ENGINE": backend},
    )
    assert out.returncode == 0, out.stderr
    assert "True []" in out.stdout  # the injected 1.3% dislocation is a go

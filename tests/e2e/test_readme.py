"""The engine example of docs/engine.md (the README points there) runs as written, on both
backends; the README stays a front door that links every document it names."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("backend", ["rust", "python"])
def test_readme_example_runs(backend: str) -> None:
    text = (ROOT / "docs" / "engine.md").read_text()
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


def test_the_readme_is_a_front_door_and_its_links_resolve() -> None:
    """The README: what, the two commands, a screenshot, the keys, where next — short —
    and every relative link in it and in docs/ names a file that exists."""
    readme = ROOT / "README.md"
    assert len(readme.read_text().splitlines()) <= 150
    for doc in [readme, *sorted((ROOT / "docs").glob("*.md"))]:
        for url in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
            if re.match(r"[a-z]+:", url) or url.startswith("#"):
                continue
            target = (doc.parent / url.split("#")[0]).resolve()
            assert target.exists(), f"{doc.name}: {url}"

"""Fixtures of the execution tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from arbscope.execution.keys import write_keypair


@pytest.fixture
def keyfile(tmp_path: Path) -> Path:
    """A fresh keypair file as live trading accepts it (owner-only, outside a repository)."""
    path = tmp_path / "keys" / "live.json"
    path.parent.mkdir()
    write_keypair(path)
    return path

"""Where the repository and the tests' committed data are."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"  # the full fixture files, when present

"""The tests' layout (docs/development.md, Tests): a test module's folder mirrors the
source folder it tests (``tests/feeds/clients/`` tests ``feeds/clients/``; the one
renamed folder is ``tests/engine/`` for ``engine_rs/``), a few cross-cutting folders
aside; what tests share lives in ``tests/support/``, and no module under ``tests/``
imports a test module (``test_*.py``) or a ``conftest.py``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import ROOT

TESTS = ROOT / "tests"
# tests/<folder> -> the source folder it mirrors, where the names differ
RENAMED = {"engine": "engine_rs"}
# folders that mirror no source folder, each for a reason
CROSS_CUTTING = {
    "support": "the helpers the tests share (no tests)",
    "e2e": "end to end: headless runs as processes, the fleet over NATS, the README",
    "judge": "the real DEX programs (../shared/programs) judging the simulator and engine",
    "node": "a real Solana node (../shared/bin's validator) judging arbscope and the simulator",
}
# test modules directly under tests/: rules about the whole repository
TOP_LEVEL = {"test_architecture.py", "test_house.py", "test_layout.py"}


def _modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "node_modules" not in p.parts)


def _imported(path: Path) -> set[str]:
    """The modules ``path`` imports, relative imports resolved."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


@pytest.mark.slow
def test_no_module_under_tests_imports_a_test_module_or_a_conftest() -> None:
    bad = []
    for path in _modules():
        for name in _imported(path):
            if not name.startswith("tests."):
                continue
            last = name.split(".")[-1]
            module = ROOT.joinpath(*name.split(".")).with_suffix(".py")
            if module.exists() and (last.startswith("test_") or last == "conftest"):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "move what they share into tests/support/:\n" + "\n".join(bad)


def test_every_test_folder_mirrors_a_source_folder() -> None:
    bad = []
    for path in _modules():
        if not path.name.startswith("test_"):
            continue
        rel = path.relative_to(TESTS)
        if len(rel.parts) == 1:
            if rel.name not in TOP_LEVEL:
                bad.append(f"{rel}: directly under tests/ (only {sorted(TOP_LEVEL)} are)")
            continue
        first, *rest = rel.parts[:-1]
        if first in CROSS_CUTTING:
            continue
        source = ROOT / RENAMED.get(first, first)
        if not source.joinpath(*rest).is_dir():
            bad.append(f"{rel}: no source folder {source.joinpath(*rest).relative_to(ROOT)}/")
    assert not bad, "\n".join(bad)


def test_every_test_folder_is_a_package_and_support_holds_no_tests() -> None:
    folders = {p.parent for p in _modules()}
    assert not [f for f in folders if not (f / "__init__.py").exists()]
    assert not list((TESTS / "support").glob("test_*.py"))
    for name in CROSS_CUTTING:
        assert (TESTS / name).is_dir(), name

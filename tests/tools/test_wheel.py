"""The built wheel ships the card's packages, no Rust sources or artefacts, and works
installed alone in a fresh venv (tools/wheel_check.py does the work).

The build reuses the release artefacts of `make engine`, so this takes well under two
minutes; it is marked ``slow`` so `pytest -m "not slow"` can leave it out."""

from __future__ import annotations

import importlib.util
import shutil
from types import ModuleType

import pytest

from tests.support.paths import ROOT
from tests.support.processes import run_python


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wheel_check", ROOT / "tools" / "wheel_check.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


GOOD = [
    "engine_rs/_engine.cpython-311-x86_64-linux-gnu.so",
    *(r for r in _tool().REQUIRED),
    "arbscope-0.1.0.dist-info/METADATA",
]


def test_a_clean_listing_passes() -> None:
    assert _tool().problems(GOOD) == []


@pytest.mark.parametrize(
    "extra",
    [
        "engine_rs/crates/core/src/amm.rs",
        "engine_rs/Cargo.toml",
        "engine_rs/Cargo.lock",
        "engine_rs/target/release/libarbscope_core.rlib",
        "engine_rs/python/__pycache__/amm.cpython-311.pyc",
        "feeds/vendored/libfoo.so",
        "engine_rs/crates/py/README.md",
        "arbscope/staging.py",  # test support, it lives in tests/ (it reads tests/data)
        "tests/support/staging.py",
    ],
)
def test_forbidden_files_fail(extra: str) -> None:
    assert _tool().problems([*GOOD, extra])


@pytest.mark.parametrize(
    "gone",
    ["engine_rs/py.typed", "storage/py.typed", "engine_rs/_engine.pyi", "tui/__init__.py"],
)
def test_missing_files_fail(gone: str) -> None:
    assert _tool().problems([n for n in GOOD if n != gone])


def test_every_shipped_package_is_typed() -> None:
    # the wheel's packages as pyproject.toml lists them, each with its PEP 561 marker
    packages = _tool().PACKAGES
    assert packages == ["engine_rs", "arbscope", "feeds", "storage", "tui", "themes"]
    for p in packages:
        assert f"{p}/py.typed" in _tool().REQUIRED
        assert (ROOT / p / "py.typed").is_file(), p


def test_no_extension_fails() -> None:
    assert _tool().problems([n for n in GOOD if not n.endswith(".so")])


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cargo") is None, reason="needs a Rust toolchain")
def test_wheel_is_clean_and_installs() -> None:
    out = run_python(["tools/wheel_check.py"], timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "wheel OK" in out.stdout
    assert "engine_rs/_engine." in out.stdout

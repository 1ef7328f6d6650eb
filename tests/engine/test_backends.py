"""Backend selection: both faces export the same names; the fallback warns once and works."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import engine_rs
from tests.support.paths import ROOT


def test_both_backends_export_the_same_names(rust: object, py: object) -> None:
    assert sorted(rust.__all__) == sorted(py.__all__)  # type: ignore[attr-defined]
    for name in py.__all__:  # type: ignore[attr-defined]
        assert hasattr(rust, name), name
    for info in py.venue_infos():  # type: ignore[attr-defined]
        ours, twins = getattr(rust, info.name), getattr(py, info.name)  # a venue's namespace
        assert ours.__all__ == twins.__all__, info.name
        for name in twins.__all__:
            assert hasattr(ours, name), f"{info.name}.{name}"


def test_record_classes_match_the_schema(rust: object) -> None:
    import dataclasses

    from engine_rs import records

    for cls in (records.SwapResult, records.Cycle, records.Opportunity, records.Score):
        rcls = getattr(rust, cls.__name__)
        for f in dataclasses.fields(cls):
            assert hasattr(rcls, f.name), f"{cls.__name__}.{f.name} missing in Rust"


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_forced_python_backend_is_complete() -> None:
    # The whole twin must import and answer without the extension.
    out = _run(
        """
        import sys
        sys.modules["engine_rs._engine"] = None  # the extension is absent
        import engine_rs
        eng = engine_rs.backend()
        assert eng.BACKEND == "python", eng
        print(eng.cpmm_amount_out(1_000_000, 5_000_000_000, 7_000_000_000, 25, 10_000))
        """,
        ARBSCOPE_ENGINE="python",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1396221"
    assert "Warning" not in out.stderr  # forced: no warning


def test_missing_extension_falls_back_with_one_warning() -> None:
    out = _run(
        """
        import sys, warnings
        sys.modules["engine_rs._engine"] = None
        import engine_rs
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            a = engine_rs.backend(); b = engine_rs.backend()
        assert a is b and a.BACKEND == "python"
        print(len([w for w in caught if issubclass(w.category, engine_rs.EngineFallbackWarning)]))
        """,
        ARBSCOPE_ENGINE="",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def test_forcing_rust_without_extension_is_an_import_error() -> None:
    out = _run(
        """
        import sys
        sys.modules["engine_rs._engine"] = None
        import engine_rs
        try:
            engine_rs.backend()
        except ImportError:
            print("ImportError")
        """,
        ARBSCOPE_ENGINE="rust",
    )
    assert out.stdout.strip() == "ImportError", out.stderr


def test_unknown_backend_name_is_rejected() -> None:
    with pytest.raises(ValueError):
        engine_rs.load("fortran")


def test_rust_build_is_release(rust: object) -> None:
    # `make` builds the extension in release mode; a debug build would make every
    # timing on the dashboard a lie.
    assert rust.BUILD_PROFILE == "release"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "wanted"), [("", "auto"), (" Rust ", "rust"), ("python", "python"), ("cobol", None)]
)
def test_the_requested_engine_is_checked_before_anything_loads(
    value: str, wanted: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBSCOPE_ENGINE", value)
    if wanted is not None:
        assert engine_rs.requested() == wanted
        return
    with pytest.raises(ValueError) as e:
        engine_rs.requested()
    assert str(e.value) == (
        "ARBSCOPE_ENGINE='cobol' is not an engine: use rust or python (or leave it unset: "
        "rust when built, else the Python twin)"
    )

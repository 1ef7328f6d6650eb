"""Build the wheel and prove it is clean and installs on its own.

Fails if the wheel holds Rust sources, Cargo files, build artefacts or caches, test
support (``tests/``, the staged screens of ``tests/staging.py``), or lacks a package or
a package's ``py.typed`` (PEP 561: every shipped package says it is typed); then
installs it with --no-deps (plus numpy, the engine's one runtime dependency) into a
fresh venv and imports the compiled engine from outside the repository.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def shipped_packages() -> list[str]:
    """The top-level packages the wheel ships: the extension's package and maturin's
    ``python-packages`` (pyproject.toml)."""
    maturin = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["maturin"]
    return [maturin["module-name"].split(".")[0], *maturin["python-packages"]]


PACKAGES = shipped_packages()
REQUIRED = [
    *(f"{p}/__init__.py" for p in PACKAGES),
    *(f"{p}/py.typed" for p in PACKAGES),
    "engine_rs/_engine.pyi",
    "engine_rs/python/__init__.py",
    "engine_rs/rust.py",
    "engine_rs/records.py",
    "engine_rs/kernels.py",
    "tui/app.py",
    "tui/screens/__init__.py",
    "tui/widgets/__init__.py",
    "themes/arbscope.tcss",
]
FORBIDDEN_DIRS = {"target", "crates", "__pycache__", "tests"}
FORBIDDEN_FILES = {"Cargo.toml", "Cargo.lock"}
# test support that points into tests/data: it ships nowhere (it lives in tests/)
FORBIDDEN_MODULES = {"staging.py"}
FORBIDDEN_SUFFIXES = (".rs", ".pyc", ".pyo")


def problems(names: list[str]) -> list[str]:
    """Why a wheel holding ``names`` is wrong (empty: it is right)."""
    out = []
    for n in names:
        parts = n.split("/")
        if FORBIDDEN_DIRS & set(parts[:-1]):
            out.append(f"build, source or test folder: {n}")
        elif parts[-1] in FORBIDDEN_MODULES:
            out.append(f"test support: {n}")
        elif parts[-1] in FORBIDDEN_FILES or n.endswith(FORBIDDEN_SUFFIXES):
            out.append(f"source or cache file: {n}")
        elif n.endswith((".so", ".pyd", ".dylib", ".dll")) and not (
            n.startswith("engine_rs/_engine.") and "/" not in n[len("engine_rs/") :]
        ):
            out.append(f"binary other than the engine: {n}")
    exts = [n for n in names if n.startswith("engine_rs/_engine.") and n.endswith((".so", ".pyd"))]
    if len(exts) != 1:
        out.append(f"expected one engine_rs/_engine extension, found {exts}")
    out += [f"missing: {r}" for r in REQUIRED if r not in names]
    return out


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        dist = Path(tmp) / "dist"
        subprocess.run(
            [sys.executable, "-m", "maturin", "build", "--release", "-q", "--out", str(dist)],
            cwd=ROOT,
            check=True,
        )
        wheel = next(dist.glob("*.whl"))
        names = zipfile.ZipFile(wheel).namelist()
        print(f"{wheel.name}: {len(names)} files")
        for n in sorted(names):
            print(f"  {n}")
        bad = problems(names)
        if bad:
            print("FAIL:\n  " + "\n  ".join(bad))
            return 1
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        py = venv / "bin" / "python"
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True)
        # the engine's one runtime dependency (the indicators' arrays), at the version
        # this environment has, so pip can take it from its cache
        import numpy

        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", f"numpy=={numpy.__version__}"], check=True
        )
        probe = (
            "import engine_rs, engine_rs._engine as e, engine_rs.rust as r, engine_rs.python as p; "
            f"assert e.__file__.startswith({str(venv)!r}), e.__file__; "
            "assert (r.ema([1.0, 2.0, 4.0], 2)[1:] == p.ema([1.0, 2.0, 4.0], 2)[1:]).all(); "
            "print(r.BUILD_PROFILE, r.cpmm_amount_out(10**6, 10**9, 10**9, 25, 10_000), "
            "p.cpmm_amount_out(10**6, 10**9, 10**9, 25, 10_000))"
        )
        out = subprocess.run(
            [str(py), "-c", probe], cwd=tmp, check=True, capture_output=True, text=True
        )
        print("installed copy answers:", out.stdout.strip())
        a, b, c = out.stdout.split()
        if a != "release" or b != c:
            print("FAIL: installed engine disagrees")
            return 1
    print("wheel OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The two backends are one API, name by name.

For every public name of the twin (``engine_rs.python.__all__``), the Rust backend's
object is the same kind of thing (class, function or value) and:

- a function takes the same parameters: names, order, kinds and defaults, as
  ``inspect.signature`` reads them (the twin's annotations; the extension's
  ``__text_signature__``, which PyO3 writes from ``#[pyo3(signature = ...)]`` or
  ``text_signature``);
- a class is built with the same parameters, has the same public members, each the
  same kind (method or data attribute), its methods take the same parameters, and it
  supports the same protocols (``len``, ``in``, iteration ...). Records (the schema's
  classes) are made by the engine, not by callers: the extension's have no constructor,
  so theirs is not compared; their fields are;
- the name and each public method have a docstring whose first line says something, on
  both sides.

A difference is fixed in the bindings or the twin, never here.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from pathlib import Path
from typing import Any

import pytest

from engine_rs.records import RECORD_TYPES

RECORDS = frozenset(cls.__name__ for cls in RECORD_TYPES)
# the interpreter's protocols a class may take part in: both sides or neither
PROTOCOLS = ("__len__", "__contains__", "__iter__", "__getitem__", "__bool__", "__call__")


def _kind(obj: object) -> str:
    if isinstance(obj, type):
        return "class"
    if callable(obj):
        return "function"
    return "value"


def _params(obj: Any, method: bool = False) -> list[tuple[str, str, str]]:
    """(name, kind, default) of each parameter; a method's ``self`` left out."""
    params = list(inspect.signature(obj).parameters.values())
    if method and params and params[0].name in ("self", "cls"):
        params = params[1:]
    return [
        (
            p.name,
            p.kind.name,
            "<required>" if p.default is inspect.Parameter.empty else repr(p.default),
        )
        for p in params
    ]


def _first_line(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0].strip() if doc.strip() else ""


def _member_kind(cls: type, name: str) -> str:
    static = inspect.getattr_static(cls, name)
    if isinstance(
        static, (property, types.GetSetDescriptorType, types.MemberDescriptorType)
    ) or not callable(getattr(cls, name)):
        return "data"
    return "method"


def _public_members(cls: type) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_")}


def _pairs(rust: types.ModuleType, py: types.ModuleType) -> list[tuple[str, Any, Any]]:
    """Every public name, a venue's namespace name by name (``raydium_clmm.swap``)."""
    out = []
    for n in py.__all__:
        r, p = getattr(rust, n), getattr(py, n)
        if isinstance(p, types.ModuleType):
            assert r.__all__ == p.__all__, n
            out += [(f"{n}.{m}", getattr(r, m), getattr(p, m)) for m in p.__all__]
        else:
            out.append((n, r, p))
    return out


def test_every_name_is_the_same_kind(rust: types.ModuleType, py: types.ModuleType) -> None:
    diffs = [
        f"{n}: rust {_kind(r)}, python {_kind(p)}"
        for n, r, p in _pairs(rust, py)
        if _kind(r) != _kind(p)
    ]
    assert not diffs, "\n".join(diffs)


def test_functions_take_the_same_parameters(rust: types.ModuleType, py: types.ModuleType) -> None:
    diffs = []
    for n, r, p in _pairs(rust, py):
        if _kind(p) == "function" and _params(r) != _params(p):
            diffs.append(f"{n}: rust {_params(r)}\n{' ' * len(n)}  python {_params(p)}")
    assert not diffs, "\n".join(diffs)


def test_classes_are_built_with_the_same_parameters(
    rust: types.ModuleType, py: types.ModuleType
) -> None:
    diffs = []
    for n, r, p in _pairs(rust, py):
        if _kind(p) != "class" or r is p:
            continue
        if n in RECORDS:  # made by the engine: compare the fields
            fields = {f.name for f in dataclasses.fields(p)}
            rust_fields = {m for m in _public_members(r) if _member_kind(r, m) == "data"}
            if fields != rust_fields:
                diffs.append(f"{n} fields: rust {sorted(rust_fields)}, python {sorted(fields)}")
        elif _params(r) != _params(p):
            diffs.append(f"{n}(): rust {_params(r)}\n{' ' * len(n)}    python {_params(p)}")
    assert not diffs, "\n".join(diffs)


def test_classes_have_the_same_members(rust: types.ModuleType, py: types.ModuleType) -> None:
    diffs = []
    for n, r, p in _pairs(rust, py):
        if _kind(p) != "class" or r is p:
            continue
        for m in sorted(_public_members(r) ^ _public_members(p)):
            side = "rust" if hasattr(r, m) else "python"
            diffs.append(f"{n}.{m}: only in {side}")
        for m in sorted(_public_members(r) & _public_members(p)):
            if _member_kind(r, m) != _member_kind(p, m):
                diffs.append(f"{n}.{m}: rust {_member_kind(r, m)}, python {_member_kind(p, m)}")
            elif _member_kind(p, m) == "method" and _params(getattr(r, m), True) != _params(
                getattr(p, m), True
            ):
                diffs.append(
                    f"{n}.{m}: rust {_params(getattr(r, m), True)}\n"
                    f"{' ' * (len(n) + len(m) + 1)}  python {_params(getattr(p, m), True)}"
                )
        for proto in PROTOCOLS:
            if hasattr(r, proto) != hasattr(p, proto):
                diffs.append(f"{n}.{proto}: rust {hasattr(r, proto)}, python {hasattr(p, proto)}")
    assert not diffs, "\n".join(diffs)


def test_names_and_methods_have_docstrings(rust: types.ModuleType, py: types.ModuleType) -> None:
    missing = []
    for n, r, p in _pairs(rust, py):
        if _kind(p) == "value":
            continue
        for side, obj in (("rust", r), ("python", p)):
            if not _first_line(obj):
                missing.append(f"{side} {n}")
            if _kind(p) == "class" and n not in RECORDS:
                for m in sorted(_public_members(obj)):
                    if _member_kind(obj, m) == "method" and not _first_line(getattr(obj, m)):
                        missing.append(f"{side} {n}.{m}")
    assert not missing, "no docstring: " + ", ".join(missing)


@pytest.mark.parametrize("name", ["cpmm_amount_out", "PoolGraph", "Rsi"])
def test_the_comparison_sees_a_difference(name: str, py: types.ModuleType) -> None:
    # the helpers are not blind: a renamed or re-defaulted parameter is a difference
    obj = getattr(py, name)
    sig = inspect.signature(obj)
    first = next(iter(sig.parameters.values()))
    renamed = sig.replace(parameters=[first.replace(name=first.name + "_x")])

    def fake() -> None: ...

    fake.__signature__ = renamed  # type: ignore[attr-defined]
    assert _params(fake) != _params(obj)


def test_the_twin_is_laid_out_as_the_core() -> None:
    # one twin module per core module, of the same name (the core's `error.rs` is the
    # shared `engine_rs/errors.py`; `_ints.py` is the twin's own integer helpers), and one
    # twin venue module per core venue folder: a reader finds a kernel's twin by its name.
    # A core folder (`venues/orca_whirlpool/`) may be one twin module or a package; a
    # twin package's modules are named as the core folder's files (the core has more:
    # its tests, and math the twin keeps with the code using it)
    root = Path(__file__).resolve().parents[2] / "engine_rs"
    core, twin = root / "crates" / "core" / "src", root / "python"

    def rust(d: Path) -> set[str]:
        return {p.stem for p in d.glob("*.rs")} - {"lib", "mod", "error", "tests"}

    def python(d: Path) -> set[str]:
        return {p.stem for p in d.glob("*.py")} - {"__init__", "_ints"}

    def folders(d: Path) -> set[str]:
        return {p.name for p in d.iterdir() if p.is_dir() and p.name != "__pycache__"}

    # the ingest's readers: the protobuf one has its twin (geyser.py); the JSON one has
    # none (the twin reads frames with the standard library's json, the reference the
    # core's reader is tested against)
    assert rust(core) | (rust(core / "ingest") - {"json"}) == python(twin)
    # the graph is a folder of parts in both (the twin's `_base.py` is its own: the
    # state its parts build on, in the core the struct of `graph/mod.rs`)
    assert folders(core) - {"ingest"} == folders(twin) == {"graph", "venues"}
    assert {p for p in python(twin / "graph") if p[0] != "_"} == rust(core / "graph")
    venues = rust(core / "venues") | folders(core / "venues")
    # the twin's shared venue modules are its own: the venue base (in the core the
    # `Venue`, `Decode` and `Curve` traits of `venues/mod.rs`), the exact-swap face and
    # the order books' ladder (in the core `openbook_v2/book.rs`, which Manifest uses)
    shared = {"base", "exact", "book"}
    assert venues == (python(twin / "venues") - shared) | folders(twin / "venues")
    assert shared <= python(twin / "venues")
    assert {"orca_whirlpool", "raydium_clmm", "meteora_dlmm", "openbook_v2"} <= venues
    for package in folders(twin / "venues"):
        assert python(twin / "venues" / package) <= rust(core / "venues" / package), package

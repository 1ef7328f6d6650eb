"""arbscope's engine: the same API twice.

``engine_rs.rust`` is the compiled extension (``engine_rs._engine``), ``engine_rs.python``
the pure-Python twin. :func:`backend` picks one: ``ARBSCOPE_ENGINE=rust|python`` forces
it; by default the extension is used when it imports, otherwise the twin, with one
warning saying why.

>>> from engine_rs import backend
>>> eng = backend()
>>> eng.cpmm_amount_out(1_000_000, 5_000_000_000, 7_000_000_000, 25, 10_000)
1396221
"""

from __future__ import annotations

import importlib
import os
import types
import warnings

__all__ = ["backend", "backend_name", "load", "EngineFallbackWarning"]

_ENV = "ARBSCOPE_ENGINE"
_cache: dict[str, types.ModuleType] = {}


class EngineFallbackWarning(RuntimeWarning):
    """The Rust extension could not be loaded and the Python twin is used instead."""


def load(name: str) -> types.ModuleType:
    """Import one backend by name (``"rust"`` or ``"python"``); ImportError if it cannot load."""
    if name not in ("rust", "python"):
        raise ValueError(f"unknown engine backend {name!r}: expected 'rust' or 'python'")
    if name not in _cache:
        _cache[name] = importlib.import_module(f"{__name__}.{name}")
    return _cache[name]


def backend() -> types.ModuleType:
    """The active backend module (Rust unless forced or unavailable)."""
    if "active" in _cache:
        return _cache["active"]
    wanted = os.environ.get(_ENV, "").strip().lower() or "auto"
    if wanted == "python":
        mod = load("python")
    elif wanted in ("rust", "auto"):
        try:
            mod = load("rust")
        except ImportError as exc:
            if wanted == "rust":
                raise
            warnings.warn(
                f"arbscope: Rust engine unavailable ({exc}); using the pure-Python twin, "
                "which is much slower. Build it with `make` or set ARBSCOPE_ENGINE=python "
                "to silence this.",
                EngineFallbackWarning,
                stacklevel=2,
            )
            mod = load("python")
    else:
        raise ValueError(f"{_ENV}={wanted!r}: expected 'rust' or 'python'")
    _cache["active"] = mod
    return mod


def backend_name() -> str:
    """``"rust"`` or ``"python"``: which backend :func:`backend` returns."""
    return str(backend().BACKEND)

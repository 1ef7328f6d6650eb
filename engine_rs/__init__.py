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

__all__ = ["backend", "backend_name", "load", "requested", "EngineFallbackWarning"]

_ENV = "ARBSCOPE_ENGINE"
ACCEPTED = ("rust", "python")  # the values ARBSCOPE_ENGINE may take (unset: automatic)
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


def requested() -> str:
    """What ``ARBSCOPE_ENGINE`` asks for: ``"rust"``, ``"python"``, or ``"auto"`` when it
    is unset or empty (Rust when the extension loads, else the twin). Any other value is a
    ValueError with a one-line message naming the accepted values: a typo must not
    silently run the slow twin."""
    raw = os.environ.get(_ENV, "")
    wanted = raw.strip().lower() or "auto"
    if wanted not in (*ACCEPTED, "auto"):
        shown = raw if len(raw) <= 40 else raw[:37] + "..."
        raise ValueError(
            f"{_ENV}={shown!r} is not an engine: use {' or '.join(ACCEPTED)} "
            "(or leave it unset: rust when built, else the Python twin)"
        )
    return wanted


def backend() -> types.ModuleType:
    """The active backend module (Rust unless forced or unavailable)."""
    if "active" in _cache:
        return _cache["active"]
    wanted = requested()
    if wanted == "python":
        mod = load("python")
    else:  # rust, or auto
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
    _cache["active"] = mod
    return mod


def backend_name() -> str:
    """``"rust"`` or ``"python"``: which backend :func:`backend` returns."""
    return str(backend().BACKEND)

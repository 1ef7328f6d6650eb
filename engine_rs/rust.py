"""The Rust backend: the compiled ``engine_rs._engine`` behind the twin's exact names.

Importing this module raises ImportError when the extension is not built. The compiled
skin is flat (its venue functions carry the venue in their names); this module exposes
its generic names as they are and builds one namespace per venue from the skin with the
venue's API table (``engine_rs.python.venues``: ``eng.raydium_clmm.swap`` is the skin's
``raydium_clmm_swap``). Every name, and every venue namespace's names, are checked
against the Python twin's so the two cannot drift.
"""

from __future__ import annotations

from typing import Any

from . import _engine, decoded
from . import python as _twin
from .python.venues import VENUES, namespace

BACKEND = "rust"

# Inputs (and the venue facts the extension builds) are shared dataclasses; every other
# public name must come from the extension.
_SHARED = {"BACKEND", "FeeContext", "ScorePolicy", "VenueInfo"}
_VENUES = {v.INFO.name for v in VENUES}
_missing = [n for n in _twin.__all__ if n not in _SHARED | _VENUES and not hasattr(_engine, n)] + [
    f"{v.INFO.name}: {n}" for v in VENUES for n in v.API.values() if not hasattr(_engine, n)
]
if _missing:
    raise ImportError(f"engine_rs._engine is out of date, missing: {', '.join(_missing)}")

# the skin's names (its build profile and native records too), its venues' flat names
# only inside their namespaces
_FLAT = {n for v in VENUES for n in v.API.values()}
_names: dict[str, Any] = {n: getattr(_engine, n) for n in _engine.__all__ if n not in _FLAT}
_names |= {n: getattr(_twin, n) for n in _SHARED - {"BACKEND"}}
_names |= {v.INFO.name: namespace(v, _engine) for v in VENUES}
globals().update(_names)
for _name in _VENUES:  # the same names in each venue's namespace as the twin's
    if _names[_name].__all__ != getattr(_twin, _name).__all__:
        raise ImportError(f"engine_rs.rust.{_name} differs from the twin's namespace")

# The native Whirlpool record is the schema's record in every way a caller sees (equal,
# hashed and pickled as it): make `isinstance(w, engine_rs.decoded.Whirlpool)` hold too.
decoded.Whirlpool.register(_engine.Whirlpool)

__all__ = list(_twin.__all__)

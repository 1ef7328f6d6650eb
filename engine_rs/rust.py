"""The Rust backend: the compiled ``engine_rs._engine`` behind the twin's exact names.

Importing this module raises ImportError when the extension is not built; the names it
exports are checked against the Python twin's ``__all__`` so the two cannot drift.
"""

from __future__ import annotations

from . import _engine, decoded
from . import python as _twin
from ._engine import *  # noqa: F403
from .records import FeeContext, ScorePolicy, VenueInfo

BACKEND = "rust"

# Inputs (and the venue facts the extension builds) are shared dataclasses; every other
# public name must come from the extension.
_SHARED = {"BACKEND", "FeeContext", "ScorePolicy", "VenueInfo"}
_missing = [n for n in _twin.__all__ if n not in _SHARED and not hasattr(_engine, n)]
if _missing:
    raise ImportError(f"engine_rs._engine is out of date, missing: {', '.join(_missing)}")

# The native Whirlpool record is the schema's record in every way a caller sees (equal,
# hashed and pickled as it): make `isinstance(w, engine_rs.decoded.Whirlpool)` hold too.
decoded.Whirlpool.register(_engine.Whirlpool)

__all__ = list(_twin.__all__)
_ = (FeeContext, ScorePolicy, VenueInfo)

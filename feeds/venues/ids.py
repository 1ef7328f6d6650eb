"""The venues' ids on the Python side, read from the engine's venue registry.

Program ids, the kind pools files use, the screen's label, the engine's curve and the
pool account's size are defined once, by each venue's module in the engine
(``engine_rs.backend().venue_infos()``, the same records in both backends). Every venue
module here (and through them the registry, the clients and the simulator) reads its
ids through :func:`ids` and from nowhere else, so a program id cannot differ between
the decoder that reads a pool and the builder that swaps in it.
"""

from __future__ import annotations

import functools

import engine_rs
from engine_rs.records import VenueInfo

__all__ = ["VenueInfo", "ids", "program", "table"]


@functools.cache
def table() -> tuple[VenueInfo, ...]:
    """Every venue the engine knows, in its registry's order."""
    return tuple(engine_rs.backend().venue_infos())


def ids(name: str) -> VenueInfo:
    """The ids of the venue called ``name`` (KeyError for a name no venue has)."""
    for v in table():
        if v.name == name:
            return v
    raise KeyError(f"no venue is called {name!r}")


def program(info: VenueInfo) -> str:
    """The program swaps go to, logs are subscribed to and the simulator runs: the
    first of the venue's ``program_ids``."""
    return info.program_ids[0]

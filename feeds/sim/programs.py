"""The simulator's registry of simulated programs: one :class:`~.venue.SimVenue` per venue
of the client registry (:data:`feeds.venues.VENUES`), in its order, from each venue
package's ``sim`` module (``feeds/venues/<venue>/sim.py``, its ``SIM``).

The simulator (the world, the chain) dispatches through this registry, never through
the client's ``Venue`` records, which know nothing of it; loading it loads every venue's
simulated program, and fails at import, naming the venue, when one has none.
"""

from __future__ import annotations

from .. import venues
from ..venues.base import ByVenue, Venue, import_part
from .venue import SimVenue

__all__ = ["SIMULATED", "by_kind", "by_program", "of"]


def _load() -> tuple[SimVenue, ...]:
    """The simulated program of every venue of the client registry, in its order."""
    out: list[SimVenue] = []
    for v in venues.VENUES:
        missing = (
            f"venue {v.name!r} has no simulated program: feeds/venues/{v.name}/sim.py "
            "does not exist (ARCHITECTURE.md, How to add a venue)"
        )
        sim: SimVenue = import_part(f"{venues.__name__}.{v.name}.sim", missing).SIM
        if sim.venue is not v:
            raise ImportError(f"feeds/venues/{v.name}/sim.py simulates {sim.venue.name!r}")
        out.append(sim)
    return tuple(out)


SIMULATED: tuple[SimVenue, ...] = _load()

_BY = ByVenue.of(SIMULATED, lambda s: s.venue)


def by_kind(kind: str) -> SimVenue:
    """The simulated program of the venue pools files call ``kind`` (KeyError otherwise)."""
    return _BY.kind(kind)


def by_program(program: str) -> SimVenue | None:
    """The simulated program of the venue whose swaps go to ``program``, or None."""
    return _BY.program(program)


def of(venue: Venue) -> SimVenue:
    """The simulated program of ``venue`` (a record of :data:`feeds.venues.VENUES`)."""
    return _BY.kinds[venue.kind]

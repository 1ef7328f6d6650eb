"""The old name of :mod:`.decode` (the twin of ``decode.rs``): a re-export kept for code
outside ``engine_rs`` that imports it — removed once nothing outside engine_rs imports it."""

from .decode import *  # noqa: F403

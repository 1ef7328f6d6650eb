"""Venues: one module per DEX program, the unit of extension (twin of
``crates/core/src/venues/mod.rs``).

A venue is modelled on Jupiter's ``jupiter-amm-interface`` ``Amm`` trait — the pool's key
(its address, which the caller tracks), its reserve mints, the accounts to follow,
``update`` from those accounts, an exact ``quote(amount, direction)`` and a spot rate —
plus what the rest of the engine needs of it: its program ids and layout (its
decoders), the identity fields of its pool account, its two vaults, the accounts of its
own it follows (a CP-Swap pool's ``AmmConfig``, a Whirlpool's tick arrays) and the swap
logs or events its program writes. :class:`Venue` is that interface; each venue is a
module implementing it (``raydium_amm_v4``, ``raydium_cpmm``, ...: the Rust module
names), or a package when it is large (``orca_whirlpool/``: the venue in its
``__init__``, its swap and PDAs beside it). What the two tick venues share is in
:mod:`.ticks`.

:data:`VENUES` lists them once, in the Rust registry's order; the feed ingest, the graph
and sizing go through a venue's functions, never through a list of kinds of their own.
Adding a venue is its module and one entry in :data:`VENUES`.

A venue's public functions are reached through its namespace, ``eng.<venue name>``
(:func:`namespace`): each venue module's :attr:`Venue.API` names them without the venue
in the name (``eng.raydium_clmm.swap``, ``eng.orca_whirlpool.decode_pool``); both
backends build that namespace from the same table, so they expose the same names.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Any

from ...errors import AccountTooShortError, DecodeError, InvalidInputError
from ...records import VenueInfo
from ..decode import b64 as decode_b64
from . import (
    manifest,
    meteora_damm_v2,
    meteora_dlmm,
    openbook_v2,
    orca_whirlpool,
    pump_amm,
    raydium_amm_v4,
    raydium_clmm,
    raydium_cpmm,
)
from .base import PROGRAM_DATA, Assembly, OwnAccount, OwnRole, Venue, no_role

# The registry: one entry per venue, in the Rust registry's order.
VENUES: tuple[Venue, ...] = (
    raydium_amm_v4,
    raydium_cpmm,
    orca_whirlpool,
    raydium_clmm,
    meteora_dlmm,
    pump_amm,
    openbook_v2,
    meteora_damm_v2,
    manifest,
)


def namespace(venue: Venue, source: object = None) -> types.ModuleType:
    """The venue's public namespace, ``eng.<venue name>``: every name of its
    :attr:`Venue.API`, taken from ``source`` by the definition's name (the compiled
    skin, for the Rust backend) or, by default, from the venue module itself."""
    ns = types.ModuleType(venue.INFO.name, f"The public API of the {venue.INFO.name} venue.")
    where = venue if source is None else source
    for public, defined in venue.API.items():
        setattr(ns, public, getattr(where, defined))
    setattr(ns, "__all__", sorted(venue.API))  # noqa: B010 (mypy: ModuleType has no __all__)
    return ns


def venue_infos() -> list[VenueInfo]:
    """Every venue's static facts, in registry order."""
    return [v.INFO for v in VENUES]


def kinds() -> tuple[str, ...]:
    """The universe kinds of every venue (amm_v4, cpmm, whirlpool, dlmm), in registry order."""
    return tuple(v.INFO.kind for v in VENUES)


def by_kind(kind: object) -> Venue:
    """The venue whose universe kind is ``kind`` (InvalidInputError naming the kinds)."""
    for v in VENUES:
        if v.INFO.kind == kind:
            return v
    raise InvalidInputError(f"pool kind {kind!r} is not one of {kinds()}")


def by_name(name: str) -> Venue:
    """The venue whose module name is ``name`` (KeyError otherwise)."""
    for v in VENUES:
        if v.INFO.name == name:
            return v
    raise KeyError(name)


def _discriminated(raw: bytes) -> None:
    if len(raw) < 8:
        raise AccountTooShortError(f"program data: {len(raw)} bytes, no discriminator")


def parse_event_of(venue: Venue, raw: bytes) -> Any:
    """The event of ``Program data:`` bytes (discriminator first) that ``venue``'s program
    wrote; None for a discriminator it does not know. Anchor discriminators are hashes
    of type names, the same in every program (CP-Swap's and Raydium CLMM's
    ``SwapEvent``, Jupiter's), so bytes are only ever decoded by the program that
    emitted them."""
    _discriminated(raw)
    return venue.parse_event(raw)


def by_program(program: str) -> Venue | None:
    """The venue one of whose program ids is ``program`` (None: not one of ours)."""
    for v in VENUES:
        if program in v.INFO.program_ids:
            return v
    return None


def parse_program_data(b64: str, program: str) -> Any:
    """An Anchor event of a ``Program data: <b64>`` line (spec §6.2) that ``program``
    wrote: Whirlpool ``Traded`` or Raydium CP-Swap ``SwapEvent``...; None when it is not
    one of our venues' programs or the discriminator is not one of its events."""
    raw = decode_b64(b64, "program data")
    venue = by_program(program)
    if venue is None:
        _discriminated(raw)
        return None
    return parse_event_of(venue, raw)


class LogScan:
    """The logs of one transaction read in order: which program each line belongs to
    (the innermost ``Program <id> invoke [n]`` not yet closed by its ``success`` /
    ``failed``), and the swap a line of one of our venues' programs carries (a
    ``ray_log``, an Anchor swap event). A line is decoded only by the program that
    wrote it: a Jupiter ``SwapEvent`` (CP-Swap's discriminator) is nobody's swap here."""

    __slots__ = ("stack",)

    def __init__(self) -> None:
        self.stack: list[Venue | None] = []

    def current(self) -> Venue | None:
        return self.stack[-1] if self.stack else None

    def line(self, line: str) -> Any:
        """The swap event of ``line`` when it is one of the venue whose program wrote
        it (DecodeError for bad bytes of its own), else None."""
        if not line.startswith("Program "):
            return None
        if line.startswith(PROGRAM_DATA):
            venue = self.current()
            if venue is None:
                return None
            return parse_event_of(venue, decode_b64(line[len(PROGRAM_DATA) :], "program data"))
        rest = line[len("Program ") :]
        if rest.startswith("log: "):
            venue = self.current()
            prefix = None if venue is None else venue.LOG_PREFIX
            if venue is None or prefix is None or not line.startswith(prefix):
                return None
            return venue.parse_log(decode_b64(line[len(prefix) :], "log"))
        space = rest.find(" ")
        if space < 0:
            return None
        tail = rest[space + 1 :]
        if tail.startswith("invoke ["):
            self.stack.append(by_program(rest[:space]))
        elif tail == "success" or tail.startswith("failed"):
            if self.stack:
                self.stack.pop()
        return None

    def is_swap(self, line: str) -> bool:
        """Whether a line is a swap of the program that wrote it (a bad one is none)."""
        try:
            return self.line(line) is not None
        except DecodeError:
            return False


def parse_logs(logs: list[str]) -> list[tuple[str, Any]]:
    """Every swap in one transaction's log lines as ``(venue name, event)``, each
    decoded by the program whose frame the line is in (:class:`LogScan`); lines that
    fail to decode are skipped."""
    scan = LogScan()
    out = []
    for line in logs:
        try:
            ev = scan.line(line)
        except DecodeError:
            continue
        if ev is not None:
            venue = scan.current()
            assert venue is not None
            out.append((venue.INFO.name, ev))
    return out


__all__: Sequence[str] = (
    "VENUES",
    "PROGRAM_DATA",
    "no_role",
    "Assembly",
    "OwnAccount",
    "OwnRole",
    "Venue",
    "LogScan",
    "by_kind",
    "by_name",
    "by_program",
    "kinds",
    "manifest",
    "meteora_dlmm",
    "namespace",
    "openbook_v2",
    "orca_whirlpool",
    "parse_event_of",
    "parse_logs",
    "parse_program_data",
    "pump_amm",
    "raydium_amm_v4",
    "raydium_clmm",
    "raydium_cpmm",
    "venue_infos",
)

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
from dataclasses import dataclass
from typing import Any, Protocol

from ...errors import AccountTooShortError, DecodeError, InvalidInputError
from ...records import VenueInfo
from .._ints import u64
from ..decode import b64 as decode_b64

PROGRAM_DATA = "Program data: "  # the prefix of Anchor event lines


@dataclass(frozen=True, slots=True)
class OwnRole:
    """An account a venue follows for a pool besides the pool account and its two
    vaults: ``name`` is its role (``config``, ``tick_array``); ``from_pool``: the pool
    account names it (followed as the pool says), else the caller tracks it."""

    name: str
    from_pool: bool


@dataclass(frozen=True, slots=True)
class OwnAccount:
    """One of a venue's own accounts as the feed ingest hands it over: its address, the
    pool it serves, its bytes and owner program (None: not checked) and its copy's slot."""

    pubkey: str
    pool_id: str
    data: bytes
    owner: object
    slot: int | None = None  # this copy's (None: a bad slot argument, or only checked)


class Assembly:
    """What a venue's ``update`` assembles its quote state with: the pool's id and mints,
    its vault balances (base units, None until seen), and the slot to upsert at, checked
    when asked for (after everything else the venue needs, as the graph's upsert would)."""

    __slots__ = ("_slot", "mints", "pool_id", "vaults")

    def __init__(
        self,
        pool_id: str,
        mints: tuple[str, str],
        vaults: tuple[int | None, int | None],
        slot: object,
    ) -> None:
        self.pool_id = pool_id
        self.mints = mints
        self.vaults = vaults
        self._slot = slot

    def slot(self) -> int:
        """The slot of the upsert (TypeError / MathOverflowError for a bad argument)."""
        return u64(self._slot)

    def check_ids(self) -> None:
        """The graph's id checks on an assembled pool: its address passed ``track_pool``
        and its mints are base58 of 32 bytes, so only two equal mints can fail."""
        if self.mints[0] == self.mints[1]:
            raise InvalidInputError(f"pool {self.pool_id}: mint_a == mint_b")


class Venue(Protocol):
    """One DEX program (see the module docstring): a module with these members."""

    INFO: VenueInfo  # names, program ids, pool account size
    OWN_ROLES: tuple[OwnRole, ...]  # its own accounts besides the pool and its vaults
    LOG_PREFIX: str | None  # the prefix of a `Program log:` line carrying its swap
    # the own role of its arrays, which the caller follows around the price
    # (``FeedIngest.track_array``: tick arrays, bin arrays); None for a venue without
    ARRAYS: str | None
    # its public namespace (``eng.<INFO.name>``): each public name and the name of its
    # definition in this module, which is also the compiled skin's flat name for it
    API: dict[str, str]

    def decode(self, data: bytes, owner: object = None) -> Any:
        """Its pool account from its bytes (``owner``, when given, must be one of its
        program ids)."""

    def identity(self, rec: Any) -> tuple[Any, ...]:
        """The fields that never change through a notification (mints, vaults,
        programs, status, decimals...): two records are the same pool when equal."""

    def reserve_mints(self, rec: Any) -> tuple[str, str]:
        """The two mints it trades, (a, b), in the order its quotes call a and b."""

    def vaults(self, rec: Any) -> tuple[str, str]:
        """The token accounts holding mint a and mint b."""

    def followed(self, rec: Any) -> tuple[tuple[str, str], ...]:
        """Own accounts the pool account names, as (role, address)."""

    def new_own(self) -> Any:
        """What the ingest keeps of a pool's own accounts, before any is seen."""

    def own_account(self, own: Any, role: str, cx: OwnAccount) -> None:
        """Decode one of its own accounts in ``role`` and keep what quoting needs."""

    def forget(self, own: Any, pubkey: str) -> bool:
        """Drop what it kept of the :attr:`ARRAYS` account ``pubkey`` (no longer
        tracked); True when something was dropped."""

    def absent(self, own: Any, pubkey: str) -> bool:
        """The :attr:`ARRAYS` account ``pubkey`` does not exist on chain now (a copy owned
        by the system program with no data): what it kept of it becomes what the
        program reads of an absent array (a Whirlpool: a zeroed one; the others: none,
        as :meth:`forget`); True when something changed."""

    def check_own_account(self, role: str, cx: OwnAccount) -> None:
        """The checks of :meth:`own_account` without keeping anything."""

    def update(self, own: Any, rec: Any, cx: Assembly) -> tuple[Any, int] | None:
        """Its quote state and the slot to upsert it at, from the pool account, its own
        accounts and its vaults; None while something is missing."""

    def quote(self, state: Any, amount: int, a_to_b: bool) -> int | None:
        """Exact output (base units) for ``amount`` in (a into b when ``a_to_b``); 0 for
        0; None when the swap cannot be done in full."""

    def spot_rate(self, state: Any, a_to_b: bool) -> float:
        """Output per input after the fee at zero size (Rust's float operations)."""

    def leg(self, state: Any, a_to_b: bool) -> Any:
        """The pool as a sizing hop (``spot_rate()``, ``amount_out(x)``,
        ``constant_product()``), traversed a -> b (``a_to_b``) or b -> a."""

    def parse_event(self, raw: bytes) -> Any:
        """The event of ``Program data:`` bytes when the discriminator is its own, else
        None (a bad event of its own raises DecodeError)."""

    def parse_log(self, raw: bytes) -> Any:
        """The swap in the bytes of a :attr:`LOG_PREFIX` line (None: another log type)."""


def no_role(info: VenueInfo, role: str) -> InvalidInputError:
    """The error of an account role a venue does not have."""
    return InvalidInputError(f"{info.name} has no account role {role!r}")


# the venue modules use the types above
from . import (  # noqa: E402
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

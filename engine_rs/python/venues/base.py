"""The base of every venue module (twin of the ``Venue`` trait in
``crates/core/src/venues/mod.rs``): the interface a venue implements and the values the
feed ingest hands it. Kept apart from the registry in ``__init__`` so that a venue
module imports its base without importing every other venue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from ...errors import AccountTooShortError, DecodeError, InvalidInputError
from ...records import VenueInfo
from .._ints import u64
from ..decode import SYSVAR_CLOCK, Reader

PROGRAM_DATA = "Program data: "  # the prefix of Anchor event lines
CLOCK = "clock"  # the role of the Clock sysvar, for a venue that follows it


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


Fields = Callable[[Any], tuple[Any, ...]]
Pair = Callable[[Any], tuple[str, str]]


def pool_fields(table: str) -> tuple[Fields, Pair, Pair]:
    """A venue's :meth:`Venue.identity`, :meth:`Venue.reserve_mints` and
    :meth:`Venue.vaults` from the table of its pool account's identity fields: a line a
    field, in identity order, then its role when it is one of the mints or vaults
    (``mint_a``, ``mint_b``, ``vault_a``, ``vault_b``)."""
    rows = [line.split() for line in table.splitlines() if line.strip()]
    role = {row[1]: row[0] for row in rows if len(row) == 2}
    return (
        attrgetter(*(row[0] for row in rows)),
        attrgetter(role["mint_a"], role["mint_b"]),
        attrgetter(role["vault_a"], role["vault_b"]),
    )


def api(table: str) -> dict[str, str]:
    """A venue's :attr:`Venue.API` from its table: a line a public name, then the name
    of its definition in the module when that is another."""
    rows = (line.split() for line in table.splitlines())
    return {row[0]: row[-1] for row in rows if row}


def own_roles(arrays: str | None, *roles: str) -> tuple[OwnRole, ...]:
    """A venue's :attr:`Venue.OWN_ROLES`: each of ``roles`` is named by the pool account,
    but its :attr:`Venue.ARRAYS`, which the caller tracks."""
    return tuple(OwnRole(role, role != arrays) for role in roles)


def event_reader(raw: bytes, disc: bytes, name: str, size: int) -> Reader | None:
    """The reader of the Anchor event ``name`` when ``raw`` starts with its
    discriminator ``disc`` (None: another one); AccountTooShortError when ``raw`` is
    shorter than its ``size``."""
    if raw[:8] != disc:
        return None
    if len(raw) < size:
        raise AccountTooShortError(f"{name}: {len(raw)} bytes, needs {size}")
    return Reader(raw, "event")


def belongs(what: str, pool_id: str, cx: OwnAccount) -> None:
    """An own account naming the pool it belongs to (``pool_id``) is the pool's
    (DecodeError naming ``what`` otherwise)."""
    if pool_id != cx.pool_id:
        raise DecodeError(f"{what} {cx.pubkey} belongs to {pool_id}, not {cx.pool_id}")


Own = TypeVar("Own")


def checks_of(
    new_own: Callable[[], Own], own_account: Callable[[Own, str, OwnAccount], None]
) -> Callable[[str, OwnAccount], None]:
    """:meth:`Venue.check_own_account` of a venue whose ``own_account`` only decodes and
    keeps: it, on a fresh keep thrown away."""

    def check_own_account(role: str, cx: OwnAccount) -> None:
        own_account(new_own(), role, cx)

    return check_own_account


def no_role(info: VenueInfo, role: str) -> InvalidInputError:
    """The error of an account role a venue does not have."""
    return InvalidInputError(f"{info.name} has no account role {role!r}")


# ------------------------------------------------------------------ defaults
# A venue module binds these where it has nothing of its own (``parse_log = no_log``),
# as jupiter-amm-interface's ``Amm`` trait gives default methods.
def no_log(raw: bytes) -> None:
    """:meth:`Venue.parse_log` of a venue whose swaps are not in ``Program log:`` lines
    (Anchor events, :meth:`Venue.parse_event`; or not logged)."""
    return None


def clock_only(rec: object) -> tuple[tuple[str, str], ...]:
    """:meth:`Venue.followed` of a venue whose pool account names none of its own
    accounts and which follows the Clock sysvar."""
    return ((CLOCK, SYSVAR_CLOCK),)


def no_arrays(own: object, pubkey: str) -> bool:
    """:meth:`Venue.forget` and :meth:`Venue.absent` of a venue without :attr:`Venue.ARRAYS`:
    the caller tracks nothing of it (never called)."""
    return False

"""What a venue is on the client side: :class:`Venue`, the parts each venue package
fills in.

A venue (one DEX program) brings, in its own package (``feeds/venues/<venue>/``): its ids
(:mod:`.ids`), the swap instruction's layout, builder and decoder, the program's error
names, the accounts a swap needs, its pool's layout for discovery. The registry
(``feeds.venues``) lists one :class:`Venue` per package; everything else dispatches
through it. Its simulated program (the checks and error codes of a swap, how the
simulated market creates and trades its pools) is the package's ``sim`` module, a
:class:`feeds.sim.venue.SimVenue` that only the simulator loads (``feeds.sim.programs``):
nothing here needs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..wire.instructions import SPL_TOKEN, ata_address
from .ids import VenueInfo, program

if TYPE_CHECKING:
    from solders.instruction import Instruction

    from ..wire.instructions import Swap


class _Ends:
    """A swap's two ends as its builders take them (:class:`Leg`, :class:`Sizing`)."""

    __slots__ = ()
    source: str
    dest: str
    mint_in: str
    mint_out: str

    @property
    def users(self) -> tuple[str, str]:
        """The user's token accounts, source then destination."""
        return self.source, self.dest

    @property
    def mints(self) -> tuple[str, str]:
        """The mints, in then out."""
        return self.mint_in, self.mint_out


@dataclass(frozen=True, slots=True)
class Leg(_Ends):
    """One hop of a cycle as its swap instruction needs it: exact input ``amount_in`` of
    ``mint_in`` from ``owner``'s token account ``source``, for at least ``minimum_out``
    of ``mint_out`` into ``dest``.

    ``record`` is the pool account decoded by the venue's :attr:`Venue.decode_pool`, as
    fresh as the venue asks (:attr:`Venue.fresh_state`); ``token_programs`` maps each
    mint of the pool to the program that owns it."""

    pool: str
    record: Any
    owner: str
    mint_in: str
    mint_out: str
    source: str
    dest: str
    amount_in: int
    minimum_out: int
    token_programs: Mapping[str, str]

    @property
    def amounts(self) -> tuple[int, int]:
        """The exact input and the minimum output."""
        return self.amount_in, self.minimum_out

    @property
    def programs(self) -> tuple[str, str]:
        """The token programs of the mints, in then out."""
        return self.token_programs[self.mint_in], self.token_programs[self.mint_out]

    @classmethod
    def of_atas(
        cls,
        pool: str,
        record: Any,
        owner: str,
        mints: tuple[str, str],
        amount_in: int,
        minimum_out: int,
        token_programs: Mapping[str, str],
    ) -> Leg:
        """The hop of ``owner``'s associated token accounts of ``mints`` (in, out)."""
        mint_in, mint_out = mints
        source = ata_address(owner, mint_in, token_programs[mint_in])
        dest = ata_address(owner, mint_out, token_programs[mint_out])
        return cls(
            pool, record, owner, *mints, source, dest, amount_in, minimum_out, token_programs
        )


@dataclass(frozen=True, slots=True)
class ComputeUnits:
    """What one swap of a venue costs in compute units, modelled on its program's
    measured use (the real binary in LiteSVM: ``tests/judge/``): ``base`` for a swap
    that crosses nothing, ``per_step`` more for each step it crosses (a tick array, an
    initialized tick, a bin, a book level: the venue says which), at most ``max_steps``
    as the venue builds its instruction (the arrays it names). A live order requests
    :meth:`limit` for each hop and the scorer prices that same limit; the simulator
    charges :meth:`use`."""

    base: int
    per_step: int = 0
    max_steps: int = 0
    margin: float = 0.0  # requested above the estimate, as a fraction of it

    def use(self, steps: int) -> int:
        """The units a swap crossing ``steps`` steps uses."""
        return self.base + self.per_step * max(0, min(steps, self.max_steps))

    def limit(self, steps: int | None = None) -> int:
        """The units a hop requests: its use at ``steps`` (None: the most it can cross),
        with the margin."""
        use = self.use(self.max_steps if steps is None else steps)
        return -(-use * round(self.margin * 10_000 + 10_000) // 10_000)


@dataclass(frozen=True, slots=True)
class PoolLayout:
    """Where a venue's pool account keeps its mints, and the filter that says "a pool"
    (``getProgramAccounts``): a ``dataSize`` (no discriminator) or the Anchor
    discriminator at offset 0 (an account may be allocated larger than its struct);
    ``ordered``: the program keeps ``mint_a < mint_b`` in byte order."""

    mint_a: int
    mint_b: int
    data_size: int | None = None
    discriminator: bytes | None = None
    ordered: bool = False


@dataclass(frozen=True, slots=True)
class PoolFacts:
    """What discovery reads of a decoded pool account: its mints and vaults in the
    pool's order, its fee as a fraction (0 until its config says), its decimals where
    the pool account keeps them (else the mints are read)."""

    mint_a: str
    mint_b: str
    vault_a: str
    vault_b: str
    fee: float = 0.0
    decimals_a: int | None = None
    decimals_b: int | None = None


@dataclass(frozen=True, slots=True)
class Discoverable:
    """A venue's part in ``arbscope pools discover`` (:mod:`feeds.discover`): its
    ``title`` (``Raydium AMM v4``), pool ``layout``, ``read(record)`` the facts of a
    decoded pool; ``config(record)`` an account holding its fee and
    ``fee_of_config(engine, data, owner)`` that fee (CP-Swap's ``AmmConfig``);
    ``reserves(record, vault a, vault b)`` what its curve trades on (the vaults less
    what it owes elsewhere; None: the vaults); ``price(record)`` the price of a base
    unit of a in base units of b where the pool account says it (a Whirlpool's sqrt
    price; None: from the reserves)."""

    title: str
    layout: PoolLayout
    read: Callable[[Any], PoolFacts]
    config: Callable[[Any], str] | None = None
    fee_of_config: Callable[[Any, bytes, str], float] | None = None
    reserves: Callable[[Any, int, int], tuple[int, int]] | None = None
    price: Callable[[Any], float | None] | None = None


@dataclass(frozen=True, slots=True)
class Sizing(_Ends):
    """A swap on placeholder keys, the shape transaction sizing counts: ``keys``, 8
    distinct keys for the pool's own accounts; ``programs``, the token programs of
    mint_in and mint_out (which pick a venue's Token-2022 instruction)."""

    payer: str
    keys: Sequence[str]
    source: str
    dest: str
    mint_in: str
    mint_out: str
    programs: tuple[str, str]


@dataclass(frozen=True, slots=True)
class Swaps:
    """A venue's swap instruction: ``build(leg)`` the exact-input swap of one hop;
    ``sizing`` the same swap on placeholder keys (:class:`Sizing`), which transaction
    sizing counts; ``decode(data, accounts)`` the swap instruction back as a
    :class:`~feeds.wire.instructions.Swap`."""

    build: Callable[[Leg], Instruction]
    sizing: Callable[[Sizing], Instruction]
    decode: Callable[[bytes, list[str]], Swap]


@dataclass(frozen=True, slots=True)
class Fresh:
    """A venue whose swap names accounts that depend on the pool's state now (Whirlpool:
    the tick arrays around the current tick), so an order reads the pool again before
    building.

    ``key(record, mint_in)``, of a venue whose swap data holds its two amounts:
    everything of the pool's state its swap is built from besides them (two swaps
    through one pool, one way, built from states of equal keys differ in their amounts
    alone), so the live fast path reuses the swap built at a state for every state of
    its key (``arbscope.execution.build.swap_template``); None: built from the state
    each time. ``follow(engine, pool, record, each side)``: the accounts around the
    pool's state a session follows, with their start indices; ``absent(start, pool)``:
    what such an account nobody created reads as (None: the program skips it)."""

    key: Callable[[Any, str], Hashable] | None = None
    follow: Callable[[Any, str, Any, int], list[tuple[str, int]]] | None = None
    absent: Callable[[int, str], tuple[str, bytes] | None] | None = None


@dataclass(frozen=True, slots=True)
class Venue:
    """One DEX program on the Python side (see the module docstring).

    ``decode_pool(engine backend, data, owner)``: the pool account as the engine
    decodes it; ``swaps``: its swap instruction (:class:`Swaps`: builder, sizing shape,
    decoder); ``errors``: the program's error names by custom code; ``slippage_error``:
    the code of "less out than the minimum"; ``compute_units``: its swap's compute units
    (:class:`ComputeUnits`: what a live order requests per hop and the scorer prices);
    ``anchor``: an Anchor program (its own codes start at 6000: a small custom code
    comes from the token program it called); ``fresh``: the accounts a swap names depend
    on the pool's state now (:class:`Fresh`; None: they do not).
    """

    ids: VenueInfo
    decode_pool: Callable[[Any, bytes, str], Any]
    swaps: Swaps
    errors: Mapping[int, str]
    slippage_error: int
    compute_units: ComputeUnits
    discovery: Discoverable | None = None  # None: ``pools discover`` passes over it
    anchor: bool = True
    fresh: Fresh | None = None
    # a hop buying the pool's mint a gets exactly its minimum or fails (an order book's
    # fill-or-kill taker: no minimum output, so the minimum is the lots it buys): the
    # live executor sets that hop's minimum to its quote, and paper holds it to that
    exact_buy: bool = False
    # what one of its swap events (a record the engine parsed) says a user paid and got:
    # ``(pool, amount in, amount out)``, or None for another event (the rival classifier,
    # ``feeds.rivals``); None: the classifier's own reading of the older venues' events
    read_event: Callable[[Any], tuple[str | None, int, int] | None] | None = None

    @property
    def swap_instruction(self) -> Callable[[Leg], Instruction]:
        """The exact-input swap of one hop (:attr:`Swaps.build`)."""
        return self.swaps.build

    def sizing_swap(
        self,
        payer: str,
        keys: Sequence[str],
        source: str,
        dest: str,
        mint_in: str,
        mint_out: str,
        programs: tuple[str, str] = (SPL_TOKEN, SPL_TOKEN),
    ) -> Instruction:
        """The swap on placeholder keys (:attr:`Swaps.sizing`, :class:`Sizing`)."""
        return self.swaps.sizing(Sizing(payer, keys, source, dest, mint_in, mint_out, programs))

    @property
    def decode_swap(self) -> Callable[[bytes, list[str]], Swap]:
        """The swap instruction back as a record (:attr:`Swaps.decode`)."""
        return self.swaps.decode

    @property
    def fresh_state(self) -> bool:
        """An order reads the pool again before building (:class:`Fresh`)."""
        return self.fresh is not None

    @property
    def swap_key(self) -> Callable[[Any, str], Hashable] | None:
        """:attr:`Fresh.key` (None: not a fresh-state venue, or built each time)."""
        return None if self.fresh is None else self.fresh.key

    @property
    def follow(self) -> Callable[[Any, str, Any, int], list[tuple[str, int]]] | None:
        """:attr:`Fresh.follow` (None: nothing followed)."""
        return None if self.fresh is None else self.fresh.follow

    @property
    def absent(self) -> Callable[[int, str], tuple[str, bytes] | None] | None:
        """:attr:`Fresh.absent` (None: nothing followed)."""
        return None if self.fresh is None else self.fresh.absent

    @property
    def name(self) -> str:
        """The engine's venue name (and its package's)."""
        return self.ids.name

    @property
    def kind(self) -> str:
        """What pool-universe files call this venue."""
        return self.ids.kind

    @property
    def label(self) -> str:
        """The screen's short tag (``v4``, ``cp``, ``wp``)."""
        return self.ids.label

    @property
    def program(self) -> str:
        """The program swaps go to, logs are subscribed to and the simulator runs."""
        return program(self.ids)

    def error_name(self, code: int) -> str | None:
        """The program's name for custom error ``code`` (None: not one of its own)."""
        return self.errors.get(code)


R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class ByVenue(Generic[R]):
    """Records of the venues (their client side, their simulated programs), by the kind
    pools files call the venue (``kinds``) and by the program its swaps go to
    (``programs``)."""

    kinds: Mapping[str, R]
    programs: Mapping[str, R]

    @classmethod
    def of(cls, records: Sequence[R], venue: Callable[[R], Venue]) -> ByVenue[R]:
        """``records`` by their ``venue``'s kind and program."""
        kinds = {venue(r).kind: r for r in records}
        return cls(kinds, {venue(r).program: r for r in records})

    def kind(self, kind: str) -> R:
        """The record of the venue pools files call ``kind`` (KeyError naming the known
        kinds otherwise)."""
        try:
            return self.kinds[kind]
        except KeyError:
            raise KeyError(f"{kind!r} is not a venue kind ({', '.join(self.kinds)})") from None

    def program(self, program: str) -> R | None:
        """The record of the venue whose swaps go to ``program``, or None."""
        return self.programs.get(program)


def import_part(name: str, missing: str) -> ModuleType:
    """The venue's module ``name``; ``ImportError(missing)`` when it does not exist (an
    import that fails inside it stands as it is)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise ImportError(missing) from None

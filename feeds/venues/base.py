"""What a venue is on the Python side: :class:`Venue`, the parts each venue module
fills in, and the vocabulary its simulated program fails with.

A venue (one DEX program) brings, in its own module: its ids (:mod:`.ids`), the swap
instruction's layout, builder and decoder, the program's error names, the accounts a
swap needs, and for the simulator its account layouts, its program (the checks and
error codes of a swap; the runtime in ``feeds.sim.chain`` does the rest) and how the
simulated market creates and trades one of its pools. The registry
(``feeds.venues``) lists one :class:`Venue` per module; everything else dispatches
through it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .ids import VenueInfo, program

if TYPE_CHECKING:
    from solders.instruction import Instruction

    from engine_rs.decoded import TokenAccount

    from ..sim import synthetic
    from ..sim.state import Pool
    from ..sim.world import SwapQuote, World
    from ..wire.instructions import Swap

# Anchor's own constraint errors (anchor-lang ErrorCode): what an Anchor program
# (CP-Swap, Whirlpool) answers when an account is not the one its constraints name
ANCHOR_CONSTRAINT_SEEDS = 2006
ANCHOR_CONSTRAINT_ADDRESS = 2012


class ProgramError(Exception):
    """A simulated program failing with its own custom error ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(f"custom program error: 0x{code:x}")
        self.code = code


class InstructionFailed(Exception):
    """A simulated program failing with a runtime error: ``detail`` is the node's
    ``InstructionError`` name (``InvalidArgument``, ...), the message its log line."""

    def __init__(self, detail: str, message: str) -> None:
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Leg:
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


@dataclass(frozen=True, slots=True)
class ComputeUnits:
    """What one swap of a venue costs in compute units, modelled on its program's
    measured use (the real binary in LiteSVM: ``tests/programs/``): ``base`` for a swap
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
class SimVenue:
    """A venue's part of the simulator.

    The program: ``check(world, swap, pool, source, dest)`` validates a decoded swap's
    accounts against the pool and returns its direction (``a_to_b``), raising
    :class:`ProgramError` / :class:`InstructionFailed` as the program would;
    ``quote_error(engine error text)`` and ``no_output_error`` are its codes when the
    curve refuses the trade or would give nothing; ``cost(pool after, tick before)``
    the compute units a swap takes in the simulator's fixed model; ``instruction_name``
    the name its log line gives.

    The market: ``setup(world)`` creates what the venue's pools share (returned, kept by
    the world under the venue's name), ``takes(spec)`` says whether a synthetic pool
    becomes one of this venue's, ``create(world, index, spec)`` writes its accounts and
    returns the :class:`~feeds.sim.state.Pool`, ``swapped(world, pool, a_to_b, paid_in,
    out)`` updates what the venue keeps in the pool account after a trade and returns
    the trade's log line; ``state_in_pool_account``: a trade rewrites the pool account
    (its notification goes out before the vaults'); ``rent``: lamports of the venue's
    accounts by size in bytes. ``record_swap``, ``event``, ``token_instruction`` and
    ``log_after_transfers`` give what mainnet's stream adds (see the fields).
    """

    check: Callable[[World, Swap, Pool, TokenAccount, TokenAccount], bool]
    quote_error: Callable[[str], int]
    no_output_error: int
    cost: Callable[[Pool, int], int]
    instruction_name: str
    setup: Callable[[World], Any]
    takes: Callable[[synthetic.PoolSpec], bool]
    create: Callable[[World, int, synthetic.PoolSpec], Pool]
    swapped: Callable[[World, Pool, bool, int, int], str]
    state_in_pool_account: bool
    rent: Mapping[int, int]
    # what the program writes on every swap beyond the price (its pool account and its
    # own others; returns the input it keeps outside the reserves: fees; called before
    # the vaults move), the event it logs (``Program data:``; lines apart by newlines
    # when it logs several); for ``WorldConfig.full_logs``, the SPL Token instruction its
    # transfers use, whether its own line follows them
    record_swap: Callable[[World, Pool, bool, int, int], int] | None = None
    event: Callable[[World, Pool, bool, int, int, tuple[int, int, int]], str] | None = None
    token_instruction: str = "Transfer"
    log_after_transfers: bool = False
    # what a swap refused by its slippage check logs before it fails (not Anchor's)
    slippage_lines: Callable[[World, Pool, bool, int, int], tuple[str, ...]] | None = None
    # the market's math for a venue whose pools are not the spec's constant-product
    # reserves or Whirlpool ticks (None: those, by ``spec.kind``): what an exact-in swap
    # would do (may raise the engine's ``EngineError``, which the runtime maps with
    # ``quote_error``), the pool's state after one (``kept``: the input ``record_swap``
    # keeps outside the reserves), its price (units of b per unit of a) and the depth of
    # its input side (trade sizes)
    quote: Callable[[World, Pool, bool, int], SwapQuote | None] | None = None
    apply: Callable[[World, Pool, bool, SwapQuote, int], None] | None = None
    price: Callable[[Pool], float] | None = None
    depth: Callable[[Pool, bool], float] | None = None
    # the share of the synthetic market's pools of kind ``from_kind`` (``cpmm`` /
    # ``clmm``) the world gives this venue (``synthetic.assign_venues``, ``spec.venue``)
    share: float = 0.0
    from_kind: str = ""
    # a program whose instruction says more than an exact-in amount (an order book's
    # taker order, ``Swap.order``): what it does with the decoded instruction (the
    # runtime commits the quote; ``ProgramError`` for its refusals); None: the runtime
    # quotes ``amount_in`` through ``quote`` or the spec's curve
    take: Callable[[World, Pool, Swap, bool], SwapQuote] | None = None
    # called once a slot, after the prices move and before the traders (an order book's
    # makers quoting around the fair price, its cranker): draws from the venue's own
    # generator, so the market's draws stay as they were
    on_slot: Callable[[World], None] | None = None
    # the venue's pools are added beside ``share`` of the synthetic pools (their pair and
    # price, ``synthetic.add_beside``) instead of taking them over
    beside: bool = False
    # a swap through a mint with a transfer hook, the hook's accounts not passed: the
    # custom code its token transfer fails with once the program's own checks passed
    # (CP-Swap calls Token-2022's ``transfer_checked`` as is:
    # ``feeds.sim.token.TRANSFER_HOOK_INCORRECT_ACCOUNT``); None: the runtime refuses
    # it with ``MissingAccount`` before the program runs
    hook_error: int | None = None
    # the code the program fails with when the output mint's transfer fee leaves nothing
    # for the user (CP-Swap: ``require_gt!(amount_received, 0)``, 2505); None: it pays
    # the nothing and succeeds, or its quote refuses already (a DLMM pair's)
    nothing_received_error: int | None = None
    # the simulator's own state of a pool (its record, its spec's reserves or price and
    # ticks, the venue's state such as a pair's bins, ``fees_a``/``fees_b``) read back
    # from its accounts' bytes in the world: called after the real programs (``arbscope
    # sim --programs``) wrote them, so the market's own trades go on from what they left
    load: Callable[[World, Pool], None] | None = None


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
class Venue:
    """One DEX program on the Python side (see the module docstring).

    ``decode_pool(engine backend, data, owner)``: the pool account as the engine
    decodes it; ``swap_instruction(leg)``: the exact-input swap of one hop;
    ``sizing_swap(payer, pool_keys, source, dest, mint_in, mint_out, programs)``: the
    same swap on placeholder keys (``pool_keys``: 8 distinct keys for the pool's own
    accounts; ``programs``: the token programs of mint_in and mint_out, which pick a
    venue's Token-2022 instruction), which transaction sizing counts;
    ``decode_swap(data, accounts)``: the swap instruction back as a
    :class:`~feeds.wire.instructions.Swap`; ``errors``: the program's error names by
    custom code; ``slippage_error``: the code of "less out than the minimum";
    ``compute_units``: its swap's compute units (:class:`ComputeUnits`: what a live
    order requests per hop and the scorer prices); ``fresh_state``: the accounts a swap
    names depend on the pool's state now (Whirlpool: the tick arrays around the current
    tick), so an order reads the pool again before building; ``anchor``: an Anchor
    program (its own codes start at 6000: a small custom code comes from the token
    program it called).
    """

    ids: VenueInfo
    decode_pool: Callable[[Any, bytes, str], Any]
    swap_instruction: Callable[[Leg], Instruction]
    sizing_swap: Callable[..., Instruction]
    decode_swap: Callable[[bytes, list[str]], Swap]
    errors: Mapping[int, str]
    slippage_error: int
    compute_units: ComputeUnits
    fresh_state: bool
    anchor: bool
    sim: SimVenue
    follow: Callable[[Any, str, Any, int], list[tuple[str, int]]] | None = None
    absent: Callable[[int, str], tuple[str, bytes] | None] | None = None
    discovery: Discoverable | None = None  # None: ``pools discover`` passes over it
    # a hop buying the pool's mint a gets exactly its minimum or fails (an order book's
    # fill-or-kill taker: no minimum output, so the minimum is the lots it buys): the
    # live executor sets that hop's minimum to its quote, and paper holds it to that
    exact_buy: bool = False

    @property
    def name(self) -> str:
        """The engine's venue name (and the module's)."""
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

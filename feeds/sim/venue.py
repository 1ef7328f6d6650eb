"""What a venue's simulated program is: :class:`SimVenue`, the part each venue's ``sim``
module (``feeds/venues/<venue>/sim.py``) fills in, and the vocabulary a simulated program
fails with (:class:`ProgramError`, :class:`InstructionFailed`, Anchor's constraint codes).

The client side of a venue (``feeds.venues``: ids, layouts, instructions, discovery) knows
nothing of this module; the simulator's registry (:mod:`feeds.sim.programs`) pairs each
venue with its simulated program.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine_rs.decoded import TokenAccount

    from ..venues.base import Venue
    from ..wire.instructions import Swap
    from . import synthetic
    from .state import InnerIx, Pool
    from .world import SwapQuote, World

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


def always(code: int) -> Callable[[str], int]:
    """A ``Program.quote_error`` that answers ``code`` whatever the engine's refusal."""
    return lambda text: code


def flat(units: int) -> Callable[[Pool, int], int]:
    """A ``Program.cost`` of ``units`` for every swap."""
    return lambda pool, tick_before: units


@dataclass(frozen=True, slots=True)
class Program:
    """A venue's program as the simulator runs it: ``check(world, swap, pool, source,
    dest)`` validates a decoded swap's accounts against the pool and returns its
    direction (``a_to_b``), raising :class:`ProgramError` / :class:`InstructionFailed`
    as the program would; ``quote_error(engine error text)`` and ``no_output_error`` are
    its codes when the curve refuses the trade or would give nothing; ``cost(pool
    after, tick before)`` the compute units a swap takes in the simulator's fixed model;
    ``name`` the name its log line gives; ``load(world, pool)`` reads the simulator's
    own state of a pool (its record, its spec's reserves or price and ticks, the
    venue's state such as a pair's bins, ``fees_a``/``fees_b``) back from its accounts'
    bytes in the world: called after the real programs (``arbscope sim --programs``)
    wrote them, so the market's own trades go on from what they left."""

    check: Callable[[World, Swap, Pool, TokenAccount, TokenAccount], bool]
    quote_error: Callable[[str], int]
    no_output_error: int
    cost: Callable[[Pool, int], int]
    name: str
    load: Callable[[World, Pool], None] | None = None


@dataclass(frozen=True, slots=True)
class Market:
    """How the simulated market creates and trades a venue's pools: ``setup(world)``
    creates what its pools share (returned, kept by the world under the venue's name),
    ``takes(spec)`` says whether a synthetic pool becomes one of this venue's,
    ``create(world, index, spec)`` writes its accounts and returns the
    :class:`~feeds.sim.state.Pool`, ``swapped(world, pool, a_to_b, paid_in, out)``
    updates what the venue keeps in the pool account after a trade and returns the
    trade's log line. ``share``: the share of the synthetic market's pools of kind
    ``from_kind`` (``cpmm`` / ``clmm``) the world gives this venue
    (``synthetic.assign_venues``, ``spec.venue``); ``beside``: its pools are added beside
    them (their pair and price, ``synthetic.add_beside``) instead of taking them over;
    ``on_slot(world)``, called once a slot after the prices move and before the traders
    (an order book's makers quoting around the fair price, its cranker), draws from the
    venue's own generator, so the market's draws stay as they were."""

    setup: Callable[[World], Any]
    takes: Callable[[synthetic.PoolSpec], bool]
    create: Callable[[World, int, synthetic.PoolSpec], Pool]
    swapped: Callable[[World, Pool, bool, int, int], str]
    share: float = 0.0
    from_kind: str = ""
    beside: bool = False
    on_slot: Callable[[World], None] | None = None


@dataclass(frozen=True, slots=True)
class Curve:
    """The market's math for a venue whose pools are not the spec's constant-product
    reserves or Whirlpool ticks: what an exact-in swap would do (may raise the engine's
    ``EngineError``, which the runtime maps with :attr:`Program.quote_error`), the
    pool's state after one (``kept``: the input ``record_swap`` keeps outside the
    reserves), its price (units of b per unit of a) and the depth of its input side
    (trade sizes)."""

    quote: Callable[[World, Pool, bool, int], SwapQuote | None]
    apply: Callable[[World, Pool, bool, SwapQuote, int], None]
    price: Callable[[Pool], float]
    depth: Callable[[Pool, bool], float]


@dataclass(frozen=True, slots=True)
class Logs:
    """What a venue's swap adds to mainnet's stream beyond its price: the event it logs
    (``event``: ``Program data:``; lines apart by newlines when it logs several), the
    inner instructions a swap makes beyond its two token transfers (``cpi_events``: in,
    then out, the runtime writes those, :meth:`feeds.sim.chain.Chain._swap_calls`; the
    events the program emits by self-CPI, Anchor's ``emit_cpi!``: an instruction to
    itself, its event authority signing, data the event tag then the event, before its
    transfers and after them, for its last swap of ``pool``, the decoded instruction,
    whose ``Program data:`` lines were ``events``); for ``WorldConfig.full_logs``, the
    SPL Token instruction its transfers use (``token_instruction``) and whether its own
    line follows them (``log_after_transfers``); what a swap refused by its slippage
    check logs before it fails (``slippage_lines``, not Anchor's); ``zero_transfers``:
    the program calls the token program for a transfer of nothing too (False: it skips
    it, as OpenBook's ``token_transfer`` does when an order fills nothing); ``v2_name``:
    the instruction (as ``Swap.name`` says it) whose token transfers are
    ``transfer_checked`` whatever the mint's program, each transfer of a Token-2022
    transfer-fee mint prefaced by a memo of the fee (``TFe: <bps>, <max>``): Whirlpool's
    ``SwapV2``."""

    event: Callable[[World, Pool, bool, int, int, tuple[int, int, int]], str] | None = None
    cpi_events: (
        Callable[[World, Pool, Swap, tuple[str, ...]], tuple[list[InnerIx], list[InnerIx]]] | None
    ) = None
    token_instruction: str = "Transfer"
    log_after_transfers: bool = False
    slippage_lines: Callable[[World, Pool, bool, int, int], tuple[str, ...]] | None = None
    zero_transfers: bool = True
    v2_name: str = ""


NO_LOGS = Logs()
TRANSFER_CHECKED = "TransferChecked"  # a token program's instruction (``Logs.token_instruction``)


@dataclass(frozen=True, slots=True)
class SimVenue:
    """A venue's part of the simulator: its program as the simulator runs it
    (:class:`Program`), how the simulated market creates and trades its pools
    (:class:`Market`), the rent of its accounts by size in bytes, its pools' math
    (:class:`Curve`; None: the spec's constant-product reserves or Whirlpool ticks, by
    ``spec.kind``), and what it writes and logs (``venue``: the client side's record of
    it).

    ``logs``: what its swaps add to mainnet's stream (:class:`Logs`);
    ``state_in_pool_account``: a trade rewrites the pool account (its notification goes
    out before the vaults').
    """

    venue: Venue  # the client side's record of the venue (``feeds.venues``) it simulates
    program: Program
    market: Market
    rent: Mapping[int, int]
    curve: Curve | None = None
    logs: Logs = NO_LOGS
    state_in_pool_account: bool = True
    # what the program writes on every swap beyond the price (its pool account and its
    # own others; returns the input it keeps outside the reserves: fees; called before
    # the vaults move)
    record_swap: Callable[[World, Pool, bool, int, int], int] | None = None
    # a program whose instruction says more than an exact-in amount (an order book's
    # taker order, ``Swap.order``): what it does with the decoded instruction (the
    # runtime commits the quote; ``ProgramError`` for its refusals); None: the runtime
    # quotes ``amount_in`` through ``quote`` or the spec's curve
    take: Callable[[World, Pool, Swap, bool], SwapQuote] | None = None
    # a swap through a mint with a transfer hook, the hook's accounts not passed: the
    # custom code its token transfer fails with once the program's own checks passed
    # (CP-Swap calls Token-2022's ``transfer_checked`` as is:
    # ``feeds.sim.token.TRANSFER_HOOK_INCORRECT_ACCOUNT``); None: the runtime refuses
    # it with ``MissingAccount`` before the program runs
    hook_error: int | None = None
    # the venue trades Token-2022 mints with a transfer fee or hook (False: the world
    # creates none of its ``beside`` pools on such a mint: Manifest's transfers do not
    # account for a fee, and arbscope trades no such market)
    token2022_fees: bool = True
    # the code the program fails with when the output mint's transfer fee leaves nothing
    # for the user (CP-Swap: ``require_gt!(amount_received, 0)``, 2505); None: it pays
    # the nothing and succeeds, or its quote refuses already (a DLMM pair's)
    nothing_received_error: int | None = None

"""The record schema both backends match.

The Python twin returns these dataclasses; the Rust extension returns frozen pyclasses
with the same names and fields (so a journal does not depend on which backend wrote it).
Inputs (:class:`FeeContext`, :class:`ScorePolicy`) are these dataclasses for both
backends. Amounts are integers in base units; rates and bps are derived floats.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from . import decoded

# Reasons a score says no-go. Stable strings: they are journaled and shown.
REASON_NOT_PROFITABLE = "not_profitable"  # no input size makes money before fees
REASON_NET_BELOW_MIN = "net_below_min"  # net profit after fees < policy.min_profit
REASON_BPS_BELOW_MIN = "bps_below_min"  # net profit in bps of input < policy.min_profit_bps
REASON_NOT_PERSISTENT = "not_persistent"  # seen in fewer than policy.min_persistence updates
REASON_STALE = "stale"  # oldest pool state on the path older than policy.max_staleness_slots
# sizing needed a Whirlpool's ticks its state does not hold (arrays not received yet);
# listed first: it is why the other numbers cannot be trusted
REASON_TICKS_MISSING = "ticks_missing"
# no price converts lamports to the cycle's base token (no pool path from SOL to it):
# its fees are not counted, so its net is not known; listed first
REASON_NO_SOL_PRICE = "no_sol_price"
REASONS = (
    REASON_NOT_PROFITABLE,
    REASON_NET_BELOW_MIN,
    REASON_BPS_BELOW_MIN,
    REASON_NOT_PERSISTENT,
    REASON_STALE,
    REASON_TICKS_MISSING,
    REASON_NO_SOL_PRICE,
)


@dataclass(frozen=True, slots=True)
class SwapResult:
    """One Whirlpool swap, as the program would execute it.

    ``amount_in`` includes ``fee_amount``; ``protocol_fee`` is the part of the fee the
    protocol keeps; ``fee_growth_x64`` is the LP fee growth this swap added (Q64.64,
    wrapping u128). The last three fields are the pool's state after the swap.
    """

    amount_in: int
    amount_out: int
    fee_amount: int
    protocol_fee: int
    fee_growth_x64: int
    sqrt_price_x64: int
    tick_current: int
    liquidity: int


@dataclass(frozen=True, slots=True)
class Cycle:
    """A cycle from the negative-cycle search.

    ``tokens`` is closed (``tokens[0] == tokens[-1]``); ``pools[i]`` swaps
    ``tokens[i]`` into ``tokens[i+1]``; ``rate_product`` is the product of the spot
    rates after fees (> 1 for an arbitrage).
    """

    tokens: list[str]
    pools: list[str]
    rate_product: float


@dataclass(frozen=True, slots=True)
class Opportunity:
    """A cycle through a base token, sized through the real curves.

    ``hop_amounts[i]`` enters hop ``i``; ``hop_amounts[-1] == amount_out``. When no size
    makes money, ``amount_in == amount_out == profit == 0``. ``persistence`` counts the
    consecutive evaluations by ``cycles_touching`` (one per update of a pool on the cycle)
    in which it was profitable (``cycles`` reports it without counting: 0 if not
    profitable now, else at least 1);
    ``staleness_slots`` is the graph's slot minus ``oldest_slot`` of the pools used;
    ``ticks_missing``: some size sizing tried needed ticks a Whirlpool hop's state does
    not hold (its arrays around a moved price not received yet), so the size found may
    not be the best one and the scorer says ``ticks_missing``. ``hop_steps[i]``: the
    steps hop ``i`` crosses at ``amount_in`` in its venue's compute-unit model (a
    Whirlpool's initialized ticks, a DLMM pair's bins, a book's maker orders; see
    ``PoolGraph.quote_steps``), all 0 when no size makes money.
    """

    base_mint: str
    tokens: list[str]
    pools: list[str]
    kinds: list[str]
    hops: int
    spot_rate: float
    amount_in: int
    amount_out: int
    profit: int
    profit_bps: float
    hop_amounts: list[int]
    oldest_slot: int
    staleness_slots: int
    persistence: int
    # sizing needed a Whirlpool's ticks its state does not hold: the size is not trusted
    ticks_missing: bool = False
    # the steps each hop crosses at amount_in in its venue's compute-unit model (what its
    # curve crosses; a Token-2022 surcharge is the caller's: arbscope.execution.compute)
    hop_steps: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FeeContext:
    """What landing a transaction costs now (spec §5.3), and how to price lamports in base units.

    ``base_fee_lamports`` overrides ``signatures * lamports_per_signature`` (for the
    SIMD-0553 fee schedule, or the fee ``simulateTransaction`` reported). Fees are
    converted to base units as ``ceil(lamports * base_per_lamport_num / base_per_lamport_den)``
    (1/1 when the base token is wSOL). ``base_rate_missing``: no price of a lamport in the
    base token is known; nothing is converted (``fees_in_base`` 0, the net is the gross)
    and the score says ``no_sol_price``.
    """

    cu_limit: int = 400_000
    cu_price_micro_lamports: int = 0
    tip_lamports: int = 0
    signatures: int = 1
    lamports_per_signature: int = 5_000
    base_fee_lamports: int | None = None
    base_per_lamport_num: int = 1
    base_per_lamport_den: int = 1
    base_rate_missing: bool = False


@dataclass(frozen=True, slots=True)
class ScorePolicy:
    """When an opportunity is a go. All thresholds inclusive."""

    min_profit: int = 1
    min_profit_bps: float = 0.0
    min_persistence: int = 1
    max_staleness_slots: int = 4


@dataclass(frozen=True, slots=True)
class Score:
    """The verdict on one opportunity, with the arithmetic behind it.

    ``net_profit = gross_profit - fees_in_base``; ``total_fee_lamports = base + priority + tip``;
    ``reasons`` lists every failed check (empty iff ``go``).
    """

    gross_profit: int
    base_fee_lamports: int
    priority_fee_lamports: int
    tip_lamports: int
    total_fee_lamports: int
    fees_in_base: int
    net_profit: int
    net_profit_bps: float
    persistence: int
    staleness_slots: int
    go: bool
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PriorityFee:
    """A recommended compute-unit price and what it costs (``FeeEstimator.recommend``).

    ``priority_fee_lamports = ceil(cu_price_micro_lamports × cu_limit / 1e6)`` (spec §5.3);
    ``samples`` and ``newest_slot`` say what the percentile was taken over.
    """

    cu_price_micro_lamports: int
    cu_limit: int
    priority_fee_lamports: int
    percentile: float
    samples: int
    newest_slot: int


@dataclass(frozen=True, slots=True)
class DedupStats:
    """Lead/lag of one endpoint as the de-duplicator saw it (``Deduper.stats``).

    ``first_seen``: copies this endpoint delivered first; ``duplicates``: copies that came
    after a first copy; ``lag_mean_ns``: mean lag behind the first copy over all its
    duplicates; ``lag_p50_ns`` / ``lag_p99_ns``: nearest-rank median and p99 over its last
    ``lag_samples`` lags (the lag window). The lags are None until it has a duplicate.
    """

    endpoint: int
    first_seen: int
    duplicates: int
    lag_mean_ns: float | None
    lag_p50_ns: int | None
    lag_p99_ns: int | None
    lag_samples: int


RECORD_TYPES: tuple[type, ...] = (
    SwapResult,
    Cycle,
    Opportunity,
    Score,
    PriorityFee,
    DedupStats,
    decoded.Whirlpool,  # the extension returns a native class with these fields
    decoded.RaydiumClmmSwap,  # likewise
)


def as_dict(record: Any) -> dict[str, Any]:
    """Fields of a record from either backend, by the schema's field names."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    for cls in RECORD_TYPES:
        if type(record).__name__ == cls.__name__:
            return {f.name: getattr(record, f.name) for f in dataclasses.fields(cls)}
    raise TypeError(f"not an engine record: {type(record).__name__}")


@dataclass(frozen=True, slots=True)
class IngestStats:
    """What ``FeedIngest`` has seen since it was made.

    ``notifications`` = ``first_copies`` + ``duplicates``; ``accounts``, ``logs`` and
    ``slots`` count first copies by kind; ``swaps`` are swap events parsed from first-copy
    logs; ``unknown`` are notifications for a subscription or account it was not told
    about; ``pool_updates`` are graph upserts; ``slot`` is the chain's slot: the highest
    slot a strict majority of the voting endpoints reached, or of two the steady one
    ahead within a bound (never one frame's word; see the ingest's "Integrity").
    """

    frames: int
    notifications: int
    first_copies: int
    duplicates: int
    accounts: int
    logs: int
    slots: int
    swaps: int
    unknown: int
    pool_updates: int
    slot: int


@dataclass(frozen=True, slots=True)
class EndpointStats:
    """What ``FeedIngest`` holds against one endpoint (``endpoint_stats``).

    ``slot``: its newest plausible slot (its vote for the chain's slot, 0 before one; it
    never goes back); ``implausible``: slots or account updates too far ahead of the
    chain, ignored; ``older``: account updates older than the state held, refused (a slow
    endpoint); ``unknown``: notifications for a subscription id it never bound;
    ``identity``: copies that would have changed a pool's identity or re-pointed a vault,
    refused; ``disagreed``: copies the other endpoints' majority (or a re-fetch)
    contradicted; ``held_back``: copies not applied while ``quarantined`` (it lost
    first-copy rights); ``backwards``: slot notifications below its own slot, ignored;
    ``refused_first``: its first copies refused (implausible, older, backwards, an
    identity change, undecodable): forgotten by the dedup, no lead (``DedupStats``
    counts them nowhere), so a later copy of one is a first copy again.

    How it stands to the chain's slot, as of the newest slot notification: ``behind``
    slots its slot is below the chain's (0 at or above it, or without a slot);
    ``lagging`` when that is more than ``LAG_SLOTS`` (16), or it is behind and its slot
    stopped moving (it no longer votes); ``voting`` while its slot counts for the chain's;
    ``leading`` when the chain's slot followed its slot alone (of two voters the steady
    one ahead, or the only voter) — see the ingest's "Integrity".

    The reconcile's: ``account_slot`` the newest context slot of its account
    notifications (a stream delivers in slot order: every change of an older slot it
    carried has come); ``repaired`` account changes it never delivered, found when the
    trusted path's re-read differed (``FeedIngest.reconcile``).
    """

    endpoint: int
    slot: int
    implausible: int
    older: int
    unknown: int
    identity: int
    disagreed: int
    held_back: int
    quarantined: bool
    backwards: int
    behind: int
    lagging: bool
    voting: bool
    leading: bool
    refused_first: int
    account_slot: int = 0
    repaired: int = 0


@dataclass(frozen=True, slots=True)
class VenueInfo:
    """A venue's static facts (``venue_infos()``: the engine's registry, one per DEX
    program), for the feeds and the dashboard to read instead of defining them again.

    ``name``: its module in both backends (``raydium_amm_v4``); ``kind``: the pool kind
    users write in their pools files and the journal records (``amm_v4``, ``cpmm``,
    ``whirlpool``); ``label``: the dashboard's short label (``v4``, ``cp``, ``wp``);
    ``graph_kind``: what ``Opportunity.kinds`` reports for its pools (``cpmm``, ``clmm``);
    ``program_ids``: the programs that may own its pool accounts (base58, the main one
    first); ``pool_account_size``: its pool account's size in bytes (the decoder's
    minimum: real accounts may be longer); ``arrays``: the role of its arrays, which the
    caller follows around the price with ``FeedIngest.track_array`` (``tick_array``,
    ``bin_array``), None for a venue without.
    """

    name: str
    kind: str
    label: str
    graph_kind: str
    program_ids: tuple[str, ...]
    pool_account_size: int
    arrays: str | None


RECORD_TYPES += (IngestStats, EndpointStats, VenueInfo)


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level of an order book's L2 ladder: ``price`` in quote UI units per base
    UI unit, ``size`` in base UI units summed over the level's ``orders``, and the same
    in lots (``price_lots``: quote lots per base lot; ``size_lots``: base lots)."""

    price: float
    size: float
    price_lots: int
    size_lots: int
    orders: int


@dataclass(frozen=True, slots=True)
class BookLadder:
    """An order book's L2 ladder (``openbook_v2.ladder``, ``PoolGraph.ladder``): ``bids``
    best first (highest price first), ``asks`` lowest first, each summing the valid
    orders of a price (expired orders skipped, oracle-pegged ones skipped without an
    oracle price); best bid / ask, ``spread`` = ask - bid and ``mid`` their mean (None
    when a side is empty). ``market`` is the pool id and ``slot`` the upsert's slot
    (``""`` and 0 from the plain kernel)."""

    market: str
    base_mint: str
    quote_mint: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    best_bid: float | None
    best_ask: float | None
    spread: float | None
    mid: float | None
    slot: int


@dataclass(frozen=True, slots=True)
class OpenBookFill:
    """The exact result of an OpenBook v2 ``place_take_order`` (``openbook_v2.take``):
    ``amount_in`` / ``amount_out`` what the taker's transfers move (native units: base
    sold and quote received less the makers' rebates for a sell; quote paid with the
    rebates and base received for a buy); base and quote lots matched; ``taker_fee`` the
    program's ``taker_fees_ceil`` of the quote taken (its transfer carries only
    ``maker_rebates``); ``orders`` matched and ``events`` pushed to the heap;
    ``last_price_lots`` the last price matched (0: none); ``complete``: the whole order
    filled (a buy: its budget, not the book or the limit, stopped it); ``refused``: the
    program would fail (market expired, event heap full). The extension returns a native
    class with these fields."""

    amount_in: int
    amount_out: int
    base_lots: int
    quote_lots: int
    taker_fee: int
    maker_rebates: int
    orders: int
    events: int
    last_price_lots: int
    complete: bool
    refused: bool


RECORD_TYPES += (BookLevel, BookLadder, OpenBookFill)

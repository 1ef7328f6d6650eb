"""The live orders' records: the configuration, an order as it moves through the pipeline, what
the screen is shown of them, and how an order's failure reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from solders.instruction import Instruction

from feeds import venues
from feeds.clients.confirm import Confirmation
from feeds.redact import redact

from .nonces import NoncesView
from .routes import RouteView
from .tables import TablesView

log = logging.getLogger(__name__)


SWAP_PROGRAMS = frozenset(v.program for v in venues.VENUES)


TERMINAL = frozenset({"confirmed", "failed", "expired", "unknown", "refused", "cancelled", "error"})


# an order that ended so without a ``sent`` step never reached the node
NOT_SENT = frozenset({"refused", "cancelled", "error"})


@dataclass(frozen=True)
class LiveConfig:
    """What live trading needs. Amounts are base-token units; ``None`` caps refuse to
    arm. URLs may carry API keys: they are shown redacted everywhere."""

    keypair: str | None = None
    rpc: str | None = None  # HTTP JSON-RPC: simulate, send, statuses
    # more nodes of the same chain the fast path's blockhash is also read from, hedged
    # (.blockhash.BlockhashKeeper; the session: its feeds' HTTP endpoints)
    blockhash_rpcs: tuple[str, ...] = ()
    ws: str | None = None  # PubSub for signatureSubscribe (None: polling)
    # Jito block engines (one URL or several): send as a bundle with the tip to each
    jito: str | Sequence[str] | None = None
    tip_lamports: int = 0
    tip_policy: str = "fixed"  # fixed | percentile (of recently landed tips)
    tip_percentile: int = 50
    tip_max: int = 1_000_000  # lamports: the percentile policy's and escalation's cap
    tip_escalation: bool = False  # durable orders re-sent with a higher tip until one lands
    tip_step: float = 1.5  # each version's tip: the last one's times this
    tip_every_slots: int = 4  # slots without landing before the next version
    tip_window_slots: int = 150  # slots after the first version that versions go out in
    nonces_budget_lamports: int = 50_000_000  # what nonce accounts may cost (0.05 SOL)
    jito_rps: float = 1.0  # requests a second each block engine allows (0: not paced)
    max_trade: int | None = None
    max_day: int | None = None
    max_open: int = 1
    max_slippage_bps: int = 50
    # one compute-unit limit for every transaction (fees.cu_limit; the session sets it);
    # None: each cycle's own (.compute.cycle_budget), as the scorer priced it
    cu_limit: int | None = None
    confirm_timeout_s: float = 90.0
    # one request's timeout at the node orders go to (feeds.rpc_timeout_s): a simulation
    # of a 4-hop order took longer than 5 s on a busy machine's real node
    rpc_timeout_s: float = 5.0
    # a bundle's engines asked (getInflightBundleStatuses) this long after the send and
    # as often again, only when their rate gate is free (never delaying a send): Failed at
    # every one ends it at once, freeing its pools and max_open (0: wait for its blockhash)
    bundle_check_s: float = 2.0
    tables_budget_lamports: int = 500_000_000  # what lookup tables may cost (0.5 SOL)
    ca_file: str | None = None  # a private CA for wss:// / https:// (feeds.ca_file)
    # simulateTransaction before sending: "always", or "plain" (plain transactions only: a
    # bundle goes to the block engines unsimulated: they do not land a failing bundle,
    # so a failed arbitrage costs nothing; its on-chain minimums still hold)
    simulate: str = "always"

    def __repr__(self) -> str:
        return (
            f"LiveConfig(keypair={self.keypair!r}, rpc={redact(self.rpc or '')!r}, "
            f"ws={redact(self.ws or '')!r}, jito={self.engines_shown()!r}, "
            f"tip={self.tip_lamports}, max_trade={self.max_trade}, max_day={self.max_day}, "
            f"max_open={self.max_open}, max_slippage_bps={self.max_slippage_bps})"
        )

    def engines(self) -> tuple[str, ...]:
        """The Jito block engines' URLs (none: sendTransaction)."""
        j = self.jito
        if not j:
            return ()
        return (j,) if isinstance(j, str) else tuple(u for u in j if u)

    def engines_shown(self) -> str:
        return ", ".join(redact(u) for u in self.engines())

    def shown(self) -> dict[str, Any]:
        """For the journal and the screen (URLs redacted, no key material)."""
        return {
            "keypair": self.keypair,
            "rpc": redact(self.rpc or ""),
            "ws": redact(self.ws or ""),
            "jito": self.engines_shown(),
            "tip_policy": self.tip_policy,
            "tip_lamports": self.tip_lamports,
            "tip_escalation": self.tip_escalation,
            "max_trade": self.max_trade,
            "max_day": self.max_day,
            "max_open": self.max_open,
            "max_slippage_bps": self.max_slippage_bps,
            "cu_limit": self.cu_limit,
            "simulate": self.simulate,
        }


@dataclass
class LiveOrder:
    """One live order as it moves through the pipeline (the screen shows copies)."""

    seq: int
    trigger: str
    key: tuple[str, tuple[str, ...]]
    tokens: list[str]
    pools: list[str]
    kinds: list[str]  # the curves at decision time; the programs once built
    amount_in: int
    hops: list[int]  # quoted at decision time: [amount_in, out_1, ..., out_n]
    # the steps each hop's quote crosses, as the engine counts them for its curve
    # (PoolGraph.quote_steps, with ``hops``): its compute units (.compute.cycle_steps)
    steps: list[int] = field(default_factory=list)
    min_out: int = 0
    status: str = "accepted"
    signature: str = ""
    detail: str = ""
    simulated_out: int | None = None
    realized: int | None = None  # base balance change when it was the only open order
    fee_lamports: int | None = None
    units: int | None = None
    slot: int | None = None
    via: str = ""
    tip: int = 0  # lamports tipped (escalated: the landed version's)
    nonce: str = ""  # the durable nonce account of an escalating order
    durable: str = ""  # its durable nonce: the blockhash every version names
    versions: list[tuple[str, int]] = field(default_factory=list)  # (signature, tip) sent
    parts: int = 1  # transactions it went as (2: a bundle, when one could not hold it)
    resent: int = 0  # times its transaction was handed to the node again while unlanded
    decided_slot: int = 0  # the graph's slot when it was decided
    cu_priced: int = 0  # the compute-unit limit the scorer priced it at
    cu_price: int = 0  # the compute-unit price it was decided with (micro-lamports)
    cu_limit: int = 0  # the limit its transaction requests (the same, unless the wallet changed)
    # the token accounts it created in a transaction of their own (too many for one)
    created_apart: list[str] = field(default_factory=list)
    sending: bool = False
    sent: bool = False
    followed: bool = False  # its end on chain is known (landed, failed, expired, unknown)
    path: str = ""  # fast (built from what was held) | fetched (accounts read first)
    fallback: str = ""  # why it did not go the hot path (when it did not)
    compiled: int = 0  # templates (message, swaps) its hot path compiled (0: only patched)
    # the deciding thread's CPU ns from the decision to the hot path's signature (> 0 once
    # signed on the hot path, with the executor's ``cpu_clock`` on; 0 otherwise): against
    # decided -> signed, the part not spent waiting
    cpu_ns: int = 0
    pre_known: bool = True  # the base balance before it is exact (not one in flight)
    # tick to trade: the receive ns (time.monotonic_ns) of the frame behind the decision
    # (0: not known: a manual order, a periodic turn) and each step's ns on that clock
    frame_ns: int = 0
    t_ns: dict[str, int] = field(default_factory=dict)
    t0: float = field(default_factory=time.perf_counter)
    ms: dict[str, float] = field(default_factory=dict)  # step -> ms since accepted
    # its ``accepted`` step, journaled once the hot path has written it (or before any
    # other step of it: the journal's order of steps is kept)
    unannounced: Any = None

    def timing_us(self) -> dict[str, float]:
        """Tick to trade, step by step (µs): from the frame behind the decision (when
        known) to the session's turn that evaluated it, to the decision, the day's cap
        kept, built, signed, simulated and the send request's body written to its socket;
        ``total`` from the frame (else the decision) to it."""
        t = self.t_ns
        marks = [("frame", self.frame_ns)] if self.frame_ns else []
        marks += [(k, t[k]) for k in STEPS_TIMED if k in t]
        out = {f"{a}->{b}": (tb - ta) / 1e3 for (a, ta), (b, tb) in pairwise(marks)}
        if len(marks) > 1:
            out["total"] = (marks[-1][1] - marks[0][1]) / 1e3
        return out


# the steps an order's latency is measured at (LiveOrder.t_ns), in order
STEPS_TIMED = (
    "turn",
    "evaluated",
    "decided",
    "ledger",
    "built",
    "signed",
    "simulated",
    "written",
)


@dataclass(frozen=True, slots=True)
class OrderView:
    seq: int
    status: str
    signature: str
    path: str
    amount_in: int
    min_out: int
    simulated_out: int | None
    realized: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class LiveView:
    """What the portfolio panel shows of live trading."""

    wallet: str
    armed: bool
    base: str
    pnl: int  # the base token's balance now minus at arming (fees are paid in SOL)
    lamports: int | None
    balances: tuple[tuple[str, int], ...]  # (mint, amount) of the wallet's token accounts
    open: int
    sent: int
    confirmed: int
    failed: int
    refused: int
    spent_today: int
    orders: tuple[OrderView, ...]
    node: str
    last_error: str
    tables: TablesView | None = None  # the wallet's lookup tables (None: not armed yet)
    routes: tuple[RouteView, ...] = ()  # where orders went and how each way fared
    nonces: NoncesView | None = None  # the durable nonce accounts (escalation only)
    simulate: str = "always"  # live.simulate, as it applies: always | plain (bundles unsimulated)
    # the last sent order's tick to trade (µs, frame or decision to its send written) and
    # its path (fast | fetched); None: none sent yet
    t2t_us: float | None = None
    t2t_path: str = ""
    # venues whose program on this chain refused arbscope's swap itself: (name, why)
    not_run: tuple[tuple[str, str], ...] = ()


def describe_error(err: Any, ixs: Sequence[Instruction] = ()) -> str:
    """A TransactionError in words, with the program's own name for a custom error
    (``InstructionError [3, {Custom: 30}]`` -> ``instruction 3 (675k…): ExceededSlippage``)."""
    if isinstance(err, dict) and "InstructionError" in err:
        try:
            i, detail = err["InstructionError"]
            prog = str(ixs[i].program_id) if i < len(ixs) else ""
        except (TypeError, ValueError):
            return str(err)
        if isinstance(detail, dict) and "Custom" in detail:
            code = int(detail["Custom"])
            name = venues.error_name(prog, code)
            venue = venues.by_program(prog)
            if code == 1 and venue is not None and venue.anchor:  # from the token CPI
                name = "InsufficientFunds (token transfer)"
            swaps = [j for j, ix in enumerate(ixs) if str(ix.program_id) in SWAP_PROGRAMS]
            if "InsufficientFunds" in name and i in swaps and i != swaps[0]:
                name += " (the hop before gave less than its quote: its pool moved)"
            return f"instruction {i} ({prog[:4]}…): {name}"
        return f"instruction {i} ({prog[:4]}…): {detail}"
    return str(err)


def hop_under_quote(err: Any, ixs: Sequence[Instruction] = ()) -> int | None:
    """The hop whose pool paid less than its quote, by a failed transaction's error: a
    hop's own "less out than the minimum" (its venue's ``slippage_error``: that hop), a
    later hop short of funds (``InsufficientFunds``: the hop before it); None when the
    error says no such thing. (A pool that paid less than its quote was held in a state
    the chain no longer had: a notification lost, or a trade that landed first.)"""
    if not isinstance(err, dict) or "InstructionError" not in err:
        return None
    try:
        i, detail = err["InstructionError"]
        prog = str(ixs[i].program_id) if i < len(ixs) else ""
    except (TypeError, ValueError):
        return None
    if not isinstance(detail, dict) or "Custom" not in detail:
        return None
    swaps = [j for j, ix in enumerate(ixs) if str(ix.program_id) in SWAP_PROGRAMS]
    if i not in swaps:
        return None
    hop, code = swaps.index(i), int(detail["Custom"])
    venue = venues.by_program(prog)
    if venue is not None and code == venue.slippage_error:
        return hop
    name = venues.error_name(prog, code)
    if hop > 0 and (
        "InsufficientFunds" in name or (code == 1 and venue is not None and venue.anchor)
    ):
        return hop - 1
    return None


def confirmation_text(c: Confirmation, ixs: Sequence[Instruction]) -> str:
    if c.status == "confirmed":
        return f"landed in slot {c.slot}"
    if c.status == "failed":
        return f"landed in slot {c.slot} and failed (fee paid): {describe_error(c.err, ixs)}"
    if c.status == "expired":
        if c.via not in ("", "poll", "subscription"):  # ended early: who said it never lands
            return f"{c.via}: not executed"
        return "its blockhash expired before it landed: not executed"
    return "no status before the timeout: check the signature on an explorer"

"""What a session is built from: what it watches, how it evaluates, records and judges
its health (the settings ``arbscope.cli.build`` and ``arbscope.sources`` fill in)."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from engine_rs.records import ScorePolicy
from storage.recorder import MAX_PENDING_BYTES

from ..health import DEFAULT_THRESHOLDS, Thresholds
from ..ports import Service, SessionView
from ..propamm import FOLLOW_BPS


@dataclass(frozen=True)
class FeeSettings:
    """How the scorer prices landing a transaction (journaled with the session).
    ``cu_limit``: one compute-unit limit for every transaction (``fees.cu_limit``); None:
    each cycle's own, from its hops (``arbscope.execution.compute``)."""

    cu_limit: int | None = None
    percentile: float = 75.0
    tip_lamports: int = 0


DEFAULT_POLICY = ScorePolicy(min_profit=1, min_persistence=2, max_staleness_slots=150)
T = TypeVar("T")
# where a sliced turn reports (Evaluation.turn_report): a loop step of its own, or in its end
TURN_REPORTS = ("apart", "inline")
# where a sliced turn decides (Evaluation.turn_decide): a loop step of its own between its
# end and its report, or in its end
TURN_DECIDES = ("apart", "inline")
# where a sliced turn makes its events (Evaluation.turn_events): a loop step of its own
# after its report, or in its report
TURN_EVENTS = ("apart", "inline")
# the most cycles of one pool a turn's slice evaluates at a time (Evaluation.slice_piece):
# a pool that thousands of cycles pass through (a hub) is evaluated in pieces,
# a loop step's worth each, not in one call that holds the loop for all of them
SLICE_PIECE = 512


def from_journal(default: T, recorded: Any) -> T:
    """``default`` (a dataclass) with the fields a journaled config recorded for it (an
    older recording's missing fields keep the default; unknown ones are ignored)."""
    if not isinstance(recorded, dict):
        return default
    names = {f.name for f in dataclasses.fields(default)}  # type: ignore[arg-type]
    return replace(default, **{k: v for k, v in recorded.items() if k in names})  # type: ignore[type-var]


@dataclass
class RecordSettings:
    """Where and how a session is journaled (``db`` None: the default journal)."""

    db: str | Path | None = None
    batch_s: float = 0.2  # the most a crash can lose
    codec: str | None = None  # zstd when available
    max_pending_bytes: int = MAX_PENDING_BYTES  # the write queue's bound (then: unrecorded)


@dataclass(frozen=True)
class Watch:
    """What a session watches: the pools (``universe``; None: its source's, the
    simulator's world), the base mints cycles start and end in (none: its source's), the
    cycles' length, and its seed (the simulator's world's, and the feeds' jitter)."""

    universe: Sequence[tuple[str, str]] | None = None
    base_mints: Sequence[str] = ()
    max_hops: int = 3
    seed: int = 7
    # the transactions that touch the pools, read for the rivals' arbitrage
    # (arbscope.rivals), and the names given to signers (the labels file)
    rivals: bool = True
    rival_labels: Mapping[str, str] = field(default_factory=dict)
    # our own signers (the live wallet): never a rival (journaled with the config)
    rival_own: Sequence[str] = ()
    # the prop AMMs observed (arbscope.propamm): program id -> name (None: the known ones,
    # feeds.propamm.PROP_AMMS; {}: none), the source's own added (the simulator's); and
    # how close the public mid must come to their price to have followed it (bps)
    prop_amms: Mapping[str, str] | None = None
    prop_follow_bps: float = FOLLOW_BPS


@dataclass(frozen=True)
class Evaluation:
    """How a session evaluates: the engine's backend (None: the default) and whether the
    other one shadows it, how often it sweeps, the scorer's policy and fees, how long
    without a new slot makes every cycle no-go (``feeds_stall_s``; None: the health's
    stall time, 0: never, a replay of a recording from before the rule), and the kernel
    timer's clock (staged screens: deterministic); how the engine sizes a cycle
    (``sizing``, ``PoolGraph.set_sizing``: "golden", or "ternary", what a recording from
    before the golden rule sized with); where a sliced turn reports (``turn_report``:
    "apart", a loop step of its own after its end, journaled ``REPORT``; "inline", in
    its end, as a recording from before the rule); where a sliced turn decides
    (``turn_decide``: "apart", a loop step of its own between its end and its report,
    journaled ``DECISIONS``, which needs the report apart; "inline", in its end, as a
    recording from before the rule; None: where the report is); where a sliced turn makes
    its events (``turn_events``: "apart", a loop step of its own after its report,
    journaled ``EVENTS``, which needs the report apart; "inline", in its report, as a
    recording from before the rule; None: where the report is); how many of one pool's cycles a
    turn's slice evaluates at a time (``slice_piece``: a journaled ``SLICE`` counts
    such pieces; 0: whole pools, as a recording from before the rule)."""

    backend: types.ModuleType | None = None
    shadow: bool = True
    sweep_s: float = 1.0
    policy: ScorePolicy = DEFAULT_POLICY
    fees: FeeSettings = field(default_factory=FeeSettings)
    feeds_stall_s: float | None = None
    timer_clock: Callable[[], int] | None = None
    sizing: str = "golden"
    turn_report: str = "apart"
    turn_decide: str | None = None  # (None: where the report is)
    turn_events: str | None = None  # (None: where the report is)
    slice_piece: int = SLICE_PIECE

    def __post_init__(self) -> None:
        if self.turn_report not in TURN_REPORTS:
            raise ValueError(f"turn_report: {self.turn_report!r} is not one of apart, inline")
        self._beside_report("turn_decide", TURN_DECIDES, "decisions, then report")
        self._beside_report("turn_events", TURN_EVENTS, "report, then events")
        if self.slice_piece < 0:
            raise ValueError(f"slice_piece: {self.slice_piece!r} is below 0")

    def _beside_report(self, name: str, ways: tuple[str, ...], order: str) -> None:
        """A turn's step that is apart only where its report is (None: where it is)."""
        way = getattr(self, name)
        if way is None:
            object.__setattr__(self, name, way := self.turn_report)
        if way not in ways:
            raise ValueError(f"{name}: {way!r} is not one of apart, inline")
        if way == "apart" and self.turn_report != "apart":
            raise ValueError(f"{name} apart needs turn_report apart ({order})")


@dataclass(frozen=True)
class HealthSettings:
    """Whether the session judges its health (a replay does not: its feeds are a
    recording), after how long a standing slot it is unhealthy, and what serves it
    (``serve``: ``/metrics`` and ``/health`` over the session's view; None: nothing)."""

    judge: bool = True
    stall_s: float = 10.0
    serve: Callable[[SessionView], Service] | None = None
    thresholds: Thresholds = DEFAULT_THRESHOLDS  # an endpoint's stream is a problem past these

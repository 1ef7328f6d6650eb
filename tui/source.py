"""What the dashboard reads, as protocols: the wiring package (arbscope) provides it.

tui imports nothing from arbscope (arbscope imports tui), so the screen is written
against these shapes; ``arbscope.market.SimMarket`` is one implementation, a recorded
session or live feeds will be others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from engine_rs.records import Cycle, Opportunity, Score


class TimingRowView(Protocol):
    """One kernel's timings (µs) and shadow-check counts."""

    @property
    def kernel(self) -> str: ...
    @property
    def calls(self) -> int: ...
    @property
    def rust_p50_us(self) -> float | None: ...
    @property
    def rust_p99_us(self) -> float | None: ...
    @property
    def python_p50_us(self) -> float | None: ...
    @property
    def python_p99_us(self) -> float | None: ...
    @property
    def shadow_checks(self) -> int: ...
    @property
    def mismatches(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def speedup(self) -> float | None: ...


class SnapshotView(Protocol):
    """The session's state after its latest tick."""

    @property
    def seed(self) -> int: ...
    @property
    def backend(self) -> str: ...
    @property
    def shadow(self) -> str | None: ...
    @property
    def slot(self) -> int: ...
    @property
    def pools(self) -> int: ...
    @property
    def tokens(self) -> int: ...
    @property
    def updates(self) -> int: ...
    @property
    def updates_per_s(self) -> float: ...
    @property
    def errors(self) -> int: ...
    @property
    def mismatches(self) -> int: ...
    @property
    def opportunities(self) -> Sequence[tuple[Opportunity, Score]]: ...
    @property
    def timings(self) -> Sequence[TimingRowView]: ...
    @property
    def last_sweep(self) -> Cycle | None: ...


class LiveSource(Protocol):
    """A session the dashboard drives: ``tick()`` advances it, ``snapshot`` shows it."""

    @property
    def snapshot(self) -> SnapshotView: ...
    def tick(self) -> object: ...
    def pause_clock(self) -> None: ...


@dataclass(slots=True)
class UiState:
    """The app's own state, shared with its screens."""

    paused: bool = False
    internal_errors: int = 0  # exceptions other than engine errors, caught in a tick
    last_error: str = ""

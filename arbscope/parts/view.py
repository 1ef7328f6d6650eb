"""The session read-only, as ``/metrics``, ``/health`` and the headless status line read
it (:class:`arbscope.ports.SessionView`): what they read and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from engine_rs.records import Opportunity, Score
from feeds.health import FeedHealth

from ..health import Verdict
from ..mirror import Via
from ..ports import (
    BrokerView,
    ExecutorView,
    InputPublisher,
    PoolView,
    RecorderView,
    RegionView,
)
from ..rivals import RivalBook
from ..solprice import LamportPrice
from ..timing import KernelTimer
from .lifecycle import versions

if TYPE_CHECKING:
    from ..session import FeedSession

T = TypeVar("T")


Read: TypeAlias = "Via[SessionReadout, T]"


def _of(read: Callable[[SessionReadout], T]) -> Read[T]:
    return Via(read)


class SessionReadout:
    """``host`` as its readers see it (:class:`~arbscope.ports.SessionView`)."""

    def __init__(self, host: FeedSession) -> None:
        self._host = host

    source: Read[str] = _of(lambda s: s._host.source)
    mode: Read[str] = _of(lambda s: s._host.ev.mode)
    session_id: Read[str] = _of(lambda s: s._host.session_id)
    slot: Read[int] = _of(lambda s: s._host.slot)
    errors: Read[int] = _of(lambda s: s._host.errors)
    found: Read[int] = _of(lambda s: s._host.ev.found)
    start_error: Read[str] = _of(lambda s: s._host.start_error)
    live: Read[Mapping[tuple[str, tuple[str, ...]], tuple[Opportunity, Score]]]
    live = _of(lambda s: s._host.ev.live)
    pool: Read[PoolView | None] = _of(lambda s: s._host.feeds.pool)
    recorder: Read[RecorderView | None] = _of(lambda s: s._host.recorder)
    timer: Read[KernelTimer] = _of(lambda s: s._host.timer)
    broker: Read[BrokerView | None] = _of(lambda s: s._host.ev.broker)
    executor: Read[ExecutorView | None] = _of(lambda s: s._host.ev.executor)
    publisher: Read[InputPublisher | None] = _of(lambda s: s._host.publisher)
    rivals: Read[RivalBook] = _of(lambda s: s._host.rivals)

    def versions(self) -> dict[str, Any]:
        return versions(self._host.eng)

    def pool_count(self) -> int:
        return len(self._host.ev.graph)

    def lamport_prices(self) -> Mapping[str, LamportPrice | None]:
        """Per base mint of the graph, a lamport's price in it (None: none known)."""
        ev = self._host.ev
        prices = ev.lamport_prices
        return {b: prices.get(b) for b in ev.graph.base_mints()}

    def regions(self) -> Sequence[RegionView]:
        return self._host.feeds.regions()

    def feed_health(self) -> list[FeedHealth]:
        return self._host.health.feeds()

    def health_verdict(self, feeds: list[FeedHealth] | None = None) -> Verdict | None:
        return self._host.health.verdict(feeds)

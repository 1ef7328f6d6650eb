"""The session read-only, as ``/metrics``, ``/health`` and the headless status line read
it (:class:`arbscope.ports.SessionView`): what they read and nothing else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engine_rs.records import Opportunity, Score
from feeds.health import FeedHealth

from ..health import Verdict
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


class SessionReadout:
    """``host`` as its readers see it (:class:`~arbscope.ports.SessionView`)."""

    def __init__(self, host: FeedSession) -> None:
        self._host = host

    @property
    def source(self) -> str:
        return self._host.source

    @property
    def mode(self) -> str:
        return self._host.ev.mode

    @property
    def session_id(self) -> str:
        return self._host.session_id

    @property
    def slot(self) -> int:
        return self._host.slot

    @property
    def errors(self) -> int:
        return self._host.errors

    @property
    def found(self) -> int:
        return self._host.ev.found

    @property
    def start_error(self) -> str:
        return self._host.start_error

    @property
    def live(self) -> Mapping[tuple[str, tuple[str, ...]], tuple[Opportunity, Score]]:
        return self._host.ev.live

    @property
    def pool(self) -> PoolView | None:
        return self._host.feeds.pool

    @property
    def recorder(self) -> RecorderView | None:
        return self._host.recorder

    @property
    def timer(self) -> KernelTimer:
        return self._host.timer

    @property
    def broker(self) -> BrokerView | None:
        return self._host.ev.broker

    @property
    def executor(self) -> ExecutorView | None:
        return self._host.ev.executor

    @property
    def publisher(self) -> InputPublisher | None:
        return self._host.publisher

    @property
    def rivals(self) -> RivalBook:
        return self._host.rivals

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

"""Where a session's frames come from, chosen in one place: the feed source adapters
(:class:`arbscope.ports.FeedSource`) and the sinks that go with them, put together into a
:class:`~arbscope.session.FeedSession` by :func:`session`.

- the embedded simulator and the session's PubSub / gRPC sockets on it
  (:class:`~arbscope.sources.embedded.SimFeeds`; the only adapter that imports
  ``feeds.sim``, itself imported only where a session embeds the simulator);
- RPC/PubSub and gRPC endpoints (:class:`~arbscope.sources.feeds.EndpointFeeds`);
- NATS regions (:class:`~arbscope.sources.nats.NatsFeeds`), after the session's own
  endpoints when it has some (:class:`~arbscope.sources.feeds.Feeds`);
- none: the session is fed by its owner (a replay).

A session's NATS side is also sinks (:class:`~arbscope.sources.nats.NatsSinks`: a
collector's publisher, the journal's stream), and ``/metrics`` a service over its view
(``arbscope.metrics.MetricsServer``). ``arbscope.cli`` turns a configuration into these
settings; tests and benches call :func:`session` with theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from feeds.clients.pool import Endpoint

from ..execution.live import LiveConfig
from ..ports import FeedSource, Service, SessionView, StreamSinks
from ..runloop import TICK_S, Clock
from ..session import Evaluation, FeedSession, HealthSettings, RecordSettings, Watch
from .feeds import EndpointFeeds, FeedOptions, Feeds, NoFeeds, SimSettings

if TYPE_CHECKING:
    from feeds.sim.server import SimServer

    from ..fleet import FleetSettings
    from ..metrics import MetricsSettings

EMBEDDED = SimSettings()  # the embedded simulator's defaults


def health_settings(metrics: MetricsSettings | None, judge: bool = True) -> HealthSettings:
    """Judge the session's health (``judge``) against ``metrics``' stall time and serve
    ``/metrics`` and ``/health`` as ``metrics`` says (None: no server, the stall time's
    default)."""
    if metrics is None:
        return HealthSettings(judge=judge)

    def serve(view: SessionView) -> Service:
        from ..metrics import MetricsServer

        return MetricsServer(view, metrics.host, metrics.port, metrics.stall_s, metrics.thresholds)

    return HealthSettings(
        judge=judge, stall_s=metrics.stall_s, serve=serve, thresholds=metrics.thresholds
    )


def feed_source(
    seed: int,
    options: FeedOptions,
    *,
    endpoints: Sequence[Endpoint] = (),
    sim: SimSettings | None = EMBEDDED,
    fleet: FleetSettings | None = None,
) -> FeedSource:
    """The feeds of a session: its ``endpoints``; without any, the embedded simulator
    (``sim``; None: none); and the NATS regions of ``fleet`` after them (alone when the
    session has no feeds of its own). None of them: a session fed by its owner."""
    own: FeedSource | None = None
    if endpoints:
        own = EndpointFeeds(endpoints, options)
    elif sim is not None:
        from .embedded import SimFeeds

        own = SimFeeds(sim, seed, options)
    regions: FeedSource | None = None
    if fleet is not None and fleet.regions:
        from .nats import NatsFeeds

        regions = NatsFeeds(fleet, options)
    if own is not None and regions is not None:
        return Feeds(own, regions)
    return own or regions or NoFeeds(options)


def stream_sinks(fleet: FleetSettings | None) -> StreamSinks | None:
    """A session's NATS side as sinks (None without NATS)."""
    if fleet is None:
        return None
    from .nats import NatsSinks

    return NatsSinks(fleet)


def session(
    watch: Watch | None = None,
    evaluation: Evaluation | None = None,
    *,
    endpoints: Sequence[Endpoint] = (),
    sim: SimSettings | None = EMBEDDED,
    options: FeedOptions | None = None,
    fleet: FleetSettings | None = None,
    metrics: MetricsSettings | None = None,
    judge_health: bool = True,
    record: RecordSettings | None = None,
    live: LiveConfig | None = None,
    clock: Clock | None = None,
    tick_s: float = TICK_S,
) -> FeedSession:
    """A session on its feeds (:func:`feed_source`: ``endpoints``, else the embedded
    simulator ``sim``, and the NATS regions of ``fleet``), its NATS sinks (``fleet``:
    a collector, the journal's stream), ``/metrics`` and ``/health`` (``metrics``), its
    recording and its live trading."""
    watch = watch or Watch()
    options = options or FeedOptions()
    feeds = feed_source(watch.seed, options, endpoints=endpoints, sim=sim, fleet=fleet)
    return FeedSession(
        watch,
        evaluation,
        feeds=feeds,
        record=record,
        live=live,
        health=health_settings(metrics, judge_health),
        streams=stream_sinks(fleet),
        clock=clock,
        tick_s=tick_s,
    )


def simulator(session: FeedSession) -> SimServer:
    """The embedded simulator's server of ``session`` (its world, chain and clock: what
    tests and benches reach into); ValueError when its feeds are not the simulator's."""
    from .embedded import SimFeeds

    feeds = session.feeds
    own = feeds.own if isinstance(feeds, Feeds) else feeds
    if not isinstance(own, SimFeeds):
        raise ValueError(f"the session's feeds are not the embedded simulator: {feeds.label}")
    return own.server


__all__ = [
    "EMBEDDED",
    "EndpointFeeds",
    "Evaluation",
    "FeedOptions",
    "Feeds",
    "NoFeeds",
    "RecordSettings",
    "SimSettings",
    "Watch",
    "feed_source",
    "health_settings",
    "session",
    "simulator",
    "stream_sinks",
]

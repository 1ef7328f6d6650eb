"""NATS JetStream as a feed source and as sinks (``arbscope.fleet``, issue 23).

:class:`NatsFeeds`: the regions a session consumes (a durable consumer per region's
stream, applied to its ingest as its own sockets' frames are). :class:`NatsSinks`: what a
session publishes, over one connection: a collector's inputs to its region's stream (the
``Publisher``), and the journal's chunks to ``ARBSCOPE_JOURNAL`` beside the SQLite file
(``--journal-stream``)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from feeds.clients.rpc import RawAccount
from feeds.health import FeedHealth
from storage.journal import Journal
from storage.recorder import JournalTarget

from ..fleet import (
    FleetSettings,
    Publisher,
    RemoteFeeds,
    StreamJournal,
    TeeJournal,
    connect,
    ensure_stream,
    stream_name,
)
from ..ports import Ingest, InputPublisher, RegionView, SourceLink
from .feeds import EndpointFeeds, FeedOptions


class NatsFeeds(EndpointFeeds):
    """The NATS regions of ``settings`` (``regions``): their collectors' endpoints become
    the session's, ``region/endpoint``, numbered after its own. It has no sockets of its
    own (the defaults of :class:`~arbscope.sources.feeds.EndpointFeeds` for none) and
    knows nothing of the market ahead: its collectors announce their base mints."""

    def __init__(self, settings: FleetSettings, options: FeedOptions) -> None:
        super().__init__((), options)
        self.settings = settings
        self.remote: RemoteFeeds | None = None  # made when the session starts

    @property
    def label(self) -> str:
        return f"nats {','.join(self.settings.regions)}"

    @property
    def feeding(self) -> bool:
        return self.remote is not None

    async def prepare(self) -> None:
        self.remote = RemoteFeeds(self.settings, None, 0)

    async def announced_base_mints(self) -> list[str]:
        """What the collectors watch (a consumer without its own configuration)."""
        assert self.remote is not None
        return await self.remote.base_mints()

    async def start(self, link: SourceLink) -> None:
        assert self.remote is not None
        self.remote.ingest, self.remote.first = link.ingest, link.first_endpoint
        self.remote.inputs = link.inputs
        await self.remote.start()

    async def stop(self) -> None:
        if self.remote is not None:
            await self.remote.stop()

    def health(self, ingest: Ingest) -> list[FeedHealth]:
        remote = self.remote  # the regions' endpoints and a row per region
        return remote.health(ingest) if remote is not None and remote.regions else []

    def uncovered_pools(self) -> list[str] | None:
        return None  # its collectors say which (as inputs)

    def regions(self) -> Sequence[RegionView]:
        return self.remote.regions if self.remote is not None else ()

    async def fetch_accounts(self, keys: Sequence[str]) -> dict[str, RawAccount | None]:
        raise LookupError("a NATS consumer reads no accounts itself")


class NatsSinks:
    """A session's NATS side as sinks, over one connection (made when first needed): the
    journal's chunks to the stream too (``journal_stream``), the collector's publisher
    (``collect``: its region)."""

    def __init__(self, settings: FleetSettings) -> None:
        self.settings = settings
        self.stream_journal: StreamJournal | None = None
        self._nc: NATS | None = None

    @property
    def collects(self) -> bool:
        return bool(self.settings.collect)

    async def _js(self) -> JetStreamContext:
        """The JetStream context of the publisher and the journal stream (one connection)."""
        if self._nc is None:
            self._nc = await connect(self.settings.url, name="arbscope-session")
        return self._nc.jetstream(timeout=5.0)

    async def journal(self, journal: Journal) -> JournalTarget:
        if not self.settings.journal_stream:
            return journal
        self.stream_journal = StreamJournal(await self._js(), self.settings.retention)
        await self.stream_journal.open()
        return TeeJournal(journal, self.stream_journal)

    async def publisher(
        self, endpoints: Sequence[str], base_mints: Sequence[str], source: str
    ) -> InputPublisher | None:
        region = self.settings.collect
        if not region:
            return None
        js = await self._js()
        await ensure_stream(
            js, stream_name(region), [f"arbscope.{region}.>"], self.settings.retention
        )
        pub = Publisher(js, region)
        pub.hello(list(endpoints), list(base_mints), source)
        pub.start()
        return pub

    async def close(self) -> None:
        if self.stream_journal is not None:
            await self.stream_journal.close()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = None

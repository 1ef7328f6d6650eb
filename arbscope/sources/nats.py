"""NATS JetStream as a feed source and as sinks (``arbscope.fleet``, issue 23).

:class:`NatsFeeds`: the regions a session consumes (a durable consumer per region's
stream, applied to its ingest as its own sockets' frames are). :class:`NatsSinks`: what a
session publishes, over one connection: a collector's inputs to its region's stream (the
``Publisher``), and the journal's chunks to ``ARBSCOPE_JOURNAL`` beside the SQLite file
(``--journal-stream``)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from feeds.clients.pool import Bootstrap, Endpoint, FeedPool
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
from ..ports import Faucet, Ingest, InputPublisher, RegionView, SourceLink
from .feeds import FeedOptions


class NatsFeeds:
    """The NATS regions of ``settings`` (``regions``): their collectors' endpoints become
    the session's, ``region/endpoint``, numbered after its own."""

    def __init__(self, settings: FleetSettings, options: FeedOptions) -> None:
        self.settings, self.options = settings, options
        self.remote: RemoteFeeds | None = None  # made when the session starts

    @property
    def label(self) -> str:
        return f"nats {','.join(self.settings.regions)}"

    @property
    def simulated(self) -> bool:
        return False

    @property
    def faucet(self) -> Faucet | None:
        return None

    @property
    def commitment(self) -> str:
        return self.options.commitment

    @property
    def ca_file(self) -> str | None:
        return self.options.ca_file

    @property
    def endpoints(self) -> Sequence[Endpoint]:
        return ()

    @property
    def pool(self) -> FeedPool | None:
        return None

    @property
    def boot(self) -> Bootstrap | None:
        return None

    @property
    def feeding(self) -> bool:
        return self.remote is not None

    def universe(self) -> list[tuple[str, str]] | None:
        return None

    def base_mints(self) -> list[str]:
        return []

    def prop_amms(self) -> dict[str, str]:
        return {}

    def config(self) -> dict[str, Any]:
        return {"sim": None, "endpoints": [], "sim_grpc": 0}

    async def prepare(self) -> None:
        self.remote = RemoteFeeds(self.settings, None, 0)

    async def announced_base_mints(self) -> list[str]:
        """What the collectors watch (a consumer without its own configuration)."""
        assert self.remote is not None
        return await self.remote.base_mints()

    async def open(self) -> None:
        return None

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

    def coverage(self) -> dict[str, int]:
        return {}

    def uncovered_pools(self) -> list[str] | None:
        return None  # its collectors say which (as inputs)

    def subscriptions(self) -> int:
        return 0

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

"""A consumer of every region: :class:`RemoteFeeds` holds the regions' feeds and
their health.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Sequence
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from feeds.health import FeedHealth, HealthCounters, standing
from feeds.wire.txview import TxView

from ..ports import Ingest, StreamInputs
from .region import (
    RegionFeed,
)
from .streams import (
    SILENT_S,
    FleetSettings,
    connect,
    stream_name,
)


class _RegionInputs:
    """What one region's collector says of itself, to the session's inputs: its fees and
    token names as they are, the pools it covers nowhere to :class:`RemoteFeeds` (a pool
    is uncovered for the consumer when no region covers it)."""

    def __init__(self, remote: RemoteFeeds, region: str) -> None:
        self.remote, self.region = remote, region

    def on_fees(self, samples: list[tuple[int, int]]) -> None:
        if self.remote.inputs is not None:
            self.remote.inputs.on_fees(samples)

    def on_tokens(self, rows: Sequence[dict[str, Any]]) -> None:
        if self.remote.inputs is not None:
            self.remote.inputs.on_tokens(rows)

    def on_transaction(self, tx: TxView) -> None:
        if self.remote.inputs is not None:
            self.remote.inputs.on_transaction(tx)

    def on_uncovered(self, pools: list[str]) -> None:
        self.remote.region_uncovered(self.region, pools)


class RemoteFeeds:
    """The regions a session consumes: their :class:`RegionFeed` s, the endpoints they
    add (``region/name``, numbered after the session's own), and their health."""

    def __init__(
        self,
        settings: FleetSettings,
        ingest: Ingest | None,
        first_endpoint: int,
        inputs: StreamInputs | None = None,
    ) -> None:
        self.settings = settings
        self.ingest, self.first = ingest, first_endpoint
        self.inputs = inputs  # the session's: the collectors' fees, names, uncovered pools
        self._uncovered: dict[str, frozenset[str]] = {}  # per region, as its collector said
        self.nc: NATS | None = None
        self.regions: list[RegionFeed] = []
        self.names: dict[str, int] = {}  # "region/name" -> endpoint index
        self.counters: dict[int, HealthCounters] = {}
        self.consumer = settings.consumer or f"arbscope-{os.uname().nodename}-{os.getpid()}"
        self.consumer = re.sub(r"[^A-Za-z0-9_-]", "_", self.consumer)

    def endpoint_of(self, name: str) -> int:
        i = self.names.get(name)
        if i is None:
            i = self.names[name] = self.first + len(self.names)
            self.counters[i] = HealthCounters(i, name, "nats")
            self.counters[i].connected = True
        return i

    async def connect(self) -> JetStreamContext:
        self.nc = await connect(self.settings.url, name=f"arbscope-{self.consumer}")
        return self.nc.jetstream(timeout=5.0)

    async def base_mints(self) -> list[str]:
        """The base mints the regions' newest collector runs announced (a consumer
        without its own configuration watches what the collectors watch)."""
        js = await self.connect() if self.nc is None else self.nc.jetstream()
        assert self.nc is not None
        out: list[str] = []
        for r in self.settings.regions:
            feed = RegionFeed(
                js, r, None, self.endpoint_of, self.consumer, self.settings.retention, nc=self.nc
            )
            with contextlib.suppress(nats.js.errors.NotFoundError):
                found = await feed.latest_hello()
                if found:
                    out += [b for b in found[1].get("base_mints", []) if b not in out]
        return out

    async def start(self) -> None:
        js = await self.connect() if self.nc is None else self.nc.jetstream(timeout=5.0)
        assert self.nc is not None
        for r in self.settings.regions:
            feed = RegionFeed(
                js,
                r,
                self.ingest,
                self.endpoint_of,
                self.consumer,
                self.settings.retention,
                nc=self.nc,
                inputs=_RegionInputs(self, r),
                counters=self.counters.get,
            )
            await feed.start()
            self.regions.append(feed)

    def region_uncovered(self, region: str, pools: list[str]) -> None:
        """A region's collector covers ``pools`` on none of its endpoints: a pool is
        uncovered for this consumer when no region covers it."""
        self._uncovered[region] = frozenset(pools)
        if self.inputs is not None:
            sets = [self._uncovered.get(r, frozenset()) for r in self.settings.regions]
            self.inputs.on_uncovered(sorted(frozenset.intersection(*sets)) if sets else [])

    async def stop(self) -> None:
        for f in self.regions:
            await f.stop()
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.close()
            self.nc = None

    def health(self, ingest: Ingest) -> list[FeedHealth]:
        """A row per region (``region/*``: its endpoints' leads summed, the collector ->
        here latency as its lag, gaps as missed, the stream's backlog as its error text),
        first (the panel may not have room for every row), then one per remote endpoint
        (``region/name``: lead and lag from the engine's deduper, as for the session's
        own)."""
        stats = {s.endpoint: s for s in ingest.dedup_stats()}
        integrity = {e.endpoint: e for e in ingest.endpoint_stats()}
        now = time.monotonic()
        out: list[FeedHealth] = []
        rates: dict[int, float] = {}  # messages/s per endpoint (one sample per call)
        for name, i in self.names.items():
            c = self.counters[i]
            region = next((f for f in self.regions if name.startswith(f.region + "/")), None)
            s, e = stats.get(i), integrity.get(i)
            age = None if c.last_message_ns is None else now - c.last_message_ns / 1e9
            # up while its copies keep coming: connected to NATS is not enough (a stopped
            # collector's endpoints were counted up, and decided on, for as long as the
            # server stayed up)
            c.connected = bool(region and region.stats.connected) and _fresh(age)
            out.append(
                FeedHealth(
                    i,
                    name,
                    "nats",
                    c.connected,
                    c.messages,
                    rates.setdefault(i, c.sample_rate(now)),
                    s.first_seen if s else 0,
                    s.duplicates if s else 0,
                    None if s is None or s.lag_p50_ns is None else s.lag_p50_ns / 1e6,
                    None if s is None or s.lag_p99_ns is None else s.lag_p99_ns / 1e6,
                    0,
                    0,
                    0,
                    0,
                    int(age is not None and age > SILENT_S),
                    c.subscriptions,
                    c.last_error,
                    age,
                    slot=e.slot if e else 0,
                    implausible=e.implausible if e else 0,
                    older=e.older if e else 0,
                    unknown=e.unknown if e else 0,
                    identity=e.identity if e else 0,
                    disagreed=e.disagreed if e else 0,
                    held_back=e.held_back if e else 0,
                    quarantined=e.quarantined if e else False,
                    transport="nats",
                    **standing(e),
                )
            )
        regions: list[FeedHealth] = []
        for k, f in enumerate(self.regions):
            st = f.stats
            mine = [i for n, i in self.names.items() if n.startswith(f.region + "/")]
            lead = sum(stats[i].first_seen for i in mine if i in stats)
            dups = sum(stats[i].duplicates for i in mine if i in stats)
            problem = (
                (f"{st.gaps} gaps ({st.gap_batches} batches)" if st.gaps else "")
                or (f"{st.lost} lost to retention" if st.lost else "")
                or (f"{st.damaged} damaged" if st.damaged else "")
                or st.last_error
            )
            p50, p99 = st.latency_quantiles_ms((0.5, 0.99))
            age = None if st.last_message_ns is None else now - st.last_message_ns / 1e9
            regions.append(
                FeedHealth(
                    10_000 + k,
                    f"{f.region}/*",
                    f"nats {stream_name(f.region)}",
                    st.connected and _fresh(age),
                    st.frames,
                    sum(rates.get(i, 0.0) for i in mine),
                    lead,
                    dups,
                    p50,
                    p99,
                    st.gap_batches,
                    0,
                    0,
                    st.runs - 1 if st.runs else 0,
                    int(age is not None and age > SILENT_S),
                    sum(self.counters[i].subscriptions for i in mine),
                    problem,
                    age,
                    transport="nats",
                )
            )
        return regions + out


def _fresh(age_s: float | None) -> bool:
    """Something came within :data:`SILENT_S` (``age_s``: seconds since; None: nothing yet)."""
    return age_s is not None and age_s <= SILENT_S

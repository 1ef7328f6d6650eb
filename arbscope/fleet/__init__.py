"""Past one machine: collectors and dashboards over NATS JetStream (issue 23).

A *collector* (``arbscope collect --nats URL --region NAME``) runs the feed workers of a
session (:class:`~feeds.clients.pool.FeedPool`: any mix of endpoints, or the embedded
simulator) and publishes every input its feeds give — each raw frame with its endpoint
and receive time, the HTTP snapshot's accounts, the pools and tick arrays tracked, the
subscription ids bound, the epoch schedule, the fee samples — in the journal's own input
format (:mod:`storage.codec`), batched, to the region's JetStream stream. Its own engine
reads only the frames it needs (:class:`arbscope.inputs.Forwarder`: the slots, the
pools' own accounts); the others are forwarded only. A *consumer* (``arbscope run
--nats URL --region NAME ...``) applies those inputs to its own engine as if they had come
from its own sockets: each collector endpoint becomes an endpoint of its own named
``region/endpoint`` (``eu/sim-0``), so the engine's deduper takes the first copy across
regions as it does across endpoints, and the Feeds panel shows each one's lead and lag,
with a row per region (``eu/*``).

Streams and subjects: one stream per region, ``ARBSCOPE_<REGION>`` (file storage),
holding ``arbscope.<region>.hello`` (a collector run's start: its run id, endpoint
names, base mints) and ``arbscope.<region>.frames`` / ``arbscope.<region>.state``
(batches of inputs: frames only, or with any other input). Every batch carries the
collector's run id and batch sequence (headers ``Arbscope-Run``, ``Arbscope-Seq``) and a
``Nats-Msg-Id`` of both, so a batch the collector sends again after a lost ack is stored
once (JetStream's duplicate window). The collector keeps up to ``window`` batches in
flight (``publish_async``) and sends every unacknowledged one again, in order, when an
ack does not come (the server restarted, the connection broke).

Consumers are durable pull consumers (acks up to a message, one per dashboard:
``--consumer``), started at the region's latest hello (``get_last_msg``), so a dashboard
that starts late rebuilds the state from that run's snapshot on. A consumer applies the
stream in stream-sequence order, each message once (:class:`RegionFeed`): a message seen
again is passed over by its sequence, a skip in the delivery starts the consumer again
at the next sequence; a batch stored twice (a resend past the duplicate window) is
passed over by its run's batch sequence. The stream may hold a run's batches out of
order (after a reconnect the client's buffered batches go before the publisher's
resends): a batch ahead of the next is held until the next is read. Every batch carries
the publisher's *floor* (``Arbscope-Floor``: every batch below it was acknowledged, so
stored before it, or dropped unsent), so a hole below the floor, or a run that ended
(a new hello), is a *gap* decided without a clock, counted and shown (``gaps``,
``gap_batches``). Messages the stream lost before the consumer read them (retention)
are counted as ``lost``.

The journal can be the stream too (:class:`StreamJournal`): a session run with
``--journal-stream`` also publishes each journal chunk to ``ARBSCOPE_JOURNAL``
(``arbscope.journal.<session>.{begin,chunk,end}``), and ``arbscope replay SESSION --nats
URL [--seq A:B]`` replays it from there to the same digest.

The package's modules: ``streams`` (settings, stream names, the connection and its log),
``publisher`` (:class:`Publisher`), ``region`` (:class:`RegionFeed`), ``remote``
(:class:`RemoteFeeds`), ``journal`` (:class:`StreamJournal`, :class:`TeeJournal`,
:class:`StreamJournalReader`).
"""

from __future__ import annotations

from storage.codec import HEADER

from .journal import (
    StreamJournal,
    StreamJournalReader,
    TeeJournal,
    parse_seq_range,
)
from .publisher import (
    Publisher,
    PublisherStats,
)
from .region import (
    RegionFeed,
    RegionStats,
)
from .remote import (
    RemoteFeeds,
)
from .streams import (
    ACK_EVERY,
    ACK_TIMEOUT_S,
    ACK_WAIT_S,
    CODEC,
    CODEC_LEVEL,
    FETCH,
    FETCH_BYTES,
    GATHER_BYTES,
    JOURNAL_STREAM,
    LATENCY_SAMPLES,
    MAX_ACK_PENDING,
    MAX_BATCH_BYTES,
    MAX_OUTBOX_BYTES,
    OUTAGE_LOG_EVERY_S,
    PULL_EXPIRES_S,
    REGION_RE,
    SILENT_S,
    WINDOW,
    ConnectionLog,
    FleetSettings,
    Retention,
    connect,
    ensure_stream,
    stream_name,
    wall_offset_ns,
)

__all__ = [
    "ACK_EVERY",
    "ACK_TIMEOUT_S",
    "ACK_WAIT_S",
    "CODEC",
    "CODEC_LEVEL",
    "ConnectionLog",
    "FETCH",
    "FETCH_BYTES",
    "FleetSettings",
    "GATHER_BYTES",
    "HEADER",
    "JOURNAL_STREAM",
    "LATENCY_SAMPLES",
    "MAX_ACK_PENDING",
    "MAX_BATCH_BYTES",
    "MAX_OUTBOX_BYTES",
    "OUTAGE_LOG_EVERY_S",
    "PULL_EXPIRES_S",
    "Publisher",
    "PublisherStats",
    "REGION_RE",
    "RegionFeed",
    "RegionStats",
    "RemoteFeeds",
    "Retention",
    "SILENT_S",
    "StreamJournal",
    "StreamJournalReader",
    "TeeJournal",
    "WINDOW",
    "connect",
    "ensure_stream",
    "parse_seq_range",
    "stream_name",
    "wall_offset_ns",
]

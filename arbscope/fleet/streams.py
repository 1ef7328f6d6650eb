"""NATS JetStream's common ground for the fleet: the settings, the streams' names and
configuration, the connection and its log.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import (
    StorageType,
    StreamConfig,
)

from feeds.health import clip
from feeds.redact import redact, scrub

log = logging.getLogger("arbscope.fleet")  # (the package's one logger)

# a message delivered and not acknowledged within this is delivered again; a consumer
# acknowledges what it applied as it goes, so only a consumer that died sees it
ACK_WAIT_S = 30.0
MAX_ACK_PENDING = 8192  # messages delivered, not yet acknowledged (the server's window)
ACK_EVERY = 256  # a consumer acknowledges at least every this many messages (and caught up)
ACK_TIMEOUT_S = 2.0  # a batch not acknowledged within this is sent again
FETCH = 512  # messages a consumer asks for at once
FETCH_BYTES = 16 * 2**20  # and at most this many bytes (big batches under load)
PULL_EXPIRES_S = 2.0  # how long one pull request lingers on the server
# a batch is cut past this many bytes of inputs (compressed, it stays under NATS' default
# max payload, 1 MiB, even when nothing compresses)
MAX_BATCH_BYTES = 960 * 1024
# batches in flight (sent, not acknowledged) at most. While fewer than half of them are,
# a batch goes as soon as there is an input (a light load: an input waits for no ack,
# ~1-3 ms on loopback); from half on, the next one gathers inputs up to GATHER_BYTES (or
# until an ack brings the window below half) before it goes: batches grow with the load
WINDOW = 8
GATHER_BYTES = 256 * 1024
# a batch's inputs compressed (zstd; ``Arbscope-Codec`` says so, its absence: raw) at
# level -1: a region's frames repeat the same accounts, ~32x on the simulator's ~10 KB
# frames at ~2.9 GB/s, where level 1 made ~40x at ~1.4 GB/s and was the collector's
# largest cost per frame (7 us of a ~10 KB frame); consumers read any level alike
CODEC = "zstd"
CODEC_LEVEL = -1
MAX_OUTBOX_BYTES = 256 * 2**20  # unsent batches kept while the server is away (then dropped)
JOURNAL_STREAM = "ARBSCOPE_JOURNAL"
REGION_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
LATENCY_SAMPLES = 65_536
# a region (or a remote endpoint) with nothing for this long shows STALE: its collector
# is gone or cut off (a collector passes on every slot, 2.5 a second on mainnet)
SILENT_S = 5.0
# a NATS outage: its first line at once, then a summary at most this often (s)
OUTAGE_LOG_EVERY_S = 30.0
# what the client reports as it loses the connection (the disconnect's line names it)
_CONNECTION_LOST = (
    nats.errors.UnexpectedEOF,
    nats.errors.StaleConnectionError,
    ConnectionError,
    asyncio.IncompleteReadError,
)


@dataclass(frozen=True)
class Retention:
    """How long a stream keeps what it holds (JetStream limits; 0: no limit)."""

    max_age_s: float = 24 * 3600.0
    max_bytes: int = 8 * 2**30
    duplicate_window_s: float = 120.0  # a resent batch within this is stored once


@dataclass
class FleetSettings:
    """A session's NATS side: ``url``; ``collect``: the region this process publishes
    (a collector); ``regions``: the regions it consumes; ``consumer``: its durable
    consumers' name (one per dashboard; default from the host and process);
    ``journal_stream``: publish the journal's chunks to JetStream as well."""

    url: str
    collect: str | None = None
    regions: Sequence[str] = ()
    consumer: str | None = None
    journal_stream: bool = False
    retention: Retention = field(default_factory=Retention)

    def __post_init__(self) -> None:
        for r in [*self.regions, *([self.collect] if self.collect else [])]:
            if not REGION_RE.match(r):
                raise ValueError(f"region {r!r}: letters, digits, _ and - only (at most 32)")


def stream_name(region: str) -> str:
    return f"ARBSCOPE_{region.upper().replace('-', '_')}"


def wall_offset_ns() -> int:
    """This process's wall clock minus its monotonic clock (ns): receive times cross
    processes as wall-clock ns (the machines' clocks kept by NTP), and come back to the
    consumer's monotonic clock by its own offset."""
    return time.time_ns() - time.monotonic_ns()


class ConnectionLog:
    """What a NATS client says about its connection, in as few lines as tell it: the
    first disconnect or error of an outage is one line at once; while it lasts the
    failed reconnects (one every ``reconnect_time_wait``, each an error) are counted,
    and said at most once every ``every_s`` as a summary with the count and the last
    error; the reconnect is one line with the outage's length and count. (Each error was
    a line: every reconnect attempt, a line a second or more per client per process.)
    ``clock``: seconds (tests give their own)."""

    def __init__(
        self, url: str, every_s: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.url, self.shown, self.clock = url, redact(url), clock
        self.every_s = OUTAGE_LOG_EVERY_S if every_s is None else every_s
        self.down_since: float | None = None  # the outage's start (None: connected)
        self.failures = 0  # errors since the outage began (or since the last line)
        self.outages = 0
        self.lines = 0  # lines logged
        self._said_at = -1e18  # the last line
        self._error_at = -1e18  # the last line of an error while connected
        self._unsaid = 0  # errors while connected since that line, not in it
        self._last = ""
        self._lost = ""  # the error that lost the connection, for the disconnect's line

    def _say(self, level: int, text: str, *args: object) -> None:
        self.lines += 1
        self._said_at = self.clock()
        if level >= logging.WARNING:
            self._unsaid = 0
        log.log(level, "nats %s: " + text, self.shown, *args)

    def disconnected(self, closed: bool = False) -> None:
        """The connection is gone: an outage begins (``closed``: our own close, which
        is no outage and no warning)."""
        if closed:
            log.debug("nats %s: closed", self.shown)
            return
        if self.down_since is not None:
            return
        why, self._lost = self._lost, ""
        self.down_since, self.failures = self.clock(), 0
        self.outages += 1
        self._say(
            logging.WARNING,
            "disconnected%s; reconnecting (said again every %g s while it lasts)",
            f" ({why})" if why else "",
            self.every_s,
        )

    def error(self, exc: BaseException) -> None:
        text = clip(scrub(f"{type(exc).__name__}: {exc}", self.url))
        self.failures += 1
        self._last = text
        now = self.clock()
        if self.down_since is not None:  # a failed reconnect: counted, summed up now and then
            if now - self._said_at >= self.every_s:
                self._say(
                    logging.WARNING,
                    "still unreachable after %.0f s: %d reconnects failed, the last with %s",
                    now - self.down_since,
                    self.failures,
                    text,
                )
            return
        if isinstance(exc, _CONNECTION_LOST):  # the disconnect that follows says it
            self._lost = text
            return
        if now - self._error_at < self.every_s:  # connected: an error line a period at most
            self._unsaid += 1
            return
        more, self._error_at = self._unsaid, now
        self._say(
            logging.WARNING, "%s%s", text, f" (+{more} more since the last line)" if more else ""
        )

    def reconnected(self) -> None:
        since, self.down_since = self.down_since, None
        if since is None:
            self._say(logging.INFO, "reconnected")
            return
        self._say(
            logging.INFO,
            "reconnected after %.1f s (%d reconnects failed%s)",
            self.clock() - since,
            self.failures,
            f", the last with {self._last}" if self.failures else "",
        )
        self.failures = 0


async def connect(
    url: str,
    name: str = "arbscope",
    timeout_s: float = 5.0,
    attempts: int = 3,
    said: ConnectionLog | None = None,
) -> NATS:
    """A client of the NATS server at ``url``. The first connection gets ``attempts``
    tries; then ``ConnectionError`` with the URL redacted (a dead server is a message,
    never a hang). Once connected it reconnects forever (a restarted server is met again;
    what was sent meanwhile is buffered by the client up to its limit). What it meets is
    logged by ``said`` (a :class:`ConnectionLog` of its own unless given): a line when
    an outage begins, a summary every so often while it lasts, one when it ends — never
    a traceback."""
    said = ConnectionLog(url) if said is None else said
    client: list[NATS] = []  # once connected: a disconnect after its close() is no outage

    async def on_error(exc: Exception) -> None:
        said.error(exc)

    async def on_disconnect() -> None:
        said.disconnected(closed=bool(client) and client[0].is_closed)

    async def on_reconnect() -> None:
        said.reconnected()

    try:
        nc = await nats.connect(
            url,
            name=name,
            connect_timeout=timeout_s,
            max_reconnect_attempts=attempts,
            reconnect_time_wait=0.2,
            allow_reconnect=True,
            pending_size=64 * 2**20,
            error_cb=on_error,
            disconnected_cb=on_disconnect,
            reconnected_cb=on_reconnect,
        )
    except (nats.errors.Error, OSError, asyncio.TimeoutError, ValueError) as exc:
        raise ConnectionError(
            f"NATS at {redact(url)}: {scrub(str(exc), url) or type(exc).__name__}"[:300]
        ) from None
    nc.options["max_reconnect_attempts"] = -1  # from now on: reconnect forever
    client.append(nc)
    return nc


async def ensure_stream(
    js: JetStreamContext, name: str, subjects: list[str], retention: Retention
) -> None:
    """The stream ``name`` (file storage, on disk across server restarts), created when
    missing; an existing one is used as it is (its retention is the operator's)."""
    try:
        await js.stream_info(name)
        return
    except nats.js.errors.NotFoundError:
        pass
    cfg = StreamConfig(
        name=name,
        subjects=subjects,
        storage=StorageType.FILE,
        max_age=retention.max_age_s or None,
        max_bytes=retention.max_bytes or -1,
        duplicate_window=retention.duplicate_window_s,
    )
    try:
        await js.add_stream(cfg)
    except nats.js.errors.BadRequestError:
        await js.stream_info(name)  # another process created it meanwhile

"""The session's health: its feeds' health and the verdict (``arbscope.health``) as of the
latest turn, the screen's note, and what serves ``/metrics`` and ``/health``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from feeds.health import FeedHealth

from ..health import HealthMonitor, Verdict
from ..market import REASON_FEEDS_STALLED
from ..ports import Service

if TYPE_CHECKING:
    from ..session import FeedSession
    from .settings import HealthSettings

COVERAGE_EVERY_NS = 1_000_000_000  # the pools no endpoint covers, looked at once a second
log = logging.getLogger("arbscope.session")  # the session's log, as before its parts


class Health:
    """``host``'s health as ``settings`` say: the verdict's memory (``monitor``; None where
    health is not judged: a replay), ``latest`` (the feeds' health and the verdict as of the
    latest turn: judging every turn keeps the verdict's memory as fine-grained as before),
    and the server of ``/metrics`` (``server``; ``error``: why it could not listen)."""

    def __init__(self, host: FeedSession, settings: HealthSettings) -> None:
        self.host = host
        self.settings = settings
        self.monitor: HealthMonitor | None = (
            HealthMonitor(stall_s=settings.stall_s, thresholds=settings.thresholds)
            if settings.judge
            else None
        )
        self.server: Service | None = None
        self.error = ""  # why /metrics could not listen ("" when it does, or is off)
        self.latest: tuple[list[FeedHealth], Verdict | None] = ([], None)
        self._coverage_ns = -COVERAGE_EVERY_NS  # when the uncovered pools were last looked at

    def uncovered(self, now_ns: int) -> list[str] | None:
        """At most every ``COVERAGE_EVERY_NS``: the pools no endpoint covers now, when they
        are not those the evaluator holds no-go (None: nothing new, or not looked at)."""
        host = self.host
        if now_ns - self._coverage_ns < COVERAGE_EVERY_NS:
            return None
        uncovered = host.feeds.uncovered_pools()  # None: its collectors say them
        if uncovered is None:
            return None
        self._coverage_ns = now_ns
        bare = sorted(uncovered)
        return bare if frozenset(bare) != host.ev.uncovered else None

    def judge(self) -> None:
        """The feeds' health and the verdict now (``latest``)."""
        feeds = self.feeds()
        self.latest = (feeds, self.verdict(feeds))

    def feeds(self) -> list[FeedHealth]:
        """Every feed's health: the session's own endpoints, then the regions' (a row per
        region, then its endpoints)."""
        return self.host.feeds.health(self.host.ingest)

    def verdict(self, feeds: list[FeedHealth] | None = None) -> Verdict | None:
        """The session's health now (``arbscope.health``), for ``/health``, the metric
        and the status bar; ``feeds``: the feeds' health when the caller has it. None
        for a replay (its feeds are a recording; its clock is not the wall's)."""
        if self.monitor is None:
            return None
        host = self.host
        feeds = self.feeds() if feeds is None else feeds
        rec = host.recorder
        # the ingest's slot, not the tick's: a paused screen does not freeze the feeds
        slot = int(host.ingest.stats().slot) if host.feeds.feeding else host.slot
        pub = host.publisher  # a collector's: what it cannot publish reaches no one
        return self.monitor.check(
            feeds,
            slot,
            subscriptions=host.feeds.subscriptions(),
            start_error=host.start_error,
            journal_error=rec.error if rec is not None else "",
            pools_uncovered=len(host.ev.uncovered),
            publish_error=pub.problem() if pub is not None else "",
            publish_failing_s=pub.failing_s() if pub is not None else 0.0,
        )

    def stalled(self, now_ns: int) -> str:
        """:data:`~arbscope.market.REASON_FEEDS_STALLED` when no feed has brought a new
        slot for ``feeds_stall_s`` at ``now_ns`` — every endpoint silent or frozen, a
        region's collector stopped — else "". The same fact ``/health`` judges (the slot
        standing still), from what is journaled (the tick's time and the frames'), so a
        replay decides the same."""
        limit_ns = int(self.host.feeds_stall_s * 1e9)
        since = int(self.host.ingest.slot_t_ns or 0)  # 0: no slot yet
        if limit_ns <= 0 or not since or now_ns - since <= limit_ns:
            return ""
        return REASON_FEEDS_STALLED

    def note(self, coverage: dict[str, int], starting: bool) -> str:
        """The screen's one line about the session: why it is idle or failed, the
        snapshot's progress (``starting``), what the snapshot or the coverage lacks, the
        journal's or the metrics' problem; "" when there is none."""
        host = self.host
        if host.idle_reason:
            return host.idle_reason
        if host.start_error:
            return f"feeds failed to start: {host.start_error}"
        pool = host.feeds.pool
        if starting and pool is not None and not pool.progress.done:
            return pool.progress.text()  # snapshot: its phase, accounts so far, retries
        boot = host.feeds.boot
        if boot is not None and (boot.missing or boot.rejected):
            return f"{len(boot.missing)} pools not found, {len(boot.rejected)} accounts rejected"
        bare = [p for p, n in coverage.items() if n == 0]
        if bare:  # subscribed on no endpoint (caps, refusals): nothing reports their changes
            return (
                f"{len(bare)} pools covered by no endpoint (subscriptions refused or over "
                f"a cap): their state is stale, e.g. {bare[0][:8]}…"
            )
        rec = host.recorder
        if rec is not None and rec.error:
            return f"journal: {rec.error}"
        return self.error

    async def serve(self) -> None:
        """``/metrics`` and ``/health`` served over the session's view, when the settings
        say what serves them (a port taken is said, never raised)."""
        serve = self.settings.serve
        if serve is None or self.server is not None:
            return
        server = serve(self.host.view)
        try:
            await server.start()
        except OSError as exc:  # the session goes on; the screen and the log say why
            self.error = f"metrics: cannot listen on {server.host}:{server.port} ({exc.strerror})"
            log.error("%s", self.error)
            return
        self.server = server

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None

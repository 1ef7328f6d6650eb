"""Operations over HTTP: Prometheus ``/metrics`` and JSON ``/health``, on 127.0.0.1 by
default (``[metrics]`` in the config).

The metrics are read from the session when scraped (a prometheus-client collector), so
the hot path pays nothing; kernel latencies come from the timer's cumulative histogram
buckets. Names:

- ``arbscope_info{version,backend,build,source,mode}`` 1
- feeds, per ``endpoint``: ``arbscope_feed_messages_total``, ``..._messages_per_second``,
  ``..._first_copies_total`` (lead), ``..._duplicates_total``, ``..._lag_seconds{quantile}``
  (p50, p99 behind the first copy), ``..._connected``, ``..._reconnects_total``,
  ``..._malformed_total``, ``..._rejected_total``, ``..._missed``, ``..._refused``,
  ``..._quarantined``, ``..._last_message_age_seconds``, ``..._rate_limited_total``,
  ``..._backoff_seconds``, ``..._uncovered_accounts``, ``..._uncovered_pools``;
  ``arbscope_pools_uncovered`` (pools no endpoint covers); ``arbscope_feed_dedup_ratio``
  (duplicates / copies)
- ``arbscope_slot``, ``arbscope_pools``, ``arbscope_opportunities_found_total``,
  ``arbscope_opportunities`` (live now), ``arbscope_opportunities_go``,
  ``arbscope_orders_total{mode,outcome}`` (taken), ``arbscope_pnl{mode}`` (base units),
  ``arbscope_fees_lamports_total{mode}``, ``arbscope_fees_base_total{mode}`` (paper: the
  scorer's fees in the base token, as its PnL counts them)
- per base mint (``base``: its address): ``arbscope_lamport_price`` (base units per
  lamport, ``num / den`` of the price the scorer converts that base's fees with) and
  ``arbscope_lamport_price_missing`` (1 while none is known: those cycles are no-go)
- live routes (``rpc``, ``jito:<engine>``): ``arbscope_route_orders_total{route,outcome}``
  (sent, refused, landed, superseded, expired, failed),
  ``arbscope_route_failures_total{route,error}`` (the program's error name),
  ``arbscope_route_slots_to_land`` (summary: count, sum) and
  ``arbscope_route_slots_to_land_quantile{route,quantile}`` (0.5, 0.9)
- ``arbscope_kernel_latency_seconds{kernel,backend}`` (histogram),
  ``arbscope_engine_errors_total``, ``arbscope_shadow_mismatches_total``
- ``arbscope_journal_queue_depth``, ``arbscope_journal_inputs_written_total``,
  ``arbscope_journal_write_errors``
- rivals (``arbscope.rivals``): ``arbscope_rival_arbitrages_total{outcome}`` (ours,
  speed, no-go: <check>, unseen), ``arbscope_rival_failed_total``,
  ``arbscope_rival_share`` (ours / (ours + theirs) in the window),
  ``arbscope_rival_lead_slots{quantile}`` (0.1, 0.5, 0.9 of the slots we held their cycle
  before they landed)
- ``arbscope_health`` (0 ok, 1 degraded, 2 unhealthy) and the process collector's
  ``process_*``.

``/health`` is ``{"status": "ok" | "degraded" | "unhealthy" | "starting", "problems",
"slot", "slot_age_s", "slot_source", "lag_ms", "feeds": [...], ...}``: the verdict of
:func:`arbscope.health.assess` (the status bar shows the same one) — unhealthy (HTTP
503) when the session failed to start, or no feed delivered anything and the slot stood
still for ``stall_s``; degraded (200) when an endpoint is quarantined or refused every
subscription, lags the chain or claims a slot far ahead of it, most frames are
malformed, the slot is frozen while frames arrive, some feeds are down or stalled, or
the journal fails. ``slot_source`` says what the chain's slot follows
(:func:`arbscope.health.slot_source`); each feed says its ``slot``, how far ``behind``
the chain's it is, whether it is ``lagging`` and ``voting``, and its ``backwards``
slots. URLs appear only redacted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from feeds.health import FeedHealth

from ..health import DEFAULT_THRESHOLDS, HealthMonitor, Thresholds, slot_source
from ..ports import SessionView
from . import families

log = logging.getLogger(__name__)
STATUS_CODE = {"ok": 0, "degraded": 1, "unhealthy": 2, "starting": 1}


class Health:
    """``/health``'s JSON: the session's verdict (:mod:`arbscope.health`, the same one
    the status bar shows) with the facts behind it."""

    def __init__(
        self,
        session: SessionView,
        stall_s: float = 10.0,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        self.session = session
        # for a session that judges none
        self.monitor = HealthMonitor(stall_s=stall_s, thresholds=thresholds)

    def check(self, feeds: list[FeedHealth] | None = None) -> dict[str, Any]:
        """The verdict; ``feeds``: the feeds' health when the caller has it already."""
        s = self.session
        if feeds is None:
            feeds = s.feed_health()
        verdict = s.health_verdict(feeds)
        slot = int(s.slot or 0)
        if verdict is None:
            rec = s.recorder
            verdict = self.monitor.check(
                feeds,
                slot,
                start_error=s.start_error,
                journal_error=rec.error if rec is not None else "",
            )
        lags = [f.lag_p50_ms for f in feeds if f.lag_p50_ms is not None]
        return {
            "status": verdict.status,
            "problems": list(verdict.problems),
            "session": s.session_id,
            "mode": s.mode,
            "slot": slot,
            "slot_age_s": round(verdict.slot_age_s, 3),
            "slot_source": slot_source(feeds),  # what the chain's slot follows
            "lag_ms": {"p50_max": max(lags) if lags else None},
            "feeds": [
                {
                    "name": f.name,
                    "url": f.url,
                    "connected": f.connected,
                    "last_message_age_s": f.last_message_age_s,
                    "messages_per_s": f.messages_per_s,
                    "lead": f.lead,
                    "lag_p50_ms": f.lag_p50_ms,
                    "lag_p99_ms": f.lag_p99_ms,
                    "missed": f.missed,
                    "reconnects": f.reconnects,
                    "malformed": f.malformed,
                    "refused": f.refused,
                    "rate_limited": f.rate_limited,
                    "backoff_s": round(f.backoff_s, 3),
                    "uncovered": f.uncovered,
                    "quarantined": f.quarantined,
                    # how its slot stands to the chain's (the ingest's integrity)
                    "slot": f.slot,
                    "behind": f.behind,
                    "lagging": f.lagging,
                    "voting": f.voting,
                    "backwards": f.backwards,
                    "last_error": f.last_error,
                }
                for f in feeds
            ],
            "errors": int(s.errors),
        }


class SessionCollector(Collector):
    """Prometheus metrics read from ``session`` at scrape time (see module doc)."""

    def __init__(self, session: SessionView, health: Health) -> None:
        self.session, self.health = session, health
        self.versions = session.versions()  # fixed for the process

    def collect(self) -> Iterator[Metric]:
        s = self.session
        feeds = s.feed_health()  # once per scrape: the feed families and the verdict share it
        yield from families.info(s, self.versions)
        yield from families.feeds(feeds)
        yield from families.coverage(s)
        yield from families.market(s)
        yield from families.kernels(s)
        yield from families.journal(s)
        yield from families.fleet(s)
        yield from families.rivals(s)
        h = GaugeMetricFamily("arbscope_health", "0 ok, 1 degraded or starting, 2 unhealthy")
        h.add_metric([], STATUS_CODE[self.health.check(feeds)["status"]])
        yield h


class MetricsServer:
    """``/metrics`` and ``/health`` for ``session`` on ``host:port`` (0: any free port)."""

    def __init__(
        self,
        session: SessionView,
        host: str = "127.0.0.1",
        port: int = 9464,
        stall_s: float = 10.0,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        self.session, self.host, self.port = session, host, port
        self.health = Health(session, stall_s, thresholds)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(SessionCollector(session, self.health))
        ProcessCollector(registry=self.registry)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        """Listen; the base URL (OSError when the port is taken)."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/health", self._health)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        bound = self._runner.addresses  # the port taken, when 0 asked for any free one
        if bound:
            self.port = int(bound[0][1])
        self.url = f"http://{self.host}:{self.port}"
        log.info("metrics on %s/metrics, health on %s/health", self.url, self.url)
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _health(self, request: web.Request) -> web.Response:
        h = self.health.check()
        code = 503 if h["status"] in ("unhealthy", "starting") else 200
        return web.Response(text=json.dumps(h), status=code, content_type="application/json")


@dataclass(frozen=True)
class MetricsSettings:
    """Where ``/metrics`` and ``/health`` listen (``[metrics]`` in the config)."""

    host: str = "127.0.0.1"
    port: int = 9464
    stall_s: float = 10.0
    thresholds: Thresholds = DEFAULT_THRESHOLDS

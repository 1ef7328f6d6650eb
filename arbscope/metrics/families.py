"""The Prometheus families of a session's view, one generator per area (the package's
doc names them): :class:`~arbscope.metrics.SessionCollector` yields them in its order
at each scrape."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)

from feeds.health import FeedHealth

from ..execution.routes import RouteView
from ..ports import SessionView
from ..timing import BUCKETS_NS


def info(s: SessionView, v: dict[str, Any]) -> Iterator[Metric]:
    g = GaugeMetricFamily(
        "arbscope_info",
        "build and session facts",
        labels=["version", "backend", "build", "source", "mode"],
    )
    g.add_metric(
        [
            str(v.get("arbscope", "")),
            str(v.get("engine", "")),
            str(v.get("engine_build", "")),
            str(s.source),
            str(s.mode),
        ],
        1,
    )
    yield g


def rivals(s: SessionView) -> Iterator[Metric]:
    book = s.rivals
    c = CounterMetricFamily(
        "arbscope_rival_arbitrages",
        "others' arbitrage on the watched pools, by how we compared",
        labels=["outcome"],
    )
    for outcome, n in sorted(book.outcomes.items()):
        c.add_metric([outcome], n)
    yield c
    c = CounterMetricFamily(
        "arbscope_rival_failed", "others' failed arbitrage attempts on the watched pools"
    )
    c.add_metric([], book.failed)
    yield c
    theirs, ours = book.share()
    g = GaugeMetricFamily(
        "arbscope_rival_share",
        "our share of the arbitrage landed on the watched pools in the window",
    )
    g.add_metric([], ours / (ours + theirs) if ours + theirs else 0.0)
    yield g
    g = GaugeMetricFamily(
        "arbscope_rival_lead_slots",
        "how many slots before a rival landed we held its cycle (negative: after)",
        labels=["quantile"],
    )
    for q, v in book.lead_quantiles():
        g.add_metric([f"{q:g}"], v)
    yield g


def coverage(s: SessionView) -> Iterator[Metric]:
    pool = s.pool
    if pool is None:
        return
    g = GaugeMetricFamily(
        "arbscope_pools_uncovered",
        "pools no endpoint has every account of subscribed (their state is stale)",
    )
    g.add_metric([], len(pool.uncovered_pools()))
    yield g
    rec = pool.reconciler
    if rec is None:
        return
    st = rec.stats
    c = CounterMetricFamily(
        "arbscope_reconcile_accounts",
        "accounts the reconcile read again, by what it found",
        labels=["found"],
    )
    for found, n in (
        ("equal", st.equal),
        ("differing", st.differing),
        ("ahead", st.ahead),
        ("absent", st.absent),
        ("refused", st.refused),
    ):
        c.add_metric([found], n)
    yield c
    c = CounterMetricFamily(
        "arbscope_reconcile_requests",
        "the reconcile's getMultipleAccounts, by outcome",
        labels=["outcome"],
    )
    c.add_metric(["answered"], st.requests - st.errors)
    c.add_metric(["failed"], st.errors)
    c.add_metric(["unsettled"], st.unsettled)
    yield c
    g = GaugeMetricFamily(
        "arbscope_reconcile_requests_per_second",
        "the reconcile's requests a second (last 10 s; its budget is feeds.reconcile_rps)",
    )
    g.add_metric([], st.rate())
    yield g


def feeds(feeds: list[FeedHealth]) -> Iterator[Metric]:
    lab = ["endpoint"]
    fam: dict[str, CounterMetricFamily | GaugeMetricFamily] = {
        "messages": CounterMetricFamily("arbscope_feed_messages", "frames received", labels=lab),
        "rate": GaugeMetricFamily(
            "arbscope_feed_messages_per_second", "frames per second", labels=lab
        ),
        "lead": CounterMetricFamily(
            "arbscope_feed_first_copies",
            "notifications this endpoint delivered first",
            labels=lab,
        ),
        "dups": CounterMetricFamily(
            "arbscope_feed_duplicates",
            "copies that arrived after another endpoint's",
            labels=lab,
        ),
        "lag": GaugeMetricFamily(
            "arbscope_feed_lag_seconds",
            "lag behind the first copy",
            labels=["endpoint", "quantile"],
        ),
        "up": GaugeMetricFamily("arbscope_feed_connected", "1 when connected", labels=lab),
        "rec": CounterMetricFamily("arbscope_feed_reconnects", "reconnects", labels=lab),
        "bad": CounterMetricFamily(
            "arbscope_feed_malformed", "frames that were not PubSub", labels=lab
        ),
        "rej": CounterMetricFamily(
            "arbscope_feed_rejected", "notifications whose account failed to decode", labels=lab
        ),
        "miss": GaugeMetricFamily(
            "arbscope_feed_missed",
            "notifications others delivered and this one did not",
            labels=lab,
        ),
        "refused": GaugeMetricFamily(
            "arbscope_feed_refused",
            "subscriptions whose latest answer was a refusal",
            labels=lab,
        ),
        "quarantined": GaugeMetricFamily(
            "arbscope_feed_quarantined", "1 while the endpoint is quarantined", labels=lab
        ),
        "age": GaugeMetricFamily(
            "arbscope_feed_last_message_age_seconds",
            "seconds since the endpoint's last frame",
            labels=lab,
        ),
        "limited": CounterMetricFamily(
            "arbscope_feed_rate_limited",
            "HTTP answers that said slow down (429, a JSON-RPC rate-limit code)",
            labels=lab,
        ),
        "backoff": GaugeMetricFamily(
            "arbscope_feed_backoff_seconds",
            "seconds until the endpoint is asked again after a rate limit (0: now)",
            labels=lab,
        ),
        "uncovered": GaugeMetricFamily(
            "arbscope_feed_uncovered_accounts",
            "watched accounts not subscribed on the endpoint",
            labels=lab,
        ),
        "pools_uncovered": GaugeMetricFamily(
            "arbscope_feed_uncovered_pools",
            "pools not all of whose accounts are subscribed on the endpoint",
            labels=lab,
        ),
        "unknown": CounterMetricFamily(
            "arbscope_feed_unknown",
            "notifications under subscription ids the endpoint never gave",
            labels=lab,
        ),
        "implausible": CounterMetricFamily(
            "arbscope_feed_implausible",
            "slots and account updates too far ahead of the chain, ignored",
            labels=lab,
        ),
        "older": CounterMetricFamily(
            "arbscope_feed_older",
            "account updates older than the state held, refused",
            labels=lab,
        ),
        "disputed": CounterMetricFamily(
            "arbscope_feed_disputed",
            "copies refused as an identity change or outvoted by the other endpoints",
            labels=lab,
        ),
        "repaired": CounterMetricFamily(
            "arbscope_feed_repaired",
            "account changes the endpoint never delivered, repaired by the reconcile",
            labels=lab,
        ),
        "rec_req": CounterMetricFamily(
            "arbscope_feed_reconcile_requests",
            "the reconcile's getMultipleAccounts the endpoint answered",
            labels=lab,
        ),
        "rec_rate": GaugeMetricFamily(
            "arbscope_feed_reconcile_requests_per_second",
            "the reconcile's requests the endpoint answered a second (last 10 s)",
            labels=lab,
        ),
    }
    first = dups = 0
    for f in feeds:
        e = [f.name]
        fam["messages"].add_metric(e, f.messages)
        fam["rate"].add_metric(e, f.messages_per_s)
        fam["lead"].add_metric(e, f.lead)
        fam["dups"].add_metric(e, f.duplicates)
        for q, v in (("0.5", f.lag_p50_ms), ("0.99", f.lag_p99_ms)):
            if v is not None:
                fam["lag"].add_metric([f.name, q], v / 1e3)
        fam["up"].add_metric(e, 1 if f.connected else 0)
        fam["rec"].add_metric(e, f.reconnects)
        fam["bad"].add_metric(e, f.malformed)
        fam["rej"].add_metric(e, f.rejected)
        fam["miss"].add_metric(e, f.missed)
        fam["refused"].add_metric(e, f.refused)
        fam["quarantined"].add_metric(e, 1 if f.quarantined else 0)
        if f.last_message_age_s is not None:
            fam["age"].add_metric(e, f.last_message_age_s)
        fam["limited"].add_metric(e, f.rate_limited)
        fam["backoff"].add_metric(e, f.backoff_s)
        fam["uncovered"].add_metric(e, f.uncovered)
        fam["pools_uncovered"].add_metric(e, f.pools_uncovered)
        fam["unknown"].add_metric(e, f.unknown)
        fam["implausible"].add_metric(e, f.implausible)
        fam["older"].add_metric(e, f.older)
        fam["disputed"].add_metric(e, f.identity + f.disagreed)
        fam["repaired"].add_metric(e, f.repaired)
        fam["rec_req"].add_metric(e, f.reconcile_requests)
        fam["rec_rate"].add_metric(e, f.reconcile_per_s)
        first += f.lead
        dups += f.duplicates
    yield from fam.values()
    ratio = GaugeMetricFamily(
        "arbscope_feed_dedup_ratio", "duplicates / all copies of deduplicated notifications"
    )
    ratio.add_metric([], dups / (first + dups) if first + dups else 0.0)
    yield ratio


def market(s: SessionView) -> Iterator[Metric]:
    def gauge(name: str, doc: str, value: float) -> Metric:
        g = GaugeMetricFamily(name, doc)
        g.add_metric([], value)
        return g

    live = dict(s.live)
    yield gauge("arbscope_slot", "newest slot seen", int(s.slot or 0))
    yield gauge("arbscope_pools", "pools in the graph", s.pool_count())
    c = CounterMetricFamily("arbscope_opportunities_found", "profitable cycles that appeared")
    c.add_metric([], int(s.found))
    yield c
    yield gauge("arbscope_opportunities", "profitable cycles now", len(live))
    price = GaugeMetricFamily(
        "arbscope_lamport_price",
        "base units per lamport the scorer converts fees with (arbscope.solprice)",
        labels=["base"],
    )
    missing = GaugeMetricFamily(
        "arbscope_lamport_price_missing",
        "1 while no price of a lamport in the base is known (its cycles are no-go: no_sol_price)",
        labels=["base"],
    )
    for base, p in s.lamport_prices().items():
        missing.add_metric([base], 0 if p is not None else 1)
        if p is not None:
            price.add_metric([base], p.num / p.den)
    yield price
    yield missing
    yield gauge(
        "arbscope_opportunities_go",
        "cycles the scorer says go for now",
        sum(1 for _, sc in live.values() if sc.go),
    )
    orders = CounterMetricFamily(
        "arbscope_orders", "orders taken, by mode and outcome", labels=["mode", "outcome"]
    )
    pnl = GaugeMetricFamily("arbscope_pnl", "profit and loss, base-token units", labels=["mode"])
    fees = CounterMetricFamily(
        "arbscope_fees_lamports", "fees paid (paper: simulated)", labels=["mode"]
    )
    fees_base = CounterMetricFamily(
        "arbscope_fees_base",
        "fees in base-token units as the scorer converted them (paper: simulated)",
        labels=["mode"],
    )
    b = s.broker
    if b is not None:
        orders.add_metric(["paper", "filled"], b.attempts - b.failed)
        orders.add_metric(["paper", "failed"], b.failed)
        orders.add_metric(["paper", "pending"], len(b.pending))
        pnl.add_metric(["paper"], b.pnl)
        fees.add_metric(["paper"], b.fee_lamports_paid)
        fees_base.add_metric(["paper"], b.fees)
    ex = s.executor
    if ex is not None:
        v = ex.view()
        for outcome, n in (
            ("confirmed", v.confirmed),
            ("failed", v.failed),
            ("refused", v.refused),
        ):
            orders.add_metric(["live", outcome], n)
        orders.add_metric(["live", "sent"], v.sent)
        orders.add_metric(["live", "open"], v.open)
        pnl.add_metric(["live"], v.pnl)
    yield orders
    yield pnl
    yield fees
    yield fees_base
    if ex is not None:
        yield from routes(ex.view().routes)


def fleet(s: SessionView) -> Iterator[Metric]:
    """NATS JetStream: a collector's publisher, a consumer's regions."""
    pub = s.publisher
    if pub is not None:
        p, lab = pub.stats, [pub.region]
        for name, doc, value in (
            ("batches", "batches cut", p.batches),
            ("acked", "batches the stream acknowledged", p.acked),
            ("frames", "frames in acknowledged batches", p.frames),
            ("resent", "batches sent again (an ack that did not come)", p.resent),
            ("dropped", "batches dropped unsent (the outbox overflowed)", p.dropped),
        ):
            c = CounterMetricFamily(f"arbscope_nats_published_{name}", doc, labels=["region"])
            c.add_metric(lab, value)
            yield c
        g = GaugeMetricFamily(
            "arbscope_nats_publish_pending", "batches not yet acknowledged", labels=["region"]
        )
        g.add_metric(lab, pub.pending)
        yield g
    regions = s.regions()
    if not regions:
        return
    counters = {
        name: CounterMetricFamily(f"arbscope_nats_region_{name}", doc, labels=["region"])
        for name, doc in (
            ("batches", "batches applied"),
            ("frames", "frames applied"),
            ("gap_batches", "batches never stored (gaps)"),
            ("lost", "stream messages gone before they were read (retention)"),
            ("damaged", "batches that could not be read"),
            ("redelivered", "messages delivered again (passed over)"),
            ("resets", "the consumer started again at the next sequence"),
        )
    }
    pending = GaugeMetricFamily(
        "arbscope_nats_region_pending", "stream messages not yet fetched", labels=["region"]
    )
    latency = GaugeMetricFamily(
        "arbscope_nats_region_latency_seconds",
        "collector receive -> applied here, recent frames",
        labels=["region", "quantile"],
    )
    for f in regions:
        st = f.stats
        values = {
            "batches": st.batches,
            "frames": st.frames,
            "gap_batches": st.gap_batches,
            "lost": st.lost,
            "damaged": st.damaged,
            "redelivered": st.redelivered,
            "resets": st.resets,
        }
        for name, c in counters.items():
            c.add_metric([f.region], values[name])
        pending.add_metric([f.region], st.pending)
        for q, ms in zip((0.5, 0.99), st.latency_quantiles_ms((0.5, 0.99)), strict=True):
            if ms is not None:
                latency.add_metric([f.region, str(q)], ms / 1e3)
    yield from counters.values()
    yield pending
    yield latency


def routes(routes: Sequence[RouteView]) -> Iterator[Metric]:
    """Per route (rpc, jito:<engine>): outcomes, failures by error, slots to land."""
    outcomes = CounterMetricFamily(
        "arbscope_route_orders",
        "live orders by route and outcome",
        labels=["route", "outcome"],
    )
    failures = CounterMetricFamily(
        "arbscope_route_failures",
        "live orders that landed with an error, by route and the program's error name",
        labels=["route", "error"],
    )
    slots = SummaryMetricFamily(
        "arbscope_route_slots_to_land",
        "slots from send to landing, by route",
        labels=["route"],
    )
    quantiles = GaugeMetricFamily(
        "arbscope_route_slots_to_land_quantile",
        "slots from send to landing: p50, p90",
        labels=["route", "quantile"],
    )
    for r in routes:
        for outcome, n in (
            ("sent", r.sent),
            ("refused", r.refused),
            ("landed", r.landed),
            ("superseded", r.superseded),
            ("expired", r.expired),
            ("failed", r.failed),
        ):
            outcomes.add_metric([r.route, outcome], n)
        for name, n in r.errors:
            failures.add_metric([r.route, name], n)
        slots.add_metric([r.route], r.slots_count, r.slots_sum)
        for q, value in (("0.5", r.p50_slots), ("0.9", r.p90_slots)):
            if value is not None:
                quantiles.add_metric([r.route, q], value)
    yield outcomes
    yield failures
    yield slots
    yield quantiles


def kernels(s: SessionView) -> Iterator[Metric]:
    timer = s.timer
    h = HistogramMetricFamily(
        "arbscope_kernel_latency_seconds",
        "engine kernel call latency",
        labels=["kernel", "backend"],
    )
    for name in sorted(timer.stats):
        st = timer.stats[name]
        for backend, counts in sorted(st.hist.items()):
            cum, buckets = 0, []
            for le, n in zip(BUCKETS_NS, counts, strict=False):
                cum += n
                buckets.append((f"{le / 1e9:.9g}", cum))
            buckets.append(("+Inf", cum + counts[-1]))
            h.add_metric([name, backend], buckets, st.sum_ns[backend] / 1e9)
    yield h
    errors = CounterMetricFamily("arbscope_engine_errors", "engine errors (all kernels)")
    errors.add_metric([], timer.errors)
    yield errors
    mism = CounterMetricFamily(
        "arbscope_shadow_mismatches", "Rust and Python disagreed on a shadowed call"
    )
    mism.add_metric([], timer.mismatch_count)
    yield mism


def journal(s: SessionView) -> Iterator[Metric]:
    rec = s.recorder
    q = GaugeMetricFamily("arbscope_journal_queue_depth", "inputs and events not yet written")
    q.add_metric([], rec.pending if rec is not None else 0)
    yield q
    w = CounterMetricFamily("arbscope_journal_inputs_written", "inputs written")
    w.add_metric([], rec.written_inputs if rec is not None else 0)
    yield w
    e = GaugeMetricFamily("arbscope_journal_write_errors", "1 while the last write failed")
    e.add_metric([], 1 if rec is not None and rec.error else 0)
    yield e

"""The feeds panel: per endpoint connected / stale / quarantined / lagging (``LAG n``: its
slot n behind the chain's, or stopped), messages/s, lead, lag,
drops, what the engine refused from it (older updates; disputed copies: implausible
slots, identity changes, copies the majority contradicted, unknown subscription ids),
account changes it never delivered that the reconcile repaired (``repair``: a stream that
drops notifications), reconnects, rate limits (HTTP answers that said "slow down", and the
backoff still to wait), watched accounts not subscribed there (refused, over its
subscription cap) and the last error (URLs are redacted before they get here). The title
says the reconcile's rate (its reads a second, all endpoints). The ``via`` column beside the
name says how the endpoint is read — ``ws`` (Solana PubSub over WebSocket) or ``grpc``
(Yellowstone gRPC) —: lead and lag compare endpoints whatever their transport, so the
rows say which transport leads."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.markup import escape
from rich.text import Text

from ..source import FeedView
from .table import Cell, Column, KeyedTable, num


def status(f: FeedView) -> Text:
    if not f.connected:
        return Text("DOWN", style="bold red")
    if f.quarantined:  # its copies lose first-copy rights until it agrees again
        return Text("QUARANT", style="bold magenta")
    if f.lagging:  # its slot far behind the chain's, or stopped: the chain follows others
        return Text(f"LAG {f.behind:,}", style="bold yellow")
    if f.stale:
        return Text(f"STALE {f.stale}", style="bold yellow")
    return Text("up", style="green")


def _ms(v: float | None) -> str:
    """Whole milliseconds, or — without samples. Rounded to an int first, so a lag just
    under zero (a copy stamped before the first one but handled after it) reads 0, never
    "-0"."""
    return "—" if v is None or not math.isfinite(v) else f"{round(v):,}"


def limited(f: FeedView) -> Text:
    """Rate-limit answers, and the seconds still to wait while backing off."""
    if not f.rate_limited:
        return Text("0", justify="right")
    wait = f" {f.backoff_s:.0f}s" if f.backoff_s >= 0.5 else ""
    return Text(f"{f.rate_limited:,}{wait}", style="yellow", justify="right")


def uncovered(f: FeedView) -> Text:
    return Text(
        f"{f.uncovered:,}", style="yellow" if f.uncovered and f.connected else "", justify="right"
    )


def repaired(f: FeedView) -> Text:
    """Account changes the endpoint never delivered (the reconcile found them): yellow
    while any."""
    return Text(f"{f.repaired:,}", style="yellow" if f.repaired else "", justify="right")


def via(f: FeedView) -> Text:
    """How the endpoint is read: ``ws`` (PubSub), ``grpc`` (Yellowstone gRPC) or ``nats``
    (a region's collector, over JetStream)."""
    if f.transport == "grpc":
        return Text("grpc", style="cyan")
    if f.transport == "nats":
        return Text("nats", style="magenta")
    return Text("ws")


def cells(f: FeedView) -> tuple[Cell, ...]:
    # no duplicates from this endpoint (it delivered every copy first): no lag samples
    lag = "—" if f.lag_p50_ms is None else f"{_ms(f.lag_p50_ms)}/{_ms(f.lag_p99_ms)}"
    return (
        f.name,
        via(f),
        status(f),
        num(f.messages_per_s, ",.0f"),
        num(f.lead),
        Text(lag, justify="right"),
        num(f.missed),
        num(f.malformed + f.rejected),
        num(f.older),
        num(f.implausible + f.identity + f.disagreed + f.unknown),
        repaired(f),
        num(f.reconnects),
        limited(f),
        uncovered(f),
        escape(f.last_error[:60]),
    )


class FeedsPanel(KeyedTable):
    """One row per endpoint."""

    COLUMNS: Sequence[Column] = (
        ("name", "endpoint", 10),
        ("via", "via", 5),
        ("st", "state", 8),
        ("rate", "msg/s", 7),
        ("lead", "lead", 7),
        ("lag", "lag p50/99 ms", 14),
        ("missed", "missed", 7),
        ("bad", "bad", 5),
        ("older", "older", 7),
        ("disp", "disput", 7),
        ("rep", "repair", 7),
        ("rc", "recon", 6),
        ("rl", "429", 7),
        ("unc", "uncov", 6),
        ("err", "last error", 40),
    )
    NUMERIC = frozenset(
        {"rate", "lead", "lag", "missed", "bad", "older", "disp", "rep", "rc", "rl", "unc"}
    )

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, title="Feeds")

    def show(self, feeds: Sequence[FeedView]) -> None:
        self.sync({f.name: cells(f) for f in feeds})
        up = sum(f.connected for f in feeds)
        self.border_title = f"Feeds {up}/{len(feeds)} up" if feeds else "Feeds (none)"
        reads = sum(f.reconcile_per_s for f in feeds)
        if reads:  # the reconcile's pace: its reads a second over the last seconds
            self.border_title += f" · reconcile {reads:.1f}/s"
        errs = [f for f in feeds if f.last_error]
        # the last error in the frame too (the column may be scrolled off on narrow screens)
        self.border_subtitle = (
            escape(f"{errs[-1].name}: {errs[-1].last_error}"[:60]) if errs else ""
        )

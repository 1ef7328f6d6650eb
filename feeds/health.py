"""Per-endpoint feed health.

:class:`FeedHealth` is the frozen record the session publishes (and journals) for each
endpoint; :class:`HealthCounters` is the mutable side the workers and the ingest update.
URLs in both are redacted (:mod:`feeds.redact`) before they get here.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .redact import scrub

log = logging.getLogger(__name__)
LOG_EVERY_S = 5.0


ERROR_CHARS = 200  # an endpoint's last error, kept and logged at most this long


def clip(text: str, limit: int = ERROR_CHARS) -> str:
    """``text`` at most ``limit`` characters: a longer one loses its middle (" … "), not
    its end, where an error says how to fix it (a long CA file's path cut the hint)."""
    if len(text) <= limit:
        return text
    tail = (limit - 3) * 2 // 5
    return f"{text[: limit - 3 - tail]} … {text[-tail:]}"


def size_text(n: int) -> str:
    """``n`` bytes as an operator writes a limit: 16 MiB, 64 KiB, 1.5 GiB, 1000 bytes."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.4g} {unit}"
    return f"{n} bytes"


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """One endpoint's health, as shown and journaled.

    ``lead``: notifications this endpoint delivered first; ``lag_p50_ms``/``lag_p99_ms``:
    how far behind the first copy its other notifications came (None until it has one);
    ``missed``: notifications other endpoints delivered that this one has not (drops,
    or still in flight); ``malformed``: frames that were not valid PubSub JSON;
    ``rejected``: notifications whose account failed to decode (wrong size, owner or
    discriminator); ``stale``: subscriptions silent for longer than the watchdog allows;
    ``refused``: subscriptions whose latest answer from this endpoint was a JSON-RPC
    error (kept across reconnects until it accepts them); ``oversize``: PubSub frames and
    HTTP answers refused for being over the size limit (``feeds.max_frame_mb``).

    Integrity, as the engine's ingest holds it against the endpoint (``EndpointStats``):
    ``slot`` its newest plausible slot; ``implausible`` slots or updates too far ahead of
    the chain, ignored; ``older`` updates older than the state held, refused; ``unknown``
    notifications for subscription ids it never gave; ``identity`` copies that would have
    changed a pool's identity, refused; ``disagreed`` copies the others' majority or a
    re-fetch contradicted; ``held_back`` copies not applied while ``quarantined`` (the
    engine no longer trusts this endpoint's data); ``backwards`` slot notifications below
    its own slot, ignored. How its slot stands to the chain's: ``behind`` slots below it;
    ``lagging`` more than 16 behind, or behind and its slot stopped; ``voting`` while its
    slot counts for the chain's; ``leading`` when the chain's slot follows its slot alone
    (of two voters the steady one ahead, or the only one). A refused notification is no
    ``lead`` for its endpoint, and no other is charged ``missed`` for it. Fields from
    ``refused`` on are newer than the first journals: records journaled before them read
    back with the defaults.

    Limits: ``rate_limited`` HTTP answers that said "slow down" (429, a JSON-RPC
    rate-limit code); ``backoff_s`` how long until it is asked again (0: now);
    ``retry_after_s`` the latest ``Retry-After`` it sent (None: none); ``uncovered``
    accounts the pool subscribes and not subscribed there (refused, over its cap, or not
    connected; one watched and not yet asked of any endpoint is none's);
    ``pools_uncovered`` pools not all of whose accounts are subscribed there; ``cap``
    the subscriptions per connection it allows, once it closed a connection over it.

    The reconcile (:mod:`feeds.clients.reconcile`): ``repaired`` account changes this
    endpoint's stream never delivered, found when the trusted path's re-read differed
    from what the engine held (``EndpointStats.repaired``); ``reconcile_requests`` the
    reconcile's ``getMultipleAccounts`` this endpoint answered over HTTP, and
    ``reconcile_per_s`` their rate over the last seconds.
    """

    endpoint: int
    name: str
    url: str  # redacted
    connected: bool
    messages: int
    messages_per_s: float
    lead: int
    duplicates: int
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    missed: int
    malformed: int
    rejected: int
    reconnects: int
    stale: int
    subscriptions: int
    last_error: str
    last_message_age_s: float | None
    refused: int = 0
    slot: int = 0
    implausible: int = 0
    older: int = 0
    unknown: int = 0
    identity: int = 0
    disagreed: int = 0
    held_back: int = 0
    quarantined: bool = False
    oversize: int = 0  # frames or HTTP answers over the size limit, refused
    rate_limited: int = 0
    backoff_s: float = 0.0
    retry_after_s: float | None = None
    uncovered: int = 0
    pools_uncovered: int = 0
    cap: int | None = None
    # how its stream arrives: ws (PubSub), grpc (Yellowstone), nats (a region's collector)
    transport: str = "ws"
    backwards: int = 0
    behind: int = 0
    lagging: bool = False
    voting: bool = False
    leading: bool = False
    repaired: int = 0
    reconcile_requests: int = 0
    reconcile_per_s: float = 0.0


def standing(e: Any) -> dict[str, Any]:
    """The :class:`FeedHealth` fields of how an endpoint's slot stands to the chain's, from
    its ``EndpointStats`` (None: nothing known, the defaults)."""
    if e is None:
        return {}
    return {
        "backwards": e.backwards,
        "behind": e.behind,
        "lagging": e.lagging,
        "voting": e.voting,
        "leading": e.leading,
    }


@dataclass(slots=True)
class HealthCounters:
    """Mutable counters of one endpoint (one writer: the event loop)."""

    endpoint: int
    name: str
    url: str  # redacted at construction
    connected: bool = False
    messages: int = 0
    malformed: int = 0
    rejected: int = 0
    reconnects: int = 0
    stale: int = 0
    subscriptions: int = 0
    refused: int = 0  # subscriptions whose latest answer was a refusal
    oversize: int = 0  # frames or HTTP answers over the size limit (max_frame_mb)
    last_error: str = ""
    last_message_ns: int | None = None
    rate: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=32))
    _logged_at: float = -1e9
    _unlogged: int = 0

    def error(self, text: str, *secrets: str) -> None:
        self.last_error = clip(scrub(text, *secrets))
        # logged, at most one line per endpoint every LOG_EVERY_S (a flood of malformed
        # frames must not flood the log); the count of the ones not logged goes with it
        now = time.monotonic()
        self._unlogged += 1
        if now - self._logged_at >= LOG_EVERY_S:
            more = (
                f" (+{self._unlogged - 1} more since the last line)" if self._unlogged > 1 else ""
            )
            log.warning("feed %s: %s%s", self.name, self.last_error, more)
            self._logged_at, self._unlogged = now, 0

    def sample_rate(self, now: float | None = None) -> float:
        """Messages per second over the last samples (one sample per call)."""
        now = time.monotonic() if now is None else now
        self.rate.append((now, self.messages))
        (t0, n0), (t1, n1) = self.rate[0], self.rate[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

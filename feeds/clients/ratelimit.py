"""Rate limits of an HTTP endpoint: what counts as "slow down", and the per-endpoint gate
that makes every caller slow down.

A provider says "slow down" in one of these ways (the simulator emulates each:
``feeds.sim.server.RATE_LIMIT_ANSWERS`` cites where each was seen):

- HTTP 429, with or without ``Retry-After`` (seconds; an HTTP date is taken too);
- a JSON-RPC error whose code is one of :data:`RATE_LIMIT_CODES`, whatever the HTTP
  status: 429 (the public mainnet-beta endpoint puts the HTTP status in the body),
  -32429 (Helius), -32029 (theRPC's docs, "Rate limit exceeded"). -32005 is *not* one:
  Agave answers it for an unhealthy node (``JSON_RPC_SERVER_ERROR_NODE_UNHEALTHY``).

:class:`RateGate` holds one endpoint's backoff: after a refusal, no request is sent to
it until ``Retry-After`` (capped at ``max_s``) or, without one, a full-jitter exponential
backoff with jitter (uniform in ``[cap / 2, cap]``, ``cap = min(max_s, min_s *
2^(n-1))``, ``n`` the refusals in a row: "equal jitter", so the waits still double and
concurrent clients spread out) has passed; an answer resets ``n``. A gate with an
``interval_s`` also paces: each request it lets through holds the next one back that long
(an endpoint that allows 1 request a second: ``interval_s`` a little over 1). Callers either wait
for the gate (a snapshot that must complete) or skip the endpoint meanwhile (the hedged
fetch, the fee poller); a request that would wait longer than its own timeout is refused
at once, unsent.
"""

from __future__ import annotations

import asyncio
import random
import time
from email.utils import parsedate_to_datetime

# JSON-RPC error codes that mean "rate limited" (see the module docstring for sources)
RATE_LIMIT_CODES = frozenset({429, -32429, -32029})


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header in seconds (RFC 9110: delay-seconds or an HTTP date);
    None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


class RateGate:
    """One endpoint's rate-limit backoff (see the module docstring)."""

    def __init__(
        self, min_s: float = 0.5, max_s: float = 30.0, seed: int = 0, interval_s: float = 0.0
    ) -> None:
        self.min_s, self.max_s, self.interval_s = min_s, max_s, interval_s
        self.rng = random.Random(seed)
        self.until = 0.0  # monotonic time before which nothing is sent
        self.streak = 0  # refusals in a row
        self.hits = 0  # refusals in all
        self.last_retry_after: float | None = None  # the latest Retry-After (seconds)

    def remaining(self, now: float | None = None) -> float:
        """Seconds until a request may be sent (0: now)."""
        return max(0.0, self.until - (time.monotonic() if now is None else now))

    def refused(self, retry_after: float | None) -> float:
        """A rate-limit answer arrived: back off; the wait chosen (seconds)."""
        self.hits += 1
        self.streak += 1
        self.last_retry_after = retry_after
        if retry_after is not None:
            wait = min(self.max_s, max(0.0, retry_after))
        else:
            cap = min(self.max_s, self.min_s * 2 ** min(self.streak - 1, 32))
            wait = self.rng.uniform(cap / 2, cap)
        # a later answer never shortens a wait a concurrent refusal already set
        self.until = max(self.until, time.monotonic() + wait)
        return wait

    def answered(self) -> None:
        """A request was answered (not refused): the next refusal starts small again."""
        self.streak = 0

    def take_now(self) -> bool:
        """Whether a request may be sent now, without waiting (a paced gate: it takes the
        slot). False while backing off or before the pace allows."""
        if self.remaining() > 0:
            return False
        if self.interval_s > 0:
            self.until = max(self.until, time.monotonic() + self.interval_s)
        return True

    async def wait(self, limit_s: float | None = None) -> bool:
        """Wait until a request may be sent; False at once (not waiting) when that is
        more than ``limit_s`` away."""
        left = self.remaining()
        if limit_s is not None and left > limit_s:
            return False
        while left > 0:
            await asyncio.sleep(left)
            left = self.remaining()
        if self.interval_s > 0:  # paced: this request takes the slot (no await since the
            # last look, so two waiters never both pass)
            self.until = max(self.until, time.monotonic() + self.interval_s)
        return True

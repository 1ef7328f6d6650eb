"""The session's health, decided in one place: :func:`assess` turns its inputs (each
feed's :class:`~feeds.health.FeedHealth`, the slot's age, the recent malformed counts,
the session's own failures) into a :class:`Verdict` — a status and its problems in
words. ``/health``, the ``arbscope_health`` metric and the status bar all show that
verdict, so they cannot disagree. :class:`HealthMonitor` keeps what the verdict needs
from one call to the next (when the slot last moved, the recent frame counts).

:func:`slot_source` says in words what the chain's slot follows (the majority of the
voting endpoints, the one that leads a lagging one, the only one voting).

Statuses: ``unhealthy`` when the session failed to start, or every feed is down or
silent and the slot stood still for ``stall_s``, or (a collector) it has not been able
to publish to NATS for ``stall_s``; ``starting`` before any feed exists; ``degraded``
when any problem below holds; else ``ok``. Problems, most serious first:

- (a collector) publishing to NATS fails: what it collects reaches no one;
- an endpoint quarantined (the engine no longer trusts its data);
- an endpoint refused every subscription;
- an endpoint lagging (its slot more than 16 behind the chain's, or stopped: with two
  endpoints the chain then follows the other one alone), or its slot more than
  ``MAX_SLOT_LEAD`` ahead of the chain's (not trusted: with two endpoints, one of them
  is wrong and the chain follows the lower);
- an endpoint unstable: it reconnected ``FLAPS`` times or more over the last
  ``flap_window_s`` (a lagging or dying node that keeps coming back: between its
  reconnects it looks healthy, and each time its stream was down its updates were
  missing);
- most frames malformed over the last ``window_s``, on one endpoint or over all;
- the slot frozen for ``stall_s`` while frames still arrive;
- some feeds down or silent for ``stall_s``;
- pools no endpoint covers (their cycles are no-go: ``uncovered``);
- the journal failing.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from feeds.health import FeedHealth

MIN_FRAMES = 20  # frames in the window before a malformed share is judged
MAX_SLOT_LEAD = 32  # slots an endpoint may be ahead of the chain (the ingest's)
MOST = 0.5  # "most frames": more than this share
FLAPS = 3  # reconnects over the flap window that make an endpoint unstable


@dataclass(frozen=True, slots=True)
class Verdict:
    """The session's health: ``status`` (ok | degraded | unhealthy | starting) and
    ``problems``, most serious first, each a short sentence; ``slot_age_s``: seconds
    since the slot last moved."""

    status: str = "starting"
    problems: tuple[str, ...] = ()
    slot_age_s: float = 0.0


def assess(
    feeds: Sequence[FeedHealth],
    *,
    slot: int,
    slot_age_s: float,
    stall_s: float = 10.0,
    window_s: float = 10.0,
    recent: Mapping[int, tuple[int, int]] | None = None,
    subscriptions: int = 0,
    start_error: str = "",
    journal_error: str = "",
    age_s: float = float("inf"),
    pools_uncovered: int = 0,
    publish_error: str = "",
    publish_failing_s: float = 0.0,
    reconnects: Mapping[int, int] | None = None,
    flap_window_s: float = 60.0,
) -> Verdict:
    """The verdict on ``feeds`` and the session.

    ``recent``: per endpoint, (frames, malformed frames) over the last ``window_s``
    seconds; ``subscriptions``: how many each endpoint was asked for (0: unknown);
    ``pools_uncovered``: pools no endpoint covers; ``age_s``: seconds since the session
    began (``starting`` lasts ``stall_s``); ``publish_error``: a collector's publisher's
    trouble ("" none), failing for ``publish_failing_s`` seconds; ``reconnects``: per
    endpoint, its reconnects over the last ``flap_window_s`` seconds."""
    if start_error:
        return Verdict("unhealthy", (f"start failed: {start_error}",), slot_age_s)
    if publish_error and publish_failing_s >= stall_s:  # its one job is not done
        return Verdict("unhealthy", (publish_error,), slot_age_s)
    if not feeds:
        status = "starting" if age_s < stall_s else "unhealthy"
        return Verdict(status, ("no feeds yet",), slot_age_s)
    silent = [
        f
        for f in feeds
        if not f.connected or f.last_message_age_s is None or f.last_message_age_s > stall_s
    ]
    if len(silent) == len(feeds) and slot_age_s > stall_s:
        return Verdict("unhealthy", (f"all feeds stalled: nothing for {stall_s:g} s",), slot_age_s)
    problems: list[str] = [publish_error] if publish_error else []
    for f in feeds:
        if f.quarantined:
            problems.append(f"{f.name} quarantined")
    for f in feeds:
        if subscriptions and f.refused >= subscriptions:
            problems.append(f"{f.name} refused all {f.refused} subscriptions")
    for f in feeds:
        if not f.connected:
            continue  # down: said below
        if f.lagging:
            problems.append(
                f"{f.name} lagging: {f.behind} slots behind the chain"
                + ("" if f.voting else ", its slot stopped")
            )
        elif slot and f.slot > slot + MAX_SLOT_LEAD:
            problems.append(f"{f.name}: its slot {f.slot - slot} ahead of the chain, not trusted")
    for f in feeds:
        flaps = (reconnects or {}).get(f.endpoint, 0)
        if flaps >= FLAPS:
            problems.append(
                f"{f.name} unstable: {flaps} reconnects in the last {flap_window_s:g} s"
            )
    recent = recent or {}
    total = bad = 0
    for f in feeds:
        n, m = recent.get(f.endpoint, (0, 0))
        total, bad = total + n, bad + m
        if n >= MIN_FRAMES and m > MOST * n:
            problems.append(
                f"{f.name}: {m / n:.0%} of frames malformed ({m} of {n} in {window_s:g} s)"
            )
    if len(feeds) > 1 and total >= MIN_FRAMES and bad > MOST * total:
        problems.append(
            f"most frames malformed: {bad / total:.0%} of {total} in {window_s:g} s, all feeds"
        )
    if slot_age_s > stall_s and len(silent) < len(feeds):
        problems.append(f"slot frozen for {slot_age_s:.0f} s at {slot} while frames arrive")
    if silent:
        problems.append(f"{len(silent)} of {len(feeds)} feeds down or stalled")
    if pools_uncovered:
        problems.append(f"{pools_uncovered} pools covered by no endpoint: their cycles are no-go")
    if journal_error:
        problems.append(f"journal: {journal_error}")
    return Verdict("degraded" if problems else "ok", tuple(problems), slot_age_s)


def slot_source(feeds: Sequence[FeedHealth]) -> str:
    """What the chain's slot follows, in words: ``majority of 3 (a, b, c)``, ``b leads a
    (lagging)`` (of two voting endpoints the steady one ahead), ``b alone`` (the only one
    voting), ``none`` (no endpoint's slot votes)."""
    voting = [f for f in feeds if getattr(f, "voting", False)]
    if not voting:
        return "none"
    lead = next((f for f in voting if getattr(f, "leading", False)), None)
    if lead is None:
        return f"majority of {len(voting)} ({', '.join(f.name for f in voting)})"
    others = [f for f in voting if f is not lead]
    if not others:
        return f"{lead.name} alone"
    return f"{lead.name} leads " + ", ".join(
        f.name + (" (lagging)" if getattr(f, "lagging", False) else "") for f in others
    )


@dataclass
class HealthMonitor:
    """What :func:`assess` needs from one call to the next: when the slot last moved,
    and each endpoint's (time, frames, malformed) samples over ``window_s`` seconds.
    Any number of callers (the tick, ``/health`` scrapes) may call :meth:`check`.
    Reconnects are counted over the longer ``flap_window_s``: an endpoint that comes back
    every few seconds is judged on a minute, not on the moments between its failures."""

    stall_s: float = 10.0
    window_s: float = 10.0
    flap_window_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _born: float | None = None
    _slot: int = -1
    _slot_t: float = 0.0
    _samples: dict[int, deque[tuple[float, int, int]]] = field(default_factory=dict)
    _reconnects: dict[int, deque[tuple[float, int]]] = field(default_factory=dict)

    def check(
        self,
        feeds: Sequence[FeedHealth],
        slot: int,
        *,
        subscriptions: int = 0,
        start_error: str = "",
        journal_error: str = "",
        pools_uncovered: int = 0,
        publish_error: str = "",
        publish_failing_s: float = 0.0,
    ) -> Verdict:
        now = self.clock()
        if self._born is None:
            self._born = self._slot_t = now
        if slot != self._slot:
            self._slot, self._slot_t = slot, now
        recent = {}
        flaps: dict[int, int] = {}
        for f in feeds:
            q = self._samples.setdefault(f.endpoint, deque())
            q.append((now, f.messages, f.malformed))
            while len(q) > 1 and q[1][0] <= now - self.window_s:
                q.popleft()
            (_, n0, m0), (_, n1, m1) = q[0], q[-1]
            recent[f.endpoint] = (n1 - n0, m1 - m0)
            r = self._reconnects.setdefault(f.endpoint, deque())
            r.append((now, f.reconnects))
            while len(r) > 1 and r[1][0] <= now - self.flap_window_s:
                r.popleft()
            flaps[f.endpoint] = r[-1][1] - r[0][1]
        return assess(
            feeds,
            slot=slot,
            slot_age_s=now - self._slot_t,
            stall_s=self.stall_s,
            window_s=self.window_s,
            recent=recent,
            subscriptions=subscriptions,
            start_error=start_error,
            journal_error=journal_error,
            age_s=now - self._born,
            pools_uncovered=pools_uncovered,
            publish_error=publish_error,
            publish_failing_s=publish_failing_s,
            reconnects=flaps,
            flap_window_s=self.flap_window_s,
        )

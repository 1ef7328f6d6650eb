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
- an endpoint's stream losing or spoiling its notifications over the last ``window_s``,
  past a threshold of its own (:class:`Thresholds`, ``[metrics]`` in the configuration):
  the notifications the others delivered that it did not (``missed``: 99 % when it
  delivers no account data at all), notifications under subscription ids it never gave
  (``unknown``), from slots too far ahead (``implausible``), account updates older than
  the state held (``older``), and account changes it never delivered that the reconcile
  found (``repaired``);
- the slot frozen for ``stall_s`` while frames still arrive;
- some feeds down or silent for ``stall_s``;
- pools no endpoint covers (their cycles are no-go: ``uncovered``);
- the journal failing.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from feeds.health import FeedHealth

MIN_FRAMES = 20  # frames in the window before a malformed share is judged
# a stream's share is over its limit only when the share's lower confidence bound is
# (Wilson's score interval, z for one side at 99 %): a few notifications lost in a
# short window (2 of 25 from an endpoint dropping 3 %) are chance, not a problem; a
# fifth lost of 100 is one (its bound is 12 %)
Z = 2.326


def share_low(n: int, d: int) -> float:
    """The lower bound of ``n`` of ``d``'s true share (Wilson's score interval, ``Z``)."""
    if n <= 0 or d <= 0:
        return 0.0
    p, z2 = n / d, Z * Z
    centre = p + z2 / (2 * d)
    spread = Z * math.sqrt(p * (1 - p) / d + z2 / (4 * d * d))
    return max(0.0, (centre - spread) / (1 + z2 / d))


# the shares judged per endpoint over the window: (its FeedHealth's numerator,
# the denominator's fields) — see Thresholds
SHARES: dict[str, tuple[str, tuple[str, ...]]] = {
    "missed": ("missed", ("missed", "lead", "duplicates")),
    "unknown": ("unknown", ("messages",)),
    "implausible": ("implausible", ("messages",)),
    "older": ("older", ("messages",)),
    "repaired": ("repaired", ("repaired", "lead", "duplicates")),
}
COUNTS = frozenset({"implausible"})  # judged as counts in the window, not shares
_FIELDS = tuple(sorted({k for num, den in SHARES.values() for k in (num, *den)}))
SHARE_WORDS = {
    "missed": "missed {pct} of the notifications the other endpoints delivered",
    "unknown": "{pct} of its notifications under subscription ids it never gave (unknown)",
    "implausible": "{n:,} notifications from slots too far ahead of the chain (implausible)",
    "older": "{pct} of its notifications older than the state held (older)",
    "repaired": "never delivered {pct} of its changes: the reconcile repaired them",
}
MAX_SLOT_LEAD = 32  # slots an endpoint may be ahead of the chain (the ingest's)
MOST = 0.5  # "most frames": more than this share
FLAPS = 3  # reconnects over the flap window that make an endpoint unstable


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Past these shares over the window, an endpoint's stream is a problem (per cent;
    ``[metrics]``: ``missed_max_pct`` ...): ``missed`` of the notifications the other
    endpoints delivered (missed + its first copies and duplicates), ``unknown`` and
    ``older`` of its messages, ``repaired`` of its notifications and repairs: judged once
    the window holds ``MIN_FRAMES`` of the denominator, and over the limit only when the
    share's lower confidence bound is (:func:`share_low`: not by chance); ``implausible``
    a count (an honest node never sends a slot from the future: by default one is a
    problem)."""

    missed: float = 5.0
    unknown: float = 5.0
    implausible: float = 0.0  # a count, not a share: a slot from the future is a lie
    older: float = 20.0
    repaired: float = 0.5


DEFAULT_THRESHOLDS = Thresholds()


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
    shares: Mapping[int, Mapping[str, tuple[int, int]]] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Verdict:
    """The verdict on ``feeds`` and the session.

    ``recent``: per endpoint, (frames, malformed frames) over the last ``window_s``
    seconds; ``subscriptions``: how many each endpoint was asked for (0: unknown);
    ``pools_uncovered``: pools no endpoint covers; ``age_s``: seconds since the session
    began (``starting`` lasts ``stall_s``); ``publish_error``: a collector's publisher's
    trouble ("" none), failing for ``publish_failing_s`` seconds; ``reconnects``: per
    endpoint, its reconnects over the last ``flap_window_s`` seconds; ``shares``: per
    endpoint, each figure of ``SHARES`` over the window as (count, of how many), judged
    against ``thresholds``."""
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
    for f in feeds:
        if not f.connected:
            continue
        for what, (n, d) in (shares or {}).get(f.endpoint, {}).items():
            limit = getattr(thresholds, what)
            if what in COUNTS:
                if n > limit:
                    problems.append(f"{f.name}: {SHARE_WORDS[what].format(n=n)} in {window_s:g} s")
                continue
            if d >= MIN_FRAMES and share_low(n, d) * 100 > limit:
                pct = f"{n / d:.1%}" if n / d < 0.1 else f"{n / d:.0%}"
                problems.append(
                    f"{f.name} {SHARE_WORDS[what].format(pct=pct)} ({n:,} of {d:,} in "
                    f"{window_s:g} s; the limit is {limit:g} %)"
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
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    _born: float | None = None
    _slot: int = -1
    _slot_t: float = 0.0
    # per endpoint: (time, (messages, malformed, the fields SHARES reads ...))
    _samples: dict[int, deque[tuple[float, tuple[int, ...]]]] = field(default_factory=dict)
    _reconnects: dict[int, deque[tuple[float, int]]] = field(default_factory=dict)
    # per endpoint: since when it has had every watched account subscribed (None: not
    # now); what it missed is judged only once that covers the window: before, the
    # others' notifications of accounts it had not subscribed yet (a start, a
    # reconnect's burst on a busy machine) or could not (a cap) counted as missed
    _whole_since: dict[int, float | None] = field(default_factory=dict)

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
        shares: dict[int, dict[str, tuple[int, int]]] = {}
        flaps: dict[int, int] = {}
        for f in feeds:
            q = self._samples.setdefault(f.endpoint, deque())
            q.append((now, (f.messages, f.malformed, *(int(getattr(f, k)) for k in _FIELDS))))
            while len(q) > 1 and q[1][0] <= now - self.window_s:
                q.popleft()
            first, last = q[0][1], q[-1][1]
            recent[f.endpoint] = (last[0] - first[0], last[1] - first[1])
            moved = {k: last[2 + i] - first[2 + i] for i, k in enumerate(_FIELDS)}
            shares[f.endpoint] = {
                what: (moved[num], sum(moved[k] for k in den))
                for what, (num, den) in SHARES.items()
            }
            r = self._reconnects.setdefault(f.endpoint, deque())
            r.append((now, f.reconnects))
            while len(r) > 1 and r[1][0] <= now - self.flap_window_s:
                r.popleft()
            flaps[f.endpoint] = r[-1][1] - r[0][1]
            whole = self._whole_since.get(f.endpoint)
            if f.uncovered:
                self._whole_since[f.endpoint] = whole = None
            elif whole is None:
                self._whole_since[f.endpoint] = whole = now
            if whole is None or now - whole < self.window_s:
                shares[f.endpoint].pop("missed")
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
            shares=shares,
            thresholds=self.thresholds,
        )

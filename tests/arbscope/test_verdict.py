"""arbscope.health.assess and HealthMonitor on constructed feed records: each condition
alone, their order, and the recent window (the wire cases are in test_health.py)."""

from __future__ import annotations

from dataclasses import replace

from arbscope.health import HealthMonitor, Thresholds, Z, assess, share_low, slot_source
from feeds.health import FeedHealth


def feed(endpoint: int = 0, name: str = "a", **kw: object) -> FeedHealth:
    base = FeedHealth(
        endpoint,
        name,
        "ws://127.0.0.1:1",
        True,
        1_000,
        50.0,
        10,
        990,
        1.0,
        2.0,
        0,
        0,
        0,
        0,
        0,
        12,
        "",
        0.1,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_healthy_feeds_are_ok() -> None:
    v = assess([feed(0, "a"), feed(1, "b")], slot=9, slot_age_s=0.4, subscriptions=12)
    assert v.status == "ok" and v.problems == ()


def test_a_quarantined_endpoint_degrades_first() -> None:
    feeds = [feed(0, "a"), feed(1, "b", quarantined=True, refused=12)]
    v = assess(feeds, slot=9, slot_age_s=0.4, subscriptions=12)
    assert v.status == "degraded"
    assert v.problems == ("b quarantined", "b refused all 12 subscriptions")


def test_only_every_subscription_refused_degrades() -> None:
    some = assess([feed(refused=3)], slot=9, slot_age_s=0.4, subscriptions=12)
    every = assess([feed(refused=12, subscriptions=0)], slot=9, slot_age_s=0.4, subscriptions=12)
    assert some.status == "ok"
    assert every.status == "degraded" and every.problems == ("a refused all 12 subscriptions",)


def test_most_frames_malformed_per_endpoint_and_overall() -> None:
    feeds = [feed(0, "a"), feed(1, "b")]
    one = assess(feeds, slot=9, slot_age_s=0.4, recent={0: (100, 0), 1: (100, 80)})
    assert one.problems == ("b: 80% of frames malformed (80 of 100 in 10 s)",)
    both = assess(feeds, slot=9, slot_age_s=0.4, recent={0: (100, 60), 1: (100, 80)})
    assert both.problems[-1] == "most frames malformed: 70% of 200 in 10 s, all feeds"
    half = assess(feeds, slot=9, slot_age_s=0.4, recent={0: (100, 50), 1: (100, 50)})
    few = assess(feeds, slot=9, slot_age_s=0.4, recent={0: (10, 10), 1: (5, 5)})
    assert half.status == few.status == "ok"  # half is not most; 15 frames are too few


def test_a_frozen_slot_degrades_while_frames_arrive_and_is_unhealthy_when_all_stop() -> None:
    v = assess([feed()], slot=9, slot_age_s=12.0, stall_s=10.0)
    assert v.status == "degraded" and v.problems == (
        "slot frozen for 12 s at 9 while frames arrive",
    )
    dead = assess([feed(last_message_age_s=11.0)], slot=9, slot_age_s=12.0, stall_s=10.0)
    assert dead.status == "unhealthy" and dead.problems == ("all feeds stalled: nothing for 10 s",)


def test_start_failures_feeds_down_and_the_journal() -> None:
    assert assess([], slot=0, slot_age_s=0, start_error="RpcError: x").status == "unhealthy"
    assert assess([], slot=0, slot_age_s=0, age_s=1.0).status == "starting"
    assert assess([], slot=0, slot_age_s=0, age_s=11.0).status == "unhealthy"
    v = assess(
        [feed(0, "a"), feed(1, "b", connected=False)],
        slot=9,
        slot_age_s=0.4,
        journal_error="disk full",
    )
    assert v.status == "degraded" and v.problems == (
        "1 of 2 feeds down or stalled",
        "journal: disk full",
    )


def test_the_monitor_judges_the_recent_window_not_the_whole_history() -> None:
    now = [0.0]
    m = HealthMonitor(stall_s=10.0, window_s=10.0, clock=lambda: now[0])
    garbage = feed(messages=1_000, malformed=900)
    assert m.check([garbage], slot=1).status == "ok"  # one sample: no window yet
    now[0] = 5.0
    v = m.check([replace(garbage, messages=1_100, malformed=990)], slot=2)
    assert v.problems == ("a: 90% of frames malformed (90 of 100 in 10 s)",)
    # the garbage stopped: 20 s later the window holds only clean frames
    for t, n in ((15.0, 1_200), (25.0, 1_300)):
        now[0] = t
        v = m.check([replace(garbage, messages=n, malformed=990)], slot=int(t))
    assert v.status == "ok" and v.slot_age_s == 0.0
    now[0] = 37.0  # the slot has not moved for 12 s while frames arrive
    v = m.check([replace(garbage, messages=1_400, malformed=990)], slot=25)
    assert v.problems == ("slot frozen for 12 s at 25 while frames arrive",)


def test_a_lagging_endpoint_of_two_degrades_and_the_slot_source_says_who_leads() -> None:
    """Issue 35: with two endpoints, one 40 slots behind (the chain follows the other)
    is degraded, not ok; one whose slot stopped says so; one far ahead of the chain (not
    trusted) too. What the chain's slot follows is said in words."""
    lagging = [
        feed(0, "node-0", slot=960, behind=40, lagging=True, voting=True),
        feed(1, "node-1", slot=1_000, voting=True, leading=True),
    ]
    v = assess(lagging, slot=1_000, slot_age_s=0.4)
    assert v.status == "degraded" and v.problems == ("node-0 lagging: 40 slots behind the chain",)
    assert slot_source(lagging) == "node-1 leads node-0 (lagging)"
    stopped = [replace(lagging[0], voting=False), lagging[1]]
    assert assess(stopped, slot=1_000, slot_age_s=0.4).problems == (
        "node-0 lagging: 40 slots behind the chain, its slot stopped",
    )
    assert slot_source(stopped) == "node-1 alone"
    ahead = [feed(0, "a", slot=2_000, voting=True), feed(1, "b", slot=1_000, voting=True)]
    assert assess(ahead, slot=1_000, slot_age_s=0.4).problems == (
        "a: its slot 1000 ahead of the chain, not trusted",
    )
    assert slot_source(ahead) == "majority of 2 (a, b)" and slot_source([feed()]) == "none"
    # within the allowance, or down (said as down): no such problem
    near = [feed(0, "a", slot=1_030), feed(1, "b", lagging=True, behind=99, connected=False)]
    assert assess(near, slot=1_000, slot_age_s=0.4).problems == ("1 of 2 feeds down or stalled",)


def test_an_endpoint_that_keeps_reconnecting_is_unstable_over_the_flap_window() -> None:
    """Between its reconnects a flapping endpoint looks healthy (connected, its slot
    fresh): judged on its reconnects over a minute, it degrades the session; one or two
    reconnects do not, and once it holds for a window it is ok again."""
    now = [0.0]
    m = HealthMonitor(stall_s=10.0, window_s=10.0, flap_window_s=60.0, clock=lambda: now[0])
    a, b = feed(0, "a"), feed(1, "b")
    seen = []
    for t, n in ((0.0, 0), (10.0, 1), (20.0, 2), (30.0, 3)):
        now[0] = t
        v = m.check([replace(a, reconnects=1), replace(b, reconnects=n)], slot=int(t))
        seen.append(v.status)
    assert seen == ["ok", "ok", "ok", "degraded"]
    assert v.problems == ("b unstable: 3 reconnects in the last 60 s",)
    for t in (50.0, 80.0, 100.0):  # it holds: its reconnects leave the window
        now[0] = t
        v = m.check([replace(a, reconnects=1), replace(b, reconnects=3)], slot=int(t))
    assert v.status == "ok" and v.problems == ()
    # assess on its own: the problem comes after a lagging endpoint's, named per endpoint
    lag = assess(
        [replace(a, lagging=True, behind=40, voting=True), b],
        slot=9,
        slot_age_s=0.4,
        reconnects={0: 0, 1: 5},
        flap_window_s=60.0,
    )
    assert lag.problems == (
        "a lagging: 40 slots behind the chain",
        "b unstable: 5 reconnects in the last 60 s",
    )


def test_a_stream_that_loses_or_spoils_its_notifications_degrades_past_its_threshold() -> None:
    """What the engine counts against an endpoint — notifications it missed that the
    others delivered, under subscription ids it never gave, from slots too far ahead,
    older than the state held, changes it never delivered that the reconcile repaired —
    judged over the window as shares (a count for slots from the future) against the
    configured thresholds; an endpoint that keeps under them is ok."""
    now = [0.0]
    m = HealthMonitor(stall_s=10.0, window_s=10.0, clock=lambda: now[0])
    base = [feed(0, "a"), feed(1, "b"), feed(2, "c")]
    m.check(base, slot=1)
    now[0] = 10.0
    moved = [
        # a: delivered 1,000 more, missed 300 the others delivered (23 %)
        replace(base[0], messages=2_000, lead=510, duplicates=1_490, missed=300),
        # b: 600 of 1,000 messages under unknown ids, 3 slots from the future
        replace(base[1], messages=2_000, lead=510, duplicates=1_490, unknown=600, implausible=3),
        # c: 300 of 1,000 older; 40 changes repaired (of 1,040)
        replace(base[2], messages=2_000, lead=510, duplicates=1_490, older=300, repaired=40),
    ]
    v = m.check(moved, slot=2)
    assert v.status == "degraded"
    assert v.problems == (
        "a missed 23% of the notifications the other endpoints delivered "
        "(300 of 1,300 in 10 s; the limit is 5 %)",
        "b 60% of its notifications under subscription ids it never gave (unknown) "
        "(600 of 1,000 in 10 s; the limit is 5 %)",
        "b: 3 notifications from slots too far ahead of the chain (implausible) in 10 s",
        "c 30% of its notifications older than the state held (older) "
        "(300 of 1,000 in 10 s; the limit is 20 %)",
        "c never delivered 3.8% of its changes: the reconcile repaired them "
        "(40 of 1,040 in 10 s; the limit is 0.5 %)",
    )
    # the same counts standing still for a window: nothing new, ok again
    now[0] = 25.0
    assert m.check(moved, slot=3).status == "ok"
    # thresholds are the operator's: raised past these shares, no problem
    loose = Thresholds(missed=50, unknown=70, implausible=5, older=40, repaired=5)
    m2 = HealthMonitor(stall_s=10.0, window_s=10.0, clock=lambda: now[0], thresholds=loose)
    now[0] = 0.0
    m2.check(base, slot=1)
    now[0] = 10.0
    assert m2.check(moved, slot=2).problems == ()
    # a few notifications are no share at all (under MIN_FRAMES of the denominator)
    few = assess(
        [feed(0, "a")], slot=9, slot_age_s=0.4, shares={0: {"missed": (5, 10), "unknown": (9, 9)}}
    )
    assert few.status == "ok"


def test_a_share_is_over_its_limit_only_past_chance() -> None:
    """An endpoint dropping 3 % loses 2 of 25 in a short window (8 %, over a 5 % limit)
    by chance: no problem. A fifth lost of 100 is one. The bound is Wilson's: checked
    against the score test solved directly (the p0 whose z-score of the share is Z)."""

    def solved(n: int, d: int) -> float:
        p, lo, hi = n / d, 0.0, n / d
        for _ in range(200):  # bisection: (p - p0) / sqrt(p0 (1 - p0) / d) falls with p0
            mid = (lo + hi) / 2
            z = (p - mid) / ((mid * (1 - mid) / d) ** 0.5) if 0 < mid < 1 else float("inf")
            lo, hi = (mid, hi) if z > Z else (lo, mid)
        return lo

    for n, d in [(2, 25), (20, 100), (40, 1040), (300, 1000), (1, 20), (990, 1000)]:
        assert abs(share_low(n, d) - solved(n, d)) < 1e-9, (n, d)
    assert share_low(0, 50) == 0.0 and share_low(5, 0) == 0.0

    def missed(n: int, d: int) -> str:
        return assess([feed(0, "a")], slot=9, slot_age_s=0.4, shares={0: {"missed": (n, d)}}).status

    assert missed(2, 25) == "ok"  # 8 %: chance for an endpoint losing 3 %
    assert missed(20, 100) == "degraded"  # a fifth: its lower bound is 12 %
    assert missed(99, 100) == "degraded"


def test_what_an_endpoint_missed_counts_once_it_had_every_account_for_the_window() -> None:
    """An endpoint not subscribed to every watched account (still subscribing, or over a
    cap) is not charged with what it missed: the others' notifications of the accounts it
    lacked are in the count. Once it has them all, what it misses is judged when that has
    held for the whole window; lacking one again starts over."""
    now = [0.0]
    m = HealthMonitor(stall_s=10.0, window_s=10.0, clock=lambda: now[0])
    base = [feed(0, "a", uncovered=7), feed(1, "b")]
    m.check(base, slot=1)

    def missing(t: float, missed: int, uncovered: int) -> tuple[str, ...]:
        now[0] = t
        a = replace(base[0], messages=2_000, lead=510, duplicates=1_490, missed=missed)
        return m.check([replace(a, uncovered=uncovered), base[1]], slot=int(t) + 2).problems

    assert missing(10.0, 300, uncovered=7) == ()  # lacking 7 accounts: not judged
    assert missing(15.0, 300, uncovered=0) == ()  # whole for 0 s of the window
    assert missing(24.0, 600, uncovered=0) == ()  # 9 s
    missed = missing(25.0, 900, uncovered=0)  # 10 s: the window's 600 missed are judged
    assert missed and missed[0].startswith("a missed"), missed
    assert missing(26.0, 1_200, uncovered=1) == ()  # lacking one again

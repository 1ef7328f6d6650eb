"""The PubSub worker's view of what it has subscribed (``account_labels``): remembered
between changes of its book (the screen's health asks several times a second, a
connection holds thousands of subscriptions), never stale after one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from feeds.clients.pubsub import PubSubWorker
from feeds.health import HealthCounters
from feeds.wire.protocol import Response, Subscription, account_subscription, slot_subscription

SUBS = [account_subscription(f"Acc{i}") for i in range(6)] + [slot_subscription()]


def naive(w: PubSubWorker) -> frozenset[str]:
    """What the accounts subscribed are, computed from scratch."""
    b = w.book
    active = {s.label for s in b.active.values() if s.method == "accountSubscribe"}
    pending = {
        s.label
        for s in b.pending.values()
        if s.method == "accountSubscribe" and (s.method, s.label) not in w._refused
    }
    return frozenset(active | pending)


OPS = st.lists(
    st.tuples(
        st.sampled_from(["subscribe", "answer", "refuse", "drop", "reset", "unrefuse"]),
        st.integers(0, len(SUBS) - 1),
    ),
    max_size=40,
)


@given(OPS)
def test_the_remembered_labels_follow_every_change_of_the_book(ops: list[tuple[str, int]]) -> None:
    """Each way the worker changes its book (a request, an answer, a refusal, an
    unsubscribe, a reconnect, a refusal lifted) followed by a look, as the health does:
    the remembered set is what a fresh computation gives."""
    counters = HealthCounters(0, "t", "")
    w = PubSubWorker(0, "ws://127.0.0.1:1", SUBS, None, counters)  # type: ignore[arg-type]
    b = w.book
    server_id = 1000
    for op, i in ops:
        sub: Subscription = SUBS[i]
        if op == "subscribe":
            b.subscribe(sub)
        elif op == "answer" and b.pending:
            rid = sorted(b.pending)[i % len(b.pending)]
            server_id += 1
            b.answered(Response(rid, server_id))
        elif op == "refuse" and b.pending:  # an error answer: the request is refused
            rid = sorted(b.pending)[i % len(b.pending)]
            refused = b.pending.pop(rid)
            w._refused.add((refused.method, refused.label))
        elif op == "drop" and b.active:  # no longer wanted: unsubscribed
            sid = sorted(b.active)[i % len(b.active)]
            del b.active[sid]
            b.next_id += 1
        elif op == "reset":
            b.reset()
        elif op == "unrefuse":
            w._refused.discard((sub.method, sub.label))
        else:  # nothing pending or active to answer or drop: refused over the cap
            w._refused.add((sub.method, sub.label))
        assert w.account_labels() == naive(w)

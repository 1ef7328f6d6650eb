"""The PubSub worker's view of what it has subscribed (``account_labels``): remembered
between changes of its book (the screen's health asks several times a second, a
connection holds thousands of subscriptions), never stale after one."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.server import ServerConnection

from feeds.clients.pubsub import PubSubWorker, WorkerConfig
from feeds.health import HealthCounters
from feeds.wire.protocol import Response, Subscription, account_subscription, slot_subscription
from tests.support.hostile import ack, until, ws_server

SUBS = [account_subscription(f"Acc{i}") for i in range(6)] + [slot_subscription()]


def naive(w: PubSubWorker) -> frozenset[str]:
    """What the accounts subscribed are, computed from scratch."""
    b = w.book
    active = {s.label for s in b.active.values() if s.method == "accountSubscribe"}
    pending = {
        s.label
        for s in [*b.pending.values(), *w._asking.values()]
        if s.method == "accountSubscribe" and (s.method, s.label) not in w._refused
    }
    return frozenset(active | pending)


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["subscribe", "queue", "send", "answer", "refuse", "drop", "reset", "unrefuse"]
        ),
        st.integers(0, len(SUBS) - 1),
    ),
    max_size=40,
)


@given(OPS)
def test_the_remembered_labels_follow_every_change_of_the_book(ops: list[tuple[str, int]]) -> None:
    """Each way the worker changes its book (a request, one queued behind the window and
    one sent from there, an answer, a refusal, an unsubscribe, a reconnect, a refusal
    lifted) followed by a look, as the health does: the remembered set is what a fresh
    computation gives."""
    counters = HealthCounters(0, "t", "")
    w = PubSubWorker(0, "ws://127.0.0.1:1", SUBS, None, counters)  # type: ignore[arg-type]
    b = w.book
    server_id = 1000
    for op, i in ops:
        sub: Subscription = SUBS[i]
        if op == "subscribe":
            b.subscribe(sub)
        elif op == "queue":  # asked for while the window is full (an update's, a retry's)
            w._asking[(sub.method, sub.label)] = sub
            w._changes += 1
        elif op == "send" and w._asking:  # room in the window: the oldest one sent
            b.subscribe(w._asking.popitem(last=False)[1])
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
            w._asking.clear()
            w._changes += 1
        elif op == "unrefuse":
            w._refused.discard((sub.method, sub.label))
        else:  # nothing pending or active to answer or drop: refused over the cap
            w._refused.add((sub.method, sub.label))
        assert w.account_labels() == naive(w)


# ------------------------------------------------------------ the subscribe window
WINDOW = 8
MARKET = [slot_subscription()] + [account_subscription(f"Acc{i:02d}") for i in range(30)]


class HeldNode:
    """A PubSub endpoint that answers a subscribe only when the test lets it (``release``):
    what it was asked, in order, and the most requests it ever held unanswered."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []
        self.answered = 0
        self.most_held = 0
        self.allowed = 0
        self._more = asyncio.Event()

    def release(self, n: int) -> None:
        self.allowed += n
        self._more.set()

    async def handle(self, ws: ServerConnection) -> None:
        async def answer() -> None:
            while True:
                await self._more.wait()
                self._more.clear()
                while self.answered < min(self.allowed, len(self.asked)):
                    await ws.send(ack(self.asked[self.answered], 500 + self.answered))
                    self.answered += 1

        answering = asyncio.create_task(answer())
        try:
            async for text in ws:
                self.asked.append(json.loads(text))
                self.most_held = max(self.most_held, len(self.asked) - self.answered)
                self._more.set()
        finally:
            answering.cancel()


def _labels(node: HeldNode) -> list[str]:
    return ["slot" if r["method"] == "slotSubscribe" else str(r["params"][0]) for r in node.asked]


def _worker(url: str, subs: list[Subscription], rust: Any, transport: str) -> PubSubWorker:
    cfg = WorkerConfig(
        subscribe_window=WINDOW,
        heartbeat_s=60.0,
        stale_after_s=60.0,
        open_timeout_s=10.0,
        transport=transport,
    )
    ing = rust.FeedIngest(rust.PoolGraph(base_mints=[], max_hops=3))
    return PubSubWorker(0, url, subs, ing, HealthCounters(0, "held", url), cfg)


async def test_a_connection_holds_at_most_its_window_of_subscribes_unanswered(
    rust: Any, transport: str
) -> None:
    """A market's subscriptions go a window at a time: the node is asked for eight, then
    for one more per answer, in the session's order, and never holds more than eight
    unanswered (a ping it reads behind them waits for at most eight); what waits for
    room counts as asked for in the coverage. Sent all at once (before the window), the
    node held all 31."""
    node = HeldNode()
    async with ws_server(node.handle) as url:
        w = _worker(url, MARKET, rust, transport)
        task = asyncio.create_task(w.run())
        try:
            await until(lambda: len(node.asked) == WINDOW)
            # the asker waits: eight unanswered, the rest held back, none sent
            await until(lambda: len(w.book.pending) == WINDOW and len(w._asking) == 23)
            assert len(node.asked) == WINDOW and node.answered == 0
            assert w.account_labels() == {f"Acc{i:02d}" for i in range(30)}
            node.release(5)  # five answers: room for five more
            await until(lambda: len(node.asked) == WINDOW + 5)
            await until(lambda: len(w.book.active) == 5 and len(w.book.pending) == WINDOW)
            assert len(node.asked) == WINDOW + 5
            node.release(len(MARKET))
            await until(lambda: len(w.book.active) == len(MARKET))
            assert _labels(node) == ["slot"] + [f"Acc{i:02d}" for i in range(30)]
            assert node.most_held == WINDOW and not w._asking and not w.book.pending
        finally:
            await w.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_an_update_takes_back_what_the_window_has_not_sent(rust: Any, transport: str) -> None:
    """While the window is full, an update drops ten accounts not yet sent and adds two:
    the ten are never asked for (nor unsubscribed: they never were subscribed), the two
    follow the rest in order, and the coverage follows the update at once."""
    node = HeldNode()
    async with ws_server(node.handle) as url:
        w = _worker(url, MARKET, rust, transport)
        task = asyncio.create_task(w.run())
        try:
            await until(lambda: len(w.book.pending) == WINDOW and len(w._asking) == 23)
            gone = {f"Acc{i:02d}" for i in range(20, 30)}
            new = [account_subscription("New0"), account_subscription("New1")]
            keep = [s for s in MARKET if s.label not in gone]
            await w.update(keep + new)
            assert w.account_labels() == {s.label for s in keep + new} - {"slot"}
            node.release(len(MARKET))
            await until(lambda: len(w.book.active) == len(keep) + len(new))
            assert _labels(node) == ["slot"] + [f"Acc{i:02d}" for i in range(20)] + [
                "New0",
                "New1",
            ]
            assert node.most_held == WINDOW
        finally:
            await w.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@given(
    st.lists(st.one_of(st.none(), st.integers(0, 300)), min_size=len(SUBS), max_size=len(SUBS)),
    st.integers(0, 300),
)
def test_the_quiet_count_is_the_account_and_logs_subscriptions_silent_that_long(
    seen: list[int | None], now_s: int
) -> None:
    """The watchdog's count of quiet subscriptions (one pass every sixteenth of
    ``quiet_after_s``) is the active subscriptions other than the slot pulse whose last
    message (or, never heard from, the connection's start) is older than
    ``quiet_after_s``: what looking at every subscription's method says."""
    counters = HealthCounters(0, "t", "")
    w = PubSubWorker(0, "ws://127.0.0.1:1", SUBS, None, counters)  # type: ignore[arg-type]
    ns, started = 1_000_000_000, 10 * 1_000_000_000
    for i, (sub, t) in enumerate(zip(SUBS, seen, strict=True)):
        sid, rid = 500 + i, w.book.next_id
        w.book.subscribe(sub)
        w.book.answered(Response(rid, sid))
        if sub.method == "slotSubscribe":
            w._pulse_ids.add(sid)
        if t is not None:
            w.last_seen[sid] = t * ns
    now = now_s * ns
    limit = w.config.quiet_after_s * ns
    want = sum(
        1
        for sid, sub in w.book.active.items()
        if sub.method != "slotSubscribe" and now - w.last_seen.get(sid, started) > limit
    )
    assert w._quiet(now, started) == want

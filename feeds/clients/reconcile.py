"""The reconcile: the graph kept equal to the chain when a stream drops a notification.

A node's PubSub (or gRPC) stream may lose an account notification: a provider under load
drops them, a proxy between drops them, and the account's old state is then held until it
next changes (on a real node with 2.6 % of the account notifications dropped, 16-20 pools
were stale at some time, one for 56 s, and a cycle that did not exist was sent and
refused 46 times). So the watched accounts are read again through the trusted path, at a
bounded rate: one ``getMultipleAccounts`` of at most ``batch`` accounts (with
``minContextSlot``: never an answer older than what a stream told already) at most
``rps`` times a second, hedged across the endpoints as every read is.

**What is read.** First the accounts asked for at once (:meth:`Reconciler.urgent`: the
pools of an order a hop paid less than its quote for), then the pools whose accounts
moved apart — one vault's state of a newer slot than the other's, or both vaults newer
than the pool account (a swap writes them together: one of the copies was lost) — each
once per such state, then every watched account in turn (a cursor over the watched set).

**When the answer speaks.** The answer is the accounts as of its context slot C. A
stream delivers its notifications in slot order, so once a stream's account watermark
(``EndpointStats.account_slot``: the newest context slot of its account notifications)
is past C, every change up to C it carried has come. The answer waits for every
connected stream's watermark to pass C (at most ``settle_s``: a stream that brings no
newer account in that time is idle or behind, and the trusted read wins) and is then
held against the engine (``FeedIngest.compare``): an account whose bytes are the bytes the
engine last applied is equal; one the engine holds at a newer slot than C moved since
(it is judged by a later read); any other differs: a change no stream delivered. It is
applied as a recorded input (``FeedIngest.reconcile``: a replay makes the same repair),
and each endpoint that streams the account is charged ``repaired``.

**What it costs.** ``rps`` requests a second of ``batch`` accounts: the default (2, 100)
sweeps a market of 200 watched accounts every half second and one of 17,000 (3,000
pools) every 85 s, the suspects and the urgent ones first; the answers are compared in
slices of the loop (``SLICE_S``).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from engine_rs.errors import EngineError

from ..redact import scrub_urls
from .rpc import MAX_ACCOUNTS, RawAccount, RpcError
from .slices import SLICE_S, Pace

log = logging.getLogger(__name__)
SETTLE_POLL_S = 0.02  # how often a held answer looks at the streams' watermarks
SUSPECT_AFTER_S = 0.25  # accounts apart this long (not one slot's copies on their way)
RATE_WINDOW_S = 10.0  # the request rate shown: over this many seconds


@dataclass(frozen=True, slots=True)
class ReconcileSettings:
    """How fast the reconcile reads (``rps`` requests a second, 0: off; ``batch``
    accounts a request, at most 100) and how long an answer waits for the streams to pass
    its slot (``settle_s``)."""

    rps: float = 2.0
    batch: int = MAX_ACCOUNTS
    settle_s: float = 2.0

    def __post_init__(self) -> None:
        if self.rps < 0 or not 1 <= self.batch <= MAX_ACCOUNTS or self.settle_s < 0:
            raise ValueError(
                f"reconcile: rps >= 0, 1 <= batch <= {MAX_ACCOUNTS}, settle_s >= 0 "
                f"(got {self.rps}, {self.batch}, {self.settle_s})"
            )


@dataclass(slots=True)
class ReconcileStats:
    """What the reconcile did: requests answered (in all and per endpoint, by its index),
    accounts read, found ``equal``, ``differing`` (repaired), ``ahead`` (the engine held a
    newer state than the answer), ``absent`` (none on chain where the engine holds one),
    ``refused`` (a repair the engine refused: the node's bytes do not decode), answers that
    waited ``settle_s`` in vain for a stream (``unsettled``), failed requests
    (``errors``, the last one's words in ``problem``), and the repairs per pool."""

    requests: int = 0
    per_endpoint: dict[int, int] = field(default_factory=dict)
    accounts: int = 0
    equal: int = 0
    differing: int = 0
    ahead: int = 0
    absent: int = 0
    refused: int = 0
    unsettled: int = 0
    errors: int = 0
    urgent: int = 0  # accounts read at once for a refused order
    sweeps: int = 0  # passes over every watched account, read and judged
    problem: str = ""
    pools: collections.Counter[str] = field(default_factory=collections.Counter)
    # (when, the endpoint that answered) of the latest requests
    times: collections.deque[tuple[float, int]] = field(
        default_factory=lambda: collections.deque(maxlen=4096)
    )

    def rate(
        self, now: float | None = None, window_s: float = RATE_WINDOW_S, endpoint: int | None = None
    ) -> float:
        """Requests answered a second over the last ``window_s`` seconds (by ``endpoint``
        only, when given)."""
        now = time.monotonic() if now is None else now
        n = sum(
            1 for t, e in self.times if t > now - window_s and (endpoint is None or e == endpoint)
        )
        return n / window_s


# a read through the trusted path: (keys, min context slot) -> (context slot, accounts,
# the index of the endpoint that answered)
Read = Callable[[list[str], int], Awaitable[tuple[int, dict[str, RawAccount | None], int]]]


class Reconciler:
    """The watched accounts read again at a bounded rate, differences repaired (see the
    module docstring). ``ingest``: the session's (the recording tee's: a repair is an
    input); ``read``: the trusted path's hedged ``getMultipleAccounts``; ``watched``: the
    watched accounts in order; ``pools``: each pool's accounts (pool -> set);
    ``pools_version``: a count that moves when ``pools`` may have; ``absent``: what the
    engine holds for an account the chain does not (a Whirlpool's tick array nobody
    initialized: its program reads a zeroed one), at a slot; ``apply``: a repair
    (``ingest.reconcile`` with the pool's own bookkeeping); ``streams``: the endpoints
    whose stream is connected now; ``ready``: whether the streams are up and the start's
    own gap is filled (before, what changed between the snapshot and the subscriptions
    is the start's fill to fetch, not a change a stream dropped); ``watched_set``: the
    same accounts as a set, where the caller keeps one (None: made from ``watched`` at
    each request; at 3,000 pools a copy of ~19,000 accounts a request, which the
    collector then walked)."""

    def __init__(
        self,
        settings: ReconcileSettings,
        ingest: Any,
        read: Read,
        watched: Callable[[], Sequence[str]],
        pools: Callable[[], dict[str, set[str]]],
        pools_version: Callable[[], int],
        absent: Callable[[str, RawAccount | None, int], RawAccount | None],
        apply: Callable[[str, RawAccount], bool],
        streams: Callable[[], list[int]],
        ready: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.monotonic,
        watched_set: Callable[[], AbstractSet[str]] | None = None,
    ) -> None:
        self.settings = settings
        self.watched_set = watched_set
        self.ingest, self.read = ingest, read
        self.watched, self.pools, self.pools_version = watched, pools, pools_version
        self.absent, self.apply, self.streams = absent, apply, streams
        self.ready, self.clock = ready, clock
        self.stats = ReconcileStats()
        self._cursor = 0
        self._urgent: dict[str, None] = {}
        self._wake = asyncio.Event()
        # per pool: (pool account, vault a, vault b) by role (None: not known yet)
        self._swap_accounts: tuple[int, dict[str, tuple[str | None, ...]]] | None = None
        # pools whose accounts were apart: (slots) -> when first seen so; and the slots
        # each was last read at (read once per such state)
        self._apart: dict[str, tuple[tuple[int, ...], float]] = {}
        self._checked: dict[str, tuple[int, ...]] = {}
        self._last_request = -1e9
        self._wrapped = False  # the batch in hand ends a pass over the watched accounts

    # ------------------------------------------------------------ what to read
    def urgent(self, pools: Sequence[str]) -> int:
        """Read the accounts of ``pools`` at once, before anything else (an order a hop
        paid less than its quote for: the pool's state held may be stale); returns how
        many accounts were queued."""
        known = self.pools()
        n = 0
        for p in pools:
            for k in sorted(known.get(p, {p})):
                if k not in self._urgent:
                    self._urgent[k] = None
                    n += 1
        self.stats.urgent += n
        if n:
            self._wake.set()
        return n

    def _roles(self) -> dict[str, tuple[str | None, ...]]:
        """Each pool's pool account and vaults (derived again when the pools' accounts
        may have changed)."""
        version = self.pools_version()
        memo = self._swap_accounts
        if memo is not None and memo[0] == version:
            return memo[1]
        out: dict[str, tuple[str | None, ...]] = {}
        for pool, accounts in self.pools().items():
            a = b = None
            for k in accounts:
                for role, owner in self.ingest.roles(k):
                    if owner != pool:
                        continue
                    if role == "vault_a":
                        a = k
                    elif role == "vault_b":
                        b = k
            out[pool] = (pool, a, b)
        self._swap_accounts = (version, out)
        return out

    def suspects(self) -> list[str]:
        """The pools whose accounts moved apart (see the module docstring), not read
        since they did, apart for ``SUSPECT_AFTER_S`` at least (one slot's copies of the
        accounts arrive one after the other), oldest first."""
        roles = self._roles()
        keys = [k for triple in roles.values() for k in triple if k is not None]
        slots = dict(zip(keys, self.ingest.slots(keys), strict=True))
        now = self.clock()
        out: list[tuple[float, str]] = []
        for pool, (pk, a, b) in roles.items():
            if a is None or b is None or pk is None:
                continue
            sa, sb, sp = slots[a], slots[b], slots[pk]
            apart = sa != sb or min(sa, sb) > sp
            if not apart:
                self._apart.pop(pool, None)
                continue
            state = (sp, sa, sb)
            if self._checked.get(pool) == state:
                continue  # read once in this state already
            seen = self._apart.get(pool)
            if seen is None or seen[0] != state:
                self._apart[pool] = (state, now)
                continue
            if now - seen[1] >= SUSPECT_AFTER_S:
                out.append((seen[1], pool))
        return [p for _, p in sorted(out)]

    def next_batch(self) -> tuple[list[str], int]:
        """The accounts of the next request: the urgent ones, the suspect pools', then the
        next of every watched account in turn; with how many of them were urgent."""
        size = self.settings.batch
        watched = self.watched()  # (read in this call only: no copy)
        live = set(watched) if self.watched_set is None else self.watched_set()
        batch: dict[str, None] = {}
        urgent = 0
        while self._urgent and len(batch) < size:
            k = next(iter(self._urgent))
            del self._urgent[k]
            if k in live:
                batch[k] = None
                urgent += 1
        if len(batch) < size:
            known = self.pools()
            slots_of = self._roles()
            for pool in self.suspects():
                accounts = sorted(k for k in known.get(pool, {pool}) if k in live)
                if len(batch) + len(accounts) > size:
                    break
                batch.update(dict.fromkeys(accounts))
                pk, a, b = slots_of[pool]
                keys = [k for k in (pk, a, b) if k is not None]
                self._checked[pool] = tuple(self.ingest.slots(keys))
        n = len(watched)
        steps = 0
        while len(batch) < size and steps < n:
            if self._cursor >= n:
                self._cursor = 0
                self._wrapped = True
            k = watched[self._cursor]
            self._cursor += 1
            steps += 1
            batch.setdefault(k, None)
        return list(batch), urgent

    # ------------------------------------------------------------ one request
    def watermark(self) -> int:
        """The newest context slot of any stream's account notifications: the read's
        ``minContextSlot`` (an answer older than what a stream told is never taken; the
        chain's slot, from the slot notifications, runs ahead of the reads' commitment)."""
        return max((e.account_slot for e in self.ingest.endpoint_stats()), default=0)

    async def settle(self, slot: int) -> bool:
        """Wait until every connected stream's account watermark is past ``slot`` (every
        change up to it that the streams carried has come), at most ``settle_s``; False
        when one did not get there."""
        deadline = self.clock() + self.settings.settle_s
        while True:
            streams = set(self.streams())
            marks = {e.endpoint: e.account_slot for e in self.ingest.endpoint_stats()}
            if all(marks.get(i, 0) > slot for i in streams):
                return True
            if self.clock() >= deadline:
                return False
            await asyncio.sleep(SETTLE_POLL_S)

    async def once(self, keys: list[str] | None = None) -> int:
        """Read one batch (``keys``, else :meth:`next_batch`), wait for the streams to
        pass its slot, repair what differs; the repairs made. RpcError when no endpoint
        answered (counted, and said in ``stats.problem``)."""
        self._last_request = self.clock()  # (the rate counts a round with nothing to read)
        if keys is None:
            keys, _ = self.next_batch()
        if not keys:
            return 0
        wrapped, self._wrapped = self._wrapped, False
        st = self.stats
        st.requests += 1
        try:
            slot, got, endpoint = await self.read(keys, self.watermark())
        except RpcError as exc:
            st.errors += 1
            st.problem = scrub_urls(str(exc))[:300]
            for k in keys:  # read first next time: the pass misses none
                self._urgent.setdefault(k, None)
            self._wrapped = self._wrapped or wrapped
            raise
        st.per_endpoint[endpoint] = st.per_endpoint.get(endpoint, 0) + 1
        st.times.append((self.clock(), endpoint))
        if not await self.settle(slot):
            st.unsettled += 1
        repairs = await self._judge(slot, got)
        st.sweeps += wrapped  # the pass's last accounts read and judged
        return repairs

    async def _judge(self, slot: int, got: dict[str, RawAccount | None]) -> int:
        """The answer (as of ``slot``) against the engine, the differences repaired."""
        st = self.stats
        present: list[tuple[str, RawAccount]] = []
        for k, acc in got.items():
            made = self.absent(k, acc, slot)
            if made is None:
                st.absent += acc is None
                continue
            present.append((k, made))
        st.accounts += len(got)
        held = self.ingest.compare([(k, a.owner, a.data) for k, a in present])
        repairs = 0
        pace = Pace(SLICE_S)
        for (k, acc), h in zip(present, held, strict=True):
            if h is None:
                continue  # no longer watched
            held_slot, same = h
            if same:
                st.equal += 1
                continue
            if held_slot > slot:
                st.ahead += 1
                continue
            try:
                if self.apply(k, RawAccount(acc.owner, acc.data, acc.lamports, slot)):
                    repairs += 1
                    st.differing += 1
                    for _role, pool in self.ingest.roles(k):
                        st.pools[pool] += 1
            except EngineError as exc:
                st.refused += 1
                st.problem = f"{k}: {exc}"[:300]
                log.warning("reconcile: the node's copy of %s refused: %s", k, exc)
            if pace.due():
                await asyncio.sleep(0)
                pace.restart()
        if repairs:
            log.info("reconcile: %d accounts repaired at slot %d", repairs, slot)
        return repairs

    # ------------------------------------------------------------ the task
    async def run(self) -> None:
        """Forever: a request every ``1 / rps`` seconds (at once for urgent accounts),
        each answer judged before the next request is made."""
        period = 1.0 / self.settings.rps
        while not self.ready():
            await asyncio.sleep(min(period, 0.25))
        while True:
            wait = self._last_request + period - self.clock()
            if wait > 0 and not self._urgent:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), wait)
                except TimeoutError:
                    pass
            try:
                await self.once()
            except RpcError as exc:
                log.warning("reconcile: %s", exc)
                await asyncio.sleep(period)
            except Exception:  # a bug must not stop the reconcile for good: said, and on
                log.exception("reconcile")
                await asyncio.sleep(period)

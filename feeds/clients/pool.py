"""The endpoint pool: the initial snapshot over HTTP, one PubSub worker per endpoint,
the priority-fee poller, and each endpoint's :class:`~feeds.health.FeedHealth`.

``bootstrap(universe)`` fetches the pools' accounts with ``getMultipleAccounts``
(endpoints hedged: see :meth:`FeedPool._fetch`), lets the ingest decode them (which tells it
their vaults and configs), derives each Whirlpool's tick arrays by PDA around its
current tick, fetches all of those, and returns the subscriptions the workers open:
the slot pulse, every account, and the logs of the DEX programs.

While streaming, a maintenance task re-fetches over HTTP what the ingest asks for (a
pool whose identity a notification tried to change: from another endpoint than that
one when there is one), and keeps every worker's subscriptions equal to the accounts
the ingest watches (a confirmed identity change re-points vaults: the new ones are
fetched and subscribed, the old ones unsubscribed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine_rs.errors import EngineError

from .. import venues
from ..health import FeedHealth, HealthCounters
from ..redact import redact
from ..wire.protocol import Subscription
from .pubsub import PubSubWorker, WorkerConfig, all_subscriptions
from .rpc import MAX_ANSWER_BYTES, RawAccount, RpcClient, RpcError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One RPC node: its name, HTTP URL (None: PubSub only) and WebSocket URL."""

    name: str
    ws: str
    http: str | None = None


@dataclass(slots=True)
class Bootstrap:
    """What the snapshot found: pools in the graph, and what went wrong (redacted)."""

    pools: int = 0
    accounts: int = 0
    missing: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    endpoint: str = ""


class FeedPool:
    """Endpoints, workers and health for one session (see the module docstring)."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        ingest: Any,
        engine: Any,
        worker_config: WorkerConfig | None = None,
        seed: int = 0,
        commitment: str = "confirmed",
        on_fees: Callable[[list[tuple[int, int]]], None] | None = None,
        fee_poll_s: float = 2.0,
        tick_arrays_each_side: int = 2,
        rpc_timeout_s: float = 5.0,
        maintain_s: float = 0.5,
        rpc_hedge_s: float = 1.0,
        rpc_max_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        if not endpoints:
            raise ValueError("at least one endpoint is needed")
        self.endpoints = list(endpoints)
        self.ingest, self.eng = ingest, engine
        self.worker_config = worker_config or WorkerConfig()
        self.seed, self.commitment = seed, commitment
        self.on_fees, self.fee_poll_s = on_fees, fee_poll_s
        self.arrays_each_side = tick_arrays_each_side
        self.rpc_timeout_s = rpc_timeout_s
        self.rpc_hedge_s = min(rpc_hedge_s, rpc_timeout_s)
        self.rpc_max_bytes = rpc_max_bytes
        self.preferred: int | None = None  # the endpoint whose HTTP answered last (index)
        self.counters = [
            HealthCounters(i, e.name, redact(e.ws)) for i, e in enumerate(self.endpoints)
        ]
        self.maintain_s = maintain_s
        self.workers: list[PubSubWorker] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._dedup_seen = 0
        self.programs: list[str] = []
        self.subscriptions: list[Subscription] = []
        self.refetched = 0  # accounts fetched again for the ingest
        # a stream that broke has a gap a node never replays: once an endpoint that
        # reconnected is subscribed again, every watched account is fetched once more
        self.resnapshots = 0
        self._reconnects_seen = [0] * len(self.endpoints)
        self._retry: list[tuple[str, int]] = []
        self.wanted = 0  # subscriptions each worker asks for (set by start)

    # ------------------------------------------------------------ snapshot
    def _rpc(self, url: str) -> RpcClient:
        return RpcClient(url, self.rpc_timeout_s, self.rpc_max_bytes)

    def _http_order(self) -> list[int]:
        """Indices of the endpoints with an HTTP URL, the one that answered last first."""
        eps = [i for i, e in enumerate(self.endpoints) if e.http is not None]
        return sorted(eps, key=lambda i: i != self.preferred)  # stable: config order

    async def _fetch(
        self, keys: Sequence[str], avoid: int | None = None
    ) -> tuple[dict[str, RawAccount | None], str]:
        """``getMultipleAccounts`` for ``keys``, hedged: the preferred endpoint is asked
        first (``avoid`` last: a re-fetch asks another endpoint than the one whose copy
        it checks); the next one is asked too when it fails or has not answered within
        ``rpc_hedge_s``; the first answer wins and the other requests are cancelled. So a
        hanging endpoint costs at most ``rpc_hedge_s`` once (it is not asked first
        again), and the whole fetch ends within (endpoints - 1) * rpc_hedge_s +
        rpc_timeout_s seconds."""
        queue = sorted(self._http_order(), key=lambda i: i == avoid)
        if not queue:
            raise RpcError("no endpoint answered getMultipleAccounts: no HTTP URL")

        async def one(i: int) -> dict[str, RawAccount | None]:
            url = self.endpoints[i].http
            assert url is not None
            async with self._rpc(url) as rpc:
                return await rpc.get_multiple_accounts(keys, self.commitment)

        errors: list[str] = []
        pending: dict[asyncio.Task[dict[str, RawAccount | None]], int] = {}
        try:
            while queue or pending:
                if queue:  # at first, after a failure, or when the hedge delay ran out
                    i = queue.pop(0)
                    pending[asyncio.create_task(one(i), name=f"fetch-{i}")] = i
                done, _ = await asyncio.wait(
                    pending, timeout=self.rpc_hedge_s if queue else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )  # fmt: skip
                for t in done:
                    i = pending.pop(t)
                    try:
                        accounts = t.result()
                    except RpcError as exc:
                        errors.append(str(exc))
                        continue
                    self.preferred = i
                    return accounts, self.endpoints[i].name
        finally:
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.wait(pending)
        raise RpcError("no endpoint answered getMultipleAccounts: " + "; ".join(errors))

    async def bootstrap(self, universe: Sequence[tuple[str, str]]) -> Bootstrap:
        """Snapshot ``universe`` (``(address, kind)`` pairs) into the graph."""
        out = Bootstrap()
        for address, kind in universe:
            self.ingest.track_pool(address, kind)
        done: set[str] = set()
        for round_ in range(3):  # pools -> their vaults/configs -> (whirlpools) tick arrays
            keys = [k for k in self.ingest.watched() if k not in done]
            if round_ == 2:
                keys += self._tick_arrays(done)
            if not keys:
                continue
            accounts, out.endpoint = await self._fetch(keys)
            for k in keys:
                done.add(k)
                acc = accounts.get(k)
                if acc is None:
                    if k in dict(universe):
                        out.missing.append(k)
                    continue
                out.accounts += 1
                try:
                    self.ingest.account(k, acc.owner, acc.data, acc.slot)
                except EngineError as exc:
                    out.rejected.append(f"{k}: {exc}")
        out.pools = len({p for p in self.ingest.take_changed()})
        # the DEX programs whose logs are followed: the venues of the universe's pools
        self.programs = sorted(
            {venues.by_kind(k).program for _, k in universe if k in venues.KINDS}
        )
        out.subscriptions = all_subscriptions(self.ingest.watched(), self.programs, self.commitment)
        return out

    def _tick_arrays(self, done: set[str]) -> list[str]:
        """Tick-array PDAs around each tracked Whirlpool's current tick, now tracked."""
        keys = []
        for address, rec in self.ingest.whirlpools():
            for start in self.eng.tick_array_starts(
                rec.tick_spacing, rec.tick_current_index, self.arrays_each_side
            ):
                ta, _ = self.eng.tick_array_address(address, start)
                self.ingest.track_tick_array(ta, address)
                if ta not in done:
                    keys.append(ta)
        return keys

    # ------------------------------------------------------------ streaming
    async def start(self, subscriptions: Sequence[Subscription]) -> None:
        """Open one worker per endpoint, the fee poller and the maintenance task."""
        self.subscriptions = list(subscriptions)
        self.wanted = len(subscriptions)
        for i, e in enumerate(self.endpoints):
            w = PubSubWorker(i, e.ws, subscriptions, self.ingest, self.counters[i],
                             self.worker_config, self.seed)  # fmt: skip
            self.workers.append(w)
            self._tasks.append(asyncio.create_task(w.run(), name=f"pubsub-{e.name}"))
        if self.on_fees is not None and any(e.http for e in self.endpoints):
            self._tasks.append(asyncio.create_task(self._poll_fees(), name="fees"))
        if any(e.http for e in self.endpoints):
            self._tasks.append(asyncio.create_task(self._maintain(), name="maintain"))

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(self.maintain_s)
            try:
                await self.maintain()
            except RpcError as exc:  # no endpoint answered: the next round asks again
                log.warning("re-fetch: %s", exc)

    async def maintain(self) -> None:
        """Re-fetch what the ingest asked for; follow the watched accounts."""
        wanted = self._retry + list(self.ingest.take_refetch())
        self._retry = []
        by_endpoint: dict[int, list[str]] = {}
        for key, ep in wanted:
            by_endpoint.setdefault(ep, []).append(key)
        for ep, keys in by_endpoint.items():
            try:
                accounts, _ = await self._fetch(keys, avoid=ep)
            except RpcError:
                self._retry += [(k, ep) for k in keys]  # asked again next round
                raise
            self._apply(accounts)
            self.refetched += len(keys)
        await self.follow()
        await self.fill_gaps()

    async def fill_gaps(self) -> None:
        """Fetch every watched account again once an endpoint that reconnected is
        subscribed again: what changed while its stream was down is never sent (a node
        does not replay notifications), and if every endpoint missed it the ingest would
        keep the old state until the account next changes. Older copies than the
        ingest holds are refused by its slot order, so this never moves a pool back."""
        back = [
            i
            for i, c in enumerate(self.counters)
            if c.reconnects > self._reconnects_seen[i]
            and c.connected
            and c.subscriptions + c.refused >= self.wanted
        ]
        if not back:
            return
        watched = list(self.ingest.watched())
        if watched:
            accounts, _ = await self._fetch(watched)
            self._apply(accounts)
            self.refetched += len(watched)
        for i in back:
            self._reconnects_seen[i] = self.counters[i].reconnects
        self.resnapshots += 1

    async def follow(self) -> None:
        """Subscribe every worker to the accounts the ingest watches now (fetching the
        new ones first), and no others."""
        watched = self.ingest.watched()
        have = {s.label for s in self.subscriptions if s.method == "accountSubscribe"}
        if have == set(watched):
            return
        new = [k for k in watched if k not in have]
        if new:
            accounts, _ = await self._fetch(new)
            self._apply(accounts)
        self.subscriptions = all_subscriptions(
            self.ingest.watched(), self.programs, self.commitment
        )
        self.wanted = len(self.subscriptions)
        for w in self.workers:
            await w.update(self.subscriptions)

    def _apply(self, accounts: dict[str, RawAccount | None]) -> None:
        for k, acc in accounts.items():
            if acc is None:
                continue
            try:
                self.ingest.account(k, acc.owner, acc.data, acc.slot)
            except EngineError as exc:
                log.warning("re-fetched account %s rejected: %s", k, exc)

    async def stop(self) -> None:
        """Unsubscribe and close every connection; stop polling."""
        await asyncio.gather(*(w.stop() for w in self.workers), return_exceptions=True)
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()

    async def _poll_fees(self) -> None:
        assert self.on_fees is not None
        clients = {i: self._rpc(e.http) for i, e in enumerate(self.endpoints) if e.http}
        try:
            while True:
                # the endpoint that answered last first: a hanging one costs its timeout
                # once, not on every poll
                for i in self._http_order():
                    try:
                        self.on_fees(await clients[i].get_recent_prioritization_fees())
                    except RpcError as exc:
                        self.counters[i].error(str(exc))
                        continue
                    self.preferred = i
                    break
                await asyncio.sleep(self.fee_poll_s)
        finally:
            for rpc in clients.values():
                await rpc.close()

    # ------------------------------------------------------------ health
    def health(self) -> list[FeedHealth]:
        """Each endpoint's health now (rates over the last calls of this method)."""
        stats = {s.endpoint: s for s in self.ingest.dedup_stats()}
        integrity = {e.endpoint: e for e in self.ingest.endpoint_stats()}
        # a rejected or implausible notification was a first copy no healthy endpoint
        # sends: not missed
        unique = (
            sum(s.first_seen for s in stats.values())
            - sum(c.rejected for c in self.counters)
            - sum(e.implausible for e in integrity.values())
        )
        now = time.monotonic()
        out = []
        for c in self.counters:
            s = stats.get(c.endpoint)
            i = integrity.get(c.endpoint)
            delivered = (s.first_seen + s.duplicates - c.rejected) if s else 0
            age = None if c.last_message_ns is None else now - c.last_message_ns / 1e9
            out.append(FeedHealth(
                c.endpoint, c.name, c.url, c.connected, c.messages, c.sample_rate(now),
                s.first_seen if s else 0, s.duplicates if s else 0,
                None if s is None or s.lag_p50_ns is None else s.lag_p50_ns / 1e6,
                None if s is None or s.lag_p99_ns is None else s.lag_p99_ns / 1e6,
                max(0, unique - delivered), c.malformed, c.rejected, c.reconnects, c.stale,
                c.subscriptions, c.last_error, age, c.refused,
                *((i.slot, i.implausible, i.older, i.unknown, i.identity, i.disagreed,
                   i.held_back, i.quarantined) if i else ()),
            ))  # fmt: skip
        return out

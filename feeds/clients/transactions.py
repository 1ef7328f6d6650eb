"""The transactions that touched the watched pools, with their bodies and meta: what the
rivals' classifier (``feeds.rivals``) reads.

Two ways in, whichever the endpoints give:

- **PubSub**: the session's logs subscriptions mention each watched pool, so every
  transaction that names one is told of by a ``logsNotification`` (signature, error, logs:
  no signer, no balances). The ingest keeps the first copy of each
  (``FeedIngest.take_transactions``, with how many programs its logs show invoked); a
  transaction whose logs show one program and did not fail is a plain swap, never an
  arbitrage, and is not fetched (``skipped``: most of a pool's transactions). For the
  others :class:`TransactionFetcher` asks an HTTP endpoint for its body
  (``getTransaction``, ``json`` encoding, v0 allowed). A notification at
  ``processed`` comes before the node serves the transaction at ``confirmed``: a ``null``
  answer is asked again a little later, ``tries`` times in all, then counted ``lost``.
- **Yellowstone gRPC**: a transaction update carries the body and the meta; the worker
  hands its bytes on (:meth:`TransactionFetcher.grpc_update`) and it is read at once.
- **Programs followed** (the prop AMMs', ``arbscope.propamm``): every transaction of a
  program, oracle updates of one program among them, which the logs path skips. Over
  gRPC the transaction filter names the programs (the pool's gRPC workers), and updates
  are read at once; over PubSub, every ``program_poll_s`` each program's newest
  signatures since the last one seen are asked for (``getSignaturesForAddress``, at most
  ``program_page``, ``confirmed``) and fetched as above, whatever their logs show. A
  program whose last ask found nothing is asked again only every ``IDLE_ROUNDS`` rounds.
- **Gaps**: a node does not replay notifications, so what landed while every stream was
  down is never told. When an endpoint comes back (``FeedPool.fill_gaps``), the blocks
  since the last transaction told of (at most ``gap_slots``) are read with ``getBlock``
  and their transactions that name a watched pool handed on (:meth:`fill`).

Each transaction is handed on once (``on_transaction``), whichever way came first; the
signatures handed on are remembered (the last ``keep``), so a copy from the other way
is not fetched again. Failed transactions are fetched too (a failed arbitrage is a rival's
attempt). Fetches share the endpoints' rate gates with the rest of the pool and never
hold up the feed: at most ``in_flight`` at a time, the newest first (what the panel shows
is the latest; a backlog delays the old ones, not the new), the rest queued (at most
``queue``; beyond it the oldest are dropped and counted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..wire import txview as TV
from ..wire.geyser import geyser_pb2 as pb
from .rpc import RpcClient, RpcError

log = logging.getLogger(__name__)
IDLE_ROUNDS = 8  # a followed program whose last ask found nothing sits out this many rounds


class _Told(Protocol):
    def take_transactions(self) -> list[tuple[str, int, bool, int, int]]: ...


@dataclass(slots=True)
class FetchStats:
    """What the fetcher did: transactions told of, fetched over HTTP, read from gRPC
    updates, not found after every try (``lost``), dropped from a full queue, refused
    (malformed answers or updates), errors of the endpoints."""

    told: int = 0
    skipped: int = 0  # one program invoked, not failed: a plain swap
    fetched: int = 0
    from_blocks: int = 0
    blocks: int = 0
    from_grpc: int = 0
    lost: int = 0
    dropped: int = 0
    refused: int = 0
    errors: int = 0
    queued: int = 0
    polls: int = 0  # getSignaturesForAddress asked of the programs followed
    from_programs: int = 0  # signatures those answers gave that were new


class TransactionFetcher:
    """See the module doc. ``clients`` are the HTTP endpoints to ask, in the order to try
    them (``order()`` gives that order each time; default: as given)."""

    def __init__(
        self,
        ingest: _Told,
        clients: Sequence[RpcClient],
        on_transaction: Callable[[TV.TxView], None],
        *,
        order: Callable[[], Sequence[int]] | None = None,
        commitment: str = "confirmed",
        poll_s: float = 0.2,
        retry_s: float = 0.4,
        tries: int = 6,
        in_flight: int = 8,
        queue: int = 4_096,
        keep: int = 65_536,
        gap_slots: int = 32,
        mentions: Callable[[], set[str]] | None = None,
        programs: Sequence[str] = (),
        program_poll_s: float = 1.0,
        program_page: int = 16,
    ) -> None:
        self.ingest, self.clients, self.on_transaction = ingest, list(clients), on_transaction
        self.order = order or (lambda: range(len(self.clients)))
        self.commitment = commitment
        self.poll_s, self.retry_s, self.tries = poll_s, retry_s, tries
        self.in_flight, self.queue_max = in_flight, queue
        self.stats = FetchStats()
        self.gap_slots = gap_slots
        self.mentions = mentions or set  # the addresses a transaction must name (pools)
        self.last_slot = 0  # the newest slot of a transaction told of or read
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._keep = keep
        self._queue: deque[tuple[str, int, int]] = deque()  # signature, slot, tries left
        self._slots = asyncio.Semaphore(in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        # the programs followed by polling (PubSub), each one's newest signature seen
        # and the rounds it still sits out after an ask that found nothing
        self.programs = list(dict.fromkeys(programs))
        self.program_poll_s, self.program_page = program_poll_s, program_page
        self._newest: dict[str, str] = {}
        self._idle: dict[str, int] = {}
        self._polling: asyncio.Task[None] | None = None
        self._last_poll = -math.inf

    # ------------------------------------------------------------ what comes in
    def _new(self, signature: str) -> bool:
        if signature in self._seen:
            return False
        self._seen[signature] = None
        if len(self._seen) > self._keep:
            self._seen.popitem(last=False)
        return True

    def told(self, items: Sequence[tuple[str, int, bool, int, int]]) -> None:
        """Signatures told of (the ingest's ``take_transactions``): queued for a fetch
        unless already handed on or queued, or unless its logs show one program invoked
        and it did not fail (a plain swap cannot be an arbitrage: ``skipped``)."""
        for signature, slot, failed, _ep, invokes in items:
            self.stats.told += 1
            self.last_slot = max(self.last_slot, slot)
            if invokes < 2 and not failed:  # one program: a plain swap, never an arbitrage
                self.stats.skipped += 1
                continue
            self.enqueue(signature, slot)
        self.stats.queued = len(self._queue)

    def enqueue(self, signature: str, slot: int) -> bool:
        """Fetch ``signature`` unless already handed on or queued (the queue full: its
        oldest dropped); True when queued."""
        if not self._new(signature):
            return False
        if len(self._queue) >= self.queue_max:
            self._queue.popleft()
            self.stats.dropped += 1
        self._queue.append((signature, slot, self.tries))
        self.stats.queued = len(self._queue)
        return True

    async def poll_programs(self) -> int:
        """One round of the programs followed: each one's signatures since the newest
        seen (an idle one only every ``IDLE_ROUNDS`` rounds), queued oldest first (the
        fetches take the newest first); how many were new."""
        n = 0
        for program in self.programs:
            wait = self._idle.get(program, 0)
            if wait > 0:
                self._idle[program] = wait - 1
                continue
            got = await self._signatures(program)
            if got is None:
                continue
            if not got:
                self._idle[program] = IDLE_ROUNDS
                continue
            self._idle.pop(program, None)
            self._newest[program] = str(got[0].get("signature", ""))
            for row in reversed(got):
                sig, slot = row.get("signature"), row.get("slot")
                if not isinstance(sig, str) or not isinstance(slot, int):
                    self.stats.refused += 1
                    continue
                self.last_slot = max(self.last_slot, slot)
                if self.enqueue(sig, slot):
                    self.stats.from_programs += 1
                    n += 1
        return n

    async def _signatures(self, program: str) -> list[dict[str, Any]] | None:
        cfg: dict[str, Any] = {"limit": self.program_page, "commitment": self.commitment}
        newest = self._newest.get(program)
        if newest:
            cfg["until"] = newest
        for i in self.order():
            rpc = self.clients[i]
            if rpc.gate.remaining() > 0:
                continue
            self.stats.polls += 1
            try:
                res = await rpc.call("getSignaturesForAddress", [program, cfg])
            except RpcError as exc:
                self.stats.errors += 1
                log.debug("getSignaturesForAddress %s at %s: %s", program, rpc.shown, exc)
                continue
            if not isinstance(res, list):
                self.stats.refused += 1
                return None
            return [r for r in res if isinstance(r, dict)]
        return None

    async def _poll_round(self) -> None:
        try:
            await self.poll_programs()
        except Exception:  # an endpoint's trouble: the next round asks again
            log.exception("polling the followed programs failed")

    def grpc_update(self, endpoint: int, update: bytes) -> None:
        """A Yellowstone transaction update's bytes: read and handed on now (once)."""
        try:
            up = pb.SubscribeUpdate()
            up.ParseFromString(update)
            tx = TV.TxView.from_grpc(up)
        except Exception as exc:  # TxViewError, protobuf's DecodeError
            self.stats.refused += 1
            log.debug("transaction update refused: %s", exc)
            return
        if not self._new(tx.signature):
            return
        self.last_slot = max(self.last_slot, tx.slot)
        self.stats.from_grpc += 1
        self._hand_on(tx)

    def _hand_on(self, tx: TV.TxView) -> None:
        try:
            self.on_transaction(tx)
        except Exception:  # the session's side: never the fetcher's loop
            log.exception("a transaction's consumer failed")

    async def fill(self, now_slot: int) -> int:
        """Read the blocks after the last transaction told of up to ``now_slot`` (the
        newest ``gap_slots`` of them) and hand on their transactions that name a watched
        pool and were not handed on yet; how many. A slot without a block (skipped) or
        one the endpoints cannot serve is passed over."""
        first = max(self.last_slot + 1, now_slot - self.gap_slots + 1)
        if not self.clients or first > now_slot:
            return 0
        wanted = self.mentions()
        n = 0
        for slot in range(first, now_slot + 1):
            block = await self._block(slot)
            if block is None:
                continue
            self.stats.blocks += 1
            try:
                txs = TV.TxView.from_rpc_block(block, slot)
            except TV.TxViewError as exc:
                self.stats.refused += 1
                log.warning("getBlock %d: %s", slot, exc)
                continue
            for tx in txs:
                if wanted.isdisjoint(tx.keys) or not self._new(tx.signature):
                    continue
                self.stats.from_blocks += 1
                n += 1
                self._hand_on(tx)
        self.last_slot = max(self.last_slot, now_slot)
        return n

    async def _block(self, slot: int) -> Any:
        params: list[Any] = [
            slot,
            {
                "encoding": "json",
                "commitment": self.commitment,
                "maxSupportedTransactionVersion": 0,
                "transactionDetails": "full",
                "rewards": False,
            },
        ]
        for i in self.order():
            rpc = self.clients[i]
            if rpc.gate.remaining() > 0:
                continue
            try:
                return await rpc.call("getBlock", params)
            except RpcError as exc:  # skipped, not available, or the endpoint's trouble
                self.stats.errors += 1
                log.debug("getBlock %d at %s: %s", slot, rpc.shown, exc)
        return None

    # ------------------------------------------------------------ fetching
    async def run(self) -> None:
        """Read what the ingest was told of and fetch it, until cancelled."""
        try:
            while True:
                self.told(self.ingest.take_transactions())
                now = time.monotonic()
                if (
                    self.programs
                    and self.clients
                    and (self._polling is None or self._polling.done())
                    and now - self._last_poll >= self.program_poll_s
                ):
                    self._last_poll = now
                    self._polling = asyncio.create_task(self._poll_round(), name="programs")
                while self._queue and len(self._tasks) < self.in_flight:
                    signature, slot, tries = self._queue.pop()  # the newest first
                    t = asyncio.create_task(self._fetch(signature, slot, tries))
                    self._tasks.add(t)
                    t.add_done_callback(self._tasks.discard)
                self.stats.queued = len(self._queue)
                await asyncio.sleep(self.poll_s)
        finally:
            if self._polling is not None:
                self._polling.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._polling
            for t in list(self._tasks):
                t.cancel()
            for t in list(self._tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t

    async def _fetch(self, signature: str, slot: int, tries: int) -> None:
        params: list[Any] = [
            signature,
            {
                "encoding": "json",
                "commitment": self.commitment,
                "maxSupportedTransactionVersion": 0,
            },
        ]
        for i in self.order():
            rpc = self.clients[i]
            if rpc.gate.remaining() > 0:
                continue  # backing off from a rate limit: another endpoint, or later
            try:
                res = await rpc.call("getTransaction", params)
            except RpcError as exc:
                self.stats.errors += 1
                log.debug("getTransaction %s at %s: %s", signature, rpc.shown, exc)
                continue
            if res is None:
                break  # not served yet at this commitment: later
            try:
                tx = TV.TxView.from_rpc_json(res)
            except TV.TxViewError as exc:
                self.stats.refused += 1
                log.warning("getTransaction %s at %s: %s", signature, rpc.shown, exc)
                return
            self.stats.fetched += 1
            self._hand_on(tx)
            return
        if tries <= 1:
            self.stats.lost += 1
            return
        await asyncio.sleep(self.retry_s)
        if len(self._queue) < self.queue_max:
            self._queue.append((signature, slot, tries - 1))
        else:
            self.stats.dropped += 1

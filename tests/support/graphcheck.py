"""The graph equals the chain: a checker that holds every watched account's bytes in the
engine to what a node's ``getMultipleAccounts`` returns, at slots where the two must
agree. For the node tests (PubSub and gRPC alike: it reads only the ingest and the node's
HTTP) and the benchmark (``bench.reconcile``).

**Bytes, not records.** The engine keeps decoded records, and per account the context
slot and a digest of the bytes it last applied, by any path (a notification, the
snapshot, a re-read): ``FeedIngest.compare`` holds another copy against them, so the
check is of the bytes themselves, owner included, not of what a decoder makes of them.

**Which slots.** The node answers as of its context slot C (``minContextSlot``: never
older than what a stream told already), and the chain moves on meanwhile: the engine may
already hold a newer state of an account (it is then not judged against this answer), or
not yet have one of slot <= C that is still on its way. A stream delivers in slot order,
so once every stream's account watermark (``EndpointStats.account_slot``, the newest
context slot of its account notifications) is past C, every change up to C it carried has
come: the check waits for that (polling, with a generous deadline; an answer it cannot
wait out is counted ``unsettled`` and not judged), then every account the engine holds at
a slot <= C must hold C's bytes. One that does not is a difference: a change the engine
never took (a lost notification the reconcile has not repaired yet, or a bug). Neither
luck nor timing decides: an account is judged only where the two must agree.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from feeds.clients.rpc import MAX_ACCOUNTS, RawAccount, RpcClient, RpcError

SETTLE_S = 30.0  # how long an answer waits for the streams to pass its slot (busy CI)


@dataclass
class Tally:
    """What the checks found, summed: answers judged and not (``unsettled``), accounts
    compared (held at a slot the answer covers), ``equal``, ``moved`` (the engine held a
    newer state: judged by a later answer), ``absent`` (none on chain: an array nobody
    initialized is held as its program reads it, not compared), ``unwatched``; the
    differing ones (account, the slot held, the answer's slot, the pools it is of), the
    slots judged, and the accounts compared that had moved since the snapshot (the check
    compared states the streams delivered, not only the snapshot's)."""

    answers: int = 0
    unsettled: int = 0
    compared: int = 0
    equal: int = 0
    moved: int = 0
    absent: int = 0
    unwatched: int = 0
    differing: list[tuple[str, int, int, tuple[str, ...]]] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)
    changed: int = 0

    def add(self, other: Tally) -> None:
        for f in (
            "answers",
            "unsettled",
            "compared",
            "equal",
            "moved",
            "absent",
            "unwatched",
            "changed",
        ):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        self.differing += other.differing
        self.slots += other.slots

    def line(self) -> str:
        return (
            f"{self.answers} answers ({self.unsettled} unsettled) at slots "
            f"{min(self.slots, default=0)}..{max(self.slots, default=0)}: {self.compared:,} "
            f"accounts compared ({self.changed:,} moved since the snapshot), "
            f"{self.equal:,} equal, {len(self.differing)} differing; {self.moved:,} newer in "
            f"the engine, {self.absent} absent on chain"
        )


class GraphCheck:
    """Checks of ``ingest`` (a ``FeedIngest``, or a session's ingest) against the node at
    ``rpc_url``: ``streams()`` the endpoints whose streams feed it now (their watermarks
    are waited for), ``accounts()`` what to check (default: every watched account),
    ``commitment`` the reads' (the session's). ``since``: the snapshot's slot (accounts
    held newer were delivered after it)."""

    def __init__(
        self,
        ingest: Any,
        rpc_url: str,
        streams: Callable[[], Iterable[int]],
        accounts: Callable[[], Sequence[str]] | None = None,
        commitment: str = "confirmed",
        settle_s: float = SETTLE_S,
        since: int = 0,
    ) -> None:
        self.ingest, self.rpc_url = ingest, rpc_url
        self.streams = streams
        self.accounts = accounts or (lambda: list(ingest.watched()))
        self.commitment, self.settle_s, self.since = commitment, settle_s, since
        self.tally = Tally()

    def watermarks(self) -> dict[int, int]:
        return {e.endpoint: e.account_slot for e in self.ingest.endpoint_stats()}

    async def settled(self, slot: int) -> bool:
        """Until every stream's watermark is past ``slot`` (False after ``settle_s``)."""
        deadline = time.monotonic() + self.settle_s
        while True:
            marks = self.watermarks()
            if all(marks.get(i, 0) > slot for i in self.streams()):
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)

    async def check(self) -> Tally:
        """One pass over the accounts, a request of at most 100 at a time, each judged
        at its own slot; the pass's tally (also added to :attr:`tally`)."""
        out = Tally()
        keys = list(self.accounts())
        async with RpcClient(self.rpc_url, timeout_s=30.0) as rpc:
            for i in range(0, len(keys), MAX_ACCOUNTS):
                part = keys[i : i + MAX_ACCOUNTS]
                floor = max(self.watermarks().values(), default=0)
                for attempt in range(50):
                    try:
                        slot, got = await rpc.get_accounts_at(part, self.commitment, floor)
                        break
                    except RpcError as exc:
                        if not exc.transient or attempt == 49:
                            raise
                        await asyncio.sleep(0.1)
                out.answers += 1
                if not await self.settled(slot):
                    out.unsettled += 1
                    continue
                self._judge(slot, got, out)
        self.tally.add(out)
        return out

    def _judge(self, slot: int, got: dict[str, RawAccount | None], out: Tally) -> None:
        present = [(k, a) for k, a in got.items() if a is not None]
        out.absent += len(got) - len(present)
        held = self.ingest.compare([(k, a.owner, a.data) for k, a in present])
        out.slots.append(slot)
        for (k, _a), h in zip(present, held, strict=True):
            if h is None:
                out.unwatched += 1
                continue
            held_slot, same = h
            if held_slot > slot:
                out.moved += 1
                continue
            out.compared += 1
            out.changed += held_slot > self.since
            if same:
                out.equal += 1
            else:
                pools = tuple(sorted({p for _r, p in self.ingest.roles(k)}))
                out.differing.append((k, held_slot, slot, pools))

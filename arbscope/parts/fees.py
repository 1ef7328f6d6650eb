"""The session's fees and tips: the prioritization fees the feeds poll (the scorer's price,
paper's competition), the block engines' tip floor, and the live orders' landings; each
an input of the session, journaled before it is applied."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from engine_rs.errors import EngineError
from feeds.redact import scrub
from storage.codec import Kind

from ..events import FeeChange
from ..market import DEFAULT_CU_LIMIT

if TYPE_CHECKING:
    from ..session import FeedSession

TIP_FLOOR_S = 10.0  # how often the tip floor is read (Jito's updates are slower)
log = logging.getLogger("arbscope.session")  # the session's log, as before its parts


class Fees:
    """The fee estimator (``estimator``: the engine's ``FeeEstimator``) and the tip floor's
    poll (``tips_task``) of ``host``."""

    def __init__(self, host: FeedSession, estimator: Any) -> None:
        self.host = host
        self.estimator = estimator
        self.tips_task: asyncio.Task[None] | None = None

    def on_fees(self, samples: list[tuple[int, int]]) -> None:
        """Recent prioritization fees (``(slot, micro-lamports per CU)``): the estimator's,
        what paper's orders compete against; the scorer's price when it moved (``fee``)."""
        host = self.host
        host.put_input(Kind.FEES, samples)
        newest = self.estimator.newest_slot
        fresh = [(s, f) for s, f in samples if newest is None or s > newest]
        if fresh and host.ev.broker is not None:  # what paper's orders compete against
            host.ev.broker.fee_samples.extend(f for _, f in fresh)
        if fresh:
            ev = host.ev
            before = ev.fees.cu_price_micro_lamports
            try:
                self.estimator.add_many(fresh)
                rec = self.estimator.recommend(DEFAULT_CU_LIMIT, host.fee_settings.percentile)
                ev.fees = replace(ev.fees, cu_price_micro_lamports=rec.cu_price_micro_lamports)
            except EngineError:
                host.errors += 1
            if host.sink is not None and ev.fees.cu_price_micro_lamports != before:
                host.sink.emit(
                    FeeChange(ev.fees.cu_price_micro_lamports, self.estimator.newest_slot),
                    host.slot,
                    host.now_ns,
                )

    def accounts(self) -> list[str]:
        """The pools the fee poll asks about: those of the orders in flight (paper and
        live), then of the 16 best cycles (what the next orders will write)."""
        out: dict[str, None] = {}
        ev = self.host.ev
        b = ev.broker
        if b is not None:
            for order in b.pending:
                out.update(dict.fromkeys(order.opp.pools))
        ex = ev.executor
        if ex is not None:
            for lo in list(ex.orders)[-8:]:
                out.update(dict.fromkeys(lo.pools))
        # the best as the cycles panel ranks them (a cycle whose net is not known last),
        # without sorting the ~12,000 cycles live at 3,000 pools on every poll
        for opp, _ in ev.book.best(16):
            out.update(dict.fromkeys(opp.pools))
        return list(out)[:128]

    def tip_floor_url(self) -> str:
        """Where the block engines' tip floor is read (paper's orders race the bundles
        that landed there, tipping or not: a plain transaction lands behind a bundle that
        pays more per compute unit): the first live block engine, else the embedded
        simulator's (it serves Jito's endpoint); "" when there is neither."""
        cfg = self.host.desk.config
        if cfg is not None and cfg.engines():
            return str(cfg.engines()[0])
        feeds = self.host.feeds
        if feeds.simulated and feeds.endpoints:
            return feeds.endpoints[0].http or ""
        return ""

    def start(self) -> None:
        """The tip floor read from now on, where there is one."""
        url = self.tip_floor_url()
        if url:
            self.tips_task = asyncio.create_task(self.poll_tips(url), name="tip-floor")

    async def poll_tips(self, url: str) -> None:
        """Read the tip floor every ``TIP_FLOOR_S`` seconds (``on_tips``); a failure is
        logged and the last one stands."""
        import aiohttp

        from feeds.clients.tls import ssl_for

        from ..execution.routes import PERCENTILES, fetch_tip_floor

        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    ca_file = self.host.feeds.ca_file
                    answer = await fetch_tip_floor(http, url, ssl_for(url, ca_file))
                    row = answer[0] if isinstance(answer, list) else answer
                    tips = [
                        round(float(row[f"landed_tips_{p}th_percentile"]) * 1e9)
                        for p in PERCENTILES
                    ]
                    if all(t >= 0 for t in tips):
                        self.on_tips(tips)
                except (
                    ValueError,
                    KeyError,
                    TypeError,
                    IndexError,
                    aiohttp.ClientError,
                    asyncio.TimeoutError,
                    OSError,
                ) as exc:
                    log.warning("tip floor: %s", scrub(str(exc), url)[:200])
                await asyncio.sleep(TIP_FLOOR_S)

    def on_tips(self, lamports: list[int]) -> None:
        """The block engines' landed tips (lamports at the 25th ... 99th percentile):
        what paper's bundles compete against. Journaled as an input."""
        self.host.put_input(Kind.TIPS, lamports)
        broker = self.host.ev.broker
        if broker is not None:
            broker.tip_floor = tuple(int(x) for x in lamports)

    def on_landing(self, slots: int, send_ns: int = 0) -> None:
        """A live order landed ``slots`` after its decision, sent ``send_ns`` after it:
        paper lands its orders on the live orders' measured latency. Journaled as an
        input."""
        self.host.put_input(Kind.LANDING, slots, send_ns)
        broker = self.host.ev.broker
        if broker is not None:
            broker.observe_landing(int(slots), int(send_ns))

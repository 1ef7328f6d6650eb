"""What the screen and the journal's derived events read of the session: the snapshot,
built when it is first read after a turn (a session no one shows never builds one), and
the events for what changed since the last turn (``opp``, ``gone``, ``sweep``, ``health``)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from storage.recorder import canonical, event_text

from ..events import FeedsHealth, Gone, Opp, Sweep
from ..market import Snapshot
from ..ports import EventSink
from ..prices import PriceRow, fee_view

if TYPE_CHECKING:
    from ..session import FeedSession

HEALTH_EVERY_NS = 1_000_000_000  # feed health journaled once a second


class Screen:
    """``host``'s snapshot (None: built anew when read) and what its derived events said
    last (each live cycle's text and the records it was made of, the sweep's key, when
    the feeds' health was)."""

    def __init__(self, host: FeedSession) -> None:
        self.host = host
        self.snap: Snapshot | None = None
        self._emitted: dict[tuple[str, tuple[str, ...]], str] = {}
        self._emitted_of: dict[tuple[str, tuple[str, ...]], tuple[Any, Any, Any]] = {}
        self._sweep_key = ""
        self._last_health_ns = 0
        # whether the events said every change of the book so far (else the next call
        # looks at every live cycle, not only those written since)
        self._synced = False

    def stale(self) -> None:
        """The state moved: the next read builds a new snapshot."""
        self.snap = None

    def turned(self, changed: list[str]) -> None:
        """The turn's end: the price panel's pools that ``changed`` (not part of the
        replayed decisions: only when anyone will show the session), the public mids the
        prop AMMs lead."""
        host = self.host
        if host.snapshots:
            # slot 0: no slot notification yet (the prices are shown, not charted)
            host.prices.update(host.ev.graph, changed, host.slot or None)
            if host.props.pairs and host.slot:
                host.props.follow(host.slot, host.prices.mids())

    def snapshot(self, starting: bool) -> Snapshot:
        """What the screen shows: the state after the latest turn, built when it is first
        read after that turn; while ``starting``, each read shows the start's progress."""
        if self.snap is None or starting:
            host = self.host
            feeds, verdict = host.health.latest
            coverage = host.feeds.coverage()  # one pass over the pools for the note and detail
            ev, pool = host.ev, host.feeds.pool
            self.snap = ev.snapshot(
                seed=host.seed,
                slot=host.slot,
                updates=host.updates,
                updates_per_s=host.rate.per_s(),
                errors=host.errors,
                source=host.source,
                kind="SIM" if host.feeds.simulated else "LIVE",
                feeds=feeds,
                note=host.health.note(coverage, starting),
                session_id=host.session_id,
                prices=self.price_rows(),
                fee=fee_view(
                    host.fees.estimator,
                    ev.shown_cu_limit(),
                    ev.fees.cu_price_micro_lamports,
                ),
                verdict=verdict,
                names=host.tokens.registry.book,
                mids=host.prices.mids(),
                commitment=host.feeds.commitment,
                coverage=coverage,
                endpoints=len(pool.endpoints) if pool is not None else 0,
                book=host.prices,
                rivals=host.rivals.view() if host.watch_rivals else None,
                props=host.props,
            )
        return self.snap

    def price_rows(self) -> list[PriceRow]:
        """The Prices panel's rows, each with its pair's prop AMM when one was seen."""
        host = self.host
        rows = host.prices.rows()
        if not host.props.pairs:
            return rows
        quotes = host.props.quotes(r.pair for r in rows)
        return [replace(r, prop=quotes[r.pair]) if r.pair in quotes else r for r in rows]

    def emit(self, sink: EventSink | None, now_ns: int) -> None:
        """Derived events for what changed since the last turn: opportunities that are
        new or changed (``opp``), gone (``gone``), a new sweep result (``sweep``); feed
        health once a second (``health``, not digested). Only the cycles the book wrote
        or dropped since are looked at (at 3,000 pools, sorting and looking at each of
        ~15,000 live cycles every turn held the loop for tens of ms): the others' records
        are the ones their events were made of. No ``sink``: nothing (the next call with
        one looks at every live cycle)."""
        host = self.host
        slot, ev = host.slot, host.ev
        live, emitted = ev.live, self._emitted
        written = ev.book.take_written()
        if sink is None:
            self._synced = False
            return
        if self._synced:
            moved = sorted(written)
            keys = [k for k in moved if k in live]
            gone = [k for k in moved if k not in live and k in emitted]
        else:  # every live cycle, every one said and gone
            self._synced = True
            keys = sorted(live)
            gone = sorted(set(emitted).difference(live))
        # what each emitted cycle's text was made of (frozen records): the same objects
        # make the same text, so it is not made again
        made_of = self._emitted_of
        for key in keys:
            o, sc = live[key]
            fees = ev.fees_of(key)
            last = made_of.get(key)
            if last is not None and last[0] is o and last[1] is sc and last[2] is fees:
                continue
            made_of[key] = (o, sc, fees)
            opp = Opp.of(o, sc, fees)
            text = event_text(opp)
            if emitted.get(key) != text:
                emitted[key] = text
                sink.emit(opp, slot, now_ns)
        for key in gone:
            del emitted[key]
            made_of.pop(key, None)
            sink.emit(Gone(key[0], key[1]), slot, now_ns)
        c = ev.last_sweep
        sweep = canonical({"tokens": list(c.tokens), "pools": list(c.pools)}) if c else "none"
        if sweep != self._sweep_key:
            self._sweep_key = sweep
            sink.emit(Sweep(c), slot, now_ns)
        if host.feeds.feeding and now_ns - self._last_health_ns >= HEALTH_EVERY_NS:
            self._last_health_ns = now_ns
            sink.emit(FeedsHealth(host.health.feeds()), slot, now_ns)

"""What the screen and the journal's derived events read of the session: the snapshot,
built when it is first read after a turn (a session no one shows never builds one), and
the events for what changed since the last turn (``opp``, ``gone``, ``sweep``, ``health``),
made at once or, on a live session's run loop, a few at a time between its steps
(:class:`Outbox`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from engine_rs.records import FeeContext
from storage.recorder import JournaledEvent, canonical, event_text

from ..cycle_costs import CycleCost
from ..events import FeedsHealth, Gone, Opp, Sweep
from ..market import OppKey, Snapshot
from ..opportunities import fees_in
from ..ports import EventSink
from ..prices import PriceRow, fee_view

if TYPE_CHECKING:
    from ..session import FeedSession

HEALTH_EVERY_NS = 1_000_000_000  # feed health journaled once a second
DRAIN_CHECK = 32  # events made between two looks at a drain's clock


class Outbox:
    """A sink's events in the order they were emitted, some of them made later: a live
    turn's opp and gone events are a job (:meth:`later`) made a few at a time between
    the run loop's steps (:meth:`drain`), and an event emitted meanwhile (a fill, a
    rival's, the next turn's) waits behind it. Each event, its text and its place are
    those of making it at once, as a replay does (at 3,000 pools a recorded turn's
    ~15,000 events held the loop for 220-390 ms at once)."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        self.check_every = DRAIN_CHECK
        self._todo: deque[tuple[JournaledEvent, int, int] | Iterator[None]] = deque()

    def emit(self, event: JournaledEvent, slot: int, t_ns: int = 0) -> None:
        if self._todo:
            self._todo.append((event, slot, t_ns))
        else:
            self.sink.emit(event, slot, t_ns)

    def later(self, job: Iterator[None]) -> None:
        """``job`` makes its events into :attr:`sink` a step at a time, after what waits."""
        self._todo.append(job)

    @property
    def waiting(self) -> bool:
        return bool(self._todo)

    def drain(self, over: Callable[[], bool] = lambda: False) -> None:
        """Make and pass on what waits, in order, until ``over()`` (looked at every
        :attr:`check_every` events made; never: all of it)."""
        todo, sink, n, every = self._todo, self.sink, 0, self.check_every
        while todo:
            item = todo[0]
            if isinstance(item, tuple):
                todo.popleft()
                sink.emit(*item)
                continue
            for _ in item:
                n += 1
                if n % every == 0 and over():
                    return
            todo.popleft()


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

    def drain(self, over: Callable[[], bool]) -> None:
        """A live step's share of the events waiting (:meth:`Outbox.drain`)."""
        sink = self.host.sink
        if isinstance(sink, Outbox):
            sink.drain(over)

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

    def emit(self, sink: EventSink | None, now_ns: int, later: bool = False) -> None:
        """Derived events for what changed since the last turn: opportunities that are
        new or changed (``opp``), gone (``gone``), a new sweep result (``sweep``); feed
        health once a second (``health``, as last judged; not digested). Only the cycles
        the book wrote or dropped since are looked at (at 3,000 pools, sorting and looking
        at each of ~15,000 live cycles every turn held the loop for tens of ms): the
        others' records are the ones their events were made of. No ``sink``: nothing (the
        next call with one looks at every live cycle). ``later``, into an
        :class:`Outbox`: the opp and gone events are made as it drains, from the book's
        records as they are now (copied: the book moves meanwhile), after the last
        turn's (made now if still waiting)."""
        host = self.host
        slot, ev = host.slot, host.ev
        written = ev.book.take_written()
        if sink is None:
            self._synced = False
            return
        full, self._synced = not self._synced, True
        outbox = sink if isinstance(sink, Outbox) else None
        deferred = later and outbox is not None
        live: Mapping[OppKey, Any] = ev.live
        costs: Mapping[OppKey, CycleCost] = ev.costs
        if deferred:  # what the job reads of them, as they are now
            got = live.get
            live = dict(live) if full else {k: v for k in written if (v := got(k)) is not None}
            costs = {k: cost for k in live if (cost := ev.costs.get(k)) is not None}
        into = outbox.sink if outbox is not None else sink
        job = self._making(None if full else written, live, costs, ev.fees, into, slot, now_ns)
        if outbox is not None:
            # what waits goes first: the last turn's job, when the slices since did not
            # drain it all (so what waits is never more than a turn's)
            outbox.drain()
            if deferred:
                outbox.later(job)
        if not deferred:
            for _ in job:
                pass
        c = ev.last_sweep
        sweep = canonical({"tokens": list(c.tokens), "pools": list(c.pools)}) if c else "none"
        if sweep != self._sweep_key:
            self._sweep_key = sweep
            sink.emit(Sweep(c), slot, now_ns)
        if host.feeds.feeding and now_ns - self._last_health_ns >= HEALTH_EVERY_NS:
            self._last_health_ns = now_ns
            # as the turns judge it (their screen's step), not asked of the feeds again:
            # ~15-50 ms at 3,000 pools, and the feeds' rates are over the calls between
            health = host.health
            sink.emit(FeedsHealth(health.latest[0] or health.feeds()), slot, now_ns)

    def _making(
        self,
        written: set[OppKey] | None,
        live: Mapping[OppKey, tuple[Any, Any]],
        costs: Mapping[OppKey, CycleCost],
        fees: FeeContext,
        sink: EventSink,
        slot: int,
        now_ns: int,
    ) -> Iterator[None]:
        """The opp events of the ``live`` cycles ``written`` (None: every one) whose text
        changed, by key, then the gone ones' (said, written and not live), by key, into
        ``sink``: a step per cycle looked at. Each one's fee context is the one it was
        scored with (:func:`~arbscope.opportunities.fees_in` ``costs``, else ``fees``)."""
        emitted, made_of = self._emitted, self._emitted_of
        if written is None:  # every live cycle, every one said and gone
            keys = sorted(live)
            gone = sorted(set(emitted).difference(live))
        else:
            wrote = sorted(written)
            keys = [k for k in wrote if k in live]
            gone = [k for k in wrote if k not in live and k in emitted]
        yield
        for key in keys:
            o, sc = live[key]
            made = (o, sc, fees_in(costs, key, fees))
            # the same records (frozen) make the same text: not made again
            last = made_of.get(key)
            if last is None or last[0] is not o or last[1] is not sc or last[2] is not made[2]:
                made_of[key] = made
                opp = Opp.of(*made)
                text = event_text(opp)
                if emitted.get(key) != text:
                    emitted[key] = text
                    sink.emit(opp, slot, now_ns)
            yield
        for key in gone:
            del emitted[key]
            made_of.pop(key, None)
            sink.emit(Gone(key[0], key[1]), slot, now_ns)
            yield

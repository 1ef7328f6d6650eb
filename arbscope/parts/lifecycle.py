"""The session's start and stop: the journal opened and the recorder started (when it
records), its feeds prepared, opened and started with their link to the session, the
executor set up; and at the end everything closed in order, the journal flushed and its
digest kept. A failure is a message (``start_error``, ``journal_error``), never a raise."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import platform
import types
from importlib import metadata
from typing import TYPE_CHECKING, Any

from feeds.clients.pool import Bootstrap
from storage.codec import Kind
from storage.journal import Journal, JournalError
from storage.recorder import Recorder

from .. import heap, inputs
from ..events import Timings
from ..ports import Ingest, InputSink, NothingToFind, SourceLink
from .screen import Outbox

if TYPE_CHECKING:
    from ..session import FeedSession

log = logging.getLogger("arbscope.session")  # the session's log, as before its parts


def _both(first: InputSink, second: InputSink) -> InputSink:
    """An input to ``first``, then to ``second`` (a collector that records: the
    publisher's and the journal's)."""

    def put(kind: Kind, endpoint: int, payload: bytes, t_ns: int | None = None, /) -> None:
        first(kind, endpoint, payload, t_ns)
        second(kind, endpoint, payload, t_ns)

    return put


def versions(eng: types.ModuleType) -> dict[str, Any]:
    """arbscope, Python and engine versions (journaled with each session)."""
    try:
        own = metadata.version("arbscope")
    except metadata.PackageNotFoundError:
        own = "unknown"
    return {
        "arbscope": own,
        "python": platform.python_version(),
        "engine": eng.BACKEND,
        "engine_build": getattr(eng, "BUILD_PROFILE", ""),
    }


class Lifecycle:
    """``host``'s start (once) and stop (once; it cancels a start in progress)."""

    def __init__(self, host: FeedSession) -> None:
        self.host = host
        self.starting: asyncio.Task[None] | None = None  # start() in progress (stop() cancels)
        self.stop_called = False
        self._start_called = False  # start() was called (it runs once)
        self._stopped = False

    def config(self) -> dict[str, Any]:
        """What the session was started with, as journaled (URLs redacted)."""
        host = self.host
        src = host.feeds.config()
        live = host.desk.config
        return {
            "seed": host.seed,
            "source": host.source,
            "sim": src["sim"],
            "endpoints": src["endpoints"],
            "sim_grpc": src["sim_grpc"],
            "pools": len(host.universe),
            "base_mints": host.base_mints,
            "max_hops": host.max_hops,
            "sweep_s": host.sweep_s,
            "backend": host.eng.BACKEND,
            "policy": dataclasses.asdict(host.ev.policy),
            "fees": dataclasses.asdict(host.fee_settings),
            "live": None if live is None else live.shown(),
            "sim_accept_tx": host.feeds.faucet is not None,
            "commitment": host.feeds.commitment,
            "feeds_stall_s": host.feeds_stall_s,
            # how the engine sized the cycles: a replay sizes the same (older: "ternary")
            "sizing": host.sizing,
            # where a sliced turn reported: a replay reports where it did (older: "inline")
            "turn_report": host.turn_report,
            # where a sliced turn decided: a replay decides where it did (older: "inline")
            "turn_decide": host.turn_decide,
            # where a sliced turn made its events: a replay makes them there (older: "inline")
            "turn_events": host.turn_events,
            # how many of a pool's cycles a slice evaluated: a replay's SLICE counts the
            # same pieces (older: whole pools)
            "slice_piece": host.slice_piece,
            # the signers' names (the labels file): a replay shows the Rivals panel as it was
            "rival_labels": dict(host.rivals.labels),
            "rival_own": sorted(host.rivals.own),
            # the prop AMMs' programs read, and the follow rule: a replay shows the same
            "prop_amms": dict(host.prop_programs),
            "prop_follow_bps": host.props.follow_bps,
        }

    async def start(self) -> None:
        """Open the journal (when recording), start the simulator (if embedded),
        snapshot the pools, open the feeds. A failure is kept in ``start_error`` and
        shown; it never raises. :meth:`stop` during a start cancels it (an endpoint that
        never answers must not hold up a quit or a SIGTERM). Once only: a second call
        (a dashboard handed a session its caller started) waits for the first one's end
        and starts nothing again (a second journal session, feeds and executor, the first
        ones left open and running)."""
        if self._start_called:
            starting = self.starting
            if starting is not None:
                await asyncio.wait([starting])
            return
        self._start_called = True
        self.starting = asyncio.ensure_future(self._start())
        try:
            await self.starting
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not self.stop_called or (task is not None and task.cancelling()):
                raise  # our caller was cancelled, not stopped by stop()
            log.info("session stopped while starting")
        finally:
            self.starting = None

    async def _start(self) -> None:
        s = self.host
        await s.health.serve()
        try:
            feeds = s.feeds
            await feeds.prepare()
            if not s.base_mints:  # what the collectors watch
                bases = await feeds.announced_base_mints()
                if bases:
                    s.base_mints = bases
                    s.setup_engine()
            # what the feeds are handed: the ingest itself, or a facade over the stages
            # that record (the tee) and forward (a collector's) in front of it
            ingest: Ingest = s.ingest
            record: InputSink | None = None  # the recorder's input, when it records
            if s.record is not None:
                s.journal = await Journal.open(s.record.db)
                journal = s.journal
                target = await s.streams.journal(journal) if s.streams else journal
                s.recorder = await Recorder.start(
                    target,
                    "sim" if feeds.simulated else "live",
                    s.life.config(),
                    versions(s.eng),
                    s.record.batch_s,
                    s.record.codec,
                    s.record.max_pending_bytes,
                    encoder=s.eng.DeltaEncoder(),
                )
                s.session_id = s.recorder.session
                s.sink = Outbox(s.recorder)  # a live turn's events made between steps
                record = s.recorder.input
                ingest = inputs.IngestFacade(inputs.Tee(s.ingest, record), s.ingest)
            await feeds.open()
            if s.streams is not None:
                names = [e.name for e in feeds.endpoints]
                s.publisher = await s.streams.publisher(names, s.base_mints, s.source)
                if s.publisher is not None:
                    # a collector forwards what it has no use for: the frames it reads
                    # nothing in go to the stream (and the journal) without its ingest
                    put = s.publisher.add
                    forwarder = inputs.Forwarder(
                        s.ingest,
                        put if record is None else _both(put, record),
                        logs=s.watch_rivals,
                        put_copies=record is None,  # the publisher copies; a recorder keeps
                    )
                    ingest = inputs.IngestFacade(forwarder, s.ingest)
            await feeds.start(
                SourceLink(
                    ingest,
                    s.eng,
                    s.universe,
                    s.told,
                    s.fees.accounts,
                    s.life.nothing_to_find,
                    s.tokens.started,
                    seed=s.seed,
                    rivals=s.watch_rivals,
                    follow_programs=sorted(s.prop_programs) if s.watch_rivals else (),
                    reconcile=not s.collect_only,
                )
            )
            s.fees.start()
        except NothingToFind as exc:  # it would run forever and find nothing: say so
            s.idle_reason = s.start_error = f"nothing to find: {exc}"[:300]
            log.error("%s", s.start_error)
        except Exception as exc:  # a dead endpoint is a message, not a traceback
            s.start_error = f"{type(exc).__name__}: {exc}"[:300]
            log.error("session failed to start: %s", s.start_error)
        s.desk.setup()
        s.screen.stale()  # what the start found (its note, the live view) shows now
        if s.ev.executor is not None and feeds.faucet is not None and not s.start_error:
            await s.desk.fund_from_faucet()
        if not s.start_error:
            heap.settle()  # the start's structures are for the session's life
            boot = feeds.boot
            log.info(
                "session %s started: %s, %d endpoints, %d pools (%d missing, %d rejected), "
                "base %s, recording %s",
                s.session_id or "(not recorded)",
                s.source,
                len(feeds.endpoints),
                boot.pools if boot else 0,
                len(boot.missing) if boot else 0,
                len(boot.rejected) if boot else 0,
                ",".join(s.tokens.registry.book.symbol(b) for b in s.base_mints),
                "yes" if s.recorder is not None else "no",
            )

    def nothing_to_find(self, boot: Bootstrap) -> str:
        """Why this session cannot find a cycle after its snapshot ("" when it can): no
        pool of the universe made it into the graph, or none trades a base mint."""
        host = self.host
        if not host.base_mints:
            return (
                "no base mints (market.base_mints, or the pools file's base_mints): "
                "cycles start and end in a base mint"
            )
        if not host.universe:
            return "the pool universe is empty"
        if boot.pools == 0:
            return (
                f"none of the {len(host.universe)} pools of the universe is on "
                f"{boot.endpoint or 'the endpoints'} ({len(boot.missing)} not found, "
                f"{len(boot.rejected)} rejected): check market.pools_file and that the "
                "endpoints serve the cluster it was written for"
            )
        if not set(host.ev.graph.tokens()) & set(host.base_mints):
            bases = ", ".join(b[:8] + "…" for b in host.base_mints)
            return f"no pool of the universe trades a base mint ({bases})"
        return ""

    async def stop(self) -> None:
        """Unsubscribe and close the feeds, stop the simulator, then flush the journal
        and store the session's digest (once; a second call does nothing). A start still
        in progress is cancelled first (its pending requests with it). A journal that
        fails here never raises: ``journal_error`` says what happened."""
        host = self.host
        self.stop_called = True
        starting = self.starting
        if starting is not None and not starting.done():
            starting.cancel()
            await asyncio.wait([starting])
        if self._stopped:
            return
        self._stopped = True
        try:
            await self._stop()
        finally:
            await host.health.stop()
        if host.digest:
            journal = f"flushed, digest {host.digest[:16]}"
        elif host.session_id:
            journal = f"INCOMPLETE: {host.journal_error}"
        else:
            journal = "not recorded"
        log.info(
            "session %s stopped: slot %d, %d updates, journal %s",
            host.session_id or "(not recorded)",
            host.slot,
            host.updates,
            journal,
        )

    async def _stop(self) -> None:
        host = self.host
        tokens, fees = host.tokens, host.fees
        tasks = [t for t in (tokens.names_task, fees.tips_task) if t is not None and not t.done()]
        tokens.names_task = fees.tips_task = None
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        try:
            if host.ev.executor is not None:
                await host.ev.executor.close()
            await host.feeds.stop()
            if host.publisher is not None:  # what was received is acknowledged first
                await host.publisher.stop()
        finally:
            try:
                await self._close_journal()
            finally:
                if host.streams is not None:
                    await host.streams.close()

    async def _close_journal(self) -> None:
        """Flush and close the recording, and the journal (also when the recording never
        started: an open connection would keep the process from exiting)."""
        host = self.host
        rec = host.recorder
        try:
            if isinstance(host.sink, Outbox):
                host.sink.drain()  # the events still to make, before the last one
            if rec is not None:
                rec.emit(Timings(host.timer.rows()), host.slot)
                broker = host.ev.broker
                pnl = broker.pnl if broker is not None else 0
                try:
                    host.digest = await rec.close(float(pnl))  # paper PnL, base units
                except JournalError:
                    pass  # rec.incomplete says what was and was not written
                if rec.incomplete:  # the recorder's own words (the count the log stated)
                    host.journal_error = (
                        f"{rec.incomplete}; session {rec.session} stays INCOMPLETE: "
                        "`arbscope replay` replays it up to there"
                    )
        finally:
            if host.journal is not None:
                await host.journal.close()
                host.journal = None
            if rec is not None:
                host.recorder = host.sink = None

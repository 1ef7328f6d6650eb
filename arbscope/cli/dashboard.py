"""``arbscope run`` and ``arbscope collect``: the dashboard, or a headless session."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import TYPE_CHECKING

from .build import build_session
from .common import fail, run_app, version
from .options import fleet_settings, resolve_config

if TYPE_CHECKING:
    from ..session import FeedSession


def run(args: argparse.Namespace) -> int:
    from ..config import ConfigError

    if args.duration is not None and not args.duration > 0:
        return fail("--duration must be positive")
    try:
        fleet = fleet_settings(args)
    except ValueError as exc:
        return fail(str(exc))
    try:
        cfg = resolve_config(args)
        session = build_session(cfg, fleet)
    except ConfigError as exc:
        return fail("configuration:\n  " + "\n  ".join(exc.problems))
    from .. import logs

    log_path = logs.setup(
        cfg["logs.file"],
        cfg["logs.level"],
        cfg["logs.max_bytes"],
        cfg["logs.backups"],
        stderr=args.headless,
    )
    logging.getLogger(__name__).info(
        "arbscope %s: config %s, log %s", version(), cfg.path or "(defaults)", log_path
    )
    if args.headless:
        from .. import heap

        # a headless session's process (a collector's too) settles its heap once started;
        # the dashboard's app has its own collector policy (``tui.app.settle_gc``)
        heap.enable()
        return headless(session, args.duration)
    from tui.app import ArbscopeApp

    from .. import heap
    from ..replay import JournalSessions

    # the dashboard's process gives what its allocator holds free back to the system
    # (``heap.Trimmer``); a headless one does so from ``heap.settle``
    heap.trimmer().start()
    run_app(
        ArbscopeApp(session, sessions=JournalSessions(cfg["journal.path"]), theme=cfg["ui.theme"])
    )
    if session.session_id and session.digest:
        print(f"session {session.session_id} recorded (digest {session.digest[:16]})")
    elif session.session_id:
        print(f"session {session.session_id} recorded INCOMPLETE", file=sys.stdout)
        print(f"arbscope: journal: {session.journal_error}", file=sys.stderr)
        return 1
    return 0


STATUS_EVERY_S = 10.0  # a headless session's status line


def headless(session: FeedSession, duration: float | None) -> int:
    """Run ``session`` without a screen until SIGINT/SIGTERM (or ``duration`` seconds):
    human log lines on stderr, JSON lines in the log file, metrics served. The journal
    is flushed either way. Exit status: 0 clean, 1 when the session could not start or
    the journal failed (the last error says why; ``session ID`` is printed all the same,
    ``digest HEX`` only for a complete recording)."""
    log = logging.getLogger("arbscope.headless")

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal(name: str) -> None:
            log.info("%s: stopping (feeds unsubscribed, journal flushed)", name)
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, on_signal, sig.name)

        async def status() -> None:  # the only reader of the snapshot here
            clock = session.clock
            due = clock.now_ns()
            while True:
                due += int(STATUS_EVERY_S * 1e9)
                await clock.wait_until(due)
                log.info("%s", status_line(session))

        starting = asyncio.ensure_future(session.start())
        signalled = asyncio.ensure_future(stop.wait())
        running: list[asyncio.Future[None]] = []
        try:
            # a signal during the start stops it (session.stop() in finally cancels it)
            await asyncio.wait([starting, signalled], return_when=asyncio.FIRST_COMPLETED)
            if not stop.is_set():
                # the session's own run loop, until a signal, the duration or a failed start
                runner = asyncio.ensure_future(
                    session.run(duration_s=duration, until=lambda: bool(session.start_error))
                )
                running += [runner, asyncio.ensure_future(status())]
                await asyncio.wait([runner, signalled], return_when=asyncio.FIRST_COMPLETED)
                if runner.done():
                    runner.result()  # an exception from a tick ends the run, as it always did
        finally:
            signalled.cancel()
            waiting = [t for t in running if not t.done()]
            for task in waiting:
                task.cancel()
            for task in waiting:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await session.stop()
            await starting

    asyncio.run(go())
    snap = session.snapshot
    journal_error = session.journal_error
    if session.start_error:
        print(f"arbscope: {session.start_error}", file=sys.stderr)
    if journal_error:
        print(f"arbscope: journal: {journal_error}", file=sys.stderr)
    print(
        f"slot {snap.slot}, {snap.pools} pools, {snap.updates} updates, "
        f"{len(snap.opportunities)} live opportunities, {snap.errors} errors",
        file=sys.stderr,
    )
    if session.session_id:
        print(f"session {session.session_id}")
        if session.digest:
            print(f"digest {session.digest}")
    return 1 if session.start_error or journal_error else 0


def status_line(s: FeedSession) -> str:
    from ..session import BACKLOG_SHOWN_S

    snap = s.snapshot
    up = sum(1 for f in snap.feeds if f.connected)
    go = sum(1 for _, sc in snap.opportunities if sc.go)
    pf = snap.portfolio
    paper = f"paper pnl {pf.pnl:+,} ({pf.fills} fills)" if pf is not None else "paper idle"
    live = ""
    if snap.live is not None:
        lv = snap.live
        live = f", live {s.ev.mode.lower()} pnl {lv.pnl:+,} ({lv.confirmed} ok, {lv.failed} failed)"
    rec = s.recorder
    journal = f", journal: {rec.error}" if rec is not None and rec.error else ""
    waiting, age = s.backlog
    if waiting and age >= BACKLOG_SHOWN_S:  # the market outruns the machine
        journal += f", behind: {waiting:,} pools waiting, oldest {age:.1f} s"
    pub = s.publisher
    if pub is not None:  # a collector
        st = pub.stats
        return (
            f"slot {snap.slot}, feeds {up}/{len(snap.feeds)} up, published {st.acked:,} "
            f"batches ({st.frames:,} frames) to {pub.region}, {pub.pending} pending, "
            f"{st.resent} resent, {st.dropped} dropped"
            + (f", last error: {st.last_error}" if st.last_error else "")
        )
    return (
        f"slot {snap.slot}, feeds {up}/{len(snap.feeds)} up, {snap.updates_per_s:.0f} "
        f"updates/s, {len(snap.opportunities)} opportunities ({go} go), {paper}{live}, "
        f"errors {snap.errors}{journal}"
    )

"""The journal's commands: ``sessions`` (and ``prune``), ``replay``, ``sweep``, ``export``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from .common import fail, journal_call, run_app


def age_s(text: str) -> float:
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w`` -> seconds (ValueError saying what is
    accepted)."""
    import re

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text.lower())
    if m is None:
        raise ValueError(f"age {text!r}: use a number and s, m, h, d or w (e.g. 30d)")
    return float(m.group(1)) * units[m.group(2)]


def size_b(text: str) -> int:
    """``2GB``, ``500MB``, ``750K``, ``1.5T``, ``4096`` -> bytes (binary multiples; ValueError
    saying what is accepted)."""
    import re

    mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", text.upper())
    if m is None:
        raise ValueError(f"size {text!r}: use a number and B, KB, MB, GB or TB (e.g. 2GB, 500MB)")
    return int(float(m.group(1)) * mult[m.group(2)])


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def sessions(args: argparse.Namespace) -> int:
    import time

    from storage.journal import Journal

    db = getattr(args, "db", None)
    if getattr(args, "sessions_command", None) == "prune":
        if args.older_than is None and args.max_size is None:
            return fail("prune needs --older-than AGE and/or --max-size SIZE")
        try:
            age = age_s(args.older_than) if args.older_than else None
            cap = size_b(args.max_size) if args.max_size else None
        except ValueError as exc:
            return fail(str(exc))

        async def prune() -> int:
            async with await Journal.open(db, create=False) as j:
                done = await j.prune(age, cap)
                size = human(await j.file_bytes())
            print(f"deleted {len(done.deleted)} session(s); journal {size}")
            for s in done.deleted:
                print(f"  {s}")
            if done.skipped:
                print(f"skipped {len(done.skipped)} session(s) still being recorded:")
                for s in done.skipped:
                    print(f"  {s}")
            if done.note:
                print(f"note: {done.note}")
            return 0

        return journal_call(prune())

    async def listing() -> int:
        async with await Journal.open(db, create=False, write=False) as j:
            rows = await j.sessions()
            lost = await j.lost_sessions()
        print(
            f"{'session':<22} {'started (UTC)':<19} {'source':<6} {'duration':>9} "
            f"{'frames':>9} {'opps':>6} {'paper pnl':>14} {'stored':>9}  state"
        )
        for s in rows:
            started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s.started))
            # an incomplete session says why (its recorder stored it, or what was lost)
            state = {
                "INCOMPLETE": f"INCOMPLETE ({s.why})",
                "RECORDING": "RECORDING (a live process records it now)",
            }.get(s.state, s.state)
            # the PnL is known when the session ended (cleanly or with why it is incomplete)
            pnl = f"{int(s.pnl):>+14,}" if s.ended is not None else f"{'?':>14}"
            print(
                f"{s.id:<22} {started:<19} {s.source:<6} {s.duration_s:>8.1f}s "
                f"{s.frames:>9,} {s.opportunities:>6,} {pnl} "
                f"{human(s.stored_bytes):>9}  {state}"
            )
        for gone in lost:  # a killed recorder's lock says it committed what is not there
            print(
                f"{gone.id:<22} {'?':<19} {'?':<6} {'?':>9} {'?':>9} {'?':>6} {'?':>14} "
                f"{'?':>9}  LOST (its recorder committed {gone.inputs:,} inputs and "
                f"{gone.events:,} events; the journal holds none: its write-ahead log was "
                "deleted or damaged before the process died)"
            )
        if not rows and not lost:
            print("(no sessions)")
        return 0

    return journal_call(listing())


def replay(args: argparse.Namespace) -> int:
    from ..replay import ReplaySession, load_info, parse_speed

    db = getattr(args, "db", None)
    try:
        speed = parse_speed(args.speed or ("max" if args.headless else "1"))
    except ValueError as exc:
        return fail(str(exc))

    whatif = args.policy is not None or args.until is not None or args.json
    if whatif and not args.headless:
        return fail("--policy, --until and --json are for --headless replays")
    if args.until is not None and not args.until > 0:
        return fail(f"--until must be a positive number of seconds, got {args.until:g}")

    opener = None
    if args.nats:
        from ..fleet import StreamJournalReader, parse_seq_range

        try:
            seq = parse_seq_range(args.seq)
        except ValueError as exc:
            return fail(str(exc))

        async def opener() -> Any:
            return await StreamJournalReader(args.nats, seq).open()
    elif args.seq:
        return fail("--seq needs --nats URL")

    async def info() -> Any:
        if opener is None:
            return await load_info(db, args.session)
        reader = await opener()
        try:
            return await reader.info(args.session)
        finally:
            await reader.close()

    from storage.journal import JournalError

    try:
        meta = asyncio.run(info())
    except (JournalError, ConnectionError) as exc:  # (no NATS server: its URL redacted)
        return fail(str(exc))
    except Exception as exc:  # the server answered, not as JetStream does
        from feeds.redact import scrub

        return fail(scrub(f"--nats {args.nats}: {type(exc).__name__}: {exc}", args.nats))
    if whatif and opener is not None:
        return fail("--policy, --until and --json read the journal file (not --nats)")
    if whatif:
        from ..whatif import replay_command

        return replay_command(db, meta, args.policy, args.until, args.json)
    try:
        session = ReplaySession(db, meta, shadow=args.shadow, speed=speed, opener=opener)
    except Exception as exc:  # e.g. a config the engine refuses: a message, not a traceback
        return fail(f"cannot replay {meta.id}: {type(exc).__name__}: {exc}")
    if args.headless:

        async def go() -> int:
            try:  # the journal is closed on every path (an open one keeps the process alive)
                await session.start()
                if session.start_error:
                    raise JournalError(session.start_error)
                digest = await session.play(speed)
            finally:
                await session.stop()
            if session.start_error:  # damaged chunk met on the way
                raise JournalError(session.start_error)
            snap = session.snapshot
            print(
                f"replayed {meta.id}: {session.applied:,} inputs, "
                f"{session.frames_applied:,} frames, slot {snap.slot}, "
                f"{session.sink.events:,} events",
                file=sys.stderr,
            )
            if args.digest:
                print(digest)
            if meta.digest is None:
                print(
                    "the recording is incomplete (no digest stored): replayed up to its "
                    "last committed batch",
                    file=sys.stderr,
                )
                return 0
            if digest != meta.digest:
                print(
                    f"arbscope: digest MISMATCH: recorded {meta.digest}, replayed {digest}",
                    file=sys.stderr,
                )
                return 3
            print("digest matches the live recording", file=sys.stderr)
            return 0

        try:
            return int(asyncio.run(go()))
        except JournalError as exc:
            return fail(str(exc))
    if args.start:
        session.seek(args.start)
    from tui.app import ArbscopeApp

    from ..replay import JournalSessions

    run_app(ArbscopeApp(session, sessions=JournalSessions(db), theme=args.theme))
    return 0


def sweep(args: argparse.Namespace) -> int:
    from ..whatif import sweep_command

    if args.jobs is not None and args.jobs < 1:
        return fail(f"--jobs must be at least 1, got {args.jobs}")
    if args.until is not None and not args.until > 0:
        return fail(f"--until must be a positive number of seconds, got {args.until:g}")
    return sweep_command(
        getattr(args, "db", None),
        args.session,
        args.sets,
        args.policy,
        args.jobs,
        args.out,
        args.until,
        not args.no_charts,
    )


def export(args: argparse.Namespace) -> int:

    from feeds.wire.units import TokenBook, TokenInfo
    from storage.export import export_session

    out = Path(args.out)

    def names(rows: list[dict[str, Any]]) -> TokenBook:
        """The session's cached registry (the well-known table, then prefixes, beyond)."""
        return TokenBook.of(TokenInfo(**r) for r in rows)

    async def go() -> int:
        written = await export_session(
            getattr(args, "db", None), args.session, out, parquet=args.parquet, names_for=names
        )
        for p in written:
            print(p)
        return 0

    return journal_call(go())

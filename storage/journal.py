"""The journal: one SQLite file (WAL) holding recorded sessions, read and written with
aiosqlite.

What a session stores
- ``sessions``: id, start/end wall time, source, config (JSON) and its hash, versions,
  counters (inputs, frames, events, opportunities, PnL), the digest of its derived events
  (set at a clean end; an incomplete session has none), raw and stored byte counts.
- ``chunks``: the engine's *inputs* in order, one compressed blob per batch (see
  :mod:`storage.codec`): every raw PubSub frame (endpoint, monotonic recv ns, wall time,
  bytes) and everything else that changes the engine's state (accounts fetched over
  HTTP, pools tracked, subscription ids bound, fee samples, the session's ticks). Fed
  back in order, they rebuild the same state: that is replay.
- ``events``: derived events (opportunities, decisions, fee recommendations, sweeps,
  feed health, timings), one JSON row each.
- ``meta``: ``schema_version``; :data:`MIGRATIONS` upgrade older files on open, a newer
  file is refused.

Every sqlite error reaches callers as :class:`JournalError` with the path in its message
(a full disk says "disk full at PATH", a file this process may not write says so).

Readers (``write=False``: the listing, replay, export) open a journal this process cannot
write (a read-only file, directory or mount) with SQLite's ``mode=ro``; writers (recording,
prune) are refused up front with a message saying write access is needed.

A session being recorded holds an exclusive ``flock(2)`` on
``.<journal name>.locks/<id>.lock`` beside it (:class:`SessionLock`), which the OS
releases when the process ends, however it ends (even ``kill -9``): :meth:`Journal.prune`
never deletes a session whose lock is held, and the listing says RECORDING instead of
INCOMPLETE for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import aiosqlite

if TYPE_CHECKING:
    from .codec import Input

SCHEMA_VERSION = 3
# fault injection for tests: PRAGMA max_page_count on every writing connection, so SQLite
# itself answers "database or disk is full" (SQLITE_FULL) once the file reaches it
FAULT_MAX_PAGES_ENV = "ARBSCOPE_FAULT_JOURNAL_MAX_PAGES"

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE sessions(
            id TEXT PRIMARY KEY,
            started REAL NOT NULL,
            ended REAL,
            source TEXT NOT NULL,
            config TEXT NOT NULL,
            config_hash TEXT NOT NULL,
            versions TEXT NOT NULL,
            first_ns INTEGER,
            last_ns INTEGER,
            inputs INTEGER NOT NULL DEFAULT 0,
            frames INTEGER NOT NULL DEFAULT 0,
            events INTEGER NOT NULL DEFAULT 0,
            opportunities INTEGER NOT NULL DEFAULT 0,
            pnl REAL NOT NULL DEFAULT 0,
            raw_bytes INTEGER NOT NULL DEFAULT 0,
            stored_bytes INTEGER NOT NULL DEFAULT 0,
            digest TEXT)""",
        """CREATE TABLE chunks(
            session TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            no INTEGER NOT NULL,
            first_seq INTEGER NOT NULL,
            n INTEGER NOT NULL,
            t0_ns INTEGER NOT NULL,
            t1_ns INTEGER NOT NULL,
            codec TEXT NOT NULL,
            raw_len INTEGER NOT NULL,
            blob BLOB NOT NULL,
            PRIMARY KEY(session, no)) WITHOUT ROWID""",
        """CREATE TABLE events(
            session TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            slot INTEGER NOT NULL,
            t_ns INTEGER NOT NULL,
            payload TEXT NOT NULL,
            PRIMARY KEY(session, seq)) WITHOUT ROWID""",
        "CREATE INDEX events_by_kind ON events(session, kind, seq)",
    ),
    # 2: the token registry of each session (names, symbols, decimals as read from the
    # chain when it ran), so a replay shows the same names without a network
    2: (
        """CREATE TABLE tokens(
            session TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            mint TEXT NOT NULL,
            symbol TEXT NOT NULL,
            name TEXT NOT NULL,
            decimals INTEGER,
            program TEXT NOT NULL,
            usd_stable INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL,
            PRIMARY KEY(session, mint)) WITHOUT ROWID""",
    ),
    # 3: why a session is incomplete, when its recorder knew (recording stopped: a full
    # disk; its last write failed), stored with its end time and PnL but no digest
    3: ("ALTER TABLE sessions ADD COLUMN note TEXT",),
}
TOKEN_COLUMNS = ("mint", "symbol", "name", "decimals", "program", "usd_stable", "source")


class JournalError(Exception):
    """The journal cannot do what was asked (the message says why; no traceback needed)."""


P = ParamSpec("P")
R = TypeVar("R")


def _sql_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """sqlite errors as :class:`JournalError` naming the file."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except sqlite3.Error as exc:
            path = getattr(args[0], "path", "?") if args else "?"
            raise JournalError(_describe(exc, path)) from None

    return wrapper


def _describe(exc: sqlite3.Error, path: object) -> str:
    """One line for an sqlite error on the journal at ``path``."""
    msg = str(exc)
    name = str(getattr(exc, "sqlite_errorname", ""))
    if msg.startswith("Could not decode to UTF-8"):  # the message would quote the bytes
        col = msg.split("column '", 1)[1].split("'", 1)[0] if "column '" in msg else "?"
        msg = f"column {col!r} holds text that is not UTF-8"
        return f"journal {path}: the file is damaged or not an arbscope journal ({msg})"
    if name.startswith("SQLITE_FULL") or "disk is full" in msg:
        return f"disk full at {path}: the journal cannot grow ({msg})"
    if name.startswith("SQLITE_READONLY") or "readonly database" in msg:
        return (
            f"journal {path} is read-only for this process ({msg}): writing needs write "
            "access to the file and its directory"
        )
    if "not a database" in msg or "malformed" in msg or name.startswith("SQLITE_CORRUPT"):
        return f"journal {path}: the file is damaged or not an arbscope journal ({msg})"
    if "locked" in msg or "busy" in msg:
        return f"journal {path}: another process holds the journal ({msg})"
    return f"journal {path}: {msg}"


async def _rollback(db: aiosqlite.Connection) -> None:
    """ROLLBACK when a transaction is still open. SQLite rolls back by itself after some
    errors (a full disk, I/O errors): a ROLLBACK then would fail with "no transaction is
    active" and hide the error that matters."""
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            await db.execute("ROLLBACK")


def writable(path: Path) -> bool:
    """Whether this process may write the journal at ``path``: the file (when it exists)
    and its directory (SQLite creates ``-wal`` and ``-shm`` beside it). ``access(2)``
    answers for root too where it matters (an immutable file, a read-only mount)."""
    if path.exists() and not os.access(path, os.W_OK):
        return False
    return os.access(path.parent, os.W_OK)


def _read_only_message(path: Path) -> str:
    what = "the file" if path.exists() and not os.access(path, os.W_OK) else str(path.parent)
    return (
        f"journal {path} is read-only for this process ({what} cannot be written): "
        "recording and pruning need write access; `arbscope sessions`, `replay` and "
        "`export` can still read it"
    )


# ---------------------------------------------------------------- open sessions
def lock_dir(journal: Path) -> Path:
    """Where the journal's session locks live: ``.<journal name>.locks/`` beside it (by
    the real path, so two names of one file share their locks; hidden, so a
    ``journal.sqlite*`` glob meets only SQLite's files)."""
    real = Path(os.path.realpath(journal))
    return real.with_name(f".{real.name}.locks")


class SessionLock:
    """The recorder's claim on a session: an exclusive ``flock(2)`` on
    ``.<journal name>.locks/<id>.lock``, held while the session is recorded. The OS
    releases it when the process ends, however it ends (even ``kill -9``), so a held
    lock means a live recorder. Taken *before* the session's row is inserted: a row whose
    lock is free belongs to a process that is gone (or that closed the session)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self._fd = path, fd

    @classmethod
    def acquire(cls, journal: Path, session: str) -> SessionLock:
        """Lock ``session`` of ``journal`` (JournalError if that is impossible)."""
        d = lock_dir(journal)
        p = d / f"{session}.lock"
        try:
            d.mkdir(exist_ok=True)
            fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise JournalError(f"cannot create the session lock {p}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise JournalError(f"session {session} is already being recorded ({p})") from None
        os.ftruncate(fd, 0)
        lock = cls(p, fd)
        lock.progress(0, 0)
        return lock

    def progress(self, inputs: int, events: int) -> None:
        """What the recorder committed so far, written over the lock file's one line (the
        pid, for the operator, then the counts): a journal that later holds less of the
        session than this lost it (:func:`lock_progress`). Best effort: never fails."""
        if self._fd < 0:
            return
        line = f"{os.getpid()} {inputs} {events}".ljust(LOCK_LINE - 1) + "\n"
        with contextlib.suppress(OSError):
            os.pwrite(self._fd, line.encode(), 0)

    def release(self) -> None:
        """Unlock and remove the lock file (again: nothing)."""
        if self._fd < 0:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = -1


LOCK_LINE = 64  # bytes of a lock file's line: "pid inputs events", padded


def lock_progress(journal: Path, session: str) -> tuple[int, int] | None:
    """``(inputs, events)`` a recorder of ``session`` last said it committed, from the lock
    file a killed recorder left behind; None when there is none (or it says nothing)."""
    try:
        text = (lock_dir(journal) / f"{session}.lock").read_text(errors="replace")
    except OSError:
        return None
    parts = text.split()
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None  # an older recorder's lock (the pid alone)
    return int(parts[1]), int(parts[2])


def _lost(journal: Path) -> str:
    """What killed recorders' locks say they had committed to ``journal`` (for a journal
    that holds nothing: its write-ahead log was deleted or damaged before they died)."""
    try:
        ids = sorted(f.stem for f in lock_dir(journal).glob("*.lock"))
    except OSError:
        return ""
    said = [(sid, lock_progress(journal, sid)) for sid in ids if not session_open(journal, sid)]
    lost = [f"{sid} ({p[0]:,} inputs)" for sid, p in said if p is not None and p[0] > 0]
    if not lost:
        return ""
    return (
        f"; but its recorders had committed {', '.join(lost)}: the journal's "
        "write-ahead log (-wal) was deleted or damaged before they died"
    )


def session_open(journal: Path, session: str) -> bool:
    """Whether a live process records ``session`` of ``journal`` now (its lock is held).
    Reads only: works on a read-only journal too. A lock file that cannot be opened counts
    as held (prune then leaves the session alone)."""
    p = lock_dir(journal) / f"{session}.lock"
    try:
        fd = os.open(p, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def _remove_stale_lock(journal: Path, session: str) -> None:
    """Remove the lock file a killed recorder left behind (only when nobody holds it)."""
    p = lock_dir(journal) / f"{session}.lock"
    try:
        fd = os.open(p, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        p.unlink()
    except OSError:
        pass
    finally:
        os.close(fd)


def default_path() -> Path:
    """``$ARBSCOPE_DB`` or ``journal.sqlite`` in the user's data directory."""
    env = os.environ.get("ARBSCOPE_DB")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("arbscope")) / "journal.sqlite"


def config_hash(config: dict[str, Any]) -> str:
    """sha256 (first 16 hex) of the config's canonical JSON."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def new_session_id() -> str:
    """``YYYYmmdd-HHMMSS-xxxx`` (UTC, 4 random hex): sortable, unique in practice."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One row of ``arbscope sessions``."""

    id: str
    started: float
    ended: float | None
    source: str
    config: dict[str, Any]
    config_hash: str
    versions: dict[str, Any]
    first_ns: int | None
    last_ns: int | None
    inputs: int
    frames: int
    events: int
    opportunities: int
    pnl: float
    raw_bytes: int
    stored_bytes: int
    digest: str | None
    recording: bool = False  # incomplete, and a live process holds its lock
    note: str | None = None  # why it is incomplete, as its recorder said (journals >= 3)
    # inputs its (killed) recorder had committed that the journal no longer holds: its
    # write-ahead log was deleted or damaged before the crash (from the lock file it left)
    lost: int = 0

    @property
    def complete(self) -> bool:
        """Ended cleanly (a digest was stored); otherwise the process died mid-session
        (or is still recording it: ``recording``)."""
        return self.ended is not None and self.digest is not None

    @property
    def state(self) -> str:
        """``complete``, ``RECORDING`` (a live process records it now) or ``INCOMPLETE``."""
        if self.complete:
            return "complete"
        return "RECORDING" if self.recording else "INCOMPLETE"

    @property
    def why(self) -> str:
        """Why an incomplete session is (one line; "" for a complete or live one)."""
        if self.complete or self.recording:
            return ""
        if self.lost:
            return (
                f"the journal lost its last {self.lost:,} inputs after a crash (its "
                "write-ahead log was deleted or damaged): "
                f"{self.inputs:,} inputs are left"
            )
        return self.note or "not closed cleanly"

    @property
    def duration_s(self) -> float:
        """Seconds between the first and the last recorded input."""
        if self.first_ns is None or self.last_ns is None:
            return 0.0
        return (self.last_ns - self.first_ns) / 1e9


@dataclass(frozen=True, slots=True)
class Chunk:
    """One batch of inputs as stored."""

    no: int
    first_seq: int
    n: int
    t0_ns: int
    t1_ns: int
    codec: str
    raw_len: int
    blob: bytes


@dataclass(frozen=True, slots=True)
class Event:
    """One derived event."""

    seq: int
    kind: str
    slot: int
    t_ns: int
    payload: dict[str, Any]


_SESSION_COLS = (
    "id, started, ended, source, config, config_hash, versions, first_ns, last_ns, inputs, "
    "frames, events, opportunities, pnl, raw_bytes, stored_bytes, digest"
)


@dataclass(frozen=True, slots=True)
class LostSession:
    """A session a (killed) recorder committed that the journal holds no row of: its
    write-ahead log was deleted or damaged before the crash."""

    id: str
    inputs: int  # what its recorder had committed
    events: int


@dataclass(frozen=True, slots=True)
class Pruned:
    """What :meth:`Journal.prune` did."""

    deleted: list[str]  # session ids, their chunks and events gone
    skipped: list[str]  # matched, but still being recorded by a live process: kept
    note: str = ""  # the deletion stands; only giving the space back was put off (why)


class Journal:
    """An open journal file. ``await Journal.open(path)``; ``await j.close()``."""

    def __init__(self, path: Path, db: aiosqlite.Connection, readonly: bool = False) -> None:
        self.path, self.db, self.readonly = path, db, readonly
        self.version = SCHEMA_VERSION  # the file's schema version (older read-only files)
        self._wal_fd = -1  # the -wal file this connection writes, held open (check_wal)
        self._wal_lost = False  # it was deleted and could not be made again yet

    # ------------------------------------------------------------ opening
    @classmethod
    async def open(
        cls, path: str | Path | None = None, create: bool = True, write: bool = True
    ) -> Journal:
        """Open (creating it and its directory when ``create``) and migrate the journal.

        ``write=False``: the caller only reads; a journal this process cannot write is
        then opened read-only (SQLite ``mode=ro``; ``immutable=1`` when even its ``-shm``
        cannot be created, i.e. nobody has it open for writing). With ``write=True`` such
        a journal is refused with a message saying write access is needed.

        JournalError: no such file (``create=False``), not a journal, damaged, written by a
        newer arbscope, or read-only for a writer."""
        p = Path(path).expanduser() if path is not None else default_path()
        if not p.exists():
            if not create:
                raise JournalError(f"no journal at {p}")
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise JournalError(f"cannot create {p.parent}: {exc.strerror}") from None
            if not os.access(p.parent, os.W_OK):
                raise JournalError(f"cannot create journal {p}: {p.parent} is not writable")
        elif p.is_dir():
            raise JournalError(f"{p} is a directory, not a journal file")
        readonly = p.exists() and not writable(p)
        if readonly and write:
            raise JournalError(_read_only_message(p))
        uris = (
            [f"{p.resolve().as_uri()}?mode=ro", f"{p.resolve().as_uri()}?mode=ro&immutable=1"]
            if readonly
            else [str(p)]
        )
        for i, target in enumerate(uris):
            try:
                db = await aiosqlite.connect(target, isolation_level=None, uri=readonly)
            except sqlite3.Error as exc:
                raise JournalError(_describe(exc, p)) from None
            j = cls(p, db, readonly)
            try:
                await j._setup(create)
            except sqlite3.Error as exc:
                await j.close()
                cantopen = str(getattr(exc, "sqlite_errorname", "")) == "SQLITE_CANTOPEN"
                if cantopen and i + 1 < len(uris):
                    continue  # a read-only directory and no -shm: nobody writes it
                raise JournalError(_describe(exc, p)) from None
            except BaseException:
                await j.close()
                raise
            return j
        raise AssertionError("unreachable")

    async def _setup(self, create: bool) -> None:
        db = self.db
        db.row_factory = sqlite3.Row
        await db.execute("PRAGMA busy_timeout=5000")
        tables = {r[0] for r in await db.execute_fetchall("SELECT name FROM sqlite_master")}
        if "meta" not in tables:
            if tables:
                raise JournalError(f"{self.path} is an SQLite file but not an arbscope journal")
            if not create or self.readonly:
                raise JournalError(f"{self.path} is empty: no sessions recorded{_lost(self.path)}")
            await db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # before the first table
            version = 0
        else:
            rows = await db.execute_fetchall("SELECT value FROM meta WHERE key='schema_version'")
            try:
                version = int(next(iter(rows))[0])
            except (StopIteration, ValueError):
                raise JournalError(f"{self.path}: no schema version in the journal") from None
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"{self.path} has schema version {version}, written by a newer arbscope "
                f"(this one reads up to {SCHEMA_VERSION}); upgrade arbscope to open it"
            )
        self.version = version
        if self.readonly:  # an older journal is read as it is (no tokens table before 2)
            return
        await db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a committed batch survives the process being killed (not a power cut)
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA foreign_keys=ON")
        fault = os.environ.get(FAULT_MAX_PAGES_ENV)
        if fault:  # fault injection (tests): SQLite's own "database or disk is full"
            await db.execute(f"PRAGMA max_page_count={int(fault)}")
        if version < SCHEMA_VERSION:
            await db.execute("BEGIN IMMEDIATE")
            try:
                for v in range(version + 1, SCHEMA_VERSION + 1):
                    for stmt in MIGRATIONS[v]:
                        await db.execute(stmt)
                await db.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                await db.execute("COMMIT")
            except BaseException:
                await _rollback(db)
                raise
            self.version = SCHEMA_VERSION

    async def close(self) -> None:
        """Close the connection (and its thread). A failure to close (the last
        checkpoint met a full disk) loses nothing committed: the WAL keeps it."""
        with contextlib.suppress(sqlite3.Error):
            await self.db.close()
        self._unwatch_wal()

    async def __aenter__(self) -> Journal:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------ writing
    @_sql_errors
    async def begin_session(
        self,
        source: str,
        config: dict[str, Any],
        versions: dict[str, Any],
        session_id: str | None = None,
    ) -> str:
        """A new session row; its id."""
        sid = session_id or new_session_id()
        await self.db.execute(
            "INSERT INTO sessions(id, started, source, config, config_hash, versions) "
            "VALUES(?, ?, ?, ?, ?, ?)",
            (
                sid,
                time.time(),
                source,
                json.dumps(config, sort_keys=True),
                config_hash(config),
                json.dumps(versions, sort_keys=True),
            ),
        )
        if self._wal_fd < 0:
            self._watch_wal()  # what check_wal compares with
        return sid

    @_sql_errors
    async def write_batch(
        self,
        session: str,
        chunk: Chunk | None,
        frames: int,
        events: Sequence[tuple[int, str, int, int, str]],
        opportunities: int,
    ) -> None:
        """One transaction: a chunk of inputs, derived events ``(seq, kind, slot, t_ns,
        payload_json)`` and the session's counters."""
        db = self.db
        await db.execute("BEGIN")
        try:
            if chunk is not None:
                await db.execute(
                    "INSERT INTO chunks(session, no, first_seq, n, t0_ns, t1_ns, codec, raw_len,"
                    " blob) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        session,
                        chunk.no,
                        chunk.first_seq,
                        chunk.n,
                        chunk.t0_ns,
                        chunk.t1_ns,
                        chunk.codec,
                        chunk.raw_len,
                        chunk.blob,
                    ),
                )
                await db.execute(
                    "UPDATE sessions SET first_ns=COALESCE(first_ns, ?), last_ns=?, "
                    "inputs=inputs+?, frames=frames+?, raw_bytes=raw_bytes+?, "
                    "stored_bytes=stored_bytes+? WHERE id=?",
                    (
                        chunk.t0_ns,
                        chunk.t1_ns,
                        chunk.n,
                        frames,
                        chunk.raw_len,
                        len(chunk.blob),
                        session,
                    ),
                )
            if events:
                await db.executemany(
                    "INSERT INTO events(session, seq, kind, slot, t_ns, payload) "
                    "VALUES(?, ?, ?, ?, ?, ?)",
                    [(session, *e) for e in events],
                )
                await db.execute(
                    "UPDATE sessions SET events=events+?, opportunities=opportunities+? WHERE id=?",
                    (len(events), opportunities, session),
                )
            await db.execute("COMMIT")
        except BaseException:
            await _rollback(db)
            raise

    @_sql_errors
    async def committed(self, session: str, chunk: int | None, event: int | None) -> bool:
        """Whether a batch whose write raised is in the journal after all: its chunk
        ``chunk`` (or, without one, its first event ``event``). A write's COMMIT goes on in
        SQLite's thread whatever happens to the task that awaited it."""
        if chunk is not None:
            q, args = "SELECT 1 FROM chunks WHERE session=? AND no=?", (session, chunk)
        elif event is not None:
            q, args = "SELECT 1 FROM events WHERE session=? AND seq=?", (session, event)
        else:
            return False
        return bool(list(await self.db.execute_fetchall(q, args)))

    @_sql_errors
    async def end_incomplete(self, session: str, note: str, pnl: float = 0.0) -> None:
        """Close a session whose recording is incomplete: its end time, its PnL and why
        (``note``: the listing shows it); no digest (a replay cannot be checked)."""
        if self.version < 3:
            return
        await self.db.execute(
            "UPDATE sessions SET ended=?, pnl=?, note=? WHERE id=? AND digest IS NULL",
            (time.time(), pnl, note[:500], session),
        )

    # ------------------------------------------------------------ the write-ahead log
    def _watch_wal(self) -> None:
        """Hold the ``-wal`` file open (our own descriptor): deleted, its link count drops
        to 0 (and its inode cannot be reused by a new file while we hold it)."""
        self._unwatch_wal()
        with contextlib.suppress(OSError):
            self._wal_fd = os.open(f"{self.path}-wal", os.O_RDONLY | os.O_CLOEXEC)

    def _unwatch_wal(self) -> None:
        if self._wal_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._wal_fd)
            self._wal_fd = -1

    def _wal_gone(self) -> bool:
        """Whether the ``-wal`` file watched is no longer the one at its path."""
        try:
            held = os.fstat(self._wal_fd)
            there = os.stat(f"{self.path}-wal")
        except OSError:
            return True
        return held.st_nlink == 0 or (held.st_dev, held.st_ino) != (there.st_dev, there.st_ino)

    async def check_wal(self) -> str:
        """After each batch: whether this connection's ``-wal`` file is still the one on
        disk. SQLite goes on writing into a deleted one, so everything since the last
        checkpoint would vanish with the process; when it is gone (or replaced), its
        content is copied into the journal and a new one is made (the journal briefly
        leaves WAL mode: only possible when no other connection has it open; until then
        each batch is copied into the journal as it is written). A message to log when
        something was done ("" when all is well)."""
        if self.readonly:
            return ""
        if self._wal_fd < 0:
            self._watch_wal()  # the first look (a journal opened before its first session)
            return ""
        if not self._wal_gone() and not self._wal_lost:
            return ""
        first = not self._wal_lost
        wal = f"{self.path}-wal"
        db = self.db
        remade = False
        try:
            await db.execute("PRAGMA busy_timeout=0")
            try:
                mode = list(await db.execute_fetchall("PRAGMA journal_mode=DELETE"))
                if mode and str(mode[0][0]).lower() == "delete":
                    await db.execute_fetchall("PRAGMA journal_mode=WAL")
                    await db.execute_fetchall("SELECT COUNT(*) FROM meta")  # makes the -wal
                    remade = True
            except sqlite3.Error:
                remade = False
            if not remade:
                with contextlib.suppress(sqlite3.Error):
                    await db.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            with contextlib.suppress(sqlite3.Error):
                await db.execute("PRAGMA busy_timeout=5000")
        if remade:
            self._watch_wal()
            self._wal_lost = False
            return (
                f"journal {self.path}: its write-ahead log {wal} was deleted while "
                "recording; what it held is now in the journal and a new one was made: "
                "nothing is lost (never delete the -wal or -shm file of a journal in "
                "use)"
            )
        self._wal_lost = True
        if not first:
            return ""
        return (
            f"journal {self.path}: its write-ahead log {wal} was deleted while recording; "
            "another process has the journal open, so it cannot be made again now: each "
            "batch is copied into the journal as it is written until it can (never delete "
            "the -wal or -shm file of a journal in use)"
        )

    @_sql_errors
    async def end_session(self, session: str, digest: str, pnl: float = 0.0) -> None:
        """Mark the session complete with the digest of its derived events."""
        await self.db.execute(
            "UPDATE sessions SET ended=?, digest=?, pnl=? WHERE id=?",
            (time.time(), digest, pnl, session),
        )

    @_sql_errors
    async def put_tokens(self, session: str, rows: Sequence[dict[str, Any]]) -> None:
        """Cache the session's token registry (``TOKEN_COLUMNS`` per row; a mint written
        again replaces its row)."""
        if not rows:
            return
        await self.db.executemany(
            "INSERT OR REPLACE INTO tokens(session, mint, symbol, name, decimals, program, "
            "usd_stable, source) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (session, *(r[c] if c != "usd_stable" else int(bool(r[c])) for c in TOKEN_COLUMNS))
                for r in rows
            ],
        )

    @_sql_errors
    async def tokens(self, session: str) -> list[dict[str, Any]]:
        """The session's cached token registry (none for a journal older than version 2)."""
        if self.version < 2:
            return []
        rows = await self.db.execute_fetchall(
            f"SELECT {', '.join(TOKEN_COLUMNS)} FROM tokens WHERE session=? ORDER BY mint",
            (session,),
        )
        return [{**dict(r), "usd_stable": bool(r["usd_stable"])} for r in rows]

    # ------------------------------------------------------------ reading
    @property
    def _cols(self) -> str:
        """The sessions columns read (``note`` from version 3 on)."""
        return _SESSION_COLS + (", note" if self.version >= 3 else ", NULL AS note")

    def _info(self, r: sqlite3.Row) -> SessionInfo:
        try:
            config, versions = json.loads(r["config"]), json.loads(r["versions"])
        except ValueError:
            raise JournalError(f"{self.path}: session {r['id']} has a damaged header") from None
        complete = r["ended"] is not None and r["digest"] is not None
        recording = not complete and session_open(self.path, r["id"])
        lost = 0
        if not complete and not recording:  # killed: did its recorder commit more?
            said = lock_progress(self.path, r["id"])
            if said is not None:
                lost = max(0, said[0] - int(r["inputs"]))
        return SessionInfo(
            r["id"],
            r["started"],
            r["ended"],
            r["source"],
            config,
            r["config_hash"],
            versions,
            r["first_ns"],
            r["last_ns"],
            r["inputs"],
            r["frames"],
            r["events"],
            r["opportunities"],
            r["pnl"],
            r["raw_bytes"],
            r["stored_bytes"],
            r["digest"],
            recording,
            r["note"],
            lost,
        )

    @_sql_errors
    async def sessions(self) -> list[SessionInfo]:
        """Every session, oldest first."""
        rows = await self.db.execute_fetchall(
            f"SELECT {self._cols} FROM sessions ORDER BY started, id"
        )
        return [self._info(r) for r in rows]

    @_sql_errors
    async def lost_sessions(self) -> list[LostSession]:
        """Sessions whose killed recorder left its lock file saying it committed inputs,
        of which the journal holds no row (its write-ahead log was deleted or damaged
        before the crash). A live recorder's are not listed."""
        try:
            ids = sorted(f.stem for f in lock_dir(self.path).glob("*.lock"))
        except OSError:
            return []
        out = []
        for sid in ids:
            said = lock_progress(self.path, sid)
            if said is None or said == (0, 0) or session_open(self.path, sid):
                continue
            rows = await self.db.execute_fetchall("SELECT 1 FROM sessions WHERE id=?", (sid,))
            if not list(rows):
                out.append(LostSession(sid, *said))
        return out

    @_sql_errors
    async def session(self, session: str) -> SessionInfo:
        """One session by id, or by a unique prefix of it; JournalError if none or several."""
        rows = list(
            await self.db.execute_fetchall(
                f"SELECT {self._cols} FROM sessions WHERE id=? OR id LIKE ? ORDER BY id",
                (session, session.replace("%", "").replace("_", "") + "%"),
            )
        )
        exact = [r for r in rows if r["id"] == session]
        if exact:
            return self._info(exact[0])
        if not rows:
            raise JournalError(f"no session {session!r} in {self.path}")
        if len(rows) > 1:
            ids = ", ".join(r["id"] for r in rows[:5])
            raise JournalError(f"{session!r} matches {len(rows)} sessions ({ids}); give more")
        return self._info(rows[0])

    @_sql_errors
    async def _chunk_page(self, session: str, after: int, limit: int) -> list[Chunk]:
        rows = await self.db.execute_fetchall(
            "SELECT no, first_seq, n, t0_ns, t1_ns, codec, raw_len, blob FROM chunks "
            "WHERE session=? AND no>? ORDER BY no LIMIT ?",
            (session, after, limit),
        )
        return [Chunk(*r) for r in rows]

    async def chunks(self, session: str, page: int = 64) -> AsyncIterator[Chunk]:
        """The session's chunks in order (read a page at a time)."""
        after = -1
        while True:
            rows = await self._chunk_page(session, after, page)
            if not rows:
                return
            for c in rows:
                yield c
            after = rows[-1].no

    async def stored_inputs(self, session: str) -> AsyncIterator[Input]:
        """The session's inputs as stored (a delta stays a delta: ``storage.delta.Restorer``
        restores them), its chunks read in order and decompressed one at a time (with the
        dictionaries they introduce: ``storage.codec.ChunkDecoder``)."""
        from .codec import ChunkDecoder, unpack

        decoder = ChunkDecoder()
        async for c in self.chunks(session):
            for i in unpack(decoder.chunk(c)):
                yield i

    @_sql_errors
    async def events(self, session: str, kinds: Sequence[str] = ()) -> list[Event]:
        """The session's derived events in order (only ``kinds`` when given)."""
        q = "SELECT seq, kind, slot, t_ns, payload FROM events WHERE session=?"
        args: list[Any] = [session]
        if kinds:
            q += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += list(kinds)
        rows = await self.db.execute_fetchall(q + " ORDER BY seq", args)
        out = []
        for seq, kind, slot, t_ns, payload in rows:
            try:
                out.append(Event(seq, kind, slot, t_ns, json.loads(payload)))
            except ValueError:
                raise JournalError(f"{self.path}: event {seq} of {session} is damaged") from None
        return out

    @_sql_errors
    async def unreadable_events(self, info: SessionInfo, read: Sequence[Event] = ()) -> str:
        """What of ``info``'s events cannot be read ("" when all can): a damaged page can
        hide rows without an error (a cell whose key no longer matches is skipped), so
        the rows are counted against the session's counters, which each batch updates in
        the transaction that adds them, and SQLite checks the events table and its index
        (``PRAGMA quick_check(events)``). ``read``: the rows the caller read, whose kinds
        are counted against the opportunities counter."""
        rows = list(
            await self.db.execute_fetchall(
                "SELECT COUNT(*) FROM events WHERE session=?", (info.id,)
            )
        )
        have = int(rows[0][0]) if rows else 0
        problems = []
        if have != info.events:
            problems.append(
                f"{abs(info.events - have):,} of its {info.events:,} events "
                f"{'cannot be read' if have < info.events else 'are extra'}"
            )
        opps = sum(1 for e in read if e.kind == "opp")
        if read and opps != info.opportunities:
            problems.append(
                f"{abs(info.opportunities - opps):,} of its "
                f"{info.opportunities:,} opportunities "
                f"{'cannot be read' if opps < info.opportunities else 'are extra'}"
            )
        try:
            check = [
                str(r[0]) for r in await self.db.execute_fetchall("PRAGMA quick_check(events)")
            ]
        except sqlite3.DatabaseError as exc:
            check = [str(exc)]
        if check != ["ok"]:
            more = f" and {len(check) - 1} more" if len(check) > 1 else ""
            problems.append(f"SQLite finds its events table damaged ({check[0]}{more})")
        return "; ".join(problems)

    @_sql_errors
    async def events_of(
        self, kind: str, since: float, exclude: str = ""
    ) -> list[tuple[str, float, int | None, Event]]:
        """Every ``kind`` event of the sessions still open or ended at or after ``since``
        (Unix s), except ``exclude``: ``(session, its start (Unix s), its first_ns, event)``
        in session and seq order. (The live executor's day total across runs.)"""
        rows = await self.db.execute_fetchall(
            "SELECT e.session, s.started, s.first_ns, e.seq, e.kind, e.slot, e.t_ns, e.payload "
            "FROM sessions s JOIN events e ON e.session = s.id AND e.kind = ? "
            "WHERE s.id != ? AND (s.ended IS NULL OR s.ended >= ?) ORDER BY s.id, e.seq",
            (kind, exclude, since),
        )
        out = []
        for sid, started, first_ns, seq, k, slot, t_ns, payload in rows:
            try:
                out.append((sid, started, first_ns, Event(seq, k, slot, t_ns, json.loads(payload))))
            except ValueError:
                raise JournalError(f"{self.path}: event {seq} of {sid} is damaged") from None
        return out

    # ------------------------------------------------------------ retention
    @_sql_errors
    async def delete(self, sessions: Sequence[str]) -> str:
        """Delete sessions (their chunks and events too), then give the space back. The
        deletion is committed first; when only giving the space back fails (another
        process holds the journal), the deletion stands and the returned note says so
        ("" when all went through)."""
        if not sessions:
            return ""
        db = self.db
        await db.execute("BEGIN IMMEDIATE")
        try:
            await db.executemany("DELETE FROM sessions WHERE id=?", [(s,) for s in sessions])
            await db.execute("COMMIT")
        except BaseException:
            await _rollback(db)
            raise
        self._sweep_locks()
        try:
            await db.execute_fetchall("PRAGMA incremental_vacuum")
            busy = list(await db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)"))
        except sqlite3.Error as exc:
            return (
                f"the freed space is reused by new recordings but the file did not shrink "
                f"now ({_describe(exc, self.path)})"
            )
        if busy and busy[0][0]:
            return (
                "another process is using the journal: its write-ahead log shrinks once "
                "that process is done"
            )
        return ""

    def _sweep_locks(self) -> None:
        """Remove the lock files killed recorders left behind (a held lock is never
        touched, nor is the file of a recorder about to insert its row: it holds it)."""
        with contextlib.suppress(OSError):
            for f in lock_dir(self.path).glob("*.lock"):
                _remove_stale_lock(self.path, f.stem)

    async def prune(
        self,
        older_than_s: float | None = None,
        max_bytes: int | None = None,
        now: float | None = None,
        keep: Sequence[str] = (),
    ) -> Pruned:
        """Delete sessions started more than ``older_than_s`` ago, then the oldest until
        the stored bytes fit in ``max_bytes``; never those in ``keep``, and never one a
        live process is recording (its lock is held: those are ``skipped``)."""
        now = time.time() if now is None else now
        all_s = await self.sessions()
        spared = set(keep)
        doomed: list[str] = []
        skipped: list[str] = []

        def take(s: SessionInfo) -> None:
            if s.id in spared:
                return
            (skipped if s.recording else doomed).append(s.id)

        for s in all_s:
            if older_than_s is not None and now - s.started > older_than_s:
                take(s)
        if max_bytes is not None:
            gone = set(doomed) | set(skipped)
            left = [s for s in all_s if s.id not in gone]
            total = sum(s.stored_bytes for s in left)
            for s in left:  # oldest first
                if total <= max_bytes:
                    break
                take(s)
                if doomed and doomed[-1] == s.id:
                    total -= s.stored_bytes
        note = await self.delete(doomed)
        return Pruned(doomed, skipped, note)

    @_sql_errors
    async def file_bytes(self) -> int:
        rows = list(await self.db.execute_fetchall("PRAGMA page_count"))
        size = list(await self.db.execute_fetchall("PRAGMA page_size"))
        return int(rows[0][0]) * int(size[0][0])

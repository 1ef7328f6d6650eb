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

Every sqlite error reaches callers as :class:`JournalError` with the path in its message.
"""

from __future__ import annotations

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
from typing import Any, ParamSpec, TypeVar

import aiosqlite

SCHEMA_VERSION = 1

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
}


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
            raise JournalError(f"journal {path}: {_describe(exc)}") from None

    return wrapper


def _describe(exc: sqlite3.Error) -> str:
    msg = str(exc)
    if "not a database" in msg or "malformed" in msg:
        return f"the file is damaged or not an arbscope journal ({msg})"
    if "locked" in msg or "busy" in msg:
        return f"another process holds the journal ({msg})"
    return msg


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

    @property
    def complete(self) -> bool:
        """Ended cleanly (a digest was stored); otherwise the process died mid-session."""
        return self.ended is not None and self.digest is not None

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


class Journal:
    """An open journal file. ``await Journal.open(path)``; ``await j.close()``."""

    def __init__(self, path: Path, db: aiosqlite.Connection) -> None:
        self.path, self.db = path, db

    # ------------------------------------------------------------ opening
    @classmethod
    async def open(cls, path: str | Path | None = None, create: bool = True) -> Journal:
        """Open (creating it and its directory when ``create``) and migrate the journal.

        JournalError: no such file (``create=False``), not a journal, damaged, or written
        by a newer arbscope."""
        p = Path(path).expanduser() if path is not None else default_path()
        if not p.exists():
            if not create:
                raise JournalError(f"no journal at {p}")
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise JournalError(f"cannot create {p.parent}: {exc.strerror}") from None
        elif p.is_dir():
            raise JournalError(f"{p} is a directory, not a journal file")
        try:
            db = await aiosqlite.connect(str(p), isolation_level=None)
        except sqlite3.Error as exc:
            raise JournalError(f"journal {p}: {_describe(exc)}") from None
        j = cls(p, db)
        try:
            await j._setup(create)
        except BaseException:
            await db.close()
            raise
        return j

    @_sql_errors
    async def _setup(self, create: bool) -> None:
        db = self.db
        db.row_factory = sqlite3.Row
        await db.execute("PRAGMA busy_timeout=5000")
        tables = {r[0] for r in await db.execute_fetchall("SELECT name FROM sqlite_master")}
        if "meta" not in tables:
            if tables:
                raise JournalError(f"{self.path} is an SQLite file but not an arbscope journal")
            if not create:
                raise JournalError(f"{self.path} is empty: no sessions recorded")
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
        await db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a committed batch survives the process being killed (not a power cut)
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA foreign_keys=ON")
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
                await db.execute("ROLLBACK")
                raise

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> Journal:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------ writing
    @_sql_errors
    async def begin_session(
        self, source: str, config: dict[str, Any], versions: dict[str, Any],
        session_id: str | None = None,
    ) -> str:  # fmt: skip
        """A new session row; its id."""
        sid = session_id or new_session_id()
        await self.db.execute(
            "INSERT INTO sessions(id, started, source, config, config_hash, versions) "
            "VALUES(?, ?, ?, ?, ?, ?)",
            (sid, time.time(), source, json.dumps(config, sort_keys=True),
             config_hash(config), json.dumps(versions, sort_keys=True)),
        )  # fmt: skip
        return sid

    @_sql_errors
    async def write_batch(
        self, session: str, chunk: Chunk | None, frames: int,
        events: Sequence[tuple[int, str, int, int, str]], opportunities: int,
    ) -> None:  # fmt: skip
        """One transaction: a chunk of inputs, derived events ``(seq, kind, slot, t_ns,
        payload_json)`` and the session's counters."""
        db = self.db
        await db.execute("BEGIN")
        try:
            if chunk is not None:
                await db.execute(
                    "INSERT INTO chunks(session, no, first_seq, n, t0_ns, t1_ns, codec, raw_len,"
                    " blob) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (session, chunk.no, chunk.first_seq, chunk.n, chunk.t0_ns, chunk.t1_ns,
                     chunk.codec, chunk.raw_len, chunk.blob),
                )  # fmt: skip
                await db.execute(
                    "UPDATE sessions SET first_ns=COALESCE(first_ns, ?), last_ns=?, "
                    "inputs=inputs+?, frames=frames+?, raw_bytes=raw_bytes+?, "
                    "stored_bytes=stored_bytes+? WHERE id=?",
                    (chunk.t0_ns, chunk.t1_ns, chunk.n, frames, chunk.raw_len,
                     len(chunk.blob), session),
                )  # fmt: skip
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
            await db.execute("ROLLBACK")
            raise

    @_sql_errors
    async def end_session(self, session: str, digest: str, pnl: float = 0.0) -> None:
        """Mark the session complete with the digest of its derived events."""
        await self.db.execute(
            "UPDATE sessions SET ended=?, digest=?, pnl=? WHERE id=?",
            (time.time(), digest, pnl, session),
        )

    # ------------------------------------------------------------ reading
    def _info(self, r: sqlite3.Row) -> SessionInfo:
        try:
            config, versions = json.loads(r["config"]), json.loads(r["versions"])
        except ValueError:
            raise JournalError(f"{self.path}: session {r['id']} has a damaged header") from None
        return SessionInfo(
            r["id"], r["started"], r["ended"], r["source"], config, r["config_hash"], versions,
            r["first_ns"], r["last_ns"], r["inputs"], r["frames"], r["events"],
            r["opportunities"], r["pnl"], r["raw_bytes"], r["stored_bytes"], r["digest"],
        )  # fmt: skip

    @_sql_errors
    async def sessions(self) -> list[SessionInfo]:
        """Every session, oldest first."""
        rows = await self.db.execute_fetchall(
            f"SELECT {_SESSION_COLS} FROM sessions ORDER BY started, id"
        )
        return [self._info(r) for r in rows]

    @_sql_errors
    async def session(self, session: str) -> SessionInfo:
        """One session by id, or by a unique prefix of it; JournalError if none or several."""
        rows = list(
            await self.db.execute_fetchall(
                f"SELECT {_SESSION_COLS} FROM sessions WHERE id=? OR id LIKE ? ORDER BY id",
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

    # ------------------------------------------------------------ retention
    @_sql_errors
    async def delete(self, sessions: Sequence[str]) -> None:
        """Delete sessions (their chunks and events too) and give the space back."""
        if not sessions:
            return
        await self.db.execute("BEGIN")
        try:
            await self.db.executemany("DELETE FROM sessions WHERE id=?", [(s,) for s in sessions])
            await self.db.execute("COMMIT")
        except BaseException:
            await self.db.execute("ROLLBACK")
            raise
        await self.db.execute("PRAGMA incremental_vacuum")
        await self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def prune(
        self, older_than_s: float | None = None, max_bytes: int | None = None,
        now: float | None = None, keep: Sequence[str] = (),
    ) -> list[str]:  # fmt: skip
        """Delete sessions started more than ``older_than_s`` ago, then the oldest until
        the stored bytes fit in ``max_bytes``; never those in ``keep``. The ids deleted."""
        now = time.time() if now is None else now
        all_s = await self.sessions()
        doomed = [
            s.id for s in all_s
            if older_than_s is not None and now - s.started > older_than_s and s.id not in keep
        ]  # fmt: skip
        if max_bytes is not None:
            left = [s for s in all_s if s.id not in doomed]
            total = sum(s.stored_bytes for s in left)
            for s in left:  # oldest first
                if total <= max_bytes:
                    break
                if s.id in keep:
                    continue
                doomed.append(s.id)
                total -= s.stored_bytes
        await self.delete(doomed)
        return doomed

    @_sql_errors
    async def file_bytes(self) -> int:
        rows = list(await self.db.execute_fetchall("PRAGMA page_count"))
        size = list(await self.db.execute_fetchall("PRAGMA page_size"))
        return int(rows[0][0]) * int(size[0][0])

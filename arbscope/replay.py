"""Replay: a recorded session's inputs fed back, in order, through the same engine.

The journal holds every input that changed the live session's engine state (frames,
HTTP accounts, pools and tick arrays tracked, subscription ids bound, fee samples and the
session's own ticks with their clock, see :mod:`storage.codec`). :class:`ReplaySession`
is a :class:`~arbscope.session.FeedSession` without sockets: ``apply`` gives each input
to the same ``FeedIngest`` / ``tick`` the live session called, so the derived events, and
their digest, are the same as live. Speed changes only when inputs are applied, never
what they produce: a replay at ``max`` equals one at 10×.

On screen (``tick()`` on the app's timer) the replay clock runs at ``speed`` (1, 10, 100
or max) and can be paused, stepped one frame or one slot, and seeked; a seek backwards
rebuilds the engine and fast-forwards from the start. Live trading can never be enabled
in a replay (``live_allowed`` is False).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import types
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine_rs.errors import EngineError
from feeds.health import FeedHealth
from storage.codec import Input, Kind, decompress, unpack
from storage.journal import Journal, JournalError, SessionInfo

from .market import Snapshot
from .session import DEFAULT_POLICY, FeedSession, FeeSettings, _ReplaySink, from_journal

SPEEDS = (1.0, 10.0, 100.0, math.inf)
BUDGET_S = 0.04  # work per screen tick, so keys stay responsive at max speed
BUFFER_CHUNKS = 16


async def load_info(db: str | Path | None, session: str) -> SessionInfo:
    """The session's header (JournalError: no journal, damaged, unknown id)."""
    async with await Journal.open(db, create=False, write=False) as j:
        return await j.session(session)


def speed_label(speed: float) -> str:
    return "max" if math.isinf(speed) else f"{speed:g}×"


def parse_speed(text: str) -> float:
    """``1``, ``10x``, ``100``, ``max`` -> a speed (ValueError otherwise)."""
    t = text.strip().lower()
    if t in ("max", "inf"):
        return math.inf
    try:
        v = float(t.rstrip("x×"))
    except ValueError:
        msg = f"speed must be 1, 10, 100 (any positive number) or max, got {text!r}"
        raise ValueError(msg) from None
    if not v > 0 or math.isnan(v):
        raise ValueError(f"speed must be positive or 'max', got {text!r}")
    return v


class ReplaySession(FeedSession):
    """A recorded session, replayed (see module doc)."""

    live_allowed = False

    def __init__(
        self, db: str | Path | None, info: SessionInfo, backend: types.ModuleType | None = None,
        shadow: bool = False, speed: float = 1.0, clock: Any = None,
    ) -> None:  # fmt: skip
        cfg = info.config
        self.timer_clock = clock
        self.db, self.info = db, info
        self.seed = int(cfg.get("seed", 0))
        self.sim = None
        self.source = f"REPLAY {info.id}"
        self.endpoints, self.universe = [], []
        self.base_mints = list(cfg.get("base_mints", []))
        self.max_hops = int(cfg.get("max_hops", 3))
        self.sweep_s = float(cfg.get("sweep_s", 1.0))
        # the scorer as the live session had it (older recordings: the defaults then)
        self.policy_arg = from_journal(DEFAULT_POLICY, cfg.get("policy"))
        self.fee_settings = from_journal(FeeSettings(), cfg.get("fees"))
        self.metrics_settings, self.metrics_server = None, None
        self.live_config, self.executor, self.mode = None, None, "PAPER"
        self.backend_arg, self.shadow = backend, shadow
        self.record, self.recorder, self.journal = None, None, None
        self.session_id, self.digest = info.id, ""
        self.pool, self.boot, self.start_error = None, None, ""
        self.speed = speed
        self.paused = False
        self.t0_ns = info.first_ns or 0
        self.health: list[tuple[int, list[FeedHealth]]] = []
        self._reset_cursor()
        self._setup_engine()

    def _reset_cursor(self) -> None:
        self.sink = _ReplaySink()
        self.buffer: deque[Input] = deque()
        self.eof = False
        self.pos_ns = 0  # replay clock, since the first input
        self.applied = 0
        self.frames_applied = 0
        self.target_ns: int | None = None  # a seek in progress
        self._chunks: AsyncIterator[Any] | None = None
        self._last_wall = time.monotonic()

    # ------------------------------------------------------------ reading
    async def start(self) -> None:
        """Open the journal, load the feed-health timeline, start reading chunks
        (once: a second call does nothing)."""
        if self.journal is not None:
            return
        try:
            self.journal = await Journal.open(self.db, create=False, write=False)
            for e in await self.journal.events(self.info.id, ["health"]):
                feeds = [FeedHealth(**f) for f in e.payload.get("feeds", [])]
                self.health.append((e.t_ns, feeds))
            self._feeder: asyncio.Task[None] | None = asyncio.create_task(self._feed())
        except (JournalError, TypeError) as exc:
            self.start_error = str(exc)[:300]
        except BaseException:
            await self._close_journal()
            raise
        if self.start_error:  # nothing will read it now; open, it would keep the process alive
            await self._close_journal()

    async def _close_journal(self) -> None:
        if self.journal is not None:
            journal, self.journal = self.journal, None
            await journal.close()

    async def stop(self) -> None:
        feeder = getattr(self, "_feeder", None)
        if feeder is not None:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder
        await self._close_journal()

    async def _inputs(self) -> AsyncIterator[Input]:
        assert self.journal is not None
        async for c in self.journal.chunks(self.info.id):
            raw = await asyncio.to_thread(decompress, c.blob, c.codec, c.raw_len)
            for inp in unpack(raw):
                yield inp

    async def _feed(self) -> None:
        """Keep the buffer filled (the screen's tick consumes it)."""
        try:
            while True:
                gen = self._inputs()
                self._gen_id = id(gen)
                async for inp in gen:
                    while len(self.buffer) >= BUFFER_CHUNKS * 1024:
                        await asyncio.sleep(0.01)
                    if self._gen_id != id(gen):  # a seek back restarted the stream
                        break
                    self.buffer.append(inp)
                else:
                    self.eof = True
                    while self._gen_id == id(gen):
                        await asyncio.sleep(0.05)
        except JournalError as exc:
            self.start_error = str(exc)[:300]
            self.eof = True

    # ------------------------------------------------------------ applying
    def apply(self, inp: Input) -> None:
        """One recorded input, given to the engine as the live session gave it (errors
        the live callers caught are caught here the same way)."""
        k = inp.kind
        ing = self.ingest
        self.applied += 1
        self.pos_ns = max(self.pos_ns, inp.t_ns - self.t0_ns)
        try:
            if k is Kind.FRAME:
                self.frames_applied += 1
                ing.frame(inp.endpoint, inp.payload, inp.t_ns)
            elif k is Kind.TICK:
                FeedSession.tick(self, now_ns=inp.t_ns)
            elif k is Kind.ACCOUNT:
                pubkey, owner, slot = inp.json()
                ing.account(pubkey, owner, inp.data(), slot)
            elif k is Kind.TRACK_POOL:
                ing.track_pool(*inp.json())
            elif k is Kind.TRACK_TICK_ARRAY:
                ing.track_tick_array(*inp.json())
            elif k is Kind.BIND:
                sid, label, kind = inp.json()
                ing.bind(inp.endpoint, sid, label, kind)
            elif k is Kind.UNBIND:
                ing.unbind(inp.endpoint)
            elif k is Kind.DRAIN:
                ing.take_changed()
            elif k is Kind.FEES:
                self._on_fees([(int(s), int(f)) for s, f in inp.json()])
            elif k is Kind.TRADE:
                base, pools = inp.json()
                FeedSession.trade(self, base, pools)
            elif k is Kind.KILL:
                FeedSession.kill(self)
            elif k is Kind.RESUME:
                FeedSession.resume(self)
        except EngineError:
            pass  # the live caller counted it and went on; so does the replay

    async def run(self, speed: float = math.inf) -> str:
        """Headless: every input at ``speed`` (inf: no waiting); the digest."""
        feeder = getattr(self, "_feeder", None)
        if feeder is not None:  # the screen's reader is not needed: read straight through
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder
            self._feeder = None
        if self.journal is None:
            self.journal = await Journal.open(self.db, create=False, write=False)
        self.snapshots = False
        wall0 = time.monotonic()
        async for inp in self._inputs():
            if not math.isinf(speed):
                due = wall0 + (inp.t_ns - self.t0_ns) / 1e9 / speed
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            self.apply(inp)
        self.eof = True
        self.digest = self.sink.digest.hexdigest()
        self.snapshots = True
        self.snapshot = self._snapshot()
        return self.digest

    # ------------------------------------------------------------ the screen's controls
    def tick(self, now_ns: int | None = None) -> Snapshot:
        """The screen's timer: advance the replay clock by the wall time since the last
        call times ``speed`` (or to a seek target), applying inputs within a budget."""
        now = time.monotonic()
        elapsed, self._last_wall = now - self._last_wall, now
        if self.target_ns is not None:
            self._advance(self.target_ns)
            if self.pos_ns >= self.target_ns or (self.eof and not self.buffer):
                self.target_ns = None
                self.paused = True
        elif not self.paused:
            goal = math.inf if math.isinf(self.speed) else self.pos_ns + elapsed * self.speed * 1e9
            self._advance(goal)
        self.snapshot = self._snapshot()
        return self.snapshot

    def _advance(self, goal_ns: float) -> None:
        end = time.perf_counter() + BUDGET_S
        buf = self.buffer
        while buf and buf[0].t_ns - self.t0_ns <= goal_ns:
            self.apply(buf.popleft())
            if time.perf_counter() > end:
                return
        # the clock moves on only when it is known that nothing is due before the goal:
        # the next input is later, or the recording ended (an empty buffer that is still
        # being filled holds the clock where it is)
        if not math.isinf(goal_ns) and (buf or self.eof):
            self.pos_ns = max(self.pos_ns, int(goal_ns))

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self._last_wall = time.monotonic()

    def step_frame(self) -> None:
        """Pause, then apply inputs through the next frame."""
        self.paused = True
        while self.buffer:
            inp = self.buffer.popleft()
            self.apply(inp)
            if inp.kind is Kind.FRAME:
                break
        self.snapshot = self._snapshot()

    def step_slot(self) -> None:
        """Pause, then apply inputs until the slot advances and the next tick has run."""
        self.paused = True
        slot = self.ingest.stats().slot
        moved = False
        while self.buffer:
            inp = self.buffer.popleft()
            self.apply(inp)
            moved = moved or self.ingest.stats().slot > slot
            if moved and inp.kind is Kind.TICK:
                break
        self.snapshot = self._snapshot()

    def faster(self) -> None:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.speed = SPEEDS[min(i + 1, len(SPEEDS) - 1)]

    def slower(self) -> None:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 1
        self.speed = SPEEDS[max(i - 1, 0)]

    def seek(self, t_s: float) -> None:
        """Go to ``t_s`` seconds after the start (backwards: rebuild, then fast-forward)."""
        target = max(0, int(t_s * 1e9))
        if target < self.pos_ns:
            self._setup_engine()
            self._reset_cursor()
            self._gen_id = 0  # the feeder restarts the stream from the first chunk
        self.target_ns = target

    # ------------------------------------------------------------ what the screen shows
    @property
    def duration_s(self) -> float:
        return self.info.duration_s

    def _kind(self) -> str:
        return "REPLAY"

    async def request_live(self) -> tuple[bool, str]:
        return False, "live trading is impossible in a replay"

    def live_checks(self) -> list[str]:
        return ["✗ this is a replay of a recorded session: live trading is impossible"]

    def trade(self, base: str, pools: list[str]) -> str:
        return "a replay shows the recorded decisions; it takes no new orders"

    def kill(self) -> int:
        return 0

    def _feeds(self) -> list[FeedHealth]:
        now = self.t0_ns + self.pos_ns
        shown: list[FeedHealth] = []
        for t, feeds in getattr(self, "health", []):
            if t > now:
                break
            shown = feeds
        return shown

    def _note(self) -> str:
        if self.start_error:
            return f"replay failed: {self.start_error}"
        if getattr(self, "eof", False) and not getattr(self, "buffer", ()):
            return "end of the recording"
        return ""

    def _snapshot(self) -> Snapshot:
        snap = super()._snapshot()
        pos = getattr(self, "pos_ns", 0) / 1e9
        state = "paused" if getattr(self, "paused", False) else speed_label(self.speed)
        source = (
            f"REPLAY {self.info.id} {pos:6.1f}/{self.info.duration_s:.1f} s "
            f"{state}, frame {getattr(self, 'frames_applied', 0)}/{self.info.frames}"
        )
        return replace(snap, source=source)


class JournalSessions:
    """The app's ``r`` key: sessions of the journal at ``db``, opened as replays."""

    def __init__(self, db: str | Path | None, backend: types.ModuleType | None = None) -> None:
        self.db, self.backend = db, backend

    async def list(self) -> list[tuple[str, str]]:
        async with await Journal.open(self.db, create=False, write=False) as j:
            rows = await j.sessions()
        out = []
        for s in reversed(rows):
            started = time.strftime("%Y-%m-%d %H:%M", time.gmtime(s.started))
            state = "" if s.complete else f"  {s.state}"
            out.append(
                (
                    s.id,
                    f"{s.id}  {started}  {s.source:<4} {s.duration_s:7.1f}s  "
                    f"{s.frames:>8,} frames  {s.opportunities:>5,} opps{state}",
                )
            )
        return out

    async def open(self, session_id: str) -> ReplaySession:
        return ReplaySession(self.db, await load_info(self.db, session_id), self.backend)

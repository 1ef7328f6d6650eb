"""Replay: a recorded session's inputs fed back, in order, through the same engine.

The journal holds every input that changed the live session's engine state (frames,
HTTP accounts, pools and tick arrays tracked, subscription ids bound, fee samples and the
session's own ticks with their clock, see :mod:`storage.codec`). :class:`ReplaySession`
owns a :class:`~arbscope.session.FeedSession` without sockets (``session``) and ``apply``
gives each input to the same ``FeedIngest`` / ``tick`` the live session called, so the
derived events, and their digest, are the same as live. Speed changes only when inputs
are applied, never what they produce: a replay at ``max`` equals one at 10×.

Time is the recording's: the replay runs on the session run loop
(:class:`~arbscope.runloop.RunLoop`) with a :class:`~arbscope.runloop.RecordedClock`
(1, 10, 100× or max the pace of the wall clock, stopped while paused); each turn
applies the inputs recorded up to the clock's time, reading the journal as it goes (an
input not read yet is awaited, never skipped). The controls move the same cursor under
one lock: a step applies exactly the inputs up to the next frame, or up to the first
tick after the slot moved, and a seek fast-forwards (backwards: from a fresh engine, from
the start). Live trading can never be enabled in a replay: it has no such capability.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import types
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Sequence,
)
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from engine_rs import backend
from engine_rs.errors import EngineError
from engine_rs.records import ScorePolicy
from feeds.health import FeedHealth
from storage.codec import HEADER, KINDS, ChunkDecoder, Input, Kind, unpack
from storage.delta import Restorer, frame_parts
from storage.journal import Chunk, Event, Journal, JournalError, SessionInfo
from storage.recorder import DIGEST_KINDS, Digest, JournaledEvent, event_text

from . import inputs
from .ingest import SLOT_NOTICE, SLOT_NOTICE_WITHIN
from .propamm import FOLLOW_BPS
from .runloop import TICK_S, Clock, RecordedClock, RunLoop
from .session import (
    DEFAULT_POLICY,
    Evaluation,
    FeedSession,
    FeeSettings,
    HealthSettings,
    Watch,
    from_journal,
)
from .snapshot import Snapshot
from .sources.feeds import NoFeeds

SPEEDS = (1.0, 10.0, 100.0, math.inf)
INLINE_BYTES = 4 << 20  # a chunk up to this size (raw) is decompressed on the event loop
YIELD_EVERY = 2_000  # inputs applied between two yields to the event loop (a long seek)
# what ends a turn: a whole one's TICK, a sliced one's TURN, or its REPORT when it
# reported apart, or its EVENTS when they were made apart too (the recording's config
# says: Evaluation.turn_report, turn_events)
TURN_ENDS = {
    ("inline", "inline"): frozenset({Kind.TICK, Kind.TURN}),
    ("apart", "inline"): frozenset({Kind.TICK, Kind.REPORT}),
    ("apart", "apart"): frozenset({Kind.TICK, Kind.EVENTS}),
}
STREAMED = inputs.STREAMED  # a stream's messages (frames): what frames_applied counts


class FrameRun:
    """Consecutive PubSub frames of a decompressed chunk (``raw[start:end]``, packed as the
    journal packs them), none but the last a slot notification: what a headless replay
    gives the engine's ingest in one call (``FeedIngest.frames``) instead of one call a
    frame. Frames stored as deltas are among them when the reader left their copies to
    the engine (``deltas``: each checked and counted in the reader's table,
    ``storage.delta.Restorer.hold``; the engine restores it, ``frames(..., deltas=True)``);
    ``drops``: the keys of copies the reader's table let go before its first frame (a
    run starts at a delta that let some go), forgotten in the engine before it
    (``FeedIngest.drop_copy``). ``ts``:
    each frame's time, ``offs``: each frame's offset in ``raw`` (and ``end`` after the
    last)."""

    __slots__ = ("deltas", "drops", "end", "endpoints", "offs", "raw", "slot_notice", "t_ns", "ts")

    def __init__(
        self,
        raw: bytes,
        offs: list[int],
        ts: list[int],
        end: int,
        slot_notice: bool,
        eps: int,
        deltas: bool = False,
        drops: list[bytes] | None = None,
    ) -> None:
        self.raw, self.offs, self.ts, self.end = raw, offs, ts, end
        self.slot_notice = slot_notice  # its last frame is a slot notification
        self.t_ns = ts[0]  # when its first frame came (an input's ``t_ns``)
        self.endpoints = eps  # above its frames' highest endpoint
        self.deltas = deltas  # some of its frames are stored as deltas
        self.drops = drops or []

    def __len__(self) -> int:
        return len(self.ts)

    def split(self, i: int) -> FrameRun:
        """Its first ``i`` frames (``0 < i < len``) as a run of their own (with the drops:
        they come before its first frame); this one keeps the rest."""
        head = FrameRun(
            self.raw,
            self.offs[:i],
            self.ts[:i],
            self.offs[i],
            False,
            self.endpoints,
            self.deltas,
            self.drops,
        )
        self.offs, self.ts, self.drops = self.offs[i:], self.ts[i:], []
        self.t_ns = self.ts[0]
        return head

    def packed(self) -> bytes:
        return self.raw[self.offs[0] : self.end]

    def view(self) -> memoryview:
        """:meth:`packed` without the copy (the engine reads it during its call)."""
        return memoryview(self.raw)[self.offs[0] : self.end]

    def inputs(self) -> Iterator[Input]:
        """Its frames as inputs (the per-input path; a frame stored as a delta stays the
        ``DELTA`` input it is)."""
        return unpack(self.packed())


Item = Input | FrameRun


ScanFrames = Callable[[bytes, int, bytes, int], tuple[int, list[int], list[int], int, bool]]


def runs(
    raw: bytes,
    restore: Callable[[Input], Input],
    out: list[Item],
    defer: Restorer | None = None,
    scan: ScanFrames | None = None,
) -> None:
    """A decompressed chunk's inputs appended to ``out`` in order, restored
    (``restore``), its frames stored whole gathered in :class:`FrameRun` s (a run ends
    after a slot notification, at any other input, at the chunk's end); with ``defer``
    (the restorer ``restore`` is of), a frame's delta is one of the run too, its copy left
    to the engine (``Restorer.hold``; a run starts at one that let copies go). The frames
    stored whole that follow one another are found by the engine (``scan``: a backend's
    ``FeedIngest.scan_frames``, the active one's by default), one call per stretch. A
    damage: what comes before it is in ``out``, then its JournalError (as
    :func:`storage.codec.unpack` says it)."""
    if scan is None:
        scan = backend().FeedIngest.scan_frames
    head, size, n = HEADER.unpack_from, HEADER.size, len(raw)
    delta = int(Kind.DELTA)
    hold = defer.hold if defer is not None else None
    dropped = defer.copies.dropped if defer is not None else []
    find, notice, within, kinds = raw.find, SLOT_NOTICE, SLOT_NOTICE_WITHIN, KINDS
    offs: list[int] = []
    ts: list[int] = []
    off = top = 0  # top: above the highest endpoint of the run's frames
    deltas = False  # the run holds a frame stored as a delta
    drops: list[bytes] = []  # the copies to forget before the run (its first frame's)
    while off < n:
        end, more, more_ts, more_top, noticed = scan(raw, off, notice, within)
        if more:  # frames stored whole, up to another input (or through a notification)
            if offs:
                offs += more
                ts += more_ts
            else:
                offs, ts = more, more_ts
            if more_top > top:
                top = more_top
            off = end
            if noticed:
                out.append(FrameRun(raw, offs, ts, end, True, top, deltas, drops))
                offs, ts, top, deltas, drops = [], [], 0, False, []
            continue
        if off + size > n:
            break  # unpack says what is wrong
        kind, ep, t_ns, wall, length = head(raw, off)
        body = off + size
        end = body + length
        held = None
        if kind == delta and hold is not None and end <= n:
            try:
                held = hold(raw[body:end])
            except JournalError:
                if offs:
                    out.append(FrameRun(raw, offs, ts, off, False, top, deltas, drops))
                raise
        if held is not None:
            if dropped:  # copies let go before it: a run of its own starts with it
                if offs:
                    out.append(FrameRun(raw, offs, ts, off, False, top, deltas, drops))
                offs, ts, top, drops = [], [], 0, dropped[:]
                dropped.clear()
            offs.append(off)
            ts.append(t_ns)
            if ep >= top:
                top = ep + 1
            deltas = True
            h0, h1 = held  # the frame's head: a slot notification's name there ends the run
            if find(notice, body + h0, body + min(h1, h0 + within)) >= 0:
                out.append(FrameRun(raw, offs, ts, end, True, top, True, drops))
                offs, ts, top, deltas, drops = [], [], 0, False, []
            off = end
            continue
        if offs:
            out.append(FrameRun(raw, offs, ts, off, False, top, deltas, drops))
            offs, ts, top, deltas, drops = [], [], 0, False, []
        k = kinds.get(kind)
        if end > n or k is None:
            break  # unpack says what is wrong
        out.append(restore(Input(k, ep, t_ns, wall, raw[body:end])))
        off = end
    if offs:
        out.append(FrameRun(raw, offs, ts, off, False, top, deltas, drops))
    if off < n:
        out.extend(map(restore, unpack(raw[off:])))  # raises the damage's JournalError


async def load_info(db: str | Path | None, session: str) -> SessionInfo:
    """The session's header (JournalError: no journal, damaged, unknown id)."""
    async with await Journal.open(db, create=False, write=False) as j:
        return await j.session(session)


class RecordingReader(Protocol):
    """What a replay reads of a journal: the SQLite file (``storage.journal.Journal``),
    or the same chunks from a stream (``arbscope.fleet.StreamJournalReader``)."""

    def chunks(self, session: str) -> AsyncIterator[Chunk]: ...
    def tokens(self, session: str) -> Awaitable[list[dict[str, Any]]]: ...
    def events(self, session: str, kinds: Sequence[str] = ()) -> Awaitable[list[Event]]: ...
    def close(self) -> Awaitable[None]: ...


class ReplaySink:
    """Where a replay's derived events go: the digest, and the counts."""

    def __init__(self) -> None:
        self.digest = Digest()
        self.events = 0
        self.opportunities = 0

    def emit(self, event: JournaledEvent, slot: int, t_ns: int = 0) -> None:
        kind = event.kind
        if kind in DIGEST_KINDS:  # (the others' text is not needed: not digested)
            self.digest.add(kind, slot, event_text(event))
        self.events += 1
        self.opportunities += kind == "opp"


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


def recorded_setup(
    info: SessionInfo,
    backend: types.ModuleType | None,
    shadow: bool,
    timer_clock: Callable[[], int] | None,
    policy: ScorePolicy | None,
    fee_settings: FeeSettings | None,
) -> tuple[Watch, Evaluation]:
    """What a replay's :class:`~arbscope.session.FeedSession` watches and how it
    evaluates, as the live session was configured (its journaled config), with
    ``policy`` and ``fee_settings`` in place of the recorded ones when given."""
    cfg = info.config
    # the signers' names the live session had (its labels file; none in older recordings)
    labels = cfg.get("rival_labels")
    own = cfg.get("rival_own")
    # the prop AMMs' programs the live session read (older recordings: the known ones)
    props = cfg.get("prop_amms")
    watch = Watch(
        base_mints=list(cfg.get("base_mints", [])),
        max_hops=int(cfg.get("max_hops", 3)),
        seed=int(cfg.get("seed", 0)),
        rival_labels=(
            {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
        ),
        rival_own=[str(k) for k in own] if isinstance(own, list) else [],
        prop_amms={str(k): str(v) for k, v in props.items()} if isinstance(props, dict) else None,
        prop_follow_bps=float(cfg.get("prop_follow_bps") or FOLLOW_BPS),
    )
    evaluation = Evaluation(
        backend=backend,
        shadow=shadow,
        sweep_s=float(cfg.get("sweep_s", 1.0)),
        # the scorer as the live session had it (older recordings: the defaults then)
        policy=policy or from_journal(DEFAULT_POLICY, cfg.get("policy")),
        fees=fee_settings or from_journal(FeeSettings(), cfg.get("fees")),
        # the stall rule as the live session had it (older recordings: none then)
        feeds_stall_s=float(cfg.get("feeds_stall_s") or 0.0),
        timer_clock=timer_clock,
        # the sizing rule as the live session had it (older recordings: ternary search)
        sizing=str(cfg.get("sizing") or "ternary"),
        # where a sliced turn reported (older recordings: in its end)
        turn_report=str(cfg.get("turn_report") or "inline"),
        # where a sliced turn decided (older recordings: in its end)
        turn_decide=str(cfg.get("turn_decide") or "inline"),
        # where a sliced turn made its events (older recordings: in its report)
        turn_events=str(cfg.get("turn_events") or "inline"),
        # how many of a pool's cycles a slice evaluated at a time (older: whole pools)
        slice_piece=int(cfg.get("slice_piece") or 0),
    )
    return watch, evaluation


class RecordingCursor:
    """Where a replay stands in its recording: the journal (``journal``: the SQLite file
    at ``db``, or ``opener``'s reader of the same chunks, ``arbscope.fleet``'s
    ``StreamJournalReader``), the chunk being applied and the next input or run of
    frames, read as they are needed; why it could not be read (``start_error``, and the
    damaged chunk's ``read_error``).

    What it reads depends on the replay's engine as it is now: ``batched()`` (frames
    gathered in runs: a headless replay), ``untimed()`` (their deltas left to the engine)
    and ``scan()`` (the active backend's ``FeedIngest.scan_frames``)."""

    def __init__(
        self,
        db: str | Path | None,
        info: SessionInfo,
        opener: Callable[[], Awaitable[RecordingReader]] | None,
        *,
        batched: Callable[[], bool],
        untimed: Callable[[], bool],
        scan: Callable[[], ScanFrames],
    ) -> None:
        self.db, self.info, self.opener = db, info, opener
        self.batched, self.untimed, self.scan = batched, untimed, scan
        self.journal: RecordingReader | None = None  # a Journal, or a reader of its chunks
        self.start_error = ""
        self.read_error: JournalError | None = None  # a damaged chunk met on the way
        self.restart()

    def restart(self) -> None:
        """Read again from the first chunk (the stream closed: :meth:`close_stream`)."""
        self.stream: AsyncGenerator[list[Item], None] | None = None
        self.buf: list[Item] = []  # the chunk being applied, its next input last
        self.next: Item | None = None
        self.eof = False  # the journal has no input left to read

    async def open(self) -> RecordingReader:
        if self.opener is not None:
            return await self.opener()
        return await Journal.open(self.db, create=False, write=False)

    async def close_stream(self) -> None:
        """Stop reading the journal where the stream stands (its cursor closed)."""
        stream, self.stream = self.stream, None
        self.buf = []
        if stream is not None:
            with contextlib.suppress(Exception):
                await stream.aclose()

    async def close_journal(self) -> None:
        await self.close_stream()
        if self.journal is not None:
            journal, self.journal = self.journal, None
            await journal.close()

    async def inputs(self) -> AsyncGenerator[Input, None]:
        """The recording's inputs, restored, one at a time (:meth:`chunks`)."""
        async for chunk in self.chunks(batched=False):
            for inp in chunk:
                assert isinstance(inp, Input)
                yield inp

    async def chunks(self, batched: bool) -> AsyncGenerator[list[Item], None]:
        """The recording's inputs a chunk at a time, restored (a chunk's list; a damaged
        chunk's inputs up to the damage, then its JournalError); ``batched``: its frames
        gathered in runs (:func:`runs`) for a headless replay, its frames' deltas among
        them, left to the engine's ingest, when it is untimed. A small chunk is
        decompressed on the loop (a thread's handover costs more than it), a large one in
        a thread (the screen keeps its turns)."""
        assert self.journal is not None
        restorer = Restorer()  # the deltas' copies: this pass's, from the first chunk
        restore = restorer.restore
        defer = restorer if batched and self.untimed() else None
        scan = self.scan()  # (the active backend's)
        decoder = ChunkDecoder()  # the chunks' dictionaries: this pass's, from the first
        async for c in self.journal.chunks(self.info.id):
            if c.raw_len > INLINE_BYTES:
                raw = await asyncio.to_thread(decoder.chunk, c)
            else:
                raw = decoder.chunk(c)
            out: list[Item] = []
            try:
                if batched:
                    runs(raw, restore, out, defer, scan)
                else:
                    out.extend(map(restore, unpack(raw)))
            except JournalError:
                if out:
                    yield out  # what came before the damage is applied first
                raise
            yield out

    async def peek_item(self) -> Item | None:
        """The next input of the recording, or run of frames (a headless replay's, see
        :func:`runs`), read from the journal when needed; awaited, so what is applied
        never depends on how fast the journal is read; None at the end, or when the
        journal cannot be read (``start_error`` says why)."""
        if self.next is None and not self.eof:
            if self.journal is None or self.start_error:
                self.eof = True
                return None
            if not self.buf:
                if self.stream is None:
                    self.stream = self.chunks(batched=self.batched())
                try:
                    while not self.buf:
                        self.buf = await anext(self.stream)
                        self.buf.reverse()  # taken from the end
                except StopAsyncIteration:
                    self.eof = True
                except JournalError as exc:
                    self.start_error, self.read_error = str(exc)[:300], exc
                    self.eof = True
            if self.buf:
                self.next = self.buf.pop()
        return self.next

    async def peek(self) -> Input | None:
        """The next input of the recording (:meth:`peek_item`; a run of frames given
        back as its inputs)."""
        item = await self.peek_item()
        if type(item) is FrameRun:
            # (a run holding deltas comes in a headless replay's pass only, which goes to
            # its end)
            assert not item.deltas
            self.buf.extend(reversed(list(item.inputs())))
            self.next = None
            item = await self.peek_item()
        assert not isinstance(item, FrameRun)
        return item

    def take(self) -> Input:
        inp = self.next
        assert isinstance(inp, Input)
        self.next = None
        return inp

    @property
    def ended(self) -> bool:
        """Every input of the recording has been applied (or the rest cannot be read)."""
        return self.eof and self.next is None


class FeedTimeline:
    """The feeds' health as the recording journaled it (``health`` events), by time."""

    def __init__(self) -> None:
        self.points: list[tuple[int, list[FeedHealth]]] = []

    def at(self, t_ns: int) -> list[FeedHealth]:
        """The feeds' health last journaled at or before ``t_ns`` ([] before the first)."""
        shown: list[FeedHealth] = []
        for t, feeds in self.points:
            if t > t_ns:
                break
            shown = feeds
        return shown


class ReplaySession:
    """A recorded session, replayed (see module doc).

    ``clock``: the wall clock the recording's time is paced against (the machine's
    monotonic clock unless given); ``tick_s``: the recorded time one turn of the run
    loop covers at most; ``timer_clock``: the kernel timer's (staged screens).
    ``policy`` and ``fee_settings``: a what-if replay's (:mod:`arbscope.whatif`) in
    place of the recorded ones; the inputs stay the recording's."""

    def __init__(
        self,
        db: str | Path | None,
        info: SessionInfo,
        backend: types.ModuleType | None = None,
        shadow: bool = False,
        speed: float = 1.0,
        timer_clock: Callable[[], int] | None = None,
        clock: Clock | None = None,
        tick_s: float = TICK_S,
        *,
        policy: ScorePolicy | None = None,
        fee_settings: FeeSettings | None = None,
        opener: Callable[[], Awaitable[RecordingReader]] | None = None,
    ) -> None:
        self.db, self.info = db, info
        self.session_id = info.id
        # what the live session watched and how it evaluated (a what-if: its policy, fees)
        self.watch, self.evaluation = recorded_setup(
            info, backend, shadow, timer_clock, policy, fee_settings
        )
        self.policy, self.fee_settings = self.evaluation.policy, self.evaluation.fees
        self.digest = ""
        self.t0_ns = info.first_ns or 0
        self.timeline = FeedTimeline()
        self.health = self.timeline.points  # (time, the feeds' health) as journaled
        self.clock = RecordedClock(clock, speed)
        self.loop = RunLoop(self.turn, self.clock, int(tick_s * 1e9))
        self._cursor = asyncio.Lock()  # one mover at a time: the loop's turn, a step, a seek
        self._stopped = False
        self.target_ns: int | None = None  # a seek in progress (ns since the start)
        self.shown = True  # False: a headless replay (the price panel's book is not fed)
        self.cursor = RecordingCursor(  # the recording, read as it is applied
            db,
            info,
            opener,
            batched=lambda: not self.shown,
            untimed=self._untimed,
            scan=lambda: self.session.timer.active.FeedIngest.scan_frames,
        )
        self._reset()

    def _reset(self) -> None:
        """A fresh engine (a session as the live one was configured) at the start of
        the recording; the journal is read again from its first chunk."""
        self.session = FeedSession(
            self.watch,
            self.evaluation,
            feeds=NoFeeds(),
            health=HealthSettings(judge=False),
        )
        self.session.snapshots = self.shown
        self.session.ingest.timed = self.shown  # headless: no timing panel to feed
        self._bound: object = None  # the ingest ``_replay`` calls
        self._replay: Callable[[Input], bool] = lambda inp: False
        self._endpoints: list[int] = []  # FeedIngest.frames' map: each endpoint to itself
        self.sink = ReplaySink()
        self.session.sink = self.sink
        self.cursor.restart()
        self.pos_ns = 0  # the replay's position, since the first input
        self.applied = 0
        self.frames_applied = 0
        self.runs_applied = 0  # runs of frames applied in one call (a headless replay)
        self.clock.set(0)
        self.clock.ended = False

    # ------------------------------------------------------------ reading
    async def start(self) -> None:
        """Open the journal and load the feed-health timeline (once: a second call does
        nothing). A failure is kept in ``start_error`` and shown; it never raises."""
        cur = self.cursor
        if cur.journal is not None:
            return
        try:
            cur.journal = await cur.open()
            # the names the recording session read (none in a journal from before them:
            # the well-known table and mint prefixes then)
            self.session.tokens.use(await cur.journal.tokens(self.info.id))
            for e in await cur.journal.events(self.info.id, ["health"]):
                feeds = [FeedHealth(**f) for f in e.payload.get("feeds", [])]
                self.health.append((e.t_ns, feeds))
        except (JournalError, TypeError) as exc:
            cur.start_error = str(exc)[:300]
        except BaseException:
            await cur.close_journal()
            raise
        if cur.start_error:  # nothing will read it now; open, it would keep the process alive
            await cur.close_journal()

    async def stop(self) -> None:
        """Close the journal; the run loop ends."""
        self._stopped = True
        self.clock.poke()
        async with self._cursor:  # never under a turn that is reading the journal
            await self.cursor.close_journal()

    @property
    def start_error(self) -> str:
        """Why the recording could not be read ("": it could)."""
        return self.cursor.start_error

    @property
    def read_error(self) -> JournalError | None:
        """The damaged chunk met on the way, if one was."""
        return self.cursor.read_error

    @property
    def ended(self) -> bool:
        """Every input of the recording has been applied (or the rest cannot be read)."""
        return self.cursor.ended

    # ------------------------------------------------------------ applying
    def apply(self, inp: Input) -> None:
        """One recorded input, given to the engine as the live session gave it (the
        input table, ``arbscope.inputs``: to its ingest, or to the session itself; errors
        the live callers caught are caught here the same way)."""
        s = self.session
        if self._bound is not s.ingest:  # the calls looked up once per engine
            self._bound, self._replay = s.ingest, inputs.replayer(s.ingest, s.told)
        self.applied += 1
        self.pos_ns = max(self.pos_ns, inp.t_ns - self.t0_ns)
        try:
            if self._replay(inp) and inp.kind in STREAMED:
                self.frames_applied += 1
        except EngineError:
            pass  # the live caller counted it and went on; so does the replay

    def _untimed(self) -> bool:
        """The ingest takes frames straight to its only backend, untimed and unheard (a
        headless replay): what :meth:`_apply_run` and :meth:`_apply_frame` need."""
        ing = self.session.ingest
        return not ing.timed and ing.on_change is None and len(ing.ingests) == 1

    def _apply_frame(self, inp: Input) -> None:
        """One frame (one restored from a delta: a book's) given to the engine's ingest
        as :meth:`apply` gives it (``TimedIngest.frame`` untimed: the frame, then the slot
        clock at a slot notification; a refused one counted by the engine, not raised),
        without the input table's dispatch."""
        self.applied += 1
        self.pos_ns = max(self.pos_ns, inp.t_ns - self.t0_ns)
        ing = self.session.ingest
        try:
            ing.active.frame(inp.endpoint, inp.payload, inp.t_ns)
        except EngineError:
            return  # the live caller counted it and went on; so does the replay
        self.frames_applied += 1
        if SLOT_NOTICE in inp.payload[:SLOT_NOTICE_WITHIN]:
            ing.slot_noticed(inp.t_ns)

    def _apply_stored(self, inp: Input) -> None:
        """A frame stored as a delta whose copy the reader left to the engine (one of a
        run's, on the per-input path), given to the engine's ingest as the journal stored
        it (``frame_delta``: the engine writes it over the copy it keeps, then applies the
        frame as ``frame`` does, the slot clock moved as ``TimedIngest.frame`` moves it);
        counted as :meth:`_apply_frame` counts a frame."""
        self.applied += 1
        self.pos_ns = max(self.pos_ns, inp.t_ns - self.t0_ns)
        try:  # (the reader checked the delta against its table: it fits the copy)
            self.session.ingest.frame_delta(inp.endpoint, *frame_parts(inp.payload), inp.t_ns)
        except EngineError:
            return  # the live caller counted it and went on; so does the replay
        self.frames_applied += 1

    def _apply_run(self, run: FrameRun, goal_ns: int) -> int:
        """The frames of ``run`` (the next item) recorded up to ``goal_ns``, given to the
        engine's ingest in one call (``FeedIngest.frames``: each frame as ``frame``
        applies it, one refused counted, not raised), the slot clock moved at its slot
        notification as ``TimedIngest.frame`` moves it; per frame (:meth:`apply`) when
        the ingest is timed, mirrored or listened to. How many frames."""
        limit = goal_ns + self.t0_ns
        ts = run.ts
        if max(ts) <= limit:
            part, self.cursor.next = run, None
        else:  # the frames up to the first one past the goal; the rest stay next
            part = run.split(next(i for i, t in enumerate(ts) if t > limit))
        k = len(part)
        ing = self.session.ingest
        for key in part.drops:  # the copies the reader let go before the run
            ing.drop_copy(key)
        if not self._untimed():
            for inp in part.inputs():
                if inp.kind is Kind.DELTA:
                    self._apply_stored(inp)
                else:
                    self.apply(inp)
            return k
        if len(self._endpoints) < part.endpoints:  # the recorded endpoints, as recorded
            self._endpoints = list(range(part.endpoints))
        refused = k
        try:
            _pos, _counts, refused = ing.active.frames(
                part.view(), 0, self._endpoints, 0, part.deltas
            )
        except EngineError:
            pass  # (a run is whole: never cut short)
        self.applied += k
        self.frames_applied += k - refused
        self.runs_applied += 1
        self.pos_ns = max(self.pos_ns, max(part.ts) - self.t0_ns)
        if part.slot_notice:
            ing.slot_noticed(part.ts[-1])
        return k

    async def _advance(self, goal_ns: int, newer: Callable[[], bool] = lambda: False) -> None:
        """Apply every input recorded up to ``goal_ns`` (since the start), then stand
        there. Every YIELD_EVERY inputs the event loop gets a turn (the screen, the keys);
        a stop, or ``newer()`` (a newer seek), then ends it early."""
        n, due = 0, YIELD_EVERY
        limit = goal_ns + self.t0_ns
        cur = self.cursor
        while True:
            item = cur.next
            if item is None:  # the chunk's next, read already; else awaited (peek_item)
                if cur.buf:
                    item = cur.next = cur.buf.pop()
                elif (item := await cur.peek_item()) is None:
                    self.pos_ns = max(self.pos_ns, goal_ns)
                    break
            if item.t_ns > limit:
                self.pos_ns = max(self.pos_ns, goal_ns)
                break
            if isinstance(item, FrameRun):
                n += self._apply_run(item, goal_ns)
            elif item.kind is Kind.FRAME and self._untimed():
                self._apply_frame(cur.take())
                n += 1
            else:
                self.apply(cur.take())
                n += 1
            if n >= due:
                due = n + YIELD_EVERY
                await asyncio.sleep(0)
                if self._stopped or newer():
                    break
        if n:
            self.session.changed()  # frames between ticks show too (pools, timings)

    # ------------------------------------------------------------ the run loop
    async def turn(self, now_ns: int) -> None:
        """The run loop's turn at the recording's time ``now_ns``: a seek asked for, or
        the inputs that fell due."""
        async with self._cursor:
            if self.target_ns is not None:
                await self._seek()
            elif not self.clock.paused and not self._stopped:
                await self._advance(now_ns)
            self.clock.ended = self.ended

    async def run(self, on_error: Callable[[Exception], None] | None = None) -> None:
        """The replay's run loop on its recorded clock, until :meth:`stop`."""
        await self.loop.run(done=lambda: self._stopped, on_error=on_error)

    async def play(self, speed: float = math.inf) -> str:
        """Headless: from the start to the end of the recording at ``speed`` (inf: no
        waiting), on the same run loop; the digest of the derived events. A damaged
        chunk met on the way raises its JournalError."""
        self.shown = self.session.snapshots = self.session.ingest.timed = False
        self.clock.speed, self.clock.paused = speed, False
        cur = self.cursor
        if cur.journal is None:
            cur.journal = await cur.open()
        await self.loop.run(done=lambda: self.ended or self._stopped)
        if cur.read_error is not None:
            raise cur.read_error
        self.digest = self.sink.digest.hexdigest()
        self.shown = self.session.snapshots = self.session.ingest.timed = True
        return self.digest

    # ------------------------------------------------------------ the screen's controls
    @property
    def speed(self) -> float:
        return self.clock.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self.clock.speed = value

    @property
    def paused(self) -> bool:
        return self.clock.paused

    def set_paused(self, paused: bool) -> None:
        """Stop (or restart) the recording's clock."""
        if paused != self.clock.paused:
            self.toggle_pause()

    def toggle_pause(self) -> None:
        """Stop the recording's clock, or start it again from the position."""
        self.clock.paused = not self.clock.paused
        self.clock.set(self.pos_ns)
        self.clock.poke()

    async def step_frame(self) -> None:
        """Pause, then apply inputs through the next frame."""
        self.clock.paused = True
        async with self._cursor:
            while (inp := await self.cursor.peek()) is not None:
                self.apply(self.cursor.take())
                if inp.kind is Kind.FRAME or inp.kind is Kind.GRPC:
                    break
            self.clock.set(self.pos_ns)
            self.session.changed()

    async def step_slot(self) -> None:
        """Pause, then apply inputs until the chain's slot has moved and the next tick
        (a ``TICK``, or the ``TURN`` that ends a sliced one, or its ``REPORT`` when the
        recording reported apart) has run: exactly the inputs up to that slot boundary,
        however long the journal takes to read."""
        self.clock.paused = True
        async with self._cursor:
            ing = self.session.ingest
            slot = ing.stats().slot
            moved = False
            ends = TURN_ENDS[self.session.turn_report, self.session.turn_events]
            while (inp := await self.cursor.peek()) is not None:
                self.apply(self.cursor.take())
                moved = moved or ing.stats().slot > slot
                if moved and inp.kind in ends:
                    break
            self.clock.set(self.pos_ns)
            self.session.changed()

    def faster(self) -> None:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.speed = SPEEDS[min(i + 1, len(SPEEDS) - 1)]

    def slower(self) -> None:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 1
        self.speed = SPEEDS[max(i - 1, 0)]

    def seek(self, t_s: float) -> None:
        """Go to ``t_s`` seconds after the start, then pause there: the run loop's next
        turn fast-forwards (backwards: from a fresh engine, from the start). A newer seek
        replaces one in progress."""
        self.target_ns = max(0, int(t_s * 1e9))
        self.clock.poke()

    async def seek_now(self, t_s: float) -> None:
        """:meth:`seek`, done before returning (staged screens, tests, ``--start``)."""
        self.seek(t_s)
        async with self._cursor:
            await self._seek()

    async def _seek(self) -> None:
        while (target := self.target_ns) is not None and not self._stopped:
            if target < self.pos_ns:
                await self.cursor.close_stream()
                self._reset()
            await self._advance(target, newer=lambda t=target: self.target_ns != t)  # type: ignore[misc]
            if self.target_ns == target:
                self.target_ns = None
                self.clock.paused = True
                self.clock.set(self.pos_ns)

    # ------------------------------------------------------------ what the screen shows
    @property
    def duration_s(self) -> float:
        return self.info.duration_s

    @property
    def snapshot(self) -> Snapshot:
        """The engine's state (built once per tick applied, when read) with the replay's
        own: its position, speed, feed health at that time, and why it stopped."""
        snap = self.session.snapshot
        pos = self.pos_ns / 1e9
        state = "paused" if self.paused else speed_label(self.speed)
        source = (
            f"REPLAY {self.info.id} {pos:6.1f}/{self.info.duration_s:.1f} s "
            f"{state}, frame {self.frames_applied}/{self.info.frames}"
        )
        return replace(
            snap,
            source=source,
            kind="REPLAY",
            feeds=self.timeline.at(self.t0_ns + self.pos_ns),
            note=(
                f"replay failed: {self.start_error}"
                if self.start_error
                else "end of the recording"
                if self.ended
                else ""
            ),
            session_id=self.info.id,
            commitment=str(self.info.config.get("commitment", "")),
        )


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

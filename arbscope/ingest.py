"""The session's ingest: the active backend's ``FeedIngest``, mirrored on the other
backend and timed (:class:`TimedIngest`), and the slot clock it keeps.

Both backends see every frame (the other backend's ingest is fed the same bytes), so the
timing panel shows Rust and Python side by side and the shadow check compares graphs that
saw the same history; the mirror is suspended for good when it costs more than its
budget of wall time. It is the end of the ingest's one port
(:class:`arbscope.ports.IngestPort`: ``apply(kind, *args)``, each kind's handler bound
once from the input table ``arbscope.inputs.CALLS``), with the typed calls on top
(``arbscope.inputs.Calls``) and the active backend's reads, so the feeds, a consumer and a
replay drive it alike.
"""

from __future__ import annotations

import time
import types
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from engine_rs.errors import EngineError
from storage.codec import Kind

from .inputs import CALLS, Calls, Reads
from .ports import Buffer, Call, EngineIngest, FrameRun, Run
from .timing import KernelTimer

# a slot notification's method name, looked for in the head of a recorded frame by a
# replay's runs (anywhere in the envelope, whatever order a node writes its keys in: a
# slot notification is ~130 bytes); a live frame's is read from the engine's slot instead
SLOT_NOTICE = b'"slotNotification"'
SLOT_NOTICE_WITHIN = 256
GRPC_SLOT_UPDATE = 3  # SubscribeUpdate.update_oneof's slot member (FeedIngest.grpc's kind)


def _frame(i: EngineIngest, endpoint: int, frame: Buffer, recv_ns: int) -> int:
    return i.frame(endpoint, frame, recv_ns)


def _grpc(i: EngineIngest, endpoint: int, update: Buffer, recv_ns: int) -> tuple[int, int]:
    return i.grpc(endpoint, update, recv_ns)


def _frames(i: EngineIngest, *args: Any) -> FrameRun:
    return i.frames(*args)


def _account(i: EngineIngest, pubkey: str, owner: str, data: Buffer, slot: int) -> bool:
    return i.account(pubkey, owner, data, slot)


def _reconcile(i: EngineIngest, pubkey: str, owner: str, data: Buffer, slot: int) -> bool:
    return i.reconcile(pubkey, owner, data, slot)


def _refetch(i: EngineIngest) -> list[tuple[str, int]]:
    return i.take_refetch()


def _transactions(i: EngineIngest) -> list[tuple[str, int, bool, int, int]]:
    return i.take_transactions()


class TimedIngest(Calls, Reads):
    """``FeedIngest`` of the active backend, mirrored on the other and timed: the ingest
    port's end (:meth:`apply`), the typed calls on it, the active backend's reads."""

    def __init__(
        self,
        timer: KernelTimer,
        ingests: dict[str, EngineIngest],
        mirror_budget: float = 0.15,
        window_ns: int = 1_000_000_000,
        accounts_budget_ns: int = 1_000_000_000,
        accounts_window_ns: int = 10_000_000_000,
        kinds: dict[str, str] | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.timer, self.ingests = timer, ingests
        self.clock = clock  # ns; the budget's wall time (tests give their own)
        self.kinds = kinds if kinds is not None else {}  # pool -> amm_v4 | cpmm | whirlpool
        self.active = ingests[timer.active.BACKEND]
        Reads.__init__(self, self.active)
        # the other backend follows every frame (so its graph can be shadow-checked)
        # while that costs less than ``mirror_budget`` of wall time; above it the mirror
        # is suspended for good and the timer stops shadowing stateful kernels
        self.mirror_budget, self.window_ns = mirror_budget, window_ns
        self._win_start = clock()
        self._win_ns = 0
        # whole accounts (a snapshot's, a re-fetch's) come in bursts, back to back: a
        # share of wall time would suspend any twin within a burst's first window, so
        # they have their own budget, a time: the mirror may spend ``accounts_budget_ns``
        # on them within any ``accounts_window_ns`` (the default market's ~280 accounts
        # cost the twin ~70 ms; 3,000 pools' ~17,000 and the twin's cycle search, minutes)
        self.accounts_budget_ns, self.accounts_window_ns = accounts_budget_ns, accounts_window_ns
        self._acc_start = clock()
        self._acc_ns = 0
        # the slot clock: the newest slot a slot notification brought, when its first
        # copy arrived (the frame's receive ns) and the slots' measured length (ns, a
        # moving average): where in its slot a decision is made (paper's landing model)
        self.slot_seen, self.slot_t_ns, self.slot_len_ns = 0, 0, 0
        # told when a frame moved a pool's state, while someone wants to decide on it at
        # once (trading live on its own: the session's ``decide``); None: the turn decides
        self.on_change: Callable[[], None] | None = None
        # the receive ns of the oldest frame whose change the next ``take_changed`` hands
        # over (0: none, or no one was listening): where a live order's latency starts
        self.change_ns = 0
        # False: a frame goes straight to the only backend, untimed (a headless replay:
        # no timing panel to feed, nothing to mirror); the slot clock is kept the same
        self.timed = True
        # each call of the port bound once: on every backend, in step (``_all``), but
        # the hot and the timed ones, which have handlers of their own
        self._calls: dict[Call, Callable[..., Any]] = {
            kind: partial(self._all, call) for kind, call in CALLS.items()
        }
        self._calls.update(
            {
                Kind.FRAME: self._frame,
                Kind.GRPC: self._grpc,
                Run.FRAMES: self._frames,
                Kind.ACCOUNT: self._account,
                Kind.RECONCILE: self._reconcile,
                Kind.TRACK_POOL: self._track_pool,
                Kind.DRAIN: self._take_changed,
            }
        )

    def apply(self, kind: Call, /, *args: Any) -> Any:
        """The port: the call ``kind`` is, with ``args`` (``arbscope.inputs.CALLS``)."""
        return self._calls[kind](*args)

    def _frame(self, endpoint: int, frame: Buffer, recv_ns: int) -> int:
        if self.timed or len(self.ingests) > 1:
            sid = int(self._feed(_frame, "feed_ingest", endpoint, frame, recv_ns))
        else:
            sid = int(self.active.frame(endpoint, frame, recv_ns))
        self._after(recv_ns)
        return sid

    def frame_delta(
        self,
        endpoint: int,
        key: Buffer,
        head: Buffer,
        how: int,
        body: Buffer,
        tail: Buffer,
        recv_ns: int,
    ) -> int:
        """A recorded frame stored as a delta (a headless replay's, ``FeedIngest.frame_delta``:
        each backend keeps its own copies, so every backend takes it), untimed; the slot
        clock moved and the listener told as ``frame`` does. The active backend's error,
        after the others took it."""
        sid, err = -1, None
        for ing in (self.active, *(i for i in self.ingests.values() if i is not self.active)):
            try:
                out = int(ing.frame_delta(endpoint, key, head, how, body, tail, recv_ns))
            except EngineError as exc:
                err = err or exc
            else:
                sid = out if ing is self.active else sid
        if err is not None:
            raise err
        self._after(recv_ns)
        return sid

    def drop_copy(self, key: Buffer) -> None:
        """Forget the copy every backend holds under ``key`` (``frame_delta``)."""
        for ing in self.ingests.values():
            ing.drop_copy(key)

    def _after(self, recv_ns: int) -> None:
        """After a frame received at ``recv_ns``: when it moved the chain's slot (only a
        slot notification does), that slot starts then; otherwise a listener is told of
        the pools it moved. The slot is the engine's getter, read, not the frame scanned
        again in Python for a slot notification."""
        slot = int(self.active.slot)
        if slot > self.slot_seen:
            self._slot_moved(slot, recv_ns)
        elif self.on_change is not None:
            self._changed(recv_ns)

    def _changed(self, recv_ns: int) -> None:
        """After a frame (received at ``recv_ns``): when it left pools to evaluate, note
        when the first such frame came and tell the listener."""
        if self.active.pending and self.on_change is not None:
            if not self.change_ns:
                self.change_ns = recv_ns
            self.on_change()

    def _frames(
        self,
        batch: Buffer,
        start: int,
        endpoints: Sequence[int],
        offset_ns: int,
        deltas: bool = False,
    ) -> FrameRun:
        """A run of recorded frames (a NATS consumer's batch: ``FeedIngest.frames``; with
        ``deltas``, frames stored as deltas among them), the same hot path as ``frame`` in
        one call a run (its own timing row, ``feed_frames``, since a call is many frames);
        a slot the run moved starts at its newest receive time (the run's last frame:
        within a batch's span of the notification's)."""
        out: FrameRun
        out = self._feed(_frames, "feed_frames", batch, start, endpoints, offset_ns, deltas)
        if out[1] and int(self.active.slot) > self.slot_seen:
            self._slot_notice(max(last for _ep, _n, _first, last in out[1]))
        if out[1] and self.on_change is not None:
            self._changed(min(first for _ep, _n, first, _last in out[1]))
        return out

    def _grpc(self, endpoint: int, update: Buffer, recv_ns: int) -> tuple[int, int]:
        """A Yellowstone gRPC update: the same hot path (and timing row) as a frame."""
        kind, value = self._feed(_grpc, "feed_ingest", endpoint, update, recv_ns)
        if kind == GRPC_SLOT_UPDATE:
            self._slot_notice(recv_ns)
        elif self.on_change is not None:
            self._changed(recv_ns)
        return int(kind), int(value)

    def slot_noticed(self, recv_ns: int) -> None:
        """A slot notification received at ``recv_ns`` went in by another way than
        ``frame`` (a headless replay's run of frames, ``FeedIngest.frames``): the slot
        clock moves as ``frame`` moves it."""
        self._slot_notice(recv_ns)

    def _slot_notice(self, recv_ns: int) -> None:
        """A slot notification (or gRPC slot update) went in: when it moved the session's
        slot, that slot starts at its receive time."""
        slot = int(self.active.slot)
        if slot > self.slot_seen:
            self._slot_moved(slot, recv_ns)

    def _slot_moved(self, slot: int, recv_ns: int) -> None:
        """The chain's slot moved to ``slot`` by a notification received at ``recv_ns``:
        the slot starts then, and the slots' measured length takes the step in."""
        if self.slot_seen and recv_ns > self.slot_t_ns:
            per = (recv_ns - self.slot_t_ns) // (slot - self.slot_seen)
            self.slot_len_ns = per if not self.slot_len_ns else (7 * self.slot_len_ns + per) // 8
        self.slot_seen, self.slot_t_ns = slot, recv_ns

    def _feed(self, call: Callable[..., Any], kernel: str, *args: Any) -> Any:
        """A frame's, a run's or an update's ``call`` on the active backend, and on the
        other while the mirror is within its budget; timed as ``kernel``."""
        if len(self.ingests) > 1 and not self.timer.stateful_suspended:
            active = self.timer.active

            def run(m: types.ModuleType) -> Any:
                if m is active:
                    return call(self.ingests[m.BACKEND], *args)
                t0 = self.clock()
                try:
                    return call(self.ingests[m.BACKEND], *args)
                finally:
                    self._win_ns += self.clock() - t0

            sid: Any = self.timer.call(kernel, run, mirror=True)
            self._budget()
            return sid
        ing = self.active
        return self.timer.call(kernel, lambda m: call(ing, *args))

    def _budget(self) -> None:
        """Once a window has passed: suspend the mirror when it took more than its
        budget of the window's wall time."""
        t1 = self.clock()
        if t1 - self._win_start >= self.window_ns:
            if self._win_ns > self.mirror_budget * (t1 - self._win_start):
                self.suspend(f"load: the mirror took {self._win_ns / (t1 - self._win_start):.0%}")
            self._win_start, self._win_ns = t1, 0

    def suspend(self, why: str) -> None:
        """Stop feeding the other backend (its state no longer follows)."""
        self.timer.stateful_suspended = why
        self.ingests = {self.timer.active.BACKEND: self.active}

    def _all(self, call: Callable[..., Any], *args: Any) -> Any:
        """``call(ingest, *args)`` on every backend's ingest (so they stay in step); the
        active one's result, or its exception once all have run."""
        out: Any = None
        err: Exception | None = None
        for backend, ing in self.ingests.items():
            try:
                r = call(ing, *args)
            except Exception as exc:
                if backend == self.timer.active.BACKEND:
                    err = exc
                continue
            if backend == self.timer.active.BACKEND:
                out = r
        if err is not None:
            raise err
        return out

    def _track_pool(self, address: str, kind: str) -> None:
        self._all(CALLS[Kind.TRACK_POOL], address, kind)
        self.kinds[address] = kind

    def _account(self, pubkey: str, owner: str, data: Buffer, slot: int) -> bool:
        # errors of the active backend propagate (after the other one ran)
        if self.timer.stateful_suspended:
            ok: bool = self._all(_account, pubkey, owner, data, slot)
            return ok
        active = self.timer.active

        def run(m: types.ModuleType) -> Any:
            if m is active:
                return self.ingests[m.BACKEND].account(pubkey, owner, data, slot)
            t0 = self.clock()  # the mirror's time on accounts: their own budget
            try:
                return self.ingests[m.BACKEND].account(pubkey, owner, data, slot)
            finally:
                self._acc_ns += self.clock() - t0

        result: bool = self.timer.call("feed_account", run, mirror=True)
        self._accounts_budget()
        return result

    def _reconcile(self, pubkey: str, owner: str, data: Buffer, slot: int) -> bool:
        """The reconcile's repair (``FeedIngest.reconcile``) on every backend, so they
        stay in step (the active one's answer or error, after the others ran); timed as
        an account."""
        if self.timer.stateful_suspended:
            out: bool = self._all(_reconcile, pubkey, owner, data, slot)
            return out

        def run(m: types.ModuleType) -> Any:
            return self.ingests[m.BACKEND].reconcile(pubkey, owner, data, slot)

        result: bool = self.timer.call("feed_account", run, mirror=True)
        return result

    def _accounts_budget(self) -> None:
        """Suspend the mirror once it spent more than its accounts' budget within their
        window (a new window starts once one has passed)."""
        t1 = self.clock()
        if self._acc_ns > self.accounts_budget_ns:
            self.suspend(
                f"load: the mirror took {self._acc_ns / 1e9:.1f} s on "
                f"{'a snapshot' if t1 - self._acc_start < self.accounts_window_ns else 'accounts'}"
            )
        elif t1 - self._acc_start >= self.accounts_window_ns:
            self._acc_start, self._acc_ns = t1, 0

    def _take_changed(self) -> list[str]:
        out: list[str] = self._all(CALLS[Kind.DRAIN])
        self.change_ns = 0
        return out

    def take_refetch(self) -> list[tuple[str, int]]:
        """What the active ingest wants re-fetched (the other one's list is drained too:
        both saw the same frames and ask for the same)."""
        out: list[tuple[str, int]] = self._all(_refetch)
        return out

    def take_transactions(self) -> list[tuple[str, int, bool, int, int]]:
        """The transactions the active ingest was told of (the other one's are drained
        too: both saw the same frames)."""
        out: list[tuple[str, int, bool, int, int]] = self._all(_transactions)
        return out

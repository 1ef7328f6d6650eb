"""arbscope's Textual app: bindings, themes and screens (no business logic here).

The source owns its time: the app starts it and runs its run loop in a worker, and the
screen redraws on its own fixed frame interval from the source's latest snapshot, never
per update; the app never drives the engine. No exception from a source's turn reaches
the terminal: engine errors are counted by the source, anything else is counted here
and shown in the status line. Keys that need a capability the source lacks (the replay
controls, trading, live mode, the journal) are shown dimmed and do nothing.
"""

from __future__ import annotations

import gc
import inspect
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar

from rich.table import Table
from textual.app import App
from textual.binding import Binding, BindingType

from themes import THEME_NAMES, next_theme, register_themes

from . import cycles_freed
from .screens.book import OrderBookScreen
from .screens.detail import CycleDetail, detail
from .screens.help import HelpScreen
from .screens.live import LiveScreen
from .screens.prompts import LiveConfirm, SessionPicker, TextPrompt
from .screens.rival import RivalDetail
from .source import (
    HasDesk,
    JournalBrowsing,
    LiveArming,
    LiveSource,
    ReplayControls,
    Trading,
    UiState,
)
from .widgets.cycles import CyclesPanel
from .widgets.palette import Palette
from .widgets.rivals import RivalsTable

FRAME_S = 0.25  # redraws: 4 a second at most

cycles_freed.mend()  # Textual's caches without their reference cycles (see the module)


GC_EVERY_S = 0.1  # the garbage collector's own turn of the loop, this often

# Why the app runs the garbage collector itself. Python collects inside whatever loop turn
# allocated last — under load often a redraw, itself up to ~45 ms after a theme change —
# and a full (generation 2) pass walks every tracked object: with Textual, Rich and a
# session loaded ~170,000 objects, 60-90 ms on a busy 2-core machine. A key pressed then
# waited for both (``python -m bench.ui``, 12.8k msg/s: ``space`` up to 200-400 ms).
# So, once the source has started, what is alive is collected once and frozen (never
# walked again: a full pass then covers only what was created since), automatic
# collection is switched off, and ``collect_due`` runs the one collection Python's own
# thresholds say is due, every GC_EVERY_S, in a turn of its own: a key waits for a
# redraw or for a collection, never for both. What survives a full pass is frozen too:
# a session's state turns over (its cycles, scores and records are made anew as the
# market moves, the start's fill and each reconnect read thousands of accounts), so the
# old generation came to hold the whole live state again within minutes and each full
# pass walked it (10-minute soak at 3,000 pools: 7 full passes of 526-871 ms).
#
# And a full pass comes ten times less often than Python's thresholds would have it
# (FULL_EVERY): it walks the session's long-lived objects not yet frozen, ~150,000 at
# 3,000 pools however often it runs (they die and leave as the state turns over), and
# frees little. There (``bench.ui``, 30 s, a theme switch a second) 2 full passes walked
# 136,000-181,000 objects in 88-148 ms and freed 12,000-34,000 (the virtual nodes Textual
# makes for component styles at each restyle, older than a middle pass; 0-3,900 a middle
# pass, with the sockets of reconnects). Middle passes come three times as often as
# Python's: each walks what outlived the young passes since the last one (at 3,000 pools
# and 5 endpoints the live cycles' records, the feeds' subscription sets remade as they
# move), so spaced at Python's ten it held the loop for 81 ms at its median (117 at most,
# 151 passes in 5 minutes of ``bench.ui``), and at three for 31 (76; 436 passes): about
# the same CPU in all, in holds a third as long (spaced ten times wider than Python's,
# they walked three times as much each: 120-128 ms). A full pass comes as often as
# before (FULL_EVERY: a thousand young passes, ~100 s). What outlives a middle pass
# waits for it.
MIDDLE_EVERY = 3  # young passes before a middle one (Python's: 10)
FULL_EVERY = 333  # middle passes before a full one (Python's: 10)
_python_thresholds: list[tuple[int, int, int]] = []  # what restore_gc puts back


def settle_gc() -> None:
    """Collect, freeze what is alive (modules, widgets, the session's graph and caches)
    and leave collecting to :func:`collect_due`, at the app's thresholds. ``gc.unfreeze()``
    first, so what an earlier source left behind is collected, not kept forever."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    if gc.isenabled():  # (from Python's own collector: not a full pass of collect_due's)
        was = gc.get_threshold()
        _python_thresholds[:] = [was]
        gc.set_threshold(was[0], MIDDLE_EVERY, FULL_EVERY)
    gc.disable()
    _settled[0] = gc.get_freeze_count()


# the objects frozen when the app last settled (settle_gc): past half as many again, a
# full pass settles it again
_settled = [0]


def collect_due() -> int | None:
    """Run the collection Python would have run by now (the oldest generation whose
    threshold is reached: ``gc.get_threshold()`` against ``gc.get_count()``); its
    generation, or None when none is due.

    A full (generation 2) pass walks only what reached the old generation since the
    last one, and what survives it is frozen (see the note above GC_EVERY_S): its cost
    follows what the session made lately, not the size of its heap. A cycle among
    frozen objects is not found by such a pass (what a session frees is mostly freed by
    its reference counts; ``bench.ui`` reports the rest: 7-11 % of what was frozen
    after 4-10 minutes at 3,000 pools), so once the frozen objects are half as many again as
    when the app last settled, the full pass is :func:`settle_gc` instead: everything
    walked once, the cycles freed. Frozen garbage stays under half the heap, and those
    whole passes come as CPython's own full passes would in a heap that grows by half
    each time, rarely."""
    thresholds, counts = gc.get_threshold(), gc.get_count()
    if not (thresholds[0] and counts[0] >= thresholds[0]):
        return None  # as CPython: a collection starts only when the young one is due
    for gen in (2, 1):
        if not (thresholds[gen] and counts[gen] >= thresholds[gen]):
            continue
        if gen == 2 and gc.get_freeze_count() > _settled[0] * 3 // 2:
            settle_gc()
            return gen
        gc.collect(gen)
        if gen == 2:
            gc.freeze()
        return gen
    gc.collect(0)
    return 0


def restore_gc() -> None:
    """Python's own collector again (the app is gone; the process may go on)."""
    gc.unfreeze()
    if _python_thresholds:
        gc.set_threshold(*_python_thresholds.pop())
    gc.enable()


class ArbscopeApp(App[None]):
    """The dashboard on one source (a simulated, live or replayed session)."""

    CSS_PATH = str(Path(__file__).resolve().parent.parent / "themes" / "arbscope.tcss")
    TITLE = "arbscope"
    SUB_TITLE = "Solana DEX arbitrage"
    # The dashboard's own keys are priority bindings: the app handles them in its own
    # step, where a plain binding waits for the key to go to the focused widget and
    # bubble back up through its parents, one message (a loop step) per hop; under a
    # busy market each of those steps waits its turn on the loop. They apply on the live
    # screen only (check_action): a dialog on top keeps its keys, as it did. A text field
    # keeps the letters typed into it (Textual leaves it the keys it consumes).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", priority=True),
        Binding("space", "toggle_pause", "Pause", priority=True),
        Binding("m", "mode", "Paper/Live", priority=True),
        # the kill switch works whatever has focus, a modal screen included
        Binding("k", "kill", "Kill", priority=True),
        Binding("x", "trade", "Trade", show=False, priority=True),
        Binding("u", "resume", "Resume", show=False, priority=True),
        # (not priority: the cycles table's own enter selects the row it opens)
        Binding("enter", "detail", "Details", show=False),
        Binding("o", "book", "Books", priority=True),
        Binding("c", "charts", "Charts", priority=True),
        Binding("v", "rivals", "Rivals", priority=True),
        Binding("slash", "filter", "Filter", priority=True),
        Binding("r", "open_replay", "Replay…", priority=True),
        Binding("t", "theme", "Theme", priority=True),
        Binding("tab", "next_tab", "Next panel", priority=True),
        Binding("question_mark", "help", "Help", priority=True),
        # replay only (dimmed otherwise, see check_action)
        Binding("right", "step_slot", "Step slot", priority=True),
        Binding("left", "back_slot", "Back", priority=True),
        Binding("full_stop", "step_frame", "Step frame", priority=True),
        Binding("plus,equals_sign", "faster", "Faster", priority=True),
        Binding("minus", "slower", "Slower", priority=True),
        Binding("left_square_bracket", "seek(-10)", "-10 s", show=False, priority=True),
        Binding("right_square_bracket", "seek(10)", "+10 s", show=False, priority=True),
    ]
    # the priority keys that only the live screen takes (a dialog on top keeps them)
    LIVE_SCREEN_ACTIONS = frozenset(
        {
            "quit", "toggle_pause", "mode", "trade", "resume", "book", "charts", "rivals",
            "filter", "open_replay", "theme", "help", "step_frame", "faster", "slower", "seek",
        }
    )  # fmt: skip
    REPLAY_ACTIONS = frozenset({"step_slot", "back_slot", "step_frame", "faster", "slower", "seek"})
    TRADING_ACTIONS = frozenset({"kill", "trade", "resume"})

    def __init__(
        self,
        source: LiveSource,
        frame_s: float = FRAME_S,
        sessions: JournalBrowsing | None = None,
        theme: str = "dark",
    ) -> None:
        super().__init__()
        self.source = source
        self.state = UiState()
        self.frame_s = frame_s
        self.sessions = sessions
        self.start_theme = theme
        self.key_latency_s: list[float] = []  # key press to handled (the perf benchmark)
        self.collections = [0, 0, 0]  # garbage collections run by _collect, per generation

    def on_mount(self) -> None:
        register_themes(self, self.start_theme)
        self.push_screen(LiveScreen(self.source, self.state, self.frame_s))
        self._run_source(self.source)
        self.set_interval(GC_EVERY_S, self._collect, name="gc")

    def _collect(self) -> None:
        """The garbage collector's own loop turn (see GC_EVERY_S)."""
        if gc.isenabled():  # before the source started: Python still collects by itself
            return
        gen = collect_due()
        if gen is not None:
            self.collections[gen] += 1

    def on_unmount(self) -> None:
        restore_gc()

    def _run_source(self, source: LiveSource) -> None:
        """Start ``source`` and run its run loop, in a worker of the ``source`` group
        (cancelled when the source is replaced or the app exits)."""
        self.run_worker(self._drive(source), name="source", group="source", exit_on_error=False)

    async def _drive(self, source: LiveSource) -> None:
        await self._start(source)
        try:
            await source.run(on_error=self._error)
        except Exception as exc:  # shown in the status line, never a traceback
            self._error(exc)

    async def _start(self, source: LiveSource) -> None:
        try:
            await source.start()
        except Exception as exc:  # shown in the status line, never a traceback
            self._error(exc)
        settle_gc()

    def _error(self, exc: BaseException, where: str = "") -> None:
        self.state.failed(exc, where)

    def say(self, message: str) -> None:
        """Answer the operator in the status bar."""
        self.state.message = message

    async def action_quit(self) -> None:
        """Clean shutdown: unsubscribe and close the feeds, flush the journal, exit."""
        try:
            await self.source.stop()
        except Exception as exc:  # never a traceback on the way out either
            self._error(exc)
        self.exit()

    @property
    def paused(self) -> bool:
        """Whether the source's clock is stopped (space toggles)."""
        return self.state.paused

    @property
    def replay(self) -> ReplayControls | None:
        """The source when it is a replay (it has the replay controls), else None."""
        return self.source if isinstance(self.source, ReplayControls) else None

    @property
    def trading(self) -> Trading | None:
        """The source when it takes orders, else None."""
        desk = self.source.desk if isinstance(self.source, HasDesk) else self.source
        return desk if isinstance(desk, Trading) else None

    @property
    def arming(self) -> LiveArming | None:
        """The source when it may go live, else None."""
        desk = self.source.desk if isinstance(self.source, HasDesk) else self.source
        return desk if isinstance(desk, LiveArming) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """True: the key applies; None: it does not apply to this source (shown dimmed,
        does nothing); False: hidden (tab outside the narrow layout moves focus; a
        dialog on top: the key is its own)."""
        if action in self.LIVE_SCREEN_ACTIONS and self._live_screen() is None:
            return False
        if action in self.REPLAY_ACTIONS:
            return True if self.replay is not None else None
        if action in self.TRADING_ACTIONS:
            return True if self.trading is not None else None
        if action == "mode":
            return True if self.arming is not None else None
        if action == "open_replay":
            return True if self.sessions is not None else None
        if action == "next_tab":  # only the narrow layout has tabs; tab moves focus otherwise
            s = self._live_screen()
            return s is not None and s.narrow
        if action == "rivals":  # hidden where the source reads no transactions (the demo)
            s = self._live_screen()
            return s is not None and s.has_rivals
        return True

    def _live_screen(self) -> LiveScreen | None:
        s = self.screen
        return s if isinstance(s, LiveScreen) else None

    def _on_live(self, act: Callable[[LiveScreen], None]) -> None:
        """``act`` on the live screen; nothing when another screen is on top."""
        s = self._live_screen()
        if s is not None:
            act(s)

    # ------------------------------------------------------------ view and modes
    def action_toggle_pause(self) -> None:
        if self.replay is not None:  # the replay clock stops; the screen keeps drawing
            self.replay.toggle_pause()
            return
        self.state.paused = not self.state.paused
        self.source.set_paused(self.state.paused)

    def action_mode(self) -> None:
        """Paper -> live asks for a typed confirmation, then the source's guard rails;
        live -> paper is immediate."""
        if self.state.mode == "LIVE":
            self._to_paper("back to paper")
            return
        arming = self.arming
        if arming is None:  # dimmed: only reached by a direct call
            self.say("live trading is impossible with this source")
            return
        self.push_screen(LiveConfirm(arming.live_checks()), self._confirmed)

    def _confirmed(self, ok: bool | None) -> None:
        if not ok:
            self.say("still in paper (not confirmed)")
            return
        arming = self.arming
        if arming is None:
            self.say("live refused: this session has no execution engine (paper only)")
            return
        try:
            answer = arming.request_live()
        except Exception as exc:
            self._error(exc, "live: ")
            return
        if inspect.isawaitable(answer):  # the guard rails ask the node: not on this frame
            self.say("checking the live guard rails…")
            self.run_worker(self._await_live(answer), name="live-arm", exit_on_error=False)
        else:
            self._live_answer(*answer)

    async def _await_live(self, answer: Awaitable[tuple[bool, str]]) -> None:
        try:
            allowed, why = await answer
        except Exception as exc:  # never a traceback on the operator's screen
            self._error(exc, "live: ")
            self.say("live refused: the guard-rail check failed")
            return
        self._live_answer(allowed, why)

    def _live_answer(self, allowed: bool, why: str) -> None:
        # (k pressed while the guard rails were checked: the source refuses, not the app)
        if allowed:
            self.state.mode, self.state.halted = "LIVE", False
            note = f" · {why}" if why else ""  # the lookup tables made or found
            self.say(f"LIVE: real transactions (k halts at once){note}")
        else:
            self.say(f"live refused: {why}")

    def _to_paper(self, why: str) -> None:
        self.state.mode = "PAPER"
        arming = self.arming
        if arming is not None:
            try:
                arming.to_paper()
            except Exception as exc:
                self._error(exc, "paper: ")
        self.say(why)

    def action_kill(self) -> None:
        """Kill switch: back to paper at once and cancel what is pending (a priority
        binding: it works over any screen, a modal included)."""
        t0 = time.perf_counter()
        self.state.halted = True
        trading = self.trading
        if trading is not None:
            try:
                trading.kill()
            except Exception as exc:
                self._error(exc, "kill: ")
        self._to_paper("KILL SWITCH: paper mode, pending orders cancelled")
        self.key_latency_s.append(time.perf_counter() - t0)

    def action_trade(self) -> None:
        """``x``: a (paper) order on the cycle under the cursor."""
        s = self._live_screen()
        trading = self.trading
        if s is None or trading is None:
            self.say("this source takes no orders")
            return
        picked = s.query_one(CyclesPanel).selected()
        if picked is None:
            self.say("no cycle under the cursor")
            return
        o, _ = picked
        try:
            why = trading.trade(o.base_mint, list(o.pools))
        except Exception as exc:
            self._error(exc, "trade: ")
            return
        path = self.source.snapshot.names.path(o.tokens)
        mode = "LIVE" if self.state.mode == "LIVE" else "paper"
        self.say(f"order {path}: {why}" if why else f"{mode} order sent: {path}")

    def action_resume(self) -> None:
        """``u``: automatic paper orders again after the kill switch."""
        trading = self.trading
        if trading is not None and self.state.halted:
            trading.resume()
            self.state.halted = False
            self.say("resumed: automatic paper orders")

    def action_theme(self) -> None:
        self.theme = next_theme(self.theme)
        self.say(f"theme {self.theme.removeprefix('arbscope-')}")

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_next_tab(self) -> None:
        self._on_live(LiveScreen.next_tab)

    def action_charts(self) -> None:
        """``c``: the price chart, then the equity chart, then the panel shown before."""
        self._on_live(LiveScreen.next_chart)

    def action_rivals(self) -> None:
        """``v``: the Rivals panel (and back)."""
        self._on_live(LiveScreen.toggle_rivals)

    def action_rival_detail(self) -> None:
        """``enter`` on a rival arbitrage: its detail."""
        s = self._live_screen()
        if s is None or not s.has_rivals:
            return
        picked = s.query_one(RivalsTable).selected()
        view = self.source.snapshot.rivals
        if picked is None or view is None:
            self.say("no rival arbitrage under the cursor")
            return
        names = self.source.snapshot.names
        self.push_screen(RivalDetail(picked, names, dict(view.labels), dict(view.venue_labels)))

    def action_detail(self) -> None:
        s = self._live_screen()
        if s is None:
            return
        if isinstance(s.focused, RivalsTable):
            self.action_rival_detail()
            return
        picked = s.query_one(CyclesPanel).selected()
        if picked is None:
            self.say("no cycle under the cursor")
            return
        snap = self.source.snapshot
        o = picked[0]
        key = o.base_mint + ":" + ",".join(o.pools)
        why = snap.unsendable.get(key, "")
        cost, names, coverage = snap.costs.get(key), snap.names, snap.coverage
        endpoints, labels = snap.endpoints, snap.labels

        def table(palette: Palette, narrow: bool) -> Table:
            return detail(
                *picked, palette, cost, names, coverage, endpoints, labels, why, narrow=narrow
            )

        self.push_screen(CycleDetail(o, table))

    def action_book(self) -> None:
        """The order books: the first book leg of the cycle under the cursor, else the
        first market of the list."""
        snap = self.source.snapshot
        books = {b.market for b in snap.books}
        if not books:
            self.say("no order-book market in this session")
            return
        market = ""
        s = self._live_screen()
        picked = s.query_one(CyclesPanel).selected() if s is not None else None
        if picked is not None:
            market = next((p for p in picked[0].pools if p in books), "")
        self.push_screen(OrderBookScreen(self.source, self.state, self.frame_s, market))

    def action_filter(self) -> None:
        s = self._live_screen()
        if s is None:
            return
        panel = s.query_one(CyclesPanel)

        def done(text: str | None) -> None:
            if text is not None:
                panel.filter = text
                s.redraw()
                self.say(f"filter {text}…" if text else "filter cleared")

        self.push_screen(
            TextPrompt(
                "Cycles through token (mint prefix; empty clears)", panel.filter, "e.g. SOL or So11"
            ),
            done,
        )

    # ------------------------------------------------------------ replay
    def action_open_replay(self) -> None:
        if self.sessions is None:  # dimmed: only reached by a direct call
            self.say("no journal configured")
            return
        self.run_worker(self._pick_session(), exit_on_error=False)

    async def _pick_session(self) -> None:
        assert self.sessions is not None
        try:
            rows, error = await self.sessions.list(), ""
        except Exception as exc:
            rows, error = [], f"{type(exc).__name__}: {exc}"
        sid = await self.push_screen_wait(SessionPicker(rows, error))
        if sid:
            await self.switch_source(sid)

    async def switch_source(self, session_id: str) -> None:
        """Stop the current source and show the recorded session instead (paper mode)."""
        assert self.sessions is not None
        try:
            new = await self.sessions.open(session_id)
        except Exception as exc:
            self.say(f"cannot open {session_id}: {exc}"[:120])
            return
        self._to_paper(f"replaying {session_id}")
        old, self.source = self.source, new
        self.workers.cancel_group(self, "source")  # the old source's run loop
        try:
            await old.stop()
        except Exception as exc:
            self._error(exc)
        self._run_source(new)
        screen = LiveScreen(new, self.state, self.frame_s)
        await self.switch_screen(screen)
        self.refresh_bindings()  # the keys that apply are the new source's

    def _replay_do(self, control: Callable[[], object]) -> None:
        """Call a replay control: a plain one now, a step (a coroutine: it may wait for
        the journal) in a worker of the ``replay`` group, so keys never wait for it."""
        try:
            out = control()
        except Exception as exc:  # never a traceback on the operator's screen
            self._error(exc)
            return
        if inspect.isawaitable(out):
            self.run_worker(self._replay_step(out), group="replay", exit_on_error=False)

    async def _replay_step(self, step: Awaitable[None]) -> None:
        try:
            await step
        except Exception as exc:  # never a traceback on the operator's screen
            self._error(exc)

    def _on_replay(self, control: Callable[[ReplayControls], object]) -> None:
        """``control`` on the replay (:meth:`_replay_do`); nothing when not replaying."""
        r = self.replay
        if r is not None:
            self._replay_do(lambda: control(r))

    def action_step_slot(self) -> None:
        self._on_replay(lambda r: r.step_slot())

    def action_step_frame(self) -> None:
        self._on_replay(lambda r: r.step_frame())

    def action_back_slot(self) -> None:
        self._on_replay(lambda r: r.seek(max(0.0, r.pos_ns / 1e9 - 0.4)))

    def action_faster(self) -> None:
        self._on_replay(lambda r: r.faster())

    def action_slower(self) -> None:
        self._on_replay(lambda r: r.slower())

    def action_seek(self, delta_s: float) -> None:
        self._on_replay(lambda r: r.seek(max(0.0, r.pos_ns / 1e9 + delta_s)))


__all__ = ["THEME_NAMES", "ArbscopeApp"]

"""`python -m bench.ui`: the dashboard under load.

A simulator in its own process (a busy market: more pools, more trades per slot, short
slots) serves 3 endpoints (``--endpoints``; ``--pools 3000 --tokens 300``: a market the
size of mainnet's watched set, every venue); the dashboard (Textual, headless driver: layout and
rendering run, nothing is written to a terminal) runs a FeedSession on them for
``--seconds``. Measured in the app's process:

- feed messages/s (all endpoints, all copies) and pool updates/s evaluated;
- redraws/s (the screen's fixed frame interval; target <= 20 fps);
- key latency: every 0.5 s ``t`` (theme), ``space`` at once after it (it waits for the
  theme's restyle: reported on its own row) and ``space`` again 0.25 s later, on its own
  (the goal's figure, target <= 100 ms); time from the press to the handled state,
  p50 / p99 / max;
- CPU: process time over wall time (target < 1 core);
- the event loop's holds: how long each of its steps (a callback, a task's step) ran,
  in this thread's CPU time (what another process on the machine does not inflate) and
  in wall time; the longest steps by what ran them. A key waits for the step running
  when it arrives, so the longest holds bound its latency on an idle machine.

``--record`` journals the session as the dashboard does by default (a journal file in a
temporary directory): each turn's report then also writes its derived events.

``--profile PATH`` writes a cProfile of the measured window (``pstats``; the profiler
slows the app, so that run's figures are not comparable).

``--chart price|equity`` measures with that chart shown in place of the timings (``c``
once or twice): the price chart follows the best cycle's first hop and is rebuilt
whenever that pair moves (at most once a frame); it also reports the charts' builds/s.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import cProfile
import functools
import gc
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.report import cpu_s, markdown

SEED = 17
# its market's order books move about every 1.6 s, as mainnet's do (every fourth 0.4 s
# slot): at its 40 ms slots, every fourth slot would move them ten times as often, and
# their ~91 KB sides would be most of what the simulator sends
BOOK_REQUOTE_S = 1.6


def serve(
    seed: int,
    tokens: int,
    pools: int,
    trades: int,
    slot_ms: float,
    endpoints: int = 3,
    accept_tx: bool = False,
) -> None:
    """The simulator process: the busy market on ``endpoints`` endpoints, their URLs on
    stdout, until stdin closes. ``accept_tx``: it takes transactions, its block engines
    not rate-limited (an operator's authenticated limit is above Jito's default of one
    request a second, which would pace a benchmark's orders rather than time them)."""
    from feeds.sim.server import SimServer, default_profiles
    from feeds.sim.world import WorldConfig

    async def main() -> None:
        cfg = WorldConfig(
            seed=seed,
            tokens=tokens,
            pools=pools,
            trades_per_slot=trades,
            slot_seconds=slot_ms / 1000.0,
            book_requote_s=BOOK_REQUOTE_S,
        )
        async with SimServer(
            cfg, default_profiles(endpoints), accept_transactions=accept_tx
        ) as sim:
            if accept_tx:
                for engine in sim.chain.engines.values():
                    engine.rps = 0.0
            for info in sim.infos():
                print(info.ws_url, info.http_url, flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(main())


async def measure(urls: list[list[str]], a: argparse.Namespace) -> dict[str, Any]:
    from arbscope import sources
    from arbscope.session import RecordSettings
    from feeds.clients.pool import Endpoint
    from feeds.sim.world import World, WorldConfig
    from tui.app import ArbscopeApp
    from tui.screens.live import LiveScreen
    from tui.widgets.equity import EquityChart
    from tui.widgets.pricechart import PriceChart

    w = World(WorldConfig(seed=a.seed, tokens=a.tokens, pools=a.pools))
    eps = [Endpoint(f"sim-{i}", u[0], u[1]) for i, u in enumerate(urls)]
    journal = tempfile.TemporaryDirectory() if a.record else None
    session = sources.session(
        sources.Watch(universe=w.universe(), base_mints=w.bases, seed=a.seed),
        sources.Evaluation(shadow=not a.no_shadow),
        endpoints=eps,
        record=RecordSettings(Path(journal.name) / "ui.sqlite") if journal else None,
    )
    from arbscope import heap

    trim = heap.trimmer()
    if not a.no_trim:  # as the dashboard's process does (arbscope.cli.dashboard)
        trim.start()
    app = ArbscopeApp(session)
    timed_action(app)
    lat: list[float] = []  # space (pause): the loop's own delay
    presses: list[tuple[float, float]] = []  # (pressed at, latency): the slowest explained
    # the same presses, to when the action ran (the rest of ``lat``: until this bench's
    # own coroutine, polling, had its turn on the loop)
    acted: list[float] = []
    lat_t: list[float] = []  # t (theme): also restyles every widget
    lat_behind: list[float] = []  # space pressed at once after t: waits for its restyle
    async with app.run_test(size=(120, 40)) as pilot:
        s0 = time.monotonic()
        while time.monotonic() - s0 < a.start_timeout:  # the snapshot and the subscriptions
            await pilot.pause(0.1)
            # started: its feeds streaming and its run loop turning (start() has returned
            # and the app has frozen what it allocated: not a key's wait to measure)
            if session.start_error or (
                session.feeds.pool is not None
                and session.feeds.pool.workers
                and session.loop.turns > 0
            ):
                break
        started_s = time.monotonic() - s0
        if session.start_error or session.feeds.pool is None or not session.loop.turns:
            raise SystemExit(
                f"the session did not start within {a.start_timeout:g} s: "
                f"{session.start_error or session.snapshot.note or 'no error'}"
            )
        # then the start's gap fetched (every watched account read once more, ~21,000 at
        # 3,000 pools, while the streams run): measured from here, not inside the keys' run
        while not session.feeds.pool.start_filled and time.monotonic() - s0 < a.start_timeout:
            await pilot.pause(0.1)
        fill_s = (
            time.monotonic() - s0 - started_s if session.feeds.pool.start_filled else float("nan")
        )
        if a.chart:
            await pilot.press(*["c"] * (1 if a.chart == "price" else 2))
        await pilot.pause(2.0)  # warm up
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        charts = list(screen.query(PriceChart)) + list(screen.query(EquityChart))
        b0 = sum(c.builds for c in charts)
        f0, u0 = screen.frames, session.updates
        m0 = sum(c.messages for c in session.feeds.pool.counters) if session.feeds.pool else 0
        grown = Growth() if a.growth else None
        holds = LoopHolds(a.sample_holds_ms / 1e3).__enter__()
        parts = PartTimes().__enter__() if a.parts else None
        # in this thread's CPU time: what the machine's other processes take is not charged
        prof = cProfile.Profile(time.thread_time) if a.profile else None
        if prof is not None:
            prof.enable()
        c0, t0, rss0 = time.process_time(), time.monotonic(), _rss_mb()
        trims0, released0 = trim.trims, trim.released
        sim = getattr(a, "sim_pid", None)
        sim_cpu0, slot0 = (cpu_s(sim) if sim else float("nan")), await _sim_slot(urls)
        r0 = sum(c.reconnects for c in session.feeds.pool.counters)
        gaps0 = (session.feeds.pool.resnapshots, session.feeds.pool.gaps_covered)
        end = t0 + a.seconds
        rss_at: list[tuple[float, float]] = [(0.0, rss0)]  # (seconds in, MB) every 60 s
        sim_rss_at: list[tuple[float, float]] = [(0.0, _rss_mb(sim))]  # the simulator's
        while time.monotonic() < end:
            if time.monotonic() - t0 >= 60.0 * len(rss_at):
                rss_at.append((time.monotonic() - t0, _rss_mb()))
                sim_rss_at.append((time.monotonic() - t0, _rss_mb(sim)))
            await pilot.pause(0.5)
            theme = app.theme
            k0 = time.perf_counter()
            app.simulate_key("t")  # as a terminal key arrives (pilot.press waits for idle)
            while app.theme == theme:
                await asyncio.sleep(0.001)
            lat_t.append(time.perf_counter() - k0)
            lat_behind.append(await _toggle_pause(app))  # right behind t's restyle
            await pilot.pause(0.25)
            k0 = time.perf_counter()
            lat.append(await _toggle_pause(app, acted))  # on its own: the goal's figure
            presses.append((k0, lat[-1]))
        wall = time.monotonic() - t0
        if prof is not None:
            prof.disable()
            prof.dump_stats(a.profile)
        holds.__exit__()
        if parts is not None:
            parts.__exit__()
        if grown is not None:
            print("\n".join(grown.report()))
        why = session.timer.stateful_suspended
        shadow = f"mirror suspended ({why})" if why else "twin mirrors every frame"
        cpu = time.process_time() - c0
        rss1 = _rss_mb()
        sim_rss_at.append((wall, _rss_mb(sim)))
        # the simulator keeping its clock or not (a market too big to step in a slot
        # stretches its slots, and a client it cannot write to fast enough is cut)
        sim_cores = ((cpu_s(sim) if sim else float("nan")) - sim_cpu0) / wall
        slot1 = await _sim_slot(urls)
        slot_ms = (
            float("nan") if slot0 is None or slot1 is None else 1e3 * wall / max(slot1 - slot0, 1)
        )
        reconnects = sum(c.reconnects for c in session.feeds.pool.counters) - r0
        # the gaps the reconnects left: fetched again, or covered by another stream
        refills = session.feeds.pool.resnapshots - gaps0[0]
        covered = session.feeds.pool.gaps_covered - gaps0[1]
        trims, released = trim.trims - trims0, trim.released - released0
        frames = screen.frames - f0
        builds = sum(c.builds for c in charts) - b0
        m1 = sum(c.messages for c in session.feeds.pool.counters) if session.feeds.pool else 0
        updates = session.updates - u0
        # what the app's collector kept frozen (tui.app.collect_due), and of it the cycles
        # no longer reachable: what freezing held that a collector walking everything
        # would have freed (after the window: this pass is not a key's wait)
        gc.collect()  # (what is not frozen, first)
        frozen = gc.get_freeze_count()
        gc.unfreeze()
        gc.set_debug(gc.DEBUG_SAVEALL)  # the garbage kept in gc.garbage, to be counted
        c_gc = time.process_time()
        held_garbage = gc.collect()
        unfrozen_pass_s = time.process_time() - c_gc
        gc.set_debug(0)
        garbage_types = collections.Counter(type(o).__qualname__ for o in gc.garbage)
        gc.garbage.clear()
        gc.collect()
        await pilot.press("q")
    if journal is not None:
        await session.stop()  # (the app's quit stopped it: a no-op) the journal closed
        journal.cleanup()
    return {
        "pools": a.pools,
        "tokens": a.tokens,
        "endpoints": a.endpoints,
        "shadow": shadow,
        "start_s": started_s,
        "start_fill_s": fill_s,
        "seconds": wall,
        "messages_per_s": (m1 - m0) / wall,
        "pool_updates_per_s": updates / wall,
        "redraws_per_s": frames / wall,
        "chart": a.chart or "",
        "chart_builds_per_s": builds / wall,
        "key_latency_p50_ms": 1e3 * statistics.median(lat),
        "key_latency_p99_ms": 1e3 * _nearest_rank(lat, 99.0),
        "key_latency_max_ms": 1e3 * max(lat),
        "keys": len(lat),
        "key_acted_p50_ms": 1e3 * statistics.median(acted) if acted else float("nan"),
        "key_acted_p99_ms": 1e3 * _nearest_rank(acted, 99.0) if acted else float("nan"),
        "key_behind_theme_p50_ms": 1e3 * statistics.median(lat_behind),
        "key_behind_theme_p99_ms": 1e3 * _nearest_rank(lat_behind, 99.0),
        "theme_latency_p50_ms": 1e3 * statistics.median(lat_t),
        "theme_latency_max_ms": 1e3 * max(lat_t),
        "cpu_cores": cpu / wall,
        "rss_mb_start": rss0,
        "rss_mb_end": rss1,
        "rss_mb_over_time": [*rss_at, (wall, rss1)],
        "simulator_rss_mb_over_time": sim_rss_at,
        "simulator_cores": sim_cores,
        "simulator_slot_ms": slot_ms,
        "slot_ms": a.slot_ms,
        "reconnects": reconnects,
        "gap_refills": refills,
        "gaps_covered": covered,
        "heap_trims": trims,
        "heap_trim": not a.no_trim,
        "heap_released_mb": released / 2**20,
        "heap_trim_longest_ms": 1e3 * trim.longest_s,
        "theme_latency_p99_ms": 1e3 * _nearest_rank(lat_t, 99.0),
        "gc_frozen_end": frozen,
        "gc_frozen_garbage": held_garbage,
        "gc_whole_pass_ms": 1e3 * unfrozen_pass_s,
        "gc_frozen_garbage_types": garbage_types.most_common(6),
        **holds.summary(),
        "slowest_presses": holds.waited_for(presses),
        "parts": parts.rows() if parts is not None else [],
    }


async def _sim_slot(urls: list[list[str]]) -> int | None:
    """The simulator's own slot (``getSlot`` at ``processed``: its clock, not what has
    reached the dashboard); None when it did not answer (a simulator too busy to answer
    in time: its slot figure is then not known, the rest of the run is)."""
    from feeds.clients.rpc import RpcClient, RpcError

    try:
        async with RpcClient(urls[0][1]) as rpc:
            return int(await rpc.call("getSlot", [{"commitment": "processed"}]))
    except (RpcError, OSError, TimeoutError) as e:
        print(f"bench.ui: the simulator's slot not read ({e})", file=sys.stderr)
        return None


async def _toggle_pause(app: Any, acted: list[float] | None = None) -> float:
    """Press ``space`` as a terminal key arrives: seconds until the app has handled it
    (seen by this coroutine, which waits its turn on the loop too). ``acted``: the
    seconds until the action itself ran are appended to it (a :func:`timed_action`'s
    clock)."""
    paused = app.paused
    k0 = time.perf_counter()
    app.simulate_key("space")
    while app.paused == paused:
        await asyncio.sleep(0.001)
    seen = time.perf_counter() - k0
    at = getattr(app, "toggled_at", None)
    if acted is not None and at is not None:
        acted.append(at - k0)
    return seen


def timed_action(app: Any) -> None:
    """The app's pause action, timed where it runs (``app.toggled_at``: perf_counter s)."""
    toggle = app.action_toggle_pause

    def toggled() -> None:
        toggle()
        app.toggled_at = time.perf_counter()

    app.action_toggle_pause = toggled


# what ``--parts`` times ("module:Class.method"): a live turn's steps and their parts,
PARTS = (
    "arbscope.parts.turn:Turn.end",
    "arbscope.parts.turn:Turn.report_turn",
    "arbscope.parts.screen:Screen.emit",
    "arbscope.parts.observed:Observed.turned",
    "arbscope.rivals:RivalBook.observe",
    "arbscope.market:Evaluator.execute",
    "arbscope.parts.turn:Turn.show",
    "arbscope.parts.screen:Screen.turned",
    "arbscope.parts.health:Health.judge",
    "feeds.clients.pool:FeedPool.health",
    "arbscope.market:Evaluator.evaluate",
    "arbscope.opportunities:OpportunityBook.enter",
    # and the screen's: a redraw (the snapshot built in it, when stale), Textual's own
    # update of what changed, the app's collection
    "tui.screens.live:LiveScreen.redraw",
    "arbscope.parts.screen:Screen.snapshot",
    "textual.screen:Screen._on_timer_update",
    "tui.app:ArbscopeApp._collect",
)


def part_of(spec: str) -> tuple[type, str]:
    """The class and method name of a :data:`PARTS` entry."""
    module, _, rest = spec.partition(":")
    cls, _, name = rest.partition(".")
    return vars(importlib.import_module(module))[cls], name


class PartTimes:
    """``--parts``: each method of :data:`PARTS` timed in this thread's CPU time while
    installed (a wrapper on its class, the method put back at exit): what a turn's
    steps are made of, part by part, where ``LoopHolds`` times whole steps."""

    def __init__(self, parts: Sequence[str] = PARTS) -> None:
        self.parts = parts
        self.times: dict[str, list[float]] = {}
        # each part's longest call: what it was called on (its first argument) and, when
        # it returned a list, how long (a pool's evaluation: the pool, its live cycles)
        self.longest: dict[str, str] = {}
        self._put_back: list[tuple[type, str, Callable[..., Any]]] = []

    def __enter__(self) -> PartTimes:
        for spec in self.parts:
            owner, name = part_of(spec)
            method = vars(owner)[name]
            self._put_back.append((owner, name, method))
            setattr(owner, name, self._timed(f"{owner.__name__}.{name}", method))
        return self

    def _timed(self, label: str, method: Callable[..., Any]) -> Callable[..., Any]:
        times = self.times.setdefault(label, [])
        clock = time.thread_time
        most = [0.0]

        @functools.wraps(method)
        def timed(*args: Any, **kwargs: Any) -> Any:
            c = clock()
            out: Any = None
            try:
                out = method(*args, **kwargs)
                return out
            finally:
                t = clock() - c
                times.append(t)
                if t > most[0]:
                    most[0] = t
                    self.longest[label] = _called_on(args, out)

        return timed

    def __exit__(self, *exc: object) -> None:
        for owner, name, method in reversed(self._put_back):
            setattr(owner, name, method)
        self._put_back.clear()

    def rows(self) -> list[tuple[str, int, float, float, float, float, str]]:
        """(part, calls, p50, p90, max ms, sum s, the longest call's argument), in
        :data:`PARTS`' order."""
        out = []
        for label, ts in self.times.items():
            if ts:
                ms = sorted(t * 1e3 for t in ts)
                p90 = _nearest_rank(ms, 90.0)
                on = self.longest.get(label, "")
                out.append((label, len(ms), statistics.median(ms), p90, ms[-1], sum(ts), on))
        return out


def _called_on(args: tuple[Any, ...], out: Any) -> str:
    """A timed call's first argument after ``self`` (a short text; "" for none), and the
    length of what it returned when a list."""
    on = repr(args[1])[:48] if len(args) > 1 and isinstance(args[1], str | int) else ""
    return f"{on} -> {len(out)}" if isinstance(out, list) else on


class Growth:
    """What grew in the app's process over the measured window (``--growth``): the
    objects the collector tracks, counted by type, and the big containers (dicts, lists,
    sets, deques) by their length, each with what holds it; and, for what the collector
    does not track (strings, bytes, numbers), the lines of code whose allocations made
    during the window are still alive at its end, by size (``tracemalloc``: it slows
    every allocation, so the run's other figures are not the bench's)."""

    BIG = 1_000  # the containers followed: at least this long at the end

    def __init__(self) -> None:
        import gc
        import tracemalloc

        gc.collect()
        objs = gc.get_objects()
        self.types = collections.Counter(type(o).__qualname__ for o in objs)
        self.lens = {id(o): len(o) for o in objs if type(o) in _SIZED}
        self.blocks = sys.getallocatedblocks()
        # from here: only what the window allocates is traced (unless tracing was on
        # already: PYTHONTRACEMALLOC; then it is left on, and counts from before)
        self.tracing = not tracemalloc.is_tracing()
        if self.tracing:
            tracemalloc.start(1)

    def report(self, top: int = 15) -> list[str]:
        import gc

        gc.collect()
        objs = gc.get_objects()
        types = collections.Counter(type(o).__qualname__ for o in objs)
        lines = [f"allocated blocks: {self.blocks:,} -> {sys.getallocatedblocks():,}"]
        lines.append(
            "objects by type, grown most: "
            + ", ".join(f"{t} +{n:,}" for t, n in (types - self.types).most_common(top))
        )
        grew = [
            (len(o) - self.lens.get(id(o), 0), o)
            for o in objs
            if type(o) in _SIZED and len(o) >= self.BIG
        ]
        grew.sort(key=lambda g: -g[0])
        for n, o in grew[:top]:
            if n <= 0:
                break
            holders = [
                type(h).__qualname__ + ("." + k if isinstance(h, dict) else "")
                for h in gc.get_referrers(o)
                if h is not objs and h is not grew
                for k in (
                    [next((k for k, v in h.items() if v is o), "?")]
                    if isinstance(h, dict)
                    else [""]
                )
            ][:3]
            lines.append(f"  {type(o).__qualname__} len {len(o):,} (+{n:,}) held by {holders}")
        lines += self._traced(top)
        return lines

    def _traced(self, top: int) -> list[str]:
        """The lines whose allocations in the window are still alive, the largest first."""
        import tracemalloc

        if not tracemalloc.is_tracing():
            return []
        stats = tracemalloc.take_snapshot().statistics("lineno")
        if self.tracing:
            tracemalloc.stop()
        total = sum(st.size for st in stats)
        lines = [
            f"allocated in the window and alive at its end: {total / 2**20:,.1f} MiB, by line:"
        ]
        for st in stats[:top]:
            where = f"{st.traceback[0].filename}:{st.traceback[0].lineno}"
            lines.append(f"  {st.size / 2**20:8.2f} MiB {st.count:>9,} blocks  {where}")
        return lines


# the container types followed (by exact type: a weak proxy's isinstance may raise)
_SIZED = frozenset(
    {dict, list, set, collections.deque, collections.OrderedDict, collections.defaultdict}
)


class LoopHolds:
    """Times every step the event loop runs (``asyncio.Handle._run``: a callback, or a
    task's step), in wall time and in this thread's CPU time, while installed; the
    holds' distribution and the longest by what ran them (a task's coroutine, or a
    callback's name)."""

    def __init__(self, sample_after_s: float = 0.0) -> None:
        # a step still running after ``sample_after_s``: its stack sampled every 5 ms by a
        # thread of its own (what the long holds were doing, not only what ran them)
        self.sample_after_s = sample_after_s
        self.samples: collections.Counter[str] = collections.Counter()
        self._step: list[float] = [0.0]  # when the running step began (0: none)
        self._sampling = False
        self.cpu: list[float] = []
        self.wall: list[float] = []
        self.worst: dict[str, float] = {}  # name -> the longest CPU hold (s)
        # name -> where its longest hold (over 20 ms) ended: the innermost frames of the
        # task's coroutine, suspended at its next await (the step's own code is above it)
        self.where: dict[str, str] = {}
        self._orig: Any = None
        # the garbage collector's passes (gc.callbacks), CPU s per generation
        self.gc_cpu: tuple[list[float], list[float], list[float]] = ([], [], [])
        self._gc_start = 0.0
        # the steps of 1 ms or more (wall): (began, wall s, CPU s, name), and the garbage
        # passes (began, wall s, "gc N"): what a slow key press waited behind (waited_for)
        self.steps: list[tuple[float, float, float, str]] = []
        self._gc_wall = 0.0

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start, self._gc_wall = time.thread_time(), time.perf_counter()
        else:
            c = time.thread_time() - self._gc_start
            self.gc_cpu[info["generation"]].append(c)
            w = time.perf_counter() - self._gc_wall
            self.steps.append((self._gc_wall, w, c, f"(gc {info['generation']})"))

    @staticmethod
    def _name(cb: object) -> str:
        """A step's name, from the callback its handle held when it began (a handle that
        cancels itself as it runs, asyncio.timeout's, holds None after)."""
        owner = getattr(cb, "__self__", None)
        if isinstance(owner, asyncio.Task):
            coro = owner.get_coro()
            name = f"task {getattr(coro, '__qualname__', owner.get_name())}"
            # a Textual timer or worker: which one (its own name)
            frame = getattr(coro, "cr_frame", None)
            this = frame.f_locals.get("self") if frame is not None else None
            label = getattr(this, "name", None)
            return f"{name}[{label}]" if isinstance(label, str) and label else name
        return str(getattr(cb, "__qualname__", cb))

    @staticmethod
    def _suspended_at(cb: object) -> str:
        owner = getattr(cb, "__self__", None)
        if not isinstance(owner, asyncio.Task):
            return ""
        places: list[str] = []
        coro: Any = owner.get_coro()
        while coro is not None and len(places) < 12:
            frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
            if frame is None:
                break
            code = frame.f_code
            places.append(f"{Path(code.co_filename).name}:{frame.f_lineno} {code.co_name}")
            coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        return " > ".join(places[-4:])

    def __enter__(self) -> LoopHolds:
        self._orig = orig = asyncio.Handle._run
        cpu, wall, worst, name, where = self.cpu, self.wall, self.worst, self._name, self.where
        steps = self.steps
        thread_time, perf = time.thread_time, time.perf_counter

        step = self._step

        def run(h: asyncio.Handle) -> None:
            cb = h._callback  # type: ignore[attr-defined]  # (a handle may cancel itself)
            c0, w0 = thread_time(), perf()
            step[0] = w0
            orig(h)
            step[0] = 0.0
            c, w = thread_time() - c0, perf() - w0
            cpu.append(c)
            wall.append(w)
            if w > 0.001:
                steps.append((w0, w, c, name(cb)))
            if c > 0.005:
                n = name(cb)
                if c > worst.get(n, 0.0):
                    worst[n] = c
                    if c > 0.020:  # where the step ended (a long one's next await)
                        where[n] = self._suspended_at(cb)

        asyncio.Handle._run = run  # type: ignore[method-assign,assignment]
        gc.callbacks.append(self._on_gc)
        if self.sample_after_s > 0:
            self._sampling = True
            threading.Thread(
                target=self._sample, args=(threading.get_ident(),), name="holds", daemon=True
            ).start()
        return self

    def _sample(self, main: int) -> None:
        """Every 5 ms: the loop thread's stack when its step has run past
        ``sample_after_s`` (frames of this project's code, innermost first)."""
        root = str(Path(__file__).resolve().parent.parent)
        while self._sampling:
            time.sleep(0.005)
            began = self._step[0]
            if not began or time.perf_counter() - began < self.sample_after_s:
                continue
            frame = sys._current_frames().get(main)
            places: list[str] = []
            while frame is not None:
                name = frame.f_code.co_filename
                if name.startswith(root) and "/bench/" not in name:
                    places.append(f"{Path(name).name}:{frame.f_code.co_name}")
                elif not places and "textual" in name:  # (Textual's own, innermost)
                    places.append(f"textual/{Path(name).name}:{frame.f_code.co_name}")
                frame = frame.f_back
            self.samples[" < ".join(places[:6])] += 1

    def __exit__(self, *exc: object) -> None:
        self._sampling = False
        asyncio.Handle._run = self._orig  # type: ignore[method-assign]
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_gc)

    def waited_for(self, presses: Sequence[tuple[float, float]], n: int = 3) -> list[str]:
        """For the ``n`` slowest ``presses`` ((pressed at, latency) in perf_counter s):
        the steps of 1 ms or more that ran while each waited, CPU ms summed by what ran
        them, and their wall time against the wait (the rest: steps under 1 ms, the
        loop's own select, other threads holding the GIL)."""
        out = []
        for k0, lat in sorted(presses, key=lambda p: -p[1])[:n]:
            within = [s for s in self.steps if k0 <= s[0] < k0 + lat]
            by: dict[str, float] = {}
            for _b, _w, c, nm in within:
                by[nm] = by.get(nm, 0.0) + c
            most = sorted(by.items(), key=lambda kv: -kv[1])[:6]
            top = ", ".join(f"{nm} {1e3 * c:.0f}" for nm, c in most)
            out.append(
                f"  {1e3 * lat:.0f} ms: {len(within)} steps of 1 ms+, "
                f"{1e3 * sum(w for _b, w, _c, _n in within):.0f} ms wall; CPU ms: {top}"
            )
        return out

    def summary(self) -> dict[str, Any]:
        top = sorted(self.worst.items(), key=lambda kv: -kv[1])[:8]
        return {
            "loop_steps": len(self.cpu),
            "hold_cpu_p99_ms": 1e3 * _nearest_rank(self.cpu, 99.0) if self.cpu else 0.0,
            "hold_cpu_p999_ms": 1e3 * _nearest_rank(self.cpu, 99.9) if self.cpu else 0.0,
            "hold_cpu_max_ms": 1e3 * max(self.cpu, default=0.0),
            "hold_wall_max_ms": 1e3 * max(self.wall, default=0.0),
            "holds_over_20ms_cpu": sum(c > 0.020 for c in self.cpu),
            "longest_holds_cpu_ms": [(n, round(1e3 * c, 1)) for n, c in top],
            "longest_holds_ended_at": {n: self.where[n] for n, _c in top if n in self.where},
            # inside steps past sample_after_s: 5 ms samples of where the loop thread was
            "long_steps_sampled": self.samples.most_common(12),
            # per generation: passes, their median and longest CPU (ms), on any thread
            "gc_passes": [
                (len(g), 1e3 * statistics.median(g) if g else 0.0, 1e3 * max(g, default=0.0))
                for g in self.gc_cpu
            ],
        }


@contextlib.contextmanager
def busy_simulator(a: argparse.Namespace) -> Iterator[list[list[str]]]:
    """The busy market (``serve``) in a process of its own, with ``a``'s seed, tokens,
    pools, trades per slot, slot length and endpoints; each endpoint's ``[ws_url,
    http_url]`` while the block runs (the process ends when its stdin closes)."""
    cmd = [
        sys.executable,
        "-m",
        "bench.ui",
        "--serve",
        *("--seed", str(a.seed), "--tokens", str(a.tokens), "--pools", str(a.pools)),
        *("--trades", str(a.trades), "--slot-ms", str(a.slot_ms)),
        *("--endpoints", str(a.endpoints)),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    a.sim_pid = proc.pid  # its memory is sampled beside the app's
    try:
        assert proc.stdout is not None
        yield [proc.stdout.readline().split() for _ in range(a.endpoints)]
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=30)


def _rss_mb(pid: int | None = None) -> float:
    """This process's (or ``pid``'s) resident memory now (MB; Linux's /proc, else 0)."""
    from arbscope.heap import rss_bytes

    return (rss_bytes(pid) or 0) / 1e6


def _nearest_rank(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile of ``values`` by nearest rank (one of the values)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))
    return ordered[int(k)]


def market_args(
    ap: argparse.ArgumentParser, tokens: int = 40, pools: int = 160, endpoints: int | None = 3
) -> None:
    """The busy market's knobs (:func:`serve`'s), as every bench that serves it takes
    them: ``--seed --tokens --pools --trades --slot-ms`` and, unless ``endpoints`` is
    None, ``--endpoints``."""
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--tokens", type=int, default=tokens)
    ap.add_argument("--pools", type=int, default=pools)
    ap.add_argument("--trades", type=int, default=60, help="trades per slot")
    ap.add_argument("--slot-ms", type=float, default=40.0)
    if endpoints is not None:
        ap.add_argument(
            "--endpoints", type=int, default=endpoints, help="the simulator's endpoints"
        )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.ui", description=__doc__.split("\n")[0])
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    market_args(ap)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument(
        "--start-timeout",
        type=float,
        default=900.0,
        help="seconds the session may take to start (its snapshot) before the bench fails",
    )
    ap.add_argument(
        "--no-shadow", action="store_true", help="no Python twin mirroring the Rust ingest"
    )
    ap.add_argument(
        "--chart", choices=("price", "equity"), help="show this chart instead of the timings (c)"
    )
    ap.add_argument(
        "--sample-holds",
        dest="sample_holds_ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="sample the loop thread's stack every 5 ms inside steps past MS (off: 0)",
    )
    ap.add_argument("--record", action="store_true", help="journal it, as the dashboard does")
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument(
        "--no-trim",
        action="store_true",
        help="do not give the free heap back to the system (arbscope.heap.Trimmer), to compare",
    )
    ap.add_argument(
        "--growth",
        action="store_true",
        help="print what grew in the app's process over the window (types, big containers, "
        "and the lines whose allocations in it are still alive: tracemalloc, which slows the "
        "app, so its other figures are not the bench's)",
    )
    ap.add_argument(
        "--parts",
        action="store_true",
        help="time the parts of a turn (PARTS: rivals, execution, health, the screen ...) "
        "in this thread's CPU time",
    )
    ap.add_argument(
        "--profile",
        metavar="PATH",
        help="cProfile the app's thread over the measured window, its stats to PATH "
        "(slows the app: its figures are not the bench's)",
    )
    a = ap.parse_args(argv)
    if a.serve:
        serve(a.seed, a.tokens, a.pools, a.trades, a.slot_ms, a.endpoints)
        return 0
    with busy_simulator(a) as urls:
        r = asyncio.run(measure(urls, a))
    shadow = "no shadow" if a.no_shadow else f"shadow: {r['shadow']}"
    shown = f", the {a.chart} chart shown" if a.chart else ""
    print(
        f"# dashboard under load: {a.endpoints} endpoints, {a.pools} pools, {a.trades} trades per "
        f"{a.slot_ms:g} ms slot, {r['seconds']:.0f} s, 120x40, {shadow}{shown}"
    )
    rows = [
        ("session start (snapshot, subscriptions)", f"{r['start_s']:.0f} s", ""),
        (
            "then the start's fill (every watched account read again)",
            f"{r.get('start_fill_s', float('nan')):.0f} s",
            "the streams run meanwhile",
        ),
        ("feed messages/s (all copies)", f"{r['messages_per_s']:,.0f}", ""),
        ("pool updates/s evaluated", f"{r['pool_updates_per_s']:,.0f}", ""),
        ("redraws/s", f"{r['redraws_per_s']:.1f}", "<= 20"),
        ("chart builds/s", f"{r['chart_builds_per_s']:.1f}", "<= redraws/s"),
        (
            "key latency (space) p50 / p99 / max",
            f"{r['key_latency_p50_ms']:.0f} / "
            f"{r['key_latency_p99_ms']:.0f} / {r['key_latency_max_ms']:.0f} ms "
            f"({r['keys']} presses)",
            "<= 100 ms",
        ),
        (
            "of them to the action's run p50 / p99",
            f"{r.get('key_acted_p50_ms', float('nan')):.0f} / "
            f"{r.get('key_acted_p99_ms', float('nan')):.0f} ms",
            "the rest: the bench's own wait",
        ),
        (
            "space right behind t p50 / p99",
            f"{r['key_behind_theme_p50_ms']:.0f} / {r['key_behind_theme_p99_ms']:.0f} ms",
            "waits for t's restyle",
        ),
        (
            "theme switch (t) p50 / p99 / max",
            f"{r['theme_latency_p50_ms']:.0f} / {r['theme_latency_p99_ms']:.0f} / "
            f"{r['theme_latency_max_ms']:.0f} ms",
            "restyles every widget",
        ),
        ("CPU (process / wall)", f"{r['cpu_cores']:.2f} cores", "< 1"),
        (
            "memory (RSS) after warm-up -> end",
            f"{r['rss_mb_start']:.0f} -> {r['rss_mb_end']:.0f} MB",
            "flat",
        ),
        (
            "free heap given back (malloc_trim every 10 s)",
            f"{r['heap_released_mb']:,.0f} MB in {r['heap_trims']} calls, "
            f"the longest {r['heap_trim_longest_ms']:.1f} ms"
            if r["heap_trims"]
            else ("none yet (one every 10 s)" if r["heap_trim"] else "off (--no-trim)"),
            "",
        ),
        (
            "reconnects (all endpoints)",
            f"{r['reconnects']}: gaps re-fetched {r.get('gap_refills', 0)}, "
            f"covered by another stream {r.get('gaps_covered', 0)}",
            "",
        ),
        (
            "the simulator's RSS start -> end",
            f"{r['simulator_rss_mb_over_time'][0][1]:.0f} -> "
            f"{r['simulator_rss_mb_over_time'][-1][1]:.0f} MB",
            "bounded (its PubSub queues)",
        ),
        (
            "the simulator: CPU, a slot every",
            f"{r['simulator_cores']:.2f} cores, {r['simulator_slot_ms']:.0f} ms",
            f"its clock: {r['slot_ms']:g} ms (a saturated one stretches it)",
        ),
    ]
    rows.append(
        (
            "event loop's holds, CPU: p99 / p99.9 / max",
            f"{r['hold_cpu_p99_ms']:.1f} / {r['hold_cpu_p999_ms']:.1f} / "
            f"{r['hold_cpu_max_ms']:.0f} ms ({r['holds_over_20ms_cpu']} over 20 ms "
            f"of {r['loop_steps']:,} steps)",
            "a key waits for one",
        )
    )
    if "gc_passes" in r:  # older JSON has none
        rows.append(
            (
                "garbage collections: passes, median / max CPU ms",
                ", ".join(
                    f"gen {g} {n} ({med:.1f} / {mx:.0f})"
                    for g, (n, med, mx) in enumerate(r["gc_passes"])
                ),
                "each one a key's wait",
            )
        )
    if "gc_frozen_end" in r:
        rows.append(
            (
                "frozen at the end: objects, of them garbage",
                f"{r['gc_frozen_end']:,}, {r['gc_frozen_garbage']:,} (a pass over all: "
                f"{r['gc_whole_pass_ms']:,.0f} ms; "
                + ", ".join(f"{t} {n:,}" for t, n in r.get("gc_frozen_garbage_types", []))
                + ")",
                "survivors of full passes frozen",
            )
        )
    print("\n".join(markdown(("measure", "value", "bound"), rows)))
    print(
        "longest holds (CPU ms): " + ", ".join(f"{n} {ms:g}" for n, ms in r["longest_holds_cpu_ms"])
    )
    for n, at in r.get("longest_holds_ended_at", {}).items():
        print(f"  {n} ended at: {at}")
    if r.get("slowest_presses"):
        print("the slowest presses of space, and what the loop ran while each waited:")
        print("\n".join(r["slowest_presses"]))
    if r.get("long_steps_sampled"):
        print(f"inside the steps over {a.sample_holds_ms:g} ms, 5 ms samples (innermost first):")
        for where, n in r["long_steps_sampled"]:
            print(f"  {n:5d}  {where or '(outside the project)'}")
    if r["parts"]:
        print("a turn's parts (--parts), this thread's CPU time:")
        table = [
            (n, f"{c:,}", f"{p50:.2f}", f"{p90:.2f}", f"{mx:.2f}", f"{tot:.2f}", on)
            for n, c, p50, p90, mx, tot, on in r["parts"]
        ]
        heads = ("part", "calls", "p50 ms", "p90 ms", "max ms", "sum s", "longest on")
        print("\n".join(markdown(heads, table)))
    if len(r["rss_mb_over_time"]) > 2:
        print(
            "RSS over time: "
            + ", ".join(f"{t:.0f} s {mb:.0f} MB" for t, mb in r["rss_mb_over_time"])
        )
        print(
            "the simulator's RSS over time: "
            + ", ".join(f"{t:.0f} s {mb:.0f} MB" for t, mb in r["simulator_rss_mb_over_time"])
        )
    if a.json:
        Path(a.json).write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

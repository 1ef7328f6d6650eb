"""What-if replays and parameter sweeps: what another policy would have earned on the
same recorded market.

The journal holds every input of a session, so the market can be played again under
other settings: :func:`replay` feeds the recorded inputs (frames, accounts, ticks, fee
samples, the operator's keys) unchanged to a :class:`~arbscope.replay.ReplaySession`
whose scorer policy and fee settings are the recorded ones with some keys changed. The
keys a replay can change (:data:`WHATIF_KEYS`) are those its decisions read:
``policy.*`` (the scorer's thresholds) and ``fees.cu_limit``, ``fees.percentile``,
``fees.tip_lamports`` (what the scorer prices and the paper broker pays). The paper
broker's own settings are not configuration keys, so they are the session's.

Where the recorded settings come from: a session journals its configuration when it
starts (the ``sessions`` row's ``config``: ``policy``, the ``ScorePolicy`` fields, and
``fees``, the ``FeeSettings`` fields), which is what a plain replay scores with too. A
recording without them (from before they were journaled) replays on the defaults, and
the summary says so.

A result (:class:`WhatIf`) has the paper PnL, the attempts (fills), wins, hit rate, fees
paid, the equity curve (the broker's starting balance plus the PnL after each attempt,
from the ``fill`` events the replay emits) and its maximum drawdown, and the digest of
the derived events: the recorded settings give the recorded digest; other settings give
another one by design (the scores, hence the ``opp`` events, differ).

:func:`run_sweep` plays the cartesian grid of ``--set KEY=V1,V2`` values, each cell in a
process of its own (``ProcessPoolExecutor``, spawned), and :mod:`arbscope.equity_charts`
draws each cell's equity curve and the overview. A sweep is deterministic: each cell
depends only on the recording and its settings, and the results are put back in grid
order whatever order the processes finish in.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import itertools
import json
import multiprocessing
import os
import signal
import sys
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine_rs.records import ScorePolicy
from feeds.wire.units import format_amount
from storage.journal import JournalError, SessionInfo
from storage.recorder import JournaledEvent

from .config import ConfigError, known_key, parse, parse_value
from .execution.paper import Fill
from .ports import EventSink
from .replay import ReplaySession
from .session import DEFAULT_POLICY, FeeSettings, from_journal

# the keys whose values a replay's decisions read; each names a field of ScorePolicy
# (policy.*) or FeeSettings (fees.*) of the same name
WHATIF_KEYS: tuple[str, ...] = (
    "policy.min_profit",
    "policy.min_profit_bps",
    "policy.min_persistence",
    "policy.max_staleness_slots",
    "fees.cu_limit",
    "fees.percentile",
    "fees.tip_lamports",
)
NOT_WHATIF = "not a what-if key (a replay changes only " + ", ".join(WHATIF_KEYS) + ")"
STEP_S = 0.5  # recording seconds applied between two looks at a sweep's stop flag
EXACT = 40  # significant digits for format_amount: every decimal place of a token


class Stopped(Exception):
    """The sweep was interrupted: this cell stopped where it stood."""


# ------------------------------------------------------------------ settings
def recorded_settings(info: SessionInfo) -> tuple[ScorePolicy, FeeSettings, bool]:
    """The policy and fee settings the session was recorded with (read as the replay
    reads them), and whether the recording holds them (False: the defaults)."""
    cfg = info.config
    known = isinstance(cfg.get("policy"), dict) and isinstance(cfg.get("fees"), dict)
    return (
        from_journal(DEFAULT_POLICY, cfg.get("policy")),
        from_journal(FeeSettings(), cfg.get("fees")),
        known,
    )


def settings(policy: ScorePolicy, fees: FeeSettings) -> dict[str, Any]:
    """The what-if keys' values in ``policy`` and ``fees``, by dotted key."""
    return {
        k: getattr(policy if k.startswith("policy.") else fees, k.split(".", 1)[1])
        for k in WHATIF_KEYS
    }


def apply(
    policy: ScorePolicy, fees: FeeSettings, overrides: dict[str, Any]
) -> tuple[ScorePolicy, FeeSettings]:
    """``policy`` and ``fees`` with ``overrides`` (dotted what-if keys) applied."""
    unknown = sorted(set(overrides) - set(WHATIF_KEYS))
    if unknown:
        raise ConfigError([f"{k}: {NOT_WHATIF}" for k in unknown])
    p = {k.split(".", 1)[1]: v for k, v in overrides.items() if k.startswith("policy.")}
    f = {k.split(".", 1)[1]: v for k, v in overrides.items() if k.startswith("fees.")}
    return replace(policy, **p), replace(fees, **f)


def read_policy(path: str | Path) -> dict[str, Any]:
    """The what-if keys a policy file sets (a TOML with the config's sections and keys,
    read by the config's own parser); ConfigError naming the file, line and key of each
    problem: an unknown key, a bad value, a key a replay cannot change."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{p}: no such policy file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{p}: cannot read it ({exc})"]) from None
    cfg = parse(text, str(p))
    out: dict[str, Any] = {}
    problems = []
    for dotted, source in cfg.sources.items():
        if source == "default":
            continue
        if dotted in WHATIF_KEYS:
            out[dotted] = cfg[dotted]
        else:
            problems.append(f"{source}: {dotted}: {NOT_WHATIF}")
    if problems:
        raise ConfigError(problems)
    return out


@dataclass(frozen=True)
class Axis:
    """One ``--set KEY=V1,V2,...``: a what-if key and its values, in the order given."""

    key: str
    values: tuple[Any, ...]


def parse_set(text: str) -> Axis:
    """``KEY=V1,V2,...`` as an :class:`Axis`, each value read with the key's type and
    range; ConfigError (one line, naming the argument) otherwise."""
    where = f"--set {text}"
    key, eq, values = text.partition("=")
    key = key.strip()
    if not eq or not key:
        raise ConfigError([f"{where}: expected KEY=V1,V2,... (e.g. policy.min_profit=0,100000)"])
    try:
        known_key(key)
    except ConfigError as exc:
        raise ConfigError([f"{where}: {exc}"]) from None
    if key not in WHATIF_KEYS:
        raise ConfigError([f"{where}: {key}: {NOT_WHATIF}"])
    items = [v.strip() for v in values.split(",")]
    if items == [""]:
        raise ConfigError([f"{where}: {key}: no values (give {key}=V1,V2,...)"])
    if "" in items:
        raise ConfigError([f"{where}: {key}: an empty value in the list"])
    parsed = []
    for item in items:
        try:
            v = parse_value(key, item)
        except ConfigError as exc:
            raise ConfigError([f"{where}: {exc}"]) from None
        if v in parsed:
            raise ConfigError([f"{where}: {key}: {item} is given twice"])
        parsed.append(v)
    return Axis(key, tuple(parsed))


def grid(axes: Sequence[Axis]) -> list[dict[str, Any]]:
    """The cartesian product of the axes' values, the first axis outermost: one dict of
    dotted key -> value per cell. ConfigError when a key is given twice."""
    keys = [a.key for a in axes]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ConfigError([f"--set {k}: given twice (put every value in one --set)" for k in twice])
    return [dict(zip(keys, combo)) for combo in itertools.product(*(a.values for a in axes))]


# ------------------------------------------------------------------ results
@dataclass(frozen=True, slots=True)
class Drawdown:
    """The largest fall of an equity curve from a peak to a later trough: ``amount`` in
    base units, ``pct`` of the peak (100 when the peak is not positive); ``peak`` and
    ``trough`` are indices into the curve (both 0: it never fell)."""

    amount: int
    pct: float
    peak: int
    trough: int


def max_drawdown(equity: Sequence[int]) -> Drawdown:
    """The maximum drawdown of ``equity`` (base units, oldest first)."""
    best = Drawdown(0, 0.0, 0, 0)
    peak = 0
    for i, e in enumerate(equity):
        if e > equity[peak]:
            peak = i
        fall = equity[peak] - e
        if fall > best.amount:
            top = equity[peak]
            best = Drawdown(fall, 100.0 * fall / top if top > 0 else 100.0, peak, i)
    return best


@dataclass(frozen=True, slots=True)
class Point:
    """The equity curve after one paper attempt."""

    t_s: float  # seconds since the recording's first input
    slot: int  # the slot it filled (or failed) in
    equity: int  # base units: the starting balance plus the PnL so far
    pnl: int  # this attempt's, base units (minus its fees when it failed)
    ok: bool  # it went through


@dataclass(frozen=True)
class WhatIf:
    """One what-if replay's outcome (amounts in base units of ``base``)."""

    session: str
    settings: dict[str, Any]  # every what-if key's value in this replay
    recorded: dict[str, Any]  # the same keys as recorded (the defaults when not known)
    recorded_known: bool  # the recording holds its policy and fees
    base: str  # the paper broker's base mint ("" without one)
    symbol: str
    decimals: int | None
    initial: int  # the paper broker's starting balance
    pnl: int
    fills: int  # attempts
    wins: int
    failed: int
    fees_paid: int  # every attempt's fees converted to the base token
    fee_lamports: int  # what the fee payer spent
    drawdown: Drawdown
    curve: tuple[Point, ...]  # after each attempt (the start is ``initial`` at 0 s)
    end_s: float  # how far it played, seconds since the first input
    duration_s: float  # the recording's
    until_s: float | None  # asked to stop there
    inputs: int
    frames: int
    complete: bool  # every input of the recording was applied
    digest: str
    recorded_digest: str | None

    @property
    def changed(self) -> dict[str, tuple[Any, Any]]:
        """The keys whose value differs from the recording's: (recorded, this)."""
        return {k: (self.recorded[k], v) for k, v in self.settings.items() if self.recorded[k] != v}

    @property
    def hit_rate(self) -> float:
        """Wins per attempt (0 without attempts)."""
        return self.wins / self.fills if self.fills else 0.0

    @property
    def digest_matches(self) -> bool | None:
        """Whether the digest is the recorded one; None when they cannot be compared (cut
        short, or the recording has none: it is incomplete)."""
        if not self.complete or self.recorded_digest is None:
            return None
        return self.digest == self.recorded_digest

    def units(self, raw: int, sign: bool = False, digits: int = EXACT) -> str:
        """``raw`` base units in units of the base token, with its symbol."""
        text = format_amount(raw, self.decimals, self.symbol, digits)
        return f"+{text}" if sign and raw > 0 else text

    def to_json(self) -> dict[str, Any]:
        """The result for machines (``--json``): raw integers, units as exact strings."""
        return {
            "session": self.session,
            "settings": self.settings,
            "recorded": self.recorded,
            "recorded_known": self.recorded_known,
            "changed": {k: {"recorded": a, "now": b} for k, (a, b) in self.changed.items()},
            "base": self.base,
            "symbol": self.symbol,
            "decimals": self.decimals,
            "initial": self.initial,
            "pnl": self.pnl,
            "pnl_units": format_amount(self.pnl, self.decimals, "", EXACT),
            "fills": self.fills,
            "wins": self.wins,
            "failed": self.failed,
            "hit_rate": self.hit_rate,
            "fees_paid": self.fees_paid,
            "fee_lamports": self.fee_lamports,
            "max_drawdown": self.drawdown.amount,
            "max_drawdown_pct": self.drawdown.pct,
            "end_s": self.end_s,
            "duration_s": self.duration_s,
            "until_s": self.until_s,
            "complete": self.complete,
            "inputs": self.inputs,
            "frames": self.frames,
            "digest": self.digest,
            "recorded_digest": self.recorded_digest,
            "digest_matches": self.digest_matches,
            "curve": [[p.t_s, p.slot, p.equity, p.pnl, p.ok] for p in self.curve],
        }

    def summary(self) -> list[str]:
        """The human report of ``arbscope replay ID --headless --policy FILE``."""
        played = f"{self.end_s:.1f} of {self.duration_s:.1f} s"
        out = [
            f"what-if replay of {self.session}: {played}, {self.inputs:,} inputs, "
            f"{self.frames:,} frames"
        ]
        changed = self.changed
        if changed:
            text = ", ".join(
                f"{k}={_value(b)} (recorded {_value(a)})" for k, (a, b) in changed.items()
            )
            out.append(f"settings   {text}; the rest as recorded")
        else:
            out.append("settings   as recorded")
        if not self.recorded_known:
            out.append(
                "           (this recording holds no policy: it predates journaling it; "
                "the defaults are taken as recorded)"
            )
        out.append("           " + " ".join(f"{k}={_value(v)}" for k, v in self.settings.items()))
        if not self.base:
            out.append("paper      no base mint: nothing was traded")
        out += [
            f"PnL        {self.pnl:{'+' if self.pnl else ''},} base units = "
            f"{self.units(self.pnl, sign=True)}",
            f"fills      {self.fills:,} attempts: {self.wins:,} wins, {self.failed:,} failed, "
            f"hit rate {100 * self.hit_rate:.1f}%",
            f"fees paid  {self.fees_paid:,} base units = {self.units(self.fees_paid)} "
            f"({self.fee_lamports:,} lamports)",
            f"drawdown   {self.drawdown.amount:,} base units = {self.units(self.drawdown.amount)}, "
            f"{self.drawdown.pct:.3g}% of the peak (starting balance "
            f"{self.units(self.initial, digits=6)})",
        ]
        match = self.digest_matches
        if match is None and not self.complete:
            verdict = f"not compared: cut short at {self.end_s:.1f} s"
        elif match is None:
            verdict = "not compared: the recording is incomplete (no digest stored)"
        elif match:
            verdict = "matches the recorded one"
        elif changed:
            verdict = "differs from the recorded one (by design: the settings differ)"
        else:
            verdict = f"MISMATCH: the recorded one is {self.recorded_digest}"
        out.append(f"digest     {self.digest}  {verdict}")
        return out


def _value(v: Any) -> str:
    """A setting as shown and written: ``75`` for 75.0, but never a rounded float;
    ``unset`` for a key with no value (``fees.cu_limit`` by default)."""
    if v is None:
        return "unset"
    if isinstance(v, float):
        short = f"{v:g}"
        return short if float(short) == v else repr(v)
    return str(v)


class _FillTap:
    """The replay's sink, passed every derived event, keeping the paper fills as they
    come (the broker's own list keeps only the latest)."""

    def __init__(self, inner: EventSink) -> None:
        self.inner = inner
        self.fills: list[tuple[int, int, int, bool]] = []  # (t_ns, slot, pnl, ok)

    def emit(self, event: JournaledEvent, slot: int, t_ns: int = 0) -> None:
        self.inner.emit(event, slot, t_ns)
        if isinstance(event, Fill):
            self.fills.append((t_ns, slot, int(event.pnl), bool(event.ok)))


async def replay(
    db: str | Path | None,
    info: SessionInfo,
    overrides: dict[str, Any],
    until_s: float | None = None,
    stop: Callable[[], bool] = lambda: False,
    backend: types.ModuleType | None = None,
) -> WhatIf:
    """Replay ``info``'s recording with ``overrides`` (dotted what-if keys) applied to its
    recorded settings, headless, to its end or to ``until_s`` seconds after its first
    input. ``stop()`` is asked every :data:`STEP_S` recording seconds (:class:`Stopped`
    when it says so). JournalError: the journal cannot be read."""
    rec_policy, rec_fees, known = recorded_settings(info)
    policy, fees = apply(rec_policy, rec_fees, overrides)
    r = ReplaySession(db, info, backend, policy=policy, fee_settings=fees)
    tap = _FillTap(r.sink)
    r.session.sink = tap
    try:
        await r.start()
        if r.start_error:
            raise JournalError(r.start_error)
        await _play(r, until_s, stop)
        if r.read_error is not None:
            raise r.read_error
    finally:
        await r.stop()
    b = r.session.ev.broker
    book = r.session.tokens.registry.book
    initial = b.balance if b is not None else 0
    curve, equity = [], initial
    for t_ns, slot, pnl, ok in tap.fills:
        equity += pnl
        curve.append(Point((t_ns - r.t0_ns) / 1e9, slot, equity, pnl, ok))
    return WhatIf(
        session=info.id,
        settings=settings(policy, fees),
        recorded=settings(rec_policy, rec_fees),
        recorded_known=known,
        base=b.base if b is not None else "",
        symbol=book.symbol(b.base) if b is not None else "",
        decimals=book.decimals(b.base) if b is not None else None,
        initial=initial,
        pnl=b.pnl if b is not None else 0,
        fills=b.attempts if b is not None else 0,
        wins=b.wins if b is not None else 0,
        failed=b.failed if b is not None else 0,
        fees_paid=b.fees if b is not None else 0,
        fee_lamports=b.fee_lamports_paid if b is not None else 0,
        drawdown=max_drawdown([initial, *(p.equity for p in curve)]),
        curve=tuple(curve),
        # a step's goal may lie past the last input: the replay stood at the last one
        end_s=min(r.pos_ns / 1e9, info.duration_s) if r.ended else r.pos_ns / 1e9,
        duration_s=info.duration_s,
        until_s=until_s,
        inputs=r.applied,
        frames=r.frames_applied,
        complete=r.ended,
        digest=r.sink.digest.hexdigest(),
        recorded_digest=info.digest,
    )


async def _play(r: ReplaySession, until_s: float | None, stop: Callable[[], bool]) -> None:
    """Apply the recording's inputs in order, in steps of STEP_S recording seconds (the
    same inputs, in the same order, as the headless ``play``: only how often the stop
    flag is read depends on the step)."""
    # headless: the price panel's book is not fed, the frames go untimed and in runs
    r.shown = r.session.snapshots = r.session.ingest.timed = False
    k = 0
    while not r.ended:
        if stop():
            raise Stopped
        k += 1
        goal = k * STEP_S
        if until_s is not None and goal >= until_s:
            await r.seek_now(until_s)
            return
        await r.seek_now(goal)


# ------------------------------------------------------------------ the sweep
@dataclass(frozen=True)
class Cell:
    """One cell of a sweep's grid: ``index`` (1-based, grid order), its grid values
    (``varied``), and every override it replays with (the policy file's, then these)."""

    index: int
    varied: dict[str, Any]
    overrides: dict[str, Any]

    def label(self) -> str:
        """``min_profit=0, tip_lamports=10000`` (the chart titles and legends)."""
        return ", ".join(f"{k.split('.', 1)[1]}={_value(v)}" for k, v in self.varied.items())

    def stem(self, width: int) -> str:
        """The cell's chart file name without its suffix."""
        parts = [f"{k.split('.', 1)[1]}-{_value(v)}" for k, v in self.varied.items()]
        return "-".join([f"cell-{self.index:0{width}d}", *parts])


@dataclass(frozen=True)
class _Job:
    db: str | None
    info: SessionInfo
    cell: Cell
    until_s: float | None
    charts: str | None  # the directory the cell's charts go to (None: no charts)
    stem: str


_STOP: Any = None  # the sweep's stop flag, in a worker process (multiprocessing Event)


def _worker_init(stop: Any) -> None:
    """A sweep worker: Ctrl-C reaches the whole process group, but only the parent acts
    on it (it sets ``stop``; each cell then stops at its next step)."""
    global _STOP
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STOP = stop


def _stopped() -> bool:
    return _STOP is not None and bool(_STOP.is_set())


def _run_cell(job: _Job) -> tuple[WhatIf, list[str]]:
    """One cell, in a worker process: the replay, then its chart (file names)."""
    result = asyncio.run(replay(job.db, job.info, job.cell.overrides, job.until_s, _stopped))
    files: list[str] = []
    if job.charts is not None:
        from .equity_charts import cell_chart

        files = cell_chart(result, Path(job.charts) / job.stem, job.cell.label())
    return result, files


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while the workers are spawned: they inherit it from birth, so a
    Ctrl-C then cannot kill one half-started (the initializer ignores it too)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@dataclass
class Sweep:
    """A sweep's cells and, once run, their results and chart files (grid order)."""

    session: str
    axes: list[Axis]
    cells: list[Cell]
    results: list[WhatIf] = field(default_factory=list)
    charts: list[list[str]] = field(default_factory=list)

    @property
    def best(self) -> int:
        """The index (0-based) of the cell with the highest PnL (the first of equals)."""
        return max(range(len(self.results)), key=lambda i: (self.results[i].pnl, -i))


def plan(session: str, axes: Sequence[Axis], base: dict[str, Any] | None = None) -> Sweep:
    """The grid of ``axes`` over the ``base`` overrides (a policy file's)."""
    combos = grid(axes)
    cells = [Cell(i, combo, {**(base or {}), **combo}) for i, combo in enumerate(combos, 1)]
    return Sweep(session, list(axes), cells)


def run_sweep(
    sweep: Sweep,
    db: str | None,
    info: SessionInfo,
    jobs: int,
    charts_dir: Path | None,
    until_s: float | None = None,
    progress: Callable[[int, Cell, WhatIf], None] | None = None,
) -> Sweep:
    """Play every cell of ``sweep`` in ``jobs`` processes; each draws its chart into
    ``charts_dir`` (None: no charts). ``progress(done, cell, result)`` after each. An
    interrupt (KeyboardInterrupt) or a cell's failure stops the others at their next
    step, cancels the cells not started, waits for the processes to end and re-raises."""
    width = max(2, len(str(len(sweep.cells))))
    work = [
        _Job(db, info, c, until_s, None if charts_dir is None else str(charts_dir), c.stem(width))
        for c in sweep.cells
    ]
    # spawned, not forked: a worker starts from a clean interpreter (no copy of the
    # parent's threads, event loop or open journal)
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(jobs, len(work))),
        mp_context=ctx,
        initializer=_worker_init,
        initargs=(stop,),
    )
    out: list[tuple[WhatIf, list[str]] | None] = [None] * len(work)
    try:
        with _sigint_ignored():
            futures: dict[Future[tuple[WhatIf, list[str]]], int] = {
                pool.submit(_run_cell, job): i for i, job in enumerate(work)
            }
        for done, fut in enumerate(as_completed(futures), 1):
            i = futures[fut]
            out[i] = cell = fut.result()
            if progress is not None:
                progress(done, sweep.cells[i], cell[0])
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    finished = [o for o in out if o is not None]
    assert len(finished) == len(work)  # as_completed yielded every future
    sweep.results = [r for r, _ in finished]
    sweep.charts = [files for _, files in finished]
    return sweep


# ------------------------------------------------------------------ the sweep's outputs
def columns(sweep: Sweep) -> list[str]:
    """The CSV's columns: the cell, each swept key, then the results."""
    return [
        "cell",
        *(a.key for a in sweep.axes),
        "pnl",
        "pnl_units",
        "symbol",
        "fills",
        "wins",
        "failed",
        "hit_rate",
        "fees_paid",
        "fee_lamports",
        "max_drawdown",
        "max_drawdown_pct",
        "digest",
        "best",
        "chart",
    ]


def rows(sweep: Sweep) -> list[dict[str, Any]]:
    """One CSV row per cell (grid order), every value as its text."""
    best = sweep.best
    width = max(2, len(str(len(sweep.cells))))
    out = []
    for i, (c, r) in enumerate(zip(sweep.cells, sweep.results)):
        out.append(
            {
                "cell": c.index,
                **{k: _value(v) for k, v in c.varied.items()},
                "pnl": r.pnl,
                "pnl_units": format_amount(r.pnl, r.decimals, "", EXACT),
                "symbol": r.symbol,
                "fills": r.fills,
                "wins": r.wins,
                "failed": r.failed,
                "hit_rate": f"{r.hit_rate:.6f}",
                "fees_paid": r.fees_paid,
                "fee_lamports": r.fee_lamports,
                "max_drawdown": r.drawdown.amount,
                "max_drawdown_pct": f"{r.drawdown.pct:.9g}",
                "digest": r.digest,
                "best": int(i == best),
                "chart": c.stem(width),
            }
        )
    return out


def write_csv(sweep: Sweep, path: Path) -> Path:
    """The sweep's table as CSV at ``path``."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns(sweep), lineterminator="\n")
        w.writeheader()
        w.writerows(rows(sweep))
    return path


def table(sweep: Sweep) -> list[str]:
    """The sweep as a text table, the best cell marked ``*``."""
    r0 = sweep.results[0]
    sym = r0.symbol or "raw"
    head = [
        "",
        "cell",
        *(a.key for a in sweep.axes),
        f"PnL ({sym})",
        "fills",
        "wins",
        "hit rate",
        f"fees ({sym})",
        f"max drawdown ({sym})",
        "max dd %",
    ]
    best = sweep.best
    body = []
    for i, (c, r) in enumerate(zip(sweep.cells, sweep.results)):
        body.append(
            [
                "*" if i == best else "",
                str(c.index),
                *(_value(v) for v in c.varied.values()),
                r.units(r.pnl, sign=True, digits=6).removesuffix(f" {r.symbol}"),
                f"{r.fills:,}",
                f"{r.wins:,}",
                f"{100 * r.hit_rate:.1f}%",
                r.units(r.fees_paid, digits=6).removesuffix(f" {r.symbol}"),
                r.units(r.drawdown.amount, digits=6).removesuffix(f" {r.symbol}"),
                f"{r.drawdown.pct:.3g}%",
            ]
        )
    widths = [max(len(row[j]) for row in [head, *body]) for j in range(len(head))]
    # the settings and the cell number left-aligned, the numbers right
    left = {0}

    def line(row: list[str]) -> str:
        return "  ".join(
            x.ljust(w) if j in left else x.rjust(w) for j, (x, w) in enumerate(zip(row, widths))
        ).rstrip()

    return [line(head), *(line(row) for row in body), "* the highest PnL"]


def charts_available() -> str:
    """Why charts cannot be drawn ("" when matplotlib imports)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "matplotlib is not installed (pip install 'arbscope[charts]')"
    return ""


# ------------------------------------------------------------------ the commands
def _fail(error: ConfigError | JournalError | str) -> int:
    """Each problem as one ``arbscope: ...`` line on stderr; exit status 2."""
    for line in str(error).splitlines() or [""]:
        print(f"arbscope: {line}", file=sys.stderr)
    return 2


def replay_command(
    db: str | None,
    info: SessionInfo,
    policy_file: str | None,
    until_s: float | None,
    as_json: bool,
) -> int:
    """``arbscope replay ID --headless --policy FILE [--until S] [--json]``: the summary
    (or its JSON) on stdout. Exit status 0; 2 for a bad policy file or journal; 3 when the
    settings are the recorded ones and the digest is not the recorded one."""
    try:
        overrides = read_policy(policy_file) if policy_file else {}
    except ConfigError as exc:
        return _fail(exc)
    try:
        result = asyncio.run(replay(db, info, overrides, until_s))
    except JournalError as exc:
        return _fail(exc)
    if as_json:
        print(json.dumps(result.to_json()))
    else:
        print("\n".join(result.summary()))
    if result.digest_matches is False and not result.changed:
        print(
            f"arbscope: digest MISMATCH: recorded {result.recorded_digest}, replayed "
            f"{result.digest}",
            file=sys.stderr,
        )
        return 3
    return 0


def sweep_command(
    db: str | None,
    session: str,
    sets: Sequence[str],
    policy_file: str | None,
    jobs: int | None,
    out: str | None,
    until_s: float | None,
    charts: bool,
) -> int:
    """``arbscope sweep ID --set KEY=V1,V2 [...]``: the table on stdout; the CSV, the
    cells' charts and the overview in ``out`` (default ``./sweep-ID/``). Exit status 0;
    2 for a bad ``--set``, policy file or journal; 130 when interrupted."""
    from .replay import load_info

    try:
        axes = [parse_set(s) for s in sets]
        base = read_policy(policy_file) if policy_file else {}
        grid(axes)  # a key given twice is refused before the journal is opened
    except ConfigError as exc:
        return _fail(exc)
    if not axes:
        return _fail("sweep: give at least one --set KEY=V1,V2,...")
    try:
        info = asyncio.run(load_info(db, session))
    except JournalError as exc:
        return _fail(exc)
    sweep = plan(info.id, axes, base)
    n = len(sweep.cells)
    procs = max(1, min(jobs or (os.cpu_count() or 1), n))
    folder = Path(out if out is not None else f"sweep-{info.id}")
    why_not = charts_available() if charts else "--no-charts"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail(f"--out {folder}: {exc}")
    shape = " × ".join(str(len(a.values)) for a in axes)
    print(f"sweep of {info.id}: {n} cells ({shape}), {procs} processes", file=sys.stderr)

    def progress(done: int, cell: Cell, r: WhatIf) -> None:
        pnl = r.units(r.pnl, True, 6)
        print(
            f"  {done}/{n} done: cell {cell.index} ({cell.label()}): PnL {pnl}, {r.fills} fills",
            file=sys.stderr,
            flush=True,
        )

    written = "nothing written"
    try:
        run_sweep(sweep, db, info, procs, None if why_not else folder, until_s, progress)
        csv_path = write_csv(sweep, folder / "sweep.csv")
        written = f"{csv_path} written, the overview not drawn"
        print("\n".join(table(sweep)))
        print(f"wrote {csv_path}", file=sys.stderr)
        if why_not:
            print(f"no charts: {why_not}", file=sys.stderr)
            return 0
        from .equity_charts import overview_chart

        overview = overview_chart(sweep, folder / "overview")
    except KeyboardInterrupt:
        print(
            f"arbscope: sweep interrupted: its processes have stopped; {written}", file=sys.stderr
        )
        return 130
    except JournalError as exc:
        return _fail(exc)
    except BrokenProcessPool as exc:
        return _fail(f"a sweep process died: {exc}")
    print(
        f"wrote {n} equity charts (PNG and SVG) and {', '.join(overview)} in {folder}",
        file=sys.stderr,
    )
    return 0

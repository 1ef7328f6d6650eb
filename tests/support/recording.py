"""A short simulated session recorded into a journal: what the journal, replay and key
tests replay (the sockets make each recording unique, so each module records once)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from arbscope import sources
from arbscope.session import FeedSession, RecordSettings


def record(db: Path, seed: int, seconds: float) -> FeedSession:
    """Run the embedded simulator (``seed``) for ``seconds``, recording into ``db``."""

    async def go() -> FeedSession:
        s = sources.session(sources.Watch(seed=seed), record=RecordSettings(db, batch_s=0.1))
        await s.run_for(seconds, tick_s=0.1)
        return s

    return asyncio.run(go())


def recorded(folder: Path, seed: int, seconds: float) -> tuple[Path, str]:
    """A journal ``folder/j.sqlite`` holding one recorded session (:func:`record`): its
    path and the session's id (a module fixture's recording)."""
    db = folder / "j.sqlite"
    return db, record(db, seed, seconds).session_id


def recording_sim(db: Path, seed: int, sim: sources.SimSettings, fast: bool = False) -> FeedSession:
    """A session on the embedded simulator ``sim`` (the watch of ``seed``), recorded into
    ``db``; ``fast``: its turns every 50 ms (not yet started)."""
    s = sources.session(sources.Watch(seed=seed), sim=sim, record=RecordSettings(db, batch_s=0.1))
    if fast:
        s.tick_s = 0.05
        s.loop.period_ns = 50_000_000
    return s

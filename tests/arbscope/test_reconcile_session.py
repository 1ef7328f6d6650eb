"""The reconcile in a session, on the simulator: an endpoint that drops a fifth of its
account notifications (``account_drop_rate``) while the session reconciles at its default
rate. The changes it never delivered are repaired, charged to it, shown on the Feeds
panel's row and in ``/metrics``; the repairs are recorded (``RECONCILE`` inputs) and a
headless replay makes the same ones: the same digest, the same counts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from arbscope.replay import ReplaySession, load_info
from arbscope.session import FeedSession, RecordSettings
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from storage.codec import Kind
from storage.journal import Journal
from tests.support.feeds import sim_session

pytestmark = pytest.mark.slow
CFG = WorldConfig(seed=5, tokens=8, pools=16, trades_per_slot=10)


def _repaired(s: FeedSession) -> int:
    return sum(e.repaired for e in s.ingest.endpoint_stats())


def test_what_a_stream_drops_is_repaired_recorded_and_replayed(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"

    async def go() -> None:
        profiles = [EndpointProfile("lossy", latency_ms=2, jitter_ms=1, account_drop_rate=0.2)]
        async with SimServer(CFG, profiles, slot_seconds=0.05) as sim:
            s = sim_session(sim, record=RecordSettings(db, batch_s=0.1))
            await s.start()
            try:
                await asyncio.wait_for(s.run(until=lambda: _repaired(s) >= 10), timeout=180)
                s.tick()
                (row,) = s.snapshot.feeds
                pool = s.feeds.pool
                assert pool is not None and pool.reconciler is not None
                stats = pool.reconciler.stats
            finally:
                await s.stop()
        live = {e.endpoint: e.repaired for e in s.ingest.endpoint_stats()}
        assert row.repaired >= 10 and row.reconcile_requests > 0
        assert stats.differing >= live[0] >= 10
        j = await Journal.open(db, create=False, write=False)
        try:
            kinds = [i.kind async for i in j.stored_inputs(s.session_id)]
        finally:
            await j.close()
        assert kinds.count(Kind.RECONCILE) == stats.differing
        r = ReplaySession(db, await load_info(db, s.session_id))
        await r.start()
        try:
            assert await r.play(float("inf")) == s.digest
            assert {e.endpoint: e.repaired for e in r.session.ingest.endpoint_stats()} == live
        finally:
            await r.stop()

    asyncio.run(go())

"""Rivals end to end on the embedded simulator: its competitors send real signed arbitrage
transactions; the session is told of them by the logs that mention its pools (and gRPC
transaction updates), fetches their bodies, classifies them and compares them with what
it held. The recording keeps them as TRANSACTION inputs and ``rival`` events, a replay
reproduces the digest (rival events included), the export writes them as CSV and
``/metrics`` counts them. The bots are named as the simulator knows them (``sim fast``),
live and in the replay. Every wait is on a condition, with a timeout."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest

from arbscope import sources
from arbscope.metrics import families
from arbscope.replay import ReplaySession, load_info
from feeds.sim.world import WorldConfig
from storage.codec import Kind
from storage.export import export_session
from storage.journal import Journal
from tests.support.recording import recording_sim

pytestmark = pytest.mark.slow


def test_rival_arbitrage_is_seen_recorded_replayed_and_exported(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    world = WorldConfig(seed=5, tokens=8, pools=20, trades_per_slot=6, competitors=3)

    async def go() -> None:
        s = recording_sim(db, 5, sources.SimSettings(world=world, grpc=1, slot_seconds=0.1), True)
        await s.start()
        try:
            assert s.start_error == ""
            await asyncio.wait_for(
                s.run(until=lambda: s.rivals.arbitrages >= 3 and s.rivals.failed >= 1),
                timeout=120,
            )
            view = s.snapshot.rivals
            assert view is not None and view.arbitrages >= 3 and view.latest
            assert view.theirs >= 3 and view.top
            # the simulator's bots, by the names the source knows (ports.SourceMarket)
            bots = sources.simulator(s).world.competition.wallets  # type: ignore[union-attr]
            named = {wallet: f"sim {name}" for name, wallet in bots.items()}
            assert view.labels == named
            assert {r.signer for r in view.latest} <= set(named)
            assert all(t.label == named[t.signer] for t in view.top)
            fams = {m.name: m for m in families.rivals(s.view)}
            landed = sum(x.value for x in fams["arbscope_rival_arbitrages"].samples)
            assert landed >= 3
            assert {x.labels["quantile"] for x in fams["arbscope_rival_lead_slots"].samples} <= {
                "0.1",
                "0.5",
                "0.9",
            }
        finally:
            await s.stop()
        assert len(s.digest) == 64
        j = await Journal.open(db, create=False, write=False)
        try:
            kinds = [i.kind async for i in j.stored_inputs(s.session_id)]
            events = await j.events(s.session_id, ["rival"])
        finally:
            await j.close()
        assert kinds.count(Kind.TRANSACTION) >= s.rivals.seen
        assert len(events) == s.rivals.arbitrages + s.rivals.failed
        assert {e.payload["outcome"] for e in events if e.payload["landed"]} <= {
            "ours",
            "speed",
            "unseen",
        } | {o for o in s.rivals.outcomes if o.startswith("no-go: ")}
        info = await load_info(db, s.session_id)
        assert info.complete and info.digest == s.digest
        r = ReplaySession(db, info)
        await r.start()
        try:
            assert await r.play(float("inf")) == s.digest
            again = r.session.rivals
            assert (again.arbitrages, again.failed, again.outcomes) == (
                s.rivals.arbitrages,
                s.rivals.failed,
                s.rivals.outcomes,
            )
            assert again.labels == named  # journaled with the config: the replay names them
        finally:
            await r.stop()
        written = await export_session(db, s.session_id, tmp_path / "out")
        rivals_csv = [p for p in written if p.name.endswith("-rivals.csv")]
        assert len(rivals_csv) == 1
        with rivals_csv[0].open() as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == len(events)
        assert {r["signature"] for r in rows} == {e.payload["signature"] for e in events}

    asyncio.run(go())

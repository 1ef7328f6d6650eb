"""Prop AMMs end to end on the embedded simulator: its prop AMMs' oracle updates and swaps
are real transactions the session finds through the client path it uses live (PubSub:
their signatures asked for, their bodies fetched; gRPC: the transaction filter), reads
(``feeds.propamm``) and keeps per pair (``arbscope.propamm``); the Prices panel's rows carry
them and the chart has their series. The recording keeps them as TRANSACTION inputs and
the programs' table with the config: a replay shown on screen has the same prices, spreads
and lags, and a headless one the same digest.
Every wait is on a condition, with a timeout."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from arbscope import sources
from arbscope.replay import ReplaySession, load_info
from arbscope.session import FeedSession
from feeds.propamm import PROP_AMMS
from feeds.sim.world import WorldConfig
from feeds.wire.tokens import BY_SYMBOL
from storage.codec import Kind
from storage.journal import Journal
from tests.support.recording import recording_sim

pytestmark = pytest.mark.slow
SOL, USDC = BY_SYMBOL["SOL"].mint, BY_SYMBOL["USDC"].mint


def _followed(s: FeedSession) -> bool:
    p = s.props.pairs.get((SOL, USDC))
    return p is not None and p.follows >= 2 and p.oracle_updates >= 2


@pytest.mark.parametrize("grpc", [0, 1], ids=["pubsub", "grpc"])
def test_prop_amms_are_seen_shown_recorded_and_replayed(tmp_path: Path, grpc: int) -> None:
    db = tmp_path / "j.sqlite"
    world = WorldConfig(seed=63, prop_amms=True)

    async def go() -> None:
        sim = sources.SimSettings(world=world, grpc=grpc, endpoints=1, slot_seconds=0.1)
        s = recording_sim(db, 63, sim, fast=True)
        await s.start()
        try:
            assert s.start_error == ""
            sim = dict(s.feeds.market().prop_amms)
            assert set(sim.values()) == {"SimProp SOL/USDC", "SimProp SOL/USDT"}
            assert s.prop_programs == {**{p.program: p.name for p in PROP_AMMS}, **sim}
            await asyncio.wait_for(s.run(until=lambda: _followed(s)), timeout=180)
            snap = s.snapshot
            (row,) = [r for r in snap.prices if r.pair == (SOL, USDC)]
            q = row.prop
            assert q is not None and q.name == "SimProp SOL/USDC"
            assert q.spread_bps is not None and abs(q.spread_bps) < 200
            assert q.lag_median is not None and q.lag_median >= 1
            series = snap.prop_series[(SOL, USDC)]
            assert len(series.slots) >= 2 and series.name == q.name
            stats = (
                s.feeds.pool.transactions.stats
                if s.feeds.pool and s.feeds.pool.transactions
                else None
            )
            assert stats is not None
            if grpc:  # the stream's transaction filter names the programs
                assert stats.from_grpc > 0 and stats.polls == 0
            else:  # over PubSub their signatures are asked for
                assert stats.from_programs > 0 and stats.fetched > 0
        finally:
            await s.stop()
        live = s.props.quotes()
        j = await Journal.open(db, create=False, write=False)
        try:
            kinds = [i.kind async for i in j.stored_inputs(s.session_id)]
        finally:
            await j.close()
        assert kinds.count(Kind.TRANSACTION) >= sum(q.swaps for q in live.values())
        info = await load_info(db, s.session_id)
        assert info.config["prop_amms"] == s.prop_programs
        r = ReplaySession(db, info)
        await r.start()
        try:  # a replay the screen shows (its price panel fed): to the recording's end
            await r.seek_now(1e9)
            assert r.ended
            assert r.session.prop_programs == s.prop_programs
            assert r.session.props.quotes() == live
        finally:
            await r.stop()
        r = ReplaySession(db, info)
        await r.start()
        try:  # headless, the decisions alone: the same digest
            assert await r.play(float("inf")) == s.digest
        finally:
            await r.stop()

    asyncio.run(go())

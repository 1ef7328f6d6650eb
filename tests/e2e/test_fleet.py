"""Collectors and consumers over a real NATS JetStream server (issue 23).

Two collectors (regions ``eu`` and ``us``: endpoints of one simulated chain with
different latencies) publish to their streams; a consumer session applies both. The
oracle of the consumer's state is the collectors' own engines: every input they were
given reaches it, so once the chain stops and the streams are drained its pools are
the collectors' pools, record for record. The faults: a collector killed (SIGKILL, a
subprocess) and started again, the server killed and started again on its store, a
consumer that falls behind (paused while the stream's retention drops what it has not
read). Every wait has a deadline; nothing sleeps to synchronise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import StorageType, StreamConfig

from arbscope import fleet, sources
from arbscope.fleet import (
    ConnectionLog,
    FleetSettings,
    RegionFeed,
    StreamJournalReader,
    connect,
    stream_name,
)
from arbscope.market import REASON_FEEDS_STALLED
from arbscope.replay import ReplaySession
from arbscope.session import FeedSession, RecordSettings
from feeds.clients.pool import Endpoint
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from feeds.wire.universe import Universe, dump_universe
from storage.journal import Journal
from tests.support.hostile import until as polled
from tests.support.nats_server import NatsServer

pytestmark = [pytest.mark.nats, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
CFG = WorldConfig(seed=9, tokens=10, pools=24, trades_per_slot=10, slot_seconds=0.05)
# no drops: every endpoint delivers every notification (the collectors' states agree)
PROFILES = [
    EndpointProfile("eu-a", latency_ms=2, jitter_ms=0, drop_rate=0.0),
    EndpointProfile("eu-b", latency_ms=6, jitter_ms=1, drop_rate=0.0),
    EndpointProfile("us-a", latency_ms=40, jitter_ms=2, drop_rate=0.0),
]
T = 60.0  # the deadline of every wait


def collector(
    server: SimServer,
    url: str,
    region: str,
    names: set[str],
    record: RecordSettings | None = None,
) -> FeedSession:
    w = server.world
    eps = [Endpoint(i.name, i.ws_url, i.http_url) for i in server.infos() if i.name in names]
    return sources.session(
        sources.Watch(universe=w.universe(), base_mints=w.bases, seed=9),
        sources.Evaluation(shadow=False),
        endpoints=eps,
        fleet=FleetSettings(url, collect=region),
        record=record,
    )


@dataclass
class EuToADashboard:
    server: SimServer
    eu: FeedSession  # the collector of region eu
    con: FeedSession  # a session consuming eu
    feed: RegionFeed  # its consumer of eu's stream


@contextlib.asynccontextmanager
async def eu_to_a_dashboard(
    url: str, names: set[str], consumer: str
) -> AsyncIterator[EuToADashboard]:
    """The chain, region eu's collector of ``names`` and a consumer session, running;
    stopped in order after the body (the consumer's run ends), and torn down always."""
    server = SimServer(CFG, PROFILES, slot_seconds=0.05)
    await server.start()
    eu = collector(server, url, "eu", names)
    con = sources.session(
        sources.Watch(base_mints=server.world.bases),
        sources.Evaluation(shadow=False),
        sim=None,
        fleet=FleetSettings(url, regions=["eu"], consumer=consumer),
    )
    try:
        await eu.start()
        await con.start()
        runs = [asyncio.ensure_future(eu.run()), asyncio.ensure_future(con.run())]
        yield EuToADashboard(server, eu, con, con.view.regions()[0])
        await _ended(con, runs)
    finally:
        await _torn_down(eu, con, server)


async def _ended(con: Any, runs: list[asyncio.Future[Any]]) -> None:
    """The consumer stopped, then each session's run awaited (it ends with its session)."""
    await con.stop()
    for t in runs:
        await asyncio.wait_for(t, T)


async def _torn_down(eu: Any, con: Any, server: Any) -> None:
    """The collector, the consumer and the chain stopped, in that order (always)."""
    await eu.stop()
    await con.stop()
    await server.stop()


async def until(feed: RegionFeed, done: Any, timeout_s: float = T) -> None:
    try:
        await feed.wait_applied(done, timeout_s)
    except TimeoutError:
        st = {k: v for k, v in vars(feed.stats).items() if k != "latency_ns"}
        raise AssertionError(f"region {feed.region} never got there: {st}") from None


async def stream_batches(url: str, region: str) -> Counter[str]:
    """Batches per collector run in the region's stream (hellos left out), read back."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream_name(region))
        out: Counter[str] = Counter()
        for seq in range(int(info.state.first_seq or 1), int(info.state.last_seq or 0) + 1):
            m = await js.get_msg(stream_name(region), seq)
            if not (m.subject or "").endswith(".hello"):
                out[(m.headers or {})["Arbscope-Run"]] += 1
        return out
    finally:
        await nc.close()


def metrics_text(s: FeedSession) -> str:
    """The session's /metrics as a scrape would read it."""
    from prometheus_client import CollectorRegistry, generate_latest

    from arbscope.metrics import Health, SessionCollector

    reg = CollectorRegistry()
    reg.register(SessionCollector(s.view, Health(s.view)))
    return generate_latest(reg).decode()


def records(s: FeedSession) -> dict[str, Any]:
    return {a: (k, r) for a, k, r in s.ingest.records()}


def rates(s: FeedSession) -> dict[str, Any]:
    """Each pool's rate as the session's graph quotes it (its reserves: the vaults' and
    tick arrays' notifications), or why it quotes none."""
    out: dict[str, Any] = {}
    for p in records(s):
        try:
            out[p] = s.ev.graph.pool_rate(p)
        except Exception as exc:
            out[p] = type(exc).__name__
    return out


async def test_two_regions_feed_one_consumer_and_it_replays_from_the_stream(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    url = nats_server.url
    server = SimServer(CFG, PROFILES, slot_seconds=0.05)
    await server.start()
    eu = collector(server, url, "eu", {"eu-a", "eu-b"})
    us = collector(server, url, "us", {"us-a"})
    for c in (eu, us):
        await c.start()
        assert c.start_error == ""
    runs = [asyncio.ensure_future(c.run()) for c in (eu, us)]
    db = tmp_path / "j.sqlite"
    fleet = FleetSettings(url, regions=["eu", "us"], consumer="dash", journal_stream=True)
    con = sources.session(
        None, sources.Evaluation(shadow=False), sim=None, fleet=fleet, record=RecordSettings(db)
    )
    await con.start()
    assert con.start_error == "" and con.base_mints == list(server.world.bases)
    run = asyncio.ensure_future(con.run())
    feeds = {f.region: f for f in con.view.regions()}
    await until(feeds["us"], lambda: feeds["us"].stats.frames > 300)
    # the chain stops, then the collectors (each input acknowledged); the consumer has all
    await server.stop()
    for c in (eu, us):
        await c.stop()
        assert c.publisher.pending == 0
    for c, f in ((eu, feeds["eu"]), (us, feeds["us"])):
        acked = c.publisher.stats.acked
        await until(f, lambda f=f, acked=acked: f.stats.next_seq == acked)
    # the oracle: the collectors' own engines (every input they were given reached the
    # consumer; a pool's newest copy came from one region or the other: notifications
    # still in flight when the chain stopped reached one of them only)
    mine, theirs = records(con), [records(eu), records(us)]
    assert mine and set(mine) == set(theirs[0]) == set(theirs[1])
    assert all(mine[p] in (theirs[0][p], theirs[1][p]) for p in mine)
    # each endpoint's slot as its collector holds it; the consumer's chain slot is decided
    # from them by the ingest's rules: one of their votes, never beyond the highest. Of
    # the endpoints live at its last decision (each new vote is one) it is at least what
    # a strict majority reached (of two: the lower, unless the steady one leads); which
    # were live then is a matter of when each batch arrived (a region late on a busy
    # machine stops voting), so it is known only when all three still vote now: an
    # endpoint voting now voted at the last decision, and the votes have not moved since
    own = {f"{r}/{f.name}": f.slot for r, c in (("eu", eu), ("us", us)) for f in c.health.feeds()}
    rows = [f for f in con.health.feeds() if "*" not in f.name]
    assert {f.name: f.slot for f in rows} == own
    votes = sorted(own.values(), reverse=True)
    chain = con.ingest.stats().slot
    assert votes[-1] <= chain <= votes[0]
    if all(f.voting for f in rows):
        assert votes[len(votes) // 2] <= chain
    # one row per remote endpoint, one per region; the copies deduplicated across regions
    snap_feeds = {f.name: f for f in con.health.feeds()}
    assert set(snap_feeds) == {"eu/eu-a", "eu/eu-b", "us/us-a", "eu/*", "us/*"}
    assert snap_feeds["eu/*"].lead + snap_feeds["us/*"].lead == sum(
        s.first_seen for s in con.ingest.dedup_stats()
    )
    # the first copy to reach this consumer wins (its transport counts, as an endpoint's
    # network does): the other region's copies of it are duplicates
    us_a = snap_feeds["us/us-a"]
    assert us_a.lead + us_a.duplicates > 0 and us_a.messages > 0
    assert sum(f.duplicates for f in snap_feeds.values() if "*" not in f.name) > 0
    for f in feeds.values():
        st = f.stats
        assert st.gaps == st.lost == st.skipped == 0 and st.runs == 1
        assert st.latency_ms(0.5) is not None
    # the token names the collectors read (the consumer has no RPC to ask): the same book
    assert (
        eu.tokens.registry.book.tokens
        and con.tokens.registry.book.tokens == eu.tokens.registry.book.tokens
    )
    # /metrics: the publisher's side on a collector, the regions' on the consumer
    text = {c: metrics_text(c) for c in (eu, con)}
    assert (
        f'arbscope_nats_published_acked_total{{region="eu"}} {eu.publisher.stats.acked}.0'
        in (text[eu])
    )
    assert 'arbscope_nats_region_gap_batches_total{region="us"} 0.0' in text[con]
    assert (
        f'arbscope_nats_region_frames_total{{region="eu"}} {feeds["eu"].stats.frames}.0'
        in (text[con])
    )
    # every batch of each run, applied once: what the stream holds
    stored = await stream_batches(url, "eu")
    assert stored[feeds["eu"].stats.run] == feeds["eu"].stats.batches
    await con.stop()
    for t in [*runs, run]:
        await asyncio.wait_for(t, T)
    assert con.digest
    # the journal is the stream too: the same digest from SQLite and from JetStream
    async with await Journal.open(db, create=False, write=False) as j:
        info = await j.session(con.session_id)
    file_replay = ReplaySession(db, info)
    from_file = await file_replay.play()
    await file_replay.stop()  # the journal's connection closed (its thread ends)
    reader = await StreamJournalReader(url).open()
    try:
        sinfo = await reader.info(con.session_id)
    finally:
        await reader.close()
    assert sinfo.digest == con.digest and sinfo.first_ns == info.first_ns

    async def opener() -> Any:
        return await StreamJournalReader(url).open()

    replay = ReplaySession(None, sinfo, opener=opener)
    from_stream = await replay.play()
    await replay.stop()
    assert from_file == from_stream == con.digest
    assert replay.applied == info.inputs


async def test_a_collector_forwards_what_it_does_not_read_and_its_consumer_applies_it(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """A collector reads the frames it needs itself (slots, the pools' own accounts) and
    only forwards the others (vaults, tick arrays, logs without rivals: most of them),
    which its consumer applies as before. The oracle: the collector's own journal (every input its feeds
    gave it) replayed by a whole engine; the consumer's graph quotes every pool as that
    replay does, while the collector's engine read only part of what it published."""
    url = nats_server.url
    server = SimServer(CFG, PROFILES, slot_seconds=0.05)
    await server.start()
    db = tmp_path / "eu.sqlite"
    eu = collector(server, url, "eu", {"eu-a", "eu-b"}, record=RecordSettings(db))
    con = sources.session(
        sources.Watch(base_mints=server.world.bases),
        sources.Evaluation(shadow=False),
        sim=None,
        fleet=FleetSettings(url, regions=["eu"], consumer="d6"),
    )
    try:
        await eu.start()
        await con.start()
        assert eu.start_error == con.start_error == ""
        runs = [asyncio.ensure_future(eu.run()), asyncio.ensure_future(con.run())]
        feed = con.view.regions()[0]
        await until(feed, lambda: feed.stats.frames > 2000)
        await server.stop()  # the chain stops, then the collector (all acknowledged)
        await eu.stop()
        acked = eu.publisher.stats.acked
        await until(feed, lambda: feed.stats.next_seq == acked)
        published = eu.publisher.stats.frames
        read = eu.ingest.stats().frames  # the frames its own engine was given
        # slots, pool accounts and answers read; vaults, arrays, logs (about half) not
        assert feed.stats.frames == published and 0 < read < published * 3 // 4
        async with await Journal.open(db, create=False, write=False) as j:
            info = await j.session(eu.session_id)
        replay = ReplaySession(db, info)
        await replay.play()
        await replay.stop()
        whole = replay.session
        assert whole.ingest.stats().frames == published  # the journal has every frame
        mine = rates(con)
        assert mine and mine == rates(whole)
        assert sum(isinstance(r, tuple) for r in mine.values()) > len(mine) // 2
        # the collector's own graph has not read the vaults: its quotes are not these
        assert rates(eu) != mine
        await _ended(con, runs)
    finally:
        await _torn_down(eu, con, server)


async def test_a_replay_by_sequence_range_reads_only_those_chunks(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """``--seq A:B``: the chunks stored at those stream sequence numbers, no others."""
    fleet = FleetSettings(nats_server.url, journal_stream=True)
    s = sources.session(
        sources.Watch(seed=9),
        sources.Evaluation(shadow=False),
        sim=sources.SimSettings(world=CFG),
        fleet=fleet,
        record=RecordSettings(tmp_path / "j.sqlite", batch_s=0.05),
    )
    await s.run_for(1.0, tick_s=0.05)
    assert s.digest
    whole = await StreamJournalReader(nats_server.url).open()
    try:
        info = await whole.info(s.session_id)
        seqs = whole.chunk_seqs
    finally:
        await whole.close()
    assert len(seqs) > 3 and info.inputs > 0
    part = await StreamJournalReader(nats_server.url, (seqs[0], seqs[2])).open()
    try:
        pinfo = await part.info(s.session_id)
        assert part.chunk_seqs == seqs[:3] and pinfo.inputs < info.inputs
    finally:
        await part.close()


def _collect_cmd(url: str, server: SimServer, names: set[str], pools: Path) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "arbscope",
        "collect",
        "--nats",
        url,
        "--region",
        "eu",
        "--pools",
        str(pools),
        "--no-metrics",
    ]
    for i in server.infos():
        if i.name in names:
            cmd += ["--ws", i.ws_url, "--rpc", i.http_url]
    return cmd


async def test_a_collector_killed_and_restarted_loses_nothing_acknowledged(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    server = SimServer(CFG, PROFILES, slot_seconds=0.05)
    await server.start()
    pools = tmp_path / "pools.toml"
    pools.write_text(dump_universe(Universe(server.world.universe(), list(server.world.bases))))
    cmd = _collect_cmd(nats_server.url, server, {"eu-a", "eu-b"}, pools)
    env = {**os.environ, "ARBSCOPE_DB": str(tmp_path / "unused.sqlite")}
    first = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    con = sources.session(
        sources.Watch(base_mints=server.world.bases),
        sources.Evaluation(shadow=False),
        sim=None,
        fleet=FleetSettings(nats_server.url, regions=["eu"], consumer="d1"),
    )
    try:
        await con.start()
        assert con.start_error == ""
        run = asyncio.ensure_future(con.run())
        feed = con.view.regions()[0]
        await until(feed, lambda: feed.stats.frames > 200)
        run1 = feed.stats.run
        first.send_signal(signal.SIGKILL)  # no flush, no goodbye
        await asyncio.to_thread(first.wait, T)
        second = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            await until(
                feed,
                lambda: (
                    feed.stats.runs == 2
                    and feed.stats.frames > 0
                    and feed.stats.applied_by_run.get(feed.stats.run, 0) > 20
                ),
            )
            slot = con.ingest.stats().slot
            await until(feed, lambda: con.ingest.stats().slot > slot)  # the state goes on
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.to_thread(second.wait, T)
        await until(feed, lambda: feed.stats.pending == 0 and feed.stats.held == 0)
        stored = await stream_batches(nats_server.url, "eu")
        st = feed.stats
        # everything JetStream acknowledged of the killed run was applied, once
        assert st.applied_by_run[run1] == stored[run1] > 0
        assert st.applied_by_run[st.run] == stored[st.run]
        assert st.gaps == st.lost == 0 and st.runs == 2
        rows = {f.name: f for f in con.health.feeds()}
        assert rows["eu/*"].reconnects == 1  # the new run shows as the region's reconnect
        await con.stop()
        await asyncio.wait_for(run, T)
    finally:
        if first.poll() is None:
            first.kill()
        await con.stop()
        await server.stop()


async def test_the_server_killed_and_restarted_loses_nothing_acknowledged(
    nats_server: NatsServer,
) -> None:
    async with eu_to_a_dashboard(nats_server.url, {"eu-a", "eu-b"}, "d2") as p:
        server, eu, con, feed = p.server, p.eu, p.con, p.feed
        await until(feed, lambda: feed.stats.frames > 200)
        before = feed.stats.batches
        await asyncio.to_thread(nats_server.restart)  # SIGKILL; the store stays on disk
        await until(feed, lambda: feed.stats.batches > before + 50)
        await server.stop()  # the chain stops, then the collector (all acknowledged)
        await eu.stop()
        assert eu.publisher.pending == 0
        acked = eu.publisher.stats.acked
        await until(feed, lambda: feed.stats.next_seq == acked)
        st = feed.stats
        stored = await stream_batches(nats_server.url, "eu")
        # what the collector's publisher had acknowledged is in the stream once, and was
        # applied once; nothing was missed
        assert stored[st.run] == acked - 1 == st.batches
        assert st.gaps == st.lost == 0 and st.runs == 1
        assert records(con) == records(eu)


async def test_a_consumer_that_falls_behind_retention_shows_the_loss(
    nats_server: NatsServer,
) -> None:
    """The stream keeps 40 messages; a consumer paused while hundreds pass cannot get
    them back: the loss is counted (``lost``, a gap), never silent, and what is still
    there is applied."""
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(
        StreamConfig(
            name=stream_name("eu"),
            subjects=["arbscope.eu.>"],
            storage=StorageType.FILE,
            max_msgs=40,
            duplicate_window=10,
        )
    )
    await nc.close()
    async with eu_to_a_dashboard(nats_server.url, {"eu-a"}, "d3") as p:
        eu, con, feed = p.eu, p.con, p.feed
        await until(feed, lambda: feed.stats.batches > 10)
        await feed.pause()
        seen = feed.stats.last_stream_seq
        # the collector publishes on: until the stream has passed the consumer by 200
        await eu.publisher.wait_acked(lambda: eu.publisher.stats.last_stream_seq > seen + 200, T)
        feed.resume()
        await until(feed, lambda: feed.stats.lost > 0 and feed.stats.batches > 20)
        st = feed.stats
        assert st.gaps >= 1 and st.gap_batches >= st.lost - 1 > 0  # (a hello is no batch)
        row = next(f for f in con.health.feeds() if f.name == "eu/*")
        assert row.missed == st.gap_batches and "gap" in row.last_error
        await eu.stop()


async def test_a_consumer_far_behind_catches_up_and_loses_nothing(
    nats_server: NatsServer,
) -> None:
    """A consumer paused while the collector publishes thousands of batches, then
    resumed on a slow ingest (each frame costs it CPU time): it reads the backlog in
    stream order, far longer than one pull request's expiry, and applies every batch
    once: the stream's count, no gap, nothing lost, the collector's pools."""
    async with eu_to_a_dashboard(nats_server.url, {"eu-a", "eu-b"}, "d4") as p:
        server, eu, con, feed = p.server, p.eu, p.con, p.feed
        await until(feed, lambda: feed.stats.batches > 10)
        await feed.pause()
        seen = feed.stats.last_stream_seq
        # the collector publishes on: until the stream has passed the consumer by 600
        await eu.publisher.wait_acked(lambda: eu.publisher.stats.last_stream_seq > seen + 600, T)
        await server.stop()  # the chain stops, then the collector (all acknowledged)
        await eu.stop()
        fast = feed.ingest

        class Slow:  # a consumer on a busy machine: every frame costs it 0.2 ms of CPU
            def frame(self, *a: Any) -> int:
                t = time.thread_time_ns() + 200_000
                while time.thread_time_ns() < t:
                    pass
                return int(fast.frame(*a))

            def __getattr__(self, name: str) -> Any:
                return getattr(fast, name)

        feed.ingest = Slow()
        feed.resume()
        acked = eu.publisher.stats.acked
        await until(feed, lambda: feed.stats.next_seq == acked, timeout_s=4 * T)
        st = feed.stats
        stored = await stream_batches(nats_server.url, "eu")
        assert stored[st.run] == acked - 1 == st.batches
        assert st.gaps == st.lost == st.skipped == 0 and st.runs == 1
        assert records(con) == records(eu)


def test_the_nats_flags_need_a_server_and_a_valid_region(capsys: Any) -> None:
    from arbscope.cli import main

    assert main(["run", "--headless", "--region", "eu"]) == 2
    assert "--region and --journal-stream need --nats URL" in capsys.readouterr().err
    assert main(["run", "--headless", "--nats", "nats://127.0.0.1:1", "--region", "e.u"]) == 2
    assert "letters, digits, _ and - only" in capsys.readouterr().err
    assert main(["replay", "x", "--headless", "--seq", "1:2"]) == 2
    assert "--seq needs --nats URL" in capsys.readouterr().err


def test_a_dead_nats_server_is_one_clear_line_and_its_credentials_stay_hidden(
    capsys: Any, caplog: Any
) -> None:
    """No server at the URL: replay, run and collect each end in seconds with one line
    naming the server, the credentials in it redacted (never a hang, never a traceback);
    the client's own error lines are redacted too."""
    import socket

    from arbscope.cli import main
    from arbscope.logs import scrub_text

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"nats://operator:s3cret@127.0.0.1:{port}"
    assert main(["replay", "x", "--headless", "--nats", url]) == 2
    err = capsys.readouterr().err
    assert f"NATS at nats://***@127.0.0.1:{port}" in err and "s3cret" not in err
    assert "Traceback" not in err
    for argv in (
        ["run", "--headless", "--nats", url, "--region", "eu", "--no-metrics"],
        ["collect", "--nats", url, "--region", "eu", "--no-metrics"],
    ):
        assert main(argv) == 1
        out = capsys.readouterr()
        assert "NATS at nats://***@" in out.err and "s3cret" not in out.err + out.out
    assert "s3cret" not in caplog.text
    assert scrub_text(f"lost {url}: gone") == f"lost nats://***@127.0.0.1:{port}: gone"


# ------------------------------------------------------------------ outages, stopped collectors
def test_an_outage_is_one_line_then_a_summary_every_so_often_and_one_at_its_end(
    caplog: Any,
) -> None:
    """A minute of failed reconnects, one every 0.25 s (the client's pace): a line when
    it begins, a summary with the count at 30 and 60 s, a line when it ends — not a line
    per attempt (a line a second or more per client, each one the same); the
    credentials in the URL never written."""
    caplog.set_level(logging.DEBUG, logger="arbscope.fleet")
    t = [0.0]
    said = ConnectionLog("nats://op:s3cret@127.0.0.1:4222", every_s=30.0, clock=lambda: t[0])
    said.disconnected()
    for _ in range(240):
        t[0] += 0.25
        said.error(ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 4222)"))
    said.reconnected()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4 and said.lines == 4, lines
    assert "disconnected; reconnecting" in lines[0]
    assert "still unreachable after 30 s: 120 reconnects failed" in lines[1]
    assert "still unreachable after 60 s: 240 reconnects failed" in lines[2]
    assert "reconnected after 60.0 s (240 reconnects failed" in lines[3]
    assert all("nats://***@127.0.0.1:4222" in x and "s3cret" not in x for x in lines)
    # errors while connected: the first at once, then one line a period with the count
    for _ in range(10):
        t[0] += 1.0
        said.error(OSError("slow consumer"))
    t[0] += 30.0
    said.error(OSError("slow consumer"))
    assert [r.getMessage() for r in caplog.records][4:] == [
        "nats nats://***@127.0.0.1:4222: OSError: slow consumer",
        "nats nats://***@127.0.0.1:4222: OSError: slow consumer (+9 more since the last line)",
    ]


def test_a_long_error_keeps_its_end_and_no_credential(caplog: Any) -> None:
    """An error longer than a line's share (a TLS failure naming a long CA path) loses
    its middle, not its end, where it says what to do; the URL's credentials are scrubbed
    before it is cut, wherever they stand in it."""
    caplog.set_level(logging.DEBUG, logger="arbscope.fleet")
    url = "nats://op:s3cret@127.0.0.1:4222"
    said = ConnectionLog(url, every_s=30.0, clock=lambda: 0.0)
    deep = "/".join(["certificates"] * 30)
    said.error(OSError(f"{url}: certificate verify failed for /{deep}/ca.pem: check --ca-file"))
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.endswith("check --ca-file") and " … " in line
    assert "s3cret" not in line and len(line) < 300


async def test_a_real_outage_logs_its_start_and_its_end_only(
    nats_server: NatsServer, caplog: Any
) -> None:
    """The server killed: the client's reconnects fail every 0.2 s; ten of them and
    the server back — one warning, one info line."""
    caplog.set_level(logging.INFO, logger="arbscope.fleet")
    said = ConnectionLog(nats_server.url, every_s=3600.0)  # no summary, however slow the run
    nc = await connect(nats_server.url, said=said)
    try:
        await asyncio.to_thread(nats_server.stop, True)
        await eventually(lambda: said.failures >= 10)
        await asyncio.to_thread(nats_server.start)
        await eventually(lambda: said.down_since is None and nc.is_connected)
    finally:
        await nc.close()
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "arbscope.fleet"]
    assert [lvl for lvl, _ in lines] == [logging.WARNING, logging.INFO], lines
    assert "reconnected after" in lines[1][1] and said.outages == 1


async def eventually(done: Any, timeout_s: float = T) -> None:
    """Until ``done()`` holds (polled; an AssertionError after ``timeout_s``)."""
    try:
        await polled(done, timeout_s)
    except TimeoutError:
        raise AssertionError(f"never happened within {timeout_s:g} s") from None


async def test_a_collector_that_cannot_publish_says_so_on_health(
    nats_server: NatsServer,
) -> None:
    """The NATS server killed under a running collector: its ``/health`` leaves ``ok``
    and says why (it stayed ok: what it collected reached no one), unhealthy (503)
    once that has lasted the stall time, and ``ok`` again once the server is back and
    the batches it kept are acknowledged."""
    from arbscope.metrics import Health

    server = SimServer(CFG, PROFILES, slot_seconds=0.05)
    await server.start()
    eu = collector(server, nats_server.url, "eu", {"eu-a"})
    health = Health(eu.view)
    try:
        await eu.start()
        assert eu.start_error == ""
        run = asyncio.ensure_future(eu.run())
        await eventually(lambda: eu.publisher.stats.acked > 5 and health.check()["status"] == "ok")
        await asyncio.to_thread(nats_server.stop, True)
        await eventually(lambda: health.check()["status"] != "ok")
        h = health.check()
        assert h["status"] in ("degraded", "unhealthy")
        assert h["problems"][0].startswith("cannot publish to NATS (region eu) for ")
        assert "batches waiting" in h["problems"][0]
        born = eu.publisher.failing_since
        assert born is not None
        eu.publisher.clock = lambda: born + 11.0  # the outage has lasted the stall time (10 s)
        h = health.check()
        assert h["status"] == "unhealthy" and h["problems"][0].startswith(
            "cannot publish to NATS (region eu) for 11 s"
        )
        eu.publisher.clock = time.monotonic
        await asyncio.to_thread(nats_server.start)
        await eventually(lambda: health.check()["status"] == "ok")
        assert eu.publisher.failing_s() == 0.0
        await eu.stop()
        await asyncio.wait_for(run, T)
    finally:
        await eu.stop()
        await server.stop()


async def test_a_consumer_counts_a_stopped_collectors_feeds_down_and_goes_for_nothing(
    nats_server: NatsServer, monkeypatch: Any
) -> None:
    """The collector stops, the server stays: the consumer's endpoints and region are
    counted down once silent (they were counted up — "feeds 2/2 up" — while its
    ``/health`` said 503), and once no new slot has come for the stall time every
    cycle is no-go with the reason, and an order refused; a new collector run lifts
    both."""
    monkeypatch.setattr(fleet.remote, "SILENT_S", 1.0)
    url = nats_server.url
    server = SimServer(CFG, PROFILES, slot_seconds=0.05)
    await server.start()
    eu = collector(server, url, "eu", {"eu-a", "eu-b"})
    con = sources.session(
        sources.Watch(base_mints=server.world.bases),
        sources.Evaluation(shadow=False, feeds_stall_s=1.0),
        sim=None,
        fleet=FleetSettings(url, regions=["eu"], consumer="d5"),
    )
    eu2: FeedSession | None = None
    try:
        await eu.start()
        await con.start()
        assert eu.start_error == con.start_error == ""
        runs = [asyncio.ensure_future(eu.run()), asyncio.ensure_future(con.run())]

        def up() -> list[bool]:
            return [f.connected for f in con.snapshot.feeds]

        await eventually(lambda: len(up()) == 3 and all(up()) and bool(con.ev.live))
        await eu.stop()
        await asyncio.wait_for(runs[0], T)
        await eventually(lambda: not any(up()))
        await eventually(lambda: con.ev.held == REASON_FEEDS_STALLED)
        live = list(con.ev.live.items())
        assert live and all(
            not sc.go and sc.reasons[-1] == REASON_FEEDS_STALLED for _, (_, sc) in live
        )
        (base, pools), _ = live[0]
        assert con.desk.trade(base, list(pools)).startswith("no order: the feeds have stalled")
        assert "feeds 0/3 up" in _status_text(con)
        # a new collector run: the slot moves again, the reason goes
        eu2 = collector(server, url, "eu", {"eu-a", "eu-b"})
        await eu2.start()
        runs.append(asyncio.ensure_future(eu2.run()))
        await eventually(lambda: con.ev.held == "" and all(up()))
        assert all(REASON_FEEDS_STALLED not in sc.reasons for _, sc in con.ev.live.values())
        await con.stop()
        await eu2.stop()
        for t in runs[1:]:
            await asyncio.wait_for(t, T)
    finally:
        await eu.stop()
        if eu2 is not None:
            await eu2.stop()
        await con.stop()
        await server.stop()


def _status_text(s: FeedSession) -> str:
    """The status bar's line for ``s``'s snapshot, as plain text."""
    from rich.text import Text

    from tui.source import UiState
    from tui.widgets.status import StatusLine

    class Line(StatusLine):
        shown = ""

        def update(self, content: Any = "", *, layout: bool = True) -> None:
            self.shown = str(content)

    line = Line()
    line.show(s.snapshot, UiState())  # type: ignore[arg-type]
    return Text.from_markup(line.shown).plain


async def test_an_input_waits_for_no_ack_while_under_half_the_window_is_in_flight(
    nats_server: NatsServer,
) -> None:
    """At a light load an input goes at once: with the server stopped (no ack comes),
    each input added while fewer than half the window's batches are in flight goes in a
    batch of its own; from then on the inputs gather (the publisher is not even woken),
    and go in one batch when an ack brings the window below half again. Every input is
    acknowledged once the server runs again."""
    from storage.codec import Kind

    region, window = "ea", 8
    nc = await connect(nats_server.url)
    js = nc.jetstream()
    pub = fleet.Publisher(js, region, window=window, ack_timeout_s=T)
    try:
        await fleet.ensure_stream(
            js, stream_name(region), [f"arbscope.{region}.>"], fleet.Retention()
        )
        pub.hello(["a"], ["So1"], "test")
        pub.start()
        assert await pub.flush(T)
        nats_server.freeze()  # no ack from here on
        try:
            for k in range(1, window // 2 + 1):
                pub.add(Kind.FRAME, 0, b"frame %d" % k)
                await polled(lambda k=k: len(pub._inflight) == k, T)  # sent, unacked
            assert pub.stats.batches == window // 2 and not pub._buf_bytes
            pub.add(Kind.FRAME, 0, b"gathers")
            pub.add(Kind.FRAME, 0, b"gathers too")
            assert not pub._wake.is_set()  # nothing to send: the window is half full
            assert len(pub._inflight) == window // 2 and pub._buf_bytes > 0
        finally:
            nats_server.thaw()
        assert await pub.flush(T)
        assert pub.stats.frames == window // 2 + 2 and pub.stats.dropped == 0
        assert pub.stats.batches == window // 2 + 1  # the last two in one batch
    finally:
        await pub.stop()
        await nc.close()


async def test_a_flood_of_frames_arrives_in_order_in_compressed_batches(
    nats_server: NatsServer,
) -> None:
    """Frames added faster than one batch is acknowledged gather into batches of many
    (compressed), which reach the consumer in their order. The oracle: an engine given
    the same frames directly (``FeedIngest.frame``, as a worker gives them) ends in the
    same state as the consumer's, frame for frame."""
    import engine_rs
    from arbscope.inputs import encode
    from feeds.sim.server import _slot_notification
    from storage.codec import Kind

    eng = engine_rs.load("rust")

    def ingest() -> Any:
        return eng.FeedIngest(eng.PoolGraph(base_mints=["So1"], max_hops=3), 1 << 12, 8)

    n, sid = 3000, 7
    frames = [_slot_notification(sid, s).encode() for s in range(1, n + 1)]
    direct = ingest()
    direct.bind(0, sid, "slot", "slot")
    t0 = time.monotonic_ns()
    for i, f in enumerate(frames):
        direct.frame(0, f, t0 + i)
    region = "zz"
    nc = await connect(nats_server.url)
    names: dict[str, int] = {}
    mine = ingest()
    feed = RegionFeed(
        nc.jetstream(),
        region,
        mine,
        lambda name: names.setdefault(name, len(names)),
        "zz-test",
        fleet.Retention(),
        nc=nc,
    )
    pub = fleet.Publisher(nc.jetstream(), region)
    try:
        await fleet.ensure_stream(
            nc.jetstream(), stream_name(region), [f"arbscope.{region}.>"], fleet.Retention()
        )
        pub.hello(["a"], ["So1"], "test")
        pub.start()
        ep, payload, _t = encode(Kind.BIND, 0, sid, "slot", "slot")
        pub.add(Kind.BIND, ep, payload)
        for i, f in enumerate(frames):
            pub.add(Kind.FRAME, 0, f, t0 + i)
            if i % 500 == 0:
                await asyncio.sleep(0)  # the loop's turn: batches go while inputs come
        assert await pub.flush(T)
        assert pub.stats.frames == n and pub.stats.dropped == 0
        assert pub.stats.batches < n // 10  # gathered, not a batch a frame
        await feed.start()
        await until(feed, lambda: feed.stats.frames == n)
        assert (feed.stats.gaps, feed.stats.damaged, feed.stats.skipped) == (0, 0, 0)
        assert mine.stats() == direct.stats() and mine.stats().slots == n
        js = nc.jetstream()
        info = await js.stream_info(stream_name(region))
        codecs = set()
        for seq in range(int(info.state.first_seq or 1), int(info.state.last_seq or 0) + 1):
            m = await js.get_msg(stream_name(region), seq)
            if not (m.subject or "").endswith(".hello"):
                codecs.add((m.headers or {}).get("Arbscope-Codec", "none"))
        assert codecs == {"zstd"}
    finally:
        await feed.stop()
        await pub.stop()
        await nc.close()


async def test_a_publishers_batches_hold_each_input_as_the_codec_packs_it(
    nats_server: NatsServer,
) -> None:
    """The publisher writes each input into its batch in place, from any buffer it is
    given (a view into a buffer overwritten as soon as ``add`` returns, as a socket's read
    buffer is). The oracle: ``storage.codec.pack`` of the same inputs, in order, is what the
    stream's batches decompress to; a batch is cut before it passes ``max_batch_bytes``,
    and an input larger than that is a batch of its own."""
    import random

    from storage.codec import Kind, decompress, pack, unpack

    region, cap = "pk", 4096
    nc = await connect(nats_server.url)
    js = nc.jetstream()
    pub = fleet.Publisher(js, region, max_batch_bytes=cap)
    rnd = random.Random(5)
    scratch = bytearray(20_000)
    expect: list[bytes] = []
    try:
        await fleet.ensure_stream(
            js, stream_name(region), [f"arbscope.{region}.>"], fleet.Retention()
        )
        pub.hello(["a"], ["So1"], "test")
        pub.start()
        for i in range(400):
            data = rnd.randbytes(rnd.choice([0, 1, 57, 1000, cap - 27, cap, 9000]))
            kind = Kind.FRAME if i % 3 else Kind.FEES
            t = 1_000_000 + i
            scratch[: len(data)] = data
            pub.add(kind, i % 4, memoryview(scratch)[: len(data)], t)
            scratch[: len(data)] = bytes(len(data))  # the socket's buffer, read again
            wall = t + pub.offset_ns
            expect.append(pack(kind, i % 4, wall, wall // 1000, data))
            if i % 50 == 0:
                await asyncio.sleep(0)  # the loop's turn: batches go while inputs come
        assert await pub.flush(T)
        info = await js.stream_info(stream_name(region))
        batches: list[bytes] = []
        for seq in range(int(info.state.first_seq or 1), int(info.state.last_seq or 0) + 1):
            m = await js.get_msg(stream_name(region), seq)
            if (m.subject or "").endswith(".hello"):
                continue
            h = m.headers or {}
            raw = decompress(m.data or b"", h["Arbscope-Codec"], int(h["Arbscope-Raw"]))
            batches.append(raw)
            held = list(unpack(raw))
            assert len(raw) <= cap or len(held) == 1
            assert m.subject == f"arbscope.{region}." + (
                "frames" if all(x.kind is Kind.FRAME for x in held) else "state"
            )
        assert b"".join(batches) == b"".join(expect)
        assert len(batches) == pub.stats.batches > 400 * 3000 // cap // 2
    finally:
        await pub.stop()
        await nc.close()

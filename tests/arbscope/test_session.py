"""The session from socket to snapshot, the pool-universe file, and `arbscope sim`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from arbscope import sources
from arbscope.session import FeedSession
from feeds.sim.server import SimServer, default_profiles
from feeds.sim.world import WorldConfig
from feeds.wire.universe import (
    Universe,
    UniverseError,
    dump_universe,
    load_universe,
    parse_universe,
)

ROOT = Path(__file__).resolve().parents[2]
CFG = WorldConfig(seed=9, tokens=10, pools=24, trades_per_slot=10, slot_seconds=0.05)


@pytest.mark.slow
async def test_the_embedded_simulator_fills_the_snapshot() -> None:
    s = sources.session(sources.Watch(seed=9), sim=sources.SimSettings(world=CFG))
    s.tick_s, s.loop.period_ns = 0.1, 100_000_000

    def filled() -> bool:
        """Every endpoint up and covering every pool, the lead and lag measured: how long
        that takes depends on the machine (a busy one takes longer), so it is waited for."""
        snap = s.snapshot
        feeds = snap.feeds
        return bool(s.start_error) or (
            snap.note == ""
            and len(feeds) == 3
            and all(f.connected for f in feeds)
            and snap.slot > CFG.first_slot
            and feeds[0].lead > feeds[2].lead
            and (feeds[2].lag_p50_ms or 0) > 20
            and {"score_touching", "feed_ingest"} <= {t.kernel for t in snap.timings}
        )

    await s.start()
    try:
        await asyncio.wait_for(s.run(until=filled), timeout=120)
        snap = s.snapshot
    finally:
        await s.stop()
    assert s.start_error == "" and snap.note == ""
    # the 24 pools and the order books beside some of them (``Market.beside``)
    assert s.feeds.server is not None and snap.pools == len(s.feeds.server.world.pools) > 24
    assert snap.slot > CFG.first_slot
    assert len(snap.feeds) == 3 and all(f.connected for f in snap.feeds)
    # lead/lag is meaningful: the fast endpoint leads, the slow one lags the most
    fast, _, slow = snap.feeds
    assert fast.lead > slow.lead
    assert slow.lag_p50_ms is not None and slow.lag_p50_ms > 20
    assert snap.updates > 0 and snap.errors == 0 and snap.mismatches == 0
    kernels = {t.kernel for t in snap.timings}
    assert "score_touching" in kernels
    # the ingest is timed Rust-vs-Python: each backend has its own
    assert "feed_ingest" in kernels


@pytest.mark.slow
async def test_a_session_on_given_endpoints_with_a_universe(tmp_path: Path) -> None:
    async with SimServer(CFG, default_profiles(2), slot_seconds=0.05) as server:
        w = server.world
        path = tmp_path / "pools.toml"
        path.write_text(dump_universe(Universe(w.universe()[:12], w.bases)))
        uni = load_universe(path)
        from feeds.clients.pool import Endpoint

        eps = [Endpoint(i.name, i.ws_url, i.http_url) for i in server.infos()]
        s = sources.session(
            sources.Watch(universe=uni.pools, base_mints=uni.base_mints, seed=9), endpoints=eps
        )
        snap = await s.run_for(1.5, tick_s=0.1)
    assert s.start_error == "" and snap.pools == 12 and len(snap.feeds) == 2
    assert s.source.startswith("live")


async def test_a_session_started_again_starts_nothing_again(tmp_path: Path) -> None:
    """A dashboard starts the session it is handed, which its caller may have started
    already (or be starting): the session starts once. Before, the second start opened a
    second journal session, simulator, feeds and live executor, and left the first ones
    running (an armed executor among them, its threads alive to the process's end)."""
    from arbscope.execution.live import LiveConfig
    from arbscope.session import RecordSettings
    from storage.journal import Journal

    db = tmp_path / "j.sqlite"
    s = sources.session(
        sources.Watch(seed=9),
        sources.Evaluation(shadow=False),
        sim=sources.SimSettings(world=CFG, endpoints=1),
        record=RecordSettings(db),
        live=LiveConfig(keypair=str(tmp_path / "k.json"), max_trade=1, max_day=1),
    )
    try:
        await asyncio.gather(s.start(), s.start())  # one while the other runs
        first = (s.ev.executor, s.feeds.server, s.recorder, s.session_id)
        await s.start()  # and after it ended
        assert s.start_error == ""
        assert first[0] is not None and first[1] is not None and first[2] is not None
        assert (s.ev.executor, s.feeds.server, s.recorder, s.session_id) == first
    finally:
        await s.stop()
    j = await Journal.open(db, create=False, write=False)
    try:
        assert [x.id for x in await j.sessions()] == [first[3]]
    finally:
        await j.close()


async def test_an_unreachable_endpoint_is_a_note_on_screen() -> None:
    from feeds.clients.pool import Endpoint

    s = sources.session(
        sources.Watch(universe=[("11111111111111111111111111111112", "amm_v4")], seed=1),
        endpoints=[
            Endpoint("dead", "ws://127.0.0.1:9", "http://127.0.0.1:9/?api-key=0123456789abcdef0123")
        ],
    )
    await s.start()
    s.tick()
    snap = s.snapshot
    await s.stop()
    assert "feeds failed to start" in snap.note and "0123456789abcdef" not in snap.note


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("nope = [", "not TOML"),
        ("[[pool]]\naddress = 'x'\nkind = 'cpmm'\n", "pool #1.address"),
        (
            "[[pool]]\naddress = '11111111111111111111111111111112'\nkind = 'serum'\n",
            "pool #1.kind",
        ),
        (
            "colour = 1\n[[pool]]\naddress = '11111111111111111111111111111112'\nkind='cpmm'",
            "colour",
        ),
        ("base_mints = []\n", "no [[pool]]"),
        ("[[pool]]\naddress = '11111111111111111111111111111112'\nkind = 'cpmm'\n" * 2, "twice"),
    ],
)
def test_universe_errors_name_the_entry_and_key(text: str, needle: str) -> None:
    with pytest.raises(UniverseError, match=r"pools\.toml") as err:
        parse_universe(text, "pools.toml")
    assert needle in str(err.value)


@pytest.mark.slow
def test_sim_command_prints_its_urls_and_serves_until_interrupted() -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "arbscope", "sim", "--seed", "3", "--endpoints", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(4)]
        assert [u.split(":")[0] for u in lines] == ["ws", "http", "ws", "http"]
        assert all("127.0.0.1:" in u for u in lines)

        async def slot() -> int:
            from feeds.clients.rpc import RpcClient

            async with RpcClient(lines[1]) as rpc:
                return await rpc.get_slot()

        assert asyncio.run(slot()) >= WorldConfig().first_slot
    finally:
        proc.send_signal(2)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err


@pytest.mark.slow
async def test_a_session_with_nothing_to_find_says_so_on_screen() -> None:
    from feeds.clients.pool import Endpoint
    from tui.app import ArbscopeApp
    from tui.widgets.status import StatusLine

    async with SimServer(CFG, default_profiles(1), slot_seconds=0.05) as server:
        eps = [Endpoint(i.name, i.ws_url, i.http_url) for i in server.infos()]
        nowhere = [("1" * 31 + "2", "cpmm"), ("1" * 31 + "3", "whirlpool")]
        s = sources.session(
            sources.Watch(universe=nowhere, base_mints=server.world.bases, seed=9),
            sources.Evaluation(shadow=False),
            endpoints=eps,
        )
        app = ArbscopeApp(s)
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(100):
                if s.start_error:
                    break
                await pilot.pause(0.1)
            await pilot.pause(0.5)  # a redraw
            status = str(app.screen.query_one(StatusLine).render())
            await pilot.press("q")
        # a pool that is there but trades no base mint: as useless, said as plainly
        pool = server.world.pools[0]
        base = next(m for m in server.world.mints if m not in (pool.mint_a, pool.mint_b))

        async def one_tick(base_mints: list[str]) -> tuple[FeedSession, Any]:
            """A session of that one pool and ``base_mints``, one tick: the session (stopped)
            and its snapshot of that tick."""
            one = sources.session(
                sources.Watch(universe=[(pool.address, pool.kind)], base_mints=base_mints, seed=9),
                sources.Evaluation(shadow=False),
                endpoints=eps,
            )
            await one.start()
            one.tick()
            snap = one.snapshot
            await one.stop()
            return one, snap

        s2, snap2 = await one_tick([base])
        _bare, snap3 = await one_tick([])
    assert s.start_error.startswith("nothing to find: none of the 2 pools of the universe")
    assert (
        "nothing to find: none of the 2 pools" in status and "(2 not found, 0 rejected)" in status
    )
    assert s.feeds.pool is not None and not s.feeds.pool.workers  # no feeds opened for nothing
    assert s2.feeds.boot is not None and s2.feeds.boot.pools == 1
    assert snap2.note.startswith("nothing to find: no pool of the universe trades a base mint")
    assert snap3.note.startswith("nothing to find: no base mints")


@pytest.mark.slow
async def test_a_frames_decision_decides_each_pools_cycles_once_as_soon_as_they_are_evaluated(
    tmp_path: Path,
) -> None:
    """Tick to trade: a frame's decision (``FeedSession.decide``) hands each moved pool's
    live cycles to the evaluator's decisions right after that pool is evaluated — an
    order goes out before the other pools' cycles are evaluated — and each cycle once,
    at the first of its moved pools (the graph is the same for all of them)."""
    from arbscope.session import RecordSettings
    from tests.support.live import go_cycle, quiet

    s = sources.session(
        sources.Watch(max_hops=3, seed=11),
        sources.Evaluation(shadow=False),
        sim=sources.SimSettings(world=quiet(11), endpoints=1),
        record=RecordSettings(tmp_path / "j.sqlite", batch_s=0.1),
    )
    await s.start()
    try:
        opp, _ = await go_cycle(s)
        moved = list(dict.fromkeys([*opp.pools, *(p for k in s.live for p in k[1])]))[:4]
        assert len(moved) >= 2
        calls: list[tuple[str, object]] = []
        ev, ingest = s.ev, s.ingest
        evaluate, decide, take = ev.evaluate, ev.decide, ingest.take_changed

        def evaluating(pool: str, slot: int) -> list[tuple[str, tuple[str, ...]]]:
            keys = evaluate(pool, slot)
            calls.append(("evaluate", list(keys)))
            return keys

        def deciding(slot: int, now_ns: int = 0, keys: object = None) -> None:
            calls.append(("decide", list(keys)))  # type: ignore[call-overload]
            decide(slot, now_ns, keys)  # type: ignore[arg-type]

        ev.evaluate, ev.decide = evaluating, deciding  # type: ignore[method-assign]
        ingest.take_changed = lambda: moved  # type: ignore[method-assign]
        try:
            s.decide(s.clock.now_ns())
        finally:
            ev.evaluate, ev.decide, ingest.take_changed = evaluate, decide, take  # type: ignore[method-assign]
        assert [k for k, _ in calls if k == "evaluate"] == ["evaluate"] * len(moved)
        seen: set[object] = set()
        decided: list[object] = []
        for (kind, keys), nxt in zip(calls, [*calls[1:], ("end", [])], strict=True):
            if kind != "evaluate":
                continue
            fresh = [k for k in keys if k not in seen]  # type: ignore[attr-defined]
            seen.update(fresh)
            if fresh:  # decided at once, before the next pool is evaluated
                assert nxt == ("decide", fresh)
                decided += fresh
        assert decided and len(decided) == len(set(decided)) == len(seen)
    finally:
        await s.stop()

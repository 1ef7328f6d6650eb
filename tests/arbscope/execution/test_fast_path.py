"""Tick to trade (issue 38): an order built from what the session holds, with no round trip
on the way; a bundle that goes unsimulated by policy written to the block engine's socket
in the deciding call (the hot path); the day's cap kept across sessions through the
journal's day file; a frame decided on in its own call (and replayed so); a request written at once by the hot
sender and answered as the ordinary client is. Against the simulator: its chain lands
what was sent and counts what it simulated."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from arbscope.execution.live import SKIPPED_BY_POLICY
from arbscope.execution.orders import STEPS_TIMED
from feeds.clients.rpc import RpcError
from feeds.clients.sender import HotSender
from feeds.wire import instructions as I
from tests.support.live import finished, go_cycle, live_session, tick_until


def tx_steps(db: Path, seq: int) -> dict[str, dict[str, Any]]:
    """The journaled ``tx`` steps of order ``seq``, by step."""
    import sqlite3

    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT payload FROM events WHERE kind = 'tx'").fetchall()
    out: dict[str, dict[str, Any]] = {}
    for (payload,) in rows:
        p = json.loads(payload)
        if p.get("seq") == seq:
            out[p["step"]] = p
    return out


async def _armed_for_bundles(s: Any) -> Any:
    """``s`` live, sending bundles to its simulator's block engine, its hot connections
    warm (what the keeper does every second while armed), the paper broker's automatic
    orders off (one order, by hand: ``x``): its live executor."""
    assert s.feeds.server is not None
    ex = await _armed_warm(s)
    s.ev.broker.auto = False
    return ex


async def _armed_warm(s: Any) -> Any:
    """``s`` live, sending bundles to its simulator's block engine, its hot connections
    warm: its live executor."""
    assert s.ev.executor is not None
    ex = s.ev.executor
    ex.config = replace(ex.config, jito=s.feeds.endpoints[0].http)
    ok, why = await s.desk.request_live()
    assert ok, why
    await ex.keep_warm()
    return ex


@pytest.mark.slow
async def test_a_bundle_goes_out_on_the_hot_path_unsimulated_and_lands(
    keyfile: Path, tmp_path: Path
) -> None:
    """``live.simulate = plain`` with a block engine: the order is built from the session's
    state, signed with the held blockhash and written to the engine's hot connection in
    the deciding call (its ``written`` time is known when ``trade`` returns); the chain
    simulated nothing and landed the bundle; the journal says why it was not simulated and
    carries the order's tick to trade, step by step; the view says ``plain``. The thread's
    CPU clock is not read on the way (``cpu_clock`` off: a read can hand the core away)."""
    db = tmp_path / "j.sqlite"
    async with live_session(keyfile, seed=11, db=db, tip_lamports=2_000, simulate="plain") as s:
        ex = await _armed_for_bundles(s)
        assert ex.core.hot and all(h.ready for h in ex.core.hot.values())
        o, _ = await go_cycle(s)
        chain = s.feeds.server.chain
        simulated, bundles = chain.stats.simulated, chain.stats.bundles
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        order = next(x for x in ex.orders if x.seq == 1)
        assert order.path == "fast" and order.sending and "written" in order.t_ns
        assert order.t_ns["decided"] <= order.t_ns["ledger"] <= order.t_ns["written"]
        assert not ex.core.cpu_clock and order.cpu_ns == 0
        done = await finished(s, 1)
        assert done.status == "confirmed", done.detail
        assert chain.stats.simulated == simulated  # nothing was simulated on the way
        assert chain.stats.bundles == bundles + 1
        assert "hot path" in done.via
        assert ex.view().simulate == "plain" and ex.view().t2t_path == "fast"
        await s.stop()  # the journal flushed
        steps = tx_steps(db, 1)
    assert steps["simulated"]["skipped"] == SKIPPED_BY_POLICY
    timing = steps["sent"]["timing_us"]
    assert steps["sent"]["path"] == "fast" and "cpu_us" not in steps["sent"]
    assert {"decided->ledger", "ledger->built", "built->signed", "total"} <= set(timing)
    assert all(v >= 0 for v in timing.values())
    # manual: no frame behind it, so the total runs from the decision
    parts = [v for k, v in timing.items() if k != "total"]
    assert timing["total"] == pytest.approx(sum(parts), abs=1.0)


@pytest.mark.slow
async def test_a_blockhash_eighty_slots_old_is_still_held_and_its_bundle_lands(
    keyfile: Path,
) -> None:
    """A blockhash lives 150 slots: one read 80 slots ago is still the one the fast path
    signs with (an order then has 70 to land), not a reason to go the ordinary way and
    wait for a node's answer; the chain takes it (no refresh read meanwhile here)."""
    from arbscope.execution.core import BLOCKHASH_MAX_AGE_SLOTS, BLOCKHASH_REFRESH_SLOTS

    assert 80 < BLOCKHASH_MAX_AGE_SLOTS - BLOCKHASH_REFRESH_SLOTS  # (the keeper reads none)
    async with live_session(keyfile, seed=11, tip_lamports=2_000, simulate="plain") as s:
        ex = await _armed_for_bundles(s)
        o, _ = await go_cycle(s)
        ex.core.blockhashes.stop()  # (the keeper's threads, off: no newer one read meanwhile)
        ex.core.refresh_blockhash_ahead = lambda: None  # (nor the loop's background read)
        held, _last = await ex.core.latest_blockhash(force=True)
        kept = ex.core.blockhashes.held()
        assert kept is not None and kept.blockhash == held
        at = kept.slot
        server = s.feeds.server
        for _ in range(80):
            server.step()
        await tick_until(s, lambda: int(ex.core.graph().slot) >= at + 80)
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        order = next(x for x in ex.orders if x.seq == 1)
        assert order.path == "fast" and order.fallback == "" and "written" in order.t_ns
        kept = ex.core.blockhashes.held()  # signed with the one read 80 slots ago: still held
        assert kept is not None and kept.blockhash == held
        done = await finished(s, 1)
        assert done.status == "confirmed", done.detail


@pytest.mark.slow
async def test_a_cycle_the_turn_compiled_ahead_goes_out_with_nothing_compiled_and_lands(
    keyfile: Path, tmp_path: Path
) -> None:
    """A turn compiles the fast path's templates of the best live cycles ahead
    (``Prewarm.run``, ``LiveExecutor.prewarm``): the order on such a cycle then
    compiles no message template on its way (only patches: the same bytes, tested in
    ``test_templates``), tips the cycle's own tip account and lands; compiled once, a
    second prewarm compiles nothing."""
    from arbscope.execution.build import tip_account

    db = tmp_path / "j.sqlite"
    async with live_session(keyfile, seed=11, db=db, tip_lamports=2_000, simulate="plain") as s:
        ex = await _armed_for_bundles(s)
        o, _ = await go_cycle(s)
        key = (o.base_mint, tuple(o.pools))
        s.tick()  # a turn: the best live cycles compiled ahead (if no turn did yet)
        assert key in s.prewarm.warmed
        assert not ex.prewarm(s.live[key][0])  # nothing left to compile for it
        compiled = len(ex.templates.messages)
        chain = s.feeds.server.chain
        tips = {a: chain.world.lamports(a) for a in I.JITO_TIP_ACCOUNTS}
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        order = ex.orders[-1]
        assert order.path == "fast" and "written" in order.t_ns
        assert len(ex.templates.messages) == compiled  # patched, not compiled
        done = await finished(s, order.seq)
        assert done.status == "confirmed", done.detail
        paid = {a: chain.world.lamports(a) - n for a, n in tips.items()}
        assert paid[tip_account(order.pools)] == order.tip > 0
        assert sum(paid.values()) == order.tip


@pytest.mark.slow
async def test_a_plain_order_is_built_from_the_held_state_and_still_simulated(
    keyfile: Path, tmp_path: Path
) -> None:
    """Without block engines the order is simulated first (the rule for plain
    transactions) but built from what is held: no ``getMultipleAccounts`` on the way;
    with the fast path off it reads the accounts first (``fetched``), as before."""
    async with live_session(keyfile, seed=11, db=tmp_path / "j.sqlite") as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        ex = s.ev.executor
        ok, why = await s.desk.request_live()
        assert ok, why
        await ex.keep_warm()
        s.ev.broker.auto = False  # type: ignore[union-attr]
        chain = s.feeds.server.chain
        for seq, fast in ((1, True), (2, False)):
            ex.core.fast_path = fast
            o, _ = await go_cycle(s)
            simulated = chain.stats.simulated
            assert s.desk.trade(o.base_mint, list(o.pools)) == ""
            done = await finished(s, seq)
            assert done.status == "confirmed", done.detail
            assert done.path == ("fast" if fast else "fetched")
            assert chain.stats.simulated == simulated + 1
            assert done.simulated_out is not None and done.simulated_out >= done.min_out


@pytest.mark.slow
async def test_an_order_another_process_wrote_to_the_day_file_counts_against_the_cap(
    keyfile: Path, tmp_path: Path
) -> None:
    """An order of another session that is in the journal's day file but not in the
    journal (its process died before its batch was written) counts, whole, against the
    day's cap of the next order: refused, naming where the total came from; nothing is
    sent. The day file is written before an order goes on."""
    db = tmp_path / "j.sqlite"
    async with live_session(keyfile, seed=11, db=db) as s:
        assert s.ev.executor is not None
        ex = s.ev.executor
        ok, why = await s.desk.request_live()
        assert ok, why
        s.ev.broker.auto = False  # type: ignore[union-attr]
        o, _ = await go_cycle(s)
        ledger = ex.ledger
        assert ledger is not None
        dead = 7_000_000
        ledger.file.append("a-session-that-died", 1, ex.core.day, dead)  # type: ignore[attr-defined]
        ex.config = replace(ex.config, max_day=dead + o.amount_in - 1)
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        refused = await finished(s, 1)
        assert refused.status == "refused"
        assert f"{dead:,} by 1 other session in journal" in refused.detail, refused.detail
        assert ex.core.counts["sent"] == 0
        ex.config = replace(ex.config, max_day=dead + o.amount_in)  # exactly at the cap
        o, _ = await go_cycle(s)
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        done = await finished(s, 2)
        assert done.status == "confirmed", done.detail
    lines = [json.loads(x) for x in Path(f"{db}.live").read_text().splitlines()]
    assert [x["seq"] for x in lines if x["s"] != "a-session-that-died"] == [2]


@pytest.mark.slow
async def test_a_frame_that_moves_a_pool_is_decided_in_its_own_call_and_replays_the_same(
    keyfile: Path, tmp_path: Path
) -> None:
    """Trading live on its own, a frame that moves a pool is evaluated and decided on in
    the frame's call (the ingest's ``on_change``), not at the next turn: the auto order's
    latency starts at that frame, whose journaled input is followed at once by the
    ``DECIDE`` input; replaying the journal decides the same (the same digest)."""
    from arbscope.replay import ReplaySession, load_info
    from storage.codec import Kind
    from storage.delta import Restorer
    from storage.journal import Journal

    db = tmp_path / "j.sqlite"
    async with live_session(keyfile, seed=11, db=db, tip_lamports=2_000, simulate="plain") as s:
        assert s.ev.executor is not None and s.ev.broker is not None
        ex = await _armed_warm(s)
        assert s.ev.broker.auto
        s.tick()
        assert s.ingest.on_change is not None  # live, on its own: frames decide
        await go_cycle(s)
        auto = await tick_until(
            s, lambda: next((o for o in ex.orders if o.trigger == "auto" and o.frame_ns), None)
        )
        t = auto.t_ns
        assert auto.frame_ns <= t["turn"] <= t["evaluated"] <= t["decided"]
        s.desk.kill()
        await s.stop()
        sid, live_digest = s.session_id, s.digest
    kinds: list[Kind] = []
    at: list[int] = []
    restore = Restorer().restore  # large accounts are stored as deltas
    async with await Journal.open(db, create=False) as j:
        async for stored in j.stored_inputs(sid):
            inp = restore(stored)
            kinds.append(inp.kind)
            at.append(inp.t_ns)
    assert Kind.DECIDE in kinds
    frame = next(
        i
        for i, (k, t) in enumerate(zip(kinds, at, strict=True))
        if k is Kind.FRAME and t == auto.frame_ns
    )
    assert kinds[frame + 1] is Kind.DECIDE  # nothing between the frame and its decision
    r = ReplaySession(db, await load_info(db, sid), shadow=False)
    await r.start()
    try:
        assert await r.play() == live_digest
    finally:
        await r.stop()


async def test_a_paper_shadow_names_its_live_order_in_the_replay_as_it_did_live(
    keyfile: Path, tmp_path: Path
) -> None:
    """Trading live on its own until a paper shadow of a live order has filled: its fill
    (a digested event) names the live order (``live_seq``). Whether the live order went
    out is the chain's and the wallet's, which a replay does not have: the link is a
    journaled input (``LINK``), and the replay's digest equals the live one."""
    from arbscope.replay import ReplaySession, load_info

    db = tmp_path / "j.sqlite"
    async with live_session(keyfile, seed=11, db=db, tip_lamports=2_000, simulate="plain") as s:
        assert s.ev.executor is not None and s.ev.broker is not None
        ex, b = s.ev.executor, s.ev.broker
        ex.config = replace(ex.config, jito=s.feeds.endpoints[0].http)
        ok, why = await s.desk.request_live()
        assert ok, why
        await ex.keep_warm()
        s.tick()
        await go_cycle(s)
        fill = await tick_until(s, lambda: next((f for f in b.fills if f.live_seq), None))
        assert fill.live_seq in {o.seq for o in ex.orders}
        s.desk.kill()
        await s.stop()
        sid, live_digest = s.session_id, s.digest
    r = ReplaySession(db, await load_info(db, sid), shadow=False)
    await r.start()
    try:
        assert await r.play() == live_digest
        assert r.session.ev.broker is not None
        replayed = {f.seq: f.live_seq for f in r.session.ev.broker.fills}
        assert replayed[fill.seq] == fill.live_seq
    finally:
        await r.stop()


async def test_the_hot_sender_writes_at_once_and_reads_answers_as_the_client_does(
    keyfile: Path, tmp_path: Path
) -> None:
    """Against the simulator's HTTP endpoint: a request is handed to the socket in the
    ``send`` call (its time is known before any await), answered with the JSON-RPC
    ``result``; an error answer is the ordinary client's RpcError; with every
    connection busy ``send`` says so (None) rather than queueing."""
    async with live_session(keyfile, seed=12, db=tmp_path / "j.sqlite") as s:
        h = HotSender(s.feeds.endpoints[0].http, size=1)
        await h.open()
        try:
            before = time.monotonic_ns()
            sent = h.send("getSlot", [])
            assert sent is not None
            written, fut = sent
            assert before <= written <= time.monotonic_ns()
            assert h.send("getSlot", []) is None and h.busy == 1  # the one connection waits
            assert not h.ready
            assert h.not_ready().endswith("no idle connection (1 of 1 open, 1 awaiting an answer)")
            assert isinstance(await fut, int)
            assert h.ready and h.not_ready() == ""  # kept alive for the next
            sent = h.send("noSuchMethod", [])
            assert sent is not None
            with pytest.raises(RpcError, match=r"noSuchMethod at .*Method not found"):
                await sent[1]
            sent = h.send("getSlot", [])
            assert sent is not None and isinstance(await sent[1], int)
        finally:
            await h.close()


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8899", "https://user:pw@example.com:8443/api/v1/bundles?uuid=abc"],
)
@pytest.mark.parametrize("length", [0, 7, 1_664])
def test_the_hot_senders_request_head_is_the_one_h11_writes(url: str, length: int) -> None:
    """The hot sender writes a request head it rendered once (h11 is told after the
    write): byte for byte what h11 itself writes for the same request."""
    import h11

    h = HotSender(url)
    want = h11.Connection(h11.CLIENT).send(
        h11.Request(method="POST", target=h.target, headers=h.headers(length))
    )
    assert h._head + b"%d\r\n\r\n" % length == want
    assert b"user" not in want and b"pw" not in want  # credentials never go in the head


def test_the_tick_to_trade_steps_are_in_order_and_sum_to_the_total() -> None:
    from arbscope.execution.orders import LiveOrder

    o = LiveOrder(1, "auto", ("b", ("p",)), ["b", "x", "b"], ["p", "q"], ["cpmm"] * 2, 1, [1])
    o.frame_ns = 1_000
    for i, step in enumerate(STEPS_TIMED):
        o.t_ns[step] = 2_000 + 1_000 * i
    t = o.timing_us()
    assert list(t) == [
        f"{a}->{b}" for a, b in zip(("frame", *STEPS_TIMED), STEPS_TIMED, strict=False)
    ] + ["total"]
    assert t["frame->turn"] == 1.0 and t["total"] == pytest.approx(1.0 + len(STEPS_TIMED) - 1)


@pytest.mark.slow
async def test_a_frame_compiles_ahead_the_cycles_it_made_live_and_grown_tables_keep_them(
    keyfile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a frame's decision (``FeedSession.decide``) the cycles it made live are
    compiled ahead (``Prewarm.run`` over the keys it decided on), not only the turn's best:
    an order on one compiles nothing on its way (``LiveOrder.compiled`` 0, journaled).
    A message template stays while the lookup tables only grow (its indexes still load
    the same accounts) and is compiled again once one it loads from is gone. An order
    that cannot go the hot path says why (``fallback``)."""
    from solders.address_lookup_table_account import AddressLookupTableAccount
    from solders.pubkey import Pubkey

    from arbscope import sendable
    from arbscope.execution.tables import table_keys
    from arbscope.parts import decision
    from tests.support.hostile import until

    monkeypatch.setattr(decision, "PREWARM_FRAME_NS", 10**10)  # every one (a busy machine)
    db = tmp_path / "j.sqlite"
    async with live_session(keyfile, seed=11, db=db, tip_lamports=2_000, simulate="plain") as s:
        ex = await _armed_for_bundles(s)
        o, _ = await go_cycle(s)
        key = (o.base_mint, tuple(o.pools))
        s.prewarm.warmed.clear()  # nothing compiled ahead yet
        ex.templates.messages.clear()
        ex.templates.swaps.clear()
        s.ev.fit.memo.clear()  # nor sized
        ingest, take = s.ingest, s.ingest.take_changed
        ingest.take_changed = lambda: list(o.pools)  # type: ignore[method-assign]
        try:
            s.decide()  # the frame's decision: broker.auto is off, nothing is ordered
        finally:
            ingest.take_changed = take  # type: ignore[method-assign]
        assert key in s.prewarm.warmed and ex.templates.messages
        compiles = ex.templates.compiles
        ex.core.cpu_clock = True  # (opt-in: what bench.live --cpu reads)
        sized: list[list[str]] = []  # the transactions sized from here on (their hops)
        fits = sendable.TxFit.fits
        monkeypatch.setattr(
            sendable.TxFit, "fits", staticmethod(lambda k, *a: sized.append(k) or fits(k, *a))
        )
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        assert sized == []  # sized ahead too: the decision's check read the memo
        order = ex.orders[-1]
        assert order.path == "fast" and "written" in order.t_ns and not order.fallback
        assert order.compiled == 0 and ex.templates.compiles == compiles
        # the thread's CPU to the signature, one thread's: at most its wall time
        wall = order.t_ns["signed"] - order.t_ns["decided"]
        assert 0 < order.cpu_ns <= wall + 1_000_000
        done = await finished(s, order.seq)
        assert done.status == "confirmed", done.detail

        # the wallet's tables, held, then grown by appending: the template stays
        assert ex.core.tables is not None and ex.core.wallet is not None
        ixs = ex.builder.build_warm(order, 0)
        assert ixs is not None
        keys = table_keys(ixs[0], ex.core.wallet.pubkey)
        table = AddressLookupTableAccount(Pubkey.new_unique(), keys[: len(keys) // 2])
        ex.core.tables.tables = {table.key: table}
        first = ex.templates.message(ixs[0])
        compiles = ex.templates.compiles
        grown = AddressLookupTableAccount(table.key, [*keys[: len(keys) // 2], *keys[::3]])
        ex.core.tables.tables = {grown.key: grown}
        again = ex.templates.message(ixs[0])
        assert ex.templates.compiles == compiles and again.message == first.message
        assert again.tables == (grown,)
        ex.core.tables.tables = {}  # the table gone: compiled again
        assert (
            ex.templates.message(ixs[0]).message != first.message
            and ex.templates.compiles == compiles + 1
        )

        o, _ = await go_cycle(s)
        await until(lambda: all(h.ready for h in ex.core.hot.values()))  # the last one answered
        ex.core.static.pop(o.pools[0])  # not decoded: the ordinary way, which reads it
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        slow = ex.orders[-1]
        assert slow.fallback == f"pool {o.pools[0][:8]} not decoded yet"
        done = await finished(s, slow.seq)
        await s.stop()
        steps = tx_steps(db, slow.seq)
    assert steps["sent"]["fallback"] == slow.fallback
    assert steps["sent"]["compiled"] == 0


@pytest.mark.slow
async def test_arming_warms_the_fast_path_before_the_first_order(
    keyfile: Path, tmp_path: Path
) -> None:
    """Armed, the fast path already holds what its first order needs — every pool's static
    part, whether the wallet's token account of each mint exists, the block engine's hot
    connections open — so an order of the first second is not built from the node's
    accounts (``fetched``) or sent the ordinary way for want of a connection."""
    db = tmp_path / "j.sqlite"
    async with live_session(keyfile, seed=11, db=db, tip_lamports=2_000, simulate="plain") as s:
        assert s.ev.executor is not None
        ex = s.ev.executor
        ex.config = replace(ex.config, jito=s.feeds.endpoints[0].http)
        ok, why = await s.desk.request_live()  # (no keep_warm of the test's own)
        assert ok, why
        pools = [str(p) for p in ex.core.graph().pools()]
        assert pools and all(p in ex.core.static for p in pools)
        mints = {m for st in ex.core.static.values() for m in st.programs}
        assert mints <= set(ex.core.accounts)
        assert ex.core.hot and all(h.ready for h in ex.core.hot.values())

"""A rival arbitrage seen by a recording session is rebuilt by its replay: the same
``rival`` event (hops, fees, our side and our graph's state of its pools read at the same
input), the same digest, and the signers' labels the session had (journaled with its
config), so the Rivals panel of a replay is the live one's."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from arbscope import sources
from arbscope.replay import ReplaySession, load_info
from arbscope.session import FeedSession, RecordSettings
from feeds.rivals import classify
from feeds.wire import instructions as I
from feeds.wire.txview import TxView
from tests.support.hostile import until
from tests.support.rivals import WSOL, Desk

SEED = 3  # the Desk's world: the pools the embedded simulator of the same seed serves


def arbitrage() -> TxView:
    """A tipped two-hop WSOL arbitrage across two venues of the world of ``SEED``,
    signed by a bot, landed on the simulator's chain and read back as a node serves it."""
    d = Desk(SEED)
    a, b = d.pair(WSOL)
    x = d.other(a, WSOL)
    d.dislocate(a, x, 0.2)
    bot = d.wallet(tokens={WSOL: 10**12, x: 1})
    me = str(bot.pubkey())
    amount = 10**8
    ixs = d.cycle_ixs(bot, [a, b], WSOL, amount, amount)
    budget = [I.set_compute_unit_limit(400_000), I.set_compute_unit_price(5_000)]
    sig = d.send(bot, [*budget, *ixs, I.transfer(me, I.JITO_TIP_ACCOUNTS[0], 12_345)])
    d.land()
    return TxView.from_rpc_json(d.rpc(sig))


async def _until_held(s: FeedSession, pools: list[str]) -> None:
    """Poll (a condition, not a clock) until the session's graph holds ``pools``."""

    await until(lambda: all(s.observed.pool_state(p) is not None for p in pools), 60.0)


@pytest.mark.slow
async def test_a_replay_rebuilds_the_rivals_the_session_saw(tmp_path: Path) -> None:
    tx = arbitrage()
    rt = classify(tx)
    assert rt.kind == "arbitrage" and rt.tip == 12_345
    pools = [leg.pool for leg in rt.legs]
    labels = {tx.signer: "desk-bot"}
    db = tmp_path / "rivals.sqlite"
    s = sources.session(
        sources.Watch(seed=SEED, rival_labels=labels), record=RecordSettings(db, batch_s=0.1)
    )
    run = asyncio.create_task(s.run_for(4.0, tick_s=0.1))
    await _until_held(s, pools)
    s.told.on_transaction(tx)  # as the transactions' fetcher hands it over (journaled first)
    await run
    (live,) = s.rivals.latest
    assert [h.pool for h in live.hops] == pools
    # our graph held both pools when it was read: their rates and slots are in the event
    assert all(h.our_rate is not None and h.state_slot is not None for h in live.hops)
    assert s.digest

    r = ReplaySession(db, await load_info(db, s.session_id))
    await r.start()
    try:
        assert await r.play() == s.digest  # the rival event included
        (again,) = r.session.rivals.latest
        assert again.payload() == live.payload()
        view = r.session.snapshot.rivals
        assert view is not None and view.labels == labels
        assert [(t.signer, t.label, t.landed) for t in view.top] == [(tx.signer, "desk-bot", 1)]
    finally:
        await r.stop()

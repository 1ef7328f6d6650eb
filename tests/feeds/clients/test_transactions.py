"""The transaction fetcher's programs followed (the prop AMMs'): over PubSub a program's
transactions, oracle updates of one program among them, are found by asking its newest
signatures (``getSignaturesForAddress`` until the newest seen) and fetched whole; a
program that landed nothing sits out some rounds; each transaction is handed on once.
Against the simulator's node over HTTP; every wait is on a condition, with a timeout."""

from __future__ import annotations

import asyncio
from typing import Any

from feeds.clients import transactions as T
from feeds.clients.rpc import RpcClient
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from feeds.wire.txview import TxView

HUMIDIFI = "9H6tua7jkLhdm3w8BvgpTn5LZNU7g4ZynDmCiNN3q6Rp"
FAST = [EndpointProfile("a", latency_ms=1, jitter_ms=0)]
STILL = 3600.0  # the server never steps on its own: the test steps it


class Told:
    """An ingest told of nothing (the logs path is not what is tested here)."""

    def take_transactions(self) -> list[tuple[str, int, bool, int, int]]:
        return []


def ledger(srv: SimServer, programs: list[str]) -> set[str]:
    return {s for p in programs for s in srv.chain.by_address.get(p, [])}


async def test_a_followed_programs_transactions_are_polled_and_fetched_once() -> None:
    cfg = WorldConfig(seed=63, prop_amms=True, trades_per_slot=0, dislocation_rate=0.0)
    async with SimServer(cfg, FAST, slot_seconds=STILL, accept_transactions=True) as srv:
        props = sorted(srv.world.prop_amms)
        rpc = RpcClient(srv.infos()[0].http_url)
        got: list[TxView] = []
        enough = asyncio.Event()
        want: set[str] = set()

        def take(tx: TxView) -> None:
            got.append(tx)
            if want <= {t.signature for t in got}:
                enough.set()

        # the server's clock steps once as it starts (then never again): after one answer
        await rpc.call("getSlot", [])
        f = T.TransactionFetcher(
            Told(), [rpc], take, programs=[*props, HUMIDIFI], program_poll_s=0.05
        )
        for _ in range(4):
            srv.step()
        want |= ledger(srv, props)
        assert want
        assert await f.poll_programs() == len(want)
        assert f.stats.from_programs == len(want)
        assert await f.poll_programs() == 0  # until the newest seen: nothing new
        # an ask that found nothing new (HumidiFi: never anything here) sits out rounds:
        # over the next IDLE_ROUNDS + 1 rounds each program is asked once
        polls = f.stats.polls
        for _ in range(T.IDLE_ROUNDS + 1):
            await f.poll_programs()
        assert f.stats.polls == polls + len(props) + 1
        for _ in range(3):
            srv.step()
        new = ledger(srv, props) - want
        want |= new
        runner = asyncio.create_task(f.run())
        try:
            await asyncio.wait_for(enough.wait(), 30)
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
        await rpc.close()
        sigs = [t.signature for t in got]
        assert len(sigs) == len(set(sigs)) and set(sigs) == want
        assert f.stats.fetched == len(want) and f.stats.lost == 0


def test_a_followed_program_is_in_the_grpc_transaction_filter() -> None:
    from feeds.clients.pubsub import all_subscriptions
    from feeds.clients.yellowstone import subscribe_request

    subs = all_subscriptions(
        ["Acc1111111111111111111111111111111111111111"],
        ["Pool11111111111111111111111111111111111111"],
    )
    req: Any = subscribe_request(subs, follow=[HUMIDIFI])
    (flt,) = req.transactions.values()
    assert list(flt.account_include) == ["Pool11111111111111111111111111111111111111", HUMIDIFI]
    assert not flt.vote
    only: Any = subscribe_request(all_subscriptions([], []), follow=[HUMIDIFI])
    assert [list(f.account_include) for f in only.transactions.values()] == [[HUMIDIFI]]

"""Provider limits, against the real simulator over real sockets: HTTP 429 with and
without ``Retry-After``, a JSON-RPC -32429 rate-limit error, and PubSub subscription
caps answered with an error or by closing the socket. The client must back off (a bounded
number of requests reaches a rate-limited endpoint while the session goes on through the
others), count each per endpoint, and show what is uncovered where."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
import types

import pytest
from solders.pubkey import Pubkey

from feeds.clients.pool import Endpoint, FeedPool
from feeds.clients.ratelimit import RateGate, retry_after_seconds
from feeds.clients.rpc import RpcClient, RpcError
from feeds.health import FeedHealth
from feeds.sim.server import RPCPOOL_429, SUBSCRIPTION_LIMIT, EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from tests.support.feeds import QUICK as FEEDS_QUICK
from tests.support.feeds import refusing
from tests.support.hostile import until

CFG = WorldConfig(seed=5, tokens=8, pools=16, trades_per_slot=10)
QUICK = dataclasses.replace(
    FEEDS_QUICK, open_timeout_s=1.0, stale_after_s=5.0, resubscribe_s=0.2, resubscribe_max_s=60.0
)


# ------------------------------------------------------------ the client alone
@pytest.mark.parametrize(
    ("answer", "code", "after", "words"),
    [
        ("retry-after", -32429, 7.0, "rate limited"),
        ("plain", 429, None, RPCPOOL_429),
        ("jsonrpc", -32429, None, "rate limited"),
    ],
)
async def test_a_rate_limit_answer_is_an_error_that_closes_the_gate(
    answer: str, code: int, after: float | None, words: str
) -> None:
    async with SimServer(CFG, [refusing("limited", answer, retry_after_s=7)]) as server:
        url = server.infos()[0].http_url
        ep = server.endpoints[0]
        async with RpcClient(url, timeout_s=1.0) as rpc:
            with pytest.raises(RpcError) as info:
                await rpc.get_slot()
            exc = info.value
            assert exc.rate_limited and exc.code == code and exc.retry_after == after
            assert words in str(exc)
            assert rpc.gate.hits == 1 and rpc.gate.last_retry_after == after
            assert rpc.gate.remaining() > 0
            if after is not None:  # the wait asked for is over the call's timeout: unsent
                sent = ep.stats["requests"]
                with pytest.raises(RpcError, match="not sent, backing off") as again:
                    await rpc.get_slot()
                assert again.value.rate_limited and ep.stats["requests"] == sent
        assert ep.stats["rate_limited"] >= 1


async def test_other_errors_are_not_rate_limits() -> None:
    async with SimServer(CFG, [EndpointProfile("ok", latency_ms=1, jitter_ms=0)]) as server:
        async with RpcClient(server.infos()[0].http_url, timeout_s=2.0) as rpc:
            with pytest.raises(RpcError) as info:
                await rpc.call("getSlot", ["not a config"])
            assert not info.value.rate_limited and rpc.gate.hits == 0
            assert isinstance(await rpc.get_slot(), int)


def test_retry_after_and_the_backoff() -> None:
    assert retry_after_seconds("12") == 12.0 and retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    # an HTTP date (RFC 9110): seconds from now
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    g = RateGate(min_s=0.5, max_s=30.0, seed=1)
    assert g.refused(120.0) == 30.0  # Retry-After is capped
    waits = [RateGate(min_s=0.5, max_s=30.0, seed=s) for s in range(3)]
    for gate in waits:
        got = [gate.refused(None) for _ in range(8)]
        for n, w in enumerate(got, 1):  # equal jitter: within [cap/2, cap]
            cap = min(30.0, 0.5 * 2 ** (n - 1))
            assert cap / 2 <= w <= cap
        gate.answered()
        assert gate.streak == 0 and gate.refused(None) <= 0.5


# ------------------------------------------------------------ the pool
def _requests_bound(elapsed: float, min_s: float, retry_after: float | None) -> int:
    """Most requests one endpoint refusing everything can receive over ``elapsed``
    seconds from a client that backs off: with Retry-After (capped at 30 s) one per
    wait; without, waits of at least min_s * 2^(n-2), so about log2 of the time."""
    if retry_after is not None:
        return 1 + math.ceil(elapsed / min(30.0, retry_after))
    return 2 + math.ceil(math.log2(1 + 2 * elapsed / min_s))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("answer", "after"), [("retry-after", 60), ("plain", None), ("jsonrpc", None)]
)
async def test_a_refusing_endpoint_is_passed_over_and_not_stormed(
    eng: types.ModuleType, answer: str, after: int | None
) -> None:
    profiles = [
        refusing("limited", answer, retry_after_s=after or 1),
        EndpointProfile("ok", latency_ms=2, jitter_ms=1),
    ]
    fees: list[int] = []
    async with SimServer(CFG, profiles, slot_seconds=0.03) as server:
        infos = server.infos()
        eps = [Endpoint(i.name, i.ws_url, i.http_url) for i in infos]
        ing = eng.FeedIngest(eng.PoolGraph(base_mints=server.world.bases, max_hops=3))
        pool = FeedPool(
            eps,
            ing,
            eng,
            # about rate limits, not heartbeats: a pong late on a busy machine must not
            # reconnect and say so last
            dataclasses.replace(QUICK, heartbeat_s=30.0, stale_after_s=60.0),
            rpc_timeout_s=2.0,
            fee_poll_s=0.02,
            maintain_s=0.02,
            on_fees=lambda f: fees.append(len(f)),
        )
        limited = server.endpoints[0]
        t0 = time.monotonic()
        try:
            # the limited endpoint is first in the configuration: asked first, refused,
            # and the snapshot comes from the other one
            boot = await pool.bootstrap(server.world.universe())
            assert boot.endpoint == "ok" and boot.pools == len(server.world.pools)
            await pool.start(boot.subscriptions)
            await until(lambda: len(fees) >= 40, timeout=60.0)  # 40 polls answered
            elapsed = time.monotonic() - t0
            got = limited.stats["requests"]
            health = {h.name: h for h in pool.health()}
        finally:
            await pool.stop()
    # every fee poll went to the other endpoint; the limited one saw a bounded trickle
    assert got <= _requests_bound(elapsed, pool.gates[0].min_s, after), (got, elapsed)
    assert got >= 1 and limited.stats["rate_limited"] == got
    h = health["limited"]
    assert got - 1 <= h.rate_limited <= got and h.retry_after_s == after
    assert health["ok"].rate_limited == 0 and health["ok"].backoff_s == 0.0
    assert "rate limited" in h.last_error or "backing off" in h.last_error


@pytest.mark.slow
async def test_a_single_rate_limited_endpoint_is_ridden_out(eng: types.ModuleType) -> None:
    """One endpoint allowing 2 requests a second: the snapshot waits out its Retry-After
    and completes; streaming goes on; the refusals are counted."""
    profile = EndpointProfile(
        "tight",
        latency_ms=2,
        jitter_ms=1,
        rate_limit_rps=2,
        rate_limit_answer="retry-after",
        retry_after_s=1,
    )
    fees: list[int] = []
    async with SimServer(CFG, [profile], slot_seconds=0.03) as server:
        info = server.infos()[0]
        ing = eng.FeedIngest(eng.PoolGraph(base_mints=server.world.bases, max_hops=3))
        pool = FeedPool(
            [Endpoint(info.name, info.ws_url, info.http_url)],
            ing,
            eng,
            QUICK,
            rpc_timeout_s=2.0,
            fee_poll_s=0.05,
            on_fees=lambda f: fees.append(len(f)),
        )
        try:
            boot = await pool.bootstrap(server.world.universe())
            assert boot.pools == len(server.world.pools) and not boot.missing
            await pool.start(boot.subscriptions)
            await until(lambda: len(fees) >= 3 and pool.gates[0].hits >= 1, timeout=60.0)
            h, hits = pool.health()[0], pool.gates[0].hits
            refused = server.endpoints[0].stats["rate_limited"]
        finally:
            await pool.stop()
    # every refusal the client read was one the server sent (one may still be in flight)
    assert h.rate_limited == hits >= 1 and refused >= h.rate_limited
    assert h.connected and h.retry_after_s == 1.0


# ------------------------------------------------------------ subscription caps
CAP = 10


@pytest.mark.slow
async def test_capped_endpoints_leave_accounts_uncovered_and_are_not_hammered(
    eng: types.ModuleType, transport: str
) -> None:
    profiles = [
        EndpointProfile("cap-error", latency_ms=2, jitter_ms=1, max_subscriptions=CAP),
        EndpointProfile(
            "cap-close", latency_ms=2, jitter_ms=1, max_subscriptions=CAP, cap_answer="close"
        ),
        EndpointProfile("full", latency_ms=2, jitter_ms=1),
    ]
    async with SimServer(CFG, profiles, slot_seconds=0.03) as server:
        infos = server.infos()
        eps = [Endpoint(i.name, i.ws_url, i.http_url) for i in infos]
        ing = eng.FeedIngest(eng.PoolGraph(base_mints=server.world.bases, max_hops=3))
        # no maintenance round: the set of subscriptions stays the bootstrap's (a
        # Whirlpool whose price moves to another array would change it mid-count); no
        # reconnect for a late pong (a busy machine's loop can be seconds late): a new
        # connection would ask for every subscription again, mid-count
        cfg = dataclasses.replace(QUICK, transport=transport, heartbeat_s=60.0)
        pool = FeedPool(eps, ing, eng, cfg, rpc_timeout_s=2.0, maintain_s=3600.0)
        try:
            boot = await pool.bootstrap(server.world.universe())
            await pool.start(boot.subscriptions)
            wanted = len(boot.subscriptions)
            # the first CAP subscriptions: the slot pulse, then CAP - 1 accounts
            first = {s.label for s in boot.subscriptions[1:CAP]}
            assert boot.subscriptions[0].method == "slotSubscribe"

            def by_name() -> dict[str, FeedHealth]:
                return {h.name: h for h in pool.health()}

            await until(
                lambda: (
                    (h := by_name())["cap-error"].subscriptions == CAP
                    and h["cap-error"].refused == wanted - CAP
                    and h["cap-close"].cap == CAP
                    and h["cap-close"].connected
                    and h["cap-close"].subscriptions == CAP
                    and h["full"].subscriptions == wanted
                    and pool.workers[0].resubscribes >= 2 * (wanted - CAP)
                    and not any(w.book.pending for w in pool.workers)
                    # every refused subscription asked for so far has been answered
                    and server.endpoints[0].stats["over_cap"]
                    == (pool.workers[0].resubscribes // (wanted - CAP) + 1) * (wanted - CAP)
                ),
                timeout=60.0,
            )
            health = by_name()
            watched = ing.watched()  # read with the health: nothing ran in between
            coverage = pool.coverage()
            bare = pool.uncovered_pools()
            stats = {ep.profile.name: dict(ep.stats) for ep in server.endpoints}
            resubscribed = pool.workers[0].resubscribes
        finally:
            await pool.stop()
    covered_accounts = first
    for name in ("cap-error", "cap-close"):
        h = health[name]
        assert h.uncovered == len(watched) - (CAP - 1), name
        assert h.refused == wanted - CAP, name
    assert health["full"].uncovered == 0 and health["full"].pools_uncovered == 0
    # per pool: 3 endpoints when all its accounts are among the first, else 1 (full)
    for p, n in coverage.items():
        assert n == (3 if pool.pool_accounts[p] <= covered_accounts else 1), p
    assert len(coverage) == len(server.world.pools) and bare == []
    assert 3 in coverage.values() and 1 in coverage.values()
    assert health["cap-error"].pools_uncovered == sum(n == 1 for n in coverage.values())
    # the error-answering endpoint: refused subscriptions asked again, but backing off:
    # every round asks for the refused ones once, rounds doubling from resubscribe_s
    assert "subscription limit reached" in SUBSCRIPTION_LIMIT
    assert "limit reached" in health["cap-error"].last_error
    rounds = resubscribed // (wanted - CAP)
    assert stats["cap-error"]["over_cap"] == (rounds + 1) * (wanted - CAP)
    assert stats["cap-error"]["connections"] == 1
    # the closing endpoint: closed once; the worker learned the cap and never went over
    assert stats["cap-close"]["over_cap"] == 1 and stats["cap-close"]["connections"] == 2


async def test_pools_covered_by_no_endpoint_are_listed(eng: types.ModuleType) -> None:
    profiles = [
        EndpointProfile(f"cap-{i}", latency_ms=2, jitter_ms=1, max_subscriptions=CAP)
        for i in range(2)
    ]
    async with SimServer(CFG, profiles, slot_seconds=0.03) as server:
        infos = server.infos()
        eps = [Endpoint(i.name, i.ws_url, i.http_url) for i in infos]
        ing = eng.FeedIngest(eng.PoolGraph(base_mints=server.world.bases, max_hops=3))
        pool = FeedPool(eps, ing, eng, QUICK, rpc_timeout_s=2.0)
        try:
            boot = await pool.bootstrap(server.world.universe())
            await pool.start(boot.subscriptions)
            await until(
                lambda: (
                    all(h.subscriptions == CAP for h in pool.health())
                    and not any(w.book.pending for w in pool.workers)
                ),
                timeout=60.0,
            )
            first = {s.label for s in boot.subscriptions[1:CAP]}
            bare = pool.uncovered_pools()
            health = pool.health()
        finally:
            await pool.stop()
    want = sorted(p for p, accs in pool.pool_accounts.items() if not accs <= first)
    # subscriptions go pool by pool: the first pools are covered whole, the rest nowhere
    assert sorted(bare) == want and 0 < len(want) < len(pool.pool_accounts)
    assert all(h.pools_uncovered == len(want) for h in health)
    # every pool's accounts were learned: the pool itself and its vaults at least
    assert all(len(accs) >= 3 for accs in pool.pool_accounts.values())


@pytest.mark.parametrize(("answer", "after"), [("retry-after", 60), ("plain", None)])
async def test_a_websocket_upgrade_refused_with_429_is_backed_off(
    eng: types.ModuleType, answer: str, after: int | None, transport: str
) -> None:
    """A PubSub-only endpoint whose upgrades are refused with 429: the worker waits out
    the Retry-After (or its backoff) before connecting again; the other one streams."""
    profiles = [
        refusing("limited", answer, retry_after_s=after or 1, ws=True),
        EndpointProfile("ok", latency_ms=2, jitter_ms=1),
    ]
    async with SimServer(CFG, profiles, slot_seconds=0.03) as server:
        a, b = server.infos()
        eps = [Endpoint(a.name, a.ws_url), Endpoint(b.name, b.ws_url, b.http_url)]
        ing = eng.FeedIngest(eng.PoolGraph(base_mints=server.world.bases, max_hops=3))
        cfg = dataclasses.replace(QUICK, transport=transport)
        pool = FeedPool(eps, ing, eng, cfg, rpc_timeout_s=2.0)
        limited = server.endpoints[0]
        t0 = time.monotonic()
        try:
            boot = await pool.bootstrap(server.world.universe())
            await pool.start(boot.subscriptions)
            # the other endpoint streams on: 60 slot notifications, and more
            await until(lambda: pool.health()[1].messages >= 60 + len(boot.subscriptions))
            elapsed = time.monotonic() - t0
            h = pool.health()[0]
            refused = limited.stats["rate_limited"]
        finally:
            await pool.stop()
    assert limited.stats["connections"] == 0 and limited.stats["requests"] == 0
    assert 1 <= refused <= _requests_bound(elapsed, pool.gates[0].min_s, after), refused
    # every refusal the client read is one the server sent (one may be in flight)
    assert refused - 1 <= h.rate_limited <= refused
    assert h.retry_after_s == after and not h.connected
    assert "HTTP 429 rate limited" in h.last_error


# ------------------------------------------------------------ coverage as the set moves
async def test_an_account_watched_and_not_yet_followed_is_no_endpoints_lack(
    eng: types.ModuleType,
) -> None:
    """Between the ingest naming a new account (a Whirlpool's next tick array, a new
    pool's vault) and the maintenance round asking for it, no endpoint can tell of it:
    it is none's lack. Counted as one, it made every endpoint uncovered for a moment at
    each such change, and /health's ``missed`` (judged only after a whole window of
    coverage) was never judged at all while the watched set moved more often than the
    window (a CI run under load: an endpoint losing 99 % of its data said ok). Once
    asked, an endpoint that lacks it is uncovered again."""
    profiles = [
        EndpointProfile("full", latency_ms=2, jitter_ms=1),
        EndpointProfile("capped", latency_ms=2, jitter_ms=1, max_subscriptions=CAP),
    ]
    async with SimServer(CFG, profiles, slot_seconds=0.03) as server:
        eps = [Endpoint(i.name, i.ws_url, i.http_url) for i in server.infos()]
        ing = eng.FeedIngest(eng.PoolGraph(base_mints=server.world.bases, max_hops=3))
        cfg = dataclasses.replace(QUICK, heartbeat_s=60.0)
        pool = FeedPool(eps, ing, eng, cfg, rpc_timeout_s=2.0, maintain_s=3600.0)
        try:
            boot = await pool.bootstrap(server.world.universe())
            await pool.start(boot.subscriptions)
            wanted = len(boot.subscriptions)
            # the capped one: the slot pulse and CAP - 1 accounts
            lacks = sum(s.method == "accountSubscribe" for s in boot.subscriptions) - CAP + 1

            def uncovered() -> tuple[int, int]:
                full, capped = pool.health()
                return full.uncovered, capped.uncovered

            await until(
                lambda: pool.health()[0].subscriptions == wanted and uncovered() == (0, lacks),
                timeout=60.0,
            )
            before = set(ing.watched())
            new = str(Pubkey.new_unique())
            for p in pool.pool_accounts:  # the first pool whose venue has arrays
                with contextlib.suppress(ValueError):
                    ing.track_array(new, p)
                    break
            assert set(ing.watched()) == before | {new}
            assert uncovered() == (0, lacks)  # watched, asked of nobody yet
            await pool.follow()
            assert len(pool.subscriptions) == wanted + 1
            await until(lambda: uncovered() == (0, lacks + 1), timeout=60.0)
        finally:
            await pool.stop()

"""The pool's coverage against its definition: per pool, how many endpoints have every
account it needs subscribed. ``FeedPool.coverage`` derives it from the accounts each
endpoint lacks and keeps its answer while nothing changed; the oracle here checks each
pool's accounts against each endpoint's subscriptions, one by one."""

from __future__ import annotations

import types
from collections.abc import Set as AbstractSet

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.clients.pool import Endpoint, FeedPool

ACCOUNTS = [f"acct{i}" for i in range(12)]
POOLS = [f"pool{i}" for i in range(5)]


def oracle(
    pool_accounts: dict[str, set[str]], subscribed: list[AbstractSet[str]]
) -> dict[str, int]:
    return {p: sum(acc <= have for have in subscribed) for p, acc in pool_accounts.items()}


def feed_pool(eng: types.ModuleType, endpoints: int) -> FeedPool:
    eps = [Endpoint(f"e{i}", f"ws://127.0.0.1:{9 + i}", None) for i in range(endpoints)]
    return FeedPool(eps, eng.FeedIngest(eng.PoolGraph()), eng)


layouts = st.fixed_dictionaries(
    {p: st.sets(st.sampled_from(ACCOUNTS), max_size=4).map(lambda s, p=p: {p, *s}) for p in POOLS}
)
subscriptions = st.lists(st.frozensets(st.sampled_from(ACCOUNTS + POOLS)), min_size=1, max_size=4)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(layout=layouts, subs=subscriptions, later=layouts)
def test_coverage_is_each_pools_accounts_checked_against_each_endpoint(
    rust: types.ModuleType,
    layout: dict[str, set[str]],
    subs: list[frozenset[str]],
    later: dict[str, set[str]],
) -> None:
    pool = feed_pool(rust, len(subs))
    pool.pool_accounts = {p: set(a) for p, a in layout.items()}
    assert pool.coverage(list(subs)) == oracle(layout, list(subs))
    assert pool.coverage(list(subs)) == oracle(layout, list(subs))  # the kept answer
    # a connection down (nothing subscribed) and one subscribed to everything
    down = [frozenset(), frozenset(ACCOUNTS + POOLS), *subs[2:]]
    assert pool.coverage(down) == oracle(layout, down)
    # the pools' accounts changed (as the pool's own bookkeeping marks it)
    pool.pool_accounts = {p: set(a) for p, a in later.items()}
    pool._accounts_gen += 1
    assert pool.coverage(list(subs)) == oracle(later, list(subs))
    lacking = [{p for p, a in later.items() if not a <= have} for have in subs]
    assert [set(pool._lacking(have)) for have in subs] == lacking

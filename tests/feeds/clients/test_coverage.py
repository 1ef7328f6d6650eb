"""The pool's coverage against its definition: per pool, how many endpoints have every
account it needs subscribed. ``FeedPool.coverage`` derives it from the accounts each
endpoint lacks and keeps its answer while nothing changed; the oracle here checks each
pool's accounts against each endpoint's subscriptions, one by one."""

from __future__ import annotations

import types
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.clients.pool import Endpoint, FeedPool
from feeds.clients.pubsub import all_subscriptions

ACCOUNTS = [f"acct{i}" for i in range(12)]
POOLS = [f"pool{i}" for i in range(5)]


def oracle(
    pool_accounts: dict[str, set[str]], subscribed: Sequence[AbstractSet[str]]
) -> dict[str, int]:
    return {p: sum(acc <= have for have in subscribed) for p, acc in pool_accounts.items()}


def feed_pool(eng: types.ModuleType, endpoints: int) -> FeedPool:
    eps = [Endpoint(f"e{i}", f"ws://127.0.0.1:{9 + i}", None) for i in range(endpoints)]
    return FeedPool(eps, eng.FeedIngest(eng.PoolGraph()), eng)


def accounts_of(pool: str) -> st.SearchStrategy[set[str]]:
    """A pool's accounts: itself and up to 4 others."""
    return st.sets(st.sampled_from(ACCOUNTS), max_size=4).map(lambda s: {pool, *s})


layouts = st.fixed_dictionaries({p: accounts_of(p) for p in POOLS})
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


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    before=st.lists(st.sampled_from(ACCOUNTS), unique=True),
    after=st.lists(st.sampled_from(ACCOUNTS), unique=True),
    programs=st.lists(st.sampled_from(POOLS), unique=True, max_size=2),
)
def test_the_subscriptions_made_again_are_all_subscriptions_of_the_new_set(
    rust: types.ModuleType, before: list[str], after: list[str], programs: list[str]
) -> None:
    pool = feed_pool(rust, 1)
    pool.programs = programs
    pool.subscriptions = all_subscriptions(before, programs, pool.commitment)
    got = pool._subscriptions_for(after)
    assert got == all_subscriptions(after, programs, pool.commitment)
    assert [s.frame(7) for s in got] == [
        s.frame(7) for s in all_subscriptions(after, programs, pool.commitment)
    ]
    kept = {s.label: s for s in pool.subscriptions}
    assert all(s is kept[s.label] for s in got if s.label in before)  # reused, not made

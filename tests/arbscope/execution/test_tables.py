"""The wallet's address lookup tables against the simulator (a node's ALT program): made
when live is armed, found again by a later process, replaced when deactivated; every
cycle of up to 5 hops of the simulated market fits one packet through them; 3- to 5-hop
cycles across the venues land through them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from solders.address_lookup_table_account import AddressLookupTable
from solders.hash import Hash

from arbscope.execution.live import LiveOrder
from arbscope.execution.tables import cost_estimate
from feeds import venues
from feeds.wire import alt as A
from feeds.wire import instructions as I
from feeds.wire.txsize import (
    MAX_TX_ACCOUNT_LOCKS,
    PACKET_DATA_SIZE,
    swap_tx_accounts,
    swap_tx_size,
)
from tests.support.live import (
    finished,
    live_session,
    quiet,
    tick_until,
)


def _all_venues(seed: int) -> Any:
    return replace(quiet(seed), venue_mix=True)


async def _knocked_open(s: Any, base: str, o: Any, pool: Any) -> Any:
    """Sell the output token of ``pool``'s hop in cycle ``o`` into it (a trader in the
    next slot, once, through the world's script, 5 % of its depth): the hop now gives
    much more. The cycle's live entry once it is profitable."""
    w = s.feeds.server.world
    i = o.pools.index(pool.address)
    a_to_b = o.tokens[i + 1] == pool.mint_a

    def knock(world: Any) -> list[Any]:
        world.script = None
        t = world.swap(pool, a_to_b, world._trade_size(pool, a_to_b, 0.05))
        return [t] if t is not None else []

    w.script = knock
    key = (base, tuple(o.pools))
    return await tick_until(s, lambda: (v := s.live.get(key)) and v[0].profit > 0 and v, timeout=30)


@pytest.mark.slow
async def test_arming_makes_tables_of_every_watched_pools_accounts_at_the_cost_shown(
    keyfile: Path, tmp_path: Path
) -> None:
    db = tmp_path / "j.sqlite"
    async with live_session(keyfile, seed=31, db=db, world=_all_venues(31)) as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        ok, why = await s.desk.request_live()
        assert ok, why
        ex = s.ev.executor
        assert why == ex.gate.tables_note() and why.startswith("lookup tables: ") and "SOL" in why
        assert ex.core.wallet is not None and ex.core.tables is not None
        v = ex.core.tables.view
        assert v.error == "" and v.pending == 0 and len(v.tables) >= 1
        w = s.feeds.server.world
        # the tables on chain: the wallet's authority, every address the view counts
        held: set[str] = set()
        rent = 0
        for t in v.tables:
            acc = w.accounts[t]
            assert acc.owner == A.ALT_PROGRAM
            table = AddressLookupTable.deserialize(acc.data)
            assert str(table.meta.authority) == ex.core.wallet.pubkey
            held |= {str(k) for k in table.addresses}
            rent += acc.lamports
        assert len(held) == v.addresses
        # what the view says it cost is the rent the tables hold plus 5,000 lamports a
        # signature (no priority fee when armed: a price of 0)
        assert v.rent == rent and v.fees == 5_000 * v.transactions and v.spent == rent + v.fees
        # the budget's estimate is the cost, given the transactions
        assert cost_estimate(len(v.tables), v.addresses, v.transactions) == v.spent
        # every pool's own accounts are in them (not its program)
        for pool in w.pools:
            assert pool.address in held
            assert pool.vault_a in held and pool.vault_b in held
            assert venues.by_kind(pool.kind).program not in held


async def test_tables_over_the_budget_are_not_made_and_live_still_arms(
    keyfile: Path, tmp_path: Path
) -> None:
    async with live_session(
        keyfile, seed=33, db=tmp_path / "j.sqlite", tables_budget_lamports=10_000_000
    ) as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        ok, why = await s.desk.request_live()
        assert ok and "over the budget of 0.0100 SOL" in why and "tables_budget" in why
        assert s.ev.executor.core.tables is not None and s.ev.executor.core.tables.view.tables == ()
        assert s.feeds.server.chain.stats.sent == 0  # nothing was paid


@pytest.mark.slow
async def test_a_later_process_finds_the_tables_and_a_deactivated_one_is_not_used(
    keyfile: Path, tmp_path: Path
) -> None:
    """Re-arming (a later process's executor on the same node) pays nothing: the tables
    are found by their authority; one deactivated meanwhile is left and a new one made."""
    async with live_session(keyfile, seed=32, db=tmp_path / "j.sqlite") as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        assert (await s.desk.request_live())[0]
        ex = s.ev.executor
        assert ex.core.tables is not None and ex.core.wallet is not None
        made = ex.core.tables.view
        assert made.transactions >= 2 and made.error == ""
        async with _armed_again(ex) as v:
            assert set(v.tables) == set(made.tables) and v.addresses == made.addresses
            assert v.transactions == 0 and v.spent == 0  # found, not made again
            # deactivate the tables; a third arming does not use them and makes new ones
            me = ex.core.wallet.pubkey
            ixs = [A.deactivate_lookup_table(t, me) for t in made.tables]
            tx, raw, _, last = await ex.templates.sign(ixs)
            watcher = ex.core.watch()
            fut = await watcher.subscribe(str(tx.signatures[0]))
            import base64

            await ex.core.client().send_transaction(base64.b64encode(raw).decode())
            conf = await watcher.wait(str(tx.signatures[0]), fut, last, 30)
            assert conf.status == "confirmed"
        async with _armed_again(ex) as v3:
            assert v3.error == "" and not set(v3.tables) & set(made.tables)
            assert v3.addresses == made.addresses and v3.transactions >= 2


@asynccontextmanager
async def _armed_again(ex: Any) -> AsyncIterator[Any]:
    """Another executor on ``ex``'s config, graph, sink and ledger (a later process's on
    the same node), armed: its tables' view; closed after the block."""
    from arbscope.execution.core import ExecutorCore
    from arbscope.execution.live import LiveExecutor

    again = LiveExecutor(
        ExecutorCore(ex.config, ex.base, ex.core.graph, ex.core.sink, ledger=ex.ledger)
    )
    try:
        ok, why = await again.arm()
        assert ok, why
        assert again.core.tables is not None
        yield again.core.tables.view
    finally:
        await again.close()


def _one_fits(ex: Any, o: Any) -> bool:
    """Whether the cycle fits one transaction through the tables (bytes and locks)."""
    from arbscope.execution.build import too_big as _too_big

    me = ex.core.wallet.pubkey
    ixs = _cycle_ixs(ex, list(o.pools), list(o.tokens), tip=True)
    msg = A.compile_v0(me, ixs, Hash.default(), ex.core.tables.accounts())
    from solders.signature import Signature
    from solders.transaction import VersionedTransaction

    tx = VersionedTransaction.populate(msg, [Signature.default()])
    return not _too_big(tx, bytes(tx))


def _cycle_ixs(ex: Any, pools: list[str], tokens: list[str], tip: bool) -> list[Any]:
    """The order's instructions as the executor builds them (compute budget, one swap
    per hop from the pools' own accounts, the tip), sized by amounts that change nothing."""
    me = ex.core.wallet.pubkey
    ixs = [I.set_compute_unit_limit(1_400_000), I.set_compute_unit_price(10**6)]
    for i, p in enumerate(pools):
        st = ex.core.static[p]
        tin, tout = tokens[i], tokens[i + 1]
        src, dst = ex.core.ata(tin), ex.core.ata(tout)
        leg = venues.Leg(p, st.record, me, tin, tout, src, dst, 10**9, 1, st.programs)
        ixs.append(venues.by_kind(st.kind).swap_instruction(leg))
    if tip:
        ixs.append(I.transfer(me, I.JITO_TIP_ACCOUNTS[3], 10_000))
    return ixs


@pytest.mark.slow
async def test_every_cycle_of_up_to_five_hops_fits_through_the_tables(
    keyfile: Path, tmp_path: Path
) -> None:
    """Every simple cycle of 2 to 5 hops through each base token of the default market
    (seed 63: every venue, order books with 16 accounts, CLMM and DLMM arrays), built as
    the executor builds it from the pools' accounts with the tip, compiled against the
    tables made when live was armed: each one fits a packet; many would not without."""
    world = replace(quiet(63), venue_mix=True)
    async with live_session(keyfile, seed=63, db=tmp_path / "j.sqlite", world=world) as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        assert (await s.desk.request_live())[0]
        ex = s.ev.executor
        assert ex.core.tables is not None and ex.core.tables.view.error == ""
        graph = ex.core.graph()
        tables = ex.core.tables.accounts()
        me = ex.core.wallet.pubkey  # type: ignore[union-attr]
        sizes: list[tuple[int, int, tuple[str, ...], tuple[str, ...]]] = []
        over_without = 0
        under = over = 0
        too_many = refused_by_paper = 0
        bundled: list[tuple[int, ...]] = []
        for base in graph.base_mints():
            for o in graph.cycles(base, 5):
                pools, tokens = list(o.pools), list(o.tokens)
                ixs = _cycle_ixs(ex, pools, tokens, tip=True)
                msg = A.compile_v0(me, ixs, Hash.default(), tables)
                size = A.tx_size(msg)
                plain = A.tx_size(A.compile_v0(me, ixs, Hash.default()))
                over_without += plain > PACKET_DATA_SIZE
                kinds = tuple(ex.core.static[p].kind for p in pools)
                sizes.append((size, len(pools), kinds, tuple(pools)))
                # paper's estimate through tables (placeholder accounts, a table per hop)
                # agrees on what fits; it is at most a few bytes under (placeholder
                # accounts), over by the tables a live order needs fewer of
                progs = [ex.core.program(t) for t in tokens]
                est = swap_tx_size(list(kinds), tokens, True, tables=True, programs=progs)
                assert (est <= PACKET_DATA_SIZE) == (size <= PACKET_DATA_SIZE)
                under, over = max(under, size - est), max(over, est - size)
                # the accounts it names (what a transaction may lock, tables or not):
                # paper's count is an upper bound, exact where the pools share none
                locks = len(msg.account_keys) + sum(
                    len(t.writable_indexes) + len(t.readonly_indexes)
                    for t in msg.address_table_lookups
                )
                est_locks = swap_tx_accounts(list(kinds), tokens, True, programs=progs)
                assert est_locks >= locks, (kinds, est_locks, locks)
                too_many += locks > MAX_TX_ACCOUNT_LOCKS
                refused_by_paper += est_locks > MAX_TX_ACCOUNT_LOCKS
                if size > PACKET_DATA_SIZE or locks > MAX_TX_ACCOUNT_LOCKS:
                    # two transactions of one bundle, cut as the executor cuts them
                    order = LiveOrder(
                        0,
                        "x",
                        (base, tuple(pools)),
                        tokens,
                        pools,
                        list(kinds),
                        10**9,
                        [10**9] * (len(pools) + 1),
                    )
                    parts = await ex.builder.split(order, ixs, 10**6)
                    assert parts is not None, kinds
                    bundled.append(tuple(len(raw) for _, raw, _ in parts))
                assert s.ev.sendable(o) == "", kinds  # paper sends what live can
        assert {n for _, n, _, _ in sizes} == {2, 3, 4, 5}
        largest = max(sizes)
        print(f"\n{ex.gate.tables_note()}; {len(graph.pools())} pools")
        print(
            f"{len(sizes)} cycles of 2-5 hops; {over_without} over the limit without "
            f"tables; the largest through them: {largest[0]} bytes, {largest[1]} hops, "
            f"{'·'.join(largest[2])}; paper's estimate {under} under to {over} over; "
            f"{too_many} name more than {MAX_TX_ACCOUNT_LOCKS} accounts (paper counts "
            f"{refused_by_paper}); {len(bundled)} go as a bundle of two transactions, the "
            f"largest {max(max(b) for b in bundled)} bytes"
        )
        assert over_without > 0 and under <= 16, under
        assert all(size <= PACKET_DATA_SIZE for size, *_ in sizes), [
            x for x in sizes if x[0] > PACKET_DATA_SIZE
        ][:3]


@pytest.mark.slow
async def test_cycles_of_three_to_five_hops_land_through_the_tables(
    keyfile: Path, tmp_path: Path
) -> None:
    """Live orders (``x``) on cycles of 3, 4 and 5 hops across the venues, each made
    profitable by a large trade against one of its constant-product pools: each order is a v0 message
    that loads its pools' accounts from the wallet's tables, and is confirmed."""
    world = replace(quiet(63), venue_mix=True)
    async with live_session(
        keyfile, seed=63, db=tmp_path / "j.sqlite", world=world, max_hops=5, max_slippage_bps=100
    ) as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        assert (await s.desk.request_live())[0]
        s.ev.broker.auto = False  # type: ignore[union-attr]
        w = s.feeds.server.world
        for venue in ("openbook_v2", "manifest"):  # the makers hold still: a requote
            for book in w.venue_state.get(venue, []):  # between quote and landing moves a hop
                book.spec.state.quiet = True
        graph = s.ev.executor.core.graph()
        base = s.base_mints[0]
        landed: dict[int, Any] = {}
        used: set[str] = set()
        for hops in (3, 4, 5):
            # a cycle of that length with a constant-product pool to knock, mixing venues
            cands = [
                o
                for o in graph.cycles(base, hops)
                if len(o.pools) == hops
                and not used & set(o.pools)
                and _one_fits(s.ev.executor, o)
                and not any(graph.refusal(t) for t in o.tokens)
            ]
            cands.sort(key=lambda o: (-len({w.by_address[p].kind for p in o.pools}), o.pools))
            knockable = (("amm_v4", "cpmm"), ("whirlpool", "clmm", "dlmm", "pumpswap"))
            for kinds_ok in knockable:  # a constant-product pool first, else another curve
                o = next(
                    (o for o in cands if any(w.by_address[p].kind in kinds_ok for p in o.pools)),
                    None,
                )
                if o is not None:
                    i = next(i for i, p in enumerate(o.pools) if w.by_address[p].kind in kinds_ok)
                    break
            else:
                raise AssertionError(f"no {hops}-hop cycle with a pool to knock")
            pool = w.by_address[o.pools[i]]
            # sell the hop's output token into it (a trader in the next slot, through
            # the world's script): the hop now gives much more
            # profitable once the feed brought the knocked pool (``x`` does not wait for
            # the scorer's persistence: the market is quiet otherwise)
            entry = await _knocked_open(s, base, o, pool)
            assert s.desk.trade(base, list(entry[0].pools)) == ""
            order = await finished(s, s.ev.executor.seq, timeout=60)
            landed[hops] = order
            used |= set(o.pools)
        for hops, order in landed.items():
            assert order.status == "confirmed", (hops, order.detail)
            stored = s.feeds.server.chain.ledger[order.signature]
            assert stored.tx.message.address_table_lookups, hops
            assert sum(map(len, stored.outcome.loaded)) >= 3 * hops
            print(
                f"\n{hops} hops {'·'.join(order.kinds)}: {len(bytes(stored.tx))} bytes, "
                f"{sum(map(len, stored.outcome.loaded))} accounts looked up"
            )


@pytest.mark.slow
async def test_a_cycle_one_transaction_cannot_hold_lands_as_a_bundle_of_two(
    keyfile: Path, tmp_path: Path
) -> None:
    """A 5-hop cycle naming more than 64 accounts (no lookup table helps: the runtime's
    lock limit counts looked-up accounts too) goes to the block engines as two
    transactions of one bundle — the first hops in the first, the rest and the tip in
    the second — simulated together by ``simulateBundle`` and landed together: both in
    one slot, the tip paid once, the wallet's base grown by the cycle's output."""
    from feeds.sim.chain import BlockEngine
    from tests.support.live import block_engines, record_landings

    world = replace(quiet(63), venue_mix=True)
    async with live_session(
        keyfile,
        seed=63,
        db=tmp_path / "j.sqlite",
        world=world,
        max_hops=5,
        max_slippage_bps=100,
        tip_lamports=5_000,
    ) as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        urls = block_engines(s, ny=BlockEngine(0), frankfurt=BlockEngine(1))
        assert (await s.desk.request_live())[0]
        s.ev.broker.auto = False  # type: ignore[union-attr]
        ex = s.ev.executor
        w = s.feeds.server.world
        for venue in ("openbook_v2", "manifest"):  # the makers hold still
            for book in w.venue_state.get(venue, []):
                book.spec.state.quiet = True
        graph = ex.core.graph()
        base = s.base_mints[0]
        landings = record_landings(s)
        cands = [
            o
            for o in graph.cycles(base, 5)
            if len(o.pools) == 5
            and not any(graph.refusal(t) for t in o.tokens)
            and not _one_fits(ex, o)
            and any(w.by_address[p].kind in ("amm_v4", "cpmm") for p in o.pools)
        ]
        assert cands
        o = min(cands, key=lambda c: c.pools)
        i = next(i for i, p in enumerate(o.pools) if w.by_address[p].kind in ("amm_v4", "cpmm"))
        pool = w.by_address[o.pools[i]]
        entry = await _knocked_open(s, base, o, pool)
        assert s.ev.sendable(entry[0]) == ""  # paper: a bundle of two sends it
        assert s.desk.trade(base, list(entry[0].pools)) == ""
        order = await finished(s, ex.seq, timeout=60)
        assert order.status == "confirmed", order.detail
        assert order.parts == 2 and order.simulated_out is not None
        chain = s.feeds.server.chain
        last = chain.ledger[order.signature]
        (first,) = [
            st
            for sig, st in chain.ledger.items()
            if sig != order.signature
            and st.slot == last.slot
            and st.tx.message.account_keys[0] == last.tx.message.account_keys[0]
        ]
        assert first.outcome.err is None and last.outcome.err is None
        _, before, _, after, _ = landings[order.signature]
        tips = sum(after[t][0] - before[t][0] for t in I.JITO_TIP_ACCOUNTS if t in after)
        assert tips == order.tip == 5_000
        routes = {r.route: r for r in ex.view().routes}
        assert sum(r.landed for r in routes.values()) == 1 and len(routes) == len(urls)
        print(
            f"\n5 hops {'·'.join(order.kinds)}: a bundle of {len(bytes(first.tx))} + "
            f"{len(bytes(last.tx))} bytes, {first.slot == last.slot and 'one slot'}"
        )

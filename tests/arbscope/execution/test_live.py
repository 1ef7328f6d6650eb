"""Live execution against the simulator: signed, simulated, sent, landed, confirmed —
with the pool states and balances checked by hand through the exact curves at the
moment the transaction landed — and every guard rail refusing with a clear message and
no transaction reaching the node."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import engine_rs
from arbscope import sources
from arbscope.execution.compute import CU_ATA, CU_BASE, cycle_steps
from arbscope.execution.keys import KeypairError, load_wallet, write_keypair
from arbscope.execution.live import LiveConfig
from engine_rs.python.b58 import b58encode
from feeds.sim.chain import rent_exempt
from feeds.venues import by_kind
from feeds.venues.raydium_cpmm import sim as raydium_cpmm_sim
from feeds.wire import instructions as I
from tests.support.live import (
    CAPS,
    VENUE_PROGRAMS,
    amount,
    finished,
    go_cycle,
    hop_by_hand,
    knock_into_go,
    knock_until,
    live_session,
    quiet,
    record_landings,
    sent,
    tick_until,
)


# ------------------------------------------------------------------ end to end
@pytest.mark.slow
@pytest.mark.parametrize("via", ["rpc", "jito"])
async def test_a_live_order_is_signed_simulated_sent_applied_and_confirmed(
    keyfile: Path, tmp_path: Path, via: str
) -> None:
    extra = {"tip_lamports": 2_000} if via == "jito" else {}
    async with live_session(keyfile, seed=11, db=tmp_path / "j.sqlite", **extra) as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        if via == "jito":  # the simulator's block engine lives on its HTTP port
            s.ev.executor.config = replace(s.ev.executor.config, jito=s.feeds.endpoints[0].http)
        landings = record_landings(s)
        ok, why = await s.desk.request_live()
        assert ok, why
        assert s.ev.mode == "LIVE" and s.ev.executor.armed
        # arming made the wallet's lookup tables of the watched pools' accounts
        tables = s.ev.executor.core.tables.view  # type: ignore[union-attr]
        assert tables.error == "" and tables.addresses > 0 and tables.pending == 0
        s.ev.broker.auto = False  # type: ignore[union-attr]  # one order, by hand (x)
        o, sc = await go_cycle(s)
        fee_ctx = s.ev.fees_of((o.base_mint, tuple(o.pools)))  # what the cycle was scored with
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        order = await finished(s, 1)
        assert order.status == "confirmed", order.detail
        pools_before, acc_before, pools_after, acc_after, landed = landings[order.signature]
        assert landed.err is None
        # a v0 message that loaded its pools' accounts from the wallet's lookup tables
        stored = s.feeds.server.chain.ledger[order.signature]
        assert stored.tx.message.address_table_lookups
        assert sum(map(len, stored.outcome.loaded)) > 0
        eng = engine_rs.load("python")
        me = s.ev.executor.core.wallet.pubkey  # type: ignore[union-attr]
        w = s.feeds.server.world
        # every hop by hand, from the states the transaction met
        moved: dict[str, int] = {}
        amount_in = order.hops[0]
        out = 0
        for i, pool_id in enumerate(order.pools):
            spec = pools_before[pool_id]
            tin, tout = order.tokens[i], order.tokens[i + 1]
            amount_in = order.hops[i]
            pool = w.by_address[pool_id]
            kept = (
                sum(raydium_cpmm_sim.trade_fees(w, pool, amount_in)[1:])
                if pool.kind == "cpmm"
                else 0
            )
            out, state = hop_by_hand(eng, spec, tin, amount_in, kept)
            vin, vout = (
                (pool.vault_a, pool.vault_b) if tin == spec.mint_a else (pool.vault_b, pool.vault_a)
            )
            assert amount(acc_after, vin) - amount(acc_before, vin) == amount_in
            assert amount(acc_before, vout) - amount(acc_after, vout) == out
            after = pools_after[pool_id]
            if spec.kind == "cpmm":
                assert (after.reserve_a, after.reserve_b) == state
            else:
                assert (after.sqrt_price_x64, after.tick_current, after.liquidity) == state
            moved[tin] = moved.get(tin, 0) - amount_in
            moved[tout] = moved.get(tout, 0) + out
        assert out == order.hops[-1] == order.simulated_out  # a quiet market: the quote held
        for mint, delta in moved.items():
            ata = I.ata_address(me, mint)
            assert amount(acc_after, ata) - amount(acc_before, ata) == delta, mint
        assert order.realized == out - order.hops[0] > 0
        # SOL: the fee (base + CU limit x price, ceiled), the new ATAs' rent, the tip
        created = sum(1 for t in set(order.tokens) if I.ata_address(me, t) not in acc_before)
        # the limit by hand: the base, each hop's venue at the steps its quote crosses
        # (the executor's quote counted them; these pools' mints are SPL Token's), each
        # account created
        assert len(order.steps) == len(order.kinds)
        limit = (
            CU_BASE
            + sum(
                by_kind(k).compute_units.limit(n)
                for k, n in zip(order.kinds, order.steps, strict=True)
            )
            + (CU_ATA * created)
        )
        assert requested_cu(stored.tx) == order.cu_limit == limit
        # the scorer priced it (with the accounts the order created apart, when it did)
        apart = len(order.created_apart)
        assert order.cu_priced == fee_ctx.cu_limit == limit + CU_ATA * apart
        fee = 5_000 + -(-limit * fee_ctx.cu_price_micro_lamports // 1_000_000)
        if not apart:  # the fee the scorer counted is the one the node charged
            assert sc.base_fee_lamports + sc.priority_fee_lamports == fee
        tip = extra.get("tip_lamports", 0)
        assert acc_before[me][0] - acc_after[me][0] == fee + created * rent_exempt(165) + tip
        assert order.fee_lamports == fee
        if via == "jito":
            assert order.via.startswith("jito bundle")
            # the bundle, and a transaction of its own for the wallet's new token accounts
            # when the order's would not fit them (the ``accounts`` step)
            accounts_tx = 1 if "accounts" in order.ms else 0
            assert s.feeds.server.chain.stats.bundles == 1
            assert sent(s) == accounts_tx
        # journal: every step, with the signature
    steps = _journal_steps(tmp_path / "j.sqlite")
    assert [st for st, sig in steps if sig == order.signature] == [
        "signed",
        "simulated",
        "sent",
        "confirmed",
    ]
    assert steps[0] == ("accepted", "")
    from storage.export import export_session

    written = await export_session(tmp_path / "j.sqlite", s.session_id, tmp_path / "out")
    csv_text = next(p for p in written if p.name.endswith("-transactions.csv")).read_text()
    assert csv_text.count(order.signature) == 4  # signed, simulated, sent, confirmed


# the venues beyond the first three, each with the kinds of the pools a 2-hop cycle
# through one of its pools may pair it with and still fit one transaction without an
# address lookup table (PumpSwap's 24 / 26-account swaps fit only beside AMM v4's)
NEW_VENUES = {
    "clmm": ("amm_v4", "cpmm", "whirlpool"),
    "dlmm": ("amm_v4", "cpmm", "whirlpool"),
    "pumpswap": ("amm_v4",),
    "openbook": ("amm_v4", "cpmm", "whirlpool"),
    "damm_v2": ("amm_v4", "cpmm", "whirlpool"),
    "manifest": ("amm_v4", "cpmm", "whirlpool"),
}
BOOKS = {"openbook": "openbook_v2", "manifest": "manifest"}  # kind -> venue (makers)


def _pair_through(seed: int, kind: str) -> tuple[str, str]:
    """A pool of ``kind`` on a pair of the base (SOL) and a pool of another venue on the
    same pair, in the quiet market of ``seed`` with every venue (addresses)."""
    from feeds.sim.world import World

    w = World(replace(quiet(seed), venue_mix=True))
    sol = w.bases[0]
    for p in w.pools:
        if p.kind != kind or sol not in (p.mint_a, p.mint_b):
            continue
        for q in w.pools:
            if q.kind in NEW_VENUES[kind] and {q.mint_a, q.mint_b} == {p.mint_a, p.mint_b}:
                return p.address, q.address
    raise AssertionError(f"no {kind} pool beside another venue's on a SOL pair at seed {seed}")


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(NEW_VENUES))
async def test_a_live_order_through_each_new_venue_is_confirmed(
    keyfile: Path, tmp_path: Path, kind: str
) -> None:
    """Raydium CLMM, Meteora DLMM, PumpSwap, OpenBook v2 and Meteora DAMM v2 in a live order: a 2-hop cycle through a
    pool of the venue is knocked off its price, traded live (its swap instruction built
    by the venue, run by the simulator's program), confirmed, and the venue's vaults
    moved by the hop's amounts; the wallet ends with the cycle's profit."""
    # the first seed with a pool of the venue on a SOL pair beside another venue's
    seed = {"openbook": 7, "damm_v2": 7}.get(kind, 1)
    pool, other = _pair_through(seed, kind)  # one of those venues' pools
    world = replace(quiet(seed), venue_mix=True)
    async with live_session(keyfile, seed=seed, db=tmp_path / "j.sqlite", world=world) as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        w = s.feeds.server.world
        assert pool in w.by_address  # the session's world is the one searched
        landings = record_landings(s)
        ok, why = await s.desk.request_live()
        assert ok, why
        s.ev.broker.auto = False  # type: ignore[union-attr]
        # a book's makers quote around the fair price again within slots: the AMM pool
        # beside it is knocked instead (the cycle still goes through the book), and the
        # makers hold still while the order is in flight
        target = w.by_address[other if kind in BOOKS else pool]
        for venue in BOOKS.values():
            for book_pool in w.venue_state.get(venue, []):
                book_pool.spec.state.quiet = True
        if kind in BOOKS:  # the session has read the books as the makers left them
            still = w.slot
            await tick_until(s, lambda: s.slot > still + 2)
        frac = [0.02]

        def knock(world: Any) -> list[Any]:  # one big trade on the pool a slot
            t = world.swap(target, True, world._trade_size(target, True, frac[0]))
            return [] if t is None else [t]

        o, sc = await knock_until(
            s,
            knock,
            lambda: next(
                (
                    v
                    for k, v in sorted(s.live.items())
                    if v[1].go and k[0] == s.base_mints[0] and set(k[1]) == {pool, other}
                ),
                None,
            ),
        )
        priced = s.ev.fees_of((o.base_mint, tuple(o.pools)))
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        order = await finished(s, 1)
        assert order.status == "confirmed", order.detail
        assert kind in order.kinds
        _, acc_before, _, acc_after, landed = landings[order.signature]
        assert landed.err is None
        # the compute units the scorer priced are those the transaction requested: each
        # hop's venue at the steps its quote crosses (the executor's quote counted what
        # the scorer's sizing counted, and each Token-2022 mint's steps), the base, the
        # accounts it created (by hand)
        ex = s.ev.executor
        created = sum(1 for t in set(order.tokens) if ex.core.ata(t) not in acc_before)
        assert order.steps == list(o.hop_steps) and len(order.steps) == len(order.kinds)
        programs = [s.graph.mint_program(t) or I.SPL_TOKEN for t in order.tokens]
        steps = cycle_steps(order.kinds, (), order.steps, programs)
        limit = (
            CU_BASE
            + sum(
                by_kind(k).compute_units.limit(n) for k, n in zip(order.kinds, steps, strict=True)
            )
            + (CU_ATA * created)
        )
        assert limit < I.MAX_COMPUTE_UNIT_LIMIT  # a DLMM hop at its most would be past it
        assert (
            requested_cu(s.feeds.server.chain.ledger[order.signature].tx) == order.cu_limit == limit
        )
        assert order.cu_priced == priced.cu_limit == limit + CU_ATA * len(order.created_apart)
        if not order.created_apart:  # and the fee it counted is the one the node charged
            assert sc.base_fee_lamports + sc.priority_fee_lamports == order.fee_lamports
        i = order.pools.index(pool)
        p = w.by_address[pool]
        tin = order.tokens[i]
        vin, vout = (p.vault_a, p.vault_b) if tin == p.mint_a else (p.vault_b, p.vault_a)
        # the pool took the hop's input and paid its output (PumpSwap's protocol and creator
        # fees leave its quote vault too: the vaults move by the hop's amounts, or by more
        # on the quote side)
        took = amount(acc_after, vin) - amount(acc_before, vin)
        paid = amount(acc_before, vout) - amount(acc_after, vout)
        assert 0 < took <= order.hops[i] and paid >= order.hops[i + 1] > 0
        left = 0  # base-token input a book left with the wallet (a buy of whole lots)
        if kind == "openbook":  # a book takes whole lots: what is below one stays
            m = p.spec.state.market
            assert paid == order.hops[i + 1]
            if tin == p.mint_a:  # a sell: whole base lots
                assert order.hops[i] - took < m.base_lot_size
            # a buy spends what the base lots it gets cost: sizing searches the hop's input
            # by its output, so the input may run past what the last lot needed, which the
            # order leaves with the wallet
            elif tin == order.tokens[0]:
                left = order.hops[i] - took
        elif kind == "manifest":  # a buy's quote below one base atom stays with the wallet
            assert paid == order.hops[i + 1] and took <= order.hops[i]
            if tin == order.tokens[0]:
                left = order.hops[i] - took
        elif kind != "pumpswap":
            assert (took, paid) == (order.hops[i], order.hops[i + 1])
        # a quiet market: the quote held (the simulation's base balance counts what a book
        # left unspent too)
        assert order.simulated_out == order.hops[-1] + left
        if kind in BOOKS:
            assert order.realized >= order.hops[-1] - order.hops[0] + left > 0
        else:
            assert order.realized == order.hops[-1] - order.hops[0] > 0


@pytest.mark.slow
async def test_a_dlmm_cycle_crossing_many_bins_requests_the_limit_the_scorer_priced(
    keyfile: Path, tmp_path: Path
) -> None:
    """The pool beside a DLMM pair knocked far off its price, slot after slot: the cycle
    through the pair crosses many bins; the scorer priced its DLMM hop at the steps its
    sizing counted (``Opportunity.hop_steps``: bins filled after the first, empty ones
    walked past), well under the venue's most, and the live order requested that same
    limit (its own quote's steps) and landed within it."""
    from feeds.venues import meteora_dlmm as DL

    seed = 1
    pool, other = _pair_through(seed, "dlmm")
    world = replace(quiet(seed), venue_mix=True)
    async with live_session(keyfile, seed=seed, db=tmp_path / "j.sqlite", world=world) as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        w = s.feeds.server.world
        landings = record_landings(s)
        ok, why = await s.desk.request_live()
        assert ok, why
        s.ev.broker.auto = False  # type: ignore[union-attr]
        for book_pool in w.venue_state.get("openbook_v2", []):
            book_pool.spec.state.quiet = True
        target = w.by_address[other]  # the pair's volatility (its fee) stays at rest

        def knock(world: Any) -> list[Any]:  # one big trade on the other pool a slot
            t = world.swap(target, True, world._trade_size(target, True, 0.1))
            return [] if t is None else [t]

        def many(o: Any) -> bool:
            return bool(o.amount_in > 0 and o.hop_steps[list(o.pools).index(pool)] >= 10)

        o, _ = await knock_until(
            s,
            knock,
            lambda: next(
                (
                    v
                    for k, v in sorted(s.live.items())
                    if v[1].go
                    and k[0] == s.base_mints[0]
                    and set(k[1]) == {pool, other}
                    and many(v[0])
                ),
                None,
            ),
            timeout=40,
        )
        i = o.pools.index(pool)
        priced = s.ev.fees_of((o.base_mint, tuple(o.pools)))
        budget = s.ev.costs[(o.base_mint, tuple(o.pools))].budget
        assert budget.steps[i] == o.hop_steps[i] >= 10, (o.hop_steps, budget)
        assert budget.hops[i] == DL.COMPUTE_UNITS.limit(o.hop_steps[i]) < DL.COMPUTE_UNITS.limit()
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        order = await finished(s, 1)
        assert order.status == "confirmed", order.detail
        assert order.steps == list(o.hop_steps)
        assert order.cu_priced == priced.cu_limit == budget.limit
        ex = s.ev.executor
        _, acc_before, _, _, landed = landings[order.signature]
        created = sum(1 for t in set(order.tokens) if ex.core.ata(t) not in acc_before)
        assert not order.created_apart
        assert requested_cu(s.feeds.server.chain.ledger[order.signature].tx) == order.cu_limit
        # the accounts the scorer counted are those the order created: the same limit
        assert order.cu_limit == priced.cu_limit + CU_ATA * (created - budget.accounts)
        assert landed.err is None


def requested_cu(tx: Any) -> int:
    """The compute-unit limit a transaction requests (its ``SetComputeUnitLimit``)."""
    msg = tx.message
    keys = [str(k) for k in msg.account_keys]
    for ix in msg.instructions:
        data = bytes(ix.data)
        if keys[ix.program_id_index] == I.COMPUTE_BUDGET and data[:1] == b"\x02":
            return int.from_bytes(data[1:5], "little")
    raise AssertionError("no SetComputeUnitLimit")


def _journal_steps(db: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT payload FROM events WHERE kind = 'tx' ORDER BY seq").fetchall()
    finally:
        con.close()
    return [(p["step"], p["signature"]) for p in (json.loads(r[0]) for r in rows)]


# ------------------------------------------------------------------ guard rails
async def test_a_keypair_others_can_read_is_refused_and_nothing_is_sent(keyfile: Path) -> None:
    os.chmod(keyfile, 0o644)
    async with live_session(keyfile, seed=12) as s:
        assert s.feeds.server is not None
        ok, why = await s.desk.request_live()
        assert not ok and "chmod 600" in why and str(keyfile) in why
        assert s.ev.mode == "PAPER"
        assert any(c.startswith("✗ keypair") and "0644" in c for c in s.desk.live_checks())
        st = s.feeds.server.chain.stats
        assert (st.simulated, st.sent, st.bundles) == (0, 0, 0)


def test_keypair_guard_rails_name_the_file_and_never_its_content(tmp_path: Path) -> None:
    repo = tmp_path / "checkout"
    (repo / ".git").mkdir(parents=True)
    inside = repo / "secrets" / "k.json"
    inside.parent.mkdir()
    good = write_keypair(tmp_path / "k.json")
    inside.write_bytes((tmp_path / "k.json").read_bytes())
    os.chmod(inside, 0o600)
    with pytest.raises(KeypairError, match="inside the git repository"):
        load_wallet(inside)
    with pytest.raises(KeypairError, match="inside the git repository"):
        write_keypair(repo / "new.json")
    junk = tmp_path / "junk.json"
    junk.write_text(json.dumps(list(range(64))))  # 64 bytes whose public half is wrong
    os.chmod(junk, 0o600)
    with pytest.raises(KeypairError, match="not a Solana keypair") as e:
        load_wallet(junk)
    # the file is named, its bytes never shown (the path itself may hold any digits:
    # pytest numbers its temporary directories)
    shown = str(e.value).replace(str(junk), "<path>")
    assert "<path>" in shown and "63" not in shown and "1, 2" not in shown
    with pytest.raises(KeypairError, match="no such file"):
        load_wallet(tmp_path / "missing.json")
    with pytest.raises(KeypairError, match="already exists"):
        write_keypair(tmp_path / "k.json")
    assert repr(good).startswith("Wallet(") and "keypair" not in repr(good).lower().split("path")[0]
    if os.getuid() == 0:  # root can give the file away: owned by someone else is refused
        os.chown(tmp_path / "k.json", 4242, -1)
        with pytest.raises(KeypairError, match="owned by uid 4242"):
            load_wallet(tmp_path / "k.json")


@pytest.mark.slow
async def test_caps_refuse_before_anything_is_sent(keyfile: Path) -> None:
    async with live_session(keyfile, seed=13, max_trade=10**12, max_day=10**12) as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        assert (await s.desk.request_live())[0]
        s.ev.broker.auto = False  # type: ignore[union-attr]
        o, _ = await go_cycle(s)
        ex = s.ev.executor
        ex.config = replace(ex.config, max_trade=o.amount_in - 1)
        why = s.desk.trade(o.base_mint, list(o.pools))
        assert why.startswith("live refused: size") and "per-trade cap" in why
        ex.config = replace(ex.config, max_trade=10**12)
        ex.core.spent_today = 10**12 - o.amount_in + 1
        why = s.desk.trade(o.base_mint, list(o.pools))
        assert "daily cap" in why and "used today" in why
        ex.core.spent_today = 0
        ex.config = replace(ex.config, max_open=1)
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""  # one open order...
        other = next(
            (
                v
                for k, v in sorted(s.live.items())
                if k[1] != tuple(o.pools) and k[0] == o.base_mint
            ),
            None,
        )
        if other is not None:  # ...and no second one while it is in flight
            assert "max open orders" in s.desk.trade(other[0].base_mint, list(other[0].pools))
        await finished(s, 1)
        # one swap transaction sent (a cycle whose swaps fit only without creating the
        # new token accounts creates them first, in a transaction of its own)
        swaps = [
            st
            for st in s.feeds.server.chain.ledger.values()
            if {str(k) for k in st.tx.message.account_keys} & VENUE_PROGRAMS
        ]
        assert len(swaps) == 1
        assert sent(s) + s.feeds.server.chain.stats.bundles <= 2


async def test_caps_and_a_sending_route_are_required_to_arm(keyfile: Path) -> None:
    async with live_session(keyfile, seed=14, max_trade=None, max_day=None) as s:
        ok, why = await s.desk.request_live()
        assert not ok and "caps not set" in why
    async with live_session(keyfile, seed=14, jito="http://127.0.0.1:9", tip_lamports=10) as s:
        ok, why = await s.desk.request_live()
        assert not ok and "tip of at least 1000" in why


@pytest.mark.slow
async def test_a_failed_simulation_refuses_the_order_and_sends_nothing(keyfile: Path) -> None:
    async with live_session(keyfile, seed=15, max_slippage_bps=1) as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        assert (await s.desk.request_live())[0]
        s.ev.broker.auto = False  # type: ignore[union-attr]
        o, _ = await go_cycle(s)
        # the pool moves against us on chain; the local graph has not heard of it yet
        w = s.feeds.server.world
        pool = w.by_address[o.pools[0]]
        a_to_b = o.tokens[0] == pool.mint_a  # ahead of us, our way: our output shrinks
        w.swap(pool, a_to_b, w._trade_size(pool, a_to_b, 0.02))
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        order = await finished(s, 1)
        assert order.status == "refused"
        assert order.detail.startswith("simulation failed") and (
            "ExceededSlippage" in order.detail
            or "AmountOutBelowMinimum" in order.detail
            or "InsufficientFunds" in order.detail
        )
        # the swap never reaches the chain; the only transaction that may have is the one
        # creating token accounts the swap did not have room for (its own, journaled step)
        prepared = "accounts" in order.ms
        st = s.feeds.server.chain.stats
        assert (st.simulated, sent(s), st.bundles) == (1 + prepared, int(prepared), 0)
        assert order.signature not in s.feeds.server.chain.statuses
        # a hop paid less than its quote: the cycle's pools are read again at once, and the
        # cycle is not sent again on its own until the pool at fault changed
        ex = s.ev.executor
        key = (o.base_mint, tuple(o.pools))
        assert (
            ex.core.stale_refusals == 1
            and s.feeds.pool is not None
            and s.feeds.pool.reconciler is not None
        )
        assert s.feeds.pool.reconciler.stats.urgent >= len(o.pools)
        decided = ex.core.traded[key]
        assert ex.core.stale_block(key, decided).startswith("refused when a hop paid less")
        assert ex.core.stale_block(key, tuple(x + 1 for x in decided)) == ""
        assert ex.core.stale_block(key, decided) == ""  # once changed, the block is gone


@pytest.mark.slow
async def test_the_kill_switch_during_a_pending_send_sends_nothing(keyfile: Path) -> None:
    async with live_session(keyfile, seed=16) as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        assert (await s.desk.request_live())[0]
        s.ev.broker.auto = False  # type: ignore[union-attr]
        o, _ = await go_cycle(s)
        s.feeds.server.tx_delay_s = 0.8  # the node is slow to answer the simulation
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        order = s.ev.executor.orders[-1]
        await tick_until(s, lambda: order.status == "signed")  # simulation in flight
        eps = s.feeds.server.endpoints

        def simulations() -> int:  # simulations the node answered
            return sum(e.served.get("simulateTransaction", [0])[0] for e in eps)

        answered = simulations()
        cancelled = (
            s.desk.kill()
        )  # synchronous: cancelled when it returns, not when the node answers
        assert cancelled >= 1 and order.status == "cancelled" and s.ev.mode == "PAPER"
        # the node answers the simulation that was in flight (0.8 s on); past that answer
        await tick_until(s, lambda: simulations() > answered)
        s.tick()
        st = s.feeds.server.chain.stats
        # only the transaction creating token accounts the swap had no room for, if any
        prepared = int("accounts" in order.ms)
        assert (sent(s), st.bundles) == (prepared, 0)
        assert order.signature not in s.feeds.server.chain.statuses
        assert not s.ev.executor.armed and order.status == "cancelled"
        assert s.desk.trade(o.base_mint, list(o.pools)) in (
            "",
            "already pending",
            "traded in this pool state",
        )  # paper only
        assert sent(s) == prepared


async def test_live_is_refused_against_a_simulator_that_does_not_accept_transactions(
    keyfile: Path,
) -> None:
    async with live_session(keyfile, seed=17, accept=False) as s:
        ok, why = await s.desk.request_live()
        assert not ok and "--sim-accept-tx" in why
        assert s.ev.executor is not None
        # and the executor itself, pointed at that simulator, asks it (simInfo)
        ok, why = await s.ev.executor.arm()
        assert not ok and "does not accept transactions" in why and "--accept-tx" in why


async def test_live_is_impossible_in_a_replay(tmp_path: Path) -> None:
    """A replay has no live capability at all (the dashboard shows m and the trading
    keys dimmed), and the session it replays into has no executor to arm."""
    import shutil

    from arbscope.replay import ReplaySession, load_info
    from tui.source import LiveArming, Trading

    db = tmp_path / "replay.sqlite"  # a copy: opening a journal switches it to WAL
    shutil.copyfile(Path(__file__).resolve().parents[2] / "data" / "replay-seed2.sqlite", db)
    info = await load_info(db, "")
    r = ReplaySession(db, info, shadow=False)
    assert not isinstance(r, LiveArming) and not isinstance(r, Trading)
    assert r.session.ev.executor is None and r.session.ev.mode == "PAPER"
    ok, why = await r.session.desk.request_live()
    assert not ok and "no live configuration" in why


# ------------------------------------------------------------------ secrets
@pytest.mark.slow
async def test_secrets_never_reach_the_journal_the_logs_or_the_screen(
    keyfile: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.support.staging import fix_app
    from tui.app import ArbscopeApp

    caplog.set_level(logging.DEBUG)
    wallet = load_wallet(keyfile)
    secret_bytes = bytes(wallet.keypair)
    api_key = "K3yZ9vRt7Qp2Lm8Ns4Wx6Yb1"
    secrets = [
        api_key,
        b58encode(secret_bytes),
        json.dumps(list(secret_bytes)),
        secret_bytes[:32].hex(),
        b58encode(secret_bytes[:32]),
    ]
    db = tmp_path / "j.sqlite"
    async with live_session(keyfile, seed=11, db=db) as s:
        assert s.ev.executor is not None
        url = s.feeds.endpoints[0].http + f"/?api-key={api_key}"
        s.ev.executor.config = replace(s.ev.executor.config, rpc=url)
        s.desk.config = s.ev.executor.config
        assert (await s.desk.request_live())[0]
        s.ev.broker.auto = False  # type: ignore[union-attr]
        o, _ = await go_cycle(s)
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        order = await finished(s, 1)
        assert order.status == "confirmed", order.detail
        screens = []
        app = fix_app(ArbscopeApp(s))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("m")
            await pilot.pause(0.2)
            screens.append(app.export_screenshot())  # the confirmation lists the guard rails
            await pilot.press("escape")
            await pilot.pause(0.4)
            screens.append(app.export_screenshot())
        assert "api-key=***" in screens[0] or "***" in screens[0]
    raw = db.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("j.sqlite-*"))
    text = "\n".join([caplog.text, *screens, repr(s.desk.config), str(s.life.config())])
    for secret in secrets:
        assert secret not in text, secret[:6]
        assert secret.encode() not in raw, secret[:6]
    assert wallet.pubkey in caplog.text  # the public key is fine to show


def test_failures_are_named_in_the_programs_own_terms() -> None:
    from solders.pubkey import Pubkey

    from arbscope.execution.live import describe_error
    from feeds.venues import orca_whirlpool, raydium_amm_v4, raydium_cpmm

    k = str(Pubkey.new_unique())
    cb = [I.set_compute_unit_limit(1), I.set_compute_unit_price(1)]
    v4 = raydium_amm_v4.swap_base_in(k, k, k, k, k, k, 1, 1)
    cp = raydium_cpmm.swap_base_input(k, k, k, k, k, k, k, k, k, k, k, k, 1, 1)
    wp = orca_whirlpool.swap(k, k, k, k, k, k, [k, k, k], k, 1, 1, True)
    ixs = [*cb, v4, cp, wp]

    def err(i: int, code: int) -> str:
        return describe_error({"InstructionError": [i, {"Custom": code}]}, ixs)

    assert err(2, 30).endswith("ExceededSlippage") and err(3, 6005).endswith("ExceededSlippage")
    assert err(4, 6036).endswith("AmountOutBelowMinimum")
    assert err(2, 40).endswith("InsufficientFunds")  # the first hop: the wallet itself
    assert err(3, 1).endswith(
        "InsufficientFunds (token transfer) (the hop before gave less "
        "than its quote: its pool moved)"
    )
    assert describe_error("BlockhashNotFound", ixs) == "BlockhashNotFound"
    # the hop whose pool paid less than its quote: a hop's own slippage error is that
    # hop's, a later hop short of funds the hop's before; anything else names none
    from arbscope.execution.orders import hop_under_quote

    def at_fault(i: int, code: int) -> int | None:
        return hop_under_quote({"InstructionError": [i, {"Custom": code}]}, ixs)

    assert (at_fault(2, 30), at_fault(3, 6005), at_fault(4, 6036)) == (0, 1, 2)
    assert at_fault(3, 1) == 0 and at_fault(4, 1) == 1
    assert at_fault(2, 40) is None  # the first hop short: the wallet's, no pool's
    assert at_fault(0, 30) is None and at_fault(3, 6000) is None
    assert hop_under_quote("BlockhashNotFound", ixs) is None


# ------------------------------------------------------------------ the day's cap across runs
@pytest.mark.slow
async def test_the_daily_cap_counts_every_session_of_the_journal_that_day(
    keyfile: Path, tmp_path: Path
) -> None:
    """Two sessions on one journal at once, then a third after them: the UTC day's total
    is read from the journal (the other sessions' ``tx`` events) when live is armed and
    every second after, and from its day file before each order goes on; an order that would pass the cap is refused, naming
    the cap, the day's total and where it came from, and nothing is sent."""
    db = tmp_path / "j.sqlite"
    async with (
        live_session(keyfile, seed=21, db=db) as a,
        live_session(keyfile, seed=22, db=db) as b,
    ):
        assert (
            a.ev.executor is not None and b.ev.executor is not None and b.feeds.server is not None
        )
        assert (await a.desk.request_live())[0] and (await b.desk.request_live())[0]
        for s in (a, b):
            s.ev.broker.auto = False  # type: ignore[union-attr]
        oa, _ = await go_cycle(a)
        assert a.desk.trade(oa.base_mint, list(oa.pools)) == ""
        order_a = await finished(a, 1)
        assert order_a.status == "confirmed", order_a.detail
        spent_a = order_a.amount_in
        ob, _ = await go_cycle(b)
        cap = spent_a + ob.amount_in - 1  # B's order alone fits; with A's it does not
        b.ev.executor.config = replace(b.ev.executor.config, max_day=cap)
        # B's total as read before A's order (its keeper reads the journal every second,
        # and submit refuses on what it read: here, before the keeper's next look)...
        b.ev.executor.core.spent_elsewhere = 0
        assert b.desk.trade(ob.base_mint, list(ob.pools)) == ""
        order_b = await finished(b, 1)
        assert order_b.status == "refused"  # ...the day file, read again, refuses it
        for text in (f"daily cap {cap:,}", f"{spent_a:,} used today", "1 other session", str(db)):
            assert text in order_b.detail, order_b.detail
        st = b.feeds.server.chain.stats
        assert sent(b) + st.bundles == 0 and b.ev.executor.core.spent_today == 0
    # a later process the same day: the total is loaded when live is armed
    async with live_session(keyfile, seed=13, db=db) as c:
        assert c.ev.executor is not None and c.feeds.server is not None
        assert (await c.desk.request_live())[0]
        assert c.ev.executor.core.spent_elsewhere == spent_a
        c.ev.broker.auto = False  # type: ignore[union-attr]
        oc, _ = await go_cycle(c)
        c.ev.executor.config = replace(c.ev.executor.config, max_day=spent_a + oc.amount_in - 1)
        why = c.desk.trade(oc.base_mint, list(oc.pools))
        assert f"daily cap {spent_a + oc.amount_in - 1:,}" in why and f"{spent_a:,} used" in why
        assert "1 other session in journal" in why
        c.ev.executor.config = replace(c.ev.executor.config, max_day=spent_a + oc.amount_in)
        assert c.desk.trade(oc.base_mint, list(oc.pools)) == ""  # exactly at the cap: it goes
        order_c = await finished(c, 1)
        assert order_c.status == "confirmed", order_c.detail


async def test_live_does_not_arm_without_a_journal_to_keep_the_day_total(keyfile: Path) -> None:
    config = LiveConfig(keypair=str(keyfile), **CAPS)
    s = sources.session(
        sources.Watch(seed=24),
        sources.Evaluation(shadow=False),
        sim=sources.SimSettings(world=quiet(24), endpoints=1, accept_tx=True),
        record=None,
        live=config,
    )
    await s.start()
    try:
        ok, why = await s.desk.request_live()
        assert not ok and "needs the journal" in why and "--no-record" in why
        assert s.feeds.server is not None and s.feeds.server.chain.stats.sent == 0
    finally:
        await s.stop()


def test_day_spent_counts_what_was_or_may_have_been_sent() -> None:
    from arbscope.execution.live import day_spent
    from storage.journal import Event

    day, t0 = "2026-03-04", 1_772_582_400.0  # 2026-03-04 00:00 UTC

    def ev(seq: int, step: str, amount: int = 0, d: str | None = day) -> Event:
        p: dict[str, Any] = {"seq": seq, "step": step, "amount_in": amount}
        if d is not None and step == "accepted":
            p["day"] = d
        return Event(0, "tx", 0, 0, p)

    rows = [
        ("s1", t0, 0, ev(1, "accepted", 100)),
        ("s1", t0, 0, ev(1, "sent")),
        ("s1", t0, 0, ev(1, "confirmed")),  # sent: counts
        ("s1", t0, 0, ev(2, "accepted", 20)),
        ("s1", t0, 0, ev(2, "refused")),  # never sent
        ("s1", t0, 0, ev(3, "accepted", 3)),
        ("s1", t0, 0, ev(3, "cancelled")),  # never sent
        ("s1", t0, 0, ev(4, "accepted", 4000)),  # its process died: it may have gone out
        ("s2", t0, 0, ev(1, "accepted", 50000)),
        ("s2", t0, 0, ev(1, "sent")),
        ("s2", t0, 0, ev(1, "error")),  # an error after the send: counts
        ("s2", t0, 0, ev(2, "accepted", 600000, d="2026-03-03")),  # another day
        (
            "s3",
            t0 - 3600,
            10**9,
            Event(
                0, "tx", 0, 2 * 10**9 + 3600 * 10**9, {"seq": 1, "step": "accepted", "amount_in": 7}
            ),
        ),
    ]
    # s3 (an older recording, no "day"): started 23:00 the day before, 1 h + 1 s in: today
    assert day_spent(rows, day) == (100 + 4000 + 50000 + 7, 3)
    assert day_spent(rows, "2026-03-03") == (600000, 1)


# markets with two pools of a Token-2022 fee mint against SOL: the venues each pairs
FEE_PAIRS = {1: "whirlpool·cpmm", 16: "whirlpool·dlmm", 30: "damm_v2·clmm", 3: "dlmm·cpmm"}


@pytest.mark.slow
@pytest.mark.parametrize("seed", sorted(FEE_PAIRS), ids=lambda s: FEE_PAIRS[s])
async def test_a_live_cycle_through_a_fee_mint_lands_with_the_fee_counted_to_the_unit(
    keyfile: Path, tmp_path: Path, seed: int
) -> None:
    """A 2-hop SOL cycle through two pools of a Token-2022 mint with a transfer fee
    (each venue's Token-2022 instruction: Whirlpool swap_v2, DLMM swap2, CLMM swap_v2,
    CP-Swap and DAMM v2 with the mint's program): the order's quote is the engine's, net of the fee
    on every transfer of the mint, and it is what lands, to the unit — the wallet's SOL
    grows by exactly the last hop's quote less the input, its account of the fee mint
    ends as it began (the second hop spends exactly what arrived), and the fees sit
    withheld in the vault and in the wallet's account."""
    from feeds.sim import token as T

    world = replace(quiet(seed), venue_mix=True)
    async with live_session(keyfile, seed=seed, db=tmp_path / "j.sqlite", world=world) as s:
        assert s.feeds.server is not None and s.ev.executor is not None
        w = s.feeds.server.world
        sol = w.bases[0]
        fee_mint = next(
            m
            for m in w.fee_configs
            if len([p for p in w.pools if {p.mint_a, p.mint_b} == {sol, m}]) >= 2
        )
        pools = [p for p in w.pools if {p.mint_a, p.mint_b} == {sol, fee_mint}][:2]
        assert "·".join(p.kind for p in pools) in (
            FEE_PAIRS[seed],
            "·".join(FEE_PAIRS[seed].split("·")[::-1]),
        )
        landings = record_landings(s)
        ok, why = await s.desk.request_live()
        assert ok, why
        s.ev.broker.auto = False  # type: ignore[union-attr]
        # knock the pool that moves farthest (a constant-product one, where there is one)
        order = ["cpmm", "damm_v2", "whirlpool", "clmm", "dlmm"]
        target = min(pools, key=lambda p: order.index(p.kind))
        pair = {p.address for p in pools}

        frac = [0.01]

        def knock(world: Any) -> list[Any]:  # a trade on the pool a slot, as big as the
            # pool takes (a Whirlpool's loadable tick arrays bound it): the fee is paid
            # on both legs of the mint, so the cycle needs a wide gap
            t = world.swap(target, True, world._trade_size(target, True, frac[0]))
            frac[0] = frac[0] / 2 if t is None else min(0.2, frac[0] * 1.5)
            return [] if t is None else [t]

        o, _ = await knock_until(
            s,
            knock,
            lambda: next(
                (
                    v
                    for k, v in sorted(s.live.items())
                    if v[1].go and k[0] == sol and set(k[1]) == pair
                ),
                None,
            ),
            timeout=40,
        )
        ex = s.ev.executor
        assert ex.core.graph().mint_fee(fee_mint) is not None  # the feed told the graph the fee
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        order = await finished(s, 1)
        assert order.status == "confirmed", order.detail
        _, before, _, after, landed = landings[order.signature]
        assert landed.err is None
        me = ex.core.wallet.pubkey  # type: ignore[union-attr]
        sol_ata = I.ata_address(me, sol)
        fee_ata = I.ata_address(me, fee_mint, I.TOKEN_2022)
        assert amount(after, sol_ata) - amount(before, sol_ata) == order.hops[-1] - order.amount_in
        assert amount(after, fee_ata) == amount(before, fee_ata)  # hop 2 spent what arrived
        # the fee on each transfer of the mint, withheld where it arrived
        cfg, epoch = w.fee_configs[fee_mint], w.epoch()
        got = order.hops[1]  # what arrived in the wallet's account after hop 1
        first = w.by_address[order.pools[0]]
        vault_out = first.vault_a if first.mint_a == fee_mint else first.vault_b
        out_of_pool = amount(before, vault_out) - amount(after, vault_out)
        fee_out = w.eng.transfer_fee(cfg, epoch, out_of_pool)
        assert out_of_pool - fee_out == got and fee_out > 0
        held = T.withheld(after[fee_ata][1]) - T.withheld(before.get(fee_ata, (0, b""))[1])
        assert held == fee_out
        second = w.by_address[order.pools[1]]
        vault_in = second.vault_a if second.mint_a == fee_mint else second.vault_b
        assert T.withheld(after[vault_in][1]) - T.withheld(before[vault_in][1]) == (
            w.eng.transfer_fee(cfg, epoch, got)
        )


@pytest.mark.slow
async def test_a_cycle_through_a_damm_v2_pool_fills_on_paper_at_the_pools_own_swap(
    keyfile: Path, tmp_path: Path
) -> None:
    """Paper (not armed): a 2-hop cycle through a Meteora DAMM v2 pool knocked off its
    price fills, and its DAMM hop is the program's swap on the pool account as the session
    last read it (the engine's ``meteora_damm_v2.swap`` on those bytes at the clock's
    point), not a curve of the paper broker's own."""
    pool, other = _pair_through(7, "damm_v2")
    world = replace(quiet(7), venue_mix=True)
    async with live_session(keyfile, seed=7, db=tmp_path / "j.sqlite", world=world) as s:
        assert s.feeds.server is not None and s.ev.broker is not None
        w, b = s.feeds.server.world, s.ev.broker
        b.auto = False
        target = w.by_address[pool]
        o, _ = await knock_into_go(s, target, {pool, other})
        before = w.accounts[pool].data  # the quiet market: the pool as the fill meets it
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        fill = await tick_until(s, lambda: next((f for f in b.fills if not f.live_seq), None))
        assert fill.ok and fill.pnl > 0, fill.reason
        i = fill.pools.index(pool)
        a_to_b = fill.tokens[i] == target.mint_a
        point = w.slot if target.record.activation_type == 0 else w.unix_time()
        want = w.eng.meteora_damm_v2.swap(before, point, fill.hop_amounts[i], a_to_b)
        assert not isinstance(want, str) and fill.hop_amounts[i + 1] == want.output_amount


@pytest.mark.slow
async def test_a_paper_order_through_a_manifest_market_fills_at_its_quote(
    keyfile: Path, tmp_path: Path
) -> None:
    """Paper: a 2-hop cycle through a Manifest market (read from the simulator's market
    accounts, quoted by the engine's walk of its book) is knocked into a GO, traded on
    paper, and filled at its quote in a quiet market (the makers hold still)."""
    pool, other = _pair_through(1, "manifest")
    world = replace(quiet(1), venue_mix=True)
    async with live_session(keyfile, seed=1, db=tmp_path / "j.sqlite", world=world) as s:
        assert s.feeds.server is not None
        w = s.feeds.server.world
        s.ev.broker.auto = False  # type: ignore[union-attr]
        for book_pool in w.venue_state.get("manifest", []):
            book_pool.spec.state.quiet = True
        still = w.slot
        await tick_until(s, lambda: s.slot > still + 2)
        target = w.by_address[other]
        o, _ = await knock_into_go(s, target, {pool, other})
        assert "manifest" in [w.by_address[p].kind for p in o.pools]
        assert s.desk.trade(o.base_mint, list(o.pools)) == ""
        fills = s.ev.broker.fills  # type: ignore[union-attr]
        await tick_until(s, lambda: len(fills) > 0)
        f = fills[-1]
        assert f.ok, f.reason
        assert pool in f.pools and f.amount_in == o.amount_in
        assert f.amount_out == f.expected_out == o.amount_out and f.pnl > 0

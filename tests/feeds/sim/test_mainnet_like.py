"""The traits of mainnet's stream the default simulated one lacks (``WorldConfig``
``full_logs``, ``failed_swap_rate``; ``arbscope sim --mainnet-like``): each is off by
default; on, logs carry the compute-unit lines, the inner SPL Token transfers and the
programs' events, and some swaps fail on slippage. What the programs write on every
swap is no trait: AMM v4 and CP-Swap pool accounts (and CP-Swap's observation) change
with every swap as the programs write them, in every world. arbscope's ingest copes with
each, down both engine backends: the pool-account notifications keep every pool's
identity and slot order and the graph ends equal to the world's; a failed swap is no
trade."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import types
from typing import Any

import pytest

from engine_rs.records import as_dict
from feeds.clients.pool import Endpoint, FeedPool
from feeds.sim.programs import SIMULATED
from feeds.sim.server import EndpointProfile, SimServer, _logs_notification
from feeds.sim.world import World, WorldConfig
from feeds.venues import VENUES, by_kind
from feeds.wire.instructions import SPL_TOKEN
from tests.support.feeds import QUICK, healthy, market_equal
from tests.support.hostile import until, until_answered

SMALL: dict[str, Any] = dict(seed=9, tokens=6, pools=12, trades_per_slot=8)


def test_each_trait_is_off_by_default_and_leaves_the_markets_draws_alone() -> None:
    """Default worlds and ones with full logs and failed swaps trade the same swaps at
    the same prices: those traits add to the stream, they do not change the market."""
    plain = World(WorldConfig(**SMALL))
    like = World(WorldConfig.mainnet_like(**SMALL))
    assert not WorldConfig().full_logs
    assert WorldConfig().failed_swap_rate == 0
    failed = 0
    for _ in range(30):
        a, b = plain.step(), like.step()
        assert [(t.pool, t.a_to_b, t.amount_in, t.amount_out) for t in a.trades] == [
            (t.pool, t.a_to_b, t.amount_in, t.amount_out) for t in b.trades
        ]
        assert not a.failed and all(not t.logs for t in a.trades)
        assert a.changed == b.changed
        failed += len(b.failed)
    assert failed > 0


def test_pool_accounts_are_written_as_the_programs_write_them() -> None:
    """By default: AMM v4 adds each swap to its ``state_data`` counters; CP-Swap keeps
    the protocol's and the fund's share of the trade fee in ``PoolState``, out of the
    reserves, and records the price in its ``ObservationState``; both write the epoch.
    (``tests/judge/`` compares the bytes with the real programs'.)"""
    w = World(WorldConfig(**SMALL))
    before = {p.address: w.accounts[p.address].data for p in w.pools}
    cp = by_kind("cpmm")
    observations = {
        p.address: w.accounts[p.record.observation_key].data for p in w.pools if p.kind == "cpmm"
    }
    seen: dict[str, int] = {}
    for _ in range(20):
        res = w.step()
        for t in res.trades:
            if t.program in (by_kind("amm_v4").program, by_kind("cpmm").program):
                assert t.pool in res.changed
                assert res.changed.index(t.pool) < res.changed.index(w.by_address[t.pool].vault_a)
                seen[t.pool] = seen.get(t.pool, 0) + 1
    for addr in seen:
        pool = w.by_address[addr]
        data = w.accounts[addr].data
        assert data != before[addr]
        if pool.kind == "amm_v4":
            coin_in = int.from_bytes(data[256:272], "little")
            pc_in = int.from_bytes(data[296:312], "little")
            assert coin_in + pc_in > 0
            assert int.from_bytes(data[736:744], "little") == w.epoch()  # recent_epoch
        else:
            rec = cp.decode_pool(w.eng, data, cp.program)
            assert rec.recent_epoch == w.epoch()
            obs = w.accounts[rec.observation_key]
            assert obs.owner == cp.program and obs.data != observations[addr]
            assert obs.data[8] == 1  # initialized by the first swap
            held = (
                rec.protocol_fees_token_0 + rec.fund_fees_token_0,
                rec.protocol_fees_token_1 + rec.fund_fees_token_1,
            )
            assert held == (pool.fees_a, pool.fees_b) and sum(held) > 0
            assert w.balance(pool.vault_a) - pool.fees_a == pool.spec.reserve_a
            assert w.balance(pool.vault_b) - pool.fees_b == pool.spec.reserve_b


def test_full_logs_carry_compute_units_inner_transfers_and_swap_events(
    eng: types.ModuleType,
) -> None:
    w = World(WorldConfig(**SMALL, full_logs=True))
    trades = [t for _ in range(20) for t in w.step().trades]
    kinds = {t.program for t in trades}
    first = {by_kind(k).program for k in ("amm_v4", "cpmm", "whirlpool")}
    assert first <= kinds <= {v.program for v in VENUES}
    for t in trades:
        assert t.logs[0] == f"Program {t.program} invoke [1]"
        assert t.logs[-1] == f"Program {t.program} success"
        assert t.logs[-2].startswith(f"Program {t.program} consumed ")
        assert t.logs.count(f"Program {SPL_TOKEN} invoke [2]") == 2
        assert sum(x.endswith(" compute units") for x in t.logs) == 3
        events = [x for x in t.logs if x.startswith("Program data: ")]
        if t.program == by_kind("cpmm").program:  # CP-Swap's SwapEvent, as the engine reads it
            (line,) = events
            ev = as_dict(eng.parse_program_data(line[len("Program data: ") :], t.program))
            pool = w.by_address[t.pool]
            mints = (pool.mint_a, pool.mint_b) if t.a_to_b else (pool.mint_b, pool.mint_a)
            assert (ev["pool_id"], ev["input_amount"], ev["output_amount"]) == (
                t.pool,
                t.amount_in,
                t.amount_out,
            )
            assert (ev["input_mint"], ev["output_mint"], ev["base_input"]) == (*mints, True)
            assert ev["trade_fee"] > 0 and ev["input_vault_before"] > 0
        if t.program == by_kind("pumpswap").program:  # a SellEvent or a BuyEvent
            (line,) = events
            ev = as_dict(eng.parse_program_data(line[len("Program data: ") :], t.program))
            assert (ev["pool"], ev["buy"]) == (t.pool, not t.a_to_b)
            base_amount, quote_amount = (
                (t.amount_in, ev["user_quote_amount"])
                if t.a_to_b
                else (t.amount_out, ev["quote_amount"])
            )
            assert ev["base_amount"] == base_amount
            assert (t.amount_out if t.a_to_b else t.amount_in) == quote_amount
        if t.program == by_kind("clmm").program:  # Raydium CLMM's SwapEvent, before transfers
            (line,) = events
            assert t.logs.index(line) < t.logs.index(f"Program {SPL_TOKEN} invoke [2]")
            ev = as_dict(eng.parse_program_data(line[len("Program data: ") :], t.program))
            amounts = (t.amount_in, t.amount_out) if t.a_to_b else (t.amount_out, t.amount_in)
            assert (ev["pool_state"], ev["zero_for_one"]) == (t.pool, t.a_to_b)
            assert (ev["amount_0"], ev["amount_1"]) == amounts


def _logs_frame(sid: int, slot: int, signature: str, err: Any, logs: tuple[str, ...]) -> bytes:
    value = json.dumps({"signature": signature, "err": err, "logs": list(logs)})
    return _logs_notification(sid, slot, value).encode()


BOOK_PROGRAMS = {v.program for v in VENUES if v.ids.graph_kind == "book"}
CPI_ONLY = {
    s.venue.program for s in SIMULATED if s.logs.cpi_events is not None and s.logs.event is None
}


def test_a_failed_swap_is_no_trade_to_the_ingest(eng: types.ModuleType) -> None:
    """Every logs notification of a mainnet-like slot (full logs: each successful swap's
    one swap line among transfers and compute units) fed to the ingest: each counts as
    logs; each successful swap is one swap, a failed one none (even AMM v4's, whose
    ``ray_log`` comes before the slippage check that fails it)."""
    w = World(WorldConfig.mainnet_like(**SMALL))
    ing = eng.FeedIngest(eng.PoolGraph(base_mints=w.bases, max_hops=3))
    ing.bind(0, 1, by_kind("amm_v4").program, "logs")
    ok = failed = logged = books = unlogged = fills = 0
    for _ in range(30):
        res = w.step()
        for t in res.trades:
            ing.frame(0, _logs_frame(1, res.slot, t.signature, None, t.logs), time.monotonic_ns())
        for f in res.failed:
            ing.frame(0, _logs_frame(1, res.slot, f.signature, f.err, f.logs), time.monotonic_ns())
        # an order book's taker order logs its TotalOrderFillEvent: a swap to the ingest
        # like the others (its TakerSignatureLog lines are none)
        ok, failed = ok + len(res.trades), failed + len(res.failed)
        # a program that emits its event by self-CPI only (DLMM, DAMM v2) logs no swap line:
        # its trades are no swaps to a logs subscription (the pool account says they were)
        unlogged += sum(t.program in CPI_ONLY for t in res.trades)
        # a Manifest taker's swap logs a FillLog per maker order it fills: that many
        # swaps to the ingest (one more than one swap for each beyond the first)
        fills += sum(max(0, _fill_logs(t.logs) - 1) for t in res.trades)
        books += sum(t.program in BOOK_PROGRAMS for t in res.trades)
        logged += sum(any("ray_log: " in x for x in f.logs) for f in res.failed)
    stats = ing.stats()
    # AMM v4 logs the swap it would have made before its slippage check fails: a swap
    # line in a failed transaction, which the ingest must not count
    assert logged > 0 and failed > logged and books > 0
    assert stats.logs == ok + failed and stats.swaps == ok - unlogged + fills


def _fill_logs(logs: tuple[str, ...]) -> int:
    """How many Manifest ``FillLog`` events (one maker order filled: its discriminator,
    manifest ``logs.rs``) a transaction's logs hold."""
    n = 0
    for line in logs:
        if line.startswith("Program data: "):
            raw = base64.b64decode(line[len("Program data: ") :])
            n += raw[:8] == MANIFEST_FILL_LOG
    return n


MANIFEST_FILL_LOG = bytes([58, 230, 242, 3, 75, 113, 4, 169])


async def test_the_ingest_follows_mainnet_like_pools_to_the_worlds_state(
    eng: types.ModuleType,
) -> None:
    """Three endpoints of a mainnet-like market: the pool accounts' notifications (AMM
    v4, CP-Swap, every swap) keep the pools' identity and slot order — nothing held
    against any endpoint — and the graph ends equal to the world's, CP-Swap's reserves
    less the fees its pool account names."""
    profiles = [EndpointProfile(n, latency_ms=2 + i, jitter_ms=1) for i, n in enumerate("abc")]
    server = SimServer(WorldConfig.mainnet_like(**SMALL), profiles, slot_seconds=0.05)
    infos = await server.start()
    graph = eng.PoolGraph(base_mints=server.world.bases, max_hops=3)
    ing = eng.FeedIngest(graph)
    pool = FeedPool(
        [Endpoint(i.name, i.ws_url, i.http_url) for i in infos],
        ing,
        eng,
        QUICK,
        rpc_timeout_s=5.0,
        maintain_s=0.05,
    )
    try:
        boot = await pool.bootstrap(server.world.universe())
        await pool.start(boot.subscriptions)
        pools = {p.address for p in server.world.pools if p.kind in ("amm_v4", "cpmm")}
        await until(lambda: (st := ing.stats()).swaps >= 40 and st.logs > st.swaps, timeout=90)
        assert pools <= set(ing.watched())
        clock = server._clock
        assert clock is not None
        clock.cancel()
        await until(lambda: market_equal(eng, server, graph), timeout=90)
        for h in pool.health():
            healthy(h)
    finally:
        await pool.stop()
        await server.stop()


@pytest.mark.slow
def test_the_sim_command_serves_a_mainnet_like_market() -> None:
    """``arbscope sim --mainnet-like``: AMM v4 pool accounts carry their swap counters."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from feeds.clients.rpc import RpcClient

    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arbscope",
            "sim",
            "--mainnet-like",
            "--endpoints",
            "1",
            "--slot-ms",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=root,
        env=env,
    )
    program = by_kind("amm_v4").program

    async def counted() -> None:
        assert proc.stdout is not None
        url = [proc.stdout.readline().strip() for _ in range(2)][1]
        async with RpcClient(url) as rpc:

            async def written() -> bool:  # some swap has been written into a pool account
                got = await rpc.call("getProgramAccounts", [program, {"encoding": "base64"}])
                datas = [base64.b64decode(x["account"]["data"][0]) for x in got]
                return any(d[256:272] != bytes(16) or d[296:312] != bytes(16) for d in datas)

            await until_answered(written, timeout=60)

    try:
        asyncio.run(counted())
    finally:
        proc.send_signal(2)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err

"""The simulator speaks the real protocol: solana-py's own clients (which parse every
answer with solders) subscribe and fetch from it, solders decodes its token accounts,
our decoders read its pools, and a graph built from its bytes equals the graph built
from the market it simulates. Its account encoders are checked against the real
mainnet accounts in ../shared/fixtures when present."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import sys
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine_rs.python as py
from engine_rs import decoded as D
from engine_rs.python import decode as twin_decode
from engine_rs.python import venues as twin_venues
from engine_rs.python.venues import manifest as mf
from engine_rs.python.venues import meteora_damm_v2 as dm
from engine_rs.python.venues import meteora_dlmm as dl
from engine_rs.python.venues import openbook_v2 as ob
from engine_rs.python.venues import orca_whirlpool as wp
from engine_rs.python.venues import pump_amm as pa
from engine_rs.python.venues import raydium_amm_v4 as v4
from engine_rs.python.venues import raydium_clmm as rc
from engine_rs.python.venues import raydium_cpmm as cp
from engine_rs.records import as_dict
from feeds.clients.rpc import RpcError
from feeds.sim import layouts as L
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import World, WorldConfig
from feeds.venues import meteora_dlmm as DL
from feeds.venues import orca_whirlpool as WP
from feeds.venues import pump_amm as PA
from feeds.venues.meteora_damm_v2 import sim as DMsim
from feeds.venues.meteora_dlmm import sim as DLsim
from feeds.venues.openbook_v2 import sim as OB
from feeds.venues.orca_whirlpool import sim as WPsim
from feeds.venues.pump_amm import sim as PAsim
from feeds.venues.raydium_amm_v4 import sim as V4
from feeds.venues.raydium_clmm import sim as RC
from feeds.venues.raydium_cpmm import sim as CP
from tests.support.hostile import until

SMALL = WorldConfig(seed=11, tokens=8, pools=16, trades_per_slot=8)
FAST = [EndpointProfile("a", latency_ms=1, jitter_ms=0)]
needs_solana = pytest.mark.skipif(sys.version_info < (3, 11), reason="solana-py needs 3.11")


# ---------------------------------------------------------------- encoders
def test_built_accounts_round_trip_through_the_decoders() -> None:
    w = World(SMALL, backend=py)
    kinds = {p.kind for p in w.pools}
    assert {"amm_v4", "cpmm", "whirlpool"} <= kinds
    dec_of = {
        "amm_v4": v4.decode_raydium_amm_v4,
        "cpmm": cp.decode_raydium_cpmm,
        "whirlpool": wp.decode_whirlpool,
        "clmm": rc.decode_raydium_clmm,
        "dlmm": dl.decode_meteora_lb_pair,
        "pumpswap": pa.decode_pump_amm_pool,
        "openbook": ob.decode_openbook_market,
        "damm_v2": dm.decode_meteora_damm_pool,
        "manifest": mf.decode_manifest_market,
    }
    enc_of = {
        "amm_v4": V4.encode_pool,
        "cpmm": CP.encode_pool,
        "whirlpool": WPsim.encode_pool,
        "clmm": RC.encode_pool,
        "dlmm": DLsim.encode_lb_pair,
        "pumpswap": PAsim.encode_pool,
        "openbook": OB.encode_market,
        "damm_v2": DMsim.encode_pool,
        # a market holds its book (seats and orders, not all in its record): the
        # simulator's book writes it
        "manifest": lambda rec: next(q for q in w.pools if q.record == rec).spec.state.pack(),
    }
    assert kinds <= set(dec_of) == set(enc_of)
    for p in w.pools:
        data = w.accounts[p.address].data
        dec = dec_of[p.kind]
        rec = dec(data, w.accounts[p.address].owner)
        assert as_dict(rec) == as_dict(p.record)
        enc = enc_of[p.kind]
        assert enc(rec) == data
        for v in (p.vault_a, p.vault_b):
            tok = twin_decode.decode_token_account(w.accounts[v].data, twin_decode.SPL_TOKEN)
            assert L.encode_token_account(tok) == w.accounts[v].data
        if p.kind == "dlmm":
            for ba in p.tick_arrays:
                b = dl.decode_meteora_bin_array(w.accounts[ba].data, dl.PROGRAM_ID)
                assert b.lb_pair == p.address and DL.bin_array_address(p.address, b.index) == ba
                assert DLsim.encode_bin_array(b.index, p.address, b.bins) == w.accounts[ba].data
            continue
        for ta in p.tick_arrays:
            if p.kind == "clmm":  # Raydium CLMM's TickArrayState at its own PDA
                t = rc.decode_raydium_clmm_tick_array(w.accounts[ta].data, rc.PROGRAM_ID)
                assert t.pool_id == p.address and len(w.accounts[ta].data) == 10240
                assert rc.raydium_clmm_address("tick_array", p.address, t.start_tick_index)[0] == ta
                continue
            arr = wp.decode_tick_array(w.accounts[ta].data, wp.PROGRAM_ID)
            assert arr.whirlpool == p.address and len(w.accounts[ta].data) == 9988
            assert wp.tick_array_address(p.address, arr.start_tick_index)[0] == ta


def test_pumpswap_encoders_rebuild_real_mainnet_accounts() -> None:
    # real Pool / GlobalConfig bytes (tests/data/venues/pump_amm): every field the
    # decoder reads, written over the real bytes, gives them back
    data = json.loads((Path(__file__).parents[2] / "data/venues/pump_amm/mainnet.json").read_text())
    for name in ("pool_GUXAutvX", "pool_HM4BKer"):
        raw = base64.b64decode(data["accounts"][name]["data"])
        assert PAsim.encode_pool(pa.decode_pump_amm_pool(raw), base=raw) == raw
    raw = base64.b64decode(data["accounts"]["global_config_current"]["data"])
    cfg = pa.decode_pump_amm_global_config(raw)
    assert PAsim.encode_global_config(cfg)[:321] == raw[:321]
    w = World(SMALL, backend=py)
    assert (
        pa.decode_pump_amm_global_config(w.accounts[PA.GLOBAL_CONFIG].data).lp_fee_basis_points
        == 20
    )


def test_logs_encode_what_the_parsers_read() -> None:
    log = D.SwapBaseInLog(10, 1, 2, 10, 500, 600, 9)
    assert v4.parse_ray_log(V4.encode_ray_log(log)) == log
    out = D.SwapBaseOutLog(10, 1, 1, 10, 500, 600, 9)
    assert v4.parse_ray_log(V4.encode_ray_log(out)) == out
    t = D.Traded(wp.PROGRAM_ID, True, 2**64, 2**63, 5, 4, 0, 0, 1, 0)
    assert twin_venues.parse_program_data(WPsim.encode_traded(t), WP.PROGRAM) == t


def _fixture_accounts(root: Path) -> list[tuple[str, bytes, str]]:
    out = []
    f = json.loads((root / "raydium" / "cpmm_wsol_pump.json").read_text())
    for acc in f["accounts"].values():
        d = acc["data"]
        out.append((acc["owner"], base64.b64decode(d if isinstance(d, str) else d[0]), ""))
    for path in sorted((root / "orca" / "accounts").rglob("*.json")):
        acc = json.loads(path.read_text())
        acc = acc.get("account", acc)
        d = acc["data"]
        out.append((acc["owner"], base64.b64decode(d if isinstance(d, str) else d[0]), path.name))
    return out


@pytest.mark.fixtures
def test_encoders_rebuild_real_mainnet_accounts_byte_for_byte(shared_fixtures: Path) -> None:
    pairs = [
        (cp.decode_raydium_cpmm, CP.encode_pool),
        (cp.decode_raydium_amm_config, CP.encode_amm_config),
        (wp.decode_whirlpool, WPsim.encode_pool),
        (twin_decode.decode_token_account, L.encode_token_account),
        (twin_decode.decode_mint, L.encode_mint),
    ]
    rebuilt = 0
    for owner, data, _ in _fixture_accounts(shared_fixtures):
        for dec, enc in pairs:
            try:
                rec = dec(data, owner)
            except Exception:
                continue
            if dec is twin_decode.decode_mint and len(data) > 82:
                continue  # Token-2022 extensions are not re-encoded (base layout only)
            if dec is twin_decode.decode_token_account and len(data) != 165:
                continue
            # every field the decoder reads, written over the real bytes, gives them back
            assert enc(rec, base=data) == data
            # and written over zeros, decodes to the same record
            assert as_dict(dec(enc(rec), owner)) == as_dict(rec)
            rebuilt += 1
        if data[:8] == wp.DISC_FIXED_TICK_ARRAY:
            arr = wp.decode_tick_array(data, owner)
            assert (
                WP.encode_fixed_tick_array(
                    arr.start_tick_index, arr.whirlpool, arr.ticks, base=data
                )
                == data
            )
            rebuilt += 1
    assert rebuilt >= 8


# ---------------------------------------------------------------- the world
def test_same_seed_same_bytes_and_another_seed_differs() -> None:
    def run(seed: int) -> dict[str, bytes]:
        w = World(WorldConfig(seed=seed, tokens=6, pools=10), backend=py)
        for _ in range(20):
            w.step()
        return {k: a.data for k, a in w.accounts.items()}

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_a_graph_built_from_the_bytes_equals_the_graph_of_the_market() -> None:
    # the specs carry the curves of the first three venues only (the others' pools are
    # held to their bytes in tests/engine/test_venues.py and tests/support/truth.py)
    w = World(dataclasses.replace(SMALL, venue_mix=False), backend=py)
    for _ in range(30):
        w.step()
    from_bytes = py.PoolGraph(base_mints=w.bases, max_hops=3)
    ing = py.FeedIngest(from_bytes) if hasattr(py, "FeedIngest") else None
    if ing is None:
        from engine_rs.python.ingest import FeedIngest

        ing = FeedIngest(from_bytes)
    # a spec states constant-product reserves or Whirlpool ticks: the pools of the venues
    # beyond the first three (``spec.venue``: their own market state) are not in it (the
    # venue walks of tests/engine/test_venues.py hold them to their bytes)
    pools = [p for p in w.pools if not p.spec.venue]
    for p in pools:
        ing.track_pool(p.address, p.kind)
        for ta in p.tick_arrays:
            ing.track_array(ta, p.address)
    for _ in range(3):  # pools first, then the vaults and configs they name
        for k in ing.watched():
            ing.account(k, w.accounts[k].owner, w.accounts[k].data, 5)
    # and, as a client keeps them (feeds.clients.pool: ``Venue.absent``), the arrays
    # around each Whirlpool's price that nobody initialized, read zeroed as the program
    # reads them: a size that moves the price past the initialized ticks is priced, not
    # ``ticks_missing``, as in the specs' graph
    whirlpool = WP.VENUE
    assert whirlpool.absent is not None
    for p in pools:
        if p.kind != "whirlpool":
            continue
        for start in wp.tick_array_starts(p.spec.tick_spacing, p.spec.tick_current, 10):
            ta = wp.tick_array_address(p.address, start)[0]
            made = whirlpool.absent(start, p.address)
            if ta not in w.accounts and made is not None:
                ing.track_array(ta, p.address)
                ing.account(ta, made[0], made[1], 5)
    from_specs = py.PoolGraph(base_mints=w.bases, max_hops=3)
    for p in pools:
        p.spec.upsert(from_specs, 5)
    assert sorted(from_bytes.pools()) == sorted(from_specs.pools())
    for b in w.bases:
        got = [as_dict(o) for o in from_bytes.cycles(b, 3)]
        want = [as_dict(o) for o in from_specs.cycles(b, 3)]
        assert got == want and got


# ---------------------------------------------------------------- the server
async def _post(url: str, body: object) -> object:
    async with aiohttp.ClientSession() as s, s.post(url, json=body) as r:
        return await r.json()


async def test_json_rpc_errors_use_the_nodes_codes() -> None:
    async with SimServer(SMALL, FAST, slot_seconds=0.05) as s:
        url = s.infos()[0].http_url
        r = await _post(url, {"jsonrpc": "2.0", "id": 1, "method": "getNothing"})
        assert r["error"]["code"] == -32601 and r["id"] == 1
        keys = [p.address for p in s.world.pools] * 7
        r = await _post(
            url,
            {"jsonrpc": "2.0", "id": 2, "method": "getMultipleAccounts", "params": [keys[:101]]},
        )
        assert r["error"]["code"] == -32602
        async with (
            aiohttp.ClientSession() as h,
            h.post(url, data=b"{nope", headers={"Content-Type": "application/json"}) as resp,
        ):
            assert (await resp.json())["error"]["code"] == -32700
        r = await _post(
            url,
            [
                {"jsonrpc": "2.0", "id": 3, "method": "getSlot"},
                {"jsonrpc": "2.0", "id": 4, "method": "getHealth"},
            ],
        )
        assert [x["id"] for x in r] == [3, 4] and r[1]["result"] == "ok"


@needs_solana
async def test_solana_py_subscribes_and_solders_decodes_the_notification() -> None:
    from solana.rpc.websocket_api import SolanaWsClient
    from solders.pubkey import Pubkey
    from solders.token.state import TokenAccount

    async with SimServer(SMALL, FAST, slot_seconds=0.02) as s:
        w = s.world
        pool = next(p for p in w.pools if p.kind == "whirlpool")
        client = await SolanaWsClient(s.infos()[0].ws_url).connect()
        try:
            await client.account_subscribe(
                pubkey=Pubkey.from_string(pool.vault_a), commitment="confirmed", encoding="base64"
            )
            await client.account_subscribe(
                pubkey=Pubkey.from_string(pool.address), commitment="confirmed", encoding="base64"
            )
            seen = set()
            while len(seen) < 2:
                note = await asyncio.wait_for(client.recv(), 10)
                acct = note.result.value
                data = bytes(acct.data)
                if str(acct.owner) == twin_decode.SPL_TOKEN:
                    tok = TokenAccount.from_bytes(data)  # solders' own SPL layout
                    ours = twin_decode.decode_token_account(data, str(acct.owner))
                    assert str(tok.mint) == ours.mint == pool.mint_a
                    assert tok.amount == ours.amount and str(tok.owner) == ours.owner
                    seen.add("vault")
                else:
                    assert str(acct.owner) == wp.PROGRAM_ID and len(data) == 653
                    whirl = wp.decode_whirlpool(data, str(acct.owner))
                    assert whirl.token_vault_a == pool.vault_a
                    seen.add("pool")
                assert note.result.context.slot > WorldConfig().first_slot
        finally:
            await client.close()


@needs_solana
async def test_solana_py_http_client_reads_the_snapshot() -> None:
    from solana.rpc.async_api import AsyncClient
    from solders.pubkey import Pubkey

    async with SimServer(SMALL, FAST, slot_seconds=0.05) as s:
        w = s.world
        c = AsyncClient(s.infos()[0].http_url)
        try:
            keys = [p.address for p in w.pools]
            r = await c.get_multiple_accounts([Pubkey.from_string(k) for k in keys])
            for k, acc in zip(keys, r.value):
                assert acc is not None and str(acc.owner) == w.accounts[k].owner
            slot = (await c.get_slot()).value
            assert slot >= WorldConfig().first_slot
            await until(lambda: w.slot >= slot + 2)  # slots with trades have ended: fees
            fees = (await c.get_recent_prioritization_fees()).value
            assert fees and all(f.prioritization_fee >= 0 for f in fees)
        finally:
            await c.close()


def test_bench_flood_writes_every_notification_as_a_websocket_frame() -> None:
    """Bench mode: no clock; ``simFlood`` steps the market and writes the notifications
    (raw RFC 6455 frames) that a plain websockets client reads back in order."""
    import websockets

    from feeds.clients.rpc import RpcClient
    from feeds.sim.server import EndpointProfile, SimServer

    async def main() -> None:
        profiles = [EndpointProfile("a", 0.0, 0.0), EndpointProfile("b", 0.0, 0.0)]
        async with SimServer(WorldConfig(seed=5, tokens=6, pools=10), profiles, bench=True) as sim:
            slot0 = sim.world.slot
            assert sim._clock is None  # no clock in bench mode: nothing steps the market
            infos = sim.infos()
            c = await websockets.connect(infos[1].ws_url)
            await c.send('{"jsonrpc":"2.0","id":1,"method":"slotSubscribe"}')
            await c.recv()
            async with RpcClient(infos[0].http_url) as rpc:
                # requests answered: the loop ran, and the slot is where it was
                assert (await rpc.call("getSlot", [{"commitment": "processed"}])) == slot0
                for rate in (0.0, 2000.0):
                    res = await rpc.call("simFlood", [7, rate])
                    assert res["messages"][0] == 0 and res["messages"][1] == 7
                    got = [json.loads(await c.recv()) for _ in range(7)]
                    assert [g["params"]["result"]["slot"] for g in got] == list(
                        range(slot0 + 1 + (7 if rate else 0), slot0 + 8 + (7 if rate else 0))
                    )
                    rep = {"done": False}
                    while not rep["done"]:
                        rep = await rpc.call("simFloodReport", [])
                    assert len(rep["writes"][1]) == (7 if rate else 0)
                with pytest.raises(RpcError):
                    await rpc.call("simFlood", ["x", 0])
            await c.close()

    asyncio.run(main())


def test_flood_methods_are_absent_outside_bench_mode() -> None:
    from feeds.clients.rpc import RpcClient
    from feeds.sim.server import SimServer

    async def main() -> None:
        async with SimServer(WorldConfig(seed=5, tokens=6, pools=10)) as sim:
            async with RpcClient(sim.infos()[0].http_url) as rpc:
                with pytest.raises(RpcError, match="not found"):
                    await rpc.call("simFlood", [1, 0])

    asyncio.run(main())


@pytest.mark.parametrize("seed", [0, 4, 5, 37])  # seeds that once had two pools at one address
def test_every_pool_has_its_own_account_and_whirlpools_are_their_pdas(seed: int) -> None:
    from engine_rs.python.venues.orca_whirlpool import pda

    w = World(WorldConfig(seed=seed))
    addresses = [p.address for p in w.pools]
    assert len(set(addresses)) == len(addresses)
    for p in w.pools:
        if p.kind == "whirlpool":
            r = p.record
            assert (
                pda.whirlpool_address(
                    r.whirlpools_config, r.token_mint_a, r.token_mint_b, r.fee_tier_index_seed
                )[0]
                == p.address
            )


def test_the_clock_sysvar_is_written_every_slot_as_a_node_serves_it() -> None:
    """``SysvarC1ock…``: solders reads its bytes as a ``Clock`` whose unix time is the
    world's (what the simulated programs judge expiry and fees by), owned by the sysvar
    owner; each slot rewrites it, so subscribers hear of it every slot."""
    from solders.clock import Clock

    from feeds.sim.world import SYSVAR_CLOCK, SYSVAR_OWNER

    w = World(WorldConfig(seed=3, tokens=6, pools=8))
    for _ in range(3):
        changed = w.step().changed
        acc = w.accounts[SYSVAR_CLOCK]
        c = Clock.from_bytes(acc.data)
        assert acc.owner == SYSVAR_OWNER and len(acc.data) == 40
        assert (c.slot, c.unix_timestamp) == (w.slot, w.unix_time())
        assert c.epoch == w.slot // 432_000 and c.leader_schedule_epoch == c.epoch + 1
        assert SYSVAR_CLOCK in changed
    assert twin_decode.clock_unix_timestamp(acc.data, SYSVAR_OWNER) == w.unix_time()


@settings(max_examples=300, deadline=None)
@given(
    owner=st.text(max_size=50),
    data=st.binary(max_size=3000),
    lamports=st.integers(0, 2**64 - 1),
    executable=st.booleans(),
)
def test_an_accounts_json_value_is_the_encoders_text(
    owner: str, data: bytes, lamports: int, executable: bool
) -> None:
    """``Account.value_json`` (what every notification and account answer carries, written
    out without the encoder's scan of the base64) is ``json.dumps`` of its ``value``, byte
    for byte: any owner text (quotes, controls, non-ASCII), any data, any lamports."""
    from feeds.sim.state import Account

    acc = Account(owner, data, lamports, executable)
    assert acc.value_json() == json.dumps(acc.value())

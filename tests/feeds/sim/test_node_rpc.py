"""The simulator answers as a node does (issue 17): ``getProgramAccounts`` and the other
methods and subscriptions a new user's client reaches for, with a node's shapes, limits
and error wording (Agave's, see ``feeds/sim/node.py``), tried through three independent
clients: solana-py's ``AsyncClient`` (parses with solders), @solana/web3.js under node
(``tests/support/jsclient.py``), and arbscope's own ``RpcClient`` where it uses them."""

from __future__ import annotations

import asyncio
import base64
import sys
from typing import Any

import aiohttp
import pytest
import zstandard

from feeds.clients.rpc import RpcClient, RpcError
from feeds.sim import node as N
from feeds.sim.chain import ROOT_DISTANCE
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from feeds.venues import VENUES, by_kind
from feeds.wire.instructions import SPL_TOKEN
from tests.support.hostile import until
from tests.support.jsclient import Web3Js
from tests.support.node import (
    owned,
    rpc,
    signed_transfer,
)

SMALL = WorldConfig(seed=11, tokens=8, pools=16, trades_per_slot=8)
FAST = [EndpointProfile("a", latency_ms=1, jitter_ms=0)]
STILL = 3600.0  # seconds per slot: the market holds still while a test reads it
needs_solana = pytest.mark.skipif(sys.version_info < (3, 11), reason="solana-py needs 3.11")
WP_MINT_A = 101  # Whirlpool: token_mint_a's offset (spec §2)


# ------------------------------------------------------------------ getProgramAccounts
async def test_program_accounts_filters_slices_and_encodings_as_a_node_serves_them() -> None:
    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        url = srv.infos()[0].http_url
        wp = by_kind("whirlpool")
        pools = [p for p in srv.world.pools if p.kind == "whirlpool"]
        mint = pools[0].mint_a
        want = {p.address for p in pools if p.mint_a == mint}
        assert want and len(want) < len(owned(srv, wp.program))  # the filter selects
        mint_b58 = mint
        mint_b64 = base64.b64encode(N.b58decode(mint)).decode()
        for memcmp in (
            {"offset": WP_MINT_A, "bytes": mint_b58},
            {"offset": WP_MINT_A, "bytes": mint_b58, "encoding": "base58"},
            {"offset": WP_MINT_A, "bytes": mint_b64, "encoding": "base64"},
        ):
            got = await rpc(
                url,
                "getProgramAccounts",
                [
                    wp.program,
                    {"encoding": "base64", "filters": [{"dataSize": 653}, {"memcmp": memcmp}]},
                ],
            )
            keys = [x["pubkey"] for x in got["result"]]
            assert set(keys) == want and keys == sorted(keys, key=N.pubkey_bytes)
        # dataSlice: those bytes only, ``space`` the whole account; every encoding
        cut = {"offset": WP_MINT_A, "length": 32}
        for enc in ("base58", "base64", "base64+zstd", "binary", "jsonParsed"):
            got = await rpc(
                url,
                "getProgramAccounts",
                [wp.program, {"encoding": enc, "dataSlice": cut, "filters": [{"dataSize": 653}]}],
            )
            assert len(got["result"]) == len(pools)
            for x in got["result"]:
                data, space = x["account"]["data"], x["account"]["space"]
                raw = {
                    "base58": lambda d: N.b58decode(d[0]),
                    "binary": N.b58decode,
                    "base64": lambda d: base64.b64decode(d[0]),
                    "jsonParsed": lambda d: base64.b64decode(d[0]),  # no parser: base64
                    "base64+zstd": lambda d: zstandard.ZstdDecompressor().decompress(
                        base64.b64decode(d[0]), max_output_size=1 << 20
                    ),
                }[enc](data)
                assert raw == srv.world.accounts[x["pubkey"]].data[101:133] and space == 653
                if enc != "binary":
                    assert data[1] == ("base64" if enc == "jsonParsed" else enc)
        # withContext wraps the list; the default (binary) cannot carry 653 bytes
        got = await rpc(
            url,
            "getProgramAccounts",
            [
                wp.program,
                {"encoding": "base64", "withContext": True, "filters": [{"dataSize": 653}]},
            ],
        )
        assert got["result"]["context"]["slot"] == srv.context_slot("finalized")  # the default
        assert len(got["result"]["value"]) == len(pools)
        got = await rpc(url, "getProgramAccounts", [wp.program])
        assert got["error"] == {
            "code": -32600,
            "message": "Encoded binary (base 58) data should "
            "be less than 128 bytes, please use Base64 encoding.",
        }
        # tokenAccountState + the owner's key: the vaults a pool authority holds
        vault = srv.world.accounts[pools[0].vault_a].data
        got = await rpc(
            url,
            "getProgramAccounts",
            [
                SPL_TOKEN,
                {
                    "encoding": "jsonParsed",
                    "commitment": "confirmed",
                    "filters": [
                        {"tokenAccountState": {}},
                        {"memcmp": {"offset": 32, "bytes": N.b58encode(vault[32:64])}},
                    ],
                },
            ],
        )
        held = {
            k
            for k, d in owned(srv, SPL_TOKEN).items()
            if len(d) == 165 and d[32:64] == vault[32:64]
        }
        assert {x["pubkey"] for x in got["result"]} == held and pools[0].vault_a in held
        parsed = next(x for x in got["result"] if x["pubkey"] == pools[0].vault_a)["account"]
        info = parsed["data"]["parsed"]["info"]
        assert parsed["data"]["program"] == "spl-token" and parsed["data"]["space"] == 165
        assert info["mint"] == mint and int(info["tokenAmount"]["amount"]) == srv.world.balance(
            pools[0].vault_a
        )
        assert info["tokenAmount"]["decimals"] == srv.world.decimals[mint]


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ([], -32602, "`params` should have at least 1 argument(s)"),
        (["nope"], -32602, "Invalid param: WrongSize"),
        (["0" * 44], -32602, "Invalid param: Invalid"),
        ([7], -32602, "Invalid params: invalid type: integer `7`, expected a string."),
        (["P", {"filters": [{"dataSize": 1}] * 5}], -32602, "Too many filters provided; max 4"),
        (
            ["P", {"filters": [{"memcmp": {"offset": 0, "bytes": "1" * 176}}]}],
            -32602,
            "Invalid param: DataTooLarge",
        ),
        (
            ["P", {"filters": [{"memcmp": {"offset": 0, "bytes": "0x"}}]}],
            -32602,
            "Invalid param: Base58DecodeError(InvalidCharacter { character: '0', index: 0 })",
        ),
        (
            ["P", {"filters": [{"memcmp": {"offset": 0, "bytes": "AQ!D", "encoding": "base64"}}]}],
            -32602,
            "Invalid param: Base64DecodeError(InvalidByte(2, 33))",
        ),
        (
            [
                "P",
                {"filters": [{"memcmp": {"offset": 0, "bytes": "A" * 176, "encoding": "base64"}}]},
            ],
            -32602,
            "Invalid param: DataTooLarge",
        ),
        (
            ["P", {"filters": [{"memcmp": {"offset": 0, "bytes": "x", "encoding": "hex"}}]}],
            -32602,
            "Invalid params: unknown variant `hex`, expected one of `base58`, `base64`, `bytes`.",
        ),
        (  # a level the node does not know is its default (flattened: no error) ...
            ["P", {"commitment": "recent", "encoding": "base64", "minContextSlot": 10**12}],
            -32016,
            "Minimum context slot has not been reached",
        ),
        (  # ... but a configuration that is no object is refused naming its struct
            ["P", "recent"],
            -32602,
            'Invalid params: invalid type: string "recent", expected struct '
            "RpcProgramAccountsConfig.",
        ),
        (
            ["P", {"encoding": "hex"}],
            -32602,
            "Invalid params: unknown variant `hex`, expected one "
            "of `binary`, `base58`, `base64`, `jsonParsed`, `base64+zstd`.",
        ),
        (
            ["P", {"encoding": "base64", "minContextSlot": 10**12}],
            -32016,
            "Minimum context slot has not been reached",
        ),
    ],
)
async def test_program_accounts_refuses_what_a_node_refuses_in_its_words(
    params: list[Any], code: int, message: str
) -> None:
    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        program = by_kind("cpmm").program
        params = [program if p == "P" else p for p in params]
        got = await rpc(srv.infos()[0].http_url, "getProgramAccounts", params)
        assert got["error"]["code"] == code and got["error"]["message"] == message
        if code == -32016:
            assert got["error"]["data"] == {"contextSlot": srv.context_slot("finalized")}


def _step_noting(srv: SimServer, vaults: list[str], seen: dict[str, dict[int, bytes]]) -> None:
    """40 slots of ``srv``, each of ``vaults``' data noted in ``seen`` at the slots it
    changed."""
    for _ in range(40):
        res = srv.step()
        for v in vaults:
            if v in res.changed:
                seen[v][res.slot] = srv.world.accounts[v].data


def _accepting() -> SimServer:
    """The small market's node, still (a slot only when the test steps one), taking
    transactions."""
    return SimServer(SMALL, FAST, slot_seconds=STILL, accept_transactions=True)


async def test_arbscope_rpc_client_finds_every_venues_pools_by_size_and_mint() -> None:
    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        async with RpcClient(srv.infos()[0].http_url) as client:
            for venue in VENUES:
                want = {p.address for p in srv.world.pools if p.kind == venue.kind}
                # a Manifest market's size varies (its book is in it): found by its
                # discriminator, as discovery finds it
                layout = venue.discovery.layout if venue.discovery else None
                by_disc = venue.kind == "manifest" and layout is not None
                for compress in (True, False):
                    got = await client.get_program_accounts(
                        venue.program,
                        data_size=None if by_disc else venue.ids.pool_account_size,
                        memcmp=[(0, layout.discriminator)] if by_disc else (),
                        compress=compress,
                    )
                    assert set(got) == want
                    for k, acc in got.items():
                        assert acc.data == srv.world.accounts[k].data and acc.owner == venue.program
                        assert acc.slot == srv.world.slot
            pool = next(p for p in srv.world.pools if p.kind == "whirlpool")
            wp = by_kind("whirlpool")
            got = await client.get_program_accounts(
                wp.program,
                data_size=653,
                memcmp=[(WP_MINT_A, N.b58decode(pool.mint_a))],
                data_slice=(WP_MINT_A, 32),
            )
            assert pool.address in got and all(
                a.data == N.b58decode(pool.mint_a) for a in got.values()
            )
            with pytest.raises(ValueError, match="not a program id"):
                await client.get_program_accounts("nope")
            with pytest.raises(ValueError, match="a node takes 4"):
                await client.get_program_accounts(wp.program, memcmp=[(0, b"x")] * 5)
            with pytest.raises(ValueError, match="1 to 128 bytes"):
                await client.get_program_accounts(wp.program, memcmp=[(0, b"x" * 129)])
        # the node's own refusal reaches the caller as an RpcError with its code
        async with RpcClient(srv.infos()[0].http_url) as client:
            with pytest.raises(RpcError) as err:
                await client.get_program_accounts(wp.program, data_slice=(10**9, 1 << 64))
            assert err.value.code == -32602 and "invalid value" in str(err.value)


@needs_solana
async def test_solana_py_reads_program_accounts_with_filters_slices_and_zstd() -> None:
    from solana.rpc.async_api import AsyncClient
    from solana.rpc.core import RPCException
    from solana.rpc.models import DataSliceOpts, MemcmpOpts
    from solders.pubkey import Pubkey

    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        c = AsyncClient(srv.infos()[0].http_url, commitment="confirmed")  # the newest state
        try:
            for venue in VENUES:
                size: Any = venue.ids.pool_account_size
                if venue.kind == "manifest":  # its size varies: by its discriminator
                    disc = venue.discovery.layout.discriminator  # type: ignore[union-attr]
                    size = MemcmpOpts(offset=0, bytes=N.b58encode(disc))
                want = {p.address for p in srv.world.pools if p.kind == venue.kind}
                for enc in ("base64", "base64+zstd"):
                    got = (
                        await c.get_program_accounts(
                            Pubkey.from_string(venue.program), encoding=enc, filters=[size]
                        )
                    ).value
                    assert {str(x.pubkey) for x in got} == want
                    assert all(
                        bytes(x.account.data) == srv.world.accounts[str(x.pubkey)].data for x in got
                    )
            pool = next(p for p in srv.world.pools if p.kind == "whirlpool")
            got = (
                await c.get_program_accounts(
                    Pubkey.from_string(by_kind("whirlpool").program),
                    encoding="base64",
                    data_slice=DataSliceOpts(offset=WP_MINT_A, length=32),
                    filters=[653, MemcmpOpts(offset=WP_MINT_A, bytes=pool.mint_a)],
                )
            ).value
            assert pool.address in {str(x.pubkey) for x in got}
            assert {bytes(x.account.data) for x in got} == {N.b58decode(pool.mint_a)}
            parsed = (
                await c.get_program_accounts_json_parsed(
                    Pubkey.from_string(SPL_TOKEN),
                    filters=[165, MemcmpOpts(offset=0, bytes=pool.mint_a)],
                )
            ).value
            assert pool.vault_a in {str(x.pubkey) for x in parsed}
            for x in parsed:
                assert x.account.data.parsed["info"]["mint"] == pool.mint_a
            with pytest.raises(RPCException, match="Base58DecodeError"):
                await c.get_program_accounts(
                    Pubkey.from_string(SPL_TOKEN),
                    encoding="base64",
                    filters=[MemcmpOpts(offset=0, bytes="0OIl")],
                )
        finally:
            await c.close()


async def test_web3js_reads_program_accounts_with_filters_slices_and_context(
    web3js: type[Web3Js],
) -> None:
    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        info = srv.infos()[0]
        js = web3js(info.http_url, info.ws_url)
        wp = by_kind("whirlpool")
        pool = next(p for p in srv.world.pools if p.kind == "whirlpool")
        want = {
            p.address for p in srv.world.pools if p.kind == "whirlpool" and p.mint_a == pool.mint_a
        }
        mint_b64 = base64.b64encode(N.b58decode(pool.mint_a)).decode()
        steps = [
            {
                "op": "getProgramAccounts",
                "program": wp.program,
                "config": {
                    "filters": [
                        {"dataSize": 653},
                        {"memcmp": {"offset": WP_MINT_A, "bytes": pool.mint_a}},
                    ]
                },
            },
            {
                "op": "getProgramAccounts",
                "program": wp.program,
                "config": {
                    "withContext": True,
                    "dataSlice": {"offset": WP_MINT_A, "length": 32},
                    "filters": [
                        {"memcmp": {"offset": WP_MINT_A, "bytes": mint_b64, "encoding": "base64"}}
                    ],
                },
            },
            {
                "op": "getParsedProgramAccounts",
                "program": SPL_TOKEN,
                "config": {
                    "filters": [{"dataSize": 165}, {"memcmp": {"offset": 0, "bytes": pool.mint_a}}]
                },
            },
            {
                "op": "getProgramAccounts",
                "program": wp.program,
                "config": {"filters": [{"memcmp": {"offset": 0, "bytes": "0OIl"}}]},
            },
            {
                "op": "getProgramAccounts",
                "program": wp.program,
                "config": {"filters": [{"dataSize": 1}] * 5},
            },
        ]
        full, ctx, parsed, bad58, many = await js.run(*steps)
        assert {x["pubkey"] for x in full["ok"]} == want
        for x in full["ok"]:
            assert base64.b64decode(x["account"]["data"]) == srv.world.accounts[x["pubkey"]].data
            assert x["account"]["owner"] == wp.program and x["account"]["space"] == 653
        assert ctx["ok"]["context"]["slot"] == srv.world.slot
        assert {x["pubkey"] for x in ctx["ok"]["value"]} == want
        assert {x["account"]["data"] for x in ctx["ok"]["value"]} == {mint_b64}
        vaults = {x["pubkey"]: x["account"]["data"]["parsed"]["info"] for x in parsed["ok"]}
        assert pool.vault_a in vaults
        assert vaults[pool.vault_a]["tokenAmount"]["amount"] == str(srv.world.balance(pool.vault_a))
        assert bad58["error"]["code"] == -32602 and "Base58DecodeError" in bad58["error"]["message"]
        assert many["error"]["code"] == -32602
        assert many["error"]["message"].endswith("Too many filters provided; max 4")


# ------------------------------------------------------------------ the methods clients need
def _vault_owner(srv: SimServer) -> tuple[str, str, set[str]]:
    """A pool authority, one mint it holds, and every token account it owns."""
    pool = next(p for p in srv.world.pools if p.kind == "cpmm")
    owner = N.b58encode(srv.world.accounts[pool.vault_a].data[32:64])
    held = {
        k
        for k, d in owned(srv, SPL_TOKEN).items()
        if len(d) == 165 and N.b58encode(d[32:64]) == owner
    }
    return owner, pool.mint_a, held


def _expected_fee(price: int, limit: int) -> int:
    """5,000 lamports a signature + ceil(price x limit / 1e6) (spec §5.3)."""
    return 5_000 + -(-price * limit // 1_000_000)


async def test_the_methods_a_client_needs_answer_in_a_nodes_shapes_and_words() -> None:
    async with _accepting() as srv:
        url = srv.infos()[0].http_url
        w = srv.world
        info = (await rpc(url, "getEpochInfo", [{"commitment": "confirmed"}]))["result"]
        assert info["absoluteSlot"] == w.slot and info["slotsInEpoch"] == 432_000
        assert info["epoch"] * 432_000 + info["slotIndex"] == w.slot
        assert info["blockHeight"] == srv.chain.block_height()
        # rent from the rent parameters: (128 + bytes) x 3,480 x 2
        for size, lamports in ((0, 890_880), (165, 2_039_280), (82, 1_461_600)):
            assert (await rpc(url, "getMinimumBalanceForRentExemption", [size]))[
                "result"
            ] == lamports
        big = await rpc(url, "getMinimumBalanceForRentExemption", [10 * 1024 * 1024 + 1])
        assert big["error"] == {"code": -32600, "message": "Invalid request"}
        neg = await rpc(url, "getMinimumBalanceForRentExemption", [-1])
        assert neg["error"]["code"] == -32602
        genesis = (await rpc(url, "getGenesisHash"))["result"]
        assert (
            len(N.b58decode(genesis)) == 32
            and genesis != "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d"
        )
        assert (await rpc(url, "getGenesisHash", [1]))["error"]["code"] == -32602
        mint = w.mints[0]
        supply = (await rpc(url, "getTokenSupply", [mint]))["result"]["value"]
        assert supply["amount"] == str(10**18) and supply["decimals"] == w.decimals[mint]
        assert supply["uiAmountString"] == str(10**18 // 10 ** w.decimals[mint])
        for key, message in (
            (w.pools[0].vault_a, "Invalid param: not a Token mint"),
            (N.b58encode(b"\7" * 32), "Invalid param: could not find account"),
        ):
            if key == w.pools[0].vault_a:
                message = "Invalid param: mint could not be unpacked"  # a token account: no mint
            assert (await rpc(url, "getTokenSupply", [key]))["error"]["message"] == message
        owner, held_mint, held = _vault_owner(srv)
        by_owner = "getTokenAccountsByOwner"
        spl = {"programId": SPL_TOKEN}
        got = (await rpc(url, by_owner, [owner, spl, {"encoding": "base64"}]))["result"]
        assert (
            got["context"]["slot"] == srv.context_slot("finalized")
            and {x["pubkey"] for x in got["value"]} == held
        )
        parsed = {"encoding": "jsonParsed"}
        got = (await rpc(url, by_owner, [owner, {"mint": held_mint}, parsed]))["result"]
        assert got["value"] and all(
            x["account"]["data"]["parsed"]["info"]["mint"] == held_mint for x in got["value"]
        )
        for which, message in (
            ({"programId": mint}, "Invalid param: unrecognized Token program id"),
            ({"mint": N.b58encode(b"\7" * 32)}, "Invalid param: could not find mint"),
            (
                {"owner": mint},
                "Invalid params: unknown variant `owner`, expected `mint` or `programId`.",
            ),
        ):
            err = (await rpc(url, by_owner, [owner, which]))["error"]
            assert err == {"code": -32602, "message": message}
        # the fee of a message: signatures + its compute-unit price; null for a stale hash
        from solders.hash import Hash
        from solders.message import Message
        from solders.pubkey import Pubkey

        from feeds.wire import instructions as I

        payer = Pubkey.new_unique()
        ixs = [
            I.set_compute_unit_limit(300_000),
            I.set_compute_unit_price(1_001),
            I.transfer(str(payer), str(payer), 1),
        ]
        bh = srv.chain.latest_blockhash()[0]
        msg = Message.new_with_blockhash(ixs, payer, Hash.from_string(bh))
        wire = base64.b64encode(bytes(msg)).decode()
        # (at a commitment whose bank knows the blockhash: a node's default, finalized,
        # answers null for one newer than its root)
        got = (await rpc(url, "getFeeForMessage", [wire, {"commitment": "confirmed"}]))["result"]
        assert got["value"] == _expected_fee(1_001, 300_000) == 5_301
        stale = Message.new_with_blockhash(ixs, payer, Hash.new_unique())
        got = await rpc(url, "getFeeForMessage", [base64.b64encode(bytes(stale)).decode()])
        assert got["result"]["value"] is None
        err = (await rpc(url, "getFeeForMessage", ["AQ!D"]))["error"]
        assert err == {"code": -32602, "message": "invalid base64 encoding: InvalidByte(2, 33)"}


SCHEDULE_FIELDS = (
    "slots_per_epoch",
    "leader_schedule_slot_offset",
    "warmup",
    "first_normal_epoch",
    "first_normal_slot",
)


@needs_solana
async def test_get_epoch_schedule_is_mainnets_as_agave_answers_it() -> None:
    """``getEpochSchedule`` (Agave ``rpc/src/rpc.rs``: no parameters) answers the
    cluster's schedule: mainnet's (solders' copy of Agave's type is the oracle), read by solders' response parser, solana-py's
    ``AsyncClient`` and arbscope's ``RpcClient``; parameters are refused in the node's
    words. (``EpochSchedule::new`` warms up; mainnet's genesis does not, so the oracle
    is ``custom(432_000, 432_000, false)``, which mainnet's node answers.)"""
    import json

    from solana.rpc.async_api import AsyncClient
    from solders.epoch_schedule import EpochSchedule
    from solders.rpc.responses import GetEpochScheduleResp

    oracle = EpochSchedule.custom(432_000, 432_000, False)
    want = tuple(getattr(oracle, f) for f in SCHEDULE_FIELDS)
    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        url = srv.infos()[0].http_url
        raw = await rpc(url, "getEpochSchedule")
        # camelCase, the node's JSON map in name order
        assert (
            list(raw["result"])
            == sorted(raw["result"])
            == [
                "firstNormalEpoch",
                "firstNormalSlot",
                "leaderScheduleSlotOffset",
                "slotsPerEpoch",
                "warmup",
            ]
        )
        parsed = GetEpochScheduleResp.from_json(json.dumps(raw)).value
        assert tuple(getattr(parsed, f) for f in SCHEDULE_FIELDS) == want
        assert parsed.get_epoch(srv.world.slot) == oracle.get_epoch(srv.world.slot)
        for params in ([1], {"commitment": "confirmed"}):
            err = (await rpc(url, "getEpochSchedule", params))["error"]  # type: ignore[arg-type]
            assert err["code"] == -32602
            assert err["message"] == "Invalid parameters: No parameters were expected"
        assert (await rpc(url, "getEpochSchedule", []))["result"] == raw["result"]
        c = AsyncClient(url)
        try:
            got = (await c.get_epoch_schedule()).value
            assert tuple(getattr(got, f) for f in SCHEDULE_FIELDS) == want
        finally:
            await c.close()
        async with RpcClient(url) as ours:
            mine = await ours.get_epoch_schedule()
        assert tuple(getattr(mine, f) for f in SCHEDULE_FIELDS) == want


async def test_web3js_reads_the_epoch_schedule(web3js: type[Web3Js]) -> None:
    """@solana/web3.js's ``getEpochSchedule`` (its response schema checks every field's
    type) reads the simulator's, and its ``getEpoch`` agrees with the engine's graph."""
    import engine_rs

    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        info = srv.infos()[0]
        slots = [0, 431_999, 432_000, srv.world.slot, 10**9]
        (got,) = await web3js(info.http_url, info.ws_url).run(
            {"op": "getEpochSchedule", "slots": slots}
        )
    s = got["ok"]
    assert (
        s["slotsPerEpoch"],
        s["leaderScheduleSlotOffset"],
        s["warmup"],
        s["firstNormalEpoch"],
        s["firstNormalSlot"],
    ) == (432_000, 432_000, False, 0, 0)
    g = engine_rs.load("python").PoolGraph()
    g.set_epoch_schedule(
        s["slotsPerEpoch"], s["warmup"], s["firstNormalEpoch"], s["firstNormalSlot"]
    )
    for slot, epoch in zip(slots, s["epochs"]):
        g.set_slot(slot)
        assert g.epoch == epoch


@needs_solana
async def test_solana_py_reads_epoch_rent_genesis_fees_and_token_accounts() -> None:
    from solana.rpc.async_api import AsyncClient
    from solana.rpc.models import TokenAccountOpts
    from solders.message import Message
    from solders.pubkey import Pubkey

    from feeds.wire import instructions as I

    async with _accepting() as srv:
        c = AsyncClient(srv.infos()[0].http_url, commitment="confirmed")
        try:
            w = srv.world
            epoch = (await c.get_epoch_info("confirmed")).value
            assert epoch.absolute_slot == w.slot and epoch.slots_in_epoch == 432_000
            assert (await c.get_minimum_balance_for_rent_exemption(165)).value == 2_039_280
            assert (
                str((await c.get_genesis_hash()).value)
                == (await rpc(srv.infos()[0].http_url, "getGenesisHash"))["result"]
            )
            supply = (await c.get_token_supply(Pubkey.from_string(w.mints[1]))).value
            assert int(supply.amount) == 10**18 and supply.decimals == w.decimals[w.mints[1]]
            owner, mint, held = _vault_owner(srv)
            got = (
                await c.get_token_accounts_by_owner(
                    Pubkey.from_string(owner),
                    TokenAccountOpts(program_id=Pubkey.from_string(SPL_TOKEN)),
                )
            ).value
            assert {str(x.pubkey) for x in got} == held
            assert all(bytes(x.account.data) == w.accounts[str(x.pubkey)].data for x in got)
            parsed = (
                await c.get_token_accounts_by_owner_json_parsed(
                    Pubkey.from_string(owner), TokenAccountOpts(mint=Pubkey.from_string(mint))
                )
            ).value
            assert parsed and all(x.account.data.parsed["info"]["mint"] == mint for x in parsed)
            payer = Pubkey.new_unique()
            bh = (await c.get_latest_blockhash()).value.blockhash
            msg = Message.new_with_blockhash(
                [
                    I.set_compute_unit_limit(250_000),
                    I.set_compute_unit_price(40_000),
                    I.transfer(str(payer), str(payer), 1),
                ],
                payer,
                bh,
            )
            assert (await c.get_fee_for_message(msg)).value == _expected_fee(40_000, 250_000)
        finally:
            await c.close()


async def test_web3js_reads_epoch_rent_genesis_fees_and_token_accounts(
    web3js: type[Web3Js],
) -> None:
    async with _accepting() as srv:
        info = srv.infos()[0]
        w = srv.world
        owner, mint, held = _vault_owner(srv)
        bh = srv.chain.latest_blockhash()[0]
        payer = N.b58encode(bytes(range(1, 33)))
        epoch, rent, genesis, supply, by_program, parsed, fee = await web3js(
            info.http_url, info.ws_url
        ).run(
            {"op": "getEpochInfo"},
            {"op": "getMinimumBalanceForRentExemption", "size": 82},
            {"op": "getGenesisHash"},
            {"op": "getTokenSupply", "mint": w.mints[2]},
            {"op": "getTokenAccountsByOwner", "owner": owner, "programId": SPL_TOKEN},
            {"op": "getParsedTokenAccountsByOwner", "owner": owner, "mint": mint},
            {
                "op": "getFeeForMessage",
                "payer": payer,
                "blockhash": bh,
                "price": 7,
                "limit": 1_000_000,
            },
        )
        assert epoch["ok"]["absoluteSlot"] == w.slot and epoch["ok"]["slotsInEpoch"] == 432_000
        assert epoch["ok"]["blockHeight"] == srv.chain.block_height()
        assert rent["ok"] == 1_461_600
        assert genesis["ok"] == (await rpc(info.http_url, "getGenesisHash"))["result"]
        assert supply["ok"]["value"]["amount"] == str(10**18)
        assert {x["pubkey"] for x in by_program["ok"]["value"]} == held
        for x in by_program["ok"]["value"]:
            assert base64.b64decode(x["account"]["data"]) == w.accounts[x["pubkey"]].data
        assert parsed["ok"]["value"]
        assert all(
            x["account"]["data"]["parsed"]["info"]["mint"] == mint for x in parsed["ok"]["value"]
        )
        assert fee["ok"]["value"] == _expected_fee(7, 1_000_000) == 5_007


# ------------------------------------------------------------------ PubSub
LIVELY = 0.05  # seconds per slot: notifications flow


async def _ws_call(ws: Any, method: str, params: list[Any] | None = None, rid: int = 1) -> Any:
    """One PubSub request on a raw websockets connection: its answer (notifications that
    arrive first are kept in ``ws.early``)."""
    import json

    body: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        body["params"] = params
    await ws.send(json.dumps(body))
    while True:
        msg = json.loads(await ws.recv())
        if msg.get("id") == rid:
            return msg
        ws.early.append(msg)


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("accountSubscribe", ["nope"], "Invalid Request: Invalid pubkey provided"),
        ("programSubscribe", ["nope"], "Invalid Request: Invalid pubkey provided"),
        (  # PubSub words a filter's refusal as parameters (Agave 3.1.12)
            "programSubscribe",
            ["P", {"filters": [{"dataSize": 1}] * 5}],
            "Invalid params: Too many filters provided; max 4",
        ),
        ("logsSubscribe", [{"mentions": ["nope"]}], "Invalid Request: Invalid mentions provided"),
        ("logsSubscribe", [{"mentions": ["P", "P"]}], "Invalid Request: Only 1 address supported"),
        (
            "logsSubscribe",
            ["everything"],
            "Invalid params: unknown variant `everything`, expected "
            "one of `all`, `allWithVotes`, `mentions`.",
        ),
        ("signatureSubscribe", ["nope"], "Invalid Request: Invalid signature provided"),
        (  # a level the node does not know is its default; a configuration that is no
            # object is refused naming its struct (Agave 3.1.12)
            "accountSubscribe",
            ["P", "max"],
            'Invalid params: invalid type: string "max", expected struct RpcAccountInfoConfig.',
        ),
        ("rootUnsubscribe", [99], "Invalid subscription id."),
    ],
)
async def test_pubsub_refuses_what_a_node_refuses_in_its_words(
    method: str, params: list[Any], message: str
) -> None:
    import websockets

    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        program = by_kind("cpmm").program
        params = [program if p == "P" else p for p in params]
        params = [
            {"mentions": [program if k == "P" else k for k in p["mentions"]]}
            if isinstance(p, dict) and "mentions" in p
            else p
            for p in params
        ]
        async with websockets.connect(srv.infos()[0].ws_url) as ws:
            ws.early = []  # type: ignore[attr-defined]
            got = await _ws_call(ws, method, params)
            assert got["error"] == {"code": -32602, "message": message}


async def test_a_signature_subscription_after_landing_is_answered_then_notified(
    web3js: type[Web3Js],
) -> None:
    """A node answers the subscription first, then notifies (the simulator once sent the
    notification before the answer, and clients that wait for the answer lost it)."""
    import websockets
    from solders.keypair import Keypair
    from solders.message import Message
    from solders.transaction import VersionedTransaction

    from feeds.wire import instructions as I

    async with SimServer(SMALL, FAST, slot_seconds=LIVELY, accept_transactions=True) as srv:
        info = srv.infos()[0]
        kp = Keypair()
        srv.chain.airdrop([str(kp.pubkey()), 10**9])
        bh = srv.chain.latest_blockhash()[0]
        from solders.hash import Hash

        msg = Message.new_with_blockhash(
            [I.transfer(str(kp.pubkey()), I.JITO_TIP_ACCOUNTS[0], 7_000)],
            kp.pubkey(),
            Hash.from_string(bh),
        )
        tx = VersionedTransaction(msg, [kp])
        sig = str(tx.signatures[0])
        async with RpcClient(info.http_url) as client:
            assert await client.send_transaction(base64.b64encode(bytes(tx)).decode()) == sig
            async with __import__("asyncio").timeout(30):
                while sig not in srv.chain.statuses:
                    await __import__("asyncio").sleep(0.01)
        async with websockets.connect(info.ws_url) as ws:
            ws.early = []  # type: ignore[attr-defined]
            answer = await _ws_call(ws, "signatureSubscribe", [sig, {"commitment": "confirmed"}])
            assert not ws.early and isinstance(answer["result"], int)  # type: ignore[attr-defined]
            import json

            note = json.loads(await ws.recv())
            assert note["method"] == "signatureNotification"
            assert note["params"]["subscription"] == answer["result"]
            assert note["params"]["result"] == {
                "context": {"slot": srv.chain.statuses[sig][0]},
                "value": {"err": None},
            }
        # the same through solana-py and web3.js, each waiting for its answer first
        if sys.version_info >= (3, 11):
            from solana.rpc.websocket_api import SolanaWsClient

            c = await SolanaWsClient(info.ws_url).connect()
            try:
                await c.signature_subscribe(signature=tx.signatures[0], commitment="confirmed")
                async with __import__("asyncio").timeout(30):
                    got = await c.recv()
                assert got.result.value.err is None
            finally:
                await c.close()
        (notes,) = await web3js(info.http_url, info.ws_url).one(
            {"op": "collect", "subs": [{"kind": "signature", "signature": sig, "count": 1}]}
        )
        assert notes == [{"slot": srv.chain.statuses[sig][0], "err": None}]


@needs_solana
async def test_solana_py_subscribes_to_programs_all_logs_roots_and_slot_updates() -> None:
    import asyncio

    from solana.rpc.models import MemcmpOpts
    from solana.rpc.websocket_api import SolanaWsClient
    from solders.pubkey import Pubkey
    from solders.rpc.config import RpcTransactionLogsFilter

    async with SimServer(SMALL, FAST, slot_seconds=LIVELY) as srv:
        wp = by_kind("whirlpool")
        pools = {p.address: p for p in srv.world.pools if p.kind == "whirlpool"}
        c = await SolanaWsClient(srv.infos()[0].ws_url).connect()
        try:
            prog = await c.program_subscribe(
                program_id=Pubkey.from_string(wp.program),
                commitment="confirmed",
                encoding="base64+zstd",
                filters=[653],
            )
            mint = next(iter(pools.values())).mint_a
            one = await c.program_subscribe(
                program_id=Pubkey.from_string(wp.program),
                commitment="confirmed",
                encoding="base64",
                filters=[653, MemcmpOpts(offset=WP_MINT_A, bytes=mint)],
            )
            logs = await c.logs_subscribe(
                filter_=RpcTransactionLogsFilter.All, commitment="confirmed"
            )
            root = await c.root_subscribe()
            updates = await c.slots_updates_subscribe()
            ids = {
                s.subscription_id: k
                for s, k in (
                    (prog, "program"),
                    (logs, "logs"),
                    (root, "root"),
                    (updates, "updates"),
                    (one, "one"),
                )
            }
            seen: dict[str, list[Any]] = {k: [] for k in ids.values()}
            async with asyncio.timeout(60):
                while any(len(seen[k]) < 3 for k in ("program", "logs", "root", "updates")):
                    note = await c.recv()
                    seen[ids[note.subscription]].append(note.result)
            for r in seen["program"]:
                assert str(r.value.pubkey) in pools and len(bytes(r.value.account.data)) == 653
            for r in seen["one"]:
                assert pools[str(r.value.pubkey)].mint_a == mint
            programs = {wp.program, *(v.program for v in VENUES)}
            assert all(
                r.value.logs and r.value.logs[0].split()[1] in programs for r in seen["logs"]
            )
            roots = [int(r) for r in seen["root"]]
            assert roots == sorted(roots) and roots[-1] <= srv.world.slot - 32
            kinds = {type(u).__name__ for u in seen["updates"]}
            assert kinds & {
                "SlotUpdateFrozen",
                "SlotUpdateCreatedBank",
                "SlotUpdateRoot",
                "SlotUpdateCompleted",
                "SlotUpdateFirstShredReceived",
            }
        finally:
            await c.close()


@pytest.mark.slow
async def test_web3js_subscribes_to_programs_all_logs_roots_and_slot_updates(
    web3js: type[Web3Js],
) -> None:
    async with SimServer(SMALL, FAST, slot_seconds=LIVELY) as srv:
        info = srv.infos()[0]
        wp = by_kind("whirlpool")
        pools = {p.address for p in srv.world.pools if p.kind == "whirlpool"}
        # past the first root: a node (and the simulator) sends a root only when the root
        # moves, which it does once 32 slots are past its first (the recorded node's too)
        first = srv.world.config.first_slot
        await until(lambda: srv.world.slot > first + ROOT_DISTANCE + 1, 30.0)
        program, logs, roots, updates = await web3js(info.http_url, info.ws_url).one(
            {
                "op": "collect",
                "timeoutMs": 60_000,
                "subs": [
                    {
                        "kind": "program",
                        "program": wp.program,
                        "filters": [{"dataSize": 653}],
                        "count": 3,
                    },
                    {"kind": "logs", "filter": "all", "count": 3},
                    {"kind": "root", "count": 3},
                    {"kind": "slotsUpdates", "count": 6},
                ],
            },
            timeout_s=90,
        )
        for n in program:
            assert n["pubkey"] in pools and n["account"]["owner"] == wp.program
            assert len(base64.b64decode(n["account"]["data"])) == 653
        assert all(n["logs"] and n["err"] is None for n in logs)
        assert roots == sorted(roots) and roots[-1] <= srv.world.slot - 32
        by_type = {u["type"]: u for u in updates}
        every = {"firstShredReceived", "completed", "createdBank", "frozen"}
        every.add("optimisticConfirmation")
        # each slot's updates end with its new root (the root moves with every slot now)
        assert set(by_type) == every | {"root"}
        assert by_type["createdBank"]["parent"] == by_type["createdBank"]["slot"] - 1
        assert by_type["root"]["slot"] == by_type["frozen"]["slot"] - 32


# ------------------------------------------------------------------ skipPreflight, commitment


@pytest.mark.slow
async def test_skip_preflight_answers_the_signature_and_the_transaction_never_lands(
    web3js: type[Web3Js],
) -> None:
    """With ``skipPreflight`` a node checks neither blockhash nor signature: it answers
    the signature, and such a transaction simply never lands (arbscope's sender meets
    this on mainnet); with preflight the same ones are refused at once."""
    from solders.hash import Hash

    async with _accepting() as srv:
        info = srv.infos()[0]
        stale = signed_transfer(srv, blockhash=str(Hash.new_unique()))
        forged = signed_transfer(srv, forge=True)
        sent: list[str] = []
        async with RpcClient(info.http_url) as client:  # arbscope's sender: skipPreflight
            for wire, sig in (stale, forged):
                assert await client.send_transaction(wire) == sig
                sent.append(sig)
            with pytest.raises(RpcError) as err:
                await client.send_transaction(stale[0], skip_preflight=False)
            assert err.value.code == -32002 and "Blockhash not found" in str(err.value)
            with pytest.raises(RpcError) as err:  # Agave 3.1 verifies it in the preflight
                await client.send_transaction(forged[0], skip_preflight=False)
            assert err.value.code == -32002 and "signature verification" in str(err.value)
        if sys.version_info >= (3, 11):
            from solana.rpc.async_api import AsyncClient
            from solana.rpc.models import TxOpts

            c = AsyncClient(info.http_url)
            try:
                for wire, sig in (
                    signed_transfer(srv, blockhash=str(Hash.new_unique())),
                    signed_transfer(srv, forge=True),
                ):
                    got = await c.send_raw_transaction(
                        base64.b64decode(wire), TxOpts(skip_preflight=True)
                    )
                    assert str(got.value) == sig
                    sent.append(sig)
            finally:
                await c.close()
        js = web3js(info.http_url, info.ws_url)
        for wire, sig in (
            signed_transfer(srv, blockhash=str(Hash.new_unique())),
            signed_transfer(srv, forge=True),
        ):
            assert (
                await js.one({"op": "sendRawTransaction", "tx": wire, "skipPreflight": True}) == sig
            )
            sent.append(sig)
        good = signed_transfer(srv)
        assert (
            await js.one({"op": "sendRawTransaction", "tx": good[0], "skipPreflight": True})
            == good[1]
        )
        for _ in range(3):
            srv.step()
        assert good[1] in srv.chain.statuses  # the control lands
        statuses = (await rpc(info.http_url, "getSignatureStatuses", [sent]))["result"]["value"]
        assert statuses == [None] * len(sent)
        assert await js.one({"op": "getSignatureStatus", "signature": sent[0]}) is None


@pytest.mark.slow
async def test_finalized_trails_by_32_slots_and_an_invalid_level_is_refused(
    web3js: type[Web3Js],
) -> None:
    async with _accepting() as srv:
        info = srv.infos()[0]
        url = info.http_url
        await rpc(url, "getHealth")  # (the clock's first slot is out: it moves no more)
        for _ in range(40):
            srv.step()
        top, root = srv.world.slot, srv.world.slot - 32
        for level, want in (("processed", top), ("confirmed", top), ("finalized", root)):
            assert (await rpc(url, "getSlot", [{"commitment": level}]))["result"] == want
            bh = (await rpc(url, "getLatestBlockhash", [{"commitment": level}]))["result"]
            assert bh["context"]["slot"] == want and bh["value"][
                "blockhash"
            ] == srv.chain.blockhash(want)
            assert bh["value"]["lastValidBlockHeight"] == srv.chain.block_height(want) + 150
            assert (await rpc(url, "getBlockHeight", [{"commitment": level}]))["result"] == (
                srv.chain.block_height(want)
            )
        assert (await rpc(url, "getSlot"))["result"] == root  # a node's default is finalized
        # a level the node does not know is the default too (the configuration flattens
        # it: Agave 3.1.12 answers, it does not refuse)
        assert (await rpc(url, "getSlot", [{"commitment": "max"}]))["result"] == root
        err = (await rpc(url, "getSlot", ["max"]))["error"]
        assert err == {
            "code": -32602,
            "message": 'Invalid params: invalid type: string "max", expected struct '
            "RpcContextConfig.",
        }
        err = (await rpc(url, "getSlot", [{"commitment": "confirmed", "minContextSlot": top + 1}]))[
            "error"
        ]
        assert err == {
            "code": -32016,
            "message": "Minimum context slot has not been reached",
            "data": {"contextSlot": top},
        }
        async with RpcClient(url) as client:  # arbscope reads at confirmed
            assert await client.get_slot() == top
            assert (await client.get_latest_blockhash())[0] == srv.chain.blockhash(top)
            assert await client.get_slot("max") == root  # the node's default
        if sys.version_info >= (3, 11):
            from solana.rpc.async_api import AsyncClient
            from solana.rpc.commitment import Confirmed, Finalized

            c = AsyncClient(url)
            try:
                assert (await c.get_slot(Finalized)).value == root
                assert (await c.get_slot(Confirmed)).value == top
                assert str(
                    (await c.get_latest_blockhash(Finalized)).value.blockhash
                ) == srv.chain.blockhash(root)
            finally:
                await c.close()
        fin, conf, bad = await web3js(url, info.ws_url).run(
            {"op": "getSlot", "commitment": "finalized"},
            {"op": "getSlot", "commitment": "confirmed"},
            {"op": "getSlot", "commitment": "max"},
        )
        assert fin["ok"] == root and conf["ok"] == top
        assert bad["ok"] == root  # a level the node does not know: its default


@pytest.mark.slow
async def test_finalized_reads_see_the_accounts_as_of_the_root(web3js: type[Web3Js]) -> None:
    """A read at ``finalized`` (a node's default) answers the accounts as they were at
    the root, 32 slots back, with the root as its context slot; ``confirmed`` the newest.
    The oracle is the test's own copy of a vault after every slot. Through raw requests,
    arbscope's ``RpcClient``, solana-py and web3.js."""
    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        info = srv.infos()[0]
        url = info.http_url
        await rpc(url, "getHealth")  # (the clock's first slot is out: it moves no more)
        vaults = [p.vault_a for p in srv.world.pools] + [p.vault_b for p in srv.world.pools]
        seen = {k: {srv.world.slot: srv.world.accounts[k].data} for k in vaults}
        first = srv.world.slot
        for _ in range(45):
            res = srv.step()
            for k in vaults:
                seen[k][res.slot] = srv.world.accounts[k].data
        root = srv.world.slot - 32

        def as_of(slot: int, key: str) -> bytes:
            return seen[key][max(s for s in seen[key] if s <= slot)]

        # a vault that traded since the root: its rooted state is not its newest
        busy = next(k for k in vaults if as_of(root, k) != srv.world.accounts[k].data)
        fin = (await rpc(url, "getAccountInfo", [busy, {"encoding": "base64"}]))["result"]
        assert fin["context"]["slot"] == root
        assert base64.b64decode(fin["value"]["data"][0]) == as_of(root, busy)
        conf = (
            await rpc(
                url, "getAccountInfo", [busy, {"encoding": "base64", "commitment": "confirmed"}]
            )
        )["result"]
        assert base64.b64decode(conf["value"]["data"][0]) == srv.world.accounts[busy].data
        amount = int.from_bytes(as_of(root, busy)[64:72], "little")
        bal = (await rpc(url, "getTokenAccountBalance", [busy]))["result"]
        assert int(bal["value"]["amount"]) == amount and bal["context"]["slot"] == root
        listed = (
            await rpc(
                url,
                "getProgramAccounts",
                [
                    SPL_TOKEN,
                    {
                        "encoding": "base64",
                        "filters": [
                            {"dataSize": 165},
                            {"memcmp": {"offset": 0, "bytes": N.b58encode(as_of(root, busy)[:32])}},
                        ],
                    },
                ],
            )
        )["result"]
        mine = next(x for x in listed if x["pubkey"] == busy)["account"]
        assert base64.b64decode(mine["data"][0]) == as_of(root, busy) and first < root
        async with RpcClient(url) as client:
            (got,) = (await client.get_multiple_accounts([busy], "finalized")).values()
            assert got is not None and got.data == as_of(root, busy) and got.slot == root
            (got,) = (await client.get_multiple_accounts([busy])).values()  # confirmed
            assert got is not None and got.data == srv.world.accounts[busy].data
        if sys.version_info >= (3, 11):
            from solana.rpc.async_api import AsyncClient
            from solders.pubkey import Pubkey

            c = AsyncClient(url)  # finalized, solana-py's default too
            try:
                got = await c.get_account_info(Pubkey.from_string(busy), encoding="base64")
                assert got.context.slot == root and got.value is not None
                assert bytes(got.value.data) == as_of(root, busy)
            finally:
                await c.close()
        js = await web3js(url, info.ws_url).one(
            {
                "op": "getProgramAccounts",
                "program": SPL_TOKEN,
                "config": {
                    "commitment": "finalized",
                    "withContext": True,
                    "filters": [
                        {"dataSize": 165},
                        {"memcmp": {"offset": 32, "bytes": N.b58encode(as_of(root, busy)[32:64])}},
                    ],
                },
            }
        )
        assert js["context"]["slot"] == root
        mine = next(x for x in js["value"] if x["pubkey"] == busy)
        assert base64.b64decode(mine["account"]["data"]) == as_of(root, busy)


# ------------------------------------------------------------------ edges
async def test_get_health_answers_ok_as_a_node_does() -> None:
    """``GET /health`` is a node's load-balancer check: 200 ``ok`` (it was a 404)."""
    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        url = srv.infos()[0].http_url
        async with aiohttp.ClientSession() as s, s.get(url + "/health") as r:
            assert r.status == 200 and await r.text() == "ok"
        assert (await rpc(url, "getHealth"))["result"] == "ok"


async def test_finalized_subscriptions_hear_of_a_slot_once_it_is_rooted() -> None:
    """An account subscription at ``finalized`` (a node's default) is notified of a slot
    when that slot becomes the root, 32 slots later, with the account as it was then;
    one at ``confirmed`` at once. The oracle is the test's own copy of the accounts after every slot.
    Through a raw socket and solana-py (web3.js: the next test)."""
    import websockets

    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        info = srv.infos()[0]
        await rpc(info.http_url, "getHealth")  # (the clock's first slot is out)
        vaults = [p.vault_a for p in srv.world.pools[:6]]
        async with websockets.connect(info.ws_url) as ws:
            ws.early = []  # type: ignore[attr-defined]
            level_of: dict[int, tuple[str, str]] = {}
            for i, v in enumerate(vaults):
                for level in ("confirmed", "finalized"):
                    got = await _ws_call(
                        ws,
                        "accountSubscribe",
                        [v, {"encoding": "base64", "commitment": level}],
                        rid=10 * i + (level == "finalized"),
                    )
                    level_of[got["result"]] = (v, level)
            # the clock's one slot, before the subscriptions: rooted during the test, so
            # the finalized ones hear of it too
            (first,) = srv.recent
            seen: dict[str, dict[int, bytes]] = {
                v: {first.res.slot: srv.world.accounts[v].data} if v in first.res.changed else {}
                for v in vaults
            }
            _step_noting(srv, vaults, seen)
            root = srv.world.slot - 32
            want = {
                (v, level, slot, data)
                for v in vaults
                for slot, data in seen[v].items()
                for level in ("confirmed", "finalized")
                if (slot <= root if level == "finalized" else slot > first.res.slot)
            }
            assert any(level == "finalized" for _, level, _, _ in want)
            assert any(slot > root for _, _, slot, _ in want)  # some not rooted yet
            got_all = set()
            async with asyncio.timeout(30):
                marker = await _ws_call(ws, "getVersion", rid=999)  # everything before it
            assert "result" in marker
            for n in ws.early:  # type: ignore[attr-defined]
                r = n["params"]
                v, level = level_of[r["subscription"]]
                data = base64.b64decode(r["result"]["value"]["data"][0])
                got_all.add((v, level, r["result"]["context"]["slot"], data))
            assert got_all == want
        if sys.version_info >= (3, 11):
            from solana.rpc.websocket_api import SolanaWsClient
            from solders.pubkey import Pubkey

            c = await SolanaWsClient(info.ws_url).connect()
            try:
                which = {}
                for v in vaults:  # at finalized, solana-py's default
                    ok = await c.account_subscribe(pubkey=Pubkey.from_string(v), encoding="base64")
                    which[ok.subscription_id] = v
                rooted_then = srv.world.slot - 32
                _step_noting(srv, vaults, seen)
                root = srv.world.slot - 32
                want_py = {
                    (v, slot, data)
                    for v in vaults
                    for slot, data in seen[v].items()
                    if rooted_then < slot <= root
                }
                heard = set()
                async with asyncio.timeout(30):
                    while len(heard) < len(want_py):
                        note = await c.recv()
                        r = note.result
                        heard.add((which[note.subscription], r.context.slot, bytes(r.value.data)))
                assert heard == want_py
            finally:
                await c.close()


@pytest.mark.slow
async def test_web3js_hears_a_finalized_program_subscription_from_the_root(
    web3js: type[Web3Js],
) -> None:
    """web3.js's program subscription at ``finalized``: the first notification is of a
    slot that was already past when it subscribed (the root moving up), not of the next
    one as at ``confirmed``."""
    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        info = srv.infos()[0]
        for _ in range(40):
            srv.step()
        wp = by_kind("whirlpool").program
        js = asyncio.create_task(
            web3js(info.http_url, info.ws_url).one(
                {
                    "op": "collect",
                    "timeoutMs": 60_000,
                    "subs": [
                        {
                            "kind": "program",
                            "program": wp,
                            "filters": [{"dataSize": 653}],
                            "commitment": "finalized",
                            "count": 1,
                        }
                    ],
                },
                timeout_s=90,
            )
        )
        subs = srv.endpoints[0].program_subs
        await until(  # web3.js has subscribed
            lambda: any(o.level == "finalized" for o in subs.get(wp, {}).values()), timeout=60
        )
        top = srv.world.slot
        for _ in range(40):
            srv.step()
        ((note,),) = await js
        assert top - 32 < note["slot"] <= top
        assert note["account"]["owner"] == wp and note["pubkey"] in srv.world.by_address

"""The node serves the rivals' transactions like anyone's (issue 37): a competitor's
arbitrage lands through the chain, and ``getTransaction`` (every encoding, inner
instructions included), ``getBlock`` (every ``transactionDetails``, the block's order),
``logsSubscribe`` with ``mentions`` of a pool it swapped through (Agave matches every
account key, not only the programs), and Yellowstone gRPC transaction updates (the whole
transaction and meta, ``index`` its place in the block, ``account_include`` matched
against every key) show it with the same meta. solders parses each answer (the oracle
of the shapes)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from solders.rpc.responses import GetBlockResp, GetTransactionResp
from solders.transaction_status import (
    InstructionErrorCustom,
    TransactionErrorInstructionError,
    TransactionStatus,
)

from feeds.sim import geyser as G
from feeds.sim.chain import Stored
from feeds.sim.server import ROOT_DISTANCE, EndpointProfile, SimServer, slot_record
from feeds.sim.state import Pool
from feeds.sim.world import WorldConfig
from feeds.wire.geyser import geyser_pb2 as pb
from feeds.wire.geyser import solana_storage_pb2 as storage
from tests.support.chain import QUIET
from tests.support.node import rpc

FAST = [EndpointProfile("a", latency_ms=1, jitter_ms=0)]
STILL = 3600.0
CONFIRMED = {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}


def server(**kw: Any) -> SimServer:
    cfg = WorldConfig(seed=7, competitors=3, **QUIET)  # type: ignore[arg-type]
    return SimServer(cfg, FAST, slot_seconds=STILL, accept_transactions=True, **kw)


def knock(srv: SimServer) -> Pool:
    """A pool the rivals have a cycle through, knocked 2 % of its depth off its price."""
    w = srv.world
    comp = w.competition
    assert comp is not None
    amm = [p for p in w.pools if p.kind in ("cpmm", "amm_v4") and p.address in comp.pools]
    pool = max(amm, key=lambda p: len(comp.graph.cycles_touching(p.address, 3)))
    assert w.swap(pool, True, w._trade_size(pool, True, 0.02)) is not None
    return pool


def tx_value(raw: dict[str, Any]) -> Any:
    """solders' parse of a ``getTransaction`` answer (the oracle of its shape)."""
    resp = GetTransactionResp.from_json(json.dumps(raw))
    assert isinstance(resp, GetTransactionResp), resp
    return resp.value


def block_value(raw: dict[str, Any]) -> Any:
    """solders' parse of a ``getBlock`` answer."""
    resp = GetBlockResp.from_json(json.dumps(raw))
    assert isinstance(resp, GetBlockResp), resp
    return resp.value


def rivals(srv: SimServer, pool: Pool) -> list[Stored]:
    assert srv.world.competition is not None
    wallets = set(srv.world.competition.wallets.values())
    return [
        st
        for st in srv.chain.ledger.values()
        if st.keys()[0] in wallets and pool.address in st.keys()
    ]


def _knocked(srv: Any, slots: int) -> tuple[str, Any, list[Any]]:
    """The node's RPC URL, a pool knocked off its price (:func:`knock`) and, ``slots``
    later, the rivals' transactions through it."""
    url = srv.infos()[0].http_url
    pool = knock(srv)
    for _ in range(slots):
        srv.step()
    return url, pool, rivals(srv, pool)


async def test_get_transaction_and_get_block_serve_a_rivals_arbitrage() -> None:
    async with server() as srv:
        url, _pool, ours = _knocked(srv, 4)
        assert ours
        st = next(s for s in ours if s.outcome.err is None)
        sig = str(st.tx.signatures[0])
        for enc in ("json", "jsonParsed", "base64", "base58"):
            raw = await rpc(url, "getTransaction", [sig, {**CONFIRMED, "encoding": enc}])
            got = tx_value(raw)
            assert got is not None and got.slot == st.slot
            meta = got.transaction.meta
            assert meta is not None and meta.err is None and meta.fee == st.outcome.fee
            assert list(meta.pre_balances) == list(st.pre)
            assert list(meta.post_balances) == list(st.post)
            assert list(meta.log_messages or []) == st.outcome.logs
            assert meta.compute_units_consumed == st.outcome.units
            inner = meta.inner_instructions or []
            assert [g.index for g in inner] == [at for at, _ in st.outcome.inner]
            assert [len(g.instructions) for g in inner] == [len(c) for _, c in st.outcome.inner]
            assert len(meta.pre_token_balances or []) == len(st.pre_tokens)
        # the json form indexes every inner instruction into the transaction's keys
        raw = (await rpc(url, "getTransaction", [sig, CONFIRMED]))["result"]
        keys = (
            raw["transaction"]["message"]["accountKeys"]
            + raw["meta"]["loadedAddresses"]["writable"]
            + raw["meta"]["loadedAddresses"]["readonly"]
        )
        flat = [c for _, calls in st.outcome.inner for c in calls]
        shown = [ix for g in raw["meta"]["innerInstructions"] for ix in g["instructions"]]
        assert [
            (keys[ix["programIdIndex"]], [keys[a] for a in ix["accounts"]]) for ix in shown
        ] == [(c.program, list(c.accounts)) for c in flat]
        assert {ix["stackHeight"] for ix in shown} == {2}
        # the block of its slot: everything that landed, in order, this one at its index
        block = await rpc(url, "getBlock", [st.slot, CONFIRMED])
        parsed = block_value(block)
        assert parsed is not None
        sigs = [str(t.transaction.signatures[0]) for t in parsed.transactions or []]
        assert sigs == srv.chain.blocks[st.slot] and sigs[st.index] == sig
        assert parsed.parent_slot == st.slot - 1 and parsed.block_height == srv.chain.block_height(
            st.slot
        )
        assert str(parsed.blockhash) == srv.chain.blockhash(st.slot)
        assert str(parsed.previous_blockhash) == srv.chain.blockhash(st.slot - 1)
        assert (
            block["result"]["rewards"] == []
            and block["result"]["blockTime"] == srv.slot_times[st.slot]
        )
        full = block["result"]["transactions"][st.index]
        single = (await rpc(url, "getTransaction", [sig, CONFIRMED]))["result"]
        assert full["meta"] == single["meta"] and full["transaction"] == single["transaction"]
        assert full["version"] == single["version"] == 0
        for details, field in (("signatures", "signatures"), ("accounts", "transactions")):
            got = (
                await rpc(url, "getBlock", [st.slot, {**CONFIRMED, "transactionDetails": details}])
            )["result"]
            assert block_value({"jsonrpc": "2.0", "id": 1, "result": got}) is not None
            assert len(got[field]) == len(sigs)
            assert "transactions" not in got or "signatures" not in got
        accounts = (
            await rpc(url, "getBlock", [st.slot, {**CONFIRMED, "transactionDetails": "accounts"}])
        )["result"]["transactions"][st.index]
        assert accounts["transaction"]["signatures"] == [sig]
        assert [k["pubkey"] for k in accounts["transaction"]["accountKeys"]] == st.keys()
        assert "logMessages" not in accounts["meta"] and "innerInstructions" not in accounts["meta"]
        bare = (
            await rpc(
                url,
                "getBlock",
                [st.slot, {**CONFIRMED, "transactionDetails": "none", "rewards": False}],
            )
        )["result"]
        assert set(bare) == {
            "previousBlockhash",
            "blockhash",
            "parentSlot",
            "blockTime",
            "blockHeight",
        }
        parsed_block = await rpc(
            url, "getBlock", [st.slot, {**CONFIRMED, "encoding": "jsonParsed"}]
        )
        assert block_value(parsed_block) is not None


async def test_get_block_refuses_as_a_node_does() -> None:
    async with server() as srv:
        url, _pool, landed = _knocked(srv, 3)
        st = landed[0]
        v0 = await rpc(url, "getBlock", [st.slot, {"commitment": "confirmed"}])
        assert v0["error"]["code"] == -32015  # a v0 transaction, no maxSupportedTransactionVersion
        ahead = await rpc(url, "getBlock", [srv.world.slot + 1, CONFIRMED])
        assert ahead["error"] == {
            "code": -32004,
            "message": f"Block not available for slot {srv.world.slot + 1}",
        }
        # finalized (the default) only once the root has passed the slot
        assert (await rpc(url, "getBlock", [st.slot, {"maxSupportedTransactionVersion": 0}]))[
            "error"
        ]["code"] == -32004
        for _ in range(ROOT_DISTANCE):
            srv.step()
        final = await rpc(url, "getBlock", [st.slot, {"maxSupportedTransactionVersion": 0}])
        assert final["result"]["blockhash"] == srv.chain.blockhash(st.slot)
        first = srv.chain.first_block()
        old = await rpc(url, "getBlock", [first - 1, CONFIRMED])
        assert old["error"] == {
            "code": -32001,
            "message": f"Block {first - 1} cleaned up, does not exist on node. "
            f"First available block: {first}",
        }
        low = await rpc(url, "getBlock", [st.slot, {"commitment": "processed"}])
        assert low["error"]["message"] == "Method does not support commitment below `confirmed`"
        bad = await rpc(url, "getBlock", [st.slot, {**CONFIRMED, "transactionDetails": "most"}])
        assert bad["error"]["code"] == -32602


async def test_a_mention_of_a_pool_hears_the_rivals_swap_through_it() -> None:
    """Agave's log collector matches a ``mentions`` address against every account key of
    a transaction (``transaction.account_keys()``: static and looked up), not only the
    programs it invoked: a subscription to a pool's address hears each swap through it."""
    async with server() as srv, aiohttp.ClientSession() as s:
        ws = await s.ws_connect(srv.infos()[0].ws_url)
        pool = knock(srv)
        req = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "logsSubscribe",
            "params": [{"mentions": [pool.address]}, {"commitment": "confirmed"}],
        }
        await ws.send_json(req)
        sid = (await asyncio.wait_for(ws.receive_json(), 10))["result"]
        for _ in range(4):
            srv.step()
        landed = rivals(srv, pool)
        wanted = {str(st.tx.signatures[0]) for st in landed}
        assert wanted
        # the pool is one of their looked-up accounts (their lookup tables hold it)
        assert any(pool.address in [*st.outcome.loaded[0], *st.outcome.loaded[1]] for st in landed)
        assert not any(
            pool.address in [str(k) for k in st.tx.message.account_keys] for st in landed
        )
        heard: set[str] = set()
        while not wanted <= heard:
            msg = await asyncio.wait_for(ws.receive_json(), 10)
            assert msg["method"] == "logsNotification" and msg["params"]["subscription"] == sid
            heard.add(msg["params"]["result"]["value"]["signature"])
        await ws.close()


async def test_grpc_transaction_updates_carry_the_whole_transaction_and_meta() -> None:
    async with server() as srv:
        pool = knock(srv)
        updates: list[Any] = []
        req = pb.SubscribeRequest()
        req.transactions["pool"].account_include.append(pool.address)
        f = G.make_filter(req)
        for _ in range(4):
            res = srv.step()
            rec = slot_record(res, {}, srv.chain)
            updates += [pb.SubscribeUpdate.FromString(b) for b in G.render(f, rec, (G.PROCESSED,))]
        txs = [u.transaction for u in updates if u.HasField("transaction")]
        got = {t.transaction.signature: t for t in txs}
        stored = rivals(srv, pool)
        assert stored and len(txs) == len(stored)
        for st in stored:
            t = got[bytes(st.tx.signatures[0])]
            assert t.slot == st.slot and t.transaction.index == st.index
            body, meta = t.transaction.transaction, t.transaction.meta
            assert list(body.signatures) == [bytes(x) for x in st.tx.signatures]
            msg = st.tx.message
            assert [bytes(k) for k in body.message.account_keys] == [
                bytes(k) for k in msg.account_keys
            ]
            assert body.message.versioned == hasattr(msg, "address_table_lookups")
            assert body.message.recent_blockhash == bytes(msg.recent_blockhash)
            assert [bytes(ix.data) for ix in body.message.instructions] == [
                bytes(ix.data) for ix in msg.instructions
            ]
            assert meta.fee == st.outcome.fee and list(meta.log_messages) == st.outcome.logs
            assert list(meta.pre_balances) == list(st.pre)
            assert list(meta.post_balances) == list(st.post)
            assert meta.compute_units_consumed == st.outcome.units
            assert [g.index for g in meta.inner_instructions] == [at for at, _ in st.outcome.inner]
            assert [bytes(i.data) for g in meta.inner_instructions for i in g.instructions] == [
                c.data for _, calls in st.outcome.inner for c in calls
            ]
            heights = {i.stack_height for g in meta.inner_instructions for i in g.instructions}
            assert heights == {2} if st.outcome.err is None else heights <= {2}
            assert all(
                i.HasField("stack_height") for g in meta.inner_instructions for i in g.instructions
            )
            assert [b.mint for b in meta.pre_token_balances] == [r[1] for r in st.pre_tokens]
            assert [b.ui_token_amount.amount for b in meta.post_token_balances] == [
                str(r[3]) for r in st.post_tokens
            ]
            if st.outcome.err is None:
                assert not meta.HasField("err")
            else:
                assert meta.err.err == G.error_bytes(st.outcome.err)


def test_a_transaction_error_is_the_bincode_yellowstone_sends() -> None:
    """``TransactionError.err`` is the bincode of the runtime's error (Yellowstone's
    ``create_transaction_error``): solders' bincode of a ``TransactionStatus`` holding the
    same error carries the same bytes."""
    for err, solders_err in (
        (
            {"InstructionError": [2, {"Custom": 30}]},
            TransactionErrorInstructionError(2, InstructionErrorCustom(30)),
        ),
    ):
        status = bytes(TransactionStatus(5, None, solders_err, None))
        assert status[13:-2] == G.error_bytes(err)
    assert G.error_bytes("BlockhashNotFound") == (7).to_bytes(4, "little")
    assert G.error_bytes({"InsufficientFundsForRent": {"account_index": 3}}) == bytes(
        [31, 0, 0, 0, 3]
    )
    parsed = storage.TransactionError(err=G.error_bytes("AlreadyProcessed"))
    assert parsed.err == bytes([6, 0, 0, 0])


async def test_the_rivals_prices_and_tips_reach_the_fee_cache_and_the_tip_floor() -> None:
    """What paper's landing model reads of the others: ``getRecentPrioritizationFees``
    naming a pool the rivals swapped through shows the lowest compute-unit price of the
    transactions that locked it in each slot (theirs among them); the block engines' tip
    floor counts their landed bundles' tips."""
    async with server() as srv:
        url, pool, landed = _knocked(srv, 4)
        assert landed
        got = await rpc(url, "getRecentPrioritizationFees", [[pool.address]])
        by_slot = {x["slot"]: x["prioritizationFee"] for x in got["result"]}
        for slot in {st.slot for st in landed}:
            lowest = min(
                srv.chain.cu_price(st.tx)
                for st in srv.chain.ledger.values()
                if st.slot == slot and pool.address in st.writable()
            )
            assert by_slot[slot] == lowest
        assert srv.world.competition is not None
        tips = srv.world.competition.stats["fast"].tips
        assert tips and set(tips) <= set(srv.chain.landed_tips)
        floor = srv.chain.tip_floor()[0]
        assert floor["landed_tips_99th_percentile"] * 1e9 >= max(tips)


async def test_sim_info_says_how_strong_the_rivals_are_and_what_they_did() -> None:
    async with server() as srv:
        url = srv.infos()[0].http_url
        knock(srv)
        for _ in range(3):
            srv.step()
        info = (await rpc(url, "simInfo"))["result"]["rivals"]
        assert info["preset"] == "mainnet" and info["label"] == "mainnet"
        assert info["describe"].startswith("mainnet: 3 rivals, the best lands 1 slot after")
        assert [r["name"] for r in info["roster"]] == ["fast", "mid", "spam"]
        assert srv.world.competition is not None
        assert [r["wallet"] for r in info["roster"]] == list(srv.world.competition.wallets.values())
        assert sum(r["stats"]["sent"] for r in info["roster"]) > 0
        assert info["chain"]["landed"] > 0  # their transactions, counted apart from ours
        assert (await rpc(url, "simInfo"))["result"]["stats"]["landed"] == 0

"""The ledger a node serves (issue 17): ``getTransaction`` and ``getSignaturesForAddress``
for transactions that landed through the simulator's chain, with their bodies and
status meta (fee, balances, token balances, logs, compute units) as Agave's RPC shapes
them, the commitment rules (``finalized`` once the root passes the slot; nothing below
``confirmed``) and version rule (a v0 transaction needs
``maxSupportedTransactionVersion``). Through solana-py, @solana/web3.js and raw
requests."""

from __future__ import annotations

import base64
import sys

import pytest

from feeds.sim import node as N
from feeds.sim.chain import LAMPORTS_PER_SIGNATURE
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from feeds.wire import instructions as I
from tests.support.jsclient import Web3Js
from tests.support.node import rpc

SMALL = WorldConfig(seed=11, tokens=8, pools=16, trades_per_slot=8)
FAST = [EndpointProfile("a", latency_ms=1, jitter_ms=0)]
STILL = 3600.0
ROOT = 32
needs_solana = pytest.mark.skipif(sys.version_info < (3, 11), reason="solana-py needs 3.11")


def _transfer(srv: SimServer, v0: bool = False, lamports: int = 9_000) -> tuple[str, str, str]:
    """A funded wallet's transfer to a tip account (legacy or v0): (base64 wire,
    signature, payer)."""
    from solders.hash import Hash
    from solders.keypair import Keypair
    from solders.message import Message, MessageV0
    from solders.transaction import VersionedTransaction

    kp = Keypair()
    srv.chain.airdrop([str(kp.pubkey()), 10**9])
    bh = Hash.from_string(srv.chain.latest_blockhash()[0])
    ix = I.transfer(str(kp.pubkey()), I.JITO_TIP_ACCOUNTS[1], lamports)
    msg = (
        MessageV0.try_compile(kp.pubkey(), [ix], [], bh)
        if v0
        else Message.new_with_blockhash([ix], kp.pubkey(), bh)
    )
    tx = VersionedTransaction(msg, [kp])
    return base64.b64encode(bytes(tx)).decode(), str(tx.signatures[0]), str(kp.pubkey())


async def _landed(srv: SimServer, url: str, v0: bool = False) -> tuple[str, str, str]:
    wire, sig, payer = _transfer(srv, v0)
    cfg = {"encoding": "base64", "preflightCommitment": "confirmed"}  # a newest blockhash
    got = await rpc(url, "sendTransaction", [wire, cfg])
    assert got["result"] == sig
    srv.step()
    return wire, sig, payer


async def test_get_transaction_serves_a_landed_transaction_as_a_node_shapes_it() -> None:
    async with SimServer(SMALL, FAST, slot_seconds=STILL, accept_transactions=True) as srv:
        url = srv.infos()[0].http_url
        tip = I.JITO_TIP_ACCOUNTS[1]
        tip_before = srv.world.lamports(tip)
        wire, sig, payer = await _landed(srv, url)
        slot = srv.world.slot
        cfg = {"commitment": "confirmed"}
        got = (await rpc(url, "getTransaction", [sig, cfg]))["result"]
        assert got["slot"] == slot and got["blockTime"] == srv.slot_times[slot]
        assert "version" not in got  # only with maxSupportedTransactionVersion
        meta, body = got["meta"], got["transaction"]
        assert body["signatures"] == [sig]
        keys = body["message"]["accountKeys"]
        assert keys[0] == payer and tip in keys
        assert body["message"]["header"]["numRequiredSignatures"] == 1
        assert meta["err"] is None and meta["status"] == {"Ok": None}
        assert meta["fee"] == LAMPORTS_PER_SIGNATURE
        assert meta["preBalances"][0] == 10**9
        assert meta["postBalances"][0] == 10**9 - LAMPORTS_PER_SIGNATURE - 9_000
        at = keys.index(tip)
        assert (meta["preBalances"][at], meta["postBalances"][at]) == (
            tip_before,
            tip_before + 9_000,
        )
        assert meta["logMessages"][0] == f"Program {I.SYSTEM_PROGRAM} invoke [1]"
        assert meta["loadedAddresses"] == {"writable": [], "readonly": []}
        assert meta["computeUnitsConsumed"] > 0 and meta["innerInstructions"] == []
        for enc, decode in (("base64", base64.b64decode), ("base58", N.b58decode)):
            got = (await rpc(url, "getTransaction", [sig, {**cfg, "encoding": enc}]))["result"]
            assert got["transaction"][1] == enc
            assert decode(got["transaction"][0]) == base64.b64decode(wire)
        # finalized (the default) sees it once the root passes its slot
        assert (await rpc(url, "getTransaction", [sig]))["result"] is None
        for _ in range(ROOT):
            srv.step()
        assert (await rpc(url, "getTransaction", [sig]))["result"]["slot"] == slot
        # refusals in the node's words
        low = await rpc(url, "getTransaction", [sig, {"commitment": "processed"}])
        assert low["error"] == {
            "code": -32602,
            "message": "Method does not support commitment below `confirmed`",
        }
        _, v0, _ = await _landed(srv, url, v0=True)
        old = await rpc(url, "getTransaction", [v0, cfg])
        assert (
            old["error"]["code"] == -32015
            and '"maxSupportedTransactionVersion": 0' in (old["error"]["message"])
        )
        new = await rpc(url, "getTransaction", [v0, {**cfg, "maxSupportedTransactionVersion": 0}])
        assert new["result"]["version"] == 0
        assert new["result"]["transaction"]["message"]["addressTableLookups"] == []
        unknown = N.b58encode(bytes(64))
        assert (await rpc(url, "getTransaction", [unknown, cfg]))["result"] is None


async def test_signatures_for_an_address_newest_first_with_pages() -> None:
    async with SimServer(SMALL, FAST, slot_seconds=STILL, accept_transactions=True) as srv:
        url = srv.infos()[0].http_url
        tip = I.JITO_TIP_ACCOUNTS[1]
        sigs = [(await _landed(srv, url))[1] for _ in range(5)]
        cfg = {"commitment": "confirmed"}
        got = (await rpc(url, "getSignaturesForAddress", [tip, cfg]))["result"]
        assert [x["signature"] for x in got] == sigs[::-1]
        assert all(x["confirmationStatus"] == "confirmed" and x["memo"] is None for x in got)
        assert [x["slot"] for x in got] == sorted((x["slot"] for x in got), reverse=True)
        page = (
            await rpc(url, "getSignaturesForAddress", [tip, {**cfg, "limit": 2, "before": sigs[3]}])
        )["result"]
        assert [x["signature"] for x in page] == [sigs[2], sigs[1]]
        upto = await rpc(url, "getSignaturesForAddress", [tip, {**cfg, "until": sigs[2]}])
        assert [x["signature"] for x in upto["result"]] == [sigs[4], sigs[3]]
        assert (await rpc(url, "getSignaturesForAddress", [tip]))["result"] == []  # not final
        too_many = await rpc(url, "getSignaturesForAddress", [tip, {"limit": 1001}])
        assert too_many["error"] == {"code": -32602, "message": "Invalid limit; max 1000"}


@needs_solana
async def test_solana_py_reads_the_ledger() -> None:
    from solana.rpc.async_api import AsyncClient
    from solana.rpc.commitment import Confirmed
    from solders.pubkey import Pubkey
    from solders.signature import Signature

    async with SimServer(SMALL, FAST, slot_seconds=STILL, accept_transactions=True) as srv:
        url = srv.infos()[0].http_url
        _, sig, payer = await _landed(srv, url)
        _, v0, _ = await _landed(srv, url, v0=True)
        c = AsyncClient(url, commitment=Confirmed)
        try:
            for s in (sig, v0):
                got = (
                    await c.get_transaction(
                        Signature.from_string(s), max_supported_transaction_version=0
                    )
                ).value
                assert got is not None and got.transaction.meta is not None
                assert got.transaction.meta.fee == LAMPORTS_PER_SIGNATURE
                assert got.transaction.meta.err is None
                assert got.slot == srv.chain.ledger[s].slot
            listed = (await c.get_signatures_for_address(Pubkey.from_string(payer))).value
            assert [str(x.signature) for x in listed] == [sig]
        finally:
            await c.close()


async def test_web3js_reads_the_ledger(web3js: type[Web3Js]) -> None:
    async with SimServer(SMALL, FAST, slot_seconds=STILL, accept_transactions=True) as srv:
        info = srv.infos()[0]
        _, sig, payer = await _landed(srv, info.http_url)
        _, v0, _ = await _landed(srv, info.http_url, v0=True)
        js = web3js(info.http_url)
        t, p, listed = [
            r["ok"]
            for r in await js.run(
                {"op": "getTransaction", "signature": v0},
                {"op": "getParsedTransaction", "signature": sig},
                {"op": "getSignaturesForAddress", "address": I.JITO_TIP_ACCOUNTS[1]},
            )
        ]
        assert t["version"] == 0 and t["signatures"] == [v0] and t["err"] is None
        assert t["fee"] == LAMPORTS_PER_SIGNATURE and t["slot"] == srv.chain.ledger[v0].slot
        assert t["postBalances"][0] == t["preBalances"][0] - LAMPORTS_PER_SIGNATURE - 9_000
        (ix,) = p["instructions"]
        assert ix == {
            "program": "system",
            "type": "transfer",
            "info": {"source": payer, "destination": I.JITO_TIP_ACCOUNTS[1], "lamports": 9_000},
        }
        assert p["accountKeys"][0] == {"pubkey": payer, "signer": True, "writable": True}
        assert [x["signature"] for x in listed] == [v0, sig]


async def test_a_finalized_signature_subscription_waits_for_the_root() -> None:
    """Subscribed at ``finalized`` after its transaction landed: only the answer now, the
    notification once the root reaches the slot (at ``confirmed``: both at once)."""
    import asyncio
    import json

    import websockets

    async with SimServer(SMALL, FAST, slot_seconds=STILL, accept_transactions=True) as srv:
        info = srv.infos()[0]
        _, sig, _ = await _landed(srv, info.http_url)
        slot = srv.world.slot
        async with websockets.connect(info.ws_url) as ws:
            for rid, level in ((1, "finalized"), (2, "confirmed")):
                await ws.send(
                    json.dumps(
                        {
                            "jsonrpc": "2.0",
                            "id": rid,
                            "method": "signatureSubscribe",
                            "params": [sig, {"commitment": level}],
                        }
                    )
                )
            async with asyncio.timeout(30):
                first = [json.loads(await ws.recv()) for _ in range(3)]
            fin = first[0]["result"]
            assert [m.get("id") for m in first] == [1, 2, None]
            assert first[2]["params"]["subscription"] == first[1]["result"]
            for _ in range(ROOT):
                srv.step()
            async with asyncio.timeout(30):
                note = json.loads(await ws.recv())
            assert note["method"] == "signatureNotification"
            assert note["params"]["subscription"] == fin
            assert note["params"]["result"]["context"]["slot"] == slot

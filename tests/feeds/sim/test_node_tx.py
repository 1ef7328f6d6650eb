"""Transactions and fees as a node takes them (issue 17): ``sendTransaction`` and
``simulateTransaction`` in base58 (the node's default encoding) as well as base64, with
the node's limits and wording (``decode_and_deserialize`` in Agave's ``rpc.rs``); a failed
preflight in the node's words; ``getRecentPrioritizationFees`` with
``lockedWritableAccounts`` (the fee cache's per-account minimums). Through solana-py,
@solana/web3.js, arbscope's ``RpcClient`` and raw requests (for what no library sends)."""

from __future__ import annotations

import base64
import sys
from typing import Any

import base58
import pytest

from feeds.clients.rpc import RpcClient, RpcError
from feeds.sim.server import EndpointProfile, SimServer
from feeds.sim.world import SlotResult, WorldConfig
from feeds.wire import instructions as I
from tests.support.jsclient import Web3Js
from tests.support.node import rpc, signed_transfer

SMALL = WorldConfig(seed=11, tokens=8, pools=16, trades_per_slot=8)
FAST = [EndpointProfile("a", latency_ms=1, jitter_ms=0)]
STILL = 3600.0
needs_solana = pytest.mark.skipif(sys.version_info < (3, 11), reason="solana-py needs 3.11")
KIND = "solana_transaction::versioned::VersionedTransaction"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


async def test_a_base58_transaction_is_simulated_sent_and_lands(web3js: type[Web3Js]) -> None:
    """base58 is a node's default: a transaction sent so (encoded by the ``base58``
    package, not by the simulator's own encoder) is simulated, sent and lands, and the
    client libraries read its status."""
    async with SimServer(SMALL, FAST, slot_seconds=STILL, accept_transactions=True) as srv:
        url = srv.infos()[0].http_url
        wire, sig = signed_transfer(srv)
        text = base58.b58encode(base64.b64decode(wire)).decode()
        sim = await rpc(url, "simulateTransaction", [text, {"encoding": "base58"}])
        assert sim["result"]["value"]["err"] is None
        assert (await rpc(url, "sendTransaction", [text]))["result"] == sig
        srv.step()
        js = await web3js(url).one({"op": "getSignatureStatus", "signature": sig})
        assert js["err"] is None and js["slot"] == srv.world.slot
        async with RpcClient(url) as client:
            (status,) = (await client.call("getSignatureStatuses", [[sig]]))["value"]
            assert status["slot"] == srv.world.slot
        if sys.version_info >= (3, 11):
            from solana.rpc.async_api import AsyncClient
            from solders.signature import Signature

            c = AsyncClient(url)
            try:
                got = (await c.get_signature_statuses([Signature.from_string(sig)])).value[0]
                assert got is not None and got.slot == srv.world.slot and got.err is None
            finally:
                await c.close()


def _first_bad(text: str) -> tuple[str, int]:
    i = next(i for i, ch in enumerate(text) if ch not in B58)
    return text[i], i


@pytest.mark.parametrize("method", ["sendTransaction", "simulateTransaction"])
async def test_transaction_encodings_are_refused_in_the_nodes_words(method: str) -> None:
    async with SimServer(SMALL, FAST, slot_seconds=STILL, accept_transactions=True) as srv:
        url = srv.infos()[0].http_url
        wire, _ = signed_transfer(srv)
        bad, at = _first_bad(wire + "+")  # base64 taken for the default base58
        cases: list[tuple[list[Any], str]] = [
            (
                [wire + "+"],
                f"invalid base58 encoding: InvalidCharacter {{ character: '{bad}', index: {at} }}",
            ),
            (
                [wire, {"encoding": "json"}],
                "unsupported encoding: json. Supported encodings: base58, base64",
            ),
            (
                [wire, {"encoding": "jsonParsed"}],
                "unsupported encoding: jsonParsed. Supported encodings: base58, base64",
            ),
            (
                [wire, {"encoding": "hex"}],
                "Invalid params: unknown variant `hex`, expected one of `binary`, `base64`, "
                "`base58`, `json`, `jsonParsed`.",
            ),
            (
                ["1" * 1684],
                f"base58 encoded {KIND} too large: 1684 bytes (max: encoded/raw 1683/1232)",
            ),
            (["1" * 1683], f"decoded {KIND} too large: 1683 bytes (max: 1232 bytes)"),
            (
                ["A" * 1645, {"encoding": "base64"}],
                f"base64 encoded {KIND} too large: 1645 bytes (max: encoded/raw 1644/1232)",
            ),
        ]
        for params, message in cases:
            got = await rpc(url, method, params)
            assert got["error"] == {"code": -32602, "message": message}, params
        # binary is base58 under another name
        text = base58.b58encode(base64.b64decode(wire)).decode()
        got = await rpc(url, method, [text, {"encoding": "binary"}])
        assert "result" in got


@needs_solana
async def test_a_preflight_from_an_unknown_payer_fails_in_the_nodes_words(
    web3js: type[Web3Js],
) -> None:
    """The fee payer has never held lamports: the node's own sentence for
    ``AccountNotFound``, through solana-py, web3.js and arbscope's ``RpcClient``."""
    from solana.rpc.async_api import AsyncClient
    from solana.rpc.core import RPCException
    from solders.hash import Hash
    from solders.keypair import Keypair
    from solders.message import Message
    from solders.transaction import VersionedTransaction

    words = (
        "Transaction simulation failed: Attempt to debit an account but found no record "
        "of a prior credit."
    )

    def unfunded(srv: SimServer) -> str:
        """From a key with nothing, with a blockhash the preflight's bank knows (a node's
        default preflight commitment is ``finalized``: its root's)."""
        kp = Keypair()
        msg = Message.new_with_blockhash(
            [I.transfer(str(kp.pubkey()), I.JITO_TIP_ACCOUNTS[1], 9_000)],
            kp.pubkey(),
            Hash.from_string(srv.chain.blockhash(srv.context_slot("finalized"))),
        )
        return base64.b64encode(bytes(VersionedTransaction(msg, [kp]))).decode()

    async with SimServer(SMALL, FAST, slot_seconds=STILL, accept_transactions=True) as srv:
        url = srv.infos()[0].http_url
        async with RpcClient(url) as client:
            with pytest.raises(RpcError) as err:
                await client.send_transaction(unfunded(srv), skip_preflight=False)
            assert err.value.code == -32002 and words in str(err.value)
        c = AsyncClient(url)
        try:
            with pytest.raises(RPCException) as exc:
                await c.send_raw_transaction(base64.b64decode(unfunded(srv)))
            assert words in str(exc.value)
        finally:
            await c.close()
        (res,) = await web3js(url).run(
            {"op": "sendRawTransaction", "tx": unfunded(srv), "skipPreflight": False}
        )
        assert words in res["error"]["message"]
        got = await rpc(url, "simulateTransaction", [unfunded(srv), {"encoding": "base64"}])
        assert got["result"]["value"]["err"] == "AccountNotFound"


# ------------------------------------------------------------------ lockedWritableAccounts
@needs_solana
async def test_fees_of_locked_writable_accounts_as_the_nodes_fee_cache_gives_them(
    web3js: type[Web3Js],
) -> None:
    """Per slot, the lowest price that landed; naming accounts raises a slot's fee to
    the lowest price paid by a transaction that locked one of them writable, and leaves
    the slots where none did. Same answers through solana-py, web3.js and RpcClient."""
    from solana.rpc.async_api import AsyncClient
    from solders.pubkey import Pubkey

    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        url = srv.infos()[0].http_url
        traded: dict[int, set[str]] = {}
        world_step = srv.world.step

        def step() -> SlotResult:
            """Every slot's trades, the clock's too (its first slot comes at the first
            await below)."""
            res = world_step()
            traded[res.slot] = {t.pool for t in res.trades}
            return res

        srv.world.step = step  # type: ignore[method-assign]
        for _ in range(40):
            srv.step()
        busiest = max(
            (p.address for p in srv.world.pools), key=lambda a: sum(a in v for v in traded.values())
        )
        pool = srv.world.by_address[busiest]
        mint = pool.mint_a  # a mint is never locked writable by a swap
        async with RpcClient(url) as client:
            plain = dict(await client.get_recent_prioritization_fees())
            named = dict(await client.get_recent_prioritization_fees([busiest]))
            by_vault = dict(await client.get_recent_prioritization_fees([pool.vault_a, mint]))
            assert dict(await client.get_recent_prioritization_fees([mint])) == plain
        assert set(plain) == set(named) and set(traded) <= set(plain)
        assert all(named[s] >= plain[s] for s in plain)
        # (the slots stepped here: the server steps one of its own, whose trades this
        # loop did not see)
        assert all(named[s] == plain[s] for s in traded if busiest not in traded[s])
        assert any(named[s] > plain[s] for s in plain)  # a swap there paid above the minimum
        assert by_vault == named  # the pool and its vault are locked by the same swaps
        c = AsyncClient(url)
        try:
            got = (await c.get_recent_prioritization_fees([Pubkey.from_string(busiest)])).value
            assert {f.slot: f.prioritization_fee for f in got} == named
        finally:
            await c.close()
        js = await web3js(url).one({"op": "getRecentPrioritizationFees", "accounts": [busiest]})
        assert {f["slot"]: f["prioritizationFee"] for f in js} == named
        too_many = await rpc(url, "getRecentPrioritizationFees", [[busiest] * 129])
        assert too_many["error"] == {"code": -32602, "message": "Too many inputs provided; max 128"}
        assert "result" in await rpc(url, "getRecentPrioritizationFees", [[busiest] * 128])
        bad = await rpc(url, "getRecentPrioritizationFees", [["nope"]])
        assert bad["error"] == {"code": -32602, "message": "Invalid param: WrongSize"}

"""The JSON-RPC envelope as a node handles it (jsonrpc-core and jsonrpc-http-server, which
Agave's RPC and PubSub hand every message to; the rules are in ``feeds/sim/node.py``):
requests without an id are notifications that run nothing and get no answer, the
malformed ones get jsonrpc-core's errors, batches leave the notifications out; and a
client flooding one connection with refused subscriptions does not hold back the others.
Tried over raw HTTP and WebSocket (the only way to send what client libraries never
send), through @solana/web3.js, solana-py and arbscope's ``RpcClient``."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import websockets

from feeds.clients.rpc import RpcClient
from feeds.sim import node as N
from feeds.sim.server import ANSWER_BACKLOG, EndpointProfile, SimServer
from feeds.sim.world import WorldConfig
from tests.support.envelope import CASES
from tests.support.jsclient import Web3Js

SMALL = WorldConfig(seed=11, tokens=8, pools=16, trades_per_slot=8)
FAST = [EndpointProfile("a", latency_ms=1, jitter_ms=0)]
STILL = 3600.0  # seconds per slot: nothing moves unless the test steps the world
ROOT = Path(__file__).resolve().parents[3]
needs_solana = pytest.mark.skipif(sys.version_info < (3, 11), reason="solana-py needs 3.11")
JSON = {"Content-Type": "application/json"}


async def post(
    url: str, body: str, headers: dict[str, str] | None = None, method: str = "POST"
) -> tuple[int, str, str]:
    """A raw request: status, content type, body text."""
    async with (
        aiohttp.ClientSession() as s,
        s.request(
            method, url, data=body.encode(), headers=JSON if headers is None else headers
        ) as r,
    ):
        return r.status, r.headers.get("Content-Type", ""), await r.text()


@pytest.mark.parametrize(("text", "want"), CASES)
async def test_http_answers_the_envelope_as_jsonrpc_core_does(text: str, want: Any) -> None:
    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        status, ctype, body = await post(srv.infos()[0].http_url, text)
        assert status == 200 and ctype.startswith("application/json")
        if want is None:
            assert body == ""  # a notification (or a batch of them) is not answered
        else:
            assert body.endswith("\n") and json.loads(body) == want


@pytest.mark.parametrize(("text", "want"), CASES)
async def test_pubsub_answers_the_envelope_as_jsonrpc_core_does(text: str, want: Any) -> None:
    """The same rules on a PubSub connection: where a node sends nothing, the next
    thing to arrive is the answer to the request sent after it."""
    async with (
        SimServer(SMALL, FAST, slot_seconds=STILL) as srv,
        websockets.connect(srv.infos()[0].ws_url) as ws,
    ):
        await ws.send(
            text.replace("getSlot", "slotSubscribe")
            .replace("getHealth", "getVersion")
            .replace("getBalance", "accountSubscribe")
        )
        await ws.send('{"jsonrpc":"2.0","id":"after","method":"getVersion"}')
        async with asyncio.timeout(30):
            first = json.loads(await ws.recv())
            if want is None:
                assert first["id"] == "after"
                return
            second = json.loads(await ws.recv())
        assert second["id"] == "after"
        version = {"solana-core": "3.1.12-arbscope-sim", "feature-set": 0}
        expected = json.loads(json.dumps(want).replace('"ok"', json.dumps(version)))
        if '"getSlot","params":{}' in text:  # slotSubscribe takes no parameters at all
            expected["error"] = {
                "code": -32602,
                "data": "Map({})",
                "message": "Invalid parameters: No parameters were expected",
            }
        assert first == expected


async def test_a_notification_runs_nothing() -> None:
    """A subscription or an airdrop sent without an id is not made: no subscription is
    created, no notification follows, no lamports arrive."""
    async with SimServer(SMALL, FAST, slot_seconds=STILL, accept_transactions=True) as srv:
        info = srv.infos()[0]
        who = "Stake11111111111111111111111111111111111111"
        async with websockets.connect(info.ws_url) as ws:
            await ws.send('{"jsonrpc":"2.0","method":"slotSubscribe"}')
            await ws.send('{"jsonrpc":"2.0","id":1,"method":"slotSubscribe"}')
            async with asyncio.timeout(30):
                sid = json.loads(await ws.recv())["result"]
                await post(
                    info.http_url,
                    json.dumps(
                        {"jsonrpc": "2.0", "method": "requestAirdrop", "params": [who, 10**9]}
                    ),
                )
                for _ in range(3):
                    srv.step()
                seen = [json.loads(await ws.recv()) for _ in range(3)]
            assert [n["params"]["subscription"] for n in seen] == [sid] * 3
            assert [n["params"]["result"]["slot"] for n in seen] == list(
                range(srv.world.slot - 2, srv.world.slot + 1)
            )
            assert sum(len(subs) for subs in srv.endpoints[0].tables["slot"].values()) == 1
        async with RpcClient(info.http_url) as rpc:
            assert (await rpc.call("getBalance", [who]))["value"] == 0


async def test_http_refuses_other_verbs_and_content_types_as_jsonrpc_http_server_does() -> None:
    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        url = srv.infos()[0].http_url
        body = '{"jsonrpc":"2.0","id":1,"method":"getHealth"}'
        assert await post(url, body, method="GET") == (
            405,
            "text/plain; charset=utf-8",
            "Used HTTP Method is not allowed. POST or OPTIONS is required\n",
        )
        status, _, text = await post(url, body, headers={"Content-Type": "text/plain"})
        assert (status, text) == (
            415,
            "Supplied content type is not allowed. Content-Type: application/json is required\n",
        )
        for ctype in ("application/json; charset=utf-8", "Application/JSON"):
            status, _, text = await post(url, body, headers={"Content-Type": ctype})
            assert status == 200 and json.loads(text)["result"] == "ok"
        status, _, text = await post(url, "", method="OPTIONS")
        assert (status, text) == (200, "")


async def test_web3js_batches_and_arbscope_reads_the_nodes_answers(
    web3js: type[Web3Js],
) -> None:
    """The answers' form (a trailing newline, the charset) is read by every client; a
    batch through web3.js's own batch call comes back in order."""
    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        info = srv.infos()[0]
        got = await web3js(info.http_url).one(
            {
                "op": "batch",
                "calls": [
                    {"methodName": "getSlot", "args": []},
                    {"methodName": "getHealth", "args": []},
                    {"methodName": "getBalance", "args": ["nope"]},
                ],
            }
        )
        assert got[0]["result"] == srv.context_slot("finalized") and got[1]["result"] == "ok"
        assert got[2]["error"] == {"code": -32602, "message": "Invalid param: WrongSize"}
        async with RpcClient(info.http_url) as rpc:
            assert await rpc.call("getSlot", [{"commitment": "processed"}]) == srv.world.slot


# ------------------------------------------------------------------ a flooding client
async def _flooder(ws_url: str, mode: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.flooder",
        ws_url,
        mode,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    async with asyncio.timeout(60):
        assert (await proc.stdout.readline()).strip() == b"flooding"
    return proc


async def _stop(proc: asyncio.subprocess.Process, mode: str) -> str:
    """Ask the flooder to stop and read its count (a pipelining one is held in a send
    by then, for good: it is killed)."""
    assert proc.stdin is not None and proc.stdout is not None
    if mode == "pipeline":
        proc.kill()
        await proc.wait()
        return ""
    proc.stdin.write(b"stop\n")
    try:
        async with asyncio.timeout(30):
            line = (await proc.stdout.readline()).decode()
            await proc.wait()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        line = ""
    return line


@pytest.mark.slow
@needs_solana
@pytest.mark.parametrize("mode", ["retry", "pipeline"])
async def test_a_client_flooding_refused_subscriptions_does_not_hold_back_the_others(
    mode: str, web3js: type[Web3Js]
) -> None:
    """While one client floods a connection with a subscription the node refuses
    (retrying each refusal at once, or sending without ever reading), solana-py's and
    web3.js's slot subscriptions on the same endpoint get every slot, none missing,
    and the flood runs through the whole time: it is answered more often than slots
    pass. A flooder that reads nothing holds at most ``ANSWER_BACKLOG`` answers in the
    simulator (then its own socket holds it back, as a node's does): the others go on
    while it is held."""
    from solana.rpc.websocket_api import SolanaWsClient

    slots = 40
    async with SimServer(SMALL, FAST, slot_seconds=0.02) as srv:
        ep = srv.endpoints[0]
        info = srv.infos()[0]
        flood = await _flooder(info.ws_url, mode)
        try:
            if mode == "pipeline":  # the flooder's answers have backed up: it is held back
                async with asyncio.timeout(90):
                    await ep.held_back.wait()
            py = await SolanaWsClient(info.ws_url).connect()
            try:
                await py.slot_subscribe()  # answered
                before = ep.stats["pubsub_requests"]
                first = srv.world.slot
                js = asyncio.create_task(
                    web3js(info.http_url, info.ws_url).one(
                        {
                            "op": "collect",
                            "timeoutMs": 90_000,
                            "subs": [{"kind": "slot", "count": slots}],
                        },
                        timeout_s=120,
                    )
                )
                got: list[int] = []
                async with asyncio.timeout(90):
                    while len(got) < slots:
                        got.append((await py.recv()).result.slot)
                    (seen,) = await js
                flooded = ep.stats["pubsub_requests"] - before
                passed = srv.world.slot - first
            finally:
                await py.close()
        finally:
            report = await _stop(flood, mode)
        assert got == list(range(got[0], got[0] + len(got))) and got[0] <= first + 1
        js_slots = [n["slot"] for n in seen]
        assert js_slots == list(range(js_slots[0], js_slots[0] + slots))
        if mode == "retry":  # the flood went on all along, faster than slots
            assert flooded > passed >= slots
            sent, answered = (int(x) for x in report.split()[1::2])
            assert answered == sent >= flooded
            assert ep.stats["answer_backlog"] <= ANSWER_BACKLOG
        else:  # the bound was reached, never passed
            assert ep.stats["answer_backlog"] == ANSWER_BACKLOG


@pytest.mark.parametrize(
    ("params", "data"),
    [
        ([1], "Array([Number(1)])"),
        ({"a": [True, None, "x"]}, 'Map({"a": Array [Bool(true), Null, String("x")]})'),
    ],
)
async def test_a_method_without_parameters_refuses_some_in_the_nodes_words(
    params: Any, data: str
) -> None:
    async with SimServer(SMALL, FAST, slot_seconds=STILL) as srv:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "getHealth", "params": params})
        _, _, text = await post(srv.infos()[0].http_url, body)
        assert json.loads(text)["error"] == {
            "code": -32602,
            "message": "Invalid parameters: No parameters were expected",
            "data": data,
        }
        assert N.value_debug(params) != data  # the data is the Params' form, not the value's
